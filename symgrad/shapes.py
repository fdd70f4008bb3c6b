"""Broadcast patterns of arrays: which dimensions are 1.

A *pattern* is a tuple with one entry per dimension: ``1`` (size one), ``"n"``
(not one) or ``"?"`` (unknown); ``()`` is a number and ``None`` an array of unknown
rank.  A gradient specialized for array arguments knows their patterns (from the
arguments' shapes), and this pass carries them through the function, so the
reverse pass knows where broadcasting happened (``np.sum(g, axis=0)``) and the
rank of each product (``np.outer(d_h, x)`` for a matrix times a vector).  Where a
pattern is unknown the generated code asks at run time, with a small helper.
"""

from __future__ import annotations

from typing import Any

from . import rules
from .array_ops import ARRAY_OPS, broadcast
from .static_args import Fixed, patterns_of
from .ir import (CLASS_PARAMS, DICT_PARAMS, GENERATORS, INT_ARRAYS, INT_LISTS, SEQ_PARAMS, Const, Eqn, For,
                 If, Var, While)

__all__ = ["patterns", "argument_pattern", "given_patterns"]


def argument_pattern(a: Any) -> tuple:
    """An array argument's pattern (1 or "n" per dimension), ending with "int" for an
    integer or bool array (numpy truncates what is written into it)."""
    kind = getattr(getattr(a, "dtype", None), "kind", "f")
    if kind == "c":        # (the rules are for real numbers: |z| or z.real would be wrong)
        from .errors import ArgumentError
        raise ArgumentError(f"an argument is a complex array (dtype {a.dtype}); symgrad "
                            "differentiates real numbers and real arrays.\n  hint: pass the "
                            "real and imaginary parts as two real arrays")
    return tuple(1 if d == 1 else "n" for d in a.shape) + (("int",) if kind in "biu" else ())


def given_patterns(names: Any, key: tuple) -> dict:
    """The patterns a transform is given, by parameter name, from one pattern (or None;
    ``"array"``: an array of any shape) per argument; the names of the integer arrays under ``INT_ARRAYS``, of the
    parameters given dicts (``"dict"`` in ``key``) under ``DICT_PARAMS``, the values of
    the parameters fixed (a :class:`~symgrad.static_args.Fixed` in ``key``) under
    ``FIXED_PARAMS``."""
    from .param_classes import ClassOf
    fixed = {p: k for p, k in zip(names, key) if type(k) is Fixed}
    classes = {p: k if k.items else k.cls for p, k in zip(names, key) if type(k) is ClassOf}
    key = tuple(None if type(k) in (Fixed, ClassOf) else k for k in key)
    out: dict[str, Any] = {p: None if k == "array" else k[:-1] if k[-1:] == ("int",) else k
                           for p, k in zip(names, key)
                           if k not in (None, "dict", "seq", "generator")
                           and not (type(k) is str and k.startswith("ints"))}
    out.update(patterns_of(fixed))
    ints = frozenset(p for p, k in zip(names, key) if k and k[-1:] == ("int",))
    if ints:
        out[INT_ARRAYS] = ints
    gens = frozenset(p for p, k in zip(names, key) if k == "generator")
    if gens:
        out[GENERATORS] = gens
    int_lists = {p: int(k[4:]) for p, k in zip(names, key)
                 if type(k) is str and k.startswith("ints")}
    if int_lists:
        out[INT_LISTS] = int_lists
    dicts = frozenset(p for p, k in zip(names, key) if k == "dict")
    if dicts:
        out[DICT_PARAMS] = dicts
    seqs = frozenset(p for p, k in zip(names, key) if k == "seq")
    if seqs:
        out[SEQ_PARAMS] = seqs
    if classes:
        out[CLASS_PARAMS] = classes
    return out

_ELEMENTWISE_EXTRA = {"select", "neg", "lt", "le", "gt", "ge", "eq", "ne", "not", "and"}


def patterns(body: list, params: list[Var], given: dict[str, Any]) -> dict[Var, Any]:
    """The pattern of every array variable of ``body`` (parameters from ``given``)."""
    pats: dict[Var, Any] = {}
    for p in params:
        if p.kind.find().tag == "array":
            pats[p] = given.get(p.name)
    _block(body, pats, [0, {}])
    return pats


def pattern_of(pats: dict, a: Any) -> Any:
    if type(a) is Var:
        tag = a.kind.find().tag
        if tag == "array":
            return pats.get(a)
        # a number, unless it was read out of a container (then maybe an array)
        return pats.get(a, ()) if tag in ("num", None) else None
    if type(a) is Const:
        return () if isinstance(a.value, (int, float)) else None
    return None


def _set(pats: dict, v: Var, p: Any) -> bool:
    """Record ``v``'s pattern (joined with an earlier one in a loop); changed?"""
    tag = v.kind.find().tag
    if tag != "array" and (tag not in ("num", None) or p == () and v not in pats):
        return False
    if v not in pats:
        pats[v] = p
        return True
    old = pats[v]
    if old == p:
        return False
    if old is None or p is None or len(old) != len(p):
        new = None
    else:
        new = tuple(a if a == b else "?" for a, b in zip(old, p))
    if new != old:
        pats[v] = new
        return True
    return False


def _block(block: list, pats: dict, state: list) -> bool:
    """One pass over ``block`` (loops to a fixed point); did a pattern change?
    ``state`` is ``[changes so far, {loop: changes when it last reached its fixed
    point}]``: a loop met again with no change anywhere since is skipped, as a pass
    would change nothing (without that, nested loops cost exponential time)."""
    changed = False
    for s in block:
        t = type(s)
        if t is Eqn:
            if s.outs and _set(pats, s.outs[0], _eqn(s, pats)):
                changed = True
                state[0] += 1
        elif t is If:
            changed |= _block(s.then, pats, state)
            changed |= _block(s.orelse, pats, state)
        elif t in (For, While):
            if state[1].get(id(s)) == state[0]:
                continue
            body = s.body if t is For else s.test + s.body
            for _ in range(4):                       # to a fixed point (patterns only widen)
                if not _block(body, pats, state):
                    state[1][id(s)] = state[0]
                    break
                changed = True
    return changed


def _eqn(e: Eqn, pats: dict) -> Any:
    p = e.prim
    args = [pattern_of(pats, a) for a in e.args]
    if p in rules.RULES or p in _ELEMENTWISE_EXTRA:
        return broadcast(*args)
    if p == "copy":
        return args[0] if args else None
    if p == "getitem":          # an element of a list or dict: a number or an array
        return None
    if p == "aget":
        return _index_pattern(args[0], (e.params or {}).get("index", ()), e.args)
    if p == "call" and (e.params or {}).get("elementwise"):    # np.signbit(y)
        return broadcast(*args[1:])
    if p == "call" and (e.params or {}).get("np_name"):
        return _constructor_pattern(e.params["np_name"], e.args[1:], args[1:], e.params)
    op = ARRAY_OPS.get(p)
    if op is not None:
        try:
            return op.shape(args, e.params or {})
        except (TypeError, ValueError, IndexError):
            return None
    return None


def _constructor_pattern(name: str, args: tuple, pats: list, params: dict) -> Any:
    """``np.zeros(3)`` is a vector, ``np.zeros((n, 1))`` a column, ``np.zeros_like(x)``
    shaped as ``x``."""
    if params.get("kw"):
        return None
    if name in ("zeros_like", "ones_like", "empty_like", "full_like"):
        return pats[0] if pats else None
    if name in ("arange", "linspace"):
        return ("?",)
    if name in ("eye", "identity"):
        return ("?", "?")
    if name in ("zeros", "ones", "empty", "full") and args:
        shape = args[0]
        if type(shape) is Const:
            dims = shape.value if isinstance(shape.value, tuple) else (shape.value,)
            return tuple(1 if d == 1 else "n" if isinstance(d, int) else "?" for d in dims)
        if type(shape) is Var and shape.kind.find().tag == "num":
            return ("?",)
    return None


def _index_pattern(x: Any, template: tuple, args: tuple) -> Any:
    """The pattern of ``x[index]`` (None when an index array is involved)."""
    if x is None:
        return None
    used = sum(1 for it in template if it[0] in ("i", "s", "a"))
    out: list = []
    k = 0
    for it in template:
        kind = it[0]
        if kind == "e":
            skip = len(x) - used
            out.extend(x[k:k + skip])
            k += skip
        elif kind == "n":
            out.append(1)
        elif kind == "i":
            k += 1
        elif kind == "s":
            if k >= len(x):
                return None
            full = all(type(part) is Const and part.value is None for part in it[1:])
            out.append(x[k] if full else "?")
            k += 1
        else:
            return None
    if k > len(x):
        return None
    return tuple(out) + tuple(x[k:])


def refuse_math_on_arrays(body: list, params: list[Var], given: dict[str, Any]) -> None:
    """What Python itself refuses for an array with dimensions, refused here with the
    line and what to write: a ``math`` function of it (``math.sin(x)``: TypeError), and
    its truth in ``if``/``while`` (``if x > 0``: ValueError).  A 0-d array is fine."""
    from .errors import UnsupportedSyntaxError
    from .ir import walk
    pats: dict | None = None

    def refuse(loc: Any, construct: str, hint: str) -> None:
        raise UnsupportedSyntaxError(construct, hint, loc.filename if loc else "<unknown>",
                                     loc.lineno if loc else 0, line=loc.text if loc else "")
    for e in walk(body):
        t = type(e)
        if t in (If, While):
            if pats is None:
                pats = patterns(body, params, given)
            if pattern_of(pats, e.cond):
                refuse(e.loc, "the truth of an array (an if or while on an array's "
                       "values)", "reduce it to one number (np.all, np.any, np.sum) or "
                       "choose per element with np.where(cond, a, b)")
            continue
        if t is Eqn and e.prim == "len" and "vector_only" in (e.params or {}):
            if pats is None:
                pats = patterns(body, params, given)
            p = pattern_of(pats, e.args[0])
            if p is not None and len(p) != 1:        # (not known: tested when it runs)
                what = (e.params or {})["vector_only"]
                refuse(e.loc, f"{what} of an array that may not be a vector (of a matrix it "
                       "gives lists of lists)",
                       "index the array directly, or call list(x) for its rows")
            continue
        if t is not Eqn or (e.params or {}).get("flavor") != "math":
            continue
        rule = rules.RULES.get(e.prim)
        if rule is None or not rule.math_name:
            continue
        if pats is None:
            pats = patterns(body, params, given)
        if any(pattern_of(pats, a) for a in e.args):          # known rank >= 1
            alt = f"np.{rule.numpy_name}" if rule.numpy_name else "a numpy function"
            refuse(e.loc, f"math.{rule.math_name} of an array (math functions take "
                   "numbers)", f"use {alt} for arrays")
