"""GPU health in doctor (issue 11): parsers on REAL public `nvidia-smi -q` captures (tests/fixtures/gpu-health,
provenance in its README; the healthy H100 is the project's own capture), the five findings, the NVML
path through a SYNTHETIC stand-in pynvml module, the --query-gpu health CSV (SYNTHETIC lines: no public
capture of it with problems was found), and doctor's JSON/human output.
"""
from __future__ import annotations

import types

import pynvml
import pytest
from rich.console import Console

from envcheck.diagnose import DoctorFacts, diagnose
from envcheck.facts import GpuHealth, GpuInfo, NvidiaFacts, Source
from envcheck.probes.nvidia import (
    HEALTH_FIELDS,
    attach_health,
    nvml_health,
    parse_smi_health_csv,
    parse_smi_q_health,
    probe_nvidia,
    smi_health,
)
from envcheck.render.doctor import health_line
from envcheck.runner import Completed

from conftest import FIXTURES

HEALTH = FIXTURES / "gpu-health"
H100_Q = FIXTURES / "h100-driver580" / "nvidia-smi-q.txt"
CODES = {"gpu-ecc-errors", "gpu-row-remap-pending", "gpu-throttled", "gpu-pcie-link-degraded", "gpu-persistence-off"}


def q_health(path) -> GpuHealth:
    (pair,) = parse_smi_q_health(path.read_text())
    return pair[1]


def findings_for(healths, os_family="linux", names=None):
    gpus = tuple(GpuInfo(i, (names or {}).get(i, "GPU"), pci_bus_id=f"00000000:0{i}:00.0", health=h)
                 for i, h in enumerate(healths))
    facts = DoctorFacts(nvidia=NvidiaFacts(driver_version="580.159.04", cuda="13.0", source=Source.NVML, gpus=gpus),
                        os_family=os_family, torch_installed=None)
    return [f for f in diagnose(facts) if f.code in CODES]


# ------------------------------------------------------------------------- real captures -> findings


def test_healthy_h100_capture_gives_no_health_finding():
    h = q_health(H100_Q)
    assert (h.ecc_enabled, h.ecc_uncorrected_volatile, h.ecc_uncorrected_aggregate) == (True, 0, 0)
    assert (h.row_remap_pending, h.row_remap_failure, h.clock_event_mask) == (False, False, 0)
    assert (h.pcie_gen_current, h.pcie_gen_max, h.pcie_gen_device_max, h.pcie_width_current, h.pcie_width_max) == (5, 5, 5, 16, 16)
    assert h.persistence_mode is True and h.utilization_gpu == 0 and h.busy is False
    assert findings_for([h]) == []


def test_throttled_v100_capture_gives_gpu_throttled():
    """l4rz's C4130: HW Slowdown + HW Power Brake Slowdown active (an excerpt without a GPU header)."""
    (bus, h), = parse_smi_q_health((HEALTH / "v100-sxm2-powerbrake-c4130-excerpt.txt").read_text())
    assert bus is None and h.clock_event_mask == 0x88
    assert h.throttle_reasons() == ("hw_slowdown", "hw_power_brake_slowdown")
    (f,) = findings_for([h])
    assert f.code == "gpu-throttled" and f.severity.value == "warning"
    assert "power brake" in f.message and "BMC" in f.fix


def test_ecc_capture_gives_gpu_ecc_errors_warning_for_lifetime_count():
    h = q_health(HEALTH / "gh200-ecc-aggregate-q.txt")
    assert (h.ecc_uncorrected_volatile, h.ecc_uncorrected_aggregate, h.row_remap_uncorrectable) == (0, 1, 1)
    assert h.row_remap_pending is False and h.busy is False
    (f,) = findings_for([h])
    assert (f.code, f.severity.value) == ("gpu-ecc-errors", "warning")
    assert "1 uncorrectable ECC error(s) in its lifetime" in f.message


def test_degraded_link_capture_gives_gpu_pcie_link_degraded():
    """NVIDIA/DCGM#232: A10G at PCIe Gen 4 of 4 but x8 of x16 lanes, with a process on it."""
    h = q_health(HEALTH / "a10g-width-x8-dcgm232-q.txt")
    assert (h.pcie_gen_current, h.pcie_gen_max, h.pcie_width_current, h.pcie_width_max) == (4, 4, 8, 16)
    assert h.persistence_mode is False and h.ecc_uncorrected_aggregate == 0
    (f,) = findings_for([h])  # one GPU: persistence off is not reported on a single-GPU host
    assert (f.code, f.severity.value) == ("gpu-pcie-link-degraded", "warning")
    assert "x8 of x16 lanes at full link speed" in f.message and "Reseat" in f.fix


def test_remap_pending_capture_gives_gpu_row_remap_pending():
    """leptonai/gpud#80's excerpt: Remapped Rows Pending: Yes."""
    h = q_health(HEALTH / "remap-pending-gpud80-excerpt.txt")
    assert (h.row_remap_pending, h.row_remap_uncorrectable) == (True, 4)
    (f,) = findings_for([h])
    assert (f.code, f.severity.value) == ("gpu-row-remap-pending", "warning")
    assert "4 uncorrectable row(s)" in f.message and "nvidia-smi -r -i 0" in f.fix


def test_all_real_problem_captures_together():
    """Done-when: replayed outputs with throttling, ECC errors and a degraded PCIe link produce those findings."""
    healths = [q_health(HEALTH / n) for n in ("v100-sxm2-powerbrake-c4130-excerpt.txt", "gh200-ecc-aggregate-q.txt",
                                              "a10g-width-x8-dcgm232-q.txt")]
    codes = [f.code for f in findings_for(healths)]
    assert sorted(codes) == ["gpu-ecc-errors", "gpu-pcie-link-degraded", "gpu-persistence-off", "gpu-throttled"]


# ------------------------------------------------------------------------ rules on edge values


def test_volatile_ecc_is_an_error_and_remap_failure_is_an_error():
    fs = findings_for([GpuHealth(ecc_uncorrected_volatile=3, ecc_uncorrected_aggregate=5),
                       GpuHealth(row_remap_failure=True, row_remap_pending=True)])
    assert [(f.code, f.severity.value) for f in fs] == [("gpu-ecc-errors", "error"), ("gpu-row-remap-pending", "error")]
    assert "since the driver loaded" in fs[0].message and "RMA" in fs[1].fix


def test_retired_pages_pending_counts_as_memory_repair_pending():
    (f,) = findings_for([GpuHealth(retired_pages_pending=True)])
    assert f.code == "gpu-row-remap-pending" and "page retirement" in f.message


@pytest.mark.parametrize("mask", [0x0, 0x1, 0x2, 0x4, 0x10, 0x100, 0x1 | 0x4])
def test_idle_app_clocks_power_cap_are_not_throttling(mask):
    assert findings_for([GpuHealth(clock_event_mask=mask)]) == []


@pytest.mark.parametrize("h, degraded", [
    (GpuHealth(pcie_gen_current=1, pcie_gen_max=4, pcie_width_current=16, pcie_width_max=16, utilization_gpu=0), False),  # idle downshift
    (GpuHealth(pcie_gen_current=1, pcie_gen_max=4, pcie_width_current=16, pcie_width_max=16), False),  # unknown load
    (GpuHealth(pcie_gen_current=1, pcie_gen_max=4, pcie_width_current=16, pcie_width_max=16, utilization_gpu=90), True),
    (GpuHealth(pcie_gen_current=4, pcie_gen_max=4, pcie_gen_device_max=5, pcie_width_current=16, pcie_width_max=16), True),
    (GpuHealth(pcie_gen_current=5, pcie_gen_max=5, pcie_gen_device_max=5, pcie_width_current=16, pcie_width_max=16,
               utilization_gpu=100), False),
])
def test_pcie_link_rule(h, degraded):
    assert (h.link_degraded() is not None) is degraded
    assert bool(findings_for([h])) is degraded


def test_persistence_off_only_on_linux_multi_gpu():
    off = GpuHealth(persistence_mode=False)
    (f,) = findings_for([off, off])
    assert (f.code, f.severity.value) == ("gpu-persistence-off", "info") and "nvidia-persistenced" in f.fix
    assert findings_for([off]) == []
    assert findings_for([off, off], os_family="windows") == []
    assert findings_for([GpuHealth(persistence_mode=True)] * 2) == []


# ----------------------------------------------------------------------------- the health CSV


def test_health_csv_synthetic_lines():
    """SYNTHETIC rows in the field order envcheck queries (HEALTH_FIELDS), nvidia-smi's value spellings."""
    text = ("0, 00000000:18:00.0, Enabled, 2, 7, No, Yes, No, 0x0000000000000048, 4, 5, 5, 16, 16, Disabled, 87\n"
            "1, 00000000:2A:00.0, [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], 0x0000000000000001, 1, 4, [N/A], 16, 16, Enabled, 0\n"
            "garbage line\n")
    got = parse_smi_health_csv(text)
    a, b = got[0], got[1]
    assert (a.ecc_enabled, a.ecc_uncorrected_volatile, a.ecc_uncorrected_aggregate) == (True, 2, 7)
    assert (a.retired_pages_pending, a.row_remap_pending, a.row_remap_failure) == (False, True, False)
    assert a.throttle_reasons() == ("hw_slowdown", "hw_thermal_slowdown") and a.source == "nvidia-smi"
    assert a.link_degraded() == "the link runs at Gen 4 of 5 while the GPU is busy"
    assert (b.ecc_enabled, b.ecc_uncorrected_volatile, b.pcie_gen_device_max, b.persistence_mode) == (None, None, None, True)
    assert b.link_degraded() is None  # Gen 1 of 4 while idle: the normal downshift
    assert parse_smi_health_csv("") == {} and parse_smi_health_csv("\x00\xff<html>") == {}


def test_health_csv_old_throttle_field_name():
    fields = HEALTH_FIELDS.replace("clocks_event_reasons.active", "clocks_throttle_reasons.active")
    line = "0, 00000000:04:00.0, Enabled, 0, 0, No, [N/A], [N/A], 0x0000000000000008, 3, 3, [N/A], 16, 16, Enabled, 50\n"
    assert parse_smi_health_csv(line, fields)[0].throttle_reasons() == ("hw_slowdown",)


def test_smi_health_drops_refused_fields_and_renames_the_old_one():
    """SYNTHETIC driver that knows neither clocks_event_reasons.* (older name accepted) nor remapped_rows.*."""
    calls = []

    class Runner:
        def run(self, argv, **kw):
            calls.append(argv[1])
            q = argv[1]
            for bad in ("clocks_event_reasons.active", "remapped_rows.pending", "remapped_rows.failure", "pcie.link.gen.gpumax"):
                if bad in q:
                    return Completed(tuple(argv), 2, f'Field "{bad}" is not a valid field to query.\n', "")
            return Completed(tuple(argv), 0, "0, 00000000:04:00.0, Enabled, 0, 0, Yes, 0x0000000000000001, 1, 3, 16, 16, Enabled, 0\n", "")

    by_index, by_bus, why = smi_health(Runner(), "nvidia-smi", 5.0)
    assert why is None and by_bus == []
    assert by_index[0].retired_pages_pending is True and by_index[0].clock_event_mask == 1
    assert "clocks_throttle_reasons.active" in calls[-1] and "remapped_rows" not in calls[-1]


def test_smi_health_falls_back_to_q_then_gives_a_reason():
    text = H100_Q.read_text()

    class Runner:
        def __init__(self, q_ok):
            self.q_ok = q_ok

        def run(self, argv, **kw):
            if argv[1] == "-q":
                return Completed(tuple(argv), 0 if self.q_ok else 9, text if self.q_ok else "", "")
            return Completed(tuple(argv), 9, "", "Unable to determine the device handle")

    by_index, by_bus, why = smi_health(Runner(True), "nvidia-smi", 5.0)
    assert by_index == {} and by_bus[0][0] == "00000000:00:06.0" and why is None
    _, _, why = smi_health(Runner(False), "nvidia-smi", 5.0)
    assert why and why.startswith("GPU health not reported by nvidia-smi")


def test_attach_health_by_index_then_bus():
    gpus = (GpuInfo(0, pci_bus_id="00000000:00:06.0"), GpuInfo(1, pci_bus_id="00000000:00:07.0"))
    h = GpuHealth(source="x")
    out = attach_health(gpus, {}, [("00000000:00:06.0", h)])
    assert out[0].health is h and out[1].health is None
    assert attach_health(gpus, {1: h}, [])[1].health is h


# ------------------------------------------------------------------------------------- NVML


def synthetic_pynvml(not_supported=(), **values):
    """SYNTHETIC stand-in for nvidia-ml-py's pynvml: the real error class and constants, invented values."""
    mod = types.SimpleNamespace()
    for name in dir(pynvml):
        if name.startswith(("NVML_", "NVMLError")):
            setattr(mod, name, getattr(pynvml, name))
    v = {"ecc": (1, 1), "vol": 0, "agg": 0, "retired": 0, "rows": (0, 0, 0, 0), "mask": 0x1, "gen": (4, 4, 4),
         "width": (16, 16), "persist": 1, "util": 0}
    v.update(values)

    def make(key, fn):
        def call(handle, *args):
            if key in not_supported:
                raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
            return fn(*args)
        return call

    mod.nvmlDeviceGetEccMode = make("ecc", lambda: v["ecc"])
    mod.nvmlDeviceGetTotalEccErrors = make("ecc", lambda kind, counter: v["vol"] if counter == pynvml.NVML_VOLATILE_ECC else v["agg"])
    mod.nvmlDeviceGetRetiredPagesPendingStatus = make("retired", lambda: v["retired"])
    mod.nvmlDeviceGetRemappedRows = make("rows", lambda: v["rows"])
    mod.nvmlDeviceGetCurrentClocksEventReasons = make("mask", lambda: v["mask"])
    mod.nvmlDeviceGetCurrPcieLinkGeneration = make("pcie", lambda: v["gen"][0])
    mod.nvmlDeviceGetMaxPcieLinkGeneration = make("pcie", lambda: v["gen"][1])
    mod.nvmlDeviceGetGpuMaxPcieLinkGeneration = make("pcie", lambda: v["gen"][2])
    mod.nvmlDeviceGetCurrPcieLinkWidth = make("pcie", lambda: v["width"][0])
    mod.nvmlDeviceGetMaxPcieLinkWidth = make("pcie", lambda: v["width"][1])
    mod.nvmlDeviceGetPersistenceMode = make("persist", lambda: v["persist"])
    mod.nvmlDeviceGetUtilizationRates = make("util", lambda: types.SimpleNamespace(gpu=v["util"], memory=0))
    return mod


def test_nvml_health_values_and_sources():
    h = nvml_health(synthetic_pynvml(vol=2, agg=9, rows=(0, 3, 1, 0), mask=0x40, gen=(3, 4, 4), width=(8, 16),
                                     persist=0, util=95), object())
    assert h.source == "nvml" and h.reasons == ()
    assert (h.ecc_enabled, h.ecc_uncorrected_volatile, h.ecc_uncorrected_aggregate) == (True, 2, 9)
    assert (h.row_remap_uncorrectable, h.row_remap_pending, h.row_remap_failure) == (3, True, False)
    assert h.throttle_reasons() == ("hw_thermal_slowdown",) and h.busy is True
    assert h.link_degraded() == "the link runs at Gen 3 of 4 and x8 of x16 lanes while the GPU is busy"
    assert {f.code for f in findings_for([h, h])} == CODES


def test_nvml_not_supported_is_isolated_per_call():
    """A GeForce: no ECC, no remapping, no page retirement; the rest still read, and no noise in reasons."""
    h = nvml_health(synthetic_pynvml(not_supported=("ecc", "rows", "retired")), object())
    assert (h.ecc_enabled, h.ecc_uncorrected_volatile, h.row_remap_pending, h.retired_pages_pending) == (None,) * 4
    assert h.pcie_gen_current == 4 and h.persistence_mode is True and h.reasons == ()


def test_nvml_other_errors_become_reasons_and_missing_calls_too():
    mod = synthetic_pynvml()

    def boom(handle):
        raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)

    mod.nvmlDeviceGetPersistenceMode = boom
    del mod.nvmlDeviceGetGpuMaxPcieLinkGeneration  # old bindings
    h = nvml_health(mod, object())
    assert h.persistence_mode is None and h.pcie_gen_device_max is None
    assert any(r.startswith("nvmlDeviceGetPersistenceMode:") for r in h.reasons)
    assert any("nvmlDeviceGetGpuMaxPcieLinkGeneration: not in these NVML bindings" == r for r in h.reasons)


def test_probe_nvidia_nvml_attaches_health(tmp_path):
    mod = synthetic_pynvml(mask=0x88)
    mod.nvmlInit = lambda: None
    mod.nvmlShutdown = lambda: None
    mod.nvmlSystemGetDriverVersion = lambda: "580.159.04"
    mod.nvmlSystemGetCudaDriverVersion_v2 = lambda: 13000
    mod.nvmlDeviceGetCount = lambda: 1
    mod.nvmlDeviceGetHandleByIndex = lambda i: object()
    mod.nvmlDeviceGetName = lambda h: "NVIDIA H100 80GB HBM3"
    mod.nvmlDeviceGetUUID = lambda h: "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6"
    mod.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=85520809984)
    mod.nvmlDeviceGetCudaComputeCapability = lambda h: (9, 0)
    mod.nvmlDeviceGetPciInfo = lambda h: types.SimpleNamespace(busId="00000000:00:06.0")
    (tmp_path / "sys").mkdir()
    (tmp_path / "proc").mkdir()
    nv = probe_nvidia(None, {"PATH": ""}, nvml_loader=lambda: mod, sys_root=str(tmp_path / "sys"),
                      proc_root=str(tmp_path / "proc"))
    (g,) = nv.gpus
    assert g.health.source == "nvml" and g.health.throttle_reasons() == ("hw_slowdown", "hw_power_brake_slowdown")


def test_probe_nvidia_smi_fallback_reads_health(tmp_path):
    """NVML disabled; nvidia-smi replays the real H100 identity line, refuses the health CSV, and the real
    H100 `-q` gives the health."""
    d = tmp_path / "bin"
    d.mkdir()
    (d / "nvidia-smi").write_text("#!/bin/sh\nexit 0\n")
    (d / "nvidia-smi").chmod(0o755)
    (tmp_path / "sys").mkdir()
    (tmp_path / "proc").mkdir()
    line = "0, NVIDIA H100 80GB HBM3, GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6, 580.159.04, 81559, 9.0, 00000000:00:06.0\n"

    class Runner:
        def run(self, argv, **kw):
            arg = argv[1] if len(argv) > 1 else ""
            if arg.startswith("--query-gpu=index,name"):
                return Completed(tuple(argv), 0, line, "")
            if arg == "-q":
                return Completed(tuple(argv), 0, H100_Q.read_text(), "")
            if arg == "--version":
                return Completed(tuple(argv), 0, "CUDA Version : 13.0\n", "")
            return Completed(tuple(argv), 2, 'Field "remapped_rows.pending" is not a valid field to query.\n', "")

    nv = probe_nvidia(Runner(), {"PATH": str(d), "ENVCHECK_DISABLE_NVML": "1"}, sys_root=str(tmp_path / "sys"),
                      proc_root=str(tmp_path / "proc"))
    (g,) = nv.gpus
    assert g.health is not None and g.health.source == "nvidia-smi -q" and g.health.pcie_width_max == 16


# ------------------------------------------------------------------------------- output


def test_health_line_and_json_shape():
    bad = q_health(HEALTH / "v100-sxm2-powerbrake-c4130-excerpt.txt").to_dict()
    text, style = health_line(bad)
    assert text.startswith("throttled: hw slowdown, hw power brake slowdown") and style == "yellow"
    ok = q_health(H100_Q).to_dict()
    text, style = health_line(ok)
    assert text == "ok: ECC ok, no pending memory repair, no throttling, PCIe Gen5/5 x16/16, persistence on"
    assert style == "green"
    assert set(ok) == {"source", "ecc", "retired_pages", "row_remap", "clocks", "pcie", "persistence_mode",
                       "utilization_gpu_percent", "busy", "pcie_link_degraded", "reasons"}
    assert ok["clocks"]["event_mask"] == "0x0000000000000000"
    Console(width=100, record=True).print(text)  # plain text, renders


# ------------------------------------------------------------------ doctor end to end (CliRunner)


def test_doctor_replays_the_degraded_a10g_capture(clean_env, tmp_path, fake_bin, bare_python):
    """A stand-in `nvidia-smi` (no GPU here): the identity query answers the A10G's values taken from the
    real capture, the health CSV is refused (as an older driver would), and `-q` replays the real
    NVIDIA/DCGM#232 capture. doctor reports the health per GPU and gpu-pcie-link-degraded."""
    import json
    import shutil

    from typer.testing import CliRunner

    from conftest import write_exe
    from doctor_standins import hermetic_env, unset_all
    from envcheck.cli import app

    cat = shutil.which("cat")
    write_exe(fake_bin, "nvidia-smi", f"""#!/bin/sh
case "$1" in
  --query-gpu=index,name*) echo "0, NVIDIA A10G, GPU-5468ba27-3fa8-325a-92f3-2fb0645c07cf, 535.247.01, 23028, 8.6, 00000000:00:1E.0"; exit 0 ;;
  --query-gpu=*) echo 'Field "remapped_rows.pending" is not a valid field to query.'; exit 2 ;;
  -q) exec {cat} {HEALTH / "a10g-width-x8-dcgm232-q.txt"} ;;
  --version) echo "CUDA Version : 12.2"; exit 0 ;;
  *) exit 2 ;;
esac
""")
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin))
    result = CliRunner().invoke(app, ["doctor", "--json", "--python", bare_python], env=env)
    data = json.loads(result.stdout)["data"]
    (g,) = data["gpus"]
    assert set(g) == {"index", "name", "uuid", "memory_total_mib", "compute_capability", "pci_bus_id", "source", "health"}
    assert g["health"]["source"] == "nvidia-smi -q" and g["health"]["pcie"]["width_current"] == 8
    assert g["health"]["pcie_link_degraded"] == "the link runs at x8 of x16 lanes at full link speed"
    codes = [f["code"] for f in data["findings"]]
    assert "gpu-pcie-link-degraded" in codes and "gpu-persistence-off" not in codes
    human = CliRunner().invoke(app, ["doctor", "--python", bare_python], env=dict(env, COLUMNS="200"))
    assert "PCIe link degraded: the link runs at x8 of x16 lanes at full link speed" in human.stdout
