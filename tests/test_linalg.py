"""The linear algebra of symmetric matrices (np.linalg.cholesky, eigvalsh, eigh,
slogdet), the singular value decomposition (values and thin vectors), the
pseudo-inverse (np.linalg.pinv, of full rank), determinants of stacks, matrix norms
along axes, the numpy functions that are the identity or zero on real numbers
(np.real, np.imag, np.conj ...), array methods that are numpy functions (x.trace(),
x.conj()), tensordot axes written as a list of tuples, and np.column_stack / np.dstack.

numpy reads one triangle of the matrix it decomposes, so finite differences of numpy's
own function are the reference: the other triangle has derivative 0.  Every gradient is
checked against them, every jvp against a directional difference, every hvp against
differences of the gradient."""

import numpy as np
import pytest

import symgrad
from symgrad.errors import SymgradError
from test_numpy_more import check_grad, check_hvp, check_jvp, fd_grad

RNG = np.random.default_rng(23)
A = RNG.normal(size=(4, 4))                                   # any matrix
SPD = A @ A.T + 4.0 * np.eye(4)                               # positive definite
UPPER = SPD + np.triu(RNG.normal(size=(4, 4)), 1)             # not symmetric above
STACK = np.stack([m @ m.T + 4.0 * np.eye(3) for m in RNG.normal(size=(2, 3, 3))])
WEIGHTS = np.arange(16.0).reshape(4, 4) / 10.0
NEG = np.diag([2.0, -1.5, 3.0]) + 0.1 * RNG.normal(size=(3, 3))   # det < 0
VEC = RNG.normal(size=5)
T3 = RNG.normal(size=(3, 3, 2))


def cholesky_of_gram(x):
    return np.sum(np.linalg.cholesky(x @ x.T + 4.0 * np.eye(4)) * WEIGHTS)


def cholesky_reads_the_lower_triangle(a):
    return np.sum(np.linalg.cholesky(a) ** 2 * WEIGHTS)


def cholesky_of_a_stack(a):
    return np.sum(np.linalg.cholesky(a) ** 3)


def eigenvalues(a):
    return np.sum(np.linalg.eigvalsh(a) * np.arange(4.0))


def eigenvalues_upper(a):
    return np.sum(np.linalg.eigvalsh(a, UPLO="U") ** 2 * np.arange(4.0))


def eigenvalues_of_a_stack(a):
    return np.sum(np.linalg.eigvalsh(a) ** 2)


def eigh_values(a):
    w, v = np.linalg.eigh(a)
    return np.sum(w ** 3) / 10.0


def eigh_vectors(a):
    # squares and absolute values: the same for either sign numpy picks
    w, v = np.linalg.eigh(a)
    return np.sum(v[:, 0] ** 2 * np.arange(4.0)) + np.sum(np.abs(v[:, 3]) * np.arange(4.0))


def eigh_rebuilt(x):
    w, v = np.linalg.eigh(x @ x.T)
    return np.sum((v * np.sqrt(w)) @ v.T * WEIGHTS)              # the matrix square root


def eigh_of_a_stack_upper(a):
    w, v = np.linalg.eigh(a, UPLO="U")
    return np.sum(v ** 4) + np.sum(w)


def log_determinant(a):
    return np.linalg.slogdet(a)[1]


def signed_log_determinant(a):
    sign, logdet = np.linalg.slogdet(a)
    return sign * logdet ** 2


def real_parts(x):
    return np.sum(np.real(x) ** 2 + np.imag(x) + np.conj(x) ** 3 + np.conjugate(x)
                  + np.real_if_close(x) * x)


def array_methods(x):
    return np.sum(x.conj() * x.conjugate() * x)


def singular_values(a):
    return np.sum(np.linalg.svd(a, compute_uv=False) * np.arange(1.0, 1.0 + min(a.shape[-2:])))


def nuclear_norm(a):
    return np.linalg.norm(a, "nuc")


def singular_vectors(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    w = np.random.default_rng(9)
    return (np.sum(u * w.normal(size=u.shape)) + np.sum(s * w.normal(size=s.shape))
            + np.sum(vh * w.normal(size=vh.shape)))


def left_singular_vectors_cubed(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(u ** 3)


def singular_values_unpacked(a):
    u, s, vh = np.linalg.svd(a)              # (u and vh read, not differentiated)
    return np.max(s) ** 2 + np.sum(s) * u.shape[0] * 0.5 + vh.shape[0]


def real_and_imag_attributes(x):
    return np.sum(x * x).real + np.sum(x.real ** 3) + np.sum(x.imag) + x[0].imag


def trace_method_of_three_axes(x):
    return np.sum(x.trace() * np.array([1.0, 2.0]))


def trace_method_with_offset(x):
    return x.trace(1) + np.trace(x, -1) * 2.0


def pseudo_inverse(a):
    return np.sum(np.linalg.pinv(a) ** 2 * np.arange(1.0, 1.0 + a.size).reshape(a.shape[::-1]))


def pseudo_inverse_of_a_stack(a):
    return np.sum(np.sin(np.linalg.pinv(a)))


def least_squares_by_pinv(a):
    return np.sum((np.linalg.pinv(a) @ np.arange(a.shape[0])) ** 2)


def determinants_of_a_stack(a):
    return np.sum(np.sin(np.linalg.det(a)))


def log_determinants_of_a_stack(a):
    sign, logdet = np.linalg.slogdet(a)
    return np.sum(logdet * np.arange(1.0, 3.0)) + np.sum(sign)


def determinants_of_a_computed_stack(a):
    return np.sum(np.linalg.det(a @ a) ** 2)


def test_a_determinant_of_a_stack_computed_in_the_function_is_refused():
    with pytest.raises(SymgradError, match="stack of matrices computed") as info:
        symgrad.grad(determinants_of_a_computed_stack)(STACK.copy())
    assert "test_linalg.py" in str(info.value)


def matrix_norms_along_axes(x):
    return (np.sum(np.linalg.norm(x, 1, axis=(2, 1)) ** 2)
            + np.sum(np.linalg.norm(x, np.inf, axis=(1, 2), keepdims=True)
                     * np.arange(2.0).reshape(2, 1, 1)))


def nuclear_norms_along_axes(x):
    return (np.sum(np.linalg.norm(x, "nuc", axis=(0, 2)) ** 2)
            + np.sum(np.linalg.norm(x[0], "nuc", keepdims=True)))


def test_constants_decide_while_lowering():
    """``axis is None`` of axis=(0, 2), ``isinstance(axis, int)`` and ``and``/``or`` of
    such constants are known when the code is made: the generated code has no branch
    on them (nor a SyntaxWarning for ``(0, 2) is None``)."""
    for f in (matrix_norms_along_axes, nuclear_norms_along_axes):
        source = symgrad.grad(f).source
        assert "is None" not in source and "isinstance" not in source


def tensordot_list_of_tuples(a):
    return np.sum(np.tensordot(a, T3, axes=[(0, 1), (1, 0)]) ** 2)


def column_stack_of_vectors_and_a_matrix(x):
    return np.sum(np.column_stack([x[:, 0], x[:, 1:3] ** 2, x[:, 0] * x[:, 3]]) * WEIGHTS)


def dstack_of_matrices_and_slices(x):
    return np.sum(np.dstack((x, x * 2.0, x[:, ::-1])) ** 3 * np.arange(3.0))


def dstack_of_vectors(v):
    return np.sum(np.dstack([v, v ** 2]) ** 2 * np.arange(2.0))


WIDE = RNG.normal(size=(3, 5))
TALL = RNG.normal(size=(5, 3))
SVD_CASES = [(singular_values, WIDE), (singular_values, TALL), (singular_values, A),
             (singular_values, RNG.normal(size=(2, 3, 4))), (nuclear_norm, TALL),
             (singular_values_unpacked, A),
             (nuclear_norms_along_axes, RNG.normal(size=(2, 3, 4)))]


SVD_CASES += [(f, x) for f in (singular_vectors, left_singular_vectors_cubed)
              for x in (WIDE, TALL, A, RNG.normal(size=(2, 3, 4)))]


@pytest.mark.parametrize("case", SVD_CASES, ids=lambda c: f"{c[0].__name__}-{c[1].shape}")
def test_singular_values_and_vectors_in_every_mode(case):
    """u, s and vh of the thin decomposition (wide, tall, square, a stack): gradient,
    jvp, and hvp (the tangent sweep of the gradient, which reads u and v)."""
    f, x = case
    check_grad(f, x, tol=2e-5)
    check_jvp(f, x, tol=2e-5)
    check_hvp(f, x, tol=2e-5)


def test_singular_vectors_of_the_full_decomposition_are_refused():
    def through_u(a):
        u, s, vh = np.linalg.svd(a)
        return np.sum(u[:, 0] ** 2 * s[0])
    with pytest.raises(SymgradError, match="full_matrices=True") as info:
        symgrad.grad(through_u)(A.copy())
    assert "test_linalg.py" in str(info.value) and "full_matrices=False" in str(info.value)


CASES = [(column_stack_of_vectors_and_a_matrix, A), (dstack_of_matrices_and_slices, A),
         (dstack_of_vectors, VEC), (cholesky_of_gram, A), (cholesky_reads_the_lower_triangle, UPPER),
         (cholesky_of_a_stack, STACK), (eigenvalues, A), (eigenvalues_upper, A),
         (eigenvalues_of_a_stack, STACK), (eigh_values, A), (eigh_vectors, A),
         (eigh_rebuilt, A), (eigh_of_a_stack_upper, STACK), (log_determinant, SPD),
         (log_determinant, A), (signed_log_determinant, NEG), (real_parts, VEC),
         (array_methods, VEC), (real_and_imag_attributes, VEC), (trace_method_of_three_axes, T3),
         (trace_method_with_offset, A), (tensordot_list_of_tuples, A[:3, :3]),
         (pseudo_inverse, TALL), (pseudo_inverse, WIDE), (pseudo_inverse, A),
         (pseudo_inverse_of_a_stack, RNG.normal(size=(2, 4, 3))),
         (least_squares_by_pinv, TALL), (determinants_of_a_stack, STACK),
         (log_determinants_of_a_stack, STACK),
         (matrix_norms_along_axes, RNG.normal(size=(2, 3, 4)))]


def _id(case):
    f, x = case
    return f"{f.__name__}-{'x'.join(map(str, np.shape(x)))}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_gradient_matches_finite_differences(case):
    f, x = case
    check_grad(f, x, tol=2e-5)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_jvp_matches_a_directional_difference(case):
    f, x = case
    check_jvp(f, x, tol=2e-5)


@pytest.mark.parametrize("case", [c for c in CASES if "trace" not in c[0].__name__],
                         ids=_id)          # (traces are linear: no second derivative)
def test_hvp_matches_differences_of_the_gradient(case):
    f, x = case
    check_hvp(f, x, tol=2e-4)


def test_the_triangle_numpy_does_not_read_has_derivative_zero():
    g = symgrad.grad(cholesky_reads_the_lower_triangle)(UPPER.copy())
    assert np.all(np.triu(g, 1) == 0.0)
    assert np.all(g[np.tril_indices(4, -1)] != 0.0)
    gu = symgrad.grad(eigenvalues_upper)(A.copy())
    assert np.all(np.tril(gu, -1) == 0.0)


def test_log_determinant_where_the_determinant_overflows():
    """slogdet is for matrices whose determinant is out of range: the gradient is
    inv(a).T (hand-derived), finite where det(a) is inf."""
    big = 1e3 * np.eye(120) + RNG.normal(size=(120, 120))
    with np.errstate(over="ignore"):
        assert not np.isfinite(np.linalg.det(big))
    g = symgrad.grad(log_determinant)(big.copy())
    np.testing.assert_allclose(g, np.linalg.inv(big).T, rtol=1e-10, atol=1e-15)


def test_eigenvectors_of_equal_eigenvalues_have_no_derivative():
    """Where two eigenvalues are equal the eigenvectors are not differentiable: the
    gradient is not a finite number (never a silently made-up one)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g = symgrad.grad(eigh_vectors)(np.diag([1.0, 1.0, 2.0, 3.0]))
    assert not np.all(np.isfinite(g))


def test_log_determinants_of_a_stack_are_an_array():
    """slogdet of a stack passed in gives one log-determinant per matrix: grad names
    the line that returns the array; vjp pulls a cotangent back."""
    with pytest.raises(symgrad.NonScalarError) as info:
        symgrad.grad(log_determinant)(STACK.copy())
    text = str(info.value)
    assert "test_linalg.py" in text and "array" in text
    assert f"line {log_determinant.__code__.co_firstlineno + 1}" in text
    out, pull = symgrad.vjp(log_determinant, STACK.copy())
    u = np.array([0.5, -2.0])
    np.testing.assert_allclose(out, np.linalg.slogdet(STACK)[1], rtol=1e-12)
    np.testing.assert_allclose(pull(u)[0], fd_grad(lambda a: np.sum(u * log_determinant(a)),
                                                   [STACK], 0), rtol=1e-5, atol=1e-6)


def test_generated_code_reads_as_numpy():
    source = symgrad.grad(eigh_vectors).source
    assert "_eigh_vectors(a, UPLO='L')" in source
    assert "np.linalg.eigvalsh(a)" in source
    assert "np.tril(" in source
    source = symgrad.grad(cholesky_reads_the_lower_triangle).source
    assert "np.linalg.cholesky(a)" in source and "np.linalg.solve(" in source


def test_finite_difference_reference_sees_the_lower_triangle_only():
    """(The reference itself: numpy's cholesky ignores the upper triangle.)"""
    fd = fd_grad(cholesky_reads_the_lower_triangle, [UPPER], 0)
    assert np.abs(np.triu(fd, 1)).max() < 1e-6


def test_a_complex_array_is_refused_not_differentiated_as_real():
    """The rules are for real numbers (|z| and z.real would be silently wrong)."""
    with pytest.raises(symgrad.SymgradError, match="complex array"):
        symgrad.grad(real_parts)(VEC + 1j * VEC)
    with pytest.raises(symgrad.SymgradError, match="complex array"):
        symgrad.jvp(real_parts, (VEC + 0j,), (VEC,))


ORDER = 3


def norm_of_a_module_constant_order(x):
    return np.linalg.norm(x, ord=ORDER)


def test_a_norm_order_from_a_module_constant():
    check_grad(norm_of_a_module_constant_order, VEC)
    check_jvp(norm_of_a_module_constant_order, VEC)
    want = np.sum(np.abs(VEC) ** 3) ** (1 / 3)
    assert symgrad.value_and_grad(norm_of_a_module_constant_order)(VEC)[0] == pytest.approx(
        want, rel=1e-12)
