"""``symgrad.stop_gradient(x)``: the value ``x``, derivative 0 (JAX's
``lax.stop_gradient``, PyTorch's ``detach``).  One rule in ``symgrad/rules.py``; every
engine and mode follows it.

The reference for each function is a twin in which the stopped value is an argument
held fixed (computed at the point, then passed in): central differences of the twin
in the other arguments are what the derivative of the function must be."""

import math

import numpy as np
import pytest

from numeric import assert_close, finite_diff

import symgrad
from symgrad import Value, check, grad, hessian, hvp, jacobian, jvp, stop_gradient, symbolic


def scaled(x, y):
    return x * stop_gradient(x * y) + math.sin(y)


def scaled_frozen(x, y, c):
    return x * c + math.sin(y)


def looped(x, n):
    acc = 0.0
    for i in range(n):
        if acc > 1.0:
            acc = acc + stop_gradient(acc) * x
        else:
            acc = acc + x * x
    return acc


def only_stopped(x):
    return stop_gradient(x) ** 2


def normalized(w):
    return np.sum(w / stop_gradient(np.linalg.norm(w)))


def normalized_frozen(w, norm):
    return np.sum(w / norm)


def test_the_derivative_holds_the_stopped_value_fixed():
    x, y = 0.7, -1.3
    c = x * y
    want = finite_diff(lambda x, y: scaled_frozen(x, y, c), (x, y))
    assert scaled(x, y) == scaled_frozen(x, y, c)
    assert_close(grad(scaled)(x, y), tuple(want), what="grad")
    assert grad(scaled)(x, y)[0] == pytest.approx(c)      # not 2 * x * y
    assert only_stopped(3.0) == 9.0 and grad(only_stopped)(3.0) == 0.0


def test_every_mode_and_engine_agree():
    x, y = 0.7, -1.3
    c = x * y
    g = grad(scaled)(x, y)
    value, tangent = jvp(scaled, (x, y), (0.5, -2.0))
    assert value == scaled(x, y)
    assert tangent == pytest.approx(0.5 * g[0] - 2.0 * g[1], rel=1e-14)
    # stopped at every order (as JAX): the twin's Hessian, by hand, c held fixed
    rows = [[0.0, 0.0], [0.0, -math.sin(y)]]
    assert_close([list(r) for r in hessian(scaled)(x, y)], rows, rtol=1e-12, what="hessian")
    assert_close(hvp(scaled, (x, y), (1.0, 0.0)), [rows[0][0], rows[1][0]], what="hvp")
    assert jacobian(scaled)(x, y) == pytest.approx(g, rel=1e-14)
    vx, vy = Value(x), Value(y)
    out = vx * stop_gradient(vx * vy) + symgrad.sin(vy)
    out.backward()
    assert (vx.grad, vy.grad) == pytest.approx(g, rel=1e-14)
    assert out.data == pytest.approx(scaled_frozen(x, y, c), rel=1e-15)


def test_through_loops_and_branches():
    for x, n in ((0.9, 4), (1.3, 5), (0.2, 3)):
        # the twin: run the loop, freezing each stopped value where the function meets it
        frozen = []
        acc = 0.0
        for _ in range(n):
            if acc > 1.0:
                frozen.append(acc)
                acc = acc + acc * x
            else:
                acc = acc + x * x

        def twin(x):
            acc, k = 0.0, 0
            for _ in range(n):
                if acc > 1.0:
                    acc, k = acc + frozen[k] * x, k + 1
                else:
                    acc = acc + x * x
            return acc
        want = finite_diff(twin, (x,))[0]
        assert grad(looped, wrt="x")(x, n) == pytest.approx(want, rel=1e-6)


def test_numpy_arrays():
    w = np.array([0.5, -1.2, 2.0])
    norm = np.linalg.norm(w)
    g = grad(normalized)(w)
    h = 1e-6
    want = [(normalized_frozen(w + h * e, norm) - normalized_frozen(w - h * e, norm)) / (2 * h)
            for e in np.eye(3)]
    assert np.allclose(g, want, rtol=1e-6)
    assert np.allclose(g, np.full(3, 1.0 / norm))
    assert np.array_equal(stop_gradient(w), w)


def test_check_symbolic_and_the_generated_source():
    report = check(scaled, 0.7, -1.3)
    assert report.ok
    assert "fd" in report.unavailable and "stop_gradient" in report.unavailable["fd"]
    assert "not comparable" in str(report)
    s = symbolic(scaled)
    assert "stop_gradient(x*y)" in str(s)
    source = grad(scaled).source
    assert "stop_gradient(x * y)" in source and "def _stop_gradient(x" in source


def test_check_of_a_function_without_it_still_runs_finite_differences():
    report = check(scaled_frozen, 0.7, -1.3, -0.91)
    assert report.ok and "fd" not in report.unavailable
