"""``collections.deque`` as a list (a mixin-free helper of the lowering).

A deque is a list whose ends are both cheap to change; a ``maxlen`` makes ``append``
drop the oldest item once it is full (a sliding window), and ``appendleft`` the newest.
symgrad lowers ``deque(xs, maxlen=k)`` to a list and each method to the list operations
Python's deque performs (``append(x)`` then, when longer than ``maxlen``, ``pop(0)``),
so each item's adjoint follows it as for any list, and the generated code holds a plain
list.  The deques of a function are told by their kind (copies and aliases share it).
"""

from __future__ import annotations

import ast
from typing import Any

from .ir import Const, If, Kind, Var
from .scope import Scope

__all__ = ["b_deque", "deque_method", "DEQUE_METHODS"]

#: the methods a deque adds to a list's (or changes: append and insert with maxlen)
DEQUE_METHODS = frozenset({"append", "appendleft", "popleft", "extend", "insert"})


def b_deque(lw: Any, scope: Scope, node: ast.Call, dest: Var | None) -> Any:
    """``deque()``, ``deque(xs)``, ``deque(xs, maxlen=k)``, ``deque(maxlen=k)``: a list
    (the last ``k`` items of ``xs``), remembered as a deque with that ``maxlen``."""
    from .lower_builtins import b_list
    args = list(node.args)
    kw = {k.arg: k.value for k in node.keywords}
    if len(args) > 2 or set(kw) - {"iterable", "maxlen"} or None in kw:
        raise scope.fs.error(node, "deque() with these arguments",
                             "deque(iterable, maxlen=k)")
    items = args[0] if args else kw.get("iterable")
    size = args[1] if len(args) > 1 else kw.get("maxlen")
    maxlen = lw.operand(scope, size) if size is not None else Const(None)
    if type(maxlen) is not Const or not (maxlen.value is None or type(maxlen.value) is int
                                         and maxlen.value >= 0):
        raise scope.fs.error(node, "a deque whose maxlen is not a constant int",
                             "give maxlen as a number written in the code (or use a list)")
    call = ast.copy_location(ast.Call(func=ast.Name(id="list", ctx=ast.Load()),
                                      args=[items] if items is not None else [],
                                      keywords=[]), node)
    out = b_list(lw, scope, call, dest)
    if maxlen.value is not None and items is not None:     # the last maxlen items
        start = Const(-maxlen.value) if maxlen.value else Const(None)
        stop = Const(None) if maxlen.value else Const(0)
        out = lw.emit("slice", (out, start, stop, Const(None)), lw.kind_of(out), dest=dest)
    lw.deques[id(lw.kind_of(out).find())] = maxlen.value
    return out


def is_deque(lw: Any, base: Any) -> bool:
    return type(base) is Var and id(base.kind.find()) in lw.deques


def deque_method(lw: Any, base: Var, name: str, ops: list, node: ast.AST) -> Any:
    """``d.append(x)``, ``d.appendleft(x)``, ``d.popleft()`` ... of a deque, as the list
    operations Python's deque makes."""
    maxlen = lw.deques[id(base.kind.find())]
    kind = lw.kind_of(base)
    if name in ("append", "appendleft", "insert") and len(ops) == (2 if name == "insert"
                                                                   else 1):
        lw.unify(kind.element, lw.kind_of(ops[-1]), node)
        if name == "insert" and maxlen is not None:
            raise lw.error_at(node, "insert into a deque with a maxlen",
                              "use append or appendleft")
        at = Const(0) if name == "appendleft" else ops[0] if name == "insert" else None
        if maxlen == 0:                      # (nothing is kept)
            return Const(None)
        if at is None:
            lw.effect("append", (base, ops[-1]))
        else:
            lw.effect("insert", (base, at, ops[-1]))
        if maxlen is not None:               # full: the item at the other end dropped
            n = lw.emit("len", (base,), Kind.num())
            over = lw.emit("gt", (n, Const(maxlen)), Kind.num(), hint="_c")
            with lw.sub_block() as drop:
                lw.emit("pop", (base, Const(0)) if at is None else (base,), kind.element)
            lw.block.append(If(over, drop, [], lw.loc))
        return Const(None)
    if name == "popleft" and not ops:
        return lw.emit("pop", (base, Const(0)), kind.element)
    if name == "extend" and len(ops) == 1 and maxlen is None:
        lw.unify(kind, lw.kind_of(ops[0]), node)
        lw.effect("extend", (base, ops[0]))
        return Const(None)
    raise lw.error_at(node, f"the deque method .{name}() with these arguments",
                      "use append, appendleft, pop, popleft, or a list")
