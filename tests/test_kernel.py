"""`envcheck kernel add|list|check|remove` against the real ipykernel, in a temporary JUPYTER_DATA_DIR."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envcheck.cli import app
from envcheck.kernels import register_kernel
from envcheck.workflow.transaction import Transaction
from envcheck.errors import ExitCode
from envcheck.plans.env import KernelScope
from envcheck.runner import Runner

PY311 = "/usr/bin/python3.11"


def _env(tmp_path: Path, **extra) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "HOME": str(home),
        "PATH": "/usr/bin",
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"),
        "JUPYTER_PATH": None,
        "JUPYTER_PREFER_ENV_PATH": None,
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "ENVCHECK_ENVS_DIR": str(tmp_path / "envs"),
        "ENVCHECK_LOG_DIR": str(tmp_path / "logs"),
        "VIRTUAL_ENV": None,
        "CONDA_PREFIX": None,
        "COLUMNS": "120",
    }
    env.update(extra)
    return env


def invoke(args, env):
    return CliRunner().invoke(app, args, env=env)


def envelope(result) -> dict:
    return json.loads(result.stdout)


def kernel_json(tmp_path: Path, name: str) -> dict:
    return json.loads((tmp_path / "jupyter" / "kernels" / name / "kernel.json").read_text())


@pytest.fixture
def venv_with_ipykernel(tmp_path) -> str:
    """A fresh real venv that imports the test environment's ipykernel through a .pth file (no
    download); its interpreter is a different path from the test interpreter."""
    root = tmp_path / "kvenv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    site = next((root / "lib").glob("python3.*/site-packages"))
    (site / "borrow-test-site.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return str(root / "bin" / "python")


@pytest.fixture
def venv_without_ipykernel(tmp_path) -> str:
    """A fresh real venv with pip and without ipykernel."""
    root = tmp_path / "plain"
    subprocess.run([PY311, "-m", "venv", str(root)], check=True)
    return str(root / "bin" / "python")


# --- add ----------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_add_registers_the_target_and_refuses_to_clobber(tmp_path, venv_with_ipykernel):
    env = _env(tmp_path)
    result = invoke(["kernel", "add", "--python", venv_with_ipykernel, "--name", "torch", "--json"], env)
    assert result.exit_code == 0, result.output
    doc = envelope(result)
    k = doc["data"]["kernel"]
    assert doc["command"] == "kernel add" and doc["status"] == "ok" and doc["data"]["findings"] == []
    assert k["resource_dir"] == str(tmp_path / "jupyter" / "kernels" / "torch")  # JUPYTER_DATA_DIR honoured
    assert k["display_name"].startswith("Python 3.") and k["display_name"].endswith("(torch)")
    assert k["scope"] == "user" and k["replaced"] is None and k["on_search_path"]
    spec = kernel_json(tmp_path, "torch")
    # The kernel launches the venv's interpreter as written, not the base interpreter it links to.
    assert spec["argv"][0] == venv_with_ipykernel
    assert os.path.realpath(venv_with_ipykernel) != venv_with_ipykernel

    again = invoke(["kernel", "add", "--python", sys.executable, "--name", "torch", "--json"], env)
    assert again.exit_code == ExitCode.USAGE
    err = envelope(again)["errors"][0]
    assert err["code"] == "kernel-exists" and "--force" in err["hint"] and venv_with_ipykernel in err["message"]
    assert kernel_json(tmp_path, "torch")["argv"][0] == venv_with_ipykernel  # untouched

    forced = invoke(["kernel", "add", "--python", sys.executable, "--name", "torch", "--force",
                     "--display-name", "Test env", "--json"], env)
    assert forced.exit_code == 0, forced.output
    assert envelope(forced)["data"]["kernel"]["replaced"] == str(tmp_path / "jupyter" / "kernels" / "torch")
    spec = kernel_json(tmp_path, "torch")
    assert spec["argv"][0] == sys.executable and spec["display_name"] == "Test env"


@pytest.mark.parametrize("name", ["../evil", "My Kernel", "Torch", "a/b", "x;rm", "..", "-x", ""])
def test_add_hostile_kernel_names_exit_2(tmp_path, name):
    env = _env(tmp_path)
    result = invoke(["kernel", "add", "--python", sys.executable, "--name", name, "--json"], env)
    assert result.exit_code == ExitCode.USAGE
    assert envelope(result)["errors"][0]["code"] == "invalid-kernel-name"
    assert not (tmp_path / "jupyter").exists() and not (tmp_path / "evil").exists()


@pytest.mark.parametrize(
    "args, code, exit_code",
    [
        (["--python", "/no/such/python"], "interpreter-not-found", 4),
        (["--env", "nope"], "env-not-found", 4),
        (["--env", "../x"], "invalid-env-name", 2),
        ([], "invalid-input", 2),
        (["--python", sys.executable, "--env", "x"], "invalid-input", 2),
        (["--python", sys.executable, "--user", "--sys-prefix"], "invalid-input", 2),
        (["--python", sys.executable, "--display-name", "a\nb"], "invalid-display-name", 2),
    ],
)
def test_add_input_errors(tmp_path, args, code, exit_code):
    result = invoke(["kernel", "add", "--name", "k", *args, "--json"], _env(tmp_path))
    assert result.exit_code == exit_code, result.output
    assert envelope(result)["errors"][0]["code"] == code


def test_add_dry_run_by_env_name_runs_nothing(tmp_path):
    env = _env(tmp_path)
    envdir = tmp_path / "envs" / "work"
    envdir.parent.mkdir()
    os.symlink(sys.prefix, envdir)  # the test venv (it has ipykernel), under envcheck's envs dir
    result = invoke(["kernel", "add", "--env", "work", "--name", "work", "--dry-run", "--json"], env)
    assert result.exit_code == 0, result.output
    data = envelope(result)["data"]
    assert data["python"] == str(envdir / "bin" / "python")
    assert data["commands"] == [
        f"{envdir}/bin/python -m ipykernel install --name work --display-name "
        f"'Python {sys.version_info[0]}.{sys.version_info[1]} (work)' --user"
    ]
    assert not (tmp_path / "jupyter").exists()


def test_missing_ipykernel_needs_consent(tmp_path, bare_python):
    env = _env(tmp_path)
    result = invoke(["kernel", "add", "--python", bare_python, "--name", "bare", "--json"], env)
    # bare_python has neither ipykernel nor pip, and uv is not on this PATH
    assert result.exit_code == ExitCode.TARGET_NOT_FOUND
    assert envelope(result)["errors"][0]["code"] == "pip-missing"
    assert not (tmp_path / "jupyter").exists()


@pytest.mark.e2e
def test_install_ipykernel_with_the_targets_own_pip(tmp_path, venv_without_ipykernel):
    """Real pip install of ipykernel into a fresh venv (from pip's configured index)."""
    env = _env(tmp_path)
    refused = invoke(["kernel", "add", "--python", venv_without_ipykernel, "--name", "plain", "--json"], env)
    assert refused.exit_code == ExitCode.USAGE
    err = envelope(refused)["errors"][0]
    assert err["code"] == "ipykernel-missing" and "--install-ipykernel" in err["hint"]
    assert not (tmp_path / "jupyter").exists()

    result = invoke(["kernel", "add", "--python", venv_without_ipykernel, "--name", "plain", "--install-ipykernel",
                     "--json"], env)
    assert result.exit_code == 0, result.output
    k = envelope(result)["data"]["kernel"]
    assert k["installed_ipykernel"] is True
    assert kernel_json(tmp_path, "plain")["argv"][0] == venv_without_ipykernel
    check = subprocess.run([venv_without_ipykernel, "-c", "import ipykernel"], capture_output=True)
    assert check.returncode == 0
    log = Path(k["log_path"]).read_text()
    assert "-m pip install ipykernel" in log and "-m ipykernel install" in log


def test_sys_prefix_scope_lands_in_the_target_env(tmp_path, venv_with_ipykernel):
    env = _env(tmp_path)
    prefix = Path(venv_with_ipykernel).parent.parent
    result = invoke(["kernel", "add", "--python", venv_with_ipykernel, "--name", "inside", "--sys-prefix", "--json"], env)
    assert result.exit_code == 0, result.output
    data = envelope(result)["data"]
    assert data["kernel"]["resource_dir"] == str(prefix / "share" / "jupyter" / "kernels" / "inside")
    # The shell's Jupyter (no active env here) would not see it: say so, without failing.
    assert [f["code"] for f in data["findings"]] == ["kernel-not-on-jupyter-path"]
    assert not data["kernel"]["on_search_path"]


def test_shadowed_registration_is_a_problem(tmp_path):
    first = tmp_path / "first" / "kernels" / "dup"
    first.mkdir(parents=True)
    (first / "kernel.json").write_text(json.dumps({"argv": ["/other/python"], "display_name": "x"}))
    env = _env(tmp_path, JUPYTER_PATH=str(tmp_path / "first"))
    result = invoke(["kernel", "add", "--python", sys.executable, "--name", "dup", "--json"], env)
    assert result.exit_code == ExitCode.PROBLEMS, result.output
    data = envelope(result)["data"]
    assert data["kernel"]["shadowed_by"] == str(first)
    assert [f["code"] for f in data["findings"]] == ["kernel-shadowed"]


# --- list, check, remove ------------------------------------------------------------------------


@pytest.mark.e2e
def test_stale_kernel_lifecycle(tmp_path, venv_with_ipykernel):
    env = _env(tmp_path)
    assert invoke(["kernel", "add", "--python", venv_with_ipykernel, "--name", "doomed"], env).exit_code == 0
    ok = invoke(["kernel", "check", "--json"], env)
    assert ok.exit_code == 0 and envelope(ok)["data"]["findings"] == []

    import shutil

    shutil.rmtree(Path(venv_with_ipykernel).parent.parent)  # the env is deleted, the kernel stays

    listed = envelope(invoke(["kernel", "list", "--json"], env))
    entry = next(k for k in listed["data"]["kernels"] if k["name"] == "doomed")
    assert entry["interpreter"] == venv_with_ipykernel and entry["interpreter_exists"] is False and entry["stale"]
    assert listed["data"]["search"]["kernel_dirs"][0] == str(tmp_path / "jupyter" / "kernels")

    stale = invoke(["kernel", "check", "--json"], env)
    assert stale.exit_code == ExitCode.PROBLEMS
    doc = envelope(stale)
    assert doc["status"] == "problems"
    assert [(f["code"], f["severity"]) for f in doc["data"]["findings"]] == [("stale-jupyter-kernel", "error")]
    assert "envcheck kernel remove doomed" in doc["data"]["findings"][0]["fix"]
    human = invoke(["kernel", "check"], env)
    assert human.exit_code == 1 and "stale-jupyter-kernel" in human.stdout

    refused = invoke(["kernel", "remove", "doomed", "--json"], env)  # not a terminal, no --yes
    assert refused.exit_code == ExitCode.USAGE
    assert (tmp_path / "jupyter" / "kernels" / "doomed").is_dir()

    removed = invoke(["kernel", "remove", "doomed", "--yes", "--json"], env)
    assert removed.exit_code == 0
    assert envelope(removed)["data"]["removed"] == [str(tmp_path / "jupyter" / "kernels" / "doomed")]
    assert not (tmp_path / "jupyter" / "kernels" / "doomed").exists()
    assert invoke(["kernel", "check"], env).exit_code == 0

    gone = invoke(["kernel", "remove", "doomed", "--yes", "--json"], env)
    assert gone.exit_code == ExitCode.TARGET_NOT_FOUND
    assert envelope(gone)["errors"][0]["code"] == "kernel-not-found"


def test_list_shows_shadowing_and_invalid_specs(tmp_path):
    for root, argv in (("a", [sys.executable]), ("b", ["/gone/python"])):
        d = tmp_path / root / "kernels" / "same"
        d.mkdir(parents=True)
        (d / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": root}))
    broken = tmp_path / "b" / "kernels" / "broken"
    broken.mkdir()
    (broken / "kernel.json").write_text("{")
    env = _env(tmp_path, JUPYTER_PATH=f"{tmp_path / 'a'}:{tmp_path / 'b'}")
    doc = envelope(invoke(["kernel", "list", "--json"], env))
    by_dir = {k["resource_dir"]: k for k in doc["data"]["kernels"]}
    assert by_dir[str(tmp_path / "b" / "kernels" / "same")]["shadowed_by"] == str(tmp_path / "a" / "kernels" / "same")
    assert "not valid JSON" in by_dir[str(broken)]["error"]
    # the shadowed stale copy and the invalid file are warnings: not exit 1
    check = invoke(["kernel", "check", "--json"], env)
    assert check.exit_code == 0
    assert sorted(f["code"] for f in envelope(check)["data"]["findings"]) == [
        "invalid-jupyter-kernelspec", "stale-jupyter-kernel"]
    human = invoke(["kernel", "list"], env)
    assert human.exit_code == 0 and "shadowed" in human.stdout and "invalid" in human.stdout

    # remove --all deletes every same-named copy; without it only the first
    dry = envelope(invoke(["kernel", "remove", "same", "--all", "--dry-run", "--json"], env))
    assert len(dry["data"]["would_remove"]) == 2 and (tmp_path / "a" / "kernels" / "same").exists()
    one = envelope(invoke(["kernel", "remove", "same", "--yes", "--json"], env))
    assert one["data"]["removed"] == [str(tmp_path / "a" / "kernels" / "same")]
    assert one["data"]["remaining"] == [str(tmp_path / "b" / "kernels" / "same")]


def test_remove_never_leaves_the_jupyter_path(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kernel.json").write_text("{}")
    env = _env(tmp_path)
    for name in ("../outside", "..", "/etc"):
        result = invoke(["kernel", "remove", name, "--yes", "--json"], env)
        assert result.exit_code in (ExitCode.USAGE, ExitCode.TARGET_NOT_FOUND)
    assert (outside / "kernel.json").exists()


def test_register_kernel_building_block_undo(tmp_path):
    """The reusable API (for install --execute): register in a caller's Transaction, then rollback() restores the replaced kernel."""
    env = {k: v for k, v in _env(tmp_path).items() if v is not None}
    old = tmp_path / "jupyter" / "kernels" / "blk"
    old.mkdir(parents=True)
    (old / "kernel.json").write_text(json.dumps({"argv": ["/old/python"], "display_name": "old"}))
    saved = dict(os.environ)
    os.environ.update(env)  # the ipykernel child must see JUPYTER_DATA_DIR
    tx = Transaction()
    try:
        reg = register_kernel(sys.executable, "blk", runner=Runner(), log_path=str(tmp_path / "k.log"), environ=env,
                              force=True, tx=tx, scope=KernelScope.USER)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert reg.argv[0] == sys.executable and reg.replaced == str(old) and not reg.findings
    tx.rollback()
    assert json.loads((old / "kernel.json").read_text())["display_name"] == "old"


def test_add_env_name_found_through_conda(tmp_path, fake_bin):
    """--env NAME not in envcheck's envs dir is looked up with `conda env list --json`, here against a
    stand-in `conda` that records its argv (conda cannot be installed on this machine)."""
    from conftest import write_exe
    from test_create import FAKE_CONDA

    write_exe(fake_bin, "conda", FAKE_CONDA)
    envs = tmp_path / "conda-envs"
    envs.mkdir()
    os.symlink(sys.prefix, envs / "ml")  # a "conda env" that is the test venv (it has ipykernel)
    log = tmp_path / "argv.jsonl"
    env = _env(tmp_path, PATH=f"{fake_bin}:/usr/bin", FAKE_CONDA_LOG=str(log), FAKE_CONDA_ENVS=str(envs))
    result = invoke(["kernel", "add", "--env", "ml", "--name", "ml", "--dry-run", "--json"], env)
    assert result.exit_code == 0, result.output
    assert envelope(result)["data"]["python"] == str(envs / "ml" / "bin" / "python")
    assert [json.loads(line) for line in log.read_text().splitlines()] == [["conda", "env", "list", "--json"]]
