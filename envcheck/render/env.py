"""Human output of `envcheck create`, `envcheck kernel add|list|check|remove`, and the progress
events (envcheck/workflow/events.py) of every command that changes the machine.

Commands a user may copy are printed on their own lines, outside panels and never wrapped.
Progress goes to stderr: `LineSink` (create, kernel add: `envcheck: ...` lines) and `StepView`
(install --execute: one line per step, a spinner on a terminal). Both dispatch on the event's type.
"""
from __future__ import annotations

import sys

from envcheck.i18n import N_, ngettext, tr
from envcheck.i18n import translate as _
from envcheck.render import LiveLine
from envcheck.render.safe import markup_safe, safe_text, visible
from envcheck.results import Result
from envcheck.workflow import events as ev

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
SEVERITY = {"error": N_("error"), "warning": N_("warning"), "info": N_("info")}


def _console(console=None):
    from envcheck.render import make_console

    return console or make_console()


def _findings(console, findings: list[dict]) -> None:
    from rich.text import Text

    from envcheck.render import Hanging

    for f in findings:  # wrapped at spaces, under the message / under the fix; paths stay whole
        style = _SEVERITY_STYLE.get(f["severity"], "")
        head = Text.assemble((tr(SEVERITY.get(f["severity"], f["severity"])), style), " ", (visible(f["code"]), "dim"), ": ")
        console.print(Hanging(head, safe_text(tr(f["message"]), multiline=True), indent=2), crop=False)
        if f.get("fix"):
            console.print(Hanging("  " + _("fix: "), safe_text(tr(f["fix"]), multiline=True)), crop=False)


def render_create(result: Result, console=None) -> None:
    from rich.text import Text

    from envcheck.render import Hanging

    console = _console(console)
    data = result.data
    plan = data["plan"]
    for warning in data.get("warnings") or []:
        console.print(Hanging(Text.assemble((_("warning"), "yellow"), ": "), safe_text(tr(warning), multiline=True), indent=2),
                      crop=False)
    console.print(Text.assemble(_("backend: "), (visible(plan["backend"]), "bold"), f"  ({visible(tr(plan['backend_why']))})"),
                  highlight=False)
    if plan.get("base_interpreter"):
        console.print(_("base interpreter: {path}").format(path=visible(plan["base_interpreter"])), highlight=False,
                      markup=False)
    if data.get("dry_run"):
        console.print(Text.assemble((_("dry run"), "bold"), _(": nothing was changed. Would run:")), highlight=False)
        for cmd in plan["commands"]:
            console.print(visible(cmd), soft_wrap=True, highlight=False, markup=False)
        if plan.get("replaces"):
            console.print(_("(after moving the existing env {path} aside; it is deleted once the new one works)").format(
                path=visible(plan["replaces"])), highlight=False, markup=False)
        return
    env = data["env"]
    done = (_("replaced {backend} env {name} (Python {python}) in {seconds:.1f} s") if env.get("replaced")
            else _("created {backend} env {name} (Python {python}) in {seconds:.1f} s"))
    console.print(Text.assemble(("✓", "green"), " ", visible(done.format(
        backend=env["backend"], name=env["name"] or env["prefix"], python=env["python_version"], seconds=env["duration_s"]))),
        highlight=False)
    console.print(f"  {_label(_('prefix:'))}{visible(env['prefix'])}", highlight=False, soft_wrap=True, markup=False)
    console.print(f"  {_label('python:')}{visible(env['python'])}", highlight=False, soft_wrap=True, markup=False)
    console.print(f"  {_label(_('log:'))}{visible(env['log_path'])}", highlight=False, soft_wrap=True, markup=False)
    console.print(_("activate with:"), highlight=False)
    console.print(visible(env["activate"]), soft_wrap=True, highlight=False, markup=False)
    if data.get("kernel_command"):
        console.print(_("register it as a Jupyter kernel with:"), highlight=False)
        console.print(visible(data["kernel_command"]), soft_wrap=True, highlight=False, markup=False)


def _label(text: str, width: int = 8) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    from rich.cells import cell_len

    return text + " " * max(1, width - cell_len(text))


def render_kernel_add(result: Result, console=None) -> None:
    from rich.text import Text

    console = _console(console)
    data = result.data
    if data.get("dry_run"):
        state = _("exists (would be replaced with --force)") if data["exists"] else _("new")
        console.print(Text.assemble((_("dry run"), "bold"), visible(_(": nothing was changed. Kernel directory {path} "
                                                                     "({state}).").format(path=data["resource_dir"],
                                                                                           state=state))), highlight=False)
        console.print(_("Would run:"), highlight=False)
        for cmd in data["commands"]:
            console.print(visible(cmd), soft_wrap=True, highlight=False, markup=False)
        return
    k = data["kernel"]
    mark = ("✓", "green") if result.exit_code == 0 else ("✗", "red")
    done = (_("replaced kernel {name} ({display!r}) -> Python {python}") if k["replaced"]
            else _("registered kernel {name} ({display!r}) -> Python {python}"))
    console.print(Text.assemble(mark, " ", visible(done.format(name=k["name"], display=k["display_name"],
                                                               python=k["python_version"]))), highlight=False)
    if k["installed_ipykernel"]:
        console.print("  " + _("installed ipykernel into the target first"), highlight=False)
    console.print(f"  {_label(_('kernelspec:'), 12)}{visible(k['resource_dir'])}", highlight=False, soft_wrap=True,
                  markup=False)
    console.print(f"  {_label(_('launches:'), 12)}{visible(k['argv'][0] if k['argv'] else '?')}", highlight=False, soft_wrap=True,
                  markup=False)
    _findings(console, data.get("findings") or [])


def _kernel_table(console, kernels: list[dict]) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    headers = (_("name"), _("display name"), _("interpreter"), _("status"), _("directory"))
    for col in headers:
        table.add_column(col, no_wrap=True)
    rows = []
    for k in kernels:
        if k["error"]:
            status = "[yellow]" + _("invalid") + "[/]"
        elif k["stale"]:
            status = "[red]" + _("interpreter missing") + "[/]"
        elif k["interpreter"] is None:
            status = "[dim]" + _("not Python") + "[/]"
        else:
            status = "[green]" + _("ok") + "[/]"
        if k["shadowed_by"]:
            status += " [dim]" + _("(shadowed)") + "[/]"
        rows.append((safe_text(k["name"]), safe_text(k["display_name"] or ""),  # issue 14: text, never markup
                     safe_text(k["interpreter"] or (k["argv"][0] if k["argv"] else "")),
                     Text.from_markup(status), safe_text(k["resource_dir"])))
        table.add_row(*rows[-1])
    from rich.cells import cell_len

    widths = [max([cell_len(h)] + [r[i].cell_len for r in rows]) for i, h in enumerate(headers)]
    if sum(widths) + 2 * (len(widths) - 1) <= console.width:  # every cell on one line: the table
        console.print(table)
        return
    for name, display, interpreter, status, directory in rows:  # too wide for one line each: paths whole
        console.print(Text.assemble((name.plain, "bold"), f"  {display.plain}  ", status), crop=False)
        console.print(f"  {_label(_('interpreter:'), 13)}{interpreter.plain}", highlight=False, markup=False, soft_wrap=True)
        console.print(f"  {_label(_('directory:'), 13)}{directory.plain}", highlight=False, markup=False, soft_wrap=True)


def render_kernel_list(result: Result, console=None) -> None:
    console = _console(console)
    kernels = result.data["kernels"]
    if not kernels:
        console.print(_("no Jupyter kernels found. Searched:"), highlight=False)
    else:
        _kernel_table(console, kernels)
        console.print(_("searched, first wins:"), highlight=False)
    for d in result.data["search"]["kernel_dirs"]:
        console.print(f"  {visible(d)}", highlight=False, soft_wrap=True, markup=False)


def render_kernel_check(result: Result, console=None) -> None:
    console = _console(console)
    data = result.data
    findings = data["findings"]
    if data["kernels"]:
        _kernel_table(console, data["kernels"])
    if not findings:
        console.print("[green]✓[/] " + _("{count} kernel(s) checked: every interpreter exists").format(
            count=len(data["kernels"])), highlight=False)
        return
    _findings(console, findings)


def render_kernel_remove(result: Result, console=None) -> None:
    console = _console(console)
    data = result.data
    if data.get("dry_run"):
        console.print("[bold]" + _("dry run") + "[/]" + _(": would delete:"), highlight=False)
        for d in data["would_remove"]:
            console.print(f"  {visible(d)}", highlight=False, soft_wrap=True, markup=False)
        return
    for d in data["removed"]:
        console.print("[green]✓[/] " + markup_safe(_("removed {path}").format(path=d)), highlight=False, soft_wrap=True)
    for d in data.get("remaining") or []:
        console.print(visible("  " + _("note: another kernel named {name} remains at {path} (now Jupyter uses it; --all "
                                       "removes every copy)").format(name=data["name"], path=d)), highlight=False,
                      soft_wrap=True, markup=False)


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

        self._progress = LiveLine(make_console(file=stream), _("running {command}").format(command=command))

    def emit(self, event: ev.Event) -> None:
        if isinstance(event, ev.LogOpened):
            self._say(_("log: {path}").format(path=event.path))
        elif isinstance(event, ev.CommandStarted):
            self._say(_("running: {command}").format(command=event.command))
            self._start(event.command)
        elif isinstance(event, ev.CommandEnded):
            how = (_("done in {seconds:.1f} s") if event.returncode == 0 else _("stopped after {seconds:.1f} s")
                   if event.returncode is None else _("failed (exit status {code}) in {seconds:.1f} s"))
            self._say(how.format(seconds=event.duration_s, code=event.returncode))
        elif isinstance(event, ev.ToolLine):  # the tool's output goes to the log file; a terminal shows the latest
            if self._progress is not None:
                self._progress.line(event.line)
        elif isinstance(event, ev.Note):
            self._say(tr(event.text))
        elif isinstance(event, ev.Warn):
            self._say(_("warning: {text}").format(text=tr(event.text)))
        elif isinstance(event, ev.FailureTail):
            for line in event.lines:
                self._say(f"  | {line}")
        elif isinstance(event, ev.StepStarted):
            self._say(f"[{event.index}/{event.total}] {tr(event.title)}")
        elif isinstance(event, ev.StepEnded):
            self._say(f"[{event.index}/{event.total}] {event.step_id}: " + _("{status} in {seconds:.1f} s").format(
                status=tr(STATUS.get(event.status, event.status)), seconds=event.wall_s))

    def close(self) -> None:
        self._stop()


STATUS = {"ok": N_("ok"), "fail": N_("failed"), "interrupted": N_("interrupted"), "skip": N_("skipped")}
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
        more = " " + _("(+{count} more like it in the log)").format(count=self._held) if self._held else ""
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
            self.console.print(visible(_("envcheck: tool output goes to {path}").format(path=event.path)), style="dim",
                               soft_wrap=True, markup=False)
        elif isinstance(event, ev.StepStarted):
            self._stop_live()
            title = visible(tr(event.title))
            self.console.print(Text.assemble((f"[{event.index}/{event.total}]", "bold"), f" {title} …"), highlight=False)
            self._step, self._warned_at, self._held = event.step_id, None, 0
            if event.step_id != "verify":  # verify has its own live view (one line per check)
                self._start_live(f"[{event.index}/{event.total}] {title}")
        elif isinstance(event, ev.ToolLine):
            if event.warning and self._progress is None and self._step not in (None, "verify"):
                self._tool_warning(event)
            if self._progress is not None:
                self._progress.line(event.line)
        elif isinstance(event, ev.CommandStarted):
            self.console.print("    $ " + visible(event.command), style="dim", soft_wrap=True, markup=False,
                               highlight=False)
        elif isinstance(event, ev.Note):
            self.console.print("    " + visible(tr(event.text)), style="dim", soft_wrap=True, markup=False, highlight=False)
        elif isinstance(event, ev.Warn):
            self.console.print(Text.assemble((_("warning"), "yellow"), ": " + visible(tr(event.text))), soft_wrap=True)
        elif isinstance(event, ev.FailureTail):
            self._stop_live()
            self.console.print("  " + _("last lines of the log:"), style="bold red")
            for line in event.lines:
                self.console.print(f"  | {visible(line)}", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, ev.StepEnded):
            self._stop_live()
            if self._held:
                self.console.print("    " + ngettext("({count} more such line in the log)", "({count} more such lines in the log)",
                                                         self._held).format(count=self._held), style="dim",
                                   highlight=False)
            self._step, self._held = None, 0
            mark, style = _MARKS.get(event.status, _MARKS["fail"])
            line = Text()
            line.append(f"  {mark} ", style=style)
            line.append(f"[{event.index}/{event.total}] {visible(event.step_id)}", style="bold")
            line.append(f"  {event.wall_s:.1f} s", style="cyan")
            if event.tool_s:
                line.append(" " + _("(tools {seconds:.1f} s)").format(seconds=event.tool_s), style="dim")
            if event.note:
                line.append(f"  {visible(tr(event.note))}", style="dim")
            self.console.print(line, soft_wrap=True)

    def verify_listener(self):
        from envcheck.render.verify import LiveView

        return LiveView(stderr=True)

    def close(self) -> None:
        self._stop_live()
