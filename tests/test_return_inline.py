"""A return of many results computed just before it has them written inside it
(``emit.Printer.plan_return``): the same numbers as the named lines, checked against
finite differences, the named form and the Hessian; only the run of lines right before
the return moves, and never a value read again."""

import copy
import importlib.util
import math
import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import fuzz
from cases import CASES
from numeric import assert_close, finite_diff
from same_bits import gradient_and_hvp, outcome, same_bits

import symgrad
from symgrad import emit
from symgrad.entry import is_mixed
from symgrad.pipeline import transform

SOURCE = '''
import math


def dot10(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9):
    s = a0*a1 + a2*a3 + a4*a5 + a6*a7 + a8*a9
    return math.tanh(s)


def nine(a0, a1, a2, a3, a4, a5, a6, a7, a8):
    return a0 + a1 * 2.0 + a2 * a3 + a4 * a5 + a6 * a7 + math.sin(a8)


def eight(a0, a1, a2, a3, a4, a5, a6, a7):
    return a0 * a1 + a2 * a3 + a4 * a5 + a6 * a7


def two_lines(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11):
    u = a0 * a1 + a2 * a3 + a4 * a5 + a6 * a7 + a8 * a9
    v = math.exp(u) * a10 + a11 * u
    return v * v


def shared_input(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11):
    u = a0 * a1 + a2 * a3 + a4 * a5 + a6 * a7 + a8 * a9
    v = math.exp(u) * a10 + a11 * a0
    return v * v


def other_order(b0, b1, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9):
    u = a0 * a1 + a2 * a3 + a4 * a5 + a6 * a7 + a8 * a9
    v = math.exp(u) * b0 + b1 * u
    return v * v


def ratios(x0, x1, x2, x3, x4, w0, w1, w2, w3, w4):
    return x0 / w0 + x1 / w1 + x2 / w2 + x3 / w3 + x4 / w4


def products(x0, x1, x2, x3, x4, w0, w1, w2, w3, w4):
    return x0 * w0 + x1 * w1 + x2 * w2 + x3 * w3 + x4 * w4


def reused(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9):
    s = a0 * a1 + a2 * a3 + a4 * a5 + a6 * a7 + a8 * a9
    return s * a0 * a9


def looped(x, a0, a1, a2, a3, a4, a5, a6, a7, a8):
    acc = 0.0
    for k in range(3):
        acc = acc + x * (a0 + a1 * k + a2 * a3 + a4 * a5 + a6 * a7 + a8)
    return acc
'''


@pytest.fixture(scope="module")
def mod(tmp_path_factory):
    path = tmp_path_factory.mktemp("ret") / "ret_inline_mod.py"
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location("ret_inline_mod", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def _point(n, seed=0.37):
    return [math.sin(seed * (k + 1)) * 0.8 for k in range(n)]


def _returned(source):
    """The lines of the generated function's final return statement."""
    lines = source.rstrip("\n").split("\n")
    start = max(k for k, line in enumerate(lines) if line.startswith("    return"))
    return lines[start:]


NAMES = ["dot10", "nine", "two_lines", "shared_input", "other_order", "ratios", "products",
         "reused", "looped"]


@pytest.mark.parametrize("name", NAMES + ["eight"])
def test_same_gradient_as_the_named_lines_and_finite_differences(mod, name, monkeypatch):
    f = getattr(mod, name)
    n = f.__code__.co_argcount
    point = _point(n)
    vg = symgrad.value_and_grad(f)
    value, grads = vg(*point)
    assert_close(value, f(*point))
    assert_close(list(grads), finite_diff(f, point), rtol=1e-6, atol=1e-8)
    monkeypatch.setattr(emit, "RETURN_INLINE_ABOVE", 10 ** 6)    # every adjoint named
    symgrad.api._cache.clear()                        # (grad(f) is memoized per f)
    named = symgrad.value_and_grad(f)
    assert " # d_" not in named.source
    assert named(*point) == (value, grads)            # bit for bit


def test_a_wide_return_is_written_one_result_per_line(mod):
    src = symgrad.grad(mod.dot10).source
    ret = _returned(src)
    assert ret[0] == "    return ("
    assert ret[1:3] == ["        d_s * a1,  # d_a0", "        d_s * a0,  # d_a1"]
    assert ret[-1] == "    )" and len(ret) == 12
    assert "d_a0 =" not in src
    # the comment of the line those results come from stays above the return
    lines = src.split("\n")
    k = lines.index("    return (")
    assert lines[k - 1] == "    # grad of: s = a0*a1 + a2*a3 + a4*a5 + a6*a7 + a8*a9"
    vg = symgrad.value_and_grad(mod.dot10).source
    ret = _returned(vg)
    assert ret[:3] == ["    return (", "        out,", "        ("]
    assert ret[3] == "            d_s * a1,  # d_a0"


def test_eight_results_keep_their_names(mod):
    src = symgrad.grad(mod.eight).source
    assert "d_a0 = " in src and _returned(src) == [
        "    return (d_a0, d_a1, d_a2, d_a3, d_a4, d_a5, d_a6, d_a7)"]


def test_results_of_several_lines_keep_their_comments(mod):
    src = symgrad.grad(mod.two_lines).source
    ret = _returned(src)
    assert "d_a0 = " not in src and "d_a10 = " not in src
    k = ret.index("        d_u * a8,  # d_a9")
    assert ret[k + 1:] == ["        # grad of: v = math.exp(u) * a10 + a11 * u",
                           "        d_v * _t1,  # d_a10", "        d_v * u,  # d_a11", "    )"]
    # a0's adjoint is a sum of both lines' contributions, written where it was
    src = symgrad.grad(mod.shared_input).source
    assert "        d_v * a11 + d_u * a1,  # d_a0" in _returned(src)


def test_results_printed_in_another_order_keep_their_names(mod):
    """b0 and b1 come first in the return but last in the code: moving the others
    after them would reorder the code's comments, so only a short run could move."""
    src = symgrad.grad(mod.other_order).source
    assert _returned(src)[0].startswith("    return (d_b0, d_b1, d_a0, ")
    assert "d_a0 = d_u * a1" in src


def test_lines_that_may_raise_keep_their_order(mod):
    """The adjoints of x0 / w0 + ... are computed x0, w0, x1, w1 ... and returned x0, x1
    ... w0, w1 ...: listing them in the return's order would change which division
    raises first, so they stay named; products, which cannot raise, are listed."""
    src = symgrad.grad(mod.ratios).source
    assert "d_x0 = " in src and "d_w4 = " in src and " # d_" not in src
    src = symgrad.grad(mod.products).source
    assert "d_x0 = " not in src and "        d_out * w0,  # d_x0" in _returned(src)


def test_a_value_read_again_is_not_moved(mod):
    src = symgrad.grad(mod.reused).source
    point = _point(10)
    assert_close(list(symgrad.grad(mod.reused)(*point)), finite_diff(mod.reused, point),
                 rtol=1e-6, atol=1e-8)
    # every returned expression is printed once, and nothing named is left unread
    for line in src.split("\n"):
        if " = " in line and line.strip().startswith("d_"):
            name = line.strip().split(" = ")[0]
            assert src.count(name) >= 2, name


@pytest.mark.parametrize("name", ["dot10", "nine", "looped"])
def test_differentiated_again(mod, name):
    """The Hessian differentiates the printed gradient, with its return written out."""
    f = getattr(mod, name)
    n = f.__code__.co_argcount
    point = _point(n, 0.21)
    h = symgrad.hessian(f)(*point)
    g = symgrad.grad(f)
    for i in (0, n - 1):
        row = finite_diff(lambda *a: g(*a)[i], point, h=1e-5)
        assert_close(list(h[i]), row, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- every program

@pytest.mark.parametrize("fn,args", CASES,
                         ids=[f"{c[0].__name__}-{k}" for k, c in enumerate(CASES)])
def test_every_case_gives_the_same_bits_with_its_results_returned_inline(fn, args, monkeypatch):
    """Every case of the suite, with every run of results before a return moved into it
    (the threshold at 0): the same numbers, bit for bit, as with every result named."""
    monkeypatch.setattr(emit, "RETURN_INLINE_ABOVE", 10 ** 9)
    named = transform(fn, list(range(len(args))), True, False)
    monkeypatch.setattr(emit, "RETURN_INLINE_ABOVE", 0)
    inline = transform(fn, list(range(len(args))), True, False)
    a = copy.deepcopy(list(args))
    b = copy.deepcopy(list(args))
    assert same_bits(outcome(lambda: named.compiled()(*a)),
                      outcome(lambda: inline.compiled()(*b)))


@pytest.mark.heavy
@settings(max_examples=int(os.environ.get("RETURN_N", "60")), deadline=None,
          derandomize=not os.environ.get("RETURN_N"),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(prog=fuzz.programs(), data=st.data())
def test_random_programs_give_the_same_gradients_and_hvps_returned_inline(prog, data):
    """Random programs (the fuzzer's grammar), every run of results before a return moved
    into it: the same bits as with them named, and the printed gradient differentiated
    again (``hvp``) gives the same bits too."""
    assume("globals.acc" not in prog.features)   # (hvp of a module's list as loop state)
    point = data.draw(fuzz.points(prog), label="point")
    args = [point[p] for p in prog.params]
    # (hvp refuses a dict and a tuple of parts of different kinds: test_tuple_params.py)
    diff = [p for p in prog.hvp_differentiable if not is_mixed(point[p])]
    assume(diff)
    v = tuple(copy.deepcopy(point[p]) for p in diff)
    named = gradient_and_hvp(prog, args, diff, v, emit, "RETURN_INLINE_ABOVE", 10 ** 9)
    inline = gradient_and_hvp(prog, args, diff, v, emit, "RETURN_INLINE_ABOVE", 0)
    assert same_bits(named, inline) or named == inline
