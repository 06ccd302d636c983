"""Human output of `envcheck install`: a panel with the choice and why, then the commands.

The commands are printed OUTSIDE the panel, one per line, never wrapped: a panel's border and
wrapping would break a copy-paste.
"""
from __future__ import annotations

from envcheck.render.safe import markup_safe, safe_text, visible
from envcheck.results import Result

ROUTES = {
    "pip": ("venv + pip", [("create", "venv"), ("pip", None), ("kernel", "venv"), ("verify", "venv")]),
    "uv": ("uv", [("create", "uv"), ("uv", None), ("kernel", "venv"), ("verify", "venv")]),
    "conda": ("conda", [("create", "conda"), ("conda", None), ("kernel", "conda"), ("verify", "conda")]),
}


def _route_lines(commands: dict, manager: str) -> list[str]:
    lines = []
    for key, sub in ROUTES[manager][1]:
        value = commands.get(key)
        if sub is not None:
            value = (value or {}).get(sub)
        if manager == "conda" and key == "conda" and value is None:
            value = commands.get("conda_pip")
        if value:
            lines.append(value)
    return lines


def render_install(result: Result, console=None) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    data = result.data
    rec = data["recommendation"]
    commands = rec["commands"]

    body = Text()
    body.append("torch ", style="bold")
    body.append(rec["torch"], style="bold green")
    body.append("   torchvision ")
    body.append(rec["torchvision"], style="green")
    body.append("   torchaudio ")
    body.append(rec["torchaudio"] or "none (no release pairs with it)", style="green" if rec["torchaudio"] else "yellow")
    body.append("   variant ")
    variant = rec["variant"] + (f" (CUDA {rec['cuda']})" if rec.get("cuda") else "")
    body.append(variant, style="bold cyan")
    body.append(f"\nfor Python {rec['python']} on {rec['os']}\n")
    body.append("\nWhy\n", style="bold")
    for reason in rec["reasons"]:
        body.append(f"  • {reason}\n")
    notes = list(rec.get("notes") or []) + [f["message"] for f in data.get("stale") or []]
    if notes:
        body.append("\nNote\n", style="bold yellow")
        for note in notes:
            body.append(f"  • {note}\n")
    inputs = data.get("inputs") or {}
    facts = []
    for key in ("python", "os", "driver", "cuda", "gpu_cc"):
        item = inputs.get(key)
        if not item:
            continue
        value = item["value"]
        if isinstance(value, list):
            value = ", ".join(value) if value else None
        shown = value if value not in (None, "") else f"- ({item.get('reason') or 'unknown'})"
        facts.append(f"{key} {shown} [{item['source']}]" if value not in (None, "") else f"{key} {shown}")
    if facts:
        body.append("\nInputs  ", style="dim")
        body.append("; ".join(facts), style="dim")
        body.append("\n")
    body.append(f"matrix checked {data['matrix']['checked']}", style="dim")
    console.print(Panel(body, title="envcheck install", expand=False))

    manager = data.get("manager")
    routes = [manager] if manager else ["pip", "uv", "conda"]
    for route in routes:
        console.print(f"\n# {ROUTES[route][0]}", style="bold", highlight=False)
        for line in _route_lines(commands, route):
            console.print(visible(line), soft_wrap=True, highlight=False, markup=False)

    if data.get("compatible") is not None:
        table = Table(title="Every compatible build (--all)", show_lines=False)
        for col in ("torch", "variant", "torchvision", "torchaudio", "note"):
            table.add_column(col)
        for c in data["compatible"]:
            table.add_row(c["torch"], c["variant"], c["torchvision"], c["torchaudio"] or "-", "; ".join(c["notes"]))
        console.print()
        console.print(table)

    if data.get("explain"):
        table = Table(title="Rejected candidates (--explain)")
        table.add_column("torch")
        table.add_column("variant")
        table.add_column("reason")
        outside = [r["torch"] for r in data["rejected"] if r["code"] == "torch-spec"]
        for r in data["rejected"]:
            if r["code"] != "torch-spec":
                table.add_row(r["torch"], r["variant"] or "(release)", r["reason"])
        if outside:  # one row, not dozens: releases the --torch spec excludes
            span = outside[0] if len(outside) == 1 else f"{outside[-1]} .. {outside[0]}"
            table.add_row(span, f"({len(outside)} releases)", safe_text(f"do not match --torch {data.get('torch_spec')}"))
        console.print()
        console.print(table)
    elif data.get("rejected"):
        console.print(f"\n{len(data['rejected'])} candidates rejected; --explain lists each with its reason.",
                      style="dim", highlight=False)


# --- install --execute (issue 5): live progress on stderr, then the summary -----------------------

_MARKS = {"ok": ("✓", "green"), "fail": ("✗", "bold red"), "interrupted": ("■", "yellow"), "skip": ("–", "yellow")}


class ExecuteView:
    """Progress of `install --execute` on stderr: one line per step with its elapsed time.

    On a terminal the running step shows a spinner, its elapsed time and the tool's latest output
    line; elsewhere (CI logs, --json) plain lines. Tool output itself goes to the log file only.
    Implements envcheck.commands.install_execute.Display.
    """

    def __init__(self, console=None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True, highlight=False)
        self._progress = None
        self._task = None

    # the live line (terminals only)
    def _start_live(self, text: str) -> None:
        if not self.console.is_terminal:
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[line]}", markup=True), console=self.console, transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task(text, line="")  # text: markup, its parts escaped by the caller

    def _stop_live(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None

    def log_path(self, path: str) -> None:
        self.console.print(visible(f"envcheck: tool output goes to {path}"), style="dim", soft_wrap=True, markup=False)

    def step_start(self, index, total, step_id, title, commands) -> None:
        self._stop_live()
        self.console.print(f"[bold]\\[{index}/{total}][/] {markup_safe(title)} …", highlight=False)
        if step_id != "verify":  # verify has its own live view (one line per check)
            self._start_live(f"\\[{index}/{total}] {markup_safe(title)}")

    def tool_line(self, line: str) -> None:
        if self._progress is not None and self._task is not None:
            text = visible(line.strip())
            self._progress.update(self._task, line=markup_safe(text[:70] + ("…" if len(text) > 70 else "")))

    def detail(self, text: str) -> None:
        if text.startswith("  |"):
            return  # a failing tool's tail: failure_tail() shows it once
        if text.startswith("running: "):
            text = "$ " + text[len("running: "):]
        elif text.startswith("warning: "):
            from rich.text import Text

            self.console.print(Text.assemble(("warning", "yellow"), ": " + visible(text[len("warning: "):])), soft_wrap=True)
            return
        self.console.print("    " + visible(text), style="dim", soft_wrap=True, markup=False, highlight=False)

    def step_end(self, index, total, step_id, status, wall_s, tool_s, note="") -> None:
        self._stop_live()
        mark, style = _MARKS.get(status, _MARKS["fail"])
        from rich.text import Text

        line = Text()
        line.append(f"  {mark} ", style=style)
        line.append(f"[{index}/{total}] {step_id}", style="bold")
        line.append(f"  {wall_s:.1f} s", style="cyan")
        if tool_s:
            line.append(f" (tools {tool_s:.1f} s)", style="dim")
        if note:
            line.append(f"  {visible(note)}", style="dim")
        self.console.print(line, soft_wrap=True)

    def failure_tail(self, lines) -> None:
        self._stop_live()
        self.console.print("  last lines of the log:", style="bold red")
        for line in lines:
            self.console.print(f"  | {visible(line)}", markup=False, highlight=False, soft_wrap=True)

    def verify_listener(self):
        from envcheck.render.verify import LiveView

        return LiveView(stderr=True)

    def close(self) -> None:
        self._stop_live()


def _seconds(value) -> str:
    return f"{value:.1f} s"


def timing_line(timing: dict) -> str:
    """`48.1 s = tools 45.9 s (create 3.1 s, install 33.0 s, ...) + envcheck 2.2 s (4.6%)` (pure)."""
    by = ", ".join(f"{k} {_seconds(v)}" for k, v in (timing.get("by_step") or {}).items())
    return (f"{_seconds(timing['wall_s'])} = tools {_seconds(timing['tools_s'])}" + (f" ({by})" if by else "")
            + f" + envcheck {_seconds(timing['envcheck_s'])} ({timing['envcheck_fraction'] * 100:.1f}%)")


def render_execute_plan(result: Result, console=None) -> None:
    """--dry-run: every command, shell-quoted, one per line (nothing was run)."""
    from rich.console import Console

    console = console or Console()
    data = result.data
    rec = data["recommendation"]
    plan = data["plan"]
    env = plan["env"]
    for warning in data.get("warnings") or []:
        console.print(f"[yellow]warning[/]: {markup_safe(warning)}", highlight=False)
    console.print(f"[bold]dry run[/]: nothing was changed. torch {rec['torch']} ({rec['variant']}) for Python "
                  f"{rec['python']}, backend [bold]{env['backend']}[/]. Would run:", highlight=False, soft_wrap=True)
    if env.get("replaces"):
        console.print(f"(the existing env {markup_safe(env['replaces'])} is moved aside first and deleted once all "
                      "steps pass)", highlight=False)
    kernel = plan.get("kernel")
    if kernel and kernel.get("replaces"):
        console.print(f"(the kernel at {markup_safe(kernel['replaces'])} is replaced)", highlight=False)
    if plan.get("env_python") == "ENV_PYTHON":
        console.print("ENV_PYTHON: the new env's interpreter (conda chooses its directory)", style="dim")
    for i, step in enumerate(plan["steps"], 1):
        console.print(visible(f"# {i}. {step['title']}" + (f"  ({step['note']})" if step.get("note") else "")),
                      style="bold", highlight=False, markup=False, soft_wrap=True)
        for cmd in step["commands"]:
            console.print(visible(cmd), soft_wrap=True, highlight=False, markup=False)


def render_execute(result: Result, console=None) -> None:
    """The closing summary of `install --execute` (stdout): where, what, the split, how to activate."""
    from rich.console import Console

    console = console or Console()
    data = result.data
    if data.get("dry_run"):
        render_execute_plan(result, console)
        return
    rec = data["recommendation"]
    env = data["env"]
    verify = data.get("verify") or {}
    s = verify.get("summary") or {}
    what = ", ".join(data.get("installed") or ["torch"])
    if result.exit_code == 0:
        console.print(f"\n[green]✓[/] [bold]{what}[/] installed and verified ({rec['torch']}, {rec['variant']})",
                      highlight=False)
    else:
        console.print(f"\n[bold red]![/] [bold]{what}[/] installed, but [bold red]a check failed[/] (exit 1); "
                      "the environment is kept", highlight=False)
    verb = "replaced" if env.get("replaced") else "created"
    console.print(f"  env:     {env['backend']} env {verb} at {markup_safe(env['prefix'])} (Python {env['python_version']})",
                  highlight=False, soft_wrap=True)
    kernel = data.get("kernel")
    if kernel:
        console.print(visible(f"  kernel:  {kernel['name']} \"{kernel['display_name']}\" -> {kernel['resource_dir']}"),
                      highlight=False, soft_wrap=True, markup=False)
    console.print(f"  verify:  {s.get('ok', 0)} passed, {s.get('failed', 0)} failed, {s.get('skipped', 0)} skipped",
                  highlight=False)
    console.print(f"  time:    {timing_line(data['timing'])}", highlight=False, soft_wrap=True)
    console.print(visible(f"  log:     {data['log_path']}"), highlight=False, soft_wrap=True, markup=False)
    for item in data.get("next") or []:
        console.print(f"  [bold red]fix[/] {markup_safe(item)}", highlight=False, soft_wrap=True)
    console.print("activate with:", highlight=False)
    console.print(visible(data["activate"]), soft_wrap=True, highlight=False, markup=False)
