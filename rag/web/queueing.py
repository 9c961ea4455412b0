"""One generation at a time per model, shared by the UI and the API: a bounded first-come line with deadlines."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterator

from rag.errors import Busy, TooSlow

POLL_S = 0.2  # how often a waiter looks at its deadline and cancel flag


class Abandoned(Exception):
    """The request was cancelled (its client disconnected) before its turn came."""


class Ticket:
    """A place in line."""


class GenerationQueue:
    """Hands the model to `slots` questions at a time (one for a local model), in arrival order; at most `size`
    questions may wait."""

    def __init__(self, size: int, slots: int = 1) -> None:
        self.size = size
        self.slots = slots
        self._changed = threading.Condition()
        self._line: deque[Ticket] = deque()
        self._running = 0

    @property
    def waiting(self) -> int:
        return len(self._line)

    @property
    def running(self) -> int:
        return self._running

    def join(self) -> Ticket:
        """A place at the end of the line; Busy when the line is full (nothing waits then)."""
        with self._changed:
            if len(self._line) + self._running >= self.size + self.slots:  # counts those not yet started too
                raise Busy(f"the server is busy: {len(self._line)} questions are waiting; try again shortly")
            ticket = Ticket()
            self._line.append(ticket)
            return ticket

    @contextlib.contextmanager
    def turn(self, ticket: Ticket, deadline: float, cancelled: threading.Event | None = None) -> Iterator[None]:
        """Wait until `ticket` is first and a slot is free, hold it for the body, then pass it on.

        Raises TooSlow when `deadline` (a time.monotonic() value) passes first, Abandoned when `cancelled` is set.
        """
        with self._changed:
            try:
                while self._running >= self.slots or self._line[0] is not ticket:
                    if cancelled is not None and cancelled.is_set():
                        raise Abandoned
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TooSlow("no answer within the request timeout: the model was busy with other questions")
                    self._changed.wait(min(left, POLL_S))
            except BaseException:
                self._line.remove(ticket)
                self._changed.notify_all()
                raise
            self._line.popleft()
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def hold(self, timeout_s: float) -> contextlib.AbstractContextManager[None]:
        """Join the line and wait for the model (for callers that cannot be cancelled, such as the UI)."""
        return self.turn(self.join(), time.monotonic() + timeout_s)
