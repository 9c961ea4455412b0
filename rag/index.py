"""The index in memory: chunks, their FAISS vectors, sentence vectors, BM25 and how it was built (see storage.py)."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any

import faiss
import numpy as np

from rag.errors import IndexProblem
from rag.lexical import BM25
from rag.models import Embedder
from rag.records import Chunk

FORMAT = 1
HNSW_FROM = 50_000  # exact search below this many chunks, HNSW above


@dataclass(frozen=True)
class BuildInfo:
    """How an index was built; an index is only usable with the same embedder and chunker."""

    embedder: str
    dimension: int
    chunk_tokens: int
    normalized: bool = True
    format: int = FORMAT


@dataclass(frozen=True)
class SourceFile:
    """An indexed file: where it was, and what it held when indexed."""

    path: str
    fingerprint: str
    size: int
    mtime_ns: int


@dataclass
class VectorIndex:
    """Chunks, their vectors in FAISS (inner product on unit vectors = cosine) and sentence vectors."""

    info: BuildInfo
    chunks: list[Chunk] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    sentence_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    files: dict[str, SourceFile] = field(default_factory=dict)
    _faiss: Any = None
    _bm25: BM25 | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        dim = self.info.dimension
        self.vectors = self.vectors.reshape(-1, dim).astype(np.float32)
        self.sentence_vectors = self.sentence_vectors.reshape(-1, dim).astype(np.float32)
        starts = np.cumsum([0] + [len(c.sentences) for c in self.chunks])
        self.sentence_rows = [range(int(a), int(b)) for a, b in itertools.pairwise(starts)]
        if len(self.vectors) != len(self.chunks) or len(self.sentence_vectors) != starts[-1]:
            raise IndexProblem("index files disagree on the number of chunks: rebuild with `rag index --rebuild`")

    @property
    def faiss_index(self) -> Any:
        if self._faiss is None:
            self._faiss = make_faiss(self.vectors)
        return self._faiss

    @property
    def bm25(self) -> BM25:
        """Keyword search over the chunks, built on first use."""
        if self._bm25 is None:
            self._bm25 = BM25([c.text for c in self.chunks])
        return self._bm25

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top-k (row, cosine) pairs for one unit query vector."""
        if not self.chunks:
            return []
        scores, rows = self.faiss_index.search(query.reshape(1, -1).astype(np.float32), min(k, len(self.chunks)))
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    def replace_source(
        self, name: str, file: SourceFile, chunks: list[Chunk], vectors: np.ndarray, sentence_vectors: np.ndarray
    ) -> None:
        """Drop the chunks of `name` (if any) and append the new ones."""
        keep = [i for i, c in enumerate(self.chunks) if c.source != name]
        keep_sentences = [j for i in keep for j in self.sentence_rows[i]]
        self.chunks = [self.chunks[i] for i in keep] + chunks
        self.vectors = np.vstack([self.vectors[keep], vectors.reshape(-1, self.info.dimension)])
        self.sentence_vectors = np.vstack(
            [self.sentence_vectors[keep_sentences], sentence_vectors.reshape(-1, self.info.dimension)]
        )
        self.files[name] = file
        self._faiss = self._bm25 = None
        self.__post_init__()

    def remove_source(self, name: str) -> None:
        empty = np.zeros((0, self.info.dimension), np.float32)
        self.replace_source(name, self.files[name], [], empty, empty)
        del self.files[name]


def make_faiss(vectors: np.ndarray) -> Any:
    """Exact inner-product search for small collections, HNSW for large ones."""
    dim = vectors.shape[1]
    if len(vectors) < HNSW_FROM:
        index: faiss.Index = faiss.IndexFlatIP(dim)
    else:
        hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = 80
        hnsw.hnsw.efSearch = 96
        index = hnsw
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def check_compatible(info: BuildInfo, embedder: Embedder, chunk_tokens: int) -> None:
    """Refuse an index built with another embedder, vector size or chunk size.

    The names are compared first, so a mismatch is reported without loading the embedding model.
    """
    built = f"index was built with {info.embedder} (dim {info.dimension}, {info.chunk_tokens} tokens/chunk)"
    if (info.embedder, info.chunk_tokens) != (embedder.model_id, chunk_tokens):
        raise IndexProblem(
            f"{built} but settings ask for {embedder.model_id} at {chunk_tokens} tokens/chunk: run `rag index --rebuild`"
        )
    if info.dimension != embedder.dimension:
        raise IndexProblem(
            f"{built} but {embedder.model_id} makes {embedder.dimension}-dim vectors: run `rag index --rebuild`"
        )


def stale_sources(index: VectorIndex) -> list[str]:
    """Indexed files that were changed or deleted since indexing (judged by size and mtime)."""
    stale = []
    for name, file in index.files.items():
        try:
            stat = os.stat(file.path)
        except OSError:
            stale.append(name)
            continue
        if stat.st_size != file.size or stat.st_mtime_ns != file.mtime_ns:
            stale.append(name)
    return sorted(stale)
