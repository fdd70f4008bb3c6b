"""SciPy functions symgrad differentiates by inlining a model of them, as
:mod:`symgrad.numpy_models` does for numpy's: ``scipy.special.logsumexp``, ``softmax``,
``log_softmax``; the normal distribution's ``scipy.stats.norm.pdf``, ``logpdf``,
``cdf``, ``logcdf``, ``sf`` and ``logsf``; the densities (``pdf``, ``logpdf``) of
``expon``, ``gamma``, ``chi2``, ``beta``, ``t``, ``dirichlet`` and
``multivariate_normal``; ``laplace``, ``logistic``, ``cauchy``, ``lognorm`` and
``uniform`` (their ``cdf`` too); ``halfnorm``, ``invgamma``, ``weibull_min``;
``poisson``'s, ``binom``'s, ``bernoulli``'s, ``nbinom``'s and ``geom``'s ``pmf``/``logpmf``; and
``scipy.linalg``'s ``cholesky``, ``cho_factor``/``cho_solve``, ``solve``,
``solve_triangular``, ``inv``, ``det``, ``eigh``, ``eigvalsh`` (through numpy.linalg)
and ``expm`` (scaling and squaring) (with ``loc`` and
``scale``; inside the support, with valid parameters).  Each is SciPy's
own steps (SciPy 1.15 and later: the same values to the last bit for real arguments,
except where a docstring says),
written with operations that have rules (``special.ndtr`` ...: see
:mod:`symgrad.rules_scipy`), so every mode differentiates them as user code.  Imported
only when SciPy is.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import scipy.special as special

__all__ = ["scipy_model_of"]

_NORM_PDF_C = math.sqrt(2 * math.pi)
_NORM_PDF_LOGC = math.log(math.sqrt(2 * math.pi))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) along ``axis``: the largest term taken out of the sum (its
    count ``m``), the rest summed relative to it, ``log1p(s) + log(m) + a_max``."""
    if return_sign:
        raise ValueError("symgrad models logsumexp(..., return_sign=True) of real "
                         "numbers only without the sign: drop return_sign")
    if b is None:
        return _logsumexp(np.atleast_1d(a * 1.0), 1.0, axis, keepdims)
    weights = np.broadcast_to(b, np.shape(np.atleast_1d(a))) * 1.0
    return _logsumexp(np.where(weights == 0, -np.inf, np.atleast_1d(a * 1.0)), weights, axis,
                      keepdims)


def _logsumexp(a, b, axis, keepdims):
    a_max = np.max(a, axis=axis, keepdims=True)
    top = a == a_max
    m = np.sum(np.where(top, b, 0.0), axis=axis, keepdims=True)
    s = np.sum(b * np.exp(np.where(top, -np.inf, a) - a_max), axis=axis, keepdims=True)
    s = np.where(s == 0, s, s / m)
    out = np.log1p(s) + np.log(m) + a_max
    out = out if keepdims else np.squeeze(out, axis=axis)
    return out if np.ndim(out) else out[()]


def softmax(x, axis=None):
    x_max = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - x_max)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=None):
    x_max = np.max(x, axis=axis, keepdims=True)
    x_max = np.where(np.isfinite(x_max), x_max, 0.0)
    tmp = x - x_max
    return tmp - np.log(np.sum(np.exp(tmp), axis=axis, keepdims=True))


def norm_pdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.exp(-z ** 2 / 2.0) / _NORM_PDF_C / scale


def norm_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return -z ** 2 / 2.0 - _NORM_PDF_LOGC - np.log(scale)


def _of_standard(f: Any, tail: bool = False) -> Any:
    """The model ``f((x - loc) / scale)`` (``tail``: of its negative, the upper tail
    of a symmetric distribution), as SciPy's ``cdf``/``sf`` and their logs are."""
    def model(x, loc=0.0, scale=1.0):
        z = (x - loc) / scale
        return f(-z) if tail else f(z)
    return model


norm_cdf, norm_sf = _of_standard(special.ndtr), _of_standard(special.ndtr, True)
norm_logcdf, norm_logsf = _of_standard(special.log_ndtr), _of_standard(special.log_ndtr, True)


def expon_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z >= 0, -z, -np.inf) - np.log(scale)


def expon_pdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z >= 0, np.exp(-z), 0.0) / scale


def gamma_logpdf(x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z > 0, special.xlogy(a - 1.0, z) - z - special.gammaln(a),
                    -np.inf) - np.log(scale)


def gamma_pdf(x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z > 0, np.exp(special.xlogy(a - 1.0, z) - z - special.gammaln(a)),
                    0.0) / scale


def chi2_logpdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z > 0, special.xlogy(df / 2. - 1, z) - z / 2. - special.gammaln(df / 2.)
                    - (np.log(2) * df) / 2., -np.inf) - np.log(scale)


def chi2_pdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z > 0, np.exp(special.xlogy(df / 2. - 1, z) - z / 2. - special.gammaln(
        df / 2.) - (np.log(2) * df) / 2.), 0.0) / scale


def beta_logpdf(x, a, b, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    inside = (z > 0) & (z < 1)
    return np.where(inside, special.xlog1py(b - 1.0, -z) + special.xlogy(a - 1.0, z)
                    - special.betaln(a, b), -np.inf) - np.log(scale)


def beta_pdf(x, a, b, loc=0.0, scale=1.0):
    """(exp of the log density: SciPy's own pdf is a separate kernel, so the value may
    differ from SciPy's in the last bits)"""
    return np.exp(beta_logpdf(x, a, b, loc, scale))


def t_logpdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return (np.log(special.poch(0.5 * df, 0.5)) - 0.5 * (np.log(df) + np.log(np.pi))
            - (df + 1) / 2 * np.log1p(z * z / df)) - np.log(scale)


def t_pdf(x, df, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.exp(np.log(special.poch(0.5 * df, 0.5)) - 0.5 * (np.log(df) + np.log(np.pi))
                  - (df + 1) / 2 * np.log1p(z * z / df)) / scale


def laplace_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.log(0.5 * np.exp(-np.abs(z))) - np.log(scale)


def laplace_pdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return 0.5 * np.exp(-np.abs(z)) / scale


def laplace_cdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z > 0, 1.0 - 0.5 * np.exp(-np.abs(z)), 0.5 * np.exp(-np.abs(z)))


def laplace_sf(x, loc=0.0, scale=1.0):
    return laplace_cdf(-x, -loc, scale)


def logistic_logpdf(x, loc=0.0, scale=1.0):
    """(``np.log1p`` where SciPy calls its own ``special.log1p``: the value may differ
    from SciPy's in the last bits)"""
    y = -np.abs((x - loc) / scale)
    return y - 2. * np.log1p(np.exp(y)) - np.log(scale)


def logistic_pdf(x, loc=0.0, scale=1.0):
    return np.exp(logistic_logpdf(x, loc, scale) + np.log(scale)) / scale


logistic_cdf, logistic_sf = _of_standard(special.expit), _of_standard(special.expit, True)
logistic_logcdf = _of_standard(special.log_expit)
logistic_logsf = _of_standard(special.log_expit, True)


def cauchy_logpdf(x, loc=0.0, scale=1.0):
    absx = np.abs((x - loc) / scale)
    inside = absx < 1
    far = np.where(inside, 2.0, absx)          # (the branch not taken, kept finite)
    return np.where(inside, -_LOG_PI - np.log1p(absx ** 2),
                    -_LOG_PI - (2 * np.log(far) + np.log1p((1 / far) ** 2))) - np.log(scale)


def cauchy_pdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return 1.0 / np.pi / (1.0 + z * z) / scale


def cauchy_cdf(x, loc=0.0, scale=1.0):
    return np.arctan2(1, -((x - loc) / scale)) / np.pi


def cauchy_sf(x, loc=0.0, scale=1.0):
    return np.arctan2(1, (x - loc) / scale) / np.pi


def lognorm_logpdf(x, s, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    pos = np.where(z > 0, z, 1.0)              # (the branch not taken, kept finite)
    return np.where(z > 0, -np.log(pos) ** 2 / (2 * s ** 2)
                    - np.log(s * pos * np.sqrt(2 * np.pi)), -np.inf) - np.log(scale)


def lognorm_pdf(x, s, loc=0.0, scale=1.0):
    return np.exp(lognorm_logpdf(x, s, loc, scale) + np.log(scale)) / scale


def lognorm_cdf(x, s, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z > 0, special.ndtr(np.log(np.where(z > 0, z, 1.0)) / s), 0.0)


def uniform_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where((z >= 0) & (z <= 1), 0.0, -np.inf) - np.log(scale)


def uniform_pdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where((z >= 0) & (z <= 1), 1.0, 0.0) / scale


def uniform_cdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z < 0, 0.0, np.where(z > 1, 1.0, z))


def poisson_logpmf(k, mu, loc=0):
    k = k - loc
    return np.where(k >= 0, special.xlogy(k, mu) - special.gammaln(k + 1) - mu, -np.inf)


def poisson_pmf(k, mu, loc=0):
    k = k - loc
    return np.where(k >= 0, np.exp(special.xlogy(k, mu) - special.gammaln(k + 1) - mu), 0.0)


def binom_logpmf(k, n, p, loc=0):
    k = k - loc
    comb = special.gammaln(n + 1) - (special.gammaln(k + 1) + special.gammaln(n - k + 1))
    return np.where((k >= 0) & (k <= n) & (k == np.floor(k)),
                    comb + special.xlogy(k, p) + special.xlog1py(n - k, -p), -np.inf)


def binom_pmf(k, n, p, loc=0):
    return np.exp(binom_logpmf(k, n, p, loc))


def bernoulli_logpmf(k, p, loc=0):
    return binom_logpmf(k, 1, p, loc)


def bernoulli_pmf(k, p, loc=0):
    return np.exp(binom_logpmf(k, 1, p, loc))


def nbinom_logpmf(k, n, p, loc=0):
    k = k - loc
    comb = special.gammaln(n + k) - special.gammaln(k + 1) - special.gammaln(n)
    return np.where((k >= 0) & (k == np.floor(k)),
                    comb + n * np.log(p) + special.xlog1py(k, -p), -np.inf)


def nbinom_pmf(k, n, p, loc=0):
    return np.exp(nbinom_logpmf(k, n, p, loc))


def geom_logpmf(k, p, loc=0):
    k = k - loc
    return np.where((k >= 1) & (k == np.floor(k)),
                    special.xlog1py(k - 1, -p) + np.log(p), -np.inf)


def geom_pmf(k, p, loc=0):
    k = k - loc
    return np.where((k >= 1) & (k == np.floor(k)), np.power(1 - p, k - 1) * p, 0.0)


def halfnorm_logpdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z >= 0, 0.5 * np.log(2.0 / np.pi) - z * z / 2.0, -np.inf) - np.log(scale)


def halfnorm_pdf(x, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z >= 0, np.sqrt(2.0 / np.pi) * np.exp(-z * z / 2.0), 0.0) / scale


def invgamma_logpdf(x, a, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z > 0, -(a + 1) * np.log(z) - special.gammaln(a) - 1.0 / z,
                    -np.inf) - np.log(scale)


def invgamma_pdf(x, a, loc=0.0, scale=1.0):
    return np.exp(invgamma_logpdf(x, a, loc, scale))


def weibull_min_logpdf(x, c, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z >= 0, np.log(c) + special.xlogy(c - 1, z) - pow(z, c),
                    -np.inf) - np.log(scale)


def weibull_min_pdf(x, c, loc=0.0, scale=1.0):
    z = (x - loc) / scale
    return np.where(z >= 0, c * pow(z, c - 1) * np.exp(-pow(z, c)), 0.0) / scale


def dirichlet_logpdf(x, alpha):
    ln_b = np.sum(special.gammaln(alpha)) - special.gammaln(np.sum(alpha))
    return - ln_b + np.sum((special.xlogy(alpha - 1, x.T)).T, 0)


def dirichlet_pdf(x, alpha):
    return np.exp(dirichlet_logpdf(x, alpha))


def multivariate_normal_logpdf(x, mean=None, cov=1):
    """The log density through the Cholesky factor of ``cov`` (a 2-D positive definite
    matrix; SciPy's own goes through its eigenvalues, so the value may differ from
    SciPy's in the last bits)."""
    if np.ndim(cov) != 2:
        raise ValueError("symgrad models multivariate_normal with a 2-D covariance "
                         "matrix: pass cov=np.diag(v) or cov=s * np.eye(k)")
    dev = x if mean is None else x - mean
    chol = np.linalg.cholesky(cov)
    white = np.linalg.solve(chol, np.swapaxes(np.atleast_2d(dev), -1, -2))
    maha = np.sum(white * white, axis=0)
    out = -0.5 * (np.shape(cov)[0] * _LOG_2PI + 2.0 * np.sum(np.log(np.diagonal(chol)))
                  + maha)
    return out if np.ndim(dev) > 1 else out[0]


def multivariate_normal_pdf(x, mean=None, cov=1):
    return np.exp(multivariate_normal_logpdf(x, mean, cov))


def multigammaln(a, d):
    if np.any(a <= 0.5 * (d - 1)):
        raise ValueError("condition a (%f) > 0.5 * (d-1) (%f) not met" % (a, 0.5 * (d - 1)))
    res = (d * (d - 1) * 0.25) * np.log(np.pi)
    return res + np.sum(special.gammaln(np.array([a - (j - 1.) / 2 for j in range(1, d + 1)])),
                        axis=0)


_LOG_2PI = math.log(2 * math.pi)
_LOG_PI = np.log(np.pi)

class FrozenNorm(NamedTuple):
    """``stats.norm(loc, scale)``: its methods are the models above with its parameters."""
    loc: Any = 0.0
    scale: Any = 1.0

    def pdf(self, x):
        return norm_pdf(x, self.loc, self.scale)

    def logpdf(self, x):
        return norm_logpdf(x, self.loc, self.scale)

    def cdf(self, x):
        return norm_cdf(x, self.loc, self.scale)

    def logcdf(self, x):
        return norm_logcdf(x, self.loc, self.scale)

    def sf(self, x):
        return norm_sf(x, self.loc, self.scale)

    def logsf(self, x):
        return norm_logsf(x, self.loc, self.scale)


class Frozen(NamedTuple):
    """``stats.gamma(a, loc, scale)``, ``stats.t(df, ...)``, ``stats.laplace(loc,
    scale)`` ...: the models of its functions with its shape parameters (none for
    ``laplace``, ``logistic``, ``cauchy``, ``uniform``), ``loc`` and ``scale``."""
    logpdf_of: Any
    pdf_of: Any
    cdf_of: Any
    shapes: Any
    loc: Any = 0.0
    scale: Any = 1.0

    def pdf(self, x):
        return self.pdf_of(x, *self.shapes, self.loc, self.scale)

    def logpdf(self, x):
        return self.logpdf_of(x, *self.shapes, self.loc, self.scale)

    def cdf(self, x):
        if self.cdf_of is None:
            raise ValueError("symgrad models the pdf and logpdf of this distribution")
        return self.cdf_of(x, *self.shapes, self.loc, self.scale)


def laplace_frozen(loc=0.0, scale=1.0):
    return Frozen(laplace_logpdf, laplace_pdf, laplace_cdf, (), loc, scale)


def logistic_frozen(loc=0.0, scale=1.0):
    return Frozen(logistic_logpdf, logistic_pdf, logistic_cdf, (), loc, scale)


def cauchy_frozen(loc=0.0, scale=1.0):
    return Frozen(cauchy_logpdf, cauchy_pdf, cauchy_cdf, (), loc, scale)


def uniform_frozen(loc=0.0, scale=1.0):
    return Frozen(uniform_logpdf, uniform_pdf, uniform_cdf, (), loc, scale)


def lognorm_frozen(s, loc=0.0, scale=1.0):
    return Frozen(lognorm_logpdf, lognorm_pdf, lognorm_cdf, (s,), loc, scale)


def norm_frozen(loc=0.0, scale=1.0):
    return FrozenNorm(loc, scale)


def gamma_frozen(a, loc=0.0, scale=1.0):
    return Frozen(gamma_logpdf, gamma_pdf, None, (a,), loc, scale)


def t_frozen(df, loc=0.0, scale=1.0):
    return Frozen(t_logpdf, t_pdf, None, (df,), loc, scale)


def chi2_frozen(df, loc=0.0, scale=1.0):
    return Frozen(chi2_logpdf, chi2_pdf, None, (df,), loc, scale)


# --------------------------------------------------------------------------- scipy.linalg
# LAPACK's symmetric and Cholesky routines read one triangle of ``a``: the models make
# the symmetric matrix from that triangle, so a derivative reaches only the entries
# SciPy reads (central differences of SciPy's function agree entry by entry).  Values
# go through numpy.linalg: equal to SciPy's up to rounding (about 1e-15).

_SYMMETRIC = {"sym", "her", "pos", "symmetric", "hermitian", "positive definite"}
_GENERAL = {None, "gen", "general"}


def _from_triangle(a, lower):
    """The symmetric matrix LAPACK sees in ``a``'s lower (else upper) triangle."""
    if lower:
        return np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2)
    return np.triu(a) + np.swapaxes(np.triu(a, 1), -1, -2)


def _as_assumed(a, assume_a, lower):
    if assume_a in _GENERAL:
        return a
    if assume_a in _SYMMETRIC:
        return _from_triangle(a, lower)
    if assume_a in ("lower triangular", "upper triangular"):
        return np.tril(a) if assume_a == "lower triangular" else np.triu(a)
    if assume_a == "diagonal":
        return a * np.eye(np.shape(a)[-1])
    raise ValueError(f"symgrad models scipy.linalg with assume_a in 'gen', 'sym', 'her', "
                     f"'pos', 'diagonal' or triangular, not {assume_a!r}")


def linalg_cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    low = np.linalg.cholesky(_from_triangle(a, lower))
    return low if lower else np.swapaxes(low, -1, -2)


def linalg_solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
                 assume_a=None, transposed=False):
    m = _as_assumed(a, assume_a, lower)
    if assume_a in ("pos", "positive definite"):     # (LAPACK's Cholesky: it raises
        low = np.linalg.cholesky(m)                   # where m is not positive definite)
        return np.linalg.solve(np.swapaxes(low, -1, -2), np.linalg.solve(low, b))
    return np.linalg.solve(np.swapaxes(m, -1, -2) if transposed else m, b)


def linalg_inv(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    m = _as_assumed(a, assume_a, lower)
    if assume_a in ("pos", "positive definite"):
        np.linalg.cholesky(m)                         # (raises as LAPACK's does)
    return np.linalg.inv(m)


def linalg_det(a, overwrite_a=False, check_finite=True):
    return np.linalg.det(a)


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        t = t * (1.0 - np.eye(np.shape(a)[-1])) + np.eye(np.shape(a)[-1])
    if (trans != "N") if isinstance(trans, str) else (trans != 0):    # (T, C, 1, 2)
        t = np.swapaxes(t, -1, -2)
    return np.linalg.solve(t, b)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(the factor, ``lower``); the other triangle holds zeros (SciPy leaves whatever was
    there: never read)"""
    return linalg_cholesky(a, lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    low = np.tril(c) if lower else np.swapaxes(np.triu(c), -1, -2)
    return np.linalg.solve(np.swapaxes(low, -1, -2), np.linalg.solve(low, b))


def linalg_eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False,
                overwrite_b=False, type=1, check_finite=True, subset_by_index=None,
                subset_by_value=None, driver=None):
    if b is not None or subset_by_index is not None or subset_by_value is not None:
        raise ValueError("symgrad models scipy.linalg.eigh of one matrix, every "
                         "eigenvalue: leave out b and the subsets")
    sym = _from_triangle(a, lower)
    if eigvals_only:
        return np.linalg.eigvalsh(sym)
    return np.linalg.eigh(sym)


def linalg_eigvalsh(a, b=None, *, lower=True, overwrite_a=False, overwrite_b=False, type=1,
                    check_finite=True, subset_by_index=None, subset_by_value=None,
                    driver=None):
    return linalg_eigh(a, b, lower=lower, eigvals_only=True,
                       subset_by_index=subset_by_index, subset_by_value=subset_by_value)


_PADE13 = (64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
           129060195264000., 10559470521600., 670442572800., 33522128640., 1323241920.,
           40840800., 960960., 16380., 182., 1.)
_THETA13 = 5.371920351148152


def linalg_expm(A):
    """The matrix exponential by scaling and squaring with the [13/13] Pade approximant
    (Higham 2005); SciPy's chooses among several degrees, so the value differs from
    SciPy's by rounding (about 1e-15, relative; up to about 1e-12 where many squarings
    amplify it).  The derivative is the approximant's,
    as accurate (Al-Mohy and Higham 2009)."""
    if np.ndim(A) != 2 or np.shape(A)[0] != np.shape(A)[1]:
        raise ValueError("symgrad models scipy.linalg.expm of one square matrix")
    b = _PADE13
    norm = np.max(np.sum(np.abs(A), axis=0))
    s = max(0, int(np.ceil(np.log2(norm / _THETA13)))) if norm > _THETA13 else 0
    a = A / 2.0 ** s
    ident = np.eye(np.shape(A)[0])
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4
             + b[3] * a2 + b[1] * ident)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * ident
    r = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r


_MODELS: dict = {special.logsumexp: logsumexp, special.softmax: softmax,
                 special.log_softmax: log_softmax, special.multigammaln: multigammaln}
_STATS: list = []            # (scipy.stats's models, added when a function of it is met)
_LINALG: list = []           # (scipy.linalg's, likewise)


def _add_linalg_models() -> None:
    import scipy.linalg as linalg
    _LINALG.append(linalg)
    _MODELS.update({
        linalg.cholesky: linalg_cholesky, linalg.solve: linalg_solve, linalg.inv: linalg_inv,
        linalg.det: linalg_det, linalg.solve_triangular: solve_triangular,
        linalg.cho_factor: cho_factor, linalg.cho_solve: cho_solve, linalg.eigh: linalg_eigh,
        linalg.eigvalsh: linalg_eigvalsh, linalg.expm: linalg_expm})


#: scipy.stats's distributions and the functions of each modelled here, as
#: ``{distribution}_{function}`` (``{distribution}_frozen``: ``stats.norm(mu, s)``)
_STATS_FUNCTIONS = {
    "norm": ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf"), "expon": ("logpdf", "pdf"),
    "gamma": ("logpdf", "pdf"), "chi2": ("logpdf", "pdf"), "beta": ("logpdf", "pdf"),
    "t": ("logpdf", "pdf"), "poisson": ("logpmf", "pmf"), "dirichlet": ("logpdf", "pdf"),
    "multivariate_normal": ("logpdf", "pdf"), "laplace": ("logpdf", "pdf", "cdf", "sf"),
    "logistic": ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"),
    "cauchy": ("logpdf", "pdf", "cdf", "sf"), "lognorm": ("logpdf", "pdf", "cdf"),
    "uniform": ("logpdf", "pdf", "cdf"), "binom": ("logpmf", "pmf"),
    "bernoulli": ("logpmf", "pmf"), "nbinom": ("logpmf", "pmf"), "geom": ("logpmf", "pmf"),
    "halfnorm": ("logpdf", "pdf"), "invgamma": ("logpdf", "pdf"),
    "weibull_min": ("logpdf", "pdf")}


def _add_stats_models() -> None:
    import scipy.stats as stats
    _STATS.append(stats)
    here = globals()
    for name, functions in _STATS_FUNCTIONS.items():
        dist = getattr(stats, name)
        _MODELS.update({getattr(dist, f): here[f"{name}_{f}"] for f in functions})
        if f"{name}_frozen" in here:
            _MODELS[dist] = here[f"{name}_frozen"]


def scipy_model_of(obj: Any) -> Any:
    """The model inlined for a call of the SciPy function ``obj``, or None (scipy.stats is
    read only once a function of it is met: it is slow to import)."""
    module = getattr(obj, "__module__", None) or ""
    if not _STATS and module.startswith("scipy.stats"):
        _add_stats_models()
    if not _LINALG and module.startswith("scipy.linalg"):
        _add_linalg_models()
    try:
        return _MODELS.get(obj)
    except TypeError:                    # (an unhashable callable)
        return None
