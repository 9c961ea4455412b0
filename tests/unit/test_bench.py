"""The benchmark's own arithmetic and sampling on hand-made data (timings themselves are never asserted)."""

from __future__ import annotations

import pytest

from bench.report import Section, fmt, ratio
from bench.timing import Stats, measure
from bench.workload import sample_questions
from rag.evaluation import GoldItem


def test_table_renders_numbers_compactly():
    s = Section("T")
    s.table(["a", "b"], [("x", 1234.5), ("y", 0.012345)])
    assert "| x | 1,234 |" in s.markdown() and "| y | 0.0123 |" in s.markdown()
    assert fmt(7) == "7" and ratio(2.0, 1.0) == "0.50×" and ratio(0.0, 1.0) == "n/a"


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
