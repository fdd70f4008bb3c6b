"""Regressions from a survey of numpy programs (broadcast adjoints, negative axes, zero
adjoints of piecewise-constant operations, the Hessian of ``np.prod`` at zeros, and
ordinary numpy spellings that were refused).  Every derivative is checked against
central finite differences of the original function."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad
from symgrad.errors import SymgradError

H = 1e-6


def _numeric_grad(f, args, i):
    """Central differences of ``f(*args)`` (a number) with respect to ``args[i]``,
    shaped like ``args[i]`` (a Python float for a float)."""
    args = list(args)
    x = args[i]
    if np.ndim(x) == 0:
        up, down = list(args), list(args)
        up[i], down[i] = x + H, x - H
        return (f(*up) - f(*down)) / (2 * H)
    g = np.zeros(np.shape(x))
    for k in np.ndindex(np.shape(x)):
        step = np.zeros(np.shape(x))
        step[k] = H
        up, down = list(args), list(args)
        up[i], down[i] = x + step, x - step
        g[k] = (f(*up) - f(*down)) / (2 * H)
    return g


def _jacobian_of(g, x):
    """Central differences of the array function ``g`` at ``x``: one row per element."""
    rows = []
    for k in np.ndindex(x.shape):
        step = np.zeros(x.shape)
        step[k] = H
        rows.append(((np.asarray(g(x + step)) - np.asarray(g(x - step))) / (2 * H)).ravel())
    return np.array(rows)


def _check_grad(f, *args, atol=1e-5):
    grads = symgrad.grad(f)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, got in enumerate(grads):
        want = _numeric_grad(f, args, i)
        assert np.shape(got) == np.shape(args[i]), (i, np.shape(got), np.shape(args[i]))
        np.testing.assert_allclose(got, want, atol=atol, rtol=1e-5)


def _value(shape, rng, low=1.1, high=1.9):
    return float(rng.uniform(low, high)) if shape == () else rng.uniform(low, high, shape)


# ----------------------------------------------------------------------------- 1, 3

def _binary_ops():
    return {
        "copysign": lambda a, b: np.copysign(a, b - 1.5),
        "floordiv": lambda a, b: a // b + a * b,
        "floor_divide": lambda a, b: np.floor_divide(a, b) * 0.5 + a,
        "mod": lambda a, b: a % b,
        "np.mod": lambda a, b: np.mod(a, b),
        "remainder": lambda a, b: np.remainder(a, b),
        "fmod": lambda a, b: np.fmod(a, b),
        "add": lambda a, b: a + b,
        "sub": lambda a, b: np.subtract(a, b),
        "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b,
        "pow": lambda a, b: a ** b,
        "arctan2": lambda a, b: np.arctan2(a, b),
        "hypot": lambda a, b: np.hypot(a, b),
        "maximum": lambda a, b: np.maximum(a, b),
        "fmin": lambda a, b: np.fmin(a, b),
        "logaddexp": lambda a, b: np.logaddexp(a, b),
        "times signbit": lambda a, b: a * np.signbit(b - 1.5),
        "times isfinite": lambda a, b: np.isfinite(b) * a,
        "plus argsort": lambda a, b: a * np.argsort(b, axis=-1) + b,
    }


_SHAPES = [((), (3, 2)), ((), (3, 1)), ((2,), (3, 2)), ((3, 1), (1, 4)), ((1, 2), (3, 1)),
           ((3, 2), ()), ((3, 2), (2,)), ((2, 1, 3), (4, 3))]


@pytest.mark.parametrize("name", list(_binary_ops()))
@pytest.mark.parametrize("shapes", _SHAPES, ids=str)
def test_binary_adjoints_are_summed_to_each_operand(name, shapes):
    op = _binary_ops()[name]
    rng = np.random.default_rng(abs(hash((name, shapes))) % 2**32)
    x, y = _value(shapes[0], rng), _value(shapes[1], rng, 0.6, 0.9)

    def f(a, b):
        return np.sum(np.sin(op(a, b)) * np.cos(np.arange(np.size(op(a, b))) + 0.5
                                                ).reshape(np.shape(op(a, b))))
    _check_grad(f, x, y)


def test_copysign_of_a_float_by_an_array():
    def f(a, b):
        return np.sum(np.sin(np.copysign(a, b)) * np.array([[1.0, 2.0], [3.0, 4.0]]))
    y = np.array([[1.0, -2.0], [3.0, -4.0]])
    g = symgrad.grad(f, wrt=0)(0.7, y)
    assert np.ndim(g) == 0
    assert g == pytest.approx(_numeric_grad(f, (0.7, y), 0), abs=1e-6)
    _, tangent = symgrad.jvp(f, (0.7, y), (1.0, np.zeros((2, 2))))
    assert tangent == pytest.approx(g, abs=1e-9)


@pytest.mark.parametrize("shapes", [((6,), (7, 6)), ((3, 1), (1, 4)), ((), (2, 3))], ids=str)
def test_floor_divide_zero_adjoint_is_shaped_like_its_operand(shapes):
    rng = np.random.default_rng(7)
    x, y = _value(shapes[0], rng), _value(shapes[1], rng, 0.6, 0.9)

    def f(a, b):
        return np.sum(a // b) + np.sum(np.floor_divide(a, b) * np.fmod(a, b))
    gx, gy = symgrad.grad(f)(x, y)
    assert np.shape(gx) == np.shape(x) and np.shape(gy) == np.shape(y)
    np.testing.assert_allclose(gx, _numeric_grad(f, (x, y), 0), atol=1e-5)
    np.testing.assert_allclose(gy, _numeric_grad(f, (x, y), 1), atol=1e-5)


def test_floor_divide_hessian_and_jvp():
    y = np.array([[0.7], [0.9]])

    def f(a):
        return np.sum(np.sin(np.floor_divide(a, y) * a)) + np.sum(np.remainder(a, y) ** 2)
    x = np.array([1.2, 2.3, 3.1])
    hess = np.asarray(symgrad.hessian(f)(x))
    np.testing.assert_allclose(hess, _jacobian_of(symgrad.grad(f), x), atol=1e-4)
    v = np.array([0.3, -1.0, 0.5])
    _, tangent = symgrad.jvp(f, (x,), (v,))
    assert tangent == pytest.approx(np.dot(_numeric_grad(f, (x,), 0), v), abs=1e-5)


# ----------------------------------------------------------------------------- 2

_AXIS_CASES = {
    "transpose (-1, 0, 1)": lambda x: np.transpose(x, (-1, 0, 1)),
    "transpose (0, -1, -2)": lambda x: np.transpose(x, (0, -1, -2)),
    "transpose axes= (-2, -1, 0)": lambda x: np.transpose(x, axes=(-2, -1, 0)),
    "method transpose ((-1, 0, 1))": lambda x: x.transpose((-1, 0, 1)),
    "method transpose -1, 0, 1": lambda x: x.transpose(-1, 0, 1),
    "method transpose 1, 0, 2": lambda x: x.transpose(1, 0, 2),
    "moveaxis -1 to 0": lambda x: np.moveaxis(x, -1, 0),
    "moveaxis (0, -1) to (-1, 0)": lambda x: np.moveaxis(x, (0, -1), (-1, 0)),
    "swapaxes -1, 0": lambda x: np.swapaxes(x, -1, 0),
    "rollaxis -1": lambda x: np.rollaxis(x, -1),
    "expand_dims -1": lambda x: np.expand_dims(x, -1) * np.ones(2),
    "expand_dims (0, -1)": lambda x: np.expand_dims(x, (0, -1)),
    "squeeze -1": lambda x: np.squeeze(x[..., :1], -1),
    "sum -1": lambda x: np.sum(x, axis=-1),
    "sum (-1, 0)": lambda x: np.sum(x, axis=(-1, 0)),
    "mean -2 keepdims": lambda x: np.mean(x, axis=-2, keepdims=True) * x,
    "max -1": lambda x: np.max(x, axis=-1),
    "prod -1": lambda x: np.prod(x, axis=-1),
    "cumsum -1": lambda x: np.cumsum(x, axis=-1),
    "flip (0, -1)": lambda x: np.flip(x, (0, -1)),
    "concatenate -1": lambda x: np.concatenate([x, x ** 2], axis=-1),
    "stack -1": lambda x: np.stack([x, x ** 2], axis=-1),
}


def _weighted(op):
    def f(x):
        y = op(x)
        return np.sum(np.sin(y) * np.cos(np.arange(np.size(y)) * 0.7).reshape(np.shape(y)))
    return f


@pytest.mark.parametrize("name", list(_AXIS_CASES))
@pytest.mark.parametrize("shape", [(2, 3, 4), (4, 1, 3)], ids=str)
def test_negative_axes(name, shape):
    x = np.random.default_rng(len(name)).standard_normal(shape)
    _check_grad(_weighted(_AXIS_CASES[name]), x)


@pytest.mark.parametrize("axes", [(-1, 0, 1), (0, -1, -2), (2, -3, 1)], ids=str)
def test_transpose_negative_axes_second_order(axes):
    x = np.random.default_rng(1).standard_normal((2, 3, 2))
    w = np.cos(np.arange(12.0)).reshape(np.transpose(x, axes).shape)

    def f(a):
        return np.sum(np.transpose(a, axes) ** 3 * w)
    hess = np.asarray(symgrad.hessian(f)(x)).reshape(12, 12)
    np.testing.assert_allclose(hess, _jacobian_of(symgrad.grad(f), x), atol=1e-4)
    v = np.sin(np.arange(12.0)).reshape(x.shape)
    _, tangent = symgrad.jvp(f, (x,), (v,))
    assert tangent == pytest.approx(np.sum(_numeric_grad(f, (x,), 0) * v), abs=1e-5)


# ----------------------------------------------------------------------------- 4

def _with_zeros(shape, zeros, rng):
    x = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    x.reshape(-1)[rng.choice(x.size, zeros, replace=False)] = 0.0
    return x


@pytest.mark.parametrize("zeros", [0, 1, 2, 3])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (-1, False), (0, True),
                                           ((0, -1), False)], ids=str)
def test_prod_second_derivatives_at_zeros(zeros, axis, keepdims):
    rng = np.random.default_rng(10 * zeros + 3)
    x = _with_zeros((3, 2), zeros, rng)
    w = np.cos(np.arange(6.0))[:np.size(np.prod(x, axis=axis, keepdims=keepdims))].reshape(
        np.shape(np.prod(x, axis=axis, keepdims=keepdims)))

    def f(a):
        return np.sum(np.prod(a, axis=axis, keepdims=keepdims) * w)
    _check_grad(f, x)
    grad = symgrad.grad(f)
    want = _jacobian_of(grad, x)            # (the gradient is exact: checked just above)
    np.testing.assert_allclose(np.asarray(symgrad.hessian(f)(x)).reshape(6, 6), want,
                               atol=1e-4)
    v = rng.standard_normal(x.shape)
    np.testing.assert_allclose(np.ravel(symgrad.hvp(f, (x,), (v,))), want @ v.ravel(),
                               atol=1e-4)
    _, tangent = symgrad.jvp(f, (x,), (v,))
    assert tangent == pytest.approx(np.sum(_numeric_grad(f, (x,), 0) * v), abs=1e-5)


def test_prod_hessian_with_two_zeros_is_the_product_of_the_rest():
    def f(a):
        return np.prod(a)
    x = np.array([1.5, 0.0, 0.0, 3.0])
    hess = np.asarray(symgrad.hessian(f)(x))
    np.testing.assert_allclose(hess, _jacobian_of(symgrad.grad(f), x), atol=1e-6)
    assert hess[1, 2] == pytest.approx(4.5)


def test_prod_method_with_a_zero_in_each_row():
    def f(a):
        return np.sum(np.sin(a.prod(axis=1)))
    x = np.array([[0.0, 2.0, 0.0], [1.5, 0.0, -0.5]])
    hess = np.asarray(symgrad.hessian(f)(x)).reshape(6, 6)
    np.testing.assert_allclose(hess, _jacobian_of(symgrad.grad(f), x), atol=1e-5)


# ----------------------------------------------------------------------------- 5

def test_method_transpose_and_reshape_with_several_arguments():
    def f(x):
        y = x.transpose(2, 0, 1).reshape(4, 6)
        return np.sum(np.sin(y) * np.arange(24.0).reshape(4, 6))
    _check_grad(f, np.random.default_rng(2).standard_normal((2, 3, 4)))


def test_method_transpose_of_a_vector_by_one_axis():
    def f(x):
        return np.sum(np.sin(x.transpose(0)) * np.arange(3.0))
    _check_grad(f, np.array([0.1, 0.2, 0.3]))


@pytest.mark.parametrize("shape", [(4,), (1,)], ids=str)
def test_concatenate_with_a_list_written_in_the_sequence(shape):
    x = np.linspace(0.2, 0.9, shape[0])

    def f(v, a):
        z = np.concatenate([v, [a, 1.0]])
        return np.sum(np.sin(z) * np.arange(1.0, z.size + 1.0))

    def g(v, a):
        z = np.concatenate(([a], v, (2.0 * a,)), axis=0)
        return np.sum(np.cos(z) * np.arange(1.0, z.size + 1.0))

    def h(v, a):
        m = np.stack([v, [a, 1.0, a * a, 2.0]])
        return np.sum(np.exp(m) * np.arange(m.size).reshape(m.shape))

    def k(v, a):
        m = np.vstack([(a, 1.0, 2.0, 3.0), v, v ** 2])
        return np.sum(np.sin(m) * np.arange(m.size).reshape(m.shape))
    for fn in (f, g) + ((h, k) if shape == (4,) else ()):
        _check_grad(fn, x, 0.4)
    _check_grad(lambda v: np.sum(np.sin(np.concatenate([v, [1.0]])) * np.arange(shape[0] + 1.0)),
                x)


@pytest.mark.parametrize("repeats,axis", [([1, 2, 3], None), ([0, 2, 1], 0), ([2], None),
                                          ((1, 3), 1), (2, -1)], ids=str)
def test_repeat_with_a_list_of_repeats(repeats, axis):
    x = np.random.default_rng(4).standard_normal((3,) if axis is None else (3, 2))
    if axis == 1:
        def f(v):
            r = np.repeat(v, [1, 3], axis=1)
            return np.sum(np.sin(r) * np.arange(r.size).reshape(r.shape))
    elif axis == 0:
        def f(v):
            r = np.repeat(v, [0, 2, 1], axis=0)
            return np.sum(np.sin(r) * np.arange(r.size).reshape(r.shape))
    elif axis == -1:
        def f(v):
            r = np.repeat(v, 2, axis=-1)
            return np.sum(np.sin(r) * np.arange(r.size).reshape(r.shape))
    elif repeats == [2]:
        def f(v):
            r = v.repeat([2])
            return np.sum(np.sin(r) * np.arange(r.size))
    else:
        def f(v):
            r = np.repeat(v, [1, 2, 3])
            return np.sum(np.sin(r) * np.arange(r.size))
    _check_grad(f, x)
    v = np.cos(np.arange(x.size)).reshape(x.shape)
    hess = np.asarray(symgrad.hessian(f)(x)).reshape(x.size, x.size)
    np.testing.assert_allclose(hess, _jacobian_of(symgrad.grad(f), x), atol=1e-4)
    _, tangent = symgrad.jvp(f, (x,), (v,))
    assert tangent == pytest.approx(np.sum(_numeric_grad(f, (x,), 0) * v), abs=1e-5)


def test_too_many_arguments_names_what_the_function_takes():
    def f(x):
        return np.sum(np.transpose(x, (1, 0), 3))
    with pytest.raises(SymgradError) as info:
        symgrad.grad(f)(np.ones((2, 3)))
    text = str(info.value)
    assert "np.transpose" in text and "axes" in text and "by keyword" not in text
