"""Linear algebra of symmetric matrices, declared as in :mod:`symgrad.array_ops` (into
the same ``ARRAY_OPS`` table; imported by it before its lookup tables are built).

* ``np.linalg.cholesky``;
* ``np.linalg.eigvalsh`` and the eigenvectors of ``np.linalg.eigh`` (the helper
  ``_eigh_vectors``; ``np.linalg.eigh`` itself is a model returning both, see
  :mod:`symgrad.numpy_models`);
* ``log|det a|`` (the helper ``_logabsdet``; ``np.linalg.slogdet`` is a model);
* the singular value decomposition: the helpers ``_svd_values``, ``_svd_left`` and
  ``_svd_right`` (``np.linalg.svd`` is a model returning them; the vectors are
  differentiated in the thin decomposition, ``full_matrices=False``);
* the QR decomposition of a matrix with no more columns than rows: the helpers
  ``_qr_q`` and ``_qr_r`` (``np.linalg.qr`` is a model returning them).

numpy reads only one triangle of the matrix it is given (the lower one, or the upper
one for ``UPLO="U"``) and decomposes the symmetric matrix that triangle stands for.
So the derivative is taken with respect to that triangle: the other one gets 0, as
finite differences of numpy's own function show, and a symmetric argument moves
both triangles together.  Every rule here is written with operations that have
rules themselves, so a Hessian (the tangent sweep of the generated gradient) works.
"""

from __future__ import annotations

from typing import Any

from .array_ops import ArrayBuilder, _op
from .array_ops_more import HELPER_OPS, _det_shape, _mm, _mT, _same, _unknown
from .array_ops_more import _one_matrix as one_matrix
from .ir import Const, Eqn, Kind


def _lower(e: Eqn) -> bool:
    return (e.params or {}).get("UPLO", "L") != "U"


def _symmetric(b: ArrayBuilder, t: Any, pat: Any, lower: bool) -> Any:
    """The tangent of the symmetric matrix numpy decomposes, from the tangent ``t`` of
    its argument: the triangle it reads, mirrored."""
    if lower:
        return b.op("add", b.call("np_tril", (t,), k=0),
                    _mT(b, b.call("np_tril", (t,), k=-1), pat))
    return b.op("add", b.call("np_triu", (t,), k=0), _mT(b, b.call("np_triu", (t,), k=1), pat))


def _fold(b: ArrayBuilder, g: Any, pat: Any, lower: bool) -> Any:
    """The adjoint of the argument from the adjoint ``g`` of that symmetric matrix: the
    triangle read gets ``g`` and, off the diagonal, the mirrored ``g`` too; the other
    triangle is not read (the transpose of :func:`_symmetric`)."""
    gt = _mT(b, g, pat)
    if lower:
        return b.op("add", b.call("np_tril", (g,), k=0), b.call("np_tril", (gt,), k=-1))
    return b.op("add", b.call("np_triu", (g,), k=0), b.call("np_triu", (gt,), k=1))


def _half_lower(b: ArrayBuilder, x: Any) -> Any:
    """``tril(x)`` with its diagonal halved."""
    both = b.op("add", b.call("np_tril", (x,), k=0), b.call("np_tril", (x,), k=-1))
    return b.op("mul", Const(0.5), both)


def _solve(b: ArrayBuilder, a: Any, r: Any) -> Any:
    return b.call("np_solve", (a, r))


# ----- Cholesky: a = L L^T with L lower triangular

def _jvp_cholesky(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    """``dL = L phi(L^-1 dS L^-T)``, phi: the lower triangle with its diagonal halved."""
    low, pat = e.out, pats[0]
    ds = _symmetric(b, t[0], pat, True)
    inner = _solve(b, low, _mT(b, _solve(b, low, ds), pat))     # L^-1 dS L^-T
    return _mm(b, low, _half_lower(b, inner))


def _vjp_cholesky(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``dS = sym(L^-T phi(L^T g) L^-1)`` (Murray, "Differentiation of the Cholesky
    decomposition", 2016), folded onto the lower triangle numpy reads."""
    low, pat = e.out, pats[0]
    p = _half_lower(b, _mm(b, _mT(b, low, pat), g))
    lt = _mT(b, low, pat)
    left = _solve(b, lt, b.op("add", p, _mT(b, p, pat)))              # L^-T (P + P^T)
    ds = b.op("mul", Const(0.5), _mT(b, _solve(b, lt, _mT(b, left, pat)), pat))
    return [_fold(b, ds, pat, True)]


_op("cholesky", "linalg.cholesky", None, 1, {}, _same, _vjp_cholesky, _jvp_cholesky)


# ----- eigenvalues and eigenvectors of a symmetric matrix: S = V diag(w) V^T

def _vectors(b: ArrayBuilder, e: Eqn) -> Any:
    return b.call("np_eigh_vectors", (e.args[0],), UPLO="L" if _lower(e) else "U")


def _values(b: ArrayBuilder, e: Eqn) -> Any:
    return b.call("np_eigvalsh", (e.args[0],), UPLO="L" if _lower(e) else "U")


def _gaps(b: ArrayBuilder, w: Any) -> Any:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it (inf where two
    eigenvalues are equal: the eigenvectors then have no derivative)."""
    d = b.op("sub", b.call("np_expand_dims", (w,), axis=-2),
             b.call("np_expand_dims", (w,), axis=-1))
    eye = b.call("np_eye_like", (d,))
    return b.op("truediv", b.op("sub", Const(1.0), eye), b.op("add", d, eye))


def _jvp_eigvalsh(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    """``dw[k] = v_k^T dS v_k``."""
    v, pat = _vectors(b, e), pats[0]
    ds = _symmetric(b, t[0], pat, _lower(e))
    return b.call("np_sum", (b.op("mul", v, _mm(b, ds, v)),), axis=-2)


def _vjp_eigvalsh(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``dS = V diag(g) V^T``."""
    v, pat = _vectors(b, e), pats[0]
    scaled = b.op("mul", v, b.call("np_expand_dims", (g,), axis=-2))
    return [_fold(b, _mm(b, scaled, _mT(b, v, pat)), pat, _lower(e))]


def _jvp_vectors(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    """``dV = V (F * (V^T dS V))``."""
    v, pat = e.out, pats[0]
    ds = _symmetric(b, t[0], pat, _lower(e))
    inner = _mm(b, _mT(b, v, pat), _mm(b, ds, v))
    return _mm(b, v, b.op("mul", _gaps(b, _values(b, e)), inner))


def _vjp_vectors(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``dS = V (F * (V^T g)) V^T`` (the transpose of the tangent rule)."""
    v, pat = e.out, pats[0]
    inner = b.op("mul", _gaps(b, _values(b, e)), _mm(b, _mT(b, v, pat), g))
    return [_fold(b, _mm(b, _mm(b, v, inner), _mT(b, v, pat)), pat, _lower(e))]


def _drop_last(pats: list, p: dict) -> Any:
    return None if pats[0] is None else pats[0][:-1]


_op("eigvalsh", "linalg.eigvalsh", None, 1, {"UPLO": "L"}, _drop_last, _vjp_eigvalsh,
    _jvp_eigvalsh, positional=("UPLO",))
_op("eigh_vectors", None, None, 1, {"UPLO": "L"}, _same, _vjp_vectors, _jvp_vectors)
HELPER_OPS["np_eigh_vectors"] = ("_eigh_vectors", ("UPLO",))


# ----- log |det a|

def _one_matrix(e: Eqn, pats: list) -> bool:
    return one_matrix(e, pats, "np.linalg.slogdet", "log-determinant")


def _inv_t(b: ArrayBuilder, e: Eqn, pats: list) -> Any:
    return _mT(b, b.call("np_inv", (e.args[0],)), pats[0])


def _vjp_logabsdet(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``d_a = g * inv(a).T``."""
    if not _one_matrix(e, pats):
        g = b.call("np_expand_dims", (g,), axis=(-2, -1))
    return [b.op("mul", g, _inv_t(b, e, pats))]


def _jvp_logabsdet(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    prod = b.op("mul", _inv_t(b, e, pats), t[0])
    if _one_matrix(e, pats):
        return b.call("np_sum", (prod,), Kind.num())
    return b.call("np_sum", (prod,), Kind(e.out.kind.find().tag), axis=(-2, -1))


_op("logabsdet", None, None, 1, {}, _det_shape, _vjp_logabsdet, _jvp_logabsdet,
    scalar=lambda p: True)
HELPER_OPS["np_logabsdet"] = ("_logabsdet", ())


# ----- singular values: a = U diag(s) V^T (U, V thin)

def _thin(e: Eqn) -> None:
    """The singular vectors are differentiated in the thin decomposition only (the extra
    columns of a full one are not unique)."""
    if (e.params or {}).get("full_matrices"):
        from .array_ops_more import _refuse
        raise _refuse(e, "a derivative through u or vh of np.linalg.svd(a) with "
                      "full_matrices=True (the extra columns are not unique)",
                      "pass full_matrices=False (for a square matrix it is the same "
                      "decomposition)")


def _singular_vectors(b: ArrayBuilder, e: Eqn) -> tuple:
    return (b.call("np_svd_left", (e.args[0],)), b.call("np_svd_right", (e.args[0],)))


def _svd_parts(b: ArrayBuilder, e: Eqn, pat: Any) -> tuple:
    """u, s, v (thin) of ``e``'s matrix, v^T, and ``F[i, j] = 1 / (s_j^2 - s_i^2)`` off
    the diagonal (inf where two singular values are equal: no derivative there)."""
    _thin(e)
    u, v = _singular_vectors(b, e)
    s = b.call("np_svd_values", (e.args[0],))
    return u, s, v, _mT(b, v, pat), _gaps(b, b.op("mul", s, s))


def _rows(b: ArrayBuilder, s: Any) -> Any:       # s[..., None, :]: scales columns
    return b.call("np_expand_dims", (s,), axis=-2)


def _cols(b: ArrayBuilder, s: Any) -> Any:       # s[..., :, None]: scales rows
    return b.call("np_expand_dims", (s,), axis=-1)


def _vjp_svd_left(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``da = u (F o (u^T g - g^T u)) S v^T + (g - u u^T g) S^-1 v^T``."""
    u, s, v, vt, f = _svd_parts(b, e, pats[0])
    ut = _mT(b, u, pats[0])
    utg = _mm(b, ut, g)
    j = b.op("mul", f, b.op("sub", utg, _mT(b, utg, pats[0])))
    first = _mm(b, u, b.op("mul", j, _rows(b, s)))
    rest = b.op("truediv", b.op("sub", g, _mm(b, u, utg)), _rows(b, s))
    return [_mm(b, b.op("add", first, rest), vt)]


def _vjp_svd_right(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``da = u S (F o (v^T g - g^T v)) v^T + u S^-1 (g - v v^T g)^T``."""
    u, s, v, vt, f = _svd_parts(b, e, pats[0])
    pat = pats[0]
    vtg = _mm(b, vt, g)
    k = b.op("mul", f, b.op("sub", vtg, _mT(b, vtg, pat)))
    first = _mm(b, _mm(b, u, b.op("mul", _cols(b, s), k)), vt)
    rest = _mT(b, b.op("sub", g, _mm(b, v, vtg)), pat)
    return [b.op("add", first, _mm(b, b.op("truediv", u, _rows(b, s)), rest))]


def _jvp_svd_vectors(b: ArrayBuilder, e: Eqn, t: list, pats: list, left: bool) -> Any:
    """With ``p = u^T da v``: ``du = u (F o (p S + S p^T)) + (da v - u p) S^-1``,
    ``dv = v (F o (S p + p^T S)) + (da^T u - v p^T) S^-1``."""
    u, s, v, vt, f = _svd_parts(b, e, pats[0])
    pat = pats[0]
    da_v = _mm(b, t[0], v)
    p = _mm(b, _mT(b, u, pat), da_v)
    pt = _mT(b, p, pat)
    if left:
        sym = b.op("add", b.op("mul", p, _rows(b, s)), b.op("mul", _cols(b, s), pt))
        rest = b.op("sub", da_v, _mm(b, u, p))
        base = u
    else:
        sym = b.op("add", b.op("mul", _cols(b, s), p), b.op("mul", pt, _rows(b, s)))
        rest = b.op("sub", _mm(b, _mT(b, t[0], pat), u), _mm(b, v, pt))
        base = v
    return b.op("add", _mm(b, base, b.op("mul", f, sym)), b.op("truediv", rest, _rows(b, s)))


def _jvp_svd_values(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    """``ds[k] = u_k^T da v_k``."""
    u, v = _singular_vectors(b, e)
    return b.call("np_sum", (b.op("mul", u, _mm(b, t[0], v)),), axis=-2)


def _vjp_svd_values(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    """``da = U diag(g) V^T``."""
    u, v = _singular_vectors(b, e)
    scaled = b.op("mul", u, b.call("np_expand_dims", (g,), axis=-2))
    return [_mm(b, scaled, _mT(b, v, pats[0]))]


_op("svd_values", None, None, 1, {}, _drop_last, _vjp_svd_values, _jvp_svd_values)
_op("svd_left", None, None, 1, {"full_matrices": False}, _unknown, _vjp_svd_left,
    lambda b, e, t, pats: _jvp_svd_vectors(b, e, t, pats, True))
_op("svd_right", None, None, 1, {"full_matrices": False}, _unknown, _vjp_svd_right,
    lambda b, e, t, pats: _jvp_svd_vectors(b, e, t, pats, False))
HELPER_OPS["np_svd_values"] = ("_svd_values", ())
HELPER_OPS["np_svd_left"] = ("_svd_left", ("full_matrices",))
HELPER_OPS["np_svd_right"] = ("_svd_right", ("full_matrices",))


# ----- QR of a matrix with no more columns than rows: a = Q R, Q^T Q = I, R upper
# (numpy's reduced QR; the helpers ``_qr_q`` and ``_qr_r``, ``np.linalg.qr`` is a model)

def _qr_inner(b: ArrayBuilder, q: Any, r: Any, ta: Any, pat: Any) -> Any:
    """``X = triu(C) + tril(C, -1)^T`` with ``C = Q^T dA R^-1``: ``dR = X R`` and
    ``dQ = dA R^-1 - Q X`` (Q^T dQ is antisymmetric, dR R^-1 upper triangular)."""
    c = _mT(b, _solve(b, _mT(b, r, pat), _mT(b, _mm(b, _mT(b, q, pat), ta), pat)), pat)
    return b.op("add", b.call("np_triu", (c,), k=0),
                _mT(b, b.call("np_tril", (c,), k=-1), pat))


def _qr_back(b: ArrayBuilder, q: Any, r: Any, gq: Any, n: Any, pat: Any) -> list:
    """``d_a = (gQ + Q K) R^-T``, ``K = triu(N) + tril(N^T, -1)``, for ``N = gR R^T -
    Q^T gQ`` (the transpose of the tangent rule; ``gq`` None: no adjoint of Q)."""
    k = b.op("add", b.call("np_triu", (n,), k=0), b.call("np_tril", (_mT(b, n, pat),), k=-1))
    left = _mm(b, q, k) if gq is None else b.op("add", gq, _mm(b, q, k))
    return [_mT(b, _solve(b, r, _mT(b, left, pat)), pat)]


def _jvp_qr_q(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    q, r, pat = e.out, b.call("np_qr_r", (e.args[0],)), pats[0]
    x = _qr_inner(b, q, r, t[0], pat)
    a_rinv = _mT(b, _solve(b, _mT(b, r, pat), _mT(b, t[0], pat)), pat)
    return b.op("sub", a_rinv, _mm(b, q, x))


def _jvp_qr_r(b: ArrayBuilder, e: Eqn, t: list, pats: list) -> Any:
    q, r, pat = b.call("np_qr_q", (e.args[0],)), e.out, pats[0]
    return _mm(b, _qr_inner(b, q, r, t[0], pat), r)


def _vjp_qr_q(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    q, r, pat = e.out, b.call("np_qr_r", (e.args[0],)), pats[0]
    return _qr_back(b, q, r, g, b.op("neg", _mm(b, _mT(b, q, pat), g)), pat)


def _vjp_qr_r(b: ArrayBuilder, g: Any, e: Eqn, pats: list) -> list:
    q, r, pat = b.call("np_qr_q", (e.args[0],)), e.out, pats[0]
    return _qr_back(b, q, r, None, _mm(b, g, _mT(b, r, pat)), pat)


_op("qr_q", None, None, 1, {}, _unknown, _vjp_qr_q, _jvp_qr_q)
_op("qr_r", None, None, 1, {}, _unknown, _vjp_qr_r, _jvp_qr_r)
HELPER_OPS["np_qr_q"] = ("_qr_q", ())
HELPER_OPS["np_qr_r"] = ("_qr_r", ())
