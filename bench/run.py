"""Run every section in order on one shared pipeline and put the key numbers in a summary."""

from __future__ import annotations

import sys
import time
from importlib.metadata import PackageNotFoundError, version

from bench.footprint import footprint_section
from bench.indexing import index_file_bytes, indexing_section
from bench.levers_embed import int8, passage_recall, query_vectors, torch_threads
from bench.levers_index import indexing_levers, local_encoder
from bench.levers_llm import cold_start, keep_loaded, kv_prefix, llama_threads, top_k_lever
from bench.llm import local_generator, open_llama
from bench.pdf_readers import pdf_section
from bench.query import RETRIEVAL_TARGET_MS, TTFT_TARGET_S, median_of, query_sections, verdict
from bench.report import Section
from bench.scale import scale_section
from bench.timing import embedding_itself
from bench.workload import GOLD, Budget, gold_questions, sample_questions
from rag.config import load_settings
from rag.evaluation import load_gold
from rag.ingest.build import index_files
from rag.pipeline import Pipeline, make_embedder
from rag.store import storage


def versions() -> str:
    found = []
    for name in ("llama_cpp_python", "faiss-cpu", "torch", "sentence-transformers", "numpy"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def _step(name: str, started: float = time.perf_counter()) -> None:
    print(f"[bench {time.perf_counter() - started:5.0f} s] {name}", file=sys.stderr, flush=True)


def run_all(quick: bool, skip_scale: bool, import_s: float, threads: int | None = None) -> list[Section]:
    budget = Budget.quick() if quick else Budget()
    settings = load_settings(threads=threads)
    all_gold = gold_questions()
    gold = gold_questions(limit=budget.gold_limit)
    questions = sample_questions(all_gold, budget.questions)
    if not storage.exists(settings.store.index_dir):
        _step(
            f"no index in {settings.store.index_dir}: indexing {settings.store.corpus_dir} first (as `rag index` does)"
        )
        index_files([settings.store.corpus_dir], settings, make_embedder(settings.engines))
    _step("cold start")
    pipeline, cold = cold_start(settings, questions[0].question, import_s)
    _step("query path")
    llm = open_llama(local_generator(pipeline))  # llama.cpp alone, beside the product's generator
    query, found = query_sections(pipeline, llm, questions, budget)
    levers = Section("4. Levers (before / after, with a recommendation each)")
    keep_loaded(levers, cold, found["llm"])
    _step("lever: KV prefix")
    kv_prefix(levers, pipeline, llm, all_gold, budget)
    _step("lever: llama threads")
    llama_threads(levers, pipeline, questions[0], budget)
    _step("lever: top_k")
    embedder = embedding_itself(pipeline.embedder)  # the levers time embedding: nothing remembered
    queries = query_vectors(embedder, gold)
    top_k_lever(levers, pipeline, llm, questions, passage_recall(pipeline, gold, queries), budget)
    llm.close()
    _step("lever: torch threads, int8 queries")
    torch_threads(levers, pipeline, questions[0].question, budget)
    quantized = int8(levers, pipeline, gold, budget)
    _step("indexing levers")
    index_gold = load_gold(GOLD)[: budget.gold_limit]  # answerable and unanswerable questions
    index_levers, indexed = indexing_levers(settings, local_encoder(embedder), index_gold, budget)
    _step("indexing throughput")
    index_section, _ = indexing_section(settings, embedder, budget, settings.store.corpus_dir)
    sections = [
        _summary(found, settings.engines.threads, quantized, indexed),
        *query,
        index_levers,
        index_section,
        levers,
    ]
    _step("index footprint")
    sections.append(_footprint(pipeline, budget))
    if not skip_scale:
        _step("FAISS scale")
        sections.append(scale_section(budget)[0])
    _step("PDF readers")
    sections.append(pdf_section(budget.pdf_repeat))
    _step("done")
    return sections


def _summary(found: dict, threads: int, quantized: dict, indexed: dict) -> Section:
    llm, steps = found["llm"], found["steps"]
    s = Section("Summary")
    first = median_of(llm, "ask first piece")
    retrieval, embed = llm["ask retrieval"].ms, steps["query embedding"].ms
    prompt_tokens = llm["prompt tokens"].median
    kb, seconds = indexed["work"].kb, indexed["seconds"]
    quality = list(indexed["quality"].values())
    before_q, after_q = quality[0], quality[-1]
    s.text(
        f"- Measured with RAG_THREADS={threads} (torch, and both llama.cpp pools n_threads and n_threads_batch).",
        f"- Time to first token: **{_s(first)}** (target ≤ {TTFT_TARGET_S:g} s): {verdict(first, TTFT_TARGET_S)}. It is almost all prompt "
        f"evaluation of ~{prompt_tokens:.0f} tokens at {llm['prompt eval tok/s'].median:.0f} tokens/s; the fixed "
        "instructions and worked examples are about half of those tokens (4b).",
        f"- Retrieval: **{retrieval:.0f} ms** (target ≤ {RETRIEVAL_TARGET_MS:g} ms): {verdict(retrieval, RETRIEVAL_TARGET_MS)}; query embedding is "
        f"{embed:.0f} ms of it, FAISS {steps['FAISS search'].ms:.2f} ms, BM25 + fusion and passage selection < 1 ms.",
        f"- Generation: {llm['decode tok/s'].median:.0f} tokens/s ({found.get('bandwidth_share', '')}"
        f"of the memory-bandwidth limit, section 2); a whole answer takes {llm['ask total'].median:.1f} s.",
        f"- Indexing the seeds: {kb / seconds['before']:.2f} KB/s before (every chunk and every sentence, float32) "
        f"→ {kb / seconds['after']:.2f} KB/s after (each unique sentence once, the product's encoder), "
        f"{seconds['before'] / seconds['after']:.1f}× (section 3). Gold-set retrieval before → after: recall@1 "
        f"{before_q['recall@1']:.3f} → {after_q['recall@1']:.3f}, recall@5 {before_q['recall@5']:.3f} → "
        f"{after_q['recall@5']:.3f}, MRR {before_q['mrr']:.3f} → {after_q['mrr']:.3f}.",
        f"- Query embedding: float32 (default) {quantized['speed']['float32']:.0f} ms, int8 (opt-in) "
        f"{quantized['speed']['int8']:.0f} ms (4g).",
        "- Defaults in use: threads = min(4, logical CPUs) for torch and both llama.cpp pools (4c, 4f); top_k 2 "
        "(4d and eval/REPORT.md); one Llama kept per process with a language-independent fixed prompt prefix (4b); "
        "float32 embedding encoder (int8 is opt-in, 3a), one float16 vector per sentence, exact search below 50k "
        "sentence vectors, HNSW above (section 5).",
    )
    return s


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def _footprint(pipeline: Pipeline, budget: Budget) -> Section:
    """Section 6, with the sentences per chunk and chunk-record bytes of the product's seed index."""
    index = pipeline.index
    records = index_file_bytes(pipeline.settings.store.index_dir)["chunks.jsonl"] / len(index.chunks)
    return footprint_section(budget.footprint_vectors, index.sentences.ntotal / len(index.chunks), records)
