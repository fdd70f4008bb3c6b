"""Random programs in symgrad's Python subset and the references they are checked against.

One import for the fuzz tests; the code lives in

* ``fuzz_programs.py``: the grammar (:func:`programs`, :func:`points`, :data:`FAMILIES`),
* ``fuzz_families.py``: the families of issue 11 (closures, aliases, boolops,
  kwbuiltins, decorators, globals, dicts), ``pytrees`` (a parameter that is a tuple
  of values of different kinds) and ``maps`` (loops that symgrad prints as list
  comprehensions, and near misses) mixed into it, and ``fuzz_raises.py``: ``raises``
  (reads of names that may not be assigned, of elements that may not be there),
* ``fuzz_oracles.py``: loading a program, running it on other number types, the kink
  rule (:func:`margins`) and the references (:func:`exact_grad`, :func:`value_grad`,
  :func:`sympy_grad`).
"""
from fuzz_families import FAMILIES_ALL  # noqa: F401
from fuzz_oracles import (  # noqa: F401
    CONTAINERS, JITTER, LARGE, MARGIN, OutOfTime, exact_grad, float_precision_value, jittered, leaf_paths, load, map_leaves,
    margins, run_on, sympy_grad, time_budget, value_comparisons, value_grad, value_semantics)
from fuzz_programs import FAMILIES, Program, families_from_env, points, programs  # noqa: F401
