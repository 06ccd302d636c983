"""System probe: pure parsers (os-release from the H100 capture, cpuinfo, WSL, container hints) and
the probe against a fake root tree."""
from __future__ import annotations

import pytest

from envcheck.probes.system import parse_container_hints, parse_cpu_model, parse_os_release, parse_wsl, probe_system

from conftest import FIXTURES


def test_os_release_real_capture():
    rel = parse_os_release((FIXTURES / "h100-driver580" / "os-release.txt").read_text())
    assert rel["PRETTY_NAME"] == "Ubuntu 24.04.3 LTS"
    assert rel["VERSION_ID"] == "24.04"


@pytest.mark.parametrize("text", ["", "garbage\n\x00", "# comment only"])
def test_os_release_garbage(text):
    assert parse_os_release(text) == {}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("processor\t: 0\nmodel name\t: AMD EPYC 9654 96-Core Processor\n", "AMD EPYC 9654 96-Core Processor"),
        ("processor : 0\nBogoMIPS : 50.00\nModel : Raspberry Pi 4 Model B Rev 1.4\n", "Raspberry Pi 4 Model B Rev 1.4"),
        ("", None),
        ("no colon here", None),
    ],
)
def test_cpu_model(text, expected):
    assert parse_cpu_model(text) == expected


@pytest.mark.parametrize(
    "release, proc_version, expected",
    [
        ("5.15.153.1-microsoft-standard-WSL2", "", "WSL2"),
        ("4.4.0-19041-Microsoft", "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com)", "WSL1"),
        ("6.8.0-45-generic", "Linux version 6.8.0-45-generic (buildd@lcy02)", None),
        ("", "", None),
    ],
)
def test_wsl(release, proc_version, expected):
    assert parse_wsl(release, proc_version) == expected


@pytest.mark.parametrize(
    "cgroup, dockerenv, containerenv, env, kind",
    [
        ("0::/\n", False, False, {}, None),
        ("0::/\n", True, False, {}, "docker"),
        ("0::/\n", False, True, {}, "podman"),
        ("12:pids:/kubepods/burstable/pod1/abc\n", False, False, {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "kubernetes"),
        ("1:name=systemd:/docker/abcdef\n", False, False, {}, "docker"),
        (None, False, False, {"APPTAINER_CONTAINER": "/img.sif"}, "apptainer"),
    ],
)
def test_container_hints(cgroup, dockerenv, containerenv, env, kind):
    got, hints = parse_container_hints(cgroup, dockerenv, containerenv, env)
    assert got == kind
    assert bool(hints) == (kind is not None)


def test_probe_system_fake_root(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_text((FIXTURES / "h100-driver580" / "os-release.txt").read_text())
    (tmp_path / "proc" / "1").mkdir(parents=True)
    (tmp_path / "proc" / "cpuinfo").write_text("model name\t: Test CPU 9000\n")
    (tmp_path / "proc" / "1" / "cgroup").write_text("0::/\n")
    (tmp_path / ".dockerenv").write_text("")
    facts = probe_system({"HOME": str(tmp_path)}, root=str(tmp_path))
    assert facts.os.value == "Ubuntu 24.04.3 LTS" and facts.os.source == "/etc/os-release"
    assert facts.cpu_model.value == "Test CPU 9000"
    assert facts.container.value == "docker"
    assert facts.ram_total_bytes.value and facts.ram_total_bytes.value > 0
    assert facts.disk_free_bytes.value is not None and facts.disk_path == str(tmp_path)
    # no dev/shm under the fake root: a reason, not an exception
    assert facts.dev_shm_bytes.value is None and "/dev/shm" in facts.dev_shm_bytes.reason
    d = facts.to_dict()
    assert d["os"] == {"value": "Ubuntu 24.04.3 LTS", "source": "/etc/os-release", "reason": None}


def test_probe_system_real_machine():
    facts = probe_system()
    assert facts.arch.value and facts.kernel.value and facts.cpu_cores_logical.value >= 1
