"""A list of numbers made in the function and handed to numpy (``np.sum([a, b * c])``,
``np.mean([f(v) for v in xs])``, ``np.array(ys)`` of a list built by ``append``): numpy
makes an array of it, and the gradient flows back into the list's elements.  Checked
against central differences and, for second order, differences of the gradient."""

import math

import numpy as np
import pytest

import symgrad
from symgrad.errors import SymgradError

H = 1e-6


def literal_list(a):
    b = [1.0, a * a, 2.0]
    return np.sum(b) * np.max(b)


def comprehension(xs, w):
    return np.mean([math.sin(v * w) for v in xs]) + np.prod([v + 1.0 for v in xs])


def appended(xs, w):
    ys = []
    for v in xs:
        ys.append(np.tanh(v * w))
    arr = np.array(ys)
    return np.mean(arr ** 2) + np.max(ys) + np.dot(ys, arr)


def elementwise_of_a_list(xs, w):
    return np.sum(np.exp([w * v for v in xs]))


def fd_all(f, args):
    out = []
    for i, a in enumerate(args):
        if isinstance(a, list):
            g = []
            for k in range(len(a)):
                up = [list(x) if isinstance(x, list) else x for x in args]
                dn = [list(x) if isinstance(x, list) else x for x in args]
                up[i][k] += H
                dn[i][k] -= H
                g.append((f(*up) - f(*dn)) / (2 * H))
            out.append(g)
        else:
            up, dn = list(args), list(args)
            up[i] += H
            dn[i] -= H
            out.append((f(*up) - f(*dn)) / (2 * H))
    return out


CASES = [(literal_list, (0.7,)), (comprehension, ([0.2, 0.5, -0.3], 1.5)),
         (appended, ([0.2, 0.5, -0.3], 1.5)), (elementwise_of_a_list, ([0.4, -0.1], 0.8))]


@pytest.mark.parametrize("f,args", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient(f, args):
    wrt = list(range(len(args)))
    value, g = symgrad.value_and_grad(f, wrt=wrt)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    g = g if len(args) > 1 else (g,)
    for got, want in zip(g, fd_all(f, args)):
        np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("f,args", CASES[1:], ids=[c[0].__name__ for c in CASES[1:]])
def test_hvp(f, args):
    xs, w = args
    v, t = [1.0, -0.5, 0.5][:len(xs)], 0.3
    got = symgrad.hvp(f, (list(xs), w), (v, t))
    g = symgrad.grad(f, wrt=[0, 1])
    h = 1e-5
    up = g([a + h * b for a, b in zip(xs, v)], w + h * t)
    dn = g([a - h * b for a, b in zip(xs, v)], w - h * t)
    np.testing.assert_allclose(np.asarray(got[0], dtype=float),
                               (np.asarray(up[0]) - np.asarray(dn[0])) / (2 * h), rtol=1e-5)
    assert float(got[1]) == pytest.approx((up[1] - dn[1]) / (2 * h), rel=1e-5)


def nested(a):
    return np.sum([[a, 2.0 * a], [1.0, a * a]])


def test_a_list_of_lists_is_still_refused():
    with pytest.raises(SymgradError) as info:
        symgrad.grad(nested)(0.5)
    assert "hint:" in str(info.value)


def exp_of_nested(a):
    return np.sum(np.exp([[a, 2.0 * a], [1.0, a * a]]))


def test_an_elementwise_function_of_a_list_of_lists_is_refused():
    with pytest.raises(SymgradError) as info:
        symgrad.grad(exp_of_nested)(0.5)
    assert "hint:" in str(info.value)


# ------------------------------------------------------------------ lists of arrays
# A comprehension over an array's elements (numpy scalars) or rows (arrays), or rows
# appended in a loop, handed to numpy: np.array of the list stacks the elements, and
# each element's adjoint is its row of the array's adjoint.

def over_elements(x):
    return np.sum(np.exp([v * v for v in x])) + np.mean([np.sin(v) for v in x])


def over_rows(m, w):
    rows = np.array([np.tanh(r) * r + w for r in m])
    return np.sum(rows * rows) + np.mean([np.dot(r, w) ** 2 for r in m])


def rows_used_three_ways(m):
    xs = [r * 2.0 for r in m]
    return np.sum(np.array(xs) ** 2) + np.sum(xs[0] * xs[1]) + np.mean(xs)


def rows_alias_the_argument(m):
    xs = [r for r in m]          # the rows of m themselves (views), one of them twice
    xs.append(m[0])
    return np.sum(np.array(xs) * np.array(xs)) + np.sum(xs[1])


def rows_appended_in_branches(m, w):
    xs = []
    for r in m:
        if np.sum(r) > 1.5:
            xs.append(np.dot(r, w) * r)
        else:
            xs.append(-r)
    return np.sum(np.array(xs) ** 3) + np.max(xs[0])


def fd_arrays(f, args, h=1e-6):
    out = []
    for i, a in enumerate(args):
        x = np.array(a, dtype=float)
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            up, dn = x.copy(), x.copy()
            up[idx] += h
            dn[idx] -= h
            g[idx] = (f(*args[:i], up, *args[i + 1:]) - f(*args[:i], dn, *args[i + 1:])) / (2 * h)
        out.append(g)
    return out


_RNG = np.random.default_rng(11)
_M = _RNG.uniform(0.1, 0.9, size=(3, 4))
_W = _RNG.uniform(0.2, 1.0, size=4)
ARRAY_CASES = [(over_elements, (_RNG.uniform(0.2, 0.9, size=5),)), (over_rows, (_M, _W)),
               (rows_used_three_ways, (_M,)), (rows_alias_the_argument, (_M,)),
               (rows_appended_in_branches, (_M, _W))]


@pytest.mark.parametrize("f,args", ARRAY_CASES, ids=[c[0].__name__ for c in ARRAY_CASES])
def test_lists_of_arrays_gradient(f, args):
    before = [a.copy() for a in args]
    value, g = symgrad.value_and_grad(f, wrt=list(range(len(args))))(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    assert len(g) == len(args)
    for got, want, a in zip(g, fd_arrays(f, args), args):
        assert np.shape(got) == np.shape(a)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)        # the arguments are not changed
    assert symgrad.check(f, *args).ok              # and the Value engine agrees


@pytest.mark.parametrize("f,args", ARRAY_CASES, ids=[c[0].__name__ for c in ARRAY_CASES])
def test_lists_of_arrays_jvp_and_hvp(f, args):
    rng = np.random.default_rng(5)
    t = tuple(rng.normal(size=np.shape(a)) for a in args)
    h = 1e-6
    value, slope = symgrad.jvp(f, args, t)
    up = f(*(a + h * d for a, d in zip(args, t)))
    dn = f(*(a - h * d for a, d in zip(args, t)))
    assert value == pytest.approx(f(*args), rel=1e-12)
    assert slope == pytest.approx((up - dn) / (2 * h), rel=1e-6, abs=1e-8)
    hv = symgrad.hvp(f, args, t)
    hv = hv if len(args) > 1 else (hv,)
    g = symgrad.grad(f, wrt=list(range(len(args))))       # (a tuple: wrt is a list)
    h = 1e-5
    gu = g(*(a + h * d for a, d in zip(args, t)))
    gd = g(*(a - h * d for a, d in zip(args, t)))
    for got, u, d in zip(hv, gu, gd):
        np.testing.assert_allclose(got, (np.asarray(u) - np.asarray(d)) / (2 * h),
                                   rtol=1e-5, atol=1e-6)


def stacked_by_np_stack(m):
    return np.sum(np.stack([r * 2.0 for r in m]) ** 2)


def test_a_built_list_given_to_np_stack_is_differentiated():
    """np.stack of a list built at run time (refused before): d/dm sum((2 m) ** 2) = 8 m;
    tests/test_join_lists.py has the other joins and every mode."""
    np.testing.assert_allclose(symgrad.grad(stacked_by_np_stack)(_M), 8.0 * _M, rtol=1e-12)


# --- a list parameter holding arrays (autograd's test_list): the gradient is a list of
# arrays shaped like the arguments, zeros (not 0.0, nor nan at an inf) for the unused one
def uses_two_of_three(xs):
    return np.sum(np.sin(xs[0])) + np.sum(np.cos(xs[1]))


def test_a_list_of_arrays_gets_array_gradients_even_where_unused():
    rng = np.random.default_rng(7)
    xs = [rng.normal(size=(3, 2)), rng.normal(size=4), rng.normal(size=(2, 2))]
    xs[2][0, 0] = np.inf
    for args in (xs, tuple(xs)):
        g = symgrad.grad(uses_two_of_three)(args)
        assert [np.shape(a) for a in g] == [np.shape(a) for a in xs]
        np.testing.assert_allclose(g[0], np.cos(xs[0]), rtol=1e-12)
        np.testing.assert_allclose(g[1], -np.sin(xs[1]), rtol=1e-12)
        assert np.array_equal(g[2], np.zeros((2, 2))) and not np.signbit(g[2]).any()
