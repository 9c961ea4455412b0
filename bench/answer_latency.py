"""`python -m bench.answer_latency [--questions N]`: time to first piece and whole-answer time of `ask()` with the
default models, per outcome, over gold questions taken in turn from each language; writes its section of
bench/REPORT.md."""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from pathlib import Path

from bench.report import Section, write_sections
from bench.timing import load_average
from bench.workload import gold_questions, sample_questions
from rag.answering import ask
from rag.config import load_settings
from rag.pipeline import load_pipeline, make_embedder, make_generator

REPORT = Path(__file__).resolve().parent / "REPORT.md"
FIRST_TOKEN_TARGET_S, ANSWER_TARGET_S = 2.0, 8.0


def measure(count: int) -> tuple[Section, dict]:
    settings = load_settings()
    pipeline = load_pipeline(settings, make_embedder(settings), make_generator(settings))
    pipeline.generator.warm_up()
    ask("warm-up question about ASEAN", pipeline).answer()
    rows = []
    for item in sample_questions(gold_questions(), count):
        started = time.perf_counter()
        response = ask(item.question, pipeline)
        first = next((time.perf_counter() - started for _ in response), None)
        answer = response.answer()
        rows.append((item, first, time.perf_counter() - started, answer.outcome.value))
    return _render(settings.gguf_path.name, rows), {"rows": rows}


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _render(generator: str, rows: list) -> Section:
    s = Section("11. Answer latency with the default generator")
    firsts = [first for _, first, _, _ in rows if first is not None]
    totals = [total for _, _, total, _ in rows]
    s.text(
        f"`ask()` end to end (retrieval, clause focus, draft streamed, checks, and the translated fallback where the "
        f"draft fails) with `{generator}`, warm, one question at a time, {len(rows)} answerable gold questions taken "
        f"in turn from each language; load average at the end {load_average()}. First piece = the draft's first "
        "streamed text.",
    )
    s.table(
        ["", "p50 s", "max s", "target", "met"],
        [
            (
                "first piece",
                _p50(firsts),
                max(firsts, default=0.0),
                f"≤ {FIRST_TOKEN_TARGET_S:g}",
                _p50(firsts) <= FIRST_TOKEN_TARGET_S,
            ),
            ("whole answer", _p50(totals), max(totals), f"≤ {ANSWER_TARGET_S:g}", _p50(totals) <= ANSWER_TARGET_S),
        ],
    )
    by_outcome: dict[str, list[float]] = defaultdict(list)
    for _, _, total, outcome in rows:
        by_outcome[outcome].append(total)
    s.table(
        ["outcome", "questions", "whole answer p50 s"],
        [(name, len(times), _p50(times)) for name, times in sorted(by_outcome.items())],
    )
    s.table(
        ["question", "language", "outcome", "first piece s", "whole answer s"],
        [(item.id, item.lang, outcome, first or "", total) for item, first, total, outcome in rows],
    )
    return s


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.answer_latency", description=__doc__)
    parser.add_argument("--questions", type=int, default=12, help="gold questions to time (default 12)")
    parser.add_argument("--out", type=Path, default=REPORT, help=f"report to update (default {REPORT})")
    args = parser.parse_args()
    section, _ = measure(args.questions)
    write_sections(args.out, [section])
    print(section.markdown())


if __name__ == "__main__":
    main()
