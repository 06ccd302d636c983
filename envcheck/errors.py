"""The one exception type and the exit codes every command shares (docs/reference/exit-codes.md)."""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes. Documented in docs/reference/exit-codes.md and `envcheck --help`; CI relies on them."""

    OK = 0
    PROBLEMS = 1  # doctor error-severity finding, failed verification check
    USAGE = 2  # usage error or invalid input
    NO_COMPATIBLE_BUILD = 3  # the resolver found no torch build for the request
    TARGET_NOT_FOUND = 4  # env, interpreter or kernel not found
    TOOL_FAILED = 5  # an external tool failed or timed out
    INTERNAL = 70  # a bug in envcheck (sysexits.h EX_SOFTWARE); the traceback is saved in the log dir
    INTERRUPTED = 130  # Ctrl-C


class Msg(str):
    """A message whose value is its English text and which remembers how it was made.

    `Msg("torch is not installed in {python}.", python=py)` == "torch is not installed in /usr/bin/python3."
    for everything that treats it as a str (JSON, tests, logs); `envcheck.i18n.tr(msg)` renders the template's
    translation with the same parameters. Parameters may be Msg themselves (translated in turn).
    """

    __slots__ = ("msgid", "params")

    def __new__(cls, msgid: str, **params):
        self = super().__new__(cls, msgid.format(**params) if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self):  # copy/pickle keep the template, not only the English text
        return (_make_msg, (self.msgid, dict(self.params)))


def _make_msg(msgid: str, params: dict) -> Msg:
    return Msg.__new__(Msg, msgid, **params)


def joined(items, sep: str = "; ") -> Msg:
    """`sep.join(items)` as a Msg whose items are translated one by one (probe reasons, for instance)."""
    items = list(items)
    template = sep.replace("{", "{{").replace("}", "}}").join("{i%d}" % n for n in range(len(items)))
    return Msg.__new__(Msg, template, **{"i%d" % n: item for n, item in enumerate(items)})


class EnvcheckError(Exception):
    """An error a user can act on: a one-line message, a hint naming the fix, an exit code.

    `message` and `hint` are usually `Msg` templates: English in JSON, translated by the human output.
    `code` is a stable kebab-case identifier that lands in the JSON envelope's `errors`.
    `data` optionally carries structured detail for the envelope (e.g. nearest alternatives).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        exit_code: ExitCode = ExitCode.USAGE,
        code: str = "error",
        data: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = ExitCode(exit_code)
        self.code = code
        self.data = data or {}

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "hint": self.hint}


def usage_error(message: str, hint: str | None = None, code: str = "invalid-input") -> EnvcheckError:
    return EnvcheckError(message, hint=hint, exit_code=ExitCode.USAGE, code=code)
