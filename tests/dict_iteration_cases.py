"""Dict comprehensions and loops over a dict's items, keys and values, for
tests/test_dict_iteration.py (symgrad reads their source)."""
import math


def comp_of_range(x):
    d = {k: x * k for k in range(3)}
    return d[2] + d[1] * d[2]


def comp_of_names(w, b):
    params = {name: v * 2.0 for name, v in zip(["w", "b"], [w, b])}
    return math.tanh(params["w"] * 3.0 + params["b"])


def comp_overwriting_keys(x):
    d = {k % 2: x ** k for k in range(4)}      # keys written twice: the last value stays
    return d[0] + 2.0 * d[1]


def comp_with_a_filter(xs):
    d = {i: v * v for i, v in enumerate(xs) if v > 0}
    return d[0] + d.get(1, 0.0) + d.get(2, 5.0)


def sum_of_items(p):
    s = 0.0
    for k, v in p.items():
        s += v * v * (2.0 if k == "a" else 1.0)
    return s


def l2_penalty(params, lam):
    return lam * sum(v * v for v in params.values()) + params["w"]


def keys_then_index(p):
    return sum(p[k] * p[k] * 3.0 for k in p.keys())


def loop_over_a_known_dict(p):
    s = p["a"] * 0.5
    for k in p:
        s += p[k] ** 3
    return s


def rows_by_name(params):
    total = 0.0
    for name, row in params.items():
        total += sum(x * x for x in row) * (2.0 if name == "w" else 1.0)
    return total


def names_from_a_list(p):
    s = 0.0
    for name in ["w", "b"]:
        s += p[name] ** 2
    return s + math.tanh(p["w"])


def comp_of_a_dict(p):
    q = {k: v * 3.0 for k, v in p.items()}
    return q["a"] * q["b"]


def loop_over_unknown(p):
    s = 0.0
    for k in p:
        s += p[k]
    return s


def sorted_keys_unknown(p):
    s = 0.0
    for i, k in enumerate(sorted(p)):
        s += p[k] ** 2 * (i + 1.0)
    return s


def max_by_get_unknown(p):
    best = max(p, key=p.get)
    return p[best] ** 3 + sum(p[k] for k in sorted(p, key=p.get)[:1])


def comp_in_a_branch_in_a_loop(x0, x1):
    for i in range(2):
        if x1 > 0.5:
            x1 = x1 + {k: x0 * (k + 1) for k in range(3)}.get(5, x0 * x0)
        else:
            x1 = x1 * 2.0
    return x1 * x0


def keys_as_a_list(p):
    first = p["a"] * 2.0            # (read by key first: p is a dict, list(p) its keys)
    names = list(p)
    return sum(p[k] * p[k] for k in names[:2]) + p[names[-1]] * first


def sorted_items_loop(p):
    s = 0.0
    for k, v in sorted(p.items()):
        s = s * 2.0 + v * v
    return s


def sorted_items_comprehension(p):
    return sum(v * (i + 1) for i, (k, v) in enumerate(sorted(p.items(), reverse=True)))


def copied_dicts(p):
    q = dict(p)
    q["a"] = q["a"] * 2.0                   # (p keeps its value: q is a new dict)
    r = p.copy()
    r["b"] = r["b"] ** 3
    return q["a"] + p["a"] * q["b"] + r["b"] * r["a"]


def keys_by_value_unknown(p):
    return sum(p[k] ** 2 * (i + 1) for i, k in enumerate(sorted(p, key=lambda k: -p[k])))


def sorted_items_itemgetter(d):
    import operator
    total = 0.0
    for i, (k, v) in enumerate(sorted(d.items(), key=operator.itemgetter(0))):
        total = total + v * v * (i + 1.0)
    for v in d.values():
        total = total + math.sin(v)
    return total


def sorted_items_lambda_reversed(d):
    total = 0.0
    for i, (k, v) in enumerate(sorted(d.items(), key=lambda kv: kv[0], reverse=True)):
        total = total + math.exp(v * 0.5) * (i + 2.0)
    return total


def sorted_items_by_value(d):
    # key=kv[1] sorts by the values: not the keys' order (kept as written, see below)
    return sum(v * (i + 1.0) for i, (k, v) in enumerate(sorted(d.items(), key=lambda kv: kv[1])))
