"""The contracts every command shares: one JSON envelope on stdout, documented exit codes, no traceback.

Includes errors that happen before any Result exists (an unknown option, a missing interpreter).
"""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from envcheck.cli import app

ENVELOPE_KEYS = {"envcheck_result_version", "command", "status", "exit_code", "data", "errors"}

COMMANDS = [
    ["doctor"],
    ["install"],
    ["verify"],
    ["create"],
    ["kernel", "add"],
    ["kernel", "list"],
    ["kernel", "check"],
    ["kernel", "remove"],
]


def invoke(args, env=None):
    return CliRunner().invoke(app, args, env={"COLUMNS": "120", **(env or {})})


def one_envelope(stdout: str) -> dict:
    obj = json.loads(stdout)  # fails on anything but exactly one JSON document
    assert set(obj) == ENVELOPE_KEYS
    assert obj["envcheck_result_version"] == 1
    return obj


def test_top_level_help_lists_every_command_and_the_exit_codes():
    result = invoke(["--help"])
    assert result.exit_code == 0
    for name in ("doctor", "install", "verify", "create", "kernel"):
        assert name in result.output
    text = " ".join(result.output.split())  # help text is wrapped to the terminal width
    assert "3 no compatible build" in text and "130 interrupted" in text


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_of_every_command(command):
    result = invoke([*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "--json" in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_unknown_option_with_json_is_exit_2_and_one_error_envelope(command):
    result = invoke([*command, "--no-such-option", "--json"])
    assert result.exit_code == 2
    obj = one_envelope(result.stdout)
    assert obj["status"] == "error" and obj["exit_code"] == 2
    assert obj["errors"][0]["code"] == "usage"
    assert "--no-such-option" in obj["errors"][0]["message"]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [["doctor"], ["verify"]], ids=" ".join)
def test_missing_interpreter_is_exit_4_with_an_envelope(command, tmp_path):
    missing = str(tmp_path / "nope" / "bin" / "python")
    result = invoke([*command, "--python", missing, "--json"])
    assert result.exit_code == 4
    obj = one_envelope(result.stdout)
    assert obj["status"] == "error" and obj["errors"][0]["code"] == "interpreter-not-found"
    assert obj["errors"][0]["hint"]


def test_missing_interpreter_without_json_is_one_line_and_a_hint(tmp_path):
    result = invoke(["doctor", "--python", str(tmp_path / "python9")])
    assert result.exit_code == 4
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    assert result.stdout == ""


def test_version():
    result = invoke(["--version"])
    assert result.exit_code == 0 and result.output.startswith("envcheck ")


@pytest.mark.parametrize(
    "args, command",
    [
        (["verify", "--device", "tpu"], "verify"),
        (["kernel", "add", "--bogus"], "kernel add"),
        (["doctor", "--python"], "doctor"),
        (["install", "--torch"], "install"),
    ],
)
def test_usage_errors_are_one_line_and_a_hint(args, command):
    result = invoke(args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("error: ") and lines[1] == f"hint: see `envcheck {command} --help`"
    assert result.stdout == ""


def test_usage_error_envelope_names_the_subcommand():
    obj = one_envelope(invoke(["kernel", "add", "--bogus", "--json"]).stdout)
    assert obj["command"] == "kernel add"


def test_no_arguments_shows_the_help():
    result = invoke([])
    assert "Usage: envcheck" in result.output and "doctor" in result.output


# --- main(): only the named command is built (typer builds every command's click object each run) ------


def _built(argv):
    from typer.main import get_command

    from envcheck.cli import app_for

    return sorted(get_command(app_for(argv)).commands)


@pytest.mark.parametrize("argv, built", [
    (["doctor", "--json"], ["doctor"]),
    (["install", "--cpu"], ["install"]),
    (["kernel", "list"], ["kernel"]),
    (["fleet", "report", "x.json"], ["fleet"]),
])
def test_a_run_builds_only_its_command(argv, built):
    assert _built(argv) == built


ALL = ["create", "doctor", "env", "fleet", "install", "kernel", "matrix", "verify"]


@pytest.mark.parametrize("argv", [[], ["--help"], ["--lang", "zh", "doctor"], ["doctr"], ["-h"], ["--version"]])
def test_anything_else_gets_the_whole_app(argv):
    """Root help, 'No such command' suggestions and root options first: the whole app, as before."""
    assert _built(argv) == ALL


def test_shell_completion_gets_the_whole_app(monkeypatch):
    monkeypatch.setenv("_ENVCHECK_COMPLETE", "complete_bash")
    assert _built(["doctor"]) == ALL


@pytest.mark.parametrize("argv", [["doctor", "--bogus"], ["doctor", "--json", "--python", ""], ["kernel"],
                                  ["install", "--python", "3.7", "--cpu", "--json"], ["doctor", "--help"]])
def test_the_built_command_answers_as_the_whole_app_does(argv, tmp_path):
    """The same exit code and output through main()'s app as through the whole app."""
    from envcheck.cli import app_for

    env = {"COLUMNS": "120", "HOME": str(tmp_path)}
    whole = CliRunner().invoke(app, argv, env=env)
    one = CliRunner().invoke(app_for(argv), argv, env=env)
    assert one.exit_code == whole.exit_code
    assert one.stdout == whole.stdout
