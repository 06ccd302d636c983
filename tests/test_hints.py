"""workflow/hints.py: the hint for a failed pip / uv comes from what the installer said (issue 9).

The table runs over REAL outputs captured with pip 23.2.1 and uv 0.13.9 (tests/fixtures/installer/,
README there says how each was made); the rows marked synthetic are one-line stand-ins for messages
that cannot be produced on this machine.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from envcheck.runner import Completed
from envcheck.workflow.hints import diagnose_installer, is_retry_warning, suggest_fix

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "installer"


def _read(name: str) -> str:
    return (FIXTURES / f"{name}.txt").read_text()


REAL = [
    # fixture, cause, words the hint must carry
    ("pip-connection-refused", "index-unreachable", ["could not reach http://127.0.0.1:", "/simple (the connection was refused)",
                                                     "gave up after 12.3 s", "found no six"]),
    ("pip-read-timeout", "index-unreachable", ["could not reach http://127.0.0.1:", "did not answer in time"]),
    ("pip-name-resolution", "index-unreachable", ["could not reach https://download.pytorch.org/whl/cpu",
                                                  "host name did not resolve", "found no torchvision==0.28.0"]),
    ("pip-constraint-conflict", "resolution-conflict", ["The user requested torch==2.13.0",
                                                        "The user requested (constraint) torch==2.12.0", "pip config list"]),
    ("pip-no-such-version", "no-matching-distribution", ["no torch==9.9.9; the sources offer 2.13.0+cpu"]),
    ("pip-no-wheel-for-python", "no-matching-distribution", ["no source offers any build of torch==2.13.0 for this "
                                                             "Python and platform", "cpXY"]),
    ("pip-hash-mismatch", "hash-mismatch", ["six==1.17.0", "pip cache purge"]),
    ("uv-connection-refused", "index-unreachable", ["uv could not reach http://127.0.0.1:", "connection was refused"]),
    ("uv-read-timeout", "index-unreachable", ["did not answer in time"]),
    ("uv-name-resolution", "index-unreachable", ["https://download.pytorch.org/whl/cpu/torchvision/",
                                                 "host name did not resolve"]),
    ("uv-constraint-conflict", "resolution-conflict", ["you require torch==2.13.0 and torch==2.12.0", "UV_CONSTRAINT"]),
    ("uv-no-such-version", "no-matching-distribution", ["there is no version of torch==9.9.9"]),
    ("uv-no-wheel-for-python", "no-matching-distribution", ["no wheels with a matching Python implementation tag",
                                                            "only found wheels for `torch` (v2.13.0+cpu)", "`cp311`"]),
    ("uv-no-wheel-for-platform", "no-matching-distribution", ["matching platform tag", "manylinux_2_28_x86_64"]),
    ("uv-hash-mismatch", "hash-mismatch", ["six==1.17.0", "uv cache clean"]),
]


@pytest.mark.parametrize("name, cause, words", REAL, ids=[r[0] for r in REAL])
def test_real_installer_outputs(name, cause, words):
    tool = name.split("-", 1)[0]
    found = diagnose_installer(_read(name), 12.3, tool)
    assert found is not None and found.cause == cause
    hint = f"{found.said}; {found.fix}"
    for word in words:
        assert word in hint
    assert "no network" not in hint


def test_unreachable_is_not_called_no_matching_distribution():
    """pip ends an unreachable index with "No matching distribution found" too: the cause is the index."""
    text = _read("pip-connection-refused")
    assert "No matching distribution found for six" in text
    assert diagnose_installer(text).cause == "index-unreachable"
    assert "gave up" not in diagnose_installer(text).said  # no elapsed time known: none claimed


SYNTHETIC = [  # one-line stand-ins (messages this machine cannot produce), named so
    ("WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection "
     "broken by 'NewConnectionError('<HTTPSConnection object at 0x7f>: Failed to establish a new connection: "
     "[Errno 101] Network is unreachable')': /simple/torch/", "index-unreachable", "the network is unreachable"),
    ("WARNING: Retrying (Retry(total=4, ...)) after connection broken by 'NewConnectionError('<HTTPSConnection>: "
     "Failed to establish a new connection: [Errno -3] Temporary failure in name resolution')': /simple/torch/",
     "index-unreachable", "host name did not resolve"),
    ("ERROR: Cannot install torch==2.13.0 and torchvision==0.20.1 because these package versions have conflicting "
     "dependencies.\n\nThe conflict is caused by:\n    The user requested torch==2.13.0\n    torchvision 0.20.1 "
     "depends on torch==2.5.1\n", "resolution-conflict", "torchvision 0.20.1 depends on torch==2.5.1"),
]


@pytest.mark.parametrize("text, cause, words", SYNTHETIC)
def test_synthetic_installer_lines(text, cause, words):
    found = diagnose_installer(text)
    assert found.cause == cause and words in found.said + found.fix


def test_suggest_fix_reads_the_whole_output_and_the_step_time():
    """The retry warnings come long before the tail's last lines: suggest_fix reads Completed.stdout."""
    text = _read("pip-connection-refused")
    done = Completed(("/e/bin/python", "-m", "pip"), 1, stdout=text, duration_s=95.04)
    fix = suggest_fix(["ERROR: No matching distribution found for six"], done)
    assert fix.startswith("pip could not reach http://127.0.0.1:") and "gave up after 95.0 s" in fix
    uv = Completed(("/x/uv", "pip", "install"), 2, stdout=_read("uv-connection-refused"), duration_s=1.0)
    assert suggest_fix([], uv).startswith("uv could not reach")


@pytest.mark.parametrize("tail, words", [
    (["OSError: [Errno 28] No space left on device"], "free disk space"),
    (["CondaHTTPError: HTTP 000 CONNECTION FAILED"], "--mirror"),
    (["something odd"], "--dry-run"),
])
def test_other_tools_keep_their_table(tail, words):
    assert words in suggest_fix(tail)


def test_retry_warning_lines():
    retry = _read("pip-connection-refused").splitlines()[2]
    assert retry.startswith("WARNING: Retrying (Retry(") and is_retry_warning(retry)
    assert not is_retry_warning("Collecting torch==2.13.0")
    assert not is_retry_warning("WARNING: Location 'file:///opt/x/simple/typer/' is ignored")
