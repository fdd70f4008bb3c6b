"""Building IR with ordinary operators, folding constants as it goes.

The rule table's partials are written with ``+ - * / **`` and symgrad's generic
functions (``cos``, ``select``, ``gt`` ...).  Run on :class:`Sym` operands they
*emit equations* instead of computing numbers, so one lambda gives the code of
a derivative.  Folding keeps that code as a person would write it: ``x * 1``
is ``x``, ``0 * x`` is ``0``, ``g * (1 / y)`` is ``g / y`` (one rounding, not
two), ``g * (1.0 if c else 0.0)`` is ``g if c else 0.0``, and a sign moves out
to meet another (``t + -(g * y)`` is ``t - g * y``: all exact in floating point).

>>> from symgrad import rules
>>> b = Builder([])
>>> x, out = b.sym(Var("x")), b.sym(Var("out"))
>>> r = rules.RULES["tanh"].partials[0](x, out)
>>> [e.prim for e in b.block]
['mul', 'sub']
"""

from __future__ import annotations

from typing import Any, Callable

from . import rules
from .ir import Const, Eqn, If, Kind, Loc, Var

__all__ = ["Sym", "Builder"]


def _num(x: Any) -> Any:
    """The number an operand stands for (a constant), or None."""
    if type(x) is Const and isinstance(x.value, (int, float)) and not isinstance(x.value, bool):
        return x.value
    return None


class Builder:
    """Emits equations into ``block`` (a list of IR statements), folding constants.

    ``defs`` remembers the equation that produced each temporary, so folding can
    look one level into an operand (``-y``, ``1 / y``, ``c if t else 0``).
    """

    def __init__(self, block: list, loc: Loc | None = None, flavor: str = "math",
                 hint: str = "_d"):
        self.block = block
        self.loc = loc
        self.flavor = flavor
        self.hint = hint
        self.defs: dict[Var, Eqn] = {}
        self.reads: set[Var] = set()

    def sym(self, x: Any) -> "Sym":
        return x if isinstance(x, Sym) else Sym(self, x if type(x) is not float and type(
            x) is not int and type(x) is not bool else Const(float(x) if type(x) is bool else x))

    def emit(self, prim: str, args: tuple, params: dict | None = None) -> Var:
        array = False
        reads = self.reads
        for a in args:
            if type(a) is Var:
                reads.add(a)
                if not array and a.kind.find().tag == "array":
                    array = True
        out = Var(self.hint, Kind.array() if array else Kind.num())
        e = Eqn((out,), prim, args, params, self.loc)
        self.block.append(e)
        self.defs[out] = e
        return out

    def defn(self, x: Any) -> Eqn | None:
        """The equation of this block that computes ``x`` (None for anything else)."""
        e = self.defs.get(x) if type(x) is Var else None
        if e is None:
            return None
        for b in reversed(self.block):
            if b is e:
                return e
        return None

    # ------------------------------------------------------------------ folding arithmetic
    def binary(self, prim: str, a: Any, b: Any) -> Any:
        va, vb = _num(a), _num(b)
        if va is not None and vb is not None:
            try:
                return Const(rules.RULES[prim].forward(va, vb))
            except (ArithmeticError, ValueError):
                pass
        folded = _FOLD.get(prim, _no_fold)(self, a, b, va, vb)
        if folded is not None:
            return folded
        return self.emit(prim, (a, b))

    def neg(self, a: Any) -> Any:
        v = _num(a)
        if v is not None:
            return Const(-v)
        d = self.defn(a) or self.settled_neg(a)
        if d is not None and d.prim == "neg":
            return d.args[0]
        return self.emit("neg", (a,))

    def settled_neg(self, a: Any) -> Eqn | None:
        """``a = -y`` made earlier by this builder (in a block already handed on) of a
        ``y`` that cannot have changed since: a constant or another value the builder
        made (each is assigned once), so ``-a`` is ``y`` and ``t + a`` is ``t - y``."""
        d = self.defs.get(a) if type(a) is Var else None
        if d is None or d.prim != "neg":
            return None
        y = d.args[0]
        return d if type(y) is Const or y in self.defs else None

    def call(self, name: str, args: tuple) -> Any:
        rule = rules.RULES[name]
        vals = [_num(a) for a in args]
        if all(v is not None for v in vals):
            try:
                return Const(rule.forward(*vals))
            except (ArithmeticError, ValueError):
                pass
        flavor = self.flavor if self.flavor in ("numpy",) else "math"
        if any(type(a) is Var and a.kind.find().tag == "array" for a in args):
            flavor = "numpy"              # log(x) of an array x (a partial of x ** y)
        if name in rules.BUILTIN_SPELLING and not rule.math_name:
            flavor = "builtin"
        params: dict[str, Any] = {"flavor": flavor}
        if not rule.math_name and flavor != "numpy" and name not in rules.BUILTIN_SPELLING:
            params["flavor"] = "helper"
        return self.emit(name, tuple(args), params)

    def compare(self, op: str, a: Any, b: Any) -> Any:
        va, vb = _num(a), _num(b)
        if va is not None and vb is not None:
            return {"gt": va > vb, "ge": va >= vb, "lt": va < vb, "le": va <= vb,
                    "eq": va == vb}[op]
        return Sym(self, self.emit(op, (a, b)), cond=True)

    def both(self, a: Any, b: Any) -> Any:
        """``a and b`` of two conditions; one known while building decides alone."""
        for known, other in ((a, b), (b, a)):
            if type(known) is bool:
                return other if known else False
        return Sym(self, self.emit("and", (self.sym(a).op, self.sym(b).op)), cond=True)

    def select(self, cond: Any, then: Any, otherwise: Any) -> Any:
        """``then if cond else otherwise``; thunks are built only inside their branch."""
        if type(self.sym(cond).op if isinstance(cond, Sym) else cond) is Var and \
                (cond.op if isinstance(cond, Sym) else cond).kind.find().tag == "array":
            c = cond.op if isinstance(cond, Sym) else cond     # elementwise: np.where
            t = self._branch(then, self.block)
            o = self._branch(otherwise, self.block)
            return self.emit("select", (c, t, o))
        t_blk: list = []
        o_blk: list = []
        t = self._branch(then, t_blk)
        o = self._branch(otherwise, o_blk)
        if not t_blk and not o_blk:
            if t == o or (type(t) is Const and type(o) is Const and t.value == o.value):
                return t
            return self.emit("select", (cond, t, o))
        array = any(type(a) is Var and a.kind.find().tag == "array" for a in (cond, t, o))
        out = Var(self.hint, Kind.array() if array else Kind.num())
        t_blk.append(Eqn((out,), "copy", (t,), None, self.loc))
        o_blk.append(Eqn((out,), "copy", (o,), None, self.loc))
        self.block.append(If(cond, t_blk, o_blk, self.loc))
        return out

    def _branch(self, value: Any, blk: list) -> Any:
        if callable(value) and not isinstance(value, Sym):
            saved = self.block
            self.block = blk
            try:
                value = value()
            finally:
                self.block = saved
        return self.sym(value).op


def _no_fold(b: Builder, a: Any, c: Any, va: Any, vc: Any) -> Any:
    return None


def _fold_add(b: Builder, a: Any, c: Any, va: Any, vc: Any) -> Any:
    if va == 0:
        return c
    if vc == 0:
        return a
    d = b.defn(c)
    if d is not None and d.prim == "neg":
        return b.emit("sub", (a, d.args[0]))
    if vc is not None and vc < 0:
        return b.emit("sub", (a, Const(-vc)))
    return None


def _fold_sub(b: Builder, a: Any, c: Any, va: Any, vc: Any) -> Any:
    if vc == 0:
        return a
    if va == 0:
        return b.neg(c)
    d = b.defn(c)
    if d is not None and d.prim == "neg":
        return b.emit("add", (a, d.args[0]))
    if vc is not None and vc < 0:                 # (x - -2.0 is x + 2.0)
        return b.emit("add", (a, Const(-vc)))
    return None


def _fold_mul(b: Builder, a: Any, c: Any, va: Any, vc: Any) -> Any:
    if va == 1:
        return c
    if vc == 1:
        return a
    if va == -1:
        return b.neg(c)
    if vc == -1:
        return b.neg(a)
    if va == 0 or vc == 0:                        # (a float zero stays a float: 0.0)
        zero = va if va == 0 else vc
        return Const(0 if type(zero) is int else 0.0)
    da, dc = b.defn(a), b.defn(c)
    for p, d in ((a, dc), (c, da)):
        if d is None:
            continue
        if d.prim == "select" and (_num(d.args[1]) is not None or _num(d.args[2]) is not None):
            b.block.remove(d)
            return b.emit("select", (d.args[0], b.binary("mul", p, d.args[1]),
                                     b.binary("mul", p, d.args[2])))
        if d.prim == "truediv" and _num(d.args[0]) in (1, -1):     # g * (-1 / y): -(g / y)
            b.block.remove(d)
            q = b.binary("truediv", p, d.args[1])
            return q if _num(d.args[0]) == 1 else b.neg(q)
    if da is not None and dc is not None and da.prim == "neg" and dc.prim == "neg":
        return b.binary("mul", da.args[0], dc.args[0])
    if dc is not None and dc.prim == "neg":
        return b.neg(b.binary("mul", a, dc.args[0]))
    if da is not None and da.prim == "neg":
        return b.neg(b.binary("mul", da.args[0], c))
    if vc is not None and vc < 0 and type(a) is Var:
        return b.neg(b.emit("mul", (a, Const(-vc))))
    return None


def _fold_div(b: Builder, a: Any, c: Any, va: Any, vc: Any) -> Any:
    if vc == 1:
        return a
    if va == 0:
        return Const(0)
    dc, da = b.defn(c), b.defn(a)               # a sign goes out: -y / c is -(y / c)
    if dc is not None and dc.prim == "neg":
        return b.neg(b.binary("truediv", a, dc.args[0]))
    if da is not None and da.prim == "neg":
        return b.neg(b.binary("truediv", da.args[0], c))
    return None


def _fold_pow(b: Builder, a: Any, c: Any, va: Any, vc: Any) -> Any:
    if vc == 1:
        return a
    if vc == 0:
        return Const(1)
    return None


_FOLD: dict[str, Callable[..., Any]] = {"add": _fold_add, "sub": _fold_sub, "mul": _fold_mul,
                                        "truediv": _fold_div, "pow": _fold_pow}


class Sym:
    """An operand inside a :class:`Builder`: arithmetic on it emits folded equations,
    and symgrad's generic functions (``rules.cos`` ...) emit calls."""

    __slots__ = ("b", "op", "cond")

    def __init__(self, b: Builder, op: Any, cond: bool = False):
        self.b = b
        self.op = op
        self.cond = cond

    def _o(self, other: Any) -> Any:
        return self.b.sym(other).op

    def __add__(self, o: Any) -> "Sym": return Sym(self.b, self.b.binary("add", self.op, self._o(o)))
    def __radd__(self, o: Any) -> "Sym": return Sym(self.b, self.b.binary("add", self._o(o), self.op))
    def __sub__(self, o: Any) -> "Sym": return Sym(self.b, self.b.binary("sub", self.op, self._o(o)))
    def __rsub__(self, o: Any) -> "Sym": return Sym(self.b, self.b.binary("sub", self._o(o), self.op))
    def __mul__(self, o: Any) -> "Sym": return Sym(self.b, self.b.binary("mul", self.op, self._o(o)))
    def __rmul__(self, o: Any) -> "Sym": return Sym(self.b, self.b.binary("mul", self._o(o), self.op))
    def __truediv__(self, o: Any) -> "Sym":
        return Sym(self.b, self.b.binary("truediv", self.op, self._o(o)))

    def __rtruediv__(self, o: Any) -> "Sym":
        return Sym(self.b, self.b.binary("truediv", self._o(o), self.op))

    def __pow__(self, o: Any) -> "Sym": return Sym(self.b, self.b.binary("pow", self.op, self._o(o)))
    def __rpow__(self, o: Any) -> "Sym": return Sym(self.b, self.b.binary("pow", self._o(o), self.op))
    def __floordiv__(self, o: Any) -> "Sym":
        return Sym(self.b, self.b.binary("floordiv", self.op, self._o(o)))

    def __rfloordiv__(self, o: Any) -> "Sym":
        return Sym(self.b, self.b.binary("floordiv", self._o(o), self.op))

    def __mod__(self, o: Any) -> "Sym": return Sym(self.b, self.b.binary("mod", self.op, self._o(o)))
    def __rmod__(self, o: Any) -> "Sym": return Sym(self.b, self.b.binary("mod", self._o(o), self.op))
    def __neg__(self) -> "Sym": return Sym(self.b, self.b.neg(self.op))
    def __pos__(self) -> "Sym": return self

    # hooks read by rules.apply / rules.select / rules.gt ...
    def __symgrad_apply__(self, name: str, args: tuple) -> "Sym":
        return Sym(self.b, self.b.call(name, tuple(self.b.sym(a).op for a in args)))

    @staticmethod
    def __symgrad_compare__(op: str, a: Any, b: Any) -> Any:
        bld = a.b if isinstance(a, Sym) else b.b
        return bld.compare(op, bld.sym(a).op, bld.sym(b).op)

    @staticmethod
    def __symgrad_both__(a: Any, b: Any) -> Any:
        return (a.b if isinstance(a, Sym) else b.b).both(a, b)

    def __symgrad_select__(self, then: Any, otherwise: Any) -> "Sym":
        return Sym(self.b, self.b.select(self.op, then, otherwise))

    def __repr__(self) -> str:
        return f"Sym({self.op!r})"
