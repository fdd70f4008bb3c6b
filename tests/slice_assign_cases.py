"""Slice assignments, del of slices and clear() on lists, for
tests/test_slice_assign.py (symgrad reads their source)."""


def replace_middle(xs):
    ys = list(xs)
    ys[1:3] = [ys[0] * 2.0, ys[1] * 3.0]
    return sum(v * v for v in ys)


def shrink(xs):
    ys = list(xs)
    ys[1:3] = [ys[0] * xs[2]]
    return sum(ys) * ys[1]


def grow_from_the_end(xs):
    ys = [v * 1.5 for v in xs]
    ys[-1:] = [xs[0] * xs[1], xs[2], ys[0]]
    return ys[-1] * ys[-2] + ys[-3] + len(ys)


def whole_list(xs):
    ys = list(xs)
    ys[:] = [v * v for v in ys]
    return ys[0] + ys[-1] * 2.0


def from_itself(xs):
    ys = list(xs)
    ys[1:2] = ys                 # (Python copies the right side first)
    return sum(ys[k] * (k + 1) for k in range(len(ys)))


def into_an_argument(xs, a):
    xs[0:2] = [a * a, xs[1] * a]
    return sum(xs)


def empty_region(xs):
    ys = list(xs)
    ys[2:1] = [xs[0] * 3.0]      # stop < start: an insertion
    return ys[2] * ys[3]


def del_slice(xs):
    ys = [v * v for v in xs]
    del ys[1:3]
    return sum(ys) + ys[0]


def clear_and_refill(xs):
    ys = [v * 2.0 for v in xs]
    t = ys[0]
    ys.clear()
    ys.append(xs[1] * 3.0)
    return sum(ys) + t


def with_a_step(xs):
    ys = list(xs)
    ys[::2] = [v * 2.0 for v in ys[::2]]
    return sum(ys)
