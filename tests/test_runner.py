"""The one subprocess seam: timeouts, missing tools, signals and streaming, for real."""
from __future__ import annotations

import os
import sys
import time

import pytest

from envcheck.runner import Completed, Runner


def test_run_captures_output_and_status():
    done = Runner().run([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"])
    assert done.returncode == 3
    assert done.stdout == "out\n"
    assert done.stderr == "err\n"
    assert not done.ok
    assert done.describe_failure() == f"{os.path.basename(sys.executable)} exited with status 3: err"


def test_missing_tool_is_a_value_not_an_exception():
    done = Runner().run(["/nonexistent/tool-xyz", "--version"])
    assert done.returncode is None
    assert done.error == "not found"
    assert done.describe_failure() == "tool-xyz: not found"


def test_timeout_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    # The child starts a grandchild (same process group) that records its pid and sleeps; the child waits
    # for that record, then hangs. At the timeout both must die: we watch the grandchild's pid end.
    grandchild = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    code = (f"import os, subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {grandchild!r}])\n"
            f"while not os.path.exists({str(pidfile)!r}): time.sleep(0.01)\ntime.sleep(60)")
    start = time.monotonic()
    done = Runner().run([sys.executable, "-c", code], timeout=1.0)
    assert time.monotonic() - start < 30  # not the child's 60 s sleep
    assert done.timed_out and done.returncode is None
    assert "timed out after" in done.describe_failure()
    grandchild_pid = _wait_for_pid(pidfile)
    if not _dies(grandchild_pid):  # killed with the group (else: a 60 s sleep)
        raise AssertionError("the grandchild in the child's process group outlived the timeout")


def test_signal_is_reported():
    done = Runner().run([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"])
    assert done.signal == 11
    assert "killed by SIGSEGV" in done.describe_failure()


def test_stream_delivers_lines_as_they_come_and_logs(tmp_path):
    seen: list[tuple[str, float]] = []
    log = tmp_path / "tool.log"
    code = "import sys, time\nfor i in range(3):\n    print(i, flush=True); time.sleep(0.2)\nprint('e', file=sys.stderr)"
    start = time.monotonic()
    done = Runner().stream([sys.executable, "-c", code], timeout=10, on_line=lambda l: seen.append((l, time.monotonic() - start)), log_path=str(log))
    assert [s for s, _ in seen] == ["0", "1", "2"]
    assert seen[0][1] < seen[2][1] - 0.3  # the first line arrived before the process ended
    assert done.ok and done.stdout == "0\n1\n2\n" and done.stderr == "e\n"
    assert log.read_text() == "0\n1\n2\n"


def test_stream_timeout():
    done = Runner().stream([sys.executable, "-c", "print('a', flush=True); import time; time.sleep(30)"], timeout=0.5)
    assert done.timed_out and done.stdout == "a\n"


@pytest.mark.parametrize(
    "completed, expected",
    [
        (Completed(("x",), 0), True),
        (Completed(("x",), 1), False),
        (Completed(("x",), None, timed_out=True), False),
        (Completed(("x",), None, error="not found"), False),
    ],
)
def test_ok(completed, expected):
    assert completed.ok is expected


# --- issue 14: the timeout ends the whole tree and never waits on pipes a stray still holds ------------

def _daemon_code(pidfile, double_fork: bool) -> str:
    """A child that leaves a descendant holding its stdout/stderr (sleeping 60 s), then hangs itself.

    With `double_fork` the descendant also leaves the session AND is re-parented (its parent exits),
    so neither the process group kill nor parentage can reach it: only a bounded pipe wait helps."""
    stray = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    if double_fork:
        middle = ("import subprocess, sys; subprocess.Popen([sys.executable, '-c', " + repr(stray)
                  + "], start_new_session=True)")
        return ("import subprocess, sys, time, os; subprocess.Popen([sys.executable, '-c', " + repr(middle)
                + "]).wait(); time.sleep(60)")
    return ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', " + repr(stray)
            + "], start_new_session=True); time.sleep(60)")


def _dies(pid: int, within: float = 10.0) -> bool:
    """True once `pid` is gone or a zombie (dead: an orphan waits for PID 1 to reap it, which in a
    container may take a while); else SIGKILL it (no stray outlives the test) and say False."""
    import psutil

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    try:
        os.kill(pid, 9)
    except OSError:
        pass
    return False


def _wait_for_pid(pidfile) -> int:

    for _ in range(200):
        if pidfile.exists() and pidfile.read_text():
            return int(pidfile.read_text())
        time.sleep(0.05)
    raise AssertionError("the stray never started")


@pytest.mark.parametrize("method", ["run", "stream"])
def test_timeout_kills_a_descendant_that_left_the_process_group(tmp_path, method):
    pidfile = tmp_path / "stray.pid"
    call = getattr(Runner(), method)
    done = call([sys.executable, "-c", _daemon_code(pidfile, double_fork=False)], timeout=1.0)
    assert done.timed_out
    stray = _wait_for_pid(pidfile)
    if not _dies(stray):  # it was SIGKILLed with the tree (else: 60 s sleep)
        raise AssertionError("a setsid() descendant outlived the timeout")


@pytest.mark.parametrize("method", ["run", "stream"])
def test_timeout_does_not_wait_for_pipes_an_escaped_daemon_holds(tmp_path, method, monkeypatch):
    """The audit's case: 8 s timeout, a daemon holding stdout, envcheck waited 120 s for EOF. The pipe
    grace is shortened here (the daemon sleeps 60 s either way): what is tested is that it is bounded."""
    import psutil

    monkeypatch.setattr("envcheck.runner.PIPE_GRACE_S", 0.5)

    pidfile = tmp_path / "stray.pid"
    call = getattr(Runner(), method)
    try:
        done = call([sys.executable, "-c", _daemon_code(pidfile, double_fork=True)], timeout=1.0)
        assert done.timed_out and done.returncode is None
        stray = _wait_for_pid(pidfile)
        # We came back while the daemon (sleeping 60 s, stdout still open) is alive: no wait for EOF.
        assert psutil.pid_exists(stray) and psutil.Process(stray).status() != psutil.STATUS_ZOMBIE
    finally:
        if pidfile.exists() and pidfile.read_text():
            try:
                os.kill(int(pidfile.read_text()), 9)
            except OSError:
                pass


@pytest.mark.parametrize("value, expected", [
    (float("inf"), 86400.0), (99999999999, 86400.0), (1e400, 86400.0), (float("nan"), 10.0), (-1, 10.0),
    (0, 10.0), ("x", 10.0), (None, 10.0), (8, 8.0), (0.5, 0.5),
])
def test_clamp_timeout(value, expected):
    from envcheck.runner import clamp_timeout

    assert clamp_timeout(value) == expected


def test_infinite_timeout_runs_normally():
    done = Runner().run([sys.executable, "-c", "print('hi')"], timeout=float("inf"))
    assert done.ok and done.stdout == "hi\n"
    done = Runner().stream([sys.executable, "-c", "print('hi')"], timeout=float("inf"), idle_timeout=1e12)
    assert done.ok and done.stdout == "hi\n"


def test_stream_log_masks_url_secrets_and_is_private(tmp_path):
    log = tmp_path / "tool.log"
    code = "print('Looking in indexes: https://me:s3cr3t@mirror.example/simple?token=tk9')"
    done = Runner().stream([sys.executable, "-c", code], timeout=30, log_path=str(log))
    assert done.ok and "s3cr3t" in done.stdout  # the caller gets the raw output; the log file does not
    text = log.read_text()
    assert "s3cr3t" not in text and "tk9" not in text and "https://me:****@mirror.example" in text
    assert (log.stat().st_mode & 0o777) == 0o600
