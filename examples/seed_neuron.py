"""The seeds' neuron, end to end: generated gradient, cross-check, symbolic derivative.

    python examples/seed_neuron.py

A two-input neuron ``o = tanh(x1*w1 + x2*w2 + b)`` at the seeds' point
(x1=2, x2=0, w1=-3, w2=1, b=6.8813735870195432, chosen so that n = 0.8814 and o = 0.7071).
symgrad writes its gradient as Python source, computes it, checks it against SymPy, the
``Value`` engine and finite differences, and proves it equal to ``sympy.diff``.
"""
import math

import symgrad


def neuron(x1, x2, w1, w2, b):
    n = x1 * w1 + x2 * w2 + b
    return math.tanh(n)


POINT = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}


def main() -> int:
    d_neuron = symgrad.grad(neuron)
    print("1. The gradient symgrad generates from the source of neuron():\n")
    print(d_neuron.source)

    print("2. At the seeds' point:", ", ".join(f"{k}={v}" for k, v in POINT.items()), "\n")
    print(f"   o = neuron(...) = {neuron(**POINT):.4f}")
    for name, g in zip(d_neuron.wrt, d_neuron(*POINT.values())):
        print(f"   do/d{name:<3}= {g: .4f}")
    print("   (by hand: do/dn = 1 - o**2 = 0.5, so do/dx1 = 0.5 * w1 = -1.5, do/dw1 = 0.5 * x1"
          " = 1.0, ...)\n")

    print("3. The same gradient from four engines (symgrad.check):\n")
    report = symgrad.check(neuron, *POINT.values())
    print(report, "\n")

    print("4. Symbolically (symgrad.symbolic): sympy.diff, and the generated code run on "
          "SymPy symbols:\n")
    print(symgrad.symbolic(neuron))
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
