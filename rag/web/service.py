"""What every web session shares: one pipeline (swapped after an upload) and the locks that keep sessions apart."""

from __future__ import annotations

import threading

from rag.pipeline import Pipeline


class Service:
    """The pipeline shared by every session, and the locks around generation and indexing."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._swap = threading.Lock()
        self.generating = threading.Lock()  # llama-cpp is not thread-safe: one generation at a time
        self.indexing = threading.Lock()

    @property
    def pipeline(self) -> Pipeline:
        with self._swap:
            return self._pipeline

    def replace(self, pipeline: Pipeline) -> None:
        with self._swap:
            self._pipeline = pipeline
