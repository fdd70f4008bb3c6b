"""symgrad.check on functions of numpy arrays.

References are independent of symgrad and of its engines: gradients derived by hand and
written out in numpy (backpropagation of the MLP, (A + A^T) x, softmax minus one-hot ...).
"""
import doctest
import importlib
import math
import sys

import pytest

np = pytest.importorskip("numpy")
sympy = pytest.importorskip("sympy")

import symgrad  # noqa: E402
from symgrad import api, rules  # noqa: E402
from symgrad.check import AT_POINT, DIFFER, PROVED  # noqa: E402

check_arrays = importlib.import_module("symgrad.check_arrays")
RNG = np.random.default_rng(7)


@pytest.fixture
def restore_rules():
    """Register rules freely in a test: the rule table comes back afterwards (and gradients
    generated under a test's rule are dropped)."""
    saved_rules, saved_callables = dict(rules.RULES), dict(rules._CALLABLES)
    api._cache.clear()
    yield
    api._cache.clear()
    rules.RULES.clear()
    rules.RULES.update(saved_rules)
    rules._CALLABLES.clear()
    rules._CALLABLES.update(saved_callables)
    rules._GENERIC_CACHE.clear()
    modes = sys.modules.get("symgrad.modes")
    if modes is not None:
        modes._cache.clear()


# --------------------------------------------------------------------------- functions

def sum_tanh(w, x):
    return np.sum(np.tanh(w * x))


def mlp_loss(W1, b1, w2, X, y):
    return np.mean((np.tanh(X @ W1 + b1) @ w2 - y) ** 2)


def quadratic(x, A):
    return x @ A @ x


def softmax_nll(z):
    e = np.exp(z - np.max(z))
    p = e / np.sum(e)
    return -np.log(p[1])


def weighted_column_sums(x):
    return np.sum(np.sum(x ** 2, axis=0) * np.array([1.0, -2.0, 0.5]))


def inplace(x):
    x = x.copy()
    x[0] = 2 * x[1]
    return np.sum(x * x)


def mixed(x, s):
    return s * np.sum(np.sin(x)) + s ** 2


def gathered(x, idx):
    return np.sum(x[idx] ** 2)


def into_float_array(x):
    out = np.zeros(2)
    out[0] = x[0] ** 2
    out[1] = np.sin(x[1])
    return np.sum(out * x)


def square(v):
    return v * v


def uses_square(x, w):
    return np.sum(square(x) * w)


def second_order(x, A, s):
    return s * (x @ A @ x) + s * np.sum(np.exp(x))


# --------------------------------------------------------------------------- helpers

def assert_row(row, shape, want, *, engines=("sympy", "value", "finite_diff")):
    """``row`` is the array row of a parameter of this shape, and each engine's array and
    the generated one match the hand-derived ``want``."""
    assert row.shape == shape and row.agree, row
    assert isinstance(row.generated, np.ndarray) and row.generated.shape == shape
    np.testing.assert_allclose(row.generated, want, rtol=1e-9, atol=1e-12)
    for attr in engines:
        got = getattr(row, attr)
        assert isinstance(got, np.ndarray) and got.shape == shape, (attr, got)
        tol = 1e-6 if attr == "finite_diff" else 1e-9
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def assert_readable(report, names):
    """The text and HTML tables show arrays as dtype[shape] and max |diff|, one line each."""
    text = str(report)
    lines = text.splitlines()
    assert max(map(len, lines)) < 200, text
    for name in names:
        assert sum(1 for line in lines if line.startswith(name + " ")) == 1, text
    assert "max|diff|" in text and "[[" not in text and "array(" not in text
    html = report._repr_html_()
    assert "<table>" in html and html.count("<tr>") == len(report.rows) + 1
    assert "max|diff|" in html


# --------------------------------------------------------------------------- gradients

def test_sum_tanh_every_engine_per_element():
    w, x = RNG.normal(size=3), RNG.normal(size=3)
    r = symgrad.check(sum_tanh, w, x)
    assert r.ok and not r.unavailable, str(r)
    sech2 = 1 - np.tanh(w * x) ** 2
    rw, rx = r.rows
    assert (rw.name, rx.name) == ("w", "x")
    assert_row(rw, (3,), x * sech2)
    assert_row(rx, (3,), w * sech2)
    assert r.verdicts == {"w": PROVED, "x": PROVED}
    assert [p.name for p in rw.parts] == ["w[0]", "w[1]", "w[2]"]
    assert str(r).splitlines()[0].startswith("check sum_tanh(w=float64[3], x=float64[3]) = ")
    assert_readable(r, ["w", "x"])


def test_mlp_loss_against_hand_backprop():
    W1, b1, w2 = RNG.normal(size=(4, 3)), RNG.normal(size=3), RNG.normal(size=3)
    X, y = RNG.normal(size=(5, 4)), RNG.normal(size=5)
    r = symgrad.check(mlp_loss, W1, b1, w2, X, y)
    assert r.ok and not r.unavailable, str(r)
    # backpropagation by hand
    h = np.tanh(X @ W1 + b1)
    err = h @ w2 - y
    d_pred = 2 * err / len(y)
    d_w2 = h.T @ d_pred
    d_pre = np.outer(d_pred, w2) * (1 - h ** 2)
    want = {"W1": X.T @ d_pre, "b1": d_pre.sum(axis=0), "w2": d_w2,
            "X": d_pre @ W1.T, "y": -d_pred}
    assert [row.name for row in r.rows] == list(want)
    for row in r.rows:
        assert_row(row, want[row.name].shape, want[row.name])
    assert set(r.verdicts.values()) <= {PROVED, AT_POINT}   # proofs have a time budget
    assert_readable(r, list(want))
    assert "float64[4,3]" in str(r) and "float64[5,4]" in str(r)


def test_quadratic_form():
    x, A = RNG.normal(size=3), RNG.normal(size=(3, 3))
    r = symgrad.check(quadratic, x, A)
    assert r.ok, str(r)
    assert_row(r.rows[0], (3,), (A + A.T) @ x)
    assert_row(r.rows[1], (3, 3), np.outer(x, x))
    assert r.value == pytest.approx(float(x @ A @ x))


def test_softmax():
    z = RNG.normal(size=4)
    r = symgrad.check(softmax_nll, z)
    assert r.ok, str(r)
    p = np.exp(z) / np.exp(z).sum()
    assert_row(r.rows[0], (4,), p - np.eye(4)[1])
    assert r.verdicts == {"z": PROVED}


def test_reduction_over_an_axis():
    x = RNG.normal(size=(2, 3))
    r = symgrad.check(weighted_column_sums, x)
    assert r.ok, str(r)
    assert_row(r.rows[0], (2, 3), 2 * x * np.array([1.0, -2.0, 0.5]))


def test_inplace_write_into_a_copy():
    x = np.array([0.3, -1.2, 0.8])
    r = symgrad.check(inplace, x)
    assert r.ok, str(r)
    # f = (2 x1)^2 + x1^2 + x2^2: x0 is overwritten
    assert_row(r.rows[0], (3,), np.array([0.0, 10 * x[1], 2 * x[2]]))
    np.testing.assert_array_equal(x, [0.3, -1.2, 0.8])   # the point is left alone


def writes_its_argument(x):
    x[0] = 2 * x[1]
    return np.sum(x * x)


def test_a_function_writing_into_its_argument_sees_a_fresh_copy_each_time():
    x = np.array([0.3, -1.2, 0.8])
    r = symgrad.check(writes_its_argument, x)
    assert r.ok and not r.unavailable, str(r)
    assert_row(r.rows[0], (3,), np.array([0.0, 10 * -1.2, 2 * 0.8]))
    np.testing.assert_array_equal(x, [0.3, -1.2, 0.8])
    assert r.value == pytest.approx(2.4 ** 2 + 1.2 ** 2 + 0.8 ** 2)


def test_arrays_mixed_with_numbers():
    x = RNG.normal(size=3)
    r = symgrad.check(mixed, x, 1.5)
    assert r.ok, str(r)
    rx, rs = r.rows
    assert_row(rx, (3,), 1.5 * np.cos(x))
    assert rs.shape is None and rs.name == "s"
    want_s = np.sin(x).sum() + 3.0
    for got in (rs.generated, rs.sympy, rs.value, rs.finite_diff):
        assert got == pytest.approx(want_s, rel=1e-7)
    assert_readable(r, ["x", "s"])


def test_integer_arrays_are_passed_as_they_are():
    x, idx = np.array([1.0, -2.0, 3.0]), np.array([0, 2, 2])
    r = symgrad.check(gathered, x, idx)
    assert r.ok and r.wrt == ("x",), str(r)
    assert_row(r.rows[0], (3,), np.array([2.0, 0.0, 12.0]))
    with pytest.raises(symgrad.SymgradError, match=r"wrt: argument idx of gathered is an array "
                       r"of dtype int64; .*pass idx.astype\(float\)"):
        symgrad.check(gathered, x, idx, wrt=["x", "idx"])


def elementwise(x):
    return np.tanh(x) * 2.0


def test_a_function_returning_an_array_is_refused():
    with pytest.raises(symgrad.SymgradError, match=r"elementwise returned an array of shape "
                       r"\(3,\) at the point, not a number"):
        symgrad.check(elementwise, np.ones(3))


# --------------------------------------------------------------------------- size caps

def test_sympy_is_skipped_above_its_cap():
    n = check_arrays.SYMPY_MAX_ELEMENTS + 1
    w, x = RNG.normal(size=n), RNG.normal(size=n)
    r = symgrad.check(sum_tanh, w, x, wrt="w")
    assert r.ok and r.skipped == {"sympy": "too large"}, str(r)
    assert_row(r.rows[0], (n,), x * (1 - np.tanh(w * x) ** 2), engines=("value", "finite_diff"))
    assert r.rows[0].sympy is None
    text = str(r)
    (row,) = [line for line in text.splitlines() if line.startswith("w ")]
    assert row.split()[2:5] == ["skipped:", "too", "large"]        # the SymPy cell
    assert (f"SymPy (diff) skipped: too large: {n} numbers in array arguments, more than "
            f"SYMPY_MAX_ELEMENTS = {n - 1}") in text


@pytest.mark.heavy
def test_value_engine_is_skipped_above_its_cap():
    n = check_arrays.VALUE_MAX_ELEMENTS + 4
    w, x = RNG.normal(size=n), RNG.normal(size=n)
    r = symgrad.check(sum_tanh, w, x, wrt="w", timeout=60)
    assert r.ok and r.skipped == {"sympy": "too large", "value": "too large"}, str(r)
    assert r.rows[0].value is None and r.rows[0].sympy is None
    np.testing.assert_allclose(r.rows[0].finite_diff, x * (1 - np.tanh(w * x) ** 2),
                               rtol=1e-6, atol=1e-8)
    assert f"VALUE_MAX_ELEMENTS = {n - 4}" in str(r)
    assert "the 2 available engines agree" in str(r)


def test_caps_are_read_when_check_runs(monkeypatch):
    monkeypatch.setattr(check_arrays, "VALUE_MAX_ELEMENTS", 5)
    r = symgrad.check(sum_tanh, np.ones(3), np.ones(3))     # 6 numbers in arrays
    assert r.skipped == {"value": "too large"} and r.ok
    assert r.rows[0].sympy is not None


def test_an_engine_that_cannot_run_on_object_arrays_is_skipped_with_the_reason():
    x = np.array([0.4, -0.7])
    r = symgrad.check(into_float_array, x)
    assert r.ok and r.skipped == {"sympy": "cannot run", "value": "cannot run"}, str(r)
    want = np.array([3 * x[0] ** 2, np.sin(x[1]) + x[1] * np.cos(x[1])])
    assert_row(r.rows[0], (2,), want, engines=("finite_diff",))
    for engine in ("sympy", "value"):
        why = r.unavailable[engine]
        assert why.startswith("cannot run into_float_array on object arrays of ")
        assert "test_check_arrays.py" in why and "out[0] = x[0] ** 2" in why
        assert "np.zeros_like(x)" in why
    assert "skipped: cannot run" in str(r)


# --------------------------------------------------------------------------- wrong rules

def test_a_wrong_rule_on_arrays_is_caught(restore_rules):
    # d/dv v*v is 2v; this rule says 3v.  The Value engine reads the rule table too.
    symgrad.register_rule("square", square, [lambda v, out: 3 * v], sympy=lambda v: v ** 2,
                          callables=[square])
    x, w = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 3.0])
    r = symgrad.check(uses_square, x, w)
    assert not r.ok
    rx, rw = r.rows
    np.testing.assert_allclose(rx.generated, 3 * x * w)
    np.testing.assert_allclose(rx.sympy, 2 * x * w)
    np.testing.assert_allclose(rx.finite_diff, 2 * x * w, rtol=1e-7)
    np.testing.assert_allclose(rx.value, 3 * x * w)
    assert not rx.agree and set(rx.differing) == {"sympy", "fd"} and rx.verdict == DIFFER
    assert rw.agree and rw.verdict == PROVED
    text = str(r)
    assert "MISMATCH in x:" in text and "x: 3 of 3 entries differ; worst x[" in text
    assert "max|diff| 6.0e+00 *" in text


def test_a_wrong_builtin_rule_is_caught_by_finite_differences_alone(restore_rules):
    symgrad.register_rule("tanh", math.tanh, [lambda v, out: 1 - 1.5 * out * out],
                          sympy=sympy.tanh, math_name="tanh", numpy_name="tanh")
    w, x = np.array([0.5, -1.0]), np.array([1.5, 0.25])
    r = symgrad.check(sum_tanh, w, x, engines="fd")
    assert not r.ok and [row.agree for row in r.rows] == [False, False]
    np.testing.assert_allclose(r.rows[0].finite_diff, x * (1 - np.tanh(w * x) ** 2), rtol=1e-7)
    assert "MISMATCH in w, x" in str(r)


# --------------------------------------------------------------------------- modes

def _second_order_reference(x, A, s):
    """Gradient and Hessian of s x'Ax + s sum(exp(x)) in (x, A, s), by hand."""
    S = A + A.T
    g = {"x": s * (S @ x + np.exp(x)), "A": s * np.outer(x, x),
         "s": x @ A @ x + np.exp(x).sum()}
    n = len(x)
    H = {("x", "x"): s * (S + np.diag(np.exp(x))),
         ("x", "s"): S @ x + np.exp(x), ("s", "s"): 0.0}
    # d/dA[j,k] of d/dx[i]: s (delta_ij x_k + delta_ik x_j)
    xA = np.zeros((n, n, n))
    for i in range(n):
        xA[i, i, :] += s * x
        xA[i, :, i] += s * x
    H[("x", "A")] = xA
    H[("A", "A")] = np.zeros((n, n, n, n))
    H[("A", "s")] = np.outer(x, x)
    H[("A", "x")] = np.transpose(xA, (1, 2, 0))
    H[("s", "x")] = H[("x", "s")]
    H[("s", "A")] = H[("A", "s")]
    return g, H


@pytest.mark.parametrize("engines", [("sympy", "value", "fd"), ("fd",)])
def test_jvp_on_arrays(engines):
    x, A, s = np.array([0.3, -0.6]), np.array([[1.0, 2.0], [-0.5, 0.7]]), 1.5
    v = (np.array([1.0, -0.5]), np.array([[0.2, 0.0], [0.1, -0.3]]), 0.25)
    r = symgrad.check(second_order, x, A, s, mode="jvp", tangents=v, engines=engines)
    assert r.ok, str(r)
    g, _ = _second_order_reference(x, A, s)
    want = g["x"] @ v[0] + np.sum(g["A"] * v[1]) + g["s"] * v[2]
    (row,) = r.rows
    assert row.generated == pytest.approx(want, rel=1e-9)
    assert row.finite_diff == pytest.approx(want, rel=1e-7)
    if "sympy" in engines:
        assert row.sympy == pytest.approx(want, rel=1e-9) and row.verdict == PROVED
    with pytest.raises(symgrad.SymgradError, match=r"tangents=\(float64\[3\], float64\[2,2\], "
                       r"0.0\): give one tangent per differentiated parameter \(x, A, s\), each "
                       r"shaped like its argument, e.g. tangents=\(np.ones\(2\), "
                       r"np.ones\(\(2, 2\)\), 1.0\)$"):
        symgrad.check(second_order, x, A, s, mode="jvp", tangents=(np.ones(3), v[1], 0.0))


def cast_then_square(x):
    return np.sum(x.astype(float) ** 2 * x)


def scaled_in_place(x):
    y = x.copy()
    y *= 2.0
    y += x ** 3
    y[0] = 0.0
    return np.sum(y)


@pytest.mark.parametrize("mode", ["hvp", "hessian"])
def test_second_order_modes_specialize_for_arrays(mode):
    # The hvp sweep is made for the array arguments: made for numbers and lists it was
    # refused ("a value used both as list and num") although hvp itself worked.
    x = np.array([0.5, -1.5, 2.0])
    v = (np.array([1.0, 0.5, -2.0]),)
    for f, diag in ((cast_then_square, 6 * x), (scaled_in_place, np.r_[0.0, 6 * x[1:]])):
        r = symgrad.check(f, x, mode=mode, **({"tangents": v} if mode == "hvp" else {}))
        assert r.ok, str(r)
        want = diag * v[0] if mode == "hvp" else np.diag(diag)    # (both Hessians diagonal)
        (row,) = r.rows
        np.testing.assert_allclose(row.generated, want, rtol=1e-12)
        np.testing.assert_allclose(row.finite_diff, want, rtol=1e-5, atol=1e-6)


def test_hvp_on_arrays():
    x, A, s = np.array([0.3, -0.6]), np.array([[1.0, 2.0], [-0.5, 0.7]]), 1.5
    v = (np.array([1.0, -0.5]), np.array([[0.2, 0.0], [0.1, -0.3]]), 0.25)
    r = symgrad.check(second_order, x, A, s, mode="hvp", tangents=v)
    assert r.ok, str(r)
    _, H = _second_order_reference(x, A, s)
    names = ["x", "A", "s"]

    def contract(a, b, t):   # the block H[a,b] applied to the tangent of b
        h = np.asarray(H[(a, b)], dtype=float)
        t = np.asarray(t, dtype=float)
        return np.tensordot(h, t, axes=t.ndim) if t.ndim else h * t
    want = {f"Hv[{a}]": sum(contract(a, b, t) for b, t in zip(names, v)) for a in names}
    assert [row.name for row in r.rows] == list(want)
    for row in r.rows:
        np.testing.assert_allclose(row.generated, want[row.name], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(row.finite_diff, want[row.name], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(row.sympy, want[row.name], rtol=1e-9, atol=1e-12)
    assert r.rows[1].shape == (2, 2) and r.rows[2].shape is None


def test_hessian_on_arrays():
    x, A, s = np.array([0.3, -0.6]), np.array([[1.0, 2.0], [-0.5, 0.7]]), 1.5
    r = symgrad.check(second_order, x, A, s, mode="hessian")
    assert r.ok, str(r)
    _, H = _second_order_reference(x, A, s)
    rows = {row.name: row for row in r.rows}
    assert list(rows) == [f"H[{a},{b}]" for a in "xAs" for b in "xAs"]
    for (a, b), want in H.items():
        row = rows[f"H[{a},{b}]"]
        assert row.shape == (None if np.ndim(want) == 0 else np.shape(want))
        np.testing.assert_allclose(row.generated, want, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(row.finite_diff, want, rtol=1e-5, atol=1e-6)
    assert "float64[2,2,2,2]" in str(r)
    fd_only = symgrad.check(second_order, x, A, s, mode="hessian", engines="fd")
    assert fd_only.ok and len(fd_only.rows) == 9


# --------------------------------------------------------------------------- symbolic

def test_symbolic_at_an_array_point():
    s = symgrad.symbolic(sum_tanh, np.array([0.5, 1.0]), np.array([2.0, -1.0]))
    w0, x0 = sympy.symbols("w_0 x_0", real=True)
    assert list(s.diff) == ["w[0]", "w[1]", "x[0]", "x[1]"]
    assert sympy.simplify(s.diff["w[0]"] - x0 * (1 - sympy.tanh(w0 * x0) ** 2)) == 0
    assert all(s.proved.values())
    with pytest.raises(symgrad.SymgradError, match=r"too large: 80 numbers in array arguments"):
        symgrad.symbolic(sum_tanh, np.ones(40), np.ones(40))


def test_symbolic_without_a_point_asks_for_one():
    # was: "object of type 'Traced' has no len()"
    with pytest.raises(symgrad.SymgradError, match=r"symbolic\(sum_tanh\) needs a point: .*"
                       r"pass one value per parameter, symbolic\(sum_tanh, w, x\)"):
        symgrad.symbolic(sum_tanh)


def test_module_docstring_examples():
    result = doctest.testmod(check_arrays, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 5 and result.failed == 0


def dot_of_two_slices(x):
    y = np.dot(x[:2], x[2:])
    return np.sum(y * 0.7 + y ** 2)


def test_a_parameter_active_only_in_the_gradient_made_for_arrays():
    # (the gradient made before any call, reading x as a list, had x inactive: check
    # held it constant and reported its nonzero array gradient as a mismatch)
    x = np.array([0.3, -0.2, 0.5, 0.9])
    r = symgrad.check(dot_of_two_slices, x)
    assert r.ok, str(r)
    y = x[0] * x[2] + x[1] * x[3]
    want = (0.7 + 2 * y) * np.array([x[2], x[3], x[0], x[1]])
    np.testing.assert_allclose(symgrad.grad(dot_of_two_slices)(x), want, rtol=1e-12)
