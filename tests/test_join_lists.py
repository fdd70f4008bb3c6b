"""np.concatenate / np.stack / np.vstack / np.hstack / np.column_stack / np.dstack of a
list made when the function runs (a parameter, a comprehension, a list appended to):
the arrays are joined as numpy joins them, and the adjoint is cut back into the list.

Every gradient is checked against central finite differences of the function itself,
every jvp against a directional difference, every hvp against differences of the
gradient, every vjp of an array result against finite differences of u . f."""

import numpy as np
import pytest

import symgrad
from symgrad.errors import SymgradError

RNG = np.random.default_rng(41)
GL = [RNG.normal(size=2), RNG.normal(size=3)]          # a module-level list of arrays


def _r(*shape):
    return RNG.normal(size=shape)


# ----------------------------------------------------------------------------- cases

def concat_param(xs):
    return np.sum(np.concatenate(xs) ** 3)


def concat_axis1(xs):
    return np.sum(np.sin(np.concatenate(xs, axis=1)) * np.arange(12.0).reshape(2, 6))


def concat_negative_axis(xs):
    return np.sum(np.concatenate(xs, axis=-2) ** 2 * 0.5)


def concat_axis_none(xs):
    return np.sum(np.concatenate(xs, axis=None) ** 3)


def stack_axis1(xs):
    return np.sum(np.stack(xs, axis=1) ** 2 * np.arange(6.0).reshape(2, 3))


def stack_last_axis(xs):
    return np.sum(np.tanh(np.stack(xs, axis=-1)) * np.arange(6.0).reshape(3, 2))


def vstack_vectors(xs):
    return np.sum(np.vstack(xs) ** 3)


def vstack_mixed(xs):
    return np.sum(np.exp(np.vstack(xs)))


def hstack_vectors(xs):
    return np.sum(np.hstack(xs) ** 3)


def hstack_matrices(xs):
    return np.sum(np.hstack(xs) ** 2 * np.arange(10.0).reshape(2, 5))


def column_stack_vectors(xs):
    return np.sum(np.column_stack(xs) ** 3)


def dstack_matrices(xs):
    return np.sum(np.cos(np.dstack(xs)))


def flattened_parameters(ws):
    return np.sum(np.concatenate([w.ravel() for w in ws]) ** 2 * np.arange(7.0))


def stacked_comprehension(x):
    return np.sum(np.stack([np.sin(x * k) for k in range(1, 4)]) ** 2)


def appended_rows(x):
    rows = []
    for k in range(3):
        rows.append(x * (k + 1.0))
    return np.sum(np.tanh(np.vstack(rows)))


def list_changed_after_the_join(x):
    ys = [x, 2.0 * x]
    a = np.concatenate(ys)
    ys.append(x ** 2)
    b = np.concatenate(ys)
    ys[0] = np.sin(x)
    c = np.stack(ys)
    return np.sum(a ** 2) + np.sum(b ** 3) + np.sum(c * c * c)


def joined_twice(xs):
    return np.sum(np.concatenate(xs) ** 2) + np.sum(np.hstack(xs) * 3.0) ** 2


def module_list_and_a_parameter(x):
    return np.sum(np.concatenate(GL) * np.concatenate([x, x[:1]]) ** 2)


def list_of_a_loop(x, n):
    parts = [x[:1]]
    for k in range(n):
        parts.append(np.sin(parts[-1]) + x[1:2])
    return np.sum(np.concatenate(parts) ** 2)


def rows_of_an_array(a):
    return (np.sum(np.vstack(a) ** 3) + np.sum(np.concatenate(a) ** 2)
            + np.sum(np.stack(a, axis=1) ** 2 * 0.5) + np.sum(np.hstack(a) ** 3)
            + np.sum(np.dstack(a) ** 3) + np.sum(np.column_stack(a) ** 2 * 0.5))


def elements_of_a_vector(v):
    return np.sum(np.vstack(v) ** 3) + np.sum(np.column_stack(v) * np.hstack(v))


def tuple_parameter(xs):
    return np.sum(np.concatenate(xs) ** 2 * 0.5) + np.sum(np.stack((xs[0], xs[0])))


CASES = [
    (concat_param, ([_r(2), _r(3), _r(1)],)),
    (concat_axis1, ([_r(2, 1), _r(2, 3), _r(2, 2)],)),
    (concat_negative_axis, ([_r(1, 3), _r(2, 3)],)),
    (concat_axis_none, ([_r(2, 2), _r(3)],)),
    (stack_axis1, ([_r(2), _r(2), _r(2)],)),
    (stack_last_axis, ([_r(3), _r(3)],)),
    (vstack_vectors, ([_r(3), _r(3)],)),
    (vstack_mixed, ([_r(2, 3), _r(3), _r(1, 3)],)),
    (hstack_vectors, ([_r(2), _r(3)],)),
    (hstack_matrices, ([_r(2, 2), _r(2, 3)],)),
    (column_stack_vectors, ([_r(3), _r(3), _r(3)],)),
    (dstack_matrices, ([_r(2, 2), _r(2, 2)],)),
    (flattened_parameters, ([_r(2, 2), _r(3)],)),
    (stacked_comprehension, (_r(3),)),
    (appended_rows, (_r(2),)),
    (list_changed_after_the_join, (_r(2),)),
    (joined_twice, ([_r(2), _r(3)],)),
    (module_list_and_a_parameter, (_r(4),)),
    (tuple_parameter, ((_r(2), _r(2)),)),
    (rows_of_an_array, (_r(3, 2),)),
    (elements_of_a_vector, (_r(3),)),
]


def _id(case):
    return case[0].__name__


# ----------------------------------------------------------------------------- helpers

def _flat(arg):
    """The arrays of an argument (itself, or the items of a list or tuple)."""
    return list(arg) if isinstance(arg, (list, tuple)) else [arg]


def _rebuild(arg, arrays):
    if isinstance(arg, (list, tuple)):
        return type(arg)(arrays)
    return arrays[0]


def _copy(args):
    return tuple(_rebuild(a, [np.array(x, dtype=float) for x in _flat(a)]) for a in args)


def fd_grad(f, args, i, h=1e-6):
    """Central finite differences of f with respect to argument i (each array of it)."""
    out = []
    for j, x in enumerate(_flat(args[i])):
        g = np.zeros_like(x)
        for k in np.ndindex(x.shape):
            vals = []
            for step in (h, -h):
                moved = _copy(args)
                _flat_arg = _flat(moved[i])
                _flat_arg[j][k] += step
                moved = moved[:i] + (_rebuild(args[i], _flat_arg),) + moved[i + 1:]
                vals.append(f(*moved))
            g[k] = (vals[0] - vals[1]) / (2 * h)
        out.append(g)
    return _rebuild(args[i], out)


def _assert_close(got, want, tol=1e-5):
    for g, w in zip(_flat(got), _flat(want)):
        assert np.shape(g) == np.shape(w), (np.shape(g), np.shape(w))
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


def _directions(args, seed):
    rng = np.random.default_rng(seed)
    return tuple(_rebuild(a, [rng.normal(size=np.shape(x)) for x in _flat(a)]) for a in args)


def _moved(args, ts, s):
    return tuple(_rebuild(a, [x + s * t for x, t in zip(_flat(a), _flat(ta))])
                 for a, ta in zip(args, ts))


def _float_args(case):
    f, args = case
    return f, args, [i for i, a in enumerate(args) if not isinstance(a, int)]


# ----------------------------------------------------------------------------- tests

@pytest.mark.parametrize("case", CASES, ids=_id)
def test_gradient_matches_finite_differences(case):
    f, args = case
    got = symgrad.grad(f)(*_copy(args))
    _assert_close(got, fd_grad(f, args, 0))
    value, _ = symgrad.value_and_grad(f)(*_copy(args))
    np.testing.assert_allclose(value, f(*_copy(args)), rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_jvp_matches_a_directional_difference(case):
    f, args = case
    ts = _directions(args, 3)
    value, tangent = symgrad.jvp(f, _copy(args), ts)
    h = 1e-6
    want = (f(*_moved(args, ts, h)) - f(*_moved(args, ts, -h))) / (2 * h)
    np.testing.assert_allclose(value, f(*_copy(args)), rtol=1e-12)
    np.testing.assert_allclose(tangent, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_hvp_matches_differences_of_the_gradient(case):
    f, args = case
    ts = _directions(args, 5)
    got = symgrad.hvp(f, _copy(args), ts)
    g = symgrad.grad(f)
    h = 1e-5
    up, down = g(*_moved(args, ts, h)), g(*_moved(args, ts, -h))
    want = _rebuild(args[0], [(u - d) / (2 * h) for u, d in zip(_flat(up), _flat(down))])
    _assert_close(got, want)


def test_a_loop_built_list_with_a_count():
    x = np.array([0.3, -0.7])
    for n in (0, 1, 4):
        got = symgrad.grad(list_of_a_loop, wrt=0)(x.copy(), n)
        _assert_close(got, fd_grad(lambda v: list_of_a_loop(v, n), (x,), 0))


def test_vjp_of_an_array_result():
    def joined(xs):
        return np.concatenate(xs, axis=1) * 2.0

    xs = [_r(2, 1), _r(2, 3)]
    out, pull = symgrad.vjp(joined, _copy((xs,))[0])
    np.testing.assert_array_equal(out, joined(xs))
    u = RNG.normal(size=out.shape)
    (got,) = pull(u)
    _assert_close(got, fd_grad(lambda v: np.sum(u * joined(v)), (xs,), 0))


def test_the_generated_code_joins_the_list_and_cuts_the_adjoint():
    src = symgrad.grad(concat_param).source
    assert "np.concatenate(xs)" in src
    assert "_unjoin(" in src


def test_a_list_of_lists_of_differentiated_values_is_refused():
    def rows_of_lists(x):
        rows = [[x[0], x[1]], [x[1], x[0]]]
        return np.sum(np.concatenate(rows) ** 2)

    with pytest.raises(SymgradError, match="line"):
        symgrad.grad(rows_of_lists)(np.array([0.5, 2.0]))


# --------------------------------- lists of arrays joined from other lists (parts + [x])
def joined_from_a_concatenation(x):
    parts = []
    for k in range(0):
        parts.append(x)
    return np.sum(np.concatenate(parts + [x]))


def array_from_a_concatenation(x):
    parts = []
    return np.sum(np.array(parts + [x]))


def stacked_from_a_concatenation(x):
    parts = [x * 2.0]
    return np.sum(np.array(parts + [x]) ** 2) + np.sum(np.concatenate(parts + [x]))


def test_an_array_adjoint_shared_by_two_shadow_lists_is_not_added_twice():
    """``parts + [x]``: the adjoint list of the result shares its elements with the
    adjoint list of ``[x]``; adding into them in place counted the gradient twice
    (np.array(parts + [x]) gave 2 for d/dx sum(x) before this was found)."""
    x = np.array([0.3, -0.8])
    _assert_close(symgrad.grad(joined_from_a_concatenation)(x.copy()), np.ones(2))
    _assert_close(symgrad.grad(array_from_a_concatenation)(x.copy()), np.ones(2))
    for f in (joined_from_a_concatenation, array_from_a_concatenation,
              stacked_from_a_concatenation):
        _assert_close(symgrad.grad(f)(x.copy()), fd_grad(f, (x,), 0))
        ts = _directions((x,), 3)
        _, t = symgrad.jvp(f, (x.copy(),), ts)
        h = 1e-6
        want = (f(x + h * ts[0]) - f(x - h * ts[0])) / (2 * h)
        np.testing.assert_allclose(t, want, rtol=1e-5, atol=1e-6)


def stacked_from_a_repeated_list(x):
    a = [x]
    b = a * 3                     # three references to one array: one shared adjoint
    return np.sum(np.array(b) * np.arange(3.0)[:, None]) + np.sum(np.array(b) ** 2)


def stacked_from_a_list_added_to_itself(x):
    a = [x, x * x]
    return np.sum(np.vstack(a + a) ** 2) + np.sum(np.array(a + [x]) * 2.0)


def test_lists_of_arrays_repeated_or_added_to_themselves():
    """``[x] * 3`` and ``a + a`` make adjoint lists whose elements are one array held
    several times; each addition into one was seen by all (the gradient of
    np.array([x] * 3) weighted by 0, 1, 2 was 24 instead of 3 before)."""
    x = np.array([0.3, -0.8])
    for f in (stacked_from_a_repeated_list, stacked_from_a_list_added_to_itself):
        _assert_close(symgrad.grad(f)(x.copy()), fd_grad(f, (x,), 0))
        hv = symgrad.hvp(f, (x.copy(),), (np.array([1.0, -0.5]),))
        g = symgrad.grad(f)
        h = 1e-5
        want = (g(x + h * np.array([1.0, -0.5])) - g(x - h * np.array([1.0, -0.5]))) / (2 * h)
        _assert_close(hv, want)


def copied_list_of_arrays(xs):
    ys = list(xs)
    ys[0] = ys[0] + 1.0
    return np.sum(ys[0] ** 2) + np.sum(xs[0] * 3.0)


def test_an_argument_list_of_arrays_copied_inside_the_function():
    """``ys = list(xs)``: the adjoint list ``d_ys = d_xs[:]`` holds d_xs's arrays, and
    ``d_xs[0] += g`` added into them in place: the gradient was doubled (12, 6 for
    2 (x + 1) + 3 = 6, 3) on the old code, with no error."""
    xs = [np.array([0.5, -1.0])]
    value, (g,) = symgrad.value_and_grad(copied_list_of_arrays)([xs[0].copy()])
    assert value == pytest.approx(copied_list_of_arrays(xs))
    _assert_close(g, 2.0 * (xs[0] + 1.0) + 3.0)
    assert "+= " not in symgrad.grad(copied_list_of_arrays).source.split("# Defined")[0]
