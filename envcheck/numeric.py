"""The one strict check for numbers a user types (issue 14): ASCII digits only, bounded length.

Python's `\\d` and `int()` accept any Unicode digit ('５８０' == 580) and `int()` refuses more than
4,300 digits with a ValueError, so `--driver ５８０` or a 5,000-digit `--cuda` used to end as
"internal error". Every parser of a version-like number (--driver, --cuda, --gpu-cc, --python X.Y,
ENVCHECK_OVERRIDE_DRIVER / ENVCHECK_OVERRIDE_CUDA) calls `ascii_number_text` first; it raises the
usual exit-2 error, so its callers' regular expressions then only ever see short ASCII text.
"""
from __future__ import annotations

from envcheck.errors import EnvcheckError, Msg

# The longest real inputs: a driver '535.104.05' (10), a CUDA '12.4.1', a CC 'sm_100'. 32 is generous.
MAX_NUMBER_CHARS = 32


def ascii_number_text(text: str, what: str, example: str) -> str:
    """`text` stripped, or exit 2 (code invalid-number) when it holds a non-ASCII character (a
    full-width or Arabic-Indic digit) or is longer than MAX_NUMBER_CHARS (pure)."""
    stripped = (text or "").strip()
    if not stripped.isascii() or len(stripped) > MAX_NUMBER_CHARS:
        shown = stripped if len(stripped) <= MAX_NUMBER_CHARS else stripped[:MAX_NUMBER_CHARS] + "…"
        why = "use ASCII digits 0-9" if not stripped.isascii() else f"longer than {MAX_NUMBER_CHARS} characters"
        raise EnvcheckError(
            Msg("invalid {what} {shown!r}: {why}", what=what, shown=shown, why=why),
            hint=f"e.g. {what} {example}" if what.startswith("--") else f"e.g. {what}={example}",
            code="invalid-number",
        )
    return stripped
