"""`envcheck install --execute`: plans (exact argv per backend and era), the refusals that come before
anything changes, --dry-run, and the whole loop against a stand-in `conda`.

conda, mamba and micromamba cannot be installed on this machine: the conda-family tests put a
stand-in executable named `conda` on PATH that records every argv it gets (FAKE_CONDA_LOG) and fakes
just enough (see STANDIN_CONDA). The real venv + pip + ipykernel loop is in test_install_execute_e2e.py.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_exe
from envcheck.cli import app
from envcheck.commands import install as install_cmd
from envcheck.commands.install_execute import parse_only, plan_install_argv
from envcheck.workflow.hints import suggest_fix
from envcheck.workflow.logs import step_tail
from envcheck.workflow.timing import timing_split
from envcheck.errors import EnvcheckError
from envcheck.runner import Completed

PY311 = "/usr/bin/python3.11"
DEV_PYTHON = str(Path(sys.executable).parent / "python")  # the test venv: torch 2.13.0 CPU + ipykernel
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

needs_py311 = pytest.mark.skipif(not os.access(PY311, os.X_OK), reason=f"{PY311} is not installed")


def _rec(torch: str, *, cpu: bool = True, driver: str | None = None, ccs=()):
    """A recommendation from the shipped matrix, with every input given (no probing)."""
    return install_cmd.decide(python="3.11", os_name="linux", torch=torch, cpu=cpu, driver=driver,
                              gpu_cc=ccs).recommendation


# --- pure: --only, the install argv per backend and era, fixes, timing --------------------------


@pytest.mark.parametrize("values, expected", [
    ([], None),
    (["torch"], ("torch",)),
    (["torch,torchvision"], ("torch", "torchvision")),
    (["TORCHAUDIO", "torch", "torch"], ("torch", "torchaudio")),
    ([" torchvision , torch "], ("torch", "torchvision")),
])
def test_parse_only(values, expected):
    assert parse_only(values) == expected


@pytest.mark.parametrize("values", [["torchvision"], ["numpy"], ["torch,tensorflow"], [","]])
def test_parse_only_rejects(values):
    with pytest.raises(EnvcheckError) as info:
        parse_only(values)
    assert info.value.exit_code == 2 and info.value.code == "invalid-only"


PY = "/envs/t/bin/python"
ARGV = [
    # id, recommendation args, plan_install_argv kwargs, expected (route, argv)
    ("venv-pip-index-url-era", ("2.13.0",), dict(backend="venv", executable=PY311),
     ("pip", (PY, "-m", "pip", "install", "torch==2.13.0", "torchvision==0.28.0", "--index-url", CPU_INDEX))),
    ("venv-only-torch-local-wheels", ("2.13.0",), dict(backend="venv", executable=PY311, only=("torch",),
                                                       find_links="/wheels"),
     ("pip", (PY, "-m", "pip", "install", "torch==2.13.0", "--index-url", CPU_INDEX, "--find-links", "/wheels"))),
    ("venv-mirror-index", ("2.13.0",), dict(backend="venv", executable=PY311, index_url="file:///m/simple"),
     ("pip", (PY, "-m", "pip", "install", "torch==2.13.0", "torchvision==0.28.0", "--index-url", "file:///m/simple"))),
    ("uv", ("2.13.0",), dict(backend="uv", executable="/bin/uv"),
     ("uv", ("/bin/uv", "pip", "install", "--python", PY, "torch==2.13.0", "torchvision==0.28.0", "--index-url",
             CPU_INDEX))),
    ("conda-channel-era-cpu", ("2.5.1",), dict(backend="conda", executable="/c/conda", conda_target=("-n", "t")),
     ("conda", ("/c/conda", "install", "-n", "t", "pytorch==2.5.1", "torchvision==0.20.1", "torchaudio==2.5.1",
                "cpuonly", "-c", "pytorch", "-y"))),
    ("micromamba-prefix-only-torch", ("2.5.1",), dict(backend="micromamba", executable="/m/micromamba",
                                                       conda_target=("-p", "/envs/t"), only=("torch",)),
     ("conda", ("/m/micromamba", "install", "-p", "/envs/t", "pytorch==2.5.1", "cpuonly", "-c", "pytorch", "-y"))),
    ("conda-only-torch-and-torchaudio", ("2.5.1",), dict(backend="conda", executable="/c/conda",
                                                          conda_target=("-n", "t"), only=("torch", "torchaudio")),
     ("conda", ("/c/conda", "install", "-n", "t", "pytorch==2.5.1", "torchaudio==2.5.1", "cpuonly", "-c", "pytorch",
                "-y"))),
    ("conda-pytorch-cuda-era", ("2.1.2", False, "535.104.05", ("8.6",)),
     dict(backend="mamba", executable="/c/mamba", conda_target=("-n", "t")),
     ("conda", ("/c/mamba", "install", "-n", "t", "pytorch==2.1.2", "torchvision==0.16.2", "torchaudio==2.1.2",
                "pytorch-cuda=12.1", "-c", "pytorch", "-c", "nvidia", "-y"))),
    ("conda-after-2.5-pip-in-env", ("2.13.0",), dict(backend="conda", executable="/c/conda", conda_target=("-n", "t")),
     ("conda-pip", ("/c/conda", "run", "-n", "t", "python", "-m", "pip", "install", "torch==2.13.0",
                    "torchvision==0.28.0", "--index-url", CPU_INDEX))),
]


@pytest.mark.parametrize("rec_args, kwargs, expected", [a[1:] for a in ARGV], ids=[a[0] for a in ARGV])
def test_plan_install_argv(rec_args, kwargs, expected):
    torch, *rest = rec_args
    rec = _rec(torch, cpu=rest[0] if rest else True, driver=rest[1] if rest else None, ccs=rest[2] if rest else ())
    assert plan_install_argv(rec, env_python=PY, **kwargs) == expected


@pytest.mark.parametrize("tail, completed, needle", [
    (["ERROR: No matching distribution found for torch==2.13.0"], None, "--find-links"),
    (["PackagesNotFoundError: The following packages are not available"], None, "channel has no such package"),
    (["OSError: [Errno 28] No space left on device"], None, "free disk space"),
    (["CondaHTTPError: HTTP 000 CONNECTION FAILED"], None, "--mirror"),
    (["something odd"], None, "--dry-run"),
    ([], Completed(("pip",), None, timed_out=True), "timed out"),
    ([], Completed(("/x/uv",), None, error="not found"), "uv could not start"),
])
def test_suggest_fix(tail, completed, needle):
    assert needle in suggest_fix(tail, completed)


def test_timing_split_clamps_overlap_and_counts_the_rest_as_envcheck():
    steps = [{"id": "create", "wall_s": 3.0, "tool_s": 2.9}, {"id": "install", "wall_s": 30.0, "tool_s": 29.5},
             {"id": "kernel", "wall_s": 1.0, "tool_s": 1.4}, {"id": "verify", "wall_s": 5.0, "tool_s": 4.0}]
    t = timing_split(40.0, steps)
    assert t["by_step"] == {"create": 2.9, "install": 29.5, "kernel": 1.0, "verify": 4.0}
    assert t["tools_s"] == 37.4 and t["package_tools_s"] == 33.4 and t["verify_s"] == 4.0
    assert t["envcheck_s"] == 2.6 and t["envcheck_fraction"] == 0.065


def test_step_tail_is_the_failing_commands_output(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("$ python -m venv e\nok\n# exit status 0\n$ pip install torch\nERROR: nope\n# exit status 1\n")
    assert step_tail(str(log)) == ["$ pip install torch", "ERROR: nope", "# exit status 1"]
    assert step_tail(str(tmp_path / "missing.log")) == []


# --- CLI: refusals before anything changes, --dry-run ---------------------------------------------


def _env(tmp_path: Path, path: str = "/usr/bin:/bin") -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        "HOME": str(home), "PATH": path, "COLUMNS": "120", "ENVCHECK_DISABLE_NVML": "1",
        "ENVCHECK_ENVS_DIR": str(tmp_path / "envs"), "ENVCHECK_LOG_DIR": str(tmp_path / "logs"),
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"), "PYENV_ROOT": str(tmp_path / "no-pyenv"),
        "VIRTUAL_ENV": None, "CONDA_PREFIX": None, "CONDA_EXE": None, "MAMBA_EXE": None, "JUPYTER_PATH": None,
    }


def invoke(args, env):
    return CliRunner().invoke(app, ["install", *args], env=env)


BASE = ["--execute", "--torch", "2.13.0", "--cpu", "--backend", "venv"]


@needs_py311
def test_dry_run_prints_every_argv_and_creates_nothing(tmp_path):
    env = _env(tmp_path)
    prefix = tmp_path / "t"
    res = invoke([*BASE, "--python", PY311, "--prefix", str(prefix), "--kernel", "tk", "--only", "torch",
                  "--find-links", str(tmp_path), "--dry-run", "--json"], env)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)["data"]
    py = str(prefix / "bin" / "python")
    assert data["dry_run"] is True and data["plan"]["route"] == "pip"
    assert [s["argv"] for s in data["plan"]["steps"]] == [
        [[PY311, "-m", "venv", str(prefix)]],
        [[py, "-m", "pip", "install", "torch==2.13.0", "--index-url", CPU_INDEX, "--find-links", str(tmp_path)]],
        [[py, "-m", "pip", "install", "--find-links", str(tmp_path), "ipykernel"],
         [py, "-m", "ipykernel", "install", "--name", "tk", "--display-name", "Python 3.11 (tk)", "--user"]],
        [["envcheck", "verify", "--python", py, "--device", "cpu"]],
    ]
    assert data["plan"]["steps"][1]["commands"] == [
        f"{py} -m pip install torch==2.13.0 --index-url {CPU_INDEX} --find-links {tmp_path}"]
    assert data["plan"]["kernel"]["resource_dir"] == str(tmp_path / "jupyter" / "kernels" / "tk")
    assert not prefix.exists() and not (tmp_path / "logs").exists() and not (tmp_path / "jupyter").exists()

    human = invoke([*BASE, "--python", PY311, "--prefix", str(prefix), "--no-kernel", "--dry-run"], env)
    assert human.exit_code == 0, human.output
    assert "dry run" in human.stdout and "# 3. verify inside the environment" in human.stdout
    assert f"{py} -m pip install torch==2.13.0 torchvision==0.28.0 --index-url {CPU_INDEX}" in human.stdout
    assert not prefix.exists()


@needs_py311
def test_refuses_to_clobber_an_existing_env(tmp_path):
    env = _env(tmp_path)
    prefix = tmp_path / "old"
    prefix.mkdir()
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (prefix / "mine.txt").write_text("keep")
    res = invoke([*BASE, "--python", "3.11", "--prefix", str(prefix), "--yes", "--json"], env)
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["errors"][0]["code"] == "env-exists" and "--force" in doc["errors"][0]["hint"]
    assert sorted(p.name for p in prefix.iterdir()) == ["mine.txt", "pyvenv.cfg"]
    assert not (tmp_path / "logs").exists()


@needs_py311
def test_refuses_to_replace_an_existing_kernel_before_creating_anything(tmp_path):
    env = _env(tmp_path)
    spec = tmp_path / "jupyter" / "kernels" / "tk"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": ["/old/python"], "display_name": "old", "language": "python"}))
    res = invoke([*BASE, "--python", "3.11", "--name", "t", "--kernel", "tk", "--yes", "--json"], env)
    assert res.exit_code == 2
    assert json.loads(res.stdout)["errors"][0]["code"] == "kernel-exists"
    assert not (tmp_path / "envs").exists()
    assert json.loads((spec / "kernel.json").read_text())["argv"] == ["/old/python"]


@pytest.mark.parametrize("args, code", [
    (["--torch", "2.13.0", "--cpu", "--prefix", "/tmp/x"], "execute-option"),  # --prefix without --execute
    ([*BASE, "--only", "numpy", "--dry-run"], "invalid-only"),
    ([*BASE, "--find-links", "/no/such/dir", "--dry-run"], "invalid-find-links"),
    ([*BASE, "--index-url", "not a url", "--dry-run"], "invalid-index-url"),
    ([*BASE, "--os", "windows", "--dry-run"], "invalid-input"),
    ([*BASE, "--kernel", "Bad Name", "--dry-run"], "invalid-kernel-name"),
    ([*BASE, "--kernel", "k", "--no-kernel", "--dry-run"], "invalid-input"),
    ([*BASE, "--name", "../evil", "--dry-run"], "invalid-env-name"),
    ([*BASE, "--name", "a", "--prefix", "/tmp/b", "--dry-run"], "invalid-input"),
    ([*BASE, "--all", "--dry-run"], "execute-option"),
])
def test_bad_input_exits_2_with_the_envelope(tmp_path, args, code):
    res = invoke([*args, "--python", "3.11", "--json"], _env(tmp_path))
    assert res.exit_code == 2, res.output
    doc = json.loads(res.stdout)
    assert doc["status"] == "error" and doc["errors"][0]["code"] == code
    assert not (tmp_path / "envs").exists()


@needs_py311
def test_without_yes_and_without_a_terminal_it_refuses(tmp_path):
    res = invoke([*BASE, "--python", "3.11", "--name", "t", "--json"], _env(tmp_path))
    assert res.exit_code == 2
    doc = json.loads(res.stdout)
    assert doc["errors"][0]["code"] == "confirmation-required" and "--yes" in doc["errors"][0]["hint"]
    assert not (tmp_path / "envs").exists()


@needs_py311
def test_the_question_shows_every_command_and_no_changes_nothing(tmp_path):
    from envcheck.commands import install_execute

    env = {k: v for k, v in _env(tmp_path).items() if v is not None}
    asked = []
    request = install_execute.ExecuteRequest(python="3.11", cpu=True, torch="2.13.0", backend="venv", name="t",
                                             kernel="tk")
    with pytest.raises(EnvcheckError) as info:
        install_execute.run(request, confirm=lambda q: asked.append(q) or False, environ=env)
    assert info.value.code == "cancelled" and info.value.exit_code == 2
    question = asked[0]
    py = str(tmp_path / "envs" / "t" / "bin" / "python")
    assert question.startswith("Install torch 2.13.0 (cpu) into a new Python 3.11 environment at ")
    assert f"{py} -m pip install torch==2.13.0 torchvision==0.28.0 --index-url {CPU_INDEX}" in question
    assert f"{py} -m ipykernel install --name tk" in question and question.endswith("Proceed?")
    assert not (tmp_path / "envs").exists() and not (tmp_path / "logs").exists()


# --- the whole loop against a stand-in conda ------------------------------------------------------

# A stand-in `conda` (conda cannot be installed here). It records argv to $FAKE_CONDA_LOG and fakes:
# `env list --json` (the dirs in $FAKE_CONDA_ENVS), `create` (a prefix with conda-meta/ and a bin/python
# that execs the test venv's interpreter, which has torch 2.13.0 CPU and ipykernel, so the kernel and
# verify steps really run; FAKE_CONDA_CREATE_FAIL=1 leaves a half-made prefix and fails like a network
# error), `install` and `run ...` (print and succeed; FAKE_CONDA_RUN_FAIL=1 fails like pip,
# FAKE_CONDA_RUN_SLEEP=N hangs), `env remove` (deletes the prefix).
STANDIN_CONDA = f"""\
#!{sys.executable}
import json, os, shutil, sys, time
args = sys.argv[1:]
with open(os.environ["FAKE_CONDA_LOG"], "a") as fh:
    fh.write(json.dumps(["conda"] + args) + "\\n")
envs = os.environ["FAKE_CONDA_ENVS"]
def target():
    return os.path.join(envs, args[args.index("-n") + 1]) if "-n" in args else args[args.index("-p") + 1]
if args[:3] == ["env", "list", "--json"]:
    print(json.dumps({{"envs": sorted(os.path.join(envs, d) for d in os.listdir(envs))}}))
elif args[:1] == ["create"]:
    prefix = target()
    os.makedirs(os.path.join(prefix, "conda-meta"))
    if os.environ.get("FAKE_CONDA_CREATE_FAIL"):
        print("CondaHTTPError: HTTP 000 CONNECTION FAILED for url <https://conda.anaconda.org/main>")
        sys.exit(1)
    os.makedirs(os.path.join(prefix, "bin"))
    with open(os.path.join(prefix, "bin", "python"), "w") as fh:
        fh.write("#!/bin/sh\\nexec {DEV_PYTHON} \\"$@\\"\\n")
    os.chmod(os.path.join(prefix, "bin", "python"), 0o755)
    print("Solving environment: done")
elif args[:1] in (["install"], ["run"]):
    print("Collecting torch==2.13.0", flush=True)
    if os.environ.get("FAKE_CONDA_RUN_SLEEP"):
        time.sleep(float(os.environ["FAKE_CONDA_RUN_SLEEP"]))
    if os.environ.get("FAKE_CONDA_RUN_FAIL"):
        print("ERROR: No matching distribution found for torch==2.13.0")
        sys.exit(1)
    print("Successfully installed torch-2.13.0")
elif args[:2] == ["env", "remove"]:
    shutil.rmtree(target(), ignore_errors=True)
else:
    sys.exit(2)
"""


@pytest.fixture
def conda_env(tmp_path, fake_bin):
    write_exe(fake_bin, "conda", STANDIN_CONDA)
    env = {k: v for k, v in _env(tmp_path, f"{fake_bin}:/usr/bin:/bin").items() if v is not None}
    env = {**{k: v for k, v in os.environ.items()
              if not k.startswith(("CONDA", "MAMBA", "JUPYTER_", "ENVCHECK_", "VIRTUAL_ENV", "UV_"))}, **env}
    env["FAKE_CONDA_LOG"] = str(tmp_path / "conda-argv.jsonl")
    env["FAKE_CONDA_ENVS"] = str(tmp_path / "conda-envs")
    os.makedirs(env["FAKE_CONDA_ENVS"])
    return env


def recorded(env) -> list[list[str]]:
    path = Path(env["FAKE_CONDA_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run_cli(envcheck_bin, args, env, timeout=120):
    return subprocess.run([envcheck_bin, "install", *args], env=env, capture_output=True, text=True, timeout=timeout)


CONDA_ARGS = ["--execute", "--torch", "2.13.0", "--cpu", "--python", "3.11", "--backend", "conda", "--name", "tn"]
PIP_IN_CONDA = ["conda", "run", "-n", "tn", "python", "-m", "pip", "install", "torch==2.13.0", "torchvision==0.28.0",
                "--index-url", CPU_INDEX]


@pytest.mark.e2e
def test_conda_backend_whole_loop_with_a_standin(envcheck_bin, conda_env, tmp_path):
    """Stand-in `conda` on PATH (see STANDIN_CONDA): the exact argv sequence, then a real kernel and a
    real verification run with the interpreter the stand-in env points at. The stand-in's pip says it
    installed torchvision but puts nothing there (the test venv has none): a package this run installed
    that the env does not have is a failed check (issue 9), exit 1, the env and kernel kept."""
    res = run_cli(envcheck_bin, [*CONDA_ARGS, "--kernel", "tk", "--yes", "--json"], conda_env)
    assert res.returncode == 1, res.stderr
    assert recorded(conda_env) == [
        ["conda", "env", "list", "--json"],  # plan: is there a `tn` already?
        ["conda", "create", "-n", "tn", "python=3.11", "-y"],
        ["conda", "env", "list", "--json"],  # where conda put it
        PIP_IN_CONDA,  # no conda build of 2.13.0: pip inside the env, as `envcheck install` prints
    ]
    data = json.loads(res.stdout)["data"]
    prefix = Path(conda_env["FAKE_CONDA_ENVS"]) / "tn"
    assert data["env"]["prefix"] == str(prefix) and data["activate"] == "conda activate tn"
    assert data["plan"]["route"] == "conda-pip"
    assert data["steps"][1]["commands"] == [" ".join([str(Path(conda_env["PATH"].split(":")[0]) / "conda"),
                                                      *PIP_IN_CONDA[1:]])]
    assert [s["status"] for s in data["steps"]] == ["ok", "ok", "ok", "fail"]
    assert data["kernel"]["resource_dir"] == str(tmp_path / "jupyter" / "kernels" / "tk")
    assert (tmp_path / "jupyter" / "kernels" / "tk" / "kernel.json").is_file()
    assert data["verify"]["summary"]["failed"] == 1 and data["verify"]["target"]["torch"].startswith("2.13.0")
    vision = {c["id"]: c for c in data["verify"]["checks"]}["torchvision-import"]
    # install --execute requires what it installed: the suite itself fails the import (live), with the fix
    assert vision["status"] == "fail" and "torchvision is required here, but" in vision["message"]
    assert "install torchvision built like torch 2.13.0" in vision["fix"]
    assert "FAIL" in res.stderr and "torchvision-import" in res.stderr
    assert data["proof"]["verified"] == ["torch"] and data["proof"]["failed"] == {"torchvision": ["torchvision-import"]}
    assert prefix.is_dir()  # kept
    t = data["timing"]
    assert abs(t["tools_s"] + t["envcheck_s"] - t["wall_s"]) < 0.01 and set(t["by_step"]) == {
        "create", "install", "kernel", "verify"}
    assert "[2/4] install torch, torchvision" in res.stderr and "tool output goes to" in res.stderr


@pytest.mark.e2e
def test_conda_force_then_failed_install_puts_the_old_env_back(envcheck_bin, conda_env, tmp_path):
    """Stand-in `conda` (see STANDIN_CONDA) whose pip step fails: exit 5, the new env is removed through
    `conda env remove`, the env --force replaced is back with its files, no kernel is left."""
    old = Path(conda_env["FAKE_CONDA_ENVS"]) / "tn"
    (old / "conda-meta").mkdir(parents=True)
    (old / "etc").mkdir()  # inside the layout: a top-level file would make --force refuse (issue 14)
    (old / "etc" / "mine.txt").write_text("keep")
    res = run_cli(envcheck_bin, [*CONDA_ARGS, "--force", "--yes", "--json"], {**conda_env, "FAKE_CONDA_RUN_FAIL": "1"})
    assert res.returncode == 5, res.stderr
    doc = json.loads(res.stdout)
    assert doc["errors"][0]["code"] == "install-failed"
    data = doc["data"]
    assert data["failed_step"] == "install" and data["undone"]["env_restored"] == str(old)
    assert "No matching distribution" in "\n".join(data["log_tail"])
    assert "--find-links" in data["fix"] and "--index-url" in data["fix"]
    assert data["cause"] == "no-matching-distribution"  # from what pip said (workflow/hints.py)
    assert (old / "etc" / "mine.txt").read_text() == "keep"
    assert ["conda", "env", "remove", "-n", "tn", "-y"] in recorded(conda_env)
    assert sorted(os.listdir(conda_env["FAKE_CONDA_ENVS"])) == ["tn"]  # no backup left behind
    assert not (tmp_path / "jupyter" / "kernels").exists()
    assert "| ERROR: No matching distribution found" in res.stderr


@pytest.mark.e2e
def test_failed_create_leaves_nothing_and_names_the_fix(envcheck_bin, conda_env, tmp_path):
    """Stand-in `conda` (see STANDIN_CONDA) whose `create` fails half-way: exit 5, the half-made env is
    removed, nothing else ran, the fix names the network/--mirror."""
    res = run_cli(envcheck_bin, [*CONDA_ARGS, "--yes", "--json"], {**conda_env, "FAKE_CONDA_CREATE_FAIL": "1"})
    assert res.returncode == 5, res.stderr
    doc = json.loads(res.stdout)
    assert doc["errors"][0]["code"] == "env-create-failed"
    data = doc["data"]
    prefix = Path(conda_env["FAKE_CONDA_ENVS"]) / "tn"
    assert data["failed_step"] == "create" and data["undone"]["env_removed"] == str(prefix) and not prefix.exists()
    assert "--mirror" in data["fix"] and [s["status"] for s in data["steps"]] == ["fail", "pending", "pending", "pending"]
    assert not any(a[:2] == ["conda", "run"] for a in recorded(conda_env))


@pytest.mark.e2e
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_during_the_install_removes_the_env(envcheck_bin, conda_env, tmp_path, signum):
    """Stand-in `conda` (see STANDIN_CONDA) that hangs in the pip step: SIGINT (Ctrl-C) or SIGTERM (a
    cancelled CI job) -> exit 130, the env this run created is removed."""
    env = {**conda_env, "FAKE_CONDA_RUN_SLEEP": "60"}
    proc = subprocess.Popen([envcheck_bin, "install", *CONDA_ARGS, "--yes", "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not any(a[:2] == ["conda", "run"] for a in recorded(env)):
        assert time.monotonic() < deadline and proc.poll() is None, "the install step never started"
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["errors"][0]["code"] == "interrupted"
    prefix = Path(env["FAKE_CONDA_ENVS"]) / "tn"
    assert doc["data"]["undone"]["env_removed"] == str(prefix) and not prefix.exists()
    assert doc["data"]["failed_step"] == "install"


@pytest.mark.e2e
def test_conda_channel_era_dry_run_with_micromamba_prefix(envcheck_bin, tmp_path, fake_bin):
    """A stand-in `micromamba` (never run by a dry run except `env list`, which --prefix skips): the
    era's `install ... -c pytorch` with the chosen tool and -p PREFIX."""
    write_exe(fake_bin, "micromamba", "#!/bin/sh\nexit 3\n")
    env = {k: v for k, v in _env(tmp_path, f"{fake_bin}:/usr/bin:/bin").items() if v is not None}
    prefix = tmp_path / "mm"
    res = run_cli(envcheck_bin, ["--execute", "--torch", "2.5.1", "--cpu", "--python", "3.11", "--prefix", str(prefix),
                                 "--no-kernel", "--dry-run", "--json"], env)
    assert res.returncode == 0, res.stderr
    plan = json.loads(res.stdout)["data"]["plan"]
    mm = str(fake_bin / "micromamba")
    assert plan["env"]["backend"] == "micromamba"
    assert [s["argv"] for s in plan["steps"]][:2] == [
        [[mm, "create", "-p", str(prefix), "python=3.11", "-y"]],
        [[mm, "install", "-p", str(prefix), "pytorch==2.5.1", "torchvision==0.20.1", "torchaudio==2.5.1", "cpuonly",
          "-c", "pytorch", "-y"]],
    ]
    assert not prefix.exists()


# --- rendering: the progress lines and the summary ------------------------------------------------


def _console():
    from rich.console import Console

    return Console(record=True, width=120, force_terminal=False, color_system=None)


def test_progress_lines_without_a_terminal():
    from envcheck.render.env import StepView
    from envcheck.workflow import events as ev

    con = _console()
    view = StepView(con)
    for event in (
        ev.LogOpened("/l/install.log"),
        ev.StepStarted(2, 4, "install", "install torch", ("pip install torch==2.13.0",)),
        ev.ToolLine("Collecting torch"),  # only shown next to a spinner on a terminal
        ev.CommandStarted("/e/bin/python -m pip install torch==2.13.0"),
        ev.Warn("uv reads its own configuration"),
        ev.FailureTail(("ERROR: No matching distribution found for torch==2.13.0",)),
        ev.StepEnded(2, 4, "install", "fail", 3.04, 2.5),
    ):
        view.emit(event)
    view.close()
    assert con.export_text().splitlines() == [
        "envcheck: tool output goes to /l/install.log",
        "[2/4] install torch …",
        "    $ /e/bin/python -m pip install torch==2.13.0",
        "warning: uv reads its own configuration",
        "  last lines of the log:",
        "  | ERROR: No matching distribution found for torch==2.13.0",
        "  ✗ [2/4] install  3.0 s (tools 2.5 s)",
    ]


def test_summary_names_where_what_the_split_and_how_to_activate():
    from envcheck.render.install import render_execute, timing_line
    from envcheck.results import Result

    timing = timing_split(40.0, [{"id": "create", "wall_s": 3.0, "tool_s": 2.9},
                                 {"id": "install", "wall_s": 33.0, "tool_s": 32.5},
                                 {"id": "verify", "wall_s": 3.5, "tool_s": 3.4}])
    assert timing_line(timing) == ("40.0 s = tools 38.8 s (create 2.9 s, install 32.5 s, verify 3.4 s) "
                                   "+ envcheck 1.2 s (3.0%)")
    data = {
        "execute": True, "dry_run": False, "installed": ["torch"],
        "proof": {"verified": [], "failed": {"torch": ["autograd"]}, "unproven": {},
                  "not_installed": {"torchvision": "--only"}},
        "recommendation": {"torch": "2.13.0", "variant": "cpu"},
        "env": {"backend": "venv", "prefix": "/e", "python_version": "3.11.2", "replaced": None},
        "kernel": {"name": "tk", "display_name": "Python 3.11 (tk)", "resource_dir": "/j/kernels/tk"},
        "verify": {"summary": {"ok": 5, "failed": 1, "skipped": 4}},
        "timing": timing, "log_path": "/l/x.log", "activate": "source /e/bin/activate",
        "next": ["autograd: wrong gradient - fix: reinstall"],
    }
    con = _console()
    render_execute(Result("install", 1, data), con)
    text = con.export_text()
    assert ("torch FAILED (autograd); torchvision not installed (--only); a check failed (exit 1): the "
            "environment is kept") in text and "verified" not in text
    assert "env:     venv env created at /e (Python 3.11.2)" in text
    assert 'kernel:  tk "Python 3.11 (tk)" -> /j/kernels/tk' in text
    assert "verify:  5 passed, 1 failed, 4 skipped" in text and "time:    40.0 s = tools 38.8 s" in text
    assert "fix autograd: wrong gradient - fix: reinstall" in text
    assert text.rstrip().endswith("activate with:\nsource /e/bin/activate")


@pytest.mark.e2e
@pytest.mark.parametrize("first, second", [(0.0, 0.0), (0.0, 0.02), (0.0, 0.05), (0.0, 0.1), (0.2, 0.0), (0.2, 0.02),
                                           (0.2, 0.05), (0.2, 0.1)])
def test_two_ctrl_c_during_install_force_put_the_old_env_back_checked_on_disk(envcheck_bin, conda_env, tmp_path,
                                                                               first, second):
    """Issue 14: Ctrl-C in the install step of `install --execute --force` (`first` s after it started), then
    Ctrl-C again `second` s later: before the undo, during it, or while the error is written and the process
    exits. Always exit 130, the replaced env back at its path (same inode, the user's file), no
    `NAME.envcheck-backup-*` left. The grid found three windows: a second signal before the undo began
    skipped it (the env stayed in its backup), one inside the runner's queue wait became "release
    unlocked lock" (exit 70), and one during interpreter exit killed the process (-2)."""
    old = Path(conda_env["FAKE_CONDA_ENVS"]) / "tn"
    (old / "conda-meta").mkdir(parents=True)
    (old / "etc").mkdir()
    (old / "etc" / "mine.txt").write_text("keep")
    inode = old.stat().st_ino
    env = {**conda_env, "FAKE_CONDA_RUN_SLEEP": "60"}
    proc = subprocess.Popen([envcheck_bin, "install", *CONDA_ARGS, "--force", "--yes", "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not any(a[:2] == ["conda", "run"] for a in recorded(env)):
        assert time.monotonic() < deadline and proc.poll() is None, "the install step never started"
        time.sleep(0.05)
    time.sleep(first)
    proc.send_signal(signal.SIGINT)
    time.sleep(second)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert old.stat().st_ino == inode and (old / "etc" / "mine.txt").read_text() == "keep"
    assert sorted(os.listdir(conda_env["FAKE_CONDA_ENVS"])) == ["tn"]  # no backup, no half-made env, no lock
    if out.strip():
        doc = json.loads(out)
        assert doc["errors"][0]["code"] == "interrupted"
        assert doc["data"].get("undone", {}).get("env_restored") in (str(old), None)
