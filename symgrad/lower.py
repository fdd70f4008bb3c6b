"""Lowering: the only code that reads the user's syntax tree.

``lower(fn)`` turns a Python function into the IR of :mod:`symgrad.ir`:
expressions become flat equations, names become variables (a new version for
each assignment in straight-line code, so no value is ever overwritten there;
assigned in place inside branches and loops, as Python does), calls to the
user's own functions are inlined, comprehensions and ``for`` loops over lists
become index loops, early exits are restructured, and every construct outside
the supported subset raises an :class:`~symgrad.errors.UnsupportedSyntaxError`
naming its file and line.

Here: the driver and the statements; expressions in :mod:`symgrad.lower_expr`, calls in
:mod:`symgrad.lower_call` (NamedTuples made in the function: :mod:`symgrad.lower_records`);
``symgrad.show(f, stage="ir")`` prints what it makes.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import types
from dataclasses import dataclass, field
from typing import Any, Iterator

from . import ir
from .contexts import read_through_body
from .desugar import assigned_names, desugar, nonlocal_names
from .errors import NonScalarError, UnsupportedSyntaxError
from .array_alias import views_checked
from .ir import Const, Eqn, Kind, KindError, Loc, Var, kind_conflict
from .lower_array import ArrayLowering
from .lower_call import CallLowering
from .lower_expr import ExprLowering
from .lower_subscript import array_index, refuse_array_index
from .lower_loop import LoopLowering, at_branch_end
from .lower_stmts import StmtLowering
from .lower_objects import Building, is_record, set_field
from .static_args import binding, fold_known, note_known
from .lower_builtins import rows
from .scope import FuncChoice, FuncValue, Scope, Static, StaticTuple, is_operand
from .results import _describe_value, _not_number
from .source import (FunctionSource, construct_hint, construct_name,
                     describe, get_source)

#: primitives whose result is a flag or a count, never an array of indices
_NOT_ARRAYS = {"lt", "le", "gt", "ge", "eq", "ne", "is", "is_not", "in", "not_in", "not", "and",
               "len", "range"}

__all__ = ["lower", "Lowered", "Lowerer"]


@dataclass
class Lowered:
    """The result of lowering: the function's IR and what later passes need to know."""

    func: ir.Func
    fs: FunctionSource
    params: list[Var]
    result: Any                       # the returned operand (or StaticTuple)
    deferred: list[Eqn] = field(default_factory=list)   # kind-dependent equations
    origins: dict[int, str] = field(default_factory=dict)  # where outside objects come from
    guards: list = field(default_factory=list)     # (where, function) read while lowering
    return_node: Any = None
    joins: list = field(default_factory=list)   # (result kind, operand kinds): array if any
    patterns: dict = field(default_factory=dict)  # array parameters' broadcast patterns
    seq_param: str | None = None      # a parameter that may be a tuple of different kinds
    by_position: frozenset = frozenset()   # parameters read as lists at constant indices
    seq_kinds: list = field(default_factory=list)   # kinds of those made tuples
    quiet: dict = field(default_factory=dict)   # np.errstate the code runs under (contexts)
    writes_params: frozenset = frozenset()  # array parameters written in place

    def release(self) -> None:
        """Drop the IR once the gradient is compiled; what stays is what its entry reads
        (parameters, source, guards).  Freed at once by reference counting, a large IR
        does not linger for the garbage collector to walk on every full collection."""
        self.func.body = []
        self.deferred = []
        self.joins = []


@dataclass
class _LoopCtx:
    scope: Scope
    depth: int
    node: Any = None            # (the loop's statement; None for a comprehension's)
    fresh: Any = None           # (its iteration_locals, once asked for)


class Lowerer(ExprLowering, CallLowering, LoopLowering, ArrayLowering, StmtLowering):
    """Lowers one function (and everything inlined into it) to IR."""

    def __init__(self, top: FunctionSource):
        self.top = top
        self.block: list[ir.Stmt] = []
        self.depth = 0
        self.loc: Loc | None = None
        self.loops: list[_LoopCtx] = []
        self.inlining: list[Any] = []
        self.top_fn: Any = None               # (its first recursive call is at depth 0)
        self.counted: dict[Any, str | None] = {}     # a recursion -> the parameter it counts
        self.yield_hooks: list = []          # loops over generators (see lower_gen)
        self.repeats: list = []     # (`t *= k` of a value of no kind yet: a, key, where)
        self.list_repeats: frozenset = frozenset()  # (keys of those found to be lists)
        self.writes_params: frozenset = frozenset()     # (see Lowered)
        #: ids of `t = t op v` written `t op= v`, each with the container its item ``t``
        #: came from (`d["k"] *= 2`), or None
        self.inplace_eqns: dict[int, Any] = {}
        self.deferred: list[Eqn] = []
        self.injected: dict[int, ir.Global] = {}
        self.aliases: dict[Var, Var] = {}
        self.inline_header = ""
        self.site: Loc | None = None     # the user's call of a model being inlined
        self.bad_returns: list = []
        self.good_returns = 0
        self.origins: dict[int, str] = {}
        self.guards: dict[tuple, tuple] = {}
        self.return_node: Any = None
        self.scope_fs = top
        #: results may be tuples and lists of numbers (jvp, vjp, Jacobians)
        self.structured = False
        #: elementwise results whose kind follows their operands' (see ArrayLowering.join)
        self.joins: list = []
        #: ranks of array parameters (a gradient specialized for array arguments)
        self.array_ranks: dict = {}
        #: parameter name -> broadcast pattern, for a gradient specialized for arrays
        self.param_patterns: dict = {}
        self.param_classes: dict = {}      # parameter -> its record's class (param_classes)
        self.item_classes: list = []       # (a list's item kind, its records' class)
        self.base_depth = 0                # the depth of the body being lowered (note_known)
        #: values that may be arrays though their kind does not say so: results of calls
        #: kept as written whose kind the call does not tell (np.argmax(m, axis=0)), and
        #: arithmetic on them (an index array made so repeats indices: see index_template)
        self.maybe_arrays: set[Var] = set()
        self.generators: set[Var] = set()           # numpy generators made here
        self.deques: dict[int, Any] = {}            # kinds of deques: maxlen (lower_deque)
        self.unrolling = False                      # binding the target of a loop written out
        #: loop and comprehension targets: bound afresh by every iteration, so a tuple
        #: bound to one needs no variable of its own (see carry_tuple)
        self.targets: set[Var] = set()
        #: the top function's parameters as passed in (see static_args.mark)
        self.top_params: dict[Var, str] = {}
        self.seq_kinds: list[Kind] = []        # (tuples of different kinds: container_param)
        self.const_read: set[Var] = set()      # (values read at constant indices)
        self.fixed_at_use: dict[Var, Any] = {}
        self.known: dict[Var, Any] = {}      # values computed from those (static_args)
        self.quiet: dict[str, str] = {}      # np.errstate settings read through (contexts)

    # ------------------------------------------------------------------ emission
    def emit(self, prim: str, args: tuple, kind: Kind | None = None, params: dict | None = None,
             dest: Var | None = None, hint: str = "_t") -> Var:
        """Append ``out = prim(args)`` to the current block and return ``out``."""
        if kind is None and prim == "copy" and type(args[0]) is Var:
            kind = args[0].kind          # (a copy is the same value: the same kind)
        out = dest if dest is not None else Var(hint, kind)
        if kind is not None and dest is not None:
            self.unify(dest.kind, kind)
        self.block.append(Eqn((out,), prim, args, params, self.loc))
        if self.known:                              # (n - 1 of a parameter fixed at use)
            self.note_known(out, fold_known(prim, args, self.known), dest is None)
        if self.maybe_arrays and prim not in _NOT_ARRAYS and any(
                a in self.maybe_arrays for a in args if type(a) is Var):
            self.maybe_arrays.add(out)
        return out

    def effect(self, prim: str, args: tuple, params: dict | None = None) -> None:
        self.block.append(Eqn((), prim, args, params, self.loc))

    def copy_into(self, dest: Var, value: Any) -> None:
        if value is dest:
            return
        self.unify_operand(dest, value)
        if type(value) is Var:
            self.note_alias(dest, value)
            if value in self.maybe_arrays:
                self.maybe_arrays.add(dest)
            cls = self.param_classes.get(value) if self.param_classes else None
            if cls is not None and self.param_classes.get(dest, cls) is cls:
                self.param_classes[dest] = cls      # (the same object: its class)
        self.block.append(Eqn((dest,), "copy", (value,), None, self.loc))
        if self.known or type(value) is Const:     # (m = n - 1 of a fixed n: a constant)
            self.note_known(dest, fold_known("copy", (value,), self.known), False)

    def note_known(self, out: Var, value: Any, fresh: bool) -> None:
        """After a write of ``out``: :func:`symgrad.static_args.note_known`."""
        note_known(self.known, out, value, fresh or self.depth == self.base_depth)

    @contextlib.contextmanager
    def sub_block(self, region: bool = True) -> Iterator[list[ir.Stmt]]:
        """Collect the statements emitted inside into a new list (a nested region)."""
        saved = self.block
        self.block = []
        if region:
            self.depth += 1
        try:
            yield self.block
        finally:
            self.block = saved
            if region:
                self.depth -= 1

    def unify(self, a: Kind, b: Kind, node: ast.AST | None = None) -> None:
        try:
            a.unify(b)
        except KindError as exc:
            if not self.loc:
                raise
            err = self.error_at(node, f"a value used both as {exc}",
                                "use each variable for one kind of value (a number or a "
                                "list), with a new name for the other")
            err.about_lists = True   # type: ignore[attr-defined]  (numpy code: see api)
            err.seq_param = self.seq_conflict((a, b))     # type: ignore[attr-defined]
            raise err from None

    def unify_operand(self, var: Var, value: Any) -> None:
        if type(value) is Var:
            self.unify(var.kind, value.kind)
        elif type(value) is Const:
            self.unify(var.kind, _const_kind(value.value))
        elif type(value) is ir.Global:
            from .scope import kind_of_value
            self.unify(var.kind, kind_of_value(value.obj))

    def error_at(self, node: ast.AST | None, construct: str, hint: str) -> Exception:
        site = self.site            # (inside a model: at the user's call)
        if site is not None:
            return UnsupportedSyntaxError(construct, hint, site.filename, site.lineno, 0,
                                          site.text)
        fs = self.scope_fs
        return fs.error(node if node is not None else _FakeNode(self.loc), construct, hint)

    # ------------------------------------------------------------------ locations
    def set_loc(self, scope: Scope, node: ast.AST, header: bool = False) -> None:
        fs = scope.fs
        self.scope_fs = fs
        text = fs.text(node).strip() if header else fs.lines(node)
        site = self.site
        self.loc = Loc(text, scope.label, site.filename if site else fs.filename,
                       site.lineno if site else fs.line(node))
        if self.inline_header:
            self.loc.header, self.inline_header = self.inline_header, ""

    # ------------------------------------------------------------------ entry
    def lower_top(self, fn: Any, fs: FunctionSource) -> Lowered:
        tree = fs.tree
        self.top_fn = getattr(fn, "__func__", fn)
        self.scope_fs = fs
        a = tree.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
            raise fs.error(tree, "*args, **kwargs, keyword-only or positional-only parameters",
                           "give the function plain positional parameters")
        scope = Scope(fs, label="")
        scope.is_top = True  # type: ignore[attr-defined]
        params = []
        for arg in a.args:
            v = Var(arg.arg, name=arg.arg)
            pattern = self.param_patterns.get(arg.arg, False)
            if pattern is not False:                # an array argument (specialized)
                v.kind = Kind.array()
                self.array_ranks[v] = None if pattern is None else len(pattern)
            else:                                   # a dict, or a tuple of records
                self.container_param(v)
            scope.env[arg.arg] = self.param_binding(v)
            scope.owned.add(v)
            params.append(v)
        body = desugar(read_through_body(fs, tree, self.quiet), fs.error)   # (contexts)
        scope.local_names = set(assigned_names(body, fs.walrus)) | set(scope.env)
        result = self.function_body(scope, body, "out")
        return self.finish(fn, fs, scope, params, result)

    def param_binding(self, v: Var) -> Any:
        """A parameter's binding: itself, or the constant it is fixed to (static_args)."""
        fixed = self.param_patterns.get(ir.FIXED_PARAMS, {})
        if v.name in fixed:
            return binding(fixed[v.name])
        self.top_params[v] = v.name
        at_use = self.param_patterns.get(ir.FIXED_AT_USE, {})
        if v.name in at_use:        # (differentiated: only where its value is needed)
            self.fixed_at_use[v] = at_use[v.name]
            if type(at_use[v.name]) in (int, float):      # (and in the tests it decides)
                self.known[v] = at_use[v.name]
        return v

    def finish(self, fn: Any, fs: FunctionSource, scope: Scope, params: list[Var],
               result: Any) -> Lowered:
        """The Return, defaults and record of a lowered top-level function."""
        tree = fs.tree
        if self.bad_returns and not self.good_returns and self.structured:
            node, value = self.bad_returns[0]
            raise NonScalarError(
                f'File "{fs.filename}", line {fs.line(node)}: {describe(fn)} returns '
                f"{_describe_value(value)}; symgrad differentiates functions that return "
                "numbers, or tuples and lists of numbers.\n    " + fs.text(node).strip())
        if self.bad_returns and not self.good_returns:
            node, value = self.bad_returns[0]
            err = NonScalarError(
                f'File "{fs.filename}", line {fs.line(node)}: {describe(fn)} returns '
                f"{_describe_value(value)}; symgrad's grad differentiates functions that "
                "return one number.\n    " + fs.text(node).strip() + "\n  hint: return a "
                "single number (for example the sum of the parts), or use symgrad.jacobian "
                "for several outputs.")
            # (a list as the code reads as lists, where arrays may be meant: see api)
            err.about_lists = type(value) is Var and value.kind.is_list  # type: ignore
            err.seq_param = self.seq_conflict(()) if err.about_lists else None  # type: ignore
            raise err
        self.settle_joins()
        lists = {key for ab, key, _ in self.repeats
                 if any(type(v) is Var and v.kind.find().tag == "list" for v in ab)}
        if lists:           # (lowered again, those repeating their list in place)
            raise _Repeats(lists, [(node, fs) for a, key, (node, fs) in self.repeats
                                   if key in lists])
        if not fs.filename.startswith("<symgrad"):     # (generated code owns what it writes)
            self.writes_params = views_checked(self, params)
        ret = self._structure(result, tree)
        self.block.append(ir.Return(ret, None))
        func = ir.Func(getattr(fn, "__name__", None) or "f", params, self.block,
                       arrays=frozenset(p for p in params if p in self.array_ranks))
        defaults = getattr(fn, "__defaults__", None) or () if isinstance(
            fn, types.FunctionType) else ()
        for p, value in zip(params[len(params) - len(defaults):], defaults):
            func.defaults[p] = self.default_value(value)
        lowered = Lowered(func, fs, params, ret, self.deferred, quiet=self.quiet,
                          writes_params=self.writes_params)
        lowered.origins = self.origins
        lowered.guards = list(self.guards.values())
        lowered.return_node = self.return_node
        lowered.joins = self.joins
        lowered.patterns = self.param_patterns
        lowered.seq_param = self.seq_conflict(())       # (see pipeline, api)
        lowered.by_position = self.read_by_position()
        lowered.seq_kinds = self.seq_kinds
        lowered.int_params = {p for p in params
                              if p.name in self.param_patterns.get(ir.INT_ARRAYS, ())}
        return lowered

    def _structure(self, x: Any, tree: Any) -> Any:
        """The returned value as operands (nested tuples stay tuples of operands)."""
        if is_record(x):
            return self.materialize(x, tree)          # (refused, naming the object)
        if type(x) is StaticTuple:
            return tuple(self._structure(v, tree) for v in x.items)
        return x if is_operand(x) else self.materialize(x, tree)

    def function_body(self, scope: Scope, body: list[ast.stmt], result_hint: str) -> Any:
        """Lower a (desugared) function body; returns the binding of its result.

        A single ``return`` at the end of straight-line code gives its value directly;
        returns inside branches assign a result variable first created here.
        """
        simple = bool(body) and isinstance(body[-1], ast.Return) and _returns(body) == 1
        scope.result_hint = result_hint  # type: ignore[attr-defined]
        scope.body = body
        outer, self.base_depth = self.base_depth, self.depth   # (its straight-line code)
        try:
            for s in body[:-1] if simple else body:
                self.stmt(scope, s)
        finally:
            self.base_depth = outer
        if simple:
            ret = body[-1]
            self.set_loc(scope, ret)
            if ret.value is None:
                return self.returned(scope, Const(None), ret)
            value = self.expr(scope, ret.value, dest=Var(result_hint))
            return self.returned(scope, value, ret)
        if scope.result is not None:
            return scope.result
        return self.returned(scope, Const(None), body[-1] if body else scope.fs.tree)

    def returned(self, scope: Scope, value: Any, node: ast.AST) -> Any:
        """The value a function returns; for the differentiated function, a value that
        is not a number is an error (now, or when that path runs if others return one)."""
        if getattr(scope, "is_top", False):
            self.return_node = node
        if getattr(scope, "is_top", False) and self.bad_result(value):
            self.bad_returns.append((node, value))
            if not self.good_returns:
                return value
        elif getattr(scope, "is_top", False):
            self.good_returns += 1
        return value

    # ------------------------------------------------------------------ statements
    def body(self, scope: Scope, stmts: list[ast.stmt]) -> None:
        for s in stmts:
            self.stmt(scope, s)

    def stmt(self, scope: Scope, s: ast.stmt) -> None:
        handler = _STMTS.get(type(s))
        if handler is None:
            raise scope.fs.error(s, construct_name(s), construct_hint(s))
        try:
            handler(self, scope, s)
        except KindError as exc:     # (a conflict found below an expression's own checks)
            raise kind_conflict(scope.fs, s, exc, self.seq_conflict(())) from None

    def s_assign(self, scope: Scope, s: ast.Assign) -> None:
        self.set_loc(scope, s)
        if len(s.targets) == 1:
            self.assign(scope, s.targets[0], s.value, s)
            return
        value = self.expr(scope, s.value)           # a = b = v: evaluate once
        if is_operand(value) and type(value) is Var and value.name is None:
            value = self.emit("copy", (value,), hint="_t")
        for t in s.targets:
            self.assign_value(scope, t, value, s)

    def assign(self, scope: Scope, target: ast.expr, value_node: ast.expr, node: ast.AST
               ) -> None:
        """``target = value``: the value's root is computed straight into the target."""
        if isinstance(target, ast.Name):
            dest = self.target_var(scope, target.id)
            value = self.expr(scope, value_node, dest=dest)
            self.bind(scope, target.id, value, node, dest)
            return
        value = self.expr(scope, value_node)
        self.assign_value(scope, target, value, node)

    def assign_value(self, scope: Scope, target: ast.expr, value: Any, node: ast.AST) -> None:
        t = type(target)
        if t is ast.Name:
            self.bind(scope, target.id, value, node, None)
        elif t in (ast.Tuple, ast.List):
            self.unpack(scope, target, value, node)
        elif t is ast.Subscript:
            self.store_item(scope, target, value, node)
        elif t is ast.Starred:
            raise scope.fs.error(node, "starred assignment (a, *b = ...)",
                                 "unpack a fixed number of names, or index the list")
        elif t is ast.Attribute and self.object_target(scope, target, value, node):
            return
        else:
            raise scope.fs.error(node, "assignment to " + construct_name(target),
                                 "assign to a local variable, a list element or unpack a tuple")

    def object_target(self, scope: Scope, target: ast.Attribute, value: Any,
                      node: ast.AST) -> bool:
        """``self.w = v`` of an object made in the function (see lower_objects): True
        when done."""
        base = self.expr(scope, target.value)
        if type(base) is Building or is_record(base):
            set_field(self, base, target.attr, value, node)
            return True
        return False

    def target_var(self, scope: Scope, name: str) -> Var | None:
        """The variable an assignment to ``name`` writes: a new version in straight-line
        code, the variable itself (in place) inside branches and loops."""
        owner = scope.owner_of(name)
        if name in owner.globals_decl:
            return None
        cur = owner.env.get(name)
        if self.depth > 0 and type(cur) is Var and cur in owner.owned:
            return cur
        return Var(_printable(name))

    def bind(self, scope: Scope, name: str, value: Any, node: ast.AST, dest: Var | None
             ) -> None:
        owner = scope.owner_of(name)
        if name in owner.globals_decl:
            raise scope.fs.error(node, f"a global statement assigning {name!r} (module state "
                                 "kept between calls)",
                                 "return the value instead of writing a global")
        if not is_operand(value):
            if type(value) is StaticTuple:
                if self.depth > 0 and not (self.unrolling and is_record(value)) and \
                        self.carry_tuple(owner, name, value, node):
                    return          # (an object of a loop written out: the same each time)
                value = value.like(tuple(self.snapshot(v) for v in value.items))
            owner.env[name] = value
            return
        cur = owner.env.get(name)
        if type(cur) is StaticTuple and cur.carried and self.depth > cur.region_depth:
            raise self.error_at(node, f"a tuple {name!r} reassigned to a value that is not "
                                "a tuple written out in a branch or loop",
                                "use another name for the new value")
        if dest is None:
            dest = self.target_var(scope, name)
        if value is not dest:
            self.copy_into(dest, value)
        owner.env[name] = dest
        owner.owned.add(dest)

    def snapshot(self, item: Any) -> Any:
        """An operand that keeps its value when the variable it reads is reassigned
        (used when a tuple of operands is stored under a name)."""
        if type(item) is Var and self.depth > 0:
            return self.emit("copy", (item,), hint="_t")
        return item

    def unpack(self, scope: Scope, target: ast.Tuple | ast.List, value: Any, node: ast.AST
               ) -> None:
        elts = target.elts
        stars = [k for k, e in enumerate(elts) if isinstance(e, ast.Starred)]
        if len(stars) > 1:
            raise scope.fs.error(node, "two starred names in one assignment",
                                 "unpack with one starred name")
        if type(value) is Const and type(value.value) is tuple:     # a, b = (0, 1)
            value = StaticTuple(tuple(Const(v) for v in value.value))
        if stars:
            self.unpack_starred(scope, elts, stars[0], value, node)
            return
        if type(value) is StaticTuple:
            if is_record(value):
                raise scope.fs.error(node, f"unpacking a {value.cls.__name__} object",
                                     "read its fields by name")
            items = list(value.items)
            if len(items) != len(elts):
                raise scope.fs.error(node, f"unpacking {len(items)} values into {len(elts)} "
                                     "names", "write as many names as values")
            written = {v for v in (self.current_var(scope, e) for e in elts) if v is not None}
            items = [self.emit("copy", (v,), hint="_t") if type(v) is Var and v in written
                     and self.depth > 0 else v for v in items]
            for e, v in zip(elts, items):
                self.assign_value(scope, e, v, node)
            return
        seq = self.materialize(value, node)
        if self.unpack_checked(scope, elts, seq, node):     # (a parameter's items: done)
            return
        if self.kind_of(seq).find().tag not in ("array", "obj"):   # (an array: by its rows;
            #                                        an object, n, m = x.shape: as Python reads it)
            self.unify(seq.kind if type(seq) is Var else Kind.list_of(), Kind.list_of(), node)
        if type(seq) is Var and self.depth > 0:
            seq = self.emit("copy", (seq,), hint="_seq")
        for k, e in enumerate(elts):
            item = self.getitem(seq, Const(k))
            self.assign_value(scope, e, item, node)

    def unpack_starred(self, scope: Scope, elts: list, star: int, value: Any,
                       node: ast.AST) -> None:
        """``a, *b, c = xs``: ``b`` gets a list of the middle items (as Python does)."""
        after = len(elts) - star - 1
        if type(value) is StaticTuple:
            items = list(value.items)
            if len(items) < len(elts) - 1:
                raise scope.fs.error(node, "unpacking too few values", "pass more values")
            middle = items[star:len(items) - after]
            mats = tuple(self.materialize(m, node) for m in middle)
            kind = Kind.list_of()
            for m in mats:
                self.unify(kind.element, self.kind_of(m), node)
            rest = self.emit("list", mats, kind)
            parts = items[:star] + [rest] + items[len(items) - after:]
            for e, v in zip(elts, parts):
                self.assign_value(scope, e.value if isinstance(e, ast.Starred) else e, v, node)
            return
        seq = self.materialize(value, node)
        if self.kind_of(seq).find().tag == "array":     # (the starred name gets a list)
            seq = rows(self, seq, node)
        self.unpack_check(seq, len(elts) - 1, at_least=True)
        if type(seq) is Var and self.depth > 0:
            seq = self.emit("copy", (seq,), hint="_seq")
        for k in range(star):
            self.assign_value(scope, elts[k], self.getitem(seq, Const(k)), node)
        stop = Const(-after) if after else Const(None)
        rest = self.emit("slice", (seq, Const(star), stop, Const(None)), self.kind_of(seq))
        self.assign_value(scope, elts[star].value, rest, node)
        for j in range(after):
            self.assign_value(scope, elts[star + 1 + j], self.getitem(seq, Const(j - after)),
                              node)

    def current_var(self, scope: Scope, target: ast.expr) -> Var | None:
        if isinstance(target, ast.Name):
            cur = scope.owner_of(target.id).env.get(target.id)
            return cur if type(cur) is Var else None
        return None

    def store_item(self, scope: Scope, target: ast.Subscript, value: Any, node: ast.AST
                   ) -> None:
        target = self.slices_written_out(scope, target)       # (xs[s] = ... of s = slice())
        base = self.expr(scope, target.value)
        if not is_operand(base):
            raise scope.fs.error(node, "an assignment into " + construct_name(target.value),
                                 "assign into a list held in a variable")
        if self.is_array(base) or type(base) is Var and base.kind.find().tag in (
                None, "num") and array_index(target.slice):
            self.array_set(scope, base, target, value, node)
            return
        value = self.materialize(value, node)
        refuse_array_index(self, target, node, base)
        if isinstance(target.slice, ast.Slice):
            from .lower_builtins import replace_slice
            replace_slice(self, base, self.slice_operands(scope, target.slice), value, node)
            return
        index = self.materialize(self.expr(scope, target.slice), node)
        if type(base) is Var:
            kb = base.kind.find()
            if kb.tag == "map" or (kb.tag is None and type(index) is Const and
                                   isinstance(index.value, str)):
                self.key_kind(base, index, value, node)
            else:
                self.unify(base.kind, Kind.list_of(self.kind_of(value)), node)
        self.effect("setitem", (base, index, value))

    def key_kind(self, base: Var, key: Any, value: Any, node: ast.AST) -> None:
        """``d[key] = value`` into a dict: the value's kind joins the kind under a constant
        key, or that of the values under keys known only when the code runs."""
        try:
            kind = base.kind.field(key.value, attr=False) if type(key) is Const \
                else base.kind.by_key()
        except KindError as exc:
            raise self.error_at(node, f"a value used as {exc}",
                                "read fields either as attributes or by key")
        self.unify(kind, self.kind_of(value), node)

    def s_expr(self, scope: Scope, s: ast.Expr) -> None:
        if isinstance(s.value, ast.Constant):
            return          # docstring or a bare constant
        self.set_loc(scope, s)
        if type(s.value) is not ast.Yield or not self.yield_stmt(scope, s.value):
            self.expr(scope, s.value, statement=True)   # (a yield: see lower_gen)

    def s_return(self, scope: Scope, s: ast.Return) -> None:
        """A ``return`` inside a branch: the value goes into the result variable (one per
        position when the function returns a tuple)."""
        self.set_loc(scope, s)
        dest = scope.result if type(scope.result) is Var else None
        value = Const(None) if s.value is None else self.expr(scope, s.value, dest=dest)
        if getattr(scope, "is_top", False) and self.bad_result(value):
            self.bad_returns.append((s, value))
            self.effect("raise", (self.nonscalar_error(scope, s, value),))
            return
        if getattr(scope, "is_top", False):
            self.good_returns += 1
        hint = getattr(scope, "result_hint", "_result")
        if scope.result is None and self.depth == self.base_depth and (
                type(value) in (FuncValue, FuncChoice) or type(value) is Static and
                callable(value.obj)):        # the one return run: a function (a factory's)
            scope.result = value
            return
        if scope.result is None:
            scope.result = value.like(tuple(Var(hint) for _ in value.items)) \
                if type(value) is StaticTuple else Var(hint)
        if type(scope.result) is StaticTuple:
            if type(value) is not StaticTuple or len(value.items) != len(scope.result.items):
                raise scope.fs.error(s, "returning tuples of different lengths (or a tuple "
                                     "and a single value)", "return the same shape on every "
                                     "path")
            scope.result.cls = value.cls if value.cls is scope.result.cls else None
            for var, item in zip(scope.result.items, value.items):
                self.copy_into(var, self.materialize(item, s))
            return
        if type(value) is StaticTuple:
            raise scope.fs.error(s, "returning a tuple on one path and a single value on "
                                 "another", "return the same shape on every path")
        if value is not scope.result:
            self.copy_into(scope.result, self.materialize(value, s))

    def bad_result(self, value: Any) -> bool:
        """Is ``value`` certainly not a result the transform accepts?  One number for
        ``grad``; numbers, tuples and lists of them when ``structured``."""
        if not self.structured:
            return _not_number(value, self)
        if type(value) is StaticTuple:
            return any(self.bad_result(x) for x in value.items)
        if type(value) is Var and value.kind.find().tag in ("list", "array"):
            return False
        return _not_number(value, self)

    def nonscalar_error(self, scope: Scope, node: ast.AST, value: Any) -> Any:
        from .errors import NonScalarError as _E
        fs = scope.fs
        msg = (f'File "{fs.filename}", line {fs.line(node)}: {fs.tree.name} returned '
               f"{_describe_value(value)} on this path; symgrad's grad differentiates "
               "functions that return one number.\n  hint: return a number on every path.")
        return self.emit("call", (self.inject(_E, "NonScalarError"), Const(msg)), Kind.obj(),
                         {"kw": (), "label": "NonScalarError", "constant": True})

    def s_pass(self, scope: Scope, s: ast.stmt) -> None:
        return

    def s_break(self, scope: Scope, s: ast.stmt) -> None:
        self.set_loc(scope, s)
        self.block.append(ir.Break(self.loc) if isinstance(s, ast.Break) else
                          ir.Continue(self.loc))

    def s_if(self, scope: Scope, s: ast.If) -> None:
        self.set_loc(scope, s, header=True)
        loc = self.loc
        cond = self.condition(scope, s.test)
        if type(cond) is Const:      # known while lowering (b is None, b's default None):
            self.body(scope, s.body if cond.value else s.orelse)     # only that branch
            return
        self.prepare_region(scope, [s])
        before = dict(scope.env)
        with self.sub_block() as then:
            self.body(scope, s.body)
        after_then = dict(scope.env)
        scope.env.clear()
        scope.env.update(before)
        with self.sub_block() as orelse:
            self.body(scope, s.orelse)
        self.merge_static(scope, after_then, then, orelse, s)
        self.block.append(ir.If(cond, then, orelse, loc))

    def merge_static(self, scope: Scope, other: dict, then: list, orelse: list,
                     node: ast.AST) -> None:
        """After an ``if``: a name bound to different functions in the two branches
        becomes a :class:`FuncChoice` on a tag each branch sets."""
        for name in set(other) | set(scope.env):
            a, b = other.get(name), scope.env.get(name)
            if a is b or (is_operand(a) and is_operand(b)):
                continue
            if a is None or b is None:
                scope.env[name] = a if b is None else b
                continue
            if type(a) is StaticTuple or type(b) is StaticTuple:
                scope.env[name] = self.join_tuples(name, a, b, then, orelse, node)
                continue
            options = [a, b]
            tag = Var("_which", Kind.num())
            for k, blk in enumerate((then, orelse)):
                at_branch_end(blk, [Eqn((tag,), "copy", (Const(k),), None, self.loc)])
            scope.env[name] = FuncChoice(tag, options)

    def prepare_region(self, scope: Scope, stmts: list[ast.stmt]) -> list:
        """Before a branch or loop: every name it assigns gets one variable of this scope
        (shared by both branches and every iteration), copied from a borrowed binding.
        Returns the names it leaves bound to values known while lowering (functions):
        a loop checks them with :meth:`same_statics`."""
        statics = []
        nonlocals = [n for n in (nonlocal_names(stmts) if scope.fs.has_nonlocal else ())
                     if scope.owner_of(n).env.get(n) is not None]   # existing locals only
        for name in assigned_names(stmts, scope.fs.walrus) + nonlocals:
            owner = scope.owner_of(name)
            if name in owner.globals_decl:
                continue
            cur = owner.env.get(name)
            if type(cur) is Var and cur in owner.owned:
                self.known.pop(cur, None)       # (written in the region: not known there)
                continue
            if type(cur) is StaticTuple and not cur.carried:
                if owner is not scope or not self.fresh_in_loop(scope, stmts, name):
                    self.carry_items(owner, name, cur, stmts[0])
                continue
            if cur is not None and not is_operand(cur):
                statics.append((owner, name, cur))
                continue
            v = Var(_printable(name))
            if cur is not None:
                self.copy_into(v, cur)
                self.known.pop(v, None)
            owner.env[name] = v
            owner.owned.add(v)
        return statics + self.hooked_region(scope, stmts) if self.yield_hooks else statics

    def s_while(self, scope: Scope, s: ast.While) -> None:
        self.set_loc(scope, s, header=True)
        loc = self.loc
        statics = self.prepare_region(scope, [s])
        with self.sub_block() as test:
            cond = self.condition(scope, s.test)
        self.loops.append(_LoopCtx(scope, self.depth, s))
        with self.sub_block() as body:
            self.body(scope, s.body)
        self.loops.pop()
        self.same_statics(statics, s)
        self.block.append(ir.While(test, cond, body, loc))

    def s_for(self, scope: Scope, s: ast.For) -> None:
        self.set_loc(scope, s, header=True)
        self.for_loop(scope, s.target, s.iter, s.body, s)

    def s_def(self, scope: Scope, s: ast.FunctionDef) -> None:
        self.set_loc(scope, s, header=True)
        if s.decorator_list:
            raise scope.fs.error(s, "a decorated inner function",
                                 "define the helper at module level, or without decorators")
        scope.env[s.name] = FuncValue(s, scope, self.eval_defaults(scope, s.args), s.name)
        names = [n for n in nonlocal_names([s]) if scope.env.get(n) is not None]
        if names:       # written by its calls, wherever they are: one variable from here on
            self.prepare_region(scope, [ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())],
                                                   value=ast.Constant(0)) for n in names])

    def s_nonlocal(self, scope: Scope, s: ast.Nonlocal) -> None:
        scope.nonlocals.update(s.names)

    def s_global(self, scope: Scope, s: ast.Global) -> None:
        scope.globals_decl.update(s.names)

    def s_raise(self, scope: Scope, s: ast.Raise) -> None:
        self.set_loc(scope, s)
        exc = self.materialize(self.expr(scope, s.exc), s) if s.exc else Const(None)
        self.effect("raise", (exc,))

    def s_assert(self, scope: Scope, s: ast.Assert) -> None:
        self.set_loc(scope, s)
        cond = self.condition(scope, s.test)
        with self.sub_block() as fail:
            msg = self.materialize(self.expr(scope, s.msg), s) if s.msg else Const(None)
            self.effect("assert_fail", (msg,))
        self.block.append(ir.If(cond, [], fail, self.loc))


def _returns(body: list[ast.stmt]) -> int:
    n = 0
    stack = list(body)
    while stack:
        s = stack.pop()
        if isinstance(s, ast.Return):
            n += 1
        elif isinstance(s, ast.If):
            stack += s.body + s.orelse
        elif isinstance(s, (ast.For, ast.While)):
            stack += s.body
    return n


def _printable(name: str) -> str:
    return name.split("#")[0] or "_t"


def _const_kind(value: Any) -> Kind:
    if isinstance(value, (int, float)) or value is None:
        return Kind.num() if value is not None else Kind.obj()
    if isinstance(value, tuple):
        return Kind.list_of()
    return Kind.obj()


class _FakeNode:
    def __init__(self, loc: Loc | None):
        self.lineno = 1
        self.col_offset = 0


_STMTS: dict[type, Any] = {
    ast.Assign: Lowerer.s_assign, ast.Expr: Lowerer.s_expr, ast.Return: Lowerer.s_return,
    ast.Pass: Lowerer.s_pass, ast.Break: Lowerer.s_break, ast.Continue: Lowerer.s_break,
    ast.If: Lowerer.s_if, ast.While: Lowerer.s_while, ast.For: Lowerer.s_for,
    ast.FunctionDef: Lowerer.s_def, ast.Nonlocal: Lowerer.s_nonlocal,
    ast.Global: Lowerer.s_global, ast.Import: Lowerer.s_import,
    ast.ImportFrom: Lowerer.s_import, ast.Raise: Lowerer.s_raise, ast.Assert: Lowerer.s_assert,
    ast.Delete: Lowerer.s_delete,
}


class _Repeats(Exception):
    """``xs *= k`` lowered as arithmetic where ``xs`` turned out to be a list: lowered
    again, knowing it (``keys``: where, by file, line and column)."""

    def __init__(self, keys: set, sites: list):
        super().__init__("xs *= k of lists")
        self.keys, self.sites = keys, sites


def _plain(fn: Any) -> bool:
    if not isinstance(fn, types.FunctionType):
        return False
    code = fn.__code__
    return not (code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS)) and \
        not code.co_kwonlyargcount and not code.co_posonlyargcount


def lower(fn: Any, structured: bool = False, patterns: dict | None = None) -> Lowered:
    """Lower ``fn`` to IR: a plain function directly; anything else Python can call
    with plain parameters (a ``functools.wraps`` wrapper, a bound method, a
    ``functools.partial``, an object with ``__call__``) as a call to it, which inlines
    exactly what Python runs."""
    if not _plain(fn):
        from .lower_callable import lower_call_of      # (a wrapper, bound method, partial)
        return _repeating(lambda repeats: lower_call_of(fn, structured, patterns, repeats))
    fs = get_source(fn)

    def run(repeats: frozenset) -> Lowered:
        lw = Lowerer(fs)
        lw.structured = structured
        lw.param_patterns = dict(patterns or {})
        lw.list_repeats = repeats
        try:
            return lw.lower_top(fn, fs)
        except KindError as exc:
            raise kind_conflict(fs, fs.tree, exc, lw.seq_conflict(())) from None
    return _repeating(run)


def _repeating(run: Any) -> Lowered:
    """``run(repeats)``, lowered again knowing which ``xs *= k`` repeat a list in place
    when the first lowering learned it only after them (see :class:`_Repeats`)."""
    try:
        return run(frozenset())
    except _Repeats as again:     # xs *= k of a list its kind was not known at
        try:
            return run(frozenset(again.keys))
        except _Repeats:
            node, where = again.sites[0]
            raise where.error(node, "xs *= k of a list whose kind is known only "
                              "after it (Python repeats it in place, for every "
                              "name of it)", "write xs[:] = xs * k") from None
