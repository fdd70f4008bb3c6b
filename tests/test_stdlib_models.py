"""Standard-library functions differentiated through a Python model of each
(``symgrad/stdlib_models.py``): ``statistics`` (variance, stdev, median ...), ``math``
(dist, n-ary hypot, copysign, ldexp, frexp) and ``operator``.  Each gradient is checked
against central finite differences of the real library function, each value against
the library's, and each error against the library's own."""

import math
import operator
import statistics

import pytest

import symgrad

H = 1e-6


def fd_list(f, xs, h=H):
    out = []
    for k in range(len(xs)):
        up, dn = list(xs), list(xs)
        up[k] += h
        dn[k] -= h
        out.append((f(up) - f(dn)) / (2 * h))
    return out


def var_plus(xs):
    return statistics.variance(xs) + xs[0] * statistics.pstdev(xs)


def stdev_ratio(xs):
    return statistics.stdev(xs) / statistics.pvariance(xs)


def median_mix(xs):
    return statistics.median(xs) * statistics.median_low(xs) + statistics.median_high(xs)


def geometric(xs):
    return statistics.geometric_mean(xs) * xs[-1]


def variance_about(xs):
    m = statistics.fmean(xs)
    return statistics.variance(xs, m) + statistics.pvariance(xs, mu=m)


@pytest.mark.parametrize("f", [var_plus, stdev_ratio, median_mix, geometric, variance_about],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("xs", [[1.0, 3.0, 2.5], [0.5, 2.0, 1.25, 3.5], [2.0, 0.75]])
def test_statistics(f, xs):
    value, g = symgrad.value_and_grad(f)(list(xs))
    assert value == pytest.approx(f(list(xs)), rel=1e-12)
    assert g == pytest.approx(fd_list(f, xs), rel=1e-6, abs=1e-9)


def test_statistics_errors_are_the_librarys():
    g = symgrad.grad(var_plus)
    with pytest.raises(statistics.StatisticsError):
        var_plus([1.0])
    with pytest.raises(statistics.StatisticsError):
        g([1.0])
    with pytest.raises(statistics.StatisticsError):
        symgrad.grad(median_mix)([])


def geometry(x, y, z):
    return math.dist((x, y), (z, 1.0)) + math.hypot(x, y, z) + math.hypot(x) + \
        math.copysign(x * y, z - 0.5) + math.ldexp(x, 3) + math.frexp(y)[0] * x


def operators(x, y, z):
    return operator.mul(x, y) + operator.truediv(x, z) - operator.pow(y, 2) + \
        operator.neg(z) * operator.add(x, 1.0) + operator.sub(y, x) ** 2 + operator.abs(x - z)


@pytest.mark.parametrize("f", [geometry, operators], ids=lambda f: f.__name__)
@pytest.mark.parametrize("point", [(0.7, 1.3, 0.2), (-0.4, 2.5, 1.1)])
def test_math_and_operator(f, point):
    value, g = symgrad.value_and_grad(f, wrt=[0, 1, 2])(*point)
    assert value == pytest.approx(f(*point), rel=1e-12)
    want = []
    for i in range(3):
        up, dn = list(point), list(point)
        up[i] += H
        dn[i] -= H
        want.append((f(*up) - f(*dn)) / (2 * H))
    assert list(g) == pytest.approx(want, rel=1e-6, abs=1e-9)


def test_hessian_through_a_model():
    def f(a, b):
        return statistics.pvariance([a, b, a * b])
    h = symgrad.hessian(f, wrt=[0, 1])(0.7, 1.3)
    gf = symgrad.grad(f, wrt=[0, 1])
    for i in range(2):
        up = gf(*(v + H * (k == i) for k, v in enumerate((0.7, 1.3))))
        dn = gf(*(v - H * (k == i) for k, v in enumerate((0.7, 1.3))))
        for j in range(2):
            assert h[j][i] == pytest.approx((up[j] - dn[j]) / (2 * H), rel=1e-5)


def test_dist_of_unequal_lengths_is_the_librarys_error():
    def f(x):
        return math.dist((x, 1.0), (x,))
    with pytest.raises(ValueError):
        f(1.0)
    with pytest.raises(ValueError):
        symgrad.grad(f)(1.0)


# --- functools.reduce and itertools.accumulate (their function inlined: a lambda, an
# operator or a helper)
import functools  # noqa: E402
import itertools  # noqa: E402


def reduced(xs):
    return functools.reduce(lambda a, b: a * b + 0.5, xs) + functools.reduce(
        operator.add, [v * v for v in xs], 1.5)


def accumulated(xs):
    return sum(itertools.accumulate(xs)) + sum(itertools.accumulate(
        xs, lambda a, b: a * b, initial=2.0)) + list(itertools.accumulate(xs, max))[-1]


@pytest.mark.parametrize("f", [reduced, accumulated], ids=lambda f: f.__name__)
def test_reduce_and_accumulate(f):
    xs = [0.7, -1.3, 2.1, 0.4]
    value, g = symgrad.value_and_grad(f)(list(xs))
    assert value == pytest.approx(f(list(xs)), rel=1e-15)
    assert g == pytest.approx(fd_list(f, xs), rel=1e-6, abs=1e-8)
    assert symgrad.check(f, list(xs)).ok


def test_reduce_of_nothing_is_the_librarys_error():
    def empty(x):
        return functools.reduce(operator.add, [x][:0])
    with pytest.raises(TypeError, match="reduce\\(\\) of empty iterable with no initial"):
        empty(1.0)
    with pytest.raises(TypeError, match="reduce\\(\\) of empty iterable with no initial"):
        symgrad.grad(_reduce_empty)(1.0)


def _reduce_empty(x):
    return functools.reduce(operator.add, [x][:0]) * x


# --- itertools.chain, pairwise, islice, product, combinations, permutations, compress,
# repeat, zip_longest (lists where itertools gives iterators)
def chained(xs):
    return sum(itertools.chain(xs, [xs[0] * 2.0])) * xs[1] + max(itertools.chain([1.0], xs))


def paired(xs):
    return sum(a * b - a for a, b in itertools.pairwise(xs)) + len(list(itertools.pairwise(xs)))


def sliced(xs):
    return sum(itertools.islice(xs, 2)) * xs[-1] + sum(itertools.islice(xs, 1, None, 2)) + \
        sum(itertools.islice(xs, 1, 3))


def multiplied(xs):
    t = sum(a * b for a, b in itertools.product(xs[:2], [xs[3], 2.0]))
    t += sum(a - b * c for a, b, c in itertools.product(xs[1:3], repeat=3))
    for i, j in itertools.product(range(2), range(3)):
        t += xs[j] * xs[i] ** 2
    return t


def combined(xs):
    t = sum(a * b for a, b in itertools.combinations(xs, 2))
    for p, q, r in itertools.combinations([xs[0], xs[1] * xs[2], xs[3], 1.5], 3):
        t += p * q - r ** 2
    t += sum(a / (1.0 + b * b) for a, b in itertools.combinations_with_replacement(xs[:3], 2))
    return t + sum(a * b for a, b in itertools.combinations([xs[0]], 2))     # (none)


def permuted(xs):
    t = sum(a * b ** 2 - c for a, b, c in itertools.permutations(xs[:3]))
    return t + sum(a / (2.0 + b) for a, b in itertools.permutations((xs[3], xs[0], 0.5), 2))


def selected(xs):
    t = sum(itertools.compress(xs, [1, 0, 1, 1])) * xs[1]
    t += sum(a * b for a, b in zip(itertools.repeat(xs[2], 3), xs))
    return t + sum(a * b for a, b in itertools.zip_longest(xs, xs[:2], fillvalue=1.5))


@pytest.mark.parametrize("f", [chained, paired, sliced, multiplied, combined, permuted,
                               selected], ids=lambda f: f.__name__)
def test_itertools_models(f):
    xs = [0.7, -1.3, 2.1, 0.4]
    value, g = symgrad.value_and_grad(f)(list(xs))
    assert value == pytest.approx(f(list(xs)), rel=1e-14)
    assert g == pytest.approx(fd_list(f, xs), rel=1e-6, abs=1e-8)
    assert symgrad.check(f, list(xs)).ok
    v = [1.0, 0.5, -0.5, 0.25]              # hvp against differences of the gradient
    gf = symgrad.grad(f)
    up = gf([a + H * b for a, b in zip(xs, v)])
    dn = gf([a - H * b for a, b in zip(xs, v)])
    want = [(a - b) / (2 * H) for a, b in zip(up, dn)]
    assert symgrad.hvp(f, (list(xs),), (v,)) == pytest.approx(want, rel=1e-5, abs=1e-6)


def test_islice_with_too_many_bounds_is_the_librarys_error():
    def bad(x):
        return sum(itertools.islice([x, x], 0, 1, 1, 1))
    with pytest.raises(TypeError, match="islice"):
        bad(1.0)
    with pytest.raises(TypeError, match="islice"):
        symgrad.grad(_islice_bad)(1.0)


def _islice_bad(x):
    return sum(itertools.islice([x, x], 0, 1, 1, 1)) * x
