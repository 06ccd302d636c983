"""install --execute proves what it installed (issue 9, items 1, 2 and 4): the exact pip/uv argv with
--find-links per era (it adds a place to look, never drops the recommended index), which packages the
verification proved (pure), the closing line that says so, and the installer's retry warnings shown
live where the output is piped (a fake clock in the events, then a real pip against a closed local port).
The real venv walk is in test_install_execute_e2e.py.
"""
from __future__ import annotations

import copy
import os
import socket
import sys

import pytest

from envcheck.commands import install as install_cmd
from envcheck.commands.install_execute import plan_install_argv
from envcheck.proof import prove_installed
from envcheck.render.install import proof_line

PY = "/e/bin/python"
WHL = "https://download.pytorch.org/whl"

ERAS = [
    # id, decide() inputs, the pins, the era's index options (find_links="/w" is appended after them)
    ("find-links-era", dict(python="3.8", torch="1.7", driver="450.80.02"),
     ("torch==1.7.1+cu110", "torchvision==0.8.2+cu110", "torchaudio==0.7.2"), ("-f", f"{WHL}/torch_stable.html")),
    ("extra-index-url-era", dict(python="3.10", torch="1.12.1", driver="535.104.05", gpu_cc=("8.6",)),
     ("torch==1.12.1+cu116", "torchvision==0.13.1+cu116", "torchaudio==0.12.1"),
     ("--extra-index-url", f"{WHL}/cu116")),
    ("index-url-era", dict(python="3.11", torch="2.13.0", cpu=True),
     ("torch==2.13.0", "torchvision==0.28.0"), ("--index-url", f"{WHL}/cpu")),
    ("default-index-variant", dict(python="3.11", os_name="windows", torch="2.13.0", cpu=True),
     ("torch==2.13.0", "torchvision==0.28.0"), ()),
]


def _rec(kw):
    return install_cmd.decide(**{"os_name": "linux", **kw}).recommendation


@pytest.mark.parametrize("kw, pins, era", [e[1:] for e in ERAS], ids=[e[0] for e in ERAS])
def test_find_links_adds_and_keeps_the_recommended_index(kw, pins, era):
    rec = _rec(kw)
    route, argv = plan_install_argv(rec, backend="venv", executable="/usr/bin/python3", env_python=PY,
                                    find_links="/w")
    assert route == "pip" and argv == (PY, "-m", "pip", "install", *pins, *era, "--find-links", "/w")
    route, argv = plan_install_argv(rec, backend="uv", executable="/bin/uv", env_python=PY, find_links="/w")
    uv_tail = ("--index-strategy", "unsafe-best-match") if "--extra-index-url" in era else ()
    assert route == "uv" and argv == ("/bin/uv", "pip", "install", "--python", PY, *pins, *era, "--find-links", "/w",
                                      *uv_tail)
    # --index-url is the option that replaces the recommended index; --find-links still adds
    _, argv = plan_install_argv(rec, backend="venv", executable="/usr/bin/python3", env_python=PY,
                                index_url="file:///m/simple", find_links="/w")
    assert argv == (PY, "-m", "pip", "install", *pins, "--index-url", "file:///m/simple", "--find-links", "/w")


# --- what the verification proved (pure) -----------------------------------------------------------

def _check(cid, status, message="", fix=None):
    return {"id": cid, "name": cid, "status": status, "duration_s": 0.0, "message": message, "fix": fix}


HEALTHY = {
    "target": {"python": PY, "companions": {"torchvision": "0.28.0+cpu"}},
    "checks": [_check("torch-import", "ok"), _check("autograd", "ok"), _check("companion-pairing", "ok"),
               _check("torchvision-import", "ok"), _check("torchvision-ops", "ok"),
               _check("torchaudio-import", "skip", "torchaudio is not installed"),
               _check("torchaudio-ops", "skip", "torchaudio is not installed")],
    "summary": {"ok": 5, "failed": 0, "skipped": 2},
}
CUDA_VISION = copy.deepcopy(HEALTHY)  # the walk of issue 9: a CUDA-built torchvision beside a CPU torch
CUDA_VISION["target"]["companions"] = {"torchvision": "0.28.0+cu130"}
CUDA_VISION["checks"][2:5] = [
    _check("companion-pairing", "fail", "torchvision 0.28.0+cu130 is a CUDA 13.0 build but torch 2.13.0+cpu is a CPU "
           "build", "reinstall torchvision built like torch 2.13.0+cpu: `...`"),
    _check("torchvision-import", "fail", "import torchvision failed: RuntimeError: operator torchvision::nms does "
           "not exist", "reinstall ..."),
    _check("torchvision-ops", "skip", "torchvision did not import (see torchvision-import)")]
CUDA_VISION["summary"] = {"ok": 2, "failed": 2, "skipped": 3}
MISSING = copy.deepcopy(HEALTHY)  # installed by the run, not found by the env's interpreter
MISSING["target"]["companions"] = {}
# what the suite reports under --require torchvision (install --execute requires what it installed)
MISSING["checks"][2:5] = [_check("companion-pairing", "skip", "neither torchvision nor torchaudio is installed"),
                          _check("torchvision-import", "fail", f"torchvision is required here, but {PY} does not find it"),
                          _check("torchvision-ops", "skip", "not run: torchvision was not found (see torchvision-import)")]
MISSING["summary"] = {"ok": 2, "failed": 1, "skipped": 4}
NO_TORCH = {"target": {"python": PY, "companions": {}},
            "checks": [_check("torch-import", "fail", "No module named 'torch'"),
                       _check("torchvision-import", "skip", "torch did not import (see torch-import)")],
            "summary": {"ok": 0, "failed": 1, "skipped": 1}}
NOT_PLANNED = {"torchaudio": "no torchaudio release pairs with torch 2.13.0"}

PROOFS = [
    ("healthy", HEALTHY, ("torch", "torchvision"),
     {"verified": ["torch", "torchvision"], "failed": {}, "unproven": {}, "not_installed": NOT_PLANNED},
     "torch and torchvision verified; torchaudio not installed (no torchaudio release pairs with torch 2.13.0)"),
    ("cuda-torchvision", CUDA_VISION, ("torch", "torchvision"),
     {"verified": ["torch"], "failed": {"torchvision": ["torchvision-import", "companion-pairing"]}, "unproven": {},
      "not_installed": NOT_PLANNED},
     "torch verified; torchvision FAILED (torchvision-import, companion-pairing); torchaudio not installed "
     "(no torchaudio release pairs with torch 2.13.0)"),
    ("installed-but-not-found", MISSING, ("torch", "torchvision"),
     {"verified": ["torch"], "failed": {"torchvision": ["torchvision-import"]}, "unproven": {},
      "not_installed": NOT_PLANNED}, None),
    ("torch-did-not-import", NO_TORCH, ("torch", "torchvision"),
     {"verified": [], "failed": {"torch": ["torch-import"]},
      "unproven": {"torchvision": "torch did not import (see torch-import)"}, "not_installed": NOT_PLANNED}, None),
]


@pytest.mark.parametrize("verify, packages, expected, line", [p[1:] for p in PROOFS], ids=[p[0] for p in PROOFS])
def test_prove_installed(verify, packages, expected, line):
    data = copy.deepcopy(verify)
    proof = prove_installed(packages, data, NOT_PLANNED)
    assert proof == expected
    if line is not None:
        assert proof_line(proof) == line


# --- live retry warnings where the output is piped -------------------------------------------------

def _console():
    from rich.console import Console

    return Console(record=True, width=100, force_terminal=False, color_system=None)


def test_retry_warnings_are_printed_as_they_come_throttled_with_the_elapsed_time():
    """The events carry the step's elapsed time (a fake clock): one line per 10 s of it, the rest counted."""
    from envcheck.render.env import StepView
    from envcheck.workflow import events as ev

    con = _console()
    view = StepView(con)
    view.emit(ev.StepStarted(2, 3, "install", "install torch", ()))
    for elapsed, warning in ((0.5, False), (1.0, True), (3.0, True), (9.0, True), (11.5, True), (12.0, False)):
        view.emit(ev.ToolLine(f"line at {elapsed}", warning=warning, elapsed_s=elapsed))
    view.emit(ev.ToolLine("last retry", warning=True, elapsed_s=13.0))
    view.emit(ev.StepEnded(2, 3, "install", "fail", 14.0, 13.9))
    view.emit(ev.StepStarted(3, 3, "verify", "verify", ()))
    view.emit(ev.ToolLine("a check says Connection refused", warning=True, elapsed_s=1.0))  # verify: its own view
    assert con.export_text().splitlines() == [
        "[2/3] install torch …",
        "    … 1.0 s: line at 1.0",
        "    … 11.5 s: line at 11.5 (+2 more like it in the log)",
        "    (1 more such line in the log)",
        "  ✗ [2/3] install  14.0 s (tools 13.9 s)",
        "[3/3] verify …",
    ]


def test_real_pip_retry_warning_reaches_piped_output_before_the_step_ends(tmp_path):
    """A real pip (the test venv's, `--dry-run`: it installs nothing) against a closed port on 127.0.0.1,
    run through the step runner install --execute uses, into a StepView on a non-terminal console."""
    from envcheck.plans.env import Step
    from envcheck.render.env import StepView
    from envcheck.runner import Runner
    from envcheck.workflow import events as ev
    from envcheck.workflow.steps import StepRunner, run_logged
    from envcheck.workflow.timing import TimedRunner

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    order = []
    con = _console()
    view = StepView(con)

    class Both(ev.Sink):
        def emit(self, event):
            order.append(event)
            view.emit(event)

    sink = Both()
    timed = TimedRunner(Runner())
    steps = StepRunner([("install", "install six", [])], timed, sink)
    timed.on_line = steps.tool_line
    env = (("PIP_CONFIG_FILE", os.devnull), ("PIP_FIND_LINKS", ""), ("PIP_NO_CACHE_DIR", "1"))
    argv = (sys.executable, "-m", "pip", "install", "--dry-run", "--index-url", f"http://127.0.0.1:{port}/simple",
            "--retries", "1", "--timeout", "1", "six")
    rec = steps.begin("install")
    done = run_logged(timed, Step(argv, "install six", timeout_s=120, env=env), str(tmp_path / "x.log"), sink)
    steps.end(rec, "ok" if done.ok else "fail")
    assert not done.ok
    lines = [e for e in order if isinstance(e, ev.ToolLine)]
    warning = next(i for i, e in enumerate(lines) if e.warning)
    assert lines[warning].line.startswith("WARNING: Retrying (Retry(total=0")
    assert any(e.line.startswith("ERROR: No matching distribution") for e in lines[warning + 1:])  # it came first
    text = con.export_text()
    shown = text.index("s: WARNING: Retrying (Retry(total=0")
    assert "Connection refused" in text and shown < text.index("✗ [1/1] install")


def test_quiet_verdict_names_what_was_verified():
    from envcheck.render.verdict import _install as verdict  # the install command's verdict line
    from envcheck.results import Result

    data = {"execute": True, "recommendation": {"torch": "2.13.0", "variant": "cpu"}, "env": {"prefix": "/e"},
            "proof": prove_installed(("torch", "torchvision"), copy.deepcopy(CUDA_VISION), NOT_PLANNED),
            "next": ["torchvision-import: import torchvision failed - fix: reinstall"]}
    assert verdict(Result("install", 1, data)) == (
        "! torch 2.13.0 (cpu) installed in /e: torch verified; torchvision FAILED (torchvision-import, "
        "companion-pairing); torchaudio not installed (no torchaudio release pairs with torch 2.13.0); a check "
        "failed (exit 1): torchvision-import: import torchvision failed - fix: reinstall")
    data["proof"] = prove_installed(("torch", "torchvision"), copy.deepcopy(HEALTHY), {"torchaudio": "--only"})
    assert verdict(Result("install", 0, data)) == (
        "✓ torch 2.13.0 (cpu) in /e: torch and torchvision verified; torchaudio not installed (--only)")
