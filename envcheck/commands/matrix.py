"""`envcheck matrix refresh` and `envcheck matrix show` (issue 8).

refresh: read torch, torchvision and torchaudio from a package index's JSON simple API (PEP 691), the
same facts scripts/refresh_wheels.py writes into configs/wheels.json, keep only the releases NEWER than
the shipped file, and store them in the per-user cache (envcheck.matrix.cache_path()). The only command
that touches the network: urllib with a timeout (HTTP(S)_PROXY / NO_PROXY honoured by urllib), the
index from --index-url, --mirror (configs/mirrors.json's pip_index) or pip's own configuration.
A failed or partial refresh never touches the last good cache: the new file is written next to it,
read back and validated, then renamed over it (os.replace is atomic on one filesystem).

show: what the matrix knows, shipped and refreshed. Reads files only.
"""
from __future__ import annotations

import datetime
import json
import os
import tempfile
from pathlib import Path
from typing import Mapping

from envcheck.errors import EnvcheckError, ExitCode, Msg
from envcheck.results import Result

DEFAULT_TIMEOUT_S = 30.0
_HINT_NETWORK = ("check the network and proxy settings (HTTPS_PROXY / NO_PROXY), or read a mirror of the package "
                 "index: --mirror tuna, --mirror ustc or --index-url URL; the last good cache is kept")


def _index_choice(index_url: str | None, mirror: str | None, matrix) -> str | None:
    """The explicit index (--index-url or the mirror's pip index); exit 2 on bad input."""
    if index_url is not None and mirror is not None:
        raise EnvcheckError(Msg("--index-url and --mirror both name an index"), hint=Msg("pass one of them"),
                            code="invalid-index-url")
    if mirror is not None:
        m = matrix.mirrors.get(mirror.strip().lower())
        if m is None:
            known = ", ".join(sorted(matrix.mirrors)) or "none"
            raise EnvcheckError(Msg("unknown mirror {mirror!r}", mirror=mirror), hint=Msg("known mirrors: {known}", known=known), code="invalid-mirror")
        if not m.pip_index:
            raise EnvcheckError(Msg("mirror {name!r} has no package-index mirror in configs/mirrors.json", name=m.name),
                                hint=Msg("pass --index-url URL"), code="invalid-mirror")
        return m.pip_index
    if index_url is not None:
        from envcheck.inputs import normalize_index_url

        # as `install --index-url` reads it: a URL, or a local simple-index directory (air-gapped) -> file://
        url = normalize_index_url(index_url)
        if not url.startswith(("http://", "https://", "file://")):
            raise EnvcheckError(Msg("--index-url {index_url!r} is not an http(s) or file:// URL", index_url=index_url),
                                hint=Msg("pass the simple-API base URL, e.g. --index-url https://mirror.example/simple"),
                                code="invalid-index-url")
        return url
    return None


def run_refresh(
    *,
    index_url: str | None = None,
    mirror: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    environ: Mapping[str, str] | None = None,
    runner=None,
    matrix=None,
    cache_file: str | Path | None = None,
    today: str | None = None,
    sink=None,
) -> Result:
    """`envcheck matrix refresh`. `sink` (workflow.events) gets a CommandStarted/CommandEnded pair per
    project read: on a terminal a spinner with the elapsed time, piped a line before and after (a
    project page of torch is megabytes: seconds on a slow link)."""
    import time

    from envcheck.matrix import cache_path, load_matrix, newest_versions
    from envcheck.workflow.events import NULL, CommandEnded, CommandStarted
    from envcheck.wheelindex import (
        PACKAGES,
        IndexError_,
        WheelFacts,
        build_wheels_doc,
        discover_index_url,
        dump_wheels_doc,
        fetch_project,
        mask_url,
        parse_project,
        project_url,
    )

    if not timeout or timeout <= 0:
        raise EnvcheckError(Msg("--timeout {timeout}: must be a positive number of seconds",
                                timeout=timeout), code="invalid-timeout")
    environ = os.environ if environ is None else environ
    matrix = matrix or load_matrix(cache=False)  # what ships: the cache only adds releases newer than it
    explicit = _index_choice(index_url, mirror, matrix)
    index, where = discover_index_url(explicit, environ, runner)
    if index is None:
        raise EnvcheckError(Msg("no package index to read: {where}", where=where), hint=Msg("pass --index-url URL or --mirror NAME"),
                            exit_code=ExitCode.TOOL_FAILED, code="index-not-configured")
    if mirror is not None:
        where = f"--mirror {mirror.strip().lower()}"
    shipped = _shipped_doc(matrix)
    newer_than = newest_versions(shipped) if shipped else {}
    facts = []
    sink = sink or NULL
    for name in PACKAGES:
        shown = f"GET {mask_url(project_url(index, name))}"
        sink.emit(CommandStarted(shown))
        started = time.monotonic()
        try:
            doc = fetch_project(index, name, timeout)
            parsed = parse_project(doc, name=name)
            sink.emit(CommandEnded(shown, 0, time.monotonic() - started))
        except IndexError_ as exc:
            sink.emit(CommandEnded(shown, 1, time.monotonic() - started))
            raise EnvcheckError(
                Msg("matrix refresh failed: {name}: {exc}", name=name, exc=exc),
                hint=_HINT_NETWORK,
                exit_code=ExitCode.TOOL_FAILED,
                code="matrix-refresh-failed",
                data={"url": mask_url(project_url(index, name)), "index": mask_url(index), "index_source": where},
            ) from None
        facts.append(_newer_only(parsed, newer_than.get(name), WheelFacts))
    read = today or datetime.date.today().isoformat()
    new = build_wheels_doc(facts, read=read, index=mask_url(index), min_version={})
    new["generated_by"] = "envcheck matrix refresh"
    new["newer_than"] = {f.name: newer_than.get(f.name) for f in facts}
    target = Path(cache_file) if cache_file is not None else cache_path(environ)
    write_cache(target, dump_wheels_doc(new))
    added = {f.name: sorted(f.releases, key=_vkey) for f in facts}
    known = {r.torch for r in matrix.releases}
    return Result(command="matrix refresh", data={
        "index": mask_url(index),
        "index_source": where,
        "cache": str(target),
        "read": read,
        "newer_than": new["newer_than"],
        "added": added,
        "without_row": [v for v in added.get("torch", []) if v not in known],
    })


def _vkey(v: str):
    from packaging.version import Version

    return Version(v)


def _newer_only(facts, newest: str | None, cls):
    """The releases strictly newer than the shipped newest (all when the shipped file has none)."""
    if newest is None:
        return facts
    floor = _vkey(newest)
    return cls(facts.name, {v: r for v, r in facts.releases.items() if _vkey(v) > floor},
               tuple(v for v in facts.yanked if _vkey(v) > floor))


def _shipped_doc(matrix) -> dict | None:
    """package -> {releases, yanked} of the shipped wheel facts, shaped like the file (for newest_versions)."""
    if matrix.wheels is None:
        return None
    return {"packages": {name: {"releases": dict(facts.releases), "yanked": list(facts.yanked)}
                         for name, facts in matrix.wheels.packages.items()}}


def write_cache(path: Path, text: str) -> None:
    """Write `text` to `path` so that a failure at any point leaves the previous file as it was: a
    temporary file in the same directory, flushed to disk, read back and validated, then renamed over."""
    from envcheck.wheelindex import WheelsSchemaError, validate_wheels_doc

    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".wheels-refresh-", suffix=".tmp", dir=str(path.parent))
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        validate_wheels_doc(json.loads(Path(tmp).read_text(encoding="utf-8")))
        os.replace(tmp, path)
        tmp = None
    except (OSError, ValueError, WheelsSchemaError) as exc:
        raise EnvcheckError(Msg("cannot write the matrix cache {path}: {exc}", path=path, exc=exc),
                            hint=Msg("check that the cache directory is writable (ENVCHECK_CACHE_DIR or XDG_CACHE_HOME "
                                     "moves it); the last good cache is kept"),
                            exit_code=ExitCode.TOOL_FAILED, code="matrix-cache-write-failed") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def run_show(*, matrix=None, environ: Mapping[str, str] | None = None) -> Result:
    """Shipped date, cache date, releases known and the newest per source. Files only."""
    from envcheck.matrix import cache_path, load_matrix, refresh_notes

    environ = os.environ if environ is None else environ
    path = cache_path(environ)
    matrix = matrix or load_matrix(cache=path)
    ref = matrix.refreshed
    added = dict(ref.added) if ref is not None else {}
    shipped: dict[str, dict] = {}
    refreshed: dict[str, dict] = {}
    if matrix.wheels is not None:
        for name, facts in matrix.wheels.packages.items():
            extra = set(added.get(name, ()))
            own = [v for v in facts.releases if v not in extra]
            shipped[name] = {"releases": len(own), "newest": max(own, key=_vkey) if own else None}
            refreshed[name] = {"releases": len(extra), "newest": max(extra, key=_vkey) if extra else None}
    data = {
        "shipped": {
            "checked": matrix.checked,
            "wheels_read": matrix.wheels_read,
            "newest_row": matrix.newest_known,
            "rows": len(matrix.releases),
            "packages": shipped,
        },
        "cache": {
            "path": str(path),
            "present": ref is not None,
            "read": ref.read if ref is not None else None,
            "index": ref.index if ref is not None else None,
            "problem": ref.problem if ref is not None else None,
            "packages": refreshed,
            "added": {k: list(v) for k, v in added.items()},
        },
        "without_row": list(matrix.refreshed_without_row()),
        "findings": [f.to_dict() for f in refresh_notes(matrix)],
    }
    return Result(command="matrix show", data=data)
