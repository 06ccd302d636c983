"""The yes/no question before a command changes the machine.

`confirm` is None when stdin is not a terminal (cli._confirm_if_tty): then only --yes proceeds.
"""
from __future__ import annotations

from typing import Callable, Optional

from envcheck.errors import EnvcheckError, Msg

Confirm = Callable[[str], bool]


def require_consent(question: str, *, yes: bool, confirm: Optional[Confirm], refusal: str,
                    hint: str = Msg("pass --yes to proceed non-interactively (or --dry-run to see the command)")) -> None:
    """Return when the user agreed (or passed --yes); raise EnvcheckError exit 2 otherwise:
    `confirmation-required` without a terminal (`refusal` names what was refused), `cancelled` on no."""
    if yes:
        return
    if confirm is None:
        raise EnvcheckError(Msg("refusing to {refusal} without confirmation: stdin is not a terminal", refusal=refusal),
                            hint=hint, code="confirmation-required")
    if not confirm(question):
        raise EnvcheckError(Msg("cancelled: nothing was changed"), hint=Msg("pass --yes to skip the question"), code="cancelled")
