"""Records whose class computes what the code reads: a ``@property`` (``p.sigma`` of
``math.exp(self.log_sigma)``), a ``functools.cached_property``, a method
(``p.nll(x)``), a static method, on a dataclass, a NamedTuple or a plain object
passed in.  The code alone reads ``p.sigma`` as a field, so the gradient is made for
the record's class at the call (``symgrad.param_classes``), with the getters and
methods inlined; the gradient is a record of the fields' adjoints.  Checked against
central differences of the function, in grad, value_and_grad, jvp (which read the
property on the tangent record before: a silently wrong slope) and check."""

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pytest

import symgrad

H = 1e-6


@dataclass
class Noise:
    log_sigma: float
    mu: float

    @property
    def sigma(self):
        return math.exp(self.log_sigma)

    def nll(self, x):
        return ((x - self.mu) / self.sigma) ** 2 + 2.0 * self.log_sigma

    @staticmethod
    def soft(v):
        return math.log1p(math.exp(v))


class Box(NamedTuple):
    w: float
    h: float

    @property
    def area(self):
        return self.w * self.h

    def scaled(self, k):
        return Box(self.w * k, self.h * k)


class Spring:
    def __init__(self, k, rest):
        self.k = k
        self.rest = rest

    @functools.cached_property
    def stiff(self):
        return self.k * self.k

    def energy(self, x):
        return 0.5 * self.stiff * (x - self.rest) ** 2 + self.pull(x)

    def pull(self, x):
        return self.k * x


@dataclass
class Layer:
    W: np.ndarray
    b: np.ndarray

    @property
    def scale(self):
        return np.sum(self.W ** 2)

    def __call__(self, x):
        return np.tanh(self.W @ x + self.b)


def property_in_a_sum(p, xs):
    return sum(((x - p.mu) / p.sigma) ** 2 for x in xs) + len(xs) * math.log(p.sigma)


def method_in_a_loop(p, xs):
    total = 0.0
    for x in xs:
        total += p.nll(x) + p.soft(x * p.mu)
    return total


def named_tuple_property(b):
    return b.area ** 2 + b.w + b.scaled(2.0).area


def object_methods(s, x):
    return s.energy(x) + s.stiff * x


def array_property(layer, x):
    return np.sum(layer.W @ x + layer.b) * layer.scale


def fields(rec):
    if isinstance(rec, tuple):
        return {k: getattr(rec, k) for k in rec._fields}
    return dict(vars(rec))


def with_field(rec, name, value):
    if isinstance(rec, tuple):
        return rec._replace(**{name: value})
    new = object.__new__(type(rec))
    new.__dict__.update({k: v for k, v in vars(rec).items() if k in ("k", "rest", "W", "b",
                                                                    "log_sigma", "mu", "w",
                                                                    "h")})
    setattr(new, name, value)
    return new


def central(f, rec, rest):
    out = {}
    for name, value in fields(rec).items():
        if name not in ("k", "rest", "W", "b", "log_sigma", "mu", "w", "h"):
            continue
        arr = np.asarray(value, dtype=float)
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            up, dn = arr.copy(), arr.copy()
            up[idx] += H
            dn[idx] -= H
            cast = (lambda a: a) if arr.ndim else float
            g[idx] = (f(with_field(rec, name, cast(up)), *rest)
                      - f(with_field(rec, name, cast(dn)), *rest)) / (2 * H)
        out[name] = g if arr.ndim else float(g)
    return out


L0 = Layer(np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([0.1, 0.2]))
CASES = [(property_in_a_sum, Noise(-0.3, 0.2), ([0.5, 0.1, -0.4],)),
         (method_in_a_loop, Noise(-0.3, 0.2), ([0.5, 0.1, -0.4],)),
         (named_tuple_property, Box(2.0, 3.0), ()),
         (object_methods, Spring(1.3, 0.4), (0.9,)),
         (array_property, L0, (np.array([0.3, -0.7]),))]
IDS = [c[0].__name__ for c in CASES]


@pytest.mark.parametrize("f,rec,rest", CASES, ids=IDS)
def test_gradient_of_the_record(f, rec, rest):
    value, g = symgrad.value_and_grad(f, wrt=0)(rec, *rest)
    assert value == pytest.approx(f(rec, *rest), rel=1e-13)
    assert type(g) is type(rec)
    want = central(f, rec, rest)
    for name, w in want.items():
        np.testing.assert_allclose(getattr(g, name), w, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f,rec,rest", CASES, ids=IDS)
def test_jvp_along_a_record(f, rec, rest):
    g = symgrad.grad(f, wrt=0)(rec, *rest)
    direction = {name: (np.full(np.shape(v), 0.7) if np.ndim(v) else 0.7) * (k + 1)
                 for k, (name, v) in enumerate(fields(g).items())
                 if name in ("k", "rest", "W", "b", "log_sigma", "mu", "w", "h")}
    tangent = rec
    for name, t in direction.items():
        tangent = with_field(tangent, name, t)
    zeros = tuple(np.zeros_like(r) if isinstance(r, np.ndarray) else
                  [0.0] * len(r) if isinstance(r, list) else 0.0 for r in rest)
    value, slope = symgrad.jvp(f, (rec, *rest), (tangent, *zeros))
    want = sum(float(np.sum(np.asarray(getattr(g, n)) * t)) for n, t in direction.items())
    assert value == pytest.approx(f(rec, *rest), rel=1e-13)
    assert slope == pytest.approx(want, rel=1e-10)


def test_check_agrees():
    report = symgrad.check(named_tuple_property, Box(2.0, 3.0))
    assert report.ok and set(report.verdicts.values()) == {"proved equal"}
    assert symgrad.check(method_in_a_loop, Noise(-0.3, 0.2), [0.5, 0.1, -0.4], wrt=["p"]).ok


def test_the_source_is_the_one_made_for_the_class():
    g = symgrad.grad(method_in_a_loop, wrt=0)
    g(Noise(-0.3, 0.2), [0.5])
    assert "math.exp(p.log_sigma)" in g.source
    raw = g.fast_for(Noise(-0.3, 0.2), [0.5])(Noise(-0.3, 0.2), [0.5])   # (the bare result)
    assert raw.log_sigma == g(Noise(-0.3, 0.2), [0.5]).log_sigma


def test_a_dict_given_where_a_method_is_called_is_refused():
    g = symgrad.grad(method_in_a_loop, wrt=0)
    with pytest.raises(symgrad.SymgradError, match=r"\.(nll|soft)\(\)"):
        g({"log_sigma": -0.3, "mu": 0.2}, [0.5])


def test_a_record_without_computed_members_keeps_the_plain_gradient():
    @dataclass
    class Plain:
        a: float
        b: float

    def f(p):
        return p.a * p.b + p.a

    g = symgrad.grad(f)
    assert g(Plain(2.0, 3.0)) == Plain(4.0, 2.0)
    assert g._specs == {}                   # (no specialization was made)


# ------------------------------------------------- self of a bound method: the class's code
class Base:
    SCALE = 3.0

    def __init__(self, w):
        self.w = w

    def energy(self, x):
        return self.SCALE * (self.w * x) ** 2


class Child(Base):
    def energy(self, x):
        return super().energy(x) + math.sin(self.w * x) + super(Child, self).energy(2 * x)


class Sigmoid:
    def __init__(self, k):
        self.k = k

    @staticmethod
    def sig(z):
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def twice(cls, z):
        return 2.0 * cls.sig(z)

    def loss(self, x):
        return self.sig(self.k * x) ** 2 + Sigmoid.sig(x) + self.twice(x * x)


def test_super_static_and_class_methods_of_self():
    for f, x in ((Child(0.7).energy, 1.2), (Sigmoid(1.5).loss, 0.4)):
        want = (f(x + H) - f(x - H)) / (2 * H)
        assert symgrad.grad(f)(x) == pytest.approx(want, rel=1e-7)
        assert symgrad.check(f, x).ok


def test_super_outside_a_method_is_refused_with_its_line():
    def f(x):
        return super().energy(x)        # noqa: no class here
    with pytest.raises(symgrad.SymgradError, match=r"(?s)line \d+.*super\(\) here"):
        symgrad.grad(f)(1.0)
