"""What every web session and API request shares: one pipeline (reloaded when the index changes), the line for
the generator and the lock that keeps indexers apart."""

from __future__ import annotations

import threading

from rag.pipeline import Pipeline, refreshed
from rag.web.queueing import GenerationQueue


class Service:
    """The pipeline shared by every session and request, one generation at a time, one indexer at a time."""

    def __init__(self, pipeline: Pipeline, queue: GenerationQueue | None = None) -> None:
        self._pipeline = pipeline
        self._swap = threading.Lock()
        settings = pipeline.settings
        self.queue = queue or GenerationQueue(settings.queue_size, settings.parallel_generations)
        self.indexing = threading.Lock()

    @property
    def pipeline(self) -> Pipeline:
        """The live pipeline; a new index generation saved by any process is picked up here."""
        with self._swap:
            self._pipeline = refreshed(self._pipeline)
            return self._pipeline

    def replace(self, pipeline: Pipeline) -> None:
        with self._swap:
            self._pipeline = pipeline
