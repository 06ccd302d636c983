"""Shared fixtures. Real where this machine allows: real venvs, the real CPU torch wheel, real pip."""
from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def envcheck_bin() -> str:
    """The installed `envcheck` console script of the environment running the tests."""
    candidate = Path(sys.executable).parent / "envcheck"
    if not candidate.exists():
        pytest.fail(f"envcheck is not installed next to {sys.executable}: run `pip install -e '.[test]'` first")
    return str(candidate)


@pytest.fixture(scope="session")
def torch_python() -> str:
    """An interpreter in a real venv with the real CPU torch 2.13.0 wheel (the test extra installs it).

    The test process itself never imports torch; it only checks the distribution is there.
    """
    if importlib.util.find_spec("torch") is None:
        pytest.fail("torch is not installed in the test environment: run `pip install -e '.[test]'`")
    return sys.executable


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory) -> str:
    """A real, fresh venv without torch (and without pip, which is not needed to be inspected)."""
    root = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    return str(root / "bin" / "python")


def write_exe(directory: Path, name: str, body: str) -> Path:
    """Write an executable stand-in (a script on PATH that replays output or records argv)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(body).lstrip())
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def fake_bin(tmp_path) -> Path:
    """A directory to put stand-in executables in; prepend it to PATH in the test's env."""
    d = tmp_path / "fakebin"
    d.mkdir()
    return d


@pytest.fixture
def clean_env(tmp_path, monkeypatch) -> dict:
    """An environment with no active venv/conda, a private HOME and Jupyter dirs, no CUDA variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUDA_", "ENVCHECK_", "JUPYTER_", "CONDA"))}
    env.pop("VIRTUAL_ENV", None)
    home = tmp_path / "home"
    home.mkdir()
    env["HOME"] = str(home)
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "jupyter-data")
    env["COLUMNS"] = "120"
    return env
