"""An array read as a Python sequence: unpacked (``x, y = p``, ``a, *b = x``, the rows
of a matrix) or handed to Python's own builtins (``sum``, ``max``, ``min``,
``sorted``, ``list``).  Python walks the array by its first axis; so must the
gradient.  Each function is checked in every mode against central differences
(``check_array_modes``), its value against the function's own (bit for bit: the same
additions in the same order), and each error against Python's."""

import re
import statistics

import numpy as np
import pytest

from numeric import check_array_modes

import symgrad

X3 = np.array([0.7, -1.3, 2.1])
M = np.array([[0.5, -1.2, 0.3], [1.1, 0.4, -0.7]])


def rosenbrock(p):
    x, y = p
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def rows_product(X):
    a, b = X
    return np.sum(a * b) + np.sum(np.tanh(a))


def starred_head(x):
    a, *rest = x
    return a * sum(rest) + len(rest) * a ** 2


def starred_tail(x):
    *init, last = x
    return np.sin(last) * max(init) + min(init)


def builtin_sum(x):
    return sum(x) ** 2 + sum(x, 1.5) * x[0]


def builtin_sum_rows(X):
    s = sum(X)                 # the rows added: a vector
    return np.sum(s * s)


def builtin_extremes(x):
    return max(x) * min(x) + max(x * x)


def builtin_sorted(x):
    s = sorted(x)
    return s[0] * 3.0 + s[-1] ** 2 + s[1] * s[0]


def builtin_list(x):
    xs = list(x)
    xs.append(xs[0] * xs[1])
    return sum(v * v for v in xs)


def builtin_tuple(x):
    t = tuple(x)
    a, b, c = t
    return a * b + c * t[0] + len(t)


def statistics_of_array(x):
    return statistics.fmean(x) * statistics.pvariance(x)


def unpack_in_loop(p):
    s = 0.0
    for k in range(3):
        a, b, c = p
        s = s + a * b * k + c ** 2
        p = p * 0.5
    return s


def unpack_then_overwrite(p):
    a, b, c = p
    p = p * a
    return a * b + np.sum(p ** 2) + c


def unpack_nested(X):
    (a, b, c), (d, e, f) = X
    return a * e - b * d + c * f


def unpack_in_loop_target(X):
    s = 0.0
    for a, b, c in X:
        s = s + a * np.exp(b) - c
    return s


def enumerate_sum(x):
    return sum(k * v for k, v in enumerate(x)) + sum(x) / len(x)


def item_of_flat(x):
    return x.item(0) * x.item(-1) + x.item(1) ** 2


def item_of_matrix(X):
    return X.item(1, 0) * X.item(3) + X.item(0, 2) * 2.0


def to_list(x):
    a = x.tolist()
    a.append(a[0] * a[2])
    return a[0] * a[1] + sum(a) + max(a)


def raises_as_python(f, x, exc):
    """``f(x)`` raises ``exc`` in Python, and so does its gradient."""
    with pytest.raises(exc):
        f(x.copy())
    with pytest.raises(exc):
        symgrad.grad(f)(x.copy())


CASES = [(item_of_flat, X3), (item_of_matrix, M), (to_list, X3),
         (rosenbrock, np.array([0.3, 0.8])), (rows_product, M), (starred_head, X3),
         (starred_tail, X3), (builtin_sum, X3), (builtin_sum_rows, M),
         (builtin_extremes, X3), (builtin_sorted, X3), (builtin_list, X3), (builtin_tuple, X3),
         (statistics_of_array, X3), (unpack_in_loop, X3), (unpack_then_overwrite, X3),
         (unpack_nested, M), (unpack_in_loop_target, M), (enumerate_sum, X3)]


@pytest.mark.parametrize("f, x", CASES, ids=[f.__name__ for f, _ in CASES])
def test_every_mode_against_differences(f, x):
    t = np.linspace(0.3, -0.4, x.size).reshape(x.shape)
    check_array_modes(f, x.copy(), t, rtol=1e-5, atol=1e-6, jvp_rtol=1e-9, jvp_atol=1e-10)


@pytest.mark.parametrize("f, x", CASES, ids=[f.__name__ for f, _ in CASES])
def test_value_is_the_functions_own(f, x):
    value, _ = symgrad.value_and_grad(f)(x.copy())
    if f is statistics_of_array:      # (statistics sums exactly; its model in floats)
        assert value == pytest.approx(f(x.copy()), rel=1e-15)
    else:
        assert value == f(x.copy())


def test_ties_go_to_the_first_as_in_python():
    def f(x):
        return max(x)
    g = symgrad.grad(f)(np.array([1.0, 3.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


def test_sum_of_matrix_rows_against_torch_free_reference():
    # d/dX of sum_j (sum_i X[i, j])^2 is 2 * colsum broadcast to every row (by hand)
    g = symgrad.grad(builtin_sum_rows)(M.copy())
    np.testing.assert_allclose(g, np.broadcast_to(2 * M.sum(axis=0), M.shape))


@pytest.mark.parametrize("bad", [np.array([1.0, 2.0, 3.0]), np.array([1.0])])
def test_wrong_length_raises_as_python(bad):
    with pytest.raises(ValueError) as want:
        rosenbrock(bad.copy())
    with pytest.raises(ValueError) as got:
        symgrad.grad(rosenbrock)(bad.copy())
    assert "unpack" in str(want.value) and "unpack" in str(got.value)


def test_starred_needs_enough_items():
    def f(x):
        a, b, *rest = x
        return a * b
    raises_as_python(f, np.array([1.0]), ValueError)


def test_max_of_matrix_raises_as_python():
    def f(X):
        return np.sum(max(X))
    raises_as_python(f, M, ValueError)


def test_max_of_empty_raises_as_python():
    def f(x):
        return max(x) + np.sum(x)
    raises_as_python(f, np.zeros(0), ValueError)


def test_zero_d_array_is_not_iterable():
    def f(x):
        return sum(x)
    raises_as_python(f, np.array(2.0), TypeError)


def test_generated_code_walks_the_rows():
    g = symgrad.grad(builtin_sum)
    assert isinstance(g(X3.copy()), np.ndarray)
    src = g.source          # (the specialization for the array just called)
    assert "in range(len(x)):" in src and "_rows.append(" in src and "sum(_rows)" in src


def test_tolist_of_a_matrix_is_refused():
    def f(X):
        rows_ = X.tolist()          # lists of lists: their + concatenates
        return np.sum(rows_[0])
    with pytest.raises(symgrad.errors.UnsupportedSyntaxError) as info:
        symgrad.grad(f)(M.copy())
    msg = str(info.value)
    assert "test_arrays_as_sequences.py" in msg and ".tolist()" in msg and "hint:" in msg


def test_item_out_of_range_raises_as_numpy():
    raises_as_python(item_of_flat, np.array([1.0]), IndexError)


def test_list_methods_of_an_array_are_refused_not_dropped():
    # an array has no .append (np.append is a function that returns a new array): this
    # was once lowered as np.append with its result dropped, a gradient where Python raises
    def f(u):
        u.append(2.0)
        return u[0]
    with pytest.raises(AttributeError):
        f(X3.copy())
    with pytest.raises(symgrad.errors.UnsupportedSyntaxError) as info:
        symgrad.grad(f)(X3.copy())
    assert ".append()" in str(info.value)


def test_sum_of_rows_is_a_row_that_can_be_indexed():
    # found by the array fuzzer: sum(w)[-3] (the sum of a matrix's rows, a vector)
    def f(w):
        return sum(w)[-3] * 2.0 + sum(w)[1] ** 2
    want = np.zeros_like(M)
    want[:, 0] = 2.0
    want[:, 1] = 2 * M[:, 1].sum()
    np.testing.assert_allclose(symgrad.grad(f)(M.copy()), want, rtol=1e-14)


@pytest.mark.parametrize("p", [[0.3, 0.8], np.array([0.3, 0.8])], ids=["list", "array"])
def test_the_square_of_an_unpacked_item_is_one_term(p):
    # x * x of x = p[0] (read again in the adjoint): 2 * g * x, not g * x + g * x
    g = symgrad.grad(rosenbrock)
    got = g(p)
    np.testing.assert_allclose(got, [2 * (0.3 - 1) - 400 * 0.3 * (0.8 - 0.09),
                                     200 * (0.8 - 0.09)], rtol=1e-14)
    adjoint = g.source.split("# grad of:", 1)[1]
    assert len(re.findall(r"(?<!d_)p\[0\]", adjoint)) == 1 and "p[0] * 2.0" in adjoint, \
        g.source


def sort_in_place(x):
    v = x * 1.0
    v.sort()
    r = v.sort()                    # (None, as numpy's)
    return v[0] * 3.0 + v[-1] ** 2 + (0.0 if r is None else 1.0)


def sort_rows_in_place(X):
    W = np.tanh(X)
    W.sort(axis=0)
    return np.sum(W[0] * 2.0 + W[1] ** 2)


@pytest.mark.parametrize("f, x", [(sort_in_place, X3), (sort_rows_in_place, M)],
                         ids=["vector", "axis0"])
def test_sort_in_place(f, x):
    t = np.linspace(0.3, -0.4, x.size).reshape(x.shape)
    check_array_modes(f, x.copy(), t, rtol=1e-5, atol=1e-6, jvp_rtol=1e-9, jvp_atol=1e-10)
    assert symgrad.value_and_grad(f)(x.copy())[0] == f(x.copy())


def test_sort_in_place_of_a_view_read_later_is_refused():
    def f(u):
        v = u[1:]
        v.sort()                    # sorts part of u too
        return np.sum(u * np.arange(3.0))
    with pytest.raises(symgrad.errors.UnsupportedSyntaxError, match="shares memory"):
        symgrad.grad(f)(X3.copy())


def test_a_tuple_of_an_array_cannot_be_written_into():
    def f(x):
        t = tuple(x)
        t[0] = 1.0
        return t[1]
    raises_as_python(f, X3, TypeError)


def test_tolist_of_an_array_whose_rank_is_known_only_when_it_runs():
    # found by the array fuzzer: value_and_grad's first code (before the call tells the
    # rank) refused x.tolist() of a vector; the rank is now tested when the code runs
    def f(x):
        return x.tolist()[-3] * 2.0 + np.sum(x)
    value, g = symgrad.value_and_grad(f)(X3.copy())
    assert value == f(X3.copy())
    np.testing.assert_array_equal(g, [3.0, 1.0, 1.0])
