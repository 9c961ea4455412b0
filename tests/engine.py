"""A scan of machine code for instructions that tie a build to some CPUs (AMX, AVX-512)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

AMX = re.compile(
    r"\b(tilezero|tdpb[su][su]d|tdpbf16ps|ldtilecfg|sttilecfg|tileloadd|tileloaddt1|tilestored|tilerelease)\b"
)


def non_portable_instructions(library: Path) -> dict[str, int]:
    """Counts of AMX instructions and AVX-512 (zmm) operands in a shared library's machine code."""
    code = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", str(library)], capture_output=True, text=True, check=True
    ).stdout
    return {"amx": len(AMX.findall(code)), "avx512": code.count("%zmm")}
