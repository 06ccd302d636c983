"""Running steps: one logged command, and a step runner in the shape of nox's workflow.

nox (nox/workflow.py `execute`) runs a list of task functions in order and stops at the first that
fails; here each task is a named step whose start and end are emitted as events, whose wall time is
measured and whose tools' time comes from the TimedRunner.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from envcheck.plans.env import Step
from envcheck.runner import Completed, Runner
from envcheck.workflow import logs
from envcheck.workflow.events import NULL, CommandEnded, CommandStarted, Sink, StepEnded, StepStarted, ToolLine
from envcheck.workflow.hints import is_retry_warning
from envcheck.workflow.timing import TimedRunner


def run_logged(runner: Runner, step: Step, log_path: str | None, sink: Sink = NULL) -> Completed:
    """Run one step's argv, streaming its merged output into the log (header line `$ cmd` first)."""
    logs.append(log_path, f"$ {step.display()}")
    sink.emit(CommandStarted(step.display()))
    started = time.monotonic()
    try:
        done = runner.stream(
            step.argv, timeout=step.timeout_s, env=dict(step.env) or None, log_path=log_path, merge_stderr=True
        )
    except BaseException:  # interrupted: the progress display still ends before the error is printed
        sink.emit(CommandEnded(step.display(), None, time.monotonic() - started))
        raise
    sink.emit(CommandEnded(step.display(), done.returncode, done.duration_s or time.monotonic() - started))
    logs.append(log_path, f"# exit status {done.returncode} after {done.duration_s:.1f} s"
                + (f" ({done.describe_failure()})" if not done.ok else ""))
    return done


@dataclass
class StepRecord:
    id: str
    title: str
    commands: list[str]
    status: str = "pending"  # pending | running | ok | fail | interrupted
    wall_s: float = 0.0
    tool_s: float = 0.0
    start: float = field(default=0.0, repr=False)

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "status": self.status, "wall_s": round(self.wall_s, 3),
                "tool_s": round(min(self.tool_s, self.wall_s), 3), "commands": self.commands}


# A task does the step's work and returns (status, note): status "ok" or "fail" (a check failed).
Task = Callable[[StepRecord], "tuple[str, str]"]


class StepRunner:
    def __init__(self, steps: Sequence[tuple[str, str, Sequence[str]]], timed: TimedRunner, sink: Sink = NULL):
        self.records = [StepRecord(i, t, list(c)) for i, t, c in steps]
        self.timed, self.sink = timed, sink
        self.current: StepRecord | None = None

    def record(self, step_id: str) -> StepRecord:
        return next(r for r in self.records if r.id == step_id)

    def begin(self, step_id: str) -> StepRecord:
        rec = self.record(step_id)
        self.timed.step = step_id
        rec.start, rec.status = time.monotonic(), "running"
        self.current = rec
        self.sink.emit(StepStarted(self.records.index(rec) + 1, len(self.records), rec.id, rec.title,
                                   tuple(rec.commands)))
        return rec

    def end(self, rec: StepRecord, status: str, note: str = "") -> None:
        rec.wall_s = time.monotonic() - rec.start
        rec.tool_s = self.timed.tool_s.get(rec.id, 0.0)
        rec.status = status
        self.sink.emit(StepEnded(self.records.index(rec) + 1, len(self.records), rec.id, status, rec.wall_s,
                                 min(rec.tool_s, rec.wall_s), note))
        if self.current is rec:
            self.current = None

    def tool_line(self, line: str) -> None:
        """A running tool's output line -> a ToolLine event (flagged when a person should see it live)."""
        rec = self.current
        elapsed = time.monotonic() - rec.start if rec is not None else 0.0
        self.sink.emit(ToolLine(line, warning=is_retry_warning(line), elapsed_s=elapsed))

    def execute(self, tasks: Sequence[tuple[str, Task]]) -> None:
        """Run the tasks in order. An exception leaves `current` at the step that raised (ended by
        `abort`); the caller rolls back."""
        for step_id, task in tasks:
            rec = self.begin(step_id)
            status, note = task(rec)
            self.end(rec, status, note)

    def abort(self, interrupted: bool) -> StepRecord | None:
        """End the running step as interrupted or failed; return it (None when none was running)."""
        rec = self.current
        if rec is not None and rec.status == "running":
            self.end(rec, "interrupted" if interrupted else "fail")
        return rec

    def to_dicts(self) -> list[dict]:
        return [r.to_dict() for r in self.records]
