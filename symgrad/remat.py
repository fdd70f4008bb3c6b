"""What the adjoint sweep recomputes instead of saving on the tape
(:func:`remat_table`): cheap reads of values that never change (``xs[i]``, ``len(xs)``,
an array's row) and integer arithmetic of variables assigned once, where every read is
inside the loops the value is made in; never an array written in place afterwards,
through any name of it."""

from __future__ import annotations

from typing import Any

from .analyze import Facts
from .ir import Eqn, For, If, Var, While, assigned, leaves, stmt_reads, walk

__all__ = ["remat_table", "in_loops"]

_REMAT = {"getitem", "len", "getattr", "copy", "aget"}
_REMAT_INACTIVE = {"add", "sub", "mul", "floordiv", "mod", "neg", "lt", "le", "gt", "ge", "eq",
                   "ne", "not", "and"}


def remat_table(block: list, facts: Facts, params: set[Var]) -> dict[Var, Eqn]:
    """Values the adjoint sweep recomputes instead of saving: reads of lists nothing
    mutates, and integer arithmetic, of variables that are never reassigned.  A loop's
    variable has the value of the iteration only inside its loop: a value read from it
    (or made inside a loop) is recomputed only where every read of it is inside the same
    loops (``k = i`` after ``for i in ...`` is not: another loop may rebind ``i``)."""
    writes, loop_vars, mutated, eqns, where, readers = _remat_scan(block, facts)
    written_arrays = _arrays_written(eqns)
    in_loop = in_loops(block)
    table: dict[Var, Eqn] = {}
    deps: dict[Var, frozenset] = {}         # table var -> the loop variables it reads

    def stable(a: Any, loops: tuple) -> bool:
        if type(a) is not Var:
            return True
        if a in table:
            return True
        if a in loop_vars:          # (the iteration's value: inside a loop binding it)
            return not writes.get(a) and any(type(x) is For and x.var is a for x in loops)
        n = writes.get(a, 0) + (1 if a in params else 0)
        if n > 1 or (n == 1 and a in in_loop):
            return False
        if a.kind.find().tag == "array" and written_arrays(a):
            return False
        if a.kind.is_list or a.kind.find().tag == "array":
            return facts.root(a.base if a.base is not None else a) not in mutated
        return True
    for e in eqns:
        if len(e.outs) != 1 or (e.params or {}).get("tape"):
            continue
        v = e.out
        if writes.get(v) != 1 or v in loop_vars or v in params or \
                v.kind.find().tag == "array" and written_arrays(v):
            continue            # (an array written in place later, through any name)
        loops = where[id(e)]
        if e.prim in _REMAT or (e.prim in _REMAT_INACTIVE and not facts.is_active(v)
                                and not v.kind.is_list):
            if not all(stable(a, loops) for a in e.args):
                continue
            mine = frozenset(a for a in e.args if type(a) is Var and a in loop_vars).union(
                *(deps[a] for a in e.args if type(a) is Var and a in deps))
            if _reads_in_place(readers.get(v, ()), loops, mine):
                table[v] = e
                deps[v] = mine
    return table


def _arrays_written(eqns: list) -> Any:
    """A test: may an array variable share memory with one written in place (``q =
    full; q[i] = v`` writes ``full``'s array)?  Names are grouped by copies and views."""
    from .array_alias import _VIEWS, _WRITES
    parent: dict[Var, Var] = {}

    def find(v: Var) -> Var:
        while parent.get(v, v) is not v:
            v = parent[v]
        return v
    for e in eqns:
        if e.outs and e.args and type(e.args[0]) is Var and (
                e.prim in _VIEWS or e.prim == "aget") and \
                e.out.kind.find().tag == "array" and e.args[0].kind.find().tag == "array":
            a, b = find(e.out), find(e.args[0])
            if a is not b:
                parent[a] = b
    written = {find(e.args[0]) for e in eqns if e.prim in _WRITES and e.args and
               type(e.args[0]) is Var and e.args[0].kind.find().tag == "array"}
    return lambda v: bool(written) and find(v) in written


def _remat_scan(block: list, facts: Facts) -> tuple:
    """For :func:`remat_table`: how often each variable is written, the loops'
    variables, the lists changed in place (their roots), the equations, the loops
    around each (by ``id``, outermost first) and the loops around each read of a
    variable (only where there are loops: else every read is at the top)."""
    from .analyze import changed_by
    writes: dict[Var, int] = {}
    loop_vars: set[Var] = set()
    mutated: set[Var] = set()
    eqns: list = []
    where: dict[int, tuple] = {}
    readers: dict[Var, list] = {}
    looped = any(type(s) in (For, While) for s in walk(block))
    for s, loops in (_with_loops(block, ()) if looped else ((s, ()) for s in walk(block))):
        t = type(s)
        if looped:
            for a in leaves(tuple(stmt_reads(s))):
                if type(a) is Var:
                    readers.setdefault(a, []).append(loops)
        if t is Eqn:
            eqns.append(s)
            where[id(s)] = loops
            for o in s.outs:
                writes[o] = writes.get(o, 0) + 1
            for lst in changed_by(s):
                mutated.add(facts.root(lst.base if lst.base is not None else lst))
        elif t is For:
            loop_vars.add(s.var)
    return writes, loop_vars, mutated, eqns, where, readers


def _reads_in_place(readers: Any, loops: tuple, loop_vars: frozenset) -> bool:
    """Is every read (given by the loops around it) inside ``loops``, the loops a value
    is made in, with no loop between rebinding one of the ``loop_vars`` it reads?"""
    n = len(loops)
    return all(r[:n] == loops and not any(type(x) is For and x.var in loop_vars
                                          for x in r[n:]) for r in readers)


def _with_loops(block: list, loops: tuple) -> Any:
    """Every statement of ``block`` (nested ones too) with the loops around it."""
    for s in block:
        yield s, loops
        t = type(s)
        if t is If:
            yield from _with_loops(s.then, loops)
            yield from _with_loops(s.orelse, loops)
        elif t is For:
            yield from _with_loops(s.body, loops + (s,))
        elif t is While:
            yield from _with_loops(s.test + s.body, loops + (s,))


def in_loops(block: list) -> set[Var]:
    out: set[Var] = set()
    for s in walk(block):
        if type(s) in (For, While):
            out.update(assigned(s.body if type(s) is For else s.test + s.body))
    return out
