"""``with`` statements symgrad reads through, before lowering.

``with np.errstate(divide="ignore"):``, ``with warnings.catch_warnings():`` and
``with contextlib.nullcontext():`` change what numpy and Python *report* (a warning
shown or not), never a value: the body computes the same numbers with or without
them.  So the body is differentiated as if written without the ``with`` (and, inside
``catch_warnings``, the calls that set warning filters for the block are left out, as
the ``with`` would undo them at its end).  The generated code runs whole under an
``np.errstate`` of the settings read through (so the gradient is as quiet as the
function); warning filters set in a ``catch_warnings`` block are not reproduced.

What would change a value or the control flow is left for the lowering to refuse
with the line: ``np.errstate(all="raise")`` (a floating-point error raises there),
``catch_warnings(record=True) as w``, ``contextlib.suppress``, files, locks ...
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import sys
import warnings
from typing import Any, Callable

__all__ = ["read_through_contexts", "read_through_body", "errstate_of", "has_with"]

_MISSING = object()
#: warning-filter calls that only configure the block a catch_warnings restores
_FILTERS = (warnings.simplefilter, warnings.filterwarnings, warnings.resetwarnings)
#: errstate settings that change only what is reported
_QUIET = ("ignore", "warn", "print", "log")


def read_through_contexts(body: list[ast.stmt], globals_: dict, locals_: set,
                          error: Callable[..., Exception], quiet: dict) -> list[ast.stmt]:
    """``body`` with each ``with`` of the context managers above replaced by its body
    (a new list; the tree is not modified).  ``locals_``: the function's local names
    (a local ``np`` is not numpy); ``error(node, construct, hint)`` makes a refusal;
    ``quiet`` gathers the ``np.errstate`` settings read through (``{"divide":
    "ignore"}``), which the generated code runs under (:func:`errstate_of`)."""
    if not has_with(body):
        return body                   # (the common case: nothing to read through)
    out: list[ast.stmt] = []
    for s in body:
        if isinstance(s, ast.With):
            inner = _read_through(s, globals_, locals_, error, quiet)
            if inner is not None:
                out.extend(read_through_contexts(inner, globals_, locals_, error, quiet))
                continue
        elif isinstance(s, (ast.If, ast.For, ast.While)):
            s = copy.copy(s)
            s.body = read_through_contexts(s.body, globals_, locals_, error, quiet)
            s.orelse = read_through_contexts(s.orelse, globals_, locals_, error, quiet)
        out.append(s)
    return out


def read_through_body(fs: Any, tree: ast.FunctionDef, quiet: dict) -> list[ast.stmt]:
    """The body of function ``tree`` (of source ``fs``) read through (the body itself
    when it has no ``with``)."""
    if not has_with(tree.body):
        return tree.body
    from .desugar import assigned_names
    names = set(assigned_names(tree.body, fs.walrus)) | {
        a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
    return read_through_contexts(tree.body, fs.globals, names, fs.error, quiet)


def errstate_of(quiet: dict) -> str:
    """The keyword arguments of the ``np.errstate`` the generated code runs under: each
    setting the function's blocks asked for (``ignore`` where two blocks differ)."""
    return ", ".join(f"{k}={v!r}" for k, v in sorted(quiet.items()))


def has_with(body: list[ast.stmt]) -> bool:
    """Is there a ``with`` among the statements of ``body`` (at any depth)?"""
    return any(isinstance(n, ast.With) for n in _statements(body))


def _statements(body: list[ast.stmt]) -> Any:
    for s in body:
        yield s
        if isinstance(s, (ast.If, ast.For, ast.While, ast.With)):
            yield from _statements(s.body)
            yield from _statements(getattr(s, "orelse", []))


def _read_through(s: ast.With, globals_: dict, locals_: set,
                  error: Callable[..., Exception], quiet: dict) -> list[ast.stmt] | None:
    """The statements standing for ``s``, or None (left as it is: refused later)."""
    pre: list[ast.stmt] = []
    filters = False
    for item in s.items:
        call = item.context_expr
        if not isinstance(call, ast.Call):
            return None
        obj = _resolve(call.func, globals_, locals_)
        np = _numpy()
        if np is not None and obj is np.errstate:
            bad = [k for k in call.keywords if not (
                isinstance(k.value, ast.Constant) and k.value.value in _QUIET)]
            if call.args or bad or item.optional_vars is not None:
                raise error(s, "np.errstate with a setting that is not one of "
                            f"{', '.join(map(repr, _QUIET))} (with 'raise' a floating-point "
                            "error raises in the block, which changes what it computes)",
                            "call the function under np.errstate(...) instead: the "
                            "gradient runs under the caller's error state")
            for k in call.keywords:
                for name in (("divide", "over", "under", "invalid") if k.arg == "all"
                             else (k.arg,)):
                    old = quiet.get(name)
                    quiet[name] = k.value.value if old in (None, k.value.value) else "ignore"
        elif obj is warnings.catch_warnings:
            if call.args or call.keywords or item.optional_vars is not None:
                return None
            filters = True
        elif obj is contextlib.nullcontext:
            if item.optional_vars is not None:     # with nullcontext(v) as t: t = v
                value = call.args[0] if call.args else ast.Constant(None)
                assign = ast.copy_location(ast.Assign(targets=[item.optional_vars],
                                                      value=value), s)
                assign.end_lineno = s.lineno          # (its comment: the with line)
                pre.append(assign)
        else:
            return None
    body = [t for t in s.body if not (filters and _is_filter_call(t, globals_, locals_))]
    return pre + body


def _is_filter_call(s: ast.stmt, globals_: dict, locals_: set) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and \
        _resolve(s.value.func, globals_, locals_) in _FILTERS


def _resolve(node: ast.expr, globals_: dict, locals_: set) -> Any:
    """The object a dotted name (``np.errstate``, ``catch_warnings``) names in the
    function's module, or a marker when it is not one (a local, a call ...)."""
    if isinstance(node, ast.Name):
        if node.id in locals_:
            return _MISSING
        return globals_.get(node.id, getattr(builtins, node.id, _MISSING))
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, globals_, locals_)
        return _MISSING if base is _MISSING else getattr(base, node.attr, _MISSING)
    return _MISSING


def _numpy() -> Any:
    return sys.modules.get("numpy")
