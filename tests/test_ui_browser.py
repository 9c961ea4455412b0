"""The chat UI with the real models: driven by Chromium through Playwright, and by 8 API clients at once."""

from __future__ import annotations

import html
import json
import shutil
import socket
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import app
from rag.answering import NOT_FOUND
from rag.config import PROJECT_DIR, Settings
from rag.pipeline import Pipeline, load_pipeline
from tests.conftest import ASEAN_NZ, SEEDS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = PROJECT_DIR / "docs" / "ui.png"
LIGHTHOUSE = (
    "The Varnholt Lighthouse\n\ndate 2023-04-12\n\nThe Varnholt Lighthouse on Skerra Island was built in 1887 by the "
    "engineer Tamsin Oduya. Its lamp is fuelled by rapeseed oil and can be seen 31 kilometres out to sea.\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(real_pipeline: Pipeline, real_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The UI on a free port, over a copy of the session's seed index (uploads must not leak into other tests)."""
    folder = tmp_path_factory.mktemp("ui")
    shutil.copytree(real_settings.index_dir, folder / "index", ignore=shutil.ignore_patterns(".lock"))
    settings = real_settings.with_(index_dir=folder / "index", upload_dir=folder / "uploads")
    ui = app.App(load_pipeline(settings, real_pipeline.embedder, real_pipeline.generator))
    port = free_port()
    demo = app.launch(ui, "127.0.0.1", port, block=False)
    yield f"http://127.0.0.1:{port}/", ui
    demo.close()


@pytest.fixture(scope="module")
def page(served: tuple) -> Iterator:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: apt-get install chromium (make browser does)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.goto(served[0])
        tab.wait_for_selector("#question textarea")
        yield tab
        browser.close()


WATCH_DRAFTS = """() => {
    window.drafts = [];
    new MutationObserver(() => {
        const bots = document.querySelectorAll('#chat [data-testid="bot"]');
        const text = bots.length ? bots[bots.length - 1].innerText : "";
        if (text.includes("▌")) window.drafts.push(text);
    }).observe(document.querySelector("#chat"), {subtree: true, childList: true, characterData: true});
}"""


def ask_in_browser(page, question: str, turn: int) -> list[str]:
    """Type a question, wait for its sources card; return the drafts the chat showed while the answer streamed."""
    page.evaluate(WATCH_DRAFTS)
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    page.wait_for_selector(f'#sources .turn[data-turn="{turn}"]', timeout=180_000)
    return page.evaluate("window.drafts")


@pytest.mark.slow
@pytest.mark.browser
def test_streamed_answer_links_to_highlighted_sources(page) -> None:
    seen = ask_in_browser(page, ASEAN_NZ, 1)
    answer = page.locator('#chat [data-testid="bot"]').nth(0).inner_text()
    assert "▌" not in answer and answer.strip()
    assert seen, "the draft should stream in before the checked answer"
    shown = page.locator('#sources .turn[data-turn="1"] .source')
    sources = {shown.nth(i).get_attribute("data-source") for i in range(shown.count())}
    assert sources and sources <= {p.name for p in SEEDS.iterdir()}
    assert page.locator('#sources .turn[data-turn="1"] .source mark').first.text_content().strip()
    assert answer != NOT_FOUND["en"], "the pipeline abstained on an answerable question"
    cited = page.locator('#sources .turn[data-turn="1"] > .source')
    assert "000_ce3c90c106d94d56.txt" in {cited.nth(i).get_attribute("data-source") for i in range(cited.count())}
    link = page.locator('#chat [data-testid="bot"] a.cite').first  # each [n] links to its source card
    target = link.get_attribute("href")
    link.click()
    assert page.url.endswith(target) and page.locator(target).is_visible()


@pytest.mark.slow
@pytest.mark.browser
def test_uploaded_file_is_indexed_and_cited(page, served: tuple, tmp_path: Path) -> None:
    note = tmp_path / "varnholt_lighthouse.txt"
    note.write_text(LIGHTHOUSE, encoding="utf-8")
    documents = len(served[1].pipeline.index.files)
    page.locator("input[type=file]").set_input_files(str(note))
    page.wait_for_selector("#upload-report:has-text('Indexed')", timeout=120_000)
    assert f"{documents + 1} documents" in page.locator("#status").inner_text()
    turn = page.locator("#sources .turn").count() + 1
    ask_in_browser(page, "Who built the Varnholt Lighthouse on Skerra Island?", turn)
    answer = page.locator('#chat [data-testid="bot"]').nth(turn - 1).inner_text()
    top = page.locator(f'#sources .turn[data-turn="{turn}"] .source').first
    assert (
        top.get_attribute("data-source") == "varnholt_lighthouse.txt" and "Oduya" in top.locator("mark").text_content()
    )
    assert (served[1].pipeline.settings.upload_dir / "varnholt_lighthouse.txt").is_file()
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert answer != NOT_FOUND["en"], "the pipeline abstained although the uploaded passage was retrieved"
    cited = page.locator(f'#sources .turn[data-turn="{turn}"] > .source')
    assert cited.first.get_attribute("data-source") == "varnholt_lighthouse.txt"
    assert "Oduya" in answer or "1887" in answer


@pytest.mark.slow
def test_eight_clients_at_once_get_their_own_answers(served: tuple) -> None:
    """8 API clients × 5 questions: no errors, every answer in its own chat under its own question."""
    from gradio_client import Client

    gold = [json.loads(line) for line in (PROJECT_DIR / "eval" / "gold.jsonl").open(encoding="utf-8")]
    questions = [g["question"] for g in gold[:40]]

    def client_run(k: int) -> list[float]:
        client = Client(served[0], verbose=False)
        latencies = []
        for turn, question in enumerate(questions[k::8], 1):
            started = time.perf_counter()
            messages, sources, _ = client.predict(question, api_name="/ask")
            latencies.append(time.perf_counter() - started)
            asked = [m["content"][0]["text"] for m in messages if m["role"] == "user"]
            assert asked == questions[k::8][:turn], "a chat holds another session's questions"
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
        f"\n8 clients x 5 questions: {len(latencies)} answers in {wall:.1f} s; latency p50 "
        f"{statistics.median(latencies):.2f} s, p95 {p95:.2f} s, max {latencies[-1]:.2f} s"
    )
    assert len(latencies) == 40
