"""Human output of `envcheck create` and `envcheck kernel add|list|check|remove`.

Commands a user may copy are printed on their own lines, outside panels and never wrapped.
"""
from __future__ import annotations

from envcheck.render.safe import markup_safe, safe_text, visible
from envcheck.results import Result

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _console(console=None):
    from rich.console import Console

    return console or Console()


def _findings(console, findings: list[dict]) -> None:
    for f in findings:
        style = _SEVERITY_STYLE.get(f["severity"], "")
        console.print(f"[{style}]{f['severity']}[/] [dim]{f['code']}[/]: {markup_safe(f['message'])}", highlight=False)
        if f.get("fix"):
            console.print(f"  fix: {visible(f['fix'])}", highlight=False, soft_wrap=True, markup=False)


def render_create(result: Result, console=None) -> None:
    console = _console(console)
    data = result.data
    plan = data["plan"]
    for warning in data.get("warnings") or []:
        console.print(f"[yellow]warning[/]: {warning}", highlight=False)
    console.print(f"backend: [bold]{plan['backend']}[/]  ({plan['backend_why']})", highlight=False)
    if plan.get("base_interpreter"):
        console.print(f"base interpreter: {plan['base_interpreter']}", highlight=False)
    if data.get("dry_run"):
        console.print("[bold]dry run[/]: nothing was changed. Would run:", highlight=False)
        for cmd in plan["commands"]:
            console.print(cmd, soft_wrap=True, highlight=False, markup=False)
        if plan.get("replaces"):
            console.print(f"(after moving the existing env {plan['replaces']} aside; it is deleted once the new one works)",
                          highlight=False)
        return
    env = data["env"]
    verb = "replaced" if env.get("replaced") else "created"
    console.print(
        f"[green]✓[/] {verb} {env['backend']} env [bold]{env['name'] or env['prefix']}[/] "
        f"(Python {env['python_version']}) in {env['duration_s']:.1f} s",
        highlight=False,
    )
    console.print(f"  prefix: {env['prefix']}", highlight=False, soft_wrap=True)
    console.print(f"  python: {env['python']}", highlight=False, soft_wrap=True)
    console.print(f"  log:    {env['log_path']}", highlight=False, soft_wrap=True)
    console.print("activate with:", highlight=False)
    console.print(env["activate"], soft_wrap=True, highlight=False, markup=False)
    name = env["name"] or "NAME"
    console.print("register it as a Jupyter kernel with:", highlight=False)
    console.print(f"envcheck kernel add --python {env['python']} --name {name.lower()}", soft_wrap=True,
                  highlight=False, markup=False)


def render_kernel_add(result: Result, console=None) -> None:
    console = _console(console)
    data = result.data
    if data.get("dry_run"):
        state = "exists (would be replaced with --force)" if data["exists"] else "new"
        console.print(f"[bold]dry run[/]: nothing was changed. Kernel directory {data['resource_dir']} ({state}).",
                      highlight=False)
        console.print("Would run:", highlight=False)
        for cmd in data["commands"]:
            console.print(cmd, soft_wrap=True, highlight=False, markup=False)
        return
    k = data["kernel"]
    mark = "[green]✓[/]" if result.exit_code == 0 else "[red]✗[/]"
    verb = "replaced" if k["replaced"] else "registered"
    console.print(f"{mark} {verb} kernel [bold]{k['name']}[/] ({k['display_name']!r}) -> Python {k['python_version']}",
                  highlight=False)
    if k["installed_ipykernel"]:
        console.print("  installed ipykernel into the target first", highlight=False)
    console.print(f"  kernelspec: {k['resource_dir']}", highlight=False, soft_wrap=True)
    console.print(f"  launches:   {k['argv'][0] if k['argv'] else '?'}", highlight=False, soft_wrap=True)
    _findings(console, data.get("findings") or [])


def _kernel_table(console, kernels: list[dict]) -> None:
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("name", "display name", "interpreter", "status", "directory"):
        table.add_column(col, overflow="fold")
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
        table.add_row(safe_text(k["name"]), safe_text(k["display_name"]),  # issue 14: text, never markup
                      safe_text(k["interpreter"] or (k["argv"][0] if k["argv"] else "")), status,
                      safe_text(k["resource_dir"]))
    console.print(table)


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
            console.print(f"  {d}", highlight=False, soft_wrap=True)
        return
    for d in data["removed"]:
        console.print(f"[green]✓[/] removed {d}", highlight=False, soft_wrap=True)
    for d in data.get("remaining") or []:
        console.print(f"  note: another kernel named {data['name']} remains at {d} (now Jupyter uses it; --all removes every copy)",
                      highlight=False, soft_wrap=True)
