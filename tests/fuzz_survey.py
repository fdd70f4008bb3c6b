"""Survey: how today's symgrad fares on each program family, and minimal failing programs.

    python tests/fuzz_survey.py closures -n 300 --shrink 4 [--seed 1] [--json out.json]

For a family (or ``none``/``all``), runs the checks of ``test_fuzz.check_program`` on
``-n`` programs of that family alone (``fuzz.programs(families=...)``), counting passes
and the first failed check of each program by category (``oracle``, ``refused``,
``crash``, ``exception``, ``wrong value``, ``wrong gradient``, ...).  Then, for up to
``--shrink`` distinct kinds of failure (category plus the message's first words), lets
Hypothesis find and shrink a failing program *that contains the family's constructs*,
and prints it.  Not a test: nothing here fails; it reports.
"""
from __future__ import annotations

import argparse
import ast
import collections
import copy
import dataclasses
import json
import os
import re
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis.errors import HypothesisDeprecationWarning  # noqa: E402
from hypothesis.internal.conjecture import engine  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import fuzz  # noqa: E402
import fuzz_families  # noqa: E402
import test_fuzz  # noqa: E402

QUIET = dict(database=None, deadline=None, print_blob=False, report_multiple_bugs=False,
             suppress_health_check=list(HealthCheck))


def signature(exc: test_fuzz.Mismatch) -> str:
    """The kind of failure: category and the message without numbers, paths and names."""
    msg = str(exc).split("\n")[0]
    msg = re.sub(r'File "[^"]*", line \d+, column \d+: ', "", msg)
    if exc.category.startswith("wrong"):
        msg = msg.split(":")[0]
    msg = re.sub(r"'[^']*'", "'_'", msg)
    msg = re.sub(r"[-+]?\d[\d.e+-]*", "N", msg)
    return msg[:110]


#: a feature's trace in the source, kept while :func:`simplify` deletes statements
MARKERS = {
    "closures.nonlocal": r"nonlocal ", "closures.default": r"def g\d+\([^)]*s=",
    "closures.branches": r"else:\n\s+def ", "closures.late": r"def g\d+",
    "closures.read": r"def g\d+", "aliases.alias": r"\by\d+ = ",
    "aliases.table": r"\] \* len\(xs\)", "aliases.nest": r"R\d+\.append",
    "aliases.row": r"row\d+ = ", "aliases.for_row": r"for r\d+ in ",
    "aliases.rowswap": r"\], (\w+)\[.*\] = \1\[", "aliases.append_alias": r"y\d+\.append",
    "aliases.write_arg": r"\bxs\[[^]]*\] [-+*]?= ", "boolops.or": r" or ",
    "boolops.and": r" and ", "boolops.idiom": r" and .* or ", "boolops.not": r"\bnot ",
    "kwbuiltins.key": r"key=", "kwbuiltins.default": r"default=",
    "kwbuiltins.sorted": r"sorted\(", "kwbuiltins.sum_start": r"sum\(.*, (start=)?[-\w(]",
    "decorators.f": r"@.*\ndef f\(", "decorators.helper": r"@.*\ndef _?h\d",
    "globals.read": r"\bGL?\d\b", "globals.loop": r"for g\d+ in GL",
    "raises.branch": r"\bif c\d+ [<>] ", "raises.walrus": r":= ",
    "raises.loop_after": r"\bfor .* in (zs|range\(m\)|zip\(zs|enumerate\(zs)",
    "raises.subscript": r"\bzs\[|\bR\[1\]\[0\]|\bD\[['\"]k['\"]\]|\bTABLE\[k\]",
    "raises.loop_prev": r"if i\d+ > 0:", "raises.prev_unguarded": r"\bpv\d+ = ",
    "raises.for_else": r"break\n\s+else:", "raises.while_true": r"while True:",
    "raises.branch_all": r"\n\s+else:\n\s+(z\d+ = |return )", "raises.helper": r"def hr\d+\(",
}


def count(fams: frozenset[str], family: str, n: int, seed_: int) -> dict:
    """Run ``n`` programs; tally outcomes (all programs, and those using ``family``), and
    per kind of failure the family features of the failing programs."""
    stats: collections.Counter = collections.Counter()
    kinds: collections.Counter = collections.Counter()
    feats: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

    @seed(seed_)
    @settings(max_examples=n, **QUIET)
    @given(prog=fuzz.programs(families=fams), data=st.data())
    def run(prog, data):
        uses = family in prog.families or family in ("all", "none")
        outcome = "passed"
        try:
            test_fuzz.check_program(prog, data, with_sympy=prog.sympy_ok)
        except test_fuzz.Mismatch as exc:
            outcome = f"failed: {exc.category}"
            if uses:
                kinds[signature(exc)] += 1
                feats[signature(exc)].update(f for f in prog.features if f in MARKERS)
        stats["checked"] += 1
        stats[outcome] += 1
        if uses:
            stats["uses family: checked"] += 1
            stats[f"uses family: {outcome}"] += 1
    t0 = time.time()
    run()
    return {"stats": dict(stats), "kinds": dict(kinds.most_common()),
            "features": {k: dict(v.most_common()) for k, v in feats.items()},
            "seconds": round(time.time() - t0, 1)}


def targets(result: dict, limit: int) -> list[tuple[str, str | None]]:
    """What to shrink: each kind of failure, then, for variety, (kind, feature) pairs of
    the kinds that are not refusals (a refusal names its construct already)."""
    out: list[tuple[str, str | None]] = [(k, None) for k in result["kinds"]]
    for kind in result["kinds"]:
        if not kind.startswith("[refused]"):
            out += [(kind, f) for f in result["features"].get(kind, {})]
    return out[:limit]


def shrink(fams: frozenset[str], family: str, kind: str, feature: str | None, n: int,
           seed_: int) -> dict | None:
    """A minimal failing program of this kind (with this feature), or None if none found:
    Hypothesis's shrink, then :func:`simplify`."""
    last: dict = {}

    @seed(seed_)
    @settings(max_examples=n, **QUIET)
    @given(prog=fuzz.programs(families=fams), data=st.data())
    def run(prog, data):
        uses = family in prog.families or family in ("all", "none")
        try:
            test_fuzz.check_program(prog, data, with_sympy=prog.sympy_ok)
        except test_fuzz.Mismatch as exc:
            if uses and signature(exc) == kind and (feature is None
                                                    or feature in prog.features):
                last.update(prog=prog, args=test_fuzz.LAST.get("args"),
                            wrt=test_fuzz.LAST.get("wrt"), changes=test_fuzz.LAST.get("changes"))
                raise
    try:
        run()
    except test_fuzz.Mismatch:
        prog = simplify(last["prog"], last, kind, MARKERS.get(feature or ""))
        exc = fails_with(prog, last, kind)
        return dict(kind=kind, feature=feature, source=prog.source, args=last["args"],
                    wrt=last["wrt"], changes=last["changes"], message=str(exc)[:700])
    return None


def fails_with(prog: fuzz.Program, replay: dict, kind: str = "") -> test_fuzz.Mismatch | None:
    """How ``prog`` fails at the replayed point (None: it passes, is invalid or skipped).
    For a refusal or an exception only f's run, the transformation and the call are
    redone (quicker: no references)."""
    try:
        with fuzz.time_budget(10.0):     # deleting a loop counter's increment loops forever
            return _fails_with(prog, replay, kind)
    except fuzz.OutOfTime:
        return None


def _fails_with(prog: fuzz.Program, replay: dict, kind: str) -> test_fuzz.Mismatch | None:
    try:
        if kind.startswith(("[refused]", "[exception]", "[crash]")):
            mod = fuzz.load(prog.source)
            test_fuzz.run_python(mod, copy.deepcopy(replay["args"]))
            g = test_fuzz.build(mod.f, replay["wrt"])
            test_fuzz.build(mod.f, replay["wrt"], with_value=True)
            test_fuzz.call(g, replay["args"])
        if prog.raises and test_fuzz.check_raises(prog, copy.deepcopy(replay["args"]),
                                                  replay["wrt"]):
            return None
        test_fuzz.check_at(prog, copy.deepcopy(replay["args"]), replay["wrt"], prog.sympy_ok,
                           lambda: copy.deepcopy(replay["changes"]))
    except test_fuzz.Mismatch as exc:
        return exc
    except Exception:            # invalid program, skipped point (assume), ...
        return None
    return None


def _bodies(tree: ast.AST) -> list[list[ast.stmt]]:
    return [body for node in ast.walk(tree) for name in ("body", "orelse")
            if isinstance(body := getattr(node, name, None), list) and body
            and isinstance(body[0], ast.stmt)]


def _variant(prog: fuzz.Program, tree: ast.AST, replay: dict, kind: str,
             marker: str | None) -> fuzz.Program | None:
    """``tree`` as a program, if it is valid, still shows ``marker`` and still fails with
    ``kind``."""
    try:
        src = ast.unparse(tree) + "\n"
        compile(src, "<candidate>", "exec")
    except (SyntaxError, ValueError):
        return None
    if marker and not re.search(marker, src):
        return None
    glob = {k: v for k, v in prog.globals.items() if re.search(rf"\b{k}\b", src)}
    cand = dataclasses.replace(prog, source=src, globals=glob)
    exc = fails_with(cand, replay, kind)
    return cand if exc is not None and signature(exc) == kind else None


def simplify(prog: fuzz.Program, replay: dict, kind: str, marker: str | None) -> fuzz.Program:
    """After Hypothesis's shrink: delete statements, then replace expressions by one of
    their operands, while the program still fails the same way at the same point."""
    tree = ast.parse(prog.source)
    best = _delete_statements(prog, tree, replay, kind, marker)
    return _lift_operands(best, ast.parse(best.source), replay, kind, marker)


class _Swap(ast.NodeTransformer):
    def __init__(self, old: ast.AST, new: ast.AST):
        self.old, self.new, self.hit = old, new, False

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.old:
            self.hit = True
            return self.new
        return super().visit(node)


#: the operands an expression may be replaced by (never a call's function, a subscript's
#: list or a comparison's sides: that would change types, not simplify)
_LIFTABLE = {ast.BinOp: ("left", "right"), ast.UnaryOp: ("operand",), ast.Call: ("args",),
             ast.IfExp: ("body", "orelse"), ast.BoolOp: ("values",)}


def _operand_swaps(tree: ast.AST) -> list[tuple[ast.expr, ast.expr]]:
    """(expression, one of its operands) pairs outside the decorators' definitions."""
    skip = {id(n) for d in ast.walk(tree) if isinstance(d, ast.FunctionDef)
            and d.name in fuzz_families.DECORATORS for n in ast.walk(d)}
    out = []
    for node in ast.walk(tree):
        if id(node) in skip or type(node) not in _LIFTABLE:
            continue
        for name in _LIFTABLE[type(node)]:
            value = getattr(node, name)
            out += [(node, v) for v in (value if isinstance(value, list) else [value])
                    if not isinstance(v, ast.Starred)]
    return out


def _lift_operands(prog: fuzz.Program, tree: ast.AST, replay: dict, kind: str,
                   marker: str | None, budget: int = 250) -> fuzz.Program:
    """Replace an expression by one of its operands (``math.sin(a + b)`` -> ``a + b`` ->
    ``a``), greedily, in rounds over the program, at most ``budget`` tries."""
    best = prog
    progress = True
    while progress and budget > 0:
        progress = False
        done: set[int] = set()
        for node, child in _operand_swaps(tree):
            if id(node) in done or budget <= 0:
                continue
            swap = _Swap(node, child)
            tree = swap.visit(tree)
            if not swap.hit:                   # inside an expression lifted away
                continue
            budget -= 1
            cand = _variant(prog, tree, replay, kind, marker)
            if cand is not None:
                best, progress = cand, True
                done.add(id(node))         # detached from the tree now
            else:
                tree = _Swap(child, node).visit(tree)
    return best


def _delete_statements(prog: fuzz.Program, tree: ast.AST, replay: dict, kind: str,
                       marker: str | None) -> fuzz.Program:
    """Delete statements (unused helpers, decorators, globals, dead assignments) one at a
    time, innermost and last first, in rounds over the program."""
    best = prog
    progress = True
    while progress:
        progress = False
        for body in reversed(_bodies(tree)):
            for k in reversed(range(len(body))):
                if k >= len(body):
                    continue
                saved, alone = body[k], len(body) == 1
                if isinstance(saved, ast.Return) or alone and isinstance(saved, ast.Pass):
                    continue
                if alone:
                    body[0] = ast.Pass()
                else:
                    del body[k]
                cand = _variant(prog, tree, replay, kind, marker)
                if cand is not None:
                    best, progress = cand, True
                elif alone:
                    body[0] = saved
                else:
                    body.insert(k, saved)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("family")
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--shrink", type=int, default=4, help="minimal programs to look for")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default="", help="shrink only kinds containing this text")
    ap.add_argument("--json")
    opts = ap.parse_args()
    warnings.simplefilter("ignore", HypothesisDeprecationWarning)
    # Hypothesis gives up shrinking after 5 minutes; big programs get there, and
    # simplify() finishes the job, so stop it sooner (an internal knob of Hypothesis)
    engine.MAX_SHRINKING_SECONDS = 45
    fams = fuzz.families_from_env(opts.family)
    result = count(fams, opts.family, opts.n, opts.seed)
    print(f"== family {opts.family}: {opts.n} examples in {result['seconds']} s")
    for k, v in sorted(result["stats"].items()):
        print(f"   {k}: {v}")
    print("   failure kinds (programs using the family):")
    for k, v in result["kinds"].items():
        print(f"     {v:4d}  {k}   {result['features'].get(k)}")
    minimal, seen = [], set()
    wanted = [t for t in targets(result, 100) if opts.only in t[0]]
    for kind, feature in wanted[:2 * opts.shrink]:
        if len(minimal) >= opts.shrink:
            break
        found = shrink(fams, opts.family, kind, feature, opts.n, opts.seed)
        if found and found["source"] not in seen:
            seen.add(found["source"])
            minimal.append(found)
            print(f"\n-- minimal program for: {kind} (feature {feature})\n{found['source']}")
            print(f"   args {found['args']!r}, wrt {found['wrt']!r}, "
                  f"global changes {found['changes']!r}\n   {found['message']}")
    result["minimal"] = minimal
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump(result, fh, indent=1, default=repr)


if __name__ == "__main__":
    main()
