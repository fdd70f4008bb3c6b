"""Lowering a call of anything Python can call with plain parameters that is not a
plain function (a ``functools.wraps`` wrapper, a bound method, a ``functools.partial``,
an object with ``__call__``): the call is inlined, exactly as Python runs it."""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

from .ir import Kind, Var
from .scope import Scope, Static, StaticTuple, is_operand
from .source import SourceError, c_wrapper_error, describe, get_source, python_function_inside

__all__ = ["lower_call_of"]


def lower_call_of(fn: Any, structured: bool = False, patterns: dict | None = None,
                  repeats: frozenset = frozenset()) -> Any:
    """:func:`symgrad.lower.lower` of what is not a plain function: a call to it, with
    its parameters (from its signature) as the arguments (``repeats``: see
    :class:`symgrad.lower._Repeats`)."""
    from .lower import Lowerer
    inner = python_function_inside(fn)
    if inner is None:
        get_source(fn)                     # raises the clear SourceError
        raise AssertionError("unreachable")  # pragma: no cover
    if not isinstance(fn, types.FunctionType) and hasattr(fn, "__wrapped__") and \
            not isinstance(fn, (types.MethodType, functools.partial)):
        raise c_wrapper_error(fn, inner)
    fs = get_source(inner)
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise SourceError(f"symgrad cannot read the parameters of {describe(fn)}: {exc}") \
            from None
    lw = Lowerer(fs)
    lw.structured = structured
    lw.param_patterns = dict(patterns or {})
    lw.list_repeats = repeats
    lw.scope_fs = fs
    scope = Scope(fs, label="")
    scope.is_top = True  # type: ignore[attr-defined]
    params, args, kwargs = [], [], {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise fs.error(fs.tree, f"the parameter {p} (*args or **kwargs)",
                           "give the differentiated function "
                           "plain parameters (or decorate it with functools.wraps, so its "
                           "parameters are known)")
        v = Var(p.name, name=p.name)
        if p.name in (patterns or {}):
            v.kind = Kind.array()
            lw.array_ranks[v] = None if patterns[p.name] is None else len(patterns[p.name])
        else:
            lw.container_param(v)
        params.append(v)
        b = scope.env[p.name] = lw.param_binding(v)
        (kwargs.__setitem__(p.name, b) if p.kind is p.KEYWORD_ONLY else args.append(b))
    lw.set_loc(scope, fs.tree, header=True)
    result = lw.apply(scope, Static(fn), args, kwargs, fs.tree, None)
    if is_operand(result) or type(result) is StaticTuple:
        result = lw.returned(scope, result, fs.tree)
    lowered = lw.finish(fn, fs, scope, params, result)
    for p, v in zip(sig.parameters.values(), params):
        if p.default is not p.empty:
            lowered.func.defaults[v] = lw.default_value(p.default)
    return lowered

