"""The structures ``jvp``, ``vjp``, ``jacobian`` and ``hessian`` take and give: nested
lists, tuples, dicts and arrays of numbers, read as their numbers in order and rebuilt
from them, checked against each other, and tangents shared as their primals' lists are.

>>> leaves([1.0, (2.0, {"a": 3.0})]), unit((0.0, [0.0, 0.0]), 1)
([1.0, 2.0, 3.0], (0.0, [1.0, 0.0]))
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .errors import ArgumentError

__all__ = ["is_array", "leaves", "rebuild", "zeros", "unit", "is_zero", "shared_tangents",
           "shared_tangent", "add_in", "same_structure", "shape_text", "cotangent_args",
           "cotangent_count", "one_list"]

NUMBERS = frozenset((float, int))


def is_array(x: Any) -> bool:
    return type(x).__name__ == "ndarray" and type(x).__module__ == "numpy"


def leaves(x: Any) -> list:
    """The numbers in a (nested) structure of lists, tuples, dicts and arrays, in order."""
    if is_array(x):
        return x.ravel().tolist()
    if isinstance(x, (list, tuple)):
        out: list = []
        for v in x:
            out.extend(leaves(v))
        return out
    if isinstance(x, dict):
        out = []
        for v in x.values():
            out.extend(leaves(v))
        return out
    if _is_dataclass(x):
        out = []
        for f in dataclasses.fields(x):
            if f.init:          # (not one __post_init__ computes)
                out.extend(leaves(getattr(x, f.name)))
        return out
    return [x]


def rebuild(like: Any, values: Any) -> Any:
    """``like``'s structure filled with ``values`` (an iterator), in :func:`leaves` order
    (a NamedTuple or dataclass of the same class)."""
    if is_array(like):
        import numpy as np
        return np.array([next(values) for _ in range(like.size)], dtype=float).reshape(
            like.shape)
    if isinstance(like, tuple):
        items = [rebuild(v, values) for v in like]
        return type(like)(*items) if hasattr(like, "_fields") else tuple(items)
    if isinstance(like, list):
        return [rebuild(v, values) for v in like]
    if isinstance(like, dict):
        return {k: rebuild(v, values) for k, v in like.items()}
    if _is_dataclass(like):
        return dataclasses.replace(like, **{f.name: rebuild(getattr(like, f.name), values)
                                            for f in dataclasses.fields(like) if f.init})
    return next(values)


def _is_dataclass(x: Any) -> bool:
    return dataclasses.is_dataclass(x) and not isinstance(x, type)


def zeros(like: Any) -> Any:
    return rebuild(like, iter([0.0] * len(leaves(like))))


def unit(like: Any, k: int) -> Any:
    """Zeros shaped like ``like`` with 1.0 at leaf ``k``."""
    vals = [0.0] * len(leaves(like))
    vals[k] = 1.0
    return rebuild(like, iter(vals))


def is_zero(t: Any) -> bool:
    if type(t) is list and NUMBERS.issuperset(map(type, t)):
        return not any(t)
    if isinstance(t, (list, tuple)):
        return all(is_zero(v) for v in t)
    if isinstance(t, dict):
        return all(is_zero(v) for v in t.values())
    return isinstance(t, (int, float)) and t == 0


def shared_tangents(pairs: list) -> list:
    """Copies of the tangents in ``(primal, tangent)`` pairs (see :func:`shared_tangent`)."""
    memo: dict[int, Any] = {}
    return [shared_tangent(p, t, memo) for p, t in pairs]


def shared_tangent(p: Any, t: Any, memo: dict[int, Any]) -> Any:
    """A copy of tangent ``t`` (the sweep changes a tangent list where ``f`` changes
    its list), shared as the primal lists are: a list passed twice (or a row in two
    places) gets one tangent list, the sum of the tangents given for it, as it gets
    one gradient from ``grad``."""
    if isinstance(p, list) and isinstance(t, (list, tuple)):
        got = memo.get(id(p))
        if got is not None:
            add_in(got, t)
            return got
        if NUMBERS.issuperset(map(type, p)):
            out = memo[id(p)] = list(t)            # a flat list of numbers: one copy
            return out
        out = memo[id(p)] = []
        out.extend(shared_tangent(a, b, memo) for a, b in zip(p, t))
        return out
    if isinstance(p, dict) and isinstance(t, dict):
        return {k: shared_tangent(p[k], t[k], memo) for k in p}
    if isinstance(p, tuple) and isinstance(t, (list, tuple)):
        items = [shared_tangent(a, b, memo) for a, b in zip(p, t)]
        if hasattr(p, "_fields"):                  # a NamedTuple: read by field
            return type(p)(*items)
        return tuple(items)
    return t


def add_in(dst: list, src: Any) -> None:
    for k, v in enumerate(src):
        if isinstance(dst[k], list):
            add_in(dst[k], v)
        else:
            dst[k] = dst[k] + v


def same_structure(a: Any, b: Any, what: str, fname: str) -> None:
    ok = True
    if type(a) is list and type(b) in (list, tuple) and len(a) == len(b) and \
            NUMBERS.issuperset(map(type, a)) and NUMBERS.issuperset(map(type, b)):
        return                                          # a flat list of numbers
    if isinstance(a, (list, tuple)):
        ok = isinstance(b, (list, tuple)) and len(a) == len(b)
        if ok:
            for x, y in zip(a, b):
                same_structure(x, y, what, fname)
            return
    elif isinstance(a, dict):
        ok = isinstance(b, dict) and set(a) == set(b)
        if ok:
            for k in a:
                same_structure(a[k], b[k], what, fname)
            return
    elif isinstance(b, (list, tuple, dict)):
        ok = False
    if not ok:
        raise ArgumentError(f"{fname}: a {what} has the structure {shape_text(b)} where its "
                            f"primal has {shape_text(a)}; give a {what} shaped like each primal")


def shape_text(x: Any) -> str:
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of {len(x)}"
    if isinstance(x, dict):
        return f"dict with keys {sorted(map(str, x))}"
    return "a number"


def cotangent_args(out: Any, ct: Any) -> list:
    """One cotangent argument per returned number or list (as the generated vjp takes
    them): a tuple result takes a tuple of cotangents, nested alike."""
    if isinstance(out, tuple):
        if not isinstance(ct, (tuple, list)) or len(ct) != len(out):
            raise ArgumentError(f"vjp: the function returned a tuple of {len(out)}; give a "
                                f"cotangent of the same structure (got {shape_text(ct)})")
        args: list = []
        for o, c in zip(out, ct):
            args.extend(cotangent_args(o, c))
        return args
    same_structure(out, ct, "cotangent", "vjp")
    return [ct]


def one_list(out: Any, vf: Any) -> bool:
    """Does the generated vjp take one list cotangent for ``out``, a tuple (``x[:2]``, a
    slice of a tuple given where the code reads a list; ``tuple(xs)``)?"""
    return vf.cotangents == 1 and isinstance(out, tuple) and cotangent_count(out) != 1 \
        and all(not isinstance(o, (tuple, list, dict)) and getattr(o, "ndim", 0) == 0
                for o in out)


def cotangent_count(out: Any) -> int:
    """How many cotangent arguments a result takes (see :func:`cotangent_args`)."""
    return sum(map(cotangent_count, out)) if isinstance(out, tuple) else 1


def no_fields(values: list, names: list, fname: str, fn: Any = None, wrt: Any = None
              ) -> None:
    """Second order is differentiated with respect to numbers, lists and arrays: a
    dict, NamedTuple, dataclass or object parameter is refused by name, and so is a
    tuple (or list) of values of different kinds (``(scale, [w0, w1])``, or one that
    ``fn``'s gradient reads so: ``W, b = params``)."""
    tuples: set = set()
    if fn is not None and any(isinstance(v, (list, tuple)) for v in values):
        from contextlib import suppress
        from .errors import SymgradError
        with suppress(SymgradError):
            from .modes import _gradient_of
            tuples = {p for p, k in getattr(_gradient_of(fn, wrt), "_kinds", ()) if k == "seq"}
    for name, v in zip(names, values):
        if _mixed(v) or name in tuples and isinstance(v, (list, tuple)):
            raise ArgumentError(
                f"{fname}: parameter {name!r} is a {type(v).__name__} of values of different "
                f"kinds; {fname} differentiates with respect to numbers, lists of one kind "
                "of value and arrays (grad, jvp and vjp take such tuples).\n  hint: pass "
                f"its parts as separate parameters, or leave {name!r} out of wrt=")
        if isinstance(v, dict) or hasattr(v, "_fields") or (
                not isinstance(v, (int, float, list, tuple)) and not is_array(v)
                and hasattr(v, "__dict__")):
            raise ArgumentError(
                f"{fname}: parameter {name!r} is a {type(v).__name__}; {fname} differentiates "
                "with respect to numbers, lists and arrays (grad, jvp and vjp take dicts, "
                "NamedTuples and dataclasses).\n  hint: pass its numbers as separate "
                f"parameters, or leave {name!r} out of wrt=")


def _mixed(v: Any) -> bool:
    from .entry import is_mixed
    return is_mixed(v)
