"""Lowering's helper: the reads of local names that may find them not assigned.

Python raises ``UnboundLocalError`` where a function reads a local name that no path
so far has assigned: a loop's variable after a loop that ran no times, a name assigned
in one branch only, or earlier in a loop's body than where the body assigns it.  The
gradient must raise there too, even where it does not need the value read, so the
lowering marks those reads (:mod:`symgrad.raising`) and the dead-code pass keeps them.

:func:`maybe_unbound` finds them on the function's own syntax tree, before the
desugaring rewrites loops with ``else``, ``break`` and ``return`` into flags that hide
which paths assign what.  A name is *definitely assigned* at a point when every path
from the function's start assigns it; a loop's body may run no times, and what
follows a ``return``, ``raise``, ``break`` or ``continue`` is no path at all.

>>> import ast
>>> tree = ast.parse('''
... def f(x, xs):
...     for v in xs:
...         if v > x:
...             s = v
...             break
...     else:
...         s = x
...     return s + v
... ''').body[0]
>>> sorted(name for _, _, name in maybe_unbound(tree))
['v']
"""

from __future__ import annotations

import ast
from typing import Any, Optional

__all__ = ["maybe_unbound"]

State = Optional[set]      # the names definitely assigned; None: no path reaches here


def maybe_unbound(fn: ast.AST, walrus: bool = True) -> frozenset:
    """``(lineno, col_offset, name)`` of every read of a local name of the function
    ``fn`` (a ``def`` or ``lambda`` node) that may find it not assigned (an augmented
    assignment's target too: it reads first).  Nested functions and lambdas are not
    looked into (their reads happen when they are called).  ``walrus``: may the source
    hold ``:=`` (False: no need to look for one)."""
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return frozenset()
    a = fn.args
    params = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs}
    params.update(p.arg for p in (a.vararg, a.kwarg) if p is not None)
    risky = _risky(fn, walrus) - params
    if not risky:
        return frozenset()
    flow = _Flow(risky)
    try:
        flow.block(fn.body, set(params))
    except _Unknown:            # (a statement the lowering refuses anyway)
        return frozenset()
    return frozenset(flow.found)


class _Unknown(Exception):
    pass


_COMPOUND = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.AsyncFor, ast.AsyncWith)


def _risky(fn: Any, walrus: bool) -> set:
    """The local names that may be read unassigned: those assigned inside a compound
    statement (a branch, a loop's body or target), deleted, or assigned by a walrus.
    A name assigned only by the function's top-level statements is assigned, in order,
    before any read the lowering accepts (it refuses a read before the first one)."""
    names: set = set()
    declared: set = set()
    stack = [(s, False) for s in fn.body]
    while stack:
        s, nested = stack.pop()
        if isinstance(s, (ast.Global, ast.Nonlocal)):
            declared.update(s.names)
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if nested:
                names.add(s.name)
        elif isinstance(s, ast.Delete):
            names.update(_stored(s.targets))
        elif isinstance(s, _COMPOUND):
            if isinstance(s, (ast.For, ast.AsyncFor)):
                names.update(_stored([s.target]))
            for field in ("body", "orelse", "finalbody", "handlers"):
                stack.extend((c, True) for c in getattr(s, field, ()))
        elif nested:
            if isinstance(s, ast.Assign):
                names.update(_stored(s.targets))
            elif isinstance(s, (ast.AugAssign, ast.AnnAssign)):
                names.update(_stored([s.target]))
            elif isinstance(s, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in s.names)
            elif isinstance(s, ast.ExceptHandler) and s.name:
                names.add(s.name)
    if walrus:
        names.update(w.target.id for w in _walrus_targets(fn))
    return names - declared


def _stored(targets: list) -> list:
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _walrus_targets(n: ast.AST) -> list:
    return [w for w in ast.walk(n) if isinstance(w, ast.NamedExpr)]


class _Flow:
    def __init__(self, local: set):
        self.local = local
        self.found: set = set()
        self.loops: list[list] = []   # per enclosing loop: states at its breaks, continues

    # ------------------------------------------------------------------ statements
    def block(self, stmts: list, done: State) -> State:
        for s in stmts:
            if done is None:
                return None
            done = self.stmt(s, done)
        return done

    def stmt(self, s: ast.stmt, done: set) -> State:
        if isinstance(s, ast.Assign):
            self.expr(s.value, done)
            for t in s.targets:
                self.target(t, done)
        elif isinstance(s, ast.AugAssign):
            if isinstance(s.target, ast.Name):
                self.read(s.target, done)
            else:
                self.target(s.target, done, load=True)
            self.expr(s.value, done)
            self.target(s.target, done)
        elif isinstance(s, ast.AnnAssign):
            if s.value is not None:
                self.expr(s.value, done)
                self.target(s.target, done)
        elif isinstance(s, (ast.Expr, ast.Return)):
            if s.value is not None:
                self.expr(s.value, done)
            return done if isinstance(s, ast.Expr) else None
        elif isinstance(s, ast.Raise):
            for e in (s.exc, s.cause):
                if e is not None:
                    self.expr(e, done)
            return None
        elif isinstance(s, ast.Assert):
            self.expr(s.test, done)
            if s.msg is not None:
                self.expr(s.msg, set(done))
        elif isinstance(s, ast.If):
            self.expr(s.test, done)
            return _meet(self.block(s.body, set(done)), self.block(s.orelse, set(done)))
        elif isinstance(s, (ast.For, ast.While)):
            return self.loop(s, done)
        elif isinstance(s, (ast.Break, ast.Continue)):
            if self.loops:
                self.loops[-1][isinstance(s, ast.Continue)].append(set(done))
            return None
        elif isinstance(s, ast.Delete):
            for t in s.targets:
                self.target(t, done, load=True)
                if isinstance(t, ast.Name):
                    done.discard(t.id)
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for d in s.decorator_list:
                self.expr(d, done)
            done.add(s.name)
        elif isinstance(s, (ast.Import, ast.ImportFrom)):
            done.update((a.asname or a.name).split(".")[0] for a in s.names)
        elif not isinstance(s, (ast.Pass, ast.Global, ast.Nonlocal)):
            raise _Unknown
        return done

    def loop(self, s: ast.For | ast.While, done: set) -> State:
        """A loop: its body may run no times (unless it runs over a constant
        ``range`` or a list display that is not empty); its ``else`` runs when it ends
        without a ``break``; after it, what both the ``else`` and every ``break``
        assigned."""
        forever = isinstance(s, ast.While) and isinstance(s.test, ast.Constant) and \
            bool(s.test.value)
        if isinstance(s, ast.For):
            self.expr(s.iter, done)
            inside = set(done)
            self.target(s.target, inside)
        else:
            self.expr(s.test, done)
            inside = set(done)
        self.loops.append([[], []])
        end = self.block(s.body, inside)
        breaks, continues = self.loops.pop()
        ended = done
        if isinstance(s, ast.For) and _runs(s.iter):        # (ends after an iteration)
            ended = end
            for c in continues:
                ended = _meet(ended, c)
        after = None if forever or ended is None else self.block(s.orelse, set(ended))
        for b in breaks:
            after = _meet(after, b)
        return after

    # ------------------------------------------------------------------ expressions
    def target(self, t: ast.AST, done: set, load: bool = False) -> None:
        """Assign ``t`` (reading what a subscript or attribute target reads first);
        ``load``: only read what it reads."""
        if isinstance(t, ast.Name):
            if load:
                self.read(t, done)
            else:
                done.add(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                self.target(e, done, load)
        elif isinstance(t, ast.Starred):
            self.target(t.value, done, load)
        elif isinstance(t, ast.Subscript):
            self.expr(t.value, done)
            self.expr(t.slice, done)
        elif isinstance(t, ast.Attribute):
            self.expr(t.value, done)

    def read(self, n: ast.Name, done: set) -> None:
        if n.id in self.local and n.id not in done:
            self.found.add((n.lineno, n.col_offset, n.id))

    def expr(self, e: ast.AST, done: set) -> None:
        """Read the names of ``e`` in order; a walrus assigns (inside a branch of an
        ``and``, ``or`` or ``if``-expression: only there)."""
        if isinstance(e, ast.Name):
            if isinstance(e.ctx, ast.Load):
                self.read(e, done)
        elif isinstance(e, ast.NamedExpr):
            self.expr(e.value, done)
            done.add(e.target.id)
        elif isinstance(e, ast.Lambda):
            for d in e.args.defaults + [d for d in e.args.kw_defaults if d is not None]:
                self.expr(d, done)
        elif isinstance(e, ast.BoolOp):
            self.expr(e.values[0], done)
            branch = set(done)
            for v in e.values[1:]:
                self.expr(v, branch)
        elif isinstance(e, ast.IfExp):
            self.expr(e.test, done)
            self.expr(e.body, set(done))
            self.expr(e.orelse, set(done))
        elif isinstance(e, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            self.comprehension(e, done)
        else:
            for c in ast.iter_child_nodes(e):
                self.expr(c, done)

    def comprehension(self, e: Any, done: set) -> None:
        """Its first iterable is read here; the rest when it runs (at once, for what
        ``sum`` or a list takes), with its own targets assigned.  (A walrus inside
        assigns only if it runs: not counted.)"""
        gens = e.generators
        self.expr(gens[0].iter, done)
        inner = set(done)
        for k, g in enumerate(gens):
            if k:
                self.expr(g.iter, inner)
            _assign_all(g.target, inner)
            for c in g.ifs:
                self.expr(c, inner)
        parts = [e.key, e.value] if isinstance(e, ast.DictComp) else [e.elt]
        for p in parts:
            self.expr(p, inner)


def _assign_all(t: ast.AST, done: set) -> None:
    for n in ast.walk(t):
        if isinstance(n, ast.Name):
            done.add(n.id)


def _runs(it: ast.AST) -> bool:
    """Does a loop over ``it`` run at least once: ``range`` of constants that is not
    empty, or a list or tuple display with an item?"""
    if isinstance(it, (ast.List, ast.Tuple)):
        return any(not isinstance(e, ast.Starred) for e in it.elts)
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" \
            and not it.keywords and 1 <= len(it.args) <= 3 and all(
                isinstance(a, ast.Constant) and type(a.value) is int for a in it.args):
        try:
            return len(range(*(a.value for a in it.args))) > 0
        except ValueError:          # (a step of 0)
            return False
    return False


def _meet(a: State, b: State) -> State:
    """The names assigned on both of two paths (None: no path)."""
    if a is None:
        return b
    if b is None:
        return a
    return a & b
