"""symgrad's intermediate representation: flat equations inside structured regions.

A function is a list of statements:

* :class:`Eqn` -- ``outs = prim(args)``: one primitive (``mul``, ``tanh``,
  ``getitem``, ``append`` ...) applied to operands.  Operands are :class:`Var`
  (a variable of the function), :class:`Const` (a Python constant) or
  :class:`Global` (an object the generated code reads from its namespace:
  ``math``, a user module, a helper function).
* :class:`If`, :class:`For` (over ``range``), :class:`While`, :class:`Break`,
  :class:`Continue`, :class:`Return` -- structured control flow.  Variables are
  mutable, as in Python: a branch or a loop body assigns the variables it
  shares with the code around it, so joins are the variables both sides assign
  (:func:`assigned` computes them) and a loop's carried variables are those its
  body assigns and reads.

Every variable has a *kind* (:class:`Kind`: a number, a list of some kind, or an
opaque object), resolved by unification once lowering is done, and every
equation a source location (:class:`Loc`) from which comments are printed.

>>> x, y = Var("x", Kind.num()), Var("y", Kind.num())
>>> body = [Eqn((y,), "mul", (x, Const(2.0))), Return(y)]
>>> print(show_block(body))
y = mul x 2.0
return y
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterator, Union

from .errors import SymgradError

__all__ = ["Kind", "KindError", "Var", "Const", "Global", "Loc", "Eqn", "If", "For", "While",
           "Break", "Continue", "Return", "Func", "Operand", "Stmt", "show_block", "walk",
           "assigned", "reads_of", "stmt_reads", "stmt_writes"]


#: the key, in a transform's array patterns, of the names of its integer (or bool) array
#: arguments (not an identifier: no parameter has it)
INT_ARRAYS = " int arrays"
#: the key of the names of parameters given flat lists of ints in a call with arrays
#: (``E[idx]`` of ``idx=[0, 1]`` picks rows, as an integer array does: a list, not a
#: number whose kind the code alone would guess)
INT_LISTS = " int lists"
#: the key of the names of parameters given numpy generators of random numbers (their
#: draws, ``rng.normal(size=3)``, are arrays)
GENERATORS = " generators"
#: the key of the names of parameters given dicts where the code alone could not tell a
#: dict from a list (``for k in d``, ``sorted(d)``): a transform specialized for them
DICT_PARAMS = " dicts"
#: the key of the names of parameters read as tuples of values of different kinds
#: (``W, b = params`` of a list of rows and a list): a transform made again with each
#: one a record of its items by position (:meth:`symgrad.lower_loop.LoopLowering.seq_param`)
SEQ_PARAMS = " tuples"
#: the key of the parameters given records whose class has properties or methods
#: (name -> class; see :mod:`symgrad.param_classes`)
CLASS_PARAMS = " classes"
#: the key of the parameters whose values the transform is made for (name -> value: an
#: axis or einsum subscripts passed in; see :mod:`symgrad.static_args`)
FIXED_PARAMS = " fixed"
#: the key of the differentiated parameters whose values only the places that need them
#: read (name -> value: the parameter stays a variable elsewhere)
FIXED_AT_USE = " fixed at use"


# --------------------------------------------------------------------------- kinds

class KindError(SymgradError):
    """Two uses of one value need different kinds (a number and a list)."""


def kind_conflict(fs: Any, node: Any, exc: KindError, seq_param: str | None = None
                  ) -> Exception:
    """The error for a value used as two kinds of value (a number and a list, an array
    and a list), at ``node`` of function source ``fs``; ``seq_param``: a parameter whose
    items may be of different kinds, to read as a tuple of them (see
    :func:`symgrad.pipeline.tuple_search`)."""
    text = str(exc)
    if text.endswith(" is not a list"):
        kind = text[:-len(" is not a list")]
        what = f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind} used as a Python list"
    else:
        what = f"a value used both as {text}"
    err = fs.error(node, what, "use each variable for one kind of value (a number, a list "
                   "or an array); on arrays use numpy's functions (np.concatenate, "
                   "np.append, np.real) rather than list operations and attributes (+ of "
                   "a list, .append, .real)")
    err.about_lists = True     # (read as numbers and lists: the array path's error wins)
    if seq_param is not None:
        err.seq_param = seq_param       # type: ignore[attr-defined]
    return err


class Kind:
    """The kind of a value, as a union-find node: ``num``, ``list`` (with an element
    kind), ``map`` (a dict: a kind per constant key, and one for keys known only at
    run time), ``obj`` (anything not differentiated: strings, ranges, modules ...) or
    not yet known (``None``).  Lists and maps are *containers*: they get shadows.

    >>> a, b = Kind(), Kind.list_of(Kind.num())
    >>> a.unify(b); str(a)
    'list[num]'
    """

    __slots__ = ("_parent", "tag", "elem", "fields", "attrs", "keyed")

    def __init__(self, tag: str | None = None, elem: "Kind | None" = None,
                 fields: "dict[Any, Kind] | None" = None):
        self._parent: Kind | None = None
        self.tag = tag
        self.elem = elem
        self.fields = fields
        #: for a map: are its fields read as attributes (``p.w``: a NamedTuple, a
        #: dataclass, an object) or by key (``p["w"]``: a dict)?  None: not known yet
        self.attrs: bool | None = None
        #: for a map: is it read or written under keys known only at run time?  Then
        #: any of them may be one of its constant keys: all its values share one kind
        self.keyed = False

    @staticmethod
    def num() -> "Kind":
        return Kind("num")

    @staticmethod
    def obj() -> "Kind":
        return Kind("obj")

    @staticmethod
    def array() -> "Kind":
        """A numpy array of floats (its rank and broadcast pattern are found later,
        by :mod:`symgrad.shapes`)."""
        return Kind("array")

    @staticmethod
    def list_of(elem: "Kind | None" = None) -> "Kind":
        return Kind("list", elem if elem is not None else Kind())

    @staticmethod
    def map_of(fields: "dict[Any, Kind] | None" = None) -> "Kind":
        return Kind("map", Kind(), dict(fields or {}))

    def find(self) -> "Kind":
        k = self._parent
        if k is None:
            return self
        if k._parent is None:
            return k
        k = self
        while k._parent is not None:
            k = k._parent
        node = self
        while node._parent is not None and node._parent is not k:   # path compression
            node._parent, node = k, node._parent
        return k

    def settle_num(self) -> None:
        """Unify with a new number kind (an unknown kind becomes a number)."""
        k = self.find()
        if k.tag is None and k.elem is None and k.fields is None and k.attrs is None:
            k.tag = "num"
        else:
            self.unify(Kind.num())

    def unify(self, other: "Kind") -> None:
        a, b = self.find(), other.find()
        if a is b:
            return
        if a.tag is None:
            if b.tag in ("list", "map") and _holds(b, a, 0):
                raise KindError(f"{b} holding itself: a list of a list and its items "
                                "(return a tuple for items of different kinds)")
            a._parent = b
            return
        if {a.tag, b.tag} == {"num", "array"}:      # a number where an array may be: array
            a, b = (a, b) if a.tag == "array" else (b, a)
            b._parent = a
            return
        if b.tag is None and a.tag in ("list", "map") and _holds(a, b, 0):
            raise KindError(f"{a} holding itself: a list of a list and its items "
                            "(return a tuple for items of different kinds)")
        if b.tag is None or a.tag == b.tag:
            b._parent = a
            if a.tag in ("list", "map") and b.elem is not None:
                a.elem.unify(b.elem)  # type: ignore[union-attr]
            if a.tag == "map" and b.tag == "map":
                if a.attrs is None:
                    a.attrs = b.attrs
                elif b.attrs is not None and a.attrs != b.attrs:
                    raise KindError("an object read by attribute and a dict read by key")
            if a.tag == "map" and b.fields:
                for key, k in b.fields.items():
                    a.field(key).unify(k)
            if a.tag == "map" and b.keyed and not a.keyed:
                a.by_key()
            return
        raise KindError(f"{a} and {b}")

    def field(self, key: Any, attr: bool | None = None) -> "Kind":
        """The kind of a map's value under a constant key (``attr``: read as an
        attribute, True, or by key, False)."""
        k = self.find()
        if k.tag is None:
            k.tag, k.elem, k.fields = "map", Kind(), {}
        if k.tag != "map":
            raise KindError(f"{k} is not a dict" if not attr else f"{k} has no fields")
        if attr is not None:
            if k.attrs is not None and k.attrs != attr:
                raise KindError("an object read by attribute and a dict read by key")
            k.attrs = attr
        f = k.fields.get(key)  # type: ignore[union-attr]
        if f is None:
            f = k.fields[key] = Kind()  # type: ignore[index]
            if k.keyed:
                f.unify(k.elem)  # type: ignore[arg-type]
        return f

    def by_key(self) -> "Kind":
        """The kind of a map's values under a key known only at run time (``d[k]``).
        A constant key that no value of its own kind was put under holds one of those
        values (``{k: x for k in ...}[0]``): it gets their kind, now or when first read.
        (A field of a kind of its own, ``{"w": [..], "b": 0.5}``, keeps it.)"""
        k = self.find()
        if k.tag is None:
            k.tag, k.elem, k.fields = "map", Kind(), {}
        if k.tag != "map":
            raise KindError(f"{k} is not a dict")
        if not k.keyed:
            k.keyed = True
            for f in list((k.fields or {}).values()):
                if f.find().tag is None:
                    f.unify(k.elem)  # type: ignore[arg-type]
        return k.elem  # type: ignore[return-value]

    @property
    def resolved(self) -> str:
        """``num``, ``list`` or ``obj`` (an unknown kind counts as a number)."""
        return self.find().tag or "num"

    @property
    def is_list(self) -> bool:
        """A container (a list or a dict): it has a shadow of the same structure."""
        return self.find().tag in ("list", "map")

    @property
    def is_array(self) -> bool:
        return self.find().tag == "array"

    @property
    def is_map(self) -> bool:
        return self.find().tag == "map"

    @property
    def element(self) -> "Kind":
        k = self.find()
        if k.tag is None:
            k.tag, k.elem = "list", Kind()
        if k.tag not in ("list", "map"):
            raise KindError(f"{k} is not a list")
        return k.elem  # type: ignore[return-value]

    def depth(self) -> int:
        """How many list levels: 0 for a number, 1 for a list of numbers ..."""
        k, d, seen = self.find(), 0, set()
        while k.tag == "list" and id(k) not in seen:     # (a list of itself: stop)
            seen.add(id(k))
            d += 1
            k = k.elem.find()  # type: ignore[union-attr]
        return d

    def __str__(self) -> str:
        return self._text(set())

    def _text(self, seen: set) -> str:
        k = self.find()
        if id(k) in seen:              # a kind that contains itself (a list of itself)
            return "..."
        seen = seen | {id(k)}
        if k.tag == "list":
            return f"list[{k.elem._text(seen) if k.elem is not None else '?'}]"
        if k.tag == "map":
            items = (k.fields or {}).items()
            if k.attrs:
                return "fields[" + ", ".join(f"{key}: {v._text(seen)}" for key, v in items) + "]"
            return "dict[" + ", ".join(f"{key!r}: {v._text(seen)}" for key, v in items) + "]"
        return k.tag or "?"

    __repr__ = __str__


# --------------------------------------------------------------------------- operands

_var_counter = itertools.count()



def _holds(k: "Kind", target: "Kind", depth: int) -> bool:
    """Does kind ``k`` hold ``target`` (as its items' kind, a field's, at any depth)?
    (``x[:2]`` and ``x[2]`` in one list made ``x`` a list of itself: a conflict.)"""
    k = k.find()
    if k is target:
        return True
    if depth > 16 or k.tag not in ("list", "map"):
        return False
    inner = ([k.elem] if k.elem is not None else []) + list((k.fields or {}).values())
    return any(_holds(x, target, depth + 1) for x in inner)

class Var:
    """A variable.  Its printed name is chosen when the code is printed, from ``hint``
    (a source name such as ``x``, printed ``x``, ``x_1`` ... for its versions; or a
    temporary's prefix such as ``_t``, printed ``_t1``, ``_t2`` ...).  A variable
    derived from another (the adjoint ``d_x`` of ``x``) has ``base`` set and is
    printed as ``hint`` + the base's printed name."""

    __slots__ = ("name", "hint", "kind", "base", "n", "__weakref__")

    def __init__(self, hint: str = "_t", kind: Kind | None = None, base: "Var | None" = None,
                 name: str | None = None):
        self.hint = hint
        self.kind = kind if kind is not None else Kind()
        self.base = base
        self.name = name
        self.n = next(_var_counter)     # creation order: a deterministic sort key

    def __repr__(self) -> str:
        if self.name:
            return self.name
        if self.base is not None:
            return self.hint + repr(self.base).lstrip("_%")
        return f"%{self.hint.lstrip('_')}{id(self) % 9973}" if self.hint.startswith("_") \
            else self.hint


@dataclass(frozen=True, slots=True)
class Const:
    """A Python constant (number, bool, None, str, tuple of constants)."""

    value: Any

    def __repr__(self) -> str:
        return repr(self.value)


@dataclass(frozen=True, slots=True, eq=False)
class Global:
    """An object the generated code reads by name when it runs.

    ``how`` says where the name lives: ``"global"`` -- the differentiated function's
    module (read live, exactly as the function reads it); ``"cell"`` -- a closure
    cell of the user's (``cell``), read live; ``"inject"`` -- an object symgrad puts
    in the generated function's closure (``math``, a helper), printed under a free
    name chosen from ``name``.
    """

    name: str
    obj: Any
    how: str = "inject"
    cell: Any = None

    def __repr__(self) -> str:
        return self.name


Operand = Union[Var, Const, Global]


@dataclass(slots=True, eq=False)
class Loc:
    """Where an equation comes from: the source line(s) as text (for comments), the
    helper it was inlined from, and the line number in its file."""

    text: str
    label: str = ""
    filename: str = ""
    lineno: int = 0
    prefix: str = ""               # "grad of: " / "tangent of: " in derived code
    header: str = ""               # "inlined f(x):", on the first line of an inlined helper

    def comment(self) -> str:
        body = f"({self.label}) {self.text}" if self.label else self.text
        return self.prefix + body

    def derived(self, prefix: str, cache: dict) -> "Loc":
        """The location of code derived from this line (``# grad of: ...``), one per line."""
        key = (id(self), prefix)
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = (Loc(self.text, self.label, self.filename, self.lineno, prefix),
                                self)      # keeps self alive, so its id is not reused
        return hit[0]


# --------------------------------------------------------------------------- statements

@dataclass(slots=True, eq=False)
class Eqn:
    """``outs = prim(args)`` (``outs`` empty for an effect such as ``append``)."""

    outs: tuple[Var, ...]
    prim: str
    args: tuple[Operand, ...]
    params: dict[str, Any] | None = None
    loc: Loc | None = None

    @property
    def out(self) -> Var:
        return self.outs[0]


@dataclass(slots=True, eq=False)
class If:
    cond: Operand
    then: list["Stmt"]
    orelse: list["Stmt"]
    loc: Loc | None = None


@dataclass(slots=True, eq=False)
class For:
    """``for var in range(start, stop, step)`` (``reverse``: ``reversed(range(...))``).

    ``view`` optionally records how the loop reads in the source (``for x in xs``)
    so the printer can show it that way: ``(targets, sequences, enumerate_var)``.
    """

    var: Var
    start: Operand
    stop: Operand
    step: Operand
    body: list["Stmt"]
    reverse: bool = False
    loc: Loc | None = None
    view: Any = None
    limit: Operand | None = None      # only the first `limit` iterations (after a break)
    trips: Var | None = None          # counts iterations (a loop that can break)
    #: a map loop (see symgrad.maps): ``((list, term), ...)``, each list made of the
    #: loop's values of its term; ``elems``: ``((element, list), ...)`` iterated
    collect: tuple = ()
    elems: tuple = ()


@dataclass(slots=True, eq=False)
class While:
    """``while cond: body``; ``test`` computes ``cond`` before every iteration."""

    test: list["Stmt"]
    cond: Operand
    body: list["Stmt"]
    loc: Loc | None = None
    trips: Var | None = None          # counts iterations
    broke: Var | None = None          # True when a ``break`` ended the loop (no last test)


@dataclass(slots=True, eq=False)
class Break:
    loc: Loc | None = None


@dataclass(slots=True, eq=False)
class Continue:
    loc: Loc | None = None


@dataclass(slots=True, eq=False)
class Return:
    value: Operand | tuple[Operand, ...]
    loc: Loc | None = None


Stmt = Union[Eqn, If, For, While, Break, Continue, Return]


@dataclass(slots=True, eq=False)
class Func:
    """A function: its name, parameters (with defaults) and body."""

    name: str
    params: list[Var]
    body: list[Stmt]
    defaults: dict[Var, Operand] = field(default_factory=dict)
    doc: str = ""
    namespace: dict[str, Any] = field(default_factory=dict)
    #: the parameters specialized as numpy arrays (the others hold numbers, lists ...)
    arrays: frozenset = frozenset()


# --------------------------------------------------------------------------- walking

def computes_with_arrays(body: list, params: list) -> bool:
    """Does this code compute with numpy (so array arguments are expected)?"""
    for s in walk(body):
        if type(s) is Eqn and (s.prim.startswith("np_") or s.prim in ("aget", "aset") or (
                s.params or {}).get("flavor") == "numpy" or any(
                o.kind.find().tag == "array" for o in s.outs)):
            return True
    return any(p.kind.find().tag == "array" for p in params)


def walk(block: list[Stmt]) -> Iterator[Stmt]:
    """Every statement of a block, nested ones included, in program order."""
    stack = [iter(block)]
    while stack:
        for s in stack[-1]:
            yield s
            t = type(s)
            if t is If:
                stack.append(iter(s.then + s.orelse))  # type: ignore[union-attr]
                break
            if t is For:
                stack.append(iter(s.body))  # type: ignore[union-attr]
                break
            if t is While:
                stack.append(iter(s.test + s.body))  # type: ignore[union-attr]
                break
        else:
            stack.pop()


def leaves(ops: Any) -> list:
    """The operands of ``ops`` (a tuple, or an operand), nested tuples flattened, in
    order."""
    if type(ops) is not tuple and type(ops) is not list:
        return [ops]
    out: list = []
    stack = [iter(ops)]
    while stack:
        for a in stack[-1]:
            if type(a) is tuple:
                stack.append(iter(a))
                break
            out.append(a)
        else:
            stack.pop()
    return out


def stmt_reads(s: Stmt) -> list[Operand]:
    """The operands a statement reads itself (not those of nested statements)."""
    t = type(s)
    if t is Eqn:
        return list(s.args)  # type: ignore[union-attr]
    if t is If:
        return [s.cond]  # type: ignore[union-attr]
    if t is For:
        ops = [s.start, s.stop, s.step]  # type: ignore[union-attr]
        return ops + [s.limit] if s.limit is not None else ops  # type: ignore[union-attr]
    if t is While:
        return [s.cond]  # type: ignore[union-attr]
    if t is Return:
        v = s.value  # type: ignore[union-attr]
        return list(v) if isinstance(v, tuple) else [v]
    return []


def stmt_writes(s: Stmt) -> tuple[Var, ...]:
    """The variables a statement assigns itself (not those of nested statements)."""
    t = type(s)
    if t is Eqn:
        return s.outs  # type: ignore[union-attr]
    if t is For:
        if s.collect:  # type: ignore[union-attr]
            return (s.var, *(lst for lst, _ in s.collect))  # type: ignore[union-attr]
        return (s.var,)  # type: ignore[union-attr]
    return ()


def assigned(block: list[Stmt]) -> set[Var]:
    """Every variable assigned anywhere in ``block``."""
    out: set[Var] = set()
    for s in walk(block):
        out.update(stmt_writes(s))
    return out


def reads_of(block: list[Stmt]) -> set[Var]:
    """Every variable read anywhere in ``block``."""
    out: set[Var] = set()
    for s in walk(block):
        for a in stmt_reads(s):
            if type(a) is Var:
                out.add(a)
    return out


# --------------------------------------------------------------------------- printing

_SHOWN: list[dict] = []          # temporaries' display numbers, while a block is shown


def _op(a: Any) -> str:
    if isinstance(a, tuple):
        return "(" + ", ".join(_op(x) for x in a) + ")"
    if type(a) is Var and _SHOWN and a.name is None and a.base is None and \
            a.hint.startswith("_"):
        names = _SHOWN[-1]
        n = names.get(a)
        if n is None:
            n = names[a] = f"%{len(names) + 1}"
        return n
    return repr(a)


def show_block(block: list[Stmt], indent: str = "") -> str:
    """The IR as text, one statement a line (``symgrad.show(f, stage="ir")``);
    temporaries are numbered ``%1``, ``%2``... in order of appearance."""
    lines: list[str] = []
    _SHOWN.append({})
    try:
        _show(block, indent, lines, [None])
    finally:
        _SHOWN.pop()
    return "\n".join(lines)


def _show(block: list[Stmt], ind: str, lines: list[str], last: list[Any]) -> None:
    for s in block:
        loc = getattr(s, "loc", None)
        if loc is not None and loc is not last[0]:
            lines.append(f"{ind}# {loc.comment()}")
            last[0] = loc
        t = type(s)
        if t is Eqn:
            outs = ", ".join(_op(v) for v in s.outs)  # type: ignore[union-attr]
            args = " ".join(_op(a) for a in s.args)  # type: ignore[union-attr]
            params = "".join(f" {k}={v!r}" for k, v in (s.params or {}).items()  # type: ignore
                             if not k.startswith("_"))
            rhs = f"{s.prim} {args}{params}".rstrip()  # type: ignore[union-attr]
            lines.append(f"{ind}{outs} = {rhs}" if outs else f"{ind}{rhs}")
        elif t is If:
            lines.append(f"{ind}if {_op(s.cond)}:")  # type: ignore[union-attr]
            _show(s.then or [], ind + "    ", lines, last)  # type: ignore[union-attr]
            if s.orelse:  # type: ignore[union-attr]
                lines.append(f"{ind}else:")
                _show(s.orelse, ind + "    ", lines, last)  # type: ignore[union-attr]
        elif t is For:
            r = f"range({_op(s.start)}, {_op(s.stop)}, {_op(s.step)})"  # type: ignore
            if s.limit is not None:  # type: ignore[union-attr]
                r += f"[:{_op(s.limit)}]"  # type: ignore[union-attr]
            if s.reverse:  # type: ignore[union-attr]
                r = f"reversed({r})"
            lines.append(f"{ind}for {_op(s.var)} in {r}:")  # type: ignore[union-attr]
            _show(s.body, ind + "    ", lines, last)  # type: ignore[union-attr]
            for lst, term in s.collect:  # type: ignore[union-attr]
                lines.append(f"{ind}    collect {_op(lst)} {_op(term)}")
            for v, lst in s.elems:  # type: ignore[union-attr]
                lines.append(f"{ind}    element {_op(v)} of {_op(lst)}")
        elif t is While:
            lines.append(f"{ind}while:")
            _show(s.test, ind + "    ", lines, last)  # type: ignore[union-attr]
            lines.append(f"{ind}    test {_op(s.cond)}")  # type: ignore[union-attr]
            _show(s.body, ind + "    ", lines, last)  # type: ignore[union-attr]
        elif t is Return:
            lines.append(f"{ind}return {_op(s.value)}")  # type: ignore[union-attr]
        else:
            lines.append(f"{ind}{t.__name__.lower()}")
