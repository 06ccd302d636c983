"""doctor's "install a CUDA build" fix names what `envcheck install` picks for that machine (issue 8 item 6):
the same decision (decision.decide, fed the NVIDIA facts doctor probed), the exact pip command for
the inspected interpreter. The NVIDIA facts are those of the real H100 capture
(tests/fixtures/h100-driver580/: driver 580.159.04, CUDA 13.0, compute capability 9.0), built by hand."""
from __future__ import annotations

import platform

from envcheck.commands.doctor import cuda_install_fix
from envcheck.decision import decide
from envcheck.diagnose import DoctorFacts, diagnose
from envcheck.facts import GpuInfo, NvidiaFacts, Source
from envcheck.matrix import load_matrix

H100 = NvidiaFacts(driver_version="580.159.04", cuda="13.0", source=Source.NVIDIA_SMI,
                   gpus=(GpuInfo(0, "NVIDIA H100 80GB HBM3", compute_capability="9.0"),))
OLD = NvidiaFacts(driver_version="384.81", cuda="9.0", source=Source.NVIDIA_SMI,
                  gpus=(GpuInfo(0, "Tesla V100-SXM2-16GB", compute_capability="7.0"),))


def test_the_fix_is_installs_pick_with_the_exact_command():
    matrix = load_matrix()
    fix = cuda_install_fix(matrix, python_version="3.12.1", python_path="/envs/a b/bin/python", nv=H100, environ={})
    same = decide(python="3.12", driver="580.159.04", cuda="13.0", gpu_cc=("9.0",), matrix=matrix,
                  machine=platform.machine()).recommendation
    assert same.variant.kind == "cuda"
    assert f"picks torch {same.torch} with {same.variant.name}" in fix
    assert f"'/envs/a b/bin/python' -m pip install torch=={same.torch}" in fix  # quoted for a copy-paste
    assert f"download.pytorch.org/whl/{same.variant.name}" in fix or same.release.default_index.get("linux") == same.variant.name


def test_no_cuda_build_runs_then_no_pick_is_named():
    assert cuda_install_fix(load_matrix(), python_version="3.12", python_path="/p", nv=OLD, environ={}) is None


def test_the_finding_carries_it_and_never_a_fixed_example():
    base = dict(nvidia=H100, python="/p", python_ok=True, torch_installed=True, torch_version="2.13.0+cpu",
                torch_cuda=None, dev_shm_bytes=64 << 30)
    with_pick = [f for f in diagnose(DoctorFacts(**base, cuda_install_fix="`X` picks torch 9 with cu999"))
                 if f.code == "torch-cpu-build-on-gpu-host"][0]
    assert "`X` picks torch 9 with cu999" in with_pick.fix
    generic = [f for f in diagnose(DoctorFacts(**base)) if f.code == "torch-cpu-build-on-gpu-host"][0]
    assert "cu126" not in generic.fix and "envcheck install" in generic.fix
