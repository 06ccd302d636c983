"""Untrusted strings on a terminal (issue 14): paths, names, kernelspec fields, tool output.

Every such string is shown as TEXT, never as rich markup (`[v2]` in a path stays `[v2]`, `[/]` cannot
crash the renderer), with control characters made visible (`\\x1b[2J` cannot clear the screen, a BEL
cannot ring, a CR cannot overwrite what was printed, a bidi override cannot reorder the line) and with
URL secrets masked (envcheck.redact).

- `visible(value)`     -> str:  the text with controls escaped and secrets masked (pure);
- `visible_lines(value)` -> str: the same, line by line (newlines kept);
- `safe_text(value)`   -> rich Text (never parsed as markup), optionally styled;
- `markup_safe(value)` -> str for interpolation INSIDE a markup string (`f"[bold]{markup_safe(p)}[/]"`);
- `plain_lines(data)`  -> the plain-text fallback when a report cannot be rendered.

rich itself strips only BEL, BS, VT, FF and CR from Text (rich/control.py STRIP_CONTROL_CODES) and
passes ESC through, hence the escaping here.
"""
from __future__ import annotations

from typing import Any, Iterator

from envcheck.redact import redact

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Unicode bidirectional controls (the "Trojan Source" characters, CVE-2021-42574) and the like.
_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if code < 0x20 or 0x7F <= code <= 0x9F:  # C0, DEL, C1 (0x9B is a one-byte CSI)
        return f"\\x{code:02x}"
    if code in _BIDI or 0xD800 <= code <= 0xDFFF:  # bidi controls; lone surrogates (non-UTF-8 file names)
        return f"\\u{code:04x}"
    return ch


def visible(value: Any) -> str:
    """`value` as one line of harmless text: control and bidi characters escaped (`\\x1b`, `\\n`),
    URL credentials masked. None becomes ''."""
    if value is None:
        return ""
    text = redact(value if isinstance(value, str) else str(value))
    if text.isprintable() and not any(ord(c) in _BIDI for c in text):  # the usual case (surrogates are
        # not printable, so they take the slow path)
        return text
    return "".join(map(_escape_char, text))


def visible_lines(value: Any) -> str:
    """Like `visible`, but newlines stay newlines (a multi-line question or message of envcheck's own)."""
    return "\n".join(visible(line) for line in ("" if value is None else str(value)).split("\n"))


def safe_text(value: Any, style: str = "", multiline: bool = False) -> "Text":  # noqa: F821 (rich imported lazily)
    """A rich Text of `visible(value)` (`visible_lines` with multiline): rendered literally, never as markup."""
    from rich.text import Text

    return Text(visible_lines(value) if multiline else visible(value), style=style)


def markup_safe(value: Any) -> str:
    """`visible(value)` escaped for use inside a rich markup string."""
    from rich.markup import escape

    return escape(visible(value))


def plain_lines(data: Any, indent: str = "") -> Iterator[str]:
    """A nested result as `key: value` lines of visible text: the fallback when rich cannot render."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, (dict, list, tuple)) and value:
                yield f"{indent}{visible(key)}:"
                yield from plain_lines(value, indent + "  ")
            else:
                yield f"{indent}{visible(key)}: {visible(value)}"
    elif isinstance(data, (list, tuple)):
        for item in data:
            if isinstance(item, (dict, list, tuple)) and item:
                yield f"{indent}-"
                yield from plain_lines(item, indent + "  ")
            else:
                yield f"{indent}- {visible(item)}"
    else:
        yield f"{indent}{visible(data)}"
