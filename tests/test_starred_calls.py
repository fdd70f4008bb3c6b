"""Calls with ``*`` arguments (symgrad.lower_star): ``f(*xs)`` of a list known only when
the code runs is spread as Python spreads it (as many items as the callee's parameters
take, after Python's test of the length; a ``*args`` parameter gets a tuple of the rest),
``max(*xs)``/``min(*xs)``, ``zip(*rows)``, ``math.hypot(*v)``, ``print(*xs)``.

Each function is differentiated in every mode and compared with central finite
differences (second derivatives with differences of the gradient) and with the
``Value`` engine (``symgrad.check``, which runs the function itself on ``Value``
numbers); where Python raises (a list of another length), every mode raises the same
exception type.  Before, these calls were refused ("a starred argument of unknown
length"), and ``max(*ns)`` of a list not differentiated printed code Python cannot
compile."""

import copy

import pytest

from fuzz_oracles import load
from every_mode import MODES, check_every_mode, python

import symgrad
from symgrad.errors import SymgradError, UnsupportedSyntaxError

SOURCE = '''
import functools
import math
from typing import NamedTuple


def mul2(a, b):
    return a * b


def affine(a, b, c):
    return a * b - c


def with_default(a, b=2.0):
    return a * b


def head_and_rest(a, *rest):
    return a * sum(rest) + len(rest)


def rest_only(*rest):
    return sum(r * r for r in rest) * rest[0]


def exactly_two(xs):
    return mul2(*xs)


def keyword_fixes_the_length(xs):
    return with_default(*xs, b=xs[0])


def before_and_after(x, xs):
    return affine(x, *xs, x * 2.0)


def keyword_after(xs):
    return affine(*xs, c=xs[0] ** 2)


def into_star_args(x, xs):
    return head_and_rest(x, *xs)


def straddles_star_args(xs):
    return head_and_rest(*xs)


def two_lists(x, xs):
    ys = [x * x, x]
    return head_and_rest(*xs, *ys)


def a_lambda(xs):
    g = lambda u, v: u - v * v
    return g(*xs) * math.exp(xs[0])


def lambda_star_args(xs):
    g = lambda *t: sum(t) * t[0]
    return g(*xs)


def forwarded(xs):
    def inner(*args):
        return rest_only(*args)
    return inner(*xs)


def math_function(xs):
    return math.atan2(*xs)


def hypot_of_a_list(xs):
    return math.hypot(*xs)


def max_and_min(x, xs):
    return max(x, *xs) * min(*xs, x)


def max_of_a_list(xs):
    return max(*xs) - min(*xs)


def columns(xs):
    pts = [(xs[0], xs[1]), (xs[2], xs[3]), (xs[4], xs[5])]
    us, vs = zip(*pts)
    return sum(u * v for u, v in zip(us, vs)) + us[0] * vs[-1]


def columns_in_a_loop(x, rows):
    s = 0.0
    for col in zip(*rows):
        s = s + x * col[0] * col[-1]
    return s


def columns_read_as_the_loop_steps(x, rows):
    # Python's zip reads each row's item as the loop reaches it: the write into the
    # first row is seen by the later steps (before, every column was read first)
    s = 0.0
    for col in zip(*rows):
        rows[0][-1] = x * x
        s = s + col[0] * col[-1]
    return s


def grow(row, v):
    row.append(v)


def columns_of_rows_that_grow(x, rows):
    # the shortest row grows by one at every step: zip's length is read at every step
    s = 0.0
    for k, (a, b) in enumerate(zip(x, *rows)):
        if k < 3:
            grow(rows[-1], a * b)
        s = s + a * b
    return s


def hypot_of_scaled(x, xs):
    return x + math.hypot(*[x * v for v in xs])


def spread_in_a_loop(xs):
    s = 0.0
    for p in [[xs[0], xs[1]], [xs[1], xs[2]]]:
        s = s + mul2(*p)
    return s


def display_spread(x, y):
    return affine(*[y, x], c=x)


def tuple_spread(x, y):
    t = (x, y)
    return affine(*t, 1.5)


def list_display_with_star(x, xs):
    ys = [x, *xs, x * x]
    return sum(y * y for y in ys)


def printed(x, xs):
    print(*xs, sep=",")
    return x * 2.0


def changed_while_passed(x, y):
    xs = [x, y]
    return affine(xs.pop(), *xs, 1.0)


def star_args_changed(x, xs):
    def grow(*rest):
        rest.append(x)
        return sum(rest)
    return grow(*xs)


def star_args_is_a_tuple(x, xs):
    def kind(*rest):
        return x * 2.0 if isinstance(rest, tuple) else x
    return kind(*xs)


class Layer:
    def __init__(self, w):
        self.w = w

    def forward(self, a, b):
        return self.w * a * b

    def total(self, *parts):
        return self.w * sum(parts) + len(parts)


LAYER = Layer(1.5)


def methods_of_a_module_object(xs):
    return LAYER.forward(*xs) + LAYER.total(*xs, xs[0])


class Pair(NamedTuple):
    a: float
    b: float


def a_named_tuple(xs):
    p = Pair(*xs)
    return p.a * p.b + p.b


def a_partial(x, xs):
    g = functools.partial(lambda a, b, c: a * b + c * c, x)
    h = functools.partial(affine, c=x)
    return g(*xs) + h(*xs)


def tuple_of_a_list(x, xs):
    t = tuple(xs)
    return t[0] * x + len(t)
'''

# (function, points): the first argument differentiated; points where Python raises
# included (a list of another length, fewer than two numbers for max)
CASES = [
    ("exactly_two", [([1.5, -2.0],), ([1.5, -2.0, 3.0],), ([1.5],)]),
    ("keyword_fixes_the_length", [([1.5],), ([1.5, 2.0],)]),
    ("before_and_after", [(0.7, [1.5]), (0.7, [1.5, 2.0]), (0.7, [])]),
    ("keyword_after", [([1.5, -0.5],), ([1.5],)]),
    ("into_star_args", [(0.7, [1.5, -0.5, 2.0]), (0.7, [])]),
    ("straddles_star_args", [([1.5, -0.5, 2.0],), ([1.5],), ([],)]),
    ("two_lists", [(0.7, [1.5, -0.5]), (0.7, [])]),
    ("a_lambda", [([0.3, -0.5],), ([0.3],)]),
    ("lambda_star_args", [([0.3, -0.5, 2.0],), ([],)]),
    ("forwarded", [([0.3, -0.5, 2.0],), ([],)]),
    ("math_function", [([0.3, -0.5],), ([0.3, -0.5, 1.0],)]),
    ("hypot_of_a_list", [([0.3, -0.5, 2.0],), ([0.3],)]),
    ("max_and_min", [(0.7, [1.5, -0.5]), (0.7, [])]),
    ("max_of_a_list", [([0.3, -0.5, 2.0],), ([0.3],), ([],)]),
    ("columns", [([0.3, -0.5, 2.0, 1.25, -1.0, 0.75],)]),
    ("columns_in_a_loop", [(0.7, [[1.5, -0.5, 2.0], [0.25, 1.0]]), (0.7, [])]),
    ("columns_read_as_the_loop_steps", [(0.7, [[1.5, -0.5, 2.0], [0.25, 1.0, 3.0]]),
                                        (0.7, [[1.5], [0.25, 1.0]])]),
    ("columns_of_rows_that_grow", [([0.7, 1.5, -0.5, 2.0, 1.25], [[0.5, 1.0]]),
                                   ([0.7, 1.5], [[0.5, 1.0], [2.0]])]),
    ("hypot_of_scaled", [(0.7, [0.5, -1.0]), (0.7, [])]),
    ("spread_in_a_loop", [([0.3, -0.5, 2.0],)]),
    ("display_spread", [(0.3, -0.5)]),
    ("tuple_spread", [(0.3, -0.5)]),
    ("list_display_with_star", [(0.3, [-0.5, 2.0]), (0.3, [])]),
    ("printed", [(0.3, [-0.5, 2.0])]),
    ("changed_while_passed", [(0.3, -0.5)]),
    ("star_args_changed", [(0.3, [-0.5, 2.0])]),
    ("star_args_is_a_tuple", [(0.3, [-0.5, 2.0])]),
    ("tuple_of_a_list", [(0.3, [-0.5, 2.0])]),
    ("methods_of_a_module_object", [([0.3, -0.5],), ([0.3],)]),
    ("a_named_tuple", [([0.3, -0.5],), ([0.3, -0.5, 1.0],)]),
    ("a_partial", [(0.7, [0.3, -0.5]), (0.7, [0.3])]),
]

@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name,points", CASES, ids=[c[0] for c in CASES])
def test_every_mode_as_python(mod, name, points, mode):
    check_every_mode(getattr(mod, name), name, points, mode)


def test_python_raises_at_the_points_given(mod):
    """The cases include points where Python raises (so the raising is tested)."""
    raised = {name for name, points in CASES for args in points
              if python(getattr(mod, name), args) is not None}
    assert {"exactly_two", "straddles_star_args", "max_of_a_list", "math_function",
            "star_args_changed"} <= raised


@pytest.mark.parametrize("name,args", [
    ("exactly_two", ([1.5, -2.0],)), ("into_star_args", (0.7, [1.5, -0.5, 2.0])),
    ("max_and_min", (0.7, [1.5, -0.5])), ("columns", ([0.3, -0.5, 2.0, 1.25, -1.0, 0.75],)),
    ("hypot_of_a_list", ([0.3, -0.5, 2.0],)), ("two_lists", (0.7, [1.5, -0.5])),
    ("columns_read_as_the_loop_steps", (0.7, [[1.5, -0.5, 2.0], [0.25, 1.0, 3.0]])),
    ("columns_of_rows_that_grow", ([0.7, 1.5, -0.5, 2.0, 1.25], [[0.5, 1.0]])),
    ("hypot_of_scaled", (0.7, [])),
])
def test_against_the_value_engine(mod, name, args):
    report = symgrad.check(getattr(mod, name), *copy.deepcopy(args), engines=("value", "fd"))
    assert report.ok, str(report)


def test_the_generated_code_reads_as_written(mod):
    src = symgrad.grad(mod.exactly_two).source
    assert "if len(xs) != 2:" in src and "raise TypeError" in src
    assert "xs[0]" in src and "xs[1]" in src and "__star" not in src
    src = symgrad.grad(mod.into_star_args, wrt=(0, 1)).source
    assert "inlined head_and_rest(x, *xs):" in src and "__star" not in src
    src = symgrad.grad(mod.printed).source
    assert "print(*xs, sep=',')" in src


def test_the_columns_are_read_at_each_step(mod):
    """The value the loop sees is Python's (the eager reading gave 3.0 for 2.0 here)."""
    f = mod.columns_read_as_the_loop_steps
    rows = [[1.0, 1.0], [1.0, 1.0]]
    g = symgrad.value_and_grad(f)
    value, d = g(1.0, copy.deepcopy(rows))
    assert value == f(1.0, copy.deepcopy(rows)) == 2.0
    # d/dx of 1 + x*x at 1; rows[0][1] is overwritten before the loop reads it
    assert d[0] == pytest.approx(2.0) and d[1] == [[1.0, 0.0], [1.0, 1.0]]


def test_reversed_zip_is_refused():
    """Python raises TypeError ('zip' object is not reversible): refused, not walked."""
    f = load('''
def f(xs, ys):
    s = 0.0
    for a, b in reversed(zip(xs, ys)):
        s = s + a * b
    return s
''').f
    with pytest.raises(UnsupportedSyntaxError, match="not reversible"):
        symgrad.grad(f)([1.0, 2.0], [3.0, 4.0])


def test_binding_that_depends_on_the_length_is_refused():
    f = load('''
def with_default(a, b=2.0):
    return a * b


def ambiguous(xs):
    return with_default(*xs)
''').ambiguous
    with pytest.raises(UnsupportedSyntaxError, match="starred argument whose length decides"):
        symgrad.grad(f)([1.0, 2.0])


def test_a_differentiated_list_into_an_unknown_call_is_refused():
    f = load('''
import random


def opaque(x, xs):
    return x * random.betavariate(*xs)
''').opaque
    with pytest.raises(SymgradError, match="betavariate"):
        symgrad.grad(f)(1.0, [1.0, 2.0])


def test_a_spread_into_a_modelled_draw():
    """``random.uniform(*xs)``: the model's parameters take the items (a + (b - a) u)."""
    import random
    f = load('''
import random


def drawn(x, xs):
    return x * random.uniform(*xs)
''').drawn
    random.seed(2)
    u = random.random()
    random.seed(2)
    d_x, d_xs = symgrad.grad(f)(1.5, [1.0, 2.0])
    assert d_x == pytest.approx(1.0 + u) and d_xs == pytest.approx([1.5 * (1 - u), 1.5 * u])


def test_a_constant_list_spread_into_a_builtin_compiles():
    """``max(*ns)`` of a list not differentiated printed ``*ns`` alone (a SyntaxError)."""
    m = load('''
def f(x):
    ns = [1, 3, 2]
    return x * max(*ns) + x * min(*ns)


def g(x):
    ns = [[1.0, 2.0], [3.0, 4.0]]
    return x * sum(a * b for a, b in zip(*ns))
''')
    assert symgrad.grad(m.f)(2.0) == pytest.approx(4.0)
    assert symgrad.grad(m.g)(2.0) == pytest.approx(11.0)
