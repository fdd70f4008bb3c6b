"""Random programs in symgrad's Python subset, for the fuzz tests: the grammar.

:func:`programs` is a Hypothesis strategy that writes a small module: zero to
two helper functions and a function ``f``.  The *base grammar* has

* straight-line arithmetic (``+ - * /``, ``**`` with constant and variable
  exponents, unary minus) and ``math`` / ``symgrad`` calls,
* reassignment (of parameters too), augmented assignment and tuple swaps,
* ``if`` / ``elif`` / ``else``, early ``return``, conditional expressions,
  ``and`` / ``or`` / ``not`` of comparisons, ``abs`` / ``max`` / ``min`` /
  ``relu`` / ``%``,
* bounded ``for`` loops over ``range(K)``, ``range(n)``, ``range(len(xs))``,
  over ``xs``, ``enumerate(xs)``, ``reversed(xs)``, ``zip(xs, L)``; ``while``
  loops with counters; ``break`` / ``continue``; nesting,
* calls of the helpers (positional, keyword and default arguments),
* a list argument ``xs`` indexed in loops, local lists (comprehensions,
  ``append``, element writes ``L[i] = ...``), ``sum`` and generator expressions.

On top of it come the *families* of issue 11, where Python's reference
semantics matter (``fuzz_families.py``; each one switchable, see
:data:`FAMILIES`): ``closures``, ``aliases``, ``boolops``, ``kwbuiltins``,
``decorators``, ``globals``, ``dicts``, ``pytrees`` (with it, a quarter of the
programs' ``f`` take first a parameter ``P``, a tuple of values of different kinds) and
``maps`` (with it, a third of the other programs' ``f`` take lists ``xs``, ``ys`` and
sometimes ``cs``, and are loops over them that symgrad prints as list comprehensions, or
near misses of such loops) and ``raises`` (with it, a third of the programs left have
reads that raise at some points: ``fuzz_raises.py``; their ``f`` takes switches ``c1``,
``c2`` and some of ``zs``, ``D``, ``R``, ``m``, ``k`` besides) and ``stars`` (with it, half
the programs left make calls with ``*`` arguments: ``fuzz_stars.py``; their ``f`` takes
``us`` and sometimes ``vs`` and ``rows`` besides, lists whose length the calls rely on and
the points sometimes change) and ``resize`` (with it, half the programs left walk lists
their loops grow or shrink: ``fuzz_resize.py``; ``f`` takes ``rs``, sometimes ``qs``,
``rows``).

Every argument of ``f`` is a float except ``n`` (an int loop bound, never
differentiated); ``xs`` is a list of floats and ``W`` (aliases family) a list of
rows as long as ``xs``; the maps family's ``ys`` and ``cs`` (data, never differentiated)
are lists of floats as long as ``xs``, or not (``fuzz_families.map_lists``).  Values are
kept bounded by construction: unbounded functions get bounded arguments
(``exp(tanh(e))``, ``log(1 + e * e)``, ``e / (1.5 + sin(e))``), so a program is defined
everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from hypothesis import strategies as st

from fuzz_families import (FAMILIES_ALL, ClosureInfo, FamilyWriter, ListInfo, MapsWriter,
                           PackPart, PackWriter, TableInfo, draw_pack, map_count, map_lists,
                           mismatched, pack_value)
from fuzz_raises import RAISE_DIFFERENTIABLE, RaisesWriter, raise_point
from fuzz_resize import RESIZE_PARAMS, ResizeWriter, resize_point
from fuzz_stars import STAR_PARAMS, StarsWriter, star_point


def families_from_env(value: str | None = None) -> frozenset[str]:
    """The families switched on: ``SYMGRAD_FUZZ_FAMILIES`` is ``all`` (the default), ``none``
    (the base grammar only) or a comma-separated list such as ``closures,aliases``."""
    raw = os.environ.get("SYMGRAD_FUZZ_FAMILIES", "all") if value is None else value
    raw = raw.strip().lower()
    if raw in ("", "all"):
        return frozenset(FAMILIES_ALL)
    if raw in ("none", "base"):
        return frozenset()
    names = {s.strip() for s in raw.split(",") if s.strip()}
    unknown = names - set(FAMILIES_ALL)
    if unknown:
        raise ValueError(f"SYMGRAD_FUZZ_FAMILIES: unknown families {sorted(unknown)}; "
                         f"known: {', '.join(FAMILIES_ALL)}")
    return frozenset(names)


#: the families the generator mixes into the base grammar (default: all of them)
FAMILIES: frozenset[str] = families_from_env()


@dataclass
class Program:
    """A generated module and what the tests need to know about ``f``."""

    source: str
    scalars: list[str]              # the float parameters of f
    has_list: bool                  # f takes the list parameter xs
    has_n: bool                     # f takes the int parameter n
    branchy: bool                   # comparisons, kinks or truth tests (no SymPy check)
    sympy_ok: bool                  # branch-free and nothing SymPy handles differently
    features: set[str] = field(default_factory=set)
    has_table: bool = False         # f takes W, a list of rows (each as long as xs)
    globals: dict[str, Any] = field(default_factory=dict)   # module-level numbers and lists
    packed: PackPart | None = None  # pytrees: f's first parameter P, values of different kinds
    pack_sites: list = field(default_factory=list)   # (path in P, how, n): unpackings of P
    more_lists: list[str] = field(default_factory=list)   # maps: list parameters after xs
    data_lists: list[str] = field(default_factory=list)   # maps: lists never differentiated
    raises: bool = False            # raises: f reads what may not be there (fuzz_raises)
    raise_params: list[str] = field(default_factory=list)   # raises: zs, D, R, m, k
    raise_triggers: list = field(default_factory=list)      # raises: see fuzz_raises
    definite_only: bool = False     # raises: every shape definitely assigned
    stars: bool = False             # stars: calls with * arguments (fuzz_stars)
    star_lens: dict = field(default_factory=dict)   # stars: us, vs, rows: nominal lengths
    star_sensitive: list = field(default_factory=list)   # stars: lengths calls rely on
    resize: bool = False            # resize: loops resizing the list they walk (fuzz_resize)
    resize_lens: dict = field(default_factory=dict)   # resize: rs, qs, rows: nominal lengths

    @property
    def params(self) -> list[str]:
        return ((["P"] if self.packed is not None else []) + self.scalars
                + (["xs"] if self.has_list else []) + self.more_lists + self.data_lists
                + (["W"] if self.has_table else []) + (["n"] if self.has_n else [])
                + self.raise_params + self.star_params + self.resize_params)

    @property
    def resize_params(self) -> list[str]:
        """The resize family's parameters of f (``rs``, ``qs``, ``rows``)."""
        return [p for p in RESIZE_PARAMS if p in self.resize_lens]

    @property
    def star_params(self) -> list[str]:
        """The stars family's parameters of f (``us``, ``vs``, ``rows``)."""
        return [p for p in STAR_PARAMS if p in self.star_lens]

    @property
    def differentiable(self) -> list[str]:
        return ((["P"] if self.packed is not None else []) + self.scalars
                + (["xs"] if self.has_list else []) + self.more_lists
                + (["W"] if self.has_table else [])
                + [p for p in self.raise_params if p in RAISE_DIFFERENTIABLE]
                + self.star_params + self.resize_params)

    @property
    def hvp_differentiable(self) -> list[str]:
        """What hvp may differentiate (it refuses a dict: the raises family's D)."""
        return [p for p in self.differentiable if p != "D"]

    @property
    def families(self) -> set[str]:
        """The families whose constructs the program contains (feature ``family.detail``)."""
        return {f.split(".")[0] for f in self.features} & set(FAMILIES_ALL)


CONSTS = ["1.5", "0.5", "2", "-0.75", "3", "0.25", "-2.0", "1"]
CMP_CONSTS = ["0.0", "0.5", "-0.5", "1.0", "-1.25", "2.0"]
CMP_OPS = [">", "<", ">=", "<="]
BRANCHY = {"cond", "kink", "ifexp", "if", "early_return", "jump", "boolops.or", "boolops.and",
           "boolops.idiom", "boolops.not", "kwbuiltins.key", "kwbuiltins.default",
           "kwbuiltins.sorted", "reorder.sorted", "witness"}


class _Env:
    """The names the writer may use at one point of a function.

    A child scope (a block) sees everything of its parent and adds names that disappear
    when the block ends (they may be unbound after it).  A closure scope (``barrier``)
    reads its parent's names but may assign only its own.
    """

    def __init__(self, parent: "_Env | None" = None, barrier: bool = False,
                 has_n: bool = False):
        self.parent, self.barrier, self._has_n = parent, barrier, has_n
        self.own_scalars: list[str] = []
        self.own_assignable: list[str] = []
        self.own_ints: list[str] = []
        self.own_index: list[str] = []                 # ints ranging over range(len(xs))
        self.own_lists: dict[str, ListInfo] = {}       # list name -> its list (aliases share)
        self.own_tables: dict[str, TableInfo] = {}     # list-of-rows name -> its table
        self.own_rowvars: dict[str, TableInfo] = {}    # int ranging over range(len(T))
        self.own_closures: dict[str, ClosureInfo] = {}

    @classmethod
    def root(cls, scalars: list[str], has_n: bool = False) -> "_Env":
        env = cls(has_n=has_n)
        env.own_scalars, env.own_assignable = list(scalars), list(scalars)
        return env

    def _up(self, attr: str, default: Any) -> Any:
        return getattr(self.parent, attr) if self.parent is not None else default

    scalars = property(lambda s: s._up("scalars", []) + s.own_scalars)
    assignable = property(lambda s: ([] if s.barrier else s._up("assignable", []))
                          + s.own_assignable)
    ints = property(lambda s: s._up("ints", []) + s.own_ints)
    index_vars = property(lambda s: s._up("index_vars", []) + s.own_index)
    lists = property(lambda s: {**s._up("lists", {}), **s.own_lists})
    tables = property(lambda s: {**s._up("tables", {}), **s.own_tables})
    rowvars = property(lambda s: {**s._up("rowvars", {}), **s.own_rowvars})
    closures = property(lambda s: {**s._up("closures", {}), **s.own_closures})
    has_n = property(lambda s: s._up("has_n", s._has_n))

    def child(self, scalars: list[str] = (), scalars_ro: list[str] = (), ints: list[str] = (),
              index_vars: list[str] = ()) -> "_Env":
        env = _Env(self)
        env.own_scalars = list(scalars) + list(scalars_ro)
        env.own_assignable = list(scalars)
        env.own_ints, env.own_index = list(ints), list(index_vars)
        return env

    def closure_scope(self, params: list[str]) -> "_Env":
        env = _Env(self, barrier=True)
        env.own_scalars, env.own_assignable = list(params), list(params)
        return env

    def add_scalar(self, name: str) -> None:
        if name not in self.scalars:
            self.own_scalars.append(name)
        if name not in self.assignable:
            self.own_assignable.append(name)


class _Writer(FamilyWriter, PackWriter, MapsWriter, RaisesWriter, StarsWriter, ResizeWriter):
    """Draws one program, statement by statement, keeping track of what is defined."""

    def __init__(self, draw: Callable[[Any], Any], branches: bool, loops: bool, calls: bool,
                 lists: bool, max_stmts: int, families: frozenset[str]):
        self.draw = draw
        self.branches, self.loops, self.calls, self.lists = branches, loops, calls, lists
        self.max_stmts = max_stmts
        self.families = families
        self.features: set[str] = set()
        self.counter = 0
        self.helpers: list[tuple[str, int, bool]] = []   # (name, n positional, has default c)
        self.in_helper = False
        self.in_closure = 0
        self.global_nums: list[str] = []
        self.global_lists: list[str] = []
        self.star_on = False                             # (the stars family: in f's body)

    Env = _Env

    # ---------------------------------------------------------------- small helpers
    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def chance(self, p_percent: int) -> bool:
        """True with probability about p_percent% (shrinks to False)."""
        return self.draw(st.integers(0, 99)) >= 100 - p_percent

    def fresh(self, base: str) -> str:
        self.counter += 1
        return f"{base}{self.counter}"

    def has(self, family: str) -> bool:
        return family in self.families

    # ---------------------------------------------------------------- expressions
    def expr_kinds(self, env: _Env) -> list[str]:
        kinds = ["arith", "arith", "arith", "neg", "div", "pow", "math", "math", "math",
                 "varpow", "abs"]
        if self.branches:
            kinds += ["kink", "ifexp", "mod"]
        if self.calls and self.helpers:
            kinds += ["call", "call"]
        if self.lists and env.lists:
            kinds += ["listexpr"]
        kinds += self.family_expr_kinds(env)
        return kinds

    def expr(self, env: _Env, depth: int) -> str:
        kind = self.pick(["leaf"] + (self.expr_kinds(env) if depth > 0 else []))
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
        return self.expr_more(kind, env, d)

    def expr_more(self, kind: str, env: _Env, d: int) -> str:
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
        if kind == "listexpr":
            return self.list_expr(env, d)
        return self.family_expr(kind, env, d)

    def sq(self, env: _Env, depth: int) -> str:
        e = self.expr(env, depth)
        return f"{e} * {e}" if e.isidentifier() else f"({e}) ** 2"

    def leaf(self, env: _Env) -> str:
        options = ["var"] * 3 + ["const"]
        if env.ints:
            options.append("int")
        if env.lists:
            options.append("elem")
        options += self.family_leaf_kinds(env)
        kind = self.pick(options)
        if kind == "var":
            return self.pick(env.scalars)
        if kind == "const":
            c = self.pick(CONSTS)
            return f"({c})" if c.startswith("-") else c
        if kind == "int":
            return self.pick(env.ints)
        if kind == "elem":
            return self.element(env)
        return self.family_leaf(kind, env)

    def list_indices(self, env: _Env, name: str) -> list[str]:
        """Indices valid for list ``name`` whatever path led here."""
        info = env.lists[name]
        idx = ["0", "-1"]
        if info.length == "xs":
            idx += env.index_vars + ["len(xs) - 1"]
        elif info.length >= 2:
            idx += ["1"]
        return idx

    def element(self, env: _Env) -> str:
        name = self.pick(sorted(env.lists))
        return f"{name}[{self.pick(self.list_indices(env, name))}]"

    def math_call(self, env: _Env, d: int) -> str:
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

    def cond(self, env: _Env, depth: int) -> str:
        self.features.add("cond")
        kinds = ["const", "vars", "not", "and", "or"] + self.family_cond_kinds()
        kind = self.pick(kinds)
        if kind not in ("const", "vars", "not", "and", "or"):
            return self.family_cond(kind, env)
        lhs = self.expr(env, min(depth, 1))
        if kind == "const":
            return f"{lhs} {self.pick(CMP_OPS)} {self.pick(CMP_CONSTS)}"
        if kind == "vars":
            return f"{lhs} {self.pick(CMP_OPS)} {self.expr(env, min(depth, 1))}"
        if kind == "not":
            return f"not {lhs} > {self.pick(CMP_CONSTS)}"
        return (f"{lhs} {self.pick(CMP_OPS)} {self.pick(CMP_CONSTS)} {kind} "
                f"{self.expr(env, min(depth, 1))} {self.pick(CMP_OPS)} {self.pick(CMP_CONSTS)}")

    def call(self, env: _Env, d: int) -> str:
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

    def list_expr(self, env: _Env, d: int) -> str:
        self.features.add("listexpr")
        name = self.pick(sorted(env.lists))
        kind = self.pick(["sum", "genexp", "len", "sumidx"])
        if kind == "sum":
            return f"sum({name})"
        if kind == "len":
            return f"(len({name}) * {self.expr(env, d)})"
        if kind == "sumidx" and env.lists[name].length == "xs":
            j = self.fresh("j")
            inner = env.child(ints=[j], index_vars=[j])
            return f"sum({name}[{j}] * {self.expr(inner, d)} for {j} in range(len(xs)))"
        w = self.fresh("w")
        inner = env.child(scalars_ro=[w])
        return f"sum({self.expr(inner, d)} for {w} in {name})"

    # ---------------------------------------------------------------- statements
    def block(self, env: _Env, n: int, depth: int, top: bool, in_loop: str | None,
              lines: list[str], indent: str) -> None:
        """Append ``n`` statements."""
        for _ in range(n):
            self.stmt(env, depth, top, in_loop, lines, indent)

    def stmt_kinds(self, env: _Env, depth: int, top: bool, in_loop: str | None) -> list[str]:
        kinds = ["reassign", "aug"]
        if top:
            kinds += ["new", "new"]
        elif not self.in_closure:
            kinds += ["local"]
        if len(env.assignable) >= 2:
            kinds.append("swap")
        if self.branches and depth < 2:
            kinds += ["if", "if"]
            if in_loop is None:
                kinds.append("early_return")
        if self.loops and depth < 2 and not ((self.in_helper or self.in_closure) and depth > 0):
            kinds += ["for", "for", "while"]
            if "xs" in env.lists:
                kinds += ["for_xs"]
        if self.lists and top and "xs" in env.lists and not (self.in_helper or self.in_closure):
            kinds += ["newlist"]
            if self.branches:
                kinds += ["witness", "witness"]
        if self.loops and depth < 2 and env.assignable and not self.in_closure:
            kinds += ["tuple_state"]          # a tuple carried by a loop or joined by an if
        if in_loop and self.branches:
            kinds += ["jump"]
        if env.index_vars and self.writable_lists(env, by_index=True):
            kinds += ["elemwrite"]
        if self.lists and [n for n in self.writable_lists(env) if env.lists[n].owner != "row"]:
            kinds += ["slicewrite"]
            if not (self.in_helper or self.in_closure):    # (rebinding: f's own names)
                kinds += ["reorder"]
        return kinds + self.family_stmt_kinds(env, depth, top, in_loop)

    def stmt(self, env: _Env, depth: int, top: bool, in_loop: str | None, lines: list[str],
             indent: str) -> None:
        kind = self.pick(self.stmt_kinds(env, depth, top, in_loop))
        e_depth = self.draw(st.integers(1, 3))
        simple = {"local": self.s_local, "new": self.s_new, "reassign": self.s_reassign,
                  "aug": self.s_aug, "swap": self.s_swap, "early_return": self.s_early_return,
                  "elemwrite": self.s_elemwrite, "newlist": self.s_newlist,
                  "slicewrite": self.s_slicewrite, "reorder": self.s_reorder,
                  "witness": self.s_witness}
        if kind in simple:
            simple[kind](env, lines, indent, e_depth)
        elif kind in ("if", "jump", "for", "for_xs", "while", "tuple_state"):
            getattr(self, "s_" + kind)(env, depth, in_loop, lines, indent)
        else:
            self.family_stmt(kind, env, depth, top, in_loop, lines, indent)

    def s_tuple_state(self, env: _Env, depth: int, in_loop: str | None, lines: list[str],
                      indent: str) -> None:
        """``T = (a, b)`` (or ``((a, b), c)``), then rebuilt from its own items in a loop
        (or set in both branches of an if), then read: tuples whose items change in a
        region."""
        t = self.fresh("T")
        n = self.pick([2, 2, 3])
        # (a tuple of tuples first assigned inside a branch or loop is refused: see README;
        # the lines after an early return are the else branch of its if)
        nested = n == 3 and depth == 0 and in_loop is None and \
            "early_return" not in self.features and self.chance(40)
        if nested:
            self.features.add("tuples.nested")
            items = [f"{t}[0][0]", f"{t}[0][1]", f"{t}[1]"]

            def fmt(v: list[str]) -> str:
                return f"(({v[0]}, {v[1]}), {v[2]})"
        elif self.records and in_loop is None and depth == 0 and \
                "early_return" not in self.features and self.chance(60):   # a NamedTuple
            # (as for a tuple of tuples: one first made inside a branch is refused, and the
            # lines after an early return are the else branch of its if)
            self.features.add("tuples.record")
            items = [f"{t}.a", f"{t}[1]"] if n == 2 else [f"{t}.a", f"{t}.b", f"{t}[2]"]

            def fmt(v: list[str]) -> str:
                return f"Rec({v[0]}, b={v[1]})" if n == 2 else f"Rec({v[0]}, {v[1]}, c={v[2]})"
        else:
            items = [f"{t}[{k}]" for k in range(n)]

            def fmt(v: list[str]) -> str:
                return f"({', '.join(v)},)"
        lines.append(f"{indent}{t} = {fmt([self.expr(env, 1) for _ in range(n)])}")
        inner = env.child(scalars_ro=items)
        if self.branches and self.chance(35):
            self.features.add("if")
            self.features.add("tuples.branch")
            lines.append(f"{indent}if {self.cond(env, 1)}:")
            lines.append(f"{indent}    {t} = {fmt([self.expr(inner, 1) for _ in range(n)])}")
            if self.chance(70):
                lines.append(f"{indent}else:")
                other = [self.pick(items[::-1] + [self.expr(inner, 1)]) for _ in range(n)]
                lines.append(f"{indent}    {t} = {fmt(other)}")
        elif not nested and items[0] == f"{t}[0]" and self.chance(40):
            # a counter carried in the tuple and tested by a while (its first value is a
            # constant, which must not be taken for the value every iteration tests)
            self.features.add("tuples.while")
            lines[-1] = f"{indent}{t} = ({', '.join(['0'] + [self.expr(env, 1) for _ in range(n - 1)])},)"
            lines.append(f"{indent}while {t}[0] < {self.draw(st.integers(0, 3))}:")
            lines.append(f"{indent}    {t} = " + fmt([f"{t}[0] + 1"] + [
                f"{v} * 0.5 + math.tanh({self.expr(inner, 1)})" for v in items[1:]]))
        else:
            self.features.add("tuples.loop")
            i = self.fresh("i")
            lines.append(f"{indent}for {i} in range({self.draw(st.integers(0, 3))}):")
            record = "tuples.record" in self.features and items[0] == f"{t}.a"
            form = self.pick(["rebuild", "swap", "unpack"] + (["replace"] if record else []))
            if form == "replace":         # state._replace(a=...): the other fields kept
                lines.append(f"{indent}    {t} = {t}._replace(a={items[-1]} * 0.5 + "
                             f"math.tanh({self.expr(inner, 1)}))")
            elif form == "swap":          # parallel assignment from the tuple itself
                new = items[1:] + [f"{items[0]} * 0.5 + math.tanh({self.expr(inner, 1)})"]
                lines.append(f"{indent}    {t} = {fmt(new)}")
            elif form == "unpack":
                # (a NamedTuple unpacks as a flat tuple of all three fields, the default
                # c too; a tuple of tuples, nested)
                names = [self.fresh("u") for _ in range(3 if record else n)]
                target = f"({', '.join(names)},)" if record else fmt(names)
                lines.append(f"{indent}    {target} = {t}")
                un = env.child(scalars_ro=names)
                lines.append(f"{indent}    {t} = " + fmt(
                    [f"{v} * 0.5 + math.sin({self.expr(un, 1)})" for v in names[:n]]))
            else:
                lines.append(f"{indent}    {t} = " + fmt(
                    [f"{it} * 0.5 + math.tanh({self.expr(inner, 1)})" for it in items]))
        if not nested and in_loop is None and depth == 0 and items[0] != f"{t}.a" and \
                "early_return" not in self.features and self.chance(30):
            self.features.add("tuples.grow")     # t += (...): a new tuple; u keeps the old
            u = self.fresh("U")
            lines.append(f"{indent}{u} = {t}")
            lines.append(f"{indent}{t} += ({self.expr(inner, 1)},)")
            items = items + [f"{t}[{n}]", f"{u}[0]"]
            inner = env.child(scalars_ro=items)
        target = self.pick(env.assignable)
        read = self.pick(items)
        if not nested and self.chance(40):       # slices of the tuple (tuples again)
            self.features.add("tuples.slice")
            forms = [f"sum({t}[1:])", f"sum({t}[:-1], 0.5)", f"sum({t}[{n}:], 1.0)"]
            if self.branches:                    # (max and min compare: kinks)
                self.features.add("kink")
                forms += [f"max({t}[::-1])", f"min({t}[::2])"]
            read = self.pick(forms)
        elif items[0] == f"{t}.a" and self.chance(40):
            read = f"{t}.mix()"                  # a method, the tuple as self
        lines.append(f"{indent}{target} = {self.expr(inner, 1)} + {read}")

    def s_local(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        # a name local to this block; the same few names recur in other blocks
        self.features.add("local")
        name = self.pick(["t1", "t2", "_t1"])
        lines.append(f"{indent}{name} = {self.expr(env, e_depth)}")
        env.add_scalar(name)

    def s_new(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        name = self.fresh(self.pick(["v", "_v"]))
        lines.append(f"{indent}{name} = {self.expr(env, e_depth)}")
        env.add_scalar(name)

    def s_reassign(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        name = self.pick(env.assignable)
        lines.append(f"{indent}{name} = {self.expr(env, e_depth)}")

    def aug_rhs(self, env: _Env, op: str, e_depth: int) -> str:
        rhs = self.expr(env, e_depth)
        if op == "/=":
            return f"(1.25 + math.cos({rhs}))"
        if op == "*=":
            return self.pick([f"math.tanh({rhs})", f"(0.5 + 0.5 * math.sin({rhs}))", rhs])
        return rhs

    def s_aug(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        self.features.add("augassign")
        name = self.pick(env.assignable)
        op = self.pick(["+=", "-=", "*=", "/="])
        lines.append(f"{indent}{name} {op} {self.aug_rhs(env, op, e_depth)}")

    def s_swap(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        self.features.add("swap")
        a, b = self.draw(st.permutations(env.assignable))[:2]
        if self.chance(50):
            lines.append(f"{indent}{a}, {b} = {b}, {a}")
        else:
            lines.append(f"{indent}{a}, {b} = {self.expr(env, 1)}, {self.expr(env, 1)}")

    def s_early_return(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        self.features.add("early_return")
        lines.append(f"{indent}if {self.cond(env, 1)}:")
        lines.append(f"{indent}    return {self.expr(env, e_depth)}")

    def s_elemwrite(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        self.features.add("elemwrite")
        name = self.pick(self.writable_lists(env, by_index=True))
        if env.lists[name].owner != "local":
            self.features.add("aliases.write_arg")
        i = self.pick(env.index_vars)
        op = self.pick(["=", "+="])
        lines.append(f"{indent}{name}[{i}] {op} {self.expr(env, e_depth)}")

    def s_slicewrite(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        """A slice assignment that keeps a list's length or makes it longer (the lists'
        lengths are lower bounds), or ``del`` of a region that is put back after."""
        name = self.pick([n for n in self.writable_lists(env) if env.lists[n].owner != "row"])
        # (xs and its aliases keep their length: other lists are as long as xs)
        form = self.pick(["head", "tail_map", "del_put_back"] + (
            ["grow", "end"] if env.lists[name].owner == "local" else []))
        self.features.add(f"slicewrite.{form}")
        if env.lists[name].owner != "local":
            self.features.add("aliases.write_arg")
        e = self.expr(env, e_depth)
        if form == "head":
            lines.append(f"{indent}{name}[:1] = [{e}]")
        elif form == "tail_map":
            v = self.fresh("w")
            body = self.expr(env.child(scalars_ro=[v]), e_depth)
            lines.append(f"{indent}{name}[1:] = [{body} for {v} in {name}[1:]]")
        elif form == "grow":
            lines.append(f"{indent}{name}[0:1] = [{e}, {self.expr(env, 1)}]")
        elif form == "end":
            lines.append(f"{indent}{name}[len({name}):] = [{e}]")
        else:                  # (the new head computed while the list is whole)
            t, v = self.fresh("cut"), self.fresh("w")
            lines.append(f"{indent}{t} = [{e} * {v} for {v} in {name}[:1]]")
            lines.append(f"{indent}del {name}[:1]")
            lines.append(f"{indent}{name}[:0] = {t}")

    def s_reorder(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        """A list rebound to a reordered copy of itself, of the same length (``xs =
        xs[::-1]``, a rotation, ``sorted``): in a branch or loop the old list and the new
        one share a name (a survey found this gave a zero gradient)."""
        name = self.pick([n for n in self.writable_lists(env) if env.lists[n].owner != "row"])
        form = self.pick(["reverse", "rotate"] + (["sorted"] if self.branches else []))
        self.features.add(f"reorder.{form}")
        new = {"reverse": f"{name}[::-1]", "rotate": f"{name}[1:] + {name}[:1]",
               "sorted": f"sorted({name})"}[form]
        lines.append(f"{indent}{name} = {new}")

    def sub_block(self, env: _Env, depth: int, in_loop: str | None, lines: list[str],
                  indent: str, lo: int = 1, hi: int = 2) -> None:
        self.block(env, self.draw(st.integers(lo, hi)), depth + 1, False, in_loop, lines,
                   indent + "    ")

    def s_if(self, env: _Env, depth: int, in_loop: str | None, lines: list[str],
             indent: str) -> None:
        self.features.add("if")
        n_elif = self.draw(st.integers(0, 2))
        has_else = self.chance(60)
        lines.append(f"{indent}if {self.cond(env, 1)}:")
        self.sub_block(env.child(), depth, in_loop, lines, indent)
        for _ in range(n_elif):
            self.features.add("elif")
            lines.append(f"{indent}elif {self.cond(env, 1)}:")
            self.sub_block(env.child(), depth, in_loop, lines, indent)
        if has_else:
            lines.append(f"{indent}else:")
            self.sub_block(env.child(), depth, in_loop, lines, indent)

    def s_jump(self, env: _Env, depth: int, in_loop: str | None, lines: list[str],
               indent: str) -> None:
        self.features.add("jump")
        jump = "break" if in_loop == "while" else self.pick(["break", "continue"])
        self.features.add(jump)
        lines.append(f"{indent}if {self.cond(env, 1)}:")
        lines.append(f"{indent}    {jump}")

    def s_for(self, env: _Env, depth: int, in_loop: str | None, lines: list[str],
              indent: str) -> None:
        self.features.add("for")
        i = self.fresh("i")
        bounds = ["range({k})"]
        if env.has_n:
            bounds.append("range(n)")
        if "xs" in env.lists:
            bounds.append("range(len(xs))")
        bounds += self.family_for_bounds(env)
        bound = self.pick(bounds).format(k=self.draw(st.integers(0, 3)))
        if bound == "range(len(xs))":
            inner = env.child(ints=[i], index_vars=[i])
        else:
            inner = env.child(ints=[i])
            self.family_for_rowvar(env, inner, i, bound)
        lines.append(f"{indent}for {i} in {bound}:")
        self.sub_block(inner, depth, "for", lines, indent, 1, 3)

    def s_for_xs(self, env: _Env, depth: int, in_loop: str | None, lines: list[str],
                 indent: str) -> None:
        self.features.add("for_xs")
        v = self.fresh("e")
        form = ["xs", "reversed(xs)", "enumerate(xs)"]
        same_len = [name for name, info in env.lists.items()
                    if info.length == "xs" and name != "xs"]
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
        self.sub_block(inner, depth, "for", lines, indent, 1, 3)

    def s_while(self, env: _Env, depth: int, in_loop: str | None, lines: list[str],
                indent: str) -> None:
        self.features.add("while")
        k = self.fresh("k")
        bound = self.pick([str(self.draw(st.integers(0, 3)))] + (["n"] if env.has_n else []))
        lines.append(f"{indent}{k} = 0")
        test = f"{k} < {bound}"
        held = None
        if self.branches and self.chance(25):
            # a value each test computes (the last one too, which ends the loop), read
            # in the body and after the loop: ``while (w := e) < c and k < n``
            held = self.fresh("w")
            self.features.add("while.walrus")
            test = (f"({held} := {self.expr(env, 1)}) < {self.pick(['2.0', '5.0'])} "
                    f"and {test}")
        elif self.branches and self.chance(30):
            test += f" and {self.expr(env, 1)} < {self.pick(['2.0', '5.0'])}"
        lines.append(f"{indent}while {test}:")
        self.sub_block(env.child(ints=[k], scalars_ro=[held] if held else []), depth,
                       "while", lines, indent)
        lines.append(f"{indent}    {k} += 1")
        if held is not None:        # (bound after the loop: the test runs at least once)
            env.own_scalars.append(held)
            if env.assignable:      # (the last test's value read: its adjoint added once)
                lines.append(f"{indent}{self.pick(env.assignable)} += {held} * 0.5")

    def s_witness(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        """``any``/``all`` of a generator with a walrus (PEP 572's witness), or a
        comprehension whose condition reads the flag its walrus sets: Python stops at
        the deciding item (a survey found every item was computed)."""
        w, e = self.fresh("w"), self.fresh("e")
        inner = env.child(scalars_ro=[e])
        lines.append(f"{indent}{w} = {self.expr(env, 1)}")
        form = self.pick(["any", "all", "flag"])
        self.features.add("witness")
        self.features.add(f"witness.{form}")
        bound = self.pick(["0.5", "1.5", "-0.5"])
        if form == "flag":
            flag, kept = self.fresh("found"), self.fresh("L")
            lines.append(f"{indent}{flag} = False")
            lines.append(f"{indent}{kept} = [({w} := {self.expr(inner, 1)}) for {e} in xs "
                         f"if not {flag} and not ({flag} := {e} > {bound})]")
        else:
            cmp = ">" if form == "any" else "<"
            lines.append(f"{indent}if {form}(({w} := {self.expr(inner, 1)}) {cmp} {bound} "
                         f"for {e} in xs):")
            lines.append(f"{indent}    {w} = {w} * 0.5 + {self.expr(env, 1)}")
        env.add_scalar(w)

    def s_newlist(self, env: _Env, lines: list[str], indent: str, e_depth: int) -> None:
        name = self.fresh("L")
        how = self.pick(["comp", "append", "writes", "literal"])
        self.features.add("list_" + how)
        if how == "comp":
            v = self.fresh("w")
            inner = env.child(scalars_ro=[v])
            lines.append(f"{indent}{name} = [{self.expr(inner, 2)} for {v} in xs]")
        elif how == "append":
            v = self.fresh("w")
            inner = env.child(scalars_ro=[v])
            lines.append(f"{indent}{name} = []")
            lines.append(f"{indent}for {v} in xs:")
            lines.append(f"{indent}    {name}.append({self.expr(inner, 2)})")
        elif how == "writes":
            i = self.fresh("i")
            inner = env.child(ints=[i], index_vars=[i])
            lines.append(f"{indent}{name} = [0.0] * len(xs)")
            lines.append(f"{indent}for {i} in range(len(xs)):")
            lines.append(f"{indent}    {name}[{i}] = {self.expr(inner, 2)}")
        else:
            k = self.draw(st.integers(1, 3))
            lines.append(f"{indent}{name} = [{', '.join(self.expr(env, 1) for _ in range(k))}]")
            env.own_lists[name] = ListInfo(k)
            return
        env.own_lists[name] = ListInfo("xs")

    def writable_lists(self, env: _Env, by_index: bool = False) -> list[str]:
        """Lists the program may write elements of: its own lists; with the aliases family
        also xs, rows of W and their aliases (writes the caller sees).  ``by_index``: only
        lists as long as xs (written at an index variable)."""
        return [name for name, info in sorted(env.lists.items())
                if (info.owner == "local" or self.has("aliases")) and info.owner != "readonly"
                and (info.length == "xs" or not by_index)]


# --------------------------------------------------------------------------- the module

def _helpers(w: _Writer, draw: Callable[[Any], Any], out: list[str]) -> None:
    prefix = draw(st.sampled_from(["h", "_h"]))     # private-looking helpers too
    least = 1 if w.has("decorators") and draw(st.integers(0, 3)) > 0 else 0
    for k in range(draw(st.integers(least, 2))):
        name = f"{prefix}{k + 1}"
        npos = draw(st.integers(1, 2))
        has_c = draw(st.booleans())
        params = ["a", "b"][:npos] + (["c=0.5"] if has_c else [])
        env = _Env.root(["a", "b"][:npos] + (["c"] if has_c else []))
        w.in_helper = True
        body: list[str] = []
        w.block(env, draw(st.integers(0, 2)), 0, True, None, body, "    ")
        if draw(st.integers(0, 3)) == 0:      # a last statement that raises, never run
            body += [f"    if len(str({params[0]})) > 0:",
                     f"        return {w.expr(env, draw(st.integers(1, 3)))}",
                     "    raise ValueError('not reached')"]
        else:
            body.append(f"    return {w.expr(env, draw(st.integers(1, 3)))}")
        w.in_helper = False
        out += [""] + w.decorator_lines("helper") + [f"def {name}({', '.join(params)}):"]
        out += body + [""]
        w.helpers.append((name, npos, has_c))


def _parameters(w: _Writer, draw: Callable[[Any], Any], mapped: bool, packed: bool
                ) -> tuple[_Env, tuple]:
    """f's scope and parameters after ``P``: (scalars, has_list, the maps family's other
    lists, its lists of data, has_table, has_n)."""
    scalars = [f"x{k}" for k in range(draw(st.integers(1, 3)))]
    has_list = mapped or w.lists and draw(st.integers(0, 2 if w.has("aliases") else 1)) > 0
    has_n = w.loops and draw(st.integers(0, 2 if mapped else 3)) == 0
    env = _Env.root(scalars, has_n=has_n)
    if has_list:
        env.own_lists["xs"] = ListInfo("xs", owner="arg")
    more, data = (["ys"], ["cs"] if draw(st.booleans()) else []) if mapped else ([], [])
    for name in more + data:
        env.own_lists[name] = ListInfo("xs", owner="arg")
    has_table = has_list and not mapped and w.has("aliases") and draw(st.booleans())
    if packed:
        # KNOWN LIMIT (refused, README): P beside W, W's rows written in a loop
        # with values from P, is refused ("used both as list[list[num]] and num"); no W
        # beside P until it is fixed
        has_table = False
    if has_table:
        env.own_tables["W"] = TableInfo("W", owner="arg")
    return env, (scalars, has_list, more, data, has_table, has_n)


@st.composite
def programs(draw: Callable[[Any], Any], branches: bool = True, loops: bool = True,
             calls: bool = True, lists: bool = True, max_stmts: int = 5,
             families: frozenset[str] | None = None, packed: bool | None = None,
             maps: bool | None = None, raises: bool | None = None, stars: bool | None = None,
             star_refusal: bool = False, resize: bool | None = None) -> Program:
    """A random module defining ``f`` (and helpers ``h1``, ...), in the base grammar mixed
    with the constructs of ``families`` (default :data:`FAMILIES`).

    ``branches=False`` gives branch-free programs (no comparisons, kinks or truth tests
    other than ``abs``), whose derivative SymPy can take.  ``packed``: True, f always
    takes a packed parameter ``P`` (family ``pytrees``); None, a quarter of the programs
    do when the family is on.  ``maps``: True, f is always a program of the maps family
    (loops over lists ``xs``, ``ys``, ``cs``: ``MapsWriter``; never with ``P``); None, a
    third of the other programs are when the family is on.  ``raises``: likewise for the
    raises family (reads that may raise: ``fuzz_raises.RaisesWriter``), among the
    programs neither packed nor of the maps family; ``stars``: likewise for the stars
    family (calls with ``*`` arguments: ``fuzz_stars.StarsWriter``), half of the programs
    left; ``star_refusal``: its ``f`` also makes a call symgrad refuses by design;
    ``resize``: likewise for the resize family (``fuzz_resize.ResizeWriter``), half the rest.
    """
    fams = FAMILIES if families is None else frozenset(families)
    w = _Writer(draw, branches, loops, calls, lists, max_stmts, fams)
    header = ["import math", "", "import symgrad", ""]
    defs = w.module_prelude()            # decorators and globals of the families
    if calls:
        _helpers(w, draw, defs)
    pack = None
    if packed or (packed is None and not maps and not raises and not stars
                  and w.has("pytrees") and draw(st.integers(0, 3)) == 0):
        pack = draw_pack(draw)
        w.pack_reset()
        if calls and draw(st.integers(0, 2)) == 0:
            w.pack_helper_def(pack, defs)
    mapped = pack is None and lists and loops and not raises and not stars and (
        maps or maps is None and w.has("maps") and draw(st.integers(0, 2)) == 0)
    raised = pack is None and not mapped and lists and loops and not stars and (
        raises or raises is None and w.has("raises") and draw(st.integers(0, 2)) == 0)
    starred = pack is None and not mapped and not raised and (
        stars or stars is None and w.has("stars") and draw(st.integers(0, 1)) == 0)
    resized = pack is None and not (mapped or raised or starred) and lists and loops and (
        resize or resize is None and w.has("resize") and draw(st.integers(0, 1)) == 0)
    kind = "maps" if mapped else "raises" if raised else "stars" if starred else \
        "resize" if resized else "grammar"
    env, sig = _parameters(w, draw, mapped, pack is not None)
    scalars, has_list, more, data, has_table, has_n = sig
    body: list[str] = []
    if pack is not None:
        w.pack_reset()
        w.pack_prologue(env, pack, "P", body)
    definite, switches, extra = _body(w, draw, env, kind, sig, star_refusal, body, defs)
    params = (["P"] if pack is not None else []) + scalars + switches
    params += (["xs"] if has_list else []) + more + data
    params += (["W"] if has_table else []) + (["n"] if has_n else []) + extra
    # (the "shifted" decorator adds 0.5 * args[0]: P is no number)
    deco = w.decorator_lines("f") if pack is None or "shifted" not in w.decorators else []
    defs += [""] + deco + [f"def f({', '.join(params)}):"] + body
    source = "\n".join(header + w.imports() + defs) + "\n"
    feats = w.features
    branchy = bool(feats & BRANCHY) or ("while" in feats and " and " in source)
    sympy_ok = not branchy and "mod" not in feats
    return Program(source, scalars + switches, has_list, has_n, branchy, sympy_ok, feats,
                   has_table=has_table, globals=w.global_values(), packed=pack,
                   pack_sites=list(getattr(w, "pack_sites", [])), more_lists=more,
                   data_lists=data, raises=raised, raise_params=extra if raised else [],
                   raise_triggers=list(w.raise_triggers) if raised else [],
                   definite_only=definite, stars=starred,
                   star_lens=dict(w.star_lens) if starred else {},
                   star_sensitive=sorted(w.star_sensitive) if starred else [],
                   resize=resized, resize_lens=dict(w.rz_lens) if resized else {})


def _body(w: _Writer, draw: Callable[[Any], Any], env: _Env, kind: str, sig: tuple,
          star_refusal: bool, body: list[str], defs: list[str]) -> tuple[bool, list, list]:
    """f's body (after P's prologue), of the grammar or of the family ``kind`` (maps,
    raises, stars), and the module lines the family needs: (every shape definitely
    assigned, the raises family's switches, the family's parameters after the grammar's)."""
    scalars, _, more, data, _, _ = sig
    if kind == "maps":
        w.maps_body(env, ["xs"] + more + data, body)
    elif kind == "raises":
        definite = w.raises_body(env, body)
        switches, extra = w.raises_signature()
        defs += w.raises_defs()
        return definite, switches, extra
    elif kind == "stars":
        w.stars_begin(env, star_refusal)
        w.stars_body(env, body)
        defs += w.star_defs
        return False, [], w.stars_signature()
    elif kind == "resize":
        w.resize_begin(env)
        w.resize_body(env, body)
        defs += [line for d in w.rz_defs for line in ["", *d.split("\n"), ""]]
        return False, [], w.resize_signature()
    else:
        w.block(env, draw(st.integers(1, w.max_stmts)), 0, True, None, body, "    ")
        tail = [v for v in env.scalars if v not in scalars]
        ret = w.expr(env, draw(st.integers(1, 3)))
        if tail:
            ret += " + " + " + ".join(tail[-3:])
        body.append(f"    return {ret}")
    return False, [], []


@st.composite
def points(draw: Callable[[Any], Any], prog: Program, mismatch: bool = False) -> dict[str, Any]:
    """Arguments for ``prog.f``: floats in [-2, 2] (sometimes small ints), a list of 1-3
    floats, ``W``: 1-3 rows as long as xs (sometimes sharing: a row that *is* xs, or one
    row object twice), an int ``n`` in 0..3, ``P`` as ``prog.packed`` says (``mismatch``:
    one container it unpacks one item longer or shorter, or empty: Python raises).  A
    program of the maps family takes ``xs``, ``ys`` (and ``cs``) as ``map_lists`` draws
    them (of one length, one passed twice, one longer, or empty: Python may raise) and
    ``n`` mostly their length."""
    def num() -> Any:
        if draw(st.integers(0, 19)) == 0:
            return draw(st.integers(-2, 2))
        return draw(st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False))
    args: dict[str, Any] = {p: num() for p in prog.scalars}
    if prog.more_lists:                  # (the maps family)
        args.update(map_lists(draw, ["xs"] + prog.more_lists + prog.data_lists))
    elif prog.has_list:
        args["xs"] = [draw(st.floats(-2.0, 2.0)) for _ in range(draw(st.integers(1, 3)))]
    if prog.has_table:
        n_cols = len(args["xs"])
        rows = [[draw(st.floats(-2.0, 2.0)) for _ in range(n_cols)]
                for _ in range(draw(st.integers(1, 3)))]
        share = draw(st.sampled_from(["none", "none", "xs", "rows"]))
        if prog.packed is not None and share == "xs":
            # KNOWN LIMIT (refused, README): with a packed parameter, W[k] is xs
            # makes symgrad misread the kinds ("f returns a list")
            share = "none"
        if share == "xs":                     # W[k] is the very list passed as xs
            rows[draw(st.integers(0, len(rows) - 1))] = args["xs"]
        elif share == "rows" and len(rows) >= 2:
            rows[-1] = rows[0]                # one row object twice
        args["W"] = rows
    if prog.has_n:
        args["n"] = map_count(draw, len(args["xs"])) if prog.more_lists else \
            draw(st.integers(0, 3))
    if prog.raises:                      # (the raises family: half the time, a read may fail)
        args.update(raise_point(draw, prog.raise_triggers, prog.raise_params,
                                [c for c in prog.scalars if c.startswith("c")],
                                prog.source))
    if prog.stars:        # (the stars family: half the points, a list of another length)
        args.update(star_point(draw, prog.star_lens, prog.star_sensitive, prog.source))
    if prog.resize:       # (the resize family: sometimes a list of another length)
        args.update(resize_point(draw, prog.resize_lens, prog.source))
    if prog.packed is not None:
        args["P"] = pack_value(draw, prog.packed)
        if mismatch and prog.pack_sites:     # one unpacked container of another length
            args["P"] = mismatched(draw, args["P"], draw(st.sampled_from(prog.pack_sites)))
    return args
