"""Analysis: the reads that may raise, which the dead-code pass must keep.

Python raises where a function reads an element that is not there (``IndexError``,
``KeyError``: ``xs[0]`` of an empty list) and where it reads a local name that no path
so far has assigned (``UnboundLocalError``).  The gradient must raise there too, even
where nothing in it needs the value read: otherwise it returns a gradient at a point
where the function has no value.  Such equations carry ``params["may_raise"]``, and
:mod:`symgrad.optimize` never removes them:

* a read of a name maybe not assigned is a ``copy`` the lowering marks so (see
  :mod:`symgrad.unbound`, which finds them on the syntax tree);
* a subscript the source writes (``x[i]``, which the lowering tags ``"subscript"``)
  is marked by :func:`mark_raising_reads`, unless its value carries a derivative (the
  adjoint sweep then adds into ``d_x[i]``, of the same length or keys, and raises
  there; where it adds nothing, ``0.0 * x[i]``, it marks the read itself, and a tangent
  sweep's ``t_x[i]`` is marked) or it is proved in range (``"in_range"``): ``xs[i]``
  inside ``for i in range(len(xs))`` (or ``range(k, min(len(xs), ...))`` with
  ``k >= 0``, the loop ``zip`` makes) when nothing in the loop, nor between the ``len``
  and the loop, changes a list's length or rebinds ``xs``.

Where two lines may raise different errors, the first must be Python's
(:func:`raise_class` sorts them).  The adjoint sweep runs in reverse order, so a
differentiated read followed by a line that may raise another error is marked too,
and raises where it is; :func:`symgrad.emit_inline.keep_raising_order` keeps the
printed order.

>>> from symgrad.ir import Var, Eqn, Func, Return
>>> xs, x, t = Var("xs", name="xs"), Var("x", name="x"), Var("_t")
>>> read = Eqn((t,), "getitem", (xs, Const(0)), {"subscript": True})
>>> mark_raising_reads(Func("f", [xs, x], [read, Return(x)]))
>>> read.params
{'subscript': True, 'may_raise': True}
"""

from __future__ import annotations

from typing import Any

from . import rules
from .ir import Const, Eqn, For, Func, If, Var, While, walk

__all__ = ["mark_raising_reads", "may_raise", "raise_class", "without_may_raise"]

#: effects that may change the length of a list (or, for calls, of any list)
_RESIZE = {"append", "pop", "insert", "extend", "clear", "setslice", "put_back", "restore",
           "call", "callmethod", "pyexpr"}


def may_raise(e: Eqn) -> bool:
    """Is ``e`` marked as a read that may raise?"""
    return e.params is not None and e.params.get("may_raise", False)


def mark_raising_reads(func: Func, active: Any = lambda v: False) -> None:
    """Mark ``func``'s reads that may raise, in place (module doc); ``active(v)``: does
    ``v`` carry a derivative (a list: do its numbers)?"""
    body = func.body
    defs: dict[Var, Any] = {}
    reads = []
    for s in walk(body):
        if type(s) is Eqn:
            for o in s.outs:
                defs[o] = s if o not in defs else None     # (None: assigned twice)
            if s.params is not None and s.params.get("subscript"):
                reads.append(s)
        elif type(s) is For:
            defs[s.var] = None
    if not reads:
        return
    safe = _in_range(body, defs, set())
    for e in reads:
        if id(e) in safe:
            e.params = {**e.params, "in_range": True}
    later = _later_classes(body)
    for e in reads:
        # (a read followed by one that raises another error is kept where it is, so the
        # first to raise is Python's: an adjoint sweep raises in reverse order)
        _set(e, id(e) not in safe and (not active(e.outs[0]) or bool(
            later.get(id(e), set()) - {raise_class(e)})))


def raise_class(e: Eqn) -> str | None:
    """What ``e`` itself may raise, as a class of errors (two lines of one class raise
    the same error, so either may come first): ``"index"`` for a subscript of a list or
    an array the source writes and that is not proved in range, ``"key"`` for one of a
    dict, ``"unbound"`` for a name maybe not assigned, the primitive's name for another
    line :mod:`symgrad.raising` keeps to raise and for the function's own arithmetic
    that may raise (``1.0 / x``, ``math.log(x)``); None otherwise (the gradient's own
    reads, a tape's, an adjoint list's, the derivatives)."""
    params = e.params
    p = e.prim
    if p in ("raise", "assert_fail"):      # (a raise the function makes, or Python's call
        return p                           # does: f(*xs) of another length, a, b = xs)
    if params is None:
        return _arithmetic_class(e)
    if params.get("may_raise", False):
        if p == "copy":
            return "unbound"
    elif not params.get("subscript", False) or params.get("in_range", False):
        return _arithmetic_class(e)
    if p in ("getitem", "getattr") and e.args:
        a = e.args[0]
        keyed = a.kind.find().tag == "map" if type(a) is Var else isinstance(
            getattr(a, "obj", None), dict)
        return "key" if keyed else "index"
    return p


def _arithmetic_class(e: Eqn) -> str | None:
    """A primitive of the function's own arithmetic that may raise (``1.0 / x``,
    ``math.log(x)``): the exception it raises (:data:`_RAISES`), or its name; None for
    a derivative's (``# grad of:`` lines run after every line of the function has run),
    numpy's (it warns) and a division by a constant other than 0."""
    r = rules.RULES.get(e.prim)
    if r is None or not r.may_raise or e.loc is not None and e.loc.prefix or \
            e.params is not None and e.params.get("flavor") == "numpy":
        return None
    if e.prim in _DIVISIONS and len(e.args) == 2 and type(e.args[1]) is Const and \
            e.args[1].value != 0:
        return None
    if e.prim == "pow" and len(e.args) == 2 and type(e.args[1]) is Const and \
            type(e.args[1].value) in (int, float) and e.args[1].value > 0:
        return "OverflowError"      # (x ** 2: too large; no 0 ** -1, no root of a negative)
    return _RAISES.get(e.prim, e.prim)


#: primitives that raise only where they divide by zero
_DIVISIONS = {"truediv", "floordiv", "mod", "fmod"}
#: the one exception a primitive of numbers raises (any of a class may come first)
_RAISES = {**dict.fromkeys(("truediv", "floordiv", "mod", "reciprocal"), "ZeroDivisionError"),
           **dict.fromkeys(("log", "log2", "log10", "log1p", "sqrt", "acos", "asin", "acosh",
                            "atanh", "fmod"), "ValueError"),
           **dict.fromkeys(("exp", "exp2", "expm1", "cosh", "sinh"), "OverflowError")}


def _later_classes(body: list) -> dict[int, set]:
    """For each equation, the classes of errors (:func:`raise_class`) the lines after it
    may raise: those that may run after it (not the other branch of its ``if``) and, in a
    loop, all of the loop's (the next iteration)."""
    out: dict[int, set] = {}

    def inside(block: list) -> set:
        found: set = set()
        for x in walk(block):
            if type(x) is Eqn:
                c = raise_class(x)
                if c is not None:
                    found.add(c)
        return found

    def visit(block: list, after: set, looped: set) -> set:
        """Mark ``block``'s equations; the classes from its start on."""
        for s in reversed(block):
            t = type(s)
            if t is Eqn:
                out[id(s)] = after | looped
                c = raise_class(s)
                if c is not None:
                    after = after | {c}
            elif t is If:
                after = visit(s.then, after, looped) | visit(s.orelse, after, looped)
            elif t is For or t is While:
                mine = inside([s])
                visit(s.body, after, looped | mine)
                if t is While:
                    visit(s.test, after, looped | mine)
                after = after | mine
        return after
    visit(body, set(), set())
    return out


def without_may_raise(params: dict | None) -> dict | None:
    """``params`` without the mark (a copy; None if nothing is left)."""
    return {k: v for k, v in (params or {}).items() if k != "may_raise"} or None


def _set(e: Eqn, on: bool) -> None:
    if may_raise(e) != on:
        e.params = {**(e.params or {}), "may_raise": True} if on else \
            without_may_raise(e.params)


# ----------------------------------------------------------------- elements in range

def _in_range(block: list, defs: dict, safe: set) -> set:
    """``safe`` with the ids of the subscripts in range in ``block`` and the blocks
    nested in it: those of loops over a list's own indices."""
    for k, s in enumerate(block):
        t = type(s)
        if t is If:
            _in_range(s.then, defs, safe)
            _in_range(s.orelse, defs, safe)
        elif t is While:
            _in_range(s.test, defs, safe)
            _in_range(s.body, defs, safe)
        elif t is For:
            _in_range(s.body, defs, safe)
            lists = _indexed_lists(s, block[:k], defs)
            if lists:
                safe.update(id(e) for e in walk(s.body) if type(e) is Eqn and
                            e.prim == "getitem" and len(e.args) == 2 and
                            e.args[1] is s.var and e.args[0] in lists)
    return safe


def _indexed_lists(loop: For, before: list, defs: dict) -> set:
    """The lists ``loop``'s variable indexes safely: the loop counts up from a
    nonnegative start to a ``len`` of each (computed in ``before``, the loop's own
    block), and nothing from there to the loop's end resizes a list or rebinds them."""
    start, stop, step = loop.start, loop.stop, loop.step
    if not (_const_int(start) and start.value >= 0 and _const_int(step) and step.value > 0
            and type(stop) is Var):
        return set()
    d = defs.get(stop)
    lens = _lens(d, defs) if d is not None else None
    if not lens:
        return set()
    lists = {e.args[0] for e in lens if e.prim == "len"}
    first = min((_index_of(before, e) for e in lens + [d]), default=-1)
    if first < 0:
        return set()
    for s in walk(before[first:] + loop.body):
        if type(s) is Eqn and (s.prim in _RESIZE or lists.intersection(s.outs)):
            return set()
        if type(s) is For and (s.var in lists or s.collect):
            return set()
    return lists


def _lens(d: Eqn, defs: dict, depth: int = 0) -> list | None:
    """The ``len`` equations whose smallest ``d`` computes (``len(x)``, ``min(len(x),
    len(w))``, the ``min`` of several ``zip`` makes), or None."""
    if d.prim == "len":
        return [d] if type(d.args[0]) is Var else None
    if d.prim != "min" or depth > 8 or not all(type(a) is Var for a in d.args):
        return None
    out = [d]
    for a in d.args:
        e = defs.get(a)
        more = _lens(e, defs, depth + 1) if e is not None else None
        if more is None:
            return None
        out += more
    return out


def _index_of(block: list, e: Eqn) -> int:
    for k, s in enumerate(block):
        if s is e:
            return k
    return -1


def _const_int(a: Any) -> bool:
    return type(a) is Const and type(a.value) is int
