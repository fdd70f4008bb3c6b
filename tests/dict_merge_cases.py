"""Dicts merged and updated (``{**d, "c": c}``, ``d | e``, ``d |= e``, ``dict(d, c=c)``,
``d.update(...)``), for tests/test_dict_merges.py (symgrad reads their source)."""
import math
import numpy as np
DEFAULTS = {"lr": 0.1, "decay": 0.9}

def spread_then_set(params, c):
    p2 = {**params, "c": c}
    p2["a"] = p2["a"] * 2
    return sum(v ** 2 for v in p2.values()) + p2["a"] * p2["c"]

def overlap(a, b):
    m = {**a, **b}
    return m["x"] * m["y"] + m["z"] ** 2

def or_merge(p, c):
    m = p | {"c": c}
    n = {"c": c * 3.0} | p
    return m["a"] * m["c"] + n["c"] * n["a"]

def or_inplace_alias(p, c):
    q = dict(p)
    alias = q
    q |= {"a": c * q["a"], "d": c}
    return alias["a"] * alias["d"] + p["a"]

def dict_call_merge(p, c):
    m = dict(p, c=c)
    n = dict(**p, e=c * c)
    return m["a"] * m["c"] + n["e"] * n["b"]

def update_calls(p, c):
    q = p.copy()
    q.update({"a": q["a"] * c})
    q.update(b=q["b"] + c)
    return q["a"] * q["b"] + sum(q.values())

def state_loop(state, a):
    for _ in range(3):
        state = {**state, "x": state["x"] * a + state["v"]}
        state["v"] = state["v"] * 0.5 + math.sin(state["x"])
    return state["x"] + state["v"]

def with_defaults(lr, w):
    cfg = {**DEFAULTS, "lr": lr}
    for _ in range(2):
        w = w - cfg["lr"] * 2 * w * cfg["decay"]
    return w * w

def arrays_in_dict(params, x):
    p = {**params, "W": params["W"] * 2.0}
    h = np.tanh(p["W"] @ x + p["b"])
    return float(np.sum(h ** 2)) + float(np.sum(params["W"]))

def copy_is_not_alias(p):
    p2 = {**p}
    p2["a"] = 5.0
    return p["a"] * p2["a"] + p2["b"]

def order_of_keys(a, c):
    m = {"c": c, **a}
    ks = list(m.keys())
    return m[ks[0]] * 2.0 + m[ks[-1]] * 3.0

def merged_in_branch(p, c):
    if c > 0:
        m = {**p, "a": c}
    else:
        m = p | {"b": c}
    return m["a"] * m["b"]


def items_of_merge(p, c):
    total = 0.0
    for k, v in {**p, "c": c}.items():
        total += v * (2.0 if k == "c" else 1.0) * v
    return total


def kwargs_of_merge(p, c):
    return _model(**{**p, "b": p["b"] * c})


def _model(a, b):
    return a * b + math.exp(a - b)


def values_of_a_copy(params, c):
    q = params.copy()
    q["c"] = c
    return sum(v * v for v in q.values())
