"""Index files: load, chunk and embed new or changed files, then save a new index generation atomically."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag import storage
from rag.chunking import chunk_document
from rag.config import Settings
from rag.errors import UnreadableDocument
from rag.index import BuildInfo, SourceFile, VectorIndex, check_compatible
from rag.loading import find_files, load_document
from rag.models import Embedder
from rag.records import Document

Progress = Callable[[str, int, int], None]  # (file name, files done, files total)


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
    with storage.writer_lock(settings.index_dir):
        index = open_for_update(settings, embedder, rebuild)
        known = dict(index.files)
        for done, file in enumerate(files):
            if progress:
                progress(_path(file).name, done, len(files))
            try:
                _index_one(file, index, settings, embedder, report)
            except UnreadableDocument as problem:
                report.failed.append(str(problem))
        # Saving refreshed sizes and dates too keeps a touched but unchanged file from looking stale.
        if index.files != known or rebuild or not storage.exists(settings.index_dir):
            storage.save(index, settings.index_dir)
        if progress:
            progress("", len(files), len(files))
    report.chunks, report.files = len(index.chunks), len(index.files)
    return report


def _index_one(
    given: Path | Document, index: VectorIndex, settings: Settings, embedder: Embedder, report: IndexReport
) -> None:
    path = _path(given)
    known = index.files.get(path.name)
    stat = _stat(path)
    if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
        report.unchanged.append(path.name)
        return
    doc = given if isinstance(given, Document) else load_document(path, settings.max_file_mb)
    file = SourceFile(str(path.resolve()), doc.fingerprint, stat.st_size, stat.st_mtime_ns)
    if known and known.fingerprint == doc.fingerprint:
        index.files[path.name] = file
        report.unchanged.append(path.name)
        return
    chunks = chunk_document(doc, settings.chunk_tokens, embedder.count_tokens)
    sentences = [doc.text[a:b] for c in chunks for a, b in c.sentences]
    vectors = embedder.embed_documents([c.text for c in chunks], [doc.title] * len(chunks))
    sentence_vectors = embedder.embed_documents(sentences, [doc.title] * len(sentences))
    index.replace_source(doc.source, file, chunks, vectors, np.asarray(sentence_vectors))
    (report.updated if known else report.added).append(path.name)


def _path(given: Path | Document) -> Path:
    return Path(given.path) if isinstance(given, Document) else given


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise UnreadableDocument(f"{path.name}: cannot read ({exc.strerror})") from None
