"""Methods of dicts (a mixin of :class:`symgrad.lower.Lowerer`): ``d.copy()``,
``d.keys()``/``d.values()``, ``d.update(...)``, merges (``{**d, "c": c}``, ``d | e``),
``d.get(k, default)`` and ``d.setdefault(k, default)`` as
branches on ``k in d``, so that the gradient flows into ``d[k]`` or into the default,
whichever Python returns; and functions read from a module-level dict under a literal
key (``ACTS[CFG["act"]]``), known while lowering and guarded."""

from __future__ import annotations

import ast
import types
from typing import Any

from .ir import Const, Eqn, Global, Kind, Var
from .scope import Scope, Static, is_compile_time
from .source import MISSING

__all__ = ["DictLowering", "NOT_DICT"]

#: dict_method: not a method of a dict
NOT_DICT = object()


def _tape_marker(value: Any) -> bool:
    """Is ``value`` the marker generated code saves for a dict key that was absent
    (``d.get(k, _MISSING)``, kept as written)?"""
    from .emit_forms import missing_marker
    return type(value) is Global and value.obj is missing_marker()


class DictLowering:
    """``d.get``, ``d.setdefault``, ``d.keys()`` ... of a dict (or a value that may be one)."""

    def dict_method(self, scope: Scope, base: Any, kb: Kind, name: str, args: list,
                    kwargs: dict, node: ast.AST, dest: Var | None) -> Any:
        """``d.copy()``, ``d.keys()``, ``d.values()``, ``d.get(k, default)`` of a dict (or
        of a value that may be one); ``NOT_DICT`` for any other method."""
        if name == "copy" and type(base) is Var and not args and not kwargs and \
                kb.tag == "map" and kb.attrs is not True and isinstance(node, ast.Call) and \
                isinstance(node.func, ast.Attribute):          # d.copy(): a new dict
            from .lower_builtins import dict_copy
            return dict_copy(self, scope, node.func.value, node, dest)
        if name in ("keys", "values", "items", "update") and kb.tag == "list" and \
                self.param_of_kind(base, kb) is not None:
            # a parameter read as a list (d[key] of a key computed when it runs), whose
            # .values() says it is a dict: made again with it a dict (api, DICT_PARAMS)
            err = self.error_at(node, f"d.{name}() of a parameter read as a list before",
                                "read it as a dict from the start")
            err.dict_param = self.param_of_kind(base, kb)   # type: ignore[attr-defined]
            raise err
        if name in ("keys", "values", "items") and type(base) is Var and not args and \
                not kwargs and (kb.tag is None or kb.tag == "map" and kb.attrs is not True):
            if name == "items":
                raise self.error_at(node, "d.items() used as a value",
                                    "loop over it (for k, v in d.items()), or use d.keys() "
                                    "and d.values()")
            if name == "keys":
                return self.map_keys(base, node)
            return self.map_parts(base, node)[1]
        if name == "update" and type(base) is Var and (kb.tag is None or kb.tag == "map"
                                                        and kb.attrs is not True) \
                and len(args) <= 1:
            if args:
                self.dict_update(base, self.map_operand(args[0], node), node)
            for key, value in kwargs.items():
                self.key_kind(base, Const(key), value, node)
                self.effect("setitem", (base, Const(key), self.materialize(value, node)))
            return Const(None)
        if name == "get" and type(base) is Var and (kb.tag is None or kb.tag == "map" and
                                                     kb.attrs is not True) \
                and 1 <= len(args) <= 2 and not kwargs:
            if _tape_marker(args[-1]):       # generated code: the value saved, or the marker
                return self.emit("get_or_missing", (base, self.materialize(args[0], node),
                                                    args[-1]), None, dest=dest)
            return self.dict_get(base, args, node, dest)
        if name == "setdefault" and type(base) is Var and (kb.tag is None or kb.tag == "map"
                                                            and kb.attrs is not True) \
                and 1 <= len(args) <= 2 and not kwargs:
            return self.dict_setdefault(base, args, node, dest)
        return NOT_DICT

    def param_of_kind(self, base: Any, kb: Kind) -> str | None:
        """The name of the parameter ``base`` is, or is a copy of (``p = params.copy()``
        read a dict as a list: they share its kind); None if none."""
        if type(base) is Var and base in self.top_params:
            return self.top_params[base]
        return next((name for p, name in self.top_params.items()
                     if type(p) is Var and p.kind.find() is kb), None)

    def map_operand(self, value: Any, node: ast.AST) -> Var:
        """A value merged into a dict (``**d``, ``d | e``, ``.update(d)``): a dict."""
        value = self.materialize(value, node)
        if type(value) is Global and type(value.obj) is dict:     # {**DEFAULTS, "lr": lr}
            value = self.emit("copy", (value,), Kind.map_of(), hint="_dict")
        if type(value) is not Var:
            raise self.error_at(node, "a merge of a value that is not a dict",
                                "merge dicts (d | e, {**d, **e}, d.update(e))")
        self.unify(value.kind, Kind.map_of(), node)
        return value

    def dict_update(self, out: Var, base: Var, node: ast.AST) -> None:
        """``out.update(base)`` of a dict ``base``: each of its keys written into ``out``
        in order (its value's adjoint goes back under the key)."""
        from .ir import For
        keys = self.map_keys(base, node)
        k = Var("_k", Kind.num())
        with self.sub_block() as body:
            key = self.getitem(keys, k, None, node)
            value = self.getitem(base, key, None, node)
            self.key_kind(out, key, value, node)
            self.effect("setitem", (out, key, value))
        n = self.emit("len", (keys,), Kind.num())
        self.block.append(For(k, Const(0), n, Const(1), body, False, self.loc))

    def dict_merge(self, parts: list, node: ast.AST, dest: Var | None) -> Var:
        """A new dict from ``parts``, each ``(None, d)`` for the items of a dict or
        ``(key, value)``, written in order (``{**d, "c": c}``, ``d | e``): later keys
        replace earlier ones, as Python does.  The values were evaluated before."""
        out = self.emit("dict", (), Kind.map_of(), {"keys": ()}, dest=dest, hint="_dict")
        for key, value in parts:
            if key is None:
                self.dict_update(out, value, node)
            else:
                self.key_kind(out, Const(key), value, node)
                self.effect("setitem", (out, Const(key), value))
        return out

    def key_found(self, base: Var, args: list, node: ast.AST, dest: Var | None) -> tuple:
        """For ``d.get(k, default)`` and ``d.setdefault``: the key, the default, the
        result's variable, the test ``k in d`` and the block that reads ``d[k]`` into
        the result when it holds."""
        key = self.materialize(args[0], node)
        default = self.materialize(args[1], node) if len(args) == 2 else Const(None)
        result = dest if dest is not None else Var("_t")
        found = self.emit("in", (key, base), Kind.num(), hint="_c")
        with self.sub_block() as then:
            self.copy_into(result, self.getitem(base, key, None, node))
        return key, default, result, found, then

    def dict_setdefault(self, base: Var, args: list, node: ast.AST, dest: Var | None) -> Var:
        """``d.setdefault(k, default)``: ``d[k]`` if ``k in d``, else ``default``, stored
        under ``k`` first (a branch, as :meth:`dict_get`)."""
        from .ir import If
        key, default, result, found, then = self.key_found(base, args, node, dest)
        with self.sub_block() as orelse:
            self.unify(base.kind, Kind.map_of(), node)
            self.key_kind(base, key, default, node)
            self.effect("setitem", (base, key, default))
            self.copy_into(result, self.getitem(base, key, None, node))
        self.block.append(If(found, then, orelse, self.loc))
        return result

    def map_parts(self, base: Var, node: ast.AST) -> tuple[Var, Var]:
        """A dict's keys (``list(d)``, not differentiated) and its values, read key by key
        (``[d[k] for k in keys]``, so each value's adjoint goes back under its key)."""
        from .ir import For
        keys = self.map_keys(base, node)
        values = self.emit("list", (), Kind.list_of(), hint="_values")
        k = Var("_k", Kind.num())
        with self.sub_block() as body:
            v = self.getitem(base, self.getitem(keys, k, None, node), None, node)
            self.unify(values.kind.element, self.kind_of(v), node)
            self.effect("append", (values, v))
        n = self.emit("len", (keys,), Kind.num())
        self.block.append(For(k, Const(0), n, Const(1), body, False, self.loc))
        return keys, values

    def map_keys(self, base: Var, node: ast.AST) -> Var:
        """A dict's keys, ``list(d)`` (not differentiated)."""
        self.no_seq(base, node)
        self.unify(base.kind, Kind.map_of(), node)
        return self.emit("call", (Global("list", list, "builtin"), base),
                         Kind.list_of(Kind.obj()),
                         {"kw": (), "label": "list", "constant": True}, hint="_keys")

    def dict_get(self, base: Var, args: list, node: ast.AST, dest: Var | None) -> Var:
        """``d.get(k, default)``: ``d[k] if k in d else default``, a branch, so the
        gradient flows into ``d[k]`` or into ``default``, whichever was returned."""
        from .ir import If
        key, default, result, found, then = self.key_found(base, args, node, dest)
        with self.sub_block() as orelse:
            if self.kind_of(default).find().tag != "obj":
                self.copy_into(result, default)
            else:   # None (or a sentinel), of no kind: d.get(k) read as a number when k is
                self.block.append(Eqn((result,), "copy", (default,), None, self.loc))  # there
        self.block.append(If(found, then, orelse, self.loc))
        return result

    # ------------------------------------------------------------------ global dicts
    def global_item(self, scope: Scope, node: ast.Subscript) -> Any:
        """``d[k]`` of a module-level (or closure) dict ``d`` and a literal key (or such an
        item, ``ACTS[CFG["act"]]``), when the value is a function or class: known now, as
        a function read from a global is, and guarded (a call checks the dict and its
        item are still the ones the code was made from).  MISSING for anything else."""
        found = self.item_now(scope, node, [])
        if found is MISSING:
            self.refuse_param_key(scope, node)
        if found is MISSING or not is_compile_time(found[0]) or isinstance(
                found[0], types.ModuleType):
            return MISSING
        value, wheres = found
        for where, now in wheres:
            self.add_guard(where, now)
        return Static(value)

    def refuse_param_key(self, scope: Scope, node: ast.Subscript) -> None:
        """``ACTS[kind]`` of a module-level (or closure) dict of functions, ``kind`` a
        parameter: an error marked with it, so the gradient is made for each value a
        call gives (see :mod:`symgrad.static_args`): the function is then known."""
        from .static_args import mark
        d = self.item_now(scope, node.value, []) if isinstance(node.value, ast.Subscript) \
            else (self.expr(scope, node.value).obj, [])
        if d is MISSING or type(d[0]) is not dict or not d[0] or not all(
                is_compile_time(v) and not isinstance(v, types.ModuleType)
                for v in d[0].values()):
            return
        key = self.expr(scope, node.slice)
        if type(key) is Const and key.value not in d[0]:     # (made for a key it lacks)
            raise self.error_at(node, f"a function chosen from a dict by the key "
                                f"{key.value!r}, which it does not have (Python raises "
                                "KeyError here)", f"use one of its keys: {list(d[0])}")
        if type(key) is Var and key in self.top_params:
            raise mark(self.error_at(node, "a function chosen from a dict by a parameter",
                                     "pass the function itself, or its key as a string "
                                     "(the gradient is made for each key)"),
                       key, self.top_params, "key")

    def item_now(self, scope: Scope, node: ast.expr, wheres: list) -> Any:
        """(The value of ``node``, where it was read) for a literal (or a name bound to
        one: a parameter whose value the gradient is made for), or an item of a dict
        named by a global or closure name under such a key; MISSING otherwise."""
        if isinstance(node, ast.Constant):
            return node.value, wheres
        if isinstance(node, ast.Name):
            bound = scope.lookup(node.id)
            return (bound.value, wheres) if type(bound) is Const else MISSING
        if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)):
            return MISSING
        name = node.value.id
        local = scope.lookup(name)
        if local is not MISSING and type(local) is not Global:
            return MISSING
        if name in scope.fs.cells:
            cell = scope.fs.cells[name]
            d, where = cell.cell_contents, ("cell", cell)
        elif name in scope.fs.globals:
            d, where = scope.fs.globals[name], ("global", scope.fs.globals, name)
        else:
            return MISSING
        key = self.item_now(scope, node.slice, wheres)
        if type(d) is not dict or key is MISSING:
            return MISSING
        try:
            value = d[key[0]]
        except (KeyError, TypeError):
            return MISSING
        return value, key[1] + [(where, d), (("global", d, key[0]), value)]

    def tuple_item(self, base: Any, node: ast.Subscript) -> Any:
        """``t[k]`` of a module-level (or closure) tuple ``t`` (or of an item of one) at a
        literal index, when the item is a string or a tuple: known while lowering, as
        ``"+"`` of ``TREE = ("+", ("*", "x", "y"), ...)``, so that code walking such a
        tree (``if node[0] == "+"``, a recursion over its items) takes its branches
        now; the tuple is guarded.  MISSING for anything else (numbers are read when
        the code runs, as written)."""
        from .lower_unroll import int_index
        k = int_index(node.slice)
        if k is None or not -len(base.obj) <= k < len(base.obj):
            return MISSING
        item = base.obj[k]
        if type(item) not in (str, tuple):
            return MISSING
        self.guard_global(base)
        return Const(item) if type(item) is str else Static(item)

    def guard_global(self, g: Any) -> None:
        """Remember the value a module-level or closure name had (a call checks it still
        has it); a snapshot needs none."""
        if type(g) is not Global:
            return
        if g.how == "cell" and g.cell is not None:
            where: tuple = ("cell", g.cell)
        elif g.how == "global" and self.top.globals.get(g.name, MISSING) is g.obj:
            where = ("global", self.top.globals, g.name)
        else:
            return
        self.add_guard(where, g.obj)
