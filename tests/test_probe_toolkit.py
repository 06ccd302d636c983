"""CUDA toolkit probe: nvcc --version parsing on the real capture; a stand-in nvcc on PATH that replays
it (there is no real toolkit requirement on this machine)."""
from __future__ import annotations

import pytest

from envcheck.probes.toolkit import parse_nvcc_version, probe_toolkit
from envcheck.runner import Runner

from conftest import FIXTURES, write_exe

NVCC = (FIXTURES / "h100-driver580" / "nvcc-version.txt").read_text()


@pytest.mark.parametrize("text, expected", [(NVCC, ("13.0", "13.0.88")),
                                            ("Cuda compilation tools, release 11.8, V11.8.89", ("11.8", "11.8.89")),
                                            ("", (None, None)), ("garbage \x00", (None, None))])
def test_parse_nvcc_version(text, expected):
    assert parse_nvcc_version(text) == expected


def test_probe_toolkit_stand_in_nvcc(fake_bin, tmp_path):
    (tmp_path / "nvcc.txt").write_text(NVCC)
    write_exe(fake_bin, "nvcc", f"#!/bin/sh\ncat {tmp_path / 'nvcc.txt'}\n")
    facts = probe_toolkit(Runner(), {"PATH": str(fake_bin), "CUDA_HOME": "/opt/cuda-x"})
    assert facts.nvcc_path == str(fake_bin / "nvcc") and facts.version == "13.0" and facts.full_version == "13.0.88"
    assert facts.cuda_home == "/opt/cuda-x" and facts.cuda_home_source == "CUDA_HOME"


def test_probe_toolkit_nvcc_under_cuda_home(tmp_path):
    write_exe(tmp_path / "cuda" / "bin", "nvcc", "#!/bin/sh\necho 'Cuda compilation tools, release 12.4, V12.4.131'\n")
    facts = probe_toolkit(Runner(), {"PATH": str(tmp_path / "empty"), "CUDA_HOME": str(tmp_path / "cuda")})
    assert facts.version == "12.4" and facts.nvcc_source == "CUDA_HOME"


def test_probe_toolkit_failing_and_missing(fake_bin):
    write_exe(fake_bin, "nvcc", "#!/bin/sh\necho boom >&2\nexit 3\n")
    facts = probe_toolkit(Runner(), {"PATH": str(fake_bin), "CUDA_HOME": "/nonexistent"})
    assert facts.version is None and "exited with status 3" in facts.reason
    facts = probe_toolkit(Runner(), {"PATH": str(fake_bin / "none"), "CUDA_HOME": "/nonexistent"})
    assert facts.nvcc_path is None and "nvcc not found" in facts.reason
