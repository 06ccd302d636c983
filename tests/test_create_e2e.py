"""End to end, the real program as a subprocess: a newcomer's loop (create a venv, register it as a
kernel with ipykernel installed by the env's own pip, check kernels), and Ctrl-C during a create."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import write_exe
from test_create import FAKE_CONDA

pytestmark = pytest.mark.e2e


def _env(tmp_path: Path, path: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CONDA", "JUPYTER_", "ENVCHECK_", "VIRTUAL_ENV", "UV_"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), PATH=path, ENVCHECK_ENVS_DIR=str(tmp_path / "envs"),
               ENVCHECK_LOG_DIR=str(tmp_path / "logs"), JUPYTER_DATA_DIR=str(tmp_path / "jupyter"),
               PYENV_ROOT=str(tmp_path / "no-pyenv"), COLUMNS="120")
    return env


def run(envcheck_bin, args, env, timeout=300):
    return subprocess.run([envcheck_bin, *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_create_then_kernel_then_check(envcheck_bin, tmp_path):
    env = _env(tmp_path, "/usr/bin")
    made = run(envcheck_bin, ["create", "--name", "nb", "--python", "3.11", "--yes", "--json"], env)
    assert made.returncode == 0, made.stderr
    python = json.loads(made.stdout)["data"]["env"]["python"]

    added = run(envcheck_bin, ["kernel", "add", "--env", "nb", "--name", "nb", "--install-ipykernel", "--json"], env)
    assert added.returncode == 0, added.stderr
    kernel = json.loads(added.stdout)["data"]["kernel"]
    assert kernel["python"] == python and kernel["installed_ipykernel"]
    spec = json.loads((tmp_path / "jupyter" / "kernels" / "nb" / "kernel.json").read_text())
    assert spec["argv"][0] == python

    checked = run(envcheck_bin, ["kernel", "check", "--json"], env)
    assert checked.returncode == 0 and json.loads(checked.stdout)["data"]["findings"] == []


def test_ctrl_c_during_create_removes_the_partial_env(envcheck_bin, tmp_path, fake_bin):
    """A stand-in `conda` (conda cannot be installed here) starts the prefix and then hangs; SIGINT to
    envcheck must kill it, remove that prefix, and exit 130."""
    write_exe(fake_bin, "conda", FAKE_CONDA)
    env = _env(tmp_path, f"{fake_bin}:/usr/bin")
    envs = tmp_path / "conda-envs"
    envs.mkdir()
    env.update(FAKE_CONDA_LOG=str(tmp_path / "argv.jsonl"), FAKE_CONDA_ENVS=str(envs), FAKE_CONDA_SLEEP="60")
    proc = subprocess.Popen([envcheck_bin, "create", "-n", "slow", "--python", "3.11", "--yes", "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not (envs / "slow" / "conda-meta").is_dir():
        assert time.monotonic() < deadline and proc.poll() is None, "the stand-in never started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["errors"][0]["code"] == "interrupted"
    assert not (envs / "slow").exists()
    assert doc["data"]["removed"] == [str(envs / "slow")]
