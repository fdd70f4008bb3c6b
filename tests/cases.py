"""Functions differentiated by the tests (they live in a file so symgrad can read them).

Each entry of CASES is (function, example arguments).  The tests compare the
generated gradient with central finite differences and with the Value engine.
"""
import math
from math import exp as mexp, sin

import numpy as np

import symgrad

SCALE = 1.5
OFFSETS = (0.25, -0.5)


# ---------------------------------------------------------------- straight-line
def seed_neuron(x1, x2, w1, w2, b):
    n = x1 * w1 + x2 * w2 + b
    return math.tanh(n)


def seed_neuron_exp(x1, x2, w1, w2, b):
    n = x1 * w1 + x2 * w2 + b
    e = math.exp(2 * n)
    return (e - 1) / (e + 1)


def seed_l(a, b, d):
    e = a + b
    return e * d


def seed_poly(a, b, c):
    return a ** 2 + b ** 3 - c


def seed_reuse(a, b):
    return a - b + a + b


def reassign(x, y):
    x = x * y
    x = x + math.sin(x)
    y = x * y
    return x * y


def augassign(x, y):
    s = x
    s += y
    s *= x
    s -= 2.0
    s /= y
    s **= 2
    return s


def tuple_unpack(x, y):
    a, b = x * 2, y + 1
    a, b = b, a
    return a * b - a


def constants(x):
    return SCALE * x + OFFSETS[0] * x * x + 3 // 2 + 2.0 ** 3


def unary(x, y):
    return -x * +y - (-y)


def divisions(x, y):
    return x / y + 1 / x + y / 3 + (x * y) / (x + y)


def powers(x, y):
    return x ** y + 2 ** x + x ** 0.5 + y ** -2 + x ** 1 + pow(x, 3) + math.pow(y, x)


def floor_mod(x, y):
    return x // y + x % y + (x * 3) % 2 + y


def all_math(x):
    a = math.exp(x) + math.log(x) + math.log1p(x) + math.expm1(x) + math.sqrt(x)
    b = math.sin(x) + math.cos(x) + math.tan(x) + math.asin(x / 4) + math.acos(x / 4)
    c = math.atan(x) + math.atan2(x, 2.0) + math.sinh(x) + math.cosh(x) + math.tanh(x)
    d = math.hypot(x, 3.0) + math.fabs(x - 3) + math.log(x, 2) + math.log2(x) + math.log10(x)
    return a + b + c + d + math.erf(x) + math.asinh(x) + math.acosh(x + 1) + math.atanh(x / 4)


def all_numpy(x):
    a = np.exp(x) + np.log(x) + np.log1p(x) + np.expm1(x) + np.sqrt(x) + np.sin(x)
    b = np.cos(x) + np.tan(x) + np.arcsin(x / 4) + np.arccos(x / 4) + np.arctan(x)
    c = np.arctan2(x, 2.0) + np.sinh(x) + np.cosh(x) + np.tanh(x) + np.hypot(x, 3.0)
    return a + b + c + np.abs(x - 3) + np.power(x, 2.5) + np.maximum(x, 1.0)


def builtins_calls(x, y):
    return abs(x - y) + max(x, y) + min(x, y * 2) + max(x, y, 0.5) + float(x)


def imported_names(x):
    return mexp(x) * sin(x)


def symgrad_funcs(x, y):
    return (symgrad.tanh(x) + symgrad.sigmoid(y) + symgrad.relu(x - y) + symgrad.exp(-x)
            + symgrad.log(y) + symgrad.sqrt(x) + symgrad.sin(x) * symgrad.cos(y))


def inactive_calls(x, n):
    k = int(n)
    m = len([1, 2, 3])
    return x * k + x * m + round(2.6) * x


def mixed_int_constants(x):
    return 2 * x + x * 3 - 4 / x + 1 - x


# ---------------------------------------------------------------- branches
def branch(x):
    if x > 0:
        y = x * x
    else:
        y = -x
    return y * 3


def branch_elif(x, y):
    if x > 1:
        z = x * y
    elif x > -1:
        z = math.sin(x) + y
    else:
        z = y * y
    return z + x


def nested_branch(x, y):
    z = x
    if x > 0:
        if y > 0:
            z = z * y
        else:
            z = z - y
        z = z * 2
    return z * x


def early_return(x, y):
    if x > y:
        return x * y
    z = x + y
    if z > 0:
        return math.exp(z)
    return z * z


def ifexp(x, y):
    z = x * y if x > 0 else x + y
    return z * (x if y > 0 else y)


def bool_conditions(x, y):
    if x > 0 and not y < 0 or x == 3:
        r = x * y
    else:
        r = x - y
    return r


def overwrite_in_branch(x):
    y = x * 2
    if x > 1:
        y = math.tanh(y)
    return y * x


# ---------------------------------------------------------------- loops
def loop_range(x, n):
    s = 0.0
    for i in range(n):
        s = s + x ** (i + 1) / (i + 1)
    return s


def loop_list(x, w, b):
    s = b
    for i in range(len(x)):
        s = s + w[i] * x[i]
    return math.tanh(s)


def loop_over_values(xs, c):
    s = 0.0
    for v in xs:
        s = s + v * v * c
    return s


def loop_zip_enumerate(xs, ws):
    s = 0.0
    for i, (x, w) in enumerate(zip(xs, ws)):
        s = s + (i + 1) * x * w
    for x in reversed(xs):
        s = s * 0.5 + x
    return s


def loop_nested(a, b):
    s = 0.0
    for i in range(3):
        for j in range(i + 1):
            s = s + a * b ** j - s * 0.1
    return s


def loop_while(x):
    y = x
    k = 0
    while k < 4:
        y = math.sin(y) + x
        k = k + 1
    return y


def loop_break_continue(x, n):
    s = x
    for i in range(n):
        if i % 2 == 1:
            continue
        s = s * 1.5 + x
        if s > 100.0:
            break
    return s


def loop_tanh_rnn(h, w, x):
    for i in range(3):
        h = math.tanh(h * w + x)
    return h


def loop_with_branch(x, n):
    s = 1.0
    for i in range(n):
        if s < 2:
            s = s * x + 1
        else:
            s = s - x * 0.3
    return s


# ---------------------------------------------------------------- calls
def helper_sq(v):
    return v * v


def helper_affine(v, a=2.0, b=1.0):
    return a * v + b


def calls(x, y):
    p = helper_sq(x) + helper_affine(y, b=0.5)
    return helper_affine(helper_sq(p), a=x)


def calls_inner(x):
    def inner(z, k):
        return math.sin(z) * k

    s = 0.0
    for i in range(3):
        s = s + inner(x, i)
    return s + inner(s, x)


def calls_lists(xs, ws):
    return dot(xs, ws) + dot(ws, ws)


def dot(a, b):
    s = 0.0
    for i in range(len(a)):
        s = s + a[i] * b[i]
    return s


# ---------------------------------------------------------------- lists
def list_ops(xs, c):
    h = []
    for x in xs:
        h.append(math.tanh(x * c))
    t = [h[0] * 2, h[1] + c]
    return sum(h) + t[0] * t[1] + len(h) * c


def list_writes(xs):
    h = [0.0] * len(xs)
    for i in range(len(xs)):
        h[i] = xs[i] * xs[i]
    h[0] = h[0] + h[1] * 3
    return sum(h)


def list_comprehension(xs, w):
    ys = [w * x for x in xs if x > -10]
    zs = [y * y for y in ys]
    return sum(zs) + sum(w * x for x in xs) + sum(ys[i] * xs[i] for i in range(len(xs)))


def tuple_argument(p, q):
    a, b = p
    return a * b + q * a


def nested_lists(W, x):
    s = 0.0
    for j in range(len(W)):
        row = W[j]
        a = 0.0
        for i in range(len(x)):
            a = a + row[i] * x[i]
        s = s + math.tanh(a)
    return s


def mlp_loss(W1, b1, W2, b2, xs, ys):
    loss = 0.0
    for x, y in zip(xs, ys):
        h = []
        for j in range(len(W1)):
            a = b1[j]
            for i in range(len(x)):
                a = a + W1[j][i] * x[i]
            h.append(math.tanh(a))
        out = b2
        for j in range(len(h)):
            out = out + W2[j] * h[j]
        loss = loss + (out - y) ** 2
    return loss


def max_of_list(xs):
    return max(xs) + min(xs)


CASES = [
    (seed_neuron, (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)),
    (seed_neuron_exp, (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)),
    (seed_l, (5.0, 3.0, 10.0)),
    (seed_poly, (2.0, 3.0, 4.0)),
    (seed_reuse, (1.0, 2.0)),
    (reassign, (0.7, 1.3)),
    (augassign, (1.2, 0.8)),
    (tuple_unpack, (1.5, 2.5)),
    (constants, (1.3,)),
    (unary, (0.4, 1.9)),
    (divisions, (1.4, 0.6)),
    (powers, (1.3, 0.7)),
    (floor_mod, (5.3, 1.7)),
    (all_math, (1.3,)),
    (all_numpy, (1.3,)),
    (builtins_calls, (0.3, 1.1)),
    (imported_names, (0.9,)),
    (symgrad_funcs, (0.8, 1.7)),
    (mixed_int_constants, (1.1,)),
    (branch, (2.0,)), (branch, (-1.5,)),
    (branch_elif, (2.0, 0.5)), (branch_elif, (0.3, 0.5)), (branch_elif, (-2.0, 0.5)),
    (nested_branch, (1.5, 2.0)), (nested_branch, (1.5, -2.0)), (nested_branch, (-1.5, 2.0)),
    (early_return, (2.0, 1.0)), (early_return, (0.5, 1.0)), (early_return, (-2.0, 1.0)),
    (ifexp, (1.2, 0.5)), (ifexp, (-1.2, -0.5)),
    (bool_conditions, (1.0, 2.0)), (bool_conditions, (-1.0, 2.0)),
    (overwrite_in_branch, (2.0,)), (overwrite_in_branch, (0.5,)),
    (loop_list, ([1.0, 2.0, -1.0], [0.5, -0.3, 0.8], 0.1)),
    (loop_over_values, ([1.0, 2.0, 3.0], 0.5)),
    (loop_over_values, ([], 0.5)),
    (loop_zip_enumerate, ([1.0, -2.0, 0.5], [0.3, 0.2, 0.1])),
    (loop_nested, (0.7, 1.2)),
    (loop_while, (0.6,)),
    (loop_tanh_rnn, (0.1, 0.8, 0.3)),
    (calls, (0.6, 0.9)),
    (calls_inner, (0.4,)),
    (calls_lists, ([1.0, 2.0], [0.5, 0.25])),
    (list_ops, ([0.5, -0.2, 0.9], 1.1)),
    (list_writes, ([0.5, -0.2, 0.9],)),
    (list_comprehension, ([0.5, -0.2, 0.9], 1.3)),
    (tuple_argument, ((1.5, 2.0), 0.5)),
    (nested_lists, ([[0.1, 0.2], [0.3, -0.4]], [1.0, 2.0])),
    (mlp_loss, ([[0.1, 0.2], [0.3, -0.4], [0.5, 0.1]], [0.0, 0.1, -0.1], [0.3, -0.2, 0.4], 0.05,
                [[1.0, 2.0], [-1.0, 0.5]], [1.0, -1.0])),
    (max_of_list, ([0.5, 2.0, -1.0],)),
]
# functions with integer parameters that are not differentiated: (function, args, wrt)
CASES_WRT = [
    (loop_range, (0.7, 0), "x"), (loop_range, (0.7, 1), "x"), (loop_range, (0.7, 5), "x"),
    (loop_break_continue, (0.9, 0), "x"), (loop_break_continue, (0.9, 1), "x"),
    (loop_break_continue, (0.9, 7), "x"), (loop_break_continue, (3.0, 9), "x"),
    (loop_with_branch, (0.8, 0), "x"), (loop_with_branch, (0.8, 1), "x"),
    (loop_with_branch, (1.4, 6), "x"),
    (inactive_calls, (1.3, 2.7), "x"),
]


def elem_write_after_read(x, y):
    h = [x, y, 1.0]
    b = x * h[1]
    h[1] = h[1] * 3 + b
    h.append(h[1] * x)
    c = y * h[3]
    return b * c + h[1]


CASES.append((elem_write_after_read, (0.7, 1.9)))


def overwrite_inactive(x, y):
    if y > -1.0:
        x = y
    return x


def overwrite_inactive_loop(x, y):
    for i in range(1):
        x = y
    return x
