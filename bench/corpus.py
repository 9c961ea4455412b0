"""A large real multilingual corpus for the volume benchmark, from Debian packages of translated documentation.

LibreOffice's help in Vietnamese and Simplified Chinese (HTML; untranslated strings stay English) and the
Chinese (simplified and traditional) and Vietnamese manual pages (groff, rendered by `groff -Tutf8`) are downloaded with `apt-get download`, unpacked with `dpkg-deb`
into a cache folder outside the repository, and written out as UTF-8 text files, one per page.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from rag.ingest.read import html_to_text

PACKAGES = ("libreoffice-help-vi", "libreoffice-help-zh-cn", "manpages-zh", "manpages-vi")
MIN_CHARS = 200  # shorter pages (menus, stubs) are skipped


def build(cache: Path, megabytes: float) -> Path:
    """Text files of at least `megabytes` MB (UTF-8) in cache/corpus, made once and reused."""
    corpus = cache / "corpus"
    if _size_mb(corpus) >= megabytes:
        return corpus
    root = _unpack(cache)
    corpus.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, render in _pages(root):
        target = corpus / f"{name}.txt"
        if not target.exists():  # a page written by an earlier, smaller build is kept
            text = render()
            if len(text) < MIN_CHARS:
                continue
            target.write_text(text, encoding="utf-8")
        written += target.stat().st_size
        if written >= megabytes * 1e6:
            break
    if written < megabytes * 1e6:
        raise SystemExit(f"the packages hold only {written / 1e6:.1f} MB of text, {megabytes} MB asked")
    return corpus


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.glob("*.txt")) / 1e6 if folder.is_dir() else 0.0


def _unpack(cache: Path) -> Path:
    debs, root = cache / "debs", cache / "root"
    debs.mkdir(parents=True, exist_ok=True)
    missing = [p for p in PACKAGES if not list(debs.glob(f"{p}_*.deb"))]
    if missing:
        subprocess.run(["apt-get", "download", "-q", *missing], cwd=debs, check=True)
    if not root.is_dir():
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


Page = tuple[str, Callable[[], str]]  # file name, and how to get its text


def _pages(root: Path) -> Iterator[Page]:
    """Each page, taking the sources in turn so that any prefix of the corpus mixes the languages."""
    sources = [
        _help(root / "usr/share/libreoffice/help/vi", "lo-vi"),
        _help(root / "usr/share/libreoffice/help/zh-CN", "lo-zh"),
        _man(root / "usr/share/man/zh_CN", "man-zh"),
        _man(root / "usr/share/man/vi", "man-vi"),
        _man(root / "usr/share/man/zh_TW", "man-zhtw"),
    ]
    while sources:
        for source in list(sources):
            page = next(source, None)
            if page is None:
                sources.remove(source)
            else:
                yield page


def _help(folder: Path, tag: str) -> Iterator[Page]:
    for path in sorted(folder.rglob("*.html")):
        name = f"{tag}-{'-'.join(path.relative_to(folder).with_suffix('').parts)}"
        yield name, partial(_html_text, path)


def _man(folder: Path, tag: str) -> Iterator[Page]:
    groff = shutil.which("groff")
    if not groff:
        return  # no renderer: the other sources must reach the size
    for path in sorted(folder.rglob("*.gz")):
        yield f"{tag}-{path.name.removesuffix('.gz')}", partial(_render, groff, path)


def _html_text(path: Path) -> str:
    return html_to_text(path.read_text(encoding="utf-8", errors="replace"))


def _render(groff: str, path: Path) -> str:
    source = gzip.decompress(path.read_bytes())
    if source.startswith(b".so "):
        return ""  # an alias of another page
    out = subprocess.run([groff, "-Tutf8", "-man", "-P-cbou", "-Kutf8"], input=source, capture_output=True, check=False)
    return out.stdout.decode("utf-8", errors="replace")
