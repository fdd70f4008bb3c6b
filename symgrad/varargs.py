"""Functions with ``*args`` or ``**kwargs``: differentiated for each number of arguments
(and keyword names) they are called with, through an adapter with that many plain
parameters that calls them.

``def f(x, *rest)`` called with three arguments is differentiated as

    def f(x, rest0, rest1):
        return _fn(x, rest0, rest1)

whose call of ``f`` is inlined as any call with ``*args`` is; ``f(x, scale=2.0)`` of
``def f(x, **opts)`` through ``def f(x, scale): return _fn(x, scale=scale)``, so the
gradient has one entry per argument as passed: the positional ones, then the keyword
ones in the call's order.  The adapter's source is
registered in ``linecache`` (as a function typed in a notebook is), so it reads like
user code and shows in tracebacks.
"""

from __future__ import annotations

import inspect
import itertools
import linecache
import types
import weakref
from typing import Any, Callable

__all__ = ["has_varargs", "with_arity", "ByArity"]

_adapters: "weakref.WeakKeyDictionary[Any, dict[int, Any]]" = weakref.WeakKeyDictionary()
_counter = itertools.count(1)


def has_varargs(fn: Any) -> bool:
    """Is ``fn`` a plain function with ``*args`` or ``**kwargs``, whose parameters are
    not known otherwise (a ``functools.wraps`` wrapper has its function's)?"""
    code = getattr(fn, "__code__", None)
    return type(fn) is types.FunctionType and code is not None and bool(
        code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)) \
        and not {"__wrapped__", "__signature__"} & fn.__dict__.keys()


def with_arity(fn: Any, n: int, keywords: tuple = ()) -> Any:
    """The adapter of ``fn`` for ``n`` positional arguments and the keyword arguments
    ``keywords`` (by name, in the call's order; made once per such call form)."""
    per = _adapters.setdefault(fn, {})
    made = per.get((n, keywords))
    if made is None:
        made = per[(n, keywords)] = _adapter(fn, n, keywords)
    return made


def _adapter(fn: types.FunctionType, n: int, keywords: tuple = ()) -> Any:
    from .errors import ArgumentError
    code = fn.__code__
    fixed = list(code.co_varnames[:code.co_argcount])
    has_star = bool(code.co_flags & inspect.CO_VARARGS)
    star = code.co_varnames[code.co_argcount + code.co_kwonlyargcount] if has_star else ""
    defaults = fn.__defaults__ or ()
    if n + len(set(keywords) & set(fixed[n:])) < len(fixed) - len(defaults):
        raise ArgumentError(f"{fn.__qualname__} takes at least "
                            f"{len(fixed) - len(defaults)} arguments, {n} given")
    if n > len(fixed) and not has_star:
        raise ArgumentError(f"{fn.__qualname__} takes at most {len(fixed)} positional "
                            f"arguments, {n} given")
    names = fixed[:n] + [f"{star}{k}" for k in range(n - len(fixed))]
    everything = names + list(keywords)
    if len(set(everything) | {"_fn"}) != len(everything) + 1 or not all(
            k.isidentifier() for k in keywords):
        raise ArgumentError(f"{fn.__qualname__}: the names symgrad gives the items of "
                            f"*{star} ({star}0, {star}1, ...) clash with a parameter, or "
                            "a keyword is given twice or is not a name")
    params = ", ".join(everything)
    passed = ", ".join(names + [f"{k}={k}" for k in keywords])
    name = fn.__name__ if fn.__name__.isidentifier() else "f"       # (a lambda: f)
    filename = f"/symgrad/varargs/{name}_{n}_{next(_counter)}.py"
    text = f"def {name}({params}):\n    return _fn({passed})\n"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    ns: dict[str, Any] = {"_fn": fn, "__name__": fn.__module__}
    exec(compile(text, filename, "exec"), ns)      # noqa: S102 - our own two lines
    made = ns[name]
    made.__qualname__ = fn.__qualname__
    made.__doc__ = fn.__doc__
    return made


class ByArity:
    """What ``grad`` (``jacobian``, ...) of a function with ``*args`` returns: called with
    ``n`` arguments, it runs ``make(adapter for n)`` (made once per ``n``).  ``source``
    is the generated code the last call ran."""

    def __init__(self, fn: Any, make: Callable[[Any], Any]):
        self.fn = fn
        self._make = make
        self._made: dict[int, Any] = {}
        self.source = ""
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", "f")

    def for_arity(self, n: int, keywords: tuple = ()) -> Any:
        """The derivative made for ``n`` positional arguments and the keyword arguments
        ``keywords`` (its ``source``, ``fast`` ...)."""
        made = self._made.get((n, keywords))
        if made is None:
            made = self._made[(n, keywords)] = self._make(with_arity(self.fn, n, keywords))
        return made

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        made = self.for_arity(len(args), tuple(kwargs))
        self.source = getattr(made, "source", "")
        return made(*args, *kwargs.values())

    def __repr__(self) -> str:
        return f"<symgrad derivative of {getattr(self.fn, '__qualname__', self.fn)} (*args)>"
