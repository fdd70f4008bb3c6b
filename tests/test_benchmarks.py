"""Smoke test of the benchmark suite (benchmarks/run.py) and correctness of its references.

No timing is asserted here: the suite measures, the tests only check that it runs,
prints its tables, and that every hand-written reference gradient in
benchmarks/functions.py equals symgrad's and central finite differences.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

import symgrad

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCH)

import functions as F


def flat(tree):
    return [float(v) for v in F.flatten(tree)]


def central_differences(fn, args, wrt_idx):
    out = []
    for i in wrt_idx:
        values = F.flatten(args[i])
        for k in range(len(values)):
            h = 1e-6 * max(1.0, abs(values[k]))
            f = []
            for sign in (1, -1):
                moved = list(values)
                moved[k] += sign * h
                a = list(args)
                a[i] = F.unflatten(moved, args[i]) if isinstance(args[i], (list, tuple)) \
                    else moved[0]
                f.append(fn(*a))
            out.append((f[0] - f[1]) / (2 * h))
    return out


def cases(tmp_path):
    n100 = F.write_generated(str(tmp_path), "t_neuron100", F.neuron_straight_source(100))
    ch60 = F.write_generated(str(tmp_path), "t_chain60", F.chain_source(60))
    ch1000 = F.write_generated(str(tmp_path), "t_chain1000", F.chain_source(1000))
    x, w, b = F.neuron_args(100)
    mlp = F.mlp_args()
    return [
        ("neuron2", F.neuron2, F.NEURON2_ARGS, F.neuron2_vg, None, [0, 1, 2, 3, 4]),
        ("neuron100", n100.neuron100, (*x, *w, b), n100.neuron100_vg, None, list(range(201))),
        ("neuron_loop", F.neuron_loop, (x, w, b), F.neuron_loop_vg, None, [0, 1, 2]),
        ("chain60", ch60.chain60, (F.CHAIN_X0,), ch60.chain60_vg, None, [0]),
        ("chain1000", ch1000.chain1000, (F.CHAIN_X0,), ch1000.chain1000_vg, None, [0]),
        ("mlp", F.mlp_loss, mlp, F.mlp_loss_vg, F.MLP_WRT, [0, 1, 2, 3, 4, 5]),
    ]


def test_hand_written_gradients_equal_symgrad_and_finite_differences(tmp_path):
    for name, fn, args, hand, wrt, wrt_idx in cases(tmp_path):
        value, grads = symgrad.value_and_grad(fn, wrt=wrt)(*args)
        h_value, h_grads = hand(*args)
        assert h_value == pytest.approx(fn(*args), rel=1e-13, abs=1e-15), name
        assert value == pytest.approx(h_value, rel=1e-13, abs=1e-15), name
        g, hg = flat(grads), flat(h_grads)
        assert len(g) == len(hg) == sum(len(F.flatten(args[i])) for i in wrt_idx), name
        assert hg == pytest.approx(g, rel=1e-10, abs=1e-13), name
        fd = central_differences(fn, args, wrt_idx)
        assert hg == pytest.approx(fd, rel=1e-5, abs=1e-7), name
        # the structure of the gradient is symgrad's too (tuples of lists for list params)
        assert len(F.flatten(h_grads)) == len(F.flatten(grads))


def test_chain_stays_in_range_and_its_derivative_is_not_tiny(tmp_path):
    """The chain's derivative must not underflow (subnormals would distort the timing and
    make the finite-difference check meaningless)."""
    mod = F.write_generated(str(tmp_path), "t_chain_range", F.chain_source(1000))
    value, d = mod.chain1000_vg(F.CHAIN_X0)
    assert 0.2 < value < 0.8
    assert 1e-6 < abs(d) < 1e3


def test_rebind_runs_the_same_body_on_value_numbers():
    f = F.rebind(F.neuron_loop, type("M", (), {"tanh": staticmethod(symgrad.tanh)}))
    x, w, b = F.neuron_args(5)
    xs = [symgrad.Value(v) for v in x]
    out = f(xs, w, b)
    out.backward()
    _, (dx, _, _) = F.neuron_loop_vg(x, w, b)
    assert out.data == pytest.approx(F.neuron_loop(x, w, b))
    assert [v.grad for v in xs] == pytest.approx(dx)
    assert F.neuron_loop.__globals__["math"] is math      # the original is untouched


@pytest.mark.heavy
def test_suite_runs_in_tiny_quick_mode(tmp_path):
    cmd = [sys.executable, os.path.join(BENCH, "run.py"), "--quick", "--repeats", "1",
           "--min-time", "0.001", "--skip", "torch,jax", "--sympy-cap", "2.5",
           "--only", "neuron2,neuron100-loop,mlp-2-8-8-1", "--transform-sizes", "20,200",
           "--transform-repeats", "1", "--out-dir", str(tmp_path)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Per call: value and full gradient" in out
    header = next(ln for ln in out.splitlines() if ln.startswith("function (inputs)"))
    for title in ("symgrad generated", "hand-written", "plain f", "Value engine", "SymPy"):
        assert title in header
    for name in ("neuron2", "neuron100-loop", "mlp-2-8-8-1"):
        assert any(ln.startswith(f"{name} (") and "µs" in ln for ln in out.splitlines()), name
        assert f"check {name}" in out
        check = next(ln for ln in out.splitlines() if f"check {name}" in ln)
        assert " ok " in check, check
    assert "machine:" in out and "CPU:" in out and "python:" in out
    assert "One-off costs" in out and "Transform cost" in out
    assert "200/20 statements time ratio" in out
    targets = [ln.strip() for ln in out.splitlines()
               if ln.strip().startswith(("PASS ", "MISS ", "SKIP "))]
    assert len(targets) >= 5
    md = (tmp_path / "results.md").read_text()
    assert "| function (inputs) |" in md and "## Targets" in md
    assert "chart" in out


def test_rosenbrock_forms_agree():
    """The loop and vectorized Rosenbrock functions of benchmarks/modes.py are one
    function."""
    x = F.uniform_list(10, seed=1)
    np = pytest.importorskip("numpy")
    assert float(F.rosenbrock_vectorized(np.array(x))) == pytest.approx(F.rosenbrock(x),
                                                                       rel=1e-14)


@pytest.mark.heavy
def test_modes_benchmark_runs_in_quick_mode():
    cmd = [sys.executable, os.path.join(BENCH, "modes.py"), "--quick", "--repeats", "1",
           "--min-time", "0.0002", "--hvp-size", "12"]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "All results agree with symgrad's" in out
    for title in ("Hessian of rosenbrock", "list of 10 numbers",
                  "Hessian-vector product of rosenbrock on a list of 12 numbers",
                  "jvp against the plain function"):
        assert title in out
    lines = out.splitlines()
    for engine in ("symgrad hessian", "symgrad hvp", "SymPy hessian + lambdify",
                   "SymPy hessian * v + lambdify", "JAX", "autograd", "PyTorch"):
        row = next(ln for ln in lines if ln.startswith(engine))
        assert "µs" in row or "ms" in row or "not installed" in row, row
    for name in ("neuron2", "neuron100-loop", "huber100", "rosenbrock100", "mlp-2-8-8-1"):
        assert any(ln.startswith(f"{name} (") and ln.count("µs") >= 3 for ln in lines), name
    assert sum(ln.strip().startswith(("PASS ", "MISS ")) for ln in lines) == 10


def test_arrays_benchmark_hand_written_gradients_equal_symgrad():
    """benchmarks/arrays.py: its hand-written numpy value-and-gradients are symgrad's
    (and its own check against finite differences passes), at small shapes."""
    pytest.importorskip("numpy")
    import arrays as A
    for w in (A.mlp_workload(8, 5, 4), A.logreg_workload(300, 6)):
        line = A.check_hand(w)
        assert "hand-written = symgrad" in line
        args = (*w.params, *w.data)
        value, grads = symgrad.value_and_grad(w.fn, wrt=A.wrt_names(w.fn, len(w.params)))(*args)
        h_value, h_grads = w.hand(*args)
        assert h_value == pytest.approx(value, rel=1e-12)
        assert len(h_grads) == len(grads) == len(w.params)
        for g, h, p in zip(grads, h_grads, w.params):
            assert A.np.shape(h) == A.np.shape(g) == A.np.shape(p)
            A.np.testing.assert_allclose(h, g, rtol=1e-10, atol=1e-14)


def test_arrays_benchmark_runs_in_quick_mode():
    pytest.importorskip("numpy")
    cmd = [sys.executable, os.path.join(BENCH, "arrays.py"), "--quick", "--repeats", "1",
           "--min-time", "0.0002", "--lines"]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "All engines agree with symgrad" in out
    lines = out.splitlines()
    for name in ("mlp", "logreg"):
        assert any(ln.startswith(f"check {name}: hand-written = symgrad") for ln in lines)
        assert any(ln.startswith(f"{name}: ") and "value and gradient per call" in ln
                   for ln in lines), name
        assert f"{name}, symgrad generated, per statement" in out
    for engine in ("hand-written numpy", "symgrad value_and_grad", "JAX jit(value_and_grad)",
                   "PyTorch eager", "autograd value_and_grad", "plain f (value only)"):
        rows = [ln for ln in lines if ln.startswith(engine)]
        assert len(rows) == 2, engine
        assert all("µs" in r or "ms" in r or "not installed" in r for r in rows), rows
    assert sum(ln.strip().startswith(("PASS ", "MISS ")) for ln in lines) == 2


def test_instruction_counter_says_when_valgrind_is_missing(monkeypatch, capsys):
    """benchmarks/instructions.py needs valgrind; without it, a clear message and exit
    code 2 (not a traceback, not a table of zeros)."""
    import instructions
    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    assert instructions.main([]) == 2
    assert "valgrind is not installed" in capsys.readouterr().out


def test_instruction_counter_reads_cachegrinds_total(monkeypatch):
    """The count is cachegrind's 'I refs' total, commas removed, from stderr."""
    import instructions

    class Done:
        returncode = 0
        stderr = "==1== \n==1== I   refs:      1,234,567,890\n"
    monkeypatch.setattr(instructions.subprocess, "run", lambda *a, **k: Done())
    assert instructions.instructions(ROOT, "None", 0) == 1_234_567_890
    Done.returncode = 1
    with pytest.raises(RuntimeError, match="valgrind run failed"):
        instructions.instructions(ROOT, "None", 0)
