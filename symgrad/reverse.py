"""Reverse mode: from a function's IR to the IR of its gradient.

The gradient is the *primal sweep* (the function's own code, plus what the
adjoint needs saved) followed by the *adjoint sweep*: every statement's local
derivative rules applied in reverse order.

* Adjoints of numbers are variables ``d_x``.  Contributions are computed where
  they arise but *summed once*: ``d_x`` is written when every contribution is
  known (``d_n = d_out * (1.0 - out * out)``), with ``+=`` only inside loops.
  An adjoint that is still zero is not written at all (symbolic zero).
* A list has a *shadow* ``d_xs``, a list of the same structure holding its
  elements' adjoints.  Every list operation is mirrored on the shadows during
  the primal sweep (``d_h.append(0.0)``, ``d_row = d_W[i]``), so two names for
  one list have one shadow, as Python's reference semantics require.
* Branches and loops are reversed as regions; where they overwrite a value the
  adjoint sweep needs, :mod:`symgrad.tape` decides what to save.

The rule table is read for every primitive: elementwise partials run on
:class:`~symgrad.build.Sym` operands and emit their own code; list operations'
transposes are in :mod:`symgrad.reverse_lists`.
"""

from __future__ import annotations

from typing import Any

from . import ir, rules
from .array_ops import ARRAY_OPS
from .analyze import INACTIVE_PRIMS, Facts
from .build import Builder, Sym
from .ir import (Break, Const, Continue, Eqn, For, Func, If, Kind, Loc, Return, Var, While,
                 assigned, leaves, stmt_writes, walk)
from .optimize import _removable
from .raising import without_may_raise
from .remat import in_loops, remat_table
from .reverse_lists import ListReverse
from .reverse_arrays import ArrayReverse
from .static_args import zero_of
from .shadows import add_shadows, sh
from .tape import (Definedness, has_exit, prepare, surely_written,
                   upward_exposed)

__all__ = ["reverse", "Reverse"]

_MAX_TERMS = 32        # longest fused sum of adjoint contributions


class Reverse(ListReverse, ArrayReverse):
    """Builds one gradient function (use :func:`reverse`)."""

    def __init__(self, lowered: Any, facts: Facts, wrt: list[Var], with_value: bool):
        self.lowered = lowered
        self.facts = facts
        self.wrt = wrt
        self.with_value = with_value
        self.adj: dict[Var, Var] = {}
        self.shadow: dict[Var, Var] = {}
        self.terms: dict[Var, list] = {}
        self.live: set[Var] = set()
        self.alias: dict[Var, Any] = {}
        #: every variable ever put in ``terms`` or ``alias`` (a superset: it lets
        #: ``before_write`` skip its scan for an adjoint that nothing holds)
        self.held: set = set()
        self.mirrors: list = []      # the shadow operations after the one reversed
        self.out: list = []
        self.locs: dict = {}
        self.loc: Loc | None = None
        self.saves_before: dict[int, list] = {}
        self.loops_info: dict[int, Any] = {}
        self.maybe_before: dict[int, set] = {}
        self.stack = Var("_stack", Kind.list_of())
        self.stacks: dict[str, Var] = {"_stack": self.stack}
        self.builder = Builder([])
        #: the cotangent parameters of a tuple or list result (vjp), else None
        self.seeds: list[Var] | None = None
        #: broadcast patterns of array variables (symgrad.shapes)
        self.pats: dict = {}
        #: variables whose adjoint array was made by this sweep and may change in place
        self.owned: set[Var] = set()
        #: arrays read or written by index (their adjoints are changed in place)
        self.scattered: set[Var] = set()

    # ------------------------------------------------------------------ adjoint variables
    def d(self, v: Var) -> Var:
        a = self.adj.get(v)
        if a is None:
            a = self.adj[v] = Var("d_", v.kind if not v.kind.is_list else Kind.num(), base=v)
        return a

    def gl(self, loc: Loc | None) -> Loc | None:
        return loc.derived("grad of: ", self.locs) if loc is not None else None

    def emit(self, prim: str, args: tuple, params: dict | None = None,
             kind: Kind | None = None, hint: str = "_d", base: Var | None = None) -> Var:
        out = Var(hint, kind or Kind.num(), base=base)
        self.out.append(Eqn((out,), prim, args, params, self.loc))
        return out

    def effect(self, prim: str, args: tuple, params: dict | None = None) -> None:
        self.out.append(Eqn((), prim, args, params, self.loc))

    def active(self, x: Any) -> bool:
        return self.facts.is_active(x)

    def is_dict(self, v: Var) -> bool:
        """Is ``v`` a dict, into which a write may add a key?  (A tuple of values of
        different kinds is a map too, read by position; no write adds to it.)"""
        k = v.kind.find()
        return k.tag == "map" and not any(s.find() is k for s in self.lowered.seq_kinds)

    def missing(self) -> Any:
        """The marker a dict save holds for a key that was absent."""
        from .emit_forms import missing_marker
        from .ir import Global
        return Global("_MISSING", missing_marker(), "inject")

    def _defs_reset(self) -> None:
        self.builder.defs.clear()

    # ------------------------------------------------------------------ adjoint states
    def contribute(self, v: Any, term: Any) -> None:
        """Add ``term`` to the adjoint of ``v`` (summed later, once)."""
        if type(v) is not Var or not self.facts.is_active(v) or v.kind.is_list:
            return
        if type(term) is Const and term.value == 0:
            return
        if v in self.alias:
            self.materialize(v)
        lst = self.terms.setdefault(v, [])
        lst.append((term, self.loc))
        if type(term) is Var:
            self.held.add(term)
        if len(lst) >= _MAX_TERMS:
            self.flush(v)

    def flush(self, v: Var) -> None:
        """Write the pending contributions of ``v``: ``d_v = t1 + t2`` (``+=`` when
        ``d_v`` already holds a value)."""
        pending = self.terms.pop(v, None)
        if not pending:
            return
        saved = self.loc
        self.loc = pending[-1][1]
        total = pending[0][0]
        if len(pending) > 1:
            for t, _ in pending[1:]:
                neg = self.builder.settled_neg(t)         # t + -(y) is t - y
                total = self.emit("sub", (total, neg.args[0]), {"sum": True}) if neg else \
                    self.emit("add", (total, t), {"sum": True})
        a = self.adj.get(v)
        if a is not None:
            self.before_write(a)      # (a new adjoint variable holds nothing yet)
        if v in self.live:
            a = self.d(v)
            self.out.append(Eqn((a,), "add", (a, total), {"accum": True, "sum": True},
                                self.loc))
        elif len(pending) == 1 and self.aliasable(v, total):
            self.alias[v] = total
            self.held.add(total)
        elif len(pending) == 1 and a is None and type(total) is Var and total.base is None \
                and total.hint == "_d" and self.out and type(self.out[-1]) is Eqn \
                and self.out[-1].outs == (total,) and \
                total.kind.find().tag == v.kind.find().tag:
            total.base, total.hint = v, "d_"    # (the term just made is d_v itself,
            self.builder.defs.pop(total, None)  # which may change: no longer a temporary)
            self.adj[v] = total
            self.live.add(v)
        else:
            self.out.append(Eqn((self.d(v),), "copy", (total,), {"sum": True}, self.loc))
            self.live.add(v)
        self.loc = saved

    def aliasable(self, v: Var, value: Any) -> bool:
        """An adjoint with one contribution can be that contribution itself: always for
        a temporary, for a named variable when the contribution is another adjoint
        (``d_s = d_s_1`` is not written)."""
        if v in self.param_set or v.base is not None or type(value) not in (Var, Const):
            return False
        if v.hint[:1] == "_":
            return True
        return type(value) is Const or value.base is not None or value is self.seed

    def before_write(self, a: Var) -> None:
        """Before an adjoint variable changes, materialize the adjoints aliased to it and
        keep the pending contributions that are its current value."""
        if a not in self.held:
            return
        for v, op in list(self.alias.items()):
            if op is a:
                del self.alias[v]
                self.out.append(Eqn((self.d(v),), "copy", (a,), None, self.loc))
                self.live.add(v)
        snap = None
        for v, lst in self.terms.items():
            for k, (t, loc) in enumerate(lst):
                if t is a:
                    if snap is None:
                        snap = self.emit("copy", (a,))
                        self.held.add(snap)
                    lst[k] = (snap, loc)

    def materialize(self, v: Var) -> None:
        """Give ``v``'s adjoint a variable of its own, holding every contribution so far
        (pending terms are written first: writing one term may make an alias)."""
        self.flush(v)
        op = self.alias.pop(v, None)
        if op is not None:
            self.out.append(Eqn((self.d(v),), "copy", (op,), None, self.loc))
            self.live.add(v)

    def take(self, v: Var) -> Any:
        """The adjoint of ``v`` where its definition is crossed (``None`` for zero);
        ``v``'s adjoint restarts at zero (for the value it had before)."""
        self.flush(v)
        self.owned.discard(v)
        if v in self.alias:
            return self.alias.pop(v)
        if v in self.live:
            self.live.discard(v)
            return self.d(v)
        return None

    def settle(self, keep_live: set[Var], only: set[Var] | None = None,
               defined: Any = ()) -> None:
        """At a region's edge: pending contributions are written (for the variables in
        ``only``, if given, and for aliases of adjoint variables, which the region may
        change); those that must hold a value (``keep_live``) get one (``d_v = 0.0``)."""
        for v in list(self.terms):
            # (a pending term that reads another adjoint variable is written too: the
            # region may change that variable in only one of its branches)
            if only is None or v in only or any(type(t) is Var and t.base is not None
                                                for t, _ in self.terms[v]):
                self.flush(v)
        for v, op in list(self.alias.items()):
            if only is None or v in only or (type(op) is Var and op.base is not None):
                self.materialize(v)
        for v in sorted(keep_live, key=_order):
            if v not in self.live:
                self.before_write(self.d(v))
                self.out.append(self.zero(v, defined))
                self.live.add(v)

    def zero(self, v: Var, defined: Any = ()) -> Eqn:
        """``d_v = 0.0``, or an array of zeros where elements of ``d_v`` are written
        (``d_s[i] += g``), where ``v`` is an array parameter (a branch that does not read
        it: its gradient has its shape), or where an operation that is not elementwise
        may take ``d_v`` (``d_P @ A.T``: it cannot take a number) and ``v`` surely holds
        a value here (``defined``: before a loop, those surely set before it)."""
        if v.kind.find().tag == "array" and (v in self.scattered or (
                v in self.param_set and self.pattern(v) != ()) or self.shaped and
                v in defined):
            self.owned.add(v)
            return Eqn((self.d(v),), "np_zeros_like", (self.val(v),), None, self.loc)
        return Eqn((self.d(v),), "copy", (Const(0.0),), None, self.loc)

    # ------------------------------------------------------------------ driver
    def run(self) -> Func:
        body = self.lowered.func.body
        ret = body[-1]
        primal = _saved_truths(prepare(body[:-1]))
        params = self.lowered.params
        self.param_set = set(params)
        primal = add_shadows(self, primal, params)
        self.primal = primal
        dfn = Definedness(params)
        dfn.run(primal)
        self.dfn = dfn
        self.restorable = _restorable(primal)
        self.in_loops = in_loops(primal)
        self.remat = remat_table(primal, self.facts, self.param_set)
        from .shapes import patterns
        from .pipeline import uses_numpy
        self.pats = patterns(primal, params, getattr(self.lowered, "patterns", {}) or {}) \
            if uses_numpy(self.lowered) else {}
        self.scattered = {x.args[0] for x in walk(primal) if type(x) is Eqn and x.prim in (
            "aget", "aset") and type(x.args[0]) is Var}
        #: does an operation that is not elementwise make an array (``A @ P``)?  Then a
        #: zero adjoint of an array is an array of zeros where it can be (see zero)
        self.shaped = any(type(x) is Eqn and x.prim in ARRAY_OPS for x in walk(primal))
        #: indices numpy makes (``np.ix_(r, c)``, ``np.nonzero(m)``): objects on the tape
        self.indices = {x.outs[0] for x in walk(primal) if type(x) is Eqn and x.outs and
                        x.prim == "call" and (x.params or {}).get("label") in _INDEX_CALLS}
        self.seed = Var("d_out", Kind.num())
        result = ret.value
        self.out = []
        self.loc = self.gl(ret.loc)
        if type(result) is Var and not result.kind.is_list and self.active(result):
            if result.hint == "out" and result not in self.in_loops:
                self.adj[result] = self.seed        # d_out is the adjoint of out
                self.live.add(result)
            else:
                self.terms[result] = [(self.seed, self.loc)]
                self.held.add(self.seed)
        elif type(result) is tuple or type(result) is Var and result.kind.is_list:
            self.seeds = self.seed_structure(result)   # vjp: one cotangent per output
        self.rev_block(primal)
        grads = self.param_grads(params)
        bwd = self.out
        value = self.value_of(result, primal)
        return self.assemble(primal, bwd, grads, value, ret)

    def tape_kind(self, x: Any, kind: Kind | None) -> Kind | None:
        """The kind the tape keeps ``x`` (or its overwritten elements) as: an array of
        ints or bools (a mask), which carries no derivative for any parameter, as an
        object, on a tape of its own, so that the gradient differentiated again (a
        Hessian) does not take it for a differentiated value put into an integer array."""
        return Kind.obj() if x in self.facts.int_arrays or x in self.indices else kind

    def stack_for(self, kind: Kind | None) -> Var:
        """The tape for values of ``kind``: numbers (and values of unknown kind) on
        ``_stack``, lists and dicts on ``_list_stack``, other objects on ``_obj_stack``;
        one kind per tape keeps the generated gradient differentiable again."""
        tag = kind.find().tag if kind is not None else None
        name = "_list_stack" if tag in ("list", "map") else "_obj_stack" if tag == "obj" \
            else "_stack"
        if tag == "list" and kind is not None and kind.depth() > 1:   # rows of rows: apart
            name = f"_list_stack{kind.depth()}"
        elif tag == "map":
            name = "_dict_stack"
        st = self.stacks.get(name)
        if st is None:
            st = self.stacks[name] = Var(name, Kind.list_of())
        return st

    def seed_structure(self, result: Any) -> list[Var]:
        """Cotangent parameters for a tuple or list result (``vjp``): a number's
        cotangent joins its adjoint; a list's is added into the list's shadow."""
        seeds: list[Var] = []
        for v in leaves(result):
            if type(v) is Var and v.kind.is_list:
                seed = Var("ct_out", v.kind)
                seeds.append(seed)
                if self.active(v):
                    self.out.append(Eqn((), "add_into", (sh(self, v), seed), None, self.loc))
                continue
            seed = Var("ct_out", Kind.array() if type(v) is Var and v.kind.is_array
                       else Kind.num())
            seeds.append(seed)
            if type(v) is Var and self.active(v):
                self.contribute(v, seed)
        return seeds

    def param_grads(self, params: list[Var]) -> list:
        """The gradient, in parameter order; adjoints are written in the order the
        parameters are first used (the order a reader meets them in the source)."""
        self.loc = None
        wrt = list(self.wrt)
        first = _first_uses(self.primal)
        for p in sorted(wrt, key=lambda p: first.get(p, (1 << 60, 0))):
            if not p.kind.is_list:
                self.materialize(p)
        out = []
        given = getattr(self.lowered, "patterns", None) or {}
        fixed = given.get(ir.FIXED_PARAMS, {})
        at_use = given.get(ir.FIXED_AT_USE, {})
        for p in wrt:
            if p.name in fixed or p.name in at_use and p not in self.live and \
                    p.kind.find().tag is None:     # a constant of this gradient (an axis)
                out.append(Const(zero_of({**fixed, **at_use}[p.name])))
                continue
            if p in self.shadow and not p.kind.is_list:     # shared lists, unused here
                out.append(self.shadow[p])
                continue
            if p.kind.is_list:
                out.append(self.shadow.get(p) if self.active(p) or p in self.shadow else
                           self.emit("zeros_like", (p,), kind=p.kind, hint="d_", base=p))
                continue
            if p in self.live:
                out.append(self.d(p))
            elif p.kind.find().tag is None or id(p.kind.find()) in getattr(
                    self.lowered, "moved_kinds", ()):
                # never used, or only moved into a list: zeros shaped like the argument
                out.append(self.emit("zeros_like", (p,), kind=p.kind, hint="d_", base=p))
            elif p.kind.is_array and self.pattern(p) != ():   # an array nothing reads
                out.append(self.emit("np_zeros_like", (p,), kind=p.kind, hint="d_", base=p))
            else:
                out.append(Const(0.0))
        return out

    def value_of(self, result: Any, primal: list) -> Any:
        if type(result) is Var and result in self.restorable:
            snap = Var("value", result.kind)
            primal.append(Eqn((snap,), "copy", (result,), None, None))
            return snap
        return result

    # ------------------------------------------------------------------ statements
    def rev_block(self, block: list) -> None:
        mirrors: list = []
        for s in reversed(block):
            if type(s) is Eqn and (s.params or {}).get("mirror"):
                mirrors.append(s)     # restored after the operation it mirrors
                continue
            self.mirrors = mirrors    # (or by it: see reverse_lists._result_shadow)
            self.rev_stmt(s)
            for m in mirrors:
                self.loc = self.gl(m.loc)
                self.restore_outs(m)
            mirrors = []
        for m in mirrors:
            self.restore_outs(m)

    def rev_stmt(self, s: Any) -> None:
        t = type(s)
        if t is Eqn:
            self.loc = self.gl(s.loc)
            self.rev_eqn(s)
        elif t is If:
            self.rev_if(s)
        elif t in (For, While):
            self.rev_loop(s)
        elif t in (Break, Continue):
            return
        else:  # pragma: no cover - Return only at the end
            raise AssertionError(t)

    def rev_eqn(self, e: Eqn) -> None:
        params = e.params or {}
        if params.get("mirror") or params.get("tape"):
            self.restore_outs(e)
            return
        if e.prim in ARRAY_OPS or e.prim in ("aget", "aset", "aset_add"):
            self.rev_array(e)
            return
        handler = self.list_handler(e)
        if handler is not None:
            handler(e)
            return
        if not e.outs or e.prim in INACTIVE_PRIMS or not self.active(e.out):
            if e.outs and not e.out.kind.is_list and self.active(e.out):
                self.take(e.out)   # an active variable overwritten by a constant value
            self.restore_outs(e)
            return
        if (e.params or {}).get("constant") or e.prim in ("call", "callmethod") and not any(
                self.active(a) for a in e.args):   # np.zeros(n) written into later
            self.take(e.out)
            self.restore_outs(e)
            return
        if e.prim == "copy":
            g = self.take(e.out)
            self.restore_outs(e)
            if g is not None:
                self.contribute(e.args[0], g)
            return
        if e.prim == "select":
            self.rev_select(e)
            return
        self.rev_rule(e)

    def rev_rule(self, e: Eqn) -> None:
        """``out = prim(args)``: ``d_arg += d_out * partial`` for each active argument."""
        out = e.out
        g = self.take(out)
        active = self.facts.is_active
        eargs = e.args
        targets = [i for i in range(len(eargs)) if active(eargs[i])]
        if g is None or not targets:    # (s = self.b of an object passed in, s active
            self.restore_outs(e)        # later: what it reads carries no derivative)
            return
        rule = rules.RULES.get(e.prim)
        if rule is None:      # (analysis refuses these first; kept as a clear last word)
            from .analyze import _no_rule
            raise _no_rule(e)
        b = self.builder
        b.loc = self.loc
        b.flavor = e.params.get("flavor", "math") if e.params else "math"
        out_op: Any = out
        overwrites = False
        for a in eargs:
            if a is out:
                overwrites = True
                break
        if overwrites:                      # x = x * y in a loop: old x after the restore
            if _uses_out(rule, targets):
                out_op = self.emit("copy", (out,), hint="_o")
            self.restore_outs(e)
        val, remat = self.val, self.remat
        if len(eargs) == 2 and eargs[0] is eargs[1] and type(eargs[0]) is Var and \
                eargs[0] in remat:
            args = [b.sym(val(eargs[0]))] * 2     # x * x of x = p[0]: one read, 2 * g * x
        else:
            args = [Sym(b, a) if type(a) is Var and a not in remat else b.sym(val(a))
                    for a in eargs]
        if out_op is out:
            out_op = self.val(out)
        out_sym = Sym(b, out_op)
        block, emitted = b.block, self.out
        array = out.kind.find().tag == "array"
        terms: list = []
        for i in targets:
            factor = rule.partials[i](*args, out_sym)
            term = b.binary("mul", g, factor.op if type(factor) is Sym else b.sym(factor).op)
            if len(block) > 1:                # (what folding left unread: -y in -(g * y))
                _drop_unread(block, term)
            emitted.extend(block)             # the builder folds within its own short block
            block.clear()
            if type(term) is Const and term.value == 0:
                continue                      # x // y: no contribution (never summed)
            arg = eargs[i]
            if array:
                term = self.unbroadcast(term, out, arg, eargs)
            self.add_term(terms, arg, term)
        for a, term in terms:
            self.contribute(a, term)
        if not overwrites:
            self.restore_outs(e)

    def add_term(self, terms: list, arg: Any, term: Any) -> None:
        """One argument's term of a rule, beside the others: the same term of the same
        argument twice (``x * x``) is ``d_x = g * x * 2``, not ``g * x + g * x``."""
        b = self.builder
        for k, (a, t) in enumerate(terms):
            if a is arg and _same(b.defs.get(t), b.defs.get(term)):
                terms[k] = (arg, b.binary("mul", t, Const(2.0)))
                self.out.extend(b.block)
                b.block.clear()
                return
        terms.append((arg, term))

    def rev_select(self, e: Eqn) -> None:
        g = self.take(e.out)
        self.restore_outs(e)
        if g is None:
            return
        cond, a, b_ = e.args
        bld = Builder([], self.loc)
        for x, branch in ((a, True), (b_, False)):
            if self.active(x):
                term = bld.select(cond, g if branch else Const(0.0), Const(0.0) if branch else g)
                self.out.extend(bld.block)
                bld.block.clear()
                self.contribute(x, self.unbroadcast(term, e.out, x))

    def val(self, op: Any) -> Any:
        """A primal value read by the adjoint sweep: recomputed there when it is a cheap
        read of values that never change (``xs[i]``, ``len(xs)``), else the variable
        (restored from the tape if it was overwritten)."""
        e = self.remat.get(op) if type(op) is Var else None
        if e is None:
            return op
        if e.prim == "copy" and e.args[0] in self.remat:     # (a copy of a read: the read)
            return self.val(e.args[0])
        args = tuple(self.val(a) for a in e.args)
        out = Var("_t", op.kind)
        params = e.params
        if params is not None and params.get("may_raise"):      # (the primal read raises)
            params = without_may_raise(params)
        self.out.append(Eqn((out,), e.prim, args, params, self.loc))
        return out

    # ------------------------------------------------------------------ restores
    def restore_outs(self, e: Eqn) -> None:
        for v in e.outs:
            if v in self.restorable and v in self.dfn.maybe_at.get(id(e), ()):
                self.out.append(Eqn((v,), "restore", (), {"mode": "old", "site": e},
                                    self.loc))

    # ------------------------------------------------------------------ regions
    def rev_if(self, s: If) -> None:
        self.loc = self.gl(s.loc)
        touched = self.touched(s.then + s.orelse)
        self.settle(set(), touched)
        before = set(self.live)
        saved = self.out
        self.out = []
        self.rev_block(s.then)
        self.settle(set(), touched)
        then_blk, then_live = self.out, set(self.live)
        self.out, self.live = [], set(before)
        self.rev_block(s.orelse)
        self.settle(set(), touched)
        else_blk, else_live = self.out, set(self.live)
        self.out = saved
        join = then_live | else_live
        self.loc = self.gl(s.loc)
        cond = self.val(s.cond)
        for blk, have in ((then_blk, then_live), (else_blk, else_live)):
            for v in sorted(join - have, key=_order):
                blk.append(self.zero(v))
        self.live = join
        if then_blk or else_blk:
            self.out.append(If(cond, then_blk, else_blk, self.loc))
        elif type(cond) is Var and cond is not s.cond:
            self.out.pop()

    def rev_loop(self, s: For | While) -> None:
        self.loc = self.gl(s.loc)
        # the last test, which ended the loop, reversed before the loop's iterations
        # (and settled: what it adds to an adjoint is added once, not once per trip)
        if type(s) is While and s.broke is None:
            self.rev_block(s.test)
        elif type(s) is While:    # ... unless a break did: then that test never ran
            self.rev_if(If(s.broke, [], s.test, s.loc))
        self.loc = self.gl(s.loc)
        body = s.body if type(s) is For else s.test + s.body
        touched = self.touched(body)
        self.settle(set(), touched)
        writes = assigned(body)
        exposed = upward_exposed(body)
        keep = {v for v in touched if v in self.live or v not in writes or v in exposed}
        self.settle(keep, touched, self.dfn.sure_before_loop.get(id(s), ()))
        self.own_for_loop(body, keep)
        owned_before = set(self.owned)
        saved = self.out
        self.out = []
        news = self.new_saves(s, body, writes, exposed)
        for v in news:
            self.out.append(Eqn((v,), "restore", (), {"mode": "new", "site": (s, v)},
                                self.loc))
        self.rev_block(body if type(s) is For else s.body)
        if type(s) is While:      # the test that let this iteration run
            self.rev_block(s.test)
        self.loc = self.gl(s.loc)
        self.settle(keep, touched)
        for v in sorted(owned_before - self.owned, key=_order):   # owned again each trip
            if v in self.live:
                self.own(v)
        bwd_body, self.out = self.out, saved
        self.loc = self.gl(s.loc)
        self.out.append(self.reversed_loop(s, bwd_body))
        for v in sorted(self.around(s, writes), key=_order):
            self.out.append(Eqn((v,), "restore", (), {"mode": "around", "site": (s, v)},
                                self.loc))

    def reversed_loop(self, s: For | While, body: list) -> For:
        trips = getattr(s, "trips", None)
        if type(s) is While:
            return For(Var("_", Kind.num(), name="_"), Const(0), trips, Const(1), body, False,
                       self.loc)
        return For(s.var, self.val(s.start), self.val(s.stop), self.val(s.step), body,
                   not s.reverse, self.loc, limit=trips)

    def touched(self, body: list) -> set[Var]:
        """Active numbers whose adjoints a loop body reads or writes."""
        out: set[Var] = set()
        for x in walk(body):
            if type(x) is Eqn:
                for a in x.args + x.outs:
                    if type(a) is Var and not a.kind.is_list and self.active(a):
                        out.add(a)
        return out

    def new_saves(self, loop: Any, body: list, writes: set, exposed: set) -> list[Var]:
        """Variables the body defines before reading: saved after their last write in
        an iteration, restored at the top of the reversed body."""
        if type(loop) is While or has_exit(body, (Break, Continue)):
            return []
        out = []
        sure = surely_written(body)
        for v in writes:
            if v in exposed or v is getattr(loop, "var", None) or v not in self.restorable \
                    or v not in sure:
                continue
            out.append(v)
        return sorted(out, key=_order)

    def around(self, loop: Any, writes: set) -> set[Var]:
        before = self.dfn.maybe_before_loop.get(id(loop), set())
        ws = set(writes)
        if type(loop) is For:
            ws.add(loop.var)
        return {v for v in ws if v in before and v in self.restorable}

    # ------------------------------------------------------------------ assembling
    def assemble(self, primal: list, bwd: list, grads: list, value: Any, ret: Return) -> Func:
        from .tape_apply import apply_tape
        fwd, bwd = apply_tape(self, primal, bwd, grads, value)
        params = list(self.lowered.params)
        grad_value: Any = grads[0] if len(grads) == 1 and self.single else tuple(grads)
        final = (value, grad_value) if self.with_value else grad_value
        body = fwd + bwd + [Return(final, None)]
        if self.seeds is not None:          # vjp: cotangents, no defaults
            return Func(self.lowered.func.name, params + self.seeds, body,
                        arrays=self.lowered.func.arrays)
        fn = Func(self.lowered.func.name, params + [self.seed], body,
                  arrays=self.lowered.func.arrays)
        fn.defaults = {**self.lowered.func.defaults, self.seed: Const(1.0)}
        return fn


def _same(d1: Eqn | None, d2: Eqn | None) -> bool:
    """Two equations of one rule's partials that compute the same value."""
    return d1 is not None and d2 is not None and d1.prim == d2.prim and \
        d1.params == d2.params and len(d1.args) == len(d2.args) and \
        all(a is b or type(a) is Const and a == b for a, b in zip(d1.args, d2.args))


def _drop_unread(block: list, term: Any) -> None:
    """Remove from a rule's short block what nothing reads: the sign folding left
    behind (``-y`` once ``g * -y`` became ``-(g * y)``); what may raise stays."""
    needed = {term}
    kept = []
    for e in reversed(block):
        if type(e) is not Eqn:              # (a branch: the block is left as it is)
            return
        if e.outs[0] in needed or not _removable(e):
            kept.append(e)
            needed.update(e.args)
    if len(kept) < len(block):
        block[:] = kept[::-1]


#: numpy functions whose results are indices (tuples of integer arrays)
_INDEX_CALLS = {"ix_", "nonzero", "where", "argwhere", "flatnonzero", "unravel_index",
                "indices", "tril_indices", "triu_indices", "diag_indices", "argsort"}


def _uses_out(rule: Any, targets: Any) -> bool:
    """Does the partial of one of the arguments ``targets`` read the primitive's
    output?"""
    flags = getattr(rule, "_uses_out_cache", None)
    if flags is None:
        flags = []
        out = Var("out")
        for p in rule.partials:
            blk: list = []
            b = Builder(blk)
            args = [b.sym(Var(f"a{i}")) for i in range(rule.nargs)]
            try:
                r = p(*args, b.sym(out))
                direct = getattr(r, "op", r) is out
            except Exception:
                direct = False
            flags.append(direct or out in b.reads
                         or any(out in e.args for e in blk if type(e) is Eqn))
        flags = tuple(flags)
        try:
            object.__setattr__(rule, "_uses_out_cache", flags)
        except Exception:
            pass
    return any(flags[i] for i in targets if i < len(flags))


def _saved_truths(block: list) -> list:
    """``if xs:`` of a list (a dict, an object): its truth is kept in a variable when
    the branch is taken, ``_c = bool(xs)``, for the adjoint sweep to take the same
    branch (the list itself may have changed by then: ``if rs: rs.pop()``)."""
    out: list = []
    for s in block:
        t = type(s)
        if t is If:
            s.then, s.orelse = _saved_truths(s.then), _saved_truths(s.orelse)
            if type(s.cond) is Var and s.cond.kind.find().tag != "num":
                c = Var("_c", Kind.num())
                out.append(Eqn((c,), "call", (ir.Global("bool", bool, "builtin"), s.cond),
                               {"kw": (), "label": "bool", "constant": True}, s.loc))
                s.cond = c
        elif t is For:
            s.body = _saved_truths(s.body)
        elif t is While:
            s.test, s.body = _saved_truths(s.test), _saved_truths(s.body)
        out.append(s)
    return out


def _first_uses(block: list) -> dict[Var, tuple[int, int]]:
    out: dict[Var, tuple[int, int]] = {}
    for k, s in enumerate(walk(block)):
        if type(s) is Eqn:
            for j, a in enumerate(s.args):
                if type(a) is Var and a not in out:
                    out[a] = (k, j)
    return out


def _restorable(block: list) -> set[Var]:
    """Variables that may be overwritten: written inside a branch or loop, or twice."""
    count: dict[Var, int] = {}
    out: set[Var] = set()
    for s in block:           # the top level: written twice, or by a loop
        for v in stmt_writes(s):
            count[v] = count.get(v, 0) + 1
            if count[v] > 1 or type(s) is For:
                out.add(v)
    for s in walk(block):     # nested: written inside a branch or loop
        if type(s) in (If, For, While):
            out.update(assigned(s.then + s.orelse if type(s) is If else
                                s.test + s.body if type(s) is While else s.body))
    return out


def _order(v: Var) -> int:
    return v.n


def reverse(lowered: Any, facts: Facts, wrt: list[Var], with_value: bool = False,
            single: bool = False, share_lists: bool = False) -> Func:
    """The gradient function's IR (see the module docstring).  ``share_lists``: every
    differentiated list parameter gets its shadow from one ``_zeros_like`` call, used or
    not (for arguments that share lists)."""
    r = Reverse(lowered, facts, wrt, with_value)
    r.single = single
    r.share_lists = share_lists
    return r.run()
