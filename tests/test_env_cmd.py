"""`envcheck env list | remove`: what envcheck trusts as its own (the marker rules), which kernels go
with an env, the conda family's exact argv against a stand-in (conda cannot be installed here), and
putting things back when a removal fails or is interrupted.

Env directories here are minimal on purpose (a pyvenv.cfg or conda-meta/ and the marker): these tests
are about the trust rules and the undo, not about Python; tests/test_env_e2e.py uses real venvs.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_exe
from envcheck.cli import app
from envcheck.commands import env as env_cmd
from envcheck.errors import EnvcheckError, ExitCode
from envcheck.plans.env import Backend
from envcheck.probes.jupyter import KernelSpecInfo
from envcheck.registry import MARKER, add_to_registry, candidates, read_marker, read_registry, write_marker
from test_create import FAKE_CONDA, _env, recorded


def invoke(args, env):
    return CliRunner().invoke(app, args, env=env)


def make_venv_dir(path: Path, *, name: str | None = None, marker: bool = True, environ=None) -> Path:
    """A directory shaped like a venv (pyvenv.cfg, bin/python), recorded as envcheck's when `marker`."""
    (path / "bin").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (path / "bin" / "python").symlink_to("/usr/bin/python3")
    (path / "lib").mkdir()
    (path / "lib" / "big.bin").write_bytes(b"x" * 10000)
    if marker:
        write_marker(str(path), name=name, backend=Backend.VENV, python="3.11")
        add_to_registry(str(path), name, Backend.VENV, environ)
    return path


def make_kernel(data_dir: Path, name: str, python: str) -> Path:
    d = data_dir / "kernels" / name
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(json.dumps({"argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                                               "display_name": name, "language": "python"}))
    return d


# --- the trust rules (pure over a directory) --------------------------------------------------------


def test_marker_trusted_only_for_the_directory_it_describes(tmp_path):
    env = make_venv_dir(tmp_path / "a", name="a", marker=False)
    assert read_marker(str(env)) == (None, f"it has no {MARKER} marker: envcheck did not create it")
    write_marker(str(env), name="a", backend=Backend.VENV, python="3.11")
    record, why = read_marker(str(env))
    assert why is None and record.name == "a" and record.backend is Backend.VENV and record.prefix == str(env)

    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "pyvenv.cfg").write_text("")
    (copy / MARKER).write_text((env / MARKER).read_text())
    record, why = read_marker(str(copy))
    assert record is None and "describes another directory" in why and str(env) in why

    (env / "pyvenv.cfg").unlink()  # no longer a venv: the marker alone proves nothing
    assert read_marker(str(env))[1] == "it no longer looks like a venv environment (no pyvenv.cfg)"


@pytest.mark.parametrize("content, why", [
    ("not json", "is unreadable"),
    ('{"envcheck_marker_version": 99}', "is not an envcheck marker"),
    ('{"envcheck_marker_version": 1, "backend": "pixi", "prefix": "P"}', "unknown backend 'pixi'"),
])
def test_a_malformed_marker_is_not_trusted(tmp_path, content, why):
    env = make_venv_dir(tmp_path / "e", marker=False)
    (env / MARKER).write_text(content.replace("P", str(env)))
    record, reason = read_marker(str(env))
    assert record is None and why in reason


def test_a_symlink_or_a_conda_marker_on_a_venv_is_not_trusted(tmp_path):
    env = make_venv_dir(tmp_path / "e", name="e")
    link = tmp_path / "link"
    link.symlink_to(env)
    assert read_marker(str(link))[1] == "it is a symbolic link, not an environment directory"
    write_marker(str(env), name="e", backend=Backend.CONDA, python="3.11")
    assert read_marker(str(env))[1] == "it no longer looks like a conda environment (no conda-meta/)"


def test_candidates_come_from_the_index_and_the_envs_dir(tmp_path):
    environ = {"ENVCHECK_ENVS_DIR": str(tmp_path / "envs"), "HOME": str(tmp_path)}
    inside = make_venv_dir(tmp_path / "envs" / "in", name="in", marker=False)
    write_marker(str(inside), name="in", backend=Backend.VENV, python="3.11")  # not in the index: found by the scan
    outside = make_venv_dir(tmp_path / "elsewhere" / "out", environ=environ)  # --prefix env: only the index knows
    make_venv_dir(tmp_path / "envs" / "byhand", marker=False)  # no marker: not a candidate at all
    gone = make_venv_dir(tmp_path / "gone", name="gone", environ=environ)
    for child in sorted(gone.rglob("*"), reverse=True):
        child.unlink() if not child.is_dir() or child.is_symlink() else child.rmdir()
    gone.rmdir()
    found = {c.prefix: c for c in candidates(environ)}
    assert set(found) == {str(inside), str(outside), str(gone)}
    assert found[str(inside)].record.name == "in" and found[str(outside)].record.name is None
    assert found[str(gone)].record is None and found[str(gone)].why_not == "the directory does not exist"


def test_kernels_launching_an_env_are_compared_as_written_and_by_whole_path_component():
    def spec(name, python):
        return KernelSpecInfo(name, f"/k/{name}", argv=(python, "-m", "ipykernel_launcher"), interpreter=python)

    specs = [spec("mine", "/envs/torch/bin/python"), spec("other", "/envs/torch2/bin/python"),
             spec("base", "/usr/bin/python3"), spec("relative", "python")]
    assert [k.name for k in env_cmd.kernels_launching("/envs/torch", specs)] == ["mine"]


def test_disk_usage_counts_hard_links_once(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 100000)
    one = env_cmd.probe_disk_usage(str(tmp_path))
    os.link(tmp_path / "a", tmp_path / "b")
    assert one and env_cmd.probe_disk_usage(str(tmp_path)) == one


# --- env remove through the CLI (no real venv needed) ----------------------------------------------


@pytest.fixture
def env(tmp_path):
    e = _env(tmp_path, "/usr/bin")
    return e


def _environ(env: dict) -> dict:
    return {k: v for k, v in env.items() if v is not None}


def test_missing_name_is_exit_4_and_a_dir_envcheck_did_not_make_is_refused(env, tmp_path):
    result = invoke(["env", "remove", "nope", "--yes", "--json"], env)
    assert result.exit_code == 4
    assert json.loads(result.stdout)["errors"][0]["code"] == "env-not-found"

    byhand = make_venv_dir(tmp_path / "envs" / "byhand", marker=False)
    result = invoke(["env", "remove", "byhand", "--yes"], env)
    assert result.exit_code == 2 and byhand.is_dir()
    assert f"error: refusing to remove {byhand}: it has no {MARKER} marker: envcheck did not create it" in result.stderr
    plain = tmp_path / "project"
    plain.mkdir()
    (plain / "keep.txt").write_text("mine")
    result = invoke(["env", "remove", str(plain), "--yes"], env)
    assert result.exit_code == 2 and (plain / "keep.txt").read_text() == "mine"


def test_no_terminal_without_yes_is_exit_2_and_nothing_changes(env, tmp_path):
    prefix = make_venv_dir(tmp_path / "envs" / "t", name="t", environ=_environ(env))
    result = invoke(["env", "remove", "t"], env)  # CliRunner's stdin is not a terminal
    assert result.exit_code == 2 and "without confirmation" in result.stderr and prefix.is_dir()


def test_the_active_env_is_refused(env, tmp_path):
    prefix = make_venv_dir(tmp_path / "envs" / "t", name="t", environ=_environ(env))
    result = invoke(["env", "remove", "t", "--yes", "--json"], {**env, "VIRTUAL_ENV": str(prefix)})
    assert result.exit_code == 2 and json.loads(result.stdout)["errors"][0]["code"] == "env-active" and prefix.is_dir()


def test_remove_takes_its_kernels_keeps_others_and_the_dry_run_changes_nothing(env, tmp_path):
    prefix = make_venv_dir(tmp_path / "envs" / "t", name="t", environ=_environ(env))
    jupyter = tmp_path / "jupyter"
    mine = make_kernel(jupyter, "t", str(prefix / "bin" / "python"))
    other = make_kernel(jupyter, "t2", str(tmp_path / "envs" / "t2" / "bin" / "python"))
    dry = invoke(["env", "remove", "t", "--dry-run", "--json"], env)
    assert dry.exit_code == 0 and prefix.is_dir() and mine.is_dir()
    assert [k["resource_dir"] for k in json.loads(dry.stdout)["data"]["kernels"]] == [str(mine)]

    result = invoke(["env", "remove", "t", "--yes", "--json"], env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)["data"]
    assert data["removed"] == {"env": str(prefix), "kernels": [str(mine)]}
    assert not prefix.exists() and not mine.exists() and other.is_dir()
    assert not list((tmp_path / "envs").glob("t.envcheck-backup-*"))
    assert read_registry(_environ(env)) == []
    assert [s["id"] for s in data["steps"]] == ["kernels", "env"]


def test_a_kernel_another_run_holds_is_named_and_nothing_is_removed(env, tmp_path, monkeypatch):
    """env remove takes its kernels' locks, the ones `kernel add/remove` take: a kernel being changed by
    another run is never deleted under it (exit 2, `kernel-locked`, env and kernel intact)."""
    from envcheck.workflow import locks

    prefix = make_venv_dir(tmp_path / "envs" / "t", name="t", environ=_environ(env))
    mine = make_kernel(tmp_path / "jupyter", "t", str(prefix / "bin" / "python"))
    monkeypatch.setattr(locks, "WAIT_S", 0.2)
    fd = locks._try_lock(locks.lock_path_for(str(mine)))  # another open file: flock conflicts in-process too
    assert fd is not None
    try:
        result = invoke(["env", "remove", "t", "--yes", "--json"], env)
    finally:
        os.close(fd)
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["errors"][0]["code"] == "kernel-locked"
    assert prefix.is_dir() and (mine / "kernel.json").is_file()
    assert read_registry(_environ(env)) != []


@pytest.mark.parametrize("exc, code", [(OSError(13, "Permission denied", "x"), 5), (KeyboardInterrupt(), 130)])
def test_a_failed_or_interrupted_removal_puts_the_kernels_and_the_env_back(env, tmp_path, monkeypatch, exc, code):
    prefix = make_venv_dir(tmp_path / "envs" / "t", name="t", environ=_environ(env))
    mine = make_kernel(tmp_path / "jupyter", "t", str(prefix / "bin" / "python"))

    def fail(path):
        os.unlink(os.path.join(path, "lib", "big.bin"))  # part of it is gone already
        raise exc

    monkeypatch.setattr(env_cmd, "_delete_env_tree", fail)
    result = invoke(["env", "remove", "t", "--yes", "--json"], env)
    assert result.exit_code == code, result.output
    assert (mine / "kernel.json").is_file() and read_marker(str(prefix))[0] is not None  # retry possible
    err = json.loads(result.stdout)["errors"][0]
    assert "put back" in err["hint"] and str(mine) in err["hint"]


# --- the conda family: exact argv against a stand-in ---------------------------------------------------


@pytest.fixture
def conda_env(tmp_path, fake_bin):
    write_exe(fake_bin, "conda", FAKE_CONDA)
    env = _env(tmp_path, f"{fake_bin}:/usr/bin")
    env["FAKE_CONDA_LOG"] = str(tmp_path / "conda-argv.jsonl")
    env["FAKE_CONDA_ENVS"] = str(tmp_path / "conda-envs")
    os.makedirs(env["FAKE_CONDA_ENVS"])
    return env


def test_conda_env_made_by_create_is_listed_and_removed_with_conda_env_remove(conda_env, tmp_path, fake_bin):
    made = invoke(["create", "-n", "cenv", "--python", "3.11", "--backend", "conda", "--yes", "--json"], conda_env)
    assert made.exit_code == 0, made.output
    prefix = tmp_path / "conda-envs" / "cenv"
    assert read_marker(str(prefix))[0].backend is Backend.CONDA

    listed = json.loads(invoke(["env", "list", "--json", "--no-size"], conda_env).stdout)["data"]["envs"]
    assert [(e["name"], e["backend"], e["prefix"]) for e in listed] == [("cenv", "conda", str(prefix))]
    assert listed[0]["python_version"].startswith("3.11.")  # bin/python links to a real 3.11

    before = len(recorded(conda_env))
    result = invoke(["env", "remove", "cenv", "--yes", "--json"], conda_env)
    assert result.exit_code == 0, result.output
    calls = recorded(conda_env)[before:]
    assert calls == [["conda", "env", "list", "--json"], ["conda", "env", "remove", "-n", "cenv", "-y"]]
    assert not prefix.exists()
    assert json.loads(result.stdout)["data"]["commands"] == [f"{fake_bin}/conda env remove -n cenv -y"]


def test_conda_name_that_resolves_elsewhere_is_removed_by_prefix(conda_env, tmp_path, fake_bin, fake_runner):
    """conda's `-n cenv` is another directory than the one envcheck recorded: remove by -p PREFIX."""
    prefix = tmp_path / "elsewhere" / "cenv"
    (prefix / "conda-meta").mkdir(parents=True)
    write_marker(str(prefix), name="cenv", backend=Backend.CONDA, python="3.11")
    record = read_marker(str(prefix))[0]
    fake_runner.on("env list --json", stdout=json.dumps({"envs": ["/opt/conda/envs/cenv"]}))
    step = env_cmd.removal_step(record, fake_runner, _environ(conda_env))
    assert step.argv == (f"{fake_bin}/conda", "env", "remove", "-p", str(prefix), "-y")


def test_a_failing_conda_is_exit_5_and_the_kernels_come_back(conda_env, tmp_path, fake_bin):
    made = invoke(["create", "-n", "cenv", "--python", "3.11", "--backend", "conda", "--yes"], conda_env)
    assert made.exit_code == 0, made.output
    prefix = tmp_path / "conda-envs" / "cenv"
    mine = make_kernel(tmp_path / "jupyter", "cenv", str(prefix / "bin" / "python"))
    write_exe(fake_bin, "conda", FAKE_CONDA.replace('elif args[:2] == ["env", "remove"]:',
                                                     'elif args[:2] == ["env", "remove"]:\n    sys.exit(1)\nelif 0:'))
    result = invoke(["env", "remove", "cenv", "--yes", "--json"], conda_env)
    assert result.exit_code == 5 and json.loads(result.stdout)["errors"][0]["code"] == "env-remove-failed"
    assert (mine / "kernel.json").is_file() and prefix.is_dir()


def test_find_removable_by_name_rejects_an_ambiguous_name(tmp_path):
    environ = {"ENVCHECK_ENVS_DIR": str(tmp_path / "envs"), "HOME": str(tmp_path)}
    make_venv_dir(tmp_path / "envs" / "x", name="x", environ=environ)
    make_venv_dir(tmp_path / "other" / "x", name="x", environ=environ)
    with pytest.raises(EnvcheckError) as err:
        env_cmd.find_removable("x", environ)
    assert err.value.code == "env-name-ambiguous" and err.value.exit_code == ExitCode.USAGE
    assert env_cmd.find_removable(str(tmp_path / "other" / "x"), environ).prefix == str(tmp_path / "other" / "x")


def test_a_kernel_that_cannot_be_moved_stops_before_the_env_is_touched(env, tmp_path, monkeypatch):
    """Synthetic OSError: this machine runs tests as root, so a permission error cannot be real here."""
    from envcheck.workflow.transaction import Transaction

    prefix = make_venv_dir(tmp_path / "envs" / "t", name="t", environ=_environ(env))
    first = make_kernel(tmp_path / "jupyter", "t", str(prefix / "bin" / "python"))
    second = make_kernel(tmp_path / "jupyter", "t-copy", str(prefix / "bin" / "python"))
    real = Transaction.stash

    def stash(self, path, kind):
        if path == str(second):
            raise PermissionError(13, "Permission denied", path)
        return real(self, path, kind)

    monkeypatch.setattr(Transaction, "stash", stash)
    result = invoke(["env", "remove", "t", "--yes", "--json"], env)
    assert result.exit_code == 5 and f"cannot remove the kernel {second}: Permission denied" in result.stderr
    assert (first / "kernel.json").is_file() and (second / "kernel.json").is_file()
    assert read_marker(str(prefix))[0] is not None


def test_create_records_the_env_and_a_failure_to_record_is_only_a_warning(tmp_path):
    from envcheck.envs import _record_created  # noqa: PLC2701 - the recording step on its own
    from envcheck.workflow.events import Recorder, Warn
    from envcheck.workflow.transaction import Transaction
    from types import SimpleNamespace

    environ = {"ENVCHECK_ENVS_DIR": str(tmp_path / "envs"), "HOME": str(tmp_path)}
    plan = SimpleNamespace(name="n", python="3.11", backend=SimpleNamespace(backend=Backend.VENV))
    prefix = make_venv_dir(tmp_path / "envs" / "n", marker=False)
    tx, sink = Transaction(), Recorder()
    _record_created(tx, plan, str(prefix), sink, environ)
    assert read_marker(str(prefix))[0].name == "n" and [e["name"] for e in read_registry(environ)] == ["n"]
    tx.rollback()  # a later step failed: the index forgets it (the env's removal takes the marker)
    assert read_registry(environ) == [] and not (tmp_path / "envs" / ".envcheck-registry.json").exists()

    _record_created(Transaction(), plan, str(tmp_path / "missing"), sink, environ)
    assert [type(e) for e in sink.events] == [Warn] and "will not know it" in sink.events[0].text


# --- human output at 80 and 120 columns ------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 120])
def test_env_list_keeps_paths_whole_on_their_own_lines(width):
    """Synthetic Result (the shape run_list returns)."""
    from rich.console import Console

    from envcheck.render.env_list import render_env_list
    from envcheck.results import Result

    long_path = "/home/a-rather-long-user-name/projects/deep/learning/envs/torch-2.13-cu126-experiment"
    torch = {"installed": True, "version": "2.13.0+cu126", "cuda": "12.6", "hip": None}
    envs = [{"name": "torch-cu126", "backend": "conda", "prefix": long_path, "python_version": "3.12.8",
             "torch": torch, "kernels": [{"name": "torch-cu126"}], "size_bytes": 6 * (1 << 30)},
            {"name": None, "backend": "venv", "prefix": "/tmp/x", "python_version": None,
             "torch": {"installed": False}, "kernels": [], "size_bytes": None}]
    result = Result("env list", data={"envs_dir": "/e", "envs": envs,
                                      "ignored": [{"prefix": "/gone", "name": "g", "why": "the directory does not exist"}]})
    console = Console(width=width, record=True, highlight=False)
    render_env_list(result, console)
    lines = console.export_text().splitlines()
    assert lines[0].split() == ["torch-cu126", "conda", "Python", "3.12.8", "torch", "2.13.0+cu126", "(CUDA",
                                "12.6)", "6.0", "GiB"]
    assert f"  path:    {long_path}" in lines and "  kernels: torch-cu126" in lines
    assert lines[3].startswith("(by path)") and "Python: does not run" in lines[3] and "torch not installed" in lines[3]
    assert lines[-1] == "not listed: /gone: the directory does not exist"
