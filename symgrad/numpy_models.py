"""NumPy functions symgrad differentiates by inlining a model of them, as
:mod:`symgrad.stdlib_models` does for the standard library: each is a composition of
operations that have rules (``np.ptp`` is ``np.max - np.min``), so every mode works on
it as on user code.  Imported only when numpy is (the core does not need it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import SymgradError
from .helpers import helper_object
from .stdlib_models import _constant
from .numpy_gather_models import MODELS as _gather_models

__all__ = ["numpy_model_of"]


@_constant
def _sign_of(y: Any) -> Any:
    return np.copysign(1.0, y)


_sign_of.__symgrad_elementwise__ = True     # type: ignore[attr-defined] (shaped like y)


@_constant
def _slogdet_sign(a: Any) -> Any:
    return np.linalg.slogdet(a)[0]


_eigh_vectors = helper_object("_eigh_vectors")      # (operations: see array_linalg)
_logabsdet = helper_object("_logabsdet")
_svd_values = helper_object("_svd_values")
_svd_left = helper_object("_svd_left")
_svd_right = helper_object("_svd_right")
_qr_q = helper_object("_qr_q")
_qr_r = helper_object("_qr_r")


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


def diag(v, k=0):
    v = np.asarray(v)                  # (a list: its elements, as numpy reads it)
    if np.ndim(v) != 1:
        return np.diagonal(v, k)
    pad = np.zeros(abs(k))
    columns = np.concatenate([pad, v]) if k > 0 else np.concatenate([v, pad])
    return np.eye(v.shape[0] + abs(k), k=k) * columns   # (column j holds its element)


def diagflat(v, k=0):
    return diag(np.ravel(v), k)


def flipud(m):
    return np.flip(m, 0)


def fliplr(m):
    return np.flip(m, 1)


def rot90(m, k=1, axes=(0, 1)):
    if k % 4 == 0:
        return m[...]
    if k % 4 == 2:
        return np.flip(np.flip(m, axes[0]), axes[1])
    if k % 4 == 1:
        return np.swapaxes(np.flip(m, axes[1]), axes[0], axes[1])
    return np.flip(np.swapaxes(m, axes[0], axes[1]), axes[1])


def atleast_3d(a):
    a = np.asarray(a)
    if np.ndim(a) == 0:
        return np.reshape(a, (1, 1, 1))
    if np.ndim(a) == 1:
        return a[np.newaxis, :, np.newaxis]
    if np.ndim(a) == 2:
        return a[:, :, np.newaxis]
    return a


def append(arr, values, axis=None):
    if axis is None:
        return np.concatenate([np.ravel(arr), np.ravel(values)])
    return np.concatenate([arr, values], axis=axis)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    high = 1.7976931348623157e308 if posinf is None else posinf    # (the largest float)
    low = -1.7976931348623157e308 if neginf is None else neginf
    return np.where(np.isnan(x), nan, np.where(np.isposinf(x), high,
                                               np.where(np.isneginf(x), low, x)))


def _count(a, axis, keepdims):
    return np.sum(np.logical_not(np.isnan(a)), axis=axis, keepdims=keepdims)


def nanmean(a, axis=None, keepdims=False):
    return np.nansum(a, axis=axis, keepdims=keepdims) / _count(a, axis, keepdims)


def nanvar(a, axis=None, ddof=0, keepdims=False):
    d = np.where(np.isnan(a), 0.0, a - nanmean(a, axis=axis, keepdims=True))
    return np.sum(d * d, axis=axis, keepdims=keepdims) / (_count(a, axis, keepdims) - ddof)


def nanstd(a, axis=None, ddof=0, keepdims=False):
    v = nanvar(a, axis=axis, ddof=ddof, keepdims=keepdims)
    # (of equal values, 0 with derivative 0, as np.std: sqrt is not differentiated at 0)
    return np.where(v > 0, np.sqrt(np.where(v > 0, v, 1.0)), 0.0 * v)


def nanmax(a, axis=None, keepdims=False):
    m = np.max(np.where(np.isnan(a), -np.inf, a), axis=axis, keepdims=keepdims)
    return np.where(np.all(np.isnan(a), axis=axis, keepdims=keepdims), np.nan, m)


def nanmin(a, axis=None, keepdims=False):
    m = np.min(np.where(np.isnan(a), np.inf, a), axis=axis, keepdims=keepdims)
    return np.where(np.all(np.isnan(a), axis=axis, keepdims=keepdims), np.nan, m)


def select(condlist, choicelist, default=0):
    out = default
    for k in range(len(condlist) - 1, -1, -1):      # (the first true condition wins)
        out = np.where(condlist[k], choicelist[k], out)
    return out


def trace(a, offset=0, axis1=0, axis2=1):
    return np.sum(np.diagonal(a, offset, axis1, axis2), axis=-1)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):     # (of 3-vectors)
    if axis is not None:
        return _cross3(np.moveaxis(a, axis, -1), np.moveaxis(b, axis, -1), axis)
    return _cross3(np.moveaxis(a, axisa, -1), np.moveaxis(b, axisb, -1), axisc)


def _cross3(a, b, axisc):
    if np.shape(a)[-1] != 3 or np.shape(b)[-1] != 3:
        raise ValueError("symgrad differentiates np.cross of 3-vectors")
    c = np.stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
                  a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
                  a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], axis=-1)
    return np.moveaxis(c, -1, axisc)


def rollaxis(a, axis, start=0):
    if start == 0:
        return np.moveaxis(a, axis, 0)
    if start < 0 or axis < 0:
        raise TypeError("symgrad differentiates np.rollaxis with a start of 0, or with an "
                        "axis and a start counted from the front (use np.moveaxis)")
    if axis < start:
        return np.moveaxis(a, axis, start - 1)
    return np.moveaxis(a, axis, start)


def _pieces(ary, bounds, axis):
    moved = np.moveaxis(ary, axis, 0)
    return [np.moveaxis(moved[bounds[k]:bounds[k + 1]], 0, axis)
            for k in range(len(bounds) - 1)]


def split(ary, indices_or_sections, axis=0):
    n = np.shape(ary)[axis]
    if isinstance(indices_or_sections, int):
        if n % indices_or_sections != 0:
            raise ValueError("array split does not result in an equal division")
        size = n // indices_or_sections
        bounds = [k * size for k in range(indices_or_sections + 1)]
    else:
        bounds = [0] + list(indices_or_sections) + [n]
    return _pieces(ary, bounds, axis)


def array_split(ary, indices_or_sections, axis=0):
    n = np.shape(ary)[axis]
    if isinstance(indices_or_sections, int):     # (the first n % k pieces one longer)
        size, extra = n // indices_or_sections, n % indices_or_sections
        bounds = [k * size + min(k, extra) for k in range(indices_or_sections + 1)]
    else:
        bounds = [0] + list(indices_or_sections) + [n]
    return _pieces(ary, bounds, axis)


def hsplit(ary, indices_or_sections):
    if np.ndim(ary) > 1:
        return split(ary, indices_or_sections, axis=1)
    return split(ary, indices_or_sections, axis=0)


def vsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=0)


def dsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=2)


def norm_ord(x, ord, axis=None, keepdims=False):
    """``np.linalg.norm(x, ord)`` for an ``ord`` other than ``"fro"`` (2: of a matrix)."""
    if isinstance(ord, str):       # (the nuclear norm: the sum of the singular values)
        if ord != "nuc":
            raise ValueError(f"np.linalg.norm: ord={ord!r} is not a norm numpy knows")
        return _matrix_norms(x, ord, axis, keepdims)
    a = np.abs(x)
    if isinstance(axis, int) or axis is None and np.ndim(x) == 1:      # vectors
        if ord == np.inf:
            return np.max(a, axis=axis, keepdims=keepdims)
        if ord == -np.inf:
            return np.min(a, axis=axis, keepdims=keepdims)
        if ord == 0:                 # (a count of nonzeros: derivative 0)
            return np.sum(np.where(a > 0, 1.0, 0.0), axis=axis, keepdims=keepdims)
        if ord == 1:
            return np.sum(a, axis=axis, keepdims=keepdims)
        if ord == 2:
            return np.linalg.norm(x, axis=axis, keepdims=keepdims)
        return np.sum(a ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)
    if ord == 1 or ord == -1 or ord == np.inf or ord == -np.inf or ord == 2 or ord == -2:
        return _matrix_norms(x, ord, axis, keepdims)
    raise ValueError(f"np.linalg.norm: ord={ord!r} is not a matrix norm numpy knows")


def _matrix_norms(x, ord, axis, keepdims):
    """The matrix norm of a 2-D array, or of the matrices along two axes=(i, j)."""
    if axis is None:
        if np.ndim(x) != 2:
            raise ValueError("np.linalg.norm: a matrix norm of an array that is not 2-D "
                             "needs axis=(i, j)")
        r = _matrix_norm(x, ord)
        return np.reshape(r, (1, 1)) if keepdims else r
    r = _matrix_norm(np.moveaxis(x, axis, (-2, -1)), ord)
    return np.expand_dims(r, axis) if keepdims else r


def _matrix_norm(m, ord):
    """The norm of each matrix along the last two axes of ``m`` (a str ord: "nuc")."""
    if isinstance(ord, str):
        return np.sum(np.linalg.svd(m, compute_uv=False), axis=-1)
    if ord == 2:                     # (the spectral norms: the largest singular value)
        return np.max(np.linalg.svd(m, compute_uv=False), axis=-1)
    if ord == -2:
        return np.min(np.linalg.svd(m, compute_uv=False), axis=-1)
    a = np.abs(m)
    if ord == 1:                     # (the largest column sum, and its relatives)
        return np.max(np.sum(a, axis=-2), axis=-1)
    if ord == -1:
        return np.min(np.sum(a, axis=-2), axis=-1)
    if ord == np.inf:
        return np.max(np.sum(a, axis=-1), axis=-1)
    return np.min(np.sum(a, axis=-1), axis=-1)        # (ord=-inf)


def take(a, indices, axis=None):
    if axis is None:
        return np.ravel(a)[indices]
    if np.ndim(indices) == 0:                      # (the axis is dropped)
        return np.moveaxis(a, axis, 0)[indices]
    return np.moveaxis(np.moveaxis(a, axis, 0)[indices], 0, axis)


def polyval(p, x):
    y = np.zeros_like(x * 1.0)             # Horner's rule, as numpy computes it
    for k in range(len(p)):
        y = y * x + p[k]
    return y


def take_along_axis(arr, indices, axis=-1):
    if axis is None:
        return np.ravel(arr)[indices]
    moved = np.moveaxis(arr, axis, -1)
    picks = np.moveaxis(indices, axis, -1)
    lead = np.broadcast_shapes(np.shape(moved)[:-1], np.shape(picks)[:-1])  # (as numpy)
    moved = np.broadcast_to(moved, lead + np.shape(moved)[-1:])
    picks = np.broadcast_to(picks, lead + np.shape(picks)[-1:])
    lanes = np.reshape(moved, (-1, np.shape(moved)[-1]))
    chosen = np.reshape(picks, (np.shape(lanes)[0], -1))
    out = lanes[np.arange(np.shape(lanes)[0])[:, None], chosen]
    return np.moveaxis(np.reshape(out, np.shape(picks)), -1, axis)


def logaddexp_reduce(a, axis=0, keepdims=False):
    """``np.logaddexp.reduce``: numpy's own steps, ``logaddexp`` of the running result
    and the next slice along ``axis`` (the same values)."""
    lanes = np.moveaxis(a, axis, 0)
    acc = lanes[0]
    for k in range(1, lanes.shape[0]):
        acc = np.logaddexp(acc, lanes[k])
    return np.expand_dims(acc, axis) if keepdims else acc


def logaddexp2_reduce(a, axis=0, keepdims=False):
    lanes = np.moveaxis(a, axis, 0)
    acc = lanes[0]
    for k in range(1, lanes.shape[0]):
        acc = np.logaddexp2(acc, lanes[k])
    return np.expand_dims(acc, axis) if keepdims else acc


def maximum_accumulate(a, axis=0):
    """``np.maximum.accumulate``: the running maximum along ``axis``, slice by slice (a
    tie keeps the earlier element: its gradient goes there)."""
    lanes = np.moveaxis(a, axis, 0)
    rows = [lanes[0]]
    for k in range(1, lanes.shape[0]):
        rows.append(np.maximum(rows[-1], lanes[k]))
    return np.stack(rows, axis=axis)         # (contiguous, as numpy's: sums of it round alike)


def minimum_accumulate(a, axis=0):
    lanes = np.moveaxis(a, axis, 0)
    rows = [lanes[0]]
    for k in range(1, lanes.shape[0]):
        rows.append(np.minimum(rows[-1], lanes[k]))
    return np.stack(rows, axis=axis)         # (contiguous, as numpy's: sums of it round alike)


def _outer_left(a, b):
    """``a`` with one axis of size 1 appended per axis of ``b`` (``ufunc.outer``)."""
    for _ in range(np.ndim(b)):
        a = np.expand_dims(a, -1)
    return a


def ufunc_outer(ufunc, a, b):
    """``ufunc.outer(a, b)``: ``a`` broadcast against ``b`` along new axes."""
    return ufunc(_outer_left(a, b), b)


def multi_dot(arrays):
    """``np.linalg.multi_dot``: the products from the left (numpy picks the cheapest
    order: the value may differ from numpy's by rounding)."""
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    out = arrays[0]
    for m in arrays[1:]:
        out = out @ m
    return out


def nanprod(a, axis=None, keepdims=False):
    return np.prod(np.where(np.isnan(a), 1.0, a), axis=axis, keepdims=keepdims)


def nancumsum(a, axis=None):
    return np.cumsum(np.where(np.isnan(a), 0.0, a), axis=axis)


def nancumprod(a, axis=None):
    return np.cumprod(np.where(np.isnan(a), 1.0, a), axis=axis)


def compress(condition, a, axis=None):
    keep = np.nonzero(condition)[0]
    if axis is None:
        return np.ravel(a)[keep]
    return np.take(a, keep, axis=axis)


def extract(condition, arr):
    return np.ravel(arr)[np.nonzero(np.ravel(condition))[0]]


def choose(a, choices):
    """``np.choose(a, choices)``: where ``a`` is k, ``choices[k]``."""
    idx = np.asarray(a)
    if np.any((idx < 0) | (idx >= len(choices))):
        raise ValueError("invalid entry in choice array")     # (numpy's mode='raise')
    out = choices[0] * np.ones(np.shape(idx))
    for k in range(1, len(choices)):
        out = np.where(idx == k, choices[k], out)
    return out


def modf(x):
    whole = np.trunc(x)
    return x - whole, whole


def divmod_(x1, x2):
    return np.floor_divide(x1, x2), np.mod(x1, x2)


def ldexp(x1, x2):
    return x1 * np.exp2(x2)


def piecewise(x, condlist, funclist):
    """``np.piecewise``: each function (or constant) where its condition holds, the
    extra one (if given) where none does, 0 elsewhere.  (Each function runs on the
    whole array, where numpy runs it on the entries its condition picks: the values
    are numpy's; a function that raises outside its piece would raise here.)"""
    n = len(condlist)
    out = x * 0.0
    for k, f in enumerate(funclist):
        if callable(f):
            value = f(x)
        else:                       # (a number: broadcast like x)
            value = f + out
        if k == n:                  # (the extra function: where no condition holds)
            out = np.where(np.any(np.array(condlist), axis=0), out, value)
        else:
            out = np.where(condlist[k], value, out)
    return out


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``np.apply_along_axis`` of a matrix: ``func1d`` of each column (axis 0) or row
    (axis 1 or -1), the results stacked where that axis was."""
    if np.ndim(arr) != 2:
        raise ValueError("symgrad models np.apply_along_axis of a matrix (2-D)")
    if axis == 0:
        return np.stack([func1d(arr[:, j], *args, **kwargs) for j in range(arr.shape[1])],
                        axis=-1)
    return np.stack([func1d(arr[i], *args, **kwargs) for i in range(arr.shape[0])])


def reshape_order(a, shape, order="C"):
    """``np.reshape(a, shape, order="F")``: the entries read and written in Fortran
    order, which is C order with the axes reversed."""
    if order == "C":
        return np.reshape(a, shape)
    return np.transpose(np.reshape(np.transpose(a), shape if isinstance(shape, int)
                                   else shape[::-1]))


def ravel_order(a, order="C"):
    return np.ravel(a) if order == "C" else np.ravel(np.transpose(a))


def sum_where(a, axis=None, dtype=None, out=None, keepdims=False, initial=0, where=True):
    """``np.sum(a, where=mask)``: the entries the mask leaves out count as 0 (numpy's
    identity for them: the same sums)."""
    return np.sum(np.where(where, a, 0.0), axis=axis, keepdims=keepdims) + initial


def prod_where(a, axis=None, dtype=None, out=None, keepdims=False, initial=1, where=True):
    return np.prod(np.where(where, a, 1.0), axis=axis, keepdims=keepdims) * initial


def mean_where(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """``np.mean(a, where=mask)``: the sum of the entries the mask keeps over their
    count."""
    total = np.sum(np.where(where, a, 0.0), axis=axis, keepdims=keepdims)
    count = np.sum(np.where(where, 1.0, 0.0) * np.ones(np.shape(a)), axis=axis,
                   keepdims=keepdims)
    return total / count


def vectorize(pyfunc, otypes=None, doc=None, excluded=None, cache=False, signature=None):
    """``np.vectorize(f)``, called where it is made (``np.vectorize(f)(x)``): ``f`` of
    each number of ``x``, made an array of ``x``'s shape again; ``f`` inlined per
    element (a loop over them)."""
    if otypes is not None or excluded is not None or signature is not None:
        raise ValueError("symgrad models np.vectorize(f) without otypes=, excluded=, "
                         "signature=")

    def vectorized(x):
        return vectorized_call(pyfunc, x)
    return vectorized


def vectorized_call(pyfunc, x):
    """A ``np.vectorize(pyfunc)`` called with ``x``."""
    return np.reshape(np.array([pyfunc(t) for t in np.ravel(x)]), np.shape(x))


def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """``np.unwrap`` of a vector: numpy's steps (the jumps wrapped into one period, the
    corrections summed on): each correction is piecewise constant, so the derivative
    passes through unchanged."""
    if np.ndim(p) != 1:
        raise ValueError("symgrad models np.unwrap of a vector")
    dd = np.diff(p)
    half = period / 2
    ddmod = np.mod(dd + half, period) - half
    ddmod = np.where((ddmod == -half) & (dd > 0), half, ddmod)
    correct = np.where(np.abs(dd) < (half if discont is None else discont), 0.0,
                       ddmod - dd)
    return p + np.concatenate([np.zeros(1), np.cumsum(correct)])


try:                                    # (numpy's coefficients for np.i0)
    from numpy.lib._function_base_impl import _i0A, _i0B
except ImportError:                     # (numpy 1.x)
    from numpy.lib.function_base import _i0A, _i0B
_I0A, _I0B = tuple(float(c) for c in _i0A), tuple(float(c) for c in _i0B)


def _chbevl(x, vals):
    b0 = vals[0]
    b1 = 0.0
    b2 = 0.0
    for i in range(1, len(vals)):
        b2 = b1
        b1 = b0
        b0 = x * b1 - b2 + vals[i]
    return 0.5 * (b0 - b2)


def i0(x):
    """``np.i0``: numpy's Chebyshev series on each side of 8 (its values to the last
    bit); each side evaluated where the other is taken at a point of its own range."""
    a = np.abs(x * 1.0)
    small = a <= 8.0
    lo = np.where(small, a, 8.0)
    hi = np.where(small, 9.0, a)
    return np.where(small, np.exp(lo) * _chbevl(lo / 2.0 - 2, _I0A),
                    np.exp(hi) * _chbevl(32.0 / hi - 2.0, _I0B) / np.sqrt(hi))


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """``np.polyfit``: numpy's own steps (the Vandermonde matrix, its columns scaled,
    least squares through the pseudo-inverse: equal to numpy's up to rounding)."""
    if full or w is not None or cov:
        raise ValueError("symgrad models np.polyfit without full=, w= and cov=")
    if deg < 0:
        raise ValueError("expected deg >= 0")
    lhs = np.vander(x, deg + 1)
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    c = np.linalg.pinv(lhs / scale) @ y
    return (c.T / scale).T


def vander(x, N=None, increasing=False):
    x = np.asarray(x)
    n = len(x) if N is None else N
    ones = np.ones_like(x * 1.0)[:, None]
    if n <= 1:
        return ones[:, :n]
    powers = np.cumprod(x[:, None] * np.ones(n - 1), axis=1)    # (as numpy: products)
    cols = np.concatenate([ones, powers], axis=1)
    return cols if increasing else cols[:, ::-1]


def ediff1d(ary, to_end=None, to_begin=None):
    d = np.diff(np.ravel(ary))
    if to_begin is not None:
        d = np.concatenate([np.ravel(to_begin), d])
    if to_end is not None:
        d = np.concatenate([d, np.ravel(to_end)])
    return d


def gradient(f, *varargs, axis=None, edge_order=1):
    if axis is None and np.ndim(f) != 1 or not (axis is None or isinstance(axis, int)) or \
            edge_order != 1 or len(varargs) > 1:
        raise SymgradError("symgrad differentiates np.gradient of a 1-d array, or along "
                           "one axis=k of an array, with one (scalar) spacing and "
                           "edge_order=1: call it once per axis (np.gradient(f, axis=0))")
    h = varargs[0] if varargs else 1.0
    m = np.asarray(f) if axis is None else np.moveaxis(f, axis, 0)
    inner = (m[2:] - m[:-2]) / (2.0 * h)
    d = np.concatenate([(m[1:2] - m[:1]) / h, inner, (m[-1:] - m[-2:-1]) / h])
    return d if axis is None else np.moveaxis(d, 0, axis)


def roll_by(a, shift, axis=None):
    """``np.roll(a, shift, axis)`` with the shift computed when the code runs (a loop
    variable): the two pieces joined the other way round."""
    m = np.ravel(a) if axis is None else np.moveaxis(a, axis, 0)
    n = np.shape(m)[0]
    s = shift % n
    out = np.concatenate([m[n - s:], m[:n - s]])
    return np.reshape(out, np.shape(a)) if axis is None else np.moveaxis(out, 0, axis)


def tril_by(m, k=0):
    """``np.tril(m, k)`` with ``k`` computed when the code runs: a mask made from it."""
    rows, cols = np.shape(m)[-2], np.shape(m)[-1]
    return np.where(np.arange(cols) - np.arange(rows)[:, None] <= k, m, 0.0)


def triu_by(m, k=0):
    rows, cols = np.shape(m)[-2], np.shape(m)[-1]
    return np.where(np.arange(cols) - np.arange(rows)[:, None] >= k, m, 0.0)


def diagonal_by(a, offset=0, axis1=0, axis2=1):
    """``np.diagonal(a, offset, axis1, axis2)`` with the offset computed when the code
    runs: the diagonal's positions as index arrays (empty past the corner)."""
    m = np.moveaxis(a, (axis1, axis2), (-2, -1))
    rows, cols = np.shape(m)[-2], np.shape(m)[-1]
    i = np.arange(max(0, -offset), max(0, min(rows, cols - offset)))
    return m[..., i, i + offset]


def trapezoid(y, x=None, dx=1.0, axis=-1):
    y = np.moveaxis(y, axis, -1)
    if x is None:
        return np.sum((y[..., 1:] + y[..., :-1]) * (dx / 2.0), axis=-1)
    d = np.diff(x)
    return np.sum((y[..., 1:] + y[..., :-1]) * d / 2.0, axis=-1)


def convolve(a, v, mode="full"):
    a, v = np.ravel(a), np.ravel(v)
    if a.shape[0] < v.shape[0]:
        a, v = v, a
    n, m = a.shape[0], v.shape[0]
    out = np.zeros(n + m - 1) * (a[0] * v[0])
    for k in range(m):
        out[k:k + n] += a * v[k]
    if mode == "full":
        return out
    if mode == "same":
        start = (m - 1) // 2
        return out[start:start + n]
    if mode == "valid":
        return out[m - 1:n]
    raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")


def correlate(a, v, mode="valid"):
    return convolve(a, np.ravel(v)[::-1], mode)      # (of real arrays: numpy's values)


def fill_diagonal(a, val, wrap=False):
    """``np.fill_diagonal(a, val)``: the main diagonal of ``a`` (all its dimensions equal
    past two) written in place; ``val`` a number or one value per diagonal element."""
    if wrap and np.ndim(a) == 2 and np.shape(a)[0] > np.shape(a)[1] + 1:
        raise ValueError("symgrad models np.fill_diagonal(a, val, wrap=True) of a matrix "
                         "at most one row taller than wide: write the elements (a[i, j] = v)")
    k = np.arange(min(np.shape(a)))
    if np.ndim(a) == 2:
        a[k, k] = val
    else:
        a[(k,) * np.ndim(a)] = val


def interp(x, xp, fp, left=None, right=None):
    # (as arrays: xp and fp are indexed with arrays of positions, which a list is not)
    x, xp, fp = np.asarray(x) * 1.0, np.asarray(xp) * 1.0, np.asarray(fp) * 1.0
    i = np.clip(np.searchsorted(xp, x, side="right"), 1, len(xp) - 1)
    lo, hi = xp[i - 1], xp[i]
    t = (x - lo) / (hi - lo)
    y = fp[i - 1] * (1.0 - t) + fp[i] * t
    y = np.where(x < xp[0], fp[0] if left is None else left, y)
    return np.where(x > xp[-1], fp[-1] if right is None else right, y)


def meshgrid(x, y, indexing="xy"):
    x, y = np.ravel(x), np.ravel(y)
    if indexing == "ij":
        return [x[:, None] + np.zeros_like(y)[None, :], np.zeros_like(x)[:, None] + y[None, :]]
    return [x[None, :] + np.zeros_like(y)[:, None], np.zeros_like(x)[None, :] + y[:, None]]


def matrix_power(a, n):
    if n < 0:
        a, n = np.linalg.inv(a), -n
    out = np.eye(a.shape[-1]) + np.zeros_like(a)
    for _ in range(n):
        out = out @ a
    return out


def cov(m, y=None, rowvar=True, bias=False, ddof=None):
    x = np.atleast_2d(m)
    if not rowvar:
        x = x.T
    if y is not None:
        yy = np.atleast_2d(y)
        x = np.concatenate([x, yy if rowvar else yy.T], axis=0)
    n = x.shape[1]
    dof = n - (0 if bias else 1) if ddof is None else n - ddof
    c = x - np.mean(x, axis=1, keepdims=True)
    out = (c @ c.T) / dof
    return out[0, 0] if out.shape == (1, 1) else out


def corrcoef(x, y=None, rowvar=True):
    c = cov(x, y, rowvar)
    d = np.sqrt(np.diag(c))
    return c / d[:, None] / d[None, :]


def quantile(a, q, axis=None, keepdims=False):
    """``np.quantile`` (method 'linear'), numpy's steps: the sorted values along
    ``axis`` (of the whole array flattened for None), the two around each ``q``
    interpolated as numpy's ``_lerp`` does; ``q`` one number or a list (a leading axis
    of the result)."""
    if keepdims:
        raise ValueError("symgrad models np.quantile and np.percentile without keepdims=")
    if axis is None:
        return _quantiles(np.sort(np.ravel(a)), q, 0)
    return _quantiles(np.sort(a, axis=axis), q, axis)


def _quantiles(s, q, axis):
    if isinstance(q, (int, float)):
        return _quantile_at(s, q, axis)
    return np.stack([_quantile_at(s, qk, axis) for qk in q])


def _quantile_at(s, q, axis):
    if q < 0 or q > 1:
        raise ValueError("Quantiles must be in the range [0, 1]")
    n = s.shape[axis]
    pos = q * (n - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, n - 1)
    t = pos - lo
    below = np.take(s, lo, axis=axis)
    above = np.take(s, hi, axis=axis)
    diff = above - below
    if t >= 0.5:
        return above - diff * (1 - t)
    return below + diff * t


def percentile(a, q, axis=None, keepdims=False):
    if isinstance(q, (int, float)):
        return quantile(a, q / 100.0, axis, keepdims)
    return quantile(a, [qk / 100.0 for qk in q], axis, keepdims)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    # (numpy's own steps, so the values are numpy's to the last bit; used when a bound is
    # not a constant, see lower_array._VALUE_MODELS)
    if dtype is not None:
        raise ValueError("symgrad differentiates np.linspace without dtype=")
    if axis != 0:
        raise ValueError("symgrad differentiates np.linspace without axis=")
    if np.ndim(start) + np.ndim(stop) > 0:
        raise ValueError("symgrad differentiates np.linspace of two numbers")
    div = num - 1 if endpoint else num
    delta = stop - start
    step = delta / div if div > 0 else np.nan
    if div > 0 and step != 0:
        y = np.arange(0, num) * step + start
    else:
        y = np.arange(0, num) / max(div, 1) * delta + start
    if endpoint:
        if num > 1:
            y[-1] = stop
    if retstep:
        return y, step
    return y


def full(shape, fill_value, dtype=None):
    if dtype is not None:
        raise ValueError("symgrad differentiates np.full of a number without dtype=")
    return np.ones(shape) * fill_value


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    # (u and vh are differentiated in the thin decomposition, full_matrices=False)
    if not compute_uv:
        return _svd_values(a)
    vh = np.swapaxes(_svd_right(a, full_matrices), -1, -2)
    return _svd_left(a, full_matrices), _svd_values(a), vh


def qr(a, mode="reduced"):
    """``np.linalg.qr`` of a matrix with no more columns than rows (of a stack of
    them): Q and R differentiated (``mode="r"``: R alone)."""
    if a.shape[-2] < a.shape[-1]:
        raise ValueError("symgrad differentiates np.linalg.qr of a matrix with no more "
                         "columns than rows: pass its transpose, or split it")
    if mode == "r":
        return _qr_r(a)
    if mode != "reduced" and not (mode == "complete" and a.shape[-2] == a.shape[-1]):
        raise ValueError(f"symgrad differentiates np.linalg.qr with mode 'reduced' or 'r' "
                         f"(not {mode!r})")
    return _qr_q(a), _qr_r(a)


def slogdet(a):
    return _slogdet_sign(a), _logabsdet(a)


def eigh(a, UPLO="L"):
    return np.linalg.eigvalsh(a, UPLO), _eigh_vectors(a, UPLO)


# (symgrad differentiates real numbers: for them these are the number itself, or 0)
def real(val):
    return val * 1.0


def imag(val):
    return np.zeros_like(val * 1.0)


def conj(x):
    return x * 1.0


def cond(x, p=None):
    """``np.linalg.cond``: numpy's own steps (singular values for ``p`` None, 2, -2;
    else the norms of ``x`` and its inverse)."""
    if p is None or p == 2 or p == -2:
        s = np.linalg.svd(x, compute_uv=False)
        return s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    return np.linalg.norm(x, p, axis=(-2, -1)) * np.linalg.norm(np.linalg.inv(x), p,
                                                                axis=(-2, -1))


def lstsq(a, b, rcond=None):
    """``np.linalg.lstsq`` of a matrix of full column rank: the solution through the
    pseudo-inverse (LAPACK's ``gelsd`` rounds differently: equal up to about 1e-15),
    the residuals (squared norms of ``b - a x`` per column, when ``a`` has more rows
    than columns), the rank and the singular values, as numpy returns them."""
    x = np.linalg.pinv(a) @ b
    rank = np.linalg.matrix_rank(a)
    if rank < a.shape[1]:
        raise ValueError("symgrad models np.linalg.lstsq of a matrix of full column rank "
                         "(this one is rank-deficient)")
    if a.shape[0] > a.shape[1]:
        r = b - a @ x
        residuals = np.reshape(np.sum(r * r, axis=0), (-1,))
    else:
        residuals = np.zeros(0)
    return x, residuals, rank, np.linalg.svd(a, compute_uv=False)


def real_if_close(a, tol=100):
    return a * 1.0


_MODELS = {np.linalg.slogdet: slogdet, np.linalg.svd: svd, np.linalg.eigh: eigh,
           np.linalg.qr: qr, np.real: real,
           np.imag: imag,
           np.conj: conj, np.conjugate: conj, np.real_if_close: real_if_close,
           np.ptp: ptp, np.median: median, np.copysign: copysign,
           np.float_power: float_power, np.diag: diag, np.diagflat: diagflat,
           np.flipud: flipud, np.fliplr: fliplr, np.rot90: rot90, np.atleast_3d: atleast_3d,
           np.append: append, np.nan_to_num: nan_to_num, np.nanmean: nanmean,
           np.nanvar: nanvar, np.nanstd: nanstd, np.nanmax: nanmax, np.nanmin: nanmin,
           np.select: select, np.take: take,
           np.trace: trace, np.split: split, np.array_split: array_split,
           np.hsplit: hsplit, np.vsplit: vsplit, np.dsplit: dsplit, np.cross: cross,
           np.rollaxis: rollaxis,
           np.polyval: polyval, np.vander: vander, np.take_along_axis: take_along_axis,
           np.ediff1d: ediff1d, np.gradient: gradient, np.convolve: convolve,
           np.correlate: correlate, np.fill_diagonal: fill_diagonal,
           np.interp: interp, np.meshgrid: meshgrid, np.linalg.matrix_power: matrix_power,
           np.cov: cov, np.linalg.cond: cond, np.linalg.lstsq: lstsq,
           np.linalg.multi_dot: multi_dot, np.nanprod: nanprod, np.nancumsum: nancumsum,
           np.nancumprod: nancumprod, np.compress: compress, np.extract: extract,
           np.choose: choose, np.modf: modf, np.divmod: divmod_, np.ldexp: ldexp,
           np.polyfit: polyfit, np.piecewise: piecewise,
           np.apply_along_axis: apply_along_axis, np.unwrap: unwrap, np.i0: i0,
           np.vectorize: vectorize,
           np.corrcoef: corrcoef, np.quantile: quantile, np.percentile: percentile}
_MODELS.update(_gather_models)                  # (np.unique, np.block)
for _name in ("trapezoid", "trapz"):            # (numpy 2 renamed trapz)
    if hasattr(np, _name):
        _MODELS[getattr(np, _name)] = trapezoid


def numpy_model_of(obj: Any) -> Any:
    """The model inlined for a call of the numpy function ``obj``, or None."""
    try:
        return _MODELS.get(obj)
    except TypeError:                    # (an unhashable callable)
        return None
