"""The numpy-view check follows time: a name is refused only when it is read after a
write through another name of the same array changed it.  The check before was
flow-insensitive: any two names that ever shared memory made a write through one
an error while the other was read anywhere after (or anywhere in the loop), which
refused the explicit time-stepping idiom (``new = np.empty_like(u); new[1:-1] = ...;
u = new``), ``y = out[::-1]`` before ``out = np.zeros_like(y)``, and writes into a new
array made from the previous one.  It also missed a list holding the array
(``hist.append(state)`` then ``state[0] = ...``): a silently wrong gradient, now
refused.  References: central differences."""
import inspect

import numpy as np
import pytest
import view_cases as V

import symgrad

X = np.array([0.5, -1.2, 2.0])
U0 = np.array([0.0, 1.0, 2.0, 1.5, 0.5, 0.0])


def args_of(f):
    n = len(inspect.signature(f).parameters)
    if f.__name__ in ("fine_heat_empty_like", "fine_heat_copy_add", "refused_swapped_buffers"):
        return (U0.copy(), 0.1)
    if f.__name__ == "fine_filter_forward_backward":
        return (0.6, U0.copy())
    return (X.copy(),) + (1.0,) * (n - 1)


def fd(f, args, i, h=1e-6):
    a = args[i]
    if np.ndim(a) == 0:
        return (f(*args[:i], a + h, *args[i + 1:]) - f(*args[:i], a - h, *args[i + 1:])) / (2 * h)
    return np.array([(f(*args[:i], a + h * e, *args[i + 1:]) -
                      f(*args[:i], a - h * e, *args[i + 1:])) / (2 * h)
                     for e in np.eye(len(a))])


FUNCS = [f for name, f in inspect.getmembers(V, inspect.isfunction)
         if name.startswith(("fine_", "refused_"))]


@pytest.mark.parametrize("f", FUNCS, ids=lambda f: f.__name__)
def test_refused_or_right(f):
    args = args_of(f)
    if f.__name__.startswith("refused_"):
        with pytest.raises(symgrad.SymgradError, match="shares memory with"):
            symgrad.grad(f)(*args)
        return
    grads = symgrad.grad(f)(*args)
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, g in enumerate(grads):
        assert np.allclose(g, fd(f, args, i), atol=1e-5), (i, g, fd(f, args, i))
    assert symgrad.check(f, *args).ok


def test_the_branch_taken_does_not_matter():
    # z = y in one branch, a copy in the other: refused whichever runs
    for c in (1.0, -1.0):
        with pytest.raises(symgrad.SymgradError, match="shares memory with z"):
            symgrad.grad(V.refused_alias_in_one_branch, wrt=0)(X.copy(), c)
