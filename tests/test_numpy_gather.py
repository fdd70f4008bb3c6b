"""``np.unique`` and ``np.block``, inlined from models of numpy's steps
(``symgrad/numpy_gather_models.py``): the values are numpy's own (checked bit for bit,
NaNs and repeats included), and the derivatives, in every mode, agree with central
differences at points where the entries are distinct."""

import numpy as np
import pytest

from numeric import check_array_modes

import symgrad
from symgrad.numpy_gather_models import block, unique

X = np.array([0.3, 1.2, -0.5, 2.0, 0.9, -1.1])
REPEATS = np.array([3.0, 1.0, 3.0, np.nan, 2.0, 1.0, np.nan, -0.0, 0.0])
FORMS = [{}, dict(return_index=True), dict(return_inverse=True), dict(return_counts=True),
         dict(return_index=True, return_inverse=True, return_counts=True)]


@pytest.mark.parametrize("kw", FORMS, ids=lambda kw: "+".join(kw) or "values")
@pytest.mark.parametrize("a", [REPEATS, REPEATS.reshape(3, 3), np.zeros(0), X])
def test_unique_is_numpys(a, kw):
    got, want = unique(a, **kw), np.unique(a, **kw)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for u, v in zip(got, want):
        assert u.dtype.kind == v.dtype.kind and u.shape == v.shape
        np.testing.assert_array_equal(u, v)


def unique_counts(x):
    u, c = np.unique(x, return_counts=True)
    return np.sum(u ** 2 * c) + np.sum(np.unique(x * 2.0))


def unique_inverse(x):
    u, inv = np.unique(x, return_inverse=True)
    return np.sum(np.sin(u)[inv] * x) + np.sum(np.tanh(u[:2]))


def block_of_rows(x):
    A = np.outer(x[:2], x[2:4])
    b = x[4:6]
    M = np.block([[A, b[:, None]], [b[None, :], np.ones((1, 1))]])
    return np.sum(M ** 2 * np.arange(9.0).reshape(3, 3))


def block_of_vectors(x):
    return np.sum(np.block([x[:2], 2.0, np.sin(x[2:])]) ** 3)


def block_promotes(x):
    return np.sum(np.block([[x[:3]], [np.cos(x[3:])]]) @ np.arange(3.0))


@pytest.mark.parametrize("f", [unique_counts, unique_inverse, block_of_rows, block_of_vectors,
                               block_promotes], ids=lambda f: f.__name__)
def test_every_mode(f):
    check_array_modes(f, X.copy(), np.linspace(0.4, -0.3, X.size), rtol=1e-6, atol=1e-8)
    assert symgrad.value_and_grad(f)(X.copy())[0] == f(X.copy())


def test_a_repeated_value_goes_to_its_first_entry_in_sorted_order():
    x = np.array([0.3, 1.2, 0.3, -0.5])
    g = symgrad.grad(lambda_free_unique)(x)
    np.testing.assert_array_equal(g, [1.0, 1.0, 0.0, 1.0])


def lambda_free_unique(x):
    return np.sum(np.unique(x))


def test_block_models_match_numpy():
    A = np.arange(4.0).reshape(2, 2)
    for arrays in ([[A, A], [A, A]], [A[0], A[1], 5.0], [[A[0], 1.0]], [A, A]):
        np.testing.assert_array_equal(block(arrays), np.block(arrays))
