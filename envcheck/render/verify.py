"""The live view of `envcheck verify`: one line per check as it finishes, a spinner for the running
one (terminals only), then a summary. With --json the same list goes to stderr.

rich is imported lazily (on the first event), so the suite child is already importing torch while
this process loads rich.
"""
from __future__ import annotations

from envcheck.i18n import N_, tr
from envcheck.i18n import translate as _
from envcheck.render.safe import safe_text, visible
from envcheck.results import CheckResult

MARKS = {
    "ok": ("✓", N_("ok"), "green"),
    "fail": ("✗", N_("FAIL"), "bold red"),
    "skip": ("–", N_("skip"), "yellow"),
}
ID_WIDTH = 22


def _console(stderr: bool):
    from envcheck.render import make_console

    return make_console(stderr=stderr)


MESSAGE_AT = 41  # the message column: mark (8) + id (22) + duration (8) + 3 spaces
NARROW_MESSAGE_AT = 9  # under the check id, when the message column would be too narrow


class _CheckLine:
    """`  ✓ ok    tensor-creation   0.03 s  message` (and `fix: ...` under a failure). The message wraps at
    spaces under itself; when that column would be narrower than 40 (80 columns) a message that does not
    fit goes on the next line, under the check id, with the width of the line. Paths are never split."""

    def __init__(self, check: CheckResult) -> None:
        self.check = check

    def __rich_console__(self, console, options):
        from rich.text import Text

        from envcheck.render import wrap_hanging

        check, width = self.check, options.max_width
        mark, word, style = MARKS.get(check.status, MARKS["fail"])
        word = tr(word)
        head = Text.assemble((_pad(f"  {mark} {word}", 8), style), " ",
                             (visible(check.id).ljust(ID_WIDTH), "bold" if check.status == "fail" else ""), " ",
                             (f"{check.duration_s:.2f} s".rjust(8), "dim"), " ")
        message = safe_text(tr(check.message), multiline=True,
                            style="red" if check.status == "fail" else ("dim" if check.status == "skip" else ""))
        at = MESSAGE_AT if width - MESSAGE_AT >= 40 else NARROW_MESSAGE_AT
        if at == MESSAGE_AT or head.cell_len + message.cell_len <= width:
            lines = wrap_hanging(head, message, width)
        else:
            head.rstrip()
            lines = [head] + wrap_hanging(" " * at, message, width)
        if check.status == "fail" and check.fix:
            lines += wrap_hanging(Text(" " * at + _("fix: "), style="cyan"), safe_text(tr(check.fix), style="cyan",
                                                                                      multiline=True), width)
        for line in lines:
            line.no_wrap, line.overflow = True, "ignore"
            yield line


def _pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    from rich.cells import cell_len

    return text + " " * max(0, width - cell_len(text))


def check_line(check: CheckResult):
    """The renderable of one finished check (see _CheckLine) (pure)."""
    return _CheckLine(check)


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
        self._header = f"envcheck verify: {interpreter.path} ({tr(interpreter.why)})"  # wraps at spaces only
        self._printed_header = False

    def _ensure_header(self) -> None:
        if not getattr(self, "_printed_header", True):
            from envcheck.render import Hanging

            self.console.print(Hanging("", safe_text(self._header, style="bold"), indent=2), crop=False)
            self._printed_header = True

    def target(self, info: dict) -> None:
        self._ensure_header()

    def start(self, check_id: str, name: str) -> None:
        self._ensure_header()
        text = f"{tr(name)} ({check_id}) …"  # a spinner, the check's elapsed time first, then its name
        if self._status is None:
            if not self.console.is_terminal:
                return
            from envcheck.render import LiveLine

            self._status = LiveLine(self.console, text)
        else:
            self._status.restart(text)

    def end(self, check: CheckResult) -> None:
        self._ensure_header()
        self.console.print(check_line(check), crop=False)

    def restart(self, reason: str) -> None:
        self.console.print(safe_text(f"  ↻ {tr(reason)}", style="magenta"))

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
    line.append(_("{count} passed").format(count=s.get("ok", 0)), style="green")
    line.append(_(", "))
    line.append(_("{count} failed").format(count=s.get("failed", 0)), style="bold red" if s.get("failed") else "")
    line.append(_(", "))
    line.append(_("{count} skipped").format(count=s.get("skipped", 0)), style="yellow" if s.get("skipped") else "")
    line.append(_(" in {seconds:.2f} s (level {level})").format(seconds=s.get("wall_s", s.get("duration_s", 0.0)),
                                                               level=data.get("level", 1)))
    if data.get("children", 1) > 1:
        line.append(_(" ({count} suite processes: isolated crashes/hangs)").format(count=data["children"]), style="magenta")
    con.print(line)
    parts = [f"Python {t['python_version']}" if t.get("python_version") else None,
             f"torch {t['torch']}" if t.get("torch") else _("torch not importable"),
             _("{build} build").format(build=t["build"]) if t.get("build") else None,
             _("device {device}").format(device=t["device"]) if t.get("device") else None]
    parts += [f"{name} {version}" for name, version in (t.get("companions") or {}).items()]
    con.print(safe_text(_("target: ") + _(", ").join(p for p in parts if p), style="dim"))
    if data.get("performance"):  # level 3: measured figures beside the datasheet peak
        from envcheck.perf import render_performance

        from envcheck.render import Hanging

        for text in render_performance(data["performance"]):  # figures wrap under themselves, not at column 0
            style = "yellow" if text.lstrip().startswith(_("warning: ").strip()) else ""
            lead = text[:len(text) - len(text.lstrip())]
            con.print(Hanging(lead, safe_text(text.lstrip(), style=style), indent=len(lead) + 2), crop=False)
    if data.get("junit_xml"):
        con.print(safe_text(_("JUnit report: {path}").format(path=data["junit_xml"]), style="dim"))
    if s.get("failed"):
        con.print(_("verification FAILED (exit 1)"), style="bold red")
    else:
        con.print(_("verification passed"), style="bold green")
