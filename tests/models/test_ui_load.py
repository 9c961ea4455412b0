"""The served chat UI with the real models under load: 8 API clients at once, each in its own session."""

from __future__ import annotations

import html
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from rag.config import PROJECT_DIR


def test_eight_clients_at_once_get_their_own_answers(served: tuple) -> None:
    """8 API clients × 2 questions: no errors, every answer in its own chat under its own question (a second turn
    shows that a chat keeps its own history while others are answered)."""
    from gradio_client import Client

    gold = [json.loads(line) for line in (PROJECT_DIR / "eval" / "gold.jsonl").open(encoding="utf-8")]
    questions = [g["question"] for g in gold[:16]]

    def client_run(k: int) -> list[float]:
        client = Client(served[0], verbose=False)
        latencies = []
        for turn, question in enumerate(questions[k::8], 1):
            started = time.perf_counter()
            messages, sources, _ = client.predict(question, api_name="/ask")
            latencies.append(time.perf_counter() - started)
            asked = [m["content"][0]["text"] for m in messages if m["role"] == "user"]
            assert asked == questions[k::8][:turn], "a chat holds another session's questions"
            answered = [m["content"][0]["text"] for m in messages if m["role"] == "assistant"]
            assert len(answered) == turn and answered[-1].strip() not in ("", "…"), "a turn without its answer"
            assert f'data-turn="{turn}"><b>Q{turn}: ' in sources and sources.count('class="turn"') == turn
            assert html.unescape(sources.split("</b>", 1)[0].split(": ", 1)[1]) == question, (
                "an answer to another question"
            )
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        latencies = sorted(t for run in pool.map(client_run, range(8)) for t in run)
    wall = time.perf_counter() - started
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"\n8 clients x 2 questions: {len(latencies)} answers in {wall:.1f} s; latency p50 "
        f"{statistics.median(latencies):.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s"
    )
