"""Reliability: scale and depth, numerical edge cases, conventions at kinks, argument
types, thread safety, warnings, and regressions found by the fuzzer (tests/test_fuzz.py).

The functions under test live in ``reliability_cases.py`` (symgrad reads source), or
are generated as source text and written to a temporary module (``fuzz.load``).
"""
from __future__ import annotations

import ast
import gc
import math
import subprocess
import sys
import threading
import time
import tracemalloc
import warnings

import numpy as np
import pytest

import cases
import fuzz
import reliability_cases as rc
from numeric import assert_close, finite_diff
from symgrad import ArgumentError, SymgradError, Value, check, grad, value_and_grad


def _leaves(x):
    if isinstance(x, (list, tuple)):
        for v in x:
            yield from _leaves(v)
    else:
        yield x


# =========================================================================== fuzzer regressions

@pytest.mark.parametrize("fn", [rc.fuzz_unused_list_param, rc.fuzz_list_only_iterated_in_comprehension,
                                rc.fuzz_list_only_iterated_in_genexp])
def test_list_parameter_without_indexing_gets_a_list_gradient(fn):
    for xs in ([1.0, 2.0], [], [0.5]):
        got = grad(fn)(1.5, xs)
        assert isinstance(got[1], list) and len(got[1]) == len(xs)
        assert_close(list(got), finite_diff(fn, (1.5, xs)), what=fn.__name__)
    assert grad(fn, wrt="xs")(1.5, [1.0, 2.0]) == [0.0, 0.0]


NESTED_EXITS = [(rc.fuzz_nested_break, (0.5, 0.0)), (rc.fuzz_nested_break, (0.5, 2.0)),
                (rc.fuzz_nested_continue, (0.7, 4)), (rc.fuzz_nested_continue, (-0.5, 4)),
                (rc.fuzz_nested_early_return, (2.0, 3.0)), (rc.fuzz_nested_early_return, (2.0, -1.0)),
                (rc.fuzz_nested_early_return, (-1.5, 1.0)),
                (rc.fuzz_break_beside_a_restored_counter, (0.7,)),
                (rc.fuzz_break_beside_a_restored_counter, (-0.7,)),
                (rc.fuzz_underscore_helper_in_a_loop, (0.3, 4)),
                (rc.fuzz_nested_helper_calls_in_a_loop, (-1.08, [0.71, -0.49])),
                (rc.fuzz_temporary_name_reused, (0.0,)), (rc.fuzz_temporary_name_reused, (0.3,)),
                (rc.fuzz_temporary_name_reused, (-1.9,)),
                (rc.fuzz_temporary_name_reused_in_a_loop, (0.7, 3))] + [
    (fn, (a, b)) for fn in (rc.fuzz_assigned_in_two_branches, rc.fuzz_swaps_in_two_branches)
    for a in (0.3, -0.9) for b in (1.0, 0.2)] + [
    (rc.fuzz_nested_exits_deeper, (x, y, n)) for x in (1.5, 0.5, -0.5) for y in (0.5, -0.7)
    for n in (0, 2, 4)]


@pytest.mark.parametrize("fn,args", NESTED_EXITS,
                         ids=[f"{f.__name__}{a}" for f, a in NESTED_EXITS])
def test_fuzzer_programs_with_branches_and_loops(fn, args):
    wrt = [k for k, a in enumerate(args) if not isinstance(a, int)]
    value, got = value_and_grad(fn, wrt=wrt)(*args)
    assert value == fn(*args)
    assert_close(list(got), finite_diff(fn, args, wrt), what=fn.__name__)


def test_nested_generators_over_a_list_not_differentiated():
    fn = rc.fuzz_nested_generator_over_inactive_list
    args = (0.3, [0.5, 1.5, -0.25])
    assert grad(fn, wrt="x")(*args) == pytest.approx(finite_diff(fn, args, [0])[0], rel=1e-7)
    assert_close(list(grad(fn)(*args)), finite_diff(fn, args), what=fn.__name__)


def test_list_literal_whose_elements_are_nested_operations():
    for fn in (rc.fuzz_list_literal_of_nested_ops, rc.fuzz_list_literal_of_tanh):
        assert grad(fn)(0.7) == pytest.approx(finite_diff(fn, (0.7,))[0], rel=1e-7)
    fn = rc.fuzz_list_literal_rebuilt_in_a_loop
    for args in [(0.3, 3), (0.1, 4), (0.3, 0)]:
        assert grad(fn, wrt="x")(*args) == pytest.approx(finite_diff(fn, args, [0])[0],
                                                         rel=1e-6, abs=1e-9)


# =========================================================================== the Value engine at scale

@pytest.mark.heavy
def test_value_engine_backward_through_a_million_operations():
    """y <- a*y + b*x, 333,334 times: 10^6 operations, one iterative backward()."""
    x = Value(0.5)
    y = x
    a, b, n = 0.999999, 1e-6, 333_334
    for _ in range(n):
        y = y * a + x * b
    y.backward()                      # a recursive topological sort would overflow here
    want = a ** n + b * (1 - a ** n) / (1 - a)
    assert x.grad == pytest.approx(want, rel=1e-9)


def _cyclic_garbage(work) -> int:
    """How many objects only the cycle collector can free after ``work()`` (0: none)."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        work()
        return gc.collect()
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.heavy
def test_value_engine_leaves_no_reference_cycles():
    def work():
        for _ in range(20):
            x1, x2, w1, w2, b = (Value(v) for v in (2.0, 0.0, -3.0, 1.0, 6.88))
            out = (x1 * w1 + x2 * w2 + b).tanh() + (x1 / w2) ** 2 - x2.exp() * b.relu()
            out.backward()
            assert x1.grad != 0.0
    assert _cyclic_garbage(work) == 0


MLP_ARGS = next(a for f, a in cases.CASES if f is cases.mlp_loss)


@pytest.mark.heavy
@pytest.mark.parametrize("fn,args", [(cases.mlp_loss, MLP_ARGS),
                                     (cases.loop_with_branch, (0.8, 6)),
                                     (cases.list_ops, ([0.5, -0.2, 0.9], 1.1)),
                                     (cases.early_return, (0.5, 1.0)),
                                     (cases.calls_inner, (0.4,))])
def test_generated_gradients_leave_no_reference_cycles(fn, args):
    g = value_and_grad(fn, wrt=[k for k, a in enumerate(args) if not isinstance(a, int)])
    g(*args)                           # transform (and cache) outside the measurement

    def work():
        for _ in range(20):
            g(*args)
    assert _cyclic_garbage(work) == 0


# =========================================================================== the transformer at scale

def _ten_thousand_statements() -> str:
    lines = ["import math", "", "", "def f(x, y):", "    s = x"]
    for k in range(9_998):
        lines.append([f"    s = s * 0.9999 + y * {0.001 * (k % 7):.3f}",
                      "    t = math.sin(s) * 0.001",
                      "    s = s + t",
                      "    s += x * 0.0001"][k % 4])
    lines.append("    return s")
    return "\n".join(lines) + "\n"


@pytest.mark.heavy
def test_function_of_ten_thousand_statements():
    src = _ten_thousand_statements()
    assert len(src.splitlines()) - 4 == 10_000            # the body of f
    mod = fuzz.load(src)
    start = time.perf_counter()
    g = grad(mod.f)
    build = time.perf_counter() - start
    got = g(0.5, 0.3)
    _, want = fuzz.value_grad(src, [0.5, 0.3], [0, 1])
    assert_close(list(got), want, rtol=1e-10, what="10,000 statements vs Value engine")
    assert_close(list(got), finite_diff(mod.f, (0.5, 0.3)), what="10,000 statements vs FD")
    # no generated line is a sum of thousands of terms (Python's compiler limits depth)
    assert max(len(line) for line in g.source.splitlines()) < 2_000
    assert build < 60, f"transforming 10,000 statements took {build:.1f} s"


def _nested(levels: int, chain: int) -> str:
    """``levels`` parenthesised levels, alternately a chain of ``chain`` multiplicative and
    additive operations: an expression ``levels * chain`` BinOps deep.  (Python's parser
    allows 200 nested parentheses, so depth comes from chains inside each level.)"""
    e = "x"
    for level in range(levels):
        if level % 2 == 0:
            ops = " ".join(f"* {1 + 0.001 * k:.3f}" if k % 2 else "/ 1.001" for k in range(chain))
        else:
            ops = " ".join(f"+ {0.01 * k:.2f}" if k % 2 else "- math.sin(x) * 0.001"
                           for k in range(chain))
        e = f"({e} {ops})"
    return "import math\n\n\ndef f(x):\n    return " + e + "\n"


def _binop_depth(src: str) -> int:
    best, stack = 0, [(ast.parse(src), 0)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        stack += [(c, d + isinstance(c, ast.BinOp)) for c in ast.iter_child_nodes(node)]
    return best


def test_expression_nested_a_thousand_levels_deep():
    src = _nested(100, 10)
    assert _binop_depth(src) == 1_000
    mod = fuzz.load(src)
    limit = sys.getrecursionlimit()
    got = grad(mod.f)(0.5)
    assert sys.getrecursionlimit() == limit          # restored after the transformation
    _, (want,) = fuzz.value_grad(src, [0.5], [0])
    assert got == pytest.approx(want, rel=1e-10)
    assert got == pytest.approx(finite_diff(mod.f, (0.5,))[0], rel=1e-6)


def test_too_deep_for_python_is_a_symgrad_error_or_works():
    """Deeper than the transformer's recursion room: a SymgradError, never a RecursionError."""
    src = "def f(x):\n    return " + " + ".join(f"x * {k % 7}.5" for k in range(2_500)) + "\n"
    try:
        mod = fuzz.load(src)
    except RecursionError:
        pytest.skip("this Python cannot compile the function itself")
    try:
        got = grad(mod.f)(0.5)
    except SymgradError:
        return
    assert got == pytest.approx(sum(k % 7 + 0.5 for k in range(2_500)))


def _best_time(fn, *args, repeat=3) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.heavy
def test_loop_of_a_hundred_thousand_iterations_is_right_and_linear():
    g = grad(rc.tanh_rnn, wrt=["h", "w", "x"])
    n = 100_000
    got = g(0.1, 0.5, 0.3, n)
    _, want = fuzz.value_grad(_source_of(rc.tanh_rnn), [0.1, 0.5, 0.3, n], [0, 1, 2])
    assert_close(list(got), want, rtol=1e-9, what="10^5 iterations vs Value engine")
    small, large = _best_time(g, 0.1, 0.5, 0.3, 10_000), _best_time(g, 0.1, 0.5, 0.3, 100_000)
    assert large / small < 30, f"10x the iterations took {large / small:.1f}x the time"


def _source_of(fn) -> str:
    """The module text of a reliability case with ``fn`` renamed to ``f`` (for fuzz.value_grad)."""
    import inspect
    return "import math\n\n" + inspect.getsource(fn).replace(f"def {fn.__name__}(", "def f(", 1)


def _appends_in_primal_loops(source: str) -> list[int]:
    """For each ``for`` loop of the primal sweep (before the first ``reversed`` loop), how many
    ``_stack.append`` calls its body makes."""
    fdef = ast.parse(source).body[0]
    counts = []
    for node in ast.walk(fdef):
        if isinstance(node, ast.For) and "reversed" not in ast.unparse(node.iter) \
                and node.iter.__class__ is ast.Call and ast.unparse(node.iter).startswith("range"):
            counts.append(sum(1 for n in ast.walk(node) if isinstance(n, ast.Call)
                              and ast.unparse(n.func) == "_stack.append"))
    return counts


def _peak_bytes(fn, *args) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn(*args)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_tape_is_empty_for_a_loop_that_needs_no_saved_values():
    for fn in (rc.leaky_sum, rc.dot):
        assert "_stack" not in grad(fn).source, fn.__name__
    g = grad(rc.leaky_sum, wrt=["x", "w"])
    assert g(0.3, 0.7, 100_000) == pytest.approx((0.7 * 2.0, 0.3 * 2.0))
    # memory does not grow with the number of iterations
    assert _peak_bytes(g, 0.3, 0.7, 100_000) < 100_000


def test_tape_holds_one_value_per_iteration_where_one_is_needed():
    g = grad(rc.tanh_rnn, wrt=["h", "w", "x"])
    assert _appends_in_primal_loops(g.source) == [1], g.source
    n = 100_000
    peak = _peak_bytes(g, 0.1, 0.5, 0.3, n)
    # one float (24 bytes) and one list slot (8 bytes) per iteration, with slack for
    # the list's over-allocation: far below what saving every temporary would take
    assert peak < 64 * n, f"{peak / n:.0f} bytes per iteration"


# =========================================================================== numerical edge cases
# The generated gradient runs the original code first: where the function raises, the
# gradient raises the same exception; where the function is inf/nan (numpy) or its
# derivative is infinite, the gradient is inf/nan or raises -- never a finite number.

RAISES = [(rc.log_of, (0.0,)), (rc.log_of, (-1.0,)), (rc.divide, (1.0, 0.0)),
          (rc.divide, (0.0, 0.0)), (rc.sqrt_of, (-1.0,)), (rc.exp_of, (1000.0,)),
          (rc.square, (1e200,)), (rc.x_log_x, (0.0,)), (rc.acos_of, (1.5,))]


@pytest.mark.parametrize("fn,args", RAISES, ids=[f"{f.__name__}{a}" for f, a in RAISES])
def test_gradient_raises_what_the_function_raises(fn, args):
    with pytest.raises(Exception) as original:
        fn(*args)
    with pytest.raises(Exception) as generated:
        grad(fn)(*args)
    assert type(generated.value) is type(original.value)
    with pytest.raises(type(original.value)):
        value_and_grad(fn)(*args)


def _never_a_finite_number(fn, args):
    try:
        got = grad(fn)(*args)
    except ArithmeticError:
        return
    assert not all(math.isfinite(v) for v in _leaves(got)), f"{fn.__name__}{args} -> {got}"


@pytest.mark.parametrize("fn,args", [(rc.sqrt_of, (0.0,)), (rc.acos_of, (1.0,)),
                                     (rc.exp_of, (math.inf,)), (rc.exp_of, (math.nan,)),
                                     (rc.square, (math.nan,))])
def test_infinite_or_undefined_derivative_is_never_a_finite_number(fn, args):
    _never_a_finite_number(fn, args)


F64 = np.float64


@pytest.mark.parametrize("fn,args", [(rc.np_log, (F64(0.0),)), (rc.np_divide, (F64(1.0), F64(0.0))),
                                     (rc.np_divide, (F64(0.0), F64(0.0))),
                                     (rc.np_sqrt, (F64(-1.0),)), (rc.np_sqrt, (F64(0.0),)),
                                     (rc.np_exp, (F64(1000.0),))])
def test_numpy_inf_and_nan_propagate_to_the_gradient(fn, args):
    with np.errstate(all="ignore"):
        value = fn(*args)
        assert not math.isfinite(value) or fn is rc.np_sqrt
        _never_a_finite_number(fn, args)


# =========================================================================== kinks: one convention
# rules.py: relu'(0) = abs'(0) = 0; max/min ties send the gradient to the first argument;
# d/dy x ** y is 0 at x == 0 and nan for x < 0.  symgrad.check runs the generated code,
# the Value engine and SymPy on the same function.

KINKS = [(rc.relu_at, (0.0,), [0.0]), (rc.abs_at, (0.0,), [0.0]), (rc.fabs_at, (0.0,), [0.0]),
         (rc.max_tie, (1.0, 1.0), [3.0, 0.0]), (rc.min_tie, (1.0, 1.0), [3.0, 0.0]),
         (rc.max_tie, (-2.0, -2.0), [3.0, 0.0]),
         (rc.power, (-2.0, 2.0), [-4.0, math.nan])]


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("fn,args,want", KINKS, ids=[f"{f.__name__}{a}" for f, a, _ in KINKS])
def test_kink_convention_is_the_same_in_every_engine(fn, args, want):
    report = check(fn, *args)
    assert "value" not in report.unavailable and "sympy" not in report.unavailable
    for row, w in zip(report.rows, want):
        for engine in ("generated", "value", "sympy"):
            assert _same(getattr(row, engine), w), (engine, str(report))


def test_max_of_three_tied_sends_the_gradient_to_the_first():
    assert grad(rc.max3_tie)(0.5, 0.5, 0.5) == (1.0, 0.0, 0.0)
    a, b, c = Value(0.5), Value(0.5), Value(0.5)
    max(a, b, c).backward()
    assert (a.grad, b.grad, c.grad) == (1.0, 0.0, 0.0)


def test_power_at_zero_base_generated_and_value_engine():
    """x ** y at x == 0: d/dy = 0 by convention, d/dx = y * 0 ** (y - 1)."""
    assert grad(rc.power)(0.0, 2.0) == (0.0, 0.0)
    assert grad(rc.power, wrt="y")(0.0, 0.5) == 0.0
    x, y = Value(0.0), Value(2.0)
    (x ** y).backward()
    assert (x.grad, y.grad) == (0.0, 0.0)
    y = Value(0.5)
    (0.0 ** y).backward()
    assert y.grad == 0.0
    # d/dx of x ** 0.5 at 0 is infinite: an error, not a number
    with pytest.raises(ZeroDivisionError):
        grad(rc.power, wrt="x")(0.0, 0.5)


# =========================================================================== argument types

INTS = [(rc.mul, (2, 3)), (rc.pow_xy, (2, 3)), (rc.branchy, (3, 2)), (rc.branchy, (2, 3)),
        (rc.weighted, ([1, 2, 3], 2)), (cases.seed_neuron, (2, 0, -3, 1, 7)),
        (rc.fuzz_unused_list_param, (2, [1, 2]))]


@pytest.mark.parametrize("fn,args", INTS, ids=[f"{f.__name__}{a}" for f, a in INTS])
def test_integer_inputs_give_float_gradients(fn, args):
    got = grad(fn)(*args)
    leaves = list(_leaves(got))
    assert all(type(v) is float for v in leaves), got
    as_floats = [[float(v) for v in a] if isinstance(a, list) else float(a) for a in args]
    assert got == grad(fn)(*as_floats)


def test_integer_loop_count_is_not_differentiated_when_left_out_of_wrt():
    got = grad(rc.looped, wrt="x")(2, 4)
    assert got == 6.0 and type(got) is float


@pytest.mark.parametrize("bad", [True, False, "2.0", b"2", 1j])
def test_bool_str_bytes_complex_arguments_are_argument_errors(bad):
    for call in (lambda: grad(rc.mul)(bad, 2.0), lambda: grad(rc.mul)(2.0, bad),
                 lambda: grad(rc.mul)(x=bad, y=2.0), lambda: value_and_grad(rc.mul)(bad, 2.0),
                 lambda: grad(rc.weighted)(bad, 2.0)):
        with pytest.raises(ArgumentError) as info:
            call()
        assert isinstance(info.value, SymgradError) and isinstance(info.value, TypeError)
        assert type(bad).__name__ in str(info.value)


def test_bool_argument_outside_wrt_is_fine():
    assert grad(rc.flagged, wrt="x")(2.0, True) == 2.0
    assert grad(rc.flagged, wrt="x")(2.0, False) == 1.0


# =========================================================================== thread safety

def test_two_threads_differentiating_the_same_function_get_the_same_object():
    for round_ in range(12):
        # a fresh function each round, so the threads race on the first transformation
        mod = fuzz.load(f"import math\n\n\ndef f(x, y):\n    # round {round_}\n"
                        "    s = 0.0\n    for i in range(3):\n        s = s + math.tanh(x * y + i)\n"
                        "    return s\n")
        barrier = threading.Barrier(2)
        results = [None, None]

        def work(k, wrt=("x", "y")[round_ % 2] if round_ % 3 else None):
            barrier.wait()
            results[k] = grad(mod.f, wrt=wrt)
        threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results[0] is results[1] and results[0] is not None


# =========================================================================== warnings

def test_no_deprecation_warning_reaches_users_in_process():
    """Fresh functions (no cache), every entry point, with warnings turned into errors."""
    src = ("import math\n\nimport numpy as np\n\n\ndef helper(v, a=2.0):\n    return a * v\n\n\n"
           "def f(x, xs, n):\n    s = helper(x)\n    for i in range(n):\n        if s > 0:\n"
           "            s = math.tanh(s) + np.sin(x)\n        else:\n            s = s - x\n"
           "    ys = [v * s for v in xs]\n    return sum(ys) + max(x, s) ** 2\n")
    mod = fuzz.load(src)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", PendingDeprecationWarning)
        warnings.simplefilter("error", SyntaxWarning)
        g = grad(mod.f, wrt=["x", "xs"])
        g(0.3, [1.0, 2.0], 3)
        value_and_grad(mod.f, wrt="x")(0.3, [1.0, 2.0], 3)
        fresh = fuzz.load(src.replace("2.0", "3.0"))
        grad(grad(fresh.helper, wrt="v"), wrt="v")(0.5)
        assert check(fresh.f, 0.3, [1.0, 2.0], 3).ok


def test_no_deprecation_warning_reaches_users_from_a_fresh_interpreter(tmp_path):
    code = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "import cases, symgrad\n"
        "for fn, args in cases.CASES[::3]:\n"
        "    symgrad.grad(fn, wrt=list(range(len(args))))(*args)\n"
        "symgrad.grad(symgrad.grad(cases.seed_poly, wrt=0), wrt=0)(2.0, 3.0, 4.0)\n"
        f"symgrad.grad(cases.seed_neuron).save({str(tmp_path / 'd.py')!r})\n"
        "print('done')\n")
    flags = ["-W", "error::DeprecationWarning", "-W", "error::PendingDeprecationWarning",
             "-W", "error::SyntaxWarning"]
    out = subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True,
                         cwd=__file__.rsplit("/tests/", 1)[0])
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr[-2000:]
