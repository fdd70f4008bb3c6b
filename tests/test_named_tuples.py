"""NamedTuples made inside the differentiated function: fields read by name, by index and
by unpacking, methods and properties inlined with the tuple as ``self``, made by helpers,
rebuilt in loops and assigned in both branches of an if.  Every gradient against central
finite differences, the Hessian against differences of the gradient, and check()'s four
engines; what Python refuses is refused with the line."""

import math
from collections import namedtuple
from typing import NamedTuple

import pytest

import symgrad
from symgrad import UnsupportedSyntaxError


class Point(NamedTuple):
    x: float
    y: float
    w: float = 1.0
    SCALE = 2.0

    def norm(self):
        return math.sqrt(self.x ** 2 + self.y ** 2) * self.w

    @property
    def area(self):
        return self.x * self.y

    def moved(self, d):
        return Point(self.x + d, self.y - d, self.w)

    @staticmethod
    def squash(v):
        return math.tanh(v)


Pair = namedtuple("Pair", "a b")


class Doubled(namedtuple("Doubled", "a")):    # its own __new__: not a plain NamedTuple
    def __new__(cls, a):
        return super().__new__(cls, a * 2.0)


def fields_methods_and_constants(x, y):
    p = Point(x, y)
    return p.norm() + p.area * p.SCALE + p[0] * p.w + p.squash(p.y)


def keywords_defaults_and_unpacking(x, y):
    p = Point(x, w=0.5, y=y)
    q = p.moved(0.25)
    a, b, c = q
    return q.norm() * a + b * c + sum(q[:2])


def rebuilt_in_a_loop(x, y):
    s = Pair(x, y)
    for _ in range(3):
        s = Pair(s.b * 0.5, s.a + math.sin(s.b))
    return s.a * s.b


def assigned_in_both_branches(x, y):
    p = Point(0.0, 0.0)
    if x > y:
        p = Point(x, y)
    else:
        p = Point(y, x, 2.0)
    return p.norm() + p.y


def _make(x):
    return Point(x, x * x)


def made_by_a_helper(x, y):
    p = _make(x)
    return p.area + p.x * y + _make(y).norm()


def class_checks(x, y):         # its class is known while lowering (not a plain tuple)
    p = Point(x, y)
    t = (x, y)
    a = 1.0 if type(p) is Point and isinstance(p, Point) else 0.0
    b = 1.0 if type(t) is tuple and isinstance(p, tuple) else 0.0
    c = 1.0 if isinstance(t, Point) or isinstance(p, Pair) else 0.0
    return (a * 4 + b * 2 + c * 8) * p.x + sum(p) * y + max(p) + len(p) * p.y


def identity_and_attributes(x, y):   # q = p shares the object; a tuple built again does not
    p = Point(x, y)
    q = p
    t = (x, y)
    a = 1.0 if p is q and t is not (x, y) and t[:] is t and p is not None else 0.0
    b = 1.0 if hasattr(p, "w") and hasattr(p, "norm") and not hasattr(t, "w") else 0.0
    return (a * 2 + b * 4) * x * y + getattr(p, "y") * x


def replaced_in_a_loop(x, y):        # state._replace(...): the JAX-style state update
    s = Point(x, y)
    for _ in range(3):
        s = s._replace(x=s.x * 0.5 + s.y, w=s.w + s.x)
    return s.norm() * s.w


CASES = [class_checks, identity_and_attributes, replaced_in_a_loop, fields_methods_and_constants, keywords_defaults_and_unpacking, rebuilt_in_a_loop,
         assigned_in_both_branches, made_by_a_helper]


def _fd(f, x, y, h=1e-6):
    return ((f(x + h, y) - f(x - h, y)) / (2 * h), (f(x, y + h) - f(x, y - h)) / (2 * h))


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("point", [(0.37, 0.81), (0.9, -0.4)])
def test_gradient_hessian_and_check(f, point):
    x, y = point
    value, g = symgrad.value_and_grad(f)(x, y)
    assert value == f(x, y)
    assert g == pytest.approx(_fd(f, x, y), rel=1e-6, abs=1e-8)
    gf = symgrad.grad(f)
    rows = [[(u - v) / 2e-6 for u, v in zip(gf(x + 1e-6, y), gf(x - 1e-6, y))],
            [(u - v) / 2e-6 for u, v in zip(gf(x, y + 1e-6), gf(x, y - 1e-6))]]
    h = symgrad.hessian(f)(x, y)
    assert [list(r) for r in h] == [pytest.approx(r, rel=1e-5, abs=1e-6) for r in rows]
    assert symgrad.check(f, x, y).ok


def own_constructor(x):
    return Doubled(x).a * x


def test_a_class_with_its_own_constructor_is_not_taken_for_a_plain_one():
    assert own_constructor(1.5) == 4.5
    with pytest.raises(symgrad.SymgradError, match="Doubled"):
        symgrad.grad(own_constructor)(1.5)


def test_the_tuple_is_not_built_when_the_code_runs():
    source = symgrad.grad(fields_methods_and_constants).source
    assert "Point(" not in source.split('"""')[2].replace("# p = Point(x, y)", "")


def missing_field(x):
    return Point(x)  # ERR


def unknown_field(x):
    return Point(x, 1.0, z=2.0).x  # ERR


def too_many_values(x):
    return Point(x, 1.0, 2.0, 3.0).x  # ERR


def unknown_attribute(x):
    return Point(x, 1.0).z  # ERR


def first_made_in_a_branch(x):
    if x > 0:
        p = Point(x, 1.0)  # ERR
    else:
        p = Point(1.0, x)
    return p.x


def identity_of_a_tuple_taken_from_a_list(x):
    t = (x, 1.0)
    kept = [t]
    return x if kept[0] is t else 0.0  # ERR


def replace_unknown_field(x):
    return Point(x, 1.0)._replace(z=2.0).x  # ERR


@pytest.mark.parametrize(("f", "what"), [
    (replace_unknown_field, r"Point\._replace\(\) with the field 'z'"),
    (identity_of_a_tuple_taken_from_a_list, r"identity \(is\) of a tuple"),
    (missing_field, "without a value for its field 'y'"),
    (unknown_field, "the field 'z' it does not have"),
    (too_many_values, "4 values for 3 fields"),
    (unknown_attribute, r"the attribute \.z of a Point"),
    (first_made_in_a_branch, "a Point 'p' first assigned inside a branch"),
], ids=lambda v: getattr(v, "__name__", ""))
def test_what_python_refuses_is_refused_with_the_line(f, what):
    with pytest.raises(UnsupportedSyntaxError, match=what) as info:
        symgrad.grad(f)(0.5)
    line = next(k for k, text in enumerate(open(__file__).read().splitlines(), 1)
                if f"def {f.__name__}(" in text)
    assert "test_named_tuples.py" in str(info.value)
    assert any(f"line {n}" in str(info.value) for n in range(line, line + 6))
