"""Sections 1 and 2: the query path stage by stage, and the pipeline against raw llama.cpp and memory bandwidth.

`python -m bench.query [--questions N]` measures them, with the cold start (lever 4a), apart from the rest of
`python -m bench`, and updates bench/REPORT.md.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.levers_llm import cold_start, keep_loaded
from bench.llm import (
    decode_s_per_token,
    local_generator,
    open_llama,
    prompt_eval_s,
    prompt_tokens,
    raw_completion,
    timed_ask,
)
from bench.report import Section, ratio, write_sections
from bench.timing import embedding_itself, measure, memory_bandwidth_gbs, stats, time_imports
from bench.workload import Budget, gold_questions, sample_questions
from rag.answer.ask import prepare
from rag.answer.prompt import build_prompt
from rag.config import load_settings
from rag.evaluation import GoldItem
from rag.pipeline import Pipeline
from rag.search.retrieve import passages as select_passages
from rag.search.retrieve import rerank, search

TTFT_TARGET_S = 2.0
RETRIEVAL_TARGET_MS = 30.0


def retrieval_steps(pipeline: Pipeline, question: str, repeat: int) -> dict[str, list[float]]:
    """Seconds per retrieval step for one question, each step repeated on the inputs that the product's own
    `prepare` gave it (embedded without the pipeline's memory)."""
    embedder = embedding_itself(pipeline.embedder)
    prepared = prepare(question, replace(pipeline, embedder=embedder))
    asked, index, settings = prepared.question, pipeline.index, pipeline.settings
    query, k = embedder.embed_queries([asked.text])[0], settings.search.candidates
    lexical = asked.language if settings.search.lexical else None  # as rag.search.retrieve.retrieve searches
    margin = settings.answer.same_language_margin
    steps = {
        "query embedding": lambda: embedder.embed_queries([asked.text]),
        "FAISS search": lambda: index.search(query, k),
        "hybrid search (FAISS + BM25 + fusion)": lambda: search(index, asked.text, query, k, lexical),
        "sentence rerank + passage selection": lambda: select_passages(
            rerank(index, prepared.found.hits, query, asked.language, margin), settings.search.top_k
        ),
        "prompt build": lambda: build_prompt(asked.text, prepared.passages, asked.language),
    }
    return {name: list(measure(fn, repeat).samples) for name, fn in steps.items()}


def llm_speeds(pipeline: Pipeline, llm: Any, q: GoldItem, budget: Budget) -> tuple[dict[str, list[float]], str]:
    """Prompt tokens, prompt-eval and decode speed, answer timings and raw llama.cpp timings (on `llm`, the bench's
    own `Llama`) for one question, and the outcome of its answer."""
    ids, head = prompt_tokens(pipeline, q.question)
    chat = local_generator(pipeline).has_chat_template
    out: dict[str, list[float]] = defaultdict(list)
    out["prompt tokens"].append(len(ids))
    out["prompt tokens read per question"].append(len(ids) - head)
    for _ in range(budget.llm_repeat):
        out["prompt eval tok/s"].append(len(ids) / prompt_eval_s(llm, ids))
        out["decode tok/s"].append(1 / decode_s_per_token(llm, ids, budget.decode_tokens))
        raw_s, usage = raw_completion(llm, ids, head, pipeline.settings.engines.max_answer_tokens, chat)
        out["raw llama.cpp total"].append(raw_s)
        out["answer tokens"].append(usage["completion_tokens"])
        run = timed_ask(q.question, pipeline)  # the generator starts from its kept head, as raw llama.cpp did
        out["ask total"].append(run.total_s)
        out["ask retrieval"].append(run.retrieve_s)
        if run.first_piece_s is not None:
            out["ask first piece"].append(run.first_piece_s)
    return out, run.answer.outcome.value


def query_sections(
    pipeline: Pipeline, llm: Any, questions: list[GoldItem], budget: Budget
) -> tuple[list[Section], dict]:
    """Sections 1 and 2 for `questions`; `llm` is the bench's own `Llama` for the raw llama.cpp timings."""
    steps: dict[str, list[float]] = defaultdict(list)
    answering: dict[str, list[float]] = defaultdict(list)
    per_question = []
    for q in questions:
        for name, samples in retrieval_steps(pipeline, q.question, budget.repeat).items():
            steps[name] += samples
        speeds, outcome = llm_speeds(pipeline, llm, q, budget)
        for name, values in speeds.items():
            answering[name] += values
        per_question.append((q, speeds, outcome))
    found = {"steps": {k: stats(v) for k, v in steps.items()}, "llm": {k: stats(v) for k, v in answering.items()}}
    return [_stage_section(found, per_question, pipeline), _overhead_section(found, per_question, pipeline)], found


def _stage_section(found: dict, per_question: list, pipeline: Pipeline) -> Section:
    s = Section("1. Query path (default models, warm)")
    settings, n = pipeline.settings, len(pipeline.index.chunks)
    s.text(
        f"{len(per_question)} gold questions (languages in turn), index of {n} chunks, top_k={settings.search.top_k}, "
        f"candidates={settings.search.candidates}, threads={settings.engines.threads}. Medians and p95 over all repeats. "
        "Each answer starts from the KV cache of the fixed instructions alone, as in the product (section 11)."
    )
    rows = [(name, st.ms, st.p95 * 1000) for name, st in found["steps"].items()]
    llm = found["llm"]
    rows.append(("retrieval as timed inside ask()", llm["ask retrieval"].ms, llm["ask retrieval"].p95 * 1000))
    s.table(["step", "median ms", "p95 ms"], rows)
    s.table(
        [f"LLM ({pipeline.generator.model_id})", "median", "p95"],
        [
            ("prompt tokens", llm["prompt tokens"].median, llm["prompt tokens"].p95),
            (
                "of which read per question (after the kept instructions)",
                llm["prompt tokens read per question"].median,
                llm["prompt tokens read per question"].p95,
            ),
            ("prompt eval tokens/s", llm["prompt eval tok/s"].median, llm["prompt eval tok/s"].p95),
            ("generation tokens/s", llm["decode tok/s"].median, llm["decode tok/s"].p95),
            ("answer tokens (greedy)", llm["answer tokens"].median, llm["answer tokens"].p95),
            ("time to first piece, s (ask)", median_of(llm, "ask first piece"), _p95(llm, "ask first piece")),
            ("total answer time, s (ask)", llm["ask total"].median, llm["ask total"].p95),
        ],
    )
    retrieval_ms = llm["ask retrieval"].ms
    ttft = median_of(llm, "ask first piece")
    s.text(
        f"Targets: time to first token ≤ {TTFT_TARGET_S:g} s — measured {_num(ttft)} s "
        f"({verdict(ttft, TTFT_TARGET_S)}); retrieval ≤ {RETRIEVAL_TARGET_MS:g} ms — measured {retrieval_ms:.0f} ms "
        f"({verdict(retrieval_ms, RETRIEVAL_TARGET_MS)})."
    )
    return s


def _overhead_section(found: dict, per_question: list, pipeline: Pipeline) -> Section:
    s = Section("2. Pipeline overhead and the memory-bandwidth limit")
    rows = []
    for q, speeds, _ in per_question:
        raw, total = stats(speeds["raw llama.cpp total"]).median, stats(speeds["ask total"]).median
        rows.append((q.id, q.lang, speeds["prompt tokens"][0], raw, total, ratio(raw, total)))
    s.text(
        "The same prompt tokens, each run starting from the KV cache of the fixed instructions alone; `ask` adds "
        "embedding, retrieval, the answering clauses, the checks and, when a draft fails them, the translated quote. "
        "The two runs are seconds apart on a loaded machine, so a ratio below 1 is load noise: the pipeline's own "
        "work (section 1's retrieval steps) is the real overhead."
    )
    s.table(["question", "lang", "prompt tokens", "raw llama.cpp s", "ask() s", "ask / raw"], rows)
    s.text("Outcome of each `ask`: " + ", ".join(f"{q.id} {outcome}" for q, _, outcome in per_question) + ".")
    gguf = pipeline.settings.engines.gguf_path.stat().st_size
    bandwidth = memory_bandwidth_gbs()
    limit = bandwidth * 1e9 / gguf
    decode = found["llm"]["decode tok/s"].median
    found["bandwidth_share"] = f"{100 * decode / limit:.0f}% "
    s.table(
        ["quantity", "value"],
        [
            ("GGUF size, MB (upper bound of weights read per token)", gguf / 1e6),
            ("memory copy bandwidth, GB/s (numpy, read + write)", bandwidth),
            ("bandwidth limit, tokens/s", limit),
            ("measured generation, tokens/s", decode),
            ("share of the limit reached", f"{100 * decode / limit:.0f}%"),
        ],
    )
    reading = (
        "close to it: decoding is largely memory-bound, so a smaller weight format is the remaining lever."
        if decode / limit > 0.5
        else "far below it: decoding is compute- or overhead-bound, not memory-bound."
    )
    s.text(
        "Each decode step reads every weight once, so the file size is a fair per-token estimate. "
        f"Measured generation is {reading}"
    )
    return s


def median_of(found: dict, key: str) -> float | None:
    """The median of the samples under `key`; None when there are none (every question abstained)."""
    return found[key].median if key in found and found[key].samples else None


def _p95(found: dict, key: str) -> float | None:
    return found[key].p95 if key in found and found[key].samples else None


def _num(value: float | None) -> str:
    return "n/a (all abstained)" if value is None else f"{value:.2f}"


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= target else f"NOT met, {value / target:.1f}× the target"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.query", description=__doc__)
    parser.add_argument("--questions", type=int, default=6, help="gold questions, languages in turn (default 6)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "REPORT.md")
    args = parser.parse_args()
    import_s = time_imports()
    questions = sample_questions(gold_questions(), args.questions)
    pipeline, cold = cold_start(load_settings(), questions[0].question, import_s)
    sections, found = query_sections(
        pipeline, open_llama(local_generator(pipeline)), questions, Budget(questions=args.questions)
    )
    levers = Section("4. Levers (before / after, with a recommendation each)")
    keep_loaded(levers, cold, found["llm"])
    levers.text("The other levers (4b–4e) are measured by the full `python -m bench`.")
    write_sections(args.out, [*sections, levers])
    print("\n".join(section.markdown() for section in (*sections, levers)))


if __name__ == "__main__":
    main()
