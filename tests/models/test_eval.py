"""The gold-set eval as a regression test: the full pipeline must stay at or above measured levels (slow)."""

from __future__ import annotations

from rag.config import PROJECT_DIR
from rag.evaluation import evaluate, load_gold, summarize

GOLD = PROJECT_DIR / "eval" / "gold.jsonl"
# Floors set a little under the numbers in eval/REPORT.md, so a real regression fails and noise does not.
FLOORS = {
    "accuracy": 0.82,
    "answerable_accuracy": 0.85,
    "recall@1": 0.88,
    "recall@5": 0.97,
    "citation_recall": 0.90,
    "citation_precision": 0.80,
    "abstention_unanswerable": 0.55,
    "language_ok": 0.95,
}
CEILINGS = {"false_abstention": 0.05}


def test_full_pipeline_meets_its_floors(real_pipeline):
    summary = summarize(evaluate(load_gold(GOLD), real_pipeline, progress=False))
    for metric, floor in FLOORS.items():
        assert (summary[metric] or 0.0) >= floor, (metric, summary)
    for metric, ceiling in CEILINGS.items():
        assert (summary[metric] or 0.0) <= ceiling, (metric, summary)
