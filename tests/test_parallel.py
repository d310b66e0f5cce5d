"""gridanim.parallel: two pieces of work at once, same results as in turn."""

import threading

import pytest

from gridanim.parallel import both, map2


def test_both_returns_in_order_and_runs_the_second_in_another_thread():
    a, b = both(lambda: threading.get_ident(), lambda: threading.get_ident())
    assert a == threading.get_ident() and b != a


def test_both_raises_the_second_ones_error_after_the_first_finishes():
    done = []

    def slow():
        done.append(1)
        return 1

    def bad():
        raise ValueError("bad second")

    with pytest.raises(ValueError, match="bad second"):
        both(slow, bad)
    assert done == [1]


def test_map2_keeps_order():
    for n in (0, 1, 2, 5, 12):
        assert map2(lambda x: x * x, list(range(n))) == [x * x for x in range(n)]
