"""symgrad benchmark suite: one command, everything printed.

    python benchmarks/run.py            # full run (a few minutes on 2 cores)
    python benchmarks/run.py --quick    # about 20 s: fewer repeats, smaller transforms

Per call (value and full gradient), median of several repeats, in one process:
symgrad's generated code (``symgrad.value_and_grad(f)``), a hand-written fused
reverse-mode gradient, the plain function (value only), symgrad's ``Value``
engine, SymPy ``diff`` + ``lambdify(cse=True)``, PyTorch on 0-d float64 tensors
and JAX ``jit(value_and_grad)`` (the last two when installed).  Then the one-off
costs (symgrad: ``grad(f)`` to the first gradient; SymPy: diff + lambdify, run
in a subprocess under a time cap; JAX: trace + compile), the transform cost of
straight-line functions of 1,000 and 10,000 statements, PASS/MISS per target,
a markdown copy of the tables (``results.md``) and a bar chart of the ratios
(``results.png``, when matplotlib is installed) in ``--out-dir``.

Before any timing every engine's gradient is checked against symgrad's, and
symgrad's against central finite differences; a mismatch is printed and marks
the cell with ``!``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
if ROOT not in sys.path:
    sys.path.insert(1, ROOT)

import functions as F

import symgrad

ENGINES = ["symgrad", "hand", "plain", "value", "sympy", "torch", "jax"]
TITLES = {
    "symgrad": "symgrad generated",
    "hand": "hand-written",
    "plain": "plain f (value only)",
    "value": "Value engine",
    "sympy": "SymPy lambdify",
    "torch": "PyTorch",
    "jax": "JAX jit",
}


# =========================================================================== benchmarks

@dataclass
class Bench:
    name: str
    fn: Callable[..., Any]
    args: tuple
    hand: Callable[..., Any]
    wrt: list[str] | None = None          # None: every parameter
    note: str = ""
    wrt_idx: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        params = list(self.fn.__code__.co_varnames[:self.fn.__code__.co_argcount])
        self.params = params
        self.wrt_idx = list(range(len(params))) if self.wrt is None else \
            [params.index(w) for w in self.wrt]

    @property
    def n_inputs(self) -> int:
        return sum(len(F.flatten(self.args[i])) for i in self.wrt_idx)


def make_benches(tmpdir: str, names: list[str] | None = None) -> list[Bench]:
    n100 = F.write_generated(tmpdir, "gen_neuron100", F.neuron_straight_source(100))
    ch = F.write_generated(tmpdir, "gen_chain1000", F.chain_source(1000))
    x, w, b = F.neuron_args(100)
    benches = [
        Bench("neuron2", F.neuron2, F.NEURON2_ARGS, F.neuron2_vg,
              note="tanh(x1*w1 + x2*w2 + b), 5 inputs"),
        Bench("neuron100-straight", n100.neuron100, (*x, *w, b), n100.neuron100_vg,
              note="201 scalar parameters, one expression"),
        Bench("neuron100-loop", F.neuron_loop, (x, w, b), F.neuron_loop_vg,
              note="lists x, w of 100 and b; for i in range(len(x))"),
        Bench("chain1000", ch.chain1000, (F.CHAIN_X0,), ch.chain1000_vg,
              note="1,000 straight-line statements on one input"),
        Bench("mlp-2-8-8-1", F.mlp_loss, F.mlp_args(), F.mlp_loss_vg, wrt=list(F.MLP_WRT),
              note="105 weights, 4 points, loops over lists; data excluded via wrt="),
    ]
    if names:
        benches = [b for b in benches if b.name in names]
    return benches


# =========================================================================== engines

def _tree(value: Any, leaf: Callable[[Any], Any]) -> Any:
    if isinstance(value, (list, tuple)):
        return [_tree(v, leaf) for v in value]
    return leaf(value)


def _grads_tree(value: Any) -> Any:
    if isinstance(value, list):
        return [_grads_tree(v) for v in value]
    return value.grad


def prep_symgrad(b: Bench) -> Callable:
    return symgrad.value_and_grad(b.fn, wrt=b.wrt)


def prep_value(b: Bench) -> Callable:
    V = symgrad.Value
    shim = types.SimpleNamespace(
        exp=V.exp, log=V.log, sin=V.sin, cos=V.cos, tanh=V.tanh, sqrt=V.sqrt,
        asin=symgrad.asin, acos=symgrad.acos, atanh=symgrad.atanh)
    f = F.rebind(b.fn, shim)
    wrt = set(b.wrt_idx)
    idx = b.wrt_idx

    def value_vg(*args):
        vargs = [_tree(a, V) if i in wrt else a for i, a in enumerate(args)]
        out = f(*vargs)
        out.backward()
        return out.data, tuple(_grads_tree(vargs[i]) for i in idx)
    return value_vg


def prep_torch(b: Bench, torch: Any) -> tuple[Callable, tuple]:
    """Forward + ``torch.autograd.grad`` on 0-d float64 leaf tensors.  The leaves are
    created once, outside the timed call (as a training loop keeps its parameters)."""
    shim = types.SimpleNamespace(
        exp=torch.exp, log=torch.log, sin=torch.sin, cos=torch.cos, tanh=torch.tanh,
        sqrt=torch.sqrt, asin=torch.asin, acos=torch.acos, atanh=torch.atanh)
    f = F.rebind(b.fn, shim)
    leaves: list = []

    def leaf(v: float) -> Any:
        t = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        leaves.append(t)
        return t
    wrt = set(b.wrt_idx)
    targs = tuple(_tree(a, leaf) if i in wrt else a for i, a in enumerate(b.args))
    grad = torch.autograd.grad

    def torch_vg(*targs):
        out = f(*targs)
        return out, grad(out, leaves)
    return torch_vg, targs


def prep_jax(b: Bench, jax: Any) -> tuple[Callable, tuple]:
    """``jax.jit(jax.value_and_grad(f, argnums=wrt))`` with float64 enabled; the inputs
    are converted to device arrays once, outside the timed call."""
    jnp = jax.numpy
    shim = types.SimpleNamespace(
        exp=jnp.exp, log=jnp.log, sin=jnp.sin, cos=jnp.cos, tanh=jnp.tanh, sqrt=jnp.sqrt,
        asin=jnp.arcsin, acos=jnp.arccos, atanh=jnp.arctanh)
    f = F.rebind(b.fn, shim)
    jf = jax.jit(jax.value_and_grad(f, argnums=tuple(b.wrt_idx)))
    jargs = tuple(_tree(a, lambda v: jnp.asarray(v, dtype=jnp.float64)) for a in b.args)
    block = jax.block_until_ready

    def jax_vg(*jargs):
        return block(jf(*jargs))
    return jax_vg, jargs


# ---------------------------------------------------------------- SymPy (subprocess)

def sympy_symbols(b: Bench) -> tuple[list, list]:
    """(arguments with the wrt parameters replaced by symbols, the flat symbol list)."""
    import sympy
    syms: list = []

    def sym_tree(value: Any, name: str) -> Any:
        if isinstance(value, (list, tuple)):
            return [sym_tree(v, f"{name}_{k}") for k, v in enumerate(value)]
        s = sympy.Symbol(name, real=True)
        syms.append(s)
        return s
    wrt = set(b.wrt_idx)
    sargs = [sym_tree(a, b.params[i]) if i in wrt else a for i, a in enumerate(b.args)]
    return sargs, syms


def sympy_setup_child(name: str, out_path: str) -> None:
    """Runs in a subprocess: build the expression, diff it by every input and lambdify
    value and gradient together with cse=True; write the timing and the generated source."""
    import sympy
    shim = types.SimpleNamespace(
        exp=sympy.exp, log=sympy.log, sin=sympy.sin, cos=sympy.cos, tanh=sympy.tanh,
        sqrt=sympy.sqrt, asin=sympy.asin, acos=sympy.acos, atanh=sympy.atanh)
    sys.setrecursionlimit(100_000)
    with tempfile.TemporaryDirectory() as tmp:
        b = make_benches(tmp, [name])[0]
        f = F.rebind(b.fn, shim)
        sargs, syms = sympy_symbols(b)
        t0 = time.perf_counter()
        expr = f(*sargs)
        t1 = time.perf_counter()
        grads = [sympy.diff(expr, s) for s in syms]
        t2 = time.perf_counter()
        fn = sympy.lambdify(syms, [expr, *grads], modules="math", cse=True)
        t3 = time.perf_counter()
    import linecache
    source = "".join(linecache.getlines(fn.__code__.co_filename))
    with open(out_path, "w") as fh:
        json.dump({"build": t1 - t0, "diff": t2 - t1, "lambdify": t3 - t2,
                   "total": t3 - t0, "source": source, "name": fn.__name__}, fh)


def sympy_setup(b: Bench, cap: float) -> dict:
    """Run :func:`sympy_setup_child` in a subprocess with a timeout of ``cap`` seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "sympy.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--sympy-child", b.name, out]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=cap)
        except subprocess.TimeoutExpired:
            return {"status": "cap", "cap": cap, "wall": time.perf_counter() - t0}
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
            return {"status": "error", "error": tail[0][:200]}
        with open(out) as fh:
            res = json.load(fh)
    import sympy
    ns = dict(sympy.lambdify([], 0, modules="math").__globals__)
    code = compile(res["source"], f"<sympy-lambdify-{b.name}>", "exec")
    exec(code, ns)  # noqa: S102 - the source lambdify generated in the subprocess
    res["fn"] = ns[res["name"]]
    res["status"] = "ok"
    return res


# =========================================================================== timing

def _loop(fn: Callable, args: tuple, n: int) -> float:
    rng = range(n)
    t0 = time.perf_counter()
    for _ in rng:
        fn(*args)
    return time.perf_counter() - t0


def calibrate(fn: Callable, args: tuple, min_time: float) -> int:
    """Calls per repeat so that one repeat takes about ``min_time`` seconds."""
    fn(*args)                                       # warm up
    n, t = 1, _loop(fn, args, 1)
    while t < min_time / 4:
        n = max(2 * n, int(n * (min_time / 4) / max(t, 1e-9)))
        t = _loop(fn, args, n)
    return max(1, round(n * min_time / max(t, 1e-12)))


def time_calls(cells: dict[str, tuple[Callable, tuple]], min_time: float,
               repeats: int, stat: Callable[[list[float]], float] = statistics.median
               ) -> dict[str, float]:
    """Per cell: the median (or ``stat``) over ``repeats`` of the mean time per call.  The
    cells are timed round-robin (repeat 1 of every cell, then repeat 2, ...) so that a slow
    period of the machine hits every column alike; the garbage collector is off, as in
    timeit."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        ns = {k: calibrate(fn, args, min_time) for k, (fn, args) in cells.items()}
        times: dict[str, list[float]] = {k: [] for k in cells}
        for _ in range(repeats):
            for k, (fn, args) in cells.items():
                times[k].append(_loop(fn, args, ns[k]) / ns[k])
    finally:
        if enabled:
            gc.enable()
    return {k: stat(v) for k, v in times.items()}


def fresh(fn: Callable) -> Callable:
    """A new function object with the same code (symgrad caches by function object)."""
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__,
                              fn.__closure__)


def time_first_gradient(fn: Callable, args: tuple, wrt: Any, repeats: int,
                        budget: float) -> tuple[float, float, int]:
    """Median over repeats of the time from ``symgrad.grad(f)`` to its first gradient,
    each repeat on a fresh function object; stops early after ``budget`` seconds.
    Returns (wall-clock median, CPU-time-of-this-thread median, repeats): on a busy
    machine the CPU time shows what the wall clock would be without the other processes."""
    walls: list[float] = []
    cpus: list[float] = []
    start = time.perf_counter()
    for _ in range(repeats):
        g = fresh(fn)
        gc.collect()
        t0, c0 = time.perf_counter(), time.thread_time()
        symgrad.grad(g, wrt=wrt)(*args)
        c1, t1 = time.thread_time(), time.perf_counter()
        walls.append(t1 - t0)
        cpus.append(c1 - c0)
        if time.perf_counter() - start > budget:
            break
    return statistics.median(walls), statistics.median(cpus), len(walls)


# =========================================================================== checks

def max_rel_diff(a: Any, b: Any) -> float:
    fa, fb = [float(v) for v in F.flatten(a)], [float(v) for v in F.flatten(b)]
    if len(fa) != len(fb):
        return math.inf
    return max((abs(p - q) / max(1.0, abs(p), abs(q)) for p, q in zip(fa, fb)), default=0.0)


def finite_differences(b: Bench) -> list[float]:
    """Central differences of ``b.fn`` in every differentiated input, flat."""
    out = []
    for i in b.wrt_idx:
        flat = F.flatten(b.args[i])
        for k in range(len(flat)):
            h = 1e-6 * max(1.0, abs(flat[k]))
            vals = []
            for sign in (1, -1):
                moved = list(flat)
                moved[k] += sign * h
                a = list(b.args)
                a[i] = F.unflatten(moved, b.args[i]) if isinstance(b.args[i], (list, tuple)) \
                    else moved[0]
                vals.append(b.fn(*a))
            out.append((vals[0] - vals[1]) / (2 * h))
    return out


def engine_output(engine: str, res: Any) -> tuple[float, Any]:
    """(value, flat gradient) from an engine's return value."""
    if engine == "sympy":
        return float(res[0]), [float(v) for v in res[1:]]
    if engine == "torch":
        return float(res[0].detach()), [float(t) for t in res[1]]
    value, grads = res
    return float(value), [float(v) for v in F.flatten(grads)]


# =========================================================================== reporting

def fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return ""
    if r >= 100:
        return f"{r:.0f}x"
    if r >= 10:
        return f"{r:.1f}x"
    if r < 0.01:
        return f"{r:.1g}x"
    return f"{r:.2f}x"


def render(headers: list[str], rows: list[list[str]], md: bool = False) -> str:
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(headers)]
    if md:
        out = ["| " + " | ".join(headers) + " |",
               "|" + "|".join("---" if k == 0 else "---:" for k in range(len(headers))) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    line = "  ".join(h.ljust(widths[0]) if k == 0 else h.rjust(widths[k])
                     for k, h in enumerate(headers))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(c.ljust(widths[0]) if k == 0 else c.rjust(widths[k])
                             for k, c in enumerate(r)))
    return "\n".join(out)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_state() -> str:
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              check=False, capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "symgrad"],
                               check=False, capture_output=True, text=True, timeout=10).stdout.strip()
        return head + (" + uncommitted changes in symgrad/" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_lines(versions: dict[str, str]) -> list[str]:
    return [
        f"machine: {platform.platform()}; CPU: {cpu_model()} ({os.cpu_count()} logical cores)",
        f"python: {platform.python_implementation()} {platform.python_version()}; "
        + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"symgrad: {symgrad.__version__} at git {git_state()}",
        (f"date: {datetime.datetime.now().isoformat(timespec='seconds')}; load average at "
         f"start {_load()} (other processes on the machine add noise)"),
    ]


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def sample_profile(work: Callable[[], Any], reps: int = 1, top: int = 16,
                   interval: float = 0.001) -> str:
    """A statistical profile of ``reps`` calls of ``work``: a thread samples this thread's
    stack every ``interval`` seconds (no per-call instrumentation, so unlike cProfile it
    does not inflate small functions).  Returns the functions most often on the stack
    (inclusive share) and most often on top of it (own share)."""
    import collections
    target = threading.get_ident()
    incl: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    count = [0]
    done = threading.Event()
    here = os.path.abspath(__file__)

    def label(code: Any) -> str:
        fn = code.co_filename
        short = os.path.relpath(fn, ROOT) if fn.startswith(ROOT) else os.path.basename(fn)
        return f"{short}:{code.co_firstlineno}({code.co_name})"

    def sampler() -> None:
        while not done.wait(interval):
            frame = sys._current_frames().get(target)
            seen, first = set(), True
            while frame is not None:
                if frame.f_code.co_filename != here:
                    lab = label(frame.f_code)
                    if first:
                        own[lab] += 1
                        first = False
                    if lab not in seen:
                        incl[lab] += 1
                        seen.add(lab)
                frame = frame.f_back
            count[0] += 1
    old = sys.getswitchinterval()
    sys.setswitchinterval(interval / 5)
    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    t0 = time.perf_counter()
    try:
        for _ in range(reps):
            work()
    finally:
        elapsed = time.perf_counter() - t0
        done.set()
        th.join()
        sys.setswitchinterval(old)
    n = max(1, count[0])
    lines = [(f"    {n} samples over {reps} run(s), {elapsed / reps * 1e3:.0f} ms per run "
              "while sampled; share of samples with the function on the stack | on top of it:")]
    skip = ("api.py", "_cached", "(grad)", "(<lambda>)")

    def interesting(k: str) -> bool:     # the ast module's own visitor frames are noise
        if k.startswith("ast.py:") and not k.endswith(("(unparse)", "(parse)")):
            return False
        return not any(x in k for x in skip)
    shown = [(k, v) for k, v in incl.most_common() if interesting(k)][:top]
    for k, v in shown:
        lines.append(f"    {100 * v / n:5.1f}% | {100 * own[k] / n:5.1f}%  {k}")
    lines.append("    top own time: " + ", ".join(
        f"{k.split(':')[0]}:{k.split('(')[-1][:-1]} {100 * v / n:.1f}%"
        for k, v in own.most_common(6)))
    return "\n".join(lines)


def plot(results: dict, benches: list[Bench], engines: list[str], path: str,
         machine: str, capped: dict[str, float]) -> str:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed (pip install matplotlib): no chart written"
    others = [e for e in engines if e != "symgrad"]
    fig, ax = plt.subplots(figsize=(11, 5.2))
    width = 0.8 / max(1, len(others))
    colors = plt.get_cmap("tab10")
    for k, e in enumerate(others):
        xs, ys = [], []
        for j, b in enumerate(benches):
            r = results[b.name].get(e)
            base = results[b.name].get("symgrad")
            if r is not None and base:
                xs.append(j + (k - (len(others) - 1) / 2) * width)
                ys.append(r / base)
        ax.bar(xs, ys, width, label=TITLES[e], color=colors(k + 1))
        for x, y in zip(xs, ys):
            ax.text(x, y * 1.08, fmt_ratio(y), ha="center", va="bottom", fontsize=6.5,
                    rotation=90)
        if e == "sympy":        # set-up did not finish under the cap: say so where the bar is
            for j, b in enumerate(benches):
                if results[b.name].get(e) is None and b.name in capped:
                    ax.text(j + (k - (len(others) - 1) / 2) * width, 0.12,
                            f"SymPy set-up > {capped[b.name]:.3g} s", rotation=90,
                            ha="center", va="bottom", fontsize=6.5, color=colors(k + 1),
                            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    ax.axhline(1.0, color="black", lw=1)
    ax.text(-0.45, 1.05, "symgrad generated = 1", ha="left", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(benches)))
    ax.set_xticklabels([b.name for b in benches])
    ax.set_ylabel("time per call / symgrad generated (log scale)")
    ax.set_title("value and gradient per call, relative to symgrad's generated code "
                 "(lower is faster)", fontsize=10)
    ax.legend(fontsize=8, ncol=3, loc="upper left")
    ymax = max([p.get_height() for p in ax.patches] + [10])
    ax.set_ylim(0.1, ymax * 20)
    fig.text(0.01, 0.01, machine, fontsize=7, color="gray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return f"chart written to {path}"


# =========================================================================== main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer repeats, shorter timings, 300/3000-statement transforms")
    ap.add_argument("--repeats", type=int,
                    help="timing repeats per cell, interleaved (default 41, quick 9)")
    ap.add_argument("--min-time", type=float,
                    help="seconds per timing repeat (default 0.002: short repeats keep the "
                         "median clear of time-slicing on a busy machine)")
    ap.add_argument("--sympy-cap", type=float,
                    help="seconds allowed per SymPy setup subprocess (default 45, quick 3)")
    ap.add_argument("--transform-sizes", default=None,
                    help="statements of the straight-line transform test (default 1000,10000; "
                         "quick 100,1000)")
    ap.add_argument("--transform-repeats", type=int, help="default 5, quick 1")
    ap.add_argument("--skip", default="", help="comma list of engines to leave out: "
                    "value,sympy,torch,jax")
    ap.add_argument("--only", default="", help="comma list of benchmark names")
    ap.add_argument("--out-dir", default=HERE, help="where results.md / results.png go")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--profile", action="store_true",
                    help="print sampling profiles of the transforms (a full run prints "
                         "them anyway when a transform target is missed)")
    ap.add_argument("--show-source", metavar="NAME", help="print symgrad's generated source "
                    "of benchmark NAME and exit")
    ap.add_argument("--sympy-child", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.sympy_child:
        sympy_setup_child(*a.sympy_child)
        return 0

    quick = a.quick
    repeats = a.repeats or (9 if quick else 41)
    min_time = a.min_time or 0.002
    sizes = [int(s) for s in (a.transform_sizes or ("100,1000" if quick else "1000,10000"))
             .split(",") if s]
    t_repeats = a.transform_repeats or (1 if quick else 5)
    sympy_cap = a.sympy_cap or (3.0 if quick else 45.0)
    skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    run_start = time.perf_counter()
    tmpdir = tempfile.mkdtemp(prefix="symgrad-bench-")
    benches = make_benches(tmpdir, [s for s in a.only.split(",") if s] or None)

    if a.show_source:
        b = next(b for b in benches if b.name == a.show_source)
        print(symgrad.value_and_grad(b.fn, wrt=b.wrt).source)
        return 0

    # ------------------------------------------------------------------ transform costs
    # Measured first, in a process that has imported nothing but symgrad: torch, JAX and
    # SymPy make every garbage collection slower (JAX even installs a gc callback), which
    # is not symgrad's cost.
    t_budget = 20.0 if not quick else 4.0
    first: dict[str, tuple[float, int]] = {
        b.name: time_first_gradient(b.fn, b.args, b.wrt, t_repeats, t_budget) for b in benches}
    scaling: dict[int, tuple[float, int, int, float]] = {}
    line_fns: dict[int, Callable] = {}
    for n in sizes:
        mod = F.write_generated(tmpdir, f"gen_line{n}", F.chain_source(n, f"line{n}",
                                                                       with_vg=False))
        line_fns[n] = fn = getattr(mod, f"line{n}")
        reps = t_repeats if n <= 2000 else max(1, min(t_repeats, 3))
        t, cpu, n_done = time_first_gradient(fn, (F.CHAIN_X0,), None, reps,
                                             40.0 if not quick else 10.0)
        scaling[n] = (t, n_done, len(symgrad.grad(fn).source.splitlines()), cpu)
    missed_transform = (  # judged on the wall clock, like the targets
        (10000 in scaling and scaling[10000][3] > 1.0)
        or (1000 in scaling and 10000 in scaling
            and scaling[10000][0] / scaling[1000][0] >= 15)
        or any(first[n][0] >= 0.010 for n in ("neuron100-straight", "neuron100-loop")
               if n in first))
    profiles: list[str] = []
    if a.profile or (missed_transform and not quick):
        n = sizes[-1]
        profiles += [(f"Profile (sampling): grad(f) to first gradient of the {n}-statement "
                      "function"),
                     sample_profile(lambda: symgrad.grad(fresh(line_fns[n]))(F.CHAIN_X0)), ""]
        for b in benches:
            if b.name == "neuron100-straight":
                profiles += ["Profile (sampling): grad(f) to first gradient of "
                             + b.name,
                             sample_profile(lambda b=b: symgrad.grad(fresh(b.fn))(*b.args),
                                            reps=40), ""]

    # ------------------------------------------------------------------ optional engines
    notes: list[str] = []
    versions = {}
    import sympy
    versions["sympy"] = sympy.__version__
    torch = jax = None
    if "torch" not in skip:
        try:
            import torch  # type: ignore[no-redef]
            torch.set_num_threads(1)   # 0-d tensors: no intra-op parallelism to gain
            versions["torch"] = torch.__version__
        except ImportError:
            notes.append("PyTorch not installed (pip install torch==2.13.0): column skipped")
    else:
        notes.append("PyTorch skipped (--skip)")
    if "jax" not in skip:
        try:
            import jax  # type: ignore[no-redef]
            jax.config.update("jax_enable_x64", True)
            versions["jax"] = jax.__version__
        except ImportError:
            notes.append("JAX not installed (pip install jax jaxlib): column skipped")
    else:
        notes.append("JAX skipped (--skip)")
    if "sympy" in skip:
        notes.append("SymPy skipped (--skip)")
    if "value" in skip:
        notes.append("Value engine skipped (--skip)")
    engines = [e for e in ENGINES if e not in skip and not (e == "torch" and torch is None)
               and not (e == "jax" and jax is None)]

    machine = machine_lines(versions)
    print("symgrad benchmarks" + (" (--quick)" if quick else ""))
    for ln in machine:
        print("  " + ln)
    print(f"  timing: median of {repeats} repeats of >= {min_time * 1e3:.3g} ms each, the "
          "columns interleaved repeat by repeat, gc off; time per call of value AND full "
          "gradient")
    for n in notes:
        print("  note: " + n)
    print()

    # ------------------------------------------------------------------ set-up and checks
    print("Correctness checks (max relative difference to symgrad's value and gradient; "
          "symgrad vs central finite differences):")
    calls: dict[str, dict[str, tuple[Callable, tuple]]] = {}
    setup: dict[str, dict[str, Any]] = {b.name: {} for b in benches}
    flags: dict[str, dict[str, str]] = {b.name: {} for b in benches}
    # The SymPy set-ups run in subprocesses, one at a time, each under the cap, while this
    # process prepares the other engines (JAX compiles); nothing is timed per call until
    # they are done.
    def run_sympy() -> None:
        for b in benches:
            setup[b.name]["sympy"] = res = sympy_setup(b, sympy_cap)
            if res["status"] == "ok":
                flat = [float(v) for i in b.wrt_idx for v in F.flatten(b.args[i])]
                res["call"] = (res["fn"], tuple(flat))
    sympy_thread = threading.Thread(target=run_sympy, daemon=True)
    if "sympy" in engines:
        sympy_thread.start()
    for b in benches:
        c: dict[str, tuple[Callable, tuple]] = {}
        c["symgrad"] = (prep_symgrad(b), b.args)
        c["hand"] = (b.hand, b.args)
        c["plain"] = (b.fn, b.args)
        if "value" in engines:
            c["value"] = (prep_value(b), b.args)
        if "torch" in engines:
            c["torch"] = prep_torch(b, torch)
        if "jax" in engines:
            jfn, jargs = prep_jax(b, jax)
            t0 = time.perf_counter()
            jfn(*jargs)
            setup[b.name]["jax"] = time.perf_counter() - t0
            c["jax"] = (jfn, jargs)
        calls[b.name] = c
    if "sympy" in engines:
        sympy_thread.join()
    for b in benches:
        c = calls[b.name]
        sg = c["symgrad"][0]
        if "call" in setup[b.name].get("sympy", {}):
            c["sympy"] = setup[b.name]["sympy"]["call"]
        value, grads = sg(*b.args)
        ref_flat = [float(v) for v in F.flatten(grads)]
        fd = finite_differences(b)
        fd_err = max((abs(p - q) / (1e-3 + abs(p)) for p, q in zip(ref_flat, fd)), default=0)
        parts = [f"fd {fd_err:.1e}"]
        fd_ok = fd_err < 1e-5
        if not fd_ok:
            flags[b.name]["symgrad"] = "!"
        for e, (fn, args) in c.items():
            if e in ("symgrad", "plain"):
                continue
            v, g = engine_output(e, fn(*args))
            err = max(max_rel_diff([value], [v]), max_rel_diff(ref_flat, g))
            parts.append(f"{e} {err:.1e}")
            if err > 1e-8:
                flags[b.name][e] = "!"
        plain_err = abs(b.fn(*b.args) - value) / max(1.0, abs(value))
        if plain_err > 1e-12:
            flags[b.name]["plain"] = "!"
        parts.append(f"plain value {plain_err:.0e}")
        ok = fd_ok and not flags[b.name]
        print(f"  check {b.name:<19} {'ok  ' if ok else 'FAIL'}  " + ", ".join(parts))
    print()

    # ------------------------------------------------------------------ per-call timings
    results: dict[str, dict[str, float]] = {b.name: {} for b in benches}
    fast: dict[str, float] = {}
    for b in benches:
        cells = dict(calls[b.name])
        cells["fast"] = (calls[b.name]["symgrad"][0].fast, b.args)
        timed = time_calls(cells, min_time, repeats)
        fast[b.name] = timed.pop("fast")
        results[b.name] = timed

    headers = ["function (inputs)"] + [TITLES[e] for e in engines]
    rows, md_rows = [], []
    for b in benches:
        r = results[b.name]
        base = r["symgrad"]
        row = [f"{b.name} ({b.n_inputs})"]
        for e in engines:
            if e in r:
                cell = fmt_time(r[e]) + flags[b.name].get(e, "")
                if e != "symgrad":
                    cell += f" ({fmt_ratio(r[e] / base)})"
            elif e == "sympy":
                s = setup[b.name].get("sympy", {})
                cell = f"> cap ({s.get('cap', 0):.3g} s)" if s.get("status") == "cap" \
                    else "error"
            else:
                cell = "-"
            row.append(cell)
        rows.append(row)
        md_rows.append(row)
    table = render(headers, rows)
    print("Per call: value and full gradient (plain f: value only); in parentheses the "
          "ratio to symgrad generated (>1: slower than symgrad)")
    print(table)
    explain = [
        "symgrad generated = symgrad.value_and_grad(f)(*args), through GradFunction.__call__;",
        ("hand-written = the *_vg functions of benchmarks/functions.py; Value engine = fresh "
         "symgrad.Value leaves, forward, backward();"),
        ("SymPy = lambdify(modules='math', cse=True) of [value, *gradient], called on the flat "
         "differentiated inputs (MLP data folded in as constants);"),
        ("PyTorch = forward + torch.autograd.grad on 0-d float64 leaves made once (1 thread); "
         "JAX = jit(value_and_grad) on float64 device arrays made once;"),
        "'!' marks a cell whose result disagreed with symgrad's (see the checks above).",
    ]
    print()
    for ln in explain:
        print("  " + ln)
    print()

    # ------------------------------------------------------------------ one-off costs
    print("One-off costs per function: symgrad grad(f) to the first gradient (fresh function "
          f"object, median of up to {t_repeats}, measured before torch/JAX/SymPy were "
          "imported), SymPy build + diff + lambdify (measured "
          f"inside a subprocess killed after {sympy_cap:.3g} s, start-up included; run while "
          "this process compiled JAX), JAX trace + compile + first call")
    srows = []
    for b in benches:
        t_first, cpu_first, n_done = first[b.name]
        s = setup[b.name].get("sympy")
        if s is None:
            scell = "-"
        elif s["status"] == "ok":
            scell = (f"{fmt_time(s['total'])} (build {fmt_time(s['build'])}, diff "
                     f"{fmt_time(s['diff'])}, lambdify {fmt_time(s['lambdify'])})")
        elif s["status"] == "cap":
            scell = f"> {s['cap']:.3g} s (cap: not finished)"
        else:
            scell = "error: " + s["error"]
        jcell = fmt_time(setup[b.name].get("jax")) if "jax" in setup[b.name] else "-"
        srows.append([b.name, fmt_time(t_first) + (f" (n={n_done})" if n_done < t_repeats
                                                   else ""), fmt_time(cpu_first), scell, jcell])
    sheaders = ["function", "symgrad grad(f) -> first gradient", "(CPU time)", "SymPy setup",
                "JAX compile"]
    stable = render(sheaders, srows)
    print(stable)
    print()

    # ------------------------------------------------------------------ transform scaling
    print("Transform cost of straight-line functions (the chain generator, n statements): "
          "grad(f) to first gradient")
    trows = []
    for n in sizes:
        t, n_done, src_lines, cpu = scaling[n]
        trows.append([f"{n} statements", fmt_time(t), fmt_time(cpu), f"{n_done}",
                      f"{t / n * 1e6:.0f} µs", f"{src_lines}"])
    theaders = ["function", "grad(f) -> first gradient", "(CPU time)", "repeats",
                "per statement", "generated lines"]
    ttable = render(theaders, trows)
    print(ttable)
    ratio_line = ""
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        ratio = scaling[hi][0] / scaling[lo][0]
        ratio_line = (f"{hi}/{lo} statements time ratio: {ratio:.1f} "
                      f"(CPU time {scaling[hi][3] / scaling[lo][3]:.1f}; linear would be "
                      f"{hi / lo:.0f})")
        print("  " + ratio_line)
    print()

    # ------------------------------------------------------------------ diagnostics
    print("Wrapper overhead: GradFunction.__call__ vs the raw generated function (.fast)")
    wrows = []
    for b in benches:
        full, raw = results[b.name]["symgrad"], fast[b.name]
        wrows.append([b.name, fmt_time(full), fmt_time(raw), f"{(full - raw) * 1e9:.0f} ns",
                      f"{(full - raw) / full * 100:.0f}%",
                      fmt_ratio(raw / results[b.name]["hand"])])
    wheaders = ["function", "value_and_grad(f)", ".fast", "wrapper cost", "share",
                ".fast / hand-written"]
    print(render(wheaders, wrows))
    print()

    # ------------------------------------------------------------------ targets
    targets: list[str] = []

    def target(ok: bool | None, text: str) -> None:
        tag = "SKIP" if ok is None else ("PASS" if ok else "MISS")
        targets.append(f"{tag}  {text}")

    for name in ("neuron100-straight", "neuron100-loop"):
        if name not in results:
            continue
        r = results[name]
        q = r["symgrad"] / r["hand"]
        target(q <= 1.1, f"{name}: value_and_grad (default call) / hand-written = {q:.2f}x "
               "(target <= 1.1x)")
    if "chain1000" in results:
        r = results["chain1000"]
        q = r["symgrad"] / r["hand"]
        target(q <= 1.2, f"chain1000: symgrad / hand-written = {q:.2f}x (target <= 1.2x)")
    for name in ("neuron100-straight", "neuron100-loop"):
        if name not in results:
            continue
        r = results[name]
        q = r["symgrad"] / r["plain"]
        target(q <= 3.5, f"{name}: value-and-gradient / plain function = {q:.2f}x "
               "(target <= ~3.5x)")
    for b in benches:
        r = results[b.name]
        if "value" in r:
            q = r["value"] / r["symgrad"]
            target(q >= 30, f"{b.name}: Value engine / symgrad = {q:.1f}x (target >= 30x)")
    for b in benches:
        r = results[b.name]
        if "torch" in r:
            q = r["torch"] / r["symgrad"]
            target(q >= 100, f"{b.name}: PyTorch / symgrad = {q:.0f}x (target >= 100x)")
    if "torch" not in engines:
        target(None, "PyTorch / symgrad >= 100x: PyTorch not measured")
    if 10000 in scaling:
        target(scaling[10000][3] <= 1.0, f"10,000 statements transformed (grad(f) to first "
               f"gradient) in {scaling[10000][0]:.2f} s (CPU time {scaling[10000][3]:.2f} s; "
               "target <= 1 s of CPU)")
    else:
        target(None, f"10,000-statement transform <= 1 s: not measured (sizes {sizes}; run "
               "without --quick)")
    if 1000 in scaling and 10000 in scaling:
        q = scaling[10000][0] / scaling[1000][0]
        target(q < 15, f"transform 10k/1k statements time ratio = {q:.1f} (CPU time "
               f"{scaling[10000][3] / scaling[1000][3]:.1f}; target < 15)")
    elif len(sizes) >= 2:
        target(None, f"10k/1k ratio < 15: not measured; {ratio_line}")
    for name in ("neuron100-straight", "neuron100-loop"):
        if name in first:
            target(first[name][0] < 0.010, f"{name}: grad(f) to first gradient "
                   f"{first[name][0] * 1e3:.1f} ms (CPU time {first[name][1] * 1e3:.1f} ms; "
                   "target < 10 ms)")
    print("Targets (measured, not asserted):")
    for t in targets:
        print("  " + t)
    print()

    # ------------------------------------------------------------------ profiles on misses
    for ln in profiles:
        print(ln)

    # ------------------------------------------------------------------ files
    os.makedirs(a.out_dir, exist_ok=True)
    png = os.path.join(a.out_dir, "results.png")
    if a.no_plot:
        chart = "chart: skipped (--no-plot)"
    else:
        capped = {b.name: setup[b.name]["sympy"]["cap"] for b in benches
                  if setup[b.name].get("sympy", {}).get("status") == "cap"}
        chart = plot(results, benches, engines, png, "; ".join(machine[:2]), capped)
    md = ["# symgrad benchmark results", "",
          f"Produced by `python benchmarks/run.py{' --quick' if quick else ''}`.", ""]
    md += [f"- {ln}" for ln in machine]
    md += [(f"- timing: median of {repeats} interleaved repeats of >= {min_time * 1e3:.3g} ms "
            "each; time per call of value and full gradient (plain f: value only)")]
    md += [f"- note: {n}" for n in notes]
    md += ["", "## Per call (ratio to symgrad generated)", "", render(headers, md_rows, md=True),
           "", *[f"- {ln}" for ln in explain],
           "", "## One-off costs", "", render(sheaders, srows, md=True), "",
           "## Transform scaling (straight-line statements)", "",
           render(theaders, trows, md=True), ""]
    if ratio_line:
        md += [ratio_line, ""]
    md += ["## Wrapper overhead (GradFunction.__call__ vs the raw generated function)", "",
           render(wheaders, wrows, md=True), ""]
    md += ["## Targets", "", "```", *targets, "```", ""]
    md_path = os.path.join(a.out_dir, "results.md")
    with open(md_path, "w") as fh:
        fh.write("\n".join(md))
    print(chart)
    print(f"markdown table written to {md_path}")
    print(f"total run time {time.perf_counter() - run_start:.1f} s; load average at the end "
          f"{_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
