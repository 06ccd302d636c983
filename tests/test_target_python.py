"""How `--python` picks the target interpreter (a version request or an interpreter), for real."""
from __future__ import annotations

import os
import sys

import pytest

from envcheck.errors import EnvcheckError, ExitCode
from envcheck.facts import Source
from envcheck.probes.python import parse_version_request, resolve_interpreter
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
    with pytest.raises(EnvcheckError) as info:
        resolve_interpreter(spec, Runner(), {"PATH": str(tmp_path)})
    assert info.value.exit_code == ExitCode.TARGET_NOT_FOUND
    assert info.value.hint
