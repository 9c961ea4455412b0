"""Remote engines against a small OpenAI-compatible server on loopback: the answering path, the embedder id kept
in the index, and each engine failure as one line, in the pipeline, the CLI, the API and the UI."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import pytest

from rag.answer.ask import ask
from rag.answer.prompt import build_prompt
from rag.config import PROJECT_DIR, Settings, load_settings
from rag.engines.client import with_api_path
from rag.engines.protocols import joined
from rag.engines.remote import RemoteEmbedder, RemoteGenerator
from rag.errors import (
    BadSettings,
    EngineBadResponse,
    EngineError,
    EngineFailed,
    EngineTimeout,
    EngineUnreachable,
    IndexProblem,
)
from rag.ingest.build import index_files
from rag.pipeline import Pipeline, load_pipeline, make_embedder, make_generator
from rag.records import Chunk, Passage
from rag.web.chat import ChatState, respond
from rag.web.service import Service
from tests.fake_engine import FakeEngine
from tests.pipeline.test_api import KIWI, message, serving
from tests.processes import free_port

FAILURES = [  # (engine mode, error class, words of the one-line message)
    ("500", EngineFailed, "answered HTTP 500 (a server error)"),
    ("malformed", EngineBadResponse, "sent a malformed response"),
    ("wrong-shape", EngineBadResponse, "sent a malformed response"),
    ("hang", EngineTimeout, "did not answer within 1 s"),
]


@pytest.fixture
def engine() -> Iterator[FakeEngine]:
    with FakeEngine() as running_engine:
        yield running_engine


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there: connection refused


def remote_settings(settings: Settings, engine: FakeEngine) -> Settings:
    return settings.with_(llm_url=engine.url, embed_url=engine.url, engine_timeout_s=1.0)


def test_settings_read_the_engine_and_api_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_LLM_URL", "http://gpu-box:8080/v1")
    monkeypatch.setenv("RAG_LLM_API_KEY", "engine-key")
    monkeypatch.setenv("RAG_API_KEY", "api-key")
    monkeypatch.setenv("RAG_QUEUE_SIZE", "4")
    monkeypatch.setenv("RAG_REQUEST_TIMEOUT", "30")
    settings = load_settings()
    assert (settings.engines.llm_url, settings.engines.llm_api_key, settings.serve.api_key) == (
        "http://gpu-box:8080/v1",
        "engine-key",
        "api-key",
    )
    assert (settings.serve.queue_size, settings.serve.request_timeout_s) == (4, 30.0)
    assert "engine-key" not in repr(settings) and "api-key" not in repr(settings)
    assert isinstance(make_generator(settings.engines), RemoteGenerator)
    monkeypatch.setenv("RAG_LLM_URL", "gpu-box:8080")
    with pytest.raises(BadSettings, match="llm_url must start with http"):
        load_settings()
    monkeypatch.delenv("RAG_LLM_URL")
    with pytest.raises(BadSettings, match="queue_size must be > 0"):
        load_settings(queue_size=0)
    with pytest.raises(BadSettings, match="a local GGUF model runs one generation at a time"):
        load_settings(parallel_generations=4)


def test_a_base_url_without_a_path_gets_v1() -> None:
    assert with_api_path("http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1"
    assert with_api_path("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080/v1"
    assert with_api_path("http://proxy/llm/v1") == "http://proxy/llm/v1"


def test_remote_embedder_gives_unit_vectors_in_order_and_names_the_remote_model(engine: FakeEngine) -> None:
    embedder = RemoteEmbedder(engine.url, timeout_s=5)
    texts = [f"text number {i} about kiwi birds" for i in range(70)]  # three batches
    vectors = embedder.embed_documents(texts)
    assert vectors.shape == (70, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0] @ vectors[1], embedder.embed_queries(texts[:2])[0] @ vectors[1], atol=1e-5)
    assert embedder.model_id == "remote:fake-model" and embedder.dimension == 512
    assert "GET /v1/models" in engine.requests  # no model configured: the server's first is used
    assert embedder.embed_queries([]).shape == (0, 512)
    assert 5 <= embedder.count_tokens("The kiwi lays eggs. 大熊猫") <= 10


def test_the_whole_pipeline_runs_on_remote_engines(engine: FakeEngine, corpus: Path, settings: Settings) -> None:
    settings = remote_settings(settings, engine)
    index_files([corpus], settings, make_embedder(settings.engines))
    pipeline = load_pipeline(settings)
    response = ask(KIWI, pipeline)
    pieces = list(response)
    result = response.answer()
    assert len(pieces) > 2 and result.outcome == "answered" and result.citations[0].source == "en.txt"
    assert pipeline.index.info.embedder == "remote:fake-model"
    assert pipeline.generator.model_id == "remote:fake-model"


def test_remote_pieces_carry_the_probability_the_engine_reports(engine: FakeEngine) -> None:
    text = "The kiwi is a flightless bird native to New Zealand."
    chunk = Chunk("en.txt", 0, len(text), text, "en", "Kiwi birds", None, ((0, len(text)),))
    prompt = build_prompt("Where is the kiwi native to?", [Passage(1, chunk, 0, len(text), text, 0.8)], "en")
    pieces = list(RemoteGenerator(engine.url, "fake-model", timeout_s=5).stream(prompt))
    assert len(pieces) > 1  # the fake engine gives its n-th piece a logprob of -n/10
    assert [piece.probability for piece in pieces] == pytest.approx(
        [math.exp(-n / 10) for n in range(1, len(pieces) + 1)]
    )
    with FakeEngine("no-logprobs") as silent:
        pieces = list(RemoteGenerator(silent.url, "fake-model", timeout_s=5).stream(prompt))
    assert pieces and all(piece.probability is None for piece in pieces)


def test_an_engine_that_refuses_logprobs_is_asked_without_them() -> None:
    with FakeEngine("rejects-logprobs") as strict:
        generator = RemoteGenerator(strict.url, "fake-model", timeout_s=5)
        first = joined(generator.stream(app_prompt()))
        second = joined(generator.stream(app_prompt()))
    assert first == second == " [1]"  # the fake engine's answer to a prompt without passages
    assert strict.requests == ["POST /v1/chat/completions"] * 3  # refused once, then asked without them


def test_an_index_built_with_another_embedder_is_refused(engine: FakeEngine, fake_pipeline: Pipeline) -> None:
    settings = fake_pipeline.settings.with_(embed_url=engine.url, embed_model="other-embedder")
    with pytest.raises(IndexProblem, match=r"built with hash-embedder .* settings ask for remote:other-embedder"):
        load_pipeline(settings)


@pytest.mark.parametrize(("mode", "kind", "words"), FAILURES)
def test_engine_failures_are_one_line_domain_errors(mode: str, kind: type[EngineError], words: str) -> None:
    with FakeEngine(mode, hang_s=3) as failing:
        generator = RemoteGenerator(failing.url, "fake-model", timeout_s=1)
        embedder = RemoteEmbedder(failing.url, "fake-model", timeout_s=1)
        with pytest.raises(kind) as raised:
            list(generator.stream(app_prompt()))
        with pytest.raises(EngineError) as embedding:
            embedder.embed_queries(["kiwi"])
    message_ = str(raised.value)
    assert words in message_ and failing.url in message_ and "generation engine" in message_
    assert "\n" not in message_ and "embedding engine" in str(embedding.value)


def test_a_closed_port_is_connection_refused() -> None:
    url = closed_url()
    with pytest.raises(EngineUnreachable, match=rf"cannot reach the generation engine at {url} \(connection refused\)"):
        list(RemoteGenerator(url, "m", timeout_s=1).stream(app_prompt()))
    with pytest.raises(EngineUnreachable, match="cannot reach the embedding engine"):
        RemoteEmbedder(url, timeout_s=1).warm_up()


def app_prompt():  # a real prompt from the prompting stage
    return build_prompt("Where?", [], "en")


def test_the_cli_prints_one_line_for_each_engine_failure(tmp_path: Path, corpus: Path) -> None:
    with FakeEngine() as embeddings:
        env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "RAG_INDEX_DIR": str(tmp_path / "index")}
        env |= {"RAG_EMBED_URL": embeddings.url, "RAG_ENGINE_TIMEOUT": "1"}
        rag = [sys.executable, "-m", "rag.cli"]
        built = subprocess.run([*rag, "index", "--quiet", str(corpus)], env=env, capture_output=True, text=True)
        assert built.returncode == 0, built.stderr
        for mode, words in [("refused", "(connection refused)"), ("500", "HTTP 500"), ("malformed", "malformed")]:
            with FakeEngine("ok" if mode == "refused" else mode) as failing:
                url = closed_url() if mode == "refused" else failing.url
                done = subprocess.run(
                    [*rag, "ask", KIWI], env={**env, "RAG_LLM_URL": url}, capture_output=True, text=True, timeout=120
                )
            assert done.returncode == 6 and done.stdout == "", done.stderr
            assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and words in done.stderr


@pytest.mark.parametrize(("mode", "kind", "words"), FAILURES)
def test_the_ui_shows_engine_failures_as_gr_error(fake_pipeline: Pipeline, mode: str, kind: type, words: str) -> None:
    with FakeEngine(mode, hang_s=3) as failing:
        ui = Service(replace(fake_pipeline, generator=RemoteGenerator(failing.url, "fake-model", timeout_s=1)))
        with pytest.raises(gr.Error, match=re.escape(words)):
            list(respond(ui, KIWI, ChatState()))
        assert ui.queue.waiting == 0 and not ui.queue.running  # the model's turn was given back


def test_the_api_maps_engine_failures_to_502_503_504_and_keeps_serving(tmp_path: Path) -> None:
    """One server whose generator is a remote engine; the engine fails in each way, then recovers."""
    with FakeEngine() as engine, serving(tmp_path / "remote", RAG_LLM_URL=engine.url, RAG_ENGINE_TIMEOUT="1") as server:
        answer = server.post({"model": "rag", "messages": message(KIWI)}).json()
        assert answer["citations"][0]["source"] == "en.txt" and answer["outcome"] == "answered"
        for mode, status, words in [
            ("500", 502, "HTTP 500"),
            ("malformed", 502, "malformed"),
            ("hang", 504, "within 1 s"),
        ]:
            engine.mode, engine.hang_s = mode, 2
            response = server.post({"model": "rag", "messages": message(KIWI)})
            error = response.json()["error"]
            assert response.status_code == status and words in error["message"] and engine.url in error["message"]
            assert error["type"] == "server_error"
            # a stream has begun with the sources before the engine is asked: the failure is its last event
            raw = server.post({"model": "rag", "messages": message(KIWI), "stream": True}).text
            events = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: {")]
            assert events[0]["sources"] and words in events[-1]["error"]["message"]
            assert engine.url in events[-1]["error"]["message"] and raw.rstrip().endswith("[DONE]")
        engine.mode = "unsupported"  # a draft that fails the checks is streamed, then why, then the checked answer
        chunks = list(server.client().chat.completions.create(model="rag", messages=message(KIWI), stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
        final = chunks[-1].model_extra or {}
        assert final["outcome"] == "quoted" and "2016" not in final["answer"] and final["citations"]
        assert streamed.startswith("It has laid eggs since 2016 [7].\n\n(the draft failed a check (")
        assert streamed.endswith(")\n\n" + final["answer"])
        engine.mode = "ok"
        assert server.post({"model": "rag", "messages": message(KIWI)}).status_code == 200
        engine.stop()
        refused = server.post({"model": "rag", "messages": message(KIWI)})
        assert refused.status_code == 503 and "connection refused" in refused.json()["error"]["message"]
        assert refused.headers["retry-after"].isdigit()
        assert httpx.get(f"{server.url}/health").status_code == 200
