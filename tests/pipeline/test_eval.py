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
