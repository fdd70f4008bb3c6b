"""Lowering of numpy code (a mixin of :class:`symgrad.lower.Lowerer`).

Arrays are values of kind ``array``.  Elementwise arithmetic and the rule table's
functions (``np.tanh``) are the same primitives as for numbers, with the result an
array when an operand is one (a *join* of kinds, settled when lowering ends, since
a parameter may turn out to be an array only later in the function).  The array
operations of :mod:`symgrad.array_ops` are reached three ways: numpy functions
(``np.sum(x, axis=0)``), methods (``x.sum(axis=0)``) and the attribute ``x.T``.
Indexing is ``aget`` (a read, with the index written as a template of slices,
integers, index arrays, ``None`` and ``...``) and ``aset`` (a write in place).
Constructors (``np.zeros``, ``np.arange`` ...) are constants.
"""

from __future__ import annotations

import ast
import sys
from typing import Any

from . import array_ops, rules
from .array_ops import ARRAY_OPS, ArrayOp
from .ir import Const, Eqn, Global, Kind, Var
from .scope import Scope, Static, StaticTuple
from .static_args import NOT_FOLDED, binding, fold, mark as mark_fixed
from .lower_builtins import rows
from .dtypes import float_dtype, narrow_float
from .lower_rewrites import REWRITTEN, fixed_value

__all__ = ["ArrayLowering", "numpy_op_of", "ARRAY_METHODS"]

#: methods only arrays have: calling one marks an unknown value as an array
ARRAY_METHODS = {"sum", "mean", "prod", "max", "min", "var", "std", "dot", "reshape", "ravel",
                 "flatten", "transpose", "squeeze", "trace", "clip", "astype", "tolist", "item"}
#: attributes of arrays that carry no derivative
_SHAPE_ATTRS = {"shape", "size", "ndim", "dtype", "nbytes", "itemsize", "strides"}

_BY_OBJECT: dict[int, ArrayOp] = {}
_CONSTRUCTOR_IDS: set[int] = set()


def _numpy_tables() -> None:
    """Index numpy's functions by identity (numpy is imported only when used)."""
    if _BY_OBJECT:
        return
    import numpy as np
    for op in ARRAY_OPS.values():
        if op.np_name is None:
            continue
        obj: Any = np
        for part in op.np_name.split("."):
            obj = getattr(obj, part, None)
        if obj is not None:
            _BY_OBJECT[id(obj)] = op
    for alias, name in (("amax", "np_amax"), ("amin", "np_amin"), ("concat", "np_concatenate"),
                        ("permute_dims", "np_transpose"), ("row_stack", "np_vstack")):
        obj = getattr(np, alias, None)
        if obj is not None:
            _BY_OBJECT[id(obj)] = ARRAY_OPS[name]
    for name in array_ops.CONSTRUCTORS:
        obj = getattr(np, name, None)
        if obj is not None:
            _CONSTRUCTOR_IDS.add(id(obj))
    for name in ("zeros", "ones", "full", "eye", "arange", "linspace"):
        _CONSTRUCTOR_IDS.add(id(getattr(np, name)))


def numpy_op_of(obj: Any) -> ArrayOp | None:
    """The array operation a numpy function is, or None."""
    from .array_ops import USER_BY_OBJECT
    user = USER_BY_OBJECT.get(id(obj))
    if user is not None:
        return user
    module = getattr(obj, "__module__", None) or ""
    if not module.startswith("numpy") and type(obj).__name__ != "ufunc":
        return None
    _numpy_tables()
    return _BY_OBJECT.get(id(obj))


def _numpy_path(obj: Any) -> str | None:
    """``"zeros"`` for ``np.zeros``, ``"random.normal"`` for ``np.random.normal``."""
    import numpy as np
    name = getattr(obj, "__name__", None)
    if name is None:
        return None
    if getattr(np, name, None) is obj:
        return name
    if getattr(np.random, name, None) is obj:
        return f"random.{name}"
    return None


#: numpy constructors whose result's values do not depend on their arguments
_SHAPE_ONLY = {"zeros", "ones", "empty", "zeros_like", "ones_like", "empty_like", "eye",
               "identity", "tri"}
#: the others, refused when a differentiated value goes in: (what, hint)
_VALUE_CONSTRUCTORS = {
    "full": ("of a differentiated fill value", "multiply instead: a * np.ones(shape)"),
    "full_like": ("of a differentiated fill value", "multiply instead: a * np.ones_like(x)"),
    "arange": ("with a differentiated bound", "scale a fixed grid: a + (b - a) * "
               "np.linspace(0.0, 1.0, n)"),
    "linspace": ("with a differentiated bound", "scale a fixed grid: a + (b - a) * "
                 "np.linspace(0.0, 1.0, n)"),
    "random": ("with differentiated parameters", "draw fixed noise and scale it: mu + sigma "
               "* np.random.normal(size=n)"),
}


#: constructors given a differentiated value, differentiated through a model of them
#: (:mod:`symgrad.numpy_models`; with constants they stay one call)
_VALUE_MODELS = {"linspace": "linspace", "full": "full"}


def is_numpy_constructor(obj: Any) -> bool:
    module = getattr(obj, "__module__", "") or ""
    if not module.startswith("numpy"):
        return False
    _numpy_tables()
    return id(obj) in _CONSTRUCTOR_IDS or module.startswith("numpy.random")


def settle_joins(joins: list) -> None:
    """Each elementwise result ``(out, operand kinds)`` of ``joins`` is an array if an
    operand is one (to a fixed point: a result may be another's operand)."""
    changed = True
    while changed:
        changed = False
        for out, kinds in joins:
            if out.find().tag != "array":
                for k in kinds:
                    if k.find().tag == "array":
                        out.unify(Kind.array())
                        changed = True
                        break


def rows_in_sequence(obj: Any, node: ast.Call) -> bool:
    """``np.concatenate([x, [a]])``: a numpy function taking a sequence of arrays, called
    with a sequence written in the call that holds a list or tuple literal."""
    seq = node.args[0] if node.args else None
    if not isinstance(seq, (ast.List, ast.Tuple)) or not any(
            isinstance(e, (ast.List, ast.Tuple)) for e in seq.elts) or any(
            isinstance(e, ast.Starred) for e in seq.elts + node.args):
        return False
    op = numpy_op_of(obj)
    return op is not None and op.arrays == -1


#: the static parameters numpy also takes as a list written in the call
_LISTED = frozenset({"axes", "shape", "repeats", "source", "destination"})

class ArrayLowering:
    """numpy functions, array methods and attributes, indexing of arrays."""

    # ------------------------------------------------------------------ kinds
    def join(self, ops: list | tuple) -> Kind:
        """The kind of an elementwise result: an array if an operand is one, else a
        number (settled at the end of lowering: see :meth:`settle_joins`)."""
        kinds = []
        for a in ops:
            k = self.kind_of(a)
            if k.find().tag == "array":
                return Kind.array()
            if type(a) is Var:
                kinds.append(k)
        out = Kind.num()
        if kinds:
            self.joins.append((out, kinds))
        return out

    def settle_joins(self) -> None:
        settle_joins(self.joins)

    def join_call(self, out: Var, obj: Any, node: ast.AST) -> None:
        """``np.signbit(y)``, ``np.argsort(y)``: an array when an operand is one, so
        ``x * np.signbit(y)`` sums ``x``'s adjoint back to ``x``'s shape."""
        e = self.block[-1]
        if type(e) is not Eqn or e.outs != (out,):
            return
        kinds = [a.kind for a in e.args[1:] if type(a) is Var]
        if any(k.find().tag == "array" for k in kinds):
            self.unify(out.kind, Kind.array(), node)
        elif kinds:
            self.joins.append((out.kind, kinds))      # (see settle_joins)
        if rules.is_shaped_like_args(obj) == "elementwise" and not e.params.get("kw"):
            e.params["elementwise"] = True           # its pattern: the operands' broadcast

    def is_array(self, value: Any) -> bool:
        return type(value) is Var and value.kind.find().tag == "array" or \
            type(value) is Global and self.kind_of(value).find().tag == "array"

    # ------------------------------------------------------------------ calls
    def array_call(self, scope: Scope, op: ArrayOp, args: list, kwargs: dict,
                   node: ast.AST, dest: Var | None, method_base: Any = None,
                   plain: bool = False) -> Any:
        """``np.sum(x, axis=0)`` / ``x.sum(axis=0)``: the primitive with its static
        parameters (axes, shapes) as constants."""
        if op.name in REWRITTEN and not plain:     # (a form of their own: lower_rewrites)
            return REWRITTEN[op.name](self, scope, op, args, kwargs, node, dest, method_base)
        if method_base is not None:
            args = [method_base, *args]
        model = _keyword_model(op, kwargs)
        if model is not None:               # x.sum(where=mask): a model of its steps
            if op.name == "np_reshape" and len(args) > 2:     # x.reshape(2, 3, order="F")
                args = [args[0], StaticTuple(tuple(args[1:]))]
            return self.inline_function(scope, model, args, kwargs, node, Static(model))
        listed = None                        # np.concatenate(xs): a list made at run time
        if op.arrays == -1:                  # np.concatenate([a, b], axis=0)
            seq = args[0] if args else None
            if type(seq) is not StaticTuple:
                listed = self.run_time_list(seq, op)
                seq = StaticTuple(()) if listed is not None else self.static_sequence(seq, node)
            arrays = [self.materialize(a, node) for a in seq.items]
            rest = args[1:]
        else:
            arrays = [self.materialize(a, node) for a in args[:op.arrays]]
            rest = args[op.arrays:]
        if op.name in ("np_reshape", "np_transpose") and method_base is not None and (
                len(rest) > 1 or op.name == "np_transpose" and rest and type(rest[0]) is Const
                and isinstance(rest[0].value, int)):
            rest = [StaticTuple(tuple(rest))]            # x.reshape(2, 3), x.transpose(1, 0)
        like = self.shape_source(rest[0]) if op.name in ("np_broadcast_to", "np_reshape") \
            and len(rest) == 1 and not kwargs else None
        if like is not None:            # np.broadcast_to(g, x.shape): shaped like x
            prim = "np_broadcast_like" if op.name == "np_broadcast_to" else "np_reshape_like"
            return self.emit(prim, (arrays[0], like), Kind.array(), None, dest=dest, hint="_a")
        if op.name in ("np_broadcast_to", "np_reshape") and len(rest) == 1 and not kwargs \
                and not self.is_static(rest[0]):
            return self.shape_at_run_time(op, arrays[0], rest[0], method_base, node, dest)
        params = self.static_params(scope, op, rest, kwargs, node, method_base)
        for a in arrays:
            if type(a) is Var and a.kind.find().tag in (None, "num") and op.name not in (
                    "np_where", "np_clip", "np_dot", "np_stack"):     # (numbers may go in)
                self.unify(a.kind, Kind.array(), node)
        if listed is not None:
            if type(listed) is Var and listed.kind.find().tag != "array":
                self.unify(listed.kind, Kind.list_of(Kind.array()), node)
            return self.emit("join_list", (listed,), Kind.array(),
                             {"how": op.np_name, **params}, dest=dest, hint="_a")
        params["spelling"] = "method" if method_base is not None else "function"
        kind = Kind.num() if op.scalar(params) else Kind.array()
        if op.name in ("np_det", "np_logabsdet") and arrays and type(arrays[0]) is Var and \
                (self.array_ranks.get(arrays[0]) or 0) > 2:     # of a stack passed in
            kind = Kind.array()
        if op.name in ("np_where", "np_clip", "np_dot"):
            kind = self.join(arrays) if op.name != "np_dot" else Kind.array()
        return self.emit(op.name, tuple(arrays), kind, params, dest=dest, hint="_a")

    def static_params(self, scope: Scope, op: ArrayOp, rest: list, kwargs: dict,
                      node: ast.AST, method_base: Any) -> dict:
        """The static parameters of an array call (axes, shapes ...), by name, from the
        arguments after the arrays and the keywords."""
        fs = scope.fs
        params: dict[str, Any] = {}
        names = [k for k, _ in op.keywords]
        positional = list(op.positional) or names
        if len(rest) > len(positional):
            takes = ", ".join(positional) or "nothing"
            raise fs.error(node, f"{len(rest)} arguments after the array to "
                           f"{self.label_of(op, method_base)}",
                           f"it takes {takes} after the array (see numpy's documentation)")
        for name, value in zip(positional, rest):
            params[name] = self.static_param(value, name, op, node)
        for name, value in kwargs.items():
            if name not in names and name not in op.positional:
                raise fs.error(node, f"the keyword {name}= of {self.label_of(op, method_base)}",
                               f"use {', '.join(names) or 'no keywords'}")
            params[name] = self.static_param(value, name, op, node)
        if op.name == "np_norm" and params.get("ord") not in (None, 2, "fro"):
            raise fs.error(node, f"np.linalg.norm with ord={params['ord']!r}",
                           "use the 2-norm (the default), or write the norm out")
        if params.get("ord") is None:
            params.pop("ord", None)
        return params

    def is_static(self, value: Any) -> bool:
        """Is ``value`` known when the function is transformed (a literal)?"""
        if type(value) is Const:
            return True
        if type(value) is StaticTuple:
            return all(self.is_static(v) for v in value.items)
        items = self.literal_list(value)
        return items is not None and all(self.is_static(v) for v in items)

    def shape_at_run_time(self, op: ArrayOp, x: Any, shape: Any, method_base: Any,
                          node: ast.AST, dest: Var | None) -> Any:
        """``c.reshape(n, n)``, ``np.broadcast_to(v, (k, n))`` with sizes computed when the
        function runs: the sizes are operands (no derivative flows through them)."""
        whole = type(shape) is not StaticTuple
        dims = (self.materialize(shape, node),) if whole else \
            tuple(self.materialize(v, node) for v in shape.items)
        if type(x) is Var:
            self.unify(x.kind, Kind.array(), node)
        prim = "np_reshape_dims" if op.name == "np_reshape" else "np_broadcast_dims"
        params = {"whole": whole, "spelling": "method" if method_base is not None else "function"}
        return self.emit(prim, (x, *dims), Kind.array(), params, dest=dest, hint="_a")

    def shape_source(self, value: Any) -> Any:
        """``x`` when ``value`` is ``x.shape`` read just before (else None)."""
        if type(value) is not Var:
            return None
        for e in reversed(self.block[-8:]):
            if type(e) is Eqn and e.outs and e.outs[0] is value:
                if e.prim == "getattr_const" and e.args[1] == Const("shape"):
                    return e.args[0]
                return None
        return None

    def add_at(self, args: list, node: ast.AST) -> Any:
        """``np.add.at(z, idx, g)`` or ``np.add.at(z, (rows, cols), g)`` (as generated
        code writes it): ``z[idx] += g``, each repeated index counted."""
        if len(args) != 3:
            raise self.error_at(node, "this np.add.at call",
                                "write np.add.at(x, idx, v) or np.add.at(x, (i, j), v)")
        items = args[1].items if type(args[1]) is StaticTuple else (args[1],)
        template = []
        ops = []
        for item in items:
            v = self.materialize(item, node)
            ops.append(v)
            template.append(("a" if self.may_be_index_array(v) else "i", len(ops)))
        z, g = self.materialize(args[0], node), self.materialize(args[2], node)
        self.effect("aset_add", (z, *ops, g), {"index": tuple(template), "repeated": True})
        return Const(None)

    def label_of(self, op: ArrayOp, method_base: Any) -> str:
        return f".{op.method}()" if method_base is not None else f"np.{op.np_name}"

    def at_use(self, value: Any) -> Any:
        """A differentiated parameter's value where it is needed before the code runs
        (an axis: the gradient is made for the value it is called with), else
        ``value`` (see static_args)."""
        if type(value) is not Var or value not in self.fixed_at_use:
            return value
        fixed = self.fixed_at_use[value]
        # (a list could change before it is read here: read as it is then)
        return value if type(fixed) is list else binding(fixed)

    def static_param(self, value: Any, name: str, op: ArrayOp, node: ast.AST) -> Any:
        """An axis, a shape or ``keepdims``: known when the function is transformed."""
        value = self.at_use(value)
        if type(value) is StaticTuple:
            parts = [self.static_param(v, name, op, node) for v in value.items]
            return tuple(parts)
        if type(value) is Const:
            return value.value
        folded = fold(value, self.block, self.static_global)   # AXIS, AXIS - 1, (N, N)
        if folded is not NOT_FOLDED and fixed_value(folded):
            return folded
        items = self.literal_list(value) if name in _LISTED else None
        if items is not None:                # axes=([0], [1]): lists written in the call
            return tuple(self.static_param(v, name, op, node) for v in items)
        article = "an" if name[0] in "aeiou" else "a"
        lists = ", or lists of ints" if name in _LISTED else ""
        err = self.error_at(node, f"{article} {name}= that is computed when the function runs",
                            f"give {name} as a literal written in the call, as a module-level "
                            "or closure constant, or as a parameter (the gradient is then made "
                            f"for its value: an int or a tuple of ints{lists})")
        raise mark_fixed(err, value, self.top_params, name, self.block)

    def static_global(self, value: Global) -> Any:
        """A global or closure constant (``AXIS = 1``): its value now, and each call checks
        it is still the one there (made again if it was rebound); else NOT_FOLDED."""
        if value.how not in ("global", "cell") or not fixed_value(value.obj):
            return NOT_FOLDED
        where = (("cell", value.cell) if value.how == "cell"
                 else ("global", self.top.globals, value.name))
        self.add_guard(where, value.obj)
        return value.obj

    def empty_literal(self, value: Any) -> bool:
        """``[]`` or ``()`` written in the call (``np.array([])``: a constant)."""
        return self.literal_list(value) == () or type(value) is StaticTuple and not value.items

    def literal_list(self, value: Any) -> tuple | None:
        """The items of a list or tuple of constants written in the statement being lowered
        (``[0, 1]`` in ``axes=([0], [1])``), else None (a list made on an earlier line
        may have changed since)."""
        if type(value) is not Var:
            return None
        for e in reversed(self.block):
            if type(e) is not Eqn or e.loc is not self.loc:
                return None
            if e.outs and e.outs[0] is value:
                if e.prim in ("list", "tuple"):
                    return e.args
                return None
        return None

    def run_time_list(self, value: Any, op: ArrayOp) -> Any:
        """``xs`` in ``np.concatenate(xs)`` / ``np.stack(xs)`` ... when it is a list made
        before the call (a parameter, a comprehension, a list appended to) or an array
        (the sequence of its rows), else None: the arrays are joined as numpy joins
        them, and the adjoint is cut back into pieces (``join_list``)."""
        if op.np_name not in _JOINERS or type(value) not in (Var, Global) or \
                self.kind_of(value).find().tag not in ("list", "array", None) or \
                type(value) is Var and self._built_here(value):
            return None
        return value

    def sequence_call(self, scope: Scope, callee: Static, node: ast.Call,
                      dest: Var | None) -> Any:
        """``np.concatenate([x, [a, 1.0]])``: a list written inside the sequence is an
        array operand (``np.array([a, 1.0])``), not an element of a list of arrays."""
        seq = node.args[0]
        items = []
        for elt in seq.elts:              # type: ignore[attr-defined]
            v = self.expr(scope, elt)
            if isinstance(elt, (ast.List, ast.Tuple)):
                made = self.array_of(scope, "array", v, elt, None)
                v = made if made is not None else v
            items.append(v)
        rest = ast.Call(func=node.func, args=node.args[1:], keywords=node.keywords)
        ast.copy_location(rest, node)
        args, kwargs = self.call_args(scope, rest)
        return self.apply(scope, callee, [StaticTuple(tuple(items)), *args], kwargs, node,
                          dest)

    def static_sequence(self, value: Any, node: ast.AST) -> StaticTuple:
        """The arrays of a list or tuple written in the call (``[a, b]``; a list made
        by an earlier statement may have changed since, and is used elsewhere)."""
        for k in range(len(self.block) - 1, -1, -1):
            e = self.block[k]
            if type(e) is not Eqn or e.loc is not self.loc:
                break
            if e.outs and e.outs[0] is value and e.prim in ("list", "tuple"):
                del self.block[k]
                return StaticTuple(tuple(e.args))
        raise self.error_at(node, "a list of arrays built at run time passed to np.concatenate"
                            " / np.stack", "write the arrays in the call: np.concatenate([a, b])")

    def constructor_call(self, scope: Scope, callee: Static, args: list, kwargs: dict,
                         node: ast.AST, dest: Var | None, label: str) -> Any:
        """``np.zeros(n)``, ``np.arange(k)``, ``np.random.normal(...)``: constants, called
        as ``np.<name>`` (their result's pattern follows from a literal shape).  Those
        that take values (``np.full(n, a)``, ``np.linspace(a, b)``) are
        refused when a value is differentiated; ``np.array``/``np.asarray`` of an array
        or of a list written in the call are differentiated."""
        path = _numpy_path(callee.obj)
        narrow = self.narrow_error(kwargs.get("dtype"), f"np.{path}(..., dtype=)", node)
        whole = (float_dtype(kwargs.get("dtype")) if "dtype" in kwargs else True) \
            and narrow is None
        if path in ("array", "asarray") and len(args) == 1 and set(kwargs) <= {"dtype", "copy"} \
                and whole:
            made = self.array_of(scope, path, args[0], node, dest)
            if made is not None:
                return made
        error = narrow       # (float32: refused if a differentiated value goes in)
        if not whole:        # np.zeros(n, dtype=int), np.array(v, dtype=int): integers,
            pass             # no derivative flows through them (and none may flow in)
        elif path not in _SHAPE_ONLY and not (path in ("array", "asarray") and args and
                                              self.empty_literal(args[0])) and not (
                path == "full_like" and type(
                args[1] if len(args) > 1 else kwargs.get("fill_value")) is not Var):
            # (np.full_like(x, 2.0) reads only x's shape)
            model = _VALUE_MODELS.get(path or "")
            if model is not None and any(type(a) is not Const for a in (*args, *kwargs.values())):
                # (np.linspace(a, b, n) of a value that may be differentiated)
                from . import numpy_models
                fn = getattr(numpy_models, model)
                return self.inline_function(scope, fn, args, kwargs, node, Static(fn))
            what, hint = _VALUE_CONSTRUCTORS.get(
                (path or "").split(".")[0],
                ("of differentiated values", "write the elements in the call, np.array([a, "
                 "b]), or pass an array"))
            error = self.error_at(node, f"{'np.' + path if path else label} {what}", hint)
        out = self.opaque_call(self.ref_static(callee), args, kwargs, node, dest, label,
                               constant=error is None, error=error)
        if not whole and narrow is None and type(out) is Var:
            self.block[-1].params["int_dtype"] = True
        if isinstance(callee.obj, type) or _numpy_path(callee.obj) == "random.default_rng":
            if type(out) is Var and (not isinstance(callee.obj, type) or issubclass(
                    callee.obj, _generator_classes())):
                self.generators.add(out)    # (its draws: arrays, see draw_method)
            return out    # (np.random.default_rng(0), RandomState(0): an object, not an array)
        if type(out) is Var:
            self.unify(out.kind, Kind.array(), node)
            e = self.block[-1]
            if type(e) is Eqn and e.outs and e.outs[0] is out:
                path = _numpy_path(callee.obj)
                if path is not None:
                    e.params = {**(e.params or {}), "np_name": path}
        return out

    def array_of(self, scope: Scope, path: str, value: Any, node: ast.AST,
                 dest: Var | None) -> Any:
        """``np.array([a, b, c])`` (the elements written in the call): ``np.stack``;
        ``np.array(x)`` of an array: a copy; ``np.asarray(x)``: ``x`` itself.  None for
        anything else (a list made earlier, a number, ``[]``: an opaque call)."""
        if self.empty_literal(value):
            return None
        if type(value) is StaticTuple or self.literal_list(value) is not None or (
                type(value) is Var and self.kind_of(value).find().tag == "list"
                and self._built_here(value)):
            seq = value if type(value) is StaticTuple else self.static_sequence(value, node)
            # (rows written in the call, np.array([[a, b], [c, d]]): each an array first)
            rows = StaticTuple(tuple(
                self.array_of(scope, "array", r, node, None) if type(r) is StaticTuple or (
                    type(r) is Var and self.kind_of(r).find().tag == "list" and
                    self._built_here(r)) else r for r in reversed(seq.items))[::-1])
            return self.array_call(scope, array_ops.ARRAY_OPS["np_stack"], [rows], {}, node,
                                   dest)
        if type(value) is Var and self.kind_of(value).find().tag in ("array", None):
            # (np.copy(x) where x may be a number: a float has no .copy())
            spelling = "method" if self.kind_of(value).find().tag == "array" else "function"
            unknown = self.kind_of(value).find().tag is None and value in self.top_params \
                and self.param_patterns.get(value.name, False) is False
            self.unify(value.kind, Kind.array(), node)
            if path == "asarray" and unknown:     # (a number given: made the 0-d array)
                return self.emit("np_copy", (value,), Kind.array(), {"spelling": "function"},
                                 dest=dest, hint="_a")
            if path == "asarray":
                return value
            return self.emit("np_copy", (value,), Kind.array(), {"spelling": spelling},
                             dest=dest, hint="_a")
        return None

    def _built_here(self, value: Var) -> bool:
        """Was list ``value`` written in the statement being lowered (``[a, b * c]``)?"""
        for e in reversed(self.block):
            if type(e) is not Eqn or e.loc is not self.loc:
                return False
            if e.outs and e.outs[0] is value:
                return e.prim in ("list", "tuple")
        return False

    def index_trick(self, scope: Scope, which: str, node: ast.Subscript,
                    dest: Var | None) -> Any:
        """``np.r_[a, b, ...]``: ``np.concatenate`` of the items made 1-d; ``np.c_[a, b]``:
        ``np.column_stack`` (numbers, vectors and matrices written in the subscript)."""
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if not any(isinstance(m, (ast.Name, ast.Attribute, ast.Call, ast.Subscript))
                   for n in items for m in ast.walk(n)):
            return None                     # (constants only: np.r_[0:3], run as written)
        if any(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in items) or \
                which == "c" and any(isinstance(e, ast.Slice) for e in items):
            raise self.error_at(node, f"np.{which}_ with a string directive (or np.c_ with a "
                                "slice)", "write np.concatenate([...]) or np.column_stack")
        values = [self.expr(scope, _range_of(e, node.value)) if isinstance(e, ast.Slice)
                  else self.expr(scope, e) for e in items]
        if which == "c":
            return self.array_call(scope, ARRAY_OPS["np_column_stack"],
                                   [StaticTuple(tuple(values))], {}, node, dest)
        made = tuple(self.array_call(scope, ARRAY_OPS["np_atleast_1d"], [v], {}, node, None)
                     for v in values)
        return self.array_call(scope, ARRAY_OPS["np_concatenate"], [StaticTuple(made)], {},
                               node, dest)

    def narrow_error(self, dtype: Any, what: str, node: ast.AST) -> Exception | None:
        """For a cast to float32 (float16), the error a differentiated value going in
        raises: its values are not float64's, which the derivative would be computed
        in (a constant is cast as written)."""
        name = narrow_float(dtype)
        if not name:
            return None
        return self.error_at(node, f"{what} to {name} of a differentiated value",
                             "symgrad differentiates in float64: leave the cast out (cast "
                             f"the result, or pass {name} arrays in, which numpy keeps)")

    # ------------------------------------------------------------------ methods, attributes
    def array_method(self, scope: Scope, base: Any, name: str, args: list, kwargs: dict,
                     node: ast.AST, dest: Var | None) -> Any:
        if name == "astype":                       # x.astype(float): the same numbers
            self.unify(self.kind_of(base), Kind.array(), node)
            dtype = args[0] if args else kwargs.get("dtype")
            narrow = self.narrow_error(dtype, ".astype()", node)
            if narrow is not None:       # x.astype(np.float32) of a constant: as written
                ops = [self.materialize(a, node) for a in (*args, *kwargs.values())]
                return self.emit("callmethod", (base, *ops), Kind.array(),
                                 {"name": "astype", "kw": tuple(kwargs), "label": ".astype()",
                                  "constant": False, "error": narrow}, dest=dest)
            if not float_dtype(dtype) or len(args) > 1 or set(kwargs) - {"dtype"}:
                # x.astype(int): piecewise constant, kept as written (no derivative)
                ops = [self.materialize(a, node) for a in (*args, *kwargs.values())]
                out = self.emit("callmethod", (base, *ops), Kind.array(),
                                {"name": "astype", "kw": tuple(kwargs), "label": ".astype()",
                                 "constant": True, "int_dtype": True}, dest=dest)
                return out
            return self.emit("np_copy", (base,), Kind.array(), {"spelling": "method"},
                             dest=dest, hint="_a")
        if name == "item" and not args and not kwargs:    # the one element, as a number
            self.unify(self.kind_of(base), Kind.array(), node)
            return self.array_call(scope, array_ops.BY_METHOD["reshape"], [Const(())], {},
                                   node, dest, method_base=base)
        if name == "item" and args and not kwargs:   # x.item(k): of the flat array; (i, j)
            self.unify(self.kind_of(base), Kind.array(), node)
            ops = [self.materialize(a, node) for a in args]
            if len(ops) == 1:
                base = self.array_call(scope, array_ops.BY_METHOD["ravel"], [], {}, node,
                                       None, method_base=base)
            for j, k in enumerate(ops):
                base = self.getitem(base, k, dest if j == len(ops) - 1 else None, node)
            return base
        if name == "sort" and not args and set(kwargs) <= {"axis"} and isinstance(
                getattr(node, "func", None), ast.Attribute) and isinstance(
                node.func.value, ast.Name):                  # v.sort(): v[...] = np.sort(v)
            value = self.array_call(scope, ARRAY_OPS["np_sort"], [base], kwargs, node, None)
            target = ast.copy_location(ast.Subscript(value=ast.Name(node.func.value.id,
                ast.Load()), slice=ast.Constant(Ellipsis), ctx=ast.Store()), node)
            self.store_item(scope, target, value, node)
            return Const(None)
        if name == "tolist" and not args and not kwargs:     # of a vector: its numbers
            self.unify(self.kind_of(base), Kind.array(), node)
            return rows(self, base, node, dest, {"vector_only": ".tolist()"})
        op = array_ops.BY_METHOD.get(name)
        model = None if op is not None else _method_model(name)
        if model is not None:              # x.trace(), x.conj(): the numpy function's model
            self.unify(self.kind_of(base), Kind.array(), node)
            return self.inline_function(scope, model, [base, *args], kwargs, node, Static(model))
        if op is None:
            raise self.error_at(node, f"the array method .{name}()",
                                "use a numpy function symgrad knows (see the README)")
        self.unify(self.kind_of(base), Kind.array(), node)
        return self.array_call(scope, op, args, kwargs, node, dest, method_base=base)

    def array_attribute(self, base: Any, attr: str, node: ast.AST, dest: Var | None) -> Any:
        if attr == "T":
            self.unify(self.kind_of(base), Kind.array(), node)
            return self.emit("np_transpose", (base,), Kind.array(), {"spelling": "T"},
                             dest=dest, hint="_a")
        if attr == "real":                  # (of a real number or array: itself)
            return base
        if attr == "imag":                  # (zeros, as np.zeros_like(x) is lowered)
            if self.kind_of(base).find().tag == "num":
                return Const(0.0)
            import numpy
            out = self.opaque_call(self.ref_static(Static(numpy.zeros_like)), [base], {}, node,
                                   dest, "zeros_like", constant=True)
            self.block[-1].params = {**(self.block[-1].params or {}), "np_name": "zeros_like"}
            return out
        if attr == "ndim" and type(base) is Var and self.array_ranks.get(base) is not None:
            return Const(self.array_ranks[base])      # (the gradient is made per rank)
        kind = Kind.num() if attr in ("size", "ndim", "nbytes", "itemsize") else Kind.obj()
        return self.emit("getattr_const", (base, Const(attr)), kind, dest=dest, hint="_g")

    # ------------------------------------------------------------------ indexing
    def index_template(self, scope: Scope, node: ast.expr) -> tuple[tuple, list]:
        """An index expression as a template (``("s", 1, None, None)`` for ``1:``, with
        numbers pointing into the operand list) and its operands."""
        items: list = node.elts if isinstance(node, ast.Tuple) else [node]
        if not isinstance(node, (ast.Tuple, ast.Slice)):
            whole = self.expr(scope, node)
            # x[idx] with idx a tuple is x[idx[0], idx[1], ...] (a tuple inside an index
            # is one array): its items are the index
            items = list(whole.items) if type(whole) is StaticTuple else [whole]
        template: list = []
        ops: list = []

        def slot(value: Any) -> Any:
            if type(value) is Const and (value.value is None or isinstance(value.value, int)):
                return value
            ops.append(value)
            return len(ops)          # argument position after the array itself

        for it in items:
            if isinstance(it, ast.Slice):
                parts = [self.operand(scope, p) if p is not None else Const(None)
                         for p in (it.lower, it.upper, it.step)]
                template.append(("s", *[slot(p) for p in parts]))
            elif isinstance(it, ast.Constant) and it.value is None:
                template.append(("n",))
            elif isinstance(it, ast.Constant) and it.value is Ellipsis:
                template.append(("e",))
            else:
                v = self.operand(scope, it) if isinstance(it, ast.AST) else \
                    self.materialize(it, node)
                if type(v) is Const and (v.value is None or v.value is Ellipsis):
                    template.append(("n",) if v.value is None else ("e",))  # np.newaxis
                else:
                    template.append(("a" if self.may_be_index_array(v) else "i", slot(v)))
        return tuple(template), ops

    def may_be_index_array(self, v: Any) -> bool:
        """Is index ``v`` an array or a list, or a call's result that may be one (or a
        tuple of them, ``np.nonzero(m)``)?  Else it is one integer."""
        if type(v) is not Var:
            return False
        tag = v.kind.find().tag
        return tag in ("array", "list") or tag != "obj" and v in self.maybe_arrays

    def array_get(self, scope: Scope, base: Any, node: ast.Subscript, dest: Var | None) -> Any:
        template, ops = self.index_template(scope, node.slice)
        if any(type(o) is Const and isinstance(o.value, str) for o in ops):
            raise self.error_at(node, "a key read from a value taken as an array (a dict of "
                                "arrays whose arrays are copied or written in place)",
                                "pass the arrays as parameters of their own, or read them "
                                "without .copy() and in-place writes")
        if type(base) is Var:
            self.unify(base.kind, Kind.array(), node)
        scalar = all(t[0] == "i" for t in template) and self.index_rank_full(base, template)
        kind = Kind.num() if scalar else Kind.array()
        return self.emit("aget", (base, *ops), kind, {"index": template}, dest=dest, hint="_a")

    def index_rank_full(self, base: Any, template: tuple) -> bool:
        """Do integer indices alone pick one number?  Only when the rank is known
        (a parameter's rank when specialized); otherwise the result is an array."""
        rank = self.array_ranks.get(base) if type(base) is Var else None
        return rank is not None and rank == len(template)

    def array_set(self, scope: Scope, base: Any, target: ast.Subscript, value: Any,
                  node: ast.AST) -> None:
        template, ops = self.index_template(scope, target.slice)
        value = self.materialize(value, node)
        if any(it[0] == "a" for it in template) and not \
                scope.fs.filename.startswith("<symgrad"):
            # fancy: repeated indices refused (generated code only writes back elements
            # it saved from the same index, equal at each repeat)
            from .helpers import helper_object
            shape = self.emit("getattr_const", (base, Const("shape")), Kind.obj(), hint="_g")
            parts = [_index_part(it, ops) for it in template]
            self.block.append(Eqn((), "call", (Global("_distinct_indices",
                                                      helper_object("_distinct_indices")),
                                               shape, *parts),
                                  {"kw": (), "label": "_distinct_indices", "constant": True},
                                  self.loc))
        self.effect("aset", (base, *ops, value), {"index": template})


def _generator_classes() -> tuple:
    """numpy's generators of random numbers: ``Generator``, ``RandomState``."""
    import numpy as np
    return (np.random.Generator, np.random.RandomState)


#: methods of a numpy generator that draw nothing (the rest return draws: arrays)
_NOT_DRAWS = frozenset({"shuffle", "seed", "set_state", "get_state", "bit_generator", "spawn",
                        "jumped", "bytes", "__getstate__", "__setstate__"})


def is_generator(lw: Any, base: Any) -> bool:
    """Is ``base`` a numpy generator (``rng`` of ``rng = np.random.default_rng(0)``, or
    a module-level one)?"""
    if type(base) is Var:
        return base in lw.generators
    np = sys.modules.get("numpy")
    return np is not None and type(base) is Global and isinstance(base.obj,
                                                                  _generator_classes())


def draw_kind(lw: Any, out: Any, name: str, node: ast.AST) -> None:
    """``rng.standard_normal(3)``, ``rng.normal(0.0, 1.0, size=n)``: an array (as
    ``np.random.normal(...)`` is), whatever its size, not a number."""
    if name not in _NOT_DRAWS and type(out) is Var:
        lw.unify(out.kind, Kind.array(), node)


def _index_part(item: tuple, ops: list) -> Any:
    """One part of an index template as ``_distinct_indices`` reads it: the index array
    or integer, ``":"`` for a slice, ``"..."``, ``None`` for ``np.newaxis``."""
    if item[0] in ("a", "i"):
        return item[1] if type(item[1]) is Const else ops[item[1] - 1]
    return Const({"s": ":", "e": "...", "n": None}[item[0]])


# ---------------------------------------------------------------------- calls of their own form

def _range_of(piece: ast.Slice, trick: ast.expr) -> ast.expr:
    """A slice inside ``np.r_[...]`` as numpy reads it: ``a:b:c`` is ``np.arange(a, b, c)``,
    ``a:b:nj`` (an imaginary step) ``np.linspace(a, b, n)``."""
    module = trick.value if isinstance(trick, ast.Attribute) else trick
    lo = piece.lower or ast.Constant(0)
    step = piece.step
    if isinstance(step, ast.Constant) and isinstance(step.value, complex):
        call = ast.Call(func=ast.Attribute(value=module, attr="linspace", ctx=ast.Load()),
                        args=[lo, piece.upper, ast.Constant(int(abs(step.value)))],
                        keywords=[])
    else:
        call = ast.Call(func=ast.Attribute(value=module, attr="arange", ctx=ast.Load()),
                        args=[lo, piece.upper, step or ast.Constant(1)], keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, piece))


#: the numpy calls that join a sequence of arrays (one ``join_list`` when it is a list)
_JOINERS = ("concatenate", "stack", "vstack", "hstack", "column_stack", "dstack")

def _keyword_model(op: ArrayOp, kwargs: dict) -> Any:
    """The model of numpy's steps for a keyword symgrad's operation does not take:
    ``where=`` of a sum, mean or product, ``order="F"`` of a reshape."""
    if not kwargs:
        return None
    from . import numpy_models
    if "where" in kwargs and op.name in ("np_sum", "np_mean", "np_prod"):
        return getattr(numpy_models, op.name[3:] + "_where")
    order = kwargs.get("order")
    if type(order) is Const and order.value in ("C", "F") and op.name in (
            "np_reshape", "np_ravel", "np_flatten"):
        return numpy_models.reshape_order if op.name == "np_reshape" else \
            numpy_models.ravel_order
    return None


def _method_model(name: str) -> Any:
    """The model of the numpy function an array method ``x.name(...)`` calls with ``x``
    first (``x.trace()`` is ``np.trace(x)``), or None."""
    import numpy

    from .numpy_models import numpy_model_of
    fn = getattr(numpy, name, None)      # (an array has no .append: np.append is not one)
    return None if fn is None or not callable(getattr(numpy.ndarray, name, None)) else \
        numpy_model_of(fn)
