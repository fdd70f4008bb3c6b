"""Syntax-level rewrites done before lowering, so that lowering sees fewer forms.

* ``x += v`` becomes ``x = x + v`` (for names and subscripts; the subscript's
  base and index are read once, as Python does);
* a ``return`` inside a loop becomes ``result = v; flag = True; break``, with
  ``if flag: break`` after every enclosing inner loop and ``if flag: return
  result`` after the outermost one;
* ``for ... else`` / ``while ... else`` become a flag set before ``break``;
* :func:`restructure` moves the statements after an ``if`` that may leave the
  block (``return``, ``break``, ``continue``) into the paths that do not leave,
  so every exit ends its block and nothing follows it.

Synthetic names contain ``#`` (``"ret#flag"``) so they never clash with the
user's names; lowering prints them from the part before the ``#``.

>>> import ast
>>> tree = ast.parse("if x > 0:\\n    return x\\ny = x * x\\nreturn y")
>>> print(ast.unparse(ast.Module(restructure(tree.body), [])))
if x > 0:
    return x
else:
    y = x * x
    return y
"""

from __future__ import annotations

import ast
import copy
from typing import Any, Callable

__all__ = ["desugar", "restructure", "jumps", "may_jump", "assigned_names", "nonlocal_names"]

_counter = [0]


def _fresh(base: str) -> str:
    _counter[0] += 1
    return f"{base}#{_counter[0]}"


def _name(id_: str, store: bool = False) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Store() if store else ast.Load())


def _at(node: ast.AST, like: ast.AST) -> Any:
    """Give ``node`` and its children ``like``'s location (fills only missing ones)."""
    for n in ast.walk(node):
        for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
            if getattr(n, attr, None) is None and hasattr(like, attr):
                setattr(n, attr, getattr(like, attr))
    return node


def desugar(body: list[ast.stmt], error: Callable[[ast.AST, str, str], Exception]
            ) -> list[ast.stmt]:
    """The whole pipeline of syntax rewrites for one function body (a new list;
    the input tree is not modified)."""
    body = _rewrite_block(body, error)     # copies what it changes: the tree stays intact
    body = _loop_returns(body, None)
    body = restructure(body)
    if not jumps(body) and _has_return(body):    # a path that falls off the end: None
        last = body[-1]
        body = restructure(body + [_at(ast.Return(value=None), last)])
    return body


# --------------------------------------------------------------------------- simple rewrites

def _rewrite_block(stmts: list[ast.stmt], error: Callable[..., Exception]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for s in stmts:
        out.extend(_rewrite(s, error))
    return out


def _rewrite(s: ast.stmt, error: Callable[..., Exception]) -> list[ast.stmt]:
    t = type(s)
    if t is ast.AugAssign:
        return _augassign(s, error)  # type: ignore[arg-type]
    if t is ast.AnnAssign:
        if s.value is None:  # type: ignore[attr-defined]
            return []
        return [_at(ast.Assign(targets=[s.target], value=s.value), s)]  # type: ignore
    if t is ast.If:
        s = copy.copy(s)
        s.body = _rewrite_block(s.body, error)  # type: ignore[attr-defined]
        s.orelse = _rewrite_block(s.orelse, error)  # type: ignore[attr-defined]
        return [s]
    if t in (ast.For, ast.While):
        s = copy.copy(s)
        s.body = _rewrite_block(s.body, error)  # type: ignore[attr-defined]
        s.orelse = _rewrite_block(s.orelse, error)  # type: ignore[attr-defined]
        return _loop_else(s) if s.orelse else [s]  # type: ignore[attr-defined]
    if t is _MATCH:
        return _rewrite_block(_match(s, error), error)
    return [s]


_MATCH = getattr(ast, "Match", None)        # (Python 3.10+)


def _match(s: Any, error: Callable[..., Exception]) -> list[ast.stmt]:
    """``match v: case 1 | 2: A  case "k": B  case y if y > 0: C  case _: D`` -> the
    subject read once, then ``if``/``elif`` on ``==`` (``is`` for None, True, False);
    a capture binds the subject.  Sequence, mapping and class patterns are refused."""
    subject = _fresh("_subject")
    first = ast.Assign(targets=[_name(subject, True)], value=s.subject, lineno=s.lineno,
                       end_lineno=s.lineno)           # (its comment: the match line)
    out: list[ast.stmt] = [_at(first, s)]
    orelse: list[ast.stmt] = []
    for case in reversed(s.cases):
        test, binds = _pattern(case.pattern, subject, error)
        body, guard, node = list(case.body), case.guard, case.pattern
        if guard is None:
            orelse = binds + body if test is None else [
                _at(ast.If(test=test, body=binds + body, orelse=orelse), node)]
        elif test is None:          # case k if k > 5: k is bound, then the guard tested
            orelse = binds + [_at(ast.If(test=guard, body=body, orelse=orelse), node)]
        elif not binds:
            both = ast.BoolOp(op=ast.And(), values=[test, guard])
            orelse = [_at(ast.If(test=both, body=body, orelse=orelse), node)]
        else:
            raise error(node, "a case with a test, a capture and a guard",
                        "capture the subject alone (case k if k in (1, 2) and k > 1:)")
    return out + orelse


def _pattern(p: Any, subject: str, error: Callable[..., Exception]
             ) -> tuple[ast.expr | None, list[ast.stmt]]:
    """A case pattern's test of the subject (None: always) and the assignments of its
    captures."""
    t = type(p).__name__
    if t == "MatchValue":
        return _at(ast.Compare(left=_name(subject), ops=[ast.Eq()], comparators=[p.value]),
                   p), []
    if t == "MatchSingleton":
        return _at(ast.Compare(left=_name(subject), ops=[ast.Is()],
                               comparators=[ast.Constant(p.value)]), p), []
    if t == "MatchOr":
        tests = []
        for alt in p.patterns:
            test, binds = _pattern(alt, subject, error)
            if binds:
                raise error(p, "an or-pattern with captures", "capture after the match")
            if test is None:
                return None, []
            tests.append(test)
        return _at(ast.BoolOp(op=ast.Or(), values=tests), p), []
    if t == "MatchAs":
        test, binds = (None, []) if p.pattern is None else _pattern(p.pattern, subject, error)
        if p.name is not None:
            binds = binds + [_at(ast.Assign(targets=[_name(p.name, True)],
                                            value=_name(subject)), p)]
        return test, binds
    raise error(p, f"a {t[5:].lower()} pattern in a match statement",
                "match literal values, None/True/False, | of them, _ or a name; "
                "or write the tests with if/elif")


def _augassign(s: ast.AugAssign, error: Callable[..., Exception]) -> list[ast.stmt]:
    """``t op= v`` -> ``t = t op v``; a subscript's base and index are read once."""
    target = s.target
    pre: list[ast.stmt] = []
    if isinstance(target, ast.Subscript):
        base, index = target.value, target.slice
        if not isinstance(base, ast.Name):
            tmp = _fresh("_base")
            pre.append(_at(ast.Assign(targets=[_name(tmp, True)], value=base), s))
            base = _name(tmp)
        if isinstance(index, ast.Tuple):          # x[i, :, j] += v (arrays): each part once
            parts = []
            for elt in index.elts:
                if isinstance(elt, (ast.Name, ast.Constant, ast.Slice)):
                    parts.append(elt)
                    continue
                tmp = _fresh("_i")
                pre.append(_at(ast.Assign(targets=[_name(tmp, True)], value=elt), s))
                parts.append(_name(tmp))
            index = ast.Tuple(elts=parts, ctx=ast.Load())
        elif not isinstance(index, (ast.Name, ast.Constant, ast.Slice)):
            tmp = _fresh("_i")
            pre.append(_at(ast.Assign(targets=[_name(tmp, True)], value=index), s))
            index = _name(tmp)
        store = ast.Subscript(value=base, slice=index, ctx=ast.Store())
        load = ast.Subscript(value=base, slice=index, ctx=ast.Load())
    elif isinstance(target, ast.Name):
        store, load = target, _name(target.id)
    elif isinstance(target, ast.Attribute):     # (lowering decides: self.n += 1 in __init__)
        base = target.value
        if not isinstance(base, ast.Name):
            tmp = _fresh("_base")
            pre.append(_at(ast.Assign(targets=[_name(tmp, True)], value=base), s))
            base = _name(tmp)
        store = ast.Attribute(value=base, attr=target.attr, ctx=ast.Store())
        load = ast.Attribute(value=base, attr=target.attr, ctx=ast.Load())
    else:
        raise error(s, "augmented assignment to " + type(target).__name__.lower(),
                    "assign to a local variable or a list element")
    value = _at(ast.BinOp(left=load, op=s.op, right=s.value), s)
    value.inplace = True        # `xs += ys` on lists extends xs in place (lowering decides)
    value.inplace_name = isinstance(target, ast.Name)   # `y *= 2` writes into y's array
    if isinstance(store, (ast.Subscript, ast.Attribute)) and isinstance(store.value, ast.Name):
        value.inplace_item = store.value.id     # `d["k"] *= 2` writes into d["k"]'s array
    return pre + [_at(ast.Assign(targets=[store], value=value), s)]


def _loop_else(s: ast.For | ast.While) -> list[ast.stmt]:
    """``for ...: body else: rest`` -> ``flag = False; for ...: body (flag = True before
    every break); if not flag: rest``."""
    flag = _fresh("_broke")
    _mark_breaks(s.body, flag)
    init = _at(ast.Assign(targets=[_name(flag, True)], value=ast.Constant(False)), s)
    test = ast.UnaryOp(op=ast.Not(), operand=_name(flag))
    after = _at(ast.If(test=test, body=s.orelse, orelse=[]), s)
    s.orelse = []
    return [init, s, after]


def _mark_breaks(stmts: list[ast.stmt], flag: str) -> None:
    """Put ``flag = True`` before every ``break`` of this loop (not of inner loops)."""
    for k in range(len(stmts) - 1, -1, -1):
        s = stmts[k]
        if isinstance(s, ast.Break):
            stmts.insert(k, _at(ast.Assign(targets=[_name(flag, True)],
                                           value=ast.Constant(True)), s))
        elif isinstance(s, ast.If):
            _mark_breaks(s.body, flag)
            _mark_breaks(s.orelse, flag)


# --------------------------------------------------------------------------- return in loops

def _has_return(stmts: list[ast.stmt]) -> bool:
    for s in stmts:
        if isinstance(s, ast.Return):
            return True
        if isinstance(s, ast.If) and (_has_return(s.body) or _has_return(s.orelse)):
            return True
        if isinstance(s, (ast.For, ast.While)) and _has_return(s.body):
            return True
    return False


def _loop_returns(stmts: list[ast.stmt], ctx: tuple[str, str] | None) -> list[ast.stmt]:
    """Rewrite returns inside loops (``ctx`` = (flag, value) names inside a loop)."""
    out: list[ast.stmt] = []
    for s in stmts:
        if isinstance(s, ast.Return) and ctx is not None:
            flag, value = ctx
            out.append(_at(ast.Assign(targets=[_name(value, True)],
                                      value=s.value or ast.Constant(None)), s))
            out.append(_at(ast.Assign(targets=[_name(flag, True)], value=ast.Constant(True)), s))
            out.append(_at(ast.Break(), s))
            continue
        if isinstance(s, ast.If):
            s = copy.copy(s)
            s.body = _loop_returns(s.body, ctx)
            s.orelse = _loop_returns(s.orelse, ctx)
        elif isinstance(s, (ast.For, ast.While)) and _has_return(s.body):
            s = copy.copy(s)
            inner = ctx or (_fresh("_returned"), _fresh("_result"))
            if ctx is None:
                out.append(_at(ast.Assign(targets=[_name(inner[0], True)],
                                          value=ast.Constant(False)), s))
            s.body = _loop_returns(s.body, inner)
            out.append(s)
            exit_: ast.stmt = ast.Break() if ctx is not None else ast.Return(_name(inner[1]))
            out.append(_at(ast.If(test=_name(inner[0]), body=[_at(exit_, s)], orelse=[]), s))
            continue
        elif isinstance(s, (ast.For, ast.While)):
            s = copy.copy(s)
            s.body = _loop_returns(s.body, None)
        out.append(s)
    return out


# --------------------------------------------------------------------------- early exits

def jumps(stmts: list[Any]) -> bool:
    """Does every path through ``stmts`` end in return/break/continue (or raise: no path
    goes on after it)?"""
    return _ends_in_jump(stmts, all)


def may_jump(stmts: list[Any]) -> bool:
    """Does some path through ``stmts`` end in return/break/continue?"""
    return _ends_in_jump(stmts, any)


def _ends_in_jump(stmts: list[Any], paths: Any) -> bool:
    """``paths`` (``all`` or ``any``) of the ways through ``stmts`` end in a jump."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Break, ast.Continue)):
        return True
    if isinstance(last, ast.Raise):        # (a jump for "every path", not "some path")
        return paths is all
    if isinstance(last, ast.If):
        return paths(_ends_in_jump(b, paths) for b in (last.body, last.orelse))
    return False


def _with_rest(block: list[ast.stmt], rest: list[ast.stmt]) -> list[ast.stmt]:
    """``block`` (already restructured) followed by a copy of ``rest`` on every path
    that does not exit."""
    if jumps(block):
        return block
    last = block[-1] if block else None
    if isinstance(last, ast.If) and may_jump([last]):
        _sink(last, rest)
        return block
    return restructure(block + rest)


def _sink(s: ast.If, rest: list[ast.stmt]) -> None:
    s.body = _with_rest(s.body, rest)
    s.orelse = _with_rest(s.orelse, rest)


def restructure(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Move statements after an early exit into the paths that do not exit (a fresh
    copy on each path, taken before anything is rewritten)."""
    out: list[ast.stmt] = []
    for k, s in enumerate(stmts):
        if isinstance(s, ast.If):           # nodes are copied before they change: a
            s = copy.copy(s)                # statement may stand in several paths
            s.body = restructure(s.body)
            s.orelse = restructure(s.orelse)
            rest = stmts[k + 1:]
            if rest and may_jump([s]):
                _sink(s, rest)
                out.append(s)
                return out
        elif isinstance(s, (ast.For, ast.While)):
            s = copy.copy(s)
            s.body = restructure(s.body)
        out.append(s)
        if isinstance(s, (ast.Return, ast.Break, ast.Continue)):
            return out      # anything after is unreachable
    return out


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


def assigned_names(stmts: list[ast.stmt], walrus: bool = True) -> list[str]:
    """Names assigned anywhere in ``stmts`` (not inside nested functions or
    comprehensions), in order of first appearance.  Statements are walked; expressions
    only where an assignment expression (``:=``) may hide."""
    seen: dict[str, None] = {}
    stack: list[Any] = list(reversed(stmts))
    w = _walrus if walrus else _no_walrus
    while stack:
        s = stack.pop()
        t = type(s)
        if t is ast.Assign:
            for tg in s.targets:
                _target_names(tg, seen)
            w(s.value, seen)
        elif t in (ast.AugAssign, ast.AnnAssign):
            _target_names(s.target, seen)
            if s.value is not None:
                w(s.value, seen)
        elif t in (ast.For, ast.AsyncFor):
            _target_names(s.target, seen)
            w(s.iter, seen)
            stack.extend(reversed(s.body + s.orelse))
        elif t in (ast.If, ast.While):
            w(s.test, seen)
            stack.extend(reversed(s.body + s.orelse))
        elif t in (ast.With, ast.AsyncWith):
            for item in s.items:
                if item.optional_vars is not None:
                    _target_names(item.optional_vars, seen)
            stack.extend(reversed(s.body))
        elif t in (ast.Expr, ast.Return) and s.value is not None:
            w(s.value, seen)
    return list(seen)


def _target_names(t: ast.AST, seen: dict) -> None:
    tt = type(t)
    if tt is ast.Name:
        seen.setdefault(t.id, None)
    elif tt in (ast.Tuple, ast.List):
        for e in t.elts:
            _target_names(e, seen)
    elif tt is ast.Starred:
        _target_names(t.value, seen)


def _walrus(e: ast.AST, seen: dict) -> None:
    """Names bound by ``:=`` inside an expression (not in nested scopes)."""
    stack = [e]
    while stack:
        n = stack.pop()
        t = type(n)
        if t is ast.NamedExpr:
            seen.setdefault(n.target.id, None)
        elif t in _SCOPES and t not in (ast.ListComp, ast.SetComp, ast.GeneratorExp,
                                        ast.DictComp):
            continue
        for field in n._fields:
            v = getattr(n, field, None)
            if type(v) is list:
                stack.extend(x for x in v if isinstance(x, ast.AST))
            elif isinstance(v, ast.AST):
                stack.append(v)



def _no_walrus(e: ast.AST, seen: dict) -> None:
    return


def nonlocal_names(stmts: list) -> list[str]:
    """Names that functions defined in ``stmts`` declare ``nonlocal`` (their calls may
    assign them: a branch or loop must treat them as assigned there)."""
    out: list[str] = []
    for s in stmts:
        for n in ast.walk(s):
            if isinstance(n, ast.Nonlocal):
                out.extend(x for x in n.names if x not in out)
    return out


def forwarded_dict_keys(tree: ast.AST, arg: ast.expr) -> list[str] | None:
    """The keys of a dict ``f(**arg)`` forwards, where they are known as the code is
    made: ``arg`` a display of constant string keys (``f(**{"s": y})``), or a name
    ``tree`` assigns such a display once and never rebinds, changes nor reads but as
    ``f(**name)`` (``opts = {"s": y}`` ... ``f(x, **opts)``); None otherwise."""
    display = arg if isinstance(arg, ast.Dict) else None
    if isinstance(arg, ast.Name):
        forwarded = {id(k.value) for node in ast.walk(tree) if isinstance(node, ast.Call)
                     for k in node.keywords if k.arg is None}
        target = None
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                    isinstance(node.targets[0], ast.Name) and node.targets[0].id == arg.id:
                if target is not None:
                    return None
                target, display = node.targets[0], node.value
            elif isinstance(node, (ast.Global, ast.Nonlocal)) and arg.id in node.names or \
                    isinstance(node, ast.arg) and node.arg == arg.id:
                return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == arg.id and node is not target and \
                    (not isinstance(node.ctx, ast.Load) or id(node) not in forwarded):
                return None
    if not isinstance(display, ast.Dict) or not all(
            isinstance(k, ast.Constant) and type(k.value) is str for k in display.keys):
        return None
    keys = [k.value for k in display.keys]
    return keys if len(set(keys)) == len(keys) else None



def iteration_locals(loop: ast.For | ast.While, function_body: list[ast.stmt]) -> frozenset:
    """The names each iteration of ``loop`` binds afresh: assigned by a plain ``name =
    value`` at the top of its body before anything there reads them, and read nowhere
    else in the function (not after the loop, not by its ``else`` or test, not by any
    nested function or lambda) but in other loops that bind them afresh too.  An object
    or a tuple of tuples made anew in each iteration (``layer = Linear(W[i], b[i])``) is
    then no value carried between them."""
    first = _fresh_in(loop)
    if not first:
        return frozenset()
    inside = {id(n) for s in loop.body for n in ast.walk(s)}
    covered: dict[str, set] = {}        # (reads in other loops binding the name afresh)
    excluded: set[str] = set()
    for s in function_body:
        for n in ast.walk(s):
            if isinstance(n, (ast.For, ast.While)) and n is not loop and \
                    id(loop) not in {id(m) for m in ast.walk(n)}:
                for name in _fresh_in(n) & first:
                    covered.setdefault(name, set()).update(
                        id(m) for b in n.body for m in ast.walk(b))
    for s in function_body:
        for n in ast.walk(s):
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Store) and \
                    id(n) not in inside and id(n) not in covered.get(n.id, ()):
                excluded.add(n.id)
            elif isinstance(n, (ast.Global, ast.Nonlocal)):
                excluded.update(n.names)
            elif isinstance(n, (ast.FunctionDef, ast.Lambda)):
                excluded.update(m.id for m in ast.walk(n) if isinstance(m, ast.Name))
    return frozenset(first - excluded)


def _fresh_in(loop: ast.For | ast.While) -> set[str]:
    """The names a plain ``name = value`` at the top of ``loop``'s body assigns before
    anything in its body reads or writes them."""
    first: set[str] = set()
    seen: set[str] = set()
    for s in loop.body:
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and \
                isinstance(s.targets[0], ast.Name) and s.targets[0].id not in seen:
            name = s.targets[0].id
            if not any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(s.value)):
                first.add(name)
        seen.update(n.id for n in ast.walk(s) if isinstance(n, ast.Name))
    return first
