"""Array arguments in :func:`symgrad.check`: every element of an ndarray is a number.

An ``ndarray`` argument is differentiated element by element, like a list: each element
is a *leaf* whose path ends in its index tuple (``W[1,2]``).  The engines then see:

* **finite differences**: a float array with one element moved (always run);
* **the Value engine**: an object array of :class:`~symgrad.Value` s, at most
  :data:`VALUE_MAX_ELEMENTS` numbers in all;
* **SymPy**: an object array of :class:`~symgrad.traced.Traced` numbers, at most
  :data:`SYMPY_MAX_ELEMENTS` numbers in all (every element is a symbol, and ``sympy.diff``
  runs once per symbol).

Above a cap an engine is *skipped* ("skipped: too large") instead of running for minutes.
``f`` runs on object arrays through numpy itself (``@``, ``np.sum``, indexing, in-place
writes call the elements' operators); the functions symgrad has a rule for (``np.tanh``,
``np.exp``, ``np.maximum`` ...) apply their rule element by element
(:class:`ArrayRetargeter`).

>>> import numpy as np
>>> def f(w, s):
...     return s * np.sum(w * w)
>>> p = array_point(f, (np.array([1.0, 2.0]), 3.0), None)
>>> [(leaf.name, leaf.value, leaf.block) for leaf in p.leaves()]
[('w[0]', 1.0, 'w'), ('w[1]', 2.0, 'w'), ('s', 3.0, '')]
>>> p.replace(p.leaves()[1], 5.0)
[array([1., 5.]), 3.0]
"""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import arguments
from .arguments import Leaf, Point, label, params_of
from .errors import SymgradError
from .retarget import Retargeter
from .traced import strict_float

__all__ = ["SYMPY_MAX_ELEMENTS", "VALUE_MAX_ELEMENTS", "ArrayLeaf", "ArrayPoint",
           "ArrayRetargeter", "array_point", "fresh", "has_arrays", "is_array", "leaf_name",
           "leaves", "map_leaves", "retarget_for"]

#: SymPy runs on array arguments holding at most this many differentiated numbers in all;
#: above it the SymPy column says "skipped: too large".
SYMPY_MAX_ELEMENTS = 64
#: The Value engine runs on array arguments holding at most this many differentiated numbers
#: in all; above it the Value column says "skipped: too large".
VALUE_MAX_ELEMENTS = 4096

Path = tuple[Any, ...]   # ints (list positions) and, last, a tuple (an array index)


def is_array(x: Any) -> bool:
    """A numpy array with at least one dimension (numpy scalars and 0-d arrays are numbers).

    >>> import numpy as np
    >>> is_array(np.zeros(2)), is_array(np.float64(1.0)), is_array(np.array(1.0)), is_array(1.0)
    (True, False, False, False)
    """
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, numbers.Real) \
        and len(x.shape) > 0


def _scalar(v: Any) -> Any:
    """A numpy scalar (or 0-d array) as the Python number it holds; anything else as is."""
    if hasattr(v, "shape") and hasattr(v, "dtype") and getattr(v, "shape", None) == ():
        return v.item()
    return v


def leaves(x: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """``(path, number)`` for every number in ``x``: nested lists/tuples as
    :func:`symgrad.arguments.leaves`, and every element of an ndarray (in C order; the
    last part of its path is the index tuple).

    >>> import numpy as np
    >>> list(leaves([1.0, np.array([[2.0], [3.0]])]))
    [((0,), 1.0), ((1, (0, 0)), 2.0), ((1, (1, 0)), 3.0)]
    """
    if is_array(x):
        import numpy as np
        for idx in np.ndindex(x.shape):
            yield path + (idx,), _scalar(x[idx])
        return
    items = arguments.parts(x)
    if items is None:
        yield path, _scalar(x)
        return
    record = arguments.is_record(x)
    for k, v in items:
        if not record or arguments.holds_numbers(v):
            yield from leaves(v, path + (k,))



def map_leaves(x: Any, fn: Callable[[Path, Any], Any], path: Path = ()) -> Any:
    """``x`` with every number replaced by ``fn(path, number)``: lists stay lists, tuples
    tuples, arrays become float arrays (object arrays if ``fn`` gives other things).

    >>> import numpy as np
    >>> map_leaves([1.0, np.array([2.0, 3.0])], lambda path, v: v * 10)
    [10.0, array([20., 30.])]
    """
    if is_array(x):
        import numpy as np
        vals = [fn(path + (idx,), _scalar(x[idx])) for idx in np.ndindex(x.shape)]
        plain = all(isinstance(v, numbers.Real) for v in vals)
        out = np.empty(x.shape, dtype=float if plain else object)
        for k, v in enumerate(vals):
            out.flat[k] = v
        return out
    items = arguments.parts(x)
    if items is None:
        return fn(path, x)
    record = arguments.is_record(x)
    return arguments.rebuilt(x, [map_leaves(v, fn, path + (k,))
                                 if not record or arguments.holds_numbers(v) else v
                                 for k, v in items])


def leaf_name(param: str, path: Path) -> str:
    """The name of the number at ``path`` in argument ``param``.

    >>> leaf_name("W", ((1, 2),)), leaf_name("xs", (0, (3,)))
    ('W[1,2]', 'xs[0][3]')
    """
    return param + "".join(f"[{','.join(map(str, k))}]" if isinstance(k, tuple) else
                           f"[{k}]" if type(k) is int else str(k) for k in path)


def fresh(x: Any) -> Any:
    """``x`` with every array in it copied (``f`` may write into its arguments).

    >>> import numpy as np
    >>> a = np.zeros(2); b = fresh([a])[0]; b[0] = 1.0; a
    array([0., 0.])
    """
    if is_array(x):
        return x.copy()
    items = arguments.parts(x)
    if items is None or not any(is_array(v) for v in _containers(x)):
        return x
    return arguments.rebuilt(x, [fresh(v) for _, v in items])


def has_arrays(args: Sequence[Any]) -> bool:
    """Is there an ndarray among ``args`` (or in a list among them)?"""
    return any(is_array(v) for a in args for v in _containers(a))


def _containers(x: Any) -> Iterator[Any]:
    yield x
    for _, v in arguments.parts(x) or ():
        yield from _containers(v)


def _is_float_array(x: Any) -> bool:
    return is_array(x) and x.dtype.kind == "f"


def _numeric(x: Any) -> bool:
    """A number, a float array, or lists, tuples and records (dicts, NamedTuples,
    dataclasses) of them (a differentiable argument)."""
    if _is_float_array(x):
        return True
    if is_array(x):
        return False
    if arguments.is_record(x):
        return arguments.holds_numbers(x) and all(
            _numeric(v) for _, v in arguments.parts(x) or () if arguments.holds_numbers(v))
    if isinstance(x, (list, tuple)):
        return all(_numeric(v) for v in x)
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


@dataclass(frozen=True)
class ArrayLeaf(Leaf):
    """A :class:`~symgrad.arguments.Leaf` that may be an element of an array: ``block`` is
    the array's name (``W``; "" for a number that is not in an array), ``block_shape`` its
    shape and ``at`` the element's index in it."""

    block: str = ""
    block_shape: tuple[int, ...] = ()
    at: tuple[int, ...] = ()


@dataclass
class ArrayPoint(Point):
    """A :class:`~symgrad.arguments.Point` whose arguments may be (or hold) float arrays,
    differentiated element by element.  Build one with :func:`array_point`."""

    def leaves(self) -> list[Leaf]:
        out: list[Leaf] = []
        for p in self.wrt:
            i = self.params.index(p)
            for path, v in leaves(self.args[i]):
                block, shape, at = "", (), ()
                if path and isinstance(path[-1], tuple):
                    block = leaf_name(p, path[:-1])
                    shape = _get(self.args[i], path[:-1]).shape
                    at = path[-1]
                out.append(ArrayLeaf(p, i, path, leaf_name(p, path), v, p in self.constant,
                                     block, shape, at))
        return out

    def fresh(self) -> list[Any]:
        """The arguments, every array copied."""
        return [fresh(a) for a in self.args]

    def replace(self, leaf: Leaf, value: Any) -> list[Any]:
        args = self.fresh()
        if leaf.path and isinstance(leaf.path[-1], tuple):   # an element of an array
            _get(args[leaf.index], leaf.path[:-1])[leaf.path[-1]] = value
        else:
            args[leaf.index] = arguments.with_leaf(args[leaf.index], leaf.path, value)
        return args

    def substitute(self, make: Callable[[Leaf], Any],
                   keep: Callable[[Leaf], bool] = lambda leaf: False) -> list[Any]:
        """The arguments (arrays copied) with every active leaf not kept replaced by
        ``make(leaf)``; an array receiving something that is not a number (a ``Value``, a
        ``Traced``) becomes an object array of Python numbers and those."""
        subs = {(leaf.index, leaf.path): leaf for leaf in self.active() if not keep(leaf)}
        return [_build(a, i, (), subs, make) if any(k[0] == i for k in subs) else fresh(a)
                for i, a in enumerate(self.args)]


_get = arguments.at_path


def _build(x: Any, i: int, path: Path, subs: dict, make: Callable[[Leaf], Any]) -> Any:
    if is_array(x):
        import numpy as np
        new = {p[-1]: make(leaf) for (j, p), leaf in subs.items()
               if j == i and p[:-1] == path and p and isinstance(p[-1], tuple)}
        if all(isinstance(v, numbers.Real) for v in new.values()):
            out = x.copy()
        else:
            out = np.empty(x.shape, dtype=object)
            for k, v in enumerate(x.ravel().tolist()):
                out.flat[k] = v
        for idx, v in new.items():
            out[idx] = v
        return out
    items = arguments.parts(x)
    if items is not None:
        return arguments.rebuilt(x, [_build(v, i, path + (k,), subs, make) for k, v in items])
    leaf = subs.get((i, path))
    return make(leaf) if leaf is not None else x


def array_point(fn: Any, args: Sequence[Any], wrt: Any) -> Point:
    """The point ``args`` of ``fn``: a plain :class:`~symgrad.arguments.Point` when no
    argument holds an array, else an :class:`ArrayPoint`.  ``wrt=None``: every parameter
    whose argument is a number, a float array, or lists of them.  An integer or boolean
    array is passed as it is (an index array, a mask); naming one in ``wrt`` is an error.

    >>> import numpy as np
    >>> def f(x, idx):
    ...     return np.sum(x[idx])
    >>> array_point(f, (np.ones(3), np.array([0, 2])), None).wrt
    ['x']
    """
    params, name = params_of(fn), label(fn)
    full = arguments._bind(fn, name, params, args)
    if not has_arrays(full):
        return Point.at(fn, args, wrt)
    names = arguments._wrt_names(name, params, wrt) if wrt is not None else \
        [p for p, a in zip(params, full) if _numeric(a)]
    for p in names:
        a = full[params.index(p)]
        if not _numeric(a):
            what = f"an array of dtype {a.dtype}" if is_array(a) else \
                f"{type(a).__name__} {arguments._brief(a)}"
            fix = f"pass {p}.astype(float) to differentiate it, or " if is_array(a) and \
                a.dtype.kind in "iub" else ""
            raise SymgradError(f"wrt: argument {p} of {name} is {what}; check differentiates "
                               f"numbers, float arrays and lists of them: {fix}leave it out "
                               "of wrt=")
    if not names:
        raise SymgradError(f"no argument of {name} is a number, a float array or a list of "
                           "them: nothing to differentiate")
    return ArrayPoint(name, params, full, names)


def count(point: Point) -> int:
    """How many differentiated numbers sit in arrays at ``point`` (0 for a plain point)."""
    if not isinstance(point, ArrayPoint):
        return 0
    return sum(1 for leaf in point.active() if getattr(leaf, "block", ""))


# --------------------------------------------------------------------------- retargeting

def _object_array(x: Any) -> bool:
    return is_array(x) and x.dtype == object


class ArrayRetargeter(Retargeter):
    """A :class:`~symgrad.retarget.Retargeter` for functions of arrays: a primitive given an
    object array (of ``Value`` s or ``Traced`` numbers) applies element by element, with
    numpy's broadcasting; ``np.sum`` is numpy's own (any axis); every other numpy function
    is numpy's, which works on object arrays through the elements' operators.

    >>> import numpy as np
    >>> from symgrad import Value
    >>> def f(x):
    ...     return np.sum(np.tanh(x) * x)
    >>> xs = np.array([Value(0.5), Value(-1.0)], dtype=object)
    >>> y = ArrayRetargeter().function(f)(xs); y.backward()
    >>> round(xs[0].grad, 6)   # tanh(x) + x (1 - tanh(x)**2)
    0.855341
    """

    def __init__(self, symbolic: bool = False) -> None:
        super().__init__(symbolic)
        self.builtins["float"] = _Float

    def primitive(self, rule: str) -> Callable[..., Any]:
        base = super().primitive(rule)
        if getattr(base, "_elementwise", False):
            return base
        nary = rule not in ("max", "min")   # builtins max(xs) takes one iterable

        def fn(*args: Any, **kwargs: Any) -> Any:
            if not kwargs and any(map(_object_array, args)) and (nary or len(args) == 2):
                import numpy as np
                out = np.frompyfunc(base, len(args), 1)(*args)
                return out
            return base(*args, **kwargs)
        fn.__name__ = rule
        fn._elementwise = True  # type: ignore[attr-defined]
        self._primitives[rule] = fn
        return fn

    def _numpy_shim(self) -> Any:
        shim = super()._numpy_shim()
        if shim is not None:
            import numpy as np

            def np_sum(a: Any, *args: Any, **kwargs: Any) -> Any:
                if args or kwargs or any(is_array(v) for v in _containers(a)):
                    return np.sum(a, *args, **kwargs)
                return builtins.sum(a)
            shim.__dict__["sum"] = np_sum
            shim.__dict__["float64"] = _Float
            for name in _STRUCTURAL:
                if name not in shim.__dict__ and hasattr(np, name):
                    shim.__dict__[name] = _object_dtype(getattr(np, name)) \
                        if name in _MAKERS else getattr(np, name)
        return shim


#: numpy functions that only move, combine or reduce elements with their operators: on object
#: arrays of engine numbers numpy's own are right (the generated gradients call them too).
_STRUCTURAL = ("broadcast_to", "reshape", "transpose", "swapaxes", "moveaxis", "expand_dims",
               "squeeze", "ravel", "concatenate", "stack", "hstack", "vstack", "split",
               "array_split", "zeros_like", "ones_like", "full_like", "empty_like", "zeros",
               "ones", "full", "empty", "eye", "identity", "arange", "linspace", "outer",
               "inner", "dot", "vdot", "matmul", "tensordot", "einsum", "trace", "diag",
               "diagonal", "where", "mean", "prod", "max", "min", "amax", "amin", "take",
               "put", "add", "subtract", "multiply", "divide", "true_divide", "negative",
               "tile", "repeat", "cumsum", "cumprod", "clip", "shape", "size", "ndim",
               "asarray", "array", "copy", "flip", "roll", "atleast_1d", "atleast_2d",
               "var", "std", "average", "square", "ix_", "newaxis", "sort", "argsort",
               "argmax", "argmin", "take_along_axis", "put_along_axis", "result_type",
               "broadcast_arrays", "pad", "kron", "cross", "triu", "tril")


class _FloatMeta(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, builtins.float)

    def __subclasscheck__(cls, sub: Any) -> bool:
        return issubclass(sub, builtins.float)


class _Float(metaclass=_FloatMeta):
    """``float`` (and ``np.float64``) in a function run on object arrays: called, it leaves
    engine numbers alone (as the retargeted ``float`` does); as a dtype (``a.astype(float)``)
    numpy reads it as ``object``, so engine numbers are kept, not converted.

    >>> import numpy as np
    >>> _Float(2), isinstance(2.0, _Float), np.dtype(_Float)
    (2.0, True, dtype('O'))
    """

    def __new__(cls, x: Any = 0.0) -> Any:  # type: ignore[misc]
        from .retarget import _float
        return _float(x)


_MAKERS = frozenset({"zeros_like", "ones_like", "full_like", "empty_like", "asarray", "array",
                     "zeros", "ones", "full", "empty", "eye", "identity"})


def _object_dtype(make: Callable[..., Any]) -> Callable[..., Any]:
    """numpy's ``make`` where ``dtype=float`` (``float`` is the retargeted builtin there) made
    from an object array gives an object array: engine numbers are stored, not converted."""
    import numpy as np
    from .retarget import _float

    def fn(*args: Any, **kwargs: Any) -> Any:
        dtype = kwargs.get("dtype")
        if dtype is _Float or dtype is _float or dtype is builtins.float or \
                dtype is np.float64:
            like = any(_object_array(a) for a in args)
            kwargs["dtype"] = object if like else builtins.float
        return make(*args, **kwargs)
    fn.__name__ = getattr(make, "__name__", "make")
    return fn


def retarget_for(point: Any, fn: Callable[..., Any], symbolic: bool = False
                 ) -> Callable[..., Any]:
    """``fn`` retargeted for ``point``: by :class:`ArrayRetargeter` when it holds arrays."""
    from .retarget import Retargeter
    arrays = isinstance(point, ArrayPoint) or getattr(point, "arrays", False)
    rt = ArrayRetargeter(symbolic) if arrays else Retargeter(symbolic)
    run = rt.function(fn)

    def strict(*args: Any, **kwargs: Any) -> Any:
        # (a function passed in, model(p, x), runs on the engine's numbers too)
        args = tuple(rt.convert(a) if callable(a) and not isinstance(a, type) else a
                     for a in args)
        if not arrays:
            return run(*args, **kwargs)
        with strict_float():
            return run(*args, **kwargs)
    return strict


def specialized(gf: Any, args: Sequence[Any]) -> Any:
    """The generated function a call of the gradient ``gf`` with ``args`` runs: for array
    arguments the one made for their ranks (``args`` may be object arrays, only their shapes
    matter); otherwise ``gf`` itself."""
    from .api import GradFunction
    from .fixed_call import resolved
    if not isinstance(gf, GradFunction):
        return gf
    gf = resolved(gf, args)             # (made for the values of an axis passed in ...)
    from .param_classes import class_key
    if any(class_key(a) is not None for a in args[:len(gf.params)]):
        return gf._specialized(gf._array_key(tuple(args))).fn   # (records' classes)
    if not gf._result.uses_numpy or not has_arrays(args):
        return gf
    n = len(gf.params)
    key = tuple(gf._fixed.get(p) or (tuple(1 if d == 1 else "n" for d in a.shape)
                                     if is_array(a) else None)
                for p, a in zip(gf.params, args[:n]))
    return gf._specialized(key).fn


def unwrap(out: Any) -> Any:
    """A function's result on object arrays as one number: a 0-d or one-element array (or a
    numpy scalar) gives its element."""
    if hasattr(out, "shape") and hasattr(out, "dtype") and getattr(out, "size", 0) == 1:
        return out.reshape(()).item() if out.shape else out.item()
    return out
