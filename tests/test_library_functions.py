"""A library's function handed to symgrad directly, as JAX users write ``grad(jnp.sin)``:
``grad(math.sin)``, ``grad(np.tanh)``, ``jacobian(np.cumsum)``, ``vjp(np.gradient, x)``.
symgrad differentiates a two-line Python function that calls it (``def atan2(y, x):
return math.atan2(y, x)``, one per number of arguments), so each is exactly the rule or
model a call inside a function uses.  Before, every one was "not a Python function with
source code" (and a numpy function "wrapped by a C-implemented decorator").

Each is checked against hand-derived derivatives or central differences."""

import io
import math
import operator
import statistics
import time

import numpy as np
import pytest

import symgrad


def fd(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("f, x, df", [
    (math.sin, 0.7, math.cos), (math.exp, 0.3, math.exp), (math.log, 2.5, lambda x: 1 / x),
    (np.tanh, 0.4, lambda x: 1 - np.tanh(x) ** 2), (np.arcsinh, 0.9, lambda x: 1 / np.hypot(1, x)),
    (abs, -2.0, lambda x: -1.0), (math.sqrt, 4.0, lambda x: 0.25),
])
def test_one_argument_functions(f, x, df):
    d = symgrad.grad(f)(x)
    assert math.isclose(d, df(x), rel_tol=1e-12)
    value, d2 = symgrad.value_and_grad(f)(x)
    assert value == f(x) and d2 == d


def test_two_argument_functions_take_the_library_names():
    dy, dx = symgrad.grad(math.atan2)(0.3, 0.4)
    assert math.isclose(dy, 0.4 / 0.25) and math.isclose(dx, -0.3 / 0.25)
    src = symgrad.grad(math.atan2).for_arity(2).source
    assert "def d_atan2(y, x, d_out=1.0):" in src and "return math.atan2(y, x)" in src
    db, de = symgrad.grad(pow)(2.0, 3.0)
    assert (db, de) == (12.0, 8.0 * math.log(2.0))
    assert symgrad.grad(operator.mul)(2.0, 5.0) == (5.0, 2.0)
    assert symgrad.grad(max)(3.0, 2.0) == (1.0, 0)


def test_arrays_and_their_keywords():
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_array_equal(symgrad.grad(np.sum)(x), np.ones(3))
    np.testing.assert_allclose(symgrad.grad(np.prod)(x), [-2.0, 1.0, -0.5])
    np.testing.assert_allclose(symgrad.grad(np.linalg.norm)(x), x / np.linalg.norm(x))
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    value, (g, d_ord) = symgrad.value_and_grad(np.linalg.norm)(m, ord="fro")
    assert value == np.linalg.norm(m, ord="fro") and d_ord is None     # (a string)
    np.testing.assert_allclose(g, m / value)
    g1 = symgrad.grad(np.linalg.norm, wrt=0)(m, ord=1)                  # (max column sum)
    np.testing.assert_array_equal(g1, [[0.0, 1.0], [0.0, 1.0]])
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    da, db = symgrad.grad(np.dot)(a, b)
    np.testing.assert_array_equal(da, b)
    np.testing.assert_array_equal(db, a)
    with pytest.raises(symgrad.NonScalarError, match="returns an array"):
        symgrad.grad(np.tanh)(x)             # (an array out: jacobian or vjp, as in JAX)


def test_other_modes():
    x = np.array([1.0, 2.0, 4.0])
    np.testing.assert_array_equal(symgrad.jacobian(np.cumsum)(x), np.tril(np.ones((3, 3))))
    out, pull = symgrad.vjp(np.gradient, x ** 2)
    np.testing.assert_array_equal(out, np.gradient(x ** 2))
    ct = np.array([0.3, -1.0, 2.0])
    (back,) = pull(ct)
    jac = np.array([np.gradient(e) for e in np.eye(3)]).T     # (np.gradient is linear)
    np.testing.assert_allclose(back, jac.T @ ct)
    with pytest.raises(symgrad.SymgradError, match="returned 2 value.*np.gradient of an array"):
        symgrad.vjp(np.gradient, np.ones((3, 4)))     # (one array per axis: not modelled)
    assert symgrad.hessian(math.exp)(0.5) == pytest.approx(math.exp(0.5), rel=1e-14)
    assert symgrad.jvp(math.log, (2.0,), (3.0,)) == (math.log(2.0), 1.5)
    assert symgrad.hvp(math.sin, (0.3,), (2.0,)) == pytest.approx(-2.0 * math.sin(0.3))
    assert symgrad.check(math.sin, 0.5).ok


def test_python_library_functions_and_lists():
    xs = [1.0, 2.0, 4.0]
    assert symgrad.grad(statistics.fmean)(xs) == pytest.approx([1 / 3] * 3)
    assert symgrad.grad(sum)(xs) == [1.0, 1.0, 1.0]
    g = symgrad.grad(statistics.variance)(xs)
    assert g == pytest.approx([fd(lambda t: statistics.variance([t, 2.0, 4.0]), 1.0),
                               fd(lambda t: statistics.variance([1.0, t, 4.0]), 2.0),
                               fd(lambda t: statistics.variance([1.0, 2.0, t]), 4.0)],
                              rel=1e-7)


def test_scipy_functions():
    special = pytest.importorskip("scipy.special")
    assert symgrad.grad(special.gammaln)(2.5) == pytest.approx(special.digamma(2.5),
                                                               rel=1e-14)
    x = np.array([0.1, 0.5, 2.0])
    np.testing.assert_allclose(symgrad.grad(special.logsumexp)(x), special.softmax(x))
    dx = symgrad.grad(special.jv, wrt=1)(2.0, 1.5)
    assert dx == pytest.approx(fd(lambda t: special.jv(2.0, t), 1.5), rel=1e-8)
    with pytest.raises(symgrad.NonDifferentiableError, match="the order"):
        symgrad.grad(special.jv)(2.0, 1.5)
    stats = pytest.importorskip("scipy.stats")
    x, mu, s = 0.3, 0.1, 2.0                     # (a method of a distribution)
    assert symgrad.grad(stats.norm.logpdf)(x, mu, s) == pytest.approx(
        (-(x - mu) / s ** 2, (x - mu) / s ** 2, -1 / s + (x - mu) ** 2 / s ** 3), rel=1e-14)
    assert "stats.norm.logpdf(x0, x1, x2):" in symgrad.grad(stats.norm.logpdf).for_arity(3).source
    xs = np.array([0.2, 0.5, 1.5])
    da = symgrad.grad(lambda a: np.sum(stats.gamma.logpdf(xs, a)))(2.0)
    assert da == pytest.approx(fd(lambda a: np.sum(stats.gamma.logpdf(xs, a)), 2.0), rel=1e-7)


def test_show_prints_the_call():
    """show of a library function prints the gradient for its usual number of
    arguments (a ufunc's inputs, the parameters without defaults)."""
    for f, want in ((np.tanh, ["np.tanh(x)", "d_x = d_out * (1.0 - "]),
                    (math.atan2, ["def d_atan2(y, x, d_out=1.0):", "return math.atan2(y, x)"]),
                    (np.sum, ["def d_sum(a, d_out=1.0):"])):
        out = io.StringIO()
        symgrad.show(f, file=out)
        for text in want:
            assert text in out.getvalue(), (f, out.getvalue())



def test_a_callable_from_elsewhere_keeps_its_clear_error():
    """A callable from a module symgrad does not know is refused as before."""
    with pytest.raises(symgrad.SourceError, match="not a Python function with source"):
        symgrad.grad(time.monotonic)()
    assert symgrad.grad(len)([1.0, 2.0]) == [0.0, 0.0]    # (a count: piecewise constant)


def _known(module, test):
    from symgrad.rules import lookup_callable
    return sorted(n for n in dir(module) if test(getattr(module, n))
                  and lookup_callable(getattr(module, n)) is not None)


MATH = _known(math, callable)
UFUNCS = _known(np, lambda f: isinstance(f, np.ufunc))


@pytest.mark.parametrize("module, name", [(math, n) for n in MATH] + [(np, n) for n in UFUNCS])
def test_every_function_with_a_rule_handed_directly(module, name):
    """Every ``math`` function and numpy ufunc symgrad has a rule for, handed over
    directly, gives its rule's partials at a point of the rule's domain (conftest's
    sampling) to the last bit, and agrees with central differences."""
    import random

    from conftest import ORDERS, sample_point
    from symgrad.rules import RULES, lookup_callable
    fn = getattr(module, name)
    rule = RULES[lookup_callable(fn).rule]
    point = sample_point(rule.name, random.Random(f"direct-{module.__name__}.{name}"))
    point = tuple(float(v) for v in point)
    got = symgrad.grad(fn)(*point)
    got = got if isinstance(got, tuple) else (got,)
    out = rule.forward(*point)
    for i, p in enumerate(point):
        if i in ORDERS.get(rule.name, ()):
            continue
        want = float(rule.partials[i](*point, out))
        assert math.isclose(float(got[i]), want, rel_tol=1e-12, abs_tol=1e-15), (name, i)
        up, down = list(point), list(point)
        h = 1e-6 * max(1.0, abs(p))
        up[i] += h
        down[i] -= h
        diff = (float(fn(*up)) - float(fn(*down))) / (2 * h)
        assert math.isclose(float(got[i]), diff, rel_tol=1e-5, abs_tol=1e-6), (name, i)
