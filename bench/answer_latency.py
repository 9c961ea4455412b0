"""`python -m bench.answer_latency [--questions N]`: time to first piece and whole-answer time of `ask()` with the
default models, per outcome, over gold questions taken in turn from each language, the checks of each draft
with and without remembering the vectors they made, and an answer's first piece after another answer and after a
translation, whole drafts with and without each token's probability noted, and the first piece with and without
the vectors of earlier questions remembered; writes its section of bench/REPORT.md."""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from itertools import pairwise
from pathlib import Path

from bench.llm import first_piece_then_stop, local_generator, timed_ask
from bench.report import Section, write_sections
from bench.timing import in_turn, load_average, seconds
from bench.workload import gold_questions, sample_questions
from rag.answer.ask import Preparation, ask, prepare
from rag.answer.decide import decide
from rag.answer.prompt import translation_prompt
from rag.answer.question import Question
from rag.config import load_settings
from rag.engines.llama import LlamaCppGenerator
from rag.engines.protocols import Embedder, RememberingEmbedder, joined
from rag.evaluation import GoldItem
from rag.pipeline import Pipeline, load_pipeline, make_embedder, make_generator
from rag.records import Answer, Prompt

REPORT = Path(__file__).resolve().parent / "REPORT.md"
FIRST_TOKEN_TARGET_S, ANSWER_TARGET_S = 2.0, 8.0
CHECK_REPEATS = 3
SWITCH_PAIRS = 6  # pairs of consecutive answers timed after a translation


Row = tuple[GoldItem, float | None, float, Answer]  # question, first piece s, whole answer s, answer


def measure(count: int) -> tuple[Section, dict]:
    settings = load_settings()
    embedder = make_embedder(settings.engines)  # the pipeline wraps it in a RememberingEmbedder
    pipeline = load_pipeline(settings, embedder, make_generator(settings.engines))
    generator = local_generator(pipeline)
    generator.warm_up()
    ask("warm-up question about ASEAN", pipeline).answer()
    rows: list[Row] = []
    for item in sample_questions(gold_questions(), count):
        run = timed_ask(item.question, pipeline)
        rows.append((item, run.first_piece_s, run.total_s, run.answer))
    checks: dict[str, list[float]] = {"plain": [], "remembering": []}
    for *_, answer in rows:
        if answer.draft:
            for name, median in check_times(answer, pipeline, embedder).items():
                checks[name].append(median)
    prepared = (prepare(answer.question, pipeline) for *_, answer in rows)
    drafted = [(p, p.prompt) for p in prepared if p.prompt is not None]  # the questions whose draft is generated
    switches = switch_times(drafted, generator)
    noting = noting_times(drafted, generator)
    memory = memory_times(drafted, pipeline, embedder)
    section = _render(settings.engines.gguf_path.name, rows, checks, switches, noting, memory)
    return section, {"rows": rows, "checks": checks}


Drafted = list[tuple[Preparation, Prompt]]  # questions prepared as `ask` does, and the prompt of each


def memory_times(drafted: Drafted, pipeline: Pipeline, embedder: Embedder) -> dict[str, list[float]]:
    """First piece of `ask()` for the same questions with an embedder that remembers nothing yet and with the
    pipeline's, which remembers the vectors of every question before (the passages' clauses among them),
    alternated."""
    times: dict[str, list[float]] = {"nothing remembered": [], "earlier questions remembered": []}
    for prepared, _ in drafted:
        for name in times:
            memory = RememberingEmbedder(embedder) if name == "nothing remembered" else pipeline.embedder
            asked = replace(pipeline, embedder=memory)
            times[name].append(first_piece_then_stop(partial(ask, prepared.question.text, asked)))
    return times


def switch_times(drafted: Drafted, generator: LlamaCppGenerator) -> dict[str, list[float]]:
    """First piece of an answer's draft, for consecutive pairs of answers: right after the first answer, after the
    first answer and a translation, and with the instructions read again, as an answer after a translation did when
    llama.cpp kept only the context of the last prompt (a translation shares just the chat template's first tokens
    with an answer)."""

    def second_after(before: tuple[Preparation, Prompt], after: Prompt, case: str) -> float:
        prepared, prompt = before
        _first_piece(generator, prompt)
        if case == "after a translation":
            _first_piece(generator, translation_prompt(prepared.passages[0].text, prepared.question.language))
        elif case == "instructions read again":
            generator.reset()  # the kept contexts of the fixed heads are forgotten
        return _first_piece(generator, after)

    times: dict[str, list[float]] = {"after an answer": [], "after a translation": [], "instructions read again": []}
    for before, (_, after) in list(pairwise(drafted))[:SWITCH_PAIRS]:
        cases = {name: partial(second_after, before, after, name) for name in times}
        for name, values in in_turn(cases).items():
            times[name] += values
    return times


def noting_times(drafted: Drafted, generator: LlamaCppGenerator) -> dict[str, list[float]]:
    """Whole drafts with each token's probability noted, as the local generator does for the doubt of an answer,
    and without (`note_probability` off), alternated on the same prompts."""

    def draft_s(prompt: Prompt, noted: bool) -> float:
        kept, generator.note_probability = generator.note_probability, noted
        try:
            return seconds(lambda: joined(generator.stream(prompt)))
        finally:
            generator.note_probability = kept

    times: dict[str, list[float]] = {"probability noted": [], "nothing noted": []}
    for _, prompt in drafted:
        cases = {name: partial(draft_s, prompt, name == "probability noted") for name in times}
        for name, values in in_turn(cases).items():
            times[name] += values
    return times


def _first_piece(generator: LlamaCppGenerator, prompt: Prompt) -> float:
    return first_piece_then_stop(partial(generator.stream, prompt))


def check_times(answer: Answer, pipeline: Pipeline, embedder: Embedder) -> dict[str, float]:
    """Median seconds of `decide()` on the answer's draft with the embedder as it is and with one that remembers
    the vectors it made (a new one per run: what it saves within one draft), alternated side by side."""
    question, retrieved = Question(answer.question, answer.language), [hit.chunk for hit in answer.retrieved]

    def decide_s(used: Embedder) -> float:
        return seconds(
            lambda: decide(answer.draft, question, answer.passages, retrieved, used, pipeline.settings.answer)
        )

    cases = {"plain": lambda: decide_s(embedder), "remembering": lambda: decide_s(RememberingEmbedder(embedder))}
    return {name: statistics.median(values) for name, values in in_turn(cases, CHECK_REPEATS).items()}


def _p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _p50_rows(times: Mapping[str, list[float]], ratio: bool = False) -> list[tuple[object, ...]]:
    """A row of p50 and max seconds for each case; with `ratio`, a row of the first case's p50 over the second's."""
    rows: list[tuple[object, ...]] = [(name, _p50(values), max(values, default=0.0)) for name, values in times.items()]
    if ratio:
        first, second = (_p50(values) for values in list(times.values())[:2])
        rows.append(("ratio", first / second if second else float("nan"), ""))
    return rows


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
    s.text(
        f"The checks of each draft (`decide()`: citations, language, numbers, names, and the support check, which "
        f"embeds the draft's sentences and its passages'), timed side by side on the same {len(checks['plain'])} "
        f"drafts, median of {CHECK_REPEATS} runs each. A draft without a marker is compared with each passage and "
        "then with all of them, so without remembering its vectors the same texts are embedded again.",
    )
    named = {
        "every text embedded as asked": checks["plain"],
        "each text embedded once (`RememberingEmbedder`, new for each draft)": checks["remembering"],
    }
    s.table(["checks of one draft", "p50 s", "max s"], _p50_rows(named, ratio=True))
    s.text(
        "An answer's first piece right after another answer, and after a translation. Answers and translations open "
        "with different instructions; the generator reads each kind's instructions alone once, keeps their KV cache "
        "and starts every prompt from it. When llama.cpp kept only the context of the last prompt, an answer after a "
        f"translation read its instructions again (third row). {len(switches['after an answer'])} pairs of "
        "consecutive answers from the run above, the three cases alternated.",
    )
    s.table(["answer's first piece", "p50 s", "max s"], _p50_rows(switches))
    s.text(
        "The probability of each token, which marks a kept answer the model was unsure of, is noted by a logits "
        "processor that reads the scores the greedy choice is made from. Whole drafts of the "
        f"{len(noting['nothing noted'])} answers above, with it and without it (the generator's `note_probability` "
        "off; a Chinese reply then runs no logits processor at all), alternated.",
    )
    s.table(["whole draft", "p50 s", "max s"], _p50_rows(noting, ratio=True))
    s.text(
        "The pipeline's embedder remembers the vectors it made, so a passage that comes back in a later question is "
        "cut to its clauses and checked without embedding them again. The first piece of the same "
        f"{len(memory['nothing remembered'])} questions with an embedder that remembers nothing yet and with the "
        "pipeline's after the run above (which holds each question's own vector too), alternated.",
    )
    s.table(["first piece", "p50 s", "max s"], _p50_rows(memory, ratio=True))
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
