"""The fuzz references themselves, on hand-written programs whose gradients are known.

The fuzz tests trust two references that run the program (``fuzz_oracles.py``):
60-digit finite differences and the ``Value`` engine.  Here each family of issue 11
gets programs where Python's semantics decide the answer (late binding, defaults,
``nonlocal``, aliasing, shared rows, ``or`` returning an operand, ``key=``, ties in
``sorted``, decorators, globals), with the gradient worked out by hand; both references
must give it, and the kink rule must accept or exclude the point as documented.
"""
from __future__ import annotations

import copy
import math
import textwrap

import pytest

import fuzz
from fuzz_families import DECORATORS

CASES = [
    # (source of f, args, hand-derived gradient wrt every argument)
    pytest.param("""
def f(x0, x1):
    a = x0
    def g(t):
        return t * a          # a is read when g runs: x1 * x1
    a = x1 * x1
    return g(x0)
""", [1.5, -0.5], [0.25, -1.5], id="closure late binding"),
    pytest.param("""
def f(x0, x1):
    def g(t, s=x0 * 2.0):     # evaluated once, here
        return t * s
    x0 = 5.0
    return g(x1)
""", [0.5, 1.25], [2.5, 1.0], id="closure default at def time"),
    pytest.param("""
def f(x0, x1):
    acc = x0
    def mul(t):
        nonlocal acc
        acc = acc * t
        return acc
    for i in range(2):
        mul(x1)
    return acc
""", [0.5, 1.5], [2.25, 1.5], id="closure nonlocal in a loop"),
    pytest.param("""
def f(x0, x1):
    if x0 > 0.0:
        def g(t):
            return t * x1
    else:
        def g(t):
            return t + x1
    return g(x0)
""", [-1.0, 2.0], [1.0, 1.0], id="closure def in both branches"),
    pytest.param("""
def f(x0, xs):
    y = xs
    y[0] = y[0] * x0
    return xs[0] + sum(xs)
""", [2.0, [3.0, 4.0]], [6.0, [4.0, 1.0]], id="alias write, read through xs"),
    pytest.param("""
def f(x0):
    T = [[0.0] * 2] * 3       # one row object three times
    T[0][1] = x0
    return T[2][1] * x0
""", [1.5], [3.0], id="shared rows of a [[c] * n] * m table"),
    pytest.param("""
def f(xs, W):
    return W[0][0] * W[1][0] * xs[0]
""", [[2.0], None], [[12.0], [[12.0], [12.0]]], id="arguments sharing one list"),
    pytest.param("""
def f(x0, W):
    for row in W:
        row[0] = row[0] * x0
    W[0], W[1] = W[1], W[0]
    return W[0][0] + 2.0 * W[1][0]
""", [3.0, [[1.0], [5.0]]], [7.0, [[6.0], [3.0]]], id="rows written in a loop, swapped"),
    pytest.param("""
def f(x0, x1):
    L = [x0]
    R = []
    R.append(L)
    y = L
    y.append(x1)
    L[0] = L[0] * 3.0
    return R[0][0] * R[0][1]
""", [2.0, 5.0], [15.0, 6.0], id="list appended into a list, then mutated"),
    pytest.param("""
def f(x0, x1):
    return ((x0 - x0) or 2.0 * x1) + (x1 and x0)
""", [0.75, -1.5], [1.0, 2.0], id="or/and return an operand, exact zero"),
    pytest.param("""
def f(x0, x1):
    return (x0 > 0.0 and (x1 - x1) or x0 * x1)
""", [2.0, 3.0], [3.0, 2.0], id="c and a or b falls through on 0.0"),
    pytest.param("""
def f(x0, x1, xs):
    return (max(x0, x1, key=abs) + min(xs, key=lambda t: (t - 0.5) ** 2)
            + sum(xs, x0) + max([w for w in xs if w > 5.0], default=x1))
""", [0.5, -2.0, [0.25, 2.0]], [1.0, 2.0, [2.0, 1.0]], id="key=, sum start, default="),
    pytest.param("""
def f(x0, x1):
    s = sorted([x0, x1, x0], key=abs, reverse=True)
    return s[0] * 1.0 + s[1] * 10.0 + s[2] * 100.0
""", [-0.5, 2.0], [110.0, 1.0], id="sorted with a tie by construction"),
    pytest.param("""
import functools

def twice(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)
    return wrapper

@twice
def h(a, c=0.5):
    return a * c

@twice
def f(x0):
    return h(x0, c=x0) + h(x0)
""", [1.5], [14.0], id="decorated helper and f"),
]


def _load_args(source: str, args: list) -> list:
    if "W" in source and args[1] is None:            # the sharing case: W = [xs, xs]
        args = [args[0], [args[0], args[0]]]
    return args


@pytest.mark.parametrize("source, args, want", CASES)
def test_references_follow_python(source, args, want):
    source = "import math\n\nimport symgrad\n" + source
    args = _load_args(source, args)
    wrt = list(range(len(args)))
    value = fuzz.load(source).f(*copy.deepcopy(args))
    assert all(m > fuzz.MARGIN for m in fuzz.margins(source, args))
    exact_value, exact = fuzz.exact_grad(source, args, wrt)
    v_value, v_grad = fuzz.value_grad(source, copy.deepcopy(args), wrt)
    assert exact_value == pytest.approx(value) and v_value == pytest.approx(value)
    assert _flat(exact) == pytest.approx(_flat(want), abs=1e-12)
    assert _flat(v_grad) == pytest.approx(_flat(want), abs=1e-12)


def _flat(x):
    return [w for v in x for w in _flat(v)] if isinstance(x, list) else [x]


def test_global_override():
    source = "G = 2.0\nGL = [1.0, 2.0]\n\ndef f(x):\n    return G * x * sum(GL)\n"
    glob = {"G": 3.0, "GL": [1.0, 1.0, 1.0]}
    assert fuzz.exact_grad(source, [2.0], [0], glob)[1] == pytest.approx([9.0])
    assert fuzz.value_grad(source, [2.0], [0], glob)[1] == pytest.approx([9.0])
    assert fuzz.exact_grad(source, [2.0], [0])[1] == pytest.approx([6.0])


@pytest.mark.parametrize("source, args, excluded", [
    ("def f(x0, x1):\n    return (x0 - x0) or x1\n", [0.5, 1.0], False),   # 0.0 by construction
    ("def f(x0, x1):\n    return x0 or x1\n", [0.0, 1.0], True),           # drawn as 0.0
    ("def f(x0, x1):\n    return x0 or x1\n", [1e-4, 1.0], True),          # near 0.0
    ("def f(x0, x1):\n    return sorted([x0, x1, x0])[1]\n", [0.5, 1.0], False),
    ("def f(x0, x1):\n    return sorted([x0, x1])[1]\n", [0.5, 0.5], True),  # coincidental tie
    ("def f(x0, x1):\n    return max(x0, x1, key=abs)\n", [0.5, -0.5], True),
    ("def f(x0, x1):\n    return max([x0, x1], key=abs, default=0.0)\n", [0.5, -0.7], False),
    ("def f(x0, x1):\n    if not x0 - x1:\n        return x0\n    return x1\n", [0.5, 0.5], True),
])
def test_kink_rule(source, args, excluded):
    assert (min(fuzz.margins(source, args), default=math.inf) <= fuzz.MARGIN) == excluded


STAR_SOURCE = "import functools\n\n" + textwrap.dedent(DECORATORS["scaled"]) + """

def hd(a, b=0.5, *rest):
    return a * b + sum(rest)


@scaled(1.5)
def f(x0, us, rows):
    v = hd(*us)
    s = 0.0
    for r in rows:
        s = s + r * x0
    return v + s
"""


def test_the_star_refusal_oracle_accepts_a_mode_with_nothing_differentiated():
    """The stars family's refusal oracle: every mode must refuse a call whose binding
    depends on a spread list's length, but ``jvp`` with ``wrt`` only an empty list has
    zero tangents, so nothing is differentiated and (value, 0) is right (the 10,000-
    program run at seed 20261209 met this, through a decorator's wrapper, which
    ``jvp`` then leaves undifferentiated); with a number in ``wrt`` it must refuse."""
    from fuzz_stars import refusal_failure

    class Prog:
        params, scalars, features = ["x0", "us", "rows"], ["x0"], set()
    f = fuzz.load(STAR_SOURCE).f
    args = [0.7, [1.5, -0.5, 2.0], []]
    assert refusal_failure(f, Prog, args, ["rows"]) is None
    assert refusal_failure(f, Prog, args, ["x0"]) is None
    assert refusal_failure(f, Prog, [0.7, [1.5, -0.5, 2.0], [1.0]], ["rows"]) is None
