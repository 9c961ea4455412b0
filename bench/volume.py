"""`python -m bench.volume [--mb 20]`: index a large real multilingual corpus plus the seeds, then ask the gold
questions over it; writes bench/VOLUME.md and can be resumed (files already indexed are skipped).

Indexing runs in groups of files, each saved as a new index generation, and every group's numbers go to
cache/volume.jsonl at once, so a stopped run still reports how far it got.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.corpus import build
from bench.indexing import index_file_bytes
from bench.report import Section
from bench.timing import load_average, peak_rss_mb, rss_mb
from bench.workload import gold_questions, gold_rank, recall_at
from rag.answer.ask import ask
from rag.config import Settings, load_settings
from rag.engines.protocols import Embedder
from rag.ingest.build import index_files
from rag.ingest.read import find_files
from rag.pipeline import Pipeline, load_pipeline, make_embedder

GROUP_MB = 1.0
OUT = Path(__file__).resolve().parent / "VOLUME.md"


def index_in_groups(
    files: list[Path], settings: Settings, embedder: Embedder, log: Path, group_mb: float = GROUP_MB
) -> None:
    """Index `files` a group of about `group_mb` at a time, logging text KB, seconds, chunks and peak RSS."""
    group: list[Path] = []
    size = 0
    for path in files:
        group.append(path)
        size += path.stat().st_size
        if size >= group_mb * 1e6 or path == files[-1]:
            started = time.perf_counter()
            report = index_files(group, settings, embedder)
            seconds = time.perf_counter() - started
            done = len(report.added) + len(report.updated)
            row = {
                "kb": size / 1000,
                "files": done,
                "seconds": seconds,
                "chunks": report.chunks,
                "peak_rss_mb": peak_rss_mb(),
                "load": load_average(),
                "time": time.time(),
            }
            if done:
                with log.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
                print(f"[volume] {row}", flush=True)
            group, size = [], 0


def ask_gold(pipeline: Pipeline, limit_answers: int) -> dict:
    """Retrieval for every gold question (latency, recall of the gold source), full answers for a few."""
    gold = gold_questions()
    retrieval_ms, ranks = [], []
    for item in gold:
        started = time.perf_counter()
        hits = pipeline.retrieve(item.question).hits
        retrieval_ms.append((time.perf_counter() - started) * 1000)
        ranks.append(gold_rank(hits, item))
    answers = [ask(item.question, pipeline).answer().latency_s for item in gold[:limit_answers]]
    return {
        "questions": len(gold),
        "retrieval p50 ms": float(np.percentile(retrieval_ms, 50)),
        "retrieval p95 ms": float(np.percentile(retrieval_ms, 95)),
        "recall@1": recall_at(ranks, 1),
        "recall@5": recall_at(ranks, 5),
        "answers": len(answers),
        "answer p50 s": float(np.percentile(answers, 50)) if answers else None,
        "answer p95 s": float(np.percentile(answers, 95)) if answers else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.volume", description=__doc__)
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size in MB of text (default 20)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "rag-bench", help="corpus and index")
    parser.add_argument("--answers", type=int, default=12, help="gold questions answered in full (default 12)")
    parser.add_argument(
        "--group-mb", type=float, default=GROUP_MB, help=f"MB indexed per saved group (default {GROUP_MB})"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    settings = load_settings(index_dir=args.cache / "index")
    corpus = build(args.cache, args.mb)
    embedder = make_embedder(settings.engines)
    log = args.cache / "volume.jsonl"
    files = find_files([settings.store.corpus_dir]) + find_files([corpus])
    index_in_groups(files, settings, embedder, log, args.group_mb)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    before = rss_mb()
    pipeline = load_pipeline(settings, embedder)
    _ = pipeline.index.bm25, pipeline.index.languages  # built once before timing, as a warm server has them
    results = ask_gold(pipeline, args.answers)
    results["rss after load MB"] = rss_mb()
    results["rss before load MB"] = before
    write_report(args.out, rows, index_file_bytes(settings.store.index_dir), pipeline, results)
    return 0


def write_report(out: Path, rows: list[dict], sizes: dict[str, int], pipeline: Pipeline, results: dict) -> None:
    index = pipeline.index
    chunks, sentences = len(index.chunks), index.sentences.ntotal
    kb, seconds = sum(r["kb"] for r in rows), sum(r["seconds"] for r in rows)
    s = Section("Volume run")
    s.table(
        ["quantity", "value"],
        [
            ("text indexed, MB (files on disk)", kb / 1000),
            ("files", len(index.files)),
            ("chunks / sentences", f"{chunks:,} / {sentences:,}"),
            ("indexing seconds (load, chunk, embed, save; groups of ~1 MB)", seconds),
            ("text KB/s", kb / seconds),
            ("peak RSS while indexing, MB", max(r["peak_rss_mb"] for r in rows)),
            ("load average during the run (first / last group)", f"{rows[0]['load']} → {rows[-1]['load']}"),
            ("FAISS store", type(index.sentences).__name__),
            *((f"index file {name}, bytes per chunk", size / chunks) for name, size in sorted(sizes.items())),
            ("index bytes per chunk, all files", sum(sizes.values()) / chunks),
            *((k, v) for k, v in results.items()),
        ],
    )
    out.write_text(s.markdown(), encoding="utf-8")
    print(s.markdown())


if __name__ == "__main__":
    raise SystemExit(main())
