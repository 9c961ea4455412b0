"""What the benchmark runs on: the size budget (full or --quick) and questions from the gold set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.config import PROJECT_DIR
from rag.evaluation import GoldItem, load_gold

GOLD = PROJECT_DIR / "eval" / "gold.jsonl"


@dataclass(frozen=True)
class Budget:
    """How much of each measurement to run; `quick()` is a smoke run of under a minute."""

    questions: int = 3  # sample questions timed through the whole query path
    repeat: int = 10  # repeats of millisecond-scale steps
    llm_repeat: int = 1  # repeats of each LLM measurement
    decode_tokens: int = 16  # tokens decoded one by one to time generation
    gold_limit: int | None = None  # gold questions for recall (None: all answerable)
    reembed_docs: bool = True  # int8 lever: also re-embed the documents
    synthetic_kb: int = 100  # size of the generated multilingual corpus
    seed_files: int | None = None  # seed files indexed (None: all)
    texts: int = 16  # documents embedded per embedding-speed measurement
    scale_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    hnsw_max: int = 1_000_000  # largest HNSW actually built; larger sizes are extrapolated
    scale_queries: int = 20
    index_repeat: int = 2  # turns of each indexing lever (medians)
    footprint_vectors: int = 50_000  # vectors each FAISS store is measured on

    @classmethod
    def quick(cls) -> Budget:
        return cls(
            questions=1,
            repeat=3,
            llm_repeat=1,
            decode_tokens=4,
            gold_limit=6,
            reembed_docs=False,
            synthetic_kb=4,
            seed_files=1,
            texts=8,
            scale_sizes=(2_000,),
            hnsw_max=2_000,
            scale_queries=10,
            index_repeat=1,
            footprint_vectors=2_000,
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
