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


def poly_count(x, n):
    s = 0.0
    for i in range(n):
        s = s + x ** i
    return s * n


def pick(xs, i):
    return xs[i] * xs[i - 1]


def with_default(x, k=2.5):
    return x * x * k


def np_sines(x):
    return np.sin(x) * x


def rk4(y0, k, steps=50):
    """dy/dt = -k y + sin(y), integrated with the classic Runge-Kutta method."""
    h = 0.1
    y = y0
    for _ in range(steps):
        k1 = -k * y + math.sin(y)
        k2 = -k * (y + h / 2 * k1) + math.sin(y + h / 2 * k1)
        k3 = -k * (y + h / 2 * k2) + math.sin(y + h / 2 * k2)
        k4 = -k * (y + h * k3) + math.sin(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y
