"""The engine pre-flight check with a real small GGUF: it generates in a child process, once per build and CPU."""

from __future__ import annotations

from pathlib import Path

from rag.config import PROJECT_DIR
from rag.engines import preflight

SMALL_GGUF = PROJECT_DIR / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_the_check_runs_once_per_engine_build_and_cpu(tmp_path: Path):
    state = tmp_path / "state"
    preflight.ensure_engine_runs(SMALL_GGUF, 2, state)
    (stamp,) = state.glob("engine-ok-*")
    assert stamp.name == f"engine-ok-{preflight.engine_fingerprint()}"
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + bytes(64))
    preflight.ensure_engine_runs(damaged, 2, state)  # remembered: no second child process is started
