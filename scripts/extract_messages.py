"""List the message ids envcheck's code uses, from its source (a small pygettext for envcheck).

Usage:  python scripts/extract_messages.py            print every msgid, one per line (JSON strings)
        python scripts/extract_messages.py --missing  print those the zh_CN catalog lacks; exit 1 if any
        python scripts/extract_messages.py --append   append the missing ones to the catalog, untranslated

A msgid is the constant first argument of `_()` (`translate`), `N_()`, `Msg()` and the first two of `ngettext()`
(envcheck/i18n.py), found by walking each module's AST under envcheck/ (inenv/ excluded: it runs in the
target interpreter and never prints human output of envcheck's), and the constant first argument of `M()`
in envcheck/inenv/verify_suite.py (its check messages, which the host translates at render time from the
template the end event carries). After --append, translate the new entries and run scripts/compile_po.py.
"""
from __future__ import annotations

import ast
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "envcheck")
CATALOG = os.path.join(PACKAGE, "locale", "zh_CN", "LC_MESSAGES", "envcheck.po")
MARKERS = {"_": 1, "translate": 1, "N_": 1, "Msg": 1, "ngettext": 2}
SKIP = {os.path.join(PACKAGE, "inenv"), os.path.join(PACKAGE, "i18n.py")}
SUITE = os.path.join(PACKAGE, "inenv", "verify_suite.py")  # scanned for M() only
SUITE_MARKERS = {"M": 1}


def _name(func) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def scan_source(text: str, filename: str = "<string>", markers: dict = MARKERS) -> tuple[list, list]:
    """(msgids in order of appearance, [(line, marker)] of calls whose text is not a constant)."""
    ids, bad = [], []
    for node in ast.walk(ast.parse(text, filename)):
        if not isinstance(node, ast.Call):
            continue
        marker = _name(node.func)
        if marker not in markers:
            continue
        args = node.args[:markers[marker]]
        if len(args) < markers[marker] or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            bad.append((node.lineno, marker))
            continue
        ids.extend(a.value for a in args)
    return ids, bad


def source_files() -> list:
    out = []
    for dirpath, dirnames, filenames in os.walk(PACKAGE):
        dirnames[:] = sorted(d for d in dirnames if os.path.join(dirpath, d) not in SKIP and d != "__pycache__")
        out.extend(os.path.join(dirpath, f) for f in sorted(filenames)
                   if f.endswith(".py") and os.path.join(dirpath, f) not in SKIP)
    return out + [SUITE]


def extract() -> tuple[dict, list]:
    """{msgid: [file:line of first use]} over the package, and the non-constant calls."""
    found: dict = {}
    bad = []
    for path in source_files():
        with open(path, encoding="utf-8") as fh:
            ids, calls = scan_source(fh.read(), path, SUITE_MARKERS if path == SUITE else MARKERS)
        rel = os.path.relpath(path, ROOT)
        for msgid in ids:
            found.setdefault(msgid, []).append(rel)
        bad.extend(f"{rel}:{line}: {marker}() needs a constant string" for line, marker in calls)
    return found, bad


def catalog_ids(po_path: str = CATALOG) -> dict:
    """{msgid: msgstr} of the catalog (plural entries under their singular id), via compile_po's parser."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from compile_po import parse_po

    with open(po_path, encoding="utf-8") as fh:
        text = fh.read()
    out = {}
    for key, value in parse_po(text).items():
        if "\0" in key:
            singular, plural = key.split("\0", 1)
            out[singular] = value
            out[plural] = value
        elif key:
            out[key] = value
    return out


def _po_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    found, bad = extract()
    for line in bad:
        print(line, file=sys.stderr)
    if not args:
        for msgid in found:
            print(_po_quote(msgid))
        return 1 if bad else 0
    have = catalog_ids() if os.path.exists(CATALOG) else {}
    missing = [m for m in found if m not in have]
    if "--append" in args:
        with open(CATALOG, "a", encoding="utf-8") as fh:
            for msgid in missing:
                fh.write(f"\n#: {found[msgid][0]}\nmsgid {_po_quote(msgid)}\nmsgstr \"\"\n")
        print(f"{len(missing)} appended to {os.path.relpath(CATALOG, ROOT)}")
        return 0
    for msgid in missing:
        print(f"{found[msgid][0]}: {_po_quote(msgid)}")
    return 1 if missing or bad else 0


if __name__ == "__main__":
    sys.exit(main())
