"""Section 5: FAISS at 10k-1M chunks on clustered synthetic unit vectors: build time, memory, latency, recall."""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable

import faiss
import numpy as np

from bench.report import Section
from bench.timing import measure
from bench.workload import Budget
from rag.store.vectors import HNSW_FROM

DIM = 768
CLUSTERS = 1000
NOISE = 0.6  # noise norm relative to the unit cluster centre: same-cluster cosine ≈ 0.7


def clustered(n: int, rng: np.random.Generator, centres: np.ndarray, block: int = 100_000) -> np.ndarray:
    """`n` unit vectors scattered around random cluster centres (topics), generated in blocks to bound memory."""
    out = np.empty((n, DIM), np.float32)
    for start in range(0, n, block):
        size = min(block, n - start)
        noise = rng.standard_normal((size, DIM), dtype=np.float32) * (NOISE / math.sqrt(DIM))
        part = centres[rng.integers(0, len(centres), size)] + noise
        out[start : start + size] = part / np.linalg.norm(part, axis=1, keepdims=True)
    return out


def random_centres(rng: np.random.Generator) -> np.ndarray:
    """Random unit cluster centres (topics)."""
    c = rng.standard_normal((CLUSTERS, DIM), dtype=np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def _hnsw() -> faiss.Index:
    """The product's large-index configuration (rag.store.vectors.make_faiss)."""
    index = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.hnsw.efSearch = 96
    return index


def _single_query_ms(index: faiss.Index, queries: np.ndarray) -> tuple[float, float]:
    """Median single-query latency with faiss's default OpenMP threads, then with one thread."""
    out = []
    default = os.cpu_count() or 1
    for threads in (default, 1):
        faiss.omp_set_num_threads(threads)
        out.append(measure(_next_query(index, queries), len(queries)).ms)
    faiss.omp_set_num_threads(default)
    return out[0], out[1]


def _next_query(index: faiss.Index, queries: np.ndarray) -> Callable[[], object]:
    """A search for one query, the next one in turn at each call."""
    turns = itertools.cycle(queries)
    return lambda: index.search(next(turns)[None], 10)


def _build(index: faiss.Index, data: np.ndarray) -> float:
    started = time.perf_counter()
    index.add(data)
    return time.perf_counter() - started


def measure_size(n: int, budget: Budget, rng: np.random.Generator, centres: np.ndarray) -> list[tuple]:
    data, queries = clustered(n, rng, centres), clustered(budget.scale_queries, rng, centres)
    flat = faiss.IndexFlatIP(DIM)
    flat_s = _build(flat, data)
    truth = flat.search(queries, 10)[1]
    rows = [(n, "Flat (exact)", "measured", flat_s, n * DIM * 4 / 1e6, *_single_query_ms(flat, queries), "100%")]
    if n <= budget.hnsw_max:
        hnsw = _hnsw()
        hnsw_s = _build(hnsw, data)
        recall = recall_at_10(hnsw, queries, truth)
        mb = len(faiss.serialize_index(hnsw)) / 1e6
        rows.append(
            (n, "HNSW32 ef96", "measured", hnsw_s, mb, *_single_query_ms(hnsw, queries), f"{100 * recall:.1f}%")
        )
    del data, flat
    return rows


def recall_at_10(index: faiss.Index, queries: np.ndarray, truth: np.ndarray) -> float:
    """Share of the exact top 10 (`truth`, rows of ids) that `index` finds for each query, averaged."""
    found = index.search(queries, 10)[1]
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]))


def _extrapolate(base: tuple, n: int) -> tuple:
    """HNSW at size n from the largest measured build: insertion cost ~ log n, memory linear, query ~ log n."""
    m, _, _, build_s, mb, query_ms, one_ms, _ = base
    growth = math.log(n) / math.log(m)
    return (
        n,
        "HNSW32 ef96",
        "EXTRAPOLATED",
        build_s * n / m * growth,
        mb * n / m,
        query_ms * growth,
        one_ms * growth,
        "not measured",
    )


def scale_section(budget: Budget, seed: int = 0) -> tuple[Section, list[tuple]]:
    s = Section("5. FAISS index scale (synthetic, dim 768)")
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # torch may have lowered the shared OpenMP setting
    rng = np.random.default_rng(seed)
    around = random_centres(rng)
    rows: list[tuple] = []
    for n in budget.scale_sizes:
        rows += measure_size(n, budget, rng, around)
        if n > budget.hnsw_max:
            measured = [r for r in rows if r[1].startswith("HNSW") and r[2] == "measured"]
            if measured:
                rows.append(_extrapolate(measured[-1], n))
    s.text(
        f"Unit vectors around {CLUSTERS} random cluster centres (noise norm {NOISE}), {budget.scale_queries} held-out "
        "queries from the same distribution; latency is one query at a time (the product's case), k=10; recall@10 "
        f"against exact search. faiss builds with {faiss.omp_get_max_threads()} threads. The product switches from Flat "
        f"to HNSW at {HNSW_FROM:,} chunks."
    )
    s.table(
        ["chunks", "index", "how", "build s", "memory MB", "query ms", "query ms, 1 faiss thread", "recall@10"],
        rows,
    )
    flat = [r for r in rows if r[1].startswith("Flat")]
    per_chunk_ms = flat[-1][6] / flat[-1][0]
    s.text(
        f"One-thread exact search costs about {per_chunk_ms * 1e6:.0f} ms per million chunks here, so it stays "
        f"within a 30 ms retrieval budget up to about {30 / per_chunk_ms:,.0f} chunks (linear estimate)."
    )
    s.text(
        "Reading: exact search grows linearly with the chunk count and HNSW stays near-constant; on a loaded machine "
        "a single query is faster with one faiss thread (OpenMP threads wait for busy cores). Recommendation: keep "
        "Flat below the switch point when its one-thread latency is within the retrieval budget, HNSW above; call "
        "faiss.omp_set_num_threads(1) for single-query search."
    )
    return s, rows
