"""Time budgets for the engines of :func:`symgrad.check`, and progress on a terminal.

SymPy can take minutes on a function that runs in microseconds on floats (a 50-step
integrator on symbols), so every engine runs inside a :class:`Budget`::

    budget = Budget(20.0)
    result = budget.run(work)      # None if it ran out: budget.timed_out

The work runs in the calling thread and is stopped two ways, both raising the budget's own
internal exception (a ``BaseException``, so ``except Exception`` in user code or SymPy does
not swallow it), which :meth:`Budget.run` catches:

* cooperatively: :func:`check_deadline`, called by the Traced numbers' arithmetic and between
  finite-difference steps, raises once the deadline has passed;
* inside library code that never calls back (``sympy.diff``, ``simplify``, the Value engine),
  a watchdog thread asks the interpreter to raise the exception in the working thread at the
  deadline (CPython's ``PyThreadState_SetAsyncExc``; like ``Ctrl-C`` it takes effect
  between bytecodes, so a single long C call is not interrupted, nor, on Python 3.10, a
  loop that makes no call and whose body is a bare ``try``).

The watchdog only sleeps and is joined when the work ends: nothing keeps running after
:meth:`Budget.run` returns, whether the work finished or was stopped.  Budgets nest; the
outermost expired one wins.

>>> def forever():
...     n = 0
...     while True:
...         n += 1
>>> budget = Budget(0.2)
>>> budget.run(forever), budget.timed_out
(None, True)
"""

from __future__ import annotations

import ctypes
import math
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO, TypeVar

__all__ = ["Budget", "Progress", "Timeout", "check_deadline"]

T = TypeVar("T")
_POLL = 0.05  # how often the watchdog repeats its request, in case it was swallowed


class Timeout(BaseException):
    """A budget ran out (internal: each :class:`Budget` catches its own subclass)."""


_local = threading.local()  # .dog: the watchdog of this thread while a budget runs in it


def check_deadline() -> None:
    """Raise the timeout of the outermost running budget whose deadline has passed.

    >>> check_deadline()   # no budget running: nothing to do
    >>> def slow():
    ...     while True:
    ...         check_deadline()
    >>> budget = Budget(0.1)
    >>> budget.run(slow), budget.timed_out
    (None, True)
    """
    dog = getattr(_local, "dog", None)
    if dog is not None:
        now = time.monotonic()
        for budget in dog.budgets:
            if now >= budget.deadline:
                raise budget._exc()


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    """Ask CPython to raise ``exc`` in thread ``thread_id`` (None: cancel a pending one)."""
    if sys.implementation.name == "cpython":  # elsewhere: only the cooperative checks
        obj = ctypes.py_object(exc) if exc is not None else ctypes.py_object()
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), obj)


class _Watchdog:
    """One thread per working thread while budgets run in it: it sleeps until the earliest
    deadline, then raises that budget's timeout in the working thread, again every 50 ms
    until the budget is stopped (in case something swallowed it).

    It is started by the outermost budget only, when no deadline can fire: a thread being
    started by the working thread briefly shares its thread id, and would get the exception.
    The working thread touches only C-level locks (``with lock`` is safe against an
    exception that lands on any bytecode; ``Condition`` and ``Event`` are Python code that
    could be interrupted while holding their lock).
    """

    def __init__(self) -> None:
        self.tid = threading.get_ident()
        self.budgets: list[Budget] = []  # outermost first; changed under ``lock``
        self.lock = threading.Lock()
        self.alarm = threading.Lock()     # held while the watchdog may sleep; released: wake
        self.alarm.acquire()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, name="symgrad-budget", daemon=True)

    def wake(self) -> None:
        try:
            self.alarm.release()
        except RuntimeError:  # already released: it will wake anyway
            pass

    def _run(self) -> None:
        while True:
            with self.lock:
                if self.stopped:
                    return
                now = time.monotonic()
                due = next((b for b in self.budgets if b.deadline <= now), None)
                if due is not None:
                    _set_async_exc(self.tid, due._exc)
                    wait = _POLL
                else:
                    wait = min((b.deadline for b in self.budgets), default=math.inf) - now
            self.alarm.acquire(True, -1 if wait == math.inf else min(wait, 3600.0))


class Budget:
    """At most ``seconds`` for work run with :meth:`run` (``None``: no limit).

    When time runs out the work stops where it is, :meth:`run` returns ``None`` and
    ``timed_out`` becomes true; ``remaining()`` is the time left.

    >>> budget = Budget(5.0)
    >>> budget.run(lambda: sum(range(1000))), budget.timed_out, 0 < budget.remaining() <= 5
    (499500, False, True)
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.timed_out = False
        self.deadline = math.inf
        self._exc: type[Timeout] = type("BudgetTimeout", (Timeout,), {})

    def remaining(self) -> float:
        """Seconds left (``inf`` without a limit, 0 once expired).

        >>> Budget(None).remaining(), Budget(3.0).remaining()   # not started: no deadline
        (inf, inf)
        """
        return max(0.0, self.deadline - time.monotonic())

    def run(self, work: Callable[[], T]) -> T | None:
        """``work()`` within the budget; ``None`` (and ``timed_out``) if time ran out.  An
        exception of ``work`` propagates; an enclosing budget's timeout too.

        >>> Budget(0.0).run(lambda: 1)  # already out of time
        >>> Budget(None).run(lambda: 1)
        1
        """
        try:  # from here on, this budget's timeout is caught wherever it lands
            try:
                self._start()
                return work()
            finally:
                landed = self._shutdown()
                if landed is not None:
                    raise landed  # a timeout landed while stopping: this budget's or outer
        except self._exc:
            # The timeout can land before the ``finally`` above has called ``_shutdown`` (on
            # Python 3.13 it lands on the first bytecode of a call that follows a long C
            # call): stop again, or the watchdog would raise it forever after ``run``.
            self._shutdown()
            self.timed_out = True
            return None

    def _start(self) -> None:
        if self.seconds is not None:
            self.deadline = time.monotonic() + max(0.0, self.seconds)
        dog = getattr(_local, "dog", None)
        if dog is None:  # the outermost budget of this thread: nothing can fire yet
            dog = _local.dog = _Watchdog()
            dog.thread.start()
        with dog.lock:
            dog.budgets.append(self)
        dog.wake()
        check_deadline()

    def _stop(self) -> None:
        """Idempotent: unregister this budget and every budget started inside it (one whose
        own stop an enclosing timeout cut short), cancel a pending timeout, stop the watchdog
        if none is left (an enclosing budget's pending timeout is raised again by it)."""
        dog = getattr(_local, "dog", None)
        if dog is None:
            return
        with dog.lock:
            if self in dog.budgets:
                del dog.budgets[dog.budgets.index(self):]
            _set_async_exc(dog.tid, None)
            if not dog.budgets:
                dog.stopped = True
        dog.wake()
        if dog.stopped:
            dog.thread.join()
            _local.dog = None

    def _shutdown(self) -> Timeout | None:
        """:meth:`_stop`, finished even when a timeout lands during it; returns that timeout."""
        landed: Timeout | None = None
        while True:
            try:
                self._stop()
                return landed
            except Timeout as late:
                landed = late


class Progress:
    """A one-line status on ``stream`` (stderr by default) while slow work runs, only when
    ``stream`` is a terminal and only once the work has taken ``delay`` seconds; a ticker
    thread refreshes the elapsed time and stops at :meth:`close`.  Silent otherwise.

    >>> import io
    >>> with Progress(io.StringIO()) as progress:   # not a terminal: nothing is written
    ...     progress("SymPy 2/5")
    >>> progress.live
    False
    """

    def __init__(self, stream: TextIO | None = None, prefix: str = "check",
                 delay: float = 0.5) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.prefix, self.delay = prefix, delay
        isatty = getattr(self.stream, "isatty", None)
        self.live = bool(isatty and isatty())
        self._text, self._shown = "", False
        self._start = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, text: str) -> None:
        """Say what is running now."""
        self._text = text
        if self.live and time.monotonic() - self._start >= self.delay:
            self._render()

    def _render(self) -> None:
        with self._lock:
            if self._stop.is_set() or not self._text:
                return
            elapsed = time.monotonic() - self._start
            self.stream.write(f"\r\033[K{self.prefix}: {self._text} ... {elapsed:.0f} s")
            self.stream.flush()
            self._shown = True

    def _tick(self) -> None:
        if self._stop.wait(self.delay):
            return
        while True:
            self._render()
            if self._stop.wait(0.25):
                return

    def __enter__(self) -> Progress:  # noqa: PYI034 - Self needs Python 3.11
        if self.live:
            self._ticker = threading.Thread(target=self._tick, name="symgrad-progress",
                                            daemon=True)
            self._ticker.start()
        return self

    def close(self) -> None:
        """Stop the ticker and erase the status line (if one was shown).

        >>> import io
        >>> class Terminal(io.StringIO):
        ...     def isatty(self):
        ...         return True
        >>> term = Terminal()
        >>> progress = Progress(term, delay=0.0)
        >>> progress("SymPy 1/2")
        >>> progress.close()
        >>> term.getvalue()
        '\\r\\x1b[Kcheck: SymPy 1/2 ... 0 s\\r\\x1b[K'
        """
        with self._lock:
            self._stop.set()
            if self._shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
        if self._ticker is not None:
            self._ticker.join()

    def __exit__(self, *exc: object) -> None:
        self.close()
