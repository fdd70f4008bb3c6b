"""Comparing two ways of printing the same gradient (shared names, results returned
inline ...), which must give the same numbers bit for bit."""
import copy

import fuzz

import symgrad


def numbers_of(x):
    """Tuples and lists as lists, numbers as they are."""
    return [numbers_of(a) for a in x] if isinstance(x, (list, tuple)) else x


def same_bits(a, b):
    """The same numbers, bit for bit (nan equal to nan)."""
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_bits(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)


def outcome(thunk):
    """The numbers ``thunk()`` returns, or the name of the error it raises as the program
    does (an arithmetic error; an IndexError or UnboundLocalError where the fuzzer's maps
    family passes lists shorter than a loop, or empty; a TypeError where its stars family
    spreads a list of another length than a call takes)."""
    try:
        return numbers_of(thunk())
    except (ArithmeticError, ValueError, LookupError, NameError, TypeError) as exc:
        return type(exc).__name__


def gradient_and_hvp(prog, args, diff, v, module, setting, value, with_hvp=True):
    """``value_and_grad`` and ``hvp`` (None without ``with_hvp``) of the fuzzer's program
    ``prog`` (loaded as a new module: nothing cached) with ``module.setting`` set to
    ``value`` while they are made."""
    saved = getattr(module, setting)
    setattr(module, setting, value)
    try:
        f = fuzz.load(prog.source).f
        return (outcome(lambda: symgrad.value_and_grad(f, wrt=diff)(*copy.deepcopy(args))),
                outcome(lambda: symgrad.hvp(f, tuple(copy.deepcopy(args)), v, wrt=diff))
                if with_hvp else None)
    finally:
        setattr(module, setting, saved)
