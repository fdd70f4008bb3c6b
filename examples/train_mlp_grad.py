"""Train a 3-4-4-1 tanh MLP written as plain Python functions over lists of weights.

The gradient comes from symgrad's generated code (``@grad``: loops, calls, lists,
tanh); the very same functions also run on ``symgrad.Value`` numbers (the runtime
engine), because they call ``symgrad.tanh``, which works on any kind of number.
Both runs start from the same weights and must produce the same loss at every step
(to 1e-9); the timings of the two show what source transformation buys.

    python examples/train_mlp_grad.py
"""
import random
import time

import symgrad
from symgrad import Value, value_and_grad

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def layer(W, b, x):
    """tanh(W x + b) for a weight matrix W (list of rows) and bias list b."""
    out = []
    for j in range(len(W)):
        a = b[j]
        for i in range(len(x)):
            a = a + W[j][i] * x[i]
        out.append(symgrad.tanh(a))
    return out


def mlp(W1, b1, W2, b2, W3, b3, x):
    h1 = layer(W1, b1, x)
    h2 = layer(W2, b2, h1)
    y = b3[0]
    for k in range(len(h2)):
        y = y + W3[0][k] * h2[k]
    return symgrad.tanh(y)


def loss(W1, b1, W2, b2, W3, b3, xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        d = mlp(W1, b1, W2, b2, W3, b3, x) - y
        total = total + d * d
    return total


PARAMS = ["W1", "b1", "W2", "b2", "W3", "b3"]


def init(seed=1):
    rng = random.Random(seed)

    def mat(n, m):
        return [[rng.uniform(-1, 1) for _ in range(m)] for _ in range(n)]
    return [mat(4, 3), [rng.uniform(-1, 1) for _ in range(4)], mat(4, 4),
            [rng.uniform(-1, 1) for _ in range(4)], mat(1, 4), [rng.uniform(-1, 1)]]


def step(p, g, lr):
    """p - lr * g for nested lists."""
    if isinstance(p, list):
        return [step(a, b, lr) for a, b in zip(p, g)]
    return p - lr * g


def train_symgrad(params, steps, lr):
    vg = value_and_grad(loss, wrt=PARAMS)
    losses = []
    for _ in range(steps):
        value, grads = vg(*params, XS, YS)
        losses.append(value)
        params = [step(p, g, lr) for p, g in zip(params, grads)]
    return losses


def to_values(p):
    return [to_values(v) for v in p] if isinstance(p, list) else Value(p)


def grads_of(p):
    return [grads_of(v) for v in p] if isinstance(p, list) else p.grad


def data_of(p):
    return [data_of(v) for v in p] if isinstance(p, list) else p.data


def train_value_engine(params, steps, lr):
    losses = []
    for _ in range(steps):
        vparams = [to_values(p) for p in params]
        out = loss(*vparams, XS, YS)
        out.backward()
        losses.append(out.data)
        params = [step(data_of(p), grads_of(p), lr) for p in vparams]
    return losses


def main(steps=100, lr=0.05):
    params = init()
    t0 = time.perf_counter()
    fast = train_symgrad(params, steps, lr)
    t1 = time.perf_counter()
    slow = train_value_engine(params, steps, lr)
    t2 = time.perf_counter()
    for k in range(0, steps, max(1, steps // 10)):
        print(f"step {k:4d}  loss symgrad {fast[k]:.12f}   Value engine {slow[k]:.12f}")
    print(f"step {steps - 1:4d}  loss symgrad {fast[-1]:.12f}   Value engine {slow[-1]:.12f}")
    worst = max(abs(a - b) for a, b in zip(fast, slow))
    print(f"largest loss difference between the engines over {steps} steps: {worst:.2e}")
    assert worst < 1e-9, "the engines disagree"
    print(f"time: symgrad generated code {t1 - t0:.3f} s, Value engine {t2 - t1:.3f} s "
          f"({(t2 - t1) / (t1 - t0):.1f}x slower)")
    return fast, slow


if __name__ == "__main__":
    main()
