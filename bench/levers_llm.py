"""Section 4, generator levers: keeping models loaded, KV-cache prefix reuse, llama.cpp threads, top_k."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench.llm import (
    decode_s_per_token,
    first_token_s,
    local_generator,
    open_llama,
    prompt_eval_s,
    prompt_tokens,
    timed_ask,
)
from bench.report import Section, ratio
from bench.timing import in_turn, stats
from bench.workload import Budget
from rag.config import Settings
from rag.evaluation import GoldItem
from rag.pipeline import Pipeline, load_pipeline


@dataclass(frozen=True)
class ColdStart:
    """A fresh process's first question: imports, model loads, then the first answer."""

    import_s: float
    embedder_load_s: float
    llm_load_s: float
    first_piece_s: float | None
    first_total_s: float


def cold_start(settings: Settings, question: str, import_s: float) -> tuple[Pipeline, ColdStart]:
    """Open the pipeline, load both models explicitly (timed), then answer one question."""
    started = time.perf_counter()
    pipeline = load_pipeline(settings)  # opens the index and loads the embedder (its vector size is checked)
    embedder_s = time.perf_counter() - started
    started = time.perf_counter()
    pipeline.generator.warm_up()
    llm_s = time.perf_counter() - started
    run = timed_ask(question, pipeline)
    return pipeline, ColdStart(import_s, embedder_s, llm_s, run.first_piece_s, run.total_s)


def keep_loaded(s: Section, cold: ColdStart, warm: dict) -> None:
    s.text("### 4a. Keep the models loaded (cold first question vs warm)")
    load = cold.import_s + cold.embedder_load_s + cold.llm_load_s
    warm_first, warm_total = warm["ask first piece"].median, warm["ask total"].median
    s.table(
        ["", "cold (fresh process)", "warm (models kept)", "warm / cold"],
        [
            ("imports + model loads, s", load, 0.0, ""),
            (
                "first piece, s",
                load + (cold.first_piece_s or 0),
                warm_first,
                ratio(load + (cold.first_piece_s or 0), warm_first),
            ),
            ("total answer, s", load + cold.first_total_s, warm_total, ratio(load + cold.first_total_s, warm_total)),
        ],
    )
    s.text(
        f"Load split: imports {cold.import_s:.1f} s, embedder {cold.embedder_load_s:.1f} s, "
        f"LLM {cold.llm_load_s:.1f} s (files in the page cache). The load time is the fixed cost of a cold start; the "
        "answer itself varies with the machine's load from run to run, so compare the load time with it, not the "
        "two answer times. Recommendation: build the pipeline once per "
        "process and load both models at start-up (warm-up), as `rag serve` does; never per request."
    )


def _common_prefix(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def kv_prefix(s: Section, pipeline: Pipeline, llm: Any, gold: list[GoldItem], budget: Budget) -> None:
    """First-token time of question B from an empty KV cache, after a same-language and a cross-language prompt,
    on `llm` (the bench's own `Llama`: llama-cpp-python's prefix reuse, without the generator's kept heads)."""
    s.text("### 4b. Reuse the KV cache of the fixed prompt prefix")
    en = [q for q in gold if q.lang == "en"][:2]
    other = next(q for q in gold if q.lang != "en")
    if len(en) < 2:
        s.text("Skipped: the gold set has fewer than two English questions.")
        return
    ids = {k: prompt_tokens(pipeline, q.question)[0] for k, q in zip("abc", (*en, other))}
    cases = {
        "empty KV cache (llm.reset())": None,
        "after a same-language prompt": "a",
        "after a cross-language prompt": "c",
    }

    def after(previous: str | None) -> float:
        llm.reset()
        if previous:
            llm(ids[previous], max_tokens=1, temperature=0.0)
        return first_token_s(llm, ids["b"])

    samples = in_turn({name: partial(after, previous) for name, previous in cases.items()}, budget.kv_turns)
    fresh = stats(samples["empty KV cache (llm.reset())"]).median
    rows = []
    for name, previous in cases.items():
        shared = 0 if previous is None else _common_prefix(ids[previous], ids["b"])
        median = stats(samples[name]).median
        rows.append((name, len(ids["b"]), shared, median, ratio(fresh, median)))
    s.table(["question B's prompt evaluated", "prompt tokens", "tokens reused", "first token s", "vs empty"], rows)
    s.text(
        "llama-cpp-python keeps the KV cache of the previous call and re-evaluates only from the first differing "
        f"token (medians of {budget.kv_turns} interleaved runs). The instructions are the same for every question and every "
        "language (the answer language is named only after the passages), so a question reuses the whole fixed "
        "prefix whatever the language of the one before. "
        "Recommendation: keep one Llama per process and never reset it between questions (the product does)."
    )


def llama_threads(s: Section, pipeline: Pipeline, question: GoldItem, budget: Budget) -> None:
    """Prompt-eval and generation tokens/s per thread count, both llama.cpp thread pools set alike."""
    s.text("### 4c. Threads for llama.cpp (n_threads = n_threads_batch)")
    ids, _ = prompt_tokens(pipeline, question.question)

    def speeds(threads: int) -> tuple[float, float]:
        llm = open_llama(local_generator(pipeline), threads)
        # One repeat, few tokens: an oversubscribed thread count can be 100x slower and would stall the run.
        return len(ids) / prompt_eval_s(llm, ids), 1 / decode_s_per_token(llm, ids, max(2, budget.decode_tokens // 4))

    rows = thread_rows(speeds)
    s.table(["threads", "prompt eval tok/s", "generation tok/s", "prompt eval vs 1", "generation vs 1"], rows)
    s.text(
        "Recommendation: " + thread_advice({r[0]: r[1] * r[2] for r in rows}, "llama.cpp") + " rag/engines/llama.py "
        "sets both pools (n_threads and n_threads_batch) to RAG_THREADS."
    )


def thread_rows(measure: Callable[[int], tuple[float, float]]) -> list[tuple[int, float, float, str, str]]:
    """(threads, first, second, first vs one thread, second vs one thread) for each of `thread_choices()`, from
    `measure(threads)` giving the two measurements."""
    rows: list[tuple[int, float, float, str, str]] = []
    for threads in thread_choices():
        row = (threads, *measure(threads))
        base = rows[0] if rows else row
        rows.append((*row, ratio(base[1], row[1]), ratio(base[2], row[2])))
    return rows


def thread_advice(speed: dict[int, float], what: str) -> str:
    """Advice from a higher-is-better speed per thread count."""
    best = max(speed, key=lambda t: speed[t])
    if best == min(speed):
        return (
            f"{what} is faster with {best} thread here: with other work on the cores, every extra thread waits at "
            "llama.cpp's / torch's barriers for a descheduled sibling. Set RAG_THREADS=1 on a shared 2-core "
            "machine and make the default half the logical CPUs (max(1, min(4, cpu_count // 2))), which is the "
            "physical core count on SMT machines."
        )
    return f"{what} is fastest with {best} threads here: keep threads at the number of free physical cores."


def thread_choices() -> list[int]:
    """The thread counts the thread levers compare: one, and two where the machine has them."""
    return sorted({1, min(2, os.cpu_count() or 1)})


def top_k_lever(
    s: Section, pipeline: Pipeline, llm: Any, questions: list[GoldItem], recall: dict, budget: Budget
) -> None:
    """Prompt evaluation on `llm` (the bench's own `Llama`) of the product's prompts with 2, 4 and 6 passages."""
    s.text("### 4d. Smaller context: top_k passages in the prompt")
    prompts = {k: [prompt_tokens(pipeline, q.question, top_k=k)[0] for q in questions[:2]] for k in (2, 4, 6)}
    runs = {(k, i): partial(prompt_eval_s, llm, one) for k, ids in prompts.items() for i, one in enumerate(ids)}
    seconds: dict[int, list[float]] = {k: [] for k in prompts}
    for (k, _), values in in_turn(runs, budget.top_k_turns).items():
        seconds[k] += values
    base = stats(seconds[2]).median
    rows = [
        (
            k,
            stats([len(x) for x in ids]).median,
            stats(seconds[k]).median,
            ratio(base, stats(seconds[k]).median),
            f"{100 * recall[k]:.0f}%",
        )
        for k, ids in prompts.items()
    ]
    s.table(
        [
            "top_k",
            "prompt tokens",
            "prompt eval s (≈ LLM part of first token)",
            "vs top_k=2",
            "gold source in passages",
        ],
        rows,
    )
    s.text(
        "Gold source in passages: share of the answerable gold questions whose source file is among the top_k "
        "passages of the product's hybrid retrieval. Each passage is one best sentence (with its neighbour when "
        "short). Recommendation: top_k=2 (the default): eval/REPORT.md measures the same answer accuracy at 2, 4 "
        "and 6 passages with the bundled model, and 2 needs the least prompt time; raise RAG_TOP_K for a larger "
        "model that uses more context."
    )
