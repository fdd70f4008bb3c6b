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


def with_a_mode(p, x):
    """A field that holds no number (a string) decides the branch: a constant of the
    function of the leaves, read anew at every call."""
    z = np.tanh(p["W"] * x + p["b"])
    if p["mode"] == "sq":
        return float(np.sum(z ** 2))
    return float(np.sum(z))


def test_a_constant_field_is_read_at_each_call():
    """The function of the leaves is made once per structure; what a later call's
    non-number fields hold still decides (the same structure, another string)."""
    g = symgrad.grad(with_a_mode, wrt="p")
    t = np.tanh(W * 0.9 + 0.2)
    for mode, want in (("sq", 2 * t * (1 - t * t)), ("plain", 1 - t * t), ("sq", None)):
        dp = g({"W": W, "b": 0.2, "mode": mode}, 0.9)
        want = 2 * t * (1 - t * t) if want is None else want
        assert float(dp["b"]) == pytest.approx(np.sum(want))
        assert np.allclose(dp["W"], want * 0.9)
        assert dp["mode"] == mode


class Q(NamedTuple):            # (the same fields as P, another class)
    W: np.ndarray
    b: float


def test_the_structure_decides_not_only_the_fields():
    """Two NamedTuple classes with the same fields, a dict with its keys in another
    order, a key 1 then True: each its own function of the leaves, in its own type."""
    g = symgrad.grad(by_attribute, wrt="p")
    db, _, dW = _want(0.2, 0.9)
    for p in (P(W, 0.2), Q(W, 0.2), P(W, 0.2)):
        dp = g(p, 0.9)
        assert type(dp) is type(p) and np.allclose(dp.W, dW) and float(dp.b) == \
            pytest.approx(db)
    gk = symgrad.grad(by_key, wrt="p")
    for p in ({"W": W, "b": 0.2}, {"b": 0.2, "W": W}):
        dp = gk(p, 0.9)
        assert list(dp) == list(p) and float(dp["b"]) == pytest.approx(db)

    def by_int_key(p, x):
        return float(np.sum(np.tanh(p[0] * x + p[1]) ** 2))
    dp = symgrad.grad(by_int_key, wrt="p")({0: W, 1: 0.2}, 0.9)
    assert float(dp[1]) == pytest.approx(db)
    with pytest.raises(symgrad.ArgumentError, match="by_int_key: a dict with the key True"):
        symgrad.grad(by_int_key, wrt="p")({0: W, True: 0.2}, 0.9)


@dataclasses.dataclass
class WithHidden:
    W: np.ndarray
    b: float
    n: int = dataclasses.field(init=False, default=3)


def test_a_dataclass_field_its_init_does_not_take_is_refused():
    with pytest.raises(symgrad.ArgumentError, match="field 'n'"):
        symgrad.grad(by_attribute, wrt="p")(WithHidden(W, 0.2), 0.9)


def transposed_field(p, x):
    """``p.w[::-1].T``: read before any call, ``p`` is a record of lists (no ``.T``)
    and, as an array, has no ``.w``; the gradient is made at the call."""
    return float(np.sum(p.w[::-1].T @ x + p.b))


@pytest.mark.parametrize("make", ["PW", "DW"])
def test_a_record_of_arrays_read_as_only_arrays_can_be(make):
    w = np.arange(6.0).reshape(2, 3) / 10
    x = np.array([1.0, 2.0])
    make = globals()[make]
    g = symgrad.grad(transposed_field)          # (made at the call: no error here)
    dp, dx = g(make(w, 0.3), x)
    assert type(dp) is make
    assert np.allclose(dp.w, np.array([[2.0] * 3, [1.0] * 3]))
    assert float(dp.b) == pytest.approx(3.0)               # (3 entries, each + b)
    assert np.allclose(dx, [w[1].sum(), w[0].sum()])
    with pytest.raises(symgrad.SymgradError, match="getattr"):
        g(w, x)                                 # (an array has no .w: the first error)


class PW(NamedTuple):
    w: np.ndarray
    b: float


@dataclasses.dataclass
class DW:
    w: np.ndarray
    b: float
