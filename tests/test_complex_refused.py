"""Complex numbers inside a differentiated function are refused with the line, in every
mode.  symgrad's rules are those of real arithmetic: before, ``np.angle(x + 1j)`` and
``np.imag(np.exp(1j * x))`` had gradient 0 (their real-input derivative: silently
wrong), ``(x * (1 + 2j)).real`` a complex gradient, and ``abs(x + 1j)`` failed inside the
generated code.  Complex arguments were already refused at the call.  A complex
constant that meets no differentiated value (``abs(3 + 4j)``) is only a number."""

import math

import numpy as np
import pytest

import symgrad
from symgrad.errors import SymgradError
from fuzz_oracles import load
from numeric import assert_close, finite_diff

SOURCE = '''
import cmath
import numpy as np

J = 1j
TWIDDLE = np.exp(2j * np.pi * np.arange(2) / 2)


def plus_i(x):
    return abs(x + 1j)


def rotated(x):
    return abs(cmath.exp(1j * x) + x)


def through_a_name(x):
    c = 2.0 - 1j
    y = x * c
    return abs(y)


def global_unit(x):
    return abs(x * J + 1.0)


def angle_of_array(x):
    return np.sum(np.angle(x + 1j))


def imag_of_exp(x):
    return np.sum(np.imag(np.exp(1j * x)))


def times_complex_array(x):
    return np.sum(np.real(x * TWIDDLE))


def constant_only(x):
    c = abs(3 + 4j)
    return c * x * x
'''

REFUSED = [("plus_i", 0.7), ("rotated", 0.7), ("through_a_name", 0.7), ("global_unit", 0.7),
           ("angle_of_array", np.array([0.3, -0.5])), ("imag_of_exp", np.array([0.3, -0.5])),
           ("times_complex_array", np.array([0.3, -0.5]))]


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


def _modes(f, x):
    t = x * 0.5 + 1.0
    return {"grad": lambda: symgrad.grad(f)(x), "value_and_grad":
            lambda: symgrad.value_and_grad(f)(x), "jvp": lambda: symgrad.jvp(f, (x,), (t,)),
            "hessian": lambda: symgrad.hessian(f)(x), "hvp": lambda: symgrad.hvp(f, (x,), (t,))}


@pytest.mark.parametrize("name,x", REFUSED, ids=[r[0] for r in REFUSED])
@pytest.mark.parametrize("mode", ["grad", "value_and_grad", "jvp", "hessian", "hvp"])
def test_complex_numbers_are_refused_with_the_line(mod, name, x, mode):
    f = getattr(mod, name)
    f(x)                                            # (Python runs it)
    with pytest.raises(SymgradError, match="complex numbers") as info:
        _modes(f, x)[mode]()
    assert "line" in str(info.value)


def test_a_complex_constant_that_meets_no_differentiated_value(mod):
    f = mod.constant_only
    assert_close([symgrad.grad(f)(2.0)], finite_diff(f, [2.0]))
    assert symgrad.jvp(f, (2.0,), (1.0,)) == (20.0, 20.0)
    assert math.isclose(symgrad.hessian(f)(2.0), 10.0)
