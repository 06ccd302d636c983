"""Shell completion (issue 13): typer's --show-completion / --install-completion on the root app.

`_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION` is typer's own switch that makes both options take the
shell as a value instead of detecting it from the parent process. HOME points into tmp_path, so
--install-completion writes nowhere else.
"""
from __future__ import annotations

from typer.testing import CliRunner

from envcheck.cli import app


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_show_completion_bash_prints_the_script(tmp_path, monkeypatch):
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    out = CliRunner().invoke(app, ["--show-completion", "bash"], env={"HOME": str(tmp_path)})
    assert out.exit_code == 0, out.output
    assert "complete -o default -F _envcheck_completion envcheck" in out.stdout
    assert "_ENVCHECK_COMPLETE=complete_bash" in out.stdout
    assert _files(tmp_path) == []  # showing writes nothing


def test_install_completion_writes_only_under_home(tmp_path, monkeypatch):
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    out = CliRunner().invoke(app, ["--install-completion", "bash"], env={"HOME": str(tmp_path)})
    assert out.exit_code == 0, out.output
    assert _files(tmp_path) == [".bash_completions/envcheck.sh", ".bashrc"]
    assert "_ENVCHECK_COMPLETE=complete_bash" in (tmp_path / ".bash_completions" / "envcheck.sh").read_text()


def test_completion_completes_commands(monkeypatch):
    """What bash asks for on TAB: `envcheck ker<TAB>` -> kernel (click's completion protocol)."""
    env = {"_ENVCHECK_COMPLETE": "complete_bash", "COMP_WORDS": "envcheck ker", "COMP_CWORD": "1"}
    out = CliRunner().invoke(app, [], env=env, prog_name="envcheck")
    assert out.exit_code == 0, out.output
    assert out.stdout.split() == ["kernel"]


def test_help_lists_the_completion_options():
    out = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "100"})
    assert out.exit_code == 0
    assert "--install-completion" in out.stdout and "--show-completion" in out.stdout
