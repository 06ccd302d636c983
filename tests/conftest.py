"""Shared fixtures. Real where this machine allows: real venvs, the real torch wheel, real pip.

Every test runs with HOME, the XDG dirs, Jupyter's and IPython's dirs, uv's dirs and envcheck's own
dirs pointed into the test's tmp_path (`_isolated_home`, autouse): no test writes into the real home.
pip's user configuration (an index or wheel directory the machine is set up with) is still read,
through PIP_CONFIG_FILE, because reading it changes nothing.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The tests assert English human output: a Chinese locale on the developer's machine (envcheck/i18n.py)
# must not switch it. Done at import, before envcheck.cli translates its help texts; tests of the
# Chinese output set --lang / ENVCHECK_LANG / LANG themselves (tests/test_i18n.py).
for _var in ("LC_ALL", "LC_MESSAGES", "LANG"):
    if os.environ.get(_var, "").lower().startswith("zh"):
        os.environ[_var] = "C.UTF-8"
os.environ.pop("ENVCHECK_LANG", None)
REAL_HOME = Path.home()  # the real home, before any test moves HOME (test_one_rule checks it stays untouched)
# Read once, before any test moves HOME: the real user pip config (reading it writes nothing).
_USER_PIP_CONF = next((p for p in (
    Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "pip" / "pip.conf",
    Path.home() / ".pip" / "pip.conf",
) if p.is_file()), None)
ISOLATED_DIRS = {
    "HOME": "home",
    "XDG_CONFIG_HOME": "home/.config",
    "XDG_DATA_HOME": "home/.local/share",
    "XDG_STATE_HOME": "home/.local/state",
    "JUPYTER_DATA_DIR": "jupyter-data",
    "JUPYTER_CONFIG_DIR": "jupyter-config",
    "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
    "IPYTHONDIR": "ipython",
    "UV_TOOL_DIR": "uv-tools",
    "UV_PYTHON_INSTALL_DIR": "uv-python",
    "ENVCHECK_ENVS_DIR": "envs",
    "ENVCHECK_LOG_DIR": "logs",
    "ENVCHECK_CACHE_DIR": "envcheck-cache",  # `matrix refresh`'s cache (XDG_CACHE_HOME is shared by the session)
}


@pytest.fixture(scope="session")
def _shared_cache(tmp_path_factory) -> Path:
    """One download cache for the session (uv, pip): a per-test cache would copy wheels per test.
    Removed at the end of the session."""
    path = tmp_path_factory.mktemp("cache")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def _english_output():
    """Every test starts in English whatever the developer's locale, and a test that switches to
    Chinese (a CliRunner run with --lang zh, i18n.set_lang) cannot leak it into the next test: the
    chosen language is process state in envcheck.i18n."""
    from envcheck import i18n

    i18n.set_lang("en")
    yield
    i18n.set_lang("en")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch, _shared_cache) -> Path:
    """Point every per-user directory into tmp_path/isolated (created lazily by whoever writes)."""
    root = tmp_path / "isolated"
    for var, rel in ISOLATED_DIRS.items():
        monkeypatch.setenv(var, str(root / rel))
    (root / "home").mkdir(parents=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(_shared_cache))
    monkeypatch.setenv("UV_CACHE_DIR", str(_shared_cache / "uv"))
    if _USER_PIP_CONF is not None and "PIP_CONFIG_FILE" not in os.environ:
        monkeypatch.setenv("PIP_CONFIG_FILE", str(_USER_PIP_CONF))
    return root
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


@dataclass(frozen=True)
class TorchBuild:
    """The torch the test extra installed, read from its torch/version.py (never imported here):
    the local CPU wheel (2.13.0+cpu) on this machine, the CUDA wheel (2.13.0, cuda 12.x) on a fresh one."""

    version: str
    cuda: str | None

    @property
    def local(self) -> str | None:
        return self.version.partition("+")[2] or None

    @property
    def is_cpu(self) -> bool:
        return self.cuda is None


@pytest.fixture(scope="session")
def installed_torch() -> TorchBuild:
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("torch is not installed in the test environment: run `pip install -e '.[test]'`")
    text = (Path(spec.submodule_search_locations[0]) / "version.py").read_text()
    version = re.search(r"^__version__\s*=\s*'([^']+)'", text, re.M).group(1)
    cuda = re.search(r"^cuda\s*(?::[^=]*)?=\s*(None|'[^']*')", text, re.M).group(1)
    return TorchBuild(version, None if cuda == "None" else cuda.strip("'"))


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory) -> str:
    """A real, fresh venv without torch (and without pip, which is not needed to be inspected).
    Removed at the end of the session."""
    root = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    yield str(root / "bin" / "python")
    shutil.rmtree(root, ignore_errors=True)


def write_exe(directory: Path, name: str, body: str) -> Path:
    """Write an executable stand-in (a script on PATH that replays output or records argv)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(body).lstrip())
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def fake_runner():
    """A Runner that runs nothing and records every argv (see tests/fakes.py)."""
    from fakes import FakeRunner

    return FakeRunner()


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
