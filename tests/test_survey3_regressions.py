"""The third and fourth surveys (313 programs on Python's semantics, 317 numpy
programs, against central differences): what they found, each now right.

* A value the last test of a ``while`` loop computes (``while (v := a * i) < c``, or a
  helper or closure the test calls) and the code reads after the loop: its adjoint was
  added once per trip (a silently wrong ``grad``, ``jacrev``); with a ``break`` the
  gradient raised ``UnboundLocalError``.  The last test's adjoint now comes before the
  reversed loop, settled there.
* ``xs *= k`` of a list was read as ``xs = xs * k``: Python repeats the list in place,
  which every other name of it sees (an alias, a row of a matrix, the caller's list in
  a helper): a silently wrong value and gradient.  ``xs.extend(xs)`` and ``xs += xs``
  crashed in the reverse sweep.
* ``symgrad.grad(g)`` called inside a differentiated function on arrays inlined the
  gradient made for numbers (a silently wrong value and gradient); with ``np.dot`` or
  ``@`` it crashed or was refused (the adjoints of matmul, inner and tensordot had no
  adjoint of their own).
References: central differences and hand-derived values."""
import copy

from hypothesis import assume, given, settings, strategies as st
import numpy as np
from numeric import fd
import pytest
import survey3_cases as S

import symgrad

R = np.random.default_rng(11)


@pytest.mark.parametrize("f", S.WHILE_TESTS, ids=lambda f: f.__name__)
def test_the_last_test_of_a_while_loop(f):
    for a in (0.7, 0.45, 1.3):
        want = fd(f, (a,), 0)
        assert symgrad.grad(f)(a) == pytest.approx(want, abs=1e-6)
        assert symgrad.jvp(f, (a,), (1.0,))[1] == pytest.approx(want, abs=1e-6)
        assert symgrad.value_and_grad(f)(a)[0] == f(a)


def test_hand_derived_while_values():
    assert symgrad.grad(S.walrus_in_while)(0.7) == pytest.approx(2.0)     # v = 2a
    assert symgrad.grad(S.walrus_nested_in_for)(0.7) == pytest.approx(7.0)
    assert symgrad.grad(S.walrus_with_break)(0.7) == pytest.approx(2.0)
    assert symgrad.grad(S.walrus_two_conditions)(0.7, 1.3) == pytest.approx((2.0, 2.0))
    jac = symgrad.jacrev(lambda a, b: (S.walrus_in_while(a) * b, S.walrus_in_while(b)))
    # (at b = 1.3 the loop stops after one trip: v = b)
    assert np.allclose(np.array(jac(0.7, 1.3), dtype=float), [[2.0 * 1.3, 1.4], [0.0, 1.0]])


def test_a_test_value_read_in_the_body_and_after():
    f = S.test_read_in_the_body_and_after
    for args in ((0.7, 0.2), (0.3, 1.1)):
        got = symgrad.grad(f)(*args)
        assert np.allclose(got, [fd(f, args, 0), fd(f, args, 1)], atol=1e-6)
        assert symgrad.check(f, *args, mode="hessian").ok


@pytest.mark.parametrize("f", [S.repeated_through_an_alias, S.cleared_through_an_alias,
                               S.repeated_by_a_helper, S.item_of_the_repeat,
                               S.extended_by_itself, S.added_to_itself],
                         ids=lambda f: f.__name__)
def test_lists_changed_in_place(f):
    for s in (0.3, -1.2):
        value, g = symgrad.value_and_grad(f)(s)
        assert value == pytest.approx(f(s))
        assert g == pytest.approx(fd(f, (s,), 0), abs=1e-6)
        assert symgrad.jvp(f, (s,), (1.0,)) == pytest.approx((f(s), g))


def test_hand_derived_repeats():
    s = 0.3
    assert symgrad.value_and_grad(S.repeated_through_an_alias)(s) == \
        pytest.approx((3 * (s + 1) * s, 6 * s + 3))
    assert symgrad.value_and_grad(S.cleared_through_an_alias)(s) == \
        pytest.approx((s * s + s, 2 * s + 1))


@pytest.mark.parametrize("f", [S.row_repeated, S.row_repeated_by_index],
                         ids=lambda f: f.__name__)
def test_a_row_of_a_matrix_repeated(f):
    m, s = [[0.5, 1.5], [2.0, 3.0]], 0.3
    value, (dm, ds) = symgrad.value_and_grad(f)(copy.deepcopy(m), s)
    assert value == pytest.approx(f(copy.deepcopy(m), s))           # 5.2: the row doubled
    assert np.allclose(dm, [[2 * s, 2 * s], [0.0, 0.0]])
    assert ds == pytest.approx(2 * (0.5 + 1.5))


def test_a_parameter_repeated():
    f, a = S.parameter_repeated, [0.5, 1.5]
    da, ds = symgrad.grad(f)([0.5, 1.5], 0.3)
    assert da == pytest.approx([0.6, 0.6]) and ds == pytest.approx(4.0)
    symgrad.jvp(f, (a, 0.3), ([1.0, 0.0], 0.0))
    assert a == [0.5, 1.5, 0.5, 1.5]        # jvp leaves the list as f does
    args = (0.7, 1.3)
    assert symgrad.grad(S.number_multiplied)(*args) == pytest.approx(
        (fd(S.number_multiplied, args, 0), fd(S.number_multiplied, args, 1)), abs=1e-6)


@pytest.mark.parametrize(("f", "args"), [
    (S.inner_gradient_weighted, (np.array([0.5, -0.3]),)),
    (S.meta_step, (np.array([0.5, -0.3]),)),
    (S.module_gradient_inside, (np.array([0.5, -0.3]), 0.7)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_a_gradient_made_inside_on_arrays(f, args):
    value, grads = symgrad.value_and_grad(f)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    for i, g in enumerate(grads if len(args) > 1 else (grads,)):
        assert np.allclose(g, fd(f, args, i), atol=1e-6), i
    assert symgrad.check(f, *args, mode="jvp").ok


def test_hand_derived_inner_gradient():
    w = np.array([0.5, -0.3])
    assert np.allclose(symgrad.grad(S.inner_gradient_weighted)(w), 2 * S.C * S.D)
    jac = symgrad.jacobian(lambda w: symgrad.grad(S._weighted)(w))(w)
    assert np.allclose(jac, np.diag(2 * S.C))


_BILINEAR = {
    "matmul 2-D 2-D": (lambda a, b: a @ b, (3, 2), (2, 4)),
    "matmul 2-D 1-D": (lambda a, b: a @ b, (3, 2), (2,)),
    "matmul 1-D 2-D": (lambda a, b: a @ b, (2,), (2, 4)),
    "matmul 1-D 1-D": (lambda a, b: a @ b, (3,), (3,)),
    "matmul stacked": (lambda a, b: np.matmul(a, b), (2, 3, 2), (1, 2, 4)),
    "matmul stack 1-D": (lambda a, b: a @ b, (2, 3, 2), (2,)),
    "inner 2-D 2-D": (lambda a, b: np.inner(a, b), (2, 3), (4, 3)),
    "tensordot 1": (lambda a, b: np.tensordot(a, b, axes=1), (2, 3), (3, 4)),
    "tensordot pairs": (lambda a, b: np.tensordot(a, b, axes=([0], [1])), (2, 3), (4, 2)),
    "dot N-D": (lambda a, b: np.dot(a, b), (2, 2, 3), (3, 2)),
}


def _outer_of(op, C, Da, Db):
    def inner(a, b):
        return np.sum(np.tanh(op(a, b)) * C)
    gi = symgrad.grad(inner)

    def outer(a, b):
        ga, gb = gi(a, b)
        return np.sum(ga * Da) + np.sum(gb * Db ** 2)
    return outer


@pytest.mark.parametrize("name", list(_BILINEAR))
def test_adjoints_of_bilinear_adjoints(name):
    """The adjoints of matmul, inner and tensordot differentiated again (reverse over
    reverse), for operands of every rank."""
    op, sa, sb = _BILINEAR[name]
    C = R.normal(size=np.shape(op(np.ones(sa), np.ones(sb))))
    outer = _outer_of(op, C, R.normal(size=sa), R.normal(size=sb))
    a, b = R.normal(size=sa), R.normal(size=sb)
    got = symgrad.grad(outer)(a, b)
    for i in range(2):
        assert np.allclose(got[i], fd(outer, (a, b), i), atol=1e-6), i


def test_moveaxis_with_lists_written_in_the_call():
    """``np.moveaxis(T, [0, 1], [-1, -2])`` was refused, its hint asking for what it
    was given (a literal written in the call)."""
    T = R.normal(size=(2, 3, 4))
    W = np.arange(24.0).reshape(4, 3, 2)

    def f(T):
        return np.sum(np.moveaxis(T, [0, 1], [-1, -2]) * W)
    assert np.allclose(symgrad.grad(f)(T), np.moveaxis(W, [-1, -2], [0, 1]))


@pytest.mark.parametrize("f", [S.walrus_scaled, S.walrus_accumulated, S.walrus_two_values],
                         ids=lambda f: f.__name__)
@settings(max_examples=40, deadline=None)
@given(a=st.floats(0.2, 0.9), c=st.floats(1.0, 3.0), e=st.floats(-0.5, 0.5))
def test_while_test_values_read_after_the_loop(f, a, c, e):
    """Loops of 1 to 15 trips: the last test's adjoint is added once (the bug added
    it once per trip, so one trip hid it)."""
    h = 1e-6
    assume(S.trips(f, a - h, c, e) == S.trips(f, a + h, c, e) == S.trips(f, a, c, e))
    got = symgrad.grad(f, wrt=[0, 2])(a, c, e)
    assert got[0] == pytest.approx(fd(f, (a, c, e), 0), rel=1e-5, abs=1e-6)
    assert got[1] == pytest.approx(fd(f, (a, c, e), 2), rel=1e-5, abs=1e-6)
