"""The ``raises`` family: reads that may raise at some points and not at others.

Python raises ``UnboundLocalError`` where a function reads a local name no path so far
has assigned, and ``IndexError`` / ``KeyError`` where it reads an element that is not
there, even where the value read is never used; every mode of symgrad must raise the
same there (``symgrad.unbound``, ``symgrad.raising``: such reads are kept).  The
family's ``f`` mixes the grammar's statements with these shapes (:class:`RaisesWriter`),
at the top level, inside a grammar-like ``for`` or ``if``, or inside a module helper
``hr..`` that ``f`` calls (symgrad inlines it):

* ``branch``: a name assigned only under ``if c1 > T:`` (sometimes an ``elif`` that
  assigns it too, an ``else`` that does not), then read: in the return, as
  ``0.0 * z``, in an unread statement, added into a variable, or by ``z += ...``;
* ``loop_after``: a loop's variable read after ``for v in zs``, ``for i in range(m)``,
  ``for a, b in zip(zs, ...)``, ``for k, v in enumerate(zs)`` (zs empty, m == 0: raises);
* ``loop_prev``: a name first assigned in a loop's body and read earlier in the body
  under ``if k > 0:`` (never raises; its gradient is checked: with ``p = v``, a copy of
  the element, it was silently wrong before 1cfc178);
  ``prev_unguarded``: the same read unguarded, the name assigned before the loop in one
  branch only;
* ``subscript``: ``t = zs[0]``, ``zs[-1]``, ``R[1][0]``, ``D["k"]``, ``TABLE[k][1]`` (a
  module-level list, ``k`` an int parameter), ``zs[i]`` for ``i in range(m)``, unread or
  read where no derivative needs it;
* ``walrus``: ``if c1 > T and (z := ...) > -1000.0:``, then ``z`` read;
* definitely assigned, never raising, leaving no kept read: ``for_else`` (``for ...:
  if ...: z = ...; break`` / ``else: z = ...``), ``while_true`` (``while True: z = ...;
  ... break``), ``branch_all`` (every branch assigns, or returns);
* ``arith`` (in a quarter of the programs, feature ``raises.arith``; 1-2 of them): the
  function's own arithmetic that may raise, of a switch of its own (:meth:`raise_arith`):
  ``e / (c3 - 0.5)`` (``ZeroDivisionError``: ``raises.arith_div``), ``math.log(c3)``
  (``ValueError``: ``arith_log``), ``math.sqrt(2.0 * c3 + 1.0)`` (``arith_sqrt``),
  sometimes through a name (``dv = c3 - 0.5``); placed as a shape (before, between or
  after the others, wrapped or in a helper like them, read as the reads are: in the
  return, ``0.0 * ...``, unread, accumulated) or in the expression of a read that may
  raise, before or after it (``raises.arith_inline``: ``(zs[0] + 1.0 / (c3 - 0.5))``,
  ``(math.log(c3) * zs[0])``).
  Where both fire, the first error must be Python's.

Its parameters beside the grammar's: switches ``c1``, ``c2`` (floats, never written;
each ``if`` of a shape tests one), ``zs`` (a list of floats), ``m``, ``k`` (ints), ``D``
(a dict of floats: keys ``"a"``, ``"k"``), ``R`` (a list of rows).  Each shape that may
raise records a *trigger* (:data:`TRIGGERS`): :func:`raise_point` draws every parameter
where no trigger fires, then, three times in four, fires one or two (the branch not
taken, zs empty, m zero or past the end of zs, a row missing, the key missing, a row of
TABLE too short); Python decides what raises (half the points or a little more).
Each ``arith`` switch is set, independently of the reads' triggers, half the time to
where its arithmetic raises (exactly ``T`` for a division, ``<= T`` for a log, ``< T`` for
a square root), elsewhere at least MARK from it.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from fuzz_families import names_read
from fuzz_oracles import map_leaves
from symgrad import grad, hessian, hvp, jvp, value_and_grad, vjp

#: the module-level list of the ``TABLE[k][1]`` reads: rows 1 and 3 (and -4) raise
TABLE = [[0.5, 1.5], [2.0], [1.0, -0.5, 3.0]]
TABLE_SAFE = (0, 2, -1)
TABLE_RAISE = (1, 3, -4)
#: the family's parameters that are not numbers, in f's signature order; the
#: differentiable ones (hvp and hessian take numbers and lists of numbers: not D, R)
RAISE_PARAMS = ("zs", "D", "R", "m", "k")
RAISE_DIFFERENTIABLE = ("zs", "D", "R")
#: the shapes that may raise, those that never do, those definitely assigned (a subset of
#: the second), and those that need branches
MAYBE = ("branch", "branch", "loop_after", "loop_after", "subscript", "subscript", "subscript",
         "walrus", "prev_unguarded")
NEVER = ("loop_prev", "for_else", "while_true", "branch_all")
DEFINITE = ("for_else", "while_true", "branch_all")
BRANCHY_SHAPES = ("branch", "walrus", "prev_unguarded", "for_else", "branch_all")
#: what fires a trigger: ("cond", c, safe, raising) intervals of the switch c; ("empty",
#: "zs"); ("zero", "m"); ("past", "m"); ("row", "R"); ("key", "D"); ("table", "k"); and
#: ("runs", "zs" or "m"): no trigger, but the loop must run where nothing is fired (the
#: read in ``prev_unguarded``'s loop raises only then); ("arith", c, safe, raising): the
#: switch of an arithmetic raise point (fired on its own, :func:`raise_point`)
TRIGGERS = ("cond", "empty", "zero", "past", "row", "key", "table", "runs", "arith")
MARK = 0.1                   # a switch's distance from its threshold


def _regions(op: str, t: float, elif_: bool) -> tuple[list, list]:
    """(safe, raising) intervals of a switch tested ``c op t`` (with ``elif``: also
    ``c < t - 1`` or ``c > t + 1``, assigning too), MARK from each boundary."""
    if op == ">":
        safe, gap = [(t + MARK, 2.0)], (-2.0, t - MARK)
        if elif_:
            safe, gap = safe + [(-2.0, t - 1 - MARK)], (t - 1 + MARK, t - MARK)
    else:
        safe, gap = [(-2.0, t - MARK)], (t + MARK, 2.0)
        if elif_:
            safe, gap = safe + [(t + 1 + MARK, 2.0)], (t + MARK, t + 1 - MARK)
    return safe, [gap]


class RaisesWriter:
    """The raises family's code (a mixin of ``fuzz_programs._Writer``)."""

    def raises_reset(self, env: Any) -> None:
        self.raise_env = env
        self.raise_floats: list[str] = []
        self.raise_used: set[str] = set()
        self.raise_triggers: list[tuple] = []
        self.raise_defs: list[str] = []
        self.raise_table = False
        self.arith_inline = 0        # arithmetic raise points left for a read's expression

    # ---------------------------------------------------------------- f's body
    def raises_body(self, env: Any, lines: list[str]) -> bool:
        """``f``'s body with 1-3 shapes among the grammar's statements, and its return;
        True when every shape is definitely assigned (``for_else``, ``while_true``,
        ``branch_all``)."""
        self.raises_reset(env)
        definite = self.branches and self.chance(15)
        # (the shapes that may raise drawn twice as often: about half the points raise)
        kinds = DEFINITE if definite else MAYBE + MAYBE + NEVER
        kinds = [k for k in kinds if self.branches or k not in BRANCHY_SHAPES]
        params = list(env.scalars)
        terms: list[str] = []
        shapes = [self.pick(kinds) for _ in range(self.pick([1, 1, 2, 2, 3]))]
        if self.chance(40):                 # the function's own arithmetic that may raise
            self.features.add("raises.arith")
            for _ in range(self.pick([1, 1, 2])):
                if self.chance(45):
                    self.arith_inline += 1
                else:
                    shapes.insert(self.draw(st.integers(0, len(shapes))), "arith")
        for kind in shapes:
            if self.chance(40):
                self.stmt(env, 0, True, None, lines, "    ")
            if self.calls and self.chance(20):
                self.raise_helper(env, kind, lines, terms)
            else:
                self.raise_wrapped(env, kind, lines, terms)
        while self.arith_inline:            # (no read of a shape took it)
            self.arith_inline -= 1
            self.raise_wrapped(env, "arith", lines, terms)
        if self.chance(30):
            self.stmt(env, 0, True, None, lines, "    ")
        ret = [self.expr(env, self.draw(st.integers(1, 2)))] + terms
        ret += [v for v in env.scalars if v not in params and v not in self.raise_floats][-2:]
        lines.append(f"    return {' + '.join(ret)}")
        return definite

    def raise_wrapped(self, env: Any, kind: str, lines: list[str], terms: list[str]) -> None:
        """The shape at f's top level, or inside a ``for`` or an ``if`` (its reads then
        inside too)."""
        wrap = self.pick(["top"] * 5 + ["for"] + (["if"] if self.branches else []))
        self.features.add(f"raises.in_{wrap}")
        if wrap == "top":
            self.raise_shape(kind, env, True, None, lines, "    ", terms)
        elif wrap == "for":
            j = self.fresh("j")
            lines.append(f"    for {j} in range({self.pick(['1', '2'])}):")
            self.raise_shape(kind, env.child(ints=[j]), False, "for", lines, "        ", terms)
        else:
            lines.append(f"    if {self.cond(env, 1)}:")
            self.features.add("if")
            self.raise_shape(kind, env.child(), False, None, lines, "        ", terms)

    def raise_helper(self, env: Any, kind: str, lines: list[str], terms: list[str]) -> None:
        """A module function ``hr..(a, <the family's parameters it reads>)`` holding the
        shape, called by f (symgrad inlines it)."""
        self.features.add("raises.helper")
        name = self.fresh("hr")
        henv = self.Env.root(["a"])
        body: list[str] = []
        hterms: list[str] = []
        saved = self.in_helper
        self.in_helper = True
        self.raise_shape(kind, henv, True, None, body, "    ", hterms)
        body.append(f"    return {' + '.join([self.expr(henv, 1)] + hterms)}")
        self.in_helper = saved
        read = names_read(body)
        args = [c for c in self.raise_floats if c in read] + \
            [p for p in RAISE_PARAMS if p in read]
        self.raise_defs += ["", f"def {name}({', '.join(['a'] + args)}):"] + body + [""]
        call = f"{name}({', '.join([self.expr(env, 1)] + args)})"
        v = self.fresh("v")
        lines.append(f"    {v} = {call}")
        env.add_scalar(v)

    def raises_defs(self) -> list[str]:
        """The module-level lines of the family: TABLE, the helpers."""
        out = ["", f"TABLE = {TABLE!r}", ""] if self.raise_table else []
        return out + self.raise_defs

    def raises_signature(self) -> tuple[list[str], list[str]]:
        """(the switches, the other parameters of the family f takes)."""
        return list(self.raise_floats), [p for p in RAISE_PARAMS if p in self.raise_used]

    # ---------------------------------------------------------------- pieces
    def raise_param(self, name: str) -> str:
        self.raise_used.add(name)
        if name == "k":
            self.raise_table = True
        return name

    def raise_switch(self, elif_: bool = False) -> tuple[str, str, str | None]:
        """A new switch parameter ``c..`` and its test: (name, test, the elif's test);
        its trigger recorded."""
        c = f"c{len(self.raise_floats) + 1}"
        self.raise_floats.append(c)
        if c not in self.raise_env.own_scalars:       # (the grammar may read it in f)
            self.raise_env.own_scalars.append(c)
        op, t = self.pick([">", "<"]), self.pick([-0.5, 0.0, 0.5])
        other = (f"{c} < {t - 1}" if op == ">" else f"{c} > {t + 1}") if elif_ else None
        safe, raising = _regions(op, t, elif_)
        self.raise_triggers.append(("cond", c, safe, raising))
        self.features.update(["cond", "if"])
        return c, f"{c} {op} {t}", other

    def raise_read(self, env: Any, name: str, top: bool, lines: list[str], indent: str,
                   terms: list[str], what: str = "read") -> None:
        """Read ``name`` (a name or a subscript that may raise; ``what="arith"``: an
        arithmetic raise point): in the return (as it is, or where no derivative needs
        it: ``0.0 * z``), in a statement never read, or added into a variable of the
        grammar; a read may take an arithmetic raise point left (:meth:`arith_beside`)."""
        # (several in one return: the first to raise must be Python's; value_and_grad
        # had printed a copy of z before W[0] + math.sin(z), see test_raises_as_python)
        form = self.pick((["ret", "zero"] if top else []) + ["dead", "acc"])
        self.features.add(f"raises.{what}_{form}")
        e = self.pick([name, name, f"math.tanh({name})", f"{name} * {self.expr(env, 1)}"])
        if what == "read" and self.arith_inline and self.chance(60):
            e = self.arith_beside(env, e, lines, indent)
        if form == "ret":
            terms.append(e)
        elif form == "zero":
            terms.append(f"0.0 * {e}")
        elif form == "dead" or not env.assignable:
            lines.append(f"{indent}{self.fresh('dz')} = {e}")
        else:
            acc = self.pick(env.assignable)
            lines.append(f"{indent}{acc} = {acc} + 0.5 * {e}")

    def arith_beside(self, env: Any, e: str, lines: list[str], indent: str) -> str:
        """``e`` (a read that may raise) and an arithmetic raise point in one expression,
        either first: where both raise, Python raises the first one's error (a value
        the derivative reuses, ``math.sqrt(c)``, had been computed first: fixed, see
        tests/test_raises_as_python.py)."""
        self.arith_inline -= 1
        self.features.add("raises.arith_inline")
        a = self.raise_arith(env, lines, indent)
        return self.pick([f"({e} + {a})", f"({a} + {e})", f"({e} * {a})", f"({a} * {e})"])

    def raise_arith(self, env: Any, lines: list[str], indent: str,
                    kinds: list[str] | None = None) -> str:
        """An expression of the function's own arithmetic that raises where a new switch
        ``c..`` is at its trigger ``T`` (-0.5, 0 or 0.5): ``e / (c - T)`` (at ``c == T``:
        ZeroDivisionError), ``math.log(c - T)`` (``c <= T``: ValueError),
        ``math.sqrt(c - T)`` (``c < T``: never at T, where only the derivative divides by
        zero), of ``kinds`` (default: all three); ``c - T`` sometimes doubled, or
        computed first into a name.  Its trigger is recorded."""
        c = f"c{len(self.raise_floats) + 1}"
        self.raise_floats.append(c)
        if c not in self.raise_env.own_scalars:       # (the grammar may read it in f)
            self.raise_env.own_scalars.append(c)
        kinds = kinds or ["div", "log", "sqrt"]
        kind, t = self.pick(kinds), self.pick([-0.5, 0.0, 0.5])
        self.features.add(f"raises.arith_{kind}")
        one, two = ({0.5: " - 0.5", -0.5: " + 0.5", 0.0: ""}[t],
                    {0.5: " - 1.0", -0.5: " + 1.0", 0.0: ""}[t])
        arg = self.pick([f"{c}{one}", f"({c}{one}) * 2.0", f"2.0 * {c}{two}"])
        if self.chance(25):
            self.features.add("raises.arith_name")
            dv = self.fresh("dv")
            lines.append(f"{indent}{dv} = {arg}")
            arg = dv
        safe = [(t + MARK, 2.0)] + ([(-2.0, t - MARK)] if kind == "div" else [])
        raising = {"div": [(t, t)], "log": [(t, t), (-2.0, t - MARK)],
                   "sqrt": [(-2.0, t - MARK)]}[kind]
        self.raise_triggers.append(("arith", c, safe, raising))
        if kind != "div":
            return f"math.{kind}({arg})"
        den = arg if arg.isidentifier() else f"({arg})"
        return f"({self.pick(['1.0', self.expr(env, 1)])} / {den})"

    def raise_value(self, env: Any, c: str | None = None) -> str:
        """A value to assign: of the grammar, or one no derivative of the x's needs."""
        forms = ["e", "e", "1.5"] + ([f"{c} * 2.0", f"math.sin({c})"] if c else [])
        form = self.pick(forms)
        return self.expr(env, self.draw(st.integers(1, 2))) if form == "e" else form

    def raise_grammar(self, env: Any, in_loop: str | None, lines: list[str],
                      indent: str) -> None:
        """Sometimes a statement of the grammar (no nested block)."""
        if self.chance(35):
            self.block(env, 1, 2, False, in_loop, lines, indent)

    def raise_shape(self, kind: str, env: Any, top: bool, in_loop: str | None,
                    lines: list[str], indent: str, terms: list[str]) -> None:
        """Write one shape (module doc) at ``indent``; its reads in ``lines`` or, when
        ``top``, some in ``terms`` (the return's)."""
        self.features.add(f"raises.{kind}")
        getattr(self, "rs_" + kind)(env, top, in_loop, lines, indent, terms)

    # ---------------------------------------------------------------- shapes that may raise
    def rs_branch(self, env: Any, top: bool, in_loop: str | None, lines: list[str],
                  indent: str, terms: list[str]) -> None:
        """``z`` assigned under ``if c > T:`` (and an ``elif``), not in an ``else``."""
        c, test, other = self.raise_switch(elif_=self.chance(30))
        z = self.fresh("z")
        lines.append(f"{indent}if {test}:")
        self.raise_grammar(env.child(), in_loop, lines, indent + "    ")
        lines.append(f"{indent}    {z} = {self.raise_value(env, c)}")
        if other is not None:
            self.features.add("raises.branch_elif")
            lines.append(f"{indent}elif {other}:")
            lines.append(f"{indent}    {z} = {self.raise_value(env, c)}")
        if self.chance(25):
            self.features.add("raises.branch_else")
            lines.append(f"{indent}else:")
            self.block(env.child(), 1, 2, False, in_loop, lines, indent + "    ")
        if self.chance(25):                       # (reads z first: raises as a read)
            self.features.add("raises.aug")
            lines.append(f"{indent}{z} {self.pick(['+=', '-=', '*='])} {self.expr(env, 1)}")
        self.raise_read(env, z, top, lines, indent, terms)

    def rs_walrus(self, env: Any, top: bool, in_loop: str | None, lines: list[str],
                  indent: str, terms: list[str]) -> None:
        """``z`` assigned by a walrus in the second operand of ``and``."""
        c, test, _ = self.raise_switch()
        z = self.fresh("z")
        bound = self.pick(["> -1000.0", "< 1000.0"])
        lines.append(f"{indent}if {test} and ({z} := {self.raise_value(env, c)}) {bound}:")
        before = len(lines)
        self.raise_grammar(env.child(scalars_ro=[z]), in_loop, lines, indent + "    ")
        if len(lines) == before:
            lines.append(f"{indent}    pass")
        self.raise_read(env, z, top, lines, indent, terms)

    def loop_header(self, env: Any, forms: list[str]) -> tuple[str, Any, list[str], str]:
        """A loop over ``zs`` or ``range(m)`` (or ``xs``, never empty): (header, the
        body's scope, the names it binds, the form)."""
        form = self.pick(forms)
        self.features.add(f"raises.loop_{form}")
        if form == "range":
            i = self.fresh("i")
            return f"for {i} in range({self.raise_param('m')}):", env.child(ints=[i]), [i], form
        v = self.fresh("z")
        own = "xs" if form.endswith("_xs") else self.raise_param("zs")
        if form.startswith("elems"):
            return f"for {v} in {own}:", env.child(scalars_ro=[v]), [v], form
        if form == "zip":
            u = self.fresh("z")
            other = "xs" if "xs" in env.lists else "zs"
            return (f"for {v}, {u} in zip({own}, {other}):", env.child(scalars_ro=[v, u]),
                    [v, u], form)
        i = self.fresh("i")
        return (f"for {i}, {v} in enumerate({own}):", env.child(scalars_ro=[v], ints=[i]),
                [i, v], form)

    def rs_loop_after(self, env: Any, top: bool, in_loop: str | None, lines: list[str],
                      indent: str, terms: list[str]) -> None:
        """A loop's variable read after the loop (unbound when it ran no times)."""
        header, inner, names, form = self.loop_header(env, ["elems", "range", "zip",
                                                            "enumerate"])
        self.raise_triggers.append(("zero", "m") if form == "range" else ("empty", "zs"))
        lines.append(indent + header)
        self.block(inner, self.pick([1, 1, 2]), 2, False, "for", lines, indent + "    ")
        self.raise_read(env, self.pick(names), top, lines, indent, terms)

    def rs_prev_unguarded(self, env: Any, top: bool, in_loop: str | None, lines: list[str],
                          indent: str, terms: list[str]) -> None:
        """``p`` assigned before the loop in one branch, read in the body before the body
        assigns it (raises when the branch was not taken and the loop runs)."""
        c, test, _ = self.raise_switch()
        p = self.fresh("pv")
        lines.append(f"{indent}if {test}:")
        lines.append(f"{indent}    {p} = {self.raise_value(env, c)}")
        form = self.loop_prev(env, top, p, False, lines, indent, terms)
        if not form.endswith("_xs"):
            self.raise_triggers.append(("runs", "m" if form == "range" else "zs"))

    def rs_subscript(self, env: Any, top: bool, in_loop: str | None, lines: list[str],
                     indent: str, terms: list[str]) -> None:
        """An element read that may not be there, unread or read where no derivative
        needs it."""
        form = self.pick(["first", "last", "row", "key", "key", "table", "past"])
        self.features.add(f"raises.subscript_{form}")
        if form == "past":                          # zs[i], i in range(m), m > len(zs)
            self.raise_triggers.append(("past", "m"))
            i = self.fresh("i")
            lines.append(f"{indent}for {i} in range({self.raise_param('m')}):")
            inner = env.child(ints=[i])
            self.raise_grammar(inner, "for", lines, indent + "    ")
            e = f"{self.raise_param('zs')}[{i}]"
            if self.chance(50):
                lines.append(f"{indent}    {self.fresh('dz')} = {e}")
                self.block(inner, 1, 2, False, "for", lines, indent + "    ")
            else:
                self.raise_read(inner, e, False, lines, indent + "    ", terms)
            return
        e = {"first": "zs[0]", "last": "zs[-1]", "row": "R[1][0]", "key": 'D["k"]',
             "table": "TABLE[k][1]"}[form]
        self.raise_param({"row": "R", "key": "D", "table": "k"}.get(form, "zs"))
        self.raise_triggers.append({"row": ("row", "R"), "key": ("key", "D"),
                                    "table": ("table", "k")}.get(form, ("empty", "zs")))
        if self.chance(50):                         # unread
            t = self.fresh("dz")
            lines.append(f"{indent}{t} = {e}" + self.pick(["", f" * {self.expr(env, 1)}"]))
            if self.chance(30):                     # (read, where nothing needs it)
                self.raise_read(env, t, top, lines, indent, terms)
        else:
            self.raise_read(env, e, top, lines, indent, terms)

    def rs_arith(self, env: Any, top: bool, in_loop: str | None, lines: list[str],
                 indent: str, terms: list[str]) -> None:
        """An arithmetic raise point (:meth:`raise_arith`), read as a read is."""
        a = self.raise_arith(env, lines, indent)
        self.raise_read(env, a, top, lines, indent, terms, what="arith")

    # ---------------------------------------------------------------- shapes that never raise
    def rs_loop_prev(self, env: Any, top: bool, in_loop: str | None, lines: list[str],
                     indent: str, terms: list[str]) -> None:
        """``p`` first assigned in the loop's body, read earlier in it under ``if k >
        0:`` (assigned by the iteration before)."""
        self.loop_prev(env, top, self.fresh("pv"), True, lines, indent, terms)

    def loop_prev(self, env: Any, top: bool, p: str, guarded: bool, lines: list[str],
                  indent: str, terms: list[str]) -> str:
        """The loop of ``loop_prev`` (and ``prev_unguarded``): its form."""
        s = self.fresh("s")
        lines.append(f"{indent}{s} = {self.pick(['0.0', self.expr(env, 1)])}")
        forms = ["enumerate", "enumerate", "range"] + (["enumerate_xs"] if "xs" in env.lists
                                                      else [])
        header, inner, names, form = self.loop_header(env, forms)
        k = names[0]
        lines.append(indent + header)
        body = indent + "    "
        add = self.pick(["{s} = {s} + {p} * {e}", "{s} += {p} * {e}",
                         "{s} = {s} * 0.5 + math.tanh({p} + {e})"])
        if guarded:
            lines.append(f"{body}if {k} > 0:")
            lines.append(body + "    " + add.format(s=s, p=p, e=self.expr(inner, 1)))
        else:
            lines.append(body + add.format(s=s, p=p, e=self.expr(inner, 1)))
        # (no continue of the grammar's: it would skip p's assignment)
        self.raise_grammar(inner, None, lines, body)
        value = self.expr(inner, self.draw(st.integers(1, 2)))
        if form == "range":
            value = f"({value}) * ({k} + 1)"
        elif self.chance(40):           # a copy of the element (the gradient recomputed
            value = names[-1]           # it as this iteration's: fixed in 1cfc178)
            self.features.add("raises.prev_copy")
        elif names[-1] not in value:
            value = f"{names[-1]} * {value}"
        lines.append(f"{body}{p} = {value}")
        if top:
            terms.append(s)
        else:
            acc = self.pick(env.assignable) if env.assignable else None
            lines.append(f"{indent}{acc or self.fresh('dz')} = {(acc + ' + ') if acc else ''}"
                         f"0.5 * {s}")
        return form

    def rs_for_else(self, env: Any, top: bool, in_loop: str | None, lines: list[str],
                    indent: str, terms: list[str]) -> None:
        """``z`` assigned before every ``break`` and in the loop's ``else``."""
        header, inner, names, _ = self.loop_header(
            env, ["elems"] + (["elems_xs"] if "xs" in env.lists else []))
        v, z = names[-1], self.fresh("z")
        lines.append(indent + header)
        # (no break of the grammar's: it would leave the loop with z not assigned)
        self.raise_grammar(inner, None, lines, indent + "    ")
        bound = self.pick(["0.0", "0.5", "-0.5", self.expr(env, 1)])
        lines.append(f"{indent}    if {v} > {bound}:")
        lines.append(f"{indent}        {z} = {self.expr(inner, self.draw(st.integers(1, 2)))}")
        lines.append(f"{indent}        break")
        lines.append(f"{indent}else:")
        lines.append(f"{indent}    {z} = {self.raise_value(env)}")
        self.features.update(["cond", "if"])
        self.raise_read(env, z, top, lines, indent, terms)

    def rs_while_true(self, env: Any, top: bool, in_loop: str | None, lines: list[str],
                      indent: str, terms: list[str]) -> None:
        """``z`` assigned first thing in a ``while True:`` left by ``break``."""
        k, z = self.fresh("k"), self.fresh("z")
        bound = self.pick(["0", "1", "2", "m"])
        if bound == "m":
            self.raise_param("m")
        inner = env.child(ints=[k])
        lines.append(f"{indent}{k} = 0")
        lines.append(f"{indent}while True:")
        lines.append(f"{indent}    {z} = {self.expr(inner, self.draw(st.integers(1, 2)))}")
        self.raise_grammar(inner, "while", lines, indent + "    ")
        lines.append(f"{indent}    {k} += 1")
        lines.append(f"{indent}    if {k} > {bound}:")
        lines.append(f"{indent}        break")
        self.raise_read(env, z, top, lines, indent, terms)

    def rs_branch_all(self, env: Any, top: bool, in_loop: str | None, lines: list[str],
                      indent: str, terms: list[str]) -> None:
        """``z`` assigned in every branch (or the last one returns)."""
        z = self.fresh("z")
        form = self.pick(["if_else", "elif_else", "else_return"])
        self.features.add(f"raises.branch_all_{form}")
        lines.append(f"{indent}if {self.cond(env, 1)}:")
        lines.append(f"{indent}    {z} = {self.raise_value(env)}")
        if form != "if_else":
            lines.append(f"{indent}elif {self.cond(env, 1)}:")
            self.raise_grammar(env.child(), in_loop, lines, indent + "    ")
            lines.append(f"{indent}    {z} = {self.raise_value(env)}")
        lines.append(f"{indent}else:")
        if form == "else_return":           # (the grammar then makes no NamedTuple, no
            self.features.add("early_return")   # tuple of tuples: refused after one)
            lines.append(f"{indent}    return {self.expr(env, 1)}")
        else:
            lines.append(f"{indent}    {z} = {self.raise_value(env)}")
        self.features.add("if")
        self.raise_read(env, z, top, lines, indent, terms)


# ---------------------------------------------------------------------- the points

def raise_point(draw: Any, triggers: list[tuple], used: list[str], floats: list[str],
                source: str) -> dict[str, Any]:
    """The family's arguments: every trigger quiet, then, three times in four, one or two
    of the reads' fired (Python may raise there; with the programs whose shapes never
    raise, half the points or a little more raise: 60% in a run of 1500 examples), and
    each arithmetic raise point's, on its own, half the time (so that both fire at some
    points).  (Hypothesis draws the simplest choice, 0, far more often than its share:
    the choices are offset by a hash of the ``source``, so that the share holds however
    the draws lean.)"""
    salt = zlib.crc32(source.encode())
    kinds = {t[0] for t in triggers}
    triggers_all, triggers = triggers, [t for t in triggers if t[0] not in ("runs", "arith")]

    def num() -> float:
        return draw(st.floats(-2.0, 2.0, allow_nan=False))
    quiet = {t[1]: t[2] for t in triggers_all if t[0] in ("cond", "arith")}
    out: dict[str, Any] = {}
    for c in floats:
        lo, hi = draw(st.sampled_from(quiet.get(c, [(-2.0, 2.0)])))
        out[c] = draw(st.floats(lo, hi))
    runs = {t[1] for t in triggers if t[0] in ("empty", "zero")} | {
        t[1] for t in triggers_all if t[0] == "runs"}
    out["zs"] = [num() for _ in range(draw(st.integers(1 if "zs" in runs or "past" in kinds
                                                       else 0, 3)))]
    out["m"] = draw(st.integers(1 if "m" in runs else 0,
                                len(out["zs"]) if "past" in kinds else 3))
    out["D"] = {"a": num(), "k": num()}
    out["R"] = [[num() for _ in range(draw(st.integers(1, 2)))]
                for _ in range(draw(st.integers(2, 3)))]
    out["k"] = draw(st.sampled_from(TABLE_SAFE))
    if triggers and (draw(st.integers(0, 3)) + salt) % 4:
        n = len(triggers)
        for k in draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2)):
            fire(draw, triggers[(k + salt // 2) % n], out)
    arith = [t for t in triggers_all if t[0] == "arith"]
    for j, t in enumerate(arith):          # (each half the time, whatever the reads do)
        if (draw(st.integers(0, 1)) + (salt >> (8 + j))) % 2:
            fire(draw, t, out)
    return {p: out[p] for p in floats + used}


def fire(draw: Any, trigger: tuple, out: dict[str, Any]) -> None:
    """Change the point so that the trigger's read finds nothing."""
    kind, p = trigger[0], trigger[1]
    if kind in ("cond", "arith"):
        lo, hi = draw(st.sampled_from(trigger[3]))
        out[p] = draw(st.floats(lo, hi))
    elif kind == "empty":
        out["zs"] = []
    elif kind == "zero":
        out["m"] = 0
    elif kind == "past":
        out["m"] = len(out["zs"]) + draw(st.integers(1, 2))
    elif kind == "row":
        out["R"] = out["R"][:1] if draw(st.booleans()) else [out["R"][0], []]
    elif kind == "key":
        out["D"].pop("k", None)
    else:
        out["k"] = draw(st.sampled_from(TABLE_RAISE))


# ---------------------------------------------------------------------- the oracle's parts
#: what the family's reads raise where they find nothing
RAISES_RAISES = (UnboundLocalError, IndexError, KeyError)
#: what the function's own arithmetic raises (``arith``: checked in the programs that
#: have it, discarded elsewhere, as OverflowError is everywhere)
ARITH_RAISES = (ZeroDivisionError, ValueError)
#: symgrad's comment on a read it keeps because it may raise
KEPT = "raises where the function raises"


def python_raises(f: Any, prog: Any, args: list) -> BaseException | None:
    """What ``f`` raises at ``args`` that the oracle checks (``test_fuzz.check_raises``):
    one of :data:`RAISES_RAISES`, or of :data:`ARITH_RAISES` in a program with
    arithmetic raise points; None where it returns.  Other arithmetic errors: the point
    is discarded."""
    try:
        f(*copy.deepcopy(args))
    except RAISES_RAISES as exc:
        return exc
    except ARITH_RAISES as exc:
        assume("raises.arith" in prog.features)
        return exc
    except OverflowError:
        assume(False)
    return None


def triggers_set(prog: Any, args: list) -> str:
    """For the statistics of a program with arithmetic raise points: which triggers
    ``args`` sets (each raises where it is reached first): "both", "read", "arith"
    or "none"."""
    p = dict(zip(prog.params, args))

    def on(t: tuple) -> bool:
        if t[0] in ("cond", "arith"):
            return any(lo <= p[t[1]] <= hi for lo, hi in t[3])
        return {"empty": lambda: not p["zs"], "zero": lambda: p["m"] == 0,
                "past": lambda: p["m"] > len(p["zs"]),
                "row": lambda: len(p["R"]) < 2 or not p["R"][1],
                "key": lambda: "k" not in p["D"], "table": lambda: p["k"] in TABLE_RAISE,
                "runs": lambda: False}[t[0]]()
    kinds = {"arith" if t[0] == "arith" else "read" for t in prog.raise_triggers if on(t)}
    return "both" if len(kinds) == 2 else kinds.pop() if kinds else "none"


def kept_names(source: str) -> list[str]:
    """The lines of a generated ``source`` that keep a read of a name (a name and
    :data:`KEPT`; not ``xs[0]`` nor a math call of the grammar's: they may raise)."""
    return [line.strip() for line in source.splitlines()
            if KEPT in line and line.split("#")[0].strip().isidentifier()]


def raising_modes(f: Any, prog: Any, x: list, wrt: list[str]) -> dict:
    """Each mode's call of ``f`` at ``x`` (``test_fuzz.check_raises``): ``grad``,
    ``value_and_grad``, ``vjp``; ``jvp`` (tangents: 1.0 for the numbers of ``wrt``,
    zeros shaped like the others); ``hessian`` and ``hvp`` when ``wrt`` are numbers and
    lists of numbers.  No forward mode where a list is met twice in the arguments (the
    identities test leaves those out too: one list, two tangents)."""
    cp = copy.deepcopy
    t = tuple(map_leaves(a, lambda u, on=p in wrt: 1.0 if on else
                         0 if isinstance(u, int) else 0.0) for p, a in zip(prog.params, x))
    calls = {"grad": lambda: grad(f, wrt=wrt)(*cp(x)),
             "value_and_grad": lambda: value_and_grad(f, wrt=wrt)(*cp(x)),
             "vjp": lambda: vjp(f, *cp(x))[1](1.0)}
    if _shared(x):
        return calls
    calls["jvp"] = lambda: jvp(f, tuple(cp(x)), t)
    if all(p in prog.scalars or p in ("xs", "zs") for p in wrt) and \
            "globals.acc" not in prog.features:      # (hvp refuses that: see README)
        v = tuple(t[prog.params.index(p)] for p in wrt)
        calls["hessian"] = lambda: hessian(f, wrt=wrt)(*cp(x))
        calls["hvp"] = lambda: hvp(f, tuple(cp(x)), v, wrt=wrt)
    return calls


def _shared(x: Any, seen: set | None = None) -> bool:
    """Is one list met twice in ``x`` (lists, tuples, dicts)?"""
    seen = set() if seen is None else seen
    for v in (x.values() if isinstance(x, dict) else x):
        if isinstance(v, list) and id(v) in seen:
            return True
        if isinstance(v, list):
            seen.add(id(v))
        if isinstance(v, (list, tuple, dict)) and _shared(v, seen):
            return True
    return False
