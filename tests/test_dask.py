"""The generated gradient of an array program runs on Dask arrays (issue 13, "Beyond one
machine"): the same code, through dask's numpy protocols, builds a lazy task graph
that works chunk by chunk.

References are independent of dask: the gradient symgrad gives for the same data as one
numpy array, and central finite differences of the loss on that numpy array.  Dask runs
on its local schedulers (synchronous and threaded); nothing here needs a cluster.
"""

from __future__ import annotations

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
from dask.callbacks import Callback  # noqa: E402

import symgrad  # noqa: E402

N, D, H, CHUNK = 600, 5, 4, 100          # 6 chunks of rows


# =========================================================================== the losses

def least_squares(w, X, y):
    r = X @ w - y
    return np.mean(r * r)


def logistic(w, b, X, y):
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def mlp(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - y) ** 2)


def column_stats(w, X, y):
    """Reductions over axis 0 (one number per column), with and without keepdims."""
    Z = X * w
    m = np.mean(Z, axis=0)
    v = np.var(Z, axis=0)
    s = np.sum(Z, axis=0, keepdims=True)
    return np.sum(m * m) + np.sum(v) + np.sum(s ** 2) / X.shape[0] ** 2


def bias_broadcast(b, X, y):
    """A bias of shape (D,) broadcast over every row, and a scalar-per-row residual."""
    Z = np.tanh(X + b)
    r = np.sum(Z, axis=1) - y
    return np.sum(r ** 2) / X.shape[0]     # len(X) here: KindError, even on numpy


def huber_softmax(W, X, y):
    """np.where, max with keepdims (a stable log-sum-exp), and slicing a column."""
    z = X @ W
    z = z - np.max(z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z), axis=1))
    r = lse - z[:, 0] - y
    return np.mean(np.where(np.abs(r) < 1.0, 0.5 * r * r, np.abs(r) - 0.5))


def data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    y = rng.normal(size=N)
    labels = (X @ rng.normal(size=D) + 0.3 * rng.normal(size=N) > 0).astype(float)
    return X, y, labels


def params(seed=1):
    rng = np.random.default_rng(seed)
    return {"w": 0.5 * rng.normal(size=D), "b": 0.2, "W1": 0.5 * rng.normal(size=(D, H)),
            "b1": 0.1 * rng.normal(size=H), "W2": 0.5 * rng.normal(size=H), "b2": -0.1,
            "bias": 0.3 * rng.normal(size=D), "W": 0.5 * rng.normal(size=(D, 3))}


# (loss, its parameters' names in params(), the wrt names, which target)
CASES = [
    (least_squares, ["w"], ["w"], "y"),
    (logistic, ["w", "b"], ["w", "b"], "labels"),
    (mlp, ["W1", "b1", "W2", "b2"], ["W1", "b1", "W2", "b2"], "y"),
    (column_stats, ["w"], ["w"], "y"),
    (bias_broadcast, ["bias"], ["b"], "y"),
    (huber_softmax, ["W"], ["W"], "y"),
]
IDS = [c[0].__name__ for c in CASES]


def case_args(case, dask_data: bool):
    loss, pnames, wrt, target = case
    X, y, labels = data()
    t = labels if target == "labels" else y
    if dask_data:
        X, t = da.from_array(X, chunks=(CHUNK, D)), da.from_array(t, chunks=CHUNK)
    p = params()
    return tuple(p[n] for n in pnames) + (X, t)


def central_differences(f, args, i, h=1e-6):
    """d f / d args[i] by central differences, on numpy data."""
    x = np.asarray(args[i], dtype=float)
    out = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        step = h * max(1.0, abs(x[k]))
        moved = []
        for sign in (1, -1):
            xm = x.copy()
            xm[k] += sign * step
            a = list(args)
            a[i] = xm if x.ndim else float(xm)
            moved.append(f(*a))
        out[k] = (moved[0] - moved[1]) / (2 * step)
    return out


def as_tuple(g):
    return g if isinstance(g, tuple) else (g,)


# =========================================================================== tests

@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_on_chunked_dask_data_equals_numpy_and_finite_differences(case, scheduler):
    loss, _pnames, wrt, _ = case
    np_args, dk_args = case_args(case, False), case_args(case, True)
    g = symgrad.grad(loss, wrt=wrt)
    with Computes() as computes:
        lazy = as_tuple(g(*dk_args))
    assert computes.count == 0          # building the gradient's graph computes nothing
    # lazy until computed: every gradient is a dask array whose graph reads the chunks
    assert all(isinstance(d, da.Array) for d in lazy), [type(d) for d in lazy]
    assert "np.broadcast_to" in g.source or "@" in g.source   # the array specialization
    got = dask.compute(*lazy, scheduler=scheduler)
    ref = as_tuple(symgrad.grad(loss, wrt=wrt)(*np_args))
    for k, (a, b) in enumerate(zip(got, ref)):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13, err_msg=f"{wrt[k]}")
        fd = central_differences(loss, np_args, k)
        np.testing.assert_allclose(a, fd, rtol=1e-5, atol=1e-7, err_msg=f"{wrt[k]} vs fd")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value_and_grad_on_dask_is_lazy_and_equals_numpy(case):
    loss, _pnames, wrt, _ = case
    np_args, dk_args = case_args(case, False), case_args(case, True)
    value, grads = symgrad.value_and_grad(loss, wrt=wrt)(*dk_args)
    assert isinstance(value, da.Array) and value.shape == ()
    assert all(isinstance(d, da.Array) for d in as_tuple(grads))
    v, gs = dask.compute(value, grads, scheduler="synchronous")
    assert v == pytest.approx(loss(*np_args), rel=1e-12)
    for a, b in zip(as_tuple(gs), as_tuple(symgrad.grad(loss, wrt=wrt)(*np_args))):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_the_generated_source_is_the_one_numpy_gets():
    """One gradient, two array types: the specialization for a (n, m) matrix and an (n,)
    vector is shared by numpy and dask arguments (same ranks, same size-1 pattern)."""
    X, y, _ = data()
    w = params()["w"]
    g = symgrad.grad(least_squares, wrt="w")
    g(w, X, y)
    numpy_source = g.source
    g(w, da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK))
    assert g.source == numpy_source
    assert "X.T @" in numpy_source


# ---------------------------------------------------------- chunk by chunk, never whole

class Loads:
    """Chunks made by a delayed loader (as from files): counts the loads."""

    def __init__(self, rows=40, d=D):
        self.rows, self.d, self.calls = rows, d, []

    def load(self, k):
        self.calls.append(k)
        rng = np.random.default_rng(100 + k)
        return rng.normal(size=(self.rows, self.d))

    def array(self, n):
        parts = [da.from_delayed(dask.delayed(self.load)(k), shape=(self.rows, self.d),
                                 dtype=float) for k in range(n)]
        return da.concatenate(parts, axis=0)

    def numpy(self, n):
        return np.concatenate([np.random.default_rng(100 + k).normal(size=(self.rows, self.d))
                               for k in range(n)])


class Computes(Callback):
    """Counts the computations dask runs (on any local scheduler) inside the block."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1


class LargestResult(Callback):
    """The largest array any task of a computation returns."""

    def __init__(self):
        super().__init__()
        self.nbytes = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        self.nbytes = max(self.nbytes, getattr(result, "nbytes", 0))


def labels_of(X):
    return (X[:, 0] - 0.5 * X[:, 1] > 0).astype(float)


def test_many_chunks_are_differentiated_chunk_by_chunk():
    """50 chunks made by a loader: nothing is loaded until dask.compute, each chunk is
    loaded once for value and gradient together, no task returns more than one chunk's
    worth of data, and the graph grows with the number of chunks."""
    w, b = params()["w"], 0.1
    vg = symgrad.value_and_grad(logistic, wrt=["w", "b"])
    sizes = {}
    for n in (10, 50):
        src = Loads()
        X = src.array(n)
        value, (dw, db) = vg(w, b, X, labels_of(X))
        assert src.calls == []                       # building the graph loads nothing
        sizes[n] = len(dw.__dask_graph__())
        with LargestResult() as largest:
            v, gw, gb = dask.compute(value, dw, db, scheduler="synchronous")
        assert sorted(src.calls) == list(range(n))   # every chunk, once
        assert largest.nbytes <= src.rows * src.d * 8   # one chunk of X at most
        Xn = src.numpy(n)
        ref_v, (ref_w, ref_b) = symgrad.value_and_grad(logistic, wrt=["w", "b"])(
            w, b, Xn, labels_of(Xn))
        assert v == pytest.approx(ref_v, rel=1e-12)
        np.testing.assert_allclose(gw, ref_w, rtol=1e-10, atol=1e-13)
        assert gb == pytest.approx(ref_b, rel=1e-10, abs=1e-13)
    assert sizes[50] > 4 * sizes[10]                 # per-chunk tasks


def test_gradient_descent_steps_on_dask_data_follow_numpy():
    src = Loads(rows=50)
    X = src.array(8)
    y = labels_of(X)
    Xn = src.numpy(8)
    yn = labels_of(Xn)
    vg = symgrad.value_and_grad(logistic, wrt=["w", "b"])
    w_d, b_d = np.zeros(D), 0.0
    w_n, b_n = np.zeros(D), 0.0
    losses = []
    for _ in range(5):
        value, (dw, db) = dask.compute(*vg(w_d, b_d, X, y), scheduler="threads")
        w_d, b_d = w_d - 1.0 * dw, b_d - 1.0 * float(db)
        vn, (dwn, dbn) = vg(w_n, b_n, Xn, yn)
        w_n, b_n = w_n - 1.0 * dwn, b_n - 1.0 * dbn
        assert value == pytest.approx(vn, rel=1e-12)
        losses.append(value)
    np.testing.assert_allclose(w_d, w_n, rtol=1e-10)
    assert losses == sorted(losses, reverse=True) and losses[-1] < 0.9 * losses[0]


# =========================================================================== known gaps
# Things a user would reasonably write that do not work on dask yet (each works on numpy
# arrays).  Each fails for the reason given (``raises=``); strict, so a fix shows.

def first_two_columns(w, X, y):
    return np.sum((X[:, 0] * w[0] + X[:, 1] * w[1] - y) ** 2)


def sliced_parameter(w, X, y):
    return np.sum((X[:, :2] * w[:2]) ** 2)


def minibatch(w, X, y, batch):
    r = X[batch] @ w - y[batch]
    return np.mean(r * r)


def hinge_by_mask(w, X, y):
    r = 1.0 - y * (X @ w)
    return np.sum(r[r > 0])


@pytest.mark.xfail(strict=True, raises=symgrad.ArgumentError,
                   reason="unknown chunk sizes (from_delayed with shape nan, as when rows come "
                   "from files): refused with a hint (compute_chunk_sizes). The adjoint of "
                   "np.mean divides by x.size, which dask gives as nan (a nan gradient); "
                   "a lazy count would need a helper in place of every x.size in the "
                   "generated numpy, and np.broadcast_to(g, x.shape) needs the shape")
def test_unknown_chunk_sizes():
    X, _, _ = data()
    parts = [da.from_delayed(dask.delayed(lambda k: X[k * CHUNK:(k + 1) * CHUNK])(k),
                             shape=(np.nan, D), dtype=float) for k in range(N // CHUNK)]
    Xu = da.concatenate(parts)
    w, y_of = params()["w"], (lambda X: np.sin(X[:, 0]))
    assert np.isnan(Xu.shape[0])
    assert float(dask.compute(least_squares(w, Xu, y_of(Xu)))[0]) == pytest.approx(
        least_squares(w, X, y_of(X)), rel=1e-12)             # the loss itself runs
    got = symgrad.grad(least_squares, wrt="w")(w, Xu, y_of(Xu))
    np.testing.assert_allclose(dask.compute(got)[0],
                               symgrad.grad(least_squares, wrt="w")(w, X, y_of(X)), rtol=1e-10)


def test_elements_of_a_parameter_stay_lazy():
    """d_w[k] += <dask scalar> (once on a numpy d_w: the dask value computed on the spot,
    one pass over the data per element)."""
    X, y, _ = data()
    w = params()["w"]
    g = symgrad.grad(first_two_columns, wrt="w")
    with Computes() as computes:
        got = g(w, da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK))
    np.testing.assert_allclose(np.asarray(got), g(w, X, y), rtol=1e-10)
    assert computes.count == 0 and isinstance(got, da.Array), (computes.count, type(got))


def test_slice_of_a_parameter():
    """d_w[:2] += <dask array> (once on a numpy d_w: dask refused out=ndarray)."""
    X, y, _ = data()
    w = params()["w"]
    got = symgrad.grad(sliced_parameter, wrt="w")(w, da.from_array(X, chunks=(CHUNK, D)), y)
    np.testing.assert_allclose(dask.compute(got)[0],
                               symgrad.grad(sliced_parameter, wrt="w")(w, X, y))


def test_minibatch_stays_lazy():
    """X[batch] @ w goes through the helper _matmul_vjp_b (once np.asarray on its operands:
    the rows were computed on the spot)."""
    X, y, _ = data()
    w, batch = params()["w"], np.random.default_rng(5).permutation(N)[:300]
    Xd, yd = da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK)
    g = symgrad.grad(minibatch, wrt="w")
    with Computes() as computes:
        assert isinstance(minibatch(w, Xd, yd, batch), da.Array)     # the loss is lazy
        got = g(w, Xd, yd, batch)
    np.testing.assert_allclose(dask.compute(got)[0], g(w, X, y, batch), rtol=1e-10)
    assert computes.count == 0


def test_boolean_mask():
    """np.sum(r[r > 0]): the adjoint is np.where(r > 0, d_out, 0.0), which needs no count
    of the picked elements (once np.add.at, which dask lacks, of a nan-sized broadcast)."""
    X, _, labels = data()
    w = params()["w"]
    y = 2.0 * labels - 1.0
    got = symgrad.grad(hinge_by_mask, wrt="w")(w, da.from_array(X, chunks=(CHUNK, D)),
                                               da.from_array(y, chunks=CHUNK))
    np.testing.assert_allclose(dask.compute(got)[0],
                               symgrad.grad(hinge_by_mask, wrt="w")(w, X, y))


def mean_by_mask(w, X, y):
    r = 1.0 - y * (X @ w)
    return np.mean(r[r > 0])


def squares_by_mask(w, X, y):
    r = 1.0 - y * (X @ w)
    return np.sum(r[r > 0] ** 2)


def test_boolean_mask_is_lazy_and_reads_as_numpy():
    X, _, labels = data()
    w = params()["w"]
    y = 2.0 * labels - 1.0
    g = symgrad.grad(hinge_by_mask, wrt="w")
    with Computes() as computes:
        got = g(w, da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK))
    assert computes.count == 0 and isinstance(got, da.Array)
    assert "np.where(r > 0, d_out, 0.0)" in g.source and "add.at" not in g.source
    np.testing.assert_allclose(dask.compute(got)[0], central_differences(hinge_by_mask,
                               (w, X, y), 0), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("loss", [mean_by_mask, squares_by_mask])
def test_masked_values_dask_cannot_place_back_fail_loudly(loss):
    """A mask picks a number of elements dask does not know (nan): the adjoint of
    np.mean(r[m]) divides by it, that of np.sum(r[m] ** 2) must be placed back at the
    picked positions.  Both fail when the gradient is built, never a nan gradient."""
    X, _, labels = data()
    w = params()["w"]
    y = 2.0 * labels - 1.0
    g = symgrad.grad(loss, wrt="w")
    with pytest.raises((TypeError, ValueError)):
        dask.compute(g(w, da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK)))
    np.testing.assert_allclose(g(w, X, y), central_differences(loss, (w, X, y), 0),
                               rtol=1e-5, atol=1e-7)


def test_unknown_chunk_sizes_are_refused_clearly():
    X, _, _ = data()
    parts = [da.from_delayed(dask.delayed(lambda k: X[k * CHUNK:(k + 1) * CHUNK])(k),
                             shape=(np.nan, D), dtype=float) for k in range(N // CHUNK)]
    Xu = da.concatenate(parts)
    with pytest.raises(symgrad.ArgumentError) as info:
        symgrad.grad(least_squares, wrt="w")(params()["w"], Xu, np.sin(Xu[:, 0]))
    msg = str(info.value)
    assert "X" in msg and "compute_chunk_sizes()" in msg and "test_dask.py" in msg
    Xu.compute_chunk_sizes()                     # the hint works
    got = symgrad.grad(least_squares, wrt="w")(params()["w"], Xu, np.sin(Xu[:, 0]))
    np.testing.assert_allclose(dask.compute(got)[0], symgrad.grad(least_squares, wrt="w")(
        params()["w"], X, np.sin(X[:, 0])), rtol=1e-10)


# ---------------------------------------------------------- adjoint helpers keep dask lazy

def tensordot_right(W, X, y):
    return np.sum((np.tensordot(X, W, axes=([1], [0])) - y[:, None]) ** 2)


def tensordot_left(W, X, y):
    return np.sum(np.tensordot(W, X, axes=([0], [1])) ** 2)


def batched_right(W, X, y):
    return np.sum((X.reshape(6, 100, D) @ W) ** 2)


def batched_left(V, X, y):
    return np.sum(np.tanh(V @ X.reshape(6, 100, D)))


def element_and_slice_writes(w, X, y):
    r = X[:, 0] * w[0] + X[:, 1:3] @ w[1:3] - y
    return np.mean(r * r) + w[4] * np.sum(X[:, 4])


@pytest.mark.parametrize("loss,shape", [
    (tensordot_right, (D, 3)), (tensordot_left, (D, 2)), (batched_right, (D, 2)),
    (batched_left, (2, 100)), (element_and_slice_writes, (D,))])
def test_adjoint_helpers_and_writes_stay_lazy(loss, shape):
    """_tensordot_vjp_*, _matmul_vjp_* and element writes d_w[k] += ... build dask graphs
    (once np.asarray computed the operands; np.transpose got a numpy array of axes)."""
    X, y, _ = data()
    p = 0.3 * np.random.default_rng(7).normal(size=shape)
    g = symgrad.grad(loss, wrt=0)
    with Computes() as computes:
        got = g(p, da.from_array(X, chunks=(CHUNK, D)), da.from_array(y, chunks=CHUNK))
    assert computes.count == 0 and isinstance(got, da.Array)
    ref = g(p, X, y)
    np.testing.assert_allclose(dask.compute(got)[0], ref, rtol=1e-10, atol=1e-12)
    if p.size <= 10:
        np.testing.assert_allclose(ref, central_differences(loss, (p, X, y), 0),
                                   rtol=1e-5, atol=1e-6)
