"""Numpy's sharing, checked after lowering: an in-place write into an array that shares
memory with another variable the program still reads is refused.

In numpy, ``s = y[1:]``, ``r = M[0]``, ``v = y.reshape(3, 1)``, ``t = M.T`` and plain
``z = y`` make *views*: a write through one name (``s[0] = v``, ``s *= 2.0``) changes what
the other names read.  symgrad's IR gives every array value its own adjoint, so such a
program would get a silently wrong gradient.  Until views are modelled, this pass finds
them (a may-share relation built over the whole function) and raises an error naming the
line when a write goes through one name and another name of the same memory is read
afterwards (or anywhere in the loop around the write).  A write into an array nothing
else reads (``y = x.copy(); y[0] = v``, a write into an argument) is fine.

>>> # s = y[1:]; s *= 2.0; return np.sum(y)   -> UnsupportedSyntaxError, line of s *= 2.0
"""

from __future__ import annotations

from typing import Any

from .errors import UnsupportedSyntaxError
from .ir import Eqn, For, If, Var, While, leaves, stmt_reads

__all__ = ["check_views"]

#: primitives whose result may share memory with their first operand
_VIEWS = {"np_reshape", "np_ravel", "np_transpose", "np_squeeze", "np_expand_dims",
          "np_atleast_2d", "np_broadcast_to", "np_reshape_like", "np_broadcast_like", "np_reshape_dims",
          "np_broadcast_dims", "slice", "copy"}
#: primitives that write into their first operand
_WRITES = {"aset", "aset_add", "setitem", "setslice", "accum"}


def check_views(block: list, inplace: set[int], pats: dict | None = None,
                no_views: Any = ()) -> None:
    """Raise when an in-place write goes through a name that shares memory with another
    name read later (``inplace``: ids of ``t = t op v`` equations written ``t op= v``;
    ``no_views``: variables that are never numpy arrays when the code runs)."""
    seen = _Views(inplace, pats or {}, no_views)
    seen.visit(block, None)
    find = seen.find
    for pos, start, base, e in seen.writes:
        root = find(base)
        for q, v in seen.reads:
            if v is base or find(v) is not root or seen.defined.get(v, -1) > pos:
                continue                 # (a view made after the write sees the new data)
            # after the write; or earlier in the loop around it, for a name made
            # before that loop (the next iteration reads it)
            if q > pos or (start < pos and q >= start and seen.defined.get(v, -1) < start):
                raise _shared_error(e, base, v)


class _Views:
    """What :func:`check_views` gathers, in program order: the names that share memory
    (a union-find), every read, where each name is made and every in-place write."""

    def __init__(self, inplace: set[int], pats: dict, no_views: Any = ()) -> None:
        self.inplace, self.pats, self.no_views = inplace, pats, no_views
        self.parent: dict[Var, Var] = {}
        self.reads: list[tuple[int, Var]] = []        # (position, variable read)
        self.defined: dict[Var, int] = {}             # where each variable is (first) made
        self.writes: list[tuple[int, int, Var, Eqn]] = []   # (position, loop start, base, eqn)
        self.count = 0

    def find(self, v: Var) -> Var:
        parent = self.parent
        while parent.get(v, v) is not v:
            v = parent[v]
        return v

    def union(self, a: Any, b: Any) -> None:
        if type(a) is Var and type(b) is Var and a not in self.no_views and \
                b not in self.no_views:
            ra, rb = self.find(a), self.find(b)
            if ra is not rb:
                self.parent[ra] = rb

    def visit(self, stmts: list, loop_start: int | None) -> None:
        for s in stmts:
            pos = self.count
            self.count += 1
            t = type(s)
            for a in leaves(stmt_reads(s)):
                if type(a) is Var:
                    self.reads.append((pos, a))
            if t is Eqn:
                for o in s.outs:
                    self.defined.setdefault(o, pos)
                _relate(s, self.union, self.pats)
                base = _written(s, self.inplace)
                if base is not None:
                    self.writes.append((pos, pos if loop_start is None else loop_start, base, s))
            elif t is If:
                self.visit(s.then, loop_start)
                self.visit(s.orelse, loop_start)
            elif t in (For, While):
                start = pos if loop_start is None else loop_start
                if t is While:
                    self.visit(s.test, start)
                self.visit(s.body, start)


def _is_array(v: Any) -> bool:
    return type(v) is Var and v.kind.find().tag == "array"


def _relate(e: Eqn, union: Any, pats: dict) -> None:
    """Record which variables ``e`` makes share memory."""
    if not e.outs:
        return
    out = e.outs[0]
    p = e.prim
    if p in _VIEWS and e.args and (_is_array(out) or _is_array(e.args[0])):
        union(out, e.args[0])
    elif p == "aget" and _is_array(out) and _basic_view(e, pats):
        union(out, e.args[0])                # basic indexing: a view
    elif p == "getitem" and _is_array(out):
        union(out, e.args[0])                # an array held in a list or dict
    elif p in ("list", "tuple") and any(_is_array(a) for a in e.args):
        for a in e.args:
            if _is_array(a):
                union(out, a)


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


def _written(e: Eqn, inplace: set[int]) -> Var | None:
    if e.prim in _WRITES and e.args and _is_array(e.args[0]):
        return e.args[0]
    if id(e) in inplace and e.args and _is_array(e.args[0]):
        return e.args[0]
    return None


def _label(v: Var, default: str) -> str:
    name = v.name or v.hint
    return name if name and name.isidentifier() and not name.startswith("_") else default


def _shared_error(e: Eqn, base: Var, other: Var) -> Exception:
    loc = e.loc
    b, o = _label(base, "this array"), _label(other, "another array")
    return UnsupportedSyntaxError(
        f"an in-place write into {b}, which shares memory with {o} (a view: z = y, "
        f"y[i], y[a:b], y.T, y.reshape(...)), while {o} is read afterwards",
        f"take a copy where the view is made ({b} = ....copy()), or write into {o} "
        "directly; symgrad does not model numpy views",
        loc.filename if loc else "<unknown>", loc.lineno if loc else 0, 0,
        loc.text if loc else "")
