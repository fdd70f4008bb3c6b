"""Forward mode: from a function's IR to the IR of its *tangent sweep*.

Beside every equation of the function the pass writes its tangent: for an
elementwise primitive ``t_out = sum(partial_i * t_arg_i)`` from the rule table
(the very partials reverse mode uses), and for a list operation the same
operation applied to the tangents (``t_h.append(t_v)``, ``t_x = t_xs[i]``,
``t_s = sum(t_xs)``), since list operations are linear.  Branches and loops keep
their structure and need no tape.

The pass runs on any IR, including the output of the reverse pass: forward over
reverse is how Hessians and Hessian-vector products are made
(``forward(reverse(f))``); the tape's pushes and pops are list operations like
any other, so the tangent sweep keeps a tangent tape beside it.

A variable with no derivative gets no tangent (a symbolic zero); a variable
written in place (in a loop or branch) always has one, ``0.0`` when what it gets
carries none.
"""

from __future__ import annotations

from typing import Any

from . import rules
from .analyze import INACTIVE_PRIMS, Facts
from .array_ops import ARRAY_OPS, ArrayBuilder
from .build import Builder
from .reverse import _same
from .errors import UnsupportedSyntaxError
from .shapes import pattern_of
from .ir import (Break, Const, Continue, Eqn, For, Func, Global, If, Kind, Loc, Return, Var,
                 While, computes_with_arrays, walk)

__all__ = ["forward", "Forward"]

#: list operations whose tangent is the same operation on the tangents
_SAME_ON_TANGENTS = {"list", "tuple", "dict", "concat", "repeat", "slice", "getitem", "copy",
                     "append", "insert", "extend", "setitem", "pop", "reverse", "clear",
                     "sum", "fsum", "mean", "fmean", "put_back", "accum", "zeros_like",
                     "add_into", "get_or_missing", "list_to_array", "join_list"}
_EFFECTS = {"append", "insert", "extend", "setitem", "reverse", "clear", "put_back", "accum",
            "add_into"}


class Forward:
    """Builds one tangent function (use :func:`forward`)."""

    def __init__(self, func: Func, facts: Facts, wrt: list[Var], prefix: str = "tangent of: ",
                 patterns: dict | None = None):
        self.func = func
        from .shapes import patterns as find_patterns
        self.pats = find_patterns(func.body, func.params, patterns or {}) \
            if computes_with_arrays(func.body, func.params) else {}
        self.facts = facts
        self.wrt = wrt
        self.tan: dict[Var, Var] = {}
        #: old values copied before an array operation that overwrites its operand
        #: (out = out @ s): each has the tangent of the operand it copies
        self.snapped: dict[Var, Var] = {}
        #: variables whose tangent has no rule (the singular vectors of svd): an error
        #: raised only if the tangent is read
        self.poisoned: dict[Var, Exception] = {}
        self.locs: dict = {}
        self.prefix = prefix
        self.inplace = _written_in_regions(func.body)
        #: results of _zeros_like(...) (in generated code differentiated again): their
        #: zero tangents are shaped like them, lists or numbers
        self.zeros_made = {o for e in walk(func.body) if type(e) is Eqn and
                           e.prim == "zeros_like" for o in e.outs}

    # ------------------------------------------------------------------ tangents
    def t(self, v: Var) -> Var:
        """The tangent variable of ``v``."""
        if v in self.poisoned:
            raise self.poisoned[v]
        tv = self.tan.get(v)
        if tv is None:
            kind = v.kind if v.kind.is_list else Kind.array() if v.kind.is_array \
                else Kind.num()       # (an array's tangent is an array: read by index)
            if v.hint.startswith("_") and len(v.hint) <= 2:      # a temporary's tangent
                tv = self.tan[v] = Var("_t", kind)
            else:
                tv = self.tan[v] = Var("t_", kind, base=v)
        return tv

    def active(self, x: Any) -> bool:
        return self.facts.is_active(x)

    def tangent_of(self, x: Any) -> Any:
        """The tangent of an operand (None: zero)."""
        x = self.snapped.get(x, x)
        if type(x) is not Var or not self.active(x):
            return None
        return self.t(x)

    def zero_of(self, x: Any) -> Any:
        """A tangent that is zero, shaped like ``x``."""
        if type(x) is Var and (x.kind.is_list or x.kind.find().tag is None or
                               x in self.zeros_made):
            return Eqn((Var("_z", x.kind),), "zeros_like", (x,), None, None)
        if type(x) is Var and x.kind.find().tag == "array":    # (x @ its tangent: a shape)
            return Eqn((Var("_z", x.kind),), "np_zeros_like", (x,), None, None)
        if type(x) is Global and type(x.obj).__name__ == "ndarray":   # (a module's array)
            return Eqn((Var("_z", Kind.array()),), "np_zeros_like", (x,), None, None)
        if type(x) is Global and isinstance(x.obj, list):      # (a module's list)
            from .scope import kind_of_value
            return Eqn((Var("_z", kind_of_value(x.obj)),), "zeros_like", (x,), None, None)
        return Const(0.0)

    def tl(self, loc: Loc | None) -> Loc | None:
        return loc.derived(self.prefix, self.locs) if loc is not None else None

    # ------------------------------------------------------------------ statements
    def block(self, stmts: list) -> list:
        """Each source line's primal equations, then their tangents (as a person
        writes it), unless the line overwrites a value it reads."""
        out: list = []
        i, n = 0, len(stmts)
        while i < n:
            s = stmts[i]
            if type(s) is not Eqn or s.loc is None:
                self.stmt(s, out)
                i += 1
                continue
            j = i + 1
            while j < n and type(stmts[j]) is Eqn and stmts[j].loc is s.loc:
                j += 1
            group = stmts[i:j]
            if _line_safe(group):
                tangents: list = []
                for e in group:
                    self.eqn(e, out, tangents)
                out.extend(tangents)
            elif len(group) > 1 and _line_safe(group[:-1]) and \
                    self.tangent_first(group[-1]):
                # s = s * s + x: the line's tangents read the old s, so they come first
                tangents = []
                for e in group[:-1]:
                    self.eqn(e, out, tangents)
                last = group[-1]
                self.eqn(last, tangents, tangents, snapshot=False)
                tangents.remove(last)
                out.extend(tangents)
                out.append(last)
            else:
                for e in group:
                    self.eqn(e, out)
            i = j
        return out

    def stmt(self, s: Any, out: list) -> None:
        t = type(s)
        if t is Eqn:
            self.eqn(s, out)
        elif t is If:
            out.append(If(s.cond, self.block(s.then), self.block(s.orelse), s.loc))
        elif t is For:
            out.append(For(s.var, s.start, s.stop, s.step, self.block(s.body), s.reverse,
                           s.loc, s.view, s.limit, s.trips))
        elif t is While:
            out.append(While(self.block(s.test), s.cond, self.block(s.body), s.loc, s.trips))
        elif t in (Break, Continue):
            out.append(s)
        elif t is Return:
            out.append(s)

    def tangent_first(self, e: Eqn) -> bool:
        """May ``e``'s tangent be written before ``e`` itself?  Yes for an elementwise
        rule whose partials do not read the result."""
        if e.prim not in rules.RULES or e.prim in _SAME_ON_TANGENTS or e.prim in _EFFECTS \
                or (e.params or {}).get("tape") or len(e.outs) != 1:
            return False
        if e.out.kind.find().tag == "array":    # (a tangent broadcast to the result's shape
            po = pattern_of(self.pats, e.out)   # reads the result: h = h @ W + c in a loop)
            if po is None or "?" in po:
                return False
        from .reverse import _uses_out
        return not _uses_out(rules.RULES[e.prim],
                             [i for i, a in enumerate(e.args) if type(a) is Var and self.active(a)])

    def eqn(self, e: Eqn, out: list, tangents: list | None = None,
            snapshot: bool = True) -> None:
        """The primal equation into ``out``; its tangent into ``tangents`` (default:
        ``out`` too)."""
        if tangents is None:
            tangents = out
        for o in e.outs:
            self.poisoned.pop(o, None)
        bad = next((self.poisoned[a] for a in e.args if type(a) is Var and a in self.poisoned),
                   None)
        if bad is not None and e.outs:      # (the error waits until a tangent is needed)
            out.append(e)
            self.poisoned.update((o, bad) for o in e.outs if self.active(o))
            return
        if e.prim in ARRAY_OPS or e.prim in ("aget", "aset", "aset_add") or (
                e.prim == "call" and e.outs and self.active(e.outs[0]) and (
                    (e.params or {}).get("constant")
                    or not any(self.active(a) for a in e.args))):   # written into later
            old = e
            if snapshot and e.outs and any(o in e.args for o in e.outs):
                # out = out @ s (in a loop): the tangent reads the operands' old values
                snap = {o: Var("_o", o.kind) for o in e.outs}
                out.extend(Eqn((snap[o],), "copy", (o,), None, e.loc) for o in e.outs)
                self.snapped.update((v, o) for o, v in snap.items())
                old = Eqn(e.outs, e.prim, tuple(snap.get(a, a) if type(a) is Var else a
                                                for a in e.args), e.params, e.loc)
            out.append(e)
            try:
                tangents.extend(self.array_tangent(old, self.tl(e.loc)))
            except UnsupportedSyntaxError as exc:
                if not e.outs:
                    raise
                self.poisoned.update((o, exc) for o in e.outs)
            return
        outs_active = [o for o in e.outs if self.active(o)]
        mutates = e.prim in _EFFECTS and e.args and self.active(e.args[0])
        if not outs_active and not mutates and not (e.prim == "pop" and e.args and
                                                     self.active(e.args[0])):
            out.append(e)
            return
        loc = self.tl(e.loc)
        if e.prim in _SAME_ON_TANGENTS or (e.params or {}).get("tape"):
            out.append(e)
            tangents.extend(self.linear(e, loc))
            return
        snap: dict = {}
        if snapshot and any(o in e.args for o in e.outs):       # x = x * y: the tangent needs the old x
            for o in e.outs:
                old = Var("_o", o.kind)
                out.append(Eqn((old,), "copy", (o,), None, loc))
                snap[o] = old
        out.append(e)
        tangents.extend(self.elementwise(e, loc, snap))

    # ------------------------------------------------------------------ elementwise
    def elementwise(self, e: Eqn, loc: Loc | None, snap: dict) -> list:
        """``t_out = sum(partial_i * t_i)``; primitives with no derivative give zero."""
        o = e.out
        if e.prim in ("max_of", "min_of"):        # the first element equal to the result
            lst = e.args[0]
            tl = self.tangent_of(lst)
            if tl is None:
                return [Eqn((self.t(o),), "copy", (Const(0.0),), None, loc)]
            i = Var("_i", Kind.num())
            return [Eqn((i,), "callmethod", (lst, snap.get(o, o)), {"name": "index", "kw": ()},
                        loc), Eqn((self.t(o),), "getitem", (tl, i), None, loc)]
        if e.prim in INACTIVE_PRIMS:
            return [Eqn((self.t(o),), "copy", (Const(0.0),), None, loc)]
        if e.prim not in rules.RULES and e.prim != "select" and not any(
                type(a) is Var and self.active(a) for a in e.args):
            # (a read of constants made an active variable's first value: an attribute
            # of an object no derivative flows into, sum(..., self.b)): tangent zero
            return [Eqn((self.t(o),), "copy", (Const(0.0),), None, loc)]
        if e.prim not in rules.RULES and e.prim != "select":
            from .errors import SymgradError
            raise SymgradError(f"forward mode has no tangent for the primitive {e.prim!r} "
                               f"({e.loc.text if e.loc else 'generated'}); please report it")
        b = Builder([], loc, (e.params or {}).get("flavor", "math"), hint="_u")
        args = [snap.get(a, a) if type(a) is Var else a for a in e.args]
        if e.prim == "select":
            c, x, y = args
            tx, ty = self.tangent_of(e.args[1]), self.tangent_of(e.args[2])
            total = b.select(c, tx if tx is not None else Const(0.0),
                             ty if ty is not None else Const(0.0))
        else:
            rule = rules.RULES[e.prim]
            syms = [b.sym(a) for a in args]
            terms: list = []                # [tangent, factor, count]
            for i, a in enumerate(e.args):
                ta = self.tangent_of(a)
                if ta is None:
                    continue
                factor = b.sym(rule.partials[i](*syms, b.sym(o))).op
                last = terms[-1] if terms else None
                if last is not None and last[2] == 1 and last[0] is ta and (
                        last[1] is factor or _same(b.defs.get(last[1]), b.defs.get(factor))):
                    last[2] += 1            # x * x: t_x * x * 2 (the same bits as a sum)
                else:
                    terms.append([ta, factor, 1])
            total: Any = Const(0.0)
            for ta, factor, n in terms:
                term = b.binary("mul", factor, ta)
                if n == 2:
                    term = b.binary("mul", term, Const(2.0))
                total = b.binary("add", total, term)
        blk = b.block
        total = self.full_shape(e, total, blk, loc)
        if blk and type(total) is Var and type(blk[-1]) is Eqn and blk[-1].outs == (total,) \
                and not any(total in x.args for x in blk if type(x) is Eqn):
            last = blk[-1]                      # the last step writes the tangent itself
            blk[-1] = Eqn((self.t(o),), last.prim, last.args, last.params, last.loc)
            return blk
        return blk + [Eqn((self.t(o),), "copy", (total,), None, loc)]

    # ------------------------------------------------------------------ arrays
    def array_tangent(self, e: Eqn, loc: Loc | None) -> list:
        """Tangents of array operations: the operation on the tangents (linear ones),
        the product rule (products), or the declared tangent (nonlinear ones)."""
        if e.prim == "call":       # np.zeros(n) (defaultdict(float)) written into later
            return [Eqn((self.t(e.out),), "zeros_like" if e.out.kind.is_list else
                        "np_zeros_like", (e.out,), None, loc)]
        if e.prim in ("aset", "aset_add"):
            x, v = e.args[0], e.args[-1]
            if not self.active(x):
                return []
            tv = self.tangent_of(v)
            if tv is None and e.prim == "aset_add":
                return []
            return [Eqn((), e.prim, (self.t(x), *e.args[1:-1], tv if tv is not None
                                     else Const(0.0)), e.params, loc)]
        if not e.outs or not self.active(e.out):
            return []
        if all(self.tangent_of(a) is None for a in e.args):    # (of constants, into a
            return [Eqn((self.t(e.out),), "np_zeros_like", (e.out,), None, loc)]  # varied name)
        blk: list = []
        b = ArrayBuilder(blk, loc)
        if e.prim == "aget":
            tx = self.array_tangent_of(e.args[0], b)
            total = b.call("aget", (tx, *e.args[1:]), e.out.kind, **e.params)
        else:
            total = self.array_op_tangent(e, b)
        if type(total) is Const and e.out.kind.find().tag == "array":
            # (a tangent that is zero whatever the operands': zeros of the result's shape,
            # which a transpose or an index of it needs)
            return blk + [Eqn((self.t(e.out),), "np_zeros_like", (e.out,), None, loc)]
        return self.finish_tangent(e, blk, total, loc)

    def array_op_tangent(self, e: Eqn, b: ArrayBuilder) -> Any:
        op = ARRAY_OPS[e.prim]
        n = len(e.args) if op.arrays == -1 else op.arrays
        params = dict(e.params or {})
        if params.get("spelling") == "method" and op.np_name is not None:
            params["spelling"] = "function"     # (a tangent may be a Python number where
        if op.bilinear:                         #  the value is numpy's: np.sum(t), not t.sum())
            terms = []
            for i in range(2):
                t = self.tangent_of(e.args[i])
                if t is not None:
                    args = list(e.args)
                    args[i] = t
                    terms.append(b.call(e.prim, tuple(args), e.out.kind, **params))
            total = terms[0] if terms else Const(0.0)
            for t in terms[1:]:
                total = b.op("add", total, t)
            return total
        if op.linear:
            args = tuple(self.array_tangent_of(a, b) if k < n else a
                         for k, a in enumerate(e.args))
            return b.call(e.prim, args, e.out.kind, **params)
        ts = [self.tangent_of(a) for a in e.args]
        return op.jvp(b, e, ts, [pattern_of(self.pats, a) for a in e.args])

    def array_tangent_of(self, a: Any, b: ArrayBuilder) -> Any:
        """The tangent of an array operand, zeros shaped like it when it has none."""
        t = self.tangent_of(a)
        if t is not None:
            return t
        if type(a) is Var and a.kind.find().tag == "array" or type(a) is Global and not \
                isinstance(a.obj, (int, float)):        # (an array the function reads)
            return b.call("np_zeros_like", (a,))
        return Const(0.0)

    def finish_tangent(self, e: Eqn, blk: list, total: Any, loc: Loc | None) -> list:
        if blk and type(total) is Var and blk[-1].outs == (total,):
            last = blk[-1]
            blk[-1] = Eqn((self.t(e.out),), last.prim, last.args, last.params, last.loc)
            return blk
        return blk + [Eqn((self.t(e.out),), "copy", (total,), None, loc)]

    def full_shape(self, e: Eqn, total: Any, blk: list, loc: Loc | None) -> Any:
        """An elementwise tangent made only of narrower operands' tangents (``x + c``
        with ``x`` a number and ``c`` an array) is broadcast to the result's shape."""
        out = e.out
        if out.kind.find().tag != "array":
            return total
        if e.prim == "float" and type(total) is Var:    # float(a[2]): a number, as its value
            v = Var("_u", Kind.num())
            blk.append(Eqn((v,), "float", (total,), e.params, loc))
            return v
        if type(total) is Const:     # (no operand varies, in a variable that does: the
            v = Var("_u", out.kind)  # zeros of its shape, which ``@`` and indexing need)
            blk.append(Eqn((v,), "np_zeros_like", (out,), None, loc))
            return v
        po = pattern_of(self.pats, out)
        carriers = [a for a in e.args if self.tangent_of(a) is not None]
        if po is not None and "?" not in po and all(pattern_of(self.pats, a) == po
                                                    for a in carriers):
            return total
        if po is not None and any(pattern_of(self.pats, a) == po and "?" not in po
                                  for a in carriers):
            return total
        v = Var("_u", out.kind)
        blk.append(Eqn((v,), "np_broadcast_like", (total, out), None, loc))
        return v

    # ------------------------------------------------------------------ linear list ops
    def linear(self, e: Eqn, loc: Loc | None) -> list:
        """The same list operation on the tangents."""
        p = e.prim
        args = []
        pre: list = []
        if p in ("getitem", "sum", "fsum", "mean", "fmean") and e.outs and \
                not e.out.kind.is_list and self.tangent_of(e.args[0]) is None:
            # an element, or the sum, of a list without tangents (a global, a constant
            # list) read into a variable that is varied elsewhere: its tangent here is
            # zero (or that of the sum's start value)
            start = self.tangent_of(e.args[1]) if p == "sum" and len(e.args) > 1 else None
            return [Eqn((self.t(e.out),), "copy", (start if start is not None
                                                   else Const(0.0),), None, loc)]
        for k, a in enumerate(e.args):
            if self.structural(p, k):
                args.append(a)                     # an index, a count, a key
                continue
            ta = self.tangent_of(a)
            if ta is None:
                z = self.zero_of(a)
                if type(z) is Eqn:
                    pre.append(z)
                    z = z.outs[0]
                ta = z
            args.append(ta)
        outs = tuple(self.t(o) for o in e.outs)
        if p == "zeros_like":
            return [Eqn(outs, "zeros_like", e.args, e.params, loc)]
        params = e.params
        if p == "getitem" and params is not None and params.get("subscript") and \
                not params.get("in_range"):     # (t_xs[i] raises where xs[i] does)
            params = {**params, "may_raise": True}
        return pre + [Eqn(outs, p, tuple(args), params, loc)]

    @staticmethod
    def structural(prim: str, k: int) -> bool:
        """Is argument ``k`` of ``prim`` an index/count (not a value with a tangent)?"""
        if prim in ("getitem", "pop", "get_or_missing") and k >= 1:
            return True
        if prim in ("setitem", "insert", "accum", "put_back") and k == 1:
            return True
        if prim == "repeat" and k == 1:
            return True
        if prim == "slice" and k >= 1:
            return True
        return False

    # ------------------------------------------------------------------ driver
    def run(self) -> tuple[list, list[Var]]:
        body = self.func.body
        # a list parameter held constant that may share objects with a differentiated
        # one (an alias class) gets a tangent of zeros
        start = [Eqn((self.t(p),), "zeros_like", (p,), None, None) for p in self.func.params
                 if p not in self.wrt and p.kind.is_list and self.active(p)]
        # a number parameter held constant that a loop later makes varied (x0 = x0 + x2
        # in a loop, x0 not differentiated): its tangent starts at zero
        start += [Eqn((self.t(p),), "copy", (Const(0.0),), None, None)
                  for p in self.func.params if p not in self.wrt and not p.kind.is_list
                  and not p.kind.is_array and self.active(p)]
        # (an array: zeros shaped like it; x = f(x @ w) in a loop over ws)
        start += [Eqn((self.t(p),), "np_zeros_like", (p,), None, None)
                  for p in self.func.params if p not in self.wrt and p.kind.is_array
                  and self.active(p)]
        out = start + self.block(body[:-1])
        written = {self.tan[x]: x for x in _written_arrays(body) if x in self.tan}
        if written:
            primal_of = {tv: v for v, tv in self.tan.items()}
            _own_written_tangents(out, written, {**self.pats, **{
                tv: self.pats.get(v) for tv, v in primal_of.items() if v in self.pats}})
        return out, [self.t(p) for p in self.wrt]


def _line_safe(group: list) -> bool:
    """May the tangents of a line's equations all follow its primal equations?  Not
    when an equation overwrites a value the line read or wrote before, nor when it
    changes a list in place."""
    if not group:
        return True
    seen: set = set()
    last = group[-1]
    if any(e.prim in ("aset", "aset_add") for e in group) and len(group) > 1:
        return False        # y[1:] = y[1:] * y[:-1]: the slices read are views of y
    for e in group:
        if e.prim in _EFFECTS or e.prim == "pop":
            # a line that ends by storing its value (xs[i] = v, h.append(v)) is fine:
            # tangents read the tangent lists, which the store does not touch
            if not (e is last and e.prim in ("setitem", "append", "accum")):
                return False
        if any(o in seen for o in e.outs):
            return False
        seen.update(a for a in e.args if type(a) is Var)
        seen.update(e.outs)
    return True


def _written_arrays(block: list) -> set[Var]:
    """Arrays written in place (``y[i] = v``, ``np.add.at(y, idx, v)``)."""
    return {s.args[0] for s in walk(block) if type(s) is Eqn and s.prim in ("aset", "aset_add")
            and type(s.args[0]) is Var}


def _own_written_tangents(block: list, written: dict, pats: dict) -> None:
    """The tangent of an array written in place must be an array of its own: a tangent
    that would be another variable's tangent (``y = x + 1.0``: ``t_y = t_x``), a
    read-only broadcast (``np.broadcast_to(t, y.shape)``) or a number becomes a
    writable copy shaped like the array, ``np.broadcast_to(t, y.shape).copy()`` (``t.copy()``
    when ``t`` has the array's shape)."""
    for k, s in enumerate(block):
        t = type(s)
        if t is If:
            _own_written_tangents(s.then, written, pats)
            _own_written_tangents(s.orelse, written, pats)
        elif t is For:
            _own_written_tangents(s.body, written, pats)
        elif t is While:
            _own_written_tangents(s.test, written, pats)
            _own_written_tangents(s.body, written, pats)
        elif t is Eqn and len(s.outs) == 1 and s.outs[0] in written and s.prim in (
                "copy", "np_broadcast_like"):
            primal = written[s.outs[0]] if s.prim == "copy" else s.args[1]
            src = s.args[0]
            same = pattern_of(pats, primal)
            if type(src) is Var and same and "?" not in same and pats.get(src) == same:
                block[k] = Eqn(s.outs, "np_copy", (src,), {"spelling": "method"}, s.loc)
                continue
            block[k] = Eqn(s.outs, "np_copy_of", (s.args[0], primal), None, s.loc)


def _written_in_regions(block: list) -> set[Var]:
    out: set[Var] = set()
    for s in walk(block):
        if type(s) in (If, For, While):
            for x in walk(s.then + s.orelse if type(s) is If else s.body):
                if type(x) is Eqn:
                    out.update(x.outs)
    return out


def tangent_outputs(fw: Forward, value: Any) -> Any:
    """The tangent of a returned value (nested tuples kept)."""
    if type(value) is tuple:
        return tuple(tangent_outputs(fw, v) for v in value)
    t = fw.tangent_of(value)
    if t is None:
        z = fw.zero_of(value)
        return None if type(z) is Eqn else z       # (None: zeros like it, made below)
    return t


def forward(func: Func, facts: Facts, wrt: list[Var], name: str = "",
            patterns: dict | None = None) -> Func:
    """The tangent function of ``func``: parameters ``(*params, *tangents)``, returning
    ``(value, tangent)``."""
    fw = Forward(func, facts, wrt, patterns=patterns)
    body, tparams = fw.run()
    ret = func.body[-1]
    value = ret.value
    tangent = tangent_outputs(fw, value)
    if _has_none(tangent):            # a list result with no derivative: zeros like it
        tangent, extra = _fill_zeros(fw, value, tangent)
        body.extend(extra)
    body.append(Return((value, tangent), None))
    # no defaults: the caller passes every primal (filled from the function's defaults)
    return Func(name or func.name, list(func.params) + tparams, body, arrays=func.arrays)


def _has_none(t: Any) -> bool:
    return t is None or (type(t) is tuple and any(_has_none(x) for x in t))


def _fill_zeros(fw: Forward, value: Any, t: Any) -> tuple[Any, list]:
    if type(value) is tuple:
        extra: list = []
        parts = []
        for v, x in zip(value, t):
            p, e = _fill_zeros(fw, v, x)
            parts.append(p)
            extra += e
        return tuple(parts), extra
    if t is not None:
        return t, []
    z = fw.zero_of(value)
    if type(z) is Eqn:
        return z.outs[0], [z]
    return z, []
