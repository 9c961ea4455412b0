"""The OpenAI-compatible API in a real server process (`tests.serve_fakes`: the real app over the fake models),
driven with the official openai client and raw HTTP."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from rag.config import load_settings
from rag.ingest.build import index_files
from tests.fakes import HashEmbedder
from tests.processes import free_port, running
from tests.serve_fakes import DOCUMENTS

KIWI = "Where is the kiwi bird native to?"


class Server:
    """A running `tests.serve_fakes` process: its base URL, work folder and the fake model's log."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.url, self.workdir, self.log = url, workdir, workdir / "generator.log"

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def client(self, key: str = "x", max_retries: int = openai.DEFAULT_MAX_RETRIES) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key, max_retries=max_retries)

    def post(self, body: object, key: str | None = None, timeout: float = 30) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.post(f"{self.url}/v1/chat/completions", json=body, headers=headers, timeout=timeout)


def start(workdir: Path, pieces: int = 4, delay: float = 0.0, **env: str) -> Iterator[Server]:
    port = free_port()
    command = ["tests.serve_fakes", "--port", str(port), "--workdir", str(workdir), "--pieces", str(pieces)]
    command += ["--delay", str(delay), "--log", str(workdir / "generator.log")]
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/health", env, log=workdir.parent / f"{workdir.name}.out"):
        yield Server(url, workdir)


serving = contextlib.contextmanager(start)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Fast answers, default settings."""
    yield from start(tmp_path_factory.mktemp("api") / "fast")


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two seconds per answer (10 pieces, 0.2 s each), an API key, room for two waiting questions."""
    yield from start(
        tmp_path_factory.mktemp("api") / "slow", pieces=10, delay=0.2, RAG_API_KEY="s3cret", RAG_QUEUE_SIZE="2"
    )


def message(text: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": text}]


def test_openai_client_gets_the_checked_answer_with_citations(server: Server) -> None:
    completion = server.client().chat.completions.create(model="rag", messages=message(KIWI))
    text = completion.choices[0].message.content
    assert completion.object == "chat.completion" and completion.choices[0].finish_reason == "stop"
    assert text is not None and "New Zealand" in text and "[1]" in text
    extra = completion.model_extra or {}
    assert extra["abstained"] is False and extra["outcome"] == "answered" and extra["doubt"] == ""
    [citation] = extra["citations"]
    assert {"n", "source", "title", "date", "start", "end", "page", "text"} <= set(citation)
    assert citation["page"] is None  # a text file has no pages
    assert citation["n"] == 1 and citation["source"] == "en.txt" and citation["title"] == "Kiwi birds"
    assert DOCUMENTS["en.txt"][citation["start"] : citation["end"]] == citation["text"]


def test_openai_client_streams_chunks_with_citations_in_the_last(server: Server) -> None:
    chunks = list(server.client().chat.completions.create(model="rag", messages=message(KIWI), stream=True))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) >= 4 and all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1 and chunks[0].choices[0].delta.role == "assistant"
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"][0]["source"] == "en.txt" and (last.model_extra or {})["doubt"] == ""
    assert "".join(pieces) == (last.model_extra or {})["answer"]
    assert all(not (c.model_extra or {}).get("citations") for c in chunks[:-1])
    shown = (chunks[0].model_extra or {})["sources"]  # the passages read, sent before any of the answer
    assert shown[0]["source"] == "en.txt" and shown[0]["n"] == 1 and not chunks[0].choices[0].delta.content


def test_the_raw_stream_is_server_sent_events_ending_in_done(server: Server) -> None:
    body = {"model": "rag", "messages": message(KIWI), "stream": True}
    with httpx.stream("POST", f"{server.url}/v1/chat/completions", json=body, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(e.startswith("data: ") for e in events) and events[-1] == "data: [DONE]"


def test_models_lists_rag_and_health_reports_index_and_models(server: Server) -> None:
    assert [m.id for m in server.client().models.list()] == ["rag"]
    health = httpx.get(f"{server.url}/health").json()
    assert health["status"] == "ready" and health["index"] == {"documents": 3, "chunks": 3}
    assert health["embedder"] == "hash-embedder" and health["generator"] == "echo"


def test_a_follow_up_is_searched_with_the_earlier_question_as_in_the_ui(server: Server) -> None:
    alone = server.post({"model": "rag", "messages": message("what about 2016?")}).json()
    follow_up = server.post(
        {
            "model": "rag",
            "messages": [
                {"role": "system", "content": "You are helpful."},
                {"role": "user", "content": KIWI},
                {"role": "assistant", "content": "It is native to New Zealand [1]."},
                {"role": "user", "content": [{"type": "text", "text": "what about 2016?"}]},
            ],
        }
    ).json()
    assert [c["source"] for c in alone["citations"]] == ["zh.md"]
    assert [c["source"] for c in follow_up["citations"]] == ["en.txt"]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"model": "rag", "messages": []}, 400, "messages"),
        ({"model": "rag"}, 400, "messages"),
        ({"model": "rag", "messages": message("   ")}, 400, "question is empty"),
        ({"model": "rag", "messages": message("?" * 50 + "a" * 2000)}, 400, "limit is 2000"),
        ({"model": "rag", "messages": [{"role": "user", "content": 5}]}, 400, "messages.0.content"),
        ({"model": "rag", "messages": "Where?"}, 400, "messages"),
        ({"model": "rag", "messages": message(KIWI), "stream": "yes"}, 400, "stream"),
        ({"model": "rag", "messages": [{"role": "wizard", "content": KIWI}]}, 400, "role"),
        ({"model": "rag", "messages": [*message(KIWI), {"role": "assistant", "content": "x"}]}, 400, "last message"),
        ({"model": "gpt-4o", "messages": message(KIWI)}, 404, "does not exist"),
        ({"model": 7, "messages": message(KIWI)}, 400, "model"),
    ],
)
def test_bad_requests_get_openai_style_errors_and_never_reach_the_model(server: Server, body, status, fragment) -> None:
    before = server.lines()
    response = server.post(body)
    assert response.status_code == status
    error = response.json()["error"]
    assert fragment in error["message"] and error["type"] == "invalid_request_error"
    assert server.lines() == before


def test_malformed_json_and_oversized_bodies_are_refused(server: Server) -> None:
    url = f"{server.url}/v1/chat/completions"
    response = httpx.post(url, content=b'{"model": "rag", "messages": [', headers={"content-type": "application/json"})
    assert response.status_code == 400 and "not valid JSON" in response.json()["error"]["message"]
    huge = {"model": "rag", "messages": message("kiwi " * 60_000)}  # about 300 KB; the limit is 256 KB
    response = server.post(huge)
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"model": "rag", "messages": [{"role": "user", "content": "'
        for _ in range(300):
            yield b"x" * 1024
        yield b'"}]}'

    response = httpx.post(url, content=chunked(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_the_openai_client_raises_its_own_errors_for_our_4xx(server: Server) -> None:
    client = server.client(max_retries=0)
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="gpt-4o", messages=message(KIWI))
    with pytest.raises(openai.BadRequestError, match="question is empty"):
        client.chat.completions.create(model="rag", messages=message("?!"))


def test_a_reader_sees_a_new_index_generation_without_restart(server: Server, tmp_path: Path) -> None:
    """Another process (this test) indexes a new file into the server's index folder; the next question finds it."""
    note = tmp_path / "okapi.md"
    note.write_text("# Okapi\n\nThe okapi is a forest giraffe living in the Ituri rainforest.\n", encoding="utf-8")
    settings = load_settings(index_dir=server.workdir / "index")
    index_files([note], settings, HashEmbedder())
    answer = server.post({"model": "rag", "messages": message("Where does the okapi forest giraffe live?")}).json()
    assert [c["source"] for c in answer["citations"]] == ["okapi.md"]
    assert httpx.get(f"{server.url}/health").json()["index"]["documents"] == 4


def test_a_damaged_new_generation_is_one_line_503_until_it_is_mended(server: Server) -> None:
    current = server.workdir / "index" / "CURRENT"
    live = current.read_text()
    current.write_text("gen-that-was-never-written")
    try:
        response = server.post({"model": "rag", "messages": message(KIWI)})
        assert (
            response.status_code == 503
            and "rebuild it with `rag index --rebuild`" in response.json()["error"]["message"]
        )
    finally:
        current.write_text(live)
    assert server.post({"model": "rag", "messages": message(KIWI)}).status_code == 200


def test_the_ui_is_served_at_the_root_of_the_same_port(server: Server) -> None:
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and "<html" in page.text
    assert httpx.get(f"{server.url}/gradio_api/info").status_code == 200


def test_with_an_api_key_every_v1_request_needs_it(slow_server: Server) -> None:
    assert slow_server.post({"model": "rag", "messages": message("?")}).status_code == 401
    wrong = slow_server.post({"model": "rag", "messages": message(KIWI)}, key="s3cre")
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{slow_server.url}/v1/models").status_code == 401
    with pytest.raises(openai.AuthenticationError):
        slow_server.client("nope", max_retries=0).models.list()
    assert [m.id for m in slow_server.client("s3cret").models.list()] == ["rag"]
    assert httpx.get(f"{slow_server.url}/health").status_code == 200  # outside /v1: for load balancers


def test_with_an_api_key_the_chat_page_and_its_endpoints_need_it_too(slow_server: Server) -> None:
    """The chat page's own endpoints ask and upload: without the key they are refused like /v1."""
    posted = ("/gradio_api/upload", "/gradio_api/queue/join")
    for path in ("/config", "/gradio_api/info", *posted):
        url = f"{slow_server.url}{path}"
        refused = httpx.post(url, json={}) if path in posted else httpx.get(url)
        assert refused.status_code == 401 and "RAG_API_KEY" in refused.text, path
    with httpx.Client(base_url=slow_server.url) as browser:
        assert browser.post("/login", data={"username": "anyone", "password": "s3cre"}).status_code == 400
        assert browser.get("/gradio_api/info").status_code == 401
        assert browser.post("/login", data={"username": "anyone", "password": "s3cret"}).status_code == 200
        assert browser.get("/gradio_api/info").status_code == 200
        assert browser.get("/v1/models").status_code == 401  # the API still takes only its bearer key


def test_a_full_queue_answers_503_with_retry_after_at_once(slow_server: Server) -> None:
    """Five at once: one answer runs (2 s) and two wait (queue size 2); the other two are turned away at once."""
    results: list[tuple[int, float, httpx.Response]] = []
    together = threading.Barrier(5)

    def ask() -> None:
        together.wait()
        started = time.monotonic()
        response = slow_server.post({"model": "rag", "messages": message(KIWI)}, key="s3cret")
        results.append((response.status_code, time.monotonic() - started, response))

    threads = [threading.Thread(target=ask) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200, 200, 200, 503, 503], [r.text for _, _, r in results]
    for status, seconds, response in results:
        if status == 503:
            assert seconds < 1.5 and response.headers["retry-after"].isdigit()
            assert response.json()["error"]["code"] == "queue_full"
        else:
            assert response.json()["citations"]


def test_a_client_that_disconnects_mid_stream_stops_the_generation(slow_server: Server) -> None:
    before = len(slow_server.lines())
    body = {"model": "rag", "messages": message(KIWI), "stream": True}
    headers = {"Authorization": "Bearer s3cret"}
    with httpx.stream("POST", f"{slow_server.url}/v1/chat/completions", json=body, headers=headers) as response:
        contents = 0
        for line in response.iter_lines():
            contents += '"content":"' in line and '"content":""' not in line
            if contents == 2:
                break  # leaving the block closes the connection
    time.sleep(1.0)
    written = slow_server.lines()[before:]
    assert written[-1] == "closed" and len([w for w in written if w.startswith("piece")]) < 6, written
    started = time.monotonic()  # the model is free again: the next question does not wait for the abandoned one
    assert slow_server.post({"model": "rag", "messages": message(KIWI)}, key="s3cret").status_code == 200
    assert time.monotonic() - started < 3.5


def test_a_client_that_gives_up_while_waiting_loses_its_place(slow_server: Server) -> None:
    before = len(slow_server.lines())
    first = threading.Thread(target=slow_server.post, args=({"model": "rag", "messages": message(KIWI)}, "s3cret"))
    first.start()
    while "piece 0" not in slow_server.lines()[before:]:  # the first question has the model
        time.sleep(0.05)
    with pytest.raises(httpx.ReadTimeout):
        slow_server.post({"model": "rag", "messages": message(KIWI)}, key="s3cret", timeout=0.5)
    first.join()
    time.sleep(1.0)
    written = slow_server.lines()[before:]
    assert written.count("piece 0") == 1, written  # only the first question was generated


def test_a_request_past_its_timeout_gets_504_and_stops_the_model(tmp_path: Path) -> None:
    with serving(tmp_path / "timeout", pieces=10, delay=0.2, RAG_REQUEST_TIMEOUT="1") as server:
        started = time.monotonic()
        response = server.post({"model": "rag", "messages": message(KIWI)})
        assert response.status_code == 504 and response.json()["error"]["code"] == "timeout"
        assert time.monotonic() - started < 2.0
        with pytest.raises(openai.APIError, match="request timeout"):
            list(server.client().chat.completions.create(model="rag", messages=message(KIWI), stream=True))
        time.sleep(0.5)
        assert server.lines().count("closed") == 2 and server.lines().count("piece 0") == 2
