"""Functions for tests/test_reliability.py (symgrad reads source, so they live in a file).

The ``fuzz_*`` functions are minimal programs the fuzzer (tests/test_fuzz.py) found
symgrad getting wrong, kept as regression tests.
"""
import math

import numpy as np

import symgrad


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


# ------------------------------------------------------------ numerical edge cases
def log_of(x):
    return math.log(x) * 2.0


def divide(x, y):
    return x / y + y


def sqrt_of(x):
    return math.sqrt(x) + x


def exp_of(x):
    return math.exp(x) - x


def square(x):
    return x ** 2


def acos_of(x):
    return math.acos(x)


def x_log_x(x):
    return x * math.log(x)


def np_log(x):
    return np.log(x) * 2.0


def np_divide(x, y):
    return x / y + np.sin(y)


def np_sqrt(x):
    return np.sqrt(x)


def np_exp(x):
    return np.exp(x) + x


# ------------------------------------------------------------ non-differentiable points
def relu_at(x):
    return symgrad.relu(x) * 3.0


def abs_at(x):
    return abs(x) * 3.0


def fabs_at(x):
    return math.fabs(x) * 3.0


def max_tie(a, b):
    return max(a, b) * 3.0


def min_tie(a, b):
    return min(a, b) * 3.0


def max3_tie(a, b, c):
    return max(a, b, c)


def power(x, y):
    return x ** y


# ------------------------------------------------------------ argument types
def mul(x, y):
    return x * y


def pow_xy(x, y):
    return x ** y + x


def branchy(x, y):
    if x > y:
        return x * y
    return x - y


def looped(x, n):
    s = 0.0
    for i in range(n):
        s = s + x * i
    return s


def weighted(xs, c):
    return sum(v * c for v in xs) + c


def flagged(x, flag):
    return x * 2.0 if flag else x


def tanh_rnn(h, w, x, n):
    for i in range(n):
        h = math.tanh(h * w + x)
    return h


def leaky_sum(x, w, n):
    s = 0.0
    for i in range(n):
        s = s * 0.5 + x * w
    return s


def dot(xs, ws):
    s = 0.0
    for i in range(len(xs)):
        s = s + xs[i] * ws[i]
    return s


# ------------------------------------------------------------ fuzzer regressions: nested exits
def fuzz_nested_break(x0, x1):
    # the outer if's flag was pushed after the block, so the break skipped it: IndexError
    for i in range(3):
        if x1 < 1.0:
            if i < 1:
                break
            x0 = x0 * x0
    return x0


def fuzz_nested_continue(x, n):
    s = x
    for i in range(n):
        if s > 0:
            if i > 1:
                continue
            s = s * x
        s = s + 1
    return s


def fuzz_nested_early_return(x, y):
    # the final return ran after the nested one: wrong value and gradient
    if x > 0:
        if y > 0:
            return x * y
        x = x * 2
    return x * x


def fuzz_nested_exits_deeper(x, y, n):
    s = 0.0
    for i in range(n):
        if x > 0:
            if y > 0:
                if i == 2:
                    break
                s = s + x * y
            else:
                if i == 1:
                    continue
                s = s - y
            s = s * 0.5
        s = s + math.sin(x + i)
    if s > 1.0:
        if x > 1.0:
            return s * x
        s = s + y
    elif s < -1.0:
        return s * y
    return s * s


def fuzz_list_literal_of_nested_ops(x):
    # the element's partial read the inner (x + 1.0) through an unresolved placeholder:
    # NameError: name '__ref2__' is not defined
    L = [(x + 1.0) ** 2, math.sin(x * 3.0), x]
    return L[0] + L[1] * L[2]


def fuzz_break_beside_a_restored_counter(x):
    # the break branch's flag was decided before the other branch found it must restore k
    # (k is read by the adjoint of x * cos(k)): no flag pushed, IndexError in the adjoint
    k = 0
    while k < 2:
        x = x * math.cos(k)
        if x > 0.0:
            break
        k += 1
    return x


def fuzz_list_literal_of_tanh(x0):
    # tanh's partial reads the element's own value: it was an unresolved __ref1__
    L2 = [symgrad.sigmoid(x0), math.tanh(x0 * 2.0)]
    return L2[0] * 2.0 + L2[1]


def _list_helper(a, b=0.5):
    if a > 0.2:
        a = a * b
    return math.tanh(a) + b


def fuzz_list_literal_rebuilt_in_a_loop(x, n):
    # the old list was pushed after the elements' saved temporaries, and popped before
    # them: the adjoint read a list as a number (TypeError)
    s = 0.0
    L = [x]
    for i in range(n):
        L = [math.tanh(x * i) * _list_helper(x, L[0]), math.exp(x) * 0.5 + _list_helper(L[0] * x),
             math.sin(_list_helper(x) * x)]
        L[0] = L[0] * L[1]
        s = s + L[0] + L[2]
    return s


def _sq(a):
    return a * a


def fuzz_underscore_helper_in_a_loop(x, n):
    # the inlined result of _sq is named __sq; names starting with __ were taken for
    # placeholders, so it was not saved when overwritten: a silently wrong gradient
    s = 0.0
    for i in range(n):
        s = s + _sq(math.sin(x * i)) * x
    return s


def fuzz_nested_generator_over_inactive_list(x, xs):
    # differentiated with respect to x only, the generators are inactive; a nested one's
    # variable (k) was "the undefined name 'k'" (UnsupportedSyntaxError)
    w = 2.0
    a = sum(xs[j] * sum(xs[k] for k in range(len(xs))) for j in range(len(xs)))
    b = sum(w * sum(w for w in xs) + v for v in xs)      # the inner w shadows the outer one
    return x * (a + b) + sum(p * q for p in xs for q in xs if p < q)


def fuzz_assigned_in_two_branches(a, b):
    # t is assigned in two ifs: its adjoint was not reset after the later assignment's
    # adjoint, so the earlier one added it again (gradient doubled, silently)
    if b > 0.5:
        t = a
        b = t
    if a < -0.5:
        a = a + 1
    else:
        t = a * 3.0
        b = t
    return b * a


def fuzz_swaps_in_two_branches(a, b):
    # the same, through the temporaries of two tuple swaps
    if b > 0.5:
        b, a = a, b
    if a < -0.5:
        a = a + 1
    else:
        a, b = b * 2.0, a
    return b + a * 0.5


def _branchy_double(a):
    v2 = a if a > 0.0 else a
    return a * 2.0


def fuzz_nested_helper_calls_in_a_loop(x0, xs):
    # the outer call's parameter, bound to the inner call's result in the loop, was not
    # known to be rebound: its adjoint was read after being reset (gradient 0, silently)
    for e in xs:
        x0 = _branchy_double(_branchy_double(e))
    return x0 + x0


def fuzz_temporary_name_reused(x0):
    # x0 = tanh(...(x0)) in place: its recipe is computed twice, and the temporaries of
    # the first attempt kept names that were handed back, so the next statement reused
    # _t4 for another value that the adjoint then read (silently wrong gradient)
    x0 += (1.5 + math.cos(x0)) ** math.tanh(x0)
    if x0 < 0.0:
        return x0
    x0 = math.tanh(math.sin((x0 / (1.5 + math.sin(x0)))))
    x0 += x0
    x0 /= (1.25 + math.cos(x0))
    return x0


def fuzz_temporary_name_reused_in_a_loop(x, n):
    for i in range(n):
        x = math.tanh(math.sin(x / (1.5 + math.sin(x))))
        x = x / (1.25 + math.cos(x))
    return x
