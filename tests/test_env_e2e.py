"""End to end, the real program as a subprocess over real venvs: `create` records the env as envcheck's,
`env list` reads its Python and torch (without importing torch) and the kernels that launch it, and
`env remove` deletes it with those kernels, keeps other envs' kernels, and refuses what it did not make.
Everything lives under tmp_path (ENVCHECK_ENVS_DIR, JUPYTER_DATA_DIR, HOME, the log dir)."""
from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from envcheck.plans.env import Backend
from envcheck.registry import add_to_registry, write_marker
from test_create_e2e import _env, run
from test_env_cmd import make_kernel

pytestmark = pytest.mark.e2e


def _json(proc) -> dict:
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)


def test_create_list_remove_with_kernels(envcheck_bin, tmp_path):
    env = _env(tmp_path, "/usr/bin")
    made = run(envcheck_bin, ["create", "--name", "nb", "--python", "3.11", "--backend", "venv", "--yes", "--json"], env)
    assert made.returncode == 0, made.stderr
    created = _json(made)["data"]["env"]
    prefix = Path(created["prefix"])
    other = tmp_path / "other-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True)
    jupyter = tmp_path / "jupyter"
    mine = make_kernel(jupyter, "nb", created["python"])
    theirs = make_kernel(jupyter, "other", str(other / "bin" / "python"))

    listed = _json(run(envcheck_bin, ["env", "list", "--json"], env))["data"]
    assert [(e["name"], e["backend"], e["prefix"]) for e in listed["envs"]] == [("nb", "venv", str(prefix))]
    entry = listed["envs"][0]
    assert entry["python_version"] == created["python_version"] and entry["torch"]["installed"] is False
    assert [k["name"] for k in entry["kernels"]] == ["nb"] and entry["size_bytes"] > 1 << 20  # pip is in it
    human = run(envcheck_bin, ["env", "list"], env)
    assert human.returncode == 0 and "nb" in human.stdout and "not installed" in human.stdout

    removed = run(envcheck_bin, ["env", "remove", "nb", "--yes"], env)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.startswith("✓ removed venv env nb and 1 kernel(s)")
    assert not prefix.exists() and not mine.exists()
    assert (theirs / "kernel.json").is_file() and other.is_dir()  # another env's kernel is kept
    assert _json(run(envcheck_bin, ["env", "list", "--json"], env))["data"]["envs"] == []
    gone = run(envcheck_bin, ["env", "remove", "nb", "--yes"], env)
    assert gone.returncode == 4 and "no environment created by envcheck named 'nb'" in gone.stderr


def test_list_reads_torch_without_importing_it_and_remove_refuses_a_venv_it_did_not_make(
        envcheck_bin, tmp_path, installed_torch):
    env = _env(tmp_path, "/usr/bin")
    environ = {k: v for k, v in env.items() if v is not None}
    # A real venv that sees the test environment's torch through a .pth (no copy of torch needed),
    # recorded as envcheck would record it.
    prefix = tmp_path / "envs" / "withtorch"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    site = next((prefix / "lib").glob("python3*/site-packages"))
    (site / "testenv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    write_marker(str(prefix), name="withtorch", backend=Backend.VENV, python="%d.%d" % sys.version_info[:2])
    add_to_registry(str(prefix), "withtorch", Backend.VENV, environ)
    byhand = tmp_path / "envs" / "byhand"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(byhand)], check=True)

    listed = _json(run(envcheck_bin, ["env", "list", "--json", "--no-size"], env))["data"]["envs"]
    assert [e["name"] for e in listed] == ["withtorch"]  # byhand has no marker: not envcheck's
    torch = listed[0]["torch"]
    assert torch["version"] == installed_torch.version and torch["source"] == "torch/version.py"
    assert torch["build"] == ("cpu" if installed_torch.is_cpu else "cuda") and listed[0]["size_bytes"] is None

    refused = run(envcheck_bin, ["env", "remove", "byhand", "--yes", "--json"], env)
    assert refused.returncode == 2 and byhand.is_dir()
    err = _json(refused)["errors"][0]
    assert err["code"] == "env-not-created-by-envcheck" and "envcheck did not create it" in err["message"]
