"""`envcheck create`: real venv and uv environments, the safety rules, and the conda family against
stand-ins (conda, mamba and micromamba cannot be installed on this machine)."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envcheck.cli import app
from envcheck.envs import CreateRequest, create_environment, execute_create, plan_create
from envcheck.workflow.transaction import Transaction
from envcheck.errors import EnvcheckError, ExitCode
from envcheck.runner import Runner
from conftest import write_exe

UV = shutil.which("uv", path=os.path.dirname(sys.executable))
PY311 = "/usr/bin/python3.11"

# A stand-in for conda / mamba / micromamba: records its argv (one JSON list per line in
# $FAKE_CONDA_LOG) and fakes just enough: `env list --json` lists $FAKE_CONDA_ENVS/*, `create`
# makes a prefix with conda-meta/ and bin/python (a link to a real 3.11), `env remove` deletes it.
# FAKE_CONDA_SLEEP=N makes `create` hang N seconds after starting the prefix (for Ctrl-C tests).
# FAKE_CONDA_FAIL=1 makes `create` leave a half-made prefix behind and exit 1, as a failed solve or
# download would.
FAKE_CONDA = f"""\
#!{sys.executable}
import json, os, shutil, sys
args = sys.argv[1:]
with open(os.environ["FAKE_CONDA_LOG"], "a") as fh:
    fh.write(json.dumps([os.path.basename(sys.argv[0])] + args) + "\\n")
envs = os.environ["FAKE_CONDA_ENVS"]
def target():
    if "-n" in args:
        return os.path.join(envs, args[args.index("-n") + 1])
    return args[args.index("-p") + 1]
if args[:3] == ["env", "list", "--json"]:
    found = sorted(os.path.join(envs, d) for d in os.listdir(envs)) if os.path.isdir(envs) else []
    print(json.dumps({{"envs": found}}))
elif args[:1] == ["create"]:
    prefix = target()
    os.makedirs(os.path.join(prefix, "conda-meta"))
    print("Collecting package metadata (repodata.json): done")
    print("Solving environment: done")
    if os.environ.get("FAKE_CONDA_SLEEP"):
        print("Downloading and Extracting Packages", flush=True)
        import time
        time.sleep(float(os.environ["FAKE_CONDA_SLEEP"]))
    if os.environ.get("FAKE_CONDA_FAIL"):
        print("CondaHTTPError: HTTP 000 CONNECTION FAILED for url <https://conda.anaconda.org/main>")
        sys.exit(1)
    os.makedirs(os.path.join(prefix, "bin"))
    os.symlink({PY311!r}, os.path.join(prefix, "bin", "python"))
elif args[:2] == ["env", "remove"]:
    shutil.rmtree(target(), ignore_errors=True)
else:
    sys.exit(2)
"""


def _env(tmp_path: Path, path: str) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "HOME": str(home),
        "PATH": path,
        "ENVCHECK_ENVS_DIR": str(tmp_path / "envs"),
        "ENVCHECK_LOG_DIR": str(tmp_path / "logs"),
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"),
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "COLUMNS": "120",
        "VIRTUAL_ENV": None,
        "CONDA_PREFIX": None,
        "CONDA_EXE": None,
        "MAMBA_EXE": None,
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
    }


def invoke(args: list[str], env: dict):
    result = CliRunner().invoke(app, args, env=env)
    return result


def envelope(result) -> dict:
    return json.loads(result.stdout)


@pytest.fixture
def conda_env(tmp_path, fake_bin):
    write_exe(fake_bin, "conda", FAKE_CONDA)
    env = _env(tmp_path, f"{fake_bin}:/usr/bin")
    env["FAKE_CONDA_LOG"] = str(tmp_path / "conda-argv.jsonl")
    env["FAKE_CONDA_ENVS"] = str(tmp_path / "conda-envs")
    os.makedirs(env["FAKE_CONDA_ENVS"])
    return env


def recorded(env: dict) -> list[list[str]]:
    path = Path(env["FAKE_CONDA_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --- venv and uv, for real ----------------------------------------------------------------------


@pytest.mark.e2e
def test_venv_create_real(tmp_path):
    env = _env(tmp_path, "/usr/bin")  # no conda family, no uv: auto picks venv
    result = invoke(["create", "--name", "t1", "--python", "3.11", "--yes", "--json"], env)
    assert result.exit_code == 0, result.output
    doc = envelope(result)
    assert doc["command"] == "create" and doc["status"] == "ok"
    plan, created = doc["data"]["plan"], doc["data"]["env"]
    assert plan["backend"] == "venv" and "no micromamba, mamba, conda or uv" in plan["backend_why"]
    prefix = tmp_path / "envs" / "t1"
    assert created["prefix"] == str(prefix) and created["created"] and created["replaced"] is None
    assert (prefix / "pyvenv.cfg").is_file()
    assert created["python_version"].startswith("3.11.")
    assert os.access(created["python"], os.X_OK)
    assert plan["commands"] == [f"{plan['base_interpreter']} -m venv {prefix}"]
    assert Path(created["log_path"]).read_text().startswith("$ ")
    assert created["activate"] == f"source {prefix}/bin/activate"


@pytest.mark.e2e
@pytest.mark.skipif(UV is None, reason="uv is part of the test extra")
def test_uv_create_real_no_download(tmp_path, fake_bin):
    os.symlink(UV, fake_bin / "uv")
    env = _env(tmp_path, f"{fake_bin}:/usr/bin")
    result = invoke(["create", "--prefix", str(tmp_path / "uvenv"), "--python", "3.11", "--yes", "--json"], env)
    assert result.exit_code == 0, result.output
    doc = envelope(result)
    assert doc["data"]["plan"]["backend"] == "uv"
    assert "uv found at" in doc["data"]["plan"]["backend_why"]
    # uv got the interpreter envcheck found (a path), so it had nothing to download.
    assert doc["data"]["plan"]["commands"] == [
        f"UV_PYTHON_DOWNLOADS=never {fake_bin}/uv venv --python {PY311} {tmp_path / 'uvenv'}"
    ]
    cfg = (tmp_path / "uvenv" / "pyvenv.cfg").read_text()
    assert "uv = " in cfg
    assert doc["data"]["env"]["python_version"].startswith("3.11.")


@pytest.mark.e2e
def test_existing_env_refused_then_replaced_with_force(tmp_path):
    env = _env(tmp_path, "/usr/bin")
    prefix = tmp_path / "envs" / "keep"
    assert invoke(["create", "-n", "keep", "--python", "3.11", "-y"], env).exit_code == 0
    marker = prefix / "lib" / "MINE"  # inside the layout: a top-level file would make --force refuse (issue 14)
    marker.write_text("do not lose me")

    refused = invoke(["create", "-n", "keep", "--python", "3.11", "-y", "--json"], env)
    assert refused.exit_code == ExitCode.USAGE
    err = envelope(refused)["errors"][0]
    assert err["code"] == "env-exists" and "--force" in err["hint"]
    assert marker.read_text() == "do not lose me"

    replaced = invoke(["create", "-n", "keep", "--python", "3.11", "-y", "--force", "--json"], env)
    assert replaced.exit_code == 0, replaced.output
    assert envelope(replaced)["data"]["env"]["replaced"] == str(prefix)
    assert not marker.exists() and (prefix / "pyvenv.cfg").is_file()
    assert not list((tmp_path / "envs").glob("keep.envcheck-backup-*"))  # the backup is gone after success


def test_directory_that_is_not_an_env_is_never_deleted(tmp_path):
    env = _env(tmp_path, "/usr/bin")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    result = invoke(["create", "--prefix", str(precious), "--python", "3.11", "-y", "--force", "--json"], env)
    assert result.exit_code == ExitCode.USAGE
    assert envelope(result)["errors"][0]["code"] == "path-not-an-env"
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_dry_run_runs_nothing(tmp_path):
    env = _env(tmp_path, "/usr/bin")
    result = invoke(["create", "-n", "dry", "--python", "3.11", "--dry-run", "--json"], env)
    assert result.exit_code == 0
    doc = envelope(result)
    assert doc["data"]["dry_run"] is True and "env" not in doc["data"]
    assert doc["data"]["plan"]["commands"][0].endswith(f"-m venv {tmp_path / 'envs' / 'dry'}")
    assert not (tmp_path / "envs").exists() and not (tmp_path / "logs").exists()


def test_non_interactive_without_yes_refuses(tmp_path):
    env = _env(tmp_path, "/usr/bin")
    result = invoke(["create", "-n", "t", "--python", "3.11", "--json"], env)
    assert result.exit_code == ExitCode.USAGE
    err = envelope(result)["errors"][0]
    assert err["code"] == "confirmation-required" and "--yes" in err["hint"]
    assert not (tmp_path / "envs").exists()


@pytest.mark.parametrize("name", ["../evil", "my env", "x;rm -rf ~", "$(id)", "base", "a#b", "-n", "new\nline"])
def test_hostile_names_exit_2_before_anything_runs(tmp_path, conda_env, name):
    result = invoke(["create", "-n", name, "--python", "3.11", "-y", "--json"], conda_env)
    assert result.exit_code == ExitCode.USAGE
    assert envelope(result)["errors"][0]["code"] == "invalid-env-name"
    assert recorded(conda_env) == []  # not even `conda env list` ran
    assert not (tmp_path / "envs").exists() and not (tmp_path / "evil").exists()


@pytest.mark.parametrize(
    "args, code, exit_code",
    [
        (["--python", "3.11"], "invalid-input", 2),
        (["-n", "a", "-p", "/tmp/x", "--python", "3.11"], "invalid-input", 2),
        (["-n", "a", "--python", "3"], "invalid-python", 2),  # the one --python rule (envcheck.inputs)
        (["-n", "a", "--python", ""], "invalid-python", 2),
        (["-n", "a", "--python", "2.7"], "invalid-python-version", 2),
        (["-n", "a", "--python", "3.11", "--backend", "pixi"], "invalid-backend", 2),
        (["-n", "a", "--python", "3.11", "--backend", "mamba"], "backend-not-found", 4),
        (["-n", "a", "--python", "3.4"], "interpreter-not-found", 4),
        (["-p", "/tmp/a:b", "--python", "3.11"], "invalid-env-path", 2),
    ],
)
def test_input_errors(tmp_path, args, code, exit_code):
    env = _env(tmp_path, "/usr/bin")
    result = invoke(["create", *args, "--yes", "--json"], env)
    assert result.exit_code == exit_code, result.output
    doc = envelope(result)
    assert doc["status"] == "error" and doc["errors"][0]["code"] == code
    assert not (tmp_path / "envs").exists()


def test_missing_interpreter_names_the_fix_and_what_was_tried(tmp_path, fake_bin):
    # A broken pyenv-style shim named python3.12 on PATH must be skipped, not used.
    write_exe(fake_bin, "python3.12", "#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    env = _env(tmp_path, f"{fake_bin}:/usr/bin")
    result = invoke(["create", "-n", "a", "--python", "3.12", "--yes", "--json"], env)
    assert result.exit_code == ExitCode.TARGET_NOT_FOUND
    doc = envelope(result)
    assert "uv python install 3.12" in doc["errors"][0]["hint"]
    assert any("python3.12" in t and "127" in t for t in doc["data"]["tried"])


# --- failures and interruption remove only what this run created --------------------------------


FAILING_PYTHON = f"""\
#!/bin/sh
# Stand-in for python3.11 whose `-m venv` half-creates the env and fails (a real interpreter answers
# the version question, so discovery accepts it).
if [ "$1" = "-m" ]; then
    mkdir -p "$3/bin" && echo "home = /nowhere" > "$3/pyvenv.cfg"
    echo "Error: Command '['$3/bin/python', '-m', 'ensurepip']' returned non-zero exit status 1." >&2
    exit 1
fi
exec {PY311} "$@"
"""


def test_failing_venv_creation_is_removed_and_exits_5(tmp_path, fake_bin):
    """Uses a stand-in python3.11 whose venv step fails after creating files (a real ensurepip failure
    cannot be provoked on demand)."""
    write_exe(fake_bin, "python3.11", FAILING_PYTHON)
    env = _env(tmp_path, f"{fake_bin}:/usr/bin")
    (tmp_path / "envs" / "other").mkdir(parents=True)
    (tmp_path / "envs" / "other" / "pyvenv.cfg").write_text("not ours")
    result = invoke(["create", "-n", "t", "--python", "3.11", "--yes", "--json"], env)
    assert result.exit_code == ExitCode.TOOL_FAILED, result.output
    doc = envelope(result)
    err = doc["errors"][0]
    assert err["code"] == "env-create-failed" and "exited with status 1" in err["message"]
    assert any("ensurepip" in line for line in doc["data"]["log_tail"])
    assert doc["data"]["removed"] == [str(tmp_path / "envs" / "t")]
    assert not (tmp_path / "envs" / "t").exists()
    assert (tmp_path / "envs" / "other" / "pyvenv.cfg").read_text() == "not ours"
    assert Path(doc["data"]["log_path"]).is_file() and doc["data"]["log_path"] in err["hint"]


def test_failing_replacement_puts_the_old_env_back(tmp_path, fake_bin):
    write_exe(fake_bin, "python3.11", FAILING_PYTHON)
    env = _env(tmp_path, f"{fake_bin}:/usr/bin")
    old = tmp_path / "envs" / "t"
    old.mkdir(parents=True)
    (old / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (old / "lib").mkdir()  # inside the env's usual layout (a top-level MINE would be refused: issue 14)
    (old / "lib" / "MINE").write_text("keep")
    result = invoke(["create", "-n", "t", "--python", "3.11", "--yes", "--force", "--json"], env)
    assert result.exit_code == ExitCode.TOOL_FAILED
    assert envelope(result)["data"]["restored"] == str(old)
    assert (old / "lib" / "MINE").read_text() == "keep" and (old / "pyvenv.cfg").read_text() == "home = /usr/bin\n"
    assert sorted(p.name for p in (tmp_path / "envs").iterdir()) == ["t"]


class _InterruptingRunner(Runner):
    """Runs probes for real; the creating step makes a directory and then 'receives' Ctrl-C."""

    def stream(self, argv, **kwargs):
        os.makedirs(argv[-1], exist_ok=True)
        raise KeyboardInterrupt


def test_ctrl_c_removes_the_partial_env_and_exits_130(tmp_path):
    env = {k: v for k, v in _env(tmp_path, "/usr/bin").items() if v is not None}
    plan = plan_create(CreateRequest(python="3.11", name="t", backend="venv"), Runner(), env)
    with pytest.raises(EnvcheckError) as exc:
        execute_create(plan, _InterruptingRunner(), str(tmp_path / "log.txt"))
    assert exc.value.exit_code == ExitCode.INTERRUPTED
    assert exc.value.data["removed"] == [str(tmp_path / "envs" / "t")]
    assert not (tmp_path / "envs" / "t").exists()


@pytest.mark.e2e
def test_create_environment_building_block_undo_and_commit(tmp_path):
    """The reusable API (for install --execute): a caller's Transaction, then rollback() restores the old env."""
    env = {k: v for k, v in _env(tmp_path, "/usr/bin").items() if v is not None}
    old = tmp_path / "envs" / "t"
    old.mkdir(parents=True)
    (old / "pyvenv.cfg").write_text("old")
    tx = Transaction()
    created = create_environment(CreateRequest(python="3.11", name="t", force=True), Runner(),
                                 str(tmp_path / "log.txt"), env, tx=tx)
    assert created.created and created.replaced == str(old) and os.path.isfile(created.python)
    assert (old / "pyvenv.cfg").read_text() != "old"
    report = tx.rollback()  # e.g. a later pip install failed
    assert (old / "pyvenv.cfg").read_text() == "old"
    assert sorted(p.name for p in (tmp_path / "envs").iterdir()) == ["t"]
    assert report.paths("restored", "env") == [str(old)]
    assert tx.rollback() == report  # idempotent


# --- conda family, against a stand-in executable ---------------------------------------------------


def test_conda_standin_create_exact_argv(conda_env, tmp_path):
    """Runs against a stand-in `conda` on PATH that records its argv and fakes a prefix (conda cannot
    be installed on this machine)."""
    result = invoke(["create", "-n", "torch", "--python", "3.11", "--yes", "--json"], conda_env)
    assert result.exit_code == 0, result.output
    doc = envelope(result)
    assert doc["data"]["plan"]["backend"] == "conda"
    assert "conda found at" in doc["data"]["plan"]["backend_why"]
    assert recorded(conda_env) == [
        ["conda", "env", "list", "--json"],
        ["conda", "create", "-n", "torch", "python=3.11", "-y"],
        ["conda", "env", "list", "--json"],
    ]
    created = doc["data"]["env"]
    assert created["prefix"] == str(tmp_path / "conda-envs" / "torch")
    assert created["activate"] == "conda activate torch"
    assert created["python_version"].startswith("3.11.")


def test_conda_standin_mirror_url_overrides_channels(conda_env):
    """Stand-in `conda` (records argv). --mirror URL -> --override-channels -c URL."""
    url = "https://mirrors.example.org/anaconda/pkgs/main"
    result = invoke(["create", "-n", "m", "--python", "3.11", "--mirror", url, "--yes"], conda_env)
    assert result.exit_code == 0, result.output
    assert ["conda", "create", "-n", "m", "python=3.11", "-y", "--override-channels", "-c", url] in recorded(conda_env)


def test_conda_standin_existing_env_refused(conda_env, tmp_path):
    """Stand-in `conda`: an env of that name in `conda env list` is never replaced without --force."""
    (tmp_path / "conda-envs" / "torch" / "conda-meta").mkdir(parents=True)
    result = invoke(["create", "-n", "torch", "--python", "3.11", "--yes", "--json"], conda_env)
    assert result.exit_code == ExitCode.USAGE
    assert envelope(result)["errors"][0]["code"] == "env-exists"
    assert recorded(conda_env) == [["conda", "env", "list", "--json"]]  # no create ran


def test_conda_standin_failure_removes_only_its_env(conda_env, tmp_path):
    """Stand-in `conda` whose create fails after making a partial prefix: envcheck runs `conda env
    remove -n NAME -y`, the partial prefix is gone, a neighbouring env is untouched, exit 5."""
    neighbour = tmp_path / "conda-envs" / "keep" / "conda-meta"
    neighbour.mkdir(parents=True)
    conda_env["FAKE_CONDA_FAIL"] = "1"
    result = invoke(["create", "-n", "torch", "--python", "3.11", "--yes", "--json"], conda_env)
    assert result.exit_code == ExitCode.TOOL_FAILED, result.output
    doc = envelope(result)
    assert any("CONNECTION FAILED" in line for line in doc["data"]["log_tail"])
    assert ["conda", "env", "remove", "-n", "torch", "-y"] in recorded(conda_env)
    assert not (tmp_path / "conda-envs" / "torch").exists()
    assert neighbour.is_dir()
    assert "CONNECTION FAILED" in result.stderr  # the tail is shown to humans too


def test_conda_standin_dry_run_only_lists(conda_env, tmp_path):
    """Stand-in `conda`: --dry-run runs only the read-only `env list`."""
    result = invoke(["create", "-p", str(tmp_path / "p"), "--python", "3.10", "--dry-run", "--json"], conda_env)
    assert result.exit_code == 0
    assert envelope(result)["data"]["plan"]["commands"] == [
        f"{conda_env['PATH'].split(':')[0]}/conda create -p {tmp_path / 'p'} python=3.10 -y"
    ]
    assert recorded(conda_env) == []  # a --prefix target needs no env list at all
    assert not (tmp_path / "p").exists()


def test_auto_prefers_micromamba_then_mamba_then_conda(conda_env, fake_bin):
    """Stand-ins for conda, mamba and micromamba on PATH: auto takes micromamba first."""
    write_exe(fake_bin, "mamba", FAKE_CONDA)
    write_exe(fake_bin, "micromamba", FAKE_CONDA)
    result = invoke(["create", "-n", "x", "--python", "3.11", "--dry-run", "--json"], conda_env)
    plan = envelope(result)["data"]["plan"]
    assert plan["backend"] == "micromamba" and "first of micromamba, mamba, conda" in plan["backend_why"]
    os.unlink(fake_bin / "micromamba")
    result = invoke(["create", "-n", "x", "--python", "3.11", "--dry-run", "--json"], conda_env)
    assert envelope(result)["data"]["plan"]["backend"] == "mamba"


def test_human_output_shows_activate_and_kernel_hint(conda_env):
    """Stand-in `conda`; checks the rich output a person sees."""
    result = invoke(["create", "-n", "hum", "--python", "3.11", "--yes"], conda_env)
    assert result.exit_code == 0, result.output
    assert "conda activate hum" in result.stdout
    assert "envcheck kernel add --python" in result.stdout
    assert "log: " in result.stderr


def test_prompt_answers(conda_env, tmp_path, monkeypatch):
    """Stand-in `conda`. At a terminal the question shows the exact command; 'no' changes nothing
    (exit 2, code cancelled), 'yes' proceeds."""
    from envcheck.commands import create as cmd

    for key, value in conda_env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    asked = []

    def say(answer):
        return lambda question: asked.append(question) or answer

    with pytest.raises(EnvcheckError) as exc:
        cmd.run(python="3.11", name="p", confirm=say(False))
    assert exc.value.code == "cancelled" and exc.value.exit_code == ExitCode.USAGE
    assert "create -n p python=3.11 -y" in asked[0]
    assert not (tmp_path / "conda-envs" / "p").exists()
    result = cmd.run(python="3.11", name="p", confirm=say(True))
    assert result.exit_code == 0 and (tmp_path / "conda-envs" / "p" / "conda-meta").is_dir()
