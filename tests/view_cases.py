"""Programs writing into numpy arrays in place while other names may share their memory,
for tests/test_views_in_time.py (symgrad reads their source).  ``refused_*``: a name is
read after a write through another name changed it (symgrad would differentiate the
old value); ``fine_*``: every name read holds what the program computed."""
import numpy as np
def refused_view_before_loop(x):
    out = x.copy()
    v = out[1:]
    for i in range(2):
        out[0] = out[0] * x[1] + 1.0
        x = x + v[0]
    return np.sum(x)
def refused_view_read_next_iteration(x):
    y = x.copy()
    s = y[1:]
    total = 0.0
    for i in range(3):
        total = total + np.sum(s * s)
        s = y[1:]
        y[0] = y[1] * 2.0
        y[1] = y[0] * x[0]
    return total
def refused_alias_in_one_branch(x, c):
    y = x * 1.0
    if c > 0:
        z = y
    else:
        z = y.copy()
    y[0] = y[0] * 3.0
    return np.sum(z * x)
def refused_view_of_a_new_buffer(x):
    total = 0.0
    for i in range(2):
        buf = np.zeros(3)
        view = buf[:2]
        buf[0] = x[0] * x[1]
        total = total + np.sum(view * x[:2])
    return total
def fine_prev_and_new_buffer(x):
    cur = x * 1.0
    for i in range(3):
        prev = cur
        cur = np.zeros_like(prev)
        cur[:] = prev * x
        cur[0] = cur[0] + prev[1]
    return np.sum(cur) + np.sum(prev)
def refused_list_holds_the_array(x):
    state = x * 1.0
    hist = []
    for i in range(3):
        hist.append(state)
        state[0] = state[0] * x[1] + 1.0
    return sum(np.sum(h * h) for h in hist)
def fine_list_of_fresh_copies(x):
    state = x * 1.0
    hist = []
    for i in range(3):
        state = state.copy()
        state[0] = state[0] * x[1] + 1.0
        hist.append(state)
    return sum(np.sum(h * h) for h in hist)
def fine_rebound_then_view_written(x):
    a = x.copy()
    b = a.reshape(3, 1)
    for i in range(2):
        a = a * 2.0
        b[0, 0] = x[1]
    return np.sum(a) + np.sum(b)
def refused_row_view(x):
    m = np.outer(x, x)
    r = m[0]
    m[0, 1] = x[2] * 5.0
    return np.sum(r)
def fine_row_view_of_old_matrix(x):
    m = np.outer(x, x)
    r = m[0]
    m = m * 2.0
    m[0, 1] = x[2] * 5.0
    return np.sum(r) + np.sum(m)
def refused_dict_holds_the_array(x):
    d = {"a": x.copy()}
    v = d["a"]
    v[0] = v[0] * x[1]
    return np.sum(d["a"]) + np.sum(v)
def fine_stencil_copy(x):
    u = x.copy()
    for t in range(3):
        nxt = u.copy()
        nxt[1:-1] = 0.5 * (u[:-2] + u[2:])
        u = nxt
    return np.sum(u * u) + np.sum(x * u)
def fine_alias_rebound_first(x):
    y = x.copy()
    z = y
    y = y * 2.0
    z[0] = 5.0 * x[1]
    return np.sum(y) + np.sum(z)
def refused_augmented_through_alias(x):
    y = x.copy()
    z = y
    y += 1.0
    return np.sum(z * x)
def refused_nested_list_holds_the_array(x):
    a = x * 1.0
    L = [[a, 1.0]]
    a[0] = a[1] * 3.0
    return np.sum(L[0][0] * x)
def refused_dict_display_holds(x):
    a = x * 1.0
    d = {"w": a}
    a[0] = a[1] * 3.0
    return np.sum(d["w"] * x)
def refused_appended_list_holds(x):
    a = x * 1.0
    L = []
    L.append([a])
    a[0] = a[1] * 3.0
    return np.sum(L[0][0] * x)
def refused_loop_over_rows_written(x):
    rows = [x * 1.0, x * 2.0]
    for r in rows:
        r[0] = r[1] * x[2]
    return sum(np.sum(r * r) for r in rows)


def fine_heat_empty_like(u0, k):
    u = u0
    for t in range(3):
        new = np.empty_like(u)
        new[1:-1] = u[1:-1] + k * (u[2:] - 2 * u[1:-1] + u[:-2])
        new[0] = 0.0
        new[-1] = 0.0
        u = new
    return np.sum(u ** 2)


def fine_filter_forward_backward(alpha, x):
    y = x
    for _ in range(2):
        out = np.zeros_like(y)
        out[0] = y[0]
        for i in range(1, len(y)):
            out[i] = alpha * out[i - 1] + (1 - alpha) * y[i]
        y = out[::-1]
    return np.sum(y * np.arange(len(y)))


def fine_heat_copy_add(u0, k):
    u = u0.copy()
    for t in range(3):
        new = u.copy()
        new[1:-1] += k * (u[2:] - 2 * u[1:-1] + u[:-2])
        u = new
    return np.sum(u ** 2)


def refused_swapped_buffers(u0, k):
    # (fine in numpy; refused: which buffer a name holds after a, b = b, a is not followed)
    a = u0.copy()
    b = np.zeros_like(u0)
    for t in range(3):
        b[1:-1] = a[1:-1] + k * (a[2:] - 2 * a[1:-1] + a[:-2])
        a, b = b, a
    return np.sum(a ** 2)


def fine_view_then_break(x):
    y = x * 1.0
    for i in range(3):
        if i == 1:
            break
        s = y[1:]
        y = y * 2.0
    return np.sum(s) + np.sum(y)


def refused_view_kept_past_a_break(x):
    y = x * 1.0
    s = y[1:]
    for i in range(3):
        if i == 1:
            break
        y[0] = y[1] * x[2]
    return np.sum(s) + np.sum(y)


def refused_view_carried_past_a_continue(x):
    y = x * 1.0
    s = y[1:]
    total = 0.0
    for i in range(3):
        total = total + np.sum(s)
        y[0] = y[1] * x[2]
        if i < 2:
            continue
        s = y[1:]
    return total


def fine_view_made_again_before_a_continue(x):
    y = x * 1.0
    total = 0.0
    for i in range(3):
        s = y[1:]
        total = total + np.sum(s)
        if i == 1:
            continue
        y = y * 2.0
    return total + np.sum(y)
