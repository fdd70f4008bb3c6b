"""Dict comprehensions, and loops over a dict's items(), keys() and values() (a dict of
parameters, a regularizer over them): each value's adjoint goes back under its key.
References: gradients derived by hand, finite differences and symgrad.check's engines."""
import math

import dict_iteration_cases as D
import pytest

import symgrad


def fd_dict(f, p, *rest, h=1e-6):
    out = {}
    for k, v in p.items():
        if isinstance(v, list):
            out[k] = []
            for i in range(len(v)):
                up = {**p, k: v[:i] + [v[i] + h] + v[i + 1:]}
                dn = {**p, k: v[:i] + [v[i] - h] + v[i + 1:]}
                out[k].append((f(up, *rest) - f(dn, *rest)) / (2 * h))
        else:
            out[k] = (f({**p, k: v + h}, *rest) - f({**p, k: v - h}, *rest)) / (2 * h)
    return out


def test_comprehensions_of_numbers():
    x = 0.7
    assert symgrad.grad(D.comp_of_range)(x) == pytest.approx(2.0 + 4 * x)   # 2x + 2x^2
    # {0: x^2, 1: x^3} (keys 0 and 1 written twice: the last value stays)
    assert symgrad.grad(D.comp_overwriting_keys)(x) == pytest.approx(2 * x + 6 * x * x)
    w, b = 0.3, 0.1
    t = math.tanh(6 * w + 2 * b)
    gw, gb = symgrad.grad(D.comp_of_names, wrt=[0, 1])(w, b)
    assert (gw, gb) == pytest.approx((6 * (1 - t * t), 2 * (1 - t * t)))
    for f, args in ((D.comp_of_range, (x,)), (D.comp_of_names, (w, b)),
                    (D.comp_overwriting_keys, (x,))):
        for mode in ("grad", "jvp", "hessian"):
            assert symgrad.check(f, *args, mode=mode).ok, (f.__name__, mode)


def test_a_comprehension_with_a_filter_and_get():
    xs = [0.5, -1.0, 2.0]
    # {0: .25, 2: 4}: d[0] + 0.0 + d[2]
    assert symgrad.grad(D.comp_with_a_filter)(xs) == pytest.approx([1.0, 0.0, 4.0])
    assert symgrad.check(D.comp_with_a_filter, xs).ok


@pytest.mark.parametrize(("f", "p", "rest"), [
    (D.sum_of_items, {"a": 1.5, "b": 2.0, "c": -0.5}, ()),
    (D.l2_penalty, {"w": 0.5, "b": -1.0}, (0.1,)),
    (D.keys_then_index, {"a": 1.5, "b": 2.0}, ()),
    (D.loop_over_a_known_dict, {"a": 1.5, "b": -2.0}, ()),
    (D.rows_by_name, {"w": [1.0, 2.0], "b": [0.5]}, ()),
    (D.names_from_a_list, {"w": 0.5, "b": 2.0, "c": 1.0}, ()),
    (D.comp_of_a_dict, {"a": 1.5, "b": 2.0}, ()),
    (D.keys_as_a_list, {"a": 1.5, "b": 2.0, "c": -1.0}, ()),
    (D.sorted_items_loop, {"b": 1.5, "a": 2.0, "c": -1.0}, ()),
    (D.sorted_items_comprehension, {"b": 1.5, "a": 2.0, "c": -1.0}, ()),
    (D.copied_dicts, {"b": 0.7, "a": 1.5}, ()),
    (D.keys_by_value_unknown, {"b": 0.7, "a": 1.5, "c": -0.2}, ()),
], ids=lambda v: getattr(v, "__name__", ""))
def test_loops_over_a_dict_of_parameters(f, p, rest):
    g = symgrad.grad(f, wrt=0)(p, *rest)
    want = fd_dict(f, p, *rest)
    assert set(g) == set(p)
    for k in p:
        assert g[k] == pytest.approx(want[k], rel=1e-6, abs=1e-7), k
    r = symgrad.check(f, p, *rest, wrt=[0])
    assert r.ok, str(r)
    assert symgrad.check(f, p, *rest, wrt=[0], mode="jvp").ok


def test_hand_derived_l2_penalty():
    g = symgrad.grad(D.l2_penalty, wrt=0)({"w": 0.5, "b": -1.0}, 0.1)
    assert g == pytest.approx({"w": 2 * 0.1 * 0.5 + 1.0, "b": 2 * 0.1 * -1.0})


@pytest.mark.parametrize("f", [D.loop_over_unknown, D.sorted_keys_unknown,
                               D.max_by_get_unknown], ids=lambda f: f.__name__)
def test_a_parameter_read_as_a_list_by_the_code_and_given_a_dict(f):
    # (``for k in p``, ``sorted(p)``: the code alone reads ``p`` as a list; given a dict,
    # the gradient is made again for a dict, as it is for arrays)
    g = symgrad.grad(f)
    for p in ({"a": 1.0, "b": -2.5, "c": 0.75}, {"z": 0.5, "y": 2.0}):
        got, want = g(dict(p)), fd_dict(f, p)
        assert set(got) == set(p)
        for k in p:
            assert got[k] == pytest.approx(want[k], rel=1e-6, abs=1e-7), k
    assert f(dict(p)) == symgrad.value_and_grad(f)(dict(p))[0]
    t = {k: 0.5 - i for i, k in enumerate(p)}              # jvp is grad . t; vjp is grad
    value, slope = symgrad.jvp(f, (dict(p),), (t,))
    assert value == f(dict(p)) and slope == pytest.approx(sum(want[k] * t[k] for k in p))
    (back,) = symgrad.vjp(f, dict(p))[1](1.0)
    assert back == pytest.approx(want, rel=1e-6)


def test_second_order_through_a_dict_saved_on_the_tape():
    # (the gradient's tape pre-set the dict variable to None: differentiated again, a
    # dict and an object clashed; found by the fuzzer's hvp identities)
    x0, x1 = 0.7, 0.3            # f = (2 x1 + x0^2) x0 on this path
    g = symgrad.grad(D.comp_in_a_branch_in_a_loop, wrt=[0, 1])(x0, x1)
    assert g == pytest.approx((2 * x1 + 3 * x0 * x0, 2 * x0))
    hv = symgrad.hvp(D.comp_in_a_branch_in_a_loop, (x0, x1), (1.0, 0.5), wrt=[0, 1])
    assert hv == pytest.approx((6 * x0 + 2 * 0.5, 2.0))


def weighted_by_sorted_key(p):
    total = 0.0
    for i, k in enumerate(sorted(p, reverse=True)):
        total = total + p[k] * p[k] * (i + 1.0)
    return total


def test_sorted_keys_are_one_call_and_the_gradient_follows_the_order():
    """sorted(d) of a dict's keys (not differentiated) is one call of sorted, not a
    permutation gathered element by element with a list of values nothing reads."""
    p = {"b": 0.5, "a": -1.5, "c": 2.0}
    g = symgrad.grad(weighted_by_sorted_key)
    got = g(p)
    assert got == pytest.approx(fd_dict(weighted_by_sorted_key, p))
    assert got == pytest.approx({"c": 2 * 2.0 * 1, "b": 2 * 0.5 * 2, "a": 2 * -1.5 * 3})
    assert "sorted(list(p), reverse=True)" in g.source and "_values" not in g.source


@pytest.mark.parametrize("f", [D.sorted_items_itemgetter, D.sorted_items_lambda_reversed])
def test_sorted_items_by_key(f):
    """sorted(d.items(), key=itemgetter(0) or lambda kv: kv[0]) is the keys' order (the
    keys are unique); it was refused ('d.items() used as a value'), and with a loop over
    d.values() after it (autograd's test_dict), d was read as a list."""
    p = {"b": 0.3, "a": -0.7, "c": 1.1}
    g = symgrad.grad(f)(p)
    ref = fd_dict(f, p)
    assert set(g) == set(p)
    for k in p:
        assert g[k] == pytest.approx(ref[k], rel=1e-6, abs=1e-8)


def test_sorted_items_by_value_is_refused_with_a_hint():
    with pytest.raises(symgrad.SymgradError, match="items"):
        symgrad.grad(D.sorted_items_by_value)({"b": 0.3, "a": -0.7})


def _key_then_values(d, key):
    return d[key] ** 2 + sum(d.values())


def test_a_dict_read_by_a_key_passed_in_then_by_its_values():
    """d[key] (a key computed when it runs) read d as a list, and d.values() after it
    was refused: a parameter whose .values() shows it is a dict is made again as one."""
    g = symgrad.grad(_key_then_values, wrt=0)
    assert g({"a": 2.0, "b": 3.0}, "a") == {"a": 5.0, "b": 1.0}
    assert g({"a": 2.0, "b": 3.0}, "b") == {"a": 1.0, "b": 7.0}
