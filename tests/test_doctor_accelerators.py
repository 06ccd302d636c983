"""Issue 10: AMD, Intel and Apple accelerators in doctor (probes, findings, JSON, human report).

AMD tool outputs are the public captures in tests/fixtures/amd-rocm (README cites each URL); sysfs
trees, the ROCm version file and torch stand-ins are SYNTHETIC and built here, named so.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import FIXTURES, write_exe
from doctor_standins import hermetic_env, install_nvidia_smi, unset_all
from envcheck.cli import app
from envcheck.diagnose import DoctorFacts, diagnose
from envcheck.facts import Accelerator, NvidiaFacts
from envcheck.probes import accelerators, amd, apple, intel
from envcheck.runner import Completed, Runner

AMD = FIXTURES / "amd-rocm"


def fake_torch(site: Path, version: str, cuda: str | None, hip: str | None) -> Path:
    """SYNTHETIC torch dist: version.py only (doctor reads it without importing torch)."""
    (site / "torch").mkdir(parents=True, exist_ok=True)
    (site / "torch" / "__init__.py").write_text("raise ImportError('stand-in torch')\n")
    (site / "torch" / "version.py").write_text(f"__version__ = {version!r}\ncuda = {cuda!r}\nhip = {hip!r}\n")
    meta = site / f"torch-{version}.dist-info"
    meta.mkdir(exist_ok=True)
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n\n")
    return site


def tool(bin_dir: Path, name: str, mode: str, fixture: Path | None = None, log: Path | None = None) -> Path:
    """A stand-in tool: ok (cat the capture) | hang | garbage | fail. Records argv in `log`."""
    cat, sleep = shutil.which("cat"), shutil.which("sleep")
    body = f"""#!/bin/sh
{f'echo "$*" >> {log}' if log else ''}
case "{mode}" in
  hang) exec {sleep} 30 ;;
  garbage) printf '\\000\\377<html>502</html>\\n{{"card0": 7'; exit 0 ;;
  fail) echo "ERROR:root:Driver not initialized (amdgpu not found in modules)" >&2; exit 2 ;;
esac
exec {cat} {fixture}
"""
    return write_exe(bin_dir, name, body)


def rocm_root(tmp_path: Path, version: str = "6.2.4-120") -> Path:
    r = tmp_path / "rocm"
    (r / ".info").mkdir(parents=True, exist_ok=True)
    (r / ".info" / "version").write_text(version + "\n")  # SYNTHETIC content, the documented file
    return r


def kfd_node(sys_root: Path, node: int, props: str, mem_bytes: int | None = None) -> None:
    """SYNTHETIC KFD topology node."""
    d = sys_root / "class" / "kfd" / "kfd" / "topology" / "nodes" / str(node)
    d.mkdir(parents=True, exist_ok=True)
    (d / "properties").write_text(props)
    if mem_bytes is not None:
        (d / "mem_banks" / "0").mkdir(parents=True, exist_ok=True)
        (d / "mem_banks" / "0" / "properties").write_text(f"size_in_bytes {mem_bytes}\n")


def invoke(env, *args):
    return CliRunner().invoke(app, ["doctor", *args], env=env)


def amd_doctor(clean_env, tmp_path, fake_bin, python, torch=None, capture="rocm-smi-rx7900xt.json", **extra):
    tool(fake_bin, "rocm-smi", "ok", AMD / capture, tmp_path / "rocm-smi.log")
    more = dict(ROCM_PATH=str(rocm_root(tmp_path)), **extra)
    if torch:
        more["PYTHONPATH"] = str(fake_torch(tmp_path / "site", *torch))
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin, **more))
    result = invoke(env, "--json", "--python", python)
    return result, json.loads(result.stdout)["data"], env


# ------------------------------------------------------------------------------- AMD parsers


@pytest.mark.parametrize("value,gfx", [(90402, "gfx942"), (90010, "gfx90a"), (110000, "gfx1100"), (90006, "gfx906"),
                                       (100300, "gfx1030"), (90500, "gfx950"), (0, None), ("x", None), (91600, None)])
def test_gfx_from_target_version(value, gfx):
    assert amd.gfx_from_target_version(value) == gfx


def test_kfd_lines_from_real_captures():
    line = amd.parse_kfd_properties((AMD / "kfd-gfx-target-line-mi300x.txt").read_text())
    assert amd.gfx_from_target_version(line["gfx_target_version"]) == "gfx942"  # amd-smi says gfx942 there
    props = amd.parse_kfd_properties((AMD / "kfd-node-mi350x-properties.txt").read_text())
    assert props["simd_count"] == 1024 and props["device_id"] == 30112 and "gfx_target_version" not in props
    mem = amd.parse_kfd_properties((AMD / "kfd-node-mi350x-mem_banks-0-properties.txt").read_text())
    assert mem["size_in_bytes"] == 309220868096


def test_rocm_smi_json_real_captures():
    assert amd.parse_rocm_smi_json((AMD / "rocm-smi-rx7900xt.json").read_text()) == [
        {"index": 0, "name": "Radeon RX 7900 XT", "gfx": "gfx1100", "memory_total_mib": 20464, "device_id": "0x744c"}]
    (mi,) = amd.parse_rocm_smi_json((AMD / "rocm-smi-mi250x-productname.json").read_text())
    assert mi["gfx"] == "gfx90a" and mi["memory_total_mib"] is None  # "gfx9010" is 9.0.10


def test_amd_smi_static_real_capture():
    assert amd.parse_amd_smi_static((AMD / "amd-smi-static-mi350x.txt").read_text()) == [
        {"index": 0, "name": "AMD Instinct MI350X", "gfx": "gfx950", "memory_total_mib": None, "bdf": "0000:05:00.0"}]


def test_amd_smi_static_json_shapes():
    """SYNTHETIC JSON in the two shapes amd-smi releases print (no public capture of `amd-smi static
    --json` was found; field names from ROCm/amdsmi's CLI): a list, and {"gpu_data": [...]}."""
    rows = [{"gpu": 1, "asic": {"market_name": "AMD Instinct MI300X", "target_graphics_version": "gfx942"},
             "bus": {"bdf": "0000:0c:00.0"}, "vram": {"size": {"value": 196592, "unit": "MB"}}},
            {"gpu": 0, "asic": {"market_name": "N/A", "target_graphics_version": "gfx90a"}, "vram": {"size": "64 GB"}}]
    want = [{"index": 0, "name": None, "gfx": "gfx90a", "memory_total_mib": 65536, "bdf": None},
            {"index": 1, "name": "AMD Instinct MI300X", "gfx": "gfx942", "memory_total_mib": 196592, "bdf": "0000:0c:00.0"}]
    assert amd.parse_amd_smi_static_json(json.dumps(rows)) == want
    assert amd.parse_amd_smi_static_json(json.dumps({"gpu_data": rows})) == want
    assert amd.parse_amd_smi_static_json((AMD / "amd-smi-static-mi350x.txt").read_text()) is None  # text form
    assert amd.parse_amd_smi_static_json('{"gpu_data": 5}') == []


def test_amd_smi_text_form_through_the_probe(tmp_path):
    """An amd-smi that prints its text form (the real MI350X capture) for the --json call."""
    bin_dir = tmp_path / "bin"
    tool(bin_dir, "amd-smi", "ok", AMD / "amd-smi-static-mi350x.txt", tmp_path / "amd-smi.log")
    tool(bin_dir, "rocm-smi", "fail")  # never reached: amd-smi answered
    facts_ = amd.probe_amd(Runner(), {"PATH": str(bin_dir), "ROCM_PATH": str(rocm_root(tmp_path, "7.0.2"))},
                           sys_root=str(tmp_path / "sys"))
    (a,) = facts_.accelerators
    assert (a.name, a.arch, a.source, a.runtime) == ("AMD Instinct MI350X", "gfx950", "amd-smi", "ROCm 7.0.2")
    assert (tmp_path / "amd-smi.log").read_text().split() == ["static", "--asic", "--bus", "--vram", "--json"]


@pytest.mark.parametrize("text", ["", "\x00\xff<html>", "[1, 2]", '{"card0": 7}', "GPU: x\n  ASIC:\n"])
def test_amd_parsers_on_garbage(text):
    assert amd.parse_rocm_smi_json(text) == [] and amd.parse_amd_smi_static(text) == []
    assert amd.parse_rocm_version(text) is None


# ------------------------------------------------------------------------------- AMD probe


def test_kfd_only_synthetic_tree(tmp_path):
    """No ROCm tools on PATH: the KFD tree alone gives the GPU (SYNTHETIC tree: a CPU node and a GPU node
    whose lines are the MI350X capture's plus gfx_target_version 90500)."""
    sys_root = tmp_path / "sys"
    kfd_node(sys_root, 0, "cpu_cores_count 32\nsimd_count 0\n")
    kfd_node(sys_root, 1, (AMD / "kfd-node-mi350x-properties.txt").read_text() + "gfx_target_version 90500\n",
             309220868096)
    facts = amd.probe_amd(Runner(), {"PATH": str(tmp_path / "none"), "ROCM_PATH": str(rocm_root(tmp_path))},
                          sys_root=str(sys_root))
    (a,) = facts.accelerators
    assert (a.arch, a.arch_source, a.memory_total_mib, a.source, a.runtime) == (
        "gfx950", "sysfs:kfd", 294896, "sysfs:kfd", "ROCm 6.2.4")
    assert facts.runtime_source.endswith(".info/version")


@pytest.mark.parametrize("mode,reason", [("hang", "timed out"), ("garbage", "could not parse"), ("fail", "")])
@pytest.mark.parametrize("name", ["amd-smi", "rocm-smi"])
def test_amd_tool_faults_become_reasons(tmp_path, name, mode, reason):
    bin_dir = tmp_path / "bin"
    tool(bin_dir, name, mode, AMD / "rocm-smi-rx7900xt.json")
    sys_root = tmp_path / "sys"
    kfd_node(sys_root, 1, "simd_count 240\ngfx_target_version 90006\n")  # SYNTHETIC node (Radeon VII values)
    facts = amd.probe_amd(Runner(), {"PATH": str(bin_dir), "ROCM_PATH": str(tmp_path / "no-rocm")},
                          sys_root=str(sys_root), timeout=0.5)
    assert facts.reasons and reason in " ".join(facts.reasons)
    (a,) = facts.accelerators  # the KFD node survives the tool's failure
    assert a.arch == "gfx906" and a.runtime is None
    assert any("ROCm not found" in r for r in facts.reasons)


def test_amd_pci_without_kfd(tmp_path):
    d = tmp_path / "sys" / "bus" / "pci" / "devices" / "0000:03:00.0"
    d.mkdir(parents=True)
    (d / "vendor").write_text("0x1002\n")
    (d / "class").write_text("0x030000\n")
    facts = amd.probe_amd(Runner(), {"PATH": ""}, sys_root=str(tmp_path / "sys"))
    assert not facts.accelerators and "amdgpu driver is not loaded" in facts.reasons[0]


def test_nothing_found_runs_nothing(tmp_path):
    class NoRun:
        def run(self, argv, **kw):
            raise AssertionError(f"ran {argv}")

    empty = {"PATH": str(tmp_path), "ROCM_PATH": str(tmp_path / "no")}
    (tmp_path / "sys").mkdir()
    for probe in (amd.probe_amd, intel.probe_intel):
        facts = probe(NoRun(), empty, sys_root=str(tmp_path / "sys"))
        assert facts.accelerators == () and facts.reasons == ()
    assert apple.probe_apple(NoRun(), empty, system="Linux").accelerators == ()


# ---------------------------------------------------------------------------------- doctor AMD


def test_amd_host_with_cuda_torch(clean_env, tmp_path, fake_bin, bare_python):
    result, data, env = amd_doctor(clean_env, tmp_path, fake_bin, bare_python, ("2.5.1+cu124", "12.4", None))
    (a,) = [x for x in data["accelerators"] if x["vendor"] == "amd"]
    assert a == {"vendor": "amd", "index": 0, "name": "Radeon RX 7900 XT", "arch": "gfx1100", "memory_total_mib": 20464,
                 "driver": None, "runtime": "ROCm 6.2.4", "source": "rocm-smi", "arch_source": "rocm-smi",
                 "kind": "gpu", "notes": []}
    assert data["gpus"] == [] and data["accelerator_probes"]["amd"]["runtime"] == "ROCm 6.2.4"
    codes = {f["code"]: f for f in data["findings"]}
    f = codes["torch-not-rocm-on-amd-host"]
    assert f["severity"] == "error" and "CUDA 12.4 build" in f["message"] and "gfx1100" in f["message"]
    # the fix names what `envcheck install` picks for this machine (covering_install, shared with NVIDIA)
    assert "envcheck install --python" in f["fix"] and "picks torch" in f["fix"] and "with rocm" in f["fix"]
    assert "amd" in codes["no-nvidia-driver"]["message"] and "CPU" not in codes["no-nvidia-driver"]["message"]
    assert result.exit_code == 1
    assert (tmp_path / "rocm-smi.log").read_text().split() == ["--showproductname", "--showmeminfo", "vram", "--json"]
    human = invoke(env, "--python", bare_python).stdout
    assert "AMD (ROCm)" in human and "Radeon RX 7900 XT · gfx1100 · 20 GiB" in human


def test_amd_host_with_covering_rocm_torch_is_ready(clean_env, tmp_path, fake_bin, bare_python):
    result, data, _ = amd_doctor(clean_env, tmp_path, fake_bin, bare_python, ("2.11.0+rocm7.2", None, "7.2.26015"))
    codes = [f["code"] for f in data["findings"]]
    assert "torch-not-rocm-on-amd-host" not in codes and "rocm-arch-not-in-torch-build" not in codes
    assert data["verdict"].startswith("ready: torch 2.11.0+rocm7.2 (ROCm 7.2.26015 on 1 AMD GPU(s)")


def test_rocm_torch_missing_the_gpu_target_is_predicted(clean_env, tmp_path, fake_bin, bare_python):
    """SYNTHETIC KFD node with a Radeon VII's gfx_target_version (90006, per ROCm/rocm-systems#922) and a
    +rocm7.14 torch, whose official wheels dropped gfx906 (configs/rocm_arches.json)."""
    kfd_node(tmp_path / "sysfs", 1, "simd_count 240\ngfx_target_version 90006\n")
    site = fake_torch(tmp_path / "site", "2.14.0+rocm7.14", None, "7.14.0")
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin, PYTHONPATH=str(site),
                                 ROCM_PATH=str(rocm_root(tmp_path, "7.14.0"))))
    data = json.loads(invoke(env, "--json", "--python", bare_python).stdout)["data"]
    (f,) = [f for f in data["findings"] if f["code"] == "rocm-arch-not-in-torch-build"]
    assert "gfx906" in f["message"] and "predicted" in f["message"].lower() and "rocm7.14" in f["message"]


def test_amd_env_lint(clean_env, tmp_path, fake_bin, bare_python):
    _, data, _ = amd_doctor(clean_env, tmp_path, fake_bin, bare_python, ("2.11.0+rocm7.2", None, "7.2.1"),
                            HIP_VISIBLE_DEVICES="3", HSA_OVERRIDE_GFX_VERSION="10.3.0")
    codes = {f["code"]: f for f in data["findings"]}
    assert codes["hip-visible-devices-out-of-range"]["severity"] == "error"
    hsa = codes["hsa-override-gfx-version-set"]
    assert hsa["severity"] == "warning" and "gfx1030" in hsa["message"] and "gfx1100" in hsa["message"]


# ------------------------------------------------------------------------------ pure diagnose


def facts(**kw) -> DoctorFacts:
    base = dict(nvidia=NvidiaFacts(), torch_installed=True, torch_version="2.11.0+rocm7.2", torch_hip="7.2.1",
                accelerators=(Accelerator("amd", 0, "AMD Instinct MI250X", "gfx90a"),
                              Accelerator("amd", 1, "AMD Instinct MI250X", "gfx90a")))
    base.update(kw)
    return DoctorFacts(**base)


def codes(f: DoctorFacts) -> dict:
    return {x.code: x for x in diagnose(f)}


@pytest.mark.parametrize("name,value,code,sev", [
    ("HIP_VISIBLE_DEVICES", "", "hip-visible-devices-hides-all", "warning"),
    ("ROCR_VISIBLE_DEVICES", "-1", "rocr-visible-devices-hides-all", "warning"),
    ("ROCR_VISIBLE_DEVICES", "1,2", "rocr-visible-devices-out-of-range", "warning"),
    ("HIP_VISIBLE_DEVICES", "0,1", None, None),
    ("HSA_OVERRIDE_GFX_VERSION", "", "hsa-override-gfx-version-set", "error"),
    ("HSA_OVERRIDE_GFX_VERSION", "gfx1030", "hsa-override-gfx-version-set", "error"),
    ("HSA_OVERRIDE_GFX_VERSION", "9.0.10", "hsa-override-gfx-version-set", "warning"),
])
def test_rocm_env_rules(name, value, code, sev):
    found = codes(facts(rocm_env={name: value}))
    amd_codes = {c for c in found if c.startswith(("hip-", "rocr-", "hsa-"))}
    assert amd_codes == ({code} if code else set())
    if code:
        assert found[code].severity.value == sev


def test_deep_arch_list_wins_over_the_table():
    f = facts(rocm_wheel_arches=("gfx90a",), deep={"ok": True, "arch_list": ["gfx942", "gfx1100"]})
    assert "rocm-arch-not-in-torch-build" in codes(f)
    assert "rocm-arch-not-in-torch-build" not in codes(facts(rocm_wheel_arches=("gfx90a:xnack-",)))
    assert "rocm-arch-not-in-torch-build" not in codes(facts(rocm_wheel_arches=None))  # unknown: no verdict


def test_cpu_torch_on_amd_host_and_mixed_host():
    assert "torch-not-rocm-on-amd-host" in codes(facts(torch_hip=None, torch_version="2.13.0+cpu"))
    mixed = facts(torch_hip=None, torch_cuda="12.4", accelerators=facts().accelerators
                  + (Accelerator("nvidia", 0, "NVIDIA H100", "9.0"),))
    assert "torch-not-rocm-on-amd-host" not in codes(mixed)


# ------------------------------------------------------------------------------------- Intel


def drm_card(sys_root: Path, n: int, vendor: str, device: str) -> None:
    """SYNTHETIC /sys/class/drm/cardN/device/{vendor,device}."""
    d = sys_root / "class" / "drm" / f"card{n}" / "device"
    d.mkdir(parents=True, exist_ok=True)
    (d / "vendor").write_text(vendor + "\n")
    (d / "device").write_text(device + "\n")


def test_intel_sysfs_table(tmp_path):
    sys_root = tmp_path / "sys"
    drm_card(sys_root, 0, "0x8086", "0x9a49")  # an integrated GPU: not in the XPU table
    drm_card(sys_root, 1, "0x8086", "0x0bd5")
    drm_card(sys_root, 2, "0x10de", "0x2330")
    (sys_root / "class" / "drm" / "card1-DP-1").mkdir()
    facts_ = intel.probe_intel(Runner(), {"PATH": ""}, sys_root=str(sys_root))
    (a,) = facts_.accelerators
    assert (a.name, a.arch, a.arch_source) == ("Intel Data Center GPU Max 1550", "Xe-HPC (Ponte Vecchio)",
                                               "configs/intel_gpus.json")
    assert a.source == "sysfs:/sys/class/drm/card1"


@pytest.mark.parametrize("mode", ["hang", "garbage", "fail"])
def test_xpu_smi_faults(tmp_path, mode):
    bin_dir = tmp_path / "bin"
    tool(bin_dir, "xpu-smi", mode, AMD / "rocm-smi-rx7900xt.json")
    drm_card(tmp_path / "sys", 0, "0x8086", "0x56a0")
    f = intel.probe_intel(Runner(), {"PATH": str(bin_dir)}, sys_root=str(tmp_path / "sys"), timeout=0.5)
    assert f.reasons and f.accelerators[0].name == "Intel Arc A770 Graphics"


def test_xpu_smi_parser_shape():
    """SYNTHETIC input in the documented shape (no public capture was found)."""
    text = json.dumps({"device_list": [{"device_id": 1, "device_name": "B"}, {"device_id": 0, "device_name": "A"}]})
    assert [r["name"] for r in intel.parse_xpu_smi_discovery(text)] == ["A", "B"]
    assert intel.parse_xpu_smi_discovery("nope") == []


# ------------------------------------------------------------------------------------- Apple


@pytest.mark.parametrize("ver,machine,translated,ok", [
    ("14.5", "arm64", False, True), ("12.3", "arm64", False, True), ("12.2.1", "arm64", False, False),
    ("13.0", "x86_64", True, False), ("13.0", "x86_64", False, None), (None, "arm64", False, False),
])
def test_mps_status(ver, machine, translated, ok):
    assert apple.mps_status(ver, machine, translated)[0] is ok


class FakeRunner:
    def __init__(self, completed):
        self.completed, self.calls = completed, []

    def run(self, argv, **kw):
        self.calls.append(tuple(argv))
        return self.completed


@pytest.mark.parametrize("completed,rosetta", [
    (Completed(("sysctl",), 0, "1\n"), True),
    (Completed(("sysctl",), None, timed_out=True, duration_s=2.0), False),
    (Completed(("sysctl",), 0, "\x00garbage"), False),
    (Completed(("sysctl",), 1, "", "unknown oid"), False),
    (Completed(("sysctl",), None, error="not found"), False),
])
def test_apple_probe_rosetta_faults(completed, rosetta):
    r = FakeRunner(completed)
    f = apple.probe_apple(r, {}, system="Darwin", mac_ver="14.5", machine="x86_64")
    assert f.extra["rosetta"] is rosetta and f.accelerators == ()
    arm = apple.probe_apple(FakeRunner(completed), {}, system="Darwin", mac_ver="14.5", machine="arm64")
    assert arm.accelerators[0].arch == "mps" and arm.runtime == "MPS (macOS 14.5)"


# ------------------------------------------------------------------------ the one model, NVIDIA


def test_nvidia_in_accelerators_and_gpus_unchanged(clean_env, tmp_path, fake_bin, bare_python):
    install_nvidia_smi(fake_bin, tmp_path / "smi")
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin))
    data = json.loads(invoke(env, "--json", "--python", bare_python).stdout)["data"]
    (g,) = data["gpus"]
    assert set(g) == {"index", "name", "uuid", "memory_total_mib", "compute_capability", "pci_bus_id", "source",
                      "health"}  # issue 11 added `health`; the other keys stay
    assert data["nvidia"]["gpu_details"] == [{"index": 0, "compute_capability_source": "nvidia-smi", "mig_mode": None,
                                              "mig_devices": [], "virtualization": None}]
    (a,) = data["accelerators"]
    assert (a["vendor"], a["arch"], a["driver"], a["source"], a["arch_source"]) == (
        "nvidia", "9.0", "580.159.04", "nvidia-smi", "nvidia-smi")
    assert set(data["accelerator_probes"]) == {"amd", "intel", "apple"}


def test_nothing_found_says_so(clean_env, tmp_path, fake_bin, bare_python):
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin))
    data = json.loads(invoke(env, "--json", "--python", bare_python).stdout)["data"]
    assert data["accelerators"] == []
    (f,) = [f for f in data["findings"] if f["code"] == "no-nvidia-driver"]
    assert "torch will run on the CPU" in f["message"]


def test_skip_switch_and_registry():
    assert accelerators.enabled_vendors({}) == ("amd", "intel", "apple")
    assert accelerators.enabled_vendors({"ENVCHECK_SKIP_VENDOR_PROBES": "all"}) == ()
    assert accelerators.enabled_vendors({"ENVCHECK_SKIP_VENDOR_PROBES": "amd, apple"}) == ("intel",)
    assert accelerators.run_vendor_probe("nope", Runner(), {}).reasons


def test_v100_driver470_in_doctor(clean_env, tmp_path, fake_bin, bare_python):
    """The V100/470 replay end to end (captures: tests/fixtures/v100-driver470/README.md)."""
    v = FIXTURES / "v100-driver470"
    cat = shutil.which("cat")
    write_exe(fake_bin, "nvidia-smi", f"""#!/bin/sh
case "$1" in
  --query-gpu=*compute_cap*) exec {cat} {v}/query-refused.txt; exit 2 ;;
  --query-gpu=*) exec {cat} {v}/query-retry-synthetic.csv ;;
  "") exec {cat} {v}/nvidia-smi.txt ;;
  *) exit 2 ;;
esac
""")
    # `exec cat` returns cat's status: make the refusal exit 2 as the report says
    write_exe(fake_bin, "nvidia-smi", (fake_bin / "nvidia-smi").read_text().replace(
        f"exec {cat} {v}/query-refused.txt; exit 2", f"{cat} {v}/query-refused.txt; exit 2"))
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin))
    data = json.loads(invoke(env, "--json", "--python", bare_python).stdout)["data"]
    assert data["driver"]["version"] == "470.182.03" and data["driver"]["cuda"] == "11.4"
    assert [(g["name"], g["compute_capability"]) for g in data["gpus"]] == [("Tesla V100-SXM2-16GB", "7.0")]
    assert data["nvidia"]["gpu_details"][0]["compute_capability_source"] == "table:V100"
    assert [(a["arch"], a["arch_source"]) for a in data["accelerators"]] == [("7.0", "table:V100")]
    assert "no-nvidia-driver" not in {f["code"] for f in data["findings"]}


@pytest.mark.parametrize("table,listing,driver,names,buses,mib", [
    # two Tesla V100-SXM2-16GB, driver 470.57.02: the table only (the "..." name is what it prints)
    ("nvidia-smi-2xV100.txt", None, "470.57.02", ["Tesla V100-SXM2..."] * 2,
     ["00000000:03:00.0", "00000000:04:00.0"], 16160),
    # eight Tesla V100-PCIE-32GB, driver 470.129.06: the table and `nvidia-smi -L` of the same machine
    ("nvidia-smi-8xV100.txt", "nvidia-smi-L-8xV100.txt", "470.129.06", ["Tesla V100-PCIE-32GB"] * 8,
     ["00000000:1B:00.0", "00000000:1C:00.0", "00000000:1D:00.0", "00000000:1E:00.0", "00000000:3D:00.0",
      "00000000:3F:00.0", "00000000:40:00.0", "00000000:41:00.0"], 32510),
])
def test_multi_v100_driver470_in_doctor(clean_env, tmp_path, fake_bin, bare_python, table, listing, driver,
                                        names, buses, mib):
    """Done-when: the multi-V100/470 replays (captures: tests/fixtures/v100-driver470/README.md) report
    every GPU with compute capability 7.0 from configs/nvidia_gpus.json and the driver's CUDA 11.4.
    The stand-in answers only what was captured: the refusal of compute_cap (470's real message and
    exit 2), the plain table, and `-L` where captured; any other call (the retried --query-gpu among
    them: no public capture) gets exit 2 and no output."""
    v = FIXTURES / "v100-driver470"
    cat = shutil.which("cat")
    list_case = f"  -L) exec {cat} {v}/{listing} ;;\n" if listing else ""
    write_exe(fake_bin, "nvidia-smi", f"""#!/bin/sh
echo "$*" >> {tmp_path}/argv.log
case "$1" in
  --query-gpu=*compute_cap*) {cat} {v}/query-refused.txt; exit 2 ;;
  "") exec {cat} {v}/{table} ;;
{list_case}  *) exit 2 ;;
esac
""")
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin))
    data = json.loads(invoke(env, "--json", "--python", bare_python).stdout)["data"]
    assert (data["driver"]["version"], data["driver"]["cuda"]) == (driver, "11.4")
    assert [(g["index"], g["name"], g["compute_capability"], g["memory_total_mib"]) for g in data["gpus"]] == [
        (i, n, "7.0", mib) for i, n in enumerate(names)]
    assert [g["compute_capability_source"] for g in data["nvidia"]["gpu_details"]] == ["table:V100"] * len(names)
    assert [(a["index"], a["arch"], a["arch_source"]) for a in data["accelerators"] if a["vendor"] == "nvidia"] == [
        (i, "7.0", "table:V100") for i in range(len(names))]
    assert [g.get("pci_bus_id") for g in data["gpus"]] == buses
    assert "no-nvidia-driver" not in {f["code"] for f in data["findings"]}
    calls = (tmp_path / "argv.log").read_text().splitlines()
    assert calls[0].startswith("--query-gpu=") and "compute_cap" in calls[0]
    assert "" in calls and "-L" in calls  # the table, then -L for full names (answered where captured)


def test_human_sections_for_mig_vgpu_intel_apple():
    """SYNTHETIC doctor data through the human renderer: MIG rows, table-sourced capability, vGPU,
    and one section per other vendor."""
    import io

    from rich.console import Console

    from envcheck.render.doctor import render_doctor
    from envcheck.results import Result

    data = {
        "verdict": "ready", "findings": [], "summary": {},
        "driver": {"version": "470.182.03", "cuda": "11.4", "source": "nvidia-smi"},
        "gpus": [{"index": 0, "name": "Tesla V100-SXM2-16GB", "memory_total_mib": 16160, "compute_capability": "7.0",
                  "source": "nvidia-smi"}],
        "nvidia": {"gpu_details": [{"index": 0, "compute_capability_source": "table:V100", "mig_mode": True,
                                    "virtualization": "vgpu", "mig_devices": ["NVIDIA A100 MIG 1g.5gb (MIG-1, 4864 MiB)"]}]},
        "accelerators": [
            {"vendor": "intel", "index": 0, "name": "Intel Data Center GPU Max 1550", "arch": "Xe-HPC (Ponte Vecchio)",
             "memory_total_mib": None, "source": "sysfs:/sys/class/drm/card1", "notes": ["PCI 0000:3a:00.0"]},
            {"vendor": "apple", "index": 0, "name": "Apple GPU (Metal)", "arch": "mps", "source": "platform.mac_ver",
             "notes": []},
        ],
        "accelerator_probes": {"apple": {"runtime": "MPS (macOS 14.5)", "runtime_source": "platform.mac_ver",
                                         "reasons": []}},
    }
    buf = io.StringIO()
    render_doctor(Result(command="doctor", exit_code=0, data=data), Console(file=buf, width=200, highlight=False))
    out = buf.getvalue()
    assert "compute 7.0 (from NVIDIA's GPU list)" in out and "MIG enabled" in out and "virtualization: vgpu" in out
    assert "NVIDIA A100 MIG 1g.5gb (MIG-1, 4864 MiB)" in out
    assert "Intel (XPU)" in out and "Intel Data Center GPU Max 1550 · Xe-HPC (Ponte Vecchio)" in out
    assert "Apple (MPS)" in out and "MPS (macOS 14.5)" in out
