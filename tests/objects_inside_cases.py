"""Objects of the user's classes, made inside the differentiated function or at module
level, whose methods change them, for tests/test_objects_inside.py."""
import functools
import math


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
