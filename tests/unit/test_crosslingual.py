"""Cross-language search: which translations of a question are fit to search with."""

from __future__ import annotations

import pytest

from rag.search.crosslingual import faithful, question_prompt

QUESTION = "When did ASEAN and New Zealand become Comprehensive Strategic Partners in 2025?"


@pytest.mark.parametrize(
    ("translation", "fit"),
    [
        ("Khi nào ASEAN và New Zealand trở thành Đối tác Chiến lược Toàn diện vào năm 2025?", True),
        ("ASEAN và New Zealand trở thành Đối tác Chiến lược Toàn diện vào năm 2025.", False),  # answered, not asked
        ("Khi nào New Zealand trở thành Đối tác Chiến lược Toàn diện vào năm 2025?", False),  # ASEAN lost
        ("Khi nào ASEAN và New Zealand trở thành Đối tác Chiến lược Toàn diện?", False),  # 2025 lost
        ("When did ASEAN and New Zealand become partners in 2025?", False),  # not Vietnamese
        ("", False),
    ],
)
def test_a_translation_must_stay_a_question_and_keep_numbers_and_acronyms(translation: str, fit: bool) -> None:
    assert faithful(QUESTION, translation, "vi") is fit


def test_a_chinese_translation_need_not_keep_latin_acronyms() -> None:
    assert faithful(QUESTION, "东盟与新西兰于2025年何时成为全面战略伙伴？", "zh")


def test_the_question_prompt_asks_for_a_translation_only() -> None:
    prompt = question_prompt(QUESTION, "vi")
    assert prompt.language == "vi" and QUESTION in prompt.user and "Do not answer" in prompt.user
    assert QUESTION not in prompt.system and prompt.completion.startswith(prompt.head)
