"""Proofs and tidying of SymPy expressions, each within a time limit.

:func:`is_zero` is how :func:`symgrad.check` proves the generated gradient equal to
``sympy.diff``: their difference simplifies to zero.  :func:`tidy` picks the shortest of a
few rewritings of an expression for display.  SymPy can take a very long time on large
expressions, so both give up after a few seconds (and skip huge expressions outright).

>>> import sympy
>>> x = sympy.Symbol("x")
>>> is_zero(sympy.sin(x) ** 2 + sympy.cos(x) ** 2 - 1)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

from .budget import Budget

__all__ = ["capped", "diff_floor0", "evalf", "is_zero", "tidy"]

T = TypeVar("T")
SIMPLIFY_SECONDS = 4.0       # per expression
CHECK_SIMPLIFY_BUDGET = 12.0  # per check() / symbolic() call
_SIMPLIFY_MAX_OPS = 1500     # larger expressions are not simplified,
_EXPAND_MAX_OPS = 50000      # and larger differences are only compared at the point


def capped(work: Callable[[], T], seconds: float = SIMPLIFY_SECONDS) -> T | None:
    """``work()``, or None when it raises or runs out of ``seconds`` (it runs in this thread
    under a :class:`~symgrad.budget.Budget`, so it is stopped, not abandoned; an enclosing
    budget's time limit applies too).

    >>> capped(lambda: 6 * 7)
    42
    >>> capped(lambda: 1 / 0) is None
    True
    """
    def guarded() -> T | None:
        try:
            return work()
        except Exception:  # noqa: BLE001 - a failed simplification proves nothing
            return None
    return Budget(seconds).run(guarded)


def _simplify(expr: Any) -> Any | None:
    """``sympy.simplify(expr)`` within the time limit, or None (also for huge expressions)."""
    import sympy
    if not isinstance(expr, sympy.Basic) or expr.is_Atom:
        return expr
    if sympy.count_ops(expr) > _SIMPLIFY_MAX_OPS:
        return None
    return capped(lambda: sympy.simplify(expr))


def tidy(expr: Any) -> Any:
    """The shortest of ``expr``, a few cheap rewritings of it and (for a longer expression,
    within the time limit) ``sympy.simplify`` of it.

    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> tidy(x / y + 1 / y)
    (x + 1)/y
    """
    import sympy
    if not isinstance(expr, sympy.Basic) or expr.is_Atom:
        return expr
    cands = [expr]
    for rewrite in (sympy.cancel, sympy.factor_terms, sympy.together):
        try:
            cands.append(rewrite(expr))
        except Exception:  # noqa: BLE001, S110 - keep the others
            pass
    best = min(cands, key=sympy.count_ops)
    if sympy.count_ops(best) > 12:
        s = _simplify(best)
        if s is not None and sympy.count_ops(s) < sympy.count_ops(best):
            best = s
    return best


def is_zero(expr: Any) -> bool:
    """Is ``expr`` identically zero?  ``expand`` first (cheap, and enough when both sides are
    sums of the same products), then on smaller expressions ``cancel``, exponentials
    expanded, and ``simplify``; together within 4 s (and any enclosing time limit).

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> is_zero((x + 1) ** 2 - x * x - 2 * x - 1)
    True
    >>> is_zero(x - 1)
    False
    """
    import sympy
    if expr == 0:
        return True
    ops = sympy.count_ops(expr)
    attempts = [sympy.expand] if ops <= _EXPAND_MAX_OPS else []
    if ops <= _SIMPLIFY_MAX_OPS:
        attempts += [sympy.cancel, lambda e: sympy.expand(e.rewrite(sympy.exp)), sympy.simplify]

    def work() -> bool:
        return any(attempt(expr) == 0 for attempt in attempts)
    return bool(attempts) and bool(capped(work))


def evalf(expr: Any, point: dict[Any, float]) -> float:
    """``expr`` at the point (30 significant digits) as a float; nan if not real.

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> evalf(sympy.sqrt(x), {x: 4.0}), evalf(sympy.sqrt(x), {x: -4.0})
    (2.0, nan)
    """
    import sympy
    try:
        v = complex(sympy.sympify(expr).xreplace(
            {s: sympy.Float(x, 30) for s, x in point.items()}).evalf(30))
    except (TypeError, ValueError):
        return math.nan
    return v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v.real)) else math.nan


def diff_floor0(expr: Any) -> Any:
    """Take the derivative of ``floor`` as 0 (true wherever floor is continuous).

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> diff_floor0(sympy.diff(x * sympy.floor(x), x))
    floor(x)
    """
    import sympy
    expr = expr.replace(lambda e: isinstance(e, sympy.Derivative) and e.expr.func == sympy.floor,
                        lambda e: sympy.S.Zero)
    return expr.replace(lambda e: isinstance(e, sympy.Subs), lambda e: e.doit())
