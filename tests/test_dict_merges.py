"""Dicts merged and updated: ``{**d, "c": c}``, ``d | e``, ``d |= e``, ``dict(d, c=c)``,
``dict(**d)``, ``d.update(e)``, ``d.update(k=v)``, and ``.values()`` of a copy.  Later
keys replace earlier ones, as Python does, so the gradient of a value overridden by a
merge is zero.  References: central differences, hand-derived values and
symgrad.check's engines."""
import copy
import math

import dict_merge_cases as D
import numpy as np
import pytest

import symgrad

P = {"a": 0.5, "b": 1.5}


def fd(f, args, i, h=1e-6):
    """Central differences of ``f`` in ``args[i]`` (a number, an array or a dict of them)."""
    def at(value):
        moved = copy.deepcopy(list(args))
        moved[i] = value
        return f(*moved)

    def of(value, put):
        if isinstance(value, dict):
            return {k: of(v, lambda nv, k=k: put({**value, k: nv})) for k, v in value.items()}
        if isinstance(value, np.ndarray):
            g = np.zeros_like(value)
            for idx in np.ndindex(value.shape):
                up, dn = value.copy(), value.copy()
                up[idx] += h
                dn[idx] -= h
                g[idx] = (at(put(up)) - at(put(dn))) / (2 * h)
            return g
        return (at(put(value + h)) - at(put(value - h))) / (2 * h)
    return of(args[i], lambda v: v)


def close(got, want):
    if isinstance(want, dict):
        assert set(got) == set(want)
        for k in want:
            close(got[k], want[k])
    else:
        assert np.allclose(got, want, rtol=1e-5, atol=1e-7), (got, want)


R = np.random.default_rng(0)
CASES = [
    (D.spread_then_set, (P, 0.3)),
    (D.overlap, ({"x": 0.5, "y": 2.0}, {"y": 0.7, "z": 1.1})),
    (D.or_merge, (P, 0.3)),
    (D.or_inplace_alias, (P, 0.3)),
    (D.dict_call_merge, (P, 0.3)),
    (D.update_calls, (P, 0.3)),
    (D.state_loop, ({"x": 0.2, "v": 0.1}, 0.9)),
    (D.with_defaults, (0.05, 1.2)),
    (D.arrays_in_dict, ({"W": R.normal(size=(2, 3)), "b": R.normal(size=2)},
                        R.normal(size=3))),
    (D.copy_is_not_alias, (P,)),
    (D.order_of_keys, (P, 0.3)),
    (D.merged_in_branch, (P, 0.3)),
    (D.merged_in_branch, (P, -0.3)),
    (D.items_of_merge, (P, 0.3)),
    (D.values_of_a_copy, (P, 0.3)),
]


@pytest.mark.parametrize(("f", "args"), CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_gradient_against_differences(f, args):
    wrt = list(range(len(args)))
    value, grads = symgrad.value_and_grad(f, wrt=wrt)(*copy.deepcopy(args))
    assert value == pytest.approx(f(*copy.deepcopy(args)))
    for i in wrt:
        close(grads[i], fd(f, args, i))
    assert symgrad.check(f, *copy.deepcopy(args)).ok
    assert symgrad.check(f, *copy.deepcopy(args), mode="jvp").ok


def test_later_keys_win():
    # {**a, **b}: y comes from b; a's y gets no gradient
    ga, gb = symgrad.grad(D.overlap, wrt=[0, 1])({"x": 0.5, "y": 2.0}, {"y": 0.7, "z": 1.1})
    assert ga == pytest.approx({"x": 0.7, "y": 0.0})
    assert gb == pytest.approx({"y": 0.5, "z": 2.2})
    # {"c": 3c} | p: p has no "c", so n["c"] = 3c; p | {"c": c}: c
    gp, gc = symgrad.grad(D.or_merge, wrt=[0, 1])(P, 0.3)
    assert gc == pytest.approx(P["a"] + 3 * P["a"])
    assert gp == pytest.approx({"a": 0.3 + 0.9, "b": 0.0})


def test_a_merge_copies():
    # p2 = {**p}; p2["a"] = 5.0 leaves p["a"] as it was
    assert symgrad.grad(D.copy_is_not_alias)(P) == pytest.approx({"a": 5.0, "b": 1.0})


def test_in_place_merge_seen_through_an_alias():
    # q |= {...} changes the dict alias names too: alias["a"] = c * a, alias["d"] = c
    c = 0.3
    gp, gc = symgrad.grad(D.or_inplace_alias, wrt=[0, 1])(P, c)
    assert gp == pytest.approx({"a": c * c + 1.0, "b": 0.0})
    assert gc == pytest.approx(2 * c * P["a"])


def test_defaults_from_a_module_level_dict_are_read_when_called():
    old = dict(D.DEFAULTS)
    g = symgrad.grad(D.with_defaults, wrt=[0, 1])
    try:
        first = g(0.05, 1.2)
        D.DEFAULTS["decay"] = 0.5
        again = g(0.05, 1.2)
        assert again == pytest.approx((fd(D.with_defaults, (0.05, 1.2), 0),
                                       fd(D.with_defaults, (0.05, 1.2), 1)))
        assert again != pytest.approx(first)
    finally:
        D.DEFAULTS.clear()
        D.DEFAULTS.update(old)


def test_merging_a_number_is_an_error():
    def bad(x):
        return {**x, "c": 1.0}["c"] * x
    with pytest.raises(symgrad.SymgradError):
        symgrad.grad(bad)(0.5)


def test_a_merge_spread_into_a_call_is_refused_by_name():
    # its keys are known only when the code runs: the call's parameters cannot be bound
    with pytest.raises(symgrad.SymgradError, match=r"\*\* argument of unknown keys"):
        symgrad.grad(D.kwargs_of_merge, wrt=[0, 1])(P, 0.3)
