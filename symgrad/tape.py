"""The tape: what the primal sweep must save for the adjoint sweep, and where.

The adjoint sweep reads primal values (``1 - h * h`` needs ``h``).  In
straight-line code every value has its own variable and nothing is saved.  A
branch or loop overwrites variables, so the reverse pass puts a *restore*
placeholder in the adjoint sweep wherever it crosses a write (``h = _stack.pop()``),
and three kinds of *save*:

* ``old``: before a write, save the value it overwrites (restored when the
  adjoint sweep crosses that write going backwards);
* ``new``: a variable a loop body defines once and does not read first: save it
  after the body's last write, restore it at the top of the reversed body;
* ``around``: a loop that overwrites a variable defined before it: save before
  the loop, restore after the reversed loop.

Which restores are needed is a liveness question on the adjoint sweep, where a
restore defines its variable: a restore is kept only if its variable is read
before being defined again.  Each kept restore gets its save.

:func:`prepare` also adds the counters loops need to be replayed backwards
(``_n`` trips of a ``while`` or of a ``for`` that can ``break``) and snapshots of
``range`` bounds the body changes.
"""

from __future__ import annotations

from typing import Any, Iterable

from .ir import (Break, Const, Eqn, For, If, Kind, Var, While, stmt_reads,
                 stmt_writes, walk)

__all__ = ["prepare", "live_restores", "has_exit", "upward_exposed", "surely_written",
           "Definedness"]


# --------------------------------------------------------------------------- loop counters

def has_exit(body: list, kinds: tuple = (Break,)) -> bool:
    """Does ``body`` contain a ``break`` (or the given statements) of *this* loop?"""
    stack = list(body)
    while stack:
        s = stack.pop()
        t = type(s)
        if t in kinds:
            return True
        if t is If:
            stack += s.then + s.orelse
    return False


def prepare(block: list) -> list:
    """Add trip counters and range-bound snapshots so every loop can be replayed
    backwards; returns the new block (nested blocks are rewritten in place)."""
    out: list = []
    for s in block:
        t = type(s)
        if t is If:
            s.then = prepare(s.then)
            s.orelse = prepare(s.orelse)
        elif t is For:
            s.body = prepare(s.body)
            out.extend(_snapshot_bounds(s))
            if has_exit(s.body):
                out.extend(_counter(s))
        elif t is While:
            s.test = prepare(s.test)      # (a loop inlined into the test: h(x) < 1)
            s.body = prepare(s.body)
            out.extend(_counter(s))
            if _mark_breaks(s.body, s):
                out.append(Eqn((s.broke,), "copy", (Const(False),), {"tape": True}, s.loc))
        out.append(s)
    return out


def _counter(loop: For | While) -> list:
    n = Var("_n", Kind.num())
    loop.trips = n  # type: ignore[attr-defined]
    loc = loop.loc
    loop.body.insert(0, Eqn((n,), "add", (n, Const(1)), {"tape": True}, loc))
    return [Eqn((n,), "copy", (Const(0),), {"tape": True}, loc)]


def _mark_breaks(block: list, loop: While) -> bool:
    """``_b = True`` before each ``break`` of ``loop`` (not of loops inside it): the
    adjoint sweep then knows whether the loop's last test ran."""
    found = False
    i = 0
    while i < len(block):
        s = block[i]
        if type(s) is Break:
            if loop.broke is None:
                loop.broke = Var("_b", Kind.num())
            block.insert(i, Eqn((loop.broke,), "copy", (Const(True),), {"tape": True},
                                s.loc))
            i += 1
            found = True
        elif type(s) is If:
            found |= _mark_breaks(s.then, loop)
            found |= _mark_breaks(s.orelse, loop)
        i += 1
    return found


def _snapshot_bounds(loop: For) -> list:
    written = {v for s in walk(loop.body) for v in stmt_writes(s)} | {loop.var}
    pre = []
    for attr in ("start", "stop", "step"):
        op = getattr(loop, attr)
        if type(op) is Var and op in written:
            snap = Var("_bound", op.kind)
            pre.append(Eqn((snap,), "copy", (op,), None, loop.loc))
            setattr(loop, attr, snap)
    return pre


# --------------------------------------------------------------------------- definedness

class Definedness:
    """For each write, whether its variable may already hold a value (an older value a
    restore could bring back) and whether it surely does; the same for each loop's
    variables at the loop's entry."""

    def __init__(self, params: Iterable[Var]):
        self.maybe_at: dict[int, set[Var]] = {}          # outs of an equation possibly defined
        self.sure_at: dict[int, set[Var]] = {}
        self.maybe_before_loop: dict[int, set[Var]] = {}
        self.sure_before_loop: dict[int, set[Var]] = {}
        self.params = set(params)

    def run(self, block: list) -> None:
        self._block(block, set(self.params), set(self.params))

    def _block(self, block: list, maybe: set, sure: set) -> tuple[set, set]:
        for s in block:
            t = type(s)
            if t is Eqn:
                outs = s.outs
                if outs:        # (recorded only when not empty: most outs are new)
                    m = [v for v in outs if v in maybe]
                    if m:
                        self.maybe_at[id(s)] = set(m)
                        self.sure_at[id(s)] = {v for v in m if v in sure}
                    maybe.update(outs)
                    sure.update(outs)
            elif t is If:
                m1, s1 = self._block(s.then, set(maybe), set(sure))
                m2, s2 = self._block(s.orelse, set(maybe), set(sure))
                maybe, sure = m1 | m2, s1 & s2
            elif t in (For, While):
                body = s.body if t is For else s.test + s.body
                writes = {v for x in walk(body) for v in stmt_writes(x)}
                if t is For:
                    writes.add(s.var)
                self.maybe_before_loop[id(s)] = {v for v in writes if v in maybe}
                self.sure_before_loop[id(s)] = {v for v in writes if v in sure}
                inner_sure = set(sure) | ({s.var} if t is For else set())
                self._block(body, maybe | writes, inner_sure)
                maybe = maybe | writes
        return maybe, sure


def upward_exposed(body: list) -> set[Var]:
    """Variables a block may read before writing them (on some path)."""
    exposed: set[Var] = set()
    _exposed(body, set(), exposed)
    return exposed


def surely_written(body: list) -> set[Var]:
    """Variables a block writes on every path through it."""
    return _exposed(body, set(), set())


def _exposed(block: list, written: set, exposed: set) -> set:
    for s in block:
        t = type(s)
        for a in stmt_reads(s):
            if type(a) is Var and a not in written:
                exposed.add(a)
        if t is Eqn:
            written = written | set(s.outs)
        elif t is If:
            w1 = _exposed(s.then, set(written), exposed)
            w2 = _exposed(s.orelse, set(written), exposed)
            written = w1 & w2
        elif t is For:
            _exposed(s.body, written | {s.var}, exposed)
        elif t is While:
            _exposed(s.test + s.body, set(written), exposed)
    return written


# --------------------------------------------------------------------------- liveness

def live_restores(block: list, live_out: set[Var], tracked: set[Var] | None = None) -> set[int]:
    """Ids of the restore placeholders (``Eqn`` with prim ``restore``) whose variable is
    read later in the adjoint sweep before being defined again.  Only ``tracked``
    variables (those that have restores) are followed, if given."""
    kept: set[int] = set()
    if tracked is None:
        tracked = {s.outs[0] for s in walk(block) if type(s) is Eqn and s.prim == "restore"}
    _live_block(block, {v for v in live_out if v in tracked}, kept, (tracked, {}))
    return kept


def _live_block(block: list, live: set, kept: set, ctx: tuple) -> set:
    """Live variables before ``block`` given those after it (``live`` is updated in place
    and returned).  ``ctx`` is (the variables followed, what each loop gave last time)."""
    tracked = ctx[0]
    for s in reversed(block):
        t = type(s)
        if t is Eqn:
            if s.prim == "restore":
                v = s.outs[0]
                if v in live:
                    kept.add(id(s))
                    live.discard(v)
                continue
            for o in s.outs:
                live.discard(o)
            for a in s.args:
                if type(a) is Var and a in tracked:
                    live.add(a)
        else:
            live = _live_region(s, live, kept, ctx)
    return live


def _live_region(s: Any, live: set, kept: set, ctx: tuple) -> set:
    t = type(s)
    if t is If:
        a = _live_block(s.then, set(live), kept, ctx)
        b = _live_block(s.orelse, set(live), kept, ctx)
        out = a | b
    elif t in (For, While):
        out = _live_loop(s, live, kept, ctx)
    else:
        out = live
    tracked = ctx[0]
    for a in stmt_reads(s):
        if type(a) is Var and a in tracked:
            out.add(a)
    return out


def _live_loop(s: Any, live: set, kept: set, ctx: tuple) -> set:
    """Live variables before a loop: a fixed point, as the body may run again after
    itself.  An enclosing loop's fixed point visits this loop again with as many live
    variables or more, so it starts from the last one (from nothing, every visit would
    cost twice the one inside it: 2**depth for nested loops)."""
    var = s.var if type(s) is For else None
    body = s.body if type(s) is For else s.test + s.body
    last = ctx[1].get(id(s))
    if last is not None and last[0] == live:
        return set(last[1])
    entry: set = set(last[2]) if last is not None and last[0] <= live else set()
    while True:
        new = _live_block(body, live | (entry - {var}), kept, ctx)
        if new <= entry:
            break
        entry |= new
    out = (entry - {var}) | live
    ctx[1][id(s)] = (frozenset(live), frozenset(out), frozenset(entry))
    return out
