"""The resolver, table-driven over a small in-test matrix (independent of the shipped data's state).

The mini matrix copies the shape of the real one: one release per era (find-links 1.7.1,
extra-index-url 1.12.1/1.13.1, index-url 2.1.2/2.5.1/2.7.0, post-torchaudio 2.15.0), CUDA 9.2 to
13.0 with NVIDIA's native and minor-version-compatibility floors, and kernel lists in which cu128 and
cu130 drop Pascal and Volta (the uv issue where Pascal cards got cu128 wheels without kernels).
"""
from __future__ import annotations

import copy
import functools

import pytest
from packaging.version import Version

from envcheck.errors import ExitCode
from envcheck.matrix import build_matrix, kernel_coverage
from envcheck.resolve import NoCompatibleBuild, ResolveRequest, parse_torch_spec, resolve

SRC = {"t": {"title": "test data", "url": "https://example.invalid/t", "read": "2026-11-01"}}
ALL = ["linux", "windows", "macos"]


def _cuda(name, cuda, linux, windows, arches=()):
    row = {"variant": name, "kind": "cuda", "cuda": cuda, "driver": {}, "arches": [], "source": ["t"]}
    if linux:
        row["driver"]["linux"] = {"native": linux[0], "minor_compat": linux[1]}
    if windows:
        row["driver"]["windows"] = {"native": windows[0], "minor_compat": windows[1]}
    for spec, sm, ptx in arches:
        row["arches"].append({"torch": spec, "sm": sm, "ptx": ptx, "source": ["t"]})
    return row


OLD = ["3.7", "5.0", "6.0", "7.0", "7.5"]
AMPERE = ["3.7", "5.0", "6.0", "7.0", "7.5", "8.0", "8.6"]
HOPPER = ["5.0", "6.0", "7.0", "7.5", "8.0", "8.6", "9.0"]
BLACKWELL = ["7.5", "8.0", "8.6", "9.0", "10.0", "12.0"]

VARIANTS = [
    {"variant": "cpu", "kind": "cpu", "driver": None, "arches": [], "source": ["t"]},
    _cuda("cu92", "9.2", ("396.26", "396.26"), ("398.26", "398.26")),  # no arches: coverage unknown
    _cuda("cu102", "10.2", ("440.33", "440.33"), ("441.22", "441.22"), [(">=1.0", OLD, "7.5")]),
    _cuda("cu110", "11.0", ("450.36.06", "450.80.02"), ("451.22", "452.39"), [(">=1.7", OLD + ["8.0"], "8.0")]),
    _cuda("cu116", "11.6", ("510.39.01", "450.80.02"), ("511.23", "452.39"), [(">=1.12", AMPERE, "8.6")]),
    _cuda("cu117", "11.7", ("515.43.04", "450.80.02"), ("516.01", "452.39"), [(">=1.13", AMPERE, "8.6")]),
    _cuda("cu118", "11.8", ("520.61.05", "450.80.02"), ("520.06", "452.39"), [(">=2.0", AMPERE + ["9.0"], "9.0")]),
    _cuda("cu121", "12.1", ("530.30.02", "525.60.13"), ("531.14", "528.33"), [(">=2.0", HOPPER, "9.0")]),
    _cuda("cu124", "12.4", ("550.54.14", "525.60.13"), ("551.61", "528.33"), [(">=2.0", HOPPER, "9.0")]),
    _cuda("cu126", "12.6", ("560.28.03", "525.60.13"), ("560.76", "528.33"), [(">=2.6", HOPPER, "9.0")]),
    _cuda("cu128", "12.8", ("570.26", "525.60.13"), ("570.65", "528.33"), [(">=2.7", BLACKWELL, "12.0")]),
    _cuda("cu130", "13.0", ("580.65.06", "580.65.06"), ("580.88", "580.88"),
          [(">=2.9", ["7.5", "8.0", "8.6", "9.0", "10.0", "11.0", "12.0"], "12.0")]),
    {"variant": "rocm5.6", "kind": "rocm", "rocm": "5.6", "driver": None, "arches": [], "source": ["t"]},
    {"variant": "rocm6.2", "kind": "rocm", "rocm": "6.2", "driver": None, "arches": [], "source": ["t"]},
    _cuda("cu111", "11.1", ("455.23", "450.80.02"), ("456.38", "452.39")),  # no arches: coverage unknown
]

# CUDA toolkits per compute capability (shape of cuda_variants.json's arch_cuda; values as sourced there)
ARCH_CUDA = [
    {"cc": "3.0", "first_cuda": None, "last_cuda": "10.2", "source": ["t"]},
    {"cc": "3.7", "first_cuda": None, "last_cuda": "11.8", "source": ["t"]},
    {"cc": "6.1", "first_cuda": "8.0", "last_cuda": "12.9", "source": ["t"]},
    {"cc": "7.0", "first_cuda": "9.0", "last_cuda": "12.9", "source": ["t"]},
    {"cc": "7.5", "first_cuda": "10.0", "last_cuda": None, "source": ["t"]},
    {"cc": "8.6", "first_cuda": "11.1", "last_cuda": None, "source": ["t"]},
    {"cc": "9.0", "first_cuda": "11.8", "last_cuda": None, "source": ["t"]},
    {"cc": "12.0", "first_cuda": "12.8", "last_cuda": None, "source": ["t"]},
]


def _rel(torch, tv, ta, pys, variants, default, pip_style, conda):
    python = {os: list(p) for os, p in pys.items()}
    return {
        "torch": torch, "torchvision": tv, "torchaudio": ta, "python": python,
        "variants": variants, "default_index": default, "pip_style": pip_style, "conda": conda, "source": ["t"],
    }


def _py(lo, hi):
    return [f"3.{m}" for m in range(lo, hi + 1)]


RELEASES = [
    _rel("1.7.1", "0.8.2", "0.7.2", {os: _py(6, 9) for os in ALL},
         {"linux": ["cpu", "cu92", "cu102", "cu110"], "windows": ["cpu", "cu92", "cu102", "cu110"], "macos": ["cpu"]},
         {"linux": "cu102", "windows": "cpu", "macos": "cpu"}, "find-links",
         {"style": "cudatoolkit", "cuda": ["9.2", "10.1", "10.2", "11.0"], "cpu": True}),
    _rel("1.12.1", "0.13.1", "0.12.1", {os: _py(7, 10) for os in ALL},
         {"linux": ["cpu", "cu102", "cu116"], "windows": ["cpu", "cu116"], "macos": ["cpu"]},
         {"linux": "cu102", "windows": "cpu", "macos": "cpu"}, "extra-index-url",
         {"style": "cudatoolkit", "cuda": ["10.2", "11.6"], "cpu": True, "extra_channels": {"11.6": ["conda-forge"]}}),
    _rel("1.13.1", "0.14.1", "0.13.1", {os: _py(7, 10) for os in ALL},
         {"linux": ["cpu", "cu116", "cu117"], "windows": ["cpu", "cu116", "cu117"], "macos": ["cpu"]},
         {"linux": "cu117", "windows": "cpu", "macos": "cpu"}, "extra-index-url",
         {"style": "pytorch-cuda", "cuda": ["11.6", "11.7"], "cpu": True}),
    _rel("2.1.2", "0.16.2", "2.1.2", {"linux": _py(8, 11), "windows": [], "macos": _py(8, 11)},
         {"linux": ["cpu", "cu118", "cu121", "rocm5.6"], "macos": ["cpu"]},
         {"linux": "cu121", "macos": "cpu"}, "index-url",
         {"style": "pytorch-cuda", "cuda": ["11.8", "12.1"], "cpu": True}),
    _rel("2.5.1", "0.20.1", "2.5.1", {os: _py(9, 13) for os in ALL},
         {"linux": ["cpu", "cu118", "cu121", "cu124", "rocm6.2"], "windows": ["cpu", "cu118", "cu121", "cu124"], "macos": ["cpu"]},
         {"linux": "cu124", "windows": "cpu", "macos": "cpu"}, "index-url",
         {"style": "pytorch-cuda", "cuda": ["11.8", "12.1", "12.4"], "cpu": True}),
    _rel("2.7.0", "0.22.0", "2.7.0", {os: _py(9, 13) for os in ALL},
         {"linux": ["cpu", "cu118", "cu126", "cu128"], "windows": ["cpu", "cu118", "cu126", "cu128"], "macos": ["cpu"]},
         {"linux": "cu126", "windows": "cpu", "macos": "cpu"}, "index-url", None),
    _rel("2.15.0", "0.30.0", None, {os: _py(10, 14) for os in ALL},
         {"linux": ["cpu", "cu126", "cu128", "cu130"], "windows": ["cpu", "cu126", "cu128", "cu130"], "macos": ["cpu"]},
         {"linux": "cu128", "windows": "cpu", "macos": "cpu"}, "index-url", {"style": None}),
]

# Added by _toolkit_docs (not to RELEASES, whose size other tests count): cu111's kernel list is
# unknown, as in the shipped matrix, so the arch_cuda table decides.
REL_1_10_2 = _rel("1.10.2", "0.11.3", "0.10.2", {os: _py(7, 9) for os in ALL},
                  {"linux": ["cpu", "cu102", "cu111"], "windows": ["cpu", "cu102", "cu111"], "macos": ["cpu"]},
                  {"linux": "cu102", "windows": "cpu", "macos": "cpu"}, "find-links",
                  {"style": "cudatoolkit", "cuda": ["10.2", "11.3"], "cpu": True})

MIRRORS = [
    {"name": "tuna", "title": "Tsinghua TUNA", "country": "CN",
     "conda_channels": {"main": "https://mirrors.example.invalid/anaconda/pkgs/main",
                        "pytorch": "https://mirrors.example.invalid/anaconda/cloud/pytorch",
                        "conda-forge": "https://mirrors.example.invalid/anaconda/cloud/conda-forge", "nvidia": None},
     "pip_index": "https://mirrors.example.invalid/pypi/web/simple", "pytorch_wheels": None, "source": ["t"]},
    {"name": "wheels", "title": "With a wheel mirror", "country": "CN",
     "conda_channels": {}, "pip_index": "https://w.example.invalid/simple",
     "pytorch_wheels": "https://w.example.invalid/pytorch-wheels/", "source": ["t"]},
]


def mini_docs() -> dict:
    head = {"schema": 1, "checked": "2026-11-01", "sources": SRC}
    return {  # each document its own deep copy: tests mutate them
        "torch_releases.json": copy.deepcopy({**head, "newest_known": "2.15.0", "releases": RELEASES}),
        "cuda_variants.json": copy.deepcopy({**head, "arch_cuda": ARCH_CUDA, "variants": VARIANTS}),
        "mirrors.json": copy.deepcopy({**head, "mirrors": MIRRORS}),
    }


MATRIX = build_matrix(mini_docs())


def req(python="3.12", os="linux", driver=None, cuda=None, ccs=(), cpu=False, torch=None, strict=False):
    return ResolveRequest(
        python=python, os=os, driver=Version(driver) if driver else None, driver_text=driver,
        cuda=Version(cuda) if cuda else None, gpu_ccs=tuple(ccs), cpu_only=cpu, torch_spec=torch,
        strict_driver=strict,
    )


# --- choices ----------------------------------------------------------------------------------

CASES = [
    # id, request kwargs, expected (torch, variant)
    ("headline-py37-ampere", dict(python="3.7", driver="535.104.05", cuda="12.2", ccs=["8.6"]), ("1.13.1", "cu117")),
    ("py39-minor-compat-cu128", dict(python="3.9", driver="535.104.05", cuda="12.2", ccs=["8.6"]), ("2.7.0", "cu128")),
    ("py39-strict-native-only", dict(python="3.9", driver="535.104.05", cuda="12.2", ccs=["8.6"], strict=True), ("2.7.0", "cu118")),
    ("py312-535-cu130-needs-580", dict(driver="535.104.05", cuda="12.2", ccs=["8.6"]), ("2.15.0", "cu128")),
    ("pascal-61-skips-cu128", dict(driver="570.86.10", ccs=["6.1"]), ("2.15.0", "cu126")),
    ("volta-70-skips-cu128-cu130", dict(driver="580.65.06", ccs=["7.0"]), ("2.15.0", "cu126")),
    ("maxwell-52-runs-sm50", dict(driver="580.65.06", ccs=["5.2"]), ("2.15.0", "cu126")),
    ("maxwell-50-py37", dict(python="3.7", driver="535.104.05", ccs=["5.0"]), ("1.13.1", "cu117")),
    ("blackwell-100", dict(driver="580.65.06", cuda="13.0", ccs=["10.0"]), ("2.15.0", "cu130")),
    ("blackwell-120-driver-570", dict(driver="570.26", cuda="12.8", ccs=["12.0"]), ("2.15.0", "cu128")),
    ("blackwell-120-py37-ptx", dict(python="3.7", driver="580.65.06", ccs=["12.0"]), ("1.13.1", "cu117")),
    ("hopper-90-py310", dict(python="3.10", driver="550.54.14", ccs=["9.0"]), ("2.15.0", "cu128")),
    ("mixed-gpus-need-both", dict(driver="580.65.06", ccs=["8.6", "6.1"]), ("2.15.0", "cu126")),
    ("no-cc-known", dict(driver="580.65.06"), ("2.15.0", "cu130")),
    ("cuda-only-minor-compat", dict(cuda="12.2"), ("2.15.0", "cu128")),
    ("cuda-only-strict", dict(cuda="12.2", strict=True), ("2.7.0", "cu118")),
    # floor edges: 12.x minor-compat floor 525.60.13, 11.x 450.80.02, native cu121 530.30.02
    ("edge-525.60.13-cu121", dict(python="3.10", torch="2.1", driver="525.60.13"), ("2.1.2", "cu121")),
    ("edge-525.60.12-cu118", dict(python="3.10", torch="2.1", driver="525.60.12"), ("2.1.2", "cu118")),
    ("edge-strict-530.30.02", dict(python="3.10", torch="2.1", driver="530.30.02", strict=True), ("2.1.2", "cu121")),
    ("edge-strict-530.30.01", dict(python="3.10", torch="2.1", driver="530.30.01", strict=True), ("2.1.2", "cu118")),
    ("edge-450.80.02-cu118", dict(python="3.10", torch="2.1", driver="450.80.02"), ("2.1.2", "cu118")),
    ("edge-450.80.01-cpu", dict(python="3.10", torch="2.1", driver="450.80.01"), ("2.1.2", "cpu")),
    # CUDA 11.0: native 450.36.06 is below the 11.x compatibility floor and suffices
    ("cu110-native-below-compat", dict(python="3.8", torch="1.7", driver="450.36.06"), ("1.7.1", "cu110")),
    # CUDA 10.x has no minor-version compatibility: native 440.33 is required even by default
    ("cu102-native-440.33", dict(python="3.8", torch="1.7", driver="440.33"), ("1.7.1", "cu102")),
    ("cu102-440.32-falls-to-cu92", dict(python="3.8", torch="1.7", driver="440.32"), ("1.7.1", "cu92")),
    ("old-driver-418-picks-old-release", dict(python="3.8", driver="418.39"), ("1.7.1", "cu92")),
    # windows floors
    ("windows-528.33-cu124", dict(python="3.10", os="windows", torch="2.5", driver="528.33"), ("2.5.1", "cu124")),
    ("windows-528.32-cu118", dict(python="3.10", os="windows", torch="2.5", driver="528.32"), ("2.5.1", "cu118")),
    ("windows-strict-531.14", dict(python="3.10", os="windows", torch="2.5", driver="531.14", strict=True), ("2.5.1", "cu121")),
    ("windows-py37", dict(python="3.7", os="windows", driver="537.13", ccs=["8.9"]), ("1.13.1", "cu117")),
    # macOS: default wheels, driver flags ignored
    ("macos-default", dict(os="macos"), ("2.15.0", "cpu")),
    ("macos-ignores-driver", dict(os="macos", driver="580.65.06", ccs=["9.0"]), ("2.15.0", "cpu")),
    ("macos-py38", dict(python="3.8", os="macos"), ("2.1.2", "cpu")),
    # CPU
    ("cpu-flag", dict(cpu=True, driver="580.65.06", ccs=["9.0"]), ("2.15.0", "cpu")),
    ("cpu-py37", dict(python="3.7", cpu=True), ("1.13.1", "cpu")),
    ("no-driver-cpu", dict(), ("2.15.0", "cpu")),
    ("kepler-35-no-kernels-anywhere", dict(python="3.10", torch=">=2", driver="580.65.06", ccs=["3.5"]), ("2.15.0", "cpu")),
    # --torch specs
    ("spec-1.13", dict(python="3.8", torch="1.13", driver="535.104.05"), ("1.13.1", "cu117")),
    ("spec-exact", dict(python="3.10", torch="==2.1.2", driver="535.104.05"), ("2.1.2", "cu121")),
    ("spec-range", dict(python="3.10", torch=">=2,<2.4", driver="535.104.05"), ("2.1.2", "cu121")),
    ("spec-plain-3-part", dict(python="3.10", torch="2.5.1", cpu=True), ("2.5.1", "cpu")),
    ("spec-torch-prefix", dict(python="3.10", torch="torch==2.5.1", cpu=True), ("2.5.1", "cpu")),
]


@pytest.mark.parametrize("kwargs, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_choice(kwargs, expected):
    rec = resolve(req(**kwargs), MATRIX).recommendation
    assert (rec.torch, rec.variant.name) == expected


def test_headline_companions_and_reasons():
    res = resolve(req(python="3.7", driver="535.104.05", cuda="12.2", ccs=["8.6"]), MATRIX)
    rec = res.recommendation
    assert (rec.torchvision, rec.torchaudio) == ("0.14.1", "0.13.1")
    why = " | ".join(rec.reasons)
    assert "Python 3.7 on Linux: torch 1.13.1 is the newest release with wheels for it" in why
    assert "driver 535.104.05 runs cu117" in why
    assert "GPU sm_86" in why
    assert "highest CUDA among torch 1.13.1's runnable variants (cu116, cu117)" in why
    reasons = {(r.torch, r.variant): r.reason for r in res.rejected}
    assert reasons[("2.5.1", None)] == "torch 2.5.1: no wheel for Python 3.7 on Linux (supports 3.9 to 3.13)"
    assert reasons[("1.13.1", "cu116")].startswith("cu116: runs, but cu117")


def test_rejection_reason_for_driver_keeps_leading_zeros():
    res = resolve(req(python="3.10", torch="2.1", driver="470.57.02"), MATRIX)
    by = {(r.torch, r.variant): r for r in res.rejected}
    assert by[("2.1.2", "cu121")].reason.startswith("cu121: driver 470.57.02 < 525.60.13")
    assert by[("2.1.2", "cu121")].code == "driver"
    assert res.recommendation.variant.name == "cu118"


def test_gpu_arch_rejection_names_the_kernels():
    res = resolve(req(driver="570.86.10", ccs=["6.1"]), MATRIX)
    by = {(r.torch, r.variant): r for r in res.rejected}
    assert by[("2.15.0", "cu128")].code == "gpu-arch"
    assert "no kernels for GPU sm_61" in by[("2.15.0", "cu128")].reason
    assert "sm_75" in by[("2.15.0", "cu128")].reason


def test_ptx_only_coverage_is_noted():
    rec = resolve(req(python="3.7", driver="580.65.06", ccs=["12.0"]), MATRIX).recommendation
    assert any("PTX" in n for n in rec.notes)


def test_unknown_arches_noted_not_rejected():
    """cu92 (1.7.1) records no kernel list; CUDA 9.2 can target sm_70 (first 9.0), so it stays a candidate."""
    rec = resolve(req(python="3.8", driver="418.39", ccs=["7.0"]), MATRIX).recommendation
    assert rec.variant.name == "cu92"
    assert any("not recorded" in n for n in rec.notes)


def test_cpu_fallback_names_the_driver_needed():
    res = resolve(req(python="3.12"), MATRIX)
    assert res.recommendation.variant.name == "cpu"
    assert res.better == "install an NVIDIA driver >= 525.60.13 to get torch 2.15.0 with cu128 (CUDA 12.8)"
    res = resolve(req(python="3.10", torch="2.1", driver="450.80.01"), MATRIX)
    assert res.better == "upgrade the NVIDIA driver to >= 450.80.02 to get torch 2.1.2 with cu118 (CUDA 11.8)"
    res = resolve(req(python="3.10", torch=">=2", driver="580.65.06", ccs=["3.5"]), MATRIX)
    assert "carries kernels for GPU sm_35" in res.better


def test_strict_fallback_uses_native_floor():
    res = resolve(req(python="3.10", torch="2.1", driver="450.80.02", strict=True), MATRIX)
    assert res.recommendation.variant.name == "cpu"
    assert ">= 520.61.05" in res.better


def test_rocm_listed_in_all_but_not_chosen_without_an_amd_gpu():
    res = resolve(req(python="3.10", torch="2.5"), MATRIX)
    assert res.recommendation.variant.name == "cpu"
    assert ("2.5.1", "rocm6.2") in {(c.torch, c.variant.name) for c in res.compatible}
    assert any(r.code == "no-amd-gpu" and r.variant == "rocm6.2" for r in res.rejected)


def test_all_lists_every_compatible_pair():
    res = resolve(req(python="3.10", driver="535.104.05", ccs=["8.6"]), MATRIX)
    pairs = {(c.torch, c.variant.name) for c in res.compatible}
    assert ("2.15.0", "cu128") in pairs and ("2.15.0", "cu126") in pairs and ("1.12.1", "cu116") in pairs
    assert ("2.15.0", "cu130") not in pairs  # needs 580.65.06
    assert ("1.7.1", "cpu") not in pairs  # 1.7.1 has no Python 3.10 wheels


def test_cpu_reason_and_rejections():
    res = resolve(req(cpu=True, driver="580.65.06"), MATRIX)
    assert "--cpu: the CPU build" in res.recommendation.reasons
    assert any(r.code == "cpu-only" for r in res.rejected)


# --- nothing compatible: exit 3 with nearest alternatives ---------------------------------------

NO_BUILD = [
    ("py27", dict(python="2.7"), ["Python 3.6: newest torch is 1.7.1"]),
    ("py316", dict(python="3.16"), ["Python 3.14: newest torch is 2.15.0"]),
    ("py37-torch21", dict(python="3.7", torch="2.1"),
     ["Python 3.7: newest torch is 1.13.1", "torch 2.1 supports Python 3.8 to 3.11 on Linux"]),
    ("windows-torch21", dict(python="3.10", os="windows", torch="2.1"),
     ["Python 3.10: newest torch is 2.15.0", "torch 2.1 has no Windows wheels (only Linux, macOS)"]),
    ("unknown-torch", dict(python="3.10", torch="==9.9"), ["no torch release matches --torch ==9.9 (known: 1.7.1 to 2.15.0)"]),
    ("macos-py314-old-spec", dict(python="3.14", os="macos", torch="<2"), ["torch <2 supports Python 3.6 to 3.10 on macOS"]),
]


@pytest.mark.parametrize("kwargs, messages", [c[1:] for c in NO_BUILD], ids=[c[0] for c in NO_BUILD])
def test_no_compatible_build(kwargs, messages):
    with pytest.raises(NoCompatibleBuild) as info:
        resolve(req(**kwargs), MATRIX)
    err = info.value
    assert err.exit_code == ExitCode.NO_COMPATIBLE_BUILD
    got = [a["message"] for a in err.alternatives]
    for m in messages:
        assert m in got
    assert err.hint and messages[0] in err.hint
    assert err.data["rejected"]


# --- pure helpers -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    "cc, sm, ptx, expected",
    [
        ("8.6", ["8.0"], None, "sass"),  # same major, lower minor
        ("8.0", ["8.6"], None, None),  # higher minor does not run
        ("8.9", ["8.0", "8.6"], "9.0", "sass"),
        ("9.0", ["8.0", "8.6"], "8.6", "ptx"),
        ("12.0", ["9.0", "10.0"], "10.0", "ptx"),
        ("6.1", ["7.5", "8.0"], "12.0", None),  # PTX of a newer arch cannot run on an older GPU
        ("10.0", ["10.0"], None, "sass"),
        ("3.5", ["3.7"], None, None),
    ],
)
def test_kernel_coverage(cc, sm, ptx, expected):
    assert kernel_coverage(cc, sm, ptx) == expected


@pytest.mark.parametrize(
    "text, inside, outside",
    [
        ("1.13", ["1.13.0", "1.13.1"], ["1.12.1", "2.0.0"]),
        ("2", ["2.0.0", "2.15.0"], ["1.13.1"]),
        ("==2.1.2", ["2.1.2"], ["2.1.1"]),
        ("2.1.2", ["2.1.2"], ["2.1.0"]),
        (">=2,<2.4", ["2.0.0", "2.3.1"], ["2.4.0", "1.13.1"]),
        ("torch>=2.5", ["2.5.1"], ["2.4.1"]),
    ],
)
def test_parse_torch_spec(text, inside, outside):
    spec = parse_torch_spec(text)
    assert all(spec.contains(v) for v in inside)
    assert not any(spec.contains(v) for v in outside)


@pytest.mark.parametrize("bad", ["abc", "=>2", "2.x", "", ">=2,,"])
def test_parse_torch_spec_rejects(bad):
    from envcheck.errors import EnvcheckError

    with pytest.raises(EnvcheckError) as info:
        parse_torch_spec(bad)
    assert info.value.exit_code == ExitCode.USAGE


def test_resolver_is_pure():
    """The resolver imports nothing that touches the machine or the terminal, and reads no environ."""
    import ast
    from pathlib import Path

    import envcheck.resolve as mod

    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
        elif isinstance(node, ast.Attribute):
            assert node.attr != "environ"
    assert not imported & {"os", "subprocess", "pynvml", "rich", "envcheck.runner", "envcheck.probes"}
    # envcheck.facts: the arch names; envcheck.rocmarch: gfx_covered, the pure exact-target rule
    assert imported <= {"__future__", "re", "dataclasses", "typing", "packaging.specifiers",
                        "packaging.version", "envcheck.errors", "envcheck.matrix", "envcheck.facts",
                        "envcheck.rocmarch"}


def _matrix_with(mutate):
    docs = mini_docs()
    mutate(docs)
    return build_matrix(docs)


def test_unconfirmed_coverage_ranks_below_confirmed():
    """cu130's kernel list unknown for 2.15.0: the confirmed cu128 wins over the higher CUDA."""
    def drop(docs):
        v = next(v for v in docs["cuda_variants.json"]["variants"] if v["variant"] == "cu130")
        v["arches"] = []
    m = _matrix_with(drop)
    res = resolve(req(driver="580.65.06", ccs=["9.0"]), m)
    assert (res.recommendation.torch, res.recommendation.variant.name) == ("2.15.0", "cu128")
    assert any(r.variant == "cu130" and "coverage unknown" in r.reason for r in res.rejected)
    # without GPU facts nothing is ranked down: the highest CUDA
    assert resolve(req(driver="580.65.06"), m).recommendation.variant.name == "cu130"


def test_presumed_coverage_from_neighbouring_release():
    """2.15.0's cu130 list missing: the list recorded for 2.14.0's cu130 (no sm_70) is presumed."""
    def add(docs):
        v = next(v for v in docs["cuda_variants.json"]["variants"] if v["variant"] == "cu130")
        v["arches"][0]["torch"] = ">=2.9,<2.15"
        cu126 = next(v for v in docs["cuda_variants.json"]["variants"] if v["variant"] == "cu126")
        cu126["arches"][0]["ptx"] = None  # so that sm_110 has nothing but the presumed cu130 list
        rels = docs["torch_releases.json"]["releases"]
        rel = copy.deepcopy(next(r for r in rels if r["torch"] == "2.15.0"))
        rel.update(torch="2.14.0", torchvision="0.29.0")
        rels.append(rel)
    m = _matrix_with(add)
    res = resolve(req(driver="580.65.06", ccs=["7.0"]), m)
    assert (res.recommendation.torch, res.recommendation.variant.name) == ("2.15.0", "cu126")
    reason = next(r.reason for r in res.rejected if (r.torch, r.variant) == ("2.15.0", "cu130"))
    assert "as recorded for torch 2.14.0" in reason
    res = resolve(req(driver="580.65.06", ccs=["9.0"]), m)  # confirmed cu128 beats presumed cu130
    assert res.recommendation.variant.name == "cu128"
    res = resolve(req(driver="580.65.06", ccs=["11.0"]), m)  # only cu130 carries sm_110
    assert res.recommendation.variant.name == "cu130"
    assert any("presumed as for torch 2.14.0" in n for n in res.recommendation.notes)
    assert any("presumed covered" in r for r in res.recommendation.reasons)


# --- toolkit rule: a variant with no kernel list cannot carry kernels its CUDA could not generate ---

def _toolkit_docs(docs):
    """Add torch 1.10.2 (cpu, cu102, cu111 with no kernel list) and, as in the shipped matrix, drop
    the PTX of the CUDA 10.x/11.x wheels (the mini matrix's carry some)."""
    docs["torch_releases.json"]["releases"].append(copy.deepcopy(REL_1_10_2))
    for v in docs["cuda_variants.json"]["variants"]:
        if v["kind"] == "cuda" and v["cuda"] < "11.8" and v["cuda"] != "9.2":
            for entry in v["arches"]:
                entry["ptx"] = None


@functools.lru_cache(maxsize=1)
def _no_ptx_matrix():
    return _matrix_with(_toolkit_docs)


TOOLKIT = [
    # id, request kwargs, (torch, variant), {(torch, variant): rejection code or "unknown" (a candidate)}
    ("h100-py37-cpu-fallback", dict(python="3.7", driver="580.159.04", cuda="13.0", ccs=["9.0"]), ("1.13.1", "cpu"),
     {("1.10.2", "cu111"): "gpu-arch", ("1.7.1", "cu92"): "gpu-arch"}),
    ("ampere-py37-headline-unchanged", dict(python="3.7", driver="535.104.05", cuda="12.2", ccs=["8.6"]), ("1.13.1", "cu117"),
     {("1.10.2", "cu111"): "unknown"}),
    ("turing-75-cu111-unknown-kept", dict(python="3.7", torch="1.10", driver="535.104.05", ccs=["7.5"]), ("1.10.2", "cu102"),
     {("1.10.2", "cu111"): "unknown"}),
    ("turing-75-cu92-predates", dict(python="3.8", driver="418.39", ccs=["7.5"]), ("2.1.2", "cpu"),
     {("1.7.1", "cu92"): "gpu-arch"}),
    ("kepler-30-cu111-after-last", dict(python="3.8", torch="1.10", driver="535.104.05", ccs=["3.0"]), ("1.10.2", "cpu"),
     {("1.10.2", "cu111"): "gpu-arch"}),
    ("unlisted-minor-8.9-uses-8.6-row", dict(python="3.7", torch="1.10", driver="535.104.05", ccs=["8.9"]), ("1.10.2", "cu111"),
     {("1.10.2", "cu111"): "unknown"}),
    ("unlisted-major-13-stays-unknown", dict(python="3.7", torch="1.10", driver="580.65.06", ccs=["13.0"]), ("1.10.2", "cu111"),
     {("1.10.2", "cu111"): "unknown"}),
]


@pytest.mark.parametrize("kwargs, expected, verdicts", [c[1:] for c in TOOLKIT], ids=[c[0] for c in TOOLKIT])
def test_toolkit_rule_for_unknown_kernel_lists(kwargs, expected, verdicts):
    res = resolve(req(**kwargs), _no_ptx_matrix())
    assert (res.recommendation.torch, res.recommendation.variant.name) == expected
    rejected = {(r.torch, r.variant): r.code for r in res.rejected}
    coverage = {(c.torch, c.variant.name): c.coverage for c in res.compatible}
    for key, verdict in verdicts.items():
        if verdict == "unknown":
            assert coverage.get(key) == "unknown", (key, rejected.get(key))
        else:
            assert rejected.get(key) == verdict and key not in coverage, key


def test_h100_py37_reasons_name_the_toolkit_and_the_python_needed():
    """The issue's H100 case: CUDA 11.1 cannot target sm_90, so no CUDA build runs; the CPU build of
    1.13.1, and the note says what would get a CUDA build (a newer Python)."""
    res = resolve(req(python="3.7", driver="580.159.04", cuda="13.0", ccs=["9.0"]), _no_ptx_matrix())
    reason = next(r.reason for r in res.rejected if (r.torch, r.variant) == ("1.10.2", "cu111"))
    assert reason == "cu111: CUDA 11.1 predates sm_90 (first supported by CUDA 11.8): its wheels cannot carry kernels for this GPU"
    why = " | ".join(res.recommendation.reasons)
    assert "no CUDA build of any torch release for Python 3.7 runs with driver 580.159.04" in why
    assert res.better == ("no CUDA build of torch 1.13.1 carries kernels for GPU sm_90; "
                          "torch 2.1.2 and later have cu118+ builds for sm_90 but need Python >= 3.8")
    assert res.better in res.recommendation.notes


def test_after_last_cuda_reason():
    res = resolve(req(python="3.8", torch="1.10", driver="535.104.05", ccs=["3.0"]), _no_ptx_matrix())
    reason = next(r.reason for r in res.rejected if (r.torch, r.variant) == ("1.10.2", "cu111"))
    assert reason == ("cu111: CUDA 11.1 is newer than the last CUDA that supports sm_30 (10.2): "
                      "its wheels cannot carry kernels for this GPU")


def test_newer_release_hint_names_the_torch_spec_and_driver():
    """The hint says what keeps a covering release out of reach: --torch, or Python plus the driver."""
    res = resolve(req(python="3.10", torch="<2", driver="580.65.06", ccs=["9.0"]), _no_ptx_matrix())
    assert res.recommendation.variant.name == "cpu"
    assert res.better.endswith("torch 2.1.2 has one for Python 3.10 but does not match --torch <2")
    res = resolve(req(python="3.7", driver="450.80.01", ccs=["9.0"]), _no_ptx_matrix())
    assert res.better.endswith("but need Python >= 3.8 (and driver >= 450.80.02)")


def test_arch_cuda_lookup():
    assert MATRIX.arch_cuda_for("9.0").first_cuda == "11.8"
    assert MATRIX.arch_cuda_for("8.9").cc == "8.6"  # same major, nearest listed minor below
    assert MATRIX.arch_cuda_for("6.0") is None  # no 6.x row at or below 6.0
    assert MATRIX.arch_cuda_for("13.0") is None
    assert MATRIX.arch_cuda_for("junk") is None
