"""Assemble the pipeline's parts from settings: models stay unloaded until first used."""

from __future__ import annotations

from dataclasses import dataclass

from rag import storage
from rag.config import Settings
from rag.embedding import SentenceTransformerEmbedder
from rag.generation import LlamaCppGenerator
from rag.index import VectorIndex, check_compatible
from rag.models import Embedder, Generator


@dataclass(frozen=True)
class Pipeline:
    """What answering needs, built once and shared by the CLI, the UI and the eval."""

    settings: Settings
    embedder: Embedder
    index: VectorIndex
    generator: Generator


def make_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(settings.embedder_path, threads=settings.threads, int8=settings.embed_int8)


def make_generator(settings: Settings) -> LlamaCppGenerator:
    return LlamaCppGenerator(
        settings.gguf_path, settings.n_ctx, settings.threads, settings.max_answer_tokens, settings.state_dir
    )


def load_pipeline(settings: Settings, embedder: Embedder | None = None, generator: Generator | None = None) -> Pipeline:
    """Open the index and pair it with the embedder it was built with."""
    index = storage.load(settings.index_dir)
    embedder = embedder or make_embedder(settings)
    check_compatible(index.info, embedder, settings.chunk_tokens)
    return Pipeline(settings, embedder, index, generator or make_generator(settings))
