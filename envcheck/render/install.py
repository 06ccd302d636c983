"""Human output of `envcheck install`: a panel with the choice and why, then the commands.

The commands are printed OUTSIDE the panel, one per line, never wrapped: a panel's border and
wrapping would break a copy-paste.
"""
from __future__ import annotations

from envcheck.render import Block, Hanging, make_console, wrap_hanging
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
    from rich.panel import Panel
    from rich.table import Table

    console = console or make_console()
    data = result.data
    rec = data["recommendation"]
    commands = rec["commands"]

    body = Block()  # Text-like; bullets wrap under their text
    body.append("torch ", style="bold")
    body.append(rec["torch"], style="bold green")
    body.append("   torchvision ")
    body.append(rec["torchvision"], style="green")
    body.append("   torchaudio ")
    body.append(rec["torchaudio"] or "none (no release pairs with it)", style="green" if rec["torchaudio"] else "yellow")
    body.append("   variant ")
    variant = rec["variant"] + (f" (CUDA {rec['cuda']})" if rec.get("cuda") else f" (ROCm {rec['rocm']})" if rec.get("rocm")
                                else " (Intel GPU)" if rec.get("kind") == "xpu" else "")
    body.append(variant, style="bold cyan")
    arch = f" {rec['arch']}" if rec.get("arch") else ""
    body.append(f"\nfor Python {rec['python']} on {rec['os']}{arch}\n")
    body.append("\nWhy\n", style="bold")
    for reason in rec["reasons"]:
        body.bullet(reason)
    notes = list(rec.get("notes") or []) + [f["message"] for f in data.get("stale") or []]
    if notes:
        body.append("\nNote\n", style="bold yellow")
        for note in notes:
            body.bullet(note)
    inputs = data.get("inputs") or {}
    facts, missing = [], {}
    for key in ("python", "os", "arch", "driver", "cuda", "gpu_cc", "gpu_arch", "rocm", "xpu"):
        item = inputs.get(key)
        if not item:
            continue
        value = item["value"]
        if key in ("gpu_arch", "rocm", "xpu") and not value:
            continue  # other vendors' inputs only when there is something to say
        if value is True:
            value = "yes"
        if isinstance(value, list):
            value = ", ".join(value) if value else None
        if value in (None, ""):  # a reason shared by several inputs is said once: `driver, cuda - (...)`
            missing.setdefault(item.get("reason") or "unknown", []).append(key)
        else:
            facts.append(f"{key} {value} [{item['source']}]")
    facts += [f"{', '.join(keys)} - ({why})" for why, keys in missing.items()]
    if facts:
        body.append("\n")
        body.add(Hanging("Inputs  ", "; ".join(facts), style="dim"))
    matrix = data["matrix"]
    wheels = f"; wheel facts read from the package index {matrix['wheels_read']}" if matrix.get("wheels_read") else ""
    body.add(Hanging("", f"matrix checked {matrix['checked']}{wheels}", style="dim"))
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
            table.add_row(c["torch"], c["variant"], c["torchvision"], c["torchaudio"] or "-", safe_text("; ".join(c["notes"])))
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
                table.add_row(r["torch"], r["variant"] or "(release)", safe_text(r["reason"]))
        if outside:  # one row, not dozens: releases the --torch spec excludes
            span = outside[0] if len(outside) == 1 else f"{outside[-1]} .. {outside[0]}"
            table.add_row(span, f"({len(outside)} releases)", safe_text(f"do not match --torch {data.get('torch_spec')}"))
        console.print()
        console.print(table)
    elif data.get("rejected"):
        console.print(f"\n{len(data['rejected'])} candidates rejected; --explain lists each with its reason.",
                      style="dim", highlight=False)


# --- install --execute (issue 5): live progress on stderr, then the summary -----------------------

def _seconds(value) -> str:
    return f"{value:.1f} s"


def timing_line(timing: dict) -> str:
    """`48.1 s = tools 45.9 s (create 3.1 s, install 33.0 s, ...) + envcheck 2.2 s (4.6%)` (pure)."""
    by = ", ".join(f"{k} {_seconds(v)}" for k, v in (timing.get("by_step") or {}).items())
    return (f"{_seconds(timing['wall_s'])} = tools {_seconds(timing['tools_s'])}" + (f" ({by})" if by else "")
            + f" + envcheck {_seconds(timing['envcheck_s'])} ({timing['envcheck_fraction'] * 100:.1f}%)")


def _and(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def proof_line(proof: dict) -> str:
    """`torch and torchvision verified; torchaudio not installed (--only)` (pure): "verified" names
    exactly the packages whose checks passed (install_execute.prove_installed)."""
    parts = []
    if proof.get("verified"):
        parts.append(f"{_and(proof['verified'])} verified")
    for pkg, ids in (proof.get("failed") or {}).items():
        parts.append(f"{pkg} FAILED ({', '.join(ids)})")
    for pkg, why in (proof.get("unproven") or {}).items():
        parts.append(f"{pkg} installed, not proven ({why})")
    for pkg, why in (proof.get("not_installed") or {}).items():
        parts.append(f"{pkg} not installed ({why})")
    return "; ".join(parts)


def render_execute_plan(result: Result, console=None) -> None:
    """--dry-run: every command, shell-quoted, one per line (nothing was run)."""
    from rich.text import Text

    console = console or make_console()
    data = result.data
    rec = data["recommendation"]
    plan = data["plan"]
    env = plan["env"]
    for warning in data.get("warnings") or []:
        console.print(Hanging(Text.assemble(("warning", "yellow"), ": "), safe_text(warning, multiline=True), indent=2), crop=False)
    console.print(f"[bold]dry run[/]: nothing was changed. torch {rec['torch']} ({rec['variant']}) for Python "
                  f"{rec['python']}, backend [bold]{env['backend']}[/]. Would run:", highlight=False)
    if env.get("replaces"):
        console.print(f"(the existing env {markup_safe(env['replaces'])} is moved aside first and deleted once all "
                      "steps pass)", highlight=False)
    kernel = plan.get("kernel")
    if kernel and kernel.get("replaces"):
        console.print(f"(the kernel at {markup_safe(kernel['replaces'])} is replaced)", highlight=False)
    if plan.get("env_python") == "ENV_PYTHON":
        console.print("ENV_PYTHON: the new env's interpreter (conda chooses its directory)", style="dim")
    for i, step in enumerate(plan["steps"], 1):
        title = visible(f"{step['title']}" + (f"  ({step['note']})" if step.get("note") else ""))
        console.print()
        for n, line in enumerate(wrap_hanging(f"# {i}. ", title, console.width)):  # wrapped, still a comment
            line.stylize("bold")
            console.print("#" + line.plain[1:] if n else line, style="bold", highlight=False, markup=False, crop=False)
        for cmd in step["commands"]:
            console.print(visible(cmd), soft_wrap=True, highlight=False, markup=False)


def render_execute(result: Result, console=None) -> None:
    """The closing summary of `install --execute` (stdout): where, what, the split, how to activate."""
    console = console or make_console()
    data = result.data
    if data.get("dry_run"):
        render_execute_plan(result, console)
        return
    rec = data["recommendation"]
    env = data["env"]
    verify = data.get("verify") or {}
    s = verify.get("summary") or {}
    said = visible(proof_line(data.get("proof") or {}) or ", ".join(data.get("installed") or ["torch"]) + " installed")
    if result.exit_code == 0:
        console.print(f"\n✓ {said} ({rec['torch']}, {rec['variant']})", style="green", highlight=False, markup=False,
                      soft_wrap=True)
    else:
        from rich.text import Text

        console.print(Text.assemble("\n", ("!", "bold red"), f" {said}; ", ("a check failed", "bold red"),
                                    " (exit 1): the environment is kept (fix below)"), highlight=False, soft_wrap=True)
    verb = "replaced" if env.get("replaced") else "created"
    console.print(f"  env:     {markup_safe(env['backend'])} env {verb} at {markup_safe(env['prefix'])} "
                  f"(Python {markup_safe(env['python_version'])})",
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
