"""Programs from the second survey of realistic code (2026-12-07) that symgrad got
wrong, crashed on or refused, for tests/test_survey2_regressions.py."""
import functools
import math
from collections import defaultdict, deque

import numpy as np

E = np.array([[1.0, 2.0], [0.3, 0.1], [0.5, -0.5]])


def shape_unpacked(X, w):
    n, d = X.shape
    s = 0.0
    for i in range(n):
        s = s + np.tanh(X[i] @ w) / n
    return s + np.sum(w ** 2) / d


def shape_unpacked_3d(X):
    B, T, D = X.shape
    Y = X.reshape(B * T, D)
    return np.sum(np.sin(Y) @ np.ones(D)) / (B * T)


def embedding_bag(E, w, idx):
    v = E[idx].mean(axis=0)
    return float(v @ w)


def gathered_rows(E, w, idx):
    return float(np.sum(np.tanh(E[idx] @ w)))


def generator_made_here(s):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal(3)
    return float(np.sum(s + s * Z))


def generator_with_kink(s):
    Z = np.random.default_rng(0).standard_normal(4)
    return float(np.mean(np.maximum(np.exp(s * Z) - 1.0, 0.0)))


def generator_passed_in(s, rng):
    Z = rng.normal(0.0, 1.0, size=3)
    return float(np.sum(s + s * Z))


ACTS = {"tanh": lambda z: math.tanh(z), "swish": lambda z: z / (1 + math.exp(-z))}


def activation_by_name(x, kind):
    return ACTS[kind](x)


def defaultdict_values(xs, keys):
    acc = defaultdict(float)
    for x, k in zip(xs, keys):
        acc[k] += math.exp(x)
    return math.log(sum(acc.values()))


def local_dict_of_lambdas(x, t):
    stages = {"scale": lambda v: v * (1 + t), "square": lambda v: v * v}
    out = x
    for fn in stages.values():
        out = fn(out)
    for name, fn in stages.items():
        out = out + (fn(x) if name == "square" else 0.0)
    return out + stages["scale"](t)


def reduce_tuple(xs):
    n, s = functools.reduce(lambda acc, x: (acc[0] + 1, acc[1] + x * x), xs, (0, 0.0))
    return s / n


def sliding_window(xs):
    window = deque(maxlen=2)
    total = 0.0
    for x in xs:
        window.append(x)
        total += sum(window) ** 2
    return total


def deque_both_ends(xs):
    d = deque(xs[:2], maxlen=3)
    total = 0.0
    for x in xs[2:]:
        d.appendleft(x * 2.0)
        total = d.popleft() * d[0]
        d.append(math.sin(x))
    return total + sum(v * v for v in d) + len(d)


def queue_drained(xs):
    q = deque()
    q.extend(xs)
    s = 0.0
    while q:
        v = q.popleft()
        s = s * 0.5 + v * v
    return s


def embedding_bag_docs(E, w, docs, labels):
    loss = 0.0
    for doc, y in zip(docs, labels):
        v = E[doc].mean(axis=0)
        z = float(v @ w)
        loss += math.log1p(math.exp(-z)) if y > 0.5 else math.log1p(math.exp(z))
    return loss


def lambdas_of_a_comprehension(x):
    fs = [lambda t, k=k: t * k for k in range(3)]
    late = [lambda t: t * k for k in (1.0, 2.0)]          # late binding: k is 2.0 in both
    return sum(g(x) for g in fs) + late[0](x) * late[1](x) + fs[2](math.sin(x))
