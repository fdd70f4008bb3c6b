"""``scipy.linalg`` inside a differentiated function: ``cholesky``, ``cho_factor`` /
``cho_solve``, ``solve`` (``assume_a``), ``solve_triangular``, ``inv``, ``det``, ``eigh``
and ``eigvalsh`` are models through ``numpy.linalg``, ``expm`` one by scaling and
squaring (``symgrad/scipy_models.py``).

LAPACK's symmetric and Cholesky routines read one triangle of the matrix, so the
matrices here are not symmetric: the derivative must reach only the entries SciPy
reads, which central differences of SciPy's own function show entry by entry.  Values
are compared with SciPy's (to 1e-12, relative); every mode is checked (``grad``
against differences, ``jvp`` against the gradient, ``hvp`` against differences of the
gradient).  Needs ``.[scipy]``."""

import numpy as np
import pytest

linalg = pytest.importorskip("scipy.linalg")

import symgrad  # noqa: E402
from fuzz_oracles import load  # noqa: E402
from numeric import check_array_modes  # noqa: E402

SOURCE = '''
import numpy as np
import scipy.linalg as sl
from scipy.linalg import cho_factor, cho_solve, solve_triangular

B = np.array([0.5, -1.0, 2.0])


def cholesky_upper(a):
    return np.sum(sl.cholesky(a) * np.arange(9.0).reshape(3, 3))


def cholesky_lower(a):
    return np.sum(sl.cholesky(a, lower=True) ** 2 * np.arange(1.0, 10.0).reshape(3, 3))


def cho_pair(a):
    c = cho_factor(a, lower=True)
    u = cho_factor(a)
    return np.sum(cho_solve(c, B) * B) + np.sum(cho_solve(u, B) ** 2)


def solves(a):
    return np.sum(sl.solve(a, B) + sl.solve(a, B, assume_a="pos") * 2.0
                  + sl.solve(a, B, assume_a="sym", lower=True) ** 2
                  + sl.solve(a, B, transposed=True))


def triangular(a):
    return np.sum(solve_triangular(a, B, lower=True) + solve_triangular(a, B, trans="T")
                  + solve_triangular(a, B, lower=True, unit_diagonal=True, trans=1) ** 2)


def inverse_and_det(a):
    return np.sum(sl.inv(a) * a) + sl.det(a) + np.sum(sl.inv(a, assume_a="pos"))


def spectrum(a):
    w, v = sl.eigh(a)
    return np.sum(w * np.arange(3.0)) + np.sum(v ** 4) + np.sum(sl.eigvalsh(a, lower=False) ** 2) \\
        + np.sum(sl.eigh(a, eigvals_only=True) ** 3)


def exponential(a):
    return np.sum(sl.expm(a) * np.arange(9.0).reshape(3, 3)) + np.trace(sl.expm(a * 3.0))


def logarithm(a):
    return np.sum(sl.logm(a))


def gp_marginal(theta, x, y):
    ell, noise = np.exp(theta[0]), np.exp(theta[1])
    d = x[:, None] - x[None, :]
    k = np.exp(-0.5 * d * d / (ell * ell)) + noise * np.eye(len(x))
    low = sl.cholesky(k, lower=True)
    alpha = cho_solve((low, True), y)
    return 0.5 * np.dot(y, alpha) + np.sum(np.log(np.diag(low)))
'''

CASES = ["cholesky_upper", "cholesky_lower", "cho_pair", "solves", "triangular",
         "inverse_and_det", "spectrum", "exponential"]
# not symmetric, positive definite in both triangles' symmetric matrices
A = np.array([[4.0, 1.2, -0.7], [0.9, 3.0, 0.4], [-0.3, 0.6, 2.5]])


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


def _fd(f, a, h=1e-6):
    g = np.zeros_like(a)
    for k in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[k] = h
        g[k] = (f(a + e) - f(a - e)) / (2 * h)
    return g


@pytest.mark.parametrize("name", CASES)
def test_every_mode_against_scipy_and_differences(mod, name):
    f = getattr(mod, name)
    value, _ = symgrad.value_and_grad(f)(A.copy())
    assert np.isclose(value, f(A.copy()), rtol=1e-12, atol=0)
    check_array_modes(f, A, np.linspace(-0.5, 0.7, 9).reshape(3, 3), jvp_rtol=1e-9,
                      jvp_atol=1e-11)


def test_only_the_triangle_lapack_reads_gets_a_derivative(mod):
    g = symgrad.grad(mod.cholesky_upper)(A.copy())
    assert np.all(np.tril(g, -1) == 0.0) and np.any(np.triu(g, 1) != 0.0)
    g = symgrad.grad(mod.cholesky_lower)(A.copy())
    assert np.all(np.triu(g, 1) == 0.0) and np.any(np.tril(g, -1) != 0.0)


def test_a_gaussian_process_marginal_likelihood(mod):
    rng = np.random.default_rng(4)
    x, y = np.sort(rng.uniform(-2, 2, 6)), rng.normal(size=6)
    theta = np.array([0.2, -1.0])
    g = symgrad.grad(mod.gp_marginal, wrt="theta")(theta, x, y)
    h = 1e-6
    want = [(mod.gp_marginal(theta + h * e, x, y) - mod.gp_marginal(theta - h * e, x, y))
            / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(g, want, rtol=1e-6)


@pytest.mark.parametrize("scale", [0.01, 1.0, 6.0])
def test_expm_at_every_scale(mod, scale):
    """Small norms take no squaring; large ones are scaled down and squared back (the
    loop's count depends on the norm)."""
    a = np.random.default_rng(2).normal(size=(3, 3)) * scale
    value, g = symgrad.value_and_grad(mod.exponential)(a.copy())
    # (SciPy picks its own degree and scaling: rounding differs, most where the
    # squarings amplify it)
    assert np.isclose(value, mod.exponential(a), rtol=1e-11, atol=0)
    np.testing.assert_allclose(g, _fd(mod.exponential, a, 1e-6 * max(scale, 1.0)),
                               rtol=1e-6, atol=1e-6 * np.max(np.abs(g)))


def test_what_is_not_modelled_is_a_clear_error(mod):
    with pytest.raises(symgrad.SymgradError, match="no derivative rule for scipy.linalg"):
        symgrad.grad(mod.logarithm)(A.copy())


def test_solve_assuming_positive_definite_raises_where_lapack_does(mod):
    """``assume_a="pos"`` of a symmetric matrix that is not positive definite: SciPy
    raises (LAPACK's Cholesky fails); so does the gradient, never a made-up number."""
    indefinite = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    with pytest.raises(np.linalg.LinAlgError):
        mod.solves(indefinite)
    with pytest.raises(np.linalg.LinAlgError):
        symgrad.grad(mod.solves)(indefinite)
