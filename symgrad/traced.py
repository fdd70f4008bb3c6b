"""Traced numbers: a SymPy expression followed along the path a float takes.

:class:`Traced` is what :func:`symgrad.check` and :func:`symgrad.symbolic` run a function on
to get its SymPy expression: arithmetic and symgrad's generic functions build the expression
and compute the float value beside it; comparisons, ``bool``, ``int`` and ``range`` use the
float, so branches and loops follow the path taken at the point.

>>> import sympy
>>> x = Traced(sympy.Symbol("x"), 0.5)
>>> y = x * 3 if x < 1 else x
>>> y.expr, y.val
(3*x, 1.5)
"""

from __future__ import annotations

import math
import numbers
import operator
import threading
import types
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from . import rules
from .budget import check_deadline
from .errors import SymgradError

__all__ = ["NeedsPointError", "SymbolicError", "Traced", "exact", "strict_float", "to_expr"]


class SymbolicError(SymgradError):
    """``f`` (or its generated gradient) cannot be represented in SymPy; the message says
    which call, with its file and line."""


class NeedsPointError(SymbolicError, TypeError):
    """A Traced number without a value was used where the value matters (a branch, a count,
    a list): :func:`symgrad.symbolic` needs a point.  A ``TypeError`` too, so code that probes
    ``len(x)`` or ``x[0]`` in a ``try`` sees what it expects."""


_NAMED: list[tuple[float, Any]] = []
_NAMED_CONSTANTS = ("pi", "E", "2*pi", "pi/2", "pi/4", "1/pi", "sqrt(pi)", "2/sqrt(pi)",
                    "1/sqrt(pi)", "log(2)", "log(10)", "1/log(2)", "1/log(10)", "sqrt(2)",
                    "1/sqrt(2)", "sqrt(3)", "sqrt(2*pi)", "1/sqrt(2*pi)")


def exact(c: float) -> Any:
    """A float constant as SymPy should see it: a small fraction (``0.25`` -> 1/4, ``1/3``
    -> 1/3) or a named constant (``math.pi``, ``2/sqrt(pi)``, ``log(2)`` ...) when the float is
    exactly the double nearest to one, else a SymPy Float.

    >>> import math
    >>> exact(0.25), exact(1 / 3), exact(math.pi), exact(2.0), exact(0.1234567891)
    (1/4, 1/3, pi, 2, 0.123456789100000)
    """
    import sympy
    if math.isnan(c):
        return sympy.nan
    if math.isinf(c):
        return sympy.oo if c > 0 else -sympy.oo
    if c == int(c):
        return sympy.Integer(int(c))
    q = Fraction(c).limit_denominator(10 ** 6)
    if float(q) == c:
        return sympy.Rational(q.numerator, q.denominator)
    if not _NAMED:
        for text in _NAMED_CONSTANTS:
            e = sympy.sympify(text)
            _NAMED.extend([(float(e), e), (-float(e), -e)])
    for value, e in _NAMED:
        if c == value:
            return e
    return sympy.Float(c)


def to_expr(x: Any) -> Any:
    """The SymPy expression of ``x`` (a :class:`Traced`, a number or a SymPy object).

    >>> import sympy
    >>> to_expr(Traced(sympy.Symbol("x"), 1.0)), to_expr(3), to_expr(0.5)
    (x, 3, 1/2)
    """
    if isinstance(x, Traced):
        return x.expr
    import sympy
    if isinstance(x, (bool, numbers.Integral)):
        return sympy.Integer(int(x))
    if isinstance(x, numbers.Real):
        return exact(float(x))
    if isinstance(x, sympy.Basic):
        return x
    raise SymbolicError(f"cannot turn {type(x).__name__} {x!r} into a SymPy expression")


_inlining = threading.local()
_strict = threading.local()   # .on: float() of a Traced number names arrays (see strict_float)


class strict_float:  # noqa: N801 - used as a context manager, like a function
    """``float()`` of a :class:`Traced` number raises rather than dropping its expression
    (which would silently make it a constant).  Retargeted code never calls ``float`` on
    one (the builtin is shadowed), so only code symgrad did not retarget does (``math.sin``
    imported inside ``f``); within this context, with arrays, the error names the likely
    cause: numpy storing it into a float array (``out = np.zeros(3); out[0] = x``).

    >>> import sympy
    >>> x = Traced(sympy.Symbol("x"), 2.0)
    >>> with strict_float():
    ...     float(x)
    Traceback (most recent call last):
    ...
    TypeError: x would become the float constant 2.0 here: a SymPy number stored into a float array? create the array with dtype=object or from the arguments (np.zeros_like(x))
    >>> float(x)
    Traceback (most recent call last):
    ...
    TypeError: must be real number, not Traced (x would become the float constant 2.0 here)
    """

    def __enter__(self) -> None:
        self.was = getattr(_strict, "on", False)
        _strict.on = True

    def __exit__(self, *exc: object) -> None:
        _strict.on = self.was


class Traced:
    """A number followed along one path: a SymPy expression ``expr`` and its float value
    ``val`` (``None``: no point given, then a branch on it is an error).

    Arithmetic and symgrad's generic functions compute both; comparisons, ``bool``, ``int``,
    ``range`` use the float, so control flow follows the path taken at the point.  At a
    kink (``abs``, ``max``, ``min``, ``relu``) or a step (``//``, ``%``) the expression is the
    piece active at the point.

    >>> import sympy
    >>> x = Traced(sympy.Symbol("x"), 2.0)
    >>> y = x * x if x > 0 else -x
    >>> y.expr, y.val
    (x**2, 4.0)
    >>> abs(x - 3).expr
    3 - x
    """

    __slots__ = ("expr", "val")

    def __init__(self, expr: Any, val: Any = None) -> None:
        self.expr, self.val = expr, val

    def __symgrad_apply__(self, name: str, args: tuple[Any, ...]) -> Traced:
        return _traced_apply(name, args)

    def float_value(self, what: str = "") -> Any:
        """The value at the point; without one, an error asking for a point.

        >>> import sympy
        >>> Traced(sympy.Symbol("x"), 2.0).float_value()
        2.0
        """
        if self.val is None:
            raise NeedsPointError(f"the path depends on the value of {self.expr}{what}")
        return self.val

    def _not_a_list(self, float_error: str) -> TypeError:
        """A number is not a list: the error a float gives, or without a value the error
        asking for a point (the parameter may be a list there)."""
        if self.val is None:
            return NeedsPointError(f"{self.expr} is used as a list (len(), iteration or "
                                   "indexing), so its length must be known")
        return TypeError(float_error.format(type(self.val).__name__))

    def __len__(self) -> int: raise self._not_a_list("object of type '{}' has no len()")
    def __iter__(self) -> Any: raise self._not_a_list("'{}' object is not iterable")
    def __getitem__(self, k: Any) -> Any: raise self._not_a_list("'{}' object is not subscriptable")

    def _cmp(self, other: Any, op: str) -> Any:
        if not isinstance(other, (Traced, numbers.Real)):
            return NotImplemented
        a = self.float_value(f" (compared: {op} {to_expr(other)})")
        b = other.float_value() if isinstance(other, Traced) else other
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b,
                "!=": a != b}[op]

    def __lt__(self, o: Any) -> Any: return self._cmp(o, "<")
    def __le__(self, o: Any) -> Any: return self._cmp(o, "<=")
    def __gt__(self, o: Any) -> Any: return self._cmp(o, ">")
    def __ge__(self, o: Any) -> Any: return self._cmp(o, ">=")
    def __eq__(self, o: object) -> Any: return self._cmp(o, "==")
    def __ne__(self, o: object) -> Any: return self._cmp(o, "!=")
    __hash__ = object.__hash__

    def __bool__(self) -> bool: return bool(self.float_value())
    def __float__(self) -> float:
        if getattr(_strict, "on", False):
            raise TypeError(f"{self.expr} would become the float constant {self.val!r} here: "
                            "a SymPy number stored into a float array? create the array with "
                            "dtype=object or from the arguments (np.zeros_like(x))")
        # (a function symgrad did not retarget, math.sin imported inside f: the number
        # would become a constant and its derivative 0; like Value, it is refused)
        raise TypeError(f"must be real number, not Traced ({self.expr} would become the "
                        f"float constant {self.val!r} here)")
    def __int__(self) -> int: return int(self.float_value())
    def __index__(self) -> int: return _index(self.float_value())
    def __round__(self, n: Any = None) -> Any: return round(self.float_value(), n)
    def __trunc__(self) -> int: return math.trunc(self.float_value())
    def __floor__(self) -> int: return math.floor(self.float_value())
    def __ceil__(self) -> int: return math.ceil(self.float_value())
    def __neg__(self) -> Traced: return _traced_apply("neg", (self,))
    def __pos__(self) -> Traced: return self
    def __abs__(self) -> Traced: return _traced_apply("abs", (self,))

    def __repr__(self) -> str:
        return f"Traced({self.expr}, {self.val!r})"


from .engine import add_ufunc_methods  # noqa: E402  (np.exp(xs) of an array of them)

add_ufunc_methods(Traced)


def _index(v: Any) -> int:
    """``range(n)``, ``xs[k]`` with a Traced count: its float value if it is a whole number."""
    return int(v) if isinstance(v, float) and v.is_integer() else operator.index(v)


def _binop(rule: str, reflected: bool) -> Callable[[Traced, Any], Any]:
    def op(self: Traced, other: Any) -> Any:
        if not isinstance(other, (Traced, numbers.Real)):
            return NotImplemented
        return _traced_apply(rule, (other, self) if reflected else (self, other))
    op.__name__ = f"__{'r' if reflected else ''}{rule}__"
    return op


for _rule in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    setattr(Traced, f"__{_rule}__", _binop(_rule, False))
    setattr(Traced, f"__r{_rule}__", _binop(_rule, True))


def _on_path(name: str, exprs: list[Any], vals: list[Any]) -> Any:
    """The piece of a kink/step primitive active at the point (None: no choice to make)."""
    if name in ("abs", "relu"):
        x = vals[0]
        if x != 0:
            return exprs[0] if x > 0 else (-exprs[0] if name == "abs" else to_expr(0))
    elif name in ("max", "min") and vals[0] != vals[1]:
        return exprs[0] if (vals[0] > vals[1]) == (name == "max") else exprs[1]
    elif name in ("floordiv", "mod"):
        q = to_expr(vals[0] // vals[1])  # piecewise constant: the step at the point
        return q if name == "floordiv" else exprs[0] - exprs[1] * q
    return None


def _traced_apply(name: str, args: Sequence[Any]) -> Traced:
    """Primitive ``name`` on Traced numbers: the float forward and the SymPy form.  Every
    operation checks the time budget (:mod:`symgrad.budget`): expressions can grow fast."""
    check_deadline()
    rule = rules.RULES[name]
    vals = [a.val if isinstance(a, Traced) else a for a in args]
    val = None if any(v is None for v in vals) else rule.forward(*vals)
    exprs = [to_expr(a) for a in args]
    expr = None
    if val is not None and all(isinstance(v, numbers.Real) for v in vals):
        expr = _on_path(name, exprs, vals)
    if expr is None and rule.sympy is not None:
        expr = rule.sympy(*exprs)
    elif expr is None:  # a registered rule without sympy=: trace its forward function
        return _inline_forward(name, rule.forward, args)
    return Traced(expr, val)


def _inline_forward(name: str, fwd: Any, args: Sequence[Any]) -> Traced:
    """Run a registered rule's own forward function on the Traced arguments (it has no
    ``sympy=`` form); an error when it is not user code or calls itself."""
    from .retarget import is_library_file, retarget
    busy = getattr(_inlining, "names", set())
    if not isinstance(fwd, types.FunctionType) or name in busy \
            or is_library_file(fwd.__code__.co_filename):
        raise SymbolicError(f"primitive {name!r} has no SymPy form: give one with "
                            f"register_rule({name!r}, ..., sympy=...)")
    _inlining.names = busy | {name}
    try:
        return retarget(fwd, symbolic=True)(*args)
    finally:
        _inlining.names = busy
