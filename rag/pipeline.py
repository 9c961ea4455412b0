"""Assemble the pipeline's parts from settings: models stay unloaded until first used."""

from __future__ import annotations

from dataclasses import dataclass

from rag import storage
from rag.config import Settings
from rag.embedding import Embedder
from rag.errors import IndexProblem
from rag.generation import Generator
from rag.retrieval import Retriever


@dataclass(frozen=True)
class Pipeline:
    """What answering needs, built once and shared by the CLI, the UI and the eval."""

    settings: Settings
    embedder: Embedder
    retriever: Retriever
    generator: Generator


def make_embedder(settings: Settings) -> Embedder:
    return Embedder(settings.embedder_path, threads=settings.threads)


def make_generator(settings: Settings) -> Generator:
    return Generator(
        settings.gguf_path, settings.n_ctx, settings.threads, settings.max_answer_tokens, settings.state_dir
    )


def load_pipeline(settings: Settings, embedder: Embedder | None = None, generator: Generator | None = None) -> Pipeline:
    """Open the index and pair it with the embedder it was built with."""
    index = storage.load(settings.index_dir)
    embedder = embedder or make_embedder(settings)
    if index.info.embedder != embedder.model_id or index.info.chunk_tokens != settings.chunk_tokens:
        raise IndexProblem(
            f"index was built with {index.info.embedder} at {index.info.chunk_tokens} tokens/chunk, settings ask for "
            f"{embedder.model_id} at {settings.chunk_tokens}: run `rag index --rebuild`"
        )
    retriever = Retriever(index, settings.candidates, settings.lexical)
    return Pipeline(settings, embedder, retriever, generator or make_generator(settings))
