"""Forward mode, vector-Jacobian products, Jacobians and Hessians, with JAX's names.

Every function here runs generated source:

* :func:`jvp` runs the *tangent sweep* of ``f`` (:mod:`symgrad.forward`): each
  primal line followed by its tangent line, from the rule table reverse mode uses;
* :func:`vjp` runs the reverse sweep of a function that returns several numbers,
  seeded with one cotangent per output;
* :func:`jacfwd` runs the tangent sweep once per input number, :func:`jacrev` the
  reverse sweep once per output number, and :func:`jacobian` picks the cheaper;
* :func:`hessian` and :func:`hvp` run the tangent sweep *of the generated
  gradient* (forward over reverse): the gradient is plain Python, so it is
  differentiated like any other function, tape and all.

Results keep the structure of the arguments: a Jacobian is the output's structure
with each number replaced by the gradient's structure (JAX's convention), so the
Jacobian of a list-to-list function is a list of rows, and the Hessian of a
function of one list is a list of lists.
"""

from __future__ import annotations

import copy
import inspect
import sys
import weakref
from contextlib import suppress
from typing import Any, Callable

from . import static_args
from .draws import Replay, drawn_by
from .auxiliary import call_form, pulled_with_aux, with_aux_of
from .api import (GradFunction, Wrt, _cached, _params_of, _resolve_wrt, _wrt_or_argnums,
                  memo)
from .entry import is_mixed, same_structure, shares, stale
from .structures import no_fields
from .structures import (NUMBERS as _NUMBERS, is_array as _is_array, is_zero as _is_zero,
                         leaves as _leaves, rebuild as _rebuild,
                         same_structure as _same_structure,
                         shared_tangent as _shared_tangent,
                         shared_tangents as _shared_tangents, unit as _unit,
                         cotangent_args, cotangent_count, one_list)
from .varargs import ByArity, as_python, has_varargs, with_arity
from .errors import ArgumentError, SymgradError
from .numpy_args import as_given, as_lists, is_generator_object, lists_taken, routed_key
from .param_classes import class_key
from .second_records import (container_of_arrays, function_of_leaves, has_records,
                             hessian_of_records, hvp_of_records, is_record, regroup)
from .pipeline import transform, transform_forward, tuple_search
from .sweep_args import SweepArguments as _NumpyParams
from .shapes import argument_pattern, given_patterns

__all__ = ["jvp", "vjp", "jacfwd", "jacrev", "jacobian", "hessian", "hvp", "linearize_source",
           "ForwardFunction", "VJPFunction", "JacobianFunction", "HessianFunction"]

_cache: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def _memo(fn: Any, key: tuple, make: Callable[[], Any]) -> Any:
    """The generated sweep ``make()`` made for ``fn`` and ``key``; made again when a
    function (or value) it was made from has been rebound since (live globals)."""
    made = memo(_cache, fn, key, make)
    if stale(getattr(made, "_guards", ())):
        made = make()
        with suppress(KeyError, TypeError):      # (a function that is no weak key)
            _cache[fn][key] = made
    return made


def _target(fn: Any, patterns: tuple | None = None) -> Any:
    """What the compiler reads: a gradient's generated function (for ``patterns``, the
    arguments' array patterns, the one made for those arrays, as a call with them runs
    it), else ``fn``."""
    if not isinstance(fn, GradFunction):
        return fn
    return fn._generated if patterns is None else fn._made_for(patterns)


def _seeds(fn: Any) -> tuple:
    """The values of the parameters a generated gradient has after the function's own
    (its ``d_out=1.0`` seeds): a sweep made of it takes them before its tangents or
    cotangents (forward over reverse of ``grad(f)``)."""
    if not isinstance(fn, GradFunction):
        return ()
    defaults = fn._generated.__defaults__ or ()
    extra = fn._generated.__code__.co_argcount - len(fn.params)
    return tuple(defaults[len(defaults) - extra:]) if extra > 0 else ()


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


# --------------------------------------------------------------------------- structures

def _call(fn: Any, full: tuple) -> Any:
    """``fn`` called with ``full``, one value per parameter: its keyword-only
    parameters (``def f(x, *, k)``) are given by name."""
    names = _memo(fn, ("keyword-only",), lambda: _keyword_only(fn))
    if not names:
        return fn(*full)
    n = len(full) - len(names)
    return fn(*full[:n], **dict(zip(names, full[n:])))


def _keyword_only(fn: Any) -> list[str]:
    try:
        return [p.name for p in inspect.signature(fn).parameters.values()
                if p.kind is p.KEYWORD_ONLY]
    except (TypeError, ValueError):
        return []


def _primals_taken(fn: Any, primals: tuple, fname: str) -> tuple[tuple, tuple, tuple]:
    """The arguments as given (:func:`_full_primals`), the same with the lists given for
    parameters only handed to numpy made arrays (:mod:`symgrad.numpy_args`), and the
    positions of those."""
    given = _full_primals(fn, primals, fname)
    return (given, *lists_taken(fn, _params(fn), given, range(len(primals))))


def _full_primals(fn: Any, primals: tuple, fname: str, keywords: dict | None = None
                  ) -> tuple:
    """``primals`` (and ``keywords``: arguments given by name) with the function's
    defaults for the parameters not given, in the order of its parameters."""
    params = _params(fn)
    if len(primals) > len(params):
        raise ArgumentError(f"{fname}: {_name(fn)} takes {len(params)} arguments "
                            f"{tuple(params)}, {len(primals)} primals given")
    if len(primals) == len(params) and not keywords:
        return tuple(primals)
    try:
        sig = inspect.signature(fn)
        bound = sig.bind(*primals, **(keywords or {}))
        bound.apply_defaults()
        return tuple(bound.arguments[p] for p in params)
    except TypeError as exc:
        raise ArgumentError(f"{fname}: {_name(fn)}{tuple(params)}: {exc}") from None


# --------------------------------------------------------------------------- forward mode

class _SweepFunction:
    """A generated sweep of ``fn`` (``source`` shows it; ``fast`` is the generated
    function itself, which a call runs)."""

    kind = ""

    def __init__(self, fn: Any, result: Any):
        self._guards = result.lowered.guards      # (see _memo)
        self._numpy = _NumpyParams(fn, result.lowered)
        self.drawn = drawn_by(result.lowered)     # (see symgrad.draws)
        self.fn = fn
        self.source: str = result.source
        self.fast = result.fn
        self.params = result.params
        self.wrt = tuple(result.wrt)

    def __call__(self, *args: Any) -> Any:
        return self.fast(*args)

    def __repr__(self) -> str:
        return f"<symgrad {self.kind} of {getattr(self.fn, '__qualname__', self.fn)}>"

    def _repr_html_(self) -> str:
        from .notebook import source_html
        return source_html(self.source)


class ForwardFunction(_SweepFunction):
    """The tangent sweep of a function (see :func:`jvp`).

    Call it as ``ff(*primals, *tangents)`` to get ``(value, tangent)``.  ``source`` is
    the generated Python source; ``fast`` the generated function itself.
    """

    kind = "jvp"

    def __init__(self, fn: Any, wrt: list[int], patterns: dict | None = None,
                 key: tuple | None = None):
        super().__init__(fn, transform_forward(_target(fn, key), wrt, patterns))
        self._wrt_idx = tuple(wrt)


def _forward(fn: Any, wrt: tuple[int, ...] | None = None,
             patterns: tuple | None = None) -> ForwardFunction:
    """The tangent sweep of ``fn`` for ``wrt``; ``patterns`` (one per parameter, None
    for a non-array) specializes it for numpy arrays."""
    if wrt is None:
        wrt = tuple(range(len(_params(fn))))
    given = None if patterns is None else given_patterns(_params(fn), patterns)
    return _memo(fn, ("jvp", wrt, patterns), lambda: ForwardFunction(fn, list(wrt), given,
                                                                     patterns))


def _array_patterns(values: tuple) -> tuple | None:
    """Each numpy array's pattern (its rank and size-1 dimensions), "dict" for a dict
    (code that reads it as a list is made again for a dict), "seq" for a list or tuple
    of values of different kinds (made again with it a tuple of them), or None if none
    of these."""
    np = sys.modules.get("numpy")
    arrays = np is not None and any(type(v) is np.ndarray or is_generator_object(v)
                                    for v in values)
    mixed = [is_mixed(v) for v in values]
    classes = [class_key(v) for v in values]     # (records with properties, methods)
    if not arrays and dict not in map(type, values) and not any(mixed) and not any(classes):
        return None
    return tuple("dict" if type(v) is dict else "seq" if m else argument_pattern(v)
                 if arrays and type(v) is np.ndarray else routed_key(v, arrays) or c
                 for v, m, c in zip(values, mixed, classes))


def _sweep(fn: Any, full: tuple, differentiated: Any, make: Callable[[Any], Any]) -> Any:
    """``make(patterns)`` for these arguments: their array patterns, and the values of
    the parameters ``fn``'s code needs before it runs (an axis or einsum subscripts
    passed in: see :mod:`symgrad.static_args`), found when a first try asks for them."""
    known = static_args.known_for(fn)
    names = _params(fn)
    retried: set = set()
    while True:
        patterns = _patterns_for(fn, full, differentiated)
        try:
            return make(patterns)
        except SymgradError as exc:
            made = _as_tuples(make, patterns, names, exc)
            if made is not None:
                return made
            _refuse_numpy_lists(fn, full, differentiated, exc)
            if known is None:
                raise
            if static_args.learn(exc, names, full, known) is not None:
                continue
            name = getattr(exc, "static_param", None)
            if name not in known or name in retried:
                raise
            retried.add(name)       # (known meanwhile: grad's GradFunction asked for it)


def _as_tuples(make: Callable[[Any], Any], patterns: Any, names: list, exc: Exception) -> Any:
    """After a conflict of kinds among the items of a parameter read as a list: the
    sweep made with it (or the set of them the tries name) a tuple of values of
    different kinds (as ``grad`` makes it: see ``api._first_transform``); None if that
    fails too."""
    return tuple_search(lambda seqs: make(tuple(
        "seq" if p in seqs else k for p, k in zip(names, patterns or (None,) * len(names)))),
        exc, allowed=names)


def _refuse_numpy_lists(fn: Any, full: tuple, differentiated: Any, exc: Exception) -> None:
    """A sweep that cannot be made for lists, of numpy code given a list: refused as
    ``grad`` refuses it (its default gradient, made for arrays when the code cannot take
    lists, tells which parameters go to numpy), rather than with the conflict met."""
    if not getattr(exc, "about_lists", False) or not any(
            type(full[i]) in (list, tuple) for i in differentiated if i < len(full)):
        return
    try:
        result = _cached(fn, None, False)._result
    except SymgradError:
        return
    if result is not None:
        _NumpyParams(fn, result.lowered).refuse_lists(full, differentiated)


def _patterns_for(fn: Any, full: tuple, differentiated: Any) -> tuple | None:
    """The key of the sweep of ``fn`` for these arguments: their array patterns, and
    the values of the parameters known to be needed before the code runs."""
    patterns = _array_patterns(full)
    known = static_args.known_for(fn)
    names = _params(fn)
    values = static_args.fixed_values(names, full, known, differentiated, _name(fn)) \
        if known else None
    if values:
        patterns = tuple(values.get(p, k) for p, k in
                         zip(names, patterns or (None,) * len(full)))
    return patterns


def _params(fn: Any) -> list[str]:
    """``fn``'s parameter names (cached: ``inspect.signature`` is slow)."""
    return _memo(fn, ("params",), lambda: _params_of(fn))


def jvp(fn: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False) -> Any:
    """``(fn(*primals), the derivative of fn at primals along tangents)``, by a
    generated tangent sweep (forward mode).

    ``primals`` and ``tangents`` are tuples (or lists) with one entry per parameter;
    a list parameter takes a list of tangents.  Parameters with defaults may be left
    out (their tangents too).

    >>> import math
    >>> def f(x, y):
    ...     return x * math.sin(y)
    >>> value, slope = jvp(f, (2.0, 0.0), (1.0, 1.0))
    >>> value, slope
    (0.0, 2.0)
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if has_aux:
        return pulled_with_aux(fn, primals, lambda main: jvp(main, primals, tangents))
    fn = as_python(fn)
    if has_varargs(fn):                # (the adapter for this many arguments)
        fn = with_arity(fn, len(primals))
    if len(primals) != len(tangents):
        raise ArgumentError(f"jvp: {len(primals)} primals but {len(tangents)} tangents; "
                            "give one tangent per primal")
    _, full, _ = _primals_taken(fn, primals, "jvp")
    primals = full[:len(primals)]
    active, tans = _active_tangents(primals, tangents, full)
    ff = _sweep(fn, full, active, lambda pats: _forward(fn, tuple(active), pats))
    ff._numpy.refuse_lists(full, active)
    return ff.fast(*full, *_seeds(fn), *tans)


def _active_tangents(primals: tuple, tangents: tuple, full: tuple) -> tuple[list, list]:
    """The parameters ``jvp`` differentiates (those with a tangent that is not zero, and
    lists shared with another parameter) and their tangents."""
    tans = []
    active = []
    shared: dict[int, Any] = {}
    patterns = _array_patterns(full)
    lists = [p for p in primals if type(p) is list]
    twice = {id(p) for k, p in enumerate(lists)   # (one list for two parameters, or in
             if any(shares(p, q) for j, q in enumerate(lists) if j != k)}  # both: one
    for i, (p, t) in enumerate(zip(primals, tangents)):     # tangent, the sum)
        tp = type(p)
        if patterns is not None and type(patterns[i]) is tuple:     # a numpy array
            t = _array_tangent(p, t, "jvp")
            if t.any():
                active.append(i)
                tans.append(t)
            continue
        if tp is float or tp is int:              # the common case, checked quickly
            if type(t) is not float and type(t) is not int:
                _same_structure(p, t, "tangent", "jvp")
            if t != 0:
                active.append(i)
                tans.append(t)
            continue
        if tp is list and type(t) is list and len(t) == len(p) and id(p) not in shared \
                and id(p) not in twice \
                and (not p or type(p[0]) is float) and _NUMBERS.issuperset(map(type, t)):
            if any(t):                            # a flat list of numbers, checked quickly
                active.append(i)
                tans.append(shared.setdefault(id(p), list(t)))
            continue
        _same_structure(p, t, "tangent", "jvp")
        # a zero tangent holds the parameter constant (an int exponent's log of a
        # negative base never enters: 0 * nan would spoil the result)
        if not _is_zero(t) or id(p) in twice:
            active.append(i)
            tans.append(_shared_tangent(p, t, shared))
    return active, tans


def _array_tangent(p: Any, t: Any, fname: str) -> Any:
    """A float copy of an array tangent, shaped like its primal."""
    import numpy as np
    t = np.array(t, dtype=float)
    if t.shape != p.shape:
        raise ArgumentError(f"{fname}: a tangent has the shape {t.shape} where its primal has "
                            f"{p.shape}; give a tangent shaped like each primal")
    return t


def hvp(fn: Callable[..., Any], primals: Any, tangents: Any, wrt: Wrt = None) -> Any:
    """The Hessian of ``fn`` at ``primals`` times ``tangents``, without building the
    Hessian: the tangent sweep of the generated gradient (forward over reverse).

    The result has the gradient's structure.  With ``wrt``, ``tangents`` has one
    entry per differentiated parameter.

    >>> def f(x, y):
    ...     return x * x * y
    >>> hvp(f, (3.0, 2.0), (1.0, 0.0))      # H = [[2y, 2x], [2x, 0]]
    (4.0, 6.0)
    """
    primals = tuple(primals)
    tangents = tuple(tangents)
    fn = as_python(fn)
    if has_varargs(fn):                # (the adapter for this many arguments)
        fn = with_arity(fn, len(primals))
    given = _full_primals(fn, primals, "hvp")
    params = _params(fn)
    idx, single = _resolve_wrt(params, wrt, fn)
    if has_records([given[i] for i in idx]):       # (through a function of their leaves)
        return hvp_of_records(fn, params, given, idx, single, tangents, hvp)
    full, listed = lists_taken(fn, params, given, idx)
    no_fields([full[i] for i in idx], [params[i] for i in idx], "hvp", fn, wrt)
    if len(tangents) != len(idx):
        raise ArgumentError(f"hvp: {len(idx)} differentiated parameters "
                            f"{tuple(params[i] for i in idx)} but {len(tangents)} tangents")
    patterns = _array_patterns(full)
    tans = []
    for i, t in zip(idx, tangents):
        if patterns is not None and type(patterns[i]) is tuple:
            tans.append(_array_tangent(full[i], t, "hvp"))
            continue
        _same_structure(full[i], t, "tangent", "hvp")
        tans.append(None)
    rest = _shared_tangents([(full[i], t) for i, t, a in zip(idx, tangents, tans) if a is None])
    it = iter(rest)
    tans = [a if a is not None else next(it) for a in tans]
    ff = _sweep(fn, full, idx, lambda pats: _hvp_forward(fn, wrt, pats))
    ff._numpy.refuse_lists(full, idx)
    _, hv = ff.fast(*full, *_seeds(fn), 1.0, *tans)
    hv = _shaped_like([full[i] for i in idx], hv, single)

    def like(i: int, h: Any) -> Any:      # (in the parameters' types: a tuple's is a tuple)
        return as_given(given[i], h) if i in listed else same_structure(full[i], h)
    return like(idx[0], hv) if single else tuple(like(i, h) for i, h in zip(idx, hv))


def _gradient_of(fn: Any, wrt: Wrt) -> GradFunction:
    """The gradient whose tangent sweep ``hvp`` and ``hessian`` run."""
    params = _params(fn)
    return _cached(fn, wrt if wrt is not None else list(range(len(params))), False) \
        if len(params) != 1 or wrt is not None else _cached(fn, None, False)


def _shaped_like(primals: list, result: Any, single: bool) -> Any:
    """A second-order result with each array parameter's entry shaped like it (a
    gradient that does not change gives a number 0.0 for an array parameter)."""
    if not any(_is_array(p) for p in primals):
        return result
    import numpy as np
    parts = [result] if single else list(result)
    parts = [np.broadcast_to(np.asarray(r, dtype=float), p.shape).copy()
             if _is_array(p) and np.ndim(r) == 0 and p.ndim > 0 else r
             for p, r in zip(primals, parts)]
    return parts[0] if single else tuple(parts)


def _hvp_forward(fn: Any, wrt: Wrt, patterns: tuple | None = None) -> ForwardFunction:
    """The tangent sweep of ``fn``'s generated gradient (specialized for numpy arrays
    by ``patterns``)."""
    params = _params(fn)
    idx, _ = _resolve_wrt(params, wrt, fn)
    key = ("hvp", tuple(idx) if not isinstance(wrt, (int, str)) else wrt, patterns)

    def make() -> ForwardFunction:
        g = _gradient_of(fn, wrt)
        if patterns is None:
            ff = ForwardFunction(g, list(idx))
            made_from = g._result
        else:
            given = given_patterns(params, patterns)
            made_from = g._specialized(patterns)
            made_from.fn.__symgrad_primal_params__ = params
            ff = ForwardFunction(made_from.fn, list(idx), given)
        # (stale also when a function the gradient inlined is rebound)
        ff._guards = ff._guards + made_from.lowered.guards
        ff._numpy = _NumpyParams(fn, made_from.lowered)      # (the parameters of fn)
        return ff
    return _memo(fn, key, make)


# --------------------------------------------------------------------------- reverse mode

class VJPFunction(_SweepFunction):
    """The reverse sweep of a function returning several numbers: call it with the
    primals and one cotangent per output (``source`` shows it)."""

    kind = "vjp"

    def __init__(self, fn: Any, wrt: list[int], patterns: dict | None = None,
                 key: tuple | None = None):
        result = transform(_target(fn, key), wrt, False, False, structured=True,
                           patterns=patterns)
        super().__init__(fn, result)
        #: the cotangents it takes: one per number or array the code is read to return
        self.cotangents = len(result.ir.params) - len(result.params)


def _vjp_function(fn: Any, idx: tuple[int, ...], patterns: tuple | None = None
                  ) -> VJPFunction:
    given = None if patterns is None else given_patterns(_params(fn), patterns)
    return _memo(fn, ("vjp", idx, patterns), lambda: VJPFunction(fn, list(idx), given,
                                                                 patterns))


def vjp(fn: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """``(fn(*primals), vjp_fn)``: ``vjp_fn(cotangent)`` is the cotangent pulled back
    to the primals (one entry per primal, a tuple), by a generated reverse sweep.

    >>> def f(x, y):
    ...     return x * y, x + y
    >>> out, pull = vjp(f, 2.0, 3.0)
    >>> out, pull((1.0, 0.0)), pull((0.0, 1.0))
    ((6.0, 5.0), (3.0, 2.0), (1.0, 1.0))

    ``has_aux=True``: ``fn`` returns ``(output, aux)``; ``(output, vjp_fn, aux)``.
    """
    if has_aux:
        return pulled_with_aux(fn, primals, lambda main: vjp(main, *primals))
    fn = as_python(fn)
    if has_varargs(fn):                # (the adapter for this many arguments)
        fn = with_arity(fn, len(primals))
    n = len(primals)
    given, full, listed = _primals_taken(fn, primals, "vjp")
    if any(container_of_arrays(v) for v in full):     # (through their leaves)
        g, leaves, diff = function_of_leaves(fn, _params(fn), full, list(range(n)), "vjp",
                                             whole=True)
        out, pull = vjp(g, *leaves)
        keep = [k for k, p in enumerate(_params(g)) if p in diff]

        def vjp_of_leaves(cotangent: Any) -> tuple:
            pulled = pull(cotangent)
            return regroup(full, list(range(n)), [pulled[k] for k in keep], False, True)
        vjp_of_leaves.source = pull.source  # type: ignore[attr-defined]
        return out, vjp_of_leaves
    before = _fresh(full)          # (fn may change its arguments: pull back at the primals)
    seeds = _seeds(fn)
    vf = _sweep(fn, full, range(n), lambda pats: _vjp_function(fn, tuple(range(n)), pats))
    vf._numpy.refuse_lists(full, range(n))
    replay = Replay(vf.drawn)      # (the pullback sees the draws the value saw)
    out = _call(fn, full)

    if cotangent_count(out) != vf.cotangents and not one_list(out, vf):
        raise SymgradError(
            f"vjp: {_name(fn)} returned {cotangent_count(out)} value(s) here, but symgrad "
            f"reads its code as returning {vf.cotangents} (a library function whose "
            "result's structure depends on its arguments' shapes, such as np.gradient of "
            "an array of several dimensions: call it once per axis)")

    def vjp_fn(cotangent: Any) -> tuple:
        args = [list(cotangent_args(out, cotangent))] if one_list(out, vf) else \
            cotangent_args(out, cotangent)
        now = replay.aside()
        replay.start()
        try:
            pulled = vf.fast(*_fresh(before), *seeds, *args)   # one cotangent per primal
        finally:
            replay.back(now)
        return tuple(as_given(given[k], g) if k in listed else same_structure(p, g)
                     for k, (p, g) in enumerate(zip(before, pulled)))
    vjp_fn.source = vf.source  # type: ignore[attr-defined]
    return out, vjp_fn


def elementwise_grad(fn: Callable[..., Any], wrt: Wrt = None, *, argnums: Any = None
                     ) -> Callable[..., Any]:
    """The gradient of the sum of ``fn``'s outputs (autograd's ``elementwise_grad``):
    for a function applied element by element, its derivative at each element, in one
    reverse sweep (``vjp`` with a cotangent of ones).

    >>> import math
    >>> def f(xs):
    ...     return [math.sin(x) for x in xs]
    >>> [round(d, 6) for d in elementwise_grad(f)([0.0, 1.0])]
    [1.0, 0.540302]
    """
    wrt = _wrt_or_argnums(wrt, argnums)

    def derivative(*args: Any, **kwargs: Any) -> Any:
        target, full = call_form(as_python(fn), args, kwargs, "elementwise_grad")
        idx, single = _resolve_wrt(_params(target), wrt, target)
        out, pull = vjp(target, *full)
        pulled = pull(_ones(out))
        return pulled[idx[0]] if single else tuple(pulled[i] for i in idx)
    derivative.__name__ = f"elementwise_grad_{_name(fn)}"
    derivative.__wrapped__ = fn          # type: ignore[attr-defined]
    return derivative


def _ones(out: Any) -> Any:
    """Ones in the structure of ``out`` (a cotangent)."""
    if _is_array(out):
        import numpy as np
        return np.ones(np.shape(out))
    if type(out) is list:
        return [_ones(o) for o in out]
    if isinstance(out, tuple):                 # (a NamedTuple's cotangent: a tuple)
        return tuple(_ones(o) for o in out)
    return 1.0


# --------------------------------------------------------------------------- Jacobians

class JacobianFunction:
    """``J(*args)``: the Jacobian of ``fn`` with respect to ``wrt``, shaped as the
    output with each number replaced by the gradient's structure.  ``mode`` is
    ``"fwd"`` (one tangent sweep per input number), ``"rev"`` (one reverse sweep per
    output number) or ``"auto"`` (the fewer sweeps, decided at each call)."""

    def __init__(self, fn: Any, wrt: Wrt, mode: str):
        if mode not in ("fwd", "rev", "auto"):
            raise SymgradError(f"mode={mode!r}: use 'fwd', 'rev' or 'auto'")
        self.fn = fn
        self.mode = mode
        self.params = _params_of(fn)
        self._idx, self._single = _resolve_wrt(self.params, wrt, fn)
        self.wrt = tuple(self.params[i] for i in self._idx)
        self.__name__ = f"jacobian_{_name(fn)}"

    @property
    def source(self) -> str:
        """The generated code a call runs (the tangent sweep for forward mode)."""
        if self.mode == "rev":
            return _vjp_function(self.fn, tuple(self._idx)).source
        return _forward(self.fn, tuple(self._idx)).source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _called(self, args, kwargs)

    def _at(self, full: tuple) -> Any:
        if any(container_of_arrays(v) for v in full):
            return self._of_containers(full)
        ins = [full[i] for i in self._idx]
        n_in = sum(len(_leaves(x)) for x in ins)
        mode = self.mode
        out = None
        sweep = self._sweep(full, mode)
        replay = Replay(sweep.drawn)        # (every sweep sees the same draws)
        if mode == "auto":
            out = _call(self.fn, _fresh(full))
            mode = "fwd" if n_in <= len(_leaves(out)) else "rev"
        if mode == "fwd" and any(_an_object(v) for v in ins):
            mode = "rev"        # (no tangent seeds for an object's fields: the same Jacobian)
        if mode == "fwd":
            return self._fwd(full, ins, sweep, replay)
        if out is None:
            out = _call(self.fn, _fresh(full))
        return self._rev(full, out, self._sweep(full, "rev"), replay)

    def _of_containers(self, full: tuple) -> Any:
        """Records, tuples or dicts holding arrays: one pullback (through their leaves,
        see :func:`vjp`) per output number, each row in the containers' shapes."""
        out, pull = vjp(self.fn, *full)
        rows = []
        for j in range(len(_leaves(out))):
            g = pull(_unit(out, j))
            g = tuple(g[i] for i in self._idx)
            rows.append(g[0] if self._single else g)
        return _rebuild_out(out, iter(rows))

    def _sweep(self, full: tuple, mode: str) -> Any:
        """The tangent sweep (``"rev"``: the reverse sweep) for these arguments."""
        made = _sweep(self.fn, full, self._idx, lambda pats: (
            _vjp_function if mode == "rev" else _forward)(self.fn, tuple(self._idx), pats))
        made._numpy.refuse_lists(full, self._idx)
        return made

    def _in_struct(self, ins: list) -> Any:
        return ins[0] if self._single else tuple(ins)

    def _fwd(self, full: tuple, ins: list, ff: ForwardFunction, replay: Replay) -> Any:
        like = self._in_struct(ins)
        n_in = len(_leaves(like))
        columns = []
        out = None
        for k in range(n_in):
            unit = _unit(like, k)
            tans = [unit] if self._single else list(unit)
            replay.start()
            out, t = ff.fast(*_fresh(full), *_seeds(self.fn), *tans)   # (at the same point)
            columns.append(_leaves(t))
        if out is None:                                 # no input numbers
            replay.start()
            out = _call(self.fn, _fresh(full))
            columns = []
        n_out = len(_leaves(out))
        rows = iter([_rebuild(like, iter([columns[k][j] for k in range(n_in)]))
                     for j in range(n_out)])
        return _rebuild_out(out, rows)

    def _rev(self, full: tuple, out: Any, vf: VJPFunction, replay: Replay) -> Any:
        rows = []
        n_out = len(_leaves(out))
        for j in range(n_out):
            ct = _unit(out, j)
            args = [list(ct)] if one_list(out, vf) else \
                cotangent_args(out, ct) if isinstance(out, tuple) else [ct]
            replay.start()
            g = vf.fast(*_fresh(full), *_seeds(self.fn), *args)
            g = tuple(same_structure(full[i], gi) for i, gi in zip(self._idx, g))
            rows.append(g[0] if self._single else g)        # (each like its input)
        return _rebuild_out(out, iter(rows))

    def __repr__(self) -> str:
        return f"<symgrad jacobian ({self.mode}) of {getattr(self.fn, '__qualname__', self.fn)}>"

    def _repr_html_(self) -> str:
        from .notebook import source_html
        return source_html(self.source)


def _an_object(v: Any) -> bool:
    """An instance of a plain class (not a record, container, number or array)?"""
    return hasattr(v, "__dict__") and not isinstance(v, (list, tuple, dict, type)) and \
        not is_record(v) and type(v).__module__ != "numpy" and not callable(v)


def _called(made: Any, args: tuple, kwargs: dict) -> Any:
    """A call of a Jacobian or Hessian: lists given for parameters only handed to numpy
    are swept as arrays (:mod:`symgrad.numpy_args`), and when every differentiated
    array was given as a list, the result's arrays are lists."""
    given = _full_primals(made.fn, args, made.__name__, kwargs)
    full, listed = lists_taken(made.fn, made.params, given, made._idx)
    result = made._at(full)
    if listed and not any(_is_array(given[i]) for i in made._idx):
        return as_lists(result)
    return result


def _fresh(args: tuple) -> tuple:
    """``args`` with their lists, dicts and arrays copied (deeply), so that a function
    that changes its arguments can be swept again at the same point; objects that
    cannot be copied are passed as they are."""
    if all(type(a) in (float, int) for a in args):
        return args
    try:
        return copy.deepcopy(args)
    except Exception:                       # (an object that refuses to be copied)
        return args


def _rebuild_out(out: Any, rows: Any) -> Any:
    """The output structure with each number replaced by the next row (an array
    output of rows that are arrays is one array: shape ``out.shape + row.shape``)."""
    if _is_array(out):
        import numpy as np
        rows_ = [next(rows) for _ in range(out.size)]
        if rows_ and all(_is_array(r) or isinstance(r, (int, float)) for r in rows_):
            stacked = np.array(rows_, dtype=float)
            return stacked.reshape(out.shape + stacked.shape[1:])
        return rows_
    if isinstance(out, tuple):
        return tuple(_rebuild_out(v, rows) for v in out)
    if isinstance(out, list):
        return [_rebuild_out(v, rows) for v in out]
    if isinstance(out, dict):
        return {k: _rebuild_out(v, rows) for k, v in out.items()}
    return next(rows)


def _jacobian(fn: Any, wrt: Wrt, mode: str, has_aux: bool = False) -> Any:
    """The Jacobian function (``has_aux``: of the output, returned with the aux)."""
    if has_aux:
        return with_aux_of(fn, lambda main: _jacobian(main, wrt, mode), "jacobian")
    if isinstance(fn, JacobianFunction):      # jacfwd(jacrev(f)): the Hessian of f
        from .nested_modes import jacobian_of_jacobian
        return jacobian_of_jacobian(fn, wrt)
    fn = as_python(fn)
    if has_varargs(fn):                # (one Jacobian per number of arguments)
        return ByArity(fn, lambda fixed: JacobianFunction(fixed, wrt, mode))
    return JacobianFunction(fn, wrt, mode)


def jacfwd(fn: Callable[..., Any], wrt: Wrt = None, *, argnums: Any = None,
           has_aux: bool = False) -> JacobianFunction:
    """The Jacobian by forward mode: one generated tangent sweep per input number.

    >>> def f(x):
    ...     return [x[0] * x[1], x[0] + 3.0 * x[1]]
    >>> jacfwd(f)([2.0, 5.0])
    [[5.0, 2.0], [1.0, 3.0]]
    """
    return _jacobian(fn, _wrt_or_argnums(wrt, argnums), "fwd", has_aux)


def jacrev(fn: Callable[..., Any], wrt: Wrt = None, *, argnums: Any = None,
           has_aux: bool = False) -> JacobianFunction:
    """The Jacobian by reverse mode: one generated reverse sweep per output number.

    >>> def f(x):
    ...     return [x[0] * x[1], x[0] + 3.0 * x[1]]
    >>> jacrev(f)([2.0, 5.0])
    [[5.0, 2.0], [1.0, 3.0]]
    """
    return _jacobian(fn, _wrt_or_argnums(wrt, argnums), "rev", has_aux)


def jacobian(fn: Callable[..., Any], wrt: Wrt = None, *, argnums: Any = None,
             has_aux: bool = False) -> JacobianFunction:
    """The Jacobian, by forward mode when the inputs are no more numerous than the
    outputs, else by reverse mode (decided at each call, from the sizes)."""
    return _jacobian(fn, _wrt_or_argnums(wrt, argnums), "auto", has_aux)


# --------------------------------------------------------------------------- Hessians

class HessianFunction:
    """``H(*args)``: the Hessian of ``fn`` with respect to ``wrt``, by forward over
    reverse: one tangent sweep of the generated gradient per input number.  The
    result is the gradient's structure of gradient structures (a float for one
    number, a list of rows for a list, nested tuples for several parameters)."""

    def __init__(self, fn: Any, wrt: Wrt):
        self.fn = fn
        self.params = _params_of(fn)
        self._wrt = wrt
        self._idx, self._single = _resolve_wrt(self.params, wrt, fn)
        self.wrt = tuple(self.params[i] for i in self._idx)
        self.__name__ = f"hessian_{_name(fn)}"

    @property
    def source(self) -> str:
        """The generated code a call runs: the tangent sweep of the gradient."""
        return self._ff().source

    def _ff(self) -> ForwardFunction:
        return _hvp_forward(self.fn, self._wrt)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _called(self, args, kwargs)

    def _at(self, full: tuple) -> Any:
        ins = [full[i] for i in self._idx]
        if has_records(ins):        # (through a function of their leaves)
            return hessian_of_records(self.fn, list(self.params), full, list(self._idx),
                                      self._single, hvp)
        no_fields(ins, list(self.wrt), "hessian", self.fn, self._wrt)
        like = ins[0] if self._single else tuple(ins)
        ff = _sweep(self.fn, full, self._idx,
                    lambda pats: _hvp_forward(self.fn, self._wrt, pats))
        ff._numpy.refuse_lists(full, self._idx)
        n = len(_leaves(like))
        if n == 0:      # (no column: the sweep still runs, to raise where fn raises)
            ff.fast(*full, *_seeds(self.fn), 1.0, *([like] if self._single else list(like)))
        cols = []
        replay = Replay(ff.drawn)           # (every column sees the same draws)
        twice = len({id(x) for x in ins if type(x) is list}) < sum(type(x) is list for x in ins)
        for k in range(n):
            unit = _unit(like, k)
            tans = [unit] if self._single else list(unit)
            replay.start()
            col = hvp(self.fn, full, tans, wrt=self._wrt) if twice else \
                ff.fast(*full, *_seeds(self.fn), 1.0, *tans)[1]   # (one list twice: hvp's
            cols.append(_leaves(_shaped_like(ins, col, self._single)))    # one tangent)
        rows = iter([_rebuild(like, iter([cols[k][j] for k in range(n)])) for j in range(n)])
        return _rebuild_out(like, rows)

    def __repr__(self) -> str:
        return f"<symgrad hessian of {getattr(self.fn, '__qualname__', self.fn)}>"

    def _repr_html_(self) -> str:
        from .notebook import source_html
        return source_html(self.source)


def hessian(fn: Callable[..., Any], wrt: Wrt = None, *, argnums: Any = None,
            has_aux: bool = False) -> HessianFunction:
    """The Hessian of ``fn``, as a function of the same arguments.

    >>> def f(x, y):
    ...     return x * x * y
    >>> hessian(f)(3.0, 2.0)
    ((4.0, 6.0), (6.0, 0.0))
    >>> hessian(f, wrt="x")(3.0, 2.0)
    4.0

    ``has_aux=True``: ``fn`` returns ``(output, aux)``; the call returns ``(the
    Hessian of output, aux)``.
    """
    wrt = _wrt_or_argnums(wrt, argnums)
    if has_aux:
        return with_aux_of(fn, lambda main: hessian(main, wrt), "hessian")
    fn = as_python(fn)
    if has_varargs(fn):                # (one Hessian per number of arguments)
        return ByArity(fn, lambda fixed: HessianFunction(fixed, wrt))
    return HessianFunction(fn, wrt)


def linearize_source(fn: Any, mode: str = "jvp", wrt: Wrt = None) -> str:
    """The generated source for ``mode``: ``"grad"``, ``"jvp"``, ``"vjp"``,
    ``"hessian"`` or ``"hvp"`` (the last two are the same tangent sweep of the
    gradient)."""
    if mode == "grad":
        return (fn if isinstance(fn, GradFunction) else _cached(fn, wrt, False)).source
    params = _params_of(fn)
    idx, _ = _resolve_wrt(params, wrt, fn)
    if mode == "jvp":
        return _forward(fn, tuple(idx)).source
    if mode == "vjp":
        return _vjp_function(fn, tuple(idx)).source
    if mode in ("hessian", "hvp"):
        return _hvp_forward(fn, wrt).source
    raise SymgradError(f"mode={mode!r}: use 'grad', 'jvp', 'vjp', 'hessian' or 'hvp'")




# Called inside a function being differentiated: the first ones are made while lowering,
# the others (which compute at once) are refused (symgrad.lower_call.transform_call).
for _fn in (jvp, vjp, hvp, jacfwd, jacrev, jacobian, hessian):
    _fn.__symgrad_transform__ = "now"  # type: ignore[attr-defined]
