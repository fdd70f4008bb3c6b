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

__all__ = ["has_varargs", "with_arity", "ByArity", "as_python"]

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
        make = _library_adapter if hasattr(fn, "__symgrad_library__") else _adapter
        made = per[(n, keywords)] = make(fn, n, keywords)
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


#: where a library's function is looked for, and how generated code spells that module
_HOMES = (("math", "math"), ("np", "numpy"), ("np.linalg", "numpy.linalg"),
          ("np.fft", "numpy.fft"), ("special", "scipy.special"), ("operator", "operator"),
          ("statistics", "statistics"), ("cmath", "cmath"), ("stats", "scipy.stats"))
_library: dict[Any, Any] = {}


def as_python(fn: Any) -> Any:
    """``fn`` itself, or for a library's function handed to symgrad directly
    (``grad(math.sin)``, ``grad(np.tanh)``, ``jacobian(np.cumsum)``,
    ``grad(scipy.special.gammaln)``), a Python function that calls it::

        def sin(*args, **kwargs):
            return math.sin(*args, **kwargs)

    differentiated as any call of it inside a function is (its rule or model), once per
    number of arguments given.  Its source is registered in ``linecache``.  A callable
    from no module symgrad knows is left as it is (its error says why)."""
    if type(fn) is types.FunctionType and not _in_library(fn):
        return fn
    try:
        made = _library.get(fn)
    except TypeError:                   # (not hashable)
        return fn
    if made is None:
        spelled = _spelling(fn)
        if spelled is None:
            return fn
        made = _library[fn] = _library_function(fn, *spelled)
    return made


def _in_library(fn: types.FunctionType) -> bool:
    """Is ``fn`` a Python function of a library module symgrad knows (``statistics``,
    numpy's)?  Most are not: their file decides it, looked up once per file."""
    filename = fn.__code__.co_filename
    known = _library_files.get(filename)
    if known is None:
        from .source import is_library
        known = _library_files[filename] = is_library(fn)
    return known and _spelling(fn) is not None


_library_files: dict[str, bool] = {}


def _spelling(fn: Any) -> tuple[str, str, Any] | None:
    """How generated code names ``fn``: (``"np.linalg.norm"``, the global ``np`` and its
    module), or None."""
    import builtins
    import sys
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier():
        return None
    if getattr(builtins, name, None) is fn:
        return name, "", None
    owner = getattr(fn, "__self__", None)      # (stats.norm.logpdf: a method of stats.norm)
    if owner is not None and not isinstance(owner, types.ModuleType) and not (
            type(owner).__module__ or "").startswith(("numpy", "scipy")):
        return None                            # (a method of the user's own object)
    for spelled, module in _HOMES:
        mod = sys.modules.get(module)
        if mod is None:
            continue
        root = spelled.split(".")[0]
        home = sys.modules[module.split(".")[0] if root == "np" else module]
        if getattr(mod, name, None) is fn:
            return f"{spelled}.{name}", root, home
        if owner is not None and not isinstance(owner, types.ModuleType):
            for attr, value in list(vars(mod).items()):
                if value is owner and attr.isidentifier() and getattr(owner, name, None) == fn:
                    return f"{spelled}.{attr}.{name}", root, home
    return None


def _library_function(fn: Any, spelled: str, root: str, module: Any) -> Any:
    name = spelled.rsplit(".", 1)[-1]
    made = _define(f"/symgrad/library/{spelled}.py",
                   f"def {name}(*args, **kwargs):\n    return {spelled}(*args, **kwargs)\n",
                   name, {root: module} if root else {})
    made.__doc__ = getattr(fn, "__doc__", None)
    made.__symgrad_library__ = (fn, spelled, root, module)     # (see _library_adapter)
    return made


def _define(filename: str, text: str, name: str, ns: dict) -> Any:
    """The function ``name`` that ``text`` defines, its source in ``linecache``."""
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    ns = {"__name__": "symgrad.library", **ns}
    local: dict[str, Any] = {}     # (the def apart from the globals: sum calls builtins' sum)
    exec(compile(text, filename, "exec"), ns, local)      # noqa: S102 - our own two lines
    return local[name]


def natural_arity(made: Any) -> int | None:
    """How many arguments a library function's stand-in is usually called with (a
    ufunc's inputs, the parameters without defaults), or None."""
    fn = getattr(made, "__symgrad_library__", (None,))[0]
    nin = getattr(fn, "nin", None)
    if isinstance(nin, int):
        return nin
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    n = sum(1 for p in params if p.default is p.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    return n or None


def _library_adapter(made: Any, n: int, keywords: tuple) -> Any:
    """The adapter of a library function's stand-in (:func:`as_python`) for ``n``
    positional arguments and ``keywords``: the call itself, its parameters named as the
    library names them where it says (``def atan2(y, x): return math.atan2(y, x)``)."""
    from .errors import ArgumentError
    fn, spelled, root, module = made.__symgrad_library__
    try:
        sig = [p.name for p in inspect.signature(fn).parameters.values()
               if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        sig = []
    name = spelled.rsplit(".", 1)[-1]
    names = sig[:n] if n <= len(sig) else []
    if not names or {root, name} & set(names) or len(set(names)) < n:   # (no shadowing)
        names = ["x"] if n == 1 else [f"x{k}" for k in range(n)]
    if set(names) & set(keywords) or not all(k.isidentifier() for k in keywords):
        raise ArgumentError(f"{spelled}: a keyword argument repeats a positional one's name")
    params = ", ".join([*names, *keywords])
    passed = ", ".join([*names, *(f"{k}={k}" for k in keywords)])
    made = _define(f"/symgrad/library/{spelled}_{n}_{next(_counter)}.py",
                   f"def {name}({params}):\n    return {spelled}({passed})\n", name,
                   {root: module} if root else {})
    made.__doc__ = getattr(fn, "__doc__", None)
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
