"""Functions that draw random numbers, and derivatives made of several sweeps.

A function may draw from Python's ``random`` or numpy's global generator: a draw of
fixed parameters is a constant (``random.random()``), one whose parameters are
differentiated is the library's arithmetic on such a draw (``random.gauss(mu, s)``:
see :mod:`symgrad.stdlib_models`).  A derivative computed in one call of the generated
code (``grad``, ``value_and_grad``, ``jvp``, ``hvp``) draws as the function draws.
One made of several sweeps (each runs the function's code again) must see the same
draws in each: the pullback of ``vjp`` those of the value it returned, every column of
a Jacobian or Hessian those of the others.  :class:`Replay` keeps the generators'
state from before the first sweep and starts each sweep from it; after the last one
they are where one run of the function leaves them (a ``vjp`` pullback draws nothing).
"""

from __future__ import annotations

from typing import Any

from .ir import Const, Eqn, Global, walk

__all__ = ["generators_drawn", "drawn_by", "Replay"]


def generators_drawn(body: list) -> tuple:
    """The generators the IR ``body`` draws from: Python's (the ``random`` module's,
    or a ``random.Random``), numpy's (``np.random``'s, a ``RandomState`` or a
    ``Generator``)."""
    found: dict[tuple, Any] = {}
    for s in walk(body):
        if type(s) is not Eqn or not s.args or type(s.args[0]) is not Global:
            continue
        obj = s.args[0].obj
        if s.prim == "call":                                 # a bound method
            owner = getattr(obj, "__self__", None)
        elif s.prim == "callmethod":                         # its object
            owner = obj
        elif s.prim == "getattr" and type(s.args[1]) is Const and \
                isinstance(s.args[1].value, str):
            # another module's global, read live by a function inlined from there
            # (helpers.rng.normal(...)): replayed as whatever it holds when a derivative
            # begins (it may be rebound after the code was made)
            live = LiveGenerator(obj, s.args[1].value)
            if _state_of(live.now()) is not None:
                found[("live", id(obj), live.name)] = live
            continue
        else:
            continue
        if owner is not None and _state_of(owner) is not None:
            found[("object", id(owner))] = owner
    return tuple(found.values())


class LiveGenerator:
    """A generator another module holds under ``name``, read when it is needed."""

    __slots__ = ("module", "name")

    def __init__(self, module: Any, name: str):
        self.module = module
        self.name = name

    def now(self) -> Any:
        return getattr(self.module, self.name, None)

    def __repr__(self) -> str:
        return f"{getattr(self.module, '__name__', '?')}.{self.name}"


def drawn_by(lowered: Any) -> tuple:
    """:func:`generators_drawn` of a lowered function (kept once found: the pipeline
    asks before it releases the IR)."""
    known = lowered.__dict__.get("_drawn")
    if known is None:
        known = lowered.__dict__["_drawn"] = generators_drawn(lowered.func.body)
    return known


def _state_of(gen: Any) -> tuple[Any, Any] | None:
    """(get state, set state) of a generator of random numbers, else None."""
    import random
    if isinstance(gen, random.Random):
        return gen.getstate, gen.setstate
    module = type(gen).__module__ or ""
    if not module.startswith("numpy.random"):
        return None
    if hasattr(gen, "get_state") and hasattr(gen, "set_state"):     # RandomState
        return gen.get_state, gen.set_state
    bits = getattr(gen, "bit_generator", None)                       # Generator
    if bits is None:
        return None
    return (lambda: bits.state), (lambda state: setattr(bits, "state", state))


class Replay:
    """The global generators' state when a derivative of several sweeps begins
    (nothing to keep when the function draws from none)."""

    __slots__ = ("_gens", "_states")

    def __init__(self, drawn: tuple):
        gens = [g.now() if type(g) is LiveGenerator else g for g in drawn]
        self._gens = [state for state in map(_state_of, gens) if state is not None]
        self._states = [get() for get, _ in self._gens]

    def start(self) -> None:
        """Before a sweep: the generators as they were at the beginning."""
        for (_, put), state in zip(self._gens, self._states):
            put(state)

    def aside(self) -> list:
        """The generators' state now (to put back after a sweep that must draw
        nothing: :meth:`back`)."""
        return [get() for get, _ in self._gens]

    def back(self, states: list) -> None:
        for (_, put), state in zip(self._gens, states):
            put(state)
