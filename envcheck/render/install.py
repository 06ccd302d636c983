"""Human output of `envcheck install`: a panel with the choice and why, then the commands.

The commands are printed OUTSIDE the panel, one per line, never wrapped: a panel's border and
wrapping would break a copy-paste.
"""
from __future__ import annotations

from envcheck.errors import Msg
from envcheck.i18n import N_, is_zh, tr
from envcheck.i18n import translate as _
from envcheck.render import Block, Hanging, make_console, wrap_hanging
from envcheck.render.safe import safe_text, visible
from envcheck.results import Result

ROUTES = {
    "pip": ("venv + pip", [("create", "venv"), ("pip", None), ("kernel", "venv"), ("verify", "venv")]),
    "uv": ("uv", [("create", "uv"), ("uv", None), ("kernel", "venv"), ("verify", "venv")]),
    "conda": ("conda", [("create", "conda"), ("conda", None), ("kernel", "conda"), ("verify", "conda")]),
}


# The mirrors of configs/mirrors.json by the names their users know them by (Chinese output only).
MIRROR_TITLES = {"tuna": N_("Tsinghua University TUNA"), "ustc": N_("USTC"), "bfsu": N_("BFSU"),
                 "aliyun": N_("Aliyun"), "sjtu": N_("SJTUG (Shanghai Jiao Tong University)")}


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
    body.append(rec["torchaudio"] or _("none (no release pairs with it)"), style="green" if rec["torchaudio"] else "yellow")
    body.append(_("   variant "))
    variant = rec["variant"] + (f" (CUDA {rec['cuda']})" if rec.get("cuda") else f" (ROCm {rec['rocm']})" if rec.get("rocm")
                                else " (Intel GPU)" if rec.get("kind") == "xpu" else "")
    body.append(variant, style="bold cyan")
    arch = f" {rec['arch']}" if rec.get("arch") else ""
    body.append("\n" + _("for Python {python} on {os}{arch}").format(python=rec["python"], os=rec["os"], arch=arch) + "\n")
    body.append("\n" + _("Why") + "\n", style="bold")
    for reason in rec["reasons"]:
        body.bullet(tr(reason))
    notes = list(rec.get("notes") or []) + [f["message"] for f in data.get("stale") or []]
    if notes:
        body.append("\n" + _("Note") + "\n", style="bold yellow")
        for note in notes:
            body.bullet(tr(note))
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
            value = _("yes")
        if isinstance(value, list):
            value = ", ".join(value) if value else None
        if value in (None, ""):  # a reason shared by several inputs is said once: `driver, cuda - (...)`
            missing.setdefault(tr(item.get("reason")) or _("unknown"), []).append(key)
        else:
            facts.append(f"{key} {value} [{item['source']}]")
    facts += [_("{keys} - ({why})").format(keys=", ".join(keys), why=why) for why, keys in missing.items()]
    if facts:
        body.append("\n")
        body.add(Hanging(_("Inputs") + "  ", "; ".join(facts), style="dim"))
    matrix = data["matrix"]
    checked = (_("matrix checked {checked}; wheel facts read from the package index {read}") if matrix.get("wheels_read")
               else _("matrix checked {checked}")).format(checked=matrix["checked"], read=matrix.get("wheels_read"))
    body.add(Hanging("", checked, style="dim"))
    console.print(Panel(body, title="envcheck install", expand=False))

    manager = data.get("manager")
    routes = [manager] if manager else ["pip", "uv", "conda"]
    for route in routes:
        console.print(f"\n# {ROUTES[route][0]}", style="bold", highlight=False)
        for line in _route_lines(commands, route):
            console.print(visible(line), soft_wrap=True, highlight=False, markup=False)
    if is_zh():
        _render_mirror_routes(console, data, routes)

    if data.get("compatible") is not None:
        table = Table(title=_("Every compatible build (--all)"), show_lines=False)
        for col in ("torch", _("variant"), "torchvision", "torchaudio", _("note")):
            table.add_column(col)
        for c in data["compatible"]:
            table.add_row(c["torch"], c["variant"], c["torchvision"], c["torchaudio"] or "-",
                          safe_text("; ".join(tr(n) for n in c["notes"])))
        console.print()
        console.print(table)

    if data.get("explain"):
        table = Table(title=_("Rejected candidates (--explain)"))
        table.add_column("torch")
        table.add_column(_("variant"))
        table.add_column(_("reason"))
        outside = [r["torch"] for r in data["rejected"] if r["code"] == "torch-spec"]
        for r in data["rejected"]:
            if r["code"] != "torch-spec":
                table.add_row(r["torch"], r["variant"] or _("(release)"), safe_text(tr(r["reason"])))
        if outside:  # one row, not dozens: releases the --torch spec excludes
            span = outside[0] if len(outside) == 1 else f"{outside[-1]} .. {outside[0]}"
            table.add_row(span, _("({count} releases)").format(count=len(outside)),
                          safe_text(_("do not match --torch {spec}").format(spec=data.get("torch_spec"))))
        console.print()
        console.print(table)
    elif data.get("rejected"):
        console.print("\n" + _("{count} candidates rejected; --explain lists each with its reason.").format(
            count=len(data["rejected"])), style="dim", highlight=False)


def _render_mirror_routes(console, data: dict, routes: list[str]) -> None:
    """Chinese output: beside the official commands, the same routes through a Chinese mirror (TUNA first,
    as the tutorials do; data.mirror_commands), only the lines the mirror changes, then what it cannot serve
    and the other mirrors. Not shown when --mirror was given (the commands above already use it)."""
    mirror = data.get("mirror_commands")
    if not mirror:
        return
    from rich.text import Text

    official = data["recommendation"]["commands"]
    merged = {**official, **mirror["commands"]}
    title = tr(MIRROR_TITLES.get(mirror["mirror"], mirror["title"]))
    for route in routes:
        same = set(_route_lines(official, route))
        lines = [line for line in _route_lines(merged, route) if line not in same]
        if lines:
            console.print("\n# " + tr(Msg("{route}, through the {mirror} mirror (--mirror {name})",
                                          route=ROUTES[route][0],
                                            mirror=title, name=mirror["mirror"])), style="bold", highlight=False, markup=False)
            for line in lines:
                console.print(line, soft_wrap=True, highlight=False, markup=False)
    for note in mirror.get("notes") or []:
        console.print(Hanging("  • ", Text(tr(note)), style="dim"), crop=False)
    others = mirror.get("others") or []
    wheels = [o["name"] for o in others if o.get("pytorch_wheels")]
    if others:
        names = "、".join(f"{o['name']}（{tr(MIRROR_TITLES.get(o['name'], o['title']))}）" for o in others)
        console.print(Hanging("  • ", Text(_("other mirrors: {names}; `envcheck install --mirror NAME` prints the commands "
                                             "through one").format(names=names)), style="dim"), crop=False)
    if wheels:
        console.print(Hanging("  • ", Text(_("{names} also copy PyTorch's wheel index (CUDA builds of torch from the "
                                             "mirror too)").format(names="、".join(wheels))), style="dim"), crop=False)


# --- install --execute (issue 5): live progress on stderr, then the summary -----------------------

def _label(text: str, width: int = 9) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    from rich.cells import cell_len

    return text + " " * max(1, width - cell_len(text))


def _seconds(value) -> str:
    return f"{value:.1f} s"


def timing_line(timing: dict) -> str:
    """`48.1 s = tools 45.9 s (create 3.1 s, install 33.0 s, ...) + envcheck 2.2 s (4.6%)` (pure)."""
    by = ", ".join(f"{k} {_seconds(v)}" for k, v in (timing.get("by_step") or {}).items())
    return (f"{_seconds(timing['wall_s'])} = " + _("tools") + f" {_seconds(timing['tools_s'])}" + (f" ({by})" if by else "")
            + f" + envcheck {_seconds(timing['envcheck_s'])} ({timing['envcheck_fraction'] * 100:.1f}%)")


def _and(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else _("{items} and {last}").format(items=", ".join(names[:-1]), last=names[-1])


def proof_line(proof: dict) -> str:
    """`torch and torchvision verified; torchaudio not installed (--only)` (pure): "verified" names
    exactly the packages whose checks passed (proof.prove_installed)."""
    parts = []
    if proof.get("verified"):
        parts.append(_("{packages} verified").format(packages=_and(proof["verified"])))
    for pkg, ids in (proof.get("failed") or {}).items():
        parts.append(_("{package} FAILED ({checks})").format(package=pkg, checks=", ".join(ids)))
    for pkg, why in (proof.get("unproven") or {}).items():
        parts.append(_("{package} installed, not proven ({why})").format(package=pkg, why=tr(why)))
    for pkg, why in (proof.get("not_installed") or {}).items():
        parts.append(_("{package} not installed ({why})").format(package=pkg, why=tr(why)))
    return _("; ").join(parts)


def render_execute_plan(result: Result, console=None) -> None:
    """--dry-run: every command, shell-quoted, one per line (nothing was run)."""
    from rich.text import Text

    console = console or make_console()
    data = result.data
    rec = data["recommendation"]
    plan = data["plan"]
    env = plan["env"]
    for warning in data.get("warnings") or []:
        console.print(Hanging(Text.assemble((_("warning"), "yellow"), ": "), safe_text(tr(warning), multiline=True), indent=2),
                      crop=False)
    console.print(Text.assemble((_("dry run"), "bold"), visible(_(": nothing was changed. torch {torch} ({variant}) for "
                                                                 "Python {python}, backend {backend}. Would run:").format(
        torch=rec["torch"], variant=rec["variant"], python=rec["python"], backend=env["backend"]))), highlight=False)
    if env.get("replaces"):
        console.print(visible(_("(the existing env {path} is moved aside first and deleted once all steps pass)").format(
            path=env["replaces"])), highlight=False, markup=False)
    kernel = plan.get("kernel")
    if kernel and kernel.get("replaces"):
        console.print(visible(_("(the kernel at {path} is replaced)").format(path=kernel["replaces"])), highlight=False,
                      markup=False)
    if plan.get("env_python") == "ENV_PYTHON":
        console.print(_("ENV_PYTHON: the new env's interpreter (conda chooses its directory)"), style="dim")
    for i, step in enumerate(plan["steps"], 1):
        title = visible(f"{tr(step['title'])}" + (f"  ({tr(step['note'])})" if step.get("note") else ""))
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
    said = visible(proof_line(data.get("proof") or {}) or _("{packages} installed").format(
        packages=", ".join(data.get("installed") or ["torch"])))
    from rich.text import Text

    if result.exit_code == 0:
        console.print(f"\n✓ {said} ({rec['torch']}, {rec['variant']})", style="green", highlight=False, markup=False,
                      soft_wrap=True)
    else:
        console.print(Text.assemble("\n", ("!", "bold red"), f" {said}; ", (_("a check failed"), "bold red"),
                                    _(" (exit 1): the environment is kept (fix below)")), highlight=False, soft_wrap=True)
    line = (_("{backend} env replaced at {prefix} (Python {python})") if env.get("replaced")
            else _("{backend} env created at {prefix} (Python {python})")).format(
        backend=env["backend"], prefix=env["prefix"], python=env["python_version"])
    console.print(visible(f"  {_label(_('env:'))}{line}"), highlight=False, soft_wrap=True, markup=False)
    kernel = data.get("kernel")
    if kernel:
        console.print(visible(f"  {_label(_('kernel:'))}{kernel['name']} \"{kernel['display_name']}\" -> "
                              f"{kernel['resource_dir']}"), highlight=False, soft_wrap=True, markup=False)
    console.print(f"  {_label(_('verify:'))}" + _("{ok} passed, {failed} failed, {skipped} skipped").format(
        ok=s.get("ok", 0), failed=s.get("failed", 0), skipped=s.get("skipped", 0)), highlight=False, markup=False)
    console.print(f"  {_label(_('time:'))}{timing_line(data['timing'])}", highlight=False, soft_wrap=True, markup=False)
    console.print(visible(f"  {_label(_('log:'))}{data['log_path']}"), highlight=False, soft_wrap=True, markup=False)
    for item in data.get("next") or []:
        console.print(Text.assemble("  ", (_("fix"), "bold red"), " ", visible(tr(item))), highlight=False, soft_wrap=True)
    console.print(_("activate with:"), highlight=False)
    console.print(visible(data["activate"]), soft_wrap=True, highlight=False, markup=False)
