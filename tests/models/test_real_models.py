"""End to end with the real embedding model and GGUF generators over the seed corpus (slow)."""

from __future__ import annotations

import json
import unicodedata

import numpy as np
import pytest

from rag.answer.ask import ask
from rag.answer.checks import unnamed_party
from rag.cli import main
from rag.config import PROJECT_DIR, AnswerSettings
from rag.engines.llama import LlamaCppGenerator
from rag.pipeline import load_pipeline, make_embedder
from rag.records import Chunk, Passage
from tests.conftest import ASEAN_NZ, SEEDS

CSP_SOURCES = {"000_ce3c90c106d94d56.txt", "002_a06ca1df537d2285.txt"}  # both report the 2025 upgrade


def seed_text(source: str) -> str:
    return unicodedata.normalize("NFC", (SEEDS / source).read_text(encoding="utf-8"))


def test_english_question_finds_the_vietnamese_article_in_top_3(real_pipeline):
    hits = real_pipeline.retrieve(ASEAN_NZ).hits
    assert "000_ce3c90c106d94d56.txt" in [h.chunk.source for h in hits[:3]]


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("新西兰总理卢克松何时访问越南？", "003_4d7e7cb5f3460212.txt"),
        ("Timor-Leste trở thành thành viên thứ mấy của ASEAN?", "002_a06ca1df537d2285.txt"),
        ("Who is the President of South Korea who attended the 26th ASEAN-Korea summit?", "004_7f0b2f5ea4df9f22.txt"),
    ],
)
def test_each_language_retrieves_its_source_first(real_pipeline, question, source):
    assert real_pipeline.retrieve(question).hits[0].chunk.source == source


def test_answer_is_grounded_in_a_real_cited_passage(sample_answer):
    result = sample_answer
    assert not result.abstained
    assert "2025" in result.text
    assert result.citations, result.text
    for citation in result.citations:
        assert seed_text(citation.source)[citation.start : citation.end] == citation.text
    assert CSP_SOURCES & {c.source for c in result.citations}


def test_unanswerable_question_abstains(real_pipeline):
    result = ask("What is the recipe for chocolate cake?", real_pipeline).answer()
    assert result.abstained and not result.citations
    assert result.text == "The documents do not contain the answer to this question."


def test_chat_template_model_answers_through_the_same_pipeline(real_settings, real_embedder, real_pipeline):
    chat_model = PROJECT_DIR / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    generator = LlamaCppGenerator(chat_model, threads=real_settings.engines.threads)
    assert generator.has_chat_template
    pipeline = load_pipeline(real_settings, real_embedder, generator)
    result = ask(ASEAN_NZ, pipeline).answer()
    assert not result.abstained and result.citations
    for citation in result.citations:
        assert seed_text(citation.source)[citation.start : citation.end] == citation.text


def test_cli_ask_json_reports_answer_citations_and_retrieval(real_settings, session_models, monkeypatch, capsys):
    """`rag ask --json` in this process, with the session's models (a child process loading both is the test of
    tests/models/test_pdf_cli.py)."""
    monkeypatch.setenv("RAG_INDEX_DIR", str(real_settings.store.index_dir))
    assert main(["ask", "--json", ASEAN_NZ]) == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert {"answer", "abstained", "outcome", "reason", "draft", "citations", "retrieved", "latency_s"} <= set(data)
    assert data["citations"] and {"n", "source", "start", "end", "text"} <= set(data["citations"][0])
    assert data["retrieved"][0]["source"].endswith(".txt") and data["latency_s"] > 0


def test_cli_reports_a_missing_model_in_one_line(real_settings, session_models, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("RAG_INDEX_DIR", str(real_settings.store.index_dir))
    monkeypatch.setenv("RAG_GGUF", str(tmp_path / "none.gguf"))
    assert main(["ask", ASEAN_NZ]) == 3
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("error: GGUF model not found at")


def test_cli_ask_prints_the_true_reason_for_a_replaced_draft(real_settings, sample_answer, session_models, capsys):
    expected = sample_answer  # greedy decoding: the CLI's run writes the same draft
    assert main(["--index-dir", str(real_settings.store.index_dir), "ask", ASEAN_NZ]) == 0
    out = capsys.readouterr().out
    assert out.startswith(expected.draft) and expected.text in out
    if not expected.note():  # the draft is the answer
        assert "\n(" not in out.split(expected.text)[0]
    else:  # the reason code and why the answer differs from the draft, then the answer
        assert f"\n({expected.reason.value}: {expected.note()})\n{expected.text}\n" in out


def test_the_int8_encoder_ranks_a_cross_lingual_pair_and_names_itself(real_settings):
    embedder = make_embedder(real_settings.with_(embed_int8=True).engines)
    assert embedder.model_id == "embeddinggemma-300m+int8"  # on a CPU; the index records it
    query = embedder.embed_queries(["When did New Zealand's prime minister visit Vietnam?"])[0]
    docs = embedder.embed_documents(
        [
            "Thủ tướng New Zealand Christopher Luxon thăm chính thức Việt Nam từ ngày 26 đến 28/2/2025.",
            "Việt Nam xuất khẩu 8 triệu tấn gạo năm 2023, chủ yếu sang Philippines.",
        ],
        ["Quan hệ Việt Nam - New Zealand", "Xuất khẩu gạo"],
    )
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    assert docs[0] @ query > docs[1] @ query + 0.1


def test_a_name_is_recognised_in_another_language(real_embedder):
    text = "Quan hệ ASEAN - Hàn Quốc được nâng cấp lên Đối tác Chiến lược toàn diện năm 2024."
    chunk = Chunk("korea.txt", 0, len(text), text, "vi", "ASEAN - Hàn Quốc", None, ((0, len(text)),))
    korea = [Passage(1, chunk, 0, len(text), text, 0.6)]
    minimum = AnswerSettings().min_name_similarity, AnswerSettings().min_country_similarity
    assert unnamed_party("When did ASEAN and Japan become partners?", korea, real_embedder, *minimum) == "Japan"
    assert unnamed_party("When did ASEAN and South Korea become partners?", korea, real_embedder, *minimum) == ""
    assert unnamed_party("When was the ASEAN–Korea Summit held?", korea, real_embedder, *minimum) == ""
    text = "Hiệp định Thương mại tự do ASEAN - Úc - New Zealand (AANZFTA)"  # Úc is also a common word
    chunk = Chunk("fta.txt", 0, len(text), text, "vi", "", None, ((0, len(text)),))
    fta = [Passage(1, chunk, 0, len(text), text, 0.6)]
    assert unnamed_party("Did ASEAN and Australia review their FTA?", fta, real_embedder, *minimum) == ""
    assert unnamed_party("Did ASEAN and Japan review their FTA?", fta, real_embedder, *minimum) == "Japan"
