"""Adversarial programs: everyday Python that symgrad must differentiate right or refuse clearly.

Issue 11, DESIGN.md section 8 ("Python's semantics are the spec").  Each function
below is ordinary Python a scientist might write; each is registered in ``CASES``
with example arguments and the expected outcome:

* ``expect="ok"``: ``grad(f)`` must give the gradient of what Python actually
  computes: the same as the ``Value`` engine (``f`` run on ``Value`` numbers) and
  as central finite differences, and ``value_and_grad(f)`` must give ``f``'s value.
* ``expect=<SymgradError subclass>`` (or a tuple of acceptable ones): that error,
  raised at ``when="grad"`` (``grad(f)`` itself) or ``when="call"`` (calling the
  gradient), whose message names this file, the line marked ``# ERR:<tag>`` (any
  of the lines carrying that tag) and gives a hint; ``match`` is a regex the
  message must contain as well (usually the construct's name).

The kinds (``kind=``):

1. closures                  6. decorated functions
2. ``and`` / ``or`` as values 7. module globals read when the gradient runs
3. aliased lists              8. arguments and helpers
4. keyword arguments          9. non-numeric results
5. loop variables reassigned 10. more everyday Python

Design decisions encoded here (where the policy left a choice) are marked
"Decision:" in comments.  The functions live in a file because symgrad reads source.
"""

import functools
import math
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

import numpy as np

from symgrad import (ArgumentError, NonDifferentiableError, NonScalarError, SourceError,
                     UnsupportedSyntaxError)


@dataclass
class Case:
    fn: Callable[..., Any]
    args: tuple
    expect: Any = "ok"                 # "ok", an error class or a tuple of error classes
    kind: int = 0
    name: str = ""
    match: str | None = None           # error: a regex the message must also contain
    when: str = "grad"                 # error: raised by grad(f) ("grad") or by the call
    tag: str | None = None             # error: the "# ERR:<tag>" marker of the offending line
    wrt: list[str] | None = None       # ok: parameters to differentiate (default: every
    #                                    float / list-of-floats argument)
    second: bool = False               # ok: also check grad(grad(f)) (one scalar parameter)
    change: Callable[[], Callable[[], None]] | None = None  # kind 7: applies a change to a
    #                                    module global, returns the function that undoes it
    notes: str = ""
    extra: dict = field(default_factory=dict)


CASES: list[Case] = []
_KIND = [0]


def kind(k: int) -> None:
    _KIND[0] = k


def ok(fn: Callable[..., Any], *points: tuple, label: str | None = None, **kw: Any) -> None:
    """Register ``fn`` at each argument tuple in ``points``, expecting a right gradient."""
    first = sum(c.fn is fn for c in CASES)
    for i, args in enumerate(points, first):
        name = (label or fn.__name__) + (f"@{i}" if i or len(points) > 1 else "")
        CASES.append(Case(fn, tuple(args), "ok", _KIND[0], name, **kw))


def err(fn: Callable[..., Any], args: tuple, exc: Any, when: str, tag: str,
        match: str | None = None, name: str | None = None, **kw: Any) -> None:
    """Register ``fn`` at ``args``, expecting error ``exc`` at ``when`` ("grad" / "call")."""
    CASES.append(Case(fn, tuple(args), exc, _KIND[0], name or fn.__name__, match=match,
                      when=when, tag=tag, **kw))


# ================================================================== 1. closures
kind(1)


def closure_reads_param(x, y):
    def h(t):
        return t * y
    return h(x) + y


ok(closure_reads_param, (1.5, -2.0))


def closure_reads_nondiff(x, n):
    def h(t):
        return t ** n
    return h(x) * n


ok(closure_reads_nondiff, (1.5, 3))


def closure_reads_local(x):
    a = x * x
    def h(t):
        return a * t
    return h(3.0) + h(x)


ok(closure_reads_local, (0.7,), (-1.3,), second=True)


def closure_late_binding(x):
    a = x
    def h():
        return a * a
    a = math.sin(x) + 2.0     # h sees this value when it is called
    return h()


ok(closure_late_binding, (0.4,), second=True)


def closure_late_binding_loop_var(xs):
    def term(t):
        return t * xs[i]      # i: the enclosing loop variable, read when term is called
    s = 0.0
    for i in range(len(xs)):
        s = s + term(float(i + 1))
    return s


ok(closure_late_binding_loop_var, ([1.0, -2.0, 0.5],))


def closure_late_binding_accumulator(x):
    a = 1.0
    def h(t):
        return a * t
    s = 0.0
    for _ in range(3):
        a = a * x
        s = s + h(x)
    return s


ok(closure_late_binding_accumulator, (0.9,), second=True)


def closure_default_def_time(x, y):
    a = x * 2.0
    def h(t, c=a):            # c is 2 * x: defaults are evaluated at def time
        return t * c
    a = y
    return h(y) + a


ok(closure_default_def_time, (1.5, -0.5))


def closure_default_expr_grad(x):
    def h(t, c=x * x):        # the default carries d(x*x)/dx as of def time
        return t + c
    x = x + 1.0
    return h(x) * x


ok(closure_default_expr_grad, (0.6,), second=True)


def closure_def_in_both_branches(x):
    if x > 0.5:
        def h(t):
            return t * t
    else:
        def h(t):
            return -3.0 * t
    return h(x) + h(1.0)


ok(closure_def_in_both_branches, (1.5,), (-0.7,), second=True)


def closure_defs_call_each_other(x):
    def inner(t):
        return t * x
    def outer(t):
        return inner(t) + inner(x)
    return outer(2.0 * x)


ok(closure_defs_call_each_other, (1.3,), second=True)


def closure_nonlocal_write(x, y):
    acc = 0.0
    def add(v):
        nonlocal acc
        acc = acc + v * y
    add(x)
    add(x * x)
    return acc


ok(closure_nonlocal_write, (1.5, 0.5))


def closure_nonlocal_in_loop(x):
    s = 1.0
    def step():
        nonlocal s
        s = s * x + 1.0
    for _ in range(3):
        step()
    return s


ok(closure_nonlocal_in_loop, (0.8,), second=True)


def closure_called_in_loop(xs, w):
    def unit(v):
        return math.tanh(v * w)
    s = 0.0
    for v in xs:
        s += unit(v)
    return s


ok(closure_called_in_loop, ([0.5, -1.0, 2.0], 0.7))


def lambda_local(x, y):
    sq = lambda t: t * t + y  # noqa: E731
    return sq(x) * sq(y)


ok(lambda_local, (1.5, -0.5))


def lambda_late_binding(x):
    k = 2.0
    scale = lambda t: t * k  # noqa: E731
    k = x                     # the lambda reads k when called: x * x
    return scale(x)


ok(lambda_late_binding, (1.7,), second=True)


def closure_factory(x, y):
    def make(a):
        def h(t):
            return a * t
        return h
    g = make(x)
    return g(y) + make(y)(x * x)


ok(closure_factory, (1.5, -0.5))


def closure_param_shadows_outer(x, y):
    def h(x):                 # this x is h's parameter, not f's
        return x * y
    return h(y) + x


ok(closure_param_shadows_outer, (1.5, -2.0))


def closure_reads_list_mutated_later(x, y):
    ws = [x, y]
    def prod():
        return ws[0] * ws[1]
    ws[0] = y * 3.0           # prod() sees the new element: 3 y * y
    return prod()


ok(closure_reads_list_mutated_later, (1.5, -0.5))


def closure_appends_to_outer_list(x):
    buf = []
    def push(v):
        buf.append(v * x)     # mutates the enclosing list: no nonlocal needed
    push(1.0)
    push(x)
    return sum(buf)


ok(closure_appends_to_outer_list, (1.5,), second=True)


# ================================================================== 2. and / or as values
kind(2)


def or_default_scale(x, scale):
    s = scale or 1.0
    return x * s


# At scale == 0.0 the function jumps (0.0 is falsy), so scale is not differentiated there.
ok(or_default_scale, (1.5, 2.0))
ok(or_default_scale, (1.5, 0.0), wrt=["x"])


def or_between_params(x, y):
    return (x or y) * y


ok(or_between_params, (1.5, 2.0))
ok(or_between_params, (0.0, 2.0), wrt=["y"])


def or_expression_operand(a, b):
    return ((a - 2.0) or b * b) * 3.0


ok(or_expression_operand, (3.5, 1.5))
ok(or_expression_operand, (2.0, 1.5), wrt=["b"])


def and_value(x, y):
    return (x and y) + x


ok(and_value, (1.5, 2.5))
ok(and_value, (0.0, 2.5), wrt=["y"])     # x and y is x (0.0): no gradient reaches y


def or_chain(a, b, c):
    return (a or b or c) * 2.0


ok(or_chain, (1.5, 2.0, 3.0))
ok(or_chain, (0.0, 2.0, 3.0), wrt=["b", "c"])
ok(or_chain, (0.0, 0.0, 3.0), wrt=["c"])


def and_chain(a, b, c):
    return (a and b and c) + 1.0


ok(and_chain, (1.5, 2.0, 3.0))
ok(and_chain, (1.5, 0.0, 3.0), wrt=["a", "c"])


def not_and_or(x, y):
    return (not x and y) or x * 2.0


ok(not_and_or, (1.5, 2.0))
ok(not_and_or, (0.0, 2.0), wrt=["y"])


def and_or_idiom(c, x, y):
    return (c > 0 and x or y) * 2.0 + y


ok(and_or_idiom, (1.0, 2.0, 3.0), (-1.0, 2.0, 3.0))
ok(and_or_idiom, (1.0, 0.0, 3.0), wrt=["c", "y"])  # x is 0.0: the idiom falls through to y


def or_in_loop(xs, ms):
    s = 0.0
    for v, m in zip(xs, ms):
        s += (m or 2.0) * v
    return s


ok(or_in_loop, ([1.0, 2.0, 3.0], [0, 3, 0]))


def or_in_loop_computed_zero(xs):
    s = 0.0
    for v in xs:
        s += (v - v or 2.0 * v) * v       # v - v is 0.0, falsy
    return s


ok(or_in_loop_computed_zero, ([1.0, -2.0, 0.5],))


def or_falsy_computed(x, y):
    d = x - x
    return (d or y) * x


ok(or_falsy_computed, (1.5, -2.0))


def and_falsy_computed(x, y):
    return (x * 0.0 and y) + x


ok(and_falsy_computed, (1.5, -2.0))


def or_first_truthy_gets_grad(x, y):
    return x * x or y


ok(or_first_truthy_gets_grad, (1.2, 3.0))


def or_default_none_param(x, scale=None):
    scale = scale or 2.0
    return x * scale


ok(or_default_none_param, (1.5,))


def or_compare_operand(x, y):
    t = x > y or y            # True (1) or y
    return t * x


ok(or_compare_operand, (2.0, 1.0), (1.0, 2.0))


def and_list_truthiness(xs, y):
    ys = xs and [v * y for v in xs]   # an empty list is falsy and is returned
    return sum(ys) + y


ok(and_list_truthiness, ([1.0, 2.0], 1.5), ([], 1.5))


def or_list_default(xs, y):
    ws = xs or [y, 2.0 * y]
    return sum(w * w for w in ws)


ok(or_list_default, ([], 1.5), ([1.0, -2.0], 1.5))


def if_truthiness(x, scale):
    if scale:                 # a float's truthiness: 0.0 is false
        return x * scale
    return x


ok(if_truthiness, (1.5, 2.0))
ok(if_truthiness, (1.5, 0.0), wrt=["x"])


# ================================================================== 3. aliased lists
kind(3)
# Lists passed as arguments that f writes into: the generated gradient returns with every
# argument restored to its value on entry (the harness checks this for every "ok" case).


def alias_write_through(xs, y):
    ys = xs
    ys[0] = y * 2.0
    return xs[0] * xs[1]


ok(alias_write_through, ([1.0, 3.0], 1.5))


def alias_row_write(W, v):
    row = W[1]
    row[0] = v * v
    return W[1][0] + W[0][0] * row[1]


ok(alias_row_write, ([[1.0, 2.0], [3.0, 4.0]], 0.5))


def alias_for_row(W, a):
    for row in W:
        row[0] = row[0] * a
    return W[0][0] * W[1][1] + W[1][0]


ok(alias_for_row, ([[1.0, 2.0], [3.0, 4.0]], 0.5))


def alias_repeated_rows(x, y):
    M = [[0.0] * 2] * 3       # three references to one row
    M[0][1] = x
    M[2][0] = y
    return M[1][1] * 2.0 + M[1][0] * M[0][0]


ok(alias_repeated_rows, (1.5, -0.5))


def alias_append_through_other_name(xs, v):
    M = xs
    M.append(v * 2.0)
    return sum(xs) * xs[len(xs) - 1]


ok(alias_append_through_other_name, ([1.0, 2.0], 0.5))


def alias_swap_rows(W):
    W[0], W[1] = W[1], W[0]
    W[0][0] = W[0][0] * 3.0
    return W[0][0] + W[1][0] * W[1][1]


ok(alias_swap_rows, ([[1.0, 2.0], [3.0, 4.0]],))


def alias_list_grows_in_loop(xs):
    for v in xs:              # the loop sees the appended elements too
        if len(xs) < 5:
            xs.append(v * 0.5)
    s = 0.0
    for v in xs:
        s += v * v
    return s


ok(alias_list_grows_in_loop, ([1.0, 2.0],))


def alias_nested_append_then_mutate(x, y):
    inner = [x, 1.0]
    outer = []
    outer.append(inner)
    inner[1] = y * y          # outer[0] is inner
    return outer[0][1] + outer[0][0] * 3.0


ok(alias_nested_append_then_mutate, (1.5, -0.5))


def alias_same_list_twice(xs, ys):
    xs[0] = xs[0] * 3.0
    return ys[0] * ys[1]


# The same list for both parameters: each gradient entry is the derivative with respect
# to that one shared list (Value engine / PyTorch semantics), so both entries are equal.
_SHARED_1 = [1.5, 2.0]
ok(alias_same_list_twice, (_SHARED_1, _SHARED_1))


def alias_same_list_twice_read(xs, ys):
    return sum(a * b for a, b in zip(xs, ys))


_SHARED_2 = [1.0, -2.0, 0.5]
ok(alias_same_list_twice_read, (_SHARED_2, _SHARED_2))


def alias_same_list_scaled_then_read(x, w, b):
    s = b
    for i in range(len(x)):
        x[i] = x[i] * 2.0       # w is x: the next read of w[i] sees the new value
        s = s + x[i] * w[i]
    return s * s


_SHARED_3 = [1.0, 2.0]
ok(alias_same_list_scaled_then_read, (_SHARED_3, _SHARED_3, 0.5))


def alias_same_list_grown(x, w):
    w.append(x[0] * 3.0)        # x grows too
    return sum(w) * x[-1]


_SHARED_4 = [1.0, 2.0]
ok(alias_same_list_grown, (_SHARED_4, _SHARED_4))


def alias_shared_row_param(W, row):
    row[0] = row[0] * 2.0     # row is W[0]
    return W[0][0] * W[1][1] + row[1]


_ROW = [1.0, 2.0]
ok(alias_shared_row_param, ([_ROW, [3.0, 4.0]], _ROW))


def alias_arg_scaled_in_place(xs, a):
    for i in range(len(xs)):
        xs[i] = xs[i] * a
    return sum(xs) * xs[0]


ok(alias_arg_scaled_in_place, ([1.0, -2.0, 0.5], 1.5))


def alias_list_copy_breaks_alias(xs):
    ys = list(xs)
    zs = xs.copy()
    ys[0] = 0.0
    zs[1] = 5.0
    return xs[0] * 2.0 + ys[1] * zs[0]


ok(alias_list_copy_breaks_alias, ([1.5, -2.0],))


def alias_augassign_through_alias(xs, v):
    ys = xs
    ys[1] += v
    return xs[1] * xs[1]


ok(alias_augassign_through_alias, ([1.0, 2.0], 0.5))


def alias_row_in_index_loop(W, a):
    for i in range(2):
        r = W[i]
        r[1] = r[1] + a * r[0]
    return W[0][1] * W[1][1]


ok(alias_row_in_index_loop, ([[1.0, 2.0], [3.0, 4.0]], 0.5))


def alias_local_rows_shared(x, y):
    r = [x, y]
    M = [r, r]
    M[0][0] = y
    return M[1][0] * x


ok(alias_local_rows_shared, (1.5, -0.5))


def alias_iadd_extends(xs, v):
    ys = xs
    ys += [v * 2.0]           # list += extends in place: xs grows too
    return sum(xs) * v


ok(alias_iadd_extends, ([1.0, 2.0], 0.5))


def alias_plus_does_not_extend(xs, v):
    ys = xs
    ys = ys + [v * 2.0]       # a new list: xs is unchanged
    return sum(xs) * v + ys[len(ys) - 1]


ok(alias_plus_does_not_extend, ([1.0, 2.0], 0.5))


def alias_row_appended_twice(x, y):
    r = [x]
    M = []
    M.append(r)
    M.append(r)
    M[1].append(y * y)        # both M[0] and M[1] are r
    return M[0][1] * M[0][0]


ok(alias_row_appended_twice, (1.5, -0.5))


def _scale_in_place(v, s):
    for i in range(len(v)):
        v[i] = v[i] * s


def alias_helper_mutates_arg(xs, s):
    _scale_in_place(xs, s)    # the caller's list is changed
    return xs[0] * xs[1]


ok(alias_helper_mutates_arg, ([1.0, -2.0], 1.5))


def _identity_list(v):
    return v


def alias_helper_returns_arg(xs, y):
    ys = _identity_list(xs)
    ys[0] = y * y
    return xs[0] * xs[1]


ok(alias_helper_returns_arg, ([1.0, -2.0], 1.5))


def alias_chained_assignment(x, y):
    a = b = [0.0, 0.0]        # one list, two names
    a[0] = x
    b[1] = y
    return a[1] * b[0]


ok(alias_chained_assignment, (1.5, -0.5))


def no_alias_comprehension_rows(x, y):
    M = [[0.0] * 2 for _ in range(3)]   # three different rows
    M[0][1] = x
    M[2][0] = y
    return M[1][1] + M[0][1] * M[2][0] + M[2][1]


ok(no_alias_comprehension_rows, (1.5, -0.5))


def scalar_copy_not_alias(xs):
    x = xs[0]                 # a float: not a reference into xs
    xs[0] = 5.0 * xs[1]
    return x * xs[0]


ok(scalar_copy_not_alias, ([1.5, -0.5],))


def alias_sort_in_place(xs):
    xs.sort()
    return xs[0] * 2.0 + xs[1] * xs[2]


ok(alias_sort_in_place, ([3.0, -1.0, 0.5],))


def alias_reverse_in_place(xs):
    ys = xs
    ys.reverse()
    return xs[0] * 3.0 + xs[1]


ok(alias_reverse_in_place, ([3.0, -1.0, 0.5],))


def alias_range_len_list_grows(xs):
    for i in range(len(xs)):  # range is evaluated once, before the list grows
        xs.append(xs[i] * 0.5)
    return sum(v * v for v in xs) + xs[len(xs) - 1]


ok(alias_range_len_list_grows, ([1.0, -2.0],))


def alias_swap_list_elements(xs):
    xs[0], xs[2] = xs[2], xs[0]
    return xs[0] * 2.0 + xs[2] * xs[1]


ok(alias_swap_list_elements, ([3.0, -1.0, 0.5],))


def alias_swap_same_index(xs):
    i = 1
    j = 1
    xs[i], xs[j] = xs[j] * 2.0, xs[i] * 3.0   # assigned left to right: xs[1] is 3 * xs[1]
    return xs[1] * xs[0]


ok(alias_swap_same_index, ([3.0, -1.0],))


def alias_insert_pop(xs, y):
    xs.insert(0, y)
    v = xs.pop()
    return v * xs[0] + xs[1]


ok(alias_insert_pop, ([3.0, -1.0], 0.5))


# ================================================================== 4. keyword arguments
kind(4)


def min_key_abs(xs):
    return min(xs, key=abs) * 3.0 + xs[1]


ok(min_key_abs, ([-0.5, 2.0, -1.5],), ([2.0, -3.0, 1.2],))


def max_key_lambda(xs):
    return max(xs, key=lambda v: -v) ** 2


ok(max_key_lambda, ([0.5, -2.0, 1.5],))


def min_two_args_key(a, b):
    return min(a, b, key=abs) * a


ok(min_two_args_key, (-2.0, 1.5), (0.5, -1.0))


def max_key_index(xs):
    k = max(range(len(xs)), key=lambda i: xs[i])
    return xs[k] * 2.0 + k


ok(max_key_index, ([0.5, 3.0, 1.5],))


def max_default_empty(xs, y):
    return max(xs, default=0.0) + y * y


ok(max_default_empty, ([], 1.5), ([1.0, 2.5], 1.5))


def max_default_differentiated(xs, y):
    return max(xs, default=y) * y


ok(max_default_differentiated, ([], 1.5), ([3.0, -1.0], 1.5))


def min_key_and_default(xs, y):
    return min(xs, key=abs, default=y) * 2.0


ok(min_key_and_default, ([], 1.5), ([-3.0, 0.5], 1.5))


def sum_float_start(xs):
    return sum(xs, 10.0) * xs[0]


ok(sum_float_start, ([1.0, 2.0, -0.5],))


def sum_start_differentiated(xs, s):
    return sum(xs, s) ** 2


ok(sum_start_differentiated, ([1.0, 2.0], 0.5))


def sum_start_keyword(xs, s):
    return sum(xs, start=s) * s


ok(sum_start_keyword, ([1.0, 2.0], 0.5))


def sorted_then_arith(xs):
    ys = sorted(xs)
    return ys[0] * 2.0 + ys[2] * ys[1]


ok(sorted_then_arith, ([3.0, -1.0, 0.5],))


def sorted_key_reverse(xs):
    ys = sorted(xs, key=abs, reverse=True)
    return ys[0] - ys[1] * 0.5 + ys[2] ** 2


ok(sorted_key_reverse, ([0.5, -3.0, 1.5],))


def sorted_ties_stable(xs):
    ys = sorted(xs, key=int)  # 1.3 and 1.1 tie (key 1): the sort is stable
    return ys[0] * 10.0 + ys[1] * 2.0 + ys[2]


ok(sorted_ties_stable, ([1.3, 1.1, 0.2],))


def sorted_ties_reverse_stable(xs):
    ys = sorted(xs, key=int, reverse=True)  # reverse=True keeps tied elements in order
    return ys[0] * 10.0 + ys[1] * 2.0 + ys[2]


ok(sorted_ties_reverse_stable, ([1.3, 0.2, 1.1],))


def enumerate_start(xs):
    s = 0.0
    for i, v in enumerate(xs, start=1):
        s += i * v
    return s


ok(enumerate_start, ([1.0, -2.0, 0.5],))


def zip_strict(xs, ws):
    return sum(x * w for x, w in zip(xs, ws, strict=True))


ok(zip_strict, ([1.0, 2.0], [0.5, -1.5]))


def pow_keyword_exp(x):
    return pow(x, exp=3) + pow(base=x, exp=2)


ok(pow_keyword_exp, (1.3,))


def round_ndigits_keyword(x):
    return x * round(x, ndigits=1)


ok(round_ndigits_keyword, (1.23,))


def unknown_keyword_max(xs):
    return max(xs, initial=0.0)  # ERR:kw_initial


err(unknown_keyword_max, ([1.0, 2.0],), UnsupportedSyntaxError, "grad", "kw_initial",
    match="initial")


def unknown_keyword_sum(xs):
    return sum(xs, begin=1.0) * 2.0  # ERR:kw_begin


err(unknown_keyword_sum, ([1.0, 2.0],), UnsupportedSyntaxError, "grad", "kw_begin",
    match="begin")


def unknown_keyword_min(a, b):
    return min(a, b, keys=abs)  # ERR:kw_keys


err(unknown_keyword_min, (1.0, 2.0), UnsupportedSyntaxError, "grad", "kw_keys", match="keys")


# ================================================================== 5. loop variable reassigned
kind(5)


def loopvar_index_doubled(xs):
    s = 0.0
    for i in range(2):
        i = 2 * i
        s += xs[i]
    return s * xs[1]


ok(loopvar_index_doubled, ([1.0, 2.0, 3.0],))


def loopvar_value_doubled(xs):
    s = 0.0
    for v in xs:
        v = v * 2.0
        s += v * v
    return s


ok(loopvar_value_doubled, ([1.0, -2.0, 0.5],))


def loopvar_value_augassign(xs):
    s = 0.0
    for v in xs:
        v *= v
        s += v
    return s


ok(loopvar_value_augassign, ([1.0, -2.0, 0.5],))


def loopvar_reassign_not_next_iteration(xs):
    s = 0.0
    for i in range(3):
        s += xs[i] * i
        i = i + 5             # the next iteration still gets the next i from range
        s += i * xs[0]
    return s


ok(loopvar_reassign_not_next_iteration, ([1.0, 2.0, 3.0],))


def loopvar_shadows_param(x, xs):
    s = 0.0
    for x in xs:              # rebinds the parameter x
        s += x
    return s * x              # x is the last element


ok(loopvar_shadows_param, (1.5, [1.0, 2.0, -0.5]))


def loopvar_used_after_loop(xs):
    s = 0.0
    for v in xs:
        s = s + v
    return s * v


ok(loopvar_used_after_loop, ([1.0, 2.0, -0.5],))


def loopvar_zip_both_reassigned(xs, ws):
    s = 0.0
    for x, w in zip(xs, ws):
        x = x * w
        w = x + w
        s += x * w
    return s


ok(loopvar_zip_both_reassigned, ([1.0, 2.0], [0.5, -1.5]))


def loopvar_enumerate_index_reassigned(xs):
    s = 0.0
    n = len(xs)
    for i, v in enumerate(xs):
        i = n - 1 - i
        s += v * xs[i] * (i + 1)
    return s


ok(loopvar_enumerate_index_reassigned, ([1.0, 2.0, -0.5],))


def loopvar_nested_index_flip(W):
    s = 0.0
    for i in range(2):
        for j in range(2):
            j = 1 - j
            s += W[i][j] * (i + 2 * j + 1)
    return s * W[0][0]


ok(loopvar_nested_index_flip, ([[1.0, 2.0], [3.0, 4.0]],))


def loopvar_becomes_active(x):
    s = 0.0
    for k in range(3):
        k = k * x             # an int loop variable becomes a differentiated float
        s = s + k * k
    return s


ok(loopvar_becomes_active, (1.5,))


def loopvar_conditional_reassign(xs):
    s = 0.0
    for v in xs:
        if v < 0:
            v = -v * 0.5
        s += v * v
    return s


ok(loopvar_conditional_reassign, ([1.0, -2.0, 0.5],))


def loopvar_default_when_loop_empty(x, xs):
    v = x * 2.0
    for v in xs:
        pass
    return v * x


ok(loopvar_default_when_loop_empty, (1.5, []), (1.5, [3.0, -1.0]))


def loopvar_value_rebound_to_other(xs):
    s = 0.0
    for v in xs:
        v = xs[0] * v
        s += v
    return s


ok(loopvar_value_rebound_to_other, ([1.0, 2.0, -0.5],))


# ================================================================== 6. decorated functions
kind(6)


def doubled(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return 2 * fn(*args, **kwargs)
    return wrapper


def squared_output(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        y = fn(*args, **kwargs)
        return y * y
    return wrapper


def times(k):
    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            return k * fn(*args, **kwargs)
        return wrapper
    return deco


def plus_one_nowraps(fn):
    def wrapper(x):
        return fn(x) + 1.0
    return wrapper


def scaled_input(fn):
    @functools.wraps(fn)
    def wrapper(x, *rest):
        return fn(3.0 * x, *rest)
    return wrapper


def clipped(fn):
    @functools.wraps(fn)
    def wrapper(x):
        y = fn(x)
        return y if y < 1.0 else 1.0
    return wrapper


def identity_wraps(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


REGISTRY = []


def register(fn):
    REGISTRY.append(fn.__name__)
    return fn


@doubled
def dec_doubled(x, y):
    return x * y


ok(dec_doubled, (1.5, -2.0))


@doubled
def _dec_helper_sq(t):
    return t * t


def dec_helper_called(x):
    return _dec_helper_sq(x) + x      # the helper is the wrapper: 2 * t * t


ok(dec_helper_called, (1.5,))


@plus_one_nowraps
def dec_nowraps(x):
    return x * x * x


ok(dec_nowraps, (0.7,), second=True, label="dec_nowraps")


def dec_nowraps_helper_called(x, y):
    return dec_nowraps(y) * x


ok(dec_nowraps_helper_called, (1.5, 0.5))


@squared_output
def dec_squared(x, y):
    return x - y


ok(dec_squared, (1.5, -0.5))


@times(3.0)
def dec_factory(x):
    return math.sin(x)


ok(dec_factory, (0.4,), second=True)


@doubled
@plus_one_nowraps
def dec_stacked(x):
    return x * x


ok(dec_stacked, (1.5,), label="dec_stacked")


@identity_wraps
def dec_identity(x, y):
    return x / y


ok(dec_identity, (1.5, -0.5))


@register
def dec_register(x):
    return x ** 3


ok(dec_register, (1.5,))


@scaled_input
def dec_scaled_input(x, y):
    return x * y


ok(dec_scaled_input, (1.5, -0.5))


@clipped
def dec_clipped(x):
    return x * x


ok(dec_clipped, (0.8,), (1.5,))


@functools.lru_cache(maxsize=None)  # ERR:lru_direct
def dec_lru_cached(x):
    return x * x


err(dec_lru_cached, (1.5,), (SourceError, UnsupportedSyntaxError), "grad", "lru_direct",
    match=r"lru_cache[\s\S]*__wrapped__")


@functools.cache  # ERR:cache_helper
def _cached_helper(t):
    return t * t * 2.0


def dec_cache_helper(x):
    return _cached_helper(x) + x  # ERR:cache_helper


err(dec_cache_helper, (1.5,), (SourceError, UnsupportedSyntaxError), "grad", "cache_helper",
    match=r"cache[\s\S]*__wrapped__")


# ================================================================== 7. module globals
kind(7)
# Globals are read when the gradient runs: build grad(f), change the global, call again.


def rebind(name: str, value: Any) -> Callable[[], Callable[[], None]]:
    def apply() -> Callable[[], None]:
        g = globals()
        old = g[name]
        g[name] = value
        return lambda: g.__setitem__(name, old)
    return apply


def set_items(name: str, *items: tuple) -> Callable[[], Callable[[], None]]:
    """Mutate the global list ``name`` in place: ``(path, value)`` per item, or
    ``("append", value)``."""
    def apply() -> Callable[[], None]:
        import copy
        lst = globals()[name]
        old = copy.deepcopy(lst)
        for path, value in items:
            if path == "append":
                lst.append(value)
                continue
            target = lst
            for k in path[:-1]:
                target = target[k]
            target[path[-1]] = value

        def restore() -> None:
            lst[:] = old  # noqa: B023
        return restore
    return apply


def set_attr(obj: Any, attr: str, value: Any) -> Callable[[], Callable[[], None]]:
    def apply() -> Callable[[], None]:
        old = getattr(obj, attr)
        setattr(obj, attr, value)
        return lambda: setattr(obj, attr, old)
    return apply


SCALE = 2.0


def glob_scale(x):
    return SCALE * x * x


ok(glob_scale, (1.5,), change=rebind("SCALE", 5.0))


THRESH = 0.5


def glob_branch(x):
    if x > THRESH:
        return x * x
    return -3.0 * x


ok(glob_branch, (1.0,), change=rebind("THRESH", 2.0))


NSTEPS = 2


def glob_loop_count(x):
    for _ in range(NSTEPS):
        x = x * 1.1 + 0.1 * x * x
    return x


ok(glob_loop_count, (0.5,), change=rebind("NSTEPS", 4))


WS = [1.0, 2.0]


def glob_list_index(x):
    return WS[0] * x + WS[1] * x * x


ok(glob_list_index, (1.5,), change=set_items("WS", ((0,), 3.0), ((1,), -1.0)))


WS2 = [0.5, -1.0, 2.0]


def glob_list_zip(xs):
    return sum(w * v for w, v in zip(WS2, xs))


ok(glob_list_zip, ([1.0, 2.0, 3.0],), change=set_items("WS2", ((2,), 7.0), ("append", 1.0)))


def glob_list_len(x):
    s = 0.0
    for w in WS3:
        s = s * x + w
    return s


WS3 = [1.0, -2.0]
ok(glob_list_len, (1.5,), change=set_items("WS3", ("append", 0.5), ("append", 3.0)))


OFFSET = 0.25


def _glob_helper(t):
    return t + OFFSET


def glob_in_helper(x):
    return _glob_helper(x) * x


ok(glob_in_helper, (1.5,), change=rebind("OFFSET", -1.0))


SCALE2 = 1.5


def glob_in_closure(x):
    def h(t):
        return t * SCALE2
    return h(x) * x + SCALE2


ok(glob_in_closure, (1.5,), change=rebind("SCALE2", 4.0))


GAIN = 2.0


def _glob_default_helper(t, c=GAIN):   # the default was evaluated when this def ran
    return t * c


def glob_default_frozen(x):
    return _glob_default_helper(x) * x + GAIN * x


ok(glob_default_frozen, (1.5,), change=rebind("GAIN", 10.0))


POWER = 2


def glob_exponent(x):
    return x ** POWER


ok(glob_exponent, (1.5,), change=rebind("POWER", 3))


ACT = math.tanh


def glob_function_rebound(x):
    return ACT(2.0 * x) * x


ok(glob_function_rebound, (0.4,), change=rebind("ACT", math.sin))


class Cfg:
    lr = 0.5


def glob_class_attr(x):
    return Cfg.lr * x * x


ok(glob_class_attr, (1.5,), change=set_attr(Cfg, "lr", 2.0))


SCALE3 = 3.0


def glob_declared_read(x):
    global SCALE3
    return SCALE3 * x * x


ok(glob_declared_read, (1.5,), change=rebind("SCALE3", -1.0))


TABLE = [[1.0, 2.0], [3.0, 4.0]]


def glob_nested_list(x):
    return TABLE[1][0] * x * x + TABLE[0][1] * x


ok(glob_nested_list, (1.5,), change=set_items("TABLE", ((1, 0), 7.0), ((0, 1), -3.0)))


# ================================================================== 8. arguments and helpers
kind(8)


def arg_array_as_scalar(x, y):  # ERR:array_arg
    return math.sin(x) * y  # ERR:array_arg


# Decision: an array reaches a function that calls no numpy through the array path, as
# for a numpy function; a math function of a vector (a TypeError in Python) is refused
# there, naming the line and the numpy function to use.
err(arg_array_as_scalar, (np.array([1.0, 2.0]), 2.0), UnsupportedSyntaxError, "call",
    "array_arg", match=r"(?s)math\.sin of an array.*np\.sin")


def arg_array_in_branch(x):  # ERR:array_branch
    if x > 0.0:  # ERR:array_branch
        return x * x
    return -x


err(arg_array_in_branch, (np.array([1.0, -2.0]),), UnsupportedSyntaxError, "call",
    "array_branch", match=r"(?s)truth of an array.*np\.where")


def arg_np_float64(x, y):
    return math.sin(x) * y


ok(arg_np_float64, (np.float64(0.5), 2.0))


def arg_decimal(x):  # ERR:decimal_arg
    return x * x + 1  # ERR:decimal_arg


err(arg_decimal, (Decimal("1.5"),), ArgumentError, "call", "decimal_arg", match="Decimal")


def arg_decimal_in_list(xs):  # ERR:decimal_list
    return xs[0] * xs[1]  # ERR:decimal_list


err(arg_decimal_in_list, ([Decimal("2.5"), Decimal("1.5")],), ArgumentError, "call",
    "decimal_list", match="Decimal")


def _accumulate(v, hist=[]):  # ERR:mutable_default  # noqa: B006
    hist.append(v)
    return sum(hist)


def helper_mutable_default(x):
    return _accumulate(x * x) + x


err(helper_mutable_default, (1.5,), UnsupportedSyntaxError, "grad", "mutable_default",
    match=r"_accumulate|hist")


def mutable_default_direct(x, hist=[]):  # ERR:mutable_default_direct  # noqa: B006
    hist.append(x)
    return x * len(hist)


err(mutable_default_direct, (1.5,), UnsupportedSyntaxError, "grad", "mutable_default_direct",
    match="hist")


def _coeffs_helper(v, coeffs=[1.0, 2.0]):  # noqa: B006 - a mutable default, only read
    return coeffs[0] * v + coeffs[1] * v * v


def helper_mutable_default_read_only(x):
    return _coeffs_helper(x) * x


ok(helper_mutable_default_read_only, (1.5,))


SQUARE = lambda t: t * t + 1.0  # noqa: E731


def lambda_global_helper(x):
    return SQUARE(x) * x


ok(lambda_global_helper, (1.5,))


AFFINE = lambda a, b=2.0: a * b + 1.0  # noqa: E731


def lambda_global_default(x, y):
    return AFFINE(x) + AFFINE(x, y) * y


ok(lambda_global_default, (1.5, -0.5))


def sum_differentiated_start(xs, x):
    return sum(xs, x) * x


ok(sum_differentiated_start, ([1.0, 2.0], 0.5))


def stats_mean(xs):
    return statistics.mean(xs) * 2.0 + xs[0]


ok(stats_mean, ([1.0, 2.0, -0.5],))


def stats_fmean(xs):
    return statistics.fmean(xs) ** 2


ok(stats_fmean, ([1.0, 2.0, -0.5],))


def stats_mean_generator(xs, w):
    return statistics.mean(v * w for v in xs)


ok(stats_mean_generator, ([1.0, 2.0, -0.5], 1.5))


# statistics.median / variance / stdev ...: inlined from a Python model of each
# (symgrad/stdlib_models.py); median at an odd and an even count, and with a tie.
def stats_median(xs):
    return statistics.median(xs) * 2.0


ok(stats_median, ([1.0, 3.0, 2.0],), ([1.0, 3.0, 2.0, -0.5],))


def stats_variance(xs):
    return statistics.variance(xs) + xs[0] * statistics.pstdev(xs)


ok(stats_variance, ([1.0, 3.0, 2.0],), ([0.5, -1.0],))


def arg_tuple_param(p, y):
    a, b = p
    return a * b + y * a


ok(arg_tuple_param, ((1.5, 2.0), 0.5))


def arg_ints_differentiated(x, y):
    return x * y + x / y


ok(arg_ints_differentiated, (2, 3), wrt=["x", "y"])


def arg_list_of_np_float64(xs):
    return xs[0] * xs[1] + math.exp(xs[1])


ok(arg_list_of_np_float64, ([np.float64(1.5), np.float64(-0.5)],))


# ================================================================== 9. non-numeric results
kind(9)


def ret_fstring(x):
    return f"{x:.3f}"  # ERR:ret_fstring


err(ret_fstring, (1.5,), NonScalarError, "grad", "ret_fstring")


def ret_str_call(x):
    return str(x * 2.0)  # ERR:ret_str


err(ret_str_call, (1.5,), NonScalarError, "grad", "ret_str")


def ret_none_explicit(x):
    y = x * 2.0  # noqa: F841
    return None  # ERR:ret_none


err(ret_none_explicit, (1.5,), NonScalarError, "grad", "ret_none")


def ret_none_implicit(x):  # ERR:ret_none_implicit
    y = x * 2.0  # ERR:ret_none_implicit  # noqa: F841


err(ret_none_implicit, (1.5,), NonScalarError, "grad", "ret_none_implicit")


def ret_none_one_branch(x):  # ERR:ret_none_branch
    if x > 0.0:  # ERR:ret_none_branch
        return x * x  # ERR:ret_none_branch
    # falls off the end here: None for x <= 0


ok(ret_none_one_branch, (1.5,))
err(ret_none_one_branch, (-1.0,), NonScalarError, "call", "ret_none_branch",
    name="ret_none_one_branch@neg")


def ret_list(x):
    return [x, x * x]  # ERR:ret_list


err(ret_list, (1.5,), NonScalarError, "grad", "ret_list")


def ret_tuple(x, y):
    return x, y  # ERR:ret_tuple


err(ret_tuple, (1.5, 2.0), NonScalarError, "grad", "ret_tuple")


def ret_tuple_var(x):
    t = (x, 2.0 * x)
    return t  # ERR:ret_tuple_var


err(ret_tuple_var, (1.5,), NonScalarError, "grad", "ret_tuple_var")


def ret_list_arg(xs):
    return xs  # ERR:ret_list_arg


# only at call time is it known that xs is a list
err(ret_list_arg, ([1.0, 2.0],), NonScalarError, "call", "ret_list_arg")


def _pair(x):
    return x, x * x  # ERR:ret_helper_tuple


def ret_helper_tuple(x):
    return _pair(x)  # ERR:ret_helper_tuple


err(ret_helper_tuple, (1.5,), NonScalarError, "grad", "ret_helper_tuple")


def ret_dict(x):
    return {"loss": x * x}  # ERR:ret_dict


err(ret_dict, (1.5,), NonScalarError, "grad", "ret_dict")


def ret_string_one_branch(x):
    if x > 0.0:
        return x * 2.0
    return "negative"  # ERR:ret_str_branch


ok(ret_string_one_branch, (1.5,))
err(ret_string_one_branch, (-1.0,), NonScalarError, "call", "ret_str_branch",
    name="ret_string_one_branch@neg")


def ret_list_if_long(xs):
    if len(xs) == 1:
        return xs[0] * 2.0
    return xs  # ERR:ret_list_if_long


ok(ret_list_if_long, ([1.5],))
err(ret_list_if_long, ([1.0, 2.0],), NonScalarError, "call", "ret_list_if_long",
    name="ret_list_if_long@2")


# ================================================================== 10. more everyday Python
kind(10)


def chained_comparison(x, y):
    if 0.0 < x < y:
        return x * y
    return x + y


ok(chained_comparison, (1.0, 2.0), (2.0, 1.0), (-1.0, 2.0))


def chained_comparison_value(x):
    return (0.0 < x < 1.0) * x + x


ok(chained_comparison_value, (0.5,), (1.5,))


def walrus_in_if(x):
    if (y := x * x) > 1.0:
        return y * x
    return y


ok(walrus_in_if, (1.5,), (0.5,))


def walrus_in_comprehension(xs):
    total = 0.0
    partial = [(total := total + v) for v in xs]
    return sum(partial) * total


ok(walrus_in_comprehension, ([1.0, 2.0, -0.5],))


def walrus_in_while(xs):
    i = 0
    s = 0.0
    while (v := xs[i]) > 0.0:
        s += v * v
        i += 1
    return s


ok(walrus_in_while, ([1.0, 2.0, -1.0, 3.0],))


COUNTER = 0.0


# Decision: a global *write* keeps state between calls (like a mutable default), so it is
# refused; a global read (declared or not) is supported (kind 7).
def global_write(x):
    global COUNTER  # ERR:global_write
    COUNTER = x * 2.0  # ERR:global_write
    return COUNTER * x


err(global_write, (1.5,), UnsupportedSyntaxError, "grad", "global_write", match="global")


def nested_comprehension_outer_var(xs, ys):
    return sum([a * b for a in xs for b in ys if b > a])


ok(nested_comprehension_outer_var, ([1.0, 2.0], [1.5, 0.5, 3.0]))


def nested_comprehension_matrix(W, v):
    out = [sum(w * x for w, x in zip(row, v)) for row in W]
    return sum(o * o for o in out)


ok(nested_comprehension_matrix, ([[1.0, 2.0], [3.0, -1.0]], [0.5, -1.5]))


def comprehension_var_does_not_leak(x, xs):
    ys = [x * 2.0 for x in xs]
    return sum(ys) * x        # x is still the parameter


ok(comprehension_var_does_not_leak, (1.5, [1.0, -2.0]))


def comprehension_reads_outer_loop_var(xs):
    s = 0.0
    for k in range(1, 3):
        s += sum([v ** k for v in xs])
    return s


ok(comprehension_reads_outer_loop_var, ([1.0, -2.0, 0.5],))


def _polar(x, y):
    return math.hypot(x, y), math.atan2(y, x)


def tuple_from_helper(x, y):
    r, theta = _polar(x, y)
    return r * math.cos(2.0 * theta)


ok(tuple_from_helper, (1.5, 0.5))


def _nested_pair(x):
    return (x, x * x), 3.0 * x


def nested_tuple_from_helper(x):
    (a, b), c = _nested_pair(x)
    return a * b + c


ok(nested_tuple_from_helper, (1.5,))


def early_return_in_for(xs):
    for v in xs:
        if v > 1.0:
            return v * 2.0
    return xs[0] * 0.5


ok(early_return_in_for, ([0.5, 1.5, 3.0],), ([0.5, 0.2],))


def early_return_in_while(x):
    k = 0
    while True:
        x = x * 0.5
        k += 1
        if x < 0.3:
            return x * k


ok(early_return_in_while, (2.0,), (0.5,))


def early_return_nested_loops(W):
    for row in W:
        for v in row:
            if v < 0.0:
                return v * row[0]
    return W[0][0]


ok(early_return_nested_loops, ([[1.0, 2.0], [3.0, -1.5]],), ([[1.0, 2.0]],))


def for_else(xs, t):
    for v in xs:
        if v > t:
            s = v
            break
    else:
        s = t * 2.0
    return s * s


ok(for_else, ([0.5, 2.0], 1.0), ([0.5, 0.7], 1.0))


def while_else(x):
    while x < 5.0:
        x = x * 2.0
        if 3.0 < x < 3.5:
            break
    else:
        x = x + 1.0
    return x * x


ok(while_else, (0.8,), (0.7,))


def break_inner_only(W):
    s = 0.0
    for row in W:
        for v in row:
            if v < 0.0:
                break
            s += v * v
        s += row[0]
    return s


ok(break_inner_only, ([[1.0, -1.0, 2.0], [0.5, 1.5]],))


def int_float_mixing(x, n):
    return x * n + n / 2 + x / n + n // 2


ok(int_float_mixing, (1.5, 3))


def int_floor_and_mod(x):
    k = int(x) // 2
    return x * k + x % 1.0


ok(int_floor_and_mod, (5.3,))


def pow_int_exponent_at_zero(x):
    return x ** 2 + x ** 0 + x ** 1


ok(pow_int_exponent_at_zero, (0.0,))


def pow_float_exponent_at_zero(x):
    return x ** 2.0 + 3.0 * x ** 3.0


ok(pow_float_exponent_at_zero, (0.0,))


def pow_negative_base_int_exponent(x, n):
    return x ** 3 + x ** n


ok(pow_negative_base_int_exponent, (-1.5, 2))


def pow_negative_base_float_exponent(x):
    return x ** 2.0 - x ** 3.0


ok(pow_negative_base_float_exponent, (-1.5,))


def augmented_pow(x):
    y = x
    y **= 3
    return y


ok(augmented_pow, (-1.5,))


def abs_off_kink(x):
    return abs(x - 0.5) * x


ok(abs_off_kink, (0.502,), (0.49,))


def math_inf_running_min(x):
    best = math.inf
    for v in (x, 2.0 * x, x * x):
        if v < best:
            best = v
    return best


ok(math_inf_running_min, (0.5,), (1.5,), (-1.0,))


def neg_inf_running_max(xs):
    m = -math.inf
    for v in xs:
        m = max(m, v)
    return m * 2.0


ok(neg_inf_running_max, ([1.0, 3.0, -0.5],))


def none_sentinel_max(xs):
    best = None
    for v in xs:
        if best is None or v > best:
            best = v
    return best * 2.0


ok(none_sentinel_max, ([1.0, 3.0, -0.5],))


def fstring_unused(x):
    msg = f"x = {x:.3f}"  # noqa: F841
    y = x * x
    return y


ok(fstring_unused, (1.5,))


def percent_format_truthy(x):
    label = "%.2f" % x
    return math.exp(x) if label else 0.0   # a non-empty string is truthy


ok(percent_format_truthy, (0.5,))


def isinstance_branch(x):
    if isinstance(x, float):
        return x * 2.0
    return x * 3.0


ok(isinstance_branch, (1.5,))


def isinstance_int_branch(x, n):
    if isinstance(n, int):
        return x * n
    return x


ok(isinstance_int_branch, (1.5, 3))


def shadow_builtin_sum(xs):
    sum = 0.0
    for v in xs:
        sum += v * v
    return sum


ok(shadow_builtin_sum, ([1.0, -2.0, 0.5],))


def shadow_builtin_param(x, min):
    return x * min + x


ok(shadow_builtin_param, (1.5, -0.5))


def param_named_math(x, math):
    return x * math + x ** 2


ok(param_named_math, (1.5, -0.5))


def local_named_like_module(x):
    math = 2.0
    return x * math


ok(local_named_like_module, (1.5,))


def helper_defined_after(x):
    return _late_helper(x) * x


ok(helper_defined_after, (1.5,))


def nested_def_shadows_global_helper(x):
    def _late_helper(t):
        return 3.0 * t
    return _late_helper(x) * x


ok(nested_def_shadows_global_helper, (1.5,))


def recursive(x, n):
    if n == 0:
        return x
    return recursive(x * x, n - 1) * 0.5


ok(recursive, (1.5, 2), (0.7, 3), (0.9, 0))


def recursion_counted_by_a_float(x, n):
    if n <= 0:
        return x * n
    return recursion_counted_by_a_float(math.sin(x), n - 1) + n * x


ok(recursion_counted_by_a_float, (0.6, 3.3), (0.6, 2.5))


def recursion_too_deep(x, n):
    return x if n == 0 else recursion_too_deep(x * 0.99, n - 1)  # ERR:too_deep


err(recursion_too_deep, (0.5, 40), UnsupportedSyntaxError, "call", "too_deep",
    match=r"(?s)recursive call to recursion_too_deep.*up to 32 calls deep")


# Decision: a recursion whose depth the arguments fix when the code is made is inlined
# call by call (up to 32 deep); one counted down by a parameter (above) is made for
# each value of that parameter, which then fixes the depth.
def _ping(x, n):
    return x if n == 0 else _pong(x * 2.0, n - 1)


def _pong(x, n):
    return x if n == 0 else _ping(x + 1.0, n - 1)


def mutual_recursion(x):
    return _ping(x, 3) * x


ok(mutual_recursion, (1.5,), (-0.7,))


def _power(b, n):
    return 1.0 if n == 0 else b * _power(b, n - 1)


def _tree(x, n):
    if n <= 1:
        return x
    return _tree(x, n - 1) * 0.5 + math.sin(_tree(x, n - 2))


def recursion_of_known_depth(x, y):
    def inner(v, k):
        return v if k == 0 else inner(math.sin(v) * y, k - 1)
    return _power(x, 3) * y + _tree(x, 5) + inner(x, 4)


ok(recursion_of_known_depth, (0.37, 0.81), (-1.2, 0.4), second=False)


def recursion_depth_from_data(x):
    return _shrink(x, int(x * 10))


def _shrink(x, n):
    return x if n <= 0 else _shrink(x * 0.9, n - 1)  # ERR:data_depth


err(recursion_depth_from_data, (0.5,), UnsupportedSyntaxError, "grad", "data_depth",
    match=r"(?s)recursive call to _shrink.*up to 32 calls deep")


def generator_function(x):
    yield x * 2.0  # ERR:generator


err(generator_function, (1.5,), UnsupportedSyntaxError, "grad", "generator",
    match=r"yield|generator")


def _gen_helper(x):
    for k in range(3):
        yield x * k


def calls_generator_helper(x):
    # sum of a generator: a comprehension over it (lower_gen; refused before)
    return sum(_gen_helper(x))


ok(calls_generator_helper, (1.5,), (-0.4,), second=True)


def _gen_items(x):
    for k in range(3):
        yield x * k


def generator_kept_in_a_variable(x):
    it = _gen_items(x)  # ERR:generator_kept
    return sum(it)


err(generator_kept_in_a_variable, (1.5,), UnsupportedSyntaxError, "grad", "generator_kept",
    match=r"generator used other than by a for loop")


def try_except(x):
    try:  # ERR:try
        y = math.log(x)
    except ValueError:
        y = 0.0
    return y * x


err(try_except, (1.5,), UnsupportedSyntaxError, "grad", "try", match="try")


def del_local(x):
    y = x * 2.0
    z = y + 1.0
    del y
    return z * x


ok(del_local, (1.5,))


def del_list_item(xs):
    ys = list(xs)
    del ys[0]
    return sum(ys) * ys[0]


ok(del_list_item, ([1.0, 2.0, -0.5],))


class Consts:
    g = 9.81
    half = 0.5


def class_attr_constants(x, t):
    return Consts.half * Consts.g * t * t + x * t


ok(class_attr_constants, (1.5, 0.5))


def negative_index(xs):
    return xs[-1] * xs[-2] + xs[0]


ok(negative_index, ([1.0, 2.0, -0.5],))


def list_slice(xs):
    return sum(xs[1:]) * xs[0] + sum(xs[::2])


ok(list_slice, ([1.0, 2.0, -0.5],))


def while_float_counter(x):
    t = 0.0
    while t < 1.0:
        x = x * 1.5 + t
        t += 0.3
    return x


ok(while_float_counter, (0.5,))


def triple_swap(x, y, z):
    x, y, z = y, z, x
    return x * 2.0 + y * 3.0 + z * z


ok(triple_swap, (1.5, -0.5, 2.0))


def int_counter_exponent(x):
    n = 0
    for _ in range(3):
        n += 1
    return x ** n


ok(int_counter_exponent, (1.5,))


def divmod_remainder(x):
    q, r = divmod(x, 0.7)
    return r * x + q


ok(divmod_remainder, (1.5,))


def math_fsum_prod(xs):
    return math.fsum(xs) * math.prod(xs)


ok(math_fsum_prod, ([1.0, 2.0, -0.5],))


def list_index_of_max(xs):
    k = xs.index(max(xs))
    return xs[k] * 2.0 + k


ok(list_index_of_max, ([1.0, 3.0, -0.5],))


def all_any_branch(xs):
    if all(v > 0.0 for v in xs):
        return sum(xs)
    return -sum(v * v for v in xs)


ok(all_any_branch, ([1.0, 2.0],), ([1.0, -2.0],))


def assert_statement(x):
    assert x > 0, "x must be positive"
    return x * x


ok(assert_statement, (1.5,))


def bools_as_numbers(x):
    return x * True + (x > 0) * x + False


ok(bools_as_numbers, (1.5,), (-1.5,))


# Decision: dicts with constant keys have clear semantics a transformer can reproduce: ok.
def dict_of_params(x, y):
    p = {"w": x, "b": y}
    return p["w"] * p["w"] + p["b"]


ok(dict_of_params, (1.5, -0.5))


def star_unpacking(xs):
    first, *rest = xs
    return first * sum(rest)


ok(star_unpacking, ([1.0, 2.0, -0.5],))


def loop_over_tuple_of_params(x, y):
    s = 1.0
    for v in (x, y, x):
        s = s * v + 1.0
    return s


ok(loop_over_tuple_of_params, (1.5, -0.5))


def round_off_half(x):
    return x * round(x, 1)


ok(round_off_half, (1.23,))


def _scaled(t, c=1.0):
    return t * c


def functools_partial_helper(x):
    h = functools.partial(_scaled, c=2.0)
    return h(x) * x


ok(functools_partial_helper, (1.5,))


def conditional_expression_nested(x):
    return x * x if x > 1.0 else (-x if x < -1.0 else x * 0.5)


ok(conditional_expression_nested, (1.5,), (-1.5,), (0.5,))


COEFFS = (1.0, -2.0, 0.5)


def global_tuple_coeffs(x):
    s = 0.0
    for k, c in enumerate(COEFFS):
        s += c * x ** k
    return s


ok(global_tuple_coeffs, (1.5,))


def string_comparison_branch(x, mode):
    if mode == "double":
        return 2.0 * x
    return x * x


ok(string_comparison_branch, (1.5, "double"), (1.5, "square"))


K_HELPER = 2.0


def _uses_global_k(t):
    return t * K_HELPER       # the module global, whatever the caller calls K_HELPER


def helper_reads_global_shadowed_in_caller(x):
    K_HELPER = 10.0
    return _uses_global_k(x) + K_HELPER * x


ok(helper_reads_global_shadowed_in_caller, (1.5,))


def _double_param(t):
    t = t * 2.0               # rebinds the helper's parameter only
    return t + 1.0


def helper_rebinds_its_param(x):
    y = _double_param(x)
    return x * y


ok(helper_rebinds_its_param, (1.5,))


def _h_local(t):
    s = t * 3.0
    return s


def helper_local_same_name(x):
    s = x * x
    y = _h_local(x)
    return s + y * s


ok(helper_local_same_name, (1.5,))


def _affine3(a, b=1.0, c=0.0):
    return a * b + c


def helper_keywords_out_of_order(x, y):
    return _affine3(c=x, a=y, b=x * y)


ok(helper_keywords_out_of_order, (1.5, -0.5))


def range_bound_changed_in_loop(x):
    n = 3
    s = 0.0
    for _ in range(n):        # range(3): changing n does not change the trip count
        n = n + 1
        s = s * x + n
    return s


ok(range_bound_changed_in_loop, (1.5,))


def prefix_sum_wraparound(xs):
    for i in range(len(xs)):
        xs[i] += xs[i - 1]    # at i == 0, xs[-1] is the last element
    return xs[2] * xs[0]


ok(prefix_sum_wraparound, ([1.0, -2.0, 0.5],))


def float_inf_string(xs):
    best = float("inf")
    for v in xs:
        best = min(best, v * v)
    return best


ok(float_inf_string, ([1.5, -0.5, 2.0],))


def sign_idiom(x):
    s = (x > 0) - (x < 0)
    return s * x * x


ok(sign_idiom, (1.5,), (-1.5,))


def round_to_int(x):
    return x * round(x)


ok(round_to_int, (1.3,))


def empty_sum_times(x, xs):
    return (sum(xs) + 1) * x


ok(empty_sum_times, (1.5, []), (1.5, [2.0]))


def reversed_enumerate(xs):
    s = 0.0
    for i, v in enumerate(reversed(xs)):
        s += i * v
    return s


ok(reversed_enumerate, ([1.0, -2.0, 0.5],))


def negative_step_range(xs):
    s = 0.0
    for i in range(len(xs) - 1, -1, -2):
        s += xs[i] * (i + 1)
    return s


ok(negative_step_range, ([1.0, -2.0, 0.5],))


def while_int_truthiness(x):
    n = 3
    while n:
        x = x * x * 0.5 + 1.0
        n -= 1
    return x


ok(while_int_truthiness, (0.5,))


def pow_len_exponent(x, xs):
    return x ** len(xs) + xs[0]


ok(pow_len_exponent, (1.5, [1.0, 2.0, 3.0]))


def multiple_targets(x):
    a = b = x * 2.0
    a = a + 1.0               # floats are immutable: b keeps 2 x
    return a * b


ok(multiple_targets, (1.5,))


def min_int_and_float(x):
    return min(1, x) * x


ok(min_int_and_float, (0.5,), (2.0,))


def int_true_division(x, n):
    return x * (n / 2)


ok(int_true_division, (1.5, 3))


def pow_negative_exponent(x):
    return x ** -2 + 2.0 ** x


ok(pow_negative_exponent, (-1.5,))


def math_floor_ceil(x):
    return x * math.floor(x) + math.ceil(x) * x


ok(math_floor_ceil, (1.3,), (-1.3,))


def list_repetition(xs):
    ys = xs * 2
    return sum(v * v for v in ys) + ys[3]


ok(list_repetition, ([1.0, -2.0],))


def list_concatenation(xs, y):
    ys = xs + [y, y * y]
    return sum(ys) * ys[2]


ok(list_concatenation, ([1.0, -2.0], 0.5))


def tuple_augmented(x, y):          # t += (...) makes a new tuple: u keeps the old one
    t = (x, y)
    u = t
    t += (x * y,)
    t = t + (t[0] ** 2,)
    return sum(u) * len(t) + t[-1] * t[2]


ok(tuple_augmented, (0.37, 0.81), (-1.5, 2.0))


def tuple_grown_in_a_loop(x):
    acc = ()
    for k in range(3):  # ERR:grown
        acc = acc + (x * k,)
    return sum(acc)


err(tuple_grown_in_a_loop, (0.5,), UnsupportedSyntaxError, "grad", "grown",
    match="an empty tuple 'acc', reassigned in a loop")


def _late_helper(t):   # defined after the functions that call it
    return t * t + 1.0
