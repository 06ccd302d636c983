"""`--quiet` / `-q`: exactly one verdict line on stdout, no progress on stderr, errors unchanged, and
`--json` wins. One switch in cli._finish (render/verdict.py); each command is checked through the CLI."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from doctor_standins import hermetic_env, install_nvidia_smi, unset_all
from envcheck.cli import app
from envcheck.render.verdict import VERDICTS
from test_create import _env
from test_env_cmd import _environ, make_kernel, make_venv_dir

PY = str(Path(sys.executable).parent / "python")  # the test venv: Python 3.x with ipykernel
XY = "%d.%d" % sys.version_info[:2]


def invoke(args, env=None):
    return CliRunner().invoke(app, args, env=env)


def one_line(result) -> str:
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and result.stdout.endswith("\n"), result.output
    return lines[0]


def test_every_command_with_quiet_has_a_verdict():
    def walk(group, path=()):
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                yield from walk(cmd, path + (name,))
            else:
                yield " ".join(path + (name,)), cmd

    quiet = {path for path, cmd in walk(typer.main.get_command(app))
             if any("--quiet" in p.opts and "-q" in p.opts for p in cmd.params)}
    assert {"doctor", "install", "verify", "create", "kernel add", "env remove"} <= quiet
    assert quiet == set(VERDICTS)


def test_doctor(clean_env, tmp_path, fake_bin, bare_python):
    install_nvidia_smi(fake_bin, tmp_path / "smi")
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin))
    full = json.loads(invoke(["doctor", "--python", bare_python, "--json", "-q"], env).stdout)
    result = invoke(["doctor", "--python", bare_python, "-q"], env)
    assert result.exit_code == full["exit_code"]
    assert one_line(result) == ("✗ " if full["exit_code"] else "✓ ") + full["data"]["verdict"]


def test_install_recommendation_and_json_wins():
    args = ["install", "--python", XY, "--os", "linux", "--arch", "x86_64", "--cpu", "--torch", "2.13.0"]
    result = invoke(args + ["--quiet"])
    assert result.exit_code == 0
    assert one_line(result) == f"✓ torch 2.13.0 (cpu) for Python {XY} on linux x86_64"
    assert invoke(args + ["--json", "-q"]).stdout == invoke(args + ["--json"]).stdout


def test_install_execute_dry_run(tmp_path):
    env = _env(tmp_path, "/usr/bin")
    result = invoke(["install", "--execute", "--dry-run", "--python", PY, "--cpu", "--torch", "2.13.0", "--backend",
                     "venv", "--name", "q", "--no-kernel", "-q"], env)
    assert result.exit_code == 0, result.output
    assert one_line(result).startswith("dry run: torch 2.13.0") and "nothing was changed" in result.stdout


def test_verify_failure_is_one_line_without_the_check_list(bare_python, tmp_path):
    result = invoke(["verify", "--python", bare_python, "--device", "cpu", "-q"], _env(tmp_path, "/usr/bin"))
    assert result.exit_code == 1
    line = one_line(result)
    assert line.startswith("✗ verification FAILED: 0 passed, 1 failed") and "torch-import" in line
    assert result.stderr == ""


def test_create_dry_run_and_errors_unchanged(tmp_path):
    env = _env(tmp_path, "/usr/bin")
    result = invoke(["create", "--name", "q", "--python", PY, "--backend", "venv", "--dry-run", "-q"], env)
    assert result.exit_code == 0
    assert one_line(result) == (f"dry run: would create a venv env at {tmp_path / 'envs' / 'q'} (Python {XY}); "
                                "nothing was changed")
    bad = ["create", "--name", "a b", "--python", XY, "--dry-run"]
    quiet, loud = invoke(bad + ["-q"], env), invoke(bad, env)
    assert quiet.exit_code == loud.exit_code == 2
    assert quiet.stdout == "" and quiet.stderr == loud.stderr and quiet.stderr.startswith("error: invalid environment name")


@pytest.mark.e2e
def test_kernel_add_real_shows_no_progress(tmp_path):
    """A real `ipykernel install` with the test venv's interpreter (ipykernel is in the test extra)."""
    env = _env(tmp_path, "/usr/bin")
    result = invoke(["kernel", "add", "--python", PY, "--name", "quiet", "-q"], env)
    assert result.exit_code == 0, result.output
    assert one_line(result) == f"✓ registered kernel quiet -> Python {'.'.join(map(str, sys.version_info[:3]))}"
    assert result.stderr == ""  # no `envcheck: log: ...` / `running: ...` lines
    assert (tmp_path / "jupyter" / "kernels" / "quiet" / "kernel.json").is_file()


def test_kernel_check_and_remove(tmp_path):
    env = _env(tmp_path, "/usr/bin")
    make_kernel(tmp_path / "jupyter", "gone", str(tmp_path / "deleted-env" / "bin" / "python"))
    result = invoke(["kernel", "check", "-q"], env)
    assert result.exit_code == 1 and one_line(result) == "✗ 1 kernel(s) checked: stale-jupyter-kernel"
    result = invoke(["kernel", "remove", "gone", "--yes", "-q"], env)
    assert result.exit_code == 0 and one_line(result) == "✓ removed kernel gone (1 dir(s))"
    result = invoke(["kernel", "check", "-q"], env)
    assert result.exit_code == 0 and one_line(result) == "✓ 0 kernel(s) checked: every interpreter exists"


def test_env_remove(tmp_path):
    env = _env(tmp_path, "/usr/bin")
    prefix = make_venv_dir(tmp_path / "envs" / "q", name="q", environ=_environ(env))
    make_kernel(tmp_path / "jupyter", "q", str(prefix / "bin" / "python"))
    dry = invoke(["env", "remove", "q", "--dry-run", "-q"], env)
    assert one_line(dry) == "dry run: would remove venv env q and 1 kernel(s); nothing was changed"
    result = invoke(["env", "remove", "q", "--yes", "-q"], env)
    assert result.exit_code == 0 and one_line(result) == "✓ removed venv env q and 1 kernel(s)"
    assert result.stderr == "" and not prefix.exists()


def test_fleet_report(tmp_path):
    """Synthetic doctor envelopes (two identical nodes, one with another driver)."""
    def report(name, driver):
        data = {"system": {"hostname": {"value": name}}, "driver": {"version": driver}, "findings": []}
        (tmp_path / f"{name}.json").write_text(json.dumps({"envcheck_result_version": 1, "command": "doctor",
                                                           "data": data}))

    report("a", "580.65.06")
    report("b", "580.65.06")
    assert one_line(invoke(["fleet", "report", str(tmp_path), "-q"])) == "✓ 2 node(s) agree"
    report("c", "535.104.05")
    result = invoke(["fleet", "report", str(tmp_path), "-q"])
    assert result.exit_code == 1 and one_line(result) == "✗ 3 node(s): drift in driver"
