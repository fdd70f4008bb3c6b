"""Gradient descent on the seeds' first example, ``L = (a + b) * d``.

Each step rebuilds ``L`` from the leaves, backpropagates, and nudges every leaf
against its gradient, so ``L`` falls step by step::

    python examples/gradient_descent.py
"""

from symgrad import Value


def main(steps: int = 10, lr: float = 0.01) -> list[float]:
    """Run ``steps`` steps of gradient descent on L; return L at every step."""
    a, b, d = Value(5.0, "a"), Value(3.0, "b"), Value(10.0, "d")
    history = []
    for step in range(steps):
        L = (a + b) * d
        L.label = "L"
        for leaf in (a, b, d):
            leaf.grad = 0.0
        L.backward()
        print(f"step {step:2d}  L = {L.data:.6f}  dL/da = {a.grad:.4f}  dL/db = {b.grad:.4f}"
              f"  dL/dd = {d.grad:.4f}")
        history.append(L.data)
        for leaf in (a, b, d):
            leaf.data -= lr * leaf.grad
    print(f"final     L = {((a + b) * d).data:.6f}")
    return history


if __name__ == "__main__":
    main()
