"""SciPy functions symgrad differentiates by inlining a model of them, as
:mod:`symgrad.numpy_models` does for numpy's: ``scipy.special.logsumexp``, ``softmax``,
``log_softmax``, and the normal distribution's ``scipy.stats.norm.pdf``, ``logpdf``,
``cdf``, ``logcdf``, ``sf`` and ``logsf`` (with ``loc`` and ``scale``).  Each is SciPy's
own steps (SciPy 1.15 and later: the same values to the last bit for real arguments),
written with operations that have rules (``special.ndtr`` ...: see
:mod:`symgrad.rules_scipy`), so every mode differentiates them as user code.  Imported
only when SciPy is.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as special
import scipy.stats as stats

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


def norm_cdf(x, loc=0.0, scale=1.0):
    return special.ndtr((x - loc) / scale)


def norm_logcdf(x, loc=0.0, scale=1.0):
    return special.log_ndtr((x - loc) / scale)


def norm_sf(x, loc=0.0, scale=1.0):
    return special.ndtr(-((x - loc) / scale))


def norm_logsf(x, loc=0.0, scale=1.0):
    return special.log_ndtr(-((x - loc) / scale))


_MODELS: dict = {special.logsumexp: logsumexp, special.softmax: softmax,
                 special.log_softmax: log_softmax, stats.norm.pdf: norm_pdf,
                 stats.norm.logpdf: norm_logpdf, stats.norm.cdf: norm_cdf,
                 stats.norm.logcdf: norm_logcdf, stats.norm.sf: norm_sf,
                 stats.norm.logsf: norm_logsf}


def scipy_model_of(obj: Any) -> Any:
    """The model inlined for a call of the SciPy function ``obj``, or None."""
    try:
        return _MODELS.get(obj)
    except TypeError:                    # (an unhashable callable)
        return None
