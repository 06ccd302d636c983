"""What commands return: a typed Result that the JSON and human renderers turn into output."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from envcheck.errors import EnvcheckError, ExitCode


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Status(str, Enum):
    OK = "ok"
    PROBLEMS = "problems"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    """A diagnosis: a stable kebab-case `code` CI can assert on, and a fix a beginner can follow."""

    code: str
    severity: Severity
    message: str
    fix: str | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity.value, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class Result:
    """The outcome of one command.

    `data` is the JSON-ready payload (plain dicts/lists/str/int/float/bool/None).
    `exit_code` decides `status`: 0 -> ok, 1 -> problems, anything else -> error.
    """

    command: str
    exit_code: ExitCode = ExitCode.OK
    data: dict[str, Any] = field(default_factory=dict)
    errors: tuple[EnvcheckError, ...] = ()

    @property
    def status(self) -> Status:
        if self.exit_code == ExitCode.OK:
            return Status.OK
        if self.exit_code == ExitCode.PROBLEMS:
            return Status.PROBLEMS
        return Status.ERROR


@dataclass(frozen=True)
class CheckResult:
    """One `envcheck verify` check's outcome. `fix` is set for failures a user can act on."""

    id: str
    name: str
    status: str
    duration_s: float
    message: str = ""
    fix: str | None = None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "duration_s": self.duration_s,
            "message": self.message,
            "fix": self.fix,
        }


def exit_code_for_findings(findings) -> ExitCode:
    """Error-severity findings make exit code 1; warnings and infos alone never change it."""
    return ExitCode.PROBLEMS if any(f.severity == Severity.ERROR for f in findings) else ExitCode.OK


def summarize_checks(checks) -> dict:
    """Counts of a verification run's checks by status, and their summed time (pure; verify and the
    torchrun path share it)."""
    counts = {"ok": 0, "fail": 0, "skip": 0}
    for c in checks:
        counts[c.status] = counts.get(c.status, 0) + 1
    return {
        "ok": counts["ok"],
        "failed": counts["fail"],
        "skipped": counts["skip"],
        "total": len(checks),
        "duration_s": round(sum(c.duration_s for c in checks), 3),
    }
