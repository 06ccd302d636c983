"""How `--python` picks the target interpreter (a version request or an interpreter), for real."""
from __future__ import annotations

import json
import os
import sys

import pytest

from envcheck.errors import EnvcheckError, ExitCode
from envcheck.facts import Source
from envcheck.inputs import target_interpreter
from envcheck.probes.python import InterpreterNotFound, parse_version_request, resolve_interpreter
from envcheck.runner import Runner


@pytest.mark.parametrize(
    "text, expected",
    [("3.7", (3, 7)), ("3.11", (3, 11)), (" 3.12 ", (3, 12)), ("3", None), ("3.7.1", None), ("py3.7", None), ("", None)],
)
def test_parse_version_request(text, expected):
    assert parse_version_request(text) == expected


def test_active_virtualenv_wins(bare_python):
    prefix = os.path.dirname(os.path.dirname(bare_python))
    got = resolve_interpreter(None, Runner(), {"VIRTUAL_ENV": prefix, "PATH": os.environ["PATH"]})
    assert got.path == os.path.join(prefix, "bin", "python")
    assert got.source is Source.ENV and "VIRTUAL_ENV" in got.why


def test_python3_on_path_without_active_env(tmp_path):
    got = resolve_interpreter(None, Runner(), {"PATH": os.path.dirname(sys.executable)})
    assert os.path.basename(got.path) == "python3" and got.source is Source.PATH


def test_env_directory_and_executable_path(bare_python):
    prefix = os.path.dirname(os.path.dirname(bare_python))
    assert resolve_interpreter(prefix, Runner(), {"PATH": ""}).path.endswith(os.path.join("bin", "python"))
    assert resolve_interpreter(bare_python, Runner(), {"PATH": ""}).path == bare_python


def test_version_request_found_on_path():
    version = "%d.%d" % sys.version_info[:2]
    got = resolve_interpreter(version, Runner(), {"PATH": os.path.dirname(sys.executable)})
    assert os.path.basename(got.path) == f"python{version}"


@pytest.mark.parametrize("spec", ["/nonexistent/bin/python", "no-such-python-xyz", "2.1"])
def test_missing_target_is_exit_4_with_a_hint(spec, tmp_path):
    found = resolve_interpreter(spec, Runner(), {"PATH": str(tmp_path)})  # a probe: a reason, never a raise
    assert isinstance(found, InterpreterNotFound) and found.hint
    with pytest.raises(EnvcheckError) as info:
        target_interpreter(spec, Runner(), {"PATH": str(tmp_path)})
    assert info.value.exit_code == ExitCode.TARGET_NOT_FOUND
    assert info.value.hint


@pytest.mark.parametrize("spec", ["", "   "])
def test_blank_python_is_a_usage_error(spec):
    with pytest.raises(EnvcheckError) as info:
        target_interpreter(spec, Runner(), {"PATH": ""})
    assert info.value.exit_code == ExitCode.USAGE and info.value.code == "invalid-python"


def _script(tmp_path, body: str) -> str:
    from conftest import write_exe

    return str(write_exe(tmp_path / "bin", "notpython", body))


@pytest.mark.parametrize("answer, found", [
    ({"returncode": 2, "stderr": "ls: invalid option -- 'c'"}, "exited"),  # /bin/ls
    ({"stdout": "hello world\n"}, "printed 'hello world', not a Python version"),  # a script printing garbage
    ({"returncode": None, "timed_out": True, "duration_s": 20.0}, "timed out"),  # a binary that hangs
])
def test_not_a_python_is_exit_4_naming_what_was_found(tmp_path, fake_runner, answer, found):
    path = _script(tmp_path, "#!/bin/sh\nexit 0\n")  # exists and is executable; the fake runner answers
    fake_runner.on(path, **answer)
    with pytest.raises(EnvcheckError) as info:
        target_interpreter(path, fake_runner, {"PATH": ""})
    assert info.value.exit_code == ExitCode.TARGET_NOT_FOUND and info.value.code == "interpreter-not-found"
    assert path in info.value.message and found in info.value.message


def test_bin_ls_is_exit_4_for_real():
    if not os.access("/bin/ls", os.X_OK):
        pytest.skip("no /bin/ls")
    with pytest.raises(EnvcheckError) as info:
        target_interpreter("/bin/ls", Runner(), {"PATH": ""})
    assert info.value.exit_code == ExitCode.TARGET_NOT_FOUND and "/bin/ls is not a working Python" in info.value.message


# --- doctor: the inspection's own run of the target answers the "is it Python" check ---------------


def _doctor(path, runner, tmp_path):
    from envcheck.commands import doctor

    env = {"PATH": "", "HOME": str(tmp_path), "JUPYTER_DATA_DIR": str(tmp_path / "jd"), "ENVCHECK_DISABLE_NVML": "1",
           "ENVCHECK_SYSFS_ROOT": str(tmp_path / "sys"), "ENVCHECK_PROCFS_ROOT": str(tmp_path / "proc")}
    return doctor.run(python=path, runner=runner, environ=env)


def test_doctor_starts_a_python_target_once(tmp_path, fake_runner):
    """pyinfo.py's JSON answer (with the version) confirms a working Python: no separate version run."""
    path = _script(tmp_path, "#!/bin/sh\nexit 0\n")
    answer = json.dumps({"executable": path, "version": "3.11.7", "prefix": str(tmp_path), "base_prefix": str(tmp_path),
                         "distributions": {}})
    fake_runner.on("pyinfo.py", stdout=answer + "\n")
    result = _doctor(path, fake_runner, tmp_path)
    assert result.exit_code != ExitCode.TARGET_NOT_FOUND
    assert fake_runner.ran("sys.version_info") == [] and len(fake_runner.ran(path)) == 1
    assert result.data["python"]["version"]["value"] == "3.11.7"


@pytest.mark.parametrize("pyinfo, check, found", [
    ({"returncode": 2, "stderr": "ls: invalid option -- 'c'"}, {"returncode": 2, "stderr": "ls: invalid option -- 'c'"},
     "exited"),  # /bin/ls
    ({"stdout": "hello world\n"}, {"stdout": "hello world\n"}, "printed 'hello world', not a Python version"),
])
def test_doctor_not_a_python_is_still_exit_4(tmp_path, fake_runner, pyinfo, check, found):
    path = _script(tmp_path, "#!/bin/sh\nexit 0\n")
    fake_runner.on("pyinfo.py", **pyinfo).on("sys.version_info", **check)
    with pytest.raises(EnvcheckError) as info:
        _doctor(path, fake_runner, tmp_path)
    assert info.value.exit_code == ExitCode.TARGET_NOT_FOUND and info.value.code == "interpreter-not-found"
    assert path in info.value.message and found in info.value.message


def test_doctor_a_python_whose_inspection_hangs_is_a_finding_not_exit_4(tmp_path, fake_runner):
    """A real Python whose inspection hangs (a blocking sitecustomize, a dead NFS site-packages) answers the
    quick version check: it IS a Python, so doctor reports python-inspect-failed (exit 1), never "ready"."""
    path = _script(tmp_path, "#!/bin/sh\nexit 0\n")
    fake_runner.on("pyinfo.py", returncode=None, timed_out=True, duration_s=20.0).on("sys.version_info",
                                                                                    stdout="3.11.7\n")
    result = _doctor(path, fake_runner, tmp_path)
    assert result.exit_code == 1 and "python-inspect-failed" in [f["code"] for f in result.data["findings"]]
    assert len(fake_runner.ran("sys.version_info")) == 1


def test_doctor_a_target_that_hangs_on_everything_is_exit_4(tmp_path, fake_runner):
    path = _script(tmp_path, "#!/bin/sh\nexit 0\n")
    fake_runner.on("pyinfo.py", returncode=None, timed_out=True, duration_s=20.0).on(
        "sys.version_info", returncode=None, timed_out=True, duration_s=10.0)
    with pytest.raises(EnvcheckError) as info:
        _doctor(path, fake_runner, tmp_path)
    assert info.value.exit_code == ExitCode.TARGET_NOT_FOUND and "timed out after 10.0 s" in info.value.message


def test_doctor_python_too_old_for_pyinfo_still_runs(tmp_path, fake_runner):
    """A Python that cannot run pyinfo.py (3.7 syntax) but answers its version: doctor goes on, as before."""
    path = _script(tmp_path, "#!/bin/sh\nexit 0\n")
    fake_runner.on("pyinfo.py", returncode=1, stderr="SyntaxError: invalid syntax").on("sys.version_info", stdout="2.7.18\n")
    result = _doctor(path, fake_runner, tmp_path)
    assert result.data["python"]["ok"] is False and len(fake_runner.ran("sys.version_info")) == 1


def test_doctor_deep_confirms_first(tmp_path, fake_runner):
    """With --deep (torch imported in the target, long timeouts) a non-Python is refused before any probe."""
    from envcheck.commands import doctor

    path = _script(tmp_path, "#!/bin/sh\nexit 0\n")
    fake_runner.on("sys.version_info", stdout="hello world\n")
    with pytest.raises(EnvcheckError) as info:
        doctor.run(python=path, deep=True, runner=fake_runner, environ={"PATH": "", "HOME": str(tmp_path)})
    assert info.value.exit_code == ExitCode.TARGET_NOT_FOUND
    assert len(fake_runner.calls) == 1 and fake_runner.ran("sys.version_info") and not fake_runner.ran("pyinfo.py")
