"""A failed tool run -> the fix to suggest (pure). First match on the log's tail wins."""
from __future__ import annotations

import os
from typing import Sequence

from envcheck.runner import Completed

FIXES = (
    ("No space left on device", "free disk space (torch with CUDA needs ~5 GB), or use --prefix on a bigger disk"),
    ("No matching distribution found", "the index has no such build for this Python/platform: check "
     "--index-url/--find-links (a wheel directory must hold a wheel for this Python), or pick another --torch"),
    ("Could not find a version that satisfies", "the index has no such build for this Python/platform: check "
     "--index-url/--find-links, or pick another --torch"),
    ("No solution found", "uv found no matching build: check --index-url/--find-links, or pick another --torch"),
    ("PackagesNotFoundError", "the channel has no such package: check the channels (--mirror) or use pip "
     "(--backend venv/uv)"),
    ("ResolvePackageNotFound", "the channel has no such package: check the channels (--mirror)"),
    ("UnsatisfiableError", "conda cannot combine these pins: try another --torch, or --backend venv"),
    ("CondaHTTPError", "the channel could not be reached: check the network or pass --mirror"),
    ("Temporary failure in name resolution", "no network: pass --index-url/--find-links to a local mirror "
     "or wheel directory"),
    ("Name or service not known", "no network: pass --index-url/--find-links to a local mirror or wheel directory"),
    ("Connection refused", "the index refused the connection: check --index-url / the proxy settings"),
    ("HTTP error 403", "the index refused access: check --index-url and its credentials"),
    ("DO NOT MATCH THE HASHES", "a download was corrupted or changed: clear pip's cache (`pip cache purge`) "
     "and retry"),
)


def suggest_fix(tail: Sequence[str], completed: Completed | None = None) -> str:
    """The fix for a failed tool run, from its output's tail (pure)."""
    if completed is not None and completed.timed_out:
        return "the tool timed out: check the network or use a closer --mirror / --index-url, then retry"
    if completed is not None and completed.error:
        return f"{os.path.basename(completed.argv[0]) if completed.argv else 'the tool'} could not start " \
               f"({completed.error}): check it is installed"
    text = "\n".join(tail)
    for needle, fix in FIXES:
        if needle in text:
            return fix
    return "read the log above; rerun with --dry-run to see every command"
