"""Dates and numbers read from English, Vietnamese and Chinese text as comparable values.

"28/10/2025", "28 October 2025", "2025年10月28日" and "ngày 28 tháng 10 năm 2025" all read as one date;
"3 tỷ USD", "US$3 billion", "30亿美元" and "三十亿" all read as 3e9. A claim is supported when each of its dates
and numbers is found in the evidence, so an answer may state a fact in another language than its source.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

MONTHS = {
    m: i
    for i, names in enumerate(
        (
            "January Jan",
            "February Feb",
            "March Mar",
            "April Apr",
            "May",
            "June Jun",
            "July Jul",
            "August Aug",
            "September Sept Sep",
            "October Oct",
            "November Nov",
            "December Dec",
        ),
        1,
    )
    for m in names.split()
}
_MONTH = r"(?P<month_name>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>1[89]\d\d|2[01]\d\d)"
_TO = r"\s*(?:-|–|—|至|到|to|đến)\s*"  # a day range, as in 25–28 February
DATE_PATTERNS = [
    re.compile(p)
    for p in (
        rf"(?<![\d/]){_YEAR}-(?P<month>\d\d?)-(?P<day>\d\d?)(?![\d/])",  # ISO 2025-10-28
        rf"{_YEAR}\s*年\s*(?P<month>\d\d?)\s*月(?:\s*(?P<day>\d\d?)\s*[日号](?:{_TO}(?P<day2>\d\d?)\s*[日号])?)?",
        r"(?<!\d)(?P<month>\d\d?)\s*月\s*(?P<day>\d\d?)\s*[日号]",  # 10月28日
        rf"(?i:ngày)\s+(?P<day>\d\d?)(?:{_TO}(?:ngày\s+)?(?P<day2>\d\d?))?\s+tháng\s+(?P<month>\d\d?)"
        rf"(?:,?\s+năm\s+{_YEAR})?",  # ngày 28 tháng 10 năm 2025
        rf"tháng\s+(?P<month>\d\d?)(?:(?:\s*/\s*|,?\s+năm\s+){_YEAR})?",  # tháng 10/2025, tháng 10 năm 2025
        rf"(?<![\d/.])(?P<day>\d\d?)(?:{_TO}(?P<day2>\d\d?))?/(?P<month>\d\d?)(?:/{_YEAR})?(?![\d/])",  # 28/10/2025
        rf"(?<![\d/.])(?P<month>\d\d?)/{_YEAR}(?![\d/])",  # 7/2024
        rf"\b(?P<day>\d\d?)(?:st|nd|rd|th)?(?:{_TO}(?P<day2>\d\d?)(?:st|nd|rd|th)?)?\s+(?:of\s+)?{_MONTH}"
        rf"(?:,?\s+{_YEAR})?\b",  # 28 October 2025, 25–28 February 2025
        rf"\b{_MONTH}\s+(?P<day>\d\d?)(?:st|nd|rd|th)?(?:{_TO}(?P<day2>\d\d?))?\b(?:,?\s+{_YEAR})?",  # October 28, 2025
        rf"\b{_MONTH}(?:,?\s+(?:of\s+)?{_YEAR})?\b",  # October 2025, October
    )
]

DIGITS = r"\d{1,3}(?:[.,]\d{3})+(?![.,]?\d)|\d+(?:[.,]\d+)?"
SCALES = {
    "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9,
    "nghìn": 1e3, "ngàn": 1e3, "triệu": 1e6, "tỷ": 1e9, "tỉ": 1e9,
    "百": 1e2, "千": 1e3, "万": 1e4, "亿": 1e8, "万亿": 1e12,
}  # fmt: skip
_SCALE = "|".join(sorted(SCALES, key=len, reverse=True))
NUMBER = re.compile(rf"(?<!\d)(?<!\d[.,])(?P<digits>{DIGITS})(?:\s*(?P<scale>{_SCALE})(?![A-Za-zÀ-ỹ]))?", re.IGNORECASE)
_ZH_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9)))
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
ZH_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+(?!分)")  # 十分: "very"
ZH_SKIP = {"一", "二", "两", "万", "亿", "千", "百", "千万", "万万", "万亿"}  # "one", "two"/"both" and bare scales
WORDS = {
    # English: "one" and "two" are left out, they are mostly articles and "both" ("one of", "the two sides").
    "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "thirteen": 13, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "twentieth": 20, "thirtieth": 30, "fiftieth": 50,
    # Vietnamese: "một", "hai" as for English; "năm" (five) is also "year", so it counts only inside a number.
    "ba": 3, "bốn": 4, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9, "mười": 10,
}  # fmt: skip
WORD_NUMBER = re.compile(
    r"\b(?:(?P<vi>(?:(?:một|hai|ba|bốn|năm|sáu|bảy|tám|chín)\s+mươi(?:\s+(?:mốt|một|hai|ba|bốn|lăm|sáu|bảy|tám|chín))?)"
    r"|mười\s+(?:một|hai|ba|bốn|lăm|sáu|bảy|tám|chín)|thứ\s+(?:hai|ba|tư|năm|sáu|bảy|tám|chín|mười))"
    r"|(?P<en>(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-(?:one|two|three|four|five|six|seven|eight|nine))"
    r"|(?P<word>" + "|".join(WORDS) + r")"
    rf"|(?P<small>một|hai|one|two)(?=\s+(?:{_SCALE})\b)"  # "hai tỷ", "two billion": an amount, not "both"
    r"|(?P<small_en>one|two)(?=\s+(?:second|minute|hour|day|week|month|year|decade|centur)))"  # "one month"
    rf"(?:\s+(?P<scale>{_SCALE}))?\b",
    re.IGNORECASE,
)
_VI_UNITS = {"một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5, "sáu": 6, "bảy": 7}
_VI_UNITS |= {"tám": 8, "chín": 9, "mười": 10}
_EN_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80}
_EN_TENS["ninety"] = 90
MYRIADS = {"万", "亿", "万亿"}
THOUSANDS = {  # each language's own scale words, largest first
    "en": ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand")),
    "vi": ((1e9, "tỷ"), (1e6, "triệu"), (1e3, "nghìn")),  # 2e12 is "2000 tỷ"
}


@dataclass(frozen=True)
class Day:
    """A calendar date whose parts may be unknown ("October 2025", "28/10")."""

    year: int | None
    month: int
    day: int | None

    def within(self, other: Day) -> bool:
        """Every part this date states is stated the same way by `other`."""
        return self.month == other.month and self.year in (None, other.year) and self.day in (None, other.day)


@dataclass(frozen=True)
class Quantities:
    """The dates and the numbers (dates excluded) that a text states, and the spans of days among those dates."""

    dates: frozenset[Day]
    numbers: frozenset[float]
    spans: frozenset[tuple[Day, Day]] = frozenset()  # "25–28 February 2025": the first and the last day

    def half_span(self, evidence: Quantities) -> str:
        """A span of days in `evidence` of which this text states one end but not the other ("" if none):
        "on 25 February" for a visit "from 25 to 28 February" misreports it."""
        for first, last in sorted(evidence.spans, key=lambda span: _show(span[0])):
            if self._states(first) != self._states(last):
                return f"{_show(first)}..{_show(last)}"
        return ""

    def _states(self, day: Day) -> bool:
        return any(d.day is not None and d.within(day) for d in self.dates)

    def unsupported(self, evidence: Quantities) -> list[str]:
        """What this text states that `evidence` does not: dates first, then numbers, as readable strings. A bare
        number may be a date's year ("in 2018"), never its day or month: "2 delegates" is not in "2/7/2018"."""
        known = evidence.bare_numbers()
        missing = [_show(d) for d in sorted(self.dates, key=_show) if not any(d.within(e) for e in evidence.dates)]
        return missing + [f"{n:g}" for n in sorted(self.numbers) if not any(_same(n, k) for k in known)]

    def invented(self, evidence: Quantities) -> list[float]:
        """The numbers (not dates) this text states that `evidence` holds in no notation, not even a power of ten
        away: an amount misread across scales ("30亿美元", US$3 billion, given as US$30 billion) is a slip of
        translation, not a number made up."""
        known = evidence.bare_numbers()
        return [n for n in sorted(self.numbers) if not any(_same(n, k) or _rescaled(n, k) for k in known)]

    def bare_numbers(self) -> frozenset[float]:
        """The numbers, and the years of the dates: what a bare number in another text may stand for."""
        return self.numbers | {d.year for d in self.dates if d.year is not None}


def in_thousands(text: str, language: str) -> str:
    """`text` with its Chinese amounts counted in 万 (ten thousand) and 亿 (a hundred million) restated in the scale
    words of `language`: "30亿美元" becomes "3 billion 美元" for English and "3 tỷ 美元" for Vietnamese. A small model
    translating 30亿 often writes "30 billion"; given the amount in its own scale, it keeps it. Unchanged for
    languages that count in 万 themselves."""
    words = THOUSANDS.get(language)
    if not words:
        return text

    def restate(match: re.Match[str]) -> str:
        if match["scale"] not in MYRIADS:
            return match.group(0)
        value = _digits(match["digits"]) * SCALES[match["scale"]]  # as `read_quantities` reads it
        scale, word = next(((s, w) for s, w in words if value >= s), (1.0, ""))
        after = match.string[match.end() : match.end() + 1]
        return f"{value / scale:g} {word}".rstrip() + (" " if after and not after.isspace() else "")

    return NUMBER.sub(restate, text)


def read_quantities(text: str) -> Quantities:
    """Dates and numbers stated in `text` (English, Vietnamese or Chinese, digits or words)."""
    text = unicodedata.normalize("NFKC", text)
    dates, spans, text = _read_dates(text)
    return Quantities(frozenset(dates), frozenset(_read_numbers(text)), frozenset(spans))


def _read_dates(text: str) -> tuple[set[Day], set[tuple[Day, Day]], str]:
    """The dates in `text`, its spans of days, and the text with the dates blanked out so their digits are not
    read again as numbers."""
    found: set[Day] = set()
    spans: set[tuple[Day, Day]] = set()

    def take(match: re.Match[str]) -> str:
        parts = match.groupdict()
        month = MONTHS[parts["month_name"]] if parts.get("month_name") else int(parts["month"])
        year = int(parts["year"]) if parts.get("year") else None
        days = [int(parts[d]) if parts.get(d) else None for d in ("day", "day2") if d == "day" or parts.get(d)]
        if not 1 <= month <= 12 or not all(1 <= (d or 1) <= 31 for d in days):
            return match.group(0)
        read = [Day(year, month, d) for d in days]
        found.update(read)
        if len(read) == 2:
            spans.add((read[0], read[1]))
        return " " * len(match.group(0))

    for pattern in DATE_PATTERNS:
        text = pattern.sub(take, text)
    return found, spans, text


def _read_numbers(text: str) -> set[float]:
    values = set()
    for match in NUMBER.finditer(text):
        values.add(_digits(match["digits"]) * SCALES.get((match["scale"] or "").lower(), 1.0))
    for match in WORD_NUMBER.finditer(text):
        values.add(_word_value(match) * SCALES.get((match["scale"] or "").lower(), 1.0))
    for match in ZH_NUMERAL.finditer(text):
        if match.group(0) not in ZH_SKIP:
            values.add(zh_numeral(match.group(0)))
    return values


def _digits(raw: str) -> float:
    """'3.000.000' and '3,000' are grouped thousands; '1,5' and '1.5' are decimals."""
    if re.fullmatch(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*", raw):
        return float(re.sub(r"[.,]", "", raw))
    return float(raw.replace(",", "."))


def _word_value(match: re.Match[str]) -> float:
    words = match.group(0).lower().split()
    if match["vi"]:
        if words[0] == "thứ":
            return _VI_UNITS[words[1]]
        if words[0] == "mười":
            return 10 + _VI_UNITS[words[1]]
        return _VI_UNITS[words[0]] * 10 + (_VI_UNITS[words[2]] if len(words) > 2 else 0)
    if match["en"]:
        tens, unit = match["en"].lower().split("-")
        return _EN_TENS[tens] + _EN_UNITS[unit]
    if match["small"] or match["small_en"]:
        return (_VI_UNITS | _EN_UNITS)[(match["small"] or match["small_en"]).lower()]
    return WORDS[match["word"].lower()]


def zh_numeral(text: str) -> float:
    """Value of a Chinese numeral: 三十亿 → 3e9, 十一 → 11, 两千零五 → 2005, 二〇二五 → 2025."""
    if all(c in _ZH_DIGITS for c in text) and len(text) > 1:  # digit by digit, as in years
        return float("".join(str(_ZH_DIGITS[c]) for c in text))
    total, section, digit = 0.0, 0.0, 0.0
    for char in text:
        if char in _ZH_DIGITS:
            digit = _ZH_DIGITS[char]
        elif char in _ZH_UNITS:
            section += (digit or 1) * _ZH_UNITS[char]
            digit = 0
        else:  # 万 or 亿 closes a section
            scale = 1e4 if char == "万" else 1e8
            total = (total + section + digit) * scale if char == "亿" else total + (section + digit) * scale
            section, digit = 0.0, 0.0
    return total + section + digit


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


def _rescaled(a: float, b: float) -> bool:
    """Two amounts of a million or more that differ by a power of ten only."""
    if min(a, b) < 1e6:
        return False
    exponent = math.log10(a / b)
    return abs(exponent - round(exponent)) < 1e-9


def _show(day: Day) -> str:
    return "-".join(f"{p:02d}" if p is not None else "?" for p in (day.year, day.month, day.day))
