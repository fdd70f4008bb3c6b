"""``with`` statements that change only what is reported (``np.errstate`` with quiet
settings, ``warnings.catch_warnings``, ``contextlib.nullcontext``) are read through:
the body is differentiated as written, in every mode, against central differences;
the generated code runs under the ``np.errstate`` its blocks asked for (as quiet as
the function), and the warning filters a block sets are not left behind.  A ``with``
that could change a value or the control flow is refused with its line."""

import contextlib
import math
import warnings
from warnings import catch_warnings

import numpy as np
import pytest

from numeric import check_array_modes

import symgrad
from symgrad.errors import UnsupportedSyntaxError

X = np.array([0.7, 1.9, 2.6])

# the generated code runs under the np.errstate its blocks asked for: a warning numpy
# would give there (log of a negative number in an np.where branch) is an error here
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def safe_log_sum(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(x > 1.0, np.log(x - 1.0 + 1e-300), 0.0)
    return np.sum(y * x)


def quiet_block_with_return(x):
    with np.errstate(over="ignore", under="ignore"), contextlib.nullcontext(2.0) as c:
        y = np.exp(x) * c
        if np.sum(x) > 100.0:
            return 0.0
    return np.sum(np.tanh(y))


def filters_in_the_block(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        y = np.sqrt(x) * np.sin(x)
    return np.sum(y)


def _helper(x):
    with catch_warnings():
        return np.sum(np.cos(x) * x)


def in_a_loop_and_a_helper(x):
    s = 0.0
    for k in range(3):
        with np.errstate(all="ignore"):
            s = s + np.sum(x ** (k + 1)) * 0.5
    return s + _helper(x)


def nested(x):
    with np.errstate(divide="warn"):
        with contextlib.nullcontext():
            z = np.sum(x * x)
    return z * math.pi


CASES = [safe_log_sum, quiet_block_with_return, filters_in_the_block, in_a_loop_and_a_helper,
         nested]


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_every_mode_against_differences(f):
    check_array_modes(f, X.copy(), np.array([0.3, -0.2, 0.5]), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", CASES, ids=lambda f: f.__name__)
def test_value_is_the_functions_own(f):
    assert symgrad.value_and_grad(f)(X.copy())[0] == f(X.copy())


def test_filters_are_not_left_behind_and_not_in_the_code():
    before = list(warnings.filters)
    g = symgrad.grad(filters_in_the_block)
    g(X.copy())
    assert warnings.filters == before
    assert "simplefilter" not in g.source and "filterwarnings" not in g.source


def test_the_with_line_is_the_comment_of_its_binding():
    g = symgrad.grad(quiet_block_with_return)
    g(X.copy())
    assert "# with np.errstate(over=\"ignore\"" in g.source and "    c = 2.0" in g.source


def raises_on_error(x):
    with np.errstate(all="raise"):
        y = np.log(x)
    return np.sum(y)


def opens_a_file(x):
    with open(__file__) as fh:
        n = len(fh.readline())
    return np.sum(x) * n


def records_warnings(x):
    with warnings.catch_warnings(record=True) as caught:
        y = np.sum(x)
    return y + len(caught)


def suppresses(x):
    with contextlib.suppress(ZeroDivisionError):
        return 1.0 / np.sum(x)
    return 0.0


@pytest.mark.parametrize("f, words", [(raises_on_error, "np.errstate"),
                                      (opens_a_file, "with statement"),
                                      (records_warnings, "with statement"),
                                      (suppresses, "with statement")],
                         ids=lambda v: getattr(v, "__name__", ""))
def test_what_could_change_a_value_is_refused(f, words):
    with pytest.raises(UnsupportedSyntaxError) as info:
        symgrad.grad(f)(X.copy())
    msg = str(info.value)
    assert words in msg and "test_contexts.py" in msg and "hint:" in msg
    assert f"line {info.value.lineno}" in msg


def test_a_local_named_like_numpy_is_not_numpy():
    class Fake:
        @staticmethod
        def errstate(**kw):
            return contextlib.nullcontext()

    def f(x):
        np = Fake()                   # noqa: F841 (the with below is not numpy's)
        with np.errstate(divide="ignore"):
            y = x * 2.0
        return y
    with pytest.raises(UnsupportedSyntaxError, match="with statement"):
        symgrad.grad(f)(1.5)


def test_the_gradient_is_as_quiet_as_the_function():
    g = symgrad.grad(safe_log_sum)
    g(X.copy())
    assert "with np.errstate(divide='ignore', invalid='ignore'):" in g.source
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # (any warning fails the test)
        for mode in (lambda: g(X.copy()), lambda: symgrad.hessian(safe_log_sum)(X.copy()),
                     lambda: symgrad.jvp(safe_log_sum, (X.copy(),), (X.copy(),))):
            mode()


def test_settings_of_two_blocks_are_merged():
    def f(x):
        with np.errstate(divide="warn"):
            a = np.sum(x)
        with np.errstate(divide="ignore", over="ignore"):
            b = np.sum(np.exp(x))
        return a * b
    g = symgrad.grad(f)
    g(X.copy())
    assert "np.errstate(divide='ignore', over='ignore')" in g.source
    assert "np.errstate" not in symgrad.grad(nested_without_errstate).source


def nested_without_errstate(x):
    with contextlib.nullcontext():
        return x * x
