"""Method calls (a mixin of :class:`symgrad.lower.Lowerer`): ``p.energy(x)`` of a
record whose class is known, ``x.sum()`` of an array, ``xs.append(v)`` of a list (a
deque's too), ``d.get(k)`` of a dict (:mod:`symgrad.lower_dicts`), a module object's
Python methods inlined, and the methods of anything else kept as written."""

from __future__ import annotations

import ast
import inspect
import types
from typing import Any

from .ir import Const, Global, Kind, Var
from .lower_array import draw_kind, is_generator
from .lower_deque import DEQUE_METHODS, deque_method, is_deque
from .lower_dicts import NOT_DICT
from .param_classes import member_of
from .scope import Scope, Static
from .source import is_library

_LIST_METHODS = {"append", "pop", "insert", "extend", "copy", "clear", "reverse", "index",
                 "count", "remove", "sort"}


class MethodLowering:
    """``base.name(*args, **kwargs)`` of a value."""

    def extend_list(self, base: Var, other: Any) -> None:
        """``xs.extend(ys)``, ``xs += ys``: ``ys`` read before ``xs`` grows (``xs += xs``
        doubles ``xs``; the reverse sweep then pops what ``ys`` held, not twice that)."""
        if self.same_list(base, other):
            other = self.emit("slice", (other, Const(None), Const(None), Const(None)),
                              self.kind_of(other))
        self.effect("extend", (base, other))

    def method_call(self, scope: Scope, base: Any, name: str, args: list, kwargs: dict,
                    node: ast.AST, dest: Var | None) -> Any:
        kb = self.kind_of(base).find()
        from .lower_array import ARRAY_METHODS
        found = member_of(self, base, name) if type(base) is Var else None
        if found is not None and found[0] in ("method", "static"):    # p.energy(x)
            return self.inline_function(scope, found[1], [base, *args] if found[0] ==
                                        "method" else list(args), kwargs, node, Static(found[1]))
        if name == "item" and not args and not kwargs and kb.tag in ("num", None):
            # np.sum(x).item(): the Python number of a numpy scalar, like float(...)
            self.unify(base.kind, Kind.num(), node) if type(base) is Var else None
            return self.emit("float", (self.materialize(base, node),), Kind.num(),
                             {"flavor": "builtin"}, dest=dest)
        if kb.tag == "array" or kb.tag in (None, "num") and name in ARRAY_METHODS:
            return self.array_method(scope, base, name, args, kwargs, node, dest)
        if name == "sort" and kb.tag in ("list", None) and not args:
            from .lower_builtins import sort_in_place
            return sort_in_place(self, scope, base, kwargs, node)
        if name in DEQUE_METHODS and kb.tag == "list" and is_deque(self, base) and \
                not kwargs:                  # (a deque: see lower_deque)
            return deque_method(self, base, name, [self.materialize(a, node) for a in args],
                                node)
        if name in _LIST_METHODS and kb.tag in ("list", None) and not kwargs:
            return self.list_method(base, name, args, node, dest)
        if kb.tag == "list" and name in ARRAY_METHODS:     # xs[::-1].sum(): an array?
            err = self.error_at(node, f"the array method .{name}() of a Python list",
                                f"make it an array (np.array(...)), or use Python's "
                                f"builtins on lists ({name}(xs) where there is one)")
            err.about_lists = True      # type: ignore[attr-defined]  (see api)
            raise err
        if type(base) is Global and not isinstance(base.obj, types.ModuleType):
            made = self.object_method(scope, base, name, args, kwargs, node)
            if made is not None:
                return made
        made = self.dict_method(scope, base, kb, name, args, kwargs, node, dest)
        if made is not NOT_DICT:
            return made
        return self.kept_method(scope, base, kb, name, args, kwargs, node, dest)

    def object_method(self, scope: Scope, base: Global, name: str, args: list, kwargs: dict,
                      node: ast.AST) -> Any:
        """``self.feat(x)`` of an object read when the code runs: its class's method (a
        static or class method too), inlined; None for one symgrad cannot read."""
        method = inspect.getattr_static(type(base.obj), name, None)
        if isinstance(method, types.FunctionType) and not is_library(method):
            return self.inline_function(scope, method, [base, *args], kwargs, node,
                                        Static(getattr(base.obj, name)))
        if isinstance(method, (staticmethod, classmethod)) and isinstance(
                method.__func__, types.FunctionType) and not is_library(method.__func__):
            first = [Static(type(base.obj))] if isinstance(method, classmethod) else []
            return self.inline_function(scope, method.__func__, [*first, *args], kwargs,
                                        node, Static(method.__func__))
        return None

    def kept_method(self, scope: Scope, base: Any, kb: Kind, name: str, args: list,
                    kwargs: dict, node: ast.AST, dest: Var | None) -> Any:
        """A method call kept as written (refused for a record's differentiated fields:
        its gradient is made for its class at the call); a numpy generator's draws are
        arrays."""
        from .lower_call import describe_var
        record = type(base) is Var and (base in self.top_params or any(
            p.kind.find().tag == "list" and p.kind.find().elem.find() is base.kind.find()
            for p in self.top_params))       # (a record, or an item of a list, passed in)
        if type(base) is Var and kb.tag == "map" and kb.attrs is not False:
            err = scope.fs.error(node, f"the method call .{name}() of {describe_var(base)}, "
                                 "whose fields are differentiated",
                                 "symgrad reads the fields of such a value (p.w) and makes "
                                 "the gradient for its class at the call, where the class "
                                 f"defines .{name}(); elsewhere, write the method as a "
                                 f"function of it ({name}(p, ...))")
            err.record_method = record       # type: ignore[attr-defined]  (param_classes)
            raise err
        ops = [self.materialize(a, node) for a in args]
        kws = {k: self.materialize(v, node) for k, v in kwargs.items()}
        out = self.emit("callmethod", (base, *ops, *kws.values()), Kind(),
                        {"name": name, "kw": tuple(kws), "label": f".{name}()",
                         **({"record_method": True} if record else {})}, dest=dest)
        if is_generator(self, base):         # rng.standard_normal(3): a draw, an array
            draw_kind(self, out, name, node)
        return out

    def list_method(self, base: Any, name: str, args: list, node: ast.AST, dest: Var | None
                    ) -> Any:
        ops = [self.materialize(a, node) for a in args]
        kind = self.kind_of(base)
        self.unify(kind, Kind.list_of(), node)
        n = len(ops)
        if name == "append" and n == 1:
            self.unify(kind.element, self.kind_of(ops[0]), node)
            self.effect("append", (base, ops[0]))
            return Const(None)
        if name == "pop" and n <= 1:
            return self.emit("pop", (base, *ops), kind.element, dest=dest)
        if name == "insert" and n == 2:
            self.unify(kind.element, self.kind_of(ops[1]), node)
            self.effect("insert", (base, ops[0], ops[1]))
            return Const(None)
        if name == "extend" and n == 1:
            self.unify(kind, self.kind_of(ops[0]), node)
            self.extend_list(base, ops[0])
            return Const(None)
        if name == "copy" and n == 0:
            return self.emit("slice", (base, Const(None), Const(None), Const(None)), kind,
                             dest=dest)
        if name in ("index", "count") and n >= 1:
            return self.emit("callmethod", (base, *ops), Kind.num(),
                             {"name": name, "kw": (), "label": f".{name}()",
                              "constant": True}, dest=dest)
        if name == "clear" and n == 0:         # del xs[:]: every element popped
            from .lower_builtins import replace_slice
            replace_slice(self, base, (Const(None),) * 3, None, node)
            return Const(None)
        if name == "reverse" and n == 0:
            self.effect(name, (base,))
            return Const(None)
        raise self.error_at(node, f"the list method .{name}() with these arguments",
                            "use append, pop, insert, extend, copy, or build a new list")
