"""Programs from the third and fourth surveys (Python's semantics; numpy), each one a
silently wrong gradient or a crash before.  Written for symgrad's tests."""
import numpy as np

import symgrad


# --- a value the last test of a while loop computes, read after the loop ----------
def walrus_in_while(a):
    i = 0
    while (v := a * i) < 1.2:
        i += 1
    return v


def walrus_body_unused(a):
    i = 0
    s = 0.0
    while (v := a * i) < 2.0:
        s += 1.0
        i += 1
    return v + s


def walrus_two_conditions(a, b):
    n = 0
    while (u := a * n) < 1.0 and (w := b * n) < 2.0:
        n += 1
    return u + w * 2.0


def walrus_nested_in_for(a):
    s = 0.0
    for k in range(1, 3):
        i = 0
        while (v := a * i * k) < 1.5:
            i += 1
        s += v
    return s


def walrus_while_else(a):
    i = 0
    while (v := a * i) < 1.2:
        i += 1
    else:
        v = v + a
    return v


def walrus_with_break(a):
    i = 0
    while (v := a * i) < 3.0:
        if i == 2:
            break
        i += 1
    return v


def test_through_a_helper(a):
    st = {"v": 0.0}
    i = [0]

    def test():
        st["v"] = a * i[0]
        return st["v"] < 1.2
    while test():
        i[0] += 1
    return st["v"]


def test_through_a_nonlocal(a):
    v = 0.0
    i = 0

    def probe():
        nonlocal v
        v = a * i
        return v
    while probe() < 1.2:
        i += 1
    return v


def test_read_in_the_body_and_after(a, b):
    i = 0
    s = 0.0
    while (v := a * i + b) < 2.5:
        s += v * v
        i += 1
    return s + v * b


WHILE_TESTS = [walrus_in_while, walrus_body_unused, walrus_nested_in_for, walrus_while_else,
               walrus_with_break, test_through_a_helper, test_through_a_nonlocal]


# --- xs *= k repeats the list in place (every name of it sees it) -----------------
def repeated_through_an_alias(s):
    a = [s, 1.0]
    b = a
    a *= 3
    return sum(b) * s


def cleared_through_an_alias(s):
    a = [s, 2.0]
    b = a
    a *= 0
    b.append(s * s)
    return sum(a) + len(b) * s


def repeated_by_a_helper(s):
    def grow(l):
        l *= 2
    a = [s, 1.0]
    grow(a)
    return sum(a) * s


def item_of_the_repeat(s):
    a = [s, 1.0]
    b = a
    a *= 2
    return b[2] * s


def row_repeated(m, s):
    r = m[0]
    r *= 2
    return sum(m[0]) * s + len(m[0])


def row_repeated_by_index(m, s):
    m[0] *= 2
    return sum(m[0]) * s + len(m[0])


def parameter_repeated(a, s):
    a *= 2
    return sum(x * s for x in a)


def number_multiplied(x, s):
    x *= s
    y = x
    x *= 2.0
    return x * y


def extended_by_itself(s):
    a = [s, 1.0]
    a.extend(a)
    return sum(a) * s


def added_to_itself(s):
    a = [s, 1.0]
    b = a
    a += b
    return sum(a) * s + a[3] * s


# --- a gradient made inside, on arrays ---------------------------------------------
C = np.array([1.0, 3.0])
D = np.array([1.0, 10.0])
X = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.3]])
Y = np.array([0.5, 0.0, 0.9])


def _weighted(w):
    return np.sum(w ** 2 * C)


def inner_gradient_weighted(w):
    return np.sum(symgrad.grad(_weighted)(w) * D)


def _least_squares(w):
    return np.sum((np.dot(X, w) - Y) ** 2)


def meta_step(w):
    return _least_squares(w - 0.1 * symgrad.grad(_least_squares)(w))


def _matmul_loss(w):
    return np.sum(np.tanh(X @ w) * Y)


_MATMUL_GRAD = symgrad.grad(_matmul_loss)


def module_gradient_inside(w, s):
    return s * np.sum(_MATMUL_GRAD(w) ** 2) + np.sum(w * s)


# --- while tests whose values are read after the loop, for the property test -------
def walrus_scaled(a, c, e):
    i = 0
    while (v := a * i + e) < c:
        i += 1
    return v * a


def walrus_accumulated(a, c, e):
    i = 0
    s = 0.0
    while (v := a * a * i + e) < c and i < 9:
        s += v * e
        i += 1
    return s + v * v


def walrus_two_values(a, c, e):
    i = 0
    while (u := a * i) < c and (w := u * e + a) < c + 1.0:
        i += 1
    return u * e + w


def trips(f, a, c, e):
    """How many times the loop of ``f`` (one of the three above) runs."""
    i = 0
    if f is walrus_scaled:
        while a * i + e < c:
            i += 1
    elif f is walrus_accumulated:
        while a * a * i + e < c and i < 9:
            i += 1
    else:
        while a * i < c and a * i * e + a < c + 1.0:
            i += 1
    return i
