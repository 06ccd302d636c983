"""Typed progress events. Commands emit them; render/env.py draws them (no string parsing anywhere).

Everything here goes to stderr in the CLI. A Sink receives events; the base class ignores them, so
library callers and tests need nothing, and `Recorder` keeps them for assertions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union


@dataclass(frozen=True)
class LogOpened:
    path: str


@dataclass(frozen=True)
class StepStarted:
    index: int
    total: int
    step_id: str
    title: str
    commands: tuple[str, ...]


@dataclass(frozen=True)
class StepEnded:
    index: int
    total: int
    step_id: str
    status: str  # ok | fail | interrupted | skip
    wall_s: float
    tool_s: float
    note: str = ""


@dataclass(frozen=True)
class CommandStarted:
    """A tool is about to run (its shell-quoted command line)."""

    command: str


@dataclass(frozen=True)
class CommandEnded:
    """The tool of the last CommandStarted finished (returncode None: it did not exit by itself)."""

    command: str
    returncode: int | None
    duration_s: float


@dataclass(frozen=True)
class ToolLine:
    """One line of a running tool's output (it also goes to the log). `warning`: a line a person should
    see as it comes even where the output is piped (pip retrying an index: workflow/hints.is_retry_warning);
    `elapsed_s`: seconds since the step started."""

    line: str
    warning: bool = False
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Warn:
    text: str


@dataclass(frozen=True)
class FailureTail:
    """The failing tool's last log lines, shown once."""

    lines: tuple[str, ...]


Event = Union[LogOpened, StepStarted, StepEnded, CommandStarted, CommandEnded, ToolLine, Note, Warn, FailureTail]


class Sink:
    """Receives events. Subclasses override `emit`; `verify_listener` may return a verify LiveView."""

    def emit(self, event: Event) -> None:  # noqa: B027 - deliberately a no-op default
        pass

    def verify_listener(self):
        return None

    def close(self) -> None:  # noqa: B027
        pass


class Recorder(Sink):
    """Keeps every event (tests, library callers that want to inspect progress)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)


class CallbackSink(Sink):
    def __init__(self, callback: Callable[[Event], None]) -> None:
        self.callback = callback

    def emit(self, event: Event) -> None:
        self.callback(event)


NULL = Sink()
