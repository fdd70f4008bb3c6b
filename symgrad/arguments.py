"""The point a check runs at: arguments as nested lists of numbers, their leaves and names.

A list argument is differentiated number by number; each number is a *leaf* with a
*path* (its indices) and a name (``xs[1]``, ``W[0][2]``).

>>> list(leaves([[1.0, 2.0], [3.0]]))
[((0, 0), 1.0), ((0, 1), 2.0), ((1, 0), 3.0)]
>>> leaf_name("W", (0, 1))
'W[0][1]'
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .api import Wrt
from .errors import SymgradError

__all__ = ["floatify", "label", "leaf_name", "leaves", "map_leaves", "params_of", "resolve",
           "with_leaf"]

Path = tuple[int, ...]


def leaves(x: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """``(path, number)`` for every number in nested lists/tuples ``x``.

    >>> list(leaves(2.0)), list(leaves((1.0, [2.0])))
    ([((), 2.0)], [((0,), 1.0), ((1, 0), 2.0)])
    """
    if isinstance(x, (list, tuple)):
        for k, v in enumerate(x):
            yield from leaves(v, path + (k,))
    else:
        yield path, x


def map_leaves(x: Any, fn: Callable[[Path, Any], Any], path: Path = ()) -> Any:
    """``x`` with every number replaced by ``fn(path, number)`` (lists stay lists, tuples
    tuples).

    >>> map_leaves([1.0, (2.0, 3.0)], lambda path, v: v * 10)
    [10.0, (20.0, 30.0)]
    """
    if isinstance(x, (list, tuple)):
        return type(x)(map_leaves(v, fn, path + (k,)) for k, v in enumerate(x))
    return fn(path, x)


def with_leaf(x: Any, path: Path, value: Any) -> Any:
    """A copy of ``x`` with the number at ``path`` replaced.

    >>> xs = [1.0, [2.0, 3.0]]
    >>> with_leaf(xs, (1, 0), 9.0), xs
    ([1.0, [9.0, 3.0]], [1.0, [2.0, 3.0]])
    """
    if not path:
        return value
    parts = list(x)
    parts[path[0]] = with_leaf(parts[path[0]], path[1:], value)
    return type(x)(parts)


def leaf_name(param: str, path: Path) -> str:
    """The name of the number at ``path`` in argument ``param``.

    >>> leaf_name("x", ()), leaf_name("xs", (2,))
    ('x', 'xs[2]')
    """
    return param + "".join(f"[{k}]" for k in path)


def label(fn: Any) -> str:
    """How a function is named in messages: its qualified name.

    >>> def f(x):
    ...     return x
    >>> label(f)
    'f'
    """
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def params_of(fn: Any) -> list[str]:
    """The parameter names of ``fn`` (of the original function for a gradient).

    >>> def f(x, y=2.0):
    ...     return x * y
    >>> params_of(f)
    ['x', 'y']
    """
    from .api import _params_of
    return _params_of(fn)


def resolve(fn: Any, args: Sequence[Any], wrt: Wrt) -> tuple[list[str], list[int]]:
    """Parameter names and the indices to differentiate.  ``wrt=None``: every parameter whose
    argument is not an ``int`` (ints are counts and indices, held constant).

    >>> def f(x, n):
    ...     return x * n
    >>> resolve(f, (2.0, 3), None)
    (['x', 'n'], [0])
    """
    from .api import _resolve_wrt
    params = params_of(fn)
    if args and len(args) != len(params):
        n = len(params)
        raise SymgradError(f"{label(fn)} takes {n} argument{'s' * (n != 1)} "
                           f"({', '.join(params)}), got {len(args)}")
    if wrt is None and args:
        idx = [i for i, a in enumerate(args) if not isinstance(a, (bool, numbers.Integral))]
        if not idx:
            raise SymgradError(f"every argument of {label(fn)} is an int, and ints are held "
                               "constant: pass floats (2.0) or name the parameters in wrt=")
        return params, idx
    return params, _resolve_wrt(params, wrt, fn)[0]


def floatify(args: Sequence[Any], idx: Sequence[int]) -> list[Any]:
    """Differentiated arguments as floats (so an int 2 named in wrt works).

    >>> floatify([2, [3, 4], 5], [1])
    [2, [3.0, 4.0], 5]
    """
    return [map_leaves(a, lambda p, v: float(v)) if i in idx else a for i, a in enumerate(args)]

