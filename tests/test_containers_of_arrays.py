"""Containers holding arrays: a dict, NamedTuple, dataclass, tuple or list of arrays and
numbers passed in.  Before, the gradient made for the numbers a container holds ran on
its arrays, so a number broadcast against an array (a scalar bias ``b`` in ``W * x +
b``, the input ``x`` itself) got the unsummed array as its gradient: silently wrong in
``grad``, ``value_and_grad``, ``vjp`` and the Jacobians, in all five kinds of container
(a 0-d array field crashed).  Now a container holding arrays is taken apart into its
leaves, each array an argument specialized for its pattern (``symgrad.second_records``).
References: central differences and hand-derived values."""
import dataclasses
from typing import NamedTuple

import numpy as np
import pytest

import symgrad

W = np.array([0.1, 0.2, 0.3])


class P(NamedTuple):
    W: np.ndarray
    b: float


@dataclasses.dataclass
class D:
    W: np.ndarray
    b: float


def by_attribute(p, x):
    return float(np.sum(np.tanh(p.W * x + p.b) ** 2))


def by_key(p, x):
    return float(np.sum(np.tanh(p["W"] * x + p["b"]) ** 2))


def unpacked(p, x):
    W, b = p
    return float(np.sum(np.tanh(W * x + b) ** 2))


def nested(params, x):
    enc, dec = params["enc"], params["dec"]
    h = np.tanh(enc["W"] * x + enc["b"])
    return float(np.sum((dec["v"] * h) ** 2)) + params["t"] * x


def vector_out(p, x):
    return np.tanh(p["W"] * x + p["b"])


def _want(b, x):
    """Hand-derived: d/db and d/dx of sum(tanh(W x + b)^2)."""
    t = np.tanh(W * x + b)
    g = 2 * t * (1 - t * t)
    return float(np.sum(g)), float(np.sum(g * W)), g * x


CASES = [(by_attribute, P(W, 0.2)), (by_attribute, D(W, 0.2)), (by_key, {"W": W, "b": 0.2}),
         (unpacked, (W, 0.2)), (unpacked, [W, 0.2]),
         (by_attribute, P(W, np.array(0.2))), (by_key, {"W": W, "b": np.array(0.2)})]


@pytest.mark.parametrize(("f", "p"), CASES,
                         ids=[f"{f.__name__}-{type(p).__name__}-{k}" for k, (f, p) in
                              enumerate(CASES)])
def test_a_number_broadcast_against_an_array_of_the_container(f, p):
    db, dx, dW = _want(0.2, 0.9)
    value, (dp, got_dx) = symgrad.value_and_grad(f)(p, 0.9)
    assert value == pytest.approx(f(p, 0.9))
    assert got_dx == pytest.approx(dx)
    fields = dp._asdict() if hasattr(dp, "_asdict") else vars(dp) if \
        dataclasses.is_dataclass(dp) else dp if isinstance(dp, dict) else dict(zip("Wb", dp))
    assert np.allclose(fields["W"], dW)
    assert np.ndim(fields["b"]) == 0 and float(fields["b"]) == pytest.approx(db)
    assert type(dp) is type(p)                      # (in the container's own type)
    assert symgrad.grad(f, wrt="x")(p, 0.9) == pytest.approx(dx)


def test_nested_dicts():
    p = {"enc": {"W": W, "b": 0.2}, "dec": {"v": np.array([1.0, -1.0, 0.5])}, "t": 0.4}
    (dp, dx) = symgrad.grad(nested)(p, 0.9)
    h = 1e-6
    up = {**p, "enc": {**p["enc"], "b": 0.2 + h}}
    dn = {**p, "enc": {**p["enc"], "b": 0.2 - h}}
    assert dp["enc"]["b"] == pytest.approx((nested(up, 0.9) - nested(dn, 0.9)) / (2 * h))
    assert dx == pytest.approx((nested(p, 0.9 + h) - nested(p, 0.9 - h)) / (2 * h))
    assert dp["t"] == pytest.approx(0.9)
    assert symgrad.check(nested, p, 0.9).ok


def test_vjp_and_jacobians():
    p = {"W": W, "b": 0.2}
    t = np.tanh(W * 0.9 + 0.2)
    d = 1 - t * t
    out, pull = symgrad.vjp(vector_out, p, 0.9)
    assert np.allclose(out, t)
    dp, dx = pull(np.ones(3))
    assert float(dp["b"]) == pytest.approx(np.sum(d)) and np.allclose(dp["W"], d * 0.9)
    assert float(dx) == pytest.approx(np.sum(d * W))
    for jac in (symgrad.jacobian, symgrad.jacrev, symgrad.jacfwd):
        J = jac(vector_out)(p, 0.9)
        for j in range(3):
            assert float(J[j][0]["b"]) == pytest.approx(d[j])
            assert float(J[j][1]) == pytest.approx(d[j] * W[j])
    assert symgrad.jvp(by_key, (p, 0.9), ({"W": np.zeros(3), "b": 1.0}, 0.0))[1] == \
        pytest.approx(_want(0.2, 0.9)[0])


def test_the_same_gradient_for_another_shape():
    g = symgrad.grad(by_key)
    for n in (2, 5):
        Wn = np.linspace(0.1, 0.5, n)
        t = np.tanh(Wn * 0.9 + 0.2)
        dp, _ = g({"W": Wn, "b": 0.2}, 0.9)
        assert float(dp["b"]) == pytest.approx(np.sum(2 * t * (1 - t * t)))
