"""A numpy ufunc's methods (``np.add.reduce``, ``np.maximum.accumulate``,
``np.subtract.outer`` ...) as what the lowering already differentiates: the numpy
function each one is, or a model of its steps (:mod:`symgrad.numpy_models`)."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["ufunc_method_as"]


#: (ufunc, method) -> the numpy function it is (with axis=0 by default, as the method)
_UFUNC_METHODS = {("add", "reduce"): "sum", ("multiply", "reduce"): "prod",
                  ("maximum", "reduce"): "max", ("minimum", "reduce"): "min",
                  ("add", "accumulate"): "cumsum", ("multiply", "accumulate"): "cumprod"}


#: ufunc methods with no numpy function of their own: models (symgrad.numpy_models)
_UFUNC_MODELS = {("logaddexp", "reduce"): "logaddexp_reduce",
                 ("logaddexp2", "reduce"): "logaddexp2_reduce",
                 ("maximum", "accumulate"): "maximum_accumulate",
                 ("minimum", "accumulate"): "minimum_accumulate"}
_UFUNC_OUTER = ("add", "subtract", "multiply", "divide", "power", "maximum", "minimum")


def ufunc_method_as(obj: Any) -> Any:
    """``np.sum`` for ``np.add.reduce`` (``np.cumsum`` for ``np.add.accumulate`` ...; a
    model for ``np.logaddexp.reduce`` ...), or None."""
    np = sys.modules.get("numpy")
    owner = getattr(obj, "__self__", None)
    if np is None or not isinstance(owner, np.ufunc) or \
            getattr(np, owner.__name__, None) is not owner:
        return None
    key = (owner.__name__, getattr(obj, "__name__", ""))
    if key in _UFUNC_MODELS:
        from . import numpy_models
        return getattr(numpy_models, _UFUNC_MODELS[key])
    if key[1] == "outer" and key[0] in _UFUNC_OUTER:     # np.subtract.outer(x, x)
        import functools
        from . import numpy_models
        return functools.partial(numpy_models.ufunc_outer, owner)
    name = _UFUNC_METHODS.get(key)
    return None if name is None else getattr(np, name)
