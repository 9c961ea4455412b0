"""`rag index` on multilingual PDFs and a DOCX, then questions with the real models: the cited page is right."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.answer.ask import ask
from rag.cli import main
from rag.pipeline import Pipeline, load_pipeline
from tests.conftest import sharing_models
from tests.documents import DOCX, EN, VI, ZH, write_samples


def rag(*args: str, index: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAG_INDEX_DIR": str(index)}
    command = [sys.executable, "-m", "rag.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)


@pytest.fixture(scope="module")
def pdf_index(real_pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the three PDFs and the DOCX, built by `rag index` as a user would (in this process, with the
    session's embedder: `rag ask` below is the run in a child process that loads the models)."""
    folder = tmp_path_factory.mktemp("reports")
    write_samples(folder)
    index = folder.parent / f"{folder.name}-index"
    out, err = io.StringIO(), io.StringIO()
    with sharing_models(real_pipeline), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--index-dir", str(index), "index", "--quiet", str(folder)])
    assert code == 0, err.getvalue()
    assert "added 4, updated 0, unchanged 0, skipped 0" in out.getvalue()
    return index


def test_rag_ask_json_cites_the_page(pdf_index: Path) -> None:
    fact = EN.facts[0]
    done = rag("ask", "--json", fact.question, index=pdf_index)
    assert done.returncode == 0, done.stderr
    cited = json.loads(done.stdout)["citations"]
    assert cited and (cited[0]["source"], cited[0]["page"]) == (EN.name, fact.page), done.stdout


@pytest.mark.parametrize(
    ("sample", "fact"),
    [(EN, EN.facts[1]), (VI, VI.facts[0]), (ZH, ZH.facts[1]), (DOCX, DOCX.facts[1])],
    ids=["en-p3", "vi-p2", "zh-p3", "docx-p3"],
)
def test_each_language_cites_the_page_that_holds_the_fact(
    pdf_index: Path, real_pipeline: Pipeline, sample, fact
) -> None:
    settings = real_pipeline.settings.with_(index_dir=pdf_index)
    pipeline = load_pipeline(settings, real_pipeline.embedder, real_pipeline.generator)
    cited = ask(fact.question, pipeline).answer().citations
    assert cited and (cited[0].source, cited[0].page) == (sample.name, fact.page), fact.question


def test_a_scanned_page_in_another_collection_is_cited_with_the_real_models(tmp_path: Path) -> None:
    from tests.scans import LINES, render, write_pdf

    folder = tmp_path / "scans"
    folder.mkdir()
    typed = "Harbour records\n\nThe harbour office keeps the tide tables and the ship registers of the island."
    write_pdf(folder / "harbour.pdf", [typed, render(LINES["en"], "en", angle=1.5, noise=0.02)])
    index = tmp_path / "index"
    done = rag("index", "--quiet", "--collection", "scans", str(folder), index=index)
    assert done.returncode == 0 and "added 1" in done.stdout, done.stderr
    assert (index / "collections" / "scans" / "CURRENT").is_file() and not (index / "CURRENT").exists()
    done = rag("ask", "--json", "--collection", "scans", "Who built the Varnholt Lighthouse?", index=index)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["citations"][0]["source"], answer["citations"][0]["page"]) == ("harbour.pdf", 2), done.stdout
    assert "Oduya" in answer["answer"]
