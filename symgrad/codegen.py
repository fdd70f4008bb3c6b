"""Building, printing and compiling generated code.

* :class:`E` wraps an AST expression and overloads the arithmetic operators,
  folding constants as it goes (``x * 1`` -> ``x``, ``0 + x`` -> ``x``), so the
  rule table's partials, run on ``E`` values, *print themselves* as code.
* :func:`comment` makes a statement that prints as a ``# comment`` line.
* :func:`to_source` is the one place that turns an AST into text (astor when
  it is present and quiet, ``ast.unparse`` otherwise).
* :func:`compile_function` compiles generated text from its AST and registers
  it in :mod:`linecache`, so tracebacks, ``pdb`` and ``inspect.getsource`` see it.
"""

from __future__ import annotations

import ast
import linecache
import math
import re
import sys
import warnings
from typing import Any, Callable

from . import rules

_COMMENT = "__symgrad_comment__:"


# --------------------------------------------------------------------------- small AST helpers

def name(id_: str, ctx: ast.expr_context | None = None) -> ast.Name:
    return ast.Name(id=id_, ctx=ctx or ast.Load())


def const(value: Any) -> ast.expr:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-value))
    if isinstance(value, float) and math.isnan(value):
        return ast.Attribute(value=name("math"), attr="nan", ctx=ast.Load())
    if isinstance(value, float) and math.isinf(value):
        return ast.Attribute(value=name("math"), attr="inf", ctx=ast.Load())
    return ast.Constant(value)


def assign(target: str | ast.expr, value: ast.expr) -> ast.Assign:
    tgt = name(target, ast.Store()) if isinstance(target, str) else store(target)
    return ast.Assign(targets=[tgt], value=value, lineno=0)


def aug_add(target: ast.expr, value: ast.expr) -> ast.stmt:
    """``target += value`` (``target -= v`` when value is a negation)."""
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.USub):
        return ast.AugAssign(target=store(target), op=ast.Sub(), value=value.operand)
    return ast.AugAssign(target=store(target), op=ast.Add(), value=value)


def store(node: ast.expr) -> ast.expr:
    """A copy of ``node`` usable as an assignment target."""
    node = copy_expr(node)
    node.ctx = ast.Store()
    return node


def copy_expr(node: Any) -> Any:
    """Deep copy of an AST subtree (generated trees never share nodes).

    A direct recursive copy: several times faster than ``copy.deepcopy`` on ASTs.
    """
    if isinstance(node, list):
        return [copy_expr(n) for n in node]
    if not isinstance(node, ast.AST):
        return node
    new = node.__class__.__new__(node.__class__)
    for key, value in node.__dict__.items():
        if isinstance(value, (ast.AST, list)):
            value = copy_expr(value)
        new.__dict__[key] = value
    return new


def call(func: ast.expr | str, *args: ast.expr) -> ast.Call:
    f = name(func) if isinstance(func, str) else func
    return ast.Call(func=f, args=list(args), keywords=[])


def attr_call(obj: ast.expr | str, method: str, *args: ast.expr) -> ast.Call:
    o = name(obj) if isinstance(obj, str) else obj
    return ast.Call(func=ast.Attribute(value=o, attr=method, ctx=ast.Load()), args=list(args),
                    keywords=[])


def dotted(path: str) -> ast.expr:
    parts = path.split(".")
    node: ast.expr = name(parts[0])
    for p in parts[1:]:
        node = ast.Attribute(value=node, attr=p, ctx=ast.Load())
    return node


def comment(text: str) -> ast.stmt:
    """A statement that :func:`to_source` prints as ``# text``."""
    return ast.Expr(value=ast.Constant(_COMMENT + " ".join(text.split("\n"))))


def is_comment(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str) and stmt.value.value.startswith(_COMMENT))


def number(node: ast.expr) -> Any:
    """The number a constant expression stands for, or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = number(node.operand)
        return None if v is None else -v
    return None


def names_in(node: ast.AST) -> set[str]:
    """Every name an expression mentions."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name):
            out.add(n.id)
            continue
        for v in n.__dict__.values():
            if isinstance(v, ast.AST):
                stack.append(v)
            elif isinstance(v, list):
                stack.extend(x for x in v if isinstance(x, ast.AST))
    return out


def nodes(node: Any) -> list[Any]:
    """Every AST node below ``node`` (a faster ``ast.walk`` that returns a list)."""
    out: list[Any] = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        for v in n.__dict__.values():
            if isinstance(v, ast.AST):
                stack.append(v)
            elif isinstance(v, list):
                stack.extend(x for x in v if isinstance(x, ast.AST))
    return out


def size(node: ast.AST) -> int:
    return sum(1 for _ in ast.walk(node))


# --------------------------------------------------------------------------- E: code that folds

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
           ast.FloorDiv: "//", ast.Mod: "%"}
_PY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
       ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b,
       ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b}
_CMP = {"gt": ast.Gt, "ge": ast.GtE, "lt": ast.Lt, "le": ast.LtE, "eq": ast.Eq}


class E:
    """An expression of generated code that folds constants as it is built.

    The rule table's partials run on ``E`` operands and return ``E`` results:

    >>> x, out = E.var("x"), E.var("out")
    >>> str(rules.RULES["tanh"].partials[0](x, out))
    '1.0 - out * out'
    >>> str(E.var("g") * rules.RULES["pow"].partials[0](x, E.num(2), out))
    'g * (2 * x)'
    """

    __slots__ = ("node", "flavor")

    def __init__(self, node: ast.expr, flavor: str = "math"):
        self.node = node
        self.flavor = flavor

    # constructors
    @staticmethod
    def var(id_: str, flavor: str = "math") -> "E":
        return E(name(id_), flavor)

    @staticmethod
    def num(value: Any, flavor: str = "math") -> "E":
        return E(const(value), flavor)

    @staticmethod
    def lift(v: Any, flavor: str = "math") -> "E":
        if isinstance(v, E):
            return v
        if isinstance(v, bool):
            v = float(v)
        if isinstance(v, (int, float)):
            return E.num(v, flavor)
        if isinstance(v, ast.expr):
            return E(v, flavor)
        raise TypeError(f"cannot use {v!r} in generated code")

    @property
    def value(self) -> Any:
        return number(self.node)

    def __str__(self) -> str:
        return ast.unparse(self.node)

    __repr__ = __str__

    # folding arithmetic
    def _bin(self, op: type, other: Any, reflected: bool = False) -> "E":
        other = E.lift(other, self.flavor)
        a, b = (other, self) if reflected else (self, other)
        flavor = a.flavor if a.flavor != "math" else b.flavor
        va, vb = a.value, b.value
        if va is not None and vb is not None:
            try:
                return E.num(_PY[op](va, vb), flavor)
            except (ArithmeticError, ValueError):
                pass
        if op is ast.Add:
            if va == 0:
                return b
            if vb == 0:
                return a
            if _is_neg(b.node):
                return E(ast.BinOp(a.node, ast.Sub(), b.node.operand), flavor)
        elif op is ast.Sub:
            if vb == 0:
                return a
            if va == 0:
                return -b
            if _is_neg(b.node):
                return E(ast.BinOp(a.node, ast.Add(), b.node.operand), flavor)
        elif op is ast.Mult:
            if va == 1:
                return b
            if vb == 1:
                return a
            if va == -1:
                return -b
            if vb == -1:
                return -a
            if va == 0 or vb == 0:
                return E.num(0, flavor)
            for p, q in ((a, b), (b, a)):  # g * (1.0 if c else 0.0) -> (g if c else 0.0)
                if isinstance(q.node, ast.IfExp) and (number(q.node.body) is not None
                                                      or number(q.node.orelse) is not None):
                    return E(ast.IfExp(q.node.test, (p * E(q.node.body, flavor)).node,
                                       (p * E(q.node.orelse, flavor)).node), flavor)
            for p, q in ((a, b), (b, a)):  # g * (1.0 / y) -> g / y
                if isinstance(q.node, ast.BinOp) and isinstance(q.node.op, ast.Div) \
                        and number(q.node.left) == 1:
                    return p / E(q.node.right, flavor)
            if _is_neg(a.node) and _is_neg(b.node):
                return E(a.node.operand, flavor) * E(b.node.operand, flavor)
            if _is_neg(b.node):
                return -(a * E(b.node.operand, flavor))
            if _is_neg(a.node) and number(a.node) is None:
                return -(E(a.node.operand, flavor) * b)
        elif op is ast.Div:
            if vb == 1:
                return a
            if va == 0:
                return E.num(0, flavor)
            if _is_neg(b.node):
                return -(a / E(b.node.operand, flavor))
        elif op is ast.Pow:
            if vb == 1:
                return a
            if vb == 0:
                return E.num(1, flavor)
        return E(ast.BinOp(a.node, op(), b.node), flavor)

    def __add__(self, o: Any) -> "E": return self._bin(ast.Add, o)
    def __radd__(self, o: Any) -> "E": return self._bin(ast.Add, o, True)
    def __sub__(self, o: Any) -> "E": return self._bin(ast.Sub, o)
    def __rsub__(self, o: Any) -> "E": return self._bin(ast.Sub, o, True)
    def __mul__(self, o: Any) -> "E": return self._bin(ast.Mult, o)
    def __rmul__(self, o: Any) -> "E": return self._bin(ast.Mult, o, True)
    def __truediv__(self, o: Any) -> "E": return self._bin(ast.Div, o)
    def __rtruediv__(self, o: Any) -> "E": return self._bin(ast.Div, o, True)
    def __pow__(self, o: Any) -> "E": return self._bin(ast.Pow, o)
    def __rpow__(self, o: Any) -> "E": return self._bin(ast.Pow, o, True)
    def __floordiv__(self, o: Any) -> "E": return self._bin(ast.FloorDiv, o)
    def __rfloordiv__(self, o: Any) -> "E": return self._bin(ast.FloorDiv, o, True)
    def __mod__(self, o: Any) -> "E": return self._bin(ast.Mod, o)
    def __rmod__(self, o: Any) -> "E": return self._bin(ast.Mod, o, True)

    def __neg__(self) -> "E":
        v = self.value
        if v is not None:
            return E.num(-v, self.flavor)
        if _is_neg(self.node):
            return E(self.node.operand, self.flavor)
        return E(ast.UnaryOp(ast.USub(), self.node), self.flavor)

    def __pos__(self) -> "E":
        return self

    # hooks used by rules.apply / rules.select / rules.gt ...
    def __symgrad_apply__(self, rule_name: str, args: tuple) -> "E":
        flavor = next((a.flavor for a in args if isinstance(a, E)), "math")
        return E(primitive_call(rule_name, flavor, [E.lift(a, flavor).node for a in args]),
                 flavor)

    @staticmethod
    def __symgrad_compare__(op: str, a: Any, b: Any) -> Any:
        a, b = E.lift(a), E.lift(b)
        va, vb = a.value, b.value
        if va is not None and vb is not None:     # decided when the code is generated
            return {"gt": va > vb, "ge": va >= vb, "lt": va < vb, "le": va <= vb,
                    "eq": va == vb}[op]
        return E(ast.Compare(a.node, [_CMP[op]()], [b.node]), a.flavor)

    def __symgrad_select__(self, then: Any, otherwise: Any) -> "E":
        t, o = E.lift(then, self.flavor), E.lift(otherwise, self.flavor)
        if ast.dump(t.node) == ast.dump(o.node):
            return t
        return E(ast.IfExp(self.node, t.node, o.node), self.flavor)


def _is_neg(node: ast.expr) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)


# operators that generated code writes as operators, not calls
_OPERATOR_RULES = {"add": ast.Add, "sub": ast.Sub, "mul": ast.Mult, "truediv": ast.Div,
                   "pow": ast.Pow, "floordiv": ast.FloorDiv, "mod": ast.Mod}
_BUILTIN_SPELLING = {"abs": "abs", "max": "max", "min": "min", "pow": "pow"}


def primitive_call(rule_name: str, flavor: str, args: list[ast.expr]) -> ast.expr:
    """The code that applies primitive ``rule_name`` to ``args`` in the given flavor.

    >>> ast.unparse(primitive_call("exp", "math", [name("x")]))
    'math.exp(x)'
    >>> ast.unparse(primitive_call("exp", "numpy", [name("x")]))
    'np.exp(x)'
    """
    rule = rules.RULES[rule_name]
    if rule_name in _OPERATOR_RULES and flavor != "builtin":
        return ast.BinOp(args[0], _OPERATOR_RULES[rule_name](), args[1])
    if rule_name == "neg":
        return ast.UnaryOp(ast.USub(), args[0])
    if flavor == "numpy" and rule.numpy_name:
        return call(dotted("np." + rule.numpy_name), *args)
    if flavor == "builtin" and rule_name in _BUILTIN_SPELLING:
        return call(_BUILTIN_SPELLING[rule_name], *args)
    if rule.math_name and hasattr(math, rule.math_name):
        return call(dotted("math." + rule.math_name), *args)
    return call(helper_name(rule_name), *args)


def helper_name(rule_name: str) -> str:
    """Name under which generated code calls the float forward of a rule with no math name."""
    return rule_name


# --------------------------------------------------------------------------- printing

_COMMENT_LINE = re.compile(r"^(\s*)(['\"])" + re.escape(_COMMENT) + r"(.*)\2\s*$")


def to_source(tree: ast.AST) -> str:
    """Source text of a generated AST, with comment statements printed as comments.

    The single code-generation entry point.  ``ast.unparse`` prints the same
    text on every supported Python (golden files stay byte-identical); astor is
    kept behind this one function as the fallback printer.
    """
    texts: list[str] = []
    stack: list[Any] = [tree]
    while stack:    # comments (statements only) become numbered tokens, restored below
        node = stack.pop()
        if isinstance(node, ast.Expr) and is_comment(node):
            texts.append(node.value.value[len(_COMMENT):])
            node.value = ast.Constant(f"{_COMMENT}{len(texts) - 1}")
            continue
        for fld in ("body", "orelse"):
            sub = getattr(node, fld, None)
            if isinstance(sub, list):
                stack.extend(sub)
    try:
        text = ast.unparse(tree) + "\n"
    except Exception:  # pragma: no cover - astor as the fallback printer
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import astor
            text = astor.to_source(ast.fix_missing_locations(tree))
    out = []
    for line in text.splitlines():
        m = _COMMENT_LINE.match(line)
        out.append((m.group(1) + "# " + texts[int(m.group(3))]).rstrip() if m else line)
    return "\n".join(out) + "\n"


_counter = [0]


def compile_function(source: str, func_name: str, namespace: dict[str, Any],
                     label: str) -> Callable[..., Any]:
    """Compile generated source (parsed back into an AST) and register it in linecache.

    ``label`` becomes part of the pseudo file name shown in tracebacks.
    """
    _counter[0] += 1
    filename = f"<symgrad generated {label} #{_counter[0]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")   # the text printed from the generated AST
    exec(code, namespace)
    fn = namespace[func_name]
    return fn
