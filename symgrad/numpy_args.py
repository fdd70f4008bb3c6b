"""Parameters a function only hands to numpy: a list given for one is an array.

``def loss(params): p = np.asarray(params); ...`` takes a list as well as an array,
since numpy converts what it is given.  Python's own arithmetic on a list is not
numpy's (``xs * 2`` repeats it, ``xs + ys`` joins), so a list is taken for an array
only where the function reads the parameter in no other way: every read of it is an
argument of a numpy function (directly, or as an item of a tuple or list literal
given to one, as in ``np.concatenate((xs, [0.0]))``) or of ``len``, until the parameter is rebound
to such a call's result by a statement every call runs (``xs = np.asarray(xs)`` at
the top of the body), after which it is an array.

Functions that write into an argument (``np.copyto``, ``np.put``, ``out=``, anything
in ``np.random``) do not count: a list given there is not changed as an array is.
The entry converts such a list (one holding a float: a tuple of ints handed to numpy
is more often a shape or axes) with ``np.asarray``, as the function's own
``np.asarray`` makes it, and gives its gradient back as a list (a tuple for a tuple),
see :meth:`symgrad.api.GradFunction._array_call`.
"""

from __future__ import annotations

import ast
import sys
import weakref
from typing import Any

__all__ = ["numpy_only_params", "taken", "int_list", "is_generator_object", "as_array",
           "arrays_at", "as_given", "as_lists", "lists_taken"]

#: numpy functions that write into an argument they are given (a list given there is
#: copied and left as it was; an array is changed)
_WRITERS = frozenset({"copyto", "place", "put", "putmask", "put_along_axis",
                      "fill_diagonal", "shuffle"})


def numpy_only_params(fs: Any, names: list[str]) -> frozenset:
    """The parameters of the function ``fs`` (a :class:`~symgrad.source.FunctionSource`)
    read only as arguments of numpy functions (see the module's docstring); ``names``:
    the parameters as the gradient has them (none when they differ from the tree's:
    a wrapper, a bound method)."""
    a = fs.tree.args
    if a.vararg or a.kwarg or [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs] \
            != list(names):
        return frozenset()
    np = sys.modules.get("numpy")
    if np is None:
        return frozenset()
    return frozenset(n for n in names if _only_numpy(fs, np, n))


def _only_numpy(fs: Any, np: Any, name: str) -> bool:
    reads = _Reads(name, lambda func: _is_numpy(fs, np, func))
    for stmt in fs.tree.body:
        reads.visit(stmt)
        if reads.bad:
            return False
        if reads.stored:     # rebound: only ``name = np.f(..., name, ...)``, which every
            return _converts(stmt, name, reads.is_numpy)    # call runs; an array after
    return reads.numpy_read         # (never read, or only by len: handed to no numpy)


def _converts(stmt: ast.stmt, name: str, is_numpy: Any) -> bool:
    return type(stmt) is ast.Assign and len(stmt.targets) == 1 and \
        type(stmt.targets[0]) is ast.Name and stmt.targets[0].id == name and \
        type(stmt.value) is ast.Call and is_numpy(stmt.value.func) == "numpy"


class _Reads(ast.NodeVisitor):
    """Finds, in the statements visited, a read of ``name`` that is not numpy's
    (``bad``) and whether ``name`` is assigned (``stored``: any store, in any scope,
    ``del``, ``nonlocal`` and ``global`` included)."""

    def __init__(self, name: str, is_numpy: Any):
        self.name = name
        self.is_numpy = is_numpy
        self.bad = False
        self.stored = False
        self.allowed: set[int] = set()       # ids of Name nodes read as numpy's arguments
        self.numpy_read = False              # (one read by numpy itself, not only by len)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id != self.name:
            return
        if type(node.ctx) is ast.Load:
            if id(node) not in self.allowed:
                self.bad = True
        else:
            self.stored = True

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.stored = self.stored or self.name in node.names

    visit_Global = visit_Nonlocal

    def visit_arg(self, node: ast.arg) -> None:     # (a nested parameter of that name)
        self.stored = self.stored or node.arg == self.name

    def visit_Call(self, node: ast.Call) -> None:
        how = self.is_numpy(node.func)
        if how and not any(                          # (``copy=False`` raises for a list)
                kw.arg == "copy" and not (type(kw.value) is ast.Constant and kw.value.value)
                for kw in node.keywords):
            for a in node.args:
                self._allow(a, how == "numpy")
            for kw in node.keywords:
                if kw.arg != "out":
                    self._allow(kw.value, how == "numpy")
        self.generic_visit(node)

    def _allow(self, arg: ast.expr, numpy: bool) -> None:
        items = arg.elts if type(arg) in (ast.Tuple, ast.List) else [arg]  # type: ignore
        for e in items:
            if type(e) is ast.Name and e.id == self.name:
                self.allowed.add(id(e))
                self.numpy_read = self.numpy_read or numpy


def _is_numpy(fs: Any, np: Any, func: ast.expr) -> str:
    """``"numpy"`` when ``func`` (a call's function) is a numpy function that converts
    its arguments (not a class, not a writer, nothing of ``np.random``), ``"len"`` for
    ``len`` (a list's length is its array's), else ``""``."""
    import builtins
    from .source import MISSING
    obj = fs.resolve(func)
    if obj is MISSING or isinstance(obj, type):
        return ""
    if obj is builtins.len:
        return "len"
    if isinstance(obj, np.ufunc):
        return "numpy"
    module = getattr(obj, "__module__", None) or ""
    return "numpy" if callable(obj) and (module == "numpy" or module.startswith("numpy.")) \
        and not module.startswith("numpy.random") and \
        getattr(obj, "__name__", "") not in _WRITERS else ""


def taken(v: Any) -> bool:
    """Is ``v`` a list or tuple to take as an array: (nested lists of) numbers, one of
    them a float?  (A tuple of ints handed to numpy is more often a shape, axes or
    sections, whose values the gradient is made for, see :mod:`symgrad.static_args`;
    a list of arrays is differentiated as one, see ``tests/test_join_lists.py``: both
    are left as they are.)"""
    return type(v) in (list, tuple) and _numbers(v, 0) == 2


def int_list(v: list, depth: int = 1) -> int:
    """How deep ``v`` is a list of ints (Python's or numpy's, not bools): 1 for a flat
    list, 2 for a list of such lists ...; 0 for anything else.  An index list: ``E[idx]``
    picks rows by it, as numpy picks them by an integer array (``for doc in docs:
    E[doc]`` of a list of lists)."""
    if not v or depth > 8:
        return 0
    if all(type(e) is list for e in v):
        inner = {int_list(e, depth + 1) for e in v}
        return inner.pop() + 1 if len(inner) == 1 and 0 not in inner else 0
    return 1 if all(type(e) is int or type(e).__module__ == "numpy" and
                    getattr(getattr(e, "dtype", None), "kind", "") in "iu" and
                    getattr(e, "ndim", 1) == 0 for e in v) else 0


def is_generator_object(v: Any) -> bool:
    """Is ``v`` a numpy generator of random numbers (a ``Generator``, a ``RandomState``)?"""
    np = sys.modules.get("numpy")
    return np is not None and type(v) in (np.random.Generator, np.random.RandomState)


def routed_key(v: Any, index_lists: bool = True) -> str | None:
    """The key of a value the entry routes to a gradient made for it, beside arrays:
    ``"ints{depth}"`` for an index list (when ``index_lists``), ``"generator"`` for a
    numpy generator of random numbers, None for anything else.  (The one place both
    ``GradFunction`` and the modes read these keys from.)"""
    if index_lists and type(v) is list and (depth := int_list(v)):
        return f"ints{depth}"
    return "generator" if is_generator_object(v) else None


def _numbers(v: Any, depth: int) -> int:
    """0: something that is not a number in ``v``; 1: ints only; 2: a float among them."""
    found = 1
    for e in v:
        t = type(e)
        if t is float:
            found = 2
        elif t in (list, tuple):
            inner = _numbers(e, depth + 1) if depth < 32 else 0
            if inner == 0:
                return 0
            found = max(found, inner)
        elif t is not int:
            kind = getattr(getattr(e, "dtype", None), "kind", "") if t.__module__ == "numpy" \
                and getattr(e, "ndim", 1) == 0 else ""
            if kind not in ("f", "i", "u"):
                return 0
            found = max(found, 2 if kind == "f" else 1)
    return found


def as_array(v: Any) -> Any:
    """A list or tuple given for such a parameter, as numpy converts it; None when numpy
    makes no array of numbers of it (ragged, strings, bools, complex numbers: refused
    as before)."""
    import numpy as np
    try:
        a = np.asarray(v)
    except (ValueError, TypeError):
        return None
    return a if a.dtype.kind in "fiu" and a.ndim >= 1 else None


def as_given(like: Any, grad: Any) -> Any:
    """The gradient ``grad`` (an array) of a list or tuple argument ``like``: nested lists
    of floats, a tuple at the top for a tuple."""
    out = grad.tolist() if hasattr(grad, "tolist") else grad
    return tuple(out) if isinstance(like, tuple) and isinstance(out, list) else out


def lists_taken(fn: Any, params: list[str], full: tuple, idx: Any) -> tuple[tuple, tuple]:
    """For the sweeps of :mod:`symgrad.modes`: the arguments ``full`` with the lists given
    at the differentiated positions ``idx`` for parameters ``fn`` only hands to numpy
    as arrays, and those positions; a list numpy makes no array of numbers of is
    refused by name."""
    given = [i for i in idx if i < len(full) and taken(full[i])]
    names = _numpy_only_of(fn, params) if given else frozenset()
    listed = tuple(i for i in given if params[i] in names)
    if not listed:
        return full, ()
    return arrays_at(full, listed, getattr(fn, "__name__", "f"), "", params), listed


def arrays_at(args: tuple, listed: tuple, fname: str, where: str, params: list[str]) -> tuple:
    """``args`` with the lists at the positions ``listed`` as numpy makes arrays of them;
    one numpy makes no array of numbers of is refused by name (``where``: its file and
    line, for the message)."""
    out = list(args)
    for i in listed:
        out[i] = as_array(args[i])
        if out[i] is None:
            from .entry import check_arguments
            check_arguments(fname, where, [params[i]], ["listable"], (args[i],))
    return tuple(out)


def _numpy_only_of(fn: Any, params: list[str]) -> frozenset:
    import types
    if not isinstance(fn, types.FunctionType):
        return frozenset()
    found = _FOUND.get(fn)          # (its source read once per code it has)
    if found is not None and found[0] is fn.__code__:
        return found[1]
    from .errors import SymgradError
    from .source import get_source
    try:
        names = numpy_only_params(get_source(fn), params)
    except SymgradError:
        names = frozenset()
    _FOUND[fn] = (fn.__code__, names)
    return names


_FOUND: "weakref.WeakKeyDictionary[Any, tuple]" = weakref.WeakKeyDictionary()


def as_lists(x: Any) -> Any:
    """A result of a sweep (a Hessian, a Jacobian) for lists given as arrays: its arrays
    as nested lists of floats."""
    if type(x).__module__ == "numpy" and hasattr(x, "tolist"):
        return x.tolist()
    if type(x) in (tuple, list):
        return type(x)(as_lists(v) for v in x)
    if type(x) is dict:
        return {k: as_lists(v) for k, v in x.items()}
    return x
