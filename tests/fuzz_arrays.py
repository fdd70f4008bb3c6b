"""Random numpy programs for the array fuzz tests (``tests/test_fuzz_arrays.py``).

:func:`array_programs` is a Hypothesis strategy that writes a module with one function::

    def f(x, w, a):      # x: shape (3,), w: shape (2, 3), a: a float
        ...
        return <a number>

from a typed grammar: every expression is written for a *target shape* (one of
:data:`SHAPES`), so every program is valid numpy by construction and ends in a number.
The grammar has

* elementwise ``+ - * /`` and ``** 2``, unary minus, ``np.tanh/sin/cos/square``,
  ``np.exp`` of a bounded value, ``np.log(1.0 + e ** 2)``, ``np.sqrt(1.0 + e ** 2)``,
  ``np.log1p(e ** 2)``, division only by ``2.0 + np.sin(..)`` or ``1.0 + (..) ** 2``;
* broadcasting: a number against an array, a row against a matrix, ``[:, None]`` /
  ``[None, :]`` / ``reshape`` / ``np.expand_dims`` columns and rows, ``(2, 1) op (3,)``;
* reductions ``np.sum/mean/max/min/prod/var`` (and ``.sum()`` / ``.mean()``) with
  ``axis`` = 0 / 1 / -1 / -2 / None and ``keepdims``;
* ``@``, ``np.dot``, ``np.inner``, ``np.outer``, ``np.tensordot`` (int and list axes),
  ``np.trace``;
* ``.T``, ``np.transpose``, ``reshape``, ``ravel``, ``squeeze``, ``concatenate``, ``stack``,
  ``np.array([...])`` of numbers and of vectors, ``hstack``, ``vstack``;
* indexing: ``x[i]``, ``w[i, j]``, ``w[i][j]``, ``w[:, j]``, slices with steps, integer
  arrays with repeats, boolean masks that depend only on constants;
* in-place writes into a local copy (``y = x.copy(); y[i] = ...; y[1:] += ...``,
  ``y[:, j] *= ...``, mask and integer-array writes, ``np.add.at``), in a loop too, and
  into arrays of constants (``np.ones(3) * 0.5``, through another name too);
* time stepping: ``new = np.empty_like(u); new[1:] = ...; u = new`` (or ``u =
  new[::-1]``), a view of the old array kept across the step;
* ``np.where`` (conditions on the parameters against constants, constant masks,
  masks combined by ``&``, ``|``, ``^``, constants in both branches,
  sometimes on computed values), ``np.clip`` with float bounds;
* loops ``for i in range(K)`` accumulating numbers or arrays, ``i`` used as an index;
* running ``np.cumsum`` / ``np.cumprod`` (along an axis, or flattened), a product's
  factors sometimes exact zeros (``np.where(cond, e, 0.0)``);
* ``np.pad`` with a mode that copies entries, ``ufunc.outer``, ``np.quantile`` (along
  an axis), ``np.sum(..., where=...)``, ``np.maximum.accumulate``;
* list comprehensions over an array's elements or rows, made an array by numpy
  (``np.array([v * e for v in x])``, ``np.tanh([np.sum(v * e) for v in w])``);
* an array as Python sees it: ``sum``/``max``/``min``/``sorted`` of it (by rows),
  ``.item(k)``, ``.tolist()``, ``order='F'`` reshapes, and unpacking (``a, b, c = v``,
  ``r0, r1 = m``, ``h, *t = v``); ``np.unique`` and ``np.block``;
* masks of bools or ints made and written in place, then read by ``np.where`` or as a
  factor, in loops that make them again each time.

Values stay bounded (``np.exp`` only of ``tanh``/``sin``, no division by something that
can be 0, ``log`` only of ``1 + e ** 2``).  Kinks: ``np.where`` conditions compare the
parameters with constants that the points (:func:`array_points`) stay 0.03 away from;
``np.max``/``np.min``/``np.clip`` and conditions on computed values may sit near a kink,
which the test detects (finite differences at two step sizes disagree) and skips.

Constructs listed in :data:`KNOWN_BUGS` are not generated (each names the symgrad bug).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

X_SHAPE = (3,)
W_SHAPE = (2, 3)
#: every shape an expression may have
SHAPES = [(), (1,), (2,), (3,), (6,), (2, 3), (3, 2), (2, 2), (3, 3), (1, 3), (2, 1), (3, 1)]
#: the constants that conditions compare parameters with (points keep away from them)
CMP_CONSTS = ["0.0", "0.5", "-0.5"]
CONSTS = ["0.5", "2.0", "-1.5", "0.25", "3", "-0.75", "1.0"]
#: module-level arrays the programs read (joined with the arguments by concatenate and
#: stack: their tangent is zeros of their shape)
MODULE_ARRAYS = ("C3 = np.array([0.3, -1.2, 0.7])\n"
                 "C23 = np.array([[0.5, -0.25, 1.0], [2.0, 0.1, -0.6]])\n")
CLIP_BOUNDS = [("-0.8", "0.9"), ("-1.0", "0.3"), ("0.1", "2.0"), ("-2.5", "-0.2"), ("-0.6", "0.6")]

#: shapes an array read as a Python sequence is written for (see ``sequences``)
_SEQUENCE_SHAPES = {(), (3,), (6,), (2, 3)}
#: shapes the round's newer models are written for (see ``newer``)
_NEWER = {(3,), (2, 3), (3, 3), ()}

#: constructs switched off because of a symgrad bug: name -> the bug (the generator tests
#: ``"name" in KNOWN_BUGS`` where it would write the construct).  Empty: every bug this
#: fuzzer found is fixed, with a regression test (tests/test_array_kinds.py,
#: tests/test_survey_regressions.py).
KNOWN_BUGS: dict[str, str] = {}


@dataclass
class ArrayProgram:
    source: str
    features: set[str] = field(default_factory=set)


#: joins of a run-time list (``{}``: a list of the rows of an array of the second shape,
#: or that array) and ``np.pad`` (``@``: an array of the second shape)
_JOINED = {
    (6,): [("np.concatenate({})", (2, 3)), ("np.hstack({})", (2, 3)),
           ("np.concatenate({}, axis=None)", (3, 2))],
    (2, 3): [("np.stack({})", (2, 3)), ("np.vstack({})", (2, 3)),
             ("np.stack({}, axis=1)", (3, 2)), ("np.column_stack({})", (3, 2))],
    (3, 2): [("np.stack({}, axis=-1)", (2, 3)), ("np.column_stack({})", (2, 3)),
             ("np.pad(@, ((1, 0), (0, 1)), constant_values=0.5)", (2, 1))],
    (3,): [("np.pad(@, 1)", (1,)), ("np.pad(@, (2, 0))", (1,)),
           ("np.hstack({})", (3, 1))],
}


def _bshape(*shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


#: partners P of a shape S with broadcast(S, P) == S (a number, a row, a column, S itself)
PARTNERS = {s: [p for p in SHAPES if _bshape(s, p) == s] for s in SHAPES}
#: pairs (P, Q), neither of them S, that broadcast to S: (2, 1) * (3,) -> (2, 3)
SPREADS = {s: [(p, q) for p, q in itertools.product(SHAPES, SHAPES)
               if p != s and q != s and p != () and q != () and _bshape(p, q) == s]
           for s in SHAPES}


def _size(shape) -> int:
    return int(np.prod(shape)) if shape else 1


class _Writer:
    """Writes one function; every random choice is a Hypothesis draw."""

    def __init__(self, draw, max_depth: int):
        self.draw = draw
        self.max_depth = max_depth
        self.locals: dict[str, tuple] = {}       # readable local name -> shape
        self.loop_vars: list[tuple[str, int]] = []  # (name, trip count) of enclosing loops
        self.features: set[str] = set()
        self.hvp = False                          # writing for the hvp test
        self.jvp = False                          # writing for the jvp test
        self.n = 0

    # --------------------------------------------------------------- helpers
    def pick(self, seq):
        return seq[self.draw(st.integers(0, len(seq) - 1))]

    def coin(self, p_true_percent: int) -> bool:
        return self.draw(st.integers(0, 99)) < p_true_percent

    def weighted(self, options):
        """options: list of (weight, thunk) with thunk() -> str or None (not applicable)."""
        options = [(w, t) for w, t in options if w > 0]
        total = sum(w for w, _ in options)
        k = self.draw(st.integers(0, total - 1))
        for w, t in options:
            if k < w:
                return t
            k -= w
        raise AssertionError

    def fresh(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def feat(self, name: str) -> None:
        self.features.add(name)

    def index(self, dim: int) -> str:
        """An int index into an axis of length ``dim``: a literal or a loop variable."""
        usable = [(v, k) for v, k in self.loop_vars if k <= dim]
        if usable and self.coin(60):
            v, k = self.pick(usable)
            self.feat("index.loop_var")
            form = self.pick(["{v}", "{v}", f"{dim - 1} - {{v}}",
                              "-1 - {v}"]
                             if k <= dim else ["{v}"])
            return form.format(v=v)
        return str(self.pick(list(range(-dim, dim))))

    def const(self) -> str:
        return self.pick(CONSTS)

    # --------------------------------------------------------------- expressions
    def expr(self, shape: tuple, depth: int | None = None) -> str:
        depth = self.max_depth if depth is None else depth
        if depth <= 0:
            return self.leaf(shape)
        d = depth - 1
        options = [
            (6, lambda: self.leaf(shape)),
            (5, lambda: self.unary(shape, d)),
            (6, lambda: self.binop(shape, d)),
            (2, lambda: self.spread(shape, d)),
            (2, lambda: self.where(shape, d)),
            (1, lambda: self.clip(shape, d)),
            (4, lambda: self.reduction(shape, d)),
            (3, lambda: self.product(shape, d)),
            (3, lambda: self.shape_op(shape, d)),
            (3, lambda: self.indexing(shape, d)),
            (2, lambda: self.running(shape, d)),
        ]
        for _ in range(20):
            out = self.weighted(options)()
            if out is not None:
                return out
        return self.leaf(shape)

    def leaf(self, shape: tuple) -> str:
        loc = [n for n, s in self.locals.items() if s == shape]
        if loc and self.coin(55):
            return self.pick(loc)
        i2, i3 = (lambda: self.index(2)), (lambda: self.index(3))
        table = {
            (): [lambda: "a", lambda: f"x[{i3()}]", lambda: f"w[{i2()}, {i3()}]",
                 lambda: f"w[{i2()}][{i3()}]", lambda: self.const()],
            (1,): ["x[:1]", "x[2:]", "np.array([a])", "w[1, 1:2]", "x[[1]]"],
            (2,): [lambda: f"w[:, {i3()}]", "x[:2]", "x[1:]", "x[::2]", "x[[1, 1]]",
                   "x[np.array([2, 0])]", "x[np.array([True, False, True])]", "w[1, ::2]",
                   "x[np.arange(3) != 1]", "x[-1:-3:-1]"],
            (3,): ["x", lambda: f"w[{i2()}]", lambda: f"w[{i2()}, :]", "x[::-1]",
                   "x[[0, 0, 2]]", self.linspace(), "x * np.ones(3)", "C3",
                   "np.linspace(-1.0, a, 3)", "np.full(3, a)"],
            (6,): ["w.ravel()", "w.reshape(6)", "np.ravel(w)", "w.reshape(-1)"],
            (2, 3): ["w", "w[::-1]", "w[:, [2, 0, 1]]", "0.5 * np.ones((2, 3))",
                     "np.arange(6.0).reshape(2, 3) / 6.0", "C23"],
            (3, 2): ["w.T", "np.transpose(w)", "w[::-1].T"],
            (2, 2): ["w[:, :2]", "w[:, [0, 2]]", "w[:, ::2]", "np.eye(2)"],
            (3, 3): ["np.eye(3)", "x[:, None] * x", "np.outer(x, x)"],
            (1, 3): ["x[None, :]", "w[:1]", "w[1:]", "x.reshape(1, 3)"],
            (2, 1): ["w[:, 1:2]", "w[:, :1]", "w[:, [2]]"],
            (3, 1): ["x[:, None]", "x.reshape(3, 1)", "w.T[:, 1:]"],
        }
        choice = self.pick(table[shape])
        return choice() if callable(choice) else choice

    def linspace(self) -> str:
        return "np.linspace(-1.0, 1.0, 3)"

    def unary(self, shape, d) -> str:
        e = self.expr(shape, d)
        forms = ["np.tanh({e})", "np.sin({e})", "np.cos({e})", "np.exp(np.tanh({e}))",
                 "np.exp(0.5 * np.sin({e}))", "np.log(1.0 + ({e}) ** 2)",
                 "np.sqrt(1.0 + ({e}) ** 2)", "({e}) ** 2", "-({e})", "np.square({e})",
                 "np.log1p(({e}) ** 2)", "({e}) / (2.0 + np.sin({q}))",
                 "({e}) / (1.0 + ({q}) ** 2)"]
        form = self.pick(forms)
        self.feat("unary." + (form.split("(")[0].strip("-") or "pow_neg_div"))
        q = self.expr(self.pick(PARTNERS[shape]), d) if "{q}" in form else ""
        return form.format(e=e, q=q)

    def binop(self, shape, d) -> str:
        other = self.pick(PARTNERS[shape])
        if other != shape:
            self.feat("broadcast.partner")
        a, b = self.expr(shape, d), self.expr(other, d)
        if self.coin(50):
            a, b = b, a
        op = self.pick(["+", "-", "*", "*", "+"])
        if op == "*" and shape == () and self.coin(30):
            return f"({a}) * {self.const()}"
        return f"({a}) {op} ({b})"

    def spread(self, shape, d):
        pairs = SPREADS[shape]
        if not pairs:
            return None
        p, q = self.pick(pairs)
        self.feat("broadcast.spread")
        op = self.pick(["+", "-", "*"])
        u, v = self.expr(p, d), self.expr(q, d)
        return f"({u}) {op} ({v})"

    def condition(self, shape, d) -> str:
        """A boolean array that broadcasts to ``shape``."""
        c = self.pick(CMP_CONSTS)
        op = self.pick([">", "<"])
        table = {
            (): [f"a {op} {c}", f"x[{self.index(3)}] {op} {c}"],
            (3,): [f"x {op} {c}", f"w[{self.index(2)}] {op} {c}", "np.array([True, False, True])",
                   "np.arange(3) >= 1"],
            (2,): [f"w[:, {self.index(3)}] {op} {c}", f"x[1:] {op} {c}", "np.array([False, True])"],
            (2, 3): [f"w {op} {c}", "np.arange(6).reshape(2, 3) % 2 == 0"],
            (1, 3): [f"x[None, :] {op} {c}"],
            (2, 1): [f"w[:, :1] {op} {c}"],
            (3, 1): [f"x[:, None] {op} {c}"],
            (1,): [f"x[:1] {op} {c}"],
        }
        shapes = [p for p in PARTNERS[shape] if p in table]
        p = self.pick(shapes)
        if self.coin(12):          # a condition on a computed value (may sit near a kink)
            self.feat("where.computed_condition")
            return f"np.sin({self.expr(p, min(d, 1))}) {op} 0.2", p
        if self.coin(35):          # masks combined by & | ^ (an array, of their shape)
            self.feat("where.combined_mask")
            first, other = self.pick(table[p]), self.pick(table[p])
            return f"({first}) {self.pick(['&', '|', '^'])} ({other})", p
        return self.pick(table[p]), p

    def where(self, shape, d) -> str:
        self.feat("where")
        cond, cshape = self.condition(shape, d)
        if cshape == shape and self.coin(30):   # constants in both branches: an array
            self.feat("where.constant_branches")       # of the condition's shape
            return f"np.where({cond}, {self.const()}, {self.const()})"
        a = self.expr(shape, d)
        b = (self.expr(self.pick(PARTNERS[shape]), d) if self.coin(75)
             else self.pick(["0.0", "1.0", "-2.0"]))
        if self.coin(50):
            a, b = b, a
        return f"np.where({cond}, {a}, {b})"

    def clip(self, shape, d) -> str:
        self.feat("clip")
        lo, hi = self.pick(CLIP_BOUNDS)
        return f"np.clip({self.expr(shape, d)}, {lo}, {hi})"

    def reduction(self, shape, d):
        """``shape`` as a reduction of a bigger array."""
        cands = []
        for p in SHAPES:
            if p == ():
                continue
            for axis in [None] + list(range(-len(p), len(p))):
                for keep in (False, True):
                    if axis is None:
                        out = (1,) * len(p) if keep else ()
                    else:
                        ax = axis % len(p)
                        out = p[:ax] + ((1,) if keep else ()) + p[ax + 1:]
                    if out == shape:
                        cands.append((p, axis, keep))
        if not cands:
            return None
        p, axis, keep = self.pick(cands)
        fn = self.pick(["sum", "sum", "mean", "max", "min", "prod", "var", "ptp", "median",
                        "nanmean", "nanmax", "nanstd"])
        if fn == "median" and keep:           # (symgrad's median model has no keepdims)
            fn = "nanmean"
        e = self.expr(p, d)
        self.feat(f"reduce.{fn}")
        kw = []
        if axis is not None or (self.coin(20) and not keep):
            kw.append(f"axis={axis}")
        if keep:
            kw.append("keepdims=True")
            self.feat("reduce.keepdims")
        if fn in ("sum", "mean") and self.coin(25):
            self.feat("reduce.method")
            return f"({e}).{fn}({', '.join(kw)})"
        return f"np.{fn}({', '.join([e] + kw)})"

    def newer(self, shape, d) -> str:
        """np.pad with a mode that copies entries, ufunc.outer, a quantile along an axis,
        a sum with a where= mask, a running maximum."""
        E = self.expr
        mode = self.pick(["edge", "wrap", "reflect", "symmetric"])
        table = {
            (3,): [lambda: f"np.pad({E((1,), d)}, 1, mode='{mode}')",
                   lambda: f"np.pad({E((2,), d)}, (0, 1), mode='{mode}')",
                   lambda: f"np.quantile({E((2, 3), d)}, {self.pick(['0.3', '0.75'])}, axis=0)",
                   lambda: f"np.maximum.accumulate({E((3,), d)})"],
            (2, 3): [lambda: f"np.pad({E((1, 3), d)}, ((1, 0), (0, 0)), mode='{mode}')",
                     lambda: f"np.{self.pick(['add', 'subtract', 'multiply'])}.outer("
                             f"{E((2,), d)}, {E((3,), d)})"],
            (3, 3): [lambda: f"np.{self.pick(['add', 'multiply', 'maximum'])}.outer("
                             f"{E((3,), d)}, {E((3,), d)})"],
            (): [lambda: f"np.sum({E((3,), d)}, where=x > {self.pick(CMP_CONSTS)})",
                 lambda: f"np.quantile({E((3,), d)}, {self.pick(['0.2', '0.5', '0.9'])})"],
        }
        form = self.pick(table[shape])
        text = form()
        self.feat("newer." + text.split("(")[0].replace("np.", ""))
        return text

    def sequences(self, shape, d) -> str:
        """An array as Python sees it: walked by its rows by ``sum``/``max``/``min``/
        ``sorted``, read by ``.item(k)`` or ``.tolist()``, or laid out in Fortran order
        (``order='F'``)."""
        E = self.expr
        k3, k6 = self.pick(range(-3, 3)), self.pick(range(6))
        table = {
            (): [lambda: f"sum({E((3,), d)})", lambda: f"max({E((3,), d)})",
                 lambda: f"min({E((2,), d)})", lambda: f"sorted({E((3,), d)})[{k3}]",
                 lambda: f"({E((2, 3), d)}).item({k6})",
                 lambda: f"({E((2, 3), d)}).item({self.pick([0, 1])}, {self.pick([0, 2])})",
                 lambda: f"({E((3,), d)}).tolist()[{k3}]",
                 lambda: f"sum(({E((3,), d)}).tolist())",
                 lambda: f"np.sum(np.unique({E((2, 3), d)}) ** 2)"],
            (3,): [lambda: f"sum({E((2, 3), d)})", lambda: f"({E((3, 1), d)}).ravel(order='F')",
                   lambda: f"np.array(sorted({E((3,), d)}))",
                   lambda: f"np.block([{E((2,), d)}, {E((1,), d)}])"],
            (6,): [lambda: f"({E((2, 3), d)}).ravel(order='F')",
                   lambda: f"({E((3, 2), d)}).flatten(order='F')"],
            (2, 3): [lambda: f"({E((3, 2), d)}).reshape(2, 3, order='F')",
                     lambda: f"np.reshape({E((6,), d)}, (2, 3), order='F')",
                     lambda: f"np.block([[{E((1, 3), d)}], [{E((1, 3), d)}]])"],
        }
        text = self.pick(table[shape])()
        self.feat("sequence")
        return text

    def running(self, shape, d):
        """``np.cumsum`` / ``np.cumprod`` along an axis (the same shape), or of a matrix of
        as many elements flattened; a product's factors may be exact zeros
        (``np.where(cond, e, 0.0)``, several in one lane too)."""
        if shape == ():
            return None
        fn = self.pick(["cumsum", "cumprod", "cumprod"])
        self.feat(f"running.{fn}")
        flat = [p for p in SHAPES if len(p) == 2 and _size(p) == _size(shape)]
        if len(shape) == 1 and flat and self.coin(25):
            eshape, tail = self.pick(flat), ""
            self.feat("running.flat")
        else:
            eshape, tail = shape, f", axis={self.pick(range(-len(shape), len(shape)))}"
        e = self.expr(eshape, d)
        if fn == "cumprod" and self.coin(50):      # (a zero times a differentiated value:
            self.feat("running.zeros")            # its derivative reaches that value)
            cond, _ = self.condition(eshape, d)
            e = self.pick([f"({e}) * np.where({cond}, 1.0, 0.0)",
                           f"np.where({cond}, {e}, 0.0) * ({self.expr(eshape, d)})"])
        return f"np.{fn}({e}{tail})"

    def product(self, shape, d):
        E = self.expr
        table = {
            (): [lambda: self.vecvec("np.dot({u}, {v})", (3,), d),
                 lambda: self.vecvec("({u}) @ ({v})", (3,), d),
                 lambda: self.vecvec("({u}) @ ({v})", (2,), d),
                 lambda: self.vecvec("np.inner({u}, {v})", (3,), d),
                 lambda: self.tensordot2(d),
                 lambda: f"np.trace({E((3, 3), d)})", lambda: f"np.trace({E((2, 2), d)})"],
            (2,): [lambda: f"({E((2, 3), d)}) @ ({E((3,), d)})",
                   lambda: f"np.dot({E((2, 3), d)}, {E((3,), d)})",
                   lambda: f"np.tensordot({E((2, 3), d)}, {E((3,), d)}, axes=1)",
                   lambda: f"({E((2, 2), d)}) @ ({E((2,), d)})",
                   lambda: f"({E((3,), d)}) @ ({E((3, 2), d)})"],
            (3,): [lambda: f"({E((2,), d)}) @ ({E((2, 3), d)})",
                   lambda: f"np.dot({E((2,), d)}, {E((2, 3), d)})",
                   lambda: f"({E((3, 3), d)}) @ ({E((3,), d)})",
                   lambda: f"np.tensordot({E((2,), d)}, {E((2, 3), d)}, axes=([0], [0]))"],
            (2, 3): [lambda: f"np.outer({E((2,), d)}, {E((3,), d)})",
                     lambda: f"({E((2, 2), d)}) @ ({E((2, 3), d)})",
                     lambda: f"np.dot({E((2, 3), d)}, {E((3, 3), d)})",
                     lambda: f"({E((2, 1), d)}) @ ({E((1, 3), d)})",
                     lambda: f"np.tensordot({E((2, 2), d)}, {E((2, 3), d)}, axes=1)"],
            (3, 3): [lambda: f"np.outer({E((3,), d)}, {E((3,), d)})",
                     lambda: f"({E((3, 2), d)}) @ ({E((2, 3), d)})",
                     lambda: f"np.tensordot({E((2, 3), d)}, {E((2, 3), d)}, axes=([0], [0]))",
                     lambda: f"({E((3, 1), d)}) @ ({E((1, 3), d)})"],
            (2, 2): [lambda: f"({E((2, 3), d)}) @ ({E((3, 2), d)})",
                     lambda: f"({E((2, 3), d)}) @ ({E((2, 3), d)}).T",
                     lambda: f"np.tensordot({E((2, 3), d)}, {E((2, 3), d)}, axes=([1], [1]))",
                     lambda: f"np.outer({E((2,), d)}, {E((2,), d)})"],
            (3, 2): [lambda: f"({E((3, 3), d)}) @ ({E((3, 2), d)})",
                     lambda: f"({E((3, 2), d)}) @ ({E((2, 2), d)})",
                     lambda: f"np.outer({E((3,), d)}, {E((2,), d)})"],
            (1, 3): [lambda: f"({E((1, 3), d)}) @ ({E((3, 3), d)})"],
            (2, 1): [lambda: f"({E((2, 3), d)}) @ ({E((3, 1), d)})"],
            (3, 1): [lambda: f"({E((3, 2), d)}) @ ({E((2, 1), d)})"],
        }
        if shape not in table:
            return None
        self.feat("product")
        return self.pick(table[shape])()

    def tuple_index(self, d: int) -> str:
        e = self.expr((2, 3), d)
        i, j = self.index(2), self.index(3)
        return f"({e})[{i}, {j}]"

    def hstack(self, parts: list[str]) -> str:
        return f"np.hstack([{', '.join(parts)}])"

    def vecvec(self, form: str, shape: tuple, d: int) -> str:
        """A product of two vectors."""
        return form.format(u=self.expr(shape, d), v=self.expr(shape, d))

    def tensordot2(self, d: int) -> str:
        u, v = self.expr((2, 3), d), self.expr((2, 3), d)
        return f"np.tensordot({u}, {v}, axes=2)"

    def shape_op(self, shape, d):
        E = self.expr
        table = {
            (3, 2): [lambda: f"({E((2, 3), d)}).T", lambda: f"np.transpose({E((2, 3), d)})",
                     lambda: f"({E((6,), d)}).reshape(3, 2)",
                     lambda: f"({E((2, 3), d)}).reshape(3, 2)",
                     lambda: f"np.reshape({E((6,), d)}, (3, 2))",
                     lambda: f"np.stack([{E((3,), d)}, {E((3,), d)}], axis=1)",
                     lambda: f"np.concatenate([{E((3, 1), d)}, {E((3, 1), d)}], axis=1)",
                     lambda: f"np.einsum('...ij->...ji', {E((2, 3), d)})"],
            (2, 3): [lambda: f"({E((3, 2), d)}).T", lambda: f"np.transpose({E((3, 2), d)})",
                     lambda: f"({E((6,), d)}).reshape(2, 3)",
                     lambda: f"np.stack([{E((3,), d)}, {E((3,), d)}])",
                     lambda: f"np.array([{E((3,), d)}, {E((3,), d)}])",
                     lambda: f"np.concatenate([{E((1, 3), d)}, {E((1, 3), d)}])",
                     lambda: f"np.concatenate([{E((2, 1), d)}, {E((2, 2), d)}], axis=1)",
                     lambda: f"np.vstack([{E((3,), d)}, {E((3,), d)}])",
                     lambda: f"np.stack([{E((2,), d)}, {E((2,), d)}, {E((2,), d)}], axis=-1)",
                     lambda: f"np.concatenate([{E((1, 3), d)}, {E((1, 3), d)}], axis=-2)",
                     lambda: f"np.array([{E((3,), d)}] * 2)",    # (one array twice)
                     # einsum, with a dimension of size 1 broadcast, and an ellipsis
                     lambda: f"np.einsum('ij,ij->ij', {E((1, 3), d)}, {E((2, 3), d)})",
                     lambda: f"np.einsum('ij,jk->ik', {E((2, 1), d)}, {E((1, 3), d)})",
                     lambda: f"np.einsum('...j,...j->...j', {E((2, 3), d)}, {E((3,), d)})",
                     lambda: f"np.einsum('ij,jk->ik', {E((2, 3), d)}, {E((3, 3), d)})",
                     lambda: f"np.roll({E((2, 3), d)}, {self.index(3)}, axis=1)"],
            (6,): [lambda: f"({E((2, 3), d)}).ravel()", lambda: f"np.ravel({E((3, 2), d)})",
                   lambda: f"({E((2, 3), d)}).reshape(-1)", lambda: f"({E((3, 2), d)}).reshape(6)",
                   lambda: f"np.concatenate([{E((3,), d)}, {E((3,), d)}])",
                   lambda: f"np.concatenate([{E((2,), d)}, {E((1,), d)}, {E((3,), d)}])",
                   lambda: self.hstack([E((3,), d), E((3,), d)])],
            (3,): [lambda: f"np.concatenate([{E((1,), d)}, {E((2,), d)}])",
                   # a shift that may be a loop variable (a model of roll then)
                   lambda: f"np.roll({E((3,), d)}, {self.index(3)})",
                   lambda: f"np.concatenate([{E((2,), d)}, {E((1,), d)}], axis=0)",
                   lambda: f"np.array([{E((), d)}, {E((), d)}, {E((), d)}])",
                   lambda: f"({E((1, 3), d)}).ravel()", lambda: f"({E((3, 1), d)}).reshape(3)",
                   lambda: f"np.squeeze({E((1, 3), d)})",
                   lambda: f"np.squeeze({E((3, 1), d)}, axis=1)",
                   lambda: self.hstack([E((2,), d), E((1,), d)])],
            (2,): [lambda: f"np.array([{E((), d)}, {E((), d)}])",
                   lambda: f"np.einsum('ij,j->i', {E((2, 3), d)}, {E((3,), d)})",
                   lambda: f"np.einsum('...ij,...j', {E((2, 3), d)}, {E((1, 3), d)}).ravel()",
                   lambda: f"({E((2, 1), d)}).ravel()",
                   lambda: f"np.squeeze({E((2, 1), d)}, axis=1)",
                   lambda: f"np.concatenate([{E((1,), d)}, {E((1,), d)}])"],
            (1,): [lambda: f"np.array([{E((), d)}])", lambda: f"({E((3,), d)})[1:2]"],
            (1, 3): [lambda: f"({E((3,), d)})[None, :]", lambda: f"({E((3,), d)}).reshape(1, 3)",
                     lambda: f"np.expand_dims({E((3,), d)}, 0)", lambda: f"({E((3, 1), d)}).T"],
            (2, 1): [lambda: f"({E((2,), d)})[:, None]", lambda: f"({E((2,), d)}).reshape(2, 1)",
                     lambda: f"np.expand_dims({E((2,), d)}, axis=1)"],
            (3, 1): [lambda: f"({E((3,), d)})[:, None]", lambda: f"({E((3,), d)}).reshape(3, 1)",
                     lambda: f"np.expand_dims({E((3,), d)}, 1)", lambda: f"({E((1, 3), d)}).T"],
            (2, 2): [lambda: f"np.stack([{E((2,), d)}, {E((2,), d)}])",
                     lambda: f"np.array([{E((2,), d)}, {E((2,), d)}])",
                     lambda: f"({E((2, 2), d)}).T"],
            (3, 3): [lambda: f"({E((3, 3), d)}).T",
                     lambda: f"np.vstack([{E((3,), d)}] * 3)",
                     lambda: f"np.stack([{E((3,), d)}, {E((3,), d)}, {E((3,), d)}])"],
        }
        if shape in _NEWER and self.coin(20):       # this round's models and modes
            return self.newer(shape, d)
        if shape in _SEQUENCE_SHAPES and self.coin(15):
            return self.sequences(shape, d)
        if shape in _COMPREHENSIONS and self.coin(35):
            self.feat("comprehension")
            return self.comprehension(shape, d)
        if shape in _JOINED and self.coin(25):
            self.feat("run_time_join")
            return self.run_time_join(shape, d)
        if shape not in table:
            return None
        self.feat("shape_op")
        return self.pick(table[shape])()

    def run_time_join(self, shape, d):
        """A join of a list made when the function runs (a comprehension over an
        array's rows), of an array's rows themselves, or ``np.pad``."""
        E, v = self.expr, self.fresh("v")
        form, rows = self.pick(_JOINED[shape])
        item = self.pick([lambda: v, lambda: f"np.sin({v}) * ({E((), d)})",
                          lambda: f"{v} * ({E(rows[1:], d)})"])()
        listed = self.pick([f"[{item} for {v} in ({E(rows, d)})]", f"({E(rows, d)})",
                            # two lists joined first: their adjoint lists share elements
                            f"[{item} for {v} in ({E(rows, d)})[:1]] + "
                            f"[{item} for {v} in ({E(rows, d)})[1:]]"]) \
            if "{}" in form else ""
        return form.format(listed) if listed else form.replace("@", E(rows, d))

    def comprehension(self, shape, d):
        """A list built by a comprehension over an array's elements or rows, made an
        array by numpy (``np.array([...])``, or handed to an elementwise function)."""
        E, v = self.expr, self.fresh("v")
        if shape in _ROWS_REDUCED and self.coin(40):      # each row reduced: numbers
            rows = _ROWS_REDUCED[shape]
            item = f"np.sum({v} * ({E(rows[1:], d)}))"
        else:                                            # elements, or rows, mapped
            rows = shape
            item = self.pick([lambda: f"{v} * ({E(shape[1:], d)})",
                              lambda: f"np.tanh({v}) + ({E(shape[1:], d)})",
                              lambda: f"({E((), d)}) * {v} * {v}"])()
        wrap = self.pick(["np.array({})", "np.tanh({})", "np.asarray({}) * 1.0"])
        if shape[0] > 1 and self.coin(30):      # two lists joined first (shared adjoints)
            return wrap.format(f"[{item} for {v} in ({E(rows, d)})[:1]] + "
                               f"[{item} for {v} in ({E(rows, d)})[1:]]")
        return wrap.format(f"[{item} for {v} in ({E(rows, d)})]")

    def indexing(self, shape, d):
        E = self.expr
        i2, i3 = (lambda: self.index(2)), (lambda: self.index(3))
        table = {
            (): [lambda: f"({E((3,), d)})[{i3()}]", lambda: self.tuple_index(d),
                 lambda: f"({E((2, 3), d)})[{i2()}][{i3()}]",
                 lambda: f"({E((6,), d)})[{self.index(6)}]",
                 lambda: f"({E((2,), d)})[{i2()}]"],
            (3,): [lambda: f"({E((2, 3), d)})[{i2()}]", lambda: f"({E((3, 3), d)})[:, {i3()}]",
                   lambda: f"({E((3,), d)})[::-1]", lambda: f"({E((3,), d)})[[2, 2, 0]]",
                   lambda: f"({E((6,), d)})[::2]", lambda: f"({E((6,), d)})[1::2]",
                   lambda: f"({E((2, 3), d)})[np.arange(6).reshape(2, 3) % 2 == 0]",
                   lambda: f"({E((6,), d)})[np.array([True, False, False, True, True, False])]",
                   lambda: f"({E((3, 3), d)})[{i3()}]",
                   # index arrays made by calls (repeats: np.add.at in the adjoint)
                   lambda: f"({E((3,), d)})[np.argmax(np.array([[0.1, 0.9, 0.2], "
                           "[0.5, 0.3, 0.1]]), axis=0)]",
                   lambda: f"({E((3,), d)})[np.int64(np.array([2.0, 2.0, 0.0]))]",
                   # ... and after arithmetic, still index arrays
                   lambda: f"({E((3,), d)})[np.argmax(np.array([[0.1, 0.9, 0.2], "
                           "[0.5, 0.3, 0.1]]), axis=0) + 1]",
                   lambda: f"({E((3,), d)})[np.argsort(np.array([0.3, 0.1, 0.2])) * 0 + 2]",
                   lambda: f"({E((3,), d)})[np.nonzero(np.array([1.0, 0.0, 2.0, 5.0]))[0] % 3]"],
            (2,): [lambda: f"({E((2, 3), d)})[:, {i3()}]", lambda: f"({E((3,), d)})[1:]",
                   lambda: f"({E((3,), d)})[:2]", lambda: f"({E((3,), d)})[::2]",
                   lambda: f"({E((3,), d)})[[1, 1]]",
                   lambda: f"({E((3,), d)})[np.array([True, False, True])]",
                   lambda: f"({E((6,), d)})[::3]", lambda: f"({E((6,), d)})[[5, 0]]",
                   lambda: f"({E((2, 2), d)})[{i2()}]", lambda: f"({E((2, 3), d)})[:, -1]"],
            (2, 3): [lambda: f"({E((2, 3), d)})[::-1]", lambda: f"({E((2, 3), d)})[:, ::-1]",
                     lambda: f"({E((3, 3), d)})[1:]", lambda: f"({E((3, 3), d)})[[0, 2]]",
                     lambda: f"({E((2, 3), d)})[[1, 1]]",
                     lambda: f"({E((3, 3), d)})[np.array([True, False, True])]",
                     lambda: f"({E((3, 3), d)})[np.argmin(np.array([[0.5, 0.1, 0.9], "
                             "[0.7, 0.2, 0.3]]), axis=1)]"],
            (3, 3): [lambda: f"({E((2, 3), d)})[[0, 1, 1]]", lambda: f"({E((3, 3), d)})[::-1]"],
            (2, 2): [lambda: f"({E((2, 3), d)})[:, :2]", lambda: f"({E((2, 3), d)})[:, [0, 2]]",
                     lambda: f"({E((2, 3), d)})[:, ::2]", lambda: f"({E((3, 3), d)})[1:, :2]"],
            (1, 3): [lambda: f"({E((2, 3), d)})[1:]", lambda: f"({E((2, 3), d)})[:1]",
                     lambda: f"({E((2, 3), d)})[[0]]"],
            (2, 1): [lambda: f"({E((2, 3), d)})[:, 1:2]", lambda: f"({E((2, 3), d)})[:, [1]]"],
            (3, 1): [lambda: f"({E((3, 2), d)})[:, :1]"],
            (1,): [lambda: f"({E((3,), d)})[:1]", lambda: f"({E((3,), d)})[-1:]",
                   lambda: f"({E((2,), d)})[[1]]"],
            (6,): [lambda: f"({E((6,), d)})[::-1]", lambda: f"({E((3,), d)})[[0, 1, 2, 2, 1, 0]]"],
            (3, 2): [lambda: f"({E((3, 3), d)})[:, 1:]"],
        }
        if shape not in table:
            return None
        self.feat("indexing")
        return self.pick(table[shape])()

    # --------------------------------------------------------------- statements
    def any_shape(self) -> tuple:
        return self.pick([(), (), (3,), (3,), (2,), (2, 3), (2, 3), (3, 3), (2, 2), (6,), (3, 2)])

    def statements(self, n: int) -> list[str]:
        lines: list[str] = []
        loops = 3
        for _ in range(n):
            kind = self.weighted([(5, lambda: "assign"), (loops, lambda: "loop"),
                                  (3, lambda: "inplace"), (1, lambda: "unpack"),
                                  (1, lambda: "mask"), (1, lambda: "stepping")])()
            lines += getattr(self, "stmt_" + kind)()
        return lines

    def stmt_assign(self) -> list[str]:
        shape = self.any_shape()
        name = self.fresh("s" if shape == () else "v")
        e = self.expr(shape)
        self.locals[name] = shape
        return [f"{name} = {e}"]

    def stmt_unpack(self) -> list[str]:
        """``a, b, c = v`` of a vector, ``r0, r1 = m`` of a matrix's rows, ``h, *t = v``
        (``t`` a list, summed)."""
        self.feat("unpack")
        form = self.pick(["vector", "rows", "star"])
        if form == "rows":
            names = [self.fresh("r") for _ in range(2)]
            e = self.expr((2, 3))
            for nm in names:
                self.locals[nm] = (3,)
            return [f"{', '.join(names)} = {e}"]
        names = [self.fresh("s") for _ in range(3)]
        e = self.expr((3,))
        if form == "vector":
            for nm in names:
                self.locals[nm] = ()
            return [f"{', '.join(names)} = {e}"]
        self.locals[names[0]] = self.locals[names[2]] = ()
        return [f"{names[0]}, *{names[1]} = {e}",
                f"{names[2]} = {names[0]} * sum({names[1]}) + len({names[1]})"]

    def stmt_loop(self) -> list[str]:
        self.feat("loop")
        shape = self.pick([(), (), (3,), (2, 3), (2,)])
        acc = self.fresh("acc")
        k = self.pick([2, 3])
        var = self.fresh("i")
        if shape == ():
            init = self.pick(["0.0", "a", "1.0", None])
            init = self.expr((), 1) if init is None else init
            fresh_array = False
        else:
            init = self.pick([f"np.zeros({shape if len(shape) > 1 else shape[0]})",
                              f"({self.expr(shape, 1)}).copy()", None])
            fresh_array = init is not None
            init = self.expr(shape, 1) if init is None else init
        lines = [f"{acc} = {init}", f"for {var} in range({k}):"]
        self.loop_vars.append((var, k))
        saved = dict(self.locals)
        self.locals[acc] = shape
        body = []
        if self.coin(30):                    # a temporary inside the loop
            t = self.fresh("t")
            tshape = self.pick([(), shape])
            body.append(f"{t} = {self.expr(tshape, 2)}")
            self.locals[t] = tshape
        step = self.expr(self.pick(PARTNERS[shape]), 2)
        form = self.pick(["plus", "aug", "recur", "scale"] + (["rebind", "scored"]
                                                              if shape else []))
        score = None
        if form == "scored":        # read, then updated by a matrix product: its last
            self.feat("loop.scored")            # value never read (a zero adjoint that
            score = self.fresh("s")             # the product's adjoint must take)
            n = shape[-1]
            m = f"np.eye({n}) * 0.5 + 0.1 * np.tanh({self.expr((n,), 1)})"
            lines.insert(0, f"{score} = 0.0")
            body.append(f"{score} = {score} + np.sum({acc} * ({step}))")
            body.append(self.pick([f"{acc} = {acc} @ ({m})",
                                   f"{acc} = np.cumsum({acc}, axis=-1) * 0.5",
                                   f"{acc} = ({acc}).T.T * 0.5 + 0.1"]))
        elif form == "rebind":      # the operand overwritten by its own result (acc @ m)
            self.feat("loop.rebind")
            n = shape[-1]
            m = f"np.eye({n}) * 0.5 + 0.1 * np.tanh({self.expr((n,), 1)})"
            body.append(self.pick([f"{acc} = {acc} @ ({m})", f"{acc} = np.sort({acc}) * 0.5",
                                   f"{acc} = np.cumsum({acc}, axis=-1) * 0.5 + ({step})",
                                   f"{acc} = np.tanh({acc}) * {acc}[..., :1]",
                                   f"{acc} = {acc}[::-1] * 0.5 + ({step})",
                                   f"{acc} = {acc}[..., ::-1] + ({step})"]))
            if self.coin(40):       # reordered from itself in a branch (x = x[::-1])
                self.feat("loop.rebind.branch")
                body += [f"if np.sum({acc}) > {self.const()}:",
                         f"    {acc} = {acc}{self.pick(['[::-1]', '[..., ::-1]'])}"]
        elif form == "aug" and (shape == () or fresh_array):
            op = self.pick(["+=", "-=", "*="]) if shape == () else self.pick(["+=", "-="])
            body.append(f"{acc} {op} {step}")
        elif form == "recur":
            body.append(f"{acc} = np.tanh({acc}) * ({step}) + {self.const()}")
        elif form == "scale":
            body.append(f"{acc} = 0.5 * {acc} + np.sin({step})")
        else:
            body.append(f"{acc} = {acc} + {step}")
        lines += ["    " + b for b in body]
        self.loop_vars.pop()
        self.locals = saved
        if score is not None:       # (only the score is read after the loop)
            self.locals[score] = ()
        else:
            self.locals[acc] = shape
        return lines

    def stmt_stepping(self) -> list[str]:
        """Time stepping with a new array each step, written in place and then taking the
        old one's name (``new = np.empty_like(u); new[1:] = ...; new[0] = ...; u = new``),
        sometimes reversed (``u = new[::-1]``: a view of it) or made from the old one
        (``new = u.copy()``); a view of the old array read after the step, or an alias
        kept in a list, must not change (the view check follows time)."""
        self.feat("stepping")
        u, new, var = self.fresh("u"), self.fresh("new"), self.fresh("i")
        k = self.pick([2, 3])
        start = self.pick(["x", "x.copy()", f"({self.expr((3,), 1)}).copy()"])
        make = self.pick([f"np.empty_like({u})", f"np.zeros_like({u})", f"{u}.copy()",
                          f"np.zeros(3)"])
        self.loop_vars.append((var, k))
        self.locals[u] = (3,)
        lines = [f"{u} = {start}", f"for {var} in range({k}):", f"    {new} = {make}"]
        rest = self.expr(self.pick([(), (2,)]), 1)
        op = "=" if "empty" in make else self.pick(["=", "+="])   # (empty: not read)
        lines.append(f"    {new}[1:] {op} {u}[:-1] * 0.5 + ({rest})")
        lines.append(f"    {new}[0] = {u}[-1] * {self.const()} + {self.expr((), 1)}")
        if self.coin(30):
            self.feat("stepping.kept")
            old = self.fresh("old")
            lines.insert(2, f"    {old} = {u}[1:]")
            lines.append(f"    {u} = {new}{self.pick(['', '[::-1]'])}")
            lines.append(f"    {new} = {new} + np.sum({old}) * 0.25")
        else:
            lines.append(f"    {u} = {new}{self.pick(['', '', '[::-1]'])}")
        self.loop_vars.pop()
        return lines

    def write_target(self, shape):
        """(index text, shape of the written part, index kind) of an element write."""
        if shape == (3,):
            opts = [(lambda: (f"[{self.index(3)}]", (), "int")), lambda: ("[1:]", (2,), "slice"),
                    lambda: ("[::2]", (2,), "step"), lambda: ("[[0, 2]]", (2,), "intarray"),
                    lambda: ("[np.array([True, False, True])]", (2,), "mask"),
                    lambda: ("[:]", (3,), "slice"), lambda: ("[::-1]", (3,), "step"),
                    lambda: ("[:2]", (), "slice_scalar"), lambda: ("[[1, 1]]", (2,), "repeat")]
        elif shape == (2, 3):
            opts = [lambda: (f"[{self.index(2)}]", (3,), "row"),
                    lambda: (f"[:, {self.index(3)}]", (2,), "column"),
                    lambda: (f"[{self.index(2)}, {self.index(3)}]", (), "int"),
                    lambda: ("[:, 1:]", (2, 2), "slice"),
                    lambda: ("[np.arange(6).reshape(2, 3) % 2 == 0]", (3,), "mask"),
                    lambda: ("[1:]", (3,), "slice"), lambda: ("[:, ::2]", (2, 2), "step"),
                    lambda: ("[[1, 0]]", (2, 3), "intarray")]
        else:  # (2,)
            opts = [lambda: (f"[{self.index(2)}]", (), "int"), lambda: ("[::-1]", (2,), "step"),
                    lambda: ("[1:]", (1,), "slice")]
        return self.pick(opts)()

    def stmt_inplace(self) -> list[str]:
        self.feat("inplace")
        shape = self.pick([(3,), (3,), (2, 3), (2,)])
        y = self.fresh("y")
        # (arithmetic of constants: an array the adjoint sweep could recompute, wrongly
        # once written in place, through this name or another: ``b = ...; y = b``)
        base = {(3,): ["x.copy()", "np.zeros(3)", "np.array(x)", None, "np.ones(3) * 0.5",
                       "np.arange(3.0) * 0.5 + 1.0"],
                (2, 3): ["w.copy()", "np.ones((2, 3))", None, "np.ones((2, 3)) * 1.5"],
                (2,): ["w[:, 0].copy()", "np.zeros(2)", None, "np.arange(2.0) + 0.5"]}[shape]
        b = self.pick(base)
        if b is None:
            b = f"({self.expr(shape, 1)}).copy()"
        lines = [f"{y} = {b}"]
        if "* " in b or "+ " in b:
            self.feat("inplace.constant_arithmetic")
            if self.coin(50):
                b0 = self.fresh("b")
                lines = [f"{b0} = {b}", f"{y} = {b0}"]
        self.locals[y] = shape
        for _ in range(self.draw(st.integers(1, 3))):
            if self.coin(25) and shape != (2,):
                lines += self.write_loop(y, shape)
                continue
            if self.coin(8) and shape == (3,):
                self.feat("inplace.add_at")
                lines.append(f"np.add.at({y}, [0, 0, 2], {self.expr(self.pick([(3,), ()]), 2)})")
                continue
            idx, part, kind = self.write_target(shape)
            self.feat(f"inplace.{kind}")
            rhs = self.expr(self.pick(PARTNERS[part]), 2)
            op = self.pick(["=", "=", "+=", "-=", "*="])
            lines.append(f"{y}{idx} {op} {rhs}")
        self.locals[y] = shape
        return lines

    def stmt_mask(self) -> list[str]:
        """A mask made and written in place (``m = np.ones(3, dtype=bool); m[1:] = x > 0``),
        then read by ``np.where`` or as a factor, often inside a loop that makes it again
        each time (the reverse sweep restores it from the tape: every read of it must come
        before that restore)."""
        self.feat("mask")
        shape = self.pick([(3,), (2, 3)])
        m, acc = self.fresh("m"), self.fresh("acc")
        dtype = self.pick(["bool", "bool", "int"])
        idx, part, kind = self.write_target(shape)
        cond, _ = self.condition(part, 2)
        test = f"{m} > 0" if dtype == "int" else m
        use = self.pick([f"np.where({test}, {self.expr(shape, 2)}, {self.expr(shape, 1)})",
                         f"({self.expr(shape, 2)}) * {m}"])
        loop = self.fresh("i") if self.coin(65) else None
        ashape = self.pick([shape, ()])
        if ashape == ():                     # (a number: summed, and scaled by the loop)
            use = f"np.sum({use})" + (f" * ({loop} + 1)" if loop and self.coin(50) else "")
        body = [f"{m} = np.{self.pick(['ones', 'zeros'])}({shape}, dtype={dtype})",
                f"{m}{idx} = {cond}", f"{acc} = {acc} + {use}"]
        lines = [f"{acc} = {self.expr(ashape, 1)}"]
        if loop:
            self.feat("mask.loop")
            lines.append(f"for {loop} in range({self.pick([2, 3])}):")
            body = ["    " + b for b in body]
        self.locals[acc] = ashape
        return lines + body

    def write_loop(self, y, shape) -> list[str]:
        self.feat("inplace.loop")
        k = self.pick([2, 3]) if shape == (3,) else 2
        var = self.fresh("i")
        self.loop_vars.append((var, k))
        if shape == (3,):
            idx, part = f"[{self.index(3)}]", ()
        else:
            idx, part = self.pick([(f"[{self.index(2)}]", (3,)),
                                   (f"[{self.index(2)}, {self.index(3)}]", ())])
        rhs = self.expr(self.pick(PARTNERS[part]), 2)
        op = self.pick(["=", "+=", "*="])
        self.loop_vars.pop()
        return [f"for {var} in range({k}):", f"    {y}{idx} {op} {rhs}"]

    def result(self) -> str:
        terms = []
        recent = list(self.locals.items())[-2:]
        for name, shape in recent:
            if self.coin(80):
                if shape == ():
                    terms.append(name)
                else:
                    fn = self.pick(["sum", "sum", "mean", "max", "var"])
                    e = name if self.coin(50) else self.expr(shape, 1)
                    terms.append(f"np.{fn}({e})")
        if not terms or self.coin(40):
            shape = self.any_shape()
            e = self.expr(shape, 2)
            terms.append(e if shape == () else f"np.sum({e})")
        return " + ".join(terms)


#: shapes a comprehension writes (over the elements or rows of an array of that shape)
_COMPREHENSIONS = {(3,), (2,), (2, 3), (3, 2), (2, 2)}
#: a vector's shape -> the matrix whose rows a comprehension reduces to its elements
_ROWS_REDUCED = {(2,): (2, 3), (3,): (3, 2)}


@st.composite
def array_programs(draw, max_stmts: int = 4, max_depth: int = 3,
                   for_hvp: bool = False, for_jvp: bool = False) -> ArrayProgram:
    """A module defining ``f(x, w, a)``: ``x`` of shape (3,), ``w`` (2, 3), ``a`` a float.
    ``for_hvp`` / ``for_jvp``: leave out what KNOWN_BUGS lists for hvp / jvp only."""
    depth = draw(st.integers(1, max_depth))
    wr = _Writer(draw, depth)
    wr.hvp, wr.jvp = for_hvp, for_jvp
    body = wr.statements(draw(st.integers(0, max_stmts)))
    body.append(f"return {wr.result()}")
    src = ("import numpy as np\n\n" + MODULE_ARRAYS + "\n\ndef f(x, w, a):\n"
           + "".join(f"    {ln}\n" for ln in body))
    return ArrayProgram(src, wr.features)


@st.composite
def array_points(draw):
    """(x, w, a) with every number in [-1.4, 1.4] and 0.03 away from the constants the
    conditions compare with (CMP_CONSTS), from a drawn seed."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    cmp = np.array([float(c) for c in CMP_CONSTS])

    def sample(shape):
        v = rng.uniform(-1.4, 1.4, size=shape)
        flat = v.reshape(-1)
        for k in range(flat.size):
            while np.min(np.abs(flat[k] - cmp)) < 0.03:
                flat[k] = rng.uniform(-1.4, 1.4)
        return flat.reshape(shape)
    return sample(X_SHAPE), sample(W_SHAPE), float(sample(()))


@st.composite
def tangents(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    return (rng.uniform(-1, 1, X_SHAPE), rng.uniform(-1, 1, W_SHAPE), float(rng.uniform(-1, 1)))
