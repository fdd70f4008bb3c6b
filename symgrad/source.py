"""Reading a function's source: its syntax tree, file, globals and closure cells.

The source is found from the function's *code object*, never through
``__wrapped__``: a ``functools.wraps`` wrapper is read as the wrapper Python
actually calls (``inspect.getsource`` would show the undecorated function).

>>> def square(x):
...     return x * x
>>> fs = get_source(square)   # doctest: +SKIP
"""

from __future__ import annotations

import ast
import functools
import inspect
import linecache
import os
import sysconfig
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

from .errors import SourceError, UnsupportedSyntaxError

MISSING = object()
_cache: dict[Any, "FunctionSource"] = {}


@dataclass
class FunctionSource:
    """A function's syntax tree plus what is needed to report errors in its file."""

    fn: Any
    tree: ast.FunctionDef
    filename: str
    first_line: int            # file line number of the tree's line 1
    col_offset: int            # columns removed by dedent
    globals: dict[str, Any]
    cells: dict[str, Any] = field(default_factory=dict)     # free name -> closure cell
    walrus: bool = True          # does the source contain ":=" at all?

    @property
    def maybe_unbound(self) -> frozenset:
        """The reads of local names that may find them not assigned (see
        :mod:`symgrad.unbound`)."""
        found = getattr(self.tree, "_symgrad_unbound", None)    # (kept with the tree)
        if found is None:
            from .unbound import maybe_unbound
            found = maybe_unbound(self.tree, self.walrus)
            self.tree._symgrad_unbound = found      # type: ignore[attr-defined]
        return found

    @property
    def has_nonlocal(self) -> bool:
        """Does the function (or one defined in it) declare a name ``nonlocal``?"""
        found = getattr(self.tree, "_symgrad_nonlocal", None)      # (kept with the tree)
        if found is None:
            found = any(isinstance(n, ast.Nonlocal) for n in ast.walk(self.tree))
            self.tree._symgrad_nonlocal = found     # type: ignore[attr-defined]
        return found

    def line(self, node: ast.AST) -> int:
        return getattr(node, "lineno", 1) + self.first_line - 1

    def text(self, node: ast.AST) -> str:
        """The source line of ``node`` as it stands in the file."""
        return linecache.getline(self.filename, self.line(node)).rstrip("\n")

    def lines(self, node: ast.AST) -> str:
        """Every source line of ``node``, joined into one (for comments)."""
        first = self.line(node)
        end = getattr(node, "end_lineno", None)
        last = end + self.first_line - 1 if end else first
        lines = linecache.getlines(self.filename)        # (what getline reads, once)
        if first == last:
            return lines[first - 1].strip() if 1 <= first <= len(lines) else ""
        texts = [lines[k - 1].strip() for k in range(max(first, 1), min(last, len(lines)) + 1)]
        return " ".join(t for t in texts if t)

    def error(self, node: ast.AST, construct: str, hint: str) -> UnsupportedSyntaxError:
        return UnsupportedSyntaxError(construct, hint, self.filename, self.line(node),
                                      getattr(node, "col_offset", 0) + self.col_offset,
                                      self.text(node))

    def resolve(self, node: ast.expr) -> Any:
        """The object a global name or dotted attribute chain refers to, or MISSING."""
        import builtins
        if isinstance(node, ast.Name):
            closure = self.closure
            if node.id in closure:
                return closure[node.id]
            if node.id in self.globals:
                return self.globals[node.id]
            return getattr(builtins, node.id, MISSING)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return MISSING if base is MISSING else getattr(base, node.attr, MISSING)
        return MISSING

    @property
    def closure(self) -> dict[str, Any]:
        """The current values of the closure cells (empty cells left out)."""
        out = {}
        for name, cell in self.cells.items():
            try:
                out[name] = cell.cell_contents
            except ValueError:
                pass
        return out


_LIB_DIRS = tuple(sorted({os.path.realpath(p) + os.sep for k, p in sysconfig.get_paths().items()
                          if k in ("stdlib", "platstdlib", "purelib", "platlib")}))


def is_library(fn: Any) -> bool:
    """Is ``fn`` defined in Python's standard library or an installed package (code symgrad
    does not inline: a call to it needs a derivative rule)?"""
    code = getattr(fn, "__code__", None)
    filename = getattr(code, "co_filename", "") or ""
    if not filename or filename.startswith("<"):
        return False
    return os.path.realpath(filename).startswith(_LIB_DIRS)


def is_user_class(obj: Any) -> bool:
    """Is ``obj`` a class defined in the user's code (not Python's, nor a package's)?"""
    import sys
    module = sys.modules.get(getattr(obj, "__module__", None) or "")
    filename = getattr(module, "__file__", None) or ""
    return isinstance(obj, type) and module is not None and obj.__module__ != "builtins" and \
        not (filename and os.path.realpath(filename).startswith(_LIB_DIRS))


def array_library_error(fs: Any, obj: Any, node: ast.AST) -> Exception:
    """No rule for a numpy or scipy function called with values that depend on the inputs."""
    from .errors import NonDifferentiableError
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__name__", describe(obj))
    short = "np" + module[len("numpy"):] if module.startswith("numpy") else module
    short = short.replace(".linalg._linalg", ".linalg").replace("._core", "")
    return NonDifferentiableError(
        f'File "{fs.filename}", line {fs.line(node)}: symgrad has no derivative rule for '
        f"{short}.{name} (called with values that depend on the inputs).\n    "
        f"{fs.text(node).strip()}\n  hint: give it one with symgrad.register_array_rule"
        f"({name}, vjps=[...]) (README, \"Arrays symgrad does not know\"), or compute "
        "it with the numpy operations symgrad differentiates.")


def library_error(fs: Any, obj: Any, node: ast.AST) -> Exception:
    """No rule for a library function (never inlined) called with values that depend on
    the inputs."""
    from .errors import NonDifferentiableError
    return NonDifferentiableError(
        f'File "{fs.filename}", line {fs.line(node)}: symgrad has no derivative rule for '
        f"{getattr(obj, '__module__', '')}.{describe(obj)} (library code, which symgrad "
        "does not differentiate through), called with values that depend on the inputs."
        f"\n    {fs.text(node).strip()}\n  hint: write the computation in your own "
        "code, or register a rule with symgrad.register_rule.")


def describe(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _not_python(fn: Any) -> SourceError:
    kind = type(fn).__module__ + "." + type(fn).__qualname__
    extra = ""
    if hasattr(fn, "__wrapped__"):
        extra = (f" It wraps {describe(fn.__wrapped__)} (a C-implemented decorator such as "
                 "functools.lru_cache); differentiate the undecorated function, "
                 f"{describe(fn.__wrapped__)}.__wrapped__, instead.")
    return SourceError(
        f"symgrad cannot differentiate {describe(fn)}: it is a {kind}, not a Python function "
        "with source code (a builtin, a C extension or another callable)." + (extra or
        " Differentiate a Python function that calls it, and register a derivative rule for "
        "it with symgrad.register_rule if it has differentiated arguments."))


def get_source(fn: Any) -> FunctionSource:
    """Parse ``fn``'s source into a :class:`FunctionSource` (cached per code object).

    Raises :class:`SourceError` with a clear message when there is no source to read.
    """
    if not isinstance(fn, types.FunctionType):
        raise _not_python(fn)
    code = fn.__code__
    cells = dict(zip(code.co_freevars, fn.__closure__ or ()))
    hit = _cache.get(code)
    if hit is not None and hit.globals is fn.__globals__:
        return FunctionSource(fn, hit.tree, hit.filename, hit.first_line, hit.col_offset,
                              fn.__globals__, cells, hit.walrus)
    text, start = _source_text(fn, code)
    try:
        module, col = _parse(text)
    except SyntaxError:           # the indented block was not the whole definition
        try:
            if fn.__name__ == "<lambda>":    # a lambda inside a longer expression
                raise SyntaxError("not a statement")
            found, start = inspect.getsourcelines(code)
            text = "".join(found)
            module, col = _parse(text)
        except (OSError, TypeError, SyntaxError) as exc:
            whole = _whole_file(fn, code)
            if whole is None:
                raise SourceError(f"symgrad could not parse the source of {describe(fn)} "
                                  f"in {code.co_filename}: {exc}") from exc
            module, text, start, col = whole, "", 1, 0
    if fn.__name__ == "<lambda>" and start != 1 and _lambdas(module, code, start) != 1:
        whole = _whole_file(fn, code)         # (several lambdas, or none, on the lines read)
        if whole is not None:
            module, start, col = whole, 1, 0
    tree = _find_function(module, fn, code, start)
    fs = FunctionSource(fn, tree, code.co_filename, start, col, fn.__globals__, cells,
                        ":=" in text)
    _cache[code] = fs
    return fs


def _source_text(fn: Any, code: types.CodeType) -> tuple[str, int]:
    """The text of the function's definition and its first line number.

    Fast path: the indented block starting at ``co_firstlineno`` (no tokenizing);
    ``inspect.getsourcelines(code)`` when that is not a parsable definition.
    """
    filename = code.co_filename
    lines = linecache.getlines(filename, fn.__globals__)
    start = code.co_firstlineno
    if lines and fn.__name__ != "<lambda>" and 0 < start <= len(lines):
        block = _indented_block(lines, start - 1)
        if block is not None:
            return "".join(block), start
    try:
        found, first = inspect.getsourcelines(code)
    except (OSError, TypeError) as exc:
        raise SourceError(
            f"symgrad cannot find the source of {describe(fn)} (file {filename!r}): "
            "functions made with exec/eval or typed at a bare interactive prompt have no "
            "source to read. Put the function in a .py file (or a Jupyter cell, "
            "which keeps its source) and import it.") from exc
    return "".join(found), first


def _indented_block(lines: list[str], i: int) -> list[str] | None:
    """Lines ``i``.. of a ``def`` (with its decorators), ending before the first
    non-blank line indented no deeper than the ``def``; None if that does not parse."""
    head = lines[i]
    indent = len(head) - len(head.lstrip())
    j = i
    while j < len(lines) and lines[j].lstrip().startswith("@"):
        j += 1
    if j >= len(lines) or not lines[j].lstrip().startswith(("def ", "async def ")):
        return None
    k = j + 1
    n = len(lines)
    while k < n:
        line = lines[k]
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and len(line) - len(line.lstrip()) <= indent:
            break
        k += 1
    return lines[i:k]


def _parse(text: str) -> tuple[ast.Module, int]:
    dedented = textwrap.dedent(text)
    return ast.parse(dedented), _indent(text) - _indent(dedented)


def _indent(text: str) -> int:
    for line in text.splitlines():
        if line.strip():
            return len(line) - len(line.lstrip())
    return 0


def _whole_file(fn: Any, code: types.CodeType) -> ast.Module | None:
    """The parsed module ``fn`` was defined in (for a lambda written inside a longer
    expression: a dict of lambdas, an argument of a call spread over lines)."""
    lines = linecache.getlines(code.co_filename, fn.__globals__)
    try:
        return ast.parse("".join(lines)) if lines else None
    except (SyntaxError, ValueError):
        return None


def _lambdas(module: ast.Module, code: types.CodeType, start: int = 1) -> int:
    return len(_lambda_candidates(module, code, start))


def _lambda_candidates(module: ast.Module, code: types.CodeType, start: int) -> list:
    """The lambdas of ``module`` (whose line 1 is file line ``start``) with ``code``'s
    parameters, on its first line; several: those whose compiled body is ``code``'s."""
    params = list(code.co_varnames[:code.co_argcount])
    found = [n for n in ast.walk(module) if isinstance(n, ast.Lambda)
             and [a.arg for a in n.args.args] == params
             and n.lineno + start - 1 == code.co_firstlineno]
    if len(found) > 1:
        found = [n for n in found if _same_code(n, code)]
    return found


def _same_code(lam: ast.Lambda, code: types.CodeType) -> bool:
    """Is ``code`` compiled from ``lam`` (positioned in the whole file)?  By the source
    positions of its instructions (Python 3.11+), else by the names it reads."""
    positions = getattr(code, "co_positions", None)
    if positions is not None:
        spots = [(ln, col) for ln, _, col, end in positions()      # (not the zero-width
                 if ln is not None and col is not None and end != col]  # entry, RESUME)
        lo = (lam.lineno, lam.col_offset)
        hi = (getattr(lam, "end_lineno", None) or lam.lineno,
              getattr(lam, "end_col_offset", None) or 1 << 30)
        return bool(spots) and all(lo <= spot <= hi for spot in spots)
    names = {n.id for n in ast.walk(lam.body) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(lam.body) if isinstance(n, ast.Attribute)}
    if names - set(code.co_varnames) != set(code.co_names) | (
            set(code.co_freevars) - set(code.co_varnames)):
        return False
    try:                                  # (the same names: the same bytecode?)
        made = compile(ast.Expression(lam), code.co_filename, "eval")
    except (SyntaxError, ValueError, TypeError):
        return True
    inner = next((c for c in made.co_consts if isinstance(c, types.CodeType)), None)
    return inner is None or inner.co_code == code.co_code


def _find_function(module: ast.Module, fn: Any, code: types.CodeType, start: int = 1) -> Any:
    if fn.__name__ == "<lambda>":
        return _find_lambda(module, code, start)
    first = [n for n in module.body[:1] if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
             and n.name == code.co_name]
    for node in first or ast.walk(module):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                node.name == code.co_name):
            if isinstance(node, ast.AsyncFunctionDef):
                raise SourceError(f"{fn.__name__} is an async function; symgrad differentiates "
                                  "ordinary functions only.")
            return node
    raise SourceError(f"symgrad could not find the definition of {describe(fn)} in its source.")


def _find_lambda(module: ast.Module, code: types.CodeType, start: int) -> ast.FunctionDef:
    found = _lambda_candidates(module, code, start)
    if len(found) != 1:
        raise SourceError(
            "symgrad cannot tell which lambda on this line is meant "
            f"({len(found)} candidates in {code.co_filename} line {code.co_firstlineno}). "
            "Write the function with def.")
    lam = found[0]
    ret = ast.Return(lam.body, lineno=lam.lineno, col_offset=lam.col_offset,
                     end_lineno=getattr(lam, "end_lineno", lam.lineno))
    fdef = ast.FunctionDef(name="<lambda>", args=lam.args, body=[ret], decorator_list=[],
                           returns=None, lineno=lam.lineno, col_offset=lam.col_offset)
    if "type_params" in ast.FunctionDef._fields:
        fdef.type_params = []
    return fdef


def construct_name(node: ast.AST) -> str:
    """What an unsupported statement or target is called in an error ("a try statement")."""
    names = {ast.Try: "a try statement", ast.With: "a with statement",
             ast.ClassDef: "a class definition", ast.AsyncFunctionDef: "an async function",
             ast.AsyncFor: "async for", ast.AsyncWith: "async with"}
    if hasattr(ast, "TryStar"):
        names[ast.TryStar] = "try/except*"
    if hasattr(ast, "Match"):
        names[ast.Match] = "a match statement"
    return names.get(type(node), type(node).__name__.lower())


def construct_hint(node: ast.AST) -> str:
    """What to do instead of the unsupported statement ``node``."""
    if isinstance(node, ast.Try):
        return "move the error handling outside the differentiated function"
    if isinstance(node, ast.With):
        return ("open files and contexts outside the differentiated function (np.errstate "
                "with quiet settings, warnings.catch_warnings() and contextlib.nullcontext "
                "are read through)")
    if isinstance(node, ast.ClassDef):
        return "define classes at module level"
    return "rewrite it with assignments, if/for/while and function calls"


def python_function_inside(fn: Any) -> Any:
    """A Python function whose source stands for ``fn`` in messages (and globals)."""
    seen = 0
    obj = fn
    while obj is not None and seen < 20:
        seen += 1
        if isinstance(obj, types.FunctionType):
            return obj
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
        elif isinstance(obj, functools.partial):
            obj = obj.func
        elif hasattr(obj, "__wrapped__"):
            obj = obj.__wrapped__
        elif callable(obj) and isinstance(getattr(type(obj), "__call__", None),
                                          types.FunctionType):
            obj = type(obj).__call__
        else:
            obj = None
    return None


def c_wrapper_error(fn: Any, inner: Any) -> Exception:
    """The error for ``fn``, a C-implemented decorator's wrapper (``functools.lru_cache``)
    around the Python function ``inner``."""
    code = inner.__code__
    return SourceError(
        f'File "{code.co_filename}", line {code.co_firstlineno}: symgrad cannot '
        f"differentiate {describe(fn)}: it is wrapped by a C-implemented decorator "
        f"({type(fn).__module__}.{type(fn).__qualname__}, e.g. functools.lru_cache or "
        "functools.cache), whose inside symgrad cannot see.\n  hint: differentiate "
        f"{describe(inner)}.__wrapped__ (the undecorated function) instead.")
