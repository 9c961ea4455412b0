"""Markdown pieces of the report: sections with tables, and number formatting."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Section:
    """One part of the report: a title, a few lines of prose and tables."""

    title: str
    lines: list[str] = field(default_factory=list)

    def text(self, *lines: str) -> None:
        self.lines += [*lines, ""]

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        self.lines.append("| " + " | ".join(headers) + " |")
        self.lines.append("|" + "|".join("---" for _ in headers) + "|")
        self.lines += ["| " + " | ".join(fmt(cell) for cell in row) + " |" for row in rows]
        self.lines.append("")

    def markdown(self) -> str:
        return f"## {self.title}\n\n" + "\n".join(self.lines).rstrip() + "\n"


def fmt(value: object) -> str:
    """Numbers with about three significant digits; everything else as text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def ratio(before: float, after: float) -> str:
    """'2.5×' when `after` is 2.5 times `before`."""
    return f"{after / before:.2f}×" if before else "n/a"


def write_sections(path: Path, sections: Sequence[Section], intro: str | None = None) -> None:
    """Put `sections` into the report at `path`, replacing those of the same title and keeping the others.

    Several benchmarks share one report: each rewrites its own sections only. Numbered sections ("3. Indexing")
    follow the others in the order of their numbers. `intro` replaces the text before the first section.
    """
    old = path.read_text(encoding="utf-8") if path.exists() else "# Performance report\n"
    head, *blocks = re.split(r"(?m)^(?=## )", old)
    kept = {block.splitlines()[0][3:].strip(): block for block in blocks}
    for section in sections:
        kept[section.title] = section.markdown() + "\n"
    ordered = sorted(kept.items(), key=lambda item: _number(item[0]))
    body = "".join(block if block.endswith("\n\n") else block + "\n" for _, block in ordered)
    path.write_text((intro or head).rstrip("\n") + "\n\n" + body.rstrip("\n") + "\n", encoding="utf-8")


def _number(title: str) -> tuple[int, int]:
    """(0, 0) for a section without a number, which keeps its place ahead of the numbered ones; (1, n) for "n. …"."""
    found = re.match(r"(\d+)\.", title)
    return (1, int(found.group(1))) if found else (0, 0)
