"""Forward mode, vjp, Jacobians and Hessians on every program grad is tested on.

For each program of the grad corpora (tests/cases.py, the fuzzer's regressions in
reliability_cases.py, the adversarial programs of issue 11):

* ``jvp(f, x, v)`` gives ``f(x)`` and ``grad(f)(x) . v``, and agrees with a central
  finite difference of ``f`` along ``v``;
* ``hvp(f, x, v)`` agrees with a central finite difference of ``grad(f)`` along ``v``.

Functions with several outputs (tests/modes_cases.py) check ``jacfwd``, ``jacrev``,
``jacobian`` and ``vjp`` against finite differences and each other, and Hessians
against ``sympy.hessian``.
"""
from __future__ import annotations

import copy
import math
import random

import pytest
import sympy

import cases
import modes_cases as mc
import reliability_cases as rc
import test_adversarial as ta
from numeric import assert_close, finite_diff
from symgrad import (ArgumentError, NonScalarError, elementwise_grad, grad, hessian, hvp,
                     jacfwd, jacobian, jacrev, jvp, vjp)
from symgrad.modes import linearize_source


# --------------------------------------------------------------------------- the corpus

def _is_diff(a):
    if isinstance(a, bool):
        return False
    if isinstance(a, float):
        return True
    if isinstance(a, (list, tuple)):
        return len(a) > 0 and all(_is_diff(x) for x in a)
    return False


def _corpus():
    out = []
    for fn, args in cases.CASES:
        out.append((f"cases.{fn.__name__}", fn, tuple(args), None))
    for fn, args, w in cases.CASES_WRT:
        out.append((f"cases.{fn.__name__}[{w}]", fn, tuple(args), [w]))
    import test_reliability as tr
    for fn, args in tr.NESTED_EXITS:
        out.append((f"reliability.{fn.__name__}", fn, tuple(args), None))
    for c in ta.OK_CASES:
        out.append((f"adversarial.{c.name}", c.fn, tuple(c.args), ta.wrt_of(c)))
    seen, unique = set(), []
    for name, fn, args, w in out:
        key = (name, repr(args))
        if key not in seen:
            seen.add(key)
            unique.append((name, fn, args, w))
    return unique


CORPUS = _corpus()


def _params(fn):
    import inspect
    return list(inspect.signature(fn).parameters)


def _wrt(fn, args, w):
    params = _params(fn)
    if w is not None:
        return [params.index(p) for p in w]
    return [i for i, a in enumerate(args) if _is_diff(a) or isinstance(a, int) and
            not isinstance(a, bool) and False]


def _direction(like, rng):
    if isinstance(like, (list, tuple)):
        return [_direction(x, rng) for x in like]
    return rng.uniform(-1.0, 1.0)


def _zeros(like):
    if isinstance(like, (list, tuple)):
        return [_zeros(x) for x in like]
    return 0.0


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [y for v in x for y in _flat(v)]
    return [x]


def _axpy(a, x, v):
    """x + a v, leaf by leaf (lists stay lists)."""
    if isinstance(x, (list, tuple)):
        return type(x)(_axpy(a, p, q) for p, q in zip(x, v)) if isinstance(x, list) else \
            tuple(_axpy(a, p, q) for p, q in zip(x, v))
    return x + a * v


def _close(a, b, rtol, atol):
    fa, fb = _flat(a), _flat(b)
    assert len(fa) == len(fb), (a, b)
    for p, q in zip(fa, fb):
        if not (abs(p - q) <= atol + rtol * max(abs(p), abs(q))):
            return False
    return True


def _setup(name, fn, args, w):
    idx = _wrt(fn, args, w)
    if not idx:
        pytest.skip("no float parameter")          # never happens in the corpora (asserted)
    rng = random.Random(name)
    tangents = [(_direction(args[i], rng) if i in idx else _zeros(args[i]))
                if _is_diff(args[i]) else (0.0 if not isinstance(args[i], (list, tuple))
                                           else _zeros(args[i]))
                for i in range(len(args))]
    return idx, tangents


def test_corpus_is_big_and_differentiable():
    assert len(CORPUS) >= 300
    assert all(_wrt(fn, args, w) for _, fn, args, w in CORPUS)


def _shift(args, idx, tangents, eps):
    """args + eps * tangents, on copies that share lists as ``args`` does: a list
    passed twice moves by the sum of its tangents (the convention grad follows)."""
    memo = {}

    def move(x, t, do):
        if isinstance(x, tuple):
            return tuple(move(v, w, do) for v, w in zip(x, t))
        if isinstance(x, list):
            got = memo.get(id(x))
            if got is None:
                got = memo[id(x)] = [move(v, w, do) for v, w in zip(x, t)]
            elif do:
                for k, w in enumerate(t):
                    _bump(got, k, w, eps)
            return got
        return x + eps * t if do else x

    return tuple(move(a, tangents[i] if i in idx else _zeros(a), i in idx)
                 if isinstance(a, (list, tuple, float)) else a for i, a in enumerate(args))


def _bump(lst, k, w, eps):
    if isinstance(lst[k], list):
        for j, u in enumerate(w):
            _bump(lst[k], j, u, eps)
    else:
        lst[k] = lst[k] + eps * w


@pytest.mark.parametrize("name,fn,args,w", CORPUS, ids=[c[0] for c in CORPUS])
def test_jvp_is_the_gradient_along_the_tangent(name, fn, args, w):
    idx, tangents = _setup(name, fn, args, w)
    g = grad(fn, wrt=idx)(*copy.deepcopy(args))
    along = sum(a * b for i, gi in zip(idx, g) for a, b in zip(_flat(gi), _flat(tangents[i])))
    value, slope = jvp(fn, copy.deepcopy(args), tangents)
    assert value == pytest.approx(fn(*copy.deepcopy(args)), rel=1e-12, abs=1e-12)
    assert slope == pytest.approx(along, rel=1e-9, abs=1e-9), (slope, along)
    h = 1e-6
    fd = (fn(*_shift(args, idx, tangents, h)) - fn(*_shift(args, idx, tangents, -h))) / (2 * h)
    assert slope == pytest.approx(fd, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("name,fn,args,w", CORPUS, ids=[c[0] for c in CORPUS])
def test_hvp_is_the_derivative_of_the_gradient(name, fn, args, w):
    idx, tangents = _setup(name, fn, args, w)
    tv = [tangents[i] for i in idx]
    got = hvp(fn, copy.deepcopy(args), tv, wrt=idx)
    gf = grad(fn, wrt=idx)
    h = 1e-5
    plus = gf(*_shift(args, idx, tangents, h))
    minus = gf(*_shift(args, idx, tangents, -h))
    fd = [(p - m) / (2 * h) for p, m in zip(_flat(plus), _flat(minus))]
    assert _close(_flat(got), fd, 1e-4, 1e-5), (got, fd)


# --------------------------------------------------------------------------- Jacobians

def _fd_jacobian(fn, args, idx, h=1e-6):
    """J[out leaf][in leaf] by central differences."""
    ins = [(i, k) for i in idx for k in range(len(_flat(args[i])))]
    cols = []
    for i, k in ins:
        def bump(eps):
            a = list(copy.deepcopy(args))
            flat = _flat(a[i])
            flat[k] += eps
            a[i] = _refill(a[i], iter(flat))
            return fn(*a)
        cols.append([(p - m) / (2 * h) for p, m in zip(_flat(bump(h)), _flat(bump(-h)))])
    return [[cols[c][r] for c in range(len(ins))] for r in range(len(cols[0]))]


def _refill(like, it):
    if isinstance(like, list):
        return [_refill(x, it) for x in like]
    if isinstance(like, tuple):
        return tuple(_refill(x, it) for x in like)
    return next(it)


def _rows(jac, out, single, idx):
    """The Jacobian as a matrix of flat rows (one per output number)."""
    leaves_out = []

    def walk(o, j):
        if isinstance(o, (list, tuple)):
            for a, b in zip(o, j):
                walk(a, b)
        else:
            leaves_out.append(_flat(j))
    walk(out, jac)
    return leaves_out


@pytest.mark.parametrize("fn,args", mc.VECTOR, ids=[f.__name__ for f, _ in mc.VECTOR])
def test_jacobians_agree_with_finite_differences(fn, args):
    out = fn(*copy.deepcopy(args))
    idx = [i for i, a in enumerate(args) if _is_diff(a)]
    single = len(args) == 1
    want = _fd_jacobian(fn, args, idx)
    for make in (jacfwd, jacrev, jacobian):
        jac = make(fn, wrt=None if single else idx)(*copy.deepcopy(args))
        got = _rows(jac, out, single, idx)
        assert _close(got, want, 1e-5, 1e-6), (make.__name__, got, want)


@pytest.mark.parametrize("fn,args", mc.VECTOR, ids=[f.__name__ for f, _ in mc.VECTOR])
def test_vjp_pulls_back_cotangents(fn, args):
    out, pull = vjp(fn, *copy.deepcopy(args))
    assert _flat(out) == pytest.approx(_flat(fn(*copy.deepcopy(args))))
    rng = random.Random(fn.__name__)
    ct = _direction(out, rng)
    ct = tuple(ct) if isinstance(out, tuple) else ct
    ct = _retuple(out, ct)
    got = pull(ct)
    assert isinstance(got, tuple) and len(got) == len(args)
    idx = [i for i, a in enumerate(args) if _is_diff(a)]
    jac = _fd_jacobian(fn, args, idx)
    flat_ct = _flat(ct)
    want = [sum(flat_ct[r] * jac[r][c] for r in range(len(jac))) for c in range(len(jac[0]))]
    assert _close([y for i in idx for y in _flat(got[i])], want, 1e-5, 1e-6)


def _retuple(like, x):
    if isinstance(like, tuple):
        return tuple(_retuple(a, b) for a, b in zip(like, x))
    if isinstance(like, list):
        return [_retuple(a, b) for a, b in zip(like, x)]
    return x


def test_jacobian_structure_follows_jax():
    def f(x, y):
        return x * y, x + 2.0 * y
    assert jacfwd(mc.pair)(2.0, 3.0) == ((3.0, 2.0), (1.0, 1.0))
    assert jacrev(mc.pair, wrt="x")(2.0, 3.0) == (3.0, 1.0)
    assert jacfwd(mc.rows_times, wrt="xs")([1.0, 2.0], 3.0) == [[3.0, 0.0], [0.0, 3.0]]
    assert jacobian(mc.ode_rhs)(0.5, 0.0) == ((0.0, 1.0), (-9.81 * math.cos(0.5), 0.0))


def test_jacobian_auto_picks_the_cheaper_mode():
    wide = jacobian(mc.many_to_one)
    tall = jacobian(mc.one_to_many)
    assert _close(wide([0.1, 0.2, 0.3, 0.4]), jacrev(mc.many_to_one)([0.1, 0.2, 0.3, 0.4]),
                  1e-12, 1e-12)
    assert _close(tall(0.7), jacfwd(mc.one_to_many)(0.7), 1e-12, 1e-12)


# --------------------------------------------------------------------------- Hessians

SYMBOLIC = [(mc.rosen2, (0.3, -0.4)), (mc.neuron_loss, (0.5, -1.2, 0.3)),
            (mc.poly3, (1.1, 0.7, -0.4)), (cases.seed_neuron, (2.0, 0.5, -3.0, 1.0, 0.2))]


@pytest.mark.parametrize("fn,args", SYMBOLIC, ids=[f.__name__ for f, _ in SYMBOLIC])
def test_hessian_equals_sympy_hessian(fn, args):
    syms = sympy.symbols(f"a0:{len(args)}")
    expr = mc.symbolic(fn)(*syms)
    want = sympy.hessian(expr, syms)
    got = hessian(fn)(*args)
    point = dict(zip(syms, args))
    for i in range(len(args)):
        for j in range(len(args)):
            ref = float(want[i, j].subs(point))
            assert got[i][j] == pytest.approx(ref, rel=1e-10, abs=1e-10), (i, j)


def test_hessian_of_a_list_parameter_is_a_list_of_rows():
    xs = [0.3, -0.2, 0.9]
    H = hessian(mc.quadratic_form)(xs)
    A = mc.MATRIX
    assert isinstance(H, list) and all(isinstance(r, list) for r in H)
    for i in range(3):
        for j in range(3):
            assert H[i][j] == pytest.approx(A[i][j] + A[j][i], abs=1e-12)


def test_hessian_through_loops_tape_and_row_copies():
    """grad(grad(f)) used to fail on code copying rows of nested lists; the Hessian
    runs through the tape of such code."""
    m = [[0.5, -0.3], [1.2, 0.8]]
    got = hessian(mc.copies_rows, wrt="m")(m, 3)
    flat_h = _flat(got)
    gf = grad(mc.copies_rows, wrt="m")
    h = 1e-5
    n = 4
    for k in range(n):
        def bump(eps):
            a = copy.deepcopy(m)
            a[k // 2][k % 2] += eps
            return _flat(gf(a, 3))
        col = [(p - q) / (2 * h) for p, q in zip(bump(h), bump(-h))]
        assert _close([flat_h[r * n + k] for r in range(n)], col, 1e-5, 1e-6)
    assert grad(grad(mc.copies_rows_scalar))(0.7) == pytest.approx(
        hessian(mc.copies_rows_scalar)(0.7), rel=1e-12)


def test_hessian_wrt_one_parameter_and_several():
    H = hessian(mc.poly3, wrt=["x", "z"])(1.1, 0.7, -0.4)
    full = hessian(mc.poly3)(1.1, 0.7, -0.4)
    assert H == ((full[0][0], full[0][2]), (full[2][0], full[2][2]))
    assert hessian(mc.poly3, wrt="y")(1.1, 0.7, -0.4) == full[1][1]


# --------------------------------------------------------------------------- generated source

def test_jvp_source_is_a_readable_tangent_sweep():
    src = linearize_source(mc.neuron_loss, "jvp")
    assert src.startswith("def jvp_neuron_loss(w, b, x, t_w, t_b, t_x):")
    assert "# tangent of: n = w * x + b" in src
    assert "t_n = " in src and "math.tanh" in src
    lines = src.splitlines()
    assert lines.index("    # n = w * x + b") < lines.index("    # tangent of: n = w * x + b")


def test_hessian_source_is_the_tangent_sweep_of_the_gradient():
    src = hessian(mc.loop_sum).source
    assert "def jvp_d_loop_sum(" in src
    assert "t_stack" in src or "_stack" not in src
    assert "# tangent of:" in src


def test_rules_are_not_repeated_for_forward_mode():
    import symgrad.forward as fw
    text = open(fw.__file__).read()
    for name in ("math.cos", "math.exp", "1.0 -", "tanh"):
        assert name not in text


# --------------------------------------------------------------------------- errors

def test_jvp_argument_errors_are_clear():
    with pytest.raises(ArgumentError, match="tangent"):
        jvp(mc.neuron_loss, (0.5, -1.2, 0.3), (1.0, 0.0))
    with pytest.raises(ArgumentError, match="structure"):
        jvp(mc.rows_times, ([1.0, 2.0], 3.0), ([1.0], 0.0))
    with pytest.raises(ArgumentError, match="cotangent"):
        vjp(mc.pair, 1.0, 2.0)[1]((1.0,))


def test_grad_of_a_vector_function_points_to_jacobian():
    with pytest.raises(NonScalarError, match="jacobian"):
        grad(mc.pair)(1.0, 2.0)


def test_a_non_numeric_result_is_refused_by_every_mode():
    with pytest.raises(NonScalarError, match=r"modes_cases.py"):
        jvp(mc.returns_string, (1.0,), (1.0,))


# --------------------------------------------------------------------------- arguments by name

def _scaled(x, y, *, k=1.5):
    return (x * y * k, x - k * y * y)


def _quadratic(a, b, c=2.0):
    return a * a * b + c * a * math.sin(b)


def test_jacobian_and_hessian_take_arguments_by_name_as_grad_does():
    want = finite_diff(_quadratic, (0.7, -1.3, 0.4))
    assert_close(jacobian(_quadratic)(0.7, b=-1.3, c=0.4), tuple(want), what="jacobian")
    assert_close(jacobian(_quadratic)(c=0.4, b=-1.3, a=0.7), tuple(want), what="jacobian")
    assert jacobian(_quadratic)(0.7, b=-1.3) == jacobian(_quadratic)(0.7, -1.3, 2.0)
    rows = [finite_diff(lambda a, b, c: grad(_quadratic)(a, b, c)[i], (0.7, -1.3, 0.4))
            for i in range(3)]
    assert_close(hessian(_quadratic)(b=-1.3, a=0.7, c=0.4), rows, rtol=1e-4, what="hessian")
    with pytest.raises(ArgumentError, match="multiple values for argument 'a'"):
        hessian(_quadratic)(0.7, a=1.0, b=2.0)
    with pytest.raises(ArgumentError, match="missing a required argument: 'b'"):
        jacobian(_quadratic)(0.7, c=2.0)


def test_every_mode_gives_keyword_only_parameters_by_name():
    """``def f(x, y, *, k)``: the function itself is called with ``k=`` (positionally,
    ``TypeError: takes 2 positional arguments but 3 were given``)."""
    point = (0.8, -0.6, 1.5)
    cols = finite_diff(lambda x, y, k: _scaled(x, y, k=k)[0], point) + \
        finite_diff(lambda x, y, k: _scaled(x, y, k=k)[1], point)
    assert_close(jacobian(_scaled)(0.8, -0.6, k=1.5), (tuple(cols[:3]), tuple(cols[3:])),
                 what="jacobian")
    assert_close(jacrev(_scaled)(0.8, -0.6, k=1.5), jacfwd(_scaled)(0.8, -0.6, k=1.5))
    out, pull = vjp(_scaled, *point)
    assert out == _scaled(0.8, -0.6, k=1.5)
    assert_close(pull((1.0, 0.0)), tuple(cols[:3]), what="vjp")
    assert_close(pull((0.0, 1.0)), tuple(cols[3:]), what="vjp")
    value, tangent = jvp(_scaled, point, (0.0, 0.0, 1.0))
    assert value == out
    assert_close(tangent, (cols[2], cols[5]), what="jvp")


# --------------------------------------------------------------------------- elementwise_grad

def _sines(xs, k=1.5):
    return [math.sin(k * x) * x for x in xs]


def _two_outputs(x, y):
    return x * y, [x + y * y, math.exp(x)]


def test_elementwise_grad_is_the_derivative_at_each_element():
    xs = [0.3, -1.2, 2.0]
    got = elementwise_grad(_sines, wrt="xs")(xs)
    want = [(_sines([x + 1e-6])[0] - _sines([x - 1e-6])[0]) / 2e-6 for x in xs]
    assert_close(got, want, what="elementwise_grad")
    assert_close(elementwise_grad(_sines, wrt="k")(xs, k=2.0),
                 sum((_sines(xs, 2.0 + 1e-6)[i] - _sines(xs, 2.0 - 1e-6)[i]) / 2e-6
                     for i in range(3)), what="elementwise_grad wrt k")


def test_elementwise_grad_sums_the_jacobian_rows():
    jac = jacobian(_two_outputs)(0.4, -0.7)
    rows = [jac[0], jac[1][0], jac[1][1]]
    want = tuple(sum(r[i] for r in rows) for i in range(2))
    assert_close(elementwise_grad(_two_outputs)(0.4, -0.7), want, what="sum of rows")
