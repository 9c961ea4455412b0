"""The eval runs any gold file in the format through the real answering path (fake models)."""

from __future__ import annotations

from rag.evaluation import GoldItem, evaluate, failure_class, summarize


def test_any_gold_file_in_the_format_is_accepted(fake_pipeline):
    items = [
        GoldItem("k1", "en", "Where is the kiwi bird native to?", (("New Zealand",),), ("en.txt",), True),
        GoldItem("k2", "zh", "大熊猫的主要栖息地是哪里？", (("四川",),), ("zh.md",), True),
    ]
    rows = evaluate(items, fake_pipeline, progress=False)
    summary = summarize(rows)
    assert summary["questions"] == 2 and summary["recall@1"] == 1.0 and summary["accuracy"] == 1.0
    assert summary["drafts_kept"] == 1.0 and summary["kept_draft_accuracy"] == 1.0  # the echo's drafts are right
    assert summary["useful"] == 1.0 and all(row["failure"] == "" for row in rows)


def test_each_answer_that_is_not_useful_gets_one_failure_class():
    item = GoldItem("k1", "en", "Where is the kiwi native to?", (("New Zealand",),), ("en.txt",), True)
    unanswerable = GoldItem("k2", "en", "What do kiwis eat?", (), (), False)
    base = {"correct": False, "abstained": False, "gold_rank": 1, "outcome": "answered", "language_ok": True}
    shown = "The kiwi is native to New Zealand."
    assert failure_class(base, item, shown) == "kept draft misread"
    assert failure_class(base | {"abstained": True}, item, shown) == "false abstention"
    assert failure_class(base | {"gold_rank": 2}, item, shown) == "wrong passage ranked first"
    assert failure_class(base | {"outcome": "quoted"}, item, "Kiwis lay eggs.") == "answer not in the passages shown"
    assert failure_class(base | {"outcome": "quoted", "language_ok": False}, item, shown) == "quote untranslated"
    assert failure_class(base | {"correct": True, "language_ok": False}, item, shown).startswith("right, not")
    assert failure_class(base, unanswerable, shown) == "answered an unanswerable question"


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
        r["useful"] = r["correct"]
    summary = summarize(rows)
    assert summary["drafts_kept"] == 0.5 and summary["kept_draft_accuracy"] == 0.5 and summary["accuracy"] == 0.5
    assert summary["doubted_drafts"] == 0.5 and summary["doubted_draft_accuracy"] == 0.0
