"""What :func:`symgrad.check` compares in each mode, and how each engine computes it.

``check(f, *args, mode=...)`` checks one of symgrad's generated functions at a point:

=========  ===================  ===================  ===========================  =========================
mode       symgrad              SymPy                Value engine                 finite differences
=========  ===================  ===================  ===========================  =========================
grad       ``grad(f)``          ``sympy.diff``       ``backward()``               central differences
jvp        ``jvp`` along v      gradient . v         gradient . v                 central differences along v
hessian    ``hessian(f)``       ``sympy.hessian``    central differences of its   second differences of f
                                                     gradient
hvp        ``hvp`` along v      ``sympy.hessian`` v  the same, along v            second differences of f
=========  ===================  ===================  ===========================  =========================

The ``Value`` engine has first derivatives only, so for second derivatives its column is a
central difference of its gradient (labelled so in the report) and is compared with the
finite-difference tolerances.  Second differences of ``f`` use the fourth-order stencil of
:func:`~symgrad.engines.directional`; an off-diagonal entry is ``(D(ei + ej) - D(ei - ej)) / 4``
with ``D(u)`` the second derivative along ``u`` (and ``Hv[xi]`` likewise with ``u = ei +- v``).

For the proofs the generated code runs on SymPy symbols, the direction ``v`` included: a jvp
or hvp "proved equal" is equal for every direction, and a Hessian's entries are read off the
symbolic hvp as the coefficients of ``v``.

Each mode is a class: its ``entries`` (the report's rows), the generated numbers, the SymPy
expressions (``references`` from ``sympy.diff`` / ``sympy.hessian``; ``traced``: the generated
code on symbols) and its ``value`` and ``fd`` columns.

>>> def f(x, y):
...     return x * x * y
>>> from symgrad import check
>>> r = check(f, 3.0, 2.0, mode="hessian")
>>> [(row.name, row.generated, row.verdict) for row in r.rows if row.param == "H[x,y]"]
[('H[x,y]', 6.0, 'proved equal')]
"""

from __future__ import annotations

import functools
import math
import numbers
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from . import modes
from .arguments import Leaf, Point, at_path
from .check_arrays import ArrayPoint, is_array, leaf_name, leaves, map_leaves, retarget_for
from .engines import (
    Column,
    SympySide,
    directional,
    finite_diff,
    trace_generated,
    used_as_int,
    value_engine,
    where,
)
from .errors import SymgradError
from .prove import diff_floor0
from .report import MODES
from .structures import zeros
from .traced import NeedsPointError, SymbolicError, Traced, to_expr

__all__ = ["MODE_NAMES", "Entry", "GradCheck", "HessianCheck", "HvpCheck", "JvpCheck",
           "ModeCheck", "default_tangents", "mode_check", "traced_gradient"]

MODE_NAMES = tuple(MODES)  # grad, jvp, hessian, hvp
TANGENT_SEED = 0  #: the seed of check's default direction

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Entry:
    """One checked number of a mode (a row of the report): ``name`` (``H[x,y]``), ``param``
    (the group the report's ``verdicts`` are kept for: ``H[xs,y]`` for the block of
    ``xs`` and ``y``), ``constant`` (it involves a parameter held constant: it must be 0)."""

    name: str
    param: str
    constant: bool = False
    block: str = ""                       # an entry of an array block: its name (H[W,x])
    block_shape: tuple[int, ...] = ()     # the block's shape
    at: tuple[int, ...] = ()              # the entry's index in it


def _entry(name: str, param: str, constant: bool, *leaves_: Leaf, block: str) -> Entry:
    """An entry over ``leaves_``; when one of them is an element of an array, an element of
    the block ``block`` whose shape joins theirs."""
    if not any(getattr(leaf, "block", "") for leaf in leaves_):
        return Entry(name, param, constant)
    shape = tuple(d for leaf in leaves_ for d in getattr(leaf, "block_shape", ()))
    at = tuple(i for leaf in leaves_ for i in getattr(leaf, "at", ()))
    return Entry(name, param, constant, block, shape, at)


def _block(leaf: Leaf) -> str:
    return getattr(leaf, "block", "") or leaf.name


def default_tangents(point: Point) -> list[Any]:
    """check's direction ``v`` when none is given: one tangent per differentiated parameter,
    shaped like its argument.  Each number is +-0.2 to 1.0 with two decimals, drawn in order
    from ``random.Random(TANGENT_SEED)``: the same on every run, and, unlike a direction of
    all ones, one that also shows two partial derivatives swapped.  A parameter held
    constant gets 0.

    >>> def f(x, xs):
    ...     return x * sum(xs)
    >>> default_tangents(Point.at(f, (1.0, [2.0, 3.0])))
    [-0.88, [-0.23, -0.52]]
    """
    rng = random.Random(TANGENT_SEED)

    def draw(path: tuple, value: Any) -> float:
        return round(rng.uniform(0.2, 1.0), 2) * rng.choice((1, -1))
    out = []
    for p in point.wrt:
        t = map_leaves(point.args[point.params.index(p)], draw)
        out.append(map_leaves(t, lambda path, v: 0.0) if p in point.constant else t)
    return out


def _shaped(arg: Any, t: Any) -> bool:
    if is_array(arg):
        import numpy as np
        return is_array(t) and t.shape == arg.shape and np.issubdtype(t.dtype, np.number) \
            and not np.issubdtype(t.dtype, np.complexfloating)
    if isinstance(arg, (list, tuple)):
        return isinstance(t, (list, tuple)) and len(t) == len(arg) and \
            all(_shaped(a, u) for a, u in zip(arg, t))
    return isinstance(t, numbers.Real) and not isinstance(t, bool)


def _checked_tangents(point: Point, tangents: Any) -> list[Any]:
    """``tangents``: one per differentiated parameter, shaped like its argument (with one
    parameter, its tangent alone will do)."""
    args = [point.args[point.params.index(p)] for p in point.wrt]
    if isinstance(tangents, (list, tuple)) and len(tangents) == len(args) and \
            all(_shaped(a, t) for a, t in zip(args, tangents)):
        return list(tangents)
    if len(args) == 1 and _shaped(args[0], tangents):
        return [tangents]
    if any(is_array(a) for a in args):
        example = "(" + ", ".join(_ones_like(a) for a in args) + ("," if len(args) == 1 else "") \
            + ")"
        given = "(" + ", ".join(_kind(t) for t in tangents) + ")" \
            if isinstance(tangents, (list, tuple)) else _kind(tangents)
        raise SymgradError(f"tangents={given}: give one tangent per differentiated parameter "
                           f"({', '.join(point.wrt)}), each shaped like its argument, e.g. "
                           f"tangents={example}")
    ones = [map_leaves(a, lambda path, v: 1.0) for a in args]
    example = repr(ones[0] if len(ones) == 1 else ones)
    raise SymgradError(f"tangents={tangents!r}: give one tangent per differentiated "
                       f"parameter ({', '.join(point.wrt)}), each shaped like its argument, "
                       f"e.g. tangents={example}")


def _kind(t: Any) -> str:
    """A tangent in a message: an array as dtype[shape] (``float64[3]``), else its repr."""
    return f"{t.dtype}[{','.join(map(str, t.shape))}]" if is_array(t) else repr(t)


def _ones_like(a: Any) -> str:
    """Python text for a tangent of ones shaped like ``a``: ``np.ones((2, 3))``, ``1.0``."""
    if is_array(a):
        return f"np.ones({a.shape[0] if len(a.shape) == 1 else a.shape})"
    return repr(map_leaves(a, lambda path, v: 1.0))


def mode_check(mode: str, tangents: Any) -> type[ModeCheck]:
    """The class that checks ``mode``, after checking ``tangents`` fits it.

    >>> mode_check("hvp", None).__name__
    'HvpCheck'
    """
    if mode == "vjp":
        raise SymgradError("mode='vjp': for a function returning one number the vjp is the "
                           "gradient times the cotangent; check it with mode='grad'")
    if mode not in MODE_NAMES:
        raise SymgradError(f"mode={mode!r}: use " + ", ".join(map(repr, MODE_NAMES[:-1])) +
                           f" or {MODE_NAMES[-1]!r}")
    if tangents is not None and mode not in ("jvp", "hvp"):
        raise SymgradError(f"tangents= is the direction of mode='jvp' and mode='hvp'; "
                           f"mode={mode!r} takes none")
    return {"grad": GradCheck, "jvp": JvpCheck, "hessian": HessianCheck, "hvp": HvpCheck}[mode]


def traced_gradient(gf: Any, side: SympySide) -> dict[str, Any]:
    """The generated gradient on ``side``'s symbols, by number name (a
    :class:`SymbolicError` says why it cannot run there)."""
    trace_generated(gf, side)
    if side.generated is None:
        raise SymbolicError(side.generated_error)
    return dict(zip(side.names, side.generated))


def _on_symbols(what: str, run: Callable[[], Any]) -> Any:
    """``run()``: generated code on Traced numbers; an error says why it cannot run there."""
    try:
        return run()
    except NeedsPointError as exc:
        raise SymbolicError(f"the generated {what} needs a point: {exc} "
                            f"(at {where(exc)})") from None
    except Exception as exc:  # noqa: BLE001 - reported as the reason there is no proof
        raise SymbolicError(f"the generated {what} cannot run on SymPy symbols: "
                            f"{type(exc).__name__}: {exc}") from None


def _one() -> Traced:
    import sympy
    return Traced(sympy.Integer(1), 1.0)


class ModeCheck:
    """What one mode compares (subclasses: :class:`GradCheck`, :class:`JvpCheck`,
    :class:`HessianCheck`, :class:`HvpCheck`): ``entries``, the rows; :meth:`generated`,
    symgrad's numbers; :meth:`references` and :meth:`traced`, SymPy's expressions and the
    generated code's on symbols; :meth:`value` and :meth:`fd`, those engines' columns.

    ``tangents`` (jvp, hvp): the direction, one per ``point.wrt`` parameter (checked, or
    :func:`default_tangents`: then ``default_tangents`` is true); ``v``: its numbers by
    name; ``direction``: those of the numbers not held constant that are not 0.
    """

    mode = what = ""
    takes_tangents = False

    def __init__(self, f: Any, gf: Any, point: Point, tangents: Any = None) -> None:
        self.f, self.gf, self.point = f, gf, point
        self.active = point.active()
        self.default_tangents = tangents is None and self.takes_tangents
        if self.takes_tangents:
            tangents = default_tangents(point) if tangents is None else \
                _checked_tangents(point, tangents)
        self.tangents: list[Any] | None = tangents
        flat = [t for tan in tangents or () for _, t in leaves(tan)]
        self.v: dict[str, float] = dict(zip([leaf.name for leaf in point.leaves()], flat))
        self.direction = {leaf.name: self.v[leaf.name] for leaf in self.active
                          if self.v.get(leaf.name)}
        self.entries: list[Any] = self._entries()
        self._build()

    def _build(self) -> None:
        """Generate the code this mode checks now: an error in doing so is raised as it is,
        not as ``f``'s derivative failing at the point."""

    def _entries(self) -> list[Any]:
        raise NotImplementedError

    def generated(self, *args: Any) -> dict[str, float]:
        """symgrad's numbers at ``args``, by entry name."""
        raise NotImplementedError

    def references(self, side: SympySide) -> dict[str, Any]:
        """SymPy's expression of each entry not held constant (after
        :func:`~symgrad.engines.trace`)."""
        raise NotImplementedError

    def traced(self, side: SympySide) -> dict[str, Any]:
        """The generated code's expression of each entry, on ``side``'s symbols."""
        raise NotImplementedError

    def value(self, progress: Progress) -> Column:
        """The Value engine's column."""
        raise NotImplementedError

    def fd(self, progress: Progress) -> Column:
        """The finite differences' column."""
        raise NotImplementedError

    def zero_parts(self, diff: Any) -> list[Any]:
        """Expressions that are all identically zero exactly when ``diff`` is (a difference
        of the generated expression from SymPy's)."""
        return [diff]

    @functools.cached_property
    def symbols(self) -> dict[str, Any]:
        """A SymPy symbol for each direction component (``Dummy``: it cannot clash with a
        parameter's symbol), by number name."""
        import sympy
        return {leaf.name: sympy.Dummy(f"v_{leaf.name}", real=True) for leaf in self.active}

    def extra(self) -> dict[Any, float]:
        """The values of :attr:`symbols` at the point (the direction)."""
        return {s: self.v.get(name, 0.0) for name, s in self.symbols.items()}

    def _split_in_v(self, diff: Any) -> list[Any]:
        """``diff`` at ``v = 0`` and its derivative in each component of ``v``: all zero
        exactly when ``diff`` is (smaller problems for SymPy than the whole sum)."""
        import sympy
        vs = list(self.symbols.values())
        return [diff.xreplace(dict.fromkeys(vs, 0))] + [sympy.diff(diff, v) for v in vs]

    def _tangent_args(self, tangent: Callable[[Leaf], Any]) -> list[Any]:
        """One tangent argument per differentiated parameter: ``tangent(leaf)`` for each
        number not held constant, the given (or zero) tangent for the others."""
        names = {leaf.name: leaf for leaf in self.active}
        out = []
        for k, p in enumerate(self.point.wrt):
            like = self.tangents[k] if self.tangents is not None else \
                map_leaves(self.point.args[self.point.params.index(p)], lambda path, v: 0.0)
            out.append(map_leaves(like, lambda path, t, p=p: tangent(names[leaf_name(p, path)])
                                  if leaf_name(p, path) in names else t))
        return out

    def _patterns(self, wrt: Any = None) -> tuple | None:
        """The array patterns the generated code is specialized for at the point (and
        the values of parameters it is made for: see static_args)."""
        pt = self.point
        idx = range(len(pt.params)) if wrt is None else [pt.params.index(p) for p in wrt]
        return modes._patterns_for(self.f, tuple(pt.args), idx)

    def _sweep(self, make: Any, wrt: Any = None) -> Any:
        """``make(patterns)`` at the point, learning the values it needs first."""
        pt = self.point
        idx = range(len(pt.params)) if wrt is None else [pt.params.index(p) for p in wrt]
        return modes._sweep(self.f, tuple(pt.args), idx, make)

    def _symbolic(self, leaf: Leaf) -> Traced:
        return Traced(self.symbols[leaf.name], self.v.get(leaf.name, 1.0))

    def _value_gradient(self, *args: Any) -> list[float | None]:
        """The Value engine's gradient at ``args``, one per number not held constant (None:
        it has none for that number)."""
        col = value_engine(self.f, replace(self.point, args=list(args)))
        return [col.values.get(leaf.name) for leaf in self.active]

    def _fail(self, what: str) -> str:
        return f"{self.point.function} raises at every finite-difference step of {what}"


def _or_missing(col: Column, names: list[str], moved: list[Leaf],
                work: Callable[[], Any]) -> Any:
    """``work()``; if it fails because an int among ``moved`` is used as an integer, None,
    and each of ``names`` is missing from ``col`` with the reason."""
    try:
        return work()
    except TypeError as exc:
        ints = list(dict.fromkeys(leaf.name for leaf in moved if leaf.is_int))
        if not ints:
            raise
        col.missing.update(dict.fromkeys(names, used_as_int(ints, exc)))
        return None


def by_leaves(point: Point, out: Any) -> list[tuple[Leaf, Any]]:
    """Each differentiated number of ``point`` with its entry in ``out``, a generated
    result with one part per ``wrt`` parameter (a tuple: ``wrt`` is given as a list),
    read by the leaf's path: the part may be a list where the argument was a tuple, or
    the generated function's record of fields where it was a NamedTuple or a dataclass."""
    return [(leaf, at_path(out[point.wrt.index(leaf.param)], leaf.path))
            for leaf in point.leaves()]


class GradCheck(ModeCheck):
    """``mode="grad"``: the generated gradient, one entry per differentiated number."""

    mode, what = "grad", "gradient"

    def _entries(self) -> list[Any]:
        return self.point.leaves()

    def generated(self, *args: Any) -> dict[str, float]:
        out = self.gf(*args) if isinstance(self.point, ArrayPoint) else \
            self.gf.fast_for(*args)(*args)
        return {leaf.name: float(v) for leaf, v in by_leaves(self.point, out)}

    def references(self, side: SympySide) -> dict[str, Any]:
        return dict(zip(side.names, side.diff))

    def traced(self, side: SympySide) -> dict[str, Any]:
        return traced_gradient(self.gf, side)

    def value(self, progress: Progress) -> Column:
        return value_engine(self.f, self.point, progress)

    def fd(self, progress: Progress) -> Column:
        return finite_diff(self.f, self.point, progress)


class _AlongV(ModeCheck):
    """A check of derivatives along a direction ``v`` (its components are symbols)."""

    takes_tangents = True

    def zero_parts(self, diff: Any) -> list[Any]:
        return self._split_in_v(diff)


class JvpCheck(_AlongV):
    """``mode="jvp"``: one entry, the derivative of ``f`` along ``v``."""

    mode, what = "jvp", "jvp"

    def _build(self) -> None:
        self._sweep(lambda pats: modes._forward(self.f, None, pats))

    def _entries(self) -> list[Any]:
        return [Entry("jvp", "jvp")]

    def _all_tangents(self, tans: list[Any]) -> list[Any]:
        """A tangent for every parameter (zeros for those not differentiated)."""
        by_param = dict(zip(self.point.wrt, tans))
        return [by_param[p] if p in by_param else zeros(a)
                for p, a in zip(self.point.params, self.point.args)]

    def generated(self, *args: Any) -> dict[str, float]:
        _, t = modes.jvp(self.f, args, self._all_tangents(self.tangents))
        return {"jvp": float(t)}

    def references(self, side: SympySide) -> dict[str, Any]:
        import sympy
        return {"jvp": sympy.Add(*(d * self.symbols[n] for n, d in zip(side.names, side.diff)))}

    def traced(self, side: SympySide) -> dict[str, Any]:
        fast = retarget_for(self.point, modes._forward(self.f, None, self._patterns()).fast,
                           symbolic=True)
        tans = self._all_tangents(self._tangent_args(self._symbolic))
        _, t = _on_symbols("jvp", lambda: fast(*side.args, *tans))
        return {"jvp": to_expr(t)}

    def value(self, progress: Progress) -> Column:
        col = value_engine(self.f, self.point, progress)
        lacking = [n for n in self.direction if n in col.missing]
        if lacking:
            return Column(missing={"jvp": col.missing[lacking[0]]})
        return Column({"jvp": math.fsum(col.values[n] * c for n, c in self.direction.items())})

    def fd(self, progress: Progress) -> Column:
        progress("finite differences along v")
        col = Column()
        if not self.direction:
            return Column({"jvp": 0.0})
        moved = [leaf for leaf in self.active if leaf.name in self.direction]
        got = _or_missing(col, ["jvp"], moved, functools.partial(
            directional, self.f, self.point, self.direction, 1, self._fail("f along v")))
        if got is not None:
            col.values["jvp"] = got
        return col


def _sympy_hessian(side: SympySide) -> Any:
    """``sympy.hessian`` of ``side.f`` in ``side``'s symbols (the derivative of floor: 0)."""
    import sympy
    if not side.symbols:
        return sympy.zeros(0, 0)
    return sympy.hessian(side.f, side.symbols).applyfunc(diff_floor0)


class HvpCheck(_AlongV):
    """``mode="hvp"``: the Hessian times ``v``, one entry per differentiated number."""

    mode, what = "hvp", "hvp"

    def _build(self) -> None:
        pt = self.point
        modes.no_fields([pt.args[pt.params.index(p)] for p in pt.wrt], pt.wrt, self.mode)
        self._sweep(lambda pats: modes._hvp_forward(self.f, pt.wrt, pats), pt.wrt)

    def _entries(self) -> list[Any]:
        return [_entry(f"Hv[{leaf.name}]", f"Hv[{leaf.param}]", leaf.constant, leaf,
                       block=f"Hv[{_block(leaf)}]") for leaf in self.point.leaves()]

    def generated(self, *args: Any) -> dict[str, float]:
        hv = modes.hvp(self.f, args, self.tangents, wrt=self.point.wrt)
        return {f"Hv[{leaf.name}]": float(v) for leaf, v in by_leaves(self.point, hv)}

    def references(self, side: SympySide) -> dict[str, Any]:
        import sympy
        h = _sympy_hessian(side)
        v = [self.symbols[n] for n in side.names]
        return {f"Hv[{n}]": sympy.Add(*(h[i, j] * v[j] for j in range(len(v))))
                for i, n in enumerate(side.names)}

    def _traced_hv(self, side: SympySide) -> dict[str, Any]:
        """The generated hvp on ``side``'s symbols, ``v`` symbolic, by number name."""
        fast = retarget_for(self.point, modes._hvp_forward(self.f, self.point.wrt,
                                                            self._patterns(self.point.wrt)).fast,
                           symbolic=True)
        tans = self._tangent_args(self._symbolic)
        _, hv = _on_symbols(self.what, lambda: fast(*side.args, _one(), *tans))
        return {leaf.name: to_expr(v) for leaf, v in by_leaves(self.point, hv)}

    def traced(self, side: SympySide) -> dict[str, Any]:
        hv = self._traced_hv(side)
        return {f"Hv[{n}]": hv[n] for n in side.names}

    def value(self, progress: Progress) -> Column:
        progress("Value engine: central differences of its gradient along v")
        base = value_engine(self.f, self.point)
        col = Column()
        names = [f"Hv[{leaf.name}]" for leaf in self.active]
        if not self.direction:
            return Column(dict.fromkeys(names, 0.0))
        moved = [leaf for leaf in self.active if leaf.name in self.direction]
        got = _or_missing(col, names, moved, functools.partial(
            directional, self._value_gradient, self.point, self.direction, 1,
            self._fail("the Value engine's gradient along v")))
        for leaf, name, d in zip(self.active, names, got or ()):
            if d is None:
                col.missing[name] = base.missing.get(leaf.name, "no derivative")
            else:
                col.values[name] = d
        return col

    def fd(self, progress: Progress) -> Column:
        col = Column()
        for k, leaf in enumerate(self.active):
            progress(f"second differences {k + 1}/{len(self.active)}")
            plus = {**self.direction, leaf.name: self.direction.get(leaf.name, 0.0) + 1.0}
            minus = {n: -c for n, c in self.direction.items()}
            minus[leaf.name] = 1.0 - self.direction.get(leaf.name, 0.0)
            moved = [x for x in self.active if x.name in plus]
            got = _or_missing(col, [f"Hv[{leaf.name}]"], moved, functools.partial(
                self._mixed, plus, minus, f"{leaf.name} and v"))
            if got is not None:
                col.values[f"Hv[{leaf.name}]"] = got
        return col

    def _second(self, u: dict[str, float], what: str) -> float:
        """The second derivative of f along ``u`` (``u' H u``) by second differences."""
        u = {n: c for n, c in u.items() if c}
        return directional(self.f, self.point, u, 2, self._fail(f"f along {what}")) if u else 0.0

    def _mixed(self, plus: dict[str, float], minus: dict[str, float], what: str) -> float:
        """``u' H w`` from ``plus = u + w`` and ``minus = u - w``: ``(D(plus) - D(minus)) / 4``
        with ``D`` the second derivative along a direction."""
        return (self._second(plus, what) - self._second(minus, what)) / 4


class HessianCheck(HvpCheck):
    """``mode="hessian"``: every entry ``H[xi,xj]`` of the Hessian."""

    mode, what = "hessian", "Hessian"
    takes_tangents = False

    def _entries(self) -> list[Any]:
        lv = self.point.leaves()
        return [_entry(f"H[{a.name},{b.name}]", f"H[{a.param},{b.param}]",
                       a.constant or b.constant, a, b, block=f"H[{_block(a)},{_block(b)}]")
                for a in lv for b in lv]

    def generated(self, *args: Any) -> dict[str, float]:
        h = modes.hessian(self.f, wrt=self.point.wrt)(*args)
        return dict(zip([e.name for e in self.entries], [float(v) for _, v in leaves(h)]))

    def references(self, side: SympySide) -> dict[str, Any]:
        h = _sympy_hessian(side)
        return {f"H[{a},{b}]": h[i, j] for i, a in enumerate(side.names)
                for j, b in enumerate(side.names)}

    def traced(self, side: SympySide) -> dict[str, Any]:
        import sympy
        hv = self._traced_hv(side)
        return {f"H[{a},{b}]": sympy.diff(hv[a], self.symbols[b])
                for a in side.names for b in side.names}

    def value(self, progress: Progress) -> Column:
        base = value_engine(self.f, self.point)
        col = Column()
        for k, leaf in enumerate(self.active):
            progress(f"Value engine: central differences of its gradient {k + 1}/"
                     f"{len(self.active)}")
            names = [f"H[{a.name},{leaf.name}]" for a in self.active]
            got = _or_missing(col, names, [leaf], functools.partial(
                directional, self._value_gradient, self.point, {leaf.name: 1.0}, 1,
                self._fail(f"the Value engine's gradient along {leaf.name}")))
            for a, name, d in zip(self.active, names, got or ()):
                if d is None:
                    col.missing[name] = base.missing.get(a.name, "no derivative")
                else:
                    col.values[name] = d
        return col

    def fd(self, progress: Progress) -> Column:
        col = Column()
        pairs = [(a, b) for i, a in enumerate(self.active) for b in self.active[i:]]
        for k, (a, b) in enumerate(pairs):
            progress(f"second differences {k + 1}/{len(pairs)}")
            names = sorted({f"H[{a.name},{b.name}]", f"H[{b.name},{a.name}]"})
            work = functools.partial(self._second, {a.name: 1.0}, a.name) if a is b else \
                functools.partial(self._mixed, {a.name: 1.0, b.name: 1.0},
                                  {a.name: 1.0, b.name: -1.0}, f"{a.name} and {b.name}")
            got = _or_missing(col, names, [a, b], work)
            if got is not None:
                col.values.update(dict.fromkeys(names, got))
        return col
