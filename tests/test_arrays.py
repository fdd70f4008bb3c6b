"""NumPy array programs (issue 13): symgrad's gradients against independent references.

References: central finite differences in float64 (``fd_grad``), the ``Value``
engine run on numpy object arrays, and hand-written closed forms only where the
math is textbook (never numbers copied from symgrad's output).

A test that fails because symgrad is wrong is kept and marked
``xfail(strict=True, reason="symgrad bug: ...")``; ``BUGS`` below maps each
to its minimal reproducer (see the tests in the "bugs" section).
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import symgrad
from symgrad import Value

import array_cases as C

RTOL = 1e-6
H = 1e-6

# ================================================================ helpers


def _draw(rng, shape, domain):
    size = int(np.prod(shape)) if shape != () else 1
    if domain == "any":
        v = rng.normal(0.0, 0.8, size)
    elif domain == "pos":
        v = rng.uniform(0.5, 2.0, size)
    elif domain == "neg":
        v = -rng.uniform(0.5, 2.0, size)
    elif domain == "away":
        v = rng.uniform(0.3, 1.5, size) * rng.choice([-1.0, 1.0], size)
    elif domain == "unit":
        v = rng.uniform(-0.8, 0.8, size)
    else:
        raise ValueError(domain)
    if shape == ():
        return float(v[0])
    return v.reshape(shape)


def make_args(specs, seed=0):
    rng = np.random.default_rng(seed)
    return [_draw(rng, shape, dom) for shape, dom in specs]


def _copy(args):
    return [a.copy() if isinstance(a, np.ndarray) else a for a in args]


def fd_grad(f, args, i, h=H):
    """Central finite differences of scalar ``f`` with respect to ``args[i]``.

    Every evaluation gets fresh copies of the arguments (``f`` may write into them).
    """
    x = args[i]
    if not isinstance(x, np.ndarray):
        step = h * max(1.0, abs(x))
        plus, minus = _copy(args), _copy(args)
        plus[i], minus[i] = x + step, x - step
        return (float(f(*plus)) - float(f(*minus))) / (2 * step)
    g = np.zeros(x.shape)
    for k in np.ndindex(x.shape):
        step = h * max(1.0, abs(x[k]))
        plus, minus = _copy(args), _copy(args)
        plus[i][k] += step
        minus[i][k] -= step
        g[k] = (float(f(*plus)) - float(f(*minus))) / (2 * step)
    return g


def fd_all(f, args):
    return [fd_grad(f, args, i) for i in range(len(args))]


def as_tuple(g, n):
    return (g,) if n == 1 else tuple(g)


def assert_grads(f, args, rtol=RTOL, atol=1e-6):
    """symgrad.grad(f)(*args) against central differences: values, shapes and types."""
    expected = fd_all(f, args)
    got = as_tuple(symgrad.grad(f)(*_copy(args)), len(args))
    assert len(got) == len(args)
    for k, (a, g, e) in enumerate(zip(args, got, expected)):
        if isinstance(a, np.ndarray):
            assert isinstance(g, np.ndarray), f"gradient {k} is {type(g).__name__}, not ndarray"
            assert g.shape == a.shape, f"gradient {k} has shape {g.shape}, argument {a.shape}"
        else:
            assert np.ndim(g) == 0, f"gradient {k} of a float argument has shape {np.shape(g)}"
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"gradient {k}")
    return got


def xfail_bug(reason):
    return pytest.mark.xfail(strict=True, reason="symgrad bug: " + reason)


# Known failures: test id -> reason.  Filled in from the runs; each has a reproducer below.
_SLICE = "a single-slice read x[a:b] / x[::k] crashes with KindError 'array is not a list'"
_ARGS = "the gradient call does not leave f's in-place writes in the caller's array"
KNOWN: dict[str, str] = {
    "unary/square": "np.square has no derivative rule (refused, though numpy elementwise)",
    "binary/pow": "x ** y with y differentiated (array or float) crashes: TypeError 0-d arrays",
    "binary/np_arith": "np.multiply/np.add/np.subtract/np.divide have no derivative rule",
    "products/tensordot_pairs": "tensordot(axes=([0], [1])) refused as 'computed when the function runs'",
    "index/slice": _SLICE,
    "index/slice_2d_rows": _SLICE,
    "index/step": _SLICE,
    "index/len_shape_size": "n = len(x) then x.size / x.shape[k] in an expression: AssertionError no rule for getattr",
    "loops/range_index": "x[i] in a range loop makes the gradient of an ndarray a Python list",
    "writes/fancy_add_repeat": "y[idx] += v with repeated idx: silently accumulates (numpy keeps only the last)",
    "writes/add_at": "np.add.at(y, idx, v) refused (only the (idx,) tuple form is accepted)",
    "writes/alias": "write through an alias y = x; y[0] = ... is not seen through x: wrong gradient",
    "writes_args/arg_set": _ARGS,
    "writes_args/arg_aug_loop": _ARGS,
    "writes_args/cond_write_arg": _ARGS,
    "writes_args/col_scale_arg_loop": _ARGS,
    "writes_args/alias": _ARGS,
    "writes_args/loop_rows_arg_reads_prev": _ARGS,
    "writes_args/add_at": "np.add.at(y, idx, v) refused (only the (idx,) tuple form is accepted)",
}


def params(items, idfn):
    out = []
    for item in items:
        tid = idfn(item)
        marks = [xfail_bug(KNOWN[tid])] if tid in KNOWN else []
        out.append(pytest.param(*item, id=tid, marks=marks))
    return out


def cases(family, items):
    """pytest params for ``items`` (tuples whose first entry is the id), marking known bugs."""
    out = []
    for item in items:
        key = f"{family}/{item[0]}"
        marks = [xfail_bug(KNOWN[key])] if key in KNOWN else []
        out.append(pytest.param(*item[1:], id=item[0], marks=marks))
    return out


# ================================================================ elementwise

UNARY_SHAPES = [(4,), (2, 3), (2, 2, 2)]


@pytest.mark.parametrize("fn,domain", cases("unary", C.UNARY))
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_unary_elementwise(fn, domain, shape):
    args = make_args([(shape, domain), (shape, "any")], seed=len(shape))
    assert_grads(fn, args)


BINARY_SHAPES = [(5,), (2, 3), (2, 1, 3)]


@pytest.mark.parametrize("fn,dx,dy", cases("binary", C.BINARY))
@pytest.mark.parametrize("shape", BINARY_SHAPES, ids=str)
def test_binary_elementwise(fn, dx, dy, shape):
    args = make_args([(shape, dx), (shape, dy)], seed=3 + len(shape))
    assert_grads(fn, args)


# ================================================================ broadcasting

BROADCAST = [(f"{name}-{sx}-{sy}", fn, sx, sy)
             for name, fn in C.BROADCAST_OPS for sx, sy in C.BROADCAST_SHAPES]


@pytest.mark.parametrize("fn,sx,sy", cases("broadcast", BROADCAST))
def test_broadcasting(fn, sx, sy):
    args = make_args([(sx, "any"), (sy, "pos")], seed=7)
    assert_grads(fn, args)


@pytest.mark.parametrize("fn,shapes", cases("keepdims", C.KEEPDIMS))
def test_keepdims_broadcast_back(fn, shapes):
    for shape in shapes:
        assert_grads(fn, make_args([(shape, "any")], seed=11))


# ================================================================ reductions on every axis

_AXES = {"None": None, "0": 0, "1": 1, "2": 2, "m1": -1, "01": (0, 1), "02": (0, 2), "12": (1, 2)}
_RED_DOMAIN = {"prod": "pos", "norm": "any", "max": "any", "min": "any"}


def _valid_axis(axis, ndim):
    axes = axis if isinstance(axis, tuple) else (axis,)
    if axis is None:
        return True
    return all(-ndim <= a < ndim for a in axes)


REDUCTIONS = []
for _r in ["sum", "mean", "prod", "max", "min", "var", "std", "norm", "msum", "mmean"]:
    for _an, _av in _AXES.items():
        for _kd in ("nokd", "kd"):
            for _nd, _shape in ((1, (5,)), (2, (3, 4)), (3, (2, 3, 4))):
                if not _valid_axis(_av, _nd):
                    continue
                if _r == "norm" and isinstance(_av, tuple) and _nd == 3 and _an == "01":
                    pass
                REDUCTIONS.append((f"{_r}-axis{_an}-{_kd}-{_nd}d",
                                   getattr(C, f"red_{_r}_{_an}_{_kd}"), _shape,
                                   _RED_DOMAIN.get(_r, "any")))


@pytest.mark.parametrize("fn,shape,domain", cases("reduce", REDUCTIONS))
def test_reductions(fn, shape, domain):
    assert_grads(fn, make_args([(shape, domain)], seed=13))


# ================================================================ products

@pytest.mark.parametrize("fn,sa,sb", cases("products", C.PRODUCTS))
def test_products(fn, sa, sb):
    assert_grads(fn, make_args([(sa, "any"), (sb, "any")], seed=17))


# ================================================================ shape ops

@pytest.mark.parametrize("fn,shapes", cases("shape", C.SHAPE_OPS))
def test_shape_ops(fn, shapes):
    assert_grads(fn, make_args([(s, "any") for s in shapes], seed=19))


# ================================================================ indexing (reads)

@pytest.mark.parametrize("fn,shape", cases("index", C.INDEX_READS))
def test_index_reads(fn, shape):
    assert_grads(fn, make_args([(shape, "any")], seed=23))


# ================================================================ where/clip/sign, constructors, methods

@pytest.mark.parametrize("fn,specs", cases("misc", C.MISC))
def test_misc_ops(fn, specs):
    assert_grads(fn, make_args(specs, seed=29))


# ================================================================ loops over arrays, lists of arrays

@pytest.mark.parametrize("fn,specs", cases("loops", C.LOOPS))
def test_loops_and_lists(fn, specs):
    assert_grads(fn, make_args(specs, seed=31))


# ================================================================ in-place writes

@pytest.mark.parametrize("fn,specs,mutates", cases("writes", C.WRITES))
def test_inplace_writes_gradient(fn, specs, mutates):
    assert_grads(fn, make_args(specs, seed=37))


@pytest.mark.parametrize("fn,specs,mutates", cases("writes_args", C.WRITES))
def test_inplace_writes_leave_arguments_as_f_does(fn, specs, mutates):
    args = make_args(specs, seed=41)
    by_f = _copy(args)
    fn(*by_f)
    by_grad = _copy(args)
    symgrad.grad(fn)(*by_grad)
    for a, b, orig in zip(by_f, by_grad, args):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b), "the gradient call left the argument differently from f"
            assert np.array_equal(a, orig) != mutates
