"""Reverse-mode automatic differentiation by source transformation.

``transform(fn, wrt)`` reads ``fn``'s syntax tree and writes a new function
that runs ``fn`` (the *primal sweep*) and then applies the rule table's local
derivatives in reverse order (the *adjoint sweep*).

How the generated code is organised:

* Straight-line code is renamed into single assignment form (``x``, ``x_1``,
  ...), so every value stays alive and no tape is needed.  Adjoints are
  collected symbolically and written once, fused, when they are complete.
* Inside branches and loops values are overwritten and paths chosen at run
  time.  Before a value the adjoint sweep needs is overwritten, the primal
  sweep pushes it on ``_stack`` (a plain list) and the adjoint sweep pops it
  back; a branch pushes which way it went; a loop is replayed backwards over
  the same range (or a recorded trip count).
* Calls to the user's own functions are inlined, with a comment, so the whole
  derivative reads top to bottom.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import gc
import math
import sys
import threading
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from . import codegen as cg
from . import rules
from .codegen import E
from .errors import NonDifferentiableError, NonScalarError, UnsupportedSyntaxError
from .source import MISSING, FunctionSource, get_source

G_ID = "__G__"          # placeholder: the incoming adjoint of a statement
_ZERO, _PENDING, _LIVE = "zero", "pending", "live"
_MAX_TERMS = 32         # longest fused sum of adjoint contributions

# builtins and functions whose result is piecewise constant (derivative 0) or not a number
_CONSTANT_CALLS = {builtins.len, builtins.int, builtins.round, builtins.bool, builtins.range,
                   builtins.isinstance, builtins.str, builtins.print, math.floor, math.ceil,
                   math.trunc, math.isnan, math.isinf, math.isfinite, builtins.id, builtins.type,
                   builtins.hash, math.factorial, math.comb, math.perm, math.gcd}


# =========================================================================== IR

@dataclass
class Leaf:
    """A name, constant or inactive expression (already in generated names)."""
    node: ast.expr
    var: str | None = None       # generated name, when an active scalar variable
    active: bool = False


@dataclass
class Idx:
    """An element read ``base[i][j]`` of an active list."""
    base: str
    index: list[ast.expr]
    active: bool = True


@dataclass
class Op:
    """A primitive applied to sub-expressions."""
    rule: str
    args: list[Any]
    flavor: str
    active: bool = True
    temp: str | None = None      # set when the value is saved for the adjoint sweep
    ref: str | None = None       # placeholder id of this node's value in partials


def code_of(ir: Any) -> ast.expr:
    """Primal code of an IR expression (hoisted nodes read their temporaries)."""
    if isinstance(ir, Leaf):
        return cg.copy_expr(ir.node)
    if isinstance(ir, Idx):
        return subscript(cg.name(ir.base), ir.index)
    if ir.temp:
        return cg.name(ir.temp)
    return cg.primitive_call(ir.rule, ir.flavor, [code_of(a) for a in ir.args])


def subscript(base: ast.expr, index: list[ast.expr]) -> ast.expr:
    node = base
    for i in index:
        node = ast.Subscript(value=node, slice=cg.copy_expr(i), ctx=ast.Load())
    return node


def substitute(node: Any, mapping: dict[str, ast.expr]) -> Any:
    """Copy of ``node`` with placeholder names replaced."""
    if isinstance(node, list):
        return [substitute(n, mapping) for n in node]
    if not isinstance(node, ast.AST):
        return node
    if isinstance(node, ast.Name) and node.id in mapping:
        return cg.copy_expr(mapping[node.id])
    new = node.__class__.__new__(node.__class__)
    for key, value in node.__dict__.items():
        if isinstance(value, (ast.AST, list)):
            value = substitute(value, mapping)
        new.__dict__[key] = value
    return new


# =========================================================================== items

@dataclass
class Recipe:
    """The adjoint of one assignment, written against the placeholder ``__G__``."""
    lets: list[tuple[str, ast.expr]]
    contribs: list[tuple[tuple, ast.expr]]    # (("var", g) | ("elem", base, index)), expr
    out_ref: str
    uses_out: bool
    values: set[str]                          # generated names whose values it reads


@dataclass
class Item:
    kind: str                       # assign, elem, append, listdef, if, for, while
    comment: str = ""
    name: str = ""                  # target variable (generated name)
    index: list[ast.expr] = field(default_factory=list)
    recipe: Recipe | None = None
    elems: list[Recipe | None] = field(default_factory=list)    # list literal elements
    source_list: tuple | None = None       # listdef copying from ("var", g) / ("elem", b, idx)
    inplace: bool = False
    restore: bool = False           # scalar in-place: pushed old value (decided at the end)
    restore_first: bool = True
    temps: list[str] = field(default_factory=list)  # hoisted temporaries pushed in a loop
    is_list: bool = False
    out_temp: str | None = None     # append: name for the popped output value
    body: list["Item"] = field(default_factory=list)
    orelse: list["Item"] = field(default_factory=list)
    header: Callable[[], ast.stmt] | None = None   # adjoint loop header
    pre: list[Any] = field(default_factory=list)   # adjoint statements before the loop
    reads: set[str] = field(default_factory=set)   # adjoints receiving contributions
    assigned: set[str] = field(default_factory=set)  # variables defined inside
    flag: "Slot | None" = None

    def has_backward(self, tr: "Transformer") -> bool:
        if self.kind in ("if", "for", "while"):
            return getattr(self, "cond_pop", None) is not None or any(
                i.has_backward(tr) for i in self.body + self.orelse)
        if self.kind == "assign":   # an overwritten differentiated variable: reset its adjoint
            return self.recipe is not None or self.inplace and (
                tr.is_restored(self) or getattr(self, "active_target", False))
        if self.kind == "append":
            return (self.recipe is not None or self.name in tr.needed
                    or getattr(self, "active_list", True))
        return True


class Slot:
    """A placeholder in the primal code, resolved once the whole function is seen."""

    def __init__(self, resolve: Callable[[], list[ast.stmt]]):
        self.resolve = resolve


# =========================================================================== scopes

@dataclass
class Scope:
    fs: FunctionSource
    env: dict[str, str]
    locals: set[str]
    active: set[str]
    lists: set[str]
    local_funcs: dict[str, Any] = field(default_factory=dict)
    parent: "Scope | None" = None
    result: str | None = None       # generated name receiving `return` (inlined callee)
    entry_depth: int = 0
    label: str = ""


class Names:
    """Unique generated names: ``x``, ``x_1``, ``d_x``, ``_t1`` ..."""

    def __init__(self, reserved: Iterable[str]):
        self.source = set(reserved)
        self.used: set[str] = set()
        self.counters: dict[str, int] = {}
        self.journal: list[tuple[str, int | None, str | None]] = []

    def mark(self) -> int:
        return len(self.journal)

    def rollback(self, mark: int) -> None:
        """Forget every name handed out since ``mark``."""
        while len(self.journal) > mark:
            base, count, name = self.journal.pop()
            if name is not None:
                self.used.discard(name)
            if count is None:
                self.counters.pop(base, None)
            else:
                self.counters[base] = count

    def own(self, base: str) -> str:
        base = base.split("#")[0]
        if base not in self.used:
            self.used.add(base)
            return base
        return self.fresh(base)

    def fresh(self, base: str, numbered: bool = False) -> str:
        base = base.split("#")[0]
        if not numbered and base not in self.used and base not in self.source:
            self.used.add(base)
            self.journal.append((base, self.counters.get(base), base))
            return base
        k = self.counters.get(base, 0)
        while True:
            k += 1
            cand = f"{base}_{k}" if not base.startswith("_") else f"{base}{k}"
            if cand not in self.used and cand not in self.source:
                self.journal.append((base, self.counters.get(base), cand))
                self.counters[base] = k
                self.used.add(cand)
                return cand


# =========================================================================== activity analysis

_ACTIVE_SEEN: "dict[int, tuple[ast.AST, int]]" = {}


def _clear_temps(ir: Any) -> None:
    """Forget the temporaries chosen for an expression's nodes (before choosing again)."""
    if isinstance(ir, Op):
        ir.temp = None
        for a in ir.args:
            _clear_temps(a)


def _is_placeholder(name: str) -> bool:
    """``__G__`` or ``__refN__`` (not a variable: ``__sq``, from a helper ``_sq``, is one)."""
    return name == G_ID or name.startswith("__ref") and name.endswith("__")


def _expr_active(node: ast.AST | None, active: set[str]) -> bool:
    """Does the expression depend on a differentiated input?  (Cached once true:
    activity only grows, so a deep ``a + b + c + ...`` chain is not re-walked.)"""
    if node is None:
        return False
    hit = _ACTIVE_SEEN.get(id(node))
    if hit is not None and hit[0] is node and hit[1] == id(active):
        return True
    if _expr_active_walk(node, active):
        _ACTIVE_SEEN[id(node)] = (node, id(active))
        return True
    return False


def _expr_active_walk(node: ast.AST, active: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in active
    if isinstance(node, (ast.Compare, ast.BoolOp, ast.Constant)):
        return False
    if isinstance(node, ast.IfExp):
        return _expr_active(node.body, active) or _expr_active(node.orelse, active)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
            "len", "range", "int", "round", "bool", "isinstance"):
        return False
    for v in node.__dict__.values():
        if isinstance(v, ast.AST):
            if _expr_active(v, active):
                return True
        elif isinstance(v, list):
            for c in v:
                if isinstance(c, ast.AST) and _expr_active(c, active):
                    return True
    return False


def _target_names(t: ast.AST) -> list[str]:
    if isinstance(t, ast.Name):
        return [t.id]
    if isinstance(t, (ast.Tuple, ast.List)):
        return [n for e in t.elts for n in _target_names(e)]
    if isinstance(t, ast.Subscript):
        return _target_names(t.value)
    if isinstance(t, ast.Starred):
        return _target_names(t.value)
    return []


def _is_list_expr(node: ast.AST, lists: set[str]) -> bool:
    if isinstance(node, (ast.List, ast.Tuple, ast.ListComp)):
        return True
    if isinstance(node, ast.Name):
        return node.id in lists
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add)):
        return _is_list_expr(node.left, lists) or _is_list_expr(node.right, lists)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
            "list", "tuple", "sorted"):
        return True
    return False


def analyze(stmts: list[ast.stmt], active: set[str], lists: set[str]) -> None:
    """Grow ``active`` (names depending on the inputs) and ``lists`` to a fixed point."""
    relevant = (ast.Assign, ast.AugAssign, ast.For, ast.Call, ast.Subscript, ast.comprehension)
    nodes = [n for s in stmts for n in ast.walk(s) if isinstance(n, relevant)]
    changed = True
    while changed:
        changed = False

        def mark(names: Iterable[str], into: set[str]) -> None:
            nonlocal changed
            for n in names:
                if n not in into:
                    into.add(n)
                    changed = True

        for n in nodes:
            if isinstance(n, ast.Assign):
                if isinstance(n.targets[0], (ast.Tuple, ast.List)) and isinstance(
                        n.value, ast.Name):
                    mark([n.value.id], lists)
                if _expr_active(n.value, active):
                    for t in n.targets:
                        mark(_target_names(t), active)
                if _is_list_expr(n.value, lists) or (
                        isinstance(n.value, ast.Subscript) and False):
                    for t in n.targets:
                        if isinstance(t, ast.Name):
                            mark([t.id], lists)
            elif isinstance(n, ast.AugAssign):
                if _expr_active(n.value, active):
                    mark(_target_names(n.target), active)
            elif isinstance(n, ast.For):
                if _expr_active(n.iter, active):
                    mark(_target_names(n.target), active)
                if isinstance(n.iter, ast.Name):
                    mark([n.iter.id], lists)
            elif isinstance(n, ast.comprehension) and isinstance(n.iter, ast.Name):
                mark([n.iter.id], lists)      # [... for v in xs]: xs is a list
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                    and n.func.attr == "append" and isinstance(n.func.value, ast.Name):
                mark([n.func.value.id], lists)
                if any(_expr_active(a, active) for a in n.args):
                    mark([n.func.value.id], active)
            elif isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name):
                mark([n.value.id], lists)
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in (
                    "len", "sum", "zip", "enumerate", "reversed", "max", "min") and n.args \
                    and isinstance(n.args[0], ast.Name) and (
                        n.func.id not in ("max", "min") or len(n.args) == 1):
                mark([a.id for a in n.args if isinstance(a, ast.Name)], lists)


# =========================================================================== restructuring

def _jumps(stmts: list[ast.stmt]) -> bool:
    """Does every path through ``stmts`` end in return/break/continue?"""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Break, ast.Continue)):
        return True
    if isinstance(last, ast.If):
        return _jumps(last.body) and _jumps(last.orelse)
    return False


def _may_jump(stmts: list[Any]) -> bool:
    """Does some path through ``stmts`` end in return/break/continue?"""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Break, ast.Continue)):
        return True
    if isinstance(last, ast.If):
        return _may_jump(last.body) or _may_jump(last.orelse)
    return False


def _append_rest(stmts: list[ast.stmt], copies: list[list[ast.stmt]], in_loop: bool
                 ) -> list[ast.stmt]:
    """``stmts`` followed by the statements ``copies[0]`` on every path that does not exit
    (the first path takes them, later ones a deep copy)."""
    if _jumps(stmts):
        return stmts
    last = stmts[-1] if stmts else None
    if isinstance(last, ast.If) and _may_jump([last]):
        last.body = _append_rest(last.body, copies, in_loop)
        last.orelse = _append_rest(last.orelse, copies, in_loop)
        return stmts
    rest = copies[0] if len(copies) == 1 else cg.copy_expr(copies[0])
    copies.append(rest)
    return restructure(stmts + rest, in_loop)


def restructure(stmts: list[ast.stmt], in_loop: bool = False) -> list[ast.stmt]:
    """Move statements after an early exit into the branch that does not exit.

    ``if c: return a`` followed by ``rest`` becomes ``if c: return a / else: rest``,
    and the same for ``continue``; so every exit ends its block.
    """
    out: list[ast.stmt] = []
    for k, s in enumerate(stmts):
        if isinstance(s, ast.If):
            s.body = restructure(s.body, in_loop)
            s.orelse = restructure(s.orelse, in_loop)
            rest = stmts[k + 1:]
            if rest and _may_jump([s]):
                # an exit anywhere inside, however deeply nested: `rest` goes to the end of
                # every path that does not exit (copied when there are several)
                copies = [rest]
                s.body = _append_rest(s.body, copies, in_loop)
                s.orelse = _append_rest(s.orelse, copies, in_loop)
                out.append(s)
                return out
        elif isinstance(s, (ast.For, ast.While)):
            s.body = restructure(s.body, True)
        out.append(s)
        if isinstance(s, (ast.Return, ast.Break, ast.Continue)):
            return out   # anything after is unreachable
    return out


# =========================================================================== the transformer

class Transformer:
    """Builds the gradient of one function.  Use :func:`transform`."""

    def __init__(self, fs: FunctionSource, wrt: list[int], with_value: bool):
        self.fs = fs
        self.wrt = wrt
        self.with_value = with_value
        reserved = set()
        for n in ast.walk(fs.tree):
            if isinstance(n, ast.Name):
                reserved.add(n.id)
            elif isinstance(n, ast.arg):
                reserved.add(n.arg)
        self.names = Names(reserved)
        self.ns: dict[str, Any] = {"math": math}
        self.names.used.add("math")
        self.helpers: set[str] = set()
        self.needed: set[str] = set()
        self.adj: dict[str, str] = {}
        self.depth = 0              # nesting of if/for/while (0: straight-line)
        self.loops: list[dict] = []  # enclosing loops (innermost last)
        self.dd: set[str] = set()   # generated names definitely defined here
        self.maybe_dd: set[str] = set()  # ... and those defined on some path only
        self.preinit: set[str] = set()
        self.list_depth: dict[str, int] = {}
        self.uses_stack = False
        self.inlining: list[Any] = []
        self.ref_counter = 0
        self.inplace_names: set[str] = set()
        self.list_vars: set[str] = set()
        self.stack = self.names.fresh("_stack")

    # ------------------------------------------------------------------ errors
    def err(self, scope: Scope, node: ast.AST, construct: str, hint: str) -> Exception:
        return scope.fs.error(node, construct, hint)

    # ------------------------------------------------------------------ names
    def adjoint_name(self, g: str) -> str:
        if g not in self.adj:
            self.adj[g] = self.names.fresh("d_" + g.lstrip("_"))
        return self.adj[g]

    def bind_global(self, preferred: str, obj: Any) -> str:
        if obj is math:
            return "math"
        if isinstance(obj, types.ModuleType) and obj.__name__ == "numpy":
            preferred = "np"
        if preferred in self.ns and self.ns[preferred] is obj:
            return preferred
        name = preferred if preferred not in self.names.used else self.names.fresh(preferred)
        if name == preferred:
            self.names.used.add(name)
        self.ns[name] = obj
        return name

    def new_ref(self) -> str:
        self.ref_counter += 1
        return f"__ref{self.ref_counter}__"

    # ------------------------------------------------------------------ entry
    def run(self) -> tuple[str, dict[str, Any], str]:
        fs = self.fs
        tree = fs.tree
        args = tree.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            raise self.err(self.root_scope_stub(), tree, "*args, **kwargs, keyword-only or "
                           "positional-only parameters",
                           "give the function plain positional parameters")
        params = [a.arg for a in args.args]
        self.params = params
        for p in params:
            self.names.used.add(p)
        active = {params[i] for i in self.wrt}
        lists: set[str] = set()
        body = self.desugar_block(tree.body, fs)
        body = restructure(body)
        analyze(body, active, lists)
        scope = Scope(fs, {p: p for p in params}, set(params) | _assigned_names(body),
                      active, lists, label=tree.name)
        scope.local_funcs = {}
        self.dd = set(params)
        for p in params:
            if p in lists:
                self.list_depth[p] = _list_depth(body, p)
        self.out_name: str | None = None
        self.seed = self.names.fresh("d_out")
        primal, items = self.block(body, scope, top=True)
        if self.out_name is None:
            raise NonScalarError(f"{fs.fn.__qualname__} does not return a value; symgrad "
                                 "differentiates functions that return one number.")
        primal = self.resolve_slots(primal)
        backward = self.backward(items, scope)
        func = self.assemble(primal, backward, scope)
        self.called_names = {n.func.id for n in cg.nodes(func)
                             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        source = cg.to_source(ast.Module(body=[func], type_ignores=[]))
        return source, self.ns, func.name

    def root_scope_stub(self) -> Scope:
        return Scope(self.fs, {}, set(), set(), set())

    # ------------------------------------------------------------------ desugaring
    def desugar_block(self, stmts: list[ast.stmt], fs: FunctionSource) -> list[ast.stmt]:
        out = []
        for s in stmts:
            if isinstance(s, ast.AugAssign):
                if not isinstance(s.target, (ast.Name, ast.Subscript)):
                    raise fs.error(s, "augmented assignment to " + type(s.target).__name__,
                                   "assign to a local variable or a list element")
                load = cg.copy_expr(s.target)
                load.ctx = ast.Load()
                new = ast.Assign(targets=[s.target], value=ast.BinOp(load, s.op, s.value))
                ast.copy_location(new, s)
                new.value.lineno, new.value.col_offset = s.lineno, s.col_offset
                out.append(new)
            elif isinstance(s, ast.AnnAssign):
                if s.value is None:
                    continue
                new = ast.Assign(targets=[s.target], value=s.value)
                out.append(ast.copy_location(new, s))
            elif isinstance(s, ast.If):
                s.body = self.desugar_block(s.body, fs)
                s.orelse = self.desugar_block(s.orelse, fs)
                out.append(s)
            elif isinstance(s, (ast.For, ast.While)):
                s.body = self.desugar_block(s.body, fs)
                out.append(s)
            else:
                out.append(s)
        return out

    # ------------------------------------------------------------------ blocks
    def block(self, stmts: list[ast.stmt], scope: Scope, top: bool = False
              ) -> tuple[list[Any], list[Item]]:
        primal: list[Any] = []
        items: list[Item] = []
        for s in stmts:
            self.stmt(s, scope, primal, items)
        return primal, items

    def comment_of(self, scope: Scope, node: ast.AST) -> str:
        text = scope.fs.text(node).strip()
        if isinstance(node, (ast.If, ast.For, ast.While)):
            return f"({scope.label}) {text}" if scope.result is not None else text
        end = getattr(node, "end_lineno", None)
        if end and end != node.lineno:
            lines = [scope.fs.text(ast.Pass(lineno=k)).strip()
                     for k in range(node.lineno, end + 1)]
            text = " ".join(lines)
        if scope.label and scope.parent is not None or self.inlining and scope is not None \
                and scope.result is not None:
            text = f"({scope.label}) {text}"
        return text

    def stmt(self, s: ast.stmt, scope: Scope, primal: list[Any], items: list[Item]) -> None:
        fs = scope.fs
        if isinstance(s, ast.Assign):
            if len(s.targets) != 1:
                raise self.err(scope, s, "chained assignment (a = b = ...)",
                               "assign each name in its own statement")
            primal.append(cg.comment(self.comment_of(scope, s)))
            self.assign(s.targets[0], s.value, scope, primal, items, s)
        elif isinstance(s, ast.Return):
            if self.loops and self.loop_depth_in(scope):
                raise self.err(scope, s, "return inside a loop",
                               "assign the result to a variable, break out of the loop, "
                               "and return after it")
            if s.value is None:
                raise NonScalarError(f'File "{fs.filename}", line {fs.line(s)}: the function '
                                     "returns None; symgrad differentiates functions that "
                                     "return one number.")
            if isinstance(s.value, (ast.Tuple, ast.List, ast.Dict, ast.Set, ast.ListComp)):
                raise NonScalarError(
                    f'File "{fs.filename}", line {fs.line(s)}: the function returns '
                    f"{type(s.value).__name__.lower()} ({fs.text(s).strip()}); symgrad "
                    "differentiates functions that return one number. Return a single "
                    "scalar (for example the sum of the parts), or differentiate each part.")
            primal.append(cg.comment(self.comment_of(scope, s)))
            self.do_return(s, scope, primal, items)
        elif isinstance(s, ast.Expr):
            self.expr_stmt(s, scope, primal, items)
        elif isinstance(s, ast.If):
            self.do_if(s, scope, primal, items)
        elif isinstance(s, ast.For):
            self.do_for(s, scope, primal, items)
        elif isinstance(s, ast.While):
            self.do_while(s, scope, primal, items)
        elif isinstance(s, ast.Pass):
            pass
        elif isinstance(s, (ast.Break, ast.Continue)):
            primal.append(type(s)())
        elif isinstance(s, ast.FunctionDef):
            if s.decorator_list:
                raise self.err(scope, s, "a decorated inner function",
                               "define the helper without decorators")
            scope.local_funcs[s.name] = s
        elif isinstance(s, (ast.Import, ast.ImportFrom)):
            raise self.err(scope, s, "an import inside the function",
                           "import at module level")
        else:
            raise self.err(scope, s, _construct_name(s), _hint_for(s))

    def loop_depth_in(self, scope: Scope) -> bool:
        return any(lp["scope"] is scope for lp in self.loops)

    # ------------------------------------------------------------------ return
    def do_return(self, s: ast.Return, scope: Scope, primal: list[Any], items: list[Item]
                  ) -> None:
        if scope.result is not None:       # inlined callee
            v = s.value
            if isinstance(v, ast.Name) and v.id in scope.lists and v.id in scope.env \
                    and self.depth == scope.entry_depth and scope.env[v.id] in self.list_vars:
                scope.result = scope.env[v.id]     # return the list itself, no copy
                return
            self.assign_to_name(scope.result, s.value, scope, primal, items, s, raw=True)
            return
        value = s.value
        if self.depth == 0 and isinstance(value, ast.Name) and value.id in scope.env \
                and value.id not in scope.lists and self.out_name is None:
            self.out_name = scope.env[value.id]
            self.out_is_seed = False
            return
        if self.out_name is None:
            self.out_name = self.names.fresh("out")
            self.out_is_seed = True
            self.adj[self.out_name] = self.seed
        self.assign_to_name(self.out_name, value, scope, primal, items, s, raw=True)

    # ------------------------------------------------------------------ assignment
    def assign(self, target: ast.expr, value: ast.expr, scope: Scope, primal: list[Any],
               items: list[Item], node: ast.stmt) -> None:
        if isinstance(target, ast.Name):
            self.assign_to_name(target.id, value, scope, primal, items, node)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.assign_tuple(target, value, scope, primal, items, node)
        elif isinstance(target, ast.Subscript):
            self.assign_elem(target, value, scope, primal, items, node)
        else:
            raise self.err(scope, node, "assignment to " + _construct_name(target),
                           "assign to a local variable, a list element or unpack a tuple")

    def assign_tuple(self, target: ast.expr, value: ast.expr, scope: Scope,
                     primal: list[Any], items: list[Item], node: ast.stmt) -> None:
        elts = target.elts
        if any(isinstance(e, ast.Starred) for e in elts):
            raise self.err(scope, node, "starred assignment (a, *b = ...)",
                           "unpack a fixed number of names, or index the list")
        if isinstance(value, (ast.Tuple, ast.List)):
            if len(value.elts) != len(elts):
                raise self.err(scope, node, "unpacking with mismatched lengths",
                               "write as many names as values")
            reads = {n.id for v in value.elts for n in ast.walk(v) if isinstance(n, ast.Name)}
            writes = set(_target_names(target))
            if reads & writes:     # a, b = b, a: evaluate every value first
                tmps = []
                for v in value.elts:
                    t = "_swap#" + str(len(tmps))
                    scope.locals.add(t)
                    if _expr_active(v, scope.active):
                        scope.active.add(t)
                    self.assign_to_name(t, v, scope, primal, items, node)
                    tmps.append(t)
                for t, e in zip(tmps, elts):
                    self.assign(e, ast.Name(id=t, ctx=ast.Load()), scope, primal, items, node)
                return
            for e, v in zip(elts, value.elts):
                self.assign(e, v, scope, primal, items, node)
            return
        # unpack a list-valued expression: evaluate once, then index
        if isinstance(value, ast.Name):
            src = value
        else:
            t = "_seq#"
            scope.locals.add(t)
            scope.lists.add(t)
            if _expr_active(value, scope.active) or self.calls_user(value, scope):
                scope.active.add(t)
            self.assign_to_name(t, value, scope, primal, items, node)
            src = ast.Name(id=t, ctx=ast.Load())
        for k, e in enumerate(elts):
            sub = ast.Subscript(value=src, slice=ast.Constant(k), ctx=ast.Load())
            ast.copy_location(sub, node)
            self.assign(e, sub, scope, primal, items, node)

    def calls_user(self, node: ast.AST, scope: Scope) -> bool:
        """Does the expression call a function of the user's (to be inlined)?"""
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, ast.Call):
                obj = self.resolve_func(n.func, scope)
                if isinstance(obj, (types.FunctionType, ast.FunctionDef)) and not getattr(
                        obj, "__symgrad_constant__", False):
                    return True
            for v in n.__dict__.values():
                if isinstance(v, ast.AST):
                    stack.append(v)
                elif isinstance(v, list):
                    stack.extend(x for x in v if isinstance(x, ast.AST))
        return False

    def target_name(self, src: str, scope: Scope) -> tuple[str, bool]:
        """Generated name for an assignment to ``src``, and whether it is in place."""
        if self.depth == 0:
            g = self.names.own(src) if src not in scope.env else self.names.fresh(src)
            scope.env[src] = g
            return g, False
        if src not in scope.env:
            scope.env[src] = self.names.own(src)
        self.inplace_names.add(scope.env[src])
        return scope.env[src], True

    def assign_to_name(self, src: str, value: ast.expr, scope: Scope, primal: list[Any],
                       items: list[Item], node: ast.stmt, raw: bool = False) -> None:
        """``src = value``; with ``raw`` the name is already generated (return values)."""
        comment = self.comment_of(scope, node)
        ir = None
        callee = self.resolve_func(value.func, scope) if isinstance(value, ast.Call) else None
        if isinstance(callee, (types.FunctionType, ast.FunctionDef)) and not getattr(
                callee, "__symgrad_constant__", False):
            ir = self.conv(value, scope, primal, items)
            if isinstance(ir, Leaf) and isinstance(ir.node, ast.Name) \
                    and ir.node.id in self.list_vars:
                if raw:     # a helper returning the list another helper returned
                    raise self.err(scope, node, "returning a list received from a call",
                                   "build the list in the helper that returns it")
                scope.env[src] = ir.node.id         # the callee's fresh list: an alias
                scope.lists.add(src)
                if ir.active:
                    scope.active.add(src)
                return
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and value.func.attr == "pop" and not value.args and not value.keywords \
                and isinstance(value.func.value, ast.Name) and value.func.value.id in scope.env \
                and not raw:
            self.pop_assign(src, scope.env[value.func.value.id], scope, primal, items, node,
                            comment)
            return
        is_list = (not raw and src in scope.lists) or _is_list_expr(value, scope.lists)
        if is_list and ir is None:
            self.list_assign(src, value, scope, primal, items, node, comment, raw,
                             to_result=raw and scope.result is not None)
            return
        if ir is None:
            ir = self.conv(value, scope, primal, items)
        if raw:
            g, inplace = src, self.depth > 0
            if inplace:
                self.inplace_names.add(g)
        else:
            g, inplace = self.target_name(src, scope)
        active = getattr(ir, "active", False)
        item = Item("assign", comment, name=g, inplace=inplace)
        item.first_def = inplace and g not in self.dd and g not in self.maybe_dd \
            and not self.loops  # type: ignore
        item.active_target = raw or src in scope.active  # type: ignore[attr-defined]
        if active:
            mark = self.names.mark()
            item.recipe = self.recipe(ir, scope)
            uses_old = g in item.recipe.values
            if inplace and item.recipe.uses_out and uses_old:
                # the root reads its new value, its operands the old one: compute the
                # root's local adjoints before restoring the old value
                self.names.rollback(mark)
                _clear_temps(ir)      # their names were just handed back
                self.needed -= item.recipe.new_needed  # type: ignore[attr-defined]
                item.recipe = self.recipe(ir, scope, split_root=True)
                if any(item.recipe.out_ref in cg.names_in(e) and g in cg.names_in(e)
                       for _, e in item.recipe.lets):
                    self.hoist_root(ir, item.recipe)
                else:
                    item.split = True  # type: ignore[attr-defined]
                    item.recipe.out_node = cg.name(g)  # type: ignore[attr-defined]
            elif item.recipe.uses_out:
                item.recipe.out_node = cg.name(g)   # type: ignore[attr-defined]
                self.needed.add(g)
            item.restore_first = uses_old
        if inplace and getattr(node, "_symgrad_remat", False) and g not in self.loops[-1][
                "defined"] and isinstance(ir, (Idx, Leaf)):
            item.remat = cg.assign(g, code_of(ir))  # type: ignore[attr-defined]
            item.first_def = False  # type: ignore[attr-defined]
        elif inplace:
            primal.append(self.push_slot(g, item))
        if active:
            self.emit_hoisted(ir, item, primal)
        primal.append(cg.assign(g, code_of(ir)))
        item.assigned = {g}
        item.reads = self.recipe_reads(item.recipe)
        self.dd.add(g)
        items.append(item)

    def pop_assign(self, src: str, lst: str, scope: Scope, primal: list[Any],
                   items: list[Item], node: ast.stmt, comment: str) -> None:
        """``v = L.pop()``: the adjoint sweep pushes v (and its adjoint) back on L."""
        g, inplace = self.target_name(src, scope)
        item = Item("pop", comment, name=g, inplace=inplace)
        item.source_list = ("var", lst)
        item.active_list = lst in scope_active_names(scope)  # type: ignore[attr-defined]
        item.first_def = inplace and g not in self.dd and g not in self.maybe_dd \
            and not self.loops  # type: ignore
        if inplace:
            primal.append(self.push_slot(g, item))
        primal.append(cg.assign(g, cg.attr_call(lst, "pop")))
        item.assigned = {g, lst}
        item.reads = {lst} if item.active_list else set()  # type: ignore[attr-defined]
        self.dd.add(g)
        items.append(item)

    def push_slot(self, g: str, item: Item) -> Slot:
        """Before an in-place assignment: push the old value if the adjoint sweep reads it."""
        if g not in self.dd:
            self.maybe_preinit.append(g) if hasattr(self, "maybe_preinit") else None
            item.needs_preinit = True  # type: ignore[attr-defined]
        in_loop = bool(self.loops)
        defined = g in self.dd
        # known before this slot is resolved, so a branch flag resolved earlier sees it
        item.restore_if = lambda: g in self.needed and (defined or in_loop)  # type: ignore

        def resolve() -> list[ast.stmt]:
            if item.restore_if():  # type: ignore[attr-defined]
                item.restore = True
                self.uses_stack = True
                if not defined:
                    self.preinit.add(g)
                return [ast.Expr(cg.attr_call(self.stack, "append", cg.name(g)))]
            return []
        return Slot(resolve)

    def is_restored(self, item: Item) -> bool:
        return item.restore or bool(getattr(item, "restore_if", None) and item.restore_if())

    # ------------------------------------------------------------------ lists
    def list_assign(self, src: str, value: ast.expr, scope: Scope, primal: list[Any],
                    items: list[Item], node: ast.stmt, comment: str, raw: bool,
                    to_result: bool = False) -> None:
        if raw and not to_result:
            raise NonScalarError(f'File "{scope.fs.filename}", line {scope.fs.line(node)}: '
                                 "the function returns a list; symgrad differentiates functions "
                                 "that return one number.")
        item = Item("listdef", comment, is_list=True)
        push_at = None
        if isinstance(value, (ast.List, ast.Tuple)):
            elems = [self.conv(e, scope, primal, items) for e in value.elts]
            # the old list is pushed here, before the elements' saved temporaries: the
            # adjoint pops those first, then restores the list (as for an assignment)
            push_at = len(primal)
            for e in elems:
                if getattr(e, "active", False):
                    rec = self.recipe(e, scope)
                    item.elems.append(rec)    # before emit_hoisted, which gives it its refs
                    self.emit_hoisted(e, item, primal)
                else:
                    item.elems.append(None)
            code: ast.expr = (ast.List if isinstance(value, ast.List) else ast.Tuple)(
                elts=[code_of(e) for e in elems], ctx=ast.Load())
            depth = 1
        elif isinstance(value, ast.ListComp):
            self.list_comprehension(src, value, scope, primal, items, node)
            return
        elif isinstance(value, ast.Name) and value.id in scope.env and value.id in scope.active:
            other = scope.env[value.id]
            item.source_list = ("var", other)
            code = cg.name(other)
            depth = self.list_depth.get(other, 1)
        elif isinstance(value, ast.Subscript) and self.is_active_list_read(value, scope):
            ir = self.conv(value, scope, primal, items)
            assert isinstance(ir, Idx)
            item.source_list = ("elem", ir.base, ir.index)
            self.list_depth[ir.base] = max(self.list_depth.get(ir.base, 1), len(ir.index) + 1)
            code = code_of(ir)
            depth = 0
        else:
            if _expr_active(value, scope.active) or self.calls_user(value, scope):
                ir = self.conv(value, scope, primal, items)
                if not isinstance(ir, Leaf) or ir.active:
                    raise self.err(scope, node, "this list-valued expression",
                                   "build lists from literals, comprehensions or append()")
                code = code_of(ir)
            else:
                code = self.rename(value, scope)
            depth = 1
        if to_result:
            g, inplace = src, self.depth > 0
        else:
            g, inplace = self.target_name(src, scope)
        item.name, item.inplace = g, inplace
        self.list_depth[g] = depth
        self.list_vars.add(g)
        if inplace:
            item.restore = True
            self.uses_stack = True
            if g not in self.dd:
                self.preinit.add(g)
            push = ast.Expr(cg.attr_call(self.stack, "append", cg.name(g)))
            primal.insert(len(primal) if push_at is None else push_at, push)
        primal.append(cg.assign(g, code))
        item.assigned = {g}
        for r in item.elems:
            item.reads |= self.recipe_reads(r)
        if item.source_list:
            item.reads.add(item.source_list[1])
            self.needed.add(item.source_list[1])
            if item.source_list[0] == "elem":
                self.needed |= set().union(*(cg.names_in(i) for i in item.source_list[2]))
        self.dd.add(g)
        items.append(item)

    def is_active_list_read(self, node: ast.Subscript, scope: Scope) -> bool:
        base = node
        while isinstance(base, ast.Subscript):
            base = base.value
        return isinstance(base, ast.Name) and base.id in scope.active and base.id in scope.env

    def list_comprehension(self, src: str, comp: ast.ListComp, scope: Scope,
                           primal: list[Any], items: list[Item], node: ast.stmt) -> None:
        """``src = [e for v in it if c]`` as ``src = []`` and a loop of appends."""
        empty = ast.copy_location(ast.Assign(targets=[ast.Name(id=src, ctx=ast.Store())],
                                             value=ast.List(elts=[], ctx=ast.Load())), node)
        renamed, loop = self.comprehension_loop(comp.generators, comp.elt, scope, node,
                                                lambda elt: _append_stmt(src, elt, node))
        scope.lists.add(src)
        if _expr_active(comp.elt, scope.active | set(renamed)) or self.calls_user(comp.elt,
                                                                                   scope):
            scope.active.add(src)
        self.assign_to_name(src, empty.value, scope, primal, items, empty)
        analyze([loop], scope.active, scope.lists)
        self.stmt(loop, scope, primal, items)

    def comprehension_loop(self, generators: list[ast.comprehension], elt: ast.expr,
                           scope: Scope, node: ast.AST, make_body: Callable[[ast.expr], ast.stmt]
                           ) -> tuple[dict[str, str], ast.stmt]:
        """Nested for/if statements equivalent to a comprehension (its names made private)."""
        renamed: dict[str, str] = {}
        for gen in generators:
            if gen.is_async:
                raise self.err(scope, node, "an async comprehension", "use a plain loop")
            for n in _target_names(gen.target):
                renamed[n] = f"{n}#c{self.new_ref()}"
        for k in renamed.values():
            scope.locals.add(k)

        def ren(e: ast.AST) -> Any:
            class R(ast.NodeTransformer):
                def visit_Name(self, n: ast.Name) -> Any:
                    if n.id in renamed:
                        return ast.copy_location(ast.Name(id=renamed[n.id], ctx=n.ctx), n)
                    return n
            return R().visit(cg.copy_expr(e))

        body: ast.stmt = make_body(ren(elt))
        for gen in reversed(generators):
            for cond in reversed(gen.ifs):
                body = ast.copy_location(ast.If(test=ren(cond), body=[body], orelse=[]), node)
            body = ast.copy_location(ast.For(target=ren(gen.target), iter=ren(gen.iter),
                                             body=[body], orelse=[]), node)
        return renamed, body

    def assign_elem(self, target: ast.Subscript, value: ast.expr, scope: Scope,
                    primal: list[Any], items: list[Item], node: ast.stmt) -> None:
        comment = self.comment_of(scope, node)
        base, index = self.split_subscript(target, scope, node)
        ir = self.conv(value, scope, primal, items)
        item = Item("elem", comment, name=base, index=index, inplace=True)
        if getattr(ir, "active", False) and base not in scope_active_names(scope):
            raise self.err(scope, node, "writing a differentiable value into a list that "
                           "does not depend on the inputs",
                           "build the list inside the function (e.g. h = [0.0] * n)")
        tgt_code = subscript(cg.name(base), index)
        if getattr(ir, "active", False):
            item.recipe = self.recipe(ir, scope)
            uses_old = base in item.recipe.values
            if item.recipe.uses_out and uses_old:
                self.hoist_root(ir, item.recipe)
            elif item.recipe.uses_out:
                item.recipe.out_node = tgt_code  # type: ignore[attr-defined]
                self.needed.add(base)
            item.restore_first = uses_old
        self.uses_stack = True
        item.restore = True
        primal.append(ast.Expr(cg.attr_call(self.stack, "append", cg.copy_expr(tgt_code))))
        if getattr(ir, "active", False):
            self.emit_hoisted(ir, item, primal)
        primal.append(ast.Assign(targets=[cg.store(tgt_code)], value=code_of(ir), lineno=0))
        item.reads = self.recipe_reads(item.recipe) | {base}
        item.assigned = {base}
        for i in index:
            self.needed |= cg.names_in(i)
        items.append(item)

    def split_subscript(self, node: ast.Subscript, scope: Scope, where: ast.AST
                        ) -> tuple[str, list[ast.expr]]:
        index: list[ast.expr] = []
        cur: ast.expr = node
        while isinstance(cur, ast.Subscript):
            if isinstance(cur.slice, ast.Slice):
                raise self.err(scope, where, "a slice of a differentiated list",
                               "index single elements (xs[i]) or loop over the list")
            index.insert(0, self.rename(cur.slice, scope))
            cur = cur.value
        if not isinstance(cur, ast.Name) or cur.id not in scope.env:
            raise self.err(scope, where, "a subscript of " + _construct_name(cur),
                           "index a list held in a local variable or parameter")
        return scope.env[cur.id], index

    # ------------------------------------------------------------------ expression statements
    def expr_stmt(self, s: ast.Expr, scope: Scope, primal: list[Any], items: list[Item]) -> None:
        v = s.value
        if isinstance(v, ast.Constant):
            return  # docstring or bare constant
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) \
                and isinstance(v.func.value, ast.Name) and v.func.value.id in scope.env:
            method = v.func.attr
            lst = v.func.value.id
            if method == "pop" and not v.args and not v.keywords:
                primal.append(cg.comment(self.comment_of(scope, s)))
                tmp = f"_popped#{self.new_ref()}"
                scope.locals.add(tmp)
                self.pop_assign(tmp, scope.env[lst], scope, primal, items, s,
                                self.comment_of(scope, s))
                return
            if method == "append" and len(v.args) == 1 and not v.keywords:
                primal.append(cg.comment(self.comment_of(scope, s)))
                self.do_append(scope.env[lst], v.args[0], scope, primal, items, s)
                return
            raise self.err(scope, s, f"the list method .{method}()",
                           "symgrad supports .append(); build a new list instead of "
                           "extend/insert/pop/sort")
        if _expr_active(v, scope.active) or self.calls_user(v, scope):
            if isinstance(v, ast.Call):
                obj = self.resolve_func(v.func, scope)
                if isinstance(obj, (types.FunctionType, ast.FunctionDef)):
                    primal.append(cg.comment(self.comment_of(scope, s)))
                    self.conv(v, scope, primal, items)
                    return
            raise self.err(scope, s, "an expression statement that uses the inputs",
                           "assign the value to a variable")
        primal.append(ast.Expr(self.rename(v, scope)))

    def do_append(self, g: str, value: ast.expr, scope: Scope, primal: list[Any],
                  items: list[Item], node: ast.stmt) -> None:
        ir = self.conv(value, scope, primal, items)
        item = Item("append", self.comment_of(scope, node), name=g, inplace=True, is_list=True)
        if getattr(ir, "active", False):
            item.recipe = self.recipe(ir, scope)
            if item.recipe.uses_out:
                item.out_temp = self.names.fresh("_t", numbered=True)
                item.recipe.out_node = cg.name(item.out_temp)  # type: ignore[attr-defined]
            self.emit_hoisted(ir, item, primal)
        primal.append(ast.Expr(cg.attr_call(g, "append", code_of(ir))))
        item.active_list = g in scope_active_names(scope)  # type: ignore[attr-defined]
        item.reads = self.recipe_reads(item.recipe) | ({g} if item.active_list else set())
        item.assigned = {g}
        items.append(item)

    # ------------------------------------------------------------------ if
    def do_if(self, s: ast.If, scope: Scope, primal: list[Any], items: list[Item]) -> None:
        comment = self.comment_of(scope, s)
        primal.append(cg.comment(comment))
        test = self.condition(s.test, scope, primal, items)
        self.depth += 1
        dd0 = set(self.dd)
        body_p, body_i = self.block(s.body, scope)
        dd1, self.dd = self.dd, set(dd0)
        else_p, else_i = self.block(s.orelse, scope)
        self.maybe_dd |= dd1 | self.dd
        self.dd = dd1 & self.dd
        self.depth -= 1
        item = Item("if", comment, body=body_i, orelse=else_i)
        for it in body_i + else_i:
            item.reads |= it.reads
            item.assigned |= it.assigned
        popped = _popped_list(test)
        if popped is not None:          # `if tape.pop():` -- undo the pop in the adjoint
            item.cond_pop = (popped[0], popped[1],  # type: ignore[attr-defined]
                             popped[0] in scope_active_names(scope))
            item.assigned.add(popped[0])
            if item.cond_pop[2]:  # type: ignore[attr-defined]
                item.reads.add(popped[0])
        elif any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr in ("pop", "append", "insert", "extend") for n in ast.walk(test)):
            raise self.err(scope, s, "a condition that changes a list",
                           "change the list in a statement before the if")

        def flag(value: bool) -> Slot:
            def resolve() -> list[ast.stmt]:
                if item.has_backward(self):
                    self.uses_stack = True
                    return [ast.Expr(cg.attr_call(self.stack, "append", ast.Constant(value)))]
                return []
            return Slot(resolve)

        _append_flag(body_p, flag(True))
        _append_flag(else_p, flag(False))
        primal.append(ast.If(test=test, body=body_p, orelse=else_p))
        items.append(item)

    def condition(self, test: ast.expr, scope: Scope, primal: list[Any], items: list[Item]
                  ) -> ast.expr:
        """A condition only steers: it is evaluated as written (helpers called, not inlined)."""
        for n in ast.walk(test):
            if isinstance(n, ast.Call) and isinstance(self.resolve_func(n.func, scope),
                                                      ast.FunctionDef):
                raise self.err(scope, n, "a call to a nested helper inside a condition",
                               "compute the value in a statement before the if/while")
        return self.rename(test, scope)

    # ------------------------------------------------------------------ loops
    def do_for(self, s: ast.For, scope: Scope, primal: list[Any], items: list[Item]) -> None:
        if s.orelse:
            raise self.err(scope, s, "a for ... else loop",
                           "use a flag variable set before break")
        comment = self.comment_of(scope, s)
        primal.append(cg.comment(comment))
        body = list(s.body)
        target = s.target
        it = s.iter
        view = self.seq_view(it, scope)
        if view is not None:          # loop over a differentiated list: loop over indices
            k_src: str
            if (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                    and it.func.id == "enumerate" and isinstance(target, ast.Tuple)
                    and isinstance(target.elts[0], ast.Name) and len(it.args) == 1
                    and not it.keywords):
                k_src = target.elts[0].id
                target = target.elts[1]
                view = self.seq_view(it.args[0], scope)
                assert view is not None
            else:
                k_src = f"_k#{self.new_ref()}"
                scope.locals.add(k_src)
            k_name = ast.Name(id=k_src, ctx=ast.Load())
            length, getter = view
            unpack = []
            for tgt, val in _bind(target, getter(k_name)):
                a = ast.Assign(targets=[tgt], value=val)
                ast.copy_location(a, s)
                a.value = _locate(a.value, s)
                unpack.append(a)
            for a in unpack:
                a._symgrad_remat = True     # recomputed in the adjoint loop, never saved
                a.end_lineno = a.lineno
                for n in _target_names(a.targets[0]):
                    scope.active.add(n) if _expr_active(a.value, scope.active) else None
            analyze(unpack + body, scope.active, scope.lists)
            iter_node = ast.Call(func=ast.Name(id="range", ctx=ast.Load()), args=[length],
                                 keywords=[])
            target = ast.Name(id=k_src, ctx=ast.Store())
            body = unpack + body
            self.loop(s, scope, primal, items, comment, target, iter_node, body, marks=unpack)
            return
        self.loop(s, scope, primal, items, comment, target, it, body)

    def seq_view(self, node: ast.expr, scope: Scope
                 ) -> tuple[ast.expr, Callable[[ast.expr], ast.expr]] | None:
        """(length, element getter) when iterating ``node`` reads a differentiated list."""
        def L(n: ast.expr) -> ast.expr:
            return ast.Call(func=ast.Name(id="len", ctx=ast.Load()), args=[n], keywords=[])

        if isinstance(node, ast.Name) and node.id in scope.active and node.id in scope.env:
            return L(node), lambda k: ast.Subscript(value=node, slice=k, ctx=ast.Load())
        if isinstance(node, ast.Subscript) and self.is_active_list_read(node, scope) \
                and not isinstance(node.slice, ast.Slice):
            return L(node), lambda k: ast.Subscript(value=node, slice=k, ctx=ast.Load())
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            fname = node.func.id
            if fname in scope.env or fname in scope.local_funcs:
                return None
            sub = [self.seq_view(a, scope) for a in node.args]
            if fname == "zip" and any(v is not None for v in sub):
                views = [v if v is not None else self.plain_view(a)
                         for v, a in zip(sub, node.args)]
                length = views[0][0] if len(views) == 1 else ast.Call(
                    func=ast.Name(id="min", ctx=ast.Load()), args=[v[0] for v in views],
                    keywords=[])
                return length, lambda k: ast.Tuple(elts=[v[1](k) for v in views],
                                                   ctx=ast.Load())
            if fname == "enumerate" and len(node.args) == 1 and sub[0] is not None:
                length, get = sub[0]
                return length, lambda k: ast.Tuple(elts=[k, get(k)], ctx=ast.Load())
            if fname == "reversed" and len(node.args) == 1 and sub[0] is not None:
                length, get = sub[0]
                return length, lambda k: get(ast.BinOp(
                    ast.BinOp(cg.copy_expr(length), ast.Sub(), ast.Constant(1)), ast.Sub(), k))
        return None

    def plain_view(self, node: ast.expr) -> tuple[ast.expr, Callable[[ast.expr], ast.expr]]:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "range":
            seq = node
        else:
            seq = ast.Call(func=ast.Name(id="list", ctx=ast.Load()), args=[node], keywords=[])
        return (ast.Call(func=ast.Name(id="len", ctx=ast.Load()), args=[seq], keywords=[]),
                lambda k: ast.Subscript(value=seq, slice=k, ctx=ast.Load()))

    def loop(self, s: ast.stmt, scope: Scope, primal: list[Any], items: list[Item],
             comment: str, target: ast.expr | None, iter_node: ast.expr | None,
             body: list[ast.stmt], marks: list[ast.stmt] = ()) -> None:
        is_while = target is None
        has_break = any(isinstance(n, ast.Break) for n in _loop_own_nodes(body))
        if not is_while:
            tnames = _target_names(target)
            if any(n in scope.active for n in tnames) and not marks:
                raise self.err(scope, s, "a loop over differentiated values in this form",
                               "loop over range(len(xs)) and index the list")
            iter_code = self.rename(iter_node, scope)
            # loop target: assigned in place at the loop's own level
            gen_targets = {}
            for n in tnames:
                if n not in scope.env:
                    scope.env[n] = self.names.own(n)
                gen_targets[n] = scope.env[n]
            tgt_code = self.rename(target, scope, store=True)
        lp = {"scope": scope, "defined": set(self.dd)}
        self.loops.append(lp)
        self.depth += 1
        counter = None
        if is_while or has_break:
            counter = self.names.fresh("_n", numbered=True)
        body_p, body_i = self.block(body, scope)
        self.depth -= 1
        self.loops.pop()
        item = Item("while" if is_while else "for", comment, body=body_i)
        for it in body_i:
            item.reads |= it.reads
            item.assigned |= it.assigned
        modified = item.assigned
        in_outer_loop = bool(self.loops)
        save: list[str] = []       # names pushed after the loop (when nested in a loop)
        if counter:
            primal.append(cg.assign(counter, ast.Constant(0)))
            body_p.insert(0, ast.AugAssign(target=cg.name(counter, ast.Store()), op=ast.Add(),
                                           value=ast.Constant(1)))
            save.append(counter)
        if not is_while:
            free = cg.names_in(iter_code)
            reversible = isinstance(iter_code, (ast.Name, ast.Subscript, ast.List,
                                                ast.Tuple)) or (
                isinstance(iter_code, ast.Call) and isinstance(iter_code.func, ast.Name)
                and iter_code.func.id in ("range", "list", "tuple", "sorted")
                and self.ns.get(iter_code.func.id) is None)
            stable = reversible and not (free & (modified | set(gen_targets.values())))
            if not stable:
                it_name = self.names.fresh("_iter", numbered=True)
                is_range = isinstance(iter_code, ast.Call) and isinstance(
                    iter_code.func, ast.Name) and iter_code.func.id == "range"
                primal.append(cg.assign(it_name, iter_code if is_range else
                                        cg.call("list", iter_code)))
                iter_code = cg.name(it_name)
                save.append(it_name)
            else:
                self.needed |= free
            primal.append(ast.For(target=tgt_code, iter=iter_code, body=body_p, orelse=[],
                                  lineno=0))
            back_iter = cg.copy_expr(iter_code)
            if counter:
                back_iter = ast.Subscript(value=back_iter, slice=ast.Slice(
                    upper=cg.name(counter)), ctx=ast.Load())
            back_iter = cg.call("reversed", back_iter)
            item.header = lambda t=tgt_code, b=back_iter: ast.For(
                target=cg.copy_expr(t), iter=b, body=[], orelse=[], lineno=0)
        else:
            test = self.condition(s.test, scope, primal, items)
            primal.append(ast.While(test=test, body=body_p, orelse=[]))
            item.header = lambda c=counter: ast.For(
                target=cg.name("_", ast.Store()), iter=cg.call("range", cg.name(c)),
                body=[], orelse=[], lineno=0)

        def post() -> list[ast.stmt]:
            if not item.has_backward(self) or not in_outer_loop:
                return []
            self.uses_stack = True
            return [ast.Expr(cg.attr_call(self.stack, "append", cg.name(n))) for n in save]
        primal.append(Slot(post))
        item.pre = [(n, in_outer_loop) for n in reversed(save)]
        items.append(item)

    def do_while(self, s: ast.While, scope: Scope, primal: list[Any], items: list[Item]
                 ) -> None:
        if s.orelse:
            raise self.err(scope, s, "a while ... else loop",
                           "use a flag variable set before break")
        comment = self.comment_of(scope, s)
        primal.append(cg.comment(comment))
        self.loop(s, scope, primal, items, comment, None, None, list(s.body))

    # ------------------------------------------------------------------ expressions -> IR
    def rename(self, node: ast.expr, scope: Scope, store: bool = False) -> ast.expr:
        """Copy of an inactive expression in generated names (globals bound in the namespace)."""
        def go(n: Any) -> Any:
            if isinstance(n, list):
                return [go(x) for x in n]
            if not isinstance(n, ast.AST):
                return n
            if isinstance(n, ast.Name):
                new = ast.Name(id=self.name_ref(n.id, scope, n), ctx=n.ctx)
                return ast.copy_location(new, n)
            if isinstance(n, ast.Lambda):
                raise self.err(scope, n, "a lambda expression",
                               "define the helper with def at module level")
            if isinstance(n, ast.NamedExpr):
                raise self.err(scope, n, "an assignment expression (:=)",
                               "assign in a separate statement")
            if isinstance(n, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
                return self.inactive_comprehension(n, scope)
            new = n.__class__.__new__(n.__class__)
            for key, value in n.__dict__.items():
                new.__dict__[key] = go(value) if isinstance(value, (ast.AST, list)) else value
            return new
        return go(node)

    def inactive_comprehension(self, n: Any, scope: Scope) -> ast.expr:
        tr = self

        class R(ast.NodeTransformer):
            bound: frozenset = frozenset()   # comprehension variables in scope here

            def visit_Name(self, m: ast.Name) -> Any:
                if m.id in self.bound:
                    return m
                return ast.copy_location(ast.Name(id=tr.name_ref(m.id, scope, m), ctx=m.ctx), m)

            def visit_comp(self, m: Any) -> Any:
                # nested comprehensions too: each binds its own variables
                outer = self.bound
                m.generators[0].iter = self.visit(m.generators[0].iter)  # evaluated outside
                names = {x for g in m.generators for x in _target_names(g.target)}
                tr.names.used.update(names)
                self.bound = outer | names
                for k, g in enumerate(m.generators):
                    if k:
                        g.iter = self.visit(g.iter)
                    g.ifs = [self.visit(c) for c in g.ifs]
                for f in ("elt", "key", "value"):
                    if hasattr(m, f):
                        setattr(m, f, self.visit(getattr(m, f)))
                self.bound = outer
                return m
            visit_ListComp = visit_GeneratorExp = visit_SetComp = visit_DictComp = visit_comp
        return R().visit(cg.copy_expr(n))

    def is_local(self, name: str, scope: Scope) -> bool:
        s: Scope | None = scope
        while s is not None:
            if name in s.locals or name in s.env:
                return True
            s = s.parent
        return False

    def name_ref(self, name: str, scope: Scope, node: ast.AST) -> str:
        s: Scope | None = scope
        while s is not None:
            if name in s.env:
                return s.env[name]
            if name in s.locals:
                return name.split("#")[0]   # read before assignment: Python raises as usual
            s = s.parent
        obj = scope.fs.resolve(ast.Name(id=name, ctx=ast.Load()))
        if obj is MISSING:
            raise self.err(scope, node, f"the undefined name {name!r}",
                           "define it before the function is differentiated")
        if getattr(builtins, name, MISSING) is obj:
            return name
        return self.bind_global(name, obj)

    def resolve_func(self, func: ast.expr, scope: Scope) -> Any:
        if isinstance(func, ast.Name):
            s: Scope | None = scope
            while s is not None:
                if func.id in s.local_funcs:
                    return s.local_funcs[func.id]
                if func.id in s.env or func.id in s.locals:
                    return MISSING
                s = s.parent
        if isinstance(func, ast.Attribute):
            root = func
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and self.is_local(root.id, scope):
                return MISSING
        return scope.fs.resolve(func)

    def conv(self, node: ast.expr, scope: Scope, primal: list[Any], items: list[Item],
             allow_active_compare: bool = False) -> Any:
        """Python expression -> IR (emitting inlined calls before it)."""
        if not (_expr_active(node, scope.active) or self.calls_user(node, scope)):
            return Leaf(self.rename(node, scope))
        if isinstance(node, ast.Name):
            g = self.name_ref(node.id, scope, node)
            if node.id in scope.lists:
                raise self.err(scope, node, f"the list {node.id!r} used as a number",
                               "index it (xs[i]) or sum it (sum(xs))")
            return Leaf(cg.name(g), g, True)
        if isinstance(node, ast.Constant):
            return Leaf(cg.copy_expr(node))
        if isinstance(node, ast.BinOp):
            op = _BINOP_RULES.get(type(node.op))
            if op is None:
                raise self.err(scope, node, f"the operator {type(node.op).__name__}",
                               "use + - * / ** // %")
            a = self.conv(node.left, scope, primal, items)
            b = self.conv(node.right, scope, primal, items)
            return self.mkop(op, [a, b], "op")
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.UAdd):
                return self.conv(node.operand, scope, primal, items)
            if isinstance(node.op, ast.USub):
                return self.mkop("neg", [self.conv(node.operand, scope, primal, items)], "op")
            raise self.err(scope, node, "the operator " + type(node.op).__name__,
                           "use arithmetic operators on differentiated values")
        if isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):
                raise self.err(scope, node, "a slice of a differentiated list",
                               "index single elements or loop over the list")
            base, index = self.split_subscript(node, scope, node)
            return Idx(base, index)
        if isinstance(node, ast.Call):
            return self.conv_call(node, scope, primal, items)
        if isinstance(node, ast.IfExp):
            t = f"_ifexp#{self.new_ref()}"
            scope.locals.add(t)
            scope.active.add(t)
            stmt = ast.copy_location(ast.If(
                test=node.test,
                body=[ast.copy_location(ast.Assign(targets=[ast.Name(id=t, ctx=ast.Store())],
                                                   value=node.body), node)],
                orelse=[ast.copy_location(ast.Assign(targets=[ast.Name(id=t, ctx=ast.Store())],
                                                     value=node.orelse), node)]), node)
            self.stmt(stmt, scope, primal, items)
            g = scope.env[t]
            return Leaf(cg.name(g), g, True)
        if isinstance(node, (ast.Compare, ast.BoolOp)) and allow_active_compare:
            return Leaf(self.rename(node, scope))
        if isinstance(node, ast.BoolOp):
            raise self.err(scope, node, "and/or used as a value",
                           "use an if statement or a conditional expression (a if c else b)")
        raise self.err(scope, node, _construct_name(node), "write it with + - * / ** and math "
                       "functions, or compute it outside the differentiated function")

    def mkop(self, rule: str, args: list[Any], flavor: str) -> Any:
        active = any(getattr(a, "active", False) for a in args)
        if not active:
            return Leaf(cg.primitive_call(rule, flavor, [code_of(a) for a in args]))
        return Op(rule, args, flavor)

    def conv_call(self, node: ast.Call, scope: Scope, primal: list[Any], items: list[Item]
                  ) -> Any:
        obj = self.resolve_func(node.func, scope)
        fname = ast.unparse(node.func)
        if isinstance(obj, ast.FunctionDef):
            return self.inline(obj, None, node, scope, primal, items)
        if isinstance(obj, types.FunctionType) and rules.lookup_callable(obj) is None \
                and not hasattr(obj, "__symgrad_apply__") \
                and not getattr(obj, "__symgrad_constant__", False):
            if not any(_expr_active(a, scope.active) or self.calls_user(a, scope)
                       for a in node.args + [k.value for k in node.keywords]):
                return Leaf(self.rename(node, scope))   # nothing to differentiate: call it
            return self.inline(None, obj, node, scope, primal, items)
        if hasattr(obj, "__symgrad_generated__"):
            return self.inline(None, obj.__symgrad_generated__, node, scope, primal, items)
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            raise self.err(scope, node, f"a starred argument in the call to {fname}",
                           "pass arguments one by one")
        if obj in (builtins.max, builtins.min) and len(node.args) == 1:
            return self.conv_reduce(node, obj.__name__, scope, primal, items)
        info = rules.lookup_callable(obj) if obj is not MISSING else None
        if info is not None:
            if node.keywords:
                raise self.err(scope, node, f"keyword arguments to {fname}",
                               "pass the arguments positionally")
            args = [self.conv(a, scope, primal, items) for a in node.args]
            return self.primitive(info, args, node, scope, fname)
        if obj is builtins.float:
            if len(node.args) != 1:
                raise self.err(scope, node, "float() without one argument", "float(x)")
            return self.conv(node.args[0], scope, primal, items)
        if obj is builtins.sum:
            return self.conv_sum(node, scope, primal, items)
        if obj in (builtins.max, builtins.min) and len(node.args) == 1:
            return self.conv_reduce(node, obj.__name__, scope, primal, items)
        if obj in _CONSTANT_CALLS or getattr(obj, "__symgrad_constant__", False) or (
                obj is not MISSING and getattr(obj, "__module__", "") in ("random",)):
            return Leaf(self.rename(node, scope))
        if obj is MISSING and isinstance(node.func, ast.Attribute):
            raise self.err(scope, node, f"the method call {fname}(...)",
                           "symgrad supports list.append() as a statement; use indexing "
                           "instead of pop/insert/extend (note: second derivatives of loops "
                           "whose gradient saves values on the tape are not supported)")
        if obj is MISSING:
            raise self.err(scope, node, f"the call {fname}(...)",
                           "call a function defined at module level or inside this function")
        raise NonDifferentiableError(
            f'File "{scope.fs.filename}", line {scope.fs.line(node)}, column '
            f"{node.col_offset + 1 + scope.fs.col_offset}: symgrad has no derivative rule for "
            f"{fname} (called with values that depend on the inputs).\n    "
            f"{scope.fs.text(node).strip()}\n  hint: use a math/numpy function symgrad knows, "
            "write it in Python, or register a rule with symgrad.register_rule.")

    def primitive(self, info: rules.CallInfo, args: list[Any], node: ast.Call, scope: Scope,
                  fname: str) -> Any:
        rule = info.rule
        flavor = info.flavor
        if rule == "log" and len(args) == 2:     # log(x, base) = log(x) / log(base)
            return self.mkop("truediv", [self.mkop("log", [args[0]], flavor),
                                         self.mkop("log", [args[1]], flavor)], "op")
        if rule in ("max", "min") and len(args) > 2:
            acc = args[0]
            for a in args[1:]:
                acc = self.mkop(rule, [acc, a], flavor)
            return acc
        if rule == "pow" and flavor == "builtin" and len(args) == 2:
            return self.mkop("pow", args, "op")
        want = rules.RULES[rule].nargs
        if len(args) != want:
            raise self.err(scope, node, f"{fname} with {len(args)} arguments",
                           f"call it with {want}")
        if flavor == "numpy":
            self.bind_global("np", __import__("numpy"))
        if flavor == "helper" or (flavor == "math" and not rules.RULES[rule].math_name):
            self.helpers.add(rule)
            flavor = "helper"
        return self.mkop(rule, args, flavor)

    def conv_sum(self, node: ast.Call, scope: Scope, primal: list[Any], items: list[Item]
                 ) -> Any:
        if node.keywords or not 1 <= len(node.args) <= 2:
            raise self.err(scope, node, "this form of sum()", "sum(xs) or sum(xs, start)")
        arg = node.args[0]
        acc = f"_sum#{self.new_ref()}"
        scope.locals.add(acc)
        scope.active.add(acc)
        start = node.args[1] if len(node.args) == 2 else ast.Constant(0)
        init = ast.copy_location(ast.Assign(targets=[ast.Name(id=acc, ctx=ast.Store())],
                                            value=start), node)

        def add(elt: ast.expr) -> ast.stmt:
            return ast.copy_location(ast.Assign(
                targets=[ast.Name(id=acc, ctx=ast.Store())],
                value=_locate(ast.BinOp(ast.Name(id=acc, ctx=ast.Load()), ast.Add(), elt), node)),
                node)
        if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
            _, loop = self.comprehension_loop(arg.generators, arg.elt, scope, node, add)
        else:
            v = f"_v#{self.new_ref()}"
            scope.locals.add(v)
            loop = ast.copy_location(ast.For(target=ast.Name(id=v, ctx=ast.Store()), iter=arg,
                                              body=[add(ast.Name(id=v, ctx=ast.Load()))],
                                              orelse=[]), node)
        self.assign_to_name(acc, start, scope, primal, items, init)
        analyze([loop], scope.active, scope.lists)
        self.stmt(loop, scope, primal, items)
        g = scope.env[acc]
        return Leaf(cg.name(g), g, True)

    def conv_reduce(self, node: ast.Call, which: str, scope: Scope, primal: list[Any],
                    items: list[Item]) -> Any:
        arg = node.args[0]
        acc = f"_{which}#{self.new_ref()}"
        v = f"_v#{self.new_ref()}"
        scope.locals |= {acc, v}
        scope.active.add(acc)
        first = ast.Subscript(value=arg, slice=ast.Constant(0), ctx=ast.Load())
        init = ast.copy_location(ast.Assign(targets=[ast.Name(id=acc, ctx=ast.Store())],
                                            value=_locate(first, node)), node)
        rest = ast.Subscript(value=arg, slice=ast.Slice(lower=ast.Constant(1)), ctx=ast.Load())
        step = ast.copy_location(ast.Assign(
            targets=[ast.Name(id=acc, ctx=ast.Store())],
            value=_locate(ast.Call(func=ast.Name(id=which, ctx=ast.Load()),
                                   args=[ast.Name(id=acc, ctx=ast.Load()),
                                         ast.Name(id=v, ctx=ast.Load())], keywords=[]), node)),
            node)
        if not isinstance(arg, ast.Name):
            raise self.err(scope, node, f"{which}() of this expression",
                           f"store the list in a variable first: {which}(xs)")
        k = f"_k#{self.new_ref()}"
        scope.locals.add(k)
        loop = ast.copy_location(ast.For(
            target=ast.Name(id=k, ctx=ast.Store()),
            iter=_locate(ast.Call(func=ast.Name(id="range", ctx=ast.Load()),
                                  args=[ast.Constant(1), ast.Call(
                                      func=ast.Name(id="len", ctx=ast.Load()), args=[arg],
                                      keywords=[])], keywords=[]), node),
            body=[ast.copy_location(ast.Assign(
                targets=[ast.Name(id=acc, ctx=ast.Store())],
                value=_locate(ast.Call(func=ast.Name(id=which, ctx=ast.Load()), args=[
                    ast.Name(id=acc, ctx=ast.Load()),
                    ast.Subscript(value=arg, slice=ast.Name(id=k, ctx=ast.Load()),
                                  ctx=ast.Load())], keywords=[]), node)), node)],
            orelse=[]), node)
        del rest, step, v
        self.assign(ast.Name(id=acc, ctx=ast.Store()), init.value, scope, primal, items, init)
        analyze([loop], scope.active, scope.lists)
        self.stmt(loop, scope, primal, items)
        g = scope.env[acc]
        return Leaf(cg.name(g), g, True)

    # ------------------------------------------------------------------ inlining
    def inline(self, fdef: ast.FunctionDef | None, fn: Any, node: ast.Call, scope: Scope,
               primal: list[Any], items: list[Item]) -> Any:
        if fdef is not None:
            fs = scope.fs
            parent = scope
            key: Any = fdef
            tree = cg.copy_expr(fdef)
            label = fdef.name
        else:
            fs = get_source(fn)
            parent = None
            key = fn.__code__
            tree = cg.copy_expr(fs.tree)
            label = fn.__name__
        if key in self.inlining:
            raise self.err(scope, node, f"the recursive call to {label}",
                           "rewrite the recursion as a loop")
        a = tree.args
        if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs:
            raise self.err(scope, node, f"a call to {label}, which takes *args, **kwargs or "
                           "keyword-only parameters", "give the helper plain parameters")
        params = [p.arg for p in a.args]
        defaults = dict(zip(params[len(params) - len(a.defaults):], a.defaults))
        if fn is not None and fn.__defaults__:
            defaults = {p: ast.Constant(v) if isinstance(v, (int, float)) else
                        ("__obj__", v)
                        for p, v in zip(params[len(params) - len(fn.__defaults__):],
                                        fn.__defaults__)}
        if any(isinstance(x, ast.Starred) for x in node.args) or any(
                k.arg is None for k in node.keywords):
            raise self.err(scope, node, f"a starred argument in the call to {label}",
                           "pass arguments one by one")
        if len(node.args) > len(params):
            raise self.err(scope, node, f"a call to {label} with too many arguments",
                           f"{label} takes {len(params)}")
        bound: dict[str, Any] = dict(zip(params, node.args))
        for k in node.keywords:
            if k.arg not in params or k.arg in bound:
                raise self.err(scope, node, f"the keyword argument {k.arg!r} to {label}",
                               "check the helper's parameter names")
            bound[k.arg] = k.value
        body = restructure(self.desugar_block(tree.body, fs))
        assigned = _assigned_names(body)
        callee = Scope(fs, {}, set(params) | assigned, set(), set(), parent=parent,
                       label=label)
        result_src = f"{label}#result"
        callee.result = self.names.fresh(f"_{label}" if label.startswith("_") else label)
        self.names.used.add(callee.result)
        callee.entry_depth = self.depth
        primal.append(cg.comment(f"inlined {ast.unparse(node)}:"))
        binds: list[tuple[str, Any]] = []
        for p in params:
            if p in bound:
                arg = bound[p]
            elif p in defaults:
                arg = defaults[p]
            else:
                raise self.err(scope, node, f"a call to {label} without argument {p!r}",
                               f"pass every parameter of {label}")
            binds.append((p, arg))
        # parameters: alias plain names, otherwise assign
        for p, arg in binds:
            if isinstance(arg, tuple):
                callee.env[p] = self.bind_global(p, arg[1])
                continue
            if isinstance(arg, ast.Name) and p not in assigned and self.is_local(arg.id, scope):
                callee.env[p] = self.name_ref(arg.id, scope, arg)
                if arg.id in scope.active:
                    callee.active.add(p)
                if arg.id in scope.lists:
                    callee.lists.add(p)
                continue
            if _is_list_expr(arg, scope.lists):
                callee.lists.add(p)
            if _expr_active(arg, scope.active) or self.calls_user(arg, scope):
                callee.active.add(p)
            ir_scope = scope

            # evaluate the argument in the caller, bind it in the callee
            ir = self.conv(arg, ir_scope, primal, items) if p not in callee.lists else None
            if ir is None:
                src_name = f"{p}#arg"
                scope.locals.add(src_name)
                scope.lists.add(src_name)
                if p in callee.active:
                    scope.active.add(src_name)
                self.assign_to_name(src_name, arg, scope, primal, items, _stmt_at(node))
                callee.env[p] = scope.env[src_name]
                continue
            g = self.names.own(p) if self.depth == 0 else self.names.own(p)
            callee.env[p] = g
            if self.depth > 0:     # rebound on every call in a loop or branch: its adjoint
                self.inplace_names.add(g)   # is reset, so nothing may read it later
            fake = _stmt_at(node)
            item = Item("assign", f"({label}) {p} = {ast.unparse(arg)}", name=g,
                        inplace=self.depth > 0)
            if getattr(ir, "active", False):
                item.recipe = self.recipe(ir, scope)
                if item.recipe.uses_out:
                    item.recipe.out_node = cg.name(g)  # type: ignore[attr-defined]
                    self.needed.add(g)
                item.restore_first = g in item.recipe.values
            if item.inplace:
                primal.append(self.push_slot(g, item))
            if getattr(ir, "active", False):
                self.emit_hoisted(ir, item, primal)
            primal.append(cg.assign(g, code_of(ir)))
            del fake
            item.assigned = {g}
            item.reads = self.recipe_reads(item.recipe)
            self.dd.add(g)
            items.append(item)
        analyze(body, callee.active, callee.lists)
        for p in params:
            if p in callee.lists and p in callee.env and callee.env[p] in self.params:
                g = callee.env[p]
                self.list_depth[g] = max(self.list_depth.get(g, 1), _list_depth(body, p))
        for n in ast.walk(tree):
            if isinstance(n, ast.Return) and n.value is not None and _is_list_expr(
                    n.value, callee.lists):
                callee.lists.add(result_src)
        self.inlining.append(key)
        self.callee_block(body, callee, primal, items)
        self.inlining.pop()
        if callee.result not in self.dd and callee.result not in {
                i.name for i in items if i.kind in ("assign", "listdef")}:
            raise self.err(scope, node, f"the call to {label}, which returns nothing",
                           "return a value from the helper")
        g = callee.result
        if g in self.list_vars:
            return Leaf(cg.name(g), None, result_src in callee.active or any(
                _expr_active(n.value, callee.active) for n in ast.walk(tree)
                if isinstance(n, ast.Return) and n.value is not None))
        return Leaf(cg.name(g), g, True)

    def callee_block(self, body: list[ast.stmt], callee: Scope, primal: list[Any],
                     items: list[Item]) -> None:
        for s in body:
            self.stmt(s, callee, primal, items)

    # ------------------------------------------------------------------ recipes
    def recipe(self, ir: Any, scope: Scope, split_root: bool = False) -> Recipe:
        """Adjoint statements of ``target = ir`` against the placeholder ``__G__``."""
        lets: list[tuple[str, ast.expr]] = []
        contribs: list[tuple[tuple, ast.expr]] = []
        out_ref = self.new_ref()
        root_flavor = "math"

        def value(node: Any, flavor: str) -> E:
            if isinstance(node, Leaf):
                return E(cg.copy_expr(node.node), flavor)
            if isinstance(node, Idx):
                return E(subscript(cg.name(node.base), node.index), flavor)
            if node.ref is None:
                node.ref = self.new_ref()
            return E(cg.name(node.ref), flavor)

        def walk(node: Any, adj: E, out: E) -> None:
            if isinstance(node, Leaf):
                if node.active and node.var:
                    contribs.append((("var", node.var), adj.node))
                return
            if isinstance(node, Idx):
                contribs.append((("elem", node.base, node.index), adj.node))
                return
            rule = rules.RULES[node.rule]
            flavor = "numpy" if node.flavor == "numpy" else "math"
            args = [value(a, flavor) for a in node.args]
            for i, child in enumerate(node.args):
                if not getattr(child, "active", False):
                    continue
                try:
                    partial = E.lift(rule.partials[i](*args, out), flavor)
                except Exception as exc:  # a custom rule whose partial is not generic
                    raise NonDifferentiableError(
                        f"the partial derivative {i} of rule {node.rule!r} cannot be written as "
                        f"code ({exc}); write it with operators and symgrad functions") from exc
                child_adj = adj * partial
                if (isinstance(child, Op) and _n_active(child) >= 2 or split_root and node is ir
                        ) and not _simple(child_adj.node):
                    t = self.names.fresh("_d", numbered=True)
                    lets.append((t, child_adj.node))
                    child_adj = E(cg.name(t), flavor)
                child_out = E(cg.name(self.node_ref(child)), flavor) if isinstance(
                    child, Op) else None
                walk(child, child_adj, child_out)

        del root_flavor
        walk(ir, E(cg.name(G_ID)), E(cg.name(out_ref)))
        exprs = [e for _, e in lets] + [e for _, e in contribs]
        used = set().union(*(cg.names_in(e) for e in exprs)) if exprs else set()
        for _, t in [(c, c) for c, _ in contribs]:
            if t[0] == "elem":
                used |= set().union(*(cg.names_in(i) for i in t[2])) | {t[1]}
        rec = Recipe(lets, contribs, out_ref, out_ref in used,
                     {u for u in used if not _is_placeholder(u) and u not in self.adj.values()})
        # values of sub-expressions that the partials read: hoist them into temporaries
        self._mark_hoist(ir, used)
        rec.new_needed = rec.values - self.needed  # type: ignore[attr-defined]
        self.needed |= rec.values
        return rec

    def node_ref(self, node: Op) -> str:
        if node.ref is None:
            node.ref = self.new_ref()
        return node.ref

    def _mark_hoist(self, ir: Any, used: set[str]) -> None:
        if isinstance(ir, Op):
            for a in ir.args:
                self._mark_hoist(a, used)
            if ir.ref is not None and ir.ref in used:
                ir.temp = ir.temp or self.names.fresh("_t", numbered=True)

    def hoist_root(self, ir: Any, rec: Recipe) -> None:
        """The root's value is read but its target is overwritten: keep it in a temporary."""
        if isinstance(ir, Op):
            ir.temp = ir.temp or self.names.fresh("_t", numbered=True)
            rec.out_node = cg.name(ir.temp)  # type: ignore[attr-defined]

    def emit_hoisted(self, ir: Any, item: Item, primal: list[Any]) -> None:
        """Primal assignments of hoisted temporaries (children first); push them in loops."""
        order: list[Op] = []

        def visit(n: Any) -> None:
            if isinstance(n, Op):
                for a in n.args:
                    visit(a)
                if n.temp and n.temp not in [o.temp for o in order]:
                    order.append(n)
        visit(ir)
        for n in order:
            t = n.temp
            n.temp = None
            primal.append(cg.assign(t, code_of(n)))
            n.temp = t
            if self.loops:
                self.uses_stack = True
                primal.append(ast.Expr(cg.attr_call(self.stack, "append", cg.name(t))))
                item.temps.append(t)
        # map placeholders to temporaries for the adjoint sweep
        refs: dict[str, ast.expr] = {}

        def collect(n: Any) -> None:
            if isinstance(n, Op):
                if n.ref and n.temp:
                    refs[n.ref] = cg.name(n.temp)
                for a in n.args:
                    collect(a)
        collect(ir)
        rec = item.recipe if item.kind != "listdef" else None
        for r in ([rec] if rec else []) + [e for e in item.elems if e]:
            r.refs = {**getattr(r, "refs", {}), **refs}  # type: ignore[attr-defined]

    def recipe_reads(self, rec: Recipe | None) -> set[str]:
        if rec is None:
            return set()
        out = set()
        for t, _ in rec.contribs:
            out.add(t[1])
        return out

    # ------------------------------------------------------------------ slots
    def resolve_slots(self, stmts: list[Any]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            if isinstance(s, Slot):
                out.extend(s.resolve())
                continue
            for fld in ("body", "orelse"):
                if isinstance(getattr(s, fld, None), list):
                    res = self.resolve_slots(getattr(s, fld))
                    setattr(s, fld, res or ([ast.Pass()] if fld == "body" else []))
            out.append(s)
        return out

    # ================================================================== the adjoint sweep
    def find_locals(self, items: list[Item]) -> set[str]:
        """Variables assigned once inside a branch or loop body and read only by later
        statements of that same body: their adjoints are collected like straight-line
        code (fused, no zeroing), fresh in every iteration."""
        defs: dict[str, int] = {}
        reads: dict[str, list[tuple[int, int]]] = {}
        places: dict[str, tuple[int, int]] = {}

        def walk(lst: list[Item], nested: bool) -> None:
            for k, it in enumerate(lst):
                if it.kind in ("if", "for", "while"):
                    walk(it.body, True)
                    walk(it.orelse, True)
                    continue
                for v in it.reads:
                    reads.setdefault(v, []).append((id(lst), k))
                for v in it.assigned:
                    defs[v] = defs.get(v, 0) + (1 if it.kind == "assign" else 2)
                if it.kind == "assign" and nested:
                    places[it.name] = (id(lst), k)
        walk(items, False)
        out = set()
        for v, (lst, k) in places.items():
            if defs.get(v) != 1 or v in self.params or v == self.out_name \
                    or v in self.list_vars or v in self.adj.values():
                continue
            if all(r[0] == lst and r[1] > k for r in reads.get(v, [])):
                out.add(v)
        return out

    def backward(self, items: list[Item], scope: Scope) -> list[ast.stmt]:
        self.local_vars = self.find_locals(items)
        self.mutable_cache: tuple[set[str], int] = (set(), -1)
        self.state: dict[str, str] = {}
        self.pending: dict[str, list[ast.expr]] = {}
        self.static_zero: set[str] = set()
        out = self.out_name
        assert out is not None
        if getattr(self, "out_is_seed", False):
            self.state[out] = _LIVE
        else:
            self.state[out] = _PENDING
            self.pending[out] = [cg.name(self.seed)]
        self.wrt_names = [self.params[i] for i in self.wrt]
        # how many top-level items still contribute to each parameter
        self.remaining: dict[str, int] = {}
        for it in items:
            for v in it.reads:
                self.remaining[v] = self.remaining.get(v, 0) + 1
        self.def_item = {it.name: it for it in items if it.kind == "assign" and not it.inplace}
        stmts: list[ast.stmt] = []
        for it in reversed(items):
            block = self.gen_item(it, top=True, with_comment=False)
            for v in _ordered(it.reads, self.order_hint(it)):
                self.remaining[v] -= 1
                if self.remaining[v] == 0:
                    block += self.complete(v)
            if block and it.comment and it.kind not in ("if", "for", "while"):
                block.insert(0, cg.comment("grad of: " + it.comment))
            stmts += block
        for p in self.wrt_names:
            stmts += self.finish_param(p)
        return stmts

    def complete(self, v: str) -> list[ast.stmt]:
        """All contributions to ``v``'s adjoint are in: write it now if it will be reused."""
        if v in self.wrt_names:
            return self.finish_param(v)
        if self.state.get(v) != _PENDING:
            return []
        d = self.def_item.get(v)
        if d is not None:
            expr = self.pending[v]
            total = sum(cg.size(e) for e in expr)
            if d.recipe is None or (self.g_uses(d.recipe) <= 1 and total <= 12) or (
                    len(expr) == 1 and _simple(expr[0])):
                return []
        out = [cg.assign(self.adjoint_name(v), self.sum_pending(v))]
        self.state[v] = _LIVE
        return out

    def finish_param(self, p: str) -> list[ast.stmt]:
        st = self.state.get(p, _ZERO)
        d = self.adjoint_name(p)
        if st == _LIVE:
            return []
        self.state[p] = _LIVE
        if st == _PENDING:
            return [cg.assign(d, self.sum_pending(p))]
        # no derivative reaches p: it may be a number or a list not indexed in the body
        # (unused, or only iterated), so its zero is shaped at run time
        return [cg.assign(d, self.zeros(p, is_list=True))]

    def zeros(self, g: str, is_list: bool = False) -> ast.expr:
        if is_list or g in self.list_depth:
            if self.list_depth.get(g, 0) == 1 and g in self.dd_params():
                return ast.BinOp(ast.List(elts=[ast.Constant(0.0)], ctx=ast.Load()), ast.Mult(),
                                 cg.call("len", cg.name(g)))
            self.helpers.add("_zeros_like")
            return cg.call("_zeros_like", cg.name(g))
        return ast.Constant(0.0)

    def dd_params(self) -> set[str]:
        return set(self.params)

    def sum_pending(self, g: str) -> ast.expr:
        terms = self.pending.pop(g, [])
        acc = E(terms[0])
        for t in terms[1:]:
            acc = acc + E(t)
        return acc.node

    def take(self, g: str, uses: int) -> ast.expr | None:
        """Incoming adjoint of top-level variable ``g`` (None if statically zero)."""
        st = self.state.get(g, _ZERO)
        if st == _ZERO:
            return None
        if st == _LIVE:
            return cg.name(self.adjoint_name(g))
        expr = self.sum_pending(g)
        self.state[g] = _ZERO
        if _simple(expr) or uses <= 1 and cg.size(expr) <= 12:
            return expr
        return ("materialize", expr)  # type: ignore[return-value]

    def contribute(self, target: tuple, expr: ast.expr, top: bool, out: list[ast.stmt]) -> None:
        if target[0] == "var":
            g = target[1]
            st = self.state.get(g, _ZERO)
            if (top or g in self.local_vars) and st != _LIVE:
                if not self.reads_mutable(expr):
                    self.state[g] = _PENDING
                    self.pending.setdefault(g, []).append(expr)
                    if top and len(self.pending[g]) >= _MAX_TERMS:
                        # a long sum: write it now and accumulate the rest, so generated
                        # expressions stay shallow (Python's compiler limits their depth)
                        self.state[g] = _LIVE
                        out.append(cg.assign(self.adjoint_name(g), self.sum_pending(g)))
                    return
                # it reads an adjoint that will change (or pops one): write it now
                if st == _PENDING:
                    expr = (E(self.sum_pending(g)) + E(expr)).node
                self.state[g] = _LIVE
                out.append(cg.assign(self.adjoint_name(g), expr))
                return
            d = self.adjoint_name(g)
            if st == _LIVE:
                out.append(cg.aug_add(cg.name(d), expr))
            else:        # inside a compound statement every adjoint was initialised
                out.append(cg.aug_add(cg.name(d), expr))
            return
        _, base, index = target
        self.ensure_list_adjoint(base, out)
        out.append(cg.aug_add(subscript(cg.name(self.adjoint_name(base)), index), expr))

    def ensure_list_adjoint(self, base: str, out: list[ast.stmt]) -> None:
        if self.state.get(base, _ZERO) != _LIVE:
            self.state[base] = _LIVE
            out.append(cg.assign(self.adjoint_name(base), self.zeros(base, True)))

    def live(self, g: str) -> bool:
        return self.state.get(g, _ZERO) == _LIVE

    # ------------------------------------------------------------------ per item
    def gen_item(self, it: Item, top: bool, with_comment: bool = True) -> list[ast.stmt]:
        if it.kind in ("if", "for", "while"):
            return self.gen_compound(it, top)
        fn = {"assign": self.gen_assign, "elem": self.gen_elem, "append": self.gen_append,
              "listdef": self.gen_listdef, "pop": self.gen_pop}[it.kind]
        body: list[ast.stmt] = []
        if it.inplace and self.pending:   # pending adjoints must not read a value that changes
            body += self.flush_reading({it.name})
        body += fn(it, top)
        if not body:
            return []
        return [cg.comment("grad of: " + it.comment)] + body if it.comment and with_comment \
            else body

    def pop(self, target: ast.expr | str) -> ast.stmt:
        t = cg.name(target, ast.Store()) if isinstance(target, str) else cg.store(target)
        return ast.Assign(targets=[t], value=cg.attr_call(self.stack, "pop"), lineno=0)

    def emit_recipe(self, rec: Recipe, G: ast.expr, out_node: ast.expr | None,
                    top: bool, out: list[ast.stmt], own: str | None = None) -> list[ast.expr]:
        """Emit lets and contributions; returns contributions to ``own`` (not emitted)."""
        mapping = {G_ID: G}
        mapping.update(getattr(rec, "refs", {}))
        if out_node is not None:
            mapping[rec.out_ref] = out_node
        elif hasattr(rec, "out_node"):
            mapping[rec.out_ref] = rec.out_node  # type: ignore[attr-defined]
        for t, e in rec.lets:
            out.append(cg.assign(t, substitute(e, mapping)))
        grouped: dict[tuple, list[ast.expr]] = {}
        order: list[tuple] = []
        for tgt, e in rec.contribs:
            key = (tgt[0], tgt[1], tuple(ast.dump(i) for i in tgt[2])) if tgt[0] == "elem" \
                else tgt
            if key not in grouped:
                grouped[key] = []
                order.append((key, tgt))
            grouped[key].append(substitute(e, mapping))
        own_terms: list[ast.expr] = []
        for key, tgt in order:
            terms = grouped[key]
            if len(terms) > 1 and all(ast.dump(t) == ast.dump(terms[0]) for t in terms[1:]):
                acc = len(terms) * E(terms[0])      # x * x: 2 * (d * x), not d * x + d * x
            else:
                acc = E(terms[0])
                for t in terms[1:]:
                    acc = acc + E(t)
            if own is not None and tgt == ("var", own):
                own_terms.append(acc.node)
                continue
            self.contribute(tgt, acc.node, top, out)
        return own_terms

    def g_uses(self, rec: Recipe) -> int:
        if not hasattr(rec, "g_count"):
            rec.g_count = sum(_count_name(e, G_ID) for _, e in rec.lets + rec.contribs)
        return rec.g_count  # type: ignore[attr-defined]

    def gen_assign(self, it: Item, top: bool) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        g = it.name
        for t in reversed(it.temps):
            out.append(self.pop(t))
        if not it.inplace:            # single assignment: its adjoint is complete now
            if it.recipe is None:
                self.state[g] = _ZERO
                self.pending.pop(g, None)
                return out
            G = self.take(g, self.g_uses(it.recipe))
            if G is None:
                return out
            if isinstance(G, tuple):
                d = self.adjoint_name(g)
                out.append(cg.assign(d, G[1]))
                G = cg.name(d)
            self.emit_recipe(it.recipe, G, None, top, out)
            return out
        # in place (inside a branch or loop)
        restore = it.restore
        if g in self.local_vars:       # defined once, read only later in the same block
            G = None if it.recipe is None else self.take(g, self.g_uses(it.recipe))
            self.state[g] = _ZERO
            self.pending.pop(g, None)
            if G is None:
                if restore:
                    out.append(self.pop(g))
                return out
            if isinstance(G, tuple):
                d = self.adjoint_name(g)
                out.append(cg.assign(d, G[1]))
                G = cg.name(d)
            rec = it.recipe
            if getattr(it, "split", False):
                mapping = {G_ID: G, rec.out_ref: cg.name(g), **getattr(rec, "refs", {})}
                early = [(t, e) for t, e in rec.lets if rec.out_ref in cg.names_in(e)]
                for t, e in early:
                    out.append(cg.assign(t, substitute(e, mapping)))
                rec = Recipe([le for le in rec.lets if le not in early], rec.contribs,
                             rec.out_ref, rec.uses_out, rec.values)
                rec.refs = getattr(it.recipe, "refs", {})  # type: ignore[attr-defined]
            if restore and it.restore_first:
                out.append(self.pop(g))
            self.emit_recipe(rec, G, None, False, out)
            if restore and not it.restore_first:
                out.append(self.pop(g))
            return out
        live = self.live(g)
        if not live or it.recipe is None:
            if restore:
                out.append(self.pop(g))
            if live and not getattr(it, "first_def", False):
                out.append(cg.assign(self.adjoint_name(g), ast.Constant(0.0)))
            return out
        d = self.adjoint_name(g)
        rec = it.recipe
        if getattr(it, "split", False):
            # local adjoints that read the new value first, then restore the old one
            mapping = {G_ID: cg.name(d), rec.out_ref: cg.name(g), **getattr(rec, "refs", {})}
            early = [(t, e) for t, e in rec.lets if rec.out_ref in cg.names_in(e)]
            for t, e in early:
                out.append(cg.assign(t, substitute(e, mapping)))
            rec = Recipe([le for le in rec.lets if le not in early], rec.contribs, rec.out_ref,
                         rec.uses_out, rec.values)
            rec.refs = getattr(it.recipe, "refs", {})  # type: ignore[attr-defined]
        if restore and it.restore_first:
            out.append(self.pop(g))
        own = self.emit_recipe(rec, cg.name(d), None, False, out, own=g)
        if own:
            acc = E(own[0])
            for t in own[1:]:
                acc = acc + E(t)
            if not (isinstance(acc.node, ast.Name) and acc.node.id == d):
                out.append(cg.assign(d, acc.node))
        elif not getattr(it, "first_def", False):
            out.append(cg.assign(d, ast.Constant(0.0)))
        if restore and not it.restore_first:
            out.append(self.pop(g))
        return out

    def gen_elem(self, it: Item, top: bool) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for t in reversed(it.temps):
            out.append(self.pop(t))
        tgt = subscript(cg.name(it.name), it.index)
        if not self.live(it.name) or it.recipe is None:
            out.append(self.pop(tgt))
            if self.live(it.name):
                out.append(cg.assign(subscript(cg.name(self.adjoint_name(it.name)), it.index),
                                     ast.Constant(0.0)))
            return out
        dtgt = subscript(cg.name(self.adjoint_name(it.name)), it.index)
        if it.restore_first:
            out.append(self.pop(tgt))
        same_list = any(t[0] == "elem" and t[1] == it.name for t, _ in it.recipe.contribs)
        if same_list or self.g_uses(it.recipe) > 1:
            gname = self.names.fresh("_g", numbered=True)
            out.append(cg.assign(gname, dtgt))
            out.append(cg.assign(cg.copy_expr(dtgt), ast.Constant(0.0)))
            self.emit_recipe(it.recipe, cg.name(gname), None, top, out)
        else:
            self.emit_recipe(it.recipe, dtgt, None, top, out)
            out.append(cg.assign(cg.copy_expr(dtgt), ast.Constant(0.0)))
        if not it.restore_first:
            out.append(self.pop(tgt))
        return out

    def gen_append(self, it: Item, top: bool) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for t in reversed(it.temps):
            out.append(self.pop(t))
        if not it.has_backward(self):
            return out
        popped = cg.attr_call(it.name, "pop")
        if it.out_temp and it.recipe is not None and self.live(it.name):
            out.append(cg.assign(it.out_temp, popped))
        else:
            out.append(ast.Expr(popped))
        if not self.live(it.name) or it.recipe is None:
            if self.live(it.name):
                out.append(ast.Expr(cg.attr_call(self.adjoint_name(it.name), "pop")))
            return out
        # the popped adjoint gets a name: d_t1 for the popped value _t1
        gname = self.adjoint_name(it.out_temp) if it.out_temp else self.names.fresh(
            "_g", numbered=True)
        out.append(cg.assign(gname, cg.attr_call(self.adjoint_name(it.name), "pop")))
        G: ast.expr = cg.name(gname)
        self.emit_recipe(it.recipe, G, None, top, out)
        return out

    def gen_pop(self, it: Item, top: bool) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        g, lst = it.name, it.source_list[1]
        if not it.inplace or g in self.local_vars:
            G = self.take(g, 1)
            self.state[g] = _ZERO
            self.pending.pop(g, None)
            if isinstance(G, tuple):
                G = G[1]
        else:
            G = cg.name(self.adjoint_name(g)) if self.live(g) else None
        out.append(ast.Expr(cg.attr_call(lst, "append", cg.name(g))))
        if getattr(it, "active_list", False):
            self.ensure_list_adjoint(lst, out)
            out.append(ast.Expr(cg.attr_call(self.adjoint_name(lst), "append",
                                             G if G is not None else ast.Constant(0.0))))
        if it.inplace and g not in self.local_vars:
            if it.restore:
                out.append(self.pop(g))
            if self.live(g) and not getattr(it, "first_def", False):
                out.append(cg.assign(self.adjoint_name(g), ast.Constant(0.0)))
        return out

    def gen_listdef(self, it: Item, top: bool) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for t in reversed(it.temps):
            out.append(self.pop(t))
        g = it.name
        d = self.adjoint_name(g)
        if self.live(g):
            for k, rec in enumerate(it.elems):
                if rec is not None:
                    # the element's own value (tanh's partial reads it) is g[k]: later
                    # statements' adjoints have restored g to what this statement built
                    self.emit_recipe(rec, ast.Subscript(value=cg.name(d), slice=ast.Constant(k),
                                                        ctx=ast.Load()),
                                     ast.Subscript(value=cg.name(g), slice=ast.Constant(k),
                                                   ctx=ast.Load()), top, out)
            if it.source_list is not None:
                if it.source_list[0] == "var":
                    src = it.source_list[1]
                    self.ensure_list_adjoint(src, out)
                    dst: ast.expr = cg.name(self.adjoint_name(src))
                else:
                    _, base, index = it.source_list
                    self.ensure_list_adjoint(base, out)
                    dst = subscript(cg.name(self.adjoint_name(base)), index)
                self.helpers.add("_add_into")
                out.append(ast.Expr(cg.call("_add_into", dst, cg.name(d))))
        if it.inplace:
            out.append(self.pop(g))
            if self.live(g):
                out.append(cg.assign(d, self.zeros(g)))
        elif self.live(g):
            self.state[g] = _ZERO
        return out

    def gen_compound(self, it: Item, top: bool) -> list[ast.stmt]:
        if not it.has_backward(self):
            return []
        out: list[ast.stmt] = [cg.comment("grad of: " + it.comment)]
        if top:
            out += self.enter_compound(it)
        elif self.pending:
            out += self.flush_reading(it.assigned)
        if it.kind == "if":
            body = self.gen_block_inner(it.body)
            orelse = self.gen_block_inner(it.orelse)
            if getattr(it, "cond_pop", None) is not None:
                lst, negated, active = it.cond_pop
                for block, took in ((body, True), (orelse, False)):
                    block.append(ast.Expr(cg.attr_call(lst, "append",
                                                       ast.Constant(took != negated))))
                    if active and self.live(lst):
                        block.append(ast.Expr(cg.attr_call(self.adjoint_name(lst), "append",
                                                           ast.Constant(0.0))))
            test: ast.expr = cg.attr_call(self.stack, "pop")
            if not body:
                test, body, orelse = ast.UnaryOp(ast.Not(), test), orelse, []
            out.append(ast.If(test=test, body=body or [ast.Pass()], orelse=orelse))
            return out
        body = [cg.copy_expr(i.remat) for i in it.body
                if getattr(i, "remat", None) and i.name in self.needed]
        body += self.gen_block_inner(it.body)
        for n, pushed in it.pre:
            if pushed:
                out.append(self.pop(n))
        loop = it.header()
        loop.body = body or [ast.Pass()]
        out.append(loop)
        return out

    def gen_block_inner(self, items: list[Item]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for it in reversed(items):
            if it.kind in ("if", "for", "while"):
                out += self.gen_compound(it, False)
            else:
                out += self.gen_item(it, False)
        return out

    def reads_mutable(self, expr: ast.expr) -> bool:
        """Does ``expr`` call something, or read an adjoint that is updated in place?"""
        names = set()
        for n in ast.walk(expr):
            if isinstance(n, ast.Name):
                names.add(n.id)
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
                return True
        if not names & self.mutable_cache[0] and len(self.adj) == self.mutable_cache[1]:
            return False
        mutable = {self.adj[v] for v in self.inplace_names | self.list_vars | self.local_vars
                   if v in self.adj}
        mutable |= {self.adj[p] for p in self.params if p in self.adj and p in self.list_depth}
        if getattr(self, "out_is_seed", False) and self.out_name in self.inplace_names:
            mutable.add(self.seed)
        self.mutable_cache = (mutable, len(self.adj))
        return bool(names & mutable)

    def flush_reading(self, names: set[str]) -> list[ast.stmt]:
        out = []
        for v in list(self.pending):
            if any(cg.names_in(e) & names for e in self.pending[v]):
                out.append(cg.assign(self.adjoint_name(v), self.sum_pending(v)))
                self.state[v] = _LIVE
        return out

    def enter_compound(self, it: Item) -> list[ast.stmt]:
        """Before a branch or loop's adjoint: make every adjoint it touches a variable."""
        out: list[ast.stmt] = []
        touched = []
        for v in _ordered((it.reads | it.assigned) - self.local_vars, self.order_hint(it)):
            touched.append(v)
        # pending adjoints that read values the compound statement will restore
        for v in list(self.pending):
            if v not in touched and any(cg.names_in(e) & it.assigned for e in self.pending[v]):
                touched.append(v)
        for v in touched:
            st = self.state.get(v, _ZERO)
            if st == _PENDING:
                out.append(cg.assign(self.adjoint_name(v), self.sum_pending(v)))
                self.state[v] = _LIVE
            elif st == _ZERO and v in it.reads:
                out.append(cg.assign(self.adjoint_name(v), self.zeros(v)))
                self.state[v] = _LIVE
        return out

    def order_hint(self, it: Item) -> list[str]:
        seen: list[str] = []

        def walk(items: list[Item]) -> None:
            for i in items:
                if i.kind in ("if", "for", "while"):
                    walk(i.body + i.orelse)
                else:
                    if i.recipe:
                        for t, _ in i.recipe.contribs:
                            if t[1] not in seen:
                                seen.append(t[1])
                    if i.name and i.name not in seen:
                        seen.append(i.name)
        walk([it])
        return seen

    # ------------------------------------------------------------------ assembling
    def assemble(self, primal: list[ast.stmt], backward: list[ast.stmt], scope: Scope
                 ) -> ast.FunctionDef:
        fs = self.fs
        tree = fs.tree
        fname = self.names.fresh("d_" + tree.name.replace("<lambda>", "lambda"))
        args = [ast.arg(arg=p) for p in self.params]
        defaults = []
        fn_defaults = getattr(fs.fn, "__defaults__", None) or ()
        for p, v in zip(self.params[len(self.params) - len(fn_defaults):], fn_defaults):
            if isinstance(v, (int, float, str, bool, type(None))):
                defaults.append(cg.const(v))
            else:
                defaults.append(cg.name(self.bind_global("_default_" + p, v)))
        args.append(ast.arg(arg=self.seed))
        defaults.append(ast.Constant(1.0))
        body: list[ast.stmt] = []
        if fs.tree.body and isinstance(fs.tree.body[0], ast.Expr) and isinstance(
                fs.tree.body[0].value, ast.Constant) and isinstance(fs.tree.body[0].value.value,
                                                                     str):
            pass
        doc = (f"Gradient of {tree.name} with respect to "
               f"{', '.join(self.wrt_names)} (generated by symgrad).")
        body.append(ast.Expr(ast.Constant(doc)))
        if self.uses_stack:
            body.append(cg.assign(self.stack, ast.List(elts=[], ctx=ast.Load())))
        for v in sorted(self.preinit):
            body.append(cg.assign(v, ast.Constant(None)))
        body += _dedupe_comments(primal)
        value: ast.expr = cg.name(self.out_name)
        if self.with_value and (self.out_name not in self.def_item
                                or self.out_name in self.inplace_names):
            vname = self.names.fresh("value")
            body.append(cg.assign(vname, value))
            value = cg.name(vname)
        body += _dedupe_comments(backward)
        grads = [cg.name(self.adjoint_name(p)) for p in self.wrt_names]
        result: ast.expr = grads[0] if len(grads) == 1 and self.single else ast.Tuple(
            elts=grads, ctx=ast.Load())
        if self.with_value:
            result = ast.Tuple(elts=[value, result], ctx=ast.Load())
        body.append(ast.Return(result))
        body = _drop_dead(body)
        kw = {}
        if "type_params" in ast.FunctionDef._fields:
            kw["type_params"] = []
        return ast.FunctionDef(name=fname, args=ast.arguments(
            posonlyargs=[], args=args, vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
            defaults=defaults), body=body, decorator_list=[], returns=None, lineno=1, **kw)


# =========================================================================== helpers

_BINOP_RULES = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "truediv",
                ast.Pow: "pow", ast.FloorDiv: "floordiv", ast.Mod: "mod"}


def _count_name(node: ast.AST, name: str) -> int:
    return sum(1 for n in cg.nodes(node) if isinstance(n, ast.Name) and n.id == name)


def scope_active_names(scope: Scope) -> set[str]:
    return {scope.env[n] for n in scope.active if n in scope.env}


def _n_active(node: Any) -> int:
    return sum(1 for a in node.args if getattr(a, "active", False)) if isinstance(node, Op) else 0


def _simple(node: ast.expr) -> bool:
    return isinstance(node, (ast.Name, ast.Constant)) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.operand, (ast.Name, ast.Constant)))


def _ordered(names: set[str], hint: list[str]) -> list[str]:
    return [h for h in hint if h in names] + sorted(n for n in names if n not in hint)


def _statements(stmts: list[ast.stmt]) -> Iterable[ast.stmt]:
    """Every statement, nested ones too (not expressions)."""
    stack = list(stmts)
    while stack:
        s = stack.pop()
        yield s
        for fld in ("body", "orelse", "finalbody", "handlers"):
            sub = getattr(s, fld, None)
            if isinstance(sub, list):
                stack.extend(sub)


def _assigned_names(stmts: list[ast.stmt]) -> set[str]:
    out: set[str] = set()
    for s in stmts:
        for n in _statements([s]):
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    out |= set(_target_names(t)) if not isinstance(t, ast.Subscript) else set()
            elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
                out.add(n.target.id)
            elif isinstance(n, ast.For):
                out |= set(_target_names(n.target))
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                out.add(n.target.id)
            elif isinstance(n, (ast.FunctionDef, ast.Lambda)) and n is not s:
                pass
    return out


def _list_depth(body: list[ast.stmt], name: str) -> int:
    depth = 1
    for n in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(n, ast.Subscript):
            k, cur = 0, n
            while isinstance(cur, ast.Subscript):
                k += 1
                cur = cur.value
            if isinstance(cur, ast.Name) and cur.id == name:
                depth = max(depth, k)
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Subscript) and isinstance(
                n.value.value, ast.Name) and n.value.value.id == name:
            depth = max(depth, 2)
        if isinstance(n, ast.For) and isinstance(n.iter, ast.Name) and n.iter.id == name:
            depth = max(depth, 2) if isinstance(n.target, ast.Tuple) else depth
    return depth


def _append_stmt(lst: str, elt: ast.expr, node: ast.AST) -> ast.stmt:
    call = ast.Call(func=ast.Attribute(value=ast.Name(id=lst, ctx=ast.Load()), attr="append",
                                       ctx=ast.Load()), args=[elt], keywords=[])
    return ast.copy_location(ast.Expr(_locate(call, node)), node)


def _locate(node: ast.AST, where: ast.AST) -> Any:
    for n in ast.walk(node):
        if not hasattr(n, "lineno") or getattr(n, "lineno", None) is None:
            n.lineno = getattr(where, "lineno", 1)
            n.col_offset = getattr(where, "col_offset", 0)
            n.end_lineno = getattr(where, "end_lineno", None)
            n.end_col_offset = getattr(where, "end_col_offset", None)
    return node


def _stmt_at(node: ast.AST) -> ast.stmt:
    return ast.copy_location(ast.Pass(), node)


def _bind(target: ast.expr, value: ast.expr) -> list[tuple[ast.expr, ast.expr]]:
    if isinstance(target, ast.Name):
        return [(target, value)]
    if isinstance(target, (ast.Tuple, ast.List)):
        if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts):
            return [b for t, v in zip(target.elts, value.elts) for b in _bind(t, v)]
        return [b for k, t in enumerate(target.elts) for b in _bind(
            t, ast.Subscript(value=value, slice=ast.Constant(k), ctx=ast.Load()))]
    return [(target, value)]


def _loop_own_nodes(body: list[ast.stmt]) -> Iterable[ast.AST]:
    """Nodes of a loop body, not descending into nested loops or functions."""
    stack: list[ast.AST] = list(body)
    while stack:
        n = stack.pop()
        yield n
        for c in ast.iter_child_nodes(n):
            if not isinstance(c, (ast.For, ast.While, ast.FunctionDef, ast.Lambda)):
                stack.append(c)


def _popped_list(test: ast.expr) -> tuple[str, bool] | None:
    """(list, negated) when a condition is exactly ``L.pop()`` or ``not L.pop()``."""
    negated = False
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        test, negated = test.operand, True
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) \
            and test.func.attr == "pop" and not test.args and isinstance(test.func.value,
                                                                          ast.Name):
        return test.func.value.id, negated
    return None


def _cannot_raise(node: ast.expr) -> bool:
    """Names, numbers and + - * only: evaluating it cannot raise (so it may be dropped)."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _cannot_raise(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult)):
        return _cannot_raise(node.left) and _cannot_raise(node.right)
    return False


def _drop_dead(body: list[ast.stmt]) -> list[ast.stmt]:
    """Remove assignments nobody reads whose evaluation cannot raise.

    A value that might raise (``out = math.log(x)``) is kept even when unused, so
    the gradient fails exactly where the function fails."""
    reads: dict[str, int] = {}
    for n in cg.nodes(ast.Module(body=body, type_ignores=[])):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            reads[n.id] = reads.get(n.id, 0) + 1
        elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            reads[n.target.id] = reads.get(n.target.id, 0) + 1    # x += 1 reads x

    def sweep(stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for st in reversed(stmts):
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(
                    st.targets[0], ast.Name) and not reads.get(st.targets[0].id) \
                    and _cannot_raise(st.value):
                for n in cg.nodes(st.value):
                    if isinstance(n, ast.Name):
                        reads[n.id] -= 1
                continue
            for fld in ("body", "orelse"):
                sub = getattr(st, fld, None)
                if isinstance(sub, list) and sub and not isinstance(st, ast.FunctionDef):
                    new = sweep(sub)
                    if all(cg.is_comment(x) for x in new) and (new or fld == "body"):
                        new.append(ast.Pass())
                    setattr(st, fld, new)
            out.append(st)
        return out[::-1]
    return sweep(body)


def _dedupe_comments(stmts: list[ast.stmt], last: str | None = None) -> list[ast.stmt]:
    """Drop a comment that repeats the one just above it (desugared statements share
    their source line)."""
    out = []
    for st in stmts:
        if cg.is_comment(st):
            text = st.value.value
            if text == last:
                continue
            last = text
        for fld in ("body", "orelse"):
            sub = getattr(st, fld, None)
            if isinstance(sub, list) and sub:
                setattr(st, fld, _dedupe_comments(sub, last) or [ast.Pass()])
        out.append(st)
    return out


def _append_flag(stmts: list[Any], slot: Slot) -> None:
    """Append the branch flag, before the jump that ends the block (if any)."""
    last = stmts[-1] if stmts else None
    if isinstance(last, (ast.Break, ast.Continue, ast.Return)):
        stmts.insert(len(stmts) - 1, slot)
    elif isinstance(last, ast.If) and _may_jump([last]):
        # an exit nested in the block: the flag goes before it too, so each path pushes it
        _append_flag(last.body, slot)
        _append_flag(last.orelse, slot)
    else:
        stmts.append(slot)


def _contains_return(s: ast.stmt) -> bool:
    return any(isinstance(n, ast.Return) for n in ast.walk(s))


_NAMES = {
    ast.Try: ("a try statement", "move error handling outside the differentiated function"),
    ast.With: ("a with statement", "open resources outside the differentiated function"),
    ast.ClassDef: ("a class definition", "define classes at module level"),
    ast.Global: ("a global statement", "pass the value in as a parameter and return results"),
    ast.Nonlocal: ("a nonlocal statement", "pass the value in as a parameter"),
    ast.Delete: ("a del statement", "let the variable go out of use instead"),
    ast.Raise: ("a raise statement", "check inputs before calling the differentiated function"),
    ast.Assert: ("an assert statement", "check inputs before calling the differentiated function"),
    ast.AsyncFunctionDef: ("an async function", "use an ordinary def"),
    ast.AsyncFor: ("an async for loop", "use an ordinary for loop"),
    ast.AsyncWith: ("an async with statement", "use ordinary code"),
}
if hasattr(ast, "Match"):
    _NAMES[ast.Match] = ("a match statement", "use if/elif/else")
if hasattr(ast, "TryStar"):
    _NAMES[ast.TryStar] = ("a try statement", "move error handling outside the function")


def _construct_name(node: ast.AST) -> str:
    if type(node) in _NAMES:
        return _NAMES[type(node)][0]
    special = {ast.Yield: "yield", ast.YieldFrom: "yield from", ast.Await: "await",
               ast.Lambda: "a lambda expression", ast.Dict: "a dict", ast.Set: "a set",
               ast.DictComp: "a dict comprehension", ast.SetComp: "a set comprehension",
               ast.JoinedStr: "an f-string", ast.Starred: "a starred expression",
               ast.Attribute: "an attribute", ast.NamedExpr: "an assignment expression (:=)",
               ast.GeneratorExp: "a generator expression outside sum()",
               ast.Compare: "a comparison used as a number", ast.List: "a list",
               ast.Tuple: "a tuple"}
    for k, v in special.items():
        if isinstance(node, k):
            return v
    return f"a {type(node).__name__} expression"


def _hint_for(node: ast.AST) -> str:
    if type(node) in _NAMES:
        return _NAMES[type(node)][1]
    if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Yield, ast.YieldFrom)):
        return "return one number instead of yielding"
    return "see the README's table of supported Python"


# The passes recurse over expressions, several frames a level: an expression nested 1,000
# deep (the most Python itself compiles comfortably) needs more than the default limit.
_RECURSION_LIMIT = 20_000
_room_lock = threading.Lock()
_room_users = 0
_saved_limit = 0


@contextlib.contextmanager
def _recursion_room() -> Any:
    """Raise the recursion limit while any thread transforms; restore it after the last."""
    global _room_users, _saved_limit
    with _room_lock:
        if _room_users == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, _RECURSION_LIMIT))
        _room_users += 1
    try:
        yield
    finally:
        with _room_lock:
            _room_users -= 1
            if _room_users == 0:
                sys.setrecursionlimit(_saved_limit)


def transform(fn: Any, wrt: list[int], with_value: bool = False, single: bool = False
              ) -> tuple[str, dict[str, Any], str, list[str]]:
    """Generate the gradient source of ``fn`` with respect to parameter indices ``wrt``.

    Returns (source, namespace, function name, parameter names).
    """
    fs = get_source(fn)
    tr = Transformer(fs, wrt, with_value)
    tr.single = single
    # the transformer allocates many small AST objects and no cycles worth collecting:
    # pausing the cyclic collector keeps a 10,000-statement function linear in time
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with _recursion_room():
            source, ns, name = tr.run()
    except RecursionError:
        raise UnsupportedSyntaxError(
            "an expression nested too deeply", "split it into several assignments",
            fs.filename, fs.first_line, 0, fs.text(fs.tree)) from None
    finally:
        _ACTIVE_SEEN.clear()
        if gc_was_enabled:
            gc.enable()
    from . import helpers
    used = tr.helpers | {n for n in tr.called_names if n in rules.RULES
                         and not rules.RULES[n].math_name}
    for h in sorted(used):
        helpers.install(h, ns)
    return source, ns, name, tr.params


__all__ = ["transform", "Transformer", "UnsupportedSyntaxError"]
