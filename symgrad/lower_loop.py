"""Lowering of ``for`` loops and comprehensions (a mixin of :class:`symgrad.lower.Lowerer`).

Every ``for`` becomes a loop over ``range``: ``for x in xs`` is an index loop whose
body starts with ``x = xs[k]`` (so the adjoint sweep can replay it backwards);
``zip``, ``enumerate`` and ``reversed`` are index arithmetic; a loop whose body
changes the length of the list it walks becomes a ``while`` that re-reads the
length every iteration, as Python's list iterator does.  Comprehensions are
loops that append to a new list (or add to an accumulator, for ``sum``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable

from . import ir
from .desugar import assigned_names, iteration_locals
from .ir import Const, Eqn, Global, Kind, Var
from .scope import Scope, Static, StaticDict, StaticTuple, is_operand
from .lower_gen import GeneratorLowering
from .lower_unroll import UnrollLowering
from .stdlib_models import zip_column

_STRUCTURAL = {"append", "pop", "insert", "extend", "clear", "setslice", "remove", "reverse"}


@dataclass
class _Iter:
    """How a ``for`` walks: a range, or one or more sequences (zip), maybe enumerated."""

    kind: str                          # "range" | "seq"
    start: Any = None
    stop: Any = None
    step: Any = None
    reverse: bool = False
    seqs: tuple = ()
    enum_start: Any = None             # enumerate(..., start): the counter's offset
    enumerated: bool = False
    #: a dict walked by ``d.items()`` / ``d.values()`` (``seqs``: its keys): each value is
    #: read as the loop reaches it, as Python's view does (the body may write it)
    live: Any = None
    values_only: bool = False
    #: ``zip(*rows)``: ``seqs`` is the rows (a list made when the loop starts, as the
    #: call's ``*`` makes a tuple); step k reads ``tuple(r[k] for r in rows)`` then, and
    #: the walk goes on while every row has a k-th item (Python's zip reads the rows as
    #: it steps: a body may write into one)
    columns: Any = None                # (the call: zip(*rows))


class LoopLowering(GeneratorLowering, UnrollLowering):
    """``for`` statements, comprehensions and the loops builtins need (loops over
    generators and over fixed collections of functions: the mixins)."""

    def sorted_items(self, scope: Scope, node: ast.Call) -> ast.expr:
        """``sorted(d.items())`` as ``zip(sorted(d), [d[k] for k in sorted(d)])``."""
        # sorted(d.items()): the keys are unique, so the pairs are sorted by key (as
        # key=itemgetter(0) or key=lambda kv: kv[0] sorts them)
        d = node.args[0].func.value                          # type: ignore[attr-defined]
        kws = [k for k in node.keywords if k.arg == "reverse"]   # type: ignore[attr-defined]
        base = self.expr(scope, d) if isinstance(d, ast.Name) else None
        if type(base) is Var and base.kind.find().tag is None:
            self.unify(base.kind, Kind.map_of(), node)     # (d.items(): a dict)
        keys = ast.Call(func=ast.Name(id="sorted", ctx=ast.Load()), args=[d], keywords=kws)
        k = ast.Name(id="__key#", ctx=ast.Load())
        values = ast.ListComp(elt=ast.Subscript(value=d, slice=k, ctx=ast.Load()),
                              generators=[ast.comprehension(
                                  target=ast.Name(id="__key#", ctx=ast.Store()),
                                  iter=keys, ifs=[], is_async=0)])
        pairs = ast.Call(func=ast.Name(id="zip", ctx=ast.Load()), args=[keys, values],
                         keywords=[])
        for n in ast.walk(pairs):
            ast.copy_location(n, node)
        return pairs

    def by_first(self, scope: Scope, key: ast.expr) -> bool:
        """Is ``key`` the first item of a pair (``operator.itemgetter(0)``, ``lambda kv:
        kv[0]``)?"""
        if isinstance(key, ast.Lambda) and len(key.args.args) == 1 and not (
                key.args.vararg or key.args.kwarg or key.args.kwonlyargs):
            body, name = key.body, key.args.args[0].arg
            return isinstance(body, ast.Subscript) and isinstance(body.value, ast.Name) \
                and body.value.id == name and isinstance(body.slice, ast.Constant) \
                and body.slice.value == 0 and type(body.slice.value) is int
        if isinstance(key, ast.Call) and len(key.args) == 1 and not key.keywords and \
                isinstance(key.args[0], ast.Constant) and type(key.args[0].value) is int \
                and key.args[0].value == 0:
            import operator
            return _is_static(self.expr(scope, key.func), operator.itemgetter)
        return False

    # ------------------------------------------------------------------ iteration forms
    def iteration(self, scope: Scope, node: ast.expr) -> _Iter:
        if isinstance(node, ast.Call) and _zip_strict(node):
            return self.strict_zip(scope, node)
        if _sorted_items(node) and _is_static(self.expr(scope, node.func), sorted) and all(
                k.arg == "reverse" or self.by_first(scope, k.value)
                for k in node.keywords):     # type: ignore[attr-defined]
            return self.iteration(scope, self.sorted_items(scope, node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr in ("items", "values") and not node.args and not node.keywords:
            base = self.expr(scope, node.func.value)
            if type(base) is StaticDict:            # (**kwargs: the dict made of it)
                base = self.materialize(base, node)
            kb = base.kind.find() if type(base) is Var else None
            if kb is not None and (kb.tag is None or kb.tag == "map" and kb.attrs is not True):
                return _Iter("seq", seqs=(self.map_keys(base, node),), live=base,
                             values_only=node.func.attr == "values")
        if isinstance(node, ast.Call) and (not node.keywords or _enumerate_kw(node)) and not any(
                type(a) is ast.Starred for a in node.args) or _zip_call(node) and \
                not node.keywords and self.is_zip(scope, node):
            callee = self.expr(scope, node.func) if not isinstance(node.func, ast.Attribute) \
                else None
            obj = callee.obj if type(callee) is Static else None
            if obj is range and 1 <= len(node.args) <= 3:
                return self.range_iter(scope, node.args)
            if obj is reversed and len(node.args) == 1:
                if _zip_call(node.args[0]):
                    raise self.error_at(node, "reversed(zip(...)) (Python raises TypeError: "
                                        "'zip' object is not reversible)",
                                        "reverse the lists zipped: zip(reversed(a), reversed(b))")
                inner = self.iteration(scope, node.args[0])
                inner.reverse = not inner.reverse
                if inner.kind == "seq" and inner.enumerated:
                    raise self.error_at(node, "reversed(enumerate(...))",
                                        "loop over reversed(range(len(xs))) and index")
                return inner
            if obj is enumerate and len(node.args) + len(node.keywords) in (1, 2) and \
                    len(node.args) >= 1:
                inner = self.iteration(scope, node.args[0])
                if inner.kind == "range":
                    inner = _Iter("seq", seqs=(self.emit("range", (
                        inner.start, inner.stop, inner.step), Kind.obj()),))
                inner.enumerated = True
                start = node.keywords[0].value if node.keywords else \
                    node.args[1] if len(node.args) == 2 else None
                inner.enum_start = self.operand(scope, start) if start is not None else None
                return inner
            if obj is zip and any(type(a) is ast.Starred for a in node.args):
                return self.column_iter(scope, node)
            if obj is zip and node.args:
                seqs = []
                for a in node.args:
                    seqs.extend(self.iteration_seq(scope, a))
                return _Iter("seq", seqs=tuple(seqs))
            if obj in (enumerate, reversed, zip):   # (else listed by iterating it: again)
                raise self.error_at(node, f"{obj.__name__}() with these arguments",
                                    f"call {obj.__name__} as Python documents it")
        return _Iter("seq", seqs=tuple(self.iteration_seq(scope, node)))

    def is_zip(self, scope: Scope, node: ast.Call) -> bool:
        return _is_static(self.expr(scope, node.func), zip)

    def column_iter(self, scope: Scope, node: ast.Call) -> _Iter:
        """``zip(*rows)`` (``zip(a, *rows)``) walked: its rows, a list made now."""
        parts, spread = self.star_parts(scope, node)
        if not any(spread):              # zip(*[a, b]): zip(a, b)
            seqs: list = []
            for p in parts:
                seqs.extend(self.seq_of(p, node))
            return _Iter("seq", seqs=tuple(seqs))
        return _Iter("seq", seqs=(self.spread_list(parts, spread, node),), columns=node)

    def strict_zip(self, scope: Scope, node: ast.Call) -> _Iter:
        """``zip(..., strict=True)``: as zip, after checking the lengths are equal (the
        ValueError Python raises otherwise)."""
        strict = self.operand(scope, node.keywords[0].value)
        seqs: list = []
        for a in node.args:
            seqs.extend(self.iteration_seq(scope, a))
        if len(seqs) > 1 and not (type(strict) is Const and not strict.value):
            lens = [self.emit("len", (s_,), Kind.num()) for s_ in seqs]
            bad = self.emit("call", (Global("len", len, "builtin"), self.emit(
                "call", (Global("set", set, "builtin"), self.emit("list", tuple(lens),
                                                                  Kind.list_of())),
                Kind.obj(), {"kw": (), "label": "set", "constant": True})), Kind.num(),
                {"kw": (), "label": "len", "constant": True})
            many = self.emit("gt", (bad, Const(1)), Kind.num(), hint="_c")
            with self.sub_block() as fail:
                msg = Const("zip() arguments have different lengths (strict=True)")
                err = self.emit("call", (Global("ValueError", ValueError, "builtin"), msg),
                                Kind.obj(), {"kw": (), "label": "ValueError", "constant": True})
                self.effect("raise", (err,))
            self.block.append(ir.If(many, fail, [], self.loc))
        return _Iter("seq", seqs=tuple(seqs))

    def unpack_checked(self, scope: Scope, elts: list, seq: Any, node: ast.AST) -> bool:
        """``a, b = xs`` of a sequence known when the code runs: its length checked;
        True when the items were assigned here (a parameter read as a tuple of values
        of different kinds, ``W, b = params``: item by item, see :meth:`seq_param`)."""
        self.unpack_check(seq, len(elts))
        if not self.is_seq(seq):
            return False
        for k, e in enumerate(elts):
            self.assign_value(scope, e, self.getitem(seq, Const(k)), node)
        return True

    def container_param(self, v: Var) -> None:
        """A parameter the transform is given as a dict, or as a tuple of values of
        different kinds (``api`` makes it again so after a conflict of kinds among the
        items of a parameter read as a list: see :meth:`seq_conflict`): either is a map,
        read by key (``t[0]``, ``t[1][2]``); a tuple is unpacked by position."""
        cls = self.param_patterns.get(ir.CLASS_PARAMS, {}).get(v.name)
        if type(cls).__name__ == "ClassOf":      # a list of records: of its items' kind
            self.item_classes.append((v.kind.element, cls.cls))
        elif cls is not None:        # (its properties and methods inlined: param_classes)
            self.param_classes[v] = cls
        if v.name in self.param_patterns.get(ir.GENERATORS, ()):
            self.generators.add(v)
        elif v.name in self.param_patterns.get(ir.INT_LISTS, ()):
            kind = Kind.num()
            for _ in range(self.param_patterns[ir.INT_LISTS][v.name]):
                kind = Kind.list_of(kind)
            v.kind = kind
        elif v.name in self.param_patterns.get(ir.DICT_PARAMS, ()):
            v.kind = Kind.map_of()
        elif v.name in self.param_patterns.get(ir.SEQ_PARAMS, ()):
            v.kind = Kind.map_of()
            v.kind.attrs = False
            self.seq_kinds.append(v.kind)

    def is_seq(self, value: Any) -> bool:
        """Is ``value`` such a tuple (a parameter given as one, or a name bound to it)?"""
        return type(value) is Var and any(k.find() is value.kind.find()
                                          for k in self.seq_kinds)

    def no_seq(self, value: Any, node: ast.AST) -> None:
        """Refuse what reads such a tuple as a dict would be read (its keys: a loop over
        it, ``list(t)``, ``sorted(t)``): its items are of different kinds, one name in
        a loop cannot hold them all."""
        if self.is_seq(value):
            raise self.error_at(node, "a loop over (or a list of) a tuple whose items are "
                                "values of different kinds", "unpack it (w, b = params) or "
                                "read its items by position (params[0])")

    def read_by_position(self) -> frozenset:
        """The parameters read as lists at constant indices (``a, b = p``, ``p[0]``): a
        call may give one a tuple of values of different kinds, which the entry sends
        to a gradient made for it (``entry.is_mixed``)."""
        read = {id(v.kind.find()) for v in self.const_read if type(v) is Var}
        return frozenset(v.name for v in self.top_params if id(v.kind.find()) in read)

    def seq_conflict(self, kinds: tuple) -> str | None:
        """After a conflict of kinds (``kinds``): a parameter read as a list at constant
        indices (``t[0] * t[1][0]``, ``W, b = params``), whose items may be values of
        different kinds: its name, for a transform made again with it a tuple of them
        (one whose items ``kinds`` are, first), carrying the other such parameters
        (:class:`SeqParam`: tried next when it is not the one); None if there is none."""
        tried = self.param_patterns.get(ir.SEQ_PARAMS, ())
        read = {id(v.kind.find()) for v in self.const_read if type(v) is Var}
        found = sorted((v for v in self.top_params if v.name not in tried and
                        v.kind.find().tag == "list" and id(v.kind.find()) in read),
                       key=lambda v: v.n)
        if not found:
            return None
        roots = {id(k.find()) for k in kinds}
        first = next((v for v in found if _reaches(v.kind.find().elem, roots)), found[0])
        return SeqParam(first.name, tuple(v.name for v in found if v is not first))

    def unpack_check(self, seq: Any, n: int, at_least: bool = False) -> None:
        """``a, b = xs`` of a sequence known only when the code runs: the ValueError
        Python raises when ``xs`` has another length (``a, *b = xs``: fewer than ``n``)."""
        if type(seq) is not Var:
            return
        length = self.emit("len", (seq,), Kind.num())
        bad = self.emit("lt" if at_least else "ne", (length, Const(n)), Kind.num(), hint="_c")
        with self.sub_block() as fail:
            msg = Const(f"not enough values to unpack (expected at least {n})" if at_least
                        else f"too many or not enough values to unpack (expected {n})")
            err = self.emit("call", (Global("ValueError", ValueError, "builtin"), msg),
                            Kind.obj(), {"kw": (), "label": "ValueError", "constant": True})
            self.effect("raise", (err,))
        self.block.append(ir.If(bad, fail, [], self.loc))

    def range_iter(self, scope: Scope, args: list) -> _Iter:
        ops = [self.operand(scope, a) for a in args]
        for o in ops:
            if type(o) is Var:
                self.unify(o.kind, Kind.num(), args[0])
        if len(ops) == 1:
            return _Iter("range", Const(0), ops[0], Const(1))
        return _Iter("range", ops[0], ops[1], ops[2] if len(ops) == 3 else Const(1))

    def iteration_seq(self, scope: Scope, node: ast.expr) -> list:
        """The run-time sequence(s) a loop walks (an opaque iterable becomes a list)."""
        return self.seq_of(self.expr(scope, node), node)

    def seq_of(self, value: Any, node: ast.AST) -> list:
        """:meth:`iteration_seq` of ``value``, lowered already."""
        if type(value) is StaticTuple:
            return [self.materialize(value, node)]
        if not is_operand(value):
            raise self.error_at(node, "a loop over this value", "loop over a list or range")
        k = self.kind_of(value).find()
        if k.tag == "obj":
            return [self.emit("call", (Global("list", list, "builtin"), value),
                              Kind.list_of(), {"kw": (), "label": "list"})]
        if k.tag == "map" and k.attrs is not True:           # a dict: its keys
            return [self.map_keys(value, node)]
        if type(value) is Var and k.tag != "array":      # an array: walked by its rows
            self.unify(value.kind, Kind.list_of(), node)
        return [value]

    # ------------------------------------------------------------------ for statements
    def for_loop(self, scope: Scope, target: ast.expr, iter_node: ast.expr,
                 body: list[ast.stmt] | None, node: ast.AST,
                 inner: Callable[[], None] | None = None,
                 after_iter: Callable[[], None] | None = None) -> None:
        """``for target in iter_node: body`` (or ``inner()`` as the body, for
        comprehensions; ``after_iter()`` runs once the iterable is evaluated)."""
        if self.generator_loop(scope, target, iter_node, body, node, inner, after_iter) or \
                self.unrolled_loop(scope, target, iter_node, body, node, inner, after_iter):
            return
        loc = self.loc
        it = self.iteration(scope, iter_node)
        if after_iter is not None:
            after_iter()
        statics = []
        if body is not None:
            statics = self.prepare_region(scope, [node])
            for name in _target_names(target):        # (set afresh by every iteration)
                v = scope.owner_of(name).env.get(name)
                if type(v) is Var:
                    self.targets.add(v)
        else:
            self.prepare_names(scope, _target_names(target))
        reassigned = body is not None and _simple(target) in assigned_names(body, scope.fs.walrus)
        if it.kind == "range":
            var = self.loop_var(scope, target, reassigned)
            prologue = None if var is not None else (lambda k: self.assign_value(
                scope, target, k, node))
            var = var or Var("_k", Kind.num())
            self.emit_loop(scope, it, var, prologue, body, inner, loc, node)
        else:
            self.seq_loop(scope, it, target, body, inner, loc, node, reassigned)
        self.same_statics(statics, node)

    def loop_var(self, scope: Scope, target: ast.expr, reassigned: bool) -> Var | None:
        if isinstance(target, ast.Name) and not reassigned:
            v = scope.owner_of(target.id).env.get(target.id)
            if type(v) is Var:
                self.unify(v.kind, Kind.num(), target)
                return v
        return None

    def seq_loop(self, scope: Scope, it: _Iter, target: ast.expr, body: Any, inner: Any,
                 loc: Any, node: ast.AST, reassigned: bool) -> None:
        seqs = list(it.seqs)
        if body is not None:
            written = set(assigned_names(body, scope.fs.walrus))
            seqs = [self.emit("copy", (s,), s.kind, hint="_seq") if type(s) is Var and
                    s.hint in written else s for s in seqs]

        def length() -> Any:
            return self.walk_length(it, seqs)
        n = length()
        counter, item_target = None, target
        if it.enumerated:
            if not (isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) == 2):
                raise self.error_at(node, "this enumerate target", "write for i, x in ...")
            counter, item_target = target.elts
        var = None
        if counter is not None and it.enum_start is None and not it.reverse:
            var = self.loop_var(scope, counter, reassigned or _simple(counter) in assigned_names(
                body or [], scope.fs.walrus))
        var = var or Var("_k", Kind.num())

        def prologue(k: Var) -> None:
            idx: Any = k
            if it.reverse:
                last = self.emit("sub", (n, Const(1)), Kind.num())
                idx = self.emit("sub", (last, k), Kind.num())
            if counter is not None and (var is not k or k.hint == "_k") and not (
                    isinstance(counter, ast.Name) and scope.owner_of(counter.id).env.get(
                        counter.id) is k):
                c = k if it.enum_start is None else self.emit("add", (k, it.enum_start),
                                                              Kind.num())
                self.assign_value(scope, counter, c, node)
            self.walk_item(scope, it, seqs, idx, item_target, node)
        it2 = _Iter("range", Const(0), n, Const(1))
        if self.changes_length(scope, body, seqs):
            self.while_walk(scope, length, n, prologue, body, inner, loc, it.reverse,
                            node if body is not None else None)
            return
        self.emit_loop(scope, it2, var, prologue, body, inner, loc, node)
        loop = self.block[-1]
        # (the rows zip(*rows) walks: any list of their kind may be one of them)
        walked = [Var("_row", seqs[0].kind.find().elem)] if it.columns is not None else seqs
        if _resizes(loop.body, walked, self.same_list):
            # (a helper, a closure or a slice assignment changed the length of a list
            # walked: Python's iterator sees the new length at every step)
            self.block[-1:] = self.walk_to_length(loop, length, loc, it.reverse)

    def walk_length(self, it: _Iter, seqs: list) -> Any:
        """The steps a walk of ``seqs`` has (from where it is): the shortest list's
        length; ``zip(*rows)``: ``min(map(len, rows), default=0)``."""
        if it.columns is not None:
            lengths = self.emit("call", (_builtin(map), _builtin(len), seqs[0]), Kind.obj(),
                                {"kw": (), "label": "map", "constant": True})
            return self.emit("call", (_builtin(min), lengths, Const(0)), Kind.num(),
                             {"kw": ("default",), "label": "min", "constant": True})
        n = self.emit("len", (seqs[0],), Kind.num())
        for s in seqs[1:]:
            n = self.emit("min", (n, self.emit("len", (s,), Kind.num())), Kind.num(),
                          {"flavor": "builtin"})
        return n

    def walk_item(self, scope: Scope, it: _Iter, seqs: list, idx: Any, target: ast.expr,
                  node: ast.AST) -> None:
        """Step ``idx`` of a walk: its item (a tuple of them for zip) bound to ``target``."""
        if it.columns is not None:      # zip(*rows): (rows[0][k], rows[1][k], ...) now
            column = self.apply(scope, Static(zip_column), [seqs[0], idx], {}, it.columns,
                                None)
            self.assign_value(scope, target, column, node)
            return
        if it.live is not None:         # d.items(): (k, d[k]) read now
            key = self.getitem(seqs[0], idx, None, node)
            value = self.getitem(it.live, key, None, node)
            self.assign_value(scope, target, value if it.values_only else
                              StaticTuple((key, value)), node)
            return
        if len(seqs) == 1 and isinstance(target, ast.Name):
            dest = self.target_var(scope, target.id)
            item = self.getitem(seqs[0], idx, dest, node)
            self.bind(scope, target.id, item, node, dest)
            return
        items = [self.getitem(s, idx, None, node) for s in seqs]
        value = items[0] if len(items) == 1 else StaticTuple(tuple(items))
        self.assign_value(scope, target, value, node)

    def walk_to_length(self, loop: ir.For, length: Callable[[], Any], loc: Any,
                       reverse: bool) -> list:
        """``loop`` (``for k in range(n)``, ``n`` the length its lists had) as the walk
        of :meth:`while_walk`: the lengths read again before every step."""
        k = Var("_k", Kind.num())
        with self.sub_block(region=False) as test:
            cond = self.walk_test(k, length, loop.stop, reverse)
        step = [Eqn((loop.var,), "copy", (k,), None, loc),
                Eqn((k,), "add", (k, Const(1)), None, loc)]
        return [Eqn((k,), "copy", (Const(0),), None, loc),
                ir.While(test, cond, step + loop.body, loc)]

    def emit_loop(self, scope: Scope, it: _Iter, var: Var, prologue: Any, body: Any,
                  inner: Any, loc: Any, node: ast.AST) -> None:
        from .lower import _LoopCtx
        self.loops.append(_LoopCtx(scope, self.depth, node if body is not None else None))
        with self.sub_block() as stmts:
            if prologue is not None:
                prologue(var)
            self.loop_body(scope, body, inner)
        self.loops.pop()
        self.block.append(ir.For(var, it.start, it.stop, it.step, stmts, it.reverse, loc))

    def loop_body(self, scope: Scope, body: Any, inner: Any) -> None:
        if inner is not None:
            inner()
        else:
            self.body(scope, body)

    def walk_test(self, k: Var, steps: Callable[[], Any], n: Any, reverse: bool) -> Var:
        """Is there a step ``k`` (counted from 0) in a walk of lists whose length may
        have changed?  ``k < steps()`` (``len(xs)``; zip: the shortest list's); walking
        backwards from the last of the ``n`` items there were, the index ``n - 1 - k``
        must be one of the list's (Python's reversed iterator stops at the first that
        is not)."""
        length = steps()
        if not reverse:
            return self.emit("lt", (k, length), Kind.num(), hint="_c")
        index = self.emit("sub", (self.emit("sub", (n, Const(1)), Kind.num()), k), Kind.num())
        left = self.emit("lt", (k, n), Kind.num(), hint="_c")
        inside = self.emit("lt", (index, length), Kind.num(), hint="_c")
        return self.emit("and", (left, inside), Kind.num(), hint="_c")

    def while_walk(self, scope: Scope, length: Callable[[], Any], n: Any, prologue: Any,
                   body: Any, inner: Any, loc: Any, reverse: bool = False,
                   node: Any = None) -> None:
        """A walk over a list whose length changes inside the loop: ``k = 0; while
        k < len(xs): x = xs[k]; k = k + 1; body`` (what Python's iterator does)."""
        from .lower import _LoopCtx
        k = Var("_k", Kind.num())
        self.copy_into(k, Const(0))
        with self.sub_block() as test:
            cond = self.walk_test(k, length, n, reverse)
        self.loops.append(_LoopCtx(scope, self.depth, node))
        with self.sub_block() as stmts:
            prologue(k)
            self.emit("add", (k, Const(1)), Kind.num(), dest=k)
            self.loop_body(scope, body, inner)
        self.loops.pop()
        self.block.append(ir.While(test, cond, stmts, loc))

    def changes_length(self, scope: Scope, body: Any, seqs: list) -> bool:
        """Does the loop body (looked at as source) change the length of a list it
        walks?  Checked on the names the body mutates with list methods."""
        if body is None:
            return False
        names = set()
        for n in ast.walk(ast.Module(body=body, type_ignores=[])):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and \
                    n.func.attr in _STRUCTURAL and isinstance(n.func.value, ast.Name):
                names.add(n.func.value.id)
            elif isinstance(n, ast.Delete):
                return True
        for name in names:
            b = self.lookup(scope, name)
            if type(b) is Var and any(self.same_list(b, s) for s in seqs):
                return True
            if type(b) is not Var and b is not None:
                return True
        return False

    def same_list(self, a: Any, b: Any) -> bool:
        return a is b or (type(a) is Var and type(b) is Var and self.alias_root(a) is
                          self.alias_root(b))

    def alias_root(self, v: Var) -> Var:
        parent = self.aliases.get(v)
        while parent is not None:
            v = parent
            parent = self.aliases.get(v)
        return v

    def note_alias(self, a: Var, b: Var) -> None:
        ra, rb = self.alias_root(a), self.alias_root(b)
        if ra is not rb:
            self.aliases[ra] = rb

    def carry_tuple(self, owner: Scope, name: str, value: StaticTuple, node: ast.AST) -> bool:
        """``t = (a, b)`` inside a branch or loop where ``t`` is carried (its items, or
        the whole tuple, are variables the region assigns in place): written into them.
        False when ``t`` is not carried (then the tuple is bound as it is)."""
        cur = owner.env.get(name)
        if type(cur) is Var and cur in owner.owned and cur not in self.targets:
            if any(type(v) is StaticTuple for v in value.items) or value.cls is not None:
                if self.fresh_each_iteration(owner, name):
                    return False        # (made anew by each iteration: bound as it is)
                what, like = ("a tuple of tuples", "a tuple") if value.cls is None else \
                    (f"a {value.cls.__name__}",) * 2
                raise self.error_at(node, f"{what} {name!r} first assigned inside a branch "
                                    "or loop", f"assign {name} {like} of the same shape "
                                    "before the if or loop")
            made = self.materialize(StaticTuple(tuple(map(self.snapshot, value.items))), node)
            self.copy_into(cur, made)
            return True
        if type(cur) is not StaticTuple or not cur.carried or self.depth <= cur.region_depth:
            return False
        if _shape(cur) != _shape(value):
            raise self.error_at(node, f"a tuple {name!r} reassigned in a branch or loop to "
                                "another number of items, or to items that are not "
                                "numbers, lists or arrays",
                                "keep the same number of values, or use separate names")
        pairs = list(zip(_leaves(cur), _leaves(value)))
        carried = {var for var, _ in pairs}   # (t = (t[1], t[0]): read both, then write)
        pairs = [(var, self.emit("copy", (v,), hint="_t") if v in carried and v is not var
                  else v) for var, v in pairs]
        for var, item in pairs:
            self.copy_into(var, item)
        return True

    def fresh_in_loop(self, owner: Scope, stmts: list, name: str) -> bool:
        """Before the loop ``stmts[0]``: does each of its iterations bind ``name`` afresh
        (a tuple bound before it then needs no carrying)?"""
        if len(stmts) != 1 or not isinstance(stmts[0], (ast.For, ast.While)):
            return False
        return name in iteration_locals(stmts[0], owner.body)

    def fresh_each_iteration(self, owner: Scope, name: str) -> bool:
        """Does each iteration of the innermost loop bind ``name`` afresh, read by
        nothing outside that iteration (see :func:`iteration_locals`)?"""
        ctx = self.loops[-1] if self.loops else None
        if ctx is None or ctx.node is None or ctx.scope is not owner:
            return False
        if ctx.fresh is None:
            ctx.fresh = iteration_locals(ctx.node, owner.body)
        return name in ctx.fresh

    def join_tuples(self, name: str, a: Any, b: Any, then: list, orelse: list,
                    node: ast.AST) -> StaticTuple:
        """``t = (x, y)`` in one branch, ``t = (y, x)`` in the other: one variable per
        item, which each branch sets."""
        if type(a) is not StaticTuple or type(b) is not StaticTuple or \
                _shape(a) is None or _shape(a) != _shape(b):
            raise self.error_at(node, f"a tuple {name!r} given a different length or kind "
                                "of items in the two branches of an if",
                                "give it the same number of numbers, lists or arrays in "
                                "both branches, or use separate names")
        joins = _variables(name, a)
        for items, blk in ((a, then), (b, orelse)):
            saved = self.block
            self.block = []
            for var, item in zip(_leaves(joins), _leaves(items)):
                self.copy_into(var, item)
            at_branch_end(blk, self.block)
            self.block = saved
        return StaticTuple(joins.items,      # (a later loop carries it: carry_items)
                           cls=a.cls if a.cls is b.cls else None, ident=None,
                           region_depth=self.depth)

    def carry_items(self, owner: Scope, name: str, cur: StaticTuple, stmt: ast.stmt) -> None:
        """Before a branch or loop that reassigns tuple ``name``: one variable per item,
        at any depth (``t = (t[0] * y, t[1])`` in a loop reads last iteration's items)."""
        if cur.items and _shape(cur) is not None:
            carried = _variables(name, cur)
            carried.region_depth = self.depth
            for var, item in zip(_leaves(carried), _leaves(cur)):
                self.copy_into(var, item)
                self.known.pop(var, None)   # (written in the region: not known there)
                owner.owned.add(var)
            owner.env[name] = carried
        elif isinstance(stmt, (ast.For, ast.While)) and not cur.items:
            raise self.error_at(stmt, f"an empty tuple {name!r}, reassigned in a loop",
                                "a tuple keeps its number of items in a loop: grow a list "
                                "instead (acc = [] ... acc.append(v)), or use separate names")
        elif isinstance(stmt, (ast.For, ast.While)):
            raise self.error_at(stmt, f"a tuple {name!r} holding functions, reassigned in a "
                                "loop", "use separate names")

    def same_statics(self, statics: list, node: ast.AST) -> None:
        """After a loop's body: a name bound to a function before the loop and to another
        one by the body would call a different function in the next iteration, which
        the body, lowered once, does not: refused."""
        for owner, name, before in statics:
            after = owner.env.get(name)
            if after is before or (type(after) is Static and type(before) is Static
                                   and after.obj is before.obj):
                continue
            raise self.error_at(node, f"{name!r} bound to a function (or another value "
                                "known while transforming) before the loop and rebound "
                                "inside it", "choose the function with an if/else inside "
                                "the loop, or use a new name for the new one")

    def prepare_names(self, scope: Scope, names: list[str]) -> None:
        for name in names:
            v = Var(name.split("#")[0])
            scope.env[name] = v
            scope.owned.add(v)
            self.targets.add(v)

    # ------------------------------------------------------------------ comprehensions
    def comprehension(self, scope: Scope, generators: list[ast.comprehension],
                      node: ast.AST, innermost: Callable[[Scope], None],
                      after_first: Callable[[], None] | None = None) -> None:
        """Nested loops and ifs for a comprehension; ``innermost(comp_scope)`` emits
        the body (an append, an addition).  ``after_first()`` runs once the outermost
        iterable is evaluated: what Python evaluates between a generator's creation and
        its first element (``start`` in ``sum((x for x in xs), start)``)."""
        comp = Scope(scope.fs, parent=scope, label=scope.label)
        comp.is_comp = True  # type: ignore[attr-defined]
        comp.local_names = set()
        for g in generators:
            if g.is_async:
                raise scope.fs.error(node, "an async comprehension", "use a plain loop")
            comp.local_names.update(_target_names(g.target))
        # (a name a walrus in it binds: one variable for every iteration, not the value
        # known before it, as a loop's body would have)
        statics = self.prepare_region(scope, [ast.Expr(value=node)]) if scope.fs.walrus \
            else []
        self.comp_level(comp, generators, 0, node, innermost, after_first)
        self.same_statics(statics, node)

    def comp_level(self, comp: Scope, gens: list, k: int, node: ast.AST,
                   innermost: Callable[[Scope], None],
                   after_iter: Callable[[], None] | None = None) -> None:
        if k == len(gens):
            innermost(comp)
            return
        g = gens[k]

        def body() -> None:
            self.comp_ifs(comp, g.ifs, gens, k, node, innermost)
        self.for_loop(comp, g.target, g.iter, None, node, inner=body, after_iter=after_iter)

    def comp_ifs(self, comp: Scope, ifs: list, gens: list, k: int, node: ast.AST,
                 innermost: Callable[[Scope], None]) -> None:
        if not ifs:
            self.comp_level(comp, gens, k + 1, node, innermost)
            return
        cond = self.condition(comp, ifs[0])
        with self.sub_block() as then:
            self.comp_ifs(comp, ifs[1:], gens, k, node, innermost)
        self.block.append(ir.If(cond, then, [], self.loc))

    def e_listcomp(self, scope: Scope, node: ast.ListComp | ast.GeneratorExp,
                   dest: Var | None) -> Any:
        made = self.functions_made(scope, node)
        if made is not None:
            return made
        out = self.emit("list", (), Kind.list_of(), hint="_list")

        def append(comp: Scope) -> None:
            v = self.operand(comp, node.elt)
            self.unify(out.kind.element, self.kind_of(v), node)
            self.effect("append", (out, v))
        self.comprehension(scope, node.generators, node, append)
        return out

    def functions_made(self, scope: Scope, node: ast.ListComp | ast.GeneratorExp) -> Any:
        """``[lambda t, k=k: t * k for k in range(3)]`` over values known while lowering
        (a ``range`` of constants, a tuple or list of constants written out): the tuple
        of its functions, as a list of lambdas written out is (each lambda's defaults
        read at its iteration; its free names, as in Python, when it is called)."""
        if not isinstance(node.elt, ast.Lambda) or len(node.generators) != 1:
            return None
        g = node.generators[0]
        if g.ifs or g.is_async or not isinstance(g.target, ast.Name):
            return None
        items = self.comp_constants(scope, g.iter)
        if items is None:
            return None
        comp = Scope(scope.fs, parent=scope, label=scope.label)
        comp.is_comp = True  # type: ignore[attr-defined]
        comp.local_names = {g.target.id}
        funcs = []
        for v in items:
            comp.env[g.target.id] = v
            funcs.append(self.expr(comp, node.elt))
        return StaticTuple(tuple(funcs))

    def comp_constants(self, scope: Scope, node: ast.expr) -> list | None:
        """The items of ``range(...)`` of constants, or of a tuple or list of constants
        written out, as constants; None for anything else."""
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.expr(scope, e) for e in node.elts]
            return items if all(type(v) is Const for v in items) else None
        if isinstance(node, ast.Call) and not node.keywords and 1 <= len(node.args) <= 3 \
                and _is_static(self.expr(scope, node.func), range):
            bounds = [self.expr(scope, a) for a in node.args]
            if all(type(b) is Const and type(b.value) is int for b in bounds):
                r = range(*(b.value for b in bounds))
                return [Const(k) for k in r] if len(r) <= 64 else None
        return None

    def e_dictcomp(self, scope: Scope, node: ast.DictComp, dest: Var | None) -> Var:
        """``{k: v for ...}``: an empty dict, then ``d[k] = v`` in the loops (a key written
        again keeps the last value, as Python does; built apart from ``dest`` when it
        reads it, as ``p = {k: v * s for k, v in p.items()}`` in a loop does)."""
        if dest is not None and any(type(n) is ast.Name and scope.lookup(n.id) is dest
                                    for n in ast.walk(node)):
            dest = None
        out = self.emit("dict", (), Kind.map_of(), {"keys": ()}, dest=dest, hint="_dict")

        def put(comp: Scope) -> None:
            key = self.operand(comp, node.key)
            value = self.operand(comp, node.value)
            self.key_kind(out, key, value, node)
            self.effect("setitem", (out, key, value))
        self.comprehension(scope, node.generators, node, put)
        return out

    def fold(self, scope: Scope, node: ast.GeneratorExp | ast.ListComp,
             start: Callable[[], Any],
             prim: str) -> Var:
        """``start + e1 + e2 ...`` over a generator (``sum`` without a list), evaluated
        in Python's order: the outermost iterable, then ``start()``, then the elements
        (for a list comprehension, only where that order cannot matter: see b_sum)."""
        acc = Var("_sum", Kind.num())

        def begin() -> None:
            self.copy_into(acc, start())

        def add(comp: Scope) -> None:
            v = self.operand(comp, node.elt)
            self.arith(prim, acc, v, acc, node)
        self.comprehension(scope, node.generators, node, add, after_first=begin)
        return acc


def _is_static(value: Any, obj: Any) -> bool:
    return type(value) is Static and value.obj is obj


def _sorted_items(node: ast.expr) -> bool:
    """``sorted(d.items())`` (``reverse=`` allowed, and a ``key=`` LoopLowering.by_first
    accepts)?"""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
        node.func.id == "sorted" and len(node.args) == 1 and \
        all(k.arg in ("reverse", "key") for k in node.keywords) and \
        isinstance(node.args[0], ast.Call) and isinstance(node.args[0].func, ast.Attribute) \
        and node.args[0].func.attr == "items" and not node.args[0].args \
        and not node.args[0].keywords


#: list operations that change a list's length
_RESIZING = {"append", "insert", "pop", "extend", "clear", "setslice", "remove"}


def _resizes(body: list, seqs: list, same: Any) -> bool:
    """Does ``body`` (IR) change the length of one of ``seqs``, or of a list that may be
    one of them (the same variable, an alias, a list of the same kind: rows of one
    table), or hand one to a call symgrad cannot see into?"""
    lists = [s for s in seqs if type(s) is Var]
    kinds = {id(s.kind.find()) for s in lists}
    for e in ir.walk(body):
        if type(e) is not Eqn:
            continue
        if e.prim in _RESIZING:
            targets = e.args[:1]
        elif e.prim in ("call", "callmethod") and not (e.params or {}).get("constant"):
            targets = e.args
        else:
            continue
        for t in targets:
            if type(t) is Var and (id(t.kind.find()) in kinds or
                                   any(same(t, s) for s in lists)):
                return True
    return False


def _simple(target: ast.expr) -> str | None:
    return target.id if isinstance(target, ast.Name) else None


def _target_names(t: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(t) if isinstance(n, ast.Name)]


class SeqParam(str):
    """A parameter's name (see :meth:`LoopLowering.seq_conflict`), with ``others``: the
    other parameters that may be the one whose items differ in kind (a conflict met
    through a value read from two of them names the first only)."""

    others: tuple = ()

    def __new__(cls, name: str, others: tuple) -> "SeqParam":
        self = super().__new__(cls, name)
        self.others = others
        return self


def _reaches(kind: Any, roots: set) -> bool:
    """Does ``kind`` (a list's items), or a kind inside it, belong to ``roots``?"""
    stack, seen = [kind], set()
    while stack:
        e = stack.pop().find()
        if id(e) in roots:
            return True
        if id(e) not in seen:
            seen.add(id(e))
            stack.extend([e.elem] if e.elem is not None else [])
            stack.extend((e.fields or {}).values())
    return False


def _builtin(f: Any) -> Global:
    return Global(f.__name__, f, "builtin")


def _zip_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
        node.func.id == "zip"


def _zip_strict(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Name) and node.func.id == "zip" and len(
        node.keywords) == 1 and node.keywords[0].arg == "strict"


def _enumerate_kw(node: ast.Call) -> bool:
    return len(node.keywords) == 1 and node.keywords[0].arg == "start" and isinstance(
        node.func, ast.Name) and node.func.id == "enumerate"


def _shape(t: StaticTuple) -> tuple | None:
    """The nesting of a tuple of operands (None when an item is a function or such)."""
    out = []
    for item in t.items:
        if type(item) is StaticTuple:
            sub = _shape(item)
            if sub is None:
                return None
            out.append(sub)
        elif is_operand(item):
            out.append(None)
        else:
            return None
    return tuple(out)


def _leaves(t: StaticTuple) -> list:
    """The operands of a tuple, nested tuples flattened in order."""
    return [x for item in t.items
            for x in (_leaves(item) if type(item) is StaticTuple else [item])]


def _variables(name: str, t: StaticTuple) -> StaticTuple:
    """A carried tuple shaped like ``t``, one new variable per operand (``t_0_1``)."""
    base = name.split("#")[0] or "_t"
    return StaticTuple(tuple(
        _variables(f"{base}_{k}", item) if type(item) is StaticTuple else Var(f"{base}_{k}")
        for k, item in enumerate(t.items)), carried=True, cls=t.cls, ident=None)


def at_branch_end(blk: list, stmts: list) -> None:
    """Put ``stmts`` at the end of branch ``blk``: before the ``break``, ``continue`` or
    ``return`` that ends it, if one does."""
    pos = len(blk) - 1 if blk and type(blk[-1]) in (ir.Break, ir.Continue, ir.Return) \
        else len(blk)
    blk[pos:pos] = stmts
