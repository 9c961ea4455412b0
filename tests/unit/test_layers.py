"""Imports go one way: the core under rag/ never reaches the web edge, the CLI or a web framework."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from rag.config import PROJECT_DIR

RAG = PROJECT_DIR / "rag"
EDGE_ONLY = ("gradio", "fastapi", "uvicorn", "starlette", "rag.web", "rag.cli", "app")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file, as dotted names (`from rag import web` gives rag.web)."""
    package = list(path.relative_to(PROJECT_DIR).parent.parts)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            within = package[: len(package) - node.level + 1] if node.level else []  # `from . import x`
            base = ".".join([*within, *([node.module] if node.module else [])])
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def reaches_the_edge(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == edge or m.startswith(edge + ".") for edge in EDGE_ONLY)}


BASE = ("rag.errors", "rag.config", "rag.records", "rag.language")
# Each stage and what it may import besides itself, in the order of rag/__init__.py: imports only run back.
MAY_IMPORT = {
    "rag.engines": BASE,
    "rag.store": (*BASE, "rag.engines"),
    "rag.ingest": (*BASE, "rag.engines", "rag.store"),
    "rag.search": (*BASE, "rag.engines", "rag.store"),
    "rag.pipeline": (*BASE, "rag.engines", "rag.store", "rag.search"),
    "rag.answer": (*BASE, "rag.engines", "rag.store", "rag.ingest", "rag.search", "rag.pipeline"),
    "rag.evaluation": (*BASE, "rag.answer", "rag.pipeline"),
}


def stage_of(path: Path) -> str:
    parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
    return ".".join(parts[:2])


def wrong_imports(stage: str, modules: set[str]) -> set[str]:
    """The rag modules among `modules` that `stage` may not import: neither its own nor one listed for it."""
    allowed = (stage, *MAY_IMPORT.get(stage, ()))
    rag_imports = {m for m in modules if m.startswith("rag.")}
    return {m for m in rag_imports if not any(m == a or m.startswith(a + ".") for a in allowed)}


def test_the_core_never_imports_the_edge() -> None:
    core = [p for p in RAG.rglob("*.py") if p != RAG / "cli.py" and RAG / "web" not in p.parents]
    assert len(core) > 15 and RAG / "answer" / "ask.py" in core
    wrong = {p.relative_to(PROJECT_DIR).as_posix(): sorted(reaches_the_edge(imported_modules(p))) for p in core}
    assert {name: edge for name, edge in wrong.items() if edge} == {}


def test_each_stage_imports_only_the_stages_before_it() -> None:
    staged = [p for p in RAG.rglob("*.py") if stage_of(p) in MAY_IMPORT]
    assert {stage_of(p) for p in staged} == set(MAY_IMPORT)
    wrong = {
        p.relative_to(PROJECT_DIR).as_posix(): sorted(wrong_imports(stage_of(p), imported_modules(p))) for p in staged
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_the_base_modules_import_only_errors() -> None:
    for name in BASE:
        path = PROJECT_DIR / (name.replace(".", "/") + ".py")
        assert {m for m in imported_modules(path) if m.startswith("rag.")} <= {"rag.errors", "rag.errors.BadSettings"}


def test_the_stage_scan_sees_an_import_that_runs_back() -> None:
    """The scan above can fail: an import of a later stage is found, one of an earlier stage is not."""
    assert wrong_imports("rag.engines", {"rag.answer.prompt", "rag.records"}) == {"rag.answer.prompt"}
    assert wrong_imports("rag.answer", {"rag.search.spans", "rag.answer.decide"}) == set()
    assert "rag.search.retrieve" in imported_modules(RAG / "pipeline.py")


def test_the_import_scan_sees_the_edge_where_it_is() -> None:
    """The scan above can fail: it finds the imports the edge modules really make."""
    assert "rag.web.server" in reaches_the_edge(imported_modules(RAG / "cli.py"))  # imported inside a function
    assert "gradio" in reaches_the_edge(imported_modules(RAG / "web" / "chat.py"))
    assert "rag.web.render" in imported_modules(RAG / "web" / "chat.py")


def test_importing_the_core_and_the_cli_loads_no_model_and_no_web_framework() -> None:
    code = (
        "import sys, rag.cli, rag.answer.ask, rag.pipeline, rag.evaluation; "
        "print(*(m in sys.modules for m in ('torch', 'llama_cpp', 'gradio', 'rag.web')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_DIR, check=True)
    assert out.stdout.split() == ["False", "False", "False", "False"]
