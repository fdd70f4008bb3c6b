"""Shared test helpers.

The tests directory is put on ``sys.path`` so test modules can import helpers
that live beside them (``cases``, ``numeric``, and the names below).

``DOMAINS[name]`` gives, per argument of rule ``name``, the intervals to draw
from, and ``ok``: "the point is a safe distance from every kink, jump or
singularity".  A rule missing from the table (one registered later) gets every
argument in (0.3, 0.9), inside the domain of nearly every elementary function.
``symbols``, ``diff`` and ``at`` (evaluate a SymPy expression at a point with 30
significant digits) serve the SymPy references.
"""

from __future__ import annotations

import math
import os
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

sys.path.insert(0, os.path.dirname(__file__))

from symgrad.rules import RULES

Interval = tuple[float, float]


@dataclass(frozen=True)
class Domain:
    args: tuple[tuple[Interval, ...], ...]  # per argument: a union of open intervals
    ok: Callable[..., bool] = lambda *a: True


def _frac_ok(x: float, y: float, margin: float = 0.05) -> bool:
    """``x / y`` at least ``margin`` away from an integer (x // y and x % y jump there)."""
    q = x / y
    return min(q - math.floor(q), math.ceil(q) - q) > margin


R = ((-3.0, 3.0),)
NONZERO = ((-3.0, -0.4), (0.4, 3.0))
POS = ((0.1, 4.0),)
UNIT = ((-0.9, 0.9),)

DOMAINS: dict[str, Domain] = {
    **{n: Domain((R, R)) for n in ("add", "sub", "mul")},
    "truediv": Domain((R, NONZERO)),
    "neg": Domain((R,)),
    "pow": Domain((((0.2, 3.0),), ((-2.0, 2.0),))),
    "floordiv": Domain((R, NONZERO), _frac_ok),
    "mod": Domain((R, NONZERO), _frac_ok),
    "fmod": Domain((R, NONZERO), _frac_ok),
    **{n: Domain((R,)) for n in ("exp", "expm1", "sin", "cos", "atan", "sinh", "cosh", "tanh",
                                  "asinh", "erf", "sigmoid")},
    **{n: Domain((POS,)) for n in ("log", "log2", "log10", "sqrt")},
    "log1p": Domain((((-0.9, 3.0),),)),
    "tan": Domain((((-1.3, 1.3),),)),
    **{n: Domain((UNIT,)) for n in ("asin", "acos", "atanh")},
    "acosh": Domain((((1.1, 4.0),),)),
    # atan2(y, x) jumps across the negative x axis and is singular at the origin
    "atan2": Domain((R, R), lambda y, x: math.hypot(x, y) > 0.3 and not (x < 0 and abs(y) < 0.1)),
    "hypot": Domain((R, R), lambda x, y: math.hypot(x, y) > 0.3),
    "relu": Domain((R,), lambda x: abs(x) > 0.05),
    "abs": Domain((R,), lambda x: abs(x) > 0.05),
    "max": Domain((R, R), lambda a, b: abs(a - b) > 0.05),
    "min": Domain((R, R), lambda a, b: abs(a - b) > 0.05),
    # polygamma(n, x): n a whole order (see ORDERS); lgamma and gamma away from their poles
    "polygamma": Domain((((0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0)),
                         ((0.2, 6.0), (-2.8, -2.2), (-0.8, -0.2)))),
    **{n: Domain((((0.2, 6.0), (-2.8, -2.2), (-0.8, -0.2)),)) for n in ("lgamma", "gamma")},
    # scipy.special's (symgrad.rules_scipy): over their domains, past the unit interval
    "digamma": Domain((((0.2, 6.0), (-2.8, -2.2), (-0.8, -0.2)),)),
    "logit": Domain((((0.02, 0.98),),)),
    "ndtri": Domain((((0.02, 0.98),),)),
    "erfinv": Domain((((-0.95, 0.95),),)),
    "erfcinv": Domain((((0.05, 1.95),),)),
    **{n: Domain((R,)) for n in ("ndtr", "log_ndtr")},
    "xlogy": Domain((R, POS)),
    "xlog1py": Domain((R, ((-0.8, 3.0),))),
    "poch": Domain((POS, ((0.1, 2.0),))),
    **{n: Domain((POS, POS)) for n in ("rel_entr", "kl_div", "beta", "betaln")},
    "entr": Domain((POS,)),
    **{n: Domain((R,), lambda x: abs(x) > 0.05) for n in ("i0", "i1")},
    **{n: Domain((((-6.0, 6.0),),), lambda x: abs(x) > 0.05) for n in ("j0", "j1")},
    "rgamma": Domain((((0.2, 6.0), (-2.8, -2.2), (-0.8, -0.2)),)),
    **{n: Domain((((0.3, 6.0),),)) for n in ("y0", "y1", "k0", "k1", "k0e", "k1e")},
    **{n: Domain((R,), lambda x: abs(x) > 0.05) for n in ("i0e", "i1e", "erfcx")},
    # Bessel functions of any real order (not differentiated: see ORDERS) at x > 0
    **{n: Domain((((0.0, 3.0),), ((0.3, 6.0),))) for n in ("jv", "yv", "iv", "kv", "kve")},
    "ive": Domain((((0.0, 3.0),), ((0.3, 6.0),))),
    **{n: Domain((((0.5, 4.0),), ((0.2, 5.0),))) for n in ("gammainc", "gammaincc")},
    "betainc": Domain((((0.5, 4.0),), ((0.5, 4.0),), ((0.05, 0.95),))),
}

#: arguments not differentiated: whole orders (their partial is 0 by convention) and the
#: arguments a rule refuses to differentiate (``symgrad.rules.no_derivative``)
# arguments whose partial is not the derivative of the forward: an order or shape symgrad
# does not differentiate, and stop_gradient's (0 by definition; its forward is x)
ORDERS: dict[str, set[int]] = {"polygamma": {0}, "stop_gradient": {0},
                               **{n: set(r.refused) for n, r in RULES.items() if r.refused}}


def domain(name: str) -> Domain:
    """The sampling domain of rule ``name`` (the default one for a rule not in the table)."""
    return DOMAINS.get(name) or Domain((((0.3, 0.9),),) * RULES[name].nargs)


def sample_point(name: str, rng: random.Random) -> tuple[float, ...]:
    """A random point of the domain of rule ``name``, a safe distance from kinks."""
    dom = domain(name)
    for _ in range(10_000):
        point = tuple(rng.uniform(*rng.choice(intervals)) for intervals in dom.args)
        if dom.ok(*point):
            return point
    raise AssertionError(f"could not sample a point for rule {name!r}")


def symbols(n: int) -> tuple[sympy.Symbol, ...]:
    """``n`` real SymPy symbols ``x0, x1, ...``."""
    return sympy.symbols(" ".join(f"x{i}" for i in range(n)), real=True, seq=True)


class Floor0(sympy.Function):
    """``floor`` whose derivative is 0: true wherever floor is continuous, which is
    everywhere the tests evaluate.  (``sympy.diff`` leaves ``Derivative(floor(u), u)``.)"""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> Any:
        return sympy.S.Zero

    @classmethod
    def eval(cls, arg: Any) -> Any:
        if arg.is_Number:
            return sympy.floor(arg)
        return None


def diff(expr: Any, s: sympy.Symbol) -> Any:
    """``sympy.diff(expr, s)``, with the derivative of ``floor`` taken as 0."""
    return sympy.diff(sympy.sympify(expr).replace(sympy.floor, Floor0), s)


def at(expr: Any, syms: Sequence[sympy.Symbol], point: Sequence[float]) -> complex:
    """``expr`` at ``point``, evaluated with mpmath at 30 significant digits."""
    f = sympy.lambdify(list(syms), expr, modules=[{"Floor0": mpmath.floor}, "mpmath"])
    with mpmath.workdps(30):
        return complex(f(*[mpmath.mpf(p) for p in point]))
