"""The exceptions symgrad raises.  Every one is a :class:`SymgradError`."""

from __future__ import annotations


class SymgradError(Exception):
    """Base class of every error symgrad raises on purpose."""


class SourceError(SymgradError):
    """symgrad could not read the source of a function (builtins, ``exec``, a bare REPL)."""


class UnsupportedSyntaxError(SymgradError):
    """A construct outside the supported Python subset.

    The message names the file, line and column, quotes the source line and
    says what to write instead.
    """

    def __init__(self, construct: str, hint: str, filename: str = "<unknown>",
                 lineno: int = 0, col: int = 0, line: str = ""):
        self.construct = construct
        self.hint = hint
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.line = line
        where = f'File "{filename}", line {lineno}, column {col + 1}'
        quoted = f"\n    {line.strip()}\n" if line.strip() else "\n"
        super().__init__(f"{where}: symgrad cannot differentiate {construct}.{quoted}"
                         f"  hint: {hint}")


class NonDifferentiableError(SymgradError):
    """A value the gradient depends on flows through something with no derivative rule."""


class NonScalarError(SymgradError):
    """The differentiated function did not return a single number."""


class ArgumentError(SymgradError, TypeError):
    """A differentiated argument is of a kind symgrad cannot differentiate (bool, str, ...)."""
