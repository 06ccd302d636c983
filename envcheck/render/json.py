"""The versioned JSON envelope: ONE object on stdout, nothing else (progress goes to stderr)."""
from __future__ import annotations

import json
from typing import Any

from envcheck.errors import EnvcheckError
from envcheck.results import Result

RESULT_VERSION = 1


def envelope(result: Result) -> dict[str, Any]:
    return {
        "envcheck_result_version": RESULT_VERSION,
        "command": result.command,
        "status": result.status.value,
        "exit_code": int(result.exit_code),
        "data": result.data,
        "errors": [e.to_dict() for e in result.errors],
    }


def error_envelope(command: str, error: EnvcheckError) -> dict[str, Any]:
    """For errors that happen before any Result exists (bad input, missing target)."""
    return envelope(Result(command=command, exit_code=error.exit_code, data=error.data, errors=(error,)))


def render_json(obj: dict[str, Any]) -> str:
    """The envelope as JSON text, with every URL secret masked (envcheck.redact) wherever it sits:
    --index-url/--find-links/--mirror credentials in plans, argv, errors, tool output."""
    from envcheck.redact import redact_any

    return json.dumps(redact_any(json.loads(json.dumps(obj, default=_default))), indent=2, sort_keys=False)


def _default(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "value"):  # enums
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)
