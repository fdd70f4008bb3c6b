"""Independent references for gradients: central finite differences."""
import copy


def _leaves(x, path=()):
    if isinstance(x, (list, tuple)):
        for k, v in enumerate(x):
            yield from _leaves(v, path + (k,))
    else:
        yield path, x


def _set(x, path, value):
    if not path:
        return value
    x = list(x)
    x[path[0]] = _set(x[path[0]], path[1:], value)
    return x


def _get(x, path):
    for k in path:
        x = x[k]
    return x


def _shape_like(x, fill):
    if isinstance(x, (list, tuple)):
        return [_shape_like(v, fill) for v in x]
    return fill(x)


def finite_diff(f, args, wrt=None, h=1e-6):
    """Central differences of f at args, one entry per differentiated argument
    (lists get lists of the same structure)."""
    wrt = range(len(args)) if wrt is None else wrt
    out = []
    for i in wrt:
        if hasattr(args[i], "shape") and hasattr(args[i], "dtype"):     # a numpy array
            out.append(_array_diff(f, args, i, h))
            continue
        grad = _shape_like(args[i], lambda v: 0.0)
        for path, v in list(_leaves(args[i])):
            step = h * max(1.0, abs(v))
            plus = list(copy.deepcopy(args))
            minus = list(copy.deepcopy(args))
            plus[i] = _set(args[i], path, v + step)
            minus[i] = _set(args[i], path, v - step)
            d = (f(*plus) - f(*minus)) / (2 * step)
            grad = _set(grad, path, d) if path else d
        out.append(grad)
    return out


def _array_diff(f, args, i, h):
    import numpy as np
    a = args[i]
    grad = np.zeros(a.shape)
    for k in np.ndindex(a.shape):
        up, dn = a.astype(float), a.astype(float)
        up[k] += h
        dn[k] -= h
        grad[k] = (f(*args[:i], up, *args[i + 1:]) - f(*args[:i], dn, *args[i + 1:])) / (2 * h)
    return grad


def fd(f, args, i, h=1e-6):
    """Central differences of ``f`` in ``args[i]`` alone (a number, a list or an array)."""
    return finite_diff(f, tuple(args), [i], h)[0]


def flatten(x):
    return [v for _, v in _leaves(x)]


def assert_close(a, b, rtol=1e-5, atol=1e-6, what=""):
    fa, fb = flatten(a), flatten(b)
    assert len(fa) == len(fb), f"{what}: structure differs: {a!r} vs {b!r}"
    for u, v in zip(fa, fb):
        assert abs(u - v) <= atol + rtol * max(abs(u), abs(v)), f"{what}: {a!r} != {b!r}"


def check_array_modes(f, x, t, rtol=1e-6, atol=1e-7, jvp_rtol=1e-10, jvp_atol=1e-12):
    """The gradient of ``f`` (of one array) against central differences, ``jvp`` along
    ``t`` against the gradient, ``hvp`` against differences of the gradient; returns
    the gradient."""
    import numpy as np

    import symgrad
    h = 1e-6
    want = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[k] = h
        want[k] = (f(x + e) - f(x - e)) / (2 * h)
    g = symgrad.grad(f)(x.copy())
    np.testing.assert_allclose(g, want, rtol=rtol, atol=atol)
    _, jv = symgrad.jvp(f, (x.copy(),), (t,))
    assert np.isclose(jv, np.sum(g * t), rtol=jvp_rtol, atol=jvp_atol)
    h = 1e-5
    hv = symgrad.hvp(f, (x.copy(),), (t,))
    grad = symgrad.grad(f)
    np.testing.assert_allclose(hv, (grad(x + h * t) - grad(x - h * t)) / (2 * h),
                               rtol=1e-4, atol=1e-6)
    return g
