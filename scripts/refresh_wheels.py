#!/usr/bin/env python3
"""Maintainer script: read torch, torchvision and torchaudio from the package index and write configs/wheels.json.

    python scripts/refresh_wheels.py                 # pip's configured index, writes configs/wheels.json
    python scripts/refresh_wheels.py --check         # exit 1 when the committed file differs (no write)
    python scripts/refresh_wheels.py --index-url URL --out /tmp/wheels.json

The index is the one pip would use: --index-url, else PIP_INDEX_URL, else `index-url` from
`python -m pip config list`, else pip's own built-in default. It must serve the JSON simple API
(PEP 691). The file records what THAT index publishes (per release, per platform, the CPython versions
with wheels); CUDA builds on download.pytorch.org are not on it and stay hand-kept in
configs/torch_releases.json. Never run at runtime: envcheck only reads the committed file.
Output is deterministic (sorted, one release per line); only `read` changes when nothing else did.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from envcheck.wheelindex import (  # noqa: E402
    IndexError_,
    build_wheels_doc,
    discover_index_url,
    dump_wheels_doc,
    fetch_project,
    parse_project,
    validate_wheels_doc,
)

# every release from torch 1.4.0, and the companions of that era (torchvision 0.5.0 and torchaudio
# 0.4.0 shipped with torch 1.4.0: configs/torch_releases.json row 1.4.0)
MIN_VERSION = {"torch": "1.4.0", "torchvision": "0.5.0", "torchaudio": "0.4.0"}
INDEX_LABEL = "pip's configured default index (JSON simple API, PEP 691)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-url", help="simple-API base URL (default: pip's configured index)")
    ap.add_argument("--out", type=Path, default=ROOT / "configs" / "wheels.json")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing (ignores the read date)")
    args = ap.parse_args(argv)
    # the same discovery `envcheck matrix refresh` uses (one home: envcheck.wheelindex)
    index, _where = discover_index_url(args.index_url, os.environ)
    if not index:
        print("error: no package index configured; pass --index-url", file=sys.stderr)
        return 2
    facts = []
    for name in sorted(MIN_VERSION):
        try:
            doc = fetch_project(index, name, args.timeout)
            facts.append(parse_project(doc, name=name, min_version=MIN_VERSION[name]))
        except IndexError_ as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            print("hint: pass --index-url <simple-API URL> of an index that serves PEP 691 JSON", file=sys.stderr)
            return 5
    read = datetime.date.today().isoformat()
    new = build_wheels_doc(facts, read=read, index=INDEX_LABEL, min_version=MIN_VERSION)
    validate_wheels_doc(new)
    text = dump_wheels_doc(new)
    if args.check:
        try:
            old = json.loads(args.out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"{args.out}: cannot read ({exc})", file=sys.stderr)
            return 1
        old["read"] = read
        if old != json.loads(text):
            print(f"{args.out} is out of date: run scripts/refresh_wheels.py", file=sys.stderr)
            return 1
        print(f"{args.out} matches the index")
        return 0
    args.out.write_text(text, encoding="utf-8")
    n = sum(len(f.releases) for f in facts)
    print(f"wrote {args.out} ({n} releases of {', '.join(f.name for f in facts)}, read {read})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
