"""The ``resize`` family: loops that change the length of the list they walk.

Python's list iterator reads the list's length again at every step: items a loop appends
are visited too, a list made shorter ends the loop early, ``reversed(xs)`` walks down from
the last index while the index is one of the list's, ``zip`` stops at the shortest of its
lists as they are at each step, and ``zip(*rows)`` reads each row's next item as the loop
reaches it.  symgrad models this (``tests/test_lists_resized_in_loops.py``); the family
checks it on random programs.

Its ``f`` takes, after the grammar's parameters, ``rs`` (a list of 1-3 numbers) and
sometimes ``qs`` (another) and ``rows`` (1-3 rows of 1-3 numbers), all differentiated,
and mixes the grammar's statements (branches, loops, closures, ...) with
(:class:`ResizeWriter`):

* lists of its own (``ws = [e, e]``, ``list(rs)``, ``rs[:]``, ``[w * e for w in rs]``,
  ``rs + [e]``), lists of rows (``tb = [list(rs), [e, e]]``), aliases (``al = rs``),
  closures that resize a list they capture (``def push(t): rs.append(t)``, one guarded
  inside, ``def drop(): return rs.pop(0)``);
* loops walking one of them: ``for v in L``, ``for i, v in enumerate(L)``, ``for v in
  reversed(L)``, ``for a, b in zip(L, M)``, ``for col in zip(*T)``, ``for r in T``,
  at the top level or nested in the grammar's ``if`` / ``for`` / ``while`` (and the
  grammar's statements nested in them), whose body adds ``v * e`` into a variable the
  result reads, and grows or shrinks the walked list (or a row of ``T``, or ``T``) through
  the list, an alias, a module helper (``grow(lst, v)``, ``grow_front``, ``grow_to(lst,
  v, n)``, ``shrink``, ``shrink_to(lst, n)``, ``take``) or a closure: ``append``,
  ``insert(0, ..)``, ``L[len(L):] = [..]``, ``L[:0] = [..]``, ``L += [..]``,
  ``extend``, ``pop()``, ``pop(0)``, ``del L[k]``, ``del L[:1]``, ``clear()``, and
  writes into items the loop has not reached yet (``L[-1] = ..``, ``L[i + 1]``,
  ``T[0][-1]``); items appended are functions of the loop's value and ``f``'s numbers;
* reads after the loops (``sum(L)``, ``len(L)``, ``L[0] if L else e``) and in the
  grammar's expressions.

Every growth is guarded (``if len(L) < N:`` with N <= 6, or a counter), so every loop
ends.  Shrinks and item writes are safe where the generator knows the list holds an
item (the walked list at its step), guarded otherwise (``if L:``, ``if len(L) > k:``),
except in a third of the programs (``rz_risky``), where some guards are left out and
``L[0]`` is read after the loops: there Python raises ``IndexError`` at some points.

Points (:func:`resize_point`): the nominal lengths or, two times in five, one list of
another length (empty, one item fewer or more; a row more or fewer), and sometimes
``qs`` passed as ``rs`` itself or ``rows[0]`` as ``rs``.  Where Python raises
(:data:`RESIZE_RAISES`), every mode must raise the same (``test_fuzz.check_stars`` with
:func:`resize_python_raises` and :func:`resize_modes`); elsewhere the usual oracles.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from fuzz_oracles import map_leaves
from fuzz_raises import _shared
from fuzz_stars import _resized
from symgrad import grad, hessian, hvp, jvp, value_and_grad, vjp

#: the family's parameters of ``f``, in its signature's order (all differentiated)
RESIZE_PARAMS = ("rs", "qs", "rows")
#: what Python raises at the family's points (checked in every mode)
RESIZE_RAISES = (IndexError, UnboundLocalError)

#: module helpers (name -> variants of their body, one drawn per program)
HELPERS = {
    "grow": ["def grow(lst, v):\n    lst.append(v)",
             "def grow(lst, v):\n    lst[len(lst):] = [v]",
             "def grow(lst, v):\n    lst += [v]",
             "def grow(lst, v):\n    lst.extend([v])"],
    "grow_front": ["def grow_front(lst, v):\n    lst.insert(0, v)",
                   "def grow_front(lst, v):\n    lst[:0] = [v]"],
    "grow_to": ["def grow_to(lst, v, n):\n    if len(lst) < n:\n        lst.append(v)"],
    "shrink": ["def shrink(lst):\n    lst.pop()", "def shrink(lst):\n    del lst[:1]",
               "def shrink(lst):\n    del lst[-1]", "def shrink(lst):\n    lst.pop(0)",
               "def shrink(lst):\n    del lst[len(lst) - 1]", "def shrink(lst):\n    lst.pop(-1)"],
    "shrink_to": ["def shrink_to(lst, n):\n    while len(lst) > n:\n        lst.pop()",
                  "def shrink_to(lst, n):\n    if len(lst) > n:\n        del lst[n:]"],
    "take": ["def take(lst):\n    return lst.pop(0)", "def take(lst):\n    return lst.pop()"],
}
GROW = ["append", "append", "insert0", "slice_end", "slice_front", "aug", "extend",
        "grow", "grow_front", "grow_to", "push", "push"]
SHRINK = ["pop", "pop", "pop0", "pop_use", "del0", "del_last", "del1", "del_slice",
          "clear", "shrink", "shrink_to", "take", "drop"]


class ResizeWriter:
    """The resize family's code (a mixin of ``fuzz_programs._Writer``).  ``rz_lists``:
    the family's lists in scope, name -> the name of the list object (aliases share it);
    ``rz_tables``: its lists of rows; ``rz_closures``: object -> [(closure, kind)];
    ``rz_lens``: the parameters' nominal lengths (``rows``: (rows, columns))."""

    def resize_begin(self, env: Any) -> None:
        """The family's parameters of ``f``."""
        self.rz_on = False
        self.rz_risky = self.chance(40)
        self.rz_lens: dict[str, Any] = {"rs": self.draw(st.integers(1, 3))}
        self.rz_lists: dict[str, str] = {"rs": "rs"}
        self.rz_tables: list[str] = []
        self.rz_closures: dict[str, list[tuple[str, str]]] = {}
        self.rz_defs: list[str] = []
        self.rz_accs: list[str] = []
        self.rz_counters: list[str] = []     # (set to 0 at f's top: they bound f's call)
        if self.chance(50):
            self.rz_lens["qs"] = self.draw(st.integers(1, 3))
            self.rz_lists["qs"] = "qs"
        if self.chance(40):
            self.rz_lens["rows"] = (self.pick([1, 2, 2, 3]), self.draw(st.integers(1, 3)))
            self.rz_tables.append("rows")

    def resize_signature(self) -> list[str]:
        return [p for p in RESIZE_PARAMS if p in self.rz_lens]

    def resize_body(self, env: Any, lines: list[str]) -> None:
        """``f``'s body: 1-3 of the family's statements among the grammar's (which nest the
        family's loops too), at least one loop, and a return reading the accumulators."""
        self.rz_on = True
        params = list(env.scalars)
        start = len(lines)
        for _ in range(self.pick([1, 2, 2, 3])):
            if self.chance(40):
                self.stmt(env, 0, True, None, lines, "    ")
            kinds = ["rz_loop", "rz_loop", "rz_loop", "rz_list", "rz_alias", "rz_closure"] + \
                (["rz_table"] if not self.rz_tables or self.chance(30) else [])
            self.resize_stmt(self.pick(kinds), env, 0, True, lines, "    ")
        if "resize.loop" not in self.features:
            self.resize_stmt("rz_loop", env, 0, True, lines, "    ")
        if self.chance(30):
            self.stmt(env, 0, True, None, lines, "    ")
        if self.rz_risky:           # (a read of an item after the loops: IndexError if none)
            self.store(env, True, self.resize_expr("rz_first" if self.chance(60) else "rz_read",
                                                   env, 2), lines, "    ")
        elif self.chance(60):
            self.rz_after(env, True, lines, "    ")
        ret = self.expr(env, self.draw(st.integers(1, 3)))
        tail = [v for v in env.scalars if v not in params and v not in self.rz_accs]
        reads = [] if self.chance(40) else (    # (else a list may reach nothing: moved only)
            [f"sum({p}) * 0.5" for p in ("rs", "qs") if p in self.rz_lens]
            + (["sum(sum(r) for r in rows) * 0.5"] if "rows" in self.rz_lens else []))
        ret = " + ".join([ret] + self.rz_accs + tail[-3:] + reads)
        lines.append(f"    return {ret}")
        lines[start:start] = [f"    {k} = 0" for k in self.rz_counters]
        self.rz_on = False

    # ---------------------------------------------------------------- grammar hooks
    def resize_stmt_kinds(self, env: Any, depth: int, top: bool) -> list[str]:
        if not getattr(self, "rz_on", False) or self.in_helper or self.in_closure:
            return []
        return (["rz_loop", "rz_loop"] if depth < 2 else []) + ["rz_after"]

    def resize_expr_kinds(self, env: Any) -> list[str]:
        if not getattr(self, "rz_on", False) or self.in_helper:
            return []
        return ["rz_read"]

    def resize_stmt(self, kind: str, env: Any, depth: int, top: bool, lines: list[str],
                    indent: str) -> None:
        if kind == "rz_loop":
            self.s_rz_loop(env, depth, top, lines, indent)
        elif kind == "rz_after":
            self.rz_after(env, top, lines, indent)
        elif kind == "rz_list":
            self.s_rz_list(env, lines, indent)
        elif kind == "rz_table":
            self.s_rz_table(env, lines, indent)
        elif kind == "rz_alias":
            src = self.pick(sorted(self.rz_lists))
            name = self.fresh("al")
            self.features.add("resize.alias")
            lines.append(f"{indent}{name} = {src}")
            self.rz_lists[name] = self.rz_lists[src]
        else:
            self.s_rz_closure(env, lines, indent)

    def resize_expr(self, kind: str, env: Any, d: int) -> str:
        """A read of one of the family's lists (safe at any length but in risky
        programs)."""
        name = self.pick(sorted(self.rz_lists))
        e = self.expr(env, max(d - 1, 0))
        forms = ["sum", "len", "last", "genexp"] + (["first"] * 3 if self.rz_risky else [])
        form = "first" if kind == "rz_first" else self.pick(forms)
        self.features.add(f"resize.read_{form}")
        w = self.fresh("w")
        return {"sum": f"sum({name}) * {e}", "len": f"len({name}) * {e}",
                "last": f"({name}[-1] if {name} else {e})", "first": f"{name}[0] * {e}",
                "genexp": f"sum({w} * {e} for {w} in {name})"}[form]

    # ---------------------------------------------------------------- lists
    def s_rz_list(self, env: Any, lines: list[str], indent: str) -> None:
        """A list of the family's made in ``f`` (at the top level)."""
        name, src = self.fresh("ws"), self.pick(sorted(self.rz_lists))
        form = self.pick(["display", "copy", "slice", "comp", "concat"])
        self.features.add(f"resize.list_{form}")
        w = self.fresh("w")
        value = {"display": lambda: "[" + ", ".join(self.expr(env, 1) for _ in range(
                     self.pick([1, 2, 2, 3]))) + "]",
                 "copy": lambda: f"list({src})", "slice": lambda: f"{src}[:]",
                 "comp": lambda: f"[{w} * {self.expr(env.child(scalars_ro=[w]), 1)} "
                                 f"for {w} in {src}]",
                 "concat": lambda: f"{src} + [{self.expr(env, 1)}]"}[form]()
        lines.append(f"{indent}{name} = {value}")
        self.rz_lists[name] = name

    def s_rz_table(self, env: Any, lines: list[str], indent: str) -> None:
        """A list of rows made in ``f``: copies of the family's lists and displays."""
        self.features.add("resize.table")
        rows = []
        for _ in range(self.pick([1, 2, 2, 3])):
            if self.chance(50):
                rows.append(f"list({self.pick(sorted(self.rz_lists))})")
            else:
                rows.append("[" + ", ".join(self.expr(env, 1) for _ in range(
                    self.pick([1, 2, 3]))) + "]")
        name = self.fresh("tb")
        lines.append(f"{indent}{name} = [{', '.join(rows)}]")
        self.rz_tables.append(name)

    def s_rz_closure(self, env: Any, lines: list[str], indent: str) -> None:
        """A closure resizing a list it captures: ``push(t)`` (appends; guarded inside or
        not) or ``drop()`` (pops and returns the item)."""
        name = self.pick(sorted(self.rz_lists))
        kind = self.pick(["push", "pushg", "drop"])
        fn = self.fresh({"push": "push", "pushg": "push", "drop": "drop"}[kind])
        self.features.add(f"resize.closure_{kind}")
        if kind == "drop":
            body = [f"return {name}.pop({self.pick(['', '0'])})"]
        else:
            grow = self.pick([f"{name}.append(t)", f"{name}[len({name}):] = [t]",
                              f"{name}.insert(0, t)", f"{name}.extend([t])"])
            body = [f"if len({name}) < {self.draw(st.integers(2, 6))}:", f"    {grow}"] \
                if kind == "pushg" else [grow]
        lines.append(f"{indent}def {fn}({'' if kind == 'drop' else 't'}):")
        lines += [f"{indent}    {b}" for b in body]
        self.rz_closures.setdefault(self.rz_lists[name], []).append((fn, kind))

    def rz_after(self, env: Any, top: bool, lines: list[str], indent: str) -> None:
        """A read of a list's contents after the loops, kept in a variable."""
        self.store(env, top, self.resize_expr("rz_read", env, 2), lines, indent)

    def rz_helper(self, name: str) -> str:
        """``name``, a module helper, defined once."""
        if not any(d.startswith(f"def {name}(") for d in self.rz_defs):
            self.rz_defs.append(self.pick(HELPERS[name]))
        self.features.add(f"resize.helper_{name}")
        return name

    # ---------------------------------------------------------------- the loops
    def s_rz_loop(self, env: Any, depth: int, top: bool, lines: list[str],
                  indent: str) -> None:
        """A loop walking a list (or the rows or the columns of a list of rows) that its
        body resizes, adding the loop's value times an expression into a variable."""
        forms = ["for", "for", "enumerate", "reversed"] + \
            (["zip", "zip"] if len(self.rz_lists) >= 2 else []) + \
            (["zipstar", "zipstar", "rows"] if self.rz_tables else [])
        form = self.pick(forms)
        self.features.add("resize.loop")
        self.features.add(f"resize.loop_{form}")
        acc = self.star_acc(env, top, lines, indent)
        if top:
            self.rz_accs.append(acc)
        step = self.rz_walk(form, env)
        body: list[str] = []
        ops = [self.rz_op_kind(step) for _ in range(self.pick([1, 1, 2, 2, 3]))]
        at = self.draw(st.integers(0, len(ops)))
        for k, kind in enumerate(ops + ["acc"]):
            if k == at:
                body.append(f"{acc} = {acc} + {step['value']} * {self.expr(step['env'], 1)}")
            if kind != "acc":
                self.rz_op(step, kind, acc, body)
        lines.append(f"{indent}{step['header']}")
        lines += [f"{indent}    {b}" for b in body]
        if self.chance(35):
            self.block(step["env"], 1, depth + 1, False, "for", lines, indent + "    ")

    def rz_obj(self, target: str) -> str:
        """The list object ``target`` names (a row ``T[0]`` or ``T[-1]``: ``T[]``)."""
        return self.rz_lists.get(target) or (target.split("[")[0] + "[]" if "[" in target
                                             else target)

    def rz_walk(self, form: str, env: Any) -> dict[str, Any]:
        """The loop's header, its scope, its value, the lists the body may resize
        (``targets``), and ``safe``: list object -> items it holds for sure at the step's
        start (the walked list holds the item the step reads)."""
        names = sorted(self.rz_lists)
        if form in ("zipstar", "rows"):
            t = self.pick(self.rz_tables)
            if form == "rows":
                r = self.fresh("r")
                inner = env.child(scalars_ro=[f"sum({r})"])
                return dict(header=f"for {r} in {t}:", env=inner, value=f"sum({r})",
                            targets=[t, t, r], safe={t: 1}, walked=t, index=None)
            c = self.fresh("col")
            inner = env.child(scalars_ro=[f"{c}[0]", f"{c}[-1]"])
            return dict(header=f"for {c} in zip(*{t}):", env=inner,
                        value=f"{c}[{self.pick(['0', '-1'])}]", targets=[f"{t}[0]", f"{t}[-1]"],
                        safe={f"{t}[]": 1}, walked=f"{t}[0]", index=None)
        ell = self.pick(names)
        same = [n for n in names if self.rz_lists[n] == self.rz_lists[ell]]
        if form == "zip":
            m = self.pick([n for n in names if n != ell])
            a, b = self.fresh("a"), self.fresh("b")
            inner = env.child(scalars_ro=[a, b])
            return dict(header=f"for {a}, {b} in zip({ell}, {m}):", env=inner, value=f"{a} * {b}",
                        targets=same + [m], safe={self.rz_lists[ell]: 1, self.rz_lists[m]: 1},
                        walked=ell, index=None)
        v = self.fresh("v")
        others = [self.pick(names)] if self.chance(25) else []
        if form == "enumerate":
            i = self.fresh("i")
            return dict(header=f"for {i}, {v} in enumerate({ell}):", value=v, index=i,
                        env=env.child(scalars_ro=[v], ints=[i]), targets=same + others,
                        safe={self.rz_lists[ell]: 1}, walked=ell)
        how = f"reversed({ell})" if form == "reversed" else ell
        return dict(header=f"for {v} in {how}:", env=env.child(scalars_ro=[v]), value=v,
                    targets=same + others, safe={self.rz_lists[ell]: 1}, walked=ell,
                    index=None)

    def rz_op_kind(self, step: dict[str, Any]) -> str:
        kinds = GROW * 3 + SHRINK * 2 + ["write_last", "write_last", "write_first", "read_last"]
        if step["index"] is not None:
            kinds += ["write_next", "write_next", "read_at"]
        return self.pick(kinds)

    def rz_item(self, step: dict[str, Any], target: str) -> str:
        """An item to put in ``target``: a function of the loop's value and ``f``'s
        numbers (a row of them for a list of rows)."""
        e = self.expr(step["env"], 1)
        v = step["value"]
        item = self.pick([f"{v} * math.sin({e})", f"0.5 * {v} + math.tanh({e})",
                          f"math.tanh({v} * {e})", f"{v} + {e}"])
        if target in self.rz_tables:
            return f"[{item}, {self.expr(step['env'], 1)}]" if self.chance(60) else f"[{item}]"
        return item

    def rz_op(self, step: dict[str, Any], kind: str, acc: str, body: list[str]) -> None:
        """One statement of the loop's body: a growth, a shrink, or a write or read of an
        item, of one of the step's targets."""
        target = self.pick(step["targets"])
        if kind in ("write_next", "read_at"):
            target = step["walked"]
        if kind in GROW:
            self.rz_grow(step, kind, target, body)
        elif kind in SHRINK:
            self.rz_shrink(step, kind, target, acc, body)
        else:
            self.rz_write(step, kind, target, acc, body)

    def rz_guarded(self, guard: str | None, stmt: list[str], body: list[str]) -> None:
        if guard is None:
            body += stmt
        else:
            body += [f"if {guard}:"] + [f"    {s}" for s in stmt]

    def rz_counter(self) -> tuple[str, str]:
        """A counter set to 0 at ``f``'s top (not before the loop: a loop walking the
        list around it would take it back each time): (its test, its increment)."""
        k = self.fresh("cnt")
        self.rz_counters.append(k)
        return f"{k} < {self.pick([1, 2, 2, 3])}", f"{k} += 1"

    def rz_grow(self, step: dict[str, Any], kind: str, target: str, body: list[str]) -> None:
        """A growth of ``target``, bounded: under ``if len(target) < N`` or a counter, or
        through a helper or closure that tests the length itself."""
        obj = self.rz_obj(target)
        pushes = [c for c in self.rz_closures.get(obj, []) if c[1] != "drop"]
        if kind == "push" and not pushes:
            kind = "append"
        item = self.rz_item(step, target)
        self.features.add(f"resize.grow_{kind}")
        n = self.draw(st.integers(2, 6))
        if kind == "push":
            fn, how = self.pick(pushes)
            stmt, bounded = f"{fn}({item})", how == "pushg"
        elif kind == "grow_to":
            stmt, bounded = f"{self.rz_helper('grow_to')}({target}, {item}, {n})", True
        elif kind in ("grow", "grow_front"):
            stmt, bounded = f"{self.rz_helper(kind)}({target}, {item})", False
        elif kind == "extend":
            stmt, bounded = f"{target}.extend([{item}, {self.rz_item(step, target)}])", False
        else:
            stmt, bounded = {
                "append": f"{target}.append({item})", "insert0": f"{target}.insert(0, {item})",
                "slice_end": f"{target}[len({target}):] = [{item}]",
                "slice_front": f"{target}[:0] = [{item}]", "aug": f"{target} += [{item}]"}[kind], \
                False
        if bounded:
            body.append(stmt)
        elif self.chance(25):
            test, inc = self.rz_counter()
            self.features.add("resize.counter")
            self.rz_guarded(test, [inc, stmt], body)
        else:
            self.rz_guarded(f"len({target}) < {n}", [stmt], body)

    def rz_need(self, step: dict[str, Any], target: str, need: int) -> str | None:
        """The guard a statement needing ``need`` items of ``target`` takes (None: the
        generator knows they are there, or a risky program leaves it out)."""
        obj = self.rz_obj(target)
        have = step["safe"].get(obj, 0)
        if have >= need or need == 0:
            return None
        if self.rz_risky and self.chance(70):
            self.features.add("resize.risky")
            return None
        if need == 1 and self.chance(50):     # (the list's truth, tested again by nothing)
            self.features.add("resize.truth_guard")
            return target
        return f"len({target}) > {need - 1}"

    def rz_shrink(self, step: dict[str, Any], kind: str, target: str, acc: str,
                  body: list[str]) -> None:
        """A shrink of ``target``: unguarded where the items it takes are there for
        sure, else guarded (not always in a risky program)."""
        obj = self.rz_obj(target)
        drops = [c for c in self.rz_closures.get(obj, []) if c[1] == "drop"]
        if kind == "drop" and not drops:
            kind = "pop_use"
        self.features.add(f"resize.shrink_{kind}")
        e = self.expr(step["env"], 1)
        need = {"del1": 2, "del_slice": 0, "clear": 0, "shrink_to": 0}.get(kind, 1)
        num = "sum({})" if target in self.rz_tables else "{}"    # (a row taken: its sum)
        if kind == "shrink":
            stmt = f"{self.rz_helper('shrink')}({target})"
        elif kind == "shrink_to":
            stmt = f"{self.rz_helper('shrink_to')}({target}, {self.pick([1, 2])})"
        elif kind == "take":
            stmt = f"{acc} = {acc} + {num.format(self.rz_helper('take') + f'({target})')} * {e}"
        elif kind == "drop":
            stmt = f"{acc} = {acc} + {self.pick(drops)[0]}() * {e}"
        elif kind == "pop_use":
            taken = num.format(f"{target}.pop({self.pick(['', '0', '-1'])})")
            stmt = f"{acc} = {acc} + {taken} * {e}"
        elif kind == "del_slice":
            stmt = f"del {target}[{self.pick([':1', '-1:'])}]"
        else:
            stmt = {"pop": f"{target}.pop()", "pop0": f"{target}.pop(0)",
                    "del0": f"del {target}[0]",
                    "del_last": self.pick([f"del {target}[-1]", f"{target}.pop(-1)",
                                           f"del {target}[len({target}) - 1]"]),
                    "del1": self.pick([f"del {target}[1]", f"del {target}[-2]"]), "clear": f"{target}.clear()"}[kind]
        guard = self.rz_need(step, target, need)
        if kind == "clear":              # (a loop that clears its list at every step: one step)
            if self.branches and self.chance(60):
                guard = self.cond(step["env"], 1)
                self.features.add("if")
            elif self.chance(50):
                guard, inc = self.rz_counter()
                stmt = f"{stmt}\n{inc}"
        self.rz_guarded(guard, stmt.split("\n"), body)
        have = step["safe"].get(obj, 0)
        step["safe"][obj] = 0 if kind in ("clear", "shrink_to") else max(have - max(need, 1), 0)

    def rz_write(self, step: dict[str, Any], kind: str, target: str, acc: str,
                 body: list[str]) -> None:
        """A write into an item the loop has not reached yet (``L[-1]``, ``L[i + 1]``,
        ``T[0][-1]``) or one it has (``L[0]``), or a read of one."""
        self.features.add(f"resize.{kind}")
        e = self.expr(step["env"], 1)
        i = step["index"]
        if kind == "write_next":
            body += [f"if {i} + 1 < len({target}):",
                     f"    {target}[{i} + 1] = 0.5 * {target}[{i} + 1] + math.tanh({e})"]
            return
        if kind == "read_at":
            stmt = f"{acc} = {acc} + {target}[{i}] * {e}"
            guard = None if self.rz_risky and self.chance(50) or \
                step["safe"].get(self.rz_obj(target), 0) >= 1 else f"{i} < len({target})"
            self.rz_guarded(guard, [stmt], body)
            return
        at = "0" if kind == "write_first" else "-1"
        if kind == "read_last":
            stmt = f"{acc} = {acc} + {target}[-1] * {e}" if target not in self.rz_tables \
                else f"{acc} = {acc} + sum({target}[-1]) * {e}"
        elif target in self.rz_tables:
            stmt = f"{target}[{at}] = {self.rz_item(step, target)}"
        else:
            op = self.pick(["=", "=", "+=", "*="])
            rhs = {"=": self.rz_item(step, target), "+=": e,
                   "*=": f"(0.5 + 0.5 * math.sin({e}))"}[op]
            stmt = f"{target}[{at}] {op} {rhs}"
        self.rz_guarded(self.rz_need(step, target, 1), [stmt], body)


# ---------------------------------------------------------------------- the points

def resize_point(draw: Any, lens: dict[str, Any], source: str) -> dict[str, Any]:
    """The family's arguments: lists of their nominal lengths or, two times in five, one
    of them of another length (``fuzz_stars._resized``: empty, an item fewer or more; a
    row more or fewer, rows of another length); one time in ten ``qs`` is ``rs`` itself,
    or ``rows[0]`` is.  (The choices are offset by a hash of the ``source``, as
    ``fuzz_stars.star_point`` does.)"""
    salt = zlib.crc32(source.encode())
    shapes: dict[str, Any] = {name: ([n[1]] * n[0] if name == "rows" else n)
                              for name, n in lens.items()}
    names = sorted(shapes)
    if (draw(st.integers(0, 4)) + salt) % 5 < 2:
        name = names[(draw(st.integers(0, len(names) - 1)) + salt // 5) % len(names)]
        shapes[name] = _resized(draw, shapes[name])

    def num() -> float:
        return draw(st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False))
    args = {name: [[num() for _ in range(c)] for c in shape] if name == "rows"
            else [num() for _ in range(shape)] for name, shape in shapes.items()}
    if "qs" in args and (draw(st.integers(0, 9)) + salt // 11) % 10 == 0:
        args["qs"] = args["rs"]
    if args.get("rows") and (draw(st.integers(0, 9)) + salt // 13) % 10 == 0:
        args["rows"][0] = args["rs"]
    return args


# ---------------------------------------------------------------------- the oracle's parts

def resize_python_raises(f: Any, args: list) -> BaseException | None:
    """What ``f`` raises at ``args`` among :data:`RESIZE_RAISES` (None where it returns;
    an arithmetic error, or a math function's domain error (``math.sin`` of a value grown
    to ``inf`` in a loop): the point is discarded)."""
    try:
        f(*copy.deepcopy(args))
    except RESIZE_RAISES as exc:
        return exc
    except ArithmeticError:
        assume(False)
    except ValueError as exc:
        if "math domain error" not in str(exc):
            raise
        assume(False)
    return None


def resize_modes(f: Any, prog: Any, x: list, wrt: list[str]) -> dict:
    """Each mode's call of ``f`` at ``x`` (as ``fuzz_stars.star_modes``): ``grad``,
    ``value_and_grad``, ``vjp``, ``jvp`` (not where a list is met twice in the
    arguments), and ``hessian`` and ``hvp`` when ``wrt`` are numbers and lists of
    numbers."""
    cp = copy.deepcopy
    t = tuple(map_leaves(a, lambda u, on=p in wrt: 1.0 if on else
                         0 if isinstance(u, int) else 0.0) for p, a in zip(prog.params, x))
    calls = {"grad": lambda: grad(f, wrt=wrt)(*cp(x)),
             "value_and_grad": lambda: value_and_grad(f, wrt=wrt)(*cp(x)),
             "vjp": lambda: vjp(f, *cp(x))[1](1.0)}
    if _shared(x):
        return calls
    calls["jvp"] = lambda: jvp(f, tuple(cp(x)), t)
    if all(p in prog.scalars or p in ("xs", "rs", "qs") for p in wrt) and \
            "globals.acc" not in prog.features:      # (hvp refuses that: see README)
        v = tuple(t[prog.params.index(p)] for p in wrt)
        calls["hessian"] = lambda: hessian(f, wrt=wrt)(*cp(x))
        calls["hvp"] = lambda: hvp(f, tuple(cp(x)), v, wrt=wrt)
    return calls
