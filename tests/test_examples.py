"""The examples run and show what they claim."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(HERE, "examples"))


def test_train_mlp_grad_matches_value_engine_every_step():
    import train_mlp_grad
    fast, slow = train_mlp_grad.main(steps=15)
    assert len(fast) == len(slow) == 15
    assert max(abs(a - b) for a, b in zip(fast, slow)) < 1e-9
    assert fast[-1] < fast[0]


def test_train_mlp_grad_gradient_matches_finite_differences():
    import train_mlp_grad as t
    from numeric import assert_close, finite_diff
    from symgrad import grad
    params = t.init(3)
    args = (*params, t.XS, t.YS)
    got = grad(t.loss, wrt=t.PARAMS)(*args)
    assert_close(list(got), finite_diff(t.loss, args, range(6)), rtol=1e-5)


@pytest.mark.parametrize("script", ["train_mlp_grad.py"])
def test_example_scripts_run(script):
    out = subprocess.run([sys.executable, os.path.join(HERE, "examples", script)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "largest loss difference" in out.stdout


def test_dask_gradient_example_descends_and_matches_numpy():
    pytest.importorskip("dask")
    import dask
    import numpy as np

    import dask_gradient as ex
    losses, vg, w, b = ex.main(rows=6000, chunk=1000, steps=4, verbose=False)
    assert all(x > y for x, y in zip(losses, losses[1:]))
    X, y = ex.make_data(6000, 1000)
    Xn, yn = dask.compute(X, y)                     # small here: the numpy reference
    value, (dw, db) = dask.compute(*vg(w, b, X, y))
    ref_value, (ref_dw, ref_db) = vg(w, b, Xn, yn)
    assert value == pytest.approx(ex.loss(w, b, Xn, yn), rel=1e-12)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(dw, ref_dw, rtol=1e-10)
    assert float(db) == pytest.approx(ref_db, rel=1e-10)
    h = 1e-6                                        # and a finite difference in b
    fd = (ex.loss(w, b + h, Xn, yn) - ex.loss(w, b - h, Xn, yn)) / (2 * h)
    assert float(db) == pytest.approx(fd, rel=1e-5)


def test_dask_gradient_script_runs():
    pytest.importorskip("dask")
    out = subprocess.run([sys.executable, os.path.join(HERE, "examples", "dask_gradient.py"),
                          "--rows", "20000", "--chunk", "5000", "--steps", "3"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "in 4 chunks" in out.stdout
    assert "loss decreased at every step: True" in out.stdout
    assert "d_w = X.T @ d_z" in out.stdout


def test_fit_scipy_example_runs_and_converges():
    pytest.importorskip("scipy")                     # the optional extra .[scipy]; CI has it
    out = subprocess.run([sys.executable, os.path.join(HERE, "examples", "fit_scipy.py")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any(line.startswith("rosen  jac=grad ") and "x=[1. 1. 1. 1. 1.]" in line
               for line in lines)
    assert sum(line.startswith("curve  jac=") for line in lines) == 3
