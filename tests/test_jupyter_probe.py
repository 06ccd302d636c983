"""The Jupyter kernelspec probe: search path order (jupyter_core.paths), kernel.json parsing, shadowing."""
from __future__ import annotations

import json
import os
import sys

import pytest

from envcheck.probes.jupyter import (
    find_kernelspec,
    jupyter_data_dirs,
    kernel_dirs,
    parse_kernel_json,
    probe_kernelspecs,
    python_interpreter_of,
    user_data_dir,
)

GOOD = {"argv": ["/env/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "My Env", "language": "python"}


@pytest.mark.parametrize(
    "text, argv, display, error_part",
    [
        (json.dumps(GOOD), tuple(GOOD["argv"]), "My Env", None),
        ("", (), None, "not valid JSON"),
        ("{not json", (), None, "not valid JSON"),
        ("[1, 2]", (), None, "not a JSON object"),
        (json.dumps({"display_name": "x"}), (), "x", "no usable argv"),
        (json.dumps({"argv": [], "display_name": "x"}), (), "x", "no usable argv"),
        (json.dumps({"argv": ["python", 3], "display_name": "x"}), (), "x", "no usable argv"),
        (json.dumps({"argv": ["python"]}), ("python",), None, "no display_name"),
    ],
)
def test_parse_kernel_json(text, argv, display, error_part):
    parsed = parse_kernel_json(text)
    assert parsed.argv == argv
    assert parsed.display_name == display
    if error_part is None:
        assert parsed.error is None
    else:
        assert error_part in parsed.error


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["/env/bin/python", "-m", "ipykernel_launcher"], "/env/bin/python"),
        (["python3.11", "-m", "ipykernel_launcher"], "python3.11"),
        (["python"], "python"),
        (["C:\\envs\\x\\python.exe", "-m", "ipykernel_launcher"], "C:\\envs\\x\\python.exe"),
        (["/usr/bin/python3.13t"], "/usr/bin/python3.13t"),
        (["/usr/lib/R/bin/R", "--slave"], None),
        (["conda", "run", "-n", "x", "python"], None),
        (["/opt/julia/bin/julia"], None),
        ([], None),
    ],
)
def test_python_interpreter_of(argv, expected):
    assert python_interpreter_of(argv) == expected


def test_data_dirs_order_linux(tmp_path):
    home = str(tmp_path)
    env = {"HOME": home, "JUPYTER_PATH": "/a:/b/", "JUPYTER_DATA_DIR": "/data"}
    assert jupyter_data_dirs(env, ["/env1", "/env2"], platform="linux") == [
        "/a", "/b", "/data", os.path.join(os.path.realpath(home), ".local", "share", "jupyter"),
        "/env1/share/jupyter", "/env2/share/jupyter", "/usr/local/share/jupyter", "/usr/share/jupyter",
    ]


def test_data_dirs_prefer_env_and_dedupe(tmp_path):
    env = {"HOME": str(tmp_path), "JUPYTER_DATA_DIR": "/data", "JUPYTER_PREFER_ENV_PATH": "1",
           "PYTHONUSERBASE": "/ub"}
    assert jupyter_data_dirs(env, ["/e", "/e", "/usr/local"], platform="linux") == [
        "/e/share/jupyter", "/data", "/ub/share/jupyter", "/usr/local/share/jupyter", "/usr/share/jupyter",
    ]


@pytest.mark.parametrize(
    "platform, env, expected",
    [
        ("linux", {"HOME": "/h"}, "/h/.local/share/jupyter"),
        ("linux", {"HOME": "/h", "XDG_DATA_HOME": "/x"}, "/x/jupyter"),
        ("darwin", {"HOME": "/h"}, "/h/Library/Jupyter"),
        ("win32", {"HOME": "/h", "APPDATA": "/appdata"}, os.path.join("/appdata", "jupyter")),
        ("darwin", {"HOME": "/h", "JUPYTER_DATA_DIR": "/j"}, "/j"),
    ],
)
def test_user_data_dir(platform, env, expected):
    assert user_data_dir(env, platform).replace(os.path.realpath("/h"), "/h") == expected


def _spec(root, name, argv, display="D"):
    d = root / "kernels" / name
    d.mkdir(parents=True)
    (d / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": display, "language": "python"}))
    return d


def test_probe_shadowing_stale_and_invalid(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    _spec(first, "dup", [sys.executable, "-m", "ipykernel_launcher"], "winner")
    _spec(second, "DUP", ["/gone/env/bin/python", "-m", "ipykernel_launcher"], "loser")
    _spec(second, "stale", ["/gone/env/bin/python", "-m", "ipykernel_launcher"])
    _spec(second, "rkernel", ["/no/such/R"])
    bad = second / "kernels" / "broken"
    bad.mkdir()
    (bad / "kernel.json").write_text("{oops")
    (second / "kernels" / "not-a-kernel").mkdir()  # no kernel.json: not listed, as in jupyter_client
    env = {"HOME": str(tmp_path / "home"), "JUPYTER_PATH": f"{first}:{second}", "PATH": ""}
    specs = {(s.name, s.resource_dir): s for s in probe_kernelspecs(env)}
    names = [s.name for s in probe_kernelspecs(env)]
    assert names == ["dup", "broken", "dup", "rkernel", "stale"]
    winner = specs[("dup", str(first / "kernels" / "dup"))]
    loser = specs[("dup", str(second / "kernels" / "DUP"))]
    assert winner.shadowed_by is None and winner.interpreter_exists and not winner.stale
    assert loser.shadowed_by == str(first / "kernels" / "dup")
    stale = specs[("stale", str(second / "kernels" / "stale"))]
    assert stale.stale and stale.interpreter == "/gone/env/bin/python"
    r = specs[("rkernel", str(second / "kernels" / "rkernel"))]
    assert r.interpreter is None and not r.stale
    broken = specs[("broken", str(bad))]
    assert "not valid JSON" in broken.error and broken.argv == ()
    assert find_kernelspec("DUP", env).display_name == "winner"
    assert find_kernelspec("missing", env) is None


def test_probe_never_raises_on_unreadable_dirs(tmp_path):
    f = tmp_path / "file-not-dir"
    f.write_text("x")
    env = {"HOME": str(tmp_path), "JUPYTER_PATH": f"{f}:/nonexistent/dir", "JUPYTER_DATA_DIR": str(f)}
    assert probe_kernelspecs(env, prefixes=["/also/not/there"]) == ()


def test_kernel_dirs_include_ipython_legacy(tmp_path):
    env = {"HOME": str(tmp_path), "JUPYTER_DATA_DIR": "/d", "IPYTHONDIR": "/ipy"}
    dirs = kernel_dirs(env, platform="linux")
    assert dirs[0] == "/d/kernels" and dirs[-1] == "/ipy/kernels"
