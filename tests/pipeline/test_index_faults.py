"""Index faults: damaged files, an indexer killed mid-write, two indexers at once, leftovers, other settings."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rag.answer.ask import ask
from rag.cli import main
from rag.config import PROJECT_DIR, Settings
from rag.errors import IndexProblem
from rag.ingest.build import index_files
from rag.pipeline import load_pipeline
from rag.store import storage as store
from rag.store.catalog import remove
from rag.store.vectors import check_compatible
from tests.fakes import EchoGenerator, HashEmbedder

REBUILD = "rag index --rebuild"


def _live(settings: Settings) -> Path:
    return settings.store.index_dir / (settings.store.index_dir / "CURRENT").read_text().strip()


def _truncate(name: str) -> Callable[[Path], None]:
    def damage(generation: Path) -> None:
        data = (generation / name).read_bytes()
        (generation / name).write_bytes(data[: len(data) // 2])

    return damage


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    def damage(generation: Path) -> None:
        (generation / name).write_bytes(data)

    return damage


def _edit_manifest(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(generation: Path) -> None:
        manifest = json.loads((generation / "manifest.json").read_text())
        change(manifest)
        (generation / "manifest.json").write_text(json.dumps(manifest))

    return damage


def _drop_last_chunk(generation: Path) -> None:
    lines = (generation / "chunks.jsonl").read_text().splitlines(keepends=True)
    (generation / "chunks.jsonl").write_text("".join(lines[:-1]))


DAMAGE = {
    "faiss-truncated": _truncate("sentences.faiss"),
    "faiss-empty": _write("sentences.faiss", b""),
    "faiss-garbage": _write("sentences.faiss", os.urandom(4096)),
    "faiss-missing": lambda g: (g / "sentences.faiss").unlink(),
    "manifest-truncated": _truncate("manifest.json"),
    "manifest-not-object": _write("manifest.json", b"[1, 2]"),
    "manifest-not-utf8": _write("manifest.json", b"\xff\xfe\x00{"),
    "manifest-no-build": _edit_manifest(lambda m: m.pop("build")),
    "manifest-bad-dimension": _edit_manifest(lambda m: m["build"].update(dimension="wide")),
    "manifest-other-dimension": _edit_manifest(lambda m: m["build"].update(dimension=256)),
    "manifest-files-list": _edit_manifest(lambda m: m.update(files=[1])),
    "manifest-future-format": _edit_manifest(lambda m: m["build"].update(format=99)),
    "chunks-truncated": _truncate("chunks.jsonl"),
    "chunks-one-missing": _drop_last_chunk,
    "chunks-bad-record": _write("chunks.jsonl", b'{"source": "x"}\n'),
    "current-empty": lambda g: (g.parent / "CURRENT").write_text(""),
    "current-not-utf8": lambda g: (g.parent / "CURRENT").write_bytes(b"\xff\xfe\xfa"),
    "current-dangling": lambda g: (g.parent / "CURRENT").write_text("gen-0-0"),
    "generation-deleted": shutil.rmtree,
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_index_is_refused_with_the_way_to_recover(damage, corpus, settings, capsys):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    damage(_live(settings))
    with pytest.raises(IndexProblem, match=REBUILD):
        load_pipeline(settings, embedder, EchoGenerator())
    with pytest.raises(IndexProblem, match=REBUILD):  # updating refuses too: the damage is not built upon
        index_files([corpus], settings, embedder)
    assert main(["--index-dir", str(settings.store.index_dir), "ask", "Where do kiwi birds live?"]) == 5
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and REBUILD in err
    report = index_files([corpus], settings, embedder, rebuild=True)
    assert report.files == 3 and len(list(settings.store.index_dir.glob("gen-*"))) == 1
    pipeline = load_pipeline(settings, embedder, EchoGenerator())
    assert ask("Where does the kiwi bird live?", pipeline).answer().citations[0].source == "en.txt"


def test_a_missing_index_says_how_to_build_one(settings, capsys):
    assert main(["--index-dir", str(settings.store.index_dir), "ask", "hello?"]) == 5
    assert capsys.readouterr().err == f"error: no index in {settings.store.index_dir}: build one with `rag index`\n"


# A child process that rebuilds the index from `new` and stops for good in the middle of writing `stage`:
# it writes half of that file, touches `marker` and sleeps until the test SIGKILLs it.
KILLED_INDEXER = """
import sys, time
from pathlib import Path
from rag.store import storage as store
from rag.store.catalog import remove
from rag.config import load_settings
from rag.ingest.build import index_files
from tests.fakes import HashEmbedder

index_dir, new, stage, marker = sys.argv[1:]
write = store._write

def stalling_write(path, data):
    if path.name == stage:
        with open(path, "wb") as handle:
            handle.write(data[: len(data) // 2])
        Path(marker).touch()
        time.sleep(120)
    write(path, data)

store._write = stalling_write
index_files([Path(new)], load_settings(index_dir=Path(index_dir)), HashEmbedder(), rebuild=True)
"""


def _child(script: str, *args: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)], cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True
    )


def _wait_for(path: Path, child: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert child.poll() is None, "the child indexer ended before reaching the write"
        assert time.monotonic() < deadline, "the child indexer never reached the write"
        time.sleep(0.05)


@pytest.mark.parametrize("stage", ["manifest.json", "chunks.jsonl", "sentences.faiss", "CURRENT.tmp"])
def test_an_indexer_killed_mid_write_leaves_the_old_index(stage, corpus, settings, tmp_path: Path):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    new = tmp_path / "new"
    new.mkdir()
    (new / "other.txt").write_text("Penguins live in Antarctica.\n")
    child = _child(KILLED_INDEXER, settings.store.index_dir, new, stage, tmp_path / "reached")
    try:
        _wait_for(tmp_path / "reached", child)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    leftovers = [p.name for p in settings.store.index_dir.iterdir() if p.is_dir() and p != _live(settings)]
    assert len(leftovers) == 1  # the half-written generation (.tmp-gen-*, or gen-* when killed at the switch)
    index = store.load(settings.store.index_dir)
    assert sorted(index.files) == ["en.txt", "vi.txt", "zh.md"]
    pipeline = load_pipeline(settings, embedder, EchoGenerator())
    assert ask("Where does the kiwi bird live?", pipeline).answer().citations[0].source == "en.txt"
    index_files([new], settings, embedder)  # the next save clears the leftovers; the dead child's lock is gone
    names = sorted(p.name for p in settings.store.index_dir.iterdir() if p.is_dir())
    assert names == [_live(settings).name] and len(store.load(settings.store.index_dir).files) == 4


# A child process that removes en.txt and stops for good in the middle of writing `stage`, as KILLED_INDEXER does.
KILLED_REMOVER = """
import sys, time
from pathlib import Path
from rag.store import storage as store
from rag.store.catalog import remove
from rag.store.catalog import remove
from rag.config import load_settings

index_dir, stage, marker = sys.argv[1:]
write = store._write

def stalling_write(path, data):
    if path.name == stage:
        with open(path, "wb") as handle:
            handle.write(data[: len(data) // 2])
        Path(marker).touch()
        time.sleep(120)
    write(path, data)

store._write = stalling_write
remove(load_settings(index_dir=Path(index_dir)).store, ["en.txt"])
"""


@pytest.mark.parametrize("stage", ["manifest.json", "chunks.jsonl", "sentences.faiss", "CURRENT.tmp"])
def test_a_remove_killed_mid_write_leaves_the_old_index(stage, corpus, settings, tmp_path: Path):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    before = _live(settings)
    child = _child(KILLED_REMOVER, settings.store.index_dir, stage, tmp_path / "reached")
    try:
        _wait_for(tmp_path / "reached", child)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert _live(settings) == before and sorted(store.load(settings.store.index_dir).files) == [
        "en.txt",
        "vi.txt",
        "zh.md",
    ]
    pipeline = load_pipeline(settings, embedder, EchoGenerator())
    assert ask("Where does the kiwi bird live?", pipeline).answer().citations[0].source == "en.txt"
    remove(settings.store, ["en.txt"])  # the dead child's lock is gone; this save clears its leftovers
    assert sorted(store.load(settings.store.index_dir).files) == ["vi.txt", "zh.md"]
    assert [p.name for p in settings.store.index_dir.iterdir() if p.is_dir()] == [_live(settings).name]


def test_a_remove_is_refused_while_an_indexer_writes(corpus, settings):
    index_files([corpus], settings, HashEmbedder())
    holder = _child(HOLDER, settings.store.index_dir)
    try:
        assert holder.stdout and holder.stdout.readline() == "locked\n"
        with pytest.raises(IndexProblem, match="another process is writing the index"):
            remove(settings.store, ["en.txt"])
    finally:
        holder.kill()
        holder.wait()
    assert len(store.load(settings.store.index_dir).files) == 3


INDEXER = """
import sys
from pathlib import Path
from rag.config import load_settings
from rag.ingest.build import index_files
from tests.fakes import HashEmbedder

index_files([Path(sys.argv[2])], load_settings(index_dir=Path(sys.argv[1])), HashEmbedder(), rebuild=True)
"""


@pytest.mark.parametrize("attempt", range(2))
def test_an_indexer_killed_as_it_starts_writing_leaves_a_whole_index(attempt, corpus, settings, tmp_path: Path):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    new = tmp_path / "new"
    new.mkdir()
    for i in range(100):
        (new / f"n{i:03}.txt").write_text(f"Note {i}. Penguins live in Antarctica. " * 20)
    child = _child(INDEXER, settings.store.index_dir, new)
    deadline = time.monotonic() + 60
    while not any(settings.store.index_dir.glob(".tmp-gen-*")) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)  # unpatched code: kill the moment the new generation folder appears
    child.send_signal(signal.SIGKILL)
    child.wait()
    files = set(store.load(settings.store.index_dir).files)
    assert files in ({"en.txt", "vi.txt", "zh.md"}, {f"n{i:03}.txt" for i in range(100)})


HOLDER = """
import sys, time
from pathlib import Path
from rag.store.storage import writer_lock

with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_second_indexer_is_refused_while_one_writes(corpus, settings, tmp_path: Path, capsys):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    before = _live(settings)
    (tmp_path / "more.txt").write_text("Penguins live in Antarctica.\n")
    holder = _child(HOLDER, settings.store.index_dir)
    try:
        assert holder.stdout and holder.stdout.readline() == "locked\n"
        with pytest.raises(IndexProblem, match="another process is writing the index"):
            index_files([tmp_path / "more.txt"], settings, embedder)
        args = ["--index-dir", str(settings.store.index_dir), "index", "--quiet", str(tmp_path / "more.txt")]
        assert main(args) == 5
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "another process is writing the index" in err
        assert "more.txt" not in store.load(settings.store.index_dir).files  # readers are never blocked
    finally:
        holder.kill()
        holder.wait()
    assert _live(settings) == before
    assert index_files([tmp_path / "more.txt"], settings, embedder).added == ["more.txt"]


def test_the_next_save_removes_leftover_folders(corpus, settings):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    for name in (".tmp-gen-1-1", "gen-2-2"):
        (settings.store.index_dir / name).mkdir()
        (settings.store.index_dir / name / "sentences.faiss").write_bytes(b"half")
    (settings.store.index_dir / "CURRENT.tmp").write_text("gen-2-2")
    assert len(store.load(settings.store.index_dir).files) == 3  # leftovers do not disturb loading
    index_files([corpus], settings, embedder, rebuild=True)
    folders = [p.name for p in settings.store.index_dir.iterdir() if p.is_dir()]
    assert folders == [_live(settings).name]


class OtherEmbedder(HashEmbedder):
    model_id = "other-embedder"


class WiderEmbedder(HashEmbedder):
    """The same name, other vectors: only the dimension tells."""

    dimension = 1024


def test_an_index_built_with_other_settings_is_refused(corpus, settings):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    index = store.load(settings.store.index_dir)
    check_compatible(index.info, embedder, settings.ingest.chunk_tokens)
    changes = ((settings.with_(chunk_tokens=80), embedder), (settings, OtherEmbedder()), (settings, WiderEmbedder()))
    for changed, other in changes:
        with pytest.raises(IndexProblem, match=REBUILD):
            check_compatible(index.info, other, changed.ingest.chunk_tokens)
        with pytest.raises(IndexProblem, match=REBUILD):
            load_pipeline(changed, other, EchoGenerator())
        with pytest.raises(IndexProblem, match=REBUILD):
            index_files([corpus], changed, other)
    rebuilt = index_files([corpus], settings.with_(chunk_tokens=80), embedder, rebuild=True)
    assert rebuilt.files == 3
    load_pipeline(settings.with_(chunk_tokens=80), embedder, EchoGenerator())


def test_a_failed_write_keeps_the_previous_index(corpus, settings, tmp_path: Path, monkeypatch):
    embedder = HashEmbedder()
    index_files([corpus], settings, embedder)
    before = _live(settings)
    write = store._write

    def disk_full(path: Path, data: bytes) -> None:
        if path.name == "sentences.faiss":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write(path, data)

    monkeypatch.setattr(store, "_write", disk_full)
    (tmp_path / "more.txt").write_text("Penguins live in Antarctica.\n")
    with pytest.raises(IndexProblem, match=r"\(No space left on device\); the previous index is unchanged"):
        index_files([tmp_path / "more.txt"], settings, embedder)
    assert _live(settings) == before and sorted(store.load(settings.store.index_dir).files) == [
        "en.txt",
        "vi.txt",
        "zh.md",
    ]
    assert [p.name for p in settings.store.index_dir.iterdir() if p.is_dir()] == [before.name]


def test_an_unwritable_index_folder_is_one_clear_line(corpus, tmp_path: Path, capsys):
    (tmp_path / "file").write_text("not a folder")
    index_dir = tmp_path / "file" / "index"
    with pytest.raises(IndexProblem, match="cannot write the index in"), store.writer_lock(index_dir):
        pass
    assert main(["--index-dir", str(index_dir), "index", "--quiet", str(corpus)]) == 5
    assert capsys.readouterr().err.count("\n") == 1
