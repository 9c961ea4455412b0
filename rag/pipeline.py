"""Assemble the pipeline's parts from settings: models stay unloaded until first used."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.config import EngineSettings, Settings
from rag.engines.embedder import SentenceTransformerEmbedder
from rag.engines.llama import LlamaCppGenerator
from rag.engines.protocols import Embedder, Generator, RememberingEmbedder
from rag.engines.remote import RemoteEmbedder, RemoteGenerator
from rag.records import Retrieval
from rag.search.retrieve import retrieve
from rag.store import catalog, storage
from rag.store.vectors import VectorIndex, check_compatible


@dataclass(frozen=True)
class Pipeline:
    """What answering needs, built once and shared by the CLI, the UI and the eval."""

    settings: Settings
    embedder: Embedder
    index: VectorIndex
    generator: Generator
    generation: str = ""  # the index generation loaded (see storage.current)

    def retrieve(self, question: str, top_k: int | None = None, query: np.ndarray | None = None) -> Retrieval:
        """What the index holds for `question` (see rag.search.retrieve)."""
        margin = self.settings.answer.same_language_margin
        return retrieve(question, self.index, self.embedder, self.settings.search, margin, query=query, top_k=top_k)


def make_embedder(settings: EngineSettings) -> Embedder:
    """The local sentence-transformers model, or a remote engine's /v1/embeddings when RAG_EMBED_URL is set."""
    if settings.embed_url:
        return RemoteEmbedder(
            settings.embed_url,
            settings.embed_model,
            settings.embed_api_key,
            settings.engine_timeout_s,
        )
    return SentenceTransformerEmbedder(settings.embedder_path, threads=settings.threads, int8=settings.embed_int8)


def make_generator(settings: EngineSettings) -> Generator:
    """The local GGUF model, or a remote engine's /v1/chat/completions when RAG_LLM_URL is set."""
    if settings.llm_url:
        return RemoteGenerator(
            settings.llm_url,
            settings.llm_model,
            settings.llm_api_key,
            settings.engine_timeout_s,
            settings.max_answer_tokens,
        )
    return LlamaCppGenerator(
        settings.gguf_path,
        settings.n_ctx,
        settings.threads,
        settings.max_answer_tokens,
        settings.state_dir,
    )


def load_pipeline(settings: Settings, embedder: Embedder | None = None, generator: Generator | None = None) -> Pipeline:
    """Open the index and pair it with the embedder it was built with, which remembers the vectors it makes
    (`RememberingEmbedder`): the same passages come back question after question."""
    generation = storage.current(settings.store.collection_dir)  # read first: a newer one found is reloaded later
    index = catalog.open_index(settings.store)
    embedder = embedder or make_embedder(settings.engines)
    if not isinstance(embedder, RememberingEmbedder):  # a reloaded pipeline keeps what the old one remembered
        embedder = RememberingEmbedder(embedder)
    check_compatible(index.info, embedder, settings.ingest.chunk_tokens)
    return Pipeline(settings, embedder, index, generator or make_generator(settings.engines), generation)


def refreshed(pipeline: Pipeline) -> Pipeline:
    """`pipeline`, or one over the live index generation when another process has saved a new one since.

    Costs one small file read, so a long-running server can call it for every question.
    """
    if storage.current(pipeline.settings.store.collection_dir) in (
        "",
        pipeline.generation,
    ):  # "": gone; keep what is loaded
        return pipeline
    return load_pipeline(pipeline.settings, pipeline.embedder, pipeline.generator)
