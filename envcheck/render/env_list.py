"""Human output of `envcheck env list` and `envcheck env remove`."""
from __future__ import annotations

from envcheck.i18n import tr
from envcheck.i18n import translate as _
from envcheck.results import Result


def _console(console=None):
    from rich.console import Console

    return console or Console(highlight=False)


def human_size(n) -> str:
    """1536 -> '1.5 KiB' (binary units, like du -h)."""
    if not isinstance(n, (int, float)):
        return "?"
    for unit, div in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{int(n)} B"


def torch_text(torch: dict) -> str:
    """'2.13.0+cpu (cpu)', '2.5.1+cu121 (CUDA 12.1)', 'not installed' (pure)."""
    if not torch or not torch.get("installed"):
        return _("not installed")
    build = f"CUDA {torch['cuda']}" if torch.get("cuda") else f"ROCm {torch['hip']}" if torch.get("hip") else "cpu"
    return f"{torch.get('version')} ({build})"


def remove_verdict(result: Result) -> str:
    data = result.data
    env = data["env"]
    label = env["name"] or env["prefix"]
    kernels = data["kernels"] if data.get("dry_run") else data["removed"]["kernels"]
    p = dict(backend=env["backend"], label=label, count=len(kernels))
    if data.get("dry_run"):
        return (_("dry run: would remove {backend} env {label} and {count} kernel(s); nothing was changed") if kernels
                else _("dry run: would remove {backend} env {label}; nothing was changed")).format(**p)
    return "✓ " + (_("removed {backend} env {label} and {count} kernel(s)") if kernels
                   else _("removed {backend} env {label}")).format(**p)


def render_env_list(result: Result, console=None) -> None:
    """One line per env (name, backend, Python, torch, size: short, aligned), then its path and its
    kernels on lines of their own, so a long path is never folded into a table column."""
    from rich.text import Text

    console = _console(console)
    data = result.data
    envs = data["envs"]
    rows = []
    for e in envs:
        python = f"Python {e['python_version']}" if e["python_version"] else _("Python: does not run")
        size = human_size(e["size_bytes"]) if e["size_bytes"] is not None else ""
        rows.append((e["name"] or _("(by path)"), e["backend"], python, f"torch {torch_text(e['torch'])}", size))
    from rich.cells import cell_len

    widths = [max((cell_len(r[i]) for r in rows), default=0) for i in range(5)]
    bad = (_("Python: does not run"), _("not installed"))
    for e, row in zip(envs, rows):
        line = Text()
        for i, (cell, width) in enumerate(zip(row, widths)):
            style = "bold" if i == 0 else ("yellow" if any(b in cell for b in bad) else "")
            line.append(cell + " " * (width - cell_len(cell)) if i < 4 else cell, style=style)
            if i < 4:
                line.append("  ")
        line.rstrip()
        console.print(line, soft_wrap=True)
        console.print("  " + _label(_("path:")) + e["prefix"], soft_wrap=True, markup=False)
        kernels = ", ".join(k["name"] for k in e["kernels"])
        if kernels:
            console.print("  " + _label(_("kernels:")) + kernels, soft_wrap=True, markup=False)
    if not envs:
        console.print(_("no environments created by envcheck (looked in its index and {path})").format(path=data["envs_dir"]),
                      soft_wrap=True, markup=False)
    for item in data.get("ignored") or []:
        console.print(_("not listed: {path}: {why}").format(path=item["prefix"], why=tr(item["why"])), style="dim",
                      soft_wrap=True, markup=False)


def _label(text: str, width: int = 9) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    from rich.cells import cell_len

    return text + " " * max(1, width - cell_len(text))


def render_env_remove(result: Result, console=None) -> None:
    console = _console(console)
    data = result.data
    if data.get("dry_run"):
        from rich.text import Text

        console.print(Text.assemble((_("dry run"), "bold"), _(": nothing was changed. Would remove {path}:").format(
            path=data["env"]["prefix"])), soft_wrap=True)
        for cmd in data["commands"]:
            console.print(cmd, soft_wrap=True, markup=False)
        for k in data["kernels"]:
            console.print(f"rm -rf -- {k['resource_dir']}  # kernel {k['name']}", soft_wrap=True, markup=False)
        return
    for warning in data.get("warnings") or []:
        from rich.text import Text

        console.print(Text.assemble((_("warning"), "yellow"), ": " + tr(warning)), soft_wrap=True)
    from rich.text import Text

    line = Text(remove_verdict(result))
    line.stylize("green", 0, 1)
    console.print(line, soft_wrap=True)
    for d in data["removed"]["kernels"]:
        console.print("  " + _label(_("kernel:"), 8) + str(d), soft_wrap=True, markup=False)
    console.print("  " + _label(_("log:"), 8) + str(data.get("log_path")), soft_wrap=True, markup=False)
