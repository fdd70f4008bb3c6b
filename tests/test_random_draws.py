"""Random draws whose value moves with their arguments (``random.gauss(mu, sigma)``,
``uniform(a, b)``, ``triangular``, ``normalvariate``, ``lognormvariate``,
``expovariate``, ``choice(xs)``): differentiated by the reparametrization, the
library's own arithmetic on a draw of the module's generator with fixed parameters
(``mu + random.gauss(0.0, 1.0) * sigma``, ``a + (b - a) * random.random()``,
``xs[random.randrange(len(xs))]``; ``symgrad.stdlib_models``).  Before, they were
refused ("random.gauss of differentiated values").

Every mode is checked against central differences of the function itself, each
evaluation from the same seed; the value is Python's to the last bit, and the
generator is left where the function leaves it (the same number of draws, in the same
order).  A draw of constants is the library's call, printed as the user wrote it."""

import random
import sys

import pytest

from fuzz_oracles import load
from numeric import assert_close

import symgrad
from symgrad.errors import SymgradError

SOURCE = '''
import math
import random


def gauss_squared(mu, s):
    return random.gauss(mu, s) ** 2 + mu


def gauss_keywords(mu, s):
    return math.sin(random.gauss(sigma=s, mu=mu)) * s


def normal_times_mu(mu, s):
    return random.normalvariate(mu, s) * mu


def lognormal(mu, s):
    return random.lognormvariate(mu, s) + mu * s


def uniform_sine(a, b):
    return math.sin(random.uniform(a, b)) * a


def triangular_two(lo, hi):
    return random.triangular(lo, hi, 0.25 * lo + 0.75 * hi) * random.triangular(lo, hi)


def triangular_flat(lo, hi):
    # high == low: the library returns low (its ZeroDivisionError, caught)
    return random.triangular(lo, lo, hi) * hi


def exponential(lam, x):
    return random.expovariate(lam) * x + random.expovariate(x)


def chosen(x, y):
    return random.choice([x * y, x + y, x - y]) * x


def draws_in_a_loop(mu, s):
    acc = 0.0
    for _ in range(4):
        acc = acc + random.gauss(mu, s) * random.random() + random.uniform(mu, s)
    return acc


def choice_of_nothing(x, y):
    xs = [x * y for _ in range(0)]
    return random.choice(xs) + x
'''

CASES = [("gauss_squared", (0.3, 1.5)), ("gauss_keywords", (0.3, 0.8)),
         ("normal_times_mu", (0.3, 1.5)), ("lognormal", (0.3, 0.5)),
         ("uniform_sine", (0.3, 1.5)), ("triangular_two", (0.3, 1.5)),
         ("triangular_flat", (0.3, 1.5)), ("exponential", (1.3, 0.7)),
         ("chosen", (0.7, 1.9)), ("draws_in_a_loop", (0.3, 1.5))]
MODES = ["grad", "value_and_grad", "vjp", "jvp", "hessian", "hvp"]
SEEDS = [3, 11]
H = 1e-6


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


def seeded(seed, fn, *args):
    random.seed(seed)
    return fn(*args)


def fd_grad(f, args, seed):
    out = []
    for i in range(len(args)):
        up, down = list(args), list(args)
        up[i] += H
        down[i] -= H
        out.append((seeded(seed, f, *up) - seeded(seed, f, *down)) / (2 * H))
    return out


def fd_hessian(f, args, seed, h=1e-4):
    g = symgrad.grad(f)
    rows = []
    for i in range(len(args)):
        up, down = list(args), list(args)
        up[i] += h
        down[i] -= h
        gu, gd = seeded(seed, g, *up), seeded(seed, g, *down)
        rows.append([(a - b) / (2 * h) for a, b in zip(gu, gd)])
    return rows


def derivative(f, mode, args, seed):
    random.seed(seed)
    if mode == "grad":
        return list(symgrad.grad(f)(*args))
    if mode == "value_and_grad":
        return list(symgrad.value_and_grad(f)(*args)[1])
    if mode == "vjp":
        return list(symgrad.vjp(f, *args)[1](1.0))
    if mode == "jvp":
        return [symgrad.jvp(f, args, tuple(1.0 if j == i else 0.0
                                           for j in range(len(args))))[1]
                for i in range(len(args)) if random.seed(seed) is None]
    if mode == "hessian":
        return [list(r) for r in symgrad.hessian(f)(*args)]
    return [list(symgrad.hvp(f, args, tuple(1.0 if j == i else 0.0
                                            for j in range(len(args)))))
            for i in range(len(args)) if random.seed(seed) is None]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_every_mode_against_differences_of_the_function(mod, name, args, mode, seed):
    f = getattr(mod, name)
    got = derivative(f, mode, args, seed)
    if mode in ("hessian", "hvp"):
        want = fd_hessian(f, args, seed)
        if mode == "hvp":          # (column i of a symmetric Hessian)
            want = [list(col) for col in zip(*want)]
        assert_close(got, want, rtol=1e-4, atol=1e-5, what=f"{name} {mode}")
    else:
        assert_close(got, fd_grad(f, args, seed), rtol=1e-5, atol=1e-6,
                     what=f"{name} {mode}")


@pytest.mark.parametrize("name,args", CASES, ids=[c[0] for c in CASES])
def test_the_value_and_the_generator_are_pythons(mod, name, args):
    f = getattr(mod, name)
    want = seeded(5, f, *args)
    after = random.random()
    value, _ = seeded(5, symgrad.value_and_grad(f), *args)
    assert value == want                        # (to the last bit)
    assert random.random() == after             # (as many draws, in the same order)
    seeded(5, symgrad.grad(f), *args)
    assert random.random() == after


def test_a_choice_of_an_empty_list_raises_as_python_does(mod):
    f = mod.choice_of_nothing
    with pytest.raises(IndexError):
        f(0.5, 2.0)
    for make in (symgrad.grad, symgrad.value_and_grad, symgrad.hessian):
        with pytest.raises(IndexError):
            make(f)(0.5, 2.0)


def test_the_generated_code_shows_the_reparametrization(mod):
    src = symgrad.grad(mod.gauss_squared).source
    assert "random.gauss(0.0, 1.0)" in src and "mu + " in src
    src = symgrad.grad(mod.uniform_sine).source
    assert "random.random()" in src and "_random" not in src
    src = symgrad.grad(mod.chosen).source
    assert "random.randrange(" in src


def test_a_draw_of_constants_is_the_librarys_call():
    f = load('''
import random


def f(x):
    return x * random.gauss(0.0, 1.0) + x * random.uniform(2.0, 3.0)
''').f
    src = symgrad.grad(f).source
    assert "random.gauss(0.0, 1.0)" in src and "random.uniform(2.0, 3.0)" in src
    assert "inlined" not in src
    x = 0.8
    want = [(seeded(1, f, x + H) - seeded(1, f, x - H)) / (2 * H)]
    assert_close([seeded(1, symgrad.grad(f), x)], want, rtol=1e-6, atol=1e-8)


def test_draws_of_another_generator_or_a_sample_are_still_refused():
    """``rng.gauss(mu, s)`` of a ``random.Random`` (not the module's generator) and
    ``random.sample``/``random.choices`` of differentiated values: refused, with the
    reparametrization as the hint."""
    m = load('''
import random

RNG = random.Random(0)


def other_generator(mu, s):
    return RNG.gauss(mu, s)


def sampled(x, y):
    return sum(random.sample([x, y, x * y], 2))


def chosen_with_weights(x, y):
    return random.choices([x, y], weights=[1.0, 2.0])[0]
''')
    for f, name in ((m.other_generator, "gauss"), (m.sampled, "sample"),
                    (m.chosen_with_weights, "choices")):
        with pytest.raises(SymgradError, match=name):
            symgrad.grad(f)(0.3, 1.5)



def test_sweeps_of_a_derivative_see_the_same_draws():
    """A derivative made of several sweeps of the generated code (``vjp``'s pullback,
    each row or column of a Jacobian, each column of a Hessian) replays the draws of
    the first: before, each sweep drew again (``x * random.random()`` pulled back the
    next number, not the one its value used), a silently wrong derivative."""
    m = load('''
import random


def pair(x, y):
    u = random.random()
    return x * u * y, y * random.gauss(x, 2.0) + x * random.random()


def scalar(x, y):
    return x * x * random.random() + x * y * random.uniform(x, 1.0)
''')
    args = (0.7, 1.3)

    def fd_jacobian(f, seed):
        cols = []
        for i in range(2):
            up, down = list(args), list(args)
            up[i] += H
            down[i] -= H
            cols.append([(a - b) / (2 * H) for a, b in
                         zip(seeded(seed, f, *up), seeded(seed, f, *down))])
        return [[cols[i][j] for i in range(2)] for j in range(2)]
    want = fd_jacobian(m.pair, 4)
    seeded(4, m.pair, *args)
    after = random.random()
    for make in (symgrad.jacfwd, symgrad.jacrev):
        got = seeded(4, make(m.pair), *args)
        assert_close([list(r) for r in got], want, rtol=1e-5, atol=1e-6, what=make.__name__)
        assert random.random() == after          # (where one run of pair leaves it)
    got = seeded(4, symgrad.jacobian(m.pair), *args)
    assert_close([list(r) for r in got], want, rtol=1e-5, atol=1e-6, what="jacobian")
    assert random.random() == after
    random.seed(4)
    value, pull = symgrad.vjp(m.pair, *args)
    assert value == seeded(4, m.pair, *args)
    random.seed(99)
    state = random.getstate()
    for j in range(2):                          # each row of the Jacobian
        assert_close(list(pull(tuple(1.0 if k == j else 0.0 for k in range(2)))),
                     want[j], rtol=1e-5, atol=1e-6, what="vjp")
    assert random.getstate() == state            # (a pullback draws nothing)
    h = seeded(4, symgrad.hessian(m.scalar), *args)
    assert_close([list(r) for r in h], fd_hessian(m.scalar, args, 4), rtol=1e-4,
                 atol=1e-5, what="hessian")


def test_numpys_generator_is_replayed_too():
    np = pytest.importorskip("numpy")
    m = load('''
import numpy as np


def pair(x, y):
    return x * np.random.rand() * y, y * np.random.normal(0.0, 1.0) + x
''')
    args = (0.7, 1.3)
    np.random.seed(2)
    value, pull = symgrad.vjp(m.pair, *args)
    np.random.seed(2)
    u = np.random.rand()
    assert value[0] == pytest.approx(args[0] * u * args[1])
    assert_close(list(pull((1.0, 0.0))), [u * args[1], args[0] * u], rtol=1e-12, atol=0.0,
                 what="vjp")
    np.random.seed(2)
    jac = symgrad.jacrev(m.pair)(*args)
    assert_close(list(jac[0]), [u * args[1], args[0] * u], rtol=1e-12, atol=0.0, what="jac")


def _generators_module(seed):
    """A module of two functions drawing from its own module-level generators."""
    return load(f'''
import random

import numpy as np

RNG = random.Random({seed})
NRNG = np.random.default_rng({seed})


def python_generator(x, y):
    return x * RNG.random() * y, y * x * RNG.random()


def numpy_generator(x, y):
    return x * NRNG.random() * y, y * x * NRNG.random()
''')


def test_generator_objects_the_function_names_are_replayed():
    """``RNG.random()`` of a module-level ``random.Random`` (and a numpy ``Generator``):
    every column of ``jacfwd`` sees the draws of the first."""
    pytest.importorskip("numpy")
    m = _generators_module(0)
    for f, gen in ((m.python_generator, m.RNG), (m.numpy_generator, m.NRNG)):
        _columns_see_the_first_draws(symgrad.jacfwd, f, gen)


def _columns_see_the_first_draws(make, f, gen):
    """``make(f)`` (a Jacobian) at (0.7, 1.3) of ``f(x, y) = (x u y, y x v)``, ``u, v``
    two draws of ``gen``: every column sees the same two, and ``gen`` is left where one
    run of ``f`` leaves it."""
    get = gen.getstate if hasattr(gen, "getstate") else lambda: gen.bit_generator.state
    put = gen.setstate if hasattr(gen, "setstate") else \
        lambda s: setattr(gen.bit_generator, "state", s)
    state = get()
    jac = make(f)(0.7, 1.3)
    after = get()
    put(state)
    u, v = gen.random(), gen.random()
    assert get() == after                         # (where one run leaves it)
    assert_close([list(r) for r in jac], [[u * 1.3, u * 0.7], [v * 1.3, v * 0.7]],
                 rtol=1e-12, atol=0.0, what=f"{make.__name__} {f.__name__}")


def test_a_helper_of_another_module_drawing_from_its_generator_is_replayed(monkeypatch):
    """A helper inlined from another module reads that module's generator live
    (``helpers.RNG``: ``getattr`` of the module); each column of a Jacobian and each
    sweep of a Hessian must see the draws of the first.  Before, such a generator was
    not found and every column drew again: a silently wrong Jacobian."""
    np = pytest.importorskip("numpy")
    helpers = _generators_module(5)
    m = load('''
def python_pair(x, y):
    return helpers.python_generator(x, y)


def numpy_pair(x, y):
    return helpers.numpy_generator(x, y)


def python_scalar(x, y):
    a, b = helpers.python_generator(x, y)
    return a * b
''')
    m.helpers = helpers
    monkeypatch.setitem(sys.modules, helpers.__name__, helpers)     # (imported, as usual)
    for f, gen in ((m.python_pair, helpers.RNG), (m.numpy_pair, helpers.NRNG)):
        for make in (symgrad.jacfwd, symgrad.jacrev):
            _columns_see_the_first_draws(make, f, gen)
    helpers.NRNG = np.random.default_rng(11)      # rebound: the code reads it live
    _columns_see_the_first_draws(symgrad.jacfwd, m.numpy_pair, helpers.NRNG)
    state = helpers.RNG.getstate()
    h = symgrad.hessian(m.python_scalar)(0.7, 1.3)
    helpers.RNG.setstate(state)
    uv = helpers.RNG.random() * helpers.RNG.random()   # f = x^2 y^2 uv
    assert_close([list(r) for r in h], [[2 * 1.3 ** 2 * uv, 4 * 0.7 * 1.3 * uv],
                                        [4 * 0.7 * 1.3 * uv, 2 * 0.7 ** 2 * uv]],
                 rtol=1e-12, atol=1e-15, what="hessian")
