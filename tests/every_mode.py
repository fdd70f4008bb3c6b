"""One function's derivative in every mode against central finite differences of the
function itself (second derivatives with differences of the gradient), at points
where Python may raise (then every mode must raise the same exception type): shared
by tests that walk one case list through all modes."""

import copy

import pytest

from numeric import assert_close, finite_diff

import symgrad

MODES = ["grad", "value_and_grad", "jvp", "vjp", "hessian", "hvp"]


def _zeros(a):
    if isinstance(a, list):
        return [_zeros(v) for v in a]
    return 0.0


def run(f, mode, args):
    """The mode's derivative in the first argument at ``args`` (a list first: the
    Jacobian-vector products along a basis vector of it)."""
    args = copy.deepcopy(args)
    along = _zeros(args[0]) if isinstance(args[0], list) else 1.0
    if isinstance(along, list) and along:
        along[0] = 1.0
    rest = tuple(_zeros(a) for a in args[1:])
    if mode == "grad":
        return symgrad.grad(f, wrt=0)(*args)
    if mode == "value_and_grad":
        return symgrad.value_and_grad(f, wrt=0)(*args)[1]
    if mode == "jvp":
        return symgrad.jvp(f, tuple(args), (along,) + rest)[1]
    if mode == "vjp":
        return symgrad.vjp(f, *args)[1](1.0)[0]
    if mode == "hessian":
        return symgrad.hessian(f, wrt=0)(*args)
    return symgrad.hvp(f, tuple(args), (along,), wrt=0)


def python(f, args):
    try:
        f(*copy.deepcopy(args))
    except Exception as exc:
        return exc
    return None


def first_derivative(f, args):
    return finite_diff(lambda a: f(a, *copy.deepcopy(args[1:])), [args[0]])[0]


def along_first(g, args):
    """``g`` (a gradient in the first argument) contracted with the tangent ``run`` uses."""
    return g[0] if isinstance(args[0], list) else g


def second_derivative(f, args, h=1e-4):
    """Differences of the gradient along the tangent ``run`` uses (the Hessian's first
    column, or its one entry)."""
    g = symgrad.grad(f, wrt=0)

    def moved(t):
        a = copy.deepcopy(args)
        if isinstance(a[0], list):
            a[0][0] += t
            return g(*a)
        return g(a[0] + t, *a[1:])
    up, down = moved(h), moved(-h)
    if isinstance(up, list):
        return [(u - d) / (2 * h) for u, d in zip(up, down)]
    return (up - down) / (2 * h)


def check_every_mode(f, name, points, mode):
    """``mode``'s derivative of ``f`` in its first argument at each of ``points``
    against central differences (second derivatives: differences of the gradient);
    where Python raises, the mode must raise the same type of exception."""
    for args in points:
        exc = python(f, args)
        if exc is not None:
            with pytest.raises(type(exc)):
                run(f, mode, args)
            continue
        got = run(f, mode, args)
        if mode in ("grad", "value_and_grad", "vjp"):
            assert_close(got, first_derivative(f, args), rtol=1e-5, atol=1e-6,
                         what=f"{mode} of {name}{args}")
        elif mode == "jvp":
            want = along_first(first_derivative(f, args), args) if not (
                isinstance(args[0], list) and not args[0]) else 0.0
            assert_close(got, want, rtol=1e-5, atol=1e-6, what=f"jvp of {name}{args}")
        elif mode == "hessian":
            col = [row[0] for row in got] if isinstance(args[0], list) else got
            if isinstance(args[0], list) and not args[0]:
                continue
            assert_close(col, second_derivative(f, args), rtol=1e-4, atol=1e-5,
                         what=f"hessian of {name}{args}")
        else:
            if isinstance(args[0], list) and not args[0]:
                continue
            assert_close(got, second_derivative(f, args), rtol=1e-4, atol=1e-5,
                         what=f"hvp of {name}{args}")
