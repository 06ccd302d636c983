"""Tool logs: where they go, appending a line, reading the tail (never raise on I/O)."""
from __future__ import annotations

import os
import time
from typing import Mapping

TAIL_LINES = 20


def log_dir(environ: Mapping[str, str] | None = None) -> str:
    """Where tool logs go: $ENVCHECK_LOG_DIR, else ~/.envcheck/logs."""
    environ = os.environ if environ is None else environ
    if environ.get("ENVCHECK_LOG_DIR"):
        return os.path.abspath(os.path.expanduser(environ["ENVCHECK_LOG_DIR"]))
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".envcheck", "logs")


def new_log_path(kind: str, label: str, environ: Mapping[str, str] | None = None) -> str:
    """A fresh log file path such as ~/.envcheck/logs/create-torch-20260127-101500-4242.log (dir created)."""
    directory = log_dir(environ)
    os.makedirs(directory, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in label)[:60] or "env"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return os.path.join(directory, f"{kind}-{safe}-{stamp}-{os.getpid()}.log")


def append(path: str | None, text: str) -> None:
    """Append one line (no-op without a path; an unwritable log never stops the command)."""
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text.rstrip("\n") + "\n")
    except OSError:
        pass


def tail(path: str | None, lines: int = TAIL_LINES) -> list[str]:
    """The last `lines` lines of a log file ([] when unreadable)."""
    if not path:
        return []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return [line.rstrip("\n") for line in fh.readlines()[-lines:]]
    except OSError:
        return []


def step_tail(path: str | None, lines: int = TAIL_LINES) -> list[str]:
    """The log's last lines from the last command's `$ ...` header on: the failing tool's own output."""
    text = tail(path, 200)
    starts = [i for i, line in enumerate(text) if line.startswith("$ ")]
    if starts:
        text = text[starts[-1]:]
    return text[-lines:]
