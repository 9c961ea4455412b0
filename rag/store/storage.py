"""Index storage: write a new generation folder and switch to it atomically; load it back or say how to recover.

Layout of an index folder:
    CURRENT          name of the live generation folder (replaced atomically, last)
    gen-<id>/        manifest.json, chunks.jsonl, sentences.faiss (float16 sentence vectors)
    .lock            held while an indexer writes
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any, TypeVar

import faiss
import numpy as np

from rag.errors import IndexProblem
from rag.records import Chunk
from rag.store.vectors import FORMAT, BuildInfo, SourceFile, VectorIndex


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
    _write(folder / "sentences.faiss", faiss.serialize_index(index.for_saving()).tobytes())


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


def current(index_dir: Path) -> str:
    """The live generation's name, "" when there is none: readers compare it to notice a new index."""
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return ""


# What damaged files raise; a wrong JSON shape is turned into ValueError where it is read, so that a
# TypeError or AttributeError from a bug in the code is never reported as a damaged index.
_DAMAGE = (OSError, ValueError, KeyError, RuntimeError, EOFError)


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
    manifest = _object(json.loads((generation / "manifest.json").read_text(encoding="utf-8")))
    info = _record(BuildInfo, manifest["build"])
    if info.format != FORMAT:
        raise IndexProblem(
            f"index in {generation.parent} has format {info.format}, expected {FORMAT}: run `rag index --rebuild`"
        )
    with open(generation / "chunks.jsonl", encoding="utf-8") as handle:
        chunks = [_chunk(json.loads(line)) for line in handle]
    sentences = faiss.deserialize_index(np.fromfile(generation / "sentences.faiss", dtype=np.uint8))
    files = {k: _source_file(v) for k, v in _object(manifest["files"]).items()}
    return VectorIndex(info, chunks, sentences, files)


def _chunk(data: Any) -> Chunk:
    chunk = _record(Chunk, data)
    try:
        sentences = tuple((int(a), int(b)) for a, b in chunk.sentences)
        page_breaks = tuple(int(offset) for offset in chunk.page_breaks)  # absent from indexes written before pages
    except (TypeError, ValueError):
        raise ValueError("a chunk's sentences or page breaks are not offsets") from None
    return replace(chunk, sentences=sentences, page_breaks=page_breaks)


def _source_file(data: Any) -> SourceFile:
    file = _record(SourceFile, data)
    try:
        ocr = tuple((int(page), float(confidence)) for page, confidence in file.ocr)
    except (TypeError, ValueError):
        raise ValueError("a file's OCR confidences are not (page, confidence) pairs") from None
    return replace(file, ocr=ocr)


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, found {type(data).__name__}")
    return data


R = TypeVar("R")
_SCALARS = {"int": int, "str": str, "bool": bool}


def _record(kind: type[R], data: Any) -> R:
    """A record from its JSON object; missing or unknown fields and wrong scalar types raise ValueError."""
    try:
        record: Any = kind(**_object(data))
    except TypeError as exc:  # the dataclass constructor's complaint about the fields
        raise ValueError(f"{kind.__name__}: {exc}") from None
    for f in fields(record):
        expected = _SCALARS.get(str(f.type))
        if expected and not isinstance(getattr(record, f.name), expected):
            raise ValueError(f"{kind.__name__}.{f.name} is not {f.type}")
    return record
