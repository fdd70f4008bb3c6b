"""Globals and closure variables are read live, in every mode: a function rebound in
its module, or a constant used as an axis, makes the generated code again.

Each test builds the derivative, rebinds the name, and checks the same call against
finite differences of the function as it now is (jvp, hvp, vjp, the Jacobians and the
Hessian were made once and cached: they used the first binding, silently, before)."""

import math

import numpy as np
import pytest

import symgrad

ACT = math.sin
ARR_ACT = np.sin
AXIS = 1
PERM = (0, 2, 1)
HALF = 1


def scalar(x):
    return ACT(x) * x


def pair(x, y):
    return ACT(x) * y, x + y


def on_array(x):
    return np.sum(ARR_ACT(x) * x)


def reduced(x):
    return np.sum(np.sum(x, axis=AXIS) ** 2 * np.arange(1.0, 1.0 + x.shape[1 - AXIS]))


def transposed(x):
    t = np.transpose(x, PERM)
    return np.sum(t ** 3 * np.arange(24.0).reshape(t.shape))


def shifted(x):          # arithmetic on the constant, folded when the code is made
    return np.sum(np.sum(x, axis=AXIS - 1) ** 2 * np.arange(1.0, 1.0 + x.shape[2 - AXIS]))


def reshaped(x):
    rows = np.reshape(x, (HALF * 2, -1))
    return np.sum(rows ** 2 @ np.arange(1.0, 1.0 + 12 // (HALF * 2)))


def d(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        g[k] = (f(up) - f(down)) / (2 * h)
    return g


@pytest.fixture
def restore():
    saved = dict(ACT=ACT, ARR_ACT=ARR_ACT, AXIS=AXIS, PERM=PERM, HALF=HALF)
    yield globals()
    globals().update(saved)


def _scalar_modes_agree(x=0.7):
    value, slope = symgrad.jvp(scalar, (x,), (1.0,))
    assert value == pytest.approx(scalar(x), abs=1e-12)
    assert slope == pytest.approx(d(scalar, x), abs=1e-6)
    assert symgrad.hvp(scalar, (x,), (1.0,)) == pytest.approx(
        d(lambda z: d(scalar, z), x, 1e-4), abs=1e-5)
    assert symgrad.hessian(scalar)(x) == pytest.approx(d(lambda z: d(scalar, z), x, 1e-4),
                                                       abs=1e-5)
    out, pull = symgrad.vjp(pair, x, 2.0)
    assert out[0] == pytest.approx(pair(x, 2.0)[0], abs=1e-12)
    assert pull((1.0, 0.0))[0] == pytest.approx(d(lambda z: pair(z, 2.0)[0], x), abs=1e-6)
    for jacobian in (symgrad.jacfwd, symgrad.jacrev):
        jac = jacobian(pair)(x, 2.0)
        assert jac[0][0] == pytest.approx(d(lambda z: pair(z, 2.0)[0], x), abs=1e-6)


def test_every_mode_follows_a_function_rebound_in_its_module(restore):
    _scalar_modes_agree()
    restore["ACT"] = math.cos          # (the gradient inlined sin: hvp must see this too)
    _scalar_modes_agree()
    restore["ACT"] = math.tanh
    _scalar_modes_agree()


def test_array_modes_follow_a_rebound_numpy_function(restore):
    x = np.array([0.3, 0.7, -0.4])
    v = np.array([1.0, -2.0, 0.5])
    for fn in (np.sin, np.cos, np.exp):
        restore["ARR_ACT"] = fn
        want = fd_grad(on_array, x)
        np.testing.assert_allclose(symgrad.grad(on_array)(x), want, atol=1e-6)
        _, slope = symgrad.jvp(on_array, (x,), (v,))
        assert slope == pytest.approx(float(want @ v), abs=1e-6)
        g = symgrad.grad(on_array)
        np.testing.assert_allclose(symgrad.hvp(on_array, (x,), (v,)),
                                   (g(x + 1e-5 * v) - g(x - 1e-5 * v)) / 2e-5, atol=1e-5)


SETTINGS = {
    reduced: [("AXIS", 1), ("AXIS", 0), ("AXIS", 1)],
    shifted: [("AXIS", 1), ("AXIS", 2), ("AXIS", 1)],
    reshaped: [("HALF", 1), ("HALF", 3), ("HALF", 1)],
    transposed: [("PERM", (0, 2, 1)), ("PERM", (2, 0, 1)), ("PERM", (0, 2, 1))],
}


@pytest.mark.parametrize("f", list(SETTINGS), ids=lambda f: f.__name__)
def test_a_module_constant_is_an_axis_and_a_rebinding_is_followed(f, restore):
    x = np.random.default_rng(4).normal(size=(2, 3, 4) if f is transposed else (3, 4))
    v = np.ones_like(x)
    g = symgrad.grad(f)
    vg = symgrad.value_and_grad(f)
    settings = SETTINGS[f]
    for name, value in settings:
        restore[name] = value
        want = fd_grad(f, x)
        np.testing.assert_allclose(g(x), want, atol=1e-5)
        np.testing.assert_allclose(vg(x)[1], want, atol=1e-5)
        assert symgrad.jvp(f, (x,), (v,))[1] == pytest.approx(float(np.sum(want * v)),
                                                              abs=1e-5)


def test_a_closure_constant_is_an_offset_and_nonlocal_changes_are_followed():
    def make():
        offset = 0

        def f(x):
            return np.trace(x, offset=offset) ** 2

        def move(k):
            nonlocal offset
            offset = k
        return f, move

    f, move = make()
    x = np.random.default_rng(5).normal(size=(4, 4))
    g = symgrad.grad(f)
    for k in (0, 1, -2, 0):
        move(k)
        np.testing.assert_allclose(g(x), fd_grad(f, x), atol=1e-6)
        assert symgrad.jvp(f, (x,), (x,))[1] == pytest.approx(float(np.sum(fd_grad(f, x) * x)),
                                                              abs=1e-5)


def test_a_list_global_is_not_taken_for_a_constant_axis():
    """A list can change in place without being rebound: it stays refused."""
    def f(x):
        return np.sum(np.sum(x, axis=AXES_LIST))
    globals()["AXES_LIST"] = [0]
    with pytest.raises(symgrad.SymgradError, match="axis= that is computed when the function"):
        symgrad.grad(f)(np.ones((2, 2)))


def test_a_refusal_inside_a_numpy_model_names_the_users_line():
    def f(x, n):
        t = 0.0
        for k in range(n):          # (a parameter itself would be fixed: test_fixed_args;
            # an offset from a loop variable is a mask: test_numpy_more)
            t = t + np.sum(np.trace(x, 0, k, k + 1))
        return t
    with pytest.raises(symgrad.SymgradError) as info:
        symgrad.grad(f, wrt=0)(np.ones((3, 3, 3)), 2)
    text = str(info.value)
    assert "test_live_globals.py" in text and "numpy_models" not in text
    assert "an axis1= that is computed" in text and "closure constant" in text
