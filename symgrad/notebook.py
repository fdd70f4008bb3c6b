"""Notebook display: generated source as highlighted HTML, symbolic results as LaTeX."""

from __future__ import annotations

import html

__all__ = ["source_html"]


def source_html(source: str) -> str:
    """``source`` as HTML: highlighted by Pygments when it is installed (Jupyter
    ships it), else escaped in a ``<pre>`` block."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:                              # pragma: no cover - Jupyter has it
        return f"<pre>{html.escape(source)}</pre>"
    fmt = HtmlFormatter(noclasses=True, nobackground=False)
    return highlight(source, PythonLexer(), fmt)
