"""Functions for tests/test_reliability.py (symgrad reads source, so they live in a file).

The ``fuzz_*`` functions are minimal programs the fuzzer (tests/test_fuzz.py) found
symgrad getting wrong, kept as regression tests.
"""
import math


# ------------------------------------------------------------ fuzzer regressions
def fuzz_unused_list_param(x0, xs):
    # d/dxs was the scalar 0.0 instead of a list of zeros
    return x0


def fuzz_list_only_iterated_in_comprehension(x0, xs):
    # xs read only as the iterable of a comprehension: d/dxs was the scalar 0.0
    L1 = [x0 for w2 in xs]
    return x0 + 0.0 * len(L1)


def fuzz_list_only_iterated_in_genexp(x0, xs):
    return x0 * sum(x0 for w in xs)
