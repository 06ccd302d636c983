"""Each rule has one home, and the commands that use it agree (issue 12):
- an env name is judged by envcheck/names.py in `install`, `install --execute --dry-run` and `create`;
- a stale kernelspec is judged by diagnose.kernel_findings in `doctor` and `kernel check`;
- the ipykernel argv `kernel add --dry-run` shows is the argv that runs;
- `create --python /path/to/python` takes the interpreter's version (and uses it as the venv's base);
- a run leaves HOME untouched.
"""
from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envcheck.cli import app

PY = str(Path(sys.executable).parent / "python")  # the test venv's interpreter (Python 3.x, ipykernel)
XY = "%d.%d" % sys.version_info[:2]


def invoke(*args, env=None):
    return CliRunner().invoke(app, list(args), env=env)


def envelope(result) -> dict:
    return json.loads(result.stdout)


@pytest.mark.parametrize("name, ok", [("my+env", True), ("a b;rm", False), ("base", False)])
def test_env_names_follow_one_rule_in_install_execute_and_create(name, ok):
    runs = {
        "install": invoke("install", "--python", XY, "--os", "linux", "--cpu", "--torch", "2.13.0", "--name", name,
                          "--json"),
        "install --execute --dry-run": invoke("install", "--execute", "--dry-run", "--python", PY, "--cpu", "--torch",
                                              "2.13.0", "--backend", "venv", "--name", name, "--no-kernel", "--json"),
        "create --dry-run": invoke("create", "--name", name, "--python", PY, "--backend", "venv", "--dry-run",
                                   "--json"),
    }
    for what, res in runs.items():
        doc = envelope(res)
        if ok:
            assert res.exit_code == 0, (what, res.output)
        else:
            assert res.exit_code == 2 and doc["errors"][0]["code"] == "invalid-env-name", (what, res.output)


def test_create_takes_an_interpreter_path_and_uses_it_as_the_base():
    res = invoke("create", "--name", "t", "--python", PY, "--backend", "venv", "--dry-run", "--json")
    assert res.exit_code == 0, res.output
    plan = envelope(res)["data"]["plan"]
    assert plan["python"] == XY and plan["base_interpreter"] == PY
    assert plan["commands"] == [shlex.join([PY, "-m", "venv", plan["prefix"]])] or PY in plan["commands"][0]


@pytest.mark.parametrize("args, code, exit_code", [
    (["--python", ""], "invalid-python", 2),
    (["--python", "/bin/ls"], "interpreter-not-found", 4),
])
@pytest.mark.parametrize("command", [["create", "--name", "t", "--dry-run"], ["doctor"], ["kernel", "add", "--name", "t",
                                                                                          "--dry-run"]])
def test_python_that_is_blank_or_not_python_on_every_command(command, args, code, exit_code):
    if "/bin/ls" in args and not os.access("/bin/ls", os.X_OK):
        pytest.skip("no /bin/ls")
    res = invoke(*command, *args, "--json")
    assert res.exit_code == exit_code, res.output
    doc = envelope(res)
    assert doc["errors"][0]["code"] == code and "Traceback" not in res.output


def _stale_kernel(tmp_path: Path) -> None:
    d = Path(os.environ["JUPYTER_DATA_DIR"]) / "kernels" / "py399"
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(json.dumps({"argv": ["python3.99", "-m", "ipykernel_launcher", "-f",
                                                        "{connection_file}"], "display_name": "Py 3.99",
                                               "language": "python"}))


def test_doctor_and_kernel_check_agree_on_a_kernel_launching_a_missing_python(tmp_path):
    _stale_kernel(tmp_path)
    check = invoke("kernel", "check", "--json")
    doctor = invoke("doctor", "--python", PY, "--json")

    def stale(doc):
        return [(f["code"], f["severity"]) for f in doc["data"]["findings"] if f["code"] == "stale-jupyter-kernel"]

    assert check.exit_code == 1 and stale(envelope(check)) == [("stale-jupyter-kernel", "error")]
    assert stale(envelope(doctor)) == stale(envelope(check)) and doctor.exit_code == 1


def test_kernel_add_dry_run_argv_is_the_argv_that_runs(fake_runner):
    from envcheck.commands import kernel

    env = dict(os.environ)
    data_dir = Path(env["JUPYTER_DATA_DIR"])
    info = {"executable": PY, "prefix": sys.prefix, "version": "%d.%d.%d" % sys.version_info[:3],
            "ipykernel": False, "pip": True}
    fake_runner.on("target_info", stdout=json.dumps(info) + "\n")

    def make_kernel(argv):
        d = data_dir / "kernels" / "tk"
        d.mkdir(parents=True, exist_ok=True)
        (d / "kernel.json").write_text(json.dumps({"argv": [PY, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                                                   "display_name": "x", "language": "python"}))

    fake_runner.on("ipykernel install", effect=make_kernel)
    dry = kernel.run_add(name="tk", python=PY, dry_run=True, runner=fake_runner, environ=env)
    assert len(dry.data["commands"]) == 2 and not (data_dir / "kernels" / "tk").exists()
    fake_runner.calls.clear()
    done = kernel.run_add(name="tk", python=PY, yes=True, runner=fake_runner, environ=env)
    ran = [shlex.join(c) for c in fake_runner.calls if "pip" in c or "ipykernel" in c]
    assert ran == dry.data["commands"] and done.exit_code == 0, done.data
    assert done.data["kernel"]["installed_ipykernel"] is True


# Where envcheck and the tools it runs (uv, ipykernel, Jupyter) would write in a home directory. Shared
# download caches (~/.cache) are left out: other processes on a shared machine write there any time.
_HOME_WRITES = (".envcheck", ".ipython", ".jupyter", ".local/share/jupyter", ".local/share/uv", ".config/uv")


def _snapshot(home: Path) -> dict:
    seen = {}
    for rel in _HOME_WRITES:
        top = home / rel
        if top.exists():
            for path in [top, *top.rglob("*")]:
                try:
                    seen[str(path)] = path.lstat().st_mtime_ns
                except OSError:
                    pass
    return seen


def test_a_run_leaves_home_untouched(tmp_path):
    """With the autouse fixture, commands that write (logs, kernels, IPython's dir) write under tmp_path."""
    from conftest import REAL_HOME

    before = _snapshot(REAL_HOME)
    assert os.environ["HOME"].startswith(str(tmp_path)) and os.environ["IPYTHONDIR"].startswith(str(tmp_path))
    for args in (["kernel", "list", "--json"], ["kernel", "check", "--json"],
                 ["create", "--name", "t", "--python", PY, "--backend", "venv", "--dry-run", "--json"],
                 ["install", "--python", XY, "--cpu", "--torch", "2.13.0", "--json"]):
        assert invoke(*args).exit_code in (0, 1)
    res = invoke("kernel", "add", "--name", "homecheck", "--python", PY, "--yes", "--json")
    assert res.exit_code == 0, res.output
    assert envelope(res)["data"]["kernel"]["resource_dir"].startswith(str(tmp_path))
    assert _snapshot(REAL_HOME) == before


def test_an_internal_error_is_exit_70_one_line_and_the_traceback_is_saved(monkeypatch):
    from envcheck.commands import kernel

    def boom(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(kernel, "run_list", boom)
    res = invoke("kernel", "list", "--json")
    assert res.exit_code == 70
    doc = envelope(res)
    err = doc["errors"][0]
    assert err["code"] == "internal-error" and "RuntimeError: a bug" in err["message"]
    path = doc["data"]["traceback_path"]
    assert path.startswith(os.environ["ENVCHECK_LOG_DIR"]) and path in err["message"]
    assert "Traceback (most recent call last)" in Path(path).read_text() and "Traceback" not in res.stdout
    debug = invoke("--debug", "kernel", "list")
    assert isinstance(debug.exception, RuntimeError)  # --debug lets the traceback through
