"""Fuzzing numpy programs: random ``f(x, w, a)`` over arrays (the grammar:
``tests/fuzz_arrays.py``), written to a temporary module and checked at a random point:

1. ``value_and_grad``: the value is ``f``'s (relative 1e-12), the gradient has the
   parameters' shapes and equals central finite differences (h = 1e-6; an example where
   the differences at h = 1e-6 and h = 1e-5 disagree, i.e. a kink nearby, is skipped);
   neither ``f`` nor the gradient changes its arguments;
2. ``jvp`` along a random direction: the value is ``f``'s and the slope is the
   gradient dotted with the direction;
3. ``hvp`` along a random direction: a central difference of symgrad's gradient
   (Richardson-extrapolated, skipped where the steps h and h/2 disagree).

A ``SymgradError`` is a failure (``[refused]``) unless its message is one of the
refusals README documents for arrays (:data:`DOCUMENTED_REFUSALS`); those are counted
(Hypothesis events) and the example skipped.  Any other exception while transforming or
running the generated code is a ``[crash]``.  ``f`` raising or failing to return a
number is the generator's fault (``[generator]``).

Examples per test: ``SYMGRAD_FUZZ_EXAMPLES`` (default 100; the tests take about
10 s together).  A long run::

    SYMGRAD_FUZZ_EXAMPLES=1500 python -m pytest -q -p no:cacheprovider \
        tests/test_fuzz_arrays.py --hypothesis-seed=1

The default-size run and ``CI=true`` use a fixed set of examples (derandomized).  The
symgrad bugs found so far are excluded from the generator, or tolerated by the test, each
marked ``KNOWN BUG`` (``fuzz_arrays.KNOWN_BUGS`` and the ``TOLERATE_*`` switches here).
"""
from __future__ import annotations

import copy
import os
import re

import fuzz
import numpy as np
import pytest
from fuzz_arrays import array_points, array_programs, tangents
from hypothesis import HealthCheck, assume, event, given, note, settings

import symgrad
from symgrad import SymgradError

TOTAL = int(os.environ.get("SYMGRAD_FUZZ_EXAMPLES", "100"))
# The default-size run (no SYMGRAD_FUZZ_EXAMPLES) and CI=true use a fixed, reproducible
# set of examples: symgrad has open bugs this fuzzer finds at a rate of about 1 in 1000
# programs that the KNOWN BUG exclusions cannot all see, and CI must not turn red at
# random.  A long run (SYMGRAD_FUZZ_EXAMPLES set) is random, seedable with
# --hypothesis-seed=N.
DERANDOMIZE = (os.environ.get("CI", "").lower() == "true"
               or "SYMGRAD_FUZZ_EXAMPLES" not in os.environ)
SETTINGS = dict(deadline=None, print_blob=True, report_multiple_bugs=False,  # noqa: C408
                derandomize=DERANDOMIZE,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])
BIG = 1e6
PARAMS = ("x", "w", "a")
NAMES = ["x0", "x1", "x2", "w00", "w01", "w02", "w10", "w11", "w12", "a"]

#: refusals README ("NumPy arrays", "What is refused") documents, as (what, message
#: pattern).  The generator writes none of these on purpose (it writes only into fresh
#: copies, reduces to a number, uses np.* functions with rules); a refusal matching one is
#: tolerated and counted, any other refusal fails the test.
DOCUMENTED_REFUSALS = [
    ("write through a view", re.compile(r"shares memory")),
]


class Mismatch(AssertionError):
    def __init__(self, category: str, message: str):
        super().__init__(f"[{category}] {message}")
        self.category = category


def _refusal_or_fail(what: str, exc: SymgradError) -> None:
    msg = str(exc)
    for name, pattern in DOCUMENTED_REFUSALS:
        if pattern.search(msg):
            event(f"documented refusal: {name}")
            assume(False)
    if TOLERATE_FLOAT_PARAM_LIST_KIND and FLOAT_PARAM_LIST_KIND.search(msg):
        # the generated programs hold no Python lists of numbers: a refusal that takes
        # one of their arrays for a list is the KNOWN BUG list_kind (see below)
        event("KNOWN BUG tolerated: an array taken for a Python list (refusal skipped)")
        assume(False)
    raise Mismatch("refused", f"{what}: {type(exc).__name__}: {msg}")


# KNOWN BUG: jvp and hvp crash with "AttributeError: 'float' object has no attribute
# 'shape'" on a number carried through a loop from a Python float and mixed with an array
# operation: s = a; for i in range(2): s = np.tanh(s) * np.trace(m) (the tangent line is
# np.broadcast_to(..., s.shape) with s still the float); hvp also when such a number is
# later written into an array element.  While it is open the example is skipped (counted
# as an event) in the jvp and hvp tests only; set to False to see the failures.
# Same family: s = np.max(np.eye(3)); for i in range(2): s = s + a; return s makes jvp
# raise "TypeError: None" (also tolerated here).
TOLERATE_TANGENT_FLOAT_SHAPE = True
TANGENT_FLOAT_SHAPE = "'float' object has no attribute 'shape'"


def guarded(what: str, thunk):
    """Run a symgrad call; a refusal or crash becomes a labelled failure."""
    failure = None
    try:
        return thunk()
    except SymgradError as exc:
        failure = exc
    except Exception as exc:           # noqa: BLE001 - every other exception is a crash
        if (TOLERATE_TANGENT_FLOAT_SHAPE and what.startswith(("jvp", "hvp"))
                and (isinstance(exc, AttributeError) and str(exc) == TANGENT_FLOAT_SHAPE
                     or isinstance(exc, TypeError) and str(exc) == "None")):
            event("KNOWN BUG tolerated: tangent code reads .shape of a float")
            assume(False)
        raise Mismatch("crash", f"{what}: {type(exc).__name__}: {exc}") from None
    _refusal_or_fail(what, failure)


def args_copy(point):
    x, w, a = point
    return x.copy(), w.copy(), a


# KNOWN BUG: a float parameter makes an array expression list-kinded.  With ``a`` a Python
# float (or np.float64), ``x * a``, ``a * x``, ``x + a``, ``x * (a + 1.0)`` (x an array) are
# taken for Python lists (``list * int``) when the result is then indexed on its first
# axis, sliced, copied or written in place: ``np.sum((x * a)[1:])`` raises a raw
# ``KindError: array is not a list``; ``y = x * a; y[0] = 1.0`` is refused ("a value used
# both as list[num] and array"); ``(x * a).copy()`` is refused ("list[?] and array",
# "a Python list of differentiated numbers passed to a numpy function", "no derivative
# rule for .copy()").  The same programs work with ``a`` a 0-d array.  While it is open,
# a call that fails with one of these messages is run again with ``a = np.array(a)`` and
# that run is checked instead (counted as an event); set to False to see the failures.
# The same family (fuzz_arrays.KNOWN_BUGS["list_kind"]) also refuses some programs when
# the gradient is made, before any argument is seen (e.g. acc = a; for i in range(2):
# acc += acc; y = w.copy(); y[:, -3] = acc -> "an index with slices in several
# dimensions of a list"): such refusals, and retries that fail the same way, are skipped
# and counted (event "an array taken for a Python list").
TOLERATE_FLOAT_PARAM_LIST_KIND = True
FLOAT_PARAM_LIST_KIND = re.compile(
    r"used both as (list|num|array)|is not a list|Python list of differentiated numbers"
    r"|an array used as a Python list|dimensions of a list"
    r"|no derivative rule for \.copy\(\)")


def guarded_call(what: str, fn, args):
    """``fn(args)`` (a symgrad call on arguments (x, w, a)), failures labelled; a failure
    of the known float-parameter bug is retried with ``a`` a 0-d array."""
    try:
        return fn(args)
    except Exception as exc:           # noqa: BLE001
        if not (TOLERATE_FLOAT_PARAM_LIST_KIND and isinstance(args[2], float)
                and FLOAT_PARAM_LIST_KIND.search(str(exc))):
            return guarded(what, lambda: fn(args))     # labels the same failure
    event("KNOWN BUG tolerated: float parameter taken for a list (retried with a 0-d a)")
    x, w, a = args
    return guarded(what + " (a as a 0-d array)", lambda: fn((x, w, np.array(a))))


def run_f(f, point) -> float:
    """f's value (examples where numpy overflows or the value is huge are skipped); f must
    not change its arguments."""
    args = args_copy(point)
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            value = f(*args)
    except FloatingPointError:
        assume(False)
    except Exception as exc:           # noqa: BLE001
        raise Mismatch("generator", f"f raises {type(exc).__name__}: {exc}") from None
    if np.ndim(value) != 0 or not isinstance(value, (float, np.floating, int, np.ndarray)):
        raise Mismatch("generator", f"f returned {type(value).__name__} {value!r}")
    value = float(value)
    assume(np.isfinite(value) and abs(value) < BIG)
    if not (np.array_equal(args[0], point[0]) and np.array_equal(args[1], point[1])):
        raise Mismatch("generator", "f changed its arguments")
    return value


def flat(parts) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(p, dtype=float)) for p in parts])


def unflat(v: np.ndarray):
    return v[:3].copy(), v[3:9].reshape(2, 3).copy(), float(v[9])


def fd_grad(f, point, h: float) -> np.ndarray:
    p0 = flat(point)
    out = np.empty_like(p0)
    for k in range(p0.size):
        up, dn = p0.copy(), p0.copy()
        up[k] += h
        dn[k] -= h
        out[k] = (float(f(*unflat(up))) - float(f(*unflat(dn)))) / (2 * h)
    return out


# KNOWN BUG: unused array parameter's gradient is the number 0.0.  value_and_grad(f),
# grad(f) and hvp(f, ...) of an f that never reads x (or w) return 0.0 for it, not
# np.zeros(x.shape) (grad(f, wrt="w") alone gives zeros of the right shape).  Tolerated
# (and counted as an event) while it is open; set to False to see it fail.
TOLERATE_SCALAR_ZERO_FOR_UNUSED_ARRAY = False


def checked_shapes(grads, what="gradient") -> np.ndarray:
    if not (isinstance(grads, tuple) and len(grads) == 3):
        raise Mismatch("wrong gradient", f"{what} is not a 3-tuple: {grads!r}")
    dx, dw, da = grads
    if TOLERATE_SCALAR_ZERO_FOR_UNUSED_ARRAY:
        shaped = []
        for g, shape in ((dx, (3,)), (dw, (2, 3))):
            if np.shape(g) == () and g == 0.0:
                event(f"KNOWN BUG tolerated: {what} of an unused array parameter is 0.0")
                g = np.zeros(shape)
            shaped.append(g)
        dx, dw = shaped
    shapes = (np.shape(dx), np.shape(dw), np.shape(da))
    if shapes != ((3,), (2, 3), ()):
        raise Mismatch("wrong gradient", f"{what} shapes {shapes}, want ((3,), (2, 3), ())")
    return flat((dx, dw, da))


def reference_grad(f, point, value) -> tuple[np.ndarray, float]:
    """Central differences at h = 1e-6, skipped where they disagree with h = 1e-5."""
    with np.errstate(all="ignore"):
        fine, coarse = fd_grad(f, point, 1e-6), fd_grad(f, point, 1e-5)
    assume(np.all(np.isfinite(fine)) and np.all(np.isfinite(coarse)))
    scale = max(1.0, abs(value), float(np.max(np.abs(fine))))
    if np.max(np.abs(fine - coarse)) > 1e-6 * scale:
        event("skipped: finite differences ill-conditioned (kink nearby)")
        assume(False)
    return fine, scale


def load_program(prog):
    note(prog.source)
    return fuzz.load(prog.source)


# ----------------------------------------------------------------------------- 1: gradient
@settings(max_examples=TOTAL, **SETTINGS)
@given(prog=array_programs(), point=array_points())
def test_fuzz_arrays_value_and_grad(prog, point):
    """value_and_grad of a random numpy program: f's value and finite differences."""
    mod = load_program(prog)
    note(f"point = {point!r}")
    value = run_f(mod.f, point)
    fd, scale = reference_grad(mod.f, point, value)
    vg = guarded("value_and_grad (transform)", lambda: symgrad.value_and_grad(mod.f))
    args = args_copy(point)
    got_value, grads = guarded_call("value_and_grad (call)", lambda p: vg(*p), args)
    if not (np.array_equal(args[0], point[0]) and np.array_equal(args[1], point[1])):
        raise Mismatch("arguments changed", f"the gradient changed its arguments: {args!r}")
    if np.ndim(got_value) != 0 or not abs(float(got_value) - value) <= 1e-12 * max(1.0, abs(value)):
        raise Mismatch("wrong value", f"value_and_grad value {got_value!r} != f {value!r}")
    got = checked_shapes(grads)
    err = np.abs(got - fd)
    if not np.all(err <= 1e-5 * scale):        # nan too
        k = int(np.argmax(np.where(np.isnan(err), np.inf, err)))
        raise Mismatch("wrong gradient",
                       f"symgrad {got!r} != finite differences {fd!r} (component {k} = "
                       f"{NAMES[k]}, scale {scale:g})")
    for feature in sorted(prog.features):
        event(f"feature: {feature}")


# ----------------------------------------------------------------------------- 2: jvp
@settings(max_examples=TOTAL, **SETTINGS)
@given(prog=array_programs(for_jvp=True), point=array_points(), tangent=tangents())
def test_fuzz_arrays_jvp(prog, point, tangent):
    """jvp along a random direction is the gradient dotted with it."""
    mod = load_program(prog)
    value = run_f(mod.f, point)
    g = guarded("grad (transform)", lambda: symgrad.grad(mod.f))
    grads = guarded_call("grad (call)", lambda p: g(*p), args_copy(point))
    gflat = checked_shapes(grads)
    out, slope = guarded_call("jvp", lambda p: symgrad.jvp(mod.f, p, copy.deepcopy(tangent)),
                              args_copy(point))
    if not abs(float(out) - value) <= 1e-12 * max(1.0, abs(value)):
        raise Mismatch("wrong value", f"jvp value {out!r} != f {value!r}")
    want = float(gflat @ flat(tangent))
    scale = max(1.0, float(np.max(np.abs(gflat))))
    if np.ndim(slope) != 0 or not abs(float(slope) - want) <= 1e-9 * scale:
        raise Mismatch("wrong jvp", f"jvp {slope!r} != grad . v {want!r} (scale {scale:g})")


# ----------------------------------------------------------------------------- 3: hvp
@settings(max_examples=TOTAL, **SETTINGS)
@given(prog=array_programs(for_hvp=True), point=array_points(), tangent=tangents())
def test_fuzz_arrays_hvp(prog, point, tangent):
    """hvp along a random direction is the central difference of symgrad's gradient."""
    mod = load_program(prog)
    run_f(mod.f, point)
    g = guarded("grad (transform)", lambda: symgrad.grad(mod.f))
    got = guarded_call("hvp", lambda p: symgrad.hvp(mod.f, p, copy.deepcopy(tangent)),
                       args_copy(point))
    got = checked_shapes(got, "hvp")
    p0, t = flat(point), flat(tangent)

    def central(h):
        with np.errstate(all="ignore"):
            up = checked_shapes(guarded_call("grad (call)", lambda p: g(*p),
                                             unflat(p0 + h * t)))
            dn = checked_shapes(guarded_call("grad (call)", lambda p: g(*p),
                                             unflat(p0 - h * t)))
        return (up - dn) / (2 * h)
    coarse, fine = central(2e-5), central(1e-5)
    assume(np.all(np.isfinite(coarse)) and np.all(np.isfinite(fine)))
    hscale = max(1.0, float(np.max(np.abs(fine))))
    if np.max(np.abs(coarse - fine)) > 1e-4 * hscale:
        event("skipped: difference of the gradient ill-conditioned (kink nearby)")
        assume(False)
    fd = (4 * fine - coarse) / 3
    if not np.all(np.abs(got - fd) <= 1e-5 * hscale):
        raise Mismatch("wrong hvp", f"hvp {got!r} != central difference of grad {fd!r} "
                                    f"(scale {hscale:g})")


def test_generator_writes_valid_programs():
    """A smoke test of the generator itself: its programs run and return one number."""
    pytest.importorskip("hypothesis")
    seen = []

    @settings(max_examples=40, **SETTINGS)
    @given(prog=array_programs(), point=array_points())
    def run(prog, point):
        mod = fuzz.load(prog.source)
        with np.errstate(all="ignore"):
            value = mod.f(*args_copy(point))
        assert np.ndim(value) == 0
        seen.append(prog)
    run()
    assert len(seen) >= 40
