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


class EnvcheckError(Exception):
    """An error a user can act on: a one-line message, a hint naming the fix, an exit code.

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
