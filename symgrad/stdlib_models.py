"""Standard-library functions symgrad differentiates by inlining a Python model of them.

``statistics.variance(xs)`` or ``math.dist(p, q)`` are compositions of operations that
already have rules, so rather than a derivative rule each, the lowering inlines the
model below in place of the call (``model_of``): the generated gradient then shows
the computation (``_m = sum(data) / n`` ...) and every mode (reverse, forward,
Hessians) works on it as on user code.  Each model computes what the library computes
(up to the last bits of rounding: ``statistics`` sums exactly) and raises the same
errors.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import itertools
import math
import operator
import random
import statistics
import sys
from typing import Any

__all__ = ["model_of"]


def _constant(fn: Any) -> Any:
    fn.__symgrad_constant__ = True       # piecewise constant: derivative 0
    return fn


@_constant
def _sign_of(y: float) -> float:
    return math.copysign(1.0, y)


@_constant
def _exponent_of(x: float) -> int:
    return math.frexp(x)[1]


# --------------------------------------------------------------------------- statistics

def variance(data, xbar=None):
    n = len(data)
    if n < 2:
        raise statistics.StatisticsError("variance requires at least two data points")
    m = sum(data) / n if xbar is None else xbar
    return sum((x - m) ** 2 for x in data) / (n - 1)


def pvariance(data, mu=None):
    n = len(data)
    if n < 1:
        raise statistics.StatisticsError("pvariance requires at least one data point")
    m = sum(data) / n if mu is None else mu
    return sum((x - m) ** 2 for x in data) / n


def stdev(data, xbar=None):
    return math.sqrt(variance(data, xbar))


def pstdev(data, mu=None):
    return math.sqrt(pvariance(data, mu))


def median(data):
    s = sorted(data)
    n = len(s)
    if n == 0:
        raise statistics.StatisticsError("no median for empty data")
    if n % 2 == 1:
        return s[n // 2]
    return (s[n // 2 - 1] + s[n // 2]) / 2


def median_low(data):
    s = sorted(data)
    n = len(s)
    if n == 0:
        raise statistics.StatisticsError("no median for empty data")
    return s[n // 2] if n % 2 == 1 else s[n // 2 - 1]


def median_high(data):
    s = sorted(data)
    if len(s) == 0:
        raise statistics.StatisticsError("no median for empty data")
    return s[len(s) // 2]


@_constant
def _library_geometric_mean(data):
    return statistics.geometric_mean(data)


def geometric_mean(data):
    if len(data) == 0 or any(x <= 0 for x in data):
        return _library_geometric_mean(data)    # (its error; Python 3.13: 0.0 for a zero)
    return math.exp(sum(math.log(x) for x in data) / len(data))


# --------------------------------------------------------------------------- math

def dist(p, q):
    if len(p) != len(q):
        raise ValueError("both points must have the same number of dimensions")
    return hypot(*[a - b for a, b in zip(p, q)])


def hypot(*coordinates):
    """The square root of the sum of squares, scaled by the largest coordinate where
    that sum would overflow or underflow (the library's does not): the same function
    on both sides, so the switch is no kink."""
    if len(coordinates) == 0:
        return 0.0
    if len(coordinates) == 1:
        return abs(coordinates[0])
    s = sum(c * c for c in coordinates)
    if not (s > 1e290 or s < 1e-290):
        return math.sqrt(s)
    m = max(abs(c) for c in coordinates)
    if m == 0.0 or m == math.inf:
        return m
    return m * math.sqrt(sum((c / m) * (c / m) for c in coordinates))


def sumprod(p, q):
    if len(p) != len(q):
        raise ValueError("Inputs are not the same length")
    return sum(a * b for a, b in zip(p, q))


def copysign(x, y):
    return abs(x) * _sign_of(y)


def ldexp(x, i):
    h = i // 2          # (two exact scalings: 2.0 ** i alone overflows past 1023)
    return x * 2.0 ** h * 2.0 ** (i - h)


def frexp(x):
    e = _exponent_of(x)
    h = -e // 2         # (of a subnormal x, 2.0 ** -e alone overflows)
    return x * 2.0 ** h * 2.0 ** (-e - h), e


# --------------------------------------------------------------------------- functools, itertools

def reduce(function, iterable, *initial):
    items = list(iterable)
    if len(initial) > 1:
        raise TypeError("reduce expected at most 3 arguments")
    if len(initial) == 1:               # (a tuple accumulator stays a tuple: no select)
        acc = initial[0]
        for k in range(len(items)):
            acc = function(acc, items[k])
        return acc
    if not items:
        raise TypeError("reduce() of empty iterable with no initial value")
    acc = items[0]
    for k in range(1, len(items)):
        acc = function(acc, items[k])
    return acc


def accumulate(iterable, func=None, *, initial=None):
    items = list(iterable)                 # (a list, where itertools gives an iterator)
    if initial is None and not items:
        return []
    acc = items[0] if initial is None else initial
    out = [acc]
    for k in range(1 if initial is None else 0, len(items)):
        acc = acc + items[k] if func is None else func(acc, items[k])
        out.append(acc)
    return out


def chain(*iterables):
    out = []                               # (a list, where itertools gives an iterator)
    for items in iterables:
        for v in items:
            out.append(v)
    return out


def pairwise(iterable):
    items = list(iterable)
    return [(items[k], items[k + 1]) for k in range(len(items) - 1)]


def islice(iterable, *bounds):
    if not 1 <= len(bounds) <= 3:
        raise TypeError("islice expected 2 to 4 arguments")
    items = list(iterable)
    if len(bounds) == 1:
        return items[:bounds[0]]
    if len(bounds) == 2:
        return items[bounds[0]:bounds[1]]
    return items[bounds[0]:bounds[1]:bounds[2]]


def product(*iterables, repeat=1):
    out = [()]
    for _ in range(repeat):
        for items in iterables:
            out = [prefix + (v,) for prefix in out for v in items]
    return out


def combinations(iterable, r):
    items = list(iterable)
    picks = [()]                           # (the positions picked: ints, made first)
    for _ in range(r):
        picks = [p + (k,) for p in picks for k in range(p[-1] + 1 if p else 0, len(items))]
    return [tuple(items[k] for k in p) for p in picks]


def combinations_with_replacement(iterable, r):
    items = list(iterable)
    picks = [()]
    for _ in range(r):
        picks = [p + (k,) for p in picks for k in range(p[-1] if p else 0, len(items))]
    return [tuple(items[k] for k in p) for p in picks]


def permutations(iterable, r=None):
    items = list(iterable)
    n = len(items)
    picks = [()]
    for _ in range(n if r is None else r):
        picks = [p + (k,) for p in picks for k in range(n) if k not in p]
    return [tuple(items[k] for k in p) for p in picks]


def compress(data, selectors):
    return [d for d, s in zip(data, selectors) if s]


def repeat(obj, times):
    return [obj for _ in range(times)]


def zip_longest(*iterables, fillvalue=None):
    lists = [list(it) for it in iterables]
    longest = max((len(items) for items in lists), default=0)
    return [tuple(items[k] if k < len(items) else fillvalue for items in lists)
            for k in range(longest)]


def zip_columns(rows):
    """``zip(*rows)``, for a list of rows known when the code runs (see lower_star)."""
    lists = [list(r) for r in rows]
    shortest = min((len(items) for items in lists), default=0)
    return [tuple(items[k] for items in lists) for k in range(shortest)]


def zip_column(rows, k):
    """Step ``k`` of ``zip(*rows)`` (a loop over it reads the rows as it steps: see
    lower_loop)."""
    return tuple(r[k] for r in rows)


# --------------------------------------------------------------------------- operator

def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b


def truediv(a, b):
    return a / b


def floordiv(a, b):
    return a // b


def mod(a, b):
    return a % b


def pow(a, b):  # noqa: A001 - operator.pow's name
    return a ** b


def neg(a):
    return -a


def pos(a):
    return +a


def abs_(a):
    return abs(a)


# --------------------------------------------------------------------------- heapq, bisect
# (a heap's order is the library's: a push moves the new item up past larger parents; a
# pop moves the hole at the root down along the smaller children to a leaf, puts the
# last item there and moves it up: the same comparisons, so the same list)

def _move_up(heap, start, pos):
    item = heap[pos]
    while pos > start:
        parent = (pos - 1) // 2
        if item < heap[parent]:
            heap[pos] = heap[parent]
            pos = parent
        else:
            break
    heap[pos] = item


def _move_down(heap, pos):
    end = len(heap)
    start = pos
    item = heap[pos]
    child = 2 * pos + 1
    while child < end:
        if child + 1 < end and not heap[child] < heap[child + 1]:
            child = child + 1
        heap[pos] = heap[child]
        pos = child
        child = 2 * pos + 1
    heap[pos] = item
    _move_up(heap, start, pos)


def heappush(heap, item):
    heap.append(item)
    _move_up(heap, 0, len(heap) - 1)


def heappop(heap):
    last = heap.pop()
    if len(heap) > 0:
        top = heap[0]
        heap[0] = last
        _move_down(heap, 0)
        return top
    return last


def heapify(x):
    for i in reversed(range(len(x) // 2)):
        _move_down(x, i)


def heapreplace(heap, item):
    top = heap[0]
    heap[0] = item
    _move_down(heap, 0)
    return top


def heappushpop(heap, item):
    if len(heap) > 0 and heap[0] < item:
        top = heap[0]
        heap[0] = item
        _move_down(heap, 0)
        return top
    return item


def nsmallest(n, iterable, key=None):
    return sorted(iterable, key=key)[:n]


def nlargest(n, iterable, key=None):
    return sorted(iterable, key=key, reverse=True)[:n]


def insort_right(a, x, lo=0, hi=None, *, key=None):
    end = len(a) if hi is None else hi
    a.insert(bisect.bisect_right(a, x if key is None else key(x), lo, end, key=key), x)


def insort_left(a, x, lo=0, hi=None, *, key=None):
    end = len(a) if hi is None else hi
    a.insert(bisect.bisect_left(a, x if key is None else key(x), lo, end, key=key), x)


# --------------------------------------------------------------------------- random
# A draw whose value moves with its arguments is the library's own arithmetic on a draw
# of the module's generator with fixed parameters (the reparametrization): the gradient
# flows to mu, sigma, a, b ..., and the generator moves as the library moves it (the
# same numbers as f, seed for seed: see tests/test_random_draws.py).  A draw of fixed
# parameters inside a model is the library's (see CallLowering.apply_object).

def uniform(a, b):
    return a + (b - a) * random.random()


def triangular(low=0.0, high=1.0, mode=None):
    u = random.random()
    if mode is None:
        c = 0.5
    elif high == low:               # (the library's ZeroDivisionError, caught)
        return low
    else:
        c = (mode - low) / (high - low)
    if u > c:
        u = 1.0 - u
        c = 1.0 - c
        low, high = high, low
    return low + (high - low) * math.sqrt(u * c)


def gauss(mu=0.0, sigma=1.0):
    return mu + random.gauss(0.0, 1.0) * sigma


def normalvariate(mu=0.0, sigma=1.0):
    return mu + random.normalvariate(0.0, 1.0) * sigma


def lognormvariate(mu, sigma):
    return math.exp(mu + random.normalvariate(0.0, 1.0) * sigma)


def expovariate(lambd=1.0):
    return -math.log(1.0 - random.random()) / lambd


def choice(seq):
    if not len(seq):
        raise IndexError("Cannot choose from an empty sequence")
    return seq[random.randrange(len(seq))]


if sys.version_info < (3, 11):          # (the library's parameters had no defaults)
    gauss.__defaults__ = normalvariate.__defaults__ = None
if sys.version_info < (3, 12):
    expovariate.__defaults__ = None


_MODELS: dict[Any, Any] = {
    statistics.variance: variance, statistics.pvariance: pvariance,
    statistics.stdev: stdev, statistics.pstdev: pstdev, statistics.median: median,
    statistics.median_low: median_low, statistics.median_high: median_high,
    statistics.geometric_mean: geometric_mean,
    math.dist: dist, math.copysign: copysign, math.ldexp: ldexp, math.frexp: frexp,
    operator.add: add, operator.sub: sub, operator.mul: mul, operator.truediv: truediv,
    operator.floordiv: floordiv, operator.mod: mod, operator.pow: pow, operator.neg: neg,
    operator.pos: pos, operator.abs: abs_,
    operator.__add__: add, operator.__sub__: sub, operator.__mul__: mul,
    operator.__truediv__: truediv, operator.__pow__: pow, operator.__neg__: neg,
    functools.reduce: reduce, itertools.accumulate: accumulate, itertools.chain: chain,
    itertools.pairwise: pairwise, itertools.islice: islice, itertools.product: product,
    itertools.combinations: combinations, itertools.permutations: permutations,
    itertools.combinations_with_replacement: combinations_with_replacement,
    itertools.compress: compress, itertools.repeat: repeat,
    itertools.zip_longest: zip_longest,
    heapq.heappush: heappush, heapq.heappop: heappop, heapq.heapify: heapify,
    heapq.heapreplace: heapreplace, heapq.heappushpop: heappushpop,
    heapq.nsmallest: nsmallest, heapq.nlargest: nlargest,
    bisect.insort_right: insort_right, bisect.insort_left: insort_left,
    random.uniform: uniform, random.triangular: triangular, random.gauss: gauss,
    random.normalvariate: normalvariate, random.lognormvariate: lognormvariate,
    random.expovariate: expovariate, random.choice: choice,
}
if hasattr(math, "sumprod"):
    _MODELS[math.sumprod] = sumprod


def model_of(obj: Any, n_args: int) -> Any:
    """The Python model inlined for a call of ``obj`` with ``n_args`` positional
    arguments, or None (``math.hypot`` of two numbers has its own rule)."""
    if obj is math.hypot:
        return hypot if n_args != 2 else None
    try:
        model = _MODELS.get(obj)
    except TypeError:                    # (an unhashable callable)
        return None
    module = (getattr(obj, "__module__", None) or "") if model is None else ""
    if module.startswith("numpy") and "numpy" in sys.modules:
        from .numpy_models import numpy_model_of
        return numpy_model_of(obj)
    if module.startswith("scipy.") and "scipy" in sys.modules:
        from .scipy_models import scipy_model_of
        return scipy_model_of(obj)
    return model
