"""The driver: ``emit(optimize(reverse(analyze(lower(f)))))``.

Each stage is a plain function of the previous stage's result; :func:`stages`
returns every intermediate form, which ``symgrad.show(f, stage=...)`` prints.
"""

from __future__ import annotations

import gc
import sys
from dataclasses import dataclass
from typing import Any, Callable

from .analyze import Facts, analyze
from .contexts import errstate_of
from .emit import Emitted, compile_emitted, emit
from .helpers import trailer
from .draws import drawn_by
from .errors import SymgradError, UnsupportedSyntaxError
from .ir import FIXED_AT_USE, FIXED_PARAMS, Func, KindError, kind_conflict
from .lower import Lowered, lower
from .maps import map_loops
from .optimize import optimize
from .results import check_result, check_static_result
from .shapes import refuse_math_on_arrays
from .reverse import reverse

__all__ = ["Transformed", "transform", "stages", "tuple_search"]


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
    return _compiling(fn, lambda: _transform(fn, wrt, with_value, single, structured,
                                             patterns, share_lists, lazy))


def _compiling(fn: Any, make: Callable[[], Any]) -> Any:
    """``make()`` with the garbage collector off (a transform makes many objects and
    frees none until it ends) and room for deep expressions; a nesting deeper than
    that is an error naming ``fn``."""
    old = sys.getrecursionlimit()
    gc_was = gc.isenabled()
    gc.disable()
    try:
        sys.setrecursionlimit(max(old, 20000))
        try:
            return make()
        except RecursionError:
            raise UnsupportedSyntaxError(
                "an expression or nesting this deep", "split it into several statements",
                getattr(getattr(fn, "__code__", None), "co_filename", "<unknown>"),
                getattr(getattr(fn, "__code__", None), "co_firstlineno", 0)) from None
    finally:
        sys.setrecursionlimit(old)
        if gc_was:
            gc.enable()


def _lowered(fn: Any, structured: bool, patterns: dict | None, wrt: list[int]
             ) -> tuple[Lowered, list]:
    """``fn`` lowered (numpy math refused where arrays are given), and the parameters
    at ``wrt``."""
    lowered = lower(fn, structured, patterns)
    if patterns and uses_numpy(lowered):
        refuse_math_on_arrays(lowered.func.body, lowered.func.params, lowered.patterns)
    return lowered, [lowered.params[i] for i in wrt]


def _transform(fn: Any, wrt: list[int], with_value: bool, single: bool,
               structured: bool = False, patterns: dict | None = None,
               share_lists: bool = False, lazy: bool = False) -> Transformed:
    lowered, wrt_vars = _lowered(fn, structured, patterns, wrt)
    params = lowered.params
    try:
        facts = analyze(lowered, wrt_vars)
        if not structured:
            check_static_result(lowered, fn)
        check_result(lowered, fn, structured)
        try:
            grad_ir = reverse(lowered, facts, wrt_vars, with_value, single, share_lists)
        except KindError as exc:       # (a conflict the lowering's own checks did not meet)
            raise kind_conflict(lowered.fs, lowered.fs.tree, exc) from None
    except SymgradError as exc:
        _name_seq_param(exc, lowered)
        raise
    grad_ir = map_loops(optimize(grad_ir))
    fname = _name_of(fn)
    name = "d_" + (fname if fname.isidentifier() else "lambda")
    wrt_names = [p.name for p in wrt_vars]
    kind = "Value and gradient" if with_value else "Gradient"
    if structured and grad_ir.defaults == {} and len(grad_ir.params) > len(params):
        kind = "Vector-Jacobian product"
    doc = f"{kind} of {fname} with respect to {', '.join(wrt_names)} (generated by symgrad)."
    doc += made_for(lowered)
    em = emit(grad_ir, lowered.fs.globals, name, doc, errstate_of(lowered.quiet))
    label = getattr(fn, "__qualname__", name)
    compiled = None if lazy else compile_emitted(em, label)
    inactive = [p.name for p in wrt_vars if not facts.is_active(p)]
    numpy_used = uses_numpy(lowered)
    if structured:                  # (vjp's sweeps replay the draws: symgrad.draws)
        drawn_by(lowered)
    lowered.release()
    grad_ir.body = []
    return Transformed(em.source + trailer(em.freevars), compiled, name,
                       [p.name for p in params], wrt_names, inactive, lowered, None, grad_ir,
                       em, label, numpy_used)


def _name_seq_param(exc: Exception, lowered: Lowered) -> None:
    """A conflict of kinds among the items of a parameter read at constant indices:
    the error names it, so the caller makes the code again with it a tuple of values of
    different kinds (``api._first_transform`` for gradients, ``modes._as_tuples``)."""
    if getattr(exc, "about_lists", False) and getattr(exc, "seq_param", None) is None:
        exc.seq_param = lowered.seq_param     # type: ignore[attr-defined]


def tuple_search(make: Any, exc: Exception, allowed: Any = None, tries: int = 8) -> Any:
    """After a conflict of kinds among the items of a parameter read as a list
    (``exc.seq_param`` names it, see :func:`_name_seq_param`): ``make(names)`` for the
    first set of such parameters, made tuples of values of different kinds, that
    transforms; None if none does within ``tries``.  Each failed try's conflict names
    the next parameter; it is tried alone, then with the set before it, since the first
    one named may be the wrong one (a conflict met through an alias, ``R = [xs]``,
    names the alias's list as well as the parameter whose items differ); then the
    other parameters read at constant indices (``SeqParam.others``: a conflict between
    a value read from one and one read from another names the first only)."""
    queue: list = []
    seen: set = set()

    def push(before: frozenset, err: Exception) -> None:
        seq = getattr(err, "seq_param", None)
        if seq is None:
            return
        for name in (seq, *getattr(seq, "others", ())):   # (the one named first)
            if allowed is not None and name not in allowed:
                continue
            for names in (frozenset({str(name)}), before | {str(name)}):
                if names not in seen:
                    seen.add(names)
                    queue.append(names)
    push(frozenset(), exc)
    while queue and tries > 0:
        names = queue.pop(0)
        tries -= 1
        try:
            return make(names)
        except SymgradError as again:
            push(names, again)
    return None


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
    return _compiling(fn, lambda: _transform_forward(fn, wrt, patterns))


def _transform_forward(fn: Any, wrt: list[int], patterns: dict | None) -> TransformedForward:
    from .forward import forward
    lowered, wrt_vars = _lowered(fn, True, patterns, wrt)
    try:
        facts = analyze(lowered, wrt_vars)
    except SymgradError as exc:
        _name_seq_param(exc, lowered)
        raise
    check_result(lowered, fn, structured=True)
    fname = _name_of(fn)
    name = "jvp_" + (fname if fname.isidentifier() else "lambda")
    ir = optimize(forward(lowered.func, facts, wrt_vars, name, lowered.patterns))
    doc = (f"Value and directional derivative of {fname} along "
           f"{', '.join('t_' + p.name for p in wrt_vars)} (generated by symgrad)."
           + made_for(lowered))
    em = emit(ir, lowered.fs.globals, name, doc, errstate_of(lowered.quiet))
    compiled = compile_emitted(em, getattr(fn, "__qualname__", name))
    return TransformedForward(em.source + trailer(em.freevars), compiled, name,
                              [p.name for p in lowered.params], [p.name for p in wrt_vars],
                              lowered, facts, ir, em)
