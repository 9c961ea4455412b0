"""The documents panel: the collection's files as a table, and a file's removal after a confirmation."""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag.errors import NotFound, RagError
from rag.store import catalog
from rag.web.render import status_text
from rag.web.service import Service

HEADERS = ["File", "Pages", "Chunks", "Characters", "Language", "Date", "Indexed", "OCR warnings"]


def rows(service: Service, collection: str) -> list[catalog.DocumentRow]:
    """The collection's documents; none for a collection without an index yet."""
    try:
        pipeline = service.pipeline_for(collection)
    except NotFound:
        return []
    except RagError as problem:
        raise gr.Error(str(problem)) from None
    return catalog.documents(pipeline.index, service.settings.ingest.ocr_min_confidence)


def table(documents: list[catalog.DocumentRow]) -> list[list[Any]]:
    return [
        [
            d.name,
            d.pages or "",
            d.chunks,
            d.characters,
            d.language,
            d.date or "",
            d.indexed_at.replace("T", " ").removesuffix("+00:00"),
            f"low confidence on p. {', '.join(map(str, d.low_ocr_pages))}" if d.low_ocr_pages else "",
        ]
        for d in documents
    ]


def status(service: Service, collection: str) -> str:
    """The status line of a collection, or how to start an empty one."""
    try:
        return f"**Collection:** `{collection}` · " + status_text(service.pipeline_for(collection))
    except NotFound:
        return f"**Collection:** `{collection}` is empty: upload documents to start it."
    except RagError as problem:
        raise gr.Error(str(problem)) from None


def refresh(service: Service, collection: str) -> tuple[Any, ...]:
    """Updates for (table, document choice, status)."""
    documents = rows(service, collection)
    names = [d.name for d in documents]
    return table(documents), gr.update(choices=names, value=None), status(service, collection)


def confirm(name: str | None, collection: str) -> tuple[Any, ...]:
    """Updates for (confirmation row, its question): nothing is removed yet."""
    if not name:
        raise gr.Error("Choose a document to remove.")
    return gr.update(visible=True), f"Remove **{name}** from the collection `{collection}`?"


def remove(service: Service, name: str | None, collection: str) -> tuple[Any, ...]:
    """Take the chosen file out of the collection; updates for (table, choice, status, confirmation row, report)."""
    if not name:
        raise gr.Error("Choose a document to remove.")
    try:
        with service.indexing:
            catalog.remove(service.settings_for(collection).store, [name])
    except RagError as problem:
        raise gr.Error(str(problem)) from None
    return (*refresh(service, collection), gr.update(visible=False), f"Removed `{name}`.")


def panel(service: Service, collection: gr.Dropdown, status_line: gr.Markdown) -> tuple[gr.Dataframe, gr.Dropdown]:
    """The panel's parts and events, inside the page being built; returns the table and the choice to refresh."""
    documents = rows(service, service.settings.store.collection)
    grid = gr.Dataframe(
        table(documents), headers=HEADERS, interactive=False, elem_id="documents", label="Indexed documents"
    )
    with gr.Row():
        chosen = gr.Dropdown([d.name for d in documents], value=None, label="Document", elem_id="document-choice")
        ask = gr.Button("Remove…", size="sm", elem_id="remove")
    with gr.Row(visible=False) as confirmation:
        question = gr.Markdown(elem_id="remove-question")
        yes = gr.Button("Yes, remove it", variant="stop", size="sm", elem_id="remove-yes")
        no = gr.Button("Cancel", size="sm", elem_id="remove-no")
    report = gr.Markdown(elem_id="remove-report")
    ask.click(confirm, [chosen, collection], [confirmation, question], api_visibility="private")
    no.click(lambda: gr.update(visible=False), None, confirmation, api_visibility="private")
    yes.click(
        lambda name, name_of_collection: remove(service, name, name_of_collection),
        [chosen, collection],
        [grid, chosen, status_line, confirmation, report],
        api_name="remove",
        concurrency_limit=1,
    )
    return grid, chosen
