"""NumPy functions symgrad differentiates by inlining a model of them, as
:mod:`symgrad.stdlib_models` does for the standard library: each is a composition of
operations that have rules (``np.ptp`` is ``np.max - np.min``), so every mode works on
it as on user code.  Imported only when numpy is (the core does not need it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["numpy_model_of"]


def _constant(fn: Any) -> Any:
    fn.__symgrad_constant__ = True       # piecewise constant: derivative 0
    return fn


@_constant
def _sign_of(y: Any) -> Any:
    return np.copysign(1.0, y)


def ptp(a, axis=None, keepdims=False):
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


def median(a, axis=None):
    if axis is None:
        s = np.sort(np.ravel(a))
    else:
        s = np.moveaxis(np.sort(a, axis=axis), axis, 0)
    n = s.shape[0]
    middle = (s[(n - 1) // 2] + s[n // 2]) / 2
    if axis is None:               # (a NaN sorts last, and makes the median NaN)
        return s[n - 1] if np.isnan(s[n - 1]) else middle
    return np.where(np.isnan(s[n - 1]), s[n - 1], middle)


def copysign(x1, x2):
    return np.abs(x1) * _sign_of(x2)


def float_power(x1, x2):
    return np.power(x1 * 1.0, x2)


_MODELS = {np.ptp: ptp, np.median: median, np.copysign: copysign,
           np.float_power: float_power}


def numpy_model_of(obj: Any) -> Any:
    """The model inlined for a call of the numpy function ``obj``, or None."""
    try:
        return _MODELS.get(obj)
    except TypeError:                    # (an unhashable callable)
        return None
