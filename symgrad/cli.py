"""The ``symgrad`` command: show, check and symbolically differentiate a function in a file.

::

    symgrad show path/to/file.py:func [--wrt x,y] [--mode grad|jvp|vjp|hessian|hvp]
                 [--stage ir|reverse|optimized]
    symgrad check path/to/file.py:func 2.0 0.0 -3.0 [--wrt x,y] [--rtol R] [--atol A]
                  [--timeout SECONDS] [--engines sympy,value,fd]
                  [--mode grad|jvp|hessian|hvp] [--tangents LITERAL]
    symgrad symbolic path/to/file.py:func [point ...] [--wrt x,y] [--latex] [--timeout S]

``python -m symgrad`` is the same command.  Arguments are Python literals, kept as they are:
``2.0``, ``3`` (an int stays an int: a number like a float, and still usable as a count or
index), ``[1.0, 2.0]``, ``'fast'``, and ``array([[1.0, 2.0]])`` for a numpy float array; missing trailing arguments take the function's defaults.
Exit status: 0 success, 1 the engines disagree or nothing could be checked (``check``),
2 a usage error.

>>> _literal("3"), _literal("[1.0, 2]"), _literal("'fast'")
(3, [1.0, 2], 'fast')
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

SHOW_MODES = ("grad", "jvp", "vjp", "hessian", "hvp")
CHECK_MODES = ("grad", "jvp", "hessian", "hvp")


class UsageError(Exception):
    """A one-line error for the user: exit status 2, no traceback."""


def load_function(spec: str) -> Callable[..., Any]:
    """The function named by ``path/to/file.py:func`` (``func`` may be ``Class.method``).

    The file is imported by path under a module name derived from its file name, with its
    directory on ``sys.path`` so its own imports work.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "area_model.py")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("def area(w, h):\\n    return w * h\\n")
    >>> load_function(path + ":area")(2.0, 3.0)
    6.0
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
    """A command-line argument as the Python literal it spells (ints stay ints);
    ``array([...])`` (or ``np.array([...])``) is a numpy float array.

    >>> _literal("array([[1, 2], [3, 4]])")
    array([[1., 2.],
           [3., 4.]])
    """
    inner = re.fullmatch(r"\s*(?:np\.|numpy\.)?array\((.*)\)\s*", text, re.S)
    if inner is not None:
        import numpy as np
        try:
            return np.array(ast.literal_eval(inner.group(1)), dtype=float)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise UsageError(f"argument {text!r}: array(...) takes a nested list of numbers, "
                             "e.g. \"array([[1.0, 2.0], [3.0, 4.0]])\"") from None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise UsageError(f"argument {text!r} is not a Python literal (a number such as 2.0 or "
                         "3, a list such as [1.0, 2.0], a quoted string such as \"'fast'\")"
                         ) from None


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [w.strip() for w in text.split(",") if w.strip()]


def _wrt(fn: Any, text: str | None) -> list[str] | None:
    from .arguments import params_of
    names = _names(text)
    if names is None:
        return None
    params = params_of(fn)
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
    _show_parser(sub)
    _check_parser(sub)
    _symbolic_parser(sub)
    return parser


_TARGET = {"metavar": "FILE.py:FUNCTION", "help": "the function, e.g. model.py:loss"}
_TIMEOUT = {"type": float, "metavar": "SECONDS", "default": None}


def _show_parser(sub: Any) -> None:
    show = sub.add_parser("show", help="print the generated gradient source",
                          description="Print the source symgrad generates for the gradient "
                          "(or, with --mode, for another derivative).")
    show.add_argument("function", **_TARGET)
    show.add_argument("--wrt", metavar="NAMES", help="comma-separated parameters to "
                      "differentiate (default: all)")
    show.add_argument("--mode", choices=SHOW_MODES, default="grad",
                      help="which generated function: grad (the gradient, default), jvp "
                      "(forward mode), vjp (reverse mode seeded with one cotangent per "
                      "result), hessian or hvp (forward over reverse; the same code)")
    show.add_argument("--stage", choices=("ir", "reverse", "optimized"), default=None,
                      help="print an intermediate form of the compiler instead: the "
                      "lowered IR, the reverse sweep before optimizing, or after")


def _check_parser(sub: Any) -> None:
    chk = sub.add_parser("check", help="compare symgrad, SymPy, the Value engine and finite "
                         "differences at a point", description="Compute the gradient at a point "
                         "with four engines and compare them; exit status 1 if they disagree "
                         "or no engine could check a derivative.")
    chk.add_argument("function", **_TARGET)
    chk.add_argument("args", nargs="*", metavar="ARG", help="the point: one Python literal "
                     "per parameter (2.0, 3, [1.0, 2.0], or \"array([1.0, 2.0])\" for a numpy "
                     "array); missing ones take the defaults")
    chk.add_argument("--wrt", metavar="NAMES", help="comma-separated parameters to "
                     "differentiate (default: those whose argument is a number or a list of "
                     "numbers)")
    chk.add_argument("--rtol", type=float, default=1e-6,
                     help="relative tolerance between symgrad, SymPy and Value (default 1e-6)")
    chk.add_argument("--atol", type=float, default=1e-9,
                     help="absolute tolerance (default 1e-9)")
    chk.add_argument("--timeout", **_TIMEOUT, help="seconds each engine may take (default 20); "
                     "an engine that runs out shows 'timed out'")
    chk.add_argument("--engines", metavar="NAMES", default="sympy,value,fd",
                     help="comma-separated engines to run: sympy, value, fd (default: all)")
    chk.add_argument("--mode", choices=CHECK_MODES, default="grad",
                     help="what to check: grad (default), jvp (the derivative along "
                     "--tangents), hessian (every entry H[x,y]) or hvp (the Hessian times "
                     "--tangents)")
    chk.add_argument("--tangents", metavar="LITERAL", help="the direction v of jvp and hvp: "
                     "one tangent per differentiated parameter, shaped like its argument, "
                     "e.g. \"[1.0, [0.5, -0.5]]\" (default: a fixed pseudo-random direction, "
                     "shown in the report)")


def _symbolic_parser(sub: Any) -> None:
    sym = sub.add_parser("symbolic", help="print f and its gradient as SymPy expressions",
                         description="Print f and each gradient component as sympy.diff gives "
                         "it and as symgrad's generated code computes it, simplified.")
    sym.add_argument("function", **_TARGET)
    sym.add_argument("args", nargs="*", metavar="ARG", help="optional point: needed for "
                     "list arguments and branches (SymPy follows the path taken there)")
    sym.add_argument("--wrt", metavar="NAMES", help="comma-separated parameters to "
                     "differentiate (default: all, or with a point those whose argument is a "
                     "number or a list of numbers)")
    sym.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    sym.add_argument("--timeout", **_TIMEOUT, help="seconds SymPy may take to build the "
                     "expressions (default 20)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``symgrad`` command; returns the exit status.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "square_model.py")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write("def square(x):\\n    return x * x\\n")
    >>> main(["symbolic", path + ":square"])
    square(x) = x**2
    d/dx = 2*x   (sympy.diff = symgrad: proved equal)
    0
    """
    args = _parser().parse_args(argv)  # "-3.0" is an argument: no option looks like a number
    from . import check, symbolic
    from .api import grad
    from .errors import SymgradError
    from .modes import linearize_source
    fn = None
    try:
        fn = load_function(args.function)
        wrt = _wrt(fn, args.wrt)
        if args.command == "show":
            one = wrt[0] if wrt is not None and len(wrt) == 1 else wrt  # d_b, not (d_b,)
            if args.stage is not None:
                from .api import show as show_stage
                show_stage(fn, wrt=one, stage=args.stage)
                return 0
            print(grad(fn, wrt=one).source if args.mode == "grad" else
                  linearize_source(fn, args.mode, one), end="")
            return 0
        point = [_literal(t) for t in args.args]
        if args.command == "check":
            tangents = None if args.tangents is None else _literal(args.tangents)
            report = check(fn, *point, wrt=wrt, rtol=args.rtol, atol=args.atol,
                           timeout=args.timeout, engines=_names(args.engines) or (),
                           mode=args.mode, tangents=tangents)
            print(report)
            return 0 if report.ok else 1
        result = symbolic(fn, *point, wrt=wrt, timeout=args.timeout)
        print(result.latex() if args.latex else result)
        return 0
    except (UsageError, SymgradError) as exc:
        print(f"symgrad: error: {exc}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - f raised (importing it, say): one line
        name = getattr(fn, "__name__", "f")
        print(f"symgrad: error: {name} raised {type(exc).__name__}: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
