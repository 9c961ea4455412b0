"""Index files: load, chunk and embed new or changed files, then save a new index generation atomically.

Each sentence is embedded once; a chunk is found by its best sentence, so chunks need no vectors of their own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.engines.protocols import Embedder
from rag.errors import UnreadableDocument
from rag.ingest.chunk import chunk_document
from rag.ingest.read import find_files, load_document
from rag.records import Document
from rag.store import storage
from rag.store.vectors import BuildInfo, SourceFile, VectorIndex, check_compatible

Progress = Callable[[str, int, int], None]  # (file name, bytes done, bytes total), advancing as sentences embed


@dataclass
class IndexReport:
    """What an indexing run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one message per unreadable file
    chunks: int = 0
    files: int = 0


def build_info(settings: Settings, embedder: Embedder) -> BuildInfo:
    return BuildInfo(embedder=embedder.model_id, dimension=embedder.dimension, chunk_tokens=settings.chunk_tokens)


def open_for_update(settings: Settings, embedder: Embedder, rebuild: bool) -> VectorIndex:
    """The existing index (checked against the settings), or an empty one when rebuilding or new."""
    if rebuild or not storage.exists(settings.index_dir):
        return VectorIndex(build_info(settings, embedder))
    existing = storage.load(settings.index_dir)
    check_compatible(existing.info, embedder, settings.chunk_tokens)
    return existing


def index_files(
    paths: Iterable[Path | Document],
    settings: Settings,
    embedder: Embedder,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IndexReport:
    """Add or refresh `paths` (files or folders, or documents already loaded from their files) in the index;
    unreadable files are reported, not fatal."""
    report = IndexReport()
    files = [f for p in paths for f in ([p] if isinstance(p, Document) else find_files([p]))]
    sizes = [_size(_path(file)) for file in files]
    total, done = sum(sizes), 0
    with storage.writer_lock(settings.index_dir):
        index = open_for_update(settings, embedder, rebuild)
        known = dict(index.files)
        for file, size in zip(files, sizes):
            advance = _advancer(progress, _path(file).name, done, size, total)
            advance(0.0)
            try:
                _index_one(file, index, settings, embedder, report, advance)
            except UnreadableDocument as problem:
                report.failed.append(str(problem))
            done += size
        # Saving refreshed sizes and dates too keeps a touched but unchanged file from looking stale.
        if index.files != known or rebuild or not storage.exists(settings.index_dir):
            storage.save(index, settings.index_dir)
        if progress:
            progress("", total, total)
    report.chunks, report.files = len(index.chunks), len(index.files)
    return report


def _index_one(
    given: Path | Document,
    index: VectorIndex,
    settings: Settings,
    embedder: Embedder,
    report: IndexReport,
    advance: Callable[[float], None],
) -> None:
    path = _path(given)
    known = index.files.get(path.name)
    stat = _stat(path)
    if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
        report.unchanged.append(path.name)
        return
    doc = given if isinstance(given, Document) else load_document(path, settings.max_file_mb, settings.max_pages)
    file = SourceFile(str(path.resolve()), doc.fingerprint, stat.st_size, stat.st_mtime_ns)
    if known and known.fingerprint == doc.fingerprint:
        index.files[path.name] = file
        report.unchanged.append(path.name)
        return
    chunks = chunk_document(doc, settings.chunk_tokens, embedder.count_tokens)
    spans = [span for c in chunks for span in c.sentences]
    unique = list(dict.fromkeys(spans))  # a short sentence that closes one chunk may open the next
    texts = [doc.text[a:b] for a, b in unique]
    vectors = embedder.embed_documents(texts, [doc.title] * len(texts), lambda n: advance(n / len(texts)))
    row = {span: i for i, span in enumerate(unique)}
    index.replace_source(doc.source, file, chunks, np.asarray(vectors)[[row[span] for span in spans]])
    (report.updated if known else report.added).append(path.name)


def _advancer(progress: Progress | None, name: str, start: int, size: int, total: int) -> Callable[[float], None]:
    """Report the share of one file's bytes embedded so far as bytes of the whole run."""

    def advance(share: float) -> None:
        if progress:
            progress(name, start + round(share * size), total)

    return advance


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _path(given: Path | Document) -> Path:
    return Path(given.path) if isinstance(given, Document) else given


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise UnreadableDocument(f"{path.name}: cannot read ({exc.strerror})") from None
