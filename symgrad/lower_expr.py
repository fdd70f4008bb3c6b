"""Lowering of expressions (a mixin of :class:`symgrad.lower.Lowerer`).

``expr(scope, node, dest=None)`` returns the *binding* of an expression: an IR
operand, or a compile-time value (:mod:`symgrad.scope`).  ``dest``, when given,
is the variable the expression's root should write (the target of an
assignment), so ``n = x * w + b`` lowers to ``_t = mul x w; n = add _t b``.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import sys
import types
from typing import Any

from . import ir, rules
from .ir import Const, Eqn, Global, Kind, KindError, Var
from .param_classes import member_of
from .lower_objects import Building, SuperOf, building_attribute, is_record, super_attribute
from .lower_records import named_tuple_attribute, tuple_identity
from .scope import (AttrRef, FuncChoice, FuncValue, Scope, SliceValue, Static, StaticDict,
                    StaticTuple,
                    const_or_none, is_compile_time, is_operand, kind_of_value, resolve_global)
from .lower_array import _SHAPE_ATTRS
from .lower_subscript import SubscriptLowering, _is_function
from .source import MISSING

_STDLIB_CONSTANT_MODULES = {"math", "cmath", "numpy", "sys", "operator"}
_UNBOUND = object()


class ExprLowering(SubscriptLowering):
    """Expressions: names, attributes, operators, literals, subscripts, conditionals."""

    # ------------------------------------------------------------------ dispatch
    def expr(self, scope: Scope, node: ast.expr, dest: Var | None = None,
             statement: bool = False, **_: Any) -> Any:
        handler = _EXPRS.get(type(node))
        if handler is None:
            return self.e_opaque(scope, node, dest)
        if handler is ExprLowering.e_call:
            return self.call(scope, node, dest, statement)
        return handler(self, scope, node, dest)

    def operand(self, scope: Scope, node: ast.expr) -> Any:
        """An expression that must be a run-time value."""
        return self.materialize(self.expr(scope, node), node)

    def materialize(self, value: Any, node: ast.AST | None) -> Any:
        """A compile-time value turned into an operand (a tuple becomes a run-time
        tuple; a module or function becomes a reference to it)."""
        t = type(value)
        if t in (Var, Const, Global):
            return value
        if t is StaticTuple:
            if is_record(value) or t is Building:
                raise self.error_at(node, f"an object of class {value.cls.__name__} made "
                                    "in the function, used as a value (symgrad keeps it as "
                                    "its fields: Python's object is not built)",
                                    "call its methods and read its fields in the function, "
                                    "or pass the object in")
            items = tuple(self.materialize(v, node) for v in value.items)
            kind = Kind.list_of()
            for it in items:
                self.unify(kind.element, self.kind_of(it), node)
            return self.emit("tuple", items, kind)
        if t is Static:
            return self.ref_static(value)
        if t is SliceValue:             # (a slice handed on as an object: made as written)
            return self.emit("call", (Global("slice", slice, "builtin"), *value.parts),
                             Kind.obj(), {"kw": (), "label": "slice", "constant": True})
        if t is Building:
            raise self.error_at(node, f"the object a {value.cls.__name__}.__init__ is making, "
                                "used as a value", "read its fields, or pass values")
        if t in (FuncValue, FuncChoice):
            raise self.error_at(node, "a locally defined function used as a value",
                                "call it directly (symgrad inlines it)")
        if t is StaticDict:             # **kwargs read as a dict: one dict, made once
            if value.var is None:
                keys = tuple(value.items)
                vals = tuple(self.materialize(v, node) for v in value.items.values())
                kind = Kind.map_of()
                for key, v in zip(keys, vals):
                    self.unify(kind.field(key), self.kind_of(v), node)
                value.var = self.emit("dict", vals, kind, {"keys": keys}, hint="_kwargs")
            return value.var
        raise self.error_at(node, "this value", "use numbers and lists")

    def kind_of(self, value: Any) -> Kind:
        t = type(value)
        if t is Var:
            return value.kind
        if t is Const:
            v = value.value
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return Kind.num()
            if isinstance(v, bool):
                return Kind.num()
            if isinstance(v, tuple):
                return kind_of_value(v)
            return Kind.obj()
        if t is Global:
            return kind_of_value(value.obj)
        return Kind.obj()

    def ref_static(self, value: Static) -> Global:
        """A run-time reference to a compile-time object (how the user named it, if
        the generated code can read it the same way; else an injected name)."""
        return value.ref if value.ref is not None else self.inject(value.obj)

    def inject(self, obj: Any, hint: str | None = None) -> Global:
        key = id(obj)
        g = self.injected.get(key)
        if g is None:
            name = hint or getattr(obj, "__name__", None) or "_obj"
            if isinstance(obj, types.ModuleType) and obj.__name__ == "numpy":
                name = "np"
            name = name.split(".")[-1]
            g = Global(name, obj, "inject")
            self.injected[key] = g
        return g

    # ------------------------------------------------------------------ names
    def e_name(self, scope: Scope, node: ast.Name, dest: Var | None) -> Any:
        b = self.lookup(scope, node.id)
        if b is _UNBOUND:
            raise scope.fs.error(node, f"the name {node.id!r} before it is assigned",
                                 "assign it first (Python would raise UnboundLocalError)")
        if b is not MISSING:
            if type(b) is Var and (getattr(node, "lineno", 0), getattr(node, "col_offset", 0),
                                   node.id) in scope.fs.maybe_unbound:
                # (Python raises here when no path so far assigned it: the read is kept)
                return self.emit("copy", (b,), params={"may_raise": True})
            return b
        return self.free_name(scope, node.id, node)

    def lookup(self, scope: Scope, name: str) -> Any:
        s: Scope | None = scope
        while s is not None:
            if name in s.env and name not in s.nonlocals:
                return s.env[name]
            if name in s.local_names and name not in s.nonlocals \
                    and name not in s.globals_decl:
                return _UNBOUND
            if name in s.globals_decl:
                return MISSING
            s = s.parent
        return MISSING

    def free_name(self, scope: Scope, name: str, node: ast.AST) -> Any:
        """A name that is not local: a closure cell, a global or a builtin (read live)."""
        fs = scope.fs
        while True:
            where, value = resolve_global(fs, name)
            if where != "missing" or scope.parent is None:
                break
            scope = scope.parent
            fs = scope.fs
        if where == "missing":
            raise fs.error(node, f"the undefined name {name!r}",
                           "define it at module level or inside the function")
        if where == "cell":
            try:
                content = value.cell_contents
            except ValueError:
                raise fs.error(node, f"the free variable {name!r}, which has no value yet",
                               "assign it before calling the function") from None
            self.guard(("cell", value), content)
            return self.as_binding(content, Global(name, content, "cell", value))
        if where == "builtin":
            return Static(value)
        self.guard(("global", fs.globals, name), value)
        ref = self.global_ref(fs, name, value)
        return self.as_binding(value, ref)

    def guard(self, where: tuple, value: Any) -> None:
        """Remember a function (or class) read from a global or a closure: the generated
        code was made from it, so a call checks it is still the one there."""
        if is_compile_time(value) and not isinstance(value, types.ModuleType):
            self.add_guard(where, value)

    def add_guard(self, where: tuple, value: Any) -> None:
        """A call checks ``value`` is still what ``where`` holds (see entry._guards)."""
        self.guards.setdefault((where[0], id(where[1])) + where[2:], (where, value))

    def global_ref(self, fs: Any, name: str, value: Any) -> Any:
        """How generated code reads the module-level name ``name`` of ``fs``'s module:
        by name in the differentiated function's own module, as ``module.name`` in
        another importable module, else (no module to read from) as a snapshot."""
        if fs.globals is self.top.globals:
            return Global(name, value, "global")
        modname = fs.globals.get("__name__")
        mod = sys.modules.get(modname) if modname else None
        if mod is None or getattr(mod, "__dict__", None) is not fs.globals:
            return self.inject(value, name)
        return AttrRef(self.inject(mod, modname.split(".")[-1]), name, value)

    def as_binding(self, value: Any, ref: Any) -> Any:
        """A global's value as a binding: modules, functions and classes are compile-time
        values (remembered with the way to reach them); data is read when the code runs."""
        if is_compile_time(value):
            return Static(value, ref if type(ref) is Global else None)
        if type(ref) is AttrRef:
            return self.emit("getattr", (ref.module, Const(ref.attr)), kind_of_value(value),
                             hint="_g")
        return ref

    # ------------------------------------------------------------------ attributes
    def e_attribute(self, scope: Scope, node: ast.Attribute, dest: Var | None) -> Any:
        base = self.expr(scope, node.value)
        if type(base) is SliceValue:                # s.indices(n): the slice object, made
            base = self.materialize(base, node)
        if type(base) is StaticTuple and base.cls is not None:      # p.x of p = Point(..)
            return named_tuple_attribute(self, scope, base, node)
        if type(base) is Building:                                  # self.w in __init__
            return building_attribute(self, scope, base, node)
        if type(base) is SuperOf:                                   # super().__init__
            return super_attribute(self, scope, base, node)
        if type(base) is Static:
            obj = getattr(base.obj, node.attr, MISSING)
            if obj is MISSING:
                raise scope.fs.error(node, f"the attribute {node.attr!r} of "
                                     f"{getattr(base.obj, '__name__', base.obj)!r}",
                                     "check the name")
            if is_compile_time(obj):
                mod = base.obj
                if isinstance(mod, types.ModuleType) and not _is_stdlib(mod) and \
                        not isinstance(obj, types.ModuleType):
                    self.guard(("attr", mod, node.attr), obj)
                return Static(obj)
            c = const_or_none(obj)
            if c is not None and isinstance(base.obj, types.ModuleType) and \
                    base.obj.__name__.split(".")[0] in _STDLIB_CONSTANT_MODULES:
                return c
            return self.emit("getattr", (self.ref_static(base), Const(node.attr)),
                             kind_of_value(obj), dest=dest, hint="_g")
        if not is_operand(base):
            raise scope.fs.error(node, f"the attribute .{node.attr} of this value",
                                 "read attributes of objects, not of functions")
        if type(base) is Var and base.kind.find().tag in ("array", None, "num") and (
                node.attr == "T" or node.attr in _SHAPE_ATTRS) or type(base) is Var and \
                base.kind.find().tag in ("array", "num") and node.attr in ("real", "imag"):
            return self.array_attribute(base, node.attr, node, dest)
        if type(base) is Var and base.kind.find().tag == "array" and node.attr == "flat":
            from .array_ops import ARRAY_OPS    # (A.flat[k]: of np.ravel(A), a view; a
            return self.array_call(scope, ARRAY_OPS["np_ravel"], [base], {}, node, dest)
        if type(base) is Var and base.kind.find().tag in (None, "map"):   # write: refused)
            found = member_of(self, base, node.attr)
            if found is not None and found[0] == "property":    # p.sigma: its getter's code
                return self.inline_function(scope, found[1], [base], {}, node,
                                            Static(found[1]))
            out = self.field_read(base, node.attr, node, dest)
            self.block[-1].params = {"subscript": True}    # (a field maybe missing)
            return out
        if type(base) is Global:
            held = held_object(base, node.attr)
            if held is not None:        # self.inner of a bound method's object: an object
                self.add_guard(("attr", base.obj, node.attr), held)   # (checked at calls)
                return self.inject(held, node.attr)
        kind = kind_of_value(getattr(base.obj, node.attr, MISSING)) if type(base) is Global \
            else Kind()
        return self.emit("getattr", (base, Const(node.attr)), kind, dest=dest, hint="_g")

    def field_read(self, base: Var, attr: str, node: ast.AST, dest: Var | None) -> Var:
        """``p.w`` of a value that may carry derivatives (a NamedTuple, dataclass or
        object passed in): a map read under the key ``"w"``, printed as an attribute,
        whose adjoint goes into ``d_p.w``."""
        try:
            kind = base.kind.field(attr, attr=True)
        except KindError as exc:
            raise self.error_at(node, f"the attribute .{attr} of a value used as {exc}",
                                "read fields either as attributes or by key, not both")
        return self.emit("getitem", (base, Const(attr)), kind, dest=dest)

    # ------------------------------------------------------------------ operators
    def e_constant(self, scope: Scope, node: ast.Constant, dest: Var | None) -> Any:
        return Const(node.value)

    def e_binop(self, scope: Scope, node: ast.BinOp, dest: Var | None) -> Any:
        prim = rules.BINOPS.get(type(node.op).__name__)
        a = self.expr(scope, node.left)
        if type(a) is not StaticTuple or prim != "add":
            a = self.materialize(a, node.left)
        mark = len(self.block)
        right = self.expr(scope, node.right)
        if type(a) is StaticTuple:      # t + (z,), t += (z,): a new tuple (never in place)
            a = StaticTuple(tuple(self.kept(v, mark) for v in a.items))
            if type(right) is StaticTuple:
                return StaticTuple(a.items + right.items)
            a = self.materialize(a, node.left)
        a = self.kept(a, mark)
        b = self.materialize(right, node.right)
        if getattr(node, "inplace", False) and prim == "add" and "list" in (
                self.kind_of(a).find().tag, self.kind_of(b).find().tag) and type(a) is Var:
            self.unify(a.kind, self.kind_of(b), node)
            self.extend_list(a, b)              # xs += ys: the same list, extended
            return a
        if getattr(node, "inplace", False) and prim == "mul" and type(a) is Var and (
                self.kind_of(a).find().tag == "list" or self.kind_of(a).find().tag is None
                and self.repeat_key(node) in self.list_repeats):
            from .lower_builtins import replace_slice   # xs *= k: the same list, repeated
            replace_slice(self, a, (Const(None),) * 3, self.arith(prim, a, b, None, node),
                          node)
            return a
        if type(node.op) is ast.BitOr and any(
                type(v) is Var and v.kind.find().tag == "map" and v.kind.find().attrs
                is not True for v in (a, b)):         # d | e of dicts: a merge
            if getattr(node, "inplace", False) and type(a) is Var:
                self.dict_update(self.map_operand(a, node), self.map_operand(b, node), node)
                return a                    # d |= e: d updated
            return self.dict_merge([(None, self.map_operand(a, node)),
                                    (None, self.map_operand(b, node))], node, dest)
        if prim == "matmul":
            from .array_ops import ARRAY_OPS
            return self.array_call(scope, ARRAY_OPS["np_matmul"], [a, b], {}, node, dest)
        if prim is None:        # (x & y, x | y, x << k ...: of arrays, an array)
            return self.emit("binop", (a, b), self.join((a, b)),
                             {"op": type(node.op).__name__}, dest=dest)
        out = self.arith(prim, a, b, dest, node)
        if getattr(node, "inplace", False) and prim == "mul" and type(a) is Var and \
                self.kind_of(a).find().tag is None:
            self.repeats.append(((a, out), self.repeat_key(node), (node, self.scope_fs)))
        if type(a) is Var and self.block and type(self.block[-1]) is ir.Eqn and \
                self.block[-1].outs == (out,):
            if getattr(node, "inplace_name", False):       # y *= 2.0 writes into y's array
                self.inplace_eqns[id(self.block[-1])] = None
            elif getattr(node, "inplace_item", None) and a.kind.find().tag == "array":
                # d["k"] *= 2.0 writes into the array d["k"] holds (any other name of it
                # sees that); d itself gets the result back
                stored = scope.lookup(node.inplace_item)
                self.inplace_eqns[id(self.block[-1])] = stored if type(stored) is Var else None
        return out

    def repeat_key(self, node: ast.AST) -> tuple:
        """Where ``xs *= k`` is, to find it again when lowering again."""
        return (self.scope_fs.filename, getattr(node, "lineno", 0),
                getattr(node, "col_offset", 0))

    def kept(self, a: Any, mark: int) -> Any:
        """Operand ``a``, read before the statements from ``mark`` on; if they assign it
        (a helper writing a ``nonlocal``: ``x + g(x)`` where ``g`` changes ``x``), a copy
        taken at ``mark``, since Python read ``a`` first."""
        if type(a) is not Var or len(self.block) == mark:
            return a
        return self.kept_value(a, mark, ir.assigned(self.block[mark:]))

    def arith(self, prim: str, a: Any, b: Any, dest: Var | None, node: ast.AST) -> Var:
        """``a + b`` / ``a * b`` ...: numbers, or list concatenation and repetition when
        an operand is a list (decided after kinds are known when they are not yet)."""
        if type(a) is Const and type(b) is Const and _number(a.value) and _number(b.value):
            try:
                return Const(rules.RULES[prim].forward(a.value, b.value))
            except (ArithmeticError, ValueError, TypeError):
                pass
        ka, kb = self.kind_of(a).find(), self.kind_of(b).find()
        if prim in ("add", "mul") and "list" in (ka.tag, kb.tag):
            return self.list_arith(prim, a, b, ka, kb, dest, node)
        if "obj" in (ka.tag, kb.tag):
            return self.emit(prim, (a, b), Kind(), dest=dest)
        if prim in ("add", "mul") and (ka.tag is None or kb.tag is None) and \
                "array" not in (ka.tag, kb.tag):     # (an array times a list: an array)
            out = self.emit(prim, (a, b), Kind(), dest=dest)
            self.deferred.append(self.block[-1])
            return out
        for x, k in ((a, ka), (b, kb)):
            if type(x) is Var and k.tag != "num":      # (a number already: nothing to do)
                self.unify(x.kind, Kind.num(), node)
        return self.emit(prim, (a, b), self.join((a, b)), dest=dest)

    def list_arith(self, prim: str, a: Any, b: Any, ka: Kind, kb: Kind, dest: Var | None,
                   node: ast.AST) -> Var:
        if prim == "add":
            kind = Kind.list_of()
            for x in (a, b):
                self.unify(kind, self.kind_of(x), node)
            return self.emit("concat", (a, b), kind, dest=dest)
        lst, n = (a, b) if ka.tag == "list" else (b, a)
        return self.emit("repeat", (lst, n), self.kind_of(lst), dest=dest)

    def e_unaryop(self, scope: Scope, node: ast.UnaryOp, dest: Var | None) -> Any:
        a = self.operand(scope, node.operand)
        op = type(node.op)
        if op is ast.UAdd:
            return a
        if op is ast.USub:
            if type(a) is Const and isinstance(a.value, (int, float)):
                return Const(-a.value)
            if type(a) is Var:
                self.unify(a.kind, Kind.num(), node)
            return self.emit("neg", (a,), self.join((a,)), dest=dest)
        if op is ast.Not:
            if type(a) is Const:      # known while lowering (``if not 1.0:`` in a gradient)
                return Const(not a.value)
            return self.emit("not", (a,), Kind.num(), dest=dest, hint="_c")
        return self.emit("invert", (a,), Kind.num(), dest=dest)

    def e_compare(self, scope: Scope, node: ast.Compare, dest: Var | None) -> Any:
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            known = self.expr(scope, node.left)
            if type(known) in (FuncValue, FuncChoice, Static, StaticTuple) and dest is None \
                    and isinstance(node.comparators[0], ast.Constant) and \
                    node.comparators[0].value is None:
                # (a function, or a tuple, is not None: ``func is None`` of a function
                # argument, ``axis is None`` of axis=(0, 1))
                none = type(known) is Static and known.obj is None
                return Const(none == isinstance(node.ops[0], ast.Is))
            if type(known) is StaticTuple:        # t is u: which objects they are
                same = tuple_identity(self, known, self.expr(scope, node.comparators[0]), node)
                return Const(same == isinstance(node.ops[0], ast.Is))
            left = self.materialize(known, node.left)
        else:
            left = self.operand(scope, node.left)
        if len(node.ops) == 1:
            mark = len(self.block)
            right = self.expr(scope, node.comparators[0])
            if type(right) is StaticTuple and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
                same = tuple_identity(self, right, left, node)
                return Const(same == isinstance(node.ops[0], ast.Is))
            right = self.materialize(right, node.comparators[0])
            left = self.kept(left, mark)
            if type(left) is Const and type(right) is Const and dest is None:
                folded = _fold_compare(node.ops[0], left.value, right.value)
                if folded is not None:      # (b is None with b's default None: known)
                    return folded
            op = rules.COMPARE[type(node.ops[0]).__name__]
            kind = self.join((left, right)) if op in ("lt", "le", "gt", "ge", "eq", "ne") \
                else Kind.num()
            return self.emit(op, (left, right), kind, dest=dest, hint="_c")
        result = dest if dest is not None else Var("_c", Kind.num())
        self.compare_chain(scope, left, node.ops, node.comparators, result)
        return result

    def compare_chain(self, scope: Scope, left: Any, ops: list, comps: list, result: Var
                      ) -> None:
        """``a < b < c`` is ``a < b and b < c`` with ``b`` evaluated once."""
        right = self.operand(scope, comps[0])
        if type(right) is Var and right.name is None and len(ops) > 1:
            pass
        c = self.emit(rules.COMPARE[type(ops[0]).__name__], (left, right), Kind.num(), hint="_c")
        if len(ops) == 1:
            self.copy_into(result, c)
            return
        from .ir import If
        with self.sub_block() as then:
            self.compare_chain(scope, right, ops[1:], comps[1:], result)
        with self.sub_block() as orelse:
            self.copy_into(result, c)
        self.block.append(If(c, then, orelse, self.loc))

    def e_boolop(self, scope: Scope, node: ast.BoolOp, dest: Var | None) -> Any:
        """``a or b`` returns ``a`` if it is true, else ``b`` (which alone is evaluated
        then); ``and`` the other way round.  The operand returned carries the gradient."""
        result = dest if dest is not None else Var("_t")
        mark = len(self.block)
        self.boolop_chain(scope, isinstance(node.op, ast.Or), node.values, result)
        last = self.block[-1] if len(self.block) == mark + 1 else None
        if dest is None and type(last) is Eqn and last.prim == "copy" and \
                last.outs == (result,) and type(last.args[0]) is Const:   # known now
            self.block.pop()
            return last.args[0]
        return result

    def boolop_chain(self, scope: Scope, is_or: bool, values: list, result: Var) -> None:
        from .ir import If
        first = self.operand(scope, values[0])
        known = type(first) is Const and type(first.value) in (bool, int, float, str,
                                                               type(None), tuple)
        if len(values) == 1 or known and bool(first.value) == is_or:
            self.copy_into(result, first)     # (a constant that decides: ``True or b``)
            return
        if known:                             # (a constant that does not: ``True and b``)
            self.boolop_chain(scope, is_or, values[1:], result)
            return
        if type(first) is Var and first is result:
            first = self.emit("copy", (first,))
        with self.sub_block() as keep:
            self.copy_into(result, first)
        with self.sub_block() as rest:
            self.boolop_chain(scope, is_or, values[1:], result)
        then, orelse = (keep, rest) if is_or else (rest, keep)
        self.block.append(If(first, then, orelse, self.loc))

    def e_ifexp(self, scope: Scope, node: ast.IfExp, dest: Var | None) -> Any:
        from .ir import If
        cond = self.condition(scope, node.test)
        if type(cond) is Const:       # known while lowering: only that branch runs
            return self.expr(scope, node.body if cond.value else node.orelse, dest)
        result = dest if dest is not None else Var("_t")
        with self.sub_block() as then:
            self.copy_into(result, self.operand(scope, node.body))
        with self.sub_block() as orelse:
            self.copy_into(result, self.operand(scope, node.orelse))
        self.block.append(If(cond, then, orelse, self.loc))
        return result

    def condition(self, scope: Scope, test: ast.expr) -> Any:
        """The value of ``test`` where only its truth matters (``if``, ``while``, a
        conditional expression): ``xs and xs[0] > 0`` is ``bool(xs)`` and then the
        comparison, so a list (a dict, an object) may be tested beside numbers."""
        if isinstance(test, ast.BoolOp):
            result = Var("_c", Kind.num())
            mark = len(self.block)
            self.truth_chain(scope, isinstance(test.op, ast.Or), test.values, result)
            last = self.block[-1] if len(self.block) == mark + 1 else None
            if type(last) is Eqn and last.prim == "copy" and last.outs == (result,) and \
                    type(last.args[0]) is Const:       # known now
                self.block.pop()
                return last.args[0]
            return result
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and \
                isinstance(test.operand, ast.BoolOp):
            c = self.condition(scope, test.operand)
            return Const(not c.value) if type(c) is Const else self.emit(
                "not", (c,), Kind.num(), hint="_c")
        v = self.operand(scope, test)
        if self.known and type(v) is Var and v in self.known:   # (of a value fixed at use)
            return Const(bool(self.known[v]))
        return v

    def truth(self, scope: Scope, test: ast.expr) -> Any:
        """``test`` as a condition: a number or a comparison as it is, anything else (a
        list, a value of a kind not known yet) through ``bool``."""
        v = self.condition(scope, test)
        if type(v) is Const:
            return Const(bool(v.value))
        if type(v) is Var and v.kind.find().tag == "num":
            return v
        return self.emit("call", (Global("bool", bool, "builtin"), v), Kind.num(),
                         {"kw": (), "label": "bool", "constant": True}, hint="_c")

    def truth_chain(self, scope: Scope, is_or: bool, values: list, result: Var) -> None:
        """``result`` = the truth of ``v1 and v2 ...`` (``or``), each evaluated only when
        the ones before do not decide, as Python does."""
        from .ir import If
        first = self.truth(scope, values[0])
        if len(values) == 1 or type(first) is Const and first.value == is_or:
            self.copy_into(result, first)
            return
        if type(first) is Const:
            self.truth_chain(scope, is_or, values[1:], result)
            return
        with self.sub_block() as keep:
            self.copy_into(result, first)
        with self.sub_block() as rest:
            self.truth_chain(scope, is_or, values[1:], result)
        then, orelse = (keep, rest) if is_or else (rest, keep)
        self.block.append(If(first, then, orelse, self.loc))

    # ------------------------------------------------------------------ subscripts
    # ------------------------------------------------------------------ literals
    def e_list(self, scope: Scope, node: ast.List, dest: Var | None) -> Any:
        if any(isinstance(e, ast.Starred) for e in node.elts):
            return self.starred_list(scope, node, dest)
        if node.elts and any(isinstance(e, ast.Lambda) for e in node.elts) or \
                node.elts and all(isinstance(e, (ast.Name, ast.Attribute)) for e in node.elts) \
                and any(self.names_a_function(scope, e) for e in node.elts):
            # a list of functions ([lambda t: t * t, np.sin], np.piecewise's funclist):
            # its functions known, as in a tuple (a list written later is refused there)
            funcs = self.expanded(scope, node.elts, node, "", "")
            if all(_is_function(f) or is_operand(f) for f in funcs):
                return StaticTuple(tuple(funcs))
        if any(self.makes_object(scope, e) for e in node.elts):
            # [Linear(W1, b1), Linear(W2, b2)]: objects made in the function, known as a
            # tuple of them is (a list written later is refused there)
            made = [self.expr(scope, e) for e in node.elts]
            return StaticTuple(tuple(self.snapshot(v) if is_operand(v) else v for v in made))
        items = tuple(self.operands(scope, node.elts))
        kind = Kind.list_of()
        for it in items:
            self.unify(kind.element, self.kind_of(it), node)
        return self.emit("list", items, kind, dest=dest)

    def makes_object(self, scope: Scope, e: ast.expr) -> bool:
        """Is ``e`` an object made in the function (a name bound to one), or a call of a
        class of the user's that makes one (see lower_objects), read without lowering?"""
        if isinstance(e, ast.Name):
            return is_record(self.lookup(scope, e.id))
        if not isinstance(e, ast.Call) or not isinstance(e.func, ast.Name):
            return False
        b = self.lookup(scope, e.func.id)
        if b is MISSING:
            where, obj = resolve_global(scope.fs, e.func.id)
            b = Static(obj) if where == "global" else None
        from .lower_objects import can_make
        from .source import is_user_class
        return type(b) is Static and is_user_class(b.obj) and can_make(b.obj)

    def names_a_function(self, scope: Scope, e: ast.expr) -> bool:
        """Does ``e``, a name or ``module.name``, name a function (read without lowering
        anything: a binding, a global or a module's attribute)?"""
        base = e.value if isinstance(e, ast.Attribute) else e
        if not isinstance(base, ast.Name):
            return False
        b = self.lookup(scope, base.id)
        if b is MISSING:
            where, obj = resolve_global(scope.fs, base.id)
            b = Static(obj) if where in ("global", "builtin") else None
        if isinstance(e, ast.Attribute):
            if type(b) is not Static or not isinstance(b.obj, types.ModuleType):
                return False
            b = Static(getattr(b.obj, e.attr, None))
        return _is_function(b)

    def starred_list(self, scope: Scope, node: ast.List, dest: Var | None) -> Any:
        """``[a, *xs, b]``: the lists of its parts added (see StarLowering.spread_list)."""
        spread = [isinstance(e, ast.Starred) for e in node.elts]
        parts = self.operands(scope, [e.value if s else e for e, s in zip(node.elts, spread)])
        return self.spread_list(parts, spread, node)

    def e_tuple(self, scope: Scope, node: ast.Tuple, dest: Var | None) -> Any:
        return StaticTuple(tuple(self.expanded(scope, node.elts, node, "a starred list in a "
                                              "tuple", "build a list with + instead")))

    def expanded(self, scope: Scope, elts: list, node: ast.AST, what: str,
                 hint: str) -> list:
        """The values of ``elts``, a ``*t`` of a known tuple expanded (else ``what`` is
        refused, with ``hint``)."""
        items: list[Any] = []
        marks: list[int] = []
        for e in elts:
            if isinstance(e, ast.Starred):
                v = self.expr(scope, e.value)
                if type(v) is not StaticTuple:
                    raise scope.fs.error(node, what, hint)
                items.extend(v.items)
                marks.extend(len(self.block) for _ in v.items)
            else:
                items.append(self.expr(scope, e))
                marks.append(len(self.block))
        return self.kept_all(items, marks)

    def operands(self, scope: Scope, nodes: list) -> list:
        """Run-time values of ``nodes``, evaluated left to right, each as it was when read
        (``[x, g()]`` where ``g`` changes ``x``: the old ``x``)."""
        items, marks = [], []
        for e in nodes:
            items.append(self.operand(scope, e))
            marks.append(len(self.block))
        return self.kept_all(items, marks)

    def kept_all(self, items: list, marks: list[int]) -> list:
        """``items``, each read before the statements from its mark on (``h(x, g())``
        where ``g`` changes ``x`` through ``nonlocal``: Python passed the old ``x``)."""
        out = list(items)
        later: set = set()         # the variables assigned from the current mark on
        upto = len(self.block)
        for k in range(len(out) - 1, -1, -1):      # (last first: copies go in at marks)
            if marks[k] < upto:                    # (each statement is looked at once)
                later |= ir.assigned(self.block[marks[k]:upto])
                upto = marks[k]
            if later:
                out[k] = self.kept_value(out[k], marks[k], later)
        return out

    def kept_value(self, v: Any, mark: int, later: set) -> Any:
        if type(v) is StaticTuple:
            return v.like(tuple(self.kept_value(x, mark, later) for x in v.items))
        if type(v) is not Var or v not in later:
            return v
        old = Var(v.hint, v.kind)
        self.block.insert(mark, ir.Eqn((old,), "copy", (v,), None, self.loc))
        return old

    def e_dict(self, scope: Scope, node: ast.Dict, dest: Var | None) -> Any:
        """A dict with constant keys: a map whose values are differentiated; with
        ``**d`` of dicts among them, a merge (``{**d, "c": c}``)."""
        if any(k is not None and not isinstance(k, ast.Constant) for k in node.keys):
            return self.e_opaque(scope, node, dest)
        if None in node.keys:
            if dest is not None and any(type(n) is ast.Name and scope.lookup(n.id) is dest
                                        for n in ast.walk(node)):
                dest = None          # (p = {**p, "c": c}: built apart from p)
            parts = [(None, self.map_operand(self.expr(scope, v), v)) if k is None else
                     (k.value, self.operand(scope, v)) for k, v in zip(node.keys, node.values)]
            return self.dict_merge(parts, node, dest)
        keys = tuple(k.value for k in node.keys)
        if any(isinstance(v, ast.Lambda) or isinstance(v, (ast.Name, ast.Attribute)) and
               self.names_a_function(scope, v) for v in node.values):
            # {"relu": lambda z: ..., "tanh": np.tanh}: its functions known, as in a tuple
            found = [self.expr(scope, v) for v in node.values]
            if all(_is_function(f) or is_operand(f) for f in found):
                return StaticDict(dict(zip(keys, found)))
        values = tuple(self.operands(scope, node.values))
        kind = Kind.map_of()
        for key, v in zip(keys, values):
            self.unify(kind.field(key), self.kind_of(v), node)
        return self.emit("dict", values, kind, {"keys": keys}, dest=dest)

    def e_lambda(self, scope: Scope, node: ast.Lambda, dest: Var | None) -> Any:
        return FuncValue(node, scope, self.eval_defaults(scope, node.args), "<lambda>")

    def eval_defaults(self, scope: Scope, args: ast.arguments) -> dict[str, Any]:
        """Default values, evaluated where the function is defined (as Python does)."""
        out: dict[str, Any] = {}
        pos = args.posonlyargs + args.args
        for a, d in zip(pos[len(pos) - len(args.defaults):], args.defaults):
            out[a.arg] = self.snapshot(self.expr(scope, d))
        for a, d in zip(args.kwonlyargs, args.kw_defaults):
            if d is not None:
                out[a.arg] = self.snapshot(self.expr(scope, d))
        return out

    def e_namedexpr(self, scope: Scope, node: ast.NamedExpr, dest: Var | None) -> Any:
        target = node.target.id
        owner = scope
        while getattr(owner, "is_comp", False) and owner.parent is not None:
            owner = owner.parent
        d = self.target_var(owner, target)
        value = self.expr(scope, node.value, dest=d)
        self.bind(owner, target, value, node, d)
        return owner.env[target]

    # ------------------------------------------------------------------ opaque
    def e_opaque(self, scope: Scope, node: ast.expr, dest: Var | None) -> Any:
        """An expression symgrad does not model (f-strings, dicts, sets ...): evaluated
        as written, with its names read from the generated code's variables.  It must
        not depend on a differentiated value (checked once activity is known)."""
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            raise self.generator_refused(scope, node)
        if isinstance(node, ast.Await):
            raise scope.fs.error(node, _KIND_NAMES.get(type(node), "this expression"),
                                 "write an ordinary function that returns a value")
        free = _free_names(node)
        args = tuple(self.materialize(self.e_name(scope, ast.Name(id=n, ctx=ast.Load()), None),
                                      node) for n in free)
        template = _placeholders(node, free)
        return self.emit("pyexpr", args, Kind.obj() if not isinstance(
            node, ast.JoinedStr) else Kind.obj(), {"node": template, "names": free}, dest=dest)

    def e_call(self, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
        raise AssertionError("dispatched in expr()")  # pragma: no cover


def held_attribute(base: Any, name: str) -> Any:
    """What ``base.name`` holds when ``base`` is an object read when the code runs and
    ``name`` one of its own attributes, not its class's (``self.inner = Inner(w)``),
    else None."""
    if type(base) is not Global or isinstance(base.obj, (types.ModuleType, type)):
        return None
    held = getattr(base.obj, "__dict__", {}).get(name)
    return None if held is None or inspect.getattr_static(
        type(base.obj), name, None) is not None else held


def held_object(base: Global, name: str) -> Any:
    """:func:`held_attribute` when it is an instance of a class of the program (a
    sub-module, whose attributes and methods are then read as ``self``'s are)."""
    held = held_attribute(base, name)
    if held is None or isinstance(held, (types.FunctionType, types.BuiltinFunctionType,
                                         types.MethodType, type, types.ModuleType)) or \
            not hasattr(held, "__dict__") or type(held).__module__ in (
                "builtins", "numpy", "functools"):
        return None
    from .source import is_library
    init = getattr(type(held), "__init__", None)
    return None if isinstance(init, types.FunctionType) and is_library(init) else held


def _is_stdlib(mod: Any) -> bool:
    from .source import is_library
    name = getattr(mod, "__name__", "").split(".")[0]
    if name in _STDLIB_CONSTANT_MODULES or name in sys.builtin_module_names:
        return True
    file = getattr(mod, "__file__", None)
    if not file:
        return True
    fake = types.SimpleNamespace(__code__=types.SimpleNamespace(co_filename=file))
    return is_library(fake)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_KIND_NAMES = {ast.Yield: "yield (a generator)", ast.YieldFrom: "yield from (a generator)",
               ast.Await: "await"}


def _free_names(node: ast.AST) -> list[str]:
    """Names an expression reads that it does not bind itself (comprehension targets,
    lambda parameters), in order of appearance."""
    bound: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.comprehension):
            bound.update(x.id for x in ast.walk(n.target) if isinstance(x, ast.Name))
        elif isinstance(n, ast.Lambda):
            bound.update(a.arg for a in n.args.args)
    seen: dict[str, None] = {}
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound:
            seen.setdefault(n.id, None)
    return list(seen)


def _placeholders(node: ast.expr, free: list[str]) -> ast.expr:
    import copy as _copy
    tree = _copy.deepcopy(node)
    index = {n: k for k, n in enumerate(free)}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id in index and isinstance(n.ctx, ast.Load):
            n.id = f"__arg{index[n.id]}__"
    return tree


_EXPRS: dict[type, Any] = {
    ast.Name: ExprLowering.e_name, ast.Constant: ExprLowering.e_constant,
    ast.Attribute: ExprLowering.e_attribute, ast.BinOp: ExprLowering.e_binop,
    ast.UnaryOp: ExprLowering.e_unaryop, ast.Compare: ExprLowering.e_compare,
    ast.BoolOp: ExprLowering.e_boolop, ast.IfExp: ExprLowering.e_ifexp,
    ast.Subscript: ExprLowering.e_subscript, ast.List: ExprLowering.e_list,
    ast.Tuple: ExprLowering.e_tuple, ast.Lambda: ExprLowering.e_lambda,
    ast.NamedExpr: ExprLowering.e_namedexpr, ast.Call: ExprLowering.e_call,
    ast.Dict: ExprLowering.e_dict,
    ast.ListComp: lambda self, scope, node, dest: self.e_listcomp(scope, node, dest),
    ast.GeneratorExp: lambda self, scope, node, dest: self.e_listcomp(scope, node, dest),
    ast.DictComp: lambda self, scope, node, dest: self.e_dictcomp(scope, node, dest),
}

_ = (builtins, math)   # kept for doctest namespaces


_FOLDABLE = {ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b,
             ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b,
             ast.Lt: lambda a, b: a < b, ast.LtE: lambda a, b: a <= b,
             ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b}


def _fold_compare(op: ast.cmpop, a: Any, b: Any) -> Const | None:
    """``a is None`` / ``a == b`` / ``t > 0`` of two constants (None, numbers, strings;
    an inlined call's constant argument), else None."""
    fold = _FOLDABLE.get(type(op))
    simple = (type(None), bool, int, float, str)
    if fold is None or type(a) not in simple or type(b) not in simple:
        return None
    try:
        return Const(bool(fold(a, b)))
    except TypeError:                   # (None < 1: Python raises it when the code runs)
        return None
