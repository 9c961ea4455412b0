"""Score the pipeline on a gold set: answer accuracy, retrieval, citations, abstention, language, latency."""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.answer.citations import without_markers
from rag.config import Settings
from rag.errors import RagError
from rag.language import fold, question_language, written_in

if TYPE_CHECKING:
    from rag.pipeline import Pipeline


@dataclass(frozen=True)
class GoldItem:
    """One gold question: `must` groups all need one of their strings in the answer."""

    id: str
    lang: str
    question: str
    must: tuple[tuple[str, ...], ...]
    sources: tuple[str, ...]
    answerable: bool


def load_gold(path: Path) -> list[GoldItem]:
    """Read a gold JSONL file; a malformed line is reported with its number."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RagError(f"cannot read gold file {path}: {exc.strerror}") from None
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            items.append(
                GoldItem(
                    str(raw["id"]),
                    str(raw.get("lang") or question_language(raw["question"])),
                    str(raw["question"]),
                    tuple(tuple(group) for group in raw.get("must", [])),
                    tuple(raw.get("sources", [])),
                    bool(raw.get("answerable", bool(raw.get("must")))),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise RagError(f"{path}:{number}: not a gold record ({type(exc).__name__}: {exc})") from None
    if not items:
        raise RagError(f"{path} holds no questions")
    return items


def is_correct(answer: str, must: Sequence[Sequence[str]]) -> bool:
    """Every group has at least one string in the answer, compared after `fold`."""
    text = fold(answer)
    return all(any(fold(s) in text for s in group) for group in must)


def lead_words(answer: str) -> str:
    """The answer without verbatim quotes and citation markers: only the words it writes around its quotes."""
    return re.sub(r"“[^”]*”|《[^》]*》|\[[\d,\s]+\]", " ", answer)


def score(item: GoldItem, result: dict[str, Any]) -> dict[str, Any]:
    """Per-question measurements added to the `rag ask --json` record."""
    ranked = list(dict.fromkeys(r["source"] for r in result["retrieved"]))
    rank = next((i for i, s in enumerate(ranked, 1) if s in item.sources), None)
    cited = {c["source"] for c in result["citations"]}
    return {
        "id": item.id,
        "lang": item.lang,
        "answerable": item.answerable,
        **result,
        "correct": (not result["abstained"] and is_correct(result["answer"], item.must))
        if item.answerable
        else result["abstained"],
        "gold_rank": rank,
        "cited_gold": len(cited & set(item.sources)),
        "cited": len(cited),
        "language_ok": wholly_in(result["answer"], item.lang),
        "lead_language_ok": result["abstained"] or written_in(lead_words(result["answer"]), item.lang, names=True),
    }


QUOTED = re.compile(r"[“\"]([^”\"]+)[”\"]")
QUOTED_WORDS = 5  # a quotation this long is a passage quoted, not a term kept in its own language ("as is")


def wholly_in(answer: str, language: str) -> bool:
    """The answer, less its markers, reads as `language`, and so does each passage it quotes: an English sentence
    quoted untranslated in a Vietnamese answer is not in Vietnamese, however Vietnamese the words around it."""
    words = without_markers(answer)
    quotes = [q for q in QUOTED.findall(words) if len(q.split()) >= QUOTED_WORDS or len(q) >= 4 * QUOTED_WORDS]
    return written_in(words, language) and all(written_in(q, language) for q in quotes)


def with_verdicts(row: dict[str, Any], item: GoldItem, shown: str) -> dict[str, Any]:
    """The row with `useful` (right and wholly in the asker's language) and, for a wrong answer, its failure class;
    `shown` is the text of the passages the model read."""
    useful = row["correct"] and row["language_ok"]
    return {**row, "useful": useful, "failure": "" if useful else failure_class(row, item, shown)}


def failure_class(row: dict[str, Any], item: GoldItem, shown: str) -> str:
    """Why an answer is not useful, in the classes the report counts."""
    if not item.answerable:
        return "answered an unanswerable question"
    if row["correct"]:
        return "right, not wholly in the asker's language"
    if row["abstained"]:
        return "false abstention"
    if row["gold_rank"] != 1:
        return "wrong passage ranked first"
    if not is_correct(shown, item.must) and row["outcome"] != "answered":
        return "answer not in the passages shown"
    if row["outcome"] == "answered":
        return "kept draft misread"
    return "quote untranslated" if not row["language_ok"] else "quote translated wrongly"


FAILURES = (
    "kept draft misread",
    "quote untranslated",
    "quote translated wrongly",
    "wrong passage ranked first",
    "answer not in the passages shown",
    "false abstention",
    "answered an unanswerable question",
    "right, not wholly in the asker's language",
)


def _share(rows: list[dict[str, Any]], test: Any) -> float | None:
    return sum(bool(test(r)) for r in rows) / len(rows) if rows else None


def summarize(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Aggregate metrics over scored rows."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in answerable if not r["abstained"] and r["cited"]]
    drafts = [r for r in answerable if r["outcome"] == "answered"]  # the model's own words kept as the answer
    doubted = [r for r in drafts if r["doubt"]]
    latencies = sorted(r["latency_s"] for r in rows)
    return {
        "questions": len(rows),
        "useful": _share(rows, lambda r: r["useful"]),
        "accuracy": _share(rows, lambda r: r["correct"]),
        "answerable_accuracy": _share(answerable, lambda r: r["correct"]),
        "recall@1": _share(answerable, lambda r: r["gold_rank"] == 1),
        "recall@5": _share(answerable, lambda r: r["gold_rank"] is not None and r["gold_rank"] <= 5),
        "mrr": sum(1 / r["gold_rank"] for r in answerable if r["gold_rank"]) / len(answerable) if answerable else None,
        "citation_precision": sum(r["cited_gold"] for r in answered) / max(1, sum(r["cited"] for r in answered))
        if answered
        else None,
        "citation_recall": _share(answerable, lambda r: r["cited_gold"] > 0),
        "abstention_unanswerable": _share(unanswerable, lambda r: r["abstained"]),
        "false_abstention": _share(answerable, lambda r: r["abstained"]),
        "drafts_kept": _share(answerable, lambda r: r["outcome"] == "answered"),
        "kept_draft_accuracy": _share(drafts, lambda r: r["correct"]),
        "doubted_drafts": _share(drafts, lambda r: r["doubt"]),
        "doubted_draft_accuracy": _share(doubted, lambda r: r["correct"]),
        "language_ok": _share(rows, lambda r: r["language_ok"]),
        "lead_language_ok": _share(rows, lambda r: r["lead_language_ok"]),
        "sources_p50_s": statistics.median(r.get("sources_s", 0.0) for r in rows) if rows else None,
        "latency_p50_s": statistics.median(latencies) if latencies else None,
        "latency_p95_s": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else None,
    }


def evaluate(items: list[GoldItem], pipeline: Pipeline, progress: bool = True) -> list[dict[str, Any]]:
    """Answer every gold question with `pipeline` and score it."""
    from tqdm import tqdm

    from rag.answer.ask import ask

    rows = []
    for item in tqdm(items, desc="eval", unit="q", disable=not progress):
        answer = ask(item.question, pipeline).answer()
        shown = " ".join(p.text for p in answer.passages)
        rows.append(with_verdicts(score(item, answer.to_dict()), item, shown))
    return rows


NO_GATE = {"min_relevance": 0.0, "min_relevance_same_language": 0.0}
ABLATIONS: dict[str, dict[str, Any]] = {
    "dense only (no BM25)": {"lexical": False},
    "top_k=1": {"top_k": 1},
    "top_k=4": {"top_k": 4},
    "whole passages (no clause focus)": {"span_chars": 100_000},
    "no semantic support check": {"min_support": 0.0},
    "no translation of quotes": {"translate_quotes": False},
    "no relevance gate": NO_GATE,
    "one gate (0.37) for all languages": {"min_relevance_same_language": 0.37},
    "earlier gate (0.50 / 0.55; 'not found' never trusted)": {
        "min_relevance": 0.50,
        "min_relevance_same_language": 0.55,
        "trust_not_found_below": 0.0,
    },
    "no second reading": {"second_reading": False},
    "questions also searched in translation": {"translate_questions": True},
    "model 'not found' trusted": {"trust_not_found_below": 1.0},
    "model 'not found' trusted, no gate": {"trust_not_found_below": 1.0, **NO_GATE},
}


def run_eval(
    golds: Sequence[Path],
    settings: Settings,
    out: Path | None = None,
    report: Path | None = None,
    ablations: bool | list[str] = False,
    generators: Sequence[Path] = (),
) -> dict[str, dict[str, Any]]:
    """Evaluate the configured pipeline on each gold set (a corpus each; all indexed in the one index), and, if
    asked, its ablations and the full pipeline with each of `generators`; print and save the results."""
    from rag.pipeline import load_pipeline, make_embedder, make_generator

    corpora = {gold.stem: load_gold(gold) for gold in golds}
    paths = {gold.stem: gold for gold in golds}
    embedder, generator = make_embedder(settings.engines), make_generator(settings.engines)
    chosen = ABLATIONS if ablations is True else {k: ABLATIONS[k] for k in ablations or []}
    variants: dict[str, dict[str, Any]] = {"full pipeline": {}} | chosen
    variants |= {f"generator {path.name}": {"gguf_path": path} for path in generators}
    results: dict[str, dict[str, Any]] = {corpus: {} for corpus in corpora}
    full_rows: list[dict[str, Any]] = []
    for name, changes in variants.items():
        own = make_generator(settings.with_(**changes).engines) if "gguf_path" in changes else generator
        pipeline = load_pipeline(settings.with_(**changes), embedder, own)
        for corpus, items in corpora.items():
            rows = [{"corpus": corpus, **row} for row in evaluate(items, pipeline)]
            results[corpus][name] = {
                "overall": summarize(rows),
                **{lang: summarize([r for r in rows if r["lang"] == lang]) for lang in ("en", "vi", "zh")},
                "failures": Counter(r["failure"] for r in rows if r["failure"]),
                "reasons": Counter(r["reason"] for r in rows),
            }
            full_rows += rows if name == "full pipeline" else []
            print(
                f"{corpus}, {name}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in results[corpus][name]["overall"].items())
            )
    if out:
        out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in full_rows), encoding="utf-8")
    if report:
        notes = _kept_notes(report)
        sections = [
            render_report(paths[corpus], settings, generator.model_id, embedder.model_id, r)
            for corpus, r in results.items()
        ]
        report.write_text("\n".join(sections) + notes, encoding="utf-8")
    return results


NOTES_MARK = "<!-- notes: kept when the report is regenerated -->"


def _kept_notes(report: Path) -> str:
    """The hand-written part of an existing report (after NOTES_MARK), so regenerating keeps it."""
    try:
        old = report.read_text(encoding="utf-8")
    except OSError:
        return ""
    return "\n" + old[old.index(NOTES_MARK) :] if NOTES_MARK in old else ""


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def render_report(gold: Path, settings: Settings, generator: str, embedder: str, results: dict[str, Any]) -> str:
    """Markdown tables: the full pipeline by language, then each ablation's overall numbers."""
    metrics = list(next(iter(results.values()))["overall"])
    full = results["full pipeline"]
    lines = [
        f"# Evaluation results: {gold}",
        "",
        f"Gold set `{gold}`; embedder `{embedder}`, generator `{generator}`, top_k={settings.search.top_k}, "
        f"min_relevance={settings.answer.min_relevance} (same language {settings.answer.min_relevance_same_language}), "
        f"chunk_tokens={settings.ingest.chunk_tokens}.",
        "",
        "## Full pipeline by question language",
        "",
        "| metric | all | en | vi | zh |",
        "|---|---|---|---|---|",
        *(
            f"| {m} | " + " | ".join(_fmt(full[part][m]) for part in ("overall", "en", "vi", "zh")) + " |"
            for m in metrics
        ),
    ]
    lines += ["", "## Why answers were not useful (full pipeline)", "", "| failure class | questions |", "|---|---|"]
    lines += [f"| {name} | {full['failures'].get(name, 0)} |" for name in FAILURES]
    lines += ["", "## How answers came about (reason codes, full pipeline)", "", "| reason | questions |", "|---|---|"]
    lines += [f"| {reason} | {count} |" for reason, count in full["reasons"].most_common()]
    if len(results) > 1:
        lines += [
            "",
            "## Ablations (all questions)",
            "",
            "| variant | " + " | ".join(metrics[1:]) + " |",
            "|---" * len(metrics) + "|",
        ]
        lines += [
            f"| {name} | " + " | ".join(_fmt(r["overall"][m]) for m in metrics[1:]) + " |"
            for name, r in results.items()
        ]
    models = {name: r for name, r in results.items() if name.startswith("generator ")}
    if models:
        shown = ("accuracy", "language_ok", "citation_precision", "false_abstention", "latency_p50_s")
        lines += [
            "",
            "## By generator and question language",
            "",
            "| generator | language | " + " | ".join(shown) + " |",
        ]
        lines += ["|---|---" + "|---" * len(shown) + "|"]
        lines += [
            f"| {name.removeprefix('generator ')} | {part} | " + " | ".join(_fmt(r[part][m]) for m in shown) + " |"
            for name, r in models.items()
            for part in ("overall", "en", "vi", "zh")
        ]
    return "\n".join(lines) + "\n"
