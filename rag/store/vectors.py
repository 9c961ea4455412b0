"""The index in memory: chunks, their sentence vectors (float16, in FAISS), BM25 and how it was built (see storage.py)."""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import faiss
import numpy as np

from rag.engines.protocols import Embedder
from rag.errors import IndexProblem
from rag.records import Chunk
from rag.store.bm25 import BM25, tokenize

swig: Any = faiss  # the SWIG bindings' type stubs miss constructor overloads and some classes

FORMAT = 2  # 2: one float16 vector per sentence; 1 (refused) held float32 chunk and sentence vectors
HNSW_FROM = 50_000  # sentence vectors: exact search below this many, HNSW above
HNSW_EF = 96  # HNSW search breadth (at least the number of sentences asked for)
SENTENCES_PER_CHUNK = 4  # sentences fetched per wanted chunk: a chunk holds about three


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
    """An indexed file: where it was, and what it held when indexed (indexes written before the fields after
    mtime_ns existed load with their defaults)."""

    path: str
    fingerprint: str
    size: int
    mtime_ns: int
    pages: int = 0  # 0 for formats without pages
    characters: int = 0  # of text
    language: str = ""
    date: str | None = None  # the date the document states
    indexed_at: str = ""  # ISO 8601 UTC
    ocr: tuple[tuple[int, float], ...] = ()  # (page, confidence) of each page read by OCR
    reading: int = 0  # the version of reading and chunking it was indexed with (0: before versions were kept)


@dataclass
class VectorIndex:
    """Chunks and one unit vector per sentence, stored as float16 in FAISS and scored in float32.

    Inner product on unit vectors is cosine; a chunk's dense score is the score of its best sentence.
    """

    info: BuildInfo
    chunks: list[Chunk] = field(default_factory=list)
    sentences: Any = None  # FAISS index over the sentence vectors, rows grouped by chunk in chunk order
    files: dict[str, SourceFile] = field(default_factory=dict)
    _bm25: BM25 | None = field(default=None, repr=False)
    _languages: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.sentences is None:
            self.sentences = make_faiss(np.zeros((0, self.info.dimension), np.float32))
        self._starts = [0]  # first sentence row of each chunk, then the total
        self._count(self.chunks)

    def _count(self, chunks: list[Chunk]) -> None:
        for chunk in chunks:
            self._starts.append(self._starts[-1] + len(chunk.sentences))
        if self.sentences.ntotal != self._starts[-1] or self.sentences.d != self.info.dimension:
            raise IndexProblem("index files disagree on the number of sentences: rebuild with `rag index --rebuild`")

    def sentence_rows(self, row: int) -> range:
        """The sentence vector rows of chunk `row`."""
        return range(self._starts[row], self._starts[row + 1])

    def following(self, row: int) -> Chunk | None:
        """The chunk after chunk `row` in its document (chunks are stored in document order), or None."""
        if row + 1 < len(self.chunks) and self.chunks[row + 1].source == self.chunks[row].source:
            return self.chunks[row + 1]
        return None

    def document(self, source: str) -> str:
        """The text of document `source` as its chunks hold it, its title first ("" when the index lacks it)."""
        chunks = [chunk for chunk in self.chunks if chunk.source == source]
        return "\n".join([chunks[0].title, *(chunk.text for chunk in chunks)]) if chunks else ""

    @property
    def bm25(self) -> BM25:
        """Keyword search over the chunks, built on first use."""
        if self._bm25 is None:
            self._bm25 = BM25([c.text for c in self.chunks])
        return self._bm25

    def holds_term(self, term: str) -> bool:
        """Some chunk holds `term` as written: each of its keyword tokens (words, and adjacent words joined, so
        "sshd_config" needs "sshd" next to "config") is in the keyword index's vocabulary. A word may also stand
        split in two adjacent words, as a PDF hyphenates it at a line break ("LoginGrace-\nTime")."""
        vocabulary = self.bm25.postings
        missing = {token for token in tokenize(term) if token not in vocabulary}
        if not missing:
            return True
        split = {pair.replace("_", "") for pair in vocabulary if "_" in pair and pair.replace("_", "") in missing}
        return missing <= split

    @property
    def languages(self) -> np.ndarray:
        """Each chunk's language, to keep keyword search to the question's language."""
        if self._languages is None:
            self._languages = np.array([c.language for c in self.chunks])
        return self._languages

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top-k (chunk row, cosine of its best sentence) pairs for one unit query vector."""
        if not self.chunks:
            return []
        fetch = min(self.sentences.ntotal, k * SENTENCES_PER_CHUNK)
        params = swig.SearchParametersHNSW(efSearch=max(HNSW_EF, fetch)) if _is_hnsw(self.sentences) else None
        scores, ids = self.sentences.search(_row(query), fetch, params=params)
        best: dict[int, float] = {}
        for sentence, score in zip(ids[0], scores[0]):
            if sentence >= 0:
                best.setdefault(bisect.bisect_right(self._starts, sentence) - 1, float(score))
        return list(best.items())[:k]

    def sentence_scores(self, row: int, query: np.ndarray) -> np.ndarray:
        """Cosine between the query and each sentence of chunk `row`, in float32."""
        rows = self.sentence_rows(row)
        return self.sentences.reconstruct_batch(np.arange(rows.start, rows.stop)) @ query.astype(np.float32)

    def vectors(self) -> np.ndarray:
        """All sentence vectors as float32 (a copy)."""
        if not self.sentences.ntotal:
            return np.zeros((0, self.info.dimension), np.float32)
        return self.sentences.reconstruct_n(0, self.sentences.ntotal)

    def replace_source(self, name: str, file: SourceFile, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Drop the chunks of `name` (if any) and append the new ones with their sentence vectors."""
        if name in self.files:  # removal rebuilds the store; adding appends to it
            keep = [i for i, c in enumerate(self.chunks) if c.source != name]
            kept_rows = [j for i in keep for j in self.sentence_rows(i)]
            self.sentences = make_faiss(self.vectors()[kept_rows])
            self.chunks = [self.chunks[i] for i in keep]
            self.__post_init__()
        self.sentences.add(_rows(vectors, self.info.dimension))
        self.chunks += chunks
        self._count(chunks)
        self.files[name] = file
        self._bm25 = self._languages = None

    def remove_source(self, name: str) -> None:
        """Drop the chunks and the record of an indexed file."""
        self.replace_source(name, self.files[name], [], np.zeros((0, self.info.dimension), np.float32))
        del self.files[name]

    def for_saving(self) -> Any:
        """The FAISS index to store: the live one, or an HNSW copy once an exact index has outgrown HNSW_FROM."""
        if self.sentences.ntotal >= HNSW_FROM and not _is_hnsw(self.sentences):
            self.sentences = make_faiss(self.vectors())
        return self.sentences


def make_faiss(vectors: np.ndarray) -> Any:
    """Float16 vectors with inner-product search: exact for small collections, HNSW for large ones."""
    dim = vectors.shape[1]
    fp16 = faiss.ScalarQuantizer.QT_fp16
    if len(vectors) < HNSW_FROM:
        index = swig.IndexScalarQuantizer(dim, fp16, faiss.METRIC_INNER_PRODUCT)
    else:
        index = swig.IndexHNSWSQ(dim, fp16, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = HNSW_EF
    data = _rows(vectors, dim)
    index.train(data)  # float16 needs no training; the call only marks the index ready
    index.add(data)
    return index


def _is_hnsw(index: Any) -> bool:
    return isinstance(index, faiss.IndexHNSW)


def _rows(vectors: np.ndarray | Sequence[float], dim: int) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, dim))


def _row(query: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)


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
