"""Functions chosen by configuration: read from a module-level dict under a literal
key (``ACTS[CFG["act"]]``), or returned by a factory (``make_act("softsign")``, with
an early ``return`` decided by its constant argument).  The function is known while
lowering and inlined; the dict items it was read from are guarded, so rebinding
``CFG["act"]`` or ``ACTS["tanh"]`` makes the gradient again, as rebinding a global
function does.  Every mode against central differences of the function."""

import math

import pytest

from every_mode import MODES, check_every_mode

import symgrad

H = 1e-6

CFG = {"act": "softplus", "layers": 3, "scale": 0.5}
ACTS = {"tanh": math.tanh, "softplus": lambda z: math.log1p(math.exp(z)),
        "relu": lambda z: max(0.0, z)}


def config_net(x, ws):
    act = ACTS[CFG["act"]]
    h = x
    for i in range(CFG["layers"]):
        h = act(ws[i] * h + CFG["scale"])
    return h


def make_act(kind):
    if kind == "tanh":
        return math.tanh
    return lambda z: z / (1 + abs(z))


def factory(x, ws):
    act = make_act("softsign")
    for w in ws:
        x = act(w * x + 0.1)
    return x


def factory_tanh(x, ws):
    act = make_act("tanh")
    return sum(act(w * x) for w in ws)


def closure_table(scale):
    table = {"sq": lambda v: v * v * scale,        # (one lambda a line: Python 3.10
             "cube": lambda v: v ** 3}             # gives no columns to tell them apart)

    def f(x):
        return table["sq"](x) + table["cube"](x)
    return f


def central(f, x, ws):
    return (f(x + H, ws) - f(x - H, ws)) / (2 * H)


def test_a_function_read_from_a_config_dict():
    ws = [0.8, -0.5, 1.2]
    assert symgrad.grad(config_net)(0.4, ws)[0] == pytest.approx(central(config_net, 0.4, ws),
                                                                 rel=1e-7)
    assert "CFG['scale']" in symgrad.grad(config_net).source     # (numbers read live)


def test_rebinding_the_config_or_the_table_makes_the_gradient_again():
    ws = [0.8, -0.5, 1.2]
    g = symgrad.grad(config_net)
    try:
        CFG["act"] = "tanh"
        assert g(0.4, ws)[0] == pytest.approx(central(config_net, 0.4, ws), rel=1e-7)
        ACTS["tanh"] = math.sin
        assert g(0.4, ws)[0] == pytest.approx(central(config_net, 0.4, ws), rel=1e-7)
        assert g(0.4, ws)[0] == pytest.approx(
            math.cos(0.4 * 0.8 + 0.5) * 0.8 * math.cos(-0.5 * math.sin(0.4 * 0.8 + 0.5) + 0.5)
            * -0.5 * math.cos(1.2 * math.sin(-0.5 * math.sin(0.4 * 0.8 + 0.5) + 0.5) + 0.5)
            * 1.2, rel=1e-12)
    finally:
        CFG["act"] = "softplus"
        ACTS["tanh"] = math.tanh


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("f", [config_net, factory, factory_tanh])
def test_every_mode(f, mode):
    check_every_mode(f, f.__name__, [(0.4, [0.8, -0.5, 1.2]), (-0.3, [1.5, 0.2])], mode)


def test_a_dict_of_functions_in_a_closure():
    f = closure_table(2.5)
    assert symgrad.grad(f)(0.7) == pytest.approx(2 * 2.5 * 0.7 + 3 * 0.7 ** 2, rel=1e-14)


# ------------------------------------------------- a module-level tree walked by recursion
TREE = ("+", ("*", "x", "y"), ("sin", ("*", "x", "x")))


def evaluate(node, env):
    if isinstance(node, str):
        return env[node]
    op = node[0]
    if op == "+":
        return evaluate(node[1], env) + evaluate(node[2], env)
    if op == "*":
        return evaluate(node[1], env) * evaluate(node[2], env)
    if op == "sin":
        return math.sin(evaluate(node[1], env))
    raise ValueError(op)


def expression_tree(x, y):
    return evaluate(TREE, {"x": x, "y": y})


@pytest.mark.parametrize("mode", MODES)
def test_a_recursion_over_a_module_level_tree(mode):
    check_every_mode(expression_tree, "expression_tree", [(0.7, 1.3), (-1.1, 0.4)], mode)


def test_rebinding_the_tree_makes_the_gradient_again():
    global TREE
    g = symgrad.grad(expression_tree)
    assert g(0.7, 1.3) == pytest.approx((1.3 + 2 * 0.7 * math.cos(0.49), 0.7), rel=1e-14)
    saved, TREE = TREE, ("*", "x", ("sin", "y"))
    try:
        assert g(0.7, 1.3) == pytest.approx((math.sin(1.3), 0.7 * math.cos(1.3)), rel=1e-14)
    finally:
        TREE = saved
