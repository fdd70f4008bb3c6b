"""symgrad: reverse-mode automatic differentiation of Python functions by source transformation.

>>> from symgrad import grad
>>> import math
>>> def f(x, y):
...     return x * y + math.sin(x)
>>> dx, dy = grad(f)(0.0, 2.0)
>>> dx, dy
(3.0, 0.0)
"""

from .errors import (ArgumentError, NonDifferentiableError, NonScalarError, SourceError,
                     SymgradError, UnsupportedSyntaxError)
from .rules import (RULES, Rule, acos, acosh, asin, asinh, atan, atan2, atanh, cos, cosh, erf,
                    exp, expm1, fabs, hypot, log, log1p, log2, log10, maximum, minimum,
                    no_derivative, power, register_rule, relu, sigmoid, sin, sinh, sqrt,
                    stop_gradient, tan, tanh)
from .engine import Value

__all__ = [
    "SymgradError", "SourceError", "UnsupportedSyntaxError", "NonDifferentiableError",
    "NonScalarError", "ArgumentError", "RULES", "Rule", "register_rule", "no_derivative",
    "Value",
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "sin", "cos", "tan", "asin", "acos",
    "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "hypot",
    "sigmoid", "relu", "fabs", "power", "maximum", "minimum", "stop_gradient",
]
__version__ = "0.1.0"
from .api import GradFunction, grad, show, value_and_grad  # noqa: E402

from .array_ops import register_array_rule  # noqa: E402

__all__ += ["grad", "value_and_grad", "show", "GradFunction", "register_array_rule"]
from .check import CheckReport, Symbolic, SymbolicError, check, symbolic  # noqa: E402

__all__ += ["check", "symbolic", "CheckReport", "Symbolic", "SymbolicError"]
from .modes import (elementwise_grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp,  # noqa: E402
                    vjp)

__all__ += ["jvp", "vjp", "jacfwd", "jacrev", "jacobian", "hessian", "hvp", "elementwise_grad"]
