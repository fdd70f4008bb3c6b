"""Every construct of the supported subset, checked against finite differences."""
import pytest

from cases import CASES, CASES_WRT
from numeric import assert_close, finite_diff

from symgrad import grad, value_and_grad


def _ids(cases):
    return [f"{c[0].__name__}-{k}" for k, c in enumerate(cases)]


@pytest.mark.parametrize("fn,args", CASES, ids=_ids(CASES))
def test_gradient_matches_finite_differences(fn, args):
    g = grad(fn, wrt=list(range(len(args))))
    got = g(*args)
    want = finite_diff(fn, args)
    assert_close(list(got), want, what=fn.__name__)


@pytest.mark.parametrize("fn,args", CASES, ids=_ids(CASES))
def test_value_and_grad_value_is_the_function(fn, args):
    value, _ = value_and_grad(fn, wrt=list(range(len(args))))(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("fn,args,wrt", CASES_WRT, ids=_ids(CASES_WRT))
def test_gradient_wrt_one_parameter(fn, args, wrt):
    got = grad(fn, wrt=wrt)(*args)
    idx = fn.__code__.co_varnames.index(wrt)
    assert_close(got, finite_diff(fn, args, [idx])[0], what=fn.__name__)


def test_helpers_from_another_module():
    import cases_cross
    for fn, args in [(cases_cross.cross, (0.3, -0.7)),
                     (cases_cross.cross_lists, ([0.5, -1.0, 2.0], [1.0, 0.3, -0.2], 0.8))]:
        got = grad(fn)(*args)
        assert_close(list(got), finite_diff(fn, args), what=fn.__name__)
        src = grad(fn).source
        assert "# inlined soft(" in src


def test_overwritten_by_inactive_value_resets_the_adjoint():
    """Regression (found by symgrad.check): x overwritten by an inactive y in a branch."""
    import cases
    assert grad(cases.overwrite_inactive, wrt="x")(0.5, 2.0) == 0.0
    assert grad(cases.overwrite_inactive, wrt="x")(0.5, -2.0) == 1.0
    assert grad(cases.overwrite_inactive_loop, wrt="x")(0.5, 2.0) == 0.0
