"""Compile a gettext .po catalog to .mo with the standard library only (what GNU `msgfmt` does for
envcheck's catalogs; modelled on CPython's Tools/i18n/msgfmt.py).

Usage:  python scripts/compile_po.py [PO ...]        (default: every envcheck/locale/*/LC_MESSAGES/*.po)
        python scripts/compile_po.py --check [PO ...] (exit 1 when a committed .mo differs from its .po)

Handles msgid/msgstr, msgid_plural/msgstr[N], multi-line strings and C escapes; skips `#, fuzzy`
entries and untranslated ones (as msgfmt does). The output is deterministic (keys sorted, no hash
table), so the committed .mo can be compared byte for byte with a fresh compilation; it is byte-identical
to GNU `msgfmt --no-hash` output (tests/test_i18n.py checks that where msgfmt is installed).
"""
from __future__ import annotations

import ast
import glob
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_po(text: str) -> dict:
    """{msgid bytes-key: msgstr bytes-value} as .mo stores them (plural: joined by NUL)."""
    entries: dict = {}
    cur: dict = {}
    section = None
    fuzzy = False

    def flush():
        nonlocal cur, fuzzy
        if "msgid" in cur and not fuzzy:
            msgid = cur["msgid"]
            if "msgid_plural" in cur:
                key = msgid + "\0" + cur["msgid_plural"]
                strs = [cur.get(f"msgstr[{i}]", "") for i in range(len([k for k in cur if k.startswith("msgstr[")]))]
                value = "\0".join(strs)
                translated = any(strs)
            else:
                key, value = msgid, cur.get("msgstr", "")
                translated = bool(value)
            if translated or not msgid:
                entries[key] = value
        cur, fuzzy = {}, False

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if section is not None and section != "comment":
                flush()
            section = "comment"
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            continue
        if line.startswith('"'):
            if section in (None, "comment"):
                raise ValueError(f"line {lineno}: a string continues nothing")
            cur[section] += ast.literal_eval(line)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgid" and section not in (None, "comment"):
            flush()
        if keyword not in ("msgid", "msgid_plural", "msgstr", "msgctxt") and not keyword.startswith("msgstr["):
            raise ValueError(f"line {lineno}: unknown keyword {keyword!r}")
        if keyword == "msgctxt":
            raise ValueError(f"line {lineno}: msgctxt is not used by envcheck's catalogs")
        section = keyword
        cur[section] = ast.literal_eval(rest.strip())
    flush()
    return entries


def build_mo(entries: dict) -> bytes:
    keys = sorted(entries)
    ids = [k.encode("utf-8") for k in keys]
    strs = [entries[k].encode("utf-8") for k in keys]
    n = len(keys)
    header = 7 * 4
    koffsets_at = header
    voffsets_at = koffsets_at + n * 8
    data_at = voffsets_at + n * 8
    blob = b""
    kpairs, vpairs = [], []
    for b in ids:
        kpairs.append((len(b), data_at + len(blob)))
        blob += b + b"\0"
    for b in strs:
        vpairs.append((len(b), data_at + len(blob)))
        blob += b + b"\0"
    # hash table: none (size 0), its offset the end of the tables, as GNU msgfmt --no-hash writes it
    out = struct.pack("Iiiiiii", 0x950412DE, 0, n, koffsets_at, voffsets_at, 0, data_at)
    out += b"".join(struct.pack("ii", ln, off) for ln, off in kpairs)
    out += b"".join(struct.pack("ii", ln, off) for ln, off in vpairs)
    return out + blob


def compile_file(po_path: str) -> bytes:
    with open(po_path, encoding="utf-8") as fh:
        return build_mo(parse_po(fh.read()))


def default_catalogs() -> list:
    return sorted(glob.glob(os.path.join(ROOT, "envcheck", "locale", "*", "LC_MESSAGES", "*.po")))


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    paths = [a for a in args if a != "--check"] or default_catalogs()
    stale = []
    for po in paths:
        mo = os.path.splitext(po)[0] + ".mo"
        data = compile_file(po)
        if check:
            try:
                with open(mo, "rb") as fh:
                    same = fh.read() == data
            except OSError:
                same = False
            if not same:
                stale.append(mo)
        else:
            with open(mo, "wb") as fh:
                fh.write(data)
            print(f"{os.path.relpath(mo, ROOT)}: {len(parse_po(open(po, encoding='utf-8').read())) - 1} messages")
    for mo in stale:
        print(f"{os.path.relpath(mo, ROOT)} is out of date: run python scripts/compile_po.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
