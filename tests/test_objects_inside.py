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

import numpy as np
import objects_inside_cases as O
from numeric import fd
import pytest

import symgrad


@pytest.mark.parametrize(("f", "args", "what"), [
    (O.accumulated, (0.7,), "assignment to attribute"),
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


R = np.random.default_rng(3)


@pytest.mark.parametrize(("f", "args"), [
    (O.one_layer, (0.3, 0.5, 1.2)),
    (O.inherited, (0.3, 1.2)),
    (O.nested_objects, (0.3, -0.4, 1.2)),
    (O.dataclass_made_here, (0.3, 1.4, 0.7)),
    (O.layers_in_a_loop, (0.3, [0.5, 1.0, -0.5])),
    (O.array_layer, (R.normal(size=3), 0.4, R.normal(size=3))),
], ids=lambda v: getattr(v, "__name__", ""))
def test_objects_made_from_differentiated_values(f, args):
    """Kept as their fields: ``__init__`` (a dataclass's fields, its __post_init__,
    super().__init__ of a base class) inlined, methods, __call__ and properties too."""
    value, grads = symgrad.value_and_grad(f)(*args)
    assert value == f(*args)
    for i, g in enumerate(grads):
        assert np.allclose(g, fd(f, args, i), atol=1e-6), (i, g)
    for mode in ("grad", "jvp", "hessian"):
        assert symgrad.check(f, *args, mode=mode).ok, mode


@pytest.mark.parametrize(("f", "args", "what"), [
    (O.printed, (0.3, 1.2), "used as a value"),
    (O.returned, (0.3,), "."),
    (O.indexed, (0.3, 1.2), "a subscript of a Linear object"),
    (O.with_a_factory, (0.3,), "default_factory"),
])
def test_what_an_object_made_here_cannot_do(f, args, what):
    with pytest.raises(symgrad.SymgradError, match=what):
        symgrad.grad(f)(*args)


@pytest.mark.parametrize(("f", "args"), [
    (O.layer_per_step, ([0.5, -0.7, 1.1], [0.1, 0.2, -0.3], 0.3)),
    (O.per_step_in_two_loops, ([0.5, 0.7], [1.2, -0.4], 0.3)),
    (O.per_step_replaced_in_a_branch, ([0.5, 0.7, 0.9], 0.8)),
    (O.per_step_nested_and_broken, ([0.5, -0.7], 0.3)),
    (O.per_step_carried, ([0.5, 0.7, 1.1], 0.3)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_objects_made_anew_in_each_iteration(f, args):
    """An object made by each iteration of a loop, read only in that iteration, is that
    iteration's fields; bound before the loop too, its fields are carried."""
    value, grads = symgrad.value_and_grad(f)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    for i, g in enumerate(grads):
        assert np.allclose(g, fd(f, args, i), atol=1e-6), (i, g)
    for mode in ("jvp", "hessian"):
        assert symgrad.check(f, *args, mode=mode).ok, mode


@pytest.mark.parametrize("f", [O.per_step_read_after, O.per_step_read_first,
                               O.per_step_in_a_closure], ids=lambda v: v.__name__)
def test_objects_made_in_a_loop_and_read_outside_it(f):
    """Read after the loop, before the iteration makes it, or by a closure: the object
    would have to be carried between iterations, which needs one bound before the
    loop.  Refused, at the line that makes it (not a line of the class)."""
    with pytest.raises(symgrad.SymgradError) as info:
        symgrad.grad(f)([0.5, 0.7], 0.3)
    assert "layer = Linear(w, 0.5)" in str(info.value)
