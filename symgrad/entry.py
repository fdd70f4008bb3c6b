"""The checked entry of a generated gradient: what ``grad(f)(...)`` runs first.

``grad(f)`` returns a :class:`~symgrad.api.GradFunction`, a ``functools.partial``
around a small generated *entry* function, so calling it costs one C-level call
plus the entry's own checks, written as straight-line Python:

* every differentiated number must be a ``float`` (or an ``int``, a numpy float ...;
  anything else -- a ``bool``, a ``str``, a ``Decimal``, an array -- is an
  :class:`~symgrad.errors.ArgumentError` with the parameter's name): the fast path
  is one chained comparison, ``float is type(x) is type(y) ...``, the exact rule runs
  only when it fails;
* the functions the gradient was made from (helpers it inlined, read from globals or
  closures) must still be the ones those names hold; if one was rebound, the
  gradient is made again from the current code, as ``f`` itself would call the new
  one.

The entry is not part of ``g.source`` (which is the gradient alone, ``g.fast``).
Where the tests fit in one line (numbers, dicts: no list whose bad element shows
only as a TypeError inside the gradient), :func:`fused_source` puts them in the
gradient's first line instead, so a call of floats runs one function; the entry
itself is then made only when a test fails, and tells which one it was.  Where
``symgrad/_speedups.c`` was built, the numbers are not tested in that line but
before the call, by the object the partial calls (:data:`_CHECKED`), on the
caller's own arguments; with nothing else to test, a call of floats then runs the
generated function itself, the very one ``g.fast`` returns.
"""

from __future__ import annotations

import copy
import linecache
import numbers
import os
import sys
import re
from typing import Any, Callable

from .errors import ArgumentError, NonScalarError
from .numpy_args import taken
from .param_classes import class_key
from .second_records import container_of_arrays

__all__ = ["make_entry", "check_arguments", "fused_source"]

_counter = [0]


def is_mixed(v: Any) -> bool:
    """A list or tuple of values of different kinds: a number beside a container
    (``(scale, [w0, w1])``), a list of numbers beside a list of rows (``(w, T)``), a
    dict beside a list ..., which a gradient made for a list of one kind of value
    cannot take (``w[0] * T[0][0]`` would be read as a list repeated); made again for
    it (see ``symgrad.lower_loop``'s ``container_param``).  Each item's kind is read
    along its first elements."""
    if type(v) not in (list, tuple) or len(v) < 2:
        return False
    if all(type(e) is float for e in v):
        return False
    shapes = {_shape_of(e) for e in v}
    shapes.discard("l")                 # (an empty list: a list of any kind)
    return len(shapes) > 1 and not shapes <= {"n", "o"}


def _shape_of(x: Any) -> str:
    """``"n"`` for a number or an array (one kind to symgrad: a number where an array
    may be is an array), ``"l"`` + its first element's for a list or tuple, ``"d"``
    for a dict, ``"o"`` for anything else."""
    out = ""
    while type(x) in (list, tuple):
        out += "l"
        if not x:
            return out
        x = x[0]
    if isinstance(x, numbers.Real) and not isinstance(x, bool) or hasattr(x, "shape"):
        return out + "n"
    return out + ("d" if isinstance(x, dict) else "o")


def _refused_loose() -> tuple:
    """The types refused for a parameter handed to numpy: lists and tuples (see
    ``_checked_call``) and complex numbers, Python's and numpy's."""
    np = sys.modules.get("numpy")
    extra = (np.complex64, np.complex128, np.clongdouble) if np is not None else ()
    return (list, tuple, complex) + extra


def is_complex(v: Any) -> bool:
    """A complex number (Python's or numpy's), which symgrad refuses where a number is
    differentiated (``np.imag``, ``abs`` ... would need its two real parts)."""
    return isinstance(v, complex) or type(v).__module__ == "numpy" and getattr(
        v, "ndim", None) == 0 and getattr(getattr(v, "dtype", None), "kind", "") == "c"


def _is_number(v: Any) -> bool:
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return False
    if isinstance(v, numbers.Real):
        return True
    return type(v).__module__ == "numpy" and getattr(v, "ndim", None) == 0 and \
        getattr(getattr(v, "dtype", None), "kind", "") in "fiu"


def _is_list(v: Any) -> bool:
    return isinstance(v, (list, tuple)) or (type(v).__module__ == "numpy" and
                                            getattr(v, "ndim", 0) >= 1)


_FAST_TYPE = {"num": "float", "list": "list", "dict": "dict", "any": "float"}


def _c_floats() -> Callable[..., bool] | None:
    """``floats(*args)``, the float test in C (``symgrad/_speedups.c``, 6x fewer machine
    instructions than ``type(x)`` per argument), or None: not built, or
    ``SYMGRAD_PURE_PYTHON`` set (then the same test is made in Python)."""
    if os.environ.get("SYMGRAD_PURE_PYTHON"):
        return None
    try:
        from ._speedups import floats
    except ImportError:
        return None
    return floats


_FLOATS = _c_floats()


def _c_checked() -> Callable[..., Any] | None:
    """``checked(fast, slow, positions)`` (``symgrad/_speedups.c``): the callable a
    gradient is called through, which tests that the arguments at ``positions`` are
    floats before calling ``fast`` (else ``slow``), or None, as for :func:`_c_floats`."""
    if _FLOATS is None:
        return None
    from ._speedups import checked
    return checked


_CHECKED = _c_checked()
#: arguments per call of ``floats``: a call of more is compiled as a list built one
#: argument at a time, four times slower than the call itself
_CHUNK = 28


def same_structure(like: Any, grad: Any) -> Any:
    """``grad`` (lists, dicts and ``_Fields`` of adjoints) in the types of the argument
    ``like``: tuples for tuples, the argument's class for a NamedTuple, a dataclass or an
    object (a copy of it with the adjoints as its fields).  Unchanged (the same lists,
    sharing as the arguments share) when nothing needs converting."""
    if grad is None:                 # a field that is not a number (a str, None ...)
        return like
    if type(grad).__name__ == "_Fields":
        fields = {k: same_structure(getattr(like, k), v) for k, v in vars(grad).items()}
        if isinstance(like, tuple):
            return type(like)(**fields)
        new = copy.copy(like)
        for k, v in fields.items():
            object.__setattr__(new, k, v)
        return new
    if not _needs_converting(like, grad):
        return grad
    if isinstance(grad, list) and type(like).__module__ == "numpy" and \
            getattr(like, "ndim", 0) >= 1:      # an ndarray indexed as a list: an ndarray
        import numpy
        return numpy.asarray(grad, dtype=float).reshape(like.shape)
    if isinstance(grad, dict):
        return {k: same_structure(like[k], v) for k, v in grad.items()}
    items = [same_structure(a, g) for a, g in zip(like, grad)]
    if isinstance(like, tuple):
        return type(like)(*items) if hasattr(like, "_fields") else type(like)(items)
    return items


def _needs_converting(like: Any, grad: Any) -> bool:
    if type(grad).__name__ == "_Fields":
        return True
    if isinstance(grad, list):
        return type(like) is not list or any(
            _needs_converting(a, g) for a, g in zip(like, grad))
    if isinstance(grad, dict):
        return any(_needs_converting(like[k], g) for k, g in grad.items() if k in like)
    return False


def shares(*values: Any) -> bool:
    """Do two of ``values`` (lists, dicts) hold a list or dict in common (``f(xs, [xs])``,
    ``f(W[0], W)``)?  Python's reference semantics then make them one value."""
    seen: set[int] = set()
    for v in values:
        ids: set[int] = set()
        _containers(v, ids)
        if ids & seen:
            return True
        seen |= ids
    return False


def _containers(v: Any, ids: set[int]) -> None:
    if type(v) in (list, dict) and id(v) not in ids:
        ids.add(id(v))
        items = list(v.values()) if type(v) is dict else v
        if items and type(items[0]) in (list, dict) or type(v) is dict:
            for e in items:
                if type(e) is list and e and type(e[0]) not in (list, dict):
                    ids.add(id(e))         # a row of numbers (inlined: the common case)
                else:
                    _containers(e, ids)


def is_array_like(*values: Any) -> bool:
    """Is one of ``values`` an array of another library that follows numpy's protocols
    (``__array_function__`` and a shape), such as a Dask array?"""
    return any(hasattr(type(v), "__array_function__") and hasattr(v, "shape")
               and not isinstance(v, (int, float)) for v in values)


def check_arguments(fname: str, where: str, names: list[str], kinds: list[str],
                    values: tuple, deep: bool = False) -> None:
    """The exact argument rule (the slow path of an entry): raises ArgumentError.  With
    ``deep``, the elements of lists are checked too (after a TypeError)."""
    for name, kind, v in zip(names, kinds, values):
        if deep and kind in ("list", "parts") and _is_list(v):
            bad = _bad_element(v)
            if bad is not None:
                path, elem = bad
                raise ArgumentError(
                    f"{where}argument {name!r} of {fname} holds {type(elem).__name__} "
                    f"{_short(elem)} at {name}{path}; symgrad differentiates with respect to "
                    "lists of numbers (float or int).\n  hint: convert the elements with "
                    "float(...)")
        if kind == "listable" and type(v) in (list, tuple):    # (see numpy_args)
            raise ArgumentError(
                f"{where}argument {name!r} of {fname} is a {type(v).__name__} {_short(v)}, "
                f"which {fname} hands to numpy, but numpy makes no array of numbers of it "
                "(rows of different lengths, or items that are not float or int numbers)."
                f"\n  hint: pass np.array({name}, dtype=float)")
        if kind in ("num", "loose") and type(v) in (list, tuple):
            raise ArgumentError(
                f"{where}argument {name!r} of {fname} is a {type(v).__name__} {_short(v)}, "
                f"which {fname} uses as a number or hands to numpy (numpy computes on "
                f"arrays; symgrad differentiates with respect to arrays, not lists given "
                f"to numpy).\n  hint: pass np.array({name}) (or a float)")
        if kind == "num" and not _is_number(v) or kind == "loose" and is_complex(v):
            what = f"{type(v).__module__}.{type(v).__qualname__}" if type(
                v).__module__ not in ("builtins",) else type(v).__name__
            extra = ""
            if type(v).__module__ == "numpy":
                extra = (f" {fname} uses {name} as a number; pass float({name}) for one "
                         "number, or a list to be indexed")
            raise ArgumentError(
                f"{where}argument {name!r} of {fname} is {what} {_short(v)}; symgrad "
                "differentiates "
                "with respect to numbers (float or int) and lists of numbers." + extra +
                f"\n  hint: pass a float, or leave {name!r} out of wrt=...")
        if kind == "seq" and not isinstance(v, (list, tuple)):
            raise ArgumentError(
                f"{where}argument {name!r} of {fname} is {type(v).__name__} {_short(v)}, but "
                f"{fname} reads it as a tuple of values of different kinds ({name}[0], "
                f"{name}[1] ...).\n  hint: pass a tuple (or list)")
        if kind == "dict" and not isinstance(v, dict):
            raise ArgumentError(
                f"{where}argument {name!r} of {fname} is {type(v).__name__} {_short(v)}, but "
                f"{fname} reads it by key.\n  hint: pass a dict")
        if kind == "struct" and isinstance(v, (int, float, str)):
            raise ArgumentError(
                f"{where}argument {name!r} of {fname} is {type(v).__name__} {_short(v)}, but "
                f"{fname} reads its fields as attributes.\n  hint: pass a NamedTuple, a "
                "dataclass or an object with those attributes")
        if kind in ("list", "parts") and not _is_list(v):
            hint = f"loop over {name}.items(), {name}.keys() or {name}.values() (a plain " \
                f"'for k in {name}' and indices from a parameter read it as a list)" \
                if isinstance(v, dict) else "pass a list (or tuple) of numbers"
            raise ArgumentError(
                f"{where}argument {name!r} of {fname} is {type(v).__name__} {_short(v)}, but "
                f"{fname} uses it as a list.\n  hint: {hint}")


def _bad_element(v: Any, path: str = "") -> tuple[str, Any] | None:
    for k, e in enumerate(v):
        if _is_list(e) and type(e).__module__ != "numpy":
            found = _bad_element(e, f"{path}[{k}]")
            if found is not None:
                return found
        elif not _is_number(e) and not _is_list(e):
            return f"{path}[{k}]", e
    return None


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def make_entry(fname: str, params: list[str], defaults: tuple, checks: list[tuple[str, str]],
               target: Callable[..., Any], guards: list, refresh: Callable[..., Any],
               label: str, where: str = "", arrays: Callable[..., Any] | None = None,
               n_primal: int = 0, restore: Callable[..., Any] | None = None,
               shared: tuple[list[str], Callable[..., Any]] | None = None,
               arrays_first: bool = True, listable: frozenset = frozenset()
               ) -> Callable[..., Any]:
    """Compile the entry function for a gradient.

    ``checks`` are ``(parameter, kind)`` pairs ("num", "list", "dict" or "struct") of
    the differentiated parameters; ``guards`` are ``(where, object)`` pairs from
    lowering; ``arrays`` takes calls with an array among the arguments (to the gradient
    specialized for them), tested first for a function using numpy
    (``arrays_first``), else only when the fast check fails; ``restore`` puts a gradient
    in the types of the arguments; ``shared`` takes calls whose list arguments share;
    a list given for a parameter in ``listable`` (read only as numpy's argument, see
    :mod:`symgrad.numpy_args`) goes to ``arrays`` too.
    """
    ns: dict[str, Any] = {"_target": target, "_refresh": refresh,
                          "_check_arguments": check_arguments,
                          "_NonScalarError": NonScalarError}
    for i, d in enumerate(defaults):
        ns[f"_d{i}"] = d
    arglist = ", ".join(params)
    primal = params[:n_primal or len(params)]
    lines = [f"def {fname}({_signature(params, defaults)}):"]
    lines += _dispatch(ns, arglist, primal, arrays if arrays_first else None, shared, guards)
    numbers = {p for p, k in checks if k in ("num", "loose")}
    containers = [p for p in primal if p not in numbers]
    if containers:      # a record, tuple or dict holding arrays: to the arrays' gradient
        ns["_holds_arrays"], ns["_arrays"] = container_of_arrays, arrays
        test = " or ".join(f"_holds_arrays({p})" for p in containers)
        lines += [f"    if {test}:", f"        return _arrays({arglist})"]
    lines += _checked_call(ns, fname, arglist, primal, checks, where, arrays, restore,
                            params, listable)
    text = "\n".join(lines) + "\n"
    _counter[0] += 1
    filename = f"<symgrad argument check of {label} #{_counter[0]}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(compile(text, filename, "exec"), ns)
    return ns[fname]


def _dispatch(ns: dict, arglist: str, primal: list[str], arrays: Any, shared: Any,
              guards: list) -> list[str]:
    """The entry's first lines: arrays to their specializations, shared lists to the
    gradient that shares, rebound helpers to a new transformation."""
    lines = []
    guard_text = _guards(guards, ns)        # (first: arrays' specializations are made
    if guard_text:                          # from the same functions)
        lines += [f"    if {guard_text} != _expected:", f"        return _refresh({arglist})"]
        ns["_expected"] = tuple(obj for _, obj in guards)
    if arrays is not None:
        import numpy
        ns["_routed"], ns["_arrays"] = _ROUTED or _routed(numpy), arrays
        test = " or ".join(f"type({p}) in _routed" for p in primal)
        lines += [f"    if {test}:", f"        return _arrays({arglist})"]
    if shared is not None:     # lists shared between parameters: the gradient that shares
        names_shared, call_shared = shared
        ns["_shares"], ns["_shared"] = shares, call_shared
        lines += [f"    if _shares({', '.join(names_shared)}):",
                  f"        return _shared({arglist})"]
    return lines


#: the types an entry sends to the specialized gradients first: numpy arrays, and numpy's
#: generators of random numbers (their draws are arrays: ``rng.normal(size=3)``)
_ROUTED: frozenset = frozenset()


def _routed(numpy: Any) -> frozenset:
    global _ROUTED
    _ROUTED = frozenset({numpy.ndarray, numpy.random.Generator, numpy.random.RandomState})
    return _ROUTED


def _checked_call(ns: dict, fname: str, arglist: str, primal: list[str], checks: list,
                  where: str, arrays: Any, restore: Any, params: list[str],
                  listable: frozenset) -> list[str]:
    """The fast path (one ``type(x)`` test per argument) and, when it fails, one call of
    the slow path (:func:`_slow_path`: the exact rule); a bad list element shows as a
    TypeError, then the rule names it ("loose": a parameter of a numpy function whose
    kind only the call tells, checked then)."""
    names = [p for p, _ in checks]
    kinds = [k for _, k in checks]
    ns["_names"], ns["_kinds"], ns["_where"] = names, kinds, where
    check = f"_check_arguments({fname!r}, _where, _names, _kinds, ({', '.join(names)},)"
    strict = [c for c in checks if c[1] != "loose"]
    fast = "True" if any(k in ("struct", "seq", "parts") for _, k in strict) else \
        _fast_test([(p, k) for p, k in strict if k != "struct"], ns)   # (fields: slow)
    deep = any(k in ("list", "loose", "parts") for k in kinds)
    lines = []
    loose = [p for p, k in checks if k == "loose"]
    if loose or fast:
        ns["_slow"] = _slow_path(fname, where, names, kinds, [params.index(p) for p in names],
                                 len(primal), ns["_target"], arrays if arrays else None,
                                 restore if restore is not None and any(
                                     k != "num" for _, k in strict) else None, deep,
                                 tuple(p in listable for p in names))
    if loose:          # a list handed to numpy: refused before it runs (it may run, and
        ns["_seqs"] = _refused_loose()   # give an array for a list's gradient); a complex too
        lines += [f"    if {' or '.join(f'type({p}) in _seqs' for p in loose)}:",
                  f"        return _slow({arglist})"]
    if fast:
        lines.append(f"    if {fast}:")
        lines.append(f"        return _slow({arglist})")
        if fast == "True":
            return lines
    if deep:
        return lines + ["    try:", f"        return _target({arglist})",
                        "    except (TypeError, AttributeError, _NonScalarError):",
                        f"        {check}, True)", "        raise"]
    return lines + [f"    return _target({arglist})"]


def _slow_path(fname: str, where: str, names: list[str], kinds: list[str], at: list[int],
               n_primal: int, target: Callable[..., Any], arrays: Any, restore: Any,
               deep: bool, listable: tuple) -> Callable[..., Any]:
    """What an entry runs when an argument is not of its kind's usual type: another
    array type that follows numpy's protocols (dask ...) goes to the array gradient;
    else the exact rule (an ``int`` passes, a ``bool`` does not) and the gradient, in
    the arguments' types when ``restore`` is given (tuples, NamedTuples, dataclasses).
    (One call in the entry, however many parameters: its text compiles quickly.)"""

    def slow(*args: Any) -> Any:
        values = tuple(args[i] for i in at)
        if arrays is not None and (is_array_like(*args[:n_primal]) or any(
                k in ("list", "parts") and type(v) is dict or k != "seq" and is_mixed(v)
                or listed and taken(v)
                or k == "struct" and class_key(v) is not None or v is None
                for k, v, listed in zip(kinds, values, listable)) or any(
                    container_of_arrays(a) for a in args[:n_primal])):
            return arrays(*args)    # (arrays, a dict read as a list, a tuple of different
        #                             kinds of value, a list numpy takes, a record whose
        #                             class has properties or methods, None: specialized;
        #                             a container holding arrays: through its leaves)
        check_arguments(fname, where, names, kinds, values)
        if restore is None and not deep:
            return target(*args)
        try:
            return restore(args, target(*args)) if restore is not None else target(*args)
        except (TypeError, NonScalarError) if restore is not None else \
                (TypeError, AttributeError, NonScalarError):
            check_arguments(fname, where, names, kinds, values, True)
            raise
    return slow


def _fast_test(checks: list[tuple[str, str]], ns: dict[str, Any], pre: str = "") -> str:
    """True when an argument is not of its kind's usual type: ``not (_floats(x, y) and
    list is type(xs))``, the numbers tested in C where ``_speedups`` was built, else (and
    for the other kinds) one chained comparison per type (as fast as one ``type(x) is not
    float`` per argument joined by ``or``, and quicker to compile); ``pre``: the builtins
    are read from names with this prefix; the C test is bound in ``ns``."""
    groups: dict[str, list[str]] = {}
    for p, k in checks:
        groups.setdefault(_FAST_TYPE[k], []).append(p)
    parts = []
    for t, names in groups.items():
        if t == "float" and _FLOATS is not None:
            ns[f"{pre or '_'}floats"] = _FLOATS
            parts += [f"{pre or '_'}floats({', '.join(names[i:i + _CHUNK])})"
                      for i in range(0, len(names), _CHUNK)]
        else:
            parts.append(f"{pre}{t} is " + " is ".join(f"{pre}type({p})" for p in names))
    return "not (" + " and ".join(parts) + ")" if parts else ""


#: the prefix of the names a gradient's own argument check reads (bound in its closure)
_PRE = "_sg_"


def fused_source(source: str, params: list[str], primal: list[str],
                 checks: list[tuple[str, str]], arrays_first: bool, shared: Any,
                 guards: list, floats_tested: bool = False
                 ) -> tuple[str | None, dict, str] | None:
    """The gradient's ``source`` with the entry's tests in place of its docstring line,
    in one line, ``if <an argument is not a float> or <...>: return _sg_entry(...)``, the
    values that line reads and the docstring: so a call of numbers runs one function,
    and every other line is the gradient's own.  ``_sg_entry`` is the whole entry
    (built when first needed), which tells which test it was.  None when the
    gradient's fast path is not one call (list arguments, whose bad elements show as a
    TypeError inside it; objects with fields) or a name would clash.  ``floats_tested``:
    the caller tests the numbers (:data:`_CHECKED`), so the line leaves them out; with
    nothing else to test there is no line (the text is None: the gradient as it is)."""
    lines = source.split("\n")
    doc = lines[1][7:-3] if len(lines) > 2 else ""
    if len(lines) < 3 or lines[1] != f'    """{doc}"""' or '"""' in doc or _PRE in source or any(
            k in ("list", "loose", "struct", "seq", "parts") for _, k in checks):
        return None
    values: dict[str, Any] = {f"{_PRE}type": type, f"{_PRE}float": float, f"{_PRE}list": list,
                              f"{_PRE}dict": dict}
    tests = []
    if arrays_first:
        import numpy
        values[f"{_PRE}routed"] = _ROUTED or _routed(numpy)
        tests += [f"{_PRE}type({p}) in {_PRE}routed" for p in primal]
    if shared is not None:
        values[f"{_PRE}shares"] = shares
        tests.append(f"{_PRE}shares({', '.join(shared[0])})")
    guard_text = _guards(guards, values, _PRE)
    if guard_text:
        values[f"{_PRE}expected"] = tuple(obj for _, obj in guards)
        tests.append(f"{guard_text} != {_PRE}expected")
    fast = _fast_test([c for c in checks if c[1] != "num"] if floats_tested else checks,
                      values, _PRE)
    if fast:
        tests.append(fast)
    numbers = {p for p, k in checks if k in ("num", "loose")}
    held = [p for p in primal if p not in numbers]
    if held:                        # (a dict holding arrays: to the entry, see make_entry)
        values[f"{_PRE}holds_arrays"] = container_of_arrays
        tests += [f"{_PRE}holds_arrays({p})" for p in held]
    if not tests:
        return (None, {}, doc) if floats_tested else None
    lines[1] = f"    if {' or '.join(tests)}: return {_PRE}entry({', '.join(params)})"
    used = {k: v for k, v in values.items() if re.search(rf"\b{k}\b", lines[1])}
    return "\n".join(lines), used, doc


def _signature(params: list[str], defaults: tuple) -> str:
    k = len(params) - len(defaults)
    return ", ".join(p if i < k else f"{p}=_d{i - k}" for i, p in enumerate(params))


def stale(guards: list) -> bool:
    """Has a function (or a value) that code was made from been rebound since, where it
    was read (what the entry's guard line tests, for the callers that have no entry)?"""
    for where, obj in guards:
        kind = where[0]
        try:
            now = (where[1].get(where[2]) if kind == "global" else where[1].cell_contents
                   if kind == "cell" else getattr(where[1], where[2], None))
        except ValueError:                     # (an emptied closure cell)
            return True
        if now is not obj and not (type(now) is type(obj) and now == obj):
            return True
    return False


def _guards(guards: list, ns: dict, pre: str = "_") -> str:
    """A tuple expression re-reading every guarded function where it was found (its
    names, with prefix ``pre``, bound in ``ns``)."""
    parts = []
    for k, (where, _obj) in enumerate(guards):
        kind = where[0]
        if kind == "global":
            ns[f"{pre}g{k}"] = where[1]
            parts.append(f"{pre}g{k}.get({where[2]!r})")
        elif kind == "cell":
            ns[f"{pre}c{k}"] = where[1]
            parts.append(f"{pre}c{k}.cell_contents")
        else:
            ns[f"{pre}m{k}"] = where[1]
            parts.append(f"{pre}getattr({pre}m{k}, {where[2]!r}, None)")
            ns[f"{pre}getattr"] = getattr
    if not parts:
        return ""
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
