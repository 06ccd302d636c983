"""Old and odd NVIDIA setups: a driver that refuses `compute_cap` (before the 510 branch), the
compute-capability table, `nvidia-smi -q`, NVML calls that fail one at a time, MIG and vGPU.

Replays use the public captures in tests/fixtures/v100-driver470 (see its README for each URL) and
the shared H100 captures; stand-in NVML modules are named synthetic where they are.
"""
from __future__ import annotations

import types

import pynvml
import pytest

from envcheck.facts import Source
from envcheck.gputable import cc_for_name, normalize
from envcheck.probes.nvidia import (
    SMI_QUERY_FIELDS,
    fill_compute_capability,
    parse_refused_field,
    parse_smi_banner,
    parse_smi_csv,
    parse_smi_list,
    parse_smi_q,
    probe_nvidia,
    probe_nvml,
    smi_query,
)
from envcheck.runner import Completed

from conftest import FIXTURES

V100 = FIXTURES / "v100-driver470"
H100 = FIXTURES / "h100-driver580"


class ArgvRunner:
    """Replays by a function of argv; records every call."""

    def __init__(self, answer):
        self.answer = answer
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv, **kwargs):
        argv = tuple(argv)
        self.calls.append(argv)
        return self.answer(argv)


def smi_dir(tmp_path):
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    exe = d / "nvidia-smi"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    (tmp_path / "sys").mkdir(exist_ok=True)
    (tmp_path / "proc").mkdir(exist_ok=True)
    return {"PATH": str(d), "ENVCHECK_DISABLE_NVML": "1"}, {"sys_root": str(tmp_path / "sys"),
                                                             "proc_root": str(tmp_path / "proc")}


def driver470(argv):
    """nvidia-smi 470.182.03 as the public reports show it: compute_cap refused with exit 2; the banner
    real; --version and -q answered with the usage error an unknown call gets (no capture of them)."""
    arg = argv[1] if len(argv) > 1 else ""
    if arg.startswith("--query-gpu="):
        if "compute_cap" in arg:
            return Completed(argv, 2, (V100 / "query-refused.txt").read_text(), "")
        return Completed(argv, 0, (V100 / "query-retry-synthetic.csv").read_text(), "")
    if arg == "":
        return Completed(argv, 0, (V100 / "nvidia-smi.txt").read_text(), "")
    return Completed(argv, 2, "", "")


# ------------------------------------------------------------------------------------ parsers


def test_refused_field_from_the_real_message():
    assert parse_refused_field((V100 / "query-refused.txt").read_text()) == "compute_cap"
    assert parse_refused_field("NVIDIA-SMI has failed because it couldn't communicate") is None
    assert parse_refused_field("") is None


def test_smi_q_on_real_captures():
    h = parse_smi_q((H100 / "nvidia-smi-q.txt").read_text())
    assert h["driver"] == "580.159.04" and h["cuda"] == "13.0"
    assert h["gpus"] == [{"bus_id": "00000000:00:06.0", "name": "NVIDIA H100 80GB HBM3",
                          "uuid": "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6", "memory_total_mib": 81559,
                          "mig_mode": False, "virtualization": "pass-through"}]
    v = parse_smi_q((V100 / "nvidia-smi-q-8xV100-excerpt.txt").read_text())
    assert v["gpus"][0]["name"] == "Tesla V100-SXM2-16GB"
    assert v["gpus"][0]["virtualization"] == "none"  # older drivers spell it "Virtualization mode"
    assert v["gpus"][0]["mig_mode"] is None  # no MIG section on that driver


@pytest.mark.parametrize("text", ["", "garbage\n\x00\xff", "GPU nothing\n  : :"])
def test_smi_q_garbage(text):
    assert parse_smi_q(text) == {"driver": None, "cuda": None, "gpus": []}


@pytest.mark.parametrize("name,cc,row", [
    ("Tesla V100-SXM2...", "7.0", "V100"),  # the banner's truncated name
    ("Tesla V100-SXM2-16GB", "7.0", "V100"),
    ("NVIDIA A100-SXM4-80GB", "8.0", "A100"),
    ("NVIDIA A10", "8.6", "A10"),
    ("NVIDIA H100 80GB HBM3", "9.0", "H100"),
    ("Quadro RTX 6000", "7.5", "RTX 6000"),
    ("NVIDIA RTX 6000 Ada Generation", "8.9", "RTX 6000 Ada"),
    ("RTX 3090", "8.6", "RTX 3090"),
    ("NVIDIA GeForce RTX 3090", "8.6", "RTX 3090"),
    ("GRID V100-16Q", "7.0", "V100"),
    ("Tesla T4", "7.5", "T4"),
    ("Tesla P4", "6.1", "P4"),
])
def test_cc_for_name(name, cc, row):
    assert cc_for_name(name) == (cc, row)


@pytest.mark.parametrize("name", ["", None, "Radeon RX 7900 XT", "A1000 unknown", "T40"])
def test_cc_for_unknown_names(name):
    assert cc_for_name(name) is None


def test_normalize():
    assert normalize("NVIDIA  GeForce RTX\u00a03090") == "rtx 3090"


def test_table_fills_only_missing_capability_and_says_so():
    gpus, _ = parse_smi_csv((V100 / "query-retry-synthetic.csv").read_text(),
                            "index,name,uuid,driver_version,memory.total,pci.bus_id")
    (g,) = fill_compute_capability(gpus)
    assert (g.compute_capability, g.compute_capability_source) == ("7.0", "table:V100")
    h, _ = parse_smi_csv("0, NVIDIA H100 80GB HBM3, GPU-x, 580.1, 81559, 9.0, 00000000:00:06.0\n")
    assert fill_compute_capability(h)[0].compute_capability_source == "nvidia-smi"


# ------------------------------------------------------------------------------- the replay


def test_v100_driver470_replay(tmp_path):
    """Done-when: the refused field no longer means "no driver"; the GPU has cc 7.0 and CUDA 11.4."""
    environ, roots = smi_dir(tmp_path)
    runner = ArgvRunner(driver470)
    nv = probe_nvidia(runner, environ, **roots)
    assert nv.has_driver and nv.driver_version == "470.182.03" and nv.source == Source.NVIDIA_SMI
    assert nv.cuda == "11.4" and nv.cuda_source == Source.NVIDIA_SMI
    (g,) = nv.gpus
    assert (g.index, g.name, g.memory_total_mib, g.pci_bus_id) == (0, "Tesla V100-SXM2-16GB", 16160,
                                                                   "00000000:00:04.0")
    assert (g.compute_capability, g.compute_capability_source) == ("7.0", "table:V100")
    assert any("refused --query-gpu field(s) compute_cap" in r for r in nv.reasons)
    queries = [c[1] for c in runner.calls if len(c) > 1 and c[1].startswith("--query-gpu=")]
    assert queries == [f"--query-gpu={SMI_QUERY_FIELDS}",
                       "--query-gpu=index,name,uuid,driver_version,memory.total,pci.bus_id"]


def test_refusal_retries_are_bounded_and_never_drop_index(tmp_path):
    environ, roots = smi_dir(tmp_path)

    def refuse_everything(argv):  # SYNTHETIC: refuses whatever field comes last
        if argv[1:] and argv[1].startswith("--query-gpu="):
            last = argv[1].split("=", 1)[1].split(",")[-1]
            return Completed(argv, 2, f'Field "{last}" is not a valid field to query.\n', "")
        return Completed(argv, 2, "", "")

    runner = ArgvRunner(refuse_everything)
    done, fields, refused = smi_query(runner, "nvidia-smi", 1.0)
    assert not done.ok and len(refused) == 3 and "index" in fields and "name" in fields
    nv = probe_nvidia(runner, environ, **roots)
    assert not nv.has_driver and not nv.gpus


def test_smi_q_merged_on_old_driver_by_bus_id(tmp_path):
    environ, roots = smi_dir(tmp_path)
    q = (V100 / "nvidia-smi-q-8xV100-excerpt.txt").read_text().replace("00000000:06:00.0", "00000000:00:04.0")

    def with_q(argv):  # the -q text of the 8xV100 report, its bus id set to the banner's GPU (derived)
        if argv[1:] == ("-q",):
            return Completed(argv, 0, q, "")
        return driver470(argv)

    nv = probe_nvidia(ArgvRunner(with_q), environ, **roots)
    assert nv.gpus[0].virtualization == "none"


# --------------------------------------------------- several V100s on a 470 driver (public captures)


def test_banner_rows_of_both_layouts():
    two, drv, cuda = parse_smi_banner((V100 / "nvidia-smi-2xV100.txt").read_text())
    assert (drv, cuda) == ("470.57.02", "11.4")
    assert [(g.index, g.name, g.pci_bus_id, g.memory_total_mib) for g in two] == [
        (0, "Tesla V100-SXM2...", "00000000:03:00.0", 16160), (1, "Tesla V100-SXM2...", "00000000:04:00.0", 16160)]
    eight, drv, cuda = parse_smi_banner((V100 / "nvidia-smi-8xV100.txt").read_text())
    assert (drv, cuda, len(eight)) == ("470.129.06", "11.4", 8)
    assert [g.index for g in eight] == list(range(8)) and {g.memory_total_mib for g in eight} == {32510}
    (h,), drv, cuda = parse_smi_banner((H100 / "nvidia-smi.txt").read_text())  # the 580 layout
    assert (h.index, h.name, h.pci_bus_id, h.memory_total_mib, drv, cuda) == (
        0, "NVIDIA H100 80GB HBM3", "00000000:00:06.0", 81559, "580.159.04", "13.0")


@pytest.mark.parametrize("text", [
    "", "garbage\n\x00\xff|  |", (V100 / "query-refused.txt").read_text(),
    # the Processes table of the 2xV100 report (cut from the fixture): a process row is no GPU row
    "|    0   N/A  N/A     23988      C   /usr/bin/python3                 2573MiB |\n",
])
def test_banner_without_gpu_rows(text):
    assert parse_smi_banner(text)[0] == ()


def test_list_and_q_of_the_same_eight_v100_machine_agree():
    """-L, -q -i 1 and the table of one machine (one blog post): GPU 1 is the same in all three."""
    listed = parse_smi_list((V100 / "nvidia-smi-L-8xV100.txt").read_text())
    assert sorted(listed) == list(range(8)) and {n for n, _ in listed.values()} == {"Tesla V100-PCIE-32GB"}
    q = parse_smi_q((V100 / "nvidia-smi-q-i1-8xV100.txt").read_text())
    assert (q["driver"], q["cuda"]) == ("470.129.06", "11.4")
    (g1,) = q["gpus"]
    assert (g1["name"], g1["uuid"], g1["memory_total_mib"], g1["mig_mode"], g1["virtualization"]) == (
        "Tesla V100-PCIE-32GB", listed[1][1], 32510, None, "none")
    table, _, _ = parse_smi_banner((V100 / "nvidia-smi-8xV100.txt").read_text())
    assert table[1].pci_bus_id == g1["bus_id"] == "00000000:1C:00.0"
    assert parse_smi_list((H100 / "nvidia-smi-L.txt").read_text()) == {
        0: ("NVIDIA H100 80GB HBM3", "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6")}
    assert parse_smi_list("garbage\nGPU x: y\n") == {}


def captured_only(table: str, listing: str | None = None):
    """A 470 nvidia-smi answering only what the public reports captured: the compute_cap refusal (exit 2),
    the plain table and, where captured, -L. Any other call (the retried query: no capture) exits 2."""
    def answer(argv):
        arg = argv[1] if len(argv) > 1 else ""
        if arg.startswith("--query-gpu=") and "compute_cap" in arg:
            return Completed(argv, 2, (V100 / "query-refused.txt").read_text(), "")
        if arg == "":
            return Completed(argv, 0, (V100 / table).read_text(), "")
        if arg == "-L" and listing:
            return Completed(argv, 0, (V100 / listing).read_text(), "")
        return Completed(argv, 2, "", "")
    return answer


def test_two_v100_replay_from_the_table(tmp_path):
    environ, roots = smi_dir(tmp_path)
    runner = ArgvRunner(captured_only("nvidia-smi-2xV100.txt"))
    nv = probe_nvidia(runner, environ, **roots)
    assert nv.has_driver and (nv.driver_version, nv.cuda) == ("470.57.02", "11.4")
    assert nv.source == nv.cuda_source == nv.gpus_source == Source.NVIDIA_SMI
    assert [(g.index, g.pci_bus_id, g.compute_capability, g.compute_capability_source) for g in nv.gpus] == [
        (0, "00000000:03:00.0", "7.0", "table:V100"), (1, "00000000:04:00.0", "7.0", "table:V100")]
    assert any("names as the table prints them" in r for r in nv.reasons)
    assert [c[1:] for c in runner.calls] == [
        (f"--query-gpu={SMI_QUERY_FIELDS}", "--format=csv,noheader,nounits"),
        ("--query-gpu=index,name,uuid,driver_version,memory.total,pci.bus_id", "--format=csv,noheader,nounits"),
        (), ("-L",), ("-q",)]  # the table, -L for full names, -q for MIG/vGPU: the last two not captured


def test_eight_v100_replay_names_from_list(tmp_path):
    environ, roots = smi_dir(tmp_path)
    nv = probe_nvidia(ArgvRunner(captured_only("nvidia-smi-8xV100.txt", "nvidia-smi-L-8xV100.txt")), environ, **roots)
    assert (nv.driver_version, nv.cuda, len(nv.gpus)) == ("470.129.06", "11.4", 8)
    assert {(g.name, g.compute_capability, g.compute_capability_source) for g in nv.gpus} == {
        ("Tesla V100-PCIE-32GB", "7.0", "table:V100")}
    assert nv.gpus[1].uuid == "GPU-06e3d8e6-3f54-374a-8142-9752ca1f2316"
    assert any("and `nvidia-smi -L`" in r for r in nv.reasons)


def test_listing_fallback_faults(tmp_path):
    """SYNTHETIC behaviour: the query hangs (nothing more is run); the table hangs or fails after a
    refusal (no GPUs, no driver). A failing -L (the table's names kept) is the 2xV100 replay above."""
    environ, roots = smi_dir(tmp_path)
    hang = Completed(("nvidia-smi",), None, timed_out=True, duration_s=8.0)
    runner = ArgvRunner(lambda argv: hang)
    nv = probe_nvidia(runner, environ, **roots)
    assert nv.gpus == () and len(runner.calls) == 1
    for table in (hang, Completed(("nvidia-smi",), 9, "NVIDIA-SMI has failed because it couldn't communicate")):
        base = captured_only("nvidia-smi-2xV100.txt")
        nv = probe_nvidia(ArgvRunner(lambda argv, t=table: t if argv[1:] == () else base(argv)), environ, **roots)
        assert nv.gpus == () and not nv.has_driver


# ------------------------------------------------------------------------------------- NVML


def nvml_module(**overrides):
    """SYNTHETIC stand-in pynvml (H100 values from probe.json); overrides replace single calls."""
    mod = types.SimpleNamespace()
    for name in dir(pynvml):
        if name.startswith("NVML_") or name.startswith("NVMLError"):
            setattr(mod, name, getattr(pynvml, name))
    mod.nvmlInit = lambda: None
    mod.nvmlShutdown = lambda: None
    mod.nvmlSystemGetDriverVersion = lambda: "580.159.04"
    mod.nvmlSystemGetCudaDriverVersion_v2 = lambda: 13000
    mod.nvmlDeviceGetCount = lambda: 1
    mod.nvmlDeviceGetHandleByIndex = lambda i: ("gpu", i)
    mod.nvmlDeviceGetName = lambda h: "NVIDIA H100 80GB HBM3"
    mod.nvmlDeviceGetUUID = lambda h: "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6"
    mod.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=85520809984)
    mod.nvmlDeviceGetCudaComputeCapability = lambda h: (9, 0)
    mod.nvmlDeviceGetPciInfo = lambda h: types.SimpleNamespace(busId="00000000:00:06.0")
    for k, v in overrides.items():
        setattr(mod, k, v)
    return mod


def not_supported(*args):
    raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)


def test_one_failing_nvml_call_never_drops_the_rest():
    mod = nvml_module(nvmlDeviceGetCudaComputeCapability=not_supported, nvmlDeviceGetMemoryInfo=not_supported,
                      nvmlDeviceGetMigMode=not_supported, nvmlDeviceGetVirtualizationMode=not_supported)
    driver, cuda, gpus, why, mismatch = probe_nvml(lambda: mod)
    assert (driver, cuda, why, mismatch) == ("580.159.04", "13.0", None, False)
    (g,) = gpus
    assert g.name == "NVIDIA H100 80GB HBM3" and g.uuid and g.pci_bus_id == "00000000:00:06.0"
    assert g.memory_total_mib is None and g.compute_capability is None and g.mig_mode is None
    (filled,) = fill_compute_capability(gpus)
    assert (filled.compute_capability, filled.compute_capability_source) == ("9.0", "table:H100")


def test_nvml_reports_mig_instances_and_vgpu():
    migs = {0: ("mig", 0), 2: ("mig", 2)}  # slot 1 is empty (NVML raises NOT_FOUND)

    def mig_handle(h, j):
        if j not in migs:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_FOUND)
        return migs[j]

    mod = nvml_module(
        nvmlDeviceGetMigMode=lambda h: [1, 1],
        nvmlDeviceGetMaxMigDeviceCount=lambda h: 3,
        nvmlDeviceGetMigDeviceHandleByIndex=mig_handle,
        nvmlDeviceGetName=lambda h: "NVIDIA H100 80GB HBM3 MIG 1g.10gb" if h[0] == "mig" else "NVIDIA H100 80GB HBM3",
        nvmlDeviceGetUUID=lambda h: f"MIG-{h[1]}" if h[0] == "mig" else "GPU-1",
        nvmlDeviceGetVirtualizationMode=lambda h: 2,
    )
    _, _, (g,), _, _ = probe_nvml(lambda: mod)
    assert g.mig_mode is True and g.virtualization == "vgpu"
    assert g.mig_devices == ("NVIDIA H100 80GB HBM3 MIG 1g.10gb (MIG-0, 81559 MiB)",
                             "NVIDIA H100 80GB HBM3 MIG 1g.10gb (MIG-2, 81559 MiB)")
    _, _, (plain,), _, _ = probe_nvml(lambda: nvml_module(nvmlDeviceGetMigMode=lambda h: [0, 0]))
    assert plain.mig_mode is False and plain.mig_devices == () and plain.compute_capability_source == "nvml"


@pytest.mark.parametrize("q", [
    Completed(("nvidia-smi", "-q"), None, timed_out=True, duration_s=8.0),
    Completed(("nvidia-smi", "-q"), 0, "\x00\xff<html>502</html>\nGPU zz\n"),
    Completed(("nvidia-smi", "-q"), 9, "", "NVIDIA-SMI has failed"),
    Completed(("nvidia-smi", "-q"), None, error="not found"),
])
def test_smi_q_faults_keep_the_gpu(tmp_path, q):
    environ, roots = smi_dir(tmp_path)

    def answer(argv):
        return q if argv[1:] == ("-q",) else driver470(argv)

    nv = probe_nvidia(ArgvRunner(answer), environ, **roots)
    (g,) = nv.gpus
    assert g.compute_capability == "7.0" and g.virtualization is None and nv.cuda == "11.4"


@pytest.mark.parametrize("query", [
    Completed(("nvidia-smi",), None, timed_out=True, duration_s=8.0),
    Completed(("nvidia-smi",), 0, "\x00\xff garbage, , ,\n"),
    Completed(("nvidia-smi",), 2, 'Field "compute_cap" is not a valid field to query.\n'),
])
def test_query_faults_do_not_invent_gpus(tmp_path, query):
    """hang, garbage, and a refusal that persists on every retry (SYNTHETIC behaviour)."""
    environ, roots = smi_dir(tmp_path)
    nv = probe_nvidia(ArgvRunner(lambda argv: query), environ, **roots)
    assert nv.gpus == () and not nv.has_driver and nv.reasons
