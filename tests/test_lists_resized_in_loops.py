"""A loop over a list whose length the loop changes: Python's iterator reads the length
again at every step, so items appended in the loop are visited too, and a list made
shorter ends the loop early.  symgrad walked the length the list had when the loop
began unless the loop's own source called a list method on it: a helper, a closure, a
slice assignment (``xs[len(xs):] = [v]``) or ``xs += [v]`` that grew it gave a silently
wrong gradient (0 where the appended items carry the derivative), and ``zip`` read only
its first list's length (an IndexError in the generated code).  Found by the 10,000
program fuzz run (a ``del xs[:1]; xs[:0] = ...`` inside a helper, in a ``zip`` loop).
``reversed(xs)`` walks from the last index the list had while the index is one of the
list's (a loop that popped the list walked half of it).
The same for a dict walked by ``d.items()`` or ``d.values()`` whose body writes a
value the loop has not reached yet: Python's view reads it as the loop reaches it, and
symgrad read every value before the loop (a silently wrong gradient: 0 for 2.25).
Checked in every mode against finite differences."""

import copy

import pytest

from fuzz_oracles import load
from numeric import assert_close, finite_diff

import symgrad

SOURCE = '''
def grow(lst, v):
    lst.append(v)


def slice_append(x, xs):
    s = 0.0
    for v in xs:
        if len(xs) < 5:
            xs[len(xs):] = [v * x]
        s = s + v * v
    return s


def augmented_extend(x, xs):
    s = 0.0
    for v in xs:
        if len(xs) < 5:
            xs += [v * x]
        s = s + v * x
    return s


def through_a_helper(x, xs):
    s = 0.0
    for v in xs:
        if len(xs) < 4:
            grow(xs, v * x + 1.0)
        s = s + v
    return s * x


def through_a_closure(x, xs):
    def push(v):
        xs.append(v)
    s = 0.0
    for v in xs:
        if v < 3.0 and len(xs) < 6:
            push(v * x + 1.0)
        s = s + v
    return s


def zip_with_the_second_growing(x, xs, zs):
    s = 0.0
    for z, v in zip(zs, xs):
        if len(xs) < 5:
            xs.append(v * x)
        s = s + v * z
    return s


def zip_with_the_second_replaced(x, xs, zs):
    s = x
    for z, v in zip(zs, xs):
        del xs[:1]
        xs[:0] = [v * 2.0]
        s = s + v * xs[0] * z
    return s


def items_written_ahead(x, d):
    s = 0.0
    for k, v in d.items():          # (Python's view: the value as the loop reaches it)
        if k == "a":
            d["b"] = v * x
        s = s + v * v
    return s


def values_written_ahead(x, d):
    s = 0.0
    for v in d.values():
        d["b"] = d["b"] * x
        s = s + v
    return s


def backwards_popping(x, xs):
    s = 0.0
    for v in reversed(xs):          # (Python's reversed iterator: from the last index
        xs.pop()                    # there was, while the index is one of the list's)
        s = s + v * x
    return s


def backwards_through_a_helper(x, xs):
    s = 0.0
    for v in reversed(xs):
        if len(xs) < 4:
            grow(xs, v * x)
        elif len(xs) > 4:
            del xs[0]
        s = s + v * v * x
    return s


def backwards_replacing_the_first(x, xs):
    s = 0.0
    for v in reversed(xs):
        xs[:1] = [v * x]
        s = s + v
    return s


def shrinking(x, xs):
    s = 0.0
    for v in xs:
        if len(xs) > 2:
            xs.pop()
        s = s + v * x
    return s
'''

CASES = [
    ("slice_append", (0.5, [1.5, 2.0])),
    ("augmented_extend", (0.5, [1.5, 2.0])),
    ("through_a_helper", (0.5, [1.5, 2.0])),
    ("through_a_closure", (0.5, [1.5, 2.5, 4.0])),
    ("zip_with_the_second_growing", (0.5, [1.5, 2.0], [1.0, -1.0, 2.0, 0.5, 3.0, 1.0])),
    ("zip_with_the_second_replaced", (0.5, [1.5], [1.0, 2.0])),
    ("shrinking", (0.5, [1.5, 2.0, 3.0, 4.0, 5.0])),
    ("backwards_popping", (0.5, [1.0, 2.0, 3.0, 4.0])),
    ("backwards_through_a_helper", (0.5, [1.0, 2.0])),
    ("backwards_through_a_helper", (0.5, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
    ("backwards_replacing_the_first", (0.5, [1.0, 2.0, 3.0])),
    ("items_written_ahead", (0.5, {"a": 1.5, "b": 2.0})),
    ("values_written_ahead", (0.5, {"a": 1.5, "b": 2.0})),
]


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_every_mode(mod, name, args):
    f = getattr(mod, name)
    if any(isinstance(a, dict) for a in args):      # (differences in x alone)
        want = finite_diff(lambda x: f(x, *copy.deepcopy(args[1:])), [args[0]])
        g = symgrad.grad(f, wrt=0)(*copy.deepcopy(args))
        assert_close([g], want, what=name)
        value, g = symgrad.value_and_grad(f, wrt=0)(*copy.deepcopy(args))
        assert_close([g], want, what=name)
    else:
        want = finite_diff(f, copy.deepcopy(list(args)))
        assert_close(list(symgrad.grad(f)(*copy.deepcopy(args))), want, what=name)
        value, g = symgrad.value_and_grad(f)(*copy.deepcopy(args))
        assert_close(list(g), want, what=name)
    assert value == f(*copy.deepcopy(args))
    tangents = (1.0,) + tuple({k: 0.0 for k in a} if isinstance(a, dict) else [0.0] * len(a)
                              for a in args[1:])
    assert_close(symgrad.jvp(f, copy.deepcopy(tuple(args)), tangents)[1], want[0],
                 what=f"jvp of {name}")
    h = 1e-5
    g0 = symgrad.grad(f, wrt=0)
    second = (g0(args[0] + h, *copy.deepcopy(args[1:])) -
              g0(args[0] - h, *copy.deepcopy(args[1:]))) / (2 * h)
    assert_close(symgrad.hessian(f, wrt=0)(*copy.deepcopy(args)), second, rtol=1e-5,
                 atol=1e-6, what=f"hessian of {name}")


def test_an_item_removed_from_the_end_is_put_back_where_it_was():
    """``del rs[-1]`` / ``rs.pop(-k)`` (and ``del rs[k]`` with ``k`` negative when the code
    runs) were undone as ``rs.insert(-k, item)``, one place before where the item was: the
    item's derivative went to its neighbour and the argument was left reordered (the
sweep undoes what f changes: it is left as given).  Found
    by the resize fuzz family."""
    m = load('''
def dropped_last(x, rs):
    del rs[-1]
    rs.append(x)
    return sum(rs) * x


def dropped_at(x, rs, k):
    del rs[k]
    rs.append(x)
    return sum(v * (i + 1) for i, v in enumerate(rs)) * x


def popped_second_last(x, rs):
    v = rs.pop(-2)
    rs.insert(0, v * x)
    return sum(w * (i + 1) for i, w in enumerate(rs))
''')
    cases = [(m.dropped_last, [0.5, [1.5, 2.0]])] + \
        [(m.dropped_at, [0.5, [1.5, 2.0, 3.0], k]) for k in (-1, -2, 0, 1)] + \
        [(m.popped_second_last, [0.5, [1.5, 2.0, 3.0]])]
    for f, args in cases:
        given = copy.deepcopy(args)
        g = symgrad.grad(f, wrt=(0, 1))(*given)
        want = finite_diff(lambda x, rs: f(x, rs, *args[2:]), copy.deepcopy(args[:2]))
        assert_close(list(g), want, what=f"{f.__name__}{args}")
        assert given == args        # (the sweep undoes the changes: the argument as given)


def test_a_list_whose_items_are_only_moved_about():
    """A differentiated list made shorter in a loop, none of whose numbers reaches the
    result: its items are objects that are only moved (they may be rows).  ``hessian``
    and ``hvp`` refused it ("a value used both as obj and num": the sweep put 0.0 back
    into the adjoint of a list of objects), and ``grad`` gave a row's adjoint as 0.0.
    Each item's adjoint is now zeros like the item.  Found by the resize fuzz family."""
    m = load('''
def dropped_in_a_loop(x, rs, qs):
    s = 0.0
    for v in qs:
        del rs[0]
        s = s + v * x
    return s


def rows_popped(x, rows, qs):
    s = 0.0
    for v in qs:
        rows.pop(0)
        s = s + v * x * x
    return s
''')
    args = [0.5, [1.0, 3.0, 4.0], [1.0, 2.0]]
    f = m.dropped_in_a_loop
    want = finite_diff(f, copy.deepcopy(args))
    g = symgrad.grad(f, wrt=(0, 1, 2))
    assert_close(list(g(*copy.deepcopy(args))), want)
    row_x = symgrad.hessian(f, wrt=(0, 1, 2))(*copy.deepcopy(args))[0]
    eps = 1e-5      # (the row of x: central differences of the gradient along x)
    up = g(args[0] + eps, *copy.deepcopy(args[1:]))
    down = g(args[0] - eps, *copy.deepcopy(args[1:]))
    for got, a, b in zip(row_x, up, down):
        if isinstance(got, list):
            assert_close(got, [(p - q) / (2 * eps) for p, q in zip(a, b)], atol=1e-6)
        else:
            assert_close([got], [(a - b) / (2 * eps)], atol=1e-6)
    hv = symgrad.hvp(f, copy.deepcopy(tuple(args)), (1.0, [0.0, 0.0, 0.0], [0.0, 0.0]))
    assert_close(list(hv[2]), [1.0, 1.0])
    rows = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    d_x, d_rows, d_qs = symgrad.grad(m.rows_popped, wrt=(0, 1, 2))(0.5, rows, [1.0, 2.0])
    assert d_rows == [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
    assert rows == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert_close([d_x, *d_qs], [3.0, 0.25, 0.25])
    second = symgrad.hessian(m.rows_popped, wrt=0)(0.5, copy.deepcopy(rows), [1.0, 2.0])
    assert_close([second], [6.0])
