"""Bad input gets a clear SymgradError naming the file, line and construct."""
import inspect

import pytest

import bad_cases
import symgrad
from symgrad import (NonDifferentiableError, NonScalarError, SourceError, SymgradError,
                     UnsupportedSyntaxError, grad)


@pytest.mark.parametrize("fn", list(bad_cases.BAD), ids=lambda f: f.__name__)
def test_unsupported_constructs_name_file_line_and_construct(fn):
    with pytest.raises(SymgradError) as info:
        grad(fn, wrt=0)
    msg = str(info.value)
    assert bad_cases.BAD[fn] in msg
    assert "bad_cases.py" in msg
    assert "hint:" in msg
    if isinstance(info.value, UnsupportedSyntaxError):
        lines, start = inspect.getsourcelines(fn)
        assert start <= info.value.lineno < start + len(lines)
        assert info.value.line.strip() in "".join(lines)


@pytest.mark.parametrize("fn,args", bad_cases.NOW_SUPPORTED, ids=lambda f: getattr(
    f, "__name__", ""))
def test_formerly_refused_constructs_are_differentiated(fn, args):
    from numeric import assert_close, finite_diff
    got = grad(fn)(*args)
    assert_close(list(got) if isinstance(got, list) else [got], finite_diff(fn, args),
                 what=fn.__name__)


@pytest.mark.parametrize("fn", bad_cases.NON_SCALAR, ids=lambda f: f.__name__)
def test_non_scalar_results(fn):
    with pytest.raises(NonScalarError, match="one number"):
        grad(fn)


def test_unknown_function_with_active_argument():
    with pytest.raises(NonDifferentiableError, match="remainder"):
        grad(bad_cases.unknown_call)


def test_builtin_has_no_source():
    """A C function symgrad knows no call of (math's, numpy's, builtins' it does: see
    test_library_functions.py)."""
    import time
    with pytest.raises(SourceError, match="not a Python function"):
        grad(time.time)


def test_exec_function_has_no_source():
    ns = {}
    exec("def f(x):\n    return x * x\n", ns)
    with pytest.raises(SourceError, match="cannot find the source"):
        grad(ns["f"])


def test_bool_and_str_arguments_rejected():
    def f(x, y):
        return x * y
    g = grad(f)
    with pytest.raises(symgrad.ArgumentError, match="bool"):
        g(True, 2.0)
    with pytest.raises(symgrad.ArgumentError, match="str"):
        g("a", 2)


def test_wrt_errors():
    def f(x, y):
        return x * y
    with pytest.raises(SymgradError, match="no parameter 'z'"):
        grad(f, wrt="z")
    with pytest.raises(SymgradError, match="has 2 parameters"):
        grad(f, wrt=5)


@pytest.mark.parametrize("fn", list(bad_cases.WRONG_ARGUMENTS), ids=lambda f: f.__name__)
def test_calls_python_refuses_are_refused_with_the_line(fn):
    with pytest.raises(TypeError):          # Python itself refuses the call
        fn(0.5)
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(fn)
    msg = str(info.value)
    assert bad_cases.WRONG_ARGUMENTS[fn] in msg and "bad_cases.py" in msg
    lines, start = inspect.getsourcelines(fn)
    assert start < info.value.lineno < start + len(lines)


class _Box:
    def __init__(self, w):
        self.w = w

    def scaled(self, x):
        return self.w * x


def makes_an_object_of_its_input(x):
    b = _Box(x)
    return b.scaled(x)


def makes_an_object_of_a_constant(x):
    b = _Box(2.0)
    return x * x + (1.0 if b is None else 0.0)


def _grows(b, x):
    b.w = b.w + x          # (a field assigned once the object is made)
    return b.w


def changes_an_object_of_its_input(x):
    b = _Box(x)
    return _grows(b, x) * x


def test_an_object_made_inside_from_a_differentiated_value():
    """A user class instantiated inside the function from a differentiated value: kept as
    its fields (its methods inlined: see tests/test_objects_inside.py); a field assigned
    once __init__ has returned is refused, naming the class and the attribute (it had
    said "no derivative rule for _Box" and suggested a math function)."""
    assert symgrad.grad(makes_an_object_of_its_input)(0.5) == pytest.approx(1.0)
    with pytest.raises(UnsupportedSyntaxError) as info:
        symgrad.grad(changes_an_object_of_its_input)(0.5)
    msg = str(info.value)
    assert "the attribute .w of a _Box made in the function" in msg
    assert __file__ in msg and "b.w = b.w + x" in msg
    assert symgrad.grad(makes_an_object_of_a_constant)(0.5) == 1.0
