"""Random programs in symgrad's supported Python subset, for the fuzz tests.

:func:`programs` is a Hypothesis strategy that writes a small module: one to
three helper functions and a function ``f`` built from

* straight-line arithmetic (``+ - * /``, ``**`` with constant and variable
  exponents, unary minus) and ``math`` / ``symgrad`` calls,
* reassignment (of parameters too), augmented assignment and tuple swaps,
* ``if`` / ``elif`` / ``else``, early ``return``, conditional expressions,
  ``and`` / ``or`` / ``not``, ``abs`` / ``max`` / ``min`` / ``relu`` / ``%``,
* bounded ``for`` loops over ``range(K)``, ``range(n)``, ``range(len(xs))``,
  over ``xs``, ``enumerate(xs)``, ``reversed(xs)``, ``zip(xs, L)``; ``while``
  loops with counters; ``break`` / ``continue``; nesting,
* calls of the helpers (positional, keyword and default arguments),
* a list argument ``xs`` indexed in loops, local lists (comprehensions,
  ``append``, element writes ``L[i] = ...``), ``sum`` and generator expressions.

Every argument of ``f`` is a float except ``n`` (an int loop bound, never
differentiated).  Values are kept bounded by construction: unbounded
functions get bounded arguments (``exp(tanh(e))``, ``log(1 + e * e)``,
``e / (1.5 + sin(e))``), so a program is defined everywhere.

:func:`load` writes the source to a temporary ``.py`` file and imports it
(symgrad reads source with ``inspect``, so the code must live in a file).
:func:`run_on` runs the *same source* with ``math`` and ``symgrad`` replaced
by shims, so the one program body runs on floats, ``Value`` s, SymPy symbols
or mpmath high-precision numbers.

The kink rule (points near branch boundaries and kinks are excluded; so are points
where an intermediate value exceeds :data:`LARGE` = 1e8 or is inf/nan):
:func:`margins` runs an *instrumented copy* of the program (every comparison,
``abs``, ``max``, ``min``, ``relu``, ``%`` and ``//`` rewritten to record how
far it is from its boundary: ``|lhs - rhs|`` for a comparison, ``|x|`` for
``abs``/``relu``, ``|a - b|`` for ``max``/``min``, the distance of ``a / b`` to the
nearest integer times ``|b|`` for ``%``/``//``) and a point is used only when
every recorded distance exceeds :data:`MARGIN`.  Comparisons between two ints
(loop counters) are exact and not recorded.
"""

from __future__ import annotations

import ast
import atexit
import hashlib
import importlib.util
import math
import operator
import os
import shutil
import tempfile
import types
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import strategies as st

import symgrad
from symgrad import Value

MARGIN = 1e-3

# --------------------------------------------------------------------------- programs


@dataclass
class Program:
    """A generated module and what the tests need to know about ``f``."""

    source: str
    scalars: list[str]              # the float parameters of f
    has_list: bool                  # f takes the list parameter xs
    has_n: bool                     # f takes the int parameter n
    branchy: bool                   # comparisons or max/min/relu on floats (no SymPy check)
    sympy_ok: bool                  # branch-free and nothing SymPy handles differently
    features: set[str] = field(default_factory=set)

    @property
    def params(self) -> list[str]:
        return self.scalars + (["xs"] if self.has_list else []) + (["n"] if self.has_n else [])

    @property
    def differentiable(self) -> list[str]:
        return self.scalars + (["xs"] if self.has_list else [])


CONSTS = ["1.5", "0.5", "2", "-0.75", "3", "0.25", "-2.0", "1"]
CMP_CONSTS = ["0.0", "0.5", "-0.5", "1.0", "-1.25", "2.0"]
CMP_OPS = [">", "<", ">=", "<="]


class _Writer:
    """Draws one program, statement by statement, keeping track of what is defined."""

    def __init__(self, draw: Callable[[Any], Any], branches: bool, loops: bool, calls: bool,
                 lists: bool, max_stmts: int):
        self.draw = draw
        self.branches = branches
        self.loops = loops
        self.calls = calls
        self.lists = lists
        self.max_stmts = max_stmts
        self.features: set[str] = set()
        self.counter = 0
        self.helpers: list[tuple[str, int, bool]] = []   # (name, n positional, has default c)
        self.has_list = False
        self.in_helper = False

    # ---------------------------------------------------------------- small helpers
    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def chance(self, p_percent: int) -> bool:
        """True with probability about p_percent% (shrinks to False)."""
        return self.draw(st.integers(0, 99)) >= 100 - p_percent

    def fresh(self, base: str) -> str:
        self.counter += 1
        return f"{base}{self.counter}"

    # ---------------------------------------------------------------- expressions
    def expr(self, env: "_Env", depth: int) -> str:
        kinds = ["leaf"]
        if depth > 0:
            kinds += ["arith", "arith", "arith", "neg", "div", "pow", "math", "math", "math"]
            kinds += ["varpow", "abs"]
            if self.branches:
                kinds += ["kink", "ifexp"]
            if self.calls and self.helpers:
                kinds += ["call", "call"]
            if self.lists and (env.lists or self.has_list):
                kinds += ["listexpr"]
            if not self.branches:
                pass
            kinds += ["mod"] if self.branches else []
        kind = self.pick(kinds)
        d = depth - 1
        if kind == "leaf":
            return self.leaf(env)
        if kind == "arith":
            op = self.pick(["+", "*", "-"])
            return f"({self.expr(env, d)} {op} {self.expr(env, d)})"
        if kind == "neg":
            return f"-{self.expr(env, d)}"
        if kind == "div":
            den = self.pick([f"(1.5 + math.sin({self.expr(env, d)}))",
                             f"(1 + {self.sq(env, d)})"])
            return f"({self.expr(env, d)} / {den})"
        if kind == "pow":
            e = self.expr(env, d)
            form = self.pick(["{e} ** 2", "{e} ** 3", "(1 + {s}) ** 0.5", "(1 + {s}) ** -1.5"])
            return "(" + form.format(e=e, s=self.sq(env, d) if "{s}" in form else "") + ")"
        if kind == "varpow":
            self.features.add("varpow")
            form = self.pick(["(1.5 + math.cos({a})) ** math.tanh({b})", "2 ** math.sin({a})",
                              "pow(1.25 + math.sin({a}), {c})"])
            return form.format(a=self.expr(env, d), b=self.expr(env, d),
                               c=self.pick(["2", "0.5", "-1"]))
        if kind == "math":
            return self.math_call(env, d)
        if kind == "abs":
            self.features.add("abs")
            return self.pick(["abs({e})", "math.fabs({e})"]).format(e=self.expr(env, d))
        if kind == "kink":
            self.features.add("kink")
            form = self.pick(["max({a}, {b})", "min({a}, {b})", "symgrad.relu({a})",
                              "max({a}, {b}, {c})"])
            return form.format(a=self.expr(env, d), b=self.expr(env, d), c=self.expr(env, d))
        if kind == "mod":
            self.features.add("mod")
            return f"({self.expr(env, d)} {self.pick(['%', '//'])} {self.pick(['2.0', '1.5'])})"
        if kind == "ifexp":
            self.features.add("ifexp")
            return f"({self.expr(env, d)} if {self.cond(env, d)} else {self.expr(env, d)})"
        if kind == "call":
            return self.call(env, d)
        return self.list_expr(env, d)

    def sq(self, env: "_Env", depth: int) -> str:
        e = self.expr(env, depth)
        return f"{e} * {e}" if e.isidentifier() else f"({e}) ** 2"

    def leaf(self, env: "_Env") -> str:
        options = ["var"] * 3 + ["const"]
        if env.ints:
            options.append("int")
        if self.has_list or env.lists:
            options.append("elem")
        kind = self.pick(options)
        if kind == "var":
            return self.pick(env.scalars)
        if kind == "const":
            c = self.pick(CONSTS)
            return f"({c})" if c.startswith("-") else c
        if kind == "int":
            return self.pick(env.ints)
        return self.element(env)

    def element(self, env: "_Env") -> str:
        lists = (["xs"] if self.has_list else []) + sorted(env.lists)
        name = self.pick(lists)
        idx = ["0"]
        if env.lists.get(name, "xs") == "xs":
            idx += env.index_vars + ["len(xs) - 1"]
        elif env.lists[name] >= 2:
            idx += ["1", "-1"]
        return f"{name}[{self.pick(idx)}]"

    def math_call(self, env: "_Env", d: int) -> str:
        form = self.pick([
            "math.sin({e})", "math.tanh({e})", "math.cos({e})", "math.atan({e})",
            "math.exp(math.tanh({e}))", "math.log(1 + {s})", "math.sqrt(1 + {s})",
            "math.asinh({e})", "math.erf({e})", "math.log1p({s})", "math.expm1(math.sin({e}))",
            "math.atan2({e}, 1.5 + math.cos({f}))", "math.hypot({e}, 1.0)",
            "math.cosh(math.sin({e}))", "math.sinh(math.tanh({e}))",
            "math.asin(0.9 * math.tanh({e}))", "symgrad.sigmoid({e})", "math.exp(-{s})",
            "math.log10(2 + math.sin({e}))", "math.log2(1 + {s})", "math.tan(math.sin({e}))",
        ])
        self.features.add(form.split("(")[0])
        return form.format(e=self.expr(env, d) if "{e}" in form else "",
                           s=self.sq(env, d) if "{s}" in form else "",
                           f=self.expr(env, d) if "{f}" in form else "")

    def cond(self, env: "_Env", depth: int) -> str:
        self.features.add("cond")
        kind = self.pick(["const", "vars", "not", "and", "or"])
        lhs = self.expr(env, min(depth, 1))
        if kind == "const":
            return f"{lhs} {self.pick(CMP_OPS)} {self.pick(CMP_CONSTS)}"
        if kind == "vars":
            return f"{lhs} {self.pick(CMP_OPS)} {self.expr(env, min(depth, 1))}"
        if kind == "not":
            return f"not {lhs} > {self.pick(CMP_CONSTS)}"
        op = kind
        return (f"{lhs} {self.pick(CMP_OPS)} {self.pick(CMP_CONSTS)} {op} "
                f"{self.expr(env, min(depth, 1))} {self.pick(CMP_OPS)} {self.pick(CMP_CONSTS)}")

    def call(self, env: "_Env", d: int) -> str:
        name, npos, has_c = self.pick(self.helpers)
        self.features.add("call")
        args = [self.expr(env, d) for _ in range(npos)]
        if has_c:
            style = self.pick(["default", "positional", "keyword"])
            if style == "positional":
                args.append(self.expr(env, d))
            elif style == "keyword":
                args.append(f"c={self.expr(env, d)}")
        return f"{name}({', '.join(args)})"

    def list_expr(self, env: "_Env", d: int) -> str:
        self.features.add("listexpr")
        lists = (["xs"] if self.has_list else []) + sorted(env.lists)
        name = self.pick(lists)
        kind = self.pick(["sum", "genexp", "len", "sumidx"])
        if kind == "sum":
            return f"sum({name})"
        if kind == "len":
            return f"(len({name}) * {self.expr(env, d)})"
        if kind == "sumidx" and env.lists.get(name, "xs") == "xs":
            j = self.fresh("j")
            inner = env.child(ints=[j], index_vars=[j])
            return f"sum({name}[{j}] * {self.expr(inner, d)} for {j} in range(len(xs)))"
        w = self.fresh("w")
        inner = env.child(scalars=[w])
        return f"sum({self.expr(inner, d)} for {w} in {name})"

    # ---------------------------------------------------------------- statements
    def block(self, env: "_Env", n: int, depth: int, top: bool, in_loop: str | None,
              lines: list[str], indent: str) -> bool:
        """Append ``n`` statements; returns False if an unconditional return ended the block."""
        for _ in range(n):
            self.stmt(env, depth, top, in_loop, lines, indent)
        return True

    def stmt(self, env: "_Env", depth: int, top: bool, in_loop: str | None, lines: list[str],
             indent: str) -> None:
        kinds = ["reassign", "aug"]
        if top:
            kinds += ["new", "new"]
        elif isinstance(env, _ChildEnv):
            kinds += ["local"]
        if len(env.assignable) >= 2:
            kinds.append("swap")
        if self.branches and depth < 2:
            kinds += ["if", "if"]
            if in_loop is None:
                kinds.append("early_return")
        if self.loops and depth < 2 and not (self.in_helper and depth > 0):
            kinds += ["for", "for", "while"]
            if self.has_list:
                kinds += ["for_xs"]
        if self.lists and top and self.has_list and not self.in_helper:
            kinds += ["newlist"]
        if in_loop and self.branches:
            kinds += ["jump"]
        if env.lists and env.index_vars and any(v == "xs" for v in env.lists.values()):
            kinds += ["elemwrite"]
        kind = self.pick(kinds)
        e_depth = self.draw(st.integers(1, 3))
        if kind == "local":
            # a name local to this block; the same few names recur in other blocks
            self.features.add("local")
            name = self.pick(["t1", "t2", "_t1"])
            lines.append(f"{indent}{name} = {self.expr(env, e_depth)}")
            if name not in env.scalars:
                env.extra.append(name)
                env.extra_assignable.append(name)
        elif kind == "new":
            name = self.fresh(self.pick(["v", "_v"]))
            lines.append(f"{indent}{name} = {self.expr(env, e_depth)}")
            env.scalars.append(name)
        elif kind == "reassign":
            name = self.pick(env.assignable)
            lines.append(f"{indent}{name} = {self.expr(env, e_depth)}")
        elif kind == "aug":
            self.features.add("augassign")
            name = self.pick(env.assignable)
            op = self.pick(["+=", "-=", "*=", "/="])
            rhs = self.expr(env, e_depth)
            if op == "/=":
                rhs = f"(1.25 + math.cos({rhs}))"
            elif op == "*=":
                rhs = self.pick([f"math.tanh({rhs})", f"(0.5 + 0.5 * math.sin({rhs}))", rhs])
            lines.append(f"{indent}{name} {op} {rhs}")
        elif kind == "swap":
            self.features.add("swap")
            a, b = self.draw(st.permutations(env.assignable))[:2]
            if self.chance(50):
                lines.append(f"{indent}{a}, {b} = {b}, {a}")
            else:
                lines.append(f"{indent}{a}, {b} = {self.expr(env, 1)}, {self.expr(env, 1)}")
        elif kind == "if":
            self.features.add("if")
            n_elif = self.draw(st.integers(0, 2))
            has_else = self.chance(60)
            lines.append(f"{indent}if {self.cond(env, 1)}:")
            self.block(env.child(), self.draw(st.integers(1, 2)), depth + 1, False, in_loop, lines,
                       indent + "    ")
            for _ in range(n_elif):
                self.features.add("elif")
                lines.append(f"{indent}elif {self.cond(env, 1)}:")
                self.block(env.child(), self.draw(st.integers(1, 2)), depth + 1, False, in_loop, lines,
                           indent + "    ")
            if has_else:
                lines.append(f"{indent}else:")
                self.block(env.child(), self.draw(st.integers(1, 2)), depth + 1, False, in_loop, lines,
                           indent + "    ")
        elif kind == "early_return":
            self.features.add("early_return")
            lines.append(f"{indent}if {self.cond(env, 1)}:")
            lines.append(f"{indent}    return {self.expr(env, e_depth)}")
        elif kind == "jump":
            self.features.add("jump")
            jump = "break" if in_loop == "while" else self.pick(["break", "continue"])
            self.features.add(jump)
            lines.append(f"{indent}if {self.cond(env, 1)}:")
            lines.append(f"{indent}    {jump}")
        elif kind == "for":
            self.features.add("for")
            i = self.fresh("i")
            bounds = ["range({k})"]
            if env.has_n:
                bounds.append("range(n)")
            if self.has_list:
                bounds.append("range(len(xs))")
            bound = self.pick(bounds).format(k=self.draw(st.integers(0, 3)))
            if bound == "range(len(xs))":
                inner = env.child(ints=[i], index_vars=[i])
            else:
                inner = env.child(ints=[i])
            lines.append(f"{indent}for {i} in {bound}:")
            self.block(inner, self.draw(st.integers(1, 3)), depth + 1, False, "for", lines,
                       indent + "    ")
        elif kind == "for_xs":
            self.features.add("for_xs")
            v = self.fresh("e")
            form = ["xs", "reversed(xs)", "enumerate(xs)"]
            same_len = [name for name, ln in env.lists.items() if ln == "xs"]
            if same_len:
                form.append("zip")
            how = self.pick(form)
            if how == "enumerate(xs)":
                j = self.fresh("j")
                inner = env.child(scalars_ro=[v], ints=[j], index_vars=[j])
                lines.append(f"{indent}for {j}, {v} in enumerate(xs):")
            elif how == "zip":
                other = self.pick(same_len)
                u = self.fresh("u")
                inner = env.child(scalars_ro=[v, u])
                lines.append(f"{indent}for {v}, {u} in zip(xs, {other}):")
            else:
                inner = env.child(scalars_ro=[v])
                lines.append(f"{indent}for {v} in {how}:")
            self.features.add(how.split("(")[0])
            self.block(inner, self.draw(st.integers(1, 3)), depth + 1, False, "for", lines,
                       indent + "    ")
        elif kind == "while":
            self.features.add("while")
            k = self.fresh("k")
            bound = self.pick([str(self.draw(st.integers(0, 3)))] + (["n"] if env.has_n else []))
            lines.append(f"{indent}{k} = 0")
            test = f"{k} < {bound}"
            if self.branches and self.chance(30):
                test += f" and {self.expr(env, 1)} < {self.pick(['2.0', '5.0'])}"
            lines.append(f"{indent}while {test}:")
            inner = env.child(ints=[k])
            self.block(inner, self.draw(st.integers(1, 2)), depth + 1, False, "while", lines,
                       indent + "    ")
            lines.append(f"{indent}    {k} += 1")
        elif kind == "elemwrite":
            self.features.add("elemwrite")
            name = self.pick([n for n, ln in env.lists.items() if ln == "xs"])
            i = self.pick(env.index_vars)
            op = self.pick(["=", "+="])
            lines.append(f"{indent}{name}[{i}] {op} {self.expr(env, e_depth)}")
        elif kind == "newlist":
            self.new_list(env, lines, indent)

    def new_list(self, env: "_Env", lines: list[str], indent: str) -> None:
        name = self.fresh("L")
        how = self.pick(["comp", "append", "writes", "literal"])
        self.features.add("list_" + how)
        if how == "comp":
            v = self.fresh("w")
            inner = env.child(scalars_ro=[v])
            lines.append(f"{indent}{name} = [{self.expr(inner, 2)} for {v} in xs]")
            env.lists[name] = "xs"
        elif how == "append":
            v = self.fresh("w")
            inner = env.child(scalars_ro=[v])
            lines.append(f"{indent}{name} = []")
            lines.append(f"{indent}for {v} in xs:")
            lines.append(f"{indent}    {name}.append({self.expr(inner, 2)})")
            env.lists[name] = "xs"
        elif how == "writes":
            i = self.fresh("i")
            inner = env.child(ints=[i], index_vars=[i])
            lines.append(f"{indent}{name} = [0.0] * len(xs)")
            lines.append(f"{indent}for {i} in range(len(xs)):")
            lines.append(f"{indent}    {name}[{i}] = {self.expr(inner, 2)}")
            env.lists[name] = "xs"
        else:
            k = self.draw(st.integers(1, 3))
            lines.append(f"{indent}{name} = [{', '.join(self.expr(env, 1) for _ in range(k))}]")
            env.lists[name] = k


@dataclass
class _Env:
    scalars: list[str]                    # readable float names
    assignable: list[str]                 # the subset that may be assigned here
    ints: list[str] = field(default_factory=list)
    index_vars: list[str] = field(default_factory=list)  # ints ranging over range(len(xs))
    lists: dict[str, Any] = field(default_factory=dict)  # local list -> "xs" (same len) or len
    has_n: bool = False

    def child(self, scalars: list[str] = (), scalars_ro: list[str] = (), ints: list[str] = (),
              index_vars: list[str] = ()) -> "_Env":
        """A nested scope: shares ``scalars`` / ``assignable`` lists for names assigned at
        top level (they are the same objects) but adds read-only loop variables."""
        return _ChildEnv(self, list(scalars) + list(scalars_ro), list(scalars),
                         list(ints), list(index_vars))


class _ChildEnv(_Env):
    def __init__(self, parent: _Env, extra: list[str], extra_assignable: list[str],
                 ints: list[str], index_vars: list[str]):
        self.parent = parent
        self.extra, self.extra_assignable = extra, extra_assignable
        self._ints, self._index = ints, index_vars

    scalars = property(lambda self: self.parent.scalars + self.extra)
    assignable = property(lambda self: self.parent.assignable + self.extra_assignable)
    ints = property(lambda self: self.parent.ints + self._ints)
    index_vars = property(lambda self: self.parent.index_vars + self._index)
    lists = property(lambda self: self.parent.lists)
    has_n = property(lambda self: self.parent.has_n)


@st.composite
def programs(draw: Callable[[Any], Any], branches: bool = True, loops: bool = True,
             calls: bool = True, lists: bool = True, max_stmts: int = 5) -> Program:
    """A random module in the supported subset defining ``f`` (and helpers ``h1``, ...).

    ``branches=False`` gives branch-free programs (no comparisons or kinks other than
    ``abs``), whose derivative SymPy can take.
    """
    w = _Writer(draw, branches, loops, calls, lists, max_stmts)
    out = ["import math", "", "import symgrad", ""]
    if calls:
        prefix = draw(st.sampled_from(["h", "_h"]))     # private-looking helpers too
        for k in range(draw(st.integers(0, 2))):
            name = f"{prefix}{k + 1}"
            npos = draw(st.integers(1, 2))
            has_c = draw(st.booleans())
            params = ["a", "b"][:npos] + (["c=0.5"] if has_c else [])
            env = _Env(scalars=["a", "b"][:npos] + (["c"] if has_c else []),
                       assignable=["a", "b"][:npos] + (["c"] if has_c else []))
            w.in_helper = True
            body: list[str] = []
            w.block(env, draw(st.integers(0, 2)), 0, True, None, body, "    ")
            body.append(f"    return {w.expr(env, draw(st.integers(1, 3)))}")
            w.in_helper = False
            out += ["", f"def {name}({', '.join(params)}):"] + body + [""]
            w.helpers.append((name, npos, has_c))
    n_scalars = draw(st.integers(1, 3))
    scalars = [f"x{k}" for k in range(n_scalars)]
    w.has_list = lists and draw(st.booleans())
    has_n = loops and draw(st.integers(0, 3)) == 0
    env = _Env(scalars=list(scalars), assignable=list(scalars), has_n=has_n)
    params = scalars + (["xs"] if w.has_list else []) + (["n"] if has_n else [])
    body = []
    w.block(env, draw(st.integers(1, max_stmts)), 0, True, None, body, "    ")
    tail = [v for v in env.scalars if v not in scalars]
    ret = w.expr(env, draw(st.integers(1, 3)))
    if tail:
        ret += " + " + " + ".join(tail[-3:])
    body.append(f"    return {ret}")
    out += ["", f"def f({', '.join(params)}):"] + body
    source = "\n".join(out) + "\n"
    feats = w.features
    branchy = bool(feats & {"cond", "kink", "ifexp", "if", "early_return", "jump"}) or (
        "while" in feats and " and " in source)
    sympy_ok = not branchy and "mod" not in feats
    return Program(source, scalars, w.has_list, has_n, branchy, sympy_ok, feats)


@st.composite
def points(draw: Callable[[Any], Any], prog: Program) -> dict[str, Any]:
    """Arguments for ``prog.f``: floats in [-2, 2] (sometimes small ints), a list of 1-3
    floats, an int ``n`` in 0..3."""
    def num() -> Any:
        if draw(st.integers(0, 19)) == 0:
            return draw(st.integers(-2, 2))
        return draw(st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False))
    args: dict[str, Any] = {p: num() for p in prog.scalars}
    if prog.has_list:
        args["xs"] = [draw(st.floats(-2.0, 2.0)) for _ in range(draw(st.integers(1, 3)))]
    if prog.has_n:
        args["n"] = draw(st.integers(0, 3))
    return args


# --------------------------------------------------------------------------- loading

_TMP: str | None = None


def _tmpdir() -> str:
    global _TMP
    if _TMP is None:
        _TMP = tempfile.mkdtemp(prefix="symgrad_fuzz_")
        atexit.register(shutil.rmtree, _TMP, True)
    return _TMP


def load(source: str) -> types.ModuleType:
    """Write ``source`` to a fresh temporary .py file and import it as a module."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:16]
    name = f"symgrad_fuzz_{digest}"
    path = os.path.join(_tmpdir(), name + ".py")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            fh.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_COMPILED: dict[tuple[str, bool], Any] = {}


class _FloorDivToCall(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp) -> Any:
        self.generic_visit(node)
        if isinstance(node.op, ast.FloorDiv):
            return ast.Call(func=ast.Name("__fz_floordiv", ast.Load()),
                            args=[node.left, node.right], keywords=[])
        return node


def run_on(source: str, shims: dict[str, Any], args: list[Any]) -> Any:
    """Run ``f`` of ``source`` with the global names in ``shims`` (``math``, ``symgrad``)
    replaced, on ``args``.  A shim may define ``__fz_floordiv`` (mpmath numbers have no
    ``//``): then ``a // b`` is rewritten to call it."""
    key = (source, "__fz_floordiv" in shims)
    code = _COMPILED.get(key)
    if code is None:
        text = source
        if key[1] and "//" in source:
            tree = ast.fix_missing_locations(_FloorDivToCall().visit(ast.parse(source)))
            text = ast.unparse(tree)
        code = _COMPILED[key] = compile(text, "<fuzz program>", "exec")
        if len(_COMPILED) > 64:
            _COMPILED.pop(next(iter(_COMPILED)))
    ns: dict[str, Any] = {"__name__": "symgrad_fuzz_shimmed"}
    exec(code, ns)
    ns.update(shims)
    return ns["f"](*args)


def _ns(**fns: Any) -> types.SimpleNamespace:
    return types.SimpleNamespace(**fns)


_MATH_NAMES = ["sin", "cos", "tan", "tanh", "atan", "atan2", "exp", "expm1", "log", "log1p",
               "log2", "log10", "sqrt", "asinh", "asin", "erf", "hypot", "cosh", "sinh", "fabs"]

#: ``math`` and ``symgrad`` for the Value engine: symgrad's generic functions build Values
VALUE_SHIMS = {"math": _ns(**{k: getattr(symgrad, k) for k in _MATH_NAMES}),
               "symgrad": symgrad}


def _sympy_shims() -> dict[str, Any]:
    import sympy
    sm = _ns(sin=sympy.sin, cos=sympy.cos, tan=sympy.tan, tanh=sympy.tanh, atan=sympy.atan,
             atan2=sympy.atan2, exp=sympy.exp, expm1=lambda x: sympy.exp(x) - 1, log=sympy.log,
             log1p=lambda x: sympy.log(1 + x), log2=lambda x: sympy.log(x) / sympy.log(2),
             log10=lambda x: sympy.log(x) / sympy.log(10), sqrt=sympy.sqrt, asinh=sympy.asinh,
             asin=sympy.asin, erf=sympy.erf, hypot=lambda a, b: sympy.sqrt(a * a + b * b),
             cosh=sympy.cosh, sinh=sympy.sinh, fabs=sympy.Abs)
    sg = _ns(sigmoid=lambda x: 1 / (1 + sympy.exp(-x)),
             relu=lambda x: sympy.Piecewise((x, x > 0), (0, True)))
    return {"math": sm, "symgrad": sg}


def _mpmath_shims() -> dict[str, Any]:
    import mpmath as mp
    mm = _ns(sin=mp.sin, cos=mp.cos, tan=mp.tan, tanh=mp.tanh, atan=mp.atan, atan2=mp.atan2,
             exp=mp.exp, expm1=mp.expm1, log=mp.log, log1p=mp.log1p,
             log2=lambda x: mp.log(x, 2), log10=mp.log10, sqrt=mp.sqrt, asinh=mp.asinh,
             asin=mp.asin, erf=mp.erf, hypot=mp.hypot, cosh=mp.cosh, sinh=mp.sinh, fabs=mp.fabs)
    sg = _ns(sigmoid=lambda x: 1 / (1 + mp.exp(-x)), relu=lambda x: x if x > 0 else 0 * x)
    return {"math": mm, "symgrad": sg, "__fz_floordiv": lambda a, b: mp.floor(a / b)}


# --------------------------------------------------------------------------- the kink rule

class _Instrument(ast.NodeTransformer):
    """Rewrite comparisons, abs/max/min/relu and %/// into calls that record margins."""

    def visit_Compare(self, node: ast.Compare) -> Any:
        self.generic_visit(node)
        if len(node.ops) != 1:
            return node
        return ast.Call(func=ast.Name("__fz_cmp", ast.Load()),
                        args=[node.left, ast.Constant(type(node.ops[0]).__name__),
                              node.comparators[0]], keywords=[])

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        self.generic_visit(node)
        if isinstance(node.op, (ast.Mod, ast.FloorDiv)):
            node = ast.Call(func=ast.Name("__fz_mod", ast.Load()),
                            args=[node.left, node.right,
                                  ast.Constant(type(node.op).__name__)], keywords=[])
        return _size_check(node)

    def visit_Call(self, node: ast.Call) -> Any:
        self.generic_visit(node)
        fn = ast.unparse(node.func)
        if fn in ("abs", "max", "min", "math.fabs", "symgrad.relu"):
            node.args.insert(0, ast.Constant(fn))
            node.func = ast.Name("__fz_kink", ast.Load())
        if fn in ("range", "len", "enumerate", "zip", "reversed") or "." in fn and not (
                fn.startswith(("math.", "symgrad."))):
            return node
        return _size_check(node)


def _size_check(node: ast.expr) -> ast.expr:
    return ast.Call(func=ast.Name("__fz_size", ast.Load()), args=[node], keywords=[])


#: intermediate values larger than this exclude a point: there float and 60-digit
#: arithmetic part ways (x * x overflows, sin(1e240) is noise in both)
LARGE = 1e8


_CMP = {"Gt": operator.gt, "Lt": operator.lt, "GtE": operator.ge, "LtE": operator.le,
        "Eq": operator.eq, "NotEq": operator.ne}
_KINK = {"abs": abs, "max": max, "min": min, "math.fabs": math.fabs,
         "symgrad.relu": symgrad.relu}


def margins(source: str, args: list[Any]) -> list[float]:
    """Distances to the nearest branch boundary or kink met while running ``f`` at ``args``
    (on floats), from an instrumented copy of the program."""
    tree = _Instrument().visit(ast.parse(source))
    ast.fix_missing_locations(tree)
    seen: list[float] = []

    def cmp(a: Any, op: str, b: Any) -> Any:
        if not (isinstance(a, int) and isinstance(b, int)):
            seen.append(abs(a - b))
        return _CMP[op](a, b)

    def mod(a: Any, b: Any, op: str) -> Any:
        q = a / b
        seen.append(min(q - math.floor(q), math.ceil(q) - q) * abs(b) if math.isfinite(q)
                    else 0.0)
        return a % b if op == "Mod" else a // b

    def kink(name: str, *xs: Any) -> Any:
        vals = list(xs[0]) if len(xs) == 1 and isinstance(xs[0], list) else list(xs)
        if name in ("max", "min"):
            seen.extend(abs(u - v) for k, u in enumerate(vals) for v in vals[k + 1:])
        else:
            seen.append(abs(vals[0]))
        return _KINK[name](*xs)

    def size(v: Any) -> Any:
        if isinstance(v, float) and not abs(v) <= LARGE:
            seen.append(0.0)           # counts as a point on a kink: excluded
        return v

    ns = {"__name__": "symgrad_fuzz_instrumented", "__fz_cmp": cmp, "__fz_mod": mod,
          "__fz_kink": kink, "__fz_size": size}
    exec(compile(tree, "<fuzz program, instrumented>", "exec"), ns)
    ns["f"](*args)
    return seen


# --------------------------------------------------------------------------- references

def value_grad(source: str, args: list[Any], wrt: list[int]) -> tuple[Any, list[Any]]:
    """(value, gradient) from the Value engine: the program run on Values, then backward()."""
    vals = []
    for k, a in enumerate(args):
        if k in wrt:
            a = [Value(float(v)) for v in a] if isinstance(a, list) else Value(float(a))
        vals.append(a)
    with value_comparisons():
        out = run_on(source, VALUE_SHIMS, vals)
    if isinstance(out, Value):
        out.backward()
        value = out.data
    else:
        value = out
    grads = []
    for k in wrt:
        v = vals[k]
        grads.append([e.grad for e in v] if isinstance(v, list) else v.grad)
    return value, grads


@contextmanager
def value_comparisons():
    """Give ``Value`` the comparisons ``< <= > >=`` (on ``.data``) while running a program on
    Values, if it does not have them already, so branchy programs run on the Value engine
    along the path they take.  ``==`` is left alone (Values hash by identity)."""
    added = []
    for op in ("__lt__", "__le__", "__gt__", "__ge__"):
        if op not in Value.__dict__:
            fn = getattr(operator, op.strip("_"))
            setattr(Value, op, lambda a, b, _fn=fn: _fn(_data(a), _data(b)))
            added.append(op)
    try:
        yield
    finally:
        for op in added:
            delattr(Value, op)


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def exact_grad(source: str, args: list[Any], wrt: list[int], dps: int = 60,
               h: float = 1e-20) -> tuple[Any, list[Any]]:
    """(value, gradient) by central finite differences in 60-digit arithmetic (mpmath).

    The truncation error is O(h^2) = 1e-40 (times the third derivative, which loops of
    products make huge) and the rounding error 1e-60 / h = 1e-40, so away from kinks
    this is the derivative to far better than float precision.
    """
    import mpmath as mp
    shims = _mpmath_shims()
    with mp.workdps(dps):
        def conv(k: int, a: Any) -> Any:
            if isinstance(a, list):
                return [mp.mpf(v) for v in a]
            if isinstance(a, int) and k not in wrt:
                return a                     # the loop bound n, or an inactive int
            return mp.mpf(a)

        base = [conv(k, a) for k, a in enumerate(args)]
        value = run_on(source, shims, base)
        grads = []
        for k in wrt:
            def fd(path: int | None) -> Any:
                plus, minus = list(base), list(base)
                x0 = base[k][path] if path is not None else base[k]
                step = mp.mpf(h) * max(1, abs(x0))
                if path is None:
                    plus[k], minus[k] = x0 + step, x0 - step
                else:
                    plus[k] = list(base[k])
                    minus[k] = list(base[k])
                    plus[k][path] += step
                    minus[k][path] -= step
                return (run_on(source, shims, plus) - run_on(source, shims, minus)) / (2 * step)
            if isinstance(base[k], list):
                grads.append([float(fd(p)) for p in range(len(base[k]))])
            else:
                grads.append(float(fd(None)))
        return float(value), grads


class OutOfTime(Exception):
    """A SymPy reference took longer than its budget (expression swell in loops)."""


@contextmanager
def time_budget(seconds: float):
    """Raise :class:`OutOfTime` in the block after ``seconds`` (main thread only; elsewhere
    no limit)."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(*_: Any) -> None:
        raise OutOfTime()
    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def sympy_grad(source: str, args: list[Any], wrt: list[int]) -> list[Any]:
    """The gradient from ``sympy.diff`` of the program run on SymPy symbols, at ``args``."""
    import sympy
    syms: list[Any] = []
    sym_args: list[Any] = []
    for k, a in enumerate(args):
        if k in wrt and isinstance(a, list):
            s = [sympy.Symbol(f"s{k}_{j}", real=True) for j in range(len(a))]
            syms += s
            sym_args.append(s)
        elif k in wrt:
            s = sympy.Symbol(f"s{k}", real=True)
            syms.append(s)
            sym_args.append(s)
        else:
            sym_args.append(a)
    expr = sympy.sympify(run_on(source, _sympy_shims(), sym_args))
    subs = {}
    for k in wrt:
        if isinstance(args[k], list):
            subs.update({s: sympy.Float(v, 30) for s, v in zip(sym_args[k], args[k])})
        else:
            subs[sym_args[k]] = sympy.Float(args[k], 30)

    def d(s: Any) -> float:
        return float(sympy.diff(expr, s).evalf(30, subs=subs))
    out = []
    for k in wrt:
        out.append([d(s) for s in sym_args[k]] if isinstance(args[k], list) else d(sym_args[k]))
    return out
