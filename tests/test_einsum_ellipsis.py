"""np.einsum with an ellipsis (``'...ij,...jk->...ik'``, ``'i...'``, implicit output)
and with dimensions of size 1 that numpy broadcasts (``'ij,ij->ij'`` of a (1, 3) and
a (2, 3) array; on the old code the gradient of the size-1 operand had the other's
shape and a wrong value, with no error).

A letter repeated in one operand (``'ii->i'``, ``'ii'``: a diagonal, a trace) gets
zeros with its adjoint on that diagonal; numpy's sublist form
(``np.einsum(a, [0, 1], b, [1, 2], [0, 2])``) is read as the letters it stands for.

The ellipsis is written out in letters of its own where the ranks are known (a
gradient made for the arrays of a call), else by the generated code when it runs
(``_einsum_vjp``).  Every gradient is checked against central finite differences, jvp
against the gradient, hvp against differences of the gradient."""

import numpy as np
import pytest

import symgrad
from symgrad.errors import SymgradError

RNG = np.random.default_rng(11)


def _r(*shape):
    return RNG.normal(size=shape)


def fd(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        g[i] = (f(xp) - f(xm)) / (2 * h)
    return g


def batched_matmul(a, b):
    return np.sum(np.tanh(np.einsum('...ij,...jk->...ik', a, b)) ** 2)


def leading_dot(a, b):
    return np.sum(np.einsum('i...,i...', a, b) ** 2)


def trailing(a, b):
    return np.sum(np.sin(np.einsum('ij...,jk...->ik...', a, b)))


def row_sums(a):
    return np.sum(np.einsum('...i->...', a) ** 3)


def size_one(a, b):
    return np.sum(np.einsum('ij,ij->ij', a, b) ** 2)


def outer_broadcast(a, b):
    return np.sum(np.exp(np.einsum('ij,jk->ik', a, b) * 0.3))


def implicit_ellipsis(a, b):
    return np.sum(np.einsum('...j,j...', a, b) ** 2)


def trace_written(a):
    return np.einsum('ii->', a) ** 2


def diagonal_cubed(a):
    return np.sum(np.einsum('ii->i', a) ** 3)


def diagonal_times(a, b):
    return np.sum(np.einsum('ii,ij->j', a, b) ** 2)


def implicit_trace(a):
    return np.einsum('ii', a) * np.sum(a * a)


def stacked_diagonals(a):
    return np.sum(np.einsum('iij->ij', a) ** 2)


def diagonal_summed_away(a):
    return np.sum(np.sin(np.einsum('iij->i', a)))


def batched_diagonal(a):
    return np.sum(np.einsum('...ii->...i', a) ** 2)


def sublists(a, b):
    return np.sum(np.einsum(a, [0, 1], b, [1, 2], [0, 2]) ** 2)


def sublists_implicit(a, b):
    return np.sum(np.tanh(np.einsum(a, [0, 1], b, [1, 0])))


CASES = [
    (batched_matmul, (_r(2, 3, 3), _r(1, 3, 3))),
    (batched_matmul, (_r(3, 3), _r(4, 3, 3))),
    (batched_matmul, (_r(2, 1, 3, 2), _r(5, 2, 3))),
    (leading_dot, (_r(3, 2), _r(3, 2))),
    (leading_dot, (_r(3, 2, 4), _r(3, 1, 4))),
    (trailing, (_r(2, 3, 4), _r(3, 2, 4))),
    (row_sums, (_r(2, 3),)),
    (row_sums, (_r(4),)),
    (size_one, (_r(1, 3), _r(2, 3))),
    (size_one, (_r(2, 1), _r(1, 3))),
    (outer_broadcast, (_r(2, 1), _r(1, 3))),
    (implicit_ellipsis, (_r(2, 3), _r(3, 2))),
    (trace_written, (_r(3, 3),)),
    (diagonal_cubed, (_r(3, 3),)),
    (diagonal_times, (_r(3, 3), _r(3, 2))),
    (implicit_trace, (_r(3, 3),)),
    (stacked_diagonals, (_r(3, 3, 2),)),
    (diagonal_summed_away, (_r(2, 2, 3),)),
    (batched_diagonal, (_r(2, 3, 3),)),
    (sublists, (_r(2, 3), _r(3, 4))),
    (sublists_implicit, (_r(2, 3), _r(3, 2))),
]


@pytest.mark.parametrize("fn,args", CASES,
                         ids=[f"{f.__name__}-{[a.shape for a in x]}" for f, x in CASES])
def test_every_mode_against_differences(fn, args):
    grads = symgrad.grad(fn)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, (g, a) in enumerate(zip(grads, args)):
        assert g.shape == a.shape

        def at(z, i=i):
            return fn(*(args[:i] + (z,) + args[i + 1:]))
        np.testing.assert_allclose(g, fd(at, a), rtol=1e-5, atol=1e-6)
    t = tuple(_r(*a.shape) for a in args)
    _, jv = symgrad.jvp(fn, args, t)
    assert np.isclose(jv, sum(np.sum(g * v) for g, v in zip(grads, t)))
    hv = symgrad.hvp(fn, args, t)
    hv = hv if isinstance(hv, tuple) else (hv,)
    h = 1e-5
    up = symgrad.grad(fn)(*(a + h * v for a, v in zip(args, t)))
    down = symgrad.grad(fn)(*(a - h * v for a, v in zip(args, t)))
    up, down = (up, down) if isinstance(up, tuple) else ((up,), (down,))
    for got, u, d in zip(hv, up, down):
        np.testing.assert_allclose(got, (u - d) / (2 * h), rtol=1e-4, atol=1e-5)


def test_known_ranks_write_the_ellipsis_out_unknown_ones_ask_at_run_time():
    def f(a, b):
        return np.sum(np.einsum('...ij,...jk->...ik', a, b))
    g = symgrad.grad(f)
    assert "_einsum_vjp(" in g.source        # (made before a call: ranks unknown)
    g(_r(2, 3, 3), _r(3, 3))
    assert "_einsum_vjp(" not in g.source and "np.einsum('jk,Aik->Aij'" in g.source


def fancy(x, w):
    # the rank of w[:, [2, 0, 1]] is not known when the code is made (found by the
    # array fuzzer): its adjoint writes the ellipsis out when it runs
    return np.sum(np.einsum('...j,...j->...j', w[:, [2, 0, 1]], x) ** 2)


def test_an_operand_of_unknown_rank():
    x, w = _r(3), _r(2, 3)
    d_x, d_w = symgrad.grad(fancy)(x, w)
    np.testing.assert_allclose(d_x, fd(lambda z: fancy(z, w), x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d_w, fd(lambda z: fancy(x, z), w), rtol=1e-5, atol=1e-6)
    t = (_r(3), _r(2, 3))
    hx, hw = symgrad.hvp(fancy, (x, w), t)
    h = 1e-5
    up = symgrad.grad(fancy)(x + h * t[0], w + h * t[1])
    down = symgrad.grad(fancy)(x - h * t[0], w - h * t[1])
    np.testing.assert_allclose(hx, (up[0] - down[0]) / (2 * h), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(hw, (up[1] - down[1]) / (2 * h), rtol=1e-4, atol=1e-5)


def test_a_diagonal_of_unknown_rank_is_put_back_when_the_code_runs():
    """``'...ii->...i'`` of an operand whose rank is not known when the code is made:
    the generated code writes the ellipsis out and puts the adjoint on the diagonal."""
    def f(a):
        return np.sum(np.einsum('...ii->...i', a * 1.0) ** 2)
    g = symgrad.grad(f)
    assert "_einsum_vjp(" in g.source
    for a in (_r(3, 3), _r(2, 3, 3)):
        np.testing.assert_allclose(g(a), fd(f, a), rtol=1e-5, atol=1e-6)


def test_a_letter_twice_in_the_result_is_refused():
    def f(a):
        return np.sum(np.einsum('i->ii', a))
    with pytest.raises(Exception):
        f(np.ones(3))                       # (numpy refuses it too)
    with pytest.raises(SymgradError, match="once in the result"):
        symgrad.grad(f)(np.ones(3))


def test_check_proves_it():
    r = symgrad.check(batched_matmul, _r(2, 2, 2), _r(1, 2, 2))
    assert r.ok and not r.unavailable, str(r)
