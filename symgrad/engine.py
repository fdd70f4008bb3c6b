"""A complete micrograd-style scalar autograd engine that reads every derivative from ``rules``.

A :class:`Value` holds a number, its gradient, the primitive that made it and
that primitive's inputs.  There are no ``_backward`` closures: ``backward()``
looks up ``RULES[node.op].partials`` and calls them on plain floats, so the
engine, the source transformer and the SymPy cross-checks share one table of
local derivatives, and the graph holds no reference cycles (it is freed by
reference counting alone, the moment the last reference goes).

>>> a, b, d = Value(5.0, "a"), Value(3.0, "b"), Value(10.0, "d")
>>> L = (a + b) * d
>>> L.backward()
>>> L.data, a.grad, b.grad, d.grad
(80.0, 10.0, 10.0, 8.0)
"""

from __future__ import annotations

from numbers import Real
from typing import Any

from .rules import RULES, Rule

__all__ = ["Value", "draw_dot"]

Number = Any  # a Value or a constant (int, float, numpy scalar ...)

# How to_dot / draw_dot label an operation node (anything else: the rule's name).
_OP_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "neg": "-",
               "pow": "**", "floordiv": "//", "mod": "%"}


class Value:
    """A scalar in a computation graph, with its gradient.

    ``op`` is the name of the rule that produced it ("" for a leaf), ``_inputs``
    that rule's arguments in order (Values or constants), ``_prev`` the Values
    among them.

    >>> x = Value(2.0, label="x")
    >>> y = x * x + 3 * x + 1
    >>> y.backward()
    >>> y, x.grad
    (Value(data=11.0, grad=1.0), 7.0)
    >>> y.op, y._prev[0].op
    ('add', 'add')
    """

    __slots__ = ("__weakref__", "_inputs", "_prev", "_rule", "data", "grad", "label", "op")

    def __init__(self, data: Any, label: str = "") -> None:
        self.data = data
        self.grad = 0.0
        self.label = label
        self.op = ""
        self._prev: tuple[Value, ...] = ()
        self._rule: Rule | None = None
        self._inputs: tuple[Number, ...] = ()

    # ------------------------------------------------------------------ building the graph

    @staticmethod
    def _apply(rule_name: str, *args: Number) -> Value:
        """Apply primitive ``rule_name`` of ``RULES``: forward on the inputs' data, record the inputs.

        Every operator and method is a call of this; constants pass through as they are.

        >>> v = Value._apply("atan2", Value(1.0), 1.0)
        >>> v.op, round(v.data, 6), v._inputs[1]
        ('atan2', 0.785398, 1.0)
        """
        rule = RULES[rule_name]
        out = Value(rule.forward(*[a.data if isinstance(a, Value) else a for a in args]))
        out.op, out._rule, out._inputs = rule_name, rule, args
        prev = tuple(a for a in args if isinstance(a, Value))
        out._prev = args if len(prev) == len(args) else prev  # share the tuple when we can
        return out

    def __symgrad_apply__(self, name: str, args: tuple[Any, ...]) -> Value:
        """Hook of ``rules.apply``: makes ``symgrad.exp(v)``, ``symgrad.tanh(v)`` ... build Values.

        >>> import symgrad
        >>> symgrad.tanh(Value(0.0))
        Value(data=0.0, grad=0.0)
        """
        return Value._apply(name, *args)

    def __add__(self, other: Number) -> Value:
        """``self + other``.

        >>> (Value(1.0) + 2).data
        3.0
        """
        return Value._apply("add", self, other) if _operand(other) else NotImplemented

    def __radd__(self, other: Number) -> Value:
        """``other + self`` for a constant ``other`` (so ``sum(values)`` works).

        >>> sum([Value(1.0), Value(2.0)]).data
        3.0
        """
        return Value._apply("add", other, self) if _operand(other) else NotImplemented

    def __sub__(self, other: Number) -> Value:
        """``self - other``.

        >>> (Value(1.0) - 2).data
        -1.0
        """
        return Value._apply("sub", self, other) if _operand(other) else NotImplemented

    def __rsub__(self, other: Number) -> Value:
        """``other - self``.

        >>> (1 - Value(3.0)).data
        -2.0
        """
        return Value._apply("sub", other, self) if _operand(other) else NotImplemented

    def __mul__(self, other: Number) -> Value:
        """``self * other``.

        >>> (Value(2.0) * Value(3.0)).data
        6.0
        """
        return Value._apply("mul", self, other) if _operand(other) else NotImplemented

    def __rmul__(self, other: Number) -> Value:
        """``other * self``.

        >>> (2 * Value(3.0)).data
        6.0
        """
        return Value._apply("mul", other, self) if _operand(other) else NotImplemented

    def __truediv__(self, other: Number) -> Value:
        """``self / other``.

        >>> (Value(1.0) / 4).data
        0.25
        """
        return Value._apply("truediv", self, other) if _operand(other) else NotImplemented

    def __rtruediv__(self, other: Number) -> Value:
        """``other / self``.

        >>> (1 / Value(4.0)).data
        0.25
        """
        return Value._apply("truediv", other, self) if _operand(other) else NotImplemented

    def __floordiv__(self, other: Number) -> Value:
        """``self // other`` (derivative 0 almost everywhere).

        >>> (Value(7.0) // 2).data
        3.0
        """
        return Value._apply("floordiv", self, other) if _operand(other) else NotImplemented

    def __rfloordiv__(self, other: Number) -> Value:
        """``other // self``.

        >>> (7 // Value(2.0)).data
        3.0
        """
        return Value._apply("floordiv", other, self) if _operand(other) else NotImplemented

    def __mod__(self, other: Number) -> Value:
        """``self % other`` (derivatives 1 and ``-(self // other)`` almost everywhere).

        >>> (Value(7.5) % 2).data
        1.5
        """
        return Value._apply("mod", self, other) if _operand(other) else NotImplemented

    def __rmod__(self, other: Number) -> Value:
        """``other % self``.

        >>> (7.5 % Value(2.0)).data
        1.5
        """
        return Value._apply("mod", other, self) if _operand(other) else NotImplemented

    def __pow__(self, other: Number) -> Value:
        """``self ** other``; a constant exponent gets no gradient (and d/dy is never evaluated).

        >>> x = Value(3.0)
        >>> y = x ** 2
        >>> y.backward()
        >>> y.data, x.grad
        (9.0, 6.0)
        """
        return Value._apply("pow", self, other) if _operand(other) else NotImplemented

    def __rpow__(self, other: Number) -> Value:
        """``other ** self``.

        >>> (2 ** Value(3.0)).data
        8.0
        """
        return Value._apply("pow", other, self) if _operand(other) else NotImplemented

    def __neg__(self) -> Value:
        """``-self``.

        >>> (-Value(2.0)).data
        -2.0
        """
        return Value._apply("neg", self)

    def __pos__(self) -> Value:
        """``+self`` is ``self`` (no new node).

        >>> v = Value(2.0)
        >>> +v is v
        True
        """
        return self

    def __abs__(self) -> Value:
        """``abs(self)``, with ``abs'(0) = 0``.

        >>> abs(Value(-2.0)).data
        2.0
        """
        return Value._apply("abs", self)

    def abs(self) -> Value:
        """``|self|``, with ``abs'(0) = 0``.

        >>> Value(-1.5).abs().data
        1.5
        """
        return Value._apply("abs", self)

    def exp(self) -> Value:
        """``e ** self``.

        >>> Value(0.0).exp().data
        1.0
        """
        return Value._apply("exp", self)

    def log(self) -> Value:
        """The natural logarithm.

        >>> Value(1.0).log().data
        0.0
        """
        return Value._apply("log", self)

    def tanh(self) -> Value:
        """The hyperbolic tangent (the seeds' neuron activation).

        >>> Value(0.0).tanh().data
        0.0
        """
        return Value._apply("tanh", self)

    def sigmoid(self) -> Value:
        """The logistic function ``1 / (1 + exp(-self))``.

        >>> Value(0.0).sigmoid().data
        0.5
        """
        return Value._apply("sigmoid", self)

    def relu(self) -> Value:
        """``max(self, 0)``, with ``relu'(0) = 0``.

        >>> Value(-3.0).relu().data, Value(3.0).relu().data
        (0.0, 3.0)
        """
        return Value._apply("relu", self)

    def sqrt(self) -> Value:
        """The square root.

        >>> Value(9.0).sqrt().data
        3.0
        """
        return Value._apply("sqrt", self)

    def sin(self) -> Value:
        """The sine.

        >>> Value(0.0).sin().data
        0.0
        """
        return Value._apply("sin", self)

    def cos(self) -> Value:
        """The cosine.

        >>> Value(0.0).cos().data
        1.0
        """
        return Value._apply("cos", self)

    # ------------------------------------------------------------------ comparisons
    # On ``.data``, so ``if x > 0`` in a function run on Values follows the path the
    # floats take.  ``==`` stays identity-based (Values are dict keys in ``_topo``).

    def __lt__(self, other: Number) -> bool:
        """``self.data < other`` (``other`` a Value or a number).

        >>> Value(1.0) < Value(2.0), Value(1.0) < 0.5
        (True, False)
        """
        return self.data < _data(other) if _operand(other) else NotImplemented

    def __le__(self, other: Number) -> bool:
        """``self.data <= other``.

        >>> Value(1.0) <= 1
        True
        """
        return self.data <= _data(other) if _operand(other) else NotImplemented

    def __gt__(self, other: Number) -> bool:
        """``self.data > other``; ``0 < v`` works too (Python reflects it to ``v > 0``).

        >>> Value(1.0) > 0, 0 < Value(-1.0)
        (True, False)
        """
        return self.data > _data(other) if _operand(other) else NotImplemented

    def __ge__(self, other: Number) -> bool:
        """``self.data >= other``.

        >>> Value(1.0) >= Value(1.0)
        True
        """
        return self.data >= _data(other) if _operand(other) else NotImplemented

    # ------------------------------------------------------------------ backpropagation

    def _topo(self) -> list[Value]:
        """Every Value ``self`` depends on, inputs before outputs (an iterative DFS).

        >>> a = Value(1.0, "a")
        >>> [v.label or v.op for v in (a * 2 + a)._topo()]
        ['a', 'mul', 'add']
        """
        topo: list[Value] = []
        state: dict[Value, bool] = {}  # False: inputs being visited, True: done
        stack = [self]
        while stack:
            node = stack.pop()
            done = state.get(node)
            if done is None:  # first visit: come back to it after all its inputs
                state[node] = False
                stack.append(node)
                for p in reversed(node._prev):
                    if p not in state:
                        stack.append(p)
            elif not done:
                state[node] = True
                topo.append(node)
        return topo

    def backward(self) -> None:
        """Backpropagate from ``self``: add d self / d leaf to every leaf's ``.grad``.

        Leaf gradients *accumulate* across calls, as in micrograd and PyTorch
        (call :meth:`zero_grad` between optimisation steps).  The gradients of
        interior nodes are recomputed by each call, so a second call adds
        exactly the same amount again to each leaf.

        >>> x = Value(3.0)
        >>> y = (x * 2) * x
        >>> y.backward(); x.grad
        12.0
        >>> y.backward(); x.grad
        24.0
        """
        topo = self._topo()
        for node in topo:
            if node._rule is not None:
                node.grad = 0.0
        self.grad += 1.0
        for node in reversed(topo):
            if not node._prev:  # a leaf, or an operation on constants only
                continue
            inputs, partials, g, out = node._inputs, node._rule.partials, node.grad, node.data
            if len(inputs) == 1:
                a = inputs[0]
                a.grad += g * partials[0](a.data, out)
                continue
            datas = [a.data if isinstance(a, Value) else a for a in inputs]
            for i, a in enumerate(inputs):
                if isinstance(a, Value):  # never evaluate a partial for a constant
                    a.grad += g * partials[i](*datas, out)

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0.0 on ``self`` and every Value it depends on.

        >>> x = Value(3.0)
        >>> y = x * x
        >>> y.backward(); y.zero_grad(); x.grad, y.grad
        (0.0, 0.0)
        """
        seen: set[Value] = {self}
        stack = [self]
        while stack:
            node = stack.pop()
            node.grad = 0.0
            for p in node._prev:
                if p not in seen:
                    seen.add(p)
                    stack.append(p)

    # ------------------------------------------------------------------ display

    def __repr__(self) -> str:
        """``Value(data=..., grad=...)`` as in micrograd.

        >>> Value(2.0)
        Value(data=2.0, grad=0.0)
        """
        return f"Value(data={self.data!r}, grad={self.grad!r})"

    def to_dot(self, rankdir: str = "LR") -> str:
        """The graph behind ``self`` as Graphviz DOT text (needs nothing installed).

        A record ``{ label | data | grad }`` per Value, an ellipse per operation,
        a plain box per constant; edges run input -> operation -> output.

        >>> a = Value(2.0, "a")
        >>> print((a * 3).to_dot())  # doctest: +NORMALIZE_WHITESPACE
        digraph {
          rankdir=LR;
          v0 [label="{ a | data 2.0000 | grad 0.0000 }", shape=record];
          v1 [label="{  | data 6.0000 | grad 0.0000 }", shape=record];
          v1_op [label="*", shape=ellipse];
          v1_c1 [label="3", shape=plaintext];
          v0 -> v1_op;
          v1_c1 -> v1_op;
          v1_op -> v1;
        }
        """
        nodes, edges = _graph(self)
        lines = ["digraph {", f"  rankdir={rankdir};"]
        lines += [f'  {name} [label="{_dot_escape(label)}", shape={shape}];'
                  for name, label, shape in nodes]
        lines += [f"  {a} -> {b};" for a, b in edges]
        return "\n".join(lines + ["}"])

    def draw_dot(self, format: str = "svg", rankdir: str = "LR") -> Any:
        """The graph behind ``self`` as a ``graphviz.Digraph``; see :func:`draw_dot`.

        >>> try:
        ...     g = Value(1.0).tanh().draw_dot()
        ... except ImportError:
        ...     g = None
        >>> g is None or "tanh" in g.source
        True
        """
        return draw_dot(self, format=format, rankdir=rankdir)


def add_ufunc_methods(cls: type) -> None:
    """Each rule numpy has a function for, as a method of ``cls`` (an engine's number),
    which numpy calls on every element of an array of them (``np.log1p(xs)`` calls
    ``x.log1p()``, ``np.arctan2(ys, xs)`` ``y.arctan2(x)``): the rule, applied as
    ``symgrad.apply`` applies it."""
    from .rules import apply
    for name, rule in RULES.items():
        if rule.nargs <= 2 and rule.numpy_name and not hasattr(cls, rule.numpy_name):
            setattr(cls, rule.numpy_name, lambda self, *other, _rule=name: apply(
                _rule, self, *other))


add_ufunc_methods(Value)


def _operand(x: Any) -> bool:
    """Can ``x`` be an operand of a Value operator?  (Values and real constants.)"""
    return isinstance(x, (Value, Real))


def _data(x: Any) -> Any:
    """The number behind ``x`` (``x.data`` for a Value)."""
    return x.data if isinstance(x, Value) else x


def _fmt(x: Any) -> str:
    try:
        return f"{x:.4f}"
    except (TypeError, ValueError):
        return str(x)


def _dot_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def _record_escape(s: str) -> str:
    for ch in "\\{}|<>":
        s = s.replace(ch, "\\" + ch)
    return s


def _graph(root: Value) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """Nodes ``(name, label, shape)`` and edges ``(from, to)`` of the graph behind ``root``."""
    nodes: list[tuple[str, str, str]] = []
    edges: list[tuple[str, str]] = []
    names: dict[Value, str] = {}
    for v in root._topo():
        name = names[v] = f"v{len(names)}"
        record = f"{{ {_record_escape(v.label)} | data {_fmt(v.data)} | grad {_fmt(v.grad)} }}"
        nodes.append((name, record, "record"))
        if not v.op:
            continue
        nodes.append((name + "_op", _OP_SYMBOLS.get(v.op, v.op), "ellipse"))
        for i, a in enumerate(v._inputs):
            if isinstance(a, Value):
                edges.append((names[a], name + "_op"))
            else:  # a constant operand: a plain node of its own
                nodes.append((f"{name}_c{i}", _record_escape(str(a)), "plaintext"))
                edges.append((f"{name}_c{i}", name + "_op"))
        edges.append((name + "_op", name))
    return nodes, edges


def draw_dot(root: Value, format: str = "svg", rankdir: str = "LR") -> Any:
    """The graph behind ``root`` as a ``graphviz.Digraph`` (``pip install graphviz``).

    Same drawing as :meth:`Value.to_dot`; render it with ``.render()`` or show it in Jupyter.

    >>> try:
    ...     g = draw_dot(Value(1.0, "x") * 2)
    ... except ImportError:
    ...     g = None
    >>> g is None or "data 1.0000" in g.source
    True
    """
    try:
        import graphviz
    except ImportError:
        raise ImportError("draw_dot needs the graphviz Python package: pip install graphviz; "
                          "or use Value.to_dot() which needs nothing") from None
    nodes, edges = _graph(root)
    dot = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir})
    for name, label, shape in nodes:
        dot.node(name, label=label, shape=shape)
    for a, b in edges:
        dot.edge(a, b)
    return dot
