"""Engine builds side by side: prompt and generation speed of llama.cpp builds installed in different interpreters.

    python -m bench.engine --python portable=.venv/bin/python --python native=/tmp/native/bin/python

Each build runs in its own child process (a build is a shared library; two cannot share one process). Rounds
alternate between builds so that machine noise falls on both alike; the report gives medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import Section, write_sections
from rag.config import PROJECT_DIR

TITLE = "10. Engine build: portable vs native"
NOTE = (
    "The portable build (`GGML_NATIVE=OFF`, AVX2/FMA/F16C/BMI2, no AVX-512, no AMX) is what `make install` ships; "
    "`native` is llama-cpp-python's default `-march=native` build of the same version on the same machine. "
    "On a CPU without AVX-512 or AMX the two compile the same kernels, so the difference is noise; on a CPU with "
    "AVX-512 a native build can be faster, but it cannot run on other machines, and with AMX it crashes on VMs that "
    "advertise AMX without allowing it."
)
PROMPT = " ".join(
    ["The ASEAN–New Zealand Commemorative Summit agreed to upgrade relations to a Comprehensive Strategic Partnership."]
    * 12
)  # about 250 tokens
GENERATE = 48


def child(gguf: str, threads: int, repeats: int) -> None:
    """Runs under the interpreter being measured: print one JSON line of timings."""
    from llama_cpp import Llama

    from rag.engines.preflight import compiled_features

    # Any: with stream=True a call returns an iterator, which the library's typed union does not tell apart
    llm: Any = Llama(gguf, n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False)
    n_prompt = len(llm.tokenize(PROMPT.encode()))
    prompt_s, decode_s = [], []
    for _ in range(repeats):
        llm.reset()  # no prefix reuse: every round evaluates the whole prompt
        started = time.perf_counter()
        stream = llm(PROMPT, max_tokens=GENERATE, temperature=0.0, stream=True)
        next(stream)
        first = time.perf_counter()
        produced = 1 + sum(1 for _ in stream)
        prompt_s.append(first - started)
        decode_s.append((time.perf_counter() - first) / max(1, produced - 1))
    features = compiled_features()
    print(json.dumps({"n_prompt": n_prompt, "prompt_s": prompt_s, "decode_s": decode_s, "features": features}))


def measure(builds: dict[str, str], gguf: Path, threads: int, rounds: int, repeats: int) -> dict[str, dict]:
    """Alternate builds for `rounds` rounds of `repeats` timings each; return per-build samples."""
    samples: dict[str, dict] = {name: {"prompt_s": [], "decode_s": []} for name in builds}
    for _ in range(rounds):
        for name, python in builds.items():
            command = [python, "-m", "bench.engine", "--child", str(gguf), str(threads), str(repeats)]
            done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_DIR, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            samples[name]["prompt_s"] += row["prompt_s"]
            samples[name]["decode_s"] += row["decode_s"]
            samples[name].update(n_prompt=row["n_prompt"], features=row["features"])
    return samples


def markdown(samples: dict[str, dict], gguf: Path, threads: int) -> str:
    """A table of medians (prompt tokens/s, generated tokens/s) with ratios to the first build."""
    base = next(iter(samples.values()))
    base_prompt, base_decode = statistics.median(base["prompt_s"]), statistics.median(base["decode_s"])
    lines = [
        f"Model `{gguf.name}`, {threads} threads, a {base['n_prompt']}-token prompt and {GENERATE} generated tokens, "
        f"{len(base['prompt_s'])} timings per build in alternating rounds.",
        "",
        "| build | compiled CPU features | prompt tok/s | generate tok/s | prompt vs first | generate vs first |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in samples.items():
        prompt, decode = statistics.median(s["prompt_s"]), statistics.median(s["decode_s"])
        lines.append(
            f"| {name} | {' '.join(s['features'])} | {s['n_prompt'] / prompt:.0f} | {1 / decode:.1f} | "
            f"{base_prompt / prompt:.2f}× | {base_decode / decode:.2f}× |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", required=True, help="NAME=INTERPRETER (first is the baseline)")
    parser.add_argument("--gguf", type=Path, default=PROJECT_DIR / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also put the table into this report (e.g. bench/REPORT.md)")
    args = parser.parse_args(argv)
    builds = dict(spec.split("=", 1) for spec in args.python)
    table = markdown(measure(builds, args.gguf, args.threads, args.rounds, args.repeats), args.gguf, args.threads)
    print(table)
    if args.out:
        section = Section(TITLE)
        section.text(f"`python -m bench.engine {' '.join(argv if argv is not None else sys.argv[1:])}`", table, NOTE)
        write_sections(args.out, [section])
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(main())
