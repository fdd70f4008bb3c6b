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
