"""diagnose(): facts -> findings, as a table. Driver floors are passed in (a small table here, the
compatibility matrix in the real command), so these tests need no configs."""
from __future__ import annotations

import pytest
from packaging.version import Version

from envcheck.diagnose import ArchPrediction, DoctorFacts, arch_supported, diagnose
from envcheck.facts import GpuInfo, NvidiaFacts, Source
from envcheck.results import Severity

H100 = GpuInfo(0, "NVIDIA H100 80GB HBM3", "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6", 81559, "9.0", "00000000:00:06.0")
GPU_HOST = NvidiaFacts("580.159.04", "13.0", Source.NVML, (H100,))
OLD_DRIVER = NvidiaFacts("470.57.02", "11.4", Source.NVML, (H100,))
R535 = NvidiaFacts("535.104.05", "12.2", Source.NVML, (H100,))
NO_GPU = NvidiaFacts(reasons=("NVML library (libnvidia-ml.so.1) not found",))
PCI_ONLY = NvidiaFacts(reasons=("NVIDIA driver not loaded",), pci_devices=("0000:00:06.0",))
MISMATCH = NvidiaFacts("580.159.04", None, Source.SYSFS, reasons=("driver/library version mismatch",), mismatch=True)

# Linux minimum drivers with minor-version compatibility (test data, not the shipped matrix).
FLOORS = {"11.8": "450.80.02", "12.1": "525.60.13", "12.4": "525.60.13", "12.6": "525.60.13", "13.0": "580.65.06"}


def floor(cuda: str, os_name: str):
    return Version(FLOORS[cuda]) if cuda in FLOORS else None


def facts(nv=GPU_HOST, **kw) -> DoctorFacts:
    base = dict(nvidia=nv, python="/env/bin/python", torch_installed=True, torch_version="2.11.0+cu130",
                torch_cuda="13.0", dev_shm_bytes=64 << 30)
    base.update(kw)
    return DoctorFacts(**base)


VIS_EMPTY = {"raw": "", "is_set": True, "visible": [], "hides_all": True, "out_of_range": [], "stop_reason": "empty value"}
VIS_SEVEN = {"raw": "7", "is_set": True, "visible": [], "hides_all": True, "out_of_range": [7], "stop_reason": "ordinal 7"}
VIS_PART = {"raw": "0,7", "is_set": True, "visible": [0], "hides_all": False, "out_of_range": [7], "stop_reason": "ordinal 7"}
DEEP_OK = {"ok": True, "is_available": True, "device_count": 1, "arch_list": ["sm_75", "sm_80", "sm_86", "sm_90"], "devices": []}
DEEP_OLD = {"ok": True, "is_available": True, "device_count": 1, "arch_list": ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86"],
            "devices": []}
DEEP_UNAVAIL = {"ok": True, "is_available": False, "device_count": 0, "arch_list": ["sm_90"], "devices": [],
                "warnings": ["CUDA initialization: The NVIDIA driver on your system is too old"]}
STALE = {"name": "old-env", "display_name": "Old", "interpreter": "/gone/bin/python", "interpreter_exists": False}
FINE = {"name": "python3", "display_name": "Python 3", "interpreter": "/env/bin/python", "interpreter_exists": True}


@pytest.mark.parametrize(
    "case, f, expected",
    [
        ("healthy H100", facts(), []),
        ("cpu build on gpu host", facts(torch_version="2.13.0+cpu", torch_cuda=None),
         [("torch-cpu-build-on-gpu-host", Severity.ERROR)]),
        ("cpu build on cpu host", facts(NO_GPU, torch_version="2.13.0+cpu", torch_cuda=None),
         [("no-nvidia-driver", Severity.INFO)]),
        ("gpu on pci but no driver", facts(PCI_ONLY, torch_cuda=None), [("no-nvidia-driver", Severity.ERROR)]),
        ("driver below floor", facts(OLD_DRIVER, torch_version="2.5.1+cu121", torch_cuda="12.1"),
         [("driver-too-old-for-torch-cuda", Severity.ERROR)]),
        ("driver 535 runs cu126 via minor compat", facts(R535, torch_version="2.6.0+cu126", torch_cuda="12.6"),
         [("driver-cuda-older-than-torch-cuda", Severity.INFO)]),
        ("driver 535 cannot run cu130", facts(R535, torch_cuda="13.0"), [("driver-too-old-for-torch-cuda", Severity.ERROR)]),
        ("torch missing", facts(torch_installed=False, torch_version=None, torch_cuda=None),
         [("torch-not-installed", Severity.ERROR)]),
        ("interpreter could not be inspected", facts(python_ok=False, python_reason="timed out", torch_installed=None,
                                                     torch_cuda=None), [("python-inspect-failed", Severity.ERROR)]),
        ("mismatch", facts(MISMATCH), [("nvml-driver-library-mismatch", Severity.ERROR)]),
        ("typo", facts(typos=(("CUDA_VISIBLE_DEVICE", "1", "CUDA_VISIBLE_DEVICES"),)),
         [("cuda-visible-devices-typo", Severity.WARNING)]),
        ("hides all", facts(visible=VIS_EMPTY), [("cuda-visible-devices-hides-all", Severity.WARNING)]),
        ("out of range, nothing left", facts(visible=VIS_SEVEN), [("cuda-visible-devices-out-of-range", Severity.ERROR)]),
        ("out of range, some left", facts(visible=VIS_PART), [("cuda-visible-devices-out-of-range", Severity.WARNING)]),
        ("visible set but no GPUs: nothing to say", facts(NO_GPU, visible=VIS_EMPTY, torch_cuda=None),
         [("no-nvidia-driver", Severity.INFO)]),
        ("pynvml shim", facts(distributions={"pynvml": "11.5.0", "nvidia-ml-py": "12.535.133"}),
         [("pynvml-deprecated-shim", Severity.WARNING)]),
        ("nvidia-ml-py alone is fine", facts(distributions={"nvidia-ml-py": "13.610.43"}), []),
        ("stale kernel", facts(kernels=(STALE, FINE)), [("stale-jupyter-kernel", Severity.ERROR)]),
        ("bare python3.99 not on PATH is stale (kernel check agrees)",
         facts(kernels=({"name": "py399", "interpreter": "python3.99", "interpreter_exists": False},)),
         [("stale-jupyter-kernel", Severity.ERROR)]),
        ("bare python in argv is never stale", facts(kernels=({"name": "python3", "interpreter": "python",
                                                                "interpreter_exists": False},)), []),
        ("small shm", facts(dev_shm_bytes=64 << 20), [("small-dev-shm", Severity.WARNING)]),
        ("shm unknown", facts(dev_shm_bytes=None), []),
        ("deep: arch present", facts(deep=DEEP_OK), []),
        ("deep: arch missing", facts(deep=DEEP_OLD), [("gpu-arch-not-in-torch-build", Severity.ERROR)]),
        ("deep: unavailable", facts(deep=DEEP_UNAVAIL), [("torch-cuda-unavailable", Severity.ERROR)]),
        ("deep: unavailable because hidden", facts(deep=DEEP_UNAVAIL, visible=VIS_EMPTY),
         [("cuda-visible-devices-hides-all", Severity.WARNING)]),
        ("deep: import failed", facts(deep={"ok": False, "reason": "import torch failed: OSError: libcudnn.so.9"}),
         [("torch-import-failed", Severity.ERROR)]),
        ("override on a build host", facts(NvidiaFacts("470.57.02", "11.4", Source.OVERRIDE, overrides=("ENVCHECK_OVERRIDE_DRIVER",)),
                                           torch_cuda="12.1"), [("driver-too-old-for-torch-cuda", Severity.ERROR)]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_diagnose_table(case, f, expected):
    got = [(x.code, x.severity) for x in diagnose(f, floor)]
    assert got == expected, case


def test_errors_come_first_and_every_finding_has_a_fix():
    f = facts(OLD_DRIVER, torch_cuda="12.1", dev_shm_bytes=1 << 20, typos=(("CUDA_VISBLE_DEVICES", "0", "CUDA_VISIBLE_DEVICES"),),
              distributions={"pynvml": "11.5.0"})
    found = diagnose(f, floor)
    assert found[0].severity == Severity.ERROR
    assert [x.severity for x in found] == sorted((x.severity for x in found), key=["error", "warning", "info"].index)
    assert all(x.fix and x.message for x in found)


def test_without_floors_compares_driver_cuda():
    f = facts(OLD_DRIVER, torch_cuda="12.1")
    assert [x.code for x in diagnose(f, None)] == ["driver-too-old-for-torch-cuda"]
    assert "11.4" in diagnose(f, None)[0].message


def test_floor_callable_that_raises_falls_back():
    def broken(cuda, os_name):
        raise KeyError(cuda)

    assert [x.code for x in diagnose(facts(OLD_DRIVER, torch_cuda="12.1"), broken)] == ["driver-too-old-for-torch-cuda"]


def test_message_names_the_numbers():
    msg = diagnose(facts(OLD_DRIVER, torch_cuda="12.1"), floor)[0].message
    assert "12.1" in msg and "525.60.13" in msg and "470.57.02" in msg


@pytest.mark.parametrize(
    "cc, arch, ok",
    [
        ("9.0", ["sm_90"], True),
        ("8.6", ["sm_80"], True),  # same major, later minor runs the sm_80 cubin
        ("8.0", ["sm_86"], False),
        ("9.0", ["sm_80", "compute_80"], True),  # PTX JIT
        ("12.0", ["sm_90", "sm_100"], False),
        ("12.0", ["sm_120"], True),
        ("9.0", ["sm_90a"], True),
        ("10.0", ["sm_90a"], False),
        ("3.7", ["sm_50", "sm_60"], False),
        ("unknown", ["sm_50"], True),
    ],
)
def test_arch_supported(cc, arch, ok):
    assert arch_supported(cc, arch) is ok


# --- gpu-arch-not-in-torch-build predicted from the matrix (no --deep) ---------------------------
# The verdicts are test data here (commands/doctor.py computes them with matrix.gpu_coverage).

CU117 = ("sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86")
MISSED = ArchPrediction(0, "NVIDIA H100 80GB HBM3", "9.0", False, "1.13.1+cu117", "1.13.1", "cu117", CU117,
                        fix="`envcheck install --python /env/bin/python` picks torch 2.13.0 with cu130")
PRESUMED = ArchPrediction(0, "NVIDIA H100 80GB HBM3", "9.0", False, "1.13.1+cu117", "1.13.1", "cu117", CU117,
                          presumed_from="1.13.0")
TOOLKIT = ArchPrediction(0, "NVIDIA H100 80GB HBM3", "9.0", False, "1.10.0+cu111", "1.10.0", "cu111", (),
                         toolkit_reason="CUDA 11.1 predates sm_90 (first supported by CUDA 11.8): its wheels cannot "
                                        "carry kernels for this GPU")
COVERED = ArchPrediction(0, "NVIDIA H100 80GB HBM3", "9.0", True, "2.11.0+cu130", "2.11.0", "cu130",
                         ("sm_75", "sm_80", "sm_86", "sm_90", "sm_100", "sm_120", "compute_120"))
DEEP_EMPTY = {"ok": True, "is_available": False, "device_count": 0, "arch_list": [], "devices": []}
OLD_TORCH = dict(torch_version="1.13.1+cu117", torch_cuda="11.7")
ARCH = "gpu-arch-not-in-torch-build"


@pytest.mark.parametrize(
    "case, f, expected",
    [
        ("predicted: not covered", facts(arch_predictions=(MISSED,), **OLD_TORCH), [ARCH]),
        ("predicted: presumed list, not covered", facts(arch_predictions=(PRESUMED,), **OLD_TORCH), [ARCH]),
        ("predicted: arch_cuda rules it out", facts(arch_predictions=(TOOLKIT,), torch_version="1.10.0+cu111",
                                                    torch_cuda="11.1"), [ARCH]),
        ("predicted: covered", facts(arch_predictions=(COVERED,)), []),
        ("unknown coverage: no verdict, no finding", facts(arch_predictions=(), **OLD_TORCH), []),
        ("deep list covers it: the real list wins", facts(arch_predictions=(MISSED,), deep=DEEP_OK, **OLD_TORCH), []),
        ("deep list misses it: one finding, not two", facts(arch_predictions=(MISSED,), deep=DEEP_OLD, **OLD_TORCH),
         [ARCH]),
        ("deep gave no list (CUDA unavailable): the prediction stands",
         facts(arch_predictions=(MISSED,), deep=DEEP_EMPTY, **OLD_TORCH), [ARCH, "torch-cuda-unavailable"]),
        ("deep import failed: the prediction stands",
         facts(arch_predictions=(MISSED,), deep={"ok": False, "reason": "boom"}, **OLD_TORCH), [ARCH, "torch-import-failed"]),
        ("torch not installed: nothing to predict", facts(arch_predictions=(MISSED,), torch_installed=False,
                                                          torch_version=None, torch_cuda=None), ["torch-not-installed"]),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_predicted_arch_table(case, f, expected):
    assert [x.code for x in diagnose(f, floor)] == expected, case


def test_predicted_arch_message_says_where_it_comes_from():
    (found,) = diagnose(facts(arch_predictions=(MISSED,), **OLD_TORCH), floor)
    assert found.severity == Severity.ERROR
    assert "compute capability 9.0" in found.message and "torch 1.13.1+cu117" in found.message
    assert "sm_37, sm_50, sm_60, sm_70, sm_75, sm_80, sm_86" in found.message
    assert "Predicted from envcheck's compatibility matrix (recorded kernel list), not read from torch" in found.message
    assert found.fix == MISSED.fix
    (presumed,) = diagnose(facts(arch_predictions=(PRESUMED,), **OLD_TORCH), floor)
    assert "presumed from torch 1.13.0's" in presumed.message
    (toolkit,) = diagnose(facts(arch_predictions=(TOOLKIT,), torch_version="1.10.0+cu111", torch_cuda="11.1"), floor)
    assert "arch_cuda" in toolkit.message and "CUDA 11.1 predates sm_90" in toolkit.message
    assert "envcheck install" in toolkit.fix  # the generic fix when no covering command was computed


def test_deep_list_wins_over_prediction_message():
    (found,) = diagnose(facts(arch_predictions=(MISSED,), deep=DEEP_OLD, **OLD_TORCH), floor)
    assert "Predicted" not in found.message and "sm_86" in found.message
