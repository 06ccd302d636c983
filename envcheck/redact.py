"""The ONE masking function for secrets inside URLs (issue 14): every output path uses it.

`redact(text)` masks, anywhere in a string (several URLs in one line included):

- userinfo:        `https://user:pass@host/x` -> `https://user:****@host/x`;
                   a bare token as user name, `https://TOKEN@host/x` -> `https://****@host/x`
                   (pip's own redact_auth_from_url does the same: pip/_internal/utils/misc.py);
- conda tokens:    `https://conda.anaconda.org/t/<TOKEN>/channel` -> `.../t/****/channel`
                   (conda's channel token form: conda/common/url.py, `/t/<token>/` after the host);
- query secrets:   `?token=...`, `&access_token=...`, `api_key`, `password`, `secret`, `auth`,
                   `signature`/`sig` (presigned object-store URLs), ... -> `?token=****`.

Pure, fast, idempotent (`redact(redact(s)) == redact(s)`), never raises. It is also applied to every
JSON envelope (render/json.py), every error line (cli.py) and every untrusted string rendered by
render/safe.py; the log writer calls it on each line it writes.
"""
from __future__ import annotations

import re
from typing import Any

MASK = "****"

# scheme://userinfo@ : the userinfo runs to the LAST '@' before the authority ends ('/', '?', '#',
# whitespace), so a password holding a raw '@' is still masked whole.
# Every repetition is bounded (a scheme of at most 32 characters, userinfo and host of at most 512) so
# hostile text such as 'a.a.a.a...://' stays linear instead of quadratic.
_SCHEME = r"\b[a-zA-Z][a-zA-Z0-9+.\-]{0,31}://"
_USERINFO = re.compile(r"(?P<scheme>" + _SCHEME + r")(?P<userinfo>[^/\s?#]{0,512})@(?=[^/\s?#@])")

# conda's token segment, only inside a URL (a local path such as /home/t/x is left alone).
_CONDA_TOKEN = re.compile(r"(?P<head>" + _SCHEME + r"[^/\s]{1,512})/t/(?P<token>[^/\s?#]+)")

# query/fragment/matrix parameters whose name says "secret"
_SECRET_NAME = (
    r"[\w.\-]*(?:token|secret|passw(?:or)?d|pwd|api[_\-]?key|apikey|credential|signature)[\w.\-]*"
    r"|auth|authorization|key|sig|session|sessionid"
)
_QUERY_SECRET = re.compile(r"(?P<head>[?&;#](?:" + _SECRET_NAME + r")=)(?P<value>[^&;#\s\"'<>]*)", re.IGNORECASE)


def _userinfo(m: re.Match) -> str:
    info = m.group("userinfo")
    if not info or info == MASK:
        return m.group(0)
    user, sep, _password = info.partition(":")
    if sep:
        return f"{m.group('scheme')}{user}:{MASK}@"
    return f"{m.group('scheme')}{MASK}@"


def redact(text: str) -> str:
    """Mask credentials in every URL inside `text` (see the module docstring). Non-strings pass through."""
    if not isinstance(text, str) or not text:
        return text
    if "://" in text:
        text = _USERINFO.sub(_userinfo, text)
        text = _CONDA_TOKEN.sub(lambda m: f"{m.group('head')}/t/{MASK}", text)
    if "=" in text:
        text = _QUERY_SECRET.sub(lambda m: m.group("head") + (MASK if m.group("value") else ""), text)
    return text


def redact_any(value: Any) -> Any:
    """`redact` applied to every string inside nested dicts/lists/tuples (keys included)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_any(k): redact_any(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_any(v) for v in value]
    return value
