"""Reliability: scale and depth, numerical edge cases, conventions at kinks, argument
types, thread safety, warnings, and regressions found by the fuzzer (tests/test_fuzz.py)."""
from __future__ import annotations

import pytest

import reliability_cases as rc
from numeric import assert_close, finite_diff
from symgrad import grad


# =========================================================================== fuzzer regressions

@pytest.mark.parametrize("fn", [rc.fuzz_unused_list_param, rc.fuzz_list_only_iterated_in_comprehension,
                                rc.fuzz_list_only_iterated_in_genexp])
def test_list_parameter_without_indexing_gets_a_list_gradient(fn):
    for xs in ([1.0, 2.0], [], [0.5]):
        got = grad(fn)(1.5, xs)
        assert isinstance(got[1], list) and len(got[1]) == len(xs)
        assert_close(list(got), finite_diff(fn, (1.5, xs)), what=fn.__name__)
    assert grad(fn, wrt="xs")(1.5, [1.0, 2.0]) == [0.0, 0.0]
