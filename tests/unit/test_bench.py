"""The benchmark's own arithmetic and sampling on hand-made data (timings themselves are never asserted)."""

from __future__ import annotations

import pytest

from bench.report import Section, fmt, ratio, write_sections
from bench.timing import Stats, measure
from bench.workload import sample_questions
from rag.evaluation import GoldItem


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
