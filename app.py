"""The chat UI: streamed answers with linked, highlighted sources, document upload and index status."""

from __future__ import annotations

import html
import re
import shutil
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import gradio as gr

from rag.answering import ask
from rag.citations import MARKER
from rag.config import Settings
from rag.errors import RagError, UnreadableDocument
from rag.indexing import index_files
from rag.loading import SUFFIXES, load_document
from rag.pipeline import Pipeline, load_pipeline, refreshed
from rag.records import Answer, Passage
from rag.web.queueing import GenerationQueue

NO_SOURCES = '<p class="muted">The sources of each answer appear here, with the answer-bearing span highlighted.</p>'
TRACK_PROGRESS = gr.Progress()  # a handler parameter defaulting to a Progress gets a progress bar in the UI
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Noto Sans", "Noto Sans CJK SC", "sans-serif"]
MONO_FONTS = ["ui-monospace", "DejaVu Sans Mono", "monospace"]
CSS = """
#sources { max-height: 640px; overflow-y: auto; }
#sources .turn { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin-bottom: 8px; }
#sources .source { border-left: 3px solid var(--color-accent); padding: 4px 10px; margin: 8px 0; }
#sources .source:target { background: var(--background-fill-secondary); }
#sources .meta { font-size: 0.85em; color: var(--body-text-color-subdued); }
#sources .passage { font-size: 0.9em; line-height: 1.45; max-height: 14em; overflow-y: auto; white-space: pre-wrap; }
#sources mark { background: #ffe58a; color: #1f1f1f; padding: 0 2px; }
.muted { color: var(--body-text-color-subdued); }
"""


class App:
    """The pipeline shared by every session and the API (reloaded when the index changes), the line for the
    generator and the lock that keeps indexers apart."""

    def __init__(self, pipeline: Pipeline, queue: GenerationQueue | None = None) -> None:
        self._pipeline = pipeline
        self._swap = threading.Lock()
        self.queue = queue or GenerationQueue(pipeline.settings.queue_size)  # one generation at a time
        self.indexing = threading.Lock()

    @property
    def pipeline(self) -> Pipeline:
        with self._swap:
            self._pipeline = refreshed(self._pipeline)
            return self._pipeline

    def replace(self, pipeline: Pipeline) -> None:
        with self._swap:
            self._pipeline = pipeline


def new_chat() -> dict:
    """Per-session state: the messages shown, the questions asked and the sources of each turn."""
    return {"messages": [], "questions": [], "sources": []}


def respond(app: App, question: str, chat: dict) -> Iterator[tuple]:
    """Stream the draft into the chat, then replace it with the checked answer and show its sources."""
    messages = [*chat["messages"], {"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
    yield list(messages), gr.skip(), gr.skip(), ""
    draft = ""
    try:
        pipeline = app.pipeline
        with app.queue.hold(pipeline.settings.request_timeout_s):
            response = ask(question, pipeline, chat["questions"])
            for piece in response:
                draft += piece
                messages[-1] = {"role": "assistant", "content": html.escape(draft) + " ▌"}
                yield list(messages), gr.skip(), gr.skip(), ""
            final = response.answer()
    except RagError as problem:
        raise gr.Error(str(problem)) from None
    turn = len(chat["questions"]) + 1
    messages[-1] = {"role": "assistant", "content": linked_answer(final, turn)}
    chat = {
        "messages": messages,
        "questions": [*chat["questions"], final.question],
        "sources": [sources_html(final, turn), *chat["sources"]],
    }
    yield messages, render_sources(chat["sources"]), chat, ""


def linked_answer(answer: Answer, turn: int) -> str:
    """The answer's text with each valid [n] turned into a link to its source card."""
    cited = {c.n for c in answer.citations}

    def link(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.findall(r"\d+", match.group(1))]
        return "".join(f'<a class="cite" href="#src-{turn}-{n}">[{n}]</a>' if n in cited else f"[{n}]" for n in numbers)

    return MARKER.sub(link, html.escape(answer.text, quote=False))


def sources_html(answer: Answer, turn: int) -> str:
    """One turn of the sources panel: cited passages first, then the other passages the model was shown."""
    cited = {c.n for c in answer.citations}
    cards = [source_card(p, turn) for p in answer.passages if p.n in cited]
    others = [source_card(p, turn) for p in answer.passages if p.n not in cited]
    body = "".join(cards) or '<p class="muted">No passage is cited: the documents do not answer this.</p>'
    if others:  # opened when nothing is cited, so an abstention can be checked against the evidence
        opened = "" if cards else " open"
        body += f"<details{opened}><summary>Other passages shown to the model ({len(others)})</summary>"
        body += "".join(others) + "</details>"
    return f'<div class="turn" data-turn="{turn}"><b>Q{turn}: {html.escape(answer.question)}</b>{body}</div>'


def source_card(passage: Passage, turn: int) -> str:
    """A passage's chunk with the answer-bearing span marked, under its title, date, file name and offsets."""
    chunk = passage.chunk
    a, b = passage.start - chunk.start, passage.end - chunk.start
    text = f"{html.escape(chunk.text[:a])}<mark>{html.escape(chunk.text[a:b])}</mark>{html.escape(chunk.text[b:])}"
    meta = [
        html.escape(chunk.title),
        chunk.date or "",
        html.escape(chunk.source),
        f"chars {passage.start}–{passage.end}",
    ]
    return (
        f'<div class="source" id="src-{turn}-{passage.n}" data-source="{html.escape(chunk.source)}">'
        f'<div class="meta"><b>[{passage.n}]</b> {" · ".join(m for m in meta if m)}</div>'
        f'<div class="passage">{text}</div></div>'
    )


def render_sources(turns: Sequence[str]) -> str:
    return "".join(turns) or NO_SOURCES


def status_text(pipeline: Pipeline) -> str:
    index = pipeline.index
    return (
        f"**Index:** {_count(len(index.files), 'document')} · {_count(len(index.chunks), 'chunk')} · "
        f"embedder `{pipeline.embedder.model_id}` · generator `{pipeline.generator.model_id}`"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def safe_name(name: str) -> str:
    """A plain file name from an uploaded one: no folders, no leading dots, only word characters, '.', '-'."""
    given = re.split(r"[\\/]", unicodedata.normalize("NFC", name))[-1]
    base = re.sub(r"[^\w.\-]+", "_", given).lstrip("._")[:120]
    if not base or Path(base).suffix.lower() not in SUFFIXES:
        kinds = ", ".join(sorted(SUFFIXES))
        raise UnreadableDocument(f"{given or '(no name)'}: only {kinds} files can be uploaded")
    return base


def stage_upload(source: Path, app: App) -> Path:
    """Check an uploaded file and copy it into the upload folder; raise UnreadableDocument when it is not usable."""
    settings = app.pipeline.settings
    name = safe_name(str(source))
    if source.stat().st_size > settings.max_file_mb * 1024 * 1024:
        raise UnreadableDocument(f"{name}: larger than the {settings.max_file_mb:g} MB limit")
    load_document(source, settings.max_file_mb)  # refuses binary, undecodable and empty files before they are kept
    upload_dir = settings.upload_dir.resolve()
    known = app.pipeline.index.files.get(name)
    if known and Path(known.path).parent != upload_dir:  # never replace a corpus file of the same name
        name = f"upload_{name}"
    upload_dir.mkdir(parents=True, exist_ok=True)
    target = upload_dir / name
    shutil.copyfile(source, target)
    return target


def upload(app: App, files: Sequence[str | Path] | None, progress: Callable[..., object] | None = None) -> str:
    """Index uploaded files, then swap in a pipeline that searches them; returns a Markdown report."""
    if not files:
        raise gr.Error("Choose one or more .txt, .md or .html files to upload.")
    staged, problems = [], []
    for file in files:
        try:
            staged.append(stage_upload(Path(file), app))
        except UnreadableDocument as problem:
            problems.append(str(problem))
        except OSError as problem:  # the server's temporary path stays out of the message
            problems.append(f"{Path(file).name}: cannot read ({problem.strerror})")
    report = None
    if staged:
        with app.indexing:
            old = app.pipeline
            try:
                report = index_files(staged, old.settings, old.embedder, progress=_progress(progress))
                app.replace(load_pipeline(old.settings, old.embedder, old.generator))
            except RagError as problem:
                raise gr.Error(str(problem)) from None
        problems += report.failed
    lines = []
    if report and (report.added or report.updated or report.unchanged):
        done = report.added + report.updated + report.unchanged
        lines.append(f"Indexed {', '.join(f'`{n}`' for n in done)}: the index now holds {report.files} documents.")
    lines += [f"Skipped {p}" for p in problems]
    return "\n\n".join(lines)


def _progress(progress: Callable[..., object] | None) -> Callable[[str, int, int], None] | None:
    if progress is None:
        return None

    def report(name: str, done: int, total: int) -> None:
        progress(done / max(total, 1), desc=f"Indexing {name}" if name else "Saving the index")

    return report


def build_ui(app: App) -> gr.Blocks:
    """The chat page; handlers reach the shared pipeline through `app`, conversations live in per-session state."""

    def on_ask(question: str, chat: dict) -> Iterator[tuple]:
        yield from respond(app, question, chat)

    def on_upload(files: list[str] | None, progress: gr.Progress = TRACK_PROGRESS) -> tuple[str, str]:
        return upload(app, files, progress), status_text(app.pipeline)

    with gr.Blocks(title="Ask your documents") as demo:
        chat = gr.State(new_chat())
        gr.Markdown("## Ask your documents\nAsk in English, Tiếng Việt or 中文; answers cite the passages they use.")
        status = gr.Markdown(status_text(app.pipeline), elem_id="status")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat", height=560, elem_id="chat", feedback_options=None, buttons=["copy", "copy_all"]
                )
                with gr.Row():
                    box = gr.Textbox(placeholder="Ask a question…", show_label=False, scale=6, elem_id="question")
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(NO_SOURCES, elem_id="sources")
                with gr.Accordion("Add documents", open=True):
                    kinds = sorted(SUFFIXES)
                    files = gr.File(label=f"Upload {', '.join(kinds)}", file_count="multiple", file_types=kinds)
                    upload_report = gr.Markdown(elem_id="upload-report")
        ask_event = {"fn": on_ask, "inputs": [box, chat], "outputs": [chatbot, sources, chat, box]}
        box.submit(**ask_event, api_name="ask", concurrency_limit=1, concurrency_id="generate")
        send.click(**ask_event, api_name=False, concurrency_limit=1, concurrency_id="generate")
        files.upload(on_upload, [files], [upload_report, status], api_name="upload", concurrency_limit=1)
        chatbot.clear(lambda: (new_chat(), NO_SOURCES), None, [chat, sources], api_name=False)
        demo.load(lambda: status_text(app.pipeline), None, status, api_name=False)
    return demo


def launch(app: App, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> gr.Blocks:
    """Queue and serve the UI; with block=False it returns at once (tests run it in the background)."""
    demo = build_ui(app).queue(max_size=64)
    settings = app.pipeline.settings
    demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=not block,
        max_file_size=int(settings.max_file_mb * 1024 * 1024),
        css=CSS,
        theme=gr.themes.Soft(font=SYSTEM_FONTS, font_mono=MONO_FONTS),  # local fonts: the UI works offline
        footer_links=[],
        quiet=not block,
    )
    return demo


def main(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve the chat UI and the API (see rag.web.server)."""
    from rag.web.server import main as serve

    serve(settings, host, port)


if __name__ == "__main__":
    from rag.config import load_settings

    main(load_settings())
