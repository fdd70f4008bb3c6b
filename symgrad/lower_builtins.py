"""Builtins lowered with structure: ``sum``, ``max``/``min`` (``key=``, ``default=``),
``sorted``, ``len``, ``list``/``tuple``, ``map``/``filter``, ``statistics.mean`` ...

Each handler is ``handler(lowerer, scope, call_node, dest) -> binding``.  Keyword
arguments that change the result are modelled (``key=``, ``default=``,
``start``, ``reverse=``); an unknown keyword is an error, never ignored.

``sorted`` and ``max``/``min`` with ``key=`` compute *which* elements win with
plain Python at run time (a permutation, an index: no derivative flows through
them) and then read those elements, so the gradient reaches exactly the
elements Python returned.
"""

from __future__ import annotations

import ast
import builtins
import collections
import copy
import functools
import math
import operator
import statistics
import types
from typing import Any

from . import ir
from .errors import SymgradError
from .ir import Const, Eqn, Global, Kind, Var
from .lower_copy import b_copy, b_deepcopy
from .lower_deque import b_deque
from .scope import Scope, Static, StaticTuple
from .source import MISSING
from .static_args import mark as mark_fixed


def _kwargs(lw: Any, scope: Scope, node: ast.Call, allowed: tuple[str, ...]) -> dict:
    out = {}
    for k in node.keywords:
        if k.arg not in allowed:
            name = ast.unparse(node.func)
            raise scope.fs.error(node, f"the keyword argument {k.arg}= of {name}()",
                                 f"{name}() accepts {', '.join(a + '=' for a in allowed) or 'no keywords'}"
                                 if allowed else f"call {name}() without keyword arguments")
        out[k.arg] = k.value
    return out


def _is_gen(node: ast.AST) -> bool:
    return isinstance(node, (ast.GeneratorExp, ast.ListComp))


def _may_act(node: ast.AST) -> bool:
    """Might evaluating ``node`` change a variable (a call, a walrus)?  A list
    comprehension that cannot is folded like a generator: its elements and a
    ``start`` evaluated after them give the same values in either order."""
    return any(isinstance(n, (ast.Call, ast.NamedExpr)) for n in ast.walk(node))


def _foldable(arg: ast.AST, start_node: ast.AST | None) -> bool:
    """Can ``sum``/``prod`` of ``arg`` be folded element by element, ``start`` coming
    after the first iterable?  A generator always; a list comprehension when neither it
    nor ``start`` can change a variable (Python builds the whole list first)."""
    return isinstance(arg, ast.GeneratorExp) or isinstance(arg, ast.ListComp) and (
        start_node is None or not (_may_act(arg) or _may_act(start_node)))


def _one_iterable(scope: Scope, node: ast.Call, name: str) -> None:
    if len(node.args) != 1:
        raise scope.fs.error(node, f"{name}() without one iterable", f"{name}(xs)")


def _as_list(lw: Any, scope: Scope, node: ast.expr) -> Any:
    """An iterable argument as a run-time list (comprehensions and generators are built;
    ``range``/``zip``/``map`` objects are listed)."""
    if _is_gen(node):
        return lw.e_listcomp(scope, node, None)
    v = lw.expr(scope, node)
    if type(v) is StaticTuple:
        return lw.materialize(v, node)
    v = lw.materialize(v, node)
    k = lw.kind_of(v).find()
    if k.tag == "obj":
        return lw.emit("call", (Global("list", list, "builtin"), v), Kind.list_of(),
                       {"kw": (), "label": "list"})
    if k.tag == "map" and k.attrs is not True and type(v) is Var:     # a dict: its keys
        return lw.map_keys(v, node)
    if k.tag == "array":
        return rows(lw, v, node)
    return v


def rows(lw: Any, x: Any, node: ast.AST, dest: Var | None = None,
         params: dict | None = None) -> Var:
    """``list(x)`` of an array: a list of its rows (of a vector, its numbers), walked as
    Python walks it, so ``sum(x)``, ``max(x)``, ``sorted(x)`` and ``a, *b = x`` are the
    list builtins Python runs on it (``len`` of a 0-d array raises TypeError, as its
    iteration does).  ``x.tolist()`` is this of a vector (``params``: a rank known
    otherwise is refused by :func:`symgrad.shapes.refuse_math_on_arrays`; one not known
    then is tested when the code runs, :func:`vector_test`)."""
    if params:
        vector_test(lw, x, params["vector_only"])
    out = lw.emit("list", (), Kind.list_of(Kind.array()), dest=_unread(dest, x), hint="_rows")
    k = Var("_k", Kind.num())
    with lw.sub_block() as body:
        lw.effect("append", (out, lw.getitem(x, k, None, node)))
    n = lw.emit("len", (x,), Kind.num(), params)
    lw.block.append(ir.For(k, Const(0), n, Const(1), body, False, lw.loc))
    return out


def vector_test(lw: Any, x: Any, what: str) -> None:
    """Where ``x``'s rank is known only when the code runs: ``x`` tested to be a vector
    then (``what`` of a matrix: lists of lists, which symgrad does not model; a rank
    known now is refused, if not 1, by :func:`symgrad.shapes.refuse_math_on_arrays`)."""
    if type(x) is Var and lw.array_ranks.get(x) is not None:
        return
    from .results import ndim_test
    loc = lw.loc
    msg = (f'File "{lw.scope_fs.filename}", line {loc.lineno if loc else 0}: symgrad cannot '
           f"differentiate {what} of an array that is not a vector (of a matrix it gives "
           "lists of lists).\n  hint: index the array directly, or call list(x) for its rows")
    lw.block.extend(ndim_test(x, 1, Global("SymgradError", SymgradError), msg, loc))


def b_sum(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    kw = _kwargs(lw, scope, node, ("start",))
    if not 1 <= len(node.args) + len(kw) <= 2 or len(node.args) < 1:
        raise scope.fs.error(node, "this form of sum()", "sum(xs) or sum(xs, start)")
    start_node = node.args[1] if len(node.args) > 1 else kw.get("start")

    def start() -> Any:           # (evaluated after the iterable, as Python does)
        return lw.operand(scope, start_node) if start_node is not None else Const(0)
    arg = node.args[0]
    if _foldable(arg, start_node):
        return lw.fold(scope, arg, start, "add")
    xs = _as_list(lw, scope, arg)
    lw.unify(lw.kind_of(xs), Kind.list_of(Kind.num()), node)
    args = (xs,) if start_node is None else (xs, start())
    elem = lw.kind_of(xs).find().elem
    array = elem is not None and elem.find().tag == "array"     # sum(X) of rows: a row
    return lw.emit("sum", args, Kind.array() if array else Kind.num(), dest=dest)


def b_len(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    _kwargs(lw, scope, node, ())
    if len(node.args) != 1:
        raise scope.fs.error(node, "len() without one argument", "len(xs)")
    v = lw.expr(scope, node.args[0])
    if type(v) is StaticTuple:
        return Const(len(v.items))
    v = lw.materialize(v, node)
    if type(v) is Var and v.kind.find().tag is None:
        lw.unify(v.kind, Kind.list_of(), node)
    n = known_length(lw.block, v) if type(v) is Var and v not in lw.top_params else None
    if n is not None:
        return Const(n)
    return lw.emit("len", (v,), Kind.num(), dest=dest)


#: how many statements ``len(xs)`` looks back for the list it measures
_LEN_LOOKBACK = 4000


def known_length(block: list, v: Var) -> int | None:
    """The length of list ``v`` when this block made it (``[a, b]``, or a comprehension
    written out over a fixed collection: ``out = [n(x) for n in self.neurons]``) and,
    since, only appended to it or read it, through no other name than its copies; else
    None.  (So micrograd's ``out[0] if len(out) == 1 else out`` is decided while
    lowering.)"""
    names, start = {v}, None
    for k in range(len(block) - 1, max(len(block) - _LEN_LOOKBACK, 0) - 1, -1):
        s = block[k]
        if type(s) is Eqn and len(s.outs) == 1 and s.outs[0] in names:
            if s.prim == "list" and s.outs[0].kind.find().tag == "list":
                start = k
                break
            if s.prim != "copy" or type(s.args[0]) is not Var:
                return None
            names.add(s.args[0])
    if start is None:
        return None
    n = len(block[start].args)
    for s in block[start + 1:]:      # (forward: a use before an alias was known is seen)
        if type(s) is not Eqn:
            if any(names & {*ir.leaves(ir.stmt_reads(t)), *ir.stmt_writes(t)}
                   for t in ir.walk([s])):
                return None
            continue
        args = ir.leaves(s.args)
        if s.prim == "copy" and args[0] in names:
            names.add(s.outs[0])                # (another name for the list)
        elif set(s.outs) & names:
            return None
        elif s.prim == "append" and args[0] in names and not names & set(args[1:]):
            n += 1
        elif names & set(args) and (s.prim not in _READS_ONLY or names & set(args[1:])):
            return None
    return n


#: primitives that read a list given first and keep no reference to it
_READS_ONLY = {"len", "getitem", "slice", "sum", "fsum", "mean", "fmean", "max_of", "min_of",
               "concat", "repeat"}


def _key_function(lw: Any, scope: Scope, node: ast.expr) -> Any:
    """A ``key=`` function.  A bound method of a value, ``d.get`` or
    ``xs.__getitem__`` (``max(d, key=d.get)``), is read as ``lambda k: d.get(k)``, and
    ``operator.itemgetter(1)`` as ``lambda k: k[1]``."""
    arg = ast.Name(id="__key#", ctx=ast.Load())
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords and \
            _is_itemgetter(lw, scope, node.func):
        body: Any = ast.Subscript(value=arg, slice=node.args[0], ctx=ast.Load())
    elif isinstance(node, ast.Attribute) and node.attr in ("get", "__getitem__"):
        body = ast.Call(func=node, args=[arg], keywords=[]) if node.attr == "get" else \
            ast.Subscript(value=node.value, slice=arg, ctx=ast.Load())   # (xs of a tuple)
    else:
        return lw.expr(scope, node)
    where = node
    node = ast.Lambda(args=ast.arguments(
        posonlyargs=[], args=[ast.arg(arg="__key#")], vararg=None, kwonlyargs=[],
        kw_defaults=[], kwarg=None, defaults=[]), body=body)
    for n in ast.walk(node):
        ast.copy_location(n, where)
    return lw.expr(scope, node)


def _is_itemgetter(lw: Any, scope: Scope, func: ast.expr) -> bool:
    """Is ``func`` ``operator.itemgetter`` (however it was imported)?"""
    if not isinstance(func, (ast.Name, ast.Attribute)):
        return False
    try:
        value = lw.expr(scope, func)
    except SymgradError:
        return False
    return getattr(value, "obj", None) is operator.itemgetter


def _reduce(lw: Any, scope: Scope, node: ast.Call, dest: Var | None, which: str) -> Any:
    """``max``/``min`` of several arguments or of one iterable, with ``key=`` and
    ``default=``; ties go to the first, as in Python."""
    kw = _kwargs(lw, scope, node, ("key", "default"))
    key = _key_function(lw, scope, kw["key"]) if "key" in kw else None
    if key is not None and type(key) is Const and key.value is None:
        key = None
    if len(node.args) == 0:
        raise scope.fs.error(node, f"{which}() without arguments", f"{which}(xs) or {which}(a, b)")
    if len(node.args) > 1:
        if "default" in kw:
            raise scope.fs.error(node, f"{which}(a, b, default=...)", "default= needs one iterable")
        items = lw.operands(scope, node.args)
        if key is None:
            acc = items[0]
            for it in items[1:]:
                acc = lw.emit(which, (acc, it), Kind.num(), {"flavor": "builtin"})
            return acc
        xs = lw.emit("list", tuple(items), Kind.list_of())
        for it in items:
            lw.unify(xs.kind.element, lw.kind_of(it), node)
    else:
        xs = _as_list(lw, scope, node.args[0])
    default = lw.operand(scope, kw["default"]) if "default" in kw else None
    return _reduce_list(lw, scope, xs, key, default, which, node, dest)


def _reduce_list(lw: Any, scope: Scope, xs: Any, key: Any, default: Any, which: str,
                 node: ast.AST, dest: Var | None) -> Any:
    if key is None and default is None:       # (of an empty list: ValueError, kept)
        return lw.emit(f"{which}_of", (xs,), lw.kind_of(xs).element, {"may_raise": True},
                       dest=dest)
    result = dest if dest is not None else Var("_" + which, lw.kind_of(xs).element)
    if default is not None:
        n = lw.emit("len", (xs,), Kind.num())
        empty = lw.emit("eq", (n, Const(0)), Kind.num(), hint="_c")
        with lw.sub_block() as then:
            lw.copy_into(result, default)
        with lw.sub_block() as orelse:
            _pick(lw, scope, xs, key, which, node, result)
        lw.block.append(ir.If(empty, then, orelse, lw.loc))
        return result
    _pick(lw, scope, xs, key, which, node, result)
    return result


def _pick(lw: Any, scope: Scope, xs: Any, key: Any, which: str, node: ast.AST, result: Var
          ) -> None:
    """``result = xs[i]`` where ``i`` is the first index whose key is the max/min (with
    a key that may change lists, the element as it was read when its key was taken)."""
    items = None
    if _may_change_lists(key):
        items = lw.emit("list", (), lw.kind_of(xs), hint="_items")
    keys = _keys(lw, scope, xs, key, node, items)
    if items is not None:
        xs = items
    op = "max" if which == "max" else "min"
    index = lw.emit("call", (Global(op, getattr(builtins, op), "builtin"),
                             lw.emit("range", (Const(0), lw.emit("len", (keys,), Kind.num()),
                                               Const(1)), Kind.obj())),
                    Kind.num(), {"kw": ("key",), "label": op, "constant": True,
                                 "may_raise": True,       # (of an empty list: ValueError)
                                 "extra": (lw.emit("getattr", (keys, Const("__getitem__")),
                                                   Kind.obj()),)})
    lw.block[-1].args = lw.block[-1].args + lw.block[-1].params.pop("extra")
    lw.copy_into(result, lw.getitem(xs, index, None, node))


def _keys(lw: Any, scope: Scope, xs: Any, key: Any, node: ast.AST,
          items: Var | None = None) -> Any:
    """The list of ``key(x)`` for ``x`` in ``xs`` (``xs`` itself without a key); each
    ``x`` is also appended to ``items``, if given, as it was read."""
    if key is None:
        return xs
    keys = lw.emit("list", (), Kind.list_of(), hint="_keys")
    k = Var("_k", Kind.num())
    with lw.sub_block() as body:
        item = lw.getitem(xs, k, None, node)
        if items is not None:
            lw.effect("append", (items, item))
        kv = lw.materialize(lw.apply(scope, key, [item], {}, node, None), node)
        lw.effect("append", (keys, kv))
    n = lw.emit("len", (xs,), Kind.num())
    lw.block.append(ir.For(k, Const(0), n, Const(1), body, False, lw.loc))
    return keys


def b_max(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    return _reduce(lw, scope, node, dest, "max")


def b_min(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    return _reduce(lw, scope, node, dest, "min")


def b_sorted(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    """``sorted(xs, key=k, reverse=r)``: the permutation is computed by Python (on the
    keys, stable), then the elements are gathered in that order."""
    kw = _kwargs(lw, scope, node, ("key", "reverse"))
    if len(node.args) != 1:
        raise scope.fs.error(node, "sorted() without one iterable", "sorted(xs)")
    xs = _as_list(lw, scope, node.args[0])
    key = _key_function(lw, scope, kw["key"]) if "key" in kw else None
    rev = lw.operand(scope, kw["reverse"]) if "reverse" in kw else None
    elem = lw.kind_of(xs).find().elem
    if key is None and type(rev) in (Const, type(None)) and elem is not None and \
            elem.find().tag == "obj":     # sorted(d): keys, not differentiated: one call
        kws = {"reverse": rev} if rev is not None else {}
        return lw.emit("call", (Global("sorted", sorted, "builtin"), xs, *kws.values()),
                       lw.kind_of(xs), {"kw": tuple(kws), "label": "sorted", "constant": True},
                       dest=dest, hint="_sorted")
    if _may_change_lists(key):   # sorted() keys and returns the elements as they were
        xs = lw.emit("slice", (xs, Const(None), Const(None), Const(None)), lw.kind_of(xs),
                     {"as_list": True}, hint="_seq")
    return _gather(lw, xs, _order(lw, scope, xs, key, rev, node), node, dest)


_PURE_CALLS = {"abs", "len", "float", "int", "round", "min", "max", "sum", "pow", "bool"}
_PURE_MODULES = {"math", "np", "numpy", "symgrad", "cmath", "statistics"}


def _may_change_lists(key: Any) -> bool:
    """Could calling ``key`` change a list?  A builtin or math function cannot, nor a
    lambda that calls only those; a function of the user's might."""
    if key is None or type(key) is Const:
        return False
    if type(key) is Static:
        return not isinstance(key.obj, (types.BuiltinFunctionType, type))
    node = getattr(key, "node", None)
    if not isinstance(node, ast.Lambda):
        return True
    for n in ast.walk(node.body):
        if isinstance(n, (ast.NamedExpr, ast.Lambda)):
            return True
        if isinstance(n, ast.Call):
            f = n.func
            if not (isinstance(f, ast.Name) and f.id in _PURE_CALLS or isinstance(
                    f, ast.Attribute) and isinstance(f.value, ast.Name)
                    and f.value.id in _PURE_MODULES):
                return True
    return False


def _order(lw: Any, scope: Scope, xs: Any, key: Any, rev: Any, node: ast.AST) -> Var:
    """The permutation that sorts ``xs`` (by ``key``, ``reverse`` if ``rev``), computed
    by Python's stable ``sorted`` on the keys."""
    if key is not None and type(key) is Const and key.value is None:
        key = None
    keys = _keys(lw, scope, xs, key, node)
    rng = lw.emit("range", (Const(0), lw.emit("len", (keys,), Kind.num()), Const(1)), Kind.obj())
    getter = lw.emit("getattr", (keys, Const("__getitem__")), Kind.obj())
    args = (Global("sorted", sorted, "builtin"), rng, getter) + ((rev,) if rev is not None else ())
    return lw.emit("call", args, Kind.list_of(Kind.num()),
                   {"kw": ("key",) + (("reverse",) if rev is not None else ()),
                    "label": "sorted", "constant": True}, hint="_order")


def _gather(lw: Any, xs: Any, perm: Any, node: ast.AST, dest: Var | None) -> Var:
    """``[xs[i] for i in perm]``."""
    out = lw.emit("list", (), lw.kind_of(xs), dest=_unread(dest, xs), hint="_sorted")
    k = Var("_k", Kind.num())
    with lw.sub_block() as body:
        i = lw.getitem(perm, k, None, node)
        lw.effect("append", (out, lw.getitem(xs, i, None, node)))
    n = lw.emit("len", (perm,), Kind.num())
    lw.block.append(ir.For(k, Const(0), n, Const(1), body, False, lw.loc))
    return out


def _unread(dest: Var | None, source: Any) -> Var | None:
    """``dest`` for a list built element by element from ``source``, unless it is the
    same variable (``xs = sorted(xs)`` in a loop or branch, where an assignment writes
    the variable in place: emptied first, nothing would be read from it)."""
    return None if dest is source else dest


def b_list(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    _kwargs(lw, scope, node, ())
    if len(node.args) > 1:
        name = ast.unparse(node.func)
        raise scope.fs.error(node, f"{name}() of more than one argument", f"{name}(xs)")
    if not node.args:
        return lw.emit("list", (), Kind.list_of(), dest=dest)
    if _is_gen(node.args[0]):
        return lw.e_listcomp(scope, node.args[0], dest)
    return _listed(lw, lw.expr(scope, node.args[0]), node, dest, "list")


def _listed(lw: Any, v: Any, node: ast.Call, dest: Var | None, how: str) -> Any:
    """``list(v)`` or ``tuple(v)`` (``how``) of a value lowered."""
    if type(v) is StaticTuple:
        items = tuple(lw.materialize(x, node) for x in v.items)
        kind = Kind.list_of()
        for it in items:
            lw.unify(kind.element, lw.kind_of(it), node)
        return lw.emit("list", items, kind, dest=dest)
    v = lw.materialize(v, node)
    k = lw.kind_of(v).find()
    if k.tag == "obj":
        return lw.emit("call", (Global(how, list if how == "list" else tuple, "builtin"), v),
                       Kind.list_of(), {"kw": (), "label": how}, dest=dest)
    if k.tag == "map" and k.attrs is not True and type(v) is Var:   # list(d): its keys
        return lw.map_keys(v, node)
    if k.tag == "array":                      # list(x), tuple(x): its rows
        if how == "list":
            return rows(lw, v, node, dest)
        v = rows(lw, v, node)
    lw.unify(lw.kind_of(v), Kind.list_of(), node)
    # (printed list(v): v[:] of a tuple would be a tuple; tuple(v): a tuple, so that
    # changing it raises as in Python)
    return lw.emit("slice", (v, Const(None), Const(None), Const(None)), lw.kind_of(v),
                   {"as_" + how: True}, dest=dest)


def b_tuple(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    if len(node.args) != 1 or node.keywords:
        return b_list(lw, scope, node, dest)
    if _is_gen(node.args[0]):       # tuple(v * 2 for v in xs): the list made, as a tuple
        return _listed(lw, b_list(lw, scope, node, None), node, dest, "tuple")
    v = lw.expr(scope, node.args[0])
    if type(v) is StaticTuple:
        return v
    return _listed(lw, v, node, dest, "tuple")


def b_map(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    """``map(f, xs, ...)`` as ``[f(x, ...) for ...]`` (f inlined)."""
    _kwargs(lw, scope, node, ())
    if len(node.args) < 2:
        raise scope.fs.error(node, "map() without a function and an iterable", "map(f, xs)")
    f = lw.expr(scope, node.args[0])
    seqs = [_as_list(lw, scope, a) for a in node.args[1:]]
    out = lw.emit("list", (), Kind.list_of(), hint="_list")
    k = Var("_k", Kind.num())
    with lw.sub_block() as body:
        items = [lw.getitem(s, k, None, node) for s in seqs]
        v = lw.materialize(lw.apply(scope, f, items, {}, node, None), node)
        lw.unify(out.kind.element, lw.kind_of(v), node)
        lw.effect("append", (out, v))
    n = lw.emit("len", (seqs[0],), Kind.num())
    for s in seqs[1:]:
        n = lw.emit("min", (n, lw.emit("len", (s,), Kind.num())), Kind.num(),
                    {"flavor": "builtin"})
    lw.block.append(ir.For(k, Const(0), n, Const(1), body, False, lw.loc))
    return out


def b_filter(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    _kwargs(lw, scope, node, ())
    if len(node.args) != 2:
        raise scope.fs.error(node, "filter() without a function and an iterable",
                             "filter(f, xs)")
    f = lw.expr(scope, node.args[0])
    xs = _as_list(lw, scope, node.args[1])
    out = lw.emit("list", (), lw.kind_of(xs), hint="_list")
    k = Var("_k", Kind.num())
    with lw.sub_block() as body:
        item = lw.getitem(xs, k, None, node)
        test = item if type(f) is Const and f.value is None else lw.materialize(
            lw.apply(scope, f, [item], {}, node, None), node)
        with lw.sub_block() as then:
            lw.effect("append", (out, item))
        lw.block.append(ir.If(test, then, [], lw.loc))
    n = lw.emit("len", (xs,), Kind.num())
    lw.block.append(ir.For(k, Const(0), n, Const(1), body, False, lw.loc))
    return out


def b_mean(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    _kwargs(lw, scope, node, ())
    _one_iterable(scope, node, "mean")
    xs = _as_list(lw, scope, node.args[0])
    lw.unify(lw.kind_of(xs), Kind.list_of(Kind.num()), node)
    name = ast.unparse(node.func).split(".")[-1]
    return lw.emit(name if name in ("mean", "fmean") else "mean", (xs,), Kind.num(),
                   {"may_raise": True}, dest=dest)       # (of an empty list: an error, kept)


def b_fsum(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    _kwargs(lw, scope, node, ())
    _one_iterable(scope, node, "fsum")
    xs = _as_list(lw, scope, node.args[0])
    lw.unify(lw.kind_of(xs), Kind.list_of(Kind.num()), node)
    return lw.emit("fsum", (xs,), Kind.num(), dest=dest)


def b_prod(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    kw = _kwargs(lw, scope, node, ("start",))
    if len(node.args) != 1:
        raise scope.fs.error(node, "this form of math.prod()",
                             "math.prod(xs) or math.prod(xs, start=s)")

    def start() -> Any:           # (evaluated after the iterable, as Python does)
        return lw.operand(scope, kw["start"]) if "start" in kw else Const(1)
    if _foldable(node.args[0], kw.get("start")):
        return lw.fold(scope, node.args[0], start, "mul")
    xs = _as_list(lw, scope, node.args[0])
    acc = Var("_prod", Kind.num())
    lw.copy_into(acc, start())
    k = Var("_k", Kind.num())
    with lw.sub_block() as body:
        lw.arith("mul", acc, lw.getitem(xs, k, None, node), acc, node)
    n = lw.emit("len", (xs,), Kind.num())
    lw.block.append(ir.For(k, Const(0), n, Const(1), body, False, lw.loc))
    return acc


def b_iterable(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    """``zip``/``enumerate``/``reversed``/``range`` used as values (not as a loop's
    iterable): listed by a comprehension over the same iteration."""
    width = 2 if isinstance(node.func, ast.Name) and node.func.id == "enumerate" else \
        len(node.args) if isinstance(node.func, ast.Name) and node.func.id == "zip" and \
        node.args and not any(isinstance(a, ast.Starred) for a in node.args) else 0
    if width:           # (pairs: max(enumerate(xs), key=lambda p: p[1]), list(zip(a, b)))
        names = [f"__item{k}#" for k in range(width)]
        fake = ast.ListComp(elt=ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Load()) for n in names],
                                          ctx=ast.Load()), generators=[ast.comprehension(
            target=ast.Tuple(elts=[ast.Name(id=n, ctx=ast.Store()) for n in names],
                             ctx=ast.Store()), iter=node, ifs=[], is_async=0)])
    else:
        fake = ast.ListComp(elt=ast.Name(id="__item#", ctx=ast.Load()), generators=[
            ast.comprehension(target=ast.Name(id="__item#", ctx=ast.Store()), iter=node,
                              ifs=[], is_async=0)])
    ast.copy_location(fake, node)
    if node.keywords and not (isinstance(node.func, ast.Name) and node.func.id in (
            "zip", "enumerate") and all(k.arg in ("strict", "start") for k in node.keywords)):
        raise scope.fs.error(node, f"keyword arguments to {ast.unparse(node.func)}() here",
                             "use it as the iterable of a for loop or comprehension")
    if isinstance(node.func, ast.Name) and node.func.id == "range":
        args = [lw.operand(scope, a) for a in node.args]
        if len(args) == 1:
            args = [Const(0), args[0], Const(1)]
        elif len(args) == 2:
            args.append(Const(1))
        return lw.emit("range", tuple(args), Kind.obj(), dest=dest)
    return lw.e_listcomp(scope, fake, dest)


def b_any_all(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    fn = builtins.any if ast.unparse(node.func).endswith("any") else builtins.all
    _kwargs(lw, scope, node, ())
    _one_iterable(scope, node, fn.__name__)
    if isinstance(node.args[0], ast.GeneratorExp) and not _plain(node.args[0]):
        return _stopping(lw, scope, node.args[0], fn is builtins.any, dest)
    xs = _as_list(lw, scope, node.args[0])
    return lw.emit("call", (Global(fn.__name__, fn, "builtin"), xs), Kind.num(),
                   {"kw": (), "label": fn.__name__, "constant": True}, dest=dest)


_PLAIN = (ast.Name, ast.Constant, ast.Compare, ast.BoolOp, ast.UnaryOp, ast.IfExp,
          ast.Add, ast.Sub, ast.Mult, ast.expr_context, ast.cmpop, ast.boolop, ast.unaryop,
          ast.comprehension)


def _plain(gen: ast.GeneratorExp) -> bool:
    """Is a generator's every item the same whether or not it is computed (names,
    comparisons, ``+ - *``: nothing that calls, binds, indexes or divides)?  Then
    ``any``/``all`` of its list is what stopping at the deciding item gives."""
    parts = [gen.elt, *(c for g in gen.generators for c in g.ifs)]
    return all(isinstance(n, _PLAIN) or isinstance(n, ast.BinOp) and
               isinstance(n.op, (ast.Add, ast.Sub, ast.Mult))
               for part in parts for n in ast.walk(part))


def _stopping(lw: Any, scope: Scope, gen: ast.GeneratorExp, is_any: bool,
              dest: Var | None) -> Any:
    """``any(e for x in xs)`` as Python runs it: no item after the first true one (for
    ``all``, false) is computed, so a walrus keeps the deciding item, and what a call
    does or raises after it never happens::

        _stop = False
        for x in xs:
            if not _stop:       # (first, before the generator's own conditions)
                _stop = bool(e)             # (all: _stop = not e)

    and the result is ``_stop`` (``all``: ``not _stop``)."""
    name = f"_stop#{id(gen)}"

    def node(n: ast.AST) -> Any:
        return ast.fix_missing_locations(ast.copy_location(n, gen))

    def flag(ctx: ast.expr_context) -> ast.Name:
        return ast.Name(id=name, ctx=ctx)
    item = gen.elt if is_any else ast.UnaryOp(op=ast.Not(), operand=gen.elt)
    if is_any and not isinstance(item, (ast.Compare, ast.UnaryOp)) or \
            isinstance(item, ast.UnaryOp) and not isinstance(item.op, ast.Not):
        item = ast.Call(func=ast.Name(id="bool", ctx=ast.Load()), args=[item], keywords=[])
    found = node(ast.NamedExpr(target=flag(ast.Store()), value=item))
    gens = [ast.comprehension(target=g.target, iter=g.iter, is_async=g.is_async,
                              ifs=[node(ast.UnaryOp(op=ast.Not(), operand=flag(ast.Load()))),
                                   *g.ifs]) for g in gen.generators]
    scope.fs.walrus = True          # (the lowered function has one now: see comprehension)
    lw.expr(scope, node(ast.NamedExpr(target=flag(ast.Store()), value=ast.Constant(False))))
    whole = node(ast.ListComp(elt=found, generators=gens))     # (what the loop binds)
    lw.comprehension(scope, gens, whole, lambda comp: lw.expr(comp, found))
    return lw.expr(scope, node(flag(ast.Load()) if is_any else
                               ast.UnaryOp(op=ast.Not(), operand=flag(ast.Load()))), dest)


def b_divmod(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    """``divmod(a, b)`` is ``(a // b, a % b)``, each with its own derivative."""
    _kwargs(lw, scope, node, ())
    if len(node.args) != 2:
        raise scope.fs.error(node, "divmod() without two arguments", "divmod(a, b)")
    a, b = (lw.operand(scope, x) for x in node.args)
    return StaticTuple((lw.arith("floordiv", a, b, None, node), lw.arith("mod", a, b, None, node)))


def replace_slice(lw: Any, base: Any, sl: tuple, values: Any, node: ast.AST) -> None:
    """``xs[a:b] = values`` (``values`` None: ``del xs[a:b]``) on a list, as Python does
    it: the old elements of the region popped, the new ones inserted where it starts,
    so each is differentiated by ``pop`` and ``insert``.  A slice with a step stays a
    ``setslice`` (refused when its list is differentiated)."""
    a, b, c = sl
    if not (type(c) is Const and c.value in (None, 1)):
        if values is None:
            raise lw.error_at(node, "del of a slice with a step", "delete element by element")
        lw.effect("setslice", (base, a, b, c, values))
        return
    kind = lw.kind_of(base)
    lw.unify(kind, Kind.list_of(), node)
    if values is not None:     # (a copy first: xs[1:3] = xs)
        values = lw.emit("slice", (values, Const(None), Const(None), Const(None)),
                         lw.kind_of(values), hint="_new")
        lw.unify(kind, lw.kind_of(values), node)
    n = lw.emit("len", (base,), Kind.num())
    region = lw.emit("call", (Global("slice", slice, "builtin"), a, b, Const(None)), Kind.obj(),
                     {"kw": (), "label": "slice", "constant": True})
    bounds = lw.emit("callmethod", (region, n), Kind.obj(),
                     {"name": "indices", "kw": (), "label": ".indices()", "constant": True})
    start, stop = (lw.emit("getitem", (bounds, Const(i)), Kind.num()) for i in (0, 1))
    count = lw.emit("max", (lw.emit("sub", (stop, start), Kind.num()), Const(0)), Kind.num(),
                    {"flavor": "builtin"})
    k = Var("_k", Kind.num())
    with lw.sub_block() as body:
        lw.emit("pop", (base, start), kind.element)
    lw.block.append(ir.For(k, Const(0), count, Const(1), body, False, lw.loc))
    if values is None:
        return
    k = Var("_k", Kind.num())
    with lw.sub_block() as body:
        at = lw.emit("add", (start, k), Kind.num())
        lw.effect("insert", (base, at, lw.getitem(values, k, None, node)))
    m = lw.emit("len", (values,), Kind.num())
    lw.block.append(ir.For(k, Const(0), m, Const(1), body, False, lw.loc))


def sort_in_place(lw: Any, scope: Scope, lst: Any, kwargs: dict, node: ast.AST) -> Any:
    """``xs.sort(key=k, reverse=r)``: Python's (stable) order of the keys, then the
    elements written back into ``xs`` in that order."""
    for k in kwargs:
        if k not in ("key", "reverse"):
            raise lw.error_at(node, f"the keyword argument {k}= of .sort()",
                              ".sort() accepts key= and reverse=")
    rev = lw.materialize(kwargs["reverse"], node) if "reverse" in kwargs else None
    perm = _order(lw, scope, lst, kwargs.get("key"), rev, node)
    ordered = _gather(lw, lst, perm, node, None)
    k = Var("_k", Kind.num())
    with lw.sub_block() as body:
        lw.effect("setitem", (lst, k, lw.getitem(ordered, k, None, node)))
    lw.block.append(ir.For(k, Const(0), lw.emit("len", (lst,), Kind.num()), Const(1), body,
                           False, lw.loc))
    return Const(None)


def b_partial(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    """``functools.partial(f, a, k=v)`` made inside the function: a compile-time value."""
    from .scope import PartialValue
    args, kwargs = lw.call_args(scope, node)
    if not args:
        raise scope.fs.error(node, "functools.partial() without a function",
                             "functools.partial(f, ...)")
    return PartialValue(args[0], tuple(args[1:]), kwargs)


def dict_copy(lw: Any, scope: Scope, d: ast.expr, node: ast.AST, dest: Var | None) -> Any:
    """A new dict with ``d``'s keys and values (``dict(d)``, ``d.copy()``), as the
    comprehension ``{k: d[k] for k in d}``: each value's adjoint goes back under its key."""
    k = ast.Name(id="__key#", ctx=ast.Load())
    comp = ast.DictComp(key=k, value=ast.Subscript(value=d, slice=k, ctx=ast.Load()),
                        generators=[ast.comprehension(
                            target=ast.Name(id="__key#", ctx=ast.Store()),
                            iter=ast.Call(func=ast.Attribute(value=d, attr="keys",
                                                             ctx=ast.Load()),
                                          args=[], keywords=[]), ifs=[], is_async=0)])
    for n in ast.walk(comp):
        ast.copy_location(n, node)
    return lw.e_dictcomp(scope, comp, dest)


def b_dict(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    """``dict(a=x, b=y)`` (keywords only, or none): the dict ``{"a": x, "b": y}``;
    ``dict([("a", x), ("b", y)], c=z)`` of pairs written out with constant keys: the
    same, later keys replacing earlier ones as Python does; ``dict(d)`` of a dict: a copy
    of it."""
    if len(node.args) == 1 and not node.keywords and not isinstance(
            node.args[0], (ast.List, ast.Tuple, ast.ListComp, ast.GeneratorExp, ast.Call)):
        v = lw.expr(scope, node.args[0])
        if type(v) is Var and v.kind.find().tag in ("map", None):
            return dict_copy(lw, scope, node.args[0], node, dest)
    pairs = _written_pairs(node.args[0]) if len(node.args) == 1 else None
    merged = _merged_dict(lw, scope, node, pairs, dest)
    if merged is not None:
        return merged
    if (node.args and pairs is None) or any(k.arg is None for k in node.keywords):
        args, kwargs = lw.call_args(scope, node)
        return lw.opaque_call(Global("dict", dict, "builtin"), args, kwargs, node, dest,
                              "dict")
    written = (pairs or []) + [(k.arg, k.value) for k in node.keywords]
    items = dict((key, lw.operand(scope, v)) for key, v in written)   # (each evaluated)
    keys, values = tuple(items), tuple(items.values())
    kind = Kind.map_of()
    for key, v in zip(keys, values):
        lw.unify(kind.field(key), lw.kind_of(v), node)
    return lw.emit("dict", values, kind, {"keys": keys}, dest=dest)


def _merged_dict(lw: Any, scope: Scope, node: ast.Call, pairs: list | None,
                 dest: Var | None) -> Var | None:
    """``dict(d, c=z)``, ``dict(**d, c=z)``, ``dict([("a", x)], **d)`` of dicts ``d``: a
    merge, the arguments evaluated in order; None for other calls."""
    first = node.args[0] if len(node.args) == 1 else None
    spread = first is not None and pairs is None
    if len(node.args) > 1 or not (spread or any(k.arg is None for k in node.keywords)):
        return None
    if spread:
        if isinstance(first, (ast.List, ast.Tuple, ast.ListComp, ast.GeneratorExp,
                              ast.Call)):
            return None
        d = lw.expr(scope, first)
        if type(d) is not Var or d.kind.find().tag not in ("map", None):
            return None
        parts = [(None, lw.map_operand(d, first))]
    else:
        parts = [(key, lw.operand(scope, v)) for key, v in pairs or ()]
    parts += [(None, lw.map_operand(lw.expr(scope, k.value), k.value)) if k.arg is None
              else (k.arg, lw.operand(scope, k.value)) for k in node.keywords]
    return lw.dict_merge(parts, node, dest)


def _written_pairs(node: ast.expr) -> list | None:
    """``[("a", x), ("b", y)]`` written out, keys constants: its (key, value node) pairs
    (the values are evaluated in that order, as Python evaluates the list)."""
    if not isinstance(node, (ast.List, ast.Tuple)) or not all(
            isinstance(e, ast.Tuple) and len(e.elts) == 2 and
            isinstance(e.elts[0], ast.Constant) for e in node.elts):
        return None
    return [(e.elts[0].value, e.elts[1]) for e in node.elts]


def b_slice(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    """``slice(stop)``, ``slice(start, stop[, step])``: its parts, known while lowering
    (``x[s]`` is then ``x[start:stop:step]``; anywhere else the slice is made as
    written)."""
    from .scope import SliceValue
    if node.keywords or not 1 <= len(node.args) <= 3:
        raise scope.fs.error(node, "slice() with these arguments", "slice(start, stop, step)")
    parts = [lw.operand(scope, a) for a in node.args]
    if len(parts) == 1:
        parts = [Const(None), parts[0]]
    return SliceValue(tuple(parts + [Const(None)] * (3 - len(parts))))


def b_print(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    args, kwargs = lw.call_args(scope, node)
    return lw.opaque_call(Global("print", print, "builtin"), args, kwargs, node, dest, "print",
                          constant=True)


def b_getattr(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    """``getattr(p, "w")`` is ``p.w``; with the name a parameter, the gradient is made for
    the name a call gives (see static_args), when a gradient flows through it."""
    if len(node.args) == 2 and not node.keywords:
        name = lw.expr(scope, node.args[1])
        if type(name) is Const and isinstance(name.value, str) and name.value.isidentifier():
            attr = ast.copy_location(ast.Attribute(value=node.args[0], attr=name.value,
                                                   ctx=ast.Load()), node)
            return lw.e_attribute(scope, attr, dest)
        base = lw.operand(scope, node.args[0])
        error = None
        if type(name) is Var and name in lw.top_params:
            error = mark_fixed(lw.error_at(node, "getattr with the name a parameter",
                                           "pass the name as a string"),
                               name, lw.top_params, "attribute")
        return lw.opaque_call(Global("getattr", getattr, "builtin"),
                              [base, lw.materialize(name, node)], {}, node, dest, "getattr",
                              error=error)
    args, kwargs = lw.call_args(scope, node)
    return lw.opaque_call(Global("getattr", getattr, "builtin"), args, kwargs, node, dest,
                          "getattr")


def b_super(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    """``super()`` (or ``super(C, self)``) in a method of an object known while lowering
    (``self`` of a bound method): the object seen from its class's base, whose methods
    are then inlined with the object as ``self``."""
    tree = scope.fs.tree
    cell = scope.fs.cells.get("__class__")
    if not node.args and not node.keywords and cell is not None and tree.args.args:
        cls, this = cell.cell_contents, scope.lookup(tree.args.args[0].arg)
    elif len(node.args) == 2 and not node.keywords:
        cls, this = lw.expr(scope, node.args[0]), lw.expr(scope, node.args[1])
        cls = cls.obj if type(cls) is Static else None
    else:
        cls = this = None
    from .lower_objects import Building, SuperOf, is_record
    if isinstance(cls, type) and (type(this) is Building or is_record(this)):
        return SuperOf(this, cls)           # (an object made in the function)
    obj = getattr(this, "obj", MISSING) if type(this) in (Global, Static) else MISSING
    if not isinstance(cls, type) or obj is MISSING or not isinstance(obj, cls):
        raise lw.error_at(node, "super() here", "call it in a method of an object the "
                          "differentiated function reads (a bound method, or self of one)")
    return Static(super(cls, obj))


STRUCTURED: dict[Any, Any] = {
    builtins.sum: b_sum, builtins.len: b_len, builtins.max: b_max, builtins.min: b_min,
    builtins.sorted: b_sorted, builtins.list: b_list, builtins.tuple: b_tuple,
    builtins.map: b_map, builtins.filter: b_filter, statistics.mean: b_mean,
    statistics.fmean: b_mean, math.fsum: b_fsum, math.prod: b_prod,
    builtins.zip: b_iterable, builtins.enumerate: b_iterable, builtins.reversed: b_iterable,
    builtins.range: b_iterable, builtins.any: b_any_all, builtins.all: b_any_all,
    builtins.print: b_print, builtins.divmod: b_divmod, functools.partial: b_partial,
    builtins.dict: b_dict, builtins.getattr: b_getattr, copy.copy: b_copy,
    copy.deepcopy: b_deepcopy, builtins.super: b_super, collections.deque: b_deque,
    builtins.slice: b_slice,
}
