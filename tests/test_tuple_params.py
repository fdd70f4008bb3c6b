"""Parameters that are tuples (or lists) of values of different kinds, as JAX's and
autograd's users pass them: ``params = (W, b)`` with ``W`` a list of rows and ``b`` a
list, ``(scale, weights)``, ``(1.0, {"x": 2.0})``.  Each is read by position, its
gradient comes back in the argument's types, and what Python would refuse (unpacking
into the wrong number of names) is refused.  References: central finite differences."""

import copy
import math

import pytest

import symgrad
from symgrad.errors import ArgumentError, SymgradError

H = 1e-6


def fd_leaves(f, args, i):
    """Finite differences of f with respect to every number inside argument i, in the
    order of a depth-first walk (the order of ``leaves``)."""
    out = []

    def walk(path):
        x = args[i]
        for k in path:
            x = x[k]
        if isinstance(x, (list, tuple)):
            for k in range(len(x)):
                walk(path + (k,))
        elif isinstance(x, dict):
            for k in x:
                walk(path + (k,))
        else:
            vals = []
            for sign in (1, -1):
                moved = [copy.deepcopy(a) for a in args]
                if not path:                     # (the argument is a number)
                    moved[i] += sign * H
                    vals.append(f(*moved))
                    continue
                moved[i] = _thawed(moved[i])
                ref = moved[i]
                for k in path[:-1]:
                    ref = ref[k]
                ref[path[-1]] += sign * H
                moved[i] = _frozen_like(args[i], moved[i])
                vals.append(f(*moved))
            out.append((vals[0] - vals[1]) / (2 * H))
    walk(())
    return out


def _thawed(x):
    if isinstance(x, (list, tuple)):
        return [_thawed(v) for v in x]
    if isinstance(x, dict):
        return {k: _thawed(v) for k, v in x.items()}
    return x


def _frozen_like(like, x):
    if isinstance(like, tuple):
        return tuple(_frozen_like(a, b) for a, b in zip(like, x))
    if isinstance(like, list):
        return [_frozen_like(a, b) for a, b in zip(like, x)]
    if isinstance(like, dict):
        return {k: _frozen_like(like[k], x[k]) for k in like}
    return x


def leaves(x):
    if isinstance(x, (list, tuple)):
        return [v for e in x for v in leaves(e)]
    if isinstance(x, dict):
        return [v for e in x.values() for v in leaves(e)]
    return [x]


def same_types(a, b):
    """The same containers at every depth (a tuple where the argument has a tuple)."""
    if isinstance(a, (list, tuple, dict)):
        if type(a) is not type(b) or len(a) != len(b):
            return False
        pairs = zip(a.values(), b.values()) if isinstance(a, dict) else zip(a, b)
        return all(same_types(x, y) for x, y in pairs)
    return isinstance(b, float)


# ------------------------------------------------------------------ the programs

def layer_loss(params, xs):
    W, b = params                                   # a list of rows, and a list
    s = 0.0
    for x in xs:
        h = [math.tanh(sum(w * xi for w, xi in zip(row, x)) + bi) for row, bi in zip(W, b)]
        s = s + sum(v * v for v in h)
    return s


def scaled_norm(params):
    scale, ws = params                              # a number, and a list
    return scale * sum(w * w for w in ws)


def by_position(t):
    return t[0] * t[1][0] + t[1][1] / t[0]         # never unpacked


def with_a_dict(t):
    return t[0] * math.sin(t[1]["x"]) + t[1]["y"] ** 2


def dict_entry_times(t):
    return t[0] * t[1]["x"]                         # met only after lowering (analysis)


def inner(p, x):
    w, b = p
    return math.tanh(w[0] * x + w[1] * x * x + b)


def through_a_helper(params, x):
    return inner(params, x) ** 2


def renamed(params):
    q = params                                      # the same tuple by another name
    a, rest = q
    return a * rest[0] * rest[1]


def conflict_names_another_list(P, x0, xs):
    # the conflict (p, an item of P, added to x0, an item of xs) named xs alone, and xs
    # made a tuple did not transform ("a loop over a tuple"): P was never tried
    p, W = P
    for _ in range(2):
        if W[0][0] > 2.0:
            xs[1:] = [min(v, 1) for v in xs[1:]]
        x0 = xs[-1]
    return p * (x0 + p) + W[1][1] * x0


W0 = [[0.1, 0.2], [0.3, -0.4]]
B0 = [0.5, -0.1]
XS = [[1.0, 2.0], [0.5, -1.0]]

CASES = [
    (layer_loss, ((W0, B0), XS)),
    (layer_loss, ([W0, B0], XS)),
    (scaled_norm, ((2.0, [1.0, 3.0]),)),
    (scaled_norm, ([2.0, [1.0, -3.0, 0.5]],)),
    (by_position, ((1.5, [2.0, -0.7]),)),
    (by_position, ((1.5, (2.0, -0.7)),)),
    (with_a_dict, ((1.5, {"x": 2.0, "y": -0.3}),)),
    (dict_entry_times, ((1.5, {"x": 2.0}),)),
    (through_a_helper, (([0.5, -0.3], 0.1), 0.7)),
    (renamed, ((2.0, [0.5, -1.5]),)),
    (conflict_names_another_list, ([0.3, W0], 0.5, [0.2, 0.7, 1.1])),
    (conflict_names_another_list, ([0.3, [[2.5, 0.2], [0.3, -0.4]]], 0.5, [0.2, 0.7, 1.1])),
]
IDS = ["layer-tuple", "layer-list", "scaled", "scaled-list", "by-position",
       "by-position-tuples", "dict-inside", "dict-entry", "helper", "renamed",
       "conflict-names-another-list", "conflict-names-another-list-branch"]


@pytest.mark.parametrize("f,args", CASES, ids=IDS)
def test_gradient_of_a_tuple_of_values_of_different_kinds(f, args):
    g = symgrad.grad(f, wrt=0)(*copy.deepcopy(args))
    assert same_types(args[0], g)
    assert leaves(g) == pytest.approx(fd_leaves(f, args, 0), rel=1e-6, abs=1e-8)
    value, g2 = symgrad.value_and_grad(f, wrt=0)(*copy.deepcopy(args))
    assert value == pytest.approx(f(*args))
    assert leaves(g2) == leaves(g) and same_types(args[0], g2)


@pytest.mark.parametrize("f,args", CASES, ids=IDS)
def test_jvp_and_vjp_of_a_tuple_of_values_of_different_kinds(f, args):
    fd = fd_leaves(f, args, 0)
    pulled = symgrad.vjp(f, *copy.deepcopy(args))[1](1.0)[0]
    assert same_types(args[0], pulled)
    assert leaves(pulled) == pytest.approx(fd, rel=1e-6, abs=1e-8)
    # a tangent shaped like the argument: 1, 2, 3 ... on its numbers in order
    count = iter(range(1, 1000))

    def numbered(x):
        if isinstance(x, (list, tuple)):
            return type(x)(numbered(v) for v in x)
        if isinstance(x, dict):
            return {k: numbered(v) for k, v in x.items()}
        return float(next(count))
    tangent = numbered(args[0])
    zeros = [symgrad.vjp(f, *args)[1](0.0)[k] for k in range(1, len(args))]
    value, slope = symgrad.jvp(f, copy.deepcopy(args), (tangent, *zeros))
    assert value == pytest.approx(f(*args))
    assert slope == pytest.approx(sum(d * t for d, t in zip(fd, leaves(tangent))), rel=1e-6)


def test_the_generated_gradient_reads_the_tuple_by_position():
    src = symgrad.grad(layer_loss, wrt=0).source
    assert "params[0]" in src and "params[1]" in src


@pytest.mark.parametrize("f,args", CASES[:5], ids=IDS[:5])
def test_hessian_and_hvp_name_such_a_tuple(f, args):
    with pytest.raises(ArgumentError, match="different kinds"):
        symgrad.hessian(f, wrt=0)(*args)
    with pytest.raises(ArgumentError, match="different kinds"):
        symgrad.hvp(f, args, (args[0],), wrt=0)


def loop_over_items(params):
    s = 0.0
    for p in params:                 # one name for a number, then a list: refused
        s = s + (p[0] if isinstance(p, list) else p)
    return s


def sorted_items(params):
    return sum(sorted(params)[0])


@pytest.mark.parametrize("f", [loop_over_items, sorted_items])
def test_a_loop_over_such_a_tuple_is_refused(f):
    # read as a dict's keys it would give a gradient of zeros (it did, before)
    with pytest.raises(SymgradError, match="values of different kinds") as info:
        symgrad.grad(f)((1.0, [2.0]))
    assert "test_tuple_params.py" in str(info.value)


def test_a_number_given_for_such_a_tuple_is_refused():
    with pytest.raises(ArgumentError, match="tuple of values of different kinds"):
        symgrad.grad(through_a_helper, wrt=0)(5.0, 0.7)


# ------------------------------------------------------------------ unpacking as Python does

def two(xs):
    a, b = xs
    return a * b


def pairs_sum(pairs):
    s = 0.0
    for a, b in pairs:
        s = s + a * b
    return s


def head_rest(xs):
    a, *rest = xs
    return a * sum(rest)


def head_mid_tail(xs):
    a, *mid, z = xs
    return a * z + sum(mid)


@pytest.mark.parametrize("f,arg", [
    (two, [1.0, 2.0, 3.0]), (two, [1.0]), (pairs_sum, [(1.0, 2.0), (3.0, 4.0, 5.0)]),
    (pairs_sum, [[1.0, 2.0], [3.0]]), (head_rest, []), (head_mid_tail, [1.0])])
def test_unpacking_a_list_of_another_length_raises_as_python_does(f, arg):
    with pytest.raises(ValueError) as python:
        f(arg)
    with pytest.raises(ValueError, match="values to unpack") as ours:
        symgrad.grad(f)(arg)
    assert type(ours.value) is type(python.value)


@pytest.mark.parametrize("f,arg", [
    (two, [1.5, -2.0]), (pairs_sum, [(1.0, 2.0), (3.0, -4.0)]), (head_rest, [2.0]),
    (head_rest, [2.0, 3.0, -1.0]), (head_mid_tail, [1.0, 2.0]),
    (head_mid_tail, [1.0, 2.0, 3.0, 4.0])])
def test_unpacking_a_list_of_the_right_length(f, arg):
    g = symgrad.grad(f)(arg)
    assert leaves(g) == pytest.approx(fd_leaves(f, (arg,), 0), rel=1e-6, abs=1e-8)


def dict_and_scale(P, x):
    d, c = P
    return d["y"] * x + d["k"] * c


@pytest.mark.parametrize("P", [[{"y": 0.2, "k": 0.3}], ({"y": 0.2, "k": 0.3},), [],
                               [{"y": 0.2, "k": 0.3}, 0.5, 0.7]])
def test_a_pack_of_another_length_whose_parts_are_alike_raises_in_every_mode(P):
    """A packed parameter one part short (its parts then all dicts) or one too long:
    jvp and vjp raise Python's ValueError, as grad does, not a conflict of kinds (jvp
    did not name the parameter to make again as a tuple of parts)."""
    with pytest.raises(ValueError):
        dict_and_scale(P, 1.5)
    tangent = type(P)(copy.deepcopy(list(P)))
    calls = [lambda: symgrad.grad(dict_and_scale, wrt=[1])(P, 1.5),
             lambda: symgrad.jvp(dict_and_scale, (P, 1.5), (tangent, 1.0)),
             lambda: symgrad.vjp(dict_and_scale, P, 1.5)[1](1.0)]
    for call in calls:
        with pytest.raises(ValueError, match="values to unpack"):
            call()


# ------------------------------------------------------------------ gradients in the arguments' types

def isinstance_only(t):
    assert isinstance(t, tuple)
    return 2.0


def first_squared(t):
    return t[0] * t[0]


def test_a_gradient_of_zeros_keeps_a_tuple():
    assert symgrad.grad(isinstance_only)((1.0, 2.0)) == (0.0, 0.0)
    assert type(symgrad.grad(isinstance_only)((1.0, 2.0))) is tuple


def test_vjp_and_hvp_give_a_tuple_for_a_tuple():
    pulled = symgrad.vjp(first_squared, (1.5, 2.0))[1](1.0)
    assert pulled == ((3.0, 0.0),) and type(pulled[0]) is tuple
    hv = symgrad.hvp(first_squared, ((1.5, 2.0),), ((1.0, 0.0),))
    assert hv == (2.0, 0.0) and type(hv) is tuple
    assert symgrad.hvp(first_squared, ([1.5, 2.0],), ([1.0, 0.0],)) == [2.0, 0.0]


# ------------------------------------------------------------------ parts that a list reading misreads

def list_times_rows(P, x0):
    w, T = P                        # read as one list, w[0] * T[0][0] would repeat a list
    return w[0] * T[0][0] * x0


def unused_part(P, x0):
    p1, pw2 = P                     # read as one list of numbers: pw2 unused
    return x0 + p1


def dict_and_rows(P, x0):
    pd2, pq3 = P
    x0 += pq3[0][0]
    return x0 + pd2["x"]


def alias_write(P, x0):
    y = P[0]
    y[-1] = P[2]["x"]               # y[0] and y[-1] are one element
    return y[0] * x0 + P[2]["x"]


def write_a_part(P, x):
    P[1] = P[1] * x                 # written by position (the gradient called P.get)
    P[-1] = P[-1] + P[0][1]
    return P[0][0] * P[1]


PARTS = [
    (write_a_part, ([[1.0, 2.0], 3.0], 0.5)),
    (write_a_part, [[[-1.5, 0.25], -2.0], 1.5]),
    (list_times_rows, (([2.0], [[1.0, 2.0]]), 0.5)),
    (list_times_rows, [([2.0, 5.0], [[1.0, 2.0], [3.0, 4.0]]), -0.5]),
    (unused_part, ([0.5, [2.0]], 1.0)),
    (unused_part, ((0.5, [2.0, 3.0]), 1.0)),
    (dict_and_rows, (({"x": 0.5}, ([1.0], [2.0])), 1.5)),
    (alias_write, (([-1.0], [[0.5, 1.0]], {"x": -0.4}), 1.5)),
]


@pytest.mark.parametrize("f,args", PARTS)
def test_parts_of_different_kinds_in_every_mode(f, args):
    # a call with such a tuple gets the gradient made for it, whatever the code alone
    # suggested (jvp of list_times_rows gave 0.5 for 3.5 before)
    fd = [fd_leaves(f, tuple(args), i) for i in range(2)]
    g = symgrad.grad(f, wrt=[0, 1])(*copy.deepcopy(args))
    assert same_types(args[0], g[0])
    assert leaves(g[0]) + [g[1]] == pytest.approx(fd[0] + fd[1], rel=1e-6, abs=1e-8)
    pulled = symgrad.vjp(f, *copy.deepcopy(args))[1](1.0)
    assert same_types(args[0], pulled[0])
    assert leaves(pulled[0]) == pytest.approx(fd[0], rel=1e-6, abs=1e-8)
    ones = _ones_like(args[0])
    value, slope = symgrad.jvp(f, copy.deepcopy(tuple(args)), (ones, 1.0))
    assert value == pytest.approx(f(*copy.deepcopy(args)))
    assert slope == pytest.approx(sum(fd[0]) + fd[1][0], rel=1e-6, abs=1e-8)


def _ones_like(x):
    if isinstance(x, (list, tuple)):
        return type(x)(_ones_like(v) for v in x)
    if isinstance(x, dict):
        return {k: _ones_like(v) for k, v in x.items()}
    return 1.0


# ------------------------------------------------------------------ found by the fuzzer

def through_an_alias(P, xs):
    R = [xs]            # R[0][0] is xs[0]: the first conflict met names xs, not P
    if not P[0][0][1]:
        xs[:1] = [2.0]
    return R[0][0] + P[1]["x"] * xs[-1]


def sum_beside_rows(P, x0, xs):
    (p, q), W = P
    for u, v in W:
        q *= p
    t = sum((q for w in [x0, xs[-1]]), x0)      # (made P and xs tuples; xs.get crashed)
    xs[-1] += t * p
    return q + xs[-1] * xs[0]


GL = [0.5, 2.0]


def _last_and(p):
    v = (GL[-1] and p[2])       # (a module's list's element or p's: the two meet)
    return min(p[0]) + v


def conflict_inside_a_statement(P, x0):
    a, b, c = P
    c = c * _last_and(P)        # (the conflict was met inside this statement: not named)
    return b + c + x0


ALIASED = [
    (conflict_inside_a_statement, ([[1.25], 4.0, 1.5], 2.0)),   # (found by the fuzzer)
    (through_an_alias, ([[[1e-12, -0.89]], {"x": -1.5}], [-1.4, 0.3])),
    (through_an_alias, ([[[1e-12, 0.0]], {"x": -1.5}], [-1.4, 0.3])),
    (sum_beside_rows, (([0.5, -0.25], [[1.0, 1.3], [-0.05, -1.2]]), 0.3, [1.7, -1.1])),
    (sum_beside_rows, (([1.5, 0.75], []), -0.3, [0.4])),
]


@pytest.mark.parametrize("f,args", ALIASED)
def test_the_pack_a_conflict_names_through_an_alias(f, args):
    n = len(args)
    fd = [fd_leaves(f, tuple(args), i) for i in range(n)]
    value, g = symgrad.value_and_grad(f, wrt=list(range(n)))(*copy.deepcopy(args))
    assert value == f(*copy.deepcopy(args))
    assert same_types(args[0], g[0])
    assert [v for part in g for v in leaves(part)] == pytest.approx(
        [v for part in fd for v in part], rel=1e-6, abs=1e-8)
    pulled = symgrad.vjp(f, *copy.deepcopy(args))[1](1.0)
    assert same_types(args[0], pulled[0])
    assert leaves(pulled[0]) == pytest.approx(fd[0], rel=1e-6, abs=1e-8)
    ones = tuple(_ones_like(a) for a in args)
    slope = symgrad.jvp(f, copy.deepcopy(tuple(args)), ones)[1]
    assert slope == pytest.approx(sum(sum(part) for part in fd), rel=1e-6, abs=1e-8)
