"""Lowering of calls (a mixin of :class:`symgrad.lower.Lowerer`).

What a call means is decided by what the callee *is*, resolved while lowering:

* a primitive of the rule table (``math.exp``, ``abs``, ``np.tanh``, a registered
  rule) -> one equation; special forms (``log(x, base)``, ``max(a, b, c)``) are
  expanded by the rule itself;
* one of the builtins with structure (``sum``, ``max``/``min`` with ``key=`` and
  ``default=``, ``sorted``, ``len``, ``list`` ...) -> equations and loops;
* a Python function, a lambda, a nested ``def`` (read at call time: late
  binding), a ``functools.wraps`` wrapper, a bound method, a ``functools.partial``
  -> inlined, arguments bound as Python binds them (``*args``/``**kwargs``
  forwarding included);
* anything else (a class, a C function with no rule, a method of a run-time
  object) -> an opaque call, which must not receive a differentiated value (the
  analysis checks; piecewise-constant calls such as ``int`` and ``round`` may).
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
import types
from typing import Any

from . import ir, rules
from .desugar import assigned_names, desugar, forwarded_dict_keys
from .errors import SourceError, UnsupportedSyntaxError
from .ir import Const, Global, Kind, Loc, Var
from .param_classes import member_of
from .stdlib_models import model_of
from .contexts import read_through_body
from .ufuncs import ufunc_method_as
from .static_args import counted_param, mark as mark_fixed
from .lower_methods import MethodLowering
from .lower_objects import Building, can_make, is_record, make_object
from .lower_dicts import DictLowering
from .lower_expr import held_attribute
from .lower_gen import CONSUMERS, python_method as _python_method
from .lower_star import Spread, StarLowering
from .lower_records import class_of_tuple, is_named_tuple_class, make_named_tuple
from .scope import known_callable, known_isinstance, static_types
from .scope import (FuncChoice, FuncValue, PartialValue, Scope, Static, StaticDict,
                    StaticTuple, const_or_none, is_compile_time, is_operand)
from .source import (array_library_error, c_wrapper_error as _c_wrapper_error, describe,
                     get_source, library_error, is_library, is_user_class,
                     python_function_inside as _python_function_inside)

def describe_var(v: Var) -> str:
    return repr(v.name) if getattr(v, "name", None) else "this value"


_KWARGS_HINT = ("pass keyword arguments one by one, a dict display of constant keys "
                "(**{'s': y}, or a name assigned one and only forwarded), or forward **kwargs "
                "before reading it")
_RANDOM_HINT = ("draw with constant parameters and move or scale the draw: mu + sigma * "
                "random.gauss(0.0, 1.0), a + (b - a) * random.random(), xs[random.randrange("
                "len(xs))]")
#: a recursion is inlined call by call while its depth is known when the code is made
_MAX_DEPTH, _MAX_RECURSIVE = 32, 512
_RECURSION_HINT = ("rewrite the recursion as a loop (a recursion is inlined when its depth is "
                   "fixed as the code is made, by constants or by an int parameter counted "
                   f"down, up to {_MAX_DEPTH} calls deep: power(x, 3) or power(x, n), not a "
                   "depth computed from the data)")



def _check_binds(scope: Scope, obj: Any, args: list, kwargs: dict, node: ast.AST) -> None:
    """Refuse a call Python would refuse for its arguments (``round()``): a constant call
    whose result is unused is dropped, so the gradient would run where ``f`` raises."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):       # (no signature to check: int, some builtins)
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise scope.fs.error(node, f"{describe(obj)} with these arguments ({exc})",
                             "call it as Python allows") from None


class CallLowering(DictLowering, StarLowering, MethodLowering):
    """Calls: primitives, structured builtins, inlining, opaque calls, methods (those of
    dicts in :mod:`symgrad.lower_dicts`, ``*`` arguments in :mod:`symgrad.lower_star`)."""

    # ------------------------------------------------------------------ entry
    def call(self, scope: Scope, node: ast.Call, dest: Var | None, statement: bool) -> Any:
        func = node.func
        if isinstance(func, ast.Attribute):
            base = self.expr(scope, func.value)
            if type(base) is StaticTuple and func.attr in ("index", "count") or \
                    type(base) is StaticDict:     # (p * q, r).index(m), kwargs.get("s")
                base = self.materialize(base, node)
            method = _python_method(base, func.attr)
            held = held_attribute(base, func.attr)
            if callable(held):                  # self.inner(x): the object it holds, called
                self.add_guard(("attr", base.obj, func.attr), held)    # (checked at calls)
                callee: Any = Static(held)
            elif is_operand(base) and not (method is not None and any(
                    type(a) is ast.Starred for a in node.args)):
                args, kwargs = self.call_args(scope, node)
                return self.method_call(scope, base, func.attr, args, kwargs, node, dest)
            elif method is not None:            # model.forward(*xs): see lower_star
                callee = Static(getattr(base.obj, func.attr))
            elif type(base) is Static:
                obj = getattr(base.obj, func.attr, None)
                if obj is None or not callable(obj):
                    raise scope.fs.error(node, f"the call {ast.unparse(func)}(...)",
                                         "call a function")
                callee = Static(obj)
            else:
                callee = self.expr(scope, func)
        else:
            callee = self.expr(scope, func)
        if type(callee) is Static and callee.obj in CONSUMERS:    # sum(g(x)) of a generator
            node = self.consumed_generator(scope, node)
        if any(type(a) is ast.Starred for a in node.args):
            return self.starred_call(scope, callee, node, dest)
        return self.finish_call(scope, callee, node, dest)

    def finish_call(self, scope: Scope, callee: Any, node: ast.Call, dest: Var | None) -> Any:
        """The call of ``callee`` (lowered) with the arguments of ``node``."""
        if type(callee) is Static and callee.obj in _STRUCTURED:
            return _STRUCTURED[callee.obj](self, scope, node, dest)
        if type(callee) is Static and _rows_in_sequence(callee.obj, node):
            return self.sequence_call(scope, callee, node, dest)
        args, kwargs = self.call_args(scope, node)
        return self.apply(scope, callee, args, kwargs, node, dest)

    def call_args(self, scope: Scope, node: ast.Call) -> tuple[list, dict]:
        """Positional and keyword arguments as bindings (``*t`` and ``**d`` of known
        tuples and dicts are expanded, as a forwarding wrapper needs)."""
        args = self.expanded(scope, node.args, node, "a starred argument of unknown length",
                             "pass the arguments one by one")
        mark = len(self.block)
        kwargs: dict[str, Any] = {}
        marks: dict[str, int] = {}
        for k in node.keywords:
            v = self.expr(scope, k.value)
            if k.arg is None:
                keys = None if type(v) is StaticDict else forwarded_dict_keys(
                    scope.fs.tree, k.value)         # (a dict of known keys, never changed)
                if keys is None and (type(v) is not StaticDict or v.var is not None):
                    raise scope.fs.error(node, "a ** argument of unknown keys (or **kwargs read "
                                         "as a dict before it is forwarded)", _KWARGS_HINT)
                items = v.items if keys is None else {
                    key: self.getitem(v, Const(key), None, k.value) for key in keys}
                kwargs.update(items)
                marks.update((key, len(self.block)) for key in items)
            else:
                kwargs[k.arg] = v
                marks[k.arg] = len(self.block)
        if len(self.block) > mark:     # (a keyword's call may change a positional's name)
            names = list(kwargs)       # (the keywords first: copies go in at later marks)
            for key, v in zip(names, self.kept_all([kwargs[n] for n in names],
                                                  [marks[n] for n in names])):
                kwargs[key] = v
            args = self.kept_all(args, [mark] * len(args))
        return args, kwargs

    def apply(self, scope: Scope, callee: Any, args: list, kwargs: dict, node: ast.AST,
              dest: Var | None) -> Any:
        t = type(callee)
        if t is FuncValue:
            return self.inline_value(callee, args, kwargs, node)
        if t is FuncChoice:
            return self.call_choice(scope, callee, args, kwargs, node)
        if t is PartialValue:
            return self.apply(scope, callee.func, list(callee.args) + list(args),
                              {**callee.kwargs, **kwargs}, node, dest)
        if t is Static:
            return self.apply_object(scope, callee, args, kwargs, node, dest)
        call = getattr(type(callee.obj), "__call__", None) if t is Global else None
        if isinstance(call, types.FunctionType) and callee.how == "inject":  # self(x)
            return self.inline_function(scope, call, [callee, *args], kwargs, node,
                                        Static(call))
        if is_record(callee):                   # layer(x) of layer = Linear(W, b)
            call = inspect.getattr_static(callee.cls.real, "__call__", None)
            if isinstance(call, types.FunctionType):
                return self.inline_function(scope, call, [callee, *args], kwargs, node,
                                            Static(call))
        found = member_of(self, callee, "__call__") if t is Var else None
        if found is not None and found[0] == "method":     # p(x) of an object made here
            return self.inline_function(scope, found[1], [callee, *args], kwargs, node,
                                        Static(found[1]))
        if is_operand(callee):          # (a value called: named by its source text)
            label = ast.unparse(node.func) if isinstance(node, ast.Call) else describe(callee)
            error = None
            if t is Var:         # a function passed in (or named by a parameter): if a
                # gradient flows through it, made again with it fixed (see static_args)
                error = mark_fixed(self.error_at(node, f"a call of {label}, a parameter",
                                                 "pass a function (def or lambda)"),
                                   callee, self.top_params, "function", self.block)
                error = error if hasattr(error, "static_param") else None
            return self.opaque_call(callee, args, kwargs, node, dest, label, error=error)
        raise scope.fs.error(node, "calling this value", "call a function")

    def apply_object(self, scope: Scope, callee: Static, args: list, kwargs: dict,
                     node: ast.AST, dest: Var | None) -> Any:
        obj = callee.obj
        if getattr(obj, "__symgrad_transform__", None) is not None:
            return self.transform_call(obj, args, kwargs, node)
        if is_named_tuple_class(obj):   # Point(x, y): a tuple whose fields have names
            return make_named_tuple(self, obj, args, kwargs, node)
        known = class_of_tuple(self, obj, args, kwargs, node)   # type(p), p._replace(..)
        if known is not None:
            return known
        model = model_of(obj, len(args))
        if model is not None and model not in self.inlining and not (
                rules.is_random(obj) and all(type(a) is Const for a in (*args, *kwargs.values()))):
            # statistics.variance, math.dist, operator.mul, random.gauss ... (a model
            # calling what it models, random.gauss(0.0, 1.0), calls the library; so does
            # a draw of constants, which is one)
            return self.inline_function(scope, model, args, kwargs, node, Static(model))
        info = rules.lookup_callable(obj)
        if info is not None:
            return self.primitive(scope, info, obj, args, kwargs, node, dest)
        made = self.numpy_call(scope, callee, args, kwargs, node, dest)
        if made is not _NOT_NUMPY:
            return made
        if obj is isinstance and len(args) == 2 and not kwargs:
            known = self.isinstance_now(args, node)
            if known is not None:           # isinstance(2, int) of a constant: known now
                return Const(known)
        if obj is callable and len(args) == 1 and not kwargs:
            known = known_callable(args[0])
            if known is not None:           # callable(f) of a function, or of a number
                return Const(known)
        if rules.is_constant_call(obj):
            return self.constant_call(scope, callee, args, kwargs, node, dest)
        helper = getattr(obj, "__symgrad_helper__", None)
        if helper is not None:                # generated code differentiated again
            return self.helper_call(helper, args, kwargs, node, dest)
        if (getattr(obj, "__module__", None) or "").split(".")[0] in ("numpy", "scipy"):
            err = array_library_error(self.scope_fs, obj, node)
            return self.opaque_call(self.ref_static(callee), args, kwargs, node, dest,
                                    describe(obj), error=err)
        generated_for = getattr(obj, "__symgrad_generated_for__", None)
        if generated_for is not None:      # symgrad.grad(g)(d): g's gradient, made for d
            obj = generated_for([self.kind_of(a).find() for a in args])
        if isinstance(obj, types.FunctionType) and is_library(obj):
            return self.opaque_call(self.ref_static(callee), args, kwargs, node, dest,
                                    describe(obj), error=library_error(self.scope_fs, obj, node))
        if isinstance(obj, types.FunctionType):
            return self.inline_function(scope, obj, args, kwargs, node, callee)
        if rules.is_random(obj):                # random.gauss(mu, s), random.choice(xs)
            return self.opaque_call(self.ref_static(callee), args, kwargs, node, dest,
                                    describe(obj), error=self.error_at(
                                        node, f"{describe(obj)} of differentiated values",
                                        _RANDOM_HINT))
        if isinstance(obj, types.MethodType) and isinstance(obj.__func__, types.FunctionType):
            this = self.static_self(obj.__self__)
            return self.inline_function(scope, obj.__func__, [this, *args], kwargs, node,
                                        callee)
        return self.call_object(scope, callee, obj, args, kwargs, node, dest)

    def call_object(self, scope: Scope, callee: Static, obj: Any, args: list, kwargs: dict,
                    node: ast.AST, dest: Var | None) -> Any:
        """A call of what is neither a function nor a method: a wrapper made in C, a
        ``functools.partial``, an object with ``__call__``, a class."""
        if hasattr(obj, "__wrapped__") and callable(obj):
            inner_fn = _python_function_inside(obj)
            err = _c_wrapper_error(obj, inner_fn) if inner_fn is not None else None
            return self.opaque_call(self.ref_static(callee), args, kwargs, node, dest,
                                    describe(obj), error=err)
        if isinstance(obj, functools.partial):
            inner = Static(obj.func)
            bound = [self.static_value(v) for v in obj.args]
            kw = {k: self.static_value(v) for k, v in obj.keywords.items()}
            return self.apply(scope, inner, bound + args, {**kw, **kwargs}, node, dest)
        call = getattr(type(obj), "__call__", None)
        if isinstance(call, types.FunctionType) and not isinstance(obj, type):
            return self.inline_function(scope, call, [self.static_self(obj), *args], kwargs,
                                        node, callee)
        user = is_user_class(obj)
        if user and can_make(obj) and any(is_operand(a) and type(a) is not Const
                                          or type(a) is StaticTuple
                                          for a in (*args, *kwargs.values())):
            return make_object(self, scope, obj, args, kwargs, node)    # Linear(W, b)
        err = self.error_at(node, f"an object of class {obj.__name__} made inside the function",
                            "pass it in (its fields are differentiated), or make the class a "
                            "NamedTuple") if user else None
        out = self.opaque_call(self.ref_static(callee), args, kwargs, node, dest, describe(obj),
                               error=err)
        if user and type(out) is Var:       # (of constants: an object, whose methods are
            self.maybe_arrays.discard(out)  # its class's, not a list's append)
            self.unify(out.kind, Kind.obj(), node)
            self.param_classes[out] = obj
        return out

    def numpy_call(self, scope: Scope, callee: Static, args: list, kwargs: dict,
                   node: ast.AST, dest: Var | None) -> Any:
        """A numpy function with a rule, a constructor, ``np.add.at``, or one that writes
        into an argument; ``_NOT_NUMPY`` for anything else."""
        from .lower_array import is_numpy_constructor, numpy_op_of
        obj = callee.obj
        if _is_add_at(obj):
            return self.add_at(args, node)
        same = ufunc_method_as(obj)
        if same is not None:                # np.add.reduce(x) is np.sum(x, axis=0) ...
            if len(args) < 2 and "axis" not in kwargs:
                kwargs = {**kwargs, "axis": Const(0)}
            return self.apply_object(scope, Static(same), args, kwargs, node, dest)
        if _writes_argument(obj) or (
                "out" in kwargs and (getattr(obj, "__module__", None) or "").startswith("numpy")):
            return self.writing_call(callee, obj, args, kwargs, node, dest)
        op = numpy_op_of(obj)
        if op is not None:
            return self.array_call(scope, op, args, kwargs, node, dest)
        if is_numpy_constructor(obj):
            return self.constructor_call(scope, callee, args, kwargs, node, dest,
                                         describe(obj))
        return _NOT_NUMPY

    def writing_call(self, callee: Static, obj: Any, args: list, kwargs: dict, node: ast.AST,
                     dest: Var | None) -> Any:
        """``np.copyto(y, v)``, ``np.put(y, idx, v)``, ``np.cumsum(x, out=y)``: called as
        written when no differentiated value goes in or out (the array written is read
        only as a constant), else refused: symgrad does not follow a write into an
        argument made by a numpy function."""
        name = f"np.{getattr(obj.__self__, '__name__', '?')}.at" if getattr(
            obj, "__name__", "") == "at" else f"np.{obj.__name__}" if (getattr(
                obj, "__module__", None) or "").startswith("numpy") else describe(obj)
        error = self.error_at(node, f"{name}(...) writing into an array in place"
                              + (" (out=)" if "out" in kwargs else ""),
                              "assign the result (y = np.cumsum(x)), or write the elements: "
                              "y[...] = value (np.add.at(y, idx, v) is differentiated)")
        out = self.opaque_call(self.ref_static(callee), args, kwargs, node, dest, name,
                               error=error)
        self.block[-1].params["writes_arg"] = True
        return out

    def transform_call(self, obj: Any, args: list, kwargs: dict, node: ast.AST) -> Any:
        """``symgrad.grad(g)`` inside the function: made now, when ``g`` and the other
        arguments are known while lowering (then its generated code is differentiated
        where it is called, like any function)."""
        if obj.__symgrad_transform__ == "function":
            try:
                made = obj(*[_known(a) for a in args], **{k: _known(v) for k, v in
                                                         kwargs.items()})
            except LookupError:
                made = None
            if made is not None:
                return self.static_value(made)
        if obj.__symgrad_transform__ == "now":
            raise self.error_at(node, f"symgrad.{obj.__name__}(...) inside a differentiated "
                                "function (only grad and value_and_grad made inside are "
                                "differentiated: their generated code is inlined)",
                                "for a function of one number, grad(grad(h)) is its second "
                                "derivative; else differentiate outside (symgrad.hessian(f) "
                                "of the whole function)")
        raise self.error_at(node, f"symgrad.{obj.__name__}(...) of a function or values made "
                            "when the code runs",
                            "make the gradient outside the function (g = symgrad.grad(f) at "
                            "module level), or use symgrad.hessian / hvp for second derivatives")

    def static_value(self, value: Any) -> Any:
        """A Python object met while lowering, as a binding."""
        c = const_or_none(value)
        if c is not None:
            return c
        if is_compile_time(value):
            return Static(value)
        return self.inject(value)

    def isinstance_now(self, args: list, node: ast.AST) -> bool | None:
        """``isinstance(v, kinds)`` when lowering can tell (of a constant, or of a
        parameter whose value the gradient is made for), else None."""
        fixed = self.fixed_at_use.get(args[0], args[0]) if type(args[0]) is Var else args[0]
        known = known_isinstance(args[0] if fixed is args[0] else Const(fixed),
                                 static_types(args[1]))
        if known is None and self.site is not None and args[0] in self.top_params:
            # a model of numpy asking the type of a parameter (np.split(x, n)): made
            # again for its value
            err = self.error_at(node, f"{self.site.text.strip()} with an argument passed "
                                "in as a parameter", "pass an int or a tuple of ints there "
                                "(the gradient is made for its value)")
            raise mark_fixed(err, args[0], self.top_params, "")
        return known

    def default_value(self, value: Any) -> Any:
        """A parameter's default as the generated function's default: a function (a
        compile-time object) by the name it is injected under."""
        made = self.static_value(value)
        return self.inject(value) if type(made) is Static else made

    def static_self(self, obj: Any) -> Any:
        """``self`` of a bound method: its attributes are read when the code runs."""
        return self.inject(obj, "self")

    # ------------------------------------------------------------------ opaque calls
    def helper_call(self, name: str, args: list, kwargs: dict, node: ast.AST,
                    dest: Var | None) -> Any:
        """A call of one of symgrad's helpers, in generated code being differentiated
        again (Hessians): the primitive the helper was printed for."""
        ops = [self.materialize(a, node) for a in args]
        if name in ("_split_like", "_joined_vjp") and set(kwargs) <= {"axis"}:
            axis = kwargs.get("axis", Const(0))
            return self.emit("np" + name, tuple(ops), Kind.list_of(Kind.array()),
                             {"axis": axis.value if type(axis) is Const else 0}, dest=dest,
                             hint="_a")
        if name == "_unjoin" and set(kwargs) <= {"how", "axis"} and all(
                type(v) is Const for v in kwargs.values()):
            params = {k: v.value for k, v in kwargs.items()}
            return self.emit("np_unjoin", tuple(ops), Kind.list_of(Kind.array()), params,
                             dest=dest, hint="_a")
        if name in ("_tensordot_vjp_a", "_tensordot_vjp_b") and set(kwargs) <= {"axes"}:
            from .array_ops import ARRAY_OPS
            op = ARRAY_OPS["np" + name]
            axes = self.static_param(kwargs["axes"], "axes", op, node) if kwargs else 2
            return self.emit(op.name, tuple(ops), Kind.array(), {"axes": axes}, dest=dest,
                             hint="_a")
        if kwargs or not ops:
            raise self.scope_fs.error(node, f"this call of {name}", "call it as generated")
        if name == "_distinct_indices":   # (a test that raises: kept, with no derivative)
            from .helpers import helper_object
            self.block.append(ir.Eqn((), "call", (Global(name, helper_object(name)), *ops),
                                     {"kw": (), "label": name, "constant": True}, self.loc))
            return Const(None)
        if name == "_zeros_like":
            outs = tuple(Var("_z", a.kind if type(a) is Var else Kind.num()) for a in ops)
            if dest is not None and len(outs) == 1:
                outs = (dest,)
                self.unify(dest.kind, ops[0].kind if type(ops[0]) is Var else Kind.num(), node)
            self.block.append(ir.Eqn(outs, "zeros_like", tuple(ops), None, self.loc))
            return outs[0] if len(outs) == 1 else StaticTuple(outs)
        array_prim = _ARRAY_HELPERS.get(name)
        if array_prim is not None:
            return self.emit(array_prim, tuple(ops), Kind.array(), None, dest=dest, hint="_a")
        prim = {"_put_back": "put_back", "_add_into": "add_into"}.get(name)
        if prim is None:
            raise self.scope_fs.error(node, f"the helper {name}", "differentiate the original "
                                      "function instead of its generated gradient")
        self.effect(prim, tuple(ops))
        return Const(None)

    def opaque_call(self, fn: Any, args: list, kwargs: dict, node: ast.AST, dest: Var | None,
                    label: str, constant: bool = False, error: Exception | None = None) -> Var:
        """A call kept as written.  Its result does not depend differentiably on its
        arguments (checked when activity is known: an error unless ``constant``)."""
        ops = [a.seq if type(a) is Spread else self.materialize(a, node) for a in args]
        kws = {k: self.materialize(v, node) for k, v in kwargs.items()}
        params = {"kw": tuple(kws), "label": label, "constant": constant}
        star = tuple(k for k, a in enumerate(args) if type(a) is Spread)
        if star:                                    # print(*xs)
            params["star"] = star
        if error is not None:
            params["error"] = error
        obj = getattr(fn, "obj", None)
        if isinstance(obj, type) and issubclass(obj, dict):   # defaultdict(float), Counter()
            return self.emit("call", (fn, *ops, *kws.values()), Kind.map_of(), params,
                             dest=dest)
        out = self.emit("call", (fn, *ops, *kws.values()), Kind(), params, dest=dest)
        self.maybe_arrays.add(out)
        return out

    # ------------------------------------------------------------------ primitives
    def constant_call(self, scope: Scope, callee: Static, args: list, kwargs: dict,
                      node: ast.AST, dest: Var | None) -> Any:
        """A call whose result has derivative 0 (``int(x)``, ``np.argmax(m, axis=0)``),
        kept as written; its result's kind where the function tells it."""
        obj = callee.obj
        _check_binds(scope, obj, args, kwargs, node)
        if obj is isinstance and len(args) == 2 and not kwargs:
            if type(args[0]) is Global and type(args[0].obj) in (tuple, str):
                self.guard_global(args[0])        # (isinstance(TREE, str): guarded)
                args = [Static(args[0].obj), *args[1:]]
            try:                          # isinstance(axis, int) of a constant: known now
                return Const(isinstance(_known(args[0]), _known(args[1])))
            except LookupError:
                pass
        if getattr(obj, "__name__", "") == "ndim" and rules.is_numpy_shape_query(obj) and \
                len(args) == 1 and not kwargs and self.array_ranks.get(args[0]) is not None:
            return Const(self.array_ranks[args[0]])   # (the gradient is made per rank)
        out = self.opaque_call(self.ref_static(callee), args, kwargs, node, dest,
                               describe(obj), constant=True)
        if rules.is_random(obj):                # (random.seed(0), random.random(): kept)
            self.block[-1].params["stateful"] = True
        kind = rules.constant_call_kind(obj)
        if kind is None and getattr(obj, "__name__", "") in ("argmax", "argmin") and \
                len(args) == 1 and "axis" not in kwargs:      # (np.argmax(x): one index)
            kind = "num"
        if kind is not None and type(out) is Var:
            self.unify(out.kind, Kind.obj() if kind == "obj" else Kind.num(), node)
            self.maybe_arrays.discard(out)
        elif type(out) is Var and rules.is_shaped_like_args(obj):
            self.join_call(out, obj, node)
        return out

    def primitive(self, scope: Scope, info: Any, obj: Any, args: list, kwargs: dict,
                  node: ast.AST, dest: Var | None) -> Any:
        rule = rules.RULES[info.rule]
        nin = getattr(obj, "nin", None) if type(obj).__name__ == "ufunc" else None
        if "out" in kwargs or (nin is not None and len(args) > nin):
            raise scope.fs.error(node, f"the out argument of {describe(obj)} (it writes the "
                                 "result into an array in place)", "assign the result instead")
        if kwargs:
            args = self.bind_keywords(scope, obj, args, kwargs, node)
        ops = [self.materialize(a, node) for a in args]
        params: dict[str, Any] = {"flavor": info.flavor}
        if info.flavor == "helper":
            params["fn"] = self.inject(rule.forward, rule.name)
        if len(ops) != rule.nargs:
            if rule.expand is None:
                raise scope.fs.error(node, f"{describe(obj)} with {len(ops)} arguments",
                                     f"call it with {rule.nargs}")
            build = _Emitter(self, params, node)
            out = rule.expand(build, *ops)
            if out is None:
                raise scope.fs.error(node, f"{describe(obj)} with {len(ops)} arguments",
                                     f"call it with {rule.nargs}")
            return out
        if info.flavor == "numpy":        # np.exp([w * v for v in xs]): an array of it
            ops = [self.emit("list_to_array", (a,), Kind.array(), hint="_a")
                   if type(a) is Var and a.kind.find().tag == "list" else a for a in ops]
        for a in ops:
            if type(a) is Var:
                self.unify(a.kind, Kind.num(), node)
        # (float(a[2]) is a Python number, whatever the kind of its operand)
        kind = Kind.num() if rule.name == "float" else self.join(ops)
        return self.emit(rule.name, tuple(ops), kind, params, dest=dest)

    def bind_keywords(self, scope: Scope, obj: Any, args: list, kwargs: dict,
                      node: ast.AST) -> list:
        """Keyword arguments of a builtin, put in their positions (``pow(base=x, exp=2)``)."""
        import inspect
        try:
            sig = inspect.signature(obj)
            bound = sig.bind(*args, **kwargs)
        except (TypeError, ValueError):
            raise scope.fs.error(node, f"these keyword arguments to {describe(obj)}",
                                 "pass the arguments positionally") from None
        return list(bound.args)

    # ------------------------------------------------------------------ inlining
    def inline_function(self, scope: Scope, fn: types.FunctionType, args: list, kwargs: dict,
                        node: ast.AST, callee: Static) -> Any:
        """Inline a call to a Python function; a function that cannot be inlined is
        called as it is (an error only if a gradient has to flow through it: a method's
        ``callee`` is bound, so its object, the first of ``args``, is not passed again)."""
        kept = args[1:] if getattr(getattr(callee, "obj", None), "__func__", None) is fn \
            else args
        if self.recursion_stops(fn, args):  # (the same function object: wrappers share code)
            return self.opaque_call(self.ref_static(callee), kept, kwargs, node, None,
                                    describe(fn), error=self.recursion_error(
                                        fn, describe(fn), node))
        try:
            fs = get_source(fn)
        except SourceError as exc:
            return self.opaque_call(self.ref_static(callee), kept, kwargs, node, None,
                                    describe(fn), error=exc)
        mark = len(self.block)
        saved_loc, saved_fs, saved_site = self.loc, self.scope_fs, self.site
        if saved_site is None and (getattr(fn, "__module__", None) or "").startswith("symgrad."):
            self.site = saved_loc       # a model's lines are located at the user's call
        try:
            callee_scope = Scope(fs, label=fn.__code__.co_name)
            defaults = self.python_defaults(fn)
            return self.inline_body(callee_scope, fs.tree, args, kwargs, defaults, node, fn)
        except UnsupportedSyntaxError as exc:
            if getattr(exc, "static_param", None) is not None or any(
                    is_record(a) or type(a) is Building for a in args):
                raise           # (made again for the parameter's value; an object made in
            del self.block[mark:]   # the function exists only while lowering: no call)
            self.loc, self.scope_fs = saved_loc, saved_fs
            return self.opaque_call(self.ref_static(callee), kept, kwargs, node, None,
                                    describe(fn), error=exc)
        finally:
            self.loc, self.scope_fs, self.site = saved_loc, saved_fs, saved_site

    def recursion_stops(self, key: Any, args: list) -> bool:
        """Is a call of ``key`` (a function being inlined) inside itself refused?  A
        recursion whose depth the arguments fix when the code is made (``power(x, 3)``,
        ``horner(cs[1:], x)`` of a list written out) is inlined call by call, up to
        :data:`_MAX_DEPTH` deep and :data:`_MAX_RECURSIVE` calls in all (at its first
        call, the parameter it counts with is noted: :meth:`recursion_error`)."""
        depth = self.inlining.count(key)
        if depth == 0 and key is not self.top_fn:
            return False
        if depth <= 1 and key not in self.counted:
            self.counted[key] = counted_param(args, self.top_params, self.block)
        if depth == 0:
            return False
        calls = self.__dict__["_recursive_calls"] = self.__dict__.get("_recursive_calls", 0) + 1
        return depth >= _MAX_DEPTH or calls > _MAX_RECURSIVE

    def recursion_error(self, key: Any, label: str, node: ast.AST) -> Any:
        """The refusal of a recursion too deep to inline, marked with the parameter it
        counts down (``power(x, n - 1)``): made for each ``n``, it unrolls."""
        err = self.error_at(node, f"the recursive call to {label}", _RECURSION_HINT)
        name = self.counted.get(key)
        if name is not None:
            err.static_param, err.static_role = name, "recursion"   # type: ignore[attr-defined]
        return err

    def may_rebind(self, *trees: Any) -> bool:
        """Can a call rebind a variable it was given (a ``nonlocal`` in one of ``trees``,
        or in any function lowered so far: a closure may be passed along and called)?"""
        from .desugar import nonlocal_names
        seen = self.__dict__.setdefault("_nonlocal_trees", {})
        for t in trees:
            if id(t) not in seen:
                seen[id(t)] = (t, bool(nonlocal_names([t])))
        return any(has for _, has in seen.values())

    def value_at_call(self, a: Any) -> Any:
        """A copy of a number variable (an argument the callee may rebind)."""
        if type(a) is not Var or a.kind.is_list or a.kind.is_array:
            return a
        out = Var(a.hint, a.kind)
        self.block.append(ir.Eqn((out,), "copy", (a,), None, self.loc))
        return out

    def python_defaults(self, fn: types.FunctionType) -> dict[str, Any]:
        code = fn.__code__
        pos = code.co_varnames[:code.co_argcount]
        out: dict[str, Any] = {}
        pairs = list(zip(pos[len(pos) - len(fn.__defaults__ or ()):], fn.__defaults__ or ()))
        pairs += list((fn.__kwdefaults__ or {}).items())
        for name, value in pairs:
            out[name] = self.static_value(value)
            if isinstance(value, (list, dict, set)):
                self.origins[id(value)] = (
                    f"the default value of {name!r} in {describe(fn)} "
                    f"({code.co_filename}, line {code.co_firstlineno}), which persists "
                    "between calls")
        return out

    def inline_value(self, fv: FuncValue, args: list, kwargs: dict, node: ast.AST) -> Any:
        """Call a function defined in the source: its free names are read in the scope
        it was defined in, as they are *now* (late binding)."""
        key = fv.node
        if self.recursion_stops(key, args):
            raise self.recursion_error(key, fv.name, node)
        tree = fv.node
        if isinstance(tree, ast.Lambda):
            tree = ast.FunctionDef(name="<lambda>", args=tree.args, body=[
                ast.Return(tree.body, lineno=tree.lineno, col_offset=tree.col_offset,
                           end_lineno=getattr(tree, "end_lineno", tree.lineno))],
                decorator_list=[], lineno=tree.lineno, col_offset=tree.col_offset)
        callee = Scope(fv.scope.fs, parent=fv.scope, label=fv.name)
        saved_loc, saved_fs = self.loc, self.scope_fs
        try:
            return self.inline_body(callee, tree, args, kwargs, fv.defaults, node, key)
        finally:
            self.loc, self.scope_fs = saved_loc, saved_fs

    def inline_body(self, callee: Scope, tree: ast.FunctionDef, args: list, kwargs: dict,
                    defaults: dict, node: ast.AST, key: Any) -> Any:
        body = desugar(self.generator_body(callee, read_through_body(callee.fs, tree,
                                                                     self.quiet), key, node),
                       callee.fs.error)
        assigned = set(assigned_names(body, callee.fs.walrus))
        callee.local_names = assigned | {a.arg for a in _all_params(tree.args)}
        header = f"inlined {_call_text(node)}:"
        self.loc = Loc(header, "", callee.fs.filename, 0)
        mark = len(self.block)
        if self.may_rebind(tree, callee.fs.tree, self.scope_fs.tree):
            # g(x) where g, or a function g calls, rebinds x (nonlocal): the parameter
            # holds the value x had at the call, so arguments are copied first
            args = [self.value_at_call(a) for a in args]
            kwargs = {k: self.value_at_call(v) for k, v in kwargs.items()}
        self.bind_params(callee, tree.args, args, kwargs, defaults, assigned, node)
        self.inline_header = header if len(self.block) == mark else ""
        self.inlining.append(key)
        try:
            return self.function_body(callee, body, _result_hint(callee.label))
        finally:
            self.inlining.pop()

    def bind_params(self, callee: Scope, spec: ast.arguments, args: list, kwargs: dict,
                    defaults: dict, assigned: set, node: ast.AST) -> None:
        """Bind arguments to parameters as Python does (``*args``, ``**kwargs``,
        keyword-only parameters and defaults included)."""
        positional = [a.arg for a in spec.posonlyargs + spec.args]
        values: dict[str, Any] = {}
        for name, value in zip(positional, args):
            values[name] = value
        extra = args[len(positional):]
        if extra and spec.vararg is None:
            raise self.error_at(node, f"a call to {callee.label} with too many arguments",
                                f"{callee.label} takes {len(positional)}")
        kwnames = positional + [a.arg for a in spec.kwonlyargs]
        rest: dict[str, Any] = {}
        for k, v in kwargs.items():
            if k in kwnames and k not in values:
                values[k] = v
            elif spec.kwarg is not None and k not in kwnames:
                rest[k] = v
            else:
                raise self.error_at(node, f"the keyword argument {k!r} to {callee.label}",
                                    "check the helper's parameter names")
        for name in kwnames:
            if name not in values:
                if name not in defaults:
                    raise self.error_at(node, f"a call to {callee.label} without argument "
                                        f"{name!r}", f"pass every parameter of {callee.label}")
                values[name] = defaults[name]
        if spec.vararg is not None:        # (f(*xs): the tuple lower_star made of xs)
            values[spec.vararg.arg] = extra[0].seq if len(extra) == 1 and type(
                extra[0]) is Spread else StaticTuple(tuple(extra))
        if spec.kwarg is not None:
            values[spec.kwarg.arg] = StaticDict(rest)
        for name, value in values.items():
            if is_operand(value) and name in assigned:
                v = Var(name)
                self.copy_into(v, value)
                callee.env[name] = v
                callee.owned.add(v)
            else:
                callee.env[name] = value

    def call_choice(self, scope: Scope, choice: FuncChoice, args: list, kwargs: dict,
                    node: ast.AST) -> Var:
        """Call whichever function the run-time tag says is bound."""
        result = Var("_t")

        def branch(k: int) -> list:
            with self.sub_block() as blk:
                out = self.apply(scope, choice.options[k], args, kwargs, node, None)
                self.copy_into(result, self.materialize(out, node))
            return blk
        stmts = branch(len(choice.options) - 1)
        for k in range(len(choice.options) - 2, -1, -1):
            test = self.emit("eq", (choice.tag, Const(k)), Kind.num(), hint="_c")
            stmts = [ir.If(test, branch(k), stmts, self.loc)]
            if k:
                pass
        self.block.extend(stmts)
        return result


class _Emitter:
    """What a rule's ``expand`` sees: ``b.apply("log", x)`` emits an equation of the
    same flavor as the call being expanded (``b.apply("truediv", ...)`` an operator)."""

    def __init__(self, lw: Any, params: dict, node: ast.AST):
        self.lw, self.params, self.node = lw, params, node

    def apply(self, name: str, *args: Any) -> Any:
        params = dict(self.params) if name in rules.CALL_SPELLED else None
        return self.lw.emit(name, tuple(args), Kind.num(), params)


def _rows_in_sequence(obj: Any, node: ast.Call) -> bool:
    from .lower_array import rows_in_sequence
    return rows_in_sequence(obj, node)


#: helpers of generated array code -> the primitives they were printed for
_ARRAY_HELPERS = {"_unbroadcast": "np_sum_like", "_matmul_vjp_a": "np_matmul_vjp_a",
                  "_matmul_vjp_b": "np_matmul_vjp_b", "_inner_vjp_a": "np_inner_vjp_a",
                  "_inner_vjp_b": "np_inner_vjp_b"}


_NOT_NUMPY = object()     # (numpy_call: the callee is not one of numpy's)


def _writes_argument(obj: Any) -> bool:
    """Does numpy function ``obj`` write into an argument in place (``np.copyto``,
    ``np.put``, ``np.subtract.at`` ...)?"""
    np = sys.modules.get("numpy")
    if np is None:
        return False
    if type(getattr(obj, "__self__", None)).__name__ == "ufunc":
        return getattr(obj, "__name__", "") == "at"
    return any(obj is getattr(np, n, None) for n in ("copyto", "put", "putmask", "place",
                                                     "fill_diagonal", "put_along_axis"))


def _is_add_at(obj: Any) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and getattr(obj, "__self__", None) is np.add and \
        getattr(obj, "__name__", "") == "at"


def _all_params(spec: ast.arguments) -> list[ast.arg]:
    out = spec.posonlyargs + spec.args + spec.kwonlyargs
    if spec.vararg:
        out.append(spec.vararg)
    if spec.kwarg:
        out.append(spec.kwarg)
    return out


def _call_text(node: ast.AST) -> str:
    node = getattr(node, "written", node)       # (as the user wrote it: see lower_star)
    try:
        return " ".join(ast.unparse(node).split())
    except Exception:  # pragma: no cover
        return "call"


def _result_hint(label: str) -> str:
    if label == "<lambda>":
        return "_lambda"
    return label if label.isidentifier() else "_result"


# ---------------------------------------------------------------------------- structured builtins

def _lazy_structured() -> dict[Any, Any]:
    from . import lower_builtins as lb
    return lb.STRUCTURED


class _StructuredTable(dict):
    """Builtins lowered with structure (``sum``, ``max``, ``sorted`` ...), loaded on first use."""

    def _load(self) -> None:
        if not self:
            self.update(_lazy_structured())

    def __contains__(self, key: object) -> bool:
        self._load()
        try:
            return dict.__contains__(self, key)
        except TypeError:
            return False

    def __getitem__(self, key: Any) -> Any:
        self._load()
        return dict.__getitem__(self, key)


_STRUCTURED = _StructuredTable()


def _known(v: Any) -> Any:
    """The Python object of a value known while lowering (LookupError if it is not)."""
    if type(v) is Static:
        return v.obj
    if type(v) is Const:
        return v.value
    if type(v) is StaticTuple:
        return tuple(_known(x) for x in v.items)
    raise LookupError(v)

