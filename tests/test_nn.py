"""Neuron / Layer / MLP against hand-built Value graphs and PyTorch, training, and the examples."""

from __future__ import annotations

import itertools
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from symgrad import Value
from symgrad.nn import MLP, Layer, Module, Neuron

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def squared_error(model):
    return sum((model(x) - y) ** 2 for x, y in zip(XS, YS))


def test_parameter_counts():
    for nin, nouts in ((3, [4, 4, 1]), (2, [16, 16, 1]), (5, [1]), (1, [3, 2])):
        sizes = [nin, *nouts]
        want = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))
        model = MLP(nin, nouts, seed=0)
        params = model.parameters()
        assert len(params) == want and len(set(params)) == want
    assert len(Layer(3, 5, seed=0).parameters()) == 20
    assert len(Neuron(7, seed=0).parameters()) == 8
    assert Module().parameters() == []


def test_seed_makes_networks_reproducible():
    data = lambda m: [p.data for p in m.parameters()]
    assert data(MLP(3, [4, 4, 1], seed=7)) == data(MLP(3, [4, 4, 1], seed=7))
    assert data(MLP(3, [4, 4, 1], seed=7)) != data(MLP(3, [4, 4, 1], seed=8))
    assert data(MLP(3, [4, 1], rng=random.Random(3))) == data(MLP(3, [4, 1], seed=3))
    assert all(-1.0 <= d <= 1.0 for d in data(MLP(3, [4, 4, 1], seed=1)))


def test_zero_grad():
    model = MLP(3, [4, 4, 1], seed=0)
    squared_error(model).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def hand_built(model, x):
    """The same network written out with fresh Values, one neuron at a time."""
    params = [Value(p.data) for p in model.parameters()]
    it = iter(params)
    act = [Value(v) if not isinstance(v, Value) else v for v in x]
    for layer in model.layers:
        nxt = []
        for neuron in layer.neurons:
            ws = [next(it) for _ in neuron.w]
            b = next(it)
            n = b
            for w, xi in zip(ws, act):
                n = n + w * xi
            nxt.append(n if neuron.activation is None else getattr(n, neuron.activation)())
        act = nxt
    return act, params


@pytest.mark.parametrize(("nonlin", "linear_output"), [(True, False), ("relu", True),
                                                       ("sigmoid", False)])
def test_mlp_equals_a_hand_built_graph(nonlin, linear_output):
    model = MLP(3, [4, 4, 2], nonlin=nonlin, linear_output=linear_output, seed=11)
    x = [0.5, -1.5, 2.0]
    outs = model(x)
    (outs[0] * outs[1] + outs[0]).backward()
    ref, params = hand_built(model, x)
    (ref[0] * ref[1] + ref[0]).backward()
    assert [o.data for o in outs] == [r.data for r in ref]
    assert [p.grad for p in model.parameters()] == [p.grad for p in params]


def test_mlp_gradients_match_torch():
    torch = pytest.importorskip("torch")
    model = MLP(3, [4, 4, 1], seed=5)
    loss = squared_error(model)
    loss.backward()
    params = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True)
              for p in model.parameters()]
    it = iter(params)
    total = torch.zeros((), dtype=torch.float64)
    weights = [[([next(it) for _ in n.w], next(it)) for n in layer.neurons]
               for layer in model.layers]
    for x, y in zip(XS, YS):
        act = [torch.tensor(v, dtype=torch.float64) for v in x]
        for layer in weights:
            act = [torch.tanh(b + sum(w * a for w, a in zip(ws, act))) for ws, b in layer]
        total = total + (act[0] - y) ** 2
    total.backward()
    assert math.isclose(loss.data, total.item(), rel_tol=1e-12)
    for p, t in zip(model.parameters(), params):
        assert math.isclose(p.grad, t.grad.item(), rel_tol=1e-9, abs_tol=1e-12)


def test_training_lowers_the_loss():
    model = MLP(3, [4, 4, 1], seed=2)
    losses = []
    for _ in range(30):
        loss = squared_error(model)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
        losses.append(loss.data)
    assert losses[-1] < losses[0] / 4
    assert sum(b > a for a, b in itertools.pairwise(losses)) <= 3  # essentially monotone


def test_call_checks_input_size_and_accepts_values():
    n = Neuron(3, seed=0)
    with pytest.raises(ValueError, match="expects 3 inputs"):
        n([1.0, 2.0])
    x = [Value(1.0), 2.0, Value(-1.0)]
    out = n(x)
    out.backward()
    assert math.isclose(x[0].grad, (1 - out.data**2) * n.w[0].data, rel_tol=1e-14)


def test_activation_names():
    assert Neuron(2, nonlin=False, seed=0)([1.0, 1.0]).op == "add"
    assert Neuron(2, nonlin="sigmoid", seed=0)([1.0, 1.0]).op == "sigmoid"
    with pytest.raises(ValueError, match="unknown activation"):
        Neuron(2, nonlin="max")
    with pytest.raises(ValueError, match="unknown activation"):
        Neuron(2, nonlin="softmaxx")


def test_reprs():
    assert repr(MLP(3, [4, 4, 1], seed=0)) == "MLP(3, [4, 4, 1], activation='tanh')"
    assert repr(MLP(2, [1], linear_output=True, seed=0)).endswith("linear_output=True)")
    assert repr(Layer(3, 2, nonlin="relu", seed=0)) == "Layer(3, 2, activation='relu')"
    assert repr(Neuron(4, nonlin=False, seed=0)) == "Neuron(4, activation=None)"


def run_example(name):
    proc = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                          timeout=60, check=True)
    return proc.stdout


def test_gradient_descent_example():
    out = run_example("gradient_descent.py")
    values = [float(v) for v in re.findall(r"L = (-?[0-9.]+)", out)]
    assert len(values) >= 10
    assert values[0] == (5.0 + 3.0) * 10.0
    assert all(b < a for a, b in itertools.pairwise(values))
    first = re.search(r"dL/da = ([0-9.]+)  dL/db = ([0-9.]+)  dL/dd = ([0-9.]+)", out)
    assert tuple(map(float, first.groups())) == (10.0, 10.0, 8.0)


def test_train_mlp_example():
    out = run_example("train_mlp.py")
    losses = [float(v) for v in re.findall(r"loss ([0-9.]+(?:e-?[0-9]+)?)", out)]
    assert len(losses) >= 5
    assert losses[-1] < 0.01 < losses[0]
    assert losses[-1] < losses[0] / 100
