"""gridanim.parallel: two pieces of work at once, same results as in turn."""

import os
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


def test_both_hands_work_to_one_long_lived_worker():
    # the second pieces of successive calls run on the same thread: no thread is started per call
    idents = {both(lambda: None, threading.get_ident)[1] for _ in range(20)}
    assert len(idents) == 1 and threading.get_ident() not in idents


def test_nested_and_concurrent_calls_get_threads_of_their_own_and_the_right_results():
    # a call made inside the worker, or while another caller holds it, must not wait on the worker
    def inner(k):
        return both(lambda: k, lambda: k + 1)

    assert both(lambda: inner(1), lambda: inner(10)) == ((1, 2), (10, 11))
    results: dict[int, list] = {}
    start = threading.Barrier(4)

    def caller(k):
        start.wait()
        results[k] = [map2(lambda x: x * k, list(range(7))) for _ in range(30)]

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(not t.is_alive() for t in threads)
    assert results == {k: [[x * k for x in range(7)]] * 30 for k in range(4)}


def test_the_worker_survives_an_error_in_the_second_piece():
    with pytest.raises(KeyError):
        both(lambda: 1, lambda: {}["missing"])
    assert both(lambda: 1, lambda: 2) == (1, 2)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_gets_a_worker_of_its_own():
    # fork while another thread holds the worker: in the child that thread is gone and its claim
    # would never be released, so without a fresh worker every call would start a thread of its own
    holding, release = threading.Event(), threading.Event()

    def hold():
        both(lambda: (holding.set(), release.wait(10)), lambda: None)

    t = threading.Thread(target=hold)
    t.start()
    assert holding.wait(10)
    pid = os.fork()
    if pid == 0:
        names = {both(lambda: None, lambda: threading.current_thread().name)[1] for _ in range(3)}
        ok = names == {"gridanim-worker"} and map2(lambda x: x + 1, [1, 2, 3]) == [2, 3, 4]
        os._exit(0 if ok else 3)
    release.set()
    t.join(10)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
