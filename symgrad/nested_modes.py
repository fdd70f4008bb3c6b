"""A Jacobian of a Jacobian: ``jacfwd(jacrev(f))``, JAX's spelling of the Hessian.

The inner Jacobian of a function of one output is its gradient, so the outer one is
the Hessian, which :func:`symgrad.hessian` computes (forward over reverse, shaped the
same way: the gradient's structure of gradient structures).  Of a function of several
outputs it would be a tensor of third order, refused by name.
"""

from __future__ import annotations

from typing import Any

from .errors import ArgumentError

__all__ = ["jacobian_of_jacobian"]


class JacobianOfJacobian:
    """``jacfwd(jacrev(f))(*args)``: the Hessian of ``f`` (one output) with respect to
    the inner Jacobian's parameters."""

    def __init__(self, inner: Any, wrt: Any):
        self.inner = inner
        given = None if wrt is None else tuple(wrt) if isinstance(wrt, (list, tuple)) \
            else (wrt,)
        names = tuple(inner.params[i] if type(i) is int else i for i in given or ())
        if given is not None and names != inner.wrt:
            raise ArgumentError(
                f"jacobian of {inner.__name__} with respect to {names}, not the parameters "
                f"the inner Jacobian differentiates, {inner.wrt}: only the Hessian (the same "
                "parameters, or wrt left out) is made of a Jacobian.\n  hint: use "
                "symgrad.hessian(f, wrt=...)")
        self.params = inner.params
        self.wrt = inner.wrt
        self.__name__ = f"jacobian_{inner.__name__}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .modes import _call, _full_primals, _leaves, hessian
        fn = self.inner.fn
        out = _call(fn, _full_primals(fn, args, self.__name__, kwargs))
        if len(_leaves(out)) != 1 or isinstance(out, (list, tuple, dict)):
            raise ArgumentError(
                f"{self.__name__}: a Jacobian of the Jacobian of "
                f"{getattr(fn, '__name__', 'f')}, which returns several numbers (a tensor "
                "of third order).\n  hint: take the Hessian of each output, "
                "symgrad.hessian(lambda *a: f(*a)[i])")
        return hessian(fn, wrt=list(self.wrt) if not self.inner._single else self.wrt[0])(
            *args, **kwargs)


def jacobian_of_jacobian(inner: Any, wrt: Any) -> JacobianOfJacobian:
    return JacobianOfJacobian(inner, wrt)
