"""`install --python X.Y` prints venv/uv commands that work as pasted (issue 13).

When `pythonX.Y` is not on PATH, or is a pyenv shim (which prints "pyenv: python3.7: command not
found" and exits 127 unless that version is selected), the printed commands start from pyenv's
installed X.Y, by path. The files here are SYNTHETIC stand-ins (small shell scripts that print a
version, or fail like a pyenv shim); `install` only looks for them, it starts no process.
"""
from __future__ import annotations

import json
import os
import stat

import pytest
from typer.testing import CliRunner

from envcheck.cli import app
from envcheck.plans.install import plan_uv_venv, plan_venv_create


def _script(path, body: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return str(path)


def _python(path, version: str) -> str:
    """A stand-in interpreter: answers envcheck's version query with `version`."""
    return _script(path, f'echo "{version}"')


def _broken_shim(path) -> str:
    """A stand-in pyenv shim for a version that is installed but not selected."""
    return _script(path, 'echo "pyenv: $(basename "$0"): command not found" >&2\nexit 127')


def _install(tmp_path, path_dirs, *args):
    env = {
        "COLUMNS": "120", "ENVCHECK_DISABLE_NVML": "1", "HOME": str(tmp_path / "home"),
        "PYENV_ROOT": str(tmp_path / "pyenv"), "PATH": os.pathsep.join(str(d) for d in path_dirs),
    }
    out = CliRunner().invoke(app, ["install", *args, "--cpu", "--json"], env=env)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)["data"]["recommendation"]["commands"]


def test_plans_start_from_the_found_interpreter():
    assert plan_venv_create("e", "3.7", "linux") == ["python3.7", "-m", "venv", "e"]
    assert plan_venv_create("e", "3.7", "linux", "/p/bin/python3.7") == ["/p/bin/python3.7", "-m", "venv", "e"]
    assert plan_uv_venv("e", "3.7") == ["uv", "venv", "--python", "3.7", "e"]
    assert plan_uv_venv("e", "3.7", "/p/bin/python3.7") == ["uv", "venv", "--python", "/p/bin/python3.7", "e"]


@pytest.mark.skipif(os.name != "posix", reason="stand-in interpreters are POSIX shell scripts")
def test_broken_pyenv_shim_on_path_prints_the_pyenv_python(tmp_path):
    shims = tmp_path / "pyenv" / "shims"
    _broken_shim(shims / "python3.7")
    real = _python(tmp_path / "pyenv" / "versions" / "3.7.16" / "bin" / "python3.7", "3.7.16")
    cmds = _install(tmp_path, [shims], "--python", "3.7")
    assert cmds["create"]["venv"].split()[:3] == [real, "-m", "venv"]
    assert cmds["create"]["uv"].split()[:4] == ["uv", "venv", "--python", real]
    assert cmds["create"]["conda"].startswith("conda create -n ")  # conda brings its own Python


@pytest.mark.skipif(os.name != "posix", reason="stand-in interpreters are POSIX shell scripts")
def test_working_python_on_path_keeps_the_bare_name(tmp_path):
    bindir = tmp_path / "bin"
    _python(bindir / "python3.7", "3.7.16")
    _python(tmp_path / "pyenv" / "versions" / "3.7.16" / "bin" / "python3.7", "3.7.16")
    cmds = _install(tmp_path, [bindir], "--python", "3.7")
    assert cmds["create"]["venv"].split()[:3] == ["python3.7", "-m", "venv"]
    assert cmds["create"]["uv"].split()[:4] == ["uv", "venv", "--python", "3.7"]


@pytest.mark.skipif(os.name != "posix", reason="stand-in interpreters are POSIX shell scripts")
def test_not_on_path_prints_the_pyenv_python(tmp_path):
    real = _python(tmp_path / "pyenv" / "versions" / "3.7.16" / "bin" / "python3.7", "3.7.16")
    _python(tmp_path / "pyenv" / "versions" / "3.7.9" / "bin" / "python3.7", "3.7.9")
    cmds = _install(tmp_path, [tmp_path / "empty"], "--python", "3.7")
    assert cmds["create"]["venv"].split()[:3] == [real, "-m", "venv"]  # the newest 3.7


@pytest.mark.skipif(os.name != "posix", reason="stand-in interpreters are POSIX shell scripts")
def test_nothing_found_or_another_os_keeps_the_name(tmp_path):
    shims = tmp_path / "pyenv" / "shims"
    _broken_shim(shims / "python3.7")
    assert _install(tmp_path, [shims], "--python", "3.7")["create"]["venv"].startswith("python3.7 -m venv ")
    _python(tmp_path / "pyenv" / "versions" / "3.7.16" / "bin" / "python3.7", "3.7.16")
    windows = _install(tmp_path, [shims], "--python", "3.7", "--os", "windows")
    assert windows["create"]["venv"].startswith("py -3.7 -m venv ")
