"""The float forwards of primitives Python's ``math`` does not have (``sigmoid``,
``relu``, ``polygamma`` ...): the table in :mod:`symgrad.rules` names them.

>>> sigmoid(0.0), cbrt(-8.0), sign(-0.5)
(0.5, -2.0, -1.0)
"""

from __future__ import annotations

import math

__all__ = ["square", "logaddexp", "logaddexp2", "positive", "stop_gradient", "sigmoid", "relu", "exp2", "cbrt", "reciprocal", "sinc", "polygamma", "sign"]

def square(x: float) -> float:
    """x * x."""
    return x * x


def logaddexp(a: float, b: float) -> float:
    """log(exp(a) + exp(b)), without overflow."""
    m = a if a > b else b
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def logaddexp2(a: float, b: float) -> float:
    """log2(2 ** a + 2 ** b), without overflow."""
    m = a if a > b else b
    return m + math.log2(2.0 ** (a - m) + 2.0 ** (b - m))


def positive(x: float) -> float:
    """+x (numpy's ``positive``; also the conjugate of a real number)."""
    return +x


def stop_gradient(x: float) -> float:
    """x itself; its derivative is taken to be 0 (JAX's ``lax.stop_gradient``, PyTorch's
    ``detach``)."""
    return x


def sigmoid(x: float) -> float:
    """The logistic function, 1 / (1 + exp(-x)), without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def relu(x: float) -> float:
    """max(x, 0), with relu(0) = 0."""
    return x if x > 0 else 0.0


def exp2(x: float) -> float:
    """2 ** x."""
    return 2.0 ** x


def cbrt(x: float) -> float:
    """The real cube root (negative for negative x)."""
    return math.copysign(abs(x) ** (1.0 / 3.0), x)


def reciprocal(x: float) -> float:
    """1 / x."""
    return 1.0 / x


def sinc(x: float) -> float:
    """sin(pi x) / (pi x), 1 at 0 (numpy's normalized sinc)."""
    if x == 0:
        return 1.0
    y = math.pi * x
    return math.sin(y) / y


def polygamma(n: int, x: float) -> float:
    """The n-th derivative of the digamma function (digamma itself for n = 0) at x: the
    recurrence moves x above 20, where the asymptotic series converges; a pole (x a
    whole number <= 0) is a ValueError, as for math.lgamma."""
    n = int(n)
    if x <= 0 and x == math.floor(x):
        raise ValueError("math domain error")
    bernoulli = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
                 43867 / 798, -174611 / 330)
    sign = -1.0 if n % 2 else 1.0            # (-1) ** n
    fact = math.factorial(n)
    shift = 0.0
    while x < 20.0 + n:                      # psi_n(x) = psi_n(x + 1) - (-1)^n n! / x^(n+1)
        shift -= sign * fact / x ** (n + 1)
        x += 1.0
    if n == 0:
        tail = math.log(x) - 0.5 / x
        for k, b in enumerate(bernoulli, 1):
            tail -= b / (2 * k * x ** (2 * k))
        return shift + tail
    tail = math.factorial(n - 1) / x ** n + fact / (2.0 * x ** (n + 1))
    for k, b in enumerate(bernoulli, 1):
        tail += b * math.factorial(2 * k + n - 1) / (math.factorial(2 * k) * x ** (2 * k + n))
    return shift - sign * tail               # (-1) ** (n + 1) * tail


def sign(x: float) -> float:
    return 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)
