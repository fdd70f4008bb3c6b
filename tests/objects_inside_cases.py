"""Objects of the user's classes, made inside the differentiated function or at module
level, whose methods change them, for tests/test_objects_inside.py."""
import dataclasses
import functools
import math

import numpy as np


class Acc:
    def __init__(self):
        self.total = 0.0

    def add(self, v):
        self.total += v


class Window:
    def __init__(self, maxlen):
        self.items = []
        self.maxlen = maxlen

    def append(self, x):
        self.items.append(x)
        if len(self.items) > self.maxlen:
            self.items.pop(0)


class Cache:
    def __init__(self):
        self.value = 0.0

    def forward(self, x):
        self.value = x * x


class Poly:
    def __init__(self, c):
        self.c = c

    def __call__(self, x):
        s = 0.0
        for c in self.c:
            s = s * x + c
        return s

    def doubled(self, x):
        return self(x) * 2.0

    @property
    def degree(self):
        return len(self.c) - 1


MODEL = Cache()
SEEN = {"n": 0.0}


def accumulated(x):
    a = Acc()
    a.add(x * x)
    a.add(x)
    return a.total


def windowed(xs):
    w = Window(2)
    total = 0.0
    for x in xs:
        w.append(x)
        total += sum(w.items) ** 2
    return total


def through_a_module_object(x):
    MODEL.forward(x)
    return MODEL.value * 2.0


def _remember(x):
    try:
        SEEN["n"] = x
    except KeyError:
        pass


def helper_called_for_its_effect(x):
    _remember(x * 3.0)
    return SEEN["n"] + x


def polynomial_made_here(x):
    p = Poly([1.0, -2.0, 0.5])
    return p(x) + p.doubled(x) * p.degree + math.sin(x)


class Poly2:
    def __init__(self, c):
        self.c = c

    def __call__(self, x):
        return functools.reduce(lambda a, c: a * x + c, self.c, 0.0)

    def deriv(self):
        n = len(self.c) - 1
        return Poly2([c * (n - i) for i, c in enumerate(self.c[:-1])])


P2 = Poly2([1.0, -2.0, 0.5])


def newton_step(x):
    return x - P2(x) / P2.deriv()(x)


class Linear:
    scale = 2.0

    def __init__(self, w, b=0.0, bias=True):
        self.w = w
        if bias:
            self.b = b
        else:
            self.b = 0.0

    def __call__(self, x):
        return self.scale * self.w * x + self.b


class Scaled(Linear):
    def __init__(self, w, k):
        super().__init__(w, 0.5)
        self.k = k

    def __call__(self, x):
        return self.k * super().__call__(x)


class TwoLayer:
    def __init__(self, w1, w2, scale=2.0):
        self.l1 = Linear(w1, 0.1)
        self.l2 = Linear(w2, -0.2)
        self.scale = scale
        self.calls = 0
        self.calls += 2

    def forward(self, x):
        return self.l2(math.tanh(self.l1(x))) * self.scale + self.calls

    @property
    def norm(self):
        return self.l1.w ** 2 + self.l2.w ** 2


@dataclasses.dataclass
class Gauss:
    mu: float
    sigma: float = 1.0

    def __post_init__(self):
        self.var = self.sigma * self.sigma

    def logpdf(self, x):
        return -0.5 * (x - self.mu) ** 2 / self.var - 0.5 * math.log(self.var)


@dataclasses.dataclass
class WithList:
    a: float
    seen: list = dataclasses.field(default_factory=list)


def _apply(fn, x):
    return fn(x) * 3.0


def one_layer(w, b, x):
    layer = Linear(w, b)
    return layer(x) ** 2 + _apply(layer, x)


def inherited(w, x):
    return Scaled(w, 3.0)(x) + Linear(w, 0.4, bias=False)(x)


def nested_objects(w1, w2, x):
    net = TwoLayer(w1, w2)
    return net.forward(x) + 0.1 * net.norm


def dataclass_made_here(mu, s, x):
    g = Gauss(mu, sigma=s)
    h = Gauss(mu * 2)
    return g.logpdf(x) + h.logpdf(x) + (1.0 if isinstance(g, Gauss) else 0.0)


def layers_in_a_loop(w, xs):
    layers = [Linear(w, 0.1), Linear(w * 2, 0.2)]
    out = 0.0
    for x in xs:
        h = x
        for layer in layers:
            h = math.tanh(layer(h))
        out += h
    return out


def array_layer(W, b, x):
    layer = Linear(W, b)
    return float(np.sum(np.tanh(layer(x))))


def printed(w, x):
    layer = Linear(w)
    print(layer)
    return layer(x)


def returned(w):
    return Linear(w)


def indexed(w, x):
    layer = Linear(w)
    return layer[0] * x


def with_a_factory(a):
    return WithList(a).a


# made anew in each iteration of a loop (nothing outside the iteration reads it)
def layer_per_step(ws, bs, x):
    for i in range(len(ws)):
        layer = Linear(ws[i], bs[i])
        x = math.tanh(layer(x))
    return x


def per_step_in_two_loops(ws, vs, x):
    for w in ws:
        layer = Linear(w, 0.1)
        x = math.tanh(layer(x))
    k = 0
    while k < len(vs):
        layer = Scaled(vs[k], 0.5)
        x = math.sin(layer(x))
        k += 1
    return x


def per_step_replaced_in_a_branch(ws, x):
    for i, w in enumerate(ws):
        g = Gauss(w, sigma=x)
        if i % 2:
            g = Gauss(x, sigma=w * 2)
        x = g.logpdf(w) * 0.1 + math.sin(g.mu)
    return x


def per_step_nested_and_broken(ws, x):
    for r in range(2):
        for w in ws:
            net = TwoLayer(w, w * (r + 1))
            if x > 5.0:
                break
            x = math.tanh(net.forward(x))
    return x


def per_step_carried(ws, x):
    layer = Linear(ws[0], x)          # (bound before the loop: carried between iterations)
    for w in ws:
        layer = Linear(w, layer.b * x)
        x = math.tanh(layer(x))
    return x + layer.b * layer.w


def per_step_read_after(ws, x):
    for w in ws:
        layer = Linear(w, 0.5)
        x = layer(x)
    return x + layer.w


def per_step_read_first(ws, x):
    for w in ws:
        x = x + layer.w if w > 10 else x      # (Python: NameError at the first iteration)
        layer = Linear(w, 0.5)
        x = layer(x)
    return x


def per_step_in_a_closure(ws, x):
    fs = []
    for w in ws:
        layer = Linear(w, 0.5)
        fs.append(lambda t: layer(t))
    return sum(f(x) for f in fs)
