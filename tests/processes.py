"""Start and stop real server processes on free loopback ports, for the API tests and the load benchmark."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from rag.config import PROJECT_DIR


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running(
    command: Sequence[str],
    ready_url: str,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    timeout_s: float = 120.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` (a Python module and its arguments) until `ready_url` answers; stop it afterwards."""
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), **(env or {})}
    with open(log or os.devnull, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", *command], env=environment, stdout=output, stderr=output)
        try:
            wait_until_ready(process, ready_url, timeout_s, log)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_ready(process: subprocess.Popen[bytes], url: str, timeout_s: float, log: Path | None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"server exited with {process.returncode} before it was ready:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers (with an error status): it is up
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout_s:g} s")
