"""What lowering knows of a numpy dtype named in the code (``dtype=float``,
``x.astype(np.float32)``): whether it is a floating-point type, and whether it is one
narrower than the float64 symgrad differentiates in."""

from __future__ import annotations

from typing import Any

from .ir import Const
from .scope import Static

__all__ = ["float_dtype", "narrow_float"]


def float_dtype(dtype: Any) -> bool:
    """Is ``dtype`` (an operand of a call: ``float``, ``np.float64``, ``"float32"``) a
    floating-point type, known while lowering?  (Not known: False.)"""
    if dtype is None:
        return True
    obj = dtype.obj if type(dtype) is Static else dtype.value if type(dtype) is Const else None
    if obj is None and not (type(dtype) is Const and dtype.value is None):
        return False
    import numpy as np
    try:
        return np.dtype(obj).kind == "f"
    except TypeError:
        return False


def narrow_float(dtype: Any) -> str:
    """The name of ``dtype`` if it is a floating-point type narrower than float64
    (``np.float32``, ``"float16"``), known while lowering, else ""."""
    obj = dtype.obj if type(dtype) is Static else dtype.value if type(dtype) is Const else None
    if obj is None:
        return ""
    import numpy as np
    try:
        dt = np.dtype(obj)
    except TypeError:
        return ""
    return dt.name if dt.kind == "f" and dt.itemsize < 8 else ""
