"""Lambdas wherever Python allows them: in a dict of test cases, two on one line, as an
argument of a call spread over lines.  symgrad reads the source file and picks the
lambda whose code it was given (by its instructions' source positions on 3.11+, by the
names it reads on 3.10)."""

import math

import numpy as np
import pytest

import symgrad
from symgrad.errors import SourceError

CASES = {
    "sin": lambda x: math.sin(x) * x, "cube": lambda x: x ** 3 + 2.0 * x,
    "exp": lambda x: math.exp(-x * x),
}

PAIR = (lambda x: x * x, lambda x: x * x * x)    # the same parameters, different bodies


def fd(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("name", sorted(CASES))
def test_lambda_in_a_dict(name):
    f = CASES[name]
    assert symgrad.grad(f)(0.7) == pytest.approx(fd(f, 0.7), rel=1e-7)


def test_two_lambdas_on_one_line():
    sq, cube = PAIR
    assert symgrad.grad(sq)(1.5) == pytest.approx(3.0)
    assert symgrad.grad(cube)(1.5) == pytest.approx(3 * 1.5 ** 2)


def apply(f, x, scale=1.0):
    return symgrad.grad(f)(x) * scale


def test_lambda_as_an_argument_over_several_lines():
    got = apply(
        lambda x: np.sum(np.tanh(x) * x),
        np.array([0.2, -0.4]),
        scale=2.0)
    x = np.array([0.2, -0.4])
    want = 2.0 * (np.tanh(x) + x * (1 - np.tanh(x) ** 2))
    np.testing.assert_allclose(got, want)


def test_identical_lambdas_on_one_line_are_still_refused_clearly():
    twins = [lambda x: x + 1.0, lambda x: x + 1.0]
    # (the same code from either: symgrad cannot tell them apart, and says so)
    try:
        assert symgrad.grad(twins[1])(2.0) == 1.0
    except SourceError as exc:
        assert "which lambda" in str(exc)


def _twice(t):
    return 2.0 * t


def list_of_functions_indexed(x):
    fs = [lambda t: t * t, math.cos, _twice]
    return fs[0](x) + fs[1](x) * fs[2](x)


def list_of_functions_looped(x):
    total = 0.0
    for k, f in enumerate([math.sin, lambda t: t ** 3, _twice]):
        total = total + (k + 1) * f(x)
    return total


def sum_over_a_list_of_functions(x):
    fs = [math.sin, math.cos]
    return sum(f(x) for f in fs)


@pytest.mark.parametrize("fn", [list_of_functions_indexed, list_of_functions_looped,
                                sum_over_a_list_of_functions], ids=lambda f: f.__name__)
def test_a_list_of_functions_is_read_as_its_functions(fn):
    """A list display of functions (lambdas, defs, library functions): each call is the
    function itself (before: "a locally defined function used as a value", or "no
    derivative rule for f")."""
    x = 0.7
    want = (fn(x + 1e-6) - fn(x - 1e-6)) / 2e-6
    assert symgrad.grad(fn)(x) == pytest.approx(want, rel=1e-7)
