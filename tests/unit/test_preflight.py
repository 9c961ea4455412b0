"""The engine pre-flight check's own logic: crash messages, a child killed by a signal, the instruction scan."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import PROJECT_DIR
from rag.engines import preflight
from rag.errors import EngineCrashed
from tests.engine import non_portable_instructions

SMALL_GGUF = PROJECT_DIR / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"  # named only: no model is loaded here


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


def test_a_child_killed_by_an_illegal_instruction_becomes_one_line():
    suicide = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGILL)"]
    with pytest.raises(EngineCrashed) as caught:
        preflight.probe(SMALL_GGUF, command=suicide)
    message = str(caught.value)
    assert "SIGILL" in message and "make reinstall-llama" in message and "\n" not in message


def test_other_signals_name_their_likely_cause():
    assert "out of memory" in preflight.crash_message(9, SMALL_GGUF)
    assert "damaged or unsupported" in preflight.crash_message(11, SMALL_GGUF)
