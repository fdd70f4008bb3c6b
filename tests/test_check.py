"""symgrad.check / symgrad.symbolic and the retargeting behind them.

References are independent of symgrad: the seeds' hand-derived gradients, derivatives
written out by hand as SymPy expressions, and plain arithmetic.
"""
import doctest
import functools
import importlib
import io
import copy
import math
import sys
import threading
import time

import cases
import check_cases as C
import pytest
import sympy

import symgrad
from symgrad import Value, api, grad, prove, rules
from symgrad.budget import Budget
from symgrad.check import (
    AT_POINT,
    DIFFER,
    FD_RTOL,
    PROVED,
    Retargeter,
    SymbolicError,
    Traced,
    retarget,
)
from symgrad.report import CONSTANT

check_module = importlib.import_module("symgrad.check")
budget_module = importlib.import_module("symgrad.budget")
NEURON_POINT = (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)


@pytest.fixture
def restore_rules():
    """Register rules freely in a test: the rule table and callables come back afterwards.
    Gradients are cached per function, so the cache is emptied too (a gradient generated
    under a test's rule must not outlive it)."""
    saved_rules, saved_callables = dict(rules.RULES), dict(rules._CALLABLES)
    api._cache.clear()
    yield
    api._cache.clear()
    rules.RULES.clear()
    rules.RULES.update(saved_rules)
    rules._CALLABLES.clear()
    rules._CALLABLES.update(saved_callables)
    rules._GENERIC_CACHE.clear()


def real(names):
    return sympy.symbols(names, real=True)


# --------------------------------------------------------------------------- the seeds

def test_seed_neuron_report():
    r = symgrad.check(C.neuron, *NEURON_POINT)
    assert r.ok and not r.unavailable
    assert [row.name for row in r.rows] == ["x1", "x2", "w1", "w2", "b"]
    # the seeds' hand derivation: do/dn = 1 - o**2 = 0.5
    want = {"x1": 0.5 * -3.0, "x2": 0.5 * 1.0, "w1": 0.5 * 2.0, "w2": 0.5 * 0.0, "b": 0.5}
    for row in r.rows:
        for got in (row.generated, row.sympy, row.value, row.finite_diff):
            assert got == pytest.approx(want[row.name], abs=1e-9), row
        assert row.agree and row.verdict == PROVED and row.differing == ()
    assert r.value == pytest.approx(math.sqrt(0.5), abs=1e-12)
    assert r.verdicts == dict.fromkeys(want, PROVED)
    text = str(r)
    for engine in ("symgrad (generated)", "SymPy (diff)", "Value engine", "finite diff",
                   "proved equal", "OK: all four engines agree"):
        assert engine in text
    assert text.splitlines()[0] == ("check neuron(x1=2.0, x2=0.0, w1=-3.0, w2=1.0, "
                                    "b=6.881373587019543) = 0.7071067811865477")
    html = r._repr_html_()
    assert "<table>" in html and html.count("<tr>") == 6 and "Value engine" in html


@pytest.mark.parametrize("fn,args,want", [
    (cases.seed_l, (5.0, 3.0, 10.0), [10.0, 10.0, 8.0]),            # L = (a + b) * d
    (cases.seed_poly, (2.0, 3.0, 4.0), [4.0, 27.0, -1.0]),          # a**2 + b**3 - c
    (cases.seed_reuse, (1.0, 2.0), [2.0, 0.0]),                     # a - b + a + b
    (cases.seed_neuron_exp, NEURON_POINT, [-1.5, 0.5, 1.0, 0.0, 0.5]),  # tanh through exp
])
def test_seed_examples(fn, args, want):
    r = symgrad.check(fn, *args)
    assert r.ok, str(r)
    assert [row.generated for row in r.rows] == pytest.approx(want, abs=1e-9)
    assert [row.sympy for row in r.rows] == pytest.approx(want, abs=1e-12)
    assert [row.value for row in r.rows] == pytest.approx(want, abs=1e-9)
    assert [row.finite_diff for row in r.rows] == pytest.approx(want, abs=1e-7)
    assert set(r.verdicts.values()) == {PROVED}


# --------------------------------------------------------------------------- wrong rules

def test_wrong_custom_rule_is_caught_on_the_right_parameter(restore_rules):
    # d/dv v*v is 2v; this rule says 3v.  The generated code and the Value engine read the
    # rule table and agree with each other; SymPy and finite differences do not.
    symgrad.register_rule("square", C.square, [lambda v, out: 3 * v],
                          sympy=lambda v: v ** 2, callables=[C.square])
    r = symgrad.check(C.uses_square, 1.5, 2.0)    # square(x) * y + x
    assert not r.ok
    x, y = r.rows
    assert x.generated == pytest.approx(3 * 1.5 * 2.0 + 1)
    assert x.sympy == pytest.approx(2 * 1.5 * 2.0 + 1) and x.finite_diff == pytest.approx(7.0)
    assert x.value == pytest.approx(x.generated)
    assert not x.agree and x.verdict == DIFFER and set(x.differing) == {"sympy", "fd"}
    assert y.agree and y.verdict == PROVED and y.generated == pytest.approx(1.5 ** 2)
    assert r.verdicts == {"x": DIFFER, "y": PROVED}
    assert "MISMATCH in x:" in str(r) and "7 *" in str(r)


def test_wrong_rule_without_sympy_form_is_traced_through_its_forward(restore_rules):
    # no sympy=: SymPy runs softplus' own body (log1p(exp(v))), so it still checks the rule
    symgrad.register_rule("softplus", C.softplus,
                          [lambda v, out: 1.01 * (1 - symgrad.exp(-out))], callables=[C.softplus])
    r = symgrad.check(C.uses_softplus, 0.5, 2.0)  # softplus(x * y) + y
    sig = 1 / (1 + math.exp(-1.0))
    assert [row.sympy for row in r.rows] == pytest.approx([sig * 2.0, sig * 0.5 + 1])
    assert not r.ok and {row.verdict for row in r.rows} == {DIFFER}


def test_right_rule_without_sympy_form_is_proved(restore_rules):
    symgrad.register_rule("softplus", C.softplus, [lambda v, out: 1 - symgrad.exp(-out)],
                          callables=[C.softplus])
    r = symgrad.check(C.uses_softplus, 0.5, 2.0)
    assert r.ok, str(r)
    assert set(r.verdicts.values()) <= {PROVED, AT_POINT}


def test_function_sympy_cannot_represent_leaves_the_other_engines(restore_rules):
    symgrad.register_rule("erfc", math.erfc,
                          [lambda x, out: -2 / math.sqrt(math.pi) * symgrad.exp(-x * x)],
                          callables=[math.erfc])
    r = symgrad.check(C.uses_erfc, 0.5, 2.0)      # math.erfc(x) * y
    assert r.ok and list(r.unavailable) == ["sympy"]
    why = r.unavailable["sympy"]
    assert "'erfc' has no SymPy form" in why and "check_cases.py:" in why and "math.erfc" in why
    x, y = r.rows
    want_x = -2 / math.sqrt(math.pi) * math.exp(-0.25) * 2.0
    assert x.generated == pytest.approx(want_x) and x.value == pytest.approx(want_x)
    assert x.finite_diff == pytest.approx(want_x) and x.sympy is None
    assert y.generated == pytest.approx(math.erfc(0.5))
    assert "SymPy (diff) unavailable" in str(r) and "3 available engines agree" in str(r)
    with pytest.raises(SymbolicError, match="'erfc' has no SymPy form"):
        symgrad.symbolic(C.uses_erfc)


# --------------------------------------------------------------------------- proofs

STRAIGHT_LINE = [
    (cases.seed_neuron, NEURON_POINT), (cases.seed_neuron_exp, NEURON_POINT),
    (cases.reassign, (0.7, 1.3)), (cases.augassign, (1.2, 0.8)),
    (cases.tuple_unpack, (1.5, 2.5)), (cases.constants, (1.3,)), (cases.unary, (0.4, 1.9)),
    (cases.divisions, (1.4, 0.6)), (cases.powers, (1.3, 0.7)), (cases.floor_mod, (5.3, 1.7)),
    (cases.all_numpy, (1.3,)), (cases.builtins_calls, (0.3, 1.1)),
    (cases.imported_names, (0.9,)), (cases.symgrad_funcs, (0.8, 1.7)),
    (C.fractions, (0.7, 1.3)), (cases.calls, (0.6, 0.9)),
]


@pytest.mark.parametrize("fn,args", STRAIGHT_LINE, ids=[f.__name__ for f, _ in STRAIGHT_LINE])
def test_straight_line_code_is_proved_equal(fn, args):
    r = symgrad.check(fn, *args)
    assert r.ok and not r.unavailable, str(r)
    assert set(r.verdicts.values()) == {PROVED}, str(r)


def test_symbolic_matches_derivatives_written_by_hand():
    x1, x2, w1, w2, b = real("x1 x2 w1 w2 b")
    n = x1 * w1 + x2 * w2 + b
    s = symgrad.symbolic(C.neuron)
    assert sympy.simplify(s.f - sympy.tanh(n)) == 0
    slope = 1 - sympy.tanh(n) ** 2
    for name, inner in (("x1", w1), ("x2", w2), ("w1", x1), ("w2", x2), ("b", 1)):
        assert sympy.simplify(s.diff[name] - inner * slope) == 0
        assert sympy.simplify(s.generated[name] - inner * slope) == 0
        assert s.proved[name]
    text = str(s)
    assert text.splitlines()[0] == "neuron(x1, x2, w1, w2, b) = tanh(b + w1*x1 + w2*x2)"
    assert text.count("proved equal") == 5
    latex = s.latex()
    assert latex.startswith("\\begin{aligned}") and "\\tanh" in latex
    assert "\\frac{\\partial \\operatorname{neuron}}{\\partial w_{1}}" in latex
    assert latex.splitlines()[1].startswith("\\operatorname{neuron} &= \\tanh")


def test_notebook_renderings():
    latex = symgrad.symbolic(C.neuron)._repr_latex_()     # LaTeX in Jupyter
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    assert "\n\\operatorname{neuron} &= \\tanh" in latex
    r = symgrad.check(C.rk4, 0.5, 0.3, wrt=["y0", "k"], timeout=0.5, engines=["sympy", "fd"])
    html = r._repr_html_()                                  # HTML table in Jupyter
    assert html.count("<tr>") == 3 and html.count(">timed out</td>") == 2
    assert "SymPy (diff) timed out after 0.5 s" in html and "<th>Value engine</th>" not in html


def test_symbolic_wrt_and_exact_constants():
    x, y = real("x y")
    s = symgrad.symbolic(C.fractions, wrt="y")  # x/3 + 0.1*x*y + erf(x) + log(y, 2) + sqrt(xy)
    assert list(s.diff) == ["y"] and s.proved["y"]
    want = x / 10 + 1 / (y * sympy.log(2)) + x / (2 * sympy.sqrt(x * y))
    assert sympy.simplify(s.diff["y"] - want) == 0
    s = symgrad.symbolic(C.fractions, wrt="x")
    assert sympy.simplify(s.generated["x"] - (sympy.Rational(1, 3) + y / 10
                                              + 2 / sympy.sqrt(sympy.pi) * sympy.exp(-x * x)
                                              + y / (2 * sympy.sqrt(x * y)))) == 0


def test_floor_and_mod_have_derivative_zero_and_one():
    x, y = real("x y")
    s = symgrad.symbolic(cases.floor_mod)   # x // y + x % y + (x * 3) % 2 + y
    assert s.diff == {"x": 4, "y": 1 - sympy.floor(x / y)} and all(s.proved.values())


def test_second_derivative_is_checked_and_proved():
    d1 = grad(cases.imported_names)             # d/dx exp(x) sin(x)
    r = symgrad.check(d1, 0.9)
    want = 2 * math.exp(0.9) * math.cos(0.9)  # (exp sin)'' = 2 exp cos
    assert r.ok and r.rows[0].generated == pytest.approx(want) and r.verdicts["x"] == PROVED


# --------------------------------------------------------------------------- paths

@pytest.mark.parametrize("point,expected", [
    ((1.5, 0.7), lambda x, y: x * y * y + x),                      # x > y; max is x
    ((0.2, 0.7), lambda x, y: (sympy.exp(x) - y) * y + y),         # else; max is y
    ((0.2, -0.7), lambda x, y: -x * y * y + sympy.Rational(1, 2)),   # |y| = -y; max is 0.5
    ((-1.0, -0.7), lambda x, y: (sympy.exp(x) - y) * -y + sympy.Rational(1, 2)),
])
def test_sympy_and_value_follow_the_path_taken(point, expected):
    x, y = real("x y")
    s = symgrad.symbolic(C.branchy, *point)
    assert sympy.simplify(s.f - expected(x, y)) == 0
    for name, sym in (("x", x), ("y", y)):
        assert sympy.simplify(s.diff[name] - sympy.diff(expected(x, y), sym)) == 0
    r = symgrad.check(C.branchy, *point)
    assert r.ok and set(r.verdicts.values()) == {PROVED}, str(r)
    exact = [float(sympy.diff(expected(x, y), v).subs({x: point[0], y: point[1]}))
             for v in (x, y)]
    assert [row.value for row in r.rows] == pytest.approx(exact)


def grad_inactive(fn):
    return symgrad.grad(fn).inactive


def test_loops_follow_the_trip_count():
    x = real("x")
    s = symgrad.symbolic(C.loop_power, 0.7, 4)     # sum of x**k / k, k = 1..4
    assert list(s.diff) == ["x"]      # n is a count: inactive in the gradient, held constant
    assert grad_inactive(C.loop_power) == ("n",)
    assert sympy.expand(s.f - sum(x ** k / k for k in range(1, 5))) == 0
    r = symgrad.check(C.loop_power, 0.7, 4, wrt=["x"])
    assert r.wrt == ("x",) and r.ok
    assert r.rows[0].sympy == pytest.approx(sum(0.7 ** (k - 1) for k in range(1, 5)))


def test_without_a_point_a_branch_asks_for_one():
    with pytest.raises(SymbolicError, match=r"symbolic\(branchy\) needs a point: the path "
                       r"depends on the value of x \(compared: > y\) \(at check_cases.py:\d+: "
                       r"if x > y:\); pass one value per parameter, symbolic\(branchy, x, y\)"):
        symgrad.symbolic(C.branchy)


def test_without_a_point_a_list_parameter_asks_for_one():
    # was: "object of type 'Traced' has no len()"
    with pytest.raises(SymbolicError) as info:
        symgrad.symbolic(C.with_helpers)          # for x in xs: ...
    msg = str(info.value)
    assert msg.startswith("symbolic(with_helpers) needs a point: xs is used as a list")
    assert "check_cases.py:" in msg and "for x in xs:" in msg
    assert "symbolic(with_helpers, xs, c)" in msg and "Traced" not in msg
    with pytest.raises(SymbolicError, match=r"x is used as a list .*range\(len\(x\)\)"):
        symgrad.symbolic(cases.loop_list)         # range(len(x)), x[i]
    s = symgrad.symbolic(C.with_helpers, [0.3, -0.4], 1.2)   # with a point it works
    assert list(s.diff) == ["xs[0]", "xs[1]", "c"] and all(s.proved.values())


def test_generated_branch_without_a_point_is_a_note():
    s = symgrad.symbolic(cases.powers)     # x ** y: the generated d/dy branches on x > 0
    assert s.generated is None and "needs a point" in s.note and "d/dy" in str(s)
    s = symgrad.symbolic(cases.powers, 1.3, 0.7)
    assert all(s.proved.values())


# --------------------------------------------------------------------------- lists

def test_list_arguments_get_one_row_per_number():
    r = symgrad.check(C.with_helpers, [0.3, -0.4], 1.2)
    assert [row.name for row in r.rows] == ["xs[0]", "xs[1]", "c"]
    assert [row.param for row in r.rows] == ["xs", "xs", "c"]
    assert r.ok and set(r.verdicts.values()) == {PROVED}, str(r)
    r = symgrad.check(cases.nested_lists, [[0.1, 0.2], [0.3, -0.4]], [1.0, 2.0])
    assert [row.name for row in r.rows][:2] == ["W[0][0]", "W[0][1]"] and len(r.rows) == 6
    assert r.ok, str(r)
    # d/dW[j][i] sum_j tanh(W[j] . x) = (1 - tanh(a_j)^2) x[i]
    a0 = 0.1 * 1.0 + 0.2 * 2.0
    assert r.rows[1].sympy == pytest.approx((1 - math.tanh(a0) ** 2) * 2.0)


def test_list_symbols_and_tuple_arguments():
    s = symgrad.symbolic(cases.loop_list, [1.0, 2.0], [0.5, -0.3], 0.1)
    assert list(s.diff) == ["x[0]", "x[1]", "w[0]", "w[1]", "b"]
    assert str(s.symbols["w[1]"]) == "w_1" and all(s.proved.values())
    r = symgrad.check(cases.tuple_argument, (1.5, 2.0), 0.5)
    assert [row.name for row in r.rows] == ["p[0]", "p[1]", "q"] and r.ok


# --------------------------------------------------------------------------- arguments

def test_an_int_is_a_number_like_a_float():
    r = symgrad.check(cases.seed_l, 5, 3, 10)            # L = (a + b) * d
    assert r.ok and r.wrt == ("a", "b", "d") and r.args == (5, 3, 10)   # ints stay ints
    assert [row.generated for row in r.rows] == [10.0, 10.0, 8.0]       # by hand
    floats = symgrad.check(cases.seed_l, 5.0, 3.0, 10.0)
    for row, ref in zip(r.rows, floats.rows):
        assert (row.generated, row.sympy, row.value, row.finite_diff) == \
            (ref.generated, ref.sympy, ref.value, ref.finite_diff)
    assert symgrad.check(cases.seed_l, 5.0, 3, 10.0, wrt=["a", "d"]).wrt == ("a", "d")


def test_an_int_also_used_as_a_count_is_perturbed_where_it_can_be():
    # poly_count(x, n) = n * sum_{i<n} x**i: n is a count *and* a factor, so it is active
    r = symgrad.check(C.poly_count, 0.7, 4)
    x, n = r.rows
    s = sum(0.7 ** i for i in range(4))
    assert x.generated == pytest.approx(4 * sum(i * 0.7 ** (i - 1) for i in range(1, 4)))
    assert n.generated == pytest.approx(s) and n.sympy == pytest.approx(s)   # d/dn (n s) = s
    assert x.value == pytest.approx(x.generated) and x.finite_diff == pytest.approx(x.generated)
    why = "n is used as an integer at check_cases.py:80: for i in range(n):"
    assert n.finite_diff is None and n.missing["fd"] == why
    assert n.value is None and n.missing["value"] == why   # range(Value) refuses, as FD
    assert r.ok, str(r)
    text = str(r)
    assert f"finite diff for n: unavailable: {why}" in text
    assert text.splitlines()[-1].startswith("OK: all four engines agree where they apply")
    assert text.splitlines()[-3].split()[3:5] == ["unavailable", "unavailable"]


def test_an_index_only_int_is_held_constant():
    r = symgrad.check(C.pick, [1.5, 2.0, 3.0], 2)        # xs[i] * xs[i - 1]
    assert symgrad.grad(C.pick).inactive == ("i",)       # an index: no derivative path
    assert [row.generated for row in r.rows] == [0.0, 3.0, 2.0, 0.0]
    assert r.rows[3].constant and r.rows[3].finite_diff is None
    assert "constant" in r.rows[3].verdict
    assert r.ok, str(r)


def _declare_inactive(monkeypatch, names):
    """Make check see ``GradFunction.inactive`` (the core's list of parameters used only as
    counts, indices or conditions) as ``names``."""
    real = check_module.grad

    def grad_with_inactive(f, wrt=None):
        gf = real(f, wrt=wrt)
        monkeypatch.setattr(gf, "inactive", tuple(names), raising=False)
        return gf
    monkeypatch.setattr(check_module, "grad", grad_with_inactive)


def test_an_inactive_parameter_is_held_constant(monkeypatch):
    _declare_inactive(monkeypatch, ["n"])
    r = symgrad.check(C.loop_power, 0.7, 4)       # n only a count: never perturbed
    assert r.constant == ("n",) and r.ok, str(r)
    x, n = r.rows
    assert x.finite_diff == pytest.approx(sum(0.7 ** (k - 1) for k in range(1, 5)))
    assert n.constant and n.generated == 0.0 and n.verdict == CONSTANT
    assert (n.sympy, n.value, n.finite_diff, n.missing) == (None, None, None, {})
    text = str(r)
    assert "held constant: n" in text and "unavailable" not in text
    assert text.splitlines()[-3].split()[:5] == ["n", "0", "-", "-", "-"]


def test_an_inactive_parameter_must_have_derivative_exactly_zero(monkeypatch):
    _declare_inactive(monkeypatch, ["n"])      # a wrong declaration: n is also a factor
    r = symgrad.check(C.poly_count, 0.7, 4)
    n = r.rows[1]
    assert not r.ok and not n.agree and n.differing == ("generated",)
    assert n.generated == pytest.approx(sum(0.7 ** i for i in range(4)))
    assert "MISMATCH in n:" in str(r) and "constant's generated derivative that is not 0" \
        in str(r)


def test_default_arguments_are_filled_in_as_grad_does():
    r = symgrad.check(C.with_default, 3.0)           # x * x * k, k = 2.5
    assert r.ok and r.args == (3.0, 2.5) and r.wrt == ("x", "k")
    assert [row.generated for row in r.rows] == [2 * 3.0 * 2.5, 9.0]
    assert [row.generated for row in r.rows] == list(grad(C.with_default)(3.0))
    assert symgrad.check(C.with_default, 3.0, 4.0).rows[0].sympy == 24.0
    with pytest.raises(symgrad.SymgradError,
                       match=r"with_default takes 1 to 2 arguments \(x, k=2.5\), got 3"):
        symgrad.check(C.with_default, 1.0, 2.0, 3.0)
    with pytest.raises(symgrad.SymgradError, match=r"takes 3 arguments \(a, b, d\), got 2"):
        symgrad.check(cases.seed_l, 5.0, 3.0)


def test_arguments_that_are_not_numbers():
    np = pytest.importorskip("numpy")
    with pytest.raises(symgrad.SymgradError, match=r"np_sines returned an array of shape "
                       r"\(2,\) at the point, not a number: .*np.sum"):
        symgrad.check(C.np_sines, np.array([0.1, 0.2]))   # arrays are fine, not as results
    assert symgrad.check(C.np_sines, np.float64(0.3)).ok       # a numpy scalar is a number
    with pytest.raises(symgrad.SymgradError, match="wrt: argument d of seed_l is str"):
        symgrad.check(cases.seed_l, 1.0, 2.0, "3", wrt=["a", "d"])
    with pytest.raises(symgrad.SymgradError, match="wrt='z': seed_l has no such parameter"):
        symgrad.check(cases.seed_l, 1.0, 2.0, 3.0, wrt="z")
    r = symgrad.check(C.loop_power, 0.7, True)  # a flag is passed as it is, not differentiated
    assert r.wrt == ("x",) and r.ok
    with pytest.raises(symgrad.SymgradError, match=r"loop_power raised TypeError at the point: "
                       r".*\(at check_cases.py:61: for i in range\(n\):\); .*pass 4, not 4.0"):
        symgrad.check(C.loop_power, 0.7, 4.0)     # f itself fails at the point


# --------------------------------------------------------------------------- engines and time

def test_engines_can_be_chosen(monkeypatch):
    def no_sympy(*args, **kwargs):
        raise AssertionError("SymPy was run")
    monkeypatch.setattr(check_module, "trace", no_sympy)
    r = symgrad.check(C.neuron, *NEURON_POINT, engines=("value", "fd"))
    assert r.ok and r.engines == ("value", "fd") and not r.unavailable
    assert all(row.sympy is None and row.value is not None for row in r.rows)
    text = str(r)
    assert "SymPy" not in text and "the 3 available engines agree" in text
    assert symgrad.check(C.neuron, *NEURON_POINT, engines="fd").engines == ("fd",)
    for bad, msg in ((["torch"], "unknown engine 'torch'"), ([], "name at least one engine")):
        with pytest.raises(symgrad.SymgradError, match=msg + r".*'sympy', 'value', 'fd'"):
            symgrad.check(C.neuron, *NEURON_POINT, engines=bad)


def _rk4_by_hand(y0, k):
    """Independent reference: central differences with a small step."""
    h = 1e-6
    return ((C.rk4(y0 + h, k) - C.rk4(y0 - h, k)) / (2 * h),
            (C.rk4(y0, k + h) - C.rk4(y0, k - h)) / (2 * h))


def test_a_slow_engine_times_out_and_the_others_decide():
    # SymPy on a 50-step RK4 takes minutes (sympy.diff of the unrolled expression)
    threads = threading.active_count()
    start = time.monotonic()
    r = symgrad.check(C.rk4, 0.5, 0.3, wrt=["y0", "k"], timeout=1.0)
    elapsed = time.monotonic() - start
    assert elapsed < 6, elapsed
    assert r.timed_out == ("sympy",) and r.unavailable["sympy"].startswith("timed out after 1 s")
    assert r.ok, str(r)
    for row, want in zip(r.rows, _rk4_by_hand(0.5, 0.3)):
        assert row.sympy is None and row.generated == pytest.approx(want, rel=1e-6)
        assert row.value == pytest.approx(row.generated, rel=1e-9)
    lines = str(r).splitlines()
    assert "  SymPy (diff) timed out after 1 s (timeout=1)" in lines
    assert lines[5].split()[2:4] == ["timed", "out"] and "SymPy timed out" in lines[5]
    assert lines[-1].startswith("OK: the 3 available engines agree; SymPy (diff) timed out")
    time.sleep(0.2)
    assert threading.active_count() == threads     # nothing left running


def test_a_report_where_no_engine_finished_is_not_ok():
    r = symgrad.check(C.rk4, 0.5, 0.3, wrt=["y0", "k"], timeout=0.3, engines=["sympy"])
    assert r.timed_out == ("sympy",) and not r.ok and not any(row.checked for row in r.rows)
    assert str(r).splitlines()[-1].startswith("NOT CHECKED: no engine gave a derivative of "
                                              "y0, k")
    with pytest.raises(SymbolicError, match=r"SymPy ran out of time: building rk4 .* 0.3 s"):
        symgrad.symbolic(C.rk4, 0.5, 0.3, wrt=["y0", "k"], timeout=0.3)
    for bad in (0, -1.0, "5", True):
        with pytest.raises(symgrad.SymgradError, match="timeout=.*give a number of seconds"):
            symgrad.check(C.neuron, *NEURON_POINT, timeout=bad)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_shown_on_a_terminal_only(monkeypatch, capsys):
    symgrad.check(C.rk4, 0.5, 0.3, wrt=["y0", "k"], timeout=1.2)
    assert capsys.readouterr().err == ""                  # not a terminal: silent
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    symgrad.check(C.rk4, 0.5, 0.3, wrt=["y0", "k"], timeout=1.2)
    shown = term.getvalue()
    assert "\r\x1b[Kcheck: SymPy: f on symbols ... 1 s" in shown or \
        "\r\x1b[Kcheck: SymPy diff 1/2 ... 1 s" in shown, shown
    assert shown.endswith("\r\x1b[K")                      # the line is erased at the end


def test_budget_stops_uncooperative_work_and_leaves_nothing_running():
    def spin():
        n = 0
        while True:
            try:
                n = max(n, 0) + 1
            except Exception:  # noqa: BLE001 - code that swallows errors is still stopped
                n -= 1
    threads = threading.active_count()
    start = time.monotonic()
    b = Budget(0.2)
    assert b.run(spin) is None and b.timed_out
    assert time.monotonic() - start < 1.5 and threading.active_count() == threads
    outer, inner = Budget(0.6), Budget(0.1)
    log = []

    def nested():
        log.append(inner.run(spin))      # the inner budget runs out; the outer goes on
        log.append("after inner")
        spin()
    assert outer.run(nested) is None and outer.timed_out and inner.timed_out
    assert log == [None, "after inner"]
    assert Budget(5.0).run(lambda: 42) == 42
    time.sleep(0.2)                      # no stray timeout arrives later
    assert threading.active_count() == threads


def test_a_timeout_landing_as_the_work_returns_leaves_no_watchdog_behind():
    # One long C call outlives the budget, so the timeout lands on the first bytecode after
    # it (on Python 3.13: the entry of the budget's own clean-up); CI once saw the watchdog
    # then raise the timeout into pytest itself, forever.
    def long_c_call():
        return functools.partial(sum, range(3 * 10**7))
    b = Budget(0.01)
    assert b.run(long_c_call()) is None and b.timed_out
    outer, inner = Budget(0.01), Budget(30.0)   # the outer's timeout lands in the inner's
    assert outer.run(lambda: inner.run(long_c_call())) is None and outer.timed_out
    assert getattr(budget_module._local, "dog", None) is None
    time.sleep(0.2)                             # no stray timeout arrives later


def test_traced_arithmetic_checks_the_deadline_itself(monkeypatch):
    # without the watchdog (as where PyThreadState_SetAsyncExc does not exist), the Traced
    # numbers' own deadline checks stop a runaway symbolic computation
    monkeypatch.setattr(budget_module, "_set_async_exc", lambda thread_id, exc: None)
    x = Traced(sympy.Symbol("x"), 0.5)

    def grow():
        y = x
        while True:
            y = y * 0.5 + x
    start = time.monotonic()
    b = Budget(0.2)
    assert b.run(grow) is None and b.timed_out and time.monotonic() - start < 1.5


def test_simplification_is_capped_in_time():
    start = time.monotonic()
    def slow():
        while True:
            sympy.expand((sympy.Symbol("x") + 1) ** 30)
    assert prove.capped(slow, 0.3) is None
    assert time.monotonic() - start < 2


def test_tolerances_are_reported():
    r = symgrad.check(cases.seed_l, 5.0, 3.0, 10.0, rtol=1e-3, atol=1e-4)
    assert (r.rtol, r.atol, r.fd_rtol) == (1e-3, 1e-4, 1e-3)
    assert symgrad.check(cases.seed_l, 5.0, 3.0, 10.0).fd_rtol == FD_RTOL
    assert "finite differences rtol 1e-05" in str(symgrad.check(cases.seed_l, 5.0, 3.0, 10.0))


def test_steep_function_finite_differences_pick_a_small_step():
    r = symgrad.check(C.overflow, 0.5)            # exp(1000 x)
    assert r.ok, str(r)
    assert r.rows[0].finite_diff == pytest.approx(1000 * math.exp(500.0), rel=1e-7)


# --------------------------------------------------------------------------- retargeting

def test_retargeted_copy_shares_code_and_runs_on_values():
    f = retarget(C.branchy)
    assert f.__code__ is C.branchy.__code__ and f is not C.branchy
    x, y = Value(1.5), Value(0.7)
    out = f(x, y)                                  # x*y*|y| + max(x, y, 0.5)
    out.backward()
    assert out.data == pytest.approx(C.branchy(1.5, 0.7))
    assert (x.grad, y.grad) == pytest.approx((0.7 * 0.7 + 1, 2 * 1.5 * 0.7))
    assert C.branchy(1.5, 0.7) == pytest.approx(f(1.5, 0.7))  # floats still work


def test_retargeting_reaches_helpers_modules_closures_and_numpy():
    rt = Retargeter()
    xs, c = [Value(0.3), Value(-0.4)], Value(1.2)
    out = rt.function(C.with_helpers)(xs, c)
    out.backward()
    want = symgrad.check(C.with_helpers, [0.3, -0.4], 1.2)
    assert [v.grad for v in xs + [c]] == pytest.approx([row.sympy for row in want.rows])
    assert rt.function(C.with_helpers) is rt.function(C.with_helpers)  # memoized
    assert rt.function(C.scaled) is rt.function(C.scaled)


def test_recursive_helpers_are_retargeted_once():
    f = retarget(C.power_rec)
    x = Value(1.3)
    y = f(x, 3)
    y.backward()
    assert y.data == pytest.approx(1.3 ** 3) and x.grad == pytest.approx(3 * 1.3 ** 2)
    t = Retargeter(symbolic=True).function(C.power_rec)(Traced(sympy.Symbol("x"), 1.3), 3)
    assert t.expr == sympy.Symbol("x") ** 3


def test_traced_numbers_follow_floats():
    x = Traced(sympy.Symbol("x"), 2.0)
    assert (x > 1, x < 1, x == 2.0, int(x), list(range(x))) == (True, False, True, 2, [0, 1])
    with pytest.raises(TypeError, match="not Traced"):
        float(x)            # (a function not retargeted would make it a constant: refused)
    assert abs(x - 3).expr == 3 - sympy.Symbol("x") and (x // 3).expr == 0
    assert symgrad.tanh(x).expr == sympy.tanh(sympy.Symbol("x"))
    with pytest.raises(SymbolicError, match="the path depends on the value of x"):
        bool(Traced(sympy.Symbol("x")) > 0)
    with pytest.raises(TypeError, match="object of type 'float' has no len"):
        len(x)                                  # a number with a value is not a list
    with pytest.raises(TypeError, match="x is used as a list"):
        list(Traced(sympy.Symbol("x")))


def test_value_comparisons_use_data():
    a, b = Value(1.0), Value(2.0)
    assert a < b and b > a and a <= 1 and 2 >= b and not a > 1.5 and 0 < a
    assert a != Value(1.0) and len({a, Value(1.0)}) == 2   # == stays identity-based


def test_doctests_run():
    result = doctest.testmod(check_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


def sin_imported_inside(x):
    from math import cos, sin
    return sin(x) * cos(x)


def fsum_of_a_generator(x, xs):
    return math.fsum(v * x for v in xs) + math.fsum([x, x * x])


def test_engines_do_not_turn_numbers_into_constants():
    # (math.fsum of a generator, math.sin imported inside f: SymPy's engine once saw
    # constants there and reported a derivative 0 against the right generated one)
    r = symgrad.check(sin_imported_inside, 0.7)
    assert r.ok and "SymPy (diff) unavailable" in str(r) and "must be real number" in str(r)
    r = symgrad.check(fsum_of_a_generator, 0.7, [1.2, -0.5, 2.0])
    assert r.ok and "all four engines agree" in str(r), str(r)


def appends_to_its_argument(x, xs):
    ys = xs
    ys.append(x)
    return sum(xs)


def swaps_in_its_argument(x, xs):
    xs[0], xs[1] = xs[1], xs[0]
    return xs[0] * x


def branches_on_float_type(x):
    a = x * 2.0 if type(x) is float else x * 3.0
    return a + (x * x if isinstance(x, float) else x)


@pytest.mark.parametrize("f, args", [(appends_to_its_argument, (0.7, [1.2, -0.5, 2.0])),
                                     (swaps_in_its_argument, (0.7, [1.2, -0.5, 2.0])),
                                     (branches_on_float_type, (0.7,))],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_every_engine_runs_f_as_the_floats_do(f, args):
    # (f changed the point's lists for every later call, so finite differences saw a
    # list growing; the Value and SymPy engines took the other branch of a type test)
    original = copy.deepcopy(args)
    r = symgrad.check(f, *args)
    assert r.ok and "all four engines agree" in str(r), str(r)
    assert list(args) == list(original)
