"""A sweep of the pure resolver over the shipped matrix (issue 8): Python 3.6-3.15 x 15 drivers (incl. none)
x 5 GPU generations on Linux and Windows x86_64, plus macOS (arm64 and Intel) and Linux aarch64.

For every case the pick is a verified row; it has a wheel for that Python on that OS and CPU architecture
(per wheels.json for what the default index publishes: CPU, macOS, aarch64 and each OS's default-index
build); a CUDA pick is a variant the driver runs with kernels covering the GPU. A CPU pick on a machine
with a driver says why. NoCompatibleBuild only where no verified release has a wheel for that
Python/OS/arch at all (an oracle written from the data, not from the resolver). Pure: no subprocess.
"""
from __future__ import annotations

import pytest
from packaging.version import Version

from envcheck.matrix import CUDA_WHEEL_MIN_MIB, WHEEL_PLATFORM, gpu_coverage, load_matrix
from envcheck.resolve import NoCompatibleBuild, ResolveRequest, driver_floor_for, resolve

PYTHONS = [f"3.{m}" for m in range(6, 16)]
DRIVERS = [None, "418.39", "440.33", "450.80.02", "455.32", "460.32.03", "470.57.02", "495.29.05", "510.47.03",
           "525.60.13", "535.104.05", "550.54.14", "560.35.03", "570.124.06", "580.65.06"]
GPUS = ["6.1", "7.0", "8.6", "9.0", "12.0"]  # Pascal, Volta, Ampere, Hopper, Blackwell (consumer)


@pytest.fixture(scope="module")
def matrix():
    m = load_matrix()
    assert m.wheels is not None
    return m


def _has_any(matrix, python, os_name, arch) -> bool:
    """Oracle: some verified row lists the Python for the OS and the index has a wheel for the arch
    (Linux aarch64: a CPU-sized default-index wheel; aarch64 CUDA builds are picked only with a driver,
    and a case with a driver that gets none of them falls back to the CPU build)."""
    platform = WHEEL_PLATFORM[(os_name, arch)]
    if platform is None:
        return False
    for rel in matrix.releases:
        if not rel.verified or python not in rel.pythons(os_name):
            continue
        if arch == "x86_64" and os_name != "macos":
            return True
        if matrix.wheels.has_wheel("torch", rel.torch, platform, python):
            facts = matrix.wheels.packages["torch"].releases[rel.torch]
            if os_name == "linux" and facts.size_mib.get(platform, 0) >= CUDA_WHEEL_MIN_MIB:
                continue
            return True
    return False


def _check(matrix, python, os_name, arch, driver, cc):
    req = ResolveRequest(python=python, os=os_name, arch=arch, driver=Version(driver) if driver else None,
                         driver_text=driver, gpu_ccs=(cc,) if cc else ())
    case = (python, os_name, arch, driver, cc)
    try:
        res = resolve(req, matrix)
    except NoCompatibleBuild:
        assert not _has_any(matrix, python, os_name, arch), case
        return "none"
    rec = res.recommendation
    rel, variant = rec.release, rec.variant
    assert rel.verified, case
    assert python in rel.pythons(os_name), case
    assert variant.name in rel.variants_for(os_name), case
    platform = WHEEL_PLATFORM[(os_name, arch)]
    from_default_index = variant.kind == "cpu" and (os_name == "macos" or arch == "aarch64") or \
        variant.name == rel.default_index.get(os_name)
    if from_default_index:
        assert matrix.wheels.has_wheel("torch", rel.torch, platform, python), case
    if variant.kind == "cuda":
        assert driver is not None, case
        if arch == "aarch64":
            # a recorded Linux aarch64 build of this variant, and an aarch64 wheel for this Python on the index
            assert os_name == "linux" and variant.aarch64_for(rel.version) is not None, case
            assert matrix.wheels.has_wheel("torch", rel.torch, platform, python), case
        else:
            assert arch == "x86_64", case
        floor = driver_floor_for(variant, os_name, strict=False)
        assert floor is not None and Version(driver) >= Version(floor), case
        covered, _, _, coverage = gpu_coverage(variant, rel, req.gpu_ccs, matrix, "aarch64" if arch == "aarch64" else "x86_64")
        assert covered and coverage in ("sass", "ptx"), case  # a recorded kernel list covers the GPU
    else:
        assert variant.kind == "cpu", case
        if driver is not None and os_name != "macos":
            # the newest CPU build, with the reason no CUDA build was chosen
            assert any("CPU build" in r or "the CPU build" in r for r in rec.reasons), case
    return variant.kind


@pytest.mark.parametrize("os_name", ["linux", "windows"])
def test_sweep_x86_64(matrix, os_name):
    kinds = {"cuda": 0, "cpu": 0, "none": 0}
    for python in PYTHONS:
        for driver in DRIVERS:
            for cc in GPUS:
                kinds[_check(matrix, python, os_name, "x86_64", driver, cc)] += 1
    assert kinds["cuda"] and kinds["cpu"] and kinds["none"], kinds  # the sweep exercises every outcome


def test_sweep_macos_both_arches(matrix):
    picks = {}
    for arch in ("aarch64", "x86_64"):
        for python in PYTHONS:
            outcome = _check(matrix, python, "macos", arch, None, None)
            if outcome != "none":
                picks[(arch, python)] = resolve(ResolveRequest(python=python, os="macos", arch=arch), matrix).recommendation.torch
    assert Version(picks[("x86_64", "3.12")]) < Version("2.3")  # the last Intel release
    assert ("aarch64", "3.7") in picks and ("aarch64", "3.6") not in picks  # arm64 wheels from 1.12 (3.7), never 3.6


def test_sweep_linux_aarch64(matrix):
    """Linux aarch64 (Grace Hopper, GB200, DGX Spark, cloud ARM): CUDA builds where cuda_variants.json
    records an aarch64 build whose kernel list covers the GPU, else the CPU build (or none)."""
    kinds = {"cuda": 0, "cpu": 0, "none": 0}
    for python in PYTHONS:
        for driver in DRIVERS:
            for cc in GPUS:
                outcome = _check(matrix, python, "linux", "aarch64", driver, cc)
                kinds[outcome] += 1
                if driver is None:
                    assert outcome in ("cpu", "none")
    assert kinds["cuda"] and kinds["cpu"] and kinds["none"], kinds


def test_sweep_windows_on_arm_is_none(matrix):
    for python in PYTHONS:
        assert _check(matrix, python, "windows", "aarch64", "580.65.06", "8.6") == "none"
