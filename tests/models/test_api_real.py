"""The served API with the real models, and real remote engines: `python -m llama_cpp.server` on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import openai
import pytest

from rag.answer.ask import ask
from rag.config import PROJECT_DIR, Settings
from rag.ingest.build import index_files
from rag.pipeline import Pipeline, load_pipeline, make_embedder, make_generator
from rag.records import Outcome
from tests.conftest import ASEAN_NZ
from tests.processes import free_port, running

MODELS = PROJECT_DIR / "models"
CHECKED = {
    Outcome.ANSWERED,
    Outcome.QUOTED,
    Outcome.OVERRULED,
    Outcome.REFUSED,
    Outcome.INVENTED,
}  # the model ran and was checked


@pytest.fixture(scope="module")
def rag_server(
    real_pipeline: Pipeline, real_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`rag serve` with the default models over the session's seed index."""
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.out"
    env = {"RAG_INDEX_DIR": str(real_settings.store.index_dir)}
    with running(["rag.cli", "serve", "--port", str(port)], f"http://127.0.0.1:{port}/health", env, log, 300):
        yield f"http://127.0.0.1:{port}/v1"


def test_the_sample_question_through_rag_serve_with_the_openai_client(rag_server: str) -> None:
    client = openai.OpenAI(base_url=rag_server, api_key="x")
    completion = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": ASEAN_NZ}])
    text = completion.choices[0].message.content or ""
    citations = (completion.model_extra or {})["citations"]
    assert "[1]" in text or "[2]" in text, text
    assert citations and {c["n"] for c in citations} <= {1, 2}
    assert "000_ce3c90c106d94d56.txt" in {c["source"] for c in citations}
    chunks = list(
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": ASEAN_NZ}], stream=True)
    )
    assert len(chunks) >= 3 and chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {})["citations"] == citations  # greedy decoding: the same answer
    assert "".join(c.choices[0].delta.content or "" for c in chunks).endswith(text)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server with a chat model and an embedding model (mean-pooled): the
    suite's small GGUF in both roles, so the whole suite reads two GGUF files (this one and the default)."""
    port = free_port()
    folder = tmp_path_factory.mktemp("llama-server")
    small = str(MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf")
    models = [
        {"model": small, "model_alias": "smollm2", "n_ctx": 2048},
        {
            "model": small,
            "model_alias": "smollm2-embed",
            "embedding": True,
            "n_ctx": 512,
            "kv_overrides": ["llama.pooling_type=int:1"],
        },
    ]
    for model in models:
        model |= {"n_threads": 2, "n_threads_batch": 2, "verbose": False}
    (folder / "config.json").write_text(json.dumps({"host": "127.0.0.1", "port": port, "models": models}))
    command = ["llama_cpp.server", "--config_file", str(folder / "config.json")]
    with running(command, f"http://127.0.0.1:{port}/v1/models", log=folder / "server.out", timeout_s=120):
        yield f"http://127.0.0.1:{port}/v1"


def test_the_pipeline_answers_through_a_real_llama_cpp_server(real_pipeline: Pipeline, llama_server: str) -> None:
    settings = real_pipeline.settings.with_(llm_url=llama_server, llm_model="smollm2", engine_timeout_s=120)
    pipeline = replace(real_pipeline, generator=make_generator(settings.engines))
    response = ask(ASEAN_NZ, pipeline)
    pieces = list(response)
    answer = response.answer()
    assert pieces and answer.draft == "".join(pieces) and answer.outcome in CHECKED
    passages = {(p.chunk.source, p.start, p.end) for p in answer.passages}
    assert answer.citations and all((c.source, c.start, c.end) in passages for c in answer.citations)
    assert "000_ce3c90c106d94d56.txt" in {p.chunk.source for p in answer.passages}  # the 2025 summit was retrieved
    assert pipeline.generator.model_id == "remote:smollm2"


def test_indexing_and_answering_with_a_remote_embedder(llama_server: str, corpus: Path, settings: Settings) -> None:
    settings = settings.with_(
        embed_url=llama_server, embed_model="smollm2-embed", llm_url=llama_server, llm_model="smollm2"
    )
    index_files([corpus], settings, make_embedder(settings.engines))
    pipeline = load_pipeline(settings)
    assert pipeline.index.info.embedder == "remote:smollm2-embed" and pipeline.index.info.dimension == 576
    answer = ask("Where is the kiwi bird native to?", pipeline).answer()
    assert answer.outcome in CHECKED and answer.text
