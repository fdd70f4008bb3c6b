"""What names mean while a function is lowered: scopes, compile-time values, names.

Lowering binds every source name to either an IR operand (a :class:`~symgrad.ir.Var`
holding a run-time value, a constant, a global read) or a *compile-time value*
that never exists in generated code: a module, a function to inline
(:class:`FuncValue`), a tuple whose items are known (:class:`StaticTuple`), a
choice between functions made at run time (:class:`FuncChoice`).

>>> n = Namer({"x"})
>>> n.version("x"), n.version("x"), n.temp("d_x")
('x_1', 'x_2', 'd_x')
"""

from __future__ import annotations

import ast
import builtins
import types
from dataclasses import dataclass, field
from typing import Any

from .ir import Const, Global, Kind, Operand, Var
from .source import MISSING, FunctionSource


class Namer:
    """Unique names for one generated function (``x``, ``x_1``, ``d_x``, ``_t1`` ...)."""

    def __init__(self, reserved: set[str] | None = None):
        self.used: set[str] = set(reserved or ())
        self.counters: dict[str, int] = {}

    def version(self, base: str) -> str:
        """``base`` if free, else ``base_1``, ``base_2`` ... (``_t`` gives ``_t1``)."""
        if base not in self.used:
            self.used.add(base)
            return base
        sep = "" if base.endswith("_") or (base.startswith("_") and base[-1:].isalpha()
                                           and len(base) <= 3) else "_"
        return self._next(base, sep)

    temp = version

    def numbered(self, base: str) -> str:
        """Always numbered: ``_t1``, ``_t2`` ..."""
        return self._next(base, "")

    def _next(self, base: str, sep: str) -> str:
        """The first ``base + sep + k`` not used yet, counting on from the last one."""
        k = self.counters.get(base, 0)
        while True:
            k += 1
            cand = f"{base}{sep}{k}"
            if cand not in self.used:
                self.counters[base] = k
                self.used.add(cand)
                return cand


# --------------------------------------------------------------------------- compile-time values

@dataclass(eq=False)
class Static:
    """A Python object known while lowering (a module, a function, a class ...), and
    how generated code can name it (``ref``) if it ever needs it at run time."""

    obj: Any
    ref: Any = None


@dataclass(eq=False)
class AttrRef:
    """A global of another module, read live as ``module.name``."""

    module: Any        # Global of the module
    attr: str
    value: Any


@dataclass(eq=False)
class FuncValue:
    """A function defined in the source being lowered (``def`` or ``lambda``), with the
    scope it was defined in (free names are looked up there *when it is called*) and
    its default values, evaluated where it was defined."""

    node: ast.FunctionDef | ast.Lambda
    scope: "Scope"
    defaults: dict[str, Any]
    name: str


@dataclass(eq=False)
class StaticTuple:
    """A tuple whose length (and items: operands or compile-time values) are known.
    ``carried``: its items are variables a branch or loop assigns in place (a tuple
    reassigned there: ``t = (t[0] * y, t[1])``)."""

    items: tuple[Any, ...]
    carried: bool = False
    #: the NamedTuple class, for a tuple made by calling it in the function (``P(x, y)``):
    #: its fields are read by name, its methods inlined with the tuple as ``self``
    cls: Any = None
    #: which Python object it is (``q = p`` shares it, ``is`` compares it); None: it
    #: depends on the path taken (a tuple joined after an if, carried by a loop)
    ident: Any = field(default_factory=object)
    #: carried: the depth of branches and loops outside the region that carries it (a
    #: helper's tuple carried by its own loop is rebound freely after that loop, even
    #: when the helper is called inside a branch)
    region_depth: int = 0

    def like(self, items: tuple[Any, ...]) -> "StaticTuple":
        """The same tuple, its items as read now (a snapshot of this one)."""
        return StaticTuple(items, cls=self.cls, ident=self.ident)


@dataclass(eq=False)
class StaticDict:
    """``**kwargs`` forwarded by a wrapper: known keys, operand values.  ``var``: the
    dict made of it once the function reads it as a dict (``opts.get("s")``)."""

    items: dict[str, Any]
    var: Any = None


@dataclass(eq=False)
class FuncChoice:
    """A name bound to one of several functions depending on the path taken at run time
    (a ``def`` in both branches of an ``if``): ``tag`` holds the index of the live one."""

    tag: Var
    options: list[Any]


@dataclass(eq=False)
class SliceValue:
    """``slice(a, b, c)`` made inside the function: its parts (operands), so that
    ``x[s]`` is the slice ``x[a:b:c]`` wherever ``s`` is used as an index."""

    parts: tuple


@dataclass(eq=False)
class PartialValue:
    """``functools.partial(f, *args, **kwargs)`` made inside the function: calling it
    calls ``f`` with those arguments first."""

    func: Any
    args: tuple
    kwargs: dict


Binding = Any    # Operand | Static | FuncValue | StaticTuple | StaticDict | FuncChoice


def is_operand(b: Any) -> bool:
    return type(b) in (Var, Const, Global)


@dataclass(eq=False)
class Scope:
    """The names of one function being lowered (the differentiated one or an inlined helper).

    ``env`` maps a source name to its binding; ``owned`` is the set of variables this
    scope may assign in place; ``parent`` is the enclosing function for a nested
    ``def`` (its names are read there, at call time); ``result`` receives the
    ``return`` value of an inlined helper.
    """

    fs: FunctionSource
    env: dict[str, Binding] = field(default_factory=dict)
    owned: set[Var] = field(default_factory=set)
    parent: "Scope | None" = None
    label: str = ""
    result: Var | None = None
    nonlocals: set[str] = field(default_factory=set)
    globals_decl: set[str] = field(default_factory=set)
    local_names: set[str] = field(default_factory=set)
    returns: list[Any] = field(default_factory=list)
    body: list = field(default_factory=list)        # (its statements, desugared)

    def lookup(self, name: str) -> Binding:
        """The binding of ``name`` seen from this scope (locals, enclosing functions,
        closure cells, globals, builtins), or :data:`MISSING`."""
        s: Scope | None = self
        while s is not None:
            if name in s.env and name not in s.nonlocals:
                return s.env[name]
            if name in s.local_names and name not in s.nonlocals and s is not self:
                return MISSING     # assigned in that scope, not yet bound
            s = s.parent
        return MISSING

    def owner_of(self, name: str) -> "Scope":
        """The scope whose variable ``name`` is (``nonlocal`` names live further out)."""
        s: Scope = self
        while name in s.nonlocals and s.parent is not None:
            s = s.parent
            while name not in s.env and name not in s.local_names and s.parent is not None:
                s = s.parent
        return s


def resolve_global(fs: FunctionSource, name: str) -> tuple[str, Any]:
    """Where a free name of ``fs`` lives: ``("cell", cell)``, ``("global", value)``,
    ``("builtin", value)`` or ``("missing", None)``."""
    if name in fs.cells:
        return "cell", fs.cells[name]
    if name in fs.globals:
        return "global", fs.globals[name]
    if hasattr(builtins, name):
        return "builtin", getattr(builtins, name)
    return "missing", None


_ATOMIC = (int, float, complex, str, bytes, bool, type(None))


def const_or_none(value: Any) -> Const | None:
    """A :class:`Const` for a plain immutable value (numbers, strings, tuples of them)."""
    if isinstance(value, _ATOMIC) and type(value) in _ATOMIC:
        return Const(value)
    if type(value) is tuple and all(type(v) in _ATOMIC for v in value):
        return Const(value)
    return None


def is_compile_time(value: Any) -> bool:
    """Modules, functions, classes and other callables are known while lowering; data
    (numbers, lists, arrays, plain objects) is read when the generated code runs."""
    if isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
                          types.MethodType, type)):
        return True
    if isinstance(value, (list, tuple, dict, int, float, complex, str, bytes)):
        return False
    return callable(value) and (type(value).__module__ != "numpy" or
                                type(value).__name__ in ("ufunc", "_ArrayFunctionDispatcher"))


def kind_of_value(value: Any) -> Kind:
    """The kind of a run-time value seen while lowering (a global's current value)."""
    if isinstance(value, (list, tuple)):
        k = Kind.list_of()
        if value:
            k.element.unify(kind_of_value(value[0]))
        return k
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Kind.num()
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return Kind.num()
    if type(value).__name__ == "ndarray" and type(value).__module__ == "numpy":
        return Kind.array()
    return Kind.obj() if value is not MISSING else Kind()


__all__ = ["Namer", "Static", "AttrRef", "FuncValue", "StaticTuple", "StaticDict", "FuncChoice", "PartialValue", "Scope",
           "is_operand", "is_compile_time", "resolve_global", "const_or_none", "kind_of_value", "Operand"]


def static_types(value: Any) -> Any:
    """The class, or tuple of classes, that ``value`` is while lowering, else None."""
    if type(value) is Static and isinstance(value.obj, type):
        return value.obj
    if type(value) is StaticTuple and all(type(v) is Static and isinstance(v.obj, type)
                                          for v in value.items):
        return tuple(v.obj for v in value.items)
    return None


def known_callable(value: Any) -> bool | None:
    """``callable(value)`` when lowering can tell: a function (a def, a lambda, a
    library function) is; a number, an array or a list never is."""
    if type(value) in (FuncValue, FuncChoice):
        return True
    if type(value) is Static:
        return callable(value.obj)
    if type(value) is Const:
        return callable(value.value)
    if type(value) is Var and value.kind.find().tag in ("num", "array", "list"):
        return False
    return None


def known_isinstance(value: Any, kinds: Any) -> bool | None:
    """``isinstance(value, kinds)`` when lowering can tell: of a constant, or False of a
    list (a Python list or tuple when the code runs) for classes that are neither."""
    if kinds is None:
        return None
    if type(value) is Const:
        return isinstance(value.value, kinds)
    if type(value) is StaticTuple:     # a tuple (of its NamedTuple class when made by it)
        return issubclass(getattr(value.cls, "real", value.cls) or tuple, kinds)
    if type(value) in (FuncValue, FuncChoice):      # a def or lambda: a function
        return issubclass(types.FunctionType, kinds)
    if type(value) is Static:          # a library function or object known now
        return isinstance(value.obj, kinds)
    many = kinds if isinstance(kinds, tuple) else (kinds,)
    if type(value) is Var and value.kind.find().tag == "list" and not any(
            issubclass(list, k) or issubclass(tuple, k) for k in many):
        return False
    return None
