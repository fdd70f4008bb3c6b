"""The argument test of a gradient's default call: in C (symgrad/_speedups.c) where it was
built, as the object the gradient is called through ("c-call") or as a function its first
line calls ("c-line"), else in Python (SYMGRAD_PURE_PYTHON, or no compiler at install).  All
must refuse a bool or a str in every position, let an int or a numpy number through to the
exact rule, and give the same gradients, checked against finite differences."""

import importlib.util
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from numeric import assert_close, finite_diff

import symgrad
from symgrad import entry
from symgrad.errors import ArgumentError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPLEMENTATIONS = ["python"] + (["c-line", "c-call"] if entry._c_floats() is not None else [])


def _module(tmp_path, name, n):
    """A module with ``wide(x0, ..., x{n-1}, w0, ..., b)``, a neuron written out term by
    term (more arguments than one call of the C test takes), and two small functions."""
    xs, ws = [f"x{i}" for i in range(n)], [f"w{i}" for i in range(n)]
    terms = " + ".join(f"{x} * {w}" for x, w in zip(xs, ws))
    text = (f"import math\n\n\ndef wide({', '.join(xs + ws)}, b):\n"
            f"    return math.tanh({terms} + b)\n\n\n"
            "def small(x, y=2.0):\n    return x * y + math.sin(x)\n\n\n"
            "def mixed(x, table, k):\n    return x * table['a'] + k * k * table['b']\n")
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request, monkeypatch):
    """Which test the entries made in this test use (entries are made with the gradient)."""
    monkeypatch.setattr(entry, "_FLOATS", entry._c_floats() if request.param != "python" else None)
    monkeypatch.setattr(entry, "_CHECKED",
                        entry._c_checked() if request.param == "c-call" else None)
    return request.param


def test_c_test_is_exactly_float():
    floats = entry._c_floats()
    if floats is None:
        # CI's editable install (pip install -e .) compiles symgrad/_speedups.c: there a
        # run without it is a broken build, not a machine without a compiler
        assert not os.environ.get("CI") or os.environ.get("SYMGRAD_PURE_PYTHON")
        pytest.skip("symgrad._speedups was not built here")

    class Sub(float):
        pass
    assert floats() is True and floats(1.0, -0.0, math.inf, math.nan) is True
    for bad in (True, False, 1, "1.0", None, Sub(1.0), np.float64(1.0), [1.0]):
        assert floats(1.0, 2.0, bad) is False and floats(bad) is False


@pytest.mark.parametrize("n", [1, 13, 14, 30])      # 3, 29 (one C call over), 61 arguments
def test_bad_arguments_are_refused_in_every_position(tmp_path, impl, n):
    mod = _module(tmp_path, f"wide_{impl}_{n}", n)
    vg = symgrad.value_and_grad(mod.wide)
    rng = np.random.default_rng(n)
    point = [float(v) for v in rng.uniform(-0.5, 0.5, 2 * n + 1)]
    value, grads = vg(*point)
    assert_close(value, mod.wide(*point))
    assert_close(list(grads), finite_diff(mod.wide, point), rtol=1e-6, atol=1e-8)
    names = [f"x{i}" for i in range(n)] + [f"w{i}" for i in range(n)] + ["b"]
    for pos in sorted({0, 27, 28, 29, len(point) - 1} & set(range(len(point)))):
        for bad in (True, False, "0.5", np.bool_(True)):
            args = list(point)
            args[pos] = bad
            with pytest.raises(ArgumentError, match=f"argument '{names[pos]}' of d_wide"):
                vg(*args)
        for fine in (3, np.float64(0.25), np.int64(-2)):     # numbers: the exact rule
            args = list(point)
            args[pos] = fine
            as_float = list(point)
            as_float[pos] = float(fine)
            got, want = vg(*args), vg(*as_float)
            assert_close(got[0], want[0])
            assert_close(list(got[1]), list(want[1]))


def test_defaults_and_other_kinds_beside_numbers(tmp_path, impl):
    mod = _module(tmp_path, f"small_{impl}", 2)
    g = symgrad.grad(mod.small)
    assert_close(list(g(0.3)), [math.cos(0.3) + 2.0, 0.3])   # y from its default
    assert_close(list(g(0.3, 1.5)), [1.5 + math.cos(0.3), 0.3])
    with pytest.raises(ArgumentError, match="argument 'y'"):
        g(0.3, True)
    m = symgrad.grad(mod.mixed, wrt=["x", "table", "k"])
    dx, dtable, dk = m(0.5, {"a": 2.0, "b": 3.0}, 1.5)
    assert (dx, dtable, dk) == (2.0, {"a": 0.5, "b": 2.25}, 9.0)
    with pytest.raises(ArgumentError, match="argument 'k'"):
        m(0.5, {"a": 2.0, "b": 3.0}, "1.5")
    with pytest.raises(ArgumentError, match="argument 'table'"):
        m(0.5, [2.0, 3.0], 1.5)


def test_the_first_line_uses_the_test_that_was_built(tmp_path, impl):
    mod = _module(tmp_path, f"first_{impl}", 14)
    vg = symgrad.value_and_grad(mod.wide)
    if impl == "c-call":       # tested before the call: the gradient itself is called
        assert type(vg.func).__name__ == "Checked" and vg.func.fast is vg.fast
        return
    code = vg.func.__code__                  # the gradient with the test fused in
    names = set(code.co_names) | set(code.co_freevars)
    assert ("_sg_floats" in names) == (impl == "c-line")
    assert ("_sg_type" in names) == (impl == "python")


def test_calls_the_c_test_sends_on_keep_their_meaning(tmp_path, impl):
    """Keywords, arguments left to their defaults and too many arguments do not pass the
    C test: they take the checked entry, which binds them as Python does."""
    mod = _module(tmp_path, f"forms_{impl}", 2)
    g = symgrad.grad(mod.small)
    want = [math.cos(0.3) + 1.5, 0.3]
    assert_close(list(g(x=0.3, y=1.5)), want)
    assert_close(list(g(0.3, y=1.5)), want)
    assert_close(list(g(y=1.5, x=0.3)), want)
    assert_close(list(g(0.3)), [math.cos(0.3) + 2.0, 0.3])
    assert_close(list(g(0.3, 1.5, 2.0)), [2 * v for v in want])     # d_out given
    with pytest.raises(TypeError):
        g(0.3, 1.5, 2.0, 4.0)
    with pytest.raises(TypeError):
        g()
    with pytest.raises(ArgumentError, match="argument 'x'"):
        g(x=True, y=1.5)


def test_a_gradient_called_through_the_c_test_is_collected(tmp_path, impl):
    """The C object and the gradient refer to each other (its slow path is the gradient's
    entry): the cycle is the garbage collector's to free."""
    import gc
    import weakref
    mod = _module(tmp_path, f"gc_{impl}", 3)
    vg = symgrad.value_and_grad(mod.wide)
    assert_close(vg(*[0.1] * 7)[0], mod.wide(*[0.1] * 7))
    with pytest.raises(ArgumentError):
        vg(*[0.1] * 6, True)                 # (the slow entry made)
    ref = weakref.ref(vg)
    symgrad.api._cache.clear()               # (grad(f) memoizes its gradient per f)
    del vg
    gc.collect()
    assert ref() is None


def test_checked_routes_each_call():
    from symgrad import _speedups
    if entry._c_checked() is None:
        assert not os.environ.get("CI") or os.environ.get("SYMGRAD_PURE_PYTHON")
        pytest.skip("symgrad._speedups was not built here")
    c = _speedups.checked(lambda *a: ("fast", a), lambda *a, **k: ("slow", a, k), (0, 2))
    assert c(1.0, "anything", 3.0) == ("fast", (1.0, "anything", 3.0))
    assert c(1.0, 2, 3.0, 4) == ("fast", (1.0, 2, 3.0, 4))
    assert c(1.0, 2, 3) == ("slow", (1.0, 2, 3), {})
    assert c(True, 2, 3.0) == ("slow", (True, 2, 3.0), {})
    assert c(1.0, 2) == ("slow", (1.0, 2), {})
    assert c(1.0, 2, 3.0, z=1) == ("slow", (1.0, 2, 3.0), {"z": 1})
    with pytest.raises(ValueError):
        _speedups.checked(len, len, (0, -1))
    with pytest.raises(TypeError):
        _speedups.checked(len, len, [0])
    with pytest.raises(TypeError):
        _speedups.Checked()


def test_pure_python_is_chosen_by_the_environment():
    code = ("import symgrad.entry as e, sys; "
            "sys.exit(0 if e._FLOATS is None and e._CHECKED is None else 1)")
    env = {**os.environ, "SYMGRAD_PURE_PYTHON": "1", "PYTHONPATH": ROOT}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
