"""The one table of local derivative rules.

Every primitive is written here once: its forward function on floats and one
*partial derivative* per input.  Partials are written with ordinary operators
and the generic functions of this module (``cos``, ``select``, ``gt`` ...), so
the very same lambda runs

* on floats            -> the ``Value`` engine's backward pass,
* on SymPy expressions -> the self-check against ``sympy.diff`` and ``symgrad.check``,
* on code placeholders -> the source transformer, which turns it into AST nodes.

A partial receives the inputs followed by the primitive's output ``out``.

Conventions at points where a primitive has no derivative (identical in every
engine because they all read this table):

* ``relu'(0) = 0`` and ``abs'(0) = 0`` (the derivative of the flat side / the
  subgradient's midpoint);
* ``max(a, b)`` sends the whole gradient to ``a`` when ``a >= b`` (the argument
  Python returns), ``min(a, b)`` to ``a`` when ``a <= b``;
* ``x ** y`` with respect to ``y`` is ``0`` at ``x == 0`` and ``nan`` for
  ``x < 0`` (no real derivative exists there); with respect to ``x`` it is ``0``
  when ``y == 0`` (``x ** 0`` is 1 everywhere, even at ``x == 0``);
* where the true derivative is infinite although the function is finite
  (``sqrt`` at 0, ``x ** 0.5`` at 0) Python's float division raises
  ``ZeroDivisionError``: an error, never a finite number;
* ``x // y`` has derivative ``0`` and ``x % y`` has ``(1, -(x // y))``
  everywhere they are defined (true almost everywhere).

>>> RULES["mul"].partials[0](3.0, 4.0, 12.0)
4.0
>>> tanh(0.5) == math.tanh(0.5)
True
"""

from __future__ import annotations

import bisect
import builtins
import functools
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .errors import NonDifferentiableError
from .floats import (square as _square, logaddexp as _logaddexp, logaddexp2 as _logaddexp2,
                     positive as _positive, stop_gradient as _stop_gradient, sigmoid as _sigmoid, relu as _relu, exp2 as _exp2,
                     cbrt as _cbrt, reciprocal as _reciprocal, sinc as _sinc,
                     polygamma as _polygamma)

__all__ = [
    "Rule", "RULES", "register_rule", "no_derivative", "lookup_callable", "CallInfo",
    "exp", "log", "log1p", "expm1", "log2", "log10", "sqrt", "sin", "cos", "tan",
    "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "sigmoid", "relu", "erf", "polygamma", "hypot", "fabs", "select", "both", "gt", "ge", "lt", "le",
    "eq", "stop_gradient",
]


@dataclass(frozen=True)
class Rule:
    """One primitive: its float forward function and one local partial per input.

    ``partials[i](*inputs, out)`` is d out / d input_i.  ``sympy`` builds the
    same function on SymPy expressions; ``math_name`` / ``numpy_name`` are the
    names generated code calls (``None``: call ``forward`` itself as a helper).
    """

    name: str
    nargs: int
    forward: Callable[..., Any]
    partials: tuple[Callable[..., Any], ...]
    sympy: Callable[..., Any] | None = None
    math_name: str | None = None
    numpy_name: str | None = None
    uses_out: tuple[bool, ...] = field(default=())
    doc: str = ""
    expand: Callable[..., Any] | None = None   # other arities: expand(b, *args) via b.apply
    may_raise: bool = True                     # can the forward raise (kept when unused)?
    scipy_name: str | None = None              # scipy.special's (see symgrad.rules_scipy)
    #: {argument: what it is} for the arguments with no derivative (see no_derivative)
    refused: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "refused", {i: p.no_derivative for i, p in enumerate(
            self.partials) if hasattr(p, "no_derivative")})


RULES: dict[str, Rule] = {}


def register_rule(name: str, forward: Callable[..., Any],
                  partials: Sequence[Callable[..., Any]], *,
                  sympy: Callable[..., Any] | None = None,
                  math_name: str | None = None, numpy_name: str | None = None,
                  doc: str = "", callables: Sequence[Any] = ()) -> Rule:
    """Add (or replace) a primitive.  It then works in every engine and mode.

    ``callables`` are the Python objects that, when called in a differentiated
    function, mean this primitive (for instance ``forward`` itself).

    >>> import math
    >>> def softplus(x):
    ...     return math.log1p(math.exp(x))
    >>> r = register_rule("softplus", softplus, [lambda x, out: sigmoid(x)],
    ...                   callables=[softplus])
    >>> round(r.partials[0](0.0, softplus(0.0)), 6)
    0.5
    """
    rule = Rule(name, len(partials), forward, tuple(partials), sympy, math_name, numpy_name,
                doc=doc)
    RULES[name] = rule
    _GENERIC_CACHE.pop(name, None)
    for obj in callables:
        _CALLABLES[_key(obj)] = CallInfo(name, "helper" if math_name is None else "math")
    if not callables:
        _CALLABLES[_key(forward)] = CallInfo(name, "helper")
    import sys
    for cached in ("api", "modes"):   # derivatives built with the old rule must be rebuilt
        module = sys.modules.get(f"{__package__}.{cached}")
        if module is not None:
            module._cache.clear()
    return rule


def no_derivative(what: str) -> Callable[..., Any]:
    """The partial of an argument symgrad knows no derivative for (``"the order"`` of a
    Bessel function): a differentiated value given there is refused, naming the line.

    >>> Rule("scaled", 2, lambda k, x: k * x,
    ...      (no_derivative("the scale"), lambda k, x, out: k)).refused
    {0: 'the scale'}
    """
    def partial(*args: Any) -> Any:
        raise NonDifferentiableError(f"symgrad has no derivative with respect to {what}")
    partial.no_derivative = what      # type: ignore[attr-defined]
    return partial


# --------------------------------------------------------------------------- dispatch

def _is_sympy(x: Any) -> bool:
    return type(x).__module__.startswith("sympy")


def _is_numpy(x: Any) -> bool:
    return type(x).__module__ == "numpy"


def apply(name: str, *args: Any) -> Any:
    """Apply primitive ``name`` to numbers of any engine (float, Value, SymPy, numpy, code).

    >>> apply("exp", 0.0)
    1.0
    """
    for a in args:
        hook = getattr(type(a), "__symgrad_apply__", None)
        if hook is not None:
            return hook(a, name, args)
    rule = RULES[name]
    if any(_is_sympy(a) for a in args):
        if rule.sympy is None:
            raise TypeError(f"primitive {name!r} has no SymPy form")
        return rule.sympy(*args)
    if any(_is_numpy(a) for a in args):
        import numpy as np
        if rule.numpy_name is None and any(getattr(a, "dtype", None) == object for a in args):
            return np.vectorize(lambda *xs: apply(name, *xs), otypes=[object])(*args)
        lib = np if rule.numpy_name else sys.modules.get("scipy.special")  # (if imported)
        if lib is not None and (rule.numpy_name or rule.scipy_name) is not None:
            return getattr(lib, rule.numpy_name or rule.scipy_name)(*args)
        if any(getattr(a, "ndim", 0) for a in args):   # element by element
            return np.vectorize(rule.forward, otypes=[float])(*args)
    return rule.forward(*args)


_GENERIC_CACHE: dict[str, Callable[..., Any]] = {}


def _generic(name: str, doc: str) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        if type(args[0]) is float and len(args) == 1:
            return RULES[name].forward(*args)
        return apply(name, *args)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    fn.__module__ = "symgrad"
    return fn


# --------------------------------------------------------------------------- piecewise helpers
# ``select`` is how a rule says "if": on floats it evaluates only the branch it
# takes (branches may be thunks), in SymPy it is a Piecewise, in generated code
# a conditional expression.

def _force(v: Any) -> Any:
    return v() if callable(v) and not hasattr(type(v), "__symgrad_apply__") else v


class _Cmp:
    """A comparison built by ``gt``/``ge``/... on a code placeholder or SymPy value."""


def _cmp(op: str, a: Any, b: Any) -> Any:
    for v in (a, b):
        hook = getattr(type(v), "__symgrad_compare__", None)
        if hook is not None:
            return hook(op, a, b)
    if _is_sympy(a) or _is_sympy(b):
        import sympy
        return {"gt": sympy.Gt, "ge": sympy.Ge, "lt": sympy.Lt, "le": sympy.Le,
                "eq": sympy.Eq}[op](a, b)
    return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b, "eq": a == b}[op]


def gt(a: Any, b: Any) -> Any:
    """``a > b`` on any engine's numbers (a condition for :func:`select`)."""
    return _cmp("gt", a, b)


def ge(a: Any, b: Any) -> Any:
    """``a >= b`` on any engine's numbers."""
    return _cmp("ge", a, b)


def lt(a: Any, b: Any) -> Any:
    """``a < b`` on any engine's numbers."""
    return _cmp("lt", a, b)


def le(a: Any, b: Any) -> Any:
    """``a <= b`` on any engine's numbers."""
    return _cmp("le", a, b)


def eq(a: Any, b: Any) -> Any:
    """``a == b`` on any engine's numbers."""
    return _cmp("eq", a, b)


def both(a: Any, b: Any) -> Any:
    """``a and b`` of two conditions on any engine (elementwise on arrays).

    >>> both(eq(0.0, 0), gt(1.0, 2.0))
    False
    """
    for v in (a, b):
        hook = getattr(type(v), "__symgrad_both__", None)
        if hook is not None:
            return hook(a, b)
    if _is_sympy(a) or _is_sympy(b):
        import sympy
        return sympy.And(a, b)
    if any(_is_numpy(v) and getattr(v, "ndim", 0) for v in (a, b)):
        import numpy as np
        return np.logical_and(a, b)
    return a and b


def select(cond: Any, then: Any, otherwise: Any) -> Any:
    """``then if cond else otherwise`` on any engine (branches may be zero-argument thunks).

    >>> select(gt(2.0, 1.0), 1.0, lambda: 1 / 0)
    1.0
    """
    hook = getattr(type(cond), "__symgrad_select__", None)
    if hook is not None:       # code builders evaluate each branch only inside it
        return hook(cond, then, otherwise)
    if _is_sympy(cond):
        import sympy
        return sympy.Piecewise((_force(then), cond), (_force(otherwise), True))
    if _is_numpy(cond) and getattr(cond, "ndim", 0):
        import numpy as np
        return np.where(cond, _force(then), _force(otherwise))
    return _force(then) if cond else _force(otherwise)


def _sympy(name: str) -> Callable[..., Any]:
    def build(*args: Any) -> Any:
        import sympy
        return getattr(sympy, name)(*args)
    return build


def _sympy_sigmoid(x: Any) -> Any:
    import sympy
    return 1 / (1 + sympy.exp(-x))


def _sympy_stop_gradient(x: Any) -> Any:
    """``stop_gradient(x)`` in SymPy: a function whose value is ``x`` (evaluated and
    printed as such by lambdify) and whose derivative is 0."""
    return _stop_gradient_class()(x)


@functools.lru_cache(maxsize=None)
def _stop_gradient_class() -> Any:
    import sympy

    class stop_gradient(sympy.Function):      # noqa: N801 - printed under this name
        _imp_ = staticmethod(lambda x: x)        # (lambdify: the value x)

        def fdiff(self, argindex: int = 1) -> Any:
            return sympy.S.Zero

        @classmethod
        def eval(cls, x: Any) -> Any:
            return x if x.is_number else None
    return stop_gradient


def _sympy_relu(x: Any) -> Any:
    import sympy
    return sympy.Piecewise((x, x > 0), (0, True))


def _sympy_max(a: Any, b: Any) -> Any:
    import sympy
    return sympy.Piecewise((a, a >= b), (b, True))


def _sympy_min(a: Any, b: Any) -> Any:
    import sympy
    return sympy.Piecewise((a, a <= b), (b, True))


def _sympy_abs(x: Any) -> Any:
    import sympy
    return sympy.Abs(x)


def _sympy_floordiv(a: Any, b: Any) -> Any:
    import sympy
    return sympy.floor(a / b)


def _sympy_mod(a: Any, b: Any) -> Any:
    import sympy
    return a - b * sympy.floor(a / b)


def _sympy_fmod(a: Any, b: Any) -> Any:
    import sympy
    q = a / b
    return a - b * sympy.Piecewise((sympy.floor(q), q >= 0), (-sympy.floor(-q), True))


def _sympy_cbrt(x: Any) -> Any:
    import sympy
    return sympy.Piecewise((sympy.cbrt(x), x >= 0), (-sympy.cbrt(-x), True))


def _sympy_radians(x: Any) -> Any:
    import sympy
    return x * sympy.pi / 180


def _sympy_degrees(x: Any) -> Any:
    import sympy
    return x * 180 / sympy.pi


def _sympy_sinc(x: Any) -> Any:
    import sympy
    return sympy.sinc(sympy.pi * x)


_LOG_ABS_GAMMA: list = []


def _sympy_lgamma(x: Any) -> Any:
    """log |gamma(x)|, as math.lgamma: sympy's loggamma for a positive x; else a function
    whose derivative is digamma (``loggamma`` is complex for x < 0, and the derivatives
    of ``log(Abs(gamma(x)))`` hold ``Derivative(sign(...))``, which evaluates to nan)."""
    import sympy
    if not _LOG_ABS_GAMMA:
        import mpmath

        class lgamma(sympy.Function):       # (named as math's, for printed expressions)
            @classmethod
            def eval(cls, arg: Any) -> Any:
                if arg.is_positive:
                    return sympy.loggamma(arg)
                if arg.is_Number and not arg.is_integer:
                    return sympy.log(sympy.Abs(sympy.gamma(arg)))
                return None

            def fdiff(self, argindex: int = 1) -> Any:
                return sympy.polygamma(0, self.args[0])

            def _eval_is_real(self) -> bool | None:
                return self.args[0].is_real

        lgamma._imp_ = staticmethod(lambda v: mpmath.log(abs(mpmath.gamma(v))))
        _LOG_ABS_GAMMA.append(lgamma)
    return _LOG_ABS_GAMMA[0](x)


def _sympy_log2(x: Any) -> Any:
    import sympy
    return sympy.log(x, 2)


def _sympy_log10(x: Any) -> Any:
    import sympy
    return sympy.log(x, 10)


# --------------------------------------------------------------------------- the table

def _rule(name: str, nargs: int, forward: Callable[..., Any], *partials: Callable[..., Any],
          sympy: Callable[..., Any] | None = None, math_name: str | None = None,
          numpy_name: str | None = None, doc: str = "",
          expand: Callable[..., Any] | None = None) -> None:
    assert len(partials) == nargs, name
    RULES[name] = Rule(name, nargs, forward, partials, sympy, math_name, numpy_name, doc=doc,
                       expand=expand, may_raise=name not in _SAFE)


# primitives whose float forward never raises (an unused result may be dropped)
_SAFE = {"add", "sub", "mul", "neg", "square", "tanh", "sin", "cos", "atan", "atan2", "sigmoid", "relu",
         "stop_gradient",
         "abs", "max", "min", "erf", "erfc", "float", "hypot", "positive"}


def _expand_log(b: Any, x: Any, *base: Any) -> Any:
    """``log(x, base)`` is ``log(x) / log(base)``."""
    if len(base) != 1:
        return None
    return b.apply("truediv", b.apply("log", x), b.apply("log", base[0]))


def _expand_fold(name: str) -> Callable[..., Any]:
    def expand(b: Any, *args: Any) -> Any:
        """``max(a, b, c)`` is ``max(max(a, b), c)``: ties keep the first, as Python."""
        if len(args) < 2:
            return None
        acc = args[0]
        for a in args[1:]:
            acc = b.apply(name, acc, a)
        return acc
    return expand


_op = __import__("operator")

# Arithmetic operators (generated code writes them as operators).
_rule("add", 2, _op.add, lambda x, y, out: 1, lambda x, y, out: 1,
      sympy=_op.add, doc="x + y")
_rule("sub", 2, _op.sub, lambda x, y, out: 1, lambda x, y, out: -1,
      sympy=_op.sub, doc="x - y")
_rule("mul", 2, _op.mul, lambda x, y, out: y, lambda x, y, out: x,
      sympy=_op.mul, doc="x * y")
_rule("truediv", 2, _op.truediv, lambda x, y, out: 1.0 / y, lambda x, y, out: -out / y,
      sympy=_op.truediv, doc="x / y")
_rule("neg", 1, _op.neg, lambda x, out: -1, sympy=_op.neg, doc="-x")
_rule("pow", 2, _op.pow,
      lambda x, y, out: select(both(eq(x, 0), eq(y, 0)), 0.0, lambda: y * x ** (y - 1)),
      lambda x, y, out: select(gt(x, 0), lambda: out * log(x),
                               lambda: select(eq(x, 0), 0.0, math.nan)),
      sympy=_op.pow, math_name="pow", numpy_name="power",
      doc="x ** y; d/dx is 0 at x == y == 0; d/dy is 0 at x == 0 and nan for x < 0")
_rule("float", 1, float, lambda x, out: 1, sympy=lambda x: x, numpy_name="float64",
      doc="float(x), np.float64(x): the same numbers (derivative 1)")
_rule("floordiv", 2, _op.floordiv, lambda x, y, out: 0, lambda x, y, out: 0,
      sympy=_sympy_floordiv, numpy_name="floor_divide",
      doc="x // y: piecewise constant, derivative 0 almost everywhere")
_rule("mod", 2, _op.mod, lambda x, y, out: 1, lambda x, y, out: -(x // y),
      sympy=_sympy_mod, numpy_name="mod",
      doc="x % y = x - y * floor(x / y), derivative (1, -floor(x / y)) almost everywhere")
_rule("fmod", 2, math.fmod, lambda x, y, out: 1, lambda x, y, out: (out - x) / y,
      sympy=_sympy_fmod, math_name="fmod", numpy_name="fmod",
      doc="x - y * trunc(x / y) (C's fmod), derivative (1, -trunc(x / y)) almost everywhere")

# Elementary functions (generated code calls math.<name> or np.<name>).
_rule("exp", 1, math.exp, lambda x, out: out, sympy=_sympy("exp"), math_name="exp",
      numpy_name="exp")
_rule("expm1", 1, math.expm1, lambda x, out: out + 1.0, sympy=lambda x: _sympy("exp")(x) - 1,
      math_name="expm1", numpy_name="expm1")
_rule("log", 1, math.log, lambda x, out: 1.0 / x, sympy=_sympy("log"), math_name="log",
      numpy_name="log", expand=_expand_log)
_rule("log1p", 1, math.log1p, lambda x, out: 1.0 / (1.0 + x),
      sympy=lambda x: _sympy("log")(1 + x), math_name="log1p", numpy_name="log1p")
_rule("log2", 1, math.log2, lambda x, out: 1.0 / (x * math.log(2)), sympy=_sympy_log2,
      math_name="log2", numpy_name="log2")
_rule("log10", 1, math.log10, lambda x, out: 1.0 / (x * math.log(10)), sympy=_sympy_log10,
      math_name="log10", numpy_name="log10")
_rule("sqrt", 1, math.sqrt, lambda x, out: 0.5 / out, sympy=_sympy("sqrt"), math_name="sqrt",
      numpy_name="sqrt")
_rule("sin", 1, math.sin, lambda x, out: cos(x), sympy=_sympy("sin"), math_name="sin",
      numpy_name="sin")
_rule("cos", 1, math.cos, lambda x, out: -sin(x), sympy=_sympy("cos"), math_name="cos",
      numpy_name="cos")
_rule("tan", 1, math.tan, lambda x, out: 1.0 + out * out, sympy=_sympy("tan"), math_name="tan",
      numpy_name="tan")
_rule("asin", 1, math.asin, lambda x, out: 1.0 / sqrt(1.0 - x * x), sympy=_sympy("asin"),
      math_name="asin", numpy_name="arcsin")
_rule("acos", 1, math.acos, lambda x, out: -1.0 / sqrt(1.0 - x * x), sympy=_sympy("acos"),
      math_name="acos", numpy_name="arccos")
_rule("atan", 1, math.atan, lambda x, out: 1.0 / (1.0 + x * x), sympy=_sympy("atan"),
      math_name="atan", numpy_name="arctan")
_rule("atan2", 2, math.atan2, lambda y, x, out: x / (x * x + y * y),
      lambda y, x, out: -y / (x * x + y * y), sympy=_sympy("atan2"), math_name="atan2",
      numpy_name="arctan2", doc="atan2(y, x)")
_rule("sinh", 1, math.sinh, lambda x, out: cosh(x), sympy=_sympy("sinh"), math_name="sinh",
      numpy_name="sinh")
_rule("cosh", 1, math.cosh, lambda x, out: sinh(x), sympy=_sympy("cosh"), math_name="cosh",
      numpy_name="cosh")
_rule("tanh", 1, math.tanh, lambda x, out: 1.0 - out * out, sympy=_sympy("tanh"),
      math_name="tanh", numpy_name="tanh")
_rule("asinh", 1, math.asinh, lambda x, out: 1.0 / sqrt(x * x + 1.0), sympy=_sympy("asinh"),
      math_name="asinh", numpy_name="arcsinh")
_rule("acosh", 1, math.acosh, lambda x, out: 1.0 / sqrt(x * x - 1.0), sympy=_sympy("acosh"),
      math_name="acosh", numpy_name="arccosh")
_rule("atanh", 1, math.atanh, lambda x, out: 1.0 / (1.0 - x * x), sympy=_sympy("atanh"),
      math_name="atanh", numpy_name="arctanh")
_rule("erf", 1, math.erf, lambda x, out: 2 / math.sqrt(math.pi) * exp(-x * x),
      sympy=_sympy("erf"), math_name="erf")
_rule("erfc", 1, math.erfc, lambda x, out: -2 / math.sqrt(math.pi) * exp(-x * x),
      sympy=_sympy("erfc"), math_name="erfc", doc="1 - erf(x), accurate where erf(x) ~ 1")
_rule("polygamma", 2, _polygamma, lambda n, x, out: 0.0,
      lambda n, x, out: polygamma(n + 1, x), sympy=_sympy("polygamma"),
      doc="polygamma(n, x): the n-th derivative of digamma (n a constant order)")
_rule("lgamma", 1, math.lgamma, lambda x, out: polygamma(0, x), sympy=_sympy_lgamma,
      math_name="lgamma", doc="log |gamma(x)|; its derivative is digamma(x)")
_rule("gamma", 1, math.gamma, lambda x, out: out * polygamma(0, x), sympy=_sympy("gamma"),
      math_name="gamma", doc="the gamma function")
_rule("hypot", 2, math.hypot, lambda x, y, out: x / out, lambda x, y, out: y / out,
      sympy=lambda x, y: _sympy("sqrt")(x * x + y * y), math_name="hypot", numpy_name="hypot")
_rule("exp2", 1, _exp2, lambda x, out: out * math.log(2), sympy=lambda x: 2 ** x,
      math_name="exp2", numpy_name="exp2", doc="2 ** x")
_rule("cbrt", 1, _cbrt, lambda x, out: 1.0 / (3.0 * out * out), sympy=_sympy_cbrt,
      math_name="cbrt", numpy_name="cbrt", doc="the real cube root; infinite slope at 0")
_rule("reciprocal", 1, _reciprocal, lambda x, out: -(out * out), sympy=lambda x: 1 / x,
      numpy_name="reciprocal", doc="1 / x")
_rule("radians", 1, math.radians, lambda x, out: math.pi / 180.0,
      sympy=_sympy_radians,
      math_name="radians", numpy_name="deg2rad", doc="x * pi / 180")
_rule("degrees", 1, math.degrees, lambda x, out: 180.0 / math.pi,
      sympy=_sympy_degrees,
      math_name="degrees", numpy_name="rad2deg", doc="x * 180 / pi")
_rule("sinc", 1, _sinc,
      lambda x, out: select(eq(x, 0), 0.0, lambda: (cos(math.pi * x) - out) / x),
      sympy=_sympy_sinc, numpy_name="sinc", doc="sin(pi x) / (pi x); sinc'(0) = 0")
_rule("square", 1, _square, lambda x, out: 2 * x, sympy=lambda x: x ** 2,
      numpy_name="square", doc="x * x")
_rule("logaddexp", 2, _logaddexp, lambda a, b, out: exp(a - out),
      lambda a, b, out: exp(b - out),
      sympy=lambda a, b: _sympy("log")(_sympy("exp")(a) + _sympy("exp")(b)),
      numpy_name="logaddexp", doc="log(exp(a) + exp(b))")
_rule("logaddexp2", 2, _logaddexp2, lambda a, b, out: 2.0 ** (a - out),
      lambda a, b, out: 2.0 ** (b - out),
      sympy=lambda a, b: _sympy("log")(2 ** a + 2 ** b) / _sympy("log")(2),
      numpy_name="logaddexp2", doc="log2(2 ** a + 2 ** b)")
_rule("positive", 1, _positive, lambda x, out: 1.0, sympy=lambda x: x,
      numpy_name="positive", doc="+x (np.positive; np.conj of a real number)")
_rule("stop_gradient", 1, _stop_gradient, lambda x, out: 0.0, sympy=_sympy_stop_gradient,
      doc="x, with derivative 0: what flows through it is not differentiated")
_rule("sigmoid", 1, _sigmoid, lambda x, out: out * (1.0 - out), sympy=_sympy_sigmoid,
      doc="1 / (1 + exp(-x))")
_rule("relu", 1, _relu, lambda x, out: select(gt(x, 0), 1.0, 0.0), sympy=_sympy_relu,
      doc="max(x, 0); relu'(0) = 0")
_rule("abs", 1, builtins.abs,
      lambda x, out: select(gt(x, 0), 1.0, lambda: select(lt(x, 0), -1.0, 0.0)),
      sympy=_sympy_abs, math_name="fabs", numpy_name="abs", doc="|x|; abs'(0) = 0")
_rule("max", 2, builtins.max, lambda a, b, out: select(ge(a, b), 1.0, 0.0),
      lambda a, b, out: select(ge(a, b), 0.0, 1.0), sympy=_sympy_max, numpy_name="maximum",
      doc="max(a, b); at a tie the gradient goes to a", expand=_expand_fold("max"))
_rule("min", 2, builtins.min, lambda a, b, out: select(le(a, b), 1.0, 0.0),
      lambda a, b, out: select(le(a, b), 0.0, 1.0), sympy=_sympy_min, numpy_name="minimum",
      doc="min(a, b); at a tie the gradient goes to a", expand=_expand_fold("min"))

# --------------------------------------------------------------------------- generic functions
# ``symgrad.exp`` & co.: work on floats, Values, SymPy expressions, numpy arrays
# and code placeholders alike, so one function body runs on every engine.

exp = _generic("exp", "e ** x on any kind of number.\n\n>>> exp(0.0)\n1.0")
expm1 = _generic("expm1", "exp(x) - 1 on any kind of number.")
log = _generic("log", "Natural logarithm on any kind of number.\n\n>>> log(1.0)\n0.0")
log1p = _generic("log1p", "log(1 + x) on any kind of number.")
log2 = _generic("log2", "Base-2 logarithm on any kind of number.")
log10 = _generic("log10", "Base-10 logarithm on any kind of number.")
sqrt = _generic("sqrt", "Square root on any kind of number.\n\n>>> sqrt(4.0)\n2.0")
sin = _generic("sin", "Sine on any kind of number.")
cos = _generic("cos", "Cosine on any kind of number.")
tan = _generic("tan", "Tangent on any kind of number.")
asin = _generic("asin", "Arc sine on any kind of number.")
acos = _generic("acos", "Arc cosine on any kind of number.")
atan = _generic("atan", "Arc tangent on any kind of number.")
atan2 = _generic("atan2", "atan2(y, x) on any kind of number.")
sinh = _generic("sinh", "Hyperbolic sine on any kind of number.")
cosh = _generic("cosh", "Hyperbolic cosine on any kind of number.")
tanh = _generic("tanh", "Hyperbolic tangent on any kind of number.\n\n>>> tanh(0.0)\n0.0")
asinh = _generic("asinh", "Inverse hyperbolic sine on any kind of number.")
acosh = _generic("acosh", "Inverse hyperbolic cosine on any kind of number.")
atanh = _generic("atanh", "Inverse hyperbolic tangent on any kind of number.")
erf = _generic("erf", "The error function on any kind of number.")
polygamma = _generic("polygamma", "polygamma(n, x), the n-th derivative of digamma, on any "
                     "kind of number.\n\n>>> round(polygamma(0, 1.0), 12)  # -Euler's gamma\n"
                     "-0.577215664902")
_hypot2 = _generic("hypot", "sqrt(x*x + y*y) on any kind of number.")
sigmoid = _generic("sigmoid", "The logistic function 1 / (1 + exp(-x)).\n\n"
                   ">>> sigmoid(0.0)\n0.5")
relu = _generic("relu", "max(x, 0) with relu'(0) = 0.\n\n>>> relu(-2.0)\n0.0")
_stop_gradient_any = _generic("stop_gradient", "")
_STOPS = [0]            # calls of stop_gradient so far (see check: differences cannot see it)


def stop_gradient(x: Any) -> Any:
    """``x`` itself, with derivative 0: what flows through it is not differentiated
    (JAX's ``lax.stop_gradient``, PyTorch's ``detach``), on any kind of number.

    >>> stop_gradient(2.5)
    2.5
    """
    _STOPS[0] += 1
    return _stop_gradient_any(x)


stop_gradient.__module__ = "symgrad"
fabs = _generic("abs", "|x| on any kind of number (abs'(0) = 0).\n\n>>> fabs(-2.0)\n2.0")
fabs.__name__ = fabs.__qualname__ = "fabs"


def hypot(*coordinates: Any) -> Any:
    """sqrt(x*x + y*y + ...) of any number of coordinates, as ``math.hypot``, on any
    kind of number (``hypot()`` is 0.0, ``hypot(x)`` is ``|x|``)."""
    if len(coordinates) == 2 or all(type(c) is float for c in coordinates):
        return _hypot2(*coordinates) if len(coordinates) == 2 else math.hypot(*coordinates)
    return sqrt(sum(c * c for c in coordinates)) if len(coordinates) > 2 else \
        fabs(coordinates[0]) if coordinates else 0.0      # (its derivative: c / hypot)


hypot.__module__ = "symgrad"
power = _generic("pow", "x ** y on any kind of number.\n\n>>> power(2.0, 3.0)\n8.0")
power.__name__ = power.__qualname__ = "power"
maximum = _generic("max", "max(a, b) on any kind of number (ties: the gradient goes to a).")
maximum.__name__ = maximum.__qualname__ = "maximum"
minimum = _generic("min", "min(a, b) on any kind of number (ties: the gradient goes to a).")
minimum.__name__ = minimum.__qualname__ = "minimum"


# --------------------------------------------------------------------------- callables -> rules

@dataclass(frozen=True)
class CallInfo:
    """What a Python callable means inside a differentiated function.

    ``flavor`` says how generated code spells it: ``"math"`` (``math.exp``),
    ``"numpy"`` (``np.exp``), ``"builtin"`` (``abs``, ``max``, ``pow``) or
    ``"helper"`` (a small standard-library function shipped with the code).
    """

    rule: str
    flavor: str


def _key(obj: Any) -> Any:
    try:
        hash(obj)
        return obj
    except TypeError:
        return id(obj)


_CALLABLES: dict[Any, CallInfo] = {}


def _register_builtin_callables() -> None:
    for name, rule in RULES.items():
        if rule.math_name and hasattr(math, rule.math_name) and name not in ("pow",):
            _CALLABLES[getattr(math, rule.math_name)] = CallInfo(name, "math")
    _CALLABLES[math.pow] = CallInfo("pow", "math")
    _CALLABLES[builtins.abs] = CallInfo("abs", "builtin")
    _CALLABLES[builtins.max] = CallInfo("max", "builtin")
    _CALLABLES[builtins.min] = CallInfo("min", "builtin")
    _CALLABLES[builtins.pow] = CallInfo("pow", "builtin")
    _CALLABLES[builtins.float] = CallInfo("float", "builtin")
    generic = {"exp": exp, "expm1": expm1, "log": log, "log1p": log1p, "log2": log2,
               "log10": log10, "sqrt": sqrt, "sin": sin, "cos": cos, "tan": tan,
               "asin": asin, "acos": acos, "atan": atan, "atan2": atan2, "sinh": sinh,
               "cosh": cosh, "tanh": tanh, "asinh": asinh, "acosh": acosh, "atanh": atanh,
               "erf": erf, "polygamma": polygamma, "hypot": hypot, "sigmoid": sigmoid,
               "relu": relu, "abs": fabs, "pow": power, "max": maximum, "min": minimum,
               "stop_gradient": stop_gradient}
    for name, fn in generic.items():
        flavor = "math" if RULES[name].math_name else "helper"
        if name in ("max", "min"):
            flavor = "builtin"
        _CALLABLES[fn] = CallInfo(name, flavor)
    for name, rule in RULES.items():   # the helpers generated code calls (sigmoid ...):
        fwd = rule.forward             # their rule again when the gradient is differentiated
        if written_here(fwd) and fwd not in _CALLABLES:
            _CALLABLES[fwd] = CallInfo(name, "helper")


def written_here(fn: Any) -> bool:
    """Is ``fn`` a float forward symgrad writes itself (generated code calls it as a
    helper, and a saved module carries its source)?"""
    return getattr(fn, "__module__", None) in (__name__, _FLOATS)


_FLOATS = _square.__module__
_register_builtin_callables()
_numpy_registered = False


def _register_numpy() -> None:
    global _numpy_registered
    _numpy_registered = True
    import sys
    np = sys.modules.get("numpy")
    if np is None:
        return
    for name, rule in RULES.items():
        if rule.numpy_name:
            fn = getattr(np, rule.numpy_name, None)
            if fn is not None:
                _CALLABLES[_key(fn)] = CallInfo(name, "numpy")
    for alias, name in (("absolute", "abs"), ("fabs", "abs"), ("fmax", "max"),
                        ("fmin", "min"), ("asin", "asin"), ("acos", "acos"),
                        ("atan", "atan"), ("atan2", "atan2"), ("pow", "pow"),
                        ("power", "pow"), ("true_divide", "truediv"),
                        ("radians", "radians"), ("degrees", "degrees"), ("remainder", "mod"),
                        ("conjugate", "positive"), ("conj", "positive"),
                        *((np_name, name) for name, np_name in NUMPY_OPERATORS.items())):
        fn = getattr(np, alias, None)
        if fn is not None:
            _CALLABLES.setdefault(_key(fn), CallInfo(name, "numpy"))


def lookup_callable(obj: Any) -> CallInfo | None:
    """The primitive a callable stands for, or ``None``.

    >>> lookup_callable(math.exp)
    CallInfo(rule='exp', flavor='math')
    """
    if not _numpy_registered and "numpy" in sys.modules:
        _register_numpy()
    if "scipy.special" in sys.modules and not rules_scipy.registered:
        rules_scipy.register()
    try:
        return _CALLABLES.get(_key(obj))
    except TypeError:
        return None


# --------------------------------------------------------------------------- how code spells them
# (read by lowering and by the printer of generated code; nothing else knows operators)

#: Python's binary operators (by ``ast`` class name) -> primitive
BINOPS = {"Add": "add", "Sub": "sub", "Mult": "mul", "Div": "truediv", "Pow": "pow",
          "FloorDiv": "floordiv", "Mod": "mod", "MatMult": "matmul"}
#: comparison operators (by ``ast`` class name) -> primitive (results carry no derivative)
COMPARE = {"Lt": "lt", "LtE": "le", "Gt": "gt", "GtE": "ge", "Eq": "eq", "NotEq": "ne",
           "Is": "is", "IsNot": "is_not", "In": "in", "NotIn": "not_in"}
#: primitive -> (symbol, precedence) for primitives printed as operators
OPERATORS = {"add": ("+", 11), "sub": ("-", 11), "mul": ("*", 12), "truediv": ("/", 12),
             "floordiv": ("//", 12), "mod": ("%", 12), "matmul": ("@", 12), "pow": ("**", 14),
             "lt": ("<", 6), "le": ("<=", 6), "gt": (">", 6), "ge": (">=", 6), "eq": ("==", 6),
             "ne": ("!=", 6), "is": ("is", 6), "is_not": ("is not", 6), "in": ("in", 6),
             "not_in": ("not in", 6)}
#: primitives a call expands into that keep the call's spelling (math.log, np.log ...)
CALL_SPELLED = {"log", "max", "min", "exp", "sqrt"}
#: numpy's names of the operator primitives (np.multiply(u, v) is printed as written)
NUMPY_OPERATORS = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "divide",
                   "neg": "negative"}
#: builtin spellings of primitives
BUILTIN_SPELLING = {"abs": "abs", "max": "max", "min": "min", "pow": "pow", "float": "float"}

# calls whose result is piecewise constant or not a number: their derivative is 0, and
# they may be given differentiated arguments (int(x), round(x), len(xs), isinstance ...)
_CONSTANT_CALLS = {builtins.len, builtins.int, builtins.round, builtins.bool, builtins.range,
                   builtins.isinstance, builtins.str, builtins.repr, builtins.format,
                   builtins.print, builtins.id, builtins.type, builtins.hash, builtins.callable,
                   math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
                   math.factorial, math.comb, math.perm, math.gcd, math.isclose,
                   builtins.any, builtins.all, builtins.sorted, builtins.chr,
                   builtins.ord, builtins.hex, builtins.bin, builtins.oct,
                   bisect.bisect_left, bisect.bisect_right}


def rule_of_forward(obj: Any) -> str | None:
    """The name of the rule whose float forward is ``obj`` (generated code calls it).

    >>> rule_of_forward(RULES["sigmoid"].forward)
    'sigmoid'
    """
    for name, rule in RULES.items():
        if rule.forward is obj and not isinstance(obj, type):
            return name
    return None


#: the kind of the result of some constant calls (the others: a number or unknown)
_TEXT_RESULTS = {builtins.str, builtins.repr, builtins.format, builtins.hex, builtins.bin,
                 builtins.oct, builtins.chr, builtins.type, builtins.print}


def constant_call_kind(obj: Any) -> str | None:
    """``"obj"`` for calls that return text or objects, ``"num"`` for counts and flags,
    None when unknown."""
    try:
        if obj in _TEXT_RESULTS:
            return "obj"
        if obj in _CONSTANT_CALLS:
            return "num" if obj not in (builtins.range, builtins.sorted) else None
    except TypeError:
        return None
    if is_numpy_shape_query(obj):
        return "obj" if obj.__name__ == "shape" else "num"
    return None


def is_shaped_like_args(obj: Any) -> str | None:
    """Of a constant call: ``"elementwise"`` when its result broadcasts its operands
    (a numpy ufunc such as ``np.signbit``, a model's helper marked
    ``__symgrad_elementwise__``), ``"array"`` when it is an array whenever an operand is
    one (``np.argsort``), else None (``np.argmax(x)`` is one number)."""
    import sys
    np = sys.modules.get("numpy")
    if type(obj).__name__ == "ufunc" or getattr(obj, "__symgrad_elementwise__", False):
        return "elementwise"
    if np is not None and obj is getattr(np, "argsort", None):
        return "array"
    return None


def is_constant_call(obj: Any) -> bool:
    """Is ``obj`` a function whose result has derivative 0 (or is not a number)?

    >>> is_constant_call(round), is_constant_call(math.exp)
    (True, False)
    """
    try:
        if obj in _CONSTANT_CALLS or getattr(obj, "__symgrad_constant__", False):
            return True
    except TypeError:
        return False
    module = getattr(obj, "__module__", "") or ""
    return _random_draw(obj, module) or module.startswith("numpy.random") or \
        is_numpy_shape_query(obj) or _numpy_piecewise_constant(obj)


#: the functions of ``random`` whose result does not depend on their arguments'
#: values differentiably (a float in [0, 1), an int, the state)
_RANDOM_CONSTANT = {"random", "seed", "getstate", "setstate", "randint", "randrange",
                    "getrandbits", "randbytes", "binomialvariate"}


def _random_draw(obj: Any, module: str) -> bool:
    """``random.random()``, ``random.randint(a, b)`` ... (of the module or of a
    ``random.Random``): constants.  Not ``uniform(a, b)``, ``gauss(mu, s)``,
    ``choice(xs)`` or ``shuffle(xs)``: their result moves with their arguments (or they
    change them), so they are kept as calls, refused when a differentiated value goes in."""
    return is_random(obj) and getattr(obj, "__name__", "") in _RANDOM_CONSTANT


def is_random(obj: Any) -> bool:
    """Is ``obj`` a function of Python's ``random`` (the module's, or a method of a
    ``random.Random``)?  Each call changes the generator's state, so none is dropped or
    moved (``random.seed(0)`` included)."""
    import random
    owner = getattr(obj, "__self__", None)
    return (getattr(obj, "__module__", "") or "") in ("random", "_random") or isinstance(
        owner, random.Random)


#: numpy functions whose result is an index, a count or a flag (derivative 0)
_NUMPY_CONSTANT_NAMES = ("argmax", "argmin", "argsort", "argwhere", "nonzero", "flatnonzero",
                         "count_nonzero", "searchsorted", "isinf", "isfinite", "signbit",
                         "isnan", "isneginf", "isposinf", "iscomplex", "isreal",
                         "iscomplexobj", "isrealobj", "allclose", "isclose", "array_equal",
                         "array_equiv", "greater", "greater_equal", "less", "less_equal",
                         "equal", "not_equal", "logical_and", "logical_or", "logical_not",
                         "logical_xor", "any", "all")


def _numpy_piecewise_constant(obj: Any) -> bool:
    """``np.argmax``, ``np.argsort``, ``np.isfinite`` ...: constant almost everywhere."""
    import sys
    np = sys.modules.get("numpy")
    name = getattr(obj, "__name__", "")
    return np is not None and (name in _NUMPY_CONSTANT_NAMES and getattr(np, name, None) is obj
                               or obj is getattr(np.linalg, "matrix_rank", None))


def is_numpy_shape_query(obj: Any) -> bool:
    """``np.shape``, ``np.ndim``, ``np.size``: what the generated code asks of a value
    that may be a Python number (``np.broadcast_to(g, np.shape(x))``)."""
    return (getattr(obj, "__module__", "") or "").startswith("numpy") and \
        getattr(obj, "__name__", "") in ("shape", "ndim", "size")


from . import rules_scipy  # noqa: E402  (scipy.special's functions: rules of their own)
