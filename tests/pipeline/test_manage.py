"""Documents as people manage them, through the real `rag` command in a child process: list, remove and
collections (each its own index), with one-line errors and exit codes."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import PROJECT_DIR, Settings
from rag.ingest.build import index_files
from rag.store import storage
from tests.fakes import HashEmbedder


def rag(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "rag.cli", "--index-dir", str(settings.store.index_dir), *args]
    return subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)


@pytest.fixture
def indexed(corpus: Path, settings: Settings, tmp_path: Path) -> Settings:
    """The three-language corpus in the default collection, and one file in the collection `birds`."""
    index_files([corpus], settings, HashEmbedder())
    birds = tmp_path / "birds"
    birds.mkdir()
    (birds / "penguins.txt").write_text("Penguins\n\ndate 2021-06-01\n\nEmperor penguins breed in Antarctica.\n")
    index_files([birds], settings.with_(collection="birds"), HashEmbedder())
    return settings


def test_docs_lists_each_file_with_its_counts(indexed: Settings) -> None:
    listed = rag(indexed, "docs", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert sorted(rows) == ["en.txt", "vi.txt", "zh.md"]
    vi = rows["vi.txt"]
    assert (vi["language"], vi["date"], vi["pages"], vi["chunks"]) == ("vi", "2024-05-01", 0, 1)
    assert vi["characters"] == len((indexed.store.index_dir.parent / "docs" / "vi.txt").read_text(encoding="utf-8"))
    assert vi["indexed_at"].endswith("+00:00") and vi["low_ocr_pages"] == []
    table = rag(indexed, "docs").stdout
    assert "vi.txt" in table and "2024-05-01" in table and "3 document(s) in collection 'default'" in table


def test_remove_takes_files_out_atomically_and_refuses_unknown_ones(indexed: Settings) -> None:
    before = storage.current(indexed.store.index_dir)
    unknown = rag(indexed, "remove", "en.txt", "nope.txt")
    assert unknown.returncode == 8 and unknown.stderr == (
        "error: not in the 'default' collection: nope.txt (see `rag docs`)\n"
    )
    assert storage.current(indexed.store.index_dir) == before  # nothing removed, no new generation
    removed = rag(indexed, "remove", "docs/en.txt")  # a path's folder is ignored
    assert removed.returncode == 0 and "removed en.txt" in removed.stdout
    index = storage.load(indexed.store.index_dir)
    assert sorted(index.files) == ["vi.txt", "zh.md"] and {c.source for c in index.chunks} == {"vi.txt", "zh.md"}
    assert index.sentences.ntotal == sum(len(c.sentences) for c in index.chunks)
    assert [p.name for p in indexed.store.index_dir.iterdir() if p.name.startswith("gen-")] == [
        storage.current(indexed.store.index_dir)
    ]


def test_collections_keep_their_own_index_and_names_are_checked(indexed: Settings) -> None:
    assert (indexed.store.index_dir / "CURRENT").is_file()  # the default collection stays where indexes always were
    assert storage.exists(indexed.store.index_dir / "collections" / "birds")
    birds = json.loads(rag(indexed, "docs", "--json", "--collection", "birds").stdout)
    assert [row["name"] for row in birds] == ["penguins.txt"]
    assert rag(indexed, "remove", "--collection", "birds", "en.txt").returncode == 8  # not in that collection
    for bad in ("../default", "a/b", "x" * 65, "", "ünï"):
        refused = rag(indexed, "docs", "--collection", bad)
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1
        assert "collection names are 1 to 64 letters, digits, - and _" in refused.stderr
    missing = rag(indexed, "docs", "--collection", "fish")
    assert (missing.returncode, missing.stderr) == (8, "error: no collection 'fish' (collections: default, birds)\n")
    assert rag(indexed, "remove", "--collection", "birds", "penguins.txt").returncode == 0
    assert len(storage.load(indexed.store.index_dir).files) == 3  # the default collection is untouched


def test_every_command_takes_a_collection(indexed: Settings) -> None:
    from rag.cli import parser

    subcommands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    commands = subcommands.choices
    assert {"index", "ask", "docs", "remove", "eval", "check", "serve"} <= set(commands)
    for name, command in commands.items():
        assert "--collection" in command.format_help(), name
    asked = rag(indexed, "ask", "--collection", "fish", "Where do kiwi birds live?")
    assert (asked.returncode, asked.stderr) == (8, "error: no collection 'fish' (collections: default, birds)\n")
