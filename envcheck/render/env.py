"""Human output of `envcheck create`, `envcheck kernel add|list|check|remove`, and the progress
events (envcheck/workflow/events.py) of every command that changes the machine.

Commands a user may copy are printed on their own lines, outside panels and never wrapped.
Progress goes to stderr: `LineSink` (create, kernel add: `envcheck: ...` lines) and `StepView`
(install --execute: one line per step, a spinner on a terminal). Both dispatch on the event's type.
"""
from __future__ import annotations

import sys

from envcheck.render import LiveLine
from envcheck.render.safe import markup_safe, safe_text, visible
from envcheck.results import Result
from envcheck.workflow import events as ev

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _console(console=None):
    from envcheck.render import make_console

    return console or make_console()


def _findings(console, findings: list[dict]) -> None:
    from rich.text import Text

    from envcheck.render import Hanging

    for f in findings:  # wrapped at spaces, under the message / under the fix; paths stay whole
        style = _SEVERITY_STYLE.get(f["severity"], "")
        head = Text.assemble((f["severity"], style), " ", (visible(f["code"]), "dim"), ": ")
        console.print(Hanging(head, safe_text(f["message"], multiline=True), indent=2), crop=False)
        if f.get("fix"):
            console.print(Hanging("  fix: ", safe_text(f["fix"], multiline=True)), crop=False)


def render_create(result: Result, console=None) -> None:
    from rich.text import Text

    from envcheck.render import Hanging

    console = _console(console)
    data = result.data
    plan = data["plan"]
    for warning in data.get("warnings") or []:
        console.print(Hanging(Text.assemble(("warning", "yellow"), ": "), warning, indent=2), crop=False)
    console.print(f"backend: [bold]{markup_safe(plan['backend'])}[/]  ({markup_safe(plan['backend_why'])})", highlight=False)
    if plan.get("base_interpreter"):
        console.print(f"base interpreter: {visible(plan['base_interpreter'])}", highlight=False, markup=False)
    if data.get("dry_run"):
        console.print("[bold]dry run[/]: nothing was changed. Would run:", highlight=False)
        for cmd in plan["commands"]:
            console.print(visible(cmd), soft_wrap=True, highlight=False, markup=False)
        if plan.get("replaces"):
            console.print(f"(after moving the existing env {visible(plan['replaces'])} aside; it is deleted once the new "
                          "one works)", highlight=False, markup=False)
        return
    env = data["env"]
    verb = "replaced" if env.get("replaced") else "created"
    console.print(
        f"[green]✓[/] {verb} {markup_safe(env['backend'])} env [bold]{markup_safe(env['name'] or env['prefix'])}[/] "
        f"(Python {env['python_version']}) in {env['duration_s']:.1f} s",
        highlight=False,
    )
    console.print(f"  prefix: {visible(env['prefix'])}", highlight=False, soft_wrap=True, markup=False)
    console.print(f"  python: {visible(env['python'])}", highlight=False, soft_wrap=True, markup=False)
    console.print(f"  log:    {visible(env['log_path'])}", highlight=False, soft_wrap=True, markup=False)
    console.print("activate with:", highlight=False)
    console.print(visible(env["activate"]), soft_wrap=True, highlight=False, markup=False)
    if data.get("kernel_command"):
        console.print("register it as a Jupyter kernel with:", highlight=False)
        console.print(visible(data["kernel_command"]), soft_wrap=True, highlight=False, markup=False)


def render_kernel_add(result: Result, console=None) -> None:
    console = _console(console)
    data = result.data
    if data.get("dry_run"):
        state = "exists (would be replaced with --force)" if data["exists"] else "new"
        console.print(f"[bold]dry run[/]: nothing was changed. Kernel directory {markup_safe(data['resource_dir'])} "
                      f"({state}).", highlight=False)
        console.print("Would run:", highlight=False)
        for cmd in data["commands"]:
            console.print(visible(cmd), soft_wrap=True, highlight=False, markup=False)
        return
    k = data["kernel"]
    mark = "[green]✓[/]" if result.exit_code == 0 else "[red]✗[/]"
    verb = "replaced" if k["replaced"] else "registered"
    console.print(f"{mark} {verb} kernel [bold]{markup_safe(k['name'])}[/] ({markup_safe(repr(k['display_name']))}) -> "
                  f"Python {markup_safe(k['python_version'])}", highlight=False)
    if k["installed_ipykernel"]:
        console.print("  installed ipykernel into the target first", highlight=False)
    console.print(f"  kernelspec: {visible(k['resource_dir'])}", highlight=False, soft_wrap=True, markup=False)
    console.print(f"  launches:   {visible(k['argv'][0] if k['argv'] else '?')}", highlight=False, soft_wrap=True,
                  markup=False)
    _findings(console, data.get("findings") or [])


def _kernel_table(console, kernels: list[dict]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("name", "display name", "interpreter", "status", "directory"):
        table.add_column(col, no_wrap=True)
    rows = []
    for k in kernels:
        if k["error"]:
            status = "[yellow]invalid[/]"
        elif k["stale"]:
            status = "[red]interpreter missing[/]"
        elif k["interpreter"] is None:
            status = "[dim]not Python[/]"
        else:
            status = "[green]ok[/]"
        if k["shadowed_by"]:
            status += " [dim](shadowed)[/]"
        rows.append((safe_text(k["name"]), safe_text(k["display_name"] or ""),  # issue 14: text, never markup
                     safe_text(k["interpreter"] or (k["argv"][0] if k["argv"] else "")),
                     Text.from_markup(status), safe_text(k["resource_dir"])))
        table.add_row(*rows[-1])
    widths = [max([len(h)] + [r[i].cell_len for r in rows]) for i, h in enumerate(("name", "display name", "interpreter",
                                                                                  "status", "directory"))]
    if sum(widths) + 2 * (len(widths) - 1) <= console.width:  # every cell on one line: the table
        console.print(table)
        return
    for name, display, interpreter, status, directory in rows:  # too wide for one line each: paths whole
        console.print(Text.assemble((name.plain, "bold"), f"  {display.plain}  ", status), crop=False)
        console.print(f"  interpreter: {interpreter.plain}", highlight=False, markup=False, soft_wrap=True)
        console.print(f"  directory:   {directory.plain}", highlight=False, markup=False, soft_wrap=True)


def render_kernel_list(result: Result, console=None) -> None:
    console = _console(console)
    kernels = result.data["kernels"]
    if not kernels:
        console.print("no Jupyter kernels found. Searched:", highlight=False)
    else:
        _kernel_table(console, kernels)
        console.print("searched, first wins:", highlight=False)
    for d in result.data["search"]["kernel_dirs"]:
        console.print(f"  {visible(d)}", highlight=False, soft_wrap=True, markup=False)


def render_kernel_check(result: Result, console=None) -> None:
    console = _console(console)
    data = result.data
    findings = data["findings"]
    if data["kernels"]:
        _kernel_table(console, data["kernels"])
    if not findings:
        console.print(f"[green]✓[/] {len(data['kernels'])} kernel(s) checked: every interpreter exists", highlight=False)
        return
    _findings(console, findings)


def render_kernel_remove(result: Result, console=None) -> None:
    console = _console(console)
    data = result.data
    if data.get("dry_run"):
        console.print("[bold]dry run[/]: would delete:", highlight=False)
        for d in data["would_remove"]:
            console.print(f"  {visible(d)}", highlight=False, soft_wrap=True, markup=False)
        return
    for d in data["removed"]:
        console.print(f"[green]✓[/] removed {markup_safe(d)}", highlight=False, soft_wrap=True)
    for d in data.get("remaining") or []:
        console.print(visible(f"  note: another kernel named {data['name']} remains at {d} (now Jupyter uses it; "
                              "--all removes every copy)"), highlight=False, soft_wrap=True, markup=False)


# --- progress events ------------------------------------------------------------------------------


class LineSink(ev.Sink):
    """`envcheck: ...` lines on stderr, flushed at once (create, kernel add).

    A tool that runs (pip/uv/conda/ipykernel) gets a start line and an end line with its time; between
    them a terminal shows a spinner with the elapsed time; a pipe or log gets only the two lines.
    """

    def __init__(self, stream=None) -> None:
        self.stream = stream
        self._progress = None

    def _say(self, text: str) -> None:
        self._stop()
        try:
            print(f"envcheck: {visible(text)}", file=self.stream or sys.stderr, flush=True)
        except (OSError, ValueError):  # stderr closed or full: progress is not worth failing the run for
            pass

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def _start(self, command: str) -> None:
        stream = self.stream or sys.stderr
        if not getattr(stream, "isatty", lambda: False)():
            return
        from envcheck.render import make_console

        self._progress = LiveLine(make_console(file=stream), f"running {command}")

    def emit(self, event: ev.Event) -> None:
        if isinstance(event, ev.LogOpened):
            self._say(f"log: {event.path}")
        elif isinstance(event, ev.CommandStarted):
            self._say(f"running: {event.command}")
            self._start(event.command)
        elif isinstance(event, ev.CommandEnded):
            how = "done" if event.returncode == 0 else (
                "stopped" if event.returncode is None else f"failed (exit status {event.returncode})")
            self._say(f"{how} in {event.duration_s:.1f} s")
        elif isinstance(event, ev.ToolLine):  # the tool's output goes to the log file; a terminal shows the latest
            if self._progress is not None:
                self._progress.line(event.line)
        elif isinstance(event, ev.Note):
            self._say(event.text)
        elif isinstance(event, ev.Warn):
            self._say(f"warning: {event.text}")
        elif isinstance(event, ev.FailureTail):
            for line in event.lines:
                self._say(f"  | {line}")
        elif isinstance(event, ev.StepStarted):
            self._say(f"[{event.index}/{event.total}] {event.title}")
        elif isinstance(event, ev.StepEnded):
            self._say(f"[{event.index}/{event.total}] {event.step_id}: {event.status} in {event.wall_s:.1f} s")

    def close(self) -> None:
        self._stop()


_MARKS = {"ok": ("✓", "green"), "fail": ("✗", "bold red"), "interrupted": ("■", "yellow"), "skip": ("–", "yellow")}


class StepView(ev.Sink):
    """Progress of `install --execute` on stderr: one line per step with its elapsed time.

    On a terminal the running step shows a spinner, its elapsed time and the tool's latest output
    line; elsewhere (CI logs, --json) plain lines. Tool output itself goes to the log file only, except
    the lines flagged `warning` (pip retrying an unreachable index): where no spinner shows them they are
    printed as they come with the step's elapsed time, at most one per WARN_EVERY_S of it.
    """

    WARN_EVERY_S = 10.0

    def __init__(self, console=None) -> None:
        from envcheck.render import make_console

        self.console = console or make_console(stderr=True)
        self._progress = None
        self._step = None
        self._warned_at: float | None = None
        self._held = 0

    def _tool_warning(self, event: ev.ToolLine) -> None:
        if self._warned_at is not None and event.elapsed_s - self._warned_at < self.WARN_EVERY_S:
            self._held += 1
            return
        more = f" (+{self._held} more like it in the log)" if self._held else ""
        self.console.print(f"    … {event.elapsed_s:.1f} s: {visible(event.line.strip())}{more}", style="yellow",
                           soft_wrap=True, markup=False, highlight=False)
        self._warned_at, self._held = event.elapsed_s, 0

    def _start_live(self, text: str) -> None:
        if not self.console.is_terminal:
            return
        self._progress = LiveLine(self.console, text)

    def _stop_live(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def emit(self, event: ev.Event) -> None:
        from rich.text import Text

        if isinstance(event, ev.LogOpened):
            self.console.print(visible(f"envcheck: tool output goes to {event.path}"), style="dim", soft_wrap=True,
                               markup=False)
        elif isinstance(event, ev.StepStarted):
            self._stop_live()
            self.console.print(f"[bold]\\[{event.index}/{event.total}][/] {markup_safe(event.title)} …", highlight=False)
            self._step, self._warned_at, self._held = event.step_id, None, 0
            if event.step_id != "verify":  # verify has its own live view (one line per check)
                self._start_live(f"[{event.index}/{event.total}] {event.title}")
        elif isinstance(event, ev.ToolLine):
            if event.warning and self._progress is None and self._step not in (None, "verify"):
                self._tool_warning(event)
            if self._progress is not None:
                self._progress.line(event.line)
        elif isinstance(event, ev.CommandStarted):
            self.console.print("    $ " + visible(event.command), style="dim", soft_wrap=True, markup=False,
                               highlight=False)
        elif isinstance(event, ev.Note):
            self.console.print("    " + visible(event.text), style="dim", soft_wrap=True, markup=False, highlight=False)
        elif isinstance(event, ev.Warn):
            self.console.print(Text.assemble(("warning", "yellow"), ": " + visible(event.text)), soft_wrap=True)
        elif isinstance(event, ev.FailureTail):
            self._stop_live()
            self.console.print("  last lines of the log:", style="bold red")
            for line in event.lines:
                self.console.print(f"  | {visible(line)}", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, ev.StepEnded):
            self._stop_live()
            if self._held:
                self.console.print(f"    ({self._held} more such lines in the log)", style="dim", highlight=False)
            self._step, self._held = None, 0
            mark, style = _MARKS.get(event.status, _MARKS["fail"])
            line = Text()
            line.append(f"  {mark} ", style=style)
            line.append(f"[{event.index}/{event.total}] {visible(event.step_id)}", style="bold")
            line.append(f"  {event.wall_s:.1f} s", style="cyan")
            if event.tool_s:
                line.append(f" (tools {event.tool_s:.1f} s)", style="dim")
            if event.note:
                line.append(f"  {visible(event.note)}", style="dim")
            self.console.print(line, soft_wrap=True)

    def verify_listener(self):
        from envcheck.render.verify import LiveView

        return LiveView(stderr=True)

    def close(self) -> None:
        self._stop_live()
