"""Emit: IR -> readable Python source, compiled with its names bound.

The printer puts a temporary back into the one expression that uses it (so
``_t1 = x * w; n = _t1 + b`` prints as ``n = x * w + b``) when that is the
same source line and nothing in between changes what it reads; it names
variables from their hints (``x``, ``x_1``, ``d_x``, ``_t1``); it writes a
``# <source line>`` comment before the code of each line (``# grad of: ...``
for its adjoint); and operators get exactly the parentheses Python needs.  A
return of many results computed just before it has them written inside it, one
per line with its name as a comment (:meth:`Printer.plan_return`).

The generated function reads the differentiated function's module globals
*live* (its globals are that module's dict), and finds what symgrad adds
(``math``, helpers) and the user's closure cells in its own closure.
"""

from __future__ import annotations

import builtins
import importlib
import linecache
import math
import sys
import types
from dataclasses import dataclass, field
from typing import Any

from . import rules
from .ir import (Break, Const, Continue, Eqn, For, Func, Global, If, Return, Var, While, leaves,
                 stmt_reads, walk)
from .emit_forms import (ATOM, AWAIT, BOR, CMP, EXPR, NOT, OP_PREC, POWER, STMT, TEST,
                         const_text)
from .emit_inline import (ANY, ARRAY_WRITES, LIST_MUTATORS, LIST_READS, MUTATING, NO_RAISE,
                          PRIMAL, SHADOW, Pending, effects, keep_raising_order, may_raise_alone, reads_through,
                          shadow_lists)
from .emit_slots import share_names
from .errors import UnsupportedSyntaxError
from .scope import Namer

__all__ = ["emit", "Emitted", "compile_emitted"]

_PURE = {"copy", "getitem", "getattr", "list", "tuple", "concat", "repeat", "slice", "len",
         "range", "neg", "not", "and", "invert", "select", "sum", "fsum", "mean", "fmean", "max_of",
         "min_of", "zeros_like", "binop", "get_or_missing", "list_to_array",
         "join_list"}
#: a return listing more than this many results computed in the step just before it has
#: them written inside it, one per line, each with its name as a comment (see
#: :meth:`Printer.plan_return`)
RETURN_INLINE_ABOVE = 8
#: Python's own limits: levels of indentation (100, one kept for the function that binds
#: symgrad's names) and loops inside each other in one function (20)
MAX_INDENT, MAX_LOOPS = 98, 20

_BUILTIN_PRIMS = {"len", "range", "sum", "list", "max_of", "min_of", "zeros_like"}


@dataclass
class Emitted:
    source: str
    name: str
    globals: dict
    freevars: dict[str, Any] = field(default_factory=dict)     # name -> cell
    helpers: list[str] = field(default_factory=list)
    argdefs: tuple = ()
    global_names: list[str] = field(default_factory=list)   # read from the module, live


class _Names:
    """The names generated code uses for globals, injected objects and variables."""

    def __init__(self, func: Func, top_globals: dict):
        self.top = top_globals
        self.namer = Namer()
        self.freevars: dict[str, Any] = {}
        self.by_obj: dict[int, str] = {}
        self.helpers: list[str] = []
        self.global_names: dict[str, None] = {}
        self.builtins: dict[str, str] = {}
        for p in func.params:
            if p.name is not None:
                self.namer.used.add(p.name)
        for p in func.params:
            if p.name is None:
                base = p.base.name if p.base is not None and p.base.name else ""
                p.name = self.namer.version(p.hint + base.lstrip("_"))

    def reserve_globals(self, globals_: list[Global], builtins_used: set[str]) -> None:
        for g in globals_:
            if g.how in ("global", "builtin"):
                self.namer.used.add(g.name)
        self.namer.used.update(builtins_used)
        for name in sorted(builtins_used):
            real = getattr(builtins, name)
            if self.top.get(name, real) is not real:   # (the module's own `zip`, `len` ...)
                fresh = self.builtins[name] = self.free_name("_" + name)
                self.freevars[fresh] = types.CellType(real)

    def builtin(self, name: str) -> str:
        """How the code symgrad writes calls a builtin: by its name, or by another
        where the module defines that name itself (``def zip(...)``)."""
        return self.builtins.get(name, name)

    def glob(self, g: Global) -> str:
        """The printed name of a global operand."""
        if g.how == "global":
            self.global_names[g.name] = None
            return g.name
        if g.how == "builtin":
            return g.name
        if g.how == "cell":
            key = id(g.cell)
            name = self.by_obj.get(key)
            if name is None:
                name = self.by_obj[key] = self.free_name(g.name)
                self.freevars[name] = g.cell
            return name
        return self.inject(g.obj, g.name)

    def inject(self, obj: Any, hint: str) -> str:
        key = id(obj)
        name = self.by_obj.get(key)
        if name is None:
            if self.top.get(hint) is obj and hint not in self.namer.used - {hint}:
                name = hint
                self.namer.used.add(hint)
                self.global_names[hint] = None
            else:
                name = self.module_attr(obj) or self.free_name(hint)
                if "." not in name:
                    self.freevars[name] = types.CellType(obj)
            self.by_obj[key] = name
        return name

    def module_attr(self, obj: Any) -> str | None:
        """``random.random`` for a draw of Python's generator, where the user's module
        imported ``random`` (and the generated code does not name it otherwise), else
        None.  (Other modules' functions are passed in: ``symgrad.check`` runs the code
        with ``math`` and ``np`` of its own.)"""
        attr = getattr(obj, "__name__", None)
        if not rules.is_random(obj) or not isinstance(attr, str):
            return None
        for modname, mod in self.top.items():
            if type(mod) is types.ModuleType and getattr(mod, attr, None) is obj and \
                    modname not in self.namer.used - set(self.global_names):
                self.namer.used.add(modname)
                self.global_names[modname] = None
                return f"{modname}.{attr}"
        return None

    def free_name(self, hint: str) -> str:
        hint = hint if hint.isidentifier() else "_obj"
        if hint not in self.namer.used and hint not in self.top:
            self.namer.used.add(hint)
            return hint
        return self.namer.version(hint if hint.startswith("_") else "_" + hint)

    def module(self, name: str) -> str:
        mod = sys.modules.get(name) or importlib.import_module(name)
        return self.inject(mod, {"numpy": "np", "scipy.special": "special"}.get(name, name))


class Printer:
    """Prints one function."""

    def __init__(self, func: Func, top_globals: dict, fname: str, doc: str,
                 errstate: str = ""):
        self.func = func
        self.errstate = errstate          # (np.errstate(...) the body runs under)
        self.fname = fname
        self.doc = doc
        self.names = _Names(func, top_globals)
        self.uses: dict[Var, int] = {}
        self.defs: dict[Var, int] = {}
        self.inline: dict[Var, Eqn] = {}
        self.consumer: dict[Var, Any] = {}      # an inlined temporary -> the line it is in
        self.listy_of: dict[Var, int] = {}
        self.shadow: set[Var] = set()
        self.lines: list[str] = []
        self.last_loc: Any = None
        self.loops = 0                  # (how many loops the line printed now is inside)
        #: results printed inside the final return (see plan_return), with their lines
        self.in_return: dict[Var, Any] = {}
        self.return_loc: Any = None

    # ------------------------------------------------------------------ analysis
    def count(self) -> tuple[list[Global], set[str]]:
        globals_: list[Global] = []
        used_builtins: set[str] = set()
        uses, defs = self.uses, self.defs
        for s in walk(self.func.body):
            t = type(s)
            if t is Eqn:
                for a in s.args:
                    ta = type(a)
                    if ta is Var:
                        uses[a] = uses.get(a, 0) + 1
                    elif ta is Global:
                        globals_.append(a)
                    elif ta is tuple:
                        self._count_read(a, globals_)
                for o in s.outs:
                    defs[o] = defs.get(o, 0) + 1
                if s.prim in _BUILTIN_PRIMS or s.params:
                    used_builtins.update(_builtins_of(s))
                continue
            for a in stmt_reads(s):
                self._count_read(a, globals_)
            if t is For:
                self.defs[s.var] = self.defs.get(s.var, 0) + 1
                used_builtins.update(("range", "reversed", "zip") if s.elems else (
                    "range", "reversed"))
                for lst, term in s.collect:       # (a map loop: see symgrad.maps)
                    uses[term] = uses.get(term, 0) + 1
                    defs[lst] = defs.get(lst, 0) + 1
                for v, lst in s.elems:
                    defs[v] = defs.get(v, 0) + 1
                    uses[lst] = uses.get(lst, 0) + 1
        return globals_, used_builtins

    def _count_read(self, a: Any, globals_: list) -> None:
        t = type(a)
        if t is Var:
            self.uses[a] = self.uses.get(a, 0) + 1
        elif t is Global:
            globals_.append(a)
        elif t is tuple:
            for x in a:
                self._count_read(x, globals_)

    def plan_inline(self, block: list) -> dict:
        """Choose the temporaries printed inside the one expression that uses them."""
        pending = Pending()
        for s in block:
            self._consume(s, pending)
            t = type(s)
            if t is If:
                self.plan_inline(s.then)
                self.plan_inline(s.orelse)
            elif t is For and s.collect:        # (its body is printed inside the terms)
                for e in s.body:
                    self.inline[e.out] = e
            elif t is For:
                self.plan_inline(s.body)
            elif t is While:
                test_pending = self.plan_inline(s.test)
                if type(s.cond) is Var and s.cond in test_pending and \
                        s.test and type(s.test[-1]) is Eqn and s.test[-1].outs == (s.cond,):
                    self.inline[s.cond] = test_pending[s.cond]
                self.plan_inline(s.body)
            if t is Eqn:
                for o in s.outs:
                    pending.kill_var(o)
                if s.prim in ARRAY_WRITES and type(s.args[0]) is Var:
                    pending.kill_var(s.args[0])     # (x[i] = v: what reads x waits no more)
                if s.prim in MUTATING:
                    pending.kill_lists(SHADOW if s.prim in LIST_MUTATORS and s.args and
                                       s.args[0] in self.shadow else ANY)
            else:
                writes, lists, unknown = effects(s)
                for w in writes:
                    pending.kill_var(w)
                if lists or unknown:
                    pending.kill_lists(SHADOW if not unknown and lists <= self.shadow
                                       else ANY)
            if t is Eqn and len(s.outs) == 1 and self._candidate(s):
                reads, listy = self._reads(s)
                pending.add(s, reads, listy)
        keep_raising_order(block, self.inline, self.consumer)
        return pending.entries

    def plan_return(self, body: list) -> None:
        """Print the results a function's last lines compute inside its ``return``.

        A gradient of many inputs ends with one line per input's adjoint
        (``d_x0 = d_n * w0`` ...) and a return of them all.  Naming each costs a store
        and a load per call, a fifth of the 201-argument neuron's gradient; a person
        writing it builds the result in one expression.  So when more than
        :data:`RETURN_INLINE_ABOVE` returned values are single-use results of the lines
        right before the return, the return is printed one item per line, each with the
        adjoint's name as a comment and the ``# grad of:`` comments where they were: so
        the lines of one source line may be listed in any order (if none of them can
        raise: then which error comes first is the same), but those of two are moved
        only when the return lists them in the order they were (smaller gradients keep
        the named lines).
        Only that run of lines moves, and each of them writes a variable nothing else
        reads, so what they read is unchanged at the return."""
        if not body or type(body[-1]) is not Return or type(body[-1].value) is not tuple:
            return
        order = {v: k for k, v in enumerate(leaves(body[-1].value)) if type(v) is Var}
        run: list[Eqn] = []
        later = here = len(order)      # (the first place in the return of the lines after)
        for s in reversed(body[:-1]):
            if type(s) is not Eqn or len(s.outs) != 1 or s.prim in MUTATING or s.prim in STMT:
                break
            v = s.out
            if v not in order or v in self.inline or self.uses.get(v) != 1 or \
                    self.defs.get(v) != 1:
                break
            if run and s.loc is not run[-1].loc:        # (the lines of another source line)
                later, here = min(later, here), len(order)
            if order[v] > later:
                break
            here = min(here, order[v])
            run.append(s)
        ordered = run[::-1]
        if any(order[a.out] > order[b.out] for a, b in zip(ordered, ordered[1:])) and \
                not all(self._cannot_raise(e) for e in run):
            k = len(ordered) - 1            # (reordered lines that may raise: only the
            while k > 0 and order[ordered[k - 1].out] < order[ordered[k].out]:
                k -= 1                      # last ones, already in the return's order)
            run = run[:len(run) - k]
        if len(run) <= RETURN_INLINE_ABOVE:
            return
        for e in run:
            self.inline[e.out] = e
        self.in_return = {e.out: e.loc for e in run}
        self.return_loc = run[-1].loc

    def _cannot_raise(self, e: Eqn) -> bool:
        """Is ``e`` (with the temporaries printed inside it) arithmetic on numbers that
        cannot raise, so that computing it before or after another line is the same?
        (A division, a math function or arrays of other shapes can raise.)"""
        if may_raise_alone(e) or e.prim not in NO_RAISE:
            return False
        for a in e.args:
            if type(a) is Var:
                inner = self.inline.get(a)
                if a.kind.find().tag != "num" or inner is not None and \
                        not self._cannot_raise(inner):
                    return False
            elif type(a) is not Const:
                return False
        return True

    def return_lines(self, v: Any, ind: str) -> list[str]:
        """A returned value as lines (the first one continues the ``return``): a tuple
        holding a result printed inside it is opened one item per line."""
        if type(v) is not tuple:
            return [self.op(v)]
        if not any(type(x) is Var and x in self.in_return for x in leaves(v)):
            return [self.expr(v)[0]]
        lines = ["("]
        for x in v:
            moved = type(x) is Var and x in self.in_return
            if moved:
                lines += self.comments(ind + "    ", self.in_return[x])
            sub = self.return_lines(x, ind + "    ")
            lines.append(ind + "    " + sub[0])
            lines += sub[1:]
            lines[-1] += ","
            if moved and x.hint:
                lines[-1] += f"  # {_adjoint_name(x) if x.base is not None else x.hint}"
        lines.append(ind + ")")
        return lines

    def _reads(self, e: Eqn) -> tuple[list, bool]:
        """Variables an equation reads itself, and whether it or a temporary printed
        inside it reads a list's contents (the temporaries' own reads stay indexed
        under them: :class:`Pending` finds the expression that holds them)."""
        listy = 0
        if e.prim in ("call", "callmethod", "pyexpr"):
            listy = ANY                         # (unknown code: any list)
        elif e.prim in LIST_READS:
            for a in e.args:
                if type(a) is Var and a.kind.find().tag in ("list", "map", "array", None):
                    listy |= SHADOW if a in self.shadow else PRIMAL
        reads = []
        for a in e.args:
            if type(a) is Var:
                reads.append(a)
                if a.kind.find().tag == "array":
                    listy |= SHADOW if a in self.shadow else PRIMAL
                elif a in self.inline:
                    listy |= self.listy_of.get(a, 0)
            elif type(a) is tuple:
                reads.extend(x for x in leaves(a) if type(x) is Var)
        self.listy_of[e.out] = listy
        return reads, listy

    def _candidate(self, e: Eqn) -> bool:
        v = e.out
        if v.name is not None or self.defs.get(v, 0) != 1 or self.uses.get(v, 0) != 1:
            return False
        if not (v.hint.startswith("_") and v.base is None) and v.hint not in ("",):
            return False
        if e.prim in MUTATING and not (e.prim == "pop" and (e.params or {}).get("tape")):
            return e.prim in ("call", "callmethod") and bool((e.params or {}).get("constant"))
        return e.prim != "copy" or type(e.args[0]) is not Var or e.args[0] not in self.inline

    def _consume(self, s: Any, pending: "Pending") -> None:
        """Temporaries read by ``s`` (itself, not its nested blocks) are inlined into it
        when they are pending and from the same line (any line, for a sum of adjoint
        contributions)."""
        loc = getattr(s, "loc", None)
        entries = pending.entries
        if not entries:
            return
        if type(s) is Eqn:
            is_sum = s.params is not None and s.params.get("sum")
            reads = s.args
        else:
            is_sum = False
            reads = leaves(stmt_reads(s))
        for a in reads:
            if type(a) is Var and a in entries:
                e = pending.take(a)
                if e.loc is loc or e.loc is None or loc is None or is_sum:
                    self.inline[a] = e
                    self.consumer[a] = s
                    if type(s) is Eqn and len(s.outs) == 1:
                        pending.outer[a] = s.out

    # ------------------------------------------------------------------ naming
    def name_vars(self) -> None:
        namer = self.names.namer
        temps: dict[str, int] = {}

        def fresh_temp(hint: str) -> str:
            k = temps.get(hint, 0)
            while True:
                k += 1
                cand = f"{hint}{k}"
                if cand not in namer.used:
                    break
            temps[hint] = k
            namer.used.add(cand)
            return cand

        def name(v: Var) -> None:      # (its base first: d_x is named after x)
            chain = []
            while v.name is None and v not in self.inline:
                chain.append(v)
                if v.base is None or v.base in self.inline or (
                        v.base.hint.startswith("_") and len(v.base.hint) <= 2):
                    break
                v = v.base
            for v in reversed(chain):
                if v.base is not None and (v.base in self.inline or v.base.hint.startswith("_")
                                           and len(v.base.hint) <= 2):
                    v.name = fresh_temp("_d")
                elif v.base is not None:
                    v.name = namer.version(_adjoint_name(v))
                elif v.hint.startswith("_") and len(v.hint) <= 2:
                    v.name = fresh_temp(v.hint)
                else:
                    v.name = namer.version(v.hint)
        for s in walk(self.func.body):
            if type(s) is Eqn:
                for o in s.outs:
                    if o.name is None and not self.bare(s):
                        name(o)
                for a in s.args:
                    if type(a) is Var:
                        if a.name is None:
                            name(a)
                    elif type(a) is tuple:
                        for x in leaves(a):
                            if type(x) is Var and x.name is None:
                                name(x)
                continue
            if type(s) is For:
                name(s.var)
            for a in leaves(stmt_reads(s)):
                if type(a) is Var:
                    name(a)

    # ------------------------------------------------------------------ expressions
    def op(self, a: Any, prec: int = TEST) -> str:
        text, p = self.expr(a)
        return f"({text})" if p < prec else text

    def expr(self, a: Any) -> tuple[str, int]:
        t = type(a)
        if t is Var:
            e = self.inline.get(a)
            if e is not None:
                return self.eqn_expr(e)
            return a.name or repr(a), ATOM
        if t is Const:
            return const_text(a.value, self.names)
        if t is Global:
            return self.names.glob(a), ATOM
        if t is tuple:
            return "(" + ", ".join(self.op(x) for x in a) + ("," if len(a) == 1 else "") + ")", ATOM
        raise TypeError(a)

    def eqn_expr(self, e: Eqn) -> tuple[str, int]:
        p = e.prim
        fn = EXPR.get(p)
        if fn is not None:
            return fn(self, e)
        if p in rules.RULES:
            return self.rule_expr(e)
        raise ValueError(f"cannot print {p}")

    def rule_expr(self, e: Eqn) -> tuple[str, int]:
        params = e.params or {}
        flavor = params.get("flavor")
        p = e.prim
        if flavor is None and p in rules.OPERATORS:
            sym, _ = rules.OPERATORS[p]
            return self.binop(sym, e.args[0], e.args[1])
        if flavor is None and p == "neg":
            return EXPR["neg"](self, e)
        rule = rules.RULES[p]
        args = ", ".join(self.op(a) for a in e.args)
        if flavor == "numpy" and (rule.numpy_name or p in rules.NUMPY_OPERATORS):
            np_name = rule.numpy_name or rules.NUMPY_OPERATORS[p]
            return f"{self.names.module('numpy')}.{np_name}({args})", ATOM
        if flavor == "numpy" and rule.scipy_name:          # (special.gammaln(x) ...)
            return f"{self.names.module('scipy.special')}.{rule.scipy_name}({args})", ATOM
        if flavor == "builtin" and p in rules.BUILTIN_SPELLING:
            return f"{self.names.builtin(rules.BUILTIN_SPELLING[p])}({args})", ATOM
        if rule.math_name and hasattr(math, rule.math_name) and flavor != "helper":
            return f"{self.names.module('math')}.{rule.math_name}({args})", ATOM
        fn = params.get("fn")
        name = self.names.glob(fn) if fn is not None else self.names.inject(
            rules.RULES[p].forward, p)
        return f"{name}({args})", ATOM

    def binop(self, sym: str, a: Any, b: Any) -> tuple[str, int]:
        prec = OP_PREC.get(sym, CMP)
        if sym == "**":
            return f"{self.op(a, AWAIT)} ** {self.op(b, POWER)}", POWER
        if prec == CMP:
            return f"{self.op(a, BOR)} {sym} {self.op(b, BOR)}", CMP
        return f"{self.op(a, prec)} {sym} {self.op(b, prec + 1)}", prec

    # ------------------------------------------------------------------ statements
    def line(self, ind: str, text: str, loc: Any = None) -> None:
        self.lines += self.comments(ind, loc)
        self.lines.append(ind + text)

    def comments(self, ind: str, loc: Any) -> list[str]:
        """The ``# <source line>`` comment due before code of ``loc`` (none when the
        code before was of the same line)."""
        if loc is None or loc is self.last_loc or _same_line(loc, self.last_loc):
            return []
        self.last_loc = loc
        if loc.header and not loc.prefix:
            return [f"{ind}# {_one_line(loc.header)}", f"{ind}# {_one_line(loc.comment())}"]
        return [f"{ind}# {_one_line(loc.comment())}"]

    def block(self, blk: list, ind: str) -> None:
        if len(ind) > 4 * MAX_INDENT or self.loops > MAX_LOOPS:
            raise _too_deep(blk, len(ind) // 4, self.loops)
        n = len(self.lines)
        for s in blk:
            self.stmt(s, ind)
        if len(self.lines) == n:
            self.lines.append(ind + "pass")

    def stmt(self, s: Any, ind: str) -> None:
        t = type(s)
        if t is Eqn:
            self.eqn_stmt(s, ind)
        elif t is If:
            self.if_stmt(s, ind)
        elif t is For:
            self.for_stmt(s, ind)
        elif t is While:
            self.while_stmt(s, ind)
        elif t is Break:
            self.line(ind, "break", s.loc)
        elif t is Continue:
            self.line(ind, "continue", s.loc)
        elif t is Return:
            v = s.value
            if self.in_return and s is self.func.body[-1]:
                self.lines += self.comments(ind, self.return_loc)
                lines = self.return_lines(v, ind)
                self.lines.append(f"{ind}return {lines[0]}")
                self.lines += lines[1:]
                return
            text = self.op(v) if type(v) is not tuple else "(" + ", ".join(
                self.op(x) if type(x) is not tuple else self.expr(x)[0] for x in v) + \
                ("," if len(v) == 1 else "") + ")"
            self.line(ind, f"return {text}", s.loc)

    def eqn_stmt(self, e: Eqn, ind: str) -> None:
        if e.outs and e.out in self.inline:
            return
        p = e.prim
        stmt = STMT.get(p)
        if stmt is not None:
            self.line(ind, stmt(self, e), e.loc)
            return
        if not e.outs:
            self.line(ind, self.eqn_expr(e)[0], e.loc)
            return
        if len(e.outs) > 1:
            names = ", ".join(o.name for o in e.outs)
            self.line(ind, f"{names} = {self.eqn_expr(e)[0]}", e.loc)
            return
        out = e.out
        if p == "copy" and e.args[0] is out:
            return
        if self.bare(e):
            what = "warns or raises" if (e.params or {}).get("flavor") == "numpy" or \
                p.startswith("np_") else "raises"
            note = "" if p in ("call", "callmethod") else \
                f"  # ({what} where the function {what})"       # (a call: as written)
            self.line(ind, f"{self.eqn_expr(e)[0]}{note}", e.loc)
            return
        if p == "add" and (e.params or {}).get("accum") and e.args[0] is out and \
                out.kind.find().tag != "array":
            self.line(ind, f"{out.name} += {self.op(e.args[1], TEST)}", e.loc)
            return
        self.line(ind, f"{out.name} = {self.eqn_expr(e)[0]}", e.loc)

    def bare(self, e: Eqn) -> bool:
        """Is ``e`` kept only to raise where the function raises (its value unused: a
        read :mod:`symgrad.raising` marks, a ``math.log``), or a call whose value nothing
        reads (``heapify(h)``, ``random.seed(0)``)?  Then it is printed as an expression
        statement, its value unnamed."""
        return len(e.outs) == 1 and self.uses.get(e.outs[0], 0) == 0 and (
            e.params is not None and e.params.get("may_raise", False)
            or e.prim in ("call", "callmethod")       # (heapify(h), random.seed(0))
            or getattr(rules.RULES.get(e.prim), "may_raise", False)) and e.prim not in STMT

    def if_stmt(self, s: If, ind: str) -> None:
        if not s.then and not s.orelse:
            return
        cond = self.op(s.cond, TEST)
        then, orelse = s.then, s.orelse
        if not then:
            cond = "not " + self.op(s.cond, NOT)
            then, orelse = orelse, []
        self.line(ind, f"if {cond}:", s.loc)
        self.block(then, ind + "    ")
        while len(orelse) == 1 and type(orelse[0]) is If and orelse[0].loc is s.loc \
                and orelse[0].then:
            inner = orelse[0]
            self.lines.append(f"{ind}elif {self.op(inner.cond, TEST)}:")
            self.block(inner.then, ind + "    ")
            orelse = inner.orelse
        if orelse:
            self.lines.append(f"{ind}else:")
            self.block(orelse, ind + "    ")

    def for_stmt(self, s: For, ind: str) -> None:
        if s.collect:
            self.map_stmt(s, ind)
            return
        rng = self.range_text(s.start, s.stop, s.step)
        if s.limit is not None:
            lim = self.op(s.limit)
            rng = f"{self.names.builtin('reversed')}({rng}[:{lim}])" if s.reverse \
                else f"{rng}[::-1][:{lim}][::-1]"
        elif s.reverse:
            rng = f"{self.names.builtin('reversed')}({rng})"
        self.line(ind, f"for {s.var.name} in {rng}:", s.loc)
        self.loops += 1
        self.block(s.body, ind + "    ")
        self.loops -= 1

    def map_stmt(self, s: For, ind: str) -> None:
        """A map loop (see :mod:`symgrad.maps`): a list comprehension per list it makes,
        over the elements its term reads (``zip`` of several) or over the range."""
        self.lines += self.comments(ind, s.loc)
        for lst, term in s.collect:
            e = self.inline[term]
            if s.elems:
                read = reads_through(e, self.inline)
                mine = [(v, seq) for v, seq in s.elems if v in read]
                names = ", ".join(v.name for v, _ in mine)
                seqs = [self.op(seq) for _, seq in mine]
                over = seqs[0] if len(seqs) == 1 else \
                    f"{self.names.builtin('zip')}({', '.join(seqs)})"
            else:
                names, over = s.var.name, self.range_text(s.start, s.stop, s.step)
            self.line(ind, f"{lst.name} = [{self.op(term, TEST)} for {names} in {over}]", e.loc)

    def range_text(self, start: Any, stop: Any, step: Any) -> str:
        rng = self.names.builtin("range")
        if type(step) is Const and step.value == 1:
            if type(start) is Const and start.value == 0:
                return f"{rng}({self.op(stop)})"
            return f"{rng}({self.op(start)}, {self.op(stop)})"
        return f"{rng}({self.op(start)}, {self.op(stop)}, {self.op(step)})"

    def while_stmt(self, s: While, ind: str) -> None:
        printed = [x for x in s.test if not (type(x) is Eqn and x.outs and x.out in self.inline)]
        self.loops += 1
        if not printed:
            self.line(ind, f"while {self.op(s.cond, TEST)}:", s.loc)
            self.block(s.body, ind + "    ")
        else:
            self.line(ind, "while True:", s.loc)
            self.block(s.test, ind + "    ")
            self.lines.append(f"{ind}    if not {self.op(s.cond, NOT)}:")
            self.lines.append(f"{ind}        break")
            self.block(s.body, ind + "    ")
        self.loops -= 1

    # ------------------------------------------------------------------ whole function
    def run(self) -> str:
        globals_, used_builtins = self.count()
        self.names.reserve_globals(globals_, used_builtins)
        self.shadow = shadow_lists(self.func.body)
        self.plan_inline(self.func.body)
        self.plan_return(self.func.body)
        self.name_vars()
        doc = self.doc
        if share_names(self) and doc:
            doc += " Its adjoints and temporaries share names (see symgrad.emit_slots)."
        params = [p.name for p in self.func.params]
        for k, p in enumerate(self.func.params):
            if p in self.func.defaults:
                params[k] = f"{p.name}={self.op(self.func.defaults[p])}"
        self.lines.append(f"def {self.fname}({', '.join(params)}):")
        if doc:
            self.lines.append(f'    """{doc}"""')
        if self.errstate:          # (as quiet as the function's np.errstate blocks)
            self.lines.append(f"    with {self.names.module('numpy')}.errstate({self.errstate}):")
            self.block(self.func.body, "        ")
        else:
            self.block(self.func.body, "    ")
        return "\n".join(self.lines) + "\n"


# --------------------------------------------------------------------------- helpers

def _builtins_of(e: Eqn) -> set[str]:
    p = e.prim
    if p in ("len", "range", "sum", "list"):
        return {p}
    if p in ("max_of", "min_of"):
        return {p[:3]}
    if p in ("zeros_like",):
        return {"len"}
    flavor = (e.params or {}).get("flavor")
    if flavor == "builtin" and p in rules.BUILTIN_SPELLING:
        return {rules.BUILTIN_SPELLING[p]}
    return set()


def _too_deep(blk: list, levels: int, loops: int) -> UnsupportedSyntaxError:
    loc = next((s.loc for s in walk(blk) if getattr(s, "loc", None) is not None), None)
    what = f"{loops} loops inside each other" if loops > MAX_LOOPS else \
        f"code nested {levels} blocks deep"
    return UnsupportedSyntaxError(
        f"{what}: more than Python compiles in one function (the gradient nests as deep "
        "as the function, with its inlined helpers and its recursive calls written out, "
        "one level each)", "flatten the nesting: a recursion over nested lists as a loop "
        "with a list of what is left to visit, a deep helper as a loop",
        loc.filename if loc else "<unknown>", loc.lineno if loc else 0, 0,
        loc.text if loc else "")


def _adjoint_name(v: Var) -> str:
    """The name of a variable made for another one (``d_x`` for the adjoint of ``x``)."""
    return v.hint + (v.base.name or "t").lstrip("_")


def _same_line(a: Any, b: Any) -> bool:
    """Two locations of one source line with the same comment (one comment is enough)."""
    return b is not None and a.lineno and a.lineno == b.lineno and a.filename == b.filename \
        and a.comment() == b.comment() and not a.header


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------- entry points

def emit(func: Func, top_globals: dict, fname: str, doc: str, errstate: str = "") -> Emitted:
    """Print ``func`` as Python source (see the module docstring); ``errstate``: the
    keywords of an ``np.errstate`` its body runs under (:mod:`symgrad.contexts`)."""
    pr = Printer(func, top_globals, fname, doc, errstate)
    source = pr.run()
    argdefs = []
    for p in func.params:
        d = func.defaults.get(p)
        if d is not None:
            argdefs.append(d.value if type(d) is Const else d.obj)
        elif argdefs:
            argdefs = []
    return Emitted(source, fname, top_globals, pr.names.freevars, pr.names.helpers,
                   tuple(argdefs), list(pr.names.global_names))


_counter = [0]


def compile_emitted(em: Emitted, label: str, source: str | None = None,
                    extra: dict[str, Any] | None = None) -> Any:
    """Compile emitted source into a function whose globals are the user's module and
    whose closure holds symgrad's names; register it in ``linecache``.  ``source``: a
    variant of ``em.source`` (the gradient with its argument check, see
    :func:`symgrad.entry.fused_source`) reading the values ``extra`` too."""
    _counter[0] += 1
    filename = f"<symgrad generated {label} #{_counter[0]}>"
    cellmap = dict(em.freevars)
    cellmap.update({k: types.CellType(v) for k, v in (extra or {}).items()})
    free = list(cellmap)
    source = em.source if source is None else source
    if free:
        head = f"def __symgrad_factory__({', '.join(free)}):\n"
        body = "".join("    " + line + "\n" if line else "\n"
                       for line in source.splitlines())
        text = head + body + f"    return {em.name}\n"
    else:
        text = source
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    code = compile(text, filename, "exec")
    if not free:
        fn_code = code.co_consts[_index_of_code(code, em.name)]
        return types.FunctionType(fn_code, em.globals, em.name, em.argdefs or None)
    factory = code.co_consts[_index_of_code(code, "__symgrad_factory__")]
    inner = factory.co_consts[_index_of_code(factory, em.name)]
    cells = tuple(cellmap[n] for n in inner.co_freevars)
    return types.FunctionType(inner, em.globals, em.name, em.argdefs or None, cells)


def _index_of_code(code: types.CodeType, name: str) -> int:
    for k, c in enumerate(code.co_consts):
        if isinstance(c, types.CodeType) and c.co_name == name:
            return k
    raise LookupError(name)
