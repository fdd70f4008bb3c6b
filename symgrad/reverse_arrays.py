"""Reverse mode for arrays (a mixin of :class:`symgrad.reverse.Reverse`).

* An elementwise contribution is summed back to its input's shape where the
  input was broadcast: ``np.sum(term, axis=0)`` when the patterns say so, the
  helper ``_unbroadcast(term, x)`` when they cannot tell, ``np.sum(term)`` for a
  number that met an array.
* An array operation's adjoint terms come from its declaration in
  :mod:`symgrad.array_ops` (one place for each transpose).
* A read ``x[idx]`` scatters its adjoint into zeros shaped like ``x``; a write
  ``x[idx] = v`` takes ``d_v`` from ``d_x[idx]``, zeroes it there, and puts the
  old elements back (saved on the tape before the write).
"""

from __future__ import annotations

from typing import Any

from .array_ops import ARRAY_OPS, ArrayBuilder, broadcast, unbroadcast_axes
from .ir import Const, Eqn, Kind, Var
from .shapes import _index_pattern, pattern_of

__all__ = ["ArrayReverse"]


class ArrayReverse:
    """Adjoints of array operations and of broadcasting."""

    def pattern(self, a: Any) -> Any:
        return pattern_of(self.pats, a)

    def unbroadcast(self, term: Any, out: Any, arg: Any, others: tuple = ()) -> Any:
        """``term`` (shaped like ``out``) summed to the shape of ``arg``; ``others`` are
        the operation's other operands (when all are numbers, nothing was broadcast)."""
        if type(out) is not Var or out.kind.find().tag != "array":
            return term
        pa = self.pattern(arg)
        po = self.pattern(out)
        if pa == po and pa is not None and "?" not in pa:
            return term
        if pa == ():                                   # a number met an array
            return self.emit("np_sum", (term,), {"spelling": "function"}, kind=Kind.num())
        if all(self.pattern(o) == () for o in others if o is not arg):
            return term                                # x ** 2, x * 3.0: same shape
        how = unbroadcast_axes(po, pa)
        if how is None:
            return self.emit("np_sum_like", (term, self.val(arg)), None, kind=Kind.array())
        kept, lead = how
        if kept:
            term = self.emit("np_sum", (term,), {"axis": _axis(kept), "keepdims": True,
                                                 "spelling": "function"}, kind=Kind.array())
        if lead:
            term = self.emit("np_sum", (term,), {"axis": _axis(lead), "spelling": "function"},
                             kind=Kind.array())
        return term

    # ------------------------------------------------------------------ operations
    def rev_array(self, e: Eqn) -> None:
        if e.prim in ("aset", "aset_add"):
            self.rev_aset(e)
            return
        out = e.out
        g = self.take(out) if self.active(out) else None
        targets = [i for i, a in enumerate(e.args) if self.active(a)]
        if g is None or not targets:
            self.restore_outs(e)
            return
        b = ArrayBuilder(self.out, self.loc)
        # the sizes of c.reshape(n, n) are operands no adjoint reads (not read again)
        read = 1 if e.prim in ("np_reshape_dims", "np_broadcast_dims") else len(e.args)
        if out in e.args:                       # x = x.T in a loop: old x after the restore
            keep = self.emit("copy", (out,), kind=out.kind, hint="_o")
            self.restore_outs(e)
            view = Eqn((keep,), e.prim, self.vals(e.args, read), e.params, e.loc)
        else:
            view = Eqn(e.outs, e.prim, self.vals(e.args, read), e.params, e.loc)
        pats = [self.pattern(a) for a in e.args]
        if e.prim == "aget":
            terms = [self.scatter(b, g, view)] + [None] * (len(e.args) - 1)
        else:
            terms = ARRAY_OPS[e.prim].vjp(b, g, view, pats)
        spread = e.prim != "aget" and ARRAY_OPS[e.prim].broadcasts
        for i in targets:
            if i < len(terms) and terms[i] is not None:
                term = self.unbroadcast(terms[i], out, e.args[i], e.args) if spread else terms[i]
                self.contribute(e.args[i], term)
        if out not in e.args:
            self.restore_outs(e)

    def vals(self, args: tuple, read: int) -> tuple:
        return tuple(self.val(a) if k < read else a for k, a in enumerate(args))

    def scatter(self, b: ArrayBuilder, g: Any, e: Eqn) -> Any:
        """The adjoint of ``x[idx]``: ``d_x[idx] += g``, in place when ``d_x`` is an
        array this sweep owns (so a loop over elements costs one addition each),
        else into zeros like ``x``."""
        x = e.args[0]
        index = e.params["index"]
        advanced = any(it[0] == "a" and not self.is_mask(e.args[it[1]]) for it in index)
        key = e.outs[0] if e.outs else x
        g = self.unbroadcast_piece(g, key, x, index)
        masked = self.masked_number(g, x, e)
        if masked is not None:
            return masked
        if type(x) is Var and self.active(x) and x in self.scattered:
            self.materialize(x)
            if x not in self.live:
                # (d_x may still be the value of pending terms: acc = acc + acc[1:2] in a
                # loop reads the old acc, whose adjoint restarts here; or be the adjoint
                # scattered itself: x = x[::-1] in a branch or loop)
                if g is self.d(x):
                    g = self.emit("copy", (g,), kind=g.kind, hint="_g")
                self.before_write(self.d(x))
                self.out.append(Eqn((self.d(x),), "np_zeros_like", (self.val(x),), None,
                                    self.loc))
                self.live.add(x)
                self.owned.add(x)
            else:
                self.own(x)
            self.effect("aset_add", (self.d(x), *e.args[1:], g),
                        {"index": e.params["index"], "repeated": advanced})
            return None
        z = b.call("np_zeros_like", (x,))
        b.effect("aset_add", (z, *e.args[1:], g), index=e.params["index"],
                 repeated=advanced)
        return z

    def index_defs(self) -> dict:
        """Each variable of the primal code -> the equations that define it."""
        defs = getattr(self, "_index_defs", None)
        if defs is None:
            from .ir import walk
            defs = self._index_defs = {}
            for d in walk(self.primal):
                if type(d) is Eqn:
                    for o in d.outs:
                        defs.setdefault(o, []).append(d)
        return defs

    def is_mask(self, v: Any) -> bool:
        """Is index ``v`` a boolean mask (every value it gets is a comparison, ``r > 0``)?
        A mask picks each element at most once: its adjoint adds with ``d_x[m] += g``."""
        masks = getattr(self, "_masks", None)
        if masks is None:
            masks = self._masks = {o for o, ds in self.index_defs().items()
                                   if all(d.prim in _COMPARISONS for d in ds)}
        if type(v) is not Var or v in self.param_set:
            return False
        if v in masks:
            return True
        made = next((d for d in reversed(self.out) if type(d) is Eqn and d.outs and
                     d.outs[0] is v), None)            # recomputed here (r > 0 read again)
        return made is not None and made.prim in _COMPARISONS

    def masked_number(self, g: Any, x: Any, e: Eqn) -> Any:
        """The adjoint of ``x[m]`` (``m`` a mask shaped like ``x``) when its adjoint is one
        number ``s`` spread over the picked elements (``np.sum(x[m])``):
        ``np.where(m, s, 0.0)``, which needs no count of the picked elements (a Dask
        array does not know it)."""
        template = e.params["index"]
        if len(template) != 1 or template[0][0] != "a" or type(g) is not Var:
            return None
        m = e.args[template[0][1]]
        pm, px = self.pattern(m), self.pattern(x)
        if pm is None:                                   # r > 0 recomputed here
            made = next((d for d in reversed(self.out) if type(d) is Eqn and d.outs and
                         d.outs[0] is m), None)
            if made is not None and made.prim in _COMPARISONS:
                pm = broadcast(*(self.pattern(a) for a in made.args))
        if not self.is_mask(m) or pm is None or pm != px or "?" in px:
            return None
        spread = next((d for d in reversed(self.out) if type(d) is Eqn and d.outs and
                       d.outs[0] is g), None)
        if spread is None or spread.prim != "np_broadcast_like" or \
                self.pattern(spread.args[0]) != () or self.counts(spread.args[0]):
            return None
        return self.emit("np_where", (self.val(m), spread.args[0], Const(0.0)), None,
                         kind=Kind.array())

    def counts(self, s: Any) -> bool:
        """Is number ``s`` computed from a count of elements (``d_out / x[m].size``, the
        adjoint of np.mean(x[m]))?  A Dask array does not know how many elements a mask
        picks (its size is nan): such an adjoint keeps its broadcast, which fails there
        rather than giving nan."""
        todo, seen = [s], set()
        while todo:
            v = todo.pop()
            if type(v) is not Var or v in seen:
                continue
            seen.add(v)
            d = next((d for d in reversed(self.out) if type(d) is Eqn and d.outs and
                      d.outs[0] is v), None)
            if d is not None:
                if d.prim == "np_size_ratio":
                    return True
                todo.extend(d.args)
        return False

    def unbroadcast_piece(self, g: Any, out: Any, x: Any, template: tuple) -> Any:
        return g

    def rev_aset(self, e: Eqn) -> None:
        """``x[idx] = v``: ``d_v`` is ``d_x[idx]`` (summed to ``v``'s shape), ``d_x[idx]``
        becomes 0, and ``x[idx]`` gets its old elements back.  ``np.add.at(x, idx, v)``
        (``aset_add``): ``d_v`` is ``d_x[idx]``, ``d_x`` stays (the old elements pass
        through), the old elements come back."""
        x, v = e.args[0], e.args[-1]
        index = e.args[1:-1]
        params = e.params
        self.save_aset(e)
        if self.active(x):
            self.flush(x)        # (a returned array's cotangent may still be pending)
        if e.prim == "aset_add":
            if self.active(x) and self.active(v):
                self.materialize(x)
                if x in self.live:
                    region = _index_pattern(self.pattern(x), params["index"], e.args)
                    piece = self.emit("aget" if region == () else "aget_copy",
                                      (self.d(x), *index), params,
                                      kind=Kind.num() if region == () else Kind.array())
                    self.contribute(v, self.unbroadcast_to(piece, v, region))
            old = self.pop_saved(self.tape_kind(x, Kind.array()))
            self.effect("aset", (x, *index, old),
                        {k: w for k, w in params.items() if k != "repeated"})
            return
        if self.active(x):
            self.materialize(x)
            if x in self.live:
                a = self.d(x)
                region = _index_pattern(self.pattern(x), params["index"], e.args)
                prim = "aget" if region == () else "aget_copy"
                piece = self.emit(prim, (a, *index), params,
                                  kind=Kind.num() if region == () else Kind.array())
                if self.active(v):
                    self.contribute(v, self.unbroadcast_to(piece, v, region))
                self.own(x)
                self.effect("aset", (a, *index, Const(0.0)), params)
        old = self.pop_saved(self.tape_kind(x, Kind.array()))
        self.effect("aset", (x, *index, old), params)

    def unbroadcast_to(self, piece: Any, v: Any, region: Any) -> Any:
        """The part of ``d_x`` a write ``x[idx] = v`` covered, summed to ``v``'s shape."""
        pv = self.pattern(v)
        if pv == region and pv is not None and "?" not in pv:
            return piece
        if pv == ():
            return self.emit("np_sum", (piece,), {"spelling": "function"}, kind=Kind.num())
        how = unbroadcast_axes(region, pv)
        if how is None:
            return self.emit("np_sum_like", (piece, self.val(v)), None, kind=Kind.array())
        kept, lead = how
        if kept:
            piece = self.emit("np_sum", (piece,), {"axis": _axis(kept), "keepdims": True,
                                                   "spelling": "function"}, kind=Kind.array())
        if lead:
            piece = self.emit("np_sum", (piece,), {"axis": _axis(lead),
                                                   "spelling": "function"}, kind=Kind.array())
        return piece

    def own_for_loop(self, body: list, keep: set) -> None:
        """Before a loop whose body indexes an array, its adjoint becomes an array the
        loop may change in place (once, not on every trip)."""
        from .ir import walk
        indexed = {x.args[0] for x in walk(body) if type(x) is Eqn and x.prim in (
            "aget", "aset") and type(x.args[0]) is Var}
        for v in sorted(indexed & keep, key=lambda v: v.n):
            if v in self.live and self.active(v):
                self.own(v)

    def own(self, x: Var) -> None:
        """Make ``d_x`` an array this sweep may change in place: a copy unless it was
        made here and nothing else refers to it."""
        a = self.d(x)
        if x in self.owned and not self.referenced(a):
            return
        self.before_write(a)
        self.out.append(Eqn((a,), "np_copy_of", (a, self.val(x)), None, self.loc))
        self.owned.add(x)

    def referenced(self, a: Var) -> bool:
        if a not in self.held:
            return False
        if any(op is a for op in self.alias.values()):
            return True
        return any(t is a for lst in self.terms.values() for t, _ in lst)

    def save_aset(self, e: Eqn) -> None:
        """Before ``x[idx] = v`` the primal sweep saves the elements it overwrites
        (a copy, unless one number is overwritten)."""
        x = e.args[0]
        one = _index_pattern(self.pattern(x), e.params["index"], e.args) == ()
        self.save(e, [("eqn", "aget" if one else "aget_copy", (x, *e.args[1:-1]), e.params,
                       self.tape_kind(x, Kind.num() if one else Kind.array()))])


_COMPARISONS = {"gt", "ge", "lt", "le", "eq", "ne"}


def _axis(axes: tuple) -> Any:
    return axes[0] if len(axes) == 1 else tuple(axes)
