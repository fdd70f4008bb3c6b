"""Cross-checks: one gradient, four engines, one call.

:func:`check` computes the gradient of ``f`` at a point four ways and compares them:

* **symgrad** -- the generated gradient (:func:`symgrad.grad`);
* **SymPy** -- ``sympy.diff`` of ``f`` run on SymPy symbols;
* **Value** -- ``f`` run on :class:`symgrad.Value` numbers, then ``backward()``;
* **finite differences** -- central differences of ``f`` on floats.

It also runs the *generated gradient* on SymPy symbols and asks SymPy whether
that expression minus ``sympy.diff`` simplifies to zero: a proof, not only a
test at one point.  :func:`symbolic` returns those expressions.

One function body runs on all of these by retargeting (:mod:`symgrad.retarget`); on SymPy
the numbers are :class:`~symgrad.traced.Traced` (:mod:`symgrad.traced`), so branches and
loops follow the path taken at the point.  The engines are in :mod:`symgrad.engines`, the
proofs in :mod:`symgrad.prove`, the report in :mod:`symgrad.report`.

>>> import math
>>> def neuron(x, w, b):
...     return math.tanh(x * w + b)
>>> report = check(neuron, 2.0, -3.0, 6.8813735870195432)
>>> report.ok, report.verdicts["w"]
(True, 'proved equal')
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .api import Wrt, grad
from .arguments import floatify, label, leaf_name, leaves, resolve
from .engines import explain, finite_diff, sympy_side, value_engine
from .prove import CHECK_SIMPLIFY_BUDGET, evalf, is_zero, tidy
from .report import (
    AT_POINT,
    DIFFER,
    ENGINES,
    FD_ATOL,
    FD_RTOL,
    PROVED,
    CheckReport,
    Row,
    Symbolic,
    close,
    rel_error,
)
from .retarget import Retargeter, retarget
from .traced import SymbolicError, Traced

__all__ = ["AT_POINT", "DIFFER", "FD_ATOL", "FD_RTOL", "PROVED", "CheckReport", "Retargeter",
           "Row", "Symbolic", "SymbolicError", "Traced", "check", "retarget", "symbolic"]


def check(f: Callable[..., Any], *args: Any, wrt: Wrt = None, rtol: float = 1e-6,
          atol: float = 1e-9) -> CheckReport:
    """The gradient of ``f`` at ``args`` from four engines, compared.

    ``wrt`` as in :func:`symgrad.grad`; by default every parameter whose argument is not an
    ``int`` (ints are counts and indices, held constant).  List arguments get one row per
    number.  The generated gradient, SymPy and the Value engine must agree within ``rtol`` /
    ``atol``; finite differences within ``max(rtol, FD_RTOL)`` / ``max(atol, FD_ATOL)``.
    With branches and loops SymPy and the Value engine follow the path taken at ``args``.
    An engine that cannot run ``f`` is reported as unavailable (with the reason) and the
    others still report.

    >>> def seed_l(a, b, d):
    ...     e = a + b
    ...     return e * d
    >>> r = check(seed_l, 5.0, 3.0, 10.0)
    >>> r.ok, [row.generated for row in r.rows], r.verdicts["a"]
    (True, [10.0, 10.0, 8.0], 'proved equal')
    """
    params, idx = resolve(f, args, wrt)
    args_l = floatify(args, idx)
    wrt_names = [params[i] for i in idx]
    gf = grad(f, wrt=wrt_names)
    value = f(*args_l)
    names = [(params[i], leaf_name(params[i], p)) for i in idx for p, _ in leaves(args_l[i])]
    gen = [float(leaf) for part in gf(*args_l) for _, leaf in leaves(part)]
    unavailable: dict[str, str] = {}
    notes: list[str] = []
    results: dict[str, list[float] | None] = {"generated": gen}
    for key, engine in (("value", value_engine), ("finite_diff", finite_diff)):
        try:
            results[key] = [float(v) for v in engine(f, args_l, idx)]
        except Exception as exc:  # noqa: BLE001 - the report says why this engine is missing
            results[key] = None
            unavailable[key] = explain(exc, ENGINES[key])
    deadline = time.monotonic() + CHECK_SIMPLIFY_BUDGET
    verdicts = ["SymPy unavailable"] * len(gen)
    try:
        side = sympy_side(f, gf, params, args_l, idx)
        point = dict(zip(side.symbols, [v for i in idx for _, v in leaves(args_l[i])]))
        results["sympy"] = [evalf(d, point) for d in side.diff]
        if side.generated is None:
            notes.append(f"no proof: {side.generated_error}")
        for k, g in enumerate(gen):
            if side.generated is not None and is_zero(side.generated[k] - side.diff[k],
                                                       deadline):
                verdicts[k] = PROVED
            else:
                verdicts[k] = AT_POINT if close(g, results["sympy"][k], rtol, atol) else DIFFER
    except SymbolicError as exc:
        results["sympy"] = None
        unavailable["sympy"] = str(exc)
    fd_rtol, fd_atol = max(rtol, FD_RTOL), max(atol, FD_ATOL)
    rows = _rows(names, results, verdicts, (rtol, atol), (fd_rtol, fd_atol))
    return CheckReport(label(f), tuple(params), tuple(args_l), tuple(wrt_names), value, rows,
                       unavailable, rtol, atol, fd_rtol, fd_atol, notes)


def _rows(names: list[tuple[str, str]], results: dict[str, list[float] | None],
          verdicts: list[str], tol: tuple[float, float], fd_tol: tuple[float, float]
          ) -> list[Row]:
    """One row per differentiated number: each engine's derivative against the generated."""
    rows = []
    for k, (param, name) in enumerate(names):
        g = results["generated"][k]  # type: ignore[index]
        vals = {key: (None if results.get(key) is None else results[key][k]) for key in ENGINES}
        differing = tuple(
            key for key in ("sympy", "value", "finite_diff") if vals[key] is not None and
            not close(vals[key], g, *(fd_tol if key == "finite_diff" else tol)))
        errors = [rel_error(v, g) for key, v in vals.items() if v is not None]
        rows.append(Row(name, param, g, vals["sympy"], vals["value"], vals["finite_diff"],
                        max(errors), not differing and verdicts[k] != DIFFER, verdicts[k],
                        differing))
    return rows


def symbolic(f: Callable[..., Any], *args: Any, wrt: Wrt = None) -> Symbolic:
    """SymPy expressions of ``f`` and of each component of its gradient, as ``sympy.diff``
    gives them and as symgrad's generated code computes them, simplified.

    Without ``args`` every parameter is a symbol; a branch on one is then an error.  With a
    point ``args`` (needed for list arguments and branches) SymPy follows the path taken
    there, and ``wrt`` defaults to the non-``int`` arguments as in :func:`check`.

    >>> import math
    >>> def neuron(x, w, b):
    ...     return math.tanh(x * w + b)
    >>> s = symbolic(neuron, wrt="b")
    >>> s.f, s.diff["b"], s.proved["b"]
    (tanh(b + w*x), 1 - tanh(b + w*x)**2, True)
    """
    params, idx = resolve(f, args, wrt)
    args_l = floatify(args, idx) if args else None
    gf = grad(f, wrt=[params[i] for i in idx])
    side = sympy_side(f, gf, params, args_l, idx)
    names = ([leaf_name(params[i], p) for i in idx for p, _ in leaves(args_l[i])]
             if args_l is not None else [params[i] for i in idx])
    deadline = time.monotonic() + CHECK_SIMPLIFY_BUDGET
    proved = {n: side.generated is not None and
              is_zero(side.generated[k] - side.diff[k], deadline) for k, n in enumerate(names)}
    diff = {n: tidy(side.diff[k], deadline) for k, n in enumerate(names)}
    generated = None if side.generated is None else {
        n: diff[n] if proved[n] else tidy(side.generated[k], deadline)
        for k, n in enumerate(names)}
    symbols = dict(zip(names, side.symbols))
    return Symbolic(label(f), tuple(params), symbols, tidy(side.f, deadline), diff, generated,
                    proved,
                    None if args_l is None else tuple(args_l), side.generated_error)
