"""A question answered on a worker thread, its pieces handed to the request's coroutine as they are written."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rag.answer.ask import ask
from rag.errors import RagError, TooSlow
from rag.pipeline import Pipeline
from rag.web.queueing import Abandoned, GenerationQueue, Ticket

Event = tuple[
    str, Any
]  # ("sources", passages) | ("piece", str) | ("answer", Answer) | ("error", RagError) | ("end", None)


@dataclass
class Job:
    """One question: waits for the model in `queue`, streams events, stops when cancelled or past its deadline."""

    pipeline: Pipeline
    question: str
    history: Sequence[str]  # the conversation's earlier questions
    queue: GenerationQueue
    timeout_s: float
    ticket: Ticket = field(init=False)
    deadline: float = field(init=False)
    cancelled: threading.Event = field(default_factory=threading.Event)
    events: asyncio.Queue[Event] = field(default_factory=asyncio.Queue)

    def start(self) -> Job:
        """Take a place in line (Busy when full: nothing was started) and begin on a worker thread."""
        self.ticket = self.queue.join()
        self.deadline = time.monotonic() + self.timeout_s
        loop = asyncio.get_running_loop()

        def emit(event: Event) -> None:
            with contextlib.suppress(RuntimeError):  # the server is shutting down: nobody waits for it
                loop.call_soon_threadsafe(self.events.put_nowait, event)

        threading.Thread(target=self._run, args=(emit,), name="rag-answer", daemon=True).start()
        return self

    def cancel(self) -> None:
        """Stop waiting, or stop generating at the next piece (the model's stream is closed)."""
        self.cancelled.set()

    async def next(self) -> Event:
        """The next event; a TooSlow error when the deadline passes first."""
        try:
            return await asyncio.wait_for(self.events.get(), max(0.0, self.deadline - time.monotonic()))
        except TimeoutError:
            self.cancel()
            return ("error", TooSlow(f"no answer within the request timeout ({self.timeout_s:g} s)"))

    def _run(self, emit: Callable[[Event], None]) -> None:
        try:
            with self.queue.turn(self.ticket, self.deadline, self.cancelled):
                response = ask(self.question, self.pipeline, self.history)
                emit(("sources", response.passages))  # known before the model writes
                try:
                    for piece in response:
                        if self.cancelled.is_set():
                            return
                        emit(("piece", piece))
                    emit(("answer", response.answer()))
                finally:
                    response.close()  # after a cancel, this stops the model mid-answer
        except RagError as problem:
            emit(("error", problem))
        except Abandoned:
            pass
        finally:
            emit(("end", None))
