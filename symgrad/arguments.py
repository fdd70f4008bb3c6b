"""The point a check runs at: one argument per parameter (defaults filled in), which of
them are differentiated, and their numbers (*leaves*: a list argument is differentiated
number by number, each with a *path* of indices and a name such as ``xs[1]``).

The rule for ints (README, "One rule for ints"): an ``int`` is a number like a float and is
differentiated like one; a parameter the gradient declares *inactive* (it reaches the result
only through counts, indices and comparisons) is held constant instead.

>>> def f(x, xs, n=3):
...     return x * sum(xs) * n
>>> p = Point.at(f, (2.0, [1.0, 2.0]))
>>> p.args, p.wrt, [leaf.name for leaf in p.leaves()]
([2.0, [1.0, 2.0], 3], ['x', 'xs', 'n'], ['x', 'xs[0]', 'xs[1]', 'n'])
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .api import GradFunction, Wrt
from .errors import SymgradError

__all__ = ["Leaf", "Point", "is_numeric", "label", "leaf_name", "leaves", "map_leaves",
           "params_of", "with_leaf"]

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
    """The positional parameter names of ``fn`` (of the original function for a gradient).

    >>> def f(x, y=2.0):
    ...     return x * y
    >>> params_of(f)
    ['x', 'y']
    """
    if isinstance(fn, GradFunction):
        return list(fn.params)
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in _signature(fn).parameters.values() if p.kind in kinds]


def _signature(fn: Any) -> inspect.Signature:
    try:
        return inspect.signature(fn.fast if isinstance(fn, GradFunction) else fn)
    except (TypeError, ValueError):
        raise SymgradError(f"cannot read the parameters of {fn!r}: not a Python function") \
            from None


def _is_array(x: Any) -> bool:
    """A numpy (or similar) array; numpy's scalars such as ``float64`` are numbers."""
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, numbers.Real)


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and not _is_array(x)


def is_numeric(x: Any) -> bool:
    """A number or a (nested) list/tuple of numbers: what check can differentiate.

    >>> is_numeric(2), is_numeric([1.0, [2, 3.5]]), is_numeric(True), is_numeric("a")
    (True, True, False, False)
    """
    return all(_is_number(v) for _, v in leaves(x))


@dataclass(frozen=True)
class Leaf:
    """One differentiated number: parameter ``param`` (position ``index``), ``path`` in it,
    ``name`` (``xs[1]``), ``value``, and whether the parameter is held ``constant``."""

    param: str
    index: int
    path: Path
    name: str
    value: Any
    constant: bool = False

    @property
    def is_int(self) -> bool:
        """An ``int`` (which ``f`` may also use as a count or index).

        >>> Leaf("n", 1, (), "n", 3).is_int, Leaf("x", 0, (), "x", 3.0).is_int
        (True, False)
        """
        return isinstance(self.value, numbers.Integral)


@dataclass
class Point:
    """The arguments of ``function`` (one per parameter in ``params``, defaults filled
    in), the parameters differentiated (``wrt``, in the order asked for) and those of them
    held ``constant`` (inactive in the gradient).  Build one with :meth:`at`."""

    function: str
    params: list[str]
    args: list[Any]
    wrt: list[str]
    constant: tuple[str, ...] = ()

    @classmethod
    def at(cls, fn: Any, args: Sequence[Any], wrt: Wrt = None) -> Point:
        """The point ``args`` of ``fn``.  ``wrt=None``: every parameter whose argument is a
        number or a list of numbers (ints included); the others (strings, flags, objects) are
        passed as they are.  Arrays are refused (not supported by check yet).

        >>> def f(x, n, mode="fast"):
        ...     return x * n
        >>> Point.at(f, (2.0, 3)).wrt
        ['x', 'n']
        """
        params, name = params_of(fn), label(fn)
        full = _bind(fn, name, params, args)
        for p, a in zip(params, full):
            if any(_is_array(v) for _, v in leaves(a)):
                raise SymgradError(
                    f"{name}: argument {p} is an array ({type(a).__name__}); check and "
                    "symbolic take numbers and lists of numbers, arrays are not supported "
                    f"by them yet (pass {p}.tolist() if {name} also works on lists)")
        names = _wrt_names(name, params, wrt) if wrt is not None else \
            [p for p, a in zip(params, full) if is_numeric(a)]
        for p in names:
            a = full[params.index(p)]
            if not is_numeric(a):
                raise SymgradError(f"wrt: argument {p} of {name} is {type(a).__name__} "
                                   f"{_brief(a)}; check differentiates numbers and lists of "
                                   "numbers: leave it out of wrt=")
        if not names:
            raise SymgradError(f"no argument of {name} is a number or a list of numbers: "
                               "nothing to differentiate")
        return cls(name, params, full, names)

    def leaves(self) -> list[Leaf]:
        """Every differentiated number, in ``wrt`` order.

        >>> def f(x, ys):
        ...     return x * ys[0]
        >>> [(leaf.name, leaf.value) for leaf in Point.at(f, (2.0, [3, 4]), wrt="ys").leaves()]
        [('ys[0]', 3), ('ys[1]', 4)]
        """
        out = []
        for p in self.wrt:
            i = self.params.index(p)
            out += [Leaf(p, i, path, leaf_name(p, path), v, p in self.constant)
                    for path, v in leaves(self.args[i])]
        return out

    def active(self) -> list[Leaf]:
        """The numbers the engines differentiate (not held constant).

        >>> def f(x, n):
        ...     return x * n
        >>> p = Point.at(f, (2.0, 3))
        >>> p.constant = ("n",)
        >>> [leaf.name for leaf in p.active()]
        ['x']
        """
        return [leaf for leaf in self.leaves() if not leaf.constant]

    def replace(self, leaf: Leaf, value: Any) -> list[Any]:
        """The arguments with ``leaf`` replaced by ``value``.

        >>> def f(x, ys):
        ...     return x * ys[1]
        >>> p = Point.at(f, (2.0, [3.0, 4.0]))
        >>> p.replace(p.leaves()[2], 9.0), p.args
        ([2.0, [3.0, 9.0]], [2.0, [3.0, 4.0]])
        """
        args = list(self.args)
        args[leaf.index] = with_leaf(args[leaf.index], leaf.path, value)
        return args

    def substitute(self, make: Callable[[Leaf], Any],
                   keep: Callable[[Leaf], bool] = lambda leaf: False) -> list[Any]:
        """The arguments with every active leaf replaced by ``make(leaf)`` (except those
        ``keep`` keeps as they are).

        >>> def f(x, n):
        ...     return x * n
        >>> Point.at(f, (2.0, 3)).substitute(lambda leaf: leaf.name, lambda leaf: leaf.is_int)
        ['x', 3]
        """
        args = list(self.args)
        for leaf in self.active():
            if not keep(leaf):
                args[leaf.index] = with_leaf(args[leaf.index], leaf.path, make(leaf))
        return args


def _bind(fn: Any, name: str, params: list[str], args: Sequence[Any]) -> list[Any]:
    """One argument per parameter: ``args`` followed by the defaults, as a call binds them."""
    sig = _signature(fn)
    try:
        if len(args) > len(params):
            raise TypeError
        bound = sig.bind_partial(*args)
        bound.apply_defaults()
        return [bound.arguments[p] for p in params]
    except (TypeError, KeyError):
        shown = [str(sig.parameters[p]) for p in params]
        need = sum(sig.parameters[p].default is inspect.Parameter.empty for p in params)
        n = str(len(params)) if need == len(params) else f"{need} to {len(params)}"
        raise SymgradError(f"{name} takes {n} argument{'s' * (n != '1')} "
                           f"({', '.join(shown)}), got {len(args)}") from None


def _wrt_names(name: str, params: list[str], wrt: Wrt) -> list[str]:
    """``wrt`` (a name, an index or a sequence of them) as parameter names."""
    items = [wrt] if isinstance(wrt, (str, int)) else list(wrt)  # type: ignore[arg-type]
    out = []
    for w in items:
        if isinstance(w, int) and not isinstance(w, bool) and -len(params) <= w < len(params):
            out.append(params[w])
        elif isinstance(w, str) and w in params:
            out.append(w)
        else:
            raise SymgradError(f"wrt={w!r}: {name} has no such parameter; its parameters are "
                               f"{', '.join(params)}")
    return out


def _brief(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."
