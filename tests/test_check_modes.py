"""symgrad.check in the modes jvp, hessian and hvp, and the CLI's --mode.

References are independent of symgrad: derivatives worked out by hand, SymPy expressions
written out in the test, and finite differences computed here.
"""
import doctest
import importlib
import math
import time

import check_cases as C
import pytest
import sympy

import symgrad
from symgrad import api, cli, modes, rules
from symgrad.report import CONSTANT, DIFFER, PROVED

check_modes = importlib.import_module("symgrad.check_modes")
check_module = importlib.import_module("symgrad.check")
SQUARE_POINT = (0.5, 0.3)


def x2_sin(x, y):
    return x * x * math.sin(y)


def hand_hessian_x2_sin(x, y):
    return [[2 * math.sin(y), 2 * x * math.cos(y)],
            [2 * x * math.cos(y), -x * x * math.sin(y)]]


def kinked(x, y, mode="fast"):
    if x > y:
        z = x * y * y
    else:
        z = math.exp(x) - x * y
    return z if mode == "fast" else -z


def tanh_sum(xs, c):
    s = 0.0
    for x in xs:
        s = s + math.tanh(x * c)
    return s


def rows(report):
    return {row.name: row for row in report.rows}


def matvec(h, v):
    return [sum(a * b for a, b in zip(row, v)) for row in h]


@pytest.fixture
def restore_rules():
    """Register rules freely in a test: the rule table and both caches come back clean."""
    saved_rules, saved_callables = dict(rules.RULES), dict(rules._CALLABLES)
    api._cache.clear()
    modes._cache.clear()
    yield
    api._cache.clear()
    modes._cache.clear()
    rules.RULES.clear()
    rules.RULES.update(saved_rules)
    rules._CALLABLES.clear()
    rules._CALLABLES.update(saved_callables)
    rules._GENERIC_CACHE.clear()


# --------------------------------------------------------------------------- scalar functions

def test_jvp_of_a_scalar_function_against_the_hand_derivative():
    x, y, v = 0.7, 1.1, (0.5, -2.0)
    r = symgrad.check(x2_sin, x, y, mode="jvp", tangents=v)
    want = 2 * x * math.sin(y) * v[0] + x * x * math.cos(y) * v[1]
    assert r.ok and r.mode == "jvp" and r.tangents == v and not r.default_tangents, str(r)
    (row,) = r.rows
    assert row.name == "jvp" and row.verdict == PROVED
    for got in (row.generated, row.sympy, row.value):
        assert got == pytest.approx(want, abs=1e-12)
    assert row.finite_diff == pytest.approx(want, abs=1e-9)
    lines = str(r).splitlines()
    assert lines[1].startswith("  mode jvp: symgrad.jvp along v")
    assert lines[2] == "  along v: x=0.5, y=-2.0"
    assert lines[4].split()[:5] == ["entry", "symgrad", "(generated)", "SymPy", "(grad.v)"]
    assert lines[-1].startswith("OK: all four engines agree")


def test_hessian_of_a_scalar_function_against_the_hand_hessian():
    r = symgrad.check(x2_sin, 0.7, 1.1, mode="hessian")
    want = hand_hessian_x2_sin(0.7, 1.1)
    names = ["H[x,x]", "H[x,y]", "H[y,x]", "H[y,y]"]
    assert [row.name for row in r.rows] == names and r.ok, str(r)
    for row, w in zip(r.rows, [want[0][0], want[0][1], want[1][0], want[1][1]]):
        assert row.generated == pytest.approx(w, abs=1e-12)
        assert row.sympy == pytest.approx(w, abs=1e-12)
        assert row.value == pytest.approx(w, abs=1e-8)          # FD of the Value gradient
        assert row.finite_diff == pytest.approx(w, abs=1e-7)    # second differences of f
        assert row.verdict == PROVED
    assert r.verdicts == dict.fromkeys(names, PROVED)
    text = str(r)
    assert "Value (FD of grad)" in text and "2nd differences" in text and "along v" not in text
    assert "finite differences and the Value column rtol 1e-05" in text


def test_hvp_of_a_scalar_function_against_the_hand_hessian():
    v = (0.25, -1.5)
    r = symgrad.check(x2_sin, 0.7, 1.1, mode="hvp", tangents=v)
    want = matvec(hand_hessian_x2_sin(0.7, 1.1), v)
    assert [row.name for row in r.rows] == ["Hv[x]", "Hv[y]"] and r.ok, str(r)
    for row, w in zip(r.rows, want):
        assert row.generated == pytest.approx(w, abs=1e-12)
        assert row.sympy == pytest.approx(w, abs=1e-12)
        assert row.value == pytest.approx(w, abs=1e-8)
        assert row.finite_diff == pytest.approx(w, abs=1e-7)
        assert row.verdict == PROVED


def test_default_direction_is_fixed_documented_and_shown():
    r = symgrad.check(x2_sin, 0.7, 1.1, mode="jvp")
    assert r.default_tangents and r.tangents == (-0.88, -0.23)     # random.Random(0)
    assert "  along v: x=-0.88, y=-0.23 (check's default direction)" in str(r)
    want = 2 * 0.7 * math.sin(1.1) * -0.88 + 0.49 * math.cos(1.1) * -0.23
    assert r.rows[0].generated == pytest.approx(want, abs=1e-12)
    again = symgrad.check(C.with_helpers, [0.3, -0.4, 0.2], 1.2, mode="hvp")
    assert again.tangents == ([-0.88, -0.23, -0.52], -0.97)
    # every component differs in size, so two swapped partial derivatives show
    flat = [abs(t) for t in (-0.88, -0.23, -0.52, -0.97)]
    assert len(set(flat)) == 4 and min(flat) >= 0.2


# --------------------------------------------------------------------------- structure

def _tanh_sum_sympy(xs, c):
    """The Hessian of sum(tanh(c x_i)) at the point, written out with SymPy here."""
    syms = sympy.symbols(f"x0:{len(xs)}", real=True)
    cs = sympy.Symbol("c", real=True)
    f = sum(sympy.tanh(cs * s) for s in syms)
    h = sympy.hessian(f, [*syms, cs])
    at = {**dict(zip(syms, xs)), cs: c}
    return [[float(h[i, j].subs(at)) for j in range(h.shape[1])] for i in range(h.shape[0])]


def test_hessian_of_a_loop_over_a_list_parameter():
    xs, c = [0.5, -0.3, 0.8], 1.5
    r = symgrad.check(tanh_sum, xs, c, mode="hessian")
    labels = ["xs[0]", "xs[1]", "xs[2]", "c"]
    assert [row.name for row in r.rows] == [f"H[{a},{b}]" for a in labels for b in labels]
    assert r.ok and set(r.verdicts) == {"H[xs,xs]", "H[xs,c]", "H[c,xs]", "H[c,c]"}, str(r)
    want = _tanh_sum_sympy(xs, c)
    got = rows(r)
    for i, a in enumerate(labels):
        for j, b in enumerate(labels):
            row = got[f"H[{a},{b}]"]
            assert row.generated == pytest.approx(want[i][j], abs=1e-12), row
            assert row.finite_diff == pytest.approx(want[i][j], abs=1e-7), row
    assert got["H[xs[0],xs[1]]"].generated == 0.0        # separate terms: exactly zero
    assert "H[xs[0],xs[1]]" in str(r) and "H[xs[2],c]" in str(r)


def test_hvp_of_a_list_parameter_takes_a_list_tangent():
    xs, c, v = [0.5, -0.3], 1.5, ([1.0, 0.0], 0.5)
    r = symgrad.check(tanh_sum, xs, c, mode="hvp", tangents=v)
    want = matvec(_tanh_sum_sympy(xs, c), [1.0, 0.0, 0.5])
    assert [row.name for row in r.rows] == ["Hv[xs[0]]", "Hv[xs[1]]", "Hv[c]"] and r.ok
    assert [row.generated for row in r.rows] == pytest.approx(want, abs=1e-12)
    assert [row.value for row in r.rows] == pytest.approx(want, abs=1e-8)
    assert "along v: xs=[1.0, 0.0], c=0.5" in str(r)


def test_helpers_in_other_modules_and_numpy():
    xs, c = [0.3, -0.4], 1.2
    s = [sympy.Symbol(f"x{i}", real=True) for i in range(2)]
    cs = sympy.Symbol("c", real=True)

    def term(x):   # other_module.soft(x * c) + scaled(x), written out by hand
        soft = sympy.log(1 + sympy.exp(2 * x * cs)) * sympy.Rational(1, 2)
        return soft + sympy.sin(x) * sympy.Rational(5, 2) + sympy.atan2(x, 2) + \
            sympy.Max(x, sympy.Rational(1, 10)) + sympy.pi * x
    h = sympy.hessian(sum(term(x) for x in s), [*s, cs])
    at = {s[0]: xs[0], s[1]: xs[1], cs: c}
    want = [float(h[i, j].subs(at)) for i in range(3) for j in range(3)]
    r = symgrad.check(C.with_helpers, xs, c, mode="hessian")
    assert r.ok and set(r.verdicts.values()) == {PROVED}, str(r)
    assert [row.generated for row in r.rows] == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("point,hand", [
    ((1.5, 0.7), lambda x, y: [[0.0, 2 * y], [2 * y, 2 * x]]),            # x y**2
    ((0.2, 0.7), lambda x, y: [[math.exp(x), -1.0], [-1.0, 0.0]]),       # exp(x) - x y
])
def test_branches_follow_the_path_taken(point, hand):
    r = symgrad.check(kinked, *point, mode="hessian")       # mode="fast" is passed as is
    assert r.wrt == ("x", "y") and r.ok and set(r.verdicts.values()) == {PROVED}, str(r)
    want = hand(*point)
    assert [row.generated for row in r.rows] == pytest.approx(
        [want[0][0], want[0][1], want[1][0], want[1][1]], abs=1e-12)
    v = (0.3, -0.6)
    r = symgrad.check(kinked, *point, "slow", mode="hvp", tangents=v)  # the other return
    assert r.ok, str(r)
    assert [row.generated for row in r.rows] == pytest.approx(
        [-w for w in matvec(want, v)], abs=1e-12)


def test_loops_and_a_count_held_constant():
    x, n = 0.7, 4
    r = symgrad.check(C.loop_power, x, n, mode="hessian")   # sum of x**k / k, k = 1..n
    second = sum((k - 1) * x ** (k - 2) for k in range(2, n + 1))
    got = rows(r)
    assert r.ok and r.constant == ("n",), str(r)
    assert got["H[x,x]"].generated == pytest.approx(second, abs=1e-12)
    assert got["H[x,x]"].finite_diff == pytest.approx(second, abs=1e-7)
    for name in ("H[x,n]", "H[n,x]", "H[n,n]"):
        assert got[name].constant and got[name].generated == 0.0
        assert got[name].verdict == CONSTANT and got[name].sympy is None
    r = symgrad.check(C.loop_power, x, n, mode="jvp", tangents=(2.0, 5.0))
    first = sum(x ** (k - 1) for k in range(1, n + 1))
    assert r.ok and r.rows[0].generated == pytest.approx(2.0 * first, abs=1e-12), str(r)
    assert r.rows[0].finite_diff == pytest.approx(2.0 * first, abs=1e-8)
    assert symgrad.check(C.loop_power, x, n, mode="jvp").tangents == (-0.88, 0.0)


def test_an_int_used_as_a_count_and_a_factor():
    # poly_count(x, n) = n * sum(x**i, i < n): n is perturbed where it can be
    r = symgrad.check(C.poly_count, 0.7, 4, mode="jvp", tangents=(1.0, 1.0))
    (row,) = r.rows
    want = sum(i * 0.7 ** (i - 1) for i in range(4)) * 4 + sum(0.7 ** i for i in range(4))
    assert r.ok and row.generated == pytest.approx(want) and row.sympy == pytest.approx(want)
    assert row.value is None and row.finite_diff is None
    assert "used as an integer" in row.missing["value"] and "range(n)" in row.missing["fd"]
    assert "all four engines agree where they apply" in str(r)
    r = symgrad.check(C.poly_count, 0.7, 4, mode="jvp", tangents=(1.0, 0))   # n not moved
    assert r.ok and r.rows[0].value is not None and r.rows[0].finite_diff is not None
    r = symgrad.check(C.poly_count, 0.7, 4, mode="hessian")
    got = rows(r)
    assert r.ok and got["H[x,x]"].finite_diff is not None, str(r)
    assert got["H[x,n]"].sympy == pytest.approx(sum(i * 0.7 ** (i - 1) for i in range(4)))
    assert got["H[x,n]"].value is None and got["H[n,x]"].finite_diff is None
    assert "2nd differences for H[n,n]: unavailable: n is used as an integer" in str(r)


def test_wrt_order_and_parameters_left_out():
    r = symgrad.check(x2_sin, 0.7, 1.1, wrt=["y", "x"], mode="hessian")
    want = hand_hessian_x2_sin(0.7, 1.1)
    assert [row.name for row in r.rows] == ["H[y,y]", "H[y,x]", "H[x,y]", "H[x,x]"]
    assert [row.generated for row in r.rows] == pytest.approx(
        [want[1][1], want[1][0], want[0][1], want[0][0]], abs=1e-12)
    r = symgrad.check(x2_sin, 0.7, 1.1, wrt="y", mode="hvp", tangents=3.0)
    assert r.ok and r.tangents == (3.0,) and [row.name for row in r.rows] == ["Hv[y]"]
    assert r.rows[0].generated == pytest.approx(3.0 * want[1][1], abs=1e-12)
    r = symgrad.check(x2_sin, 0.7, 1.1, wrt="x", mode="jvp", tangents=[2.0])
    assert r.rows[0].generated == pytest.approx(2.0 * 2 * 0.7 * math.sin(1.1), abs=1e-12)


# --------------------------------------------------------------------------- catching errors

def test_a_wrong_rule_is_caught_in_every_mode(restore_rules):
    # d/dv v*v is 2v; this rule says 3v.  The generated code and the Value engine read the
    # rule table; SymPy (sympy=) and finite differences do not.
    before = symgrad.check(C.uses_square, *SQUARE_POINT, mode="hessian")  # square(x) * y + x
    assert before.ok, str(before)                 # builds (and caches) the right Hessian
    symgrad.register_rule("square", C.square, [lambda v, out: 3 * v],
                          sympy=lambda v: v ** 2, callables=[C.square])
    x, y = SQUARE_POINT
    r = symgrad.check(C.uses_square, x, y, mode="hessian")
    got = rows(r)
    assert not r.ok and got["H[x,x]"].generated == pytest.approx(3 * y)   # rebuilt
    assert got["H[x,x]"].sympy == pytest.approx(2 * y)
    assert got["H[x,x]"].finite_diff == pytest.approx(2 * y, abs=1e-7)
    assert got["H[x,x]"].value == pytest.approx(3 * y, abs=1e-7)   # same rule table
    assert set(got["H[x,x]"].differing) == {"sympy", "fd"} and got["H[x,x]"].verdict == DIFFER
    assert got["H[y,y]"].agree and got["H[y,y]"].verdict == PROVED
    assert str(r).splitlines()[-1].startswith("MISMATCH in H[x,x], H[x,y], H[y,x]:")
    r = symgrad.check(C.uses_square, x, y, mode="jvp", tangents=(1.0, 0.0))
    assert not r.ok and r.rows[0].generated == pytest.approx(3 * x * y + 1)
    assert set(r.rows[0].differing) == {"sympy", "fd"}
    r = symgrad.check(C.uses_square, x, y, mode="hvp", tangents=(0.0, 1.0))
    assert not r.ok and rows(r)["Hv[x]"].generated == pytest.approx(3 * x)
    assert rows(r)["Hv[y]"].agree


@pytest.mark.parametrize("mode,name", [("jvp", "jvp"), ("hvp", "Hv[y]"),
                                       ("hessian", "H[x,y]")])
def test_a_wrong_generated_number_is_a_mismatch(monkeypatch, mode, name):
    def off(fn):
        def wrong(self, *args):
            out = fn(self, *args)
            out[name] += 1e-4
            return out
        return wrong
    kind = check_modes.mode_check(mode, None)
    monkeypatch.setattr(kind, "generated", off(kind.generated))
    r = symgrad.check(x2_sin, 0.7, 1.1, mode=mode)
    assert not r.ok and not rows(r)[name].agree
    assert set(rows(r)[name].differing) == {"sympy", "value", "fd"}
    assert f"MISMATCH in {name}:" in str(r)


def test_code_that_cannot_be_generated_raises_its_own_error(monkeypatch):
    def refuse(fn, wrt, patterns=None):
        raise symgrad.SourceError("no source for a helper")
    monkeypatch.setattr(modes, "_hvp_forward", refuse)
    for mode in ("hessian", "hvp"):      # raised as it is, not as f failing at the point
        with pytest.raises(symgrad.SourceError, match="^no source for a helper$"):
            symgrad.check(x2_sin, 0.7, 1.1, mode=mode)


# --------------------------------------------------------------------------- engines, time

def test_a_timed_out_engine_in_a_mode():
    start = time.monotonic()
    # (SymPy's Hessian of 50 RK4 steps takes far longer than 3 s; the Value engine's
    # differences of its gradient take well under 1 s, but a loaded CI machine can
    # slow them past a 1 s limit, which timed them out too)
    r = symgrad.check(C.rk4, 0.5, 0.3, wrt=["y0", "k"], mode="hessian", timeout=3.0)
    assert time.monotonic() - start < 12
    assert r.timed_out == ("sympy",) and r.ok, str(r)
    h = 1e-4

    def f(a, b):
        return C.rk4(0.5 + a * h, 0.3 + b * h)
    want = [(f(1, 0) - 2 * f(0, 0) + f(-1, 0)) / h ** 2,
            (f(1, 1) - f(1, -1) - f(-1, 1) + f(-1, -1)) / (4 * h * h)]
    got = rows(r)
    assert got["H[y0,y0]"].generated == pytest.approx(want[0], rel=1e-5)
    assert got["H[y0,k]"].generated == pytest.approx(want[1], rel=1e-5)
    assert got["H[k,y0]"].sympy is None and got["H[k,y0]"].verdict == "SymPy timed out"
    lines = str(r).splitlines()
    assert "  SymPy (hessian) timed out after 3 s (timeout=3)" in lines
    assert lines[-1].startswith("OK: the 3 available engines agree; SymPy (hessian) timed out")


def test_a_slow_value_engine_times_out_in_a_mode(monkeypatch):
    def slow(self, *args):
        while True:
            time.sleep(0.01)
    monkeypatch.setattr(check_modes.HvpCheck, "_value_gradient", slow)
    r = symgrad.check(x2_sin, 0.7, 1.1, mode="hvp", timeout=0.3, engines=("value", "fd"))
    assert r.timed_out == ("value",) and r.ok, str(r)
    assert "Value (FD of grad) timed out after 0.3 s" in str(r)


def test_engines_can_be_chosen_in_a_mode(monkeypatch):
    def no_sympy(*args, **kwargs):
        raise AssertionError("SymPy was run")
    monkeypatch.setattr(check_module, "trace", no_sympy)
    r = symgrad.check(tanh_sum, [0.5, -0.3], 1.5, mode="hessian", engines=("fd",))
    assert r.ok and r.engines == ("fd",)
    assert all(row.value is None and row.finite_diff is not None for row in r.rows)
    assert "SymPy" not in str(r) and "the 2 available engines agree" in str(r)


# --------------------------------------------------------------------------- arguments

def test_mode_and_tangent_errors_say_what_to_pass():
    with pytest.raises(symgrad.SymgradError, match=r"mode='jacobian': use 'grad', 'jvp', "
                       r"'hessian' or 'hvp'"):
        symgrad.check(x2_sin, 0.7, 1.1, mode="jacobian")
    with pytest.raises(symgrad.SymgradError, match=r"mode='vjp'.*mode='grad'"):
        symgrad.check(x2_sin, 0.7, 1.1, mode="vjp")
    with pytest.raises(symgrad.SymgradError, match=r"tangents= is the direction of "
                       r"mode='jvp' and mode='hvp'; mode='hessian' takes none"):
        symgrad.check(x2_sin, 0.7, 1.1, mode="hessian", tangents=(1.0, 1.0))
    with pytest.raises(symgrad.SymgradError, match=r"tangents=\(1.0,\): give one tangent per "
                       r"differentiated parameter \(x, y\).*e.g. tangents=\[1.0, 1.0\]"):
        symgrad.check(x2_sin, 0.7, 1.1, mode="jvp", tangents=(1.0,))
    with pytest.raises(symgrad.SymgradError, match=r"tangents=\[\[1.0\], 1.0\].*"
                       r"e.g. tangents=\[\[1.0, 1.0\], 1.0\]"):
        symgrad.check(tanh_sum, [0.5, -0.3], 1.5, mode="hvp", tangents=[[1.0], 1.0])
    with pytest.raises(symgrad.SymgradError, match="tangents=.True, 1.0."):
        symgrad.check(x2_sin, 0.7, 1.1, mode="jvp", tangents=(True, 1.0))


def test_the_report_renders_in_a_notebook():
    r = symgrad.check(x2_sin, 0.7, 1.1, mode="hessian")
    html = r._repr_html_()
    assert html.count("<tr>") == 5 and "<th>entry</th>" in html
    assert "<th>SymPy (hessian)</th>" in html and "<td style=\"\">H[x,y]</td>" in html


def test_check_modes_docstring_examples_run():
    result = doctest.testmod(check_modes, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 4


# --------------------------------------------------------------------------- the CLI

MODEL = '''import math


def f(x, y):
    return x * x * math.sin(y)


def g(xs, c):
    s = 0.0
    for x in xs:
        s = s + math.tanh(x * c)
    return s
'''


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "mode_model.py"
    path.write_text(MODEL)
    return str(path)


@pytest.mark.parametrize("mode,head,body", [
    ("grad", "def d_f(x, y, d_out=1.0):", "d_y = d_out * _t1 * math.cos(y)"),
    ("jvp", "def jvp_f(x, y, t_x, t_y):", "t_out = "),
    ("vjp", "def d_f(x, y, d_out=1.0):", "return (d_x, d_y)"),
    ("hessian", "def jvp_d_f(x, y, d_out, t_x, t_y):", "return ((d_x, d_y), (t_d_x, t_d_y))"),
    ("hvp", "def jvp_d_f(x, y, d_out, t_x, t_y):", "t_d_y = "),
])
def test_show_prints_the_source_of_each_mode(model, capsys, mode, head, body):
    assert cli.main(["show", f"{model}:f", "--mode", mode]) == 0
    out = capsys.readouterr().out
    assert out.startswith(head) and body in out, out
    assert out == modes.linearize_source(cli.load_function(f"{model}:f"), mode)


def test_show_with_wrt_and_a_loop(model, capsys):
    assert cli.main(["show", f"{model}:f", "--mode", "jvp", "--wrt", "y"]) == 0
    assert capsys.readouterr().out.startswith("def jvp_f(x, y, t_y):")
    assert cli.main(["show", f"{model}:g", "--mode", "hvp"]) == 0
    out = capsys.readouterr().out
    assert "t_stack.append(" in out and "t_stack.pop()" in out     # the tangent tape


def test_show_help_lists_only_shows_options(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["show", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--mode {grad,jvp,vjp,hessian,hvp}" in out
    for word in ("--tangents", "--rtol", "--timeout", "--engines", "check", "point", "float"):
        assert word not in out, (word, out)


@pytest.mark.parametrize("mode,extra,names", [
    ("jvp", ["--tangents", "[0.5, -2.0]"], ["jvp"]),
    ("hessian", [], ["H[x,x]", "H[x,y]", "H[y,x]", "H[y,y]"]),
    ("hvp", [], ["Hv[x]", "Hv[y]"]),
])
def test_check_runs_each_mode(model, capsys, mode, extra, names):
    assert cli.main(["check", f"{model}:f", "0.7", "1.1", "--mode", mode, *extra]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "check f(x=0.7, y=1.1) = 0.4366916064301033"
    assert lines[1].startswith(f"  mode {mode}: symgrad.{mode}")
    table = [line.split()[0] for line in lines if line.startswith(("jvp ", "H[", "Hv["))]
    assert table == names and lines[-1].startswith("OK: all four engines agree")
    if mode == "jvp":
        want = 2 * 0.7 * math.sin(1.1) * 0.5 + 0.49 * math.cos(1.1) * -2.0
        assert lines[2] == "  along v: x=0.5, y=-2.0"
        assert float(lines[-3].split()[1]) == pytest.approx(want, rel=1e-9)


def test_check_lists_and_exit_codes(model, capsys):
    argv = ["check", f"{model}:g", "[0.5, -0.3]", "1.5", "--mode", "hvp"]
    assert cli.main([*argv, "--tangents", "[[1.0, 0.0], 0.5]", "--engines", "sympy,fd"]) == 0
    out = capsys.readouterr().out
    assert "along v: xs=[1.0, 0.0], c=0.5" in out and "Hv[xs[1]]" in out
    assert cli.main([*argv, "--tangents", "[1.0, 0.5]"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("symgrad: error: tangents=[1.0, 0.5]: give one tangent per "
                          "differentiated parameter (xs, c)") and "\n" not in err
    assert cli.main([*argv, "--tangents", "[1.0"]) == 2
    assert "'[1.0' is not a Python literal" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", f"{model}:f", "0.7", "1.1", "--mode", "vjp"])
    assert exc.value.code == 2 and "invalid choice: 'vjp'" in capsys.readouterr().err
