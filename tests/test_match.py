"""``match`` statements of literal patterns become ``if``/``elif`` on the subject, read
once (``symgrad/desugar.py``): values (``==``), ``None``/``True``/``False`` (``is``),
``|`` of them, ``_``, a capture, and guards.  Each case is checked in every mode
against central differences, and against the branch Python takes at a kink; sequence,
mapping and class patterns are refused with their line."""

import math

import pytest

import symgrad
from every_mode import MODES, run
from numeric import assert_close, finite_diff
from symgrad.errors import UnsupportedSyntaxError


def act(x, kind):
    match kind:
        case "relu":
            return max(x, 0.0)
        case "tanh" | "th":
            return math.tanh(x)
        case None:
            return x
        case _:
            return x * x


def steps(x, n):
    match n:
        case 0:
            y = x
        case 1 | 2:
            y = x * n
        case k if k > 5:
            y = -x * k
        case other:
            y = math.sin(x) * other
    return y * 2.0


def subject_read_once(x, xs):
    match xs.pop():
        case 1.5:
            y = x
        case _:
            y = x * len(xs)
    return y + sum(xs) * x


def guard_without_capture(x):
    match round(x):
        case 1 if x > 1.2:
            return x ** 3
        case 1 | 2:
            return x * 2.0
    return math.exp(x)


POINTS = [(act, (0.7, "relu")), (act, (-0.7, "relu")), (act, (0.7, "th")), (act, (0.7, None)),
          (act, (0.7, "sq")), (steps, (0.5, 0)), (steps, (0.5, 2)), (steps, (0.5, 7)),
          (steps, (0.5, 4)), (subject_read_once, (0.5, [2.0, 1.5])),
          (subject_read_once, (0.5, [2.0, 3.0, 2.5])), (guard_without_capture, (1.3,)),
          (guard_without_capture, (1.1,)), (guard_without_capture, (2.3,)),
          (guard_without_capture, (3.1,))]


@pytest.mark.parametrize("mode", ["grad", "jvp", "hessian"])
@pytest.mark.parametrize("f, args", POINTS, ids=lambda v: getattr(v, "__name__", repr(v)))
def test_every_mode_against_differences(f, args, mode):
    assert mode in MODES
    got = run(f, mode, list(args))
    if mode == "hessian":
        g = symgrad.grad(f, wrt=0)
        h = 1e-5
        want = (g(args[0] + h, *args[1:]) - g(args[0] - h, *args[1:])) / (2 * h)
        assert got == pytest.approx(want, rel=1e-4, abs=1e-6)
    else:
        assert_close(got, finite_diff(f, list(args), wrt=[0])[0], what=f.__name__)


def test_the_value_is_the_functions_own():
    for f, args in POINTS:
        a = [list(v) if isinstance(v, list) else v for v in args]
        assert symgrad.value_and_grad(f, wrt=0)(*a)[0] == f(*[list(v) if isinstance(v, list)
                                                            else v for v in args])


def test_at_a_kink_the_branch_python_takes():
    def f(x):
        match x:
            case 1.0:
                return x
            case _:
                return x * 2
    assert symgrad.grad(f)(1.0) == 1.0 and symgrad.grad(f)(1.5) == 2.0


def test_the_generated_code_reads_as_the_match():
    g = symgrad.grad(steps, wrt=0)
    g(0.5, 7)
    assert "# match n:" in g.source and "_subject = n" in g.source


@pytest.mark.parametrize("pattern", ["(a, b)", "{'k': a}", "complex(real=a)",
                                     "(1 | 2) as k if k > 1"])
def test_other_patterns_are_refused_with_their_line(tmp_path, pattern):
    import importlib.util
    path = tmp_path / "m.py"
    path.write_text("def f(x):\n    match x:\n        case " + pattern + ":\n"
                    "            return x\n    return 2.0 * x\n")
    spec = importlib.util.spec_from_file_location("m_match", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(UnsupportedSyntaxError) as info:
        symgrad.grad(mod.f)(0.5)
    assert "line 3" in str(info.value) and "hint:" in str(info.value)
