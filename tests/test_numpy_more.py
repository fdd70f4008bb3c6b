"""More numpy functions: cumulative sums and products, differences, rearranging
(flip, roll, swapaxes, moveaxis, diagonal, triu/tril, tile, repeat, sort), products
(kron, vdot, einsum), linear algebra (inv, det, solve), average, nansum, sum(initial=),
elementwise functions (exp2, cbrt, reciprocal, deg2rad, rad2deg, sinc) and the
piecewise-constant ones (floor, ceil, round, rint, trunc, heaviside, argmax ...).

Every gradient is checked against central finite differences of the function itself,
every jvp against a central difference along a random direction, every hvp against
differences of the gradient (itself checked against finite differences)."""

import math

import numpy as np
import pytest

import symgrad
from symgrad.errors import SymgradError

RNG = np.random.default_rng(11)
X = RNG.uniform(0.2, 0.9, size=(3, 4))              # a matrix
V = RNG.uniform(0.2, 0.9, size=5)                   # a vector
T = RNG.uniform(0.2, 0.9, size=(2, 3, 4))           # three axes
S = RNG.uniform(-0.5, 0.5, size=(3, 3)) + 3.0 * np.eye(3)   # well conditioned
C = RNG.uniform(0.2, 0.9, size=(4, 3))              # a constant matrix
W = RNG.uniform(0.5, 1.5, size=(3, 4))              # constant weights
R = np.array([0.31, 1.22, 2.45, 3.77, 0.58])        # away from integers (and halves)


def fd_grad(f, args, i, h=1e-6):
    """Central finite differences of f with respect to argument i."""
    args = [np.array(a, dtype=float) for a in args]
    g = np.zeros_like(args[i])
    for k in np.ndindex(args[i].shape):
        old = args[i][k]
        args[i][k] = old + h
        p = f(*args)
        args[i][k] = old - h
        m = f(*args)
        args[i][k] = old
        g[k] = (p - m) / (2 * h)
    return g


def check_grad(f, *args, tol=1e-5):
    wrt = list(range(len(args)))
    g = symgrad.grad(f, wrt=wrt)(*[a.copy() for a in args])
    for i, gi in enumerate(g):
        want = fd_grad(f, args, i)
        assert np.shape(gi) == np.shape(want), (i, np.shape(gi), np.shape(want))
        np.testing.assert_allclose(gi, want, rtol=tol, atol=tol)
    value, _ = symgrad.value_and_grad(f, wrt=wrt)(*[a.copy() for a in args])
    np.testing.assert_allclose(value, f(*args), rtol=1e-12, atol=1e-12)


def directions(args, seed=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=np.shape(a)) for a in args]


def check_jvp(f, *args, tol=1e-5):
    ts = directions(args)
    value, tangent = symgrad.jvp(f, tuple(a.copy() for a in args), tuple(ts))
    h = 1e-6
    up = f(*[a + h * t for a, t in zip(args, ts)])
    down = f(*[a - h * t for a, t in zip(args, ts)])
    np.testing.assert_allclose(value, f(*args), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent, (up - down) / (2 * h), rtol=tol, atol=tol)


def check_hvp(f, *args, tol=1e-5):
    ts = directions(args, seed=5)
    wrt = list(range(len(args)))
    got = symgrad.hvp(f, tuple(a.copy() for a in args), tuple(ts), wrt=wrt)
    got = got if isinstance(got, tuple) else (got,)
    g = symgrad.grad(f, wrt=wrt)
    h = 1e-5
    up = g(*[a + h * t for a, t in zip(args, ts)])
    down = g(*[a - h * t for a, t in zip(args, ts)])
    up, down = (up, down) if isinstance(up, tuple) else ((up,), (down,))
    for k in range(len(args)):
        want = (up[k] - down[k]) / (2 * h)
        np.testing.assert_allclose(got[k], want, rtol=tol, atol=tol)
    assert max(np.abs(x).max() for x in got) > 1e-3       # (a second derivative to find)


# ----------------------------------------------------------------------------- cases

def cumsum_axis(x):
    return np.sum(np.cumsum(x, axis=1) ** 2)


def cumsum_flat_method(x):
    return np.sum(x.cumsum() ** 2)


def cumsum_axis0_method(x):
    return np.sum(x.cumsum(axis=0) ** 3)


def cumprod_axis(x):
    return np.sum(np.cumprod(x, axis=0) * C.T)


def cumprod_flat(x):
    return np.sum(np.cumprod(x) ** 2)


def diff_default(x):
    return np.sum(np.diff(x) ** 2)


def diff_axis0(x):
    return np.sum(np.diff(x, axis=0) ** 3)


def diff_twice(x):
    return np.sum(np.diff(x, n=2) ** 2)


def flip_axis(x):
    return np.sum(np.flip(x, axis=1) * x ** 2)


def flip_all(x):
    return np.sum(np.flip(x) * x ** 2)


def roll_axis(x):
    return np.sum(np.roll(x, 1, axis=1) * x ** 2)


def roll_flat(x):
    return np.sum(np.roll(x, -2) * x ** 2)


def swapaxes_2d(x):
    return np.sum(np.swapaxes(x, 0, 1) @ x ** 2)


def swapaxes_3d(x):
    return np.sum(np.swapaxes(x, 0, 2) ** 2 * np.arange(24.0).reshape(4, 3, 2))


def moveaxis_3d(x):
    return np.sum(np.moveaxis(x, 0, -1) ** 2 * np.arange(24.0).reshape(3, 4, 2))


def moveaxis_2d(x):
    return np.sum(np.moveaxis(x, 1, 0) ** 3)


def diagonal_square(x):
    return np.sum(np.diagonal(x) ** 3)


def diagonal_method_offset(x):
    return np.sum(x.diagonal(1) ** 2)


def diagonal_axes(x):
    return np.sum(np.diagonal(x, 0, 1, 2) ** 3)


def triu_k(x):
    return np.sum(np.triu(x, 1) ** 3)


def tril_default(x):
    return np.sum(np.tril(x) ** 3)


def tril_k(x):
    return np.sum(np.tril(x, -1) ** 2)


def tile_int(x):
    return np.sum(np.tile(x, 2) ** 3 * np.arange(8.0).reshape(1, 8))


def tile_tuple(x):
    return np.sum(np.tile(x, (2, 1, 3)) ** 3)


def repeat_axis(x):
    return np.sum(np.repeat(x, 2, axis=0) ** 3 * np.arange(6.0).reshape(6, 1))


def repeat_flat(x):
    return np.sum(np.repeat(x, 3) ** 2 * np.arange(15.0))


def kron_matrices(x):
    return np.sum(np.kron(x, C) ** 2)


def kron_vectors(x):
    return np.sum(np.kron(x, x[:3]) ** 2)


def vdot_self(x):
    return np.vdot(x, x ** 2)


def vdot_constant(x):
    return np.vdot(C.T, x) ** 2


def atleast_1d_vector(x):
    return np.sum(np.atleast_1d(x) ** 3)


def atleast_1d_number(x):
    return np.sum(np.atleast_1d(x[0] * x[1]) ** 2)


def sort_last(x):
    return np.sum(np.sort(x) ** 2 * np.arange(4.0))


def sort_axis0(x):
    return np.sum(np.sort(x, axis=0) ** 3 * np.arange(3.0).reshape(3, 1))


def sort_flat(x):
    return np.sum(np.sort(x, axis=None) ** 2 * np.arange(12.0))


def partition_last(x):
    return np.sum(np.partition(x, 1) ** 2 * np.arange(4.0))


def partition_axis0(x):
    y = np.partition(x, -2, axis=0)
    return np.sum(y[-1] * y[0] + y[1] ** 3)


def partition_flat_many(x):
    return np.sum(np.partition(x, (1, 3), axis=None) ** 2 * np.arange(12.0))


def partition_top_k(x):
    """The top-k filter of language models: what is below the k-th largest is zeroed."""
    kth = np.partition(x, -2, axis=-1)[..., -2][..., None]
    return np.sum(np.where(x < kth, 0.0, x) ** 2 * np.arange(4.0))


def fill_diagonal_zero(x):
    y = x.copy()
    np.fill_diagonal(y, 0.0)
    return np.sum(y ** 2) + np.sum(y * x)


def fill_diagonal_values(x):
    y = x * 1.0
    np.fill_diagonal(y, np.sin(x[0]) * x[0, 0])
    return np.sum(y ** 3)


def correlate_modes(x):
    v = np.ravel(x)
    return np.sum(np.correlate(v, np.array([0.5, -1.0, 2.0])) ** 2) \
        + np.sum(np.correlate(v[:2], v, mode="full") ** 2) \
        + np.sum(np.correlate(v, v[1:4], "same") ** 3)


def inv_sum(x):
    return np.sum(np.linalg.inv(x) * C[:3])


def inv_squared(x):
    return np.sum(np.linalg.inv(x @ x) ** 2)


def det_plain(x):
    return np.linalg.det(x)


def det_log(x):
    return np.log(np.linalg.det(x * x + np.eye(3)))


def solve_vector(x):
    return np.sum(np.linalg.solve(x, np.arange(1.0, 4.0)) ** 2)


def solve_matrix(x):
    return np.sum(np.linalg.solve(x, C[:3]) ** 2)


def solve_both(a, b):
    return np.sum(np.linalg.solve(a, b) ** 2)


def einsum_two(x):
    return np.sum(np.einsum("ij,kj->ik", x, x) ** 2)


def einsum_three(x):
    return np.einsum("ij,jk,kj->", x, C, x ** 2)


def einsum_implicit(x):
    return np.sum(np.einsum("ij,jk", x, C) ** 2)


def einsum_summed_letter(x):
    return np.sum(np.einsum("ij,kl->ik", x, x) ** 2)


def einsum_one(x):
    return np.sum(np.einsum("ij->ji", x) ** 3)


def average_plain(x):
    return np.sum(np.average(x, axis=0) ** 2)


def average_all(x):
    return np.average(x ** 2) ** 2


def average_weighted(x):
    return np.sum(np.average(x, axis=1, weights=W) ** 2)


def average_column_weights(x):
    return np.sum(np.average(x ** 2, axis=0, weights=np.arange(1.0, 4.0)) ** 2)


def average_weights_along_axis(x, w):
    return np.sum(np.average(x ** 2, axis=0, weights=w) ** 2)


def average_weights_differentiated(x, w):
    return np.average(x ** 2, weights=w) ** 2


def nansum_plain(x):
    y = np.where(x > 0.8, np.nan, x)
    return np.nansum(y ** 2) ** 2


def nansum_axis(x):
    y = np.where(x > 0.8, np.nan, x)
    return np.sum(np.nansum(y ** 2, axis=1) ** 2)


def sum_initial(x):
    return np.sum(x, initial=2.0) ** 2


def sum_initial_axis(x):
    return np.sum(x.sum(axis=0, initial=1.5) ** 3)


def exp2_(x):
    return np.sum(np.exp2(x) * x)


def cbrt_(x):
    return np.sum(np.cbrt(x - 0.5 * x[0]) ** 2)


def reciprocal_(x):
    return np.sum(np.reciprocal(x) * x ** 3)


def deg2rad_(x):
    return np.sum(np.sin(np.deg2rad(40.0 * x)))


def radians_(x):
    return np.sum(np.sin(np.radians(40.0 * x)))


def rad2deg_(x):
    return np.sum(np.rad2deg(x) ** 2)


def degrees_(x):
    return np.sum(np.degrees(x) ** 2)


def sinc_(x):
    return np.sum(np.sinc(x) * x)


def item_of_sum(x):
    return np.sum(x).item() * 2.0 + np.sum(x ** 2).item() ** 2


def item_of_one_element(x):
    return (x.ravel()[:1] * 3.0).item() ** 2 + np.dot(x.ravel(), x.ravel()).item()


def float64_cast(x):
    return np.sum(np.float64(x) ** 3) + np.float64(np.sum(x)).item() ** 2


def ptp_flat(x):
    return np.ptp(x * x) * np.sum(x)


def ptp_axis_keepdims(x):
    return np.sum(np.ptp(x, axis=1, keepdims=True) * x)


def median_flat(x):             # (an even count: the mean of the middle two)
    return np.median(np.sin(x)) * np.sum(x)


def median_axis(x):
    return np.sum(np.median(x * x, axis=0)) + np.sum(np.median(x, axis=-1) ** 2)


def median_then_branch(x):      # a NaN check in a branch: d_s is an array in both
    s = np.sort(x * 2.0)
    n = s.shape[0]
    middle = (s[(n - 1) // 2] + s[n // 2]) / 2
    return s[n - 1] if np.isnan(s[n - 1]) else middle * middle


def copysign_(x):
    return np.sum(np.copysign(x, -x[..., :1]) * x) + np.copysign(np.sum(x), -1.0)


def float_power_(x):
    return np.sum(np.float_power(x, 3) + np.float_power(2.0, x))


def logaddexp2_positive_conj(x):
    return np.sum(np.logaddexp2(x, 2 * x) * np.positive(x) + np.conj(x) ** 2)


def diag_both_ways(x):          # (the diagonal of a matrix, the matrix of a vector)
    d = np.diag(x * x) if x.ndim == 2 else np.diag(x * x, 1)
    return np.sum(np.diag(d * 2.0) ** 2) + np.sum(np.diagflat(np.sin(d), -1) * 3.0)


def flips_and_rot90(x):
    return np.sum((np.flipud(x) * np.fliplr(x) + np.rot90(x) * np.rot90(x, 3)
                   + np.rot90(x, -2) ** 2) * C[:3, :3].T[:, :1])


def atleast_3d_append(x):
    return np.sum(np.atleast_3d(x) ** 3) + np.sum(np.append(x, x[:1] * 2.0, axis=0) ** 2)


def nan_functions(x):
    y = np.where(x > 0.8, np.nan, x)            # (NaNs where x > 0.8: skipped)
    return np.nanmean(y) * np.nanmax(y) + np.sum(np.nanstd(y, axis=-1)) \
        + np.sum(np.nanvar(y, axis=-1, ddof=1)) - np.nanmin(y) + np.sum(np.nan_to_num(y) ** 2)


def select_(x):
    return np.sum(np.select([x > 0.6, x < 0.3], [x ** 2, np.sin(x)], default=3.0 * x))


def take_(x):
    return np.sum(np.take(x, [0, 2], axis=-1) ** 2) + np.sum(np.take(x, [1, 1, 0]) * 3.0) \
        + np.sum(np.take(x, 1, axis=0) ** 3)


def clip_by_keyword(x):        # (a_min=/a_max=, numpy 2's max=, the method's one bound)
    return np.sum(np.clip(x, a_min=0.3, a_max=0.7) ** 2 + x.clip(0.4) * x.clip(max=0.6))


def trace_offset(x):
    return np.trace(x, offset=1) ** 2 + np.trace(x, offset=-1) * np.trace(x)


def trace_axes(x):
    return np.sum(np.trace(x, 0, 1, 2) ** 2) + np.sum(np.trace(x, offset=1) ** 2)


def offsets_from_a_loop(x):      # k known only when the code runs: masks and index arrays
    s = 0.0
    for k in range(-2, 6):
        s = s + np.sum(np.tril(x, k) ** 2) * 0.1 + np.sum(np.triu(x, k=k) * x) \
            + np.trace(x, k) ** 2 + np.sum(x.diagonal(k) ** 2) \
            + np.sum(np.diagonal(x, offset=-k) ** 3)
    return s


def offsets_on_other_axes(x):
    s = 0.0
    for k in range(-1, 3):
        s = s + np.sum(np.trace(x, k, 2, 0) ** 2) + np.sum(np.diagonal(x, k, 1, 2) ** 3) \
            + np.sum(np.tril(x, k - 1) ** 2)
    return s


def nested_array_literal(x):    # (rows written in the call: autograd's test_2d_array)
    m = np.array([[x[0], x[0] * 1.0, x[0] + 2.5], [x[1] ** 2, x[0], x[1] / 2.0]])
    return np.sum(m ** 2) + np.sum(np.array([[2 * x, x + 1], [x, x]]) * 0.5)


def cross_(x):                  # (3-vectors: rows of a (k, 3) array, one by one too)
    m = x.reshape(-1, 3)
    return np.sum(np.cross(m, m[::-1]) ** 2) + np.sum(np.cross(m[0], m[-1]) * m[0])


def norms(x):                   # (ord=1, inf, -inf, p of vectors; 1, inf, -1 of matrices)
    v = np.ravel(x)
    return np.linalg.norm(v, 1) * np.linalg.norm(v, np.inf) + np.linalg.norm(v, 3) \
        + np.linalg.norm(v, ord=-np.inf) + np.sum(np.linalg.norm(x, 1, axis=-1) ** 2) \
        + (np.linalg.norm(x, 1) + np.linalg.norm(x, np.inf) - np.linalg.norm(x, -1)
           if x.ndim == 2 else 0.0)


def std_of_equal_values(x):      # (0 with derivative 0, as abs at 0; it was nan)
    return np.std(x[:1]) + np.nanstd(x[:1]) + np.sum(np.std(np.stack([x, x]), axis=0)) \
        + np.std(x) * 0.5


def split_piece(x):
    return np.sum(np.split(x, 2, axis=1)[1] ** 2)


def splits(x):                  # (np.split returns a list of arrays; some unused)
    v = np.ravel(x)
    a, b, c = np.split(v, [2, 5])
    first = np.array_split(v, 5)[0]
    return np.sum(np.split(v, 2)[1] ** 2) + np.sum(a * b[0]) + np.sum(c ** 3) \
        + np.sum(first) * np.sum(np.hsplit(x, 2)[1] ** 2)


def matmul_in_a_loop(s):
    # out = out @ s overwrites an operand: its tangent needs the old out (jvp and hvp
    # used the new one: silently wrong, found while testing the matrix_power model)
    out = np.eye(3)
    for _ in range(3):
        out = out @ s
    acc = np.ones(3)
    for _ in range(2):
        acc = np.sort(acc * np.diag(s)) * 0.5
    return np.sum(out) + np.sum(acc * acc)


def polyval_(x):                     # Horner's rule over the coefficients, at points
    return np.sum(np.polyval(x, 0.7) + np.polyval([1.0, -2.0, 0.5], x) ** 2)


def ediff1d_(x):
    return np.sum(np.ediff1d(x, to_begin=x[0] * 2.0, to_end=[1.0, 2.0]) ** 2)


def gradient_(x):
    return np.sum(np.gradient(x) ** 2) + np.sum(np.gradient(x * x, 0.5))


def trapezoid_(x):
    return np.sum(np.trapezoid(x * x)) + np.trapezoid(np.ravel(x), dx=0.5) + np.sum(
        np.trapezoid(x, axis=0))


def convolve_(x):
    v = np.ravel(x)
    return np.sum(np.convolve(v, [1.0, -0.5, 0.25]) ** 2) + np.sum(
        np.convolve(v[:3], v, mode="same")) + np.sum(np.convolve(v, v[:2], "valid") ** 2)


def interp_(x):
    v = np.sort(np.ravel(x))
    return np.sum(np.interp([0.25, 1.5, 2.2, -1.0, 9.0], [0.0, 1.0, 2.0, 3.0, 4.0], v[:5])
                  ** 2) + np.interp(0.5, v[:3], [1.0, 2.0, 4.0])


def meshgrid_(x):
    v = np.ravel(x)
    a, b = np.meshgrid(v[:3], v[3:5])
    c, d = np.meshgrid(v[:2], v[2:5], indexing="ij")
    return np.sum(a * b ** 2) + np.sum(c * d)


def matrix_power_(s):
    return np.sum(np.linalg.matrix_power(s * 0.3, 3)) + np.sum(np.linalg.matrix_power(s, -2))


def cov_corrcoef(x):
    return np.sum(np.cov(x) ** 2) + np.sum(np.corrcoef(x)) + np.cov(x[0], bias=True) + \
        np.sum(np.cov(x[0], x[1] ** 2)) + np.sum(np.cov(x, rowvar=False, ddof=0))


def quantiles(x):
    return np.quantile(x, 0.3) * np.percentile(x, 75.0) + np.quantile(x * x, 1.0)


def mods(x):
    return np.sum(np.mod(x * 3, 1.1) * x + np.remainder(x, 0.7) + np.fmod(x * 2, 0.9) ** 2
                  + np.floor_divide(x, 0.3) * x)


def ufunc_reductions(x):
    """np.add.reduce is np.sum along axis 0 by default (not over everything) ..."""
    return np.sum(np.add.reduce(x) ** 2) + np.sum(np.multiply.reduce(x, axis=-1)) \
        + np.sum(np.maximum.reduce(x, 1, keepdims=True) * x) + np.sum(np.minimum.reduce(x))


def ufunc_accumulations(x):
    return np.sum(np.add.accumulate(x) ** 2) + np.sum(np.multiply.accumulate(x, axis=-1))


def take_along_sorted(x):
    order = np.argsort(x, axis=-1)
    return np.sum(np.take_along_axis(x, order, axis=-1) * np.arange(x.size).reshape(x.shape)) \
        + np.sum(np.take_along_axis(x, np.argmax(x, axis=0)[None], axis=0) ** 2)


def take_along_repeats(x):
    idx = np.zeros(np.shape(x), dtype=int)
    return np.sum(np.take_along_axis(x, idx, axis=0) ** 2) \
        + np.sum(np.take_along_axis(x, np.array([0, 0, 1]), axis=None) ** 3)


def take_along_broadcast(x):
    """Indices and array broadcast against each other, as numpy broadcasts them."""
    return np.sum(np.take_along_axis(x, np.array([[0, 2]]), axis=1) ** 2) \
        + np.sum(np.take_along_axis(x[:1], np.array([[0], [3], [1]]), axis=1) ** 3)


def vander_(v):
    return np.sum(np.vander(v, 3) ** 2) + np.sum(np.vander(v[:3], increasing=True) * S)


GRADIENT_CASES = [
    (ufunc_reductions, X), (ufunc_reductions, T), (ufunc_accumulations, X),
    (ufunc_accumulations, V), (take_along_sorted, X), (take_along_sorted, T),
    (take_along_repeats, X), (take_along_broadcast, X), (vander_, V),
    (mods, R), (mods, -R),
    (item_of_sum, X), (item_of_one_element, X), (item_of_one_element, V), (float64_cast, X),
    (cumsum_axis, X), (cumsum_flat_method, X), (cumsum_axis0_method, X),
    (cumsum_axis, T), (cumprod_axis, X), (cumprod_flat, V), (diff_default, X),
    (diff_axis0, X), (diff_twice, V), (diff_default, T), (flip_axis, X), (flip_all, T),
    (roll_axis, X), (roll_flat, X), (swapaxes_2d, X), (swapaxes_3d, T), (moveaxis_3d, T),
    (moveaxis_2d, X), (diagonal_square, S), (diagonal_square, X),
    (diagonal_method_offset, X), (diagonal_axes, T), (triu_k, X), (triu_k, S),
    (tril_default, X), (tril_k, S), (tile_int, X), (tile_tuple, X), (tile_int, X[0]),
    (repeat_axis, X), (repeat_flat, V), (kron_matrices, X), (kron_vectors, V),
    (vdot_self, X), (vdot_constant, X), (atleast_1d_vector, V), (atleast_1d_number, V),
    (sort_last, X), (sort_axis0, X), (sort_flat, X), (partition_last, X),
    (partition_axis0, X), (partition_flat_many, X), (partition_top_k, X),
    (fill_diagonal_zero, X), (fill_diagonal_zero, S), (fill_diagonal_values, S),
    (fill_diagonal_zero, T[:, :2, :2]),
    (correlate_modes, X), (correlate_modes, V), (inv_sum, S), (inv_squared, S),
    (det_plain, S), (det_log, S), (solve_vector, S), (solve_matrix, S), (einsum_two, X),
    (einsum_three, X), (einsum_implicit, X), (einsum_summed_letter, X), (einsum_one, X),
    (average_plain, X), (average_all, X), (average_weighted, X), (average_column_weights, X),
    (average_column_weights, S), (nansum_plain, X),
    (nansum_axis, X), (sum_initial, X), (sum_initial_axis, X), (exp2_, X), (exp2_, V),
    (cbrt_, X), (cbrt_, V), (reciprocal_, X), (reciprocal_, V), (deg2rad_, X), (radians_, V),
    (rad2deg_, X), (degrees_, V), (sinc_, X), (sinc_, R),
    (ptp_flat, X), (ptp_flat, V), (ptp_axis_keepdims, X), (median_flat, X), (median_flat, V),
    (median_axis, X), (median_axis, T), (median_then_branch, V), (median_then_branch, R[:4]),
    (copysign_, X), (copysign_, V), (float_power_, X), (logaddexp2_positive_conj, X),
    (diag_both_ways, S), (diag_both_ways, V), (flips_and_rot90, S), (atleast_3d_append, X),
    (atleast_3d_append, V), (nan_functions, X), (nan_functions, T), (select_, X),
    (take_, X), (take_, T), (clip_by_keyword, X), (trace_offset, X), (trace_offset, S),
    (trace_axes, T), (offsets_from_a_loop, X), (offsets_from_a_loop, S),
    (offsets_on_other_axes, T), (nested_array_literal, V), (splits, X), (split_piece, X),
    (cross_, X), (cross_, S), (norms, X), (norms, V), (norms, S),
    (std_of_equal_values, V), (polyval_, V), (ediff1d_, V), (gradient_, V),
    (trapezoid_, X), (convolve_, X), (interp_, X), (meshgrid_, V), (matrix_power_, S),
    (cov_corrcoef, X), (quantiles, X), (quantiles, V), (matmul_in_a_loop, S),
]


def _id(case):
    f, x = case
    return f"{f.__name__}-{'x'.join(map(str, np.shape(x)))}"


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=_id)
def test_gradient_matches_finite_differences(case):
    f, x = case
    check_grad(f, x)


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=_id)
def test_jvp_matches_a_directional_difference(case):
    f, x = case
    check_jvp(f, x)


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=_id)
def test_hvp_matches_differences_of_the_gradient(case):
    f, x = case
    check_hvp(f, x)


@pytest.mark.parametrize(("f", "args"), [
    (solve_both, (S, V[:3])), (solve_both, (S, C[:3])),
    (average_weights_differentiated, (X, W)), (average_weights_along_axis, (S, V[:3])),
    (average_weights_along_axis, (X, V[:3]))], ids=lambda v: getattr(v, "__name__", ""))
def test_two_differentiated_arguments(f, args):
    check_grad(f, *args)
    check_jvp(f, *args)
    check_hvp(f, *args)


def kron_both(a, b):
    return np.sum(np.kron(a, b) ** 2)


def einsum_both(a, b):
    return np.sum(np.einsum("ij,jk->ik", a, b) ** 2)


def vdot_both(a, b):
    return np.vdot(a, b) ** 2


@pytest.mark.parametrize(("f", "args"), [(kron_both, (X, C)), (kron_both, (V, X)),
                                         (einsum_both, (X, C)), (vdot_both, (X, C.T))],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_products_of_two_differentiated_arrays(f, args):
    check_grad(f, *args)
    check_jvp(f, *args)
    check_hvp(f, *args)


# ----------------------------------------------------------------------------- piecewise constant

def floor_(x):
    return np.sum(np.floor(3.0 * x) * x ** 2)


def ceil_(x):
    return np.sum(np.ceil(3.0 * x) * x ** 2)


def round_(x):
    return np.sum(np.round(3.0 * x) * x ** 2)


def around_(x):
    return np.sum(np.around(2.0 * x, 1) * x ** 2)


def round_method(x):
    return np.sum((3.0 * x).round() * x ** 2)


def rint_(x):
    return np.sum(np.rint(3.0 * x) * x ** 2)


def trunc_(x):
    return np.sum(np.trunc(3.0 * x) * x ** 2)


def heaviside_(x):
    return np.sum(np.heaviside(x - 1.5, 0.5) * x ** 2)


def argmax_(x):
    return np.sum(x ** 2) * np.argmax(x)


def argmin_axis(x):
    return np.sum(x ** 2 * np.argmin(x, axis=0))


def argsort_(x):
    return np.sum(x ** 2 * np.argsort(x))


def argmax_method(x):
    return np.sum(x ** 2) * x.argmax()


def argsort_method(x):
    return np.sum(x ** 2 * x.argsort())


def greater_mask(x):
    return np.sum(x ** 2 * np.greater(x, 1.5) + x * np.logical_not(np.less_equal(x, 2.0)))


def isclose_mask(x):
    return np.sum(x ** 2 * np.isclose(x, 1.22)) + np.sum(x) * np.allclose(x, 3.0 * x / 3.0)


CONSTANT_CASES = [  # (f, the gradient of the rest of the expression)
    (greater_mask, lambda x: 2 * x * np.greater(x, 1.5) + (x > 2.0)),
    (isclose_mask, lambda x: 2 * x * np.isclose(x, 1.22) + np.allclose(x, 3.0 * x / 3.0)),
    (floor_, lambda x: 2 * x * np.floor(3 * x)), (ceil_, lambda x: 2 * x * np.ceil(3 * x)),
    (round_, lambda x: 2 * x * np.round(3 * x)), (around_, lambda x: 2 * x * np.around(2 * x, 1)),
    (round_method, lambda x: 2 * x * np.round(3 * x)), (rint_, lambda x: 2 * x * np.rint(3 * x)),
    (trunc_, lambda x: 2 * x * np.trunc(3 * x)),
    (heaviside_, lambda x: 2 * x * np.heaviside(x - 1.5, 0.5)),
    (argmax_, lambda x: 2 * x * np.argmax(x)), (argmin_axis, lambda x: 2 * x * np.argmin(x, axis=0)),
    (argsort_, lambda x: 2 * x * np.argsort(x)), (argmax_method, lambda x: 2 * x * np.argmax(x)),
    (argsort_method, lambda x: 2 * x * np.argsort(x)),
]


@pytest.mark.parametrize(("f", "rest"), CONSTANT_CASES, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("x", [R, R.reshape(1, 5) + 0.04], ids=["vector", "row"])
def test_piecewise_constant_functions_have_derivative_zero(f, rest, x):
    if f is argmin_axis and x.ndim == 1:
        x = x.reshape(5, 1) + np.array([[0.0, 0.06]])
    g = symgrad.grad(f)(x.copy())
    np.testing.assert_allclose(g, fd_grad(f, (x,), 0), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g, rest(x), rtol=1e-12, atol=1e-12)
    check_jvp(f, x)


# ----------------------------------------------------------------------------- refusals

def einsum_repeated_in_the_result(x):      # (numpy refuses 'i->ii' too)
    return np.sum(np.einsum("ij->ii", x))


def diff_prepend(x):
    return np.sum(np.diff(x, prepend=0.0) ** 2)


def det_stack(x):            # (of a stack computed here: a stack passed in is differentiated)
    return np.sum(np.linalg.det(x @ x) ** 2)


@pytest.mark.parametrize(("f", "x", "words"), [
    (einsum_repeated_in_the_result, S, "einsum"),
    (diff_prepend, X, "prepend"), (det_stack, T[:, :3, :3], "stack")], ids=lambda v: getattr(v, "__name__", ""))
def test_what_is_not_differentiated_is_a_clear_error(f, x, words):
    with pytest.raises(SymgradError) as info:
        symgrad.grad(f)(x.copy())
    msg = str(info.value)
    assert "test_numpy_more.py" in msg and words in msg, msg


# ----------------------------------------------------------------------------- generated code

def test_generated_code_reads_as_numpy():
    g = symgrad.grad(cumsum_axis)
    g(X.copy())
    assert "np.flip(np.cumsum(np.flip(" in g.source
    g = symgrad.grad(inv_sum)
    g(S.copy())
    assert "np.linalg.inv(x)" in g.source and "_a1.T" in g.source
    g = symgrad.grad(einsum_two)
    g(X.copy())
    assert "np.einsum('ij,kj->ik', x, x)" in g.source
    assert "_helper" not in g.source


def test_helpers_are_saved_with_the_code(tmp_path):
    g = symgrad.grad(sort_last)
    g(X.copy())
    assert "def _sort_vjp(" in g.source
    ns = {"np": np}
    exec(compile(g.source, "<saved>", "exec"), ns)
    np.testing.assert_allclose(ns["d_sort_last"](X.copy()), fd_grad(sort_last, (X,), 0),
                               rtol=1e-5, atol=1e-5)


def scalar_item(a, b):
    return np.exp((np.float64(a) * b).item()) + np.sum(np.float64(b) * a).item()


def test_item_and_float64_of_numbers():
    # d/da = b e^(ab) + b, d/db = a e^(ab) + a; hvp along (1, 0) = (b^2 e^(ab), (1 + ab) e^(ab) + 1)
    a, b = 0.3, 0.7
    e = np.exp(a * b)
    ga, gb = symgrad.grad(scalar_item, wrt=[0, 1])(a, b)
    assert (ga, gb) == pytest.approx((b * e + b, a * e + a), rel=1e-13)
    hv = symgrad.hvp(scalar_item, (a, b), (1.0, 0.0), wrt=[0, 1])
    assert hv == pytest.approx((b * b * e, (1 + a * b) * e + 1), rel=1e-12)
    assert "float(" in symgrad.grad(scalar_item, wrt=[0, 1]).source


# ----------------------------------------------------------------------------- model errors

def gradient_2d(x):
    return np.sum(np.gradient(x)[0])


def convolve_bad_mode(x):
    return np.sum(np.convolve(np.ravel(x), [1.0, 2.0], mode="middle"))


def test_a_model_outside_what_it_covers_raises_a_clear_error():
    # (a symgrad error: Python computes a tuple here, which symgrad does not model)
    with pytest.raises(symgrad.SymgradError, match="np.gradient of a 1-d array"):
        symgrad.grad(gradient_2d)(X.copy())
    with pytest.raises(ValueError, match="mode must be one of"):
        convolve_bad_mode(X)                   # numpy's own error and symgrad's agree
    with pytest.raises(ValueError, match="mode must be one of"):
        symgrad.grad(convolve_bad_mode)(X.copy())


# --------------------------------------------------------------------------- cumprod at zeros

_CW = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.9], [0.2, 0.8, 1.5], [-0.6, 1.3, 0.5]])


def cumprod_lanes(x):
    return np.sum(np.cumprod(x, axis=0) * _CW) + np.sum(np.cumprod(x, axis=1) ** 2)


def cumprod_all(x):
    return np.sum(np.cumprod(x) * np.ravel(_CW))


def vander_rows(x):
    return np.sum(np.vander(x[:, 0], 3) * _CW[:, :3]) + np.sum(np.vander(x[0]) ** 2)


@pytest.mark.parametrize("zeros", [(), ((1, 0),), ((0, 0), (2, 0)), ((1, 1), (1, 2), (3, 0)),
                                   ((0, 0), (0, 1), (0, 2))], ids=str)
@pytest.mark.parametrize("f", [cumprod_lanes, cumprod_all, vander_rows], ids=lambda f: f.__name__)
def test_cumprod_is_exact_where_the_factors_are_zero(f, zeros):
    """np.cumprod's derivatives divided by the factors: infinite or NaN where one is 0.
    Now the first zero of a lane gets the products of the other factors, and a later
    one 0 (a polynomial: central differences are exact to rounding there), in every
    mode; so is np.vander (a model through cumprod)."""
    x = np.array([[0.5, -1.5, 2.0], [1.2, 0.8, -0.7], [0.9, 1.1, 1.4], [-1.3, 0.6, 0.4]])
    for at in zeros:
        x[at] = 0.0
    with np.errstate(all="raise"):                     # (no division by zero at all)
        value, g = symgrad.value_and_grad(f)(x.copy())
    assert value == f(x)
    np.testing.assert_allclose(g, fd_grad(f, [x], 0), rtol=1e-6, atol=1e-7)
    t = np.linspace(-1.0, 1.0, x.size).reshape(x.shape)
    _, jv = symgrad.jvp(f, (x.copy(),), (t,))
    assert np.isclose(jv, np.sum(g * t), rtol=1e-10, atol=1e-12)
    hv = symgrad.hvp(f, (x.copy(),), (t,))
    grad = symgrad.grad(f)
    h = 1e-5
    np.testing.assert_allclose(hv, (grad(x + h * t) - grad(x - h * t)) / (2 * h),
                               rtol=1e-5, atol=1e-6)


def einsum_tuple_sublists(a, b):
    return np.sum(np.einsum(a, (0, 1), b, (1, 2), (0, 2)) ** 2)


def row_stacked(a):
    return np.sum(np.row_stack([a, a * 2.0]) * np.arange(12.0).reshape(4, 3))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")     # (np.row_stack, numpy 2)
def test_einsum_sublists_as_tuples_and_row_stack():
    """numpy's sublists may be tuples (autograd's test_systematic writes them so), and
    np.row_stack (deprecated, still in numpy 2.x) is np.vstack."""
    a, b = X[:2, :3].copy(), W[:3, :2].copy()
    check_grad(einsum_tuple_sublists, a, b)
    assert "np.einsum('ab,bc->ac', a, b)" in symgrad.grad(einsum_tuple_sublists).source
    if hasattr(np, "row_stack"):
        check_grad(row_stacked, X[:2, :3].copy())


# ----------------------------------------------------------------------------- ufunc methods
def logaddexp_reduce_default(x):
    return np.logaddexp.reduce(x) @ np.arange(1.0, 5.0)


def logaddexp_reduce_axis(x):
    return np.sum(np.logaddexp.reduce(x, axis=1, keepdims=True) ** 2) \
        + np.sum(np.logaddexp2.reduce(x, axis=-1))


def maximum_accumulate_default(x):
    return np.sum(np.maximum.accumulate(x) ** 2 * W)


def minimum_accumulate_axis(x):
    return np.sum(np.minimum.accumulate(x, axis=1) ** 2 * W) \
        + np.sum(np.maximum.accumulate(x, axis=-1))


UFUNC_METHODS = [logaddexp_reduce_default, logaddexp_reduce_axis,
                 maximum_accumulate_default, minimum_accumulate_axis]


@pytest.mark.parametrize("f", UFUNC_METHODS, ids=lambda f: f.__name__)
def test_ufunc_reduce_and_accumulate_models(f):
    """``np.logaddexp.reduce`` (``logaddexp2``), ``np.maximum.accumulate``
    (``minimum``): numpy's own steps, slice by slice (before: no derivative rule)."""
    x = np.random.default_rng(21).normal(size=(3, 4))
    value, _ = symgrad.value_and_grad(f)(x.copy())
    assert value == f(x)                         # numpy's value, to the last bit
    check_grad(f, x)
    check_jvp(f, x)
    check_hvp(f, x)


def test_a_tie_in_a_running_maximum_keeps_the_earlier_element():
    x = np.array([1.0, 1.0, 0.5, 2.0])
    g = symgrad.grad(lambda v: np.sum(np.maximum.accumulate(v) * np.arange(4.0)))(x)
    assert g.tolist() == [3.0, 0.0, 0.0, 3.0]    # (max(a, b) at a tie: all to a)


# ----------------------------------------------------------------------------- lstsq, cond
TALL = RNG.normal(size=(5, 3))
BV, BM = RNG.normal(size=5), RNG.normal(size=(5, 2))


def lstsq_vector(a):
    x, res, rank, sv = np.linalg.lstsq(a, BV, rcond=None)
    return np.sum(x ** 2) + res[0] + rank * 0.5 + np.sum(sv)


def lstsq_matrix(a):
    x, res, _, _ = np.linalg.lstsq(a, BM, rcond=None)
    return np.sum(x * np.arange(6.0).reshape(3, 2)) + np.sum(res ** 2)


def lstsq_square(a):
    return np.sum(np.linalg.lstsq(a, BV[:3], rcond=None)[0] ** 3)


def condition_numbers(a):
    return np.linalg.cond(a) + np.linalg.cond(a, 1) + np.linalg.cond(a, "fro") \
        + np.linalg.cond(a, -2) + np.linalg.cond(a, np.inf)


@pytest.mark.parametrize("f, a", [(lstsq_vector, TALL), (lstsq_matrix, TALL),
                                  (lstsq_square, S), (condition_numbers, S)],
                         ids=["lstsq_vector", "lstsq_matrix", "lstsq_square", "cond"])
def test_lstsq_and_cond(f, a):
    """``np.linalg.lstsq`` (a matrix of full column rank: through the pseudo-inverse)
    and ``np.linalg.cond`` (numpy's own steps); before: no derivative rule."""
    value, _ = symgrad.value_and_grad(f)(a.copy())
    assert np.isclose(value, f(a), rtol=1e-13, atol=0)
    check_grad(f, a)
    check_jvp(f, a)
    check_hvp(f, a, tol=1e-4)


def test_lstsq_of_a_rank_deficient_matrix_is_refused():
    a = np.outer(np.arange(1.0, 6.0), [1.0, 2.0, 3.0])          # rank 1
    with pytest.raises((SymgradError, ValueError), match="full column rank"):
        symgrad.grad(lstsq_vector)(a)


# ----------------------------------------------------------------------------- QR
QW = RNG.normal(size=(5, 3))


def qr_tall(a):
    q, r = np.linalg.qr(a)
    return np.sum(q * QW) + np.sum(r ** 2 * np.arange(9.0).reshape(3, 3))


def qr_square(a):
    q, r = np.linalg.qr(a)
    return np.sum(np.sin(q) * a) + np.sum(np.diag(r) ** 3)


def qr_r_only(a):
    return np.sum(np.linalg.qr(a, mode="r") ** 2) + np.sum(np.linalg.qr(a)[0][:, 0])


@pytest.mark.parametrize("f, a", [(qr_tall, RNG.normal(size=(5, 3))),
                                  (qr_square, S), (qr_r_only, RNG.normal(size=(4, 3)))],
                         ids=["tall", "square", "r_only"])
def test_qr(f, a):
    """``np.linalg.qr`` (reduced; of a matrix with no more columns than rows): Q and R
    differentiated, with ``dA = dQ R + Q dR``, ``Q^T dQ`` antisymmetric and ``dR``
    upper triangular; before: no derivative rule."""
    value, _ = symgrad.value_and_grad(f)(a.copy())
    assert value == f(a)
    check_grad(f, a)
    check_jvp(f, a)
    check_hvp(f, a, tol=1e-4)


def test_qr_of_a_wide_matrix_is_refused():
    with pytest.raises((SymgradError, ValueError), match="no more columns than rows"):
        symgrad.grad(qr_r_only)(np.random.default_rng(22).normal(size=(2, 3)))


# ----------------------------------------------------------------------------- more models
V3 = np.array([0.4, -0.7, 1.3])


def outers(v):
    return np.sum(np.add.outer(v, v) ** 2 + np.subtract.outer(v, v ** 2) * W[:3, :3]) \
        + np.sum(np.multiply.outer(v, v[:2]) ** 2) + np.sum(np.maximum.outer(v, 0.1 * v))


def outers_more(v):
    return np.sum(np.divide.outer(v, 2.0 + v ** 2) + np.power.outer(1.5 + v ** 2, v)
                  + np.minimum.outer(v, v[::-1]) ** 2)


def chained_product(m):
    return np.sum(np.linalg.multi_dot([m, m.T, m]) ** 2) + np.linalg.multi_dot([V3, m, V3])


def nan_aware(v):
    y = np.where(v > 0, v, np.nan)
    return np.nanprod(y + 1.0) + np.sum(np.nancumsum(y) ** 2) + np.sum(np.nancumprod(y + 1.0))


def selections(v):
    return np.sum(np.compress([True, False, True], v) ** 2) \
        + np.sum(np.extract(v > 0, v) ** 3) + np.sum(np.choose([0, 1, 0], [v, v ** 2]) ** 2)


def parts(v):
    frac, whole = np.modf(3.0 * v)
    q, r = np.divmod(4.0 * v + 5.0, 1.5)
    return np.sum(frac ** 2 + whole * v + r ** 2 + q * v) + np.sum(np.ldexp(v, 3) ** 2)


def fitted(y):
    return np.sum(np.polyfit(np.arange(5.0), y, 2) ** 2)


@pytest.mark.parametrize("f, a", [(outers, V3), (outers_more, V3), (chained_product, S),
                                  (nan_aware, V3), (selections, V3), (parts, V3),
                                  (fitted, V)],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_more_numpy_models(f, a):
    """``ufunc.outer``, ``linalg.multi_dot``, ``nanprod``/``nancumsum``/``nancumprod``,
    ``compress``, ``extract``, ``choose``, ``modf``, ``divmod``, ``ldexp``, ``polyfit``:
    models of numpy's steps (before: no derivative rule)."""
    value, _ = symgrad.value_and_grad(f)(a.copy())
    assert np.isclose(value, f(a), rtol=1e-13, atol=0)
    check_grad(f, a)
    check_jvp(f, a)
    check_hvp(f, a, tol=1e-4)


# ----------------------------------------------------------------------------- np.pad modes
PW = RNG.normal(size=(9, 10))


def pad_modes(x):
    """Every mode that copies entries, a border wider than the array included."""
    return np.sum(np.pad(x, ((2, 3), (1, 5)), mode="edge") ** 2 * PW[:8, :10]) \
        + np.sum(np.pad(x, ((4, 2), (3, 3)), mode="reflect") ** 2 * PW[:9, :10]) \
        + np.sum(np.pad(x, 2, mode="symmetric") ** 3 * PW[:7, :8]) \
        + np.sum(np.pad(x, ((1, 0), (6, 0)), mode="wrap") * PW[:4, :10])


def test_pad_modes_that_copy_entries():
    """``np.pad`` with ``mode`` ``'edge'``, ``'wrap'``, ``'reflect'``, ``'symmetric'``: each
    border entry a copy of an entry of the array, so its adjoint is added back there;
    before, only ``'constant'`` was differentiated."""
    x = np.random.default_rng(23).normal(size=(3, 4))
    value, _ = symgrad.value_and_grad(pad_modes)(x.copy())
    assert value == pad_modes(x)
    check_grad(pad_modes, x)
    check_jvp(pad_modes, x)
    check_hvp(pad_modes, x)


def test_pad_modes_that_compute_are_refused():
    f = lambda x: np.sum(np.pad(x, 2, mode="mean"))      # noqa: E731
    with pytest.raises(SymgradError, match="mode='mean'"):
        symgrad.grad(f)(V.copy())


def quantiles_along_axes(x):
    return np.sum(np.percentile(x, [25, 75], axis=0) * np.arange(8.0).reshape(2, 4)) \
        + np.sum(np.quantile(x, 0.6, axis=1) ** 2) + np.quantile(x, 0.8) \
        + np.sum(np.quantile(x, [0.1, 0.9], axis=-1) ** 2)


def test_quantiles_along_an_axis_and_at_several_q():
    """``np.quantile``/``np.percentile`` with ``axis`` and a list of ``q`` (before: of a
    whole array at one q only), interpolated as numpy's ``_lerp`` (t >= 0.5 from above)."""
    x = np.random.default_rng(24).normal(size=(5, 4))
    value, _ = symgrad.value_and_grad(quantiles_along_axes)(x.copy())
    assert value == quantiles_along_axes(x)
    check_grad(quantiles_along_axes, x)
    check_jvp(quantiles_along_axes, x)


# ----------------------------------------------------------------------------- functions passed in
def _square(t):
    return t * t


def piecewise_lambdas(x):
    return np.sum(np.piecewise(x, [x < 0, x >= 0], [lambda t: t ** 2, lambda t: np.sin(t)]))


def piecewise_with_numbers(x):
    """A number among the functions, and the extra function for where no condition holds."""
    return np.sum(np.piecewise(x, [x < -0.5, x > 1.0], [lambda t: t ** 3, 2.0, _square]) * x)


def along_axes(m):
    return np.sum(np.apply_along_axis(_square, 0, m) * W[:2, :3]) \
        + np.sum(np.apply_along_axis(lambda r: r * np.sum(r), 1, m) ** 2)


@pytest.mark.parametrize("f, a", [(piecewise_lambdas, np.array([0.4, -0.7, 1.3, -1.9])),
                                  (piecewise_with_numbers, np.array([0.4, -0.7, 1.3, -0.2])),
                                  (along_axes, X[:2, :3] - 0.5)],
                         ids=["piecewise", "piecewise_numbers", "apply_along_axis"])
def test_numpy_functions_given_functions(f, a):
    """``np.piecewise`` (a list of lambdas, defs and numbers) and ``np.apply_along_axis``
    (of a matrix): each function inlined where numpy calls it (before: "a locally
    defined function used as a value")."""
    value, _ = symgrad.value_and_grad(f)(a.copy())
    assert value == f(a)
    check_grad(f, a)
    check_jvp(f, a)


def masked_reductions(x):
    return np.sum(x ** 2, where=x > -0.5) + np.mean(x, where=x > 0) \
        + np.sum(np.mean(x ** 3, axis=0, where=x > -1.0)) + x.sum(where=x < 1.0) * 2.0 \
        + np.prod(x + 2.0, where=x > -0.3)


def test_reductions_with_a_where_mask():
    """``np.sum``/``np.mean``/``np.prod`` (and the methods) with ``where=``: the entries
    the mask leaves out count as numpy's identity (before: the keyword was refused)."""
    x = np.random.default_rng(25).normal(size=(3, 4))
    value, _ = symgrad.value_and_grad(masked_reductions)(x.copy())
    assert np.isclose(value, masked_reductions(x), rtol=1e-14, atol=0)
    check_grad(masked_reductions, x)
    check_jvp(masked_reductions, x)
    check_hvp(masked_reductions, x)


UNWRAP_AT = np.array([0.1, 3.0, -3.0, 2.9, -3.1, 0.5, 6.5])


def unwrapped(p):
    return np.sum(np.unwrap(p) ** 2 * np.arange(7.0)) \
        + np.sum(np.unwrap(p * 2.0, discont=4.0)) + np.sum(np.unwrap(p * 0.9, period=4.0) ** 2)


def test_unwrap():
    """``np.unwrap`` of a vector (numpy's steps: its values to the last bit); the
    corrections are piecewise constant, so the derivative passes through."""
    value, _ = symgrad.value_and_grad(unwrapped)(UNWRAP_AT.copy())
    assert value == unwrapped(UNWRAP_AT)
    check_grad(unwrapped, UNWRAP_AT)
    check_jvp(unwrapped, UNWRAP_AT)


def bessel_i0(x):
    return np.sum(np.i0(x) * np.arange(1.0, 8.0)) + np.sum(np.i0(x * 0.1) ** 2)


def test_i0_is_numpys_series_and_its_derivative_is_i1():
    """``np.i0``: numpy's Chebyshev series on each side of 8 (its values to the last
    bit); the derivative, that of the series, is I1 to about 1e-15."""
    x = np.array([0.3, -2.5, 7.9, 8.1, 9.5, -11.0, 0.6])
    value, g = symgrad.value_and_grad(bessel_i0)(x.copy())
    assert value == bessel_i0(x)
    check_grad(bessel_i0, x)
    check_jvp(bessel_i0, x)
    special = pytest.importorskip("scipy.special")
    want = special.i1(x) * np.arange(1.0, 8.0) + 2 * np.i0(x * 0.1) * special.i1(x * 0.1) * 0.1
    np.testing.assert_allclose(g, want, rtol=1e-13)


def chosen_out_of_range(v):
    return np.sum(np.choose([0, 2, 1], [v, v ** 2]))


def quantile_above_one(v):
    return np.quantile(v, 1.2)


def fitted_negative_degree(v):
    return np.sum(np.polyfit(np.arange(3.0), v, -1))


@pytest.mark.parametrize("f", [chosen_out_of_range, quantile_above_one,
                               fitted_negative_degree], ids=lambda f: f.__name__)
def test_models_raise_where_numpy_raises(f):
    v = np.array([0.3, 0.5, 0.9])
    with pytest.raises(ValueError) as numpy_error:
        f(v.copy())
    with pytest.raises(ValueError) as ours:
        symgrad.grad(f)(v.copy())
    assert str(ours.value) == str(numpy_error.value)


def _softplus(t):
    if t > 0:
        return t + math.log1p(math.exp(-t))
    return math.log1p(math.exp(t))


def vectorized(m):
    return np.sum(np.vectorize(_softplus)(m) ** 2) \
        + np.sum(np.vectorize(lambda t: t * t if t > 0 else -t)(m[0]))


def test_vectorize_called_where_it_is_made():
    """``np.vectorize(f)(x)``: ``f`` (branches and all) inlined for each number of ``x``,
    of any shape (before: "a locally defined function used as a value")."""
    m = np.array([[0.4, -0.7, 1.3], [2.0, -1.0, 0.1]])
    value, _ = symgrad.value_and_grad(vectorized)(m.copy())
    assert value == vectorized(m)
    check_grad(vectorized, m)
    check_jvp(vectorized, m)
