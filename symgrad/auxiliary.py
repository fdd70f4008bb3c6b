"""``has_aux=True``: a function that returns a pair ``(output, auxiliary data)``, as in
JAX.  Only the output is differentiated; the auxiliary data (numbers, arrays, a dict of
metrics, strings: anything) is returned as the function computed it.

The output is differentiated through an adapter with the function's own parameters
that calls it and takes the first item::

    def loss(params, batch):
        return loss(params, batch)[0]

(``loss`` there is the function itself) whose call is inlined as any call is, so the code that only makes the auxiliary data
is dead in the derivative and left out of it.  The auxiliary data comes from one run
of the function itself, on copies of the arguments (a function that changes its
arguments changes them once, in the derivative's run), with the random generators it
draws from put back before the derivative runs, so both see the same draws.  The cost
is that run: for ``grad``, the value and gradient of the output plus one call of the
function (``vjp`` makes that call anyway).
"""

from __future__ import annotations

import inspect
import itertools
import linecache
import weakref
from typing import Any, Callable

from .errors import ArgumentError, SymgradError

__all__ = ["main_output", "split", "with_aux", "WithAux", "grad_with_aux", "with_aux_of",
           "pulled_with_aux", "generators_of"]

_adapters: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
_counter = itertools.count(1)


def main_output(fn: Any) -> Any:
    """The adapter that returns ``fn(...)[0]``, with ``fn``'s parameters and defaults
    (made once per function)."""
    try:
        made = _adapters.get(fn)
    except TypeError:                   # (not a weak key: made each time)
        made = None
    if made is None:
        made = _adapter(fn)
        try:
            _adapters[fn] = made
        except TypeError:
            pass
    return made


def _adapter(fn: Any) -> Any:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        raise ArgumentError(f"has_aux=True: symgrad cannot read the parameters of {fn!r}"
                            ) from None
    name = getattr(fn, "__name__", "f")
    name = name if isinstance(name, str) and name.isidentifier() else "f"
    params, passed, ns = [], [], {name: fn, "__name__": "symgrad.has_aux"}
    kinds = [p.kind for p in sig.parameters.values()]
    for k, p in enumerate(sig.parameters.values()):
        if p.name == name or p.name.startswith("_default"):
            raise ArgumentError(f"has_aux=True: {_name(fn)} has a parameter named "
                                f"{p.name!r}, a name symgrad's adapter uses; rename it")
        text = p.name
        if p.default is not p.empty:
            ns[f"_default{k}"] = p.default
            text += f"=_default{k}"
        if p.kind is p.VAR_POSITIONAL:
            text, arg = f"*{p.name}", f"*{p.name}"
        elif p.kind is p.VAR_KEYWORD:
            text, arg = f"**{p.name}", f"**{p.name}"
        elif p.kind is p.KEYWORD_ONLY:
            arg = f"{p.name}={p.name}"
            if p.VAR_POSITIONAL not in kinds and p.KEYWORD_ONLY not in kinds[:k]:
                params.append("*")
        else:
            arg = p.name
        params.append(text)
        passed.append(arg)
        if p.kind is p.POSITIONAL_ONLY and (k + 1 == len(kinds)
                                            or kinds[k + 1] is not p.POSITIONAL_ONLY):
            params.append("/")
    filename = f"/symgrad/has_aux/{name}_{next(_counter)}.py"
    text = (f"def {name}({', '.join(params)}):\n"
            f"    return {name}({', '.join(passed)})[0]\n")
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    local: dict[str, Any] = {}      # (the def apart: its body calls the function itself)
    exec(compile(text, filename, "exec"), ns, local)      # noqa: S102 - our own two lines
    made = local[name]
    made.__qualname__ = getattr(fn, "__qualname__", name)
    made.__doc__ = getattr(fn, "__doc__", None)
    return made


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def split(out: Any, fn: Any) -> tuple[Any, Any]:
    """``(output, aux)`` of what ``fn`` returned, which must be such a pair."""
    if type(out) not in (tuple, list) or len(out) != 2:
        what = f"a {type(out).__name__} of {len(out)}" if type(out) in (tuple, list) \
            else f"a {type(out).__name__}"
        raise ArgumentError(f"has_aux=True: {_name(fn)} returned {what}; it must return a "
                            "pair (output, auxiliary data), as return loss, aux")
    return out[0], out[1]


def generators_of(main: Any, full: tuple) -> tuple:
    """The random generators the adapter ``main`` draws from, called with ``full``
    (read from its lowering for those arguments' kinds; made once per kind)."""
    from .draws import drawn_by
    from .lower import lower
    from .modes import _array_patterns, _memo, _params
    from .shapes import given_patterns
    patterns = _array_patterns(full)
    given = None if patterns is None else given_patterns(_params(main), patterns)
    return _memo(main, ("drawn", patterns),
                 lambda: drawn_by(lower(main, True, given)))


def with_aux(whole: Callable[[], Any], fn: Any, main: Any, full: tuple,
             derivative: Callable[[], Any]) -> tuple:
    """``(derivative(), aux)``: ``whole()`` (``fn`` called on copies of the arguments)
    run once for its auxiliary data, then ``derivative()`` (of ``main``, the adapter,
    called with ``full``), which draws what that run drew.  ``fn`` returning no pair
    is an error that says so, whatever else fails."""
    from .draws import Replay
    try:
        replay = Replay(generators_of(main, full))
    except SymgradError:
        _check_pair(whole, fn)
        raise
    out, aux = split(whole(), fn)
    replay.start()
    try:
        return derivative(), aux
    except SymgradError:
        _check_pair(whole, fn)
        raise


def _check_pair(whole: Callable[[], Any], fn: Any) -> None:
    """Raise the has_aux error if ``fn`` returns no pair here (else nothing)."""
    try:
        out = whole()
    except Exception:                   # (its own error: the derivative's stands)
        return
    split(out, fn)


class WithAux:
    """What ``grad(f, has_aux=True)`` (``value_and_grad``, ``jacobian``, ``hessian``
    ...) returns: the derivative of ``f``'s output (``derivative``, made by ``make``
    from the adapter), returned with ``f``'s auxiliary data by ``combine(d, aux)``."""

    def __init__(self, fn: Any, make: Callable[[Any], Any],
                 combine: Callable[[Any, Any], Any], kind: str):
        self.fn = self.__wrapped__ = fn
        self.main = main_output(fn)
        self.derivative = make(self.main)
        self._combine = combine
        self.kind = kind
        self.__name__ = f"{kind}_{_name(fn)}"
        self.wrt = getattr(self.derivative, "wrt", None)

    @property
    def source(self) -> str:
        """The generated code of the output's derivative."""
        return self.derivative.source

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        main, full = call_form(self.main, args, kwargs, self.__name__)
        d, aux = with_aux(lambda: _whole(self.fn, args, kwargs), self.fn, main, full,
                          lambda: self.derivative(*args, **kwargs))
        return self._combine(d, aux)

    def __repr__(self) -> str:
        return f"<symgrad {self.kind} of {getattr(self.fn, '__qualname__', self.fn)} " \
            "(has_aux)>"


def call_form(main: Any, args: tuple, kwargs: dict, what: str) -> tuple[Any, tuple]:
    """The adapter as the derivative differentiates it for this call (for ``*args``:
    the one for this many arguments) and one argument per its parameter."""
    from .modes import _full_primals
    from .varargs import has_varargs, with_arity
    if has_varargs(main):
        return with_arity(main, len(args), tuple(kwargs)), (*args, *kwargs.values())
    return main, _full_primals(main, args, what, kwargs)


def _whole(fn: Any, args: tuple, kwargs: dict) -> Any:
    """``fn`` called as the caller called it, on copies of the arguments."""
    from .modes import _fresh
    return fn(*_fresh(args), **dict(zip(kwargs, _fresh(tuple(kwargs.values())))))


def with_aux_of(fn: Any, make: Callable[[Any], Any], kind: str,
                combine: Callable[[Any, Any], Any] = lambda d, aux: (d, aux)) -> WithAux:
    """``make(adapter)`` of ``fn``'s output, returning ``combine(derivative, aux)``."""
    return WithAux(fn, make, combine, kind)


def grad_with_aux(fn: Any, make: Callable[[Any], Any], with_value: bool) -> Any:
    """``grad``/``value_and_grad`` with ``has_aux=True`` (``fn`` None: a decorator);
    ``make`` makes the value and gradient of the adapter."""
    def made(f: Any) -> WithAux:
        if with_value:
            return WithAux(f, make, lambda d, aux: ((d[0], aux), d[1]), "value_and_grad")
        return WithAux(f, make, lambda d, aux: (d[1], aux), "grad")
    return made if fn is None else made(fn)


def pulled_with_aux(fn: Any, primals: tuple, make: Callable[[Any], Any]) -> tuple:
    """``vjp``/``jvp`` with ``has_aux=True``: ``make(adapter)`` is the pair ``vjp``
    (``jvp``) returns for the output; returned as a triple with the aux last."""
    whole = main_output(fn)
    main, full = call_form(whole, primals, {}, "has_aux")
    (a, b), aux = with_aux(lambda: _whole(fn, primals, {}), fn, main, full,
                           lambda: make(whole))
    return a, b, aux
