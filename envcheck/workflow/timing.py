"""envcheck's own time vs the tools' time: a Runner that books each subprocess to the running step."""
from __future__ import annotations

import os
import threading
import time
from typing import Callable, Sequence

from envcheck.runner import Completed, Runner


class TimedRunner(Runner):
    """Delegates to a Runner and adds each call's duration to `step` (the step that is running).

    Streamed tool output is also forwarded to `on_line` (non-blank lines), e.g. a progress sink.
    """

    def __init__(self, inner: Runner, on_line: Callable[[str], None] | None = None) -> None:
        self.inner = inner
        self.on_line = on_line
        self.step = "plan"
        self.tool_s: dict[str, float] = {}
        self.calls: list[tuple[str, str, float]] = []  # (step, tool, seconds)
        self._lock = threading.Lock()

    def _add(self, seconds: float, tool: str | None = None) -> None:
        with self._lock:
            self.tool_s[self.step] = self.tool_s.get(self.step, 0.0) + seconds
            if tool is not None:
                self.calls.append((self.step, tool, seconds))

    def _record(self, done: Completed) -> None:
        self._add(done.duration_s, os.path.basename(done.argv[0]) if done.argv else "?")

    def run(self, argv, **kwargs) -> Completed:
        done = self.inner.run(argv, **kwargs)
        self._record(done)
        return done

    def stream(self, argv, **kwargs) -> Completed:
        outer = kwargs.pop("on_line", None)
        mine = self.on_line

        def on_line(line: str) -> None:
            if outer is not None:
                outer(line)
            if mine is not None and line.strip():
                mine(line)

        start = time.monotonic()
        try:
            done = self.inner.stream(argv, on_line=on_line, **kwargs)
        except BaseException:  # Ctrl-C: the time spent still counts
            self._add(time.monotonic() - start)
            raise
        self._record(done)
        return done


def timing_split(wall_s: float, steps: Sequence[dict]) -> dict:
    """The split of the wall time (pure): tool time per step, and envcheck's own (the rest).

    Each step dict has `id`, `wall_s` and `tool_s` (its subprocesses' time, which can exceed the step's
    wall time only when calls overlap: clamped). envcheck's own time is everything else, including the
    planning before the first step (resolving, interpreter discovery and its read-only probes).
    """
    tools = {}
    tool_total = 0.0
    for s in steps:
        t = min(max(s.get("tool_s", 0.0), 0.0), max(s.get("wall_s", 0.0), 0.0))
        tools[s["id"]] = round(t, 3)
        tool_total += t
    package = sum(tools.get(k, 0.0) for k in ("create", "install", "kernel"))
    own = max(wall_s - tool_total, 0.0)
    return {
        "wall_s": round(wall_s, 3),
        "tools_s": round(tool_total, 3),
        "package_tools_s": round(package, 3),
        "verify_s": tools.get("verify", 0.0),
        "envcheck_s": round(own, 3),
        "envcheck_fraction": round(own / wall_s, 4) if wall_s > 0 else 0.0,
        "by_step": tools,
    }
