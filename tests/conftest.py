"""Test layers by folder, and shared fixtures: tiny corpora, fake models, real models, the served UI.

unit/      pure functions on tiny hand-made data
pipeline/  the real code path (real FAISS index, real files) with deterministic fake models
models/    the real embedding model and GGUF generators (marked slow)
browser/   the served UI in headless Chromium (marked browser and slow)
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import PROJECT_DIR, Settings, load_settings
from rag.ingest.build import index_files
from rag.pipeline import Pipeline, load_pipeline, make_embedder, make_generator
from tests.fakes import EchoGenerator, HashEmbedder

SEEDS = PROJECT_DIR / "seeds"
ASEAN_NZ = "When did ASEAN and New Zealand become Comprehensive Strategic Partners?"
TESTS = Path(__file__).parent
LAYERS = {"unit": (), "pipeline": (), "models": ("slow",), "browser": ("browser", "slow")}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--screenshot", type=Path, help="browser tests save a screenshot of the UI to this path")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test gets the markers of its layer's folder; a slow test outside models/ or browser/ is refused."""
    for item in items:
        layer = item.path.relative_to(TESTS).parts[0]
        if layer not in LAYERS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in tests/{{{','.join(LAYERS)}}}/")
        if not LAYERS[layer] and item.get_closest_marker("slow"):
            raise pytest.UsageError(f"{item.nodeid} is marked slow: move it to tests/models/")
        for marker in (layer, *LAYERS[layer]):
            item.add_marker(marker)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three small documents in three languages."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "vi.txt").write_text(
        " date 2024-05-01 Hợp tác lúa gạo\n\nViệt Nam xuất khẩu 8 triệu tấn gạo năm 2023. Thị trường chính là Philippines.\n",
        encoding="utf-8",
    )
    (folder / "zh.md").write_text(
        "# 熊猫保护\n\n2016年，大熊猫从濒危降为易危。四川是大熊猫的主要栖息地。\n", encoding="utf-8"
    )
    (folder / "en.txt").write_text(
        "Kiwi birds\n\nThe kiwi is a flightless bird native to New Zealand. It lays very large eggs.\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        index_dir=tmp_path / "index",
        upload_dir=tmp_path / "uploads",
        min_relevance=0.0,
        min_relevance_same_language=0.0,
    )


@pytest.fixture
def fake_pipeline(corpus: Path, settings: Settings) -> Pipeline:
    """A real index and pipeline over `corpus`, with hashed embeddings and an echoing generator."""
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    return load_pipeline(settings, embedder, EchoGenerator())


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with the real default models and a session-wide index of seeds/ (built once, ~40 s)."""
    base = load_settings()
    settings = base.with_(index_dir=tmp_path_factory.mktemp("seeds-index"))
    if not base.embedder_path.exists() or not base.gguf_path.exists():
        pytest.fail("real models are missing: run `python models/fetch.py` (make install does)")
    return settings


@pytest.fixture(scope="session")
def real_embedder(real_settings: Settings):
    return make_embedder(real_settings)


@pytest.fixture(scope="session")
def real_generator(real_settings: Settings):
    return make_generator(real_settings)


@pytest.fixture(scope="session")
def real_pipeline(real_settings: Settings, real_embedder, real_generator) -> Pipeline:
    index_files([SEEDS], real_settings, real_embedder)
    return load_pipeline(real_settings, real_embedder, real_generator)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(real_pipeline: Pipeline, real_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The UI on a free port, over a copy of the session's seed index (uploads must not leak into other tests)."""
    from rag.web.server import launch_in_background
    from rag.web.service import Service

    folder = tmp_path_factory.mktemp("ui")
    shutil.copytree(real_settings.index_dir, folder / "index", ignore=shutil.ignore_patterns(".lock"))
    settings = real_settings.with_(index_dir=folder / "index", upload_dir=folder / "uploads")
    service = Service(load_pipeline(settings, real_pipeline.embedder, real_pipeline.generator))
    port = free_port()
    demo = launch_in_background(service, "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}/", service
    demo.close()
