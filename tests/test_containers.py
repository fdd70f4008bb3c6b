"""Containers of parameters (issue 14): dicts, lists, tuples, NamedTuples, dataclasses and
plain objects, nested, as arguments; attribute reads; bound methods; tuple-returning
helpers.  Every gradient is compared with central finite differences taken leaf by leaf
through the real Python function, and its type and structure with the argument's."""
from __future__ import annotations

import copy
import dataclasses
import math
from typing import NamedTuple

import pytest

import symgrad
from symgrad import SymgradError

np = pytest.importorskip("numpy")

H = 1e-6


# ----------------------------------------------------------------------------- helpers
def _leaves(x, path=()):
    """(path, value) for every number or array inside x; a path step is ('i', k),
    ('k', key) or ('a', name)."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _leaves(v, path + (("k", k),))
    elif isinstance(x, tuple) and hasattr(x, "_fields"):
        for k in x._fields:
            yield from _leaves(getattr(x, k), path + (("a", k),))
    elif isinstance(x, (list, tuple)):
        for k, v in enumerate(x):
            yield from _leaves(v, path + (("i", k),))
    elif dataclasses.is_dataclass(x) or (hasattr(x, "__dict__") and not isinstance(
            x, (int, float, np.ndarray))):
        for k, v in vars(x).items():
            yield from _leaves(v, path + (("a", k),))
    elif isinstance(x, (int, float, np.ndarray)) and not isinstance(x, bool):
        yield path, x


def _get(x, path):
    for how, k in path:
        x = getattr(x, k) if how == "a" else x[k]
    return x


def _set(x, path, value):
    """A deep copy of x with the leaf at path replaced (NamedTuples rebuilt)."""
    if not path:
        return value
    (how, k), rest = path[0], path[1:]
    if how == "a" and isinstance(x, tuple):
        return x._replace(**{k: _set(getattr(x, k), rest, value)})
    if how == "a":
        new = copy.copy(x)
        object.__setattr__(new, k, _set(getattr(x, k), rest, value))
        return new
    if isinstance(x, tuple):
        items = list(x)
        items[k] = _set(x[k], rest, value)
        return type(x)(items)
    new = copy.copy(x)
    new[k] = _set(x[k], rest, value)
    return new


def fd_check(f, args, i, grad_value, rtol=1e-5, atol=1e-7):
    """The gradient with respect to argument i, leaf by leaf, against central
    differences of f."""
    arg = args[i]
    for path, leaf in _leaves(arg):
        got = _get(grad_value, path)
        if isinstance(leaf, np.ndarray):
            want = np.zeros(leaf.shape)
            for idx in np.ndindex(leaf.shape):
                up, dn = leaf.copy(), leaf.copy()
                up[idx] += H
                dn[idx] -= H
                a_up = list(args); a_up[i] = _set(arg, path, up)
                a_dn = list(args); a_dn[i] = _set(arg, path, dn)
                want[idx] = (f(*a_up) - f(*a_dn)) / (2 * H)
            assert isinstance(got, np.ndarray) and got.shape == leaf.shape, (path, got)
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=str(path))
        else:
            a_up = list(args); a_up[i] = _set(arg, path, leaf + H)
            a_dn = list(args); a_dn[i] = _set(arg, path, leaf - H)
            want = (f(*a_up) - f(*a_dn)) / (2 * H)
            assert got == pytest.approx(want, rel=rtol, abs=atol), (path, got, want)


def same_shape(a, b):
    """Same container types and keys all the way down (numbers/arrays compared by kind)."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape
    if isinstance(a, (int, float)):
        return isinstance(b, float)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_shape(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and not hasattr(a, "_fields"):
        return len(a) == len(b) and all(same_shape(x, y) for x, y in zip(a, b))
    if isinstance(a, tuple):
        return all(same_shape(getattr(a, k), getattr(b, k)) for k in a._fields)
    return all(same_shape(v, getattr(b, k)) if isinstance(v, (int, float, list, dict,
               tuple, np.ndarray)) or hasattr(v, "__dict__") else getattr(b, k) == v
               for k, v in vars(a).items())


# ----------------------------------------------------------------------------- types
class Lin(NamedTuple):
    w: float
    b: float


class Layer(NamedTuple):
    W: object
    b: object


@dataclasses.dataclass
class Inner:
    a: float
    xs: list


@dataclasses.dataclass
class Outer:
    inner: Inner
    c: float
    name: str = "model"


@dataclasses.dataclass(frozen=True)
class Frozen:
    k: float
    m: float


class Plain:
    def __init__(self, w, b):
        self.w = w
        self.b = b


# ----------------------------------------------------------------------------- programs
def dict_affine(p, x):
    return math.tanh(p["w"] * x + p["b"]) * p["scale"]


def nested_dict(p, x):
    return p["layer"]["w"] * x ** 2 + sum(p["coef"]) * p["layer"]["b"]


def namedtuple_neuron(p, x):
    return math.tanh(p.w * x + p.b)


def stacked_layers(ps, x):
    for p in ps:
        x = math.tanh(p.w * x + p.b)
    return x


def dataclass_nested(o, x):
    total = 0.0
    for v in o.inner.xs:
        total += v * o.inner.a
    return total * o.c + math.sin(x * o.c)


def frozen_dc(p, x):
    return p.k * math.exp(p.m * x)


def plain_object(obj, x):
    return obj.w * x * x + obj.b / (1.0 + x * x)


def tuple_param(t, x):
    a, b = t
    return a * math.cos(b * x)


def list_of_dicts(rows, x):
    return sum(r["w"] * x ** k for k, r in enumerate(rows))


def field_reassigned(p, x):
    w = p.w
    w = w * 2.0
    if x > 0:
        return w * x + p.b
    return w - p.b * x


CASES = [
    (dict_affine, ({"w": 0.7, "b": -0.2, "scale": 1.5}, 0.9)),
    (nested_dict, ({"layer": {"w": 1.3, "b": 0.4}, "coef": [0.5, -1.0, 2.0]}, 0.8)),
    (namedtuple_neuron, (Lin(0.6, 0.1), 1.2)),
    (stacked_layers, ([Lin(0.5, 0.1), Lin(-1.1, 0.3), Lin(0.8, -0.2)], 0.7)),
    (dataclass_nested, (Outer(Inner(1.5, [1.0, 2.0, -0.5]), 0.3), 0.4)),
    (frozen_dc, (Frozen(2.0, -0.3), 1.1)),
    (plain_object, (Plain(1.5, -0.5), 0.6)),
    (tuple_param, ((1.2, 0.7), 0.5)),
    (list_of_dicts, ([{"w": 1.0}, {"w": -2.0}, {"w": 0.5}], 1.3)),
    (field_reassigned, (Lin(0.6, 0.1), 1.2)),
    (field_reassigned, (Lin(0.6, 0.1), -1.2)),
]


@pytest.mark.parametrize("f,args", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_container_gradient_matches_finite_differences(f, args):
    before = copy.deepcopy(args)
    grads = symgrad.grad(f)(*args)
    for i in range(len(args)):
        fd_check(f, args, i, grads[i])
        assert same_shape(args[i], grads[i]), (args[i], grads[i])
    # the arguments are left as they were
    assert [(p, float(v)) for p, v in _leaves(args)] == \
        [(p, float(v)) for p, v in _leaves(before)]


@pytest.mark.parametrize("f,args", CASES[:6], ids=lambda v: getattr(v, "__name__", ""))
def test_value_and_grad_with_containers(f, args):
    value, grads = symgrad.value_and_grad(f, wrt=0)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    fd_check(f, args, 0, grads)
    assert same_shape(args[0], grads)


def test_gradient_keeps_types_and_non_numeric_fields():
    o = Outer(Inner(1.5, [1.0, 2.0]), 0.3, name="mine")
    g = symgrad.grad(dataclass_nested, wrt="o")(o, 0.4)
    assert type(g) is Outer and type(g.inner) is Inner and g.name == "mine"
    assert type(symgrad.grad(tuple_param, wrt="t")((1.0, 2.0), 0.5)) is tuple
    ps = [Lin(0.5, 0.1), Lin(-1.1, 0.3)]
    gs = symgrad.grad(stacked_layers, wrt="ps")(ps, 0.7)
    assert type(gs) is list and all(type(p) is Lin for p in gs)


def test_generated_source_reads_fields_as_attributes():
    g = symgrad.grad(namedtuple_neuron)
    g(Lin(0.6, 0.1), 1.2)
    assert "d_p.w +=" in g.source and "d_p.b +=" in g.source
    assert "['w']" not in g.source


# ----------------------------------------------------------------------------- arrays
def mlp_dict(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    return np.mean((h @ params["w2"] + params["b2"] - y) ** 2)


def mlp_layers(layers, X):
    for layer in layers:
        X = np.tanh(X @ layer.W + layer.b)
    return np.sum(X ** 2)


def test_dict_of_arrays_mlp():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
              "w2": rng.normal(size=4), "b2": 0.3}
    g = symgrad.grad(mlp_dict, wrt="params")(params, X, y)
    assert set(g) == set(params)
    fd_check(mlp_dict, (params, X, y), 0, g)


def test_list_of_namedtuple_layers_of_arrays():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5, 3))
    layers = [Layer(rng.normal(size=(3, 3)), rng.normal(size=3)),
              Layer(rng.normal(size=(3, 2)), rng.normal(size=2))]
    g = symgrad.grad(mlp_layers, wrt="layers")(layers, X)
    assert [type(x) for x in g] == [Layer, Layer]
    fd_check(mlp_layers, (layers, X), 0, g)


# ----------------------------------------------------------------------------- methods
class Model:
    def __init__(self, w, scale):
        self.w = w
        self.scale = scale

    def features(self, x):
        return math.tanh(self.w * x)

    def predict(self, x):
        return self.scale * self.features(x) + x


def test_bound_method_inlines_other_methods():
    m = Model(2.0, 3.0)
    g = symgrad.grad(m.predict)
    want = 3.0 * 2.0 * (1 - math.tanh(2.0 * 0.5) ** 2) + 1.0
    assert g(0.5) == pytest.approx(want, rel=1e-12)


def test_attributes_of_self_are_read_when_the_gradient_runs():
    m = Model(2.0, 3.0)
    g = symgrad.grad(m.predict)
    g(0.5)
    m.w, m.scale = -1.0, 0.5
    want = 0.5 * -1.0 * (1 - math.tanh(-0.5) ** 2) + 1.0
    assert g(0.5) == pytest.approx(want, rel=1e-12)


class Callable_:
    """An object called as a function, from its own methods too (``self(x)``)."""

    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return math.tanh(self.w * x)

    def loss(self, x, y):
        return (self(x) - y) ** 2 + self.__call__(y) * x


CALLABLE = Callable_(1.5)


def calls_an_object(x, y):
    return CALLABLE.loss(x, y) + CALLABLE(x) * y


def test_an_object_called_from_its_own_method():
    """``self(x)`` in a method inlines ``__call__`` as ``CALLABLE(x)`` does (it had been
    refused: "no derivative rule for self"); ``self.w`` is read when the gradient runs."""
    args = (0.7, 1.3)
    for mode in (symgrad.grad, symgrad.value_and_grad):
        g = mode(calls_an_object, wrt=[0, 1])(*args)
        g = g[1] if mode is symgrad.value_and_grad else g
        for i in range(2):
            fd_check(calls_an_object, args, i, g[i])
    CALLABLE.w = -0.5
    try:
        g = symgrad.grad(calls_an_object, wrt=[0, 1])(*args)
        for i in range(2):
            fd_check(calls_an_object, args, i, g[i])
    finally:
        CALLABLE.w = 1.5
    H = symgrad.hessian(calls_an_object)(*args)
    assert H[0][1] == pytest.approx(H[1][0], rel=1e-9)


def test_helper_returning_a_tuple_rk4():
    def rhs(theta, omega, g=9.81):
        return omega, -g * math.sin(theta)

    def rk4(theta, omega):
        dt = 0.05
        for _ in range(20):
            k1 = rhs(theta, omega)
            k2 = rhs(theta + dt / 2 * k1[0], omega + dt / 2 * k1[1])
            a, b = rhs(theta + dt / 2 * k2[0], omega + dt / 2 * k2[1])
            k4a, k4b = rhs(theta + dt * a, omega + dt * b)
            theta = theta + dt / 6 * (k1[0] + 2 * k2[0] + 2 * a + k4a)
            omega = omega + dt / 6 * (k1[1] + 2 * k2[1] + 2 * b + k4b)
        return theta

    args = (0.4, 0.1)
    grads = symgrad.grad(rk4)(*args)
    for i in range(2):
        fd_check(rk4, args, i, grads[i])


# ----------------------------------------------------------------------------- errors
def _call_method_of_param(model, x):
    return model.features(x)


def _mixed_access(p, x):
    return p.w * x + p["b"]


def test_method_of_a_differentiated_parameter_is_inlined_for_its_class():
    # (the gradient is made for Model at the call: tests/test_record_classes.py)
    g = symgrad.grad(_call_method_of_param, wrt="model")(Model(1.0, 1.0), 0.5)
    assert type(g) is Model and g.scale == 0.0
    assert g.w == pytest.approx(0.5 * (1 - math.tanh(0.5) ** 2), rel=1e-14)
    with pytest.raises(SymgradError) as info:     # a dict has no methods: refused
        symgrad.grad(_call_method_of_param, wrt="model")({"w": 1.0, "scale": 1.0}, 0.5)
    msg = str(info.value)
    assert "test_containers.py" in msg and "line" in msg and ".features()" in msg


def test_fields_read_both_ways_are_refused():
    with pytest.raises(SymgradError) as info:
        symgrad.grad(_mixed_access)
    assert "test_containers.py" in str(info.value)


def test_wrong_argument_for_an_object_parameter():
    with pytest.raises(SymgradError) as info:
        symgrad.grad(namedtuple_neuron)(1.5, 2.0)
    assert "'p'" in str(info.value) and "attributes" in str(info.value)


class _Counted:
    def __init__(self):
        self.k = 3

    def count(self):
        try:                            # (a try: not inlined, called as written)
            return self.k * 2
        except ValueError:
            return 0


_COUNTED = _Counted()


def _times_count(x):
    return x * _COUNTED.count()


def test_a_method_that_cannot_be_inlined_is_called_as_written():
    """A method of a module's object that symgrad cannot inline (it has a ``try``) and
    that no gradient flows through is called as written.  Before, the generated code
    passed the object twice (TypeError: count() takes 1 positional argument but 2 were
    given)."""
    assert symgrad.grad(_times_count)(0.7) == 6.0
    assert symgrad.value_and_grad(_times_count)(0.7) == (0.7 * 6, 6.0)
