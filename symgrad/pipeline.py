"""The driver: ``emit(optimize(reverse(analyze(lower(f)))))``.

Each stage is a plain function of the previous stage's result; :func:`stages`
returns every intermediate form, which ``symgrad.show(f, stage=...)`` prints.
"""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass
from typing import Any

from .analyze import Facts, analyze
from .emit import Emitted, compile_emitted, emit
from .errors import NonScalarError, UnsupportedSyntaxError
from .ir import Const, Func, Var
from .lower import Lowered, _check_rank_zero, check_result, lower
from .optimize import optimize
from .reverse import reverse
from .scope import StaticTuple
from .source import describe

__all__ = ["Transformed", "transform", "stages"]


@dataclass
class Transformed:
    """Everything a :class:`~symgrad.api.GradFunction` keeps from the compiler."""

    source: str
    fn: Any                      # the compiled generated function
    name: str
    params: list[str]
    wrt: list[str]
    inactive: list[str]          # differentiated parameters with a structurally zero gradient
    lowered: Lowered
    facts: Facts
    ir: Func
    emitted: Emitted
    uses_numpy: bool = False     # arrays may reach it: calls with arrays get specialized


def uses_numpy(lowered: Lowered) -> bool:
    """Does the function compute with numpy (so array arguments are expected)?"""
    known = lowered.__dict__.get("_uses_numpy")
    if known is None:
        known = lowered.__dict__["_uses_numpy"] = _uses_numpy(lowered)
    return known


def _uses_numpy(lowered: Lowered) -> bool:
    from .ir import Eqn, walk
    for s in walk(lowered.func.body):
        if type(s) is Eqn and (s.prim.startswith("np_") or s.prim in ("aget", "aset") or (
                s.params or {}).get("flavor") == "numpy" or any(
                o.kind.find().tag == "array" for o in s.outs)):
            return True
    return any(p.kind.find().tag == "array" for p in lowered.params)


def _check_result(lowered: Lowered, fn: Any) -> None:
    r = lowered.result
    fs = lowered.fs
    where = f'File "{fs.filename}", line {fs.line(fs.tree)}'
    if type(r) is tuple or (type(r) is Var and r.kind.is_list) or (
            type(r) is Var and r.kind.resolved == "obj") or (
            type(r) is Const and not isinstance(r.value, (int, float))):
        what = "a tuple" if type(r) is tuple else "a list" if type(r) is Var and \
            r.kind.is_list else "a value that is not a number"
        raise NonScalarError(
            f"{where}: {describe(fn)} returns {what}; symgrad's grad differentiates functions "
            "that return one number.\n  hint: return a single number (for example the sum of "
            "the parts), or use symgrad.jacobian for several outputs.")
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


def transform(fn: Any, wrt: list[int], with_value: bool, single: bool,
              structured: bool = False, patterns: dict | None = None,
              share_lists: bool = False) -> Transformed:
    """Differentiate ``fn`` with respect to the parameters at indices ``wrt``.
    ``structured``: ``fn`` may return tuples and lists of numbers; the generated
    function then takes one cotangent per returned number or list (``vjp``)."""
    old = sys.getrecursionlimit()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        sys.setrecursionlimit(max(old, 20000))
        try:
            return _transform(fn, wrt, with_value, single, structured, patterns,
                              share_lists)
        except RecursionError:
            raise UnsupportedSyntaxError(
                "an expression or nesting this deep", "split it into several statements",
                getattr(getattr(fn, "__code__", None), "co_filename", "<unknown>"),
                getattr(getattr(fn, "__code__", None), "co_firstlineno", 0)) from None
    finally:
        sys.setrecursionlimit(old)
        if gc_was:
            gc.enable()


def _transform(fn: Any, wrt: list[int], with_value: bool, single: bool,
               structured: bool = False, patterns: dict | None = None,
               share_lists: bool = False) -> Transformed:
    lowered = lower(fn, structured, patterns)
    params = lowered.params
    wrt_vars = [params[i] for i in wrt]
    facts = analyze(lowered, wrt_vars)
    if not structured:
        _check_result(lowered, fn)
    check_result(lowered, fn, structured)
    grad_ir = reverse(lowered, facts, wrt_vars, with_value, single, share_lists)
    grad_ir = optimize(grad_ir)
    name = "d_" + (fn.__name__ if fn.__name__.isidentifier() else "lambda")
    wrt_names = [p.name for p in wrt_vars]
    kind = "Value and gradient" if with_value else "Gradient"
    if structured and grad_ir.defaults == {} and len(grad_ir.params) > len(params):
        kind = "Vector-Jacobian product"
    doc = f"{kind} of {fn.__name__} with respect to {', '.join(wrt_names)} (generated by symgrad)."
    em = emit(grad_ir, lowered.fs.globals, name, doc)
    compiled = compile_emitted(em, getattr(fn, "__qualname__", name))
    inactive = [p.name for p in wrt_vars if not facts.is_active(p)]
    _ = StaticTuple
    return Transformed(em.source, compiled, name, [p.name for p in params], wrt_names,
                       inactive, lowered, facts, grad_ir, em, uses_numpy(lowered))


def stages(fn: Any, wrt: list[int] | None = None) -> dict[str, Any]:
    """Every intermediate form of ``fn``'s gradient, by stage name."""
    from .ir import show_block
    lowered = lower(fn)
    params = lowered.params
    wrt_vars = [params[i] for i in (wrt if wrt is not None else range(len(params)))]
    ir_text = show_block(lowered.func.body)
    facts = analyze(lowered, wrt_vars)
    grad_ir = reverse(lowered, facts, wrt_vars, False, len(params) == 1)
    return {"ir": ir_text, "reverse": show_block(grad_ir.body),
            "optimized": show_block(optimize(grad_ir).body)}


@dataclass
class TransformedForward:
    """A generated tangent sweep (forward mode)."""

    source: str
    fn: Any
    name: str
    params: list[str]
    wrt: list[str]
    lowered: Lowered
    facts: Facts
    ir: Func
    emitted: Emitted


def transform_forward(fn: Any, wrt: list[int], patterns: dict | None = None
                      ) -> TransformedForward:
    """The tangent sweep of ``fn`` with respect to the parameters at ``wrt``: a
    function of ``(*params, *tangents)`` returning ``(value, tangent)``."""
    from .forward import forward
    old = sys.getrecursionlimit()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        sys.setrecursionlimit(max(old, 20000))
        lowered = lower(fn, structured=True, patterns=patterns)
        params = lowered.params
        wrt_vars = [params[i] for i in wrt]
        facts = analyze(lowered, wrt_vars)
        check_result(lowered, fn, structured=True)
        name = "jvp_" + (fn.__name__ if fn.__name__.isidentifier() else "lambda")
        ir = optimize(forward(lowered.func, facts, wrt_vars, name, lowered.patterns))
        doc = (f"Value and directional derivative of {fn.__name__} along "
               f"{', '.join('t_' + p.name for p in wrt_vars)} (generated by symgrad).")
        em = emit(ir, lowered.fs.globals, name, doc)
        compiled = compile_emitted(em, getattr(fn, "__qualname__", name))
        return TransformedForward(em.source, compiled, name, [p.name for p in params],
                                  [p.name for p in wrt_vars], lowered, facts, ir, em)
    finally:
        sys.setrecursionlimit(old)
        if gc_was:
            gc.enable()
