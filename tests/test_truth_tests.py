"""Conditions that test a list (a dict) beside numbers: ``if xs and xs[0] > 0:``,
``while stack and stack[-1] < v:``, ``if not (xs or ys):``.  Only their truth matters,
so a list is tested with ``bool`` (empty or not, as Python does) and the comparison
after it runs only when Python runs it.  Before, the ``and`` was lowered as a value
(the list or the comparison), which made the list a number: every such function was
refused at the call ("argument 'xs' ... uses as a number").  Checked in every mode
against finite differences, at points where the lists are empty and where they are
not."""

import copy

import pytest

from fuzz_oracles import load
from numeric import assert_close, finite_diff

import symgrad

SOURCE = '''
import math


def first_if_positive(x, xs):
    if xs and xs[0] > 0:
        return x * xs[0]
    return x * x


def monotonic_stack(x, xs):
    """For each value the sum of the smaller values popped before it is pushed."""
    stack = []
    total = 0.0
    for v in xs:
        while stack and stack[-1] < v * x:
            total = total + stack.pop() * v
        stack.append(v * x)
    return total + sum(stack)


def neither(x, xs, ys):
    if not (xs or ys):
        return math.sin(x)
    return x * (sum(xs) + sum(ys))


def either_nonempty(x, xs, ys):
    s = x if xs or ys else 2.0 * x
    return s * s


def filtered(x, xs):
    return sum(v * x for v in xs if v and v > 0.5)


def dict_truth(x, d):
    if d and d.get("k", 0.0) > 1.0:
        return x * d["k"]
    return x


def numbers_too(x, y):
    if x > 0 and (y or x > 2.0):
        return x * y
    return x - y
'''

CASES = [
    ("first_if_positive", [(0.7, [1.5, 2.0]), (0.7, [-1.5]), (0.7, [])]),
    ("monotonic_stack", [(0.7, [1.5, 0.25, 2.0, 1.0]), (1.3, [0.5, 3.0]), (0.7, [])]),
    ("neither", [(0.7, [], []), (0.7, [1.5], []), (0.7, [], [2.5, 1.0])]),
    ("either_nonempty", [(0.7, [], []), (0.7, [], [1.0])]),
    ("filtered", [(0.7, [1.5, 0.0, 0.25, 2.0]), (0.7, [])]),
    ("dict_truth", [(0.7, {"k": 1.5}), (0.7, {}), (0.7, {"k": 0.5})]),
    ("numbers_too", [(0.7, 1.5), (0.7, 0.0), (-0.7, 1.5), (2.5, 0.0)]),
]


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


@pytest.mark.parametrize("name,points", CASES, ids=[c[0] for c in CASES])
def test_gradients(mod, name, points):
    f = getattr(mod, name)
    for args in points:
        want = finite_diff(lambda x: f(x, *copy.deepcopy(args[1:])), [args[0]])[0]
        assert_close(symgrad.grad(f, wrt=0)(*copy.deepcopy(args)), want, what=f"{name}{args}")
        value, g = symgrad.value_and_grad(f, wrt=0)(*copy.deepcopy(args))
        assert value == f(*copy.deepcopy(args))
        assert_close(g, want, what=f"{name}{args}")
        tangent = symgrad.jvp(f, tuple(copy.deepcopy(args)),
                              (1.0,) + tuple(_zeros(a) for a in args[1:]))[1]
        assert_close(tangent, want, what=f"jvp of {name}{args}")
        h = 1e-5
        g0 = symgrad.grad(f, wrt=0)
        second = (g0(args[0] + h, *copy.deepcopy(args[1:])) -
                  g0(args[0] - h, *copy.deepcopy(args[1:]))) / (2 * h)
        assert_close(symgrad.hessian(f, wrt=0)(*copy.deepcopy(args)), second, rtol=1e-5,
                     atol=1e-6, what=f"hessian of {name}{args}")


def _zeros(a):
    if isinstance(a, list):
        return [0.0 for _ in a]
    if isinstance(a, dict):
        return {k: 0.0 for k in a}
    return 0.0


def test_the_list_gradient_of_the_stack(mod):
    args = [0.7, [1.5, 0.25, 2.0, 1.0]]
    g = symgrad.grad(mod.monotonic_stack)(*copy.deepcopy(args))
    assert_close(list(g), finite_diff(mod.monotonic_stack, copy.deepcopy(args)))


def test_the_truth_of_a_list_reads_as_python(mod):
    src = symgrad.grad(mod.first_if_positive).source
    assert "bool(xs)" in src


def test_a_branch_on_a_list_the_branch_changes_is_taken_again_as_it_was():
    """``if rs: s = rs.pop() * x``: the adjoint sweep tested ``rs`` again after the pop
    (empty: the other branch), a silently wrong gradient, (0.0, []) for (1.5, [0.5]);
    the truth is now kept (``_c = bool(rs)``).  Found by the resize fuzz family."""
    m = load('''
def popped(x, rs):
    s = 0.0
    if rs:
        s = rs.pop() * x
    return s


def popped_in_a_loop(x, rs):
    s = 0.0
    for k in range(2):
        if rs:
            s = s + rs.pop() * x
    return s
''')
    for f, rs in ((m.popped, [1.5]), (m.popped, []), (m.popped_in_a_loop, [1.5, 2.0]),
                  (m.popped_in_a_loop, [0.5])):
        for make in (symgrad.grad, lambda f: (lambda *a: symgrad.value_and_grad(f)(*a)[1])):
            g = make(f)(0.5, list(rs))
            assert_close(list(g), finite_diff(f, [0.5, list(rs)]), what=f.__name__)
