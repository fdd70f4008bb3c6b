"""Numpy's sharing, checked after lowering: a read of a name whose memory an in-place
write through another name has changed since the name was bound is refused.

In numpy, ``s = y[1:]``, ``r = M[0]``, ``v = y.reshape(3, 1)``, ``t = M.T`` and plain
``z = y`` make *views*: a write through one name (``s[0] = v``, ``s *= 2.0``) changes what
the other names read.  symgrad's IR gives every array value its own adjoint, so a read
of such a name after the write would get a silently wrong gradient.  Until views are
modelled, this pass follows, in program order (loops to their fixed point), which
arrays each name may hold, and marks *stale* every other name of an array a write
changes; reading a stale name is an error naming the write's line.  A name bound again
is fresh, and an array made again in a loop is a new array (the previous iteration's
is another one), so the time-stepping idioms are fine: ``new = np.empty_like(u);
new[1:-1] = ...; u = new``, ``a, b = b, a`` of two buffers, ``y = out[::-1]`` then
``out = np.zeros_like(y)``.  A write into an array nothing else reads (``y =
x.copy(); y[0] = v``, a write into an argument) is fine too.

>>> # s = y[1:]; s *= 2.0; return np.sum(y)   -> UnsupportedSyntaxError, line of s *= 2.0
"""

from __future__ import annotations

from typing import Any

from .errors import UnsupportedSyntaxError
from .ir import Break, Continue, Eqn, For, If, Var, While, leaves, stmt_reads, walk

__all__ = ["check_views", "views_checked"]

#: primitives whose result may share memory with their first operand
_VIEWS = {"np_reshape", "np_ravel", "np_transpose", "np_squeeze", "np_expand_dims",
          "np_atleast_2d", "np_broadcast_to", "np_reshape_like", "np_broadcast_like",
          "np_reshape_dims",
          "np_broadcast_dims", "slice", "copy"}
#: primitives that write into their first operand
_WRITES = {"aset", "aset_add", "setitem", "setslice", "accum"}
#: primitives that put their other operands into their first (a list or dict)
_PUTS = {"append", "insert", "setitem", "extend", "setslice"}


def check_views(block: list, inplace: dict[int, Any], pats: dict | None = None,
                no_views: Any = ()) -> frozenset:
    """Raise when a name is read after an in-place write through another name of the
    same array changed it (``inplace``: ids of ``t = t op v`` equations written
    ``t op= v``, each with the container ``t`` is an item of, stored back at once, or
    None; ``no_views``: variables that are never numpy arrays when the code runs).
    Without a write into an array nothing can be stale: nothing to follow.  Returns the
    arguments (variables bound on entry) whose arrays a write may change."""
    if not any(type(s) is Eqn and _written(s, inplace) is not None for s in walk(block)):
        return frozenset()
    views = _Views(inplace, pats or {}, no_views)
    views.block(block, _State({}, {}), True)
    return frozenset(views.written)


def views_checked(lw: Any, params: list) -> frozenset:
    """:func:`check_views` of a lowered function (``lw``, the lowerer), if it writes into
    arrays; the names of the array parameters it writes in place."""
    from . import ir
    if not any(type(s) is Eqn and s.prim in ("aset", "aset_add") or
               id(s) in lw.inplace_eqns for s in ir.walk(lw.block)):
        return frozenset()
    from .shapes import patterns
    # a parameter not specialized as an array (all of them in the gradient made before
    # any call, for arrays of any shape) is never a numpy array when this code runs
    # (calls with arrays go to their specializations), so never a view
    written = check_views(lw.block, lw.inplace_eqns,
                          patterns(lw.block, params, lw.param_patterns),
                          {p for p in params if lw.param_patterns.get(p.name) is None
                           and p.kind.find().tag not in ("list", "map")})
    return frozenset(p.name for p in params if p in written)


class _State:
    """Per name, the arrays it may hold (an array made by an equation is ``(id, "new")``
    for the one its last run made, ``(id, "old")`` for earlier ones; an argument's is
    the name itself); and the stale names, each with the write that changed it."""

    __slots__ = ("held", "stale")

    def __init__(self, held: dict, stale: dict) -> None:
        self.held, self.stale = held, stale

    def copy(self) -> "_State":
        return _State(dict(self.held), dict(self.stale))

    def join(self, other: "_State") -> "_State":
        held = dict(self.held)
        for v, objs in other.held.items():
            held[v] = held[v] | objs if v in held else objs
        return _State(held, {**other.stale, **self.stale})

    def same(self, other: "_State") -> bool:
        return self.held == other.held and self.stale.keys() == other.stale.keys()


class _Views:
    """The walk of :func:`check_views` (a forward data-flow analysis)."""

    def __init__(self, inplace: dict[int, Any], pats: dict, no_views: Any = ()) -> None:
        self.inplace, self.pats, self.no_views = inplace, pats, no_views
        self.written: set = set()            # arguments whose arrays a write changes
        self.exits: list[list] = []          # per loop: the states at its breaks
        self.nexts: list[list] = []          # per loop: the states at its continues

    def held(self, st: _State, v: Any) -> frozenset:
        if type(v) is not Var or v in self.no_views:
            return frozenset()
        return st.held.get(v) or frozenset({v})

    def block(self, stmts: list, st: _State, check: bool) -> _State:
        for s in stmts:
            t = type(s)
            if check:
                for a in leaves(stmt_reads(s)):
                    if type(a) is Var and a in st.stale:
                        e, base = st.stale[a]
                        raise _shared_error(e, base, a, self.inplace.get(id(e)))
            if t is Eqn:
                self.eqn(s, st)
            elif t is If:
                st = self.block(s.then, st.copy(), check).join(
                    self.block(s.orelse, st.copy(), check))
            elif t in (For, While):
                st = self.loop(s, st, check)
            elif t is Break and self.exits:
                self.exits[-1].append(st.copy())
            elif t is Continue and self.nexts:
                self.nexts[-1].append(st.copy())
        return st

    def loop(self, s: Any, st: _State, check: bool) -> _State:
        """The state at the loop's head, to its fixed point (the names the previous
        iteration left, at the body's end or at a ``continue``), then the body checked
        from it once; after the loop, the head's state or a ``break``'s."""
        head = st
        for _ in range(100):
            end, _exits = self.iteration(s, head, False)
            nxt = st.join(end)
            if nxt.same(head):
                break
            head = nxt
        end, exits = self.iteration(s, head, check)
        out = head.join(end)
        for ex in exits:
            out = out.join(ex)
        return out

    def iteration(self, s: Any, head: _State, check: bool) -> tuple[_State, list]:
        """One run of the loop's test and body from ``head``: the state the next
        iteration starts from, and the states at its breaks."""
        self.exits.append([])
        self.nexts.append([])
        end = head.copy()
        for part in ([s.test] if type(s) is While else []) + [s.body]:
            end = self.block(part, end, check)
        for nx in self.nexts.pop():
            end = end.join(nx)
        return end, self.exits.pop()

    def eqn(self, e: Eqn, st: _State) -> None:
        if e.outs and e.prim not in _PUTS and all(
                type(o) is Var and o.kind.find().tag == "num" for o in e.outs):
            return                      # (numbers hold no arrays: not followed)
        base = _written(e, self.inplace)
        if base is not None:            # every other name of what base holds: stale
            objs = self.held(st, base)
            names = list(st.held) + [o for o in objs if type(o) is Var]   # (arguments)
            self.written.update(o for o in objs if type(o) is Var)
            stored = self.inplace.get(id(e))      # (d of d["k"] *= 2: given it back)
            for v in names:
                if v is not base and v not in e.outs and v is not stored and \
                        self.held(st, v) & objs:
                    st.stale[v] = (e, base)
        if e.prim in _PUTS and e.args and type(e.args[0]) is Var and \
                e.args[0] not in self.no_views:      # xs.append(a): xs holds a's array
            put = frozenset().union(*(self.held(st, a) for a in e.args[1:] if _holds(a)))
            if put:
                st.held[e.args[0]] = self.held(st, e.args[0]) | put
        if not e.outs:
            return
        out = e.outs[0]
        shared = _shares(e, self.pats) if base is None or id(e) not in self.inplace \
            else [base]
        if shared is not None:
            objs = frozenset().union(*(self.held(st, a) for a in shared))
        else:                           # a new array: the earlier ones it made are old
            new, old = (id(e), "new"), (id(e), "old")
            for v, objs_v in st.held.items():
                if new in objs_v:
                    st.held[v] = (objs_v - {new}) | {old}
            objs = frozenset({new})
        for o in e.outs:
            st.held[o] = objs if o is out else frozenset({(id(e), o)})
            st.stale.pop(o, None)


def _is_array(v: Any) -> bool:
    return type(v) is Var and v.kind.find().tag == "array"


def _shares(e: Eqn, pats: dict) -> list | None:
    """The operands whose arrays ``e``'s result may share memory with (a view, a list
    holding arrays, an array read from a list), or None for a new array."""
    out = e.outs[0]
    p = e.prim
    if p in _VIEWS and e.args and (_is_array(out) or _is_array(e.args[0])):
        return [e.args[0]]
    if p == "aget" and _is_array(out) and _basic_view(e, pats):
        return [e.args[0]]                   # basic indexing: a view
    if p == "getitem" and _is_array(out):
        return [e.args[0]]                   # an array held in a list or dict
    if p in ("list", "tuple", "dict") and any(_holds(a) for a in e.args):
        return [a for a in e.args if _holds(a)]
    if p in ("getitem", "pop") and e.args and type(e.args[0]) is Var:
        return [e.args[0]]                   # (a list of lists of arrays)
    return None


def _holds(a: Any) -> bool:
    """Is ``a`` an array, or a list or dict that may hold arrays?"""
    return type(a) is Var and a.kind.find().tag in ("array", "list", "map", None)


def _basic_view(e: Eqn, pats: dict) -> bool:
    """Is ``x[index]`` a view of ``x``: basic indexing with a slice, a new axis or an
    ellipsis, or integers that leave dimensions (``M[0]`` of a matrix)?  Integers into
    an array of unknown rank are taken as an element (a copy)."""
    from .shapes import pattern_of
    template = (e.params or {}).get("index", ())
    if any(it[0] == "a" for it in template):
        return False                          # integer-array indexing copies
    if any(it[0] in ("s", "n", "e") for it in template):
        return True
    pat = pattern_of(pats, e.args[0])
    return pat is not None and len(pat) > sum(1 for it in template if it[0] == "i")


def _written(e: Eqn, inplace: dict[int, Any]) -> Var | None:
    if e.prim in _WRITES and e.args and _is_array(e.args[0]):
        return e.args[0]
    if id(e) in inplace and e.args and _is_array(e.args[0]):
        return e.args[0]
    return None


def _label(v: Var, default: str) -> str:
    name = v.name or v.hint
    return name if name and name.isidentifier() and not name.startswith("_") else default


def _shared_error(e: Eqn, base: Var, other: Var, item_of: Any = None) -> Exception:
    loc = e.loc
    b, o = _label(base, "this array"), _label(other, "another array")
    if type(item_of) is Var:        # d["k"] *= 2.0: the array d["k"] holds, changed
        c = _label(item_of, "the container")
        return UnsupportedSyntaxError(
            f"an augmented assignment to an item of {c} that holds a numpy array (it "
            f"writes into that array, which {o} is too), while {o} is read afterwards",
            f"write it as a new array, {c}[...] = {c}[...] * v (then {o} keeps its "
            f"value, unlike what Python does here), or read the item instead of {o}",
            loc.filename if loc else "<unknown>", loc.lineno if loc else 0, 0,
            loc.text if loc else "")
    return UnsupportedSyntaxError(
        f"an in-place write into {b}, which shares memory with {o} (a view: z = y, "
        f"y[i], y[a:b], y.T, y.reshape(...), or a list or dict holding the array), while "
        f"{o} is read afterwards",
        f"take a copy where the view is made ({b} = ....copy()), or write into {o} "
        "directly; symgrad does not model numpy views",
        loc.filename if loc else "<unknown>", loc.lineno if loc else 0, 0,
        loc.text if loc else "")
