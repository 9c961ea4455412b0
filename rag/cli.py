"""The `rag` command line: index documents, ask questions, evaluate and serve the UI."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.config import Settings, load_settings
from rag.errors import BadSettings, EngineCrashed, ModelMissing, RagError
from rag.evaluation import ABLATIONS
from rag.records import Answer

EPILOG = """examples:
  rag index                          index the default corpus (seeds/)
  rag index ~/notes report.pdf       add or refresh files and folders
  rag index --rebuild                start the index over
  rag index --collection legal contracts/   index into another collection (its own index)
  rag docs                           list the indexed files; rag remove old.pdf takes one out
  rag ask "When did ASEAN and New Zealand become Comprehensive Strategic Partners?"
  rag ask --json "Hàn Quốc và ASEAN nâng cấp quan hệ năm nào?"
  rag ask --json --translate "Who chaired the meeting on 9 December 2025?"   with translated sources
  rag eval --gold eval/gold.jsonl --report eval/REPORT.md
  rag serve --port 7860              chat UI at /, OpenAI-compatible API at /v1
  rag check                          check that the answer engine runs on this CPU

settings come from RAG_* environment variables (RAG_GGUF=/path/model.gguf uses your own model)."""


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from rag.ingest.build import index_files
    from rag.pipeline import make_embedder

    paths = [Path(p) for p in args.paths] or [settings.store.corpus_dir]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise RagError(f"no such file or folder: {', '.join(missing)}")
    bars = ProgressBars(args.quiet)
    report = index_files(paths, settings, make_embedder(settings.engines), rebuild=args.rebuild, progress=bars.show)
    bars.close()
    for problem in report.failed:
        print(f"skipped {problem}", file=sys.stderr)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
        f"skipped {len(report.failed)}; index holds {report.files} files in {report.chunks} chunks "
        f"({settings.store.collection_dir})"
    )
    return 0


class ProgressBars:
    """Indexing progress on stderr: files read (OCR included), then characters of text embedded, with an ETA."""

    def __init__(self, quiet: bool) -> None:
        self.quiet, self.phase = quiet, ""  # phase: reading, embedding or saving (no bar)
        self.bar: Any = None

    def show(self, phase: str, name: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            self.bar, self.phase = None, phase
        if phase == "saving" or self.quiet:
            return
        if self.bar is None:
            unit = "file" if phase == "reading" else "char"
            self.bar = tqdm(total=total, unit=unit, unit_scale=unit == "char", desc=phase)
        self.bar.update(done - self.bar.n)
        self.bar.set_postfix_str(name[:40], refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    from rag.store.catalog import documents, open_index

    rows = documents(open_index(settings.store), settings.ingest.ocr_min_confidence)
    if args.json:
        print(json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=1))
        return 0
    print(f"{'file':40} {'pages':>5} {'chunks':>6} {'chars':>9}  lang  date        indexed")
    for row in rows:
        print(
            f"{row.name[:40]:40} {row.pages or '-':>5} {row.chunks:>6} {row.characters:>9,}  {row.language:4}  "
            f"{row.date or '-':10}  {row.indexed_at or '-'}"
        )
        if row.low_ocr_pages:
            pages = ", ".join(map(str, row.low_ocr_pages))
            print(f"  warning: OCR confidence under {settings.ingest.ocr_min_confidence:g} on page(s) {pages}")
    print(f"{len(rows)} document(s) in collection {settings.store.collection!r}")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from rag.store.catalog import remove

    names = [Path(file).name for file in args.files]
    index = remove(settings.store, names)
    print(f"removed {', '.join(names)}; collection {settings.store.collection!r} holds {len(index.files)} files")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from rag.answer.ask import ask
    from rag.answer.question import read_question
    from rag.answer.translate import with_translations
    from rag.pipeline import load_pipeline
    from rag.store.vectors import stale_sources

    question = read_question(" ".join(args.question), settings.answer.max_question_chars).text  # before any model loads
    pipeline = load_pipeline(settings)
    stale = stale_sources(pipeline.index)
    if stale:
        names = ", ".join(stale[:3])
        print(
            f"note: {len(stale)} indexed file(s) changed or vanished since indexing ({names}); run `rag index` to "
            "refresh changed files, or `rag index --rebuild FOLDERS` to drop deleted ones",
            file=sys.stderr,
        )
    response = ask(question, pipeline)
    if not args.json:
        for piece in response:
            print(piece, end="", flush=True)
    answer = response.answer()
    if args.translate:
        similarity = settings.answer.min_translation_similarity
        answer = with_translations(answer, pipeline.generator, pipeline.embedder, similarity)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
    else:
        print_answer(answer)
    return 0


def print_answer(result: Answer) -> None:
    """What follows the streamed draft: why it was replaced and by what, the citations, the time taken."""
    draft = result.draft.strip()
    if draft:
        print()
    if result.note():
        print(f"({result.reason.value}: {result.note()})")
    if result.text != draft:
        print(result.text)
    for c in result.citations:
        where = f"{c.source} p. {c.page}, chars {c.start}-{c.end}" if c.page else f"{c.source}:{c.start}-{c.end}"
        where += f", {c.date}" if c.date else ""
        print(f"  [{c.n}] {where}  {c.text[:160]}")
        if c.translation:
            print(f"      (machine translation) {c.translation[:160]}")
    print(f"({result.latency_s:.2f} s)")


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from rag.engines import preflight

    if not settings.engines.gguf_path.is_file():
        raise ModelMissing(
            f"GGUF model not found at {settings.engines.gguf_path} (run: python models/fetch.py, or set RAG_GGUF)"
        )
    features = preflight.compiled_features()
    refused = [f for f in features if f.startswith(preflight.REFUSED_FEATURES)]
    if refused:
        raise EngineCrashed(
            f"llama.cpp was built with {', '.join(refused)}, which some CPUs and VMs refuse; {preflight.REBUILD_HINT}"
        )
    print(f"engine: llama.cpp built for {', '.join(features) or 'no CPU extensions'}")
    others = preflight.non_portable(features)
    if others:
        print(f"note: {', '.join(others)} tie this build to CPUs that have them; {preflight.REBUILD_HINT}")
    report = preflight.check_engine(settings.engines.gguf_path, settings.engines.threads, settings.engines.state_dir)
    print(
        f"ok: {settings.engines.gguf_path.name} generated {report.tokens} tokens in {report.seconds:.2f} s on this CPU"
    )
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from rag.web.server import main as serve

    serve(settings, host=args.host, port=args.port)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from rag.evaluation import run_eval

    ablations = True if args.ablations == [] else list(args.ablations or [])
    unknown = [name for name in ablations or [] if name not in ABLATIONS] if isinstance(ablations, list) else []
    if unknown:
        raise BadSettings(f"unknown ablation {unknown[0]!r}; known: {', '.join(ABLATIONS)}")
    run_eval(args.gold, settings, out=args.out, report=args.report, ablations=ablations, generators=args.models)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="rag",
        description="Offline multilingual question answering over your documents, with citations.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument(
        "--index-dir",
        type=Path,
        help="the default collection's index folder; others are in its collections/ (default: index/)",
    )
    root.add_argument(
        "--gguf", type=Path, help="GGUF model to answer with (default: the bundled Qwen2.5-Coder-1.5B-Instruct)"
    )
    root.add_argument("--top-k", type=int, help="passages given to the model (default 2)")
    sub = root.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "index",
        help="add or refresh documents in the index",
        description="Add or refresh documents: .txt .md .html, .pdf (with page numbers; a page without a text "
        "layer, such as a scan, is read with Tesseract OCR), .docx, and .png .jpg .jpeg .tif .tiff images (OCR, one "
        "page each). Unreadable files are skipped with a one-line reason; a page OCR is unsure of gets a warning.",
        epilog="example: rag index seeds/ notes.md report.pdf",
    )
    p.add_argument("paths", nargs="*", help="files or folders (.txt .md .html .pdf .docx, images); default: seeds/")
    p.add_argument("--rebuild", action="store_true", help="discard the existing index and build anew")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser(
        "docs",
        help="list the indexed files",
        description="List the collection's files: pages, chunks, characters of text, language, the date the "
        "document states and when it was indexed; pages OCR was unsure of are named.",
        epilog="example: rag docs --collection legal",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(run=cmd_docs)

    p = sub.add_parser(
        "remove",
        help="take files out of the index",
        description="Take files out of the collection's index (by file name; a path's folder is ignored). The "
        "index is saved as a new generation: a crash midway leaves the previous one. An unknown name removes nothing.",
        epilog="example: rag remove old-report.pdf notes.md",
    )
    p.add_argument("files", nargs="+", help="file names, as `rag docs` lists them")
    p.set_defaults(run=cmd_remove)

    p = sub.add_parser(
        "ask", help="answer a question from the index", epilog='example: rag ask --json "新西兰总理何时访问越南？"'
    )
    p.add_argument("question", nargs="+", help="the question, in English, Vietnamese or Chinese")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of streaming text")
    p.add_argument(
        "--translate",
        action="store_true",
        help="also translate each cited passage written in another language than the question (citations[].translation)",
    )
    p.set_defaults(run=cmd_ask)

    p = sub.add_parser(
        "eval",
        help="score the pipeline on a gold question set",
        epilog="example: rag eval --gold eval/gold.jsonl --report eval/REPORT.md",
    )
    p.add_argument(
        "--gold",
        type=Path,
        nargs="+",
        default=[Path("eval/gold.jsonl")],
        help="gold JSONL files, one per corpus (each reported on its own; index every corpus first)",
    )
    p.add_argument("--out", type=Path, help="write one JSON line per question here")
    p.add_argument("--report", type=Path, help="write a Markdown report here")
    p.add_argument(
        "--ablations",
        nargs="*",
        metavar="NAME",
        help="also score these ablations by name (all of them when none is named): " + ", ".join(ABLATIONS),
    )
    p.add_argument("--models", type=Path, nargs="*", default=[], help="also score the full pipeline with these GGUFs")
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser(
        "check",
        help="check that the answer engine runs on this CPU (make install runs it)",
        epilog="example: rag check   (exit 6 with one line naming the cause when the engine crashes)",
    )
    p.set_defaults(run=cmd_check)

    p = sub.add_parser(
        "serve",
        help="serve the chat UI at / and an OpenAI-compatible API at /v1 on one port",
        epilog="example: rag serve --port 7860   (then: curl http://127.0.0.1:7860/v1/models)\n"
        "RAG_API_KEY=secret requires `Authorization: Bearer secret` on /v1 requests",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(run=cmd_serve)
    for command in sub.choices.values():
        command.add_argument(
            "--collection",
            help="the collection to use: each has its own index (default: default, in index/; others in "
            "index/collections/NAME)",
        )
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(
            index_dir=args.index_dir, gguf_path=args.gguf, top_k=args.top_k, collection=args.collection
        )
        return int(args.run(args, settings))
    except RagError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return problem.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
