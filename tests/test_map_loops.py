"""Map loops (symgrad.maps): a reverse loop that adds one term per element into fresh
lists of zeros is printed as list comprehensions, under a test that the lists are as
long as the loop and not one list passed twice.  Checked against finite differences,
against the same gradient printed as a loop (bit for bit), and differentiated again;
the programs most likely to break it (a list passed twice, lists of other lengths, the
loop variable used as a number, adjoints written before the loop ...) included."""

import copy
import random

import pytest

from numeric import assert_close, finite_diff
from fuzz_oracles import load
from same_bits import outcome, same_bits

import symgrad
from symgrad import maps
from symgrad.pipeline import transform

SOURCE = '''
import math


def neuron(x, w, b):
    s = b
    for i in range(len(x)):
        s = s + x[i] * w[i]
    return math.tanh(s)


def sumsq(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** 2
    return s


def direct(x):
    s = 0.0
    for xi in x:
        s = s + math.sin(xi) * 2.0
    return s


def zipped(x, w):
    s = 0.0
    for xi, wi in zip(x, w):
        s += xi * wi
    return math.tanh(s)


def generator(x, w):
    return sum(xi * wi for xi, wi in zip(x, w))


def counted(x, n):
    s = 0.0
    for i in range(n):
        s += math.sin(x[i])
    return s


def by_other_length(x, w):
    s = 0.0
    for i in range(len(w)):
        s += x[i] * w[i]
    return s * s


def index_as_number(x):
    s = 0.0
    for i in range(len(x)):
        s += math.sin(x[i]) * (i + 1)
    return s


def with_data(x, c):
    s = 0.0
    for i in range(len(x)):
        s += math.exp(x[i] * c[i])
    return math.log(s)


def three(x, w, v):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * w[i] + v[i] * x[i]
    return s * s


def cubed(x, w):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * w[i] * x[i]
    return s


def read_after(x):
    a = x[0] * 3.0
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** 2
    return s + a


def read_before(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] ** 2
    return s * x[0]


def two_loops(x, w):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * w[i]
    t = 0.0
    for i in range(len(w)):
        t += math.cos(w[i])
    return s + t


def product(x):
    p = 1.0
    for i in range(len(x)):
        p = p * (1.0 + x[i] * 0.5)
    return p


def lse(x):
    m = 0.0
    for i in range(len(x)):
        m += math.exp(x[i])
    return math.log(m)


def mse(x, w, y):
    s = 0.0
    for i in range(len(x)):
        e = x[i] * w - y[i]
        s += e * e
    return s / len(x)


def enum(x):
    s = 0.0
    for i, xi in enumerate(x):
        s += i * xi * xi
    return s


def index_after(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * x[i]
    return s * i


def nested(x, w):
    s = 0.0
    for j in range(2):
        for i in range(len(x)):
            s += x[i] * w[i] * (j + 1)
    return s


def early(x):
    s = 0.0
    for i in range(len(x)):
        if s > 2.0:
            break
        s += x[i] ** 2
    return s


def written(x, w):
    x[0] = x[0] * 2.0
    s = 0.0
    for i in range(len(x)):
        s += x[i] * w[i]
    return s


def branchy(x):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * 2.0 if x[i] > 0 else x[i] * x[i]
    return s
'''

#: functions whose reverse loop becomes comprehensions, and what one of them reads
MAPPED = {
    "neuron": "d_x = [d_s * w_i for w_i in w]",
    "sumsq": "d_x = [d_s * (2 * x_i) for x_i in x]",
    "direct": " for x_k in x]",
    "zipped": "d_w = [d_s * x_k for x_k in x]",
    "generator": "d_x = [d_sum * w_k for w_k in w]",
    "counted": "d_x = [d_s * math.cos(x_i) for x_i in x]",
    "by_other_length": "d_x = [d_s * w_i for w_i in w]",
    "index_as_number": " for i in range(len(x))]",
    "with_data": "d_c = [d_s * _t2 * x_i for x_i, _t2 in zip(x, _stack)]",
    "three": "d_v = [d_s * x_i for x_i in x]",
    "cubed": "d_w = [",
    "read_after": "d_x = [",
    "branchy": "d_x = [",
    "index_after": "d_x = [",
    "lse": "d_x = [d_m * _t2 for _t2 in _stack]",
}
#: functions whose reverse loops stay loops, and why
KEPT = {
    "read_before": "d_x is written before the loop (the adjoint of x[0])",
    "product": "the loop carries d_p from one iteration to the next",
    "mse": "the loop adds into d_w, a number, each iteration",
    "enum": "it reads the loop variable as a number and a value off the tape",
    "nested": "the loop is inside another loop",
    "early": "a loop that may break",
    "written": "x is written into",
}


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


def _lists(n, seed):
    rng = random.Random(seed)
    return [round(rng.uniform(-0.9, 0.9), 3) for _ in range(n)]


def _argsets(name):
    """Argument sets for ``name``: distinct lists of one length, one list passed for
    every list parameter, a longer second list, and empty lists (where they run)."""
    a, b, c, longer = _lists(4, 1), _lists(4, 2), _lists(4, 3), _lists(6, 4)
    if name == "counted":
        return [(a, 4), (a, 2), ([], 0)]
    if name == "by_other_length":
        return [(a, b), (a, a), (longer, b)]
    if name == "mse":
        return [(a, 0.7, b), (a, 0.7, a), (a, 0.7, longer)]
    if name == "written":
        return [(a, b), (a, a), (a, longer)]
    if name in ("sumsq", "direct", "index_as_number", "read_after", "read_before", "product",
                "index_after", "early", "branchy", "lse", "enum"):
        return [(a,), ([],)] if name not in ("read_after", "read_before", "index_after", "lse") \
            else [(a,)]
    if name == "three":
        return [(a, b, c), (a, a, a), (a, b, a), (a, longer, c), (a, b, b)]
    if name == "neuron":
        return [(a, b, 0.1), (a, a, 0.1), (a, longer, 0.1), ([], [], 0.3)]
    return [(a, b), (a, a), (a, longer), ([], [])]


def _cases():
    return [(name, k) for name in [*MAPPED, *KEPT] for k in range(len(_argsets(name)))]


def _diff(args):
    """The differentiated arguments: all but ints (``n``), as a list (results are then
    tuples)."""
    return [k for k, a in enumerate(args) if not isinstance(a, int)]


def _fd(f, args, wrt, h=1e-6):
    """Central differences of ``f`` at ``args``; a list passed twice is moved as one
    list (both names see the move), so its entries are the total derivative, which is
    what symgrad gives each name of a shared list."""
    first: dict = {}
    for i in wrt:
        first.setdefault(id(args[i]), i)
    distinct = list(first.values())

    def call(*moved):
        full = list(args)
        for i in wrt:
            full[i] = moved[distinct.index(first[id(args[i])])]
        return f(*copy.deepcopy(full))
    got = finite_diff(call, [copy.deepcopy(args[i]) for i in distinct], h=h)
    return [got[distinct.index(first[id(args[i])])] for i in wrt]


@pytest.mark.parametrize("name", list(MAPPED))
def test_the_reverse_loop_is_printed_as_comprehensions(mod, name):
    src = symgrad.value_and_grad(getattr(mod, name), wrt=_diff(_argsets(name)[0])).source
    assert MAPPED[name] in src, src


@pytest.mark.parametrize("name", list(KEPT))
def test_a_loop_that_is_not_a_map_stays_a_loop(mod, name):
    src = symgrad.value_and_grad(getattr(mod, name), wrt=_diff(_argsets(name)[0])).source
    assert "for i in reversed(range(" in src and "] for " not in src.replace(
        "[0.0] * len", ""), (KEPT[name], src)


def test_the_neuron_reads_as_a_person_writes_it(mod):
    src = symgrad.value_and_grad(mod.neuron).source
    assert "    if len(w) == len(x) and w is not x:\n" \
           "        # grad of: s = s + x[i] * w[i]\n" \
           "        d_x = [d_s * w_i for w_i in w]\n" \
           "        d_w = [d_s * x_i for x_i in x]\n" \
           "    else:\n" \
           "        d_x = [0.0] * len(x)\n" \
           "        d_w = d_x if w is x else [0.0] * len(w)\n" in src, src
    assert "if len(x) == n:" in symgrad.grad(mod.counted, wrt=0).source
    assert "if " not in symgrad.grad(mod.sumsq).source.split("d_s = d_out")[1]


@pytest.mark.parametrize("name,k", _cases())
def test_gradient_matches_finite_differences(mod, name, k):
    f = getattr(mod, name)
    args = _argsets(name)[k]
    wrt = _diff(args)
    try:
        want_value = f(*copy.deepcopy(args))
    except (IndexError, ZeroDivisionError, ValueError) as exc:
        with pytest.raises(type(exc)):
            symgrad.value_and_grad(f, wrt=wrt)(*copy.deepcopy(args))
        return
    value, g = symgrad.value_and_grad(f, wrt=wrt)(*copy.deepcopy(args))
    assert value == pytest.approx(want_value)
    assert_close(list(g), _fd(f, args, wrt), rtol=1e-5, atol=1e-6, what=name)
    for gi, i in zip(g, wrt):
        assert type(gi) is type(args[i]) and (not isinstance(gi, list) or len(gi) == len(args[i]))


@pytest.mark.parametrize("name,k", _cases())
def test_the_same_bits_as_the_loop(mod, name, k, monkeypatch):
    """The comprehensions give the numbers the loop gives (its 0.0 + t is t), and so
    does a list passed twice or of another length (the loop runs then)."""
    f = getattr(mod, name)
    args = _argsets(name)[k]
    wrt = _diff(args)
    mapped = transform(f, wrt, True, False)
    monkeypatch.setattr(maps, "ENABLED", False)
    looped = transform(f, wrt, True, False)
    assert "] for " not in looped.source.replace("[0.0] * len", "")
    assert same_bits(outcome(lambda: mapped.compiled()(*copy.deepcopy(args))),
                     outcome(lambda: looped.compiled()(*copy.deepcopy(args))))


def _moved(args, wrt, v, t):
    """``args`` with each differentiated list moved by ``t * v`` (a list passed twice
    moved by the sum of its names' tangents, and still passed twice)."""
    move: dict = {}
    for m, i in enumerate(wrt):        # (each name of a shared list moves it: hvp's sense)
        old = move.get(id(args[i]), [0.0] * len(args[i]))
        move[id(args[i])] = [a + b for a, b in zip(old, v[m])]
    return [[a + t * b for a, b in zip(x, move[id(x)])] if id(x) in move else x
            for x in args]


AGAIN = ["neuron", "zipped", "with_data", "three", "cubed", "index_as_number", "counted",
         "generator", "sumsq", "direct", "branchy"]


@pytest.mark.parametrize("name", AGAIN)
def test_differentiated_again(mod, name):
    """hvp differentiates the printed gradient, comprehensions and test included:
    against central differences of the gradient."""
    f = getattr(mod, name)
    args = _argsets(name)[0]
    wrt = [i for i in _diff(args) if isinstance(args[i], list)]
    g = symgrad.grad(f, wrt=wrt)
    v = [_lists(len(args[i]), 20 + i) for i in wrt]
    hv = symgrad.hvp(f, tuple(copy.deepcopy(args)), tuple(v), wrt=wrt)
    step = 1e-5
    gp = g(*copy.deepcopy(_moved(args, wrt, v, step)))
    gm = g(*copy.deepcopy(_moved(args, wrt, v, -step)))
    fd = [[(p - q) / (2 * step) for p, q in zip(gp[m], gm[m])] for m in range(len(wrt))]
    assert_close(list(hv), fd, rtol=1e-4, atol=1e-6, what=f"{name} hvp")


@pytest.mark.parametrize("name,k", [(n, k) for n in AGAIN for k in range(len(_argsets(n)))])
def test_differentiated_again_the_same_bits_as_the_loop(name, k, monkeypatch):
    """hvp of the gradient with comprehensions and of the one with the loop: the same
    bits, on every argument set (a list passed twice, lists of other lengths)."""
    args = _argsets(name)[k]
    wrt = [i for i in _diff(args) if isinstance(args[i], list)]
    v = tuple(_lists(len(args[i]), 20 + i) for i in wrt)

    def hvp_of_fresh_copy():
        f = getattr(load(SOURCE + f"\n# {maps.ENABLED}\n"), name)
        return outcome(lambda: symgrad.hvp(f, tuple(copy.deepcopy(args)), v, wrt=wrt))
    mapped = hvp_of_fresh_copy()
    monkeypatch.setattr(maps, "ENABLED", False)
    assert same_bits(mapped, hvp_of_fresh_copy())


@pytest.mark.parametrize("name", ["neuron", "sumsq", "with_data", "three", "counted"])
def test_hessian_is_symmetric_and_matches_the_gradients_differences(mod, name):
    f = getattr(mod, name)
    args = _argsets(name)[0]
    x, rest = args[0], list(args[1:])
    g = symgrad.grad(f, wrt=0)
    hess = symgrad.hessian(f, wrt=0)(*copy.deepcopy(args))
    for j in range(len(x)):
        row = finite_diff(lambda xs: g(xs, *copy.deepcopy(rest))[j], [list(x)], h=1e-5)[0]
        assert_close(list(hess[j]), row, rtol=1e-4, atol=1e-6, what=f"{name} row {j}")
        for m in range(len(x)):
            assert hess[j][m] == pytest.approx(hess[m][j], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", ["neuron", "with_data", "three", "zipped"])
def test_jvp_is_the_gradient_along_the_tangent(mod, name):
    f = getattr(mod, name)
    args = _argsets(name)[0]
    g = symgrad.grad(f, wrt=list(range(len(args))))(*copy.deepcopy(args))
    tangents = tuple(_lists(len(a), 9 + i) if isinstance(a, list) else 0.5
                     for i, a in enumerate(args))
    _, slope = symgrad.jvp(f, tuple(copy.deepcopy(args)), tangents)
    want = sum(sum(a * b for a, b in zip(gi, ti)) if isinstance(gi, list) else gi * ti
               for gi, ti in zip(g, tangents))
    assert slope == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_an_int_cotangent_keeps_the_loops_values(mod):
    """``d_out`` given as an int: the comprehension's items are the terms themselves,
    numbers equal to the loop's (which adds them to 0.0)."""
    f = mod.neuron
    x, w = _lists(3, 5), _lists(3, 6)
    got = symgrad.value_and_grad(f)(x, w, 0.2, d_out=2)
    want = symgrad.value_and_grad(f)(x, w, 0.2, d_out=2.0)
    assert same_bits(list(got[1]), list(want[1]))


SHADOWING = '''
import builtins
import math


def zip(*lists):
    raise RuntimeError("the module's own zip")


def reversed(xs):
    raise RuntimeError("the module's own reversed")


def sum(xs):
    return -1.0


def f(x, c):
    s = 0.0
    for i in range(builtins.len(x)):
        s += math.sin(x[i]) * c[i]
    return s


def g(x, c):
    s = 0.0
    for i in range(builtins.len(x)):
        s = s * 0.5 + x[i] * c[i]
    return s + builtins.sum(x)
'''


@pytest.mark.parametrize("name", ["f", "g"])
def test_a_module_that_defines_zip_and_reversed_itself(name):
    """The gradient's own calls of builtins (``zip`` of a comprehension, ``reversed``
    of a reversed loop, ``sum``) are not the module's functions of those names: they
    are passed in under other names (``_zip``), and the text says so."""
    mod = load(SHADOWING)
    fn = getattr(mod, name)
    x, c = _lists(4, 1), _lists(4, 2)
    grad = symgrad.grad(fn)
    got = grad(x, c)
    assert_close(list(got), finite_diff(fn, [x, c]), what=name)
    src = symgrad.grad(fn).source
    assert "from builtins import" in src
    assert " zip(" not in src and " reversed(" not in src
