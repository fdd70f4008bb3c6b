"""Which temporaries :mod:`symgrad.emit` prints inside the one expression that uses
them: the bookkeeping of :meth:`symgrad.emit.Printer.plan_inline`.

A temporary waits (:class:`Pending`) until the statement that reads it; a write to
something it reads, or a change to a list it reads, ends its wait (it is printed where it
is, named).  So is a line that may raise moved past another line that may raise: which
error comes first is Python's (:func:`keep_raising_order`).
"""

from __future__ import annotations

from typing import Any

from .analyze import LIST_MUTATORS
from .ir import Eqn, For, Var, stmt_writes, walk
from .raising import raise_class

#: primitives with an effect: on a list, or any (code symgrad does not see, a raise)
MUTATING = LIST_MUTATORS | {"call", "callmethod", "pyexpr", "raise", "assert_fail"}
#: writes into an array in place (``x[i] = v``): what read the array before is stale
ARRAY_WRITES = frozenset({"aset", "aset_add"})

__all__ = ["Pending", "reads_through", "touches_lists", "shadow_lists", "effects",
           "LIST_READS", "LIST_MUTATORS", "MUTATING", "ARRAY_WRITES", "PRIMAL", "SHADOW", "ANY"]


class Pending:
    """Temporaries that could still be printed inside a later statement, indexed by the
    variables they read (a write to one of those ends their chance, and that of the
    expression they are already printed inside)."""

    def __init__(self) -> None:
        self.entries: dict[Var, Eqn] = {}
        self.readers: dict[Var, list[Var]] = {}
        self.listy: dict[Var, int] = {}         # -> which lists it reads (PRIMAL, SHADOW)
        #: a temporary printed inside another one's expression -> that one
        self.outer: dict[Var, Var] = {}

    def add(self, e: Eqn, reads: list, listy: int) -> None:
        v = e.out
        self.entries[v] = e
        for r in reads:
            self.readers.setdefault(r, []).append(v)
        if listy:
            self.listy[v] = listy

    def take(self, v: Var) -> Eqn:
        self.listy.pop(v, None)
        return self.entries.pop(v)

    def outermost(self, v: Var) -> Var:
        outer = self.outer
        root = v
        while root in outer:
            root = outer[root]
        while v in outer and outer[v] is not root:      # (path compression)
            outer[v], v = root, outer[v]
        return root

    def kill_var(self, w: Var) -> None:
        for v in self.readers.pop(w, ()):
            self.entries.pop(self.outermost(v), None)

    def kill_lists(self, which: int) -> None:
        """A list changed: the temporaries that read lists of that kind (``SHADOW``:
        an adjoint or tape list, which no primal list is) are printed where they are."""
        for v in [v for v, m in self.listy.items() if m & which]:
            self.entries.pop(v, None)
            del self.listy[v]


def reads_through(e: Eqn, inline: dict) -> set:
    out = set()
    stack = list(e.args)
    while stack:
        a = stack.pop()
        if type(a) is Var:
            out.add(a)
            d = inline.get(a)
            if d is not None:
                stack.extend(d.args)
        elif type(a) is tuple:
            stack.extend(a)
    return out


LIST_READS = {"getitem", "len", "slice", "sum", "fsum", "mean", "fmean", "max_of", "min_of",
               "getattr", "call", "callmethod", "pyexpr", "zeros_like", "concat", "repeat",
               "copy", "list", "get_or_missing", "list_to_array", "join_list"}


def touches_lists(e: Eqn, inline: dict) -> bool:
    stack = [e]
    while stack:
        x = stack.pop()
        if x.prim in LIST_READS:
            if x.prim != "copy" or (type(x.args[0]) is Var and x.args[0].kind.is_list):
                return True
        for a in x.args:
            d = inline.get(a) if type(a) is Var else None
            if d is not None:
                stack.append(d)
    return False


#: what a printed-inside temporary reads: lists of the function's values, adjoint or
#: tape lists (made by the gradient, never one of the others), or both
PRIMAL, SHADOW, ANY = 1, 2, 3


def shadow_lists(body: list) -> set:
    """The adjoint and tape lists of a gradient: made as mirrors of the function's lists
    (``d_xs = [0.0] * len(xs)``) or tapes, and the rows and copies read from those."""
    out: set = set()
    for s in walk(body):
        if type(s) is not Eqn or len(s.outs) != 1:
            continue
        p = s.params
        if p is not None and (p.get("mirror") or p.get("tape")) or s.prim in (
                "getitem", "copy", "select", "slice") and any(
                type(a) is Var and a in out for a in s.args[:1] if s.prim != "select") or \
                s.prim == "select" and all(type(a) is Var and a in out for a in s.args[1:]):
            if s.out.kind.find().tag in ("list", "map", "array"):
                out.add(s.out)
    return out


def effects(s: Any) -> tuple[set, set, bool]:
    """(variables written, lists mutated, does it call unknown code?) of a statement."""
    writes: set = set()
    lists: set = set()
    unknown = False
    for x in walk([s]):
        t = type(x)
        if t is Eqn:
            writes.update(x.outs)
            if x.prim in ARRAY_WRITES and type(x.args[0]) is Var:
                writes.add(x.args[0])           # (an array written in place)
            if x.prim in MUTATING and x.args:
                if x.prim in ("call", "callmethod", "pyexpr"):
                    unknown = unknown or not (x.params or {}).get("constant")
                elif type(x.args[0]) is Var:
                    lists.add(x.args[0])
        elif t is For:
            writes.update(stmt_writes(x))
    return writes, lists, unknown


#: primitives of numbers that never raise (see :func:`may_raise_alone`)
NO_RAISE = {"add", "sub", "mul", "neg", "copy"}
def may_raise_alone(e: Eqn) -> bool:
    """Can ``e`` itself raise (not counting the temporaries printed inside it)?  Only
    ``+ - *`` of numbers and copies cannot (a read :mod:`symgrad.raising` marks, a
    division, a call, an index or arrays of other shapes can)."""
    p = e.params
    if p is not None and p.get("may_raise"):
        return True
    if e.prim not in NO_RAISE:
        return True
    if e.prim == "copy":
        return False
    return any(type(a) is Var and a.kind.find().tag != "num" for a in e.args) or \
        any(o.kind.find().tag != "num" for o in e.outs)


def keep_raising_order(block: list, inline: dict, consumer: dict) -> None:
    """Print no read that may raise after a later one that may raise another error (where
    both raise, the first error must be Python's): a temporary printed inside an
    expression past such a line is printed where it is, named.  ``inline``: the
    temporaries printed inside others (changed here); ``consumer``: the statement each
    one is printed inside.  A loop or a branch may raise what anything in it may."""
    raising = []
    for k, s in enumerate(block):
        if type(s) is Eqn:
            c = raise_class(s)
            if c is None:
                continue
            c = _ONE.get(c) or _ONE.setdefault(c, frozenset((c,)))
        else:
            c = frozenset(c for x in walk([s]) if type(x) is Eqn
                          for c in (raise_class(x),) if c is not None)
            if not c:
                continue
        raising.append((k, s, c))
    if len(raising) < 2:
        return
    where = {id(s): k for k, s in enumerate(block)}

    def place(s: Any, k: int) -> int:       # where the line of ``s`` is printed
        while type(s) is Eqn and len(s.outs) == 1 and s.outs[0] in inline:
            s = consumer.get(s.outs[0])
            k = where.get(id(s), len(block))        # (a while's test: after its block)
        return k

    changed = True
    while changed:
        changed = False
        seen: list[tuple[Any, int, frozenset]] = []
        furthest: dict[frozenset, int] = {}     # classes -> the furthest place seen
        for k, s, c in raising:
            p = place(s, k)
            if any(q > p and (c2 != c or len(c) > 1) for c2, q in furthest.items()):
                for e, q, c2 in seen:
                    if q > p and (c2 != c or len(c) > 1) and type(e) is Eqn and \
                            inline.pop(e.outs[0], None) is not None:
                        changed = True
                if changed:
                    break
            seen.append((s, p, c))
            if furthest.get(c, -1) < p:
                furthest[c] = p


#: a class of errors -> the set of it alone
_ONE: dict[str, frozenset] = {}
