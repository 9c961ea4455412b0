"""The benchmark's smoke run (--quick) with real models writes a complete report; timings are not asserted.

The smoke run checks the benchmark's machinery, so it generates with the smallest GGUF the suite has, SmolLM2 135M,
given a 4096-token context (its tokenizer spends more tokens on Vietnamese and Chinese, and the top_k=6 lever's prompt
outgrows 2048): with the 1.5B default its LLM levers alone take longer than the whole test may. The quick budget indexes one seed file in sections 3 and 3b and scores six gold questions,
so the run takes about two minutes on two idle cores; the seeds are indexed into a temporary folder first, as a
fresh checkout would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from rag.config import PROJECT_DIR

SMALL_GGUF = PROJECT_DIR / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

SECTIONS = (
    "## Machine and models",
    "## Summary",
    "## 1. Query path",
    "## 2. Pipeline overhead",
    "## 3b. Indexing throughput",
    "## 4. Levers",
    "### 4b. Reuse the KV cache",
    "### 4g. Query embedding",
    "## 5. FAISS index scale",
    "## 8. PDF text extraction",
)


def test_quick_run_writes_a_complete_report(tmp_path: Path):
    out = tmp_path / "REPORT.md"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--threads", "1", "--out", str(out)],
        cwd=PROJECT_DIR,
        env={**os.environ, "RAG_GGUF": str(SMALL_GGUF), "RAG_N_CTX": "4096", "RAG_INDEX_DIR": str(tmp_path / "index")},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = out.read_text(encoding="utf-8")
    for heading in SECTIONS:
        assert heading in report
    for label in ("prompt eval tokens/s", "generation tokens/s", "bandwidth limit, tokens/s"):
        assert _number(_row(report, label)[1]) > 0, label
    for column in ("chunks/s", "peak RSS MB", "recall@10"):
        assert _number(_column(report, column)) > 0, column


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _row(report: str, label: str) -> list[str]:
    return _cells(next(line for line in report.splitlines() if line.startswith(f"| {label}")))


def _column(report: str, name: str) -> str:
    """The first data cell under the header `name`."""
    lines = report.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("|") and name in _cells(line))
    return _cells(lines[at + 2])[_cells(lines[at]).index(name)]


def _number(cell: str) -> float:
    found = re.search(r"\d[\d,]*\.?\d*", cell)
    return float(found.group().replace(",", "")) if found else 0.0
