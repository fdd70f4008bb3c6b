"""Calls symgrad cannot see into that change their arguments, or draw random numbers.

Before, each of these gave a silently wrong gradient:

* ``random.shuffle(xs)``, ``operator.setitem(xs, 0, v)``, ``np.random.shuffle(a)``,
  ``heapq.heapify(xs)``, ``heapq.heappush(h, x)``, ``bisect.insort(xs, x)`` of
  differentiated values: the call changed the list in place, the derivative did not
  follow (now refused, naming the call; ``heapq`` and ``bisect.insort`` are modelled
  in Python, in the library's order, so those work);
* ``random.uniform(a, b)``, ``random.gauss(mu, s)``, ``random.choice(xs)``,
  ``random.sample(xs, k)`` of differentiated values had derivative 0, as
  ``random.random()`` has (``sample`` and a ``random.Random``'s draws are now refused,
  with the reparametrisation as the hint; the module's ``uniform``, ``gauss``,
  ``choice`` ... are differentiated by it: ``tests/test_random_draws.py``);
* ``random.seed(0)`` inside the function was dropped as dead code (a constant call
  whose result is unused), so the gradient was computed at other random draws.

Random draws of constant parameters stay constants, computed in the generated code in
the order the function makes them, and are compared here with finite differences of the
function itself (which seeds its own generator)."""

import pytest

from fuzz_oracles import load
from numeric import assert_close, finite_diff

import symgrad
from symgrad.errors import SymgradError

SOURCE = '''
import bisect
import heapq
import logging
import math
import operator
import random


def shuffled_list(x, y):
    xs = [x, y, x * y]
    random.shuffle(xs)
    return xs[0] * 3.0 + xs[1]


def heapified(x, y):
    xs = [y, x, 3.0]
    heapq.heapify(xs)
    return xs[0] * 3.0 + xs[1] * 2.0


def pushed(x, y):
    h = []
    heapq.heappush(h, y)
    heapq.heappush(h, x)
    return heapq.heappop(h) * 3.0 + h[0]


def inserted_in_order(x, y):
    xs = [1.0, 2.5]
    bisect.insort(xs, x)
    bisect.insort_left(xs, y * 0.5)
    return xs[0] * y + xs[1] * 3.0 + xs[2] * 5.0 + xs[3]


def set_through_operator(x, y):
    xs = [x, y]
    operator.setitem(xs, 0, y * y)
    return xs[0] * xs[1]


def heap_of_values(x, y):
    h = []
    for v in [y, x, x * y, 2.0, y * y, 0.1]:
        heapq.heappush(h, v)
    a = heapq.heappop(h)
    b = heapq.heappop(h)
    c = heapq.heapreplace(h, x * 3.0)
    d = heapq.heappushpop(h, y - 1.0)
    return a * 7.0 + b * 5.0 + c * 3.0 + d + h[0] * 11.0 + h[-1]


def smallest_and_largest(x, y):
    xs = [y, x * x, 2.0, x * y]
    heapq.heapify(xs)
    return sum(heapq.nsmallest(2, xs)) * x + heapq.nlargest(1, xs)[0] + xs[1] * 3.0


def uniform_between(x, y):
    random.seed(3)
    return random.uniform(x, y)


def gauss_around(x):
    random.seed(3)
    return random.gauss(x, 1.0)


def chosen(x, y):
    random.seed(3)
    return random.choice([x, y]) * 2.0


def sampled(x):
    random.seed(3)
    return sum(random.sample([x, 2.0 * x, 3.0 * x], 2))


def method_of_a_generator(x):
    rng = random.Random(0)
    return rng.uniform(x, 2.0)


def seeded_draw(x):
    random.seed(7)
    random.random()                 # (a draw whose value is not used: it moves the state)
    r = random.random()
    return x * r + math.sin(x) * random.gauss(0.0, 1.0)


def shuffled_indices(x, y):
    random.seed(5)
    idx = [0, 1, 2]
    random.shuffle(idx)
    ws = [x, y, x * y]
    return ws[idx[0]] * 3.0 + ws[idx[1]] * ws[idx[2]]


def reparametrised(mu, sigma):
    random.seed(11)
    return (mu + sigma * random.gauss(0.0, 1.0)) ** 2


def chosen_by_index(x, y):
    random.seed(3)
    xs = [x, y * y]
    return xs[random.randrange(len(xs))] * 2.0


def heap_of_constants(x):
    h = [3.0, 1.0, 2.0]
    heapq.heapify(h)
    return x * h[0] + x * x * heapq.heappop(h)


def generator_made_inside(x):
    rng = random.Random(4)
    return x * rng.random() + x * x * rng.random()


LOG = logging.getLogger("symgrad.tests")


def logged(x, xs):
    LOG.debug("xs = %s", xs)
    logging.debug("x = %s, xs = %s", x, xs)
    label = "{} {}".format(x, xs)           # (a str's method changes nothing)
    return x * sum(xs) * len(label) / len(label)
'''

REFUSED = [("shuffled_list", (0.5, 1.5), "shuffle"),
           ("set_through_operator", (0.5, 1.5), "setitem"),
           ("sampled", (0.5,), "sample"), ("method_of_a_generator", (0.5,), "uniform")]

WORK = [("seeded_draw", (0.7,)), ("shuffled_indices", (0.7, -1.3)),
        ("reparametrised", (0.4, 1.7)), ("chosen_by_index", (0.7, -1.3)),
        ("heap_of_constants", (0.7,)), ("generator_made_inside", (0.7,)),
        ("logged", (0.7, [1.0, 2.0])), ("heapified", (0.5, 1.5)), ("pushed", (0.5, 1.5)),
        ("inserted_in_order", (1.7, 2.3)), ("heap_of_values", (0.7, 1.3)),
        ("heap_of_values", (1.9, -0.4)), ("smallest_and_largest", (0.7, 1.3)),
        ("uniform_between", (0.5, 1.5)), ("gauss_around", (0.5,)), ("chosen", (0.5, 1.5))]


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


@pytest.mark.parametrize("mode", ["grad", "value_and_grad", "hessian"])
@pytest.mark.parametrize("name,args,label", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_the_call_named(mod, name, args, label, mode):
    f = getattr(mod, name)
    f(*args)                                # (Python runs it)
    with pytest.raises(SymgradError, match=label) as info:
        getattr(symgrad, mode)(f)(*args)
    assert "line" in str(info.value)


@pytest.mark.parametrize("name,args", WORK, ids=[w[0] for w in WORK])
def test_as_python_where_modelled(mod, name, args):
    """Random draws of constants (the function seeds them itself), heaps, insort."""
    f = getattr(mod, name)
    g = symgrad.grad(f)(*args)
    want = finite_diff(f, list(args))
    assert_close(g if isinstance(g, tuple) else (g,), want, rtol=1e-5, atol=1e-6,
                 what=name)
    value, g2 = symgrad.value_and_grad(f)(*args)
    assert value == f(*args)
    assert_close(g2 if isinstance(g2, tuple) else (g2,), want, rtol=1e-5, atol=1e-6,
                 what=name)


def test_the_seed_and_an_unused_draw_stay_in_the_generated_code(mod):
    src = symgrad.grad(mod.seeded_draw).source.split("\n\n# Defined")[0]
    code = [ln.strip() for ln in src.splitlines() if not ln.strip().startswith("#")]
    draws = [k for k, ln in enumerate(code) if ln.endswith("random()")]
    seeds = [k for k, ln in enumerate(code) if ln.endswith("seed(7)")]
    assert len(draws) == 2 and len(seeds) == 1 and seeds[0] < draws[0], src


def test_hessian_of_a_reparametrised_draw(mod):
    """d2/dmu2 (mu + s z)^2 = 2 (z drawn after seed(11), as the function draws it)."""
    h = symgrad.hessian(mod.reparametrised)(0.4, 1.7)
    import random
    random.seed(11)
    z = random.gauss(0.0, 1.0)
    assert_close(h, [[2.0, 2.0 * z], [2.0 * z, 2.0 * z * z]], rtol=1e-9, atol=1e-12)
