"""NVIDIA probe: pure parsers on the real H100 captures (tests/fixtures/h100-driver580), NVML error
mapping, and the fallback chain NVML -> sysfs -> procfs -> nvidia-smi -> overrides.

The fake runner below replays the recorded nvidia-smi output; the stand-in `pynvml` modules raise the
same NVMLError subclasses the real nvidia-ml-py raises (they are taken from the real module).
"""
from __future__ import annotations

import subprocess
import sys
import types

import pynvml
import pytest

from envcheck.facts import GpuInfo, Source
from envcheck.probes import nvidia
from envcheck.probes.nvidia import (
    cuda_from_int,
    decode,
    is_mismatch_text,
    parse_proc_driver_version,
    parse_smi_csv,
    parse_smi_cuda_version,
    parse_smi_driver_version,
    parse_sys_module_version,
    probe_nvidia,
)
from envcheck.runner import Completed

from conftest import FIXTURES

H100 = FIXTURES / "h100-driver580"
CAPTURE_FIELDS = ("index,name,uuid,driver_version,memory.total,memory.used,compute_cap,pci.bus_id,"
                  "pcie.link.gen.current,pcie.link.width.current")
H100_GPU = GpuInfo(0, "NVIDIA H100 80GB HBM3", "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6", 81559, "9.0",
                   "00000000:00:06.0")
GARBAGE = "\x00\xff<html>502 Bad Gateway</html>\n,,,,,,\nfoo, bar, baz, qux, 1, 2, 3\n-1, x, y, z, 1, 9.0, p"


def fixture(name: str) -> str:
    return (H100 / name).read_text()


def our_query_line() -> str:
    """The capture in the 7-field order envcheck queries (columns picked from the 10-field capture)."""
    parts = [p.strip() for p in fixture("nvidia-smi-query.txt").strip().split(",")]
    return ", ".join(parts[i] for i in (0, 1, 2, 3, 4, 6, 7)) + "\n"


# ----------------------------------------------------------------------------------- parsers


def test_parse_smi_csv_real_capture_with_its_fields():
    gpus, driver = parse_smi_csv(fixture("nvidia-smi-query.txt"), CAPTURE_FIELDS)
    assert gpus == (H100_GPU,)
    assert driver == "580.159.04"


def test_parse_smi_csv_default_fields():
    gpus, driver = parse_smi_csv(our_query_line())
    assert gpus == (H100_GPU,) and driver == "580.159.04"


def test_parse_smi_csv_two_gpus_and_not_available_fields():
    text = our_query_line() + "1, Tesla T4, [N/A], 580.159.04, 15360, [Not Supported], 00000000:00:07.0\n"
    gpus, _ = parse_smi_csv(text)
    assert [g.index for g in gpus] == [0, 1]
    assert gpus[1].uuid is None and gpus[1].compute_capability is None and gpus[1].memory_total_mib == 15360


@pytest.mark.parametrize("text", ["", "   \n", GARBAGE, fixture("nvidia-smi.txt"), fixture("nvidia-smi-query-header.txt"),
                                  "Failed to initialize NVML: Driver/library version mismatch\n"])
def test_parse_smi_csv_rejects_non_csv(text):
    assert parse_smi_csv(text) == ((), None)


def test_parse_smi_csv_column_count_must_match():
    # the 10-field capture read as the 7-field query: nothing, rather than shifted columns
    assert parse_smi_csv(fixture("nvidia-smi-query.txt")) == ((), None)


@pytest.mark.parametrize(
    "parser, name, expected",
    [
        (parse_proc_driver_version, "proc-driver-version.txt", "580.159.04"),
        (parse_sys_module_version, "sys-module-version.txt", "580.159.04"),
        (parse_smi_cuda_version, "nvidia-smi-version.txt", "13.0"),
        (parse_smi_cuda_version, "nvidia-smi.txt", "13.0"),
        (parse_smi_cuda_version, "nvidia-smi-q.txt", "13.0"),
        (parse_smi_driver_version, "nvidia-smi.txt", "580.159.04"),
        (parse_smi_driver_version, "nvidia-smi-version.txt", "580.159.04"),
    ],
)
def test_text_parsers_on_real_captures(parser, name, expected):
    assert parser(fixture(name)) == expected


@pytest.mark.parametrize("parser", [parse_proc_driver_version, parse_sys_module_version, parse_smi_cuda_version,
                                    parse_smi_driver_version])
@pytest.mark.parametrize("text", ["", GARBAGE, "NVRM version: garbage", None])
def test_text_parsers_on_garbage(parser, text):
    assert parser(text) is None


def test_proc_version_proprietary_module_line():
    text = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  470.57.02  Tue Jul 13 16:14:05 UTC 2021\n"
    assert parse_proc_driver_version(text) == "470.57.02"


@pytest.mark.parametrize("value, expected", [(13000, "13.0"), (12040, "12.4"), (11080, "11.8"), (0, None), (None, None), ("x", None)])
def test_cuda_from_int(value, expected):
    assert cuda_from_int(value) == expected


@pytest.mark.parametrize("value, expected", [(b"580.159.04", "580.159.04"), ("NVIDIA H100", "NVIDIA H100"), (b"", None), (None, None)])
def test_decode_bytes_or_str(value, expected):
    assert decode(value) == expected


def test_mismatch_text():
    assert is_mismatch_text("Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 535.183")
    assert not is_mismatch_text(fixture("nvidia-smi.txt"))


# ------------------------------------------------------------------------------------- NVML


def fake_pynvml(fail_with: str | None = None, as_bytes: bool = False):
    """A stand-in module replaying the H100 capture (probe.json) through the NVML calls envcheck makes."""
    enc = (lambda s: s.encode()) if as_bytes else (lambda s: s)
    mod = types.SimpleNamespace()
    for name in dir(pynvml):
        if name.startswith("NVML_ERROR") or name.startswith("NVMLError"):
            setattr(mod, name, getattr(pynvml, name))

    def init():
        if fail_with:
            raise pynvml.NVMLError(getattr(pynvml, fail_with))

    mod.nvmlInit = init
    mod.nvmlShutdown = lambda: None
    mod.nvmlSystemGetDriverVersion = lambda: enc("580.159.04")
    mod.nvmlSystemGetCudaDriverVersion_v2 = lambda: 13000
    mod.nvmlDeviceGetCount = lambda: 1
    mod.nvmlDeviceGetHandleByIndex = lambda i: object()
    mod.nvmlDeviceGetName = lambda h: enc("NVIDIA H100 80GB HBM3")
    mod.nvmlDeviceGetUUID = lambda h: enc("GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6")
    mod.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=85520809984)
    mod.nvmlDeviceGetCudaComputeCapability = lambda h: (9, 0)
    mod.nvmlDeviceGetPciInfo = lambda h: types.SimpleNamespace(busId=enc("00000000:00:06.0"))
    return mod


class FakeRunner:
    """Replays recorded outputs by argv; records every argv it was asked to run."""

    def __init__(self, outputs: dict | None = None):
        self.outputs = outputs or {}
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv, **kwargs):
        argv = tuple(argv)
        self.calls.append(argv)
        key = argv[1] if len(argv) > 1 else ""
        key = "--query-gpu" if key.startswith("--query-gpu") else key
        result = self.outputs.get(key)
        if result is None:
            return Completed(argv, None, error="not found")
        return Completed(argv, *result) if isinstance(result, tuple) else result


def smi_on_path(tmp_path):
    d = tmp_path / "bin"
    d.mkdir()
    exe = d / "nvidia-smi"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return {"PATH": str(d)}


def empty_roots(tmp_path):
    (tmp_path / "sys").mkdir(exist_ok=True)
    (tmp_path / "proc").mkdir(exist_ok=True)
    return {"sys_root": str(tmp_path / "sys"), "proc_root": str(tmp_path / "proc")}


@pytest.mark.parametrize("as_bytes", [False, True])
def test_probe_nvml_success(tmp_path, as_bytes):
    runner = FakeRunner()
    facts = probe_nvidia(runner, {"PATH": ""}, nvml_loader=lambda: fake_pynvml(as_bytes=as_bytes), **empty_roots(tmp_path))
    assert facts.driver_version == "580.159.04" and facts.cuda == "13.0"
    assert facts.source == Source.NVML and facts.gpus_source == Source.NVML
    assert facts.gpus == (GpuInfo(0, "NVIDIA H100 80GB HBM3", "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6", 81559, "9.0", "00000000:00:06.0"),)
    assert runner.calls == []  # NVML had everything: nvidia-smi is not started


@pytest.mark.parametrize(
    "error, words, mismatch",
    [
        ("NVML_ERROR_LIBRARY_NOT_FOUND", "not found", False),
        ("NVML_ERROR_DRIVER_NOT_LOADED", "not loaded", False),
        ("NVML_ERROR_LIB_RM_VERSION_MISMATCH", "reboot", True),
        ("NVML_ERROR_NO_PERMISSION", "permission", False),
        ("NVML_ERROR_UNKNOWN", "NVML error", False),
    ],
)
def test_nvml_errors_become_human_causes(tmp_path, error, words, mismatch):
    facts = probe_nvidia(FakeRunner(), {"PATH": ""}, nvml_loader=lambda: fake_pynvml(error), **empty_roots(tmp_path))
    assert facts.driver_version is None
    assert any(words in r for r in facts.reasons), facts.reasons
    assert facts.mismatch is mismatch


def test_real_nvml_on_this_machine_gives_a_reason(tmp_path):
    """The real nvidia-ml-py: this machine has no libnvidia-ml, so a reason, never an exception."""
    facts = probe_nvidia(FakeRunner(), {"PATH": ""}, **empty_roots(tmp_path))
    if facts.source == Source.NVML:
        pytest.skip("a real NVIDIA driver is present here")
    assert facts.reasons and "NVML" in facts.reasons[0]


def _no_library(name):
    raise OSError(f"{name}: cannot open shared object file: No such file or directory")


def test_missing_nvml_library_found_without_importing_pynvml(monkeypatch):
    """The pre-check gives the very reason the real nvidia-ml-py's NVMLError gives, without its import."""
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    real = nvidia.nvml_error_reason(pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND), pynvml)
    assert real == (nvidia.NVML_LIBRARY_NOT_FOUND, False)
    assert nvidia._nvml_library_missing("linux", _no_library) == nvidia.NVML_LIBRARY_NOT_FOUND
    assert nvidia._nvml_library_missing("darwin", _no_library) == nvidia.NVML_LIBRARY_NOT_FOUND
    assert "pynvml" not in sys.modules
    loaded = []
    assert nvidia._nvml_library_missing("linux", loaded.append) is None  # the library loads: pynvml as before
    assert loaded == [nvidia.NVML_LIBRARY]
    assert nvidia._nvml_library_missing("win32", _no_library) is None  # nvidia-ml-py looks in two places there


def test_missing_bindings_found_without_importing(monkeypatch):
    monkeypatch.delitem(sys.modules, "pynvml", raising=False)
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert nvidia._nvml_library_missing("linux", _no_library) == nvidia.nvml_error_reason(ImportError("pynvml"))[0]


def test_an_imported_pynvml_is_used_as_before(monkeypatch):
    """A pynvml already in sys.modules (nothing left to save) always goes the old way."""
    monkeypatch.setitem(sys.modules, "pynvml", pynvml)
    assert nvidia._nvml_library_missing("linux", _no_library) is None


def test_no_driver_doctor_never_imports_pynvml(tmp_path):
    """Where libnvidia-ml.so.1 does not load, the NVIDIA probe answers without importing pynvml (a real
    fresh interpreter; skipped where a driver is installed)."""
    code = ("import sys; from envcheck.probes.nvidia import probe_nvml; r = probe_nvml(); "
            "print(r[3]); print('pynvml' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    reason, imported = out.strip().splitlines()
    if reason != nvidia.NVML_LIBRARY_NOT_FOUND:
        pytest.skip(f"libnvidia-ml.so.1 loads here ({reason})")
    assert imported == "False"


def test_sysfs_then_procfs_then_smi(tmp_path):
    roots = empty_roots(tmp_path)
    (tmp_path / "proc" / "driver" / "nvidia").mkdir(parents=True)
    (tmp_path / "proc" / "driver" / "nvidia" / "version").write_text(fixture("proc-driver-version.txt"))
    runner = FakeRunner({"--query-gpu": (0, our_query_line()), "--version": (0, fixture("nvidia-smi-version.txt"))})
    env = dict(smi_on_path(tmp_path), ENVCHECK_DISABLE_NVML="1")
    facts = probe_nvidia(runner, env, **roots)
    assert facts.source == Source.PROCFS and facts.driver_version == "580.159.04"
    assert facts.cuda == "13.0" and facts.cuda_source == Source.NVIDIA_SMI
    assert facts.gpus == (H100_GPU,) and facts.gpus_source == Source.NVIDIA_SMI

    (tmp_path / "sys" / "module" / "nvidia").mkdir(parents=True)
    (tmp_path / "sys" / "module" / "nvidia" / "version").write_text(fixture("sys-module-version.txt"))
    assert probe_nvidia(runner, env, **roots).source == Source.SYSFS


def test_smi_without_cuda_line_falls_back_to_banner(tmp_path):
    runner = FakeRunner({"--query-gpu": (0, our_query_line()), "--version": (0, "NVIDIA-SMI version  : 470.57\n"),
                         "": (0, fixture("nvidia-smi.txt"))})
    facts = probe_nvidia(runner, dict(smi_on_path(tmp_path), ENVCHECK_DISABLE_NVML="1"), **empty_roots(tmp_path))
    assert facts.cuda == "13.0" and facts.source == Source.NVIDIA_SMI


@pytest.mark.parametrize(
    "completed, reason_part, mismatch",
    [
        (Completed(("nvidia-smi",), None, timed_out=True, duration_s=2.0), "timed out", False),
        (Completed(("nvidia-smi",), 9, "", "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."),
         "exited with status 9", False),
        (Completed(("nvidia-smi",), 18, "Failed to initialize NVML: Driver/library version mismatch\n", ""), "mismatch", True),
        (Completed(("nvidia-smi",), 0, GARBAGE, ""), "could not parse", False),
    ],
)
def test_smi_faults_become_reasons(tmp_path, completed, reason_part, mismatch):
    runner = FakeRunner({"--query-gpu": completed})
    facts = probe_nvidia(runner, dict(smi_on_path(tmp_path), ENVCHECK_DISABLE_NVML="1"), **empty_roots(tmp_path))
    assert facts.driver_version is None and facts.gpus == ()
    assert any(reason_part in r for r in facts.reasons), facts.reasons
    assert facts.mismatch is mismatch
    # a broken nvidia-smi is asked once, not three times (a hang must not cost 3 timeouts)
    assert len(runner.calls) == 1


def test_no_smi_anywhere(tmp_path, monkeypatch):
    monkeypatch.setattr(nvidia, "WSL_NVIDIA_SMI", str(tmp_path / "absent"))
    facts = probe_nvidia(FakeRunner(), {"PATH": str(tmp_path), "ENVCHECK_DISABLE_NVML": "1"}, **empty_roots(tmp_path))
    assert "nvidia-smi not found on PATH" in facts.reasons
    assert not facts.has_driver


def test_wsl_nvidia_smi_location_is_tried(tmp_path, monkeypatch):
    wsl = tmp_path / "wsl" / "nvidia-smi"
    wsl.parent.mkdir()
    wsl.write_text("#!/bin/sh\n")
    wsl.chmod(0o755)
    monkeypatch.setattr(nvidia, "WSL_NVIDIA_SMI", str(wsl))
    runner = FakeRunner({"--query-gpu": (0, our_query_line()), "--version": (0, fixture("nvidia-smi-version.txt"))})
    facts = probe_nvidia(runner, {"PATH": "", "ENVCHECK_DISABLE_NVML": "1"}, **empty_roots(tmp_path))
    assert runner.calls[0][0] == str(wsl)
    assert facts.driver_version == "580.159.04"


def test_overrides(tmp_path):
    env = {"PATH": "", "ENVCHECK_DISABLE_NVML": "1", "ENVCHECK_OVERRIDE_DRIVER": "535.104.05",
           "ENVCHECK_OVERRIDE_CUDA": "12.2"}
    facts = probe_nvidia(FakeRunner(), env, **empty_roots(tmp_path))
    assert (facts.driver_version, facts.cuda) == ("535.104.05", "12.2")
    assert facts.source == Source.OVERRIDE and facts.cuda_source == Source.OVERRIDE
    assert facts.overrides == ("ENVCHECK_OVERRIDE_DRIVER", "ENVCHECK_OVERRIDE_CUDA")
    assert facts.driver_dict()["source"] == "override"


def test_pci_nvidia_detection(tmp_path):
    roots = empty_roots(tmp_path)
    for addr, vendor, klass in (("0000:00:06.0", "0x10de", "0x030200"), ("0000:00:07.0", "0x10de", "0x040300"),
                                ("0000:00:01.0", "0x8086", "0x030000")):
        d = tmp_path / "sys" / "bus" / "pci" / "devices" / addr
        d.mkdir(parents=True)
        (d / "vendor").write_text(vendor + "\n")
        (d / "class").write_text(klass + "\n")
    facts = probe_nvidia(FakeRunner(), {"PATH": "", "ENVCHECK_DISABLE_NVML": "1"}, **roots)
    assert facts.pci_devices == ("0000:00:06.0",)  # the NVIDIA audio function and the Intel GPU do not count


@pytest.mark.parametrize("raw, expected", [("", 8.0), ("0.5", 0.5), ("abc", 8.0), ("-1", 8.0),
                                          ("nan", 8.0), ("inf", 86400.0), ("1e400", 86400.0), ("99999999999", 86400.0)])
def test_tool_timeout_env(raw, expected):
    assert nvidia.tool_timeout({"ENVCHECK_TOOL_TIMEOUT": raw}) == expected
