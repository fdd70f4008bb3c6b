"""Deeply nested loops: analysed in polynomial time, differentiated correctly, and refused
with a symgrad error (file, line, what to do) where the gradient would nest deeper than
Python compiles (20 loops inside each other, 100 levels of indentation).

Two fixed points over nested loops (the tape's liveness of restores, the dead-store pass)
started every visit of an inner loop from nothing, so each level cost twice the one
inside it: 14 nested loops took 1.8 s to transform, and a recursion through ``map``
(``all(map(close, a, b))``, written out 32 calls deep) did not finish."""

import linecache
import math

import pytest

from numeric import assert_close, finite_diff

import symgrad
from symgrad import optimize, tape
from symgrad.errors import UnsupportedSyntaxError


def nested_source(depth, name="f", inner="s = s + xs[i{last}] * x", stop=2):
    """``def f(x, xs)`` with ``depth`` loops inside each other, each updating ``s``."""
    lines = [f"def {name}(x, xs):", "    s = 0.0"]
    ind = "    "
    for i in range(depth):
        lines.append(f"{ind}for i{i} in range({stop}):")
        ind += "    "
        lines.append(f"{ind}s = s * 0.5 + math.sin(x * i{i})")
    lines.append(ind + inner.format(last=depth - 1))
    lines.append("    return s")
    return "\n".join(lines) + "\n"


def load_source(src, label):
    filename = f"<deep nesting {label}>"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns = {"math": math}
    exec(compile(src, filename, "exec"), ns)
    return ns


def counting(monkeypatch, module, name):
    calls = [0]
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)
    monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("depth", [4, 8, 12])
def test_each_loop_is_analysed_a_few_times_not_twice_per_level(monkeypatch, depth):
    """The body of the innermost of ``depth`` loops is analysed O(depth) times by each
    fixed point (it was 2**depth: 4096 visits at 12)."""
    f = load_source(nested_source(depth), f"count {depth}")["f"]
    live = counting(monkeypatch, tape, "_live_loop")
    stores = counting(monkeypatch, optimize._Stores, "body_entry")
    symgrad.grad(f, wrt=["x", "xs"]).source
    assert live[0] <= 4 * depth * depth, live[0]
    assert stores[0] <= 8 * depth * depth, stores[0]


@pytest.mark.parametrize("depth", [3, 6, 9])
def test_nested_loops_match_finite_differences(depth):
    f = load_source(nested_source(depth), f"fd {depth}")["f"]
    x, xs = 0.7, [1.5, -0.5]
    got = symgrad.grad(f, wrt=["x", "xs"])(x, list(xs))
    want = finite_diff(lambda x, xs: f(x, xs), [x, list(xs)])
    assert_close(got[0], want[0], rtol=1e-5, what=f"d/dx at depth {depth}")
    assert_close(got[1], want[1], rtol=1e-5, what=f"d/dxs at depth {depth}")
    value, _ = symgrad.value_and_grad(f)(x, list(xs))
    assert value == f(x, list(xs))


def test_twenty_loops_inside_each_other_through_a_helper_work():
    """10 loops that call a helper of 10 loops: 20 inside each other, as many as Python
    compiles; the gradient is printed and matches finite differences."""
    helper = nested_source(10, "helper", stop=1)
    outer = nested_source(10, "f", inner="s = s + helper(x, xs) * x", stop=1)
    ns = load_source(helper + "\n\n" + outer, "twenty")
    f = ns["f"]
    got = symgrad.grad(f, wrt="x")(0.3, [2.0])
    want = finite_diff(lambda x: f(x, [2.0]), [0.3])[0]
    assert_close(got, want, rtol=1e-5, what="twenty loops")


def test_more_loops_inside_each_other_than_python_compiles_are_refused():
    helper = nested_source(11, "helper", stop=1)
    outer = nested_source(11, "f", inner="s = s + helper(x, xs) * x", stop=1)
    ns = load_source(helper + "\n\n" + outer, "too deep")
    with pytest.raises(UnsupportedSyntaxError) as info:
        symgrad.grad(ns["f"], wrt="x").source
    msg = str(info.value)
    assert "<deep nesting too deep>" in msg and "line" in msg
    assert "loops inside each other" in msg and "hint: flatten" in msg


def close(a, b):
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(close, a, b))
    return a == b


def test_a_recursion_through_map_is_refused_not_left_running():
    """Recursion through ``map`` is written out 32 calls deep (a list of lists of ...):
    its gradient nests deeper than Python compiles.  It was analysed in exponential time."""
    with pytest.raises(UnsupportedSyntaxError) as info:
        symgrad.grad(close, wrt=0).source
    msg = str(info.value)
    assert __file__ in msg and "all(map(close, a, b))" in msg
