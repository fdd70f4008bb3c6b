"""Loops over a fixed collection of functions or objects, written out item by item.

``for layer in self.layers: x = layer(x)``, ``[n(x) for n in self.neurons]``,
``for f in (math.sin, math.cos)``: the items are functions, callable objects or
objects with methods, known while lowering, so each is called as itself (inlined)
only if the loop is written out, one copy of its body per item (``enumerate`` gives
the index too).  The collection is a tuple or list display of such names, or a
module's list or tuple (``LAYERS``, ``model.layers``, ``self.neurons`` of an object
read when the code runs): the generated code was made from its items, so a call checks
the list still holds them (and the object is still the one there), and is made again
if not.  A ``continue`` ends an item's copy; a ``break`` is refused.
"""

from __future__ import annotations

import ast
import types
from typing import Callable

from .ir import Const, Global
from .lower_objects import is_record
from .scope import MISSING, Scope, Static, StaticDict, StaticTuple, is_compile_time, \
    is_operand, resolve_global

__all__ = ["UnrollLowering", "int_index"]


class UnrollLowering:
    """Loops over functions and objects known while lowering (see the module docstring)."""

    def unrolled_loop(self, scope: Scope, target: ast.expr, iter_node: ast.expr,
                      body: list | None, node: ast.AST, inner: Callable[[], None] | None,
                      after_iter: Callable[[], None] | None) -> bool:
        """Write the loop out when its items are known functions or objects (True)."""
        it, start_node = self.enumerated(scope, iter_node)
        start = self.expr(scope, start_node) if start_node is not None else None
        if start is not None and type(start) is not Const:
            return False
        items = self.static_items(scope, it)
        if items is None:
            return False
        from .lower_gen import _jumps, _jumps_last, _rewrite_jumps
        if body is not None and (_jumps(body, ast.Break) or not _jumps_last(body)):
            raise self.error_at(node, "a break out of a loop over functions or objects (the "
                                "loop is written out, one copy per item)",
                                "test a flag in the loop's body instead of breaking")
        if after_iter is not None:
            after_iter()
        stmts = _rewrite_jumps(body, None, ended=True) if body is not None else None
        for k, item in enumerate(items):
            if start is not None:
                item = StaticTuple((Const(start.value + k), item))
            was, self.unrolling = self.unrolling, True
            try:
                self.assign_value(scope, target, item, node)
            finally:
                self.unrolling = was
            if stmts is not None:
                self.body(scope, stmts)
            else:
                inner()     # type: ignore[misc]
        return True

    def static_items(self, scope: Scope, node: ast.expr) -> list | None:
        """The items of ``node`` when they are all functions or objects known while
        lowering (a display of their names, or a module's list or tuple of them:
        guarded), else None."""
        if isinstance(node, (ast.Tuple, ast.List)):
            if not node.elts or not all(isinstance(e, (ast.Name, ast.Attribute, ast.Lambda))
                                        for e in node.elts):
                return None
            values = [self.expr(scope, e) for e in node.elts]
            return values if not any(is_operand(v) or type(v) is StaticTuple
                                     for v in values) else None
        of = _dict_view(node)               # for name, f in cases.items() of functions
        if of is not None:
            bound = self.lookup(scope, of[0].id)
            if type(bound) is StaticDict and not all(is_operand(v)
                                                     for v in bound.items.values()):
                if of[1] == "values":
                    return list(bound.items.values())
                if of[1] == "items":
                    return [StaticTuple((Const(k), v)) for k, v in bound.items.items()]
                return [Const(k) for k in bound.items]
        if isinstance(node, ast.Name):      # (a tuple of functions bound to a name, or
            bound = self.lookup(scope, node.id)      # a parameter given one: funclist)
            if type(bound) is StaticTuple and bound.items and not any(
                    is_operand(v) and type(v) is not Const or type(v) is StaticTuple and
                    not is_record(v) for v in bound.items) and any(type(v) is not Const
                                                                    for v in bound.items):
                return list(bound.items)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                is_record(self.lookup(scope, node.value.id)):       # self.layers
            field = self.expr(scope, node)
            if type(field) is StaticTuple and field.cls is None and field.items and all(
                    is_record(v) or not is_operand(v) for v in field.items):
                return list(field.items)
        found = self.known_object(scope, node)
        if found is None:
            return None
        where, obj, pending = found
        if type(obj) not in (list, tuple) or not obj or not all(
                is_compile_time(v) and not isinstance(v, types.ModuleType) for v in obj):
            return None
        self.guards.update(pending)        # (the objects it was read from are still there)
        if where is not None:              # (a call checks the list still holds these items)
            self.guards[(where[0], id(where[1])) + where[2:]] = (where, _snapshot(obj))
        return [Static(v) for v in obj]

    def known_object(self, scope: Scope, node: ast.expr) -> tuple | None:
        """``(where, object, guards)`` for a name or attribute chain whose object is
        known while lowering: a global (``where`` for a guard), an object a method was
        inlined for (``self``), or an attribute of one; ``guards``: those of the objects
        read on the way that are data (read when the code runs: a call checks they are
        still the ones there).  None for anything else."""
        if isinstance(node, ast.Name):
            b = self.lookup(scope, node.id)
            if type(b) is Static or type(b) is Global and b.how == "inject":
                return None, b.obj, {}
            if b is not MISSING:
                return None
            where, value = resolve_global(scope.fs, node.id)
            if where != "global":
                return None
            place = ("global", scope.fs.globals, node.id)
            return place, value, {("global", id(scope.fs.globals), node.id): (place, value)}
        if isinstance(node, ast.Attribute):
            base = self.known_object(scope, node.value)
            if base is None or isinstance(base[1], (list, tuple, dict, int, float)):
                return None
            try:
                value = getattr(base[1], node.attr)
            except Exception:
                return None
            place = ("attr", base[1], node.attr)
            return place, value, {**base[2], ("attr", id(base[1]), node.attr): (place, value)}
        k = int_index(node.slice) if isinstance(node, ast.Subscript) else None
        if k is not None:                               # self.layers[-1].neurons
            base = self.known_object(scope, node.value)
            if base is None or type(base[1]) not in (list, tuple):
                return None
            items = base[1]
            if not -len(items) <= k < len(items) or not is_compile_time(items[k]):
                return None
            guards = dict(base[2])
            if base[0] is not None:
                guards[(base[0][0], id(base[0][1])) + base[0][2:]] = (base[0], _snapshot(items))
            return None, items[k], guards
        return None


def int_index(node: ast.expr) -> int | None:
    """The integer a subscript's index is written as (``0``, ``-1``), else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        k = int_index(node.operand)
        return -k if k is not None else None
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _snapshot(items: list | tuple) -> list | tuple:
    """What a guard compares a list with at each call (a copy: the list may change)."""
    return list(items) if type(items) is list else items


def _dict_view(node: ast.expr) -> tuple | None:
    """``(name, "items" | "values" | "keys")`` for ``d.items()`` (...) or ``d`` of a name
    ``d``, else None."""
    if isinstance(node, ast.Name):
        return node, "keys"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            isinstance(node.func.value, ast.Name) and not node.args and not node.keywords \
            and node.func.attr in ("items", "values", "keys"):
        return node.func.value, node.func.attr
    return None
