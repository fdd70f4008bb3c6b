"""Adversarial test module (issue 11): symgrad is never silently wrong on ordinary Python.

The programs and their expected outcomes are in ``adversarial_cases.py``.  For an
``"ok"`` case ``grad(f, wrt=<every differentiable parameter>)(*args)`` must equal

(a) the ``Value`` engine's gradient: ``f`` retargeted (``symgrad.check.Retargeter``:
    ``math.*`` become symgrad's generic functions) and run on ``Value`` numbers (nested
    lists of Values for list arguments, with the sharing between arguments kept), then
    ``.backward()``; and
(b) central finite differences on a ``copy.deepcopy`` of the whole argument tuple
    (which keeps the sharing between arguments), one leaf perturbed at a time;

``value_and_grad(f)(*args)`` must give ``f(*args)`` and the same gradient; calling
the gradient must not raise; every argument must be back to its value on entry
afterwards; with ``second=True`` ``grad(grad(f))`` must equal finite differences of
the Value engine's first derivative; with ``change=`` (module globals, kind 7) the
same ``grad(f)`` built before the change, a fresh ``grad(f)`` and ``symgrad.check``
must all follow the changed global.

For an error case the expected class must be raised at the stated time (``grad(f)``
or the call), with a message naming this file's case module, the line marked
``# ERR:<tag>`` and a hint.

``test_oracle`` checks the references themselves (Value engine = finite differences
= plain Python value): a case where they disagree is ill-posed and must be fixed.

Python semantics the Value engine lacks, supplied here while a reference runs
(see ``python_semantics`` and ``value_function``): truthiness (``Value(0.0)`` was
always true, so ``x or y`` picked the wrong operand), ``==`` on the number (it was
identity, so ``xs.index(max(xs))`` failed), ``format``/``%`` formatting, ``float()``,
``divmod``; ``isinstance(v, float)`` for a Value; ``math.fsum``/``math.prod``,
``statistics.mean``/``fmean`` and ``pow(base=, exp=)`` on Values.

Run ``python tests/test_adversarial.py [REPORT.md]`` for a per-case report.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import functools
import inspect
import math
import numbers
import operator
import statistics
import os
import re
import signal
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adversarial_cases as ac  # noqa: E402
import symgrad  # noqa: E402
from symgrad import SymgradError, Value, grad, value_and_grad  # noqa: E402
import symgrad.retarget as check_module  # noqa: E402  (the retargeted float() and int())
from symgrad.check import Retargeter  # noqa: E402

CASES_FILE = os.path.basename(ac.__file__)
KIND_NAMES = {1: "closures", 2: "and/or as values", 3: "aliased lists",
              4: "keyword arguments", 5: "loop variable reassigned", 6: "decorators",
              7: "module globals", 8: "arguments and helpers", 9: "non-numeric results",
              10: "more everyday Python"}

GEN_RTOL, GEN_ATOL = 1e-7, 1e-9        # generated gradient vs the Value engine
FD_RTOL, FD_ATOL = 1e-5, 1e-6          # finite differences vs the Value engine
VALUE_RTOL = 1e-9                      # value_and_grad's value vs f's
CASE_SECONDS = 20                      # a case running longer hangs


# =========================================================================== error markers

def _marker_lines() -> dict[str, list[int]]:
    """``tag -> line numbers`` of the ``# ERR:<tag>`` markers in the cases file."""
    out: dict[str, list[int]] = {}
    with open(ac.__file__) as fh:
        for n, line in enumerate(fh, 1):
            for tag in re.findall(r"# ERR:(\w+)", line):
                out.setdefault(tag, []).append(n)
    return out


MARKERS = _marker_lines()


# =========================================================================== Value semantics

def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _value_eq(a: Value, b: Any) -> Any:
    if not isinstance(b, (Value, numbers.Real)):
        return NotImplemented
    return a.data == _data(b)


def _value_ne(a: Value, b: Any) -> Any:
    r = _value_eq(a, b)
    return r if r is NotImplemented else not r


_PATCHES = {
    "__bool__": lambda self: bool(self.data),
    "__eq__": _value_eq,
    "__ne__": _value_ne,
    "__hash__": object.__hash__,   # Values stay dict keys by identity (Value._topo)
    "__format__": lambda self, spec: format(self.data, spec),
    "__float__": lambda self: float(self.data),
    "__divmod__": lambda self, o: (self // o, self % o),
    "__rdivmod__": lambda self, o: (o // self, o % self),
}


@contextlib.contextmanager
def python_semantics() -> Iterator[None]:
    """Give ``Value`` the number protocol Python code relies on, for the duration."""
    saved = {k: Value.__dict__[k] for k in _PATCHES if k in Value.__dict__}
    for k, fn in _PATCHES.items():
        setattr(Value, k, fn)
    try:
        yield
    finally:
        for k in _PATCHES:
            if k in saved:
                setattr(Value, k, saved[k])
            else:
                delattr(Value, k)


def _isinstance(obj: Any, types_: Any) -> bool:
    """``isinstance`` that sees a Value as the float it stands for (and ``float`` / ``int``,
    which the retargeted function sees as Value-aware conversion functions, as the types)."""
    types_ = tuple(_TYPES.get(t, t) for t in (types_ if builtins.isinstance(types_, tuple)
                                                else (types_,)))
    return builtins.isinstance(obj.data if builtins.isinstance(obj, Value) else obj, types_)


_TYPES = {check_module._float: float, check_module._int: int}


def _pow(base: Any, exp: Any, mod: Any = None) -> Any:
    return base ** exp if mod is None else builtins.pow(base, exp, mod)


def _mean(data: Any) -> Any:
    data = list(data)
    if not data:
        raise ValueError("mean requires at least one data point")
    return sum(data) / len(data)


def _median(data: Any) -> Any:
    s = sorted(data, key=lambda v: getattr(v, "data", v))
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) * 0.5


def _pvariance(data: Any) -> Any:
    data = list(data)
    m = _mean(data)
    return sum((x - m) * (x - m) for x in data) / len(data)


def _variance(data: Any) -> Any:
    data = list(data)
    if len(data) < 2:
        raise statistics.StatisticsError("variance requires at least two data points")
    return _pvariance(data) * (len(data) / (len(data) - 1))


class _Statistics:
    """``statistics`` for Values (written independently of symgrad's models)."""
    mean = staticmethod(_mean)
    fmean = staticmethod(_mean)
    median = staticmethod(_median)
    variance = staticmethod(_variance)
    pvariance = staticmethod(_pvariance)
    pstdev = staticmethod(lambda data: _pvariance(data) ** 0.5)
    StatisticsError = statistics.StatisticsError


def value_function(fn: Any) -> Any:
    """``fn`` retargeted to run on Values, with the shims above."""
    rt = Retargeter()
    rt.math.__dict__.update(fsum=lambda it: sum(it, 0.0),
                            prod=lambda it, start=1: functools.reduce(operator.mul, it, start))
    new = rt.function(fn)
    new.__globals__.update(isinstance=_isinstance, statistics=_Statistics, pow=_pow)
    return new


# =========================================================================== argument trees

def leaves(x: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(x, (list, tuple)):
        for k, v in enumerate(x):
            yield from leaves(v, path + (k,))
    else:
        yield path, x


def _set(x: Any, path: tuple, value: Any) -> Any:
    """``x`` with the leaf at ``path`` set: lists are written in place (so every name and
    argument sharing them sees it), tuples rebuilt."""
    if not path:
        return value
    if isinstance(x, list):
        x[path[0]] = _set(x[path[0]], path[1:], value)
        return x
    parts = list(x)
    parts[path[0]] = _set(parts[path[0]], path[1:], value)
    return type(x)(parts)


def _is_diff(a: Any) -> bool:
    if isinstance(a, (list, tuple)):
        return all(_is_diff(v) for v in a)
    return isinstance(a, float)


def params_of(fn: Any) -> list[str]:
    return list(inspect.signature(fn).parameters)


def wrt_of(case: ac.Case) -> list[str]:
    if case.wrt is not None:
        return list(case.wrt)
    params = params_of(case.fn)
    return [p for p, a in zip(params, case.args) if _is_diff(a)]


# =========================================================================== the references

class IllPosed(AssertionError):
    pass


def _to_values(args: tuple, idx: list[int]) -> tuple[list, list]:
    """Copies of the arguments with every differentiated number a Value (one Value per
    shared list element: sharing between arguments and inside them is kept), and, per
    differentiated argument, its tree of leaf Values as it is before ``f`` runs."""
    memo: dict[int, Any] = {}

    def conv(x: Any) -> Any:
        if isinstance(x, list):
            if id(x) not in memo:
                memo[id(x)] = out = []
                out.extend(conv(v) for v in x)
            return memo[id(x)]
        if isinstance(x, tuple):
            return tuple(conv(v) for v in x)
        return Value(float(x))

    vargs = [conv(a) if i in idx else copy.deepcopy(a) for i, a in enumerate(args)]
    trees = [[leaf for _, leaf in leaves(vargs[i])] for i in idx]
    return vargs, trees


def value_engine(fn: Any, args: tuple, idx: list[int]) -> tuple[float, list[list[float]]]:
    """(value, per differentiated argument the flat list of leaf gradients)."""
    with python_semantics():
        vargs, trees = _to_values(args, idx)
        out = value_function(fn)(*vargs)
        if isinstance(out, Value):
            out.backward()
            val = out.data
        elif isinstance(out, numbers.Real):
            val = out
        else:
            raise IllPosed(f"the Value engine's run of {fn.__name__} returned {out!r}")
    return float(val), [[v.grad for v in tree] for tree in trees]


def plain_value(fn: Any, args: tuple) -> float:
    out = fn(*copy.deepcopy(args))
    if not isinstance(out, numbers.Real):
        raise IllPosed(f"{fn.__name__}{args} returned {out!r}, not a number")
    return float(out)


def finite_differences(fn: Any, args: tuple, idx: list[int]) -> list[list[float]]:
    """Fourth-order central differences on a deepcopy of the whole argument tuple."""
    out = []
    for i in idx:
        row = []
        for path, v in leaves(args[i]):
            def at(t: float, i: int = i, path: tuple = path) -> float:
                a = list(copy.deepcopy(args))
                a[i] = _set(a[i], path, t)
                return float(fn(*a))
            est = []
            for k in range(3):
                h = (v + 2.0 ** -12 * max(1.0, abs(v)) / 4 ** k) - v
                est.append((8 * (at(v + h) - at(v - h)) - (at(v + 2 * h) - at(v - 2 * h)))
                           / (12 * h))
            best = min(range(2), key=lambda k: abs(est[k] - est[k + 1]))
            row.append(est[best + 1])
        out.append(row)
    return out


def close(a: float, b: float, rtol: float, atol: float) -> bool:
    if isinstance(a, float) and isinstance(b, float) and (math.isnan(a) or math.isnan(b)):
        return False
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def references(case: ac.Case) -> tuple[float, list[list[float]]]:
    """The value and gradient of ``case`` from Python and the Value engine, after checking
    that finite differences agree (else the case is ill-posed: IllPosed)."""
    params = params_of(case.fn)
    idx = [params.index(p) for p in wrt_of(case)]
    val = plain_value(case.fn, case.args)
    vval, vgrad = value_engine(case.fn, case.args, idx)
    fd = finite_differences(case.fn, case.args, idx)
    if not close(val, vval, 1e-12, 1e-12):
        raise IllPosed(f"{case.name}: f = {val!r} but the Value engine computes {vval!r}")
    for p, g, d in zip(wrt_of(case), vgrad, fd):
        if len(g) != len(d) or not all(close(a, b, FD_RTOL, FD_ATOL) for a, b in zip(g, d)):
            raise IllPosed(f"{case.name}: d/d{p}: Value engine {g} vs finite differences {d}")
    return val, vgrad


def second_reference(case: ac.Case) -> float:
    """d2f/dx2 for the one scalar parameter: finite differences of the Value engine's
    first derivative."""
    (p,) = wrt_of(case)
    i = params_of(case.fn).index(p)
    x = case.args[i]

    def d1(t: float) -> float:
        a = list(case.args)
        a[i] = t
        return value_engine(case.fn, tuple(a), [i])[1][0][0]
    h = 2.0 ** -10 * max(1.0, abs(x))
    return (8 * (d1(x + h) - d1(x - h)) - (d1(x + 2 * h) - d1(x - 2 * h))) / (12 * h)


# =========================================================================== running a case

class Timeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(*_: Any) -> None:
        raise Timeout(f"still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _where(exc: BaseException) -> str:
    """'in generated code' / 'in symgrad' / 'in the case': the innermost frame's owner."""
    tb = traceback.extract_tb(exc.__traceback__)
    if not tb:
        return ""
    fname = tb[-1].filename
    if fname.startswith("<symgrad"):
        return "inside generated code"
    if os.sep + "symgrad" + os.sep in fname:
        return f"inside symgrad ({os.path.basename(fname)}:{tb[-1].lineno})"
    return f"in {os.path.basename(fname)}:{tb[-1].lineno}"


def _origin(exc: BaseException) -> str:
    """Where a non-symgrad exception came from ('' for a SymgradError: it was meant)."""
    return "" if isinstance(exc, SymgradError) else " " + _where(exc)


def _brief(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:220]


def _fmt(xs: Any) -> str:
    if isinstance(xs, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in xs) + "]"
    return f"{xs:.6g}" if isinstance(xs, float) else repr(xs)


def _flatten_result(res: Any, n: int) -> list[Any] | None:
    """The generated gradient's result as n per-parameter flat lists (None: not a tuple of
    n parts)."""
    if not isinstance(res, tuple) or len(res) != n:
        return None
    return [[leaf for _, leaf in leaves(part)] if isinstance(part, (list, tuple))
            else part for part in res]


def _compare(label: str, got: Any, ref: list[list[float]], case: ac.Case,
             problems: list[tuple[str, str]]) -> None:
    """Compare a generated gradient (tuple, one part per wrt parameter) with the reference."""
    wrt = wrt_of(case)
    flat = _flatten_result(got, len(wrt))
    if flat is None:
        problems.append(("wrong gradient", f"{label}: returned {_fmt(got)}, expected a tuple "
                         f"of {len(wrt)} parts {_fmt(ref)}"))
        return
    params = params_of(case.fn)
    bad = []
    for p, g, r in zip(wrt, flat, ref):
        arg = case.args[params.index(p)]
        is_list = isinstance(arg, (list, tuple))
        if is_list != isinstance(g, list) or (is_list and len(g) != len(r)):
            bad.append(f"d/d{p} = {_fmt(g)} (wrong shape), expected {_fmt(r if is_list else r[0])}")
            continue
        gs = g if is_list else [g]
        try:
            ok_ = all(close(float(a), b, GEN_RTOL, GEN_ATOL) for a, b in zip(gs, r))
        except (TypeError, ValueError):
            ok_ = False
        if not ok_:
            bad.append(f"d/d{p} = {_fmt(g)}, expected {_fmt(r if is_list else r[0])}")
    if bad:
        problems.append(("wrong gradient", f"{label}: " + "; ".join(bad)))


_FAILED = object()


def _list_ids(x: Any) -> list[int]:
    """The identity of every list reachable from ``x``, in traversal order: equal before and
    after a call when the same list objects sit in the same places."""
    out: list[int] = []
    if isinstance(x, (list, tuple)):
        if isinstance(x, list):
            out.append(id(x))
        for v in x:
            out += _list_ids(v)
    return out


def _call(label: str, g: Any, case: ac.Case, problems: list[tuple[str, str]]) -> Any:
    """Call a generated function on a deepcopy of the arguments; record an exception or an
    argument left changed.  Returns the result, or _FAILED after an exception."""
    a = copy.deepcopy(case.args)
    ids = _list_ids(a)
    try:
        res = g(*a)
    except Timeout:
        raise
    except SymgradError as exc:
        problems.append(("refused", f"{label} raised {_brief(exc)}"))
        return _FAILED
    except Exception as exc:  # noqa: BLE001
        problems.append(("crash", f"{label} raised {_brief(exc)} {_where(exc)}"))
        return _FAILED
    if a != case.args:
        problems.append(("argument not restored",
                         f"{label} left the arguments as {_fmt(a)}, on entry {_fmt(case.args)}"))
    elif _list_ids(a) != ids:
        problems.append(("argument not restored",
                         f"{label} restored the numbers but not the list objects (rows "
                         "replaced or swapped, or sharing between arguments broken)"))
    return res


def _build(label: str, make: Any, problems: list[tuple[str, str]]) -> Any:
    try:
        return make()
    except Timeout:
        raise
    except SymgradError as exc:
        problems.append(("refused", f"{label} raised {_brief(exc)}"))
    except Exception as exc:  # noqa: BLE001
        problems.append(("crash", f"{label} raised {_brief(exc)} {_where(exc)}"))
    return None


def _check_gradients(case: ac.Case, g: Any, vg: Any, val: float, ref: list[list[float]],
                     problems: list[tuple[str, str]], when: str = "") -> None:
    if g is not None:
        res = _call(f"grad(f){when}", g, case, problems)
        if res is not _FAILED:
            _compare(f"grad(f){when}", res, ref, case, problems)
    if vg is not None:
        res = _call(f"value_and_grad(f){when}", vg, case, problems)
        if isinstance(res, tuple) and len(res) == 2:
            v, gr = res
            try:
                good = close(float(v), val, VALUE_RTOL, 1e-12)
            except (TypeError, ValueError):
                good = False
            if not good:
                problems.append(("wrong value", f"value_and_grad(f){when} value {_fmt(v)}, "
                                 f"f returns {_fmt(val)}"))
            _compare(f"value_and_grad(f){when} gradient", gr, ref, case, problems)
        elif res is not _FAILED:
            problems.append(("wrong value", f"value_and_grad(f){when} returned {_fmt(res)}"))


def run_ok(case: ac.Case) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    wrt = wrt_of(case)
    val, ref = references(case)
    g = _build("grad(f)", lambda: grad(case.fn, wrt=list(wrt)), problems)
    vg = _build("value_and_grad(f)", lambda: value_and_grad(case.fn, wrt=list(wrt)), problems)
    _check_gradients(case, g, vg, val, ref, problems)
    if case.second:
        (p,) = wrt
        gg = _build("grad(grad(f))", lambda: grad(grad(case.fn, wrt=p), wrt=p), problems)
        if gg is not None:
            res = _call("grad(grad(f))", gg, case, problems)
            if res is not _FAILED:
                want = second_reference(case)
                try:
                    good = close(float(res), want, 1e-6, 1e-7)
                except (TypeError, ValueError):
                    good = False
                if not good:
                    problems.append(("wrong second derivative",
                                     f"grad(grad(f)) = {_fmt(res)}, expected {want:.6g}"))
    if case.change is not None:
        undo = case.change()
        try:
            val2, ref2 = references(case)
            when = " after the global changed"
            _check_gradients(case, g, vg, val2, ref2, problems, when)
            params = params_of(case.fn)
            fresh = _build(f"a fresh grad(f){when}",
                           lambda: grad(case.fn, wrt=[params.index(p) for p in wrt]), problems)
            if fresh is not None:
                res = _call(f"a fresh grad(f){when}", fresh, case, problems)
                if res is not _FAILED:
                    _compare(f"a fresh grad(f){when}", res, ref2, case, problems)
            try:
                report = symgrad.check(case.fn, *copy.deepcopy(case.args), wrt=list(wrt))
                if not report.ok:
                    rows = "; ".join(f"{r.name}: generated {r.generated:.6g}, Value "
                                     f"{r.value}, fd {r.finite_diff}" for r in report.rows)
                    problems.append(("wrong gradient", f"symgrad.check{when} not ok: {rows}"))
            except Timeout:
                raise
            except Exception as exc:  # noqa: BLE001
                problems.append(("crash" if not isinstance(exc, SymgradError) else "refused",
                                 f"symgrad.check{when} raised {_brief(exc)}{_origin(exc)}"))
        finally:
            undo()
    return problems


def _message_problems(exc: BaseException, case: ac.Case) -> list[tuple[str, str]]:
    msg = str(exc)
    missing = []
    if CASES_FILE not in msg:
        missing.append(f"the file name {CASES_FILE}")
    lines = MARKERS.get(case.tag or "", [])
    if not any(re.search(rf"(line {n}\b|{re.escape(CASES_FILE)}:{n}\b)", msg) for n in lines):
        missing.append(f"the line ({' or '.join(map(str, lines))})")
    if not re.search(r"hint", msg, re.I):
        missing.append("a hint")
    if case.match and not re.search(case.match, msg):
        missing.append(f"/{case.match}/")
    if missing:
        return [("unclear message", f"{type(exc).__name__} message lacks "
                 f"{', '.join(missing)}: {msg[:200]!r}")]
    return []


def run_error(case: ac.Case) -> list[tuple[str, str]]:
    expected = case.expect if isinstance(case.expect, tuple) else (case.expect,)
    names = " or ".join(e.__name__ for e in expected)
    phase = "grad(f)" if case.when == "grad" else "the call grad(f)(...)"
    try:
        g = grad(case.fn, wrt=case.wrt)
    except Timeout:
        raise
    except Exception as exc:  # noqa: BLE001
        if case.when == "grad" and isinstance(exc, expected):
            return _message_problems(exc, case)
        if isinstance(exc, expected):
            return [("wrong error", f"{type(exc).__name__} raised by grad(f); expected it "
                     "from the call (other arguments are fine)")]
        return [("wrong error", f"grad(f) raised {_brief(exc)}{_origin(exc)}; expected "
                 f"{names} from {phase}")]
    try:
        res = g(*copy.deepcopy(case.args))
    except Timeout:
        raise
    except Exception as exc:  # noqa: BLE001
        if isinstance(exc, expected):
            if case.when == "call":
                return _message_problems(exc, case)
            return [("wrong error", f"{type(exc).__name__} raised only by the call; expected "
                     "it from grad(f)")] + _message_problems(exc, case)
        return [("wrong error" if isinstance(exc, SymgradError) else "crash",
                 f"the call raised {_brief(exc)}{_origin(exc)}; expected {names} from "
                 f"{phase}")]
    return [("missing error", f"no error; grad(f)(...) returned {_fmt(res)}; expected "
             f"{names} from {phase}")]


def run_case(case: ac.Case) -> list[tuple[str, str]]:
    """The problems symgrad has with ``case`` (empty: it passes), as (category, detail)."""
    with time_limit(CASE_SECONDS):
        try:
            return run_ok(case) if case.expect == "ok" else run_error(case)
        except Timeout as exc:
            return [("hang", str(exc))]


# =========================================================================== the tests

def _id(case: ac.Case) -> str:
    return f"k{case.kind}-{case.name}"


OK_CASES = [c for c in ac.CASES if c.expect == "ok"]


def test_case_registry():
    """Enough cases of each kind, unique names, every error case's marker present."""
    names = [c.name for c in ac.CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    functions = {c.fn for c in ac.CASES}
    assert len(functions) >= 130
    for k in range(1, 10):
        assert len({c.fn for c in ac.CASES if c.kind == k}) >= 10, KIND_NAMES[k]
    assert len({c.fn for c in ac.CASES if c.kind == 10}) >= 30
    for c in ac.CASES:
        if c.expect != "ok":
            assert c.when in ("grad", "call"), c.name
            assert MARKERS.get(c.tag or ""), f"{c.name}: no '# ERR:{c.tag}' marker"


@pytest.mark.parametrize("case", OK_CASES, ids=_id)
def test_oracle(case):
    """The references agree with each other (Python's value, the Value engine, finite
    differences), before and after a kind-7 change: the case is well posed."""
    with time_limit(CASE_SECONDS):
        references(case)
        if case.second:   # FD of the Value engine's derivative vs FD of f itself
            (p,) = wrt_of(case)
            i = params_of(case.fn).index(p)
            x, h = case.args[i], 1e-4

            def f_at(t: float) -> float:
                a = list(case.args)
                a[i] = t
                return plain_value(case.fn, tuple(a))
            direct = (f_at(x + h) - 2 * f_at(x) + f_at(x - h)) / (h * h)
            assert close(second_reference(case), direct, 1e-4, 1e-4)
        if case.change is not None:
            undo = case.change()
            try:
                references(case)
            finally:
                undo()


@pytest.mark.parametrize("case", ac.CASES, ids=_id)
def test_adversarial(case):
    problems = run_case(case)
    assert not problems, "\n".join(f"{cat}: {detail}" for cat, detail in problems)


# =========================================================================== the report

NOTES = """## Notes

Choices made where the policy left one (also marked "Decision:" in adversarial_cases.py):

- A global *write* (`global G; G = ...`) is UnsupportedSyntaxError (state kept between calls,
  like a mutable default); global reads, with or without `global`, are supported (kind 7).
- `statistics.mean` / `fmean` are supported; `median` and `variance` are NonDifferentiableError
  at grad time.
- "Unknown keyword" means one Python itself rejects (`max(xs, initial=)`, `sum(xs, begin=)`,
  `min(a, b, keys=)`): UnsupportedSyntaxError at grad time.  Valid keywords with a meaning
  (`sum(start=)`, `enumerate(start=)`, `zip(strict=)`, `pow(base=, exp=)`, `round(ndigits=)`)
  are supported.
- Supported by the "clear semantics, reproducible" rule: walrus, `return` inside loops,
  `for/while ... else`, `del`, dicts with constant keys, list slices, starred assignment,
  `assert`, `functools.partial`, `list(xs)`, `xs.copy()`, `sort`/`reverse`/`insert`/`pop`/
  `index`, `list += ...`, list `*` and `+`, `divmod`, `math.fsum`/`prod`/`floor`/`ceil`,
  `isinstance`, f-strings whose result is not returned.
- NonScalarError is expected at grad time when the return is evidently not a number (a
  literal tuple / list / dict / str / None, `str(...)`, an f-string, a helper returning a
  tuple, `t = (...); return t`, falling off the end), at call time when it depends on the
  arguments or the path (`return xs` for a parameter, `None` or a list on one branch only;
  the same functions are `ok` at the other points).
- Error messages must name the file, the marked line and contain the word "hint" (the
  `hint:` line UnsupportedSyntaxError already has); today's NonScalarError messages carry
  advice but no `hint:` label, which alone fails ret_list, ret_tuple, ret_tuple_var,
  ret_helper_tuple and ret_dict.  An ArgumentError may name the def line or the line using
  the parameter as a scalar.
- At a falsy operand (`0.0 or y`) the function jumps, so the falsy operand is left out of
  `wrt` there (or it is identically zero, `x - x`); same list for two parameters: each
  gradient entry is the derivative with respect to the one shared list.

Oracle workarounds (the Value engine / retargeting could not run these as Python does):
while a reference runs, `Value` gets `__bool__` (Value(0.0) was truthy), `__eq__`/`__ne__` on
the number (they were identity), `__format__`, `__float__`, `__divmod__`; the retargeted
globals get an `isinstance` that sees a Value as a float and maps the retargeted `float`/`int`
(functions, not types) back to the types, a `pow` accepting `base=`/`exp=`, a `statistics`
with `mean`/`fmean`, and the math shim gets `fsum`/`prod`.  The Retargeter snapshots module
globals when it retargets, so the harness retargets afresh after each kind-7 change.
`symgrad.check`'s own Value-engine and finite-difference columns copy each argument
separately, which breaks sharing between arguments; the harness does its own conversion and
differences on a deepcopy of the whole argument tuple.
"""


def report(path: str | None = None) -> str:
    rows, per_kind, categories, silent = [], {}, {}, 0
    silent_kinds = {"wrong gradient", "wrong value", "wrong second derivative", "missing error"}
    for case in ac.CASES:
        try:
            problems = run_case(case)
        except IllPosed as exc:
            problems = [("ILL-POSED CASE", str(exc))]
        total, fails = per_kind.get(case.kind, (0, 0))
        per_kind[case.kind] = (total + 1, fails + bool(problems))
        if problems:
            cats = sorted({c for c, _ in problems})
            silent += bool(silent_kinds & set(cats))
            for c in cats:
                categories[c] = categories.get(c, 0) + 1
            expect = "ok" if case.expect == "ok" else (
                "/".join(e.__name__ for e in (case.expect if isinstance(case.expect, tuple)
                                              else (case.expect,))) + f" at {case.when}")
            first: dict[str, str] = {}
            for c, d in problems:      # one detail per category (value_and_grad repeats grad)
                first.setdefault(c, d.replace(os.path.dirname(ac.__file__) + os.sep, ""))
            detail = " | ".join(first.values())
            rows.append(f"- `{case.name}` (kind {case.kind}, expect {expect}) -- "
                        f"**{', '.join(cats)}**: {detail}")
    n = len(ac.CASES)
    failed = sum(f for _, f in per_kind.values())
    out = ["# Adversarial cases against the current symgrad", "",
           f"{n} cases ({len({c.fn for c in ac.CASES})} functions): {n - failed} pass, "
           f"{failed} fail.", "",
           "| kind | cases | pass | fail |", "|---|---:|---:|---:|"]
    for k in sorted(per_kind):
        total, fails = per_kind[k]
        out.append(f"| {k}. {KIND_NAMES[k]} | {total} | {total - fails} | {fails} |")
    out += ["", f"Silently wrong today (a wrong number and no error: wrong gradient, value or "
            f"second derivative, or a missing error): {silent} cases.", "",
            "Categories: *wrong gradient* / *wrong value* / *wrong second derivative*: a number "
            "differs from the references (the Value engine and finite differences agree on "
            "it); *crash*: an exception that is not a SymgradError (from inside generated code "
            "unless said otherwise); *refused*: a SymgradError on a case the policy supports; "
            "*argument not restored*: a list argument left changed by the gradient; *missing "
            "error*: an error case returned a gradient; *wrong error*: another exception, or "
            "the right one at the wrong time (grad(f) vs the call); *unclear message*: the "
            "right error whose message lacks the file, the marked line, a `hint:` or the "
            "construct's name; *hang*: still running after "
            f"{CASE_SECONDS} s.", "",
            "Failure categories (cases with at least one problem of the kind):", ""]
    out += [f"- {c}: {m}" for c, m in sorted(categories.items(), key=lambda t: -t[1])]
    out += ["", "## Failing cases", ""] + rows + ["", NOTES]
    text = "\n".join(out)
    if path:
        with open(path, "w") as fh:
            fh.write(text)
    return text


if __name__ == "__main__":
    print(report(sys.argv[1] if len(sys.argv) > 1 else None))
