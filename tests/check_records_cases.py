"""Functions of records (dicts, NamedTuples, dataclasses) for tests/test_check_records.py;
in a module of their own so that symgrad reads their source."""
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

import check_cases as C


class Layer(NamedTuple):
    w: float
    b: float
    name: str = "layer"


@dataclass(frozen=True)
class Model:
    w: list
    b: float
    tag: str = "m"


@dataclass
class Mutable:
    scale: float
    shift: float


def layer_out(p, x):
    return math.tanh(p.w * x + p.b)


def dict_poly(d, x):
    return d["w"] * x + d["b"] ** 2 * d["c"][1] + (x if d["name"] == "n" else 0.0)


def model_out(m, x):
    return math.tanh(m.w[0] * x + m.w[1] * m.b) * len(m.tag)


def nested(d):
    return d["inner"]["a"] * math.exp(d["inner"]["b"]) + d["k"] * d["inner"]["a"]


def arrays_in_dict(d):
    return np.sum(d["W"] @ d["x"]) * d["s"]


def mutable_affine(p, x):
    return p.scale * x * x + p.shift


def squares_dict(d):
    return C.square(d["u"]) + d["v"]
