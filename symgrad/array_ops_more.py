"""More NumPy array operations, declared as in :mod:`symgrad.array_ops` (into the same
``ARRAY_OPS`` table; imported by it before its lookup tables are built).

* cumulative and differencing: ``cumsum``, ``cumprod``, ``diff``;
* rearranging: ``flip``, ``roll``, ``swapaxes``, ``moveaxis``, ``diagonal``, ``triu``,
  ``tril``, ``tile``, ``repeat``, ``atleast_1d``, ``sort``;
* products and linear algebra: ``kron``, ``vdot``, ``einsum``, ``linalg.inv``,
  ``linalg.det``, ``linalg.solve``;
* reductions: ``average``, ``nansum``;
* piecewise constant (derivative 0): ``floor``, ``ceil``, ``rint``, ``trunc``,
  ``round``/``around``, ``heaviside``, ``isnan`` and the methods ``.argmax()``,
  ``.argmin()``, ``.argsort()``.

A few adjoints numpy has no single call for are helpers printed with the generated
code (``_diagonal_vjp``, ``_tile_vjp``, ``_repeat_vjp``, ``_kron_vjp_a``, ``_sort_vjp``
...): each is an operation here too, so generated code that calls one is read back
(a Hessian is the tangent sweep of the generated gradient).
"""

from __future__ import annotations

from typing import Any, Callable

from .array_ops import (ARRAY_OPS, ArrayBuilder, Pattern, _expand_back,
                        _helper_jvp, _join_dim, _no_vjp, _op, _vjp_mean)
from .ir import Const, Eqn, Kind

__all__ = ["HELPER_OPS", "einsum_parts"]

#: primitive -> (helper function name, keywords printed) for operations printed as a call
#: of a helper of :mod:`symgrad.helpers`
HELPER_OPS: dict[str, tuple[str, tuple[str, ...]]] = {}


def _refuse(e: Eqn, construct: str, hint: str) -> Exception:
    from .errors import UnsupportedSyntaxError
    loc = e.loc
    return UnsupportedSyntaxError(construct, hint, loc.filename if loc else "<unknown>",
                                  loc.lineno if loc else 0, 0, loc.text if loc else "")


def _same(pats: list, p: dict) -> Pattern:
    return pats[0]


def _unknown(pats: list, p: dict) -> Pattern:
    return None


def _axis_unknown(pats: list, p: dict) -> Pattern:
    """The pattern of ``x`` with the size along ``axis`` changed (a flat vector for
    axis None)."""
    x, axis = pats[0], p.get("axis", -1)
    if axis is None:
        return ("?",)
    if x is None or not isinstance(axis, int) or not x:
        return None
    k = axis % len(x)
    return x[:k] + ("?",) + x[k + 1:]


def _flip(b: ArrayBuilder, g: Any, axis: Any) -> Any:
    return b.call("np_flip", (g,), axis=axis)


def _reverse_cumsum(b: ArrayBuilder, g: Any, axis: Any) -> Any:
    """For each position, the sum of ``g`` from there to the end along ``axis``."""
    return _flip(b, b.call("np_cumsum", (_flip(b, g, axis),), axis=axis), axis)


# ----- cumulative sums and products, differences

def _cum_shape(pats: list, p: dict) -> Pattern:
    return ("?",) if p.get("axis") is None else pats[0]


def _vjp_cumsum(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    axis = (e.params or {}).get("axis")
    d = _reverse_cumsum(b, g, axis)
    return [d if axis is not None else b.call("np_reshape_like", (d, e.args[0]))]


def _zeros_so_far(b: ArrayBuilder, x: Any, axis: Any) -> tuple:
    """For ``np.cumprod(x, axis)`` (``x`` flat when ``axis`` is None): the axis, ``x == 0``,
    the count of zeros up to each position, ``x`` with its zeros 1, and a function of
    ``k``: ``x`` with the ``k``-th zero of each lane made 1."""
    at = 0 if axis is None else axis
    zero = b.op("eq", x, Const(0.0))
    count = b.call("np_cumsum", (b.call("np_where", (zero, Const(1.0), Const(0.0))),),
                   axis=at)
    safe = b.call("np_where", (zero, Const(1.0), x))

    def kth_one(k: float) -> Any:          # (x itself elsewhere: its tangent flows there)
        return b.call("np_where", (b.op("eq", count, Const(k)), safe, x))
    return at, zero, count, safe, kth_one


def _vjp_cumprod(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``d_x[i] = sum_{j >= i} g[j] out[j] / x[i]`` where ``x[i]`` is not 0; at a zero, the
    same sum of ``g[j]`` times the products with that zero made 1 (the products of the
    other factors), for the first and second zero of a lane; at a later one 0 (it is
    multiplied by two zeros).  Exact where ``x`` has zeros, with no division by them, and
    so are its derivatives (hvp, hessian: a later zero's derivative holds two zeros)."""
    x, out = e.args[0], e.out
    axis = (e.params or {}).get("axis")
    flat = x if axis is not None else b.call("np_ravel", (x,))
    at, zero, count, safe, kth_one = _zeros_so_far(b, flat, axis)
    d = b.op("truediv", _reverse_cumsum(b, b.op("mul", g, out), at), safe)
    at_zero: Any = Const(0.0)
    for k in (2.0, 1.0):
        others = _reverse_cumsum(b, b.op("mul", g, b.call("np_cumprod", (kth_one(k),),
                                                           axis=at)), at)
        at_zero = b.call("np_where", (b.op("eq", count, Const(k)), others, at_zero))
    d = b.call("np_where", (zero, at_zero, d))
    return [d if axis is not None else b.call("np_reshape_like", (d, x))]


def _jvp_cumprod(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    """Before a lane's first zero, ``out * cumsum(t / x)``; from it on, the tangent of
    that zero times the products with it made 1 (every other term holds the zero)."""
    x, out = e.args[0], e.out
    axis = (e.params or {}).get("axis")
    flat, tan = (x, t[0]) if axis is not None else (b.call("np_ravel", (x,)),
                                                     b.call("np_ravel", (t[0],)))
    at, zero, count, safe, kth_one = _zeros_so_far(b, flat, axis)
    before = b.op("mul", out, b.call("np_cumsum", (b.op("truediv", tan, safe),), axis=at))
    at_first = b.call("np_where", (b.op("eq", count, Const(1.0)), tan, Const(0.0)))
    at_first = b.call("np_where", (zero, at_first, Const(0.0)))
    lead = b.call("np_sum", (at_first,), axis=at, keepdims=True)
    after = b.op("mul", lead, b.call("np_cumprod", (kth_one(1.0),), axis=at))
    return b.call("np_where", (b.op("eq", count, Const(0.0)), before, after))


def _vjp_diff(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """The transpose of one difference is minus the difference of ``g`` padded with a
    zero at each end; of ``n`` differences, that ``n`` times."""
    p = e.params or {}
    if p.get("prepend") is not None or p.get("append") is not None:
        raise _refuse(e, "np.diff with prepend= or append=",
                      "concatenate the values first: np.diff(np.concatenate([a, x]))")
    for _ in range(p.get("n", 1)):
        g = b.op("neg", b.call("np_diff", (g,), axis=p.get("axis", -1), prepend=0.0,
                               append=0.0))
    return [g]


def _jvp_diff(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    """The differences of the tangent (a constant put before or after has tangent 0)."""
    p = dict(e.params or {})
    for k in ("prepend", "append"):
        if p.get(k) is not None:
            p[k] = 0.0
    p.pop("spelling", None)
    return b.call("np_diff", (t[0],), **p)


_op("cumsum", "cumsum", "cumsum", 1, {"axis": None}, _cum_shape, _vjp_cumsum,
    positional=("axis",))
_op("cumprod", "cumprod", "cumprod", 1, {"axis": None}, _cum_shape, _vjp_cumprod,
    _jvp_cumprod, positional=("axis",))
_op("diff", "diff", None, 1, {"n": 1, "axis": -1, "prepend": None, "append": None},
    _axis_unknown, _vjp_diff, _jvp_diff, positional=("n", "axis"))


# ----- rearranging elements

def _vjp_roll(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    p = e.params or {}
    shift = p.get("shift")
    back = tuple(-s for s in shift) if isinstance(shift, tuple) else -shift
    return [b.call("np_roll", (g,), shift=back, axis=p.get("axis"))]


def _swap_shape(pats: list, p: dict) -> Pattern:
    x = pats[0]
    if x is None or not x:
        return None
    i, j = p["axis1"] % len(x), p["axis2"] % len(x)
    out = list(x)
    out[i], out[j] = x[j], x[i]
    return tuple(out)


def _axes(v: Any) -> tuple:
    return (v,) if isinstance(v, int) else tuple(v)


def _moveaxis_shape(pats: list, p: dict) -> Pattern:
    x = pats[0]
    if x is None or not x:
        return None
    n = len(x)
    src = [s % n for s in _axes(p["source"])]
    dst = [d % n for d in _axes(p["destination"])]
    order = [k for k in range(n) if k not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return tuple(x[k] for k in order)


def _diagonal_shape(pats: list, p: dict) -> Pattern:
    x = pats[0]
    if x is None or len(x) < 2:
        return None
    i, j = p.get("axis1", 0) % len(x), p.get("axis2", 1) % len(x)
    return tuple(d for k, d in enumerate(x) if k not in (i, j)) + ("?",)


def _vjp_diagonal(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    p = e.params or {}
    given = {k: p[k] for k, default in (("offset", 0), ("axis1", 0), ("axis2", 1))
             if p.get(k, default) != default}
    return [b.call("np_diagonal_vjp", (g, e.args[0]), **given)]


def _vjp_tile(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    return [b.call("np_tile_vjp", (g, e.args[0]), reps=(e.params or {}).get("reps"))]


def _vjp_repeat(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    p = e.params or {}
    keep = {"axis": p["axis"]} if p.get("axis") is not None else {}
    return [b.call("np_repeat_vjp", (g, e.args[0]), repeats=p["repeats"], **keep)]


def _repeat_shape(pats: list, p: dict) -> Pattern:
    return _axis_unknown(pats, {"axis": p.get("axis")})


def _vjp_sort(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    return [b.call("np_sort_vjp", (g, e.args[0]), **_sort_axis(e))]


def _jvp_sort(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    return b.call("np_sort_jvp", (t[0], e.args[0]), **_sort_axis(e))


def _vjp_partition(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    return [b.call("np_partition_vjp", (g, e.out, e.args[0]), **_sort_axis(e))]


def _jvp_partition(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    return b.call("np_partition_jvp", (t[0], e.out, e.args[0]), **_sort_axis(e))


def _sort_axis(e: Eqn) -> dict:
    axis = (e.params or {}).get("axis", -1)
    return {} if axis == -1 else {"axis": axis}


def _vjp_self(name: str, *keys: str) -> Callable:
    """The vjp of an operation that is its own transpose (``flip``, ``triu`` ...)."""
    def vjp(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
        p = e.params or {}
        return [b.call(name, (g,), **{k: p[k] for k in keys if k in p})]
    return vjp


def _vjp_swapaxes(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    p = e.params or {}
    return [b.call("np_swapaxes", (g,), axis1=p["axis1"], axis2=p["axis2"])]


def _vjp_moveaxis(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    p = e.params or {}
    return [b.call("np_moveaxis", (g,), source=p["destination"], destination=p["source"])]


def _vjp_reshape_back(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    return [b.call("np_reshape_like", (g, e.args[0]))]


_op("flip", "flip", None, 1, {"axis": None}, _same, _vjp_self("np_flip", "axis"),
    positional=("axis",))
_op("roll", "roll", None, 1, {"shift": None, "axis": None}, _same, _vjp_roll,
    positional=("shift", "axis"))
_op("swapaxes", "swapaxes", None, 1, {"axis1": None, "axis2": None}, _swap_shape,
    _vjp_swapaxes, positional=("axis1", "axis2"))
_op("moveaxis", "moveaxis", None, 1, {"source": None, "destination": None}, _moveaxis_shape,
    _vjp_moveaxis, positional=("source", "destination"))
_op("diagonal", "diagonal", "diagonal", 1, {"offset": 0, "axis1": 0, "axis2": 1},
    _diagonal_shape, _vjp_diagonal, positional=("offset", "axis1", "axis2"))
_op("triu", "triu", None, 1, {"k": 0}, _same, _vjp_self("np_triu", "k"), positional=("k",))
_op("tril", "tril", None, 1, {"k": 0}, _same, _vjp_self("np_tril", "k"), positional=("k",))
_op("tile", "tile", None, 1, {"reps": None}, _unknown, _vjp_tile, positional=("reps",))


#: np.pad's modes that copy entries of the array (differentiated: linear in it)
_PAD_MODES = ("constant", "edge", "wrap", "reflect", "symmetric")


def _pad_mode(e: Eqn) -> str:
    mode = (e.params or {}).get("mode", "constant")
    if mode not in _PAD_MODES or (mode == "reflect" or mode == "symmetric") and (
            e.params or {}).get("reflect_type", "even") != "even":
        raise _refuse(e, f"np.pad with mode={mode!r}",
                      "pad with mode 'constant', 'edge', 'wrap', 'reflect' or "
                      "'symmetric', or build the border with np.concatenate")
    return mode


def _vjp_pad(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    mode = _pad_mode(e)
    extra = {} if mode == "constant" else {"mode": mode}
    return [b.call("np_unpad", (g, e.args[0]), pad_width=e.params["pad_width"], **extra)]


def _jvp_pad(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    """The tangent padded alike (with zeros for 'constant': its values are constants)."""
    mode = _pad_mode(e)
    extra = {} if mode == "constant" else {"mode": mode}
    return b.call("np_pad", (t[0],), pad_width=e.params["pad_width"], **extra)


def _pad_shape(pats: list, p: dict) -> Pattern:
    if pats[0] is None:
        return None
    import numpy as np
    widths = np.broadcast_to(np.asarray(p.get("pad_width"), dtype=int), (len(pats[0]), 2))
    return tuple("n" if w.sum() else d for d, w in zip(pats[0], widths))


_op("pad", "pad", None, 1, {"pad_width": None, "mode": "constant", "constant_values": 0,
                            "reflect_type": "even"},
    _pad_shape, _vjp_pad, _jvp_pad, positional=("pad_width", "mode"))
_op("repeat", "repeat", "repeat", 1, {"repeats": None, "axis": None}, _repeat_shape,
    _vjp_repeat, positional=("repeats", "axis"))
_op("atleast_1d", "atleast_1d", None, 1, {},
    lambda pats, p: (1,) if pats[0] == () else pats[0], _vjp_reshape_back)
_op("sort", "sort", None, 1, {"axis": -1},
    lambda pats, p: ("?",) if p.get("axis", -1) is None else pats[0],
    _vjp_sort, _jvp_sort, positional=("axis",))
_op("partition", "partition", None, 1, {"kth": None, "axis": -1},
    lambda pats, p: ("?",) if p.get("axis", -1) is None else pats[0],
    _vjp_partition, _jvp_partition, positional=("kth", "axis"))


# ----- products

def _vjp_vdot(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    a, c = e.args

    def shaped(term: Any, like: Any, k: int) -> Any:
        if pats[0] is not None and pats[0] == pats[1] and "?" not in pats[0]:
            return term
        return b.call("np_reshape_like", (term, like))
    return [shaped(b.op("mul", g, c), a, 0), shaped(b.op("mul", g, a), c, 1)]


def _vjp_kron(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    a, c = e.args
    return [b.call("np_kron_vjp_a", (g, a, c)), b.call("np_kron_vjp_b", (g, a, c))]


_op("vdot", "vdot", None, 2, {}, lambda pats, p: (), _vjp_vdot, scalar=lambda p: True,
    bilinear=True)
_op("kron", "kron", None, 2, {}, _unknown, _vjp_kron, bilinear=True)


def einsum_parts(spec: str) -> tuple[list[str], str]:
    """The subscripts of each operand and of the result of ``np.einsum(spec, ...)``
    (implicit mode: the letters met once, in alphabetical order)."""
    spec = spec.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    terms = ins.split(",")
    if not arrow:
        letters = ins.replace(",", "")
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return terms, out


def _einsum_checked(e: Eqn, pats: list | None = None) -> tuple[list[str], str] | None:
    """The subscripts of each operand and of the result, an ellipsis written out in
    letters of its own for the operands' ranks (``pats``); None for an ellipsis where a
    rank is not known (the generated code then writes it out: ``_einsum_vjp``)."""
    spec = (e.params or {}).get("subscripts", "")
    if "." in spec:
        spec = _explicit(spec, pats)
        if spec is None:
            return None
    terms, out = einsum_parts(spec)
    if "." in spec or len(terms) != len(e.args) or len(set(out)) != len(out):
        raise _refuse(e, f"np.einsum({spec!r}, ...)", "write a letter for every axis, "
                      "once in the result")
    return terms, out


def _explicit(spec: str, pats: list | None) -> str | None:
    """``spec`` with its ellipses written out for the operands' ranks, if known."""
    if pats is None or any(q is None for q in pats):
        return None
    terms = spec.replace(" ", "").partition("->")[0].split(",")
    if len(terms) != len(pats) or any(len(q) < len(t) - 3 if "..." in t else len(q) != len(t)
                                      for t, q in zip(terms, pats)):
        return None                         # (ranks that do not fit: not known yet)
    from .helpers import helper_object
    return helper_object("_einsum_explicit")(spec, [len(q) for q in pats])


def _vjp_einsum(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """The adjoint of operand ``i`` is the einsum of the other operands and ``g`` into
    operand ``i``'s subscripts; a letter only operand ``i`` has (summed away) comes back
    by broadcasting, and a dimension of size 1 numpy broadcast is summed back."""
    checked = _einsum_checked(e, pats)
    if checked is None:                   # (an ellipsis of ranks known when it runs)
        return [b.call("np_einsum_vjp", (g, *e.args), subscripts=e.params["subscripts"],
                       index=i) for i in range(len(e.args))]
    terms, out = checked
    result = []
    for i, (term, x) in enumerate(zip(terms, e.args)):
        others = [t for k, t in enumerate(terms) if k != i]
        seen = set("".join(others) + out)
        letters = "".join(dict.fromkeys(term))      # (a letter repeated: 'ii' is i)
        kept = "".join(c for c in letters if c in seen)
        spec = ",".join(others + [out]) + "->" + kept
        d = b.call("np_einsum", tuple(a for k, a in enumerate(e.args) if k != i) + (g,),
                   subscripts=spec)
        missing = tuple(k for k, c in enumerate(letters) if c not in seen)
        if missing:
            d = b.call("np_expand_dims", (d,), axis=missing if len(missing) > 1
                       else missing[0])
        if letters != term:                 # the diagonal 'ii' names, zeros elsewhere
            result.append(b.call("np_einsum_diagonal", (d, x), term=term))
            continue
        q = pats[i] if i < len(pats) else None
        if q is None or any(dim != "n" for k, dim in enumerate(q) if k not in missing):
            d = b.call("np_sum_like", (d, x))       # (a size-1 dimension broadcast)
        if missing:
            d = b.call("np_broadcast_like", (d, x))
        result.append(d)
    return result


def _jvp_einsum(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    _einsum_checked(e, pats)
    total: Any = None
    for i, ti in enumerate(t):
        if ti is None:
            continue
        args = list(e.args)
        args[i] = ti
        term = b.call("np_einsum", tuple(args), e.out.kind, **e.params)
        total = term if total is None else b.op("add", total, term)
    return total if total is not None else Const(0.0)


def _einsum_shape(pats: list, p: dict) -> Pattern:
    spec = p.get("subscripts", "")
    spec = _explicit(spec, pats) if "." in spec else spec
    if spec is None:
        return None
    terms, out = einsum_parts(spec)
    if any(q is None for q in pats) or len(terms) != len(pats) or \
            any(len(t) != len(q) for t, q in zip(terms, pats)):
        return None
    dims: dict = {}
    for t, q in zip(terms, pats):
        for c, d in zip(t, q):
            dims[c] = _join_dim(dims.get(c, 1), d)
    return tuple(dims.get(c, "?") for c in out)


_op("einsum", "einsum", None, -1, {"subscripts": ""}, _einsum_shape, _vjp_einsum,
    _jvp_einsum, scalar=lambda p: einsum_parts(p.get("subscripts", ""))[1] == "")


# ----- linear algebra

def _mT(b: ArrayBuilder, a: Any, pat: Pattern) -> Any:
    """The transpose of a matrix (of each matrix of a stack)."""
    if pat is not None and len(pat) == 2:
        return b.call("np_transpose", (a,), spelling="T")
    return b.call("np_swapaxes", (a,), axis1=-1, axis2=-2)


def _mm(b: ArrayBuilder, a: Any, c: Any) -> Any:
    return b.call("np_matmul", (a, c))


def _vjp_inv(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    out_t = _mT(b, e.out, pats[0])
    return [b.op("neg", _mm(b, _mm(b, out_t, g), out_t))]


def _jvp_inv(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    return b.op("neg", _mm(b, _mm(b, e.out, t[0]), e.out))


def _vjp_pinv(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``p = pinv(a)`` (a of constant rank near the point, as for full rank):
    ``d_a = -p.T g p.T + (I - a p) g.T p p.T + p.T p g.T (I - p a)``."""
    a, p = e.args[0], e.out
    pt, gt = _mT(b, p, pats[0]), _mT(b, g, pats[0])
    first = b.op("neg", _mm(b, _mm(b, pt, g), pt))
    x = _mm(b, _mm(b, gt, p), pt)
    y = _mm(b, _mm(b, pt, p), gt)
    second = b.op("sub", x, _mm(b, a, _mm(b, p, x)))
    third = b.op("sub", y, _mm(b, _mm(b, y, p), a))
    return [b.op("add", b.op("add", first, second), third)]


def _jvp_pinv(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    """``dp = -p da p + p p.T da.T (I - a p) + (I - p a) da.T p.T p``."""
    a, p = e.args[0], e.out
    pt, tt = _mT(b, p, pats[0]), _mT(b, t[0], pats[0])
    first = b.op("neg", _mm(b, _mm(b, p, t[0]), p))
    u = _mm(b, _mm(b, p, pt), tt)
    v = _mm(b, _mm(b, tt, pt), p)
    second = b.op("sub", u, _mm(b, _mm(b, u, a), p))
    third = b.op("sub", v, _mm(b, p, _mm(b, a, v)))
    return b.op("add", b.op("add", first, second), third)


def _pinv_shape(pats: list, p: dict) -> Pattern:
    return None if pats[0] is None else pats[0][:-2] + (pats[0][-1], pats[0][-2])


def _one_matrix(e: Eqn, pats: list, call: str = "np.linalg.det",
                what: str = "determinant") -> bool:
    """Is ``a`` in ``np.linalg.det(a)`` (or ``call``) known to be one matrix?  (A stack
    is refused unless the lowering knew it for one, an argument of known rank, and
    made the result an array; an unknown rank gets the form that holds for both.)"""
    if pats[0] is not None and len(pats[0]) != 2:
        if e.out.kind.find().tag == "array":
            return False
        raise _refuse(e, f"{call} of a stack of matrices computed in the function",
                      f"take the {what} of one matrix at a time, or of a stack passed in")
    return pats[0] is not None


def _det_shape(pats: list, p: dict) -> Pattern:
    """A number, or one per matrix of a stack."""
    return () if pats[0] is None or len(pats[0]) <= 2 else pats[0][:-2]


def _vjp_det(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``d_a = g * det(a) * inv(a).T``."""
    one = _one_matrix(e, pats)
    inv_t = _mT(b, b.call("np_inv", (e.args[0],)), pats[0])
    scale = b.op("mul", g, e.out)
    if not one:
        scale = b.call("np_expand_dims", (scale,), axis=(-2, -1))
    return [b.op("mul", scale, inv_t)]


def _jvp_det(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    one = _one_matrix(e, pats)
    inv_t = _mT(b, b.call("np_inv", (e.args[0],)), pats[0])
    total = b.call("np_sum", (b.op("mul", inv_t, t[0]),), Kind(e.out.kind.find().tag),
                   **({} if one else {"axis": (-2, -1)}))
    return b.op("mul", e.out, total)


def _vjp_solve(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``out = solve(a, r)``: ``d_r = solve(a.T, g)``, ``d_a = -d_r out.T``."""
    a, _ = e.args
    pa, pr = pats
    dr = b.call("np_solve", (_mT(b, a, pa), g))
    if pa is not None and len(pa) == 2 and pr is not None and len(pr) == 1:
        da = b.call("np_outer", (dr, e.out))
    elif pa is not None and len(pa) == 2 and pr is not None and len(pr) == 2:
        da = _mm(b, dr, _mT(b, e.out, pr))
    else:
        da = b.call("np_matmul_vjp_a", (dr, a, e.out))
    return [b.op("neg", da), dr]


def _jvp_solve(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    a, _ = e.args
    rhs = t[1]
    if t[0] is not None:
        moved = _mm(b, t[0], e.out)
        rhs = b.op("neg", moved) if rhs is None else b.op("sub", rhs, moved)
    return b.call("np_solve", (a, rhs)) if rhs is not None else Const(0.0)


_op("inv", "linalg.inv", None, 1, {}, _same, _vjp_inv, _jvp_inv)
_op("pinv", "linalg.pinv", None, 1, {"rcond": None, "hermitian": False}, _pinv_shape,
    _vjp_pinv, _jvp_pinv, positional=("rcond", "hermitian"))
_op("det", "linalg.det", None, 1, {}, _det_shape, _vjp_det, _jvp_det,
    scalar=lambda p: True)
_op("solve", "linalg.solve", None, 2, {}, lambda pats, p: pats[1], _vjp_solve, _jvp_solve)


# ----- reductions

def _red_shape(pats: list, p: dict) -> Pattern:
    from .array_ops import _reduce_pattern
    return _reduce_pattern(pats[0], p)


def _full(p: dict) -> bool:
    return p.get("axis") is None and not p.get("keepdims", False)


def _weights(e: Eqn) -> Any:
    w = e.args[1]
    return None if type(w) is Const and w.value is None else w


def _weighted(b: ArrayBuilder, e: Eqn, pats: list) -> tuple:
    """``np.average``'s weights shaped to multiply ``x`` (numpy also takes 1-D weights
    along the axis) and their sum along the axis, kept as a size-1 axis."""
    x, w = e.args
    p = e.params or {}
    same = pats[0] is not None and pats[1] is not None and len(pats[0]) == len(pats[1])
    full = w if same else _weights_like(b, w, x, p)
    return full, b.call("np_sum", (full,), axis=p.get("axis"), keepdims=True)


def _weights_like(b: ArrayBuilder, w: Any, x: Any, p: dict) -> Any:
    axis = {"axis": p["axis"]} if p.get("axis") is not None else {}
    return b.call("np_weights_like", (w, x), **axis)


def _vjp_average(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """Without weights, the vjp of ``mean``; with weights ``w``: ``d_x = g w / sum(w)``,
    ``d_w = g (x - out) / sum(w)``."""
    if _weights(e) is None:
        return _vjp_mean(b, g, e, pats) + [None]
    x, w = e.args
    p = e.params or {}
    full, s = _weighted(b, e, pats)
    ge = b.op("truediv", _expand_back(b, g, x, p), s)
    dw = b.op("mul", ge, b.op("sub", x, _expand_back(b, e.out, x, p)))
    if full is not w:                    # (1-D weights: summed along the other axes)
        dw = b.call("np_reshape_like", (b.call("np_sum_like", (dw, full)), w))
    return [b.op("mul", ge, full), dw]


def _jvp_average(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    x, w = e.args
    p = e.params or {}
    keep = {k: p[k] for k in ("axis", "keepdims") if k in p}
    kind = e.out.kind
    if _weights(e) is None:
        return b.call("np_mean", (t[0],), kind, **keep)
    full, s = _weighted(b, e, pats)
    total: Any = None
    if t[0] is not None:
        total = b.op("mul", full, t[0])
    if t[1] is not None:
        tw = t[1] if full is w else _weights_like(b, t[1], x, p)
        term = b.op("mul", tw, b.op("sub", x, _expand_back(b, e.out, x, p)))
        total = term if total is None else b.op("add", total, term)
    if total is None:
        return Const(0.0)
    return b.call("np_sum", (b.op("truediv", total, s),), kind, **keep)


def _vjp_nansum(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    x = e.args[0]
    nan = b.call("np_isnan", (x,))
    return [b.call("np_where", (nan, Const(0.0), _expand_back(b, g, x, e.params or {})))]


def _jvp_nansum(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    x = e.args[0]
    p = e.params or {}
    kept = b.call("np_where", (b.call("np_isnan", (x,)), Const(0.0), t[0]))
    return b.call("np_sum", (kept,), e.out.kind,
                  **{k: p[k] for k in ("axis", "keepdims") if k in p})


_RED = {"axis": None, "keepdims": False}
_op("average", "average", None, 2, dict(_RED), _red_shape, _vjp_average, _jvp_average,
    scalar=_full, positional=("axis",))
_op("nansum", "nansum", None, 1, dict(_RED), _red_shape, _vjp_nansum, _jvp_nansum,
    scalar=_full, positional=("axis",))


# ----- piecewise constant: derivative 0 (like np.sign)

def _constant(name: str, np_name: str | None, method: str | None, arrays: int = 1,
              keywords: dict | None = None, positional: tuple = (),
              scalar: Callable | None = None, shape: Callable | None = None) -> None:
    _op(name, np_name, method, arrays, keywords or {},
        shape or (lambda pats, p: pats[0] if arrays == 1 else None),
        lambda b, g, e, pats: [None] * len(e.args), lambda b, e, t, pats: Const(0.0),
        scalar=scalar, positional=positional)


for _name in ("floor", "ceil", "rint", "trunc", "isnan"):
    _constant(_name, _name, None)
_constant("round", "round", "round", keywords={"decimals": 0}, positional=("decimals",))
_constant("around", "around", None, keywords={"decimals": 0}, positional=("decimals",))
_constant("heaviside", "heaviside", None, arrays=2)
_constant("angle", "angle", None, keywords={"deg": False}, positional=("deg",))  # (0 or pi)
for _name in ("argmax", "argmin"):          # (np.argmax(x) is a constant call, see rules)
    _constant(_name, None, _name, keywords={"axis": None}, positional=("axis",),
              scalar=lambda p: p.get("axis") is None, shape=_red_shape)
_constant("argsort", None, "argsort", keywords={"axis": -1}, positional=("axis",))


# ----- helpers of the generated code, read back as the operations they print

def _helper_op(helper: str, arrays: int, keywords: dict, shape: Callable,
               linear_in: tuple[int, ...] = (0,)) -> None:
    """``helper(g, x, ..., keyword=...)``: linear in the operands ``linear_in`` (the
    others, such as ``x`` whose shape or order it reads, carry no tangent)."""
    name = helper.lstrip("_")
    linear = _helper_jvp("np_" + name, linear_in)

    def jvp(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
        if all(t[i] is None for i in linear_in):       # (zeros shaped like the result)
            return b.call("np_zeros_like", (e.out,))
        return linear(b, e, t, pats)
    _op(name, None, None, arrays, keywords, shape, _no_vjp, jvp)
    HELPER_OPS["np_" + name] = (helper, tuple(keywords))


def _like(k: int) -> Callable:
    return lambda pats, p: pats[k]


_helper_op("_diagonal_vjp", 2, {"offset": 0, "axis1": 0, "axis2": 1}, _like(1))
_helper_op("_tile_vjp", 2, {"reps": None}, _like(1))
_helper_op("_unpad", 2, {"pad_width": None, "mode": "constant"}, _like(1))
_helper_op("_repeat_vjp", 2, {"repeats": None, "axis": None}, _like(1))
_helper_op("_sort_vjp", 2, {"axis": -1}, _like(1))
_helper_op("_weights_like", 2, {"axis": None}, _like(1))
_helper_op("_sort_jvp", 2, {"axis": -1}, _like(0))
_helper_op("_partition_vjp", 3, {"axis": -1}, _like(2))
_helper_op("_einsum_diagonal", 2, {"term": ""}, _like(1))
_helper_op("_partition_jvp", 3, {"axis": -1}, _like(0))
_helper_op("_kron_vjp_a", 3, {}, _like(1), (0, 2))


def _axis_of(e: Eqn) -> dict:
    axis = (e.params or {}).get("axis")
    return {} if axis is None else {"axis": axis}


def _vjp_prod_others(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """Its Jacobian (the Hessian of ``np.prod``) is symmetric: the vjp is the jvp."""
    return [b.call("np_prod_others_jvp", (g, e.args[0]), **_axis_of(e))]


def _jvp_prod_others(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    return b.call("np_prod_others_jvp", (t[0], e.args[0]), **_axis_of(e))


def _vjp_prod_others_jvp(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    return _third(e)


def _jvp_prod_others_jvp(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    if t[1] is not None:
        _third(e)
    return b.call("np_prod_others_jvp", (t[0], e.args[1]), **_axis_of(e))


def _third(e: Eqn) -> Any:
    raise _refuse(e, "a third derivative of np.prod", "differentiate np.prod at most twice "
                  "(grad, jvp, hvp, hessian), or write the product out with *")


#: np.prod's factors: for each element the product of the others (exact at zeros), and
#: its tangent; used by np.prod's derivatives so that its Hessian is exact too
_op("prod_others", None, None, 1, {"axis": None}, _same, _vjp_prod_others,
    _jvp_prod_others)
_op("prod_others_jvp", None, None, 2, {"axis": None}, _like(1), _vjp_prod_others_jvp,
    _jvp_prod_others_jvp)
HELPER_OPS["np_prod_others"] = ("_prod_others", ("axis",))
HELPER_OPS["np_prod_others_jvp"] = ("_prod_others_jvp", ("axis",))


def _jvp_einsum_vjp(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    """``_einsum_vjp(g, *operands)`` is linear in ``g`` and in every operand but its own
    (whose shape only it reads)."""
    total: Any = None
    for k, tk in enumerate(t):
        if tk is None or k == e.params["index"] + 1:
            continue
        args = list(e.args)
        args[k] = tk
        term = b.call("np_einsum_vjp", tuple(args), **e.params)
        total = term if total is None else b.op("add", total, term)
    return total if total is not None else b.call("np_zeros_like", (e.out,))


_op("einsum_vjp", None, None, -1, {"subscripts": "", "index": 0},
    lambda pats, p: pats[p.get("index", 0) + 1], _no_vjp, _jvp_einsum_vjp)
HELPER_OPS["np_einsum_vjp"] = ("_einsum_vjp", ("subscripts", "index"))
_helper_op("_kron_vjp_b", 3, {}, _like(2), (0, 1))


def register_helpers() -> None:
    """Map each helper function object to its operation, for the lowering of generated
    code that calls it (called by :mod:`symgrad.array_ops` once its tables exist)."""
    from .array_ops import USER_BY_OBJECT
    from .helpers import helper_object
    for prim, (helper, _) in HELPER_OPS.items():
        USER_BY_OBJECT[id(helper_object(helper))] = ARRAY_OPS[prim]

