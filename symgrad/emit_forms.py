"""How each primitive prints (part of :mod:`symgrad.emit`): the expression forms
(``xs[i]``, ``a if c else b``, ``len(xs)``, ``math.fsum(xs)`` ...) and the statement
forms (``xs.append(v)``, ``d_xs[i] += g``, ``raise ...``), with the precedences that
decide their parentheses.  Array operations print in :mod:`symgrad.emit_array`.
"""

from __future__ import annotations

import ast
import math
from typing import TYPE_CHECKING, Any

from . import rules
from . import emit_array
from .emit_array import ARRAY_EXPR, ARRAY_STMT
from .ir import Const, Eqn, Var

if TYPE_CHECKING:
    from .emit import Printer, _Names

__all__ = ["EXPR", "STMT", "const_text", "helper"]

# precedences, as in ast.unparse
TEST, OR, AND, NOT, CMP, BOR, BXOR, BAND, SHIFT, ARITH, TERM, FACTOR, POWER, AWAIT, ATOM = range(
    1, 16)
# (emit_array, imported by this module, keeps its own copy of the ones it needs)
assert (emit_array.CMP, emit_array.BAND, emit_array.ARITH, emit_array.TERM, emit_array.ATOM) \
    == (CMP, BAND, ARITH, TERM, ATOM)
OP_PREC = {"+": ARITH, "-": ARITH, "*": TERM, "/": TERM, "//": TERM, "%": TERM, "@": TERM,
            "**": POWER}
_BINOP_SYMBOL = {"BitAnd": ("&", BAND), "BitOr": ("|", BOR), "BitXor": ("^", BXOR),
                 "LShift": ("<<", SHIFT), "RShift": (">>", SHIFT)}


# --------------------------------------------------------------------------- expression forms

def const_text(v: Any, names: _Names) -> tuple[str, int]:
    if isinstance(v, float):
        if math.isnan(v):
            return f"{names.module('math')}.nan", ATOM
        if math.isinf(v):
            return ("-" if v < 0 else "") + f"{names.module('math')}.inf", FACTOR if v < 0 else ATOM
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0:
        return repr(v), FACTOR
    return repr(v), ATOM


def _call(name: str, args: str) -> tuple[str, int]:
    return f"{name}({args})", ATOM


def _args(pr: Printer, ops: tuple) -> str:
    return ", ".join(pr.op(a) for a in ops)


def _e_copy(pr: Printer, e: Eqn) -> tuple[str, int]:
    return pr.expr(e.args[0])


def _e_neg(pr: Printer, e: Eqn) -> tuple[str, int]:
    return "-" + pr.op(e.args[0], FACTOR), FACTOR


def _e_not(pr: Printer, e: Eqn) -> tuple[str, int]:
    return "not " + pr.op(e.args[0], NOT), NOT


def _e_and(pr: Printer, e: Eqn) -> tuple[str, int]:
    a, b = e.args
    if any(type(v) is Var and v.kind.find().tag == "array" for v in (a, b)):
        return f"{pr.names.module('numpy')}.logical_and({pr.op(a)}, {pr.op(b)})", ATOM
    return f"{pr.op(a, AND)} and {pr.op(b, NOT)}", AND     # (and is associative)


def _sub(pr: Printer, base: Any, index: Any) -> str:
    """``base[index]``, or ``base.name`` for a field of an object read by attribute."""
    if type(base) is Var and type(index) is Const and base.kind.find().attrs:
        return f"{pr.op(base, ATOM)}.{index.value}"
    return f"{pr.op(base, ATOM)}[{pr.op(index)}]"


def _e_getitem(pr: Printer, e: Eqn) -> tuple[str, int]:
    return _sub(pr, e.args[0], e.args[1]), ATOM


def _e_getattr(pr: Printer, e: Eqn) -> tuple[str, int]:
    base = pr.op(e.args[0], ATOM)
    if base.isdigit():
        base = f"({base})"
    return f"{base}.{e.args[1].value}", ATOM


def _slice_text(pr: Printer, parts: tuple) -> str:
    lo, hi, st = (("" if type(p) is Const and p.value is None else pr.op(p)) for p in parts)
    return f"{lo}:{hi}" + (f":{st}" if st else "")


def _e_slice(pr: Printer, e: Eqn) -> tuple[str, int]:
    made = e.params and (e.params.get("as_list") and "list" or e.params.get("as_tuple") and
                         "tuple")
    if made and all(type(p) is Const and p.value is None for p in e.args[1:4]):
        return f"{pr.names.builtin(made)}({pr.op(e.args[0])})", ATOM   # list(xs), tuple(xs)
    text = f"{pr.op(e.args[0], ATOM)}[{_slice_text(pr, e.args[1:4])}]"
    return (f"{pr.names.builtin(made)}({text})" if made else text), ATOM


def _e_list(pr: Printer, e: Eqn) -> tuple[str, int]:
    return f"[{_args(pr, e.args)}]", ATOM


def _e_dict(pr: Printer, e: Eqn) -> tuple[str, int]:
    items = ", ".join(f"{k!r}: {pr.op(v)}" for k, v in zip(e.params["keys"], e.args))
    return "{" + items + "}", ATOM


def _e_tuple(pr: Printer, e: Eqn) -> tuple[str, int]:
    return "(" + _args(pr, e.args) + ("," if len(e.args) == 1 else "") + ")", ATOM


def _e_concat(pr: Printer, e: Eqn) -> tuple[str, int]:
    return pr.binop("+", e.args[0], e.args[1])


def _e_repeat(pr: Printer, e: Eqn) -> tuple[str, int]:
    return pr.binop("*", e.args[0], e.args[1])


def _e_cmp(pr: Printer, e: Eqn) -> tuple[str, int]:
    return pr.binop(rules.OPERATORS[e.prim][0], e.args[0], e.args[1])


def _e_select(pr: Printer, e: Eqn) -> tuple[str, int]:
    c, a, b = e.args
    if type(c) is Var and c.kind.find().tag == "array":      # elementwise: np.where
        return f"{pr.names.module('numpy')}.where({pr.op(c)}, {pr.op(a)}, {pr.op(b)})", ATOM
    return f"{pr.op(a, OR)} if {pr.op(c, OR)} else {pr.op(b, TEST)}", TEST


def _e_range(pr: Printer, e: Eqn) -> tuple[str, int]:
    return pr.range_text(*e.args), ATOM


def _e_zeros(pr: Printer, e: Eqn) -> tuple[str, int]:
    x = e.args[0]
    if len(e.args) == 1 and type(x) is Var and x.kind.depth() == 1 \
            and x.kind.find().elem.find().tag == "num" \
            and not (e.params or {}).get("arrays"):  # type: ignore[union-attr]
        return f"[0.0] * {pr.names.builtin('len')}({pr.op(x)})", TERM
    name = pr.names.inject(helper('_zeros_like'), '_zeros_like')
    return f"{name}({_args(pr, e.args)})", ATOM


def _e_call(pr: Printer, e: Eqn) -> tuple[str, int]:
    params = e.params or {}
    name = f"{pr.names.module('numpy')}.{params['np_name']}" if params.get("np_name") else \
        pr.op(e.args[0], ATOM)
    return f"{name}({_call_parts(pr, e)})", ATOM


def _e_list_to_array(pr: Printer, e: Eqn) -> tuple[str, int]:
    return f"{pr.names.module('numpy')}.array({pr.op(e.args[0])})", ATOM


def _e_join_list(pr: Printer, e: Eqn) -> tuple[str, int]:
    params = e.params or {}
    axis = f", axis={params['axis']!r}" if "axis" in params and params["axis"] != 0 else ""
    return f"{pr.names.module('numpy')}.{params['how']}({pr.op(e.args[0])}{axis})", ATOM


def _e_get_or_missing(pr: Printer, e: Eqn) -> tuple[str, int]:
    d, key, missing = e.args
    return f"{pr.op(d, ATOM)}.get({pr.op(key)}, {pr.op(missing)})", ATOM


def _e_callmethod(pr: Printer, e: Eqn) -> tuple[str, int]:
    return f"{pr.op(e.args[0], ATOM)}.{e.params['name']}({_call_parts(pr, e)})", ATOM


def _call_parts(pr: Printer, e: Eqn) -> str:
    """The arguments of a call equation ``(callee, *positional, *keyword values)``."""
    kw = (e.params or {}).get("kw", ())
    star = (e.params or {}).get("star", ())         # (positions passed as *xs)
    args = e.args[1:]
    pos = args[:len(args) - len(kw)]
    return ", ".join([f"*{pr.op(a, ATOM)}" if k in star else pr.op(a) for k, a in enumerate(pos)]
                     + [f"{k}={pr.op(v)}" for k, v in zip(kw, args[len(pos):])])


def _e_pyexpr(pr: Printer, e: Eqn) -> tuple[str, int]:
    import copy as _copy
    tree = _copy.deepcopy(e.params["node"])
    texts = [pr.op(a, ATOM) for a in e.args]
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id.startswith("__arg") and n.id.endswith("__"):
            n.id = texts[int(n.id[5:-2])]
    return ast.unparse(tree), ATOM if isinstance(tree, (ast.JoinedStr, ast.Dict, ast.Set,
                                                        ast.DictComp, ast.SetComp)) else TEST


def _e_binop(pr: Printer, e: Eqn) -> tuple[str, int]:
    sym, prec = _BINOP_SYMBOL.get(e.params["op"], ("?", ARITH))
    return f"{pr.op(e.args[0], prec)} {sym} {pr.op(e.args[1], prec + 1)}", prec


def _e_invert(pr: Printer, e: Eqn) -> tuple[str, int]:
    return "~" + pr.op(e.args[0], FACTOR), FACTOR


def _e_pop(pr: Printer, e: Eqn) -> tuple[str, int]:
    return f"{pr.op(e.args[0], ATOM)}.pop({_args(pr, e.args[1:])})", ATOM


def _e_reduce(name: str, module: str | None = None) -> Any:
    def fn(pr: Printer, e: Eqn) -> tuple[str, int]:
        called = f"{pr.names.module(module)}.{name}" if module else pr.names.builtin(name)
        return f"{called}({_args(pr, e.args)})", ATOM
    return fn


def _e_len(pr: Printer, e: Eqn) -> tuple[str, int]:
    return f"{pr.names.builtin('len')}({pr.op(e.args[0])})", ATOM


EXPR: dict[str, Any] = {
    "copy": _e_copy, "neg": _e_neg, "not": _e_not, "and": _e_and, "getitem": _e_getitem,
    "getattr": _e_getattr, "getattr_const": _e_getattr, "slice": _e_slice, "list": _e_list, "tuple": _e_tuple,
    "dict": _e_dict,
    "concat": _e_concat, "repeat": _e_repeat, "select": _e_select, "range": _e_range,
    "zeros_like": _e_zeros, "call": _e_call, "callmethod": _e_callmethod,
    "get_or_missing": _e_get_or_missing, "list_to_array": _e_list_to_array,
    "join_list": _e_join_list, "pyexpr": _e_pyexpr,
    "binop": _e_binop, "invert": _e_invert, "pop": _e_pop, "len": _e_len,
    "sum": _e_reduce("sum"), "fsum": _e_reduce("fsum", "math"),
    "mean": _e_reduce("mean", "statistics"), "fmean": _e_reduce("fmean", "statistics"),
    "max_of": _e_reduce("max"), "min_of": _e_reduce("min"),
}
for _c in ("lt", "le", "gt", "ge", "eq", "ne", "is", "is_not", "in", "not_in"):
    EXPR[_c] = _e_cmp
EXPR.update(ARRAY_EXPR)


def _s_method(name: str) -> Any:
    def fn(pr: Printer, e: Eqn) -> str:
        return f"{pr.op(e.args[0], ATOM)}.{name}({_args(pr, e.args[1:])})"
    return fn


def _s_setitem(pr: Printer, e: Eqn) -> str:
    """``xs[i] = v``, also where ``v`` is ``xs[i] + w``: ``+=`` would add in place into
    an array element, which the caller's list (or another) may hold too (a list typed as
    numbers may be given arrays: see :func:`_s_accum`)."""
    lst, index, value = e.args
    return f"{_sub(pr, lst, index)} = {pr.op(value)}"


def _s_setslice(pr: Printer, e: Eqn) -> str:
    return f"{pr.op(e.args[0], ATOM)}[{_slice_text(pr, e.args[1:4])}] = {pr.op(e.args[4])}"


def _s_accum(pr: Printer, e: Eqn) -> str:
    """``d_xs[k] = d_xs[k] + v``: the element is replaced by the sum.  ``+=`` would add in
    place into an array element, which another adjoint list may hold too (``d_ys =
    d_xs[:]`` of ``ys = list(xs)``, ``d_q = d_a + d_b`` of ``a + b``), counting ``v``
    twice; and a list typed as numbers may be given arrays.  The fields of an object
    read by attribute (``d_p.w += v``) are shared by no list operation."""
    slot = _sub(pr, e.args[0], e.args[1])
    lst = e.args[0]
    if type(e.args[2]) is Const or type(lst) is Var and lst.kind.find().attrs and \
            _numbers_only(lst):
        return f"{slot} += {pr.op(e.args[2])}"
    return f"{slot} = {slot} + {pr.op(e.args[2], ARITH + 1)}"


def _numbers_only(lst: Any) -> bool:
    """Does the list (or dict) ``lst`` hold numbers only, known from its kind?  (The
    fields of an object read by attribute: numbers unless known to be arrays; no list
    operation shares an object's adjoint fields.)"""
    k = lst.kind.find() if type(lst) is Var else None
    if k is None or k.tag not in ("list", "map"):
        return False
    kinds = [k.elem] if k.elem is not None else []
    kinds += list((k.fields or {}).values())
    numbers = ("num", None) if k.attrs else ("num",)
    return bool(kinds) and all(x.find().tag in numbers for x in kinds)


def _s_put_back(pr: Printer, e: Eqn) -> str:
    name = pr.names.inject(helper("_put_back"), "_put_back")
    return f"{name}({_args(pr, e.args)})"


def _s_add_into(pr: Printer, e: Eqn) -> str:
    name = pr.names.inject(helper("_add_into"), "_add_into")
    return f"{name}({_args(pr, e.args)})"


def _s_raise(pr: Printer, e: Eqn) -> str:
    a = e.args[0]
    return "raise" if type(a) is Const and a.value is None else f"raise {pr.op(a)}"


def _s_assert(pr: Printer, e: Eqn) -> str:
    a = e.args[0]
    return "raise AssertionError" if type(a) is Const and a.value is None else \
        f"raise AssertionError({pr.op(a)})"


def _s_pop(pr: Printer, e: Eqn) -> str:
    text = _e_pop(pr, e)[0]
    return f"{e.out.name} = {text}" if e.outs else text


STMT: dict[str, Any] = {
    "append": _s_method("append"), "insert": _s_method("insert"),
    "extend": _s_method("extend"), "reverse": _s_method("reverse"),
    "clear": _s_method("clear"), "setitem": _s_setitem, "setslice": _s_setslice,
    "accum": _s_accum, "raise": _s_raise, "assert_fail": _s_assert, "pop": _s_pop,
    "put_back": _s_put_back, "add_into": _s_add_into, **ARRAY_STMT,
}



def missing_marker() -> Any:
    """The object a dict save holds for a key that was absent (``_put_back`` deletes the
    key again when it gets it back)."""
    return helper("_put_back").__globals__["_MISSING"]


def helper(name: str) -> Any:
    """Helper ``name`` (:mod:`symgrad.helpers`), marked so that, differentiated again,
    generated code that calls it lowers the call as the primitive it stands for."""
    from .helpers import helper_object
    fn = helper_object(name)
    fn.__symgrad_helper__ = name
    return fn
