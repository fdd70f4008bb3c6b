"""Reverse mode for list operations (a mixin of :class:`symgrad.reverse.Reverse`).

List operations are linear in the elements they move, so each one's adjoint is
its *transpose*: reading ``x = xs[i]`` adds ``d_x`` into ``d_xs[i]``; ``h.append(v)``
gives ``d_v = d_h.pop()``; ``s = sum(xs)`` adds ``d_s`` to every ``d_xs[k]``;
``[a, b]`` hands ``d_h[0]`` and ``d_h[1]`` to ``a`` and ``b``.  The adjoint sweep
also undoes every change the primal sweep made to a list's structure or
elements (``h.pop()`` after ``h.append(v)``, the old element back after
``h[i] = v``), so lists are as they were at each point the adjoint reads them,
and lists passed in are returned unchanged.
"""

from __future__ import annotations

from typing import Any, Callable

from .ir import Const, Eqn, For, Kind, Var
from .shadows import sh

__all__ = ["ListReverse"]


class ListReverse:
    """Transposes of list primitives."""

    def list_handler(self, e: Eqn) -> Callable[[Eqn], None] | None:
        h = _HANDLERS.get(e.prim)
        if h is None:
            return None
        if e.prim == "copy" and not (e.outs and e.out.kind.is_list):
            return None
        return lambda eqn: h(self, eqn)

    # ------------------------------------------------------------------ helpers
    def loop_range(self, n: Any, body: Callable[[Var], None]) -> None:
        """Emit ``for k in range(n): body(k)`` into the adjoint sweep."""
        k = Var("_k", Kind.num())
        saved = self.out
        self.out = []
        body(k)
        blk, self.out = self.out, saved
        self.out.append(For(k, Const(0), n, Const(1), blk, False, self.loc))

    def accum(self, lst: Any, index: Any, value: Any) -> None:
        self.out.append(Eqn((), "accum", (lst, index, value), None, self.loc))

    def save(self, e: Eqn, values: list) -> None:
        """Values the primal sweep pushes just before ``e`` (popped in reverse order):
        once per execution of ``e``, however many times its region is reversed (a
        ``while`` test is reversed for its last run and inside the loop)."""
        self.saves_before.setdefault(id(e), list(values))

    def pop_saved(self, kind: Kind | None = None) -> Var:
        return self.emit("pop", (self.stack_for(kind),), {"tape": True}, kind=kind,
                         hint="_old")

    def scalar_elems(self, lst: Any) -> bool:
        return type(lst) is Var and lst.kind.element.find().tag != "list"


def _read(r: Any, e: Eqn) -> None:
    """``x = xs[i]``: ``d_xs[i] += d_x`` (a row read aliases shadows: nothing to do)."""
    lst, index = e.args
    if e.out.kind.is_list or _moved(r, e.out) or not r.active(e.out) or not r.active(lst):
        if not e.out.kind.is_list and r.active(e.out):
            r.take(e.out)          # overwritten by a constant: its old adjoint ends here
        r.restore_outs(e)
        return
    g = r.take(e.out)
    if g is not None:
        r.accum(r.val(sh(r, lst)), r.val(index), g)
    elif e.params is not None and e.params.get("subscript") and not e.params.get("in_range"):
        e.params = {**e.params, "may_raise": True}  # (no d_xs[i] to raise: this read does)
    r.restore_outs(e)


def _moved(r: Any, v: Any) -> bool:
    """An element only moved about (rows of a list never used as numbers): no
    derivative flows through it (``analyze._opaque_elements``)."""
    return type(v) is Var and id(v.kind.find()) in getattr(r.lowered, "moved_kinds", ())


def _write(r: Any, e: Eqn) -> None:
    """``xs[i] = v``: ``d_v += d_xs[i]; d_xs[i] = 0``; the old element comes back."""
    lst, index, value = e.args
    is_row = type(value) is Var and value.kind.is_list
    active = type(lst) is Var and r.active(lst) and not _moved(r, value)
    if type(lst) is Var and r.is_dict(lst):
        _write_map(r, e, active, is_row)
        return
    saves = [("getitem", lst, index)]
    if active and is_row:
        saves.append(("getitem", sh(r, lst), index))
    r.save(e, saves)
    if active and is_row:
        r.effect("setitem", (sh(r, lst), index, r.pop_saved(value.kind)))
    elif active:
        d = sh(r, lst)
        g = r.emit("getitem", (d, index))
        r.effect("setitem", (d, index, Const(0.0)))
        r.contribute(value, g)
    r.effect("setitem", (lst, index, r.pop_saved(value.kind if type(value) is Var else None)))


def _write_map(r: Any, e: Eqn, active: bool, is_row: bool) -> None:
    """``d[k] = v`` on a dict: as on a list, but the key may be new (then the adjoint
    sweep deletes it again)."""
    lst, index, value = e.args
    saves = [("get_or_missing", lst, index)]
    if active:
        saves.append(("get_or_missing", sh(r, lst), index))
    r.save(e, saves)
    if active:
        d = sh(r, lst)
        if not is_row:
            g = r.emit("getitem", (d, index))
            r.contribute(value, g)
        r.effect("put_back", (d, index, r.pop_saved()))
    r.effect("put_back", (lst, index, r.pop_saved()))


def _append(r: Any, e: Eqn) -> None:
    """``h.append(v)``: ``d_v += d_h.pop()``; ``h.pop()``."""
    lst, value = e.args
    if type(lst) is Var and r.active(lst):
        d = sh(r, lst)
        if type(value) is Var and value.kind.is_list:
            r.effect("pop", (d,))
        elif r.active(value):
            r.contribute(value, r.emit("pop", (d,)))
        else:
            r.effect("pop", (d,))
    r.effect("pop", (lst,))


def _pop(r: Any, e: Eqn) -> None:
    """``v = h.pop(i)``: ``d_h.insert(i, d_v)``; ``h.insert(i, v)`` (a negative ``i``
    counted from the end the list had: ``len(h) + 1 + i``)."""
    lst = e.args[0]
    rest = e.args[1:]
    op, where = ("insert", (_put_back_at(r, lst, rest[0]),)) if rest else ("append", ())
    out = e.outs[0] if e.outs else None
    active = type(lst) is Var and r.active(lst)
    if out is None:
        saved = Var("_old", Kind())
        r.save(e, [("getitem", lst, rest[0] if rest else Const(-1))])
        r.out.append(Eqn((saved,), "pop", (r.stack,), {"tape": True}, r.loc))
        if active:
            r.effect(op, (sh(r, lst),) + tuple(where) + (_zeros_of(r, saved),))
        r.effect(op, (lst,) + tuple(where) + (saved,))
        return
    if active:
        back = sh(r, out) if out.kind.is_list else r.take(out) or _zeros_of(r, out)
        r.effect(op, (sh(r, lst),) + tuple(where) + (back,))
    r.effect(op, (lst,) + tuple(where) + (out,))
    r.restore_outs(e)


def _zeros_of(r: Any, item: Var) -> Any:
    """The adjoint put back for an item taken out of a list no derivative reached: 0.0,
    or zeros like the item where it is only moved about (an object: it may be a row)."""
    if item.kind.find().tag == "obj":
        return r.emit("zeros_like", (item,), kind=item.kind, hint="_z")
    return Const(0.0)


def _put_back_at(r: Any, lst: Any, i: Any) -> Any:
    """Where the item ``h.pop(i)`` took goes back, in ``h`` as it is after the pop: ``i``,
    or ``len(h) + 1 + i`` for a negative ``i`` (``h.insert(i, v)`` would put it one
    place before)."""
    if type(i) is Const:
        if i.value >= 0:
            return i
        n = r.emit("len", (lst,), kind=Kind.num(), hint="_n")
        return r.emit("add", (n, Const(i.value + 1)), kind=Kind.num(), hint="_i")
    n = r.emit("len", (lst,), kind=Kind.num(), hint="_n")
    back = r.emit("add", (r.emit("add", (n, Const(1)), kind=Kind.num(), hint="_i"), i),
                  kind=Kind.num(), hint="_i")
    neg = r.emit("lt", (i, Const(0)), kind=Kind.num(), hint="_c")
    return r.emit("select", (neg, back, i), kind=Kind.num(), hint="_i")


def _insert(r: Any, e: Eqn) -> None:
    lst, index, value = e.args
    if type(lst) is Var and r.active(lst):
        g = r.emit("pop", (sh(r, lst), index))
        if not (type(value) is Var and value.kind.is_list):
            r.contribute(value, g)
    r.effect("pop", (lst, index))


def _extend(r: Any, e: Eqn) -> None:
    lst, other = e.args
    n = r.emit("len", (other,), hint="_n")
    active = type(lst) is Var and r.active(lst)

    def body(k: Var) -> None:
        if active:
            g = r.emit("pop", (sh(r, lst),))
            if r.scalar_elems(other) and r.active(other):
                j = r.emit("sub", (r.emit("sub", (n, Const(1))), k))
                r.accum(sh(r, other), j, g)
        r.effect("pop", (lst,))
    r.loop_range(n, body)


def _literal(r: Any, e: Eqn) -> None:
    """``h = [a, b]``: ``d_a += d_h[0]; d_b += d_h[1]`` (``d_h["key"]`` for a dict)."""
    if r.active(e.out):
        d = sh(r, e.out)
        keys = e.params["keys"] if e.prim == "dict" else range(len(e.args))
        for k, a in zip(keys, e.args):
            if r.active(a) and not a.kind.is_list:
                r.contribute(a, r.emit("getitem", (d, Const(k))))
    r.restore_outs(e)


def _result_shadow(r: Any, e: Eqn) -> tuple[Any, bool]:
    """The shadow of ``e``'s list result, and whether the lists were restored: for
    ``xs = xs[::-1]`` or ``hs = hs + [h]`` in a branch or loop (the result is one of the
    arguments, under one name), the new shadow gets a name of its own and the old list
    and its shadow come back first, so the adjoint adds from the one into the other."""
    d = sh(r, e.out)
    if e.out not in e.args:
        return d, False
    new = r.emit("copy", (d,), kind=d.kind, hint="_o")
    r.restore_outs(e)
    for m in r.mirrors:           # (the shadow's own restore, in the tape's order)
        r.restore_outs(m)
    r.mirrors.clear()
    return new, True


def _concat(r: Any, e: Eqn) -> None:
    out = e.out
    restored = False
    if r.active(out) and r.scalar_elems(out):
        d, restored = _result_shadow(r, e)
        offset: Any = Const(0)
        for part in e.args:
            if type(part) is Var and r.active(part):
                dp = sh(r, part)

                def body(k: Var, dp: Any = dp, offset: Any = offset) -> None:
                    j = r.emit("add", (k, offset)) if offset != Const(0) else k
                    r.accum(dp, k, r.emit("getitem", (d, j)))
                r.loop_range(r.emit("len", (part,), hint="_n"), body)
            offset = r.emit("add", (offset, r.emit("len", (part,), hint="_n"))) \
                if offset != Const(0) else r.emit("len", (part,), hint="_n")
    if not restored:
        r.restore_outs(e)


def _repeat(r: Any, e: Eqn) -> None:
    out = e.out
    src = e.args[0]
    restored = False
    if r.active(out) and r.scalar_elems(out) and type(src) is Var and r.active(src):
        d, restored = _result_shadow(r, e)
        ds = sh(r, src)
        m = r.emit("len", (src,), hint="_n")

        def body(k: Var) -> None:
            r.accum(ds, r.emit("mod", (k, m)), r.emit("getitem", (d, k)))
        r.loop_range(r.emit("len", (d,), hint="_n"), body)
    if not restored:
        r.restore_outs(e)


def _slice(r: Any, e: Eqn) -> None:
    out = e.out
    src = e.args[0]
    restored = False
    if r.active(out) and r.scalar_elems(out) and type(src) is Var and r.active(src):
        d, restored = _result_shadow(r, e)
        ds = sh(r, src)
        rng = r.emit("range", (Const(0), r.emit("len", (src,), hint="_n"), Const(1)),
                     kind=Kind.obj())
        idx = r.emit("slice", (rng,) + e.args[1:], kind=Kind.obj(), hint="_idx")

        def body(k: Var) -> None:
            r.accum(ds, r.emit("getitem", (idx, k)), r.emit("getitem", (d, k)))
        r.loop_range(r.emit("len", (d,), hint="_n"), body)
    if not restored:
        r.restore_outs(e)


def _reduce(scale: str | None) -> Callable[[Any, Eqn], None]:
    def handler(r: Any, e: Eqn) -> None:
        """``s = sum(xs)``: ``d_xs[k] += d_s`` for every ``k`` (``/ len`` for a mean)."""
        lst = e.args[0]
        g = r.take(e.out) if r.active(e.out) else None
        r.restore_outs(e)
        if g is None:
            return
        if len(e.args) > 1:
            r.contribute(e.args[1], g)
        if not r.active(lst):
            return
        term = g if scale is None else r.emit("truediv", (g, r.emit("len", (lst,), hint="_n")))
        d = sh(r, lst)
        r.loop_range(r.emit("len", (lst,), hint="_n"), lambda k: r.accum(d, k, term))
    return handler


def _extreme(r: Any, e: Eqn) -> None:
    """``m = max(xs)``: the first element equal to ``m`` gets ``d_m``, as Python picks it."""
    lst = e.args[0]
    if e.out.kind.is_list:           # a row: its shadow is d_xs[i] (shadows.py)
        r.restore_outs(e)
        return
    g = r.take(e.out) if r.active(e.out) else None
    if g is not None and r.active(lst):
        i = r.emit("callmethod", (lst, e.out), {"name": "index", "kw": ()}, hint="_i")
        r.accum(sh(r, lst), i, g)
    r.restore_outs(e)


def _reverse_inplace(r: Any, e: Eqn) -> None:
    lst = e.args[0]
    if r.active(lst):
        r.effect("reverse", (sh(r, lst),))
    r.effect("reverse", (lst,))


def _alias(r: Any, e: Eqn) -> None:
    r.restore_outs(e)


def _to_array(r: Any, e: Eqn) -> None:
    """``a = np.array(xs)`` (a list of numbers, or of arrays: their stack):
    ``d_xs[k] += d_a[k]`` for each k (a number, or a row of ``d_a``)."""
    lst = e.args[0]
    g = r.take(e.out) if r.active(e.out) else None
    r.restore_outs(e)
    if g is None or not (type(lst) is Var and r.active(lst)):
        return
    d, n = sh(r, lst), r.emit("len", (r.val(lst),))
    r.loop_range(n, lambda k: r.accum(d, k, r.emit("aget", (g, k), {"index": (("i", 1),)})))


def _join(r: Any, e: Eqn) -> None:
    """``a = np.concatenate(xs)`` (or stack, vstack ... of a list made at run time):
    ``d_xs[k] += piece k of d_a``, cut as numpy joined them (``_unjoin``).  An array
    joined as the sequence of its rows gets the pieces stacked back into its shape."""
    lst = e.args[0]
    g = r.take(e.out) if r.active(e.out) else None
    r.restore_outs(e)
    if g is None or not (type(lst) is Var and r.active(lst)):
        return
    xs = r.val(lst)
    parts = r.emit("np_unjoin", (g, xs), dict(e.params or {}), kind=Kind.list_of(Kind.array()),
                   hint="_parts")
    if not lst.kind.is_list:
        r.contribute(lst, r.emit("list_to_array", (parts,), kind=Kind.array()))
        return
    d = sh(r, lst)
    r.loop_range(r.emit("len", (xs,)), lambda k: r.accum(
        d, k, r.emit("getitem", (parts, k), kind=Kind.array())))


_HANDLERS: dict[str, Callable[[Any, Eqn], None]] = {
    "getitem": _read, "setitem": _write, "append": _append, "pop": _pop, "insert": _insert,
    "extend": _extend, "list": _literal, "tuple": _literal, "dict": _literal, "concat": _concat,
    "repeat": _repeat, "slice": _slice, "sum": _reduce(None), "fsum": _reduce(None),
    "mean": _reduce("len"), "fmean": _reduce("len"), "max_of": _extreme, "min_of": _extreme,
    "reverse": _reverse_inplace, "copy": _alias, "list_to_array": _to_array,
    "join_list": _join,
}
