"""Section 3b: indexing throughput, peak memory and index size, for the seeds and a generated multilingual corpus."""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.report import Section
from bench.timing import peak_rss_mb, reset_peak_rss, rss_mb
from bench.workload import Budget
from rag.config import Settings
from rag.engines.protocols import Embedder
from rag.ingest.build import index_files
from rag.ingest.chunk import split_sentences
from rag.ingest.read import find_files, load_document
from rag.store import storage as store

FILE_BYTES = 5_000  # size of each generated document


def synthetic_corpus(seeds: Path, folder: Path, kilobytes: int, seed: int = 0) -> Path:
    """Write new documents of about FILE_BYTES each, recombining seed sentences of one language per document."""
    by_language: dict[str, list[str]] = {}
    for path in find_files([seeds]):
        doc = load_document(path)
        by_language.setdefault(doc.language, []).extend(doc.text[a:b] for a, b in split_sentences(doc.text))
    rng, written, n = random.Random(seed), 0, 0
    folder.mkdir(parents=True, exist_ok=True)
    while written < kilobytes * 1000:
        language = rng.choice(sorted(by_language))
        text = _document(rng, by_language[language], language, min(FILE_BYTES, kilobytes * 1000 - written))
        (folder / f"synthetic_{n:04d}_{language}.txt").write_text(text, encoding="utf-8")
        written, n = written + len(text.encode("utf-8")), n + 1
    return folder


def _document(rng: random.Random, sentences: list[str], language: str, size: int) -> str:
    glue = "" if language == "zh" else " "
    lines = [rng.choice(sentences)[:80], ""]
    while len("\n".join(lines).encode("utf-8")) < size:
        lines.append(glue.join(rng.choice(sentences) for _ in range(4)))
        lines.append("")
    return "\n".join(lines)


def measure_indexing(corpus: Path, settings: Settings, embedder: Embedder) -> dict[str, float]:
    """Index `corpus` from scratch into a temporary folder; time, size and peak RSS during the run."""
    with tempfile.TemporaryDirectory() as tmp:
        run_settings = settings.with_(index_dir=Path(tmp) / "index", corpus_dir=corpus)
        before = rss_mb()
        exact_peak = reset_peak_rss()
        started = time.perf_counter()
        report = index_files([corpus], run_settings, embedder, rebuild=True)
        seconds = time.perf_counter() - started
        peak = peak_rss_mb()
        built = store.load(run_settings.store.index_dir)
        index_bytes = sum(index_file_bytes(run_settings.store.index_dir).values())
    text_mb = sum(p.stat().st_size for p in find_files([corpus])) / 1e6
    return {
        "files": report.files,
        "text MB": text_mb,
        "chunks": len(built.chunks),
        "sentences": built.sentences.ntotal,
        "index bytes": index_bytes,
        "seconds": seconds,
        "rss before MB": before,
        "peak MB": peak,
        "exact peak": exact_peak,
    }


def index_file_bytes(index_dir: Path) -> dict[str, int]:
    """The size of each file of the live index generation in `index_dir`."""
    live = index_dir / store.current(index_dir)
    return {path.name: path.stat().st_size for path in live.iterdir()}


@contextmanager
def seed_files(seeds: Path, n: int | None) -> Iterator[Path]:
    """`seeds`, or with `n` a temporary folder holding copies of its `n` smallest files (a --quick run indexes only
    these)."""
    if not n:
        yield seeds
        return
    with tempfile.TemporaryDirectory() as folder:
        for path in sorted(find_files([seeds]), key=lambda p: p.stat().st_size)[:n]:
            shutil.copy(path, Path(folder) / path.name)
        yield Path(folder)


def indexing_section(settings: Settings, embedder: Embedder, budget: Budget, seeds: Path) -> tuple[Section, dict]:
    s = Section("3b. Indexing throughput, memory and index size")
    results = {}
    with tempfile.TemporaryDirectory() as tmp, seed_files(seeds, budget.seed_files) as indexed:
        synthetic = synthetic_corpus(seeds, Path(tmp) / "synthetic", budget.synthetic_kb)
        for name, corpus in (("seeds", indexed), (f"synthetic {budget.synthetic_kb} KB", synthetic)):
            results[name] = measure_indexing(corpus, settings, embedder)
    rows = []
    for name, r in results.items():
        rows.append(
            (
                name,
                r["files"],
                r["text MB"] * 1000,
                r["chunks"],
                r["sentences"],
                r["seconds"],
                r["chunks"] / r["seconds"],
                r["sentences"] / r["seconds"],
                r["text MB"] * 1000 / r["seconds"],
                r["rss before MB"],
                r["peak MB"],
                r["index bytes"] / r["chunks"],
            )
        )
    s.text(
        "The product's indexing with its embedding model already loaded. Each unique sentence is embedded once "
        "(texts embedded = unique sentences ≤ sentences); the index stores one float16 vector per sentence. The generated corpus recombines seed sentences "
        "(Vietnamese and Chinese) into new ~5 KB documents. RSS is the whole process (both models loaded); "
        + (
            "the peak is reset before each run (Linux VmHWM)."
            if all(r["exact peak"] for r in results.values())
            else "the peak could not be reset, so it is the process's lifetime peak."
        )
    )
    s.table(
        [
            "corpus",
            "files",
            "text KB",
            "chunks",
            "sentences",
            "seconds",
            "chunks/s",
            "sentences/s",
            "KB/s",
            "RSS before MB",
            "peak RSS MB",
            "index bytes per chunk",
        ],
        rows,
    )
    return s, results
