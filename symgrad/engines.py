"""The reference engines of :func:`symgrad.check`: finite differences, the ``Value`` engine
and SymPy, each computing the gradient of ``f`` at a point independently of the generated
code.

>>> def f(x, y):
...     return x * x * y
>>> [round(d, 6) for d in finite_diff(f, [3.0, 2.0], [0, 1])]
[12.0, 9.0]
>>> value_engine(f, [3.0, 2.0], [0, 1])
[12.0, 9.0]
"""

from __future__ import annotations

import inspect
import itertools
import linecache
import math
import numbers
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .api import GradFunction
from .arguments import label, leaves, map_leaves, with_leaf
from .engine import Value
from .errors import SymgradError
from .prove import diff_floor0
from .retarget import Retargeter, is_library_file, retarget
from .traced import SymbolicError, Traced, to_expr

__all__ = ["SympySide", "explain", "finite_diff", "sympy_side", "value_engine", "where"]

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


def finite_diff(fn: Callable[..., Any], args: list[Any], idx: Sequence[int]) -> list[float]:
    """Central differences, one per number of every differentiated argument.

    Fourth-order stencil ``(8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h`` at four steps
    ``h = 2**-10 max(1, |x|) / 4**k``; the answer is the later of the two successive
    estimates that agree best (truncation error shrinks with ``h``, rounding error grows),
    which also keeps the steps clear of a nearby kink.  Steps where ``f`` raises (out of its
    domain) are skipped.

    >>> import math
    >>> abs(finite_diff(math.sin, [0.5], [0])[0] - math.cos(0.5)) < 1e-12
    True
    """
    out = []
    for i in idx:
        for path, v in leaves(args[i]):
            def at(x: float, i: int = i, path: tuple[int, ...] = path) -> Any:
                return fn(*args[:i], with_leaf(args[i], path, x), *args[i + 1:])
            out.append(_stencil(at, v, f"{label(fn)} raises at every finite-difference step "
                                       f"around argument {i + 1}{list(path) or ''} = {v!r}"))
    return out


def _stencil(at: Callable[[float], Any], v: float, fail: str) -> float:
    """The derivative of ``at`` at ``v`` by the fourth-order stencil (see :func:`finite_diff`);
    ``fail`` is the message when every step raises."""
    est: list[float | None] = []
    for k in range(4):
        h = (v + _FD_STEP * max(1.0, abs(v)) / 4 ** k) - v  # exact in floating point
        try:
            est.append((8 * (at(v + h) - at(v - h)) - (at(v + 2 * h) - at(v - 2 * h)))
                       / (12 * h))
        except (ArithmeticError, ValueError):
            est.append(None)
    pairs = [(abs(a - b), b) for a, b in itertools.pairwise(est)
             if a is not None and b is not None and not math.isnan(a - b)]
    good = [e for e in est if e is not None]
    if not good:
        raise SymgradError(fail)
    return min(pairs, key=lambda p: p[0])[1] if pairs else good[-1]


def value_engine(fn: Callable[..., Any], args: list[Any], idx: Sequence[int]) -> list[float]:
    """``f`` run on ``Value`` s (the differentiated numbers), then ``backward()``.

    >>> import math
    >>> value_engine(lambda x: math.exp(2 * x), [0.0], [0])
    [2.0]
    """
    vargs = [map_leaves(a, lambda p, v: Value(float(v))) if i in idx else a
             for i, a in enumerate(args)]
    out = retarget(fn)(*vargs)
    if isinstance(out, Value):
        out.backward()
    elif not isinstance(out, numbers.Real):
        raise SymgradError(f"{label(fn)} returned {type(out).__name__}, not a number")
    return [leaf.grad for i in idx for _, leaf in leaves(vargs[i])]


@dataclass
class SympySide:
    """``f`` and its gradient as SymPy expressions, from :func:`sympy_side`."""

    symbols: list[Any]                  # one per differentiated number
    f: Any = None                       # f's expression along the path
    diff: list[Any] = field(default_factory=list)       # sympy.diff(f, s)
    generated: list[Any] | None = None  # the generated gradient run on the symbols
    generated_error: str = ""


def _symbol_name(param: str, path: tuple[int, ...]) -> str:
    return param + "".join(f"_{k}" for k in path)


def sympy_side(fn: Any, gf: GradFunction, params: list[str], args: Sequence[Any] | None,
               idx: Sequence[int]) -> SympySide:
    """Run ``fn`` and its generated gradient on Traced symbols (with values when ``args``).

    >>> from symgrad import grad
    >>> def f(x, y):
    ...     return x * y
    >>> side = sympy_side(f, grad(f), ["x", "y"], None, [0, 1])
    >>> side.f, side.diff, side.generated
    (x*y, [y, x], [y, x])
    """
    import sympy
    symbols: list[Any] = []

    def make(i: int, path: tuple[int, ...], v: Any) -> Traced:
        s = sympy.Symbol(_symbol_name(params[i], path), real=True)
        symbols.append(s)
        return Traced(s, float(v))

    if args is None:  # every parameter a symbol (the ones not differentiated too)
        targs: list[Any] = [Traced(sympy.Symbol(p, real=True)) for p in params]
        symbols += [targs[i].expr for i in idx]
    else:
        targs = list(args)
        for i in idx:
            targs[i] = map_leaves(args[i], lambda p, v, i=i: make(i, p, v))
    side = SympySide(symbols)
    rt = Retargeter(symbolic=True)
    try:
        side.f = to_expr(rt.function(fn)(*targs, **_seeds(fn)))
    except Exception as exc:  # noqa: BLE001 - whatever it is, SymPy cannot run f: say where
        raise SymbolicError(f"SymPy cannot represent {label(fn)}: {explain(exc, 'SymPy')}") \
            from None
    side.diff = [diff_floor0(sympy.diff(side.f, s)) for s in symbols]
    try:
        out = rt.function(gf)(*targs, **_seeds(gf))
        out = out if isinstance(out, tuple) else (out,)
        side.generated = [to_expr(leaf) for part in out for _, leaf in leaves(part)]
    except Exception as exc:  # noqa: BLE001 - reported as the reason there is no proof
        side.generated_error = (f"the generated gradient cannot run on SymPy symbols: "
                                f"{explain(exc, 'SymPy')}")
    return side


def _seeds(fn: Any) -> dict[str, Traced]:
    """``d_out=1`` for a generated function, as an exact Traced 1 so that the constant
    arithmetic of the adjoint sweep stays exact in SymPy too."""
    if not isinstance(fn, GradFunction):
        return {}
    import sympy
    names = list(inspect.signature(fn.fast).parameters)[len(fn.params):]
    return {n: Traced(sympy.Integer(1), 1.0) for n in names if n.startswith("d_out")}
