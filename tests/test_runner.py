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
    marker = tmp_path / "grandchild-survived"
    # The child starts a grandchild that would write a marker after 2 s; both must die at the timeout.
    grandchild = f"import time; time.sleep(2); open({str(marker)!r}, 'w')"
    code = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {grandchild!r}]); time.sleep(60)"
    start = time.monotonic()
    done = Runner().run([sys.executable, "-c", code], timeout=0.5)
    assert time.monotonic() - start < 5
    assert done.timed_out and done.returncode is None
    assert "timed out after" in done.describe_failure()
    time.sleep(2.5)
    assert not marker.exists()


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
