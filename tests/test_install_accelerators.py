"""Issue 10 (install side): ROCm builds for AMD GPUs, XPU builds for Intel GPUs, one CPU-architecture
normalization, and doctor's AMD fix naming install's pick.

The resolver tables run on the shipped matrix (configs/, with the sourced gfx lists of rocm_arches.json).
The CLI tests replay the real rocm-smi captures of tests/fixtures/amd-rocm (README cites each URL) and
the real KFD line of an MI300X; every sysfs tree (KFD nodes, /sys/class/drm cards), the ROCm version
file and the torch stand-in are SYNTHETIC, built here and named so.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import types
from pathlib import Path

import pytest
from packaging.version import Version
from typer.testing import CliRunner

from conftest import FIXTURES
from doctor_standins import hermetic_env, unset_all
from envcheck.cli import app
from envcheck.errors import EnvcheckError
from envcheck.facts import host_arch, normalize_arch
from envcheck.inenv import script_path
from envcheck.matrix import build_matrix, load_matrix, read_docs, default_config_dir
from envcheck.probes.apple import mps_status
from envcheck.resolve import ResolveRequest, resolve
from test_doctor_accelerators import drm_card, kfd_node, rocm_root, tool

AMD = FIXTURES / "amd-rocm"
ROCM_ALL = ("gfx908", "gfx90a", "gfx942", "gfx950", "gfx1030", "gfx1100", "gfx1101", "gfx1102", "gfx1103",
            "gfx1200", "gfx1201", "gfx1150", "gfx1151")  # rocm7.14 in configs/rocm_arches.json


@pytest.fixture(scope="module")
def matrix():
    return load_matrix()


def pick(matrix, python="3.12", os="linux", gfx=(), xpu=False, **kw):
    return resolve(ResolveRequest(python=python, os=os, gpu_gfx=tuple(gfx), xpu=xpu, **kw), matrix)


# ----------------------------------------------------------------------------- resolver: AMD


@pytest.mark.parametrize("gfx, python, torch, variant", [
    # rocm7.14 (torch 2.14) lists the CDNA2/3 and RDNA2/3/4 targets (manywheel-build-027375b)
    (("gfx90a",), "3.12", "2.14.1", "rocm7.14"),
    (("gfx942",), "3.12", "2.14.1", "rocm7.14"),
    (("gfx1100",), "3.12", "2.14.1", "rocm7.14"),
    (("gfx1030",), "3.12", "2.14.1", "rocm7.14"),
    (("gfx90a", "gfx942"), "3.13", "2.14.1", "rocm7.14"),  # every GPU covered
    # gfx906 left rocm7.14's list; the legacy rocm7.2 images (torch 2.11-2.13) still build it
    (("gfx906",), "3.12", "2.13.0", "rocm7.2"),
    # Python 3.9: its newest release is 2.8.0 (2.9 dropped 3.9), whose rocm6.4 list has gfx942
    (("gfx942",), "3.9", "2.8.0", "rocm6.4"),
    # Python 3.8: torch 2.4.1 is its last release, rocm6.1 (builder list) has gfx1100
    (("gfx1100",), "3.8", "2.4.1", "rocm6.1"),
])
def test_rocm_pick_covers_every_gpu(matrix, gfx, python, torch, variant):
    res = pick(matrix, python=python, gfx=gfx)
    rec = res.recommendation
    assert (rec.torch, rec.variant.name, rec.variant.kind) == (torch, variant, "rocm")
    row = matrix.rocm_gfx_for(variant, torch)
    assert row is not None and set(gfx) <= set(row.arches)
    assert any(f"AMD GPU {', '.join(gfx)}: {variant} wheels of torch {torch} carry kernels" in r for r in rec.reasons)
    assert any("amdgpu kernel driver" in n for n in rec.notes)
    assert rec.to_dict()["kind"] == "rocm" and rec.to_dict()["rocm"] == variant[len("rocm"):]


@pytest.mark.parametrize("gfx, why", [
    (("gfx1031",), "gfx1031"),  # RDNA2 Navi 22: in no recorded list
    (("gfx1250",), "gfx1250"),  # a target no recorded list has
    (("gfx90a", "gfx1031"), "gfx1031"),  # one uncovered GPU is enough
])
def test_no_rocm_list_covers_the_gpu_gives_the_cpu_build_with_the_lists(matrix, gfx, why):
    res = pick(matrix, gfx=gfx)
    rec = res.recommendation
    assert rec.variant.name == "cpu"
    assert any(why in r and "the CPU build" in r for r in rec.reasons)
    (gap,) = [n for n in rec.notes if n.startswith("AMD GPU")]
    assert "rocm7.14: " + ", ".join(ROCM_ALL) in gap  # which list was checked
    assert any(r.code == "gpu-arch" and r.variant == "rocm7.14" and why in r.reason for r in res.rejected)


def test_unrecorded_list_is_never_picked(matrix):
    """torch 1.10's rocm4.1/rocm4.2 builds passed no gfx list (LoadHIP.cmake's default): not recorded."""
    res = pick(matrix, python="3.8", gfx=("gfx90a",), torch_spec="1.10")
    assert res.recommendation.variant.name == "cpu"
    rows = {r.variant: r for r in res.rejected if r.torch == "1.10.1" and r.code == "gpu-arch"}
    assert {"rocm4.1", "rocm4.2"} <= set(rows) and "not recorded" in rows["rocm4.2"].reason


def test_torch_range_rows(matrix):
    assert matrix.rocm_gfx_for("rocm6.1", "2.4.1") is not None
    assert matrix.rocm_gfx_for("rocm6.1", "2.6.0").arches != matrix.rocm_gfx_for("rocm6.3", "2.7.1").arches
    assert matrix.rocm_gfx_for("rocm4.2", "1.10.0") is None  # no list passed to those builds: unknown
    assert pick(matrix, python="3.10", gfx=("gfx942",), torch_spec="2.4").recommendation.variant.name == "rocm6.1"
    # gfx1100 joined the builder's list with ROCm 5.5 (3237101a): rocm5.7 for 2.2, none for 1.13's rocm5.2
    assert pick(matrix, python="3.9", gfx=("gfx1100",), torch_spec="2.2").recommendation.variant.name == "rocm5.7"
    assert pick(matrix, python="3.9", gfx=("gfx1100",), torch_spec="1.13").recommendation.variant.name == "cpu"


@pytest.mark.parametrize("kw, reason", [
    (dict(os="windows"), "no NVIDIA driver"),  # ROCm wheels are Linux only
    (dict(arch="aarch64"), "Linux aarch64"),
    (dict(cpu_only=True), "--cpu"),
])
def test_rocm_only_on_linux_x86_64_and_not_with_cpu(matrix, kw, reason):
    rec = pick(matrix, gfx=("gfx90a",), **kw).recommendation
    assert rec.variant.name == "cpu" and any(reason in r for r in rec.reasons)


def test_nvidia_first_on_a_mixed_host(matrix):
    both = pick(matrix, gfx=("gfx90a",), driver=Version("580.65.06"), driver_text="580.65.06", gpu_ccs=("9.0",))
    assert both.recommendation.variant.kind == "cuda"
    old_driver = pick(matrix, gfx=("gfx90a",), driver=Version("418.39"), driver_text="418.39", gpu_ccs=("9.0",))
    rec = old_driver.recommendation
    assert rec.variant.kind == "rocm" and any("no CUDA build runs" in r for r in rec.reasons)


def test_newest_rocm_of_the_release_and_host_rocm_note(matrix):
    res = pick(matrix, python="3.10", gfx=("gfx942",), torch_spec="2.4", host_rocm="6.2.4")
    assert any("this machine has ROCm 6.2.4 installed" in n for n in res.recommendation.notes)
    gone = pick(matrix, gfx=("gfx942",)).recommendation.notes
    assert any("was not detected" in n for n in gone)


def test_rocm_pip_command(matrix):
    from envcheck.plans.install import plan_conda_install, plan_pip_install

    rec = pick(matrix, gfx=("gfx90a",)).recommendation
    assert plan_pip_install(rec, "python") == ["python", "-m", "pip", "install", "torch==2.14.1", "torchvision==0.29.1",
                                               "--index-url", "https://download.pytorch.org/whl/rocm7.14"]
    assert plan_conda_install(rec, "env") is None  # never on the pytorch conda channel


# ----------------------------------------------------------------------------- resolver: Intel


@pytest.mark.parametrize("os", ["linux", "windows"])
def test_xpu_pick(matrix, os):
    rec = pick(matrix, os=os, xpu=True).recommendation
    assert (rec.torch, rec.variant.name, rec.variant.kind) == ("2.14.1", "xpu", "xpu")
    assert any("Intel GPU: the XPU build" in r for r in rec.reasons)
    from envcheck.plans.install import plan_pip_install

    assert plan_pip_install(rec, "python")[-2:] == ["--index-url", "https://download.pytorch.org/whl/xpu"]


def test_xpu_starts_at_2_5(matrix):
    assert "xpu" not in matrix.release("2.4.1").variants_for("linux")
    assert all("xpu" in r.variants_for(o) for r in matrix.releases if r.version >= Version("2.5") for o in ("linux", "windows"))
    old = pick(matrix, python="3.8", xpu=True).recommendation  # torch 2.4.1 is the last for Python 3.8
    assert old.variant.name == "cpu" and any("no torch release for Python 3.8" in r and "XPU" in r for r in old.reasons)
    win25 = pick(matrix, os="windows", python="3.9", xpu=True, torch_spec="2.5").recommendation
    assert win25.variant.name == "xpu" and any("only torch itself" in n for n in win25.notes)


def test_xpu_not_on_macos_or_without_a_device(matrix):
    assert pick(matrix, os="macos", xpu=True).recommendation.variant.name == "cpu"
    res = pick(matrix)
    assert res.recommendation.variant.name == "cpu"
    assert any(r.code == "no-xpu" and r.variant == "xpu" for r in res.rejected)


# ----------------------------------------------------------------------------- matrix validation


def _docs():
    docs, _ = read_docs(default_config_dir())
    return json.loads(json.dumps(docs))


@pytest.mark.parametrize("mutate, problem", [
    (lambda d: d["rocm_arches.json"]["variants"][0].update(variant="cu121"), "not a rocm variant"),
    (lambda d: d["rocm_arches.json"]["variants"][0].update(arches=["sm_90"]), "gfx targets"),
    (lambda d: d["rocm_arches.json"]["variants"][0].update(torch=">>2"), "not a version specifier"),
    (lambda d: d["rocm_arches.json"]["variants"][0].update(source=["nope"]), "unknown source"),
    (lambda d: next(v for v in d["cuda_variants.json"]["variants"] if v["variant"] == "xpu").update(variant="xpu2"),
     "named 'xpu'"),
])
def test_invalid_rows_name_file_and_row(mutate, problem):
    docs = _docs()
    mutate(docs)
    with pytest.raises(EnvcheckError) as exc:
        build_matrix(docs)
    assert problem in exc.value.message and exc.value.exit_code == 1


# ----------------------------------------------------------------------------- CLI, replayed hosts


def install(env, *args):
    result = CliRunner().invoke(app, ["install", "--json", "--python", "3.12", *args], env=env)
    return result, json.loads(result.stdout)


@pytest.fixture
def host(clean_env, tmp_path, fake_bin):
    """A hermetic host: PATH = fake_bin only, NVML off, a SYNTHETIC empty sysfs tree, a SYNTHETIC ROCm 6.2.4."""
    return unset_all(hermetic_env(clean_env, tmp_path, fake_bin, ROCM_PATH=str(rocm_root(tmp_path)),
                                  PYENV_ROOT=str(tmp_path / "no-pyenv")))


@pytest.mark.parametrize("capture, gfx", [("rocm-smi-rx7900xt.json", "gfx1100"),
                                          ("rocm-smi-mi250x-productname.json", "gfx90a")])
def test_install_json_on_replayed_rocm_smi(host, fake_bin, tmp_path, capture, gfx):
    tool(fake_bin, "rocm-smi", "ok", AMD / capture, tmp_path / "rocm-smi.log")
    result, out = install(host)
    assert result.exit_code == 0, result.output
    data = out["data"]
    rec = data["recommendation"]
    assert (rec["variant"], rec["kind"], rec["rocm"]) == ("rocm7.14", "rocm", "7.14")
    assert data["inputs"]["gpu_arch"]["value"] == [gfx] and data["inputs"]["gpu_arch"]["source"] == "detected"
    assert "rocm-smi" in data["inputs"]["gpu_arch"]["reason"]
    assert data["inputs"]["rocm"]["value"] == "6.2.4"
    assert rec["commands"]["pip"].endswith("--index-url https://download.pytorch.org/whl/rocm7.14")
    assert any("this machine has ROCm 6.2.4 installed" in n for n in rec["notes"])
    assert any(r["code"] == "no-driver" for r in data["rejected"])  # the CUDA builds: no NVIDIA driver


def test_install_json_on_synthetic_kfd_with_the_real_mi300x_line(host):
    sysfs = Path(host["ENVCHECK_SYSFS_ROOT"])
    kfd_node(sysfs, 0, "cpu_cores_count 64\nsimd_count 0\n")  # SYNTHETIC CPU node
    kfd_node(sysfs, 1, "simd_count 1216\n" + (AMD / "kfd-gfx-target-line-mi300x.txt").read_text())
    result, out = install(host)
    data = out["data"]
    assert data["inputs"]["gpu_arch"]["value"] == ["gfx942"] and "sysfs:kfd" in data["inputs"]["gpu_arch"]["reason"]
    assert data["recommendation"]["variant"] == "rocm7.14"


def test_install_json_uncovered_amd_gpu(host):
    """SYNTHETIC KFD node of an RX 6700 XT (gfx_target_version 100301 = gfx1031)."""
    kfd_node(Path(host["ENVCHECK_SYSFS_ROOT"]), 1, "simd_count 80\ngfx_target_version 100301\n")
    result, out = install(host)
    assert result.exit_code == 0
    rec = out["data"]["recommendation"]
    assert rec["variant"] == "cpu" and rec["kind"] == "cpu"
    assert any("gfx1031" in r and "the CPU build" in r for r in rec["reasons"])
    assert any("rocm7.14: gfx908" in n for n in rec["notes"])


def test_vendor_probes_can_be_skipped(host):
    kfd_node(Path(host["ENVCHECK_SYSFS_ROOT"]), 1, "simd_count 80\ngfx_target_version 90010\n")
    _, out = install({**host, "ENVCHECK_SKIP_VENDOR_PROBES": "all"})
    assert out["data"]["recommendation"]["variant"] == "cpu" and "gpu_arch" not in out["data"]["inputs"]


def test_flags_for_a_gpu_less_host(host):
    _, out = install(host, "--gpu-arch", "GFX90A", "--gpu-arch", "gfx942")
    data = out["data"]
    assert data["inputs"]["gpu_arch"] == {"value": ["gfx90a", "gfx942"], "source": "flag", "reason": None}
    assert data["recommendation"]["variant"] == "rocm7.14"
    _, out = install(host, "--xpu", "--os", "windows")
    assert out["data"]["recommendation"]["variant"] == "xpu" and out["data"]["inputs"]["xpu"]["source"] == "flag"


def test_bad_gpu_arch_is_exit_2(host):
    result, out = install(host, "--gpu-arch", "sm_90")
    assert result.exit_code == 2 and out["status"] == "error"
    assert out["errors"][0]["code"] == "invalid-gpu-arch"


@pytest.mark.parametrize("device, name, variant", [
    ("0x56a0", "Intel Arc A770 Graphics", "xpu"),  # Arc A-series (Alchemist)
    ("0x0bd5", "Intel Data Center GPU Max 1550", "xpu"),  # Data Center GPU Max (Ponte Vecchio)
    ("0x9a49", None, "cpu"),  # an integrated GPU id not in configs/intel_gpus.json
])
def test_install_json_on_synthetic_drm_cards(host, device, name, variant):
    drm_card(Path(host["ENVCHECK_SYSFS_ROOT"]), 0, "0x8086", device)  # SYNTHETIC drm card
    _, out = install(host)
    data = out["data"]
    assert data["recommendation"]["variant"] == variant
    assert data["inputs"]["xpu"]["value"] is (variant == "xpu")
    if name:
        assert name in data["inputs"]["xpu"]["reason"]


def test_human_output_names_the_rocm_build(host):
    result = CliRunner().invoke(app, ["install", "--python", "3.12", "--gpu-arch", "gfx90a"], env=host)
    assert result.exit_code == 0
    assert "rocm7.14 (ROCm 7.14)" in result.stdout and "gpu_arch gfx90a [flag]" in result.stdout


# ----------------------------------------------------------------------------- doctor's AMD fix


def test_covering_install_for_amd(matrix):
    from envcheck.commands.doctor import covering_install

    fix = covering_install(matrix, matrix.release("2.5.1"), (), python_version="3.12.3", python_path="/p/python",
                           gfx=("gfx1101",))
    # 2.5.1's ROCm lists lack gfx1101, so the unpinned pick: the same text `envcheck install` gives
    assert fix.startswith("`envcheck install --python /p/python` picks torch 2.14.1 with rocm7.14")
    assert covering_install(matrix, None, (), python_version="3.12", python_path="p", gfx=("gfx1031",)) is None
    pinned = covering_install(matrix, matrix.release("2.4.1"), (), python_version="3.10", python_path="p",
                              gfx=("gfx942",))
    assert pinned.startswith("`envcheck install --python p --torch 2.4.1` picks torch 2.4.1 with rocm6.1")


# ----------------------------------------------------------------------------- one CPU-arch function


@pytest.mark.parametrize("raw, arch", [("x86_64", "x86_64"), ("AMD64", "x86_64"), ("arm64", "aarch64"),
                                       ("aarch64", "aarch64"), ("ppc64le", None)])
def test_one_arch_normalization(raw, arch):
    assert normalize_arch(raw) == arch
    got = host_arch(raw)
    assert got.value == (arch or raw) and got.source == "platform.machine"
    if arch and arch != raw:
        assert repr(raw) in got.reason


def test_doctor_and_install_report_the_same_arch(host):
    from envcheck.decision import decide
    from envcheck.probes.system import probe_system

    decided = decide(python="3.12", machine="arm64", environ=host, cpu=True)
    assert decided.inputs["arch"].value == "aarch64" and "'arm64'" in decided.inputs["arch"].reason
    assert probe_system().arch == host_arch()
    assert mps_status("14.5", "arm64")[0] is True and mps_status("14.5", "aarch64")[0] is True


def test_no_second_arch_reader():
    """platform.machine() is read in facts.host_arch (and the Apple probe's own machine field) only."""
    root = Path(__file__).resolve().parent.parent / "envcheck"
    for rel in ("commands/install.py", "decision.py", "probes/system.py", "resolve.py"):
        tree = ast.parse((root / rel).read_text(encoding="utf-8"))
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "machine"]
        assert not calls, rel


# ----------------------------------------------------------------------------- verify: xpu check


@pytest.fixture(scope="module")
def suite():
    spec = importlib.util.spec_from_file_location("envcheck_verify_suite_xpu", script_path("verify_suite"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("xpu, argv, text", [
    (None, (), "has no torch.xpu"),
    (types.SimpleNamespace(is_available=lambda: False), (), "no XPU available"),
    (types.SimpleNamespace(is_available=lambda: True), ("--device", "cpu"), "--device cpu"),
])
def test_xpu_check_skips(suite, xpu, argv, text):
    torch = types.SimpleNamespace(__version__="2.14.1+xpu")
    if xpu is not None:
        torch.xpu = xpu
    ctx = suite.Ctx(suite.parse_args(list(argv)))
    ctx.torch = torch
    with pytest.raises(suite.Skip, match=text):
        suite.check_xpu(ctx)
