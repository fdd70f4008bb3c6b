"""Programs of the fifth survey (classes and containers, numbers and builtins) that
symgrad got wrong, for tests/test_survey5_regressions.py (symgrad reads their source)."""
import math
from typing import NamedTuple

import numpy as np


# ---------------------------------------------------------------- any/all stop early
def first_negative(xs):
    """PEP 572's witness: ``w`` is the first item that decides ``any``."""
    if any((w := x) < 0 for x in xs):
        return w
    return 0.0


def first_not_positive(xs):
    if not all((w := x) > 0 for x in xs):
        return 3.0 * w
    return 0.0


def spend_until(costs):
    """``all`` stops at the item that crosses 1.0: the helper's later appends never
    happen."""
    spent = []

    def spend(c):
        spent.append(c)
        return sum(spent) < 1.0
    all(spend(c) for c in costs)
    return sum(spent)


def no_division_after_the_answer(xs):
    """Python never divides by the 0.0 after the item that decides."""
    if any(1.0 / x > 2.0 for x in xs):
        return xs[0] * xs[1]
    return xs[0]


def witness_of_nested_generators(rows):
    if any((w := a * b) > 1.0 for r in rows for a in r for b in r if a != b):
        return w
    return 0.0


def witness_with_a_condition(xs):
    if any((w := x * x) > 0.5 for x in xs if x > 0):
        return w
    return -1.0


# ---------------------------------------------------------------- walrus in a comprehension
def flag_set_by_a_comprehension(xs):
    """The comprehension's condition reads ``found``, which its own walrus rebinds: the
    value known before the comprehension (False) is not the one each item sees."""
    found = False
    w = 0.0
    kept = [(w := x) for x in xs if not found and not (found := x < 0)]
    return w + len(kept)


def running_total_in_a_comprehension(xs):
    total = 0.0
    parts = [(total := total + x) for x in xs if total < 1.0]
    return total * parts[-1]


# ---------------------------------------------------------------- containers inside containers
def layer_dicts(params):
    return np.sum(params["layers"][0]["W"] ** 2) + params["layers"][1]["b"] * 3.0


def layer_loop(params):
    s = 0.0
    for layer in params["layers"]:
        s = s + np.sum(layer["W"] ** 2)
    return s * params["c"]


class Dense(NamedTuple):
    W: np.ndarray
    b: float


def layer_records(params):
    x = np.array([1.0, -2.0])
    for layer in params["layers"]:
        x = np.tanh(layer.W @ x + layer.b)
    return float(np.sum(x)) * params["scale"]


def scalar_layer_dicts(p):
    return p["layers"][0]["w"][0] * p["layers"][0]["g"] + p["layers"][0]["w"][1] ** 3


def named_activation(p):
    """``("relu", 0.5)``: a name beside a number, inside a dict."""
    kind, slope = p["act"]
    z = np.sum(p["w"] * 2.0)
    return z * slope if kind == "relu" else math.tanh(z)


# ---------------------------------------------------------------- jacfwd of records
class Pair(NamedTuple):
    a: float
    b: float


def outputs_of_a_record(p, x):
    return [p.a * math.sin(x), p.b * x * x]


# ---------------------------------------------------------------- numpy models
def power_sum(A):
    """A state updated by ``@`` at the end of the body, its last value never read."""
    P = np.eye(2)
    s = 0.0
    for _ in range(3):
        s = s + np.sum(P)
        P = A @ P
    return s


def kalman_like(A, x0):
    x = x0
    P = np.eye(2)
    total = 0.0
    for _ in range(3):
        total = total + np.sum(x * x) + np.trace(P)
        x = A @ x
        P = A @ P @ A.T + 0.1 * np.eye(2)
    return total


def through_solve_and_cumsum(A, b):
    y = b
    s = 0.0
    for _ in range(2):
        s = s + np.sum(np.cumsum(y) ** 2)
        y = np.linalg.solve(A, y)
        y = np.einsum("i,i->i", y, b)
    return s


def dead_dict_item(W, X):
    d = {"W": W}
    s = np.sum(X @ d["W"])
    d["W"] = X.T @ d["W"]
    return s


def bias_in_a_branch(w, b, X, use_bias=False):
    z = X @ w
    if use_bias:
        z = z + b
    return np.mean(z ** 2)


def item_scaled_in_place(x):
    d = {"k": x * 2.0}
    d["k"] *= 3.0
    L = [x * 1.0, x]
    L[0] += 1.0
    return np.sum(d["k"] ** 2) + np.sum(L[0] * L[1])


def item_scaled_with_an_alias(x):
    a = x * 2.0
    d = {"k": a}
    d["k"] *= 3.0
    return np.sum(a)


def flat_read(M):
    return np.sum(M.flat[1:3] ** 2) + M.flat[0]


def flat_written(M):
    A = M * 1.0
    A.flat[0] = 5.0
    return np.sum(A * A)


def scaled_in_place(a, b):
    a *= 2.0
    return np.sum(a * b)


def list_beside_an_array(w, k):
    return np.sum((w - k) ** 2)


# ---------------------------------------------------------------- modes of modes
def sq_dist(mu, x):
    return np.sum((x - mu) ** 2)


def layer_energy(W, b, x):
    return np.sum(np.tanh(W @ x + b) ** 2)


def pairs_out(a):
    return [(a, a * a), (2.0 * a, a ** 3)]


def mixed_out(x, y):
    return [x * y, [y, [x]]]


def two_numbers(x, y):
    return x * x * y + math.sin(x * y)


def of_a_list(v):
    return v[0] ** 2 * v[1] + v[1] ** 3


# ---------------------------------------------------------------- numbers at their edges
def hypot3(x, y, z):
    return math.hypot(x, y, z)


def dist2(p, q):
    return math.dist(p, q)


def ldexp_frexp(x):
    m, e = math.frexp(x)
    return math.ldexp(m, e) * 2.0


def tiny_scale(x):
    return math.ldexp(x, -1080)


def geo_mean(xs):
    import statistics
    return statistics.geometric_mean(xs)


# ---------------------------------------------------------------- classes
class Scaled:
    def __init__(self, b):
        self.b = b

    def power(self, x):
        s = self.b                  # (s, a constant here, is differentiated in the loop)
        for _ in range(2):
            s = s * x
        return s

    def early(self, x):
        if x > 1.0:
            return self.b
        return x * x


class Inner:
    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return self.w * math.tanh(x)

    def square(self, x):
        return self.w * x * x


class Outer:
    def __init__(self, w):
        self.inner = Inner(w)

    def called(self, x):
        return self.inner(x) + math.sin(x)

    def method_of_it(self, x):
        return self.inner.square(x)


class Net:
    def __init__(self, ws):
        self.ws = ws

    def parameters(self):
        for w in self.ws:
            yield w


def l2_of_parameters(net):
    s = 0.0
    for p in net.parameters():
        s += p * p
    return s


class Affine(NamedTuple):
    w: float
    b: float

    def apply(self, x):
        return math.tanh(self.w * x + self.b)


def through_layers(layers, x):
    for layer in layers:
        x = layer.apply(x)
    return x


# ---------------------------------------------------------------- idioms
def argmax_by_enumerate(xs):
    i, m = max(enumerate(xs), key=lambda p: p[1])
    return m * i + xs[0]


def pairs_of_zip(a, b):
    pairs = list(zip(a, b))
    return sum(x * y for x, y in pairs) + pairs[0][1]


def best_by_itemgetter(pairs):
    from operator import itemgetter
    best = min(pairs, key=itemgetter(0))
    s = sorted(pairs, key=itemgetter(1), reverse=True)
    return best[0] * best[1] + s[0][0]


def dot_and_corner(xs, ys):
    return sum(a * b for a, b in zip(xs, ys)) + xs[0] * ys[1]


def assembled(k):
    """Finite-element assembly: a block written through ``np.ix_`` in a loop."""
    K = np.zeros((3, 3))
    for e in range(2):
        K[np.ix_([e, e + 1], [e, e + 1])] += k[e]
    return np.sum(K ** 2)
