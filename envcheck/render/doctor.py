"""The human report of `envcheck doctor`: a verdict, sections of values with their sources, the three
CUDA numbers side by side, and the findings with their fixes last."""
from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from envcheck.i18n import N_, tr
from envcheck.i18n import translate as _
from envcheck.render import Hanging, make_console
from envcheck.render.safe import safe_text, visible
from envcheck.results import Result

ICON = {"error": ("✗", "bold red"), "warning": ("!", "bold yellow"), "info": ("i", "cyan")}


def _size(n: Any) -> str | None:
    if not isinstance(n, (int, float)):
        return None
    for unit, div in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{int(n)} B"


def _value(fact: dict | None, fmt=None) -> Text:
    """A Sourced dict -> the value, or 'not detected (reason)'."""
    fact = fact or {}
    value = fact.get("value")
    if value is None or value == "":
        reason = fact.get("reason")
        return safe_text(_("not detected ({reason})").format(reason=tr(reason)) if reason else _("not detected"),
                    style="yellow")
    return safe_text(str(fmt(value) if fmt else value))


def _src(fact: dict | None) -> Text:
    src = (fact or {}).get("source")
    return safe_text(str(src) if src else "", style="dim")


class _Section:
    """A titled three-column section (item, value, source) with `add_row` like a rich Table.

    When every row fits the width on one line it is drawn as an aligned table. Otherwise (80 columns,
    long paths) each row is `item  value  source` wrapped at spaces with a hanging indent under the value,
    so no path is cut mid-word (a table would fold it inside its column)."""

    def __init__(self, title: str) -> None:
        self.title, self.rows = title, []

    def add_row(self, *cells) -> None:
        self.rows.append(tuple(c if isinstance(c, Text) else safe_text(c) for c in cells))

    def _table(self) -> Table:
        t = Table(title=self.title, title_justify="left", title_style="bold", show_header=False, box=None,
                  padding=(0, 2, 0, 0), expand=False)
        t.add_column("item", style="bold", no_wrap=True)
        t.add_column("value", no_wrap=True)
        t.add_column("source", style="dim", no_wrap=True)
        for row in self.rows:
            t.add_row(*row)
        return t

    def __rich_console__(self, console, options):
        widths = [max((max((cell_len(x) for x in r[i].plain.split("\n")), default=0) for r in self.rows), default=0)
                  for i in range(3)]
        if sum(widths) + 6 <= options.max_width:  # three columns, 2 cells of padding each
            yield self._table()
            return
        yield Text(self.title, style="bold")
        label_w, width = widths[0], options.max_width
        sizes = [(cell_len(r[1].plain), cell_len(r[2].plain)) for r in self.rows]
        value_w = max((v for v, src in sizes if label_w + v + src + 4 <= width), default=0)
        for (label, value, source), (v, src) in zip(self.rows, sizes):
            lead = Text(label.plain + " " * (label_w - cell_len(label.plain) + 2), style="bold")
            if v <= value_w and label_w + value_w + src + 4 <= width:  # aligned like the table
                yield Text.assemble(lead, value, *((" " * (value_w - v + 2), (source.plain, "dim")) if src else ()))
                continue
            body = value.copy()
            if source.plain:
                body.append("  ")
                body.append_text(Text(source.plain, style="dim"))
            yield Hanging(lead, body, indent=label_w + 2)


def _table(title: str) -> _Section:
    return _Section(title)


def _row(t: Table, label: str, fact: dict | None, fmt=None) -> None:
    t.add_row(label, _value(fact, fmt), _src(fact))


def _out(console: Console, renderable) -> None:
    console.print(renderable, crop=False)  # a path longer than the line overflows whole, never cut
    console.print()


VENDOR_TITLES = {"amd": "AMD (ROCm)", "intel": "Intel (XPU)", "apple": "Apple (MPS)"}
SEVERITY = {"error": N_("error"), "warning": N_("warning"), "info": N_("info")}


def _vendor_sections(console: Console, d: dict) -> None:
    """One section per non-NVIDIA vendor with accelerators (NVIDIA has its own section above)."""
    accs = [a for a in d.get("accelerators") or [] if a.get("vendor") != "nvidia"]
    probes = d.get("accelerator_probes") or {}
    for vendor in dict.fromkeys(a["vendor"] for a in accs):
        t = _table(VENDOR_TITLES.get(vendor, vendor.upper()))
        info = probes.get(vendor) or {}
        if info.get("runtime"):
            t.add_row(_("Runtime"), safe_text(info["runtime"]), safe_text(info.get("runtime_source") or "", style="dim"))
        for a in accs:
            if a["vendor"] != vendor:
                continue
            mem = f"{a['memory_total_mib'] / 1024:.0f} GiB" if a.get("memory_total_mib") else None
            desc = " · ".join(x for x in (a.get("name") or _("unknown device"), a.get("arch"), mem,
                                          *(a.get("notes") or [])) if x)
            t.add_row(f"GPU {a['index']}", safe_text(desc), safe_text(a.get("source") or "", style="dim"))
        for why in info.get("reasons") or []:
            t.add_row(_("note"), safe_text(tr(why), style="yellow"), safe_text(""))
        _out(console, t)


def health_line(h: dict) -> tuple[str, str]:
    """One short line from data.gpus[].health: problems first, else 'ok' plus what was checked."""
    ecc, remap, clocks, pcie = h.get("ecc") or {}, h.get("row_remap") or {}, h.get("clocks") or {}, h.get("pcie") or {}
    bad, warn = [], []
    if ecc.get("uncorrected_volatile"):
        bad.append(f"{ecc['uncorrected_volatile']} uncorrectable ECC error(s) since driver load")
    elif ecc.get("uncorrected_aggregate"):
        warn.append(f"{ecc['uncorrected_aggregate']} uncorrectable ECC error(s) in lifetime")
    if remap.get("failure"):
        bad.append("row remapping FAILED")
    elif remap.get("pending") or (h.get("retired_pages") or {}).get("pending"):
        warn.append("memory repair pending a reset")
    if clocks.get("throttled_by"):
        warn.append("throttled: " + ", ".join(r.replace("_", " ") for r in clocks["throttled_by"]))
    if h.get("pcie_link_degraded"):
        warn.append("PCIe link degraded: " + h["pcie_link_degraded"])
    link = None
    if pcie.get("gen_current") is not None:
        link = f"PCIe Gen{pcie['gen_current']}/{pcie.get('gen_max')} x{pcie.get('width_current')}/{pcie.get('width_max')}"
    if bad or warn:
        return "; ".join(bad + warn), "bold red" if bad else "yellow"
    checked = [x for x in ("ECC ok" if ecc.get("uncorrected_volatile") is not None else None,
                           "no pending memory repair" if remap.get("pending") is not None else None,
                           "no throttling" if clocks.get("event_mask") is not None else None, link,
                           None if h.get("persistence_mode") is None else
                           f"persistence {'on' if h['persistence_mode'] else 'off'}") if x]
    return ("ok: " + ", ".join(checked)) if checked else "not reported", "green" if checked else "dim"


def render_doctor(result: Result, console: Console | None = None) -> None:
    console = console or make_console()
    d = result.data
    findings = d.get("findings", [])
    errors = [f for f in findings if f["severity"] == "error"]
    style = "bold red" if errors else ("bold yellow" if any(f["severity"] == "warning" for f in findings) else "bold green")
    mark = "✗" if errors else "✓"
    console.print(Panel(safe_text(f"{mark} {tr(d.get('verdict', ''))}", style=style), title="envcheck doctor",
                        title_align="left", expand=False))

    # System
    s = d.get("system", {})
    t = _table(_("System"))
    _row(t, _("OS"), s.get("os"))
    _row(t, _("Kernel"), s.get("kernel"))
    _row(t, _("Architecture"), s.get("arch"))
    _row(t, _("Host"), s.get("hostname"))
    _row(t, "CPU", s.get("cpu_model"))
    cores = s.get("cpu_cores_logical", {}).get("value")
    phys = s.get("cpu_cores_physical", {}).get("value")
    t.add_row(_("Cores"), safe_text(_("{logical} logical, {physical} physical").format(logical=cores, physical=phys) if phys
                               else _("{logical} logical").format(logical=cores)), _src(s.get("cpu_cores_logical")))
    _row(t, _("RAM"), s.get("ram_total_bytes"), _size)
    _row(t, _("Free disk"), s.get("disk_free_bytes"),
         lambda v: _("{size} in {path}").format(size=_size(v), path=s.get("disk_path")))
    _row(t, "/dev/shm", s.get("dev_shm_bytes"), _size)
    wsl = s.get("wsl", {})
    t.add_row("WSL", safe_text(wsl.get("value") or _("no")), _src(wsl))
    cont = s.get("container", {})
    t.add_row(_("Container"), safe_text(cont.get("value") or _("none detected")),
              safe_text("; ".join(s.get("container_hints") or []), style="dim"))
    _out(console, t)

    # Python
    p = d.get("python", {})
    t = _table(_("Python (inspected interpreter)"))
    tgt = d.get("target", {})
    t.add_row(_("Interpreter"), safe_text(str(p.get("executable", {}).get("value"))), safe_text(tr(tgt.get("why", "")), style="dim"))
    _row(t, _("Version"), p.get("version"))
    _row(t, _("Environment"), p.get("kind"), tr)
    _row(t, _("Prefix"), p.get("prefix"))
    _out(console, t)

    # NVIDIA
    drv = d.get("driver", {})
    t = _table("NVIDIA")
    reason = _("; ").join(tr(r) for r in drv.get("reasons") or []) or None
    _row(t, _("Driver"), {"value": drv.get("version"), "source": drv.get("source"), "reason": reason})
    same = drv.get("version") is None and reason  # one reason, said once: the row above gives it
    _row(t, _("Newest CUDA (driver)"), {"value": drv.get("cuda"), "source": drv.get("cuda_source"),
                                        "reason": _("see Driver") if same else reason})
    if drv.get("overrides"):
        t.add_row(_("Overrides"), safe_text(", ".join(drv["overrides"]), style="magenta"), safe_text("env", style="dim"))
    if drv.get("mismatch"):
        t.add_row(_("Mismatch"), safe_text(_("driver/library version mismatch"), style="bold red"), safe_text(""))
    gpus = d.get("gpus", [])
    details = {x.get("index"): x for x in (d.get("nvidia", {}).get("gpu_details") or [])}
    for g in gpus:
        g = {**details.get(g.get("index"), {}), **g}
        mem = f"{g['memory_total_mib'] / 1024:.0f} GiB" if g.get("memory_total_mib") else _("memory ?")
        ccsrc = g.get("compute_capability_source") or ""
        cc = ((_("compute {cc} (from NVIDIA's GPU list)") if ccsrc.startswith("table:") else _("compute {cc}")).format(
              cc=g["compute_capability"]) if g.get("compute_capability") else None)
        virt = g.get("virtualization")
        desc = " · ".join(x for x in (g.get("name") or _("unknown GPU"), mem, cc, g.get("pci_bus_id"), g.get("uuid"),
                                      _("MIG enabled") if g.get("mig_mode") else None,
                                      _("virtualization: {kind}").format(kind=virt) if virt and virt != "none" else None)
                          if x)
        t.add_row(f"GPU {g['index']}", safe_text(desc), safe_text(g.get("source") or "", style="dim"))
        if g.get("health"):
            text, style = health_line(g["health"])
            t.add_row("  health", safe_text(text, style=style), safe_text(g["health"].get("source") or "", style="dim"))
        for mig in g.get("mig_devices") or []:
            t.add_row("  MIG", safe_text(mig), safe_text(g.get("source") or "", style="dim"))
    if not gpus:
        pci = d.get("nvidia", {}).get("pci_devices") or []
        t.add_row(_("GPUs"), safe_text(_("none detected by the driver; PCI shows NVIDIA device(s) {devices}").format(
            devices=", ".join(pci)) if pci else _("none detected"), style="yellow"), safe_text("sysfs" if pci else "", style="dim"))
    _out(console, t)

    _vendor_sections(console, d)

    # CUDA numbers side by side
    cv = d.get("cuda_versions", {})
    t = Table(title=_("CUDA: three different numbers"), title_justify="left", title_style="bold", box=None,
              padding=(0, 3, 0, 0))
    t.add_column(_("Driver supports up to"), no_wrap=False)
    t.add_column(_("torch was built with"))
    t.add_column(_("Toolkit (nvcc)"))
    t.add_row(_value(cv.get("driver_max")), _value(cv.get("torch_build")), _value(cv.get("toolkit")))
    t.add_row(_src(cv.get("driver_max")), _src(cv.get("torch_build")), _src(cv.get("toolkit")))
    console.print(t)
    _out(console, Hanging("", safe_text(tr(cv.get("explanation", "")), style="dim")))

    # PyTorch
    info = d.get("torch", {})
    t = _table("PyTorch")
    if info.get("installed"):
        t.add_row("torch", safe_text(_("{version}  ({build} build)").format(version=info.get("version"), build=info.get("build"))),
                  safe_text(info.get("source") or "", style="dim"))
        t.add_row(_("Location"), safe_text(str(info.get("location"))), safe_text(""))
    else:
        t.add_row("torch", safe_text(_("not installed ({reason})").format(reason=tr(info.get("reason"))), style="yellow"),
                  safe_text(""))
    for name, ver in (info.get("packages") or {}).items():
        if ver:
            t.add_row(name, safe_text(ver), safe_text("dist-info", style="dim"))
    wheels = info.get("nvidia_wheels") or {}
    if wheels:
        t.add_row("nvidia-* wheels", safe_text(", ".join(f"{k} {v}" for k, v in wheels.items())), safe_text("dist-info", style="dim"))
    deep = info.get("deep")
    if deep:
        if deep.get("ok"):
            t.add_row("cuda.is_available()", safe_text(str(deep.get("is_available")),
                                                  style="green" if deep.get("is_available") else "yellow"), safe_text("import torch", style="dim"))
            t.add_row(_("Device count"), safe_text(str(deep.get("device_count"))), safe_text("import torch", style="dim"))
            t.add_row(_("Arch list"), safe_text(", ".join(deep.get("arch_list") or []) or _("none (CPU build)")),
                      safe_text("import torch", style="dim"))
            t.add_row("cuDNN", safe_text(str(deep.get("cudnn") or _("none"))), safe_text("import torch", style="dim"))
            for dev in deep.get("devices") or []:
                t.add_row(f"cuda:{dev.get('index')}", safe_text(_("{name} (compute capability {cc})").format(
                    name=dev.get("name"), cc=dev.get("capability"))), safe_text(""))
            for w in deep.get("warnings") or []:
                t.add_row(_("torch warning"), safe_text(w, style="yellow"), safe_text(""))
        else:
            t.add_row("--deep", safe_text(_("failed ({reason})").format(reason=tr(deep.get("reason"))), style="yellow"), safe_text(""))
    _out(console, t)

    # Toolkit
    tk = d.get("toolkit", {})
    t = _table(_("CUDA toolkit (only for building extensions)"))
    _row(t, "nvcc", tk.get("nvcc"))
    _row(t, _("Version"), tk.get("version"))
    _row(t, "CUDA_HOME", tk.get("cuda_home"))
    _out(console, t)

    # Managers
    m = d.get("managers", {})
    t = _table(_("Package managers"))
    for name, info in (m.get("tools") or {}).items():
        if info.get("path"):
            t.add_row(safe_text(name), safe_text(f"{info.get('version') or '?'}  {info['path']}"), safe_text(info.get("source") or "", style="dim"))
        else:
            t.add_row(name, safe_text(tr(info.get("reason")) or _("not found"), style="dim"), safe_text(""))
    conda = m.get("conda", {})
    if conda.get("channels"):
        t.add_row("conda channels", safe_text(", ".join(conda["channels"])), safe_text(", ".join(conda.get("condarc_files") or []), style="dim"))
    for sset in conda.get("settings") or []:
        t.add_row(f"conda {sset['key']}", safe_text(str(sset["value"])), safe_text(sset["source"], style="dim"))
    for sset in (m.get("pip", {}).get("settings") or []):
        t.add_row(f"pip {sset['key']}", safe_text(str(sset["value"])), safe_text(sset["source"], style="dim"))
    for sset in (m.get("uv", {}).get("settings") or []):
        t.add_row(sset["key"], safe_text(str(sset["value"])), safe_text("env", style="dim"))
    for note in m.get("notes") or []:  # a config file refused: not a regular file, too large, unreadable
        t.add_row("config", safe_text(note, style="yellow"), safe_text(""))
    _out(console, t)

    # Jupyter
    j = d.get("jupyter", {})
    t = _table(_("Jupyter kernels"))
    for k in j.get("kernels") or []:
        interp = k.get("interpreter")
        state = ("" if not interp else _(" (exists)") if k.get("interpreter_exists") else _(" (MISSING)"))
        extra = _("; shadowed by {other}").format(other=k["shadowed_by"]) if k.get("shadowed_by") else ""
        t.add_row(k.get("name", "?"), safe_text(f"{k.get('display_name') or ''} -> {interp or ' '.join(k.get('argv') or [])}{state}{extra}",
                                           style="red" if k.get("stale") else ""), safe_text(k.get("resource_dir", ""), style="dim"))
    if not j.get("kernels"):
        t.add_row(_("kernels"), safe_text(_("none found ({reason})").format(reason=tr(j["reason"])) if j.get("reason")
                                     else _("none found"), style="dim"), safe_text(""))
    _out(console, t)

    # CUDA_VISIBLE_DEVICES
    ce = d.get("cuda_env", {})
    t = _table(_("CUDA device selection"))
    vis = ce.get("CUDA_VISIBLE_DEVICES", {})
    res = vis.get("resolution", {})
    if res.get("is_set"):
        what = _("visible: {visible}").format(visible=res.get("visible")) + (_("; stops at {entry!r}: {why}").format(
            entry=res.get("stopped_at"), why=tr(res.get("stop_reason"))) if res.get("stop_reason") else "")
        t.add_row("CUDA_VISIBLE_DEVICES", safe_text(f"{vis.get('value')!r} -> {what}"), safe_text("env", style="dim"))
    else:
        t.add_row("CUDA_VISIBLE_DEVICES", safe_text(_("not set (all GPUs visible)"), style="dim"), safe_text(""))
    order = ce.get("CUDA_DEVICE_ORDER", {})
    t.add_row("CUDA_DEVICE_ORDER", safe_text(f"{order.get('value') or _('not set')} -> {order.get('effective')}"),
              safe_text("env" if order.get("value") else "default", style="dim"))
    for nm in ce.get("near_misses") or []:
        t.add_row(nm["name"], safe_text(_("{value!r} (ignored by CUDA: did you mean {meant}?)").format(
            value=nm["value"], meant=nm["meant"]), style="yellow"), safe_text("env", style="dim"))
    _out(console, t)

    for note in d.get("notes") or []:
        console.print(safe_text(_("note: {note}").format(note=tr(note)), style="dim"))

    # Findings and fixes, last
    if findings:
        console.print(Text(_("Findings (fixes last)"), style="bold"))
        for f in findings:  # message and fix wrap under themselves, never inside a path
            icon, st = ICON.get(f["severity"], ("-", ""))
            severity = tr(SEVERITY.get(f["severity"], f["severity"]))
            console.print(Text.assemble((icon, st), " ", (visible(f["code"]), st), (f"  ({severity})", "dim")))
            console.print(Hanging("  ", safe_text(tr(f["message"]), multiline=True)), crop=False)
            if f.get("fix"):
                console.print(Hanging(Text.assemble("  ", (_("fix: "), "bold green")), safe_text(tr(f["fix"]), multiline=True)),
                              crop=False)
            console.print()
    else:
        console.print(safe_text(_("No problems found."), style="green"))
    s = d.get("summary", {})
    console.print(safe_text(_("{errors} error(s), {warnings} warning(s), {infos} note(s)").format(
        errors=s.get("errors", 0), warnings=s.get("warnings", 0), infos=s.get("infos", 0))
        + f"  ·  {tr(d.get('verdict', ''))}", style=style))

