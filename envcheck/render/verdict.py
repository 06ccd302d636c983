"""`--quiet`: the one line each command comes to (its verdict), and nothing else on stdout.

The CLI's one switch (cli._finish) prints `render_quiet(result)` instead of the full report, and the
commands get no progress sink; `error:`/`hint:` on stderr are unchanged, and `--json` wins over
`--quiet`. Each verdict is read from the Result's data (the same facts the full report shows).
"""
from __future__ import annotations

import sys
from typing import Callable

from envcheck.i18n import tr
from envcheck.i18n import translate as _
from envcheck.results import Result


def _doctor(r: Result) -> str:
    return f"{'✗' if r.exit_code else '✓'} {tr(r.data.get('verdict', ''))}"


def _install(r: Result) -> str:
    d = r.data
    rec = d.get("recommendation") or {}
    build = rec.get("variant", "?") + (f", CUDA {rec['cuda']}" if rec.get("cuda") else "")
    what = f"torch {rec.get('torch')} ({build})"
    if not d.get("execute"):
        where = " ".join(x for x in (rec.get("os"), rec.get("arch")) if x)
        return "✓ " + _("{what} for Python {python} on {where}").format(what=what, python=rec.get("python"), where=where)
    if d.get("dry_run"):
        steps = len((d.get("plan") or {}).get("steps") or [])
        return _("dry run: {what}: {steps} step(s) would run; nothing was changed").format(what=what, steps=steps)
    from envcheck.render.install import proof_line

    prefix = (d.get("env") or {}).get("prefix")
    said = proof_line(d.get("proof") or {})  # "verified" names only the packages whose checks passed
    if r.exit_code == 0:
        if said:
            return "✓ " + _("{what} in {prefix}: {said}").format(what=what, prefix=prefix, said=said)
        return "✓ " + _("{what} installed and verified in {prefix}").format(what=what, prefix=prefix)
    first = tr((d.get("next") or [_("see the full report without --quiet")])[0])
    if said:
        return "! " + _("{what} installed in {prefix}: {said}; a check failed (exit 1): {first}").format(
            what=what, prefix=prefix, said=said, first=first)
    return "! " + _("{what} installed in {prefix}; a check failed (exit 1): {first}").format(
        what=what, prefix=prefix, first=first)


def _verify(r: Result) -> str:
    s = r.data.get("summary") or {}
    counts = _("{ok} passed, {failed} failed, {skipped} skipped").format(
        ok=s.get("ok", 0), failed=s.get("failed", 0), skipped=s.get("skipped", 0))
    if s.get("failed") or r.exit_code:
        failed = [c["id"] for c in r.data.get("checks") or [] if c.get("status") == "fail"]
        return "✗ " + _("verification FAILED: {counts}").format(counts=counts) + (f" ({', '.join(failed)})" if failed else "")
    return "✓ " + _("verification passed: {counts}").format(counts=counts)


def _create(r: Result) -> str:
    d = r.data
    if d.get("dry_run"):
        plan = d.get("plan") or {}
        return _("dry run: would create a {backend} env at {where} (Python {python}); nothing was changed").format(
            backend=plan.get("backend"), where=plan.get("prefix") or plan.get("name"), python=plan.get("python"))
    env = d.get("env") or {}
    done = (_("replaced {backend} env {name} (Python {python})") if env.get("replaced")
            else _("created {backend} env {name} (Python {python})"))
    return "✓ " + done.format(backend=env.get("backend"), name=env.get("name") or env.get("prefix"),
                              python=env.get("python_version"))


def _errors(findings) -> str:
    codes = [f["code"] for f in findings or [] if f.get("severity") == "error"]
    return f": {', '.join(codes)}" if codes else ""


def _kernel_add(r: Result) -> str:
    d = r.data
    if d.get("dry_run"):
        return _("dry run: would register a kernel in {path}; nothing was changed").format(path=d.get("resource_dir"))
    k = d.get("kernel") or {}
    mark = "✓" if r.exit_code == 0 else "✗"
    return f"{mark} " + _("registered kernel {name} -> Python {python}").format(
        name=k.get("name"), python=k.get("python_version")) + _errors(d.get("findings"))


def _kernel_check(r: Result) -> str:
    n = len(r.data.get("kernels") or [])
    if r.exit_code:
        return "✗ " + _("{count} kernel(s) checked").format(count=n) + _errors(r.data.get("findings"))
    return "✓ " + _("{count} kernel(s) checked: every interpreter exists").format(count=n)


def _kernel_remove(r: Result) -> str:
    d = r.data
    if d.get("dry_run"):
        return _("dry run: would delete {count} kernel dir(s) named {name}").format(
            count=len(d.get("would_remove") or []), name=d.get("name"))
    return "✓ " + _("removed kernel {name} ({count} dir(s))").format(name=d.get("name"), count=len(d.get("removed") or []))


def _fleet(r: Result) -> str:
    s = r.data.get("summary") or {}
    drift = [x["field"] for x in r.data.get("drift") or []]
    n = s.get("nodes", 0)
    if drift:
        return "✗ " + _("{count} node(s): drift in {fields}").format(count=n, fields=", ".join(drift))
    if r.exit_code:
        return "✗ " + _("{count} node(s): error findings").format(count=n)
    return "✓ " + _("{count} node(s) agree").format(count=n)


def _env_remove(r: Result) -> str:
    from envcheck.render.env_list import remove_verdict

    return remove_verdict(r)


VERDICTS: dict[str, Callable[[Result], str]] = {
    "doctor": _doctor, "install": _install, "verify": _verify, "create": _create,
    "kernel add": _kernel_add, "kernel check": _kernel_check, "kernel remove": _kernel_remove,
    "fleet report": _fleet, "env remove": _env_remove,
}


def verdict_line(result: Result) -> str:
    """The command's verdict as one plain line (pure)."""
    fn = VERDICTS.get(result.command)
    return fn(result) if fn else f"{result.command}: {result.status.value}"


_STYLES = {"✓": "green", "✗": "bold red", "!": "bold yellow"}


def render_quiet(result: Result, console=None) -> None:
    """Print the verdict line on stdout (the mark coloured on a terminal), and any errors the Result
    carries as `error:`/`hint:` lines on stderr, as the full report would."""
    from rich.console import Console
    from rich.text import Text

    console = console or Console(highlight=False)
    line = Text(verdict_line(result))
    style = _STYLES.get(line.plain[:1])
    if style:
        line.stylize(style, 0, 1)
    console.print(line, soft_wrap=True)
    for err in result.errors:
        print(_("error: {message}").format(message=tr(err.message)), file=sys.stderr)
        if err.hint:
            print(_("hint: {hint}").format(hint=tr(err.hint)), file=sys.stderr)
