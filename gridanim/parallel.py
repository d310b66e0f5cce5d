"""Two pieces of pure numpy work at once, on two cores.

numpy releases the GIL inside its loops, so two threads of array work overlap, as long as the interpreter
hands the GIL over often: the CLI sets a short switch interval (see ``cli.common.read_early``); with
Python's default of 5 ms the two mostly take turns, which costs nothing but gains little.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """``(first(), second())``, with ``second`` run in a thread of its own; its exception is raised here."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = second()
        except BaseException as e:  # handed to the caller below
            box["error"] = e

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
    """``[fn(x) for x in items]``, the second half of ``items`` in a thread of its own."""
    if len(items) < 2:
        return [fn(x) for x in items]
    k = (len(items) + 1) // 2
    a, b = both(lambda: [fn(x) for x in items[:k]], lambda: [fn(x) for x in items[k:]])
    return a + b
