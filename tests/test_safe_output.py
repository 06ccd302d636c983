"""Issue 14: output that cannot be injected, bounded reads, and the documented exit codes for the
audit's cases (prompts, filesystem errors, encodings, a full or closed stdout, a damaged matrix)."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import envcheck
from envcheck import cli
from envcheck.cli import app
from envcheck.errors import EnvcheckError
from envcheck.render.safe import markup_safe, plain_lines, safe_text, visible

# --- render/safe.py ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, shown", [
    ("\x1b[2J\x1b]0;pwned\x07title", "\\x1b[2J\\x1b]0;pwned\\x07title"),  # clear screen, window title, BEL
    ("a\rb\nc\td", "a\\rb\\nc\\td"),
    ("csi\x9b31m del\x7f nul\x00", "csi\\x9b31m del\\x7f nul\\x00"),  # C1 CSI, DEL, NUL
    ("abc\u202edcba", "abc\\u202edcba"),  # a bidi override cannot reorder the line
    ("/data/caf\udce9/env", "/data/caf\\udce9/env"),  # a non-UTF-8 file name (surrogateescape)
    ("/opt/[v2]/bin/python [/] [bold]x", "/opt/[v2]/bin/python [/] [bold]x"),  # untouched: it is text
    ("é 日本 ✓", "é 日本 ✓"),
    ("https://u:secret@h/simple?token=t", "https://u:****@h/simple?token=****"),
    (None, ""),
    (42, "42"),
])
def test_visible(raw, shown):
    assert visible(raw) == shown


def _render(renderable) -> str:
    from rich.console import Console

    console = Console(width=200, color_system=None, force_terminal=False)
    with console.capture() as cap:
        console.print(renderable)
    return cap.get()


def test_safe_text_is_never_markup():
    out = _render(safe_text("/data/[v2]/env [/] [bold red]x[/]"))
    assert out.strip() == "/data/[v2]/env [/] [bold red]x[/]"
    out = _render(f"[bold]{markup_safe('/data/[v2]/[/]')}[/]")
    assert out.strip() == "/data/[v2]/[/]"


def test_plain_lines_fallback():
    lines = list(plain_lines({"a": {"b": ["x\x1b", {"c": 1}]}, "d": None}))
    assert lines == ["a:", "  b:", "    - x\\x1b", "    -", "      c: 1", "d: "]


# --- kernel list / check through the CLI: a hostile kernelspec ------------------------------------

HOSTILE_DISPLAY = "\x1b[2J\x1b]0;pwned\x07Evil [/] [bold]x"


def _hostile_jupyter(tmp_path: Path) -> dict:
    data = tmp_path / "jupyter"
    spec = data / "kernels" / "evil"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(tmp_path / "[v2]" / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": HOSTILE_DISPLAY, "language": "python"}))
    home = tmp_path / "home"
    home.mkdir()
    return {"JUPYTER_DATA_DIR": str(data), "JUPYTER_PATH": "", "HOME": str(home), "IPYTHONDIR": str(home / ".ipython"),
            "XDG_DATA_HOME": str(home / ".local" / "share"), "PYTHONUSERBASE": str(home / ".local"),
            "VIRTUAL_ENV": "", "CONDA_PREFIX": "", "COLUMNS": "250"}


@pytest.mark.parametrize("command", [["kernel", "list"], ["kernel", "check"]])
def test_kernel_list_shows_hostile_fields_as_text(tmp_path, command):
    env = _hostile_jupyter(tmp_path)
    result = CliRunner().invoke(app, command, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert result.exit_code in (0, 1)  # check: exit 1 (stale-jupyter-kernel), the interpreter is missing
    assert "\x1b" not in result.output and "\x07" not in result.output  # nothing raw reaches the terminal
    assert "\\x1b[2J\\x1b]0;pwned\\x07Evil [/] [bold]x" in result.output  # shown, escaped, markup kept
    assert "[v2]" in result.output  # the path is not eaten as markup


def test_kernel_list_json_keeps_the_raw_value(tmp_path):
    result = CliRunner().invoke(app, ["kernel", "list", "--json"], env=_hostile_jupyter(tmp_path))
    doc = json.loads(result.stdout)  # JSON escapes controls itself; the data is not altered
    assert doc["data"]["kernels"][0]["display_name"] == HOSTILE_DISPLAY


# --- bounded kernelspec reads ----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "deep", "huge"])
def test_kernel_json_reads_are_bounded(tmp_path, kind):
    from envcheck.probes.jupyter import read_kernelspec

    spec = tmp_path / "k"
    spec.mkdir()
    path = spec / "kernel.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
    else:
        path.write_text(json.dumps({"argv": ["python"], "display_name": "x" * (2 << 20)}))
    info = read_kernelspec("k", str(spec), {"PATH": ""})
    assert info.error, info
    assert {"fifo": "a FIFO", "dev-zero": "a character device", "deep": "nested too deeply",
            "huge": "larger than 1024 KiB"}[kind] in info.error


def test_deep_kernel_json_through_kernel_list(tmp_path):
    env = _hostile_jupyter(tmp_path)
    (Path(env["JUPYTER_DATA_DIR"]) / "kernels" / "evil" / "kernel.json").write_text("[" * 50_000 + "]" * 50_000)
    result = CliRunner().invoke(app, ["kernel", "list", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert "nested too deeply" in json.loads(result.stdout)["data"]["kernels"][0]["error"]


# --- numbers: ASCII digits, bounded length (exit 2, not an internal error) -------------------------

@pytest.mark.parametrize("args, env", [
    (["install", "--driver", "５８０", "--cuda", "12.4"], {}),
    (["install", "--cuda", "١٢.٤", "--driver", "580.65.06"], {}),
    (["install", "--driver", "5" * 5000], {}),
    (["install", "--cuda", "1" * 5000 + ".0"], {}),
    (["install", "--gpu-cc", "８.６"], {}),
    (["install", "--python", "3." + "1" * 5000], {}),
    (["install"], {"ENVCHECK_OVERRIDE_DRIVER": "５８０"}),
    (["install"], {"ENVCHECK_OVERRIDE_CUDA": "9" * 5000}),
    (["doctor"], {"ENVCHECK_OVERRIDE_DRIVER": "5" * 5000}),
    (["doctor", "--python", "1" * 5000 + ".0"], {}),  # found by the fuzz (seed 7)
    (["verify", "--python", "３.11"], {}),
    (["create", "--python", "3." + "1" * 5000, "--name", "x", "--dry-run"], {}),
])
def test_hostile_numbers_exit_2(args, env):
    result = CliRunner().invoke(app, [*args, "--json"], env={"ENVCHECK_DISABLE_NVML": "1", "COLUMNS": "120", **env})
    assert result.exit_code == 2, result.output
    err = json.loads(result.stdout)["errors"][0]
    assert err["code"] in ("invalid-number", "invalid-driver", "invalid-cuda", "invalid-gpu-cc", "invalid-python")
    assert "internal error" not in result.output


# --- prompts: Ctrl-C -> 130, end of input -> 2 ---------------------------------------------------

def test_prompt_end_of_input_is_exit_2(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin(""))
    with pytest.raises(EnvcheckError) as info:
        cli._ask_yes_no("Delete it?")
    assert info.value.exit_code == 2 and info.value.code == "no-answer"


def test_prompt_answers(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", _Stdin("maybe\nY\n"))
    assert cli._ask_yes_no("Install into /x?\n  1. create \x1b[2J env\nProceed?") is True
    captured = capsys.readouterr()
    assert captured.out == ""  # the question goes to stderr: --json keeps one object on stdout
    assert "\\x1b[2J" in captured.err and "please answer y or n" in captured.err
    assert "\n  1. create" in captured.err  # envcheck's own multi-line question keeps its lines
    monkeypatch.setattr(sys, "stdin", _Stdin("\n"))
    assert cli._ask_yes_no("Delete it?") is False


@pytest.mark.parametrize("stdin, code", [("", 2), (KeyboardInterrupt, 130)])
def test_prompt_in_a_command(tmp_path, monkeypatch, stdin, code):
    """`kernel remove NAME` on a terminal asks; end of input -> 2, Ctrl-C -> 130 (was: internal error 1)."""
    env = _hostile_jupyter(tmp_path)

    def confirm(question):  # a terminal's answer (CliRunner swaps its own stdin in during invoke)
        saved, sys.stdin = sys.stdin, _Stdin(stdin)
        try:
            return cli._ask_yes_no(question)
        finally:
            sys.stdin = saved

    monkeypatch.setattr(cli, "_confirm_if_tty", lambda: confirm)
    result = CliRunner().invoke(app, ["kernel", "remove", "evil", "--json"], env=env)
    assert result.exit_code == code, result.output
    doc = json.loads(result.stdout)
    assert doc["errors"][0]["code"] == ("no-answer" if code == 2 else "interrupted")
    assert (Path(env["JUPYTER_DATA_DIR"]) / "kernels" / "evil" / "kernel.json").exists()  # nothing deleted


class _Stdin:
    def __init__(self, text):
        self.text = text

    def isatty(self):
        return True

    def readline(self):
        if isinstance(self.text, type) and issubclass(self.text, BaseException):
            raise self.text()
        line, sep, rest = self.text.partition("\n")
        self.text = rest
        return line + sep

    def read(self, *a):
        return ""


# --- filesystem errors name the path -----------------------------------------------------------------

@pytest.mark.parametrize("err, code", [(errno.EACCES, 2), (errno.EROFS, 2), (errno.ENOTDIR, 2), (errno.ENOSPC, 5)])
def test_oserror_with_a_path_is_one_line_naming_it(monkeypatch, err, code):
    def boom(**kwargs):
        raise OSError(err, os.strerror(err), "/home/u/.envcheck/logs")

    import envcheck.commands.kernel as kernel_cmd

    monkeypatch.setattr(kernel_cmd, "run_list", lambda prefixes: boom())
    result = CliRunner().invoke(app, ["kernel", "list"], env={"COLUMNS": "120"})
    assert result.exit_code == code
    assert "/home/u/.envcheck/logs" in result.stderr and "Traceback" not in result.output
    assert "internal error" not in result.stderr


def test_log_dir_that_is_a_file_is_exit_2_naming_it(tmp_path):
    logfile = tmp_path / "logs"
    logfile.write_text("")
    env = {"ENVCHECK_LOG_DIR": str(logfile / "sub"), "ENVCHECK_ENVS_DIR": str(tmp_path / "envs"),
           "HOME": str(tmp_path), "COLUMNS": "120"}
    result = CliRunner().invoke(app, ["create", "--name", "x", "--python", "3.11", "--backend", "venv", "--yes"],
                                env=env)
    assert result.exit_code == 2, result.output
    assert str(logfile) in result.stderr and "Traceback" not in result.output


def test_a_rendering_failure_degrades_to_plain_text(monkeypatch, tmp_path):
    import envcheck.render.env as view

    def broken(result, console=None):
        raise ValueError("boom")

    monkeypatch.setattr(view, "render_kernel_list", broken)
    result = CliRunner().invoke(app, ["kernel", "list"], env=_hostile_jupyter(tmp_path))
    assert result.exit_code == 0
    assert "could not be formatted" in result.stderr and "display_name: \\x1b[2J" in result.stdout


# --- a damaged matrix names the file actually loaded ----------------------------------------------

REPO_CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.mark.parametrize("damage, words", [
    (b"\xff\xfe garbage", "not UTF-8"), (b"{", "not valid JSON"), (b"[" * 100_000, "not valid JSON"),
])
def test_damaged_matrix_names_its_path(tmp_path, damage, words):
    import shutil

    from envcheck.matrix import load_matrix

    cfg = tmp_path / "cfg"
    shutil.copytree(REPO_CONFIGS, cfg)
    (cfg / "torch_releases.json").write_bytes(damage)
    with pytest.raises(EnvcheckError) as info:
        load_matrix(cfg)
    assert str(cfg / "torch_releases.json") in info.value.message and words in info.value.message


def test_installed_matrix_dir_is_reported_even_when_a_file_is_missing(tmp_path, monkeypatch):
    from envcheck.matrix import default_config_dir

    pkg = tmp_path / "site" / "envcheck"
    (pkg / "_configs").mkdir(parents=True)
    monkeypatch.setattr(envcheck, "__file__", str(pkg / "__init__.py"))
    assert default_config_dir() == pkg / "_configs"  # not site/configs, which does not exist


# --- stdout: ascii, full, closed (the real program, as a subprocess) ------------------------------

def _run(args, env_extra, stdout):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVCHECK_")}
    env.update(ENVCHECK_DISABLE_NVML="1", COLUMNS="120", **env_extra)
    return subprocess.run([sys.executable, "-m", "envcheck", *args], env=env, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=120)


@pytest.mark.parametrize("json_out", [False, True])
def test_ascii_stdout_does_not_traceback(json_out):
    done = _run(["install", "--cpu", "--python", "3.11", "--os", "linux"] + (["--json"] if json_out else []),
                {"PYTHONIOENCODING": "ascii"}, subprocess.PIPE)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "torch" in done.stdout


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("json_out", [False, True])
def test_full_disk_on_stdout_is_exit_5(json_out):
    with open("/dev/full", "w") as full:
        done = _run(["install", "--cpu", "--python", "3.11", "--os", "linux"] + (["--json"] if json_out else []),
                    {}, full)
    assert done.returncode == 5
    assert done.stderr.strip() == "error: cannot write the output: No space left on device"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="shrinks the pipe with F_SETPIPE_SZ (Linux)")
@pytest.mark.parametrize("json_out", [False, True])
def test_closed_pipe_is_silent(json_out):
    """`envcheck ... | head -1`: no traceback, no 'Exception ignored' (the pipe is shrunk to one page so
    the ~30 KiB report cannot fit in it before the reader goes away)."""
    import fcntl

    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVCHECK_")}
    env.update(ENVCHECK_DISABLE_NVML="1", COLUMNS="120")
    read_fd, write_fd = os.pipe()
    fcntl.fcntl(write_fd, 1031, 4096)  # F_SETPIPE_SZ
    proc = subprocess.Popen([sys.executable, "-m", "envcheck", "install", "--cpu", "--python", "3.11", "--os", "linux",
                             "--all", "--explain"] + (["--json"] if json_out else []),
                            env=env, stdout=write_fd, stderr=subprocess.PIPE)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reader:
        reader.readline()
    with proc.stderr:  # the reader is gone (`head -1` exited)
        err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err, err
    assert err == ""


def test_verify_with_markup_and_escapes_in_the_interpreter_path(tmp_path, bare_python):
    """`[/]` and `[v2]` in the path crashed verify's header after the run (MarkupError); ESC went raw."""
    odd = tmp_path / "a[" / "]b [v2]" / "x\x1b[31m"
    odd.mkdir(parents=True)
    (odd / "python").symlink_to(bare_python)
    result = CliRunner().invoke(app, ["verify", "--python", str(odd / "python"), "--device", "cpu"],
                                env={"COLUMNS": "200", "ENVCHECK_DISABLE_NVML": "1"})
    assert result.exit_code == 1, result.output  # torch is not importable there: a failed check, no crash
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert "\x1b" not in result.output
    assert "a[/]b [v2]/x\\x1b[31m/python" in " ".join(result.output.split())


@pytest.mark.parametrize("target", ["fifo", "/dev/zero"])
def test_doctor_with_condarc_and_pip_config_at_a_fifo_or_dev_zero(tmp_path, target):
    """The audit: CONDARC/PIP_CONFIG_FILE at a FIFO hung doctor; at /dev/zero it grew to 24 GB."""
    path = str(tmp_path / "fifo") if target == "fifo" else target
    if target == "fifo":
        os.mkfifo(path)
    home = tmp_path / "home"
    home.mkdir()
    sysfs, procfs = tmp_path / "sys", tmp_path / "proc"
    sysfs.mkdir()
    procfs.mkdir()
    env = {"HOME": str(home), "CONDARC": path, "PIP_CONFIG_FILE": path, "ENVCHECK_DISABLE_NVML": "1",
           "ENVCHECK_SYSFS_ROOT": str(sysfs), "ENVCHECK_PROCFS_ROOT": str(procfs), "JUPYTER_DATA_DIR": str(tmp_path / "j"),
           "PATH": os.path.dirname(sys.executable), "VIRTUAL_ENV": "", "CONDA_PREFIX": "", "COLUMNS": "120"}
    result = CliRunner().invoke(app, ["doctor", "--json", "--python", sys.executable], env=env)
    assert result.exit_code in (0, 1), result.output
    notes = json.loads(result.stdout)["data"]["managers"]["notes"]
    assert len(notes) == 2 and all(path in n and "not a regular file" in n for n in notes)
