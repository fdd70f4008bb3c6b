"""The ``symgrad`` command: show, check and symbolically differentiate a function in a file.

::

    symgrad show path/to/file.py:func [--wrt x,y]
    symgrad check path/to/file.py:func 2.0 0.0 -3.0 [--wrt x,y] [--rtol R] [--atol A]
    symgrad symbolic path/to/file.py:func [point ...] [--wrt x,y] [--latex]

``python -m symgrad`` is the same command.  Arguments are Python literals: numbers, or
lists such as ``[1.0,2.0]``.  Numbers for the differentiated parameters become floats;
with ``--wrt``, the others keep their type (``3`` stays an int, e.g. a loop count).
Exit status: 0 success, 1 the engines disagree (``check``), 2 a usage error.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["load_function", "main"]


class UsageError(Exception):
    """A one-line error for the user: exit status 2, no traceback."""


def load_function(spec: str) -> Callable[..., Any]:
    """The function named by ``path/to/file.py:func`` (``func`` may be ``Class.method``).

    The file is imported by path under a module name derived from its file name, with its
    directory on ``sys.path`` so its own imports work.
    """
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise UsageError(f"expected FILE.py:FUNCTION, got {spec!r}")
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "module"
    modname = stem if stem not in sys.modules else f"_symgrad_cli_{stem}"
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    loader_spec = importlib.util.spec_from_file_location(modname, path)
    if loader_spec is None or loader_spec.loader is None:
        raise UsageError(f"cannot import {path} (not a Python file?)")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[modname] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's module failed to import: one line
        raise UsageError(f"importing {path} failed: {type(exc).__name__}: {exc}") from None
    obj: Any = module
    for part in name.split("."):
        if not hasattr(obj, part):
            funcs = sorted(k for k, v in vars(module).items()
                           if callable(v) and getattr(v, "__module__", None) == modname)
            near = difflib.get_close_matches(name, funcs, n=3) or funcs[:8]
            more = ", ..." if len(near) < len(funcs) and near == funcs[:8] else ""
            raise UsageError(f"{path} has no function {name!r}" + (
                f" (did you mean: {', '.join(near)}{more})" if near else ""))
        obj = getattr(obj, part)
    if not callable(obj):
        raise UsageError(f"{path}:{name} is a {type(obj).__name__}, not a function")
    return obj


def _literal(text: str) -> Any:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise UsageError(f"argument {text!r} is not a number or a list of numbers") from None
    if isinstance(value, bool) or not isinstance(value, (int, float, list, tuple)):
        raise UsageError(f"argument {text!r} is not a number or a list of numbers")
    return value


def _to_float(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return type(x)(_to_float(v) for v in x)
    return float(x)


def _params(fn: Any) -> list[str]:
    from .api import _params_of
    return _params_of(fn)


def _arguments(fn: Any, texts: Sequence[str], wrt: list[str] | None,
               optional: bool = False) -> list[Any]:
    """Parse the point; check the count; differentiated numbers become floats."""
    params = _params(fn)
    if optional and not texts:
        return []
    if len(texts) != len(params):
        raise UsageError(f"{fn.__name__} takes {_count(len(params))} ({', '.join(params)}), "
                         f"got {len(texts)}")
    values = [_literal(t) for t in texts]
    return [_to_float(v) if wrt is None or p in wrt else v for p, v in zip(params, values)]


def _count(n: int) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


def _wrt(fn: Any, text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [w.strip() for w in text.split(",") if w.strip()]
    params = _params(fn)
    for w in names:
        if w not in params:
            raise UsageError(f"--wrt {w}: {fn.__name__} has no parameter {w!r} "
                             f"(its parameters: {', '.join(params)})")
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="symgrad", description="Differentiate Python functions by source transformation: "
        "print the generated gradient, cross-check it, or derive it symbolically.",
        epilog="Example: symgrad check examples/seed_neuron.py:neuron 2.0 0.0 -3.0 1.0 6.88137")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    target = {"metavar": "FILE.py:FUNCTION", "help": "the function, e.g. model.py:loss"}
    wrt = {"metavar": "NAMES", "help": "comma-separated parameters to differentiate "
           "(default: all; for check, those given a float)"}

    show = sub.add_parser("show", help="print the generated gradient source",
                          description="Print the source symgrad generates for the gradient.")
    show.add_argument("function", **target)
    show.add_argument("--wrt", **wrt)

    chk = sub.add_parser("check", help="compare symgrad, SymPy, the Value engine and finite "
                         "differences at a point", description="Compute the gradient at a point "
                         "with four engines and compare them; exit status 1 if they disagree.")
    chk.add_argument("function", **target)
    chk.add_argument("args", nargs="*", metavar="ARG",
                     help="the point: one number (or [list]) per parameter")
    chk.add_argument("--wrt", **wrt)
    chk.add_argument("--rtol", type=float, default=1e-6,
                     help="relative tolerance between symgrad, SymPy and Value (default 1e-6)")
    chk.add_argument("--atol", type=float, default=1e-9,
                     help="absolute tolerance (default 1e-9)")

    sym = sub.add_parser("symbolic", help="print f and its gradient as SymPy expressions",
                         description="Print f and each gradient component as sympy.diff gives "
                         "it and as symgrad's generated code computes it, simplified.")
    sym.add_argument("function", **target)
    sym.add_argument("args", nargs="*", metavar="ARG", help="optional point: needed for "
                     "list arguments and branches (SymPy follows the path taken there)")
    sym.add_argument("--wrt", **wrt)
    sym.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``symgrad`` command; returns the exit status."""
    args = _parser().parse_args(argv)  # "-3.0" is an argument: no option looks like a number
    from . import check, symbolic
    from .api import grad
    from .errors import SymgradError
    fn = None
    try:
        fn = load_function(args.function)
        wrt = _wrt(fn, args.wrt)
        if args.command == "show":
            one = wrt[0] if wrt is not None and len(wrt) == 1 else wrt  # d_b, not (d_b,)
            print(grad(fn, wrt=one).source, end="")
            return 0
        if args.command == "check":
            point = _arguments(fn, args.args, wrt)
            report = check(fn, *point, wrt=wrt, rtol=args.rtol, atol=args.atol)
            print(report)
            return 0 if report.ok else 1
        point = _arguments(fn, args.args, wrt, optional=True)
        result = symbolic(fn, *point, wrt=wrt)
        print(result.latex() if args.latex else result)
        return 0
    except UsageError as exc:
        print(f"symgrad: error: {exc}", file=sys.stderr)
    except SymgradError as exc:
        print(f"symgrad: error: {exc}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - f raised at the point: one line, no traceback
        hint = ""
        if isinstance(exc, TypeError) and "integer" in str(exc) and args.wrt is None:
            hint = (" (an integer argument such as a loop count? name the differentiated "
                    "parameters with --wrt and the others keep their type)")
        print(f"symgrad: error: {getattr(fn, '__name__', 'f')} raised {type(exc).__name__}: {exc}{hint}",
              file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
