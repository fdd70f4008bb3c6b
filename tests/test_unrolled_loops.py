"""Loops over a fixed collection of functions or objects (symgrad.lower_unroll): written
out item by item, each item called as itself.  ``for f in (math.sin, math.cos)``,
``for layer in self.layers: x = layer(x)`` of a micrograd-style network of plain
objects, ``[n(x) for n in self.neurons]``, ``self.layers[0]``, with ``enumerate`` and
``continue``, inside loops over data.  Before, each item was an object called at run
time: "no derivative rule for layer".  A call checks the collection still holds the
same items (a layer replaced: the gradient is made again).

Every mode is compared with central differences of the function itself."""

import copy
import random

import pytest

from every_mode import MODES, check_every_mode
from fuzz_oracles import load
from numeric import assert_close, finite_diff

import symgrad
from symgrad.errors import UnsupportedSyntaxError

SOURCE = '''
import math
import random


class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [random.uniform(-1.0, 1.0) for _ in range(nin)]
        self.b = 0.1
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return math.tanh(act) if self.nonlin else act


class Layer:
    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        return [n(x) for n in self.neurons]


class MLP:
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x[0]


random.seed(1)
MODEL = MLP(3, [4, 4, 1])
FUNCTIONS = [math.sin, math.cos, math.tanh]


def network(xs):
    return MODEL(xs) ** 2


def batch_loss(xs, ys):
    return sum((MODEL([a, b, a * b]) - t) ** 2 for a, b, t in zip(xs, xs[1:], ys))


def tuple_of_functions(x):
    s = 0.0
    for f in (math.sin, math.cos):
        s += f(x) * x
    return s


def module_list_with_enumerate(x):
    s = 0.0
    for i, f in enumerate(FUNCTIONS, 1):
        if i == 2:
            continue
        s += i * f(x * x)
    return s


def composed(x):
    y = x
    for _ in range(3):           # (a loop over data around the written-out one)
        for f in FUNCTIONS:
            y = f(y) + 0.5 * y
    return y


def comprehension_over_functions(x):
    return sum(f(x) ** 2 for f in FUNCTIONS) * max(f(x) for f in (math.sin, math.cos))


def first_layer_by_index(xs):
    h = MODEL.layers[0](xs)
    return sum(v * v for v in h) + MODEL.layers[-1].neurons[0](h[:4])
'''

XS = [0.3, -0.5, 0.8]
CASES = [
    ("network", [(XS,), ([1.2, 0.1, -0.7],)]),
    ("batch_loss", [([0.3, -0.5, 0.8, 1.1], [0.2, -0.1, 0.4])]),
    ("tuple_of_functions", [(0.7,)]),
    ("module_list_with_enumerate", [(0.7,)]),
    ("composed", [(0.7,)]),
    ("comprehension_over_functions", [(0.7,)]),
    ("first_layer_by_index", [(XS,)]),
]


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name,points", CASES, ids=[c[0] for c in CASES])
def test_every_mode_as_python(mod, name, points, mode):
    check_every_mode(getattr(mod, name), name, points, mode)


def test_a_changed_collection_makes_the_gradient_again(mod):
    """The gradient was made from the items: a layer replaced, a function appended or
    the model rebound makes it again at the next call (checked by the entry)."""
    g = symgrad.grad(mod.network)
    before = g(copy.deepcopy(XS))
    assert_close(before, finite_diff(mod.network, [copy.deepcopy(XS)])[0])
    saved_layer, saved_model = mod.MODEL.layers[0], mod.MODEL
    try:
        random.seed(5)
        mod.MODEL.layers[0] = mod.Layer(3, 4)
        after = g(copy.deepcopy(XS))
        assert_close(after, finite_diff(mod.network, [copy.deepcopy(XS)])[0])
        assert after != pytest.approx(before)
        mod.MODEL = mod.MLP(3, [2, 1])
        assert_close(g(copy.deepcopy(XS)), finite_diff(mod.network, [copy.deepcopy(XS)])[0])
    finally:
        mod.MODEL = saved_model
        mod.MODEL.layers[0] = saved_layer
    saved = list(mod.FUNCTIONS)
    try:
        mod.FUNCTIONS.append(mod.math.exp)
        assert_close(symgrad.grad(mod.composed)(0.7),
                     finite_diff(mod.composed, [0.7])[0], rtol=1e-5)
    finally:
        mod.FUNCTIONS[:] = saved


def test_the_generated_code_calls_each_item_as_itself(mod):
    src = symgrad.grad(mod.tuple_of_functions).source
    assert "math.sin(x)" in src and "math.cos(x)" in src and "for f in" not in src


def test_a_break_out_of_a_written_out_loop_is_refused():
    f = load('''
import math


def early(x):
    s = 0.0
    for g in (math.sin, math.cos):
        if x > 0.5:
            break
        s += g(x)
    return s
''').early
    with pytest.raises(UnsupportedSyntaxError, match="break out of a loop over functions"):
        symgrad.grad(f)(0.3)
