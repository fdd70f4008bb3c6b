"""The ``stars`` family: calls with ``*`` arguments (``symgrad/lower_star.py``).

Python spreads a list into a call as the callee's signature takes it: exactly as many
items as fixed positional parameters are left (``def h(a, b)`` called ``h(*xs)``,
``h(x, *xs)``, ``h(*xs, y)``, or ``h(*xs, b=y)``, a keyword pinning the count), the rest
into a ``*args`` parameter (a tuple); two numbers at least for ``max(*xs)``.  A list of
another length raises (a ``TypeError``; a ``ValueError`` where ``zip(*rows)``'s columns are
unpacked; an ``IndexError`` where a body reads ``rest[0]`` of nothing).  Every mode of
symgrad must do the same.

The family's ``f`` takes, after the grammar's parameters, ``us`` (a list of 1-3 numbers),
sometimes ``vs`` (another) and ``rows`` (a list of 1-3 rows of 1-3 numbers), and mixes the
grammar's statements (branches, loops, lists, the grammar's helpers and the other
families) with (:class:`StarsWriter`):

* calls of helpers with fixed parameters: module functions ``hs..`` (sometimes
  decorated), the grammar's ``h1``/``h2`` (whose default ``c=0.5`` only a keyword may
  pin: ``h1(*S, c=e)``), functions nested in ``f`` (``def gs..``, reading ``f``'s names)
  and ``lambda pa1, pa2: ...``; called ``h(*S)``, ``h(e, *S)``, ``h(*S, e)``, ``h(e, *S,
  e)``, ``h(*S, pa2=e)`` (features ``stars.fixed_*``);
* calls of helpers with ``*args`` (``def hv..(pa, *rest, sk=0.5)``, ``def gs..(*rest)``,
  ``lambda *rst: ...``), whose bodies read ``len(rest)``, ``sum(rest)``, ``rest[0]``,
  ``rest[-1]``, ``rest[1:]``, ``rest + (e,)`` (a tuple), ``max(pa, *rest)``, loop over it
  or index it; called with one or two
  spread lists (``h(*S, *T)``), numbers before or after, a keyword-only argument
  (``stars.var_*``, ``stars.rest_*``);
* ``max(*S)``, ``min(e, *S)``, ``max(*S, *T)``, ``math.hypot(*S)``, ``math.atan2(*S)``,
  ``[e, *S, e]``, ``tuple(S)``, and ``zip(*T)`` of a list of rows, iterated (``for c in
  zip(*T)``, ``for a, b in zip(*T)``), unpacked (``c1, c2 = zip(*T)``) or listed
  (``list(zip(*T))``), and rows spread in a loop (``for r in rows: ... h(*r)``);

where ``S`` is a list whose length the generator knows at the nominal point: ``us``,
``vs``, a row of ``rows`` (``rows[0]``, ``r``), a slice (``us[1:]``, ``us[:2]``,
``us[::-1]``), a list made in ``f`` (``[e, *us, e]``, ``[w * e for w in vs]``), a tuple
(``t = (a, b)``, ``tuple(us)``, a column of ``zip(*rows)``) or a display (``*[a, b]``);
where the count does not matter, also the grammar's lists (``xs``, its own).

Points (:func:`star_point`): the nominal lengths or, half the time, one or two of the
family's lists of another length (a list shorter, longer or empty, a row more or fewer,
rows of another length); Python decides what raises.  Where it raises, every mode must
raise the same exception type (``test_fuzz.check_stars``); elsewhere the usual oracles.

Not generated: what symgrad refuses by design (a call whose binding depends on the
length: ``def h(a, b=0.5)`` called ``h(*S)``, two lists spread into fixed parameters,
``*S`` feeding named parameters with defaults before ``*args``), except with
``star_refusal`` (``test_fuzz``'s refusal test): then ``f`` makes one such call
(:meth:`StarsWriter.star_refused`) and every mode must refuse it with
:data:`REFUSED`.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from fuzz_families import ListInfo
from fuzz_oracles import map_leaves
from fuzz_raises import _shared
from symgrad import grad, hessian, hvp, jvp, value_and_grad, vjp
from symgrad.errors import UnsupportedSyntaxError

#: the family's parameters of ``f``, in its signature's order (all differentiated)
STAR_PARAMS = ("us", "vs", "rows")
#: what Python raises at the family's points (checked in every mode)
STARS_RAISES = (TypeError, ValueError, IndexError, UnboundLocalError)
#: symgrad's refusal of a call whose binding depends on the list's length
REFUSED = "starred argument whose length decides"


@dataclass
class StarHelper:
    """A function the family spreads lists into."""

    name: str
    params: list[str]               # its positional parameters
    vararg: bool = False            # it takes ``*rest``
    needs: int = 0                  # vararg: the fewest items ``rest`` may get (body: rest[0])
    kwonly: str | None = None       # vararg: a keyword-only parameter with a default
    default: bool = False           # fixed: the last parameter has a default


class StarsWriter:
    """The stars family's code (a mixin of ``fuzz_programs._Writer``).  The lists whose
    length it knows are in the scope (``ListInfo`` of owner ``readonly``: the grammar never
    writes them) and in ``star_len`` (ListInfo -> (nominal length, least length at any
    point, the parameter it comes from or None)); ``star_tables``: lists of rows, name ->
    (rows, columns at the nominal point, the parameter).  ``star_sensitive``: the
    parameters whose length a call relies on (the points change those most)."""

    def stars_begin(self, env: Any, refusal: bool = False) -> None:
        """The family's parameters of ``f`` in ``env``, and its module helpers."""
        self.star_on = False
        self.star_refusal = refusal
        self.star_len: dict[ListInfo, tuple[int, int, str | None]] = {}
        self.star_tables: dict[str, tuple[int, int, str | None]] = {}
        self.star_sensitive: set[str] = set()
        self.star_lens: dict[str, Any] = {}
        self.star_defs: list[str] = []
        self.star_helpers = [StarHelper(n, ["a", "b"][:k] + (["c"] if c else []), default=c)
                             for n, k, c in self.helpers]
        self.star_param(env, "us", self.draw(st.integers(1, 3)))
        if self.chance(50):
            self.star_param(env, "vs", self.draw(st.integers(1, 3)))
        if self.chance(40):
            shape = (self.pick([1, 2, 2, 3]), self.draw(st.integers(1, 3)))
            self.star_lens["rows"] = shape
            self.star_tables["rows"] = shape + ("rows",)
        if self.calls:
            for kind in self.pick([["fixed"], ["vararg"], ["fixed", "vararg"]]):
                name = self.fresh("hs" if kind == "fixed" else "hv")
                lines: list[str] = []
                info = self.star_def(name, kind, None, lines, "")
                deco = self.decorator_lines("helper") if info.params else []
                self.star_defs += [""] + deco + lines + [""]
                self.star_helpers.append(info)

    def star_param(self, env: Any, name: str, n: int) -> None:
        self.star_list(env, name, n, 0, name)
        self.star_lens[name] = n

    def star_list(self, env: Any, name: str, n: int, least: int, root: str | None) -> None:
        """Bind ``name`` in ``env``: a list or tuple of ``n`` items at the nominal point
        (``least`` at any point; ``root``: the parameter its length follows)."""
        info = ListInfo(n, owner="readonly")
        env.own_lists[name] = info
        self.star_len[info] = (n, least, root)

    def relied(self, root: str | None) -> None:
        """A call relies on the length of ``root`` (a parameter, or None)."""
        if root is not None:
            self.star_sensitive.add(root)

    def stars_signature(self) -> list[str]:
        return [p for p in STAR_PARAMS if p in self.star_lens]

    # ---------------------------------------------------------------- f's body
    def stars_body(self, env: Any, lines: list[str]) -> None:
        """``f``'s body: 1-3 statements of the family among the grammar's (which mix the
        family's expressions and statements in as well), and its return."""
        self.star_on = True
        params = list(env.scalars)
        n = self.pick([1, 2, 2, 3])
        refused_at = self.draw(st.integers(0, n - 1)) if self.star_refusal else -1
        for k in range(n):
            if self.chance(50):
                self.stmt(env, 0, True, None, lines, "    ")
            if k == refused_at:
                self.star_refused(env, lines)
            kinds = ["star_store", "star_store", "star_def", "star_list", "star_table"] + \
                self.star_table_kinds(env, 0)
            self.family_stmt(self.pick(kinds), env, 0, True, None, lines, "    ")
        if self.chance(30):
            self.stmt(env, 0, True, None, lines, "    ")
        ret = self.expr(env, self.draw(st.integers(1, 3)))
        tail = [v for v in env.scalars if v not in params]
        if tail:
            ret += " + " + " + ".join(tail[-3:])
        lines.append(f"    return {ret}")
        self.star_on = False

    # ---------------------------------------------------------------- grammar hooks
    def star_expr_kinds(self, env: Any) -> list[str]:
        if not getattr(self, "star_on", False) or self.in_helper:
            return []
        return ["star_builtin", "star_builtin"] + (["star_call", "star_call"]
                                                   if self.star_helpers else [])

    def star_expr(self, kind: str, env: Any, d: int) -> str:
        if kind == "star_call":
            h = self.pick(self.star_helpers)
            self.features.add("stars.call")
            if h.vararg:
                return self.star_var_call(env, h, d)
            return self.star_fixed_call(env, h, d)
        return self.star_builtin(env, d)

    def star_table_kinds(self, env: Any, depth: int) -> list[str]:
        if not self.loops or depth >= 2:
            return []
        return (["star_zip", "star_zip"] if self.star_tables or env.tables else []) + \
            (["star_rows"] if self.star_tables else [])

    def star_stmt_kinds(self, env: Any, depth: int, top: bool) -> list[str]:
        if not getattr(self, "star_on", False) or self.in_helper or self.in_closure:
            return []
        kinds = ["star_store"] + self.star_table_kinds(env, depth)
        if top:
            kinds += ["star_def", "star_list", "star_table"]
        return kinds

    def star_stmt(self, kind: str, env: Any, depth: int, top: bool, lines: list[str],
                  indent: str) -> None:
        if kind == "star_store":
            self.store(env, top, self.star_expr(self.pick(self.star_expr_kinds(env)), env, 1),
                       lines, indent)
        elif kind == "star_def":
            self.s_star_def(env, lines, indent)
        elif kind == "star_list":
            self.s_star_list(env, lines, indent)
        elif kind == "star_table":
            self.s_star_table(env, lines, indent)
        elif kind == "star_zip":
            self.s_star_zip(env, depth, top, lines, indent)
        else:
            self.s_star_rows(env, depth, top, lines, indent)

    # ---------------------------------------------------------------- lists to spread
    def star_sources(self, env: Any) -> list[tuple[str, int, int, str | None]]:
        """(expression, nominal length, least length, parameter) of the lists in scope
        whose length the family knows, and the first and last rows of its lists of rows."""
        out = [(name, *self.star_len[info]) for name, info in sorted(env.lists.items())
               if info in self.star_len]
        for t, (r, c, root) in sorted(self.star_tables.items()):
            if r >= 1:
                out += [(f"{t}[0]", c, 0, root), (f"{t}[-1]", c, 0, root)]
        return out

    def star_exact(self, env: Any, k: int, d: int) -> str:
        """A list (or tuple) of exactly ``k`` items at the nominal point."""
        opts: list[tuple[str, str, str | None]] = []
        for name, n, _, root in self.star_sources(env):
            if n == k:
                opts += [("name", name, root)] * 3 + [("rev", name, root), ("tuple", name, root)]
            if n > k:
                opts.append(("head", name, root))
            if n == k + 1:
                opts.append(("tail", name, root))
            if n + 1 == k:
                opts.append(("cons", name, root))
        how, name, root = self.pick(opts + [("display", "", None)])
        self.features.add(f"stars.src_{how}")
        self.relied(root)
        if how == "display":
            return "[" + ", ".join(self.expr(env, d) for _ in range(k)) + "]"
        if how == "cons":
            return f"[{self.expr(env, d)}, *{name}]"
        return {"name": name, "rev": f"{name}[::-1]", "tuple": f"tuple({name})",
                "head": f"{name}[:{k}]", "tail": f"{name}[1:]"}[how]

    def star_atleast(self, env: Any, k: int, d: int, nonempty: bool = False) -> str:
        """A list of ``k`` items or more at the nominal point (``nonempty``: one at least at
        every point); the grammar's lists too."""
        opts: list[tuple[str, str, str | None]] = []
        for name, n, least, root in self.star_sources(env):
            if n >= k and (least or not nonempty):
                opts += [("name", name, root)] * 2
            if n + 1 >= k:
                opts.append(("cons", name, root if n + 1 == k else None))
        if not nonempty:
            opts += [("grammar", name, None) for name, info in sorted(env.lists.items())
                     if info not in self.star_len and self.least_length(info) >= k]
        how, name, root = self.pick(opts + [("display", "", None)])
        self.features.add(f"stars.src_{how}")
        if k:
            self.relied(root)
        if how == "display":
            m = self.draw(st.integers(max(k, 1 if nonempty else 0), max(k, 1) + 1))
            return "[" + ", ".join(self.expr(env, d) for _ in range(m)) + "]"
        if how == "cons":
            return f"[{self.expr(env, d)}, *{name}]"
        return name

    @staticmethod
    def least_length(info: ListInfo) -> int:
        """A grammar list's length at the nominal point, at least (``xs``: one)."""
        return info.length if isinstance(info.length, int) else 1

    # ---------------------------------------------------------------- helpers
    def star_def(self, name: str, kind: str, env: Any, lines: list[str],
                 indent: str) -> StarHelper:
        """``def name(...)`` with fixed parameters or ``*rest`` (``env``: the scope of
        ``f`` it is nested in, None for a module function)."""
        params = [self.fresh("pa") for _ in range(self.pick([1, 2, 2, 3] if kind == "fixed"
                                                             else [0, 1, 1, 2]))]
        info = StarHelper(name, params, vararg=kind != "fixed")
        header = list(params)
        rest = self.fresh("rest")
        if info.vararg:
            info.needs = self.pick([0, 1])
            info.kwonly = self.fresh("sk") if self.chance(40) else None
            header += [f"*{rest}"] + ([f"{info.kwonly}=0.5"] if info.kwonly else [])
        body: list[str] = []
        names = params + ([info.kwonly] if info.kwonly else [])
        if not names:                   # (def h(*rest): a number of its own to compute with)
            names = [self.fresh("pa")]
            body.append(f"{indent}    {names[0]} = {self.pick(['len', 'sum'])}({rest}) * 0.5")
        scope = env.closure_scope(names) if env is not None else self.Env.root(names)
        if info.needs:
            scope.own_lists[rest] = ListInfo(info.needs, owner="readonly")
        saved = self.in_helper
        self.in_helper = env is None
        self.in_closure += env is not None
        self.block(scope, self.draw(st.integers(0, 2)), 0, True, None, body, indent + "    ")
        terms = [self.expr(scope, self.draw(st.integers(1, 2)))]
        if info.vararg:
            terms.append(self.rest_read(scope, info, rest, body, indent + "    "))
        self.in_helper = saved
        self.in_closure -= env is not None
        lines.append(f"{indent}def {name}({', '.join(header)}):")
        lines += body + [f"{indent}    return {' + '.join(terms)}"]
        return info

    def rest_read(self, scope: Any, info: StarHelper, rest: str, body: list[str],
                  indent: str) -> str:
        """A term reading ``rest`` (a body's ``*args``), perhaps after a loop over it."""
        forms = ["len", "sum", "squares", "concat", "tail"] + \
            (["loop", "index_loop"] if self.loops else [])
        if info.needs:
            forms += ["first", "first", "last"] + (["max", "max"] if self.branches else [])
        form = self.pick(forms)
        self.features.add(f"stars.rest_{form}")
        e, r = self.expr(scope, 1), self.fresh("r")
        if form in ("loop", "index_loop"):
            s = self.fresh("s")
            body.append(f"{indent}{s} = {e}")
            if form == "loop":
                body.append(f"{indent}for {r} in {rest}:")
                inner = scope.child(scalars_ro=[r])
            else:
                body.append(f"{indent}for {r} in range(len({rest})):")
                inner = scope.child(scalars_ro=[f"{rest}[{r}]"], ints=[r])
            body.append(f"{indent}    {s} = {s} * 0.5 + {inner.own_scalars[0]} * "
                        f"{self.expr(inner, 1)}")
            return s
        if form == "max":
            self.features.add("kink")
            return f"{self.pick(['max', 'min'])}({(info.params or [e])[0]}, *{rest})"
        return {"len": f"len({rest}) * {e}", "sum": f"sum({rest}) * {e}",
                "squares": f"sum({r} * {r} for {r} in {rest})", "first": f"{rest}[0] * {e}",
                "last": f"{rest}[-1] * {e}", "concat": f"sum({rest} + ({e},))",
                "tail": f"sum({rest}[1:]) * {e}"}[form]

    def s_star_def(self, env: Any, lines: list[str], indent: str) -> None:
        """A helper nested in ``f`` (a ``def`` or a lambda), sometimes called at once."""
        name = self.fresh("gs")
        kind = self.pick(["fixed", "vararg", "lambda"])
        self.features.add(f"stars.nested_{kind}")
        if kind == "lambda":
            info = self.star_lambda(env, name, lines, indent)
        else:
            info = self.star_def(name, kind, env, lines, indent)
        self.star_helpers.append(info)
        if self.chance(60):
            call = self.star_var_call(env, info, 1) if info.vararg else \
                self.star_fixed_call(env, info, 1)
            self.store(env, True, call, lines, indent)

    def star_lambda(self, env: Any, name: str, lines: list[str], indent: str) -> StarHelper:
        """``name = lambda *rst: ...`` or ``name = lambda pa1, pa2: ...`` (reading ``f``'s
        names when it is called)."""
        self.in_closure += 1
        if self.chance(50):
            t = self.fresh("rst")
            info = StarHelper(name, [], vararg=True, needs=self.pick([0, 1]))
            e, w = self.expr(env, 1), self.fresh("w")
            body = self.pick([f"sum({t}) * {e}", f"len({t}) + {e}",
                              f"sum({w} * {e} for {w} in {t})"] +
                             ([f"{t}[0] * {e}", f"{t}[-1] + {t}[0] * {e}"] if info.needs
                              else []))
            header = f"*{t}"
        else:
            params = [self.fresh("pa") for _ in range(self.pick([1, 2, 2]))]
            info = StarHelper(name, params)
            body = f"{self.expr(env.closure_scope(params), 2)} + {params[0]} * {params[-1]}"
            header = ", ".join(params)
        self.in_closure -= 1
        lines.append(f"{indent}{name} = lambda {header}: {body}")
        return info

    # ---------------------------------------------------------------- calls
    def star_fixed_call(self, env: Any, h: StarHelper, d: int) -> str:
        """A call of ``h`` (fixed parameters) with one list spread: as many items as the
        parameters left take at the nominal point (a keyword pins the count)."""
        p = len(h.params)
        if h.default:
            forms = ["pin", "pin_before"] if p >= 2 else ["pin"]
        else:
            forms = ["all", "all", "before", "after"] + (["around", "pin"] if p >= 2 else [])
        form = self.pick(forms)
        self.features.add(f"stars.fixed_{form}")
        k = p - {"all": 0, "before": 1, "after": 1, "pin": 1, "around": 2, "pin_before": 2}[form]
        args = []
        if form in ("before", "around", "pin_before"):
            args.append(self.expr(env, d))
        args.append("*" + self.star_exact(env, k, d))
        if form in ("after", "around"):
            args.append(self.expr(env, d))
        if form.startswith("pin"):
            args.append(f"{h.params[-1]}={self.expr(env, d)}")
        return f"{h.name}({', '.join(args)})"

    def star_var_call(self, env: Any, h: StarHelper, d: int) -> str:
        """A call of ``h`` (``*rest``) with one or two lists spread, numbers before or
        after: at least as many items as it needs at the nominal point."""
        k = len(h.params) + h.needs
        form = self.pick(["spread", "spread", "before", "two", "two", "around"] +
                         (["kw"] if h.kwonly else []))
        self.features.add(f"stars.var_{form}")
        args = []
        if form in ("before", "around"):
            args.append(self.expr(env, d))
            k = max(k - 1, 0)
        if form == "around":
            k = max(k - 1, 0)
        if form == "two":
            a = self.draw(st.integers(0, k))
            args += ["*" + self.star_atleast(env, a, d), "*" + self.star_atleast(env, k - a, d)]
        else:
            args.append("*" + self.star_atleast(env, k, d))
        if form == "around":
            args.append(self.expr(env, d))
        if h.kwonly and (form == "kw" or self.chance(20)):
            args.append(f"{h.kwonly}={self.expr(env, d)}")
        return f"{h.name}({', '.join(args)})"

    def star_builtin(self, env: Any, d: int) -> str:
        """``max``/``min``, ``math.hypot``, ``math.atan2`` of spread lists, a list display
        with ``*``, ``tuple(S)``, a sum over ``zip(*T)`` or over rows spread into calls."""
        forms = ["display", "display", "hypot", "atan2", "tuple"] + \
            (["max", "max"] if self.branches else []) + \
            (["zipsum", "rowsum"] if self.star_tables else [])
        form = self.pick(forms)
        self.features.add(f"stars.{form}")
        if form == "max":
            self.features.add("kink")
            mm, how = self.pick(["max", "min"]), self.pick(["all", "before", "after", "two"])
            if how == "all":
                return f"{mm}(*{self.star_atleast(env, 2, d)})"
            if how == "two":
                return f"{mm}(*{self.star_atleast(env, 1, d)}, *{self.star_atleast(env, 1, d)})"
            e, s = self.expr(env, d), self.star_atleast(env, 1, d)
            return f"{mm}({e}, *{s})" if how == "before" else f"{mm}(*{s}, {e})"
        if form == "hypot":
            if self.chance(50):             # (empty too: Python's hypot() is 0.0)
                return f"math.hypot(*{self.star_atleast(env, 0, d)})"
            e, s = self.expr(env, d), self.star_atleast(env, 0, d)
            return self.pick([f"math.hypot({e}, *{s})", f"math.hypot(*{s}, {e})"])
        if form == "atan2":
            if self.chance(70):
                return f"math.atan2(*{self.star_exact(env, 2, d)})"
            e, s = self.expr(env, d), self.star_exact(env, 1, d)
            return self.pick([f"math.atan2({e}, *{s})", f"math.atan2(*{s}, 1.5 + {e} * {e})"])
        if form == "tuple":
            s, how = self.star_atleast(env, 1, d), self.pick(["first", "last", "sum"])
            if how == "sum":
                return f"(sum(tuple({s})) * {self.expr(env, d)})"
            return f"tuple({s})[{'0' if how == 'first' else '-1'}]"
        if form == "zipsum":
            return self.zip_sum(env, d)
        if form == "rowsum":                # (a row spread in a generator expression)
            t, r, inner = self.pick(sorted(self.star_tables)), self.fresh("row"), env.child()
            call = self.row_call(inner, t, r)
            return f"sum({call} * {self.expr(inner, d)} for {r} in {t})"
        s, how = self.star_atleast(env, 0, d), self.pick(["sum", "len", "genexp"])
        a, b = self.expr(env, d), self.expr(env, d)
        if how == "sum":
            return f"sum([{a}, *{s}, {b}])"
        if how == "len":
            return f"(len([*{s}, {a}]) * {b})"
        w = self.fresh("w")
        return f"sum({w} * {self.expr(env.child(scalars_ro=[w]), d)} for {w} in [{a}, *{s}])"

    def zip_sum(self, env: Any, d: int) -> str:
        """A sum over the columns of a list of rows."""
        t = self.pick(sorted(self.star_tables))
        r, _, root = self.star_tables[t]
        if r == 2 and self.chance(50):
            self.relied(root)
            a, b = self.fresh("a"), self.fresh("b")
            return f"sum({a} * {b} for {a}, {b} in zip(*{t}))"
        c = self.fresh("col")
        return f"sum({c}[0] * {c}[-1] for {c} in zip(*{t}))"

    # ---------------------------------------------------------------- statements
    def s_star_list(self, env: Any, lines: list[str], indent: str) -> None:
        """A list or tuple made in ``f`` whose length the family knows (from another)."""
        form = self.pick(["display", "display", "tuple_items", "tuple_of", "slice", "comp"])
        name = self.fresh("t" if form.startswith("tuple") else "L")
        if form == "tuple_items":
            self.features.add(f"stars.list_{form}")
            k = self.pick([1, 2, 2, 3])
            items = [self.expr(env, 1) for _ in range(k)]
            lines.append(f"{indent}{name} = ({', '.join(items)}{',' if k == 1 else ''})")
            self.star_list(env, name, k, k, None)
            return
        src, n, least, root = self.pick(self.star_sources(env))
        if form == "slice" and n < 1:
            form = "comp"
        self.features.add(f"stars.list_{form}")
        if form == "display":
            a, b = self.expr(env, 1), self.expr(env, 1)
            lines.append(f"{indent}{name} = [{a}, *{src}, {b}]")
            n, least = n + 2, least + 2
        elif form == "tuple_of":
            lines.append(f"{indent}{name} = tuple({src})")
        elif form == "slice":
            lines.append(f"{indent}{name} = {src}[1:]")
            n, least = n - 1, max(least - 1, 0)
        else:
            w = self.fresh("w")
            e = self.expr(env.child(scalars_ro=[w]), 1)
            lines.append(f"{indent}{name} = [{w} * {e} for {w} in {src}]")
        self.star_list(env, name, n, least, root)

    def s_star_table(self, env: Any, lines: list[str], indent: str) -> None:
        """A list of 1-3 rows of ``c`` items each at the nominal point."""
        self.features.add("stars.table")
        name, r, c = self.fresh("RW"), self.pick([1, 2, 2, 3]), self.pick([1, 2, 2, 3])
        rows = [self.star_exact(env, c, 1) for _ in range(r)]
        lines.append(f"{indent}{name} = [{', '.join(rows)}]")
        self.star_tables[name] = (r, c, None)

    def star_acc(self, env: Any, top: bool, lines: list[str], indent: str) -> str:
        """A variable a loop adds into: new at the top level, else one of the scope's."""
        if top or not env.assignable:
            s = self.fresh("s")
            lines.append(f"{indent}{s} = {self.pick(['0.0', self.expr(env, 1)])}")
            env.add_scalar(s)
            return s
        return self.pick(env.assignable)

    def s_star_zip(self, env: Any, depth: int, top: bool, lines: list[str],
                   indent: str) -> None:
        """The columns of a list of rows: ``for c in zip(*T)``, ``for a, b in zip(*T)``,
        ``c1, c2 = zip(*T)``, ``cl = list(zip(*T))``."""
        tables = [(t, rc) for t, rc in sorted(self.star_tables.items())] + \
            [(t, None) for t in sorted(env.tables)]
        t, rc = self.pick(tables)
        # (a list of rows made here is the writer's until f ends: made at the top level)
        forms = ["loop", "loop"] + (["unpack_loop", "unpack_loop", "unpack"] if rc else []) + \
            (["list"] if rc and top else [])
        form = self.pick(forms)
        self.features.add(f"stars.zip_{form}")
        if form != "loop":
            self.relied(rc[2])
        if form in ("unpack", "list"):
            self.star_columns(env, t, rc, form, lines, indent)
            return
        acc = self.star_acc(env, top, lines, indent)
        inner = env.child()
        if form == "loop":
            c = self.fresh("col")
            lines.append(f"{indent}for {c} in zip(*{t}):")
            inner.own_scalars += [f"{c}[0]", f"{c}[-1]"]
            if rc:                      # (a column: a tuple of r items)
                self.star_list(inner, c, rc[0], 0, rc[2])
            read = f"{c}[{self.pick(['0', '-1'])}]"
        else:
            names = [self.fresh("cz") for _ in range(rc[0])]
            target = ", ".join(names) + ("," if len(names) == 1 else "")
            lines.append(f"{indent}for {target} in zip(*{t}):")
            inner.own_scalars += names
            read = " * ".join(names)
        lines.append(f"{indent}    {acc} = {acc} + {read} * {self.expr(inner, 1)}")
        if self.chance(40):
            self.block(inner, 1, depth + 1, False, "for", lines, indent + "    ")

    def star_columns(self, env: Any, t: str, rc: tuple, form: str, lines: list[str],
                     indent: str) -> None:
        """``c1, c2 = zip(*T)`` (each column a tuple the family may spread) or ``cl =
        list(zip(*T))`` (a list of rows again), then read."""
        r, c, root = rc
        e = self.expr(env, 1)
        if form == "unpack":
            names = [self.fresh("cz") for _ in range(c)]
            target = ", ".join(names) + ("," if c == 1 else "")
            lines.append(f"{indent}{target} = zip(*{t})")
            for name in names:
                self.star_list(env, name, r, 0, root)
            value = f"sum({names[0]}) * {e} + {names[-1]}[-1]"
        else:
            name = self.fresh("cl")
            lines.append(f"{indent}{name} = list(zip(*{t}))")
            self.star_tables[name] = (c, r, root)
            value = f"{name}[0][0] * {e} + len({name})"
        self.store(env, True, value, lines, indent)

    def s_star_rows(self, env: Any, depth: int, top: bool, lines: list[str],
                    indent: str) -> None:
        """``for r in T:`` each row spread into a call that takes its ``c`` items."""
        t = self.pick(sorted(self.star_tables))
        acc = self.star_acc(env, top, lines, indent)
        r, inner = self.fresh("row"), env.child()
        call = self.row_call(inner, t, r)
        self.features.add("stars.rows_loop")
        lines.append(f"{indent}for {r} in {t}:")
        lines.append(f"{indent}    {acc} = {acc} + {call} * {self.expr(inner, 1)}")
        if self.chance(40):
            self.block(inner, 1, depth + 1, False, "for", lines, indent + "    ")

    def row_call(self, inner: Any, t: str, r: str) -> str:
        """A call of ``r``, a row of ``t`` bound in ``inner``, spread: into a helper, a
        builtin that takes its ``c`` items, or with a number (the row may be empty)."""
        _, c, root = self.star_tables[t]
        self.star_list(inner, r, c, 0, root)
        calls = [h.name for h in self.star_helpers
                 if (len(h.params) == c and not h.default and not h.vararg)
                 or (h.vararg and len(h.params) + h.needs <= c)]
        calls += ["sum", "math.hypot"] + (["math.atan2"] if c == 2 else []) + \
            (["max", "min"] if c >= 2 and self.branches else [])
        fn = self.pick(calls)
        if fn in ("max", "min"):
            self.features.add("kink")
        if fn == "sum":
            return f"sum([{self.expr(inner, 1)}, *{r}])"
        if fn == "math.hypot":
            return f"math.hypot({self.expr(inner, 1)}, *{r})"
        self.relied(root)
        return f"{fn}(*{r})"

    def star_refused(self, env: Any, lines: list[str]) -> None:
        """A call whose binding depends on the list's length (symgrad refuses it)."""
        form = self.pick(["default", "two_fixed", "vararg_default"])
        self.features.add(f"stars.refused_{form}")
        name = self.fresh("hd")
        # (lists known only when f runs: a display or a tuple of items is spread while the
        # code is made, and binds as Python binds it)
        s = self.pick([n for n in ("us", "vs") if n in env.lists])
        if form == "default":
            defaults = [h for h in self.star_helpers if h.default]
            if defaults and self.chance(50):
                name = self.pick(defaults).name
            else:
                self.star_defs += ["", f"def {name}(a, b=0.5):", "    return a * b + a", ""]
            call = f"{name}(*{s})"
        elif form == "two_fixed":
            self.star_defs += ["", f"def {name}(a, b):", "    return a * b - b", ""]
            call = f"{name}(*{s}[:1], *{self.pick(['us', s])}[-1:])"
        else:
            self.star_defs += ["", f"def {name}(a, b=0.5, *rest):",
                               "    return a * b + sum(rest)", ""]
            call = f"{name}(*{s})"
        self.store(env, True, call, lines, "    ")


# ---------------------------------------------------------------------- the points

def star_point(draw: Any, lens: dict[str, Any], sensitive: list[str],
               source: str) -> dict[str, Any]:
    """The family's arguments: lists of their nominal lengths or, half the time, one
    or two of them of another length (:func:`_resized`), mostly of those whose length a
    call relies on (``sensitive``).  (The choice is offset by a hash of the ``source``, as
    ``fuzz_raises.raise_point`` does: Hypothesis draws 0 far more often than its
    share.)"""
    salt = zlib.crc32(source.encode())
    shapes: dict[str, Any] = {name: ([n[1]] * n[0] if name == "rows" else n)
                              for name, n in lens.items()}
    names = sorted(shapes)
    if sensitive and (draw(st.integers(0, 4)) + salt) % 5:
        names = list(sensitive)
    if (draw(st.integers(0, 1)) + salt // 7) % 2:
        for k in draw(st.lists(st.integers(0, len(names) - 1), min_size=1, max_size=2)):
            name = names[(k + salt // 5) % len(names)]
            shapes[name] = _resized(draw, shapes[name])

    def num() -> float:
        return draw(st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False))
    return {name: [[num() for _ in range(c)] for c in shape] if name == "rows"
            else [num() for _ in range(shape)] for name, shape in shapes.items()}


def _resized(draw: Any, shape: Any) -> Any:
    """A list's length (an int) or a list of rows' row lengths, changed."""
    if isinstance(shape, int):
        return draw(st.sampled_from([m for m in (0, shape - 1, shape + 1, shape + 2)
                                     if m >= 0 and m != shape]))
    how = draw(st.sampled_from(["more", "fewer", "empty", "one_row", "all_rows"]))
    if not shape:                         # (resized twice: empty, then a row)
        return [draw(st.integers(0, 3))]
    if how == "more":
        return shape + [shape[0]]
    if how == "fewer" and len(shape) > 1:
        return shape[:-1]
    if how == "one_row":
        k = draw(st.integers(0, len(shape) - 1))
        return [_resized(draw, c) if j == k else c for j, c in enumerate(shape)]
    if how == "all_rows":
        c = _resized(draw, shape[0])
        return [c] * len(shape)
    return []


# ---------------------------------------------------------------------- the oracle's parts

def star_python_raises(f: Any, args: list) -> BaseException | None:
    """What ``f`` raises at ``args`` among :data:`STARS_RAISES` (None where it returns;
    an arithmetic error: the point is discarded)."""
    try:
        f(*copy.deepcopy(args))
    except STARS_RAISES as exc:
        return exc
    except ArithmeticError:
        assume(False)
    return None


def star_modes(f: Any, prog: Any, x: list, wrt: list[str]) -> dict:
    """Each mode's call of ``f`` at ``x``: ``grad``, ``value_and_grad``, ``vjp``,
    ``jvp`` (tangents 1.0 for the numbers of ``wrt``, zeros for the others; not where
    a list is met twice in the arguments), and ``hessian`` and ``hvp`` when ``wrt`` are
    numbers and lists of numbers."""
    cp = copy.deepcopy
    t = tuple(map_leaves(a, lambda u, on=p in wrt: 1.0 if on else
                         0 if isinstance(u, int) else 0.0) for p, a in zip(prog.params, x))
    calls = {"grad": lambda: grad(f, wrt=wrt)(*cp(x)),
             "value_and_grad": lambda: value_and_grad(f, wrt=wrt)(*cp(x)),
             "vjp": lambda: vjp(f, *cp(x))[1](1.0)}
    if _shared(x):
        return calls
    calls["jvp"] = lambda: jvp(f, tuple(cp(x)), t)
    if all(p in prog.scalars or p in ("xs", "us", "vs") for p in wrt) and \
            "globals.acc" not in prog.features:      # (hvp refuses that: see README)
        v = tuple(t[prog.params.index(p)] for p in wrt)
        calls["hessian"] = lambda: hessian(f, wrt=wrt)(*cp(x))
        calls["hvp"] = lambda: hvp(f, tuple(cp(x)), v, wrt=wrt)
    return calls


def refusal_failure(f: Any, prog: Any, args: list, wrt: list[str]) -> str | None:
    """What is wrong with the modes' answers to ``f`` (a program made with
    ``star_refusal``: a call symgrad refuses by design) at ``args``: None when each of
    :func:`star_modes` raises ``UnsupportedSyntaxError`` naming it (:data:`REFUSED`) or,
    where Python raises, the exception Python raises (``vjp`` runs ``f`` before it is
    transformed)."""
    python = star_python_raises(f, args)
    for what, thunk in star_modes(f, prog, args, wrt).items():
        try:
            out = thunk()
        except UnsupportedSyntaxError as exc:
            if REFUSED not in str(exc):
                return f"{what} refused for another reason: {exc}"
            continue
        except Exception as exc:
            if python is None or type(exc) is not type(python):
                return f"{what} raised {type(exc).__name__}: {exc}"
            continue
        if what == "jvp" and not _numbers_in(args, prog, wrt) and python is None and \
                _is_zero_tangent(out, f, args):
            continue     # (nothing differentiated: wrt holds only empty lists, and jvp's
            #              zero tangents leave the refused call undifferentiated)
        return f"{what} returned {out!r}"
    return None


def _numbers_in(args: list, prog: Any, wrt: list[str]) -> bool:
    """Do the arguments of ``wrt`` hold a number (not only empty lists)?"""
    return any(_leaf_count(a) for p, a in zip(prog.params, args) if p in wrt)


def _leaf_count(a: Any) -> int:
    return sum(map(_leaf_count, a)) if isinstance(a, (list, tuple)) else 1


def _is_zero_tangent(out: Any, f: Any, args: list) -> bool:
    """``out`` is ``(f(args), a zero tangent)``."""
    value, tangent = out
    return value == f(*copy.deepcopy(args)) and all(
        t == 0 for t in (tangent if isinstance(tangent, (list, tuple)) else [tangent]))
