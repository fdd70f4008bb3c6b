"""Functions calling helpers from another module (with its own globals and aliases)."""
import math

import other_module
from other_module import soft

GAIN = 3.0   # a different constant with the same name as other_module.GAIN


def cross(x, y):
    return soft(x) * GAIN + other_module.soft(y, k=1.0) + math.sin(x)


def cross_lists(xs, ws, c):
    return other_module.weighted(xs, ws) * c + soft(c, 0.5)
