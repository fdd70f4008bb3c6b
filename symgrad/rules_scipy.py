"""Rules for ``scipy.special``'s functions: each is a primitive like ``exp`` (its float
forward, its partials, its SymPy form), which generated code calls as SciPy's own
function on numbers and arrays alike (``special.gammaln(x)``: the value is SciPy's).

Some are already primitives under the name ``math`` gives them (``gammaln`` is
``lgamma``, ``expit`` is ``sigmoid``); the others are added here.  SciPy is needed only
where a function calls them: nothing here imports it.

>>> round(RULES["ndtr"].forward(0.0), 12)
0.5
>>> round(RULES["logit"].partials[0](0.5, 0.0), 12)
4.0
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from typing import Any

from . import rules
from .rules import (RULES, _generic, _polygamma, _rule, _sympy, cos, eq, exp, log, log1p, lt,
                    no_derivative, polygamma, select, sin)

__all__ = ["register", "SCIPY_SPECIAL"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _xlogy(x: float, y: float) -> float:
    """x * log(y), 0 where x is 0 (y not NaN), as ``scipy.special.xlogy``."""
    return 0.0 if x == 0 and y == y else x * math.log(y)


def _ndtr(x: float) -> float:
    """The standard normal distribution function."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _log_ndtr(x: float) -> float:
    return math.log(_ndtr(x))


def _ndtri(p: float) -> float:
    """The inverse of :func:`_ndtr`."""
    return statistics.NormalDist().inv_cdf(p)


def _erfinv(y: float) -> float:
    return statistics.NormalDist().inv_cdf((y + 1.0) / 2.0) / math.sqrt(2.0)


def _entr(x: float) -> float:
    """-x log x (0 at 0, -inf below), as ``scipy.special.entr``."""
    return -x * math.log(x) if x > 0 else 0.0 if x == 0 else -math.inf


def _betaln(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _beta(a: float, b: float) -> float:
    return math.gamma(a) * math.gamma(b) / math.gamma(a + b)


def _bessel_i(order: int, x: float) -> float:
    """The modified Bessel function I0 or I1 by its series (positive terms: accurate to
    a few ulps wherever it is finite; SciPy's own is what generated code calls)."""
    half, total, k = x / 2.0, 0.0, 0
    term = 1.0 if order == 0 else half
    while True:
        total += term
        k += 1
        term *= half * half / (k * (k + order))
        if abs(term) <= abs(total) * 1e-17 or term == 0.0:
            return total


def _bessel_j(order: int, x: float) -> float:
    """The Bessel function J0 or J1 by its series (alternating: accurate to about 1e-13
    for |x| up to 10; SciPy's own is what generated code calls)."""
    half, total, k = x / 2.0, 0.0, 0
    term = 1.0 if order == 0 else half
    while True:
        total += term
        k += 1
        term *= -half * half / (k * (k + order))
        if abs(term) <= 1e-17 * max(abs(total), 1e-300) or term == 0.0:
            return total


def _rgamma(x: float) -> float:
    """1 / gamma(x): 0 at the poles of gamma."""
    return 0.0 if x <= 0 and x == math.floor(x) else 1.0 / math.gamma(x)


def _rel_entr(x: float, y: float) -> float:
    if x > 0 and y > 0:
        return x * math.log(x / y)
    return 0.0 if x == 0 and y >= 0 else math.inf


def _poch(z: float, m: float) -> float:
    """gamma(z + m) / gamma(z), through logarithms where both are positive."""
    if z > 0 and z + m > 0:
        return math.exp(math.lgamma(z + m) - math.lgamma(z))
    return math.gamma(z + m) / math.gamma(z)


def _mp(name: str, scale: Any = None) -> Any:
    """A float forward by mpmath's ``name`` (SymPy's own arbitrary-precision library:
    there whether SciPy is or not; SciPy's own is what generated code calls), times
    ``scale(x)`` of the last argument (``exp(-abs(x))`` for SciPy's scaled functions).
    NaN where the value is not real, as SciPy gives it."""
    def forward(*args: float, **options: Any) -> float:
        import mpmath
        value = getattr(mpmath, name)(*args, **options)
        if scale is not None:
            value *= scale(mpmath, mpmath.mpf(args[-1]))
        value = complex(value)
        return value.real if value.imag == 0 else math.nan
    forward.__name__ = name
    return forward


def _exp_minus_abs(mp: Any, x: Any) -> Any:
    return mp.exp(-abs(x))


def _exp_plus(mp: Any, x: Any) -> Any:
    return mp.exp(x)


def _exp_square(mp: Any, x: Any) -> Any:
    return mp.exp(x * x)


def _sympy_ndtr(x: Any) -> Any:
    import sympy
    return (1 + sympy.erf(x / sympy.sqrt(2))) / 2


_rule("digamma", 1, lambda x: _polygamma(0, x), lambda x, out: polygamma(1, x),
      sympy=lambda x: _sympy("polygamma")(0, x), doc="digamma(x), the derivative of lgamma")
_rule("logit", 1, _logit, lambda p, out: 1.0 / (p * (1.0 - p)),
      sympy=lambda p: _sympy("log")(p / (1 - p)), doc="log(p / (1 - p))")
_rule("xlogy", 2, _xlogy, lambda x, y, out: log(y), lambda x, y, out: x / y,
      sympy=lambda x, y: x * _sympy("log")(y), doc="x * log(y), 0 where x is 0")
_rule("ndtr", 1, _ndtr, lambda x, out: exp(-0.5 * x * x) / _SQRT_2PI, sympy=_sympy_ndtr,
      doc="the standard normal distribution function")
_rule("log_ndtr", 1, _log_ndtr, lambda x, out: exp(-0.5 * x * x - out) / _SQRT_2PI,
      sympy=lambda x: _sympy("log")(_sympy_ndtr(x)), doc="log ndtr(x), accurate far left")
_rule("ndtri", 1, _ndtri, lambda p, out: _SQRT_2PI * exp(0.5 * out * out),
      sympy=lambda p: _sympy("sqrt")(2) * _sympy("erfinv")(2 * p - 1),
      doc="the inverse of ndtr")
_rule("erfinv", 1, _erfinv, lambda y, out: math.sqrt(math.pi) / 2.0 * exp(out * out),
      sympy=_sympy("erfinv"), doc="the inverse of erf")
_rule("entr", 1, _entr, lambda x, out: -(log(x) + 1.0),
      sympy=lambda x: -x * _sympy("log")(x), doc="-x log x")
_rule("rel_entr", 2, _rel_entr, lambda x, y, out: log(x / y) + 1.0, lambda x, y, out: -x / y,
      sympy=lambda x, y: x * _sympy("log")(x / y), doc="x log(x / y)")
_rule("kl_div", 2, lambda x, y: _rel_entr(x, y) - x + y, lambda x, y, out: log(x / y),
      lambda x, y, out: 1.0 - x / y, sympy=lambda x, y: x * _sympy("log")(x / y) - x + y,
      doc="x log(x / y) - x + y")
_rule("xlog1py", 2, lambda x, y: 0.0 if x == 0 and y == y else x * math.log1p(y),
      lambda x, y, out: log1p(y), lambda x, y, out: x / (1.0 + y),
      sympy=lambda x, y: x * _sympy("log")(1 + y), doc="x * log1p(y), 0 where x is 0")
_rule("poch", 2, _poch,
      lambda z, m, out: out * (polygamma(0, z + m) - polygamma(0, z)),
      lambda z, m, out: out * polygamma(0, z + m),
      sympy=lambda z, m: _sympy("gamma")(z + m) / _sympy("gamma")(z),
      doc="the rising factorial gamma(z + m) / gamma(z)")
_rule("erfcinv", 1, lambda y: _erfinv(1.0 - y),
      lambda y, out: -math.sqrt(math.pi) / 2.0 * exp(out * out),
      sympy=lambda y: _sympy("erfinv")(1 - y), doc="the inverse of erfc")
_rule("betaln", 2, _betaln, lambda a, b, out: polygamma(0, a) - polygamma(0, a + b),
      lambda a, b, out: polygamma(0, b) - polygamma(0, a + b),
      sympy=lambda a, b: _sympy("log")(_sympy("beta")(a, b)), doc="log |B(a, b)|")
_rule("beta", 2, _beta, lambda a, b, out: out * (polygamma(0, a) - polygamma(0, a + b)),
      lambda a, b, out: out * (polygamma(0, b) - polygamma(0, a + b)),
      sympy=_sympy("beta"), doc="the beta function B(a, b)")
_rule("i0", 1, lambda x: _bessel_i(0, x), lambda x, out: i1(x),
      sympy=lambda x: _sympy("besseli")(0, x), doc="the modified Bessel function I0")
_rule("i1", 1, lambda x: _bessel_i(1, x),
      lambda x, out: select(eq(x, 0.0), 0.5, lambda: i0(x) - out / x),
      sympy=lambda x: _sympy("besseli")(1, x), doc="the modified Bessel function I1")
_rule("j0", 1, lambda x: _bessel_j(0, x), lambda x, out: -j1(x),
      sympy=lambda x: _sympy("besselj")(0, x), doc="the Bessel function J0")
_rule("j1", 1, lambda x: _bessel_j(1, x),
      lambda x, out: select(eq(x, 0.0), 0.5, lambda: j0(x) - out / x),
      sympy=lambda x: _sympy("besselj")(1, x), doc="the Bessel function J1")
_rule("rgamma", 1, _rgamma,     # (below 1/2 by the reflection 1/gamma(x) = sin(pi x)
      lambda x, out: select(lt(x, 0.5),  # gamma(1 - x) / pi: no pole, smooth at gamma's)
                            lambda: gamma(1.0 - x) * (cos(math.pi * x) - sin(math.pi * x)
                                                      * polygamma(0, 1.0 - x) / math.pi),
                            lambda: -out * polygamma(0, x)),
      sympy=lambda x: 1 / _sympy("gamma")(x), doc="1 / gamma(x)")
_ORDER = "the order"
_J, _Y, _I, _K = _mp("besselj"), _mp("bessely"), _mp("besseli"), _mp("besselk")
_IE, _KE = _mp("besseli", _exp_minus_abs), _mp("besselk", _exp_plus)
_GAMMAINC, _BETAINC, _ERFCX = _mp("gammainc"), _mp("betainc"), _mp("erfc", _exp_square)
_rule("y0", 1, lambda x: _Y(0, x), lambda x, out: -y1(x),
      sympy=lambda x: _sympy("bessely")(0, x), doc="the Bessel function of the second kind Y0")
_rule("y1", 1, lambda x: _Y(1, x), lambda x, out: y0(x) - out / x,
      sympy=lambda x: _sympy("bessely")(1, x), doc="the Bessel function of the second kind Y1")
_rule("k0", 1, lambda x: _K(0, x), lambda x, out: -k1(x),
      sympy=lambda x: _sympy("besselk")(0, x), doc="the modified Bessel function K0")
_rule("k1", 1, lambda x: _K(1, x), lambda x, out: -k0(x) - out / x,
      sympy=lambda x: _sympy("besselk")(1, x), doc="the modified Bessel function K1")
_rule("i0e", 1, lambda x: _IE(0, x),
      lambda x, out: select(lt(x, 0.0), lambda: i1e(x) + out, lambda: i1e(x) - out),
      sympy=lambda x: _sympy("besseli")(0, x) * _sympy("exp")(-_sympy("Abs")(x)),
      doc="i0(x) * exp(-|x|)")
_rule("i1e", 1, lambda x: _IE(1, x),
      lambda x, out: select(eq(x, 0.0), 0.5, lambda: select(
          lt(x, 0.0), lambda: i0e(x) - out / x + out, lambda: i0e(x) - out / x - out)),
      sympy=lambda x: _sympy("besseli")(1, x) * _sympy("exp")(-_sympy("Abs")(x)),
      doc="i1(x) * exp(-|x|)")
_rule("k0e", 1, lambda x: _KE(0, x), lambda x, out: out - k1e(x),
      sympy=lambda x: _sympy("besselk")(0, x) * _sympy("exp")(x), doc="k0(x) * exp(x)")
_rule("k1e", 1, lambda x: _KE(1, x),
      lambda x, out: out - k0e(x) - out / x,
      sympy=lambda x: _sympy("besselk")(1, x) * _sympy("exp")(x), doc="k1(x) * exp(x)")
_rule("jv", 2, _J, no_derivative(_ORDER),
      lambda v, x, out: (jv(v - 1.0, x) - jv(v + 1.0, x)) * 0.5, sympy=_sympy("besselj"),
      doc="the Bessel function of the first kind of order v (jn: a whole order)")
_rule("yv", 2, _Y, no_derivative(_ORDER),
      lambda v, x, out: (yv(v - 1.0, x) - yv(v + 1.0, x)) * 0.5, sympy=_sympy("bessely"),
      doc="the Bessel function of the second kind of order v (yn: a whole order)")
_rule("iv", 2, _I, no_derivative(_ORDER),
      lambda v, x, out: (iv(v - 1.0, x) + iv(v + 1.0, x)) * 0.5, sympy=_sympy("besseli"),
      doc="the modified Bessel function of the first kind of order v")
_rule("kv", 2, _K, no_derivative(_ORDER),
      lambda v, x, out: -(kv(v - 1.0, x) + kv(v + 1.0, x)) * 0.5, sympy=_sympy("besselk"),
      doc="the modified Bessel function of the second kind of order v (kn: a whole order)")
_rule("ive", 2, _IE, no_derivative(_ORDER),
      lambda v, x, out: (ive(v - 1.0, x) + ive(v + 1.0, x)) * 0.5 + select(
          lt(x, 0.0), lambda: out, lambda: -out),
      sympy=lambda v, x: _sympy("besseli")(v, x) * _sympy("exp")(-_sympy("Abs")(x)),
      doc="iv(v, x) * exp(-|x|)")
_rule("kve", 2, _KE, no_derivative(_ORDER),
      lambda v, x, out: out - (kve(v - 1.0, x) + kve(v + 1.0, x)) * 0.5,
      sympy=lambda v, x: _sympy("besselk")(v, x) * _sympy("exp")(x), doc="kv(v, x) * exp(x)")
_rule("gammainc", 2, lambda a, x: _GAMMAINC(a, 0, x, regularized=True),
      no_derivative("the shape a"),
      lambda a, x, out: exp((a - 1.0) * log(x) - x - gammaln(a)),
      sympy=lambda a, x: _sympy("lowergamma")(a, x) / _sympy("gamma")(a),
      doc="the regularized lower incomplete gamma function P(a, x)")
_rule("gammaincc", 2, lambda a, x: _GAMMAINC(a, x, math.inf, regularized=True),
      no_derivative("the shape a"),
      lambda a, x, out: -exp((a - 1.0) * log(x) - x - gammaln(a)),
      sympy=lambda a, x: _sympy("uppergamma")(a, x) / _sympy("gamma")(a),
      doc="the regularized upper incomplete gamma function Q(a, x)")
_rule("betainc", 3, lambda a, b, x: _BETAINC(a, b, 0, x, regularized=True),
      no_derivative("the shape a"), no_derivative("the shape b"),
      lambda a, b, x, out: exp((a - 1.0) * log(x) + (b - 1.0) * log1p(-x) - betaln(a, b)),
      sympy=lambda a, b, x: _sympy("betainc")(a, b, 0, x) / _sympy("beta")(a, b),
      doc="the regularized incomplete beta function I_x(a, b)")
_rule("erfcx", 1, _ERFCX,
      lambda x, out: 2.0 * x * out - 2.0 / math.sqrt(math.pi),
      sympy=lambda x: _sympy("exp")(x * x) * _sympy("erfc")(x), doc="exp(x**2) * erfc(x)")
_rule("log_expit", 1, lambda x: -math.log1p(math.exp(-x)) if x >= 0 else
      x - math.log1p(math.exp(x)), lambda x, out: -rules.expm1(out),
      sympy=lambda x: -_sympy("log")(1 + _sympy("exp")(-x)),
      doc="log(expit(x)) = -log1p(exp(-x)); derivative expit(-x) = -expm1(out)")
gamma = _generic("gamma", "The gamma function on any kind of number.")
j0 = _generic("j0", "The Bessel function J0 on any kind of number.")
j1 = _generic("j1", "The Bessel function J1 on any kind of number.")
i0 = _generic("i0", "The modified Bessel function I0 on any kind of number.")
i1 = _generic("i1", "The modified Bessel function I1 on any kind of number.")
gammaln = _generic("lgamma", "log |gamma(x)| on any kind of number.")
betaln = _generic("betaln", "log |B(a, b)| on any kind of number.")
y0, y1, k0, k1, i0e, i1e, k0e, k1e, jv, yv, iv, kv, ive, kve = (
    _generic(_n, f"scipy.special.{_n} on any kind of number.")
    for _n in ("y0", "y1", "k0", "k1", "i0e", "i1e", "k0e", "k1e", "jv", "yv", "iv", "kv",
               "ive", "kve"))

#: scipy.special's name -> the rule it calls (several names may share one rule)
SCIPY_SPECIAL = {"gammaln": "lgamma", "gamma": "gamma", "erf": "erf", "erfc": "erfc",
                 "polygamma": "polygamma", "expit": "sigmoid", "digamma": "digamma",
                 "psi": "digamma", "logit": "logit", "xlogy": "xlogy", "ndtr": "ndtr",
                 "log_ndtr": "log_ndtr", "ndtri": "ndtri", "erfinv": "erfinv", "entr": "entr",
                 "rel_entr": "rel_entr", "kl_div": "kl_div", "erfcinv": "erfcinv",
                 "betaln": "betaln", "beta": "beta", "i0": "i0", "i1": "i1",
                 "xlog1py": "xlog1py", "poch": "poch", "j0": "j0", "j1": "j1",
                 "rgamma": "rgamma", "y0": "y0", "y1": "y1", "k0": "k0", "k1": "k1",
                 "i0e": "i0e", "i1e": "i1e", "k0e": "k0e", "k1e": "k1e", "jv": "jv",
                 "jn": "jv", "yv": "yv", "yn": "yv", "iv": "iv", "kv": "kv", "kn": "kv",
                 "ive": "ive", "kve": "kve", "gammainc": "gammainc", "gammaincc": "gammaincc",
                 "betainc": "betainc", "erfcx": "erfcx", "log_expit": "log_expit"}
for _name, _rule_name in SCIPY_SPECIAL.items():      # (the first name is the one printed)
    if RULES[_rule_name].scipy_name is None:
        RULES[_rule_name] = dataclasses.replace(RULES[_rule_name], scipy_name=_name)

registered = False


def register() -> None:
    """scipy.special's functions, once it is imported: each calls its rule, spelled as
    numpy's functions are (on numbers and arrays, as the library computes them)."""
    global registered
    registered = True
    import sys
    special = sys.modules.get("scipy.special")
    for name, rule in SCIPY_SPECIAL.items():
        fn = getattr(special, name, None)
        if fn is not None:
            rules._CALLABLES.setdefault(rules._key(fn), rules.CallInfo(rule, "numpy"))
    rules._CONSTANT_CALLS.add(special.gammasgn)       # (a sign: derivative 0)
