"""Models of numpy functions that gather entries into a new array, inlined as
:mod:`symgrad.numpy_models`' are (registered in its table): ``np.unique`` (the sorted
values, each once) and ``np.block`` (blocks assembled into one array).  Each entry of
the result is an entry of the input, so its derivative goes back to the entry it came
from (for a value that appears several times, to the first in sorted order)."""

from __future__ import annotations

import numpy as np

__all__ = ["MODELS"]


def unique(ar, return_index=False, return_inverse=False, return_counts=False):
    """``np.unique``: numpy's own steps (a stable sort; NaNs kept once, at the end, as
    numpy's ``equal_nan``); the indices, inverse and counts are integers."""
    flat = np.ravel(ar)
    order = np.argsort(flat, kind="stable")
    s = flat[order]
    new = np.concatenate((np.ones(min(s.shape[0], 1), dtype=bool),     # (no writes:
                          (s[1:] != s[:-1]) & ~(np.isnan(s[1:]) & np.isnan(s[:-1]))))
    out = (s[new],)                                                      # a mask, read)
    if return_index:
        out = out + (order[new],)
    if return_inverse:          # (argsort of a permutation: its inverse)
        inverse = (np.cumsum(new) - 1)[np.argsort(order, kind="stable")]
        out = out + (np.reshape(inverse, np.shape(ar)),)
    if return_counts:
        out = out + (np.diff(np.append(np.flatnonzero(new), s.shape[0])),)
    return out[0] if len(out) == 1 else out


def block(arrays):
    """``np.block`` of a list of arrays (joined along the last axis) or of a list of
    rows of them (each row joined along the last axis, the rows along the one before);
    blocks of fewer dimensions get leading axes of length 1, as numpy gives them."""
    if isinstance(arrays, list) and isinstance(arrays[0], list):
        return np.concatenate([np.concatenate([np.atleast_2d(a) for a in row], axis=-1)
                               for row in arrays], axis=-2)
    return np.concatenate([np.atleast_1d(a) for a in arrays], axis=-1)


MODELS = {np.unique: unique, np.block: block}
