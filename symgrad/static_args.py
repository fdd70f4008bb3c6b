"""Arguments used where symgrad needs a value before the code runs.

``np.einsum(spec, a, b)`` with the subscripts passed in, ``np.sum(x, axis=axis)``,
``np.split(x, n)`` or ``np.pad(x, widths)`` with the axis, count or widths a parameter:
the generated code depends on the value (which axis is summed decides where the
adjoint broadcasts back), so it cannot be made before the call.  Lowering marks such
an error with the parameter it reads (:func:`mark`); the caller then makes the
gradient for the argument's value, as ``jax.jit`` does for ``static_argnums`` but
found by itself: the value becomes a constant of that gradient (:func:`binding`), each
call checks its arguments' values against the ones it was made for (:class:`Fixed` in
the key of the gradients made so far), and another value gets another gradient.

Only values that compare exactly can be fixed so: ints, floats, strings, bools,
``None`` and tuples of them.  A parameter fixed so has no derivative: a
differentiated one (in ``wrt``, or given a tangent) is refused when its value is a
number in a place where it is a value (``np.pad``'s ``constant_values``, a norm's
``ord``, ``ddof``), since its derivative there would not be zero.
"""

from __future__ import annotations

import operator
import types
import weakref
from typing import Any, Callable

from .errors import ArgumentError, SymgradError
from .ir import FIXED_AT_USE, FIXED_PARAMS, Const, Global, Var
from .scope import Static, StaticTuple

__all__ = ["Fixed", "fixed", "fixed_key", "binding", "mark", "learn", "fixed_values", "known_for",
           "zero_of", "patterns_of", "counted_param", "fold_known", "note_known",
           "VALUE_ROLES"]

#: static places where a number is a value the result depends on smoothly (a fixed
#: differentiated argument there would get a derivative of zero, which is wrong)
VALUE_ROLES = frozenset({"constant_values", "ord", "ddof", "prepend", "append"})

_ATOMS = (int, float, str, bool, type(None))


def fixed_key(value: Any) -> Any:
    """A hashable key naming ``value`` with its type (``1``, ``1.0`` and ``True``
    differ), or None when the value cannot be fixed (a list, an array, an object)."""
    t = type(value)
    if t in _ATOMS:
        return (t.__name__, value) if value == value else None     # (nan != nan)
    if t is tuple:
        keys = tuple(fixed_key(v) for v in value)
        return None if None in keys else ("tuple", keys)
    if _plain_function(value):       # (by identity: its code and defaults are fixed)
        return ("function", value)
    np = _numpy_scalar(value)
    return None if np is None else fixed_key(np)


def _plain_function(value: Any) -> bool:
    """A function whose behaviour its identity fixes: one written in Python, a builtin,
    a numpy ufunc or function (not an object whose state could change)."""
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
        return True
    return type(value).__module__ == "numpy" and type(value).__name__ in (
        "ufunc", "_ArrayFunctionDispatcher")


def _numpy_scalar(value: Any) -> Any:
    """A numpy integer or bool as the Python int or bool it equals, else None."""
    if type(value).__module__ != "numpy" or not hasattr(value, "item"):
        return None
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    return value.item() if kind in "biu" and getattr(value, "ndim", 1) == 0 else None


class Fixed:
    """An argument's entry in the key of a specialized gradient: its value, fixed.
    ``at_use``: the parameter is differentiated and its value holds numbers, so it
    stays a variable (its derivative where it is arithmetic is the usual one) and
    only the places that need its value read the constant."""

    __slots__ = ("value", "key", "at_use")

    def __init__(self, value: Any, key: Any, at_use: bool = False):
        self.value = value
        self.key = key
        self.at_use = at_use

    def __eq__(self, other: Any) -> bool:
        return type(other) is Fixed and other.key == self.key and other.at_use == self.at_use

    def __hash__(self) -> int:
        return hash(("fixed", self.key, self.at_use))

    def __repr__(self) -> str:
        return f"Fixed({self.value!r}{', at_use=True' if self.at_use else ''})"


def fixed(value: Any, differentiated: bool = False) -> Fixed:
    """``value``'s entry in the key of a gradient made for it.  A list is fixed by its
    type only (a model of numpy asking ``isinstance(sections, int)``): it stays a
    variable, since it could change before a later use."""
    if type(value) is list:
        return Fixed(value, ("type", "list"), True)
    return Fixed(value, fixed_key(value), differentiated and _has_numbers(value))


def patterns_of(entries: dict) -> dict:
    """The transform's patterns for the fixed parameters ``entries`` (name ->
    :class:`Fixed`): the constants under ``FIXED_PARAMS``, the values read only where
    they are needed under ``FIXED_AT_USE``."""
    out: dict = {}
    for name, f in entries.items():
        out.setdefault(FIXED_AT_USE if f.at_use else FIXED_PARAMS, {})[name] = f.value
    return out


def binding(value: Any) -> Any:
    """The lowering's binding of a fixed argument: a constant, or a tuple of them."""
    np = _numpy_scalar(value)
    if np is not None:
        value = np
    if type(value) is tuple:
        return StaticTuple(tuple(binding(v) for v in value))
    if _plain_function(value):
        return Static(value)
    return Const(value)


def zero_of(value: Any) -> Any:
    """The gradient of a fixed parameter: zeros for numbers (a tuple of them for a
    tuple), None for what is not a number (a string, None, a bool)."""
    if type(value) is tuple:
        return tuple(zero_of(v) for v in value)
    return 0.0 if _has_numbers(value) else None


#: operations a value needed before the code runs may be computed with from parameters
#: (``axis=k - 1``): once the parameters are fixed, lowering folds them
_FOLD = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
         "div": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
         "pow": operator.pow, "neg": operator.neg, "copy": lambda v: v, "len": len,
         "max_of": lambda *vs: max(vs), "min_of": lambda *vs: min(vs),
         "tuple": lambda *vs: vs}
_FOLDABLE = frozenset(_FOLD)
#: and the tests a branch on such a value makes (see :func:`fold_known`)
_TESTS = {**_FOLD, "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
          "gt": operator.gt, "ge": operator.ge, "not": operator.not_}


def note_known(known: dict, out: Var, value: Any, certain: bool) -> None:
    """After a write of ``out``: its value, when computed from parameters fixed at use
    and constants (:func:`fold_known`), is known from here on if the write is
    ``certain`` (a fresh variable, or a name written in straight-line code; a write
    inside a branch or loop may not run: then the name is no longer known)."""
    if value is NOT_FOLDED or not certain:
        known.pop(out, None)
    else:
        known[out] = value


def fold_known(prim: str, args: tuple, known: dict) -> Any:
    """The value of ``prim(args)`` when each argument is a constant or a variable whose
    value ``known`` holds (a differentiated parameter fixed at use, :class:`Fixed`, and
    what is computed from it), else :data:`NOT_FOLDED`.  So ``if n == 0`` of such an
    ``n`` takes its branch while the code is made (the gradient is made for that value,
    and ``n`` stays a variable where it is arithmetic): a recursion counted down by a
    differentiated ``n`` unrolls."""
    op = _TESTS.get(prim)
    if op is None:
        return NOT_FOLDED
    values = []
    for a in args:
        if type(a) is Const and type(a.value) in _ATOMS:
            values.append(a.value)
        elif type(a) is Var and a in known:
            values.append(known[a])
        else:
            return NOT_FOLDED
    try:
        return op(*values)
    except Exception:          # (1 // 0: left to the code, which raises as Python does)
        return NOT_FOLDED


def mark(err: SymgradError, value: Any, params: dict, role: str,
         block: list | None = None) -> SymgradError:
    """``err`` (the error for a place needing a value before the code runs), marked
    with the parameter it reads when ``value`` is one as it was passed in, or is
    computed from parameters and constants in ``block`` (the statements lowered so far:
    fixing one parameter at a time, the next try folds more of it)."""
    found = _sources(value, params, block or [], 0)
    if found:
        err.static_param = params[found[0]]       # type: ignore[attr-defined]
        err.static_role = role                    # type: ignore[attr-defined]
    return err


def _sources(value: Any, params: dict, block: list, depth: int) -> list | None:
    """The parameters ``value`` is computed from, or None (computed from anything else:
    data, a call, a loop variable)."""
    if type(value) is Const or type(value) is Global:    # (a module, a global)
        return []
    if type(value) is StaticTuple:
        out: list = []
        for v in value.items:
            got = _sources(v, params, block, depth + 1)
            if got is None:
                return None
            out += got
        return out
    if type(value) is not Var or depth > 8:
        return None
    if value in params:
        return [value]
    e = _defining(value, block)
    if e is None:
        return None
    args = e.args
    if e.prim == "call" and args and type(args[0]) is Global and \
            args[0].obj is getattr:         # getattr(math, name)
        args = args[1:]
    elif e.prim not in _FOLDABLE or len(e.outs) != 1:
        return None
    return _sources(StaticTuple(tuple(args)), params, block, depth + 1)


def counted_param(args: list, params: dict, block: list) -> str | None:
    """The parameter a recursive call counts with (``power(x, n - 1)``, ``fib(n - 2)``,
    ``halve(x, n // 2)``): the first argument computed from one parameter alone by
    adding, subtracting or floor-dividing an int, or None.  Fixed (the gradient made for
    each of its values), it fixes the recursion's depth."""
    for a in args:
        if type(a) is not Var or a in params:
            continue
        e = _defining(a, block)
        if e is None or e.prim not in ("add", "sub", "floordiv") or not any(
                type(b) is Const and type(b.value) is int for b in e.args):
            continue
        found = _sources(a, params, block, 0)
        if found and len(set(found)) == 1:
            return params[found[0]]
    return None


def _defining(value: Var, block: list) -> Any:
    """The equation among the last statements of ``block`` that computes ``value``."""
    for e in reversed(block[-64:]):
        if getattr(e, "outs", None) and e.outs[0] is value:
            return e
    return None

def fold(value: Any, block: list, constant: Callable[[Global], Any], depth: int = 0) -> Any:
    """The value of ``value`` when it is computed in ``block`` from literals and constants
    only (``AX - 1``, ``(N, M // 2)``), else :data:`NOT_FOLDED`; ``constant(g)`` is a
    global's value (registering it to be checked on each call), or NOT_FOLDED."""
    if type(value) is Const:
        return value.value
    if type(value) is Global:
        return constant(value)
    if type(value) is StaticTuple:
        items = tuple(fold(v, block, constant, depth + 1) for v in value.items)
        return NOT_FOLDED if any(v is NOT_FOLDED for v in items) else items
    e = _defining(value, block) if type(value) is Var and depth <= 8 else None
    if e is None or e.prim not in _FOLD or len(e.outs) != 1:
        return NOT_FOLDED
    args = [fold(a, block, constant, depth + 1) for a in e.args]
    if any(a is NOT_FOLDED for a in args):
        return NOT_FOLDED
    try:
        return _FOLD[e.prim](*args)
    except (TypeError, ValueError, ArithmeticError):
        return NOT_FOLDED           # (the code raises it when it runs)


#: what :func:`fold` returns for a value it cannot compute before the code runs
NOT_FOLDED = type("NotFolded", (), {"__repr__": lambda self: "NOT_FOLDED"})()


def learn(exc: BaseException, names: list, values: tuple, known: dict) -> str | None:
    """After ``exc``, the parameter it asks to be fixed (added to ``known``: name ->
    role), if its value can be; else None (``exc`` is the error to raise)."""
    name = getattr(exc, "static_param", None)
    if name is None or name in known or name not in names:
        return None
    i = names.index(name)
    role = getattr(exc, "static_role", "")
    if i >= len(values) or fixed_key(values[i]) is None and not (
            type(values[i]) is list and role == ""):
        return None
    known[name] = role
    return name


def fixed_values(names: list, values: tuple, known: dict, differentiated: Any,
                 fname: str) -> dict | None:
    """The entries (name -> :class:`Fixed`) of the parameters ``known`` asks to fix, or
    None when one of them cannot be fixed (a list given); a differentiated parameter
    is refused (raising) where its value is a value the result depends on
    (``constant_values``), whose derivative a constant would make zero."""
    out = {}
    for name, role in known.items():
        i = names.index(name)
        value = values[i] if i < len(values) else None
        if fixed_key(value) is None and not (type(value) is list and role == ""):
            return None
        if i in differentiated and role in VALUE_ROLES and _has_numbers(value):
            raise ArgumentError(
                f"{fname}: the gradient is made for the value of {name} (as {role}=), a "
                f"constant of it, so {name} cannot also be differentiated there: its value "
                f"{value!r} is a number the result depends on.\n  hint: leave it out of "
                "wrt= (or give it a zero tangent), or write that step out in arithmetic")
        out[name] = fixed(value, i in differentiated)
    return out


#: per function, the parameters found to need fixing (name -> role): shared by grad,
#: jvp, vjp, hvp, hessian and jacobian
KNOWN: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def known_for(fn: Any) -> dict | None:
    """The parameters ``fn`` is known to need fixed (a dict to add to), or None for a
    function that cannot be a weak key."""
    try:
        return KNOWN.setdefault(fn, {})
    except TypeError:
        return None


def _has_numbers(value: Any) -> bool:
    """Does ``value`` hold a number (an int or float, not a bool)?"""
    if type(value) is tuple:
        return any(_has_numbers(v) for v in value)
    return type(value) in (int, float) or _numpy_scalar(value) is not None and \
        type(_numpy_scalar(value)) is int
