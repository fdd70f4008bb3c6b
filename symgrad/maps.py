"""Map loops: a reverse loop that adds one term per element into fresh lists of zeros
becomes list comprehensions.

The adjoint of ``for i in range(len(x)): s = s + x[i] * w[i]`` is a loop of
``d_w[i] = d_w[i] + d_s * x[i]`` into ``d_w = [0.0] * len(w)``.  Each element is
written once, by a term that reads no adjoint list, so the adjoint list is the list of
its terms, ``d_w = [d_s * x_i for x_i in x]``: what a person writes, and about a
quarter cheaper in CPython (no list of zeros, no index reads and writes).  That holds
when every list is as long as the loop and no list is passed twice (one adjoint list
then takes the terms of both), so the comprehensions run under that test and the loop
runs otherwise::

    if len(w) == len(x) and w is not x:
        d_x = [d_s * w_i for w_i in w]
        d_w = [d_s * x_i for x_i in x]
    else:
        d_x = [0.0] * len(x)
        d_w = d_x if w is x else [0.0] * len(w)
        for i in reversed(range(len(x))):
            ...

In the IR such a loop is a :class:`~symgrad.ir.For` with ``collect`` (each list and the
term it collects) and, when it reads the lists element by element, ``elems`` (a variable
per list it iterates).  A loop qualifies when (else it is left as it was):

* it is ``for i in reversed(range(n))`` at the function's top level, with no ``break``,
  and ``n`` a parameter or computed once (``len(x)``, ``min(len(x), len(w))`` of a
  ``zip``: the test then compares each list's length with it);
* its body is equations without effects, each computing a number read only inside the
  body (by more than one term only if it is cheap: ``+ - *``, an index), and
  ``d_l[i] += t`` of terms ``t`` computed there (several for one list are summed, in
  the loop's order), after the values it pops off the tape;
* each ``d_l`` is the shadow of a list parameter of numbers that nothing writes,
  created at the start (``[0.0] * len(l)``, or ``d_m if l is m else ...``) and read
  by nothing before the loop; no term reads one;
* nothing after the loop reads the loop variable or a temporary of those shadows.

The lists are read element by element (``zip(x, w)``) when the loop variable is only
ever an index into list parameters that nothing writes, each term reading at least one;
else the comprehension is over ``range``.  The order of the iterations does not matter:
each element is computed once, from values the loop does not change.

A value the loop pops off the tape (``_t1 = _stack.pop()``: ``math.exp(x[i])``, saved
by the loop that computed it) is read in order instead: that loop pushes it on a tape of
its own, which then holds exactly one value per iteration, and the comprehension
iterates it, ``zip(c, _stack)``; the loop, where it runs, pops it from there.
"""

from __future__ import annotations

from typing import Any

from . import rules
from .emit_inline import MUTATING
from .ir import (Break, Const, Continue, Eqn, For, Func, If, Kind, Var, leaves,
                 stmt_reads, stmt_writes, walk)

__all__ = ["map_loops", "ENABLED"]

#: rewrite map loops (tests turn it off to compare the gradients bit for bit)
ENABLED = True

#: primitives a map loop's body may hold besides the rule table's (no effects)
_BODY_PRIMS = {"getitem", "neg", "select", "copy"}
#: primitives cheap enough to compute again in each term that reads them (the loop
#: computes a value two terms share once; each comprehension computes it itself)
_CHEAP = {"getitem", "neg", "copy", "add", "sub", "mul"}


def map_loops(func: Func) -> Func:
    """Rewrite the map loops of a gradient's top level (see the module docstring)."""
    if not ENABLED:
        return func
    tried: set[int] = set()
    facts = None
    while True:
        for k, s in enumerate(func.body):
            if type(s) is For and s.reverse and id(s) not in tried:
                tried.add(id(s))
                facts = facts or _Facts(func)
                new = _MapLoop(func, k, facts).rewrite()
                if new is not None:
                    func.body = new
                    facts = None         # (counted again for the new body)
                    break
        else:
            return func


class _Facts:
    """What the candidates of one function share: reads and writes of each variable,
    the lists written into, and the top-level equation (and its place) defining each
    variable defined there."""

    def __init__(self, func: Func):
        self.reads, self.writes = _counts(func.body)
        self.params = set(func.params)
        self.written = {e.args[0] for e in walk(func.body) if type(e) is Eqn
                        and e.prim in MUTATING and e.args and type(e.args[0]) is Var}
        self.top = {o: (k, e) for k, e in enumerate(func.body) if type(e) is Eqn
                    for o in e.outs}


def _counts(block: list) -> tuple[dict, dict]:
    """(reads, writes) of each variable in ``block``."""
    reads: dict[Var, int] = {}
    writes: dict[Var, int] = {}
    for s in walk(block):
        for a in leaves(stmt_reads(s)):
            if type(a) is Var:
                reads[a] = reads.get(a, 0) + 1
        for o in stmt_writes(s):
            writes[o] = writes.get(o, 0) + 1
    return reads, writes


class _Before:
    """``get(v)``: the top-level equation defining ``v`` before place ``k``, or None."""

    def __init__(self, top: dict, k: int):
        self.defs, self.k = top, k

    def get(self, v: Any) -> Eqn | None:
        found = self.defs.get(v) if type(v) is Var else None
        return found[1] if found is not None and found[0] < self.k else None


def _is(op: Any, value: int) -> bool:
    return type(op) is Const and type(op.value) is int and op.value == value


class _MapLoop:
    """One candidate loop, ``func.body[k]``."""

    def __init__(self, func: Func, k: int, facts: _Facts):
        self.func, self.k, self.loop = func, k, func.body[k]
        self.reads, self.writes = facts.reads, facts.writes
        self.params, self.written = facts.params, facts.written
        self.top = _Before(facts.top, k)
        self.order = {p: n for n, p in enumerate(func.params)}
        self.pops: list[Eqn] = []       # (the values the loop pops off a tape, first)

    def rewrite(self) -> list | None:
        loop, body = self.loop, self.func.body
        if loop.limit is not None or loop.trips is not None or not _is(loop.start, 0) \
                or not _is(loop.step, 1) or type(loop.stop) is not Var:
            return None
        before = body[:self.k]
        stop = self.top.get(loop.stop)
        if self.writes.get(loop.stop) != (1 if stop is not None else None) or \
                stop is None and loop.stop not in self.params:
            return None                  # (the length: computed once, or a parameter)
        if stop is not None and not (stop.prim == "len" and self.fixed_list(stop.args[0])):
            stop = None                  # (compared as it is: len(w) == n)
        found = self.body_terms()
        if found is None:
            return None
        terms, pure = found
        group = self.shadows(terms)
        if group is None or not self.untouched(group, terms, before):
            return None
        elems = self.elements(pure, terms)
        tapes = self.tapes()
        if tapes is None or self.pops and elems is None:
            return None
        return self.assemble(stop, terms, pure, group, elems, tapes)

    def tapes(self) -> list | None:
        """For each value the loop pops off a tape, its push in the loop that computed
        it (``[(pop, push, that loop)]``): a top-level loop over the same range, which
        pushes it once per iteration, so a tape of its own holds exactly the loop's
        values, in order.  None when a pop is not such a value."""
        if not self.pops:
            return []
        loop = self.loop
        out = []
        for pop in self.pops:
            tape, v = pop.args[0], pop.out
            pushes = [e for e in walk(self.func.body) if type(e) is Eqn and e.prim == "append"
                      and e.args[0] is tape and e.args[1] is v]
            found = [s for s in self.func.body[:self.k] if type(s) is For and any(
                x is pushes[0] for x in s.body)] if len(pushes) == 1 else []
            if len(found) != 1 or out and found[0] is not out[0][2]:
                return None
            out.append((pop, pushes[0], found[0]))
        p = out[0][2]
        if p.var is not loop.var or p.reverse or p.limit is not None or p.trips is not None \
                or not _is(p.start, 0) or not _is(p.step, 1) or \
                not self.same_length(p.stop, loop.stop) or \
                any(type(x) in (Break, Continue) for x in walk(p.body)):
            return None
        return out

    def same_length(self, a: Any, b: Any) -> bool:
        """Do ``range(a)`` and ``range(b)`` run as many times (one variable, or the
        lengths of one list that nothing writes)?"""
        if a is b:
            return True
        ea, eb = self.top.get(a), self.top.get(b)
        return ea is not None and eb is not None and ea.prim == eb.prim == "len" and \
            ea.args[0] is eb.args[0] and self.fixed_list(ea.args[0]) and \
            self.writes.get(a) == self.writes.get(b) == 1

    def fixed_list(self, v: Any) -> bool:
        """A list parameter of numbers that the function never writes into or rebinds."""
        if type(v) is not Var or v not in self.params or v in self.written or v in self.writes:
            return False
        k = v.kind.find()
        return k.tag == "list" and k.elem is not None and k.elem.find().tag == "num"

    def body_terms(self) -> tuple[dict, list] | None:
        """``{d_l: term}`` of the loop's ``accum`` equations, and its other equations."""
        loop = self.loop
        terms: dict[Var, Var] = {}
        pure: list[Eqn] = []
        inner, _ = _counts(loop.body)
        for e in loop.body:
            if type(e) is not Eqn:
                return None
            if e.prim == "pop" and (e.params or {}).get("tape") and not terms and not pure:
                if e.out.kind.find().tag != "num":
                    return None
                self.pops.append(e)          # (a value saved by the loop that made it)
                continue
            if e.prim == "accum":
                lst, index, term = e.args
                if index is not loop.var or type(lst) is not Var or type(term) is not Var \
                        or e.params:
                    return None
                terms.setdefault(lst, []).append(term)
                continue
            if len(e.outs) != 1 or not (e.prim in _BODY_PRIMS or e.prim in rules.RULES) or \
                    (e.params or {}).get("flavor") == "numpy":
                return None
            o = e.out
            if o.kind.find().tag != "num" or self.writes.get(o) != 1 or \
                    self.reads.get(o) != inner.get(o) or inner.get(o, 0) > 1 and \
                    e.prim not in _CHEAP:
                return None
            if any(type(a) is tuple or type(a) is Var and a in terms for a in e.args):
                return None
            pure.append(e)
        made = {e.out for e in pure}
        if not terms or any(t not in made for ts in terms.values() for t in ts):
            return None
        return terms, pure

    def shadows(self, terms: dict) -> dict | None:
        """The top-level equations creating the shadows ``terms`` adds into (``out ->
        equation``), when they are fresh lists of zeros of the lists, or None."""
        group: dict[Var, Eqn] = {}
        todo = list(terms)
        while todo:
            v = todo.pop()
            if v in group:
                continue
            e = self.top.get(v)
            if e is None or self.writes.get(v) != 1 or e.params != {"mirror": True} or \
                    len(e.outs) != 1:
                return None
            group[v] = e
            if e.prim == "zeros_like":
                if len(e.args) != 1 or not self.fixed_list(e.args[0]):
                    return None
            elif e.prim == "is":
                if not all(self.fixed_list(a) for a in e.args):
                    return None
            elif e.prim == "select":
                todo.extend(a for a in e.args if type(a) is Var)
            else:
                return None
        for v in group:                  # (an adjoint list held by no term: not fresh here)
            if v.base is not None and v not in terms:
                return None
        if any(not self.fixed_list(d.base) for d in terms):
            return None
        return group

    def untouched(self, group: dict, terms: dict, before: list) -> bool:
        """Nothing but the shadows' own equations reads them before the loop, nothing
        after it reads their temporaries or the loop variable."""
        eqns = {id(e) for e in group.values()}
        for s in walk(before):
            if id(s) not in eqns and any(type(a) is Var and a in group
                                          for a in leaves(stmt_reads(s))):
                return False
        after = self.func.body[self.k + 1:]
        temps = {v for v in group if v not in terms} | {self.loop.var} | {
            e.out for e in self.pops}
        return not any(type(a) is Var and a in temps for s in walk(after)
                       for a in leaves(stmt_reads(s)))

    def elements(self, pure: list, terms: dict) -> dict | None:
        """``{list: element variable}`` when the loop variable is only an index into
        fixed lists and each term reads an element; else None (a loop over ``range``)."""
        i = self.loop.var
        elems: dict[Var, Var] = {}
        reads_elem: dict[Var, bool] = {e.out: True for e in self.pops}
        for e in pure:
            if e.prim == "getitem" and e.args[1] is i and self.fixed_list(e.args[0]):
                lst = e.args[0]
                if lst not in elems:
                    elems[lst] = Var(f"{lst.hint}_{i.hint.strip('_') or 'k'}",
                                     lst.kind.find().elem)
                reads_elem[e.out] = True
                continue
            if any(a is i for a in e.args):
                return None
            reads_elem[e.out] = any(reads_elem.get(a, False) for a in e.args)
        return elems if all(any(reads_elem[t] for t in ts) for ts in terms.values()) else None

    def assemble(self, stop: Eqn | None, terms: dict, pure: list, group: dict,
                 elems: dict | None, tapes: list) -> list:
        """The new top level: the comprehensions, under the test when there is one.
        ``stop``: the equation ``n = len(l0)`` of the loop's length, if it is one."""
        loop, body = self.loop, self.func.body
        loc = loop.loc
        i = loop.var
        fresh: dict[Var, Any] = {}
        new_body: list = []
        made: list = []                 # (the new tapes)
        taped: list = []
        unused: set = set()             # (tapes nothing uses any more)
        for pop, push, p in tapes:     # (each saved value on a tape of its own)
            old, v = pop.args[0], pop.out
            tape = Var(old.hint, old.kind)
            made.append(Eqn((tape,), "list", (), push.params, None))
            p.body = [Eqn((), "append", (tape, v), push.params, push.loc) if x is push else x
                      for x in p.body]
            loop.body = [Eqn((v,), "pop", (tape,), pop.params, pop.loc) if x is pop else x
                         for x in loop.body]
            fresh[v] = Var(v.hint, Kind.num())
            taped.append((fresh[v], tape))
            if not any(type(x) is Eqn and any(a is old for a in x.args) for x in walk(body)):
                unused.add(old)
        for e in pure:
            if elems is not None and e.prim == "getitem" and e.args[1] is i:
                fresh[e.out] = elems[e.args[0]]
                continue
            fresh[e.out] = Var(e.out.hint, Kind.num())
            new_body.append(Eqn((fresh[e.out],), e.prim, tuple(
                fresh.get(a, a) if type(a) is Var else a for a in e.args), e.params, e.loc))
        collect = []
        line = {e.out: e.loc for e in pure}
        for d in sorted(terms, key=lambda d: self.order[d.base]):
            total = fresh[terms[d][0]]
            for t in terms[d][1:]:          # (the loop's 0.0 + t1 + t2, without the 0.0)
                term, total = total, Var("_t", Kind.num())
                new_body.append(Eqn((total,), "add", (term, fresh[t]), None, line[t]))
            collect.append((d, total))
        n = Var("_t", Kind.num()) if stop is not None else loop.stop
        comp = For(i, Const(0), n, Const(1), new_body, False, loc, collect=tuple(collect),
                   elems=(*((v, l) for l, v in (elems or {}).items()), *taped))
        then = [Eqn((n,), "len", stop.args, None, loc), comp] if stop is not None else [comp]
        tests, checks = self.tests(stop, terms, group, elems or {}, loc)
        drop = {id(e) for e in group.values()}
        moved = [e for e in body[:self.k] if id(e) in drop]
        if stop is not None and self.reads.get(stop.out) == 1:
            drop.add(id(stop))
            moved.append(stop)
        drop.update(id(s) for s in body[:self.k] if type(s) is Eqn and s.prim == "list"
                    and s.outs[0] in unused)
        kept = made + [s for s in body[:self.k] if id(s) not in drop]
        if checks is None:
            return kept + then + body[self.k + 1:]
        return kept + tests + [If(checks, then, moved + [loop], loc)] + body[self.k + 1:]

    def tests(self, stop: Eqn | None, terms: dict, group: dict, elems: dict,
              loc: Any) -> tuple[list, Any]:
        """The equations of the test under which the comprehensions are right: each
        list as long as the loop, no list passed twice.  (equations, test or None)"""
        eqns: list = []
        checks: list = []
        l0 = stop.args[0] if stop is not None else None
        for lst in sorted({*(d.base for d in terms), *elems}, key=self.order.__getitem__):
            if lst is not l0:
                m, same = Var("_t", Kind.num()), Var("_c", Kind.num())
                n = Var("_t", Kind.num()) if l0 is not None else self.loop.stop
                eqns.append(Eqn((m,), "len", (lst,), None, loc))
                if l0 is not None:
                    eqns.append(Eqn((n,), "len", (l0,), None, loc))
                eqns.append(Eqn((same,), "eq", (m, n), None, loc))
                checks.append(same)
        for e in group.values():
            if e.prim == "is":
                other = Var("_c", Kind.num())
                eqns.append(Eqn((other,), "is_not", e.args, None, loc))
                checks.append(other)
        if not checks:
            return [], None
        test = checks[0]
        for c in checks[1:]:
            both = Var("_c", Kind.num())
            eqns.append(Eqn((both,), "and", (test, c), None, loc))
            test = both
        return eqns, test
