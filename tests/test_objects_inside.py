"""Methods that change an object symgrad cannot follow.  Before, a method of an object
made inside the function (``a = Acc(); a.add(x)``), or of a module-level object
(``MODEL.forward(x)``), that symgrad could not inline (it assigns an attribute) was
kept as an opaque call whose result nothing read, so the value it stored was read back
as a constant: a gradient of 0, silently (and ``check`` agreed, holding ``x``
constant).  An object made inside with an ``append`` method was taken for a list.
Now: a function of the user's that is not inlined and is given a differentiated value
is refused, naming the construct that stopped the inlining; an object made inside from
constants keeps its class, whose methods (``__call__`` too) and properties are inlined.
References: hand-derived values and finite differences."""
import math

import objects_inside_cases as O
import pytest

import symgrad


@pytest.mark.parametrize(("f", "args", "what"), [
    (O.accumulated, (0.7,), "augmented assignment to attribute"),
    (O.windowed, ([1.0, 2.0, 3.0],), "a list that lives outside"),
    (O.through_a_module_object, (0.7,), "assignment to attribute"),
    (O.helper_called_for_its_effect, (0.7,), "try"),
])
def test_refused_not_wrong(f, args, what):
    with pytest.raises(symgrad.SymgradError, match=what):
        symgrad.grad(f)(*args)


def test_an_object_of_constants_made_inside():
    x = 0.7
    p = x * x - 2 * x + 0.5
    dp = 2 * x - 2
    want = dp + 2 * dp * 2 + math.cos(x)
    assert symgrad.grad(O.polynomial_made_here)(x) == pytest.approx(want)
    assert O.polynomial_made_here(x) == pytest.approx(p + 2 * p * 2 + math.sin(x))
    assert symgrad.check(O.polynomial_made_here, x).ok


def test_a_method_returning_a_new_object_then_called():
    # P.deriv() builds Poly2([...]) from the module's coefficients; its __call__ inlined
    x, h = 0.7, 1e-6
    f = O.newton_step
    assert symgrad.grad(f)(x) == pytest.approx((f(x + h) - f(x - h)) / (2 * h), rel=1e-7)
    assert symgrad.value_and_grad(f)(x)[0] == f(x)
    assert symgrad.check(f, x).ok
