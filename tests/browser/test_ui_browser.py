"""The chat UI with the real models, driven by headless Chromium through Playwright.

`pytest tests/browser --screenshot docs/ui.png` (make screenshot) also saves a screenshot of the page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.answer.decide import NOT_FOUND
from rag.language import written_in
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
LIGHTHOUSE = (
    "The Varnholt Lighthouse\n\ndate 2023-04-12\n\nThe Varnholt Lighthouse on Skerra Island was built in 1887 by the "
    "engineer Tamsin Oduya. Its lamp is fuelled by rapeseed oil and can be seen 31 kilometres out to sea.\n"
)


@pytest.fixture(scope="module")
def page(served: tuple) -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run `make browser` (apt-get install chromium fonts-noto-cjk)")
    from playwright import sync_api

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.goto(served[0])
        tab.wait_for_selector("#question textarea")
        yield tab
        browser.close()


WATCH_DRAFTS = """() => {
    window.drafts = [];
    window.readingBeforeDraft = false;  // the passages read were on screen before the first word of the draft
    new MutationObserver(() => {
        const bots = document.querySelectorAll('#chat [data-testid="bot"]');
        const text = bots.length ? bots[bots.length - 1].innerText : "";
        if (text.includes("▌")) window.drafts.push(text);
        const reading = document.querySelector('#sources .turn.reading .source');
        if (reading && !window.drafts.length) window.readingBeforeDraft = true;
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def ask_in_browser(page, question: str, turn: int) -> list[str]:
    """Type a question, wait for its checked answer's sources card; return the drafts the chat showed while the
    answer streamed."""
    page.evaluate(WATCH_DRAFTS)
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    page.wait_for_selector(f'#sources .turn[data-turn="{turn}"]:not(.reading)', timeout=180_000)
    return page.evaluate("window.drafts")


def test_streamed_answer_links_to_highlighted_sources(page) -> None:
    seen = ask_in_browser(page, ASEAN_NZ, 1)
    answer = page.locator('#chat [data-testid="bot"]').nth(0).inner_text()
    assert "▌" not in answer and answer.strip()
    assert seen, "the draft should stream in before the checked answer"
    assert page.evaluate("window.readingBeforeDraft"), "the passages read should show before the draft"
    shown = page.locator('#sources .turn[data-turn="1"] .source')
    sources = {shown.nth(i).get_attribute("data-source") for i in range(shown.count())}
    assert sources and sources <= {p.name for p in SEEDS.iterdir()}
    assert page.locator('#sources .turn[data-turn="1"] .source mark').first.text_content().strip()
    assert not answer.startswith(NOT_FOUND["en"]), "the pipeline abstained on an answerable question"
    cited = page.locator('#sources .turn[data-turn="1"] > .source')
    assert "000_ce3c90c106d94d56.txt" in {cited.nth(i).get_attribute("data-source") for i in range(cited.count())}
    link = page.locator('#chat [data-testid="bot"] a.cite').first  # each [n] links to its source card
    target = link.get_attribute("href")
    link.click()
    assert page.url.endswith(target) and page.locator(target).is_visible()


def test_sources_are_translated_into_the_question_language_on_demand(page, request) -> None:
    """The English question above is answered from Vietnamese news: the Translate button adds an English machine
    translation under its source cards (computed on demand, not with the answer)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    turn = page.locator('#sources .turn[data-turn="1"]')
    cards, before = turn.locator(".source").count(), turn.locator(".translation").count()
    page.locator("#translate").click()
    with contextlib.suppress(PlaywrightTimeout):  # the panel greys out while the translation runs
        page.wait_for_selector("#sources > .wrap:not(.hide)", timeout=5_000)
    page.wait_for_selector("#sources > .wrap.hide", state="attached", timeout=180_000)
    shown = turn.locator(".translation")
    assert shown.count() > before or before == cards
    english = shown.first.inner_text().removeprefix("Machine translation:").strip()
    assert written_in(english, "en"), english
    screenshot = request.config.getoption("--screenshot")
    if screenshot:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshot))


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
    assert (served[1].pipeline.settings.store.upload_dir / "varnholt_lighthouse.txt").is_file()
    assert not answer.startswith(NOT_FOUND["en"]), "the pipeline abstained although the uploaded passage was retrieved"
    cited = page.locator(f'#sources .turn[data-turn="{turn}"] > .source')
    assert cited.first.get_attribute("data-source") == "varnholt_lighthouse.txt"
    assert "Oduya" in answer or "1887" in answer


def test_the_documents_panel_removes_a_file_only_after_confirming(page, served: tuple, tmp_path: Path) -> None:
    note = tmp_path / "okapi_notes.txt"
    note.write_text("Okapi\n\nThe okapi is a forest giraffe of the Ituri rainforest.\n", encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(note))
    page.wait_for_selector("#upload-report:has-text('okapi_notes.txt')", timeout=120_000)
    page.locator("#documents-panel").get_by_text("Documents", exact=True).first.click()
    page.wait_for_selector("#documents:has-text('okapi_notes.txt')", timeout=30_000)
    page.locator("#document-choice input").fill("okapi_notes.txt")
    page.get_by_role("option", name="okapi_notes.txt").click()
    page.locator("#remove").click()
    page.wait_for_selector("#remove-question:has-text('Remove okapi_notes.txt')", timeout=30_000)
    page.locator("#remove-no").click()
    page.wait_for_selector("#remove-yes", state="hidden", timeout=30_000)
    assert "okapi_notes.txt" in served[1].pipeline.index.files  # cancelled: nothing removed
    page.locator("#remove").click()
    page.locator("#remove-yes").click()
    page.wait_for_selector("#remove-report:has-text('Removed')", timeout=60_000)
    assert "okapi_notes.txt" not in page.locator("#documents").inner_text()
    assert "okapi_notes.txt" not in served[1].pipeline.index.files
