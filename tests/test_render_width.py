"""Human output at 80 and 120 columns (issue 13, "output for people"): no line wider than the width unless one
long unbreakable token (a path, a command piece) overflows it on its own, no path split across lines, a
repeated reason said once, wrapped bullets under their text, elapsed time in progress, a final newline.

Data: doctor replays the real H100 capture (tests/fixtures/h100-driver580, through doctor_standins) with a
stand-in torch; install and install --execute --dry-run come from the real CLI on the shipped matrix;
verify's checks are SYNTHETIC (a long failing message naming a long interpreter path).
"""
from __future__ import annotations

import io
import json
import re
from types import SimpleNamespace

import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from doctor_standins import fake_cuda_torch, hermetic_env, install_nvidia_smi, unset_all
from envcheck.cli import app
from envcheck.results import CheckResult, Result

WIDTHS = (80, 120)
LONG_PY = "/home/someone/.envcheck/envs/torch2.13.0-cpu-with-a-long-name/bin/python3.11"


def render(fn, width: int, *args) -> str:
    buf = io.StringIO()
    fn(*args, Console(file=buf, width=width, color_system=None, highlight=False))
    return buf.getvalue()


def assert_layout(out: str, width: int, paths=(), commands=()) -> None:
    """The layout rules, checked on rendered text. `commands`: lines printed for copy-paste, which are one
    logical line each whatever their length (a terminal soft-wraps them; copying keeps them whole)."""
    assert out.endswith("\n"), repr(out[-80:])
    for line in out.splitlines():
        line = line.rstrip()
        if cell_len(line) <= width or line in commands:
            continue
        # only one long token (longer than half the line) may push a line past the width, and it ends the line
        last = line.split()[-1]
        assert cell_len(last) > width // 2 and cell_len(line[: -len(last)].rstrip()) < width, (width, line)
    for path in paths:
        assert path in out, (width, path)  # intact: not broken across lines, not cut


def flat(out: str) -> str:
    """The text with panel borders and line breaks removed (for counting phrases that wrap)."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", out).split())


# --- doctor: the replayed H100 ------------------------------------------------------------------------


@pytest.fixture
def h100_doctor(clean_env, tmp_path, fake_bin, bare_python):
    install_nvidia_smi(fake_bin, tmp_path / "smi")
    site = fake_cuda_torch(tmp_path / "site-packages-of-a-rather-long-directory-name", "1.13.1+cu117", "11.7")
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin, PYTHONPATH=str(site)))
    result = CliRunner().invoke(app, ["doctor", "--json", "--python", bare_python], env=env)
    data = json.loads(result.stdout)["data"]
    return env, data, bare_python


@pytest.mark.parametrize("width", WIDTHS)
def test_doctor_h100_at_width(h100_doctor, width):
    from envcheck.render.doctor import render_doctor

    env, data, python = h100_doctor
    out = render(render_doctor, width, Result(command="doctor", exit_code=1, data=data))
    location = data["torch"]["location"]
    assert_layout(out, width, [python, location, data["python"]["prefix"]["value"]])
    assert "NVIDIA H100" in out and "gpu-arch-not-in-torch-build" in out
    # a finding's message and fix wrap under themselves (hanging indent), never at column 0
    fix_at = [i for i, line in enumerate(out.splitlines()) if line.startswith("  fix: ")]
    assert fix_at
    lines = out.splitlines()
    for i in fix_at:
        j = i + 1
        while j < len(lines) and lines[j].strip():
            assert lines[j].startswith("       ") or lines[j][0] in "✗!i-", lines[j]
            j += 1


def test_doctor_human_cli_honours_columns(h100_doctor):
    env, data, python = h100_doctor
    result = CliRunner().invoke(app, ["doctor", "--python", python], env={**env, "COLUMNS": "80"})
    assert_layout(result.stdout, 80, [python])


def test_doctor_says_the_driver_reason_once():
    """SYNTHETIC: no driver; the Newest CUDA row points at the Driver row instead of repeating its reason."""
    from envcheck.render.doctor import render_doctor

    why = "NVML library (libnvidia-ml.so.1) not found: no NVIDIA driver installed, or not on the library path"
    data = {"verdict": "ready", "findings": [], "summary": {}, "driver": {"version": None, "cuda": None, "reasons": [why]}}
    for width in WIDTHS:
        out = render(render_doctor, width, Result(command="doctor", exit_code=0, data=data))
        assert flat(out).count(why) == 1 and "not detected (see Driver)" in out
        assert_layout(out, width)


# --- install: the recommendation panel and the commands -------------------------------------------------


@pytest.fixture(scope="module")
def install_data():
    env = {"COLUMNS": "120", "ENVCHECK_DISABLE_NVML": "1", "PATH": "/nonexistent", "PYENV_ROOT": "/nonexistent"}
    result = CliRunner().invoke(app, ["install", "--python", "3.9", "--os", "linux", "--json"], env=env)
    return json.loads(result.stdout)["data"]


@pytest.mark.parametrize("width", WIDTHS)
def test_install_panel_at_width(install_data, width):
    from envcheck.render.install import render_install

    out = render(render_install, width, Result(command="install", exit_code=0, data=install_data))
    from envcheck.render.install import ROUTES, _route_lines

    commands = [line for route in ROUTES for line in _route_lines(install_data["recommendation"]["commands"], route)]
    pip_line = install_data["recommendation"]["commands"]["pip"]
    assert_layout(out, width, commands=commands)
    assert pip_line in out.splitlines()  # a command for copy-paste: one line, whole (the terminal may soft-wrap it)
    # the reason shared by driver, cuda and gpu_cc is said once
    reasons = [i.get("reason") for k, i in install_data["inputs"].items() if i and i.get("value") in (None, "", [])]
    shared = [r for r in set(reasons) if r and reasons.count(r) > 1]
    assert shared, install_data["inputs"]
    for r in shared:
        assert flat(out).count(r) == 1, r
    # wrapped bullets keep their indent: a line after `  • ` inside the panel starts under the text
    body = [re.sub(r"^│ ?|\s*│$", "", line) for line in out.splitlines() if line.startswith("│")]
    for i, line in enumerate(body[:-1]):
        if line.startswith("  • ") and body[i + 1].strip() and not body[i + 1].startswith(("  • ", "Note", "Inputs")):
            assert body[i + 1].startswith("    "), body[i + 1]


def test_bullets_hang_under_their_text():
    from rich.panel import Panel

    from envcheck.render import Block

    block = Block().append("Why\n", style="bold").bullet("word " * 30).append("\nafter\n")
    buf = io.StringIO()
    Console(file=buf, width=60, color_system=None).print(Panel(block, expand=False))
    lines = [line.strip("│").rstrip() for line in buf.getvalue().splitlines()[1:-1]]
    assert lines[0].strip() == "Why" and lines[1].startswith("   • word")
    assert all(line.startswith("     word") for line in lines[2:-2]) and lines[-1].strip() == "after"


# --- install --execute --dry-run: the step list ------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_execute_plan_at_width(tmp_path, width):
    from envcheck.render.install import render_execute_plan

    prefix = tmp_path / "envs" / "torch2.13.0-cpu-with-a-long-name-for-the-width-test"
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "120", "ENVCHECK_DISABLE_NVML": "1",
           "ENVCHECK_ENVS_DIR": str(tmp_path / "envs"), "ENVCHECK_LOG_DIR": str(tmp_path / "logs"),
           "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"), "PYENV_ROOT": str(tmp_path / "no-pyenv"),
           "VIRTUAL_ENV": None, "CONDA_PREFIX": None, "CONDA_EXE": None, "MAMBA_EXE": None}
    import sys

    res = CliRunner().invoke(app, ["install", "--execute", "--torch", "2.13.0", "--cpu", "--backend", "venv",
                                   "--python", sys.executable, "--prefix", str(prefix), "--kernel", "tk",
                                   "--dry-run", "--json"], env=env)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)["data"]
    out = render(render_execute_plan, width, Result(command="install", exit_code=0, data=data))
    commands = [cmd for step in data["plan"]["steps"] for cmd in step["commands"]]
    assert_layout(out, width, [str(prefix)], commands)
    lines = out.splitlines()
    for cmd in commands:
        assert cmd in lines, cmd  # every command whole, on a line of its own


# --- verify: a long failing message, a long interpreter path ------------------------------------------


def _checks():
    """SYNTHETIC checks (the shape commands/verify.py produces)."""
    return [
        CheckResult("torch-import", "import torch", "ok", 2.43, "torch 2.13.0+cpu, CPU build; numpy 2.4.6, interop ok", None),
        CheckResult("cuda-kernels", "CUDA kernels on every GPU", "fail", 0.51,
                    f"{LONG_PY}: RuntimeError: CUDA error: no kernel image is available for execution on the device "
                    "(compute capability 9.0 is not in this build's arch list sm_50 sm_60 sm_70 sm_75 sm_80 sm_86)",
                    f"install a build with sm_90: envcheck install --python {LONG_PY}"),
        CheckResult("distributed-all-reduce", "all_reduce", "skip", 0.0, "not requested (pass --distributed)", None),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_verify_at_width(width, monkeypatch, capsys):
    from envcheck.render.verify import LiveView, render_summary

    monkeypatch.setenv("COLUMNS", str(width))
    view = LiveView()
    view.begin(SimpleNamespace(path=LONG_PY, why=f"--python {LONG_PY}"))
    for check in _checks():
        view.start(check.id, check.name)
        view.end(check)
    view.close()
    data = {"summary": {"ok": 1, "failed": 1, "skipped": 1, "wall_s": 3.5},
            "target": {"python_version": "3.11.7", "torch": "2.13.0+cpu", "build": "cpu", "device": "cpu"}}
    render_summary(Result(command="verify", exit_code=1, data=data))
    out = capsys.readouterr().out
    assert_layout(out, width, [LONG_PY, "envcheck install --python"])
    assert out.rstrip().endswith("verification FAILED (exit 1)")
    lines = out.splitlines()
    fail = next(i for i, line in enumerate(lines) if "FAIL" in line)
    # the message is not squeezed into a 39-column strip at 80 columns: its lines use the width
    assert max(cell_len(line) for line in lines[fail:fail + 6]) > 60


def test_verify_short_message_stays_on_the_check_line():
    from envcheck.render.verify import check_line

    for width in WIDTHS:
        buf = io.StringIO()
        Console(file=buf, width=width, color_system=None).print(check_line(_checks()[2]))
        assert buf.getvalue().count("\n") == 1 and "not requested (pass --distributed)" in buf.getvalue()


# --- progress: start and end lines with the time; a spinner with the elapsed time on a terminal ---------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_line_sink_times_each_tool_when_piped():
    from envcheck.render.env import LineSink
    from envcheck.workflow import events as ev

    out = io.StringIO()
    sink = LineSink(out)
    sink.emit(ev.CommandStarted(f"{LONG_PY} -m pip install ipykernel"))
    sink.emit(ev.CommandEnded(f"{LONG_PY} -m pip install ipykernel", 0, 15.04))
    sink.emit(ev.CommandStarted("python -m ipykernel install --user"))
    sink.emit(ev.CommandEnded("python -m ipykernel install --user", 1, 0.5))
    assert out.getvalue().splitlines() == [
        f"envcheck: running: {LONG_PY} -m pip install ipykernel", "envcheck: done in 15.0 s",
        "envcheck: running: python -m ipykernel install --user", "envcheck: failed (exit status 1) in 0.5 s",
    ]  # no spinner characters in a pipe


def test_line_sink_shows_elapsed_time_on_a_terminal(monkeypatch):
    from envcheck.render.env import LineSink
    from envcheck.workflow import events as ev

    monkeypatch.setenv("COLUMNS", "80")
    out = _Tty()
    sink = LineSink(out)
    sink.emit(ev.CommandStarted(f"{LONG_PY} -m pip install ipykernel"))
    assert sink._progress is not None
    sink._progress.progress.refresh()
    sink.emit(ev.CommandEnded(f"{LONG_PY} -m pip install ipykernel", 0, 15.0))
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    live = [line for line in re.split(r"[\r\n]", text) if "0:00:0" in line]
    assert live and all(cell_len(line.rstrip()) <= 80 for line in live)
    assert text.endswith("envcheck: done in 15.0 s\n")


def test_step_view_keeps_the_elapsed_time_at_80_columns():
    from envcheck.render.env import StepView
    from envcheck.workflow import events as ev

    buf = io.StringIO()
    con = Console(file=buf, width=80, force_terminal=True, color_system=None)
    view = StepView(con)
    view.emit(ev.StepStarted(2, 4, "install", f"install torch into {LONG_PY}", ("pip install torch",)))
    view.emit(ev.ToolLine("Downloading https://download.pytorch.org/whl/cpu/torch-2.13.0%2Bcpu-cp311-cp311-linux_x86_64.whl"))
    view._progress.progress.refresh()
    view.emit(ev.StepEnded(2, 4, "install", "ok", 12.3, 12.0))
    view.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    live = [line for line in re.split(r"[\r\n]", text) if "0:00:0" in line]
    assert live and any("Downloading" in line for line in live)
    assert all(cell_len(line.rstrip()) <= 80 for line in live)


# --- final newline, errors included ---------------------------------------------------------------------


def test_errors_end_with_a_newline(tmp_path):
    res = CliRunner().invoke(app, ["verify", "--python", str(tmp_path / "no-such-python")],
                             env={"COLUMNS": "80", "HOME": str(tmp_path)})
    assert res.exit_code == 4
    assert res.stderr.startswith("error: ") and res.stderr.endswith("\n")


# --- kernel list / check: paths whole, the table only when every cell fits on one line -------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_kernel_list_and_check_at_width(width):
    """SYNTHETIC kernel data (the shape commands/kernel.py returns) with a long interpreter path."""
    from envcheck.render.env import render_kernel_check, render_kernel_list

    kdir = "/home/someone/.local/share/jupyter/kernels/torch213"
    kernels = [{"name": "torch213", "display_name": "Python 3.11 (torch213)", "interpreter": LONG_PY, "argv": [LONG_PY],
                "error": None, "stale": True, "shadowed_by": None, "resource_dir": kdir}]
    finding = {"severity": "error", "code": "kernel-stale", "fix": f"envcheck kernel remove torch213, or recreate {LONG_PY}",
               "message": f"kernel torch213 launches {LONG_PY}, which does not exist any more (the env was removed)"}
    search = {"kernel_dirs": [str(kdir).rsplit("/", 1)[0]]}
    out = render(render_kernel_list, width, Result(command="kernel list", exit_code=0,
                                                   data={"kernels": kernels, "search": search}))
    out += render(render_kernel_check, width, Result(command="kernel check", exit_code=1,
                                                     data={"kernels": [], "findings": [finding]}))
    lines = [f"  interpreter: {LONG_PY}"]
    assert_layout(out, width, [LONG_PY, kdir], commands=lines)
    assert "…" not in out and "interpreter missing" in out


def test_verify_spinner_shows_each_checks_elapsed_time():
    from envcheck.render.verify import LiveView

    buf = io.StringIO()
    view = LiveView()
    view._con = Console(file=buf, width=80, force_terminal=True, color_system=None)
    view.begin(SimpleNamespace(path=LONG_PY, why="--python"))
    checks = _checks()
    for check in checks:
        view.start(check.id, check.name)
        view._status.progress.refresh()
        view.end(check)
    view.close()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    live = [line for line in re.split(r"[\r\n]", text) if "0:00:0" in line]
    assert any("import torch (torch-import)" in line for line in live)
    assert any("all_reduce (distributed-all-reduce)" in line for line in live)
    assert all(cell_len(line.rstrip()) <= 80 for line in live)
