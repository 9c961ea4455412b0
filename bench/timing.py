"""Timing, memory and machine facts: medians over repeats, peak RSS, load average, memory bandwidth."""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from rag.engines.protocols import Embedder, RememberingEmbedder

K = TypeVar("K")  # what names a run


@dataclass(frozen=True)
class Stats:
    """Seconds taken by repeated runs of one thing."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def p95(self) -> float:
        return float(np.percentile(self.samples, 95))

    @property
    def ms(self) -> float:
        return self.median * 1000


def measure(fn: Callable[[], object], repeat: int, warmup: int = 1) -> Stats:
    """Run `fn` `warmup` times untimed, then `repeat` times timed."""
    for _ in range(warmup):
        fn()
    return Stats(tuple(seconds(fn) for _ in range(repeat)))


def stats(samples: list[float]) -> Stats:
    return Stats(tuple(samples))


def _status(field: str) -> float | None:
    """A memory field of /proc/self/status in MiB (Linux only)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def rss_mb() -> float:
    return _status("VmRSS") or 0.0


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) so the next peak belongs to the next step; False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """Peak RSS since the last reset (VmHWM), else the process's lifetime peak from getrusage."""
    return _status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_bandwidth_gbs(mb: int = 256, repeat: int = 5) -> float:
    """Copy bandwidth of a large array (bytes read + bytes written per second), median of `repeat` copies."""
    source = np.ones(mb * 2**20 // 8)
    target = np.empty_like(source)
    copy = measure(lambda: np.copyto(target, source), repeat)
    return 2 * source.nbytes / copy.median / 1e9


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor() or cpu
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": str(os.cpu_count()), "ram": f"{ram:.1f} GiB", "python": platform.python_version()}


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def time_imports() -> float:
    """Seconds to import the model libraries, the first part of a cold start (nothing when they are loaded)."""
    started = time.perf_counter()
    import llama_cpp  # noqa: F401
    import sentence_transformers  # noqa: F401
    import torch  # noqa: F401

    return time.perf_counter() - started


def embedding_itself(embedder: Embedder) -> Embedder:
    """`embedder` without the pipeline's memory of the vectors it made (`RememberingEmbedder`): a timing of
    embedding must embed every time, not hand back a vector made before."""
    return embedder.embedder if isinstance(embedder, RememberingEmbedder) else embedder


def seconds(fn: Callable[[], object]) -> float:
    """Seconds one call of `fn` takes."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def in_turn(runs: Mapping[K, Callable[[], float]], repeat: int = 1) -> dict[K, list[float]]:
    """The seconds each run reports, the runs taken in turn `repeat` times, so that changes in the machine's load
    fall on all of them alike."""
    samples: dict[K, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            samples[name].append(run())
    return samples
