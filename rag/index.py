"""The on-disk index: FAISS vectors, chunk records and the settings it was built with, written atomically.

Layout of an index folder:
    CURRENT          name of the live generation folder (replaced atomically, last)
    gen-<id>/        manifest.json, chunks.jsonl, chunks.faiss, sentences.npy
    .lock            held while an indexer writes
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.errors import IndexProblem
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
        self._faiss = None
        self.__post_init__()

    def remove_source(self, name: str) -> None:
        empty = np.zeros((0, self.info.dimension), np.float32)
        self.replace_source(name, self.files[name], [], empty, empty)
        del self.files[name]


def make_faiss(vectors: np.ndarray) -> Any:
    """Exact inner-product search for small collections, HNSW for large ones."""
    dim = vectors.shape[1]
    if len(vectors) < HNSW_FROM:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 96
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's write lock; refuse at once when another indexer has it."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(index_dir / ".lock", "w")  # noqa: SIM115 - closed below, after the body has run
    except OSError as exc:
        raise IndexProblem(f"cannot write the index in {index_dir} ({exc.strerror})") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexProblem(f"another process is writing the index in {index_dir}; try again when it ends") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save(index: VectorIndex, index_dir: Path) -> Path:
    """Write a new generation folder, then switch CURRENT to it atomically; old generations are removed.

    A failed write (disk full, killed process) leaves CURRENT, and so the previous index, untouched.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    generation = index_dir / f"gen-{time.time_ns()}-{os.getpid()}"
    tmp = index_dir / f".tmp-{generation.name}"
    try:
        _write_generation(index, tmp)
        tmp.rename(generation)
        _write(index_dir / "CURRENT.tmp", generation.name.encode())
        os.replace(index_dir / "CURRENT.tmp", index_dir / "CURRENT")
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise IndexProblem(
            f"could not write the index in {index_dir} ({exc.strerror}); the previous index is unchanged"
        ) from None
    _fsync_dir(index_dir)
    for old in index_dir.iterdir():
        if old.is_dir() and old.name != generation.name and old.name.startswith(("gen-", ".tmp-gen-")):
            shutil.rmtree(old, ignore_errors=True)
    return generation


def _write_generation(index: VectorIndex, folder: Path) -> None:
    folder.mkdir()
    manifest = {
        "build": asdict(index.info),
        "files": {k: asdict(v) for k, v in index.files.items()},
        "chunks": len(index.chunks),
    }
    _write(folder / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    _write(
        folder / "chunks.jsonl",
        "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in index.chunks).encode(),
    )
    _write(folder / "chunks.faiss", faiss.serialize_index(make_faiss(index.vectors)).tobytes())
    with open(folder / "sentences.npy", "wb") as handle:
        np.save(handle, index.sentence_vectors)
        handle.flush()
        os.fsync(handle.fileno())


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def exists(index_dir: Path) -> bool:
    return (index_dir / "CURRENT").is_file()


_DAMAGE = (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError, EOFError)


def load(index_dir: Path) -> VectorIndex:
    """Load the live generation; a missing or damaged index raises IndexProblem saying how to recover."""
    if not exists(index_dir):
        raise IndexProblem(f"no index in {index_dir}: build one with `rag index`")
    current, problem = "", None
    for _ in range(3):
        try:
            current = (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
            return _read_generation(index_dir / current)
        except _DAMAGE as exc:
            problem = exc
        if not _switched(index_dir, current):
            break  # else a writer replaced the generation while we read it: read the new one
    raise IndexProblem(
        f"index in {index_dir} is damaged ({type(problem).__name__}): rebuild it with `rag index --rebuild`"
    )


def _switched(index_dir: Path, current: str) -> bool:
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip() != current
    except (OSError, ValueError):
        return False


def _read_generation(generation: Path) -> VectorIndex:
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    info = BuildInfo(**manifest["build"])
    if info.format != FORMAT:
        raise IndexProblem(
            f"index in {generation.parent} has format {info.format}, expected {FORMAT}: run `rag index --rebuild`"
        )
    with open(generation / "chunks.jsonl", encoding="utf-8") as handle:
        chunks = [_chunk(json.loads(line)) for line in handle]
    flat = faiss.deserialize_index(np.fromfile(generation / "chunks.faiss", dtype=np.uint8))
    vectors = flat.reconstruct_n(0, flat.ntotal) if flat.ntotal else np.zeros((0, info.dimension), np.float32)
    sentence_vectors = np.load(generation / "sentences.npy")
    files = {k: SourceFile(**v) for k, v in manifest["files"].items()}
    return VectorIndex(info, chunks, vectors, sentence_vectors, files, flat)


def _chunk(record: dict[str, Any]) -> Chunk:
    record["sentences"] = tuple(tuple(s) for s in record["sentences"])
    return Chunk(**record)


def check_compatible(index: VectorIndex, expected: BuildInfo) -> None:
    """Refuse an index built with another embedder or chunker."""
    if index.info != expected:
        raise IndexProblem(
            f"index was built with {index.info.embedder} (dim {index.info.dimension}, {index.info.chunk_tokens} tokens/chunk) "
            f"but settings ask for {expected.embedder} (dim {expected.dimension}, {expected.chunk_tokens}): run `rag index --rebuild`"
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
