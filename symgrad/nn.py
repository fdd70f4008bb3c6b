"""Neurons, layers and multi-layer perceptrons on :class:`~symgrad.engine.Value`, as in micrograd.

Every constructor takes ``seed`` (or an explicit ``random.Random`` as ``rng``)
so that a network, and so a training run, is reproducible.

>>> model = MLP(3, [4, 4, 1], seed=0)
>>> model
MLP(3, [4, 4, 1], activation='tanh')
>>> len(model.parameters())
41
>>> out = model([2.0, 3.0, -1.0])
>>> out.backward()
>>> -1.0 < out.data < 1.0 and any(p.grad != 0.0 for p in model.parameters())
True
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from .engine import Value
from .rules import RULES

__all__ = ["MLP", "Layer", "Module", "Neuron"]

Scalar = float | Value


def _rng(rng: random.Random | None, seed: int | None) -> random.Random:
    return rng if rng is not None else random.Random(seed)


def _activation(nonlin: bool | str | None) -> str | None:
    """``True`` -> "tanh", ``False``/``None`` -> no activation, a name -> that one-argument rule."""
    if nonlin is True:
        return "tanh"
    if nonlin is False or nonlin is None:
        return None
    rule = RULES.get(nonlin)
    if rule is None or rule.nargs != 1:
        raise ValueError(f"unknown activation {nonlin!r}: use True, False or the name of a "
                         f"one-argument rule such as 'tanh', 'relu' or 'sigmoid'")
    return nonlin


class Module:
    """Something with parameters.

    >>> m = Neuron(2, seed=1)
    >>> m.parameters()[0].grad = 5.0
    >>> m.zero_grad()
    >>> [p.grad for p in m.parameters()]
    [0.0, 0.0, 0.0]
    """

    def parameters(self) -> list[Value]:
        """Every trainable Value of the module (none for the base class).

        >>> Module().parameters()
        []
        """
        return []

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter to 0.0 (call before each ``backward()``).

        >>> Module().zero_grad()
        """
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """``activation(w . x + b)`` with weights and bias drawn uniformly from [-1, 1].

    ``nonlin`` is ``True`` (tanh), ``False`` (linear) or a one-argument rule name.

    >>> n = Neuron(2, nonlin="relu", seed=0)
    >>> n
    Neuron(2, activation='relu')
    >>> n([1.0, 2.0]).data >= 0.0
    True
    """

    def __init__(self, nin: int, nonlin: bool | str = True, *, seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        r = _rng(rng, seed)
        self.w = [Value(r.uniform(-1, 1), label=f"w{i}") for i in range(nin)]
        self.b = Value(r.uniform(-1, 1), label="b")
        self.activation = _activation(nonlin)

    def __call__(self, x: Sequence[Scalar]) -> Value:
        """The neuron's output for one input vector.

        >>> n = Neuron(2, nonlin=False, seed=0)
        >>> n.w[0].data, n.w[1].data, n.b.data = 1.0, 2.0, 0.5
        >>> n([3.0, 4.0]).data
        11.5
        """
        if len(x) != len(self.w):
            raise ValueError(f"Neuron expects {len(self.w)} inputs, got {len(x)}")
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return Value._apply(self.activation, act) if self.activation else act

    def parameters(self) -> list[Value]:
        """The weights, then the bias.

        >>> len(Neuron(3, seed=0).parameters())
        4
        """
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs.

    >>> layer = Layer(3, 2, seed=0)
    >>> layer
    Layer(3, 2, activation='tanh')
    >>> len(layer([1.0, 2.0, 3.0]))
    2
    """

    def __init__(self, nin: int, nout: int, nonlin: bool | str = True, *,
                 seed: int | None = None, rng: random.Random | None = None) -> None:
        r = _rng(rng, seed)
        self.neurons = [Neuron(nin, nonlin, rng=r) for _ in range(nout)]

    def __call__(self, x: Sequence[Scalar]) -> Value | list[Value]:
        """The outputs of every neuron (a single Value when the layer has one neuron).

        >>> Layer(2, 1, seed=0)([1.0, 1.0]).op
        'tanh'
        """
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        """The parameters of every neuron, neuron by neuron.

        >>> len(Layer(3, 2, seed=0).parameters())
        8
        """
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        n = self.neurons[0]
        return f"Layer({len(n.w)}, {len(self.neurons)}, activation={n.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: ``nin`` inputs, then layers of ``nouts[i]`` neurons.

    Every layer uses ``nonlin`` (tanh by default, as in the seeds' lecture);
    ``linear_output=True`` makes the last layer linear (micrograd's choice for regression).

    >>> MLP(2, [3, 1], nonlin="relu", linear_output=True, seed=0).layers
    [Layer(2, 3, activation='relu'), Layer(3, 1, activation=None)]
    """

    def __init__(self, nin: int, nouts: Sequence[int], nonlin: bool | str = True, *,
                 linear_output: bool = False, seed: int | None = None,
                 rng: random.Random | None = None) -> None:
        r = _rng(rng, seed)
        self.linear_output = linear_output
        sizes = [nin, *nouts]
        self.layers = [Layer(sizes[i], sizes[i + 1],
                             False if linear_output and i == len(nouts) - 1 else nonlin, rng=r)
                       for i in range(len(nouts))]

    def __call__(self, x: Sequence[Scalar]) -> Value | list[Value]:
        """Run the input through every layer.

        >>> isinstance(MLP(2, [2, 1], seed=0)([0.5, -0.5]), Value)
        True
        """
        for layer in self.layers:
            x = layer(x)
            if isinstance(x, Value):
                x = [x]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        """The parameters of every layer, first layer first.

        >>> len(MLP(3, [4, 4, 1], seed=0).parameters())
        41
        """
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        nouts = [len(layer.neurons) for layer in self.layers]
        act = self.layers[0].neurons[0].activation
        lin = ", linear_output=True" if self.linear_output else ""
        return f"MLP({len(self.layers[0].neurons[0].w)}, {nouts}, activation={act!r}{lin})"
