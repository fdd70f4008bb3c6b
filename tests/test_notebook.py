"""Notebook display (``_repr_html_`` of a gradient) and the tour notebook, executed.

The display tests need nothing optional. The notebook is executed with nbclient
(the optional extra ``.[notebook]``: nbclient, nbformat, ipykernel; CI installs it) on
the ``python3`` kernel, which a virtual environment's ipykernel provides; every cell's
real output is then compared with values computed here independently.
"""
import ast
import html
import math
import os
import re
import sys
from html.parser import HTMLParser

import pytest

import symgrad
from symgrad import grad

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOUR = os.path.join(HERE, "examples", "tour.ipynb")


class _Text(HTMLParser):
    """The text of an HTML fragment, entities decoded (what a browser shows)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(fragment: str) -> str:
    p = _Text()
    p.feed(fragment)
    p.close()
    return "".join(p.parts)


def compare(x, y):
    if x < y and y > 0.0:          # '<', '>' and '&' are all in the generated source
        return x * y
    return x - y


# ---------------------------------------------------------------------------
# GradFunction._repr_html_
# ---------------------------------------------------------------------------

def test_grad_repr_html_shows_the_generated_source_escaped():
    g = grad(compare)
    out = g._repr_html_()
    assert isinstance(out, str) and out.lstrip().startswith("<")
    # every line of the source, as a browser shows it
    assert html_text(out).strip() == g.source.strip()
    for line in g.source.splitlines():
        assert line.strip() in html_text(out)
    # the comparison operators of the source reach the HTML escaped, never raw
    assert "x < y" in g.source and "y > 0.0" in g.source
    assert "x < y" not in out and "&lt;" in out and "&gt;" in out
    # the same HTML as the other generated functions' display (jvp, vjp)
    assert out == symgrad.notebook.source_html(g.source)


def test_value_and_grad_repr_html_shows_its_own_source():
    g = symgrad.value_and_grad(compare)
    text = html_text(g._repr_html_())
    assert text.strip() == g.source.strip()
    assert "d_x" in text and "d_y" in text


def test_grad_repr_html_without_pygments_is_an_escaped_pre_block(monkeypatch):
    # ``None`` in sys.modules makes ``import pygments`` raise ImportError
    monkeypatch.setitem(sys.modules, "pygments", None)
    g = grad(compare)
    out = g._repr_html_()
    assert out == "<pre>" + html.escape(g.source) + "</pre>"
    assert html_text(out) == g.source


def test_grad_repr_html_follows_the_array_specialization():
    np = pytest.importorskip("numpy")

    def loss(W, x):
        return np.sum(np.tanh(W @ x) ** 2)

    g = grad(loss)
    g(np.ones((2, 3)), np.ones(3))
    text = html_text(g._repr_html_())
    assert text.strip() == g.source.strip()
    assert "np.outer" in text and "W.T @" in text


def test_ipython_displays_a_gradient_as_html():
    formatters = pytest.importorskip("IPython.core.formatters")
    g = grad(compare)
    data, _ = formatters.DisplayFormatter().format(g)
    assert data["text/plain"] == repr(g)
    assert html_text(data["text/html"]).strip() == g.source.strip()


# ---------------------------------------------------------------------------
# examples/tour.ipynb, executed
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tour():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(TOUR, as_version=4)
    for cell in nb.cells:               # the stored outputs must not be what is tested
        if cell.cell_type == "code":
            cell.outputs = []
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                                     resources={"metadata": {"path": os.path.dirname(TOUR)}})
    client.execute()
    return nb


def _cell(nb, start: str):
    """The code cell whose source starts with ``start``."""
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(start)]
    assert len(cells) == 1, start
    return cells[0]


def _stdout(cell) -> str:
    return "".join(o.text for o in cell.outputs
                   if o.output_type == "stream" and o.name == "stdout")


def _result(cell) -> dict:
    res = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert len(res) == 1, cell.source
    return res[0].data


def _close(a, b, rel=1e-9):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


def test_tour_runs_without_errors(tour):
    code = [c for c in tour.cells if c.cell_type == "code"]
    assert len(code) >= 12
    for c in code:
        assert all(o.output_type != "error" for o in c.outputs), c.source
        assert not any(o.output_type == "stream" and o.name == "stderr" for o in c.outputs), \
            c.source
    # every cell but the imports shows something
    assert all(c.outputs for c in code[1:])


def test_tour_gradient_values_match_the_derivative_by_hand(tour):
    x, w, b = 2.0, -0.5, 0.3
    s = 1.0 - math.tanh(x * w + b) ** 2
    got = ast.literal_eval(_result(_cell(tour, "def neuron"))["text/plain"])
    assert len(got) == 3
    assert all(_close(g, e) for g, e in zip(got, (s * w, s * x, s)))
    value = ast.literal_eval(_result(_cell(tour, "value, (d_x"))["text/plain"])
    assert _close(value[0], math.tanh(x * w + b))
    assert all(_close(g, e) for g, e in zip(value[1:], (s * w, s * x, s)))


def test_tour_prints_the_generated_source(tour):
    out = _stdout(_cell(tour, "print(d_neuron.source)"))
    assert out.startswith("def d_neuron(x, w, b, d_out=1.0):")
    assert "# grad of: return math.tanh(x * w + b)" in out
    for name in ("d_x", "d_w", "d_b"):
        assert re.search(rf"^\s+{name} = ", out, re.M), name
    assert "return (d_x, d_w, d_b)" in out


def test_tour_displays_the_gradient_as_highlighted_html(tour):
    shown = [c for c in tour.cells if c.cell_type == "code" and c.source.strip() == "d_neuron"]
    assert len(shown) == 1
    data = _result(shown[0])
    assert data["text/plain"] == "<symgrad grad of neuron wrt (x, w, b)>"
    text = html_text(data["text/html"])
    assert text.strip() == _stdout(_cell(tour, "print(d_neuron.source)")).strip()
    assert "<span" in data["text/html"]          # highlighted (Pygments, shipped with Jupyter)


def test_tour_check_table_agrees(tour):
    data = _result(_cell(tour, "def f(x, y)"))
    assert "text/html" in data
    table = data["text/html"]
    assert "<table>" in table
    text = html_text(table)
    assert "proved equal" in text and "SymPy (diff)" in text
    # the table's numbers: d/dx = y cos(xy) + 2x, d/dy = x cos(xy) at (1, 2)
    assert f"{2.0 * math.cos(2.0) + 2.0:.9g}"[:9] in text
    assert f"{math.cos(2.0):.9g}"[:9] in text
    assert _result(_cell(tour, "report.ok"))["text/plain"] == "True"


def test_tour_symbolic_renders_latex(tour):
    data = _result(_cell(tour, "symbolic(f)"))
    latex = data["text/latex"]
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    assert r"\frac{\partial f}{\partial x} &= 2 x + y \cos{\left(x y \right)}" in latex
    assert r"\frac{\partial f}{\partial y} &= x \cos{\left(x y \right)}" in latex


def test_tour_jvp_and_hessian_match_the_derivatives_by_hand(tour):
    x, y = 1.0, 2.0
    val, tan = ast.literal_eval(_result(_cell(tour, "jvp(f"))["text/plain"])
    assert _close(val, math.sin(x * y) + x ** 2)
    assert _close(tan, y * math.cos(x * y) + 2 * x)
    H = ast.literal_eval(_result(_cell(tour, "hessian(f)"))["text/plain"])
    s, c = math.sin(x * y), math.cos(x * y)
    want = ((2.0 - y * y * s, c - x * y * s), (c - x * y * s, -x * x * s))
    for row, wrow in zip(H, want):
        assert all(_close(a, b) for a, b in zip(row, wrow))


def test_tour_numpy_gradient_matches_a_hand_written_one(tour):
    np = pytest.importorskip("numpy")
    W = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]])
    x = np.array([1.0, 2.0, 3.0])
    h = np.tanh(W @ x)
    d = 2.0 * h * (1.0 - h * h)
    want = list(np.outer(d, x).ravel()) + list(W.T @ d)
    printed = _stdout(_cell(tour, "def loss"))
    got = [float(v) for v in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", printed)]
    assert len(got) == len(want) == 9
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-8)   # numpy prints 8 digits
    src = _stdout(_cell(tour, "print(d_loss.source)"))
    assert src.startswith("def d_loss(W, x, d_out=1.0):")
    assert "d_W = np.outer(" in src and "d_x = W.T @ " in src
