"""Forward mode and Hessians (issue 12): symgrad against JAX, autograd, PyTorch and SymPy.

    python benchmarks/modes.py             # full run (about 1.5 minutes on 2 cores)
    python benchmarks/modes.py --quick     # smoke run: tiny repeat counts, a 20-number HVP

Three tables, each measured side by side in one process:

1. The Hessian of the extended Rosenbrock function of 10 numbers: ``symgrad.hessian``
   against ``jax.jit(jax.hessian(f))``, ``autograd.hessian``,
   ``torch.autograd.functional.hessian`` and SymPy ``hessian`` + ``lambdify(cse=True)``.
2. The Hessian-vector product of the same function of 100 numbers: ``symgrad.hvp`` (and
   its generated function called directly) against JAX (``jit`` of ``jvp`` of ``grad``),
   ``autograd.hessian_vector_product``, ``torch.autograd.functional.hvp`` and SymPy (the
   Hessian times a vector of symbols, lambdified).
3. ``symgrad.jvp`` against the plain function, for straight-line, loop and branchy
   functions: the generated tangent sweep called directly (``fast``) and through ``jvp()``
   (which checks the arguments' structure first).

Set-up is the time from nothing (only imports done) to the first result: symgrad's
transforms of a fresh function object, JAX's trace and compile, SymPy's build,
differentiation and lambdify, and the first call; it is the best of up to
``--setup-repeats`` fresh set-ups (one when a set-up takes longer than the budget).
Per call is the best of interleaved repeats (``run.time_calls``, garbage collector off).
Best-of rather than median, as ``timeit`` advises: on a shared machine the slower
repeats measure the other processes.

Every engine runs the same function body: ``functions.rosenbrock``, a loop over a list
with only arithmetic and indexing, so a list, a JAX / numpy / torch array or a list of
SymPy symbols goes straight in.  Each array library has a second row on
``functions.rosenbrock_vectorized``, the same function as that library's users write it
(slices, no Python-level arithmetic per number).
Before any timing every result is compared with symgrad's (SymPy's is exact); a mismatch
raises ``AssertionError``.  JAX, autograd and PyTorch are optional: a missing one shows
"not installed" in its row.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.metadata
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import functions as F
from run import fmt_ratio, fmt_time, fresh, machine_lines, max_rel_diff, render, time_calls

import symgrad
from symgrad import modes

TOLERANCE = 1e-9          # largest relative difference from symgrad's result
JVP_TARGET = 3.0          # issue 12: a jvp call costs at most 3 plain calls
OPTIONAL = ("jax", "autograd", "torch")


@dataclass
class Row:
    """One engine in a table.  ``prepare`` builds everything from scratch and returns the
    call to time and its arguments.  A row with a ``setup_note`` is prepared once, untimed,
    and shows the note as its set-up; the plain function's row (``check=False``) computes
    no Hessian to compare."""
    title: str
    prepare: Callable[[], tuple[Callable, tuple]] | None   # None: the library is missing
    setup_note: str | None = None
    check: bool = True


def numbers(result: Any) -> list[float]:
    if hasattr(result, "tolist"):             # numpy, JAX and torch arrays
        result = result.tolist()
    return [float(v) for v in F.flatten(result)]


def import_optional() -> dict[str, Any]:
    """The optional libraries that import, configured for float64 on one CPU thread."""
    libs: dict[str, Any] = {}
    for name in OPTIONAL:
        try:
            libs[name] = importlib.import_module(name)
        except ImportError:
            continue
    if "jax" in libs:
        jax = libs["jax"]
        jax.config.update("jax_enable_x64", True)
        jax.numpy.zeros(1).block_until_ready()            # start the backend before timing
    if "autograd" in libs:
        libs["anp"] = importlib.import_module("autograd.numpy")
    if "torch" in libs:
        libs["torch"].set_num_threads(1)                  # small tensors: nothing to share
    return libs


# =========================================================================== the rows

def sympy_symbols(prefix: str, n: int) -> list:
    import sympy
    return list(sympy.symbols(f"{prefix}0:{n}", real=True))


def hessian_rows(f: Callable, x: list[float], libs: dict[str, Any]) -> list[Row]:
    def symgrad_prep():
        return symgrad.hessian(fresh(f)), (x,)

    def jax_prep(fn):
        jax = libs["jax"]
        h = jax.jit(jax.hessian(fn))
        return (lambda xj: h(xj).block_until_ready()), (jax.numpy.asarray(x),)

    def autograd_prep(fn):
        return libs["autograd"].hessian(fn), (libs["anp"].array(x),)

    def torch_prep(fn):
        torch = libs["torch"]
        hessian = torch.autograd.functional.hessian
        return (lambda xt: hessian(fn, xt)), (torch.tensor(x, dtype=torch.float64),)

    def sympy_prep():
        import sympy
        xs = sympy_symbols("x", len(x))
        hess = sympy.hessian(f(xs), xs)
        return sympy.lambdify(xs, hess.tolist(), modules="math", cse=True), tuple(x)

    return [Row("symgrad hessian", symgrad_prep),
            *optional_rows(libs, f, {"jax": ("JAX jit(hessian)", jax_prep),
                                     "autograd": ("autograd hessian", autograd_prep),
                                     "torch": ("PyTorch functional.hessian", torch_prep)}),
            Row("SymPy hessian + lambdify", sympy_prep),
            Row("plain f (value only)", lambda: (f, (x,)), "-", check=False)]


def hvp_rows(f: Callable, x: list[float], v: list[float], libs: dict[str, Any]) -> list[Row]:
    def symgrad_prep():
        g = fresh(f)
        return (lambda x, v: symgrad.hvp(g, (x,), (v,))), (x, v)

    def symgrad_fast_prep():
        gen = modes._hvp_forward(f, None).fast      # (gradient, H v) = gen(x, d_out=1.0, v)
        return (lambda x, v: gen(x, 1.0, v)[1]), (x, v)

    def jax_prep(fn):
        jax = libs["jax"]
        grad = jax.grad(fn)
        hvp = jax.jit(lambda x, v: jax.jvp(grad, (x,), (v,))[1])
        return (lambda xj, vj: hvp(xj, vj).block_until_ready()), \
            (jax.numpy.asarray(x), jax.numpy.asarray(v))

    def autograd_prep(fn):
        anp = libs["anp"]
        return libs["autograd"].hessian_vector_product(fn), (anp.array(x), anp.array(v))

    def torch_prep(fn):
        torch = libs["torch"]
        hvp = torch.autograd.functional.hvp
        return (lambda xt, vt: hvp(fn, xt, vt)[1]), \
            (torch.tensor(x, dtype=torch.float64), torch.tensor(v, dtype=torch.float64))

    def sympy_prep():
        import sympy
        xs, vs = sympy_symbols("x", len(x)), sympy_symbols("v", len(v))
        hv = sympy.hessian(f(xs), xs) * sympy.Matrix(vs)
        return sympy.lambdify(xs + vs, list(hv), modules="math", cse=True), (*x, *v)

    return [Row("symgrad hvp", symgrad_prep),
            Row("symgrad generated function (no checks)", symgrad_fast_prep,
                "same as symgrad hvp"),
            *optional_rows(libs, f, {"jax": ("JAX jit(jvp(grad))", jax_prep),
                                     "autograd": ("autograd hessian_vector_product",
                                                  autograd_prep),
                                     "torch": ("PyTorch functional.hvp", torch_prep)}),
            Row("SymPy hessian * v + lambdify", sympy_prep),
            Row("plain f (value only)", lambda: (f, (x,)), "-", check=False)]


def optional_rows(libs: dict[str, Any], f: Callable,
                  engines: dict[str, tuple[str, Callable]]) -> list[Row]:
    """Two rows per installed array library: on ``f`` itself, and on
    ``functions.rosenbrock_vectorized`` (the library's idiom); one "not installed" row
    per missing library."""
    rows = []
    for lib, (title, prep) in engines.items():
        if lib not in libs:
            rows.append(Row(title, None))
            continue
        rows.append(Row(title, lambda prep=prep: prep(f)))
        rows.append(Row(title + ", vectorized f",
                        lambda prep=prep: prep(F.rosenbrock_vectorized)))
    return rows


# =========================================================================== measuring

def time_setup(prepare: Callable, repeats: int, budget: float) -> tuple[float, Callable, tuple]:
    """The best of up to ``repeats`` fresh set-ups (stopping once ``budget`` seconds are
    spent): the time from nothing to the first result; returned with the last call and
    its arguments."""
    times: list[float] = []
    start = time.perf_counter()
    while True:
        gc.collect()
        t0 = time.perf_counter()
        call, args = prepare()
        call(*args)
        times.append(time.perf_counter() - t0)
        if len(times) >= repeats or time.perf_counter() - start > budget:
            return min(times), call, args


def measure(rows: list[Row], a: argparse.Namespace) -> list[list[str]]:
    """Set up every row, check its result against the first row's, time the calls; the
    table's rows (time and ratio to the first row)."""
    setups: dict[str, float] = {}
    cells: dict[str, tuple[Callable, tuple]] = {}
    for row in rows:
        if row.prepare is None:
            continue
        if row.setup_note is None:
            setups[row.title], call, args = time_setup(row.prepare, a.setup_repeats, a.budget)
        else:
            call, args = row.prepare()
        cells[row.title] = (call, args)
    ref_title = rows[0].title
    ref = numbers(cells[ref_title][0](*cells[ref_title][1]))
    for row in rows[1:]:
        if row.check and row.title in cells:
            call, args = cells[row.title]
            err = max_rel_diff(ref, numbers(call(*args)))
            if err > TOLERANCE:
                raise AssertionError(f"{row.title} differs from {ref_title} by {err:.1e} "
                                     f"(relative; tolerance {TOLERANCE:.0e})")
    per_call = time_calls(cells, a.min_time, a.repeats, stat=min)
    base_setup, base_call = setups[ref_title], per_call[ref_title]
    table = []
    for row in rows:
        if row.prepare is None:
            table.append([row.title, "not installed", "-"])
            continue
        setup = row.setup_note or fmt_time(setups[row.title])
        if row.setup_note is None and row.title != ref_title:
            setup += f" ({fmt_ratio(setups[row.title] / base_setup)})"
        call = fmt_time(per_call[row.title])
        if row.title != ref_title:
            call += f" ({fmt_ratio(per_call[row.title] / base_call)})"
        table.append([row.title, setup, call])
    return table


@dataclass
class JvpCase:
    name: str
    fn: Callable
    args: tuple
    note: str


def jvp_cases() -> list[JvpCase]:
    x, w, b = F.neuron_args(100)
    return [
        JvpCase("neuron2", F.neuron2, F.NEURON2_ARGS, "straight line"),
        JvpCase("neuron100-loop", F.neuron_loop, (x, w, b), "loop over two lists"),
        JvpCase("huber100", F.huber, (F.uniform_list(100, -2.0, 2.0, seed=3), 1.0),
                "a branch per list element"),
        JvpCase("rosenbrock100", F.rosenbrock, (F.uniform_list(100, seed=4),),
                "loop with temporaries"),
        JvpCase("mlp-2-8-8-1", F.mlp_loss, F.mlp_args(), "nested loops, a helper"),
    ]


def measure_jvp(case: JvpCase, a: argparse.Namespace) -> tuple[list[str], float, float]:
    """The table row of one function, and the ratios fast / plain and jvp() / plain."""
    f, args = case.fn, case.args
    tangents = tuple(F.unflatten(F.uniform_list(len(F.flatten(p)), seed=10 + k), p)
                     for k, p in enumerate(args))
    fast = modes._forward(f).fast
    value, slope = fast(*args, *tangents)
    if symgrad.jvp(f, args, tangents) != (value, slope):
        raise AssertionError(f"{case.name}: jvp() differs from its generated function")
    ref_value, grads = symgrad.value_and_grad(f)(*args)
    ref_slope = sum(g * t for g, t in zip(F.flatten(list(grads)), F.flatten(list(tangents))))
    err = max_rel_diff([ref_value, ref_slope], [value, slope])
    if err > TOLERANCE:
        raise AssertionError(f"{case.name}: the jvp differs from the gradient . tangent by "
                             f"{err:.1e} (relative)")
    t = time_calls({"plain": (f, args), "fast": (fast, (*args, *tangents)),
                    "jvp": (symgrad.jvp, (f, args, tangents))}, a.min_time, a.repeats,
                   stat=min)
    q_fast, q_api = t["fast"] / t["plain"], t["jvp"] / t["plain"]
    row = [f"{case.name} ({case.note}; {len(F.flatten(list(args)))} numbers)",
           fmt_time(t["plain"]), fmt_time(t["fast"]),
           fmt_time(t["jvp"]), fmt_ratio(q_fast), fmt_ratio(q_api),
           f"{(t['jvp'] - t['fast']) * 1e6:.1f} µs"]
    return row, q_fast, q_api


# =========================================================================== main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 3 repeats of 0.5 ms, one set-up each, a 20-number HVP")
    ap.add_argument("--repeats", type=int, help="timing repeats per cell (default 41)")
    ap.add_argument("--min-time", type=float, help="seconds per repeat (default 0.002)")
    ap.add_argument("--setup-repeats", type=int, help="fresh set-ups per engine (default 5)")
    ap.add_argument("--budget", type=float,
                    help="seconds of set-ups per engine after which no more are started "
                         "(default 8)")
    ap.add_argument("--hessian-size", type=int, default=10,
                    help="length of the list of the Hessian (default 10)")
    ap.add_argument("--hvp-size", type=int,
                    help="length of the list of the HVP (default 100, quick 20)")
    ap.add_argument("--markdown", action="store_true", help="print the tables as markdown too")
    a = ap.parse_args(argv)
    defaults = {"repeats": (41, 3), "min_time": (0.002, 0.0005), "setup_repeats": (5, 1),
                "budget": (8.0, 0.0), "hvp_size": (100, 20)}
    for name, (full, quick) in defaults.items():
        if getattr(a, name) is None:
            setattr(a, name, quick if a.quick else full)
    start = time.perf_counter()

    libs = import_optional()
    import sympy
    versions = {"sympy": sympy.__version__}
    versions.update({lib: importlib.metadata.version(lib) if lib in libs else "not installed"
                     for lib in OPTIONAL})
    print("symgrad forward mode and Hessians" + (" (--quick)" if a.quick else ""))
    for ln in machine_lines(versions):
        print("  " + ln)
    print(f"  set-up: best of up to {a.setup_repeats} fresh set-ups (no more after "
          f"{a.budget:.3g} s); per call: best of {a.repeats} interleaved repeats of "
          f">= {a.min_time * 1e3:.3g} ms, gc off")
    print()

    nh, nv = a.hessian_size, a.hvp_size
    headers = ["engine", "set-up (to first result)", "per call"]
    title = (f"Hessian of rosenbrock (extended Rosenbrock, a loop over a list of {nh} "
             "numbers); in parentheses the ratio to symgrad hessian")
    rows = hessian_rows(F.rosenbrock, F.uniform_list(nh, seed=1), libs)
    tables = [(title, headers, measure(rows, a))]
    title = (f"Hessian-vector product of rosenbrock on a list of {nv} numbers; in "
             "parentheses the ratio to symgrad hvp")
    rows = hvp_rows(F.rosenbrock, F.uniform_list(nv, seed=2), F.uniform_list(nv, seed=3), libs)
    tables.append((title, headers, measure(rows, a)))

    jvp_rows, targets = [], []
    for case in jvp_cases():
        row, q_fast, q_api = measure_jvp(case, a)
        jvp_rows.append(row)
        for what, q in (("generated function", q_fast), ("jvp()", q_api)):
            verdict = "PASS" if q <= JVP_TARGET else "MISS"
            targets.append(f"{verdict} {case.name}: {what} / plain f = {fmt_ratio(q)} "
                           f"(target <= {JVP_TARGET:g}x)")
    title = ("jvp against the plain function (the tangent sweep, one tangent per input "
             "number, data included)")
    headers = ["function", "plain f", "jvp generated", "jvp()", "generated / plain",
               "jvp() / plain", "jvp() checks cost"]
    tables.append((title, headers, jvp_rows))

    print("All results agree with symgrad's (relative difference <= "
          f"{TOLERANCE:.0e}; SymPy's are exact)")
    print()
    for title, head, rows in tables:
        print(title)
        print(render(head, rows))
        print()
    print("Targets (measured, not asserted):")
    for t in targets:
        print("  " + t)
    if a.markdown:
        for title, head, rows in tables:
            print(f"\n{title}\n\n{render(head, rows, md=True)}")
    print(f"\ntotal run time {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
