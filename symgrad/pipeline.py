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
from .helpers import trailer
from .errors import SymgradError, UnsupportedSyntaxError
from .ir import FIXED_AT_USE, FIXED_PARAMS, Func, KindError, kind_conflict
from .lower import Lowered, lower
from .optimize import optimize
from .results import check_result, check_static_result
from .shapes import refuse_math_on_arrays
from .reverse import reverse

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
    facts: Facts | None          # (released once compiled)
    ir: Func                     # its parameters (the body is released once compiled)
    emitted: Emitted
    label: str = ""
    uses_numpy: bool = False     # arrays may reach it: calls with arrays get specialized

    def compiled(self) -> Any:
        """The generated function (compiled now if the transform left it for later)."""
        if self.fn is None:
            self.fn = compile_emitted(self.emitted, self.label)
        return self.fn


def uses_numpy(lowered: Lowered) -> bool:
    """Does the function compute with numpy (so array arguments are expected)?"""
    known = lowered.__dict__.get("_uses_numpy")
    if known is None:
        known = lowered.__dict__["_uses_numpy"] = _uses_numpy(lowered)
    return known


def _uses_numpy(lowered: Lowered) -> bool:
    from .ir import computes_with_arrays
    return computes_with_arrays(lowered.func.body, lowered.params)


def transform(fn: Any, wrt: list[int], with_value: bool, single: bool,
              structured: bool = False, patterns: dict | None = None,
              share_lists: bool = False, lazy: bool = False) -> Transformed:
    """Differentiate ``fn`` with respect to the parameters at indices ``wrt``.
    ``structured``: ``fn`` may return tuples and lists of numbers; the generated
    function then takes one cotangent per returned number or list (``vjp``).
    ``lazy``: leave the source uncompiled (``Transformed.compiled()`` compiles it)."""
    old = sys.getrecursionlimit()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        sys.setrecursionlimit(max(old, 20000))
        try:
            return _transform(fn, wrt, with_value, single, structured, patterns,
                              share_lists, lazy)
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
               share_lists: bool = False, lazy: bool = False) -> Transformed:
    lowered = lower(fn, structured, patterns)
    if patterns and uses_numpy(lowered):
        refuse_math_on_arrays(lowered.func.body, lowered.func.params, lowered.patterns)
    params = lowered.params
    wrt_vars = [params[i] for i in wrt]
    try:
        facts = analyze(lowered, wrt_vars)
        if not structured:
            check_static_result(lowered, fn)
        check_result(lowered, fn, structured)
        try:
            grad_ir = reverse(lowered, facts, wrt_vars, with_value, single, share_lists)
        except KindError as exc:       # (a conflict the lowering's own checks did not meet)
            raise kind_conflict(lowered.fs, lowered.fs.tree, exc) from None
    except SymgradError as exc:        # (a tuple of values of different kinds? see api)
        if getattr(exc, "about_lists", False) and getattr(exc, "seq_param", None) is None:
            exc.seq_param = lowered.seq_param     # type: ignore[attr-defined]
        raise
    grad_ir = optimize(grad_ir)
    fname = _name_of(fn)
    name = "d_" + (fname if fname.isidentifier() else "lambda")
    wrt_names = [p.name for p in wrt_vars]
    kind = "Value and gradient" if with_value else "Gradient"
    if structured and grad_ir.defaults == {} and len(grad_ir.params) > len(params):
        kind = "Vector-Jacobian product"
    doc = f"{kind} of {fname} with respect to {', '.join(wrt_names)} (generated by symgrad)."
    doc += made_for(lowered)
    em = emit(grad_ir, lowered.fs.globals, name, doc)
    label = getattr(fn, "__qualname__", name)
    compiled = None if lazy else compile_emitted(em, label)
    inactive = [p.name for p in wrt_vars if not facts.is_active(p)]
    numpy_used = uses_numpy(lowered)
    lowered.release()
    grad_ir.body = []
    return Transformed(em.source + trailer(em.freevars), compiled, name,
                       [p.name for p in params], wrt_names, inactive, lowered, None, grad_ir,
                       em, label, numpy_used)


def made_for(lowered: Lowered) -> str:
    """The docstring's note of the values a gradient was made for (see static_args)."""
    given = lowered.patterns or {}
    fixed = {**given.get(FIXED_PARAMS, {}), **given.get(FIXED_AT_USE, {})}
    if not fixed:
        return ""
    return " Made for " + ", ".join(f"{k}={v!r}" for k, v in fixed.items()) + "."


def _name_of(fn: Any) -> str:
    """The name of a function, of the function a ``functools.partial`` or bound method
    calls, or of a callable object's class."""
    name = getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", None)
    return name or type(fn).__name__


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
        if patterns and uses_numpy(lowered):
            refuse_math_on_arrays(lowered.func.body, lowered.func.params, lowered.patterns)
        params = lowered.params
        wrt_vars = [params[i] for i in wrt]
        facts = analyze(lowered, wrt_vars)
        check_result(lowered, fn, structured=True)
        fname = _name_of(fn)
        name = "jvp_" + (fname if fname.isidentifier() else "lambda")
        ir = optimize(forward(lowered.func, facts, wrt_vars, name, lowered.patterns))
        doc = (f"Value and directional derivative of {fname} along "
               f"{', '.join('t_' + p.name for p in wrt_vars)} (generated by symgrad)."
               + made_for(lowered))
        em = emit(ir, lowered.fs.globals, name, doc)
        compiled = compile_emitted(em, getattr(fn, "__qualname__", name))
        return TransformedForward(em.source + trailer(em.freevars), compiled, name, [p.name for p in params],
                                  [p.name for p in wrt_vars], lowered, facts, ir, em)
    finally:
        sys.setrecursionlimit(old)
        if gc_was:
            gc.enable()
