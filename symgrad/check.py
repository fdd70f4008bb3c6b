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

import copy
import inspect
import numbers
import time
import types
from collections.abc import Callable, Iterable
from typing import Any

from .second_records import function_of_leaves, has_records, is_record, tangent_leaves
from .api import Wrt, grad
from .arguments import Point
from .check_arrays import SYMPY_MAX_ELEMENTS, VALUE_MAX_ELEMENTS, ArrayPoint, array_point, count
from .budget import Budget, Progress
from .check_modes import ModeCheck, mode_check, traced_gradient
from .engines import Column, SympySide, explain, trace, where
from .entry import shares
from .errors import SymgradError
from .numpy_args import lists_taken
from .prove import CHECK_SIMPLIFY_BUDGET, evalf, is_zero, tidy
from .report import (
    AT_POINT,
    DIFFER,
    ENGINES,
    FD_ATOL,
    FD_RTOL,
    MODES,
    PROVED,
    CheckReport,
    Row,
    Symbolic,
    close,
)
from .retarget import Retargeter, retarget
from .traced import SymbolicError, Traced

__all__ = ["AT_POINT", "DEFAULT_TIMEOUT", "DIFFER", "FD_ATOL", "FD_RTOL", "PROVED",
           "SYMPY_MAX_ELEMENTS", "VALUE_MAX_ELEMENTS", "CheckReport", "Retargeter", "Row",
           "Symbolic", "SymbolicError", "Traced", "check", "retarget", "symbolic"]

#: Seconds each engine may take when ``timeout=None``.
DEFAULT_TIMEOUT = 20.0


def _differentiated(point: Any) -> list:
    return [point.args[point.params.index(p)] for p in point.wrt]


def _of_leaves(f: Callable[..., Any], point: Any, tangents: Any, options: dict) -> Any:
    """Second order of records, checked on the function of their leaves (see
    :mod:`symgrad.second_records`; rows named by its parameters), the tangents taken
    apart as its leaves are."""
    idx = [point.params.index(p) for p in point.wrt]
    g, flat, diff = function_of_leaves(f, list(point.params), tuple(point.args), idx,
                                       "check")
    if tangents is not None:
        tangents = [t for i, v in zip(idx, tangents) for t in (
            tangent_leaves(point.args[i], v, "check") if is_record(point.args[i]) else [v])]
    return check(g, *flat, wrt=diff, tangents=tangents, **options)


def check(f: Callable[..., Any], *args: Any, wrt: Wrt = None, rtol: float = 1e-6,
          atol: float = 1e-9, timeout: float | None = None,
          engines: Iterable[str] = ("sympy", "value", "fd"), mode: str = "grad",
          tangents: Any = None) -> CheckReport:
    """The gradient of ``f`` at ``args`` from the generated code and from each engine in
    ``engines`` (``"sympy"``, ``"value"``, ``"fd"``: finite differences), compared.

    ``args`` are passed as to ``f`` (missing ones take its defaults).  ``wrt`` as in
    :func:`symgrad.grad`; by default every argument holding numbers (lists, records).  An
    ``int`` is a number; a parameter the gradient lists as ``inactive`` (a count, index or
    condition) is held constant, its generated derivative exactly 0.  One row per number.

    ``mode`` checks another generated function the same way (:mod:`symgrad.check_modes`):
    ``"jvp"`` along ``tangents``, ``"hessian"`` (rows ``H[x,y]``) or ``"hvp"`` (``Hv[x]``).
    ``tangents``: one per differentiated parameter, shaped like its argument; by default
    a fixed pseudo-random direction (:func:`~symgrad.check_modes.default_tangents`).

    The generated numbers, SymPy and the Value engine must agree within ``rtol`` / ``atol``;
    finite differences (and, for second derivatives, the Value column) within
    ``max(rtol, FD_RTOL)`` / ``max(atol, FD_ATOL)``.  SymPy and the Value engine follow the
    path taken at ``args``.  Each engine has ``timeout`` seconds (:data:`DEFAULT_TIMEOUT`);
    one that runs out or cannot run ``f`` is reported and the others decide.  ``report.ok``
    needs every number checked by at least one engine.

    >>> def seed_l(a, b, d):
    ...     e = a + b
    ...     return e * d
    >>> r = check(seed_l, 5.0, 3.0, 10.0); r.ok, [row.generated for row in r.rows], r.verdicts["a"]
    (True, [10.0, 10.0, 8.0], 'proved equal')
    >>> check(seed_l, 5, 3, 10, engines=["value"]).ok   # ints are numbers
    True
    >>> r = check(seed_l, 5.0, 3.0, 10.0, mode="jvp", tangents=(1.0, 0.0, 0.5))
    >>> r.ok, r.rows[0].name, r.rows[0].generated, r.verdicts["jvp"]
    (True, 'jvp', 14.0, 'proved equal')
    """
    f = _checked_function(f, len(args))
    selected, seconds = _engines(engines), _timeout(timeout)
    kind = mode_check(mode, tangents)
    point = array_point(f, _numpy_lists(f, _unshared(args)), wrt)
    if mode in ("hvp", "hessian") and has_records(_differentiated(point)):
        return _of_leaves(f, point, tangents, dict(rtol=rtol, atol=atol, timeout=timeout,
                                                   engines=engines, mode=mode))
    gf = grad(f, wrt=point.wrt)
    point.constant = tuple(p for p in _inactive(gf, point.args) if p in point.wrt)
    value = _scalar_value(f, point)
    checked = kind(f, gf, point, tangents)
    gen = _at_point(checked.generated, point, f"the {checked.what} of {point.function}")
    columns, unavailable, skipped, timed_out = _run_engines(selected, point, checked, gen,
                                                            (rtol, atol), seconds)
    fd_tol = (max(rtol, FD_RTOL), max(atol, FD_ATOL))
    no_verdict = _no_verdict(selected, timed_out, skipped)
    rows = [Row.compare(e, gen[e.name], columns, no_verdict, (rtol, atol), fd_tol,
                        MODES[checked.mode].loose) for e in checked.entries]
    notes = [note for col in columns.values() for note in col.notes]
    return CheckReport(point.function, tuple(point.params), tuple(point.args),
                       tuple(point.wrt), value, _blocks(checked.entries, rows), unavailable,
                       rtol, atol, *fd_tol, notes, selected, tuple(timed_out), point.constant,
                       checked.mode, None if checked.tangents is None else
                       tuple(checked.tangents), checked.default_tangents, skipped)


def _unshared(args: tuple) -> tuple:
    """``args``, each copied when two of them share a list (``check(f, v, v)``): SymPy,
    the Value engine and finite differences differentiate each argument on its own,
    so the generated code is checked on arguments that share nothing."""
    return tuple(copy.deepcopy(a) for a in args) if shares(*args) else args


def _numpy_lists(f: Any, args: tuple) -> tuple:
    """``args`` with the lists given for parameters ``f`` only hands to numpy as the
    arrays numpy makes of them (:mod:`symgrad.numpy_args`)."""
    if not isinstance(f, types.FunctionType):
        return args
    return lists_taken(f, list(inspect.signature(f).parameters), args, range(len(args)))[0]


def _no_verdict(selected: tuple, timed_out: list, skipped: dict) -> str:
    """What the SymPy verdict column says where SymPy gave none."""
    if "sympy" not in selected:
        return "-"
    return "SymPy " + ("timed out" if "sympy" in timed_out else "skipped"
                       if "sympy" in skipped else "unavailable")


def _checked_function(f: Any, n: int) -> Any:
    """The Python function ``check`` reads for ``f`` called with ``n`` arguments: a
    library's function becomes one that calls it (``check(math.sin, 0.5)``), and one with
    ``*args`` its adapter for that many."""
    from .varargs import as_python, has_varargs, with_arity
    f = as_python(f)
    return with_arity(f, n) if has_varargs(f) else f


def _inactive(gf: Any, args: list) -> tuple:
    """The differentiated parameters the gradient for these arguments declares inactive:
    for arrays, the gradient made for them (the code read with lists may differ)."""
    if hasattr(gf, "_array_key"):
        from .fixed_call import resolved
        gf = resolved(gf, args)         # (made for the values of an axis passed in ...)
    key = gf._array_key(tuple(args)) if hasattr(gf, "_array_key") else ()
    if any(k is not None for k in key):
        try:
            return tuple(gf._specialized(key).inactive)
        except SymgradError:          # (refused for these arrays: the call says why)
            pass
    return tuple(getattr(gf, "inactive", ()))


def _scalar_value(f: Callable[..., Any], point: Any) -> Any:
    """``f`` at the point, which must be one number (``point.stopped``: it called
    ``stop_gradient``, whose derivative 0 finite differences of ``f`` cannot see)."""
    from .rules import _STOPS
    calls = _STOPS[0]
    value = _at_point(f, point, point.function)
    point.stopped = _STOPS[0] != calls
    if getattr(value, "shape", ()) not in ((), (1,)):
        raise SymgradError(f"{point.function} returned an array of shape {value.shape} at the "
                           "point, not a number: check compares gradients of functions that "
                           "return one number (reduce it, e.g. np.sum(...), or check one "
                           "output at a time)")
    return value


def _run_engines(selected: tuple, point: Any, checked: Any, gen: dict, tols: tuple,
                 seconds: float) -> tuple[dict, dict, dict, list]:
    """Each selected engine's column, or why it has none (unavailable, skipped as too
    large or unable to run, timed out)."""
    columns: dict[str, Column] = {}
    unavailable: dict[str, str] = {}
    skipped: dict[str, str] = {}
    timed_out: list[str] = []
    with Progress() as progress:
        for name in selected:
            too_large = _too_large(name, point)
            if too_large:
                unavailable[name], skipped[name] = too_large, "too large"
                continue
            if name == "fd" and getattr(point, "stopped", False):
                unavailable[name], skipped[name] = _STOPPED, "not comparable"
                continue
            col, why, late = _run_engine(name, checked, gen, tols, seconds, progress)
            if col is not None:
                columns[name] = col
            else:
                unavailable[name] = why
                timed_out += [name] * late
                if isinstance(point, ArrayPoint) and not late and name != "fd":
                    skipped[name] = "cannot run"
                    unavailable[name] = _on_object_arrays(name, point.function, why)
    return columns, unavailable, skipped, timed_out


_STOPPED = ("not comparable: the function calls stop_gradient, whose derivative is 0 by "
            "definition, and finite differences measure the change of its value")

#: engine -> (the cap on numbers in arrays, its name)
_CAPS = {"sympy": "SYMPY_MAX_ELEMENTS", "value": "VALUE_MAX_ELEMENTS"}


def _too_large(name: str, point: Point) -> str:
    """Why engine ``name`` is skipped at ``point`` for its size ("": it is not).  The caps
    are read when check runs, so a caller may change them (``symgrad.check_arrays``)."""
    if name not in _CAPS:
        return ""
    from . import check_arrays
    cap, n = getattr(check_arrays, _CAPS[name]), count(point)
    if n <= cap:
        return ""
    return (f"too large: {n} numbers in array arguments, more than {_CAPS[name]} = {cap} "
            f"(symgrad.check_arrays.{_CAPS[name]}); finite differences still run")


def _on_object_arrays(name: str, function: str, why: str) -> str:
    kind = "SymPy symbols" if name == "sympy" else "Value numbers"
    hint = ""
    if "float" in why or "with a sequence" in why:
        hint = ("; a float array (np.zeros(n)) cannot hold them: make it from an argument "
                "(np.zeros_like(x)) or with dtype=object")
    return f"cannot run {function} on object arrays of {kind}: {why}{hint}"


def _blocks(entries: list[Any], rows: list[Row]) -> list[Row]:
    """The rows with those of the elements of one array block merged into one row whose
    numbers are arrays (:meth:`Row.merge`); other rows as they are, in order."""
    out: list[Any] = []
    groups: dict[str, list[tuple[Any, Row]]] = {}
    for e, r in zip(entries, rows):
        block = getattr(e, "block", "")
        if not block:
            out.append(r)
            continue
        if block not in groups:
            groups[block] = []
            out.append(block)
        groups[block].append((e, r))
    return [Row.merge(x, groups[x][0][0].block_shape, [r for _, r in groups[x]])
            if isinstance(x, str) else x for x in out]


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
        return fn(*point.fresh())
    except Exception as exc:
        hint = ""
        if isinstance(exc, TypeError) and "integer" in str(exc):
            hint = "; a float where an int is needed (a count, an index)? pass 4, not 4.0"
        raise SymgradError(f"{what} raised {type(exc).__name__} at the point: {exc} (at "
                           f"{where(exc) or 'the call'}){hint}") from exc


def _run_engine(name: str, checked: ModeCheck, gen: dict[str, float],
                tol: tuple[float, float], seconds: float, progress: Progress
                ) -> tuple[Column | None, str, bool]:
    """One engine within its budget: its column, or None, why, and whether it timed out."""
    budget = Budget(seconds)
    try:
        if name == "sympy":
            col = _sympy_column(checked, gen, tol, budget, progress)
        else:
            engine = checked.value if name == "value" else checked.fd
            col = budget.run(lambda: engine(progress))
    except SymbolicError as exc:
        return None, str(exc), False
    except Exception as exc:  # noqa: BLE001 - the report says why this engine is missing
        return None, explain(exc, ENGINES[name][1]), False
    if col is None:
        return None, f"timed out after {seconds:g} s (timeout={seconds:g})", True
    return col, "", False


def _sympy_column(checked: ModeCheck, gen: dict[str, float], tol: tuple[float, float],
                  budget: Budget, progress: Progress) -> Column | None:
    """SymPy's numbers at the point within ``budget`` (None: it ran out), then, within what
    is left (at most :data:`~symgrad.prove.CHECK_SIMPLIFY_BUDGET`), the proofs that the
    generated code equals them."""
    side = SympySide.at(checked.f, checked.point)

    def derivatives() -> tuple[Column, dict[str, Any]]:
        trace(checked.f, side, progress)
        progress(f"SymPy: {checked.mode} expressions")
        refs = checked.references(side)
        at = {**dict(zip(side.symbols, side.values)), **checked.extra()}
        col = Column()
        for k, (name, ref) in enumerate(refs.items()):
            progress(f"SymPy evaluating {k + 1}/{len(refs)}")
            col.values[name] = evalf(ref, at)
        return col, refs
    done = budget.run(derivatives)
    if done is None:
        return None
    col, refs = done
    col.verdicts = {n: AT_POINT if close(gen[n], v, *tol) else DIFFER
                    for n, v in col.values.items()}
    seconds = min(budget.remaining(), CHECK_SIMPLIFY_BUDGET)
    proved, late, why = _prove(lambda: checked.traced(side), refs, seconds, progress,
                               checked.zero_parts)
    col.verdicts.update(dict.fromkeys(proved, PROVED))
    if why:
        col.notes.append(f"no proof: {why}")
    elif late:
        col.notes.append(f"proofs stopped at the time limit ({len(proved)} of "
                         f"{len(refs)} proved)")
    return col


def _prove(traced: Callable[[], dict[str, Any]], refs: dict[str, Any], seconds: float,
           progress: Progress, parts: Callable[[Any], list[Any]] = lambda d: [d]
           ) -> tuple[list[str], bool, str]:
    """The names whose generated expression (``traced()``, the generated code run on the
    symbols) is proved equal to SymPy's (``refs``) within ``seconds`` (each of ``parts`` of
    their difference simplifies to 0), whether the time ran out, and why there is no proof
    at all ("" when the generated code ran on the symbols)."""
    proved: list[str] = []
    why: list[str] = []

    def work() -> None:
        try:
            exprs = traced()
        except SymbolicError as exc:
            why.append(str(exc))
            return
        for k, (name, ref) in enumerate(refs.items()):
            progress(f"SymPy proof {k + 1}/{len(refs)}")
            if all(is_zero(part) for part in parts(exprs[name] - ref)):
                proved.append(name)
    budget = Budget(seconds)
    budget.run(work)
    return proved, budget.timed_out, "".join(why)


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
    point = array_point(f, args, wrt) if args else None
    too_large = _too_large("sympy", point) if point is not None else ""
    if too_large:
        raise SymbolicError(f"symbolic({point.function}, ...): {too_large.split('; ')[0]}: "
                            "every element is a symbol; use check() (finite differences) or "
                            "a smaller array")
    gf = grad(f, wrt=point.wrt if point is not None else wrt)
    if point is not None:
        point.constant = tuple(p for p in _inactive(gf, point.args) if p in point.wrt)
    side = SympySide.at(f, point, list(gf.wrt))
    with Progress(prefix="symbolic") as progress:
        budget = Budget(seconds)
        budget.run(lambda: trace(f, side, progress))
        if budget.timed_out:
            raise SymbolicError(f"SymPy ran out of time: building {side.function} and its "
                                f"derivatives took more than {seconds:g} s (timeout=)")
        start = time.monotonic()
        refs = dict(zip(side.names, side.diff))
        proved, _, _ = _prove(lambda: traced_gradient(gf, side), refs, CHECK_SIMPLIFY_BUDGET,
                              progress)
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
