"""``**kwargs`` on the differentiated function itself (it was refused): differentiated
for each set of keyword names it is called with, through an adapter
``def f(x, s): return _fn(x, s=s)`` (symgrad/varargs.py); the gradient has one entry
per argument as passed, positional then keyword.  Inside, ``**kwargs`` is read as a
dict (``opts.get``, ``opts["s"]``, a loop over ``opts.items()``) or forwarded.
References: hand-derived values and central finite differences."""
import math

import numpy as np
import pytest

import symgrad
from symgrad.errors import SymgradError


def by_get(x, **opts):
    return x * opts.get("s", 2.0) + math.sin(x) * opts.get("t", 0.0)


def star_and_keywords(x, *rest, scale=1.0, **kw):
    return (x + sum(rest)) * scale * kw.get("bias", 1.0)


def by_index(w, b, **cfg):
    return np.sum(np.tanh(w * cfg["alpha"] + b) ** 2)


def loop_items(x, **weights):
    total = 0.0
    for name, v in weights.items():
        total = total + v * x ** len(name)
    return total


def _inner(x, s=1.0, t=0.0):
    return x * s + t * t


def forwarded(x, **kw):
    return _inner(x, **kw) * 2.0 + kw.get("t", 0.0)


def read_then_forwarded(x, **kw):
    a = kw.get("t", 0.0)
    return _inner(x, **kw) + a


def fd(f, args, kwargs, i=None, key=None, h=1e-6):
    def at(v):
        a, k = list(args), dict(kwargs)
        if key is None:
            a[i] = v
        else:
            k[key] = v
        return f(*a, **k)
    v0 = args[i] if key is None else kwargs[key]
    return (at(v0 + h) - at(v0 - h)) / (2 * h)


@pytest.mark.parametrize("f,args,kwargs", [
    (by_get, (3.0,), {}), (by_get, (3.0,), {"s": 5.0}), (by_get, (3.0,), {"t": 2.0, "s": 5.0}),
    (star_and_keywords, (1.0, 2.0, 3.0), {"scale": 2.0, "bias": 0.5}),
    (star_and_keywords, (1.0,), {"bias": 0.25}),
    (loop_items, (1.3,), {"ab": 0.5, "abc": -2.0, "a": 1.0}),
    (forwarded, (1.5,), {"t": 0.7}), (forwarded, (1.5,), {"s": 3.0, "t": 0.7}),
])
def test_every_argument_as_passed(f, args, kwargs):
    g = symgrad.grad(f)(*args, **kwargs)
    g = g if isinstance(g, tuple) else (g,)
    expect = [fd(f, args, kwargs, i=i) for i in range(len(args))] + \
        [fd(f, args, kwargs, key=k) for k in kwargs]
    assert len(g) == len(expect)
    for got, want in zip(g, expect):
        assert got == pytest.approx(want, rel=1e-6, abs=1e-8)


def test_value_and_grad_and_wrt_by_name():
    value, grads = symgrad.value_and_grad(star_and_keywords)(1.0, 2.0, 3.0, scale=2.0,
                                                             bias=0.5)
    assert value == 6.0 and grads == (1.0, 1.0, 1.0, 3.0, 12.0)
    assert symgrad.grad(by_get, wrt="t")(3.0, t=2.0) == pytest.approx(math.sin(3.0))
    assert symgrad.grad(by_get, wrt=0)(3.0, t=2.0) == pytest.approx(2.0 + 2 * math.cos(3.0))


def test_arrays_through_keywords():
    w = np.array([0.1, 0.2, -0.4])
    d_w, d_b = symgrad.grad(by_index, wrt=[0, 1])(w, 0.3, alpha=1.5)
    h = 1e-6
    for i in range(3):
        up, dn = w.copy(), w.copy()
        up[i] += h
        dn[i] -= h
        assert d_w[i] == pytest.approx((by_index(up, 0.3, alpha=1.5)
                                        - by_index(dn, 0.3, alpha=1.5)) / (2 * h), rel=1e-6)
    assert d_b == pytest.approx((by_index(w, 0.3 + h, alpha=1.5)
                                 - by_index(w, 0.3 - h, alpha=1.5)) / (2 * h), rel=1e-6)


def test_errors():
    with pytest.raises(SymgradError, match="at most 1 positional"):
        symgrad.grad(by_get)(3.0, 4.0)
    with pytest.raises(SymgradError, match="before it is forwarded"):
        symgrad.grad(read_then_forwarded)(1.0, t=0.5)


def quad_opts(x, **opts):
    return x * x * opts.get("s", 2.0) + math.sin(x) * opts.get("t", 0.0)


def test_second_order_and_jacobians_with_keywords():
    assert symgrad.hessian(quad_opts)(3.0, s=5.0) == ((10.0, 6.0), (6.0, 0.0))
    assert symgrad.hessian(quad_opts, wrt=0)(3.0, t=2.0) == pytest.approx(
        2 * 2.0 - 2 * math.sin(3.0))
    assert symgrad.jacobian(quad_opts)(3.0, s=5.0) == pytest.approx((30.0, 9.0))
    assert symgrad.jvp(quad_opts, (3.0,), (1.0,)) == pytest.approx((18.0, 12.0))


# --- a dict of known keys forwarded as ** (it was refused: "a ** argument of unknown
# keys"): a display (f(**{"s": y})) or a name assigned such a display once and only
# forwarded; anything else (a key added, a read, another assignment) is still refused.
def display_forwarded(x, y):
    return _inner(x, **{"s": y, "t": x * y})


def name_forwarded(x, y):
    opts = {"s": y}
    a = _inner(x, **opts)
    return a * _inner(y, **opts)


def name_forwarded_in_a_loop(x, y):
    total = 0.0
    for k in range(3):
        opts = {"t": y * k}
        total = total + _inner(x, **opts)
    return total


def forwarded_through_a_wrapper(x, y):
    opts = {"s": x, "t": y}
    return forwarded(y, **opts)


def key_added_after(x, y):
    opts = {"s": y}
    opts["t"] = x
    return _inner(x, **opts)


def read_as_well(x, y):
    opts = {"s": y}
    return _inner(x, **opts) + opts["s"]


def assigned_twice(x, y, c=1.0):
    opts = {"s": y}
    if c > 0:
        opts = {"t": y}
    return _inner(x, **opts)


@pytest.mark.parametrize("f", [display_forwarded, name_forwarded, name_forwarded_in_a_loop,
                               forwarded_through_a_wrapper])
def test_a_dict_of_known_keys_is_forwarded(f):
    args = (0.7, 1.3)
    g = symgrad.grad(f, wrt=[0, 1])(*args)
    for i in range(2):
        assert g[i] == pytest.approx(fd(f, args, {}, i=i), rel=1e-6, abs=1e-8)
    H = symgrad.hessian(f)(*args)
    assert H[0][1] == pytest.approx(H[1][0], rel=1e-9)


@pytest.mark.parametrize("f", [key_added_after, read_as_well, assigned_twice])
def test_a_dict_that_changes_or_is_read_is_still_refused_when_forwarded(f):
    with pytest.raises(SymgradError, match="a \\*\\* argument of unknown keys"):
        symgrad.grad(f, wrt=[0, 1])(0.7, 1.3)
