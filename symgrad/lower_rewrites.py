"""numpy calls lowered in a form of their own (a mixin's helpers of
:class:`symgrad.lower_array.ArrayLowering`): ``np.einsum`` (its subscripts a parameter,
numpy's sublist form read as letters), ``np.average``, ``np.sum`` with ``where=``, the
offsets and shifts of ``roll``, ``tril``, ``triu`` and ``diagonal`` computed when the
function runs (by models of numpy's steps), ``clip`` and ``norm``."""

from __future__ import annotations

import ast
from typing import Any

from .array_ops import ArrayOp
from .ir import Const, Global, Kind, Var
from .scope import Scope, Static, StaticTuple
from .static_args import NOT_FOLDED, fold, mark as mark_fixed

__all__ = ["REWRITTEN", "fixed_value"]


def _lower_einsum(self: Any, scope: Scope, op: ArrayOp, args: list, kwargs: dict,
                  node: ast.AST, dest: Var | None, method_base: Any) -> Any:
    """``np.einsum("ij,jk->ik", a, b)``: the subscripts (a literal) are a parameter, the
    operands arrays (``optimize=`` changes only the speed, and is dropped)."""
    if args and type(self.at_use(args[0])) is not Const:
        args = _sublists_as_letters(self, args)         # np.einsum(a, [0, 1], b, [1, 2])
    spec = self.at_use(args[0]) if args else None
    if type(spec) is not Const or not isinstance(spec.value, str) or \
            set(kwargs) - {"optimize"} or not 1 <= len(args) - 1 <= 3:
        err = self.error_at(node, "this np.einsum call", "write the subscripts as a string in "
                            "the call (or pass them in as a parameter), then one to three "
                            "arrays: np.einsum('ij,jk->ik', a, b)")
        raise mark_fixed(err, spec, self.top_params, "subscripts", self.block)
    arrays = [self.materialize(a, node) for a in args[1:]]
    for a in arrays:
        if type(a) is Var and a.kind.find().tag in (None, "num"):
            self.unify(a.kind, Kind.array(), node)
    params = {"subscripts": spec.value, "spelling": "function"}
    kind = Kind.num() if op.scalar(params) else Kind.array()
    return self.emit(op.name, tuple(arrays), kind, params, dest=dest, hint="_a")


def _sublists_as_letters(self: Any, args: list) -> list:
    """``np.einsum(a, [0, 1], b, [1, 2], [0, 2])`` (numpy's sublist form, the lists or
    tuples written in the call) as ``np.einsum("ab,bc->ac", a, b)``; anything else unchanged."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    pairs = len(args) // 2
    terms = []
    for k in [2 * i + 1 for i in range(pairs)] + ([len(args) - 1] if len(args) % 2 else []):
        items = self.literal_list(args[k]) if type(args[k]) is not StaticTuple else \
            args[k].items                               # (a tuple: (0, 1))
        if items is None or not all(type(c) is Const and (c.value is Ellipsis or type(
                c.value) is int and 0 <= c.value < len(letters)) for c in items):
            return args
        terms.append("".join("..." if c.value is Ellipsis else letters[c.value]
                             for c in items))
    if not pairs:
        return args
    spec = ",".join(terms[:pairs]) + ("->" + terms[pairs] if len(terms) > pairs else "")
    return [Const(spec), *args[0:2 * pairs:2]]


def _lower_einsum_vjp(self: Any, scope: Scope, op: ArrayOp, args: list, kwargs: dict,
                      node: ast.AST, dest: Var | None, method_base: Any) -> Any:
    """``_einsum_vjp(g, a, b, subscripts=..., index=...)`` in generated code differentiated
    again (hvp): every positional argument an array, the keywords constants."""
    arrays = [self.materialize(a, node) for a in args]
    params = {k: v.value for k, v in kwargs.items() if type(v) is Const}
    return self.emit(op.name, tuple(arrays), Kind.array(), params, dest=dest, hint="_a")


def _by_model(param: str, model: str) -> Any:
    """The lowering of ``np.roll(x, k)``, ``np.tril(x, k)``, ``np.diagonal(x, k)`` ...: with
    ``k`` computed when the code runs (a loop variable), a model of the call
    (``numpy_models.<model>``: masks and index arrays made from ``k``); with ``k`` known
    when the code is made, the one operation."""
    def lower(self: Any, scope: Scope, op: ArrayOp, args: list, kwargs: dict,
              node: ast.AST, dest: Var | None, method_base: Any) -> Any:
        full = args if method_base is None else [method_base, *args]
        value = full[1] if len(full) > 1 else kwargs.get(param)
        if value is None or type(value) is not Var or value in self.top_params or \
                self.is_static(self.at_use(value)) or \
                fold(value, self.block, self.static_global) is not NOT_FOLDED:
            return self.array_call(scope, op, args, kwargs, node, dest, method_base, plain=True)
        from . import numpy_models
        fn = getattr(numpy_models, model)
        rest = {k: v for k, v in kwargs.items() if k != param}
        return self.inline_function(scope, fn, [full[0], value, *full[2:]], rest, node,
                                    Static(fn))
    return lower


def _lower_average(self: Any, scope: Scope, op: ArrayOp, args: list, kwargs: dict,
                   node: ast.AST, dest: Var | None, method_base: Any) -> Any:
    """``np.average(x, axis, weights)``: the weights (or None) are a second operand."""
    kwargs = dict(kwargs)
    weights = kwargs.pop("weights", args[2] if len(args) > 2 else Const(None))
    return self.array_call(scope, op, [*args[:1], weights, *args[1:2]], kwargs, node, dest,
                           method_base, plain=True)


def _lower_sum(self: Any, scope: Scope, op: ArrayOp, args: list, kwargs: dict,
               node: ast.AST, dest: Var | None, method_base: Any) -> Any:
    """``np.sum(x, initial=c)`` is ``np.sum(x) + c``."""
    if "initial" not in kwargs:
        return self.array_call(scope, op, args, kwargs, node, dest, method_base, plain=True)
    kwargs = dict(kwargs)
    initial = self.materialize(kwargs.pop("initial"), node)
    total = self.array_call(scope, op, args, kwargs, node, None, method_base, plain=True)
    return self.emit("add", (total, initial), self.join((total, initial)), dest=dest)


def _lower_clip(self: Any, scope: Scope, op: ArrayOp, args: list, kwargs: dict,
                node: ast.AST, dest: Var | None, method_base: Any) -> Any:
    """``np.clip(x, a_min=lo, a_max=hi)`` (or numpy 2's ``min=``/``max=``): the bounds
    by keyword put in their places."""
    kwargs, args = dict(kwargs), list(args)
    first = 0 if method_base is not None else 1          # (where the bounds start)
    for k, names in ((first, ("a_min", "min")), (first + 1, ("a_max", "max"))):
        given = [n for n in names if n in kwargs]
        if len(args) == k:
            # (a bound left out, x.clip(lo) or x.clip(max=hi), is None: no bound)
            args.append(kwargs.pop(given[0]) if given else Const(None))
    return self.array_call(scope, op, args, kwargs, node, dest, method_base, plain=True)


def _lower_norm(self: Any, scope: Scope, op: ArrayOp, args: list, kwargs: dict,
                node: ast.AST, dest: Var | None, method_base: Any) -> Any:
    """``np.linalg.norm(x, 1)``, ``ord=np.inf`` ...: the norm written out (a model of it,
    :func:`symgrad.numpy_models.norm_ord`); the 2-norm and Frobenius norm are one
    operation."""
    order = args[1] if len(args) > 1 else kwargs.get("ord", Const(None))
    if type(order) is Global and order.how in ("global", "cell") and fixed_value(order.obj):
        order = Const(self.static_param(order, "ord", op, node))      # (a guarded constant)
    x = args[0] if args else None
    axis = args[2] if len(args) > 2 else kwargs.get("axis", Const(None))
    if type(order) is Const and (order.value not in (None, 2, "fro") or order.value == 2 and (
            not (type(axis) is Const and type(axis.value) in (int, type(None))) or
            axis == Const(None) and (self.array_ranks.get(x) or 0) >= 2)):
        # (ord=2 of matrices: their spectral norms, by the model; of a matrix computed
        # here, whose rank is known only later, refused by the norm's derivative)
        from .numpy_models import norm_ord
        rest = dict(zip(("axis", "keepdims"), args[2:]), **{
            k: v for k, v in kwargs.items() if k != "ord"})
        return self.inline_function(scope, norm_ord, [args[0], order], rest, node,
                                    Static(norm_ord))
    return self.array_call(scope, op, args, kwargs, node, dest, method_base, plain=True)


#: numpy functions lowered in a form of their own (see ArrayLowering.array_call)
REWRITTEN = {"np_einsum": _lower_einsum, "np_einsum_vjp": _lower_einsum_vjp,
              "np_average": _lower_average, "np_sum": _lower_sum,
              "np_roll": _by_model("shift", "roll_by"),
              "np_tril": _by_model("k", "tril_by"), "np_triu": _by_model("k", "triu_by"),
              "np_diagonal": _by_model("offset", "diagonal_by"),
              "np_clip": _lower_clip, "np_norm": _lower_norm}


def fixed_value(value: Any) -> bool:
    """An immutable value an axis, a shape, an offset or a norm's order can be: an int,
    a float, a bool (keepdims), None, a string, a tuple of them (a list could change in
    place without being rebound)."""
    if type(value) is tuple:
        return all(fixed_value(v) for v in value)
    return value is None or type(value) in (int, float, str, bool)
