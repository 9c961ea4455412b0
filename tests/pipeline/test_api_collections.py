"""Documents and collections through the API of a real server process (`tests.serve_fakes`), with the official
openai client choosing a collection by model id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from rag.config import load_settings
from rag.ingest.build import index_files
from tests.fakes import HashEmbedder
from tests.pipeline.test_api import KIWI, Server, message, start

PENGUINS = "Where do emperor penguins breed?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The default collection (three documents) and a collection `birds` added while the server runs."""
    for running in start(tmp_path_factory.mktemp("collections") / "api", RAG_API_KEY="k3y"):
        birds = running.workdir / "birds"
        birds.mkdir()
        (birds / "penguins.txt").write_text("Penguins\n\nEmperor penguins breed on the sea ice of Antarctica.\n")
        settings = load_settings(index_dir=running.workdir / "index", collection="birds")
        index_files([birds], settings, HashEmbedder())
        yield running


def get(server: Server, path: str, key: str = "k3y") -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=30)


def delete(server: Server, path: str, key: str = "k3y") -> httpx.Response:
    return httpx.delete(f"{server.url}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_models_list_one_model_per_collection_and_the_model_picks_it(server: Server) -> None:
    client = server.client("k3y")
    assert [m.id for m in client.models.list()] == ["rag", "rag/birds"]
    birds = client.chat.completions.create(model="rag/birds", messages=message(PENGUINS))
    assert birds.model == "rag/birds" and (birds.model_extra or {})["citations"][0]["source"] == "penguins.txt"
    default = client.chat.completions.create(model="rag", messages=message(KIWI))
    assert (default.model_extra or {})["citations"][0]["source"] == "en.txt"
    with pytest.raises(openai.NotFoundError, match="'rag/fish' does not exist; use one of 'rag', 'rag/birds'"):
        client.chat.completions.create(model="rag/fish", messages=message(KIWI))


def test_documents_are_listed_and_removed_per_collection(server: Server) -> None:
    listed = get(server, "/v1/documents").json()
    assert [d["name"] for d in listed["data"]] == ["en.txt", "vi.txt", "zh.md"]
    assert {"pages", "chunks", "language", "date", "indexed_at", "characters"} <= set(listed["data"][0])
    assert [d["name"] for d in get(server, "/v1/documents?collection=birds").json()["data"]] == ["penguins.txt"]
    missing = delete(server, "/v1/documents/penguins.txt")  # it is in `birds`, not the default collection
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert get(server, "/v1/documents?collection=fish").status_code == 404
    bad = get(server, "/v1/documents?collection=..")
    assert bad.status_code == 400 and "collection names are" in bad.json()["error"]["message"]
    gone = delete(server, "/v1/documents/zh.md")
    assert gone.status_code == 200 and gone.json() == {
        "object": "document",
        "id": "zh.md",
        "deleted": True,
        "collection": "default",
        "files": 2,
    }
    assert [d["name"] for d in get(server, "/v1/documents").json()["data"]] == ["en.txt", "vi.txt"]
    answer = server.client("k3y").chat.completions.create(model="rag", messages=message("熊猫的主要栖息地在哪里？"))
    assert all(c["source"] != "zh.md" for c in (answer.model_extra or {})["citations"])


def test_documents_need_the_api_key(server: Server) -> None:
    assert get(server, "/v1/documents", key="wrong").status_code == 401
    assert httpx.delete(f"{server.url}/v1/documents/en.txt", timeout=30).status_code == 401
    assert "en.txt" in {d["name"] for d in get(server, "/v1/documents").json()["data"]}  # refused: not removed


def test_the_server_work_folder_keeps_each_collection_apart(server: Server) -> None:
    assert (server.workdir / "index" / "CURRENT").is_file()
    assert (Path(server.workdir) / "index" / "collections" / "birds" / "CURRENT").is_file()
