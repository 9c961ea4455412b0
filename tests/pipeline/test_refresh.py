"""Readers of one index on shared storage see a generation saved by another writer without a restart."""

from __future__ import annotations

from pathlib import Path

from rag.ingest.build import index_files
from rag.pipeline import Pipeline, refreshed
from rag.web.service import Service


def test_a_loaded_pipeline_picks_up_a_generation_saved_by_another_writer(fake_pipeline: Pipeline, tmp_path: Path):
    assert refreshed(fake_pipeline) is fake_pipeline  # unchanged: nothing is reloaded
    note = tmp_path / "okapi.md"
    note.write_text("# Okapi\n\nThe okapi lives in the Ituri rainforest.\n", encoding="utf-8")
    index_files([note], fake_pipeline.settings, fake_pipeline.embedder)
    fresh = refreshed(fake_pipeline)
    assert "okapi.md" in fresh.index.files and "okapi.md" not in fake_pipeline.index.files
    assert fresh.embedder is fake_pipeline.embedder and fresh.generator is fake_pipeline.generator
    assert refreshed(fresh) is fresh


def test_the_web_service_serves_the_live_generation(fake_pipeline: Pipeline, tmp_path: Path) -> None:
    service = Service(fake_pipeline)
    note = tmp_path / "okapi.md"
    note.write_text("# Okapi\n\nThe okapi lives in the Ituri rainforest.\n", encoding="utf-8")
    index_files([note], fake_pipeline.settings, fake_pipeline.embedder)
    assert "okapi.md" in service.pipeline.index.files
    (fake_pipeline.settings.store.index_dir / "CURRENT").unlink()  # an index folder gone from under a running server
    assert "okapi.md" in service.pipeline.index.files  # keeps answering from what it loaded
