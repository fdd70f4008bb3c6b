"""hvp and hessian with respect to records: dicts (nested too), NamedTuples and
dataclasses of numbers, lists and arrays, as JAX gives them for pytrees (before: refused
by name).  ``hessian``'s result is a record of records, the block of leaves ``a`` and
``b`` shaped ``a`` then ``b``; ``hvp``'s has the gradient's structure.  References:
central differences of symgrad's gradient (itself checked against finite differences
elsewhere) and hand-derived values."""
import dataclasses
import math
from typing import NamedTuple

import numpy as np
import pytest

import symgrad

R = np.random.default_rng(5)


class Layer(NamedTuple):
    W: np.ndarray
    b: float
    name: str = "dense"


@dataclasses.dataclass
class Prior:
    scale: float
    centres: list


def dict_loss(p, x):
    return p["w"] ** 2 * x + math.sin(p["b"] * p["w"]) * x ** 3


def layer_loss(layer, prior):
    z = np.tanh(layer.W @ np.array([1.0, 2.0]) + layer.b)
    pen = sum((c - layer.b) ** 2 for c in prior.centres)
    return float(np.sum(z ** 2)) * prior.scale + pen * layer.b


def nested_loss(params, x):
    enc, dec = params["enc"], params["dec"]
    h = np.tanh(enc["W"] * x + enc["b"])
    return float(np.sum((dec["v"] * h) ** 2)) + params["t"] * x


def _scalars(v, keys=()):
    """Every number of ``v``: (its fields' path, its index inside the leaf)."""
    if isinstance(v, dict):
        return [s for k in v for s in _scalars(v[k], keys + (k,))]
    if hasattr(v, "_fields"):
        return [s for k in v._fields for s in _scalars(getattr(v, k), keys + (k,))]
    if dataclasses.is_dataclass(v):
        return [s for f in dataclasses.fields(v) for s in _scalars(getattr(v, f.name),
                                                                  keys + (f.name,))]
    if isinstance(v, list):
        return [(keys, (i,) + ix) for i, e in enumerate(v) for _, ix in _scalars(e)]
    if isinstance(v, np.ndarray):
        return [(keys, tuple(int(k) for k in ix)) for ix in np.ndindex(v.shape)]
    return [(keys, ())] if isinstance(v, float) else []


def _field(x, k):
    return x[k] if isinstance(x, dict) else getattr(x, k)


def _get(x, keys, ix):
    for k in keys:
        x = _field(x, k)
    for k in ix:
        x = x[k]
    return x


def _moved(v, keys, ix, h):
    """``v`` with the number at (keys, ix) moved by h."""
    if keys:
        k, rest = keys[0], keys[1:]
        if isinstance(v, dict):
            return {**v, k: _moved(v[k], rest, ix, h)}
        if hasattr(v, "_fields"):
            return v._replace(**{k: _moved(getattr(v, k), rest, ix, h)})
        return dataclasses.replace(v, **{k: _moved(getattr(v, k), rest, ix, h)})
    if isinstance(v, np.ndarray):
        y = v.astype(float).copy()
        y[ix] += h
        return y
    if isinstance(v, list):
        y = [list(e) if isinstance(e, list) else e for e in v]
        if len(ix) == 1:
            y[ix[0]] += h
        else:
            y[ix[0]] = _moved(v[ix[0]], (), ix[1:], h)
        return y
    return v + h


def _check_hessian(f, args, H):
    """Every entry of the record-of-records Hessian against central differences of
    symgrad's gradient."""
    g = symgrad.grad(f)
    blocks = H if len(args) > 1 else ((H,),)
    for i, a in enumerate(args):
        for keys_a, ix_a in _scalars(a):
            up, dn = list(args), list(args)
            up[i], dn[i] = _moved(a, keys_a, ix_a, 1e-6), _moved(a, keys_a, ix_a, -1e-6)
            gu, gd = g(*up), g(*dn)
            gu, gd = (gu, gd) if len(args) > 1 else ((gu,), (gd,))
            for j, b in enumerate(args):
                for keys_b, ix_b in _scalars(b):
                    want = (_get(gu[j], keys_b, ix_b) - _get(gd[j], keys_b, ix_b)) / 2e-6
                    got = _get(blocks[i][j], keys_a + keys_b, ix_a + ix_b)
                    assert float(got) == pytest.approx(want, abs=1e-5), (i, keys_a, ix_a,
                                                                         j, keys_b, ix_b)


CASES = [
    (dict_loss, ({"w": 0.7, "b": -0.3}, 1.2)),
    (layer_loss, (Layer(R.normal(size=(2, 2)), 0.5), Prior(0.7, [1.0, 2.0]))),
    (nested_loss, ({"enc": {"W": R.normal(size=3), "b": 0.2}, "dec": {"v": R.normal(size=3)},
                    "t": 0.4}, 0.9)),
]


@pytest.mark.parametrize(("f", "args"), CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_hessian_of_records(f, args):
    _check_hessian(f, args, symgrad.hessian(f)(*args))
    assert symgrad.check(f, *args, mode="hessian").ok


@pytest.mark.parametrize(("f", "args"), CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_hvp_of_records(f, args):
    tangents = tuple(_random_like(a) for a in args)
    hv = symgrad.hvp(f, args, tangents)
    H = symgrad.hessian(f)(*args)       # (checked entry by entry above)
    blocks = H if len(args) > 1 else ((H,),)
    hv = hv if len(args) > 1 else (hv,)
    for i, a in enumerate(args):
        for keys_a, ix_a in _scalars(a):
            want = sum(float(_get(blocks[i][j], keys_a + keys_b, ix_a + ix_b)) *
                       float(_get(tangents[j], keys_b, ix_b))
                       for j, b in enumerate(args) for keys_b, ix_b in _scalars(b))
            assert float(_get(hv[i], keys_a, ix_a)) == pytest.approx(want, abs=1e-9)
    assert symgrad.check(f, *args, mode="hvp", tangents=tangents).ok


def _random_like(v):
    if isinstance(v, dict):
        return {k: _random_like(x) for k, x in v.items()}
    if hasattr(v, "_fields"):
        return type(v)(*(_random_like(getattr(v, k)) for k in v._fields))
    if dataclasses.is_dataclass(v):
        return dataclasses.replace(v, **{f.name: _random_like(getattr(v, f.name))
                                         for f in dataclasses.fields(v)})
    if isinstance(v, list):
        return [_random_like(e) for e in v]
    if isinstance(v, np.ndarray):
        return R.normal(size=v.shape)
    return float(R.normal()) if isinstance(v, float) else v


def test_hand_derived_dict_hessian():
    p, x = {"w": 0.7, "b": -0.3}, 1.2
    H = symgrad.hessian(dict_loss, wrt="p")(p, x)
    w, b = p["w"], p["b"]
    assert H["w"]["w"] == pytest.approx(2 * x - b * b * math.sin(b * w) * x ** 3)
    assert H["w"]["b"] == pytest.approx(H["b"]["w"])
    assert H["b"]["b"] == pytest.approx(-w * w * math.sin(b * w) * x ** 3)
    hv = symgrad.hvp(dict_loss, (p, x), ({"w": 1.0, "b": 0.0},), wrt="p")
    assert hv == pytest.approx({"w": H["w"]["w"], "b": H["b"]["w"]})


def test_fields_that_hold_no_numbers_keep_their_values():
    layer, prior = CASES[1][1]
    H = symgrad.hessian(layer_loss)(layer, prior)
    assert H[0][0].name == "dense" and H[0][0].W.name == "dense"
    assert H[0][0].W.W.shape == (2, 2, 2, 2)
    assert isinstance(H[1][1], Prior) and isinstance(H[1][1].centres, Prior)
    assert H[1][1].centres.centres == [[1.0, 0.0], [0.0, 1.0]]     # (d2/dc_i dc_j of pen*b)
    assert H[1][1].centres.scale == [0.0, 0.0]


def test_a_tangent_of_another_shape_is_an_error():
    with pytest.raises(symgrad.SymgradError, match="no field 'b'"):
        symgrad.hvp(dict_loss, ({"w": 0.7, "b": -0.3}, 1.2), ({"w": 1.0}, 0.0))
    with pytest.raises(symgrad.SymgradError, match="the tangent of a dict"):
        symgrad.hvp(dict_loss, ({"w": 0.7, "b": -0.3}, 1.2), (1.0, 0.0))


def test_made_once_per_shape_and_following_new_values():
    """The function of the leaves is made once per records' shape; a field that holds
    no number given another value is followed."""
    def scaled(p):
        return p["w"] ** 3 * (2.0 if p["mode"] == "double" else 1.0)
    H1 = symgrad.hessian(scaled)({"w": 0.5, "mode": "double"})
    H2 = symgrad.hessian(scaled)({"w": 0.5, "mode": "single"})
    assert H1["w"]["w"] == pytest.approx(2 * 6 * 0.5)
    assert H2["w"]["w"] == pytest.approx(6 * 0.5)
