"""SciPy's special functions and the normal distribution inside differentiated functions:
``scipy.special`` functions are rules (``symgrad/rules_scipy.py``) called as SciPy's
own in the generated code; ``logsumexp``, ``softmax``, ``log_softmax`` and
``scipy.stats.norm``'s ``pdf``/``logpdf``/``cdf``/``logcdf``/``sf``/``logsf`` are
models of SciPy's steps (``symgrad/scipy_models.py``).  Before, every one of them was
"no derivative rule".

Each function is checked in every mode against independent references: its value
against SciPy's (to the last bit), the gradient against central differences, ``jvp``
against the gradient, ``hvp`` against differences of the gradient; the rules
themselves are checked against SymPy in ``test_rules.py``.  Needs ``.[scipy]``."""

import numpy as np
import pytest

special = pytest.importorskip("scipy.special")
stats = pytest.importorskip("scipy.stats")

import symgrad  # noqa: E402
from fuzz_oracles import load  # noqa: E402
from numeric import check_array_modes  # noqa: E402

SOURCE = '''
import numpy as np
import scipy.special as sps
from scipy import special, stats
from scipy.special import logsumexp, gammaln


def gamma_family(x):
    return np.sum(gammaln(x + 1.0) * sps.digamma(x + 0.5) + sps.psi(x + 2.0)
                  + sps.polygamma(1, x + 1.0) + sps.gamma(x + 0.3))


def beta_family(x):
    return np.sum(sps.betaln(x + 1.0, 2.0 * x + 0.5) + sps.beta(x + 0.5, 1.5))


def error_functions(x):
    return np.sum(special.erf(x) * special.erfc(x * 0.5) + special.erfinv(x * 0.4)
                  + special.erfcinv(0.9 + x * 0.3))


def logistic(x):
    p = special.expit(x)
    return np.sum(special.logit(p * 0.5 + 0.25) * p)


def normal_functions(x):
    return np.sum(special.ndtr(x) + special.log_ndtr(x - 1.0) * special.ndtri(
        special.expit(x)))


def entropies(x):
    p = special.expit(x)
    q = p[::-1]
    return np.sum(special.entr(p) + special.xlogy(p, q + 1.0) + special.rel_entr(p, q)
                  + special.kl_div(p, q))


def bessel(x):
    return np.sum(special.i0(x) * special.i1(x * 0.5 + 0.1))


def gamma_relatives(x):
    return np.sum(special.rgamma(x + 0.2) * special.gammasgn(x - 0.5)
                  + special.multigammaln(np.abs(x) + 2.0, 3) + special.j0(x * 3.0)
                  * special.j1(x + 0.4))


def on_numbers(a, b):
    return sps.gammaln(a * a + 1.0) * special.erf(b) + special.expit(a * b)


def lse_all(x):
    return logsumexp(x * 2.0)


def lse_axis_weights(x):
    m = np.reshape(x, (2, 3))
    return np.sum(logsumexp(m, axis=1) ** 2) + logsumexp(m, b=np.arange(1.0, 7.0).reshape(2, 3))


def lse_keepdims(x):
    m = np.reshape(x, (3, 2))
    return np.sum((m - logsumexp(m, axis=0, keepdims=True)) ** 2)


def lse_with_a_tie(x):
    return logsumexp(np.concatenate([x, x[:2]]))


def softmaxes(x):
    m = np.reshape(x, (2, 3))
    return np.sum(special.softmax(m, axis=1) * np.arange(6.0).reshape(2, 3)) \\
        + np.sum(special.log_softmax(x) ** 2)


def gaussian_likelihood(x):
    mu, s = x[0], np.exp(x[1])
    return np.sum(stats.norm.logpdf(x[2:], mu, s)) + np.sum(stats.norm.pdf(x, loc=0.3))


def shape_likelihoods(x):
    a = np.exp(x[0]) + 0.5
    pos = np.abs(x[1:]) + 0.2
    return np.sum(stats.gamma.logpdf(pos, a, scale=1.5) + stats.gamma.pdf(pos, 2.0)
                  + stats.chi2.logpdf(pos, a + 1.0) + stats.chi2.pdf(pos * 2.0, 3.0)
                  + stats.expon.logpdf(pos, scale=a) + stats.expon.pdf(pos, loc=0.1))


def unit_likelihoods(x):
    p = special.expit(x[2:])
    a, b = np.exp(x[0]) + 0.5, np.exp(x[1]) + 0.7
    return np.sum(stats.beta.logpdf(p, a, b) + stats.beta.pdf(p, 2.0, b))


def student(x):
    df = np.exp(x[0]) + 2.0
    return np.sum(stats.t.logpdf(x[1:], df, loc=0.1, scale=1.3)) + np.sum(stats.t.pdf(x, 3.0))


def counts(x):
    mu = np.exp(x)
    k = np.array([0.0, 1.0, 3.0, 2.0, 5.0, 1.0])
    return np.sum(stats.poisson.logpmf(k, mu) + stats.poisson.pmf(k, mu * 0.5))


def discrete_counts(x):
    p = special.expit(x[:3])
    k = np.array([0.0, 2.0, 5.0])
    return np.sum(stats.binom.logpmf(k, 5, p)
                  + stats.bernoulli.logpmf(np.array([0.0, 1.0, 1.0]), p)
                  + stats.nbinom.logpmf(k, np.exp(x[3]) + 1.0, p)
                  + stats.geom.logpmf(k + 1.0, p) + stats.geom.pmf(k + 2.0, p)
                  + stats.binom.logpmf(k + 1.0, 5, p, loc=1))


def binomial_probabilities(x):
    # (SciPy's binom.pmf is Boost's: the model, exp of logpmf, agrees to about 1e-16)
    return np.sum(stats.binom.pmf(np.array([0.0, 2.0, 5.0]), 6, special.expit(x[:3]) * 0.5))


def positive_families(x):
    pos = np.abs(x) + 0.2
    return np.sum(stats.halfnorm.logpdf(pos, scale=1.3) + stats.halfnorm.pdf(pos, loc=0.1)
                  + stats.invgamma.logpdf(pos, 2.0 + x[0] ** 2) + stats.invgamma.pdf(pos, 3.0)
                  + stats.weibull_min.logpdf(pos, 1.5 + x[1] ** 2)
                  + stats.weibull_min.pdf(pos, 2.0, scale=1.2))


def simplex(x):
    alpha = np.exp(x[:3]) + 0.5
    p = special.softmax(x[3:])
    return stats.dirichlet.logpdf(p, alpha) + stats.dirichlet.pdf(p, alpha * 0.5)


def gaussian_vector(x):
    cov = np.array([[1.5, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 0.8]]) + np.diag(x[3:] ** 2)
    points = np.reshape(x, (2, 3))
    return stats.multivariate_normal.logpdf(x[:3], mean=x[3:] * 0.5, cov=cov) \
        + np.sum(stats.multivariate_normal.pdf(points, x[:3] * 0.1, cov))


def frozen_distributions(x):
    d = stats.norm(x[0], np.exp(x[1]))
    g = stats.gamma(2.0 + x[2] ** 2, scale=1.5)
    return np.sum(d.logpdf(x[2:]) + d.cdf(x[2:]) * d.sf(x[2:])) + np.sum(
        g.logpdf(np.abs(x) + 0.1) + stats.t(3.0 + x[3] ** 2).pdf(x)
        + stats.chi2(4.0, loc=-5.0).logpdf(x) + stats.norm(loc=0.5).logsf(x))


def bessel_kinds(x):
    p = np.abs(x) + 0.3
    return np.sum(special.y0(p) * special.y1(p + 0.2) + special.k0(p) + special.k1(p * 2.0)
                  + special.i0e(x) * special.i1e(x * 2.0) + special.k0e(p) - special.k1e(p))


def bessel_orders(x):
    p = np.abs(x) + 0.3
    return np.sum(special.jv(2.5, p) + special.jn(2, x) * special.yn(1, p)
                  + special.yv(0.5, p) + special.iv(1.5, p) + special.ive(2, x)
                  + special.kv(0.5, p) * special.kn(2, p + 1.0) + special.kve(1.5, p))


def incomplete(x):
    p = np.abs(x) + 0.2
    return np.sum(special.gammainc(2.5, p) * special.gammaincc(1.5, p * 2.0)
                  + special.betainc(2.0, 3.0, special.expit(x)) + special.erfcx(x))


def bessel_on_numbers(x):
    return special.jv(2.5, x) * special.k1(x) + special.gammainc(1.5, x) + special.i0e(x)


def orders_on_numbers(n, x):
    return special.jv(n, x) * special.gammainc(n + 1.0, x * x) + special.iv(n, x)


def location_scale(x):
    loc, s = x[0] * 0.5, np.exp(x[1] * 0.3) + 0.2
    return np.sum(stats.laplace.logpdf(x, loc, s) + stats.laplace.pdf(x)
                  + stats.laplace.cdf(x, scale=2.0) * stats.laplace.sf(x)
                  + stats.logistic.logpdf(x, loc, s) + stats.logistic.pdf(x)
                  + stats.logistic.cdf(x) + stats.logistic.logcdf(x)
                  + stats.logistic.sf(x) + stats.logistic.logsf(x, scale=0.5)
                  + stats.cauchy.logpdf(x, loc, s) + stats.cauchy.logpdf(x * 3.0)
                  + stats.cauchy.pdf(x) + stats.cauchy.cdf(x) * stats.cauchy.sf(x, 0.1)
                  + stats.uniform.logpdf(x * 0.1, -1.0, 2.5 + s)
                  + stats.uniform.pdf(x * 0.1, -1.0, s + 3.0)
                  + stats.uniform.cdf(x, -2.0 + loc, 5.0))


def positive_shapes(x):
    pos = np.abs(x) + 0.1
    s = np.exp(x[0]) * 0.5 + 0.2
    return np.sum(stats.lognorm.logpdf(pos, s) + stats.lognorm.pdf(pos + 0.1, 0.5, scale=2.0)
                  + stats.lognorm.cdf(pos, s, loc=0.05) + special.log_expit(x * 3.0))


def frozen_location_scale(x):
    return np.sum(stats.laplace(0.1, 2.0).logpdf(x) + stats.cauchy(scale=2.0).cdf(x)
                  + stats.lognorm(0.5).logpdf(np.abs(x) + 0.1) + stats.logistic(x[0]).pdf(x)
                  + stats.uniform(-3.0, 6.0 + x[1] ** 2).logpdf(x))


def gaussian_tails(x):
    return np.sum(stats.norm.cdf(x, 0.2, 1.5) * stats.norm.sf(x)
                  + stats.norm.logcdf(x, scale=2.0) + stats.norm.logsf(x - 0.5))
'''

X = np.array([0.3, -0.6, 1.1, 0.45, -1.2, 0.8])
CASES = ["gamma_family", "beta_family", "error_functions", "logistic", "normal_functions",
         "entropies", "bessel", "lse_all", "lse_axis_weights", "lse_keepdims",
         "lse_with_a_tie", "softmaxes", "gaussian_likelihood", "gaussian_tails",
         "shape_likelihoods", "unit_likelihoods", "student", "counts", "simplex",
         "gaussian_vector", "gamma_relatives", "frozen_distributions", "bessel_kinds",
         "bessel_orders", "incomplete", "location_scale", "positive_shapes",
         "frozen_location_scale", "discrete_counts", "binomial_probabilities",
         "positive_families"]
#: models whose value is not SciPy's to the last bit (see their docstrings)
NEAR = {"unit_likelihoods", "simplex", "gaussian_vector", "binomial_probabilities"}


@pytest.fixture(scope="module")
def mod():
    return load(SOURCE)


# (rgamma at a pole of gamma, in gamma_relatives: np.where computes both of its partial's
# branches, and numpy warns about the one not taken)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("name", CASES)
def test_every_mode_against_scipy_and_differences(mod, name):
    f = getattr(mod, name)
    x = X[::-1].copy() if name == "gamma_family" else X.copy()
    x = np.abs(x) + 0.1 if name in ("gamma_family", "beta_family") else x
    value, g = symgrad.value_and_grad(f)(x.copy())
    if name in NEAR:
        assert np.isclose(value, f(x.copy()), rtol=1e-13, atol=0)
    else:
        assert value == f(x.copy())                 # SciPy's value, to the last bit
    check_array_modes(f, x, np.linspace(-0.5, 0.7, x.size))


def test_on_numbers(mod):
    f = mod.on_numbers
    a, b = 0.7, -0.4
    value, (da, db) = symgrad.value_and_grad(f)(a, b)
    assert value == f(a, b)
    h = 1e-6
    assert np.isclose(da, (f(a + h, b) - f(a - h, b)) / (2 * h), rtol=1e-7)
    assert np.isclose(db, (f(a, b + h) - f(a, b - h)) / (2 * h), rtol=1e-7)
    second = symgrad.hessian(f)(a, b)
    ga = symgrad.grad(f, wrt=0)
    assert np.isclose(second[0][0], (ga(a + 1e-5, b) - ga(a - 1e-5, b)) / 2e-5, rtol=1e-5)


def test_generated_code_calls_scipy_by_name(mod):
    src = symgrad.grad(mod.logistic).source
    assert "special.expit(" in src and "special.logit(" in src
    src = symgrad.grad(mod.gamma_family).source
    assert "special.polygamma(1, " in src or "polygamma(" in src


def test_what_is_not_modelled_is_a_clear_error():
    f = load('''
from scipy import stats


def tail(x):
    return stats.t.cdf(x, 3.0)
''').tail
    with pytest.raises(symgrad.SymgradError, match="line 6"):
        symgrad.grad(f)(0.5)


def test_every_engine_of_check_runs_scipy(mod):
    """``symgrad.check`` runs the function itself on SymPy numbers and on ``Value`` s: a
    ``scipy.special`` function with a rule is that rule there too, and the models stand
    in for ``logsumexp``, ``softmax`` and ``stats``' densities, so all four engines
    compare (before, SymPy and the Value engine were skipped: "cannot run")."""
    for name, x in (("on_numbers", (0.7, -0.4)), ("lse_all", (X.copy(),)),
                    ("gaussian_likelihood", (X.copy(),)), ("shape_likelihoods", (X.copy(),))):
        report = symgrad.check(getattr(mod, name), *x)
        assert report.ok and not report.unavailable, (name, str(report))


def test_an_order_is_not_differentiated(mod):
    """A Bessel function's order, or an incomplete gamma function's shape, has no
    derivative symgrad knows: differentiating through it is an error naming the line, in
    every mode; held fixed (``wrt``), the rest is differentiated."""
    f = mod.orders_on_numbers
    line = next(i for i, text in enumerate(SOURCE.splitlines(), 1) if "special.jv(n" in text)
    n, x = 1.5, 0.8
    for make in (lambda: symgrad.grad(f)(n, x), lambda: symgrad.jvp(f, (n, x), (1.0, 0.0)),
                 lambda: symgrad.hessian(f)(n, x)):
        with pytest.raises(symgrad.SymgradError, match=f"line {line}: .* jv with respect to the order"):
            make()
    value, d = symgrad.value_and_grad(f, wrt=1)(n, x)
    assert value == f(n, x)
    assert np.isclose(d, (f(n, x + 1e-6) - f(n, x - 1e-6)) / 2e-6, rtol=1e-7)
    second = symgrad.hessian(f, wrt=1)(n, x)
    g = symgrad.grad(f, wrt=1)
    assert np.isclose(np.ravel(second)[0], (g(n, x + 1e-5) - g(n, x - 1e-5)) / 2e-5,
                      rtol=1e-5)


def test_check_runs_the_new_functions(mod):
    """All four engines on numbers; on arrays the Value engine and differences (SymPy
    takes tens of seconds on Bessel functions of six elements)."""
    report = symgrad.check(mod.bessel_on_numbers, 0.8)
    assert report.ok and not report.unavailable, str(report)
    for name in ("bessel_kinds", "bessel_orders", "incomplete"):
        report = symgrad.check(getattr(mod, name), X.copy(), engines=("value", "fd"))
        assert report.ok and not report.unavailable, (name, str(report))
