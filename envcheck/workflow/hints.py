"""A failed tool run -> the fix to suggest (pure).

For pip and uv the hint comes from what the installer said (`diagnose_installer`): a hash mismatch,
a pin or constraint conflict, an index it could not reach (which one, why, after how long), no
matching distribution (which versions it did see). The messages matched are real ones, captured with
pip 23.2.1 and uv 0.13.9 (tests/fixtures/installer/, re-made by its capture.sh). Other tools (conda,
venv, ipykernel) keep the simple first-match table FIXES.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Sequence
from urllib.parse import urlparse

from envcheck.runner import Completed

FIXES = (
    ("No space left on device", "free disk space (torch with CUDA needs ~5 GB), or use --prefix on a bigger disk"),
    ("PackagesNotFoundError", "the channel has no such package: check the channels (--mirror) or use pip "
     "(--backend venv/uv)"),
    ("ResolvePackageNotFound", "the channel has no such package: check the channels (--mirror)"),
    ("UnsatisfiableError", "conda cannot combine these pins: try another --torch, or --backend venv"),
    ("CondaHTTPError", "the channel could not be reached: check the network or pass --mirror"),
    ("HTTP error 403", "the index refused access: check --index-url and its credentials"),
)

# --- what pip / uv say (each needle seen in a capture under tests/fixtures/installer/, or named) ---

HASH_NEEDLES = ("THESE PACKAGES DO NOT MATCH THE HASHES", "Hash mismatch for")
CONFLICT_NEEDLES = ("ResolutionImpossible", "conflicting dependencies", "No solution found when resolving")
NO_MATCH_NEEDLES = ("No matching distribution found for", "Could not find a version that satisfies the requirement",
                    "has no wheels with a matching", "there is no version of")
# Why a connection failed, most specific first: (needle, the reason in words).
NETWORK_REASONS = (
    ("Name or service not known", "its host name did not resolve in DNS"),
    ("Temporary failure in name resolution", "its host name did not resolve in DNS"),
    ("nodename nor servname provided", "its host name did not resolve in DNS"),
    ("failed to lookup address", "its host name did not resolve in DNS"),
    ("dns error", "its host name did not resolve in DNS"),
    ("getaddrinfo failed", "its host name did not resolve in DNS"),
    ("Connection refused", "the connection was refused"),
    ("Network is unreachable", "the network is unreachable"),
    ("No route to host", "there is no route to the host"),
    ("Read timed out", "it did not answer in time"),
    ("ConnectTimeoutError", "it did not answer in time"),
    ("operation timed out", "it did not answer in time"),
    ("Failed to establish a new connection", "no connection could be made"),
    ("tcp connect error", "no connection could be made"),
)
NETWORK_NEEDLES = ("Retrying (Retry(", "Failed to establish a new connection", "Failed to fetch",
                   "error sending request for url", "Could not fetch URL") + tuple(n for n, _ in NETWORK_REASONS)


@dataclass(frozen=True)
class InstallerFailure:
    """Why pip or uv failed: a stable cause, the installer's own words that show it, the fix."""

    cause: str  # hash-mismatch | resolution-conflict | index-unreachable | no-matching-distribution
    said: str
    fix: str

    def to_dict(self) -> dict:
        return {"cause": self.cause, "said": self.said, "fix": self.fix}


def is_retry_warning(line: str) -> bool:
    """A line a person should see while it happens: pip retrying an index, a connection failing (pure).

    pip prints `WARNING: Retrying (Retry(total=4, ...)) after connection broken by ...` before each
    retry; with its default 5 retries and 15 s timeout that is minutes of otherwise silent waiting."""
    return any(n in line for n in NETWORK_NEEDLES)


def _lines(text: str, needle: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if needle in ln]


def _strip_prefix(line: str) -> str:
    return re.sub(r"^(ERROR|error|WARNING|warning|cause|hint):\s*", "", line.strip())


def unreachable_index(text: str) -> tuple[str, str] | None:
    """(where, reason) when the output shows a connection that failed, else None."""
    hits = [ln for ln in text.splitlines() if any(n in ln for n in NETWORK_NEEDLES)]
    if not hits:
        return None
    joined = "\n".join(hits)
    reason = next((why for needle, why in NETWORK_REASONS if needle in joined), "no connection could be made")
    where = None
    m = re.search(r"Failed to fetch:\s*(\S+)", joined)  # uv: the URL it fetched
    if m:
        where = m.group(1)
    else:  # pip: the index from "Looking in indexes:" whose path starts the failing request's path
        indexes = []
        for ln in _lines(text, "Looking in indexes:"):
            indexes += [u.strip() for u in ln.split(":", 1)[1].split(",") if u.strip()]
        paths = re.findall(r"'?: (/\S*)$", joined, re.M)
        hosts = re.findall(r"host='([^']+)', port=(\d+)", joined)
        for url in indexes:
            if any(p.startswith(urlparse(url).path.rstrip("/") + "/") for p in paths) or any(
                    urlparse(url).hostname == h and str(urlparse(url).port or "") in (p, "") for h, p in hosts):
                where = url
                break
        if where is None and len(indexes) == 1:
            where = indexes[0]
    return where or "the package index", reason


def diagnose_installer(text: str, elapsed_s: float | None = None, tool: str = "pip") -> InstallerFailure | None:
    """The cause of a failed `pip install` / `uv pip install`, from its merged output (pure)."""
    if any(n in text for n in HASH_NEEDLES):
        m = re.search(r"Hash mismatch for `([^`]+)`", text) or re.search(
            r"^\s+(\S+==\S+) from \S+", text, re.M)
        what = m.group(1) if m else "a package"
        cache = "uv cache clean" if tool == "uv" else "pip cache purge"
        return InstallerFailure(
            "hash-mismatch", f"{tool}: the file downloaded for {what} does not have the hash pinned for it",
            f"if that --hash pin is stale, update it; otherwise the file was corrupted or changed on the way: "
            f"clear the cache (`{cache}`) and install from an index you trust")
    uv_no_solution = "No solution found when resolving" in text
    uv_no_match = uv_no_solution and ("has no wheels with a matching" in text or "there is no version of" in text)
    if any(n in text for n in CONFLICT_NEEDLES) and not uv_no_match:
        causes = [_strip_prefix(ln) for ln in text.splitlines()
                  if re.match(r"\s+The user requested|\s+\S+ \S+ depends on", ln)]
        if not causes:
            causes = [_strip_prefix(ln) for ln in _lines(text, "Because ")] or [
                _strip_prefix(ln) for ln in _lines(text, "Cannot install")]
        where = ("a constraint or pin outside this plan (`-c` files, UV_CONSTRAINT, uv.toml)" if tool == "uv" else
                 "a constraint or pin outside this plan (`-c` files, PIP_CONSTRAINT, a `constraint` in "
                 "pip's configuration: `pip config list`)")
        return InstallerFailure(
            "resolution-conflict", f"{tool}: the requirements conflict: " + "; ".join(causes[:4]),
            f"the pins cannot all hold; look for {where} or another package's requirement: drop or change "
            "that pin, or choose the --torch it allows")
    unreachable = unreachable_index(text)
    if unreachable is not None:
        where, reason = unreachable
        after = f"; it gave up after {elapsed_s:.1f} s" if elapsed_s is not None else ""
        missing = re.search(r"No matching distribution found for (\S+)", text)
        so = f" and so found no {missing.group(1)}" if missing else ""
        return InstallerFailure(
            "index-unreachable", f"{tool} could not reach {where} ({reason}){after}{so}",
            "check the network and any proxy (HTTPS_PROXY), or pass --index-url to an index this machine can "
            "reach (a mirror); --find-links DIR adds a wheel directory")
    if any(n in text for n in NO_MATCH_NEEDLES):
        hint = next((_strip_prefix(ln) for ln in text.splitlines() if ln.startswith("hint:")), None)
        m = re.search(r"Could not find a version that satisfies the requirement (\S+) \(from versions: ([^)]*)\)", text)
        if m and m.group(2).strip() != "none":
            said = f"{tool}: no {m.group(1)}; the sources offer {m.group(2).strip()}"
        elif m:
            said = f"{tool}: no source offers any build of {m.group(1)} for this Python and platform"
        else:
            line = next((_strip_prefix(ln) for ln in text.splitlines()
                         if any(n in ln for n in ("has no wheels with a matching", "there is no version of"))), "")
            said = f"{tool}: {line}" if line else f"{tool}: no matching distribution"
        if hint:
            said += f" ({hint})"
        return InstallerFailure(
            "no-matching-distribution", said,
            "check --torch and --python against what the index offers; a wheel directory (--find-links) must "
            "hold a wheel for this Python (cpXY) and platform; --index-url picks another index")
    return None


def suggest_fix(tail: Sequence[str], completed: Completed | None = None) -> str:
    """The fix for a failed tool run, from its output (the whole of it when `completed` has it, else the
    log's tail) (pure)."""
    if completed is not None and completed.timed_out:
        return "the tool timed out: check the network or use a closer --mirror / --index-url, then retry"
    if completed is not None and completed.error:
        return f"{os.path.basename(completed.argv[0]) if completed.argv else 'the tool'} could not start " \
               f"({completed.error}): check it is installed"
    text = (completed.stdout if completed is not None and completed.stdout else "") or "\n".join(tail)
    tool = "uv" if completed is not None and completed.argv and os.path.basename(completed.argv[0]) == "uv" else "pip"
    for needle, fix in FIXES:  # specific and final (a full disk, conda's own errors) before the installer's
        if needle in text:
            return fix
    found = diagnose_installer(text, completed.duration_s if completed is not None else None, tool)
    if found is not None:
        return f"{found.said}; {found.fix}"
    return "read the log above; rerun with --dry-run to see every command"
