"""What a differentiated function returns.

``grad`` differentiates functions that return one number.  A result that is
certainly something else (a tuple, a list, an array of known rank) is refused
before anything is differentiated; one that only the call can tell (a parameter
returned as it is, the result of an opaque call, a value read out of a dict that
may hold arrays) gets a check in the generated code, before its return, that
raises :class:`~symgrad.errors.NonScalarError` naming the ``return`` line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import ir
from .errors import NonScalarError
from .ir import Const, Eqn, Kind, Var
from .scope import StaticTuple, is_operand
from .source import describe

if TYPE_CHECKING:
    from .lower import Lowered

__all__ = ["check_result", "check_static_result"]


def check_static_result(lowered: "Lowered", fn: Any) -> None:
    """Refuse, before differentiating, a result certainly not one number (a tuple, a
    list, an array of known rank); a value read out of a container that may be an
    array gets a run-time rank check."""
    from .pipeline import uses_numpy
    r = lowered.result
    fs = lowered.fs
    where = f'File "{fs.filename}", line {fs.line(lowered.return_node or fs.tree)}'
    if type(r) is tuple or (type(r) is Var and r.kind.is_list) or (
            type(r) is Var and r.kind.resolved == "obj") or (
            type(r) is Const and not isinstance(r.value, (int, float))):
        what = "a tuple" if type(r) is tuple else "a list" if type(r) is Var and \
            r.kind.is_list else "a value that is not a number"
        err = NonScalarError(
            f"{where}: {describe(fn)} returns {what}; symgrad's grad differentiates functions "
            "that return one number.\n  hint: return a single number (for example the sum of "
            "the parts), or use symgrad.jacobian for several outputs.")
        # (a list only as the code reads as lists, where an array may be meant: ``y[1:] =
        # a`` of an array ``y = x.copy()`` -- the array path is tried too; see api)
        err.about_lists = what == "a list"      # type: ignore[attr-defined]
        raise err
    if type(r) is Var and r.kind.find().tag in (None, "num") and uses_numpy(lowered):
        from .shapes import patterns
        if patterns(lowered.func.body, lowered.func.params, lowered.patterns).get(
                r, ()) is None:        # read out of a container: maybe an array
            _check_rank_zero(lowered, fn, r)
    if type(r) is Var and r.kind.is_array:
        from .shapes import patterns
        pat = patterns(lowered.func.body, lowered.func.params, lowered.patterns).get(r)
        if pat:                       # an array of known rank >= 1
            raise NonScalarError(
                f"{where}: {describe(fn)} returns an array with {len(pat)} dimension"
                f"{'s' if len(pat) > 1 else ''} for these arguments; symgrad's grad "
                "differentiates functions that return one number.\n  hint: reduce it to a "
                "number (np.sum(...), np.mean(...)), or use symgrad.jacobian or symgrad.vjp "
                "for an array result.")


def check_result(lowered: "Lowered", fn: Any, structured: bool = False) -> None:
    """A result whose kind only the call will tell (a parameter returned as it is, the
    result of an opaque call): a run-time check that it is a number, before the return."""
    import numbers
    ret = lowered.func.body[-1]
    for value in ir.leaves(ret.value):
        if type(value) is not Var or value.kind.find().tag not in (None, "array"):
            continue
        if value.kind.find().tag == "array":
            if not structured:
                _check_rank_zero(lowered, fn, value)
            continue
        fs = lowered.fs
        node = lowered.return_node or fs.tree
        ok = Var("_c", Kind.num())
        err = Var("_t", Kind.obj())
        what = "numbers, or tuples and lists of numbers" if structured else "one number"
        msg = (f'File "{fs.filename}", line {fs.line(node)}: {describe(fn)} returned a '
               f"value that is not a number; symgrad differentiates functions that return "
               f"{what}.\n  hint: return a number.")
        allowed = ir.Global("Real", numbers.Real) if not structured else \
            ir.Global("_number_or_list", (numbers.Real, list, tuple))
        test = Eqn((ok,), "call", (ir.Global("isinstance", isinstance, "builtin"), value,
                                   allowed), {"kw": (), "label": "isinstance",
                                              "constant": True}, None)
        fail = [Eqn((err,), "call", (ir.Global("NonScalarError", NonScalarError), Const(msg)),
                    {"kw": (), "label": "NonScalarError", "constant": True}, None),
                Eqn((), "raise", (err,), None, None)]
        lowered.func.body[-1:-1] = [test, ir.If(ok, [], fail, None)]


def _check_rank_zero(lowered: "Lowered", fn: Any, value: Var) -> None:
    """An array result of a rank known only at the call: ``np.ndim(out) == 0`` checked
    before the return (a 0-d array, a numpy scalar and a lazy Dask scalar pass)."""
    fs = lowered.fs
    node = lowered.return_node or fs.tree
    msg = (f'File "{fs.filename}", line {fs.line(node)}: {describe(fn)} returned an array '
           "with dimensions; symgrad's grad differentiates functions that return one "
           "number.\n  hint: reduce it to a number (np.sum(...)), or use symgrad.jacobian "
           "or symgrad.vjp for an array result.")
    lowered.func.body[-1:-1] = ndim_test(value, 0, ir.Global("NonScalarError", NonScalarError),
                                         msg, None)


def ndim_test(value: Any, want: int, error: Any, msg: str, loc: Any) -> list:
    """``if not np.ndim(value) == want: raise error(msg)``, as IR: the rank tested when
    the code runs, where it is known only then (a result, ``x.tolist()``)."""
    import numpy
    ndim, ok, err = Var("_n", Kind.num()), Var("_c", Kind.num()), Var("_t", Kind.obj())
    flags = {"kw": (), "constant": True}
    return [Eqn((ndim,), "call", (ir.Global("_np_ndim", numpy.ndim), value),
                {**flags, "label": "np.ndim"}, loc),
            Eqn((ok,), "eq", (ndim, Const(want)), None, loc),
            ir.If(ok, [], [Eqn((err,), "call", (error, Const(msg)),
                                {**flags, "label": error.name}, loc),
                           Eqn((), "raise", (err,), None, loc)], loc)]


def _not_number(value: Any, lw: Any) -> bool:
    """Is a returned value certainly not a number (None, a string, a tuple, a list)?"""
    if type(value) is StaticTuple:
        return True
    if type(value) is Const:
        return not isinstance(value.value, (int, float)) or isinstance(value.value, bool) \
            and False
    if type(value) is Var:
        return value.kind.find().tag in ("list", "map", "obj") or (
            value.kind.find().tag == "array" and _rank_known_nonzero(value, lw))
    return not is_operand(value)


def _rank_known_nonzero(value: Var, lw: Any) -> bool:
    """An array result known to have at least one dimension (an array parameter, or
    an elementwise function of one)?"""
    rank = lw.array_ranks.get(value) if hasattr(lw, "array_ranks") else None
    return bool(rank)


def _describe_value(value: Any) -> str:
    if type(value) is StaticTuple:
        return "a tuple"
    if type(value) is Const:
        return "None" if value.value is None else f"{type(value.value).__name__} " \
            f"{value.value!r}"
    if type(value) is Var and value.kind.find().tag == "list":
        return "a list"
    if type(value) is Var and value.kind.find().tag == "map":
        return "a dict"
    return "a value that is not a number"
