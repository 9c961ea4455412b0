"""What the benchmark runs on: the size budget (full or --quick) and questions from the gold set."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.config import PROJECT_DIR
from rag.evaluation import GoldItem, load_gold
from rag.records import Hit

GOLD = PROJECT_DIR / "eval" / "gold.jsonl"


@dataclass(frozen=True)
class Budget:
    """How much of each measurement to run; `quick()` is a smoke run of a minute or two."""

    questions: int = 3  # sample questions timed through the whole query path
    repeat: int = 10  # repeats of millisecond-scale steps
    llm_repeat: int = 1  # repeats of each LLM measurement
    decode_tokens: int = 16  # tokens decoded one by one to time generation
    gold_limit: int | None = None  # gold questions for recall (None: all answerable; section 3: all)
    kv_turns: int = 3  # turns of the interleaved KV-cache cases (4b)
    top_k_turns: int = 2  # turns of the interleaved top_k values (4d)
    synthetic_kb: int = 100  # size of the generated multilingual corpus
    seed_files: int | None = None  # seed files indexed by sections 3 and 3b (None: all)
    all_index_levers: bool = True  # section 3: every lever (False: before, after and the product's encoder)
    texts: int = 16  # documents embedded per embedding-speed measurement
    scale_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    hnsw_max: int = 1_000_000  # largest HNSW actually built; larger sizes are extrapolated
    scale_queries: int = 20
    index_repeat: int = 2  # turns of each indexing lever (medians)
    footprint_vectors: int = 50_000  # vectors each FAISS store is measured on
    pdf_repeat: int = 20  # timed extractions of each sample PDF (section 8)

    @classmethod
    def quick(cls) -> Budget:
        return cls(
            questions=1,
            repeat=3,
            llm_repeat=1,
            decode_tokens=4,
            gold_limit=6,
            kv_turns=1,
            top_k_turns=1,
            synthetic_kb=4,
            seed_files=1,
            all_index_levers=False,
            texts=8,
            scale_sizes=(2_000,),
            hnsw_max=2_000,
            scale_queries=10,
            index_repeat=1,
            footprint_vectors=2_000,
            pdf_repeat=3,
        )


def gold_questions(path: Path = GOLD, limit: int | None = None) -> list[GoldItem]:
    """Answerable gold questions (those naming their source files)."""
    answerable = [item for item in load_gold(path) if item.answerable and item.sources]
    return answerable[:limit] if limit else answerable


def sample_questions(gold: list[GoldItem], n: int) -> list[GoldItem]:
    """`n` questions taking the languages in turn (en, vi, zh, en, ...), so consecutive prompts differ."""
    by_language = {lang: [q for q in gold if q.lang == lang] for lang in ("en", "vi", "zh")}
    picked: list[GoldItem] = []
    for i in range(n * 3):
        pool = by_language[("en", "vi", "zh")[i % 3]]
        if pool:
            picked.append(pool.pop(0))
        if len(picked) == n:
            break
    return picked


def gold_rank(hits: Sequence[Hit], item: GoldItem) -> int | None:
    """The rank of the first of the item's gold sources among the distinct sources of `hits` (None: none is)."""
    sources = list(dict.fromkeys(hit.chunk.source for hit in hits))
    return next((rank for rank, source in enumerate(sources, 1) if source in item.sources), None)


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose gold source ranks `k` or better."""
    return statistics.mean(rank is not None and rank <= k for rank in ranks)
