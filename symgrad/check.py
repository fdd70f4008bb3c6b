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
proofs in :mod:`symgrad.prove`, the time budgets in :mod:`symgrad.budget`, the report in
:mod:`symgrad.report`.

>>> import math
>>> def neuron(x, w, b):
...     return math.tanh(x * w + b)
>>> report = check(neuron, 2.0, -3.0, 6.8813735870195432)
>>> report.ok, report.verdicts["w"]
(True, 'proved equal')
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Iterable
from typing import Any

from .api import Wrt, grad
from .arguments import Point, leaves
from .budget import Budget, Progress
from .engines import (
    Column,
    SympySide,
    explain,
    finite_diff,
    trace,
    trace_generated,
    value_engine,
    where,
)
from .errors import SymgradError
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
)
from .retarget import Retargeter, retarget
from .traced import SymbolicError, Traced

__all__ = ["AT_POINT", "DEFAULT_TIMEOUT", "DIFFER", "FD_ATOL", "FD_RTOL", "PROVED", "CheckReport",
           "Retargeter", "Row", "Symbolic", "SymbolicError", "Traced", "check", "retarget",
           "symbolic"]

#: Seconds each engine may take when ``timeout=None``.
DEFAULT_TIMEOUT = 20.0


def check(f: Callable[..., Any], *args: Any, wrt: Wrt = None, rtol: float = 1e-6,
          atol: float = 1e-9, timeout: float | None = None,
          engines: Iterable[str] = ("sympy", "value", "fd")) -> CheckReport:
    """The gradient of ``f`` at ``args`` from the generated code and from each engine in
    ``engines`` (``"sympy"``, ``"value"``, ``"fd"``: finite differences), compared.

    ``args`` are passed as to ``f``: missing ones take ``f``'s defaults.  ``wrt`` as in
    :func:`symgrad.grad`; by default every parameter whose argument is a number or a list of
    numbers.  An ``int`` is a number like a float; a parameter the gradient lists as
    ``inactive`` (used only as a count, index or condition) is held constant and its
    generated derivative must be exactly 0.  List arguments get one row per number.

    The generated gradient, SymPy and the Value engine must agree within ``rtol`` / ``atol``;
    finite differences within ``max(rtol, FD_RTOL)`` / ``max(atol, FD_ATOL)``.  With branches
    and loops SymPy and the Value engine follow the path taken at ``args``.  Each engine has
    ``timeout`` seconds (default :data:`DEFAULT_TIMEOUT`); one that runs out, or cannot run
    ``f``, is reported (``timed out`` / unavailable, with the reason) and the others still
    decide.  ``report.ok`` needs every number checked by at least one engine.  Progress is
    shown on stderr when it is a terminal.

    >>> def seed_l(a, b, d):
    ...     e = a + b
    ...     return e * d
    >>> r = check(seed_l, 5.0, 3.0, 10.0)
    >>> r.ok, [row.generated for row in r.rows], r.verdicts["a"]
    (True, [10.0, 10.0, 8.0], 'proved equal')
    >>> check(seed_l, 5, 3, 10, engines=["value"]).ok   # ints are numbers
    True
    """
    selected, seconds = _engines(engines), _timeout(timeout)
    point = Point.at(f, args, wrt)
    gf = grad(f, wrt=point.wrt)
    point.constant = tuple(p for p in getattr(gf, "inactive", ()) if p in point.wrt)
    value = _at_point(f, point, point.function)
    gen = dict(zip([leaf.name for leaf in point.leaves()],
                   _floats(_at_point(gf.fast, point, f"the gradient of {point.function}"))))
    columns: dict[str, Column] = {}
    unavailable: dict[str, str] = {}
    timed_out: list[str] = []
    with Progress() as progress:
        for name in selected:
            col, why, late = _run_engine(name, f, gf, point, gen, (rtol, atol), seconds,
                                         progress)
            if col is not None:
                columns[name] = col
            else:
                unavailable[name] = why
                timed_out += [name] * late
    fd_tol = (max(rtol, FD_RTOL), max(atol, FD_ATOL))
    no_verdict = ("SymPy " + ("timed out" if "sympy" in timed_out else "unavailable")
                  if "sympy" in selected else "-")
    rows = [Row.compare(leaf, gen[leaf.name], columns, no_verdict, (rtol, atol), fd_tol)
            for leaf in point.leaves()]
    notes = [note for col in columns.values() for note in col.notes]
    return CheckReport(point.function, tuple(point.params), tuple(point.args),
                       tuple(point.wrt), value, rows, unavailable, rtol, atol, *fd_tol, notes,
                       selected, tuple(timed_out), point.constant)


def _engines(engines: Iterable[str]) -> tuple[str, ...]:
    """The engine names asked for, checked (a single name may be given as a string)."""
    names = (engines,) if isinstance(engines, str) else tuple(engines)
    unknown = [n for n in names if n not in ENGINES]
    if unknown or not names:
        raise SymgradError(f"engines={names!r}: " + (
            f"unknown engine {unknown[0]!r}" if unknown else "name at least one engine") +
            "; the engines are " + ", ".join(repr(n) for n in ENGINES) +
            " (SymPy, the Value engine, finite differences)")
    return tuple(n for n in ENGINES if n in names)


def _timeout(timeout: float | None) -> float:
    if timeout is None:
        return DEFAULT_TIMEOUT
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise SymgradError(f"timeout={timeout!r}: give a number of seconds > 0 (or None for "
                           f"the default, {DEFAULT_TIMEOUT:g} s per engine)")
    return float(timeout)


def _at_point(fn: Callable[..., Any], point: Point, what: str) -> Any:
    """``fn`` at the point; if it raises there, a :class:`SymgradError` saying where."""
    try:
        return fn(*point.args)
    except Exception as exc:
        hint = ""
        if isinstance(exc, TypeError) and "integer" in str(exc):
            hint = "; a float where an int is needed (a count, an index)? pass 4, not 4.0"
        raise SymgradError(f"{what} raised {type(exc).__name__} at the point: {exc} (at "
                           f"{where(exc) or 'the call'}){hint}") from exc


def _floats(out: Any) -> list[float]:
    """The generated gradient's result, one float per number."""
    parts = out if isinstance(out, tuple) else (out,)
    return [float(leaf) for part in parts for _, leaf in leaves(part)]


def _run_engine(name: str, f: Any, gf: Any, point: Point, gen: dict[str, float],
                tol: tuple[float, float], seconds: float, progress: Progress
                ) -> tuple[Column | None, str, bool]:
    """One engine within its budget: its column, or None, why, and whether it timed out."""
    budget = Budget(seconds)
    try:
        if name == "sympy":
            col = _sympy_column(f, gf, point, gen, tol, budget, progress)
        else:
            engine = value_engine if name == "value" else finite_diff
            col = budget.run(lambda: engine(f, point, progress))
    except SymbolicError as exc:
        return None, str(exc), False
    except Exception as exc:  # noqa: BLE001 - the report says why this engine is missing
        return None, explain(exc, ENGINES[name][1]), False
    if col is None:
        return None, f"timed out after {seconds:g} s (timeout={seconds:g})", True
    return col, "", False


def _sympy_column(f: Any, gf: Any, point: Point, gen: dict[str, float],
                  tol: tuple[float, float], budget: Budget, progress: Progress
                  ) -> Column | None:
    """SymPy's derivatives at the point within ``budget`` (None: it ran out), then, within
    what is left (at most :data:`~symgrad.prove.CHECK_SIMPLIFY_BUDGET`), the proofs that the
    generated gradient equals them."""
    side = SympySide.at(f, point)

    def derivatives() -> Column:
        trace(f, side, progress)
        col = Column()
        for k, (name, d) in enumerate(zip(side.names, side.diff)):
            progress(f"SymPy evaluating {k + 1}/{len(side.names)}")
            col.values[name] = evalf(d, dict(zip(side.symbols, side.values)))
        return col
    col = budget.run(derivatives)
    if col is None:
        return None
    col.verdicts = {n: AT_POINT if close(gen[n], v, *tol) else DIFFER
                    for n, v in col.values.items()}
    proved, late = _prove(gf, side, min(budget.remaining(), CHECK_SIMPLIFY_BUDGET), progress)
    col.verdicts.update(dict.fromkeys(proved, PROVED))
    if side.generated is None:
        col.notes.append(f"no proof: {side.generated_error}")
    elif late:
        col.notes.append(f"proofs stopped at the time limit ({len(proved)} of "
                         f"{len(side.names)} proved)")
    return col


def _prove(gf: Any, side: SympySide, seconds: float, progress: Progress
           ) -> tuple[list[str], bool]:
    """The names whose generated expression is proved equal to ``sympy.diff`` within
    ``seconds`` (the generated gradient is run on the symbols first), and whether the time
    ran out."""
    proved: list[str] = []

    def work() -> None:
        trace_generated(gf, side)
        for k, name in enumerate(side.names if side.generated is not None else ()):
            progress(f"SymPy proof {k + 1}/{len(side.names)}")
            if is_zero(side.generated[k] - side.diff[k]):  # type: ignore[index]
                proved.append(name)
    budget = Budget(seconds)
    budget.run(work)
    return proved, budget.timed_out


def symbolic(f: Callable[..., Any], *args: Any, wrt: Wrt = None,
             timeout: float | None = None) -> Symbolic:
    """SymPy expressions of ``f`` and of each component of its gradient, as ``sympy.diff``
    gives them and as symgrad's generated code computes them, simplified.

    Without ``args`` every parameter is a symbol; a branch on one, or a parameter used as a
    list, then asks for a point.  With a point ``args`` (needed for list arguments and
    branches) SymPy follows the path taken there, and ``wrt`` defaults to the arguments that
    are numbers or lists of numbers, as in :func:`check`.  ``timeout``: seconds for SymPy to
    build the expressions (default :data:`DEFAULT_TIMEOUT`; past it, a
    :class:`SymbolicError`); simplifying them takes at most a few seconds more.

    >>> import math
    >>> def neuron(x, w, b):
    ...     return math.tanh(x * w + b)
    >>> s = symbolic(neuron, wrt="b")
    >>> s.f, s.diff["b"], s.proved["b"]
    (tanh(b + w*x), 1 - tanh(b + w*x)**2, True)
    """
    seconds = _timeout(timeout)
    point = Point.at(f, args, wrt) if args else None
    gf = grad(f, wrt=point.wrt if point is not None else wrt)
    if point is not None:
        point.constant = tuple(p for p in getattr(gf, "inactive", ()) if p in point.wrt)
    side = SympySide.at(f, point, list(gf.wrt))
    with Progress(prefix="symbolic") as progress:
        budget = Budget(seconds)
        budget.run(lambda: trace(f, side, progress))
        if budget.timed_out:
            raise SymbolicError(f"SymPy ran out of time: building {side.function} and its "
                                f"derivatives took more than {seconds:g} s (timeout=)")
        start = time.monotonic()
        proved, _ = _prove(gf, side, CHECK_SIMPLIFY_BUDGET, progress)
        left = CHECK_SIMPLIFY_BUDGET - (time.monotonic() - start)
        exprs = _tidied(side, proved, max(left, 2.0), progress)
    return Symbolic(side.function, tuple(side.params), dict(zip(side.names, side.symbols)),
                    exprs["f"], exprs["diff"], exprs["generated"],
                    {n: n in proved for n in side.names},
                    None if point is None else tuple(point.args), side.generated_error)


def _tidied(side: SympySide, proved: list[str], seconds: float, progress: Progress
            ) -> dict[str, Any]:
    """``f``, ``diff`` and ``generated`` tidied for display within ``seconds`` (an expression
    not reached in time stays as it is)."""
    out: dict[str, Any] = {"f": side.f, "diff": dict(zip(side.names, side.diff)),
                           "generated": None if side.generated is None else
                           dict(zip(side.names, side.generated))}

    def work() -> None:
        progress("SymPy: simplifying")
        out["f"] = tidy(side.f)
        for name in side.names:
            out["diff"][name] = tidy(out["diff"][name])
            if out["generated"] is not None:
                out["generated"][name] = out["diff"][name] if name in proved else \
                    tidy(out["generated"][name])
    Budget(seconds).run(work)
    return out
