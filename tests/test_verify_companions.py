"""Issue 9: torchvision / torchaudio are proven too, `verify --level`, the multi-GPU checks' host-side
logic, and doctor's torchvision/torchaudio-torch-mismatch findings.

Pure parts are table-driven (the suite file is loaded by path, as the target interpreter runs it; the
test process never imports torch). The e2e part builds ONE real broken venv: the CPU torch 2.13.0
wheel (pip's configured local wheel, `pip install torch==2.13.0` gives +cpu here) plus the
default-index torchvision 0.28.0 (`--no-deps`), whose version.py says 0.28.0+cu130, and whose
`import torchvision` fails with "operator torchvision::nms does not exist". No healthy CPU
torchvision is reachable from this machine (the PyTorch CPU index is not; the package index has only
the default CUDA 13.0 builds 0.28.0, 0.29.0, 0.29.1), so the healthy path uses a SYNTHETIC minimal
`torchvision` package (named so below) that implements nms/hflip/resize with torch itself.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from envcheck.cli import app
from envcheck.commands import verify as cmd
from envcheck.diagnose import DoctorFacts, companion_findings, diagnose
from envcheck.errors import EnvcheckError
from envcheck.facts import NvidiaFacts
from envcheck.inenv import script_path
from envcheck.matrix import load_matrix
from envcheck.probes import torchinfo
from envcheck.render.junit import junit_tree

ENV = {"COLUMNS": "120", "ENVCHECK_VERIFY_FAULT": None, "CUDA_VISIBLE_DEVICES": None}


@pytest.fixture(scope="module")
def suite():
    spec = importlib.util.spec_from_file_location("envcheck_verify_suite_companions", script_path("verify_suite"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def matrix():
    return load_matrix()


def opts(suite, *args):
    return suite.parse_args(list(args))


# --------------------------------------------------------------------------- pairing (suite, pure)

ROW_213 = {"torch": "2.13.0", "torchvision": "0.28.0", "torchaudio": None, "default_index": "cu130",
           "pip_style": "index-url"}


@pytest.mark.parametrize("torch_v, torch_tag, companions, expect, want", [
    # the real case: CPU torch + default-index torchvision (version.py 0.28.0+cu130)
    ("2.13.0+cpu", "cpu", {"torchvision": {"version": "0.28.0+cu130", "tag": "cu130"}}, ROW_213,
     [("torchvision", "build", "is a CUDA 13.0 build but torch 2.13.0+cpu is a CPU build")]),
    # matching CPU builds
    ("2.13.0+cpu", "cpu", {"torchvision": {"version": "0.28.0+cpu", "tag": "cpu"}}, ROW_213, []),
    # two different CUDA versions
    ("2.13.0+cu126", "cu126", {"torchvision": {"version": "0.28.0+cu130", "tag": "cu130"}}, ROW_213,
     [("torchvision", "build", "CUDA 13.0 build but torch 2.13.0+cu126 is a CUDA 12.6 build")]),
    # a version from another release
    ("2.13.0+cpu", "cpu", {"torchvision": {"version": "0.27.1+cpu", "tag": "cpu"}}, ROW_213,
     [("torchvision", "version", "the release pairs it with torchvision 0.28.0")]),
    # torchaudio has no version in the row (null): only its build is judged
    ("2.13.0+cpu", "cpu", {"torchaudio": {"version": "2.11.0+cpu", "tag": "cpu"}}, ROW_213, []),
    # not in the matrix: builds still judged, versions not
    ("9.9.0+cpu", "cpu", {"torchvision": {"version": "9.0.0+cu130", "tag": "cu130"}}, {},
     [("torchvision", "build", "CUDA 13.0 build")]),
    ("9.9.0+cpu", "cpu", {"torchvision": {"version": "9.0.0+cpu", "tag": "cpu"}}, {}, []),
    # unknown build (no suffix, no default index): not judged
    ("2.13.0+cpu", "cpu", {"torchvision": {"version": "0.28.0", "tag": None}}, ROW_213, []),
])
def test_pairing_problems(suite, torch_v, torch_tag, companions, expect, want):
    got = suite.pairing_problems(torch_v, torch_tag, companions, expect)
    assert [(p[0], p[3]) for p in got] == [(w[0], w[1]) for w in want]
    for problem, wanted in zip(got, want):
        assert wanted[2] in problem[1]


@pytest.mark.parametrize("version, cuda, hip, tag", [
    ("2.13.0+cpu", None, None, "cpu"), ("2.13.0", "13.0", None, "cu130"), ("2.13.0", None, None, "cpu"),
    ("2.5.1+cu121", "12.1", None, "cu121"), ("2.5.1", None, "6.2.41133", "rocm6.2"),
])
def test_tag_from_torch(suite, version, cuda, hip, tag):
    assert suite.tag_from_torch(version, cuda, hip) == tag


def test_select_release_picks_the_public_version_row(suite):
    table = {"releases": {"2.13.0": {"torchvision": "0.28.0", "default_index": "cu130"}}}
    assert suite.select_release(table, "2.13.0+cpu") == {"torchvision": "0.28.0", "default_index": "cu130",
                                                         "torch": "2.13.0"}
    assert suite.select_release(table, "2.99.0") == {}
    assert suite.select_release({}, "2.13.0") == {}


@pytest.mark.parametrize("release, build, package", [
    ("2.13.0", "cpu", "torchvision"), ("2.13.0", "cu126", "torchvision"), ("2.13.0", "cu130", "torchvision"),
    ("1.13.1", "cu117", "torchvision"), ("1.10.2", "cu113", "torchvision"), ("2.5.1", "cu121", "torchaudio"),
])
def test_suite_reinstall_command_equals_the_install_plan(suite, matrix, release, build, package):
    """The suite cannot import envcheck: its copy of the pip rule must give plans/install.py's line."""
    rel = matrix.release(release)
    expected_version = rel.torchvision if package == "torchvision" else rel.torchaudio
    row = {"default_index": rel.default_index.get("linux"), "pip_style": rel.pip_style}
    got = suite.reinstall_command("/env/bin/python", package, expected_version, build, row)
    assert got == torchinfo.reinstall_command(matrix, release, build, "linux", "/env/bin/python", package)
    assert got.startswith("/env/bin/python -m pip install --force-reinstall --no-deps ")


def test_read_version_py_keeps_the_build_suffix(suite, tmp_path):
    pkg = tmp_path / "torchvision"
    pkg.mkdir()
    # the first lines of the real default-index torchvision 0.28.0 wheel's torchvision/version.py
    (pkg / "version.py").write_text("__version__ = '0.28.0+cu130'\ngit_version = '8fb87713'\n"
                                    "from torchvision.extension import _check_cuda_version\n")
    assert suite.read_version_py(str(pkg)) == "0.28.0+cu130"
    assert suite.read_version_py(str(tmp_path / "absent")) is None


# --------------------------------------------------------------------------- levels and plan


def _ctx(suite, *args, torch=None):
    ctx = suite.Ctx(opts(suite, *args))
    ctx.torch = torch
    return ctx


def _fake_torch(cuda=None, count=0):
    """A stand-in for the torch module: only what build_plan asks (no GPU here)."""
    return types.SimpleNamespace(
        version=types.SimpleNamespace(cuda=cuda, hip=None),
        cuda=types.SimpleNamespace(is_available=lambda: count > 0, device_count=lambda: count),
    )


def test_level_1_is_todays_suite_plus_companions_and_multi_gpu(suite):
    ids = [c[0] for c in suite.build_plan(_ctx(suite, torch=_fake_torch()))]
    assert not [i for i in ids if i.startswith(("matmul-large", "conv-large", "memory-round-trip"))]
    for check_id in ("torch-import", "companion-pairing", "torchvision-import", "torchvision-ops",
                     "torchaudio-import", "torchaudio-ops", "data-parallel", "cuda-visible-devices"):
        assert check_id in ids


def test_level_2_adds_per_device_checks(suite):
    cpu_ids = [c[0] for c in suite.build_plan(_ctx(suite, "--level", "2", torch=_fake_torch()))]
    assert {"matmul-large:cpu", "conv-large:cpu", "memory-round-trip:cpu"} <= set(cpu_ids)
    gpu_ids = [c[0] for c in suite.build_plan(_ctx(suite, "--level", "2", torch=_fake_torch("13.0", 2)))]
    for i in (0, 1):
        assert {f"matmul-large:{i}", f"conv-large:{i}", f"memory-round-trip:{i}", f"cuda-compute:{i}"} <= set(gpu_ids)
    assert "matmul-large:cpu" not in gpu_ids


def test_every_check_declares_a_known_level(suite):
    for row in suite.STATIC + suite.TAIL + suite.PER_DEVICE:
        assert row[-1] in suite.LEVELS
    assert suite.LEVELS == cmd.LEVELS


@pytest.mark.parametrize("level, devices", [(1, ["cpu", "cuda:0"]), (2, ["cpu", "cuda:0", "cuda:1", "cuda:2"])])
def test_devices_under_test(suite, level, devices):
    ctx = _ctx(suite, "--level", str(level), torch=_fake_torch("13.0", 3))
    ctx.device = "cuda"
    assert suite.devices_under_test(ctx) == devices


def test_import_limit_is_its_own_and_generous(suite):
    assert suite.import_limit(opts(suite, "--timeout", "3")) == 300.0
    assert suite.import_limit(opts(suite, "--timeout", "600")) == 600.0
    assert suite.import_limit(opts(suite, "--timeout", "3", "--import-timeout", "40")) == 40.0
    assert cmd.import_limit(3.0, None) == 300.0 and cmd.import_limit(600.0, None) == 600.0


@pytest.mark.parametrize("require, import_status, ops_message", [
    ("", "skip", "torchvision is not installed"),
    ("torchvision", "fail", "not run: torchvision was not found (see torchvision-import)"),
    ("torchaudio", "skip", "torchvision is not installed"),  # required: the other one
])
def test_a_required_companion_that_is_missing_fails_its_import(suite, require, import_status, ops_message):
    """--require (verify --require-package; install --execute for what it installed): a missing companion
    is a failed <name>-import with the install command as fix, not a skip; its ops check is not run."""
    ctx = suite.Ctx(opts(suite, "--require", require))
    ctx.torch = types.SimpleNamespace(__version__="2.13.0+cpu", version=types.SimpleNamespace(cuda=None, hip=None))
    ctx.expect = dict(ROW_213)
    ctx.companions = {"torchvision": None}  # not installed

    def outcome(check):
        try:
            check(ctx)
        except suite.Fail as exc:
            return "fail", (exc.message, exc.fix)
        except suite.Skip as exc:
            return "skip", exc.args
        return "ok", ()

    status, args = outcome(suite.check_torchvision_import)
    assert status == import_status
    if status == "fail":
        assert args[0] == f"torchvision is required here, but {sys.executable} does not find it"
        assert "install torchvision built like torch 2.13.0+cpu" in args[1] and "torchvision==0.28.0" in args[1]
    assert outcome(suite.check_torchvision_ops) == ("skip", (ops_message,))


@pytest.mark.parametrize("values, want", [
    ([], ()), (["torchvision"], ("torchvision",)), (["TorchAudio", "torchvision"], ("torchaudio", "torchvision")),
    (["torchvision,torchaudio", "torchvision"], ("torchaudio", "torchvision")), ([" , "], ()),
])
def test_parse_required_packages(values, want):
    from envcheck.inputs import parse_required_packages

    assert parse_required_packages(values) == want


@pytest.mark.parametrize("value", ["torch", "numpy", "torchvision2"])
def test_cli_require_package_names_a_companion_or_is_exit_2(value):
    res = CliRunner().invoke(app, ["verify", "--require-package", value, "--json"])
    assert res.exit_code == 2, res.output
    err = json.loads(res.stdout)["errors"][0]
    assert err["code"] == "invalid-option" and repr(value) in err["message"] and "torchvision" in err["hint"]


def test_suite_argv_passes_level_import_limit_and_table():
    argv = cmd.suite_argv("py", device="auto", require_cuda=False, distributed=False, timeout=3.0, level=2,
                          import_timeout=300.0, expect="/tmp/x/companions.json")
    assert argv[argv.index("--level") + 1] == "2"
    assert argv[argv.index("--import-timeout") + 1] == "300"
    assert argv[argv.index("--expect") + 1] == "/tmp/x/companions.json"
    assert "--level" not in cmd.suite_argv("py", device="auto", require_cuda=False, distributed=False, timeout=3.0)


@pytest.mark.parametrize("level", [0, 4, -1])
def test_unknown_level_is_exit_2(level):
    with pytest.raises(EnvcheckError) as err:
        cmd.validate_options("auto", 10.0, None, level)
    assert err.value.exit_code == 2 and "--level" in err.value.message


def test_cli_level_4_is_a_usage_error_with_envelope():  # issue 11 made level 3 real
    result = CliRunner().invoke(app, ["verify", "--level", "4", "--json"], env=ENV)
    assert result.exit_code == 2
    envelope = json.loads(result.stdout)
    assert envelope["status"] == "error" and "--level" in envelope["errors"][0]["message"]


def test_junit_names_the_level():
    data = {"level": 2, "target": {"torch": "2.13.0+cpu", "companions": {"torchvision": "0.28.0+cu130"}},
            "checks": [{"id": "torchvision-import", "status": "fail", "message": "m", "fix": "f"}]}
    root = junit_tree(data).getroot()
    assert root.get("name") == "envcheck verify (level 2)"
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["level"] == "2" and props["target.companions.torchvision"] == "0.28.0+cu130"


def test_companion_table_comes_from_the_matrix(matrix):
    table = torchinfo.companion_table(matrix, "linux")
    assert table["2.13.0"] == {"torchvision": "0.28.0", "torchaudio": None, "default_index": "cu130",
                               "pip_style": "index-url"}


# --------------------------------------------------------------------------- several GPUs (host-side logic)


@pytest.mark.parametrize("cvd, narrowed", [
    (None, "0"), ("", "0"), ("0,1", "0"), ("3,1", "3"), (" 2 , 0", "2"),
    ("GPU-8f2a1c3e-0000-0000-0000-000000000000,GPU-1", "GPU-8f2a1c3e-0000-0000-0000-000000000000"),
])
def test_narrowed_visible_keeps_the_first_visible_gpu(suite, cvd, narrowed):
    assert suite.narrowed_visible(cvd) == narrowed


@pytest.mark.parametrize("count", [0, 1])
@pytest.mark.parametrize("check", ["check_data_parallel", "check_cuda_visible_devices"])
def test_multi_gpu_checks_skip_with_the_reason_below_two_gpus(suite, check, count):
    ctx = _ctx(suite, torch=_fake_torch("13.0", count))
    with pytest.raises(suite.Skip) as skip:
        getattr(suite, check)(ctx)
    reason = str(skip.value)
    assert ("needs 2 or more visible GPUs; torch sees 1" in reason) if count else ("CUDA is not available" in reason)


# --------------------------------------------------------------------------- doctor (pure, table-driven)

TV_CPU_FIX = "/p -m pip install --force-reinstall --no-deps torchvision==0.28.0 --index-url https://download.pytorch.org/whl/cpu"


@pytest.mark.parametrize("companions, deep, codes, words", [
    ({"torch": "2.13.0+cpu", "torch_build": "cpu", "packages": {"torchvision": {
        "version": "0.28.0+cu130", "expected": "0.28.0", "build": "cu130", "fix": TV_CPU_FIX}}}, None,
     ["torchvision-torch-mismatch"], ["CUDA 13.0 build", "CPU build", TV_CPU_FIX]),
    ({"torch": "2.13.0+cpu", "torch_build": "cpu", "packages": {"torchvision": {
        "version": "0.28.0+cpu", "expected": "0.28.0", "build": "cpu", "fix": TV_CPU_FIX}}}, None, [], []),
    ({"torch": "2.13.0+cpu", "torch_build": "cpu", "packages": {"torchvision": {
        "version": "0.27.1+cpu", "expected": "0.28.0", "build": "cpu", "fix": TV_CPU_FIX}}}, None,
     ["torchvision-torch-mismatch"], ["0.27.1+cpu does not belong with torch 2.13.0+cpu", "0.28.0"]),
    ({"torch": "2.13.0+cu126", "torch_build": "cu126", "packages": {"torchaudio": {
        "version": "2.11.0+cu130", "expected": None, "build": "cu130", "fix": None}}}, None,
     ["torchaudio-torch-mismatch"], ["CUDA 13.0 build but torch 2.13.0+cu126 is a CUDA 12.6", "envcheck install"]),
    # --deep: the real import error, even when metadata could not tell
    ({}, {"companions": {"torchvision": {"error": "RuntimeError: operator torchvision::nms does not exist"}}},
     ["torchvision-torch-mismatch"], ["`import torchvision` fails: RuntimeError: operator torchvision::nms"]),
    ({}, {"companions": {"torchvision": {"version": "0.28.0+cpu"}}}, [], []),
    ({}, None, [], []),
])
def test_companion_findings(companions, deep, codes, words):
    findings = companion_findings(companions, deep)
    assert [f.code for f in findings] == codes
    text = " ".join(f"{f.message} {f.fix}" for f in findings)
    for word in words:
        assert word in text
    assert all(f.severity.value == "error" for f in findings)


def test_diagnose_includes_companion_findings():
    facts = DoctorFacts(nvidia=NvidiaFacts(), companions={
        "torch": "2.13.0+cpu", "torch_build": "cpu",
        "packages": {"torchvision": {"version": "0.28.0+cu130", "expected": "0.28.0", "build": "cu130", "fix": "x"}}})
    assert "torchvision-torch-mismatch" in [f.code for f in diagnose(facts)]


def _pyinfo(companion_versions, dists, torch_version="2.13.0+cpu"):
    return torchinfo.PyInfo(True, executable="/p", distributions={k: {"version": v} for k, v in dists.items()},
                            torch_version_py={"__version__": torch_version, "cuda": None, "path": "/x/torch/version.py"},
                            companion_versions=companion_versions)


@pytest.mark.parametrize("versions, dists, want_build, want_fix", [
    ({"torchvision": "0.28.0+cu130"}, {"torch": "2.13.0+cpu", "torchvision": "0.28.0"}, "cu130", TV_CPU_FIX),
    # version.py unreadable: METADATA's 0.28.0 without suffix -> the default index's build on linux
    ({}, {"torch": "2.13.0+cpu", "torchvision": "0.28.0"}, "cu130", TV_CPU_FIX),
    ({"torchvision": "0.28.0+cpu"}, {"torch": "2.13.0+cpu", "torchvision": "0.28.0+cpu"}, "cpu", TV_CPU_FIX),
])
def test_companion_facts_from_metadata(matrix, versions, dists, want_build, want_fix):
    info = _pyinfo(versions, dists)
    facts = torchinfo.companion_facts(matrix, info, torchinfo.torch_from_pyinfo(info), "linux")
    tv = facts["packages"]["torchvision"]
    assert facts["torch_build"] == "cpu" and tv["build"] == want_build and tv["expected"] == "0.28.0"
    assert tv["fix"] == want_fix


def test_companion_facts_empty_without_companions(matrix):
    info = _pyinfo({}, {"torch": "2.13.0+cpu"})
    assert torchinfo.companion_facts(matrix, info, torchinfo.torch_from_pyinfo(info), "linux") == {}


# --------------------------------------------------------------------------- e2e: real venvs

SYNTHETIC_TORCHVISION = {
    "__init__.py": "from torchvision.version import __version__\nfrom torchvision import ops, transforms\n",
    "version.py": "__version__ = '0.28.0+cpu'\n",
    "ops.py": (
        "import torch\n"
        "def nms(boxes, scores, iou_threshold):\n"
        "    order = scores.argsort(descending=True).tolist()\n"
        "    keep = []\n"
        "    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])\n"
        "    while order:\n"
        "        i = order.pop(0)\n"
        "        keep.append(i)\n"
        "        rest = []\n"
        "        for j in order:\n"
        "            lt = torch.maximum(boxes[i, :2], boxes[j, :2]); rb = torch.minimum(boxes[i, 2:], boxes[j, 2:])\n"
        "            wh = (rb - lt).clamp(min=0); inter = wh[0] * wh[1]\n"
        "            if float(inter / (area[i] + area[j] - inter)) <= iou_threshold: rest.append(j)\n"
        "        order = rest\n"
        "    return torch.tensor(keep, device=boxes.device)\n"
    ),
    "transforms/__init__.py": "from torchvision.transforms import functional\n",
    "transforms/functional.py": (
        "import torch.nn.functional as F\n"
        "def hflip(img):\n    return img.flip(-1)\n"
        "def resize(img, size, antialias=None):\n    return F.interpolate(img, size=list(size), mode='bilinear')\n"
    ),
}


@pytest.fixture(scope="session")
def broken_venv(tmp_path_factory):
    """A real venv: CPU torch 2.13.0 (local wheel) + the default-index torchvision 0.28.0 (CUDA 13.0)."""
    root = tmp_path_factory.mktemp("broken-tv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    py = str(root / "bin" / "python")
    for args in (["torch==2.13.0"], ["--no-deps", "torchvision==0.28.0"]):
        proc = subprocess.run([py, "-m", "pip", "install", "-q", *args], capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            pytest.fail(f"pip install {' '.join(args)} failed: {proc.stderr[-800:]}")
    yield py
    shutil.rmtree(root.parent, ignore_errors=True)


@pytest.fixture
def synthetic_torchvision(tmp_path):
    """A SYNTHETIC torchvision (not a real wheel) on PYTHONPATH, version.py 0.28.0+cpu."""
    for rel, text in SYNTHETIC_TORCHVISION.items():
        path = tmp_path / "site" / "torchvision" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path / "site")


@pytest.mark.e2e
def test_e2e_cpu_torch_with_cuda_torchvision_fails_verify(broken_venv, tmp_path):
    junit = tmp_path / "v.xml"
    result = CliRunner().invoke(app, ["verify", "--python", broken_venv, "--json", "--junit-xml", str(junit)], env=ENV)
    assert result.exit_code == 1, result.output
    envelope = json.loads(result.stdout)
    checks = {c["id"]: c for c in envelope["data"]["checks"]}
    tv = checks["torchvision-import"]
    assert tv["status"] == "fail" and "operator torchvision::nms does not exist" in tv["message"]
    fix = "-m pip install --force-reinstall --no-deps torchvision==0.28.0 --index-url https://download.pytorch.org/whl/cpu"
    assert fix in tv["fix"]
    assert checks["companion-pairing"]["status"] == "fail" and "CUDA 13.0 build" in checks["companion-pairing"]["message"]
    assert checks["torchvision-ops"]["status"] == "skip" and checks["autograd"]["status"] == "ok"
    assert checks["torchaudio-import"]["status"] == "skip" and "not installed" in checks["torchaudio-import"]["message"]
    assert envelope["data"]["level"] == 1 and envelope["data"]["target"]["companions"] == {"torchvision": "0.28.0+cu130"}
    assert ET.parse(junit).getroot().get("name") == "envcheck verify (level 1)"


@pytest.mark.e2e
def test_e2e_doctor_deep_reports_the_torchvision_mismatch(broken_venv):
    result = CliRunner().invoke(app, ["doctor", "--python", broken_venv, "--deep", "--json"], env=ENV)
    envelope = json.loads(result.stdout)
    found = [f for f in envelope["data"]["findings"] if f["code"] == "torchvision-torch-mismatch"]
    assert result.exit_code == 1 and found and found[0]["severity"] == "error"
    assert "CUDA 13.0 build" in found[0]["message"] and "operator torchvision::nms" in found[0]["message"]
    assert "--index-url https://download.pytorch.org/whl/cpu" in found[0]["fix"]


@pytest.mark.e2e
def test_e2e_healthy_pairing_passes_at_level_2(torch_python, synthetic_torchvision):
    """Healthy path with the SYNTHETIC torchvision (no real CPU torchvision is reachable here)."""
    result = CliRunner().invoke(app, ["verify", "--python", torch_python, "--json", "--level", "2"],
                                env={**ENV, "PYTHONPATH": synthetic_torchvision})
    assert result.exit_code == 0, result.output
    envelope = json.loads(result.stdout)
    checks = {c["id"]: c for c in envelope["data"]["checks"]}
    for check_id in ("companion-pairing", "torchvision-import", "torchvision-ops", "matmul-large:cpu",
                     "conv-large:cpu", "memory-round-trip:cpu"):
        assert checks[check_id]["status"] == "ok", checks[check_id]
    assert "nms, hflip, resize on cpu" in checks["torchvision-ops"]["message"]
    assert envelope["data"]["level"] == 2 and envelope["data"]["options"]["level"] == 2
