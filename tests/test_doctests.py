"""Every docstring example in the package runs."""
import doctest
import importlib

import pytest

MODULES = ["symgrad", "symgrad.api", "symgrad.rules", "symgrad.helpers", "symgrad.source",
           "symgrad.errors", "symgrad.ir", "symgrad.scope", "symgrad.desugar", "symgrad.lower",
           "symgrad.analyze", "symgrad.build", "symgrad.reverse", "symgrad.tape",
           "symgrad.optimize", "symgrad.emit", "symgrad.pipeline", "symgrad.shadows",
           "symgrad.entry", "symgrad.check", "symgrad.traced", "symgrad.retarget",
           "symgrad.arguments", "symgrad.engines", "symgrad.prove", "symgrad.report",
           "symgrad.budget", "symgrad.cli", "symgrad.modes", "symgrad.forward",
           "symgrad.notebook", "symgrad.check_arrays", "symgrad.array_ops",
           "symgrad.array_alias", "symgrad.shapes", "symgrad.floats", "symgrad.structures",
           "symgrad.rules_scipy"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0
