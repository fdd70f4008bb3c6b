"""The benchmark functions, as plain Python, and their hand-written gradients.

Every benchmark function is written once, with ``math``; symgrad reads its
source from this file (or, for the generated straight-line functions, from a
module written by :func:`write_generated`).  The other engines run the *same*
function bodies: :func:`rebind` re-creates a function with ``math`` bound to a
shim (``symgrad.Value`` methods, ``torch``, ``jax.numpy`` or ``sympy``).

The ``*_vg`` functions are the hand-written reverse-mode gradients: each
returns ``(value, gradient)`` with the gradient in parameter order, exactly like
``symgrad.value_and_grad(f)``.  They are written the way a careful person
writes a gradient by hand: one forward sweep that keeps what the backward sweep
needs (``1 - t * t`` of a tanh output, a shared denominator), then the adjoints,
fused, with no temporaries, zero adjoints or helper calls that are not needed.
For the generated functions the hand-written gradient is generated too (nobody
types 201 parameters), from templates that spell out what a person would write.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import os
import random
import types

# --------------------------------------------------------------------------- 2-input neuron


def neuron2(x1, x2, w1, w2, b):
    """The seeds' neuron: tanh(x1 w1 + x2 w2 + b)."""
    n = x1 * w1 + x2 * w2 + b
    return math.tanh(n)


def neuron2_vg(x1, x2, w1, w2, b):
    t = math.tanh(x1 * w1 + x2 * w2 + b)
    d = 1.0 - t * t
    return t, (d * w1, d * w2, d * x1, d * x2, d)


NEURON2_ARGS = (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)

# --------------------------------------------------------------------------- 100-input neuron, loop


def neuron_loop(x, w, b):
    """tanh(sum_i x[i] w[i] + b) over lists."""
    s = b
    for i in range(len(x)):
        s = s + x[i] * w[i]
    return math.tanh(s)


def neuron_loop_vg(x, w, b):
    s = b
    for xi, wi in zip(x, w):
        s += xi * wi
    t = math.tanh(s)
    d = 1.0 - t * t
    return t, ([d * wi for wi in w], [d * xi for xi in x], d)


def neuron_args(n=100, seed=0):
    """Inputs for an ``n``-input neuron, scaled so tanh is not saturated."""
    rng = random.Random(seed)
    x = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    w = [rng.uniform(-1.0, 1.0) / math.sqrt(n) for _ in range(n)]
    return x, w, 0.1


# --------------------------------------------------------------------------- MLP loss, loops


def layer(W, b, x):
    """tanh(W x + b) for a weight matrix W (list of rows) and a bias list b."""
    out = []
    for j in range(len(W)):
        a = b[j]
        for i in range(len(x)):
            a = a + W[j][i] * x[i]
        out.append(math.tanh(a))
    return out


def mlp_loss(W1, b1, W2, b2, W3, b3, xs, ys):
    """Squared error of a tanh MLP (2-8-8-1 here) over the points ``xs``, targets ``ys``."""
    total = 0.0
    for p in range(len(xs)):
        h1 = layer(W1, b1, xs[p])
        h2 = layer(W2, b2, h1)
        y = layer(W3, b3, h2)
        d = y[0] - ys[p]
        total = total + d * d
    return total


MLP_WRT = ["W1", "b1", "W2", "b2", "W3", "b3"]
MLP_XS = [[2.0, 3.0], [3.0, -1.0], [0.5, 1.0], [1.0, -1.0]]
MLP_YS = [1.0, -1.0, -1.0, 1.0]


def mlp_args(sizes=(2, 8, 8, 1), seed=1):
    """(W1, b1, W2, b2, W3, b3, xs, ys) with weights uniform in +-1/sqrt(fan-in)."""
    rng = random.Random(seed)
    params = []
    for n_in, n_out in itertools.pairwise(sizes):
        s = 1.0 / math.sqrt(n_in)
        params.append([[rng.uniform(-s, s) for _ in range(n_in)] for _ in range(n_out)])
        params.append([rng.uniform(-s, s) for _ in range(n_out)])
    return (*params, MLP_XS, MLP_YS)


def mlp_loss_vg(W1, b1, W2, b2, W3, b3, xs, ys):
    """Loss and gradients wrt (W1, b1, W2, b2, W3, b3): per point, forward through the
    three layers keeping the activations, then back-propagate ``(1 - h * h)``."""
    tanh = math.tanh
    gW1 = [[0.0] * len(r) for r in W1]
    gb1 = [0.0] * len(b1)
    gW2 = [[0.0] * len(r) for r in W2]
    gb2 = [0.0] * len(b2)
    gW3 = [[0.0] * len(r) for r in W3]
    gb3 = [0.0] * len(b3)
    total = 0.0
    for x, target in zip(xs, ys):
        h1 = [tanh(bj + sum([wi * xi for wi, xi in zip(row, x)])) for row, bj in zip(W1, b1)]
        h2 = [tanh(bj + sum([wi * hi for wi, hi in zip(row, h1)])) for row, bj in zip(W2, b2)]
        y = tanh(b3[0] + sum([wi * hi for wi, hi in zip(W3[0], h2)]))
        d = y - target
        total += d * d
        # backward: output layer
        a3 = 2.0 * d * (1.0 - y * y)
        gb3[0] += a3
        g = gW3[0]
        for k, hk in enumerate(h2):
            g[k] += a3 * hk
        # hidden layer 2
        a2 = [a3 * w * (1.0 - h * h) for w, h in zip(W3[0], h2)]
        for j, aj in enumerate(a2):
            gb2[j] += aj
            g = gW2[j]
            for i, hi in enumerate(h1):
                g[i] += aj * hi
        # hidden layer 1
        for i, hi in enumerate(h1):
            s = 0.0
            for j, aj in enumerate(a2):
                s += aj * W2[j][i]
            ai = s * (1.0 - hi * hi)
            gb1[i] += ai
            g = gW1[i]
            for k, xk in enumerate(x):
                g[k] += ai * xk
    return total, (gW1, gb1, gW2, gb2, gW3, gb3)


# --------------------------------------------------------------------------- Rosenbrock, Huber


def rosenbrock(x):
    """The extended Rosenbrock function of a list, as a loop."""
    s = 0.0
    for i in range(len(x) - 1):
        a = x[i + 1] - x[i] * x[i]
        b = 1.0 - x[i]
        s = s + 100.0 * a * a + b * b
    return s


def rosenbrock_vectorized(x):
    """The same function of a 1-d numpy, JAX or torch array, as the array libraries write
    it: slices instead of a loop."""
    a = x[1:] - x[:-1] * x[:-1]
    b = 1.0 - x[:-1]
    return (100.0 * a * a + b * b).sum()


def huber(r, delta):
    """The Huber loss of the residuals ``r``: quadratic within ``delta``, linear outside
    (a branch per element)."""
    total = 0.0
    for i in range(len(r)):
        a = abs(r[i])
        if a <= delta:
            total = total + 0.5 * r[i] * r[i]
        else:
            total = total + delta * (a - 0.5 * delta)
    return total


def uniform_list(n, low=-1.0, high=1.0, seed=0):
    rng = random.Random(seed)
    return [rng.uniform(low, high) for _ in range(n)]


# --------------------------------------------------------------------------- generated sources

def neuron_straight_source(n=100):
    """Source of ``neuron{n}(x0, ..., x{n-1}, w0, ..., w{n-1}, b)``: one tanh of a dot
    product written out term by term, and of its hand-written gradient ``neuron{n}_vg``."""
    xs = [f"x{i}" for i in range(n)]
    ws = [f"w{i}" for i in range(n)]
    params = ", ".join(xs + ws + ["b"])
    terms = [f"{x} * {w}" for x, w in zip(xs, ws)] + ["b"]
    lines = [f"def neuron{n}({params}):"]
    lines.append("    n = (" + terms[0])
    for k in range(1, len(terms), 8):
        lines.append("         + " + " + ".join(terms[k:k + 8]))
    lines[-1] += ")"
    lines.append("    return math.tanh(n)")
    lines += ["", "", f"def neuron{n}_vg({params}):"]
    lines.append("    t = math.tanh(" + " + ".join(terms) + ")")
    lines.append("    d = 1.0 - t * t")
    grads = [f"d * {w}" for w in ws] + [f"d * {x}" for x in xs] + ["d"]
    lines.append("    return t, (" + ", ".join(grads) + ")")
    return "\n".join(lines) + "\n"


# One step of the chain: (primal statement, hand-written forward statements, hand-written
# adjoint update).  ``{a}`` is the input variable, ``{o}`` the output, ``{u}`` a saved
# intermediate.  The steps come in pairs of nearly inverse maps (exp/log, sin/asin,
# tanh/atanh, sqrt/square, two rational maps, cos/acos), slightly contracting towards
# 0.5, so a chain of any length stays in (0.25, 0.75) and its derivative stays of
# order 0.1..1 (a chain of merely contracting maps underflows to subnormal numbers,
# which are slow and would distort the timings).
CHAIN_STEPS = [
    ("{o} = math.exp({a} * 0.5)",
     ["{o} = math.exp({a} * 0.5)"], "d = d * {o} * 0.5"),
    ("{o} = math.log({a}) * 1.998 + 0.001",
     ["{o} = math.log({a}) * 1.998 + 0.001"], "d = d * 1.998 / {a}"),
    ("{o} = math.sin({a}) * 0.9",
     ["{o} = math.sin({a}) * 0.9"], "d = d * math.cos({a}) * 0.9"),
    ("{o} = math.asin({a} * 1.1) + 0.005",
     ["{o} = math.asin({a} * 1.1) + 0.005"], "d = d * 1.1 / math.sqrt(1.0 - 1.21 * {a} * {a})"),
    ("{o} = math.tanh({a})",
     ["{o} = math.tanh({a})"], "d = d * (1.0 - {o} * {o})"),
    ("{o} = math.atanh({a}) * 1.001",
     ["{o} = math.atanh({a}) * 1.001"], "d = d * 1.001 / (1.0 - {a} * {a})"),
    ("{o} = math.sqrt({a} + 1.0)",
     ["{o} = math.sqrt({a} + 1.0)"], "d = d * 0.5 / {o}"),
    ("{o} = {a} * {a} - 0.9995",
     ["{o} = {a} * {a} - 0.9995"], "d = d * 2.0 * {a}"),
    ("{o} = {a} / (1.0 + {a})",
     ["{o} = {a} / (1.0 + {a})"], "d = d * (1.0 - {o}) * (1.0 - {o})"),
    ("{o} = {a} / (1.0 - {a}) * 0.998 + 0.001",
     ["{u} = 1.0 / (1.0 - {a})", "{o} = {a} * {u} * 0.998 + 0.001"],
     "d = d * 0.998 * {u} * {u}"),
    ("{o} = math.cos({a})",
     ["{o} = math.cos({a})"], "d = d * -math.sin({a})"),
    ("{o} = math.acos({a}) * 0.999 + 0.0005",
     ["{o} = math.acos({a}) * 0.999 + 0.0005"], "d = d * -0.999 / math.sqrt(1.0 - {a} * {a})"),
]


def chain_source(n=1000, name=None, with_vg=True):
    """Source of ``chain{n}(x0)``: ``n`` straight-line statements, each one elementary
    step (a ``math`` function or a rational map) of the previous value, cycling through
    :data:`CHAIN_STEPS` — and of its hand-written gradient ``chain{n}_vg``."""
    name = name or f"chain{n}"
    body, fwd, bwd = [], [], []
    for k in range(n):
        prim, hand, adj = CHAIN_STEPS[k % len(CHAIN_STEPS)]
        names = {"a": f"x{k}", "o": f"x{k + 1}", "u": f"u{k}"}
        body.append("    " + prim.format(**names))
        fwd += ["    " + h.format(**names) for h in hand]
        bwd.append("    " + adj.format(**names))
    lines = [f"def {name}(x0):", *body, f"    return x{n}"]
    if with_vg:
        lines += ["", "", f"def {name}_vg(x0):", *fwd, "    d = 1.0", *reversed(bwd),
                  f"    return x{n}, d"]
    return "\n".join(lines) + "\n"


CHAIN_X0 = 0.3

HEADER = '"""Generated by benchmarks/functions.py: do not edit."""\nimport math\n\n\n'


def write_generated(directory, modname, source):
    """Write ``source`` as module ``modname`` in ``directory`` and import it (so that
    ``inspect.getsource`` — and symgrad — can read its functions)."""
    path = os.path.join(directory, modname + ".py")
    with open(path, "w") as fh:
        fh.write(HEADER + source)
    spec = importlib.util.spec_from_file_location(modname, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --------------------------------------------------------------------------- other engines

def rebind(fn, math_shim):
    """A copy of ``fn`` whose global ``math`` (and every module-level helper it calls,
    such as ``layer``) sees ``math_shim`` instead of the math module."""
    ns = dict(fn.__globals__)
    ns["math"] = math_shim
    for key, obj in list(ns.items()):
        if isinstance(obj, types.FunctionType) and obj.__globals__ is fn.__globals__:
            ns[key] = types.FunctionType(obj.__code__, ns, obj.__name__, obj.__defaults__,
                                         obj.__closure__)
    return ns[fn.__name__] if ns.get(fn.__name__) is not None and \
        ns[fn.__name__].__code__ is fn.__code__ else \
        types.FunctionType(fn.__code__, ns, fn.__name__, fn.__defaults__, fn.__closure__)


def flatten(tree):
    """The numbers of a nested list/tuple, depth first."""
    if isinstance(tree, (list, tuple)):
        out = []
        for t in tree:
            out.extend(flatten(t))
        return out
    return [tree]


def unflatten(flat, like):
    """Inverse of :func:`flatten`: the numbers of ``flat`` in the shape of ``like``."""
    it = iter(flat)

    def build(t):
        if isinstance(t, (list, tuple)):
            return [build(v) for v in t]
        return next(it)
    return build(like)
