"""``has_aux=True`` (JAX's spelling): a function returns ``(output, auxiliary data)``;
every mode differentiates the output and returns the auxiliary data as the function
computed it.

Derivatives are checked against central differences of the output alone (a function
written here for that, so an independent reference); the auxiliary data against the
function's own result; random draws against a run of the function from the same
seed."""

import math
import random

import numpy as np
import pytest

from numeric import assert_close, finite_diff

from symgrad import (ArgumentError, NonScalarError, grad, hessian, jacfwd, jacobian, jacrev,
                     jvp, value_and_grad, vjp)


def loss(w, b, x=2.0):
    pred = w * x + b
    err = pred - 1.0
    if err > 0:
        status = "over"
    else:
        status = "under"
    return err * err + 0.1 * math.sin(w), {"pred": pred, "abs": abs(err), "status": status}


def loss_output(w, b, x=2.0):
    return loss(w, b, x)[0]


def looped(xs, k):
    total = 0.0
    seen = []
    for i, v in enumerate(xs):
        total = total + v * v * k ** i
        seen.append(total)
    return total, seen


def pair_out(x, y):
    return [x * y, x + math.exp(y)], (x - y, "tag")


def scaled(x, *, k=1.5):
    return x ** 3 * k, k * 2


def starred(x, *rest):
    return x * sum(rest), len(rest)


def listed(x):
    return [x * x, x]                       # a list of two is a pair too


def no_pair(x):
    return x * x


def three(x):
    return x, 1.0, 2.0


def vector_output(x):
    return [x, x * x], None


def dead_aux(x, y):
    metric = x * 2.5 + y * 7.25             # made only for the aux
    return x * y, metric


def net(w, xs):
    h = np.tanh(xs @ w)
    return np.sum(h * h), {"h": h, "norm": np.linalg.norm(w)}


def noisy(w):
    z = random.gauss(0.0, 1.0)
    return w * w * z, z


RNG = np.random.default_rng(3)


def noisy_array(w):
    e = RNG.normal(size=w.shape)
    return np.sum(w * e), e


POINTS = [(0.7, -0.3, 2.0), (-0.3, 0.9, 2.0), (1.1, 0.25, 3.0)]


@pytest.mark.parametrize("args", POINTS)
def test_grad_and_value_and_grad_differentiate_the_output_and_return_the_aux(args):
    want = finite_diff(loss_output, args)
    g, aux = grad(loss, has_aux=True)(*args)
    assert_close(g, tuple(want), what="grad")
    assert aux == loss(*args)[1]
    (value, aux2), g2 = value_and_grad(loss, has_aux=True)(*args)
    assert value == loss(*args)[0] and aux2 == aux and g2 == g
    gw, aux3 = grad(loss, wrt="w", has_aux=True)(*args)
    assert gw == g[0] and aux3 == aux
    gb, _ = grad(loss, argnums=1, has_aux=True)(*args)
    assert gb == g[1]


def test_arguments_by_name_and_defaults():
    g, aux = grad(loss, has_aux=True)(0.7, b=-0.4, x=3.0)
    assert_close(g, tuple(finite_diff(loss_output, (0.7, -0.4, 3.0))), what="by name")
    assert aux == loss(0.7, -0.4, 3.0)[1]
    g, aux = grad(scaled, has_aux=True)(2.0, k=3.0)       # keyword-only
    assert_close(g, (3 * 4.0 * 3.0, 8.0), what="keyword-only")
    assert aux == 6.0
    g, aux = grad(starred, has_aux=True)(2.0, 3.0, 4.0)   # *args
    assert g == (7.0, 2.0, 2.0) and aux == 2
    assert grad(listed, has_aux=True)(3.0) == (6.0, 3.0)


def test_decorator_forms():
    @grad(has_aux=True)
    def cube(x):
        return x ** 3, "cube"

    @value_and_grad(wrt="x", has_aux=True)
    def prod(x, y):
        return x * y, x + y
    assert cube(2.0) == (12.0, "cube")
    assert prod(2.0, 5.0) == ((10.0, 7.0), 5.0)


def test_a_loop_with_a_list_aux():
    xs, k = [0.5, -1.5, 2.0], 1.3
    g, seen = grad(looped, has_aux=True)(xs, k)
    want = finite_diff(lambda xs, k: looped(xs, k)[0], (xs, k))
    assert_close(g, tuple(want), what="loop")
    assert seen == looped(xs, k)[1]


def test_jacobians_hessian_vjp_and_jvp():
    args = (0.6, -0.8)
    cols = [finite_diff(lambda x, y: pair_out(x, y)[0][j], args) for j in range(2)]
    for make in (jacobian, jacfwd, jacrev):
        jac, aux = make(pair_out, has_aux=True)(*args)
        assert_close([list(r) for r in jac], cols, what=make.__name__)
        assert aux == pair_out(*args)[1]
    h, aux = hessian(loss, wrt=["w", "b"], has_aux=True)(0.7, -0.3)
    rows = [finite_diff(lambda w, b: grad(loss_output, wrt=["w", "b"])(w, b)[i],
                        (0.7, -0.3)) for i in range(2)]
    assert_close([list(r) for r in h], rows, rtol=1e-4, what="hessian")
    assert aux == loss(0.7, -0.3)[1]
    out, pull, aux = vjp(pair_out, *args, has_aux=True)
    assert out == pair_out(*args)[0] and aux == pair_out(*args)[1]
    assert_close(pull([1.0, 0.0]), tuple(cols[0]), what="vjp")
    assert_close(pull([0.0, 1.0]), tuple(cols[1]), what="vjp")
    out, tangent, aux = jvp(pair_out, args, (1.0, 0.0), has_aux=True)
    assert out == pair_out(*args)[0] and aux == pair_out(*args)[1]
    assert_close(tangent, [cols[0][0], cols[1][0]], what="jvp")


def test_arrays_and_an_aux_of_arrays():
    rng = np.random.default_rng(0)
    w, xs = rng.normal(size=3), rng.normal(size=(4, 3))
    g, aux = grad(net, wrt="w", has_aux=True)(w, xs)
    h = 1e-6
    want = [(net(w + h * e, xs)[0] - net(w - h * e, xs)[0]) / (2 * h) for e in np.eye(3)]
    assert np.allclose(g, want, rtol=1e-5, atol=1e-7)
    ref = net(w, xs)[1]
    assert np.array_equal(aux["h"], ref["h"]) and aux["norm"] == ref["norm"]


def test_the_code_that_makes_only_the_aux_is_not_in_the_gradient():
    g = grad(dead_aux, has_aux=True)
    assert g(2.0, 3.0) == ((3.0, 2.0), 2.0 * 2.5 + 3.0 * 7.25)
    assert "7.25" not in g.source and "metric =" not in g.source
    assert "def d_dead_aux(x, y" in g.source


def test_the_aux_and_the_derivative_see_the_same_draws():
    random.seed(7)
    g, z = grad(noisy, has_aux=True)(1.5)
    after = random.random()
    random.seed(7)
    z_want = random.gauss(0.0, 1.0)
    assert z == z_want and g == pytest.approx(2 * 1.5 * z_want, rel=1e-15)
    assert random.random() == after             # (where one run of noisy leaves it)
    state = RNG.bit_generator.state
    w = np.array([0.5, -1.0, 2.0])
    g, e = grad(noisy_array, has_aux=True)(w)
    RNG.bit_generator.state = state
    want = RNG.normal(size=3)
    assert np.array_equal(e, want) and np.array_equal(g, want)
    random.seed(7)
    (value, z), (d,) = value_and_grad(noisy, argnums=(0,), has_aux=True)(1.5)
    assert value == 1.5 * 1.5 * z_want and z == z_want


def test_errors_are_clear():
    with pytest.raises(ArgumentError, match="no_pair returned a float; it must return a pair"):
        grad(no_pair, has_aux=True)(1.0)
    with pytest.raises(ArgumentError, match="three returned a tuple of 3"):
        grad(three, has_aux=True)(1.0)
    with pytest.raises(ArgumentError, match="returned a float"):
        jacobian(no_pair, has_aux=True)(1.0)
    with pytest.raises(ArgumentError, match="returned a float"):
        vjp(no_pair, 1.0, has_aux=True)
    with pytest.raises(NonScalarError, match="jacobian"):
        grad(vector_output, has_aux=True)(1.0)
    jac, aux = jacobian(vector_output, has_aux=True)(2.0)
    assert jac == [1.0, 4.0] and aux is None
