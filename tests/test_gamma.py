"""lgamma and gamma: their rules (digamma and its derivatives, as polygamma(n, x)), in
every engine and mode, against mpmath's psi; the helpers generated code calls are
differentiated by their rules when a gradient is differentiated again."""
import math

import gamma_cases as G
import mpmath
import pytest

import symgrad
from symgrad.rules import _polygamma

XS = [0.05, 0.3, 1.0, 2.5, 7.0, 19.9, 21.3, 35.0, 1e4, -0.5, -3.7, -12.25, -0.999]


@pytest.mark.parametrize("n", range(5))
def test_polygamma_matches_mpmath(n):
    for x in XS:
        want = float(mpmath.psi(n, x))
        assert _polygamma(n, x) == pytest.approx(want, rel=2e-14, abs=1e-300), (n, x)


def test_polygamma_poles_are_math_domain_errors_like_lgamma():
    for x in (0.0, -1.0, -7.0):
        with pytest.raises(ValueError, match="math domain error"):
            math.lgamma(x)
        with pytest.raises(ValueError, match="math domain error"):
            _polygamma(0, x)


def psi(n, x):
    return float(mpmath.psi(n, x))


@pytest.mark.parametrize("x", [0.4, 2.5, 9.0, -1.5, -2.25])
def test_first_and_second_derivatives_against_mpmath(x):
    # f = 2 lgamma(x) + gamma(x / 3)
    g3 = math.gamma(x / 3.0)
    d1 = 2 * psi(0, x) + g3 * psi(0, x / 3.0) / 3.0
    d2 = 2 * psi(1, x) + g3 * (psi(0, x / 3.0) ** 2 + psi(1, x / 3.0)) / 9.0
    assert symgrad.grad(G.lgamma_twice)(x) == pytest.approx(d1, rel=1e-12)
    assert symgrad.jvp(G.lgamma_twice, (x,), (1.0,))[1] == pytest.approx(d1, rel=1e-12)
    assert symgrad.hessian(G.lgamma_twice)(x) == pytest.approx(d2, rel=1e-11)
    assert symgrad.hvp(G.lgamma_twice, (x,), (2.0,)) == pytest.approx(2 * d2, rel=1e-11)


def test_the_hvp_calls_the_next_polygamma_not_the_helper_inlined():
    from symgrad import modes
    src = modes._hvp_forward(G.lgamma_twice, None).source
    assert "polygamma(1, " in src and "inlined" not in src
    src = modes._hvp_forward(G.sigmoid_squared, None).source
    assert "inlined" not in src and "sigmoid(x)" in src
    s = 1 / (1 + math.exp(-0.3))
    # d2/dx2 s^2 = 2 s'^2 + 2 s s'' with s' = s (1 - s), s'' = s' (1 - 2 s)
    sp = s * (1 - s)
    want = 2 * sp * sp + 2 * s * sp * (1 - 2 * s)
    assert symgrad.hessian(G.sigmoid_squared)(0.3) == pytest.approx(want, rel=1e-12)


def test_poisson_nll_with_the_count_as_data_and_differentiated():
    lam, k = 2.0, 3.0
    g = symgrad.grad(G.poisson_nll, wrt="lam")
    assert g(lam, k) == pytest.approx(-(k / lam - 1.0))
    assert "polygamma" not in g.source            # lgamma(k + 1) of data: a constant
    gk = symgrad.grad(G.poisson_nll, wrt="k")
    assert gk(lam, k) == pytest.approx(-(math.log(lam) - psi(0, k + 1.0)), rel=1e-13)


def test_gamma_log_likelihood_checked_by_every_engine():
    xs = [0.8, 1.7, 2.2, 0.4, 3.1]
    r = symgrad.check(G.gamma_loglik, 2.5, 1.3, xs, wrt=["alpha", "beta"])
    assert r.ok, str(r)
    n = len(xs)
    want_alpha = n * (math.log(1.3) - psi(0, 2.5)) + sum(math.log(x) for x in xs)
    want_beta = n * 2.5 / 1.3 - sum(xs)
    rows = {row.name: row for row in r.rows}
    assert rows["alpha"].generated == pytest.approx(want_alpha, rel=1e-12)
    assert rows["beta"].generated == pytest.approx(want_beta, rel=1e-12)
    h = symgrad.check(G.gamma_loglik, 2.5, 1.3, xs, wrt=["alpha", "beta"], mode="hessian")
    assert h.ok, str(h)
    hrows = {row.name: row.generated for row in h.rows}
    assert hrows["H[alpha,alpha]"] == pytest.approx(-n * psi(1, 2.5), rel=1e-11)
    assert hrows["H[alpha,beta]"] == pytest.approx(n / 1.3, rel=1e-12)


def test_beta_function_gradient():
    a, b = 1.5, 2.25
    B = math.exp(math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))
    ga, gb = symgrad.grad(G.beta_function, wrt=[0, 1])(a, b)
    assert ga == pytest.approx(B * (psi(0, a) - psi(0, a + b)), rel=1e-12)
    assert gb == pytest.approx(B * (psi(0, b) - psi(0, a + b)), rel=1e-12)
    v = symgrad.Value(a)
    out = v.lgamma() if hasattr(v, "lgamma") else None
    assert out is None or out.data == pytest.approx(math.lgamma(a))


def test_a_pole_is_an_error_not_a_number():
    with pytest.raises(ValueError, match="math domain error"):
        symgrad.grad(G.lgamma_twice)(-2.0)


def test_enumerate_with_a_positional_start():
    # (enumerate(t, 1) used to recurse without end in the lowering)
    x = 0.7
    want = 0.5 - 2.0 * x + 6.0 * x * x
    assert symgrad.grad(G.enumerate_from_one)(x) == pytest.approx(want)
