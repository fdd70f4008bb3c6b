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

import copy
import dataclasses
import inspect
import numbers
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .api import GradFunction, Wrt
from .errors import SymgradError

__all__ = ["Attr", "Key", "Leaf", "Point", "at_path", "holds_numbers", "is_numeric",
           "is_record", "label", "leaf_name", "leaves", "map_leaves", "params_of", "part",
           "parts", "rebuilt", "with_leaf"]

Path = tuple[int, ...]


@dataclass(frozen=True)
class Key:
    """A dict key in a leaf's path (``params['w']``)."""

    key: Any

    def __str__(self) -> str:
        return f"[{self.key!r}]"


@dataclass(frozen=True)
class Attr:
    """A field in a leaf's path: a NamedTuple's or a dataclass's (``p.w``)."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


def parts(x: Any) -> list[tuple[Any, Any]] | None:
    """The parts of a container, as ``(path element, value)``: the items of a list or
    tuple (by index), of a dict (by :class:`Key`), the fields of a NamedTuple or a
    dataclass (by :class:`Attr`); None for anything else (a leaf).

    >>> from typing import NamedTuple
    >>> class P(NamedTuple):
    ...     w: float
    ...     b: float
    >>> parts([1.0, 2.0]), parts({"w": 1.0}), parts(P(1.0, 2.0)), parts(1.0)
    ([(0, 1.0), (1, 2.0)], [(Key(key='w'), 1.0)], [(Attr(name='w'), 1.0), (Attr(name='b'), 2.0)], None)
    """
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return [(Attr(n), v) for n, v in zip(x._fields, x)]
    if isinstance(x, (list, tuple)):
        return list(enumerate(x))
    if isinstance(x, dict):
        return [(Key(k), v) for k, v in x.items()]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return [(Attr(f.name), getattr(x, f.name)) for f in dataclasses.fields(x)]
    return None


def is_record(x: Any) -> bool:
    """A dict, NamedTuple or dataclass: its parts that hold no numbers (a name, a flag)
    are not differentiated and are passed as they are."""
    return isinstance(x, dict) or (isinstance(x, tuple) and hasattr(x, "_fields")) or (
        dataclasses.is_dataclass(x) and not isinstance(x, type))


def rebuilt(x: Any, values: Sequence[Any]) -> Any:
    """A container like ``x`` holding ``values`` in place of its parts (in the order of
    :func:`parts`); ``x`` is not changed.

    >>> rebuilt({"w": 1.0, "b": 2.0}, [3.0, 4.0]), rebuilt((1.0, 2.0), [5.0, 6.0])
    ({'w': 3.0, 'b': 4.0}, (5.0, 6.0))
    """
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*values)
    if isinstance(x, (list, tuple)):
        return type(x)(values)
    if isinstance(x, dict):
        out = dict(zip(x.keys(), values))
        return out if type(x) is dict else type(x)(out)
    new = copy.copy(x)
    for f, v in zip(dataclasses.fields(x), values):
        object.__setattr__(new, f.name, v)       # (a frozen dataclass too)
    return new


def part(x: Any, k: Any) -> Any:
    """The part of ``x`` at path element ``k`` (an index, a :class:`Key`, an
    :class:`Attr`, or an array index tuple)."""
    t = type(k)
    if t is Key:
        return x[k.key]
    if t is Attr:
        return getattr(x, k.name)
    return x[k]


def at_path(x: Any, path: Path) -> Any:
    """The value at ``path`` in ``x`` (a gradient is read by the paths of the
    argument's leaves, whatever container types it comes in).

    >>> at_path({"w": [1.0, 2.0]}, (Key("w"), 1))
    2.0
    """
    for k in path:
        x = part(x, k)
    return x


def holds_numbers(x: Any) -> bool:
    """Does ``x`` hold anything but names, flags and functions (``str``, ``bool``,
    ``None``, callables): a part of a record that does is differentiated, one that does
    not is passed as it is.  (The numbers may already be symbols or ``Value`` s.)"""
    items = parts(x)
    if items is None:
        return not (x is None or isinstance(x, (str, bytes, bool)) or (
            callable(x) and not isinstance(x, numbers.Number)))
    return any(holds_numbers(v) for _, v in items)


def leaves(x: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """``(path, number)`` for every number in ``x``: nested lists and tuples, and the
    parts of dicts, NamedTuples and dataclasses that hold numbers.

    >>> list(leaves(2.0)), list(leaves((1.0, [2.0])))
    ([((), 2.0)], [((0,), 1.0), ((1, 0), 2.0)])
    >>> [(leaf_name("p", path), v) for path, v in leaves({"w": 2.0, "name": "a"})]
    [("p['w']", 2.0)]
    """
    items = parts(x)
    if items is None:
        yield path, x
        return
    record = is_record(x)
    for k, v in items:
        if not record or holds_numbers(v):
            yield from leaves(v, path + (k,))


def map_leaves(x: Any, fn: Callable[[Path, Any], Any], path: Path = ()) -> Any:
    """``x`` with every number replaced by ``fn(path, number)`` (containers keep their
    types; the parts of a record that hold no numbers stay as they are).

    >>> map_leaves([1.0, (2.0, 3.0)], lambda path, v: v * 10)
    [10.0, (20.0, 30.0)]
    """
    items = parts(x)
    if items is None:
        return fn(path, x)
    record = is_record(x)
    return rebuilt(x, [map_leaves(v, fn, path + (k,)) if not record or holds_numbers(v)
                       else v for k, v in items])


def with_leaf(x: Any, path: Path, value: Any) -> Any:
    """A copy of ``x`` with the number at ``path`` replaced.

    >>> xs = [1.0, [2.0, 3.0]]
    >>> with_leaf(xs, (1, 0), 9.0), xs
    ([1.0, [9.0, 3.0]], [1.0, [2.0, 3.0]])
    """
    if not path:
        return value
    items = parts(x)
    assert items is not None
    return rebuilt(x, [with_leaf(v, path[1:], value) if k == path[0] else v
                       for k, v in items])


def leaf_name(param: str, path: Path) -> str:
    """The name of the number at ``path`` in argument ``param``.

    >>> leaf_name("x", ()), leaf_name("xs", (2,))
    ('x', 'xs[2]')
    """
    return param + "".join(f"[{k}]" if type(k) is int else str(k) for k in path)


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
    """A number, (nested) lists and tuples of numbers, or a record (a dict, NamedTuple or
    dataclass) holding them: what check can differentiate.

    >>> is_numeric(2), is_numeric([1.0, [2, 3.5]]), is_numeric(True), is_numeric("a")
    (True, True, False, False)
    >>> is_numeric({"w": [1.0], "name": "a"}), is_numeric({"name": "a"})
    (True, False)
    """
    if is_record(x) and not holds_numbers(x):
        return False
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
        args = self.fresh()
        args[leaf.index] = with_leaf(args[leaf.index], leaf.path, value)
        return args

    def fresh(self) -> list[Any]:
        """A copy of the arguments (``f`` may change the lists it is given), sharing as
        they share.

        >>> def f(xs):
        ...     xs.append(1.0)
        ...     return xs[0]
        >>> p = Point.at(f, ([2.0],))
        >>> f(*p.fresh()), p.args
        (2.0, [[2.0]])
        """
        return copy.deepcopy(self.args)

    def substitute(self, make: Callable[[Leaf], Any],
                   keep: Callable[[Leaf], bool] = lambda leaf: False) -> list[Any]:
        """The arguments with every active leaf replaced by ``make(leaf)`` (except those
        ``keep`` keeps as they are).

        >>> def f(x, n):
        ...     return x * n
        >>> Point.at(f, (2.0, 3)).substitute(lambda leaf: leaf.name, lambda leaf: leaf.is_int)
        ['x', 3]
        """
        args = self.fresh()
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
