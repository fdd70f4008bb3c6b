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


class MicroLayer(Layer):
    """micrograd's own ``Layer.__call__``: one output is returned as a number."""

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out


class MicroMLP(MLP):
    """micrograd's own ``MLP`` (of ``MicroLayer`` objects): it returns what the last
    layer returns."""

    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [MicroLayer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def grow(lst, v):
    lst.append(v)


random.seed(1)
MODEL = MLP(3, [4, 4, 1])
MICRO = MicroMLP(3, [4, 4, 1])
MICRO_WIDE = MicroMLP(2, [3, 2])
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


def micrograd_network(xs):
    return MICRO(xs) ** 2 + sum(v * v for v in MICRO_WIDE(xs[:2]))


def lengths_known_or_not(x, ys):
    """``len`` of lists made here: known while lowering only where nothing but appends
    in the same block changed them (a wrong guess changes the value)."""
    a = [x, 2.0 * x]
    b = a
    b.append(x * x)
    c = [x]
    if x > 0.2:
        c.append(3.0 * x)
    d = [x, x]
    grow(d, x)
    e = [x] * 3
    f = [v * x for v in ys]
    g = [x, x]
    g.pop()
    h = [x]
    for _ in range(2):
        h.append(x)
    k = [x]
    m = [k]
    m[0].append(x)
    n = [x, x]
    del n[0]
    t = [x, 3.0]
    pick = t[0] if len(t) == 1 else t
    return (len(a) + len(c) * 2 + len(d) * 3 + len(e) * 5 + len(f) * 7 + len(g) * 11
            + len(h) * 13 + len(k) * 17 + len(n) * 19) * x + sum(pick) * len(pick)


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
    ("micrograd_network", [(XS,), ([1.2, 0.1, -0.7],)]),
    ("lengths_known_or_not", [(0.7, [0.5, 1.5]), (0.1, [])]),
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
