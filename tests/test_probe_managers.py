"""Package managers: version parsing, .condarc / pip.conf parsing and precedence, masked credentials.

conda, mamba and micromamba cannot be installed on this machine: stand-in executables on PATH record
their argv and print what the real tools print for `--version`. uv is the real one from the test venv.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from envcheck.probes.managers import (
    parse_condarc,
    parse_pip_conf,
    parse_tool_version,
    probe_managers,
    read_conda_config,
    read_pip_config,
)
from envcheck.runner import Runner

from conftest import write_exe


@pytest.mark.parametrize(
    "text, expected",
    [
        ("conda 24.1.2\n", "24.1.2"),
        ("mamba 1.5.8\nconda 24.1.2\n", "1.5.8"),
        ("2.0.5\n", "2.0.5"),
        ("uv 0.4.30 (61ed2a236 2024-11-04)\n", "0.4.30"),
        ("pip 24.0 from /x/site-packages/pip (python 3.11)\n", "24.0"),
        ("", None),
        ("no version here", None),
    ],
)
def test_parse_tool_version(text, expected):
    assert parse_tool_version(text) == expected


CONDARC = """\
# mirror setup
channels:
  - conda-forge
  - defaults   # trailing comment
channel_alias: https://mirrors.tuna.tsinghua.edu.cn/anaconda
default_channels:
  - https://mirrors.tuna.tsinghua.edu.cn/anaconda/pkgs/main
custom_channels:
  pytorch: https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud
show_channel_urls: true
"""


def test_parse_condarc():
    data = parse_condarc(CONDARC)
    assert data["channels"] == ["conda-forge", "defaults"]
    assert data["channel_alias"] == "https://mirrors.tuna.tsinghua.edu.cn/anaconda"
    assert data["custom_channels"] == {"pytorch": "https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud"}
    assert data["show_channel_urls"] is True
    assert parse_condarc("channels: [pytorch, nvidia]")["channels"] == ["pytorch", "nvidia"]
    assert parse_condarc("") == {}
    assert parse_condarc("- stray item\n  indented: orphan\n\x00garbage") == {}


def test_conda_config_precedence(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".condarc").write_text(CONDARC)
    prefix = tmp_path / "env"
    prefix.mkdir()
    (prefix / ".condarc").write_text("channels:\n  - pytorch\n")
    channels, settings, files = read_conda_config({"HOME": str(home), "CONDA_PREFIX": str(prefix)})
    # the env's .condarc is read later, so it has higher priority: its channels come first
    assert channels == ("pytorch", "conda-forge", "defaults")
    assert files == (str(home / ".condarc"), str(prefix / ".condarc"))
    assert {s.key for s in settings} == {"channel_alias", "default_channels", "custom_channels"}
    channels, _, _ = read_conda_config({"HOME": str(home), "CONDARC": str(tmp_path / "missing"), "CONDA_CHANNELS": "nvidia"})
    assert channels[0] == "nvidia"


def test_parse_pip_conf_install_section_wins():
    text = "[global]\nindex-url = https://a/simple\ntimeout = 60\n[install]\nindex-url = https://b/simple\ntrusted-host = b\n"
    assert parse_pip_conf(text) == {"index-url": "https://b/simple", "trusted-host": "b"}
    assert parse_pip_conf("not an ini file") == {}
    assert parse_pip_conf("") == {}


def test_pip_config_precedence_and_env(tmp_path):
    home = tmp_path / "home"
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text("[global]\nindex-url = https://user:s3cret@user.example/simple\n")
    prefix = tmp_path / "venv"
    prefix.mkdir()
    (prefix / "pip.conf").write_text("[global]\nextra-index-url = https://download.pytorch.org/whl/cu121\n")
    env = {"HOME": str(home), "XDG_CONFIG_DIRS": str(tmp_path / "nowhere")}
    settings, files = read_pip_config(env, str(prefix))
    got = {s.key: (s.value, s.source) for s in settings}
    assert got["index-url"] == ("https://user:****@user.example/simple", str(home / ".config" / "pip" / "pip.conf"))
    assert got["extra-index-url"] == ("https://download.pytorch.org/whl/cu121", str(prefix / "pip.conf"))
    settings, _ = read_pip_config(dict(env, PIP_INDEX_URL="https://mirror.example/simple"), str(prefix))
    assert {s.key: s.source for s in settings}["index-url"] == "PIP_INDEX_URL"
    # PIP_CONFIG_FILE that exists: pip skips the user file
    cfg = tmp_path / "only.conf"
    cfg.write_text("[global]\nfind-links = /wheels\n")
    settings, files = read_pip_config(dict(env, PIP_CONFIG_FILE=str(cfg)), None)
    assert "find-links" in {s.key for s in settings} and files[-1] == str(cfg)
    assert str(home / ".config" / "pip" / "pip.conf") not in files


def test_config_values_are_masked_with_the_one_redact_function(tmp_path):
    """condarc channels/settings, pip.conf and PIP_*/UV_* values all go through envcheck.redact."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".condarc").write_text("channels:\n  - https://conda.anaconda.org/t/tk-123/private\n"
                                   "channel_alias: https://u:pw@mirror.example/conda\n")
    channels, settings, _ = read_conda_config({"HOME": str(home)})
    assert channels == ("https://conda.anaconda.org/t/****/private",)
    assert {s.key: s.value for s in settings}["channel_alias"] == "https://u:****@mirror.example/conda"
    (home / "pip.conf").write_text("[global]\nindex-url = https://idx.example/simple?token=abc\n")
    env = {"HOME": str(home), "PIP_CONFIG_FILE": str(home / "pip.conf"),
           "PIP_EXTRA_INDEX_URL": "https://me:secret@extra.example/simple"}
    pip, _ = read_pip_config(env, None)
    values = {s.key: s.value for s in pip}
    assert values == {"index-url": "https://idx.example/simple?token=****",
                      "extra-index-url": "https://me:****@extra.example/simple"}


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge", "directory"])
def test_config_reads_are_bounded_and_refuse_non_regular_files(tmp_path, kind):
    """CONDARC / PIP_CONFIG_FILE at a FIFO must not hang; at /dev/zero must not grow memory; >1 MiB and
    directories are skipped with a note (issue 14)."""
    home = tmp_path / "home"
    home.mkdir()
    target = tmp_path / "cfg"
    if kind == "fifo":
        os.mkfifo(target)  # no writer: a blocking open() would wait forever
    elif kind == "dev-zero":
        target = "/dev/zero"
    elif kind == "huge":
        target.write_text("channels:\n" + "  - x\n" * (1 << 18))  # 1.5 MiB
    else:
        target.mkdir()
    env = {"HOME": str(home), "CONDARC": str(target), "PIP_CONFIG_FILE": str(target), "PATH": ""}
    facts = probe_managers(Runner(), env, names=())
    assert facts.conda_channels == () and facts.pip_settings == ()
    assert str(target) not in facts.condarc_files + facts.pip_config_files
    assert len(facts.notes) == 2 and all(str(target) in n for n in facts.notes)
    assert facts.to_dict()["notes"] == list(facts.notes)


def test_probe_managers_stand_ins_and_real_uv(fake_bin, tmp_path):
    """conda/mamba/micromamba are stand-ins that record argv; uv is the real binary of the test venv."""
    log = tmp_path / "argv.log"
    for name, out in (("conda", "conda 24.1.2"), ("mamba", "mamba 1.5.8\nconda 24.1.2"), ("micromamba", "2.0.5")):
        write_exe(fake_bin, name, f'#!/bin/sh\necho "{name} $*" >> {log}\nprintf "{out}\\n"\n')
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        pytest.fail("uv is part of the test extra: pip install -e '.[test]'")
    os.symlink(uv, fake_bin / "uv")
    facts = probe_managers(Runner(), {"PATH": str(fake_bin), "HOME": str(tmp_path)}, timeout=20)
    tools = {m.name: m for m in facts.managers}
    assert tools["conda"].version == "24.1.2" and tools["mamba"].version == "1.5.8"
    assert tools["micromamba"].version == "2.0.5"
    assert tools["uv"].version and tools["uv"].version[0].isdigit()
    assert tools["pip"].path is None and tools["pip"].reason == "not found on PATH"
    assert sorted(log.read_text().split("\n")[:-1]) == ["conda --version", "mamba --version", "micromamba --version"]


def test_probe_managers_hanging_tool_times_out(fake_bin, tmp_path):
    write_exe(fake_bin, "conda", "#!/bin/sh\nsleep 30\n")
    facts = probe_managers(Runner(), {"PATH": str(fake_bin), "HOME": str(tmp_path)}, timeout=0.5, names=("conda",))
    assert facts.managers[0].version is None and "timed out" in facts.managers[0].reason


def test_conda_exe_without_path(tmp_path):
    exe = write_exe(tmp_path / "miniconda" / "bin", "conda", "#!/bin/sh\necho conda 23.7.4\n")
    facts = probe_managers(Runner(), {"PATH": str(tmp_path / "none"), "CONDA_EXE": str(exe), "HOME": str(tmp_path)},
                           names=("conda",))
    assert facts.managers[0].source == "CONDA_EXE" and facts.managers[0].version == "23.7.4"
