"""Calls with ``*`` arguments (a mixin of :class:`symgrad.lower.Lowerer`).

``f(*t)`` of a tuple whose length is known while lowering (``t = (x, y)``, a list
display ``*[x, y]``) passes its items.  A list known only when the code runs is
spread as the callee's signature says Python spreads it:

* ``def f(a, b)`` and ``f(*xs)``: exactly two items fit, so ``f(xs[0], xs[1])``
  after the test Python's call makes (``TypeError`` when ``len(xs) != 2``);
* a function's ``*args`` (``math.hypot(*v)``, ``def h(x, *rest)`` and ``h(*xs)``):
  a list of the items it gets (``rest = xs[1:]``; a list, where Python makes a
  tuple);
* ``max(*xs)``/``min(*xs)``: the max of the list (Python's call needs two numbers
  at least: ``TypeError`` for fewer); ``zip(*rows)``: the columns of ``rows``
  (lists, as symgrad's ``itertools`` give).

A call whose binding depends on the length (``def f(a, b=1)`` and ``f(*xs)``:
one item or two) is refused; one of a function symgrad cannot see into
(``print(*xs)``) is kept as written, which the analysis refuses only if a
differentiated value goes in.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import itertools
import types
from dataclasses import dataclass
from typing import Any

from . import ir, rules
from .ir import Const, Global, Kind, Var
from .scope import FuncValue, PartialValue, Scope, Static, StaticTuple
from .lower_records import is_named_tuple_class
from .source import describe, is_library
from .stdlib_models import model_of, zip_columns

__all__ = ["Spread", "StarLowering"]

_names = itertools.count()
_HINT = "pass the arguments one by one, or unpack the list first (a, b = xs)"


class Spread:
    """A run-time list whose items go into a function's ``*args`` (see bind_params)."""

    __slots__ = ("seq",)

    def __init__(self, seq: Var):
        self.seq = seq


@dataclass
class _Signature:
    positional: list[str]       # the parameters a positional argument binds, in order
    defaults: set[str]          # those of them with a default
    vararg: bool                # has ``*args``
    label: str
    keywords: frozenset = frozenset()   # bound by keyword already (a partial's)


class StarLowering:
    """``f(*xs)``: the call's arguments spread as Python spreads them."""

    def starred_call(self, scope: Scope, callee: Any, node: ast.Call, dest: Var | None) -> Any:
        """Lower ``node`` (a call with a ``*`` argument) of ``callee`` (already lowered)."""
        parts, marks, spread = self.star_args(scope, node)
        from .lower_call import _STRUCTURED
        if any(spread) and not (type(callee) is Static and callee.obj in _STRUCTURED) and \
                all(k.arg is not None for k in node.keywords):
            # the keywords' values too, before Python's test of the length (which its call
            # makes once every argument is evaluated)
            for k in node.keywords:
                parts.append(self.expr(scope, k.value))
                marks.append(len(self.block))
            parts = self.kept_all(parts, marks)
            n = len(spread)
            node = self.keywords_bound(scope, node, parts[n:])
            parts = parts[:n]
        else:
            parts = self.kept_all(parts, marks)
        if any(spread):
            made = self.spread_call(scope, callee, parts, spread, node, dest)
            if made is not None:
                return made
            if self.opaque_callee(callee):              # print(*xs): kept as written
                _, kwargs = self.call_args(scope, ast.Call(func=node.func, args=[],
                                                           keywords=node.keywords))
                return self.opaque_call(self.ref_static(callee), [
                    Spread(p) if s else p for p, s in zip(parts, spread)], kwargs, node, dest,
                    describe(callee.obj))
            raise self.error_at(node, "a starred argument whose length decides how the "
                                "call's parameters are bound", _HINT)
        return self.call_with(scope, callee, parts, node, dest)

    def star_args(self, scope: Scope, node: ast.Call) -> tuple[list, list, list]:
        """The positional arguments of ``node`` lowered: values, and a Var for each
        run-time list spread (``spread``), with where each was made (``marks``)."""
        parts: list[Any] = []
        marks: list[int] = []
        spread: list[bool] = []
        for e in node.args:
            if isinstance(e, ast.Starred):
                items, value = self.known_items(scope, e.value)
                if items is None:
                    parts.append(self.spread_seq(value, e))
                    spread.append(True)
                    marks.append(len(self.block))
                    continue
                parts.extend(items)
                spread.extend(False for _ in items)
                marks.extend(len(self.block) for _ in items)
            else:
                parts.append(self.expr(scope, e))
                spread.append(False)
                marks.append(len(self.block))
        return parts, marks, spread

    def star_parts(self, scope: Scope, node: ast.Call) -> tuple[list, list]:
        """:meth:`star_args`, each kept from what later arguments change."""
        parts, marks, spread = self.star_args(scope, node)
        return self.kept_all(parts, marks), spread

    def known_items(self, scope: Scope, value: ast.expr) -> tuple[list | None, Any]:
        """The items of ``*value`` when its length is known while lowering (else None,
        and the value)."""
        if isinstance(value, ast.List) and not any(isinstance(e, ast.Starred)
                                                   for e in value.elts):
            return self.operands(scope, value.elts), None      # *[x, y]
        v = self.expr(scope, value)
        if type(v) is StaticTuple:
            return list(v.items), None
        if type(v) is Const and type(v.value) in (tuple, list):
            return [Const(x) for x in v.value], None
        return None, v

    def spread_seq(self, v: Any, node: ast.AST) -> Var:
        """``*v`` of a run-time sequence: a list (or an array, spread by rows)."""
        v = self.materialize(v, node)
        kind = self.kind_of(v).find()
        if type(v) is not Var or kind.tag not in (None, "list", "array"):
            raise self.error_at(node, "a starred argument that is not a list",
                                "pass a list or a tuple")
        if kind.tag is None:
            self.unify(v.kind, Kind.list_of(), node)
        return v

    def keywords_bound(self, scope: Scope, node: ast.Call, values: list) -> ast.Call:
        """``node`` with its keywords' values (lowered: ``values``) read from names bound
        to them (for as long as the function is lowered: they are unique)."""
        keywords = []
        for k, v in zip(node.keywords, values):
            name = f"__star#{next(_names)}"
            scope.env[name] = v
            keywords.append(ast.copy_location(ast.keyword(arg=k.arg, value=ast.copy_location(
                ast.Name(id=name, ctx=ast.Load()), k.value)), k))
        call = ast.copy_location(ast.Call(func=node.func, args=node.args, keywords=keywords),
                                 node)
        call.written = getattr(node, "written", node)   # type: ignore[attr-defined]
        return call

    def call_with(self, scope: Scope, callee: Any, parts: list, node: ast.Call,
                  dest: Var | None) -> Any:
        """Finish the call with ``parts`` as its positional arguments (each bound to a
        name only this call reads, so a builtin with structure sees plain arguments)."""
        names = [f"__star#{next(_names)}" for _ in parts]
        for name, v in zip(names, parts):
            scope.env[name] = v
        try:
            call = ast.Call(func=node.func, args=[ast.copy_location(
                ast.Name(id=n, ctx=ast.Load()), node) for n in names], keywords=node.keywords)
            call.written = getattr(node, "written", node)   # type: ignore[attr-defined]
            return self.finish_call(scope, callee, ast.copy_location(call, node), dest)
        finally:
            for name in names:
                del scope.env[name]

    def spread_call(self, scope: Scope, callee: Any, parts: list, spread: list,
                    node: ast.Call, dest: Var | None) -> Any:
        """The call of run-time lists spread, or None when its binding depends on them."""
        obj = callee.obj if type(callee) is Static else None
        if obj in (builtins.max, builtins.min) and not any(k.arg == "default"
                                                           for k in node.keywords):
            xs = self.spread_list(parts, spread, node)
            self.unify(self.kind_of(xs).element, Kind.num(), node)
            self.length_test(xs, 2, "lt", f"{obj.__name__}() of fewer than two arguments",
                             TypeError)
            return self.call_with(scope, callee, [xs], node, dest)
        if obj is builtins.print:      # (print(*xs): passed on as it is)
            return self.call_with(scope, callee, [Spread(p) if s else p
                                                  for p, s in zip(parts, spread)], node, dest)
        if obj is builtins.zip and not node.keywords:
            rows = self.spread_list(parts, spread, node)
            return self.apply(scope, Static(zip_columns), [rows], {}, node, dest)
        sig = self.signature(callee)
        if sig is None or sum(spread) != 1 and not (sig.vararg and self.inlines(callee)):
            return None
        first = spread.index(True)
        kw = {k.arg for k in node.keywords} | sig.keywords
        if None in kw:
            return None
        n_pos = len(sig.positional)
        if sig.vararg:
            if not self.inlines(callee):
                return None
            if first >= n_pos:           # every run-time list falls into *args
                rest = self.spread_list(parts[n_pos:], spread[n_pos:], node, as_tuple=True)
                return self.call_with(scope, callee, parts[:n_pos] + [Spread(rest)], node,
                                      dest)
            m = n_pos - first
            if any(p in kw or p in sig.defaults for p in sig.positional[first:]):
                return None
            seq = parts[first] if first == len(parts) - 1 else self.spread_list(
                parts[first:], spread[first:], node)
            # def h(a, *rest), h(*xs): a = xs[0], rest = xs[1:]
            self.length_test(seq, m, "lt", f"{sig.label}() missing required positional "
                             "arguments", TypeError)
            items = [self.getitem(seq, Const(k)) for k in range(m)]
            rest = self.seq_slice(seq, m, "as_tuple")
            return self.call_with(scope, callee, parts[:first] + items + [Spread(rest)],
                                  node, dest)
        before, after = first, len(parts) - first - 1
        fits = [n for n in range(n_pos - before - after + 1)
                if not any(p in kw for p in sig.positional[:before + n + after])
                and all(p in kw or p in sig.defaults
                        for p in sig.positional[before + n + after:])]
        if len(fits) != 1:
            return None
        seq, n = parts[first], fits[0]
        self.length_test(seq, n, "ne", f"{sig.label}() takes {n} positional arguments from "
                         "this starred list", TypeError)
        items = [self.getitem(seq, Const(k)) for k in range(n)]
        return self.call_with(scope, callee, parts[:first] + items + parts[first + 1:], node,
                              dest)

    def spread_list(self, parts: list, spread: list, node: ast.AST, as_tuple: bool = False
                    ) -> Any:
        """The list ``[a, *xs, b]`` of ``parts`` (``spread``: a run-time list spread);
        ``as_tuple``: the tuple (a function's ``*args``: a tuple, as Python makes it, so
        that changing it raises as it does in Python)."""
        acc: Any = None
        k = 0
        while k < len(parts):
            if spread[k]:                  # (list(xs): xs may be a tuple)
                self.unify(self.kind_of(parts[k]), Kind.list_of(), node)
                part = self.seq_slice(parts[k], 0, "as_tuple" if as_tuple and len(
                    parts) == 1 else "as_list")
                k += 1
            else:
                j = k
                while j < len(parts) and not spread[j]:
                    j += 1
                items = tuple(self.materialize(p, node) for p in parts[k:j])
                part = self.emit("list", items, Kind.list_of())
                for it in items:
                    self.unify(part.kind.element, self.kind_of(it), node)
                k = j
            acc = part if acc is None else self.list_arith(
                "add", acc, part, acc.kind, part.kind, None, node)
        if acc is None:
            return self.emit("tuple" if as_tuple else "list", (), Kind.list_of())
        return acc if not as_tuple or len(parts) == 1 and spread[0] else self.seq_slice(
            acc, 0, "as_tuple")

    def seq_slice(self, seq: Var, start: int, how: str) -> Var:
        """``list(seq[start:])`` or ``tuple(seq[start:])``, a new object."""
        return self.emit("slice", (seq, Const(start or None), Const(None), Const(None)),
                         self.kind_of(seq), {how: True})

    def length_test(self, seq: Var, n: int, fails: str, message: str, exc: type) -> None:
        """``if len(seq) <fails> n: raise exc(message)``, the test Python's call makes."""
        length = self.emit("len", (seq,), Kind.num())
        bad = self.emit(fails, (length, Const(n)), Kind.num(), hint="_c")
        with self.sub_block() as fail:
            err = self.emit("call", (Global(exc.__name__, exc, "builtin"), Const(message)),
                            Kind.obj(), {"kw": (), "label": exc.__name__, "constant": True})
            self.effect("raise", (err,))
        self.block.append(ir.If(bad, fail, [], self.loc))

    # ------------------------------------------------------------------ the callee
    def signature(self, callee: Any) -> _Signature | None:
        """How ``callee``'s parameters take positional arguments (None: unknown)."""
        if type(callee) is FuncValue:
            a = callee.node.args
            pos = [p.arg for p in a.posonlyargs + a.args]
            return _Signature(pos, {p for p in pos if p in callee.defaults},
                              a.vararg is not None, callee.name)
        if type(callee) is PartialValue:        # functools.partial(f, a, k=v)
            sig = self.signature(callee.func)
            if sig is None:
                return None
            return _Signature(sig.positional[len(callee.args):], sig.defaults, sig.vararg,
                              sig.label, sig.keywords | set(callee.kwargs))
        if type(callee) is not Static:
            return None
        obj = callee.obj
        model = model_of(obj, 1)
        try:
            sig = inspect.signature(model if isinstance(model, types.FunctionType) else obj)
        except (TypeError, ValueError):
            return None
        P = inspect.Parameter
        pos = [p for p in sig.parameters.values()
               if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
        return _Signature([p.name for p in pos], {p.name for p in pos if p.default is not p.empty},
                          any(p.kind is P.VAR_POSITIONAL for p in sig.parameters.values()),
                          describe(obj))

    def opaque_callee(self, callee: Any) -> bool:
        """Is ``callee`` called as written whatever its arguments (not inlined, no rule,
        no structure, not numpy's), so that ``*xs`` can be passed on as it is?"""
        from .lower_call import _STRUCTURED
        if type(callee) is not Static or self.inlines(callee):
            return False
        obj = callee.obj
        return rules.lookup_callable(obj) is None and not (
            getattr(obj, "__module__", None) or "").startswith(("numpy", "scipy")) and \
            obj not in _STRUCTURED and not is_named_tuple_class(obj)

    def inlines(self, callee: Any) -> bool:
        """Is ``callee`` inlined, its parameters bound by bind_params (the one place a
        :class:`Spread` is read)?"""
        if type(callee) is FuncValue:
            return True
        if type(callee) is PartialValue:
            return self.inlines(callee.func)
        if type(callee) is not Static:
            return False
        obj = callee.obj
        if isinstance(model_of(obj, 1), types.FunctionType):
            return True
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
        return isinstance(obj, types.FunctionType) and not is_library(obj) and \
            rules.lookup_callable(obj) is None and not any(
            getattr(obj, a, None) is not None for a in (
                "__symgrad_transform__", "__symgrad_helper__", "__symgrad_generated_for__"))
