"""Emit, for a large gradient: adjoints and temporaries share names.

CPython 3.11 and later keep frames in chunks of 16 KB.  A function with more than
about 2,000 local variables does not fit in one, and every call then allocates
and frees its frame with ``mmap`` (about 7 us; measured in
``benchmarks/run.py``'s chain of 1,000 statements, where it was a tenth of the
call).  A gradient's adjoints and temporaries mostly live for a line or two, so
in a function with more than :data:`SHARE_ABOVE` local names they are given
names again, the way a register allocator gives registers: two variables share a
name when one is dead before the other is first written.  Adjoints are then named
``d``, ``d_1`` ... (the ``# grad of:`` comment above each line still says whose
adjoint it is), temporaries ``_t1``, ``_d1`` ... as before but reused.  The
user's own variable names are never changed, and smaller functions keep an
adjoint name per variable.

Liveness is that of the printed lines, taken conservatively: a variable lives from
the first line that names it to the last, and one named anywhere inside a loop
lives through the whole loop.  So that the gradient, differentiated again
(``hessian``, ``hvp``), still reads as one value per name, a name is shared only by
variables of one kind (a number's adjoint never takes a list's name), and two kinds
of variable keep the name they had:

* one first named inside a loop or a branch of an ``if``: Python code differentiated
  again writes a name assigned in a region in place, one variable for the region and
  for the name's value before it, so a shared name would join two values into one
  (an input's adjoint and a list's length, the length then varied and refused);
* one a nested scope may capture (named inside a ``lambda`` or comprehension the
  function keeps from its source).
"""

from __future__ import annotations

import heapq
import re
from typing import Any

from .emit_forms import STMT
from .ir import Eqn, For, If, Return, Var, While, leaves, stmt_reads

__all__ = ["SHARE_ABOVE", "share_names"]

#: local names above which adjoints and temporaries share names
SHARE_ABOVE = 1000

_TEMP = re.compile(r"(_[a-z]+)\d+$")


class _Lines:
    """The printed lines of a function, in order: per variable the first and last line
    that names it, and which lines are plain assignments (``a = <expression>``: all read
    before the write)."""

    def __init__(self, inline: dict):
        self.inline = inline
        self.lo: dict[Var, int] = {}
        self.hi: dict[Var, int] = {}
        self.reads: list[set] = []
        self.writes: list[tuple] = []
        self.simple: list[bool] = []
        self.captured: set[Var] = set()
        #: the variables first named inside a loop or a branch of an ``if``
        self.inside: set[Var] = set()
        self._depth = 0

    def line(self, reads: list, writes: tuple, simple: bool, seen: set | None) -> None:
        k = len(self.simple)
        inline = self.inline
        got = set()                   # (the variables the line names)
        opened: set = set()           # (the temporaries printed inside it)
        stack = list(reads)
        while stack:
            a = stack.pop()
            if type(a) is tuple:
                stack.extend(leaves(a))
            elif type(a) is Var:
                e = inline.get(a)
                if e is None:
                    got.add(a)
                elif a not in opened:
                    opened.add(a)
                    stack.extend(e.args)
                    if e.prim == "pyexpr":
                        self.captured.update(x for x in leaves(e.args) if type(x) is Var)
        self.reads.append(got)
        self.writes.append(writes)
        self.simple.append(simple)
        for v in (*got, *writes):
            if v not in self.lo:
                self.lo[v] = k
                if self._depth:
                    self.inside.add(v)
            self.hi[v] = k
            if seen is not None:
                seen.add(v)

    def block(self, block: list, seen: set | None) -> None:
        for s in block:
            t = type(s)
            if t is Eqn:
                if s.outs and s.out in self.inline:
                    continue
                if s.prim == "pyexpr":
                    self.captured.update(x for x in leaves(s.args) if type(x) is Var)
                self.line(list(s.args), s.outs, bool(s.outs) and s.prim not in STMT, seen)
            elif t is If:
                self.line(stmt_reads(s), (), False, seen)
                self._depth += 1
                self.block(s.then, seen)
                self.block(s.orelse, seen)
                self._depth -= 1
            elif t is For or t is While:
                self.loop(s, seen)
            elif t is Return:
                self.line(stmt_reads(s), (), False, seen)

    def loop(self, s: Any, seen: set | None) -> None:
        start = len(self.simple)
        inner: set = set()
        self._depth += 1
        if type(s) is For and s.collect:    # (a map loop: comprehensions, see maps.py)
            self.captured.update(v for v, _ in s.elems)
            self.line([*stmt_reads(s), *(t for _, t in s.collect), *(q for _, q in s.elems)],
                      tuple(lst for lst, _ in s.collect), False, inner)
        elif type(s) is For:
            self.line(stmt_reads(s), (s.var,), False, inner)
            self.block(s.body, inner)
        else:
            self.line([], (), False, inner)
            self.block(s.test, inner)
            self.line([s.cond], (), False, inner)
            self.block(s.body, inner)
        end = len(self.simple) - 1
        self._depth -= 1
        lo, hi = self.lo, self.hi
        for v in inner:
            if lo[v] > start:
                lo[v] = start
            if hi[v] < end:
                hi[v] = end
        if seen is not None:
            seen.update(inner)


def _family(v: Var, params: set) -> str | None:
    """Which names ``v`` may share: ``"d"`` for an adjoint (``"t"`` for a tangent), the
    prefix (``_t``) for a temporary, None for a parameter or a variable of the user's."""
    if v in params or v.name is None:
        return None
    if v.base is not None and v.hint in ("d_", "t_") and v.name.startswith(v.hint):
        return v.hint[0]
    m = _TEMP.match(v.name)
    return m.group(1) if m and (v.base is not None or v.hint == m.group(1)) else None


def share_names(printer: Any) -> bool:
    """Give the adjoints and temporaries of a large function shared names (see the
    module docstring).  Returns whether it did."""
    func, inline = printer.func, printer.inline
    if len(printer.defs) - len(inline) + len(func.params) <= SHARE_ABOVE:
        return False                # (an upper bound of the local names: most are small)
    lines = _Lines(inline)
    lines.block(func.body, None)
    named = {v.name for v in lines.lo if v.name is not None}
    if len(named) + len(func.params) <= SHARE_ABOVE:
        return False
    params = set(func.params)
    families: dict[tuple, list[Var]] = {}
    for v in lines.lo:              # (see the docstring for those that keep their names)
        fam = None if v in lines.captured or v in lines.inside else _family(v, params)
        if fam is not None:
            tag = v.kind.find().tag
            kind = tag if tag in ("num", "array", "obj") else str(v.kind)    # (= str(v.kind))
            families.setdefault((fam, kind), []).append(v)
    used = printer.names.namer.used
    for vs in families.values():
        used.difference_update(v.name for v in vs)
    for (fam, _), vs in sorted(families.items()):
        _allocate(fam, vs, lines, used)
    return True


def _allocate(fam: str, vs: list[Var], lines: _Lines, used: set) -> None:
    """Linear scan: each variable, in order of its first line, takes a name whose last
    holder is dead (or dies on the line that first writes it, read before the write)."""
    lo, hi = lines.lo, lines.hi
    vs.sort(key=lambda v: (lo[v], v.n))
    active: list = []            # (last line, order, holder, name)
    free: list[str] = []
    made = 0
    for order, v in enumerate(vs):
        start = lo[v]
        while active and active[0][0] < start:
            free.append(heapq.heappop(active)[3])
        name = None
        if active and active[0][0] == start:
            _, _, held, nm = active[0]
            if lines.simple[start] and held not in lines.writes[start] and \
                    v not in lines.reads[start]:
                heapq.heappop(active)
                name = nm
        if name is None:
            if free:
                name = free.pop()
            else:
                name, made = _fresh(fam, made, used)
        v.name = name
        heapq.heappush(active, (hi[v], order, v, name))


def _fresh(fam: str, made: int, used: set) -> tuple[str, int]:
    while True:
        made += 1
        if len(fam) == 1:                     # d, d_1, d_2 ...
            cand = fam if made == 1 else f"{fam}_{made - 1}"
        else:
            cand = f"{fam}{made}"
        if cand not in used:
            used.add(cand)
            return cand, made
