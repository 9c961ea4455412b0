"""Test layers by folder, and shared fixtures: tiny corpora, fake models, real models, the served UI.

unit/      pure functions on tiny hand-made data
pipeline/  the real code path (real FAISS index, real files) with deterministic fake models
models/    the real embedding model and GGUF generators (marked slow)
browser/   the served UI in headless Chromium (marked browser and slow)
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import rag.pipeline
from rag.answer.ask import ask
from rag.config import PROJECT_DIR, EngineSettings, Settings, load_settings
from rag.engines.protocols import Embedder, Generator
from rag.ingest.build import index_files
from rag.pipeline import Pipeline, load_pipeline, make_embedder, make_generator
from rag.records import Answer
from tests.fakes import EchoGenerator, HashEmbedder
from tests.processes import free_port

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
    if not base.engines.embedder_path.exists() or not base.engines.gguf_path.exists():
        pytest.fail("real models are missing: run `python models/fetch.py` (make install does)")
    return settings


@pytest.fixture(scope="session")
def real_embedder(real_settings: Settings):
    return make_embedder(real_settings.engines)


@pytest.fixture(scope="session")
def real_generator(real_settings: Settings):
    return make_generator(real_settings.engines)


@pytest.fixture(scope="session")
def real_pipeline(real_settings: Settings, real_embedder, real_generator) -> Pipeline:
    """The real models over the session's index of seeds/: the one seed index built in a test session."""
    index_files([SEEDS], real_settings, real_embedder)
    return load_pipeline(real_settings, real_embedder, real_generator)


@pytest.fixture(scope="session")
def sample_answer(real_pipeline: Pipeline) -> Answer:
    """The sample question answered once by the real pipeline, for the tests that each check a side of it (greedy
    decoding: asking again writes the same answer)."""
    return ask(ASEAN_NZ, real_pipeline).answer()


def copy_of_seed_index(pipeline: Pipeline, folder: Path) -> Settings:
    """`pipeline`'s settings over a copy of its index in `folder`/index, for a test that adds to it."""
    shutil.copytree(pipeline.settings.store.index_dir, folder / "index", ignore=shutil.ignore_patterns(".lock"))
    return pipeline.settings.with_(index_dir=folder / "index", upload_dir=folder / "uploads")


EMBEDDER_SETTINGS = ("embedder_path", "embed_url", "embed_model", "embed_int8", "threads")
GENERATOR_SETTINGS = ("gguf_path", "llm_url", "llm_model", "n_ctx", "threads", "max_answer_tokens")


@contextlib.contextmanager
def sharing_models(pipeline: Pipeline) -> Iterator[None]:
    """While open, `rag.pipeline` hands out `pipeline`'s loaded models to settings that name the same ones, so
    `rag.cli.main` run in this process loads neither again (about 40 s for the embedder on 2 busy cores); settings
    naming other models (a missing GGUF) still get their own."""
    own_embedder, own_generator = rag.pipeline.make_embedder, rag.pipeline.make_generator

    def same(settings: EngineSettings, names: tuple[str, ...]) -> bool:
        return all(getattr(settings, name) == getattr(pipeline.settings.engines, name) for name in names)

    def embedder(settings: EngineSettings) -> Embedder:
        return pipeline.embedder if same(settings, EMBEDDER_SETTINGS) else own_embedder(settings)

    def generator(settings: EngineSettings) -> Generator:
        return pipeline.generator if same(settings, GENERATOR_SETTINGS) else own_generator(settings)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rag.pipeline, "make_embedder", embedder)
        patch.setattr(rag.pipeline, "make_generator", generator)
        yield


@pytest.fixture
def session_models(real_pipeline: Pipeline) -> Iterator[None]:
    """The test's in-process CLI runs use the session's loaded models (see `sharing_models`)."""
    with sharing_models(real_pipeline):
        yield


@pytest.fixture(scope="module")
def served(real_pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The UI on a free port, over a copy of the session's seed index (uploads must not leak into other tests)."""
    from rag.web.server import launch_in_background
    from rag.web.service import Service

    settings = copy_of_seed_index(real_pipeline, tmp_path_factory.mktemp("ui"))
    service = Service(load_pipeline(settings, real_pipeline.embedder, real_pipeline.generator))
    port = free_port()
    demo = launch_in_background(service, "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}/", service
    demo.close()
