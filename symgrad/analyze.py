"""Analysis: what kind each value is, and which values carry a derivative.

``analyze(lowered, wrt)`` returns a :class:`Facts` record:

* kinds are resolved (``a + b`` on lists becomes ``concat``; an unknown kind is a number);
* list variables are grouped into *alias classes*: variables that may refer to the
  same list object, or to a list inside it (``y = xs``, ``row = W[i]``,
  ``L.append(row)``), so a write through one name is seen through the others;
* a value is **active** when it is *varied* (depends on a differentiated input)
  and *useful* (the result depends on it), each computed to a fixed point over
  loops, in program order;
* calls that would need a derivative they do not have, and writes of
  differentiated values into lists that live outside the function (a global, a
  default argument), are reported here with their source line.

>>> from symgrad.lower import lower
>>> def f(x, y, n):
...     return x * y + n
>>> facts = analyze(lower(f), ["x"])   # doctest: +SKIP
"""

from __future__ import annotations

import ast
import sys

from dataclasses import dataclass, field
from typing import Any

from .errors import NonDifferentiableError, UnsupportedSyntaxError
from .ir import (Const, Eqn, For, Global, If, Kind, KindError, Return, Var, While,
                 kind_conflict, leaves, walk)
from .lower_array import settle_joins
from .raising import mark_raising_reads
from .rules import RULES

__all__ = ["Facts", "analyze", "changed_by", "INACTIVE_PRIMS", "LIST_MUTATORS"]

#: primitives whose result carries no derivative (comparisons, counts, opaque objects)
INACTIVE_PRIMS = {"lt", "le", "gt", "ge", "eq", "ne", "is", "is_not", "in", "not_in", "not",
                  "and", "len", "range", "invert", "getattr_const", "assert_fail", "raise",
                  "zeros_like"}
#: effects that change a list in place (argument 0 is the list)
LIST_MUTATORS = {"append", "setitem", "insert", "extend", "setslice", "clear", "reverse",
                 "pop", "accum", "put_back", "add_into", "aset", "aset_add"}
#: primitives producing a list that shares objects with their list arguments
_LIST_PRODUCERS = {"copy", "concat", "repeat", "slice", "getitem", "pop", "list", "tuple",
                   "dict", "get_or_missing"}


@dataclass
class Facts:
    """What the later passes need to know, computed once."""

    active: set[Var] = field(default_factory=set)
    varied: set[Var] = field(default_factory=set)
    useful: set[Var] = field(default_factory=set)
    alias: dict[Var, Var] = field(default_factory=dict)     # list var -> class root
    active_classes: set[Var] = field(default_factory=set)
    wrt: list[Var] = field(default_factory=list)
    int_arrays: set[Var] = field(default_factory=set)   # arrays of ints or bools

    def root(self, v: Var) -> Var:
        r = self.alias.get(v, v)
        while r in self.alias and self.alias[r] is not r:
            r = self.alias[r]
        return r

    def is_active(self, x: Any) -> bool:
        if type(x) is not Var:
            return False
        hit = self._memo.get(x)
        if hit is None:
            hit = self._memo[x] = self.root(x) in self.active_classes if x.kind.is_list \
                else x in self.active
        return hit

    def __post_init__(self) -> None:
        self._memo: dict[Var, bool] = {}


# --------------------------------------------------------------------------- kinds

def resolve_kinds(lowered: Any) -> None:
    """Decide the deferred ``add``/``mul`` equations: list concatenation and repetition
    when an operand is a list, arithmetic otherwise; unknown kinds become numbers."""
    changed = True
    copies = [e for e in lowered.deferred if e.prim == "copy"]
    pending = [e for e in lowered.deferred if e.prim != "copy"]
    while changed and pending:
        changed = False
        rest = []
        for e in pending:
            kinds = [_kind(a).find() for a in e.args]
            tags = {k.tag for k in kinds}
            if "list" in tags or e.out.kind.find().tag == "list":
                _make_list_op(e, kinds)
                changed = True
            elif "array" in tags:
                e.out.kind.unify(Kind.array())
                changed = True
            elif tags <= {"num", "obj"}:
                e.out.kind.unify(Kind.obj() if "obj" in tags else Kind.num())
                changed = True
            else:
                rest.append(e)
        pending = rest
    sliced = {o for s in walk(lowered.func.body) if type(s) is Eqn and s.prim == "slice"
              for o in s.outs} if pending else set()
    for e in pending:            # still unknown: numbers (a slice, xs[1:] + xs[:1]: lists)
        if any(a in sliced for a in e.args if type(a) is Var):
            for a in e.args:
                if type(a) is Var and a in sliced:
                    a.kind.unify(Kind.list_of())
            _make_list_op(e, [_kind(a).find() for a in e.args])
            continue
        for a in e.args:
            if type(a) is Var:
                a.kind.settle_num()
        e.out.kind.settle_num()
    settle_joins(getattr(lowered, "joins", ()))   # an array if an operand is one
    _opaque_elements(lowered)
    settle_copies(copies, lowered.func.body)


def settle_copies(copies: list, body: list) -> None:
    """``copy.copy(p)`` of a value whose kind was not known where it was copied (see
    symgrad.lower_copy): now that it is, a list is copied as ``p[:]`` (``deepcopy`` of a
    list of lists: row by row, in a loop), an array as ``p.copy()``, a number is itself;
    a dict is refused."""
    for e in copies:
        kind = _kind(e.args[0]).find()
        deep = e.params["copied"]
        if kind.tag == "map" or deep and kind.tag == "list" and _holds(kind, "map"):
            raise _loc_error(e, f"copy.{'deepcopy' if deep else 'copy'} of a parameter (or "
                             "a value of a kind not known where it is copied) that is or "
                             "holds a dict", "copy it after its first use, or build the "
                             "copy: dict(p)")
        if deep and kind.tag == "list" and _holds(kind, "list", "array"):
            _replace(body, e, _row_copies(e.out, e.args[0], e.loc))
            continue
        if kind.tag == "list":
            e.prim, e.args = "slice", (e.args[0], Const(None), Const(None), Const(None))
        elif kind.tag == "array":
            e.prim = "np_copy"
        e.params = {"spelling": "method"} if kind.tag == "array" else None


def _holds(kind: Kind, *tags: str) -> bool:
    return kind.elem is not None and kind.elem.find().tag in tags


def _row_copies(out: Var, src: Var, loc: Any) -> list:
    """``out = [deep copy of row for row in src]`` as IR: a loop of appends (rows of
    rows copied the same way, arrays with ``.copy()``)."""
    row_kind = _kind(src).find().elem
    k, row = Var("_k", Kind.num()), Var("row", row_kind)
    n = Var("_n", Kind.num())
    inner = row_kind.find()
    if inner.tag == "list" and _holds(inner, "list", "array"):
        made = Var("_row", row_kind)
        copy_row = _row_copies(made, row, loc)
    else:
        made = Var("_row", row_kind)
        copy_row = [Eqn((made,), "np_copy", (row,), {"spelling": "method"}, loc)
                    if inner.tag == "array" else
                    Eqn((made,), "slice", (row, Const(None), Const(None), Const(None)), None,
                        loc)]
    body = [Eqn((row,), "getitem", (src, k), None, loc), *copy_row,
            Eqn((), "append", (out, made), None, loc)]
    return [Eqn((out,), "list", (), None, loc), Eqn((n,), "len", (src,), None, loc),
            For(k, Const(0), n, Const(1), body, False, loc)]


def _replace(body: list, e: Eqn, stmts: list) -> None:
    """Put ``stmts`` in place of ``e`` in whichever block of ``body`` holds it."""
    todo = [body]
    while todo:
        block = todo.pop()
        for i, s in enumerate(block):
            if s is e:
                block[i:i + 1] = stmts
                return
            t = type(s)
            if t is If:
                todo += [s.then, s.orelse]
            elif t is For:
                todo.append(s.body)
            elif t is While:
                todo += [s.test, s.body]
    raise AssertionError("a deferred copy outside the function")  # pragma: no cover


def _mark_kinds(k: Kind, seen: set[int]) -> None:
    """Add the ids of ``k`` and of the kinds it holds (elements, fields) to ``seen``."""
    todo = [k]
    while todo:
        k = todo.pop().find()
        if id(k) not in seen:
            seen.add(id(k))
            if k.elem is not None:
                todo.append(k.elem)
            todo.extend((k.fields or {}).values())


def _opaque_elements(lowered: Any) -> None:
    """Elements of a list that no operation ever uses as a number (rows only moved
    about, ``W[0], W[1] = W[1], W[0]``) and that are not returned: the lists they are
    (numbers, or rows) is known only at the call, and no derivative flows through them,
    so they are objects, moved with their adjoints untouched."""
    body = lowered.func.body
    lists = [k for k in (v.kind.find() for v in list(lowered.func.params) + [
        o for e in walk(body) if type(e) is Eqn for o in e.outs]) if k.tag == "list"]
    lowered.moved_kinds = moved = set()
    if not lists:                 # (no lists: nothing to look for)
        return
    ret = body[-1].value if body and type(body[-1]) is Return else None
    returned: set[int] = set()
    for v in (ret if isinstance(ret, tuple) else (ret,)):
        if type(v) is Var:
            _mark_kinds(v.kind, returned)
    moves = {"getitem", "get_or_missing", "setitem", "copy", "append", "pop", "insert", "len", "list",
             "tuple", "zeros_like", "extend", "reverse", "slice", "concat", "repeat"}
    for e in walk(body):          # used by any operation other than a move: a value
        if type(e) is Eqn and e.prim not in moves:
            for a in e.args + e.outs:
                if type(a) is Var:
                    returned.add(id(a.kind.find()))
    seen: set[int] = set()
    for k in lists:
        while k.tag == "list" and id(k) not in seen:
            seen.add(id(k))
            el = k.elem.find()                       # type: ignore[union-attr]
            if el.tag is None and id(el) not in returned:
                el.tag = "obj"
                moved.add(id(el))
            k = el


def _kind(a: Any) -> Kind:
    if type(a) is Var:
        return a.kind
    if type(a) is Const:
        v = a.value
        return Kind.list_of() if isinstance(v, tuple) else Kind.num() if isinstance(
            v, (int, float)) else Kind.obj()
    if type(a) is Global:
        from .scope import kind_of_value
        return kind_of_value(a.obj)
    return Kind()


def _make_list_op(e: Eqn, kinds: list[Kind]) -> None:
    if e.prim == "add":
        e.prim = "concat"
        for a in e.args:
            if type(a) is Var:
                a.kind.unify(e.out.kind)
        e.out.kind.unify(Kind.list_of())
    else:
        e.prim = "repeat"
        if kinds[0].tag != "list" and (kinds[1].tag == "list" or kinds[0].tag == "num"):
            e.args = (e.args[1], e.args[0])
        e.out.kind.unify(_kind(e.args[0]))


# --------------------------------------------------------------------------- alias classes

class _Classes:
    def __init__(self) -> None:
        self.parent: dict[Var, Var] = {}

    def find(self, v: Var) -> Var:
        p = self.parent.get(v)
        if p is None:
            return v
        r = self.find(p)
        self.parent[v] = r
        return r

    def union(self, a: Var, b: Var) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra is not rb:
            self.parent[ra] = rb


def alias_classes(body: list, params: list[Var] = ()) -> _Classes:
    """Group list variables that may share list objects (conservatively).  List
    parameters may be the same list at run time: when the function writes into one,
    they are grouped together."""
    cls = _Classes()
    for s in walk(body):
        if type(s) is not Eqn:
            continue
        lists = [a for a in s.args if type(a) is Var and a.kind.is_list]
        outs = [o for o in s.outs if o.kind.is_list]
        if s.prim in _LIST_PRODUCERS or s.prim in LIST_MUTATORS:
            group = lists + outs
            for a in group[1:]:
                cls.union(group[0], a)
        elif s.prim == "zeros_like":      # zeros for several lists share as those lists do
            for a in outs[1:]:
                cls.union(outs[0], a)
    lists = [p for p in params if p.kind.is_list]
    if len(lists) > 1:
        roots = {cls.find(p) for p in lists}
        mutated = any(type(s) is Eqn and s.prim in LIST_MUTATORS and s.args and
                      type(s.args[0]) is Var and cls.find(s.args[0]) in roots
                      for s in walk(body))
        if mutated:
            for p in lists[1:]:
                cls.union(lists[0], p)
    return cls


# --------------------------------------------------------------------------- activity

_OPAQUE = {"pyexpr", "binop", "call", "callmethod"}


def _kills(e: Eqn) -> bool:
    """Does the equation's result carry no derivative, by its nature (a comparison, a
    count, ``int(x)``), whatever its arguments?"""
    return e.prim in INACTIVE_PRIMS or (e.prim in _OPAQUE and bool((e.params or {}).get(
        "constant")))


def _is_differentiable(e: Eqn) -> bool:
    return not _kills(e) and e.prim not in _OPAQUE


def _varied(body: list, seeds: set[Var], cls: _Classes) -> tuple[set[Var], set[Var]]:
    """Variables depending on the seeds (list classes as their roots), to a fixed point.
    Opaque operations (a call with no rule, an f-string) pass dependence on, so a lost
    derivative is found where it is lost."""
    varied: set[Var] = set(v for v in seeds if not v.kind.is_list)
    vclasses: set[Var] = {cls.find(v) for v in seeds if v.kind.is_list}

    eqns = [s for s in walk(body) if type(s) is Eqn and not _kills(s)]
    changed = True
    while changed:
        # another sweep only if a variable found not varied (read earlier in this
        # sweep) became varied: straight-line code takes one
        changed = False
        missed: set[Var] = set()
        for e in eqns:
            args = _value_args(e)
            for a in args:
                if type(a) is Var and (a in varied or a.kind.is_list
                                       and cls.find(a) in vclasses):
                    break
            else:                                # (an index carries none)
                missed.update(a for a in args if type(a) is Var)
                continue
            # (a call symgrad cannot see into may store what it is given in a list it
            # is given: heapq.heappush(h, x); see _refuse_changed_container)
            targets = list(e.outs) + changed_by(e)
            for t in targets:
                if _mark(t, varied, vclasses, cls) and not changed:
                    changed = t in missed or t.kind.is_list
    return varied, vclasses


def _mark(v: Var, plain: set, classes: set, cls: "_Classes") -> bool:
    """Add ``v`` to ``plain`` (its alias class to ``classes``, for a list); new?"""
    if v.kind.is_list:
        r = cls.find(v)
        if r in classes:
            return False
        classes.add(r)
        return True
    if v in plain:
        return False
    plain.add(v)
    return True


def _useful(body: list, result: Any, cls: _Classes) -> tuple[set[Var], set[Var]]:
    """Variables the result depends on (through differentiable or opaque operations),
    to a fixed point."""
    useful: set[Var] = set()
    uclasses: set[Var] = set()
    results = leaves(result)
    for r in results:
        if type(r) is Var:
            (uclasses.add(cls.find(r)) if r.kind.is_list else useful.add(r))

    def is_u(v: Var) -> bool:
        return cls.find(v) in uclasses if v.kind.is_list else v in useful

    eqns = [s for s in walk(body) if type(s) is Eqn and not _kills(s)]
    changed = True
    while changed:
        # (another sweep only if a variable found useless earlier in this sweep became
        # useful, as in _varied)
        changed = False
        missed: set[Var] = set()
        for e in reversed(eqns):
            hit = False
            for o in e.outs:
                if o in useful or is_u(o):
                    hit = True
                    break
            mutated = e.prim in LIST_MUTATORS and e.args and type(e.args[0]) is Var
            if mutated:
                hit = hit or is_u(e.args[0])
            if not hit:
                missed.update(e.outs)
                if mutated:
                    missed.add(e.args[0])
                continue
            for a in _value_args(e):
                if type(a) is Var and _mark(a, useful, uclasses, cls) and not changed:
                    changed = a in missed or a.kind.is_list
    return useful, uclasses


def _value_args(e: Eqn) -> tuple:
    """The arguments a derivative flows into (not indices, counts or exponents' types)."""
    p = e.prim
    if p in ("getitem", "pop", "aget", "get_or_missing"):
        return e.args[:1]
    if p in ("aset", "aset_add"):
        return (e.args[0], e.args[-1])
    if p in ("setitem", "insert"):
        return (e.args[0], e.args[-1])
    if p in ("repeat",):
        return e.args[:1]
    if p in ("slice", "setslice"):
        return (e.args[0],) + ((e.args[-1],) if p == "setslice" else ())
    return e.args


def analyze(lowered: Any, wrt: list[Var]) -> Facts:
    """Kinds, alias classes and activity of a lowered function (see the module doc)."""
    try:
        resolve_kinds(lowered)
    except KindError as exc:
        raise kind_conflict(lowered.fs, lowered.fs.tree, exc) from None
    body = lowered.func.body
    _arrays_of_lists(body)
    cls = alias_classes(body, lowered.params)
    varied, vclasses = _varied(body, set(wrt), cls)
    useful, uclasses = _useful(body, lowered.result, cls)
    facts = Facts(wrt=list(wrt))
    facts.varied = varied
    facts.useful = useful
    facts.active = varied & useful
    facts.active_classes = vclasses & uclasses
    for v in list(cls.parent):
        facts.alias[v] = cls.find(v)
    facts.int_arrays = _int_arrays(body, set(getattr(lowered, "int_params", ())))
    _check(body, facts, cls, vclasses, uclasses, getattr(lowered, "origins", {}))
    _check_mutable_defaults(lowered, cls)
    mark_raising_reads(lowered.func, facts.is_active)
    return facts


def _numeric_list(a: Any) -> bool:
    """A list of numbers, or of arrays (numpy makes one array of it: the elements
    stacked along a new first axis)."""
    k = a.kind.find() if type(a) is Var else None
    return k is not None and k.tag == "list" and k.elem is not None and \
        k.elem.find().tag in ("num", "array")


def _arrays_of_lists(block: list) -> None:
    """A list of numbers or arrays made in the function and handed to numpy
    (``np.sum([a, b * c])``, ``np.mean([f(v) for v in xs])``, ``np.array([r * 2 for r
    in M])``, ``np.array(xs)``) becomes an array first: ``list_to_array``, whose
    adjoint goes back into the list's elements (``d_xs[k] += d_a[k]``, a number or a
    row).  (Lists of lists, and the sequences ``np.stack`` / ``np.concatenate`` take,
    stay refused.)"""
    from .array_ops import ARRAY_OPS
    out: list = []
    for s in block:
        t = type(s)
        if t is If:
            _arrays_of_lists(s.then)
            _arrays_of_lists(s.orelse)
        elif t is For:
            _arrays_of_lists(s.body)
        elif t is While:
            _arrays_of_lists(s.test)
            _arrays_of_lists(s.body)
        elif t is Eqn:
            params = s.params or {}
            op = ARRAY_OPS.get(s.prim)
            if s.prim == "call" and params.get("np_name") in ("array", "asarray") and \
                    len(s.args) == 2 and not params.get("kw") and _numeric_list(s.args[1]) \
                    and not params.get("int_dtype"):
                s = Eqn(s.outs, "list_to_array", (s.args[1],), None, s.loc)
            elif (op is not None and op.arrays != -1 and s.prim != "np_unjoin" or s.prim
                  in RULES and params.get("flavor") == "numpy") and any(
                      _numeric_list(a) for a in s.args):
                args = []
                for a in s.args:
                    if _numeric_list(a):
                        arr = Var("_a", Kind.array())
                        out.append(Eqn((arr,), "list_to_array", (a,), None, s.loc))
                        a = arr
                    args.append(a)
                s.args = tuple(args)
        out.append(s)
    block[:] = out


def _origin(lst: Any, body: list, cls: _Classes, origins: dict) -> str | None:
    if type(lst) is Global:
        return origins.get(id(lst.obj))
    root = cls.find(lst)
    for s in walk(body):
        if type(s) is Eqn and s.prim in ("copy", "getitem") and s.args and \
                type(s.args[0]) is Global and any(cls.find(o) is root for o in s.outs):
            return origins.get(id(s.args[0].obj))
    return None


def _int_arrays(body: list, int_params: set) -> set:
    """Arrays of integers or bools: made with dtype=int / bool, integer array
    arguments, and their copies and views (numpy truncates what is written into them)."""
    ints = {o for s in walk(body) if type(s) is Eqn and (s.params or {}).get("int_dtype")
            for o in s.outs} | set(int_params)
    for s in walk(body):
        if type(s) is Eqn and s.prim in ("copy", "np_copy", "aget", "np_reshape",
                                         "np_ravel", "np_transpose") and s.outs and \
                s.args and s.args[0] in ints and s.out.kind.find().tag == "array":
            ints.add(s.out)
    return ints


def _check(body: list, facts: Facts, cls: _Classes, vclasses: set, uclasses: set,
           origins: dict) -> None:
    """Report calls a derivative would have to flow through without a rule, and writes
    of differentiated values into lists owned by someone else."""
    outside = set()                                   # classes of lists read from outside
    # variables every assignment of which makes a new list (``acc = []``, a comprehension's
    # list): a write into one writes that new list, even when the list later joins the
    # class of a module's list (``A = GL`` before a loop, ``A = [...]`` in it)
    fresh: dict[Var, bool] = {}
    for s in walk(body):
        if type(s) is Eqn:
            from_outside = s.prim in ("copy", "getitem") and s.args and \
                type(s.args[0]) is Global or s.prim == "getattr"    # (an object's list)
            for o in s.outs:
                fresh[o] = fresh.get(o, True) and s.prim == "list"
                if from_outside:
                    outside.add(cls.find(o))
    ints = facts.int_arrays
    cplx: set[Var] = set()          # variables holding complex numbers (made of constants)
    for s in walk(body):
        if type(s) is not Eqn:
            continue
        p = s.prim
        if any(_complex(a, cplx) for a in s.args):
            if any(_is_varied(a, facts, cls, vclasses) for a in s.args):
                raise _loc_error(s, "complex numbers (a complex value meets a "
                                 "differentiated one)", "symgrad differentiates real "
                                 "arithmetic: carry the real and imaginary parts as two "
                                 "real numbers")
            if not (p in ("abs", "np_abs", "np_real", "np_imag", "np_angle") or
                    p == "getattr" and s.args[1:] in ((Const("real"),), (Const("imag"),))):
                cplx.update(s.outs)
        _check_list_use(s, facts, cls, vclasses, uclasses)
        rule = RULES.get(p)
        if rule is not None and rule.refused and s.outs and s.out in facts.useful:
            _check_refused(s, rule, facts, cls, vclasses)
        if p == "getitem" and (s.params or {}).get("opaque") and _is_varied(
                s.args[1], facts, cls, vclasses) and (
                    facts.root(s.out) in uclasses if s.out.kind.is_list
                    else s.out in facts.useful):
            raise _loc_error(s, "a subscript, by a differentiated value, of an object "
                             "symgrad cannot see into", "give the object a __getitem__ "
                             "written in Python, or compute the value with a function")
        if p in ("aset", "aset_add") and type(s.args[0]) is Var and \
                s.args[0] in ints and _is_varied(s.args[-1], facts, cls, vclasses):
            raise _loc_error(s, "a differentiated value written into an integer (or bool) "
                             "array, which numpy truncates", "make the array with dtype=float")
        if p in _OPAQUE:
            _check_opaque(s, facts, cls, vclasses, uclasses)
        elif p in LIST_MUTATORS and s.args and (type(s.args[0]) is Global or type(
                s.args[0]) is Var and cls.find(s.args[0]) in outside and not fresh.get(
                    s.args[0])):
            vals = s.args[1:]
            if any(_is_varied(a, facts, cls, vclasses) for a in vals):
                what = _origin(s.args[0], body, cls, origins) or \
                    "a list that lives outside the function (a global or a default argument)"
                raise _loc_error(s, f"a write of a differentiated value into {what}, which "
                                 "keeps state between calls",
                                 "build the list inside the function, or pass it in")


def _complex(a: Any, cplx: set) -> bool:
    """Is operand ``a`` a complex number, or holds it one (a tuple, an array)?"""
    t = type(a)
    if t is Var:
        return a in cplx
    v = a.value if t is Const else getattr(a, "obj", None)
    if type(v) is complex:
        return True
    if type(v) is tuple:
        return any(_complex(Const(x), cplx) for x in v)
    return getattr(getattr(v, "dtype", None), "kind", None) == "c"


def _check_opaque(s: Eqn, facts: Facts, cls: _Classes, vclasses: set, uclasses: set) -> None:
    """A call (an expression) kept as written: no differentiated value may reach the
    result through it, nor a list it may change."""
    p = s.prim
    params = s.params or {}
    if params.get("writes_arg") and any(_is_varied(a, facts, cls, vclasses) for a in s.args):
        raise _no_rule(s)
    if params.get("constant"):
        return
    args = s.args[1:] if p == "call" else s.args
    if any(_is_varied(a, facts, cls, vclasses) for a in args) and any(
            facts.root(o) in uclasses if o.kind.is_list else o in facts.useful
            for o in s.outs):
        err = _no_rule(s)
        err.record_method = params.get("record_method", False)  # type: ignore[attr-defined]
        if p.startswith("np_") or params.get("flavor") == "numpy":
            if any(type(a) is Var and a.kind.is_list for a in args):
                err.about_lists = True   # type: ignore[attr-defined] (see api)
        raise err
    if p in ("call", "callmethod") and not _reads_only(s):
        _refuse_changed_container(s, args, facts, cls, vclasses, uclasses)


def _reads_a_field(s: Eqn) -> bool:
    """``p.w`` of a parameter read as an array: no array has that attribute, so ``p`` is
    a record (a NamedTuple or dataclass of arrays) and may be made at the call."""
    if s.prim != "getattr" or len(s.args) != 2 or type(s.args[1]) is not Const or \
            type(s.args[0]) is not Var or s.args[0].kind.find().tag != "array":
        return False
    np = sys.modules.get("numpy")
    return np is not None and not hasattr(np.ndarray, s.args[1].value)


def changed_by(e: Eqn) -> list:
    """The lists (dicts, arrays) an equation may change in place: a list operation's list,
    or every one a call symgrad cannot see into is given (``heapq.heappop(h)``), unless the
    call is known to change nothing (a constant call, logging)."""
    if e.prim in LIST_MUTATORS:
        return [e.args[0]] if e.args and type(e.args[0]) is Var else []
    if e.prim in ("call", "callmethod") and not (e.params or {}).get("constant") and \
            not _reads_only(e):
        return [a for a in e.args if type(a) is Var and (a.kind.is_list or a.kind.is_array)]
    return []


def _refuse_changed_container(s: Eqn, args: Any, facts: Facts, cls: _Classes,
                              vclasses: set, uclasses: set) -> None:
    """A call kept as written (symgrad cannot see into it) given a list, dict or array of
    differentiated values that the result depends on afterwards: the call may change it
    in place (``random.shuffle(xs)``, ``heapq.heapify(h)``, ``np.random.shuffle(a)``),
    which the derivative would not follow."""
    varied = any(_is_varied(a, facts, cls, vclasses) for a in args)
    error = (s.params or {}).get("error")
    if varied and error is not None and s.prim == "call" and _python_callee(s.args[0]):
        raise error     # (a function of ours not inlined, given a differentiated value
    for a in args:      #  and called for what it does: it may store the value anywhere)
        if varied and type(a) is Var and a.kind.find().tag == "obj" and a in facts.useful:
            # (an object read afterwards: the call may store a differentiated value in it)
            if (s.params or {}).get("error") is not None:
                raise s.params["error"]          # (why it was not inlined)
            label = (s.params or {}).get("label") or s.prim
            raise _loc_error(s, f"{label} given an object read afterwards and a "
                             "differentiated value: the call may store the value in the "
                             "object, and symgrad cannot see into it",
                             "write what it does in Python, or return the value")
        if type(a) is not Var or not (a.kind.is_list or a.kind.is_array) or \
                not _is_varied(a, facts, cls, vclasses):
            continue
        if a.kind.is_list and cls.find(a) in uclasses or \
                a.kind.is_array and a in facts.useful:
            if (s.params or {}).get("error") is not None:
                raise s.params["error"]          # (the call's own: random.choice(xs))
            label = (s.params or {}).get("label") or s.prim
            what = "array" if a.kind.is_array else "dict" if a.kind.is_map else "list"
            raise _loc_error(s, f"{label} given a {what} that holds (or may be given) "
                             "differentiated values: the call may change it in place, and "
                             "symgrad cannot see into it",
                             "write what it does in Python (symgrad then follows every "
                             "change), or call it on values that are not differentiated")


def _python_callee(fn: Any) -> bool:
    """Is ``fn`` (a call's function) written in Python, so that symgrad tried to inline
    it (its error says why it could not)?"""
    import types
    obj = getattr(fn, "obj", None)
    obj = getattr(obj, "__func__", obj)
    return isinstance(obj, types.FunctionType)


#: methods of lists, dicts and arrays that change nothing (``p.get(k)`` of a value that
#: may be a dict)
_READING_METHODS = {"get", "keys", "values", "items", "copy", "index", "count", "tolist",
                    "item", "__getitem__", "__contains__", "__len__"}
#: calls kept as written that never change their arguments (logging, warnings)
_READ_ONLY_MODULES = ("logging", "warnings", "json", "pprint", "reprlib", "textwrap")


def _reads_only(s: Eqn) -> bool:
    """Is ``s`` a call of a function (a method: ``log.debug(...)``) of one of
    :data:`_READ_ONLY_MODULES`?"""
    fn = s.args[0] if s.args else None
    if s.prim == "callmethod" and ((s.params or {}).get("name") in _READING_METHODS or
                                   type(fn) is Const):    # ("{}".format(xs): a str's)
        return True
    if type(fn) is not Global:
        return False
    obj = fn.obj if s.prim == "call" else type(fn.obj)     # (callmethod: the object's class)
    owner = getattr(obj, "__self__", None)
    module = getattr(obj, "__module__", None) or getattr(type(owner), "__module__", "") or ""
    return module.split(".")[0] in _READ_ONLY_MODULES


def _check_list_use(s: Eqn, facts: Facts, cls: _Classes, vclasses: set,
                    uclasses: set) -> None:
    """Lists of differentiated values where symgrad cannot follow them: handed to numpy
    (as lists of lists, or to a numpy function), or written through a slice with a step."""
    p = s.prim
    if (p == "list_to_array" or p == "join_list" and type(s.args[0]) is Var and
         s.args[0].kind.is_list) and \
            not _numeric_list(s.args[0]) and \
            _is_varied(s.args[0], facts, cls, vclasses):
        err = _loc_error(s, "a list of lists of differentiated values handed to numpy",
                         "make the array in the call: np.array([[a, b], [c, d]]) with the "
                         "elements written out, or pass an array")
        err.about_lists = True        # type: ignore[attr-defined]  (see api)
        raise err
    if p.startswith("np_") and p != "np_unjoin" and any(
            type(a) is Var and a.kind.is_list and _is_varied(a, facts, cls, vclasses)
            for a in s.args):
        err = _loc_error(s, "a Python list of differentiated numbers passed to a numpy "
                         "function (numpy makes an array of it, which symgrad does not "
                         "follow back into the list)",
                         "make the array in the call: np.array([a, b, c]) with the "
                         "elements written out, or pass an array")
        err.about_lists = True        # type: ignore[attr-defined]  (see api)
        raise err
    if p == "setslice" and type(s.args[0]) is Var and s.args[0].kind.is_list and \
            cls.find(s.args[0]) in vclasses and cls.find(s.args[0]) in uclasses:
        # (a plain slice is lowered as pops and inserts; one with a step stays)
        raise _loc_error(s, "a slice assignment with a step into a list of "
                         "differentiated values (ys[::2] = ...)",
                         "assign element by element (for i, v in zip(range(0, n, 2), "
                         "vs): ys[i] = v)")


def _check_mutable_defaults(lowered: Any, cls: _Classes) -> None:
    """A parameter whose default is a list the function writes into keeps state between
    calls (each call without it writes into the same list): refused."""
    defaults = lowered.func.defaults
    mutated = {cls.find(s.args[0]) for s in walk(lowered.func.body) if type(s) is Eqn and
               s.prim in LIST_MUTATORS and s.args and type(s.args[0]) is Var}
    for p, d in defaults.items():
        obj = d.obj if type(d) is Global else None
        if isinstance(obj, (list, dict, set)) and p.kind.is_list and cls.find(p) in mutated:
            fs = lowered.fs
            raise UnsupportedSyntaxError(
                f"the parameter {p.name!r}, whose default list the function changes (that "
                "list persists between calls)", "use a default of None and make a new list "
                "inside the function", fs.filename, fs.line(fs.tree), 0, fs.text(fs.tree))


def _is_varied(a: Any, facts: Facts, cls: _Classes, vclasses: set) -> bool:
    if type(a) is not Var:
        return False
    return cls.find(a) in vclasses if a.kind.is_list else a in facts.varied


def _check_refused(s: Eqn, rule: Any, facts: Facts, cls: _Classes, vclasses: set) -> None:
    """A differentiated value given where a rule has no derivative (an order)."""
    for i, what in rule.refused.items():
        if i < len(s.args) and _is_varied(s.args[i], facts, cls, vclasses):
            label = (s.params or {}).get("label") or rule.scipy_name or rule.name
            where, text = _where(s.loc)
            raise NonDifferentiableError(
                f"{where}symgrad has no derivative of {label} with respect to {what} "
                f"(argument {i + 1}), which depends on the differentiated inputs.{text}"
                "  hint: give it a constant, or a value computed from arguments that are not "
                "differentiated (wrt=...).")


def _where(loc: Any) -> tuple[str, str]:
    """An error's prefix naming the file and line, and the source line to show."""
    return (f'File "{loc.filename}", line {loc.lineno}: ' if loc else "",
            f"\n    {loc.text}\n" if loc else "\n")


def _no_rule(e: Eqn) -> Exception:
    params = e.params or {}
    err = params.get("error")
    if err is not None:
        return err
    label = params.get("label") or e.prim
    loc = e.loc
    where, text = _where(loc)
    if e.prim in ("pyexpr", "binop"):
        node = params.get("node")
        kinds = {"Dict": "a dict", "Set": "a set", "JoinedStr": "an f-string",
                 "DictComp": "a dict comprehension", "SetComp": "a set comprehension"}
        what = kinds.get(type(node).__name__, _described(node)) if e.prim == "pyexpr" \
            else f"the operator {params.get('op', '?')}"
        return UnsupportedSyntaxError(f"{what} on a differentiated value",
                                      "compute it from values that do not depend on the "
                                      "inputs, or write it with + - * / ** and math functions",
                                      loc.filename if loc else "<unknown>",
                                      loc.lineno if loc else 0, 0, loc.text if loc else "")
    err = NonDifferentiableError(
        f"{where}symgrad has no derivative rule for {label} (called with values that "
        f"depend on the inputs).{text}  hint: use a math/numpy function symgrad knows, "
        "write it in Python, or register a rule with symgrad.register_rule.")
    err.container_read = _reads_a_field(e)   # type: ignore[attr-defined]  (see api)
    return err


def _described(node: Any) -> str:
    """The construct kept as written, as the error names it."""
    if isinstance(node, ast.Starred) or isinstance(node, ast.Call) and any(
            isinstance(a, ast.Starred) for a in node.args):
        return "*-unpacking into a call (zip(*rows), f(*xs))"
    return "this expression"


def _loc_error(e: Eqn, construct: str, hint: str) -> UnsupportedSyntaxError:
    loc = e.loc
    return UnsupportedSyntaxError(construct, hint, loc.filename if loc else "<unknown>",
                                  loc.lineno if loc else 0, 0, loc.text if loc else "")
