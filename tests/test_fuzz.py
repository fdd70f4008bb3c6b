"""Fuzzing: random programs in the supported subset, gradients checked against references.

Hypothesis writes random modules (see ``tests/fuzz.py`` for the grammar: arithmetic,
``math`` calls, reassignment, augmented assignment, branches, ``for`` / ``while``
loops with ``break`` / ``continue``, helper calls, list arguments and local lists)
and checks, at a random point, that ``symgrad.grad`` gives

* the derivative from finite differences, computed with 40-digit arithmetic
  (mpmath; the same source run with ``math`` replaced by an mpmath shim), so the
  reference is exact to float precision and the tolerance can be tight;
* the gradient of the ``Value`` engine (the same source run on ``Value`` s with
  ``math`` replaced by symgrad's generic functions; comparisons on Values are
  lent to ``Value`` for the run, so branchy programs follow their own path);
* for branch-free programs, ``sympy.diff`` of the program run on SymPy symbols;

and that ``value_and_grad`` returns the function's value and leaves the
arguments unchanged.

Excluded points (the kink rule, see ``fuzz.margins``): every comparison, ``abs``,
``max``, ``min``, ``relu``, ``%`` and ``//`` met while running the program at the
point must be more than ``fuzz.MARGIN`` = 1e-3 from its boundary; points where
the function raises or exceeds 1e6 in magnitude, or an intermediate value exceeds
``fuzz.LARGE`` = 1e8 (there float and 60-digit arithmetic part ways), are skipped too.

CI runs 500 examples in all (about a minute).  A long run::

    SYMGRAD_FUZZ_EXAMPLES=10000 python -m pytest tests/test_fuzz.py -q

(``--hypothesis-seed=N`` replays a run; ``--hypothesis-show-statistics`` shows
how many examples were generated, kept and rejected.)
"""
from __future__ import annotations

import copy
import math
import os

import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

import fuzz
from symgrad import grad, value_and_grad

TOTAL = int(os.environ.get("SYMGRAD_FUZZ_EXAMPLES", "500"))
N_BRANCHY = TOTAL * 3 // 5           # 300 of the 500 in CI
N_BRANCH_FREE = TOTAL - N_BRANCHY    # 200, with the SymPy check

# In CI (CI=true) the programs are a fixed, reproducible set; locally they are fresh each run.
SETTINGS = dict(deadline=None, print_blob=True, report_multiple_bugs=False,
                derandomize=os.environ.get("CI", "").lower() == "true",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])
BIG = 1e6
SYMPY_SECONDS = 2.0    # loops unrolled symbolically can swell; such examples skip SymPy
LAST: dict = {}        # the last example checked (for debugging a crash)


def _scale(*xs) -> float:
    return max([1.0] + [abs(v) for v in fuzz_flatten(xs)])


def fuzz_flatten(x):
    if isinstance(x, (list, tuple)):
        for v in x:
            yield from fuzz_flatten(v)
    else:
        yield x


def assert_grads_close(got, want, scale, what, rtol=1e-7):
    """Each component within rtol * scale (scale: the largest gradient component or value,
    at least 1) of the reference; a nan or inf must match exactly."""
    g, w = list(fuzz_flatten(got)), list(fuzz_flatten(want))
    assert len(g) == len(w), f"{what}: structure differs: {got!r} vs {want!r}"
    for a, b in zip(g, w):
        if not (math.isfinite(a) and math.isfinite(b)):
            assert (math.isnan(a) and math.isnan(b)) or a == b, f"{what}: {got!r} != {want!r}"
            continue
        assert abs(a - b) <= rtol * scale, f"{what}: {got!r} != {want!r} (scale {scale:g})"


def check_program(prog: fuzz.Program, data: st.DataObject, with_sympy: bool) -> None:
    note(prog.source)
    point = data.draw(fuzz.points(prog), label="point")
    args = [point[p] for p in prog.params]
    diff = prog.differentiable
    wrt_names = data.draw(st.lists(st.sampled_from(diff), min_size=1, max_size=len(diff),
                                   unique=True), label="wrt")
    wrt = [prog.params.index(w) for w in wrt_names]
    LAST.update(source=prog.source, args=copy.deepcopy(args), wrt=wrt_names)

    mod = fuzz.load(prog.source)
    try:
        value = mod.f(*copy.deepcopy(args))
    except (OverflowError, ZeroDivisionError, ValueError):
        assume(False)
    assume(math.isfinite(value) and abs(value) < BIG)
    # the kink rule on the point as floats (an int x0 == 0 in `x0 * x0 < x0` is at a kink)
    as_floats = [float(a) if p in prog.scalars else copy.deepcopy(a)
                 for p, a in zip(prog.params, args)]
    assume(all(m > fuzz.MARGIN for m in fuzz.margins(prog.source, as_floats)))

    exact_value, exact = fuzz.exact_grad(prog.source, args, wrt)
    assume(all(math.isfinite(v) for v in fuzz_flatten(exact)))
    scale = _scale(exact, value)

    g = grad(mod.f, wrt=wrt_names)
    call_args = copy.deepcopy(args)
    got = list(g(*call_args))
    assert call_args == args, "the generated gradient changed its arguments"
    assert_grads_close(got, exact, scale, "symgrad vs exact finite differences")

    vg_value, vg_grad = value_and_grad(mod.f, wrt=wrt_names)(*copy.deepcopy(args))
    assert vg_value == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert_grads_close(list(vg_grad), got, scale, "value_and_grad vs grad", rtol=1e-12)

    v_value, v_grad = fuzz.value_grad(prog.source, copy.deepcopy(args), wrt)
    assert v_value == pytest.approx(value, rel=1e-9, abs=1e-9)
    assert_grads_close(got, v_grad, scale, "symgrad vs Value engine")

    if with_sympy:
        try:
            with fuzz.time_budget(SYMPY_SECONDS):
                s_grad = fuzz.sympy_grad(prog.source, args, wrt)
        except fuzz.OutOfTime:
            event("SymPy reference skipped: over its time budget")
            return
        event("checked against SymPy")
        assert_grads_close(got, s_grad, scale, "symgrad vs sympy.diff")


@settings(max_examples=N_BRANCHY, **SETTINGS)
@given(prog=fuzz.programs(), data=st.data())
def test_fuzz_branches_loops_calls_lists(prog, data):
    """Everything in the grammar: checked against exact finite differences and the Value
    engine (and SymPy when the drawn program happens to be branch-free)."""
    check_program(prog, data, with_sympy=prog.sympy_ok)


@settings(max_examples=N_BRANCH_FREE, **SETTINGS)
@given(prog=fuzz.programs(branches=False, max_stmts=4), data=st.data())
def test_fuzz_branch_free_against_sympy(prog, data):
    """Branch-free programs (loops with constant trip counts, calls, lists): also against
    ``sympy.diff``."""
    check_program(prog, data, with_sympy=True)
