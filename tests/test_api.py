"""The public API: grad / value_and_grad / show / save, caching, second derivatives."""
import copy
import importlib.util
import inspect
import io
import math
import subprocess
import sys
import traceback

import pytest

import cases
from numeric import assert_close, finite_diff
import symgrad
from symgrad import GradFunction, grad, show, value_and_grad

GOLDEN = __file__.replace("test_api.py", "golden/seed_neuron.py.txt")
SEED = (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)


def test_seed_neuron_exact_numbers():
    dx1, dx2, dw1, dw2, db = grad(cases.seed_neuron)(*SEED)
    assert (dx1, dx2, dw1, dw2, db) == pytest.approx((-1.5, 0.5, 1.0, 0.0, 0.5), abs=1e-9)
    value, (dx1e, *_rest) = value_and_grad(cases.seed_neuron_exp)(*SEED)
    assert value == pytest.approx(0.7071067811865476, abs=1e-12)
    assert dx1e == pytest.approx(-1.5, abs=1e-9)


def test_seed_l_and_accumulation():
    assert grad(cases.seed_l)(5.0, 3.0, 10.0) == (10.0, 10.0, 8.0)
    assert grad(cases.seed_reuse)(1.0, 2.0) == (2.0, 0.0)
    assert value_and_grad(cases.seed_l)(5.0, 3.0, 10.0)[0] == 80.0


def test_golden_source_of_seed_neuron():
    """Byte-identical generated source (regenerate with SYMGRAD_UPDATE_GOLDEN=1)."""
    import os
    src = grad(cases.seed_neuron).source
    if os.environ.get("SYMGRAD_UPDATE_GOLDEN"):
        with open(GOLDEN, "w") as fh:
            fh.write(src)
    with open(GOLDEN) as fh:
        assert src == fh.read()


def test_generated_source_is_deterministic_across_processes():
    code = ("import sys; sys.path.insert(0, 'tests'); import cases, symgrad; "
            "print(symgrad.grad(cases.mlp_loss, wrt=[0, 1, 2, 3]).source)")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout for _ in range(2)}
    assert len(runs) == 1


def test_wrt_conventions():
    def f(x, y, z):
        return x * y * z
    assert grad(f, wrt="y")(2.0, 3.0, 4.0) == 8.0
    assert grad(f, wrt=1)(2.0, 3.0, 4.0) == 8.0
    assert grad(f, wrt=["z", "x"])(2.0, 3.0, 4.0) == (6.0, 12.0)
    assert grad(f, wrt=("y",))(2.0, 3.0, 4.0) == (8.0,)
    assert grad(f)(2.0, 3.0, 4.0) == (12.0, 8.0, 6.0)

    @grad(wrt="x")
    def g(x, y):
        return x ** 2 * y
    assert g(3.0, 2.0) == 12.0


def test_decorator_and_attributes():
    @grad
    def h(x):
        """Square it."""
        return x * x
    assert isinstance(h, GradFunction)
    assert h(3.0) == 6.0
    assert h.__wrapped__ is h.fn
    assert h.fn.__name__ == "h"
    assert "Square it." in h.__doc__
    assert h.__name__ == "d_h"
    assert repr(h).startswith("<symgrad grad of ") and repr(h).endswith("h wrt (x)>")
    assert "def d_h(x, d_out=1.0):" in h.source


def test_cache_reuses_first_result():
    assert grad(cases.reassign) is grad(cases.reassign)
    assert grad(cases.reassign, wrt="x") is not grad(cases.reassign)


def test_integer_inputs_give_floats():
    dx, dy = grad(cases.seed_l, wrt=["a", "d"])(2, 3, 4)
    assert (dx, dy) == (4.0, 5.0) and isinstance(dx, float) and isinstance(dy, float)


def test_show_prints_source():
    buf = io.StringIO()
    show(cases.seed_neuron, file=buf)
    assert buf.getvalue() == grad(cases.seed_neuron).source


def test_inspect_and_tracebacks_see_generated_lines():
    g = grad(cases.divisions)
    assert inspect.getsource(g._generated) == g.source
    with pytest.raises(ZeroDivisionError) as info:
        g(1.0, 0.0)
    frames = traceback.extract_tb(info.value.__traceback__)
    gen = [f for f in frames if f.filename.startswith("<symgrad generated")]
    assert gen and gen[-1].line.strip() in g.source


@pytest.mark.parametrize("fn,args", [(cases.seed_poly, (2.0, 3.0, 4.0)),
                                     (cases.all_math, (1.3,)),
                                     (cases.reassign, (0.7, 1.3)),
                                     (cases.branch, (2.0,)), (cases.branch, (-1.5,)),
                                     (cases.early_return, (0.5, 1.0)),
                                     (cases.calls, (0.6, 0.9)),
                                     (cases.loop_tanh_rnn, (0.1, 0.8, 0.3)),
                                     (cases.loop_while, (0.6,)),
                                     (cases.calls_inner, (0.4,)),
                                     (cases.loop_list, ([1.0, 2.0, -1.0], [0.5, -0.3, 0.8], 0.1)),
                                     (cases.list_ops, ([0.5, -0.2, 0.9], 1.1))])
def test_second_derivatives(fn, args):
    k = len(args) - 1 if isinstance(args[0], list) else 0   # a scalar parameter
    first = grad(fn, wrt=k)
    second = grad(first, wrt=k)
    want = finite_diff(first, args, [k])[0]
    assert_close(second(*args), want, rtol=1e-4, what=fn.__name__)


def test_third_derivative_of_polynomial():
    def p(x):
        return x ** 4 + 2 * x ** 3
    d3 = grad(grad(grad(p)))
    assert d3(1.5) == pytest.approx(24 * 1.5 + 12)


def test_save_writes_standalone_module(tmp_path):
    g = grad(cases.symgrad_funcs)
    path = tmp_path / "d_mod.py"
    g.save(str(path))
    text = path.read_text()
    assert "import symgrad" not in text and "from symgrad" not in text
    spec = importlib.util.spec_from_file_location("d_mod", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.d_symgrad_funcs(0.8, 1.7) == pytest.approx(g(0.8, 1.7))


def test_save_with_numpy_and_lists(tmp_path):
    for fn, args in [(cases.all_numpy, (1.3,)), (cases.mlp_loss, dict(cases.CASES)[cases.mlp_loss]),
                     (cases.constants, (1.3,))]:
        g = grad(fn, wrt=list(range(len(args))))
        path = tmp_path / f"d_{fn.__name__}.py"
        g.save(str(path))
        spec = importlib.util.spec_from_file_location(path.stem, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        assert_close(list(getattr(mod, "d_" + fn.__name__)(*args)), list(g(*args)), rtol=1e-12)


def test_generated_code_quality_seed_neuron():
    src = grad(cases.seed_neuron).source
    assert "* 1.0" not in src and "+ 0.0" not in src and "* 1\n" not in src
    assert "# grad of: n = x1 * w1 + x2 * w2 + b" in src
    assert "_stack" not in src       # straight-line code needs no tape


def test_no_adjoint_for_parameters_not_in_wrt():
    src = grad(cases.seed_neuron, wrt="b").source
    assert "d_x1" not in src and "d_w1" not in src
    assert grad(cases.seed_neuron, wrt="b")(*SEED) == pytest.approx(0.5)


def test_loop_needing_no_saved_values_pushes_nothing():
    src = grad(cases.loop_list).source
    assert "_stack" not in src
    assert "for i in reversed(range(len(x))):" in src


def test_methods_on_classes():
    class Model:
        def __init__(self, w):
            self.w = w

        def loss(self, x):
            return math.tanh(x) * 2

    m = Model(2.0)
    assert grad(Model.loss, wrt="x")(m, 0.5) == pytest.approx(2 * (1 - math.tanh(0.5) ** 2))


def test_custom_rule_with_helper_partial_and_cache_invalidation():
    import cases_rules
    import symgrad
    from symgrad import rules
    saved = dict(rules.RULES), dict(rules._CALLABLES)
    try:
        symgrad.register_rule("softplus", cases_rules.softplus,
                              [lambda x, out: symgrad.sigmoid(x)],
                              callables=[cases_rules.softplus])
        want = 2 * (1 / (1 + math.exp(-0.5)))
        assert grad(cases_rules.twice_softplus)(0.5) == pytest.approx(want)
        assert "softplus(x)" in grad(cases_rules.twice_softplus).source
        symgrad.register_rule("softplus", cases_rules.softplus,
                              [lambda x, out: 2 * symgrad.sigmoid(x)],
                              callables=[cases_rules.softplus])
        assert grad(cases_rules.twice_softplus)(0.5) == pytest.approx(2 * want)
    finally:
        rules.RULES.clear(); rules.RULES.update(saved[0])
        rules._CALLABLES.clear(); rules._CALLABLES.update(saved[1])
        from symgrad import api
        api._cache.clear()


def test_a_registered_rule_may_refuse_an_argument():
    """``symgrad.no_derivative`` as an argument's partial: a value there that depends on
    the differentiated inputs is refused, naming the line, in every mode; held fixed by
    ``wrt``, the rest is differentiated (and the rule's forward is the value)."""
    import cases_rules
    import symgrad
    from symgrad import api, modes, rules
    saved = dict(rules.RULES), dict(rules._CALLABLES)
    try:
        symgrad.register_rule("scaled_tanh", cases_rules.scaled_tanh,
                              [symgrad.no_derivative("the scale"),
                               lambda k, x, out: k * (1.0 - symgrad.tanh(x) ** 2)],
                              callables=[cases_rules.scaled_tanh])
        f = cases_rules.uses_scaled_tanh
        for make in (lambda: grad(f)(1.5, 0.3), lambda: symgrad.jvp(f, (1.5, 0.3), (1.0, 0.0)),
                     lambda: symgrad.hessian(f)(1.5, 0.3)):
            with pytest.raises(symgrad.NonDifferentiableError,
                               match=r"line \d+: .*scaled_tanh with respect to the scale"):
                make()
        d = grad(f, wrt="x")(1.5, 0.3)
        assert d == pytest.approx(2.25 * (1 - math.tanh(0.3) ** 2) + 1, rel=1e-14)
    finally:
        rules.RULES.clear(); rules.RULES.update(saved[0])
        rules._CALLABLES.clear(); rules._CALLABLES.update(saved[1])
        api._cache.clear()
        modes._cache.clear()


def test_argnums_alias_like_jax():
    def f(x, y):
        return x * x * y
    assert grad(f, argnums=1)(3.0, 2.0) == 9.0
    assert grad(f, argnums=(0, 1))(3.0, 2.0) == (12.0, 9.0)
    assert value_and_grad(f, argnums=0)(3.0, 2.0) == (18.0, 12.0)
    from symgrad import SymgradError
    with pytest.raises(SymgradError, match="not both"):
        grad(f, wrt="x", argnums=0)


# ---------------------------------------------------------------- .source stands alone
def _returns_parameter(x, y):
    return y


def _relu_rows(xs, W):
    s = 0.0
    for row in W:
        s += symgrad.relu(sum(row)) * xs[0]
    return s


@pytest.mark.parametrize("fn,args,wrt", [
    (_relu_rows, ([1.5, -0.5], [[1.0, 2.0], [-3.0, 0.5]]), None),     # _zeros_like, relu
    (cases.mlp_loss, dict(cases.CASES)[cases.mlp_loss], None),
    (_returns_parameter, (1.5, 2.0), None),         # the result check: Real, NonScalarError
], ids=["lists_and_relu", "mlp", "result_check"])
def test_source_defines_what_symgrad_passes_in(fn, args, wrt):
    """Executed with only the user's module globals, ``.source`` defines a function that
    computes the same gradient: every helper symgrad passes in is written out."""
    g = grad(fn, wrt=wrt)
    assert "# Defined by symgrad for the code above:" in g.source
    ns = dict(fn.__globals__)
    for name in list(ns):
        if name.startswith("_") and not name.startswith("__"):
            del ns[name]
    ns.pop("symgrad", None)
    exec(compile(g.source, "<source>", "exec"), ns)
    got = ns[g.__name__](*copy.deepcopy(args))
    assert_close(list(got) if isinstance(got, tuple) else [got],
                 list(g(*copy.deepcopy(args))) if isinstance(got, tuple) else [g(*args)],
                 rtol=1e-12)


def test_source_of_array_gradient_defines_its_helpers():
    np = pytest.importorskip("numpy")

    def loss(w, X, b):
        return np.sum(np.tanh(X @ w + b))
    g = grad(loss)
    assert "def _unbroadcast(" in g.source and "def _matmul_vjp_a(" in g.source
    ns = {"np": np}
    exec(compile(g.source, "<source>", "exec"), ns)
    w, X = np.array([0.5, -1.0, 2.0]), np.arange(12.0).reshape(4, 3) / 10
    for got, want in zip(ns[g.__name__](w, X, 0.3), g(w, X, 0.3)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
