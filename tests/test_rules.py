"""Every rule of ``RULES`` against independent references: ``sympy.diff``, SymPy's own
forward functions evaluated at 30 digits, and central finite differences.

The rules are read from the table when the tests are collected, so a new rule
is covered automatically (its sampling domain comes from ``conftest.DOMAINS``
or the default there).
"""

from __future__ import annotations

import math
import random

import pytest
import sympy
from conftest import ORDERS, at, diff, domain, sample_point, symbols

from symgrad.rules import RULES

ALL = sorted(RULES)
WITH_SYMPY = sorted(n for n, r in RULES.items() if r.sympy is not None)
POINTS = 6
# Functions that make an expression piecewise: sympy.diff of them is awkward, so those
# partials are compared with the SymPy derivative numerically, away from the kinks.
PIECEWISE = (sympy.Piecewise, sympy.Abs, sympy.floor, sympy.ceiling, sympy.sign,
             sympy.Heaviside, sympy.Max, sympy.Min)


def close(a: complex, b: complex, rel: float, abs_: float = 0.0) -> bool:
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)


def test_table_is_well_formed():
    for name, rule in RULES.items():
        assert rule.name == name
        assert rule.nargs == len(rule.partials) >= 1
        assert callable(rule.forward)


@pytest.mark.parametrize("name", WITH_SYMPY)
def test_partials_equal_sympy_diff(name):
    rule = RULES[name]
    xs = symbols(rule.nargs)
    out = rule.sympy(*xs)
    rng = random.Random(f"diff-{name}")
    points = [sample_point(name, rng) for _ in range(POINTS)]
    for i, partial in enumerate(rule.partials):
        if i in ORDERS.get(name, ()):
            continue
        mine = sympy.sympify(partial(*xs, out))
        ref = diff(out, xs[i])
        if mine.has(*PIECEWISE) or out.has(*PIECEWISE):
            for p in points:
                assert close(at(mine, xs, p), at(ref, xs, p), 1e-13, 1e-14), (name, i, p)
            continue
        residual = sympy.simplify(mine - ref)
        if residual != 0:
            # A rule may hold a float constant (1 / (x * math.log(2))): then the difference
            # with the exact derivative is zero only to rounding; check that at 30 digits.
            for p in points:
                assert close(at(mine, xs, p), at(ref, xs, p), 1e-14, 1e-15), (name, i, residual)


@pytest.mark.parametrize("name", WITH_SYMPY)
def test_forward_equals_sympy(name):
    rule = RULES[name]
    xs = symbols(rule.nargs)
    out = rule.sympy(*xs)
    rng = random.Random(f"fwd-{name}")
    for _ in range(POINTS):
        p = sample_point(name, rng)
        assert close(rule.forward(*p), at(out, xs, p), 1e-13, 1e-15), (name, p)


def central_difference(f, point, i):
    x = point[i]
    h = 1e-5 * max(1.0, abs(x))
    up = list(point)
    down = list(point)
    up[i], down[i] = x + h, x - h
    return (f(*up) - f(*down)) / (2 * h)


@pytest.mark.parametrize("name", ALL)
def test_partials_equal_finite_differences(name):
    rule = RULES[name]
    rng = random.Random(f"fd-{name}")
    for _ in range(POINTS):
        p = sample_point(name, rng)
        out = rule.forward(*p)
        for i, partial in enumerate(rule.partials):
            if i in ORDERS.get(name, ()):
                continue
            got = float(partial(*p, out))
            want = central_difference(rule.forward, p, i)
            assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-7), (name, i, p, got, want)


def test_partials_agree_on_floats_and_sympy():
    """The one lambda per partial gives the same number on floats and on SymPy numbers."""
    for name in WITH_SYMPY:
        rule = RULES[name]
        xs = symbols(rule.nargs)
        out = rule.sympy(*xs)
        p = sample_point(name, random.Random(f"both-{name}"))
        for i, partial in enumerate(rule.partials):
            if i in ORDERS.get(name, ()):
                continue
            on_floats = float(partial(*p, rule.forward(*p)))
            assert close(on_floats, at(partial(*xs, out), xs, p), 1e-12, 1e-14), (name, i)


def test_sampling_domains_are_inside_each_rules_domain():
    """The sampler itself: its points are valid inputs, well away from kinks."""
    for name in ALL:
        dom = domain(name)
        rng = random.Random(name)
        for _ in range(50):
            p = sample_point(name, rng)
            assert dom.ok(*p)
            assert math.isfinite(RULES[name].forward(*p))


# --------------------------------------------------------------------------- conventions at kinks

def partial(name, i, *inputs):
    rule = RULES[name]
    return rule.partials[i](*inputs, rule.forward(*inputs))


def test_relu_and_abs_have_derivative_zero_at_zero():
    assert partial("relu", 0, 0.0) == 0.0
    assert partial("abs", 0, 0.0) == 0.0
    assert partial("abs", 0, -0.0) == 0.0
    assert (partial("relu", 0, -1e-300), partial("relu", 0, 1e-300)) == (0.0, 1.0)
    assert (partial("abs", 0, -1e-300), partial("abs", 0, 1e-300)) == (-1.0, 1.0)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_ties_go_to_the_first_argument(name):
    for t in (-2.0, 0.0, 3.5):
        assert RULES[name].forward(t, t) == t
        assert (partial(name, 0, t, t), partial(name, 1, t, t)) == (1.0, 0.0)
    lo, hi = 1.0, 2.0
    winner = {"max": (0.0, 1.0), "min": (1.0, 0.0)}[name]
    assert (partial(name, 0, lo, hi), partial(name, 1, lo, hi)) == winner


def test_pow_exponent_derivative_at_zero_and_negative_base():
    assert partial("pow", 1, 0.0, 2.0) == 0.0
    assert partial("pow", 1, 0.0, 0.5) == 0.0
    assert math.isnan(RULES["pow"].partials[1](-2.0, 2.0, 4.0))
    # with respect to the base the ordinary power rule holds for negative bases too
    assert partial("pow", 0, -2.0, 3.0) == 3 * (-2.0) ** 2


def test_floordiv_and_mod_derivatives_everywhere_defined():
    for x, y in ((7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (6.0, 2.0)):
        assert (partial("floordiv", 0, x, y), partial("floordiv", 1, x, y)) == (0, 0)
        assert (partial("mod", 0, x, y), partial("mod", 1, x, y)) == (1, -(x // y))
        assert RULES["mod"].forward(x, y) == x - y * math.floor(x / y)


def test_select_branches_are_lazy_on_floats():
    """A partial's untaken branch is not evaluated (log of a non-positive base is never taken)."""
    assert partial("pow", 1, 0.0, 3.0) == 0.0
    assert partial("pow", 1, 2.0, 3.0) == pytest.approx(8.0 * math.log(2.0), rel=1e-15)
