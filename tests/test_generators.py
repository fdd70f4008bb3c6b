"""Generators (symgrad.lower_gen): ``for x in g(...)`` of a ``def`` with ``yield``, and
comprehensions, ``enumerate``, ``list``/``sum``/``max`` ... over one.  The generator's
body is inlined and the loop's body runs at each ``yield``, interleaved as Python runs
them: a body that writes what the generator reads next is seen, a ``break`` ends a
generator that never ends by itself, ``continue`` goes to the next item, a ``return``
from the loop ends both, and ``yield from`` walks another iterable or generator.
Before, every generator was refused ("yield (a generator)").

Each function is differentiated in every mode and compared with central differences
of the function itself (and with the ``Value`` engine, which runs the real generator);
where Python raises, every mode raises the same exception type."""

import copy

import pytest

from every_mode import MODES, check_every_mode, python
from fuzz_oracles import load

import symgrad
from symgrad.errors import UnsupportedSyntaxError

SOURCE = '''
import math


def pairs(xs):
    for i in range(len(xs) - 1):
        yield xs[i], xs[i + 1]


def squares(xs):
    for x in xs:
        yield x * x


def counting(x):
    k = 0
    while True:                 # (never ends: the loop over it breaks)
        yield x * k
        k += 1


def two(a, b):
    yield a
    yield a * b


def both(xs, ys):
    yield from squares(xs)
    yield from ys


def scaled_tail(x, xs):
    for v in xs:
        if v < 0.0:
            return              # (the generator ends early)
        yield v * x


def dot_of_neighbours(xs):
    s = 0.0
    for a, b in pairs(xs):
        s += a * b
    return s


def sum_of_a_comprehension(xs):
    return sum(a * math.sin(b) for a, b in pairs(xs))


def consumed_whole(xs):
    return sum(squares(xs)) + max(squares(xs)) * min(squares(xs))


def listed(xs):
    ys = list(squares(xs))
    return ys[0] * ys[-1] + len(ys)


def broken_out_of(x):
    s = 0.0
    for v in counting(x):
        if v > 3.0:
            break
        s += v * v
    return s


def continued(xs):
    s = 0.0
    for v in squares(xs):
        if v < 1.0:
            continue
        s += math.sin(v)
    return s


def enumerated(xs):
    s = 0.0
    for i, v in enumerate(squares(xs), 1):
        s += i * v
    return s


def returned_from(x):
    for v in counting(x):
        if v > 2.0:
            return v * x
    return 0.0


def yielded_from(xs, ys):
    return sum(both(xs, ys))


def written_ahead(xs):
    # the body writes the item the generator reads next: Python's generator sees it
    s = 0.0
    for v in squares(xs):
        xs[-1] = v
        s += v
    return s


def nested_generator(x):
    def inner(n):
        for k in range(n):
            yield x * k
    return sum(inner(4)) * x


def two_yields(a, b):
    return sum(v * v for v in two(a, b))


def nested_comprehension(xs):
    return sum(a * b for a in squares(xs) for b in squares(xs))


def loop_else(xs):
    s = 0.0
    for v in squares(xs):
        if v > 100.0:
            break
        s += v
    else:
        s *= 2.0
    return s


def generator_that_returns(x, xs):
    return sum(scaled_tail(x, xs))


def inside_a_loop(xs):
    t = 0.0
    for k in range(3):
        for v in squares(xs):
            t = t * 0.5 + v * k
    return t


def empty_generator(x, xs):
    return x + sum(squares(xs))
'''

XS = [0.5, 1.5, -2.0, 1.2]

# (function, points): the first argument differentiated
CASES = [
    ("dot_of_neighbours", [(XS,), ([0.7],)]),
    ("sum_of_a_comprehension", [(XS,)]),
    ("consumed_whole", [(XS,)]),
    ("listed", [(XS,), ([],)]),
    ("broken_out_of", [(0.7,), (1.9,)]),
    ("continued", [(XS,)]),
    ("enumerated", [(XS,)]),
    ("returned_from", [(0.7,), (2.5,)]),
    ("yielded_from", [(XS, [0.3, 0.4])]),
    ("written_ahead", [(XS,)]),
    ("nested_generator", [(0.7,)]),
    ("two_yields", [(0.7, 1.3)]),
    ("nested_comprehension", [(XS,)]),
    ("loop_else", [(XS,), ([20.0, 0.5],)]),
    ("generator_that_returns", [(0.7, [1.5, -0.5, 2.0]), (0.7, [1.5, 2.0])]),
    ("inside_a_loop", [(XS,)]),
    ("empty_generator", [(0.7, [])]),
]


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name,points", CASES, ids=[c[0] for c in CASES])
def test_every_mode_as_python(mod, name, points, mode):
    check_every_mode(getattr(mod, name), name, points, mode)


@pytest.mark.parametrize("name,args", [
    ("dot_of_neighbours", (XS,)), ("broken_out_of", (0.7,)), ("written_ahead", (XS,)),
    ("yielded_from", (XS, [0.3, 0.4])), ("enumerated", (XS,)), ("returned_from", (0.7,)),
])
def test_against_the_value_engine(mod, name, args):
    report = symgrad.check(getattr(mod, name), *copy.deepcopy(args), engines=("value", "fd"))
    assert report.ok, str(report)


def test_the_values_are_pythons(mod):
    """(To the last bits: Python 3.12's ``sum`` of floats compensates its rounding, the
    generated code adds them in order.)"""
    for name, points in CASES:
        f = getattr(mod, name)
        for args in points:
            if python(f, args) is None:
                value, _ = symgrad.value_and_grad(f, wrt=0)(*copy.deepcopy(args))
                assert value == pytest.approx(f(*copy.deepcopy(args)), rel=1e-13,
                                              abs=1e-15), name


def test_the_generated_code_reads_as_the_loop(mod):
    src = symgrad.grad(mod.broken_out_of).source
    assert "inlined counting(x):" in src and "_stop[0] = True" in src
    assert "# for v in counting(x):" in src and "_once" not in src
    src = symgrad.grad(mod.dot_of_neighbours).source
    assert "(pairs) yield xs[i], xs[i + 1]" in src and "_stop" not in src


def test_a_generator_used_otherwise_is_refused():
    m = load('''
def items(x):
    for k in range(3):
        yield x * k


def kept(x):
    it = items(x)
    return sum(it)


def stepped(x):
    return next(items(x)) * x


def zipped(x, ys):
    return sum(a * b for a, b in zip(items(x), ys))


def sent(x):
    got = yield x
    return got
''')
    for f in (m.kept, m.stepped, m.zipped):
        args = (1.5,) if f is not m.zipped else (1.5, [1.0, 2.0, 3.0])
        with pytest.raises(UnsupportedSyntaxError, match="generator used other than"):
            symgrad.grad(f, wrt=0)(*args)
    with pytest.raises(UnsupportedSyntaxError, match="yield|generator"):
        symgrad.grad(m.sent)(1.5)


def test_generator_methods_of_an_object():
    """``for p in model.parameters()`` of a module's object whose method yields (and
    ``yield from`` its lists), and ``sum(model.scaled(x))``."""
    m = load('''
class Model:
    def __init__(self):
        self.w = [0.5, -1.5, 2.0]
        self.b = 0.25

    def parameters(self):
        yield from self.w
        yield self.b

    def scaled(self, x):
        for wi in self.w:
            yield wi * x


M = Model()


def weighted(x):
    s = 0.0
    for p in M.parameters():
        s += p * x * x
    return s


def summed(x):
    return sum(M.scaled(x)) + max(M.scaled(x))
''')
    x = 0.7
    assert symgrad.grad(m.weighted)(x) == pytest.approx(2 * x * (sum(m.M.w) + m.M.b))
    assert symgrad.grad(m.summed)(x) == pytest.approx(sum(m.M.w) + max(m.M.w))
    m.M.b = 1.25                        # (the object's values are read when it runs)
    assert symgrad.grad(m.weighted)(x) == pytest.approx(2 * x * (sum(m.M.w) + 1.25))
