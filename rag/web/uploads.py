"""Document upload: check each file once, keep it under a safe name, index it, swap in the new index."""

from __future__ import annotations

import re
import shutil
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import gradio as gr

from rag.config import Settings
from rag.errors import RagError, UnreadableDocument
from rag.ingest.build import Progress, index_files
from rag.ingest.read import SUFFIXES, load_document
from rag.pipeline import load_pipeline
from rag.records import Document
from rag.store import storage
from rag.store.vectors import SourceFile
from rag.web.service import Service


def safe_name(name: str) -> str:
    """A plain file name from an uploaded one: no folders, no leading dots, only word characters, '.', '-'."""
    given = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    base = re.sub(r"[^\w.\-]+", "_", given).lstrip("._")[:120]
    if not base or Path(base).suffix.lower() not in SUFFIXES:
        kinds = ", ".join(sorted(SUFFIXES))
        raise UnreadableDocument(f"{given or '(no name)'}: only {kinds} files can be uploaded")
    return base


def stage_upload(source: Path, settings: Settings, indexed: Mapping[str, SourceFile]) -> Document:
    """Load an uploaded file (refusing binary, undecodable, empty and oversized ones before anything is kept),
    copy it into the collection's upload folder and return it as loaded, under its kept path."""
    name = safe_name(str(source))
    if source.stat().st_size > settings.ingest.max_file_mb * 1024 * 1024:
        raise UnreadableDocument(f"{name}: larger than the {settings.ingest.max_file_mb:g} MB limit")
    document = load_document(source, settings.ingest.max_file_mb, settings.ingest.max_pages)
    upload_dir = settings.store.upload_folder.resolve()
    known = indexed.get(name)
    if known and Path(known.path).parent != upload_dir:  # never replace a corpus file of the same name
        name = f"upload_{name}"
    upload_dir.mkdir(parents=True, exist_ok=True)
    target = upload_dir / name
    shutil.copyfile(source, target)
    return replace(document, source=name, path=str(target))


def upload(
    service: Service,
    files: Sequence[str | Path] | None,
    progress: Callable[..., object] | None = None,
    collection: str = "",
) -> str:
    """Index uploaded files into a collection (a new one is made), then swap in a pipeline that searches them;
    returns a Markdown report."""
    if not files:
        raise gr.Error(f"Choose one or more {', '.join(sorted(SUFFIXES))} files to upload.")
    try:
        settings = service.settings_for(collection or service.settings.store.collection)
        indexed = (
            service.pipeline_for(settings.store.collection).index.files
            if storage.exists(settings.store.collection_dir)
            else {}
        )
    except RagError as problem:
        raise gr.Error(str(problem)) from None
    staged, problems = [], []
    for file in files:
        try:
            staged.append(stage_upload(Path(file), settings, indexed))
        except UnreadableDocument as problem:
            problems.append(str(problem))
        except OSError as problem:  # the server's temporary path stays out of the message
            problems.append(f"{Path(file).name}: cannot read ({problem.strerror})")
    report = None
    if staged:
        with service.indexing:
            models = service.pipeline
            try:
                report = index_files(staged, settings, models.embedder, progress=_progress(progress))
                service.replace(load_pipeline(settings, models.embedder, models.generator))
            except RagError as problem:
                raise gr.Error(str(problem)) from None
        problems += report.failed
    lines = []
    if report and (report.added or report.updated or report.unchanged):
        done = report.added + report.updated + report.unchanged
        lines.append(f"Indexed {', '.join(f'`{n}`' for n in done)}: the index now holds {report.files} documents.")
    lines += [f"Warning: {w}" for w in report.warnings] if report else []
    lines += [f"Skipped {p}" for p in problems]
    return "\n\n".join(lines)


def _progress(progress: Callable[..., object] | None) -> Progress | None:
    """Gradio's progress bar: files read, then characters embedded with the time left, as the CLI shows them."""
    if progress is None:
        return None
    started = {"embedding": 0.0}

    def report(phase: str, name: str, done: int, total: int) -> None:
        share = done / max(total, 1)
        if phase == "reading":
            progress(share, desc=f"Reading {name} (file {done + 1} of {total})" if name else f"Read {total} files")
        elif phase == "embedding":
            started["embedding"] = started["embedding"] or time.monotonic()
            left = eta(done, total, time.monotonic() - started["embedding"])
            progress(share, desc=f"Embedding {name}: {done:,} of {total:,} characters{left}")
        else:
            progress(1.0, desc="Saving the index")

    return report


def eta(done: int, total: int, elapsed_s: float) -> str:
    """ ", about N s left" from the rate so far; "" before there is a rate."""
    if done <= 0 or elapsed_s <= 0:
        return ""
    return f", about {(total - done) * elapsed_s / done:.0f} s left"
