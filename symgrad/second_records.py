"""Second order with respect to records: ``hvp`` and ``hessian`` of a function of
dicts, NamedTuples and dataclasses (nested too), as JAX gives them for pytrees.

The record is taken apart into its leaves (numbers, lists, arrays), and the function
is differentiated through a small function of those leaves that builds the record
again and calls it::

    def loss_of_leaves(p_w, p_b, x):          # (written by this module)
        return loss({'w': p_w, 'b': p_b, 'name': P_NAME}, x)

symgrad inlines ``loss`` there, so the record is kept as its fields and nothing is
built when the code runs.  The results are put back in the record's shape: ``hvp``'s
has the gradient's structure (a record of the leaves' entries); ``hessian``'s is a
record of records (``H['w']['b']`` is the block of ``w`` and ``b``).  Fields that hold
no numbers (a name, a flag, a function) are constants of that function and keep their
values in the results, as ``grad`` keeps them.
"""

from __future__ import annotations

import dataclasses
import inspect
import linecache
import sys
import weakref
from typing import Any, Callable

from .errors import ArgumentError

__all__ = ["is_record", "has_records", "function_of_leaves", "regroup", "hessian_of_leaves",
           "tangent_leaves", "holds_arrays", "flattened",
           "container_of_arrays", "hvp_of_records",
           "hessian_of_records"]

_NUMBER = (int, float)


def is_record(v: Any) -> bool:
    """A dict, a NamedTuple or a dataclass instance."""
    return isinstance(v, dict) or isinstance(v, tuple) and hasattr(v, "_fields") or (
        dataclasses.is_dataclass(v) and not isinstance(v, type))


def has_records(values: list) -> bool:
    return any(is_record(v) for v in values)


def holds_arrays(v: Any, depth: int = 0) -> bool:
    """Does the container ``v`` hold a numpy array (at any depth)?"""
    if depth > 20:
        return False
    if type(v).__module__ == "numpy" and getattr(v, "ndim", 0):
        return depth > 0
    if isinstance(v, dict):
        return any(holds_arrays(x, depth + 1) for x in v.values())
    if isinstance(v, (list, tuple)):
        return any(holds_arrays(x, depth + 1) for x in v)
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return any(holds_arrays(getattr(v, f.name), depth + 1) for f in dataclasses.fields(v))
    return False


def flattened(v: Any) -> bool:
    """Taken apart into its leaves: a record, or a tuple of arrays and numbers, or a list
    of arrays and numbers not all arrays (``[W, 0.5]``; a list of arrays, or a list or
    tuple of records, is read as a list)."""
    if is_record(v):
        return True
    if type(v) not in (tuple, list) or type(v) is list and all(_is_array(x) for x in v):
        return False
    return all(_is_array(x) or isinstance(x, _NUMBER) and not isinstance(x, bool)
               for x in v) and holds_arrays(v)


def _apart(v: Any, whole: bool = False) -> bool:
    """Inside a container taken apart, is ``v`` taken apart too: what :func:`flattened`
    takes, and a list or tuple holding numbers among other values (``("relu", 0.5)``,
    ``[{"w": w}]``; with ``whole``, a list of records is one leaf: :func:`_whole`)?"""
    if flattened(v):
        return True
    return type(v) in (tuple, list) and not _is_leaf(v) and not (whole and _whole(v)) and \
        any(_apart(x) or _is_leaf(x) for x in v)


def _whole(v: Any) -> bool:
    """A list or tuple of records inside a container taken apart (``{"layers":
    [{"W": W1}, {"W": W2}]}``): for a gradient, one leaf, differentiated as a list of
    records is (code that loops over records it made cannot be differentiated); for
    second order (a Hessian's blocks between their leaves) it is taken apart."""
    return type(v) in (tuple, list) and any(
        is_record(x) or type(x) in (tuple, list) and _whole(x) for x in v)


def _is_array(x: Any) -> bool:
    return type(x).__module__ == "numpy" and bool(getattr(x, "ndim", 0))


def container_of_arrays(v: Any) -> bool:
    """A container whose gradient is made through its leaves: one holding arrays (the
    code made for the numbers a container holds would not sum what a number broadcast
    against one of its arrays gets)."""
    t = type(v)
    if t is float or t is int or t is _NDARRAY and _NDARRAY is not None:
        return False
    return flattened(v) and holds_arrays(v)


def _is_leaf(v: Any) -> bool:
    """A value differentiated as it is: a number, a list or tuple of numbers (nested),
    an array."""
    if isinstance(v, bool):
        return False
    if isinstance(v, _NUMBER) or type(v).__module__ == "numpy" and hasattr(v, "dtype"):
        return True
    return isinstance(v, (list, tuple)) and not hasattr(v, "_fields") and bool(v) and \
        all(_is_leaf(x) for x in v)


def _fields(v: Any, fname: str) -> list[tuple[Any, Any]]:
    """A record's (key, value) pairs, in order."""
    if isinstance(v, dict):
        bad = [k for k in v if not isinstance(k, (str, int)) or isinstance(k, bool)]
        if bad:
            raise ArgumentError(f"{fname}: a dict with the key {bad[0]!r}; records are "
                                "differentiated with string or int keys.\n  hint: use "
                                "string keys")
        return list(v.items())
    if hasattr(v, "_fields"):
        return [(k, getattr(v, k)) for k in v._fields]
    if isinstance(v, (list, tuple)):
        return list(enumerate(v))
    fields = dataclasses.fields(v)
    hidden = [f.name for f in fields if not f.init]
    if hidden:
        raise ArgumentError(f"{fname}: a {type(v).__name__} whose field {hidden[0]!r} its "
                            "__init__ does not take; second order rebuilds the dataclass "
                            "from its fields.\n  hint: pass its numbers as separate parameters")
    return [(f.name, getattr(v, f.name)) for f in fields]


def _scan(v: Any, leaves: list, consts: list, whole: bool) -> tuple:
    """The structure of the argument ``v`` (hashable: the key of the function of its
    leaves), its leaves appended to ``leaves`` and the values it holds that are neither
    (a name, a flag) to ``consts``, in order; one pass, by type."""
    t = type(v)
    if t is float or t is int or t is _NDARRAY or t.__module__ == "numpy" and \
            hasattr(v, "dtype"):
        leaves.append(v)
        return _LEAF
    if isinstance(v, dict):
        return ("dict", tuple(v), tuple(map(type, v)),
                tuple(_scan(x, leaves, consts, whole) for x in v.values()))
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return ("new", t, tuple(_scan(x, leaves, consts, whole) for x in v))
    if t is not bool and (isinstance(v, (list, tuple)) and _is_leaf(v) or
                          isinstance(v, _NUMBER)):
        if flattened(v):            # (a tuple of arrays and numbers, [W, 0.5])
            return (t.__name__, tuple(_scan(x, leaves, consts, whole) for x in v))
        leaves.append(v)
        return _LEAF
    if (t is list or t is tuple) and whole and _whole(v):
        leaves.append(v)
        return _LEAF
    if t is list or t is tuple:     # (a name beside a number: _apart)
        n = len(consts)
        parts = tuple(_scan(x, leaves, consts, whole) for x in v)
        if any(x is not _CONST for x in parts):
            return (t.__name__, parts)
        del consts[n:]
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        names = _DATACLASS_FIELDS.get(t)
        if names is None:
            names = _DATACLASS_FIELDS[t] = tuple(f.name for f in dataclasses.fields(v))
        return ("new", t, tuple(_scan(getattr(v, k), leaves, consts, whole) for k in names))
    consts.append(v)
    return _CONST


_LEAF, _CONST = ("leaf",), ("const",)
_NDARRAY: Any = None                   # numpy.ndarray, once numpy is imported
_DATACLASS_FIELDS: dict = {}


class _Writer:
    """The function of the leaves, written from the structure :func:`_scan` found: its
    parameters, the classes it builds (``_SYMGRAD_K*``) and the names of the constants
    it reads (``_SYMGRAD_C*``, given their values at each call)."""

    def __init__(self, fname: str):
        self.fname = fname
        self.params: list[str] = []
        self.diff: list[str] = []
        self.classes: dict[str, type] = {}
        self.consts: list[str] = []

    def build(self, sig: tuple, stem: str, differentiated: bool) -> str:
        """The expression that builds the value of structure ``sig`` from new
        parameters (its leaves; those of a differentiated record are listed in
        ``diff``)."""
        if sig is _LEAF:
            name = "".join(c if c.isalnum() else "_" for c in stem)
            name = f"{name}_{len(self.params)}" if name in self.params else name
            self.params.append(name)
            if differentiated:
                self.diff.append(name)
            return name
        if sig is _CONST:
            self.consts.append(f"_SYMGRAD_C{len(self.consts)}")
            return self.consts[-1]
        if sig[0] == "dict":
            bad = [k for k in sig[1] if not isinstance(k, (str, int)) or isinstance(k, bool)]
            if bad:
                raise ArgumentError(f"{self.fname}: a dict with the key {bad[0]!r}; records "
                                    "are differentiated with string or int keys.\n  hint: "
                                    "use string keys")
            return "{" + ", ".join(f"{k!r}: {self.build(x, f'{stem}_{k}', differentiated)}"
                                   for k, x in zip(sig[1], sig[3])) + "}"
        if sig[0] in ("tuple", "list"):
            parts = [self.build(x, f"{stem}_{k}", differentiated) for k, x in enumerate(sig[1])]
            return f"({''.join(e + ', ' for e in parts)})" if sig[0] == "tuple" else \
                f"[{', '.join(parts)}]"
        cls = sig[1]
        hidden = [f.name for f in dataclasses.fields(cls) if not f.init] \
            if not hasattr(cls, "_fields") else []
        if hidden:
            raise ArgumentError(f"{self.fname}: a {cls.__name__} whose field {hidden[0]!r} "
                                "its __init__ does not take; second order rebuilds the "
                                "dataclass from its fields.\n  hint: pass its numbers as "
                                "separate parameters")
        name = f"_SYMGRAD_K{len(self.classes)}"
        self.classes[name] = cls
        named = hasattr(cls, "_fields")
        keys = cls._fields if named else _DATACLASS_FIELDS[cls]
        parts = [("" if named else f"{k}=") + self.build(x, f"{stem}_{k}", differentiated)
                 for k, x in zip(keys, sig[2])]
        return f"{name}({', '.join(parts)})"


def function_of_leaves(fn: Any, params: list[str], full: tuple, idx: list[int],
                        fname: str, whole: bool = False) -> tuple[Callable, list, list[str]]:
    """The function of the differentiated records' leaves (and of the other arguments),
    the arguments to call it with, and the names of its differentiated parameters
    (``whole``: a list of records is one leaf, see :func:`_whole`).
    Made once per function and structure of its records (symgrad's transforms are cached
    on the function made); the constants of a later call are its globals then."""
    global _NDARRAY
    if _NDARRAY is None and "numpy" in sys.modules:
        _NDARRAY = sys.modules["numpy"].ndarray
    leaves: list = []
    consts: list = []
    sig = tuple(_scan(v, leaves, consts, whole) if flattened(v) else
                leaves.append(v) or _LEAF for v in full)
    key = (sig, tuple(params), tuple(idx))
    try:
        made = _MADE.setdefault(fn, {})
    except TypeError:               # (not weakly referable: made each time)
        made = {}
    found = made.get(key)
    if found is None:
        found = made[key] = _write(fn, params, sig, idx, fname)
    g, names, diff = found
    if consts:
        g.__globals__.update(zip(names, consts))
    return g, leaves, diff


def _write(fn: Any, params: list[str], sig: tuple, idx: list[int], fname: str
           ) -> tuple[Callable, list[str], list[str]]:
    """The function of the leaves of arguments of structure ``sig``, the names of the
    constants it reads, and its differentiated parameters."""
    w = _Writer(fname)
    args: list[str] = []
    for i, (p, part) in enumerate(zip(params, sig)):
        if part is not _LEAF:       # (every record: its arrays seen as arrays)
            args.append(w.build(part, p, i in idx))
            continue
        name = f"{p}_" if p.startswith("_SYMGRAD") else p
        w.params.append(name)
        args.append(name)
        if i in idx:
            w.diff.append(name)
    own = f"{getattr(fn, '__name__', 'f')}_of_leaves"
    src = (f"def {own}({', '.join(w.params)}):\n"
           f"    return _SYMGRAD_F({', '.join(args)})\n")
    filename = f"<symgrad {own} #{len(_FILES)}>"
    _FILES.append(filename)
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    namespace: dict = {"_SYMGRAD_F": fn, **w.classes}
    exec(compile(src, filename, "exec"), namespace)
    return namespace[own], w.consts, w.diff
_MADE: Any = weakref.WeakKeyDictionary()
_FILES: list[str] = []


def _rebuild(like: Any, leaves: Any, whole: bool = False) -> Any:
    """``like`` (a record) with its leaves taken in order from the iterator ``leaves``;
    fields that hold no numbers keep their values."""
    t = type(like)
    if t is float or t is int or t is _NDARRAY and _NDARRAY is not None:
        return next(leaves)
    if _apart(like, whole):
        items = [(k, _rebuild(v, leaves, whole)) for k, v in _fields(like, "")]
        if isinstance(like, dict):
            return dict(items)
        if type(like) in (tuple, list):
            return type(like)(v for _, v in items)
        if hasattr(like, "_fields"):
            return type(like)(*(v for _, v in items))
        return dataclasses.replace(like, **dict(items))
    return next(leaves) if _is_leaf(like) or whole and _whole(like) else like


def regroup(full: tuple, idx: list[int], flat: list, single: bool, whole: bool = False
            ) -> Any:
    """A result with one entry per leaf (in order) as one entry per differentiated
    parameter: a record's entries in its shape."""
    it = iter(flat)
    out = [_rebuild(full[i], it, whole) if flattened(full[i]) else next(it) for i in idx]
    return out[0] if single else tuple(out)


def hessian_of_leaves(full: tuple, idx: list[int], leaves: list, single: bool,
                      hvp_at: Callable[[list], Any]) -> Any:
    """The Hessian of the function of the leaves, one tangent sweep per number
    (``hvp_at(tangents)``: one entry per leaf), as blocks of every pair of parameters:
    where a parameter is a record, a record of records (JAX's layout for pytrees: the
    block of leaves ``a`` and ``b`` has the shape ``a`` then ``b``)."""
    cols: list[dict] = []
    for k, leaf in enumerate(leaves):
        col = {}
        for pos in _positions(leaf):
            tangents = [_unit(x, pos if j == k else None) for j, x in enumerate(leaves)]
            col[pos] = hvp_at(tangents)
        cols.append(col)

    def block(a: int, b: int) -> Any:
        return _fill(leaves[a], lambda ia: _fill(leaves[b], lambda ib: _at(
            cols[b][ib][a], ia)))
    counts = [_count(full[i]) if flattened(full[i]) else 1 for i in idx]
    starts = [sum(counts[:k]) for k in range(len(counts))]
    rows = []
    for i, sa, na in zip(idx, starts, counts):
        row = []
        for j, sb, nb in zip(idx, starts, counts):
            per_a = [regroup((full[j],), [0], [block(a, b) for b in range(sb, sb + nb)],
                             True) for a in range(sa, sa + na)]
            row.append(regroup((full[i],), [0], per_a, True))
        rows.append(tuple(row))
    return rows[0][0] if single else tuple(rows)


def _positions(leaf: Any) -> list[tuple]:
    """The positions of a leaf's numbers (``()`` for a number; a list of records: keys
    and indices)."""
    if isinstance(leaf, dict):
        return [(k, *p) for k, x in leaf.items() for p in _positions(x)]
    if isinstance(leaf, (list, tuple)):
        return [(i, *p) for i, x in enumerate(leaf) for p in _positions(x)]
    shape = getattr(leaf, "shape", ())
    if shape:
        import numpy as np
        return [tuple(int(k) for k in p) for p in np.ndindex(shape)]
    return [()]


def _unit(leaf: Any, pos: tuple | None) -> Any:
    """A tangent shaped like ``leaf``: zero, with 1 at ``pos`` (None: zero)."""
    if isinstance(leaf, dict):
        return {k: _unit(x, pos[1:] if pos is not None and pos[0] == k else None)
                for k, x in leaf.items()}
    if isinstance(leaf, (list, tuple)):
        items = [_unit(x, pos[1:] if pos is not None and pos[0] == i else None)
                 for i, x in enumerate(leaf)]
        return type(leaf)(*items) if hasattr(leaf, "_fields") else items
    shape = getattr(leaf, "shape", None)
    if shape is not None and type(leaf).__module__ == "numpy":
        import numpy as np
        t = np.zeros(shape)
        if pos is not None:
            t[pos] = 1.0
        return t
    return 1.0 if pos is not None else 0.0


def _at(x: Any, pos: tuple) -> Any:
    for k in pos:
        x = x[k]
    return float(x)


def _fill(like: Any, value_at: Callable[[tuple], Any]) -> Any:
    """``like``'s shape, the value at each of its numbers' positions given by
    ``value_at``; an array's entries that are arrays or numbers make one array."""
    if isinstance(like, dict):
        return {k: _fill(x, lambda p, k=k: value_at((k, *p))) for k, x in like.items()}
    if isinstance(like, (list, tuple)):
        items = [_fill(x, lambda p, i=i: value_at((i, *p))) for i, x in enumerate(like)]
        return type(like)(*items) if hasattr(like, "_fields") else items
    shape = getattr(like, "shape", None)
    if shape is not None and type(like).__module__ == "numpy":
        import numpy as np
        vals = [value_at(p) for p in _positions(like)] if shape else [value_at(())]
        arr = np.array(vals, dtype=float)
        return arr.reshape(tuple(shape) + arr.shape[1:])
    return value_at(())


def _count(v: Any) -> int:
    if _apart(v):
        return sum(_count(x) for _, x in _fields(v, ""))
    return 1 if _is_leaf(v) else 0


def tangent_leaves(like: Any, t: Any, fname: str) -> list:
    """The tangent ``t`` of the record ``like`` as its leaves, in the order of
    :func:`function_of_leaves`'s parameters (the same record shape, or an error)."""
    if _apart(like):
        if not is_record(t) and type(t) not in (tuple, list):
            raise ArgumentError(f"{fname}: the tangent of a {type(like).__name__} is a "
                                f"{type(t).__name__}; give one of the same shape")
        given = dict(_fields(t, fname))
        out: list = []
        for k, v in _fields(like, fname):
            if k not in given:
                raise ArgumentError(f"{fname}: the tangent has no field {k!r}; give one "
                                    "of the record's shape")
            out.extend(tangent_leaves(v, given[k], fname))
        return out
    return [t] if _is_leaf(like) else []


def hvp_of_records(fn: Any, params: list[str], full: tuple, idx: list[int], single: bool,
                   tangents: tuple, hvp: Callable) -> Any:
    """``hvp`` with respect to dicts, NamedTuples or dataclasses: of the function of
    their leaves, the result in their shapes."""
    if len(tangents) != len(idx):
        raise ArgumentError(f"hvp: {len(idx)} differentiated parameters "
                            f"{tuple(params[i] for i in idx)} but {len(tangents)} tangents")
    g, args, diff = function_of_leaves(fn, params, full, idx, "hvp")
    flat: list = []
    for i, t in zip(idx, tangents):
        flat.extend(tangent_leaves(full[i], t, "hvp") if flattened(full[i]) else [t])
    hv = hvp(g, tuple(args), tuple(flat), wrt=diff)
    return regroup(full, idx, list(hv), single)


def hessian_of_records(fn: Any, params: list[str], full: tuple, idx: list[int],
                       single: bool, hvp: Callable) -> Any:
    """``hessian`` with respect to dicts, NamedTuples or dataclasses (see
    :func:`hessian_of_leaves`)."""
    g, args, diff = function_of_leaves(fn, params, full, idx, "hessian")
    names = list(inspect.signature(g).parameters)
    leaves = [a for a, p in zip(args, names) if p in diff]
    return hessian_of_leaves(full, idx, leaves, single,
                             lambda t: hvp(g, tuple(args), tuple(t), wrt=diff))
