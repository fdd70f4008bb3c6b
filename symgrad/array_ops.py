"""NumPy array operations: one declaration each, used by every pass.

Elementwise functions need nothing here: their rules in :mod:`symgrad.rules` work
on arrays as on numbers (``np.tanh(x)``'s partial ``1 - out * out`` is an array
expression), and the reverse pass sums each contribution back to its input's shape
(*unbroadcasting*, :func:`unbroadcast_axes`).  This module declares the array
operations that are not elementwise:

* **linear** operations (sums, reshapes, transposes, ``matmul``, indexing,
  concatenation ...) give a *transpose* for reverse mode, and forward mode applies
  the operation itself to the tangents;
* **nonlinear** reductions (``prod``, ``max``, ``min``, ``var``, ``std``,
  ``linalg.norm``) give their vector-Jacobian product and their tangent, written
  with numpy calls.

Each declaration also gives the result's *pattern*: its rank and which of its
dimensions are 1 (``(1, "n")`` is a row; ``"?"`` a dimension of unknown size; None
an unknown rank), found by :mod:`symgrad.shapes`.  From patterns the reverse pass
writes ``np.sum(g, axis=0)`` exactly where broadcasting happened, and
``np.outer(d_h, x)`` or ``W.T @ d_h`` for a product of a matrix and a vector; where
patterns are unknown, it calls a small helper printed with the generated code.

A transpose or tangent is written with an :class:`ArrayBuilder`, which appends
IR equations to a block (the same equations the lowering of user code produces).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .ir import Const, Eqn, Global, Kind, Var

__all__ = ["ArrayOp", "ARRAY_OPS", "BY_NUMPY", "BY_METHOD", "CONSTRUCTORS", "ArrayBuilder",
           "broadcast", "unbroadcast_axes", "INDEX_OPS"]

Pattern = Any          # tuple of 1 / "n" / "?" per dimension, () for a number, None: unknown


# --------------------------------------------------------------------------- patterns

def _join_dim(a: Any, b: Any) -> Any:
    if a == b:
        return a
    if a == 1:
        return b
    if b == 1:
        return a
    return "n" if "n" in (a, b) else "?"


def broadcast(*pats: Pattern) -> Pattern:
    """The pattern of the broadcast of several operands."""
    if any(p is None for p in pats):
        return None
    n = max((len(p) for p in pats), default=0)
    out = []
    for k in range(n):
        d: Any = 1
        for p in pats:
            j = k - (n - len(p))
            if j >= 0:
                d = _join_dim(d, p[j])
        out.append(d)
    return tuple(out)


def unbroadcast_axes(out: Pattern, arg: Pattern) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """How to sum an adjoint of pattern ``out`` back to an input of pattern ``arg``:
    ``(kept, leading)`` axes to sum with ``keepdims=True`` and then the leading axes
    to sum away; None when the patterns cannot tell (a run-time helper decides)."""
    if out is None or arg is None:
        return None
    lead = len(out) - len(arg)
    if lead < 0:
        return None
    kept = []
    for k, q in enumerate(arg):
        o = out[lead + k]
        if q == 1 and o != 1:
            kept.append(lead + k)
        elif q == "?" and o != 1:
            return None
    return tuple(kept), tuple(range(lead))


def _norm_axis(axis: Any, ndim: int) -> tuple[int, ...] | None:
    if axis is None:
        return None
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim for a in axes)) if ndim else tuple(axes)


def _reduce_pattern(p: Pattern, params: dict) -> Pattern:
    axis, keep = params.get("axis"), params.get("keepdims", False)
    if p is None:
        return None if axis is not None or keep else ()
    axes = _norm_axis(axis, len(p))
    if axes is None:
        return tuple(1 for _ in p) if keep else ()
    if keep:
        return tuple(1 if k in axes else d for k, d in enumerate(p))
    return tuple(d for k, d in enumerate(p) if k not in axes)


# --------------------------------------------------------------------------- building IR

class ArrayBuilder:
    """Appends array equations to ``block`` (``b.call("np_sum", (g,), axis=0)``)."""

    def __init__(self, block: list, loc: Any = None):
        self.block = block
        self.loc = loc

    def call(self, prim: str, args: tuple, kind: Kind | None = None, **params: Any) -> Var:
        out = Var("_d", kind or Kind.array())
        self.block.append(Eqn((out,), prim, tuple(args), params or None, self.loc))
        return out

    def op(self, prim: str, *args: Any) -> Var:
        """An elementwise operation (``add``, ``mul`` ...), printed as an operator."""
        kind = Kind.array() if any(type(a) is Var and a.kind.is_array for a in args) \
            else Kind.num()
        out = Var("_d", kind)
        self.block.append(Eqn((out,), prim, tuple(args), None, self.loc))
        return out

    def effect(self, prim: str, args: tuple, **params: Any) -> None:
        self.block.append(Eqn((), prim, tuple(args), params or None, self.loc))


# --------------------------------------------------------------------------- declarations

@dataclass(frozen=True)
class ArrayOp:
    """One array operation.

    ``arrays`` is how many leading arguments carry derivatives (the rest, and the
    ``keywords``, are static: axes, shapes).  ``vjp(b, g, e, pats)`` returns one
    adjoint term (or None) per array argument; ``jvp(b, e, tangents, pats)`` the
    tangent of the result (None for a linear operation: the operation applied to
    the tangents).  ``scalar`` says when the result is a plain number.
    """

    name: str
    np_name: str | None
    method: str | None
    arrays: int
    keywords: tuple[tuple[str, Any], ...]
    shape: Callable[[list, dict], Pattern]
    vjp: Callable[..., list]
    jvp: Callable[..., Any] | None = None
    scalar: Callable[[dict], bool] = field(default=lambda params: False)
    positional: tuple[str, ...] = ()          # static parameters also given positionally
    attribute: str | None = None              # ``x.T``: read as an attribute
    bilinear: bool = False                    # a product: linear in each array argument
    #: the array arguments broadcast against each other (``np.where``, ``np.clip``):
    #: each adjoint term, shaped like the result, is summed back to its argument's shape
    broadcasts: bool = False

    @property
    def linear(self) -> bool:
        return self.jvp is None and not self.bilinear


ARRAY_OPS: dict[str, ArrayOp] = {}


def _op(name: str, np_name: str | None, method: str | None, arrays: int,
        keywords: dict, shape: Callable, vjp: Callable, jvp: Callable | None = None,
        scalar: Callable | None = None, positional: tuple = (), attribute: str | None = None,
        bilinear: bool = False, broadcasts: bool = False) -> None:
    ARRAY_OPS["np_" + name] = ArrayOp("np_" + name, np_name, method, arrays,
                                      tuple(keywords.items()), shape, vjp, jvp,
                                      scalar or (lambda params: False), positional, attribute,
                                      bilinear, broadcasts)


def _full_reduction(params: dict) -> bool:
    return params.get("axis") is None and not params.get("keepdims", False)


def _count(b: ArrayBuilder, x: Any, out: Any, ddof: Any = None) -> Any:
    """How many elements of ``x`` went into each element of ``out``."""
    args = (x,) if out.kind.find().tag != "array" else (x, out)
    if ddof:
        args = args + (Const(ddof),) if len(args) == 2 else (x, Const(None), Const(ddof))
    return b.call("np_size_ratio", args, Kind.num())


def _expand_back(b: ArrayBuilder, g: Any, x: Any, params: dict) -> Any:
    """``g`` (the adjoint of a reduction of ``x``) with the reduced axes put back as
    size-1 axes, ready to broadcast against ``x``."""
    axis = params.get("axis")
    if axis is None or params.get("keepdims", False):
        return g
    return b.call("np_expand_dims", (g,), axis=axis)


# ----- reductions

def _vjp_sum(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    x = e.args[0]
    return [b.call("np_broadcast_like", (_expand_back(b, g, x, e.params or {}), x))]


def _vjp_mean(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    x, out = e.args[0], e.out
    n = _count(b, x, out)
    scaled = b.op("truediv", g, n)
    return [b.call("np_broadcast_like", (_expand_back(b, scaled, x, e.params or {}), x))]


def _prod_of_others(b: ArrayBuilder, e: Eqn) -> Any:
    """For each element of ``x`` in ``np.prod(x, axis)``, the product of the other
    elements it was multiplied with (``_prod_others``, exact at zeros and with an exact
    tangent: see :mod:`symgrad.array_ops_more`)."""
    axis = (e.params or {}).get("axis")
    return b.call("np_prod_others", (e.args[0],), **({} if axis is None else {"axis": axis}))


def _vjp_prod(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    return [b.op("mul", _expand_back(b, g, e.args[0], e.params or {}), _prod_of_others(b, e))]


def _jvp_prod(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    p = e.params or {}
    return b.call("np_sum", (b.op("mul", _prod_of_others(b, e), t[0]),),
                  **{k: p[k] for k in ("axis", "keepdims") if k in p})


def _vjp_extreme(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """Ties share the adjoint equally (JAX's convention)."""
    x, out = e.args[0], e.out
    p = e.params or {}
    mask = b.call("np_eq_as_float", (x, _expand_back(b, out, x, p)))
    count = b.call("np_sum", (mask,), **{**p, "keepdims": True}) if p.get("axis") is not None \
        else b.call("np_sum", (mask,), Kind.num())
    share = b.op("truediv", mask, count)
    return [b.op("mul", share, _expand_back(b, g, x, p))]


def _jvp_extreme(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    x, out = e.args[0], e.out
    p = e.params or {}
    mask = b.call("np_eq_as_float", (x, _expand_back(b, out, x, p)))
    count = b.call("np_sum", (mask,), **p)
    return b.op("truediv", b.call("np_sum", (b.op("mul", mask, t[0]),), **p), count)


def _centered(b: ArrayBuilder, x: Any, p: dict) -> Any:
    mean = b.call("np_mean", (x,), **{"axis": p.get("axis"), "keepdims": True})
    return b.op("sub", x, mean)


def _spread(b: ArrayBuilder, e: Eqn) -> tuple:
    """``x``, ``out``, the parameters, the count ``n`` and the centred ``x - mean`` of
    ``np.var``/``np.std``."""
    x, out = e.args[0], e.out
    p = e.params or {}
    return x, out, p, _count(b, x, out, p.get("ddof", 0)), _centered(b, x, p)


def _sum_of_product(b: ArrayBuilder, c: Any, t: Any, p: dict) -> Any:
    return b.call("np_sum", (b.op("mul", c, t),), **{k: p[k] for k in ("axis", "keepdims")
                                                      if k in p})


def _vjp_var(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    x, out, p, n, c = _spread(b, e)
    return [b.op("mul", _expand_back(b, g, x, p), b.op("truediv", b.op("mul", Const(2.0), c),
                                                        n))]


def _jvp_var(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    x, out, p, n, c = _spread(b, e)
    return b.op("truediv", b.op("mul", Const(2.0), _sum_of_product(b, c, t[0], p)), n)


def _nonzero(b: ArrayBuilder, out: Any) -> Any:
    """``out`` where it is above 0, else 1: a standard deviation of equal values (0,
    where the centred values are 0 too) has derivative 0, as ``abs`` at 0."""
    return b.call("np_where", (b.op("gt", out, Const(0.0)), out, Const(1.0)))


def _vjp_std(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    x, out, p, n, c = _spread(b, e)
    scale = b.op("truediv", _expand_back(b, g, x, p),
                 b.op("mul", n, _expand_back(b, _nonzero(b, out), x, p)))
    return [b.op("mul", scale, c)]


def _jvp_std(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    x, out, p, n, c = _spread(b, e)
    return b.op("truediv", _sum_of_product(b, c, t[0], p), b.op("mul", n, _nonzero(b, out)))


def _euclidean(e: Eqn, pats: list) -> None:
    """``np.linalg.norm(x, 2)`` is the spectral norm of a matrix (its largest singular
    value): of a matrix passed in (or along ``axis=(i, j)``) it is lowered to that (the
    model ``norm_ord``); of one computed here, refused (its rank is known only now).  (A rank not known yet is known at the call: an
    array argument is differentiated by a gradient made for its rank.)"""
    p = e.params or {}
    if p.get("ord") == 2 and p.get("axis") is None and pats[0] is not None and \
            len(pats[0]) >= 2:
        from .errors import UnsupportedSyntaxError
        loc = e.loc
        raise UnsupportedSyntaxError(
            "np.linalg.norm(x, 2) of a matrix computed in the function (its spectral norm)",
            "write np.max(np.linalg.svd(m, compute_uv=False)) (that is what numpy computes;"
            " a matrix passed in as an argument, or axis=(i, j), is differentiated so); for "
            "the Frobenius norm drop the 2; for vectors along an axis, pass axis=",
            loc.filename if loc else "<unknown>", loc.lineno if loc else 0,
            0, loc.text if loc else "")


def _vjp_norm(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    _euclidean(e, pats)
    x, out = e.args[0], e.out
    p = e.params or {}
    return [b.op("mul", _expand_back(b, g, x, p),      # (0 at a zero vector, as abs at 0)
                 b.op("truediv", x, _expand_back(b, _nonzero(b, out), x, p)))]


def _jvp_norm(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    _euclidean(e, pats)
    x, out = e.args[0], e.out
    p = e.params or {}
    s = b.call("np_sum", (b.op("mul", x, t[0]),), **{k: p[k] for k in ("axis", "keepdims")
                                                   if k in p})
    return b.op("truediv", s, _nonzero(b, out))


_RED = {"axis": None, "keepdims": False}
_red_shape = lambda pats, p: _reduce_pattern(pats[0], p)   # noqa: E731
_op("sum", "sum", "sum", 1, _RED, _red_shape, _vjp_sum, scalar=_full_reduction,
    positional=("axis",))
_op("mean", "mean", "mean", 1, _RED, _red_shape, _vjp_mean, scalar=_full_reduction,
    positional=("axis",))
_op("prod", "prod", "prod", 1, _RED, _red_shape, _vjp_prod, _jvp_prod,
    scalar=_full_reduction, positional=("axis",))
_op("amax", "max", "max", 1, _RED, _red_shape, _vjp_extreme, _jvp_extreme,
    scalar=_full_reduction, positional=("axis",))
_op("amin", "min", "min", 1, _RED, _red_shape, _vjp_extreme, _jvp_extreme,
    scalar=_full_reduction, positional=("axis",))
_op("var", "var", "var", 1, {**_RED, "ddof": 0}, _red_shape, _vjp_var, _jvp_var,
    scalar=_full_reduction, positional=("axis",))
_op("std", "std", "std", 1, {**_RED, "ddof": 0}, _red_shape, _vjp_std, _jvp_std,
    scalar=_full_reduction, positional=("axis",))
_op("norm", "linalg.norm", None, 1, {"ord": None, **_RED}, _red_shape, _vjp_norm, _jvp_norm,
    scalar=_full_reduction, positional=("ord", "axis"))


# ----- products

def _matmul_shape(pats: list, p: dict) -> Pattern:
    a, c = pats
    if a is None or c is None or a == () or c == ():
        return None
    if len(a) == 1 and len(c) == 1:
        return ()
    if len(a) == 1:
        return c[:-2] + c[-1:]
    if len(c) == 1:
        return a[:-1]
    return broadcast(a[:-2], c[:-2]) + (a[-2], c[-1]) if broadcast(a[:-2], c[:-2]) \
        is not None else None


def _vjp_matmul(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``out = a @ c``: ``d_a = g @ c.T``, ``d_c = a.T @ g`` for matrices; outer
    products and matrix-vector products for vectors."""
    a, c = e.args
    pa, pc = pats[0], pats[1]
    if pa is None or pc is None or len(pa) > 2 or len(pc) > 2:
        return [b.call("np_matmul_vjp_a", (g, a, c)), b.call("np_matmul_vjp_b", (g, a, c))]
    if len(pa) == 1 and len(pc) == 1:
        return [b.op("mul", g, c), b.op("mul", g, a)]
    if len(pa) == 2 and len(pc) == 1:
        return [b.call("np_outer", (g, c)), b.call("np_matmul", (b.call("np_transpose", (a,), spelling="T"), g))]
    if len(pa) == 1 and len(pc) == 2:
        return [b.call("np_matmul", (c, g)), b.call("np_outer", (a, g))]
    return [b.call("np_matmul", (g, b.call("np_transpose", (c,), spelling="T"))),
            b.call("np_matmul", (b.call("np_transpose", (a,), spelling="T"), g))]


def _outer_shape(pats: list, p: dict) -> Pattern:
    return ("?", "?")


def _vjp_outer(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    a, c = e.args
    flat = [pats[0] is not None and len(pats[0]) == 1, pats[1] is not None and len(pats[1]) == 1]
    da = b.call("np_matmul", (g, c if flat[1] else b.call("np_ravel", (c,))))
    dc = b.call("np_matmul", (a if flat[0] else b.call("np_ravel", (a,)), g))
    if not flat[0]:
        da = b.call("np_reshape_like", (da, a))
    if not flat[1]:
        dc = b.call("np_reshape_like", (dc, c))
    return [da, dc]


def _inner_shape(pats: list, p: dict) -> Pattern:
    a, c = pats
    if a is None or c is None:
        return None
    if a == () or c == ():                     # with a number: a product
        return a or c
    return a[:-1] + c[:-1]


def _vjp_inner(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    a, c = e.args
    if pats[0] is not None and pats[1] is not None and len(pats[0]) == 1 and len(pats[1]) == 1:
        return [b.op("mul", g, c), b.op("mul", g, a)]
    if pats[0] == () or pats[1] == ():                # np.inner with a number: a product
        return _vjp_dot(b, g, e, pats)
    return [b.call("np_inner_vjp_a", (g, a, c)), b.call("np_inner_vjp_b", (g, a, c))]


def _vjp_tensordot(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    a, c = e.args
    axes = (e.params or {}).get("axes", 2)
    return [b.call("np_tensordot_vjp_a", (g, a, c), axes=axes),
            b.call("np_tensordot_vjp_b", (g, a, c), axes=axes)]


def _vjp_dot(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    if pats[0] == () or pats[1] == ():                 # np.dot with a number: a product
        a, c = e.args
        return [b.call("np_sum_like", (b.op("mul", g, c), a)),
                b.call("np_sum_like", (b.op("mul", g, a), c))]
    stacked = _dot_of_stacks(pats)
    if stacked is not None:         # N-D np.dot: a sum over a's last, b's second-last axis
        a, c = e.args
        return [b.call("np_tensordot_vjp_a", (g, a, c), axes=stacked),
                b.call("np_tensordot_vjp_b", (g, a, c), axes=stacked)]
    return _vjp_matmul(b, g, e, pats)


def _dot_of_stacks(pats: list) -> Any:
    """For ``np.dot(a, b)`` with a matrix and a stack of three or more dimensions (not
    matmul: every axis of each survives): its ``tensordot`` axes, else None."""
    pa, pb = pats
    if pa is None or pb is None or len(pa) < 2 or len(pb) < 2 or max(len(pa), len(pb)) < 3:
        return None
    return ([len(pa) - 1], [len(pb) - 2])


def _dot_shape(pats: list, p: dict) -> Pattern:
    if pats[0] == () or pats[1] == ():
        return broadcast(*pats)
    if _dot_of_stacks(pats) is not None:
        return pats[0][:-1] + pats[1][:-2] + pats[1][-1:]
    return _matmul_shape(pats, p)


_op("matmul", "matmul", None, 2, {}, _matmul_shape, _vjp_matmul, bilinear=True)
_op("dot", "dot", "dot", 2, {}, _dot_shape, _vjp_dot, bilinear=True)
_op("outer", "outer", None, 2, {}, _outer_shape, _vjp_outer, bilinear=True)
_op("inner", "inner", None, 2, {}, _inner_shape, _vjp_inner, bilinear=True)
_op("tensordot", "tensordot", None, 2, {"axes": 2}, lambda pats, p: None, _vjp_tensordot,
    positional=("axes",), bilinear=True)


# ----- shapes

def _vjp_reshape(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    return [b.call("np_reshape_like", (g, e.args[0]))]


def _reshape_shape(pats: list, p: dict) -> Pattern:
    shape = p.get("shape")
    if isinstance(shape, int):
        shape = (shape,)
    if not isinstance(shape, tuple):
        return None
    return tuple(1 if d == 1 else "?" for d in shape)


def _transpose_shape(pats: list, p: dict) -> Pattern:
    x = pats[0]
    if x is None:
        return None
    axes = p.get("axes")
    return tuple(reversed(x)) if axes is None else tuple(x[k] for k in axes)


def _vjp_transpose(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    axes = (e.params or {}).get("axes")
    if axes is None:
        return [b.call("np_transpose", (g,), spelling="T")]
    n = len(axes)                      # (axes may count from the end: -1 is n - 1)
    inverse = tuple(sorted(range(n), key=lambda k: axes[k] % n))
    return [b.call("np_transpose", (g,), axes=inverse)]


def _squeeze_shape(pats: list, p: dict) -> Pattern:
    x = pats[0]
    if x is None:
        return None
    axis = p.get("axis")
    if axis is None:
        if "?" in x:
            return None
        return tuple(d for d in x if d != 1)
    axes = _norm_axis(axis, len(x))
    return tuple(d for k, d in enumerate(x) if k not in axes)


def _expand_shape(pats: list, p: dict) -> Pattern:
    x = pats[0]
    axis = p.get("axis")
    if x is None or not isinstance(axis, int):
        return None
    n = len(x) + 1
    k = axis % n
    return x[:k] + (1,) + x[k:]


_op("reshape", "reshape", "reshape", 1, {"shape": None}, _reshape_shape, _vjp_reshape,
    positional=("shape",))
_op("ravel", "ravel", "ravel", 1, {}, lambda pats, p: ("?",), _vjp_reshape)
_op("flatten", None, "flatten", 1, {}, lambda pats, p: ("?",), _vjp_reshape)
_op("transpose", "transpose", "transpose", 1, {"axes": None}, _transpose_shape,
    _vjp_transpose, positional=("axes",), attribute="T")
_op("squeeze", "squeeze", "squeeze", 1, {"axis": None}, _squeeze_shape, _vjp_reshape,
    positional=("axis",))
_op("expand_dims", "expand_dims", None, 1, {"axis": 0}, _expand_shape, _vjp_reshape,
    positional=("axis",))
_op("copy", "copy", "copy", 1, {}, lambda pats, p: pats[0], lambda b, g, e, pats: [g])


def _vjp_broadcast_to(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    return [b.call("np_sum_like", (g, e.args[0])), None]


def _broadcast_shape(pats: list, p: dict) -> Pattern:
    shape = p.get("shape")
    if isinstance(shape, int):
        shape = (shape,)
    return tuple(1 if d == 1 else "n" for d in shape) if isinstance(shape, tuple) else None


_op("broadcast_to", "broadcast_to", None, 1, {"shape": None}, _broadcast_shape,
    _vjp_broadcast_to, positional=("shape",))


def _dims_shape(pats: list, p: dict) -> Pattern:
    return None if p.get("whole") else tuple("?" for _ in pats[1:])


# ----- a shape computed when the function runs (``c.reshape(n, n)``): the sizes are
# operands after the array, printed as written
_op("reshape_dims", None, None, 1, {}, _dims_shape, _vjp_reshape)
_op("broadcast_dims", None, None, 1, {}, _dims_shape, _vjp_broadcast_to)

# ----- the forms generated code uses: shaped like another array (written as
# ``np.broadcast_to(g, x.shape)``, ``np.reshape(g, x.shape)``, ``_unbroadcast(g, x)``)
_op("broadcast_like", None, None, 1, {}, lambda pats, p: pats[1], _vjp_broadcast_to)
_op("reshape_like", None, None, 1, {}, lambda pats, p: pats[1],
    lambda b, g, e, pats: [b.call("np_reshape_like", (g, e.args[0])), None])
_op("sum_like", None, None, 1, {}, lambda pats, p: pats[1],
    lambda b, g, e, pats: [b.call("np_broadcast_like", (g, e.args[0])), None])


def _helper_jvp(name: str, linear_in: tuple[int, ...]) -> Callable:
    """The tangent of a generated-code helper linear in each of ``linear_in``."""
    def jvp(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
        total: Any = None
        for i in linear_in:
            if t[i] is None:
                continue
            args = list(e.args)
            args[i] = t[i]
            term = b.call(name, tuple(args), **(e.params or {}))
            total = term if total is None else b.op("add", total, term)
        return total if total is not None else Const(0.0)
    return jvp


def _no_vjp(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    from .errors import UnsupportedSyntaxError
    raise UnsupportedSyntaxError(f"a third derivative of {e.prim}", "use jvp of the Hessian")


_op("split_like", None, None, 1, {"axis": 0}, lambda pats, p: None, _no_vjp)
_op("joined_vjp", None, None, 1, {"axis": 1}, lambda pats, p: None, _no_vjp)
_op("unjoin", None, None, 1, {"how": "concatenate", "axis": 0}, lambda pats, p: None, _no_vjp)
_op("take", "take", "take", 1, {"indices": None, "axis": None}, lambda pats, p: None,
    _no_vjp, positional=("indices", "axis"))

def _bilinear_vjp(name: str) -> Callable:
    """The adjoint of ``X_vjp_a(g, a, b)`` or ``X_vjp_b(g, a, b)``, the adjoints of a
    bilinear ``X(a, b)`` (matmul, inner, tensordot): ``<h, X_vjp_a(g; b)>`` is ``<X(h,
    b), g>``, so ``d_g = X(h, b)`` and ``d_b = X_vjp_b(g, h, b)``; for ``X_vjp_b``,
    ``d_g = X(a, h)`` and ``d_a = X_vjp_a(g, a, h)``.  (The operand whose adjoint it is
    gives only its shape.)  A gradient made inside a differentiated function, on
    arrays, is differentiated so."""
    stem, side = name.rsplit("_vjp_", 1)
    forward, other = f"np_{stem}", f"np_{stem}_vjp_{'b' if side == 'a' else 'a'}"

    def vjp(b: ArrayBuilder, h: Any, e: Eqn, pats: list) -> list:
        g, x, y = e.args
        p = {"axes": e.params["axes"]} if e.params and "axes" in e.params else {}
        if side == "a":
            return [b.call(forward, (h, y), **p), None, b.call(other, (g, h, y), **p)]
        return [b.call(forward, (x, h), **p), b.call(other, (g, x, h), **p), None]
    return vjp


for _name, _lin in (("matmul_vjp_a", (0, 2)), ("matmul_vjp_b", (0, 1)),
                    ("inner_vjp_a", (0, 2)), ("inner_vjp_b", (0, 1)),
                    ("tensordot_vjp_a", (0, 2)), ("tensordot_vjp_b", (0, 1))):
    _op(_name, None, None, 3, {"axes": 2} if "tensordot" in _name else {},
        lambda pats, p, _i=1 + _name.endswith("_b"): pats[_i],
        _bilinear_vjp(_name), _helper_jvp("np_" + _name, _lin))


# ----- joining

def _vjp_concat(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    axis = (e.params or {}).get("axis", 0)
    parts = b.call("np_split_like", (g, *e.args), Kind.list_of(), axis=axis)
    return [b.call("getitem", (parts, Const(k))) for k in range(len(e.args))]


def _vjp_stack(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    axis = (e.params or {}).get("axis", 0)
    return [b.call("np_take", (g,), indices=k, axis=axis) for k in range(len(e.args))]


def _vjp_hstack(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    ranks = {None if p is None else len(p) for p in pats}
    axis = None if None in ranks else 0 if ranks <= {0, 1} else 1    # (None: at run time)
    parts = b.call("np_split_like", (g, *e.args), Kind.list_of(), axis=axis)
    return [b.call("getitem", (parts, Const(k))) for k in range(len(e.args))]


def _vjp_vstack(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    parts = b.call("np_split_like", (g, *(b.call("np_atleast_2d", (a,)) for a in e.args)),
                   Kind.list_of(), axis=0)
    return [b.call("np_reshape_like", (b.call("getitem", (parts, Const(k))), a))
            for k, a in enumerate(e.args)]


def _vjp_joined(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``np.column_stack`` / ``np.dstack``: ``g`` cut into pieces shaped like each array."""
    axis = 1 if e.prim == "np_column_stack" else 2
    parts = b.call("np_joined_vjp", (g, *e.args), Kind.list_of(), axis=axis)
    return [b.call("getitem", (parts, Const(k))) for k in range(len(e.args))]


def _concat_shape(pats: list, p: dict) -> Pattern:
    if any(q is None for q in pats) or not pats:
        return None
    n = len(pats[0])
    return tuple("?" for _ in range(n))


def _stack_shape(pats: list, p: dict) -> Pattern:
    if any(q is None for q in pats) or not pats:
        return None
    axis = p.get("axis", 0)
    base = broadcast(*pats)
    if base is None:
        return None
    k = axis % (len(base) + 1)
    return base[:k] + ("?",) + base[k:]


_op("atleast_2d", "atleast_2d", None, 1, {},
    lambda pats, p: None if pats[0] is None else ((1,) * (2 - len(pats[0])) + pats[0]),
    lambda b, g, e, pats: [b.call("np_reshape_like", (g, e.args[0]))])
_op("concatenate", "concatenate", None, -1, {"axis": 0}, _concat_shape, _vjp_concat)
_op("stack", "stack", None, -1, {"axis": 0}, _stack_shape, _vjp_stack)
_op("hstack", "hstack", None, -1, {}, _concat_shape, _vjp_hstack)
_op("vstack", "vstack", None, -1, {}, lambda pats, p: None, _vjp_vstack)
_op("column_stack", "column_stack", None, -1, {}, lambda pats, p: None, _vjp_joined)
_op("dstack", "dstack", None, -1, {}, lambda pats, p: None, _vjp_joined)


# ----- selection

def _vjp_where(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    c = e.args[0]
    zero = Const(0.0)
    return [None, b.call("np_where", (c, g, zero)), b.call("np_where", (c, zero, g))]


def _jvp_where(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    c = e.args[0]

    def branch(k: int) -> Any:       # (a constant branch's zeros keep its shape)
        if t[k] is not None:
            return t[k]
        a = e.args[k]
        shaped = pats[k] != () and (pats[k] is not None or type(a) is Var and a.kind.is_array
                                    or type(a) is Global and getattr(a.obj, "ndim", 0) > 0)
        return b.call("np_zeros_like", (a,)) if shaped else Const(0.0)
    return b.call("np_where", (c, branch(1), branch(2)))


def _clip_masks(b: ArrayBuilder, e: Eqn) -> list:
    """Where ``np.clip(x, lo, hi)`` took each operand: x inside the bounds (both
    included), ``lo`` below them, ``hi`` above them (None: an absent bound)."""
    x, lo, hi = e.args
    below = None if type(lo) is Const and lo.value is None else b.op("lt", x, lo)
    above = None if type(hi) is Const and hi.value is None else b.op("gt", x, hi)
    return [b.call("np_inside", (x, lo, hi)), below, above]


def _vjp_clip(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    return [None if m is None else b.call("np_where", (m, g, Const(0.0)))
            for m in _clip_masks(b, e)]


def _jvp_clip(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    total: Any = Const(0.0)
    for m, tk in zip(_clip_masks(b, e), t):
        if m is not None and tk is not None:
            total = b.call("np_where", (m, tk, total))
    return total


_op("where", "where", None, 3, {}, lambda pats, p: broadcast(*pats), _vjp_where, _jvp_where,
    broadcasts=True)
_op("clip", "clip", "clip", 3, {}, lambda pats, p: broadcast(*pats), _vjp_clip, _jvp_clip,
    broadcasts=True)

#: ``np.sign(x)``, comparisons as floats: no derivative
_op("sign", "sign", None, 1, {}, lambda pats, p: pats[0], lambda b, g, e, pats: [None],
    lambda b, e, t, pats: Const(0.0))

#: the operations an index expression may have (``x[i, :, idx]``), see :mod:`symgrad.lower_array`
INDEX_OPS = ("aget", "aset")

#: numpy functions whose result is a constant array (no derivative flows through them)
CONSTRUCTORS = ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
                "full_like", "arange", "linspace", "eye", "identity", "array", "asarray",
                "diag", "tri", "random")

from . import array_ops_more  # noqa: E402,F401  (more declarations, into ARRAY_OPS)
from . import array_linalg  # noqa: E402,F401  (linear algebra, into ARRAY_OPS)

BY_NUMPY: dict[str, ArrayOp] = {op.np_name: op for op in ARRAY_OPS.values() if op.np_name}
BY_METHOD: dict[str, ArrayOp] = {op.method: op for op in ARRAY_OPS.values() if op.method}


# --------------------------------------------------------------------------- user rules

#: primitive name -> the Python callable it is printed as (rules added by users)
USER_CALLS: dict[str, Any] = {}
#: id(callable) -> its operation, for the lowering
USER_BY_OBJECT: dict[int, ArrayOp] = {}
array_ops_more.register_helpers()      # (the helpers of generated code, read back)


def register_array_rule(fn: Callable[..., Any], vjps: list, *, jvps: list | None = None,
                        name: str | None = None) -> ArrayOp:
    """Teach symgrad a function of arrays it cannot see into (``np.linalg.solve``, a
    compiled kernel): one *vector-Jacobian product* per argument, and optionally one
    Jacobian-vector product per argument for forward mode.

    ``vjps[i](g, out, *args)`` returns the adjoint of argument ``i`` given the adjoint
    ``g`` of the result ``out`` (None in the list: that argument is not differentiated);
    ``jvps[i](t, out, *args)`` returns the tangent of the result for tangent ``t`` of
    argument ``i``.  They are plain numpy functions, called by name in the generated
    code.  Then ``fn`` works in ``grad``, ``value_and_grad``, ``vjp`` and, given
    ``jvps``, ``jvp`` and ``jacfwd``; ``hessian`` and ``hvp`` too when the vjps are
    plain Python symgrad can differentiate (they are inlined like any helper).

    >>> import numpy as np
    >>> def solve(A, b):                  # say, a compiled solver symgrad cannot read
    ...     return np.linalg.solve(A, b)
    >>> def solve_vjp_A(g, out, A, b):
    ...     return -np.outer(solve(A.T, g), out)
    >>> def solve_vjp_b(g, out, A, b):
    ...     return solve(A.T, g)
    >>> op = register_array_rule(solve, [solve_vjp_A, solve_vjp_b])
    >>> op.name
    'np_user_solve'
    """
    label = name or getattr(fn, "__name__", "f")
    prim = f"np_user_{label}"
    n = len(vjps)
    vjp, jvp, no_second = _user_rules(prim, label, vjps, jvps)

    def unknown(pats: list, params: dict) -> Pattern:
        return None

    op = ArrayOp(prim, None, None, n, (), unknown, vjp, jvp)
    derived = {prim: (op, fn)}
    for kind, fns in (("vjp", vjps), ("jvp", jvps or ())):
        for i, f in enumerate(fns):
            if f is not None:
                derived[f"{prim}_{kind}{i}"] = (ArrayOp(f"{prim}_{kind}{i}", None, None,
                                                        n + 2, (), unknown, no_second,
                                                        no_second), f)
    _install_user_ops(derived)
    USER_BY_OBJECT[id(fn)] = op
    return op


def _user_rules(prim: str, label: str, vjps: list, jvps: list | None) -> tuple:
    """A registered function's vjp and jvp rules (calls of the user's functions), and
    the rule of those functions themselves, which have no derivatives of their own."""
    from .errors import NonDifferentiableError
    n = len(vjps)

    def no_second(b: ArrayBuilder, e: Eqn, *rest: Any) -> Any:
        raise NonDifferentiableError(
            f"symgrad has no derivative of the adjoint rules registered for {label} (a "
            f"Hessian or a tangent through the gradient of {label}).\n  hint: register "
            f"jvps for {label}, or take second derivatives of code symgrad can see into")

    def vjp(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
        return [b.call(f"{prim}_vjp{i}", (g, e.outs[0], *e.args)) if vjps[i] is not None
                else None for i in range(n)]

    def jvp(b: ArrayBuilder, e: Eqn, ts: list, pats: list) -> Any:
        if jvps is None:
            raise NonDifferentiableError(
                f"symgrad has no forward-mode rule for {label}.\n  hint: give "
                f"register_array_rule({label}, vjps, jvps=[...]) one jvp per argument")
        total: Any = None
        for i, t in enumerate(ts[:n]):
            if t is None or jvps[i] is None:
                continue
            term = b.call(f"{prim}_jvp{i}", (t, e.outs[0], *e.args))
            total = term if total is None else b.op("add", total, term)
        return total if total is not None else Const(0.0)

    return vjp, jvp, no_second


def _install_user_ops(derived: dict) -> None:
    """Declare user operations (name -> (op, callable)) to the printer and the
    optimizer, and drop the derivatives built before them."""
    import sys
    from . import emit_array, emit_forms
    for key, (o, f) in derived.items():
        ARRAY_OPS[key] = o
        USER_CALLS[key] = f
        emit_array.ARRAY_EXPR[key] = emit_forms.EXPR[key] = emit_array.e_user_call
        emit_array.ARRAY_PURE.add(key)
    for cached in ("api", "modes"):   # derivatives built before the rule are made again
        module = sys.modules.get(f"{__package__}.{cached}")
        if module is not None:
            module._cache.clear()
