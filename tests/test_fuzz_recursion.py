"""Random recursions counted down by a parameter, against Python.

Each program is a module with a recursive helper and ``f(x, y, n)`` calling it::

    def _rec(x, y, n):
        if n < 0.5:                       # (n - k stays k away from the test)
            return <base: an expression of x, y, n>
        return <step: x, y, n and one or two calls _rec(<x'>, <y'>, n - 1)>

    def f(x, y, n):
        return <an expression with _rec(x, y, n)>   # or f recurses itself

drawn from a small grammar (``sin``/``cos``/``tanh``, ``exp`` of a bounded value,
products, ``n`` used as a number too), with the recursion itself the function, in a
module helper, in a helper defined inside ``f``, halving (``n // 2``) or two calls deep
(a tree).  Every gradient is checked against Python's own value and central
differences in ``x``, ``y`` and ``n`` (the tests on ``n`` sit half a step away from
its values, so a difference in ``n`` takes the same branches); forward mode and the
Hessian in ``x`` too.  ``SYMGRAD_FUZZ_EXAMPLES`` sets the number of programs.
"""

import importlib.util
import math
import os
import sys
import tempfile

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import symgrad

pytestmark = pytest.mark.heavy

TOTAL = int(os.environ.get("SYMGRAD_FUZZ_EXAMPLES", "60"))
DERANDOMIZE = (os.environ.get("CI", "").lower() == "true"
               or "SYMGRAD_FUZZ_EXAMPLES" not in os.environ)
_DIR = tempfile.mkdtemp(prefix="symgrad_fuzz_rec_")


@st.composite
def expr(draw, names, depth=2):
    """A bounded expression of ``names`` (values stay within a few units)."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(list(names) + ["0.5", "1.25", "-0.75"]))
    form = draw(st.integers(0, 5))
    a = draw(expr(names, depth - 1))
    if form == 0:
        return f"math.{draw(st.sampled_from(['sin', 'cos', 'tanh']))}({a})"
    if form == 1:
        return f"math.exp(math.sin({a}))"
    b = draw(expr(names, depth - 1))
    if form == 2:
        return f"({a}) * ({b})"
    if form == 3:
        return f"({a}) - ({b})"
    if form == 4:
        return f"({a}) / (2.0 + math.sin({b}))"
    return f"0.5 * ({a}) + ({b})"


@st.composite
def recursive_program(draw):
    where = draw(st.sampled_from(["self", "helper", "inner"]))
    step = draw(st.sampled_from(["n - 1", "n - 1", "n // 2"]))
    calls = draw(st.integers(1, 2)) if step == "n - 1" else 1
    name = "f" if where == "self" else "_rec"
    base = draw(expr(["x", "y", "n"]))
    args = []
    for _ in range(calls):
        nx, ny = draw(expr(["x", "y"], 1)), draw(expr(["x", "y"], 1))
        args.append(f"{name}({nx}, {ny}, {step})")
    combine = draw(expr(["x", "y", "n", "r"], 1))
    recurse = " + ".join(f"({a})" for a in args)
    body = ["if n < 0.5:", f"    return {base}", f"r = {recurse}", f"return {combine} + r * 0.5"]
    outer = draw(expr(["x", "y", "v"], 1))
    if where == "self":
        lines = ["def f(x, y, n):"] + ["    " + b for b in body]
    elif where == "helper":
        lines = ["def _rec(x, y, n):"] + ["    " + b for b in body] + [
            "", "", "def f(x, y, n):", "    v = _rec(x, y, n)", f"    return {outer}"]
    else:
        lines = ["def f(x, y, n):", "    def _rec(x, y, n):"] + ["        " + b for b in body] + [
            "    v = _rec(x, y, n)", f"    return {outer}"]
    src = "import math\n\n\n" + "\n".join(lines) + "\n"
    n = draw(st.integers(0, 5 if calls == 1 else 4))
    x = draw(st.floats(-1.5, 1.5))
    y = draw(st.floats(-1.5, 1.5))
    return src, x, y, float(n) if draw(st.booleans()) else n


_count = [0]


def load(src):
    _count[0] += 1
    path = os.path.join(_DIR, f"rec_{_count[0]}.py")
    with open(path, "w") as fh:
        fh.write(src)
    spec = importlib.util.spec_from_file_location(f"symgrad_fuzz_rec_{_count[0]}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod.f


def fd(f, args, i, h=1e-6):
    up, dn = list(args), list(args)
    up[i] += h
    dn[i] -= h
    return (f(*up) - f(*dn)) / (2 * h)


def close(a, b, rtol=1e-5, atol=1e-7):
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


@settings(max_examples=TOTAL, deadline=None, derandomize=DERANDOMIZE,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(recursive_program())
def test_recursion_counted_by_a_parameter(prog):
    src, x, y, n = prog
    note(src)
    note(f"point: x={x!r}, y={y!r}, n={n!r}")
    f = load(src)
    value = f(x, y, n)
    if not math.isfinite(value) or abs(value) > 1e6:
        return
    got_value, g = symgrad.value_and_grad(f)(x, y, n)
    assert got_value == value
    for i in range(3):
        want = fd(f, (x, y, n), i)
        want2 = fd(f, (x, y, n), i, 1e-5)
        if not close(want, want2, 1e-4, 1e-6):       # (near a kink of no kind here: skip)
            continue
        assert close(g[i], want), (i, g[i], want)
    if isinstance(n, float):
        assert isinstance(g[2], float)
    _, t = symgrad.jvp(f, (x, y, n), (1.0, 0.0, 0.0))
    assert close(t, g[0], 1e-9, 1e-12)
    h = symgrad.hessian(f, wrt=0)(x, y, n)
    gx = symgrad.grad(f, wrt=0)
    want = (gx(x + 1e-5, y, n) - gx(x - 1e-5, y, n)) / 2e-5
    assert close(h, want, 1e-4, 1e-6), (h, want)
