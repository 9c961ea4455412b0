"""The benchmark's own arithmetic and sampling on hand-made data (timings themselves are never asserted)."""

from __future__ import annotations

import pytest

from bench.levers_llm import thread_rows
from bench.report import Section, fmt, ratio, write_sections
from bench.timing import Stats, in_turn, measure
from bench.workload import gold_rank, recall_at, sample_questions
from rag.evaluation import GoldItem
from rag.records import Chunk, Hit


def test_table_renders_numbers_compactly():
    s = Section("T")
    s.table(["a", "b"], [("x", 1234.5), ("y", 0.012345)])
    assert "| x | 1,234 |" in s.markdown() and "| y | 0.0123 |" in s.markdown()
    assert fmt(7) == "7" and ratio(2.0, 1.0) == "0.50×" and ratio(0.0, 1.0) == "n/a"


def test_a_rewritten_section_keeps_the_others_and_the_numbers_stay_in_order(tmp_path):
    report = tmp_path / "REPORT.md"
    report.write_text("# Report\n\nintro\n\n## Summary\n\ns\n\n## 3. Indexing\n\nold 3\n\n## 11. Latency\n\nold 11\n")
    fresh = Section("1. Query path")
    fresh.text("new 1")
    again = Section("11. Latency")
    again.text("new 11")
    write_sections(report, [again, fresh])
    text = report.read_text()
    titles = [line for line in text.splitlines() if line.startswith("## ")]
    assert titles == ["## Summary", "## 1. Query path", "## 3. Indexing", "## 11. Latency"]
    assert "intro" in text and "old 3" in text and "new 11" in text and "old 11" not in text


def test_measure_runs_the_warmup_untimed_then_times_each_repeat():
    calls: list[int] = []
    st = measure(lambda: calls.append(1), repeat=5, warmup=2)
    assert len(calls) == 7 and len(st.samples) == 5


def test_stats_report_the_median_and_the_95th_percentile():
    st = Stats((3.0, 1.0, 100.0, 2.0, 4.0))
    assert st.median == 3.0 and st.ms == 3000.0
    assert st.p95 == pytest.approx(80.8)  # between the 4th and 5th of the sorted samples, at 0.95 × 4 = 3.8


def test_sample_questions_take_languages_in_turn():
    langs = ["en", "en", "vi", "zh", "zh"]
    gold = [GoldItem(f"q{i}", lang, "?", (("x",),), ("a.txt",), True) for i, lang in enumerate(langs)]
    assert [q.lang for q in sample_questions(gold, 4)] == ["en", "vi", "zh", "en"]


def test_runs_in_turn_alternate_so_that_load_falls_on_each_alike():
    calls: list[str] = []

    def run(name: str) -> float:
        calls.append(name)
        return 1.0

    runs = {name: (lambda name=name: run(name)) for name in ("a", "b")}
    assert in_turn(runs, repeat=2) == {"a": [1.0, 1.0], "b": [1.0, 1.0]}
    assert calls == ["a", "b", "a", "b"]


def test_thread_rows_compare_each_count_with_one_thread():
    rows = thread_rows(lambda threads: (10.0 * threads, 4.0))
    assert rows[0] == (1, 10.0, 4.0, "1.00×", "1.00×")
    assert all(row[3] == f"{row[0]:.2f}×" for row in rows)


def test_the_gold_rank_counts_each_source_once():
    def hit(source: str) -> Hit:
        return Hit(0, Chunk(source, 0, 1, "x", "en", "", None, ((0, 1),)))

    gold = GoldItem("q", "en", "?", (("x",),), ("b.txt",), True)
    assert gold_rank([hit("a.txt"), hit("a.txt"), hit("b.txt")], gold) == 2
    assert gold_rank([hit("a.txt")], gold) is None
    assert recall_at([1, 2, None, 6], 1) == 0.25 and recall_at([1, 2, None, 6], 5) == 0.5
