"""Printing array operations as a numpy user writes them (part of :mod:`symgrad.emit`).

``np.sum(g, axis=0)``, ``x.sum(axis=0)``, ``x.T``, ``a @ b``, ``x[:, j]``; the few
adjoints numpy has no single call for use helpers printed with the generated code
(``_unbroadcast``, ``_split_like``, ``_matmul_vjp_a`` ...).
"""

from __future__ import annotations

from typing import Any

from .array_ops import ARRAY_OPS
from .array_ops_more import HELPER_OPS
from .ir import Const, Eqn, Var, walk
from .rules import RULES

__all__ = ["ARRAY_EXPR", "ARRAY_STMT"]

# emit's precedences (emit.py asserts they agree)
CMP, BAND, ARITH, TERM, ATOM = 5, 8, 10, 11, 15


def _np(pr: Any) -> str:
    return pr.names.module("numpy")


def _kw(params: dict, names: tuple) -> list[str]:
    out = []
    for k, default in names:
        v = params.get(k, default)
        if v != default:
            out.append(f"{k}={v!r}")
    return out


def _e_op(pr: Any, e: Eqn) -> tuple[str, int]:
    op = ARRAY_OPS[e.prim]
    params = e.params or {}
    spelling = params.get("spelling", "function")
    if spelling == "T":
        return f"{pr.op(e.args[0], ATOM)}.T", ATOM
    if e.prim == "np_matmul":
        return pr.binop("@", e.args[0], e.args[1])
    kws = _kw(params, op.keywords)
    if e.prim == "np_reshape":
        shape = params.get("shape")
        kws = [repr(shape)]
    if e.prim == "np_transpose" and params.get("axes") is not None:
        kws = [repr(params["axes"])]
    if e.prim == "np_expand_dims":
        kws = [repr(params.get("axis", 0))]
    if op.arrays == -1 and spelling == "function":
        seq = "[" + ", ".join(pr.op(a) for a in e.args) + "]"
        return f"{_np(pr)}.{op.np_name}({', '.join([seq] + kws)})", ATOM
    if spelling == "method" and op.method:
        rest = [pr.op(a) for a in e.args[1:]]
        return f"{pr.op(e.args[0], ATOM)}.{op.method}({', '.join(rest + kws)})", ATOM
    args = [pr.op(a) for a in e.args]
    return f"{_np(pr)}.{op.np_name}({', '.join(args + kws)})", ATOM


def e_user_call(pr: Any, e: Eqn) -> tuple[str, int]:
    """A function given a rule with ``register_array_rule``: called by its name (numpy's
    own as ``np.linalg.solve``)."""
    from .array_ops import USER_CALLS
    fn = USER_CALLS[e.prim]
    module = getattr(fn, "__module__", "") or ""
    args = ", ".join(pr.op(a) for a in e.args)
    if module.startswith("numpy"):
        import numpy
        path = _numpy_path_of(numpy, fn)
        if path is not None:
            return f"{_np(pr)}.{path}({args})", ATOM
    name = pr.names.inject(fn, getattr(fn, "__name__", "_rule"))
    return f"{name}({args})", ATOM


def _numpy_path_of(np: Any, fn: Any) -> str | None:
    name = getattr(fn, "__name__", None)
    for path in (name, f"linalg.{name}", f"fft.{name}", f"random.{name}"):
        obj: Any = np
        for part in (path or "").split("."):
            obj = getattr(obj, part, None)
        if obj is fn:
            return path
    return None


def index_text(pr: Any, args: tuple, template: tuple, as_value: bool = False) -> str:
    """``i, :, 1:n`` from an index template (positions point into ``args``); with
    ``as_value``, the slices as objects (``i, slice(None), slice(1, n)``), for an index
    passed to a function such as ``np.add.at``."""
    def part(p: Any) -> str:
        if type(p) is Const:
            return ("None" if as_value else "") if p.value is None else repr(p.value)
        return pr.op(args[p])
    out = []
    for it in template:
        k = it[0]
        if k == "n":
            out.append("None")
        elif k == "e":
            out.append("...")
        elif k in ("i", "a"):
            out.append(part(it[1]))
        elif as_value:
            lo, hi, st = (part(p) for p in it[1:])
            out.append("slice(None)" if lo == hi == st == "None" else f"slice({lo}, {hi}, {st})")
        else:
            lo, hi, st = (part(p) for p in it[1:])
            out.append(f"{lo}:{hi}" + (f":{st}" if st else ""))
    return ", ".join(out) if out else "()"


def _e_aget(pr: Any, e: Eqn) -> tuple[str, int]:
    return f"{pr.op(e.args[0], ATOM)}[{index_text(pr, e.args, e.params['index'])}]", ATOM


def _e_aget_copy(pr: Any, e: Eqn) -> tuple[str, int]:
    return f"{_e_aget(pr, e)[0]}.copy()", ATOM


def _s_aset(pr: Any, e: Eqn) -> str:
    x, value = e.args[0], e.args[-1]
    idx = index_text(pr, e.args, e.params["index"])
    add = pr.inline.get(value) if type(value) is Var else None
    if add is not None and add.prim == "add" and type(add.args[0]) is Var:
        read = pr.inline.get(add.args[0])           # x[i] = x[i] + v: x[i] += v
        if read is not None and read.prim == "aget" and read.args[0] is x and \
                read.params["index"] == e.params["index"] and read.args[1:] == e.args[1:-1]:
            return f"{pr.op(x, ATOM)}[{idx}] += {pr.op(add.args[1])}"
    return f"{pr.op(x, ATOM)}[{idx}] = {pr.op(value)}"


def _s_aset_add(pr: Any, e: Eqn) -> str:
    x, value = e.args[0], e.args[-1]
    if e.params.get("repeated"):                   # index arrays may repeat: add each
        idx = index_text(pr, e.args, e.params["index"], as_value=True)
        # one index is passed as it is: x[idx] with idx a tuple (np.nonzero(m),
        # np.ix_(r, c)) indexes by its parts, and so does np.add.at(x, idx, v)
        idx = idx if len(e.params["index"]) == 1 else f"({idx})"
        return f"{_np(pr)}.add.at({pr.op(x)}, {idx}, {pr.op(value)})"
    idx = index_text(pr, e.args, e.params["index"])
    return f"{pr.op(x, ATOM)}[{idx}] += {pr.op(value)}"


def _helper_call(name: str, keywords: tuple = ()) -> Any:
    def fn(pr: Any, e: Eqn) -> tuple[str, int]:
        from .emit_forms import helper as _helper
        hname = pr.names.inject(_helper(name), name)
        args = [pr.op(a) for a in e.args]
        kws = [f"{k}={(e.params or {})[k]!r}" for k in keywords if k in (e.params or {})]
        return f"{hname}({', '.join(args + kws)})", ATOM
    return fn


def _shape_of(pr: Any, x: Any) -> str:
    """``x.shape``, or ``np.shape(x)`` when ``x`` may hold a Python number (a float
    carried through a loop into array arithmetic: ``acc = 0.0``, then
    ``acc = 0.5 * acc + np.sin(w[i, 0])``)."""
    if type(x) is Var and x.kind.find().tag == "array" and x not in _maybe_numbers(pr):
        return f"{pr.op(x, ATOM)}.shape"
    return f"{_np(pr)}.shape({pr.op(x)})"


def _maybe_numbers(pr: Any) -> set:
    """The variables that may hold a Python number when the code runs, at some
    definition: a parameter not specialized as an array; a value read from a list or
    made by a helper (``_unbroadcast(g, x)`` returns ``g`` itself when nothing is
    summed); a copy of one, or Python arithmetic on such values alone.  A numpy
    function, an index into an array, or arithmetic with a numpy operand makes a numpy
    value."""
    known = pr.__dict__.get("_maybe_numbers")
    if known is not None:
        return known
    eqns = [s for s in walk(pr.func.body) if type(s) is Eqn and s.outs]
    maybe: set = {p for p in pr.func.params if p not in pr.func.arrays}

    def numpy_value(a: Any) -> bool:
        return type(a) is Var and a.kind.find().tag == "array" and a not in maybe

    changed = True
    while changed:
        changed = False
        for e in eqns:
            if e.outs[0] in maybe:
                continue
            p = e.prim
            if p == "copy" or p in RULES and (e.params or {}).get("flavor") != "numpy":
                numpy_made = any(numpy_value(a) for a in e.args)
            else:
                numpy_made = p == "aget" or p.startswith("np_") and p != "np_sum_like" or \
                    p in RULES
            if not numpy_made:
                maybe.update(e.outs)
                changed = True
    pr.__dict__["_maybe_numbers"] = maybe
    return maybe


def _e_broadcast_like(pr: Any, e: Eqn) -> tuple[str, int]:
    g, x = e.args
    return f"{_np(pr)}.broadcast_to({pr.op(g)}, {_shape_of(pr, x)})", ATOM


def _e_reshape_like(pr: Any, e: Eqn) -> tuple[str, int]:
    g, x = e.args
    return f"{_np(pr)}.reshape({pr.op(g)}, {_shape_of(pr, x)})", ATOM


def _e_shape_dims(pr: Any, e: Eqn) -> tuple[str, int]:
    """``x.reshape(n, n)``, ``np.reshape(x, (n, n))``, ``np.broadcast_to(v, (k, n))``."""
    x, dims = e.args[0], [pr.op(d) for d in e.args[1:]]
    params = e.params or {}
    whole = params.get("whole")
    if e.prim == "np_reshape_dims" and params.get("spelling") == "method":
        return f"{pr.op(x, ATOM)}.reshape({', '.join(dims)})", ATOM
    shape = dims[0] if whole else "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
    name = "reshape" if e.prim == "np_reshape_dims" else "broadcast_to"
    return f"{_np(pr)}.{name}({pr.op(x)}, {shape})", ATOM


def _e_zeros_like(pr: Any, e: Eqn) -> tuple[str, int]:
    return f"{_np(pr)}.zeros_like({pr.op(e.args[0])}, dtype=float)", ATOM


def _e_copy_of(pr: Any, e: Eqn) -> tuple[str, int]:
    a, x = e.args
    return f"{_np(pr)}.broadcast_to({pr.op(a)}, {_shape_of(pr, x)}).copy()", ATOM


def _e_size_ratio(pr: Any, e: Eqn) -> tuple[str, int]:
    x = e.args[0]
    out = e.args[1] if len(e.args) > 1 else Const(None)
    ddof = e.args[2].value if len(e.args) > 2 else 0
    n = f"{pr.op(x, ATOM)}.size" if type(x) is Var and x.kind.is_array and \
        x not in _maybe_numbers(pr) else f"{_np(pr)}.size({pr.op(x)})"
    if type(out) is Var and out.kind.find().tag == "array":
        n = f"{n} // {pr.op(out, ATOM)}.size"
    if ddof:
        return f"({n} - {ddof})", ATOM
    return n, TERM if "//" in n else ATOM


def _e_eq_float(pr: Any, e: Eqn) -> tuple[str, int]:
    x, m = e.args
    return f"({pr.op(x, CMP + 1)} == {pr.op(m, CMP + 1)}).astype(float)", ATOM


def _e_where(pr: Any, e: Eqn) -> tuple[str, int]:
    return f"{_np(pr)}.where({', '.join(pr.op(a) for a in e.args)})", ATOM


def _e_expand_dims(pr: Any, e: Eqn) -> tuple[str, int]:
    return f"{_np(pr)}.expand_dims({pr.op(e.args[0])}, {e.params['axis']!r})", ATOM


def _e_outer(pr: Any, e: Eqn) -> tuple[str, int]:
    return f"{_np(pr)}.outer({pr.op(e.args[0])}, {pr.op(e.args[1])})", ATOM


def _e_take(pr: Any, e: Eqn) -> tuple[str, int]:
    return (f"{_np(pr)}.take({pr.op(e.args[0])}, {e.params['indices']!r}, "
            f"axis={e.params.get('axis')!r})"), ATOM


def _e_eye_like(pr: Any, e: Eqn) -> tuple[str, int]:
    shape = _shape_of(pr, e.args[0])
    return f"{_np(pr)}.eye({shape}[-2], {shape}[-1])", ATOM     # (broadcasts over a stack)


def _e_einsum(pr: Any, e: Eqn) -> tuple[str, int]:
    args = [repr(e.params["subscripts"])] + [pr.op(a) for a in e.args]
    return f"{_np(pr)}.einsum({', '.join(args)})", ATOM


def _e_average(pr: Any, e: Eqn) -> tuple[str, int]:
    """``np.average(x, axis=0, weights=w)`` (operand 1: the weights, or None)."""
    x, w = e.args
    parts = [pr.op(x)] + _kw(e.params or {}, ARRAY_OPS[e.prim].keywords)
    if not (type(w) is Const and w.value is None):
        parts.append(f"weights={pr.op(w)}")
    return f"{_np(pr)}.average({', '.join(parts)})", ATOM


def _e_inside(pr: Any, e: Eqn) -> tuple[str, int]:
    x, lo, hi = e.args
    parts = []
    if not (type(lo) is Const and lo.value is None):
        parts.append(f"({pr.op(x, CMP + 1)} >= {pr.op(lo, CMP + 1)})")
    if not (type(hi) is Const and hi.value is None):
        parts.append(f"({pr.op(x, CMP + 1)} <= {pr.op(hi, CMP + 1)})")
    if not parts:
        return "True", ATOM
    return " & ".join(parts), BAND if len(parts) > 1 else ATOM


ARRAY_EXPR: dict[str, Any] = {name: _e_op for name in ARRAY_OPS}
ARRAY_EXPR.update({
    "aget": _e_aget, "aget_copy": _e_aget_copy, "np_broadcast_like": _e_broadcast_like,
    "np_reshape_like": _e_reshape_like, "np_zeros_like": _e_zeros_like,
    "np_reshape_dims": _e_shape_dims, "np_broadcast_dims": _e_shape_dims,
    "np_copy_of": _e_copy_of, "np_size_ratio": _e_size_ratio, "np_eq_as_float": _e_eq_float,
    "np_where": _e_where, "np_expand_dims": _e_expand_dims, "np_outer": _e_outer,
    "np_take": _e_take, "np_eye_like": _e_eye_like,
    "np_inside": _e_inside, "np_sum_like": _helper_call("_unbroadcast"),
    "np_split_like": _helper_call("_split_like", ("axis",)),
    "np_joined_vjp": _helper_call("_joined_vjp", ("axis",)),
    "np_unjoin": _helper_call("_unjoin", ("how", "axis")),
    "np_matmul_vjp_a": _helper_call("_matmul_vjp_a"),
    "np_matmul_vjp_b": _helper_call("_matmul_vjp_b"),
    "np_inner_vjp_a": _helper_call("_inner_vjp_a"), "np_inner_vjp_b": _helper_call("_inner_vjp_b"),
    "np_tensordot_vjp_a": _helper_call("_tensordot_vjp_a", ("axes",)),
    "np_tensordot_vjp_b": _helper_call("_tensordot_vjp_b", ("axes",)),
})
ARRAY_EXPR.update({"np_einsum": _e_einsum, "np_average": _e_average})
ARRAY_EXPR.update({prim: _helper_call(name, keywords)
                   for prim, (name, keywords) in HELPER_OPS.items()})
ARRAY_STMT: dict[str, Any] = {"aset": _s_aset, "aset_add": _s_aset_add}

#: primitives that change an array in place (argument 0)
ARRAY_MUTATING = {"aset", "aset_add"}
#: primitives with no effect, which dead-code removal may drop
ARRAY_PURE = set(ARRAY_EXPR)
