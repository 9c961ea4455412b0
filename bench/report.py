"""Markdown pieces of the report: sections with tables, and number formatting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


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
