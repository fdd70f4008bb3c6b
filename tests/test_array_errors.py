"""Arrays: what symgrad refuses, clearly, instead of a silently wrong gradient (numpy
views written in place, array results of ``grad``, numpy functions without a rule), and
``register_array_rule`` for the last, checked against finite differences."""
from __future__ import annotations

import pytest

import symgrad
from symgrad import NonDifferentiableError, NonScalarError, SymgradError

np = pytest.importorskip("numpy")


def fd(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, dn = x.copy(), x.copy()
        up[i] += h
        dn[i] -= h
        g[i] = (f(up) - f(dn)) / (2 * h)
    return g


X = np.array([0.5, -1.0, 2.0])


# ----------------------------------------------------------------------------- views
def through_alias(x):
    y = x.copy()
    z = y
    z[0] = z[1] * 3.0
    return np.sum(y * y)


def through_row_view(x):
    M = np.outer(x, x)
    r = M[0]
    r[1] = 10.0 * x[2]
    return np.sum(M)


def through_reshape_view(x):
    y = x.copy()
    v = y.reshape(3, 1)
    v[0, 0] = x[1] ** 2
    return np.sum(y * x)


def through_slice_augassign(x):
    y = x * 1.0
    s = y[1:]
    s *= 2.0
    return np.sum(y ** 2)


def through_transpose(x):
    M = np.outer(x, x)
    Mt = M.T
    Mt[0, 1] = 0.0
    return np.sum(M)


def view_written_in_loop(x):
    M = np.outer(x, x)
    total = 0.0
    for i in range(3):
        total += np.sum(M)
        r = M[i]
        r[0] = x[i]
    return total


@pytest.mark.parametrize("f", [through_alias, through_row_view, through_reshape_view,
                               through_slice_augassign, through_transpose,
                               view_written_in_loop])
def test_write_through_a_view_is_refused_with_the_line(f):
    with pytest.raises(SymgradError) as info:
        symgrad.grad(f)(X.copy())
    msg = str(info.value)
    assert "test_array_errors.py" in msg and "shares memory" in msg and "copy" in msg
    line = f.__code__.co_firstlineno
    assert any(f"line {n}" in msg for n in range(line, line + 8))


def copy_then_write(x):
    y = x.copy()
    y[0] = y[1] * 3.0
    v = y[1:].copy()
    v *= 2.0
    return np.sum(y * y) + np.sum(v * x[1:])


def view_written_but_base_unused(x):
    M = np.outer(x, x)
    r = M[0]
    r[1] = 10.0 * x[2]
    return np.sum(r * r)


def write_into_argument(x):
    x[0] = x[1] * x[2]
    return np.sum(x ** 2)


def augassign_without_alias(x):
    y = np.tanh(x)
    y *= 2.0
    y += x
    return np.sum(y ** 2)


@pytest.mark.parametrize("f", [copy_then_write, view_written_but_base_unused,
                               augassign_without_alias])
def test_writes_without_a_reader_of_the_shared_memory_are_differentiated(f):
    g = symgrad.grad(f)(X.copy())
    np.testing.assert_allclose(g, fd(f, X.copy()), rtol=1e-6, atol=1e-8)


def test_write_into_argument_is_differentiated():
    g = symgrad.grad(write_into_argument)(X.copy())
    want = fd(lambda x: write_into_argument(x.copy()), X.copy())
    np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------------------- results
def array_result(x):
    return np.tanh(x)


def array_from_dict(d):
    return np.tanh(d["x"]) * 2.0


def test_array_result_is_refused():
    with pytest.raises(NonScalarError) as info:
        symgrad.grad(array_result)(X)
    assert "array" in str(info.value) and "jacobian" in str(info.value)


def test_array_result_of_unknown_rank_is_checked_when_it_runs():
    with pytest.raises(NonScalarError):
        symgrad.grad(array_from_dict)({"x": X})


def test_array_result_is_fine_for_jacobian():
    J = symgrad.jacobian(array_result)(X)
    np.testing.assert_allclose(J, np.diag(1 - np.tanh(X) ** 2), rtol=1e-12)


# ----------------------------------------------------------------------------- rules
A = np.array([[3.0, 0.5, 0.1], [0.2, 2.0, 0.3], [0.1, 0.4, 4.0]])


def uses_eigvals(x):
    return np.sum(np.linalg.eigvals(np.outer(x, x) + np.eye(3)).real)


def test_numpy_function_without_rule_names_the_call_and_register_array_rule():
    with pytest.raises(NonDifferentiableError) as info:
        symgrad.grad(uses_eigvals)(X)
    msg = str(info.value)
    assert "np.linalg.eigvals" in msg and "register_array_rule" in msg
    assert "test_array_errors.py" in msg


def my_solve(A, b):           # a stand-in for a compiled kernel, registered below
    return np.linalg.solve(A, b)


def _vjp_A(g, out, A, b):      # the rules call my_solve: a Hessian differentiates them
    return -np.outer(my_solve(A.T, g), out)


def _vjp_b(g, out, A, b):
    return my_solve(A.T, g)


def _jvp_A(t, out, A, b):
    return -my_solve(A, t @ out)


def _jvp_b(t, out, A, b):
    return my_solve(A, t)


@pytest.fixture(scope="module")
def solve_rule():
    symgrad.register_array_rule(my_solve, [_vjp_A, _vjp_b], jvps=[_jvp_A, _jvp_b])


def solve_loss(A, b):
    x = my_solve(A, b)
    return np.sum(x ** 2) + x[0]


def test_register_array_rule_reverse(solve_rule):
    b = np.array([1.0, -2.0, 0.5])
    g = symgrad.grad(solve_loss)
    gA, gb = g(A, b)
    np.testing.assert_allclose(gA, fd(lambda a: solve_loss(a, b), A), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, fd(lambda v: solve_loss(A, v), b), rtol=1e-6, atol=1e-8)
    assert "_vjp_A(" in g.source and "_vjp_b(" in g.source


def test_register_array_rule_forward_and_hessian(solve_rule):
    b = np.array([1.0, -2.0, 0.5])
    v = np.array([0.3, 0.1, -0.2])

    def of_b(bb):
        return solve_loss(A, bb)
    _, t = symgrad.jvp(of_b, (b,), (v,))
    assert t == pytest.approx(fd(of_b, b) @ v, rel=1e-6)
    H = symgrad.hessian(of_b)(b)
    gb = symgrad.grad(of_b)
    H_fd = np.array([(gb(b + 1e-6 * e) - gb(b - 1e-6 * e)) / 2e-6 for e in np.eye(3)])
    np.testing.assert_allclose(H, H_fd, rtol=1e-5, atol=1e-6)
