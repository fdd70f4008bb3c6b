"""Transform cost in machine instructions: a measure that does not drift with the machine.

    python benchmarks/instructions.py                    # this checkout
    python benchmarks/instructions.py --against 84ade00  # and another revision, side by side

Wall-clock and CPU time of ``grad(f)`` on a shared 2-core virtual machine vary by
up to 40% from one run to the next (other tenants, clock changes), which hides a
10% change in the transformer.  This script counts the instructions the CPU runs
instead, with valgrind's cachegrind (``apt install valgrind``), which gives the same
count to within 0.1% on every run.  Per function it runs one transform to warm
up, then measures a process that makes 0 and 2 more transforms and reports half the
difference: the instructions of one ``value_and_grad(f)`` plus its first call, from
source to gradient.  Hash randomization is off (``PYTHONHASHSEED=0``) so that set
and dict orders, and the work that follows them, are the same every run.

``--against REV`` measures a git revision too, from a temporary worktree of this
repository (removed afterwards), and prints the ratio.  Instruction counts rank
changes; the timings of ``benchmarks/run.py`` remain the targets' measure.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

#: the functions measured: name -> how the child process makes it
FUNCTIONS = {
    "neuron100": "F.write_generated(d, 'gen_n100', F.neuron_straight_source(100)).neuron100",
    "chain1000": "F.write_generated(d, 'gen_c1000', F.chain_source(1000, 'c1000', False)).c1000",
}

_CHILD = """
import inspect, sys, tempfile, types
sys.path.insert(0, {root!r} + "/benchmarks")
sys.path.insert(0, {root!r})
import functions as F
import symgrad
d = tempfile.mkdtemp()
fn = {make}
args = [0.1] * len(inspect.signature(fn).parameters)
def once():
    f = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__)
    symgrad.value_and_grad(f)(*args)
once()
for _ in range({k}):
    once()
"""


def instructions(root: str, make: str, k: int) -> int:
    """Instructions of a child process that transforms the function ``1 + k`` times."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(_CHILD.format(root=root, make=make, k=k))
    try:
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0",
               "PYTHONDONTWRITEBYTECODE": "1"}     # (both runs compile the same modules)
        run = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no",
                              "--cachegrind-out-file=/dev/null", sys.executable, fh.name],
                             capture_output=True, text=True, env=env, check=False)
    finally:
        os.unlink(fh.name)
    found = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if run.returncode != 0 or found is None:
        raise RuntimeError(f"valgrind run failed:\n{run.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_transform(root: str, make: str) -> float:
    return (instructions(root, make, 2) - instructions(root, make, 0)) / 2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--against", help="a git revision to measure too")
    ap.add_argument("--functions", default=",".join(FUNCTIONS),
                    help=f"comma-separated, of {', '.join(FUNCTIONS)}")
    opts = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt install valgrind): nothing measured")
        return 2
    names = [n for n in opts.functions.split(",") if n]
    roots = {"this checkout": ROOT}
    tmp = None
    if opts.against:
        tmp = tempfile.mkdtemp(prefix="symgrad_rev_")
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-q", tmp,
                        opts.against], check=True)
        roots = {opts.against: tmp, **roots}
    try:
        print("| function | " + " | ".join(roots) + (" | ratio |" if tmp else " |"))
        print("|---|" + "---:|" * (len(roots) + (1 if tmp else 0)))
        for name in names:
            counts = [per_transform(r, FUNCTIONS[name]) for r in roots.values()]
            cells = [f"{c / 1e6:.0f} M" for c in counts]
            if tmp:
                cells.append(f"{counts[1] / counts[0]:.2f}x")
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    finally:
        if tmp:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tmp],
                           check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
