"""NumPy array programs (issue 13): symgrad against a hand-written numpy gradient, JAX,
PyTorch and autograd.

    python benchmarks/arrays.py             # full run (about a minute on 2 cores)
    python benchmarks/arrays.py --quick     # smoke run: tiny shapes, 3 repeats
    python benchmarks/arrays.py --lines     # also: time per line of the generated code

Two workloads, value and full gradient per call:

* ``mlp``: a two-layer MLP, ``tanh`` hidden layer, mean squared error; batch 256,
  input width 128, hidden width 128, one output; gradient in W1, b1, W2, b2.
* ``logreg``: logistic regression on 10^5 x 100 (mean of ``log1p(exp(z)) - y z``);
  gradient in w and b.

Engines (each runs the same function body; ``np`` is rebound to ``jax.numpy``,
``autograd.numpy`` or ``torch`` for the peers):

* ``hand-written numpy``: a careful value-and-gradient by hand (one forward sweep that
  keeps what the backward sweep needs, fused adjoints), the reference of the ratios;
* ``symgrad value_and_grad``: the call after the first (the array specialization is
  made on the first call);
* ``JAX jit(value_and_grad)``, ``PyTorch eager`` (``backward()`` on float64 tensors),
  ``autograd value_and_grad``; a missing library shows "not installed";
* ``plain f (value only)``.

``transform`` is symgrad's time from ``value_and_grad`` of a fresh function object to
its first result on arrays of the same ranks cut to 2 x 2 (so the time is the making
of the array specialization, not the arithmetic; best of 3), and JAX's first call
minus a steady call (trace and compile, for these shapes).  autograd and PyTorch
trace while they compute: no transform.  Per call is the median of ``--repeats``
interleaved repeats (``run.time_calls``, garbage collector off).

Every library runs on one thread (``--threads``, default 1: OpenBLAS / MKL / OpenMP
threads, XLA's CPU thread pool and ``torch.set_num_threads``), set before numpy is
imported.  On a 2-core machine, libraries whose idle worker threads spin after each
call slow down the next engine of an interleaved run (measured at default threads:
the MLP's symgrad / hand-written ratio read 4.3x interleaved with JAX and PyTorch,
1.15x from ``--lines`` in the same run), so per-call times measured the interference.

Before any timing the hand-written gradient is checked against symgrad's (relative
difference <= 1e-10) and against central finite differences along random directions,
and every peer's value and gradient against symgrad's (<= 1e-8, float64 throughout);
a mismatch raises ``AssertionError``.
"""

from __future__ import annotations

import os

THREADS = "1"
if __name__ == "__main__":          # before numpy is imported; not when imported by tests
    for _i, _arg in enumerate(__import__("sys").argv):
        if _arg.startswith("--threads"):
            THREADS = _arg.split("=", 1)[1] if "=" in _arg else __import__("sys").argv[_i + 1]
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = THREADS
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_cpu_multi_thread_eigen=" +
                               ("false" if THREADS == "1" else "true")).strip()

import argparse
import ast
import gc
import importlib
import importlib.metadata
import statistics
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from run import fmt_ratio, fmt_time, machine_lines, render, time_calls

import symgrad
from symgrad import helpers

TARGET = 1.2            # issue 13: symgrad within 1.2x of the hand-written numpy gradient
HAND_TOLERANCE = 1e-10  # hand-written against symgrad
PEER_TOLERANCE = 1e-8   # peers against symgrad (different summation orders)
OPTIONAL = ("jax", "torch", "autograd")


# =========================================================================== workloads

def mlp_loss(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - y) ** 2)


def mlp_hand(W1, b1, W2, b2, X, y):
    """Value and gradient of mlp_loss, by hand."""
    h = np.tanh(X @ W1 + b1)
    r = h @ W2 + b2 - y
    value = np.mean(r * r)
    d_out = r * (2.0 / r.size)
    d_a = np.outer(d_out, W2)
    d_a *= 1.0 - h * h
    return value, (X.T @ d_a, d_a.sum(axis=0), h.T @ d_out, d_out.sum())


def logreg_loss(w, b, X, y):
    z = X @ w + b
    return np.mean(np.log1p(np.exp(z)) - y * z)


def logreg_hand(w, b, X, y):
    """Value and gradient of logreg_loss, by hand."""
    z = X @ w + b
    e = np.exp(z)
    value = np.mean(np.log1p(e) - y * z)
    d_z = (e / (1.0 + e) - y) * (1.0 / z.size)
    return value, (X.T @ d_z, d_z.sum())


@dataclass
class Workload:
    name: str
    note: str
    fn: Callable
    hand: Callable
    params: tuple          # the differentiated arguments (leading)
    data: tuple            # the rest


def mlp_workload(batch: int, width: int, hidden: int, seed: int = 0) -> Workload:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, width))
    y = rng.normal(size=batch)
    W1 = rng.normal(size=(width, hidden)) / np.sqrt(width)
    b1 = 0.1 * rng.normal(size=hidden)
    W2 = rng.normal(size=hidden) / np.sqrt(hidden)
    return Workload("mlp", f"2-layer tanh MLP, batch {batch}, {width}-{hidden}-1, MSE",
                    mlp_loss, mlp_hand, (W1, b1, W2, 0.1), (X, y))


def logreg_workload(rows: int, features: int, seed: int = 1) -> Workload:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features))
    w_true = rng.normal(size=features) / np.sqrt(features)
    y = (X @ w_true + rng.logistic(size=rows) > 0).astype(float)
    w = 0.1 * rng.normal(size=features)
    return Workload("logreg", f"logistic regression, {rows:,} x {features}",
                    logreg_loss, logreg_hand, (w, 0.2), (X, y))


def wrt_names(fn: Callable, n: int) -> list[str]:
    return list(fn.__code__.co_varnames[:n])


# =========================================================================== checks

def flat(tree: Any) -> np.ndarray:
    """Every number of a value or a (nested) tuple of gradients, as one float vector."""
    if isinstance(tree, (tuple, list)):
        return np.concatenate([flat(t) for t in tree]) if tree else np.zeros(0)
    if hasattr(tree, "detach"):                 # torch
        tree = tree.detach().numpy()
    return np.asarray(tree, dtype=float).ravel()


def rel_diff(a: Any, b: Any) -> float:
    fa, fb = flat(a), flat(b)
    if fa.shape != fb.shape:
        return float("inf")
    scale = np.maximum(1.0, np.maximum(np.abs(fa), np.abs(fb)))
    return float(np.max(np.abs(fa - fb) / scale)) if fa.size else 0.0


def check_hand(w: Workload) -> str:
    """The hand-written value and gradient equal symgrad's and central differences along
    three random directions; returns a line for the report."""
    args = (*w.params, *w.data)
    value, grads = symgrad.value_and_grad(w.fn, wrt=wrt_names(w.fn, len(w.params)))(*args)
    h_value, h_grads = w.hand(*args)
    err = max(rel_diff(value, h_value), rel_diff(grads, h_grads), rel_diff(value, w.fn(*args)))
    if err > HAND_TOLERANCE:
        raise AssertionError(f"{w.name}: hand-written differs from symgrad by {err:.1e}")
    rng = np.random.default_rng(7)
    worst = 0.0
    for _ in range(3):
        v = [rng.normal(size=np.shape(p)) for p in w.params]
        step = 1e-6
        moved = [[p + s * step * d for p, d in zip(w.params, v)] for s in (1, -1)]
        fd = (w.fn(*moved[0], *w.data) - w.fn(*moved[1], *w.data)) / (2 * step)
        exact = sum(float(np.sum(g * d)) for g, d in zip(h_grads, v))
        worst = max(worst, abs(fd - exact) / max(1.0, abs(exact)))
    if worst > 1e-6:
        raise AssertionError(f"{w.name}: hand-written gradient differs from finite "
                             f"differences by {worst:.1e}")
    return (f"check {w.name}: hand-written = symgrad (max relative difference {err:.1e}); "
            f"= central differences along 3 random directions ({worst:.1e})")


# =========================================================================== engines

def rebind(fn: Callable, np_like: Any) -> Callable:
    """fn with its global ``np`` bound to another array library."""
    return types.FunctionType(fn.__code__, {**fn.__globals__, "np": np_like}, fn.__name__,
                              fn.__defaults__, fn.__closure__)


def fresh(fn: Callable) -> Callable:
    """A new function object with the same code (symgrad caches by function object)."""
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__,
                              fn.__closure__)


def import_optional() -> dict[str, Any]:
    libs: dict[str, Any] = {}
    for name in OPTIONAL:
        try:
            libs[name] = importlib.import_module(name)
        except ImportError:
            continue
    if "jax" in libs:
        jax = libs["jax"]
        jax.config.update("jax_enable_x64", True)
        jax.numpy.zeros(1).block_until_ready()          # start the backend before timing
    if "autograd" in libs:
        libs["anp"] = importlib.import_module("autograd.numpy")
    if "torch" in libs:
        libs["torch"].set_num_threads(int(THREADS))
    return libs


@dataclass
class Engine:
    title: str
    lib: str | None                       # the optional library it needs
    prepare: Callable[[Workload, dict], tuple[Callable, tuple]]
    transform: str = "-"                  # "first call": first call minus a steady call


def prep_hand(w: Workload, libs: dict) -> tuple[Callable, tuple]:
    return w.hand, (*w.params, *w.data)


def prep_symgrad(w: Workload, libs: dict) -> tuple[Callable, tuple]:
    f = fresh(w.fn)
    return symgrad.value_and_grad(f, wrt=wrt_names(f, len(w.params))), (*w.params, *w.data)


def prep_plain(w: Workload, libs: dict) -> tuple[Callable, tuple]:
    return w.fn, (*w.params, *w.data)


def prep_jax(w: Workload, libs: dict) -> tuple[Callable, tuple]:
    jax, jnp = libs["jax"], libs["jax"].numpy
    n = len(w.params)
    vg = jax.jit(jax.value_and_grad(rebind(w.fn, jnp), argnums=tuple(range(n))))

    def call(*args):
        return jax.block_until_ready(vg(*args))
    return call, tuple(jnp.asarray(a) for a in (*w.params, *w.data))


def prep_torch(w: Workload, libs: dict) -> tuple[Callable, tuple]:
    torch = libs["torch"]
    f = rebind(w.fn, torch)
    params = tuple(torch.tensor(p, dtype=torch.float64, requires_grad=True)
                   for p in w.params)
    data = tuple(torch.tensor(d, dtype=torch.float64) for d in w.data)

    def call(*args):
        for p in params:
            p.grad = None
        value = f(*args)
        value.backward()
        return value.detach(), tuple(p.grad for p in params)
    return call, (*params, *data)


def prep_autograd(w: Workload, libs: dict) -> tuple[Callable, tuple]:
    ag = libs["autograd"]
    f = rebind(w.fn, libs["anp"])
    n = len(w.params)
    vg = ag.value_and_grad(lambda ps, *data: f(*ps, *data))
    return (lambda *args: vg(args[:n], *args[n:])), (*w.params, *w.data)


ENGINES = [
    Engine("hand-written numpy", None, prep_hand),
    Engine("symgrad value_and_grad", None, prep_symgrad, "symgrad"),
    Engine("JAX jit(value_and_grad)", "jax", prep_jax, "first call"),
    Engine("PyTorch eager", "torch", prep_torch, "none (eager)"),
    Engine("autograd value_and_grad", "autograd", prep_autograd, "none (eager)"),
    Engine("plain f (value only)", None, prep_plain),
]


# =========================================================================== measuring

def first_call(prepare: Callable, w: Workload, libs: dict) -> tuple[float, Callable, tuple]:
    gc.collect()
    call, args = prepare(w, libs)
    t0 = time.perf_counter()
    call(*args)
    return time.perf_counter() - t0, call, args


def cut(a: Any) -> Any:
    """An array of the same rank, at most 2 long in every dimension."""
    return a[(slice(0, 2),) * a.ndim] if isinstance(a, np.ndarray) else a


def symgrad_transform(w: Workload, repeats: int = 3) -> float:
    """value_and_grad of a fresh function object to its first result on 2 x 2 arrays:
    the making of the array specialization (best of ``repeats``)."""
    small = [cut(v) for v in (*w.params, *w.data)]
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        f = fresh(w.fn)
        symgrad.value_and_grad(f, wrt=wrt_names(f, len(w.params)))(*small)
        best = min(best, time.perf_counter() - t0)
    return best


def measure(w: Workload, libs: dict, a: argparse.Namespace
            ) -> tuple[list[list[str]], dict[str, float], Callable]:
    """Prepare every engine, check it against symgrad, time the calls side by side."""
    cells: dict[str, tuple[Callable, tuple]] = {}
    firsts: dict[str, float] = {}
    for e in ENGINES:
        if e.lib is not None and e.lib not in libs:
            continue
        firsts[e.title], call, args = first_call(e.prepare, w, libs)
        cells[e.title] = (call, args)
    sym_call, sym_args = cells["symgrad value_and_grad"]
    ref = sym_call(*sym_args)
    for title, (call, args) in cells.items():
        if title.startswith("plain"):
            err = rel_diff(ref[0], call(*args))
        else:
            err = rel_diff(ref, call(*args))
        if err > PEER_TOLERANCE:
            raise AssertionError(f"{w.name}: {title} differs from symgrad by {err:.1e}")
    per_call = time_calls(cells, a.min_time, a.repeats, stat=statistics.median)
    base = per_call["hand-written numpy"]
    rows = []
    for e in ENGINES:
        if e.title not in cells:
            rows.append([e.title, "not installed", "-", "-"])
            continue
        t = per_call[e.title]
        transform = {"first call": lambda: fmt_time(max(0.0, firsts[e.title] - t)),
                     "symgrad": lambda: fmt_time(symgrad_transform(w))}.get(
                         e.transform, lambda: e.transform)()
        rows.append([e.title, transform, fmt_time(t),
                     "1 (reference)" if t == base else fmt_ratio(t / base)])
    ratios = {title: per_call[title] / base for title in per_call}
    return rows, ratios, sym_call


# ------------------------------------------------------- per line of the generated code

def line_times(source: str, args: tuple, repeats: int) -> list[tuple[float, str]]:
    """Median time of each statement of a generated function's body, run one after the
    other in one namespace (so each sees the values the earlier ones made)."""
    fn = ast.parse(source).body[0]
    assert isinstance(fn, ast.FunctionDef)
    names = [p.arg for p in fn.args.args]
    base = {"np": np, **dict(zip(names, (*args, 1.0)))}
    for helper in ("_unbroadcast", "_matmul_vjp_a", "_matmul_vjp_b"):
        if helper in source:
            exec(helpers.source_of(helper), base)
    stmts = [s for s in fn.body if not (isinstance(s, ast.Expr) and
                                        isinstance(s.value, ast.Constant))]
    stmts = [ast.fix_missing_locations(ast.Assign([ast.Name("_result", ast.Store())], s.value))
             if isinstance(s, ast.Return) else s for s in stmts]
    codes = [(compile(ast.Module([s], []), "<line>", "exec"), ast.unparse(s)) for s in stmts]
    times: list[list[float]] = [[] for _ in codes]
    for _ in range(repeats):
        ns = dict(base)
        for k, (code, _text) in enumerate(codes):
            t0 = time.perf_counter()
            exec(code, ns)
            times[k].append(time.perf_counter() - t0)
    return [(statistics.median(t), text) for t, (_c, text) in zip(times, codes)]


def print_lines(title: str, rows: list[tuple[float, str]]) -> None:
    total = sum(t for t, _ in rows)
    print(f"{title}: {fmt_time(total)} in {len(rows)} statements")
    for t, text in rows:
        first = text.splitlines()[0]
        print(f"  {fmt_time(t):>9}  {100 * t / total:4.0f}%  {first[:100]}")


def hand_source(fn: Callable) -> str:
    import inspect
    import textwrap
    return textwrap.dedent(inspect.getsource(fn))


# =========================================================================== main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: tiny shapes, 3 repeats of 1 ms")
    ap.add_argument("--repeats", type=int, help="timing repeats per cell (default 21)")
    ap.add_argument("--min-time", type=float, help="seconds per repeat (default 0.05)")
    ap.add_argument("--lines", action="store_true",
                    help="time each line of symgrad's generated code and of the hand-written "
                         "gradient")
    ap.add_argument("--markdown", action="store_true", help="print the tables as markdown too")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads of every library (read before numpy is imported; default 1)")
    a = ap.parse_args(argv)
    if a.repeats is None:
        a.repeats = 3 if a.quick else 21
    if a.min_time is None:
        a.min_time = 0.001 if a.quick else 0.05
    start = time.perf_counter()
    libs = import_optional()
    versions = {"numpy": np.__version__}
    versions.update({lib: importlib.metadata.version(lib) if lib in libs else "not installed"
                     for lib in OPTIONAL})
    print("symgrad on numpy array programs" + (" (--quick)" if a.quick else ""))
    for ln in machine_lines(versions):
        print("  " + ln)
    print(f"  per call: median of {a.repeats} interleaved repeats of >= "
          f"{a.min_time * 1e3:.3g} ms, gc off; {THREADS} thread(s) per library")
    print()
    if a.quick:
        workloads = [mlp_workload(16, 8, 8), logreg_workload(500, 10)]
    else:
        workloads = [mlp_workload(256, 128, 128), logreg_workload(100_000, 100)]
    checks, tables, targets, sources = [], [], [], []
    for w in workloads:
        checks.append(check_hand(w))
        rows, ratios, sym_call = measure(w, libs, a)
        tables.append((w, rows))
        q = ratios["symgrad value_and_grad"]
        verdict = "PASS" if q <= TARGET else "MISS"
        targets.append(f"{verdict} {w.name}: symgrad / hand-written numpy = {fmt_ratio(q)} "
                       f"(target <= {TARGET:g}x)")
        sources.append((w, sym_call))
    for c in checks:
        print(c)
    print("All engines agree with symgrad (relative difference <= "
          f"{PEER_TOLERANCE:.0e}, float64)")
    print()
    headers = ["engine", "transform", "per call", "/ hand-written"]
    for w, rows in tables:
        print(f"{w.name}: {w.note}; value and gradient per call")
        print(render(headers, rows))
        print()
    print("Targets (measured, not asserted):")
    for t in targets:
        print("  " + t)
    if a.lines:
        for w, sym_call in sources:
            args = (*w.params, *w.data)
            print()
            print(f"{w.name}: symgrad's generated code")
            print(sym_call.source)
            print_lines(f"{w.name}, symgrad generated, per statement",
                        line_times(sym_call.source, args, max(5, a.repeats)))
            print_lines(f"{w.name}, hand-written, per statement",
                        line_times(hand_source(w.hand), args, max(5, a.repeats)))
    if a.markdown:
        for w, rows in tables:
            print(f"\n{w.name}: {w.note}\n\n{render(headers, rows, md=True)}")
    print(f"\ntotal run time {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
