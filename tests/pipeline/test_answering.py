"""The answering path end to end with a real index and fake models: outcomes, citations, language, streaming."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from rag.answer.ask import ask
from rag.answer.decide import NOT_FOUND, decide, gate
from rag.answer.question import Question, read_question
from rag.answer.translate import with_translations
from rag.engines.protocols import Piece
from rag.ingest.build import index_files
from rag.pipeline import load_pipeline
from rag.records import Outcome, Prompt, Reason
from tests.fakes import EchoGenerator, HashEmbedder


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
    assert not result.citations and result.draft == "" and "< 0.99" in result.detail
    assert fake_pipeline.generator.prompts == []  # the gate stops before generation


def test_a_term_no_document_holds_is_gated(fake_pipeline):
    assert fake_pipeline.index.holds_term("New_Zealand") and not fake_pipeline.index.holds_term("Zealand_New")
    # a word a PDF hyphenated at a line break ("Flightless-\nBird") stands as two adjacent words
    assert fake_pipeline.index.holds_term("FlightlessBird") and not fake_pipeline.index.holds_term("BirdFlightless")
    result = ask("What does the KiwiWatch2 programme count?", fake_pipeline).answer()
    assert result.outcome == Outcome.GATED and result.reason == Reason.UNKNOWN_TERM
    assert result.detail == "no document holds KiwiWatch2" and result.text == NOT_FOUND["en"]
    assert fake_pipeline.generator.prompts == []
    held = ask("Chim kiwi có bay được không (flightless_bird)?", fake_pipeline).answer()
    assert held.reason != Reason.UNKNOWN_TERM  # "flightless bird" is in the English document: answered


def test_model_not_found_is_refused_or_overruled_by_its_relevance_bound(fake_pipeline):
    trusting = fake_pipeline.settings.with_(trust_not_found_below=1.0)
    pipeline = replace(fake_pipeline, settings=trusting, generator=EchoGenerator("NOT FOUND"))
    result = ask("What do kiwi birds eat?", pipeline).answer()
    assert result.outcome == Outcome.REFUSED and result.abstained and result.text == NOT_FOUND["en"]
    assert result.draft == "NOT FOUND"
    overruling = replace(pipeline, settings=pipeline.settings.with_(trust_not_found_below=0.0))
    assert ask("What do kiwi birds eat?", overruling).answer().outcome == Outcome.REFUSED  # asks for a fact
    result = ask("Do kiwi birds lay large eggs?", overruling).answer()  # a yes or no its passage may hold unsaid
    assert result.outcome == Outcome.OVERRULED and not result.abstained and result.draft == "NOT FOUND"
    assert result.text.startswith("According to the documents: “Kiwi birds The kiwi")
    assert "NOT FOUND" in result.note()


def test_a_number_from_another_passage_is_replaced_by_the_quoted_passage_and_the_reason_kept(fake_pipeline):
    reply = "The kiwi has laid very large eggs since 2016 [1]."  # 2016 is in the panda document, not in [1]
    result = ask("What eggs does the kiwi bird lay?", replace(fake_pipeline, generator=EchoGenerator(reply))).answer()
    assert result.outcome == Outcome.QUOTED and result.detail == "2016 is not in the cited passages"
    assert result.draft == reply and "2016" not in result.text and not result.abstained
    assert result.text == (
        "According to the documents: “The kiwi is a flightless bird native to New Zealand. It lays very large eggs.”"
        " (“Kiwi birds”) [1]"
    )
    assert result.citations[0].n == 1 and result.citations[0].translation == ""


def test_a_number_in_no_retrieved_passage_means_the_documents_do_not_answer(fake_pipeline):
    reply = "The kiwi lays 12 eggs a year [1]."  # 12 appears in no document
    result = ask("How many eggs does the kiwi lay?", replace(fake_pipeline, generator=EchoGenerator(reply))).answer()
    assert result.outcome == Outcome.INVENTED and result.abstained and result.text == NOT_FOUND["en"]
    assert result.detail == "12 is not in the cited passages; 12 is in no retrieved passage"
    assert result.draft == reply and not result.citations and "12 is in no retrieved passage" in result.note()


def test_a_number_only_an_unrelated_document_holds_does_not_vouch_for_a_draft(fake_pipeline):
    question, reply = "How many eggs does the kiwi lay?", "The kiwi lays 2016 eggs a year [1]."  # 2016: the panda's
    hits = {hit.chunk.source: hit.relevance for hit in fake_pipeline.retrieve(question, top_k=3).hits}
    assert hits["en.txt"] > hits["zh.md"]
    writing = replace(fake_pipeline, generator=EchoGenerator(reply))
    assert ask(question, writing).answer().outcome == Outcome.QUOTED  # every document found counts: 2016 is held
    floor = (hits["en.txt"] + hits["zh.md"]) / 2  # the panda's chunk is found, below the gate's floor
    strict = writing.settings.with_(min_relevance=floor, min_relevance_same_language=floor)
    result = ask(question, replace(writing, settings=strict)).answer()
    assert result.outcome == Outcome.INVENTED and result.detail.endswith("2016 is in no retrieved passage")


def test_an_answer_the_model_was_unsure_of_is_kept_and_marked_for_checking(fake_pipeline):
    question, reply = "What eggs does the kiwi bird lay?", "The kiwi lays very large eggs [1]."
    for probability, doubt in ((0.9, ""), (0.1, f"“{reply}” (probability 0.10)")):
        result = ask(question, replace(fake_pipeline, generator=EchoGenerator(reply, probability=probability))).answer()
        assert (result.outcome, result.text, result.doubt) == (Outcome.ANSWERED, reply, doubt)
    assert result.note().startswith("the model was unsure of") and result.to_dict()["doubt"] == doubt
    quoted = ask(
        question, replace(fake_pipeline, generator=EchoGenerator("It has laid eggs since 2016 [1].", probability=0.1))
    )
    assert quoted.answer().outcome == Outcome.QUOTED and quoted.answer().doubt == ""  # only a kept draft has one


def test_decide_keeps_a_grounded_answer_and_names_the_failed_check(fake_pipeline):
    passages = fake_pipeline.retrieve("gạo xuất khẩu 2023", top_k=3).passages
    question = Question("How much rice did Vietnam export?", "en")
    settings = fake_pipeline.settings.with_(min_support=0.0).answer

    def verify(draft: str):
        return decide(draft, question, passages, [p.chunk for p in passages], fake_pipeline.embedder, settings)

    kept = verify("In 2023 Vietnam exported 8 million tonnes of rice [1] [9].")
    assert kept.outcome == Outcome.ANSWERED and kept.text == "In 2023 Vietnam exported 8 million tonnes of rice [1]."
    invented = "9e+06 is not in the cited passages; 9e+06 is in no retrieved passage"
    for draft, outcome, reason in [
        ("In 2023 Vietnam sold rice to Quang Binh [1].", Outcome.QUOTED, "Quang Binh is not in the cited passages"),
        ("In 2023 Vietnam exported 9 million tonnes [1].", Outcome.INVENTED, invented),
        ("Vào năm 2023 [1].", Outcome.QUOTED, "wrong language"),
        ("Vietnam exported 8 million tonnes.", Outcome.QUOTED, "no citation"),
        ("How much rice did Vietnam export? [1]", Outcome.QUOTED, "restates the question"),
        ("[1]", Outcome.QUOTED, "empty answer"),
    ]:
        decision = verify(draft)
        assert (decision.outcome, decision.detail) == (outcome, reason), draft
        assert decision.text == ("" if outcome is Outcome.QUOTED else NOT_FOUND["en"])


def test_a_follow_up_is_searched_with_the_question_it_follows(fake_pipeline):
    follow_up = "and its eggs?"
    alone = ask(follow_up, fake_pipeline).answer()
    after = ask(follow_up, fake_pipeline, ["Where is the kiwi bird native to?"]).answer()
    assert after.passages[0].chunk.source == "en.txt"
    assert after.passages[0].relevance > alone.passages[0].relevance  # the previous question adds its words


def test_the_json_form_keeps_the_keys_and_adds_how_the_answer_came_about(fake_pipeline):
    reply = "The kiwi has laid very large eggs since 2016 [1]."
    data = ask("What eggs does the kiwi bird lay?", replace(fake_pipeline, generator=EchoGenerator(reply))).answer()
    record = data.to_dict()
    assert list(record) == [
        "answer", "abstained", "outcome", "reason", "detail", "doubt", "draft", "language", "citations", "retrieved",
        "searched_as", "sources_s", "latency_s",
    ]  # fmt: skip
    assert (record["outcome"], record["reason"], record["detail"], record["draft"]) == (
        "quoted",
        "number_not_in_passages",
        "2016 is not in the cited passages",
        reply,
    )
    assert list(record["citations"][0]) == [
        "n", "source", "start", "end", "text", "title", "date", "page", "translation"
    ]  # fmt: skip
    assert list(record["retrieved"][0]) == ["source", "page", "score", "text"]
    assert record["retrieved"][0]["source"] == "en.txt" and record["latency_s"] >= 0


def translating(pipeline, reply: str, translation: str | None = None):
    """The fake pipeline with a generator that drafts `reply` and translates the rice passage as `translation`."""
    rice = pipeline.retrieve("How much rice did Vietnam export in 2023?").passages[0].text
    translations = {" ".join(rice.split()): translation} if translation else {}
    settings = pipeline.settings.with_(min_translation_similarity=0.0, min_support=0.0)  # hashed: not cross-lingual
    return replace(pipeline, settings=settings, generator=EchoGenerator(reply, translations))


def test_a_draft_in_the_wrong_language_falls_back_to_a_marked_translation_of_the_quote(fake_pipeline):
    english = "Vietnam exported 8 million tonnes of rice in 2023. Its main market is the Philippines."
    pipeline = translating(fake_pipeline, "Việt Nam xuất khẩu 8 triệu tấn gạo [1].", english)
    result = ask("How much rice did Vietnam export in 2023?", pipeline).answer()
    assert (result.outcome, result.detail) == (Outcome.QUOTED, "wrong language")
    assert (
        result.text == f"According to the documents: “{english}” (machine translation from Vietnamese, 1 May 2024) [1]"
    )
    assert result.citations[0].translation == english and "8 triệu tấn" in result.citations[0].text
    assert result.to_dict()["citations"][0]["translation"] == english


def test_a_translation_that_changes_a_number_is_not_shown(fake_pipeline):
    wrong = "Vietnam exported 80 million tonnes of rice in 2023. Its main market is the Philippines."
    pipeline = translating(fake_pipeline, "Việt Nam xuất khẩu gạo [1].", wrong)
    result = ask("How much rice did Vietnam export in 2023?", pipeline).answer()
    assert result.outcome == Outcome.QUOTED and "80" not in result.text
    assert "8 triệu tấn" in result.text and "(in Vietnamese; no translation available, 1 May 2024) [1]" in result.text
    assert result.citations[0].translation == ""


@pytest.mark.parametrize(
    ("reply", "outcome", "reason"),
    [
        (
            "Vietnam exported 8 million tonnes of rice to Kuala Lumpur in 2023 [1].",
            Outcome.QUOTED,
            "Kuala Lumpur is not in the cited passages",
        ),
        (
            "Vietnam exported 3 million tonnes of rice in 2023 [1].",  # 8 triệu tấn: 3 million is nowhere
            Outcome.INVENTED,
            "3e+06 is not in the cited passages; 3e+06 is in no retrieved passage",
        ),
    ],
)
def test_a_hallucinated_name_or_number_is_caught_across_languages(fake_pipeline, reply, outcome, reason):
    result = ask("How much rice did Vietnam export in 2023?", translating(fake_pipeline, reply)).answer()
    assert (result.outcome, result.detail) == (outcome, reason)


def test_a_grounded_english_answer_from_a_vietnamese_passage_is_kept(fake_pipeline):
    reply = "In 2023 Vietnam exported 8 million tonnes of rice, mainly to the Philippines [1]."
    result = ask("How much rice did Vietnam export in 2023?", translating(fake_pipeline, reply)).answer()
    assert result.outcome == Outcome.ANSWERED and result.text == reply


def test_translated_citations_are_added_on_request(fake_pipeline):
    english = "Vietnam exported 8 million tonnes of rice in 2023. Its main market is the Philippines."
    reply = "In 2023 Vietnam exported 8 million tonnes of rice [1]."
    pipeline = translating(fake_pipeline, reply, english)
    result = ask("How much rice did Vietnam export in 2023?", pipeline).answer()
    assert result.outcome == Outcome.ANSWERED and result.citations[0].translation == ""  # not computed unasked
    translated = with_translations(result, pipeline.generator, pipeline.embedder, 0.0)
    assert translated.citations[0].translation == english and translated.text == result.text


class CountingEmbedder(HashEmbedder):
    """Records each text it embeds, with its kind; with `flip`, a document's vector is the opposite of the same
    text's query vector."""

    def __init__(self, flip: bool = False) -> None:
        self.embedded: list[tuple[str, str]] = []
        self.sign = -1.0 if flip else 1.0

    def embed_queries(self, texts):
        self.embedded += [("query", t) for t in texts]
        return super().embed_queries(texts)

    def embed_documents(self, texts, titles=None, advance=None):
        self.embedded += [("document", t) for t in texts]
        return self.sign * super().embed_queries(texts)


def test_the_checks_embed_each_text_once_and_later_questions_reuse_the_vectors(fake_pipeline, settings):
    counting = CountingEmbedder()
    draft = "Việt Nam xuất khẩu 8 triệu tấn gạo năm 2023."  # no marker: each passage is tried for it, then all of them
    pipeline = load_pipeline(settings, counting, EchoGenerator(draft))
    result = ask("Việt Nam xuất khẩu bao nhiêu gạo năm 2023?", pipeline).answer()
    assert result.outcome == Outcome.ANSWERED and result.text.endswith("[1].")
    assert len(counting.embedded) == len(set(counting.embedded)) and ("query", draft) in counting.embedded
    counting.embedded.clear()
    assert ask("Việt Nam xuất khẩu bao nhiêu gạo năm 2023?", pipeline).text() == result.text
    assert counting.embedded == []  # every vector (question, clauses, draft, passages) was remembered


def test_a_remembering_embedder_hands_back_the_vector_it_made_and_keeps_queries_and_documents_apart():
    from rag.engines.protocols import RememberingEmbedder

    counting = CountingEmbedder(flip=True)
    remembering = RememberingEmbedder(counting)
    first = remembering.embed_documents(["a b", "c d", "a b"])
    again = remembering.embed_documents(["c d", "e f"])
    asked = remembering.embed_queries(["a b"])
    assert counting.embedded == [("document", "a b"), ("document", "c d"), ("document", "e f"), ("query", "a b")]
    assert np.array_equal(first[0], first[2]) and np.array_equal(again[0], first[1]) and again.shape == (2, 512)
    assert np.array_equal(asked[0], -first[0])
    assert remembering.embed_queries([]).shape == (0, 512)
    remembering.embed_documents(["a b"], titles=["Title"])  # the title changes the vector: another text
    assert counting.embedded[-1] == ("document", "a b") and len(counting.embedded) == 5
    remembering.embed_documents(["a b"], titles=["Title"], advance=lambda n: None)  # indexing passes through
    assert len(counting.embedded) == 6


def test_a_remembering_embedder_forgets_the_texts_used_longest_ago_beyond_its_capacity():
    from rag.engines.protocols import RememberingEmbedder

    counting = CountingEmbedder()
    remembering = RememberingEmbedder(counting, capacity=2)
    remembering.embed_documents(["a", "b"])
    remembering.embed_documents(["a"])  # used again: "b" is now the oldest
    remembering.embed_documents(["c"])
    counting.embedded.clear()
    vectors = remembering.embed_documents(["a", "b", "c", "b"])
    assert counting.embedded == [("document", "b")] and vectors.shape == (4, 512)
    assert np.array_equal(vectors[1], vectors[3])


class SecondThoughts(EchoGenerator):
    """Misreads two passages side by side (a name from neither, citing passage `cites`); given one passage alone,
    repeats it with its marker."""

    def __init__(self, cites: int = 2) -> None:
        super().__init__()
        self.cites = cites

    def stream(self, prompt: Prompt) -> Iterator[Piece]:
        self.prompts.append(prompt)
        shown = re.findall(r"^\[(\d+)\] \([^)]*\) (.*)$", prompt.user, re.MULTILINE)
        misread = f"It is found in Kuala Lumpur [{self.cites}]."
        yield Piece(misread if len(shown) > 1 else f"{shown[0][1]} [{shown[0][0]}]")


def test_a_failed_draft_is_written_again_from_the_best_passage_when_it_did_not_draw_on_it(tmp_path, settings):
    folder = tmp_path / "birds"
    folder.mkdir()
    (folder / "kiwi.txt").write_text("Kiwi birds\n\nThe kiwi bird lives in New Zealand forests.\n", encoding="utf-8")
    (folder / "eggs.txt").write_text("Kiwi eggs\n\nThe kiwi bird lays one very large egg.\n", encoding="utf-8")
    settings = settings.with_(min_support=0.0)
    index_files([folder], settings, HashEmbedder())
    pipeline = load_pipeline(settings, HashEmbedder(), SecondThoughts())
    result = ask("Where does the kiwi bird live?", pipeline).answer()
    assert (result.outcome, result.reason) == (Outcome.ANSWERED, Reason.KEPT_ON_SECOND_READING)
    assert result.detail == "Kuala Lumpur is not in the cited passages; read [1] alone"
    assert result.draft == "It is found in Kuala Lumpur [2]." and [c.n for c in result.citations] == [1]
    assert "first draft failed a check" in result.note()
    unread = load_pipeline(settings.with_(second_reading=False), HashEmbedder(), SecondThoughts())
    assert ask("Where does the kiwi bird live?", unread).answer().outcome == Outcome.QUOTED
    near = load_pipeline(settings, HashEmbedder(), SecondThoughts(cites=1))  # [2] is as relevant as [1]
    assert ask("Where does the kiwi bird live?", near).answer().detail.endswith("read [2] alone")


def test_the_gate_judges_the_strongest_passage_not_the_first(fake_pipeline):
    found = fake_pipeline.retrieve("What do kiwi birds eat?", top_k=2).passages
    weak, strong = replace(found[0], relevance=0.1), replace(found[1], relevance=0.9)
    asked = read_question("What do kiwi birds eat?", 500)
    settings = fake_pipeline.settings.with_(min_relevance=0.5, min_relevance_same_language=0.55).answer
    assert gate(asked, [weak, strong], settings) is None  # a term's entry may come first
    gated = gate(asked, [weak], settings)
    assert gated is not None and gated.reason == Reason.BELOW_GATE


def test_a_pair_the_passages_name_half_of_is_not_answered(tmp_path, settings):
    folder = tmp_path / "relations"
    folder.mkdir()
    (folder / "korea.txt").write_text(
        "Partners\n\nThe ASEAN-Korea relations were upgraded to a Comprehensive Strategic Partnership in 2024.\n",
        encoding="utf-8",
    )
    index_files([folder], settings, HashEmbedder())
    generator = EchoGenerator("ASEAN and Japan upgraded their relations in 2024 [1].")
    pipeline = load_pipeline(settings, HashEmbedder(), generator)
    result = ask("When did ASEAN and Japan upgrade their relations?", pipeline).answer()
    assert (result.outcome, result.reason) == (Outcome.GATED, Reason.UNNAMED_PARTY)
    assert result.detail == "no passage names Japan" and result.text == NOT_FOUND["en"]
    assert result.note() == "the passages found do not answer it: no passage names Japan"
    assert generator.prompts == [] and {p.chunk.source for p in result.passages} == {"korea.txt"}
    asked = ask("When did ASEAN and Korea upgrade their relations?", pipeline).answer()  # Korea in "ASEAN-Korea"
    assert asked.reason != Reason.UNNAMED_PARTY and len(generator.prompts) == 1
    unrelated = ask("When did Japan and Peru sign a treaty?", pipeline).answer()  # neither is named: not this rule
    assert unrelated.reason != Reason.UNNAMED_PARTY


def test_a_rank_the_documents_never_state_is_not_answered(tmp_path, settings):
    folder = tmp_path / "meetings"
    folder.mkdir()
    (folder / "jcc.txt").write_text(
        "Joint committee\n\nThe 6th ASEAN-New Zealand Joint Cooperation Committee met in Jakarta on 2 July 2018.\n",
        encoding="utf-8",
    )
    index_files([folder], settings, HashEmbedder())
    generator = EchoGenerator("The 7th Joint Cooperation Committee met on 2 July 2018 [1].")
    pipeline = load_pipeline(settings, HashEmbedder(), generator)
    result = ask("When did the 7th ASEAN-New Zealand Joint Cooperation Committee meet?", pipeline).answer()
    assert (result.outcome, result.reason, result.detail) == (
        Outcome.GATED,
        Reason.UNSTATED_ORDINAL,
        "no document found states 7th",
    )
    assert generator.prompts == [] and result.text == NOT_FOUND["en"]
    held = ask("When did the 6th ASEAN-New Zealand Joint Cooperation Committee meet?", pipeline).answer()
    assert held.reason != Reason.UNSTATED_ORDINAL and len(generator.prompts) == 1
