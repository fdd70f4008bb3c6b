"""Generators: a loop over ``g(...)``, where ``g`` is a ``def`` with ``yield``.

``for x in g(a): body`` (and a comprehension over ``g(a)``, ``enumerate(g(a))``) is
lowered as Python runs it: ``g``'s body is inlined, and at each ``yield v`` the loop's
body runs with ``x = v`` before the generator goes on.  The two interleave as in
Python, so a body that changes what ``g`` reads next is seen by ``g``, and a
generator that never ends is fine when the loop breaks out of it.

* ``continue`` in the loop's body ends that item's body (a one-step loop around it);
* ``break`` (and a ``return`` from the loop, which desugaring made a ``break``) ends
  the generator: the body sets a flag, which ``g`` tests after each ``yield`` and
  returns on (a list of one flag, shared by the two scopes);
* ``yield from it`` is ``for v in it: yield v``;
* ``list(g(a))``, ``tuple``, ``sum``, ``min``, ``max``, ``sorted``, ``math.fsum`` and
  ``statistics.mean`` of one consume it at once, whole: a list comprehension over it.

A generator used any other way (kept in a variable, given to ``next`` or to another
function, zipped) is refused, as is a ``yield`` whose value is used (``send``).
"""

from __future__ import annotations

import ast
import builtins
import copy
import inspect
import itertools
import math
import statistics
import types
from dataclasses import dataclass
from typing import Any, Callable

from .ir import Const, Global, Kind, Var
from .param_classes import member_of
from .scope import FuncValue, Scope, Static
from .source import is_library

__all__ = ["GeneratorLowering", "CONSUMERS"]

_names = itertools.count()

#: calls that consume an iterable whole before anything else runs
CONSUMERS = {builtins.list, builtins.tuple, builtins.sum, builtins.min, builtins.max,
             builtins.sorted, math.fsum, statistics.mean, statistics.fmean}

_HINT = ("loop over it (for v in g(...)), or collect its items first: list(g(...)); or "
         "write g as a function that returns a list")


@dataclass
class _YieldHook:
    """What a ``yield`` of the generator being inlined runs: in the consumer's scope,
    ``stmts`` (the target bound to the item, then the loop's body), or ``inner()`` (a
    comprehension's body)."""

    key: Any                              # the generator function (see inline_body)
    scope: Scope                          # the consumer's
    item: str                             # the name the item is bound to, there
    stmts: list                           # what runs at each yield, in the consumer
    inner: Callable[[], None] | None = None
    stop: str | None = None               # the flag's name (a list of one bool)
    gen_scope: Scope | None = None        # the generator's, once its inlining began
    stop_var: Any = None


class GeneratorLowering:
    """Loops over generators (see the module docstring)."""

    def generator_function(self, scope: Scope, node: ast.expr) -> tuple | None:
        """``(callee, first)`` when ``node`` calls a generator function (a ``def`` with
        ``yield``: module level, nested, or a method, whose object is ``first``), else
        None."""
        if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred)
                                                 for a in node.args):
            return None
        f = node.func
        if isinstance(f, ast.Name):
            callee = self.expr(scope, f)
        elif isinstance(f, ast.Attribute) and isinstance(f.value, (ast.Name, ast.Attribute)):
            root = f.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(f.value, ast.Name) and type(self.expr(scope, f.value)) is Var:
                found = member_of(self, self.expr(scope, f.value), f.attr)
                if found is not None and found[0] == "method" and _is_generator(found[1]):
                    return Static(found[1]), [self.expr(scope, f.value)]   # net.parameters()
                return None
            if not isinstance(root, ast.Name) or type(self.expr(scope, root)) not in (
                    Static, Global):
                return None                 # (a method of a value: not looked at here)
            base = self.expr(scope, f.value)
            method = python_method(base, f.attr)
            if method is not None:                     # M.items() of a module's object
                return (Static(method), [base]) if _is_generator(method) else None
            if type(base) is not Static:
                return None
            callee = Static(getattr(base.obj, f.attr, None))
        else:
            return None
        if type(callee) is FuncValue and isinstance(callee.node, ast.FunctionDef) and \
                _yields(callee.node.body):
            return callee, []
        obj = callee.obj if type(callee) is Static else None
        if isinstance(obj, types.MethodType) and _is_generator(obj.__func__):
            return Static(obj.__func__), [self.static_self(obj.__self__)]
        return (callee, []) if _is_generator(obj) else None

    def generator_loop(self, scope: Scope, target: ast.expr, iter_node: ast.expr,
                       body: list | None, node: ast.AST, inner: Callable[[], None] | None,
                       after_iter: Callable[[], None] | None) -> bool:
        """``for target in g(...)`` (or ``enumerate(g(...))``): lowered here when ``g``
        is a generator function (True), else left to the loop (False)."""
        call, start = self.enumerated(scope, iter_node)
        found = self.generator_function(scope, call)
        if found is None:
            return False
        callee, first = found
        args, kwargs = self.call_args(scope, call)
        args = [*first, *args]
        k = next(_names)
        item = f"item#{k}"
        stmts: list = []
        head = _header(node)
        if start is not None:               # enumerate: i, x = count, item; count += 1
            count = f"count#{k}"
            self.assign_value(scope, ast.Name(id=count, ctx=ast.Store()),
                              self.expr(scope, start), node)
            value = ast.Tuple(elts=[_load(count), _load(item)], ctx=ast.Load())
            stmts.append(_at(ast.Assign(targets=[target], value=value), head))
            stmts.append(_at(ast.Assign(targets=[_store(count)], value=ast.BinOp(
                left=_load(count), op=ast.Add(), right=ast.Constant(1))), head))
        else:
            stmts.append(_at(ast.Assign(targets=[target], value=_load(item)), head))
        if after_iter is not None:
            after_iter()
        key = callee.node if type(callee) is FuncValue else callee.obj
        hook = _YieldHook(key, scope, item, stmts, inner)
        if body is not None:
            hook.stmts += self.jumps_of_body(hook, body, node, k)
        self.yield_hooks.append(hook)
        try:
            self.inline_generator(scope, callee, args, kwargs, call)
        finally:
            self.yield_hooks.remove(hook)
        return True

    def is_builtin(self, scope: Scope, name: ast.Name, obj: Any) -> bool:
        v = self.expr(scope, name)
        return type(v) is Static and v.obj is obj

    def enumerated(self, scope: Scope, it: ast.expr) -> tuple[ast.expr, ast.expr | None]:
        """``enumerate(seq, start)`` as ``(seq, start)`` (``start`` 0 if not given); any
        other iterable as ``(it, None)``."""
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and \
                it.func.id == "enumerate" and 1 <= len(it.args) <= 2 and not any(
                    isinstance(a, ast.Starred) for a in it.args) and \
                {k.arg for k in it.keywords} <= ({"start"} if len(it.args) == 1 else set()) \
                and self.is_builtin(scope, it.func, enumerate):
            return it.args[0], it.args[1] if len(it.args) > 1 else next(
                (k.value for k in it.keywords if k.arg == "start"), ast.Constant(0))
        return it, None

    def jumps_of_body(self, hook: _YieldHook, body: list, node: ast.AST, k: int) -> list:
        """The loop's body, its own ``continue`` ending the item's body and its
        ``break`` the generator too (a flag ``g`` tests).  Desugaring left each jump at
        the end of its path (:func:`symgrad.desugar.restructure`), so a ``continue`` is
        nothing and a ``break`` the flag alone; else the body goes in a one-step loop
        that the jumps leave."""
        if not _jumps(body):
            return list(body)
        stop = None
        if _jumps(body, ast.Break):
            stop = hook.stop = f"stop#{k}"
            flag = self.emit("list", (Const(False),), Kind.list_of(), hint="_stop")
            self.unify(flag.kind.element, self.kind_of(Const(False)), node)
            hook.scope.env[stop] = hook.stop_var = flag
        if _jumps_last(body):
            return _rewrite_jumps(body, stop, ended=True)
        once = _at(ast.For(target=_store(f"_once#{k}"), iter=ast.Call(
            func=ast.Name(id="range", ctx=ast.Load()), args=[ast.Constant(1)], keywords=[]),
            body=_rewrite_jumps(body, stop, ended=False), orelse=[]), node)
        return [once]

    def inline_generator(self, scope: Scope, callee: Any, args: list, kwargs: dict,
                         call: ast.Call) -> None:
        """Inline ``g(args)`` (its yields run the hook on top): as a call is inlined,
        but an error inside is an error (never a call kept as written, which would
        skip the loop)."""
        if type(callee) is FuncValue:
            self.inline_value(callee, args, kwargs, call)
            return
        from .source import get_source
        fn = callee.obj
        if self.recursion_stops(fn, args):
            raise self.recursion_error(fn, fn.__name__, call)
        fs = get_source(fn)
        saved = self.loc, self.scope_fs, self.site
        try:
            callee_scope = Scope(fs, label=fn.__code__.co_name)
            self.inline_body(callee_scope, fs.tree, args, kwargs, self.python_defaults(fn),
                             call, fn)
        finally:
            self.loc, self.scope_fs, self.site = saved

    # ------------------------------------------------------------------ inside g
    def generator_body(self, callee: Scope, body: list, key: Any, node: ast.AST) -> list:
        """``g``'s body about to be inlined: when a loop over ``g`` is being lowered (the
        hook for ``key`` not yet begun), its ``yield from`` written as loops, and a test
        of the loop's flag after each ``yield`` (a ``break`` ended the generator).  A
        generator called otherwise (``node``) is refused there."""
        hook = next((h for h in reversed(self.yield_hooks)
                     if h.key is key and h.gen_scope is None), None)
        if hook is None:
            if _yields(body):
                raise self.error_at(node, "a generator used other than by a for loop or a "
                                    "comprehension (or list, sum, ... of it)", _HINT)
            return body
        hook.gen_scope = callee
        body = _expand_yield_from(body)
        if hook.stop is not None:
            callee.env[hook.stop] = hook.stop_var
            body = _with_stop_tests(body, hook.stop)
        return body

    def yield_stmt(self, scope: Scope, node: ast.Yield) -> bool:
        """``yield v`` of a generator a loop walks: the loop's body runs with its target
        bound to ``v`` (False when no loop walks this generator: refused by the caller)."""
        hook = next((h for h in reversed(self.yield_hooks) if h.gen_scope is scope), None)
        if hook is None:
            return False
        value = self.expr(scope, node.value) if node.value is not None else \
            self.expr(scope, ast.Constant(None))
        hook.scope.env[hook.item] = value
        try:
            self.body(hook.scope, hook.stmts)
            if hook.inner is not None:
                hook.inner()
        finally:
            hook.scope.env.pop(hook.item, None)
        return True

    def hooked_region(self, scope: Scope, stmts: list) -> list:
        """For :meth:`prepare_region` of a region of ``g`` that yields: the names the
        consumer's body assigns there are assigned in the region too (its statics)."""
        hook = next((h for h in reversed(self.yield_hooks) if h.gen_scope is scope), None)
        if hook is None or not _yields(stmts):
            return []
        return self.prepare_region(hook.scope, hook.stmts)

    def generator_refused(self, scope: Scope, node: ast.AST) -> Exception:
        return scope.fs.error(node, "a generator used other than by a for loop or a "
                              "comprehension (or list, sum, ... of it)", _HINT)

    def consumed_generator(self, scope: Scope, node: ast.Call) -> ast.Call:
        """``sum(g(a))`` (a call of a consumer of ``g(a)``, a generator): as
        ``sum([v for v in g(a)])``."""
        if not node.args or self.generator_function(scope, node.args[0]) is None:
            return node
        v = f"v#{next(_names)}"
        listed = _at(ast.ListComp(elt=_load(v), generators=[ast.comprehension(
            target=_store(v), iter=node.args[0], ifs=[], is_async=0)]), node.args[0])
        out = copy.copy(node)
        out.args = [listed, *node.args[1:]]
        return out


# --------------------------------------------------------------------------- the syntax

def _header(node: ast.AST) -> ast.AST:
    """A location of ``node``'s first line alone (a ``for``'s header: the comment of
    the item's assignment)."""
    at = ast.copy_location(ast.Pass(), node)
    at.end_lineno = at.lineno
    return at


def python_method(base: Any, name: str) -> Any:
    """The method ``name`` written in Python (not a library's) of ``base``, an object
    read when the code runs (a module's model), or None."""
    if type(base) is not Global or isinstance(base.obj, types.ModuleType):
        return None
    method = inspect.getattr_static(type(base.obj), name, None)
    return method if isinstance(method, types.FunctionType) and not is_library(method) \
        else None


def _is_generator(obj: Any) -> bool:
    return isinstance(obj, types.FunctionType) and bool(obj.__code__.co_flags & 0x20)


def _load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _store(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Store())


def _at(node: Any, like: ast.AST) -> Any:
    for n in ast.walk(node):
        if isinstance(n, (ast.expr, ast.stmt)) and not hasattr(n, "lineno"):
            ast.copy_location(n, like)
    return node


def _own_nodes(stmts: list) -> Any:
    """The nodes of ``stmts`` in their own function (not in nested defs or lambdas)."""
    todo = list(stmts)
    while todo:
        n = todo.pop()
        yield n
        for c in ast.iter_child_nodes(n):
            if not isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                  ast.ClassDef)):
                todo.append(c)


def _yields(stmts: list) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(stmts))


def _jumps(stmts: list, kind: Any = (ast.Break, ast.Continue)) -> bool:
    """Does ``stmts`` hold a ``break``/``continue`` of the loop they are the body of?"""
    for s in stmts:
        if isinstance(s, kind):
            return True
        if isinstance(s, ast.If) and (_jumps(s.body, kind) or _jumps(s.orelse, kind)):
            return True
    return False


def _rewrite_jumps(stmts: list, stop: str | None, ended: bool) -> list:
    """The loop's own ``continue`` ended (``break`` out of the one-step loop, or nothing
    where it ends its path: ``ended``) and its ``break`` as ``stop[0] = True`` (then the
    same)."""
    out: list = []
    for s in stmts:
        if isinstance(s, (ast.Continue, ast.Break)):
            if isinstance(s, ast.Break):
                flag = ast.Subscript(value=_load(stop), slice=ast.Constant(0), ctx=ast.Store())
                out.append(_at(ast.Assign(targets=[flag], value=ast.Constant(True)), s))
            if not ended:
                out.append(_at(ast.Break(), s))
            elif not out:
                out.append(_at(ast.Pass(), s))
        elif isinstance(s, ast.If):
            s = copy.copy(s)
            s.body = _rewrite_jumps(s.body, stop, ended) or [_at(ast.Pass(), s)]
            s.orelse = _rewrite_jumps(s.orelse, stop, ended)
            out.append(s)
        else:
            out.append(s)
    return out


def _jumps_last(stmts: list) -> bool:
    """Is every ``break``/``continue`` of the loop the last statement of its block?"""
    for k, s in enumerate(stmts):
        if isinstance(s, (ast.Break, ast.Continue)) and k != len(stmts) - 1:
            return False
        if isinstance(s, ast.If) and not (_jumps_last(s.body) and _jumps_last(s.orelse)):
            return False
    return True


def _map_stmts(stmts: list, f: Callable[[ast.stmt], list]) -> list:
    """``stmts`` with each statement of this function (in branches and loops too)
    replaced by ``f(s)`` (a list): new lists and nodes, the tree is not changed."""
    out: list = []
    for s in stmts:
        if isinstance(s, (ast.If, ast.For, ast.While)):
            s = copy.copy(s)
            s.body = _map_stmts(s.body, f)
            s.orelse = _map_stmts(s.orelse, f)
            out.append(s)
        else:
            out.extend(f(s))
    return out


def _is_yield_stmt(s: ast.stmt, kind: Any = ast.Yield) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, kind)


def _expand_yield_from(body: list) -> list:
    """``yield from it`` -> ``for v in it: yield v``."""
    def f(s: ast.stmt) -> list:
        if not _is_yield_stmt(s, ast.YieldFrom):
            return [s]
        v = f"v#{next(_names)}"
        loop = ast.For(target=_store(v), iter=s.value.value,  # type: ignore[attr-defined]
                       body=[ast.Expr(value=ast.Yield(value=_load(v)))], orelse=[])
        return [_at(loop, s)]
    return _map_stmts(body, f)


def _with_stop_tests(body: list, stop: str) -> list:
    """``yield v`` -> ``yield v; if stop[0]: return`` (the loop broke: ``g`` ends)."""
    def f(s: ast.stmt) -> list:
        if not _is_yield_stmt(s):
            return [s]
        test = ast.Subscript(value=_load(stop), slice=ast.Constant(0), ctx=ast.Load())
        return [s, _at(ast.If(test=test, body=[ast.Return(value=None)], orelse=[]), s)]
    return _map_stmts(body, f)

