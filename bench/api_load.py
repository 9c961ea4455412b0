"""`python -m bench.api_load`: many API clients at once against a served `rag`, on loopback, bounded in requests
and time; p50/p95 latency, throughput and errors by kind go into a section of bench/REPORT.md.

    python -m bench.api_load                      # fake models: the server's own overhead, queueing, 503s
    python -m bench.api_load --real               # also the default models (needs models/ and a few minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.report import Section, write_sections
from bench.timing import load_average, stats
from tests.processes import free_port, running

REPORT = Path(__file__).resolve().parent / "REPORT.md"
QUESTIONS = [
    "Where is the kiwi bird native to?",
    "熊猫的主要栖息地在哪里？",
    "Việt Nam xuất khẩu bao nhiêu gạo năm 2023?",
    "What about 2016?",
]
SEED_QUESTIONS = [
    "When did ASEAN and New Zealand become Comprehensive Strategic Partners?",
    "新西兰总理卢克松何时访问越南？",
    "Timor-Leste trở thành thành viên thứ mấy của ASEAN?",
    "Who is the President of South Korea who attended the 26th ASEAN-Korea summit?",
]


@dataclass
class Scenario:
    name: str
    clients: int
    requests: int
    queue_size: int
    real: bool = False
    latencies: list[float] = field(default_factory=list)
    first_pieces: list[float] = field(default_factory=list)  # streamed: time to the first content chunk
    outcomes: Counter[str] = field(default_factory=Counter)
    wall_s: float = 0.0


async def one_request(client: httpx.AsyncClient, url: str, n: int, questions: list[str], run: Scenario) -> None:
    stream = n % 2 == 1
    body = {"model": "rag", "messages": [{"role": "user", "content": questions[n % len(questions)]}], "stream": stream}
    started = time.perf_counter()
    try:
        if stream:
            kind = await streamed(client, url, body, started, run)
        else:
            response = await client.post(url, json=body)
            kind = classify(response.status_code, response.json() if response.status_code != 200 else None)
            if kind == "ok" and not response.json()["choices"][0]["message"]["content"]:
                kind = "unexpected: empty answer"
    except (httpx.HTTPError, json.JSONDecodeError, KeyError) as problem:
        kind = f"unexpected: {type(problem).__name__}"
    if kind == "ok":
        run.latencies.append(time.perf_counter() - started)
    run.outcomes[kind] += 1


async def streamed(client: httpx.AsyncClient, url: str, body: dict, started: float, run: Scenario) -> str:
    async with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            return classify(response.status_code, json.loads(await response.aread()))
        events = []
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                events.append(json.loads(line[6:]))
                if len(events) == 2:
                    run.first_pieces.append(time.perf_counter() - started)
            elif line == "data: [DONE]":
                break
    if not events or "error" in events[-1] or "citations" not in events[-1]:
        return "unexpected: stream without a final chunk"
    return "ok"


def classify(status: int, body: dict | None) -> str:
    if status == 200:
        return "ok"
    code = (body or {}).get("error", {}).get("code")
    return (
        "503 queue full (expected)" if status == 503 and code == "queue_full" else f"unexpected: HTTP {status} {code}"
    )


async def drive(url: str, run: Scenario, questions: list[str], limit_s: float) -> None:
    """`run.clients` clients take request numbers from one counter until `run.requests` are done."""
    numbers = iter(range(run.requests))

    async def client_loop(client: httpx.AsyncClient) -> None:
        for n in numbers:
            await one_request(client, url, n, questions, run)

    limits = httpx.Limits(max_connections=run.clients)
    async with httpx.AsyncClient(timeout=limit_s, limits=limits) as client:  # as patient as the server's timeout
        started = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.gather(*(client_loop(client) for _ in range(run.clients))), limit_s)
        except TimeoutError:
            run.outcomes["unexpected: unfinished at the time limit"] += run.requests - sum(run.outcomes.values())
        run.wall_s = time.perf_counter() - started


def serve_and_drive(run: Scenario, limit_s: float, workdir: Path, index_dir: Path) -> None:
    port = free_port()
    env = {"RAG_QUEUE_SIZE": str(run.queue_size), "RAG_REQUEST_TIMEOUT": str(limit_s)}
    if run.real:
        env["RAG_INDEX_DIR"] = str(index_dir)
        command, questions = ["rag.cli", "serve", "--port", str(port)], SEED_QUESTIONS
    else:  # the fake model writes 8 pieces 10 ms apart: about 0.1 s of "generation" per answer
        command = ["tests.serve_fakes", "--port", str(port), "--workdir", str(workdir / run.name.replace(" ", "-"))]
        command += ["--pieces", "8", "--delay", "0.01"]
        questions = QUESTIONS
    base = f"http://127.0.0.1:{port}"
    with running(command, f"{base}/health", env, workdir / f"{port}.log", timeout_s=600):
        asyncio.run(drive(f"{base}/v1/chat/completions", run, questions, limit_s))


def section(runs: list[Scenario], load: tuple[str, str], command: str) -> Section:
    s = Section("9. API under load (OpenAI-compatible /v1/chat/completions)")
    s.text(
        f"`{command}`: each scenario starts its own server on 127.0.0.1 and runs the given number of concurrent "
        "clients (httpx, one connection each) over a fixed number of requests, alternating non-streaming and "
        "streaming; one generation runs at a time and the rest wait in the server's bounded queue. The fake model writes each answer in 8 pieces 10 ms apart (0.08 s), so those rows show the server's own overhead and queueing. Latency is per "
        "successful request, from sending it to the last byte (queue wait included); the first streamed piece is "
        "the time to the first content chunk. A 503 is expected only when more clients wait than the queue holds "
        "(these clients do not retry: a refused client sends its next request at once); anything else is "
        f"unexpected. Load average (1 / 5 / 15 min) before: {load[0]}; after: {load[1]} (2 cores, shared).",
    )
    rows = []
    for run in runs:
        lat, first = stats(run.latencies or [0.0]), stats(run.first_pieces or [0.0])
        expected = sum(v for k, v in run.outcomes.items() if "expected)" in k)
        unexpected = {k: v for k, v in run.outcomes.items() if k.startswith("unexpected")}
        rows.append(
            (
                run.name,
                run.clients,
                run.requests,
                run.queue_size,
                run.outcomes["ok"],
                expected,
                sum(unexpected.values()) if not unexpected else "; ".join(f"{k} ×{v}" for k, v in unexpected.items()),
                f"{run.outcomes['ok'] / run.wall_s:.1f}" if run.wall_s else "n/a",
                f"{lat.median:.2f} / {lat.p95:.2f}",
                f"{first.median:.2f} / {first.p95:.2f}",
                f"{run.wall_s:.1f}",
            )
        )
    s.table(
        [
            "scenario",
            "clients",
            "requests",
            "queue size",
            "ok",
            "503 queue full",
            "unexpected errors",
            "answers/s",
            "latency p50 / p95 s",
            "first streamed piece p50 / p95 s",
            "wall s",
        ],
        rows,
    )
    return s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=256, help="requests per scenario (default 256)")
    parser.add_argument("--real", action="store_true", help="also run the default models (builds a seed index)")
    parser.add_argument("--real-requests", type=int, default=64, help="requests with the real models (default 64)")
    parser.add_argument("--index-dir", type=Path, help="with --real: an existing seed index (default: build one)")
    parser.add_argument("--limit", type=float, default=300, help="seconds a scenario may take (default 300)")
    parser.add_argument("--out", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    runs = [
        Scenario("fake models, queue holds every client", args.clients, args.requests, queue_size=args.clients),
        Scenario("fake models, default queue (16)", args.clients, args.requests, queue_size=16),
    ]
    if args.real:
        runs.append(Scenario("default models (Gemma 3 270M)", args.clients, args.real_requests, args.clients, True))
    load_before = load_average()
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        index_dir = args.index_dir or workdir / "index"
        if args.real and not args.index_dir:
            from rag.cli import main as rag

            rag(["--index-dir", str(index_dir), "index", "--quiet"])
        for run in runs:
            serve_and_drive(run, args.limit, workdir, index_dir)
            print(f"{run.name}: {dict(run.outcomes)} in {run.wall_s:.1f} s", file=sys.stderr)
    command = " ".join(["python -m bench.api_load", *(sys.argv[1:] if argv is None else argv)])
    write_sections(args.out, [section(runs, (load_before, load_average()), command)])  # other sections are kept
    unexpected = sum(v for run in runs for k, v in run.outcomes.items() if k.startswith("unexpected"))
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main())
