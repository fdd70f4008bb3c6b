"""Functions for tests/test_modes.py (symgrad reads source, so they live in a file)."""
import math

import sympy


# --------------------------------------------------------------------------- several outputs

def pair(x, y):
    return x * y, x + y


def rows_times(xs, c):
    return [x * c for x in xs]


def ode_rhs(theta, omega):
    g = 9.81
    return omega, -g * math.sin(theta)


def polar(r, phi):
    return [r * math.cos(phi), r * math.sin(phi)]


def softmax(xs):
    m = max(xs)
    es = [math.exp(x - m) for x in xs]
    s = sum(es)
    return [e / s for e in es]


def branchy_pair(x, y):
    if x > y:
        a = x * x
    else:
        a = y * math.exp(x)
    return a, a * y


def loop_outputs(xs, w):
    out = []
    h = 0.0
    for x in xs:
        h = math.tanh(w * h + x)
        out.append(h)
    return out


def helper_tuple(a, b):
    return a * b, a - b


def uses_helper(x, y):
    p, q = helper_tuple(x, y)
    r, s = helper_tuple(p, q)
    return (r, s), p


def nested_rows(m):
    return [[v * v for v in row] for row in m]


def many_to_one(xs):
    return [sum(x * x for x in xs)]


def one_to_many(x):
    return [x, x * x, x * x * x, math.sin(x), math.cos(x)]


def mixed(x, xs):
    s = 0.0
    for v in xs:
        s += v * x
    return s, [v + s for v in xs]


def returns_param(xs, x):
    xs2 = list(xs)
    xs2[0] = xs2[0] * x
    return xs2


VECTOR = [
    (pair, (2.0, 3.0)), (rows_times, ([1.0, 2.0, -0.5], 3.0)), (ode_rhs, (0.5, 0.2)),
    (polar, (1.5, 0.3)), (softmax, ([0.1, 0.9, -0.4],)), (branchy_pair, (0.8, 0.3)),
    (branchy_pair, (0.2, 0.9)), (loop_outputs, ([0.3, -0.2, 0.5], 0.7)),
    (uses_helper, (1.3, 0.4)), (nested_rows, ([[0.5, 1.0], [-2.0, 0.25]],)),
    (many_to_one, ([0.1, 0.2, 0.3],)), (one_to_many, (0.7,)), (mixed, (0.9, [1.0, -2.0])),
    (returns_param, ([0.5, 0.25], 2.0)),
]


# --------------------------------------------------------------------------- Hessians

def rosen2(x, y):
    return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2


def neuron_loss(w, b, x):
    n = w * x + b
    y = math.tanh(n)
    return (y - 0.5) ** 2 + math.exp(-w * w)


def poly3(x, y, z):
    return x ** 3 * y + y ** 2 * z ** 2 + math.sin(x * z)


MATRIX = [[1.0, 2.0, 0.5], [-1.0, 3.0, 0.0], [0.25, 4.0, -2.0]]


def quadratic_form(xs):
    s = 0.0
    for i in range(len(xs)):
        for j in range(len(xs)):
            s += xs[i] * MATRIX[i][j] * xs[j]
    return s


def copies_rows(m, n):
    rows = [list(r) for r in m]
    s = 0.0
    for k in range(n):
        for r in rows:
            r[0] = r[0] * r[1] + math.sin(r[0])
            s += r[0] * r[0]
    return s


def copies_rows_scalar(x):
    m = [[x, 2.0 * x], [x * x, 1.0]]
    rows = [r[:] for r in m]
    rows[1][0] = rows[1][0] * rows[0][1]
    return sum(r[0] * r[1] for r in rows)


def loop_sum(xs):
    s = 0.0
    for x in xs:
        s = s + math.sin(s * x)
    return s


def returns_string(x):
    return "x = " + str(x)


# --------------------------------------------------------------------------- references

_SYMPY = {math.sin: sympy.sin, math.cos: sympy.cos, math.exp: sympy.exp, math.tanh: sympy.tanh}


def symbolic(fn):
    """``fn`` run on SymPy symbols (its ``math`` functions swapped for SymPy's)."""
    import types
    shim = types.SimpleNamespace(sin=sympy.sin, cos=sympy.cos, exp=sympy.exp, tanh=sympy.tanh)
    glb = dict(fn.__globals__)
    glb["math"] = shim
    return types.FunctionType(fn.__code__, glb, fn.__name__, fn.__defaults__, fn.__closure__)
