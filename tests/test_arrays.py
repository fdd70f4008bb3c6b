"""NumPy array programs (issue 13): symgrad's gradients against independent references.

References: central finite differences in float64 (``fd_grad``), the ``Value``
engine run on numpy object arrays, and hand-written closed forms only where the
math is textbook (never numbers copied from symgrad's output).

A test that fails because symgrad is wrong is kept and marked
``xfail(strict=True, reason="symgrad bug: ...")`` through ``KNOWN`` below (empty
now: each bug found so far is fixed and its reproducer is in ``FIXED``).
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
    if reason.startswith("design choice"):
        return pytest.mark.xfail(strict=True, reason=reason)
    return pytest.mark.xfail(strict=True, reason="symgrad bug: " + reason)


# Known failures: test id -> reason.  Filled in from the runs; each has a reproducer below.
_SLICE = "a single-slice read x[a:b] / x[::k] crashes with KindError 'array is not a list'"
_ARGS = ("design choice: the gradient call leaves the caller's arrays untouched, where f "
         "itself writes into them")
KNOWN: dict[str, str] = {
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
    if fn is C.w_alias:        # y = x; y[0] = ...; read through x: refused, never wrong
        with pytest.raises(symgrad.SymgradError, match="shares memory"):
            symgrad.grad(fn)(*make_args(specs, seed=37))
        return
    assert_grads(fn, make_args(specs, seed=37))


#: the writes differentiated (y = x; y[0] = ... read through x is refused: see above)
_DIFFERENTIATED_WRITES = [w for w in C.WRITES if w[1] is not C.w_alias]


@pytest.mark.parametrize("fn,specs,mutates", cases("writes_args", _DIFFERENTIATED_WRITES))
def test_inplace_writes_leave_arguments_as_they_were(fn, specs, mutates):
    """The design, as for lists: f's own writes into its arguments happen when f runs;
    the gradient call restores every element it overwrote, so it leaves the caller's
    arrays as they were (and its gradient is f's at the arguments as passed)."""
    args = make_args(specs, seed=41)
    by_f = _copy(args)
    fn(*by_f)
    by_grad = _copy(args)
    assert_grads(fn, _copy(args))
    symgrad.grad(fn)(*by_grad)
    for a, b, orig in zip(by_f, by_grad, args):
        if isinstance(a, np.ndarray):
            assert np.array_equal(b, orig), "the gradient call changed the caller's array"
            assert np.array_equal(a, orig) != mutates, "f itself writes into its argument"


# ================================================================ the Value engine as a second reference

# Ops numpy object arrays of Value cannot run (no Value.log1p, .arctan2, ...; float
# arrays that receive a Value; ufunc.at), so the Value engine is no reference there.
VALUE_UNSUPPORTED = {
    "unary/log1p", "unary/expm1", "unary/arctan", "unary/arcsin", "unary/sinh", "unary/cosh",
    "unary/tan", "unary/log10", "unary/power", "unary/square", "binary/arctan2", "binary/hypot",
    "misc/var_std", "misc/std_ddof", "misc/norm", "loops/accumulate_augassign",
    "loops/accumulate_array", "writes/local_zeros_set", "writes/row_set_loop",
    "writes/fancy_add_repeat", "writes/add_at", "writes/same_slot_loop",
}


def _value_cases():
    out = []
    for n, f, d in C.UNARY:
        out.append((f"unary/{n}", f, [((2, 3), d), ((2, 3), "any")]))
    for n, f, a, b in C.BINARY:
        out.append((f"binary/{n}", f, [((2, 3), a), ((2, 3), b)]))
    for n, f in C.BROADCAST_OPS:
        for sx, sy in [((2, 1), (1, 3)), ((3,), (2, 3)), ((), (2, 2)), ((2, 1, 3), (2, 1))]:
            out.append((f"broadcast/{n}-{sx}-{sy}", f, [(sx, "any"), (sy, "pos")]))
    for n, f, shapes in C.KEEPDIMS:
        out.append((f"keepdims/{n}", f, [(shapes[0], "any")]))
    for r in ["sum", "mean", "prod", "max", "min", "msum", "mmean"]:
        for an in ["None", "0", "1", "m1", "01", "12"]:
            for kd in ("nokd", "kd"):
                out.append((f"reduce/{r}-axis{an}-{kd}-3d", getattr(C, f"red_{r}_{an}_{kd}"),
                            [((2, 3, 2), "pos")]))
    for n, f, a, b in C.PRODUCTS:
        out.append((f"products/{n}", f, [(a, "any"), (b, "any")]))
    for n, f, shapes in C.SHAPE_OPS:
        out.append((f"shape/{n}", f, [(s, "any") for s in shapes]))
    for n, f, shape in C.INDEX_READS:
        out.append((f"index/{n}", f, [(shape, "any")]))
    for n, f, specs in C.MISC:
        out.append((f"misc/{n}", f, specs))
    for n, f, specs in C.LOOPS:
        out.append((f"loops/{n}", f, specs))
    for n, f, specs, _ in _DIFFERENTIATED_WRITES:
        out.append((f"writes/{n}", f, specs))
    params = []
    for key, f, specs in out:
        if key in VALUE_UNSUPPORTED:
            continue
        marks = [xfail_bug(KNOWN[key])] if key in KNOWN else []
        params.append(pytest.param(f, specs, id=key, marks=marks))
    return params


def value_grad(f, args):
    """Gradient of f by the Value engine: object arrays of Value, run f, backward()."""
    leaves, vargs = [], []
    for a in args:
        if isinstance(a, np.ndarray):
            vs = [Value(float(t)) for t in a.ravel()]
            leaves.append((a.shape, vs))
            vargs.append(np.array(vs, dtype=object).reshape(a.shape))
        else:
            v = Value(float(a))
            leaves.append(((), [v]))
            vargs.append(v)
    out = f(*vargs)
    if isinstance(out, np.ndarray):
        out = out.item()
    out.backward()
    return [np.array([v.grad for v in vs]).reshape(shape) if shape != () else vs[0].grad
            for shape, vs in leaves]


@pytest.mark.parametrize("fn,specs", _value_cases())
def test_against_value_engine(fn, specs):
    args = make_args(specs, seed=43)
    expected = value_grad(fn, _copy(args))
    got = as_tuple(symgrad.grad(fn)(*_copy(args)), len(args))
    for k, (a, g, e) in enumerate(zip(args, got, expected)):
        assert isinstance(g, np.ndarray) == isinstance(a, np.ndarray)
        assert np.shape(g) == np.shape(a)
        np.testing.assert_allclose(np.asarray(g, dtype=float), e, rtol=1e-9, atol=1e-12,
                                   err_msg=f"gradient {k}")


def test_value_engine_reference_is_itself_right():
    """The object-array Value reference agrees with finite differences (on a program with writes)."""
    args = make_args([((3, 4), "any")], seed=1)
    np.testing.assert_allclose(value_grad(C.w_2d_elem, _copy(args[:1]))[0] if False else
                               value_grad(C.w_col_scale, _copy(args))[0],
                               fd_grad(C.w_col_scale, args, 0), rtol=RTOL, atol=1e-7)


# ================================================================ realistic programs

@pytest.mark.parametrize("fn,specs", cases("models", C.MODELS))
def test_models(fn, specs):
    assert_grads(fn, make_args(specs, seed=47))


def test_least_squares_closed_form():
    x, A, b = make_args([((3,), "any"), ((6, 3), "any"), ((6,), "any")], seed=53)
    dx, dA, db = symgrad.grad(C.least_squares)(x, A, b)
    r = A @ x - b
    np.testing.assert_allclose(dx, A.T @ r, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dA, np.outer(r, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, -r, rtol=1e-12, atol=1e-12)


def test_logistic_regression_closed_form():
    w, b, X, y = make_args([((3,), "any"), ((), "any"), ((8, 3), "any"), ((8,), "unit")], seed=59)
    y = (y > 0).astype(float)
    dw, db, _, _ = symgrad.grad(C.logreg_loss)(w, b, X, y)
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    np.testing.assert_allclose(dw, X.T @ (p - y) / len(y), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db, np.mean(p - y), rtol=1e-10, atol=1e-12)


def test_softmax_cross_entropy_closed_form():
    W, X = make_args([((3, 4), "any"), ((5, 3), "any")], seed=61)
    Y = np.eye(4)[[0, 3, 1, 1, 2]]
    dW = symgrad.grad(C.softmax_xent, wrt="W")(W, X, Y)
    logits = X @ W
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(dW, X.T @ (P - Y) / 5, rtol=1e-10, atol=1e-12)


def test_softmax_cross_entropy_large_logits_stay_finite():
    W, X = make_args([((3, 4), "any"), ((5, 3), "any")], seed=67)
    Y = np.eye(4)[[0, 3, 1, 1, 2]]
    g = symgrad.grad(C.softmax_xent, wrt="W")(W * 400.0, X, Y)
    assert np.all(np.isfinite(g))


# ================================================================ forward mode and second order

@pytest.mark.parametrize("fn,shape", cases("second", C.SECOND_ORDER))
def test_jvp_equals_grad_dot_v(fn, shape):
    x, v = make_args([(shape, "any"), (shape, "any")], seed=71)
    val, tan = symgrad.jvp(fn, (x.copy(),), (v,))
    np.testing.assert_allclose(val, fn(x.copy()), rtol=1e-12)
    np.testing.assert_allclose(tan, np.sum(fd_grad(fn, [x], 0) * v), rtol=RTOL, atol=1e-7)


@pytest.mark.parametrize("fn,shape", cases("second", C.SECOND_ORDER))
def test_hvp_equals_fd_of_grad(fn, shape):
    x, v = make_args([(shape, "any"), (shape, "any")], seed=73)
    got = symgrad.hvp(fn, (x.copy(),), (v,))
    got = got[0] if isinstance(got, tuple) else got
    g = symgrad.grad(fn)
    # reference: central difference of the (finite-difference-checked) gradient along v
    h = 1e-5
    ref = (fd_grad(fn, [x + h * v], 0, h=1e-4) - fd_grad(fn, [x - h * v], 0, h=1e-4)) / (2 * h)
    exact = (np.asarray(g(x + h * v)) - np.asarray(g(x - h * v))) / (2 * h)
    assert np.shape(got) == shape
    np.testing.assert_allclose(got, exact, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got, ref, rtol=1e-2, atol=1e-2)  # FD of FD: coarse


@pytest.mark.parametrize("fn,shape", cases("second", C.SECOND_ORDER))
def test_hessian_shape_symmetry(fn, shape):
    (x,) = make_args([(shape, "any")], seed=79)
    H_ = np.asarray(symgrad.hessian(fn)(x.copy()), dtype=float)
    n = shape[0]
    assert H_.shape == (n, n)
    np.testing.assert_allclose(H_, H_.T, rtol=1e-9, atol=1e-9)
    g = symgrad.grad(fn)
    h = 1e-5
    cols = [(np.asarray(g(x + h * e)) - np.asarray(g(x - h * e))) / (2 * h) for e in np.eye(n)]
    np.testing.assert_allclose(H_, np.array(cols).T, rtol=1e-6, atol=1e-6)


def test_hessian_of_quadratic_is_exact():
    (x,) = make_args([((3,), "any")], seed=83)
    A = np.arange(1.0, 10.0).reshape(3, 3)
    H_ = np.asarray(symgrad.hessian(C.so_quad_lit)(x), dtype=float)
    np.testing.assert_allclose(H_, A + A.T + np.diag(6.0 * x), rtol=1e-12, atol=1e-12)


def test_jvp_two_array_arguments():
    W, x, dW, dx = make_args([((3, 4), "any"), ((4,), "any"), ((3, 4), "any"), ((4,), "any")],
                             seed=89)
    _, tan = symgrad.jvp(C.source_mlp, (W, x), (dW, dx))
    gW, gx = fd_grad(C.source_mlp, [W, x], 0), fd_grad(C.source_mlp, [W, x], 1)
    np.testing.assert_allclose(tan, np.sum(gW * dW) + np.sum(gx * dx), rtol=RTOL, atol=1e-7)


def test_hvp_two_array_arguments():
    W, x, dW, dx = make_args([((3, 4), "any"), ((4,), "any"), ((3, 4), "any"), ((4,), "any")],
                             seed=97)
    hW, hx = symgrad.hvp(C.source_mlp, (W, x), (dW, dx))
    g = symgrad.grad(C.source_mlp)
    h = 1e-5
    (pW, px), (mW, mx) = g(W + h * dW, x + h * dx), g(W - h * dW, x - h * dx)
    assert np.shape(hW) == W.shape and np.shape(hx) == x.shape
    np.testing.assert_allclose(hW, (pW - mW) / (2 * h), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hx, (px - mx) / (2 * h), rtol=1e-6, atol=1e-6)


# ================================================================ generated source is numpy

def test_generated_source_is_numpy():
    W, x = make_args([((3, 4), "any"), ((4,), "any")], seed=101)
    g = symgrad.grad(C.source_mlp)
    g(W, x)
    src = g.source
    assert "W.T @" in src or "np.outer" in src
    assert not re.search(r"^\s*for\b", src, re.M), src
    assert "# grad of:" in src


def test_generated_source_sums_broadcast_axes():
    x, b = make_args([((3, 4), "any"), ((4,), "any")], seed=103)
    g = symgrad.grad(C.bc_add)
    g(x, b)
    assert not re.search(r"^\s*for\b", g.source, re.M), g.source
    assert "np.sum" in g.source or "sum_like" in g.source or "unbroadcast" in g.source


# ================================================================ errors

def _line_of(fn, needle):
    import inspect
    lines, start = inspect.getsourcelines(fn)
    return start + next(k for k, t in enumerate(lines) if needle in t)


@pytest.mark.parametrize("fn,args,needle", [
    pytest.param(C.bug_returns_array, (np.ones(3),), "return np.exp(x)", id="np_exp"),
    pytest.param(C.bug_returns_array_assigned, (np.ones(3),), "return y", id="assigned"),
    pytest.param(C.bug_returns_matvec, (np.ones((3, 2)), np.ones(2)), "return W @ x", id="matvec"),
    pytest.param(C.u_exp, (np.ones(3), np.ones(3)), None, id="scalar_ok_control"),
])
def test_grad_of_array_valued_function_is_refused(fn, args, needle):
    if needle is None:  # control: a scalar function is accepted
        symgrad.grad(fn)(*args)
        return
    with pytest.raises(symgrad.NonScalarError) as info:
        symgrad.grad(fn)(*args)
    assert f"line {_line_of(fn, needle)}" in str(info.value)


@pytest.mark.parametrize("fn,args,call,needle", [
    pytest.param(C.unsupported_tensorsolve, (np.eye(2) * 2.0, np.ones(2)), "tensorsolve",
                 "np.linalg.tensorsolve(A, b", id="linalg_tensorsolve"),
    pytest.param(C.unsupported_eigvals, (np.eye(2) * 2.0,), "eigvals",
                 "np.linalg.eigvals(x)", id="linalg_eigvals"),
])
def test_unsupported_numpy_call_is_refused_clearly(fn, args, call, needle):
    with pytest.raises(symgrad.SymgradError) as info:
        symgrad.grad(fn)(*args)
    msg = str(info.value)
    assert call in msg
    assert "register_array_rule" in msg
    assert f"line {_line_of(fn, needle)}" in msg
    assert "__wrapped__" not in msg


def test_unsupported_numpy_call_raises_a_symgrad_error():
    """The part that already holds: a SymgradError, never a raw crash."""
    with pytest.raises(symgrad.SymgradError):
        symgrad.grad(C.unsupported_tensorsolve)(np.eye(2) * 2.0, np.ones(2))


def test_axis_computed_from_data_is_refused_with_line():
    """An axis that depends on the values (not a parameter: see test_fixed_args.py)."""
    def f(x):
        axis = int(x[0, 0] > 0)
        return np.sum(np.sin(np.sum(x, axis=axis)))
    with pytest.raises(symgrad.SymgradError) as info:
        symgrad.grad(f)(np.ones((2, 3)))
    assert "axis" in str(info.value) and "test_arrays.py" in str(info.value)


def test_closure_constant_axis_is_read_when_transformed():
    def make(axis):
        def f(x):
            return np.sum(np.sin(np.sum(x, axis=axis)))
        return f
    x = np.arange(6.0).reshape(2, 3) / 7.0
    for axis in (0, 1):
        want = np.broadcast_to(np.expand_dims(np.cos(np.sum(x, axis=axis)), axis), x.shape)
        np.testing.assert_allclose(symgrad.grad(make(axis))(x), want, rtol=1e-12)


# ================================================================ minimal reproducers of fixed bugs, and refusals

# Once silently wrong (a write through a numpy view or alias, read through the other name):
# now refused with the line, which is what symgrad promises instead of a wrong gradient.
VIEW_WRITES = [
    ("alias_arg", C.bug_alias_arg, [((3,), "any")],
     "a write through y = x (y[0] = ...) is not seen through x: wrong gradient"),
    ("alias_local", C.bug_alias_local, [((3,), "any")],
     "a write through z = y (a local alias) is not seen through y: wrong gradient"),
    ("reshape_view_write", C.bug_reshape_view_write, [((2, 2), "any")],
     "y = x.reshape(-1); y[0] = 10.0 is not seen through x: wrong gradient"),
    ("row_loop_view_write", C.bug_row_loop_view_write, [((2, 2), "any")],
     "for row in W: row *= 2.0 is not seen through W: wrong gradient"),
    ("alias_iadd", C.bug_alias_iadd, [((3,), "any")],
     "y = x; y += 1.0 is not seen through x: wrong gradient"),
]

# Once bugs, fixed: kept as tests against finite differences.
FIXED = [
    ("slice_iadd_row", C.bug_slice_iadd_row, [((3, 2), "any")],
     "y[1:, :] += x[0]: the generated code was a Python SyntaxError"),
    ("tensordot_list_axes", C.bug_tensordot_lists, [((3, 2), "any"), ((4, 3), "any")],
     "tensordot(axes=([0], [1])): a literal refused as 'computed when the function runs'"),
    ("pow_param", C.bug_pow_param, [((3,), "pos"), ((), "any")],
     "x ** p with p differentiated: TypeError only 0-dimensional arrays can be converted"),
    ("range_index_list", C.bug_range_index, [((3,), "any")],
     "x[i] in a for-range loop: the gradient of an ndarray was a Python list"),
    ("slice", C.bug_slice, [((5,), "any")], "x[1:3] crashes: KindError array is not a list"),
    ("len_then_shape", C.bug_len_then_size, [((2, 3), "any")],
     "n = len(x); ... x.shape[1]: AssertionError no rule for getattr"),
    ("np_multiply", C.bug_multiply, [((3,), "any"), ((3,), "any")],
     "np.multiply (and np.add, np.subtract, np.divide) has no derivative rule"),
    ("branch_writes", C.bug_branch_writes, [((3,), "pos")],
     "writes in both arms of an if on np.sum(x): KindError list[num] and array"),
]


@pytest.mark.parametrize("fn,specs", [pytest.param(f, s, id=i) for i, f, s, _ in VIEW_WRITES])
def test_write_through_view_is_refused(fn, specs):
    with pytest.raises(symgrad.SymgradError) as info:
        symgrad.grad(fn)(*make_args(specs, seed=107))
    assert "shares memory" in str(info.value) and "array_cases.py" in str(info.value)


@pytest.mark.parametrize("fn", [C.bug_fancy_set_repeat, C.bug_fancy_iadd_repeat,
                                C.w_fancy_add_repeat])
def test_repeated_fancy_index_write_is_refused(fn):
    """numpy keeps the last of repeated writes y[[0, 0]] = v; symgrad refuses when it runs
    (once silently wrong)."""
    with pytest.raises(ValueError, match="repeated index"):
        symgrad.grad(fn)(np.array([0.5, 2.0, 1.0, 0.3])[:2 if fn is not C.w_fancy_add_repeat
                                                          else 4])


def test_add_at_tuple_index_differentiated():
    """np.add.at(y, (idx,), x) adds every write (once a 0.0 gradient)."""
    assert_grads(C.bug_add_at_tuple, make_args([((2,), "any")], seed=107))


@pytest.mark.parametrize("fn,specs", [pytest.param(f, s, id=i) for i, f, s, _ in FIXED])
def test_fixed_reproducer(fn, specs):
    assert_grads(fn, make_args(specs, seed=107))


def test_gradient_call_leaves_the_argument_as_passed():
    """f writes into its argument; the gradient call does not (the design, as for lists:
    it restores what it overwrote)."""
    x = np.array([1.0, 2.0, 3.0])
    y = x.copy()
    C.bug_mutates_arg(y)
    assert y.tolist() != [1.0, 2.0, 3.0]            # f itself writes
    symgrad.grad(C.bug_mutates_arg)(x)
    assert x.tolist() == [1.0, 2.0, 3.0]


def test_fixed_reproducer_forward_mode_runtime_shape():
    """constant.reshape(x.shape[0], x.shape[0]) (once refused by jvp)."""
    x = np.array([0.1, 0.2, 0.3])
    _, tan = symgrad.jvp(C.so_quad, (x,), (np.ones(3),))
    np.testing.assert_allclose(tan, np.sum(fd_grad(C.so_quad, [x], 0)), rtol=RTOL)


def test_hvp_with_writes():
    x, v = make_args([((3,), "any"), ((3,), "any")], seed=109)
    got = symgrad.hvp(C.hvp_local_writes, (x.copy(),), (v,))
    g, h = symgrad.grad(C.hvp_local_writes), 1e-5
    np.testing.assert_allclose(got, (g(x + h * v) - g(x - h * v)) / (2 * h), rtol=1e-6, atol=1e-6)


def test_writes_gradient_matches_fd_before_hvp():
    """Control for the hvp reproducer: grad of the same program is right."""
    assert_grads(C.hvp_local_writes, make_args([((3,), "any")], seed=109))


@pytest.mark.parametrize("fn,specs", [
    pytest.param(C.aw_col_iadd_float, [((2, 2), "any"), ((), "any")], id="col_iadd_float_arg"),
    pytest.param(C.aw_elem_iadd_float, [((2,), "any"), ((), "any")], id="elem_iadd_float_arg"),
    pytest.param(C.aw_col_imul_elem, [((3, 2), "pos")], id="col_imul_own_element"),
])
def test_augmented_writes_with_scalars(fn, specs):
    """Augmented writes whose right side is a float argument or an element of the array itself."""
    assert_grads(fn, make_args(specs, seed=113))


def test_reproducer_controls_pass():
    """The neighbours of the reproducers that work (so each reproducer is minimal)."""
    assert_grads(C.i_block, make_args([((3, 4), "any")], seed=1))       # 2-D tuple slice works
    assert_grads(C.p_tensordot_pairs.__globals__["p_tensordot1"], make_args([((2, 3), "any"), ((3, 4), "any")]))
    assert_grads(C.w_fancy_set, make_args([((5,), "any")]))            # distinct indices work
    with pytest.raises(symgrad.SymgradError):                           # r = x[0]; r[0] = ...
        symgrad.grad(C.row_view_write)(*make_args([((2, 2), "any")]))  # then x read: refused
    assert_grads(C.u_power, make_args([((3,), "pos"), ((3,), "any")]))  # constant exponent works


# ================================================================ x ** y with the exponent differentiated

def pw_sin(x, y):
    return np.sum(np.sin(x ** y))


def pw_rev(x, y):
    return np.sum(y ** x * x)


def pw_chain(x, y):
    z = x ** (y * y)
    return np.sum(z * np.log(x)) + np.sum(2.0 ** y)


def pw_param_twice(x, p):
    return np.sum(x ** p + x ** (2.0 * p))


POW_CASES = [
    ("array_array", pw_sin, [((3, 4), "pos"), ((3, 4), "any")]),
    ("row_exponent", pw_sin, [((3, 4), "pos"), ((4,), "any")]),
    ("col_row", pw_sin, [((3, 1), "pos"), ((1, 4), "any")]),
    ("3d_base", pw_sin, [((2, 3, 1), "pos"), ((3, 4), "any")]),
    ("float_exponent", pw_sin, [((3, 4), "pos"), ((), "any")]),
    ("float_base", pw_sin, [((), "pos"), ((3, 4), "any")]),
    ("array_base_is_exponent", pw_rev, [((3,), "any"), ((2, 3), "pos")]),
    ("chain", pw_chain, [((2, 3), "pos"), ((3,), "unit")]),
    ("param_twice", pw_param_twice, [((5,), "pos"), ((), "unit")]),
]


def _direction(args, i, seed):
    v = make_args([(np.shape(args[i]), "any")], seed=seed)[0]
    return tuple(v if k == i else (np.zeros_like(a) if isinstance(a, np.ndarray) else 0.0)
                 for k, a in enumerate(args))


@pytest.mark.parametrize("fn,specs", [pytest.param(f, s, id=i) for i, f, s in POW_CASES])
def test_pow_with_differentiated_exponent(fn, specs):
    """d(x ** y)/dy = x ** y * log(x), summed back to y's shape (a float, a row ...)."""
    for seed in (1, 2):
        assert_grads(fn, make_args(specs, seed=seed))


@pytest.mark.parametrize("fn,specs", [pytest.param(f, s, id=i) for i, f, s in POW_CASES])
def test_pow_with_differentiated_exponent_jvp_hvp(fn, specs):
    args = make_args(specs, seed=3)
    g, h = symgrad.grad(fn), 1e-5
    for i in range(len(args)):
        tangents = _direction(args, i, seed=4 + i)
        _, tan = symgrad.jvp(fn, tuple(_copy(args)), tangents)
        np.testing.assert_allclose(tan, np.sum(fd_grad(fn, args, i) * tangents[i]),
                                   rtol=RTOL, atol=1e-7)
        got = symgrad.hvp(fn, tuple(_copy(args)), tangents)
        plus = [a + h * t for a, t in zip(args, tangents)]
        minus = [a - h * t for a, t in zip(args, tangents)]
        for k, (gp, gm) in enumerate(zip(g(*plus), g(*minus))):
            assert np.shape(got[k]) == np.shape(args[k])
            np.testing.assert_allclose(got[k], (np.asarray(gp) - np.asarray(gm)) / (2 * h),
                                       rtol=1e-5, atol=1e-6, err_msg=f"hvp {k} along {i}")


def test_pow_exponent_gradient_conventions_at_zero_and_negative_base():
    """As for numbers: d/dy is 0 where x == 0 and nan where x < 0 (x ** y itself is nan
    there for a non-integer y); d/dx stays finite where y == 0."""
    x = np.array([0.0, 2.0, -1.5, 3.0])
    y = np.array([2.0, 0.5, 2.0, 0.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        dx, dy = symgrad.grad(lambda_pow)(x, y)
    np.testing.assert_allclose(dx, [0.0, 0.5 / np.sqrt(2.0), -3.0, 0.0])
    assert dy[0] == 0.0 and np.isnan(dy[2])
    np.testing.assert_allclose(dy[[1, 3]], [np.sqrt(2.0) * np.log(2.0), np.log(3.0)])


def lambda_pow(x, y):
    return np.sum(x ** y)


def test_pow_exponent_source_is_numpy():
    g = symgrad.grad(pw_sin)
    g(*make_args([((3, 4), "pos"), ((4,), "any")]))
    assert "np.log(x)" in g.source and "math.log" not in g.source
    assert "np.sum(" in g.source and "axis=0" in g.source


# ================================================================ tensordot with axes given as lists

def td_lists_2(a, b):
    return np.sum(np.sin(np.tensordot(a, b, axes=([1, 0], [0, 2]))))


def td_tuples_swapped(a, b):
    return np.sum(np.sin(np.tensordot(a, b, axes=((0, 1), (1, 0)))))


def td_lists_neg(a, b):
    return np.sum(np.tensordot(a, b, axes=[[-1], [0]]) ** 2)


def td_lists_mixed(a, b):
    return np.sum(np.cos(np.tensordot(a, b, axes=([2], (1,)))))


def td_lists_empty(a, b):
    return np.sum(np.tanh(np.tensordot(a, b, axes=([], []))))


def td_list_from_earlier_line(a, b):
    ax = [0]
    return np.sum(np.tensordot(a, b, axes=(ax, [1])))


def tr_list_axes(x):
    return np.sum(np.transpose(x, [2, 0, 1]) * np.arange(24.0).reshape([4, 2, 3]))


TENSORDOT_LISTS = [
    ("pairs_two_axes", td_lists_2, [((3, 2, 4), "any"), ((2, 5, 3), "any")]),
    # pairs not in increasing order, every shape square: once a silently transposed gradient
    ("swapped_pairs_square", td_tuples_swapped, [((3, 3, 2), "any"), ((3, 3, 4), "any")]),
    ("negative_axis_list_of_lists", td_lists_neg, [((2, 3), "any"), ((3, 4), "any")]),
    ("list_and_tuple", td_lists_mixed, [((2, 3, 4), "any"), ((5, 4), "any")]),
    ("outer_empty_lists", td_lists_empty, [((2, 3), "any"), ((3,), "any")]),
    ("transpose_reshape_lists", tr_list_axes, [((2, 3, 4), "any")]),
]


@pytest.mark.parametrize("fn,specs", [pytest.param(f, s, id=i) for i, f, s in TENSORDOT_LISTS])
def test_axes_and_shapes_given_as_lists(fn, specs):
    args = make_args(specs, seed=127)
    assert_grads(fn, args)
    tangents = make_args([(np.shape(a), "any") for a in args], seed=131)
    _, tan = symgrad.jvp(fn, tuple(args), tuple(tangents))
    ref = sum(np.sum(fd_grad(fn, args, i) * t) for i, t in enumerate(tangents))
    np.testing.assert_allclose(tan, ref, rtol=RTOL, atol=1e-7)


def test_axes_list_made_on_an_earlier_line_is_refused():
    """A list variable may change between its line and the call: refused, not guessed."""
    with pytest.raises(symgrad.SymgradError) as info:
        symgrad.grad(td_list_from_earlier_line)(*make_args([((3, 2), "any"), ((4, 3), "any")]))
    assert "axes" in str(info.value) and "test_arrays.py" in str(info.value)


# ================================================================ np.add.at with a plain index

def at_rows(x, W):
    y = np.zeros((3, 4))
    np.add.at(y, np.array([2, 0, 2, 2]), W * x[0])
    return np.sum(np.tanh(y) * np.arange(12.0).reshape(3, 4))


def at_pairs(x, W):
    y = np.ones((3, 4)) * x[1]
    np.add.at(y, (np.array([0, 0, 2]), np.array([1, 1, 3])), x[:3] ** 2)
    return np.sum(np.sin(y) * W[:3, :])


def at_list_index(x, W):
    y = np.zeros(5)
    np.add.at(y, [4, 1, 4, 4], x * x[0])
    return np.sum(np.cos(y[:4]) * W[0]) + y[4] * W[1, 1]


def at_scalar_value(x, W):
    y = x * 1.0
    np.add.at(y, np.array([1, 1, 3]), x[0] * W[2, 2])
    return np.sum(y ** 3)


def at_row_broadcast(x, W):
    y = np.zeros((3, 4))
    np.add.at(y, np.array([1, 1]), x)
    return np.sum(np.exp(0.3 * y) * W[:3, :])


def at_in_loop(x, W):
    y = np.zeros(3)
    for k in range(3):
        np.add.at(y, np.array([k, 0, k]), x[k:k + 2] @ W[k:k + 2, :3])
    return np.sum(np.sin(y) * np.array([1.0, -2.0, 3.0]))


ADD_AT = [
    ("rows_repeated", at_rows),
    ("row_col_pairs", at_pairs),
    ("python_list_index", at_list_index),
    ("one_number_to_three_slots", at_scalar_value),
    ("vector_broadcast_to_rows", at_row_broadcast),
    ("in_a_loop", at_in_loop),
]


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f in ADD_AT])
def test_add_at_plain_index_against_finite_differences(fn):
    """np.add.at(y, idx, v): every repeat of an index adds (and gets d_y there)."""
    args = make_args([((4,), "any"), ((4, 4), "any")], seed=137)
    if fn is at_rows:
        args[1] = args[1][:1].reshape(1, 4) * np.ones((4, 1)) + args[1]
    assert_grads(fn, args)
    tangents = make_args([((4,), "any"), ((4, 4), "any")], seed=139)
    _, tan = symgrad.jvp(fn, tuple(_copy(args)), tuple(tangents))
    ref = sum(np.sum(fd_grad(fn, args, i) * t) for i, t in enumerate(tangents))
    np.testing.assert_allclose(tan, ref, rtol=RTOL, atol=1e-7)
    g, h = symgrad.grad(fn), 1e-5
    got = symgrad.hvp(fn, tuple(_copy(args)), tuple(tangents))
    plus = g(*[a + h * t for a, t in zip(args, tangents)])
    minus = g(*[a - h * t for a, t in zip(args, tangents)])
    for k in range(2):
        np.testing.assert_allclose(got[k], (plus[k] - minus[k]) / (2 * h), rtol=1e-5, atol=1e-6)


def test_add_at_plain_index_leaves_arguments():
    x = np.array([0.5, -1.0, 2.0, 0.25])
    before = x.copy()
    symgrad.grad(at_scalar_value)(x, np.ones((4, 4)))
    assert np.array_equal(x, before)


# ================================================================ forward mode: tangents of arrays written in place

def fw_alias_then_write(x):
    y = x + 1.0
    y[0] = 5.0 * x[1]
    return np.sum(y * y) + np.sum(x * x * x)


def fw_broadcast_then_write(x):
    y = np.ones(3) * x[1]
    y[0] = 5.0 * x[2]
    return np.sum(y * y * x)


def fw_constant_then_write(x):
    y = np.arange(3.0) * 2.0
    y[1] = np.sin(x[0])
    return np.sum(y * x)


def fw_write_in_loop(x):
    y = x * 1.0
    for k in range(2):
        y[k + 1] = y[k] * x[k]
    return np.sum(y ** 2)


@pytest.mark.parametrize("fn", [fw_alias_then_write, fw_broadcast_then_write,
                                fw_constant_then_write, fw_write_in_loop])
def test_forward_tangent_of_array_written_in_place_is_its_own(fn):
    """Once silently wrong (t_y = t_x, then t_y[0] = ... changed t_x too) or a crash
    (a write into a read-only np.broadcast_to view)."""
    x, v = make_args([((3,), "any"), ((3,), "any")], seed=149)
    v0 = v.copy()
    _, tan = symgrad.jvp(fn, (x.copy(),), (v,))
    np.testing.assert_allclose(tan, np.sum(fd_grad(fn, [x], 0) * v0), rtol=RTOL, atol=1e-7)
    assert np.array_equal(v, v0)
    got = symgrad.hvp(fn, (x.copy(),), (v,))
    g, h = symgrad.grad(fn), 1e-5
    np.testing.assert_allclose(got, (g(x + h * v) - g(x - h * v)) / (2 * h), rtol=1e-5, atol=1e-6)


# ================================================================ shapes computed when the function runs

def rt_reshape_active(x):
    n = x.shape[0]
    M = x.reshape(n // 2, 2)
    return np.sum(np.sin(M) @ np.array([1.0, -2.0])) + np.sum(M[:, 0] * M[:, 1])


def rt_reshape_function_minus_one(x):
    M = np.reshape(x * x, (2, -1))
    return np.sum(np.tanh(M) * np.arange(x.size).reshape(2, x.size // 2))


def rt_broadcast_rows(x, W):
    B = np.broadcast_to(x, (W.shape[0], x.shape[0]))
    return np.sum(np.cos(B * W))


def rt_whole_shape_variable(x, W):
    s = W.shape
    t = np.sum(W)
    return np.sum(np.sin(x.reshape(s)) * W) + t


def rt_constant_matrix(x):
    n = x.shape[0]
    A = np.arange(1.0, 1.0 + n * n).reshape(n, n) / 10.0
    return x @ A @ x + np.sum(np.sin(x) * x)


RUNTIME_SHAPES = [
    ("reshape_active", rt_reshape_active, [((6,), "any")]),
    ("reshape_function_minus_one", rt_reshape_function_minus_one, [((6,), "any")]),
    ("broadcast_rows", rt_broadcast_rows, [((3,), "any"), ((4, 3), "any")]),
    ("whole_shape_variable", rt_whole_shape_variable, [((6,), "any"), ((2, 3), "any")]),
    ("constant_matrix", rt_constant_matrix, [((4,), "any")]),
]


@pytest.mark.parametrize("fn,specs", [pytest.param(f, s, id=i) for i, f, s in RUNTIME_SHAPES])
def test_runtime_shape_grad_jvp_hvp_hessian(fn, specs):
    args = make_args(specs, seed=151)
    assert_grads(fn, args)
    tangents = make_args(specs, seed=157)
    _, tan = symgrad.jvp(fn, tuple(_copy(args)), tuple(tangents))
    ref = sum(np.sum(fd_grad(fn, args, i) * t) for i, t in enumerate(tangents))
    np.testing.assert_allclose(tan, ref, rtol=RTOL, atol=1e-7)
    g, h = symgrad.grad(fn), 1e-5
    got = as_tuple(symgrad.hvp(fn, tuple(_copy(args)), tuple(tangents)), len(args))
    plus = as_tuple(g(*[a + h * t for a, t in zip(args, tangents)]), len(args))
    minus = as_tuple(g(*[a - h * t for a, t in zip(args, tangents)]), len(args))
    for k in range(len(args)):
        np.testing.assert_allclose(got[k], (plus[k] - minus[k]) / (2 * h), rtol=1e-5, atol=1e-6)
    if len(args) == 1:
        H_ = np.asarray(symgrad.hessian(fn)(args[0].copy()), dtype=float)
        np.testing.assert_allclose(H_, H_.T, rtol=1e-9, atol=1e-9)


def rt_write_through_runtime_reshape(x):
    y = x * 1.0
    v = y.reshape(x.shape[0] // 2, 2)
    v[0, 0] = 10.0
    return np.sum(y * x)


def rt_write_through_reshape_like(x, W):
    y = x * 1.0
    v = y.reshape(W.shape)
    v[0, 0] = 10.0
    return np.sum(y * x)


@pytest.mark.parametrize("fn,specs", [
    pytest.param(rt_write_through_runtime_reshape, [((4,), "any")], id="runtime_dims"),
    pytest.param(rt_write_through_reshape_like, [((4,), "any"), ((2, 2), "any")],
                 id="shape_of_another_array"),
])
def test_write_through_runtime_reshape_view_is_refused(fn, specs):
    """y.reshape(n, 2) and y.reshape(W.shape) are views of y, as y.reshape(2, 2) is."""
    with pytest.raises(symgrad.SymgradError) as info:
        symgrad.grad(fn)(*make_args(specs, seed=163))
    assert "shares memory" in str(info.value)


def test_runtime_shape_source_reads_as_written():
    g = symgrad.grad(rt_constant_matrix)
    g(np.ones(3))
    assert ".reshape(n, n)" in g.source


# ================================================================ boolean masks

def mk_sum(x, W):
    return np.sum(x[x > 0.1]) + np.sum(W[W < 0.0] * 2.0)


def mk_mean(x, W):
    return np.mean(x[x > 0.1]) * np.sum(W)


def mk_squares(x, W):
    return np.sum(np.sin(x[x > 0.1]) ** 2) + np.sum(W[W != W[0, 0]] ** 3)


def mk_rows(x, W):
    return np.sum(np.tanh(W[W[:, 0] > 0.0]) * x[:3])


def mk_mask_variable(x, W):
    m = x > 0.1
    y = x * 2.0
    m = y < 1.0
    return np.sum(y[m] * x[m]) + np.sum(W[0] ** 2)


def mk_written_back(x, W):
    y = W * 1.0
    y[y > 0.2] = 0.5 * y[y > 0.2] ** 2
    return np.sum(y * W) + np.sum(x[1:4] * y[0])


def mk_var_std(x, W):
    return np.var(x[x > -0.5]) + np.std(W[W > -0.5])


MASKS = [("sum", mk_sum), ("mean", mk_mean), ("squares", mk_squares), ("rows", mk_rows),
         ("mask_variable", mk_mask_variable), ("written_back", mk_written_back),
         ("var_std", mk_var_std)]


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f in MASKS])
def test_boolean_mask_reads_against_finite_differences(fn):
    """x[x > c]: the adjoint adds at the picked elements (np.where(m, s, 0.0) when it is
    one number, d_x[m] += g otherwise; a mask picks each element at most once)."""
    args = make_args([((5,), "any"), ((4, 3), "any")], seed=167)
    assert_grads(fn, args)
    tangents = make_args([((5,), "any"), ((4, 3), "any")], seed=173)
    _, tan = symgrad.jvp(fn, tuple(_copy(args)), tuple(tangents))
    ref = sum(np.sum(fd_grad(fn, args, i) * t) for i, t in enumerate(tangents))
    np.testing.assert_allclose(tan, ref, rtol=RTOL, atol=1e-7)
    g, h = symgrad.grad(fn), 1e-5
    got = symgrad.hvp(fn, tuple(_copy(args)), tuple(tangents))
    plus = g(*[a + h * t for a, t in zip(args, tangents)])
    minus = g(*[a - h * t for a, t in zip(args, tangents)])
    for k in range(2):
        np.testing.assert_allclose(got[k], (plus[k] - minus[k]) / (2 * h), rtol=1e-5, atol=1e-6)


def test_boolean_mask_adjoint_reads_as_numpy():
    g = symgrad.grad(mk_sum)
    g(*make_args([((5,), "any"), ((4, 3), "any")]))
    assert "np.where(x > 0.1, d_out, 0.0)" in g.source
    assert "add.at" not in g.source


def mk_param_mask(x, m):
    return np.sum(x[m] ** 2)


def test_boolean_mask_given_as_argument():
    """A boolean array argument as the index (not seen to be a mask: np.add.at, still right)."""
    x = np.array([0.5, -1.0, 2.0, 0.25])
    m = np.array([True, False, True, True])
    np.testing.assert_allclose(symgrad.grad(mk_param_mask, wrt="x")(x, m), 2 * x * m)


def plain_python_on_arrays(x, w):
    y = x * w + 3.0 * x
    return (y * y).sum()


def test_function_without_numpy_calls_takes_arrays():
    """A function that calls no numpy (its arithmetic works on arrays) differentiated at
    arrays: the array gradient, not an ArgumentError about numbers."""
    x, w = make_args([((3,), "any"), ((3,), "any")], seed=111)
    assert_grads(plain_python_on_arrays, [x, w])


def test_fast_for_arrays_is_the_specialized_gradient():
    def f(x, b):
        return np.sum(np.tanh(x + b))
    g = symgrad.grad(f)
    x, b = np.array([0.1, -0.4, 0.7]), 0.5
    fast = g.fast_for(x, b)
    got, want = fast(x, b), g(x, b)
    assert np.shape(got[1]) == () and np.shape(got[0]) == (3,)
    for a, e in zip(got, want):
        np.testing.assert_allclose(a, e, rtol=1e-12)
    assert g.fast_for(0.3, 0.5) is g.fast
