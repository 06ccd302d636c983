"""Linux aarch64 CUDA builds and the ROCm gfx lists of torch 2.5-2.9 (configs/cuda_variants.json
"aarch64", configs/rocm_arches.json): what the resolver picks from them, table-driven over the shipped
matrix. Pure (no subprocess).

The NVIDIA inputs are the real H100 capture's (tests/fixtures/h100-driver580/: driver 580.159.04, CUDA
13.0, compute capability 9.0) and NVIDIA's driver floors; putting that GPU on an aarch64 host (a Grace
Hopper reports the same Hopper cc 9.0) is a synthetic combination, as are the other driver/cc pairs.
"""
from __future__ import annotations

import pytest
from packaging.version import Version

from envcheck.commands.doctor import cuda_install_fix
from envcheck.decision import decide
from envcheck.facts import GpuInfo, NvidiaFacts, Source
from envcheck.matrix import load_matrix
from envcheck.plans.install import plan_pip_install, shell_join
from envcheck.resolve import NoCompatibleBuild, ResolveRequest, resolve

GH200_LIKE = NvidiaFacts(driver_version="580.159.04", cuda="13.0", source=Source.NVIDIA_SMI,
                         gpus=(GpuInfo(0, "NVIDIA H100 80GB HBM3", compute_capability="9.0"),))


@pytest.fixture(scope="module")
def matrix():
    return load_matrix()


def _aarch64(matrix, *, driver=None, cc=None, torch=None, python="3.12"):
    return resolve(ResolveRequest(python=python, os="linux", arch="aarch64",
                                  driver=Version(driver) if driver else None, driver_text=driver,
                                  gpu_ccs=(cc,) if cc else (), torch_spec=torch), matrix)


# (driver, compute capability, --torch) -> (torch, variant)
AARCH64_CASES = [
    ("580.159.04", "9.0", None, "2.14.1", "cu132"),   # GH200 on an R580 driver: the newest CUDA
    ("550.54.14", "9.0", None, "2.14.1", "cu126"),    # 12.x driver: the 12.x build of the same release
    ("550.54.14", "12.1", None, "2.11.0", "cu128"),   # DGX Spark GB10 on 12.x: cu126 aarch64 has no sm_12x
    ("580.159.04", "12.1", None, "2.14.1", "cu132"),  # sm_121 runs the sm_120 kernels
    ("580.159.04", "9.0", "2.9", "2.9.1", "cu130"),
    ("580.159.04", "10.0", "2.10", "2.10.0", "cu130"),
    ("470.57.02", "9.0", None, "2.10.0", "cpu"),      # no CUDA 12/13 driver: the newest CPU-sized aarch64 wheel
    ("580.159.04", "7.0", None, "2.10.0", "cpu"),     # no aarch64 list carries Volta
    ("580.159.04", "9.0", "2.8", "2.8.0", "cpu"),     # 2.8's cu129 aarch64 build: list not sourced
    ("580.159.04", "9.0", "2.7", "2.7.1", "cpu"),
]


@pytest.mark.parametrize("driver, cc, torch, want_torch, want_variant", AARCH64_CASES)
def test_linux_aarch64_pick(matrix, driver, cc, torch, want_torch, want_variant):
    rec = _aarch64(matrix, driver=driver, cc=cc, torch=torch).recommendation
    assert (rec.torch, rec.variant.name, rec.arch) == (want_torch, want_variant, "aarch64")
    pip = shell_join(plan_pip_install(rec, "python"))
    if want_variant == "cpu":
        assert any("no CUDA build of any torch release" in r for r in rec.reasons), rec.reasons
    else:
        # always the PyTorch index of the variant, never the default index (whose aarch64 CUDA is unrecorded)
        assert pip.endswith(f"--index-url https://download.pytorch.org/whl/{want_variant}")
        assert any(r.startswith(f"Linux aarch64: the {want_variant} build of torch {want_torch}") for r in rec.reasons)


def test_the_same_machine_on_x86_64_is_unchanged(matrix):
    rec = resolve(ResolveRequest(python="3.12", os="linux", driver="580.159.04", gpu_ccs=("9.0",)), matrix).recommendation
    assert (rec.torch, rec.variant.name, rec.arch) == ("2.14.1", "cu132", "x86_64")
    assert not any("aarch64" in r for r in rec.reasons)


def test_unrecorded_aarch64_builds_keep_todays_reason(matrix):
    res = _aarch64(matrix, driver="580.159.04", cc="9.0", torch="2.8")
    why = {r.variant: (r.code, r.reason) for r in res.rejected if r.torch == "2.8.0" and r.variant}
    assert why["cu129"] == ("arch", "cu129: no Linux aarch64 build of it is recorded in envcheck's matrix")
    assert why["rocm6.4"][0] == "arch" and why["xpu"][0] == "arch"
    # 2.15.0: no source covers its aarch64 builds, and its default-index aarch64 wheels are CUDA builds
    with pytest.raises(NoCompatibleBuild):
        _aarch64(matrix, driver="580.159.04", cc="9.0", torch="2.15.0")


def test_aarch64_kernel_lists_not_x86_64s(matrix):
    # cu126 on x86_64 carries sm_50-sm_90, on aarch64 sm_80 and sm_90 only: a Turing card gets no cu126
    res = _aarch64(matrix, driver="550.54.14", cc="7.5")
    assert res.recommendation.variant.name == "cpu"
    why = {(r.torch, r.variant): r.reason for r in res.rejected}
    assert why[("2.14.1", "cu126")] == "cu126: no kernels for GPU sm_75 (torch 2.14.1 cu126 wheels carry sm_80, sm_90)"


def test_recorded_aarch64_builds_have_wheels_and_rows(matrix):
    """Every recorded aarch64 range admits only releases that list the variant for Linux and have
    linux-aarch64 wheels on the index (the Python tags the resolver requires)."""
    seen = 0
    for variant in matrix.variants.values():
        for rng in variant.aarch64:
            assert rng.source, variant.name
            for rel in matrix.releases:
                if rng.torch.contains(rel.version):
                    seen += 1
                    assert variant.name in rel.variants_for("linux"), (variant.name, rel.torch)
                    assert matrix.wheels.packages["torch"].releases[rel.torch].wheels.get("linux-aarch64"), rel.torch
    assert seen >= 15


def test_doctors_fix_names_installs_aarch64_pick(matrix):
    fix = cuda_install_fix(matrix, python_version="3.12.1", python_path="/envs/gh/bin/python", nv=GH200_LIKE,
                           environ={}, machine="aarch64")
    same = decide(python="3.12", driver="580.159.04", cuda="13.0", gpu_cc=("9.0",), matrix=matrix,
                  machine="aarch64", os_name="linux").recommendation
    assert (same.torch, same.variant.name, same.arch) == ("2.14.1", "cu132", "aarch64")
    assert f"picks torch {same.torch} with {same.variant.name}" in fix
    assert "--index-url https://download.pytorch.org/whl/cu132" in fix


# --- ROCm: torch 2.5-2.9 (Python 3.10 has wheels on all of them) ---------------------------------

# (--torch, gfx target) -> (torch, variant); "cpu": no recorded list of those releases carries the target
ROCM_CASES = [
    ("2.5", "gfx90a", "2.5.1", "rocm6.2"),     # both 2.5 variants carry it: the newer ROCm
    ("2.5", "gfx942", "2.5.1", "rocm6.2"),
    ("2.5", "gfx1101", "2.5.1", "cpu"),        # gfx1101 joined the list in Dec 2024
    ("2.6", "gfx1100", "2.6.0", "rocm6.2.4"),
    ("2.7", "gfx1101", "2.7.1", "rocm6.3"),
    ("2.7", "gfx1102", "2.7.1", "rocm6.3"),
    ("2.7", "gfx1201", "2.7.1", "cpu"),        # not recorded for 2.7 (a lower bound)
    ("2.9", "gfx1201", "2.9.1", "rocm6.4"),
    ("2.8", "gfx942", "2.8.0", "rocm6.4"),
    ("2.9", "gfx950", "2.9.1", "cpu"),         # MI350: only ROCm 7 builds carry it
    (">=2.5,<2.10", "gfx1200", "2.9.1", "rocm6.4"),
    (">=2.5,<2.8", "gfx1101", "2.7.1", "rocm6.3"),
    (">=2.5,<2.10", "gfx90a", "2.9.1", "rocm6.4"),
    (">=2.5,<2.10", "gfx950", "2.9.1", "cpu"),
]


@pytest.mark.parametrize("torch, gfx, want_torch, want_variant", ROCM_CASES)
def test_rocm_newest_build_whose_list_covers_the_gpu(matrix, torch, gfx, want_torch, want_variant):
    rec = resolve(ResolveRequest(python="3.10", os="linux", gpu_gfx=(gfx,), torch_spec=torch), matrix).recommendation
    assert (rec.torch, rec.variant.name) == (want_torch, want_variant)
    if want_variant == "cpu":
        assert any(f"AMD GPU {gfx}" in r for r in rec.reasons)
    else:
        assert shell_join(plan_pip_install(rec, "python")).endswith(
            f"--index-url https://download.pytorch.org/whl/{want_variant}")


def test_every_rocm_variant_of_2_5_to_2_9_is_recorded(matrix):
    for rel in matrix.releases:
        if Version("2.5") <= rel.version < Version("2.10"):
            for v in rel.variants_for("linux"):
                if matrix.variants[v].kind == "rocm":
                    assert matrix.rocm_gfx_for(v, rel.torch) is not None, (rel.torch, v)


# --- doctor on a Linux aarch64 host: the aarch64 kernel lists, the same pick as install -------------

@pytest.mark.parametrize("version, cuda, cc, machine, verdict", [
    ("2.14.1+cu126", "12.6", "9.0", "aarch64", True),    # aarch64 cu126: sm_80, sm_90
    ("2.14.1+cu126", "12.6", "7.5", "aarch64", False),   # ... no Turing, which the x86_64 wheels carry
    ("2.14.1+cu126", "12.6", "7.5", "x86_64", True),
    ("2.14.1+cu130", "13.0", "12.1", "aarch64", True),   # DGX Spark: sm_121 runs sm_120
    ("2.8.0+cu129", "12.9", "9.0", "aarch64", None),     # no aarch64 list recorded for 2.8: no verdict
])
def test_doctor_predicts_with_the_hosts_kernel_list(matrix, monkeypatch, version, cuda, cc, machine, verdict):
    from envcheck.commands.doctor import predict_arch
    from envcheck.probes.torchinfo import TorchInfo, parse_local_suffix

    monkeypatch.setattr("envcheck.inputs.host_os", lambda: "linux")
    torch = TorchInfo(True, version, parse_local_suffix(version), cuda)
    got = predict_arch(matrix, torch, (GpuInfo(0, "GPU", compute_capability=cc),), machine=machine)
    if verdict is None:
        assert got == ()
    else:
        (p,) = got
        assert p.covered is verdict


def test_doctors_arch_fix_resolves_for_aarch64(matrix, monkeypatch):
    from envcheck.commands.doctor import covering_install

    monkeypatch.setattr("envcheck.inputs.host_os", lambda: "linux")
    fix = covering_install(matrix, matrix.release("2.14.1"), ("7.5",), python_version="3.12", python_path="p",
                           nv=GH200_LIKE, machine="aarch64")
    assert fix is None  # no aarch64 build carries Turing kernels (x86_64's cu126 does)
    fix = covering_install(matrix, matrix.release("2.14.1"), ("12.0",), python_version="3.12", python_path="p",
                           nv=GH200_LIKE, machine="aarch64")
    assert fix.startswith("`envcheck install --python p --torch 2.14.1` picks torch 2.14.1 with cu132")
