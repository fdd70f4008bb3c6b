"""Retargeting (DESIGN.md section 5): one function body, every kind of number.

:class:`Retargeter` copies a function with the *same code object* and a new globals dict in
which ``math`` and ``numpy`` are shims whose attributes are symgrad's generic functions
(``symgrad.exp``, ``symgrad.tanh`` ...), names imported from them (``from math import exp``)
are generic functions too, the builtins ``abs max min pow float int round`` are shadowed by
versions that accept ``Value`` s, and the user's own helper functions and modules are
retargeted in turn.  The copy runs on floats, on :class:`~symgrad.Value` s and on
:class:`~symgrad.traced.Traced` SymPy numbers.

>>> import math
>>> from symgrad import Value
>>> def f(x):
...     return math.exp(x) * abs(x)
>>> x = Value(-1.0)
>>> retarget(f)(x).backward()
>>> round(x.grad, 6)   # d/dx e^x |x| = e^x (|x| + sign x) = 0 at x = -1
0.0
"""

from __future__ import annotations

import builtins
import math
import numbers
import os
import sys
import sysconfig
import types
from collections.abc import Callable
from typing import Any

from . import rules
from .api import GradFunction
from .engine import Value
from .errors import SymgradError
from .traced import SymbolicError, Traced, to_expr

__all__ = ["Retargeter", "is_library_file", "retarget"]

_LIB_DIRS = tuple(sorted({os.path.realpath(p) + os.sep for k, p in sysconfig.get_paths().items()
                          if k in ("stdlib", "platstdlib", "purelib", "platlib")}))
_SYMGRAD_DIR = os.path.dirname(os.path.realpath(__file__)) + os.sep


def is_library_file(filename: str | None) -> bool:
    """Is ``filename`` part of Python, an installed package or symgrad itself (not user code)?

    >>> import json
    >>> is_library_file(json.__file__), is_library_file("/home/me/model.py")
    (True, False)
    """
    if not filename or filename.startswith("<"):
        return False  # a doctest, the REPL, generated code: user code
    path = os.path.realpath(filename)
    return path.startswith(_LIB_DIRS) or path.startswith(_SYMGRAD_DIR)


def _is_active(x: Any) -> bool:
    return isinstance(x, (Value, Traced))


def _plain(x: Any) -> Any:
    """The float behind an engine number (``Value.data``, ``Traced.val``); anything else as is."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, Traced):
        return x.float_value()
    return x


def _fold(rule: str, builtin: Callable[..., Any]) -> Callable[..., Any]:
    """``max``/``min`` of any number of arguments (or one iterable), pairwise through the rule
    from the left, as Python does (ties keep the earlier argument)."""
    def fn(*args: Any, **kwargs: Any) -> Any:
        items = list(args[0]) if len(args) == 1 else list(args)
        if kwargs or not items or not any(_is_active(v) for v in items):
            return builtin(*args, **kwargs)
        out = items[0]
        for v in items[1:]:
            out = rules.apply(rule, out, v)
        return out
    fn.__name__ = builtin.__name__
    return fn


def _passive(label: str, fn: Callable[..., Any], constant: bool) -> Callable[..., Any]:
    """A library function without a derivative rule.  ``constant``: its result is piecewise
    constant (``floor``, ``isnan`` ...), so it runs on the float values; otherwise an engine
    number as argument is an error that names the call."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # (an iterable argument is read through: math.fsum(x * v for v in xs) must not
        # turn engine numbers into floats, a derivative silently lost)
        args = tuple(list(a) if isinstance(a, types.GeneratorType) else a for a in args)
        if any(_is_active(a) or isinstance(a, (list, tuple)) and any(map(_is_active, a))
               for a in args):
            if not constant:
                kind = type(next(a for a in args if _is_active(a))).__name__
                raise SymbolicError(f"{label}() has no derivative rule in symgrad, so it cannot "
                                    f"run on {kind} numbers (add one with "
                                    "symgrad.register_rule)")
            args = tuple(type(a)(map(_plain, a)) if isinstance(a, (list, tuple)) else
                         _plain(a) for a in args)
        return fn(*args, **kwargs)
    wrapper.__name__ = getattr(fn, "__name__", label)
    return wrapper


_CONSTANT_FUNCS = frozenset({"floor", "ceil", "trunc", "isnan", "isinf", "isfinite", "isclose",
                             "sign", "signbit", "rint", "round", "fix", "isreal", "iscomplex"})


class _Shim:
    """Stands for ``math`` or ``numpy`` in a retargeted function: the names symgrad knows
    are generic functions, other functions check their arguments (see :func:`_passive`)."""

    def __init__(self, module: types.ModuleType, names: dict[str, Any],
                 primitive: Callable[[str], Any]) -> None:
        self.__dict__.update(names)
        self._module, self._primitive = module, primitive

    def __getattr__(self, name: str) -> Any:
        obj = getattr(self._module, name)
        if callable(obj) and not isinstance(obj, type):
            info = rules.lookup_callable(obj)  # e.g. registered later with register_rule
            obj = self._primitive(info.rule) if info is not None else \
                _passive(f"{self._module.__name__}.{name}", obj, name in _CONSTANT_FUNCS)
        self.__dict__[name] = obj
        return obj

    def __repr__(self) -> str:
        return f"<symgrad shim of module {self._module.__name__!r}>"


class _ModuleProxy:
    """A user module seen from a retargeted function: its functions come out retargeted."""

    def __init__(self, module: types.ModuleType, convert: Callable[[Any], Any],
                 call: Callable[..., Any] | None = None) -> None:
        self._module, self._convert, self._call = module, convert, call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:   # (stats.norm(mu, s): its model)
        if self._call is None:
            raise TypeError(f"{self._module!r} is not callable here")
        return self._call(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        obj = self._convert(getattr(self._module, name))
        self.__dict__[name] = obj
        return obj


def _code_names(code: types.CodeType) -> set[str]:
    """Every global/attribute name ``code`` and the code nested in it mention."""
    names = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            names |= _code_names(c)
    return names


class Retargeter:
    """Copies of functions that run on ``Value`` s (``symbolic=False``) or on :class:`Traced`
    SymPy numbers (``symbolic=True``), and still on floats.

    One instance memoizes everything it made, so mutually recursive helpers and helpers
    shared by several functions are copied once.

    >>> import math
    >>> def f(x):
    ...     return math.exp(x) * abs(x)
    >>> g = Retargeter().function(f)
    >>> y = g(Value(-1.0)); y.backward()
    >>> g.__code__ is f.__code__, round(y.data, 6)
    (True, 0.367879)
    """

    def __init__(self, symbolic: bool = False) -> None:
        self.symbolic = symbolic
        self._functions: dict[int, tuple[Any, Any]] = {}
        self._globals: dict[int, tuple[dict, dict, set]] = {}
        self._modules: dict[int, tuple[Any, Any]] = {}
        self._primitives: dict[str, Callable[..., Any]] = {}
        self.math = self._math_shim()
        self.numpy = self._numpy_shim()
        self.builtins = {"abs": self.primitive("abs"), "max": self.primitive("max"),
                         "min": self.primitive("min"), "pow": self.primitive("pow"),
                         "float": _float, "int": _int, "round": _round, "type": _type}

    # ------------------------------------------------------------------ generic functions
    def primitive(self, rule: str) -> Callable[..., Any]:
        """The function meaning rule ``rule`` on every kind of number (``log`` takes an
        optional base, ``max``/``min`` any number of arguments, ``pow`` an optional modulus).

        >>> log = Retargeter().primitive("log")
        >>> log(8.0, 2.0), log(Value(1.0)).data
        (3.0, 0.0)
        """
        fn = self._primitives.get(rule)
        if fn is None:
            base = self._apply(rule)
            if rule in ("max", "min"):
                fn = _fold(rule, getattr(builtins, rule))
            elif rule == "log":
                def fn(x: Any, b: Any = None) -> Any:
                    return base(x) if b is None else base(x) / base(b)
            elif rule == "pow":
                def fn(x: Any, y: Any, mod: Any = None) -> Any:
                    return base(x, y) if mod is None else builtins.pow(x, y, mod)
            else:
                fn = base
            fn.__name__ = rule
            self._primitives[rule] = fn
        return fn

    def _apply(self, rule: str) -> Callable[..., Any]:
        """``rules.apply(rule, ...)``; on SymPy, a transcendental function of constants is
        exact (``math.log(2)`` is ``log(2)``, not 0.693...)."""
        if not self.symbolic or rule in ("abs", "max", "min", "pow", "floordiv", "mod"):
            return lambda *args: rules.apply(rule, *args)

        def fn(*args: Any) -> Any:
            if not any(map(_is_active, args)) and all(isinstance(a, numbers.Real) for a in args):
                args = tuple(Traced(to_expr(a), a) for a in args)
            return rules.apply(rule, *args)
        return fn

    def _constant(self, value: float, expr: str) -> Any:
        if not self.symbolic:
            return value
        import sympy
        return Traced(sympy.sympify(expr), value)

    def _math_shim(self) -> _Shim:
        names: dict[str, Any] = {r.math_name: self.primitive(n) for n, r in rules.RULES.items()
                                 if r.math_name and hasattr(math, r.math_name)}
        names.update(log=self.primitive("log"), pow=self.primitive("pow"),
                     fabs=self.primitive("abs"), fsum=_fsum, pi=self._constant(math.pi, "pi"),
                     e=self._constant(math.e, "E"), tau=self._constant(math.tau, "2*pi"),
                     inf=math.inf, nan=math.nan)
        return _Shim(math, names, self.primitive)

    def _numpy_shim(self) -> _Shim | None:
        np = sys.modules.get("numpy")
        if np is None:
            return None
        names: dict[str, Any] = {r.numpy_name: self.primitive(n) for n, r in rules.RULES.items()
                                 if r.numpy_name}
        for alias, rule in (("absolute", "abs"), ("fabs", "abs"), ("fmax", "max"),
                            ("fmin", "min"), ("asin", "asin"), ("acos", "acos"),
                            ("atan", "atan"), ("atan2", "atan2"), ("pow", "pow")):
            names[alias] = self.primitive(rule)
        names.update(pi=self._constant(math.pi, "pi"), e=self._constant(math.e, "E"),
                     inf=math.inf, nan=math.nan, float64=_float, float32=_float, sum=builtins.sum)
        return _Shim(np, names, self.primitive)

    # ------------------------------------------------------------------ functions
    def function(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """A copy of ``fn`` (same code object) whose globals and closure are retargeted.

        A :class:`~symgrad.GradFunction` gives its retargeted generated function.

        >>> def f(x):
        ...     return math.sqrt(x)
        >>> g = Retargeter().function(f)
        >>> g.__code__ is f.__code__, g(Value(4.0)).data
        (True, 2.0)
        """
        if isinstance(fn, GradFunction):
            fn = fn.fast
        if not isinstance(fn, types.FunctionType):
            raise SymgradError(f"cannot retarget {fn!r}: not a Python function")
        hit = self._functions.get(id(fn))
        if hit is not None:
            return hit[1]
        old_g, new_g, done = self._globals_of(fn.__globals__)
        cells = tuple(types.CellType() for _ in fn.__closure__ or ())
        defaults = fn.__defaults__ and tuple(self.convert(d) for d in fn.__defaults__)
        new = types.FunctionType(fn.__code__, new_g, fn.__name__, defaults, cells or None)
        new.__kwdefaults__ = fn.__kwdefaults__ and {k: self.convert(v)
                                                    for k, v in fn.__kwdefaults__.items()}
        new.__qualname__, new.__module__ = fn.__qualname__, fn.__module__
        new.__dict__.update(fn.__dict__)
        self._functions[id(fn)] = (fn, new)  # before converting anything: recursion-safe
        for name in _code_names(fn.__code__) - done:
            done.add(name)
            if name in old_g:
                new_g[name] = self.convert(old_g[name])
            elif name in self.builtins:
                new_g[name] = self.builtins[name]
        for old_cell, cell in zip(fn.__closure__ or (), cells):
            try:
                cell.cell_contents = self.convert(old_cell.cell_contents)
            except ValueError:  # a cell not filled yet
                pass
        return new

    def _globals_of(self, g: dict) -> tuple[dict, dict, set]:
        entry = self._globals.get(id(g))
        if entry is None:
            entry = self._globals[id(g)] = (g, dict(g), set())
        return entry

    def _proxy(self, obj: Any, call: Callable[..., Any] | None = None) -> Any:
        """``obj`` (a library module or object) whose attributes come out converted (and
        which, called, calls ``call``)."""
        hit = self._modules.get(id(obj))
        if hit is None:
            hit = self._modules[id(obj)] = (obj, _ModuleProxy(obj, self.convert, call))
        return hit[1]

    def convert(self, obj: Any) -> Any:
        """What ``obj`` (a global, closure cell or default of a retargeted function) becomes:
        ``math`` and ``numpy`` a shim, a function with a rule its primitive, user functions
        and modules retargeted copies, anything else itself.

        >>> rt = Retargeter()
        >>> rt.convert(math) is rt.math, rt.convert(math.exp) is rt.primitive("exp"), rt.convert(2)
        (True, True, 2)
        """
        if isinstance(obj, types.ModuleType):
            if obj is math:
                return self.math
            if obj.__name__ == "numpy" and self.numpy is not None:
                return self.numpy
            if obj.__name__ in ("scipy.special", "scipy.stats"):   # (their rules, models)
                return self._proxy(obj)
            if is_library_file(getattr(obj, "__file__", None)) or \
                    not getattr(obj, "__file__", None):
                return obj
            hit = self._modules.get(id(obj))
            if hit is None:
                hit = self._modules[id(obj)] = (obj, _ModuleProxy(obj, self.convert))
            return hit[1]
        if isinstance(obj, GradFunction):
            return self.function(obj.fast)
        scipy_object = type(obj).__module__.startswith("scipy.stats._") and not isinstance(
            obj, (type, types.FunctionType, types.MethodType))       # (stats.norm ...)
        if scipy_object or callable(obj) and (
                getattr(obj, "__module__", None) or "").startswith("scipy."):
            from .stdlib_models import model_of
            model = model_of(obj, 0)    # (logsumexp, stats.norm.logpdf, stats.norm(): models)
            if scipy_object:
                return self._proxy(obj, self.function(model) if model is not None else None)
            if model is not None:
                return self.function(model)
        if not callable(obj) or isinstance(obj, type):
            return obj
        info = rules.lookup_callable(obj)
        if info is not None:
            return self.primitive(info.rule)
        forward_of = rules.rule_of_forward(obj)
        if forward_of is not None:           # a rule's float forward called by generated code
            return self.primitive(forward_of)
        if isinstance(obj, types.FunctionType):
            filename = obj.__code__.co_filename
            if filename.startswith("<symgrad helper"):  # a helper installed in generated code
                return self.primitive(obj.__name__) if obj.__name__ in rules.RULES else obj
            if not is_library_file(filename):
                return self.function(obj)
        return obj


def retarget(fn: Callable[..., Any], symbolic: bool = False) -> Callable[..., Any]:
    """``fn`` retargeted to run on ``Value`` s (or, ``symbolic=True``, on :class:`Traced`).

    >>> import math
    >>> def f(x):
    ...     return math.sin(x) * x
    >>> x = Value(0.5)
    >>> y = retarget(f)(x); y.backward()
    >>> round(x.grad, 12) == round(math.cos(0.5) * 0.5 + math.sin(0.5), 12)
    True
    """
    return Retargeter(symbolic).function(fn)


def _fsum(xs: Any) -> Any:
    """``math.fsum`` that follows engine numbers (a sum; on floats, fsum itself)."""
    items = list(xs)
    return builtins.sum(items, 0.0) if any(map(_is_active, items)) else math.fsum(items)


class _FloatType(type):
    """The metaclass of ``_float``: calling it converts (leaving engine numbers alone),
    and an engine number is an instance (``isinstance(x, float)`` in f is true of it)."""

    def __call__(cls, x: Any = 0.0) -> Any:
        return x if _is_active(x) else builtins.float(x)

    def __instancecheck__(cls, obj: Any) -> bool:
        return _is_active(obj) or isinstance(obj, builtins.float)


class _float(metaclass=_FloatType):  # noqa: N801 - stands for the builtin float
    """``float`` in a retargeted function (its derivative is 1)."""


def _type(*args: Any) -> Any:
    """``type`` that gives ``float`` (``_float``) for an engine number and a float, so
    ``type(x) is float`` in f follows the path the floats take."""
    if len(args) != 1:
        return builtins.type(*args)
    t = builtins.float if _is_active(args[0]) else builtins.type(args[0])
    return _float if t is builtins.float else t


def _int(x: Any = 0, *base: Any) -> int:
    """``int`` of an engine number is a constant: the int of its float value."""
    return builtins.int(_plain(x), *base)


def _round(x: Any, ndigits: Any = None) -> Any:
    return builtins.round(_plain(x), ndigits)
