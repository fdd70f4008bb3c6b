"""Cross-checks: one gradient, four engines, one call.

:func:`check` computes the gradient of ``f`` at a point four ways and compares them:

* **symgrad** -- the generated gradient (:func:`symgrad.grad`);
* **SymPy** -- ``sympy.diff`` of ``f`` run on SymPy symbols;
* **Value** -- ``f`` run on :class:`symgrad.Value` numbers, then ``backward()``;
* **finite differences** -- central differences of ``f`` on floats.

It also runs the *generated gradient* on SymPy symbols and asks SymPy whether
that expression minus ``sympy.diff`` simplifies to zero: a proof, not only a
test at one point.  :func:`symbolic` returns those expressions.

Retargeting (DESIGN.md section 5) is what lets one function body run on all of
these: :class:`Retargeter` copies a function with the *same code object* and a
new globals dict in which ``math`` and ``numpy`` are shims whose attributes are
symgrad's generic functions (``symgrad.exp``, ``symgrad.tanh`` ...), names
imported from them (``from math import exp``) are generic functions too, the
builtins ``abs max min pow float int round`` are shadowed by versions that
accept ``Value`` s, and the user's own helper functions and modules are
retargeted in turn.  On SymPy the numbers are :class:`Traced`: an expression
together with its float value, so ``if x > 0``, ``range(n)``, ``abs`` and
``max`` follow the path the floats take at the point; the expression is that
path's.

>>> import math
>>> def neuron(x, w, b):
...     return math.tanh(x * w + b)
>>> report = check(neuron, 2.0, -3.0, 6.8813735870195432)
>>> report.ok, report.verdicts["w"]
(True, 'proved equal')
"""

from __future__ import annotations

import builtins
import html
import itertools
import linecache
import math
import numbers
import operator
import os
import sys
import sysconfig
import threading
import time
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import rules
from .api import GradFunction, Wrt, grad
from .engine import Value
from .errors import SymgradError

__all__ = ["FD_ATOL", "FD_RTOL", "CheckReport", "Retargeter", "Row", "Symbolic", "SymbolicError",
           "Traced", "check", "retarget", "symbolic"]

#: Finite differences carry truncation and rounding error (about 1e-12 relative for a smooth
#: ``f`` with the steps used, more where it curves sharply), so they are compared more loosely.
FD_RTOL = 1e-5
FD_ATOL = 1e-7
_FD_STEP = 2.0 ** -10        # the largest step, times max(1, |x|)
_SIMPLIFY_SECONDS = 4.0      # per expression
_CHECK_SIMPLIFY_BUDGET = 12.0  # per check() / symbolic() call
_SIMPLIFY_MAX_OPS = 1500     # larger expressions are not simplified,
_EXPAND_MAX_OPS = 50000      # and larger differences are only compared at the point

PROVED, AT_POINT, DIFFER = "proved equal", "equal at this point", "differ"


class SymbolicError(SymgradError):
    """``f`` (or its generated gradient) cannot be represented in SymPy; the message says
    which call, with its file and line."""


# =========================================================================== retargeting

_LIB_DIRS = tuple(sorted({os.path.realpath(p) + os.sep for k, p in sysconfig.get_paths().items()
                          if k in ("stdlib", "platstdlib", "purelib", "platlib")}))
_SYMGRAD_DIR = os.path.dirname(os.path.realpath(__file__)) + os.sep


def _is_library_file(filename: str | None) -> bool:
    """Is ``filename`` part of Python, an installed package or symgrad itself (not user code)?"""
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
        if any(_is_active(a) for a in args):
            if not constant:
                kind = type(next(a for a in args if _is_active(a))).__name__
                raise SymbolicError(f"{label}() has no derivative rule in symgrad, so it cannot "
                                    f"run on {kind} numbers (add one with "
                                    "symgrad.register_rule)")
            args = tuple(map(_plain, args))
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

    def __init__(self, module: types.ModuleType, convert: Callable[[Any], Any]) -> None:
        self._module, self._convert = module, convert

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
                         "float": _float, "int": _int, "round": _round}

    # ------------------------------------------------------------------ generic functions
    def primitive(self, rule: str) -> Callable[..., Any]:
        """The function meaning rule ``rule`` on every kind of number (``log`` takes an
        optional base, ``max``/``min`` any number of arguments, ``pow`` an optional modulus)."""
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
                args = tuple(Traced(_expr(a), a) for a in args)
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
                     fabs=self.primitive("abs"), pi=self._constant(math.pi, "pi"),
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
        """
        if isinstance(fn, GradFunction):
            fn = fn._generated
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

    def convert(self, obj: Any) -> Any:
        """What ``obj`` (a global, closure cell or default of a retargeted function) becomes."""
        if isinstance(obj, types.ModuleType):
            if obj is math:
                return self.math
            if obj.__name__ == "numpy" and self.numpy is not None:
                return self.numpy
            if _is_library_file(getattr(obj, "__file__", None)) or \
                    not getattr(obj, "__file__", None):
                return obj
            hit = self._modules.get(id(obj))
            if hit is None:
                hit = self._modules[id(obj)] = (obj, _ModuleProxy(obj, self.convert))
            return hit[1]
        if isinstance(obj, GradFunction):
            return self.function(obj._generated)
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
            if not _is_library_file(filename):
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


def _float(x: Any = 0.0) -> Any:
    """``float`` that leaves engine numbers alone (its derivative is 1)."""
    return x if _is_active(x) else builtins.float(x)


def _int(x: Any = 0, *base: Any) -> int:
    """``int`` of an engine number is a constant: the int of its float value."""
    return builtins.int(_plain(x), *base)


def _round(x: Any, ndigits: Any = None) -> Any:
    return builtins.round(_plain(x), ndigits)


# =========================================================================== the SymPy tracer

_NAMED: list[tuple[float, Any]] = []


def _exact(c: float) -> Any:
    """A float constant as SymPy should see it: a small fraction (``0.25`` -> 1/4, ``1/3``
    -> 1/3) or a named constant (``math.pi``, ``2/sqrt(pi)``, ``log(2)`` ...) when the float is
    exactly the double nearest to one, else a SymPy Float."""
    import sympy
    if math.isnan(c):
        return sympy.nan
    if math.isinf(c):
        return sympy.oo if c > 0 else -sympy.oo
    if c == int(c):
        return sympy.Integer(int(c))
    q = Fraction(c).limit_denominator(10 ** 6)
    if float(q) == c:
        return sympy.Rational(q.numerator, q.denominator)
    if not _NAMED:
        for expr in ("pi", "E", "2*pi", "pi/2", "pi/4", "1/pi", "sqrt(pi)", "2/sqrt(pi)",
                     "1/sqrt(pi)", "log(2)", "log(10)", "1/log(2)", "1/log(10)", "sqrt(2)",
                     "1/sqrt(2)", "sqrt(3)", "sqrt(2*pi)", "1/sqrt(2*pi)"):
            e = sympy.sympify(expr)
            _NAMED.extend([(float(e), e), (-float(e), -e)])
    for value, e in _NAMED:
        if c == value:
            return e
    return sympy.Float(c)


def _expr(x: Any) -> Any:
    """The SymPy expression of ``x`` (a :class:`Traced`, a number or a SymPy object)."""
    if isinstance(x, Traced):
        return x.expr
    import sympy
    if isinstance(x, (bool, numbers.Integral)):
        return sympy.Integer(int(x))
    if isinstance(x, numbers.Real):
        return _exact(float(x))
    if isinstance(x, sympy.Basic):
        return x
    raise SymbolicError(f"cannot turn {type(x).__name__} {x!r} into a SymPy expression")


_inlining = threading.local()


class Traced:
    """A number followed along one path: a SymPy expression ``expr`` and its float value
    ``val`` (``None``: no point given, then a branch on it is an error).

    Arithmetic and symgrad's generic functions compute both; comparisons, ``bool``, ``int``,
    ``range`` use the float, so control flow follows the path taken at the point.  At a
    kink (``abs``, ``max``, ``min``, ``relu``) or a step (``//``, ``%``) the expression is the
    piece active at the point.

    >>> import sympy
    >>> x = Traced(sympy.Symbol("x"), 2.0)
    >>> y = x * x if x > 0 else -x
    >>> y.expr, y.val
    (x**2, 4.0)
    >>> abs(x - 3).expr
    3 - x
    """

    __slots__ = ("expr", "val")

    def __init__(self, expr: Any, val: Any = None) -> None:
        self.expr, self.val = expr, val

    def __symgrad_apply__(self, name: str, args: tuple[Any, ...]) -> Traced:
        return _traced_apply(name, args)

    def float_value(self, what: str = "") -> Any:
        if self.val is None:
            raise SymbolicError(f"the path depends on the value of {self.expr}{what}: give a "
                                "point (symbolic(f, 1.0, ...)) so SymPy follows the path taken "
                                "there")
        return self.val

    def _cmp(self, other: Any, op: str) -> Any:
        if not isinstance(other, (Traced, numbers.Real)):
            return NotImplemented
        a = self.float_value(f" (compared: {op} {_expr(other)})")
        b = other.float_value() if isinstance(other, Traced) else other
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b,
                "!=": a != b}[op]

    def __lt__(self, o: Any) -> Any: return self._cmp(o, "<")
    def __le__(self, o: Any) -> Any: return self._cmp(o, "<=")
    def __gt__(self, o: Any) -> Any: return self._cmp(o, ">")
    def __ge__(self, o: Any) -> Any: return self._cmp(o, ">=")
    def __eq__(self, o: object) -> Any: return self._cmp(o, "==")
    def __ne__(self, o: object) -> Any: return self._cmp(o, "!=")
    __hash__ = object.__hash__

    def __bool__(self) -> bool: return bool(self.float_value())
    def __float__(self) -> float: return float(self.float_value())
    def __int__(self) -> int: return int(self.float_value())
    def __index__(self) -> int: return _index(self.float_value())
    def __round__(self, n: Any = None) -> Any: return round(self.float_value(), n)
    def __trunc__(self) -> int: return math.trunc(self.float_value())
    def __floor__(self) -> int: return math.floor(self.float_value())
    def __ceil__(self) -> int: return math.ceil(self.float_value())
    def __neg__(self) -> Traced: return _traced_apply("neg", (self,))
    def __pos__(self) -> Traced: return self
    def __abs__(self) -> Traced: return _traced_apply("abs", (self,))

    def __repr__(self) -> str:
        return f"Traced({self.expr}, {self.val!r})"


def _index(v: Any) -> int:
    """``range(n)``, ``xs[k]`` with a Traced count: its float value if it is a whole number."""
    return int(v) if isinstance(v, float) and v.is_integer() else operator.index(v)


def _binop(rule: str, reflected: bool) -> Callable[[Traced, Any], Any]:
    def op(self: Traced, other: Any) -> Any:
        if not isinstance(other, (Traced, numbers.Real)):
            return NotImplemented
        return _traced_apply(rule, (other, self) if reflected else (self, other))
    op.__name__ = f"__{'r' if reflected else ''}{rule}__"
    return op


for _rule in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    setattr(Traced, f"__{_rule}__", _binop(_rule, False))
    setattr(Traced, f"__r{_rule}__", _binop(_rule, True))


def _on_path(name: str, exprs: list[Any], vals: list[Any]) -> Any:
    """The piece of a kink/step primitive active at the point (None: no choice to make)."""
    if name in ("abs", "relu"):
        x = vals[0]
        if x != 0:
            return exprs[0] if x > 0 else (-exprs[0] if name == "abs" else _expr(0))
    elif name in ("max", "min") and vals[0] != vals[1]:
        return exprs[0] if (vals[0] > vals[1]) == (name == "max") else exprs[1]
    elif name in ("floordiv", "mod"):
        q = _expr(vals[0] // vals[1])  # piecewise constant: the step at the point
        return q if name == "floordiv" else exprs[0] - exprs[1] * q
    return None


def _traced_apply(name: str, args: Sequence[Any]) -> Traced:
    """Primitive ``name`` on Traced numbers: the float forward and the SymPy form."""
    rule = rules.RULES[name]
    vals = [a.val if isinstance(a, Traced) else a for a in args]
    val = None if any(v is None for v in vals) else rule.forward(*vals)
    exprs = [_expr(a) for a in args]
    expr = None
    if val is not None and all(isinstance(v, numbers.Real) for v in vals):
        expr = _on_path(name, exprs, vals)
    if expr is None and rule.sympy is not None:
        expr = rule.sympy(*exprs)
    elif expr is None:  # a registered rule without sympy=: trace its forward function
        fwd = rule.forward
        busy = getattr(_inlining, "names", set())
        if not isinstance(fwd, types.FunctionType) or name in busy \
                or _is_library_file(fwd.__code__.co_filename):
            raise SymbolicError(f"primitive {name!r} has no SymPy form: give one with "
                                f"register_rule({name!r}, ..., sympy=...)")
        _inlining.names = busy | {name}
        try:
            return retarget(fwd, symbolic=True)(*args)
        finally:
            _inlining.names = busy
    return Traced(expr, val)


# =========================================================================== arguments

def _leaves(x: Any, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], Any]]:
    """``(path, number)`` for every number in nested lists/tuples ``x``."""
    if isinstance(x, (list, tuple)):
        for k, v in enumerate(x):
            yield from _leaves(v, path + (k,))
    else:
        yield path, x


def _map(x: Any, fn: Callable[[tuple[int, ...], Any], Any], path: tuple[int, ...] = ()) -> Any:
    """``x`` with every number replaced by ``fn(path, number)`` (lists stay lists, tuples
    tuples)."""
    if isinstance(x, (list, tuple)):
        return type(x)(_map(v, fn, path + (k,)) for k, v in enumerate(x))
    return fn(path, x)


def _with(x: Any, path: tuple[int, ...], value: Any) -> Any:
    """A copy of ``x`` with the number at ``path`` replaced."""
    if not path:
        return value
    parts = list(x)
    parts[path[0]] = _with(parts[path[0]], path[1:], value)
    return type(x)(parts)


def _leaf_name(param: str, path: tuple[int, ...]) -> str:
    return param + "".join(f"[{k}]" for k in path)


def _params(fn: Any) -> list[str]:
    from .api import _params_of
    return _params_of(fn)


def _resolve(fn: Any, args: Sequence[Any], wrt: Wrt) -> tuple[list[str], list[int]]:
    """Parameter names and the indices to differentiate.  ``wrt=None``: every parameter whose
    argument is not an ``int`` (ints are counts and indices, held constant)."""
    from .api import _resolve_wrt
    params = _params(fn)
    if args and len(args) != len(params):
        n = len(params)
        raise SymgradError(f"{_label(fn)} takes {n} argument{'s' * (n != 1)} "
                           f"({', '.join(params)}), got {len(args)}")
    if wrt is None and args:
        idx = [i for i, a in enumerate(args) if not isinstance(a, (bool, numbers.Integral))]
        if not idx:
            raise SymgradError(f"every argument of {_label(fn)} is an int, and ints are held "
                               "constant: pass floats (2.0) or name the parameters in wrt=")
        return params, idx
    return params, _resolve_wrt(params, wrt, fn)[0]


def _label(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _floatify(args: Sequence[Any], idx: Sequence[int]) -> list[Any]:
    """Differentiated arguments as floats (so an int 2 named in wrt works)."""
    return [_map(a, lambda p, v: float(v)) if i in idx else a for i, a in enumerate(args)]


def _where(exc: BaseException) -> str:
    """``file:line: source`` of the innermost user-code frame of ``exc``'s traceback."""
    tb, found = exc.__traceback__, ""
    while tb is not None:
        fname = tb.tb_frame.f_code.co_filename
        if not _is_library_file(fname):
            line = linecache.getline(fname, tb.tb_lineno).strip()
            where = fname if fname.startswith("<") else os.path.basename(fname)
            found = f"{where}:{tb.tb_lineno}: {line}" if line else f"{where}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def _explain(exc: BaseException, engine: str) -> str:
    """One line: what failed, where."""
    msg = str(exc) if isinstance(exc, SymgradError) else f"{type(exc).__name__}: {exc}"
    where = _where(exc)
    return f"{msg} (at {where})" if where else f"{engine}: {msg}"


# =========================================================================== the engines

def _finite_diff(fn: Callable[..., Any], args: list[Any], idx: Sequence[int]) -> list[float]:
    """Central differences, one per number of every differentiated argument.

    Fourth-order stencil ``(8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h`` at four steps
    ``h = 2**-10 max(1, |x|) / 4**k``; the answer is the later of the two successive
    estimates that agree best (truncation error shrinks with ``h``, rounding error grows),
    which also keeps the steps clear of a nearby kink.  Steps where ``f`` raises (out of its
    domain) are skipped.
    """
    out = []
    for i in idx:
        for path, v in _leaves(args[i]):
            def at(x: float, i: int = i, path: tuple[int, ...] = path) -> Any:
                return fn(*args[:i], _with(args[i], path, x), *args[i + 1:])
            est: list[float | None] = []
            for k in range(4):
                h = (v + _FD_STEP * max(1.0, abs(v)) / 4 ** k) - v  # exact in floating point
                try:
                    est.append((8 * (at(v + h) - at(v - h)) - (at(v + 2 * h) - at(v - 2 * h)))
                               / (12 * h))
                except (ArithmeticError, ValueError):
                    est.append(None)
            pairs = [(abs(a - b), b) for a, b in itertools.pairwise(est)
                     if a is not None and b is not None and not math.isnan(a - b)]
            good = [e for e in est if e is not None]
            if not good:
                raise SymgradError(f"{_label(fn)} raises at every finite-difference step "
                                   f"around argument {i + 1}{list(path) or ''} = {v!r}")
            out.append(min(pairs, key=lambda p: p[0])[1] if pairs else good[-1])
    return out


def _value_engine(fn: Callable[..., Any], args: list[Any], idx: Sequence[int]) -> list[float]:
    """``f`` run on ``Value`` s (the differentiated numbers), then ``backward()``."""
    vargs = [_map(a, lambda p, v: Value(float(v))) if i in idx else a
             for i, a in enumerate(args)]
    out = retarget(fn)(*vargs)
    if isinstance(out, Value):
        out.backward()
    elif not isinstance(out, numbers.Real):
        raise SymgradError(f"{_label(fn)} returned {type(out).__name__}, not a number")
    return [leaf.grad for i in idx for _, leaf in _leaves(vargs[i])]


@dataclass
class _SympySide:
    symbols: list[Any]                  # one per differentiated number
    f: Any = None                       # f's expression along the path
    diff: list[Any] = field(default_factory=list)       # sympy.diff(f, s)
    generated: list[Any] | None = None  # the generated gradient run on the symbols
    generated_error: str = ""


def _symbol_name(param: str, path: tuple[int, ...]) -> str:
    return param + "".join(f"_{k}" for k in path)


def _sympy_side(fn: Any, gf: GradFunction, params: list[str], args: Sequence[Any] | None,
                idx: Sequence[int]) -> _SympySide:
    """Run ``fn`` and its generated gradient on Traced symbols (with values when ``args``)."""
    import sympy
    symbols: list[Any] = []

    def make(i: int, path: tuple[int, ...], v: Any) -> Traced:
        s = sympy.Symbol(_symbol_name(params[i], path), real=True)
        symbols.append(s)
        return Traced(s, float(v))

    if args is None:  # every parameter a symbol (the ones not differentiated too)
        targs: list[Any] = [Traced(sympy.Symbol(p, real=True)) for p in params]
        symbols += [targs[i].expr for i in idx]
    else:
        targs = list(args)
        for i in idx:
            targs[i] = _map(args[i], lambda p, v, i=i: make(i, p, v))
    side = _SympySide(symbols)
    rt = Retargeter(symbolic=True)
    try:
        side.f = _expr(rt.function(fn)(*targs, **_seeds(fn, len(params))))
    except Exception as exc:  # noqa: BLE001 - whatever it is, SymPy cannot run f: say where
        raise SymbolicError(f"SymPy cannot represent {_label(fn)}: {_explain(exc, 'SymPy')}") \
            from None
    side.diff = [_diff_floor0(sympy.diff(side.f, s)) for s in symbols]
    try:
        out = rt.function(gf._generated)(*targs, **_seeds(gf, len(params)))
        out = out if isinstance(out, tuple) else (out,)
        side.generated = [_expr(leaf) for part in out for _, leaf in _leaves(part)]
    except Exception as exc:  # noqa: BLE001 - reported as the reason there is no proof
        side.generated_error = (f"the generated gradient cannot run on SymPy symbols: "
                                f"{_explain(exc, 'SymPy')}")
    return side


def _seeds(fn: Any, nargs: int) -> dict[str, Traced]:
    """``d_out=1`` for a generated function, as an exact Traced 1 so that the constant
    arithmetic of the adjoint sweep stays exact in SymPy too."""
    import sympy
    fn = fn._generated if isinstance(fn, GradFunction) else fn
    code = getattr(fn, "__code__", None)
    if code is None or not hasattr(fn, "__symgrad_primal_params__"):
        return {}
    names = code.co_varnames[nargs:code.co_argcount]
    return {n: Traced(sympy.Integer(1), 1.0) for n in names if n.startswith("d_out")}


def _diff_floor0(expr: Any) -> Any:
    """Take the derivative of ``floor`` as 0 (true wherever floor is continuous)."""
    import sympy
    expr = expr.replace(lambda e: isinstance(e, sympy.Derivative) and e.expr.func == sympy.floor,
                        lambda e: sympy.S.Zero)
    return expr.replace(lambda e: isinstance(e, sympy.Subs), lambda e: e.doit())


def _run_capped(work: Callable[[], Any], deadline: float) -> Any | None:
    """``work()``, or None when it raises or outlives ``min(deadline, now + 4 s)``.  It runs in
    a daemon thread that is abandoned at the limit, so a runaway SymPy call never hangs."""
    seconds = min(_SIMPLIFY_SECONDS, deadline - time.monotonic())
    if seconds <= 0:
        return None
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        except Exception:  # noqa: BLE001, S110 - a failed simplification proves nothing
            pass
    t = threading.Thread(target=run, daemon=True, name="symgrad-simplify")
    t.start()
    t.join(seconds)
    return result[0] if result else None


def _simplify(expr: Any, deadline: float) -> Any | None:
    """``sympy.simplify(expr)`` within the time limit, or None (also for huge expressions)."""
    import sympy
    if not isinstance(expr, sympy.Basic) or expr.is_Atom:
        return expr
    if sympy.count_ops(expr) > _SIMPLIFY_MAX_OPS:
        return None
    return _run_capped(lambda: sympy.simplify(expr), deadline)


def _tidy(expr: Any, deadline: float) -> Any:
    """The shortest of ``expr``, a few cheap rewritings of it and (for a longer expression,
    within the time limit) ``sympy.simplify`` of it."""
    import sympy
    if not isinstance(expr, sympy.Basic) or expr.is_Atom:
        return expr
    cands = [expr]
    for rewrite in (sympy.cancel, sympy.factor_terms, sympy.together):
        try:
            cands.append(rewrite(expr))
        except Exception:  # noqa: BLE001, S110 - keep the others
            pass
    best = min(cands, key=sympy.count_ops)
    if sympy.count_ops(best) > 12:
        s = _simplify(best, deadline)
        if s is not None and sympy.count_ops(s) < sympy.count_ops(best):
            best = s
    return best


def _is_zero(expr: Any, deadline: float) -> bool:
    """Is ``expr`` identically zero?  ``expand`` first (cheap, and enough when both sides are
    sums of the same products), then on smaller expressions ``cancel``, exponentials
    expanded, and ``simplify``; all within the time limit."""
    import sympy
    if expr == 0:
        return True
    ops = sympy.count_ops(expr)
    attempts = [sympy.expand] if ops <= _EXPAND_MAX_OPS else []
    if ops <= _SIMPLIFY_MAX_OPS:
        attempts += [sympy.cancel, lambda e: sympy.expand(e.rewrite(sympy.exp)), sympy.simplify]

    def work() -> bool:
        for attempt in attempts:
            if time.monotonic() > deadline:
                return False
            if attempt(expr) == 0:
                return True
        return False
    return bool(attempts) and bool(_run_capped(work, deadline))


def _evalf(expr: Any, point: dict[Any, float]) -> float:
    """``expr`` at the point (30 significant digits) as a float; nan if not real."""
    import sympy
    try:
        v = complex(sympy.sympify(expr).xreplace(
            {s: sympy.Float(x, 30) for s, x in point.items()}).evalf(30))
    except (TypeError, ValueError):
        return math.nan
    return v.real if abs(v.imag) <= 1e-12 * max(1.0, abs(v.real)) else math.nan


# =========================================================================== the report

ENGINES = {"generated": "symgrad (generated)", "sympy": "SymPy (diff)",
           "value": "Value engine", "finite_diff": "finite diff"}


@dataclass
class Row:
    """One differentiated number (``name`` is ``x`` or ``xs[1]``): the derivative from each
    engine (None: engine unavailable); ``error``, the largest difference of an engine from
    the generated gradient, relative (absolute where both are below 1); ``agree``; the SymPy
    ``verdict`` on the generated expression (``"proved equal"``, ``"equal at this point"``,
    ``"differ"`` or ``"SymPy unavailable"``); ``differing``, the engines that disagree."""

    name: str
    param: str
    generated: float
    sympy: float | None
    value: float | None
    finite_diff: float | None
    error: float
    agree: bool
    verdict: str
    differing: tuple[str, ...] = ()


@dataclass
class CheckReport:
    """What :func:`check` found.  ``ok``: every available engine agrees with the generated
    gradient; ``rows``: one :class:`Row` per differentiated number; ``verdicts``: the SymPy
    verdict per parameter; ``unavailable``: engine -> why it could not run; ``value``: f at
    the point.  ``str(report)`` is a text table, ``_repr_html_`` the same for Jupyter."""

    function: str
    params: tuple[str, ...]
    args: tuple[Any, ...]
    wrt: tuple[str, ...]
    value: Any
    rows: list[Row]
    unavailable: dict[str, str]
    rtol: float
    atol: float
    fd_rtol: float
    fd_atol: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.agree for r in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def verdicts(self) -> dict[str, str]:
        """Per parameter: the weakest verdict among its numbers."""
        order = [DIFFER, AT_POINT, PROVED]
        out: dict[str, str] = {}
        for r in self.rows:
            cur = out.get(r.param)
            if cur is None or (r.verdict in order and
                               (cur not in order or order.index(r.verdict) < order.index(cur))):
                out[r.param] = r.verdict
        return out

    def _cells(self) -> tuple[list[str], list[list[tuple[str, bool]]]]:
        head = ["parameter", *ENGINES.values(), "max error", "SymPy verdict"]
        body = []
        for r in self.rows:
            cells = [(r.name, False)]
            for key in ENGINES:
                v = getattr(r, key)
                cells.append(("n/a" if v is None else f"{v:.10g}" + (" *" if key in r.differing
                                                                     else ""),
                              key in r.differing))
            cells += [(f"{r.error:.1e}", not r.agree), (r.verdict, r.verdict == DIFFER)]
            body.append(cells)
        return head, body

    def _lines(self) -> list[str]:
        point = ", ".join(f"{p}={_brief(a)}" for p, a in zip(self.params, self.args))
        value = float(self.value) if isinstance(self.value, numbers.Real) else self.value
        lines = [f"check {self.function}({point}) = {value!r}"]
        lines += [f"  {ENGINES[k]} unavailable: {why}" for k, why in self.unavailable.items()]
        return lines + [f"  {note}" for note in self.notes]

    def _summary(self) -> str:
        tol = (f"rtol {self.rtol:g}, atol {self.atol:g}; finite differences "
               f"rtol {self.fd_rtol:g}, atol {self.fd_atol:g}")
        n = 4 - len(self.unavailable)
        if self.ok:
            what = "all four engines agree" if n == 4 else f"the {n} available engines agree"
            return f"OK: {what} ({tol})"
        bad = ", ".join(r.name for r in self.rows if not r.agree)
        return (f"MISMATCH in {bad}: * marks a derivative that differs from the generated "
                f"gradient ({tol})")

    def __str__(self) -> str:
        head, body = self._cells()
        widths = [max(len(c) for c in col) for col in zip(head, *[[t for t, _ in r]
                                                                  for r in body])]
        def fmt(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
        table = [fmt(head), fmt(["-" * w for w in widths])]
        table += [fmt([t for t, _ in r]) for r in body]
        return "\n".join(self._lines() + [""] + table + ["", self._summary()])

    def _repr_html_(self) -> str:
        head, body = self._cells()
        esc = html.escape
        th = "".join(f"<th>{esc(h)}</th>" for h in head)
        rows = "".join("<tr>" + "".join(
            f"<td style=\"{'color:#b00;font-weight:bold' if bad else ''}\">{esc(t)}</td>"
            for t, bad in r) + "</tr>" for r in body)
        notes = "<br>".join(esc(line) for line in self._lines())
        return (f"<div><p><code>{notes}</code></p><table><tr>{th}</tr>{rows}</table>"
                f"<p>{esc(self._summary())}</p></div>")


def _brief(x: Any) -> str:
    """``repr(x)``, or for a long list how many numbers it holds."""
    text = repr(x)
    if isinstance(x, (list, tuple)) and len(text) > 48:
        return f"[... {sum(1 for _ in _leaves(x))} numbers]"
    return text


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def _err(a: float, b: float) -> float:
    """Relative error of ``a`` against ``b`` (absolute error where both are below 1)."""
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    return abs(a - b) / max(1.0, abs(a), abs(b))


def check(f: Callable[..., Any], *args: Any, wrt: Wrt = None, rtol: float = 1e-6,
          atol: float = 1e-9) -> CheckReport:
    """The gradient of ``f`` at ``args`` from four engines, compared.

    ``wrt`` as in :func:`symgrad.grad`; by default every parameter whose argument is not an
    ``int`` (ints are counts and indices, held constant).  List arguments get one row per
    number.  The generated gradient, SymPy and the Value engine must agree within ``rtol`` /
    ``atol``; finite differences within ``max(rtol, FD_RTOL)`` / ``max(atol, FD_ATOL)``.
    With branches and loops SymPy and the Value engine follow the path taken at ``args``.
    An engine that cannot run ``f`` is reported as unavailable (with the reason) and the
    others still report.

    >>> def seed_l(a, b, d):
    ...     e = a + b
    ...     return e * d
    >>> r = check(seed_l, 5.0, 3.0, 10.0)
    >>> r.ok, [row.generated for row in r.rows], r.verdicts["a"]
    (True, [10.0, 10.0, 8.0], 'proved equal')
    """
    params, idx = _resolve(f, args, wrt)
    args_l = _floatify(args, idx)
    wrt_names = [params[i] for i in idx]
    gf = grad(f, wrt=wrt_names)
    value = f(*args_l)
    names = [(params[i], _leaf_name(params[i], p)) for i in idx for p, _ in _leaves(args_l[i])]
    gen = [float(leaf) for part in gf(*args_l) for _, leaf in _leaves(part)]
    unavailable: dict[str, str] = {}
    notes: list[str] = []
    results: dict[str, list[float] | None] = {"generated": gen}
    for key, engine in (("value", _value_engine), ("finite_diff", _finite_diff)):
        try:
            results[key] = [float(v) for v in engine(f, args_l, idx)]
        except Exception as exc:  # noqa: BLE001 - the report says why this engine is missing
            results[key] = None
            unavailable[key] = _explain(exc, ENGINES[key])
    deadline = time.monotonic() + _CHECK_SIMPLIFY_BUDGET
    verdicts = ["SymPy unavailable"] * len(gen)
    try:
        side = _sympy_side(f, gf, params, args_l, idx)
        point = dict(zip(side.symbols, [v for i in idx for _, v in _leaves(args_l[i])]))
        results["sympy"] = [_evalf(d, point) for d in side.diff]
        if side.generated is None:
            notes.append(f"no proof: {side.generated_error}")
        for k, g in enumerate(gen):
            if side.generated is not None and _is_zero(side.generated[k] - side.diff[k],
                                                       deadline):
                verdicts[k] = PROVED
            else:
                verdicts[k] = AT_POINT if _close(g, results["sympy"][k], rtol, atol) else DIFFER
    except SymbolicError as exc:
        results["sympy"] = None
        unavailable["sympy"] = str(exc)
    fd_rtol, fd_atol = max(rtol, FD_RTOL), max(atol, FD_ATOL)
    rows = []
    for k, ((param, name), g) in enumerate(zip(names, gen)):
        vals = {key: (None if results.get(key) is None else results[key][k]) for key in ENGINES}
        differing = tuple(
            key for key in ("sympy", "value", "finite_diff") if vals[key] is not None and
            not _close(vals[key], g, *((fd_rtol, fd_atol) if key == "finite_diff"
                                       else (rtol, atol))))
        errors = [_err(v, g) for key, v in vals.items() if v is not None]
        rows.append(Row(name, param, g, vals["sympy"], vals["value"], vals["finite_diff"],
                        max(errors), not differing and verdicts[k] != DIFFER, verdicts[k],
                        differing))
    return CheckReport(_label(f), tuple(params), tuple(args_l), tuple(wrt_names), value, rows,
                       unavailable, rtol, atol, fd_rtol, fd_atol, notes)


# =========================================================================== symbolic

@dataclass
class Symbolic:
    """SymPy expressions for ``f`` and its gradient, simplified.

    ``diff[name]`` is ``sympy.diff`` of ``f``; ``generated[name]`` is what symgrad's generated
    code computes, run on SymPy symbols (``None`` if it could not run: see ``note``);
    ``proved[name]``: their difference simplifies to 0.  ``symbols[name]`` is the SymPy symbol
    of each differentiated number (list elements are ``xs[0]`` -> ``xs_0``).
    """

    function: str
    params: tuple[str, ...]
    symbols: dict[str, Any]
    f: Any
    diff: dict[str, Any]
    generated: dict[str, Any] | None
    proved: dict[str, bool]
    point: tuple[Any, ...] | None = None
    note: str = ""

    def __str__(self) -> str:
        lines = [f"{self.function}({', '.join(self.params)}) = {self.f}"]
        if self.point is not None:
            lines[0] += "   (the path taken at " + ", ".join(
                f"{p}={a!r}" for p, a in zip(self.params, self.point)) + ")"
        width = max(len(n) for n in self.diff) + 3 if self.diff else 0
        for name, d in self.diff.items():
            head = f"d/d{name}".ljust(width)
            if self.generated is not None and self.proved[name]:
                lines.append(f"{head} = {d}   (sympy.diff = symgrad: proved equal)")
                continue
            lines.append(f"{head} = {d}   (sympy.diff)")
            if self.generated is not None:
                lines.append(f"{'':{width}} = {self.generated[name]}   (symgrad's generated "
                             "code; not proved equal)")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def latex(self) -> str:
        r"""The expressions as a LaTeX ``aligned`` block.

        >>> def f(x, y):
        ...     return x * y
        >>> print(symbolic(f).latex())
        \begin{aligned}
        f &= x y \\
        \frac{\partial f}{\partial x} &= y \\
        \frac{\partial f}{\partial y} &= x
        \end{aligned}
        """
        import sympy
        lines = [rf"f &= {sympy.latex(self.f)}"]
        for name, d in self.diff.items():
            part = rf"\frac{{\partial f}}{{\partial {sympy.latex(self.symbols[name])}}}"
            lines.append(rf"{part} &= {sympy.latex(d)}")
            if self.generated is not None and not self.proved[name]:
                lines.append(rf"{part}\big|_{{\mathrm{{symgrad}}}} &= "
                             rf"{sympy.latex(self.generated[name])}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"


def symbolic(f: Callable[..., Any], *args: Any, wrt: Wrt = None) -> Symbolic:
    """SymPy expressions of ``f`` and of each component of its gradient, as ``sympy.diff``
    gives them and as symgrad's generated code computes them, simplified.

    Without ``args`` every parameter is a symbol; a branch on one is then an error.  With a
    point ``args`` (needed for list arguments and branches) SymPy follows the path taken
    there, and ``wrt`` defaults to the non-``int`` arguments as in :func:`check`.

    >>> import math
    >>> def neuron(x, w, b):
    ...     return math.tanh(x * w + b)
    >>> s = symbolic(neuron, wrt="b")
    >>> s.f, s.diff["b"], s.proved["b"]
    (tanh(b + w*x), 1 - tanh(b + w*x)**2, True)
    """
    params, idx = _resolve(f, args, wrt)
    args_l = _floatify(args, idx) if args else None
    gf = grad(f, wrt=[params[i] for i in idx])
    side = _sympy_side(f, gf, params, args_l, idx)
    names = ([_leaf_name(params[i], p) for i in idx for p, _ in _leaves(args_l[i])]
             if args_l is not None else [params[i] for i in idx])
    deadline = time.monotonic() + _CHECK_SIMPLIFY_BUDGET
    proved = {n: side.generated is not None and
              _is_zero(side.generated[k] - side.diff[k], deadline) for k, n in enumerate(names)}
    diff = {n: _tidy(side.diff[k], deadline) for k, n in enumerate(names)}
    generated = None if side.generated is None else {
        n: diff[n] if proved[n] else _tidy(side.generated[k], deadline)
        for k, n in enumerate(names)}
    symbols = dict(zip(names, side.symbols))
    return Symbolic(_label(f), tuple(params), symbols, _tidy(side.f, deadline), diff, generated,
                    proved,
                    None if args_l is None else tuple(args_l), side.generated_error)
