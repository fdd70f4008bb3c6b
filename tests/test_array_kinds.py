"""Arrays that the lowering once took for Python lists, and loops inside a while's test.

Each program here was refused ("a value used both as num and list", "an array used as
a Python list", "returns a list") or crashed before; the array fuzzer's ``list_kind``
family.  Every gradient is checked against central finite differences, and hvp against
differences of the gradient."""

import bisect
import math

import numpy as np
import pytest

import symgrad
from symgrad import Value
from symgrad.errors import SymgradError

X = np.array([0.3, -0.7, 1.1])
W = np.array([[0.2, 0.5, -0.4], [1.3, -0.6, 0.8]])
A = 0.7


def fd(f, args, i, h=1e-6):
    args = [np.array(t, dtype=float) if isinstance(t, np.ndarray) else t for t in args]
    if not isinstance(args[i], np.ndarray):
        up, dn = list(args), list(args)
        up[i] += h
        dn[i] -= h
        return (f(*up) - f(*dn)) / (2 * h)
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


def no_numpy_square_then_index(x, w, a):
    return (x ** 2)[0] + (w * a)[1][2]          # (the function never names numpy)


def slice_then_method(x, w, a):
    y = x * a                                    # (a float parameter times an array)
    return y[1:].sum()


def slice_then_index(x, w, a):
    return (x[1:] / 2.0)[0] + w[1:][0, 2]


def row_of_a_sum(x, w, a):
    return (a + w[0])[0]


def sum_of_a_slice(x, w, a):
    return np.sum((x * a)[1:])


def reshape_then_method(x, w, a):
    return w.reshape(-1).sum(axis=0)


def matmul_of_written_copy(x, w, a):
    y = x.copy()
    y[1] = x[0]
    return y @ x


def matmul_of_fancy_and_slices(x, w, a):
    return x[[0, 0, 2]] @ x + x[1:] @ x[:2]


def written_but_unread(x, w, a):
    y = w.copy()
    y[:, 1:] = x[0]
    return a * x[2]


def loop_carried_unread(x, w, a):
    acc = x
    for i in range(2):
        acc = acc + w[i][i]
    return w[1, 0] * a


def unused_locals(x, w, a):
    v1 = a + w[0]
    v2 = w[:, :2]
    return a * a


def element_write_into_product(x, w, a):
    y = x * a
    y[0] = 1.0
    return np.sum(y * x)


def copy_of_product(x, w, a):
    return np.sum((x * a).copy() * x)


def loop_then_column_write(x, w, a):
    acc = a
    for i in range(2):
        acc += acc
    y = w.copy()
    y[:, -3] = acc
    return np.sum(y * y)


def inner_of_fancy(x, w, a):
    return np.inner(x[[0, 0, 2]], x) + np.inner(x[:2], x[1:])


def hstack_of_fancy(x, w, a):
    return np.sum(np.hstack([x[[1, 1]], x]) ** 2)


def hstack_of_rows(x, w, a):
    return np.sum(np.hstack([w[:, :1], w]) ** 2 * a)


def asarray_of_fancy_reversed(x, w, a):
    return np.sum(np.asarray(w[-2][[0, 1, 2, 2, 1, 0]])[::-1] * x[0])


def element_plus_method_of_a_reversed_slice(x, w, a):
    return x[-2] + x[::-1].sum(axis=0) + (x[:1] + x[0]).mean(axis=None)


def fancy_write_into_a_copy(x, w, a):
    y = x.copy()                 # (no numpy name: read as lists first, the [[0, 2]] a list)
    y[[0, 2]] = x[::2]
    s = a
    return s + x[-2] * a + s


def slice_write_of_a_number_into_a_copy(x, w, a):
    y = x.copy()                 # (no numpy name: read as lists first, y[1:] = a made a
    y[1:] = a                    # list, and the result s + ... + s one: "returns a list")
    s = a
    t = s
    return s + t + s             # (y unread: its gradient is zero, x's too)


def fancy_read_then_method(x, w, a):
    return (x[[2, 0, 1]] * x).sum() * a


PROGRAMS = [fancy_write_into_a_copy, slice_write_of_a_number_into_a_copy, fancy_read_then_method,
            element_plus_method_of_a_reversed_slice, no_numpy_square_then_index, slice_then_method, slice_then_index, row_of_a_sum,
            sum_of_a_slice, reshape_then_method, matmul_of_written_copy,
            matmul_of_fancy_and_slices, written_but_unread, loop_carried_unread,
            unused_locals, element_write_into_product, copy_of_product,
            loop_then_column_write, inner_of_fancy, hstack_of_fancy, hstack_of_rows,
            asarray_of_fancy_reversed]


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_gradient_matches_finite_differences(f):
    g = symgrad.grad(f, wrt=[0, 1, 2])(X.copy(), W.copy(), A)
    for i, arg in enumerate((X, W, A)):
        want = fd(f, (X, W, A), i)
        assert np.shape(g[i]) == np.shape(want), (i, np.shape(g[i]))
        np.testing.assert_allclose(g[i], want, rtol=1e-5, atol=1e-6)


def cube_of_a_scaled_slice(x, w, a):
    y = x * a
    return (y ** 3)[1:].sum() + (x ** 2)[0] * y[2]


@pytest.mark.parametrize("f", [cube_of_a_scaled_slice, matmul_of_written_copy,
                               matmul_of_fancy_and_slices, element_write_into_product,
                               copy_of_product, hstack_of_fancy, inner_of_fancy],
                         ids=lambda f: f.__name__)
def test_hvp_matches_differences_of_the_gradient(f):
    v = np.array([0.4, -1.2, 0.9])
    got = symgrad.hvp(f, (X.copy(), W.copy(), A), (v,), wrt=[0])
    gx = symgrad.grad(f, wrt="x")
    h = 1e-5
    want = (gx(X + h * v, W, A) - gx(X - h * v, W, A)) / (2 * h)
    assert np.abs(want).max() > 0.1                # (a second derivative to find)
    np.testing.assert_allclose(got[0] if isinstance(got, tuple) else got, want, rtol=1e-5, atol=1e-6)


def test_tuple_index_of_a_real_list_is_a_clear_error():
    def f(xs):
        return xs[1, 0] * 2.0
    g = symgrad.grad(f)
    with pytest.raises(SymgradError) as info:
        g([[1.0, 2.0], [3.0, 4.0]])
    assert "np.array" in str(info.value)
    np.testing.assert_allclose(g(np.array([[1.0, 2.0], [3.0, 4.0]])), [[0, 0], [2, 0]])


def test_list_index_of_a_real_list_is_a_clear_error():
    # xs[[0, 2]] is numpy's fancy indexing: read as a list it made the elements lists and
    # the function "returned a list"; now the array reading takes it, and a real list
    # gets a clear error (Python raises TypeError there too)
    def f(xs):
        ys = list(xs)
        ys[[0]] = [2.0]
        return ys[0] * xs[1]
    with pytest.raises(SymgradError, match=r"a list indexed with a list \(w\[\[0, 2\]\]\)"):
        symgrad.grad(f)([1.0, 2.0])


# ------------------------------------------------------------------ a loop in a while's test

def _hits(a):
    k = 0
    s = a
    while k < 3:
        s = s * a + 0.1
        if s > 5.0:
            break
        k += 1
    return s


def while_test_with_a_loop(x, n):
    k = 0
    acc = x
    while k < n and _hits(acc) < 4.0:       # (the helper's loop runs in the test)
        acc = acc * 1.3 + _hits(acc) * 0.1
        k += 1
    return acc * x


def _sorted_first(c):
    b = min(1.0, c, key=abs)
    k = 0
    while k < 1:
        b = sorted([c, c])[0] * b
        k += 1
    return b


def while_test_with_inactive_loop(x, xs, n):
    k = 0
    while k < n and _sorted_first(xs[-1]) < 2.0:
        k += 1
    return math.log1p(x * x) * (k + 1)


@pytest.mark.parametrize("x", [0.9, 0.5, 1.2])
def test_loop_inside_a_while_test(x):
    (g,) = symgrad.grad(while_test_with_a_loop, wrt=["x"])(x, 5)
    v = Value(x)
    while_test_with_a_loop(v, 5).backward()
    assert g == pytest.approx(v.grad, rel=1e-12)
    assert g == pytest.approx(fd(while_test_with_a_loop, (x, 5), 0), rel=1e-6)
    ((h,),) = symgrad.hessian(while_test_with_a_loop, wrt=["x"])(x, 5)
    gx = symgrad.grad(while_test_with_a_loop, wrt=["x"])
    assert h == pytest.approx((gx(x + 1e-5, 5)[0] - gx(x - 1e-5, 5)[0]) / 2e-5, rel=1e-5)


def test_inactive_loop_inside_a_while_test():
    g = symgrad.grad(while_test_with_inactive_loop, wrt=["x", "xs"])
    dx, dxs = g(0.3, [0.2], 1)
    assert dxs == [0.0]
    assert dx == pytest.approx(fd(while_test_with_inactive_loop, (0.3, [0.2], 1), 0), rel=1e-6)


# ------------------------------------------------------------------ a float parameter and numpy

def accumulate_onto_a_float(x, w, b):
    s = b
    for i in range(2):
        s += np.dot(w[i], x) * b         # (b a float: s += ... rebinds s)
    return s


def accumulate_from_a_float_then_fancy(x, w, a):
    acc = a
    for i in range(2):
        acc -= np.cos(w[1 - i][i]) + a
    v = np.asarray(w[-2][[0, 1, 2, 2, 1, 0]])[::-1]
    return acc + np.mean(v * x[0])


@pytest.mark.parametrize("f", [accumulate_onto_a_float, accumulate_from_a_float_then_fancy],
                         ids=lambda f: f.__name__)
def test_float_parameter_copied_then_updated_in_place(f):
    test_gradient_matches_finite_differences(f)


def test_the_same_update_of_an_array_argument_is_refused():
    # with b a numpy array, s = b is a view and s += ... changes b, which is read again
    with pytest.raises(SymgradError) as info:
        symgrad.grad(accumulate_onto_a_float, wrt=[0, 1, 2])(X.copy(), W.copy(), np.array(A))
    assert "shares memory with b" in str(info.value)


# ------------------------------------------------------------------ forward mode over loops

def float_start_then_arrays(x, w, a):
    acc = 0.0                               # (a Python float: no .shape on the first trip)
    for i in range(2):
        t = np.exp(0.5 * np.sin(acc)) * x[i]
        acc = 0.5 * acc + np.sin(w[:, [2, 0, 1]][i][i] / (1.0 + acc ** 2)) * t
    return acc


def constant_matrix_product_in_a_loop(x, w, a):
    s = 0.0
    for i in range(2):
        s = s + np.sum(w.T @ (0.5 * np.ones((2, 3))) * w[0, 0] * x[i])
    return s


def constant_start_of_an_array_loop(x, w, a):
    acc = np.max(np.eye(3), axis=0)         # (no tangent: zeros of its shape)
    for i in range(3):
        acc = acc * x[i] + np.array([np.where(x[0] < 0.0, a, x[-1])])
    return np.sum(acc * acc)


@pytest.mark.parametrize("f", [float_start_then_arrays, constant_matrix_product_in_a_loop,
                               constant_start_of_an_array_loop], ids=lambda f: f.__name__)
def test_forward_mode_over_loops_mixing_numbers_and_arrays(f):
    tx, tw, ta = np.array([0.4, -1.2, 0.9]), np.array([[0.3, -0.2, 1.0], [0.7, 0.1, -0.5]]), 0.6
    _, slope = symgrad.jvp(f, (X.copy(), W.copy(), A), (tx, tw, ta))
    h = 1e-6
    want = (f(X + h * tx, W + h * tw, A + h * ta) - f(X - h * tx, W - h * tw, A - h * ta)) / (2 * h)
    assert float(slope) == pytest.approx(want, rel=1e-6, abs=1e-9)
    got = symgrad.hvp(f, (X.copy(), W.copy(), A), (tx, tw, ta))
    g = symgrad.grad(f, wrt=[0, 1, 2])
    up, dn = g(X + h * tx, W + h * tw, A + h * ta), g(X - h * tx, W - h * tw, A - h * ta)
    for k in range(3):
        np.testing.assert_allclose(got[k], (up[k] - dn[k]) / (2 * h), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ zero tangents of array ops

def min_of_a_transposed_product(x, w, a):
    return np.min(w[::-1].T @ (0.5 * np.ones((2, 3)))) + np.sum(w ** 3) * a


def test_hvp_through_an_array_op_whose_tangent_is_zero():
    # The adjoint of w in w.T @ C does not depend on w: its tangent is zero, and was
    # printed as 0.0, which the transpose after it could not take (0.0.T).  Found by
    # the array fuzzer (seed 20261212).
    w = np.array([[0.86, 0.34, 0.32], [0.09, 0.74, 0.81]])
    v = np.array([[0.1, -0.7, 0.9], [-0.8, 0.6, -0.7]])
    a = -0.9
    hv = symgrad.hvp(min_of_a_transposed_product, (X.copy(), w, a), (np.zeros(3), v, 0.0),
                     wrt=[0, 1, 2])
    np.testing.assert_allclose(hv[1], 6 * a * w * v, rtol=1e-12)      # (the min is linear)
    np.testing.assert_allclose(hv[2], np.sum(3 * w * w * v), rtol=1e-12)


# --- deeply nested loops: finding the arrays' broadcast patterns ran each loop to a
# fixed point inside every pass of the loop around it, exponential in the depth (the
# fuzzer's hvp of a gradient with a dozen nested loops did not finish)
def nested_loops(x):
    s = x * 1.0
    for a in range(2):
        for b in range(2):
            for c in range(1):
                for d in range(1):
                    for e in range(1):
                        for g in range(1):
                            for h in range(1):
                                for k in range(1):
                                    s = np.sin(s) * 0.5 + x * 0.25
                                s = s * 0.75
                            s = s + 0.125 * x
                        s = s * 1.25
                    s = s - 0.0625 * x
                s = s * 0.5
            s = s + x
        s = s * 0.5
    return np.sum(s * s)


def test_patterns_of_nested_loops_take_linear_work(monkeypatch):
    from symgrad import shapes
    from symgrad.lower import lower
    calls = [0]
    real = shapes._eqn

    def counted(e, pats):
        calls[0] += 1
        return real(e, pats)
    monkeypatch.setattr(shapes, "_eqn", counted)
    lowered = lower(nested_loops, patterns={"x": ("n",)})
    n = sum(1 for s in __import__("symgrad").ir.walk(lowered.func.body)
            if type(s) is __import__("symgrad").ir.Eqn)
    shapes.patterns(lowered.func.body, lowered.func.params, {"x": ("n",)})
    assert calls[0] <= 8 * n            # (it was 3 ** depth passes over the innermost)
    g = symgrad.grad(nested_loops)(X.copy())
    np.testing.assert_allclose(g, fd(nested_loops, [X], 0), rtol=1e-6, atol=1e-8)
    hv = symgrad.hvp(nested_loops, (X.copy(),), (np.ones(3),))
    gu = symgrad.grad(nested_loops)(X + 1e-5)
    gd = symgrad.grad(nested_loops)(X - 1e-5)
    np.testing.assert_allclose(hv, (gu - gd) / 2e-5, rtol=1e-5, atol=1e-6)


# --- an index array made by a call whose result symgrad does not know (np.int64(a),
# np.argmax(x, axis=0)) was taken for one integer: its adjoint was written with
# d_x[idx] += g, which adds a repeated index once (a silently wrong gradient; found
# running autograd's test_cast_to_int)
def index_from_int64(w):
    return np.sum(w[:, :-1][np.int64(np.ones(5))] ** 2)


def index_from_argmax(m):
    rows = np.argmax(m, axis=0)            # the same row for several columns
    return np.sum(np.sin(m[rows]) * 2.0)


@pytest.mark.parametrize("f, x", [
    (index_from_int64, np.arange(30.0).reshape(5, 6) / 10.0),
    (index_from_argmax, np.array([[0.9, 0.8, 0.1], [0.2, 0.3, 0.7], [0.1, 0.2, 0.3]]))],
    ids=["int64", "argmax"])
def test_an_index_array_made_by_a_call_adds_every_repeat(f, x):
    g = symgrad.grad(f)(x.copy())
    np.testing.assert_allclose(g, fd(f, [x], 0), rtol=1e-6, atol=1e-8)
    t = np.linspace(0.5, 1.5, x.size).reshape(x.shape)
    value, slope = symgrad.jvp(f, (x.copy(),), (t,))
    assert slope == pytest.approx(float(np.sum(g * t)), rel=1e-9)


# --- the same index arrays after arithmetic (np.argmax(m, axis=0) + 1, a copy in a
# helper, a slice of np.argsort, np.nonzero(m)[1] % 2, np.clip of one): the result of the
# arithmetic was taken for one integer, and repeats were added once (a silently wrong
# gradient, found while reviewing the reverse pass's second test for such indices)
def _rows(m):
    return np.argmax(m, axis=0)


def shifted_argmax(w, m):
    i = np.argmax(m, axis=0) + 1
    i -= 1
    return np.sum(w[i + 1] * 2.0)


def argmax_through_helper_and_loop(w, m):
    i = _rows(m) * 1
    t = 0.0
    for k in range(2):
        t = t + np.sum(w[(i + k) % 3] ** 2)
    return t


def sliced_argsort(w, m):
    return np.sum(w[np.argsort(m[1])[:2] * 0] * 3.0)


def nonzero_mod(w, m):
    return np.sum(w[np.nonzero(m)[1] % 2] ** 2)


def clipped(w, m):
    j = np.clip(np.argmax(m, axis=0), 0, 1)
    return np.sum(np.exp(w[j if m[0, 0] < 5 else -j]))


@pytest.mark.parametrize("f", [shifted_argmax, argmax_through_helper_and_loop, sliced_argsort,
                               nonzero_mod, clipped])
def test_an_index_array_after_arithmetic_adds_every_repeat(f):
    w = np.array([1.0, 2.0, 3.0, 0.5])
    m = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    g = symgrad.grad(f, wrt=0)(w.copy(), m)
    np.testing.assert_allclose(g, fd(lambda v: f(v, m), [w], 0), rtol=1e-6, atol=1e-8)
    assert np.count_nonzero(g) >= 1
    t = np.array([0.3, -0.2, 0.5, 0.1])
    value, slope = symgrad.jvp(f, (w.copy(), m), (t, np.zeros_like(m)))
    assert slope == pytest.approx(float(np.sum(g * t)), rel=1e-9)


def test_a_bisect_index_stays_one_integer():
    edges = [0.5, 1.5, 2.5]

    def f(w, x):
        k = bisect.bisect_left(edges, x)
        return math.exp(w[k - 1]) * x + w[min(k, 2)] ** 2

    w = np.array([0.3, -0.4, 1.1])
    gf = symgrad.grad(f, wrt=(0, 1))
    gw, gx = gf(w.copy(), 1.7)
    np.testing.assert_allclose(gw, fd(lambda v: f(v, 1.7), [w], 0), rtol=1e-6, atol=1e-8)
    assert gx == pytest.approx(math.exp(w[1]))      # (k = 2 at x = 1.7)
    assert "np.add.at" not in gf.source        # an integer: d_w[k - 1] += ...


def rank_dependent(x):
    if x.ndim == 2:                         # (a matrix: its rows' sums, as a list of values)
        rows = [np.sum(r) for r in x]
        return rows[0] * rows[-1]
    return np.sum(x * x) * np.ndim(x)


def test_ndim_of_an_array_argument_is_known_while_lowering():
    """The gradient is made for each rank an argument comes with, so ``x.ndim`` and
    ``np.ndim(x)`` of that argument are constants of the code made: a branch on the
    rank is only the branch taken, and each rank's code holds only its own branch."""
    g = symgrad.grad(rank_dependent)
    for x in (np.array([0.5, -1.0, 2.0]), np.array([[0.5, -1.0], [2.0, 0.25], [1.5, 3.0]])):
        got = g(x.copy())
        want = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = 1e-6
            want[i] = (rank_dependent(x + e) - rank_dependent(x - e)) / 2e-6
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
        code = [ln for ln in g.source.split('"""')[2].splitlines()
                if not ln.strip().startswith("#")]
        assert not any("x.ndim" in ln or "ndim(x)" in ln for ln in code)
