"""Bad questions: empty, huge, control characters, mixed scripts, emoji, random text: a clear refusal or an answer."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from rag.answer.ask import ask
from rag.cli import main
from rag.config import PROJECT_DIR, load_settings
from rag.errors import BadQuestion
from rag.ingest.build import index_files
from rag.records import Answer
from tests.fakes import HashEmbedder

REFUSED = {
    "empty": "",
    "spaces": "     ",
    "whitespace": "\n\t \r\n\u3000\u00a0",
    "controls": "\x00\x01\x02\x1b\x7f\x9b",
    "emoji-only": "🙂🥝🇻🇳👍🏽",
    "punctuation": "?!…。？",
    "zero-width": "\u200b\u200d\ufeff",
    "huge": "kiwi " * 20_000,  # 100,000 characters
}
ANSWERED = {
    "mixed-scripts": "ASEAN và 新西兰 relations, kiwi?",
    "emoji-and-words": "Where do 🥝 kiwi birds live? 🙂",
    "embedded-controls": "Where\x00 do kiwi\x1b[31m birds\x07 live?",
    "zero-width-inside": "ki\u200bwi bi\u200drds",
    "lone-surrogate": "\ud800kiwi birds",
    "combining": "Vie\u0302\u0323t Nam xua\u0302\u0301t kha\u0302\u0309u ga\u0323o",  # NFD Vietnamese
    "rtl": "\u202ekiwi\u202c \u05e9\u05dc\u05d5\u05dd birds",
    "at-the-limit": "kiwi " * 400,  # 2,000 characters with the trailing space stripped
}


@pytest.mark.parametrize("question", REFUSED.values(), ids=REFUSED.keys())
def test_unusable_questions_are_refused_quickly(question, fake_pipeline):
    started = time.perf_counter()
    with pytest.raises(BadQuestion, match=r"question is (empty|\d+ characters long; the limit is 2000)"):
        ask(question, fake_pipeline).answer()
    assert time.perf_counter() - started < 1.0
    assert fake_pipeline.generator.prompts == []


@pytest.mark.parametrize("question", ANSWERED.values(), ids=ANSWERED.keys())
def test_odd_but_readable_questions_are_answered(question, fake_pipeline):
    result = ask(question, fake_pipeline).answer()
    assert isinstance(result, Answer) and result.text
    assert result.question.isprintable()  # control characters never reach the prompt
    assert all(c.isprintable() or c == "\n" for p in fake_pipeline.generator.prompts for c in p.user)


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300) | st.text(st.characters(codec="utf-8"), max_size=3000))
def test_any_string_gives_an_answer_or_a_bad_question(fake_pipeline, question):
    try:
        result = ask(question, fake_pipeline).answer()
    except BadQuestion as problem:
        assert str(problem).startswith("question is ")
        return
    assert isinstance(result, Answer) and result.text.strip()
    assert result.language in ("en", "vi", "zh")


class DefaultNamedEmbedder(HashEmbedder):
    """The fake embedder under the default model's name, so the CLI accepts its index without loading a model."""

    model_id = load_settings().engines.embedder_path.name


@pytest.fixture
def cli_index(corpus, settings) -> Path:
    index_files([corpus], settings, DefaultNamedEmbedder())
    return settings.store.index_dir


@pytest.mark.parametrize(
    "question", ["", "   ", "\x00\x1b", "🙂", "x" * 2001], ids=["empty", "blank", "ctrl", "emoji", "long"]
)
def test_cli_prints_one_line_and_exits_2_for_a_bad_question(question, cli_index, capsys):
    assert main(["--index-dir", str(cli_index), "ask", question]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("error: question is ")


def test_the_rag_command_in_its_own_process_refuses_a_100k_question(cli_index):
    command = [sys.executable, "-m", "rag.cli", "--index-dir", str(cli_index), "ask", "kiwi " * 20_000]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=PROJECT_DIR)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: question is 99999 characters long; the limit is 2000\n"
