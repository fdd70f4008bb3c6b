"""Parameters used where symgrad needs a value before the code runs: an axis, einsum
subscripts, split sections, pad widths, a mode string passed in.  The gradient is
made for the value each call gives (one per value, like jax.jit's static_argnums,
found by symgrad itself); see symgrad/static_args.py and symgrad/fixed_call.py.

Every gradient is checked against central finite differences of the function itself,
jvp against a directional difference, vjp against u . (finite differences), hvp against
differences of the gradient; a differentiated parameter also used as a number keeps its
usual derivative."""

import numpy as np
import pytest

import symgrad
from symgrad.errors import ArgumentError, SymgradError

RNG = np.random.default_rng(7)
M = RNG.normal(size=(3, 4))
N = RNG.normal(size=(4, 2))
V = RNG.normal(size=6)


def fd(f, x, h=1e-6):
    """Central differences of the number f(x) for the array x."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


# ----------------------------------------------------------------------------- cases

def sum_axis(x, axis):
    return np.sum(np.sin(x).sum(axis=axis) ** 2)


def mean_keepdims(x, axis, keepdims):
    return np.sum(np.tanh(x) * np.mean(x, axis=axis, keepdims=keepdims))


def einsum_spec(x, y, spec):
    return np.sum(np.tanh(np.einsum(spec, x, y)) ** 2)


def split_count(x, n):
    return sum(np.sum(p ** 2) * (k + 1) for k, p in enumerate(np.split(x, n)))


def array_split_sections(x, sections):
    return sum(np.prod(p + 2.0) * (k + 1) for k, p in enumerate(np.array_split(x, sections)))


def pad_widths(x, widths, mode="constant"):
    return np.sum(np.pad(x, widths, mode) ** 3 * 0.1)


def pad_value(x, c):
    return np.sum(np.pad(x, 1, constant_values=c) ** 2)


def two_fixed(x, spec, axis):
    return np.sum(np.cumsum(np.einsum(spec, x), axis=axis) ** 2)


def _reduce(x, ax):
    return np.max(x, axis=ax) + np.sum(x ** 2, axis=ax)


def through_helper(x, axis):
    return np.sum(np.exp(_reduce(x, axis) * 0.1))


def axis_and_number(x, axis):
    # axis is also a number here: its usual derivative (np.sum(x)), not zero
    return np.sum(np.cumsum(x, axis=axis) ** 2) + axis * np.sum(x)


def shift_and_number(x, k):
    return np.sum(np.roll(x, k) * np.arange(6.0)) * k


def mode_string(x, how):
    if how == "sum":
        return np.sum(x ** 2)
    return np.max(x ** 2)


CASES = [
    (sum_axis, (M, 0), 0), (sum_axis, (M, 1), 0), (sum_axis, (M, None), 0),
    (sum_axis, (M, (0, 1)), 0), (sum_axis, (M, -1), 0),
    (mean_keepdims, (M, 1, True), 0), (mean_keepdims, (M, 0, False), 0),
    (einsum_spec, (M, N, "ij,jk->ik"), 0), (einsum_spec, (M, N, "ij,jk->ki"), 1),
    (einsum_spec, (M, N, "ij,jk->"), 0), (einsum_spec, (M, N, "ij,jk->j"), 1),
    (split_count, (V, 2), 0), (split_count, (V, 3), 0), (split_count, (V, (1, 4)), 0),
    (split_count, (V, [2, 5]), 0),
    (array_split_sections, (V, 4), 0), (array_split_sections, (V, (2,)), 0),
    (pad_widths, (M, 1), 0), (pad_widths, (M, (1, 2)), 0), (pad_widths, (M, ((0, 1), (2, 0))), 0),
    (pad_value, (M, 2.5), 0),
    (two_fixed, (M, "ij->ji", 0), 0), (two_fixed, (M, "ij->ij", 1), 0),
    (through_helper, (M, 0), 0), (through_helper, (M, 1), 0),
    (mode_string, (V, "sum"), 0), (mode_string, (V, "max"), 0),
]


def _id(case):
    fn, args, _ = case
    return f"{fn.__name__}-{args[1:]!r}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_gradient_matches_finite_differences(case):
    fn, args, i = case
    g = symgrad.grad(fn, wrt=i)(*args)
    rest = list(args)

    def at(x):
        rest[i] = x
        return fn(*rest)
    np.testing.assert_allclose(g, fd(at, np.array(args[i], dtype=float)), rtol=1e-5, atol=1e-6)


def _zero(a):
    """A zero tangent shaped like the primal ``a``."""
    if isinstance(a, np.ndarray):
        return np.zeros_like(a)
    if isinstance(a, (tuple, list)):
        return type(a)(_zero(v) for v in a)
    return 0 if isinstance(a, (int, float)) else a


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_jvp_vjp_hvp(case):
    fn, args, i = case
    x = np.array(args[i], dtype=float)
    t = RNG.normal(size=x.shape)
    rest = list(args)

    def at(z):
        rest[i] = z
        return fn(*rest)
    slope = fd(at, x)
    tangents = [_zero(a) for a in args]
    tangents[i] = t
    _, jv = symgrad.jvp(fn, args, tangents)
    assert np.isclose(jv, np.sum(slope * t), rtol=1e-5, atol=1e-6)
    if fn is pad_value:     # (c differentiated there: refused, see below)
        with pytest.raises(ArgumentError, match="constant_values"):
            symgrad.vjp(fn, *args)
    else:
        _, pull = symgrad.vjp(fn, *args)
        np.testing.assert_allclose(pull(1.5)[i], 1.5 * slope, rtol=1e-5, atol=1e-6)
    g = symgrad.grad(fn, wrt=i)
    h = 1e-5
    rest_p, rest_m = list(args), list(args)
    rest_p[i], rest_m[i] = x + h * t, x - h * t
    expect = (g(*rest_p) - g(*rest_m)) / (2 * h)
    np.testing.assert_allclose(symgrad.hvp(fn, args, (t,), wrt=i), expect, rtol=1e-4, atol=1e-5)


def test_one_gradient_per_value_and_source_of_the_last():
    def sum_axis(x, axis):          # (a function of its own: a gradient not made yet)
        return np.sum(np.sin(x).sum(axis=axis) ** 2)
    g = symgrad.grad(sum_axis, wrt=0)
    assert "made for the value of axis" in g.source
    g(M, 0)
    assert "Made for axis=0." in g.source and "sum(axis=0)" in g.source
    g(M, 1)
    assert "Made for axis=1." in g.source and "sum(axis=1)" in g.source
    assert len(g._by_values) == 2
    g(M, 0)
    assert len(g._by_values) == 2           # made once per value
    g(M, axis=1)                            # by keyword: the same one
    assert len(g._by_values) == 2


def test_value_kinds_are_told_apart():
    """1, 1.0 and True are different values: each gets its own gradient."""
    def f(x, k):
        return np.sum(np.roll(x, k) * np.arange(6.0))
    g = symgrad.grad(f, wrt=0)
    np.testing.assert_allclose(g(V, 1), np.roll(np.arange(6.0), -1))
    np.testing.assert_allclose(g(V, 2), np.roll(np.arange(6.0), -2))
    np.testing.assert_allclose(g(V, np.int64(3)), np.roll(np.arange(6.0), -3))


def test_default_value_and_keyword_call():
    g = symgrad.grad(pad_widths, wrt=0)
    np.testing.assert_allclose(g(M, 1), g(M, 1, "constant"))
    np.testing.assert_allclose(g(M, widths=(1, 2)), fd(lambda x: pad_widths(x, (1, 2)), M),
                               rtol=1e-5, atol=1e-6)


def test_fixed_parameters_in_the_gradient_are_zero_or_none():
    """With every parameter differentiated: the fixed ones' entries are constants of
    the gradient (zeros for numbers, None for strings and None)."""
    d_x, d_spec, d_axis = symgrad.grad(two_fixed)(M, "ij->ji", 0)
    np.testing.assert_allclose(d_x, fd(lambda x: two_fixed(x, "ij->ji", 0), M),
                               rtol=1e-5, atol=1e-6)
    assert d_spec is None and d_axis == 0.0
    d_x, d_axis = symgrad.grad(sum_axis)(M, (0, 1))
    assert d_axis == (0.0, 0.0)
    assert symgrad.grad(sum_axis)(M, None)[1] is None


def test_a_parameter_also_used_as_a_number_keeps_its_derivative():
    x = M.copy()
    _, d_axis = symgrad.grad(axis_and_number)(x, 1)
    assert np.isclose(d_axis, np.sum(x))
    d_x, d_k = symgrad.grad(shift_and_number)(V, 2)
    assert np.isclose(d_k, np.sum(np.roll(V, 2) * np.arange(6.0)))
    np.testing.assert_allclose(d_x, fd(lambda z: shift_and_number(z, 2), V), rtol=1e-5)
    value, slope = symgrad.jvp(shift_and_number, (V, 2), (np.zeros(6), 1.0))
    assert np.isclose(slope, np.sum(np.roll(V, 2) * np.arange(6.0)))


def test_value_and_grad_jacobian_hessian():
    vg = symgrad.value_and_grad(sum_axis, wrt=0)
    value, g = vg(M, 1)
    assert np.isclose(value, sum_axis(M, 1))
    np.testing.assert_allclose(g, fd(lambda x: sum_axis(x, 1), M), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(symgrad.jacobian(sum_axis, wrt=0)(M, 0),
                               fd(lambda x: sum_axis(x, 0), M), rtol=1e-5, atol=1e-6)
    H = symgrad.hessian(split_count, wrt=0)(V, 3)
    np.testing.assert_allclose(H, np.diag(2.0 * np.repeat([1, 2, 3], 2)), atol=1e-9)


def test_fast_for_and_fast():
    g = symgrad.grad(sum_axis, wrt=0)
    np.testing.assert_allclose(g.fast_for(M, 1)(M, 1), g(M, 1))
    with pytest.raises(SymgradError, match="fast_for"):
        g.fast


def test_a_value_that_cannot_be_fixed_is_refused():
    g = symgrad.grad(sum_axis, wrt=0)
    with pytest.raises(SymgradError, match="axis") as info:
        g(M, np.array([0]))
    assert "tuple" in str(info.value)
    with pytest.raises(SymgradError, match="axis"):
        g(M, [0, 1])            # (a list could change: an axis must be a tuple)


def test_a_number_the_result_depends_on_is_not_fixed_when_differentiated():
    """pad's constant_values is a value: fixed, its derivative would be zero."""
    with pytest.raises(ArgumentError, match="constant_values"):
        symgrad.grad(pad_value)(M, 2.5)
    with pytest.raises(ArgumentError, match="constant_values"):
        symgrad.vjp(pad_value, M, 2.5)
    d_x = symgrad.grad(pad_value, wrt=0)(M, 2.5)       # held constant: fine
    np.testing.assert_allclose(d_x, 2 * M)


def computed_axis(x, k, n):
    return np.sum(np.sum(x, axis=k - 1) ** 2) + np.sum(np.transpose(x, (n % 2, (n + 1) % 2)))


def test_an_axis_computed_from_parameters():
    """Fixed one at a time, the expression folds once all are fixed."""
    g = symgrad.grad(computed_axis, wrt=0)
    for k, n in ((1, 0), (2, 1), (0, 3)):
        np.testing.assert_allclose(g(M, k, n), fd(lambda z: computed_axis(z, k, n), M),
                                   rtol=1e-5, atol=1e-6)


def test_an_axis_computed_from_a_differentiated_parameter_stays_refused():
    """(Differentiated, the parameter stays a variable: k - 1 is not known.)"""
    def f(x, axis):
        return np.sum(np.sum(x, axis=axis - 1) ** 2)
    with pytest.raises(SymgradError, match="axis"):
        symgrad.grad(f)(M, 1)


def test_pure_python_function_is_not_changed():
    """A function with no place needing a value is made once, before any call."""
    def f(x, n):
        return sum(x ** k for k in range(n))
    g = symgrad.grad(f, wrt=0)
    assert g._result is not None
    assert np.isclose(g(2.0, 3), 1 + 2 * 2.0)


def test_list_of_a_tuple_parameter():
    """list(t) of a tuple is printed list(t) (t[:] was a tuple: a TypeError)."""
    def f(x, t):
        ys = [0.0] + list(t) + [x]
        return sum(ys) * x
    assert symgrad.grad(f)(2.0, (1.0, 3.0)) == (8.0, (2.0, 2.0))
    assert "list(t)" in symgrad.grad(f, wrt=0).source


def test_check_runs_every_engine_and_proves_the_gradient_made_for_the_values():
    from symgrad.report import PROVED
    for mode in ("grad", "jvp", "hvp"):
        r = symgrad.check(two_fixed, M[:2, :2], "ij->ji", 1, wrt="x", mode=mode)
        assert r.ok and not r.unavailable, str(r)
        if mode == "grad":
            assert r.verdicts == {"x": PROVED}, str(r)


# ----------------------------------------------------------------------------- a fuzz
# One gradient object per template, called with many values of the parameters it is
# made for, in random order: each call must run the gradient made for *its* values.

def t_sum(x, axis, keepdims):
    return np.sum(np.tanh(np.sum(x, axis=axis, keepdims=keepdims)) * 1.3)


def t_mean_var(x, axis, keepdims):
    return np.sum(np.mean(x ** 2, axis=axis, keepdims=keepdims)
                  + np.var(x, axis=axis, keepdims=keepdims))


def t_max(x, axis, keepdims):
    return np.sum(np.max(x * 1.7, axis=axis, keepdims=keepdims) ** 2)


def t_prod(x, axis, keepdims):
    return np.sum(np.prod(x + 2.5, axis=axis, keepdims=keepdims))


def t_cumsum(x, axis, keepdims):
    y = np.cumsum(x, axis=axis) if axis is not None and type(axis) is int else x
    return np.sum(np.sin(y) * np.sum(x, axis=axis, keepdims=keepdims).sum())


def t_softmax(x, axis, keepdims):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return np.sum((e / np.sum(e, axis=axis, keepdims=True)) ** 2) + np.sum(x) * keepdims


TEMPLATES = [t_sum, t_mean_var, t_max, t_prod, t_cumsum, t_softmax]
_GRADS = {t: symgrad.grad(t, wrt=0) for t in TEMPLATES}


def _axes(rank):
    single = list(range(-rank, rank))
    pairs = [(i, j) for i in range(rank) for j in range(i + 1, rank)]
    return [None] + single + pairs + [tuple(range(rank))]


try:
    from hypothesis import given, settings, strategies as st
except ImportError:         # pragma: no cover - hypothesis is a test dependency
    given = None

if given is not None:
    @st.composite
    def _calls(draw):
        t = draw(st.sampled_from(TEMPLATES))
        shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
        axis = draw(st.sampled_from(_axes(len(shape))))
        keepdims = draw(st.booleans())
        seed = draw(st.integers(0, 10 ** 6))
        return t, shape, axis, keepdims, seed

    @settings(max_examples=60, deadline=None, derandomize=True)
    @given(_calls())
    def test_fuzz_one_gradient_many_values(call):
        t, shape, axis, keepdims, seed = call
        x = np.random.default_rng(seed).normal(size=shape)
        g = _GRADS[t](x, axis, keepdims)
        slope = fd(lambda z: t(z, axis, keepdims), x)
        np.testing.assert_allclose(g, slope, rtol=1e-5, atol=1e-6)
        v = np.random.default_rng(seed + 1).normal(size=shape)
        _, jv = symgrad.jvp(t, (x, axis, keepdims), (v, _zero(axis), _zero(keepdims)))
        assert np.isclose(jv, np.sum(slope * v), rtol=1e-5, atol=1e-6)
        _, pull = symgrad.vjp(t, x, axis, keepdims)
        np.testing.assert_allclose(pull(2.0)[0], 2.0 * slope, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- functions

def act_loss(x, act=np.tanh):
    return np.sum(act(x) ** 2)


def line(p, x):
    return p[0] * x + p[1]


def mse(p, x, y, model):
    return (model(p, x) - y) ** 2


def scaled(x, f):
    return f(x) * x


def unused_flow(x, g):
    return x * 2 + g(3.0)


def test_a_function_passed_in_or_as_a_default():
    x = np.array([0.1, 0.5, -0.3])
    d_x, d_act = symgrad.grad(act_loss)(x)
    np.testing.assert_allclose(d_x, 2 * np.tanh(x) * (1 - np.tanh(x) ** 2))
    assert d_act is None
    np.testing.assert_allclose(symgrad.grad(act_loss, wrt=0)(x, np.sin),
                               2 * np.sin(x) * np.cos(x))
    assert symgrad.grad(mse, wrt=0)([2.0, 1.0], 3.0, 4.0, line) == [18.0, 6.0]
    g = symgrad.grad(scaled, wrt=0)
    assert np.isclose(g(2.0, np.exp), np.exp(2.0) * 3)
    assert np.isclose(g(2.0, lambda v: v ** 3), 32.0)
    assert np.isclose(g(2.0, np.exp), np.exp(2.0) * 3)       # (the one made for exp)
    value, slope = symgrad.jvp(scaled, (2.0, np.sin), (1.0, None))
    assert np.isclose(slope, np.cos(2.0) * 2.0 + np.sin(2.0))


def test_a_function_no_gradient_flows_through_is_called_as_it_is():
    g = symgrad.grad(unused_flow, wrt=0)
    assert g(2.0, np.sqrt) == 2.0
    assert g._result is not None            # (made once, before any call)


def test_a_callable_object_is_not_fixed():
    class Doubler:
        def __call__(self, v):
            return v * 2
    with pytest.raises(SymgradError, match="state"):
        symgrad.grad(scaled, wrt=0)(2.0, Doubler())


def plain(x, y):
    return np.sin(x) * y


def test_pickled_gradients_keep_their_form():
    """A gradient with respect to one parameter gives its gradient, not a 1-tuple,
    after pickling too (it gave a 1-tuple: pre-existing); one made per value too."""
    import pickle
    for g in (symgrad.grad(plain, wrt=0), symgrad.grad(plain, wrt="y"),
              symgrad.value_and_grad(plain, wrt=1), symgrad.grad(plain)):
        h = pickle.loads(pickle.dumps(g))
        assert repr(h(1.0, 2.0)) == repr(g(1.0, 2.0))
    g = symgrad.grad(sum_axis, wrt=0)
    h = pickle.loads(pickle.dumps(g))
    np.testing.assert_allclose(h(M, 1), g(M, 1))


def test_save_is_of_the_gradient_the_last_call_ran(tmp_path):
    def f(x, axis):
        return np.sum(np.sum(x, axis=axis) ** 2)
    g = symgrad.grad(f, wrt=0)
    with pytest.raises(SymgradError, match="fast_for"):
        g.save(str(tmp_path / "before.py"))
    g(M, 1)
    g.save(str(tmp_path / "d_f.py"))
    text = (tmp_path / "d_f.py").read_text()
    assert "Made for axis=1." in text
    ns = {}
    exec(compile(text, "d_f.py", "exec"), ns)
    np.testing.assert_allclose(ns["d_f"](M, 1), g(M, 1))


def norm_p(x, p):
    return np.linalg.norm(x, ord=p)


def std_ddof(x, ddof):
    return np.std(x, ddof=ddof)


def test_values_the_result_depends_on_are_held_or_refused():
    """ord and ddof are numbers the result depends on smoothly: fixed when held
    constant, refused when differentiated (a fixed value's derivative would be 0)."""
    x = V.copy()
    for p in (1, 3, 2.5):
        np.testing.assert_allclose(symgrad.grad(norm_p, wrt=0)(x, p),
                                   fd(lambda z: norm_p(z, p), x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(symgrad.grad(std_ddof, wrt=0)(x, 1),
                               fd(lambda z: std_ddof(z, 1), x), rtol=1e-5, atol=1e-6)
    with pytest.raises(ArgumentError, match="ord"):
        symgrad.grad(norm_p)(x, 3)
    with pytest.raises(ArgumentError, match="ddof"):
        symgrad.grad(std_ddof)(x, 1)


# ----------------------------------------------------------------------------- names

P2 = __import__("collections").namedtuple("P2", "w b")


def attr_by_name(p, name):
    return getattr(p, name) ** 2 + p.b


def math_by_name(x, fname):
    return getattr(np, fname)(x) * x


def math_by_name_bound(x, fname):
    fn = getattr(np, fname)
    return np.sum(fn(x) + x)


def test_getattr_with_a_literal_or_a_parameter_name():
    assert symgrad.grad(attr_by_name, wrt=0)(P2(2.0, 1.0), "w") == P2(4.0, 1.0)
    assert symgrad.grad(attr_by_name, wrt=0)(P2(2.0, 1.0), "b") == P2(0.0, 3.0)
    g = symgrad.grad(math_by_name, wrt=0)
    for name, d in (("sin", np.cos), ("exp", np.exp)):
        assert np.isclose(g(0.5, name), d(0.5) * 0.5 + getattr(np, name)(0.5))
    np.testing.assert_allclose(symgrad.grad(math_by_name_bound, wrt=0)(V, "tanh"),
                               1 - np.tanh(V) ** 2 + 1)


# ----------------------------------------------------------------------------- run time

def autocorrelation(x, n):
    t = 0.0
    for k in range(n):
        t = t + np.sum(np.roll(x, k) * x) * (k + 1.0)
    return t


def roll_rows(m, n):
    t = 0.0
    for k in range(1, n):
        t = t + np.sum(np.roll(m, -k, axis=1) * m * np.arange(4.0))
    return t


@pytest.mark.parametrize("fn,x,n", [(autocorrelation, V, 4), (autocorrelation, V, 9),
                                    (roll_rows, M, 6), (roll_rows, M, 1)])
def test_roll_by_a_loop_variable(fn, x, n):
    """np.roll(x, k) with k a loop variable (it was refused: a shift= computed when the
    function runs): a model of it, every mode."""
    g = symgrad.grad(fn, wrt=0)
    slope = fd(lambda z: fn(z, n), x)
    np.testing.assert_allclose(g(x, n), slope, rtol=1e-5, atol=1e-6)
    t = RNG.normal(size=x.shape)
    _, jv = symgrad.jvp(fn, (x, n), (t, 0))
    assert np.isclose(jv, np.sum(slope * t), rtol=1e-5, atol=1e-6)
    h = 1e-5
    expect = (g(x + h * t, n) - g(x - h * t, n)) / (2 * h)
    np.testing.assert_allclose(symgrad.hvp(fn, (x, n), (t,), wrt=0), expect, rtol=1e-4,
                               atol=1e-5)


def tanh_model(p, x):
    return p[0] * np.tanh(p[1] * x)


def scalar_mse(p, x, y, m):
    return (m(p, x) - y) ** 2


def test_check_with_a_function_passed_in():
    """The SymPy and Value engines run the function passed in on their own numbers."""
    from symgrad.report import PROVED
    r = symgrad.check(scalar_mse, [0.5, 1.5], 0.3, 0.2, tanh_model, wrt="p")
    assert r.ok and not r.unavailable, str(r)
    assert set(r.verdicts.values()) == {PROVED}, str(r)


def readme_loss(x, spec, axis):
    return np.sum(np.tanh(np.einsum(spec, x, x)).sum(axis=axis) ** 2)


def test_source_is_the_gradient_the_call_ran():
    """(For arrays: the one made for their shapes, not the one for any shape; the
    README's example.)"""
    g = symgrad.grad(readme_loss, wrt="x")
    g(np.arange(6.0).reshape(2, 3) / 10, "ij,kj->ik", 0)
    assert "d_x = np.einsum('kj,ik->ij', x, _d1) + np.einsum('ij,ik->kj', x, _d1)" \
        in g.source
    assert "Made for spec='ij,kj->ik', axis=0." in g.source


def stacked_cubes(xs, axis):
    return np.sum(np.sum(np.stack(xs) ** 3, axis=axis))


def stacked_cubes_2(xs, axis):
    return np.sum(np.sum(np.stack(xs) ** 3, axis=axis))


def test_second_order_first():
    """hessian/hvp as the first thing asked of a function made per value, with no array
    argument (its gradient, made on the way, learned the parameter meanwhile: the
    sweep then asked for a single generated function)."""
    H = symgrad.hessian(stacked_cubes, wrt=0)([1.0, 2.0], 0)
    np.testing.assert_allclose(H, [[6.0, 0.0], [0.0, 12.0]])
    hv = symgrad.hvp(stacked_cubes_2, ([1.0, 2.0], -1), ([1.0, 1.0],), wrt=0)
    np.testing.assert_allclose(hv, [6.0, 12.0])
