"""Records whose class computes some of what the code reads: a property
(``p.sigma`` of ``@property def sigma(self): return math.exp(self.log_sigma)``) or a
method (``p.energy(x)``) of a dataclass, NamedTuple or object passed in.

The code alone cannot tell a field from a property (``p.sigma`` reads either), so the
gradient made from it reads fields.  A call whose record's class has properties or
methods of its own goes to a gradient made for that class (as arrays go to one made
for their ranks): lowering then inlines the property's getter, or the method, with
the record as ``self`` (:meth:`symgrad.lower_expr.ExprLowering.e_attribute`), so the
derivative flows into the fields they read, and the gradient is a record of the
fields' adjoints, as for any record.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from typing import Any

__all__ = ["ClassOf", "class_key", "computed", "member_of", "setup_per_class"]

#: classes whose instances are never such records
_PLAIN = (int, float, complex, bool, str, bytes, list, tuple, dict, set, frozenset,
          type(None))


class ClassOf:
    """An argument's entry in the key of a specialized gradient: its record's class
    (``items``: the class of the records of a list or tuple)."""

    __slots__ = ("cls", "items")

    def __init__(self, cls: type, items: bool = False):
        self.cls = cls
        self.items = items

    def __eq__(self, other: Any) -> bool:
        return type(other) is ClassOf and other.cls is self.cls and other.items == self.items

    def __hash__(self) -> int:
        return hash((ClassOf, id(self.cls), self.items))

    def __repr__(self) -> str:
        return f"ClassOf({self.cls.__qualname__}{', items' if self.items else ''})"


@functools.lru_cache(maxsize=512)
def _own_members(cls: type) -> bool:
    """Does ``cls`` (or a base of it other than ``object`` and the builtins) define a
    property or a plain method (not a private one: ``__init__``, ``_replace`` ...)?"""
    for base in cls.__mro__:
        if base is object or base.__module__ == "builtins" or base.__module__ in (
                "typing", "collections", "abc", "enum"):
            continue
        for name, value in vars(base).items():
            if name.startswith("_"):
                continue
            if isinstance(value, (property, functools.cached_property, staticmethod)) or \
                    inspect.isfunction(value):
                return True
    return False


def class_key(value: Any) -> ClassOf | None:
    """``ClassOf(type(value))`` for a record whose class computes what may be read from
    it (see the module's docstring), else None."""
    cls = type(value)
    if cls in (list, tuple) and value:   # (layers = [L(w, b), ...]: their methods too)
        inner = class_key(value[0])
        return ClassOf(inner.cls, True) if inner is not None and not inner.items and all(
            type(v) is inner.cls for v in value) else None
    if cls in _PLAIN or cls.__module__ in ("builtins", "numpy") or isinstance(value, type) \
            or isinstance(value, numbers.Number) or hasattr(cls, "__add__") and not \
            issubclass(cls, tuple):        # (a number of its own: Value, Traced, Fraction)
        return None
    try:
        return ClassOf(cls) if _own_members(cls) else None
    except TypeError:           # (a class that is not hashable: not cached)
        return None


def computed(cls: type, attr: str) -> tuple[str, Any] | None:
    """What reading ``attr`` on an instance of ``cls`` runs: ``("property", getter)``,
    ``("method", function)`` (a plain function of the class: a bound method), or None
    for a field (or anything else: read as a field)."""
    try:
        found = inspect.getattr_static(cls, attr)
    except AttributeError:
        return None
    if isinstance(found, property) and found.fget is not None:
        return "property", found.fget
    if isinstance(found, functools.cached_property):
        return "property", found.func
    if isinstance(found, staticmethod):
        return "static", found.__func__
    if inspect.isfunction(found):
        return "method", found
    return None


def member_of(lw: Any, base: Any, attr: str) -> tuple[str, Any] | None:
    """What ``base.attr`` runs, for ``base`` a parameter given a record whose class the
    gradient is made for (:data:`symgrad.ir.CLASS_PARAMS`), else None."""
    cls = lw.param_classes.get(base) if lw.param_classes else None
    if cls is None and lw.item_classes and type(base).__name__ == "Var":
        k = base.kind.find()                                 # (an item of such a list)
        cls = next((c for item, c in lw.item_classes if item.find() is k), None)
    return None if cls is None else computed(cls, attr)


def setup_per_class(gf: Any, fn: Any, target: Any, params: list[str], indices: list[int],
                    single: bool, with_value: bool, wrt: Any, error: Exception) -> None:
    """Make ``gf`` a gradient made at each call for the classes of its records: the code
    calls a method of a record parameter (``p.energy(x)``), which only its class tells
    (``error``, raised for the code alone, is raised again for a call that gives no
    such record)."""
    name = getattr(fn, "__name__", None) or "f"
    kind = "value and gradient" if with_value else "gradient"
    wrt_names = tuple(params[i] for i in indices)
    gf.__dict__.update(
        _result=None, _spec=(target, indices, single), _specs={}, _wrt=wrt, _fixed={},
        _signature=None, inactive=(), fn=fn, params=params, wrt=wrt_names,
        _wrt_idx=tuple(indices), with_value=with_value, __wrapped__=fn,
        __name__="d_" + name, __qualname__="d_" + name, _shown=None, _kinds=[],
        _containers=True, _listable=(), _class_error=error,
        source=(f"# The {kind} of {name} is made for the classes of the records it is "
                "given (their methods are read): call it, then read .source\n"),
        __doc__=(f"The {kind} of {name} with respect to {', '.join(wrt_names)}, generated "
                 "by symgrad for the classes of the records passed in.\n\n"
                 + (getattr(fn, "__doc__", None) or "")))
    gf.__setstate__((functools.partial(_per_class_call, gf), (), None, gf.__dict__))


def _per_class_call(gf: Any, *args: Any, **kwargs: Any) -> Any:
    from .fixed_call import _positional
    full = _positional(gf, args, kwargs)
    key = gf._array_key(full)
    if not any(type(k) is ClassOf for k in key):
        raise gf._class_error
    spec = gf._specialized(key)
    gf.source, gf._shown = spec.source, spec
    return gf._restore(full, spec.fn(*full))
