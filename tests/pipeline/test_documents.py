"""Bad documents in the index: unreadable files are reported and skipped, changed and deleted files are noticed."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from rag.answer.ask import ask
from rag.ingest.build import READING, index_files
from rag.pipeline import load_pipeline
from rag.store import storage as store
from rag.store.vectors import stale_sources
from tests.fakes import EchoGenerator, HashEmbedder

ZH = "越南与新西兰关系提升为全面战略伙伴关系。双方同意加强贸易合作。"


def test_bad_files_are_reported_and_the_index_stays_queryable(corpus, settings, tmp_path: Path):
    embedder = HashEmbedder()
    first = index_files([corpus], settings, embedder)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    (bad / "empty.md").write_bytes(b"")
    (bad / "latin.txt").write_bytes("Kiwi eggs are très grandes. Müller saw them.".encode("latin-1"))
    (bad / "gbk.txt").write_bytes(ZH.encode("gbk"))
    (bad / "big.txt").write_bytes(b"x" * (2 * 1024 * 1024))
    report = index_files([bad], settings.with_(max_file_mb=1.0), embedder)
    assert sorted(report.added) == ["gbk.txt", "latin.txt"]
    assert sorted(report.failed) == [
        "big.txt: larger than the 1 MB limit",
        "empty.md: empty file",
        "image.txt: binary file, not text",
    ]
    assert report.files == first.files + 2
    pipeline = load_pipeline(settings, embedder, EchoGenerator())
    assert ask("Where does the kiwi bird live?", pipeline).answer().citations[0].source == "en.txt"
    assert "très grandes" in ask("kiwi eggs très grandes Müller", pipeline).answer().text


def test_a_run_with_only_bad_files_leaves_the_index_untouched(corpus, settings, tmp_path: Path):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    before = (settings.store.index_dir / "CURRENT").read_text()
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02" * 100)
    report = index_files([tmp_path / "blob.txt"], settings, embedder)
    assert report.failed == ["blob.txt: binary file, not text"] and not report.added
    assert (settings.store.index_dir / "CURRENT").read_text() == before


def test_deleted_and_changed_files_are_reported_stale_and_answers_use_stored_text(corpus, settings):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    (corpus / "en.txt").unlink()
    (corpus / "vi.txt").write_text("Nội dung mới hoàn toàn khác.", encoding="utf-8")
    pipeline = load_pipeline(settings, embedder, EchoGenerator())
    assert stale_sources(pipeline.index) == ["en.txt", "vi.txt"]
    result = ask("Where does the kiwi bird live?", pipeline).answer()
    assert result.citations[0].source == "en.txt"
    assert "New Zealand" in result.citations[0].text  # from the stored chunk, though the file is gone
    report = index_files([corpus], settings, embedder)
    assert report.updated == ["vi.txt"] and report.unchanged == ["zh.md"]


def test_reindexing_unchanged_or_touched_files_does_not_duplicate_chunks(corpus, settings):
    embedder = HashEmbedder()
    first = index_files([corpus], settings, embedder)
    again = index_files([corpus], settings, embedder)
    os.utime(corpus / "en.txt", ns=(1, 1))  # same bytes, new mtime
    touched = index_files([corpus], settings, embedder)
    assert sorted(again.unchanged) == sorted(touched.unchanged) == ["en.txt", "vi.txt", "zh.md"]
    assert first.chunks == again.chunks == touched.chunks == len(store.load(settings.store.index_dir).chunks)
    assert stale_sources(store.load(settings.store.index_dir)) == []  # the new mtime was saved


def test_a_file_read_by_an_older_version_of_the_reader_is_read_again(corpus, settings):
    embedder = HashEmbedder()
    first = index_files([corpus], settings, embedder)
    index = store.load(settings.store.index_dir)
    assert {record.reading for record in index.files.values()} == {READING}
    index.files["en.txt"] = replace(index.files["en.txt"], reading=0)  # as an index written before versions
    store.save(index, settings.store.index_dir)
    again = index_files([corpus], settings, embedder)
    assert again.updated == ["en.txt"] and sorted(again.unchanged) == ["vi.txt", "zh.md"]
    assert again.chunks == first.chunks and store.load(settings.store.index_dir).files["en.txt"].reading == READING
