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

__all__ = ["AT_POINT", "CONSTANT", "DIFFER", "ENGINES", "FD_ATOL", "FD_RTOL", "GENERATED", "MODES",
           "PROVED", "CheckReport", "ModeInfo", "Row", "Symbolic", "close", "rel_error"]

#: Finite differences carry truncation and rounding error (about 1e-12 relative for a smooth
#: ``f`` with the steps used, more where it curves sharply), so they are compared more loosely.
FD_RTOL = 1e-5
FD_ATOL = 1e-7

PROVED, AT_POINT, DIFFER = "proved equal", "equal at this point", "differ"

#: The reference engines: name (as in ``check(engines=...)``) -> (Row attribute, column title).
ENGINES: dict[str, tuple[str, str]] = {"sympy": ("sympy", "SymPy (diff)"),
                                       "value": ("value", "Value engine"),
                                       "fd": ("finite_diff", "finite diff")}
GENERATED = "symgrad (generated)"


@dataclass(frozen=True)
class ModeInfo:
    """How a report of one mode of :func:`~symgrad.check` is shown: the title of the first
    column (``entry``), each engine's column ``titles``, the engines compared with the
    finite-difference tolerances (``loose``), and one line on what is compared (``how``)."""

    entry: str
    titles: dict[str, str]
    loose: tuple[str, ...]
    how: str


_VALUE_FD = "Value (FD of grad)"
#: The modes of check: what each compares, and how its report is titled.
MODES: dict[str, ModeInfo] = {
    "grad": ModeInfo("parameter", {k: t for k, (_, t) in ENGINES.items()}, ("fd",), ""),
    "jvp": ModeInfo("entry", {"sympy": "SymPy (grad.v)", "value": "Value (grad.v)",
                              "fd": "finite diff"}, ("fd",),
                    "symgrad.jvp along v; SymPy and the Value engine give gradient . v"),
    "hessian": ModeInfo("entry", {"sympy": "SymPy (hessian)", "value": _VALUE_FD,
                                  "fd": "2nd differences"}, ("value", "fd"),
                        "symgrad.hessian; Value column: central differences of the Value "
                        "engine's gradient"),
    "hvp": ModeInfo("entry", {"sympy": "SymPy (hessian.v)", "value": _VALUE_FD,
                              "fd": "2nd differences"}, ("value", "fd"),
                    "symgrad.hvp along v; Value column: central differences of the Value "
                    "engine's gradient along v"),
}
CONSTANT = "constant (not differentiable: used as a count/index/condition)"


@dataclass
class Row:
    """One differentiated number (``name`` is ``x`` or ``xs[1]``): the derivative from each
    engine (None: that engine has none; ``missing`` says why when only this number lacks
    one); ``error``, the largest difference of an engine from the generated gradient,
    relative (absolute where both are below 1; nan: no engine to compare with); ``agree``;
    the SymPy ``verdict`` on the generated expression (``"proved equal"``, ``"equal at this
    point"``, ``"differ"``, or why there is none); ``differing``, the engines that disagree.
    A ``constant`` row is a parameter held constant (inactive in the gradient): it agrees
    when its generated derivative is exactly 0."""

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
    missing: dict[str, str] = field(default_factory=dict)
    constant: bool = False
    shape: tuple[int, ...] | None = None   # an array block: its shape (numbers are arrays)
    parts: list[Row] = field(default_factory=list, repr=False)  # its elements' rows

    @classmethod
    def merge(cls, name: str, shape: tuple[int, ...], parts: list[Row]) -> Row:
        """One row for an array block (``W``, ``H[W,x]``) from the rows of its elements, in
        C order: its numbers are arrays of ``shape`` (an engine's is None if it has none for
        any element, nan where it lacks one), ``error`` the largest, ``agree`` when all do,
        the weakest verdict.

        >>> a = Row("w[0]", "w", 1.0, None, None, 1.0, 0.0, True, "-")
        >>> b = Row("w[1]", "w", 2.0, None, None, 2.5, 0.2, False, "-", ("fd",))
        >>> r = Row.merge("w", (2,), [a, b])
        >>> r.finite_diff, r.agree, r.error, r.differing
        (array([1. , 2.5]), False, 0.2, ('fd',))
        """
        import numpy as np

        def column(attr: str) -> Any:
            vals = [getattr(p, attr) for p in parts]
            if all(v is None for v in vals):
                return None
            return np.array([math.nan if v is None else v for v in vals],
                            dtype=float).reshape(shape)
        errors = [p.error for p in parts if not math.isnan(p.error)]
        order = [DIFFER, AT_POINT, PROVED]
        verdicts = [p.verdict for p in parts]
        if DIFFER in verdicts or all(v in order for v in verdicts):
            verdict = min(verdicts, key=order.index)
        else:   # why there is no verdict for some element (SymPy skipped, a constant)
            verdict = next(v for v in verdicts if v not in order)
        differing = tuple(dict.fromkeys(k for p in parts for k in p.differing))
        missing: dict[str, str] = {}
        for p in parts:
            for k, why in p.missing.items():
                missing.setdefault(k, why)
        return cls(name, parts[0].param, column("generated"), column("sympy"),
                   column("value"), column("finite_diff"), max(errors, default=math.nan),
                   all(p.agree for p in parts), verdict, differing, missing,
                   all(p.constant for p in parts), tuple(shape), list(parts))

    @classmethod
    def compare(cls, leaf: Any, generated: float, columns: dict[str, Any], no_verdict: str,
                tol: tuple[float, float], fd_tol: tuple[float, float],
                loose: tuple[str, ...] = ("fd",)) -> Row:
        """The row of ``leaf`` (anything with a ``name``, ``param`` and ``constant``):
        ``generated`` against each engine's column (an :class:`~symgrad.engines.Column` per
        engine that ran), within ``tol``, or ``fd_tol`` for the engines in ``loose``.

        >>> from symgrad.engines import Column
        >>> from types import SimpleNamespace as Leaf
        >>> x = Leaf(name="x", param="x", constant=False)
        >>> r = Row.compare(x, 2.0, {"fd": Column({"x": 2.0000001})}, "-", (1e-6, 0), (1e-5, 0))
        >>> r.agree, r.finite_diff, r.sympy
        (True, 2.0000001, None)
        """
        if leaf.constant:
            bad = () if generated == 0 else ("generated",)
            return cls(leaf.name, leaf.param, generated, None, None, None, abs(generated),
                       not bad, CONSTANT, bad, constant=True)
        vals = {key: col.values.get(leaf.name) for key, col in columns.items()}
        differing = tuple(key for key, v in vals.items() if v is not None and
                          not close(v, generated, *(fd_tol if key in loose else tol)))
        errors = [rel_error(v, generated) for v in vals.values() if v is not None]
        verdict = columns["sympy"].verdicts.get(leaf.name, no_verdict) \
            if "sympy" in columns else no_verdict
        missing = {key: col.missing[leaf.name] for key, col in columns.items()
                   if leaf.name in col.missing}
        return cls(leaf.name, leaf.param, generated, vals.get("sympy"), vals.get("value"),
                   vals.get("fd"), max(errors, default=math.nan),
                   bool(errors) and not differing and verdict != DIFFER, verdict, differing,
                   missing)

    @property
    def checked(self) -> bool:
        """Did any engine give a derivative to compare with (or is the row constant)?

        >>> Row("x", "x", 1.0, None, None, None, float("nan"), False, "-").checked
        False
        """
        return self.constant or not math.isnan(self.error)


@dataclass
class CheckReport:
    """What :func:`~symgrad.check` found.  ``ok``: every number's generated derivative agrees
    with every engine that gave one, and at least one engine gave one (a constant's must be
    exactly 0); ``rows``: one :class:`Row` per differentiated number; ``verdicts``: the SymPy
    verdict per parameter; ``engines``: the engines asked for; ``unavailable``: engine ->
    why it gave nothing (``timed_out``: those that ran out of time); ``constant``: the
    parameters held constant; ``value``: f at the point.  ``mode``: what was checked (see
    :data:`MODES`); a row is then an entry (``jvp``, ``H[x,y]``, ``Hv[x]``) rather than a
    parameter's number; ``tangents``: the direction ``v`` of ``jvp`` and ``hvp``, one per
    ``wrt`` parameter (``default_tangents``: check chose it).  ``str(report)`` is a text
    table, ``_repr_html_`` the same for Jupyter.

    >>> from symgrad import check
    >>> def f(x, y):
    ...     return x * y
    >>> report = check(f, 2.0, 3.0, engines=["fd"])
    >>> report.ok, report.rows[0].finite_diff, report.rows[0].sympy
    (True, 3.0, None)
    """

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
    engines: tuple[str, ...] = tuple(ENGINES)
    timed_out: tuple[str, ...] = ()
    constant: tuple[str, ...] = ()
    mode: str = "grad"
    tangents: tuple[Any, ...] | None = None
    default_tangents: bool = False
    skipped: dict[str, str] = field(default_factory=dict)   # engine -> "too large" ...

    @property
    def ok(self) -> bool:
        """Every row agrees (see the class docstring).

        >>> from symgrad import check
        >>> def f(x):
        ...     return 3 * x
        >>> check(f, 1.0, engines="fd").ok
        True
        """
        return all(r.agree for r in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def verdicts(self) -> dict[str, str]:
        """Per parameter: the weakest verdict among its numbers.

        >>> from symgrad import check
        >>> def f(xs, y):
        ...     return xs[0] * xs[1] + y
        >>> check(f, [1.0, 2.0], 3.0).verdicts
        {'xs': 'proved equal', 'y': 'proved equal'}
        """
        order = [DIFFER, AT_POINT, PROVED]
        out: dict[str, str] = {}
        for r in self.rows:
            cur = out.get(r.param)
            if cur is None or (r.verdict in order and
                               (cur not in order or order.index(r.verdict) < order.index(cur))):
                out[r.param] = r.verdict
        return out

    def _title(self, key: str) -> str:
        return MODES[self.mode].titles[key]

    def _cell(self, r: Row, key: str) -> tuple[str, bool]:
        v = getattr(r, ENGINES[key][0])
        if r.constant:
            return "-", False
        if key in self.skipped:
            return f"skipped: {self.skipped[key]}", False
        if key in self.unavailable:
            return ("timed out" if key in self.timed_out else "n/a"), False
        if v is None:
            return ("unavailable" if key in r.missing else "n/a"), False
        bad = key in r.differing
        return _number(v, r.generated) + (" *" if bad else ""), bad

    def _cells(self) -> tuple[list[str], list[list[tuple[str, bool]]]]:
        head = [MODES[self.mode].entry, GENERATED, *(self._title(k) for k in self.engines),
                "max error", "SymPy verdict" if "sympy" in self.engines else "verdict"]
        body = []
        for r in self.rows:
            bad = "generated" in r.differing
            gen = _brief(r.generated) if r.shape is not None else f"{r.generated:.10g}"
            cells = [(r.name, False), (gen + (" *" if bad else ""), bad)]
            cells += [self._cell(r, key) for key in self.engines]
            error = "-" if math.isnan(r.error) else f"{r.error:.1e}"
            cells += [(error, not r.agree), (r.verdict, r.verdict == DIFFER or bad)]
            body.append(cells)
        return head, body

    def _lines(self) -> list[str]:
        point = ", ".join(f"{p}={_brief(a)}" for p, a in zip(self.params, self.args))
        value = float(self.value) if isinstance(self.value, numbers.Real) else self.value
        lines = [f"check {self.function}({point}) = {value!r}"]
        if self.mode != "grad":
            lines.append(f"  mode {self.mode}: {MODES[self.mode].how}")
        if self.tangents is not None:
            v = ", ".join(f"{p}={_brief(t)}" for p, t in zip(self.wrt, self.tangents))
            lines.append(f"  along v: {v}" + " (check's default direction)" *
                         self.default_tangents)
        lines += [f"  {self._title(k)} " + (why if k in self.timed_out else
                                            f"skipped: {why}" if k in self.skipped else
                                            f"unavailable: {why}")
                  for k, why in self.unavailable.items()]
        lines += [line for r in self.rows if r.shape is not None and not r.agree
                  for line in self._worst(r)]
        lines += [f"  {self._title(k)} for {r.name}: unavailable: {why}"
                  for r in self.rows for k, why in r.missing.items()]
        if self.constant:
            lines.append(f"  held constant: {', '.join(self.constant)} (not differentiable: "
                         "used only as a count, index or condition; the generated derivative "
                         "must be exactly 0)")
        return lines + [f"  {note}" for note in self.notes]

    def _worst(self, r: Row) -> list[str]:
        """For an array row that disagrees: how many of its entries do, and the worst."""
        bad = [p for p in r.parts if not p.agree and p.checked]
        if not bad:
            return []
        worst = max(bad, key=lambda p: p.error)
        size = len(r.parts)
        what = ", ".join(f"{self._title(k)} {getattr(worst, ENGINES[k][0]):.10g}"
                         for k in worst.differing if k in ENGINES)
        return [f"  {r.name}: {len(bad)} of {size} entries differ; worst {worst.name}: "
                f"generated {worst.generated:.10g}" + (f", {what}" if what else "") +
                (f" ({worst.verdict})" if worst.verdict == DIFFER else "")]

    def _summary(self) -> str:
        loose = "finite differences" if MODES[self.mode].loose == ("fd",) else \
            "finite differences and the Value column"
        tol = (f"rtol {self.rtol:g}, atol {self.atol:g}; {loose} "
               f"rtol {self.fd_rtol:g}, atol {self.fd_atol:g}")
        ran = [k for k in self.engines if k not in self.unavailable]
        if self.ok:
            what = "all four engines agree" if len(ran) == len(ENGINES) else \
                f"the {len(ran) + 1} available engines agree"
            what += " where they apply" * any(r.missing for r in self.rows)
            late = "".join(f"; {self._title(k)} timed out" for k in self.timed_out)
            late += "".join(f"; {self._title(k)} skipped ({why})"
                            for k, why in self.skipped.items())
            return f"OK: {what}{late} ({tol})"
        if any(r.differing or r.verdict == DIFFER for r in self.rows):
            bad = ", ".join(r.name for r in self.rows if not r.agree and r.checked)
            what = "gradient" if self.mode == "grad" else self.mode
            return (f"MISMATCH in {bad}: * marks a derivative that differs from the generated "
                    f"{what}, or a constant's generated derivative that is not 0 ({tol})")
        unchecked = ", ".join(r.name for r in self.rows if not r.checked)
        return (f"NOT CHECKED: no engine gave a derivative of {unchecked} to compare with "
                "(see above why)")

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
    """``repr(x)``, or for a long list how many numbers it holds, or for an array its dtype
    and shape (``float64[3,4]``).

    >>> import numpy as np
    >>> _brief(2.5), _brief(np.zeros((3, 4))), _brief(list(range(30)))
    ('2.5', 'float64[3,4]', '[... 30 numbers]')
    """
    if hasattr(x, "shape") and hasattr(x, "dtype") and getattr(x, "shape", ()) != ():
        return f"{x.dtype}[{','.join(map(str, x.shape))}]"
    text = repr(x)
    if isinstance(x, (list, tuple)) and len(text) > 48:
        return f"[... {sum(1 for _ in leaves(x))} numbers]"
    return text


def _number(v: Any, generated: Any) -> str:
    """An engine's cell: a number, or for an array the largest absolute difference from the
    generated array (its shape is in the generated column).

    >>> import numpy as np
    >>> _number(0.5, 0.5), _number(np.array([1.0, 2.5]), np.array([1.0, 2.0]))
    ('0.5', 'max|diff| 5.0e-01')
    """
    if getattr(v, "shape", ()) == ():
        return f"{v:.10g}"
    import numpy as np
    diff = np.abs(np.asarray(v, dtype=float) - np.asarray(generated, dtype=float))
    if np.all(np.isnan(diff)):
        return "n/a"
    return f"max|diff| {np.nanmax(diff):.1e}"


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
    of each differentiated number (list elements are ``xs[0]`` -> ``xs_0``).  ``str()`` is
    text, :meth:`latex` LaTeX (``_repr_latex_`` renders it in Jupyter).

    >>> from symgrad import symbolic
    >>> def area(w, h):
    ...     return w * h
    >>> print(symbolic(area))
    area(w, h) = h*w
    d/dw = h   (sympy.diff = symgrad: proved equal)
    d/dh = w   (sympy.diff = symgrad: proved equal)
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
        f = _latex_name(self.function)
        lines = [rf"{f} &= {sympy.latex(self.f)}"]
        for name, d in self.diff.items():
            part = rf"\frac{{\partial {f}}}{{\partial {sympy.latex(self.symbols[name])}}}"
            lines.append(rf"{part} &= {sympy.latex(d)}")
            if self.generated is not None and not self.proved[name]:
                lines.append(rf"{part}\big|_{{\mathrm{{symgrad}}}} &= "
                             rf"{sympy.latex(self.generated[name])}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"



def _latex_name(function: str) -> str:
    r"""A function's name in LaTeX: one letter in italics, a longer name upright.

    >>> _latex_name("f"), _latex_name("loop_power"), _latex_name("test.<locals>.g")
    ('f', '\\operatorname{loop\\_power}', 'g')
    """
    name = function.rsplit(".", 1)[-1]
    return name if len(name) == 1 else r"\operatorname{" + name.replace("_", r"\_") + "}"
