"""The arguments a generated sweep (``jvp``, ``vjp``, the Jacobians, ``hvp``) takes,
checked as ``grad``'s entry checks them (:func:`symgrad.entry.check_arguments`)."""

from __future__ import annotations

from typing import Any

from .api import check_kind
from .entry import check_arguments, is_complex
from .ir import FIXED_AT_USE, FIXED_PARAMS
from .pipeline import uses_numpy

__all__ = ["SweepArguments"]


class SweepArguments:
    """The parameters a sweep's code uses as one number, or hands to numpy with no other
    use: a list given there is refused, as ``grad``'s entry refuses it
    (:func:`symgrad.entry.check_arguments`), since Python's arithmetic on lists (``x * 2``
    repeats, ``x + y`` joins) is not numpy's, which the derivative follows."""

    def __init__(self, fn: Any, lowered: Any):
        arrays = uses_numpy(lowered)
        self.name = getattr(fn, "__name__", None) or type(fn).__name__
        fs = lowered.fs
        self.where = f'File "{fs.filename}", line {fs.line(fs.tree)}: '
        self.names = [p.name for p in lowered.params]
        given = lowered.patterns or {}
        fixed = {**given.get(FIXED_PARAMS, {}), **given.get(FIXED_AT_USE, {})}
        kinds = [None if p.name in fixed else check_kind(p, lowered, arrays)
                 for p in lowered.params]
        self.params = tuple((i, p.name) for i, (p, k) in enumerate(zip(lowered.params, kinds))
                            if k in ("num", "loose"))
        #: parameters the code reads as lists (``[y, [x]]`` makes ``y`` one): a number
        #: given there is refused, as grad's entry refuses it
        self.lists = tuple((i, p.name) for i, (p, k) in enumerate(zip(lowered.params, kinds))
                           if k == "list")

    def refuse_lists(self, full: tuple, idx: Any) -> None:
        """Refuse a list given for such a parameter, and a complex number given for any
        differentiated one (as ``grad`` does)."""
        for i, name in self.params:
            if i < len(full) and type(full[i]) in (list, tuple) and i in idx:
                check_arguments(self.name, self.where, [name], ["loose"], (full[i],))
        for i, name in self.lists:
            if i < len(full) and type(full[i]) in (float, int):
                check_arguments(self.name, self.where, [name], ["list"], (full[i],))
        for i in idx:
            if is_complex(full[i]):
                check_arguments(self.name, self.where, [self.names[i]], ["num"], (full[i],))
