"""Functions for tests/test_check.py and tests/test_cli.py (in a file, so symgrad can read them).

``square``, ``softplus`` and ``erfc_rule`` are turned into primitives by the tests
(``register_rule``), which restore the rule table afterwards.
"""
import math
from math import exp as mexp

import numpy as np
import other_module


def neuron(x1, x2, w1, w2, b):
    n = x1 * w1 + x2 * w2 + b
    return math.tanh(n)


def square(v):
    return v * v


def uses_square(x, y):
    return square(x) * y + x


def softplus(v):
    return math.log1p(math.exp(v))


def uses_softplus(x, y):
    return softplus(x * y) + y


def uses_erfc(x, y):
    return math.erfc(x) * y


def branchy(x, y):
    if x > y:
        z = x * y
    else:
        z = mexp(x) - y
    return z * abs(y) + max(x, y, 0.5)


def with_helpers(xs, c):
    total = 0.0
    for x in xs:
        total = total + other_module.soft(x * c) + scaled(x)
    return total


def scaled(v, k=2.5):
    def inner(u):
        return np.sin(u) * k
    return inner(v) + np.arctan2(v, 2.0) + np.maximum(v, 0.1) + math.pi * v


def loop_power(x, n):
    s = 0.0
    for i in range(n):
        s = s + x ** (i + 1) / (i + 1)
    return s


def fractions(x, y):
    return x / 3 + 0.1 * x * y + math.erf(x) + math.log(y, 2) + math.sqrt(x * y)  # noqa: FURB163


def overflow(x):
    return math.exp(x * 1000.0)


def power_rec(x, n):
    return 1.0 if n == 0 else x * power_rec(x, n - 1)
