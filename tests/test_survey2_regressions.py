"""The second survey of realistic programs (200 of them, against central differences):
what it found, each now right.  Before: ``n, m = X.shape`` of a differentiated array
was refused; a list of ints given as an index (``E[idx]``) was read as one integer
(a silently wrong gradient, or a crash); draws of a numpy ``Generator`` were taken
for numbers (a silently wrong gradient); a function chosen from a module dict by a
parameter, ``.values()`` of a ``defaultdict``, a local dict of lambdas and
``functools.reduce`` with a tuple accumulator were refused; ``deque(maxlen=k)``
crashed (the reverse sweep popped an item the deque had already dropped).
References: central differences and symgrad.check's engines."""
import numpy as np
from numeric import fd
import pytest
import survey2_cases as S

import symgrad

R = np.random.default_rng(1)
XS = [1.0, 2.0, 3.0, 0.5, -1.5]


CASES = [
    (S.shape_unpacked, (R.normal(size=(3, 2)), R.normal(size=2)), [0, 1]),
    (S.shape_unpacked_3d, (R.normal(size=(2, 3, 2)),), [0]),
    (S.embedding_bag, (S.E, np.array([0.5, -0.3]), [0, 1]), [0, 1]),
    (S.embedding_bag, (S.E, np.array([0.5, -0.3]), [2, 2, 0]), [0, 1]),
    (S.gathered_rows, (S.E, np.array([0.5, -0.3]), [0, 0, 1]), [0, 1]),
    (S.embedding_bag_docs, (S.E, np.array([0.5, -0.3]), [[0, 2], [1, 1, 0]], [1.0, 0.0]),
     [0, 1]),
    (S.generator_made_here, (0.3,), [0]),
    (S.generator_with_kink, (0.3,), [0]),
    (S.activation_by_name, (0.3, "swish"), [0]),
    (S.activation_by_name, (0.3, "tanh"), [0]),
    (S.defaultdict_values, ([0.5, 1.0, -0.2], ["a", "b", "a"]), [0]),
    (S.local_dict_of_lambdas, (1.5, 0.4), [0, 1]),
    (S.reduce_tuple, ([1.0, 2.0, 3.0],), [0]),
    (S.lambdas_of_a_comprehension, (0.7,), [0]),
    (S.sliding_window, (XS,), [0]),
    (S.deque_both_ends, (XS,), [0]),
    (S.queue_drained, (XS,), [0]),
]


@pytest.mark.parametrize(("f", "args", "wrt"), CASES,
                         ids=[f"{c[0].__name__}-{k}" for k, c in enumerate(CASES)])
def test_against_differences(f, args, wrt):
    grads = symgrad.grad(f, wrt=wrt)(*args)
    for i, g in zip(wrt, grads if len(wrt) > 1 else [grads]):
        assert np.allclose(g, fd(f, args, i), atol=1e-6), (i, g, fd(f, args, i))
    assert symgrad.check(f, *args, wrt=wrt).ok
    assert symgrad.check(f, *args, wrt=wrt, mode="jvp").ok


def test_a_generator_passed_in():
    # each call draws from the generator it is given, as f does
    g = symgrad.grad(S.generator_passed_in, wrt=0)
    got = g(0.3, np.random.default_rng(5))
    z = np.random.default_rng(5).normal(0.0, 1.0, size=3)
    assert got == pytest.approx(3 + np.sum(z))


def test_hessians_of_index_lists_and_shapes():
    args = (S.E, np.array([0.5, -0.3]), [0, 0, 1])
    assert symgrad.check(S.gathered_rows, *args, wrt=[0, 1], mode="hessian").ok
    assert symgrad.check(S.shape_unpacked, R.normal(size=(3, 2)), R.normal(size=2),
                         mode="hessian").ok


def test_a_key_made_per_value():
    g = symgrad.grad(S.activation_by_name, wrt=0)
    for kind in ("tanh", "swish", "tanh"):
        assert g(0.3, kind) == pytest.approx(fd(S.activation_by_name, (0.3, kind), 0))
    with pytest.raises(symgrad.SymgradError, match="does not have"):
        g(0.3, "relu")


def test_deque_methods_not_modelled_are_refused():
    def rotated(xs):
        d = __import__("collections").deque(xs, maxlen=3)
        d.rotate(1)
        return d[0]
    with pytest.raises(symgrad.SymgradError):
        symgrad.grad(rotated)([1.0, 2.0])


def label_smoothing(logits, target, eps):
    n, K = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    q = np.full((n, K), eps / (K - 1))
    q[np.arange(n), target] = 1 - eps
    return float(-np.sum(q * logp) / n)


def constant_array_written_through_another_name(x):
    b = np.ones(3) * 0.5
    y = b
    y[1] = 2.0
    return float(np.sum(y * x))


def test_an_array_of_constants_written_in_place_is_not_recomputed():
    """The adjoint sweep recomputed ``q`` (``np.full``: ones times a constant) where
    ``q * logp`` is differentiated, instead of reading the array written in place since
    (``q[rows, target] = 1 - eps``): a silently wrong gradient, which the refusal of
    ``n, K = logits.shape`` had hidden.  The array fuzzer now writes such arrays."""
    logits, target = R.normal(size=(4, 5)), np.array([1, 0, 4, 2])
    g = symgrad.grad(label_smoothing, wrt=0)(logits, target, 0.1)
    assert np.allclose(g, fd(label_smoothing, (logits, target, 0.1), 0), atol=1e-6)
    x = np.array([0.3, -1.0, 2.0])
    assert np.allclose(symgrad.grad(constant_array_written_through_another_name)(x),
                       [0.5, 2.0, 0.5])
