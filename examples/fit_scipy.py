"""symgrad gradients as SciPy's ``jac``: ``scipy.optimize.minimize`` with ndarray ``x0``.

Two fits:

1. The Rosenbrock function of an ndarray, minimized by BFGS with ``jac=grad(rosen)``
   and, in one call per step, with ``value_and_grad(rosen)`` and ``jac=True``; then by
   Newton-CG with ``hess=hessian(rosen)``.
2. A least-squares curve fit ``y = a exp(-k t) + c``: the data arrays reach the loss
   through ``args=``, and ``wrt="p"`` makes the gradient that of the parameters only
   (by default symgrad differentiates every parameter, data included).

Run: ``python examples/fit_scipy.py`` (needs ``pip install -e ".[scipy]"``).
"""
import numpy as np
from scipy.optimize import check_grad, minimize

import symgrad


def rosen(x):
    """The Rosenbrock function of an ndarray ``x``; its minimum is 0 at all ones."""
    s = 0.0
    for i in range(len(x) - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def sse(p, t, y):
    """Sum of squared residuals of the model ``a exp(-k t) + c`` for ``p = (a, k, c)``."""
    a = p[0]
    k = p[1]
    c = p[2]
    r = a * np.exp(-k * t) + c - y
    return np.sum(r * r)


#: the curve the data are drawn from, and the data (seeded noise)
TRUE_P = np.array([2.5, 1.3, 0.5])
T = np.linspace(0.0, 4.0, 40)
NOISE = 0.01 * np.random.default_rng(0).standard_normal(40)
Y = TRUE_P[0] * np.exp(-TRUE_P[1] * T) + TRUE_P[2] + NOISE

X0_ROSEN = np.array([-1.2, 1.0, -0.5, 0.8, 1.9])
P0 = np.array([1.0, 1.0, 0.0])


def fit_rosen(jac: str = "grad"):
    """BFGS on Rosenbrock: ``jac`` is "grad" (jac=grad(rosen)), "value_and_grad"
    (fun=value_and_grad(rosen), jac=True) or "none" (SciPy's finite differences)."""
    if jac == "grad":
        return minimize(rosen, X0_ROSEN, jac=symgrad.grad(rosen), method="BFGS")
    if jac == "value_and_grad":
        return minimize(symgrad.value_and_grad(rosen), X0_ROSEN, jac=True, method="BFGS")
    return minimize(rosen, X0_ROSEN, method="BFGS")


def fit_curve(jac: str = "grad"):
    """BFGS on the least-squares curve fit; ``jac`` as for :func:`fit_rosen`."""
    if jac == "grad":
        return minimize(sse, P0, args=(T, Y), jac=symgrad.grad(sse, wrt="p"), method="BFGS")
    if jac == "value_and_grad":
        return minimize(symgrad.value_and_grad(sse, wrt="p"), P0, args=(T, Y), jac=True,
                        method="BFGS")
    return minimize(sse, P0, args=(T, Y), method="BFGS")


def main() -> None:
    np.set_printoptions(precision=6, suppress=True)
    d_rosen = symgrad.grad(rosen)
    print("gradient at x0:", np.asarray(d_rosen(X0_ROSEN)))
    print("check_grad (|symgrad - finite differences|):",
          f"{check_grad(rosen, d_rosen, X0_ROSEN):.2e}")
    for jac in ("grad", "value_and_grad", "none"):
        r = fit_rosen(jac)
        print(f"rosen  jac={jac:<15} x={r.x}  f={r.fun:.2e}  nfev={r.nfev:<4} njev={r.njev}")
    for jac in ("grad", "value_and_grad", "none"):
        r = fit_curve(jac)
        print(f"curve  jac={jac:<15} p={r.x}  sse={r.fun:.6f}  nfev={r.nfev:<4} njev={r.njev}")
    print("true p:", TRUE_P)
    # second order: the Hessian (forward over the generated gradient) as SciPy's hess
    r = minimize(rosen, X0_ROSEN, jac=d_rosen, hess=symgrad.hessian(rosen), method="Newton-CG")
    print(f"rosen  Newton-CG, hess=hessian(rosen): x={r.x}  nfev={r.nfev} nhev={r.nhev}")


if __name__ == "__main__":
    main()
