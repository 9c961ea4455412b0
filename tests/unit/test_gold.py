"""The gold set keeps its promises, and a malformed gold file is reported with the line at fault."""

from __future__ import annotations

import json

import pytest

from rag.config import PROJECT_DIR
from rag.errors import RagError
from rag.evaluation import load_gold

GOLD = PROJECT_DIR / "eval" / "gold.jsonl"


def test_gold_set_covers_what_it_promises():
    items = load_gold(GOLD)
    by_language = {lang: [i for i in items if i.lang == lang] for lang in ("en", "vi", "zh")}
    assert len(items) >= 60 and all(len(group) >= 20 for group in by_language.values())
    assert sum(not i.answerable for i in items) >= 10
    sources = {s for i in items for s in i.sources}
    assert sources == {p.name for p in (PROJECT_DIR / "seeds").glob("*.txt")}


def test_malformed_gold_line_is_reported_with_its_number(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "a", "question": "q?", "must": [["x"]]}) + "\n{broken\n", encoding="utf-8")
    with pytest.raises(RagError, match=r"gold.jsonl:2: not a gold record"):
        load_gold(gold)
