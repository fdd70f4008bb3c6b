"""Shadows: the adjoint structure of lists, kept in step during the primal sweep.

A list that carries derivatives gets a *shadow* ``d_xs`` of the same structure,
holding the adjoints of its elements.  Every operation that creates, aliases or
reshapes a list is mirrored on the shadows right after it (while every shadow
element is still zero), so the shadows share exactly as the lists share:

=================================  ==========================================
primal                             mirrored on the shadows
=================================  ==========================================
``h = [a, b]``                     ``d_h = [0.0, 0.0]`` (a list element: its shadow)
``y = xs``                         ``d_y = d_xs``
``row = W[i]`` (a row)             ``d_row = d_W[i]``
``h.append(v)``                    ``d_h.append(0.0)`` (or ``d_v`` for a list ``v``)
``v = h.pop()``                    ``d_h.pop()``
``W[0] = row`` (a row)             ``d_W[0] = d_row``
``z = xs + ys`` / ``xs * 3`` / ``xs[1:]``   the same operation on the shadows
a parameter ``xs``                 ``d_xs = [0.0] * len(xs)`` at the start
=================================  ==========================================

Scalar element writes (``h[i] = v``) change no structure and are not mirrored;
their adjoints are handled in the adjoint sweep.
"""

from __future__ import annotations

from typing import Any

from .ir import Const, Eqn, For, If, Kind, Var, While

__all__ = ["add_shadows"]

#: at most this many flat lists of numbers get shadows of their own (more: one call)
MAX_OWN_SHADOWS = 4

_SAME_OP = {"concat", "repeat", "slice", "copy", "getitem", "pop"}
_MUTATORS = {"append": 1, "insert": 2, "setitem": 2}


def add_shadows(rev: Any, block: list, params: list[Var]) -> list:
    """``block`` with the shadow operations inserted (and shadows of list parameters
    created first)."""
    from .pipeline import uses_numpy
    share = getattr(rev, "share_lists", False)
    moved = getattr(rev.lowered, "moved_kinds", ())
    lists = [p for p in params if p.kind.is_list and rev.active(p) or share and p in rev.wrt
             and (p.kind.is_list or (p.kind.find().tag is None or id(p.kind.find()) in moved)
                  and not rev.active(p))]
    # Flat lists of numbers (a few of them, and no other list parameter) get shadows of
    # their own, [0.0] * len(x), shared when the same list is passed twice:
    # d_w = d_x if w is x else [0.0] * len(w).  Otherwise one call makes them all,
    # sharing a shadow wherever a list is held twice (inside an argument or by two).
    if not share and 1 <= len(lists) <= MAX_OWN_SHADOWS and all(flat_numbers(p) for p in lists):
        # (in code that computes with numpy, the "numbers" may be arrays at the call:
        # their zeros need the arrays' shapes, which _zeros_like gives)
        mk = {"mirror": True, "arrays": True} if uses_numpy(rev.lowered) else {"mirror": True}
        start = []
        for k, p in enumerate(lists):
            earlier = lists[:k]
            shadow: Any = Var("_z", p.kind) if earlier else sh(rev, p)
            start.append(Eqn((shadow,), "zeros_like", (p,), mk, None))
            for j, q in enumerate(reversed(earlier)):
                same = Var("_c", Kind.num())
                pick = sh(rev, p) if j == len(earlier) - 1 else Var("_z", p.kind)
                start += [Eqn((same,), "is", (p, q), {"mirror": True}, None),
                          Eqn((pick,), "select", (same, sh(rev, q), shadow),
                              {"mirror": True}, None)]
                shadow = pick
    elif lists:
        start = [Eqn(tuple(sh(rev, p) for p in lists), "zeros_like", tuple(lists),
                     {"mirror": True}, None)]
    else:
        start = []
    return start + _block(rev, block)


def flat_numbers(p: Var) -> bool:
    k = p.kind.find()
    return k.tag == "list" and k.elem is not None and k.elem.find().tag == "num"


def sh(rev: Any, v: Var) -> Var:
    """The shadow variable of list variable ``v``."""
    s = rev.shadow.get(v)
    if s is None:
        s = rev.shadow[v] = Var("d_", v.kind, base=v)
    return s


def _block(rev: Any, block: list) -> list:
    out: list = []
    for s in block:
        t = type(s)
        if t is Eqn:
            out.append(s)
            out.extend(_mirror(rev, s))
        elif t is If:
            s.then = _block(rev, s.then)
            s.orelse = _block(rev, s.orelse)
            out.append(s)
        elif t is For:
            s.body = _block(rev, s.body)
            out.append(s)
        elif t is While:
            s.test = _block(rev, s.test)
            s.body = _block(rev, s.body)
            out.append(s)
        else:
            out.append(s)
    return out


def _elem(rev: Any, a: Any) -> Any:
    """The shadow of a list element: its shadow list, or 0.0 for a number (``Eqn``:
    zeros to make, for a list not differentiated or an array)."""
    if type(a) is Var and a.kind.is_list:
        return sh(rev, a) if rev.active(a) else Eqn
    if type(a) is Var and a.kind.is_array:
        return Eqn
    return Const(0.0)


def _mirror(rev: Any, e: Eqn) -> list:
    p = e.prim
    mk = {"mirror": True}
    if p in _MUTATORS and e.args and type(e.args[0]) is Var and rev.active(e.args[0]):
        lst = sh(rev, e.args[0])
        value = e.args[_MUTATORS[p]]
        if p == "setitem" and not (type(value) is Var and value.kind.is_list):
            if rev.is_dict(e.args[0]):          # a key may be new: the shadow gets it too
                pre = []                        # (an array's: zeros its adjoint can take)
                zero = _zeros(rev, value, e, pre) if _elem(rev, value) is Eqn else Const(0.0)
                return pre + [Eqn((), "setitem", (lst, e.args[1], zero), mk, e.loc)]
            return []
        elem, pre = _elem(rev, value), []
        if elem is Eqn:
            elem = _zeros(rev, value, e, pre)
        return pre + [Eqn((), p, (lst,) + e.args[1:_MUTATORS[p]] + (elem,), mk, e.loc)]
    if p in ("extend", "reverse", "clear") and e.args and rev.active(e.args[0]):
        rest = tuple(sh(rev, a) if type(a) is Var and a.kind.is_list else a
                     for a in e.args[1:])
        return [Eqn((), p, (sh(rev, e.args[0]),) + rest, mk, e.loc)]
    if p == "pop" and e.args and type(e.args[0]) is Var and rev.active(e.args[0]):
        outs = (sh(rev, e.out),) if e.outs and e.out.kind.is_list else ()
        return [Eqn(outs, "pop", (sh(rev, e.args[0]),) + e.args[1:], mk, e.loc)]
    if not e.outs or not e.out.kind.is_list or not rev.active(e.out):
        return []
    out = sh(rev, e.out)
    if p in ("list", "tuple", "dict"):
        pre: list = []
        elems = []
        for a in e.args:
            x = _elem(rev, a)
            elems.append(_zeros(rev, a, e, pre) if x is Eqn else x)
        params = dict(mk, keys=e.params["keys"]) if p == "dict" else mk
        return pre + [Eqn((out,), "list" if p != "dict" else "dict", tuple(elems), params,
                          e.loc)]
    if p in _SAME_OP and type(e.args[0]) is Var and rev.active(e.args[0]):
        args = tuple(_shadow_arg(rev, a, e, []) for a in e.args[:1]) + e.args[1:]
        if p == "concat":
            pre = []
            args = tuple(_shadow_arg(rev, a, e, pre) for a in e.args)
            return pre + [Eqn((out,), "concat", args, mk, e.loc)]
        return [Eqn((out,), p, args, mk, e.loc)]
    if p == "concat":
        pre = []
        args = tuple(_shadow_arg(rev, a, e, pre) for a in e.args)
        return pre + [Eqn((out,), "concat", args, mk, e.loc)]
    if p in ("max_of", "min_of") and rev.active(e.args[0]):
        # m = max(rows): the row Python picks, the first equal to m: d_m = d_rows[i]
        i = Var("_i", Kind.num())
        return [Eqn((i,), "callmethod", (e.args[0], e.out), {"name": "index", "kw": ()},
                    e.loc), Eqn((out,), "getitem", (sh(rev, e.args[0]), i), mk, e.loc)]
    if p != "zeros_like" and any(type(a) is Var and a.kind.is_list and rev.active(a)
                                 for a in e.args):
        from .errors import SymgradError    # fresh zeros would drop the derivative
        raise SymgradError(f"reverse mode has no shadow for the list made by {p!r} "
                           f"({e.loc.text if e.loc else 'generated'}); please report it")
    return [Eqn((out,), "zeros_like", (e.out,), mk, e.loc)]


def _shadow_arg(rev: Any, a: Any, e: Eqn, pre: list) -> Any:
    if type(a) is Var and a.kind.is_list and rev.active(a):
        return sh(rev, a)
    return _zeros(rev, a, e, pre)


def _zeros(rev: Any, a: Any, e: Eqn, pre: list) -> Var:
    """Zeros shaped like a list that carries no derivative (e.g. a constant tuple)."""
    z = Var("_z", a.kind if type(a) is Var else Kind.list_of())
    prim = "np_zeros_like" if type(a) is Var and a.kind.is_array else "zeros_like"
    pre.append(Eqn((z,), prim, (a,), {"mirror": True}, e.loc))
    return z
