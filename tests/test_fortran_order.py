"""``order="F"`` of a reshape, ``ravel`` or ``flatten``: the entries read and written in
Fortran order (C order with the axes reversed), in every mode, against central
differences; the value is numpy's own, bit for bit.  ``order="A"``/``"K"`` (which
depend on the memory layout) are refused by name."""

import numpy as np
import pytest

from numeric import check_array_modes

import symgrad

X = np.arange(6.0).reshape(2, 3) * 0.3 + 0.1
T = np.arange(24.0).reshape(2, 3, 4) * 0.05 - 0.4
W = np.linspace(-1.0, 1.0, 6)


def ravel_f(X):
    return np.sum(W * X.ravel(order="F") ** 2)


def reshape_f_function(X):
    return np.sum(W.reshape(3, 2) * np.reshape(X, (3, 2), order="F") ** 3)


def reshape_f_method_args(X):
    return np.sum(W.reshape(3, 2) * X.reshape(3, 2, order="F") ** 3)


def flatten_f_and_int_shape(X):
    return np.sum(W * X.flatten(order="F") ** 2) + np.sum(np.reshape(X, 6, order="F") * W)


def minus_one_in_shape(X):
    return np.sum(np.sin(X.reshape(-1, 2, order="F")[0])) + np.sum(X.ravel(order="C") ** 2)


def three_axes(T):
    m = T.reshape(4, 6, order="F")
    return np.sum(np.tanh(m[1:3]) * m[0:2])


def round_trip(X):
    v = np.reshape(X, (3, 2), order="F")
    return np.sum(np.reshape(v * v, (2, 3), order="F") * X)


CASES = [(ravel_f, X), (reshape_f_function, X), (reshape_f_method_args, X),
         (flatten_f_and_int_shape, X), (minus_one_in_shape, X), (three_axes, T),
         (round_trip, X)]


@pytest.mark.parametrize("f, x", CASES, ids=[f.__name__ for f, _ in CASES])
def test_every_mode(f, x):
    t = np.cos(np.arange(x.size)).reshape(x.shape)
    check_array_modes(f, x.copy(), t, rtol=1e-6, atol=1e-7, jvp_rtol=1e-9, jvp_atol=1e-10)


@pytest.mark.parametrize("f, x", CASES, ids=[f.__name__ for f, _ in CASES])
def test_value_is_numpys(f, x):
    assert symgrad.value_and_grad(f)(x.copy())[0] == f(x.copy())


def test_round_trip_gradient_by_hand():
    # round_trip(X) = sum(X * X * X) (a Fortran reshape and its inverse): 3 X**2
    np.testing.assert_allclose(symgrad.grad(round_trip)(X.copy()), 3 * X ** 2, rtol=1e-12)


def ravel_a(X):
    return np.sum(X.ravel(order="A") ** 2)


def ravel_k(X):
    return np.sum(np.ravel(X, order="K") ** 2)


@pytest.mark.parametrize("f", [ravel_a, ravel_k])
def test_layout_orders_are_refused(f):
    with pytest.raises(symgrad.errors.UnsupportedSyntaxError) as info:
        symgrad.grad(f)(X.copy())
    assert "order=" in str(info.value) and "test_fortran_order.py" in str(info.value)
