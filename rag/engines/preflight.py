"""Pre-flight check of the llama.cpp engine: a few tokens generated in a child process, so that a build this CPU
cannot run (an illegal instruction, SIGILL) becomes one clear line instead of a vanished process."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from rag.errors import EngineCrashed, MissingDependency

# Instruction sets a portable build may use (an AVX2/FMA/F16C baseline); AMX and AVX-512 would tie the build to
# the CPU it was built on, and AMX in particular is refused by some VMs that advertise it.
REFUSED_FEATURES = ("AMX",)
NON_PORTABLE_FEATURES = ("AVX512", "AVX_VNNI", "AMX")
REBUILD_HINT = "rebuild the portable engine with `make reinstall-llama` (README: Requirements)"
PROBE_TOKENS = 4
PROBE_TIMEOUT_S = 300


@dataclass(frozen=True)
class EngineReport:
    """What the child process saw: the build's CPU features and a short generation."""

    features: tuple[str, ...]
    tokens: int
    seconds: float


def compiled_features() -> tuple[str, ...]:
    """CPU features the installed llama.cpp was compiled with, from `llama_print_system_info()`."""
    try:
        import llama_cpp
    except ImportError:
        raise MissingDependency("llama-cpp-python is missing: run `make install`") from None
    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")  # "CPU : SSE3 = 1 | AVX = 1 | ..."
    pairs = (part.partition("=") for part in info.split("|"))
    return tuple(sorted(name.split(":")[-1].strip() for name, _, value in pairs if value.strip() == "1"))


def non_portable(features: tuple[str, ...]) -> list[str]:
    """Compiled-in features that tie the build to some CPUs."""
    return [f for f in features if f.startswith(NON_PORTABLE_FEATURES)]


def probe(gguf: Path, threads: int = 2, command: list[str] | None = None) -> EngineReport:
    """Load `gguf` and generate a few tokens in a child process; raise EngineCrashed if it dies by a signal."""
    command = command or [sys.executable, "-m", "rag.engines.preflight", str(gguf), str(threads)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise EngineCrashed(f"llama.cpp did not generate {PROBE_TOKENS} tokens in {PROBE_TIMEOUT_S} s") from None
    if done.returncode < 0:
        raise EngineCrashed(crash_message(-done.returncode, gguf))
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EngineCrashed(f"llama.cpp could not run {gguf.name}: {last}")
    features, tokens, seconds = done.stdout.strip().splitlines()[-1].split("\t")
    return EngineReport(tuple(features.split(",")) if features else (), int(tokens), float(seconds))


def crash_message(signum: int, gguf: Path) -> str:
    """One line naming the signal, its likely cause and the way out."""
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    if signum == signal.SIGILL:
        return (
            f"llama.cpp was killed by {name} (illegal instruction): this llama-cpp-python build uses CPU "
            f"instructions this machine refuses; {REBUILD_HINT}"
        )
    if signum == signal.SIGKILL:
        return f"llama.cpp was killed ({name}) while running {gguf.name}: most likely out of memory"
    return f"llama.cpp crashed with {name} while running {gguf.name}: the GGUF file may be damaged or unsupported"


def check_engine(gguf: Path, threads: int, stamp_dir: Path) -> EngineReport:
    """Probe the engine and remember that it ran with this build on this CPU."""
    report = probe(gguf, threads)
    stamp_dir.mkdir(parents=True, exist_ok=True)
    _stamp(stamp_dir).touch()
    return report


def ensure_engine_runs(gguf: Path, threads: int, stamp_dir: Path) -> None:
    """Probe once per engine build and CPU; later calls on the same machine return at once."""
    if not _stamp(stamp_dir).exists():
        check_engine(gguf, threads, stamp_dir)


def _stamp(stamp_dir: Path) -> Path:
    return stamp_dir / f"engine-ok-{engine_fingerprint()}"


def engine_fingerprint() -> str:
    """Identifies the installed engine libraries and this CPU: a change of either asks for a new probe."""
    import llama_cpp

    digest = hashlib.sha256()
    for lib in sorted((Path(llama_cpp.__file__).parent / "lib").glob("*.so*")):
        stat = lib.stat()
        digest.update(f"{lib.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(_cpu_flags().encode())
    return digest.hexdigest()[:16]


def _cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return ""
    return next((line for line in text.splitlines() if line.startswith(("flags", "Features"))), "")


def _child(gguf: str, threads: int) -> None:
    """Runs in the child process: load the model, generate a few tokens, print features, count and time."""
    from llama_cpp import Llama

    llm = Llama(gguf, n_ctx=256, n_threads=threads, n_threads_batch=threads, verbose=False)
    started = time.perf_counter()
    completion = cast("dict[str, Any]", llm("The capital of France is", max_tokens=PROBE_TOKENS, temperature=0.0))
    seconds = time.perf_counter() - started
    print(f"{','.join(compiled_features())}\t{completion['usage']['completion_tokens']}\t{seconds:.3f}")


if __name__ == "__main__":
    _child(sys.argv[1], int(sys.argv[2]))
