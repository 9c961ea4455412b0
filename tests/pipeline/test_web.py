"""The web edge's handlers (chat, upload, status), run on the fake pipeline without a browser."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest

from rag.answer.ask import Response
from rag.errors import IndexProblem, UnreadableDocument
from rag.ingest import read as loading
from rag.pipeline import Pipeline
from rag.web import chat as web_chat
from rag.web.chat import ChatState, respond
from rag.web.render import status_text
from rag.web.server import build_ui
from rag.web.service import Service
from rag.web.uploads import safe_name, upload
from tests.fakes import EchoGenerator


@pytest.fixture
def ui(fake_pipeline: Pipeline) -> Service:
    return Service(fake_pipeline)


def run(ui: Service, question: str, chat: ChatState | None = None) -> list[tuple]:
    return list(respond(ui, question, chat or ChatState()))


def test_respond_streams_then_shows_checked_answer_with_linked_sources(ui: Service) -> None:
    updates = run(ui, "Where is the kiwi bird native to?")
    reading = updates[1]  # the sources, before the model writes a word
    assert reading[0][-1]["content"] == "…" and 'data-source="en.txt"' in reading[1]
    drafts = [u[0][-1]["content"] for u in updates[2:-1]]
    assert len(drafts) >= 2 and drafts[-1].endswith("▌")  # the echo generator streams two pieces
    messages, sources, chat, box = updates[-1]
    assert messages[-2] == {"role": "user", "content": "Where is the kiwi bird native to?"}
    assert '<a class="cite" href="#src-1-1">[1]</a>' in messages[-1]["content"]
    assert "▌" not in messages[-1]["content"] and box == ""
    assert 'id="src-1-1" data-source="en.txt"' in sources and "<mark>" in sources
    assert chat.questions == ("Where is the kiwi bird native to?",) and 'class="note"' not in messages[-1]["content"]


def test_final_text_replaces_a_draft_that_fails_a_check_and_says_which(fake_pipeline: Pipeline) -> None:
    draft = "The kiwi has laid eggs since 2016 [7]."  # 2016: in the panda document, which it does not cite
    replying = replace(fake_pipeline, generator=EchoGenerator(draft))
    messages = run(Service(replying), "How many eggs does the kiwi lay?")[-1][0]
    assert "2016" not in messages[-1]["content"] and "[7]" not in messages[-1]["content"]
    assert "src-1-1" in messages[-1]["content"]  # quoted evidence, cited
    assert "(no citation)" in messages[-1]["content"]  # [7] points nowhere, so nothing is cited


def test_sessions_do_not_share_chats(ui: Service) -> None:
    first = run(ui, "Where is the kiwi bird native to?")[-1][2]
    second = run(ui, "熊猫的主要栖息地在哪里？")[-1][2]
    assert first.questions == ("Where is the kiwi bird native to?",)
    assert second.questions == ("熊猫的主要栖息地在哪里？",)
    follow = run(ui, "and its eggs?", first)[-1][2]
    assert len(follow.messages) == 4 and len(follow.sources) == 2 and 'data-turn="2"' in follow.sources[0]


def test_the_chat_hands_its_earlier_questions_to_the_core(ui: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, ...]] = []
    real_ask = web_chat.ask

    def noting_ask(question: str, pipeline: Pipeline, history: Sequence[str] = ()) -> Response:
        seen.append(tuple(history))
        return real_ask(question, pipeline, history)

    monkeypatch.setattr(web_chat, "ask", noting_ask)
    chat = run(ui, "Where is the kiwi bird native to?")[-1][2]
    run(ui, "and its eggs?", chat)
    assert seen == [(), ("Where is the kiwi bird native to?",)]


def test_errors_become_gr_error_without_a_trace(ui: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(gr.Error, match="question is empty"):
        run(ui, "  ?? ")

    def broken(*args: object) -> None:
        raise IndexProblem("index in /x is damaged (ValueError): rebuild it with `rag index --rebuild`")

    monkeypatch.setattr(web_chat, "ask", broken)
    with pytest.raises(gr.Error, match="rebuild it"):
        run(ui, "Where is the kiwi bird native to?")


def test_status_names_documents_chunks_and_models(ui: Service) -> None:
    text = status_text(ui.pipeline)
    assert "3 documents" in text and "chunks" in text and "hash-embedder" in text and "echo" in text


def test_upload_indexes_a_file_and_swaps_in_a_pipeline_that_finds_it(ui: Service, tmp_path: Path) -> None:
    note = tmp_path / "in" / "okapi.md"
    note.parent.mkdir()
    note.write_text("# Okapi\n\nThe okapi is a forest giraffe living in the Ituri rainforest.\n", encoding="utf-8")
    calls: list[float] = []
    report = upload(ui, [str(note)], lambda fraction, desc="": calls.append(fraction))
    assert "`okapi.md`" in report and "4 documents" in report and calls[-1] == 1.0
    assert (ui.pipeline.settings.store.upload_dir / "okapi.md").is_file()
    assert "4 documents" in status_text(ui.pipeline)
    sources = run(ui, "Where does the okapi forest giraffe live?")[-1][1]
    assert 'data-source="okapi.md"' in sources


def test_upload_rejects_binary_and_wrong_kinds_and_keeps_the_index(ui: Service, tmp_path: Path) -> None:
    binary = tmp_path / "photo.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    script = tmp_path / "run.sh"
    script.write_text("echo hi\n")
    before = ui.pipeline
    report = upload(ui, [str(binary), str(script)])
    assert report.count("Skipped") == 2 and "photo.txt" in report and "run.sh: only" in report
    assert ui.pipeline is before and not ui.pipeline.settings.store.upload_dir.exists()
    with pytest.raises(gr.Error, match="Choose one or more"):
        upload(ui, [])


def test_upload_names_are_stripped_of_folders(ui: Service, tmp_path: Path) -> None:
    assert safe_name("../../etc/notes.txt") == "notes.txt"
    assert safe_name("..\\..\\Windows\\evil.md") == "evil.md"
    assert safe_name(".hidden name;rm -rf.html") == "hidden_name_rm_-rf.html"
    for bad in ("../../etc/passwd", "", "..", "x.exe"):
        with pytest.raises(UnreadableDocument, match="can be uploaded"):
            safe_name(bad)
    (tmp_path / "a").mkdir()
    note = tmp_path / "evil.txt"
    note.write_text("Plain text about kiwis.\n", encoding="utf-8")
    upload(ui, [f"{tmp_path}/a/../../{tmp_path.name}/evil.txt"])
    upload_dir = ui.pipeline.settings.store.upload_dir
    assert [p.name for p in upload_dir.iterdir()] == ["evil.txt"]


def test_upload_never_replaces_a_corpus_file_of_the_same_name(ui: Service, tmp_path: Path) -> None:
    twin = tmp_path / "en.txt"
    twin.write_text("A different text about tuatara lizards.\n", encoding="utf-8")
    upload(ui, [str(twin)])
    assert {"en.txt", "upload_en.txt"} <= set(ui.pipeline.index.files)


def test_build_ui_wires_the_handlers(ui: Service) -> None:
    demo = build_ui(ui)
    names = {d.get("api_name") for d in demo.config["dependencies"]}
    assert {"ask", "upload"} <= names


def test_an_abstention_shows_the_passages_the_model_saw(fake_pipeline: Pipeline) -> None:
    strict = replace(
        fake_pipeline, settings=fake_pipeline.settings.with_(min_relevance=0.99, min_relevance_same_language=0.99)
    )
    messages, sources, _, _ = run(Service(strict), "Where is the kiwi bird native to?")[-1]
    assert "do not contain" in messages[-1]["content"] and "No passage is cited" in sources
    assert "<details open>" in sources and 'data-source="en.txt"' in sources and "<mark>" in sources


def test_an_uploaded_file_is_read_once(ui: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real_decode = loading.decode

    def noting_decode(raw: bytes, name: str) -> str:
        reads.append(name)
        return real_decode(raw, name)

    monkeypatch.setattr(loading, "decode", noting_decode)
    note = tmp_path / "okapi.md"
    note.write_text("# Okapi\n\nThe okapi is a forest giraffe.\n", encoding="utf-8")
    assert "`okapi.md`" in upload(ui, [str(note)])
    assert reads == ["okapi.md"]


def test_translate_shows_the_newest_sources_in_the_question_language_on_demand(fake_pipeline: Pipeline) -> None:
    english = "Vietnam exported 8 million tonnes of rice in 2023. Its main market is the Philippines."
    question = "How much rice did Vietnam export in 2023?"
    reply = "In 2023 Vietnam exported 8 million tonnes of rice [1]."
    probe = respond(Service(fake_pipeline), question, ChatState())
    rice = list(probe)[-1][2].last.passages[0].text
    settings = fake_pipeline.settings.with_(min_translation_similarity=0.0, min_support=0.0)  # hashed vectors
    generator = EchoGenerator(reply, {" ".join(rice.split()): english})
    service = Service(replace(fake_pipeline, settings=settings, generator=generator))
    _, sources, chat, _ = run(service, question)[-1]
    assert "Machine translation" not in sources  # the first answer is not slowed by translating
    translated, chat = web_chat.translate_sources(service, chat)
    assert f"<b>Machine translation:</b> {english}" in translated and 'data-turn="1"' in translated
    assert chat.sources[0] in translated


def test_translate_before_any_question_is_a_clear_message(ui: Service) -> None:
    with pytest.raises(gr.Error, match="Ask a question first"):
        web_chat.translate_sources(ui, ChatState())


def test_the_documents_panel_lists_and_removes_only_after_confirming(ui: Service) -> None:
    from rag.web import documents

    grid, choice, status = documents.refresh(ui, "default")
    assert [row[0] for row in grid] == ["en.txt", "vi.txt", "zh.md"] and choice["choices"] == [
        "en.txt",
        "vi.txt",
        "zh.md",
    ]
    assert grid[1][4:6] == ["vi", "2024-05-01"] and "`default`" in status
    with pytest.raises(gr.Error, match="Choose a document"):
        documents.confirm(None, "default")
    shown, question = documents.confirm("en.txt", "default")
    assert shown["visible"] is True and question == "Remove **en.txt** from the collection `default`?"
    assert len(ui.pipeline.index.files) == 3  # asking to confirm removes nothing
    grid, choice, status, hidden, report = documents.remove(ui, "en.txt", "default")
    assert (
        [row[0] for row in grid] == ["vi.txt", "zh.md"] and hidden["visible"] is False and report == "Removed `en.txt`."
    )
    assert "2 documents" in status
    sources = run(ui, "Where is the kiwi bird native to?")[-1][1]
    assert 'data-source="en.txt"' not in sources
    with pytest.raises(gr.Error, match=r"not in the 'default' collection: en\.txt"):
        documents.remove(ui, "en.txt", "default")


def test_an_upload_into_a_new_collection_starts_it_and_its_chat_searches_only_it(ui: Service, tmp_path: Path) -> None:
    from rag.web import documents

    note = tmp_path / "penguins.txt"
    note.write_text("Penguins\n\nEmperor penguins breed on the sea ice of Antarctica.\n")
    assert documents.rows(ui, "birds") == [] and "is empty" in documents.status(ui, "birds")
    seen: list[str] = []
    report = upload(ui, [str(note)], lambda share, desc: seen.append(desc), collection="birds")
    assert report.startswith("Indexed `penguins.txt`: the index now holds 1 documents.")
    assert ui.collections() == ["default", "birds"] and len(ui.pipeline.index.files) == 3
    assert (ui.settings.store.upload_dir / "collections" / "birds" / "penguins.txt").is_file()
    assert seen[0] == "Reading penguins.txt (file 1 of 1)" and any("characters" in d for d in seen)
    sources = run(ui, "Where do emperor penguins breed?", ChatState(collection="birds"))[-1][1]
    assert 'data-source="penguins.txt"' in sources
    with pytest.raises(gr.Error, match="collection names are"):
        upload(ui, [str(note)], collection="../up")
    kept = ui.settings.store.upload_dir / "collections" / "birds" / "penguins.txt"
    documents.remove(ui, "penguins.txt", "birds")
    assert not kept.exists() and note.is_file()  # the uploaded copy goes with it; the user's own file stays
    indexed_from = Path(ui.pipeline.index.files["en.txt"].path)
    documents.remove(ui, "en.txt", "default")
    assert indexed_from.is_file()  # a file indexed from elsewhere is never deleted


def test_eta_comes_from_the_rate_so_far() -> None:
    from rag.web.uploads import eta

    assert eta(0, 1000, 5.0) == "" and eta(250, 1000, 5.0) == ", about 15 s left"
