"""Fuzzing: random programs, gradients checked against references that run the program.

Hypothesis writes random modules (the grammar: ``tests/fuzz_programs.py``; arithmetic,
``math`` calls, reassignment, augmented assignment, branches, ``for`` / ``while`` loops
with ``break`` / ``continue``, helper calls, list arguments and local lists; mixed with
the families of ``tests/fuzz_families.py``: closures, aliases, ``and`` / ``or`` as
values, keyword builtins, decorators, globals) and checks, at a random point:

* the references agree with each other (else the generator or an oracle is wrong, not
  symgrad): the ``Value`` engine's value and gradient and the 60-digit finite
  differences' value and gradient (``fuzz_oracles.py``), both from running the real
  program, so aliasing, closures, decorators and globals behave as Python says;
* ``symgrad.grad`` gives the finite-difference gradient and the Value engine's, and for
  branch-free programs the one of ``sympy.diff``;
* ``value_and_grad`` returns the function's value and the same gradient;
* the gradient leaves the arguments as they were, or (when ``f`` itself writes into its
  arguments) as ``f`` leaves them;
* for a program reading module globals: after the test changes them (a number, a list
  rebound or changed in place), the *same* gradient object, called again, matches the
  references at the new globals (restored afterwards);
* with its ``math.sin``/``cos``/``tanh`` calls made through a module global
  (``_ACT = math.sin``): ``grad``, ``jvp`` and ``hvp`` made and called, the global
  rebound, then the same calls agree with a module made with the new function.
* for a program taking a packed parameter ``P`` (family ``pytrees``: a tuple of numbers,
  lists, lists of rows, a dict, a nested tuple): the gradients of ``grad``,
  ``value_and_grad`` and ``vjp`` come back in ``P``'s containers and equal the
  references; ``jvp`` is checked as for every program; ``hvp`` must refuse ``P`` with an
  ``ArgumentError`` naming it; and at a point where a container ``f`` unpacks has
  another length, ``grad``, ``value_and_grad``, ``vjp`` and ``jvp`` raise the exception
  Python raises (``test_fuzz_packed_parameter_of_another_length_raises_as_python_does``);
* for a program of the family ``maps`` (loops over lists ``xs``, ``ys``, ``cs`` that
  ``symgrad.maps`` rewrites into list comprehensions, and near misses; at points passing
  one list twice, one list longer, or all empty; the lists differentiated mostly,
  :func:`draw_wrt`): ``value_and_grad`` and ``hvp`` give the same bits with
  ``symgrad.maps.ENABLED`` on and off, and where Python raises (an ``IndexError``, an
  ``UnboundLocalError`` ...) ``grad`` and ``value_and_grad`` raise the same type of
  exception (:func:`check_maps`);
* for a program of the family ``raises`` (names that may not be assigned, elements that
  may not be there, read, and sometimes its own ``1.0 / (c3 - 0.5)`` or ``math.log(c3)``
  that may raise too: ``fuzz_raises.py``): where Python raises, every mode raises the
  same type of exception; elsewhere, when its shapes are all definitely assigned, no read
  of a name is kept in ``grad(f).source`` (:func:`check_raises`);
* for a program of the family ``stars`` (calls with ``*`` arguments: ``h(*us)``,
  ``h(x, *us, c=y)``, ``*args`` helpers given two lists, ``max(*us)``, ``math.hypot(*us)``,
  ``zip(*rows)``: ``fuzz_stars.py``), at points where a list has another length than the
  call takes: every mode raises the exception type Python raises (:func:`check_stars`);
  and a call whose binding depends on the length is refused in every mode, naming it
  (``test_fuzz_starred_call_whose_length_decides_is_refused``);
* for a program of the family ``resize`` (loops that grow or shrink the list they walk:
  ``fuzz_resize.py``), where Python raises, every mode raises the same (:func:`check_stars`).

Each failure is labelled ``[oracle]``, ``[refused]`` (a ``SymgradError``), ``[crash]``
(another exception while transforming), ``[exception]`` (raised by the generated code),
``[wrong value]``, ``[wrong gradient]``, ``[wrong gradient after global change]``,
``[arguments changed]``, ``[map loops change the numbers]``, ``[not raised as Python
does]``, ``[read kept where no path raises]`` or ``[not refused]``.
``SYMGRAD_FUZZ_ALLOW_REFUSAL=1`` lets a ``SymgradError`` pass (to hunt silent wrong answers
only); by default refusing a generated program fails.

Excluded points (the kink rule, ``fuzz_oracles.margins``): every comparison, ``abs``,
``max``, ``min`` (``key=`` too), ``relu``, ``%``, ``//``, ``sorted``, truth test, and
``math.hypot`` and ``math.atan2`` (their origin) met
while running the program must be more than ``fuzz.MARGIN`` = 1e-3 from its boundary
(an exact 0.0 or ``sorted`` tie is allowed when it is so by construction); points where
the function raises or exceeds 1e6, or an intermediate value exceeds ``fuzz.LARGE`` =
1e8, are skipped too.

CI runs 500 examples in all with every family on (``SYMGRAD_FUZZ_FAMILIES`` picks
families, e.g. ``closures`` or ``none`` for the base grammar).  A long run::

    SYMGRAD_FUZZ_EXAMPLES=10000 python -m pytest tests/test_fuzz.py -q

(``--hypothesis-seed=N`` replays a run; ``--hypothesis-show-statistics`` shows how many
examples were generated, kept and rejected.)
"""
from __future__ import annotations

import copy
import functools
import math
import signal
import os
import traceback
from typing import Any

from hypothesis import HealthCheck, Phase, assume, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

import fuzz
from fuzz_families import pack_known_bug
from fuzz_raises import (RAISES_RAISES, kept_names, python_raises, raising_modes,
                         triggers_set)
from fuzz_oracles import singular_before_raise
from fuzz_resize import resize_modes, resize_python_raises
from fuzz_stars import STARS_RAISES, refusal_failure, star_modes, star_python_raises
from same_bits import gradient_and_hvp, same_bits
from symgrad import SymgradError, grad, hvp, jvp, value_and_grad, vjp
from symgrad.errors import ArgumentError
from symgrad import emit, maps
from symgrad.entry import is_mixed, shares

TOTAL = int(os.environ.get("SYMGRAD_FUZZ_EXAMPLES", "500"))
N_BRANCHY = TOTAL * 3 // 5           # 300 of the 500 in CI
N_BRANCH_FREE = TOTAL - N_BRANCHY    # 200, with the SymPy check
ALLOW_REFUSAL = os.environ.get("SYMGRAD_FUZZ_ALLOW_REFUSAL", "") not in ("", "0")

# In CI (CI=true) the programs are a fixed, reproducible set; locally they are fresh each run.
SETTINGS = dict(deadline=None, print_blob=True, report_multiple_bugs=False,
                derandomize=os.environ.get("CI", "").lower() == "true",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])
BIG = 1e6
SYMPY_SECONDS = 2.0    # loops unrolled symbolically can swell; such examples skip SymPy
LAST: dict = {}        # the last example checked (for debugging a crash)


class Mismatch(AssertionError):
    """A failed check, with its category (``oracle``, ``wrong gradient``, ...)."""

    def __init__(self, category: str, message: str):
        super().__init__(f"[{category}] {message}")
        self.category = category


def within(seconds: int = 120):
    """A fuzz test's example that runs longer than ``seconds`` fails as a hang (a
    generated loop that never ends: a ``while`` whose test was folded) rather than
    stopping the run."""
    def wrap(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            def hang(*_):
                raise Mismatch("hang", f"the example ran for more than {seconds} s")
            old = signal.signal(signal.SIGALRM, hang)
            # (again every second: one raised inside a garbage collector's callback is
            # ignored; fuzz_oracles.time_budget, inside, keeps what is left of it)
            signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
            try:
                return test(*args, **kwargs)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
        return run
    return wrap


def fuzz_flatten(x):
    if isinstance(x, (list, tuple)):
        for v in x:
            yield from fuzz_flatten(v)
    elif isinstance(x, dict):                 # (by key: the order of the keys is no value)
        for k in sorted(x):
            yield from fuzz_flatten(x[k])
    else:
        yield x


def same_containers(arg, got) -> bool:
    """``got`` has ``arg``'s containers at every depth (a tuple for a tuple, a list for a
    list, a dict with the same keys) and a number for each number."""
    if isinstance(arg, (list, tuple, dict)):
        if type(arg) is not type(got) or len(arg) != len(got):
            return False
        if isinstance(arg, dict):
            return set(arg) == set(got) and all(same_containers(arg[k], got[k]) for k in arg)
        return all(same_containers(a, g) for a, g in zip(arg, got))
    return isinstance(got, (int, float)) and not isinstance(got, bool)


def assert_same_containers(args, wrt, got, what) -> None:
    """The gradient of each packed argument (a tuple or list of values of different kinds)
    comes back in its own containers."""
    for k, gk in zip(wrt, got):
        if isinstance(args[k], (tuple, dict)) or (
                isinstance(args[k], list) and any(isinstance(v, (tuple, dict, list))
                                                  for v in args[k])):
            if not same_containers(args[k], gk):
                raise Mismatch("wrong gradient type",
                               f"{what}: {gk!r} has not the containers of {args[k]!r}")


def _scale(*xs) -> float:
    return max([1.0] + [abs(v) for v in fuzz_flatten(xs)])


def assert_grads_close(got, want, scale, what, rtol=1e-7, category="wrong gradient"):
    """Each component within rtol * scale (scale: the largest gradient component or value,
    at least 1) of the reference; a nan or inf must match exactly."""
    g, w = list(fuzz_flatten(got)), list(fuzz_flatten(want))
    if len(g) != len(w):
        raise Mismatch(category, f"{what}: structure differs: {got!r} vs {want!r}")
    for a, b in zip(g, w):
        if not (math.isfinite(a) and math.isfinite(b)):
            if not ((math.isnan(a) and math.isnan(b)) or a == b):
                raise Mismatch(category, f"{what}: {got!r} != {want!r}")
        elif abs(a - b) > rtol * scale:
            raise Mismatch(category, f"{what}: {got!r} != {want!r} (scale {scale:g})")


def _close(got, want, rel=1e-9) -> bool:
    return abs(got - want) <= rel * max(1.0, abs(want))


def assert_value_close(got, want, what, category="wrong value", rel=1e-9):
    if not _close(got, want, rel):
        raise Mismatch(category, f"{what}: {got!r} != {want!r}")


def as_floats(prog: fuzz.Program, args: list[Any]) -> list[Any]:
    """The point with float scalars (an int x0 == 0 in ``x0 * x0 < x0`` is at a kink); one
    deep copy of all the arguments, so lists they share stay shared."""
    return [float(a) if p in prog.scalars else a
            for p, a in zip(prog.params, copy.deepcopy(args))]


def run_python(mod, args: list[Any], prog: fuzz.Program | None = None
               ) -> tuple[Any, list[Any]]:
    """f's value at the point (examples where it raises or is huge are skipped) and its
    arguments after the call (f may write into them).  A program of the maps family may
    raise anything in ``MAPS_RAISES`` at its lists (``check_maps`` checks those points),
    one of the stars family anything in ``STARS_RAISES`` (``check_stars``)."""
    after = copy.deepcopy(args)
    try:
        value = mod.f(*after)
    except (OverflowError, ZeroDivisionError, ValueError):
        assume(False)
    except MAPS_RAISES + RAISES_RAISES + STARS_RAISES:
        if prog is None or not (prog.more_lists or prog.raises or prog.stars or prog.resize):
            raise
        assume(False)
    assume(isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < BIG)
    return value, after


def references(prog: fuzz.Program, args, wrt, value, glob=None):
    """(finite-difference gradient, scale) after checking the two references against each
    other and against f's value: a disagreement is the generator's or an oracle's fault.
    None where the derivative is not finite."""
    exact_value, exact = fuzz.exact_grad(prog.source, args, wrt, glob)
    if not all(math.isfinite(v) for v in fuzz_flatten(exact)):
        return None
    scale = _scale(exact, value)
    v_value, v_grad = fuzz.value_grad(prog.source, copy.deepcopy(args), wrt, glob)
    if not _close(exact_value, value) and not _close(
            fuzz.float_precision_value(prog.source, args, glob), exact_value):
        _event("skipped: f amplifies rounding here (53-bit and 60-digit runs differ)")
        assume(False)
    assert_value_close(exact_value, value, "finite-difference run vs f", "oracle")
    assert_value_close(float(v_value), value, "Value engine vs f", "oracle")
    try:
        assert_grads_close(v_grad, exact, scale, "Value engine vs finite differences",
                           category="oracle")
    except Mismatch:
        if _derivative_amplifies_rounding(prog, args, wrt, glob, v_grad, scale):
            _event("skipped: f's derivative amplifies rounding here (float derivatives "
                   "move by more than the tolerance when the point moves by 1e-12)")
            assume(False)
        raise
    return exact, scale


def _derivative_amplifies_rounding(prog, args, wrt, glob, v_grad, scale) -> bool:
    """Does the float derivative (the Value engine's) change by more than the check's
    tolerance when the differentiated numbers move by a relative 1e-12?  Then no float
    derivative can be checked to 1e-7 against the 60-digit one (a loop feeding
    cos(x1 * x0) into a cube: the exact derivative is known, a float one is not)."""
    def nudge(v):
        return float(v) * (1 + 1e-12) + 1e-12 if isinstance(v, (int, float)) else v
    moved = [(fuzz.map_leaves(a, nudge) if isinstance(a, fuzz.CONTAINERS) else nudge(a))
             if k in wrt
             else a for k, a in enumerate(copy.deepcopy(args))]
    try:
        _, nudged = fuzz.value_grad(prog.source, moved, wrt, glob)
    except Exception:              # (the nudged point raises: not a rounding question)
        return False
    return any(abs(a - b) > 1e-7 * scale
               for a, b in zip(fuzz_flatten(v_grad), fuzz_flatten(nudged)))


def _event(text: str) -> None:
    if currently_in_test_context():
        event(text)


def _where(exc: BaseException) -> str:
    """Where an exception was raised: the innermost frame and its source line."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    fr = frames[-1]
    return f" (at {os.path.basename(fr.filename)}:{fr.lineno}: {(fr.line or '').strip()})"


# The Mismatches below are raised outside the ``except`` blocks, with no exception
# context: the generated function's file name changes with every transformation, and
# Hypothesis would take the same failure, replayed, for a different one (FlakyFailure).
# The message names the raising line instead.

def build(fn, wrt_names, with_value=False):
    """The gradient (or value-and-gradient) function, failures labelled."""
    failure = None
    try:
        return (value_and_grad if with_value else grad)(fn, wrt=wrt_names)
    except SymgradError as exc:
        failure = ("refused", f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        failure = ("crash", f"{type(exc).__name__} while transforming: {exc}{_where(exc)}")
    if failure[0] == "refused" and ALLOW_REFUSAL:
        _event("refused (allowed by SYMGRAD_FUZZ_ALLOW_REFUSAL)")
        assume(False)
    raise Mismatch(*failure)


def call(g, args, after=None, category="exception"):
    """Call a generated function on a copy of ``args``; check what it did to them
    (``after``: f's arguments after f ran)."""
    call_args = copy.deepcopy(args)
    failure = None
    try:
        out = g(*call_args)
    except SymgradError as exc:
        failure = ("refused", f"{type(exc).__name__} when called: {exc}")
    except Exception as exc:
        failure = (category, f"{type(exc).__name__}: {exc}{_where(exc)}")
    if failure is not None:
        if failure[0] == "refused" and ALLOW_REFUSAL:
            _event("refused (allowed by SYMGRAD_FUZZ_ALLOW_REFUSAL)")
            assume(False)
        raise Mismatch(*failure)
    if after is not None and call_args != args and call_args != after:
        raise Mismatch("arguments changed",
                       f"arguments {args!r} became {call_args!r} (f leaves {after!r})")
    return out


def check_program(prog: fuzz.Program, data: st.DataObject, with_sympy: bool) -> None:
    """Draw a point and the parameters to differentiate, then :func:`check_at`."""
    note(prog.source)
    point = data.draw(fuzz.points(prog), label="point")
    args = [point[p] for p in prog.params]
    wrt_names = draw_wrt(prog, data)
    for fam in sorted(prog.families):
        event(f"family: {fam}")

    def changes() -> dict:
        drawn = data.draw(global_changes(prog), label="changed globals")
        LAST["changes"] = copy.deepcopy(drawn)
        return drawn
    # half the programs print every run of results before a return inside it (that
    # threshold is a readability choice, so it must never change a number)
    inline = data.draw(st.booleans(), label="results returned inline")
    saved = emit.RETURN_INLINE_ABOVE
    emit.RETURN_INLINE_ABOVE = 0 if inline else saved
    try:
        if prog.more_lists and check_maps(prog, args, wrt_names):
            return                   # (f raises there, and so does symgrad)
        if prog.raises and check_raises(prog, args, wrt_names):
            return
        if prog.stars and check_stars(prog, args, wrt_names):
            return
        if prog.resize and check_stars(prog, args, wrt_names, "resize", resize_python_raises,
                                       resize_modes):
            return
        check_at(prog, args, wrt_names, with_sympy, changes)
    finally:
        emit.RETURN_INLINE_ABOVE = saved


def draw_wrt(prog: fuzz.Program, data: st.DataObject) -> list[str]:
    """The parameters to differentiate: any of them; for a program of the maps family
    mostly some of its lists (the map loops' gradients), sometimes with numbers."""
    diff = prog.differentiable
    if not prog.more_lists or data.draw(st.integers(0, 4), label="wrt of any kind") == 4:
        return data.draw(st.lists(st.sampled_from(diff), min_size=1, max_size=len(diff),
                                  unique=True), label="wrt")
    lists = ["xs"] + prog.more_lists
    drawn = lists if data.draw(st.booleans(), label="every list") else \
        data.draw(st.lists(st.sampled_from(lists), min_size=1, unique=True), label="wrt")
    nums = [p for p in diff if p not in lists]
    if data.draw(st.integers(0, 3), label="numbers too") == 3:
        drawn += data.draw(st.lists(st.sampled_from(nums), min_size=1, unique=True),
                           label="wrt numbers")
    return drawn


# ------------------------------------------------------------- map loops (family maps)
#: what a program of the maps family may raise at its point: an IndexError (a list shorter
#: than the loop, than ``n``, or empty and read at ``[0]``), an UnboundLocalError (the loop
#: variable read after a loop over an empty list), an arithmetic error
MAPS_RAISES = (IndexError, UnboundLocalError, ZeroDivisionError, ValueError, OverflowError)


def check_maps(prog: fuzz.Program, args: list, wrt_names: list[str]) -> bool:
    """The maps family's oracles at one point, before the others.  Where Python raises,
    ``grad`` and ``value_and_grad`` must raise the same type of exception, with
    ``symgrad.maps`` on and off (True: nothing more to check).  Elsewhere
    ``value_and_grad`` and ``hvp`` must give the same bits with it on and off: the
    comprehensions compute the loop's numbers, and a list passed twice or of another
    length takes the loop."""
    try:
        fuzz.load(prog.source).f(*copy.deepcopy(args))
    except MAPS_RAISES as exc:
        check_raises_as_python(prog, args, wrt_names, exc)
        return True
    v = tuple(copy.deepcopy(args[prog.params.index(p)]) for p in wrt_names)
    # (hvp of loop state that starts as a module's list is refused: see README)
    with_hvp = "globals.acc" not in prog.features
    got = {on: _call_mode(f"map loops {'on' if on else 'off'}", lambda: gradient_and_hvp(
        prog, args, wrt_names, v, maps, "ENABLED", on, with_hvp)) for on in (True, False)}
    if not (same_bits(got[True], got[False]) or got[True] == got[False]):
        raise Mismatch("map loops change the numbers", f"value_and_grad and hvp with "
                       f"symgrad.maps on: {got[True]!r}; off: {got[False]!r}")
    _event("maps: the same bits with the map loops on and off")
    return False


def check_raises_as_python(prog: fuzz.Program, args: list, wrt_names: list[str],
                           python: BaseException) -> None:
    """``grad`` and ``value_and_grad`` of a fresh copy of ``f`` raise as Python does,
    with the map loops on and off (even where they do not need the value Python fails to
    read: see symgrad.raising)."""
    _event(f"maps: Python raises {type(python).__name__}")
    for what, make in (("grad", grad), ("value_and_grad", value_and_grad)):
        got = {on: _made_and_called(prog, args, wrt_names, make, on) for on in (True, False)}
        failure = None
        for on, out in got.items():
            if isinstance(out, SymgradError):
                if ALLOW_REFUSAL:
                    assume(False)
                failure = f"{what} refused: {type(out).__name__}: {out}"
            elif isinstance(out, BaseException) and type(out) is not type(python):
                failure = f"{what} raised {type(out).__name__}: {out}{_where(out)}"
            elif not isinstance(out, BaseException):
                failure = f"{what} returned {out!r}"
            if failure is not None:
                raise Mismatch("not raised as Python does", f"{failure}; Python raises "
                               f"{type(python).__name__}: {python} (map loops "
                               f"{'on' if on else 'off'})")


def _made_and_called(prog: fuzz.Program, args: list, wrt_names: list[str], make,
                     on: bool) -> Any:
    """``make(f)`` of a fresh copy of ``f`` called at ``args`` with ``symgrad.maps`` on or
    off: what it returns, or the exception it raises."""
    saved = maps.ENABLED
    maps.ENABLED = on
    try:
        return make(fuzz.load(prog.source).f, wrt=wrt_names)(*copy.deepcopy(args))
    except Exception as exc:
        return exc
    finally:
        maps.ENABLED = saved


# ------------------------------------------------- reads that may raise (family raises)
def check_raises(prog: fuzz.Program, args: list, wrt_names: list[str]) -> bool:
    """The raises family's oracle at one point, before the others.  Where Python raises
    (``fuzz_raises.python_raises``: :data:`RAISES_RAISES`, and ``ZeroDivisionError`` or
    ``ValueError`` in a program with arithmetic raise points), ``grad``,
    ``value_and_grad``, ``jvp``, ``vjp``, ``hessian`` and ``hvp`` (those that apply:
    ``fuzz_raises.raising_modes``) raise the same type of exception (True: nothing more
    to check).  Elsewhere, in a program whose shapes are
    all definitely assigned, ``grad(f).source`` keeps no read of a name
    (``fuzz_raises.kept_names``); the other checks follow."""
    LAST.clear()
    LAST.update(source=prog.source, args=copy.deepcopy(args), wrt=wrt_names)
    python = python_raises(fuzz.load(prog.source).f, prog, args)
    if python is not None:
        if prog.definite_only and isinstance(python, RAISES_RAISES):
            raise Mismatch("oracle", f"the generator's definitely assigned reads raise: "
                           f"{type(python).__name__}: {python}")
        _event(f"raises: Python raises {type(python).__name__}")
        if "raises.arith" in prog.features:
            _event(f"raises (arith): Python raises {type(python).__name__}; triggers set: "
                   f"{triggers_set(prog, args)}")
        f = fuzz.load(prog.source).f
        for what, thunk in raising_modes(f, prog, as_floats(prog, args), wrt_names).items():
            check_mode_raises(what, thunk, python)
        return True
    _event("raises: Python does not raise")
    if prog.definite_only:
        kept = kept_names(build(fuzz.load(prog.source).f, wrt_names).source)
        if kept:
            raise Mismatch("read kept where no path raises", f"{kept[0]!r} in grad(f)'s "
                           "source; every name the program reads is definitely assigned")
        _event("raises: definitely assigned, no read of a name kept")
    return False


# ------------------------------------------------- calls with * arguments (family stars)
def check_stars(prog: fuzz.Program, args: list, wrt_names: list[str], label: str = "stars",
                raising=star_python_raises, modes=star_modes) -> bool:
    """The stars family's oracle at one point, before the others: where Python raises
    (:data:`fuzz_stars.STARS_RAISES`: a list of another length than a call takes,
    ``max`` of fewer than two numbers, columns of ``zip(*rows)`` unpacked, ``rest[0]`` of
    an empty ``*args``), ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``hessian`` and
    ``hvp`` (those that apply: ``fuzz_stars.star_modes``) raise the same type of
    exception (True: nothing more to check).  The resize family's the same, with its
    ``label``, what Python may raise (``raising``) and its ``modes``."""
    LAST.clear()
    LAST.update(source=prog.source, args=copy.deepcopy(args), wrt=wrt_names)
    python = raising(fuzz.load(prog.source).f, args)
    if python is None:
        _event(f"{label}: Python does not raise")
        return False
    _event(f"{label}: Python raises {type(python).__name__}")
    f = fuzz.load(prog.source).f
    for what, thunk in modes(f, prog, as_floats(prog, args), wrt_names).items():
        try:
            check_mode_raises(what, thunk, python)
        except Mismatch:
            # (hypot of zeros met first: the derivative's ZeroDivisionError may come first)
            if singular_before_raise(prog.source, as_floats(prog, args)):
                _event(f"{label}: skipped, a derivative not finite met before Python raises")
                assume(False)
            raise
    return True


def check_mode_raises(what: str, thunk, python: BaseException) -> None:
    """``thunk()`` raises ``python``'s type of exception (a SymgradError: refused)."""
    failure = None
    try:
        out = thunk()
        failure = ("not raised as Python does", f"{what} returned {out!r}")
    except SymgradError as exc:
        failure = ("refused", f"{what}: {type(exc).__name__}: {exc}")
    except Exception as exc:
        if type(exc) is not type(python):
            failure = ("not raised as Python does",
                       f"{what} raised {type(exc).__name__}: {exc}{_where(exc)}")
    if failure is not None:
        if failure[0] == "refused" and ALLOW_REFUSAL:
            _event("refused (allowed by SYMGRAD_FUZZ_ALLOW_REFUSAL)")
            assume(False)
        raise Mismatch(failure[0], f"{failure[1]}; Python raises {python!r}")
    _event(f"raises: {what} raises {type(python).__name__} as Python does")


def check_at(prog: fuzz.Program, args: list, wrt_names: list[str], with_sympy: bool,
             changes) -> None:
    """Every check at one point (``changes()``: the global changes to try, if any)."""
    wrt = [prog.params.index(w) for w in wrt_names]
    LAST.clear()
    LAST.update(source=prog.source, args=copy.deepcopy(args), wrt=wrt_names)
    mod = fuzz.load(prog.source)
    value, after = run_python(mod, args, prog)
    assume(all(m > fuzz.MARGIN for m in fuzz.margins(prog.source, as_floats(prog, args))))
    refs = references(prog, args, wrt, value)
    assume(refs is not None)
    exact, scale = refs

    g = build(mod.f, wrt_names)
    vg = build(mod.f, wrt_names, with_value=True)
    got = list(call(g, args, after))
    assert_grads_close(got, exact, scale, "symgrad vs exact finite differences")
    assert_same_containers(args, wrt, got, "grad")

    vg_value, vg_grad = call(vg, args)
    assert_value_close(vg_value, value, "value_and_grad's value vs f", rel=1e-12)
    assert_grads_close(list(vg_grad), got, scale, "value_and_grad vs grad", rtol=1e-12)
    assert_same_containers(args, wrt, list(vg_grad), "value_and_grad")
    if prog.packed is not None:
        check_vjp(prog, mod, args, wrt, exact, scale, value)

    if with_sympy:
        check_sympy(prog, args, wrt, got, scale)
    if prog.globals:
        check_global_change(prog, mod, g, vg, args, wrt, changes())


def check_vjp(prog, mod, args, wrt, exact, scale, value) -> None:
    """A packed parameter (pytrees family): ``vjp``'s value is f's and its cotangents for
    the differentiated parameters are the gradient, in the arguments' containers."""
    if pack_known_bug(prog.packed, "vjp"):
        _event("vjp skipped: " + pack_known_bug(prog.packed, "vjp"))
        return
    primals = as_floats(prog, args)
    out, pull = _call_mode("vjp", lambda: vjp(mod.f, *copy.deepcopy(primals)))
    assert_value_close(out, value, "vjp's value vs f", rel=1e-12)
    cot = _call_mode("vjp's pullback", lambda: pull(1.0))
    pulled = [cot[k] for k in wrt]
    assert_grads_close(pulled, exact, scale, "vjp vs exact finite differences",
                       category="wrong vjp")
    assert_same_containers(args, wrt, pulled, "vjp")
    _event("vjp checked (packed parameter)")


def check_sympy(prog, args, wrt, got, scale) -> None:
    try:
        with fuzz.time_budget(SYMPY_SECONDS):
            s_grad = fuzz.sympy_grad(prog.source, args, wrt)
    except fuzz.OutOfTime:
        _event("SymPy reference skipped: over its time budget")
        return
    _event("checked against SymPy")
    assert_grads_close(got, s_grad, scale, "symgrad vs sympy.diff")


@st.composite
def global_changes(draw, prog: fuzz.Program) -> dict[str, tuple[str, Any]]:
    """New values for some of the program's globals: name -> (how, value), ``how`` being
    ``set`` (rebind the name) or ``inplace`` (replace a list's contents)."""
    names = draw(st.lists(st.sampled_from(sorted(prog.globals)), min_size=1, unique=True))
    out = {}
    for name in names:
        if isinstance(prog.globals[name], list):
            new = draw(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=3))
            out[name] = (draw(st.sampled_from(["set", "inplace"])), new)
        else:
            out[name] = ("set", draw(st.floats(-2.0, 2.0)))
    return out


def check_global_change(prog, mod, g, vg, args, wrt, changes) -> None:
    """Change globals of the imported module, call the same gradient again, compare with
    the references run at the new globals; restore the globals."""
    glob = {name: value for name, (_, value) in changes.items()}
    saved = {name: getattr(mod, name) for name in changes}
    saved_lists = {name: list(v) for name, v in saved.items() if isinstance(v, list)}
    try:
        for name, (how, value) in changes.items():
            if how == "inplace":
                getattr(mod, name)[:] = value
            else:
                setattr(mod, name, copy.deepcopy(value))
        check_after_change(prog, mod, g, vg, args, wrt, glob)
    finally:
        for name, obj in saved.items():
            if name in saved_lists:
                obj[:] = saved_lists[name]
            setattr(mod, name, obj)


def check_after_change(prog, mod, g, vg, args, wrt, glob) -> None:
    try:
        value = mod.f(*copy.deepcopy(args))
    except (OverflowError, ZeroDivisionError, ValueError):
        _event("global change: f raises at the new globals (second call skipped)")
        return
    except (LookupError, NameError) as exc:   # (the raises family: a name a loop that ran
        # no times left unassigned, an element the new globals make missing): as Python
        _event(f"global change: f raises {type(exc).__name__}, and so does grad")
        try:
            g(*copy.deepcopy(args))
        except type(exc):
            return
        raise AssertionError(f"grad does not raise {exc!r} as f does after a global change")
    if not (math.isfinite(value) and abs(value) < BIG) or not all(
            m > fuzz.MARGIN for m in fuzz.margins(prog.source, as_floats(prog, args), glob)):
        _event("global change: point at a kink or too large (second call skipped)")
        return
    refs = references(prog, args, wrt, value, glob)
    if refs is None:
        return
    exact, scale = refs
    _event("global change checked")
    what = "after a global change"
    got = list(call(g, args, category="exception after global change"))
    assert_grads_close(got, exact, scale, f"symgrad vs finite differences {what}",
                       category="wrong gradient after global change")
    vg_value, _ = call(vg, args, category="exception after global change")
    assert_value_close(vg_value, value, f"value_and_grad's value {what}",
                       category="wrong value after global change")


@settings(max_examples=N_BRANCHY, **SETTINGS)
@given(prog=fuzz.programs(), data=st.data())
@within()
def test_fuzz_branches_loops_calls_lists(prog, data):
    """Everything in the grammar: checked against exact finite differences and the Value
    engine (and SymPy when the drawn program happens to be branch-free)."""
    check_program(prog, data, with_sympy=prog.sympy_ok)


@settings(max_examples=N_BRANCH_FREE, **SETTINGS)
@given(prog=fuzz.programs(branches=False, max_stmts=4), data=st.data())
@within()
def test_fuzz_branch_free_against_sympy(prog, data):
    """Branch-free programs (loops with constant trip counts, calls, lists, and the
    branch-free constructs of the families): also against ``sympy.diff``."""
    check_program(prog, data, with_sympy=True)


# ----------------------------------------------------------------------------- modes
N_MODES = max(20, TOTAL // 5)        # 100 of the 500 in CI


def _shares_inside(x, seen=None) -> bool:
    """Does nested list ``x`` hold one list twice (``[[c] * n] * m``)?  The central
    difference below moves copies, which would not share."""
    seen = set() if seen is None else seen
    for v in (x.values() if isinstance(x, dict) else x):
        if isinstance(v, list):
            if id(v) in seen or _shares_inside(v, seen):
                return True
            seen.add(id(v))
    return False


def _tangent_like(x, draw):
    if isinstance(x, (list, tuple)):
        return type(x)(_tangent_like(v, draw) for v in x)
    if isinstance(x, dict):
        return {k: _tangent_like(v, draw) for k, v in x.items()}
    return draw(st.floats(-1.0, 1.0, allow_nan=False).map(lambda t: round(t, 3)))


def _tangents(prog: fuzz.Program, args: list, diff: list[str], draw) -> list:
    """Tangents of f's arguments: drawn for the differentiated ones, zeros shaped like
    the others (``n``: 0; the maps family's list of data ``cs``: a list of zeros)."""
    return [_tangent_like(a, draw) if p in diff else
            fuzz.map_leaves(a, lambda x: 0 if isinstance(x, int) else 0.0)
            for p, a in zip(prog.params, args)]


def _dot(a, b) -> float:
    return sum(x * y for x, y in zip(fuzz_flatten(a), fuzz_flatten(b)))


def _lists_in(args) -> list:
    """The lists among the arguments, and those inside a packed one."""
    out = []
    for a in args:
        if isinstance(a, list):
            out.append(a)
        if isinstance(a, (list, tuple, dict)):
            out += _lists_in(a.values() if isinstance(a, dict) else
                             [v for v in a if isinstance(v, (list, tuple, dict))])
    return out


def _axpy(a, x, y):
    """y + a * x, elementwise over nested lists."""
    if isinstance(y, list):
        return [_axpy(a, xi, yi) for xi, yi in zip(x, y)]
    return y + a * x


def _call_mode(what, thunk):
    failure = None
    try:
        return thunk()
    except SymgradError as exc:
        failure = ("refused", f"{what}: {type(exc).__name__}: {exc}")
    except Exception as exc:
        failure = ("exception", f"{what}: {type(exc).__name__}: {exc}{_where(exc)}")
    if failure[0] == "refused" and ALLOW_REFUSAL:
        assume(False)
    raise Mismatch(*failure)


# (no shrinking phase: a failing program is reported as generated, so a failure cannot
# keep CI busy for many minutes while Hypothesis shrinks second-order code)
@settings(max_examples=N_MODES, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          **SETTINGS)
@given(prog=fuzz.programs(), data=st.data())
@within()
def test_fuzz_forward_mode_and_hvp_identities(prog, data):
    """Issue 12's identities on random programs: ``jvp(f, x, v)`` is ``grad(f)(x) . v``
    and ``hvp(f, x, v)`` is the central difference of ``grad(f)`` along ``v``."""
    note(prog.source)
    point = data.draw(fuzz.points(prog), label="point")
    args = [point[p] for p in prog.params]
    # a list shared between arguments is one value with two tangents: the identities
    # are for separate arguments (sharing is checked by the gradient tests above)
    lists = [a for a in args if isinstance(a, list)]
    assume(not shares(*lists) and not any(_shares_inside(a) for a in lists))
    assume(not shares(*_lists_in(args)))
    mod = fuzz.load(prog.source)
    value, after = run_python(mod, args, prog)
    assume(all(m > fuzz.MARGIN for m in fuzz.margins(prog.source, as_floats(prog, args))))
    diff = [p for p in prog.differentiable]
    wrt = [prog.params.index(p) for p in diff]
    refs = references(prog, args, wrt, value)
    assume(refs is not None)
    exact, scale = refs
    tangents = _tangents(prog, args, diff, data.draw)
    primals = tuple(as_floats(prog, args))
    if pack_known_bug(prog.packed, "jvp"):
        _event("jvp skipped: " + pack_known_bug(prog.packed, "jvp"))
        assume(False)
    _, slope = _call_mode("jvp", lambda: jvp(mod.f, copy.deepcopy(primals),
                                            tuple(tangents)))
    want = _dot(exact, [tangents[i] for i in wrt])
    if not abs(slope - want) <= 1e-7 * scale * max(1.0, _scale(tangents)):
        raise Mismatch("wrong jvp", f"jvp {slope!r} != grad . v {want!r} (scale {scale:g})")

    if prog.packed is not None:
        check_hvp_refuses_packed(mod, primals, tangents, wrt, diff)
        return
    if "globals.acc" in prog.features:
        # (hvp of loop state that starts as a module's list is refused: the gradient's
        # tape holds that list and the adjoint lists together; see README)
        _event("hvp skipped: loop state starting as a module's list")
        return
    diff = prog.hvp_differentiable              # (not a dict: hvp refuses it)
    wrt = [prog.params.index(p) for p in diff]
    v = tuple(tangents[i] for i in wrt)
    got = _call_mode("hvp", lambda: hvp(mod.f, copy.deepcopy(primals), v, wrt=diff))
    g = grad(mod.f, wrt=diff)

    def central(h):
        x_up, x_dn = list(copy.deepcopy(primals)), list(copy.deepcopy(primals))
        for i, t in zip(wrt, v):
            x_up[i] = _axpy(h, t, x_up[i])
            x_dn[i] = _axpy(-h, t, x_dn[i])
        for x in (x_up, x_dn):        # both points on the same side of every kink
            assume(all(m > fuzz.MARGIN / 2 for m in fuzz.margins(prog.source, x)))
        try:
            g_up, g_dn = g(*copy.deepcopy(x_up)), g(*copy.deepcopy(x_dn))
        except (OverflowError, ZeroDivisionError, ValueError):
            assume(False)
        g_up = g_up if len(diff) > 1 else (g_up,)
        g_dn = g_dn if len(diff) > 1 else (g_dn,)
        return [(a - b) / (2 * h) for a, b in zip(fuzz_flatten(g_up), fuzz_flatten(g_dn))]
    # Richardson: (4 D(h/2) - D(h)) / 3 cancels the h^2 error of the central difference,
    # which a steep gradient (a third derivative of 1e7) would otherwise show; halving h
    # until two estimates agree, as one scaled by 3**9 in a loop needs (else the
    # differences say nothing: the point is skipped)
    fd = _richardson(central)
    got_flat = list(fuzz_flatten(got if len(diff) > 1 else (got,)))
    assume(fd is not None and all(math.isfinite(a) for a in fd + got_flat))
    hscale = max([1.0] + [abs(a) for a in fd])
    assert_grads_close(got_flat, fd, hscale, "hvp vs central difference of grad", rtol=1e-4,
                       category="wrong hvp")


def _richardson(central, h: float = 2e-5, halvings: int = 5) -> list | None:
    """Richardson estimates of the derivative ``central(h)`` approximates, with ``h``
    halved until two of them agree to 1e-5 of their scale (None if they never do)."""
    ds = [central(h), central(h / 2)]
    last = None
    for _ in range(halvings):
        est = [(4 * b - a) / 3 for a, b in zip(ds[-2], ds[-1])]
        if last is not None:
            scale = max([1.0] + [abs(a) for a in est])
            if all(abs(a - b) <= 1e-5 * scale for a, b in zip(est, last)):
                return est
        last = est
        h /= 2
        ds.append(central(h / 2))
    return None


def check_hvp_refuses_packed(mod, primals, tangents, wrt, diff) -> None:
    """hvp of a packed parameter (values of different kinds) is refused, naming it (parts
    of one kind, as symgrad compares them along their first elements, are a list of
    lists or of numbers to hvp: not checked here)."""
    if not is_mixed(primals[0]):
        return
    v = tuple(tangents[i] for i in wrt)
    failure = None
    try:
        hvp(mod.f, copy.deepcopy(primals), v, wrt=diff)
        failure = "hvp of the packed parameter P returned instead of refusing"
    except ArgumentError as exc:
        if "'P'" not in str(exc):
            failure = f"hvp's refusal does not name P: {exc}"
    except SymgradError as exc:     # (refused for another of hvp's limits first: the
        # program's writes into a list from outside f, for one; still a refusal)
        _event(f"hvp of a packed parameter refused first as {type(exc).__name__}")
        return
    except Exception as exc:
        failure = f"hvp raised {type(exc).__name__}, not ArgumentError: {exc}{_where(exc)}"
    if failure is not None:
        raise Mismatch("hvp not refused", failure)
    _event("hvp of a packed parameter refused")


# ------------------------------------------------------------ a module function rebound
N_REBIND = max(10, TOTAL // 10)      # 50 of the 500 in CI
# (smooth on every real, with values in [-1, 1] as the generator's guards expect:
# ``(1.25 + math.sin(x)) ** 0.5`` stays real; atan's range is wider)
_SWAPPABLE = ("sin", "cos", "tanh")


def rebound_sources(source: str, first: str, second: str) -> tuple[str, str, int]:
    """``source`` with its ``math.sin(`` / ``cos`` / ``tanh`` calls made through
    a module global ``_ACT``, bound to ``math.<first>`` (and the same with ``second``), and
    how many calls were rerouted."""
    import re
    pattern = r"\bmath\.(" + "|".join(_SWAPPABLE) + r")\("
    body, n = re.subn(pattern, "_ACT(", source)
    lines = body.splitlines()
    at = max(k for k, line in enumerate(lines) if line.startswith(("import ", "from "))) + 1
    made = ["\n".join(lines[:at] + [f"_ACT = math.{fn}"] + lines[at:]) + "\n"
            for fn in (first, second)]
    return made[0], made[1], n


@settings(max_examples=N_REBIND, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          **SETTINGS)
@given(prog=fuzz.programs(), data=st.data())
@within()
def test_fuzz_every_mode_follows_a_rebound_module_function(prog, data):
    """Live globals in every mode: the program's math calls go through a module global
    (``_ACT = math.sin``); ``grad``, ``jvp`` and ``hvp`` are made and called, the global is
    rebound (``_ACT = math.tanh``), and the same calls must follow the new function
    (``jvp`` and ``hvp`` were cached once and kept the first, silently, before)."""
    first, second = data.draw(st.lists(st.sampled_from(_SWAPPABLE), min_size=2, max_size=2,
                                       unique=True), label="functions")
    before, after_src, n = rebound_sources(prog.source, first, second)
    assume(n > 0 and "globals.acc" not in prog.features)   # (its hvp: refused, see above)
    note(after_src)
    point = data.draw(fuzz.points(prog), label="point")
    args = [point[p] for p in prog.params]
    lists = [a for a in args if isinstance(a, list)]
    assume(not shares(*lists) and not any(_shares_inside(a) for a in lists))
    diff = list(prog.differentiable)
    primals = tuple(as_floats(prog, args))
    mod = fuzz.load(before)
    run_python(mod, args, prog)
    tangents = _tangents(prog, args, diff, data.draw)
    hdiff = prog.hvp_differentiable              # (not a dict: hvp refuses it)
    v = tuple(tangents[prog.params.index(p)] for p in hdiff)
    assume(all(m > fuzz.MARGIN for m in fuzz.margins(before, as_floats(prog, args))))
    g = grad(mod.f, wrt=diff)
    # (made, called and cached with the first function)
    _call_mode("grad", lambda: g(*copy.deepcopy(primals)))
    if not pack_known_bug(prog.packed, "jvp"):
        _call_mode("jvp", lambda: jvp(mod.f, copy.deepcopy(primals), tuple(tangents)))
    if prog.packed is None:        # (hvp refuses a packed parameter: checked above)
        _call_mode("hvp", lambda: hvp(mod.f, copy.deepcopy(primals), v, wrt=hdiff))
    mod._ACT = getattr(math, second)
    run_python(mod, args, prog)
    assume(all(m > fuzz.MARGIN for m in fuzz.margins(after_src, as_floats(prog, args))))
    # the reference: a module that always had the second function (its derivatives are
    # checked against finite differences by the tests above)
    fresh = fuzz.load(after_src)
    calls = {"grad": lambda m: grad(m.f, wrt=diff)(*copy.deepcopy(primals)),
             "jvp": lambda m: jvp(m.f, copy.deepcopy(primals), tuple(tangents)),
             "hvp": lambda m: hvp(m.f, copy.deepcopy(primals), v, wrt=hdiff)}
    if prog.packed is not None:
        del calls["hvp"]
    if pack_known_bug(prog.packed, "jvp"):
        del calls["jvp"]
    for what, call_on in calls.items():
        want = _call_mode(what, lambda: call_on(fresh))
        if what == "grad":                 # (the gradient object made before the change)
            got = _call_mode(what, lambda: g(*copy.deepcopy(primals)))
        else:
            got = _call_mode(what, lambda: call_on(mod))
        assert_grads_close(got, want, _scale(want), f"{what} after the rebinding vs a "
                           "module made with the new function", rtol=1e-12,
                           category=f"wrong {what} after rebinding")


# ------------------------------------------- a packed parameter unpacked at another length
N_PACKED_RAISES = max(10, TOTAL // 25)   # 20 of the 500 in CI


@settings(max_examples=N_PACKED_RAISES, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          **SETTINGS)
@given(prog=fuzz.programs(families=fuzz.FAMILIES | {"pytrees"}, packed=True),
       data=st.data())
@within()
def test_fuzz_packed_parameter_of_another_length_raises_as_python_does(prog, data):
    """The pytrees family's programs at a point where a container ``f`` unpacks (``P``
    itself, a nested tuple, a list part in ``u1, u2 = ws`` or ``u, *rest = ws``, the rows
    of ``for u, v in W``) has one item more or fewer, or none: Python raises (a
    ValueError, or an IndexError from a constant index read first); ``grad``,
    ``value_and_grad``, ``vjp`` and ``jvp`` must raise the same type of exception (not
    a SymgradError, not another exception, not a result)."""
    assume(prog.pack_sites)
    note(prog.source)
    point = data.draw(fuzz.points(prog, mismatch=True), label="point")
    args = as_floats(prog, [point[p] for p in prog.params])
    note(f"P = {args[0]!r}")
    mod = fuzz.load(prog.source)
    try:
        mod.f(*copy.deepcopy(args))
    except (ValueError, IndexError, TypeError, KeyError) as exc:
        python = exc
    else:
        _event("packed, another length: Python does not raise (the unpacking not reached)")
        assume(False)
    assume(not (isinstance(python, ValueError) and "unpack" not in str(python)))  # (a math
    # domain error: the point, not the shape)
    _event(f"packed, another length: Python raises {type(python).__name__}")
    wrt = data.draw(st.lists(st.sampled_from(prog.differentiable), min_size=1,
                             unique=True), label="wrt")
    tangents = tuple(_tangent_like(a, data.draw) if p in prog.differentiable
                     else 0 for p, a in zip(prog.params, args))
    calls = {
        "grad": lambda: grad(mod.f, wrt=wrt)(*copy.deepcopy(args)),
        "value_and_grad": lambda: value_and_grad(mod.f, wrt=wrt)(*copy.deepcopy(args)),
        "vjp": lambda: vjp(mod.f, *copy.deepcopy(args))[1](1.0),
        "jvp": lambda: jvp(mod.f, tuple(copy.deepcopy(args)), tangents),
    }
    for mode in ("vjp", "jvp"):
        if pack_known_bug(prog.packed, mode):
            del calls[mode]
    for what, thunk in calls.items():
        failure = None
        try:
            out = thunk()
            failure = f"{what} returned {out!r}; Python raises {python!r}"
        except Exception as exc:
            if type(exc) is not type(python):
                failure = (f"{what} raised {type(exc).__name__}: {exc}{_where(exc)}; Python "
                           f"raises {type(python).__name__}: {python}")
        if failure is not None:
            raise Mismatch("not raised as Python does", failure)


# ------------------------------------------------ a starred call whose length decides
N_STARS_REFUSED = max(10, TOTAL // 50)   # 10 of the 500 in CI


@settings(max_examples=N_STARS_REFUSED, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          **SETTINGS)
@given(prog=fuzz.programs(families=fuzz.FAMILIES | {"stars"}, stars=True, star_refusal=True),
       data=st.data())
@within()
def test_fuzz_starred_call_whose_length_decides_is_refused(prog, data):
    """The stars family's programs with one call whose binding depends on the spread
    list's length (``def hd(a, b=0.5)`` called ``hd(*us)``, two lists spread into fixed
    parameters, ``def hd(a, b=0.5, *rest)`` called ``hd(*us)``): symgrad refuses it by
    design, so every mode must raise ``UnsupportedSyntaxError`` naming it, at any point
    (not another error, not a result; where Python raises, its exception will do too:
    ``fuzz_stars.refusal_failure``)."""
    note(prog.source)
    point = data.draw(fuzz.points(prog), label="point")
    args = as_floats(prog, [point[p] for p in prog.params])
    wrt = data.draw(st.lists(st.sampled_from(prog.differentiable), min_size=1,
                             unique=True), label="wrt")
    failure = refusal_failure(fuzz.load(prog.source).f, prog, args, wrt)
    if failure is not None:
        raise Mismatch("not refused", f"{failure}; the call's binding depends on the "
                       "list's length")
    _event("stars: refused in every mode")
