"""`python -m bench.answer_latency [--questions N]`: time to first piece and whole-answer time of `ask()` with the
default models, per outcome, over gold questions taken in turn from each language, the checks of each draft
with and without remembering the vectors they made, and an answer's first piece after another answer and after a
translation, whole drafts with and without each token's probability noted, and the first piece with and without
the vectors of earlier questions remembered; writes its section of bench/REPORT.md."""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

from bench.report import Section, write_sections
from bench.timing import load_average
from bench.workload import gold_questions, sample_questions
from rag.answer.ask import ask, verify
from rag.answer.prompt import Prompt, build_prompt, translation_prompt
from rag.config import load_settings
from rag.engines import llama as generation
from rag.engines.protocols import Embedder, Generator, RememberingEmbedder, joined
from rag.evaluation import GoldItem
from rag.pipeline import Pipeline, load_pipeline, make_embedder, make_generator
from rag.records import Answer

REPORT = Path(__file__).resolve().parent / "REPORT.md"
FIRST_TOKEN_TARGET_S, ANSWER_TARGET_S = 2.0, 8.0
CHECK_REPEATS = 3
SWITCH_PAIRS = 6  # pairs of consecutive answers timed after a translation


Row = tuple[GoldItem, float | None, float, Answer]  # question, first piece s, whole answer s, answer


def measure(count: int) -> tuple[Section, dict]:
    settings = load_settings()
    embedder = make_embedder(settings)  # the pipeline wraps it in a RememberingEmbedder
    pipeline = load_pipeline(settings, embedder, make_generator(settings))
    pipeline.generator.warm_up()
    ask("warm-up question about ASEAN", pipeline).answer()
    rows: list[Row] = []
    for item in sample_questions(gold_questions(), count):
        started = time.perf_counter()
        response = ask(item.question, pipeline)
        first = next((time.perf_counter() - started for _ in response), None)
        answer = response.answer()
        rows.append((item, first, time.perf_counter() - started, answer))
    checks: dict[str, list[float]] = {"plain": [], "remembering": []}
    for *_, answer in rows:
        if answer.draft:
            for name, seconds in check_times(answer, pipeline, embedder).items():
                checks[name].append(seconds)
    drafted = [answer for *_, answer in rows if answer.passages]  # the answers whose draft was generated
    switches = switch_times(drafted, pipeline)
    noting = noting_times(drafted, pipeline)
    memory = memory_times(drafted, pipeline, embedder)
    section = _render(settings.gguf_path.name, rows, checks, switches, noting, memory)
    return section, {"rows": rows, "checks": checks}


def memory_times(drafted: list[Answer], pipeline: Pipeline, embedder: Embedder) -> dict[str, list[float]]:
    """First piece of `ask()` for the same questions with an embedder that remembers nothing yet and with the
    pipeline's, which remembers the vectors of every question before (the passages' clauses among them),
    alternated."""
    times: dict[str, list[float]] = {"nothing remembered": [], "earlier questions remembered": []}
    for answer in drafted:
        for name in times:
            memory = RememberingEmbedder(embedder) if name == "nothing remembered" else pipeline.embedder
            started = time.perf_counter()
            response = ask(answer.question, replace(pipeline, embedder=memory))
            next(iter(response), None)
            times[name].append(time.perf_counter() - started)
            response.close()
    return times


def switch_times(drafted: list[Answer], pipeline: Pipeline) -> dict[str, list[float]]:
    """First piece of an answer's draft, for consecutive pairs of answers: right after the first answer, after the
    first answer and a translation, and with the instructions read again, as an answer after a translation did when
    llama.cpp kept only the context of the last prompt (a translation shares just the chat template's first tokens
    with an answer)."""
    generator = pipeline.generator
    times: dict[str, list[float]] = {"after an answer": [], "after a translation": [], "instructions read again": []}
    for before, after in list(pairwise(drafted))[:SWITCH_PAIRS]:
        first, second = (build_prompt(a.question, a.passages, a.language) for a in (before, after))
        translation = translation_prompt(before.passages[0].text, before.language)
        for name in times:
            _first_piece(generator, first)
            if name == "after a translation":
                _first_piece(generator, translation)
            elif name == "instructions read again":
                generator._heads.clear()  # type: ignore[attr-defined]  # the local GGUF generator's kept contexts
            times[name].append(_first_piece(generator, second))
    return times


def noting_times(drafted: list[Answer], pipeline: Pipeline) -> dict[str, list[float]]:
    """Whole drafts with each token's probability noted, as the local generator does for the doubt of an answer,
    and with a logits processor in its place that notes nothing, alternated on the same prompts."""
    noting = generation.noting_probability
    times: dict[str, list[float]] = {"probability noted": [], "nothing noted": []}
    try:
        for answer in drafted:
            prompt = build_prompt(answer.question, answer.passages, answer.language)
            for name in times:
                generation.noting_probability = noting if name == "probability noted" else _noting_nothing
                started = time.perf_counter()
                joined(pipeline.generator.stream(prompt))
                times[name].append(time.perf_counter() - started)
    finally:
        generation.noting_probability = noting
    return times


def _noting_nothing(probabilities: list[float]) -> generation.Processor:
    return lambda input_ids, scores: scores


def _first_piece(generator: Generator, prompt: Prompt) -> float:
    started = time.perf_counter()
    pieces = generator.stream(prompt)
    next(pieces, None)
    seconds = time.perf_counter() - started
    getattr(pieces, "close", lambda: None)()  # stop generating: only the first piece is timed
    return seconds


def check_times(answer: Answer, pipeline: Pipeline, embedder: Embedder) -> dict[str, float]:
    """Median seconds of `verify()` on the answer's draft with the embedder as it is and with one that remembers
    the vectors it made (a new one per run: what it saves within one draft), alternated side by side."""
    times: dict[str, list[float]] = {"plain": [], "remembering": []}
    min_support = pipeline.settings.min_support
    for _ in range(CHECK_REPEATS):
        for name in times:
            used = embedder if name == "plain" else RememberingEmbedder(embedder)
            started = time.perf_counter()
            verify(answer.draft, answer.passages, answer.question, answer.language, False, used, min_support)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _render(
    generator: str,
    rows: list[Row],
    checks: dict[str, list[float]],
    switches: dict[str, list[float]],
    noting: dict[str, list[float]],
    memory: dict[str, list[float]],
) -> Section:
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
    for _, _, total, answer in rows:
        by_outcome[answer.outcome.value].append(total)
    s.table(
        ["outcome", "questions", "whole answer p50 s"],
        [(name, len(times), _p50(times)) for name, times in sorted(by_outcome.items())],
    )
    s.table(
        ["question", "language", "outcome", "first piece s", "whole answer s"],
        [(item.id, item.lang, answer.outcome.value, first or "", total) for item, first, total, answer in rows],
    )
    plain, remembering = _p50(checks["plain"]), _p50(checks["remembering"])
    s.text(
        f"The checks of each draft (`verify()`: citations, language, numbers, names, and the support check, which "
        f"embeds the draft's sentences and its passages'), timed side by side on the same {len(checks['plain'])} "
        f"drafts, median of {CHECK_REPEATS} runs each. A draft without a marker is compared with each passage and "
        "then with all of them, so without remembering its vectors the same texts are embedded again.",
    )
    s.table(
        ["checks of one draft", "p50 s", "max s"],
        [
            ("every text embedded as asked", plain, max(checks["plain"], default=0.0)),
            (
                "each text embedded once (`RememberingEmbedder`, new for each draft)",
                remembering,
                max(checks["remembering"], default=0.0),
            ),
            ("ratio", plain / remembering if remembering else float("nan"), ""),
        ],
    )
    s.text(
        "An answer's first piece right after another answer, and after a translation. Answers and translations open "
        "with different instructions; the generator reads each kind's instructions alone once, keeps their KV cache "
        "and starts every prompt from it. When llama.cpp kept only the context of the last prompt, an answer after a "
        f"translation read its instructions again (third row). {len(switches['after an answer'])} pairs of "
        "consecutive answers from the run above, the three cases alternated.",
    )
    s.table(
        ["answer's first piece", "p50 s", "max s"],
        [(name, _p50(values), max(values, default=0.0)) for name, values in switches.items()],
    )
    noted, plain_draft = _p50(noting["probability noted"]), _p50(noting["nothing noted"])
    s.text(
        "The probability of each token, which marks a kept answer the model was unsure of, is noted by a logits "
        "processor that reads the scores the greedy choice is made from. Whole drafts of the "
        f"{len(noting['nothing noted'])} answers above, with it and with a processor that notes nothing, alternated.",
    )
    s.table(
        ["whole draft", "p50 s", "max s"],
        [
            *((name, _p50(values), max(values, default=0.0)) for name, values in noting.items()),
            ("ratio", noted / plain_draft if plain_draft else float("nan"), ""),
        ],
    )
    fresh, warm = _p50(memory["nothing remembered"]), _p50(memory["earlier questions remembered"])
    s.text(
        "The pipeline's embedder remembers the vectors it made, so a passage that comes back in a later question is "
        "cut to its clauses and checked without embedding them again. The first piece of the same "
        f"{len(memory['nothing remembered'])} questions with an embedder that remembers nothing yet and with the "
        "pipeline's after the run above (which holds each question's own vector too), alternated.",
    )
    s.table(
        ["first piece", "p50 s", "max s"],
        [
            *((name, _p50(values), max(values, default=0.0)) for name, values in memory.items()),
            ("ratio", fresh / warm if warm else float("nan"), ""),
        ],
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
