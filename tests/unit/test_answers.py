"""The answer record and the response that streams it, on hand-made passages: outcomes, notes, JSON, HTML."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from rag.answering import NOT_FOUND, Response, verify
from rag.citations import citations_for, quote_evidence
from rag.records import Answer, Chunk, Outcome, Passage
from rag.web.render import answer_html

TEXT = "Thủ tướng New Zealand Christopher Luxon thăm Việt Nam năm 2024."
CHUNK = Chunk("nz.txt", 0, len(TEXT), TEXT, "vi", "Luxon thăm Việt Nam", "2024-02-27", ((0, len(TEXT)),))
PASSAGES = [Passage(1, CHUNK, 0, len(TEXT), TEXT, 0.71)]
QUESTION = "When did Luxon visit Vietnam?"


def steps(pieces: list[str], answer: Answer) -> Generator[str, None, Answer]:
    yield from pieces
    return answer


def test_a_response_yields_the_pieces_then_keeps_the_answer() -> None:
    final = Answer(QUESTION, "In 2024 [1].", "en", Outcome.ANSWERED, draft="In 2024 [1].")
    response = Response(steps(["In 2024", " [1]."], final))
    assert list(response) == ["In 2024", " [1]."]
    assert response.answer() is final and response.text() == "In 2024 [1]." and list(response) == []


def test_a_response_read_only_for_its_answer_runs_to_the_end() -> None:
    final = Answer(QUESTION, "x", "en", Outcome.ANSWERED)
    response = Response(steps(["a", "b", "c"], final))
    assert next(iter(response)) == "a"
    assert response.answer() is final


@pytest.mark.parametrize(
    ("draft", "trusted", "outcome", "reason"),
    [
        ("Luxon visited Vietnam in 2024 [1].", False, Outcome.ANSWERED, ""),
        ("Luxon visited Vietnam in 2023 [1].", False, Outcome.QUOTED, "number not in cited passage"),
        ("Luxon visited Vietnam with Ardern [1].", False, Outcome.QUOTED, "name not in cited passage"),
        ("Luxon visited Vietnam.", False, Outcome.QUOTED, "no citation"),
        ("Luxon thăm Việt Nam [1].", False, Outcome.QUOTED, "wrong language"),
        ("When did Luxon visit Vietnam? [1]", False, Outcome.QUOTED, "restates the question"),
        ("NOT FOUND", False, Outcome.OVERRULED, ""),
        ("NOT FOUND", True, Outcome.REFUSED, ""),
    ],
)
def test_verify_names_how_the_answer_came_about(draft, trusted, outcome, reason) -> None:
    verdict = verify(draft, PASSAGES, QUESTION, "en", trust_not_found=trusted)
    assert (verdict.outcome, verdict.reason) == (outcome, reason)
    expected = {
        Outcome.ANSWERED: draft,
        Outcome.REFUSED: NOT_FOUND["en"],
    }.get(outcome, quote_evidence(PASSAGES, "en"))
    assert verdict.text == expected


def test_quoted_evidence_keeps_the_passage_verbatim_with_its_origin() -> None:
    assert (
        quote_evidence(PASSAGES, "en")
        == f"According to the documents: “{TEXT}” (“Luxon thăm Việt Nam”, 2024-02-27) [1]"
    )
    assert quote_evidence(PASSAGES, "zh") == f"根据文档： “{TEXT}”（《Luxon thăm Việt Nam》，2024-02-27）[1]"


def test_the_note_tells_why_the_draft_is_not_the_answer() -> None:
    def answer(outcome: Outcome, reason: str = "") -> Answer:
        return Answer(QUESTION, "text", "en", outcome, draft="draft", reason=reason)

    assert answer(Outcome.ANSWERED).note() == ""
    assert "(no citation)" in answer(Outcome.QUOTED, "no citation").note()
    assert "NOT FOUND" in answer(Outcome.OVERRULED).note()
    assert "0.412 < 0.55" in answer(Outcome.GATED, "best passage relevance 0.412 < 0.55").note()
    assert "no answer" in answer(Outcome.REFUSED).note()
    assert [answer(o).abstained for o in Outcome] == [False, False, False, True, True]


def test_the_answer_html_links_valid_citations_and_shows_the_note() -> None:
    cited = citations_for("[1]", PASSAGES)
    quoted = Answer(QUESTION, "See [1] and [2] <b>", "en", Outcome.QUOTED, reason="no citation", citations=cited)
    html = answer_html(quoted, turn=3)
    assert '<a class="cite" href="#src-3-1">[1]</a>' in html and "[2]" in html and 'href="#src-3-2"' not in html
    assert "&lt;b&gt;" in html and '<em class="note">(the draft failed a check (no citation)' in html
    assert "note" not in answer_html(Answer(QUESTION, "ok [1]", "en", Outcome.ANSWERED), turn=1)
