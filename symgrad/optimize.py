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
from .ir import (Const, Eqn, For, Func, Global, If, Var, While, leaves, stmt_reads,
                 stmt_writes, walk)

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
                (e.params or {}).get("label") not in ("print",):
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


def _sweep(block: list, uses: dict[Var, int], kept: set) -> tuple[list, bool]:
    """One backward pass over ``block``: a removed equation releases its operands at
    once, so a dead chain goes in one pass.  Returns the new block and whether another
    pass may remove more: an operand released whose definition was already kept (a
    variable defined twice, or carried around a loop)."""
    out = []
    again = False

    def release(a: Any) -> None:
        nonlocal again
        n = uses[a] = uses.get(a, 1) - 1
        if n == 0 and a in kept:
            again = True
    for s in reversed(block):
        t = type(s)
        if t is Eqn:
            if s.prim == "copy" and s.outs[0] is s.args[0]:
                release(s.outs[0])
                continue
            outs = s.outs
            if outs and (uses.get(outs[0], 0) == 0 if len(outs) == 1 else all(
                    uses.get(o, 0) == 0 for o in outs)) and _removable(s):
                for a in s.args:
                    if type(a) is Var:
                        release(a)
                continue
            kept.update(outs)
        elif t is If:
            s.then, a1 = _sweep(s.then, uses, kept)
            s.orelse, a2 = _sweep(s.orelse, uses, kept)
            again = again or a1 or a2
            if not s.then and not s.orelse:
                _release_reads(s, release)
                continue
        elif t is For:
            s.body, a1 = _sweep(s.body, uses, kept)
            again = again or a1
            kept.add(s.var)
            if not s.body:
                _release_reads(s, release)
                continue
        elif t is While:
            s.body, a1 = _sweep(s.body, uses, kept)
            again = again or a1
        out.append(s)
    out.reverse()
    return out, again


def _release_reads(s: Any, release: Any) -> None:
    """A region removed whole: the variables its header reads are used once less."""
    for a in stmt_reads(s):
        if type(a) is Var:
            release(a)


def optimize(func: Func) -> Func:
    """Remove dead code (see the module docstring); returns the same function."""
    again = True
    while again:
        again = True
        while again:
            func.body, again = _sweep(func.body, _uses(func.body), set())
        again = _drop_repeated_reads(func.body)
    return func


def _drop_repeated_reads(body: list) -> bool:
    """A read kept only because it may raise (``xs[0]``, nothing uses it) goes when
    the same block reads the same element again before any effect: the second read
    raises as the first would (``d_x = d_out * WS[0]`` after ``WS[0]``).  True if
    one went."""
    uses = _uses(body)
    defs: dict[Var, Any] = {}
    for s in walk(body):
        for o in stmt_writes(s):
            defs[o] = s if o not in defs else None
    memo: dict = {}

    def key(a: Any) -> Any:
        if type(a) is not Var:
            return ("g", a.name) if type(a) is Global else \
                ("c", type(a.value), a.value) if type(a) is Const else ("?", id(a))
        k = memo.get(a)
        if k is None:
            d = defs.get(a)
            k = ("v", a) if type(d) is not Eqn or d.prim not in ("getitem", "copy") else \
                key(d.args[0]) if d.prim == "copy" else ("i", key(d.args[0]), key(d.args[1]))
            memo[a] = k
        return k

    def leaves_of(k: Any, out: set) -> set:
        if k[0] == "v":
            out.add(k[1])
        elif k[0] == "i":
            leaves_of(k[1], out)
            leaves_of(k[2], out)
        return out

    dropped = _drop_in(body, uses, key, leaves_of)
    for s in walk(body):
        if type(s) in (If, For, While):
            for block in ((s.then, s.orelse) if type(s) is If else (s.body,)):
                dropped = _drop_in(block, uses, key, leaves_of) or dropped
    return dropped


def _drop_in(block: list, uses: dict, key: Any, leaves_of: Any) -> bool:
    drop = []
    for k, s in enumerate(block):
        if type(s) is not Eqn or s.prim != "getitem" or uses.get(s.outs[0], 0) or \
                not (s.params or {}).get("may_raise"):
            continue
        want = key(s.outs[0])
        fixed = leaves_of(want, set())
        for t in block[k + 1:]:
            if type(t) is not Eqn or t.prim in _EFFECT or fixed.intersection(t.outs):
                break
            if t.prim == "getitem" and key(t.outs[0]) == want:
                drop.append(s)
                break
    if drop:
        gone = {id(s) for s in drop}
        block[:] = [s for s in block if id(s) not in gone]
    return bool(drop)
