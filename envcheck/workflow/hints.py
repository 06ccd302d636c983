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

from envcheck.errors import Msg, joined
from envcheck.runner import Completed

FIXES = (
    ("No space left on device", Msg("free disk space (torch with CUDA needs ~5 GB), or use --prefix on a bigger disk")),
    ("PackagesNotFoundError", Msg("the channel has no such package: check the channels (--mirror) or use pip "
     "(--backend venv/uv)")),
    ("ResolvePackageNotFound", Msg("the channel has no such package: check the channels (--mirror)")),
    ("UnsatisfiableError", Msg("conda cannot combine these pins: try another --torch, or --backend venv")),
    ("CondaHTTPError", Msg("the channel could not be reached: check the network or pass --mirror")),
    ("HTTP error 403", Msg("the index refused access: check --index-url and its credentials")),
)

# --- what pip / uv say (each needle seen in a capture under tests/fixtures/installer/, or named) ---

HASH_NEEDLES = ("THESE PACKAGES DO NOT MATCH THE HASHES", "Hash mismatch for")
CONFLICT_NEEDLES = ("ResolutionImpossible", "conflicting dependencies", "No solution found when resolving")
NO_MATCH_NEEDLES = ("No matching distribution found for", "Could not find a version that satisfies the requirement",
                    "has no wheels with a matching", "there is no version of")
# Why a connection failed, most specific first: (needle, the reason in words).
NETWORK_REASONS = (
    ("Name or service not known", Msg("its host name did not resolve in DNS")),
    ("Temporary failure in name resolution", Msg("its host name did not resolve in DNS")),
    ("nodename nor servname provided", Msg("its host name did not resolve in DNS")),
    ("failed to lookup address", Msg("its host name did not resolve in DNS")),
    ("dns error", Msg("its host name did not resolve in DNS")),
    ("getaddrinfo failed", Msg("its host name did not resolve in DNS")),
    ("Connection refused", Msg("the connection was refused")),
    ("Network is unreachable", Msg("the network is unreachable")),
    ("No route to host", Msg("there is no route to the host")),
    ("Read timed out", Msg("it did not answer in time")),
    ("ConnectTimeoutError", Msg("it did not answer in time")),
    ("operation timed out", Msg("it did not answer in time")),
    ("Failed to establish a new connection", Msg("no connection could be made")),
    ("tcp connect error", Msg("no connection could be made")),
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
    reason = next((why for needle, why in NETWORK_REASONS if needle in joined), Msg("no connection could be made"))
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
    return where or Msg("the package index"), reason


def diagnose_installer(text: str, elapsed_s: float | None = None, tool: str = "pip") -> InstallerFailure | None:
    """The cause of a failed `pip install` / `uv pip install`, from its merged output (pure)."""
    if any(n in text for n in HASH_NEEDLES):
        m = re.search(r"Hash mismatch for `([^`]+)`", text) or re.search(
            r"^\s+(\S+==\S+) from \S+", text, re.M)
        what = m.group(1) if m else Msg("a package")
        cache = "uv cache clean" if tool == "uv" else "pip cache purge"
        return InstallerFailure(
            "hash-mismatch", Msg("{tool}: the file downloaded for {what} does not have the hash pinned for it",
                                 tool=tool, what=what),
            Msg("if that --hash pin is stale, update it; otherwise the file was corrupted or changed on the way: "
                "clear the cache (`{cache}`) and install from an index you trust", cache=cache))
    uv_no_solution = "No solution found when resolving" in text
    uv_no_match = uv_no_solution and ("has no wheels with a matching" in text or "there is no version of" in text)
    if any(n in text for n in CONFLICT_NEEDLES) and not uv_no_match:
        causes = [_strip_prefix(ln) for ln in text.splitlines()
                  if re.match(r"\s+The user requested|\s+\S+ \S+ depends on", ln)]
        if not causes:
            causes = [_strip_prefix(ln) for ln in _lines(text, "Because ")] or [
                _strip_prefix(ln) for ln in _lines(text, "Cannot install")]
        where = (Msg("a constraint or pin outside this plan (`-c` files, UV_CONSTRAINT, uv.toml)") if tool == "uv" else
                 Msg("a constraint or pin outside this plan (`-c` files, PIP_CONSTRAINT, a `constraint` in "
                     "pip's configuration: `pip config list`)"))
        return InstallerFailure(
            "resolution-conflict", Msg("{tool}: the requirements conflict: {causes}", tool=tool,
                                       causes="; ".join(causes[:4])),
            Msg("the pins cannot all hold; look for {where} or another package's requirement: drop or change "
                "that pin, or choose the --torch it allows", where=where))
    unreachable = unreachable_index(text)
    if unreachable is not None:
        where, reason = unreachable
        after = Msg("; it gave up after {seconds:.1f} s", seconds=elapsed_s) if elapsed_s is not None else ""
        missing = re.search(r"No matching distribution found for (\S+)", text)
        so = Msg(" and so found no {package}", package=missing.group(1)) if missing else ""
        return InstallerFailure(
            "index-unreachable", Msg("{tool} could not reach {where} ({reason}){after}{so}", tool=tool, where=where,
                                     reason=reason, after=after, so=so),
            Msg("check the network and any proxy (HTTPS_PROXY), or pass --index-url to an index this machine can "
                "reach (a mirror); --find-links DIR adds a wheel directory"))
    if any(n in text for n in NO_MATCH_NEEDLES):
        hint = next((_strip_prefix(ln) for ln in text.splitlines() if ln.startswith("hint:")), None)
        m = re.search(r"Could not find a version that satisfies the requirement (\S+) \(from versions: ([^)]*)\)", text)
        if m and m.group(2).strip() != "none":
            said = Msg("{tool}: no {package}; the sources offer {versions}", tool=tool, package=m.group(1),
                       versions=m.group(2).strip())
        elif m:
            said = Msg("{tool}: no source offers any build of {package} for this Python and platform", tool=tool,
                       package=m.group(1))
        else:
            line = next((_strip_prefix(ln) for ln in text.splitlines()
                         if any(n in ln for n in ("has no wheels with a matching", "there is no version of"))), "")
            said = Msg("{tool}: {said}", tool=tool, said=line) if line else Msg("{tool}: no matching distribution",
                                                                                 tool=tool)
        if hint:
            said = Msg("{said} ({hint})", said=said, hint=hint)
        return InstallerFailure(
            "no-matching-distribution", said,
            Msg("check --torch and --python against what the index offers; a wheel directory (--find-links) must "
                "hold a wheel for this Python (cpXY) and platform; --index-url picks another index"))
    return None


def suggest_fix(tail: Sequence[str], completed: Completed | None = None) -> str:
    """The fix for a failed tool run, from its output (the whole of it when `completed` has it, else the
    log's tail) (pure)."""
    if completed is not None and completed.timed_out:
        return Msg("the tool timed out: check the network or use a closer --mirror / --index-url, then retry")
    if completed is not None and completed.error:
        return Msg("{tool} could not start ({error}): check it is installed",
                   tool=os.path.basename(completed.argv[0]) if completed.argv else Msg("the tool"), error=completed.error)
    text = (completed.stdout if completed is not None and completed.stdout else "") or "\n".join(tail)
    tool = "uv" if completed is not None and completed.argv and os.path.basename(completed.argv[0]) == "uv" else "pip"
    for needle, fix in FIXES:  # specific and final (a full disk, conda's own errors) before the installer's
        if needle in text:
            return fix
    found = diagnose_installer(text, completed.duration_s if completed is not None else None, tool)
    if found is not None:
        return joined([found.said, found.fix])
    return Msg("read the log above; rerun with --dry-run to see every command")
