"""A list given for a parameter the function only hands to numpy (``np.asarray(xs)``,
``np.dot(xs, w)``, ``xs = np.asarray(xs)`` at the top, then anything) is taken as the
array numpy makes of it, in every mode, and its gradient is a list (a tuple for a
tuple, nested lists for rows).  Where Python itself would compute on the list
(``xs * 2`` repeats it), or the parameter is rebound only on some paths, or read by a
lambda, the list is refused by name, as before.  Checked against central differences
of the function called with lists, and against the gradient for the array."""

import math

import numpy as np
import pytest

import symgrad
from symgrad.errors import ArgumentError

H = 1e-6


def converted(xs):
    a = np.asarray(xs)
    return np.sum(np.sin(a) * a)


def rebound_at_top(xs, w):
    xs = np.asarray(xs, dtype=float)
    return np.sum(xs * w) ** 2 + xs[0] * len(xs) - np.sum(xs + xs)


def handed_directly(xs, w):
    return np.dot(xs, w) + np.sum(np.tanh(xs)) + np.mean(xs) * len(xs)


def concatenated(xs):
    z = np.concatenate((xs, [0.5]))
    return np.sum(z[1:] * z[:-1]) + np.prod(np.array([xs, xs]))


def rows(m):
    a = np.array(m)
    return np.sum(a @ a.T) + np.sum(np.exp(a[:, 0]))


def written_into(xs):
    a = np.array(xs)               # a copy: the list is not changed, nor is the gradient's
    a[0] = a[1] * 3.0
    return np.sum(a * a)


def helper_of_numpy(xs):
    return np.linalg.norm(xs) * np.max(np.abs(xs))


def central(f, args, i):
    """Central differences of ``f`` with respect to argument ``i``, a (nested) list,
    called with lists as given."""
    base = np.asarray(args[i], dtype=float)
    out = np.zeros_like(base)
    for k in np.ndindex(base.shape):
        up, dn = base.copy(), base.copy()
        up[k] += H
        dn[k] -= H
        out[k] = (f(*args[:i], up.tolist(), *args[i + 1:])
                  - f(*args[:i], dn.tolist(), *args[i + 1:])) / (2 * H)
    return out


W = np.array([0.4, -1.2, 0.9])
CASES = [(converted, ([0.3, 1.1, -0.7],)), (rebound_at_top, ([0.3, 1.1, -0.7], W)),
         (handed_directly, ([0.3, 1.1, -0.7], W)), (concatenated, ([0.3, 1.1, -0.7],)),
         (rows, ([[0.3, 1.1], [-0.7, 0.2], [0.5, 0.6]],)), (written_into, ([0.3, 1.1, -0.7],)),
         (helper_of_numpy, ([0.3, 1.9, -0.7],))]
IDS = [c[0].__name__ for c in CASES]


def same_shape_lists(got, like):
    if isinstance(like, (list, tuple)):
        assert type(got) is type(like) and len(got) == len(like)
        for g, a in zip(got, like):
            same_shape_lists(g, a)
    else:
        assert type(got) is float


@pytest.mark.parametrize("f,args", CASES, ids=IDS)
def test_gradient_of_a_list_is_a_list_equal_to_the_arrays(f, args):
    before = [list(a) if isinstance(a, list) else a for a in args]
    wrt = list(range(len(args)))
    value, grads = symgrad.value_and_grad(f, wrt=wrt)(*args)
    assert value == pytest.approx(f(*args), rel=1e-13)
    assert [a for a in args] == before            # the lists given are not changed
    same_shape_lists(grads[0], args[0])
    np.testing.assert_allclose(grads[0], central(f, args, 0), rtol=1e-6, atol=1e-8)
    as_arrays = symgrad.grad(f, wrt=wrt)(*[np.asarray(a, dtype=float) for a in args])
    for g, a in zip(grads, as_arrays):
        np.testing.assert_allclose(np.asarray(g), a, rtol=1e-14, atol=1e-15)


def test_a_tuple_gives_a_tuple_and_ints_are_numbers():
    g = symgrad.grad(converted)((1, 2.5, 3))
    assert type(g) is tuple and all(type(v) is float for v in g)
    np.testing.assert_allclose(g, [math.cos(v) * v + math.sin(v) for v in (1, 2.5, 3)])


def test_a_tuple_of_ints_is_left_as_it_is():
    # more often a shape, axes or sections (made for its value): refused as before
    # when differentiated, taken as it is when not
    with pytest.raises(ArgumentError, match=r"is a tuple \(1, 2, 3\).*\n  hint: pass np.array"):
        symgrad.grad(converted)((1, 2, 3))
    np.testing.assert_allclose(symgrad.grad(handed_directly, wrt="w")((1, 2, 3), W), [1, 2, 3])


@pytest.mark.parametrize("f,args", CASES[:4], ids=IDS[:4])
def test_every_mode_takes_the_list(f, args):
    xs = args[0]
    n = len(xs)
    t = [0.7, -0.2, 0.4][:n]
    rest = args[1:]
    # jvp: the slope along t, against central differences of f
    value, slope = symgrad.jvp(f, args, (t,) + tuple(np.zeros_like(r) for r in rest))
    step = 1e-6
    up = f([a + step * b for a, b in zip(xs, t)], *rest)
    dn = f([a - step * b for a, b in zip(xs, t)], *rest)
    assert value == pytest.approx(f(*args), rel=1e-13)
    assert float(slope) == pytest.approx((up - dn) / (2 * step), rel=1e-6, abs=1e-8)
    # vjp, hvp and the Hessian: lists, equal to what the array gives
    arr = (np.asarray(xs, dtype=float),) + rest
    g = symgrad.grad(f, wrt=0)
    hv = symgrad.hvp(f, args, (t,), wrt=0)
    assert type(hv) is list
    np.testing.assert_allclose(hv, symgrad.hvp(f, arr, (np.asarray(t),), wrt=0), rtol=1e-13)
    hh = 1e-5
    fd = (np.asarray(g([a + hh * b for a, b in zip(xs, t)], *rest))
          - np.asarray(g([a - hh * b for a, b in zip(xs, t)], *rest))) / (2 * hh)
    np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-6)
    hess = symgrad.hessian(f, wrt=0)(*args)
    assert type(hess) is list and all(type(r) is list for r in hess)
    np.testing.assert_allclose(hess @ np.asarray(t), hv, rtol=1e-12, atol=1e-12)


def elementwise(xs):
    xs = np.asarray(xs)
    return np.tanh(xs) * xs


def test_vjp_jacobian_and_elementwise_grad_take_the_list():
    xs = [0.3, -1.1, 0.8]
    out, pull = symgrad.vjp(elementwise, xs)
    (back,) = pull(np.array([1.0, 2.0, -1.0]))
    assert type(back) is list
    want = [(1 - math.tanh(v) ** 2) * v + math.tanh(v) for v in xs]
    np.testing.assert_allclose(back, [w * c for w, c in zip(want, [1.0, 2.0, -1.0])])
    for jacobian in (symgrad.jacobian, symgrad.jacfwd, symgrad.jacrev):
        jac = jacobian(elementwise)(xs)
        assert type(jac) is list
        np.testing.assert_allclose(jac, np.diag(want), atol=1e-15)
    eg = symgrad.elementwise_grad(elementwise)(xs)
    np.testing.assert_allclose(eg, want)


def test_check_takes_the_list():
    report = symgrad.check(rebound_at_top, [0.3, 1.1, -0.7], W)
    assert report.ok
    assert symgrad.check(converted, [0.3, 1.1, -0.7], mode="hessian").ok


# ----------------------------------------------------------- where a list is refused
def repeated(xs):
    return np.sum(xs * 2)              # a list: [a, b, a, b]


def joined(xs):
    xs2 = np.asarray(xs)
    return np.sum(xs + xs2)            # a list plus an array: numpy's sum, but read first


def rebound_on_one_path(xs, flag=True):
    if flag:
        xs = np.asarray(xs)
    return np.sum((xs + xs) ** 2)


def read_by_a_lambda(xs):
    double = lambda: xs + xs           # noqa: E731
    xs = np.asarray(xs)
    return np.sum(double() ** 2)


def aliased(xs):
    ys = xs
    return np.sum(np.asarray(ys)) + len(ys + ys)


def copy_false(xs):
    return np.sum(np.array(xs, copy=False) ** 2)


def iterated(xs):
    return np.sum([v * 2 for v in xs])


def method_read(xs):
    a = np.asarray(xs)
    return np.sum(a) * xs.count(1.0)


@pytest.mark.parametrize("f", [repeated, joined, rebound_on_one_path, read_by_a_lambda,
                               aliased, copy_false])
def test_a_list_python_would_compute_on_is_refused_by_name(f):
    with pytest.raises(ArgumentError, match=r"argument 'xs' .* is a list .*\n  hint:"):
        symgrad.grad(f)([0.3, 1.1, -0.7])


def test_a_list_method_is_refused_with_its_line():
    with pytest.raises(symgrad.SymgradError, match=r"(?s)\.count\(\).*xs\.count\(1\.0\)"):
        symgrad.grad(method_read)([0.3, 1.1, -0.7])


def test_a_list_numpy_makes_no_array_of_numbers_of_is_refused():
    for bad in ([0.3, [1.1]], [[0.3, 0.2], [1.1]]):    # ragged
        with pytest.raises(ArgumentError, match="numpy makes no array of numbers"):
            symgrad.grad(converted)(bad)
    for bad in (["a", "b"], [True, False], ["a", 2.0], [1j, 2.0]):   # (not numbers: not
        with pytest.raises(ArgumentError, match=r"is a list .*\n  hint:"):  # taken, refused)
            symgrad.grad(converted)(bad)
    with pytest.raises(ArgumentError, match="numpy makes no array of numbers"):
        symgrad.hessian(converted)([0.3, [1.1]])


def test_a_list_read_as_a_list_is_still_a_list():
    # a comprehension over xs reads it as a list: its gradient is the list's, as before
    np.testing.assert_allclose(symgrad.grad(iterated)([0.3, 1.1]), [2.0, 2.0])


def test_a_list_for_a_parameter_not_differentiated():
    g = symgrad.grad(handed_directly, wrt="w")([0.3, 1.1, -0.7], W)
    np.testing.assert_allclose(g, [0.3, 1.1, -0.7])
