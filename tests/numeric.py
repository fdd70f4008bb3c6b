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


def flatten(x):
    return [v for _, v in _leaves(x)]


def assert_close(a, b, rtol=1e-5, atol=1e-6, what=""):
    fa, fb = flatten(a), flatten(b)
    assert len(fa) == len(fb), f"{what}: structure differs: {a!r} vs {b!r}"
    for u, v in zip(fa, fb):
        assert abs(u - v) <= atol + rtol * max(abs(u), abs(v)), f"{what}: {a!r} != {b!r}"
