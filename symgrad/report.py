"""What :func:`symgrad.check` and :func:`symgrad.symbolic` return, and how it is shown.

:class:`CheckReport` holds one :class:`Row` per differentiated number; ``str(report)`` is a
text table and ``_repr_html_`` the same table for Jupyter.  :class:`Symbolic` holds the SymPy
expressions, printable as text or LaTeX.

>>> close(1.0, 1.0 + 1e-9, rtol=1e-6, atol=0.0), close(1.0, 1.1, rtol=1e-6, atol=0.0)
(True, False)
"""

from __future__ import annotations

import html
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from .arguments import leaves

__all__ = ["AT_POINT", "DIFFER", "ENGINES", "FD_ATOL", "FD_RTOL", "PROVED", "CheckReport", "Row",
           "Symbolic", "close", "rel_error"]

#: Finite differences carry truncation and rounding error (about 1e-12 relative for a smooth
#: ``f`` with the steps used, more where it curves sharply), so they are compared more loosely.
FD_RTOL = 1e-5
FD_ATOL = 1e-7

PROVED, AT_POINT, DIFFER = "proved equal", "equal at this point", "differ"

ENGINES = {"generated": "symgrad (generated)", "sympy": "SymPy (diff)",
           "value": "Value engine", "finite_diff": "finite diff"}


@dataclass
class Row:
    """One differentiated number (``name`` is ``x`` or ``xs[1]``): the derivative from each
    engine (None: engine unavailable); ``error``, the largest difference of an engine from
    the generated gradient, relative (absolute where both are below 1); ``agree``; the SymPy
    ``verdict`` on the generated expression (``"proved equal"``, ``"equal at this point"``,
    ``"differ"`` or ``"SymPy unavailable"``); ``differing``, the engines that disagree."""

    name: str
    param: str
    generated: float
    sympy: float | None
    value: float | None
    finite_diff: float | None
    error: float
    agree: bool
    verdict: str
    differing: tuple[str, ...] = ()


@dataclass
class CheckReport:
    """What :func:`check` found.  ``ok``: every available engine agrees with the generated
    gradient; ``rows``: one :class:`Row` per differentiated number; ``verdicts``: the SymPy
    verdict per parameter; ``unavailable``: engine -> why it could not run; ``value``: f at
    the point.  ``str(report)`` is a text table, ``_repr_html_`` the same for Jupyter."""

    function: str
    params: tuple[str, ...]
    args: tuple[Any, ...]
    wrt: tuple[str, ...]
    value: Any
    rows: list[Row]
    unavailable: dict[str, str]
    rtol: float
    atol: float
    fd_rtol: float
    fd_atol: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.agree for r in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def verdicts(self) -> dict[str, str]:
        """Per parameter: the weakest verdict among its numbers."""
        order = [DIFFER, AT_POINT, PROVED]
        out: dict[str, str] = {}
        for r in self.rows:
            cur = out.get(r.param)
            if cur is None or (r.verdict in order and
                               (cur not in order or order.index(r.verdict) < order.index(cur))):
                out[r.param] = r.verdict
        return out

    def _cells(self) -> tuple[list[str], list[list[tuple[str, bool]]]]:
        head = ["parameter", *ENGINES.values(), "max error", "SymPy verdict"]
        body = []
        for r in self.rows:
            cells = [(r.name, False)]
            for key in ENGINES:
                v = getattr(r, key)
                cells.append(("n/a" if v is None else f"{v:.10g}" + (" *" if key in r.differing
                                                                     else ""),
                              key in r.differing))
            cells += [(f"{r.error:.1e}", not r.agree), (r.verdict, r.verdict == DIFFER)]
            body.append(cells)
        return head, body

    def _lines(self) -> list[str]:
        point = ", ".join(f"{p}={_brief(a)}" for p, a in zip(self.params, self.args))
        value = float(self.value) if isinstance(self.value, numbers.Real) else self.value
        lines = [f"check {self.function}({point}) = {value!r}"]
        lines += [f"  {ENGINES[k]} unavailable: {why}" for k, why in self.unavailable.items()]
        return lines + [f"  {note}" for note in self.notes]

    def _summary(self) -> str:
        tol = (f"rtol {self.rtol:g}, atol {self.atol:g}; finite differences "
               f"rtol {self.fd_rtol:g}, atol {self.fd_atol:g}")
        n = 4 - len(self.unavailable)
        if self.ok:
            what = "all four engines agree" if n == 4 else f"the {n} available engines agree"
            return f"OK: {what} ({tol})"
        bad = ", ".join(r.name for r in self.rows if not r.agree)
        return (f"MISMATCH in {bad}: * marks a derivative that differs from the generated "
                f"gradient ({tol})")

    def __str__(self) -> str:
        head, body = self._cells()
        widths = [max(len(c) for c in col) for col in zip(head, *[[t for t, _ in r]
                                                                  for r in body])]
        def fmt(cells: list[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
        table = [fmt(head), fmt(["-" * w for w in widths])]
        table += [fmt([t for t, _ in r]) for r in body]
        return "\n".join(self._lines() + [""] + table + ["", self._summary()])

    def _repr_html_(self) -> str:
        head, body = self._cells()
        esc = html.escape
        th = "".join(f"<th>{esc(h)}</th>" for h in head)
        rows = "".join("<tr>" + "".join(
            f"<td style=\"{'color:#b00;font-weight:bold' if bad else ''}\">{esc(t)}</td>"
            for t, bad in r) + "</tr>" for r in body)
        notes = "<br>".join(esc(line) for line in self._lines())
        return (f"<div><p><code>{notes}</code></p><table><tr>{th}</tr>{rows}</table>"
                f"<p>{esc(self._summary())}</p></div>")


def _brief(x: Any) -> str:
    """``repr(x)``, or for a long list how many numbers it holds."""
    text = repr(x)
    if isinstance(x, (list, tuple)) and len(text) > 48:
        return f"[... {sum(1 for _ in leaves(x))} numbers]"
    return text


def close(a: float, b: float, rtol: float, atol: float) -> bool:
    """Do ``a`` and ``b`` agree within ``atol + rtol * max(|a|, |b|)`` (nan agrees with nan)?

    >>> close(float("nan"), float("nan"), 0.0, 0.0), close(1.0, 1.5, 0.1, 0.0)
    (True, False)
    """
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def rel_error(a: float, b: float) -> float:
    """Relative error of ``a`` against ``b`` (absolute error where both are below 1).

    >>> rel_error(2.0, 1.0), rel_error(0.5, 0.25)
    (0.5, 0.25)
    """
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    return abs(a - b) / max(1.0, abs(a), abs(b))


@dataclass
class Symbolic:
    """SymPy expressions for ``f`` and its gradient, simplified.

    ``diff[name]`` is ``sympy.diff`` of ``f``; ``generated[name]`` is what symgrad's generated
    code computes, run on SymPy symbols (``None`` if it could not run: see ``note``);
    ``proved[name]``: their difference simplifies to 0.  ``symbols[name]`` is the SymPy symbol
    of each differentiated number (list elements are ``xs[0]`` -> ``xs_0``).
    """

    function: str
    params: tuple[str, ...]
    symbols: dict[str, Any]
    f: Any
    diff: dict[str, Any]
    generated: dict[str, Any] | None
    proved: dict[str, bool]
    point: tuple[Any, ...] | None = None
    note: str = ""

    def __str__(self) -> str:
        lines = [f"{self.function}({', '.join(self.params)}) = {self.f}"]
        if self.point is not None:
            lines[0] += "   (the path taken at " + ", ".join(
                f"{p}={a!r}" for p, a in zip(self.params, self.point)) + ")"
        width = max(len(n) for n in self.diff) + 3 if self.diff else 0
        for name, d in self.diff.items():
            head = f"d/d{name}".ljust(width)
            if self.generated is not None and self.proved[name]:
                lines.append(f"{head} = {d}   (sympy.diff = symgrad: proved equal)")
                continue
            lines.append(f"{head} = {d}   (sympy.diff)")
            if self.generated is not None:
                lines.append(f"{'':{width}} = {self.generated[name]}   (symgrad's generated "
                             "code; not proved equal)")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def latex(self) -> str:
        r"""The expressions as a LaTeX ``aligned`` block.

        >>> def f(x, y):
        ...     return x * y
        >>> from symgrad import symbolic
        >>> print(symbolic(f).latex())
        \begin{aligned}
        f &= x y \\
        \frac{\partial f}{\partial x} &= y \\
        \frac{\partial f}{\partial y} &= x
        \end{aligned}
        """
        import sympy
        lines = [rf"f &= {sympy.latex(self.f)}"]
        for name, d in self.diff.items():
            part = rf"\frac{{\partial f}}{{\partial {sympy.latex(self.symbols[name])}}}"
            lines.append(rf"{part} &= {sympy.latex(d)}")
            if self.generated is not None and not self.proved[name]:
                lines.append(rf"{part}\big|_{{\mathrm{{symgrad}}}} &= "
                             rf"{sympy.latex(self.generated[name])}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

