"""The answering path end to end with a real index and fake models: outcomes, citations, language, streaming."""

from __future__ import annotations

from dataclasses import replace

from rag.answering import NOT_FOUND, ask, verify
from rag.citations import quote_evidence
from rag.records import Outcome
from rag.retrieval import retrieve
from tests.fakes import EchoGenerator


def test_answer_cites_the_passage_it_quotes(fake_pipeline):
    result = ask("Việt Nam xuất khẩu bao nhiêu gạo?", fake_pipeline).answer()
    assert result.outcome == Outcome.ANSWERED and not result.abstained and result.text == result.draft.strip()
    assert result.citations and result.citations[0].source == "vi.txt"
    assert "8 triệu tấn" in result.citations[0].text


def test_the_response_streams_the_draft_then_holds_the_answer(fake_pipeline):
    response = ask("大熊猫的栖息地在哪里？", fake_pipeline)
    pieces = list(response)
    assert len(pieces) == 2  # the echo generator writes its reply in two pieces
    result = response.answer()
    assert result.draft == "".join(pieces) and response.text() == result.text
    assert list(response) == [] and response.answer() is result  # a finished response stays finished


def test_asking_for_the_answer_runs_a_partly_read_response_to_the_end(fake_pipeline):
    response = ask("Where is the kiwi bird native to?", fake_pipeline)
    first = next(iter(response))
    result = response.answer()
    assert result.draft.startswith(first) and len(result.draft) > len(first) and result.citations


def test_weak_evidence_is_gated_in_the_question_language(fake_pipeline):
    gated = fake_pipeline.settings.with_(min_relevance=0.99, min_relevance_same_language=0.99)
    result = ask("Giá vàng hôm nay là bao nhiêu?", replace(fake_pipeline, settings=gated)).answer()
    assert result.outcome == Outcome.GATED and result.abstained and result.text == NOT_FOUND["vi"]
    assert not result.citations and result.draft == "" and "< 0.99" in result.reason
    assert fake_pipeline.generator.prompts == []  # the gate stops before generation


def test_model_not_found_is_refused_or_overruled_by_its_relevance_bound(fake_pipeline):
    trusting = fake_pipeline.settings.with_(trust_not_found_below=1.0)
    pipeline = replace(fake_pipeline, settings=trusting, generator=EchoGenerator("NOT FOUND"))
    result = ask("What do kiwi birds eat?", pipeline).answer()
    assert result.outcome == Outcome.REFUSED and result.abstained and result.text == NOT_FOUND["en"]
    assert result.draft == "NOT FOUND"
    overruling = replace(pipeline, settings=pipeline.settings.with_(trust_not_found_below=0.0))
    result = ask("What do kiwi birds eat?", overruling).answer()
    assert result.outcome == Outcome.OVERRULED and not result.abstained and result.draft == "NOT FOUND"
    assert result.text.startswith("According to the documents: “Kiwi birds The kiwi")
    assert "NOT FOUND" in result.note()


def test_an_invented_number_is_replaced_by_the_quoted_passage_and_the_reason_kept(fake_pipeline):
    reply = "The kiwi lays 12 eggs a year [1]."  # 12 appears in no passage
    result = ask("What eggs does the kiwi bird lay?", replace(fake_pipeline, generator=EchoGenerator(reply))).answer()
    assert result.outcome == Outcome.QUOTED and result.reason == "number not in cited passage"
    assert result.draft == reply and "12" not in result.text
    assert result.text == (
        "According to the documents: “The kiwi is a flightless bird native to New Zealand. It lays very large eggs.”"
        " (“Kiwi birds”) [1]"
    )
    assert result.citations[0].n == 1


def test_verify_keeps_a_grounded_answer_and_names_the_failed_check(fake_pipeline):
    passages = retrieve("gạo xuất khẩu 2023", fake_pipeline, top_k=3).passages
    question = "How much rice did Vietnam export?"
    kept = verify("In 2023 Vietnam exported 8 million tonnes of rice [1] [9].", passages, question, "en")
    assert kept.outcome == Outcome.ANSWERED and kept.text == "In 2023 Vietnam exported 8 million tonnes of rice [1]."
    for draft, reason in [
        ("In 2023 Vietnam sold rice to Japan [1].", "name not in cited passage"),  # Japan: in no passage
        ("Vào năm 2023 [1].", "wrong language"),
        ("Vietnam exported 8 million tonnes.", "no citation"),
        ("How much rice did Vietnam export? [1]", "restates the question"),
        ("[1]", "empty answer"),
    ]:
        verdict = verify(draft, passages, question, "en")
        assert (verdict.outcome, verdict.reason, verdict.text) == (
            Outcome.QUOTED,
            reason,
            quote_evidence(passages, "en"),
        ), draft


def test_a_follow_up_is_searched_with_the_question_it_follows(fake_pipeline):
    follow_up = "and its eggs?"
    alone = ask(follow_up, fake_pipeline).answer()
    after = ask(follow_up, fake_pipeline, ["Where is the kiwi bird native to?"]).answer()
    assert after.passages[0].chunk.source == "en.txt"
    assert after.passages[0].relevance > alone.passages[0].relevance  # the previous question adds its words


def test_the_json_form_keeps_the_keys_and_adds_how_the_answer_came_about(fake_pipeline):
    reply = "The kiwi lays 12 eggs a year [1]."
    data = ask("What eggs does the kiwi bird lay?", replace(fake_pipeline, generator=EchoGenerator(reply))).answer()
    record = data.to_dict()
    assert list(record) == [
        "answer", "abstained", "outcome", "reason", "draft", "language", "citations", "retrieved", "latency_s"
    ]  # fmt: skip
    assert (record["outcome"], record["reason"], record["draft"]) == ("quoted", "number not in cited passage", reply)
    assert list(record["citations"][0]) == ["n", "source", "start", "end", "text", "title", "date"]
    assert record["retrieved"][0]["source"] == "en.txt" and record["latency_s"] >= 0
