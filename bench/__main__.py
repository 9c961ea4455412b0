"""`python -m bench [--quick] [--skip-scale] [--out bench/REPORT.md]`: measure the product and write the report.

Heavy modules are imported inside main() so that their import time can be measured as part of a cold start.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.report import Section, write_sections
from bench.timing import load_average, machine, time_imports

DEFAULT_OUT = Path(__file__).resolve().parent / "REPORT.md"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the RAG product's query path, indexing, levers and FAISS scale; write a Markdown report.",
        epilog="examples:\n  python -m bench\n  python -m bench --quick --skip-scale --out /tmp/r.md",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run (a few minutes): 1 question, 1 seed file indexed by the levers, few repeats",
    )
    parser.add_argument("--skip-scale", action="store_true", help="skip the FAISS 10k-1M scale section (minutes)")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads for torch and llama.cpp (default: the product's setting)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"report path (default {DEFAULT_OUT})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started, load_start = time.perf_counter(), load_average()
    import_s = time_imports()
    from bench.run import run_all

    sections = run_all(args.quick, args.skip_scale, import_s, args.threads)
    command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    intro, machine_section = _intro(args, command, load_start, time.perf_counter() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_sections(args.out, [machine_section, *sections], intro)
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


def _intro(args: argparse.Namespace, command: str, load_start: str, seconds: float) -> tuple[str, Section]:
    from bench.run import versions
    from rag.config import load_settings

    settings = load_settings()
    facts = machine()
    s = Section("Machine and models")
    s.table(
        ["", ""],
        [
            ("CPU", facts["cpu"]),
            ("cores (nproc)", facts["cores"]),
            ("RAM", facts["ram"]),
            ("load average 1/5/15 min at start", load_start),
            ("load average 1/5/15 min at end", load_average()),
            (
                "embedding model",
                f"{settings.engines.embedder_path.name} ({_size_mb(settings.engines.embedder_path):.0f} MB on disk)",
            ),
            ("generator", f"{settings.engines.gguf_path.name} ({_size_mb(settings.engines.gguf_path):.0f} MB)"),
            ("libraries", versions()),
            (
                "run",
                f"`python -m bench{' --quick' if args.quick else ''}{' --skip-scale' if args.skip_scale else ''}`, "
                f"{seconds / 60:.1f} min",
            ),
        ],
    )
    return (
        "# Performance report\n\n"
        "Offline multilingual RAG: EmbeddingGemma-300m (sentence-transformers, CPU) for retrieval, "
        "the GGUF generator named below (via llama-cpp-python) for answers, FAISS + BM25 hybrid search.\n\n"
        "**Timings are noisy**: the machine has 2 cores shared with other running work (see the load averages; "
        "a load above 2 means the benchmark got less than the full CPU). Every number is a median over repeated "
        "runs (p95 where shown); compare ratios within one run rather than absolute values across runs.\n",
        s,
    )


def _size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


if __name__ == "__main__":
    raise SystemExit(main())
