"""A function using a primitive that a test registers with symgrad.register_rule."""
import math


def softplus(v):
    return math.log1p(math.exp(v))


def twice_softplus(x):
    return softplus(x) * 2


def scaled_tanh(k, x):
    return k * math.tanh(x)


def uses_scaled_tanh(k, x):
    return scaled_tanh(k * k, x) + x
