"""The human report of `envcheck doctor`: a verdict, sections of values with their sources, the three
CUDA numbers side by side, and the findings with their fixes last."""
from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

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
        return safe_text(f"not detected ({reason})" if reason else "not detected", style="yellow")
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
            lead = Text(label.plain.ljust(label_w) + "  ", style="bold")
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


def _vendor_sections(console: Console, d: dict) -> None:
    """One section per non-NVIDIA vendor with accelerators (NVIDIA has its own section above)."""
    accs = [a for a in d.get("accelerators") or [] if a.get("vendor") != "nvidia"]
    probes = d.get("accelerator_probes") or {}
    for vendor in dict.fromkeys(a["vendor"] for a in accs):
        t = _table(VENDOR_TITLES.get(vendor, vendor.upper()))
        info = probes.get(vendor) or {}
        if info.get("runtime"):
            t.add_row("Runtime", safe_text(info["runtime"]), safe_text(info.get("runtime_source") or "", style="dim"))
        for a in accs:
            if a["vendor"] != vendor:
                continue
            mem = f"{a['memory_total_mib'] / 1024:.0f} GiB" if a.get("memory_total_mib") else None
            desc = " · ".join(x for x in (a.get("name") or "unknown device", a.get("arch"), mem,
                                          *(a.get("notes") or [])) if x)
            t.add_row(f"GPU {a['index']}", safe_text(desc), safe_text(a.get("source") or "", style="dim"))
        for why in info.get("reasons") or []:
            t.add_row("note", safe_text(why, style="yellow"), Text(""))
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
    console.print(Panel(safe_text(f"{mark} {d.get('verdict', '')}", style=style), title="envcheck doctor",
                        title_align="left", expand=False))

    # System
    s = d.get("system", {})
    t = _table("System")
    _row(t, "OS", s.get("os"))
    _row(t, "Kernel", s.get("kernel"))
    _row(t, "Architecture", s.get("arch"))
    _row(t, "Host", s.get("hostname"))
    _row(t, "CPU", s.get("cpu_model"))
    cores = s.get("cpu_cores_logical", {}).get("value")
    phys = s.get("cpu_cores_physical", {}).get("value")
    t.add_row("Cores", safe_text(f"{cores} logical" + (f", {phys} physical" if phys else "")), _src(s.get("cpu_cores_logical")))
    _row(t, "RAM", s.get("ram_total_bytes"), _size)
    _row(t, "Free disk", s.get("disk_free_bytes"), lambda v: f"{_size(v)} in {s.get('disk_path')}")
    _row(t, "/dev/shm", s.get("dev_shm_bytes"), _size)
    wsl = s.get("wsl", {})
    t.add_row("WSL", safe_text(wsl.get("value") or "no"), _src(wsl))
    cont = s.get("container", {})
    t.add_row("Container", safe_text(cont.get("value") or "none detected"),
              safe_text("; ".join(s.get("container_hints") or []), style="dim"))
    _out(console, t)

    # Python
    p = d.get("python", {})
    t = _table("Python (inspected interpreter)")
    tgt = d.get("target", {})
    t.add_row("Interpreter", safe_text(str(p.get("executable", {}).get("value"))), safe_text(tgt.get("why", ""), style="dim"))
    _row(t, "Version", p.get("version"))
    _row(t, "Environment", p.get("kind"))
    _row(t, "Prefix", p.get("prefix"))
    _out(console, t)

    # NVIDIA
    drv = d.get("driver", {})
    t = _table("NVIDIA")
    reason = "; ".join(drv.get("reasons") or []) or None
    _row(t, "Driver", {"value": drv.get("version"), "source": drv.get("source"), "reason": reason})
    same = drv.get("version") is None and reason  # one reason, said once: the row above gives it
    _row(t, "Newest CUDA (driver)", {"value": drv.get("cuda"), "source": drv.get("cuda_source"),
                                     "reason": "see Driver" if same else reason})
    if drv.get("overrides"):
        t.add_row("Overrides", safe_text(", ".join(drv["overrides"]), style="magenta"), safe_text("env", style="dim"))
    if drv.get("mismatch"):
        t.add_row("Mismatch", safe_text("driver/library version mismatch", style="bold red"), safe_text(""))
    gpus = d.get("gpus", [])
    details = {x.get("index"): x for x in (d.get("nvidia", {}).get("gpu_details") or [])}
    for g in gpus:
        g = {**details.get(g.get("index"), {}), **g}
        mem = f"{g['memory_total_mib'] / 1024:.0f} GiB" if g.get("memory_total_mib") else "memory ?"
        ccsrc = g.get("compute_capability_source") or ""
        cc = (f"compute {g['compute_capability']}" + (" (from NVIDIA's GPU list)" if ccsrc.startswith("table:") else "")
              if g.get("compute_capability") else None)
        virt = g.get("virtualization")
        desc = " · ".join(x for x in (g.get("name") or "unknown GPU", mem, cc, g.get("pci_bus_id"), g.get("uuid"),
                                      "MIG enabled" if g.get("mig_mode") else None,
                                      f"virtualization: {virt}" if virt and virt != "none" else None) if x)
        t.add_row(f"GPU {g['index']}", safe_text(desc), safe_text(g.get("source") or "", style="dim"))
        if g.get("health"):
            text, style = health_line(g["health"])
            t.add_row("  health", safe_text(text, style=style), safe_text(g["health"].get("source") or "", style="dim"))
        for mig in g.get("mig_devices") or []:
            t.add_row("  MIG", safe_text(mig), safe_text(g.get("source") or "", style="dim"))
    if not gpus:
        pci = d.get("nvidia", {}).get("pci_devices") or []
        t.add_row("GPUs", safe_text("none detected" + (f" by the driver; PCI shows NVIDIA device(s) {', '.join(pci)}" if pci else ""),
                               style="yellow"), safe_text("sysfs" if pci else "", style="dim"))
    _out(console, t)

    _vendor_sections(console, d)

    # CUDA numbers side by side
    cv = d.get("cuda_versions", {})
    t = Table(title="CUDA: three different numbers", title_justify="left", title_style="bold", box=None,
              padding=(0, 3, 0, 0))
    t.add_column("Driver supports up to", no_wrap=False)
    t.add_column("torch was built with")
    t.add_column("Toolkit (nvcc)")
    t.add_row(_value(cv.get("driver_max")), _value(cv.get("torch_build")), _value(cv.get("toolkit")))
    t.add_row(_src(cv.get("driver_max")), _src(cv.get("torch_build")), _src(cv.get("toolkit")))
    console.print(t)
    _out(console, safe_text(cv.get("explanation", ""), style="dim"))

    # PyTorch
    tr = d.get("torch", {})
    t = _table("PyTorch")
    if tr.get("installed"):
        t.add_row("torch", safe_text(f"{tr.get('version')}  ({tr.get('build')} build)"), safe_text(tr.get("source") or "", style="dim"))
        t.add_row("Location", safe_text(str(tr.get("location"))), safe_text(""))
    else:
        t.add_row("torch", safe_text(f"not installed ({tr.get('reason')})", style="yellow"), safe_text(""))
    for name, ver in (tr.get("packages") or {}).items():
        if ver:
            t.add_row(safe_text(name), safe_text(ver), safe_text("dist-info", style="dim"))
    wheels = tr.get("nvidia_wheels") or {}
    if wheels:
        t.add_row("nvidia-* wheels", safe_text(", ".join(f"{k} {v}" for k, v in wheels.items())), safe_text("dist-info", style="dim"))
    deep = tr.get("deep")
    if deep:
        if deep.get("ok"):
            t.add_row("cuda.is_available()", safe_text(str(deep.get("is_available")),
                                                  style="green" if deep.get("is_available") else "yellow"), safe_text("import torch", style="dim"))
            t.add_row("Device count", safe_text(str(deep.get("device_count"))), safe_text("import torch", style="dim"))
            t.add_row("Arch list", safe_text(", ".join(deep.get("arch_list") or []) or "none (CPU build)"), safe_text("import torch", style="dim"))
            t.add_row("cuDNN", safe_text(str(deep.get("cudnn") or "none")), safe_text("import torch", style="dim"))
            for dev in deep.get("devices") or []:
                t.add_row(safe_text(f"cuda:{dev.get('index')}"), safe_text(f"{dev.get('name')} (capability {dev.get('capability')})"), safe_text(""))
            for w in deep.get("warnings") or []:
                t.add_row("torch warning", safe_text(w, style="yellow"), safe_text(""))
        else:
            t.add_row("--deep", safe_text(f"failed ({deep.get('reason')})", style="yellow"), safe_text(""))
    _out(console, t)

    # Toolkit
    tk = d.get("toolkit", {})
    t = _table("CUDA toolkit (only for building extensions)")
    _row(t, "nvcc", tk.get("nvcc"))
    _row(t, "Version", tk.get("version"))
    _row(t, "CUDA_HOME", tk.get("cuda_home"))
    _out(console, t)

    # Managers
    m = d.get("managers", {})
    t = _table("Package managers")
    for name, info in (m.get("tools") or {}).items():
        if info.get("path"):
            t.add_row(safe_text(name), safe_text(f"{info.get('version') or '?'}  {info['path']}"), safe_text(info.get("source") or "", style="dim"))
        else:
            t.add_row(safe_text(name), safe_text(info.get("reason") or "not found", style="dim"), safe_text(""))
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
    t = _table("Jupyter kernels")
    for k in j.get("kernels") or []:
        interp = k.get("interpreter")
        state = ("" if not interp else " (exists)" if k.get("interpreter_exists") else " (MISSING)")
        extra = f"; shadowed by {k['shadowed_by']}" if k.get("shadowed_by") else ""
        t.add_row(safe_text(k.get("name", "?")), safe_text(f"{k.get('display_name') or ''} -> {interp or ' '.join(k.get('argv') or [])}{state}{extra}",
                                           style="red" if k.get("stale") else ""), safe_text(k.get("resource_dir", ""), style="dim"))
    if not j.get("kernels"):
        t.add_row("kernels", safe_text(f"none found{' (' + j['reason'] + ')' if j.get('reason') else ''}", style="dim"), safe_text(""))
    _out(console, t)

    # CUDA_VISIBLE_DEVICES
    ce = d.get("cuda_env", {})
    t = _table("CUDA device selection")
    vis = ce.get("CUDA_VISIBLE_DEVICES", {})
    res = vis.get("resolution", {})
    if res.get("is_set"):
        what = f"visible: {res.get('visible')}" + (f"; stops at {res.get('stopped_at')!r}: {res.get('stop_reason')}" if res.get("stop_reason") else "")
        t.add_row("CUDA_VISIBLE_DEVICES", safe_text(f"{vis.get('value')!r} -> {what}"), safe_text("env", style="dim"))
    else:
        t.add_row("CUDA_VISIBLE_DEVICES", safe_text("not set (all GPUs visible)", style="dim"), safe_text(""))
    order = ce.get("CUDA_DEVICE_ORDER", {})
    t.add_row("CUDA_DEVICE_ORDER", safe_text(f"{order.get('value') or 'not set'} -> {order.get('effective')}"), safe_text("env" if order.get("value") else "default", style="dim"))
    for nm in ce.get("near_misses") or []:
        t.add_row(safe_text(nm["name"]), safe_text(f"{nm['value']!r} (ignored by CUDA: did you mean {nm['meant']}?)", style="yellow"), safe_text("env", style="dim"))
    _out(console, t)

    for note in d.get("notes") or []:
        console.print(safe_text(f"note: {note}", style="dim"))

    # Findings and fixes, last
    if findings:
        console.print(Text("Findings (fixes last)", style="bold"))
        for f in findings:  # message and fix wrap under themselves, never inside a path
            icon, st = ICON.get(f["severity"], ("-", ""))
            console.print(Text.assemble((icon, st), " ", (visible(f["code"]), st), (f"  ({f['severity']})", "dim")))
            console.print(Hanging("  ", safe_text(f["message"], multiline=True)), crop=False)
            if f.get("fix"):
                console.print(Hanging(Text.assemble("  ", ("fix: ", "bold green")), safe_text(f["fix"], multiline=True)), crop=False)
            console.print()
    else:
        console.print(safe_text("No problems found.", style="green"))
    s = d.get("summary", {})
    console.print(safe_text(f"{s.get('errors', 0)} error(s), {s.get('warnings', 0)} warning(s), {s.get('infos', 0)} note(s)"
                       f"  ·  {d.get('verdict', '')}", style=style))

