"""What people manage: the collections (one index each), the documents a collection holds, and their removal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.config import COLLECTIONS, DEFAULT_COLLECTION, StoreSettings
from rag.errors import NotFound
from rag.store import storage
from rag.store.vectors import VectorIndex


@dataclass(frozen=True)
class DocumentRow:
    """One indexed file as `rag docs`, the UI and GET /v1/documents show it."""

    name: str
    pages: int  # 0 for formats without pages
    chunks: int
    language: str
    date: str | None
    indexed_at: str  # ISO 8601 UTC ("" in indexes written before it was kept)
    characters: int
    low_ocr_pages: tuple[int, ...]  # pages read by OCR with a confidence under the setting


def collections(index_dir: Path) -> list[str]:
    """The default collection, then every other collection that has an index, by name."""
    folder = index_dir / COLLECTIONS
    others = sorted(p.name for p in folder.iterdir() if storage.exists(p)) if folder.is_dir() else []
    return [DEFAULT_COLLECTION, *others]


def require(settings: StoreSettings) -> None:
    """NotFound, naming the collections there are, when a collection other than the default has no index."""
    if settings.collection != DEFAULT_COLLECTION and not storage.exists(settings.collection_dir):
        known = ", ".join(collections(settings.index_dir))
        raise NotFound(f"no collection {settings.collection!r} (collections: {known})")


def open_index(settings: StoreSettings) -> VectorIndex:
    """The collection's index (see `require`; a missing default index says how to build one)."""
    require(settings)
    return storage.load(settings.collection_dir)


def documents(index: VectorIndex, min_confidence: float) -> list[DocumentRow]:
    """The indexed files by name, with their chunk counts."""
    counts = Counter(chunk.source for chunk in index.chunks)
    first = {chunk.source: chunk for chunk in reversed(index.chunks)}  # language and date of older indexes
    rows = []
    for name, file in sorted(index.files.items()):
        chunk = first.get(name)
        rows.append(
            DocumentRow(
                name=name,
                pages=file.pages,
                chunks=counts[name],
                language=file.language or (chunk.language if chunk else ""),
                date=file.date or (chunk.date if chunk else None),
                indexed_at=file.indexed_at,
                characters=file.characters,
                low_ocr_pages=tuple(page for page, confidence in file.ocr if confidence < min_confidence),
            )
        )
    return rows


def remove(settings: StoreSettings, names: Sequence[str]) -> VectorIndex:
    """Take files (by name) out of the collection's index and save it as a new generation, all or none: a
    crash before the switch leaves the previous generation live. An unknown name raises NotFound. The copy of an
    uploaded file is deleted once the new generation is live; a file indexed from elsewhere is never touched."""
    require(settings)
    with storage.writer_lock(settings.collection_dir):
        index = open_index(settings)
        unknown = [name for name in names if name not in index.files]
        if unknown:
            raise NotFound(f"not in the {settings.collection!r} collection: {', '.join(unknown)} (see `rag docs`)")
        paths = [Path(index.files[name].path) for name in dict.fromkeys(names)]
        for name in dict.fromkeys(names):
            index.remove_source(name)
        storage.save(index, settings.collection_dir)
    uploads = settings.upload_folder.resolve()
    for path in paths:
        if path.parent.resolve() == uploads:
            path.unlink(missing_ok=True)
    return index
