"""Reading a function's source and resolving what its names mean."""

from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

from .errors import SourceError, UnsupportedSyntaxError

MISSING = object()


@dataclass
class FunctionSource:
    """A function's syntax tree plus what is needed to report errors in its file."""

    fn: Any
    tree: ast.FunctionDef
    filename: str
    first_line: int            # file line number of the tree's line 1
    col_offset: int            # columns removed by dedent
    globals: dict[str, Any]
    closure: dict[str, Any] = field(default_factory=dict)

    def line(self, node: ast.AST) -> int:
        return getattr(node, "lineno", 1) + self.first_line - 1

    def text(self, node: ast.AST) -> str:
        """The source line of ``node`` as it stands in the file."""
        return linecache.getline(self.filename, self.line(node)).rstrip("\n")

    def error(self, node: ast.AST, construct: str, hint: str) -> UnsupportedSyntaxError:
        return UnsupportedSyntaxError(construct, hint, self.filename, self.line(node),
                                      getattr(node, "col_offset", 0) + self.col_offset,
                                      self.text(node))

    def resolve(self, node: ast.expr) -> Any:
        """The object a global name or dotted attribute chain refers to, or MISSING."""
        if isinstance(node, ast.Name):
            if node.id in self.closure:
                return self.closure[node.id]
            if node.id in self.globals:
                return self.globals[node.id]
            return getattr(builtins, node.id, MISSING)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if base is MISSING:
                return MISSING
            return getattr(base, node.attr, MISSING)
        return MISSING


def _describe(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def get_source(fn: Any) -> FunctionSource:
    """Parse ``fn``'s source into a :class:`FunctionSource`.

    Raises :class:`SourceError` with a clear message when there is no source to read.
    """
    if isinstance(fn, (types.BuiltinFunctionType, types.BuiltinMethodType)) or (
            not isinstance(fn, types.FunctionType) and not hasattr(fn, "__code__")):
        raise SourceError(
            f"symgrad cannot differentiate {_describe(fn)!s}: it is not a Python function "
            "with source code (a builtin, a C extension or another callable). "
            "Differentiate a Python function that calls it, and register a derivative rule "
            "for it with symgrad.register_rule if it has active arguments.")
    code = fn.__code__
    filename = code.co_filename
    try:
        lines, start = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise SourceError(
            f"symgrad cannot find the source of {_describe(fn)} (file {filename!r}): "
            "functions made with exec/eval or typed at a bare interactive prompt have no "
            "source to read. Put the function in a .py file (or a Jupyter cell, "
            "which keeps its source) and import it.") from exc
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    col = _indent(text) - _indent(dedented)
    try:
        module = ast.parse(dedented)
    except SyntaxError as exc:
        raise SourceError(f"symgrad could not parse the source of {_describe(fn)} in "
                          f"{filename}: {exc}") from exc
    closure = {}
    if fn.__closure__:
        for var, cell in zip(code.co_freevars, fn.__closure__):
            try:
                closure[var] = cell.cell_contents
            except ValueError:
                pass
    tree = _find_function(module, fn, code)
    fs = FunctionSource(fn, tree, filename, start, col, fn.__globals__, closure)
    if isinstance(tree, ast.Lambda):
        ret = ast.Return(tree.body, lineno=tree.lineno, col_offset=tree.col_offset)
        fdef = ast.FunctionDef(name="<lambda>", args=tree.args, body=[ret], decorator_list=[],
                               returns=None, lineno=tree.lineno, col_offset=tree.col_offset)
        if "type_params" in ast.FunctionDef._fields:
            fdef.type_params = []
        fs.tree = fdef
    return fs


def _indent(text: str) -> int:
    for line in text.splitlines():
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


def _find_function(module: ast.Module, fn: Any, code: types.CodeType) -> Any:
    if fn.__name__ == "<lambda>":
        params = list(code.co_varnames[:code.co_argcount])
        found = [n for n in ast.walk(module) if isinstance(n, ast.Lambda)
                 and [a.arg for a in n.args.args] == params]
        if len(found) != 1:
            raise SourceError(
                "symgrad cannot tell which lambda on this line is meant "
                f"({len(found)} candidates in {code.co_filename} line {code.co_firstlineno}). "
                "Write the function with def.")
        return found[0]
    for node in ast.walk(module):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == fn.__name__:
            if isinstance(node, ast.AsyncFunctionDef):
                raise SourceError(f"{fn.__name__} is an async function; symgrad differentiates "
                                  "ordinary functions only.")
            return node
    raise SourceError(f"symgrad could not find the definition of {fn.__name__} in its source.")
