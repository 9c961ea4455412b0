"""The gold-set eval as a regression test (slow): retrieval and the relevance gate, with the real embedder over a
real index of seeds/, must stay at or above their measured levels.

Both are decided before the generator writes, so they are measured without generating. The answer-level metrics (accuracy, citations, language) come from
`make eval`, which runs every question through the generator.
"""

from __future__ import annotations

from rag.answer.ask import prepare
from rag.config import PROJECT_DIR
from rag.evaluation import GoldItem, load_gold
from rag.pipeline import Pipeline

GOLD = PROJECT_DIR / "eval" / "gold.jsonl"
# Measured on the 112-question gold set: recall@1 0.957, recall@5 1.000, MRR 0.978. The gate is a floor for off-topic
# questions, set low enough for a technical manual too: alone it abstains on 1 of the 20 unanswerable questions and on
# none of the answerable ones (the model's trusted NOT FOUND and the checks do the rest, eval/REPORT.md). Floors a
# little under, so a regression fails and noise does not.
FLOORS = {"recall@1": 0.93, "recall@5": 0.97, "mrr": 0.95, "abstention_unanswerable": 0.04}
CEILINGS = {"false_abstention": 0.02}


def retrieval_and_gate(item: GoldItem, pipeline: Pipeline) -> tuple[int | None, bool]:
    """The rank of the first gold source among the retrieved chunks, and whether the gate abstains."""
    prepared = prepare(item.question, pipeline)
    ranked = list(dict.fromkeys(hit.chunk.source for hit in prepared.found.hits))
    rank = next((i for i, source in enumerate(ranked, 1) if source in item.sources), None)
    return rank, prepared.gated is not None


def test_retrieval_and_gate_meet_their_floors(real_pipeline):
    items = load_gold(GOLD)
    rows = [(item.answerable, *retrieval_and_gate(item, real_pipeline)) for item in items]
    answerable = [(rank, gated) for ok, rank, gated in rows if ok]
    unanswerable = [gated for ok, _, gated in rows if not ok]
    summary = {
        "recall@1": sum(rank == 1 for rank, _ in answerable) / len(answerable),
        "recall@5": sum(rank is not None and rank <= 5 for rank, _ in answerable) / len(answerable),
        "mrr": sum(1 / rank for rank, _ in answerable if rank) / len(answerable),
        "abstention_unanswerable": sum(unanswerable) / len(unanswerable),
        "false_abstention": sum(gated for _, gated in answerable) / len(answerable),
    }
    for metric, floor in FLOORS.items():
        assert summary[metric] >= floor, (metric, summary)
    for metric, ceiling in CEILINGS.items():
        assert summary[metric] <= ceiling, (metric, summary)
