"""Turning the reverse pass's restore placeholders into tape pushes and pops.

After the adjoint sweep is built, :func:`symgrad.tape.live_restores` says which
restores are needed; each becomes ``v = _stack.pop()`` and gets its push in the
primal sweep, at the place its mode says (see :mod:`symgrad.tape`).  Pushes at
one place are written in the reverse order of their pops, so the one stack
stays balanced on every path.
"""

from __future__ import annotations

from typing import Any

import sys

from .ir import Const, Eqn, For, Global, If, Kind, Var, While, walk
from .raising import without_may_raise
from .tape import live_restores

__all__ = ["apply_tape"]


def apply_tape(rev: Any, primal: list, bwd: list, grads: list, value: Any) -> tuple[list, list]:
    if not rev.saves_before and not any(type(s) is Eqn and s.prim == "restore"
                                        for s in walk(bwd)):
        return primal, bwd            # (nothing to save: both sweeps stand as they are)
    live_out = {g for g in grads if type(g) is Var}
    if type(value) is Var and rev.with_value:
        live_out.add(value)
    kept = live_restores(bwd, live_out, rev.restorable)
    kept = _whole_sites(bwd, kept)
    plan = _Plan()
    bwd = _resolve(bwd, kept, plan, rev)
    fwd = _forward(primal, plan, rev)
    pre = _preinit(plan, rev) + _guard_reads(fwd, plan)
    if plan.used or rev.saves_before:
        for st in sorted(rev.stacks.values(), key=lambda v: v.hint, reverse=True):
            if _uses(st, bwd):
                pre.insert(0, Eqn((st,), "list", (), {"tape": True}, None))
    return pre + fwd, bwd


class _Plan:
    def __init__(self) -> None:
        self.old: dict[int, list[Var]] = {}          # id(eqn) -> vars pushed before it
        self.new: dict[int, list[Var]] = {}          # id(loop) -> vars pushed at body end
        self.around: dict[int, list[Var]] = {}       # id(loop) -> vars pushed before it
        self.preinit: dict[Var, None] = {}
        self.used = False


def _site_key(e: Eqn) -> Any:
    site = e.params["site"]
    v = e.outs[0]
    return (id(site), v) if type(site) is not tuple else (id(site[0]), v, e.params["mode"])


def _whole_sites(bwd: list, kept: set[int]) -> set[int]:
    """A site's saves happen every time it runs, so if one of its restores is needed,
    all of them are (the stack stays balanced)."""
    restores = [s for s in walk(bwd) if type(s) is Eqn and s.prim == "restore"]
    needed = {_site_key(s) for s in restores if id(s) in kept}
    return {id(s) for s in restores if _site_key(s) in needed}


def _resolve(block: list, kept: set[int], plan: _Plan, rev: Any) -> list:
    out: list = []
    for s in block:
        t = type(s)
        if t is Eqn and s.prim == "restore":
            if id(s) not in kept:
                continue
            v = s.outs[0]
            mode, site = s.params["mode"], s.params["site"]
            plan.used = True
            if mode == "old":
                saved = plan.old.setdefault(id(site), [])
                if v not in saved:            # one save per execution of the site
                    saved.append(v)
                if v not in rev.dfn.sure_at.get(id(site), ()):
                    plan.preinit[v] = None
            else:
                loop = site[0]
                saved = (plan.new if mode == "new" else plan.around).setdefault(id(loop), [])
                if v not in saved:
                    saved.append(v)
                if mode == "around" and v not in rev.dfn.sure_before_loop.get(id(loop), ()):
                    plan.preinit[v] = None
            out.append(Eqn((v,), "pop", (rev.stack_for(rev.tape_kind(v, v.kind)),),
                           {"tape": True}, s.loc))
            continue
        if t is If:
            s.then = _resolve(s.then, kept, plan, rev)
            s.orelse = _resolve(s.orelse, kept, plan, rev)
        elif t is For:
            s.body = _resolve(s.body, kept, plan, rev)
        out.append(s)
    return out


def _push(rev: Any, v: Any, loc: Any) -> Eqn:
    kind = rev.tape_kind(v, v.kind) if type(v) is Var else None
    return Eqn((), "append", (rev.stack_for(kind), v), {"tape": True}, loc)


def _uses(stack: Var, bwd: list) -> bool:
    return any(type(s) is Eqn and s.prim == "pop" and s.args and s.args[0] is stack
               for s in walk(bwd))


def _saved_kind(lst: Any, index: Any) -> Kind:
    """The kind of ``lst[index]`` (the tape it goes on must match its pop's)."""
    if type(lst) is not Var:
        return Kind()
    k = lst.kind.find()
    if k.tag == "list":
        return lst.kind.element
    if k.tag == "map" and type(index) is Const:
        return lst.kind.field(index.value)
    return Kind()


def _forward(block: list, plan: _Plan, rev: Any) -> list:
    out: list = []
    done: set[int] = set()
    for k, s in enumerate(block):
        t = type(s)
        if t is Eqn:
            if id(s) not in done:
                # the saves of the shadow operations that follow ``s`` come first: the
                # adjoint sweep restores them after ``s``'s own
                j = k + 1
                while j < len(block) and type(block[j]) is Eqn and \
                        (block[j].params or {}).get("mirror"):
                    for v in reversed(plan.old.get(id(block[j]), ())):
                        out.append(_push(rev, v, s.loc))
                    done.add(id(block[j]))
                    j += 1
                for spec in rev.saves_before.get(id(s), ()):
                    if spec[0] == "eqn":             # an array's elements: x[idx].copy()
                        _, prim, args, params, kind = spec
                        tmp = Var("_t", kind)
                        out.append(Eqn((tmp,), prim, args, params, s.loc))
                        out.append(_push(rev, tmp, s.loc))
                        continue
                    prim, lst, index = spec
                    tmp = Var("_t", _saved_kind(lst, index) if prim == "getitem" else Kind())
                    # (get_or_missing: a dict's key may not be there yet)
                    out.append(Eqn((tmp,), prim, (lst, index) + (
                        (rev.missing(),) if prim == "get_or_missing" else ()), None, s.loc))
                    out.append(_push(rev, tmp, s.loc))
                for v in reversed(plan.old.get(id(s), ())):
                    out.append(_push(rev, v, s.loc))
            out.append(s)
            continue
        if t is If:
            s.then = _forward(s.then, plan, rev)
            s.orelse = _forward(s.orelse, plan, rev)
        elif t in (For, While):
            for v in reversed(plan.around.get(id(s), ())):
                out.append(_push(rev, v, s.loc))
            s.body = _forward(s.body, plan, rev)
            if t is While:
                s.test = _forward(s.test, plan, rev)
            for v in reversed(plan.new.get(id(s), ())):
                s.body.append(_push(rev, v, None))
        out.append(s)
    return out


def _preinit(plan: _Plan, rev: Any) -> list:
    """``v = 0.0`` (``None`` for an object, ``[]`` for a list, ``{}`` for a dict) for a
    restored variable that may be unset where its value is saved: the saved value is
    never read then.  A number or an array starts as a number, so the generated code
    can be differentiated again (kinds agree)."""
    out = []
    for v in plan.preinit:
        tag = v.kind.find().tag
        if tag == "list":     # a list starts as a list (differentiated again, kinds agree)
            out.append(Eqn((v,), "list", (), {"tape": True}, None))
        elif tag == "map" and not v.kind.find().attrs:     # a dict as a dict
            out.append(Eqn((v,), "dict", (), {"keys": (), "tape": True}, None))
        else:
            zero = 0.0 if tag in ("num", "array", None) else None
            out.append(Eqn((v,), "copy", (Const(zero),), {"tape": True}, None))
    return out


def _guard_reads(fwd: list, plan: _Plan) -> list:
    """A variable set beforehand for the tape (:func:`_preinit`) that the function reads
    where it may not be assigned (a read :mod:`symgrad.unbound` marks: ``tm`` read in a
    loop before the body assigns it): a flag says whether the function has assigned it,
    and the read raises Python's ``UnboundLocalError`` while it has not.  Returns the
    flags' first values; ``fwd`` gets the rest."""
    reads = {a for s in walk(fwd) if type(s) is Eqn and s.prim == "copy" and s.params
             and s.params.get("may_raise") for a in s.args[:1] if type(a) is Var}
    flags = {v: Var("_assigned_" + (v.name or v.hint).split("#")[0].lstrip("_"), Kind.num())
             for v in plan.preinit if v in reads}
    if not flags:
        return []
    _guard_block(fwd, flags)
    return [Eqn((f,), "copy", (Const(False),), {"tape": True}, None) for f in flags.values()]


def _guard_block(block: list, flags: dict) -> None:
    out: list = []
    for s in block:
        t = type(s)
        if t is Eqn and s.prim == "copy" and s.params and s.params.get("may_raise") and \
                s.args[0] in flags:
            out += _unbound_check(s.args[0], flags[s.args[0]], s.loc)
            s.params = without_may_raise(s.params)
        elif t is If:
            _guard_block(s.then, flags)
            _guard_block(s.orelse, flags)
        elif t is For or t is While:
            _guard_block(s.body, flags)
            if t is While:
                _guard_block(s.test, flags)
            if t is For and s.var in flags:
                s.body.insert(0, Eqn((flags[s.var],), "copy", (Const(True),), {"tape": True},
                                     s.loc))
        out.append(s)
        if t is Eqn:
            out += [Eqn((flags[o],), "copy", (Const(True),), {"tape": True}, s.loc)
                    for o in s.outs if o in flags]
    block[:] = out


def _unbound_check(v: Var, flag: Var, loc: Any) -> list:
    name = (v.name or v.hint).split("#")[0]
    msg = (f"cannot access local variable {name!r} where it is not associated with a value"
           if sys.version_info >= (3, 11) else f"local variable {name!r} referenced before "
           "assignment")
    unset = Var("_c", Kind.num())
    err = Var("_err", Kind.obj())
    fail = [Eqn((err,), "call", (Global("UnboundLocalError", UnboundLocalError, "builtin"),
                                 Const(msg)),
                {"kw": (), "label": "UnboundLocalError", "constant": True}, loc),
            Eqn((), "raise", (err,), None, loc)]
    return [Eqn((unset,), "not", (flag,), None, loc), If(unset, fail, [], loc)]
