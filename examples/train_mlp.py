"""Train ``MLP(3, [4, 4, 1])`` on the seeds' four-point data set by gradient descent.

    python examples/train_mlp.py

prints the loss every few steps; it ends far below 0.01.
"""

from symgrad import Value
from symgrad.nn import MLP

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def loss_of(model: MLP) -> tuple[Value, list[Value]]:
    """Sum of squared errors over the data set, and the predictions."""
    ypred = [model(x) for x in XS]
    return sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred)), ypred


def main(steps: int = 200, lr: float = 0.1, seed: int = 1337, every: int = 10) -> float:
    """Train, printing the loss every ``every`` steps; return the final loss."""
    model = MLP(3, [4, 4, 1], seed=seed)
    print(f"{model} with {len(model.parameters())} parameters")
    for step in range(steps):
        loss, ypred = loss_of(model)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        if step % every == 0 or step == steps - 1:
            print(f"step {step:3d}  loss {loss.data:.6f}")
    loss, ypred = loss_of(model)
    print(f"final     loss {loss.data:.6f}")
    print("predictions", [round(y.data, 4) for y in ypred], "targets", YS)
    return loss.data


if __name__ == "__main__":
    main()
