"""`--quiet`: the one line each command comes to (its verdict), and nothing else on stdout.

The CLI's one switch (cli._finish) prints `render_quiet(result)` instead of the full report, and the
commands get no progress sink; `error:`/`hint:` on stderr are unchanged, and `--json` wins over
`--quiet`. Each verdict is read from the Result's data (the same facts the full report shows).
"""
from __future__ import annotations

import sys
from typing import Callable

from envcheck.results import Result


def _doctor(r: Result) -> str:
    return f"{'✗' if r.exit_code else '✓'} {r.data.get('verdict', '')}"


def _install(r: Result) -> str:
    d = r.data
    rec = d.get("recommendation") or {}
    build = rec.get("variant", "?") + (f", CUDA {rec['cuda']}" if rec.get("cuda") else "")
    what = f"torch {rec.get('torch')} ({build})"
    if not d.get("execute"):
        where = " ".join(x for x in (rec.get("os"), rec.get("arch")) if x)
        return f"✓ {what} for Python {rec.get('python')} on {where}"
    if d.get("dry_run"):
        steps = len((d.get("plan") or {}).get("steps") or [])
        return f"dry run: {what}: {steps} step(s) would run; nothing was changed"
    from envcheck.render.install import proof_line

    prefix = (d.get("env") or {}).get("prefix")
    said = proof_line(d.get("proof") or {})  # "verified" names only the packages whose checks passed
    if r.exit_code == 0:
        return f"✓ {what} in {prefix}: {said}" if said else f"✓ {what} installed and verified in {prefix}"
    first = (d.get("next") or ["see the full report without --quiet"])[0]
    return f"! {what} installed in {prefix}" + (f": {said}" if said else "") + f"; a check failed (exit 1): {first}"


def _verify(r: Result) -> str:
    s = r.data.get("summary") or {}
    counts = f"{s.get('ok', 0)} passed, {s.get('failed', 0)} failed, {s.get('skipped', 0)} skipped"
    if s.get("failed") or r.exit_code:
        failed = [c["id"] for c in r.data.get("checks") or [] if c.get("status") == "fail"]
        return f"✗ verification FAILED: {counts}" + (f" ({', '.join(failed)})" if failed else "")
    return f"✓ verification passed: {counts}"


def _create(r: Result) -> str:
    d = r.data
    if d.get("dry_run"):
        plan = d.get("plan") or {}
        return f"dry run: would create a {plan.get('backend')} env at {plan.get('prefix') or plan.get('name')}" \
               f" (Python {plan.get('python')}); nothing was changed"
    env = d.get("env") or {}
    verb = "replaced" if env.get("replaced") else "created"
    return f"✓ {verb} {env.get('backend')} env {env.get('name') or env.get('prefix')} (Python {env.get('python_version')})"


def _errors(findings) -> str:
    codes = [f["code"] for f in findings or [] if f.get("severity") == "error"]
    return f": {', '.join(codes)}" if codes else ""


def _kernel_add(r: Result) -> str:
    d = r.data
    if d.get("dry_run"):
        return f"dry run: would register a kernel in {d.get('resource_dir')}; nothing was changed"
    k = d.get("kernel") or {}
    mark = "✓" if r.exit_code == 0 else "✗"
    return f"{mark} registered kernel {k.get('name')} -> Python {k.get('python_version')}{_errors(d.get('findings'))}"


def _kernel_check(r: Result) -> str:
    n = len(r.data.get("kernels") or [])
    if r.exit_code:
        return f"✗ {n} kernel(s) checked{_errors(r.data.get('findings'))}"
    return f"✓ {n} kernel(s) checked: every interpreter exists"


def _kernel_remove(r: Result) -> str:
    d = r.data
    if d.get("dry_run"):
        return f"dry run: would delete {len(d.get('would_remove') or [])} kernel dir(s) named {d.get('name')}"
    return f"✓ removed kernel {d.get('name')} ({len(d.get('removed') or [])} dir(s))"


def _fleet(r: Result) -> str:
    s = r.data.get("summary") or {}
    drift = [x["field"] for x in r.data.get("drift") or []]
    if drift:
        return f"✗ {s.get('nodes', 0)} node(s): drift in {', '.join(drift)}"
    if r.exit_code:
        return f"✗ {s.get('nodes', 0)} node(s): error findings"
    return f"✓ {s.get('nodes', 0)} node(s) agree"


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
        print(f"error: {err.message}", file=sys.stderr)
        if err.hint:
            print(f"hint: {err.hint}", file=sys.stderr)
