"""Section 4, embedding levers on the query side: torch threads and the int8 query encoder."""

from __future__ import annotations

from functools import partial

import numpy as np
import torch

from bench.levers_index import local_encoder
from bench.levers_llm import thread_advice, thread_rows
from bench.report import Section, ratio
from bench.timing import embedding_itself, measure
from bench.workload import Budget
from rag.engines.embedder import SentenceTransformerEmbedder
from rag.engines.protocols import Embedder
from rag.evaluation import GoldItem
from rag.pipeline import Pipeline


def query_vectors(embedder: Embedder, gold: list[GoldItem]) -> np.ndarray:
    return np.vstack([embedder.embed_queries([q.question]) for q in gold])


def dense_recall(queries: np.ndarray, docs: np.ndarray, sources: list[str], gold: list[GoldItem]) -> dict[int, float]:
    """Share of questions with a gold source among the top-1 / top-5 chunks of exact dense search."""
    top = np.argsort(-(queries @ docs.T), axis=1)[:, :5]
    out = {}
    for k in (1, 5):
        out[k] = float(np.mean([any(sources[r] in q.sources for r in row[:k]) for q, row in zip(gold, top)]))
    return out


def passage_recall(
    pipeline: Pipeline, gold: list[GoldItem], queries: np.ndarray, ks: tuple[int, ...] = (2, 4, 6)
) -> dict[int, float]:
    """Share of questions with a gold source among the top_k passages of the product's hybrid retrieval."""
    out = {}
    for k in ks:
        found = [
            any(p.chunk.source in q.sources for p in pipeline.retrieve(q.question, k, query=v).passages)
            for q, v in zip(gold, queries)
        ]
        out[k] = float(np.mean(found))
    return out


def _sample_texts(pipeline: Pipeline, n: int = 32) -> list[str]:
    return [c.text for c in pipeline.index.chunks[:n]]


def torch_threads(s: Section, pipeline: Pipeline, question: str, budget: Budget) -> None:
    s.text("### 4f. Threads for torch (embedding)")
    embedder, texts = embedding_itself(pipeline.embedder), _sample_texts(pipeline, budget.texts // 2)

    def speeds(threads: int) -> tuple[float, float]:
        torch.set_num_threads(threads)
        query = measure(lambda: embedder.embed_queries([question]), max(1, budget.repeat // 3))
        docs = measure(lambda: embedder.embed_documents(texts), 1, warmup=0)
        return query.ms, len(texts) / docs.median

    rows = thread_rows(speeds)
    torch.set_num_threads(pipeline.settings.engines.threads)
    s.table(["threads", "query embedding ms", "documents/s", "query time vs 1", "documents/s vs 1"], rows)
    s.text("Recommendation: " + thread_advice({r[0]: r[2] / r[1] for r in rows}, "torch"))


def int8(s: Section, pipeline: Pipeline, gold: list[GoldItem], budget: Budget) -> dict:
    """Query embedding time of the float32 encoder (the default) against the opt-in int8 one, and how close their
    vectors are."""
    s.text("### 4g. Query embedding: float32 (default) against the int8 encoder (`RAG_EMBED_INT8=1`)")
    path, threads, product = (
        pipeline.settings.engines.embedder_path,
        pipeline.settings.engines.threads,
        local_encoder(pipeline.embedder),
    )

    def encoder(int8: bool) -> SentenceTransformerEmbedder:  # the product's own where it is the one asked for
        return product if product.quantized == int8 else SentenceTransformerEmbedder(path, threads=threads, int8=int8)

    encoders = {"float32": encoder(False), "int8": encoder(True)}
    speed = {
        name: measure(partial(e.embed_queries, [gold[0].question]), budget.repeat).ms for name, e in encoders.items()
    }
    vectors = {name: query_vectors(e, gold) for name, e in encoders.items()}
    cosine = float(np.mean(np.sum(vectors["float32"] * vectors["int8"], axis=1)))
    s.table(
        ["", "float32 (default)", "int8", "int8 vs float32"],
        [("query embedding ms", speed["float32"], speed["int8"], ratio(speed["float32"], speed["int8"]))],
    )
    s.text(
        f"Mean cosine between float32 and int8 query vectors over {len(gold)} gold questions: {cosine:.3f}. "
        "Section 3 scores the int8 encoder's retrieval on the gold set (documents and queries both int8)."
    )
    return {"speed": speed, "cosine": cosine}
