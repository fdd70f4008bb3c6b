"""Optimize: the gradient's IR made smaller without changing what it computes.

* dead code: an equation whose result nothing reads is removed, unless it may
  raise (``math.log(x)`` stays, so the gradient fails where the function fails; so
  does a read :mod:`symgrad.raising` marks, ``xs[0]`` or a name maybe not assigned)
  or has an effect; repeated to a fixed point;
* empty branches and loops are removed.

>>> from symgrad.ir import Var, Eqn, Const, Return, Func
>>> x, t, u = Var("x", name="x"), Var("_t"), Var("_t")
>>> f = Func("f", [x], [Eqn((t,), "mul", (x, x)), Eqn((u,), "mul", (x, Const(2))), Return(u)])
>>> [getattr(s, "prim", "return") for s in optimize(f).body]
['mul', 'return']
"""

from __future__ import annotations

from typing import Any

from . import rules
from .emit_array import ARRAY_PURE
from .ir import (Break, Const, Eqn, For, Func, Global, If, Return, Var, While, leaves, stmt_reads,
                 stmt_writes, walk)
from .emit_inline import shadow_lists
from .raising import raise_class

__all__ = ["optimize"]

_PURE = {"copy", "getitem", "getattr", "list", "tuple", "dict", "concat", "repeat", "slice",
         "len", "sum", "fsum", "max_of", "min_of", "mean", "fmean",
         "range", "neg", "not", "and", "select", "zeros_like", "lt", "le", "gt", "ge", "eq", "ne",
         "is", "is_not", "list_to_array", "join_list"}
_EFFECT = {"append", "pop", "insert", "extend", "setitem", "setslice", "accum", "reverse",
           "put_back", "add_into", "aset", "aset_add",
           "clear", "raise", "assert_fail", "call", "callmethod", "pyexpr", "restore"}


def _removable(e: Eqn) -> bool:
    p = e.prim
    if e.params is not None and e.params.get("may_raise"):
        return False                # (a read Python may raise at: see symgrad.raising)
    if p in _EFFECT or not e.outs:
        if p in ("call", "callmethod") and (e.params or {}).get("constant") and \
                (e.params or {}).get("label") not in ("print",) and \
                not (e.params or {}).get("stateful"):
            return True
        return False
    if p in _PURE or p in ARRAY_PURE:
        return True
    rule = rules.RULES.get(p)
    if rule is not None:
        return not rule.may_raise or p in ("floordiv", "mod", "truediv") and _by_nonzero(e)
    return False


def _by_nonzero(e: Eqn) -> bool:
    """``n // 2``, ``x % 3``, ``x / 2.0`` of a number: no error to keep (a division by a
    nonzero constant of an int or float; a list or string operand would raise)."""
    b = e.args[1] if len(e.args) == 2 else None
    a = e.args[0] if e.args else None
    return type(b) is Const and type(b.value) in (int, float) and b.value != 0 and \
        b.value == b.value and type(a) is not Const and (
            getattr(a, "kind", None) is not None and a.kind.find().tag == "num")


def _uses(body: list) -> dict[Var, int]:
    uses: dict[Var, int] = {}
    for s in walk(body):
        if type(s) is For and s.collect:        # (a map loop's terms: see symgrad.maps)
            for _, t in s.collect:
                uses[t] = uses.get(t, 0) + 1
        for a in (s.args if type(s) is Eqn else stmt_reads(s)):
            if type(a) is Var:
                uses[a] = uses.get(a, 0) + 1
            elif type(a) is tuple:
                for x in leaves(a):
                    if type(x) is Var:
                        uses[x] = uses.get(x, 0) + 1
    return uses


def _needed(body: list) -> tuple[set, bool, set]:
    """The statements the function needs (mark and sweep): every effect, read that may
    raise, ``return`` and ``while`` (its loop may not end), then, to a fixed point,
    every definition of a variable a needed statement reads, the regions around a
    needed statement, and the ``break`` and ``continue`` of a needed loop.  A value
    only itself needs (``x = x * 2`` carried round a loop whose result nothing reads)
    is not needed.  Also: is a variable assigned twice?  And the variables read."""
    parent: dict = {}
    defs: dict = {}                       # var -> its definition, or a list of them
    jumps: dict = {}                      # loop -> its break and continue statements
    work: list = []
    needed: set = set()
    _index(body, None, None, parent, defs, jumps, work)
    needed.update(work)
    seen: set = set()
    while work:
        s = work.pop()
        t = type(s)
        for a in (s.args if t is Eqn else stmt_reads(s)):
            ta = type(a)
            if ta is tuple:
                more = [x for x in leaves(a) if type(x) is Var]
            elif ta is Var:
                more = (a,)
            else:
                continue
            for v in more:
                if v in seen:
                    continue
                seen.add(v)
                d = defs.get(v)
                for x in (d if type(d) is list else (d,) if d is not None else ()):
                    if x not in needed:
                        needed.add(x)
                        work.append(x)
        up = parent.get(s)
        if up is not None and up not in needed:
            needed.add(up)
            work.append(up)
        if t is For or t is While:
            for j in jumps.get(s, ()):
                if j not in needed:
                    needed.add(j)
                    work.append(j)
    return needed, any(type(d) is list for d in defs.values()), seen


def _index(block: list, up: Any, loop: Any, parent: dict, defs: dict, jumps: dict,
           roots: list) -> None:
    """``_needed``'s tables: each statement's region, each variable's definitions, each
    loop's jumps; ``roots`` gets what is needed in itself."""
    for s in block:
        if up is not None:
            parent[s] = up
        t = type(s)
        if t is Eqn:
            outs = s.outs
            if not outs:
                roots.append(s)
                continue
            if s.prim == "copy" and outs[0] is s.args[0]:
                continue                            # (x = x: never needed)
            for o in outs:
                d = defs.get(o)
                defs[o] = s if d is None else d + [s] if type(d) is list else [d, s]
            if not _removable(s):
                roots.append(s)
        elif t is If:
            _index(s.then, s, loop, parent, defs, jumps, roots)
            _index(s.orelse, s, loop, parent, defs, jumps, roots)
        elif t is For:
            d = defs.get(s.var)
            defs[s.var] = s if d is None else d + [s] if type(d) is list else [d, s]
            _index(s.body, s, s, parent, defs, jumps, roots)
        elif t is While:
            roots.append(s)
            _index(s.test, s, s, parent, defs, jumps, roots)
            _index(s.body, s, s, parent, defs, jumps, roots)
        elif t is Return:
            roots.append(s)
        elif loop is not None:                      # (break, continue)
            jumps.setdefault(loop, []).append(s)


def _prune(block: list, needed: set) -> list:
    """``block`` without what is not needed (an ``if`` left empty goes)."""
    out = []
    for s in block:
        if s not in needed:
            continue
        t = type(s)
        if t is If:
            s.then = _prune(s.then, needed)
            s.orelse = _prune(s.orelse, needed)
            if not s.then and not s.orelse:
                continue
        elif t is For:              # (kept empty when only its variable is read after it)
            s.body = _prune(s.body, needed)
        elif t is While:
            s.test = _prune(s.test, needed)
            s.body = _prune(s.body, needed)
        out.append(s)
    return out


def optimize(func: Func) -> Func:
    """Remove dead code (see the module docstring); returns the same function."""
    again = True
    while again:
        needed, twice, read = _needed(func.body)
        func.body = _prune(func.body, needed)
        # (a variable assigned once is read after that assignment, if it is needed)
        again = twice and _Stores().block(func.body, set(), True)[1]
        again = _drop_repeated_reads(func.body, read) or again
    return func


class _Stores:
    """Dead stores: an assignment whose value no path reads before the variable is
    assigned again or the function returns (``d_y = 0.0`` at the end of a branch of the
    adjoint sweep, after its last read).  Backward liveness over the regions; a loop's
    body is analysed to a fixed point before anything in it is removed."""

    def __init__(self) -> None:
        self.loops: list[tuple[set, set]] = []     # (live at the exit, at the head)
        #: a loop -> (live after it, at its head) when it was last analysed
        self.heads: dict[int, tuple[frozenset, frozenset]] = {}

    def block(self, block: list, live: set, remove: bool) -> tuple[set, bool]:
        """The variables live before ``block``, given ``live`` after it; removes the
        dead stores when ``remove`` (and says whether it did)."""
        live = set(live)
        removed = False
        keep: list = []
        for s in reversed(block):
            t = type(s)
            if t is Eqn:
                if s.outs and live.isdisjoint(s.outs) and (_removable(s) or (
                        s.prim == "copy" and s.outs[0] is s.args[0])):
                    removed = True
                    continue
                live.difference_update(s.outs)
                _add_reads(live, s.args)
            elif t is If:
                a, r1 = self.block(s.then, live, remove)
                b, r2 = self.block(s.orelse, live, remove)
                live = a | b
                _add_reads(live, (s.cond,))
                removed = removed or r1 or r2
            elif t is For or t is While:
                after = live
                live, r = self.loop(s, live, remove)
                removed = removed or r
                if t is For and not s.body and s.var not in after:
                    live, removed = after, True         # (an empty loop, its variable dead)
                    continue
            elif t is Return:
                live = set()
                _add_reads(live, stmt_reads(s))
            elif self.loops:                       # break, continue
                exit_live, head = self.loops[-1]
                live = set(exit_live) if t is Break else set(head)
            keep.append(s)
        if remove and removed:
            keep.reverse()
            block[:] = keep
            self.heads.clear()                      # (the loops' bodies changed)
        return live, removed

    def loop(self, s: Any, after: set, remove: bool) -> tuple[set, bool]:
        """The variables live before a loop, given ``after`` it: a fixed point at its
        head.  An enclosing loop's fixed point analyses this one again with as many
        variables live after it or more, so it starts from the last head (from ``after``,
        each visit would cost twice the one inside it: 2**depth for nested loops)."""
        last = self.heads.get(id(s))
        if last is not None and last[0] == after:
            head = set(last[1])
        else:
            head = set(after) | (last[1] if last is not None and last[0] <= after else set())
            while True:             # (the live set at the head only grows: it ends)
                entry = self.body_entry(s, after, head, False)[0]
                new = after | entry
                if new == head:
                    break
                head = new
            self.heads[id(s)] = (frozenset(after), frozenset(head))
        removed = remove and self.body_entry(s, after, head, True)[1]
        live = set(head)
        _add_reads(live, stmt_reads(s))
        return live, removed

    def body_entry(self, s: Any, after: set, head: set, remove: bool) -> tuple[set, bool]:
        """What is live where an iteration starts (for a ``for``: before its variable is
        assigned; for a ``while``: before its test), given ``head`` at the loop's head."""
        self.loops.append((after, head))
        try:
            if type(s) is For:
                live, removed = self.block(s.body, head, remove)
                return live - {s.var}, removed
            live, r1 = self.block(s.body, head, remove)
            live |= after
            _add_reads(live, (s.cond,))
            live, r2 = self.block(s.test, live, remove)
            return live, r1 or r2
        finally:
            self.loops.pop()


def _add_reads(live: set, ops: Any) -> None:
    for a in ops:
        if type(a) is Var:
            live.add(a)
        elif type(a) is tuple:
            live.update(x for x in leaves(a) if type(x) is Var)


def _drop_repeated_reads(body: list, read: set) -> bool:
    """A read kept only because it may raise (``xs[0]``, nothing uses it) goes when
    the same block reads the same element again before any effect: the second read
    raises as the first would (``d_x = d_out * WS[0]`` after ``WS[0]``).  So does a
    division kept only to raise (``s / len(xs)``) where the same block divides by the
    same number again (``d_s = d_out / len(xs)``).  ``read``: the variables some
    statement reads.  True if one went."""
    if not any(type(s) is Eqn and s.outs and s.outs[0] not in read and (
            s.prim == "getitem" and s.params is not None and s.params.get("may_raise") or
            s.prim in _DIVISIONS) for s in walk(body)):
        return False
    uses = _uses(body)
    defs: dict[Var, Any] = {}
    changed: set = set()            # (lists changed; None in it: code symgrad cannot see)
    for s in walk(body):
        for o in stmt_writes(s):
            defs[o] = s if o not in defs else None
        if type(s) is Eqn and s.prim in _EFFECT:
            changed.add(s.args[0] if s.args and s.prim not in _UNSEEN else None)
    changed -= shadow_lists(body)   # (a tape's, an adjoint list's: no list of the function's)
    memo: dict = {}

    def key(a: Any) -> Any:
        if type(a) is not Var:
            return ("g", a.name) if type(a) is Global else \
                ("c", type(a.value), a.value) if type(a) is Const else ("?", id(a))
        k = memo.get(a)
        if k is None:
            d = defs.get(a)
            k = ("v", a) if type(d) is not Eqn or d.prim not in ("getitem", "copy", "len") else \
                key(d.args[0]) if d.prim == "copy" else \
                ("i", key(d.args[0]), key(d.args[1])) if d.prim == "getitem" else \
                ("n", key(d.args[0])) if _stable(d.args[0], defs, changed) else ("v", a)
            memo[a] = k
        return k

    def leaves_of(k: Any, out: set) -> set:
        if k[0] == "v":
            out.add(k[1])
        elif k[0] in ("i", "n"):
            for part in k[1:]:
                leaves_of(part, out)
        return out

    dropped = _drop_in(body, uses, key, leaves_of)
    for s in walk(body):
        if type(s) in (If, For, While):
            for block in ((s.then, s.orelse) if type(s) is If else (s.body,)):
                dropped = _drop_in(block, uses, key, leaves_of) or dropped
    return dropped


_DIVISIONS = {"truediv", "floordiv", "mod"}
#: effects on lists symgrad cannot see (any list may change)
_UNSEEN = {"call", "callmethod", "pyexpr"}


def _is_num(a: Any) -> bool:
    return type(a) is Var and a.kind.find().tag == "num" or \
        type(a) is Const and type(a.value) in (int, float)


def _stable(lst: Any, defs: dict, changed: set) -> bool:
    """Is the length of ``lst`` the same wherever it is read (assigned once or a
    parameter, and no list of the function's changes: another may be the same list)?"""
    return type(lst) is Var and not changed and not (lst in defs and defs[lst] is None)


def _drop_in(block: list, uses: dict, key: Any, leaves_of: Any) -> bool:
    drop = []
    for k, s in enumerate(block):
        if type(s) is not Eqn or not s.outs or uses.get(s.outs[0], 0):
            continue
        if s.prim == "getitem" and (s.params or {}).get("may_raise"):
            want = key(s.outs[0])
        elif s.prim in _DIVISIONS and all(_is_num(a) for a in (*s.args, s.outs[0])):
            want = ("/", key(s.args[1]))        # (ZeroDivisionError: where it is 0)
        else:
            continue
        fixed = leaves_of(want[1] if want[0] == "/" else want, set())
        mine = raise_class(s)
        for t in block[k + 1:]:
            if type(t) is not Eqn or t.prim in _EFFECT or fixed.intersection(t.outs) or \
                    raise_class(t) not in (None, mine):     # (another error first)
                break
            if (key(t.outs[0]) if t.prim == "getitem" else ("/", key(t.args[1])) if
                    t.prim in _DIVISIONS and all(map(_is_num, t.args)) else None) == want:
                drop.append(s)
                break
    if drop:
        gone = {id(s) for s in drop}
        block[:] = [s for s in block if id(s) not in gone]
    return bool(drop)
