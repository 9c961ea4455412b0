"""What every web session and API request shares: a pipeline per collection (each reloaded when its index
changes), the line for the generator and the lock that keeps indexers apart."""

from __future__ import annotations

import threading

from rag.config import Settings
from rag.pipeline import Pipeline, load_pipeline, refreshed
from rag.store import catalog
from rag.web.queueing import GenerationQueue


class Service:
    """The pipelines shared by every session and request, one generation at a time, one indexer at a time.

    The pipeline it is built with is the first one served (`pipeline`); another collection's is loaded on first
    use with the same models.
    """

    def __init__(self, pipeline: Pipeline, queue: GenerationQueue | None = None) -> None:
        self.settings = pipeline.settings
        self._pipelines = {self.settings.store.collection: pipeline}
        self._swap = threading.Lock()
        self.queue = queue or GenerationQueue(self.settings.serve.queue_size, self.settings.serve.parallel_generations)
        self.indexing = threading.Lock()

    @property
    def pipeline(self) -> Pipeline:
        """The first collection's live pipeline; a new index generation saved by any process is picked up here."""
        return self.pipeline_for(self.settings.store.collection)

    def pipeline_for(self, collection: str) -> Pipeline:
        """A collection's live pipeline; NotFound when it has no index, BadSettings for a bad name."""
        with self._swap:
            known = self._pipelines.get(collection)
            if known is None:
                first = next(iter(self._pipelines.values()))
                known = load_pipeline(self.settings_for(collection), first.embedder, first.generator)
            self._pipelines[collection] = refreshed(known)
            return self._pipelines[collection]

    def settings_for(self, collection: str) -> Settings:
        return self.settings.with_(collection=collection)

    def collections(self) -> list[str]:
        """The collections there are (the default first, as catalog.collections lists them), and any already served."""
        names = catalog.collections(self.settings.store.index_dir)
        return names + sorted(set(self._pipelines) - set(names))

    def replace(self, pipeline: Pipeline) -> None:
        with self._swap:
            self._pipelines[pipeline.settings.store.collection] = pipeline
