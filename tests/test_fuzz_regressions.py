"""Regression tests for the programs the fuzzer (tests/test_fuzz.py) found wrong in the
IR core, each minimal, checked against central finite differences run through the real
function (so Python's semantics decide)."""
from __future__ import annotations

import copy
import functools
import math

import pytest

import symgrad

H = 1e-6


def fd(f, args, i):
    """Central differences of f in argument i (a number or a nested list)."""
    def bump(x, path, d):
        if not path:
            return x + d
        x = copy.copy(x)
        x[path[0]] = bump(x[path[0]], path[1:], d)
        return x

    def leaves(x, path=()):
        if isinstance(x, list):
            for k, v in enumerate(x):
                yield from leaves(v, path + (k,))
        else:
            yield path

    def build(x, path=()):
        if isinstance(x, list):
            return [build(v, path + (k,)) for k, v in enumerate(x)]
        up, dn = list(args), list(args)
        up[i] = bump(args[i], path, H)
        dn[i] = bump(args[i], path, -H)
        return (f(*copy.deepcopy(up)) - f(*copy.deepcopy(dn))) / (2 * H)
    _ = leaves
    return build(args[i])


def close(a, b):
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(close, a, b))
    return a == pytest.approx(b, rel=1e-6, abs=1e-8)


def check(f, *args, wrt=None):
    names = wrt or [p for p in f.__code__.co_varnames[:f.__code__.co_argcount]]
    g = symgrad.grad(f, wrt=list(names))(*copy.deepcopy(args))
    for k, name in enumerate(names):
        i = f.__code__.co_varnames.index(name)
        assert close(g[k], fd(f, args, i)), (name, g[k], fd(f, args, i))


# --- a variable overwritten by a constant inside a loop keeps no old adjoint
GL = [2.0, -1.25]


def overwritten_in_loop(x0, x1, n):
    v = x1 - x0
    for _ in range(n):
        for _ in range(n):
            v = GL[0]
    return v * x1


@pytest.mark.parametrize("n", [0, 1, 3])
def test_overwritten_by_constant_in_loop(n):
    check(overwritten_in_loop, 0.5, 0.3, n, wrt=["x0", "x1"])


# --- a while loop left by break: its last test never ran
def while_and_break(x0, x1):
    k = 0
    while k < 1 and x0 < 2.0:
        if x0 > -0.5:
            break
        k += 1
    return x0 * x1


@pytest.mark.parametrize("x0", [0.3, -1.0, 3.0])
def test_while_with_and_test_and_break(x0):
    check(while_and_break, x0, 1.5)


# --- a list held by two parameters (xs and W[0]) is one list
def shared_lists(x0, xs, W):
    y = xs
    return y[0] * x0


def test_list_shared_between_parameters():
    xs = [0.7]
    W = [xs]
    g = symgrad.grad(shared_lists, wrt=["x0", "W"])(1.5, xs, W)
    assert g[1] == [[1.5]]           # W[0][0] is xs[0]: perturbing it moves the result
    assert symgrad.grad(shared_lists, wrt=["x0", "W"])(1.5, [0.7], [[0.7]])[1] == [[0.0]]


# --- x + g(x) where g rebinds x through nonlocal: Python read x first
def nonlocal_order(x):
    def g():
        nonlocal x
        x = x * x
        return x
    return x * g() + x


def test_left_operand_read_before_a_nonlocal_write():
    check(nonlocal_order, 1.5)


# --- two stacked decorators share the wrapper's code: not recursion
def squashed(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return math.tanh(fn(*args, **kwargs))
    return wrapper


@squashed
@squashed
def twice_squashed(x0, x1):
    return x0 * x1


def test_stacked_decorators():
    check(twice_squashed, 0.3, 0.5)


# --- rows only moved about, never used as numbers
def row_moves(x0, xs, W):
    W[0], W[1] = W[1], W[0]
    return x0 * xs[0]


def test_rows_moved_but_not_read():
    g = symgrad.grad(row_moves)(0.3, [0.5], [[1.0, 2.0], [3.0, 4.0]])
    assert g == (0.5, [0.3], [[0.0, 0.0], [0.0, 0.0]])


# --- an unused nested-list parameter gets zeros of its own shape
def unused_table(x0, xs, W):
    row = W[0]
    return x0 * 2.0


def test_unused_nested_list_gets_zeros_of_its_shape():
    g = symgrad.grad(unused_table)(0.5, [1.0], [[1.0, 2.0]])
    assert g == (2.0, [0.0], [[0.0, 0.0]])


# --- second order on parameters the function ignores
def ignores_xs(x0, xs, n):
    y = xs
    return x0 * x0 * x0


def test_hvp_and_hessian_with_an_ignored_list_parameter():
    assert symgrad.hvp(ignores_xs, (1.5, [0.0, 0.0], 0), (1.0, [0.0, 0.0]),
                       wrt=["x0", "xs"]) == (9.0, [0.0, 0.0])
    H = symgrad.hessian(ignores_xs, wrt=["x0", "xs"])(1.5, [0.5, 0.0], 0)
    assert H[0][0] == pytest.approx(9.0)


def loop_made_varied(x0, x1, x2, n):
    for _ in range(n):
        x0 = x0 + x2
    return x0 * x1


def test_jvp_of_a_constant_parameter_a_loop_makes_varied():
    _, t = symgrad.jvp(loop_made_varied, (1.0, 2.0, 3.0, 2), (0.0, 0.0, 1.0, 0))
    assert t == pytest.approx(4.0)      # d/dx2 of (x0 + 2 x2) * x1 at x1 = 2


# --- a def in both branches writing a nonlocal, called twice with an explicit argument
def choice_with_nonlocal(x0):
    if x0 < 5.0:
        def g1(t, s=x0 * x0):
            nonlocal x0
            x0 = x0 * 0.5 + 1.0
            return s
    else:
        def g1(t, s=x0):
            return t
    v3 = g1(1.0, s=x0)
    return g1(v3) + v3 + x0


def test_argument_keeps_its_value_when_the_callee_rebinds_it():
    check(choice_with_nonlocal, -1.9)
    check(choice_with_nonlocal, 6.0)


# --- a pending adjoint term that reads d_v3, while a branch of the next region rewrites d_v3
G2 = 0.25
GL2 = [-1.25, 2.0]


def pending_term_across_branch(x0, x1):
    v3 = x1 * 2.0
    for _ in range(1):
        def g6(t, u):
            nonlocal v3
            if u >= 2.0:
                t = sum((v3 * 1.0 for _w in GL2), start=-1.25)
            v3 = abs(t)
            return x0
        v3 += g6(v3, x0)
    return v3


@pytest.mark.parametrize("x0", [1.0, 3.0])
def test_pending_term_flushed_before_a_branch(x0):
    check(pending_term_across_branch, x0, 0.3)


# --- the tangent of sum() over a list that has none (a global list), in a varied variable
GL3 = [1.0, 2.0]


def sum_of_constant_list(x, y):
    s = y
    for _ in range(2):
        s = sum(GL3) + s * x
    t = sum(GL3, y)
    m = math.fsum(GL3) + statistics_mean(GL3)
    return s + t * x + m * x


def statistics_mean(xs):
    return sum(xs) / len(xs)


def test_jvp_of_sum_over_a_list_without_tangent():
    args, v = (1.5, 2.0), (1.0, 0.5)
    value, tangent = symgrad.jvp(sum_of_constant_list, args, v)
    g = symgrad.grad(sum_of_constant_list, wrt=(0, 1))(*args)
    assert close(value, sum_of_constant_list(*args))
    assert close(tangent, g[0] * v[0] + g[1] * v[1])
    assert close(tangent, fd(sum_of_constant_list, args, 0) * v[0]
                 + fd(sum_of_constant_list, args, 1) * v[1])
    check(sum_of_constant_list, *args)


# --- a list parameter only moved into another list (never read as numbers): its gradient
#     is zeros shaped like it (was the number 0.0)
def moved_into_a_list(x0, xs):
    table = [xs]
    rows = [xs, table[0]]
    return math.cos(x0) * 2.0 + len(rows)


@pytest.mark.parametrize("xs", [[0.0, 1.0, 2.0], [[1.0], [2.0, 3.0]], 0.5])
def test_parameter_only_moved_into_a_list(xs):
    g = symgrad.grad(moved_into_a_list, wrt=["x0", "xs"])(0.3, copy.deepcopy(xs))
    assert close(g[0], -2.0 * math.sin(0.3))
    zeros = (lambda x: [zeros(v) for v in x] if isinstance(x, list) else 0.0)
    assert g[1] == zeros(xs)
    value, tangent = symgrad.jvp(moved_into_a_list, (0.3, xs), (1.0, zeros(xs)))
    assert close(tangent, -2.0 * math.sin(0.3))


# --- hvp of a loop left by break inside another loop: the reverse sweep's trip count is
#     saved on the tape with the numbers; read back as a slice bound it carries no
#     derivative (hvp refused it as a list() call with varied arguments)
def break_in_nested_loop(x, y):
    s = 0.0
    for k in range(2):
        for i in range(3):
            s = s + math.sin(x * y + i)
            if s * x > 0.7 + k:
                break
        for j in reversed(range(3)):
            s = s * 0.9 + y * j
            if s > 2.0 + k:
                break
    return s * y


@pytest.mark.parametrize("point", [(0.9, 1.1), (0.3, 0.2), (1.7, -0.4)])
def test_hvp_of_break_inside_a_loop(point):
    v = (1.0, 0.5)
    g = symgrad.grad(break_in_nested_loop, wrt=(0, 1))
    h = 1e-5
    up = g(*(p + h * t for p, t in zip(point, v)))
    dn = g(*(p - h * t for p, t in zip(point, v)))
    want = [(a - b) / (2 * h) for a, b in zip(up, dn)]
    got = symgrad.hvp(break_in_nested_loop, point, v)
    assert all(a == pytest.approx(b, rel=1e-5, abs=1e-6) for a, b in zip(got, want))
    H = symgrad.hessian(break_in_nested_loop)(*point)
    assert all(sum(H[r][c] * v[c] for c in range(2)) == pytest.approx(want[r], rel=1e-5,
                                                                     abs=1e-6)
               for r in range(2))


# --- sorted()/min()/max() with a key that changes the list: sorted keys and returns the
#     elements as they were when it started, min/max the element as read when its key was
#     taken (symgrad read the list as it was after the keys: silently wrong)
def sorted_by_mutating_key(x, xs):
    def key(t):
        if xs[1] * t < 2.0:
            xs[-1] += x * t
        return math.sin(t) + xs[0]
    s = sorted(xs, key=key)
    return s[-1] * s[0] + xs[-1]


def min_by_mutating_key(x, xs):
    def key(t):
        xs[-1] = xs[-1] * 0.5 + x * t
        return -t * t
    return min(xs, key=key) * x + max(xs, key=key) + xs[-1]


@pytest.mark.parametrize("fn", [sorted_by_mutating_key, min_by_mutating_key])
@pytest.mark.parametrize("xs", [[0.3, -1.2, 0.9], [1.5, 0.2], [-0.4, 0.8, 2.3, -1.0]])
def test_key_that_changes_the_list(fn, xs):
    check(fn, 0.7, xs)


def test_pure_key_needs_no_copy():
    src = symgrad.grad(lambda_key_sorted).source
    assert "_seq" not in src and "_items" not in src


def lambda_key_sorted(x, xs):
    return sorted(xs, key=lambda t: abs(t - x))[0] * x + min(xs, key=abs)


# --- a list parameter only moved into a list (never read as numbers) that is also a row
#     of another parameter: the same list, so the same gradient (it was zeros: the call
#     was not seen as sharing lists)
def moved_and_shared(x0, xs, W):
    table = [xs]
    return 2.0 / (1 + W[-1][0] ** 2) + x0 * len(table)


def test_moved_parameter_shared_with_a_row():
    xs = [0.53, 1e-05, -0.71]
    g = symgrad.grad(moved_and_shared, wrt=["xs", "x0", "W"])(-0.16, xs, [xs])
    h = 1e-6
    up, dn = [xs[0] + h, *xs[1:]], [xs[0] - h, *xs[1:]]
    want = (moved_and_shared(-0.16, up, [up]) - moved_and_shared(-0.16, dn, [dn])) / (2 * h)
    assert close(g[0][0], want) and close(g[2][0][0], want) and want != 0.0
    assert close(g[1], 1.0)


# --- hvp of code whose tape holds rows and lists of rows (a row swap inside a loop): the
#     re-lowered gradient put both on one tape, whose kind could not be decided
#     (RecursionError while printing the kind error)
def rows_and_tables_on_the_tape(x, xs, W):
    v = sum(xs) * x
    for r in W:
        r[len(xs) - 1] += math.cos(v) * r[0]
        V = W
        V[0], V[-1] = V[-1], V[0]
    return sum(xs) * v + W[0][0] * x


def test_hvp_with_rows_and_tables_on_the_tape():
    args = (0.7, [1.2, -0.4], [[-1.6, 0.3], [0.5, 0.9]])
    v = (0.5, [-0.1, 0.3], [[0.2, -0.6], [0.4, 0.1]])
    got = symgrad.hvp(rows_and_tables_on_the_tape, copy.deepcopy(args), v)
    g = symgrad.grad(rows_and_tables_on_the_tape, wrt=[0, 1, 2])
    h = 1e-5

    def moved(s):
        return (args[0] + s * v[0], [a + s * b for a, b in zip(args[1], v[1])],
                [[a + s * b for a, b in zip(r, t)] for r, t in zip(args[2], v[2])])
    up, dn = g(*moved(h)), g(*moved(-h))
    flat = lambda x: [y for e in x for y in (flat(e) if isinstance(e, (list, tuple)) else [e])]
    want = [(a - b) / (2 * h) for a, b in zip(flat(up), flat(dn))]
    assert all(a == pytest.approx(b, rel=1e-5, abs=1e-6) for a, b in zip(flat(got), want))


# --- a while test that calls a function writing a list element: the test is reversed for
#     its last run and inside the loop, and each reversal registered the element's save
#     again (two pushes, one pop: IndexError or a float used as an index)
def write_in_while_test(x0, xs):
    def step(t):
        xs[-1] *= 0.5 + 0.5 * math.sin(x0)
        return t + xs[0] * 0.1
    k = 0
    while k < 3 and step(x0) < 2.0:
        k += 1
    return x0 * xs[-1] + xs[0]


@pytest.mark.parametrize("x0", [-0.89, 0.4, 2.5])
def test_list_write_in_a_while_test(x0):
    xs = [-2.0, 0.3, -0.71]
    check(write_in_while_test, x0, xs)
    v = (0.3, [0.1, -0.2, 0.5])
    g = symgrad.grad(write_in_while_test, wrt=[0, 1])
    h = 1e-5
    up = g(x0 + h * v[0], [a + h * b for a, b in zip(xs, v[1])])
    dn = g(x0 - h * v[0], [a - h * b for a, b in zip(xs, v[1])])
    flat = lambda x: [y for e in x for y in (flat(e) if isinstance(e, (list, tuple)) else [e])]
    want = [(a - b) / (2 * h) for a, b in zip(flat(up), flat(dn))]
    got = flat(symgrad.hvp(write_in_while_test, (x0, list(xs)), v))
    assert all(a == pytest.approx(b, rel=1e-5, abs=1e-6) for a, b in zip(got, want))


# --- a name read, then changed in a branch of a closure called later in the same
# expression: Python keeps the value read first (call arguments, list, tuple and dict
# displays, max/min arguments, comparisons).  Found by the fuzzer (its closures family
# now writes such expressions, with the nonlocal write sometimes in a branch).
def _plain(a, b):
    return a * 10.0 + b


def read_then_call(x0, form):
    def g(t):
        nonlocal x0
        if t > 0:
            x0 -= 0.5
        x0 = x0 * 0.5 + t
        return -x0
    if form == "call":
        return -_plain(x0, g(0.3))
    if form == "keyword":
        return -_plain(x0, b=g(0.3))
    if form == "list":
        return [x0, g(0.3)][0] * 2.0 + x0
    if form == "dict":
        return {"a": x0, "b": g(0.3)}["a"] * x0
    if form == "max":
        return max(x0, g(0.3), key=abs) + x0
    if form == "sum":
        return sum([x0, g(0.3), x0])
    return (1.0 if x0 > 0.5 + 0.0 * g(0.3) else 2.0) * x0


@pytest.mark.parametrize("form", ["call", "keyword", "list", "dict", "max", "sum", "compare"])
@pytest.mark.parametrize("x0", [0.7, -1.3])
def test_a_value_read_before_a_call_changes_it(form, x0):
    value, g = symgrad.value_and_grad(read_then_call, wrt="x0")(x0, form)
    assert value == read_then_call(x0, form)
    assert close(g, fd(lambda x: read_then_call(x, form), (x0,), 0))


# --- a parameter bound to a variable that a closure the callee calls rebinds
# (nonlocal, in a branch): the parameter keeps the value passed.  Found by the fuzzer.
def passed_then_rebound(a, form):
    x0 = 8.0 + a

    def g2(t):
        nonlocal x0
        if t < 5.0:
            x0 = x0 * 2.0
        return 1.0

    def g9(s, t=3.0):
        g2(-1.5)
        return s + x0 + min(t, abs(x0))

    if form == "binop":
        x0 = x0 + g9(x0)
    elif form == "nested":
        x0 += g9(x0 - 2.0, g9(x0, t=x0))
    else:
        x0 = g9(g9(x0))
    return x0 * 0.001


@pytest.mark.parametrize("form", ["binop", "nested", "twice"])
def test_a_parameter_keeps_the_value_passed(form):
    value, g = symgrad.value_and_grad(passed_then_rebound, wrt="a")(0.3, form)
    assert value == passed_then_rebound(0.3, form)
    assert close(g, fd(lambda a: passed_then_rebound(a, form), (0.3,), 0))


# --- sum/math.prod with a start: Python evaluates the iterable first (a generator's
# outermost iterable at its creation, a list comprehension whole), then start, then the
# generator's elements.  symgrad evaluated start first: a closure called in the
# iterable that rebinds a name start reads gave a silently wrong value and gradient.
# Found by the fuzzer (closures.nonlocal with kwbuiltins.sum_start).
def evaluation_order(x0, xs, form):
    def g(u):
        nonlocal x0
        x0 = x0 * 1.5 + u * xs[1]
        return xs[0]
    if form == "generator":          # iterable (calls g), start (new x0), elements
        return sum((x0 * v for v in [xs[0], g(0.5)]), x0 * xs[1])
    if form == "list":               # every element (each calls g), then start
        return sum([g(0.25) * x0 for _ in xs], x0 * xs[1])
    if form == "start_calls":        # the elements read x0 before start's call
        return sum([x0 * v for v in xs], g(0.5))
    if form == "prod":
        return math.prod((x0 * v for v in [xs[0], g(0.5)]), start=x0)
    if form == "list_argument":      # sum(g-built list, start): the list first
        return sum([g(0.5), x0], x0)
    return sum((x0 * v for v in xs), x0)       # no call: folded as before


@pytest.mark.parametrize("form", ["generator", "list", "start_calls", "prod",
                                  "list_argument", "plain"])
def test_sum_and_prod_evaluate_start_after_the_iterable(form):
    x0, xs = -0.71, [0.5, 1.25]
    value, g = symgrad.value_and_grad(evaluation_order, wrt=["x0", "xs"])(x0, list(xs), form)
    assert value == evaluation_order(x0, list(xs), form)
    assert close(g[0], fd(lambda a: evaluation_order(a, list(xs), form), (x0,), 0))
    assert close(g[1], fd(lambda b: evaluation_order(x0, b, form), (list(xs),), 0))


# --- hvp of a gradient holding ``if not 1.0:``: a dict built only in a branch that a
# constant condition rules out (``(3 % 2.0) or {k: ...}.get(0, 2)``) was "read before it
# is assigned" when the gradient was differentiated again, since ``not <constant>`` was
# not known while lowering.  Found by the fuzzer's hvp identity (seed 20261207).
GL_D = [2.0]


def dict_in_a_dead_branch(x0, x1):
    c = (3 % 2.0) or {k: GL_D[0] * (k + 1) for k in range(3)}.get(0, 2)
    return math.tanh(x0 * c) * x1 + (0.0 or {k: x1 * k for k in range(2)}[1]) * x0


def test_hvp_of_a_gradient_with_a_constant_not_condition():
    x, v = (0.3, -0.8), (1.0, 0.5)
    got = symgrad.hvp(dict_in_a_dead_branch, x, v)
    g = symgrad.grad(dict_in_a_dead_branch, wrt=[0, 1])
    h = 1e-5
    up = g(x[0] + h * v[0], x[1] + h * v[1])
    dn = g(x[0] - h * v[0], x[1] - h * v[1])
    for a, b, c in zip(got, up, dn):
        assert a == pytest.approx((b - c) / (2 * h), rel=1e-6, abs=1e-8)
    assert abs(got[0]) > 0.1                       # (a second derivative to find)


# --- a dict written under keys known only at run time, read under a constant key:
# ``{k: ... for k in range(2)}[0]`` is one of the values written under ``k``, so it has
# their kind.  It had a kind of its own (unknown, then an object moved into ``xs``), and
# the gradient, differentiated again, met a number and an object in one dict ("a value
# used both as obj and num").  Found by the fuzzer's hvp identity (seed 20261207).
def keyed_dict_read_by_constant(x0, xs, W):
    for i in range(2):
        xs[i] = {k: W[i] * (k + 1) for k in range(2)}[0]
        x0 += sum({"a": W[i] * x0 * x0}.values())
    return x0 * W[0]


def keyed_dict_written_later(x, name):
    d = {"a": x * x}
    d[name] = [x, 2.0 * x]     # (a field of its own kind keeps it: a record's fields)
    return d["a"] * d["b"][1]     # ("b": read where only the run-time key wrote)


def test_hvp_of_a_dict_written_by_run_time_keys_and_read_by_a_constant():
    x, xs, W = 0.4, [0.5, 0.7], [0.3, -0.6]
    v = (1.0, [0.5, -0.25])
    got = symgrad.hvp(keyed_dict_read_by_constant, (x, list(xs), list(W)), v, wrt=(0, 2))
    g = symgrad.grad(keyed_dict_read_by_constant, wrt=(0, 2))
    h = 1e-5

    def at(s):
        return g(x + s * v[0], list(xs), [w + s * t for w, t in zip(W, v[1])])
    (up0, up1), (dn0, dn1) = at(h), at(-h)
    assert got[0] == pytest.approx((up0 - dn0) / (2 * h), rel=1e-6)
    assert got[1] == pytest.approx([(a - b) / (2 * h) for a, b in zip(up1, dn1)], rel=1e-6)
    assert abs(got[0]) > 0.1
    value, grads = symgrad.value_and_grad(keyed_dict_read_by_constant, wrt=(0, 2))(
        x, list(xs), list(W))
    assert value == keyed_dict_read_by_constant(x, list(xs), list(W))
    assert close(grads[0], fd(lambda a: keyed_dict_read_by_constant(a, list(xs), list(W)),
                              (x,), 0))


def test_a_dict_with_fields_of_their_own_kinds_and_a_run_time_key():
    value, g = symgrad.value_and_grad(keyed_dict_written_later, wrt=0)(0.5, "b")
    assert value == keyed_dict_written_later(0.5, "b")
    assert close(g, fd(lambda a: keyed_dict_written_later(a, "b"), (0.5,), 0))


# --- isinstance of a constant (or of a list) is known while lowering, so the branch it
# rules out is not read: a helper taking a count or a list of weights
def _scaled(v, k):
    if isinstance(k, int):
        return v * k
    return v * sum(k)


def count_or_weights(x):
    return _scaled(x, 3) + _scaled(x * x, [0.5, 1.5]) + (x if isinstance(2.0, int) else 2 * x)


def test_isinstance_of_a_constant_or_a_list_picks_the_branch():
    value, g = symgrad.value_and_grad(count_or_weights)(0.7)
    assert value == count_or_weights(0.7)
    assert close(g, 3 + 2 * 2 * 0.7 + 2)


# --- a helper whose last statement is a raise: no path falls off its end, so it returns
# no None (which met its numbers: "a value used both as obj and num")
def _positive_part(x, k):
    if x > 0.0:
        if k == 0:
            return x * 5
        return x * 3
    raise ValueError("negative")


def ends_in_raise(x):
    return _positive_part(x, 3) + 1.0


def test_a_helper_ending_in_raise_returns_only_its_numbers():
    value, g = symgrad.value_and_grad(ends_in_raise)(1.5)
    assert (value, g) == (ends_in_raise(1.5), 3.0)
    with pytest.raises(ValueError, match="negative"):
        symgrad.grad(ends_in_raise)(-1.0)


# --- pairs made by zip() used as a value (list(zip(...)), sorted(zip(...))): each pair
# holds a copy of the element, which had a kind of its own.  Elements of ``xs`` read
# only through the pairs were taken for objects moved about, and their gradient was 0
# (a silently wrong gradient; found running a hand-written survey of Python idioms)
def sorted_pairs(x, xs):
    pairs = sorted(zip(xs, range(len(xs))))
    return sum(v * x for v, _ in pairs[:2])


def listed_pairs(x, xs, ys):
    pairs = list(zip(xs, ys))
    return pairs[1][0] * x + pairs[0][1] ** 2


@pytest.mark.parametrize("f, args", [(sorted_pairs, (0.7, [1.2, -0.5, 2.0])),
                                     (listed_pairs, (0.7, [1.2, -0.5], [0.3, 2.5]))],
                         ids=["sorted", "listed"])
def test_elements_read_only_through_zipped_pairs_get_their_gradient(f, args):
    value, g = symgrad.value_and_grad(f, wrt=list(range(len(args))))(*copy.deepcopy(args))
    assert value == f(*copy.deepcopy(args))
    for i, a in enumerate(args):
        if isinstance(a, list):
            for k in range(len(a)):
                def along(t, i=i, k=k):
                    moved = copy.deepcopy(args)
                    moved[i][k] = t
                    return f(*moved)
                assert close(g[i][k], fd(along, (a[k],), 0)), (i, k)
        else:
            assert close(g[i], fd(lambda t: f(*((t,) + tuple(args[1:]))), (a,), 0))
    assert any(v != 0.0 for v in g[1])


# --- hvp where a variable exponent is exactly 0: the partial d/db b ** y was guarded by
#     ``y == 0`` alone, so differentiating it again took the guard's constant branch and
#     dropped the mixed term b ** (y - 1).  Now only b == y == 0 (where y * b ** (y - 1)
#     is 0 * inf) takes it.  Found by the hvp identities, seed 20261215.
def exponent_zero_at_the_point(x0, x2):
    return min((1.5 + math.cos(x0)) ** math.tanh(-2 * x2),
               (1.5 + math.cos(-2 * x2)) ** math.tanh(x0)) - 2 * x2


def plain_power(b, y):
    return b ** y


@pytest.mark.parametrize("f, point", [(exponent_zero_at_the_point, (0.0, -1.8337530353246798)),
                                      (plain_power, (2.0, 0.0)), (plain_power, (0.5, 0.0))])
def test_hvp_at_an_exponent_of_zero(f, point):
    v = (1.0, 1.0)
    g = symgrad.grad(f, wrt=(0, 1))
    h = 1e-6
    up = g(*(p + h * t for p, t in zip(point, v)))
    dn = g(*(p - h * t for p, t in zip(point, v)))
    want = [(a - b) / (2 * h) for a, b in zip(up, dn)]
    got = symgrad.hvp(f, point, v)
    assert all(a == pytest.approx(b, rel=1e-5, abs=1e-6) for a, b in zip(got, want))


def test_power_derivative_at_zero_base_and_exponent():
    # d/db b ** y at b == y == 0 is 0 by convention (y * b ** (y - 1) is 0 * inf there);
    # at b == 0 with y == 1 it is 1, and away from 0 the formula itself
    g = symgrad.grad(plain_power, wrt=(0, 1))
    assert g(0.0, 0.0) == (0.0, 0.0)
    assert g(0.0, 1.0) == (1.0, 0.0)
    assert g(2.0, 0.0) == (0.0, pytest.approx(math.log(2.0)))
    assert symgrad.hvp(plain_power, (2.0, 0.0), (0.0, 1.0))[0] == pytest.approx(0.5)


# --- max()/min() of a list of rows or pairs (lexicographic): the row picked got a
#     shadow of fresh zeros, apart from the list's, so its elements' adjoints were dropped
#     (gradient 0: silently wrong; found while probing builtins over lists of tuples).
#     The row's shadow is now d_rows[rows.index(m)], the row Python returns.
def max_of_rows(x, y):
    rows = [[x, y], [y, x * 2]]
    r = max(rows)
    return r[0] * r[1]


def min_and_max_of_pairs(x, y):
    pairs = [(x, 1.0), (y, 2.0)]
    return min(pairs)[1] * min(pairs)[0] + max(pairs, key=lambda t: t[1])[0]


def max_of_zipped(x, y):
    a, b = max(zip([x, y], [y, x]))
    return a * b + max(zip([x, y], [1, 0]))[0]


def tied_rows(x, y):
    rows = [[x, 1.0], [x, 1.0], [y, 0.0]]      # a tie: Python returns the first
    m = max(rows)
    return m[0] * 3.0 + rows[1][0]


@pytest.mark.parametrize("f", [max_of_rows, min_and_max_of_pairs, max_of_zipped, tied_rows])
@pytest.mark.parametrize("point", [(0.7, 1.3), (1.3, 0.7)])
def test_max_and_min_of_rows_give_the_picked_row_its_gradient(f, point):
    check(f, *point)
    v = (1.0, 0.5)
    g = symgrad.grad(f, wrt=(0, 1))
    _, slope = symgrad.jvp(f, point, v)
    assert slope == pytest.approx(sum(a * b for a, b in zip(g(*point), v)))
    up = g(*(p + 1e-6 * t for p, t in zip(point, v)))
    dn = g(*(p - 1e-6 * t for p, t in zip(point, v)))
    want = [(a - b) / 2e-6 for a, b in zip(up, dn)]
    assert all(a == pytest.approx(b, rel=1e-5, abs=1e-6)
               for a, b in zip(symgrad.hvp(f, point, v), want))


# --- a tuple rebuilt from its own items in a loop (t = (t[1], t[0] * y)) was lowered once
#     with the items it had before the loop, so every iteration started again from them:
#     a wrong value *and* gradient, silently (value_and_grad too).  A tuple set in both
#     branches of an if was refused with a message about functions.  Found while probing
#     tuples in regions; the fuzzer now writes such state (fuzz_programs.s_tuple_state).
def tuple_swapped_in_loop(x, y):
    t = (x, y)
    for _ in range(3):
        t = (t[1], t[0] * y)
    return t[0] * 2 + t[1]


def tuple_with_a_list_in_loop(x, y):
    t = (x, [x, y])
    for _ in range(2):
        t = (t[0] * y, [t[1][1], t[0]])
    return t[0] + t[1][0] * 3


def tuple_unpacked_in_while(x, y):
    t = (x, y)
    n = 0
    while n < 3:
        a, b = t
        t = (a * b, a + 0.5)
        n += 1
    return t[0] + t[1]


def tuple_in_branches_in_loop(x, y):
    t = (x, y)
    for _ in range(3):
        if t[0] > 1.0:
            t = (t[0] * 0.5, t[1])
        else:
            t = (t[0] * y, t[1] + x)
    return t[0] * t[1]


def best_pair(x, y):
    best = (x, 0)
    for i, v in enumerate([y, x * y, 0.5]):
        if v > best[0]:
            best = (v, i)
    return best[0] * (best[1] + 1)


def tuple_from_a_helper_in_nested_loops(x, y):
    def step(s):
        return (s[0] * y, s[1] + s[0])
    st = (x, 1.0)
    for _ in range(2):
        for _ in range(2):
            st = step(st)
    return st[0] + st[1]


def tuple_set_in_both_branches(x, y):
    if x > y:
        t = (x, y)
    else:
        t = (y * 2, x)
    return t[0] * t[1]


def run_time_tuple_reassigned(x, y, n):
    t = tuple([x, 1.0])
    for _ in range(n):
        t = (t[0] * y, t[1] + x)
    return t[0] * y + t[1]


@pytest.mark.parametrize("f", [tuple_swapped_in_loop, tuple_with_a_list_in_loop,
                               tuple_unpacked_in_while, tuple_in_branches_in_loop, best_pair,
                               tuple_from_a_helper_in_nested_loops, tuple_set_in_both_branches])
@pytest.mark.parametrize("point", [(0.7, 1.3), (1.3, 0.7)])
def test_tuples_reassigned_in_loops_and_branches(f, point):
    value, _ = symgrad.value_and_grad(f, wrt=(0, 1))(*point)
    assert value == pytest.approx(f(*point), rel=1e-14)
    check(f, *point)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_a_run_time_tuple_reassigned_in_a_loop(n):
    value, _ = symgrad.value_and_grad(run_time_tuple_reassigned, wrt=(0, 1))(0.5, 1.3, n)
    assert value == pytest.approx(run_time_tuple_reassigned(0.5, 1.3, n), rel=1e-14)
    check(run_time_tuple_reassigned, 0.5, 1.3, n, wrt=["x", "y"])


def tuple_changing_length(x, y):
    t = (x, y)
    for _ in range(2):
        t = (t[0], t[1], x)
    return t[0]


def test_a_tuple_changing_length_in_a_loop_is_refused():
    with pytest.raises(symgrad.SymgradError, match="tuple 't' reassigned"):
        symgrad.grad(tuple_changing_length)(0.5, 1.0)


# --- a function rebound inside a loop (f = math.sin before, f = math.cos in the body):
#     the body, lowered once, called the first function in every iteration (a wrong value
#     and gradient, silently).  Now refused with the line; the same function bound
#     again, and a function chosen in a branch, still work.
def function_rebound_in_loop(x):
    f = math.sin
    for _ in range(2):
        x = f(x) + x
        f = math.cos
    return x


def lambda_rebound_in_while(x):
    g = lambda t: t * 2          # noqa: E731
    n = 0
    while n < 3:
        x = g(x)
        g = lambda t: t + 1.0    # noqa: E731
        n += 1
    return x


def same_function_bound_again(x):
    f = math.sin
    for _ in range(2):
        f = math.sin
        x = f(x) + x
    return x


def function_chosen_in_a_branch(x):
    f = math.sin
    if x > 0.5:
        f = math.cos
    return f(x) * x


@pytest.mark.parametrize("f", [function_rebound_in_loop, lambda_rebound_in_while])
def test_a_function_rebound_inside_a_loop_is_refused(f):
    with pytest.raises(symgrad.SymgradError, match="rebound inside it"):
        symgrad.grad(f)(0.4)


@pytest.mark.parametrize("f", [same_function_bound_again, function_chosen_in_a_branch])
@pytest.mark.parametrize("x", [0.3, 0.8])
def test_functions_bound_again_or_chosen_in_a_branch_still_work(f, x):
    value, _ = symgrad.value_and_grad(f)(x)
    assert value == pytest.approx(f(x), rel=1e-14)
    check(f, x)


def nested_tuple_in_loop(x, y):
    t = ((x, y), 1.0)
    for _ in range(2):
        t = ((t[0][1], t[0][0]), t[1] * x)
    return t[0][0] * t[1]


def nested_tuple_in_branches(x, y):
    if x > y:
        t = ((x, y), x)
    else:
        t = ((y, y * 2), x * y)
    (a, b), c = t
    return a * b + c


def nested_tuple_set_before_branches(x, y):
    t = ((x, x), y)
    if x > y:
        t = ((x, y), x)
    else:
        t = ((y, y * 2), x * y)
    (a, b), c = t
    return a * b + c


@pytest.mark.parametrize("f", [nested_tuple_in_loop, nested_tuple_set_before_branches])
@pytest.mark.parametrize("point", [(0.7, 1.3), (1.3, 0.7)])
def test_nested_tuples_as_state(f, point):
    value, _ = symgrad.value_and_grad(f, wrt=(0, 1))(*point)
    assert value == pytest.approx(f(*point), rel=1e-14)
    check(f, *point)


def test_a_tuple_of_tuples_first_assigned_in_a_branch_is_refused_clearly():
    with pytest.raises(symgrad.SymgradError, match="assign t a tuple of the same shape"):
        symgrad.grad(nested_tuple_in_branches, wrt=(0, 1))(0.7, 1.3)


# ----- found by the globals family's new form (loop state that starts as a module list):
# jvp crashed ('float' object is not subscriptable: the start's tangent was the number 0)
GL_START = [0.75, -1.25, 2.0]


def loop_state_from_a_global_list(x):
    acc = GL_START
    for _ in range(2):
        acc = acc[1:] + [acc[0] * 0.5 + x * x]
    return acc[0] + acc[-1] * x


def test_jvp_of_loop_state_starting_as_a_module_list():
    x, h = 0.7, 1e-6
    value, slope = symgrad.jvp(loop_state_from_a_global_list, (x,), (1.0,))
    assert value == loop_state_from_a_global_list(x)
    want = (loop_state_from_a_global_list(x + h) - loop_state_from_a_global_list(x - h)) / (2 * h)
    assert slope == pytest.approx(want, abs=1e-7)
    assert symgrad.grad(loop_state_from_a_global_list)(x) == pytest.approx(slope, rel=1e-12)
    assert GL_START == [0.75, -1.25, 2.0]
    # (hvp: refused, the gradient's tape holds the module's list and adjoint lists together)
    with pytest.raises(symgrad.SymgradError, match="outside the function"):
        symgrad.hvp(loop_state_from_a_global_list, (x,), (1.0,))


# ----- a slice of a tuple (t[1:], t[::2]) crashed: the generated code held `_t = 1:`
def tuple_slices(x, y):
    t = (x, y, x * y)
    return sum(t[1:]) * t[0] + max(t[::2]) + sum(t[3:], 1.0)


def test_slices_of_a_tuple():
    h = 1e-6
    g = symgrad.grad(tuple_slices)(2.0, 3.0)
    want = ((tuple_slices(2.0 + h, 3.0) - tuple_slices(2.0 - h, 3.0)) / (2 * h),
            (tuple_slices(2.0, 3.0 + h) - tuple_slices(2.0, 3.0 - h)) / (2 * h))
    assert g == pytest.approx(want, abs=1e-6)


# ----- functions with *args (refused before): one derivative per number of arguments
def star_sum(*xs):
    return sum(x * x for x in xs) * math.sin(xs[0])


def leading_and_star(a, *rest, scale=2.0):
    return a * scale + sum(r ** 3 for r in rest)


def test_functions_with_star_args_in_every_mode():
    h = 1e-6
    for args in ((0.5,), (0.5, 1.0), (0.5, 1.0, 2.0)):
        g = symgrad.grad(star_sum)(*args)
        g = g if isinstance(g, tuple) else (g,)
        for i, gi in enumerate(g):
            up = list(args)
            dn = list(args)
            up[i] += h
            dn[i] -= h
            assert gi == pytest.approx((star_sum(*up) - star_sum(*dn)) / (2 * h), abs=1e-6)
        tangents = tuple(1.0 for _ in args)
        _, slope = symgrad.jvp(star_sum, args, tangents)
        assert slope == pytest.approx(sum(g), rel=1e-12)
    assert symgrad.value_and_grad(leading_and_star)(1.5, 2.0, 3.0) == (38.0, (2.0, 12.0, 27.0))
    assert symgrad.grad(leading_and_star, wrt=0)(1.5, 2.0) == 2.0
    out, pull = symgrad.vjp(leading_and_star, 1.5, 2.0)
    assert pull(1.0) == (2.0, 12.0)
    assert symgrad.hvp(star_sum, (0.5, 1.0), (1.0, 0.0)) == pytest.approx(
        symgrad.hessian(star_sum)(0.5, 1.0)[0], rel=1e-12)
    assert symgrad.jacobian(leading_and_star)(1.5, 2.0) == (2.0, 12.0)
    assert "def d_star_sum(xs0, xs1" in symgrad.grad(star_sum).for_arity(2).source


# --- found by the fuzzer (tuples grown with +=): a helper's tuple, carried by the helper's
# own loop, was taken for one its caller's branch carries when the helper was called inside
# an if (refused: "reassigned in a branch or loop to another number of items")
def _grown_after_its_loop(a, c=0.5):
    t = (a, a + 2.0)
    for _ in range(2):
        t = (t[1], t[0] * 0.5 + math.tanh(a + c))
    kept = t
    t += (c * t[1],)
    return t[2] * kept[0] + len(t)


def helper_grows_a_carried_tuple(x, y):
    if x > 0.0:
        y = y + _grown_after_its_loop(x, y)
    else:
        for _ in range(2):
            y = y * _grown_after_its_loop(y)
    t = (x, y)
    for _ in range(2):
        t = (t[1], t[0] * 0.5)
    if y > 0.0:
        t = (t[0] * y, x)               # (the if carries it: the same shape)
    t = t + (x * x,)                      # (after the if: a new tuple)
    return t[0] * t[2] + t[1]


@pytest.mark.parametrize("point", [(0.7, 0.3), (-0.6, 0.4), (0.2, -1.1)])
def test_a_helpers_tuple_grown_after_its_own_loop_inside_a_branch(point):
    f = helper_grows_a_carried_tuple
    g = symgrad.grad(f)(*point)
    h = 1e-6
    want = [(f(point[0] + h, point[1]) - f(point[0] - h, point[1])) / (2 * h),
            (f(point[0], point[1] + h) - f(point[0], point[1] - h)) / (2 * h)]
    assert list(g) == pytest.approx(want, rel=1e-6, abs=1e-8)
    assert symgrad.check(f, *point).ok


# --- a value the adjoint sweep recomputes from a loop's variable, read where that
# variable holds another value.  The sweep recomputed ``k = i`` (after the loop) as
# ``i``, which the second loop had rebound; an element ``xs[j]`` read inside a nested
# loop that rebinds ``j``; ``last = xs[i]`` read after the loop.  Each gave a silently
# wrong gradient (10.5 for 14.0, 21.0 for 25.2, 8.4 for 25.2).  Found by the fuzzer
# (a helper called twice, inlined, with the same loop variable).
def copy_of_loop_variable(x):
    s = 0.0
    for i in range(3):
        s = s + x * i
    k = i
    for i in range(2):
        s = s + x
    return s * k * x


def element_in_a_loop_rebinding_its_index(x, xs):
    s = 0.0
    for j in range(len(xs)):
        t = xs[j]
        for j in range(2):
            s = s + x * x * t * (j + 1)
    return s


def element_read_after_its_loop(x, xs):
    s = 0.0
    for i in range(len(xs)):
        s = s + x * xs[i]
        last = xs[i]
    for i in range(1):
        s = s * x
    return s * last


def element_of_the_last_iteration(x, xs):
    for v in xs:
        s = x * v
    return s * v


@pytest.mark.parametrize("f,args", [
    (copy_of_loop_variable, (0.7,)),
    (element_in_a_loop_rebinding_its_index, (0.7, [1.0, 2.0, 3.0])),
    (element_read_after_its_loop, (0.7, [1.0, 2.0, 3.0])),
    (element_of_the_last_iteration, (0.7, [1.0, -2.0])),
])
def test_a_loop_variable_is_recomputed_only_inside_its_loop(f, args):
    for make in (symgrad.grad, symgrad.value_and_grad):
        got = make(f, wrt=0)(*copy.deepcopy(args))
        got = got if make is symgrad.grad else got[1]
        assert close(got, fd(f, args, 0)), (f.__name__, got, fd(f, args, 0))
    slope = symgrad.jvp(f, copy.deepcopy(args), (1.0,) + tuple(
        [0.0] * len(a) for a in args[1:]))[1]
    assert close(slope, fd(f, args, 0))


# --- found by the fuzzer's raises family (tests/fuzz_raises.py), which kept it out of its
# programs until it was fixed: value_and_grad copied z before it computed W[0]
def two_reads_that_raise(zs, W):
    for z in zs:
        pass
    return W[0] + math.sin(z)       # (at zs = W = []: W[0] raises first)


def test_two_reads_that_raise_in_one_expression_raise_in_python_order():
    with pytest.raises(IndexError):
        two_reads_that_raise([], [])
    for make in (symgrad.grad, symgrad.value_and_grad):
        try:
            got = make(two_reads_that_raise, wrt="zs")([], [])
        except Exception as exc:
            assert type(exc) is IndexError, f"{make.__name__} raised {exc!r}"
            continue
        raise AssertionError(f"{make.__name__} returned {got!r}")


# --- found by the fuzzer (the suite's own run, 2026-12-07): hvp of a function sorting a
# tuple was refused, since the gradient sorts it with key=t.__getitem__ (a bound method
# of a tuple written out, which symgrad read as an attribute of a value)
def sorted_tuple(x, y):
    t = (x * y, math.sin(x) + y)
    s = sorted(t)
    order = sorted(range(2), key=t.__getitem__)
    return s[0] * x + t[order[1]] * y


def test_a_tuple_sorted_is_differentiated_twice():
    x, y, h = 0.7, 1.3, 1e-5
    v = (0.4, -1.1)
    got = symgrad.hvp(sorted_tuple, (x, y), v)
    g = symgrad.grad(sorted_tuple)
    up, dn = g(x + h * v[0], y + h * v[1]), g(x - h * v[0], y - h * v[1])
    assert got == pytest.approx([(a - b) / (2 * h) for a, b in zip(up, dn)], rel=1e-6)
    assert symgrad.check(sorted_tuple, x, y, mode="hessian").ok


# --- found by the fuzzer (2026-12-07, right after slice objects were written out as
# slices): the gradient of a slice assignment computes its bounds with
# slice(a, b, None).indices(n); differentiated again (hvp, the map-loops pass) that
# slice was read as one written out, whose .indices the lowering refused
def slice_assigned(x0, xs):
    ys = xs
    ys[0] = x0
    ys[:1] = [math.sin(x0) * ys[1]]
    return sum(v * v for v in ys) * x0


def test_the_gradient_of_a_slice_assignment_differentiated_again():
    x0, xs = 0.5, [1.0, 2.0, 3.0]
    v = (1.0, [0.0, 1.0, 0.0])
    got = symgrad.hvp(slice_assigned, (x0, copy.deepcopy(xs)), v)
    g = symgrad.grad(slice_assigned)
    h = 1e-5
    up = g(x0 + h, [a + h * b for a, b in zip(xs, v[1])])
    dn = g(x0 - h, [a - h * b for a, b in zip(xs, v[1])])
    want = ((up[0] - dn[0]) / (2 * h), [(a - b) / (2 * h) for a, b in zip(up[1], dn[1])])
    assert got[0] == pytest.approx(want[0], rel=1e-6)
    assert got[1] == pytest.approx(want[1], rel=1e-6, abs=1e-8)
