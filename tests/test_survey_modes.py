"""Every mode of differentiation applies the same argument rules and takes a generated
gradient as a function like any other: regressions found by running symgrad over
programs written in the spirit of Tangent's and autograd's test suites (our own
functions).  Values are checked against central finite differences; refusals must
name the function's file and say what to pass instead."""

import math

import numpy as np
import pytest

import symgrad
from symgrad.errors import ArgumentError


# ------------------------------------------------------------------ lists handed to numpy

def list_repeated(x):
    y = x * 2                       # a list repeats; an array would double
    return np.sum(np.array(y) ** 2) + len(y)


def list_sliced(x):
    return np.sum(x[1:])


def list_joined(x):
    return np.sum(np.array(x + [3.0]) ** 2)   # x is used as a list: + joins


MODES = {
    "grad": lambda f, x: symgrad.grad(f)(x),
    "value_and_grad": lambda f, x: symgrad.value_and_grad(f)(x),
    "jvp": lambda f, x: symgrad.jvp(f, (x,), ([1.0] * len(x),)),
    "vjp": lambda f, x: symgrad.vjp(f, x)[1](1.0),
    "jacrev": lambda f, x: symgrad.jacrev(f)(x),
    "jacfwd": lambda f, x: symgrad.jacfwd(f)(x),
    "hessian": lambda f, x: symgrad.hessian(f)(x),
    "hvp": lambda f, x: symgrad.hvp(f, (x,), ([1.0] * len(x),)),
}


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("f", [list_repeated, list_sliced])
def test_a_list_handed_to_numpy_is_refused_in_every_mode(f, mode):
    # Python's arithmetic on a list is not numpy's: a gradient made as if it were an
    # array would be wrong (list_repeated's had four entries for two inputs)
    with pytest.raises(ArgumentError) as info:
        MODES[mode](f, [1.0, 2.0, 3.0])
    text = str(info.value)
    assert __file__.rstrip("c") in text and "np.array(x)" in text


@pytest.mark.parametrize("mode", ["grad", "jvp", "vjp", "jacrev", "hvp"])
def test_the_same_functions_take_an_array_in_every_mode(mode):
    x = np.array([1.0, 2.0, 3.0])
    h = 1e-6
    for f in (list_repeated, list_sliced):
        fd = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(3)])
        got = MODES[mode](f, x)
        if mode == "grad" or mode == "jacrev":
            np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)
        elif mode == "vjp":
            np.testing.assert_allclose(got[0], fd, rtol=1e-6, atol=1e-8)
        elif mode == "jvp":
            assert got[0] == pytest.approx(f(x))
            assert got[1] == pytest.approx(np.sum(fd), rel=1e-6)
        else:                       # hvp along ones: the Hessian's row sums
            gf = symgrad.grad(f)
            fd2 = (gf(x + h * np.ones(3)) - gf(x - h * np.ones(3))) / (2 * h)
            np.testing.assert_allclose(np.ravel(got), fd2, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["grad", "jvp", "vjp", "jacrev", "hessian"])
def test_a_list_used_as_a_list_before_numpy_still_works(mode):
    x = [1.0, 2.0]
    want = [2.0 * v for v in x]     # d/dx of sum(x**2) + 9
    got = MODES[mode](list_joined, x)
    if mode == "jvp":
        assert got[1] == pytest.approx(sum(want))
    elif mode == "vjp":
        assert list(got[0]) == pytest.approx(want)
    elif mode == "hessian":
        assert np.array(got, dtype=float) == pytest.approx(2.0 * np.eye(2))
    else:
        assert list(got) == pytest.approx(want)


# ------------------------------------------------------------------ complex numbers

def imag_or_self(x):
    return np.imag(x) if np.iscomplex(x) else x   # x only reaches numpy functions


def real_part(x):
    return np.real(x) * 2.0


COMPLEX = [2.0 + 1.0j, np.complex128(2.0 + 1.0j), np.complex64(2.0 + 1.0j)]


@pytest.mark.parametrize("z", COMPLEX, ids=["complex", "complex128", "complex64"])
@pytest.mark.parametrize("f", [imag_or_self, real_part])
def test_a_complex_number_is_refused_by_every_mode(f, z):
    # d imag(x)/dx along the real axis is 0, along the imaginary axis 1: one real number
    # cannot be the answer, and grad of imag_or_self used to return 0.0
    calls = [lambda: symgrad.grad(f)(z), lambda: symgrad.value_and_grad(f)(z),
             lambda: symgrad.jvp(f, (z,), (1.0,)), lambda: symgrad.vjp(f, z)[1](1.0),
             lambda: symgrad.hessian(f)(z), lambda: symgrad.hvp(f, (z,), (1.0,)),
             lambda: symgrad.jacfwd(f)(z)]
    for call in calls:
        with pytest.raises(ArgumentError, match="complex"):
            call()


@pytest.mark.parametrize("x", [2.0, 2, np.float64(2.0), np.array(2.0)])
def test_real_numbers_still_pass_where_complex_ones_are_refused(x):
    assert float(symgrad.grad(imag_or_self)(x)) == 1.0
    assert float(symgrad.grad(real_part)(x)) == 2.0


# ------------------------------------------------------------------ modes of a generated gradient

def scaled_sine(x, y):
    return x * math.sin(y) + x * x * y


def test_forward_mode_of_a_generated_gradient():
    # the generated gradient takes d_out=1.0 after the function's parameters: forward
    # mode over it passes that seed before the tangents (it used to raise TypeError)
    g = symgrad.grad(scaled_sine)          # (sin y + 2xy, x cos y + x^2)
    x, y = 1.3, 0.4
    h = 1e-6

    def column(i):                          # d g / d(input i), by finite differences
        up, dn = [x, y], [x, y]
        up[i] += h
        dn[i] -= h
        return [(p - q) / (2 * h) for p, q in zip(g(*up), g(*dn))]

    cols = [column(0), column(1)]
    value, tangent = symgrad.jvp(g, (x, y), (1.0, 0.0))
    assert value == pytest.approx(g(x, y))
    assert list(tangent) == pytest.approx(cols[0], rel=1e-6)
    for jac in (symgrad.jacfwd(g)(x, y), symgrad.jacrev(g)(x, y)):
        assert [list(row) for row in jac] == [pytest.approx([cols[0][k], cols[1][k]],
                                                            rel=1e-6) for k in range(2)]

    gx = symgrad.grad(scaled_sine, wrt="x")           # sin y + 2xy
    want = [[0.0, 2.0], [2.0, -math.sin(y)]]
    assert [list(row) for row in symgrad.hessian(gx)(x, y)] == [
        pytest.approx(row, abs=1e-12) for row in want]
    assert list(symgrad.hvp(gx, (x, y), (0.0, 1.0))) == pytest.approx(want[1], abs=1e-12)
    assert list(symgrad.grad(gx)(x, y)) == pytest.approx([2.0 * y, math.cos(y) + 2.0 * x])


def test_vjp_of_a_value_and_gradient():
    vg = symgrad.value_and_grad(scaled_sine)
    x, y = 0.7, -1.1
    ct = (0.5, (2.0, 3.0))
    got = symgrad.vjp(vg, x, y)[1](ct)
    h = 1e-6

    def pulled(a, b):
        v, (gx, gy) = vg(a, b)
        return ct[0] * v + ct[1][0] * gx + ct[1][1] * gy

    fd = ((pulled(x + h, y) - pulled(x - h, y)) / (2 * h),
          (pulled(x, y + h) - pulled(x, y - h)) / (2 * h))
    assert got == pytest.approx(fd, rel=1e-6)


# ------------------------------------------------------------------ a gradient called inside

def sine_sum(d):
    s = 0.0
    for k in d:                      # a list's elements, or a dict's keys
        s = s + math.sin(d[k])
    return s


def sine_sum_sorted(d):
    s = 0.0
    for k in sorted(d):
        s = s + math.sin(d[k])
    return s


def product_of_slopes(d):
    g = symgrad.grad(sine_sum)(d)
    return g["a"] * g["b"]


def product_of_slopes_sorted(d):
    g = symgrad.grad(sine_sum_sorted)(d)
    return g["a"] * g["b"]


@pytest.mark.parametrize("f", [product_of_slopes, product_of_slopes_sorted])
def test_a_gradient_of_a_dict_called_inside_a_differentiated_function(f):
    # the gradient inlined is the one made for a dict (its default was made for a list)
    d = {"b": 0.3, "a": 0.7}
    got = symgrad.grad(f)(d)
    assert got == pytest.approx({"a": -math.sin(0.7) * math.cos(0.3),
                                 "b": -math.cos(0.7) * math.sin(0.3)})
    assert f(d) == pytest.approx(math.cos(0.7) * math.cos(0.3))


# ------------------------------------------------------------------ dict() of pairs written out

def dict_of_pairs(x):
    d = dict([("a", x), ("b", x * 2.0), ("a", math.sin(x))], c=x)   # a later "a" wins
    return d["a"] * d["b"] + d["c"]


def dict_of_one_pair(x):
    d = dict((("a", x),))
    return d["a"] ** 2


@pytest.mark.parametrize("f", [dict_of_pairs, dict_of_one_pair])
def test_dict_of_pairs_written_out(f):
    x, h = 0.7, 1e-6
    assert symgrad.grad(f)(x) == pytest.approx((f(x + h) - f(x - h)) / (2 * h), rel=1e-7)
    assert symgrad.value_and_grad(f)(x)[0] == f(x)
