"""Objects of the user's classes made inside the differentiated function.

``layer = Linear(W, b)`` then ``layer(x)``, ``model = Poly(coeffs)`` then
``model.value(x)``: the class's ``__init__`` is inlined with ``self`` an object being
built (:class:`Building`), whose ``self.w = w`` assignments name its fields, and the
finished object is kept as the tuple of its fields (a :class:`~symgrad.scope.StaticTuple`
whose ``cls`` is a :class:`RecordOf`), as a NamedTuple made in the function is: nothing
is built when the gradient runs, each field's adjoint flows as a variable's, and its
methods, ``__call__`` and properties are inlined with the object as ``self``.  A
dataclass's fields come from the class (its ``__init__`` is generated, with no source),
then its ``__post_init__`` runs like an ``__init__``.

What this cannot follow is refused by name: a field assigned once ``__init__`` has
returned (``self.total += v`` in a method, ``layer.w = ...``: the object is a value,
not a place), in a branch or loop of ``__init__`` that runs only when the code runs,
an object used as a value where Python's own would be needed (handed to a function
symgrad cannot see into, returned), indexed or unpacked (Python raises there), a
class with its own ``__new__``, a dataclass field made by a ``default_factory``.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import types
from typing import Any

from .errors import UnsupportedSyntaxError
from .scope import Scope, Static, StaticTuple

__all__ = ["RecordOf", "Building", "SuperOf", "make_object", "is_record", "real_class",
           "can_make", "super_attribute"]


class RecordOf:
    """The class of an object made in the function, as :func:`named_tuple_attribute` reads
    a NamedTuple's: its field names (in the order ``__init__`` assigned them)."""

    def __init__(self, real: type, fields: tuple):
        self.real = real
        self._fields = fields
        self.__name__ = real.__name__
        self._field_defaults: dict = {}


class Building:
    """``self`` while the class's ``__init__`` runs: the fields assigned so far (and the
    depth of branches and loops the ``__init__`` started at)."""

    def __init__(self, cls: type, depth: int):
        self.cls = cls
        self.fields: dict[str, Any] = {}
        self.depth = depth


def real_class(cls: Any) -> Any:
    """The class Python would have made: the user's class of a :class:`RecordOf`, else
    ``cls`` itself (a NamedTuple's)."""
    return cls.real if type(cls) is RecordOf else cls


def is_record(value: Any) -> bool:
    """Is ``value`` an object made in the function (a :class:`RecordOf` tuple)?"""
    return type(value) is StaticTuple and type(value.cls) is RecordOf


def can_make(cls: Any) -> bool:
    """Can an object of the user's class ``cls`` be made as a record of its fields: its
    ``__init__`` written in Python (or a dataclass's), no ``__new__`` of its own?"""
    if inspect.getattr_static(cls, "__new__", object.__new__) is not object.__new__:
        return False
    if not dataclasses.is_dataclass(cls) and not isinstance(
            inspect.getattr_static(cls, "__init__", None), types.FunctionType):
        return False
    return not _changes_itself(cls)


def _changes_itself(cls: type) -> bool:
    """Does a method of ``cls`` (other than ``__init__`` and ``__post_init__``) assign an
    attribute of its ``self``?  Such an object has a state: it is made as Python makes
    it, when the code runs (a field differentiated through it is refused)."""
    from .errors import SymgradError
    from .source import get_source, is_user_class
    for klass in cls.__mro__:
        if not is_user_class(klass):
            continue
        for name, raw in vars(klass).items():
            fn = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
            if name in ("__init__", "__post_init__") or not isinstance(
                    fn, types.FunctionType) or fn.__code__.co_filename.startswith("<"):
                continue          # (a dataclass's __eq__, __repr__: generated, no state)
            try:
                tree = get_source(fn).tree
            except SymgradError:
                return True
            first = tree.args.args[0].arg if tree.args.args else None
            for node in ast.walk(tree):
                targets = node.targets if isinstance(node, ast.Assign) else \
                    [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
                if any(isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and
                       t.value.id == first for t in targets):
                    return True
    return False


def make_object(lw: Any, scope: Scope, cls: type, args: list, kwargs: dict,
                node: ast.AST) -> StaticTuple:
    """``cls(*args, **kwargs)``: the record of the fields its ``__init__`` assigns."""
    this = Building(cls, lw.depth)
    if dataclasses.is_dataclass(cls):
        _dataclass_fields(lw, this, cls, args, kwargs, node)
        post = inspect.getattr_static(cls, "__post_init__", None)
        if isinstance(post, types.FunctionType):
            _run(lw, scope, post, [this], {}, node)
    else:
        _run(lw, scope, inspect.getattr_static(cls, "__init__"), [this, *args], kwargs, node)
    names = tuple(this.fields)
    return StaticTuple(tuple(this.fields[k] for k in names), cls=RecordOf(cls, names))


def _dataclass_fields(lw: Any, this: Building, cls: type, args: list, kwargs: dict,
                      node: ast.AST) -> None:
    """A dataclass's ``__init__``, bound as Python binds it: its ``init`` fields by
    position or keyword, the others and the missing ones from their defaults."""
    fields = dataclasses.fields(cls)
    taking = [f for f in fields if f.init]
    if len(args) > len(taking):
        raise lw.error_at(node, f"{cls.__name__}() with {len(args)} values for "
                          f"{len(taking)} fields", "give one value per field")
    given = dict(zip((f.name for f in taking), args))
    for key, value in kwargs.items():
        if key in given or key not in {f.name for f in taking}:
            raise lw.error_at(node, f"{cls.__name__}() with the field {key!r} "
                              f"{'given twice' if key in given else 'it does not take'}",
                              f"its fields are {', '.join(f.name for f in taking)}")
        given[key] = value
    for f in fields:
        if f.name in given:
            this.fields[f.name] = lw.snapshot(given[f.name])
        elif f.default is not dataclasses.MISSING:
            this.fields[f.name] = lw.static_value(f.default)
        elif f.default_factory is not dataclasses.MISSING:    # type: ignore[misc]
            raise lw.error_at(node, f"a {cls.__name__} made in the function, whose field "
                              f"{f.name!r} is made by a default_factory",
                              "pass the field's value, or pass the object in")
        else:
            raise lw.error_at(node, f"{cls.__name__}() without a value for its field "
                              f"{f.name!r}", "give one value per field")


def _run(lw: Any, scope: Scope, fn: Any, args: list, kwargs: dict, node: ast.AST) -> None:
    """Inline ``fn`` (an ``__init__``), refusing (rather than calling it as it is) what
    stops the inlining: the object it builds exists only while lowering."""
    from .source import get_source
    saved = lw.loc, lw.scope_fs         # (the caller's lines locate what follows)
    try:
        fs = get_source(fn)
        lw.inline_body(Scope(fs, label=fn.__code__.co_name), fs.tree, args, kwargs,
                       lw.python_defaults(fn), node, fn)
    except UnsupportedSyntaxError as exc:
        lw.loc, lw.scope_fs = saved
        if getattr(exc, "static_param", None) is not None:
            raise
        raise lw.error_at(node, f"an object of class {args[0].cls.__name__} made inside the "
                          f"function, whose __init__ symgrad cannot follow ({exc.construct})",
                          "pass the object in (its fields are differentiated), or make the "
                          "class a NamedTuple") from exc
    finally:
        lw.loc, lw.scope_fs = saved


def set_field(lw: Any, this: Any, attr: str, value: Any, node: ast.AST) -> None:
    """``self.attr = value`` of an object being built (refused once it is built, or in a
    branch or loop of its ``__init__`` that runs only when the code runs)."""
    if type(this) is not Building:
        name = this.cls.__name__ if is_record(this) else "an object"
        raise lw.error_at(node, f"assignment to the attribute .{attr} of a {name} made in "
                          "the function, once its __init__ has returned",
                          "make a new object with the new value (or return the value)")
    if lw.depth > this.depth:
        raise lw.error_at(node, f"the field .{attr} of a {this.cls.__name__} assigned in a "
                          "branch or loop of its __init__",
                          "assign each field once, in straight-line code (a conditional "
                          "expression for a choice)")
    from .scope import is_operand
    this.fields[attr] = lw.snapshot(value) if is_operand(value) else value


def building_attribute(lw: Any, scope: Scope, this: Building, node: ast.Attribute) -> Any:
    """``self.w`` while ``__init__`` runs: a field assigned already, or what the class
    has (a method bound to the object being built, a constant)."""
    if node.attr in this.fields:
        return this.fields[node.attr]
    from .scope import PartialValue
    raw = inspect.getattr_static(this.cls, node.attr, None)
    if isinstance(raw, types.FunctionType):
        return PartialValue(Static(raw), (this,), {})
    if raw is not None and not callable(raw) and not isinstance(raw, property):
        return lw.static_value(raw)
    raise lw.error_at(node, f"the attribute .{node.attr} of a {this.cls.__name__} before its "
                      "__init__ assigns it", "assign the field first")


class SuperOf:
    """``super()`` in a method of an object made in the function (or being built): the
    object seen from the classes after ``cls`` in its class's order."""

    def __init__(self, this: Any, cls: type):
        self.this = this
        self.cls = cls


def super_attribute(lw: Any, scope: Scope, sup: SuperOf, node: ast.Attribute) -> Any:
    """``super().__init__``, ``super().__call__``, ``super().value``: the base class's
    function bound to the object (inlined when called), or its property's value."""
    from .scope import PartialValue
    real = sup.this.cls if type(sup.this) is Building else sup.this.cls.real
    mro = real.__mro__
    for klass in mro[mro.index(sup.cls) + 1:] if sup.cls in mro else ():
        raw = vars(klass).get(node.attr)
        if raw is None:
            continue
        if isinstance(raw, types.FunctionType):
            return PartialValue(Static(raw), (sup.this,), {})
        if isinstance(raw, property) and isinstance(raw.fget, types.FunctionType):
            return lw.inline_function(scope, raw.fget, [sup.this], {}, node, Static(raw.fget))
        break
    if node.attr == "__init__":             # object.__init__: nothing to do
        return Static(_nothing)
    raise lw.error_at(node, f"super().{node.attr} of a {real.__name__} made in the function",
                      "call a method its base class defines in Python")


def _nothing(*args: Any, **kwargs: Any) -> None:
    """``object.__init__`` of an object made in the function."""
    return None
