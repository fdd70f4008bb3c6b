"""``copy.copy(x)`` and ``copy.deepcopy(x)`` of the values symgrad follows (handlers of
:data:`symgrad.lower_builtins.STRUCTURED`).

A number is its own copy (numbers are immutable, and ``copy`` returns the same object);
a list is copied as ``xs[:]`` (a new list of the same elements: the copy's adjoint goes
back to the list's, element by element; a tuple's ``[:]`` is itself, as ``copy.copy``'s
is); a dict as ``{k: d[k] for k in d.keys()}``; an array as ``x.copy()``.  ``deepcopy``
copies the items of lists and dicts of lists (dicts, arrays) the same way, level by
level.  Anything else (an object, a module's value) is called as written: an error only
if a derivative has to flow through it."""

from __future__ import annotations

import ast
import copy
import itertools
from typing import Any

from .ir import Const, Global, Kind, Var
from .scope import Scope, Static, StaticTuple

__all__ = ["b_copy", "b_deepcopy"]

_names = itertools.count()
_MAX_DEPTH = 8          # levels of lists and dicts deepcopy copies one by one


def b_copy(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    return _copy_call(lw, scope, node, dest, deep=False)


def b_deepcopy(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    return _copy_call(lw, scope, node, dest, deep=True)


def _copy_call(lw: Any, scope: Scope, node: ast.Call, dest: Var | None, deep: bool) -> Any:
    fn = copy.deepcopy if deep else copy.copy
    if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
        args, kwargs = lw.call_args(scope, node)
        return lw.opaque_call(Global(fn.__name__, fn, "inject"), args, kwargs, node, dest,
                              f"copy.{fn.__name__}")
    return copied(lw, scope, lw.expr(scope, node.args[0]), node, dest, deep)


def copied(lw: Any, scope: Scope, v: Any, node: ast.AST, dest: Var | None, deep: bool) -> Any:
    """A copy of ``v`` (a lowered value)."""
    if type(v) is StaticTuple:      # (a tuple: itself, or a tuple of copies of its items)
        return v if not deep else v.like(tuple(copied(lw, scope, x, node, None, True)
                                               for x in v.items))
    if type(v) is not Var:
        if type(v) is Const or type(v) is Static and isinstance(v.obj, (int, float, str)):
            return v
        fn = copy.deepcopy if deep else copy.copy
        return lw.opaque_call(Global(fn.__name__, fn, "inject"), [lw.materialize(v, node)], {},
                              node, dest, f"copy.{fn.__name__}")
    kind = v.kind.find()
    if kind.tag is None:            # (a parameter not used yet: decided once kinds are
        out = lw.emit("copy", (v,), params={"copied": deep}, dest=dest)   # known, see
        lw.deferred.append(lw.block[-1])                   # analyze.settle_copies)
        return out
    if kind.tag == "num":
        return v
    if kind.tag == "obj":
        fn = copy.deepcopy if deep else copy.copy
        return lw.opaque_call(Global(fn.__name__, fn, "inject"), [v], {}, node, dest,
                              f"copy.{fn.__name__}")
    if kind.tag == "array":
        return lw.emit("np_copy", (v,), Kind.array(), {"spelling": "method"}, dest=dest)
    if kind.tag == "map" and kind.attrs is not True:
        value = "__deepcopy#(__dict#[key#])" if deep else "__dict#[key#]"
        return _comprehension(lw, scope, v, node, dest, deep,
                              f"{{key#: {value} for key# in __dict#.keys()}}")
    if kind.tag == "list" and deep and kind.element is not None and \
            kind.element.find().tag in ("list", "map", "array"):
        return _comprehension(lw, scope, v, node, dest, deep,
                              "[__deepcopy#(item#) for item# in __dict#]")
    if kind.tag == "list":
        return lw.emit("slice", (v, Const(None), Const(None), Const(None)), v.kind, dest=dest)
    fn = copy.deepcopy if deep else copy.copy       # (an object with fields)
    return lw.opaque_call(Global(fn.__name__, fn, "inject"), [v], {}, node, dest,
                          f"copy.{fn.__name__}")


def _comprehension(lw: Any, scope: Scope, v: Var, node: ast.AST, dest: Var | None,
                   deep: bool, text: str) -> Any:
    """The comprehension ``text`` (``__dict#`` is ``v``, ``__deepcopy#`` this handler)
    lowered in ``scope``, its names bound only while it is."""
    k = next(_names)
    names = {"__dict#": f"__copied#{k}", "__deepcopy#": f"__deepcopy#{k}"}
    for old, new in names.items():
        text = text.replace(old, new)
    tree = ast.parse(text.replace("#", "_H_"), mode="eval").body
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            n.id = n.id.replace("_H_", "#")
        ast.copy_location(n, node)
    depth = lw.__dict__.get("_copy_depth", 0)
    if depth >= _MAX_DEPTH:             # (a dict whose values' kinds meet in one: a value
        raise lw.error_at(node, "copy.deepcopy of values of different kinds in one dict "
                          "(or nested this deep)", "copy the parts one by one")
    scope.env[names["__dict#"]] = v
    scope.env[names["__deepcopy#"]] = Static(copy.deepcopy)
    lw.__dict__["_copy_depth"] = depth + 1
    try:
        if isinstance(tree, ast.DictComp):
            return lw.e_dictcomp(scope, tree, dest)
        return lw.e_listcomp(scope, tree, dest)
    finally:
        lw.__dict__["_copy_depth"] = depth
        del scope.env[names["__dict#"]], scope.env[names["__deepcopy#"]]
