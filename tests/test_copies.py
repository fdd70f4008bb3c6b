"""``copy.copy`` and ``copy.deepcopy`` (symgrad.lower_copy): a copy is a new list (dict,
array) of the same elements, so writes into it leave the original alone, and the
copy's adjoint goes back to the original's.  Before, both were library calls without a
rule: refused.  Checked in every mode against finite differences (second derivatives
against differences of the gradient), and the caller's lists are left as Python leaves
them."""

import copy

import numpy as np
import pytest

from fuzz_oracles import load
from numeric import assert_close, finite_diff

import symgrad
from symgrad.errors import SymgradError

SOURCE = '''
import copy

import numpy as np


def shallow_list(x, y):
    xs = [x, y]
    ys = copy.copy(xs)
    ys[0] = 2.0 * y
    return ys[0] * xs[0] + ys[1] * x


def copied_parameter(x, xs):
    xs = copy.copy(xs)              # (the caller's list is not changed)
    xs.append(x * x)
    xs[0] = xs[0] * x
    return sum(xs) * xs[1]


def deep_rows(x, y):
    rows = [[x, y], [y * y]]
    grid = copy.deepcopy(rows)
    grid[0][0] = 3.0
    grid[1].append(x)
    return grid[0][1] * rows[0][0] + sum(grid[1]) + len(rows[1])


def shallow_rows_share(x, y):
    rows = [[x, y], [y * y]]
    top = copy.copy(rows)
    top[0][1] = x * 4.0            # (the rows are shared: rows[0][1] changes too)
    top[1] = [1.0]
    return rows[0][1] * y + top[1][0] + rows[1][0]


def dict_of_lists(x, y):
    d = {"a": [x], "b": [y, x]}
    e = copy.deepcopy(d)
    e["b"][0] = 2.0
    f = copy.copy(d)
    f["a"] = [5.0]
    f["b"][1] = 7.0 * y
    return e["a"][0] * d["b"][0] + f["b"][1] * d["a"][0] + e["b"][0] + d["b"][1]


def tuple_with_a_list(x, y):
    t = (x, [y])
    u = copy.deepcopy(t)
    u[1][0] = 1.0
    return u[0] * t[1][0] + copy.copy(x) * 2.0


def deep_parameter(x, W):
    W = copy.deepcopy(W)            # (its kind is known only after: rows of numbers)
    W[0][0] = W[0][0] * x
    W[1].append(x * x)
    return sum(sum(r) for r in W) * W[0][1]


def array_copy(x, v):
    w = copy.copy(v)
    w[0] = x
    return float(np.sum(w * v)) + x * float(copy.deepcopy(v)[1])
'''

CASES = [("shallow_list", (0.5, 2.0)), ("copied_parameter", (0.5, [1.5, -2.0])),
         ("deep_rows", (0.5, 2.0)), ("shallow_rows_share", (0.5, 2.0)),
         ("dict_of_lists", (0.5, 2.0)), ("tuple_with_a_list", (0.5, 2.0))]


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_gradient_and_value(mod, name, args):
    f = getattr(mod, name)
    want = finite_diff(f, list(copy.deepcopy(args)))
    assert_close(list(symgrad.grad(f)(*copy.deepcopy(args))), want, what=name)
    value, g = symgrad.value_and_grad(f)(*copy.deepcopy(args))
    assert value == f(*copy.deepcopy(args))
    assert_close(list(g), want, what=name)


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_second_order(mod, name, args):
    f = getattr(mod, name)
    if isinstance(args[1], list):
        return                              # (a list argument: in test_gradient_and_value)
    h = symgrad.hessian(f)(*args)
    g = symgrad.grad(f)
    eps = 1e-5
    for i in range(2):
        up, dn = list(args), list(args)
        up[i] += eps
        dn[i] -= eps
        col = [(a - b) / (2 * eps) for a, b in zip(g(*up), g(*dn))]
        assert_close([row[i] for row in h], col, rtol=1e-5, atol=1e-6, what=name)
    tangent = symgrad.jvp(f, args, (1.0, 0.5))[1]
    assert tangent == pytest.approx(sum(a * t for a, t in zip(g(*args), (1.0, 0.5))))


def test_the_callers_list_is_left_alone(mod):
    xs = [1.5, -2.0]
    symgrad.value_and_grad(mod.copied_parameter)(0.5, xs)
    symgrad.hessian(mod.copied_parameter, wrt=0)(0.5, xs)
    assert xs == [1.5, -2.0]
    W = [[1.0, 2.0], [3.0]]
    symgrad.value_and_grad(mod.deep_parameter)(0.5, W)
    assert W == [[1.0, 2.0], [3.0]]


def test_a_parameter_deep_copied_before_its_kind_is_known(mod):
    W = [[1.0, 2.0], [3.0]]
    want = finite_diff(mod.deep_parameter, [0.5, copy.deepcopy(W)])
    assert_close(list(symgrad.grad(mod.deep_parameter)(0.5, W)), want)
    h = 1e-5
    g = symgrad.grad(mod.deep_parameter, wrt=0)
    assert symgrad.hessian(mod.deep_parameter, wrt=0)(0.5, W) == pytest.approx(
        (g(0.5 + h, copy.deepcopy(W)) - g(0.5 - h, copy.deepcopy(W))) / (2 * h), rel=1e-6)


def test_array_copy(mod):
    v = np.array([1.0, -2.0, 0.5])
    gx, gv = symgrad.grad(mod.array_copy)(0.5, v.copy())
    h = 1e-6
    assert gx == pytest.approx((mod.array_copy(0.5 + h, v.copy()) -
                                mod.array_copy(0.5 - h, v.copy())) / (2 * h), rel=1e-6)
    want = np.zeros(3)
    for k in range(3):
        up, dn = v.copy(), v.copy()
        up[k] += h
        dn[k] -= h
        want[k] = (mod.array_copy(0.5, up) - mod.array_copy(0.5, dn)) / (2 * h)
    assert np.allclose(gv, want, rtol=1e-6, atol=1e-8)


def test_copies_read_as_written(mod):
    src = symgrad.grad(mod.shallow_list).source
    assert "ys = xs[:]" in src
    src = symgrad.grad(mod.deep_rows).source.split("# Defined")[0]
    code = [ln for ln in src.splitlines() if not ln.strip().startswith("#")]
    assert any(ln.strip() in ("_list.append(item[:])",) or ln.strip().endswith("= item[:]")
               for ln in code), src         # (each row copied as written: item[:])
    assert not any("deepcopy" in ln for ln in code), src


def test_a_dict_of_mixed_kinds_is_refused():
    f = load('''
import copy


def mixed(x, y):
    d = {"a": x, "b": [y, x]}
    e = copy.deepcopy(d)
    return e["a"] * e["b"][0]
''').mixed
    with pytest.raises(SymgradError, match="deepcopy"):
        symgrad.grad(f)(0.5, 2.0)
