"""Regressions from porting other projects' test suites (autograd's test_core,
test_systematic, test_numpy ..., JAX's api_test and control flow, PyTorch's autograd
tests: 4,228 cases against finite differences).  Before: a ``while`` over a counter kept
in a tuple never ended (the counter's first value was taken for every iteration's); a
function returning a slice of its list argument had a zero vjp (a tuple argument
crashed); a list indexed with a ``slice`` object got a zero gradient; the 2-norm of a
zero vector had a nan gradient; ``np.asarray`` of a number stayed a Python float
(``.shape`` raised); ``jvp`` with a zero tangent for an array a loop makes varied raised
UnboundLocalError, and a method of a numpy scalar raised on its (Python float) tangent;
``symgrad.hessian`` inside a differentiated function was refused pointing into
symgrad's own code.  References: hand-derived values and central differences."""
import numpy as np
import other_suites_cases as C
import pytest
from numeric import fd

import symgrad


def test_a_while_over_a_counter_in_a_tuple_ends():
    assert symgrad.grad(C.while_state_tuple)(1.5) == pytest.approx(8.0)
    assert symgrad.jvp(C.while_state_tuple, (1.5,), (1.0,)) == pytest.approx((12.0, 8.0))
    assert symgrad.hessian(C.while_state_tuple)(1.5) == pytest.approx(0.0)


def test_a_slice_of_an_argument_returned():
    out, pull = symgrad.vjp(C.first_two, [1.0, 2.0, 3.0])
    assert pull([1.0, 1.0]) == ([1.0, 1.0, 0.0],)
    assert symgrad.vjp(C.reversed_list, [1.0, 2.0, 3.0])[1]([1.0, 2.0, 3.0]) == \
        ([3.0, 2.0, 1.0],)
    eye2 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert symgrad.jacrev(C.first_two)([1.0, 2.0, 3.0]) == eye2
    assert symgrad.jacobian(C.first_two)([1.0, 2.0, 3.0]) == eye2
    # a tuple given: the output a tuple, each row like the input (as jacfwd gives them)
    rows = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    assert symgrad.jacrev(C.first_two)((1.0, 2.0, 3.0)) == rows
    assert symgrad.jacfwd(C.first_two)((1.0, 2.0, 3.0)) == rows
    out, pull = symgrad.vjp(C.first_two, (1.0, 2.0, 3.0))
    assert out == (1.0, 2.0) and pull((1.0, 2.0)) == ((1.0, 2.0, 0.0),)


def test_tuple_of_a_generator_is_a_tuple():
    value, slope = symgrad.jvp(C.doubled_tuple, ([1.0, 2.0],), ([1.0, 0.0],))
    assert value == (2.0, 4.0) and type(value) is tuple and slope == (2.0, 0.0)


def test_slice_objects():
    x = [1.0, 2.0, 3.0]
    assert symgrad.grad(C.with_slice_object)(x) == pytest.approx([3.0, 1.0, 1.0])
    g = symgrad.grad(C.written_through_a_slice_object, wrt=0)([1.0, 2.0, 3.0], 2)
    assert g == pytest.approx(fd(C.written_through_a_slice_object, ([1.0, 2.0, 3.0], 2), 0))
    assert symgrad.check(C.with_slice_object, x).ok


def test_the_norm_of_a_zero_vector():
    # 0, as abs at 0 (and central differences); the 2-norm elsewhere is unchanged
    assert np.array_equal(symgrad.grad(C.norm2)(np.zeros(4)), np.zeros(4))
    x = np.array([3.0, -4.0])
    assert np.allclose(symgrad.grad(C.norm2)(x), x / 5.0)
    assert symgrad.jvp(C.norm2, (np.zeros(3),), (np.ones(3),))[1] == 0.0


def test_asarray_of_a_number_is_an_array():
    assert symgrad.grad(C.asarray_of_a_number)(3.0) == pytest.approx(6.0)
    assert symgrad.grad(C.truth_of_asarray)(2.0) == pytest.approx(4.0)
    assert symgrad.grad(C.truth_of_asarray)(0.0) == pytest.approx(1.0)


def test_forward_mode_tangents():
    ws = [0.5 * np.eye(2), np.eye(2)]
    x = np.ones(2)
    tws = [np.eye(2), np.eye(2)]
    got = symgrad.jvp(C.loop_over_layers, (ws, x), (tws, np.zeros(2)))[1]
    h = 1e-6
    want = (C.loop_over_layers([w + h * t for w, t in zip(ws, tws)], x) -
            C.loop_over_layers([w - h * t for w, t in zip(ws, tws)], x)) / (2 * h)
    assert got == pytest.approx(want, rel=1e-7)
    assert symgrad.jvp(C.square_then_sum, (1.5,), (1.0,)) == pytest.approx((2.25, 3.0))
    assert symgrad.jacfwd(C.square_then_sum)(1.5) == pytest.approx(3.0)


def test_second_derivatives_inside():
    assert symgrad.grad(C.second_derivative_inside)(0.5) == pytest.approx(12 * 0.5)
    with pytest.raises(symgrad.SymgradError, match=r"symgrad.hessian\(...\) inside"):
        symgrad.grad(C.hessian_inside)(0.5)


def test_a_function_chosen_by_a_runtime_index():
    # (JAX's test of indexing a list of functions: each index its own branch)
    for i in (0, 1, 2, -1, -3):
        got = symgrad.grad(C.chosen_by_index, wrt=0)(0.5, i)
        assert got == pytest.approx(fd(C.chosen_by_index, (0.5, i), 0), rel=1e-7), i
    with pytest.raises(IndexError):
        symgrad.grad(C.chosen_by_index, wrt=0)(0.5, 3)
    with pytest.raises(IndexError):
        C.chosen_by_index(0.5, 3)


def test_a_list_of_a_list_and_a_number_returned():
    # (JAX's [x[:2], x[2]]: the kinds made x a list of itself, and vjp was zero)
    for f in (C.slice_and_item, C.list_and_item):
        with pytest.raises(symgrad.SymgradError, match="holding itself"):
            symgrad.vjp(f, [1.0, 2.0, 3.0])
    out, pull = symgrad.vjp(C.slice_and_item_as_tuple, [1.0, 2.0, 3.0])
    assert out == ([1.0, 2.0], 3.0) and pull(([1.0, 2.0], 3.0)) == ([1.0, 2.0, 3.0],)
