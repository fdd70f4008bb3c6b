"""Functions from other projects' test suites (autograd, JAX, PyTorch; re-expressed)
that symgrad got wrong, crashed on or refused unclearly, for
tests/test_other_suites.py (symgrad reads their source)."""
import math

import numpy as np

import symgrad


def while_state_tuple(x):
    s = (0, x)
    while s[0] < 3:
        s = (s[0] + 1, s[1] * 2.0)
    return s[1]


def first_two(x):
    return x[:2]


def reversed_list(x):
    return x[::-1]


def doubled_tuple(x):
    return tuple(v * 2.0 for v in x)


def with_slice_object(x):
    s = slice(None, -1, None)
    y = x[s]
    return y[0] * 3.0 + sum(x[slice(1, None)])


def written_through_a_slice_object(x, n):
    s = slice(0, n)
    ys = x[s]
    x[s] = [v * 3.0 for v in ys]
    return sum(v * v for v in x)


def norm2(x):
    return np.linalg.norm(x)


def asarray_of_a_number(x):
    x = np.asarray(x)
    assert x.shape == ()
    return x ** 2


def truth_of_asarray(x):
    if np.asarray(x).astype(bool).item():
        return x ** 2
    return x


def loop_over_layers(ws, x):
    for w in ws:
        x = np.tanh(x @ w)
    return np.sum(x)


def square_then_sum(x):
    return np.square(x).sum()


def cube(x):
    return x ** 3


def hessian_inside(x):
    return symgrad.hessian(cube)(x) * x


def second_derivative_inside(x):
    return symgrad.grad(symgrad.grad(cube))(x) * x


FUNCS = [math.sin, math.cos, lambda t: t * t]


def chosen_by_index(x, i):
    fs = [math.tanh, lambda t: t ** 3, math.exp]
    return fs[i](x) + FUNCS[i](x) * 2.0


def slice_and_item(x):
    return [x[:2], x[2]]


def list_and_item(x):
    y = [v * 2.0 for v in x]
    return [y, x[2]]


def slice_and_item_as_tuple(x):
    return (x[:2], x[2])
