"""Index files: load, chunk and embed new or changed files, then save a new index generation atomically.

Each sentence is embedded once; a chunk is found by its best sentence, so chunks need no vectors of their own.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
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

# The version of how a file is read and cut into sentences and chunks; an indexed file read by another version is
# read again by `rag index`, though its bytes did not change (4: no sentence without words, no table of contents).
READING = 4
# (phase, file name, done, total): "reading" counts files read (and OCR'd), "embedding" counts characters of text
# embedded, so that a rate and an ETA mean the same for a text file and a scan.
Progress = Callable[[str, str, int, int], None]


@dataclass
class IndexReport:
    """What an indexing run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one message per unreadable file
    warnings: list[str] = field(default_factory=list)  # one per page read by OCR with a low confidence
    chunks: int = 0
    files: int = 0


def build_info(settings: Settings, embedder: Embedder) -> BuildInfo:
    return BuildInfo(
        embedder=embedder.model_id, dimension=embedder.dimension, chunk_tokens=settings.ingest.chunk_tokens
    )


def open_for_update(settings: Settings, embedder: Embedder, rebuild: bool) -> VectorIndex:
    """The existing index (checked against the settings), or an empty one when rebuilding or new."""
    if rebuild or not storage.exists(settings.store.collection_dir):
        return VectorIndex(build_info(settings, embedder))
    existing = storage.load(settings.store.collection_dir)
    check_compatible(existing.info, embedder, settings.ingest.chunk_tokens)
    return existing


def index_files(
    paths: Iterable[Path | Document],
    settings: Settings,
    embedder: Embedder,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IndexReport:
    """Add or refresh `paths` (files or folders, or documents already loaded from their files) in the index;
    unreadable files are reported, not fatal. New and changed files are read first, then embedded."""
    report, note = IndexReport(), progress or (lambda *_: None)
    files = [f for p in paths for f in ([p] if isinstance(p, Document) else find_files([p]))]
    with storage.writer_lock(settings.store.collection_dir):
        index = open_for_update(settings, embedder, rebuild)
        known = dict(index.files)
        changed: list[tuple[Document, SourceFile]] = []
        for done, file in enumerate(files):
            note("reading", _path(file).name, done, len(files))
            try:
                changed += _read_one(file, index, settings, report)
            except UnreadableDocument as problem:
                report.failed.append(str(problem))
        note("reading", "", len(files), len(files))
        total, done = sum(len(doc.text) for doc, _ in changed), 0
        for doc, record in changed:
            _embed_one(doc, record, index, settings, embedder, _advancer(note, doc.source, done, total))
            (report.updated if doc.source in known else report.added).append(doc.source)
            done += len(doc.text)
        # Saving refreshed sizes and dates too keeps a touched but unchanged file from looking stale.
        if index.files != known or rebuild or not storage.exists(settings.store.collection_dir):
            note("saving", "", total, total)
            storage.save(index, settings.store.collection_dir)
    report.chunks, report.files = len(index.chunks), len(index.files)
    return report


def _read_one(
    given: Path | Document, index: VectorIndex, settings: Settings, report: IndexReport
) -> list[tuple[Document, SourceFile]]:
    """The file loaded with its record when it is new, changed, or was read by an older version of the reader;
    [] when it is unchanged."""
    path = _path(given)
    known = index.files.get(path.name)
    if known and known.reading != READING:  # read by an older version of the reader: read it again
        known = None
    stat = _stat(path)
    if known and (known.size, known.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
        report.unchanged.append(path.name)
        return []
    doc = (
        given
        if isinstance(given, Document)
        else load_document(path, settings.ingest.max_file_mb, settings.ingest.max_pages)
    )
    if known and known.fingerprint == doc.fingerprint:
        index.files[path.name] = replace(known, path=str(path.resolve()), size=stat.st_size, mtime_ns=stat.st_mtime_ns)
        report.unchanged.append(path.name)
        return []
    for page, confidence in doc.ocr:
        if confidence < settings.ingest.ocr_min_confidence:
            where = f"{doc.source} p. {page}" if doc.pages else doc.source
            report.warnings.append(
                f"{where}: OCR confidence {confidence:.0f} is under {settings.ingest.ocr_min_confidence:g}: check its text"
            )
    return [(doc, _record(doc, path, stat))]


def _record(doc: Document, path: Path, stat: os.stat_result) -> SourceFile:
    return SourceFile(
        path=str(path.resolve()),
        fingerprint=doc.fingerprint,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        pages=len(doc.pages),
        characters=len(doc.text),
        language=doc.language,
        date=doc.date,
        indexed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ocr=doc.ocr,
        reading=READING,
    )


def _embed_one(
    doc: Document,
    file: SourceFile,
    index: VectorIndex,
    settings: Settings,
    embedder: Embedder,
    advance: Callable[[int], None],
) -> None:
    """Chunk and embed a document into the index; `advance` gets the characters of it embedded so far."""
    chunks = chunk_document(doc, settings.ingest.chunk_tokens, embedder.count_tokens)
    spans = [span for c in chunks for span in c.sentences]
    unique = list(dict.fromkeys(spans))  # a short sentence that closes one chunk may open the next
    texts = [doc.text[a:b] for a, b in unique]
    reached = list(itertools.accumulate(len(t) for t in texts))
    advance(0)
    vectors = embedder.embed_documents(
        texts, [doc.title] * len(texts), lambda n: advance(len(doc.text) * reached[n - 1] // reached[-1] if n else 0)
    )
    row = {span: i for i, span in enumerate(unique)}
    index.replace_source(doc.source, file, chunks, np.asarray(vectors)[[row[span] for span in spans]])


def _advancer(note: Progress, name: str, start: int, total: int) -> Callable[[int], None]:
    return lambda characters: note("embedding", name, start + characters, total)


def _path(given: Path | Document) -> Path:
    return Path(given.path) if isinstance(given, Document) else given


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise UnreadableDocument(f"{path.name}: cannot read ({exc.strerror})") from None
