"""symgrad.check with records as arguments: dicts, NamedTuples and dataclasses.

``grad`` differentiates with respect to them; ``check`` must then differentiate the same
numbers (one row per number, named by its path: ``d['w']``, ``p.b``, ``m.w[1]``), pass
the parts that hold no numbers (names, flags) as they are, and compare the generated
gradient with SymPy, the Value engine and finite differences.  The references are the
gradients derived by hand.
"""
import math

import check_records_cases as R
import numpy as np
import pytest

import symgrad
from symgrad.arguments import Attr, Key, at_path, is_numeric, leaves, map_leaves, with_leaf
from symgrad.check import DIFFER, PROVED
from test_check import restore_rules  # noqa: F401 - the fixture


def rows(report):
    return {row.name: row for row in report.rows}


def test_dict_with_a_name_and_a_nested_list():
    d = {"w": 0.5, "b": 0.3, "c": [1.0, 3.0], "name": "n"}
    r = symgrad.check(R.dict_poly, d, 2.0)
    assert r.ok, str(r)
    got = rows(r)
    # d/dw = x, d/db = 2 b c1, d/dc0 = 0, d/dc1 = b^2, d/dx = w + 1 (name == "n")
    want = {"d['w']": 2.0, "d['b']": 2 * 0.3 * 3.0, "d['c'][0]": 0.0, "d['c'][1]": 0.09,
            "x": 1.5}
    assert set(got) == set(want)
    for name, v in want.items():
        assert got[name].generated == pytest.approx(v, abs=1e-12)
        assert got[name].finite_diff == pytest.approx(v, abs=1e-6)
        assert got[name].value == pytest.approx(v, abs=1e-12)
        assert got[name].verdict == PROVED
    assert d == {"w": 0.5, "b": 0.3, "c": [1.0, 3.0], "name": "n"}   # not changed


def test_namedtuple_with_a_string_field():
    p = R.Layer(0.5, 0.1)
    r = symgrad.check(R.layer_out, p, 2.0)
    assert r.ok, str(r)
    d = 1 - math.tanh(0.5 * 2.0 + 0.1) ** 2
    got = rows(r)
    assert list(got) == ["p.w", "p.b", "x"]
    assert got["p.w"].generated == pytest.approx(d * 2.0)
    assert got["p.b"].generated == pytest.approx(d)
    assert got["x"].generated == pytest.approx(d * 0.5)
    assert {row.verdict for row in r.rows} == {PROVED}


def test_frozen_dataclass_with_a_list_field_and_a_tag():
    m = R.Model([0.5, 0.3], 0.1, "ab")
    r = symgrad.check(R.model_out, m, 2.0)
    assert r.ok, str(r)
    t = math.tanh(0.5 * 2.0 + 0.3 * 0.1)
    d = 2 * (1 - t * t)                       # (len(tag) == 2)
    got = rows(r)
    assert got["m.w[0]"].generated == pytest.approx(d * 2.0)
    assert got["m.w[1]"].generated == pytest.approx(d * 0.1)
    assert got["m.b"].generated == pytest.approx(d * 0.3)
    assert got["x"].generated == pytest.approx(d * 0.5)


def test_plain_dataclass_and_nested_dicts():
    r = symgrad.check(R.mutable_affine, R.Mutable(1.5, -2.0), 3.0)
    assert r.ok and rows(r)["p.scale"].generated == pytest.approx(9.0)
    assert rows(r)["p.shift"].generated == pytest.approx(1.0)
    d = {"inner": {"a": 1.2, "b": 0.4}, "k": 2.0}
    r = symgrad.check(R.nested, d)
    assert r.ok, str(r)
    got = rows(r)
    assert got["d['inner']['a']"].generated == pytest.approx(math.exp(0.4) + 2.0)
    assert got["d['inner']['b']"].generated == pytest.approx(1.2 * math.exp(0.4))
    assert got["d['k']"].generated == pytest.approx(1.2)


def test_arrays_inside_a_dict():
    W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])
    x = np.array([1.0, 2.0, 3.0])
    r = symgrad.check(R.arrays_in_dict, {"W": W, "x": x, "s": 2.0})
    assert r.ok, str(r)
    gen = symgrad.grad(R.arrays_in_dict)({"W": W, "x": x, "s": 2.0})
    np.testing.assert_allclose(gen["W"], 2.0 * np.outer(np.ones(2), x))
    np.testing.assert_allclose(gen["x"], 2.0 * W.sum(axis=0))
    assert gen["s"] == pytest.approx(np.sum(W @ x))


def test_a_wrong_rule_is_caught_inside_a_dict(restore_rules):  # noqa: F811
    import check_cases as C
    symgrad.register_rule("square", C.square, [lambda v, out: 3 * v],
                          sympy=lambda v: v ** 2, callables=[C.square])
    r = symgrad.check(R.squares_dict, {"u": 1.5, "v": 2.0})
    assert not r.ok
    got = rows(r)
    assert got["d['u']"].verdict == DIFFER and got["d['u']"].finite_diff == pytest.approx(3.0)
    assert got["d['v']"].verdict == PROVED


def test_jvp_and_second_order_modes_with_records():
    """Second order of records is checked through the function of their leaves (see
    tests/test_second_order_records.py); before, it was refused by name."""
    p = R.Layer(0.5, 0.1)
    r = symgrad.check(R.layer_out, p, 2.0, mode="jvp")
    assert r.ok, str(r)
    r = symgrad.check(R.layer_out, p, 2.0, mode="hvp")
    assert r.ok, str(r)
    r = symgrad.check(R.nested, {"inner": {"a": 1.2, "b": 0.4}, "k": 2.0}, mode="hessian")
    assert r.ok and len(r.rows) == 9, str(r)


def test_a_record_of_names_alone_is_not_differentiated():
    assert not is_numeric({"name": "a", "flag": True})
    assert is_numeric({"name": "a", "w": [1.0, 2]})
    assert not is_numeric({"w": [1.0, "x"]})       # a list must hold numbers only


def test_paths_read_and_rebuild_every_container_type():
    p = R.Layer(1.0, 2.0)
    found = list(leaves({"p": p, "xs": (3.0, [4.0])}))
    assert found == [((Key("p"), Attr("w")), 1.0), ((Key("p"), Attr("b")), 2.0),
                     ((Key("xs"), 0), 3.0), ((Key("xs"), 1, 0), 4.0)]
    doubled = map_leaves({"p": p, "xs": (3.0, [4.0])}, lambda path, v: 2 * v)
    assert doubled == {"p": R.Layer(2.0, 4.0), "xs": (6.0, [8.0])}
    assert type(doubled["p"]) is R.Layer and doubled["p"].name == "layer"
    m = R.Model([1.0, 2.0], 3.0)
    m2 = with_leaf(m, (Attr("w"), 1), 9.0)
    assert m2 == R.Model([1.0, 9.0], 3.0) and m == R.Model([1.0, 2.0], 3.0)
    assert at_path({"a": [R.Layer(0.0, 5.0)]}, (Key("a"), 0, Attr("b"))) == 5.0
