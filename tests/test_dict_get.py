"""``d.get(k, default)`` (and ``d.setdefault(k, default)``, and a
``collections.defaultdict`` made inside) on dicts of numbers: the gradient flows into
``d[k]`` when the key is there and into ``default`` when it is not; second order through dicts built
inside the function (the tape saves and restores their keys).  Checked against central
differences and the ``Value`` engine, which runs the real ``dict.get``."""

import collections

import pytest

import symgrad
from symgrad import Value


def fd(f, args, i, h=1e-6):
    up, dn = list(args), list(args)
    up[i] += h
    dn[i] -= h
    return (f(*up) - f(*dn)) / (2 * h)


def value_grads(f, args):
    vs = [Value(a) for a in args]
    f(*vs).backward()
    return [v.grad for v in vs]


def local_get(a, b):
    d = {"u": a * b}
    return d.get("u") * a + d.get("w", b) ** 2      # (w absent: the default's gradient)


def local_get_after_write(a, b):
    d = {"u": a * b}
    d["v"] = d["u"] * a
    return d.get("v", 0.0) * d.get("u", 1.0) + d.get("w", b) ** 2


def keys_made_in_a_loop(a, b):
    d = {}
    for i in range(3):
        d[i] = d.get(i - 1, a) * b + a               # (i - 1 absent at i = 0)
    return d[2] * d.get(0, 0.0)


def get_in_a_branch(a, b):
    d = {"x": a}
    if a > 0.5:
        d["y"] = a * b
    return d.get("y", b * b) + d.get("x", 0.0)


def set_default(a, b):
    d = {}
    u = d.setdefault("u", a)          # (absent: stored, and returned)
    v = d.setdefault("u", b)          # (there: d["u"], b unused)
    w = d.setdefault("w", a * b)
    d["w"] += b
    return u * v + w * d["w"] + len(d)


def set_default_in_a_loop(a, b):
    acc = collections.defaultdict(float)
    d = {}
    for k, t in [("p", a), ("q", b), ("p", a * b)]:
        d.setdefault(k, 0.0)
        d[k] += t
        acc[k] += t * t
    return d["p"] * d["q"] + acc["p"] - acc["q"]


PROGRAMS = [local_get, local_get_after_write, keys_made_in_a_loop, get_in_a_branch,
            set_default, set_default_in_a_loop]


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("point", [(0.3, 0.8), (0.9, -1.3)])
def test_get_gradient(f, point):
    g = symgrad.grad(f, wrt=[0, 1])(*point)
    want = value_grads(f, point)
    assert g == pytest.approx(want, rel=1e-12)
    assert g == pytest.approx([fd(f, point, 0), fd(f, point, 1)], rel=1e-6)


@pytest.mark.parametrize("f", [local_get_after_write, keys_made_in_a_loop, get_in_a_branch,
                               set_default, set_default_in_a_loop], ids=lambda f: f.__name__)
@pytest.mark.parametrize("point", [(0.3, 0.8), (0.9, -1.3)])
def test_get_hvp(f, point):
    v = (1.0, 0.5)
    got = symgrad.hvp(f, point, v)
    g = symgrad.grad(f, wrt=[0, 1])
    h = 1e-5
    up = g(*(p + h * t for p, t in zip(point, v)))
    dn = g(*(p - h * t for p, t in zip(point, v)))
    assert got == pytest.approx([(u - d) / (2 * h) for u, d in zip(up, dn)], rel=1e-6)


def scaled(p, x):
    return p.get("w", 1.0) * x + p.get("b", 0.0)


def test_get_on_a_dict_argument():
    g = symgrad.grad(scaled)
    dp, dx = g({"w": 2.0, "b": 0.5}, 3.0)
    assert dp == {"w": 3.0, "b": 1.0} and dx == 2.0
    dp, dx = g({"w": 2.0}, 3.0)                     # b absent: its default is a constant
    assert dp == {"w": 3.0} and dx == 2.0
    dp, dx = g({}, 3.0)
    assert dp == {} and dx == 1.0


def _saxpy(val):
    return val["a"] * val["b"] + val["c"]


def dict_call(a, b, c):
    d = dict(a=a, b=b, c=c)            # dict(...) with keywords: the dict {"a": a, ...}
    e = dict()
    e["z"] = d["a"] * 2.0
    return _saxpy(d) + e["z"] * d.get("b", 0.0)


@pytest.mark.parametrize("point", [(0.3, 0.5, 0.7), (-1.1, 0.4, 2.0)])
def test_dict_call_with_keywords(point):
    g = symgrad.grad(dict_call, wrt=[0, 1, 2])(*point)
    assert g == pytest.approx(value_grads(dict_call, point), rel=1e-12)
    assert g == pytest.approx([fd(dict_call, point, i) for i in range(3)], rel=1e-6)
    hv = symgrad.hvp(dict_call, point, (1.0, 0.0, 0.5))
    a, b, c = point
    assert hv == pytest.approx((0.0, 3.0, 0.0))       # f = 3ab + c
