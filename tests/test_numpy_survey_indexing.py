"""Indexing with a tuple of index arrays, and numpy models given Python lists: bugs a
survey against autograd's numpy tests found (our own programs).

* ``x[idx]`` with ``idx`` a tuple (``np.ix_``, ``np.triu_indices``, ``np.nonzero``, a
  local tuple mixing arrays, slices and ints) reads ``x[idx[0], idx[1], ...]``; its
  adjoint must scatter with the same tuple (it was wrapped in another tuple).
* ``y[idx] = v`` through such a tuple: the check for a repeated index looks at the
  index *tuples* (a (row, col) pair), and counts ``-1`` and ``n - 1`` as one element.
* ``np.interp`` (and ``np.diag``, ``np.gradient``, ``np.atleast_3d``) of Python lists.

Every derivative is checked against central finite differences of the function.
"""

import numpy as np
import pytest

import symgrad

RNG = np.random.default_rng(11)
H = 1e-6


def fd_grad(f, x):
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        up, dn = x.copy(), x.copy()
        up[k] += H
        dn[k] -= H
        g[k] = (f(up) - f(dn)) / (2 * H)
    return g


def fd_hvp(f, x, v, h=1e-4):
    """The Hessian times v from f alone: mixed central differences along v and e_k."""
    out = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[k] = h
        out[k] = (f(x + h * v + e) - f(x + h * v - e) - f(x - h * v + e)
                  + f(x - h * v - e)) / (4 * h * h)
    return out


def check_all(f, x, modes=("grad", "jvp", "hvp")):
    """symgrad.grad, jvp and hvp of f at x against finite differences of f."""
    assert np.isfinite(f(x))
    if "grad" in modes:
        np.testing.assert_allclose(symgrad.grad(f)(x.copy()), fd_grad(f, x),
                                   rtol=1e-5, atol=1e-6)
    v = RNG.standard_normal(x.shape)
    if "jvp" in modes:
        _, slope = symgrad.jvp(f, (x.copy(),), (v,))
        want = (f(x + H * v) - f(x - H * v)) / (2 * H)
        np.testing.assert_allclose(slope, want, rtol=1e-5, atol=1e-6)
    if "hvp" in modes:
        np.testing.assert_allclose(symgrad.hvp(f, (x.copy(),), (v,)), fd_hvp(f, x, v),
                                   rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------- reads
def by_ix(w):
    return np.sum(np.sin(w[np.ix_([1, 3], [0, 2, 4])]) * w[0, 0])


def by_triu(w):
    return np.sum(np.sin(w[np.triu_indices(4, 1)]) ** 2)


def by_tril(w):
    return np.sum(np.cos(w[np.tril_indices(4, -1)]) * np.arange(6.0))


def by_diag(w):
    return np.sum(np.exp(w[np.diag_indices(4)] / 3.0))


def by_nonzero(w):
    picked = w[np.nonzero(w > 0.5)]        # (no value near 0.5: the mask stays put)
    return np.sum(picked * picked * picked)


def by_where_one_arg(w):
    return np.sum(np.sin(w[np.where(w < 0.5)]))


def by_local_tuple(w):
    rows = np.array([3, 0, 2])
    cols = np.array([1, 4, 4])
    pick = (rows, cols)
    return np.sum(np.tanh(w[pick]))


def by_array_and_slice(w):
    where = (np.array([2, 0]), slice(1, 4))
    return np.sum(np.sin(w[where]) * np.array([1.0, 2.0, 3.0]))


def by_int_and_array(w):
    at = (1, np.array([0, 3, 3]))          # (a repeated column: both reads count)
    return np.sum(np.sin(w[at])) + np.sum(np.cos(w[2, np.array([4, 4])]))


def by_negative(w):
    return np.sum(np.sin(w[(np.array([-1, 0, -4]), np.array([-2, 1, -5]))]) ** 2)


def by_repeats(w):
    again = (np.array([1, 1, 2, 1]), np.array([0, 0, 3, 0]))     # (1, 0) three times
    return np.sum(np.sin(w[again]))


def by_two_ints(w):
    i = (1, 2)                             # w[i] is the one number w[1, 2]
    return np.sin(w[i]) * w[0, 1]


def _upper(n):
    return np.triu_indices(n, 1)


def by_helper(w):
    return np.sum(np.sin(w[_upper(4)]) * w[0, 0])


def by_unravel(w):
    return np.sum(np.sin(w[np.unravel_index(np.array([0, 7, 13, 7]), (4, 5))]))


def by_ellipsis(w):
    cube = np.reshape(w, (2, 2, 5))
    return np.sum(np.sin(cube[..., np.array([4, 0, 4])]) ** 2)


READS = [by_ix, by_triu, by_tril, by_diag, by_nonzero, by_where_one_arg, by_local_tuple,
         by_array_and_slice, by_int_and_array, by_negative, by_repeats, by_two_ints,
         by_helper, by_unravel, by_ellipsis]


def point():
    """A 4x5 array with no entry within 0.05 of 0.5 (the masks above keep their sets
    under finite differences)."""
    w = RNG.uniform(0.05, 0.95, (4, 5))
    return np.where(np.abs(w - 0.5) < 0.05, w + 0.2, w)


@pytest.mark.parametrize("f", READS, ids=lambda f: f.__name__)
def test_read_through_a_tuple_index(f):
    check_all(f, point())


def test_repeated_reads_accumulate():
    w = point()
    g = symgrad.grad(by_repeats)(w)
    assert g[1, 0] == pytest.approx(3 * np.cos(w[1, 0]))
    np.testing.assert_allclose(g, fd_grad(by_repeats, w), rtol=1e-6, atol=1e-7)


def test_two_ints_pick_one_element():
    w = point()
    g = symgrad.grad(by_two_ints)(w)
    assert np.count_nonzero(g) == 2              # w[1, 2] and w[0, 1], nothing else
    np.testing.assert_allclose(g, fd_grad(by_two_ints, w), rtol=1e-6, atol=1e-7)


def test_index_tuple_in_the_generated_adjoint():
    """The scatter-add uses the index as numpy read it: np.add.at(d_w, idx, g)."""
    g = symgrad.grad(by_triu)
    g(point())
    assert "add.at(d_w, (_t" not in g.source


# ---------------------------------------------------------------------- writes
def zero_upper(x):
    y = x.copy()
    y[np.triu_indices(4, 1)] = 0.0
    return np.sum(np.sin(y) * x)


def set_diagonal(x):
    y = np.sin(x)
    y[np.diag_indices(4)] = np.exp(x[0, :]) * x[:, 1]
    return np.sum(y * y)


def set_grid(x):
    y = x * 1.5
    y[np.ix_([0, 2], [1, 3])] = np.cos(x[:2, :2])
    return np.sum(np.sin(y) * x)


def set_mixed(x):
    y = x.copy()
    y[(np.array([3, 0]), slice(None))] = x[1:3, :] ** 2
    return np.sum(np.cos(y) * x)


def set_negative_distinct(x):
    y = x.copy()
    y[np.array([-1, 0]), np.array([0, -1])] = np.sin(x[1, 1:3])
    return np.sum(y * y * x)


WRITES = [zero_upper, set_diagonal, set_grid, set_mixed, set_negative_distinct]


@pytest.mark.parametrize("f", WRITES, ids=lambda f: f.__name__)
def test_write_through_a_tuple_index(f):
    check_all(f, RNG.uniform(-1.0, 1.0, (4, 4)))


def repeat_pair(x):
    y = x.copy()
    y[(np.array([1, 2, 1]), np.array([3, 0, 3]))] = x[0, :3]     # (1, 3) twice
    return np.sum(y * x)


def repeat_grid(x):
    y = x.copy()
    y[np.ix_([0, 0], [1, 2])] = 2.0 * x[1:3, 1:3]
    return np.sum(y * x)


def repeat_negative(x):
    y = x.copy()
    y[np.array([3, -1])] = x[:2] * 2.0                # row 3 written twice
    return np.sum(y * x)


@pytest.mark.parametrize("f", [repeat_pair, repeat_grid, repeat_negative],
                         ids=lambda f: f.__name__)
def test_repeated_write_refused(f):
    with pytest.raises(ValueError, match="repeated index"):
        symgrad.grad(f)(RNG.uniform(-1.0, 1.0, (4, 4)))


# ---------------------------------------------------------------------- np.add.at
def add_at_nonzero_number(x):
    z = np.zeros(5)
    np.add.at(z, np.nonzero(x > 0.0), x[1] ** 2)      # one number added at each
    return np.sum(z * z * np.arange(5.0))


def add_at_upper(x):
    z = np.zeros((3, 3))
    np.add.at(z, np.triu_indices(3), x ** 2)
    return np.sum(np.sin(z) * (1.0 + z))


def add_at_local_tuple_repeats(x):
    z = np.ones((2, 3))
    at = (np.array([0, 1, 0]), np.array([2, 1, 2]))      # (0, 2) twice: both added
    np.add.at(z, at, np.sin(x[:3]))
    return np.sum(z * z)


@pytest.mark.parametrize("f,x", [
    (add_at_nonzero_number, np.array([0.3, -0.4, 0.8, 1.1, -0.2])),
    (add_at_upper, np.linspace(0.1, 0.9, 6)),
    (add_at_local_tuple_repeats, np.array([0.2, 0.7, -0.5, 1.0]))],
    ids=["nonzero_number", "upper", "local_tuple_repeats"])
def test_add_at_with_a_tuple_index(f, x):
    check_all(f, x)


# ---------------------------------------------------------------------- models given lists
def interp_lists(x):
    return np.sum(np.sin(np.interp(x, [0.0, 1.0, 2.0], [0.0, 3.0, 1.0])))


def interp_tuples(x):
    return np.sum(np.interp(x, (0.0, 1.0, 2.0), (2.0, -1.0, 0.5)) ** 2)


def interp_fp_differentiated(x):
    return np.sum(np.interp(np.array([0.25, 1.5]), [0.0, 1.0, 2.0], [x[0], x[1], x[2]]) ** 2)


def diag_of_list(x):
    return np.sum(np.diag([1.0, 2.0, 3.0]) @ np.sin(x))


def gradient_of_list(x):
    return np.sum(np.gradient([x[0], x[1] ** 2, x[2]]) ** 2)


def atleast_3d_of_list(x):
    return np.sum(np.atleast_3d([x[0], x[2]]) ** 3)


@pytest.mark.parametrize("f", [interp_lists, interp_tuples, interp_fp_differentiated,
                               diag_of_list, gradient_of_list, atleast_3d_of_list],
                         ids=lambda f: f.__name__)
def test_numpy_models_take_lists(f):
    check_all(f, np.array([0.3, 1.4, 0.8]))
