"""The references for the fuzz tests: each runs the generated program itself.

:func:`load` writes a source to a temporary ``.py`` file and imports it (symgrad reads
source with ``inspect``, so the code must live in a file).  :func:`run_on` runs the
*same source* with ``math`` and ``symgrad`` replaced by shims, so the one program body
runs on floats, ``Value`` s, SymPy symbols or mpmath high-precision numbers.  Because
the references execute the real program, they follow Python's semantics whatever the
program does: aliasing (two names, one list), closures (late binding, defaults, nonlocal),
``and`` / ``or`` returning an operand, keyword arguments, decorators, globals.

* :func:`exact_grad`: central finite differences in 60-digit arithmetic.  Each run
  gets a ``copy.deepcopy`` of the *whole argument tuple*, so sharing between arguments
  (``W[0] is xs``, ``W[0] is W[1]``) is kept and a perturbed cell is perturbed
  everywhere it is reachable (the derivative with respect to a shared cell is the total
  one), and a program that writes into its arguments starts from the same point each
  run.
* :func:`value_grad`: the program run on ``Value`` s (lists converted with their
  sharing kept; the leaves are remembered *before* the run, since the program may
  overwrite list elements), then ``backward()``.  ``Value`` gets the truth value of
  its number for the run (``(x - x) or y`` takes ``y``).
* :func:`sympy_grad`: ``sympy.diff`` of the program run on symbols (branch-free only).

``glob`` (every reference): module globals to replace after the module ran, as the
test does to the imported module between two calls of one gradient.

The kink rule (:func:`margins`): points near branch boundaries and kinks are excluded;
so are points where an intermediate value exceeds :data:`LARGE` = 1e8.  An
*instrumented copy* of the program records how far every comparison (``|lhs - rhs|``),
``abs``/``relu`` (``|x|``), ``max``/``min`` (the winner's key against every other key,
``key=`` honoured), ``math.hypot`` (its value: no derivative at the origin),
``math.atan2(y, x)`` (``hypot(x, y)``, and ``|y|`` for ``x < 0``: its cut), ``%``/``//``
(distance of ``a / b`` to an integer, times ``|b|``),
``sorted`` (every pair of keys) and truth test of a float (an ``and`` / ``or`` operand,
``not x``, ``if x:``: ``|x|``) is from its boundary; a point is used when every distance
exceeds :data:`MARGIN`.  Exception: a truth-tested float that is exactly 0.0 and a
``sorted`` tie are allowed when they are so *by construction*: still exactly 0.0 (a tie)
after every input is moved by a small irregular amount (``(x - x) or y``,
``sorted([a, a, b])``); a coincidental zero or tie (an input drawn as 0, two inputs drawn
equal) breaks under that move and excludes the point.
"""

from __future__ import annotations

import ast
import atexit
import copy
import hashlib
import importlib.util
import math
import operator
import os
import shutil
import tempfile
import types
from contextlib import contextmanager
from typing import Any, Callable

import symgrad
from symgrad import Value

MARGIN = 1e-3
#: intermediate values larger than this exclude a point: there float and 60-digit
#: arithmetic part ways (x * x overflows, sin(1e240) is noise in both)
LARGE = 1e8
JITTER = 1e-7

# --------------------------------------------------------------------------- structures


#: the containers an argument may nest: lists (mutable, shared), tuples and dicts (a
#: parameter of values of different kinds, ``(W, b)`` or ``(1.5, {"x": 2.0})``)
CONTAINERS = (list, tuple, dict)


def map_leaves(obj: Any, leaf: Callable[[Any], Any], memo: dict[int, Any] | None = None) -> Any:
    """A copy of nested lists (tuples and dicts too, keeping their types) with ``leaf(v)``
    for every number ``v``; a list met twice (in one argument or across arguments sharing
    ``memo``) is copied once and the copy appears twice, so sharing is kept."""
    memo = {} if memo is None else memo
    if isinstance(obj, list):
        if id(obj) in memo:
            return memo[id(obj)]
        out = memo[id(obj)] = []
        out.extend(map_leaves(v, leaf, memo) for v in obj)
        return out
    if isinstance(obj, tuple):
        return tuple(map_leaves(v, leaf, memo) for v in obj)
    if isinstance(obj, dict):
        return {k: map_leaves(v, leaf, memo) for k, v in obj.items()}
    return leaf(obj)


def leaf_paths(obj: Any, path: tuple = ()) -> list[tuple]:
    """Index paths (dict keys too) of the numbers in nested containers (a shared list's
    numbers once per path)."""
    if isinstance(obj, (list, tuple)):
        return [p for k, v in enumerate(obj) for p in leaf_paths(v, path + (k,))]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in leaf_paths(v, path + (k,))]
    return [path]


def get_path(obj: Any, path: tuple) -> Any:
    for k in path:
        obj = obj[k]
    return obj


def _replaced(obj: Any, path: tuple, value: Any) -> Any:
    """``obj`` with the cell at ``path`` set to ``value``: lists and dicts written in place
    (every alias sees the move), tuples rebuilt."""
    if not path:
        return value
    new = _replaced(obj[path[0]], path[1:], value)
    if isinstance(obj, tuple):
        return obj[:path[0]] + (new,) + obj[path[0] + 1:]
    obj[path[0]] = new
    return obj


def set_path(args: list[Any], k: int, path: tuple, value: Any) -> None:
    """``args[k][path] = value`` (``args[k] = value`` for an empty path; a tuple on the way
    is rebuilt)."""
    args[k] = _replaced(args[k], path, value)


def jittered(args: list[Any]) -> list[Any]:
    """``args`` with every float moved by a small, irregular amount (ints, such as ``n``,
    stay); sharing kept."""
    counter = [0]

    def move(v: Any) -> Any:
        if not isinstance(v, float):
            return v
        counter[0] += 1
        frac = (counter[0] * 0.6180339887498949) % 1.0
        return v + JITTER * (0.3 + frac) * max(1.0, abs(v))
    memo: dict[int, Any] = {}
    return [map_leaves(a, move, memo) for a in args]


# --------------------------------------------------------------------------- loading

_TMP: str | None = None


def _tmpdir() -> str:
    global _TMP
    if _TMP is None:
        _TMP = tempfile.mkdtemp(prefix="symgrad_fuzz_")
        atexit.register(shutil.rmtree, _TMP, True)
    return _TMP


def load(source: str) -> types.ModuleType:
    """Write ``source`` to a fresh temporary .py file and import it as a module."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    name = f"symgrad_fuzz_{digest}"
    path = os.path.join(_tmpdir(), name + ".py")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_COMPILED: dict[tuple[str, bool], Any] = {}


class _FloorDivToCall(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> Any:
        self.generic_visit(node)
        if isinstance(node.op, ast.FloorDiv):
            return ast.Call(func=ast.Name("__fz_floordiv", ast.Load()),
                            args=[node.left, node.right], keywords=[])
        return node


def run_on(source: str, shims: dict[str, Any], args: list[Any],
           glob: dict[str, Any] | None = None) -> Any:
    """Run ``f`` of ``source`` with the global names in ``shims`` (``math``, ``symgrad``)
    replaced, on ``args``; ``glob`` replaces module globals (copies of them) after the
    module body ran.  A shim may define ``__fz_floordiv`` (mpmath numbers have no
    ``//``): then ``a // b`` is rewritten to call it."""
    key = (source, "__fz_floordiv" in shims)
    code = _COMPILED.get(key)
    if code is None:
        text = source
        if key[1] and "//" in source:
            tree = ast.fix_missing_locations(_FloorDivToCall().visit(ast.parse(source)))
            text = ast.unparse(tree)
        code = _COMPILED[key] = compile(text, "<fuzz program>", "exec")
        if len(_COMPILED) > 64:
            _COMPILED.pop(next(iter(_COMPILED)))
    ns: dict[str, Any] = {"__name__": "symgrad_fuzz_shimmed"}
    exec(code, ns)
    ns.update(shims)
    ns.update(copy.deepcopy(glob or {}))
    return ns["f"](*args)


def _ns(**fns: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(**fns)


_MATH_NAMES = ["sin", "cos", "tan", "tanh", "atan", "atan2", "exp", "expm1", "log", "log1p",
               "log2", "log10", "sqrt", "asinh", "asin", "erf", "hypot", "cosh", "sinh", "fabs"]

def _prod(xs: Any, start: Any = 1) -> Any:
    """``math.prod`` for any number type: ``start * x1 * x2 ...``, in that order."""
    out = start
    for x in xs:
        out = out * x
    return out


#: ``math`` and ``symgrad`` for the Value engine: symgrad's generic functions build Values
VALUE_SHIMS = {"math": _ns(**{k: getattr(symgrad, k) for k in _MATH_NAMES}, prod=_prod),
               "symgrad": symgrad}


def _sympy_shims() -> dict[str, Any]:
    import sympy
    sm = _ns(sin=sympy.sin, cos=sympy.cos, tan=sympy.tan, tanh=sympy.tanh, atan=sympy.atan,
             atan2=sympy.atan2, exp=sympy.exp, expm1=lambda x: sympy.exp(x) - 1, log=sympy.log,
             log1p=lambda x: sympy.log(1 + x), log2=lambda x: sympy.log(x) / sympy.log(2),
             log10=lambda x: sympy.log(x) / sympy.log(10), sqrt=sympy.sqrt, asinh=sympy.asinh,
             asin=sympy.asin, erf=sympy.erf,
             hypot=lambda *xs: sympy.sqrt(sum((x * x for x in xs), sympy.Integer(0))),
             cosh=sympy.cosh, sinh=sympy.sinh, fabs=sympy.Abs, prod=_prod)
    sg = _ns(sigmoid=lambda x: 1 / (1 + sympy.exp(-x)),
             relu=lambda x: sympy.Piecewise((x, x > 0), (0, True)))
    return {"math": sm, "symgrad": sg}


def _mpmath_shims() -> dict[str, Any]:
    import mpmath as mp
    mm = _ns(sin=mp.sin, cos=mp.cos, tan=mp.tan, tanh=mp.tanh, atan=mp.atan, atan2=mp.atan2,
             exp=mp.exp, expm1=mp.expm1, log=mp.log, log1p=mp.log1p,
             log2=lambda x: mp.log(x, 2), log10=mp.log10, sqrt=mp.sqrt, asinh=mp.asinh,
             asin=mp.asin, erf=mp.erf, cosh=mp.cosh, sinh=mp.sinh, fabs=mp.fabs, prod=_prod,
             hypot=lambda *xs: mp.hypot(*xs) if len(xs) == 2 else mp.sqrt(mp.fsum(
                 x * x for x in xs)))
    sg = _ns(sigmoid=lambda x: 1 / (1 + mp.exp(-x)), relu=lambda x: x if x > 0 else 0 * x)
    return {"math": mm, "symgrad": sg, "__fz_floordiv": lambda a, b: mp.floor(a / b)}


# --------------------------------------------------------------------------- the kink rule

def _gap(u: Any, v: Any) -> Any:
    """How far two sort keys are from swapping: numbers by their difference, tuples
    (``sorted(zip(xs, ys))``) by their first items that differ (0 when equal), unless an
    item before those is a tie of floats, which any move breaks (then 0: a kink)."""
    if isinstance(u, tuple):
        for a, b in zip(u, v):
            if a != b:
                return _gap(a, b)
            if isinstance(a, float) or isinstance(b, float):
                return 0.0
        return 0.0
    return abs(u - v)


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(name, ast.Load()), args=list(args), keywords=[])


class _Instrument(ast.NodeTransformer):
    """Rewrite comparisons, abs/max/min/relu, hypot/atan2, %/ //, sorted and truth tests
    into calls that record margins."""

    def visit_Compare(self, node: ast.Compare) -> Any:
        self.generic_visit(node)
        if len(node.ops) != 1:
            return node
        return _call("__fz_cmp", node.left, ast.Constant(type(node.ops[0]).__name__),
                     node.comparators[0])

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        self.generic_visit(node)
        if isinstance(node.op, (ast.Mod, ast.FloorDiv)):
            node = _call("__fz_mod", node.left, node.right, ast.Constant(type(node.op).__name__))
        return _call("__fz_size", node)

    def visit_BoolOp(self, node: ast.BoolOp) -> Any:
        # every operand but the last is truth-tested (the last one too when the whole
        # expression is a test: see _test)
        self.generic_visit(node)
        node.values = [_call("__fz_truth", v) for v in node.values[:-1]] + node.values[-1:]
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            node.operand = _call("__fz_truth", node.operand)
        return node

    def _test(self, node: Any) -> Any:
        self.generic_visit(node)
        node.test = _call("__fz_truth", node.test)
        return node

    visit_If = visit_While = visit_IfExp = _test

    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        fn = ast.unparse(node.func)
        if fn in ("abs", "max", "min", "math.fabs", "symgrad.relu"):
            node.args.insert(0, ast.Constant(fn))
            node.func = ast.Name("__fz_kink", ast.Load())
        elif fn in ("math.hypot", "math.atan2"):
            node.args.insert(0, ast.Constant(fn))
            node.func = ast.Name("__fz_polar", ast.Load())
        elif fn == "sorted":
            node.func = ast.Name("__fz_sorted", ast.Load())
            return node
        if fn in ("range", "len", "enumerate", "zip", "reversed") or "." in fn and not (
                fn.startswith(("math.", "symgrad."))):
            return node
        return _call("__fz_size", node)


_CMP = {"Gt": operator.gt, "Lt": operator.lt, "GtE": operator.ge, "LtE": operator.le,
        "Eq": operator.eq, "NotEq": operator.ne}
_KINK = {"abs": abs, "max": max, "min": min, "math.fabs": math.fabs,
         "symgrad.relu": symgrad.relu}
_POLAR = {"math.hypot": math.hypot, "math.atan2": math.atan2}


def _recorders(seen: list[tuple[float, bool]], singular: list[float] | None = None
               ) -> dict[str, Any]:
    """The functions the instrumented program calls; each appends (distance, may be
    exempt by construction) to ``seen`` (``singular``: the distances from the points where
    a derivative is not finite, hypot's and atan2's origin, too)."""
    def cmp(a: Any, op: str, b: Any) -> Any:
        if not (isinstance(a, (int, str)) and isinstance(b, (int, str))):   # (keys: exact)
            seen.append((abs(a - b), False))
        return _CMP[op](a, b)

    def mod(a: Any, b: Any, op: str) -> Any:
        q = a / b
        seen.append((min(q - math.floor(q), math.ceil(q) - q) * abs(b) if math.isfinite(q)
                     else 0.0, False))
        return a % b if op == "Mod" else a // b

    def kink(name: str, *xs: Any, **kw: Any) -> Any:
        if name not in ("max", "min"):
            seen.append((abs(xs[0]), False))
            return _KINK[name](*xs)
        vals = list(xs[0]) if len(xs) == 1 else list(xs)
        if vals:
            key = kw.get("key") or (lambda v: v)
            keys = [key(v) for v in vals]
            best = keys.index(_KINK[name](keys))
            seen.extend((_gap(keys[best], k), False) for j, k in enumerate(keys) if j != best)
        return _KINK[name](vals, **kw) if len(xs) == 1 else _KINK[name](*vals, **kw)

    def polar(name: str, *xs: Any) -> Any:
        # hypot: its distance from the origin (abs of one number), where it has no
        # derivative; atan2(y, x): that of (x, y), and for x < 0, |y| (the cut)
        out = _POLAR[name](*xs)
        if xs:
            seen.append((math.hypot(*xs), False))
            if singular is not None:
                singular.append(math.hypot(*xs))
        if name == "math.atan2" and xs[1] < 0:
            seen.append((abs(xs[0]), False))
        return out

    def sort(seq: Any, key: Any = None, reverse: bool = False) -> list[Any]:
        vals = list(seq)
        keys = [key(v) for v in vals] if key is not None else vals
        seen.extend((_gap(u, v), True) for j, u in enumerate(keys) for v in keys[j + 1:])
        return sorted(vals, key=key, reverse=reverse)

    def truth(v: Any) -> Any:
        if isinstance(v, float):
            seen.append((abs(v), True))
        return v

    def size(v: Any) -> Any:
        if isinstance(v, float) and not abs(v) <= LARGE:
            seen.append((0.0, False))           # counts as a point on a kink: excluded
        return v
    return {"__fz_cmp": cmp, "__fz_mod": mod, "__fz_kink": kink, "__fz_sorted": sort,
            "__fz_truth": truth, "__fz_size": size, "__fz_polar": polar}


_INSTRUMENTED: dict[str, Any] = {}


def _events(source: str, args: list[Any], glob: dict[str, Any] | None,
            singular: list[float] | None = None) -> list[tuple[float, bool]]:
    code = _INSTRUMENTED.get(source)
    if code is None:
        tree = ast.fix_missing_locations(_Instrument().visit(ast.parse(source)))
        code = _INSTRUMENTED[source] = compile(tree, "<fuzz program, instrumented>", "exec")
        if len(_INSTRUMENTED) > 64:
            _INSTRUMENTED.pop(next(iter(_INSTRUMENTED)))
    seen: list[tuple[float, bool]] = []
    ns = {"__name__": "symgrad_fuzz_instrumented", **_recorders(seen, singular)}
    exec(code, ns)
    ns.update(copy.deepcopy(glob or {}))
    ns["f"](*copy.deepcopy(args))
    return seen


def margins(source: str, args: list[Any], glob: dict[str, Any] | None = None) -> list[float]:
    """Distances to the nearest branch boundary or kink met while running ``f`` at ``args``
    (on floats), from an instrumented copy of the program; a truth-tested exact 0.0 or a
    ``sorted`` tie that survives :func:`jittered` inputs counts as infinitely far.  A run
    that reads what is not there (IndexError, KeyError, UnboundLocalError) gives
    ``[0.0]``: the point is rejected."""
    try:
        events = _events(source, args, glob)
    except (LookupError, NameError):    # (a read that finds nothing: tests/fuzz_raises.py)
        return [0.0]
    if not any(exempt and m == 0.0 for m, exempt in events):
        return [m for m, _ in events]
    try:
        again = _events(source, jittered(args), glob)
    except (ArithmeticError, ValueError, LookupError, NameError):
        return [0.0]                   # (moved, it reaches an error: too near a boundary)
    if [e for _, e in again] != [e for _, e in events]:
        return [0.0]                   # another path: the point is too near a boundary
    return [math.inf if exempt and m == 0.0 and m2 == 0.0 else m
            for (m, exempt), (m2, _) in zip(events, again)]


def singular_before_raise(source: str, args: list[Any]) -> bool:
    """Does ``f`` at ``args``, before it raises, meet a point where a derivative is not
    finite (``math.hypot`` or ``math.atan2`` within :data:`MARGIN` of the origin)?  A mode
    may raise that derivative's ZeroDivisionError first there: the derivative's own lines
    are not ordered by the exception they raise (README, "the first error is Python's")."""
    singular: list[float] = []
    try:
        _events(source, args, None, singular)
    except Exception:          # (the exception Python raises, the point of the check)
        pass
    return any(m <= MARGIN for m in singular)


# --------------------------------------------------------------------------- references

@contextmanager
def value_semantics():
    """Give ``Value`` what a program run on Values needs and it lacks (restored after):
    the comparisons ``< <= > >=`` on ``.data`` (branchy programs follow their own path)
    and the truth value of ``.data`` (``(x - x) or y`` is ``y``, as on floats).  ``==``
    is left alone (Values hash by identity)."""
    added = []
    for op in ("__lt__", "__le__", "__gt__", "__ge__"):
        if op not in Value.__dict__:
            fn = getattr(operator, op.strip("_"))
            setattr(Value, op, lambda a, b, _fn=fn: _fn(_data(a), _data(b)))
            added.append(op)
    if "__bool__" not in Value.__dict__:
        Value.__bool__ = lambda v: bool(v.data)
        added.append("__bool__")
    try:
        yield
    finally:
        for op in added:
            delattr(Value, op)


value_comparisons = value_semantics        # the old name


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def value_grad(source: str, args: list[Any], wrt: list[int],
               glob: dict[str, Any] | None = None) -> tuple[Any, list[Any]]:
    """(value, gradient) from the Value engine: the program run on Values, then backward().
    Every list element becomes a Value (sharing kept); a gradient is read from the Values
    the arguments held *before* the run."""
    memo: dict[int, Any] = {}
    vals = []
    for k, a in enumerate(args):
        if isinstance(a, CONTAINERS):
            a = map_leaves(a, lambda v: Value(float(v)), memo)
        elif k in wrt:
            a = Value(float(a))
        vals.append(a)
    before = {k: map_leaves(vals[k], lambda v: v) for k in wrt}
    with value_semantics():
        out = run_on(source, VALUE_SHIMS, vals, glob)
    if isinstance(out, Value):
        out.backward()
        value = out.data
    else:
        value = out
    return value, [map_leaves(before[k], lambda v: v.grad) for k in wrt]


def exact_grad(source: str, args: list[Any], wrt: list[int], glob: dict[str, Any] | None = None,
               dps: int = 60, h: float = 1e-20) -> tuple[Any, list[Any]]:
    """(value, gradient) by central finite differences in 60-digit arithmetic (mpmath).

    The truncation error is O(h^2) = 1e-40 (times the third derivative, which loops of
    products make huge) and the rounding error 1e-60 / h = 1e-40, so away from kinks
    this is the derivative to far better than float precision.  Each evaluation runs on
    a ``copy.deepcopy`` of the whole argument list, with one cell moved (in place, so
    every list sharing it sees the move).
    """
    import mpmath as mp
    shims = _mpmath_shims()
    with mp.workdps(dps):
        memo: dict[int, Any] = {}
        base = [map_leaves(a, mp.mpf, memo) if isinstance(a, CONTAINERS)
                else a if isinstance(a, int) and k not in wrt else mp.mpf(a)
                for k, a in enumerate(args)]

        def run(moved: list[Any]) -> Any:
            return run_on(source, shims, moved, glob)

        def fd(k: int, path: tuple[int, ...]) -> float:
            x0 = get_path(base[k], path)
            step = mp.mpf(h) * max(1, abs(x0))
            plus, minus = copy.deepcopy(base), copy.deepcopy(base)
            set_path(plus, k, path, x0 + step)
            set_path(minus, k, path, x0 - step)
            return float((run(plus) - run(minus)) / (2 * step))

        value = run(copy.deepcopy(base))
        grads = []
        for k in wrt:
            if isinstance(base[k], CONTAINERS):
                shape = [map_leaves(base[k], lambda v: None)]
                for path in leaf_paths(base[k]):
                    set_path(shape, 0, path, fd(k, path))
                grads.append(shape[0])
            else:
                grads.append(fd(k, ()))
        return float(value), grads


def float_precision_value(source: str, args: list[Any],
                          glob: dict[str, Any] | None = None) -> float:
    """f's value computed by mpmath with a float's 53 bits: where it is far from the
    60-digit value of :func:`exact_grad`, f itself amplifies rounding at this point (a
    loop feeding cos(x * x) back into x), so no float result can be checked to 1e-9."""
    import mpmath as mp
    with mp.workprec(53):
        memo: dict[int, Any] = {}
        base = [map_leaves(a, mp.mpf, memo) if isinstance(a, CONTAINERS) else
                a if isinstance(a, int) else mp.mpf(a) for a in args]
        return float(run_on(source, _mpmath_shims(), copy.deepcopy(base), glob))


class OutOfTime(Exception):
    """A SymPy reference took longer than its budget (expression swell in loops)."""


@contextmanager
def time_budget(seconds: float):
    """Raise :class:`OutOfTime` in the block after ``seconds`` (main thread only; elsewhere
    no limit)."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(*_: Any) -> None:
        raise OutOfTime()
    import time
    started = time.monotonic()
    outer = signal.getitimer(signal.ITIMER_REAL)      # (an example's own limit: kept)
    old = signal.signal(signal.SIGALRM, expire)
    # (raised again every 0.25 s: one raised inside a garbage collector's callback, as
    # Hypothesis installs one, is ignored, and the block then ran on for good)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
        if outer[0] > 0:        # the outer limit, less the time spent here
            left = outer[0] - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.01), outer[1])


def sympy_grad(source: str, args: list[Any], wrt: list[int]) -> list[Any]:
    """The gradient from ``sympy.diff`` of the program run on SymPy symbols, at ``args``
    (every list element a symbol, sharing kept)."""
    import sympy
    subs: dict[Any, Any] = {}

    def symbol(v: Any) -> Any:
        s = sympy.Symbol(f"s{len(subs)}", real=True)
        subs[s] = sympy.Float(v, 30)
        return s
    memo: dict[int, Any] = {}
    sym_args = [map_leaves(a, symbol, memo) if isinstance(a, CONTAINERS)
                else symbol(a) if k in wrt else a for k, a in enumerate(args)]
    before = {k: map_leaves(sym_args[k], lambda v: v) for k in wrt}
    expr = sympy.sympify(run_on(source, _sympy_shims(), sym_args))

    def d(s: Any) -> float:
        return float(sympy.diff(expr, s).evalf(30, subs=subs))
    return [map_leaves(before[k], d) for k in wrt]
