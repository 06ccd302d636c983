"""Issue 14, the workflow half: signal-safe undo, one run per env at a time, never deleting what envcheck
did not make, private masked logs, safe suggested commands, no "ready" for an interpreter that hangs,
deeply nested JSON from a hostile target.

The e2e tests run the installed `envcheck` as a real process, send it real signals (SIGTERM, SIGHUP)
while a stand-in `python3.11` on PATH sleeps inside the creating step, and then check the disk: the
user's env is back where it was (same inode, same files), no backup, lock or half-made env is left, and
the stand-in died with envcheck. Real venvs are made with `python -m venv --without-pip` (cheap).
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import write_exe
from envcheck.cli import app
from envcheck.errors import EnvcheckError
from envcheck.workflow import logs
from envcheck.workflow.locks import hold, lock_path_for
from envcheck.workflow.transaction import Transaction, deferred_signals, reset_deferred_signals

PY311 = "/usr/bin/python3.11"
needs_py311 = pytest.mark.skipif(not os.path.exists(PY311), reason="needs /usr/bin/python3.11")

# A stand-in python3.11: answers like the real one, but its `-m venv PREFIX` makes a half env, writes
# its pid to $STANDIN_PIDFILE and sleeps ($STANDIN_SLEEP s, default 60); with STANDIN_THEN_CREATE=1 it
# then makes a real venv (without pip) and succeeds.
SLEEPING_PYTHON = f"""\
#!/bin/sh
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && echo "home = /nowhere" > "$3/pyvenv.cfg"
    echo $$ > "$STANDIN_PIDFILE"
    sleep "${{STANDIN_SLEEP:-60}}"
    if [ "$STANDIN_THEN_CREATE" = "1" ]; then
        rm -rf "$3" && exec {PY311} -m venv --without-pip "$3"
    fi
    exit 1
fi
exec {PY311} "$@"
"""


def _env(tmp_path: Path, fake_bin: Path, **extra) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVCHECK_", "JUPYTER_", "CONDA", "VIRTUAL_ENV"))}
    env.update({
        "HOME": str(home), "PATH": f"{fake_bin}:/usr/bin:/bin", "ENVCHECK_ENVS_DIR": str(tmp_path / "envs"),
        "ENVCHECK_LOG_DIR": str(tmp_path / "logs"), "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"),
        "STANDIN_PIDFILE": str(tmp_path / "standin.pid"), "COLUMNS": "120", "UV_OFFLINE": "1",
    })
    env.update(extra)
    return env


def _real_venv(prefix: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)


def _wait_for(path: Path, proc: subprocess.Popen, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        if proc.poll() is not None:
            raise AssertionError(f"envcheck ended early ({proc.returncode}): {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the stand-in never started")
        time.sleep(0.05)


def _wait_until_it_catches(proc: subprocess.Popen, sig: int, seconds: float = 15.0) -> None:
    """Until /proc/PID/status lists `sig` as caught (SigCgt): the process installed its handler."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/status") as fh:
                caught = next(int(line.split()[1], 16) for line in fh if line.startswith("SigCgt:"))
            if caught & (1 << (sig - 1)):
                return
        except (OSError, StopIteration):
            pass
        time.sleep(0.02)
    raise AssertionError("the process never installed its signal handler")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if "envcheck-" in p.name)


# --- a. real signals mid-step: the user's env is back exactly where it was -------------------------


@pytest.mark.e2e
@needs_py311
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_signal_during_create_force_puts_the_env_back_and_kills_the_tool(envcheck_bin, tmp_path, fake_bin, signame):
    write_exe(fake_bin, "python3.11", SLEEPING_PYTHON)
    env = _env(tmp_path, fake_bin)
    prefix = tmp_path / "envs" / "t"
    _real_venv(prefix)
    (prefix / "lib" / "USER-FILE").write_text("mine")
    inode = prefix.stat().st_ino
    proc = subprocess.Popen([envcheck_bin, "create", "-n", "t", "--python", "3.11", "--force", "--yes", "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(tmp_path / "standin.pid", proc)
    standin = int((tmp_path / "standin.pid").read_text())
    proc.send_signal(getattr(signal, signame))
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["errors"][0]["code"] == "interrupted"
    assert doc["data"]["restored"] == str(prefix)  # said, and true on disk:
    assert prefix.stat().st_ino == inode and (prefix / "lib" / "USER-FILE").read_text() == "mine"
    assert (prefix / "bin" / "python").exists()
    assert _leftovers(tmp_path / "envs") == []  # no backup, no half-made env, no lock file
    assert not _alive(standin)  # the tool died with envcheck


@pytest.mark.e2e
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_signal_during_kernel_add_force_restores_the_kernel_beside_the_kernels_dir(envcheck_bin, tmp_path, fake_bin,
                                                                                   signame):
    """A stand-in target python whose `-m ipykernel install` sleeps; SIGTERM puts the user's kernel back,
    and the backup never lived under /tmp."""
    target = fake_bin / "target-python"
    write_exe(fake_bin, "target-python", f"""\
        #!/bin/sh
        if [ "$1" = "-m" ] && [ "$2" = "ipykernel" ]; then
            echo $$ > "$STANDIN_PIDFILE"
            exec sleep 60
        fi
        exec {sys.executable} "$@"
        """)
    env = _env(tmp_path, fake_bin)
    kernels = tmp_path / "jupyter" / "kernels"
    old = kernels / "k"
    old.mkdir(parents=True)
    (old / "kernel.json").write_text(json.dumps({"argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f",
                                                          "{connection_file}"], "display_name": "mine",
                                                 "language": "python"}))
    (old / "logo-64x64.png").write_text("user's logo")
    inode = old.stat().st_ino
    proc = subprocess.Popen([envcheck_bin, "kernel", "add", "--name", "k", "--python", str(target), "--force",
                             "--yes", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(tmp_path / "standin.pid", proc)
    standin = int((tmp_path / "standin.pid").read_text())
    backups = [p for p in (tmp_path / "jupyter").iterdir() if p.name.startswith(".envcheck-backup-")]
    assert len(backups) == 1 and (backups[0] / "k" / "logo-64x64.png").is_file()  # beside kernels/, same FS
    proc.send_signal(getattr(signal, signame))
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert old.stat().st_ino == inode and (old / "logo-64x64.png").read_text() == "user's logo"
    assert sorted(p.name for p in (tmp_path / "jupyter").iterdir()) == ["kernels"]
    assert sorted(p.name for p in kernels.iterdir()) == ["k"]  # no lock file left either
    assert not _alive(standin)


# --- a. a second signal during the rollback waits until the rollback is complete ----------------------


def test_second_signal_during_rollback_is_deferred_until_the_undo_is_complete(tmp_path):
    """In-process, with a real SIGINT sent to ourselves in the middle of the undo."""
    target = tmp_path / "env"
    target.mkdir()
    (target / "pyvenv.cfg").write_text("original")
    inode = target.stat().st_ino
    tx = Transaction(None)
    tx.move_aside(str(target), "env")
    target.mkdir()
    (target / "half-made").write_text("x")
    ran = []
    tx.on_rollback("env", "interrupt me", lambda: os.kill(os.getpid(), signal.SIGINT) or ran.append("first") or [])
    reset_deferred_signals()
    report = tx.rollback()  # actions run in reverse: the SIGINT arrives before the env is put back
    assert ran == ["first"] and deferred_signals() == (signal.SIGINT,)
    assert report.paths("restored", "env") == [str(target)] and not report.failed
    assert target.stat().st_ino == inode and (target / "pyvenv.cfg").read_text() == "original"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "isolated") == ["env"]
    reset_deferred_signals()


def test_restored_is_reported_only_when_the_original_is_back(tmp_path):
    target = tmp_path / "env"
    target.mkdir()
    tx = Transaction(None)
    backup = tx.move_aside(str(target), "env")
    os.rename(backup, tmp_path / "somewhere-else")  # the backup vanished: nothing can be put back
    target.mkdir()  # ... and something else sits at the path
    report = tx.rollback()
    assert report.paths("restored") == [] and any("not back" in f for f in report.failed)


# --- b. one run per env at a time ----------------------------------------------------------------------


@pytest.mark.e2e
@needs_py311
def test_two_creates_with_the_same_name_the_second_waits_then_exits_2_and_deletes_nothing(envcheck_bin, tmp_path,
                                                                                          fake_bin):
    write_exe(fake_bin, "python3.11", SLEEPING_PYTHON)
    env = _env(tmp_path, fake_bin, STANDIN_SLEEP="8", STANDIN_THEN_CREATE="1")
    args = [envcheck_bin, "create", "-n", "t", "--python", "3.11", "--yes", "--json"]
    first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(tmp_path / "standin.pid", first)
    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=30)
    assert second.returncode == 2, second.stderr
    err = json.loads(second.stdout)["errors"][0]
    assert err["code"] == "env-locked" and f"pid {first.pid}" in err["message"] and "create" in err["message"]
    # a third one interrupted while it waits for the lock: exit 130, nothing touched
    third = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_until_it_catches(third, signal.SIGTERM)  # envcheck's handler is in: it is in the lock wait
    third.send_signal(signal.SIGTERM)
    third.communicate(timeout=20)
    assert third.returncode == 130
    out, err_text = first.communicate(timeout=60)
    assert first.returncode == 0, err_text
    prefix = tmp_path / "envs" / "t"
    assert (prefix / "pyvenv.cfg").is_file() and (prefix / ".envcheck-created.json").is_file()
    assert json.loads(out)["data"]["env"]["prefix"] == str(prefix)
    assert sorted(p.name for p in (tmp_path / "envs").iterdir()) == [".envcheck-registry.json", "t"]


def test_lock_holder_is_named_and_released(tmp_path):
    target = tmp_path / "envs" / "t"
    path = lock_path_for(str(target))
    assert path == str(tmp_path / "envs" / ".t.envcheck-lock")
    code = f"""
import sys, time
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
from envcheck.workflow.locks import hold
with hold([{path!r}]):
    print("held", flush=True)
    time.sleep(30)
"""
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(EnvcheckError) as info:
            with hold([path], "env", wait_s=0.3):
                pass
        assert info.value.code == "env-locked" and info.value.exit_code == 2
        assert f"pid {holder.pid}" in info.value.message and str(target) in info.value.message
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with hold([path], "env", wait_s=2):  # the kernel released the killed holder's flock: no stale lock
        assert Path(path).read_text().startswith(f"pid {os.getpid()}\n")
    assert not os.path.exists(path)
    fresh = tmp_path / "new" / "deeper" / "env"
    with hold([lock_path_for(str(fresh))]):
        assert (tmp_path / "new" / "deeper").is_dir()
    assert not (tmp_path / "new").exists()  # directories the lock made are removed when left empty


# --- c. never delete what envcheck did not make ----------------------------------------------------


def _target_python() -> str:
    return sys.executable  # the test venv: has ipykernel and pip


@pytest.mark.parametrize("shape", ["no-kernel-json", "renamed-kernel-json", "dangling-symlink", "a-file"])
def test_kernel_add_without_force_treats_anything_at_kernels_name_as_existing(tmp_path, shape):
    kernels = tmp_path / "jupyter" / "kernels"
    kernels.mkdir(parents=True)
    dest = kernels / "k"
    if shape == "dangling-symlink":
        dest.symlink_to(tmp_path / "nowhere")
    elif shape == "a-file":
        dest.write_text("user's file")
    else:
        dest.mkdir()
        (dest / ("notes.txt" if shape == "no-kernel-json" else "kernel.json.bak")).write_text("user's work")
    before = sorted(os.listdir(dest)) if dest.is_dir() else None
    env = {"HOME": str(tmp_path / "home"), "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"),
           "ENVCHECK_LOG_DIR": str(tmp_path / "logs"), "PATH": os.environ["PATH"]}
    res = CliRunner().invoke(app, ["kernel", "add", "--name", "k", "--python", _target_python(), "--yes", "--json"],
                             env=env)
    assert res.exit_code == 2, res.output
    assert json.loads(res.stdout)["errors"][0]["code"] == "kernel-exists"
    assert os.path.lexists(dest)
    if before is not None:
        assert sorted(os.listdir(dest)) == before
    elif shape == "a-file":
        assert dest.read_text() == "user's file"
    else:
        assert dest.is_symlink()


@needs_py311
def test_create_force_on_a_venv_made_inside_a_project_refuses_and_lists_the_project(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "src").mkdir()
    (project / "src" / "main.py").write_text("print('hi')")
    (project / ".git").mkdir()
    (project / "README.md").write_text("# project")
    subprocess.run([PY311, "-m", "venv", "--without-pip", str(project)], check=True)  # `python -m venv .`
    before = sorted(os.listdir(project))
    env = {"HOME": str(tmp_path / "home"), "ENVCHECK_ENVS_DIR": str(tmp_path / "envs"),
           "ENVCHECK_LOG_DIR": str(tmp_path / "logs"), "PATH": "/usr/bin:/bin"}
    res = CliRunner().invoke(app, ["create", "--prefix", str(project), "--python", "3.11", "--force", "--yes",
                                   "--json"], env=env)
    assert res.exit_code == 2, res.output
    err = json.loads(res.stdout)["errors"][0]
    assert err["code"] == "env-has-foreign-files"
    assert json.loads(res.stdout)["data"]["foreign"] == [".git", "README.md", "src"]
    assert sorted(os.listdir(project)) == before and (project / "src" / "main.py").read_text() == "print('hi')"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in ("home", "isolated")) == ["project"]  # no backup, no lock


# --- d. logs: private, masked ---------------------------------------------------------------------


def test_logs_are_0600_in_a_0700_dir_and_every_line_is_masked(tmp_path):
    environ = {"HOME": str(tmp_path)}
    path = logs.new_log_path("create", "t", environ)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    logs.append(path, "$ pip install --index-url https://alice:s3cret@pypi.example/simple torch")
    logs.append(path, "Looking in https://conda.example/t/tok-123/main/?token=abc")
    text = Path(path).read_text()
    assert "s3cret" not in text and "tok-123" not in text and "abc" not in text
    assert "alice:****@" in text
    os.chmod(os.path.dirname(path), 0o755)  # a log dir left readable by an older envcheck is tightened
    second = logs.new_log_path("create", "t", environ)
    assert second != path and stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700


# --- e. create's suggested kernel line: quoted, the real name; `[/]` in paths ------------------------------


def test_suggested_kernel_add_line_is_shell_quoted_and_names_the_env():
    from envcheck.commands.create import kernel_add_command

    python = "/home/u/my envs/$(touch pwned)/[/]x/bin/python"
    line = kernel_add_command(python, "My.Env")
    assert shlex.split(line) == ["envcheck", "kernel", "add", "--python", python, "--name", "my.env"]
    assert "NAME" not in line and "name " not in line.replace("--name", "")
    # a --prefix env: the prefix's last part, as a valid kernel name
    assert shlex.split(kernel_add_command("/p/proj-venv/bin/python", "proj-venv"))[-1] == "proj-venv"


def test_create_and_kernel_add_human_output_with_markup_in_paths():
    from rich.console import Console

    from envcheck.render.env import render_create, render_kernel_add
    from envcheck.results import Result

    prefix = "/tmp/[/]v2/[bold]x\x1b[2J"
    data = {"plan": {"backend": "venv", "backend_why": "[/]", "base_interpreter": prefix}, "dry_run": False,
            "warnings": [], "kernel_command": f"envcheck kernel add --python '{prefix}/bin/python' --name x",
            "env": {"backend": "venv", "name": None, "prefix": prefix, "python": prefix + "/bin/python",
                    "python_version": "3.11.7", "duration_s": 1.0, "log_path": prefix + ".log",
                    "activate": f"source '{prefix}/bin/activate'", "replaced": None}}
    con = Console(record=True, width=200, force_terminal=False)
    render_create(Result("create", 0, data), con)
    out = con.export_text()
    assert "/tmp/[/]v2/[bold]x\\x1b[2J" in out and "\x1b" not in out
    kdata = {"kernel": {"name": "[/]", "display_name": "[red]x\x07", "python_version": "3.11", "replaced": None,
                        "installed_ipykernel": False, "resource_dir": prefix, "argv": [prefix]}, "findings": []}
    con = Console(record=True, width=200, force_terminal=False)
    render_kernel_add(Result("kernel add", 0, kdata), con)
    out = con.export_text()
    assert "[/]" in out and "[red]x\\x07" in out and "\x07" not in out


# --- f. a hanging --python: python-inspect-failed, never "ready" -----------------------------------------


def test_doctor_with_a_hanging_python_says_inspect_failed_not_ready(tmp_path, fake_bin, monkeypatch):
    from envcheck.probes import torchinfo

    monkeypatch.setattr(torchinfo, "PYINFO_TIMEOUT_S", 1.0)
    hanging = write_exe(fake_bin, "hanging-python", f"""\
        #!/bin/sh
        case "$1" in *pyinfo.py) exec sleep 60 ;; esac
        exec {sys.executable} "$@"
        """)
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "ENVCHECK_TOOL_TIMEOUT": "1",
           "JUPYTER_DATA_DIR": str(tmp_path / "jupyter")}
    res = CliRunner().invoke(app, ["doctor", "--python", str(hanging), "--json"], env=env)
    doc = json.loads(res.stdout)
    codes = {f["code"]: f for f in doc["data"]["findings"]}
    assert "python-inspect-failed" in codes and "timed out" in codes["python-inspect-failed"]["message"]
    assert res.exit_code == 1 and not doc["data"]["verdict"].startswith("ready")


# --- g. deeply nested JSON from a hostile target interpreter ------------------------------------------------


def test_deeply_nested_json_from_the_target_is_a_reason_not_a_recursion_error():
    from envcheck.commands.verify import parse_event
    from envcheck.kernels import parse_target_info
    from envcheck.probes.torchinfo import parse_pyinfo
    from envcheck.runner import Completed

    deep = '{"event": "check", "x": ' + "[" * 200_000 + "]" * 200_000 + "}"
    info = parse_pyinfo(Completed(("python",), 0, stdout=deep + "\n"))
    assert not info.ok and info.reason
    assert parse_event(deep) is None
    assert parse_target_info(deep) is None


@pytest.mark.e2e
def test_sigterm_during_doctor_kills_the_hanging_probe_and_exits_130(envcheck_bin, tmp_path, fake_bin):
    """Child tools die with envcheck outside the workflow too (doctor's probes run in threads)."""
    hanging = write_exe(fake_bin, "hanging-python", f"""\
        #!/bin/sh
        case "$1" in *pyinfo.py) echo $$ > "$STANDIN_PIDFILE"; exec sleep 60 ;; esac
        exec {sys.executable} "$@"
        """)
    env = _env(tmp_path, fake_bin)
    proc = subprocess.Popen([envcheck_bin, "doctor", "--python", str(hanging), "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(tmp_path / "standin.pid", proc)
    standin = int((tmp_path / "standin.pid").read_text())
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)  # not the 20 s inspection timeout
    assert proc.returncode == 130, err
    assert json.loads(out)["errors"][0]["code"] == "interrupted"
    assert not _alive(standin)


@needs_py311
@pytest.mark.parametrize("json_out", [False, True])
def test_index_url_credentials_never_reach_any_output_or_the_plan(tmp_path, json_out):
    env = {"HOME": str(tmp_path / "home"), "ENVCHECK_ENVS_DIR": str(tmp_path / "envs"),
           "ENVCHECK_LOG_DIR": str(tmp_path / "logs"), "JUPYTER_DATA_DIR": str(tmp_path / "jupyter"),
           "PATH": "/usr/bin:/bin", "ENVCHECK_DISABLE_NVML": "1", "COLUMNS": "80"}
    args = ["install", "--execute", "--dry-run", "--torch", "2.13.0", "--cpu", "--backend", "venv", "--name", "t",
            "--python", "3.11", "--index-url", "https://alice:s3cret@mirror.example/simple?token=tok9",
            "--find-links", "https://bob:hunter2@files.example/wheels"] + (["--json"] if json_out else [])
    res = CliRunner().invoke(app, args, env=env)
    assert res.exit_code == 0, res.output
    for secret in ("s3cret", "tok9", "hunter2"):
        assert secret not in res.output
    assert "alice:****@" in res.output


# --- h. a signal after the body: no traceback, no cut output, exit 130 ---------------------------------------


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_after_the_body_ends_is_exit_130_not_a_traceback(signame):
    """The audit's rc -2: a second Ctrl-C right after the undo, while the error was printed, escaped as a
    KeyboardInterrupt. Once the body has ended a signal is only counted; the run exits 130, and an
    in-process caller gets its own handlers back."""
    import signal as sigmod

    from envcheck import cli

    sig = getattr(sigmod, signame)
    before = sigmod.getsignal(sig)
    cli._signals_after_the_body()
    os.kill(os.getpid(), sig)  # delivered to the main thread at the next bytecode: counted, nothing raised
    for _ in range(100):
        if cli._LATE["signals"]:
            break
        time.sleep(0.01)
    with pytest.raises(SystemExit) as done:
        cli._exit_after_body(0)
    assert done.value.code == 130
    assert sigmod.getsignal(sig) is before and cli._LATE["signals"] == 0


def test_only_the_first_signal_raises_later_ones_wait_for_the_undo():
    """Within interrupts_roll_back the first SIGINT raises KeyboardInterrupt; a second one (landing in the
    except block, before the undo has begun) is held, never raised, so the undo cannot be skipped."""
    import signal as sigmod

    from envcheck.workflow.transaction import deferred_signals, interrupts_roll_back, reset_deferred_signals

    reset_deferred_signals()
    with interrupts_roll_back():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), sigmod.SIGINT)
            time.sleep(5)  # interrupted long before
        os.kill(os.getpid(), sigmod.SIGINT)  # the "second Ctrl-C" while the failure is being handled
        time.sleep(0.05)
        assert deferred_signals() == (int(sigmod.SIGINT),)
    reset_deferred_signals()
    with interrupts_roll_back():  # a new run starts armed again
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), sigmod.SIGINT)
            time.sleep(5)
    reset_deferred_signals()


def test_an_interrupt_inside_the_runner_queue_wait_stays_an_interrupt():
    """Python can turn a KeyboardInterrupt inside a Condition wait into "RuntimeError: release unlocked
    lock" (its __context__ is the interrupt): the runner raises the interrupt, not an internal error."""
    from envcheck.runner import _interruptible_get

    class Broken:
        def get(self, timeout):
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt:
                raise RuntimeError("release unlocked lock")

    class Bug:
        def get(self, timeout):
            raise RuntimeError("something else")

    with pytest.raises(KeyboardInterrupt):
        _interruptible_get(Broken())
    with pytest.raises(RuntimeError, match="something else"):
        _interruptible_get(Bug())
