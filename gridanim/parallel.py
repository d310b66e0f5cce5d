"""Two pieces of pure numpy work at once, on two cores.

numpy releases the GIL inside its loops, so two threads of array work overlap, as long as the interpreter
hands the GIL over often: the CLI sets a short switch interval (see ``cli.common.read_early``); with
Python's default of 5 ms the two mostly take turns, which costs nothing but gains little.

The second piece runs on one long-lived worker thread, started on first use: ``Thread.start`` waits until
the new thread has run, which is slow exactly when the other core is busy (an ffmpeg child, a decode), and
detection hands work over a dozen times. A caller that finds the worker taken (another thread of the app,
or the worker itself) gets a thread of its own, so calls never wait on each other's work.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


class _Worker:
    """One daemon thread running one submitted call at a time; ``claim`` makes a caller its only user."""

    def __init__(self) -> None:
        self._go = threading.Lock()  # released when a job is waiting
        self._go.acquire()
        self._job: tuple[Callable[[], None], threading.Lock] | None = None
        self._claim = threading.Lock()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None

    def claim(self) -> bool:
        if threading.current_thread() is self._thread or not self._claim.acquire(blocking=False):
            return False
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="gridanim-worker", daemon=True)
                self._thread.start()
        return True

    def release(self) -> None:
        self._claim.release()

    def submit(self, fn: Callable[[], None], done: threading.Lock) -> None:
        """Run ``fn`` on the worker; ``done`` (held by the caller) is released when it is over."""
        self._job = (fn, done)
        self._go.release()

    def _loop(self) -> None:
        while True:
            self._go.acquire()
            job, self._job = self._job, None
            assert job is not None
            fn, done = job
            try:
                fn()
            finally:
                done.release()


_WORKER = _Worker()


def _fresh_worker() -> None:
    """A forked child has none of the parent's threads, and its locks may be held: it starts anew."""
    global _WORKER
    _WORKER = _Worker()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_fresh_worker)


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """``(first(), second())``, with ``second`` run on another thread; its exception is raised here."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = second()
        except BaseException as e:  # handed to the caller below
            box["error"] = e

    if _WORKER.claim():
        done = threading.Lock()
        done.acquire()
        try:
            _WORKER.submit(run, done)
            try:
                a = first()
            finally:
                done.acquire()  # released by the worker when ``second`` is over
        finally:
            _WORKER.release()
    else:
        t = threading.Thread(target=run, name="gridanim-both", daemon=True)
        t.start()
        try:
            a = first()
        finally:
            t.join()
    if "error" in box:
        raise box["error"]
    return a, box["value"]


T = TypeVar("T")
R = TypeVar("R")


def map2(fn: Callable[[T], R], items: list[T]) -> list[R]:
    """``[fn(x) for x in items]``, the second half of ``items`` on another thread."""
    if len(items) < 2:
        return [fn(x) for x in items]
    k = (len(items) + 1) // 2
    a, b = both(lambda: [fn(x) for x in items[:k]], lambda: [fn(x) for x in items[k:]])
    return a + b
