"""Functions outside the supported subset: each must raise a clear SymgradError."""
import math


def uses_try(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    return y


def uses_with(x):
    with open("f") as fh:
        y = x * 2
    return y


def uses_class(x):
    class A:
        pass
    return x


def uses_yield(x):
    yield x * 2


def uses_global(x):
    global G
    G = x
    return x * 2


def uses_del(x):
    y = x * 2
    del y
    return x


def uses_lambda(x):
    f = lambda v: v * 2  # noqa: E731
    return f(x)


def uses_dict(x):
    d = {str(i): x * i for i in range(2)}
    return d["1"]


def uses_dict_literal(x):
    d = {"a": x}
    return d["a"] * d["a"]


def uses_star(x, *rest):
    return x * sum(rest, 1.0)


def uses_kwargs(x, **options):
    return x


def returns_tuple(x, y):
    return x * y, x + y


def returns_list(x):
    return [x, x]


def returns_nothing(x):
    y = x * 2


def unknown_call(x):
    return math.remainder(x, 1.5)


def recursive(x, n):
    if n <= 0:
        return x
    return recursive(x * 2, n - x)      # (its depth depends on x: the data)


def return_in_loop(x):
    for i in range(3):
        if x > i:
            return x * i
    return x


def walrus(x):
    return (y := x * 2) + y


def for_else(x):
    for i in range(3):
        x = x * 2
    else:
        x = x + 1
    return x


def list_sort(xs):
    xs = list(xs)
    xs.sort()
    return xs[0] * 2 + xs[2]


def set_literal(x):
    return sum({x, 2 * x})


def match_stmt(x):
    match x:
        case 1:
            return x
        case _:
            return x * 2


def match_sequence(x):
    match (x, 2 * x):
        case (a, b):
            return a * b
    return x


BAD = {
    uses_try: "try statement", uses_with: "with statement", uses_class: "class definition",
    uses_yield: "yield", uses_global: "global statement",
    recursive: "recursive call",
    set_literal: "set", match_sequence: "sequence pattern in a match statement",
}
# constructs that used to be refused and are now supported (checked against finite
# differences in test_errors.py): del, lambda, return in a loop, :=, for ... else, dict
# comprehensions, *args, **kwargs
NOW_SUPPORTED = [(uses_kwargs, (0.7,)),(uses_del, (0.7,)), (uses_lambda, (0.7,)), (return_in_loop, (0.7,)),
                 (return_in_loop, (2.5,)), (walrus, (0.7,)), (for_else, (0.7,)),
                 (list_sort, ([0.7, -0.2, 1.5],)), (uses_dict_literal, (0.7,)),
                 (uses_dict, (0.7,)), (uses_star, (0.7,)), (uses_star, (0.7, 1.5, -0.25)),
                 (match_stmt, (0.7,))]
NON_SCALAR = [returns_tuple, returns_list, returns_nothing]


# calls Python refuses for their arguments (a TypeError every time f runs): refused when
# transformed, since a call whose result is unused is dropped from a gradient and would
# otherwise leave a gradient that runs where f raises
def round_no_args(x):
    return x * x + round()


def fsum_two_lists(x):
    return math.fsum([x], [x])


def any_no_args(x):
    return x * 2 if any() else x


def all_two_lists(x):
    return x * 2 if all([x], [x]) else x


def tuple_two_lists(x):
    return tuple([x], [x])[0]


def list_two_lists(x):
    return list([x], [x])[0]


def log_three_args(x):
    return math.log(x, 2.0, 3.0)


def prod_no_args(x):
    return math.prod() * x


def prod_two_positional(x):
    return math.prod([x, x], 2.0)


def floor_keyword(x):
    return x * math.floor(y=x)


WRONG_ARGUMENTS = {
    round_no_args: "round", fsum_two_lists: "fsum()", any_no_args: "any()",
    all_two_lists: "all()", tuple_two_lists: "tuple()", list_two_lists: "list()",
    log_three_args: "log with 3 arguments", prod_no_args: "math.prod()",
    prod_two_positional: "math.prod()", floor_keyword: "floor",
}
