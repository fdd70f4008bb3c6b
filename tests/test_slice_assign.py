"""Slice assignment into lists, ``del xs[a:b]`` and ``xs.clear()``: lowered as the pops
and inserts Python performs, so the gradient follows each element.  (They were dropped
from the gradient: ``ys[1:3] = [...]`` gave the gradient of the list before the
assignment, silently.)  References: central finite differences and the Value engine."""
import slice_assign_cases as S
import pytest

import symgrad

X = [0.5, -1.2, 2.0, 0.7]


def fd(f, args, i, h=1e-6):
    out = []
    for k in range(len(args[i])):
        up = [list(a) if isinstance(a, list) else a for a in args]
        dn = [list(a) if isinstance(a, list) else a for a in args]
        up[i][k] += h
        dn[i][k] -= h
        out.append((f(*up) - f(*dn)) / (2 * h))
    return out


@pytest.mark.parametrize("f", [S.replace_middle, S.shrink, S.grow_from_the_end,
                               S.whole_list, S.from_itself, S.empty_region, S.del_slice,
                               S.clear_and_refill], ids=lambda f: f.__name__)
def test_gradient_matches_finite_differences_and_every_engine(f):
    g = symgrad.grad(f)(list(X))
    assert g == pytest.approx(fd(f, [X], 0), rel=1e-6, abs=1e-7)
    r = symgrad.check(f, list(X))
    assert r.ok, str(r)
    assert symgrad.check(f, list(X), mode="hvp").ok


def test_the_value_is_pythons():
    # (to rounding: Python 3.12's sum() of floats compensates, the generated loop adds)
    for f in (S.replace_middle, S.shrink, S.grow_from_the_end, S.from_itself, S.del_slice):
        value, _ = symgrad.value_and_grad(f)(list(X))
        assert value == pytest.approx(f(list(X)), rel=1e-15)


def test_into_an_argument_hand_derived():
    # xs = [a^2, x1 a, x2, x3]: sum = a^2 + x1 a + x2 + x3
    xs, a = list(X), 0.6
    gx, ga = symgrad.grad(S.into_an_argument, wrt=[0, 1])(list(xs), a)
    assert gx == pytest.approx([0.0, a, 1.0, 1.0])
    assert ga == pytest.approx(2 * a + xs[1])


def test_replace_middle_hand_derived():
    # ys = [x0, 2 x0, 3 x1, x3]: sum of squares
    x0, x1, _, x3 = X
    want = [2 * x0 + 8 * x0, 18 * x1, 0.0, 2 * x3]
    assert symgrad.grad(S.replace_middle)(list(X)) == pytest.approx(want)


def test_a_slice_with_a_step_is_refused_not_dropped():
    with pytest.raises(symgrad.UnsupportedSyntaxError, match="a slice assignment with a step"):
        symgrad.grad(S.with_a_step)(list(X))
