"""The ``symgrad`` command line, run as a subprocess (``python -m symgrad``), and the examples."""
import math
import os
import subprocess
import sys
import textwrap

import pytest

from symgrad import cli

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CASES = os.path.join(HERE, "check_cases.py")
NEURON = ["2.0", "0.0", "-3.0", "1.0", "6.8813735870195432"]


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "symgrad", *args], check=False,
                          capture_output=True, text=True, timeout=120, cwd=cwd or ROOT)


def assert_one_line_error(out, *fragments):
    assert out.returncode == 2, out
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symgrad: error: "), out.stderr
    assert "Traceback" not in out.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_help_lists_the_subcommands():
    out = run("--help")
    assert out.returncode == 0
    for word in ("show", "check", "symbolic"):
        assert word in out.stdout
    for sub, words in (("show", ["FILE.py:FUNCTION", "--wrt"]),
                       ("check", ["ARG", "--rtol", "--atol", "disagree", "--timeout",
                                  "--engines"]),
                       ("symbolic", ["--latex", "point", "--timeout"])):
        out = run(sub, "--help")
        assert out.returncode == 0 and all(w in out.stdout for w in words), out.stdout


def test_show_help_lists_only_shows_options():
    out = run("show", "--help")
    assert out.returncode == 0
    for word in ("--rtol", "--atol", "--timeout", "--engines", "--latex", "check", "float",
                 "point"):
        assert word not in out.stdout, (word, out.stdout)


def test_show_prints_the_generated_source():
    out = run("show", f"{CASES}:neuron")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("def d_neuron(x1, x2, w1, w2, b, d_out=1.0):")
    assert "d_w1 = d_n * x1" in out.stdout
    out = run("show", f"{CASES}:neuron", "--wrt", "b")
    assert "return d_b" in out.stdout and "d_w1" not in out.stdout


def test_check_the_seed_neuron():
    out = run("check", f"{CASES}:neuron", *NEURON)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("check neuron(x1=2.0, x2=0.0, w1=-3.0")
    assert "symgrad (generated)" in lines[2] and "Value engine" in lines[2]
    rows = {line.split()[0]: line.split() for line in lines[4:9]}
    assert rows["x1"][1:5] == ["-1.5"] * 4 and rows["w1"][1:5] == ["1"] * 4
    assert all(line.endswith("proved equal") for line in lines[4:9])
    assert lines[-1].startswith("OK: all four engines agree")


def test_check_exits_nonzero_when_engines_disagree(tmp_path):
    bad = tmp_path / "wrong_rule.py"
    bad.write_text(textwrap.dedent("""
        import symgrad

        def cube(v):
            return v * v * v

        # wrong on purpose: d/dv v**3 is 3 v**2
        symgrad.register_rule("cube", cube, [lambda v, out: 2 * v * v],
                              sympy=lambda v: v ** 3, callables=[cube])

        def f(x, y):
            return cube(x) + y * x
    """))
    out = run("check", f"{bad}:f", "1.5", "2.0")
    assert out.returncode == 1, out.stderr
    assert "MISMATCH in x:" in out.stdout and "differ" in out.stdout
    y_row = next(line for line in out.stdout.splitlines() if line.startswith("y "))
    assert y_row.endswith("proved equal") and "*" not in y_row


@pytest.mark.heavy
def test_check_lists_and_integer_arguments():
    out = run("check", f"{CASES}:with_helpers", "[0.3, -0.4]", "1.2")
    assert out.returncode == 0, out.stderr
    assert "xs[0]" in out.stdout and "xs[1]" in out.stdout
    out = run("check", f"{CASES}:loop_power", "0.7", "4", "--wrt", "x")
    assert out.returncode == 0 and "loop_power(x=0.7, n=4)" in out.stdout, out.stderr
    out = run("check", f"{CASES}:loop_power", "0.7", "4")  # 4 stays an int: range(n) works
    assert out.returncode == 0 and "loop_power(x=0.7, n=4)" in out.stdout, out.stderr
    n_row = next(line for line in out.stdout.splitlines() if line.startswith("n "))
    assert n_row.split()[1:5] == ["0", "-", "-", "-"]     # n is a count: held constant
    assert "constant" in n_row and "held constant: n" in out.stdout
    out = run("check", f"{CASES}:pick", "[1.5, 2.0, 3.0]", "2")   # xs[i] * xs[i - 1]
    assert out.returncode == 0, out.stdout + out.stderr           # (was: index by 2.0)
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith("xs[")]
    assert [r[1] for r in rows] == ["0", "3", "2"] and [r[4] for r in rows] == ["0", "3", "2"]
    out = run("check", f"{CASES}:loop_power", "0.7", "4.0")  # a float count: f itself fails
    assert_one_line_error(out, "loop_power raised TypeError at the point", "pass 4, not 4.0")


def test_check_array_arguments(tmp_path):
    model = tmp_path / "array_model.py"
    model.write_text("import numpy as np\n\ndef loss(W, x):\n"
                     "    return np.sum(np.tanh(W @ x))\n")
    out = run("check", f"{model}:loss", "array([[0.5, -1.0], [2.0, 0.1]])",
              "np.array([1.0, 3.0])")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "check loss(W=float64[2,2], x=float64[2]) = " in out.stdout
    W, x = [[0.5, -1.0], [2.0, 0.1]], [1.0, 3.0]
    h = [sum(a * b for a, b in zip(row, x)) for row in W]
    assert float(out.stdout.splitlines()[0].rsplit(" = ", 1)[1]) == pytest.approx(
        sum(math.tanh(v) for v in h))
    rows = {line.split()[0]: line for line in out.stdout.splitlines()[4:6]}
    assert rows["W"].split()[1] == "float64[2,2]" and rows["x"].split()[1] == "float64[2]"
    assert rows["W"].count("max|diff|") == 3 and "proved equal" in rows["W"]
    out = run("check", f"{model}:loss", "array([[0.5, 'a']])", "array([1.0])")
    assert_one_line_error(out, "array(...) takes a nested list of numbers")


@pytest.mark.heavy
def test_check_defaults_timeout_and_engines():
    out = run("check", f"{CASES}:with_default", "3.0")          # k = 2.5 by default
    assert out.returncode == 0 and "with_default(x=3.0, k=2.5)" in out.stdout, out.stderr
    out = run("check", f"{CASES}:rk4", "0.5", "0.3", "--wrt", "y0,k", "--timeout", "1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SymPy (diff) timed out after 1 s" in out.stdout
    assert out.stdout.splitlines()[-1].startswith("OK: the 3 available engines agree")
    out = run("check", f"{CASES}:neuron", *NEURON, "--engines", "value,fd")
    assert out.returncode == 0 and "SymPy" not in out.stdout, out.stdout
    assert_one_line_error(run("check", f"{CASES}:neuron", *NEURON, "--engines", "torch"),
                          "unknown engine 'torch'")


def test_symbolic_prints_expressions_and_latex():
    out = run("symbolic", f"{CASES}:neuron")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "neuron(x1, x2, w1, w2, b) = tanh(b + w1*x1 + w2*x2)"
    assert "d/dw1 = x1*(1 - tanh(b + w1*x1 + w2*x2)**2)" in out.stdout
    out = run("symbolic", f"{CASES}:branchy", "1.5", "0.7", "--latex")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("\\begin{aligned}") and "y^{2}" in out.stdout
    assert "\\frac{\\partial \\operatorname{branchy}}{\\partial x}" in out.stdout
    assert out.stdout.splitlines()[1].startswith("\\operatorname{branchy} &= ")


@pytest.mark.heavy
def test_errors_are_one_line(tmp_path):
    assert_one_line_error(run("check", "no/such/file.py:f", "1.0"), "no such file: no/such/file.py")
    assert_one_line_error(run("check", f"{CASES}:nueron", *NEURON), "has no function 'nueron'",
                          "did you mean: neuron")
    assert_one_line_error(run("check", f"{CASES}:neuron", "1.0", "2.0"),
                          "neuron takes 5 arguments (x1, x2, w1, w2, b), got 2")
    assert_one_line_error(run("check", f"{CASES}:neuron", "1", "2", "3", "4", "five"),
                          "'five' is not a Python literal")
    assert_one_line_error(run("show", CASES), "expected FILE.py:FUNCTION")
    assert_one_line_error(run("show", f"{CASES}:neuron", "--wrt", "z"), "no parameter 'z'")
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_here\n")
    assert_one_line_error(run("show", f"{broken}:f"), "importing", "ModuleNotFoundError")
    out = run("frobnicate")
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_main_in_process(capsys):
    assert cli.main(["check", f"{CASES}:neuron", *NEURON]) == 0
    assert "all four engines agree" in capsys.readouterr().out
    assert cli.main(["show", f"{CASES}:missing"]) == 2
    assert "has no function 'missing'" in capsys.readouterr().err


# --------------------------------------------------------------------------- examples

def test_seed_neuron_example():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "seed_neuron.py")],
                         check=False, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "def d_neuron(x1, x2, w1, w2, b, d_out=1.0):" in text
    assert "do/dx1 = -1.5000" in text and "do/dw1 =  1.0000" in text
    assert "OK: all four engines agree" in text and text.count("proved equal") >= 10


def test_plot_derivative_example(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "slope.png"
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "plot_derivative.py"),
                          str(png)], check=False, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_stage_prints_the_ir(tmp_path, capsys):
    from symgrad.cli import main
    src = tmp_path / "staged.py"
    src.write_text("import math\n\ndef f(x, y):\n    z = x * y\n    if z > 1.0:\n"
                   "        z = math.sin(z)\n    return z + y\n")
    assert main(["show", f"{src}:f", "--stage", "ir"]) == 0
    out = capsys.readouterr().out
    assert "z = mul x y" in out and "z = sin z" in out and "out = add z y" in out
    assert main(["show", f"{src}:f", "--stage", "optimized"]) == 0
    assert "d_" in capsys.readouterr().out
