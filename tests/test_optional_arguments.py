"""Optional arguments given None (``mask=None``, ``b=None``, ``log=None``): before, a
differentiated parameter given None was refused at the call ("argument 'w' is NoneType
None") although ``grad(f)`` differentiates every parameter, and with arrays its
gradient was 0.0.  Now the gradient is made for None there (its ``is None`` tests
known while the code is made), and that parameter's gradient is None, as JAX gives for
``None``.  References: central differences and hand-derived values."""
import math

import numpy as np
from numeric import fd
import pytest

import symgrad


def scaled(x, w=None):
    if w is None:
        w = 2.0
    return w * x * x


def logged(x, log=None):
    y = math.sin(x)
    if log is not None:
        log.append(y)
    return y


def masked(x, mask=None):
    if mask is not None:
        x = x * mask
    return np.sum(x ** 2)


def layer(W, x, b=None):
    h = W @ x
    if b is not None:
        h = h + b
    return np.sum(np.tanh(h))


def weighted(xs, weights=None):
    if weights is None:
        weights = [1.0] * len(xs)
    return sum(w * v * v for w, v in zip(weights, xs))


def test_a_number_parameter_given_none():
    g = symgrad.grad(scaled)
    assert g(0.5) == (pytest.approx(2.0), None)           # the default
    assert g(0.5, None) == (pytest.approx(2.0), None)
    assert g(0.5, 3.0) == pytest.approx((3.0, 0.25))      # then a number: its gradient
    assert g(0.5, w=None) == (pytest.approx(2.0), None)
    assert symgrad.value_and_grad(scaled)(0.5) == (pytest.approx(0.5), (pytest.approx(2.0),
                                                                       None))


def test_a_list_parameter_given_none_or_a_list():
    x = 0.5
    assert symgrad.grad(logged)(x) == (pytest.approx(math.cos(x)), None)
    assert symgrad.grad(logged)(x, [])[0] == pytest.approx(math.cos(x))
    xs = [0.5, -1.0, 2.0]
    gx, gw = symgrad.grad(weighted)(xs)
    assert gx == pytest.approx(fd(weighted, (xs,), 0)) and gw is None
    ws = [0.5, 2.0, 1.0]
    gx, gw = symgrad.grad(weighted)(xs, ws)
    assert gx == pytest.approx(fd(weighted, (xs, ws), 0))
    assert gw == pytest.approx(fd(weighted, (xs, ws), 1))


def test_arrays_with_an_optional_array():
    x = np.array([0.5, -1.0, 2.0])
    W = np.arange(6.0).reshape(2, 3) / 10
    gx, gm = symgrad.grad(masked)(x)
    assert np.allclose(gx, 2 * x) and gm is None
    mask = np.array([1.0, 0.0, 2.0])
    gx, gm = symgrad.grad(masked)(x, mask)
    assert np.allclose(gx, fd(masked, (x, mask), 0)) and np.allclose(gm, fd(masked, (x, mask), 1))
    for args in ((W, x), (W, x, np.array([0.1, -0.2]))):
        grads = symgrad.grad(layer)(*args)
        for i in range(2):
            assert np.allclose(grads[i], fd(layer, args, i), atol=1e-7)
        assert (grads[2] is None) == (len(args) == 2)
    again = symgrad.grad(layer)(W, x, None)           # None after an array: its own code
    assert again[2] is None and np.allclose(again[1], fd(layer, (W, x), 1), atol=1e-7)


def test_the_other_modes_take_none():
    assert symgrad.jvp(scaled, (0.5, None), (1.0, None)) == pytest.approx((0.5, 2.0))
    assert symgrad.vjp(scaled, 0.5, None)[1](1.0)[0] == pytest.approx(2.0)
    assert symgrad.hessian(scaled, wrt=0)(0.5, None) == pytest.approx(4.0)
    assert symgrad.check(scaled, 0.5, None).ok
    x = np.array([0.5, -1.0, 2.0])
    assert symgrad.check(masked, x, None).ok
    assert np.allclose(symgrad.hessian(masked, wrt=0)(x), 2 * np.eye(3))
