"""A recursion whose depth a parameter counts down (``power(x, n - 1)`` below
``if n == 0``): the gradient is made for each value of that parameter, which then fixes
the depth, and the recursion is inlined call by call.  Where that parameter is also
differentiated (the default ``wrt``), it stays a variable of the code: its derivative
where it is arithmetic is the usual one, and only the tests that decide the recursion
read its value.  Checked in every mode against central differences and derivatives
worked out by hand."""

import math

import pytest

import symgrad
from symgrad.errors import SymgradError, UnsupportedSyntaxError


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def counted_and_used(x, n):
    if n <= 0:
        return x * n                     # n is -0.5 here when called with 2.5
    return counted_and_used(math.sin(x), n - 1) + n * x


def tree(x, depth):
    if depth == 0:
        return math.sin(x)
    return tree(x * 0.5, depth - 1) + tree(x * 0.3, depth - 1)


def fib_like(x, n):
    if n < 2:
        return x
    return fib_like(x, n - 1) * 0.5 + fib_like(x * x, n - 2)


def halving(x, n):
    return x if n <= 1 else halving(math.sin(x), n // 2) + x


def through_a_helper(x, n):
    def inner(y, k):
        return y if k == 0 else inner(y * 1.1, k - 1) * y
    return inner(x, n) + x


def named_count(x, n):
    if n == 0:
        return 1.0
    m = n - 1                       # (a name for the count: known while the code is made)
    return x * named_count(x, m)


def while_then_recursion(x, n):
    if n == 0:
        return x
    m = n
    while m > 2:                    # (m changes in the loop: not known after it)
        m = m - 1
        x = x * 1.1
    return while_then_recursion(x * 0.5, n - 1) + m * x


def fd(f, args, i, h=1e-6):
    up, dn = list(args), list(args)
    up[i] += h
    dn[i] -= h
    return (f(*up) - f(*dn)) / (2 * h)


POINTS = [(power, (1.3, 4)), (power, (0.7, 0)), (tree, (0.9, 3)), (fib_like, (0.8, 5)),
          (halving, (0.4, 9)), (through_a_helper, (0.6, 3)), (named_count, (1.2, 5)),
          (while_then_recursion, (1.3, 4)), (counted_and_used, (0.6, 2.5))]


@pytest.mark.parametrize("f, args", POINTS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_gradient_against_differences(f, args):
    g = symgrad.grad(f)(*args)
    assert g[0] == pytest.approx(fd(f, args, 0), rel=1e-6, abs=1e-9)
    if f is counted_and_used:          # n is arithmetic too: its derivative is not zero
        assert g[1] == pytest.approx(fd(f, args, 1), rel=1e-6)
    elif f is not while_then_recursion:      # (there through m; Python recurses forever
        #                                      at n + h, so no difference is taken)
        assert g[1] == 0.0


def test_hand_derived():
    assert symgrad.grad(power)(1.3, 4)[0] == pytest.approx(4 * 1.3 ** 3, rel=1e-15)
    # counted_and_used(x, 2.5): each of the levels 2.5, 1.5, 0.5 adds n * x and the base
    # x * (n - 3): d/dn = x (three levels) + x (the base's n)
    assert symgrad.grad(counted_and_used, wrt=1)(0.6, 2.5) != 0.0
    assert symgrad.grad(counted_and_used, wrt=1)(0.6, 2.5) == pytest.approx(
        0.6 + math.sin(0.6) + math.sin(math.sin(0.6)) + math.sin(math.sin(math.sin(0.6))),
        rel=1e-12)


@pytest.mark.parametrize("f, args", POINTS[:8], ids=lambda v: getattr(v, "__name__", str(v)))
def test_every_mode(f, args):
    x, n = args
    d = fd(f, args, 0)
    assert symgrad.value_and_grad(f, wrt=0)(x, n) == (f(x, n), pytest.approx(d, rel=1e-6))
    assert symgrad.jvp(f, (x, n), (1.0, 0.0))[1] == pytest.approx(d, rel=1e-6)
    assert symgrad.vjp(f, x, n)[1](1.0)[0] == pytest.approx(d, rel=1e-6)
    h = 1e-4
    g = symgrad.grad(f, wrt=0)
    want = (g(x + h, n) - g(x - h, n)) / (2 * h)
    assert symgrad.hessian(f, wrt=0)(x, n) == pytest.approx(want, rel=1e-5, abs=1e-7)


def test_one_gradient_per_depth():
    g = symgrad.grad(power, wrt=0)
    for n in (3, 1, 5, 3):
        assert g(1.1, n) == pytest.approx(n * 1.1 ** (n - 1), rel=1e-14)


def test_check_agrees():
    report = symgrad.check(power, 1.3, 4)
    assert report.ok


def test_too_deep_is_refused_by_name():
    with pytest.raises(UnsupportedSyntaxError, match=r"(?s)recursive call to power.*32 calls"):
        symgrad.grad(power)(1.3, 40)


def test_a_depth_that_never_ends_is_refused():
    with pytest.raises(UnsupportedSyntaxError, match="recursive call to power"):
        symgrad.grad(power)(1.3, 2.5)          # Python itself would recurse forever


def test_a_depth_from_the_data_is_refused():
    def shrink(x, n):
        return x if n <= 0 else shrink(x * 0.9, n - x)
    with pytest.raises(SymgradError, match=r"recursive call to \S*shrink"):
        symgrad.grad(shrink)(0.5, 3)


def test_a_name_written_in_a_loop_is_not_taken_for_its_value_before():
    # m = n (known), then m changes in a while loop whose test reads m: the loop runs
    def f(x, n):
        if n == 0:
            return x
        m = n
        while m > 0:
            x = x * 1.5
            m = m - 1
        return f(x, n - 1)
    for wrt in (None, 0):
        g = symgrad.grad(f, wrt=wrt)(0.7, 3)
        g = g[0] if isinstance(g, tuple) else g
        assert g == pytest.approx(fd(f, (0.7, 3), 0), rel=1e-6)
