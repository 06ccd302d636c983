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
    """A fresh log file such as ~/.envcheck/logs/create-torch-20260127-101500-4242.log, created empty and
    private (0600) in a private directory (0700): logs hold paths, commands and tool output, and GPU
    hosts are shared (issue 14). envcheck's own ~/.envcheck/logs is tightened to 0700 if it is looser;
    a directory named by ENVCHECK_LOG_DIR is created 0700 but an existing one is left as it is."""
    directory = log_dir(environ)
    environ = os.environ if environ is None else environ
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if not (environ.get("ENVCHECK_LOG_DIR")):
        try:
            if os.stat(directory).st_mode & 0o077:
                os.chmod(directory, 0o700)
        except OSError:
            pass
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in label)[:60] or "env"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join(directory, f"{kind}-{safe}-{stamp}-{os.getpid()}")
    path, n = base + ".log", 0
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        except FileExistsError:
            n += 1
            path = f"{base}-{n}.log"
            continue
        os.close(fd)
        return path


def write_private(path: str, text: str) -> None:
    """Write `text` (masked: envcheck.redact) to a new or existing file that only its owner can read."""
    from envcheck.redact import redact

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o600)
    with open(fd, "w", encoding="utf-8", errors="replace") as fh:
        fh.write(redact(text))


def append(path: str | None, text: str) -> None:
    """Append one line, secrets masked (no-op without a path; an unwritable log never stops the command).
    A log this creates is private (0600)."""
    if not path:
        return
    from envcheck.redact import redact

    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        with open(fd, "a", encoding="utf-8", errors="replace") as fh:
            fh.write(redact(text.rstrip("\n")) + "\n")
    except (OSError, ValueError):
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
