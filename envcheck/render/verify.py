"""The live view of `envcheck verify`: one line per check as it finishes, a spinner for the running
one (terminals only), then a summary. With --json the same list goes to stderr.

rich is imported lazily (on the first event), so the suite child is already importing torch while
this process loads rich.
"""
from __future__ import annotations

from envcheck.render.safe import markup_safe, safe_text
from envcheck.results import CheckResult

MARKS = {
    "ok": ("✓", "ok", "green"),
    "fail": ("✗", "FAIL", "bold red"),
    "skip": ("–", "skip", "yellow"),
}
ID_WIDTH = 22


def _console(stderr: bool):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def check_line(check: CheckResult):
    """`  ✓ ok    tensor-creation   0.03 s  message` (and `fix: ...` under a failure) as a rich grid
    whose message column wraps under itself, not under the mark (pure)."""
    from rich.table import Table
    from rich.text import Text

    mark, word, style = MARKS.get(check.status, MARKS["fail"])
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=8, no_wrap=True)
    grid.add_column(width=ID_WIDTH, no_wrap=True, overflow="ellipsis")
    grid.add_column(width=8, no_wrap=True, justify="right")
    grid.add_column(overflow="fold")
    message_style = "red" if check.status == "fail" else ("dim" if check.status == "skip" else "")
    grid.add_row(
        Text(f"  {mark} {word}", style=style),
        safe_text(check.id, style="bold" if check.status == "fail" else ""),
        Text(f"{check.duration_s:.2f} s", style="dim"),
        safe_text(check.message, style=message_style, multiline=True),
    )
    if check.status == "fail" and check.fix:
        grid.add_row("", "", "", safe_text(f"fix: {check.fix}", style="cyan", multiline=True))
    return grid


class LiveView:  # implements commands.verify.Listener
    """Prints each check as it ends; shows a spinner with the running check's name meanwhile."""

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._con = None
        self._status = None

    @property
    def console(self):
        if self._con is None:
            self._con = _console(self._stderr)
        return self._con

    def begin(self, interpreter) -> None:
        self._header = f"envcheck verify: {interpreter.path} ({interpreter.why})"
        self._printed_header = False

    def _ensure_header(self) -> None:
        if not getattr(self, "_printed_header", True):
            self.console.print(safe_text(self._header, style="bold"))
            self._printed_header = True

    def target(self, info: dict) -> None:
        self._ensure_header()

    def start(self, check_id: str, name: str) -> None:
        self._ensure_header()
        text = f"[bold]{markup_safe(name)}[/] [dim]({markup_safe(check_id)})[/] …"
        if self._status is None:
            if not self.console.is_terminal:
                return
            self._status = self.console.status(text, spinner="dots")
            self._status.start()
        else:
            self._status.update(text)

    def end(self, check: CheckResult) -> None:
        self._ensure_header()
        self.console.print(check_line(check))

    def restart(self, reason: str) -> None:
        self.console.print(safe_text(f"  ↻ {reason}", style="magenta"))

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def render_summary(result, stderr: bool = False) -> None:
    """The closing lines: counts, wall time, and the target in one line."""
    con = _console(stderr)
    data = result.data
    s = data.get("summary") or {}
    t = data.get("target") or {}
    from rich.text import Text

    line = Text("\n")
    line.append(f"{s.get('ok', 0)} passed", style="green")
    line.append(", ")
    line.append(f"{s.get('failed', 0)} failed", style="bold red" if s.get("failed") else "")
    line.append(", ")
    line.append(f"{s.get('skipped', 0)} skipped", style="yellow" if s.get("skipped") else "")
    line.append(f" in {s.get('wall_s', s.get('duration_s', 0.0)):.2f} s")
    if data.get("children", 1) > 1:
        line.append(f" ({data['children']} suite processes: isolated crashes/hangs)", style="magenta")
    con.print(line)
    parts = [f"Python {t['python_version']}" if t.get("python_version") else None,
             f"torch {t['torch']}" if t.get("torch") else "torch not importable",
             f"{t['build']} build" if t.get("build") else None,
             f"device {t['device']}" if t.get("device") else None]
    con.print(safe_text("target: " + ", ".join(p for p in parts if p), style="dim"))
    if data.get("junit_xml"):
        con.print(safe_text(f"JUnit report: {data['junit_xml']}", style="dim"))
    if s.get("failed"):
        con.print("verification FAILED (exit 1)", style="bold red")
    else:
        con.print("verification passed", style="bold green")
