"""Small standard-library functions that generated code may call.

Each is kept as source text, so the very same text is executed into the
generated function's namespace and written by ``save()`` into a standalone
module.  Primitives without a ``math`` function (``sigmoid``, ``relu``) use
their float forward from the rule table, so there is still one definition.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

from . import rules

_SOURCES = {
    "_zeros_like": '''
class _Fields:
    """The adjoints of an object's fields (a NamedTuple, a dataclass, an object),
    read and written as attributes: d_p.w."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self):
        return "_Fields(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"


def _missing_zeros(x):
    """Zeros for a dict that makes the value of a missing key when it is read (a
    defaultdict, a Counter): a dict that makes that value's zeros."""
    import collections
    factory = getattr(x, "default_factory", float)
    if factory is None:
        return {}
    return collections.defaultdict(lambda: _zeros_like(factory()))


def _field_names(x):
    """The fields of a NamedTuple, a dataclass or a plain object, else None."""
    if isinstance(x, tuple):
        return getattr(x, "_fields", None)
    if hasattr(type(x), "__dataclass_fields__"):
        return list(type(x).__dataclass_fields__)
    if (hasattr(x, "__dict__") and not isinstance(x, type)
            and type(x).__module__ not in ("builtins", "numpy", "types")):
        return list(vars(x))
    return None


def _zeros_like(*xs, _memo=None):
    """Zeros shaped like each argument: 0.0 for a number, lists for lists and tuples,
    dicts with the same keys for dicts, _Fields for objects with fields, zero arrays
    for arrays.  A list that appears twice (in two arguments, or twice inside one)
    gets one list of zeros, so its gradient is shared as the list is.  One argument:
    its zeros; several: a tuple of them."""
    memo = {} if _memo is None else _memo
    out = []
    for x in xs:
        if type(x) is float or type(x) is int:
            out.append(0.0)
            continue
        names = None if isinstance(x, (list, dict, float, int)) else _field_names(x)
        if names is not None:
            z = memo.get(id(x))
            if z is None:
                z = memo[id(x)] = _Fields()
                for k in names:
                    setattr(z, k, _zeros_like(getattr(x, k), _memo=memo))
            out.append(z)
        elif hasattr(x, "shape") and hasattr(x, "dtype"):
            if hasattr(type(x), "__array_function__"):    # numpy, dask ...: zeros (x * 0.0
                import numpy as np                        # is nan where x is inf)
                out.append(np.zeros_like(x, dtype=float))
            else:
                out.append(x * 0.0)
        elif isinstance(x, dict):
            z = memo.get(id(x))
            if z is None:
                missing = hasattr(type(x), "__missing__")     # (a defaultdict ...)
                z = memo[id(x)] = _missing_zeros(x) if missing else {}
                for k, v in x.items():
                    z[k] = _zeros_like(v, _memo=memo)
            out.append(z)
        elif isinstance(x, (list, tuple)):
            z = memo.get(id(x))
            if z is None:
                z = memo[id(x)] = []
                if all(type(v) is float for v in x):          # a row of numbers
                    z.extend([0.0] * len(x))
                else:
                    z.extend(_zeros_like(*x, _memo=memo) if len(x) != 1 else
                             [_zeros_like(x[0], _memo=memo)])
            out.append(z)
        else:       # a number; None for what is not one (a str field, None ...)
            out.append(0.0 if isinstance(x, (int, float)) or hasattr(x, "__float__")
                       else None)
    return out[0] if len(out) == 1 else tuple(out)
''',
    "_distinct_indices": '''
def _distinct_indices(shape, *index):
    """Refuse x[idx] = v (x of this shape) when idx picks an element twice: numpy keeps
    the last write there, and the gradient would give every repeat a share.  The index
    as written, ":" for a slice and "..." for an ellipsis; one tuple is its parts."""
    import numpy as np
    if len(index) == 1 and isinstance(index[0], tuple):     # x[idx], idx = (rows, cols)
        index = index[0]
    parts = [i if isinstance(i, (int, slice, str)) or i is None or i is Ellipsis
             else np.asarray(i) for i in index]
    ellipsis = [p is Ellipsis or isinstance(p, str) and p == "..." for p in parts]
    used = sum(p.ndim if isinstance(p, np.ndarray) and p.dtype == bool else 1
               for p, e in zip(parts, ellipsis) if p is not None and not e)
    axis, picks = 0, []              # each index array as the non-negative positions
    for p, e in zip(parts, ellipsis):
        if e:
            axis += len(shape) - used
        elif isinstance(p, np.ndarray) and p.dtype == bool:
            picks.extend(p.nonzero())
            axis += p.ndim
        elif isinstance(p, np.ndarray):
            n = shape[axis] if axis < len(shape) else 0
            picks.append(np.where(p < 0, p + n, p))
            axis += 1
        elif p is not None:
            axis += 1
    if picks:
        b = np.broadcast_arrays(*picks)
        pos = np.stack([a.ravel() for a in b], axis=1)
        if len(np.unique(pos, axis=0)) != len(pos):
            raise ValueError("symgrad: an index array with a repeated index in x[idx] = v (or "
                             "x[idx] += v): numpy keeps only the last write there, which "
                             "symgrad does not differentiate. Use np.add.at(x, idx, v) to add "
                             "every write, or make the indices distinct.")
''',
    "_put_back": '''
_MISSING = object()


def _put_back(d, key, old):
    """d[key] = old, or del d[key] when old is _MISSING (the key was not there)."""
    if old is _MISSING:
        del d[key]
    else:
        d[key] = old
''',
    "_add_into": '''
def _add_into(dst, src):
    """dst += src, element by element, for nested lists of numbers (an array element
    is replaced by the sum, not added into: another list may hold it too)."""
    for k, v in enumerate(src):
        if isinstance(v, (list, tuple)):        # (a tuple given for a returned tuple)
            _add_into(dst[k], v)
        else:
            dst[k] = dst[k] + v
''',
    "_unbroadcast": '''
def _unbroadcast(g, x):
    """g summed over the axes along which x was broadcast, so it has x's shape."""
    import numpy as np
    shape = np.shape(x)
    if np.shape(g) == shape:
        return g
    g = np.sum(g, axis=tuple(range(np.ndim(g) - len(shape))))
    axes = tuple(k for k, n in enumerate(shape) if n == 1 and np.shape(g)[k] != 1)
    return np.sum(g, axis=axes, keepdims=True) if axes else g
''',
    "_split_like": '''
def _split_like(g, *parts, axis=0):
    """g cut along axis into pieces as long as each of parts (the adjoint of np.concatenate;
    with axis None, of np.hstack: along the first axis of vectors, else the second)."""
    import numpy as np
    if axis is None:
        axis = 0 if np.ndim(parts[0]) <= 1 else 1
    ends = np.cumsum([np.shape(p)[axis] if np.ndim(p) else 1 for p in parts[:-1]])
    pieces = np.split(g, ends, axis=axis)
    return [q.reshape(()) if np.ndim(p) == 0 else q for q, p in zip(pieces, parts)]
''',
    "_joined_vjp": '''
def _joined_vjp(g, *parts, axis=1):
    """g cut into pieces shaped like each of parts: the adjoint of np.column_stack (axis
    1: a vector is a column) or of np.dstack (axis 2: each part made 3-d)."""
    import numpy as np
    if axis == 1:
        shaped = [np.reshape(p, (-1, 1)) if np.ndim(p) < 2 else p for p in parts]
    else:
        shaped = [np.atleast_3d(p) for p in parts]
    ends = np.cumsum([np.shape(p)[axis] for p in shaped[:-1]])
    return [np.reshape(q, np.shape(p)) for q, p in zip(np.split(g, ends, axis=axis), parts)]
''',
    "_unjoin": '''
def _unjoin(g, xs, how="concatenate", axis=0):
    """g cut into pieces shaped like each array of the list xs: the adjoint of
    np.<how>(xs, axis) (concatenate, stack, vstack, hstack, column_stack, dstack)."""
    import numpy as np
    if how == "stack":
        return [np.take(g, k, axis=axis) for k in range(len(xs))]
    if how == "concatenate":
        shaped = [np.ravel(x) for x in xs] if axis is None else xs
        axis = 0 if axis is None else axis
    elif how == "vstack":
        shaped, axis = [np.atleast_2d(x) for x in xs], 0
    elif how == "hstack":
        shaped = [np.atleast_1d(x) for x in xs]
        axis = 0 if np.ndim(shaped[0]) == 1 else 1
    elif how == "column_stack":
        shaped = [np.reshape(x, (-1, 1)) if np.ndim(x) < 2 else x for x in xs]
        axis = 1
    else:
        shaped, axis = [np.atleast_3d(x) for x in xs], 2
    ends = np.cumsum([np.shape(p)[axis] for p in shaped[:-1]])
    return [np.reshape(q, np.shape(x)) for q, x in zip(np.split(g, ends, axis=axis), xs)]
''',
    "_matmul_vjp_a": '''
def _matmul_vjp_a(g, a, b):
    """The adjoint of a in a @ b, for operands of any rank."""
    import numpy as np
    a = a if hasattr(a, "ndim") else np.asarray(a)      # (a dask array stays lazy)
    b = b if hasattr(b, "ndim") else np.asarray(b)
    if b.ndim == 1:
        d = np.multiply.outer(g, b) if a.ndim > 1 else g * b
    else:
        d = g @ np.swapaxes(b, -1, -2) if a.ndim > 1 else (np.expand_dims(g, -2) @ np.swapaxes(b, -1, -2))[..., 0, :]
    return _unbroadcast(d, a)
''',
    "_matmul_vjp_b": '''
def _matmul_vjp_b(g, a, b):
    """The adjoint of b in a @ b, for operands of any rank."""
    import numpy as np
    a = a if hasattr(a, "ndim") else np.asarray(a)      # (a dask array stays lazy)
    b = b if hasattr(b, "ndim") else np.asarray(b)
    if a.ndim == 1:     # (n,) @ (..., n, m): d[..., k, j] = a[k] * g[..., j]
        d = np.expand_dims(g, -2) * a[:, None] if b.ndim > 1 else g * a
    else:
        gg = g if b.ndim > 1 else np.expand_dims(g, -1)
        d = np.swapaxes(a, -1, -2) @ gg
        if b.ndim == 1:
            d = d[..., 0]
    return _unbroadcast(d, b)
''',
    "_tensordot_axes": '''
def _tensordot_axes(a, b, axes):
    """a and b as arrays, their summed axes (in pairs) and their free axes in np.tensordot."""
    import numpy as np
    a = a if hasattr(a, "ndim") else np.asarray(a)      # (a dask array stays lazy)
    b = b if hasattr(b, "ndim") else np.asarray(b)
    if isinstance(axes, int):
        ax_a, ax_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:                                           # ([0, 1], [1, 0]), or one axis each: (-1, 0)
        ax_a, ax_b = ([k] if isinstance(k, int) else list(k) for k in axes)
    ax_a, ax_b = [k % a.ndim for k in ax_a], [k % b.ndim for k in ax_b]
    free_a = [k for k in range(a.ndim) if k not in ax_a]
    free_b = [k for k in range(b.ndim) if k not in ax_b]
    return a, b, ax_a, ax_b, free_a, free_b
''',
    "_tensordot_vjp_a": '''
def _tensordot_vjp_a(g, a, b, axes=2):
    """The adjoint of a in np.tensordot(a, b, axes)."""
    import numpy as np
    a, b, ax_a, ax_b, free_a, free_b = _tensordot_axes(a, b, axes)
    g = g if hasattr(g, "ndim") else np.asarray(g)      # (a number: every axis summed)
    d = np.tensordot(g, b, axes=(list(range(len(free_a), g.ndim)), free_b))
    order = free_a + [ax_a[ax_b.index(k)] for k in sorted(ax_b)]   # b's summed axes, in b's order
    return np.transpose(d, np.argsort(order).tolist())
''',
    "_tensordot_vjp_b": '''
def _tensordot_vjp_b(g, a, b, axes=2):
    """The adjoint of b in np.tensordot(a, b, axes)."""
    import numpy as np
    a, b, ax_a, ax_b, free_a, free_b = _tensordot_axes(a, b, axes)
    d = np.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))
    order = [ax_b[ax_a.index(k)] for k in sorted(ax_a)] + free_b   # a's summed axes, in a's order
    return np.transpose(d, np.argsort(order).tolist())
''',
    "_inner_vjp_a": '''
def _inner_vjp_a(g, a, b):
    """The adjoint of a in np.inner(a, b) (a sum over the last axes)."""
    import numpy as np
    a = a if hasattr(a, "ndim") else np.asarray(a)      # (a dask array stays lazy)
    b = b if hasattr(b, "ndim") else np.asarray(b)
    g = g if hasattr(g, "ndim") else np.asarray(g)
    if a.ndim == 0 or b.ndim == 0:                      # np.inner with a number: a product
        return np.sum(g * b) if a.ndim == 0 else g * b
    return np.tensordot(g, b, axes=(list(range(a.ndim - 1, g.ndim)), list(range(b.ndim - 1))))
''',
    "_inner_vjp_b": '''
def _inner_vjp_b(g, a, b):
    """The adjoint of b in np.inner(a, b)."""
    import numpy as np
    a = a if hasattr(a, "ndim") else np.asarray(a)      # (a dask array stays lazy)
    b = b if hasattr(b, "ndim") else np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:                      # np.inner with a number: a product
        return np.sum(g * a) if b.ndim == 0 else g * a
    return np.tensordot(g, a, axes=(list(range(a.ndim - 1)), list(range(a.ndim - 1))))
''',
}

# adjoints of array operations numpy has no single call for (symgrad.array_ops_more)
_SOURCES.update({
    "_diagonal_vjp": """
def _diagonal_vjp(g, x, offset=0, axis1=0, axis2=1):
    \"\"\"The adjoint of np.diagonal(x, offset, axis1, axis2): g on that diagonal of zeros.\"\"\"
    import numpy as np
    d = np.zeros(np.shape(x))
    k = np.arange(np.shape(g)[-1])
    np.moveaxis(d, (axis1, axis2), (-2, -1))[..., k + max(-offset, 0), k + max(offset, 0)] = g
    return d
""",
    "_tile_vjp": """
def _tile_vjp(g, x, reps):
    \"\"\"The adjoint of np.tile(x, reps): the copies of each element summed.\"\"\"
    import numpy as np
    shape = np.shape(x)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    n = max(len(shape), len(reps))
    reps = (1,) * (n - len(reps)) + reps
    full = (1,) * (n - len(shape)) + tuple(shape)
    g = np.reshape(g, [k for pair in zip(reps, full) for k in pair])
    return np.reshape(np.sum(g, axis=tuple(range(0, 2 * n, 2))), shape)
""",
    "_unpad": """
def _unpad(g, x, pad_width, mode="constant"):
    \"\"\"The adjoint of np.pad(x, pad_width, mode): g without the border (mode
    'constant'); for 'edge', 'wrap', 'reflect' and 'symmetric', each border entry added
    back to the entry it copies.\"\"\"
    import numpy as np
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (np.ndim(x), 2))
    if mode == "constant":
        return g[tuple(slice(lo, np.shape(g)[k] - hi) for k, (lo, hi) in enumerate(widths))]
    for k, (lo, hi) in enumerate(widths):
        n = np.shape(x)[k]
        i = np.arange(-lo, n + hi)
        if mode == "edge":
            src = np.clip(i, 0, n - 1)
        elif mode == "wrap":
            src = np.mod(i, n)
        elif mode == "reflect":
            period = max(2 * n - 2, 1)
            j = np.mod(i, period)
            src = np.where(j < n, j, period - j)
        else:
            j = np.mod(i, 2 * n)
            src = np.where(j < n, j, 2 * n - 1 - j)
        moved = np.moveaxis(g, k, 0)
        out = np.zeros((n,) + np.shape(moved)[1:], dtype=np.result_type(g, 0.0))
        np.add.at(out, src, moved)
        g = np.moveaxis(out, 0, k)
    return g
""",
    "_repeat_vjp": """
def _repeat_vjp(g, x, repeats, axis=None):
    \"\"\"The adjoint of np.repeat(x, repeats, axis): the copies of each element summed
    (repeats an int, or one count per element).\"\"\"
    import numpy as np
    shape = np.shape(x)
    if axis is None:
        g, shape, axis = np.ravel(g), (np.size(x),), 0
    axis = axis % len(shape)
    if isinstance(repeats, int):
        g = np.reshape(g, shape[:axis] + (shape[axis], repeats) + shape[axis + 1:])
        return np.reshape(np.sum(g, axis=axis + 1), np.shape(x))
    owner = np.repeat(np.arange(shape[axis]), repeats)     # the element each copy is of
    d = np.zeros(shape, dtype=np.result_type(g, float))
    np.add.at(d, (slice(None),) * axis + (owner,), g)
    return np.reshape(d, np.shape(x))
""",
    "_kron_parts": """
def _kron_parts(g, a, b):
    \"\"\"g of np.kron(a, b) with each axis cut in two (a's, b's), and a and b with as many
    axes.\"\"\"
    import numpy as np
    n = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (n - np.ndim(a)) + np.shape(a)
    sb = (1,) * (n - np.ndim(b)) + np.shape(b)
    g = np.reshape(g, [k for pair in zip(sa, sb) for k in pair])
    return g, np.reshape(a, sa), np.reshape(b, sb), n
""",
    "_kron_vjp_a": """
def _kron_vjp_a(g, a, b):
    \"\"\"The adjoint of a in np.kron(a, b).\"\"\"
    import numpy as np
    g, a2, b2, n = _kron_parts(g, a, b)
    return np.reshape(np.tensordot(g, b2, axes=(list(range(1, 2 * n, 2)), list(range(n)))),
                      np.shape(a))
""",
    "_kron_vjp_b": """
def _kron_vjp_b(g, a, b):
    \"\"\"The adjoint of b in np.kron(a, b).\"\"\"
    import numpy as np
    g, a2, b2, n = _kron_parts(g, a, b)
    return np.reshape(np.tensordot(g, a2, axes=(list(range(0, 2 * n, 2)), list(range(n)))),
                      np.shape(b))
""",
    "_sort_vjp": """
def _sort_vjp(g, x, axis=-1):
    \"\"\"The adjoint of np.sort(x, axis): each element of g put back where the sorted
    element came from.\"\"\"
    import numpy as np
    if axis is None:
        d = np.zeros(np.size(x))
        d[np.argsort(x, axis=None)] = g
        return np.reshape(d, np.shape(x))
    d = np.zeros(np.shape(x))
    np.put_along_axis(d, np.argsort(x, axis=axis), g, axis=axis)
    return d
""",
    "_weights_like": """
def _weights_like(w, x, axis=None):
    \"\"\"np.average's weights w shaped to multiply x (1-D weights lie along axis).\"\"\"
    import numpy as np
    if np.ndim(w) == np.ndim(x):
        return w
    shape = [1] * np.ndim(x)
    shape[axis] = -1
    return np.reshape(w, shape)
""",
    "_prod_others": """
def _prod_others(x, axis=None):
    \"\"\"For each element of x, the product of the other elements np.prod(x, axis)
    multiplies it with: the products of those before it and of those after it (no
    division, so exact where x has zeros).\"\"\"
    import numpy as np
    axes = tuple(range(np.ndim(x))) if axis is None else np.atleast_1d(axis).tolist()
    ends = list(range(-len(axes), 0))
    y = np.moveaxis(x, axes, ends)
    y = np.reshape(y, np.shape(y)[:np.ndim(y) - len(axes)] + (-1,))   # the axes as one
    one = np.ones(np.shape(y)[:-1] + (1,))
    before = np.cumprod(np.concatenate([one, y[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.flip(np.concatenate([y[..., 1:], one], axis=-1), -1),
                               axis=-1), -1)
    out = np.reshape(before * after, np.shape(np.moveaxis(x, axes, ends)))
    return np.moveaxis(out, ends, axes)
""",
    "_prod_others_jvp": """
def _prod_others_jvp(t, x, axis=None):
    \"\"\"The tangent of _prod_others(x, axis) along t: for each element, the sum over
    the others j of t[j] times the product of the rest; by the number of zeros.\"\"\"
    import numpy as np
    zero = x == 0
    safe = np.where(zero, 1.0, x)
    rest = np.prod(safe, axis=axis, keepdims=True)          # the product of the nonzero
    zeros = np.sum(zero, axis=axis, keepdims=True)
    u = np.where(zero, 0.0, t / safe)
    us = np.sum(u, axis=axis, keepdims=True)                # t / x over the nonzero
    tz = np.sum(np.where(zero, t, 0.0), axis=axis, keepdims=True)     # t at the zeros
    none = rest / safe * (us - u)
    one = np.where(zero, rest * us, tz * rest / safe)
    two = np.where(zero, rest * (tz - t), 0.0)              # (t at the other zero)
    return np.where(zeros == 0, none, np.where(zeros == 1, one,
                                               np.where(zeros == 2, two, 0.0)))
""",
    "_partition_from": """
def _partition_from(y, x, axis=-1):
    \"\"\"Where each element of y = np.partition(x, kth, axis) came from in x (along axis;
    flat for axis=None): y is x reordered, so the k-th smallest of each is the same
    element (ties: the first of the equal ones in x's order, as np.sort's adjoint).\"\"\"
    import numpy as np
    if axis is None:
        x, axis = np.ravel(x), -1
    p = np.argsort(x, axis=axis, kind="stable")
    q = np.argsort(y, axis=axis, kind="stable")
    src = np.empty_like(p)
    np.put_along_axis(src, q, p, axis=axis)
    return src
""",
    "_partition_vjp": """
def _partition_vjp(g, y, x, axis=-1):
    \"\"\"The adjoint of y = np.partition(x, kth, axis): each element of g put back where
    that element of y came from.\"\"\"
    import numpy as np
    src = _partition_from(y, x, axis)
    d = np.zeros(np.size(x) if axis is None else np.shape(x))
    np.put_along_axis(d, src, g, axis=-1 if axis is None else axis)
    return np.reshape(d, np.shape(x))
""",
    "_partition_jvp": """
def _partition_jvp(t, y, x, axis=-1):
    \"\"\"The tangent of y = np.partition(x, kth, axis): t in y's order.\"\"\"
    import numpy as np
    if axis is None:
        return np.ravel(t)[_partition_from(y, x, None)]
    return np.take_along_axis(t, _partition_from(y, x, axis), axis=axis)
""",
    "_sort_jvp": """
def _sort_jvp(t, x, axis=-1):
    \"\"\"t in the order np.sort(x, axis) puts the elements of x (its tangent).\"\"\"
    import numpy as np
    if axis is None:
        return np.ravel(t)[np.argsort(x, axis=None)]
    return np.take_along_axis(t, np.argsort(x, axis=axis), axis=axis)
""",
})

# the linear algebra of symmetric matrices (symgrad.array_linalg)
_SOURCES.update({
    "_eigh_vectors": """
def _eigh_vectors(a, UPLO="L"):
    \"\"\"The eigenvectors of np.linalg.eigh(a, UPLO), one per column.\"\"\"
    import numpy as np
    return np.linalg.eigh(a, UPLO)[1]
""",
    "_svd_values": """
def _svd_values(a):
    \"\"\"The singular values of a, largest first (np.linalg.svd(a, compute_uv=False)).\"\"\"
    import numpy as np
    return np.linalg.svd(a, compute_uv=False)
""",
    "_svd_left": """
def _svd_left(a, full_matrices=False):
    \"\"\"The left singular vectors of a, one per column: u of np.linalg.svd.\"\"\"
    import numpy as np
    return np.linalg.svd(a, full_matrices=full_matrices)[0]
""",
    "_svd_right": """
def _svd_right(a, full_matrices=False):
    \"\"\"The right singular vectors of a, one per column: the transpose of vh.\"\"\"
    import numpy as np
    return np.swapaxes(np.linalg.svd(a, full_matrices=full_matrices)[2], -1, -2)
""",
    "_qr_q": """
def _qr_q(a):
    \"\"\"Q of np.linalg.qr(a) (the reduced decomposition).\"\"\"
    import numpy as np
    return np.linalg.qr(a)[0]
""",
    "_qr_r": """
def _qr_r(a):
    \"\"\"R of np.linalg.qr(a) (the reduced decomposition).\"\"\"
    import numpy as np
    return np.linalg.qr(a)[1]
""",
    "_logabsdet": """
def _logabsdet(a):
    \"\"\"log |det a|, as np.linalg.slogdet(a) finds it (without overflow).\"\"\"
    import numpy as np
    return np.linalg.slogdet(a)[1]
""",
})

_SOURCES.update({
    "_einsum_explicit": """
def _einsum_explicit(subscripts, ranks):
    \"\"\"np.einsum's subscripts with every ellipsis written out in letters of its own
    (right-aligned, as numpy broadcasts it) and the output written out.\"\"\"
    spec = subscripts.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    terms = ins.split(",")
    counts = [r - (len(t) - 3) if "..." in t else 0 for t, r in zip(terms, ranks)]
    free = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in spec][:max(counts + [0])]
    terms = [t.replace("...", "".join(free[len(free) - n:])) for t, n in zip(terms, counts)]
    if not arrow:       # (implicit: the ellipsis first, then the letters met once, sorted)
        letters = "".join(terms)
        out = "".join(free) + "".join(sorted(c for c in set(letters) if c not in free
                                             and letters.count(c) == 1))
    return ",".join(terms) + "->" + out.replace("...", "".join(free))
""",
    "_einsum_vjp": """
def _einsum_vjp(g, *operands, subscripts="", index=0):
    \"\"\"The adjoint of operand index of np.einsum(subscripts, *operands), for the
    result's adjoint g: the einsum of the others and g into its subscripts; a letter
    only it has comes back by broadcasting, a dimension of size 1 broadcast is summed.\"\"\"
    import numpy as np
    spec = _einsum_explicit(subscripts, [np.ndim(a) for a in operands])
    ins, _, out = spec.partition("->")
    terms = ins.split(",")
    term, x = terms[index], operands[index]
    others = [t for k, t in enumerate(terms) if k != index]
    seen = set("".join(others) + out)
    letters = "".join(dict.fromkeys(term))
    kept = "".join(c for c in letters if c in seen)
    d = np.einsum(",".join(others + [out]) + "->" + kept,
                  *[a for k, a in enumerate(operands) if k != index], g)
    missing = tuple(k for k, c in enumerate(letters) if c not in seen)
    if letters != term:
        return _einsum_diagonal(np.expand_dims(d, missing) if missing else d, x, term)
    d = _unbroadcast(np.expand_dims(d, missing) if missing else d, x)
    return np.broadcast_to(d, np.shape(x)) if missing else d
""",
    "_einsum_diagonal": """
def _einsum_diagonal(d, x, term=""):
    \"\"\"The adjoint of x where np.einsum reads it with a letter repeated (term 'ii'
    reads its diagonal): zeros shaped like x, and d (over term's letters, each once,
    in order; size 1 where a letter is summed away or was broadcast) on that diagonal.\"\"\"
    import numpy as np
    letters = "".join(dict.fromkeys(term))
    size = dict(zip(term, np.shape(x)))
    axes = tuple(k for k, c in enumerate(letters) if size[c] == 1 and np.shape(d)[k] != 1)
    if axes:
        d = np.sum(d, axis=axes, keepdims=True)
    d = np.broadcast_to(d, tuple(size[c] for c in letters))
    out = np.zeros(np.shape(x))
    grid = np.indices(np.shape(d), sparse=True)
    out[tuple(grid[letters.index(c)] for c in term)] = d
    return out
""",
})

#: helpers that call other helpers
HELPER_NEEDS = {"_einsum_vjp": ("_einsum_explicit", "_unbroadcast", "_einsum_diagonal"),
                "_matmul_vjp_a": ("_unbroadcast",), "_matmul_vjp_b": ("_unbroadcast",),
                "_tensordot_vjp_a": ("_tensordot_axes",),
                "_tensordot_vjp_b": ("_tensordot_axes",),
                "_kron_vjp_a": ("_kron_parts",), "_kron_vjp_b": ("_kron_parts",),
                "_partition_vjp": ("_partition_from",), "_partition_jvp": ("_partition_from",)}


def source_of(name: str) -> str | None:
    """Standalone source of helper ``name`` (None for a user-registered rule's function)."""
    if name in _SOURCES:
        return textwrap.dedent(_SOURCES[name]).strip() + "\n"
    rule = rules.RULES.get(name)
    if rule is None:
        raise KeyError(name)
    fn = rule.forward
    if not rules.written_here(fn):
        return None
    src = textwrap.dedent(inspect.getsource(fn))
    return src.replace(f"def {fn.__name__}(", f"def {name}(", 1).strip() + "\n"


def saved_source(name: str, obj: Any) -> str | None:
    """Standalone source defining ``obj`` under ``name`` (a helper of this module or a
    rule's float forward written in symgrad), or None."""
    if name in _SOURCES and getattr(obj, "__name__", None) == name:
        return textwrap.dedent(_SOURCES[name]).strip() + "\n"
    for rule in rules.RULES.values():
        if rule.forward is obj and rules.written_here(obj):
            src = textwrap.dedent(inspect.getsource(obj))
            return src.replace(f"def {obj.__name__}(", f"def {name}(", 1).strip() + "\n"
    return None


_OBJECTS: dict[str, Any] = {}


def helper_object(name: str) -> Any:
    """The function helper ``name`` defines, made once from its source text (with the
    helpers it calls in its namespace)."""
    fn = _OBJECTS.get(name)
    if fn is None:
        ns: dict[str, Any] = {dep: helper_object(dep) for dep in HELPER_NEEDS.get(name, ())}
        exec(compile(source_of(name), f"<symgrad helper {name}>", "exec"), ns)
        fn = _OBJECTS[name] = ns[name]
        fn.__symgrad_helper__ = name    # (generated code differentiated again: lower_call)
    return fn


def bindings(names: dict[str, Any], own_module: str | None = None
             ) -> tuple[list[str], list[str], list[str], list[str]]:
    """How a standalone text gets each object a generated function reads by name:
    ``(imports, literal assignments, definitions, names with none)``.  A module is
    imported; a number or string is written as a literal; a helper of this module
    or a rule's float forward written in symgrad is defined (with the helpers it
    calls); anything else is imported from the module that holds it
    (``own_module``, the user's, for the function's globals)."""
    imports: list[str] = []
    consts: list[str] = []
    defs: dict[str, str] = {}
    missing: list[str] = []
    todo = list(names.items())
    while todo:
        name, obj = todo.pop(0)
        if name in defs:
            continue
        if inspect.ismodule(obj):
            imports.append(f"import {obj.__name__}" + (f" as {name}" if name != obj.__name__
                                                       else ""))
            continue
        if _literal(obj):
            consts.append(f"{name} = {obj!r}")
            continue
        src = saved_source(name, obj)
        if src is not None:
            defs[name] = src
            for need in HELPER_NEEDS.get(name, ()):
                todo.append((need, helper_object(need)))
            if name not in _SOURCES and "math." in src:
                todo.append(("math", __import__("math")))
            continue
        where = _importable(name, obj, own_module)
        if where is not None:
            imports.append(where)
        else:
            missing.append(name)
    return sorted(set(imports)), consts, list(defs.values()), missing


def trailer(freevars: dict[str, Any]) -> str:
    """What symgrad passes in to a generated function, written out: the lines that
    follow its source so the text stands alone ("" when it passes in nothing)."""
    objs = cell_values(freevars)
    if not objs:
        return ""
    imports, consts, defs, missing = bindings(objs)
    lines = ["", "", "# Defined by symgrad for the code above:"] + imports + consts
    lines += [f"# {name}: an object symgrad passes in (not importable by name)"
              for name in missing]
    for k, d in enumerate(defs):
        lines += ([] if k == 0 and len(lines) == 3 else ["", ""]) + [d.rstrip()]
    return "\n".join(lines) + "\n"


def cell_values(cells: dict[str, Any]) -> dict[str, Any]:
    """The objects in closure cells, by name (an empty cell is left out)."""
    out = {}
    for name, cell in cells.items():
        try:
            out[name] = cell.cell_contents
        except ValueError:
            continue
    return out


def _literal(obj: Any) -> bool:
    if isinstance(obj, (tuple, list)):
        return all(_literal(v) for v in obj)
    return isinstance(obj, (int, float, str, bool, complex, type(None)))


def _importable(name: str, obj: Any, own_module: str | None) -> str | None:
    """``from module import name`` for ``obj``, if that import gives it back."""
    import sys
    mod = own_module if own_module not in (None, "__main__") else getattr(
        obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None) if own_module is None else name
    if mod and qual and mod != "__main__" and getattr(sys.modules.get(mod), qual, None) is obj:
        return f"from {mod} import {qual}" + (f" as {name}" if name != qual else "")
    return None
