"""Dates and numbers across English, Vietnamese and Chinese, on hand-made cases."""

from __future__ import annotations

import pytest

from rag.answer.quantities import Day, in_thousands, read_quantities, zh_numeral


@pytest.mark.parametrize(
    "text",
    ["28/10/2025", "28 October 2025", "October 28, 2025", "2025年10月28日", "ngày 28 tháng 10 năm 2025", "2025-10-28"],
)
def test_one_date_in_every_language(text):
    assert read_quantities(text).dates == {Day(2025, 10, 28)}
    assert read_quantities(text).numbers == set()  # the date's digits are not read again as numbers


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ("tháng 10 năm 2025", {Day(2025, 10, None)}),
        ("tháng 10/2025", {Day(2025, 10, None)}),
        ("2025年10月举行", {Day(2025, 10, None)}),
        ("in October 2025", {Day(2025, 10, None)}),
        ("Ngày 9/12, Thứ trưởng", {Day(None, 12, 9)}),
        ("10月27日", {Day(None, 10, 27)}),
        ("7/2024-7/2027", {Day(2024, 7, None), Day(2027, 7, None)}),
        ("01:20 29/05/2020", {Day(2020, 5, 29)}),
        ("Ngày 3 tháng 7 năm 2018", {Day(2018, 7, 3)}),
        ("on 2nd July 2018", {Day(2018, 7, 2)}),
    ],
)
def test_partial_dates_and_periods(text, dates):
    assert read_quantities(text).dates == dates


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3 tỷ USD", 3e9),
        ("US$3 billion", 3e9),
        ("30亿美元", 3e9),
        ("三十亿", 3e9),
        ("3.000.000.000 đô la", 3e9),
        ("1,5 tỷ", 1.5e9),
        ("2.5 million", 2.5e6),
        ("3,000 people", 3000),
        ("8 triệu tấn", 8e6),
        ("5 nghìn", 5000),
        ("3.5万", 35000),
        ("7%", 7),
        ("百分之七", 7),
        ("cả ba trụ cột", 3),
        ("four pillars", 4),
        ("五大合作支柱", 5),
        ("ba mươi năm", 30),
        ("mười năm", 10),
        ("twenty-six", 26),
        ("the eleventh member", 11),
        ("thành viên thứ 11", 11),
        ("第六届", 6),
        ("năm thứ hai liên tiếp", 2),
        ("1975年", 1975),
        ("cả hai tỷ USD", 2e9),
        ("two billion dollars", 2e9),
        ("from the default of one month", 1),  # "1 tháng" translates it
        ("two weeks later", 2),
        ("独立使用的系统，1500 MHz", 1500),  # after a Chinese comma, which NFKC makes a Latin one
        ("gồm các nước,10 thành viên", 10),
    ],
)
def test_amounts_counts_and_ordinals(text, value):
    assert read_quantities(text).numbers == {value}


@pytest.mark.parametrize(
    "text", ["两国总理", "进一步加强", "十分重要", "one of the partners", "the two sides", "hai bên"]
)
def test_words_that_only_look_like_numbers_are_not_read(text):
    assert read_quantities(text).numbers == set()


def test_a_range_is_two_numbers():
    assert read_quantities("Kế hoạch Hành động 2026-2030").numbers == {2026, 2030}


@pytest.mark.parametrize(("numeral", "value"), [("十一", 11), ("五十", 50), ("两千零五", 2005), ("二〇二五", 2025)])
def test_chinese_numerals(numeral, value):
    assert zh_numeral(numeral) == value


def test_a_translated_claim_is_supported_and_an_invented_one_is_not():
    evidence = read_quantities(
        "date 2025-10-28 Hai bên đặt mục tiêu kim ngạch 3 tỷ USD vào năm 2026, giai đoạn 7/2024-7/2027."
    )
    assert read_quantities("On 28 October 2025 they set a US$3 billion target for 2026.").unsupported(evidence) == []
    assert (
        read_quantities("双方设定2026年贸易额达到30亿美元的目标，任期2024年7月至2027年7月。").unsupported(evidence)
        == []
    )
    assert read_quantities("In October 2025, for July 2024 to July 2027").unsupported(evidence) == []
    assert read_quantities("On 29 October 2025 they set a US$4 billion target.").unsupported(evidence) == [
        "2025-10-29",
        "4e+09",
    ]


def test_a_year_alone_is_backed_by_a_full_date():
    evidence = read_quantities("2025年2月25日至28日")
    assert read_quantities("from 25 to 28 February 2025").unsupported(evidence) == []
    assert read_quantities("in 2025").unsupported(evidence) == []
    assert read_quantities("in March 2025").unsupported(evidence) == ["2025-03-?"]


def test_a_count_is_not_backed_by_the_day_or_month_of_a_date():
    evidence = read_quantities("Hội nghị được tổ chức tại Ban thư ký ASEAN vào ngày 2/7/2018.")
    assert read_quantities("2 delegates attended in 2018.").unsupported(evidence) == ["2"]
    assert read_quantities("7 countries took part.").unsupported(evidence) == ["7"]
    assert read_quantities("It was held on 2 July 2018.").unsupported(evidence) == []


def test_an_invented_number_is_one_the_evidence_lacks_even_across_scales():
    evidence = read_quantities("双方同意设定2026年双边贸易额达到30亿美元的目标。会议于2018年7月2日举行。")
    assert read_quantities("a US$30 billion target").invented(evidence) == []  # 30亿 misread: a slip
    assert read_quantities("a US$3 billion target for 2026").invented(evidence) == []
    assert read_quantities("US$1.2 billion, 10 scholarships").invented(evidence) == [10, 1.2e9]
    assert read_quantities("20 delegates met on 3 March 2018").invented(evidence) == [20]  # a date is not counted
    assert read_quantities("2 delegates").invented(evidence) == [2]  # not the day of 2/7/2018


@pytest.mark.parametrize(
    "text",
    [
        "2025年2月25日至28日",
        "25–28 February 2025",
        "February 25-28, 2025",
        "25-28/2/2025",
        "ngày 25 đến ngày 28 tháng 2 năm 2025",
    ],
)
def test_a_day_range_is_two_dates(text):
    assert read_quantities(text).dates == {Day(2025, 2, 25), Day(2025, 2, 28)}
    assert read_quantities(text).spans == {(Day(2025, 2, 25), Day(2025, 2, 28))}


def test_one_end_of_a_span_of_days_is_reported_and_both_ends_or_the_month_are_not():
    visit = read_quantities("克里斯托弗·卢克松于2025年2月25日至28日对越南进行正式访问")
    assert read_quantities("He arrived on 25 February 2025.").half_span(visit) == "2025-02-25..2025-02-28"
    assert read_quantities("ngày 28/2/2025").half_span(visit) == "2025-02-25..2025-02-28"
    assert read_quantities("from 25 to 28 February 2025").half_span(visit) == ""
    assert read_quantities("in February 2025").half_span(visit) == ""


@pytest.mark.parametrize(
    ("text", "language", "restated"),
    [
        ("贸易额达到30亿美元的目标", "en", "贸易额达到3 billion 美元的目标"),
        ("贸易额达到30亿美元的目标", "vi", "贸易额达到3 tỷ 美元的目标"),
        ("贸易额达到30亿美元的目标", "zh", "贸易额达到30亿美元的目标"),
        ("约1.5亿美元", "en", "约150 million 美元"),
        ("5000万人", "vi", "50 triệu 人"),
        ("2万亿元", "vi", "2000 tỷ 元"),
        ("10万", "en", "100 thousand"),
        ("2026年签署", "en", "2026年签署"),
    ],
)
def test_chinese_amounts_are_restated_in_the_target_languages_scale_and_keep_their_value(text, language, restated):
    assert in_thousands(text, language) == restated
    assert read_quantities(restated).numbers == read_quantities(text).numbers
