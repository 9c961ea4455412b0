"""The engine pre-flight check: the installed llama.cpp build is portable, generates, and a crash becomes one line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import llama_cpp
import pytest

from rag import preflight
from rag.config import PROJECT_DIR
from rag.errors import EngineCrashed
from rag.generation import LlamaCppGenerator

SMALL_GGUF = PROJECT_DIR / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
ENGINE_LIBS = sorted((Path(llama_cpp.__file__).parent / "lib").glob("lib*.so"))
AMX = re.compile(r"\b(tilezero|tdpb[su][su]d|tdpbf16ps|ldtilecfg|sttilecfg|tileloadd|tileloaddt1|tilestored|tilerelease)\b")


def non_portable_instructions(library: Path) -> dict[str, int]:
    """Counts of AMX instructions and AVX-512 (zmm) operands in a shared library's machine code."""
    code = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", str(library)], capture_output=True, text=True, check=True
    ).stdout
    return {"amx": len(AMX.findall(code)), "avx512": code.count("%zmm")}


def test_installed_engine_is_built_without_amx_or_avx512():
    features = preflight.compiled_features()
    assert "AVX2" in features, features  # the portable baseline is really compiled in
    assert preflight.non_portable(features) == [], features


def test_no_amx_or_avx512_instruction_is_in_the_engine_libraries():
    assert ENGINE_LIBS and shutil.which("objdump"), "objdump (binutils) comes with the compiler the build needs"
    for library in ENGINE_LIBS:
        assert non_portable_instructions(library) == {"amx": 0, "avx512": 0}, library


def test_the_instruction_scan_finds_amx_and_avx512_where_they_are(tmp_path: Path):
    source = tmp_path / "amx.c"
    source.write_text(
        "#include <immintrin.h>\nvoid z(void) { _tile_zero(1); _tile_release(); }\n"
        "void w(float *a) { __m512 v = _mm512_loadu_ps(a); _mm512_storeu_ps(a, _mm512_add_ps(v, v)); }\n"
    )
    library = tmp_path / "libamx.so"
    subprocess.run(["cc", "-O2", "-mamx-tile", "-mavx512f", "-shared", "-fPIC", "-o", library, source], check=True)
    found = non_portable_instructions(library)
    assert found["amx"] == 2 and found["avx512"] >= 3


def test_engine_generates_a_few_tokens_in_a_child_process():
    report = preflight.probe(SMALL_GGUF, threads=2)
    assert report.tokens == preflight.PROBE_TOKENS
    assert "AVX2" in report.features and not preflight.non_portable(report.features)


def test_a_child_killed_by_an_illegal_instruction_becomes_one_line():
    suicide = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"]
    with pytest.raises(EngineCrashed) as caught:
        preflight.probe(SMALL_GGUF, command=suicide)
    message = str(caught.value)
    assert "SIGILL" in message and "make reinstall-llama" in message and "\n" not in message


def test_other_signals_name_their_likely_cause():
    assert "out of memory" in preflight.crash_message(9, SMALL_GGUF)
    assert "damaged or unsupported" in preflight.crash_message(11, SMALL_GGUF)


def test_a_damaged_gguf_fails_the_check_with_one_line_and_no_stamp(tmp_path: Path):
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    with pytest.raises(EngineCrashed, match=r"could not run damaged\.gguf"):
        preflight.ensure_engine_runs(damaged, 2, tmp_path / "state")
    assert not any((tmp_path / "state").glob("engine-ok-*"))


def test_the_check_runs_once_per_engine_build_and_cpu(tmp_path: Path):
    state = tmp_path / "state"
    preflight.ensure_engine_runs(SMALL_GGUF, 2, state)
    (stamp,) = state.glob("engine-ok-*")
    assert stamp.name == f"engine-ok-{preflight.engine_fingerprint()}"
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + bytes(64))
    preflight.ensure_engine_runs(damaged, 2, state)  # remembered: no second child process is started


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
