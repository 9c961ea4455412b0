"""The generation line shared by the UI and the API: one at a time, first come first served, bounded, with deadlines."""

from __future__ import annotations

import threading
import time

import pytest

from rag.errors import Busy, TooSlow
from rag.web.queueing import Abandoned, GenerationQueue


def test_questions_get_the_model_one_at_a_time_in_arrival_order() -> None:
    queue = GenerationQueue(size=8)
    order: list[int] = []
    busy = threading.Lock()

    def worker(n: int) -> None:
        with queue.turn(tickets[n], time.monotonic() + 10):
            assert busy.acquire(blocking=False), "two generations at once"
            order.append(n)
            time.sleep(0.02)
            busy.release()

    tickets = [queue.join() for _ in range(6)]
    threads = [threading.Thread(target=worker, args=(n,)) for n in reversed(range(6))]  # started in reverse
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert order == list(range(6)) and queue.waiting == 0 and not queue.running


def test_a_full_line_refuses_at_once_and_frees_places_as_questions_leave() -> None:
    queue = GenerationQueue(size=2)
    first, second, third = queue.join(), queue.join(), queue.join()  # one will run, two wait
    with pytest.raises(Busy, match="3 questions are waiting"):
        queue.join()
    with queue.turn(first, time.monotonic() + 1):
        with pytest.raises(Busy):
            queue.join()  # one runs, two wait: still full
        with pytest.raises(TooSlow), queue.turn(second, time.monotonic() + 0.1):
            pass
        fourth = queue.join()  # the second gave up its place
        cancelled = threading.Event()
        cancelled.set()
        with pytest.raises(Abandoned), queue.turn(third, time.monotonic() + 5, cancelled):
            pass
        with pytest.raises(Abandoned), queue.turn(fourth, time.monotonic() + 5, cancelled):
            pass
    assert queue.waiting == 0 and not queue.running


def test_the_model_is_given_back_when_the_answer_fails() -> None:
    queue = GenerationQueue(size=1)
    with pytest.raises(RuntimeError), queue.hold(1):
        raise RuntimeError("model crashed")
    with queue.hold(0.1):
        assert queue.running


def test_with_two_slots_two_answers_run_at_once_and_no_more() -> None:
    queue = GenerationQueue(size=8, slots=2)
    at_once: list[int] = []

    def worker(ticket) -> None:
        with queue.turn(ticket, time.monotonic() + 10):
            at_once.append(queue.running)
            time.sleep(0.05)

    threads = [threading.Thread(target=worker, args=(queue.join(),)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(at_once) == 2 and queue.running == 0
