"""The eval runs any gold file in the format through the real answering path (fake models)."""

from __future__ import annotations

from rag.evaluation import GoldItem, evaluate, summarize


def test_any_gold_file_in_the_format_is_accepted(fake_pipeline):
    items = [
        GoldItem("k1", "en", "Where is the kiwi bird native to?", (("New Zealand",),), ("en.txt",), True),
        GoldItem("k2", "zh", "大熊猫的主要栖息地是哪里？", (("四川",),), ("zh.md",), True),
    ]
    rows = evaluate(items, fake_pipeline, progress=False)
    summary = summarize(rows)
    assert summary["questions"] == 2 and summary["recall@1"] == 1.0 and summary["accuracy"] == 1.0
    assert summary["drafts_kept"] == 1.0 and summary["kept_draft_accuracy"] == 1.0  # the echo's drafts are right


def test_kept_and_doubted_draft_accuracy_count_only_the_answers_in_the_models_own_words():
    def row(outcome: str, correct: bool) -> dict:
        abstained = outcome in ("gated", "refused", "invented")
        return {
            "answerable": True,
            "outcome": outcome,
            "correct": correct,
            "abstained": abstained,
            "cited": 1,
            "doubt": "",
        }

    rows = [row("answered", True), row("answered", False), row("quoted", True), row("gated", False)]
    rows[1]["doubt"] = "“Hanoi” (probability 0.10)"
    for r in rows:
        r |= {"gold_rank": 1, "cited_gold": 1, "language_ok": True, "lead_language_ok": True, "latency_s": 1.0}
    summary = summarize(rows)
    assert summary["drafts_kept"] == 0.5 and summary["kept_draft_accuracy"] == 0.5 and summary["accuracy"] == 0.5
    assert summary["doubted_drafts"] == 0.5 and summary["doubted_draft_accuracy"] == 0.0
