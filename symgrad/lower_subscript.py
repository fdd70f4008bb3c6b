"""Subscripts (a mixin of :class:`symgrad.lower.Lowerer`): ``x[i]`` of lists, dicts,
tuples written out, arrays, module-level dicts of functions, tuples and lists of
functions (``fs[i](x)``, a branch on ``i``), objects whose class defines
``__getitem__``; slices, and ``slice`` objects written out as slices."""

from __future__ import annotations

import ast
import types
from typing import Any

from . import ir
from .ir import Const, Eqn, Global, Kind, KindError, Var
from .lower_objects import is_record
from .lower_unroll import int_index
from .scope import (FuncChoice, FuncValue, Scope, SliceValue, Static, StaticDict, StaticTuple,
                    is_compile_time, is_operand, kind_of_value, resolve_global)
from .source import MISSING


class SubscriptLowering:
    """``x[i]``, ``x[a:b]``, ``x[s]`` of ``s = slice(a, b)``."""

    def e_subscript(self, scope: Scope, node: ast.Subscript, dest: Var | None) -> Any:
        node = self.slices_written_out(scope, node)
        made = self.subscript_now(scope, node, dest)
        if made is not MISSING:
            return made
        base = self.expr(scope, node.value)
        made, node = self.subscript_of_known(scope, node, base, dest)
        if made is not MISSING:
            return made
        if type(base) is StaticTuple:
            if isinstance(node.slice, ast.Slice):
                return self.static_slice(scope, base, node.slice)
            idx = self.expr(scope, node.slice)
            if type(idx) is Const and isinstance(idx.value, int) and \
                    -len(base.items) <= idx.value < len(base.items):
                return base.items[idx.value]     # (out of range: the IndexError at run time)
            if type(idx) is Var and base.items and all(_is_function(f) for f in base.items):
                return self.function_at(base, idx, node)        # fs[i](x), i known later
            base = self.materialize(base, node)
        return self.subscript_of_value(scope, node, self.materialize(base, node), dest)

    def subscript_now(self, scope: Scope, node: ast.Subscript, dest: Var | None) -> Any:
        """``np.r_[a, b]``, ``self.layers[0]`` of objects known while lowering; MISSING
        for anything else."""
        trick = type(scope.fs.resolve(node.value)) if isinstance(
            node.value, (ast.Attribute, ast.Name)) else None
        if trick is not None and trick.__name__ in ("RClass", "CClass") and \
                trick.__module__.startswith("numpy"):         # np.r_[a, b], np.c_[a, b]
            made = self.index_trick(scope, trick.__name__[0].lower(), node, dest)
            if made is not None:
                return made
        k = int_index(node.slice)
        if k is not None and isinstance(node.value, (ast.Name, ast.Attribute, ast.Subscript)):
            items = self.static_items(scope, node.value)   # self.layers[0]: see lower_unroll
            if items is not None and -len(items) <= k < len(items):
                return items[k]
        return MISSING

    def subscript_of_known(self, scope: Scope, node: ast.Subscript, base: Any,
                           dest: Var | None) -> tuple[Any, ast.Subscript]:
        """A subscript of a module's dict, tuple or list of functions, of an object whose
        class defines ``__getitem__``, of a dict of functions made here, or of an object
        made here: (its value, or MISSING; the subscript, its index read once)."""
        if type(base) is Global and type(base.obj) is dict:   # ACTS[CFG["act"]]: a function
            found = self.global_item(scope, node)
            if found is not MISSING:
                return found, node
        if type(base) in (Global, Static) and type(base.obj) is tuple:   # TREE[0]: "+"
            found = self.tuple_item(base, node)
            if found is not MISSING:
                return found, node
        if type(base) is Global and isinstance(getattr(type(base.obj), "__getitem__", None),
                                               types.FunctionType):
            # an object whose class defines __getitem__ in Python: that method, inlined
            func = ast.Attribute(value=node.value, attr="__getitem__", ctx=ast.Load())
            call = ast.Call(func=func, args=[node.slice], keywords=[])
            for made in (func, call):
                ast.copy_location(made, node)
            return self.expr(scope, call, dest), node
        if type(base) is Global and type(base.obj) in (list, tuple) and base.obj and all(
                callable(f) and is_compile_time(f) for f in base.obj) and \
                isinstance(node.slice, (ast.Name, ast.BinOp, ast.Attribute, ast.Subscript)):
            items = self.static_items(scope, node.value)     # FS[i] of a module's functions
            idx = self.expr(scope, node.slice) if items is not None else None
            if type(idx) is Var:
                return self.function_at(StaticTuple(tuple(items)), idx, node), node
            if type(idx) is Const and isinstance(idx.value, int) and \
                    -len(items) <= idx.value < len(items):
                return items[idx.value], node
            if type(idx) is Const:          # (the index read once: IndexError at run time)
                node = ast.copy_location(ast.Subscript(value=node.value, slice=ast.Constant(
                    idx.value), ctx=node.ctx), node)
        if type(base) is StaticDict and not all(is_operand(v) for v in base.items.values()):
            return self.function_by_key(scope, base, node), node
        if is_record(base):
            raise self.error_at(node, f"a subscript of a {base.cls.__name__} object (Python "
                                "raises TypeError unless its class defines __getitem__)",
                                "read its fields by name")
        return MISSING, node

    def function_by_key(self, scope: Scope, base: StaticDict, node: ast.Subscript) -> Any:
        """``cases["relu"]`` of a dict of functions made here: that function (a key that
        is a parameter: the gradient made for each key)."""
        key = self.expr(scope, node.slice)
        if type(key) is Const and key.value in base.items:
            return base.items[key.value]
        if type(key) is Var and key in self.top_params:
            from .static_args import mark
            raise mark(self.error_at(node, "a function chosen from a dict by a parameter",
                                     "pass the function itself, or its key as a string "
                                     "(the gradient is made for each key)"),
                       key, self.top_params, "key")
        raise self.error_at(node, "a function chosen from a dict by a key known only "
                            "when the code runs", "choose it with if/elif on the key")

    def subscript_of_value(self, scope: Scope, node: ast.Subscript, base: Any,
                           dest: Var | None) -> Any:
        """``x[i]``, ``x[a:b]`` of a value the code computes: an array, a list, a dict."""
        if self.is_array(base) or type(base) is Var and base.kind.find().tag in (
                None, "num") and array_index(node.slice):
            return self.array_get(scope, base, node, dest)
        refuse_array_index(self, node, node, base)
        if isinstance(node.slice, ast.Slice):
            sl = self.slice_operands(scope, node.slice)
            kind = self.kind_of(base)
            if type(base) is Var and kind.find().tag is None and base in self.top_params \
                    and self.structured and not self.maybe_arrays:
                self.unify(kind, Kind.list_of(), node)    # (a parameter sliced and returned
                #                                            by a vjp's function: a list)
            return self.emit("slice", (base, *sl), kind, dest=dest)
        index = self.operand(scope, node.slice)
        out = self.getitem(base, index, dest, node)
        last = self.block[-1] if self.block else None
        if type(last) is Eqn and last.prim == "getitem" and last.outs == (out,):
            # (an element that may not be there: see symgrad.raising)
            last.params = {**(last.params or {}), "subscript": True}
        return out

    def function_at(self, funcs: StaticTuple, idx: Var, node: ast.AST) -> FuncChoice:
        """``fs[i]`` of a tuple (or list) of functions at an index known only when the code
        runs: whichever one ``i`` picks (calls branch on it), after Python's test of
        the index (``IndexError`` out of range; a negative one counts from the end)."""
        n = len(funcs.items)
        self.unify(idx.kind, Kind.num(), node)
        for prim, bound in (("lt", Const(-n)), ("ge", Const(n))):
            bad = self.emit(prim, (idx, bound), Kind.num(), hint="_c")
            with self.sub_block() as fail:
                err = self.emit("call", (Global("IndexError", IndexError, "builtin"),
                                         Const("list index out of range")), Kind.obj(),
                                {"kw": (), "label": "IndexError", "constant": True})
                self.effect("raise", (err,))
            self.block.append(ir.If(bad, fail, [], self.loc))
        tag = self.emit("mod", (idx, Const(n)), Kind.num(), hint="_which")
        return FuncChoice(tag, list(funcs.items))

    def slices_written_out(self, scope: Scope, node: ast.Subscript) -> ast.Subscript:
        """``x[s]`` with ``s = slice(a, b)`` (or ``x[slice(a, b)]``, ``x[s, 0]``): the same
        subscript with ``a:b`` written in place of ``s``, its parts read from names bound
        to them, so that a list is sliced (a copy) and an array viewed, as Python does."""
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        found = False
        out = []
        for it in items:
            value = None
            if isinstance(it, ast.Name):
                bound = self.lookup(scope, it.id)
                value = bound if type(bound) is SliceValue else None
            elif isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and \
                    self.lookup(scope, it.func.id) is MISSING and \
                    resolve_global(scope.fs, it.func.id)[1] is slice:
                value = self.expr(scope, it)
            if type(value) is not SliceValue:
                out.append(it)
                continue
            found = True
            parts = []
            for part in value.parts:
                if type(part) is Const and part.value is None:
                    parts.append(None)
                    continue
                name = f"__slice{len(scope.env)}#"
                scope.env[name] = part
                parts.append(ast.Name(id=name, ctx=ast.Load()))
            out.append(ast.Slice(lower=parts[0], upper=parts[1], step=parts[2]))
        if not found:
            return node
        index = ast.Tuple(elts=out, ctx=ast.Load()) if isinstance(node.slice, ast.Tuple) \
            else out[0]
        made = ast.Subscript(value=node.value, slice=index, ctx=node.ctx)
        for n in ast.walk(made):
            if not hasattr(n, "lineno"):
                ast.copy_location(n, node)
        return made

    def static_slice(self, scope: Scope, base: StaticTuple, sl: ast.Slice) -> Any:
        parts = [self.expr(scope, p) if p is not None else Const(None)
                 for p in (sl.lower, sl.upper, sl.step)]
        if all(type(p) is Const for p in parts):
            items = base.items[slice(*(p.value for p in parts))]
            return base if items == base.items and base.cls is None else StaticTuple(items)
        return self.emit("slice", (self.materialize(base, sl), *[
            self.materialize(p, sl) for p in parts]), Kind.list_of())

    def slice_operands(self, scope: Scope, sl: ast.Slice) -> tuple:
        return tuple(self.operand(scope, p) if p is not None else Const(None)
                     for p in (sl.lower, sl.upper, sl.step))

    def getitem(self, base: Any, index: Any, dest: Var | None = None,
                node: ast.AST | None = None) -> Var:
        if type(base) is Const and type(base.value) is tuple and type(index) is Const \
                and type(index.value) is int and -len(base.value) <= index.value < len(
                    base.value) and dest is None:        # axes[0] of axes=(0, 1)
            return Const(base.value[index.value])
        kb = self.kind_of(base)
        if kb.find().tag == "array":                 # for row in X: X[k]
            template = (("i", 1),)
            return self.emit("aget", (base, index), Kind.array(), {"index": template},
                             dest=dest, hint="_a")
        if kb.find().tag == "map" or (kb.find().tag is None and (
                type(index) is Const and isinstance(index.value, str) or
                type(index) is Var and index.kind.find().tag == "obj")):  # (a str key)
            if kb.find().tag is None:
                self.unify(kb, Kind.map_of(), node)
            try:
                kind = kb.field(index.value, attr=False) if type(index) is Const else \
                    kb.by_key()
            except KindError as exc:
                raise self.error_at(node, f"a value used as {exc}",
                                    "read fields either as attributes or by key, not both")
            if type(index) is not Const:            # (any field may be read)
                for f in (kb.find().fields or {}).values():
                    self.unify(f, kind, node)
            return self.emit("getitem", (base, index), kind, dest=dest)
        if kb.find().tag == "obj":
            out_kind = Kind()
            if type(base) is Global:
                try:
                    out_kind = kind_of_value(base.obj[index.value]) if type(
                        index) is Const else Kind()
                except Exception:
                    out_kind = Kind()
            # (an object symgrad cannot see into: a differentiated index is refused, see
            # analyze._check)
            opaque = not (type(base) is Global and isinstance(
                base.obj, (dict, list, tuple, str, bytes, range)))     # (their keys: constants)
            return self.emit("getitem", (base, index), out_kind,
                             {"opaque": True} if opaque else None, dest=dest)
        if type(index) is Const:                 # (see seq_conflict)
            self.const_read.add(base)
        out = self.emit("getitem", (base, index), None, dest=dest)
        self.unify(kb, Kind.list_of(out.kind), node)
        return out


def refuse_array_index(lw: Any, sub: ast.Subscript, node: ast.AST, base: Any = None
                       ) -> None:
    """A list (or dict) indexed with a slice in several dimensions (``y[1:, :]``), or a
    list indexed with a tuple (``w[1, 0]``) or a list (``w[[0, 2]]``): Python raises
    TypeError, numpy indexes."""
    several = isinstance(sub.slice, ast.Tuple) and any(
        isinstance(it, ast.Slice) or isinstance(it, ast.Constant) and it.value is Ellipsis
        for it in sub.slice.elts)
    listed = isinstance(sub.slice, ast.List)
    if several or listed or isinstance(sub.slice, ast.Tuple) and type(base) is Var and \
            base.kind.find().tag == "list":
        err = lw.error_at(node, "an index with slices in several dimensions of a list"
                          if several else "a list indexed with a list (w[[0, 2]])" if listed
                          else "a list indexed with a tuple (w[1, 0])",
                          "make it a numpy array (np.asarray(...)) to index it that way")
        err.about_lists = True      # (read as lists: an array argument may be meant; see api)
        raise err


def array_index(node: ast.expr) -> bool:
    """An index only arrays take: several indices (``x[i, j]``), ``None``, ``...`` or a
    list of indices (``x[[0, 2]]``)."""
    items = node.elts if isinstance(node, ast.Tuple) else [node]
    return isinstance(node, (ast.Tuple, ast.List)) or any(
        isinstance(it, ast.Constant) and (it.value is None or it.value is Ellipsis)
        for it in items)


def _is_function(v: Any) -> bool:
    """A function known while lowering (a ``def``, a lambda, a library function)."""
    return type(v) in (FuncValue, FuncChoice) or type(v) is Static and callable(v.obj) \
        and not isinstance(v.obj, type)
