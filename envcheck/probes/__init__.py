"""Probes READ the machine and never raise: a missing value comes back with a human reason."""
from __future__ import annotations


def read_text(path: str) -> str | None:
    """The file's text (undecodable bytes replaced), or None when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None
