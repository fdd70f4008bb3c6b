"""Logistic regression on a data set that is never in memory as one array: Dask.

The loss is plain numpy code.  ``symgrad.value_and_grad`` turns it into numpy code for
its value and gradient; called with Dask arrays, that same generated code builds a lazy
task graph (through dask's numpy protocols), and ``dask.compute`` runs it chunk by
chunk: each block of rows is made (here: drawn by ``dask.array.random`` from a seed;
in real use, read from a file), used for the loss and the gradient, and dropped.

    pip install -e ".[dask]"
    python examples/dask_gradient.py                       # local threads
    python examples/dask_gradient.py --address tcp://scheduler:8786   # a Dask cluster

With ``--address`` the computation runs on a ``dask.distributed`` cluster (needs
``pip install distributed``; not tested here).
"""
from __future__ import annotations

import argparse
import time

import dask
import dask.array as da
import numpy as np

import symgrad

FEATURES = 10


def loss(w, b, X, y):
    """Mean logistic loss (cross-entropy) of the labels y in {0, 1}."""
    z = X @ w + b
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def make_data(rows: int, chunk: int, seed: int = 0):
    """Features and labels as lazy dask arrays, made chunk by chunk from a seed."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, FEATURES), chunks=(chunk, FEATURES))
    w_true = np.linspace(-2.0, 2.0, FEATURES)
    noise = rng.logistic(size=rows, chunks=chunk)
    y = (X @ w_true + 0.5 + noise > 0).astype(float)
    return X, y


def main(rows: int = 400_000, chunk: int = 20_000, steps: int = 8, lr: float = 1.0,
         verbose: bool = True) -> tuple[list[float], object, np.ndarray, float]:
    """Gradient descent; returns the losses, the value_and_grad function and the final
    parameters."""
    X, y = make_data(rows, chunk)
    vg = symgrad.value_and_grad(loss, wrt=["w", "b"])
    w, b = np.zeros(FEATURES), 0.0
    losses = []
    if verbose:
        print(f"{rows:,} rows x {FEATURES} features in {X.numblocks[0]} chunks of {chunk:,} "
              f"rows ({X.nbytes / 1e6:.0f} MB, never in memory at once)")
    for step in range(steps):
        t0 = time.perf_counter()
        value, (dw, db) = vg(w, b, X, y)          # lazy: a task graph, nothing computed
        value, dw, db = dask.compute(value, dw, db)   # one pass over the chunks
        w, b = w - lr * dw, b - lr * float(db)
        losses.append(float(value))
        if verbose:
            print(f"step {step}: loss {value:.6f}  |grad| {np.linalg.norm(dw):.2e}  "
                  f"({time.perf_counter() - t0:.2f} s)")
    return losses, vg, w, b


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--chunk", type=int, default=20_000)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--address", help="a dask.distributed scheduler to run on")
    a = ap.parse_args()
    if a.address:
        from dask.distributed import Client
        client = Client(a.address)
        print(client)
    losses, vg, w, b = main(a.rows, a.chunk, a.steps)
    print("loss decreased at every step:", all(x > y for x, y in zip(losses, losses[1:])))
    print("w =", np.round(w, 2), " b =", round(b, 2))
    print()
    print("The generated gradient (the same code runs on numpy and dask arrays):")
    print(vg.source)
