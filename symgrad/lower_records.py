"""NamedTuples made inside the differentiated function (``p = Point(x, y)``).

A NamedTuple is a tuple: lowering keeps it as a :class:`~symgrad.scope.StaticTuple`
whose ``cls`` is the class, so its items are the operands themselves (no object is built
at run time, and the adjoints flow item by item as for any tuple).  Fields are read by
name (``p.x``), by index or by unpacking; a method or property of the class is inlined
with the tuple as ``self``; a class constant is read as it is.  What Python would refuse
(a missing or unknown field) is refused with the line; a class that defines its own
``__new__`` or ``__init__`` is not taken for a plain NamedTuple (it is called as any
other function would be).
"""

from __future__ import annotations

import ast
import inspect
import types
from typing import Any

from .ir import Const
from .lower_objects import RecordOf, real_class
from .scope import FuncChoice, FuncValue, PartialValue, Static, StaticTuple

__all__ = ["class_of_tuple", "is_named_tuple_class", "make_named_tuple", "named_tuple_attribute",
           "tuple_identity"]


def is_named_tuple_class(obj: Any) -> bool:
    """A class made by ``typing.NamedTuple`` or ``collections.namedtuple`` (or a subclass
    adding methods only), whose call builds the tuple of its arguments."""
    if not (isinstance(obj, type) and issubclass(obj, tuple) and
            isinstance(getattr(obj, "_fields", None), tuple)):
        return False
    for klass in obj.__mro__:
        if "_make" in vars(klass):            # the class namedtuple made
            return True
        if "__new__" in vars(klass) or "__init__" in vars(klass):
            return False
    return False


def make_named_tuple(lw: Any, cls: type, args: list, kwargs: dict, node: ast.AST) -> Any:
    """``Point(x, y=2.0)``: the tuple of the arguments, bound to the fields as Python
    binds them (defaults from the class)."""
    fields = cls._fields
    name = cls.__name__
    if len(args) > len(fields):
        raise lw.error_at(node, f"{name}() with {len(args)} values for {len(fields)} fields",
                          f"give {name} one value per field: {', '.join(fields)}")
    values = dict(zip(fields, args))
    for key, value in kwargs.items():
        if key not in fields or key in values:
            raise lw.error_at(node, f"{name}() with the field {key!r} "
                              f"{'given twice' if key in values else 'it does not have'}",
                              f"its fields are {', '.join(fields)}")
        values[key] = value
    defaults = getattr(cls, "_field_defaults", {})
    for f in fields:
        if f not in values:
            if f not in defaults:
                raise lw.error_at(node, f"{name}() without a value for its field {f!r}",
                                  f"give {name} one value per field: {', '.join(fields)}")
            values[f] = lw.static_value(defaults[f])
    return StaticTuple(tuple(values[f] for f in fields), cls=cls)


def named_tuple_attribute(lw: Any, scope: Any, base: StaticTuple, node: ast.Attribute) -> Any:
    """``p.x`` (a field), ``p.norm`` (a method: bound to ``p``), ``p.size`` (a property:
    inlined now) or a class constant, of a NamedTuple made in the function."""
    cls, attr = base.cls, node.attr
    if attr in cls._fields:
        return base.items[cls._fields.index(attr)]
    try:
        raw = inspect.getattr_static(real_class(cls), attr)
    except AttributeError:
        raise lw.error_at(node, f"the attribute .{attr} of a {cls.__name__}",
                          f"its fields are {', '.join(cls._fields)}") from None
    if attr == "_replace" and type(cls) is not RecordOf:
        return PartialValue(Static(_replace), (base,), {})
    if isinstance(raw, property) and isinstance(raw.fget, types.FunctionType):
        return lw.inline_function(scope, raw.fget, [base], {}, node, Static(raw.fget))
    if isinstance(raw, staticmethod):
        return Static(raw.__func__)
    if isinstance(raw, types.FunctionType) and (not attr.startswith("_") or
                                                   type(cls) is RecordOf):
        return PartialValue(Static(raw), (base,), {})
    if not callable(raw) and not isinstance(raw, (classmethod, property)):
        value = lw.static_value(raw)
        if type(value) is Const or type(value) is Static:
            return value
    raise lw.error_at(node, f"the attribute .{attr} of a {cls.__name__} made in the function",
                      "read its fields, or call a method defined in its class")


def tuple_identity(lw: Any, t: StaticTuple, other: Any, node: ast.AST) -> bool:
    """``t is other`` for a tuple ``t`` made in the function: the same object when ``q = t``
    shares it, another one when it was built again; never a number, ``None``, a string or
    a function.  Refused where it depends on the path taken, or on a value made when the
    code runs (a tuple taken back out of a list)."""
    if type(other) is StaticTuple and t.ident is not None and other.ident is not None:
        return t.ident is other.ident
    if type(other) in (FuncValue, FuncChoice, Static) or type(other) is Const and \
            not isinstance(other.value, tuple):
        return False
    raise lw.error_at(node, "the identity (is) of a tuple made in the function here",
                      "compare the values with == instead")


def _replace(self: Any, **changes: Any) -> Any:
    """What ``p._replace`` is bound to for a NamedTuple made in the function (lowering
    makes the new tuple itself: see :func:`class_of_tuple`)."""
    raise NotImplementedError


def class_of_tuple(lw: Any, obj: Any, args: list, kwargs: dict, node: ast.AST) -> Any:
    """``type(t)``, ``hasattr(t, name)`` and ``t._replace(x=v)`` of a tuple made in the
    function (of its NamedTuple class), known while lowering; else None.  (The tuple the
    code builds when it needs one is a plain tuple: asked there, it would not be of the
    class.)"""
    if not args or type(args[0]) is not StaticTuple:
        return None
    t = args[0]
    cls = t.cls or tuple
    if type(cls) is RecordOf:               # an object made in the function (lower_objects)
        if obj is type and len(args) == 1 and not kwargs:
            return Static(cls.real)
        if obj is hasattr and len(args) == 2 and type(args[1]) is Const and \
                isinstance(args[1].value, str):
            return Const(args[1].value in cls._fields or hasattr(cls.real, args[1].value))
        return None
    if obj is _replace and len(args) == 1:
        unknown = sorted(set(kwargs) - set(cls._fields))
        if unknown:
            raise lw.error_at(node, f"{cls.__name__}._replace() with the field "
                              f"{unknown[0]!r} it does not have",
                              f"its fields are {', '.join(cls._fields)}")
        return StaticTuple(tuple(kwargs.get(f, v) for f, v in zip(cls._fields, t.items)),
                           cls=cls)
    if kwargs:
        return None
    if obj is type and len(args) == 1:
        return Static(cls)
    if obj is hasattr and len(args) == 2 and type(args[1]) is Const and \
            isinstance(args[1].value, str):
        return Const(hasattr(cls, args[1].value))
    return None
