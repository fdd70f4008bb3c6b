"""Functions using lgamma and gamma, for tests/test_gamma.py (symgrad reads their source)."""
import math

import symgrad


def lgamma_twice(x):
    return 2.0 * math.lgamma(x) + math.gamma(x / 3.0)


def poisson_nll(lam, k):
    """-log P(k | lam) for a Poisson count k (k data: lgamma(k + 1) is a constant)."""
    return -(k * math.log(lam) - lam - math.lgamma(k + 1.0))


def gamma_loglik(alpha, beta, xs):
    """The log-likelihood of a Gamma(alpha, rate beta) sample xs."""
    n = len(xs)
    total = n * (alpha * math.log(beta) - math.lgamma(alpha))
    for x in xs:
        total += (alpha - 1.0) * math.log(x) - beta * x
    return total


def beta_function(a, b):
    return math.exp(math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))


def sigmoid_squared(x):
    return symgrad.sigmoid(x) ** 2


def enumerate_from_one(x):
    coefs = (0.5, -1.0, 2.0)
    total = 0.0
    for k, c in enumerate(coefs, 1):
        total += c * x ** k
    return total
