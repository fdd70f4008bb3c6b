"""The reference engines of :func:`symgrad.check`: finite differences, the ``Value`` engine
and SymPy, each computing the gradient of ``f`` at a :class:`~symgrad.arguments.Point`
independently of the generated code.  Each returns a :class:`Column`: a derivative per
differentiated number, or why it has none for that number.

>>> from symgrad.arguments import Point
>>> def f(x, y):
...     return x * x * y
>>> p = Point.at(f, (3.0, 2.0))
>>> {k: round(v, 6) for k, v in finite_diff(f, p).values.items()}
{'x': 12.0, 'y': 9.0}
>>> value_engine(f, p).values
{'x': 12.0, 'y': 9.0}
"""

from __future__ import annotations

import inspect
import itertools
import linecache
import math
import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .fixed_call import resolved
from .api import GradFunction
from .arguments import Attr, Key, Leaf, Point, at_path, label, params_of
from .budget import check_deadline
from .check_arrays import ArrayPoint, leaf_name, leaves, retarget_for, specialized, unwrap
from .engine import Value
from .errors import SymgradError
from .prove import diff_floor0
from .retarget import is_library_file
from .traced import NeedsPointError, SymbolicError, Traced, to_expr

__all__ = ["Column", "SympySide", "directional", "explain", "finite_diff", "generated_seeds",
           "moved", "trace", "trace_generated", "used_as_int", "value_engine", "where"]

_FD_STEP = 2.0 ** -10        # the largest step, times max(1, |x|)


def where(exc: BaseException) -> str:
    """``file:line: source`` of the innermost user-code frame of ``exc``'s traceback.

    >>> def f(x):
    ...     return 1 / x
    >>> try:
    ...     f(0)
    ... except ZeroDivisionError as exc:
    ...     where(exc).endswith(": return 1 / x")
    True
    """
    tb, found = exc.__traceback__, ""
    while tb is not None:
        fname = tb.tb_frame.f_code.co_filename
        if not is_library_file(fname):
            line = linecache.getline(fname, tb.tb_lineno).strip()
            place = fname if fname.startswith("<") else os.path.basename(fname)
            found = f"{place}:{tb.tb_lineno}: {line}" if line else f"{place}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def explain(exc: BaseException, engine: str) -> str:
    """One line: what failed, where.

    >>> explain(ValueError("math domain error"), "finite diff")
    'finite diff: ValueError: math domain error'
    """
    msg = str(exc) if isinstance(exc, SymgradError) else f"{type(exc).__name__}: {exc}"
    place = where(exc)
    return f"{msg} (at {place})" if place else f"{engine}: {msg}"


def used_as_int(names: list[str], exc: BaseException) -> str:
    """Why an engine cannot perturb the ints ``names``: ``f`` uses one as an integer (``exc``
    is the ``TypeError`` that says so), and where.

    >>> used_as_int(["n"], TypeError("'float' object cannot be interpreted as an integer"))
    "n is used as an integer ('float' object cannot be interpreted as an integer)"
    """
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    place = where(exc)
    return f"{who} is used as an integer" + (f" at {place}" if place else f" ({exc})")


@dataclass
class Column:
    """One engine's derivatives, by number name (``x``, ``xs[1]``); ``missing``: name -> why
    this engine has none for that number; ``verdicts`` (SymPy): name -> proof verdict;
    ``notes``: lines for the report."""

    values: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


Progress = Callable[[str], None]


def _quiet(text: str) -> None:
    """A progress callback that says nothing."""


def finite_diff(fn: Callable[..., Any], point: Point, progress: Progress = _quiet) -> Column:
    """Central differences, one per number of every differentiated argument.

    Fourth-order stencil ``(8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h`` at four steps
    ``h = 2**-10 max(1, |x|) / 4**k``; the answer is the later of the two successive
    estimates that agree best (truncation error shrinks with ``h``, rounding error grows),
    which also keeps the steps clear of a nearby kink.  Steps where ``f`` raises (out of its
    domain) are skipped.  An ``int`` that ``f`` also uses as an integer (``range(n)``) cannot
    be perturbed: that number is missing, with where it is used.

    >>> import math
    >>> d = finite_diff(math.sin, Point.at(math.sin, (0.5,))).values["x"]
    >>> abs(d - math.cos(0.5)) < 1e-12
    True
    """
    col = Column()
    active = point.active()
    for k, leaf in enumerate(active):
        progress(f"finite differences {k + 1}/{len(active)}")
        try:
            col.values[leaf.name] = _stencil(
                lambda x, leaf=leaf: fn(*point.replace(leaf, x)), leaf.value,
                f"{point.function} raises at every finite-difference step around "
                f"{leaf.name} = {leaf.value!r}")
        except TypeError as exc:
            if not leaf.is_int:
                raise
            col.missing[leaf.name] = used_as_int([leaf.name], exc)
    return col


def _first(at: Callable[[float], Any], v: float, h: float) -> Any:
    """The fourth-order central stencil of the first derivative."""
    return _combine(lambda a, b, c, d: (8 * (a - b) - (c - d)) / (12 * h),
                    at(v + h), at(v - h), at(v + 2 * h), at(v - 2 * h))


def _second(at: Callable[[float], Any], v: float, h: float) -> Any:
    """The fourth-order central stencil of the second derivative."""
    return _combine(lambda a, b, c, d, e: (16 * (a + b) - (c + d) - 30 * e) / (12 * h * h),
                    at(v + h), at(v - h), at(v + 2 * h), at(v - 2 * h), at(v))


def _combine(formula: Callable[..., float], *samples: Any) -> Any:
    """``formula`` of the samples: numbers, or lists of numbers (None: missing) combined
    component by component."""
    if not isinstance(samples[0], list):
        return formula(*samples)
    return [None if any(s[i] is None for s in samples) else formula(*(s[i] for s in samples))
            for i in range(len(samples[0]))]


#: derivative order -> (stencil, largest step before scaling)
_STENCILS = {1: (_first, _FD_STEP), 2: (_second, 2.0 ** -6)}


def _stencil(at: Callable[[float], Any], v: float, fail: str, order: int = 1,
             scale: float | None = None) -> Any:
    """The ``order``-th derivative of ``at`` at ``v`` by the fourth-order stencil (see
    :func:`finite_diff`) at four steps ``base * scale / 4**k`` (``scale`` defaults to
    ``max(1, |v|)``); ``fail`` is the message when every step raises.  ``at`` may return a
    list of numbers (None where it has none): each is differentiated, the step chosen for
    each number.

    >>> round(_stencil(lambda x: x ** 4, 1.0, "never", order=2), 9)
    12.0
    """
    formula, base = _STENCILS[order]
    scale = max(1.0, abs(v)) if scale is None else scale
    est: list[Any] = []
    for k in range(4):
        check_deadline()
        h = (v + base * scale / 4 ** k) - v  # exact in floating point
        try:
            est.append(formula(at, v, h))
        except (ArithmeticError, ValueError):
            est.append(None)
    good = [e for e in est if e is not None]
    if not good:
        raise SymgradError(fail)
    if isinstance(good[0], list):
        return [_pick([None if e is None else e[i] for e in est]) for i in range(len(good[0]))]
    return _pick(est)


def _pick(est: list[float | None]) -> float | None:
    """The later of the two successive estimates that agree best (None: there are none)."""
    pairs = [(abs(a - b), b) for a, b in itertools.pairwise(est)
             if a is not None and b is not None and not math.isnan(a - b)]
    good = [e for e in est if e is not None]
    if not good:
        return None
    return min(pairs, key=lambda p: p[0])[1] if pairs else good[-1]


def moved(point: Point, direction: dict[str, float], t: float) -> list[Any]:
    """The arguments of ``point`` with each differentiated number ``x`` moved to
    ``x + t * direction[name]`` (a number with no or a zero component stays as it is).

    >>> def f(x, xs):
    ...     return x * xs[0]
    >>> moved(Point.at(f, (2.0, [3.0, 4.0])), {"x": 1.0, "xs[1]": -2.0}, 0.5)
    [2.5, [3.0, 3.0]]
    """
    return point.substitute(lambda leaf: leaf.value + t * direction[leaf.name],
                            lambda leaf: not direction.get(leaf.name))


def directional(fn: Callable[..., Any], point: Point, direction: dict[str, float],
                order: int, fail: str) -> Any:
    """The ``order``-th derivative (1 or 2) of ``t -> fn(x + t u)`` at ``t = 0`` (``u``:
    ``direction``, by number name) by the stencils of :func:`finite_diff`, the steps scaled
    by the largest ``|x|`` moved.  ``fn`` may return a list of numbers.

    >>> def f(x, y):
    ...     return x * x * y
    >>> p = Point.at(f, (3.0, 2.0))
    >>> round(directional(f, p, {"x": 1.0, "y": 1.0}, 1, "never"), 9)   # 2xy + x**2
    21.0
    >>> round(directional(f, p, {"x": 1.0, "y": 1.0}, 2, "never"), 9)   # 2y + 4x
    16.0
    """
    size = max(abs(c) for c in direction.values())
    scale = max([1.0] + [abs(leaf.value) for leaf in point.active()
                         if direction.get(leaf.name)]) / size
    return _stencil(lambda t: fn(*moved(point, direction, t)), 0.0, fail, order, scale)


def value_engine(fn: Callable[..., Any], point: Point, progress: Progress = _quiet) -> Column:
    """``f`` run on ``Value`` s (the differentiated numbers), then ``backward()``.  If ``f``
    uses an ``int`` argument as an integer (``range(n)`` refuses a ``Value``), it runs again
    with the ints held as they are, and their derivatives are missing.

    >>> import math
    >>> value_engine(lambda x: math.exp(2 * x), Point.at(math.exp, (0.0,))).values
    {'x': 2.0}
    """
    progress("Value engine")
    try:
        return _on_values(fn, point, lambda leaf: False)
    except TypeError as exc:
        ints = [leaf.name for leaf in point.active() if leaf.is_int]
        if not ints:
            raise
        col = _on_values(fn, point, lambda leaf: leaf.is_int)
        col.missing = dict.fromkeys(ints, used_as_int(ints, exc))
        return col


def _on_values(fn: Callable[..., Any], point: Point, keep: Callable[[Leaf], bool]) -> Column:
    made: dict[str, Value] = {}

    def make(leaf: Leaf) -> Value:
        made[leaf.name] = Value(leaf.value)
        return made[leaf.name]
    out = unwrap(retarget_for(point, fn)(*point.substitute(make, keep)))
    if isinstance(out, Value):
        out.backward()
    elif not isinstance(out, numbers.Real):
        raise SymgradError(f"{label(fn)} returned {type(out).__name__}, not a number")
    return Column({name: float(v.grad) for name, v in made.items()})


def generated_seeds(gf: Any, one: Any, args: Any = None) -> dict[str, Any]:
    """The seed parameters (``d_out=1.0``, ``d_out_1`` ...) of a generated gradient, each set
    to ``one`` (an exact 1 keeps SymPy arithmetic exact); ``{}`` for anything else
    (``args``: the arguments, for a gradient made per class of its records).

    >>> from symgrad import grad
    >>> def f(x):
    ...     return x * x
    >>> generated_seeds(grad(f), 1)
    {'d_out': 1}
    """
    if not isinstance(gf, GradFunction):
        return {}
    fast = gf.fast if gf._result is not None or args is None else gf.fast_for(*args)
    names = list(inspect.signature(fast).parameters)[len(gf.params):]
    return {n: one for n in names if n.startswith("d_out")}



@dataclass
class SympySide:
    """``f`` and its gradient on SymPy symbols, along the path taken at the point (no point:
    every parameter a symbol).  ``names`` / ``symbols`` / ``values``: one per differentiated
    number; ``args``: the Traced arguments; ``diff``: ``sympy.diff`` of ``f``;
    ``generated``: the generated gradient run on the symbols (None: see
    ``generated_error``).  Build with :meth:`at`, fill with :func:`trace`."""

    function: str
    params: list[str]
    names: list[str]
    symbols: list[Any]
    values: list[Any]
    args: list[Any]
    f: Any = None
    diff: list[Any] = field(default_factory=list)
    generated: list[Any] | None = None
    generated_error: str = ""
    arrays: bool = False   # the arguments hold (object) arrays

    @classmethod
    def at(cls, fn: Any, point: Point | None, wrt: list[str] | None = None) -> SympySide:
        """Symbols for the differentiated numbers of ``point`` (with their values), or for
        every parameter without a point (``wrt``: those differentiated).

        >>> def f(x, xs):
        ...     return x * xs[0]
        >>> side = SympySide.at(f, Point.at(f, (2.0, [3.0])))
        >>> side.names, side.symbols, side.values
        (['x', 'xs[0]'], [x, xs_0], [2.0, 3.0])
        """
        import sympy
        if point is None:
            params = params_of(fn)
            args = [Traced(sympy.Symbol(p, real=True)) for p in params]
            names = wrt if wrt is not None else params
            return cls(label(fn), params, names, [args[params.index(n)].expr for n in names],
                       [None] * len(names), args)
        active = point.active()
        symbols = {leaf.name: sympy.Symbol(leaf.param + "".join(f"_{k}" for k in _flat_path(
            leaf.path)), real=True) for leaf in active}
        args = point.substitute(lambda leaf: Traced(symbols[leaf.name], leaf.value))
        return cls(point.function, point.params, [leaf.name for leaf in active],
                   list(symbols.values()), [leaf.value for leaf in active], args,
                   arrays=isinstance(point, ArrayPoint))


def trace(fn: Any, side: SympySide, progress: Progress = _quiet) -> None:
    """``side.f``: ``fn`` run on the Traced arguments; ``side.diff``: its derivatives.

    >>> import math
    >>> def f(x, y):
    ...     return math.sin(x) * y
    >>> side = SympySide.at(f, None)
    >>> trace(f, side)
    >>> side.f, side.diff
    (y*sin(x), [y*cos(x), sin(x)])
    """
    import sympy
    progress("SymPy: f on symbols")
    try:
        side.f = to_expr(unwrap(retarget_for(side, fn, symbolic=True)(
            *side.args, **generated_seeds(fn, _one()))))
    except NeedsPointError as exc:
        raise NeedsPointError(
            f"symbolic({side.function}) needs a point: {exc} (at {where(exc)}); pass one value "
            f"per parameter, symbolic({side.function}, {', '.join(side.params)}), and SymPy "
            "follows the path taken there") from None
    except Exception as exc:  # noqa: BLE001 - whatever it is, SymPy cannot run f: say where
        raise SymbolicError(f"SymPy cannot represent {side.function}: "
                            f"{explain(exc, 'SymPy')}") from None
    for k, s in enumerate(side.symbols):
        progress(f"SymPy diff {k + 1}/{len(side.symbols)}")
        side.diff.append(diff_floor0(sympy.diff(side.f, s)))


def trace_generated(gf: GradFunction, side: SympySide) -> None:
    """``side.generated``: the generated gradient run on the same Traced arguments, one
    expression per differentiated number (or ``side.generated_error``: why not).

    >>> from symgrad import grad
    >>> def f(x, y):
    ...     return x * y
    >>> side = SympySide.at(f, None)
    >>> trace_generated(grad(f), side)
    >>> side.generated
    [y, x]
    """
    try:
        gf = resolved(gf, side.args)        # (made for the values of an axis passed in)
        out = retarget_for(side, specialized(gf, side.args), symbolic=True)(
            *side.args, **generated_seeds(gf, _one(), side.args))
        exprs = {name: to_expr(leaf) for name, leaf in _by_name(gf, side, out)}
        side.generated = [exprs[n] for n in side.names]
    except NeedsPointError as exc:
        side.generated_error = (f"the generated gradient needs a point: {exc} "
                                f"(at {where(exc)})")
    except Exception as exc:  # noqa: BLE001 - reported as the reason there is no proof
        side.generated_error = (f"the generated gradient cannot run on SymPy symbols: "
                                f"{explain(exc, 'SymPy')}")


def _flat_path(path: tuple[Any, ...]) -> list[Any]:
    """A leaf's path with array indices spread out: ``(1, (2, 3))`` -> ``[1, 2, 3]``."""
    return [i for k in path for i in (k if isinstance(k, tuple) else (
        k.key if type(k) is Key else k.name if type(k) is Attr else k,))]


def _by_name(gf: GradFunction, side: SympySide, out: Any) -> list[tuple[str, Any]]:
    """The generated gradient's numbers by name, each read from its parameter's part of
    ``out`` by the path of the number in the argument."""
    args = dict(zip(side.params, side.args))
    parts = (out,) if gf._spec[2] else out          # (one part alone: wrt was one name)
    return [(leaf_name(p, path), at_path(part, path))
            for p, part in zip(gf.wrt, parts) for path, _ in leaves(args[p])]


def _one() -> Any:
    import sympy
    return Traced(sympy.Integer(1), 1.0)
