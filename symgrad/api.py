"""The public API: ``grad``, ``value_and_grad``, ``show`` and the ``GradFunction`` they return."""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import types
import weakref
from typing import Any, Callable, Sequence, Union

from . import entry as entry_mod
from . import helpers, static_args
from .errors import ArgumentError, SymgradError, UnsupportedSyntaxError
from .ir import DICT_PARAMS, SEQ_PARAMS
from .shapes import argument_pattern, given_patterns
from .emit import compile_emitted
from .pipeline import transform, tuple_search
from .shadows import MAX_OWN_SHADOWS, flat_numbers
from .varargs import as_python, has_varargs, natural_arity
from .numpy_args import arrays_at, as_given, numpy_only_params, routed_key, taken
from .second_records import container_of_arrays, function_of_leaves, regroup
from .param_classes import class_key

Wrt = Union[None, int, str, Sequence[Union[int, str]]]

_cache: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()
_lock = threading.RLock()


def _no_entry_yet(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - replaced at once
    raise SymgradError("this gradient is not built yet")


class GradFunction(functools.partial):
    """A generated gradient: call it like the original function.

    Attributes: ``source`` (the generated Python source), ``fn`` (the original
    function), ``wrt`` (the parameter names differentiated), ``params``, ``fast``
    (the generated function itself, for numbers and lists: with arrays use
    :meth:`fast_for`), ``inactive`` (differentiated parameters whose gradient is
    structurally zero: used only as counts, indices or conditions).

    A call runs a small checked entry (see :mod:`symgrad.entry`) and then the
    generated function, with no Python-level wrapper in between.

    >>> import math
    >>> def f(x):
    ...     return math.sin(x) * x
    >>> df = grad(f)
    >>> round(df(1.0), 6) == round(math.cos(1.0) * 1.0 + math.sin(1.0), 6)
    True
    """

    def __new__(cls, fn: Any, wrt: Wrt = None, with_value: bool = False,
                fixed: dict | None = None) -> "GradFunction":
        target = fn._generated if isinstance(fn, GradFunction) else fn
        params = _params_of(fn)
        indices, single = _resolve_wrt(params, wrt, fn)
        self = super().__new__(cls, _no_entry_yet)
        self._fixed = fixed or {}
        try:
            result = _default_transform(target, params, indices, with_value, single, fixed)
        except SymgradError as exc:
            if getattr(exc, "record_method", False) and fixed is None:
                from .param_classes import setup_per_class   # (made for each record class)
                setup_per_class(self, fn, target, params, indices, single, with_value, wrt,
                                exc)
                return self
            name = getattr(exc, "static_param", None)
            known = static_args.known_for(fn)
            if fixed is None and name is None and (
                    type(exc) is UnsupportedSyntaxError and getattr(exc, "about_lists", False)
                    or getattr(exc, "container_read", False)) and \
                    isinstance(fn, types.FunctionType) and not has_varargs(fn):
                from .fixed_call import setup_deferred   # (containers of arrays: at the call)
                setup_deferred(self, fn, target, params, indices, single, with_value, exc)
                return self
            if fixed is not None or name not in params or known is None:
                raise
            known.setdefault(name, getattr(exc, "static_role", ""))
            from .fixed_call import setup_fixed    # (made for each value at the call)
            setup_fixed(self, fn, target, params, indices, single, with_value, wrt, known)
            return self
        self._setup(fn, target, params, indices, single, with_value, result)
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def _setup(self, fn: Any, target: Any, params: list[str], indices: list[int],
               single: bool, with_value: bool, result: Any) -> None:
        self.__dict__.pop("_entry", None)
        self._result = result
        self._spec = (target, indices, single)
        #: differentiated parameters whose gradient is structurally zero (used only as
        #: counts, indices or conditions, or not at all)
        self.inactive = tuple(result.inactive)
        self.source: str = result.source
        self._shown = result       # the gradient whose source .source shows
        self.fn = fn
        self.params = params
        self.wrt = tuple(params[i] for i in indices)
        self._wrt_idx = tuple(indices)
        self.with_value = with_value
        self.__wrapped__ = fn
        self.__name__ = result.name
        self.__qualname__ = result.name
        kind = "value and gradient" if with_value else "gradient"
        self.__doc__ = (f"The {kind} of {getattr(fn, '__name__', 'f')} with respect to "
                        f"{', '.join(self.wrt)}, generated by symgrad.\n\n"
                        + (getattr(fn, "__doc__", None) or ""))
        self._specs: dict = {}
        self._kinds = checks = self._checks(result)
        entry = self._fused(result, checks) or self._slow_entry()
        self.__setstate__((entry, (), None, self.__dict__))

    @property
    def _generated(self) -> Any:
        """The generated function itself, without the checks of the entry (compiled when
        first asked for: a call of numbers runs the gradient with its checks fused in)."""
        if "_deferred" in self.__dict__:         # (made at the call: see fixed_call)
            raise self._deferred.with_traceback(None)
        if self._result is None:                 # (one per value: see fixed_call)
            from .fixed_call import no_single_function
            raise no_single_function(self)
        fn = self._result.compiled()
        fn.__symgrad_primal_params__ = self.params
        return fn

    #: the generated function itself, without the checks of the entry
    fast = property(lambda self: self._generated, doc=_generated.__doc__)

    def __symgrad_generated_for__(self, kinds: list) -> Any:
        """The generated function to inline where this gradient is called inside code
        being differentiated, given the kinds of the arguments there: a dict where the
        code alone read a list gets the gradient made for dicts, as a call would (see
        :meth:`_array_call`)."""
        result = self._result
        if result is None:
            return self._generated
        key = tuple("dict" if k is not None and k.tag == "map" and k.attrs is not True and
                    p.kind.find().tag == "list" else
                    "array" if k is not None and k.tag == "array" and
                    p not in result.lowered.func.arrays else None
                    for k, p in zip(kinds, result.lowered.params))
        if "dict" not in key and "array" not in key:    # (an array where the code made
            return self._generated      # before any call reads a number: made for arrays)
        key += (None,) * (len(self.params) - len(key))
        if self._fixed:
            key = tuple(self._fixed.get(p, k) for p, k in zip(self.params, key))
        fn = self._specialized(key).compiled()
        fn.__symgrad_primal_params__ = self.params
        return fn

    def _fused(self, result: Any, checks: list) -> Any:
        """The gradient with the entry's tests in its first line (see
        :func:`symgrad.entry.fused_source`), or None where they cannot be fused.  Where
        ``_speedups`` was built, the numbers are tested in C before the call
        (:data:`symgrad.entry._CHECKED`) and the line has only the other tests, if any."""
        if result.fn is not None:
            return None
        names = [p.name for p in result.ir.params]
        at = {name: k for k, name in enumerate(names)}
        positions = tuple(at[p] for p, k in checks if k == "num")
        in_c = entry_mod._CHECKED is not None and bool(positions)
        found = entry_mod.fused_source(result.emitted.source, names, names[:len(self.params)],
                                       checks, result.uses_numpy,
                                       self._sharing(result.lowered, result.inactive),
                                       result.lowered.guards, in_c)
        if found is None:
            return None
        text, values, doc = found

        def slow(*args: Any, **kw: Any) -> Any:
            return self._slow_entry()(*args, **kw)
        if text is None:                    # (nothing left to test in Python)
            fn = result.compiled()
        else:
            values["_sg_entry"] = slow
            fn = compile_emitted(result.emitted, result.label, text, values)
            fn.__doc__ = doc
        return entry_mod._CHECKED(fn, slow, positions) if in_c else fn

    def _slow_entry(self) -> Any:
        """The whole checked entry (:func:`symgrad.entry.make_entry`), made when first
        needed: an argument that is not a float, an array, rebound helpers ..."""
        entry = self.__dict__.get("_entry")
        if entry is None:
            entry = self.__dict__["_entry"] = self._make_entry(self._result)
        return entry

    def _checks(self, result: Any) -> list[tuple[str, str]]:
        """The kind each differentiated parameter is checked as (see make_entry)."""
        lowered = result.lowered
        checks = []
        for i in self._wrt_idx:
            p = lowered.params[i]
            if _constant(self._fixed, p.name):    # (see fixed_call)
                continue
            kind = check_kind(p, lowered, result.uses_numpy)
            if kind is not None:
                checks.append((p.name, kind))
        checked = {name for name, _ in checks}
        for p in lowered.params:    # (not differentiated, read by position: a call may
            if p.name in getattr(lowered, "by_position", ()) and p.name not in checked \
                    and p.kind.find().tag == "list" and not _constant(self._fixed, p.name):
                checks.append((p.name, "parts"))  # give a tuple of parts all the same)
        self._containers = any(k not in ("num", "loose") for _, k in checks)
        #: the positions of the parameters a list is taken for as an array (numpy_args)
        only = numpy_only(lowered) if result.uses_numpy else ()
        self._listable = tuple(self.params.index(p) for p, k in checks
                               if k in ("num", "loose") and p in only)
        return checks

    def _make_entry(self, result: Any) -> Any:
        lowered = result.lowered
        names = [p.name for p in result.ir.params]
        defaults = tuple(self._generated.__defaults__ or ())
        checks = self._kinds                      # (found by _setup)
        fs = lowered.fs
        where = f'File "{fs.filename}", line {fs.line(fs.tree)}: '
        n = len(self.params)
        return entry_mod.make_entry(result.name, names, defaults, checks, self._generated,
                                    lowered.guards, self._refresh,
                                    getattr(self.fn, "__qualname__", result.name), where,
                                    self._array_call, n, self._restore,
                                    self._sharing(lowered, result.inactive),
                                    arrays_first=result.uses_numpy,
                                    listable=frozenset(self.params[i] for i in self._listable))

    def _sharing(self, lowered: Any, inactive: list[str]) -> Any:
        """For two or more list parameters: their names, and the call that handles a
        list shared between them (every list parameter differentiated, adjoints shared).
        None when the gradient itself models every sharing there can be: a few flat
        lists of numbers, all differentiated, can only be the same list, and their
        adjoints are then the same list too (``d_w = d_x if w is x else ...``,
        :func:`symgrad.shadows.add_shadows`)."""
        moved = getattr(lowered, "moved_kinds", ())    # (only moved into lists: maybe lists)
        lists = [i for i, p in enumerate(lowered.params) if not _constant(self._fixed, p.name)
                 and (p.kind.find().tag in ("list", "map", None) or id(p.kind.find()) in moved)]
        if len(lists) < 2 or len(lists) <= MAX_OWN_SHADOWS and all(
                i in self._wrt_idx and lowered.params[i].name not in inactive
                and flat_numbers(lowered.params[i]) for i in lists):
            return None
        return [lowered.params[i].name for i in lists], functools.partial(self._shared_call,
                                                                          tuple(lists))

    def _shared_call(self, lists: tuple, *args: Any) -> Any:
        """A call whose list arguments share a list: the gradient made with every list
        parameter active, so the adjoints share as the lists do; then the asked-for
        ones picked out."""
        target, indices, single = self._spec
        every = sorted(set(indices) | set(lists))
        key = ("shared", tuple(every))
        spec = self._specs.get(key)
        if spec is None:
            with _lock:
                fixed = static_args.patterns_of(self._fixed) or None
                spec = self._specs[key] = transform(target, every, self.with_value, False,
                                                    share_lists=True, patterns=fixed)
        result = spec.fn(*args)
        grads = result[1] if self.with_value else result
        picked = tuple(grads[every.index(i)] for i in indices)
        out = picked[0] if single else picked
        return (result[0], out) if self.with_value else out

    def _restore(self, args: tuple, result: Any, listed: tuple = ()) -> Any:
        """The gradient of a call whose containers were not plain lists and dicts:
        each parameter's gradient in the types of its argument (a tuple for a tuple, a
        NamedTuple, dataclass or object of the argument's class for one; a list for the
        list given at a position in ``listed``, taken as an array)."""
        grads = result[1] if self.with_value else result
        _, _, single = self._spec

        def like(i: int, g: Any) -> Any:
            if i in listed:
                return as_given(args[i], g)
            return entry_mod.same_structure(args[i], g)
        if single:
            grads = like(self._wrt_idx[0], grads)
        else:
            grads = tuple(like(i, g) for i, g in zip(self._wrt_idx, grads))
        return (result[0], grads) if self.with_value else grads

    def fast_for(self, *args: Any) -> Any:
        """The generated function for arguments like these, without the entry's checks:
        ``.fast`` for numbers and lists, the version specialized for the arrays' ranks
        and size-1 dimensions when ``args`` has arrays (for hot loops over arrays of
        one shape; it returns the bare generated result); with a dict the code alone
        reads as a list, the version made for a dict."""
        if self._result is None and "_class_error" in self.__dict__:   # (param_classes)
            return self._specialized(self._array_key(args)).fn
        if self._result is None:                 # (one per value: see fixed_call)
            from .fixed_call import for_values
            return for_values(self, args).fast_for(*args)
        key = self._array_key(args)
        if all(k is None for k in key):
            return self.fast
        return self._specialized(key).fn

    def _array_key(self, args: tuple) -> tuple:
        """Per argument: its pattern (1 or "n" per dimension), "dict" for a dict, None
        for anything else; an integer or bool array's pattern ends with "int" (numpy
        truncates what is written into it).  None given for a differentiated parameter
        (an optional ``mask=None``) is fixed: the gradient is made for it (its ``is
        None`` tests known), and its gradient is None, as JAX gives for ``None``."""
        np = sys.modules.get("numpy")
        key = tuple("dict" if type(a) is dict else "seq" if entry_mod.is_mixed(a) else
                    argument_pattern(a) if np is not None and type(a) is np.ndarray or
                    entry_mod.is_array_like(a) else
                    _NONE if a is None and i in self._wrt_idx else
                    routed_key(a) or class_key(a)
                    for i, a in enumerate(args[:len(self.params)]))
        if self._fixed:             # (the values this gradient was made for)
            key = tuple(self._fixed.get(p, k) for p, k in zip(self.params, key))
        return key

    def _array_call(self, *args: Any) -> Any:
        """A call with numpy arrays, or with a dict where the code alone read a list
        (``for k in d``): the gradient made for the arrays' ranks and size-1 dimensions
        and for dicts (made once per such key, like ``jax.jit``'s specializations)."""
        np = sys.modules.get("numpy")
        n = len(self.params)
        if any(container_of_arrays(a) for a in args[:n]):
            return self._leaves_call(args)
        given, listed = args, tuple(i for i in self._listable if i < len(args) and
                                    taken(args[i]))
        self._no_lists_for_numbers(args)
        if listed:               # (lists only handed to numpy: arrays, see numpy_args)
            fs = self._result.lowered.fs
            args = arrays_at(args, listed, self.__name__,
                             f'File "{fs.filename}", line {fs.line(fs.tree)}: ', self.params)
        key = self._array_key(args)
        spec = self._specialized(key)
        if spec.lowered.writes_params:
            self._no_shared_writes(spec.lowered, args)
        #: the source of the gradient the last call ran
        self.source = spec.source
        self._shown = spec
        foreign = next((a for a in args[:n] if not isinstance(a, (np.ndarray, np.generic))
                        and entry_mod.is_array_like(a)), None) if np is not None else None
        if foreign is not None:
            self._known_sizes(args[:n])
            args = self._in_library_of(foreign, args)
        if self._containers or "seq" in key or listed:   # (a tuple's gradient: a tuple)
            return self._restore(given, spec.fn(*args), listed)
        return spec.fn(*args)

    def _no_shared_writes(self, lowered: Any, args: tuple) -> None:
        """An array argument ``f`` writes into in place (``a *= 2.0``), given twice or
        sharing memory with another argument (``f(x, x)``, ``f(x, x[1:])``): refused
        (the gradient gives each argument its own adjoint; the other would see the
        write)."""
        np = sys.modules["numpy"]
        arrays = [(p, a) for p, a in zip(self.params, args) if isinstance(a, np.ndarray)]
        for p, a in arrays:
            if p not in lowered.writes_params:
                continue
            other = next((q for q, b in arrays if q != p and np.may_share_memory(a, b)), None)
            if other is not None:
                fs = lowered.fs
                raise ArgumentError(
                    f'File "{fs.filename}", line {fs.line(fs.tree)}: '
                    f"{getattr(self.fn, '__name__', 'f')} writes into its argument {p} in "
                    f"place, and the argument {other} is the same array or shares its "
                    "memory (the write changes both; symgrad gives each argument its "
                    f"own gradient).\n  hint: pass a copy, as {other}=x.copy()")

    def _no_lists_for_numbers(self, args: tuple) -> None:
        """A list given for a parameter the gradient reads as a number, beside arrays
        (``np.sum((w - k) ** 2)`` broadcasts it): refused as ``vjp`` refuses it (the
        gradient made for a number would be the sum of the list's)."""
        if self._result is None:
            return
        for name, kind in self._kinds:
            i = self.params.index(name)
            if kind == "num" and i < len(args) and type(args[i]) in (list, tuple) and \
                    i not in self._listable:
                fs = self._result.lowered.fs
                entry_mod.check_arguments(getattr(self.fn, "__name__", "f"),
                                          f'File "{fs.filename}", line {fs.line(fs.tree)}: ',
                                          [name], ["loose"], (args[i],))

    def _leaves_call(self, args: tuple) -> Any:
        """Records, tuples or dicts holding arrays: the gradient of the function of their
        leaves (:mod:`symgrad.second_records`), where each array is an argument of its
        own, specialized for its pattern as any array argument (code made for the
        numbers a container holds would not sum what a number broadcast against an array
        gets); the gradient in the containers' shapes."""
        g, leaves, diff = function_of_leaves(self.fn, self.params, args, self._wrt_idx,
                                             self.__name__, whole=True)
        inner = _cached(g, diff, self.with_value)
        out = inner(*leaves)
        grads = out[1] if self.with_value else out
        grads = regroup(args, self._wrt_idx, list(grads), self._spec[2], whole=True)
        return (out[0], grads) if self.with_value else grads

    def _known_sizes(self, args: tuple) -> None:
        """Refuse an array whose sizes are not known (a Dask array made of chunks of
        unknown length, shape (nan, 5)): the gradient needs them (``np.broadcast_to(g,
        x.shape)``, the count of a mean), and a nan count would give a nan gradient."""
        for name, a in zip(self.params, args):
            shape = getattr(a, "shape", ())
            if entry_mod.is_array_like(a) and any(d != d for d in shape):
                fs = self._result.lowered.fs
                raise ArgumentError(
                    f'File "{fs.filename}", line {fs.line(fs.tree)}: the argument {name} of '
                    f"{getattr(self.fn, '__name__', 'f')} has sizes that are not known "
                    f"(shape {shape}, as for a Dask array made of chunks of unknown length); "
                    "its gradient needs them (to shape adjoints like the arrays, and to "
                    f"count the elements of a mean).\n  hint: call {name}."
                    "compute_chunk_sizes() first (one pass over the data), or give the "
                    "chunks' shapes where the array is made (da.from_delayed(..., shape=...))")

    def _in_library_of(self, ref: Any, args: tuple) -> tuple:
        """With an argument of another array library (a Dask array), the differentiated
        numpy arrays become arrays of that library (``np.asarray(w, like=X)``), so their
        adjoints (``np.zeros_like(w)``, then ``d_w[0] += ...``) are built there too: lazy
        for Dask (a numpy adjoint computed each element written into it on the spot)."""
        import numpy as np
        out = list(args)
        for i in self._wrt_idx:
            if i < len(out) and type(out[i]) is np.ndarray:
                try:
                    out[i] = np.asarray(out[i], like=ref)
                except TypeError:       # a library without numpy's like= protocol
                    return args
        return tuple(out)

    def _specialized(self, key: tuple) -> Any:
        """The gradient made for arguments with these array patterns (None: not an
        array)."""
        spec = self._specs.get(key)
        if spec is None:
            target, indices, single = self._spec
            if isinstance(self.fn, GradFunction):    # (grad(grad(f)): of the gradient
                target = self.fn._made_for(key)      # made for these arrays)
            patterns = given_patterns(self.params, key)
            with _lock:
                spec = self._specs[key] = transform(target, indices, self.with_value, single,
                                                    patterns=patterns)
        return spec

    def _made_for(self, key: tuple) -> Any:
        """The generated function a call with arguments of array patterns ``key`` runs
        (differentiated again by ``grad(grad(f))``, ``jacobian(grad(f))`` ...)."""
        if self._result is None or all(k is None for k in key[:len(self.params)]):
            return self._generated
        key = tuple(key[:len(self.params)]) + (None,) * (len(self.params) - len(key))
        if self._fixed:
            key = tuple(self._fixed.get(p, k) for p, k in zip(self.params, key))
        made = self._specialized(key).compiled()
        made.__symgrad_primal_params__ = self.params
        return made

    def _refresh(self, *args: Any) -> Any:
        """The functions this gradient was made from were rebound: make it again."""
        self._renew()
        return self(*args)

    def _renew(self) -> None:
        target, indices, single = self._spec
        with _lock:
            result = _default_transform(target, self.params, indices, self.with_value, single,
                                        self._fixed or None)
            self._setup(self.fn, target, self.params, indices, single, self.with_value,
                        result)

    def __repr__(self) -> str:
        kind = "value_and_grad" if self.with_value else "grad"
        return (f"<symgrad {kind} of {getattr(self.fn, '__qualname__', self.fn)} "
                f"wrt ({', '.join(self.wrt)})>")

    def _repr_html_(self) -> str:
        """Jupyter's display: the generated source, highlighted (the source of the last
        array specialization called, as ``.source``)."""
        from .notebook import source_html
        return source_html(self.source)

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self if obj is None else types.MethodType(self, obj)

    def __reduce__(self) -> Any:
        single = self._spec[2]          # (one parameter: its gradient, not a 1-tuple)
        wrt = self.wrt[0] if single and len(self.wrt) == 1 else list(self.wrt)
        return (type(self), (self.fn, wrt, self.with_value, self._fixed or None))

    def save(self, path: str) -> None:
        """Write the generated gradient as a standalone module (standard library only,
        plus numpy when the original used it)."""
        if self._shown is None:            # (one per value: see fixed_call)
            from .fixed_call import no_single_function
            raise no_single_function(self)
        with open(path, "w") as fh:
            fh.write(module_source(self))


#: the key of None given for a differentiated parameter (see GradFunction._array_key)
_NONE = static_args.fixed(None, True)


def _has_fields(kind: Any, depth: int = 0) -> bool:
    k = kind.find()
    if k.tag == "map" and k.attrs:
        return True
    if k.tag not in ("list", "map") or depth > 20:
        return False
    inner = list((k.fields or {}).values()) + ([k.elem] if k.elem is not None else [])
    return any(_has_fields(f, depth + 1) for f in inner)


def check_kind(p: Any, lowered: Any, uses_numpy: bool) -> str | None:
    """The kind an argument for parameter ``p`` is checked as (``entry.check_arguments``;
    None: not checked): "num", "list", "parts" (a list read at constant indices: a call
    may give a tuple of parts), "struct" (fields read as attributes, at any depth),
    "dict", "seq" (a tuple of parts), "loose" (only handed to numpy: a list or complex
    number is refused; see also :func:`numpy_only`), "any" (not read as a value: its
    zeros in its types)."""
    k = p.kind.find()
    if _has_fields(k):
        return "struct"
    if k.tag == "list" and p.name in getattr(lowered, "by_position", ()):
        return "parts"
    if k.tag in ("num", "list"):
        return k.tag
    if k.tag == "map":
        return "seq" if p.name in (lowered.patterns or {}).get(SEQ_PARAMS, ()) else "dict"
    if k.tag in (None, "array") and uses_numpy:
        return "loose"
    return "any" if k.tag is None else None


def numpy_only(lowered: Any) -> frozenset:
    """The parameters the lowered function reads only as numpy's arguments (found once;
    see :mod:`symgrad.numpy_args`)."""
    found = getattr(lowered, "numpy_only", None)
    if found is None:
        found = lowered.numpy_only = numpy_only_params(
            lowered.fs, [p.name for p in lowered.params])
    return found


def _constant(fixed: dict, name: str) -> bool:
    """Is ``name`` a constant of a gradient made for the values ``fixed``?"""
    f = fixed.get(name)
    return f is not None and not f.at_use


def _default_transform(target: Any, params: list[str], indices: list[int], with_value: bool,
                       single: bool, fixed: dict | None = None) -> Any:
    """The gradient made before any call: for numbers and lists; for a function using
    numpy that cannot take numbers there, the one for arrays of any shape (``fixed``:
    the parameters it is made for the values of, see :mod:`symgrad.fixed_call`)."""
    fixed = fixed or {}
    base: dict = dict(static_args.patterns_of(fixed))
    while True:             # (a parameter the code shows is a dict only late: made again)
        try:
            return _first_transform(target, params, indices, with_value, single, fixed, base)
        except SymgradError as exc:
            name = getattr(exc, "dict_param", None)
            if name is None or name in base.get(DICT_PARAMS, ()):
                raise
            base[DICT_PARAMS] = base.get(DICT_PARAMS, frozenset()) | {name}


def _first_transform(target: Any, params: list[str], indices: list[int], with_value: bool,
                     single: bool, fixed: dict, base: dict, search: bool = True) -> Any:
    """_default_transform's two tries, with ``base`` patterns (fixed values, dicts), and
    (``search``) between them the tries with parameters whose items differ in kind made
    tuples of them (``W, b = params``: see :func:`symgrad.pipeline.tuple_search`)."""
    try:
        return transform(target, indices, with_value, single, lazy=True,
                         patterns=base or None)
    except SymgradError as exc:
        first = exc
    if search and not getattr(first, "dict_param", None):
        made = tuple_search(lambda seqs: _first_transform(
            target, params, indices, with_value, single, fixed,
            {**base, SEQ_PARAMS: base.get(SEQ_PARAMS, frozenset()) | seqs}, False), first)
        if made is not None:
            return made
    # numpy code, or code that may be (``(x ** 2)[0]`` reads a number as a list:
    # right for an array argument; ``y[1:] = a`` of ``y = x.copy()`` reads ``a`` as
    # a list, and the result then as one)
    if getattr(first, "dict_param", None) or not (_uses_numpy(target) or getattr(
            first, "about_lists", False) and search):   # (a tuple search's try of code
        raise first                # without numpy reads lists and tuples, not arrays)
    try:
        return transform(target, indices, with_value, single,
                         patterns={**{p: None for p in params if not _constant(fixed, p)
                                      and p not in base.get(DICT_PARAMS, ())}, **base})
    except SymgradError as second:
        if not search:      # (the first conflict names the search's next try)
            raise first from None
        # the arrays' own error, when the first was only about reading the code as
        # numbers and lists (a kind conflict, a list handed to numpy)
        raise (second if getattr(first, "about_lists", False) and _uses_numpy(target)
               else first) from None


def _uses_numpy(fn: Any) -> bool:
    code = getattr(fn, "__code__", None)
    glb = getattr(fn, "__globals__", {})
    if code is None:
        return False
    return any(getattr(glb.get(n), "__name__", "") == "numpy" for n in code.co_names)


def module_source(gf: GradFunction) -> str:
    """The text of a standalone module defining ``gf``'s generated function.

    What the function reads from its module is imported from there (or written as a
    literal); what symgrad added (``math``, helper functions) is imported or defined.
    """
    em = gf._shown.emitted
    own = helpers.bindings({n: em.globals[n] for n in em.global_names if n in em.globals},
                           own_module=getattr(gf.fn, "__module__", None))
    added = helpers.bindings(helpers.cell_values(em.freevars))
    missing = own[3] + added[3]
    if missing:
        raise SymgradError(f"cannot save: the generated code uses {missing[0]}, which is not "
                           "importable from a module or writable as a literal")
    lines = [f'"""Generated by symgrad: {gf!r}."""', ""]
    lines += sorted(set(own[0] + added[0])) + [""] + own[1] + added[1]
    for d in own[2] + added[2]:
        lines += ["", "", d.rstrip()]
    lines += ["", "", em.source]
    return "\n".join(lines)


def _params_of(fn: Any) -> list[str]:
    if isinstance(fn, GradFunction):
        return list(fn.params) if not fn.with_value else list(fn.params)
    prim = getattr(fn, "__symgrad_primal_params__", None)
    if prim is not None:
        return list(prim)
    if type(fn) is types.FunctionType and not {"__wrapped__",
                                               "__signature__"} & fn.__dict__.keys():
        return _code_params(fn.__code__)      # (what inspect.signature finds, 30x faster)
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []


def _code_params(code: types.CodeType) -> list[str]:
    """A function's parameter names in signature order, from its code object: the
    positional ones, ``*args``, the keyword-only ones, ``**kwargs``."""
    n, k, names = code.co_argcount, code.co_kwonlyargcount, code.co_varnames
    star = names[n + k:n + k + 1] if code.co_flags & inspect.CO_VARARGS else ()
    after = n + k + len(star)
    stars = names[after:after + 1] if code.co_flags & inspect.CO_VARKEYWORDS else ()
    return [*names[:n], *star, *names[n:n + k], *stars]


def _resolve_wrt(params: list[str], wrt: Wrt, fn: Any) -> tuple[list[int], bool]:
    def index(w: int | str) -> int:
        if isinstance(w, bool):
            raise SymgradError(f"wrt={w!r}: give a parameter name or index")
        if isinstance(w, int):
            if not -len(params) <= w < len(params):
                raise SymgradError(f"wrt={w}: {getattr(fn, '__name__', 'f')} has "
                                   f"{len(params)} parameters {tuple(params)}")
            return w % len(params)
        if w not in params:
            raise SymgradError(f"wrt={w!r}: {getattr(fn, '__name__', 'f')} has no parameter "
                               f"{w!r}; its parameters are {tuple(params)}")
        return params.index(w)
    if wrt is None:
        return list(range(len(params))), len(params) == 1
    if isinstance(wrt, (int, str)):
        return [index(wrt)], True
    return [index(w) for w in wrt], False


def _cached(fn: Any, wrt: Wrt, with_value: bool) -> GradFunction:
    fn = as_python(fn)                      # (grad(math.sin): a function that calls it)
    if has_varargs(fn):
        return _by_arity(fn, wrt, with_value)
    key = (_wrt_key(wrt), with_value)
    made = memo(_cache, fn, key, lambda: GradFunction(fn, wrt, with_value))
    # (its source, for hvp, is read before a call would renew it)
    if made._result is not None and entry_mod.stale(made._result.lowered.guards):
        made._renew()
    return made


def _wrt_key(wrt: Wrt) -> Any:
    return wrt if not isinstance(wrt, list) else tuple(wrt)


def memo(cache: Any, fn: Any, key: tuple, make: Callable[[], Any]) -> Any:
    """``cache[fn][key]``, made by ``make()`` the first time (for one thread at a time;
    a function that cannot be a weak key is not cached)."""
    try:                                            # the fast path: already made
        return cache[fn][key]
    except (KeyError, TypeError):
        pass
    with _lock:
        try:
            per_fn = cache.setdefault(fn, {})
        except TypeError:
            per_fn = {}
        if key not in per_fn:
            per_fn[key] = make()
        return per_fn[key]


def _wrt_or_argnums(wrt: Wrt, argnums: Any) -> Wrt:
    if argnums is None:
        return wrt
    if wrt is not None:
        raise SymgradError("give wrt= or argnums=, not both")
    return list(argnums) if isinstance(argnums, (tuple, list)) else argnums


def grad(fn: Callable[..., Any] | None = None, wrt: Wrt = None, *,
         argnums: int | Sequence[int] | None = None, has_aux: bool = False) -> Any:
    """The gradient of ``fn``, generated as readable Python source.

    ``wrt`` names the parameters (by name or index) to differentiate: one of
    them gives one derivative, a sequence gives a tuple in that order; the
    default is every parameter (a single value for a one-parameter function).
    Usable as ``@grad`` and ``@grad(wrt=...)``.

    >>> def f(x, y):
    ...     return x * x * y
    >>> grad(f)(3.0, 2.0)
    (12.0, 9.0)
    >>> grad(f, wrt="y")(3.0, 2.0)
    9.0
    >>> grad(f, argnums=(0,))(3.0, 2.0)     # JAX's spelling works too
    (12.0,)

    ``has_aux=True``: ``fn`` returns ``(output, aux)``; the call returns ``(the
    gradient of output, aux)`` (``value_and_grad``: ``((output, aux), gradient)``).
    """
    wrt = _wrt_or_argnums(wrt, argnums)
    if has_aux:
        from .auxiliary import grad_with_aux
        return grad_with_aux(fn, lambda main: _cached(main, wrt, True), False)
    if fn is None:
        return lambda f: _cached(f, wrt, False)
    return _cached(fn, wrt, False)


def _by_arity(fn: Any, wrt: Wrt, with_value: bool) -> Any:
    """``grad`` of a function with ``*args``: one gradient per number of arguments."""
    from .varargs import ByArity
    return memo(_cache, fn, ("arity", _wrt_key(wrt), with_value), lambda: ByArity(
        fn, lambda fixed: _cached(fixed, wrt, with_value)))


def value_and_grad(fn: Callable[..., Any] | None = None, wrt: Wrt = None, *,
                   argnums: int | Sequence[int] | None = None, has_aux: bool = False) -> Any:
    """Like :func:`grad`, but the call returns ``(value, gradient)``.

    >>> def f(x):
    ...     return x ** 3
    >>> value_and_grad(f)(2.0)
    (8.0, 12.0)
    """
    wrt = _wrt_or_argnums(wrt, argnums)
    if has_aux:
        from .auxiliary import grad_with_aux
        return grad_with_aux(fn, lambda main: _cached(main, wrt, True), True)
    if fn is None:
        return lambda f: _cached(f, wrt, True)
    return _cached(fn, wrt, True)


def show(fn: Any, wrt: Wrt = None, file: Any = None, *, mode: str = "grad",
         stage: str | None = None) -> None:
    """Print the generated gradient source of ``fn`` (highlighted on a terminal).

    ``mode`` picks what is generated: ``"grad"`` (the default), ``"jvp"`` (the tangent
    sweep), ``"vjp"``, ``"hessian"`` or ``"hvp"`` (the tangent sweep of the gradient).
    ``stage`` prints an intermediate form of the gradient instead: ``"ir"`` (the
    lowered function), ``"reverse"`` (after the reverse pass) or ``"optimized"``.

    >>> def f(x):
    ...     return 3 * x
    >>> show(f)  # doctest: +NORMALIZE_WHITESPACE
    def d_f(x, d_out=1.0):
        \"\"\"Gradient of f with respect to x (generated by symgrad).\"\"\"
        # grad of: return 3 * x
        d_x = d_out * 3
        return d_x
    """
    out = file or sys.stdout
    fn = as_python(fn)
    if stage is not None:
        from .pipeline import stages
        forms = stages(fn._generated if isinstance(fn, GradFunction) else fn,
                       None if wrt is None else _resolve_wrt(_params_of(fn), wrt, fn)[0])
        if stage not in forms:
            raise SymgradError(f"stage={stage!r}: use one of {', '.join(map(repr, forms))}")
        print(forms[stage], file=out)
        return
    if mode != "grad":
        from .modes import linearize_source
        text = linearize_source(fn, mode, wrt)
    else:
        gf = fn if isinstance(fn, GradFunction) else grad(fn, wrt)
        text = gf.source
        n = natural_arity(fn)
        if not text and n is not None:          # (show(math.sin): its one argument)
            text = gf.for_arity(n).source
        if not text and has_varargs(fn):
            raise SymgradError(f"{getattr(fn, '__name__', 'f')} takes *args: its gradient "
                               "depends on how many arguments it is given; show "
                               "grad(f).for_arity(n) for n arguments")
    if getattr(out, "isatty", lambda: False)():
        try:
            from pygments import highlight
            from pygments.formatters import TerminalFormatter
            from pygments.lexers import PythonLexer
            text = highlight(text, PythonLexer(), TerminalFormatter())
        except ImportError:
            pass
    print(text, end="", file=out)


# Called inside a function being differentiated, these are made while lowering (see
# symgrad.lower_call.transform_call).
for _fn in (grad, value_and_grad):
    _fn.__symgrad_transform__ = "function"  # type: ignore[attr-defined]
