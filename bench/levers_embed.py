"""Section 4, embedding levers: batch size, torch threads, int8 dynamic quantization and what it does to recall."""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from bench.levers_llm import thread_advice
from bench.report import Section, ratio
from bench.timing import measure
from bench.workload import Budget
from rag.embedding import SentenceTransformerEmbedder
from rag.evaluation import GoldItem
from rag.models import Embedder
from rag.pipeline import Pipeline
from rag.retrieval import retrieve


def query_vectors(embedder: Embedder, gold: list[GoldItem]) -> np.ndarray:
    return np.vstack([embedder.embed_queries([q.question]) for q in gold])


def dense_recall(queries: np.ndarray, docs: np.ndarray, sources: list[str], gold: list[GoldItem]) -> dict[int, float]:
    """Share of questions with a gold source among the top-1 / top-5 chunks of exact dense search."""
    top = np.argsort(-(queries @ docs.T), axis=1)[:, :5]
    out = {}
    for k in (1, 5):
        out[k] = float(np.mean([any(sources[r] in q.sources for r in row[:k]) for q, row in zip(gold, top)]))
    return out


def passage_recall(pipeline: Pipeline, gold: list[GoldItem], queries: np.ndarray, ks=(2, 4, 6)) -> dict[int, float]:
    """Share of questions with a gold source among the top_k passages of the product's hybrid retrieval."""
    out = {}
    for k in ks:
        found = [
            any(p.chunk.source in q.sources for p in retrieve(q.question, pipeline, k, query=v).passages)
            for q, v in zip(gold, queries)
        ]
        out[k] = float(np.mean(found))
    return out


def _sample_texts(pipeline: Pipeline, n: int = 32) -> list[str]:
    return [c.text for c in pipeline.index.chunks[:n]]


def batching(s: Section, pipeline: Pipeline, budget: Budget) -> None:
    s.text("### 4e. Batch the document embeddings")
    texts, model = _sample_texts(pipeline, budget.texts), pipeline.embedder.model
    rows, base = [], None
    for batch in (1, 16):
        st = measure(lambda b=batch: model.encode(texts, batch_size=b, normalize_embeddings=True), 1, warmup=0)
        rate = len(texts) / st.median
        base = base or rate
        rows.append((batch, len(texts), st.median, rate, ratio(base, rate)))
    s.table(["batch size", "texts", "seconds", "texts/s", "vs batch 1"], rows)
    if rows[1][3] > rows[0][3] * 1.1:
        advice = "keep batch 16 for indexing (rag.embedding sorts texts by length, so padding stays low)."
    else:
        advice = (
            "batching gave no gain here: one busy core is compute-bound, and a batch pads to its longest text. "
            "Keep 16 (rag.embedding sorts by length, so padding stays low); it pays off with more free cores."
        )
    s.text("Recommendation: " + advice)


def torch_threads(s: Section, pipeline: Pipeline, question: str, budget: Budget) -> None:
    s.text("### 4f. Threads for torch (embedding)")
    embedder, texts = pipeline.embedder, _sample_texts(pipeline, budget.texts // 2)
    rows, base = [], None
    for threads in sorted({1, min(2, os.cpu_count() or 1)}):
        torch.set_num_threads(threads)
        query = measure(lambda: embedder.embed_queries([question]), max(1, budget.repeat // 3))
        docs = measure(lambda: embedder.embed_documents(texts), 1, warmup=0)
        row = (threads, query.ms, len(texts) / docs.median)
        base = base or row
        rows.append((*row, ratio(base[1], row[1]), ratio(base[2], row[2])))
    torch.set_num_threads(pipeline.settings.threads)
    s.table(["threads", "query embedding ms", "documents/s", "query time vs 1", "documents/s vs 1"], rows)
    s.text("Recommendation: " + thread_advice({r[0]: r[2] / r[1] for r in rows}, "torch"))


def quantized(path, threads: int) -> SentenceTransformerEmbedder:
    """An embedder whose transformer Linear layers run as int8 dynamic quantization (weights int8, activations
    quantized per batch)."""
    embedder = SentenceTransformerEmbedder(path, threads=threads)
    torch.ao.quantization.quantize_dynamic(
        embedder.model[0].auto_model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
    )
    return embedder


def int8(s: Section, pipeline: Pipeline, gold: list[GoldItem], fp32_queries: np.ndarray, budget: Budget) -> dict:
    """Speed of fp32 vs int8 embedding, and recall@1/@5 of gold sources with int8 queries and documents."""
    s.text("### 4g. int8 dynamic quantization of the embedding model")
    started = time.perf_counter()
    q8 = quantized(pipeline.settings.embedder_path, pipeline.settings.threads)
    load_s = time.perf_counter() - started
    index, fp32 = pipeline.index, pipeline.embedder
    sources = [c.source for c in index.chunks]
    int8_queries = query_vectors(q8, gold)
    texts = _sample_texts(pipeline, budget.texts // 2)
    speed = {}
    for name, emb in (("fp32", fp32), ("int8", q8)):
        query = measure(lambda e=emb: e.embed_queries([gold[0].question]), budget.repeat)
        docs = measure(lambda e=emb: e.embed_documents(texts), 1)
        speed[name] = (query.ms, len(texts) / docs.median)
    s.table(
        ["", "fp32", "int8", "int8 vs fp32"],
        [
            ("query embedding ms", speed["fp32"][0], speed["int8"][0], ratio(speed["fp32"][0], speed["int8"][0])),
            ("documents/s", speed["fp32"][1], speed["int8"][1], ratio(speed["fp32"][1], speed["int8"][1])),
        ],
    )
    cosine = float(np.mean(np.sum(fp32_queries * int8_queries, axis=1)))
    rows = [
        ("fp32", "fp32", dense_recall(fp32_queries, index.vectors, sources, gold)),
        ("int8", "fp32", dense_recall(int8_queries, index.vectors, sources, gold)),
    ]
    if budget.reembed_docs:
        doc8 = q8.embed_documents([c.text for c in index.chunks], [c.title for c in index.chunks])
        rows.append(("int8", "int8 (re-embedded)", dense_recall(int8_queries, doc8, sources, gold)))
    s.table(
        ["queries", "documents", "recall@1", "recall@5"],
        [(q, d, f"{100 * r[1]:.1f}%", f"{100 * r[5]:.1f}%") for q, d, r in rows],
    )
    s.text(
        f"{len(gold)} answerable gold questions, exact dense search over {len(sources)} chunks (a chunk counts when "
        f"its file is a gold source). Mean cosine between fp32 and int8 query vectors: {cosine:.3f}. "
        f"Quantizing took {load_s:.1f} s at load."
        + ("" if budget.reembed_docs else " Document re-embedding skipped in --quick.")
    )
    s.text("Recommendation: " + _int8_advice(speed, rows, len(gold)))
    return {"speed": speed, "recall": rows, "cosine": cosine}


def _int8_advice(speed: dict, rows: list, n: int) -> str:
    faster = speed["fp32"][0] / speed["int8"][0]
    base, queries_only = rows[0][2], rows[1][2]
    one = 1 / n + 1e-9  # one question of slack
    holds = queries_only[1] >= base[1] - one and queries_only[5] >= base[5] - one
    if holds and faster > 1.2:
        return (
            f"int8 query embedding is {faster:.1f}× faster and recall holds within one question against the same "
            "fp32 index, so quantize the query-side model (a setting, default on); keep documents fp32 unless "
            "the re-embedded row above holds as well, since an index must be embedded by one model."
        )
    if not holds:
        return "keep fp32: int8 query vectors lose recall against the fp32 index on the gold set."
    return f"keep fp32: int8 is only {faster:.1f}× faster here, not worth a second model variant."
