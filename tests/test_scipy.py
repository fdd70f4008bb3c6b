"""symgrad gradients as SciPy's ``jac`` (and ``hess``): ``scipy.optimize.minimize`` with an
ndarray ``x0``, data through ``args=``, and ``value_and_grad`` with ``jac=True``.

References are independent of symgrad: SciPy's own ``rosen_der``/``rosen_hess``, finite
differences (``check_grad``, ``approx_fprime``), a gradient written by hand, and SciPy's
``curve_fit`` (Levenberg-Marquardt, no gradient of ours) for the fitted parameters.
Needs the optional extra ``.[scipy]`` (CI installs it).
"""
import os
import sys

import pytest

np = pytest.importorskip("numpy")
optimize = pytest.importorskip("scipy.optimize")

import symgrad  # noqa: E402

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(HERE, "examples"))
import fit_scipy  # noqa: E402
from fit_scipy import P0, T, X0_ROSEN, Y, rosen, sse  # noqa: E402


def sse_grad_by_hand(p, t, y):
    a, k, c = p
    e = np.exp(-k * t)
    r = a * e + c - y
    return np.array([np.sum(2 * r * e), np.sum(2 * r * a * -t * e), np.sum(2 * r)])


POINTS = [X0_ROSEN, np.ones(5), np.array([0.3, -0.7, 1.1, 2.0, -1.5]),
          np.random.default_rng(1).standard_normal(5)]


# ---------------------------------------------------------------------------
# the gradient is what SciPy's jac must be
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("x", POINTS, ids=range(len(POINTS)))
def test_rosen_gradient_equals_scipys_rosen_der(x):
    assert rosen(x) == pytest.approx(optimize.rosen(x), rel=1e-12)
    g = np.asarray(symgrad.grad(rosen)(x))
    assert g.shape == x.shape and g.dtype == np.float64
    np.testing.assert_allclose(g, optimize.rosen_der(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x", POINTS, ids=range(len(POINTS)))
def test_rosen_gradient_against_finite_differences(x):
    d = symgrad.grad(rosen)
    # check_grad: the 2-norm of (jac - forward differences), whose truncation error is
    # about epsilon / 2 * |Hessian| per component
    eps = 1e-7
    err = optimize.check_grad(rosen, d, x, epsilon=eps)
    bound = eps * np.linalg.norm(optimize.rosen_hess(x)) * np.sqrt(x.size)
    assert err <= bound + 1e-6 * np.linalg.norm(optimize.rosen_der(x))
    # central differences, by hand: error O(h^2)
    h = 1e-5
    fd = np.array([(rosen(x + h * e) - rosen(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    np.testing.assert_allclose(np.asarray(d(x)), fd, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("p", [P0, fit_scipy.TRUE_P, np.array([-0.4, 0.2, 3.0])],
                         ids=["p0", "true", "other"])
def test_curve_gradient_with_data_args(p):
    d = symgrad.grad(sse, wrt="p")
    g = d(p, T, Y)
    assert isinstance(g, np.ndarray) and g.shape == p.shape
    np.testing.assert_allclose(g, sse_grad_by_hand(p, T, Y), rtol=1e-12, atol=1e-12)
    fd = optimize.approx_fprime(p, sse, 1e-7, T, Y)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5)
    assert optimize.check_grad(sse, d, p, T, Y, epsilon=1e-7) < 1e-4
    # wrt by position is the same gradient
    np.testing.assert_array_equal(symgrad.grad(sse, wrt=0)(p, T, Y), g)


def test_without_wrt_every_parameter_data_included_is_differentiated():
    """The rule the README states for SciPy: with data in ``args=``, pass ``wrt``.
    By default the gradient is one per parameter (data included), which is not a jac."""
    gs = symgrad.grad(sse)(P0, T, Y)
    assert isinstance(gs, tuple) and [g.shape for g in gs] == [(3,), T.shape, Y.shape]
    np.testing.assert_allclose(gs[0], sse_grad_by_hand(P0, T, Y), rtol=1e-12)
    with pytest.raises(ValueError):
        optimize.minimize(sse, P0, args=(T, Y), jac=symgrad.grad(sse), method="BFGS")


# ---------------------------------------------------------------------------
# minimize
# ---------------------------------------------------------------------------

def test_bfgs_with_grad_converges_to_the_rosenbrock_minimum():
    r = fit_scipy.fit_rosen("grad")
    assert r.success, r.message
    np.testing.assert_allclose(r.x, np.ones(5), atol=1e-5)
    assert r.fun < 1e-10


def test_jac_saves_function_evaluations():
    with_jac = fit_scipy.fit_rosen("grad")
    without = fit_scipy.fit_rosen("none")
    # without jac, every gradient costs len(x0) more evaluations of f
    assert with_jac.nfev < without.nfev
    assert without.nfev >= with_jac.njev * len(X0_ROSEN)
    # and the exact gradient lands closer to the minimum than finite differences
    assert np.abs(with_jac.x - 1).max() <= np.abs(without.x - 1).max()
    curve_jac, curve_fd = fit_scipy.fit_curve("grad"), fit_scipy.fit_curve("none")
    assert curve_jac.nfev < curve_fd.nfev


def test_value_and_grad_with_jac_true_is_the_same_run():
    vg = symgrad.value_and_grad(rosen)
    value, g = vg(X0_ROSEN)
    assert value == pytest.approx(optimize.rosen(X0_ROSEN), rel=1e-12)
    np.testing.assert_allclose(np.asarray(g), optimize.rosen_der(X0_ROSEN), rtol=1e-12)
    a = fit_scipy.fit_rosen("value_and_grad")
    b = fit_scipy.fit_rosen("grad")
    assert a.success
    np.testing.assert_allclose(a.x, np.ones(5), atol=1e-5)
    # one call gives both: the same iterates as fun + jac separately
    np.testing.assert_allclose(a.x, b.x, rtol=1e-12)
    assert a.nit == b.nit and a.nfev == b.nfev


def test_curve_fit_matches_scipys_curve_fit():
    ref, _ = optimize.curve_fit(lambda t, a, k, c: a * np.exp(-k * t) + c, T, Y, p0=P0)
    for jac in ("grad", "value_and_grad"):
        r = fit_scipy.fit_curve(jac)
        assert r.success, r.message
        np.testing.assert_allclose(r.x, ref, rtol=1e-4)
        np.testing.assert_allclose(r.x, fit_scipy.TRUE_P, atol=0.02)
        assert r.fun == pytest.approx(sse(ref, T, Y), rel=1e-6)
        np.testing.assert_allclose(sse_grad_by_hand(r.x, T, Y), 0.0, atol=1e-4)


def test_newton_cg_with_symgrad_hessian():
    H = symgrad.hessian(rosen)(X0_ROSEN)
    np.testing.assert_allclose(np.asarray(H), optimize.rosen_hess(X0_ROSEN), rtol=1e-12)
    r = optimize.minimize(rosen, X0_ROSEN, jac=symgrad.grad(rosen),
                          hess=symgrad.hessian(rosen), method="Newton-CG")
    assert r.success, r.message
    np.testing.assert_allclose(r.x, np.ones(5), atol=1e-3)


# ---------------------------------------------------------------------------
# what symgrad does not do yet (strict: these fail until it does)
# ---------------------------------------------------------------------------

def rosen_sliced(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_vectorized_rosenbrock_with_slices():
    g = symgrad.grad(rosen_sliced)(X0_ROSEN)
    np.testing.assert_allclose(g, optimize.rosen_der(X0_ROSEN), rtol=1e-12)


def test_gradient_of_an_ndarray_is_an_ndarray():
    g = symgrad.grad(rosen)(X0_ROSEN)
    assert isinstance(g, np.ndarray) and g.shape == X0_ROSEN.shape
