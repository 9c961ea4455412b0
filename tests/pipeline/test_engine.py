"""The installed llama.cpp build is portable, and a model it cannot run (a damaged GGUF) is one line, never a crash."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import llama_cpp
import pytest

from rag.config import PROJECT_DIR
from rag.engines import preflight
from rag.engines.llama import LlamaCppGenerator
from rag.errors import EngineCrashed
from tests.engine import non_portable_instructions

SMALL_GGUF = PROJECT_DIR / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
ENGINE_LIBS = sorted((Path(llama_cpp.__file__).parent / "lib").glob("lib*.so"))


def test_installed_engine_is_built_without_amx_or_avx512():
    features = preflight.compiled_features()
    assert "AVX2" in features, features  # the portable baseline is really compiled in
    assert preflight.non_portable(features) == [], features


def test_no_amx_or_avx512_instruction_is_in_the_engine_libraries():
    assert ENGINE_LIBS and shutil.which("objdump"), "objdump (binutils) comes with the compiler the build needs"
    for library in ENGINE_LIBS:
        assert non_portable_instructions(library) == {"amx": 0, "avx512": 0}, library


def test_engine_generates_a_few_tokens_in_a_child_process():
    # The smallest bundled GGUF: about a second, so the portable engine is proven in the fast layer too.
    report = preflight.probe(SMALL_GGUF, threads=2)
    assert report.tokens == preflight.PROBE_TOKENS
    assert "AVX2" in report.features and not preflight.non_portable(report.features)


def test_a_damaged_gguf_fails_the_check_with_one_line_and_no_stamp(tmp_path: Path):
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    with pytest.raises(EngineCrashed, match=r"could not run damaged\.gguf"):
        preflight.ensure_engine_runs(damaged, 2, tmp_path / "state")
    assert not any((tmp_path / "state").glob("engine-ok-*"))


def test_generator_refuses_to_load_in_process_when_the_check_fails(tmp_path: Path):
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    with pytest.raises(EngineCrashed):
        LlamaCppGenerator(damaged, state_dir=tmp_path / "state").llm  # noqa: B018 - loading is the point


def test_cli_check_reports_a_failing_engine_in_one_line(tmp_path: Path):
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RAG_GGUF": str(damaged), "RAG_STATE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "check"], capture_output=True, text=True, env=env, cwd=PROJECT_DIR
    )
    assert done.returncode == EngineCrashed.exit_code
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: llama.cpp could not run damaged.gguf")
