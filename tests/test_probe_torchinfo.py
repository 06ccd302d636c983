"""The target-interpreter scripts: inenv/pyinfo.py run for real by a venv with the CPU torch wheel and
by a bare venv; inenv/torchdeep.py run for real (imports torch in the target, never here)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from envcheck.inenv import script_path
from envcheck.probes.torchinfo import (
    companion_build,
    companions_from_pyinfo,
    PyInfo,
    cuda_from_local,
    last_json_object,
    parse_deep,
    parse_local_suffix,
    parse_pyinfo,
    probe_deep,
    probe_pyinfo,
    torch_from_pyinfo,
)
from envcheck.runner import Completed, Runner


@pytest.mark.parametrize("name", ["pyinfo", "torchdeep"])
def test_inenv_scripts_are_python37_syntax_and_stdlib(name):
    src = Path(script_path(name)).read_text()
    ast.parse(src, feature_version=(3, 7))
    assert "import envcheck" not in src and "from envcheck" not in src


@pytest.mark.parametrize("version, local, cuda", [("2.5.1+cu121", "cu121", "12.1"), ("2.13.0+cpu", "cpu", None),
                                                  ("2.11.0+cu130", "cu130", "13.0"), ("1.13.1+cu117", "cu117", "11.7"),
                                                  ("2.4.0", None, None), ("2.4.0+rocm6.1", "rocm6.1", None), (None, None, None)])
def test_local_suffix(version, local, cuda):
    assert parse_local_suffix(version) == local
    assert cuda_from_local(local) == cuda


def test_last_json_object():
    assert last_json_object('site hook noise\n{"a": 1}\n') == {"a": 1}
    assert last_json_object("") is None and last_json_object("{broken\n[1]") is None


def test_pyinfo_torch_venv(torch_python, installed_torch):
    info = probe_pyinfo(Runner(), torch_python)
    assert info.ok and info.is_venv and info.version == "%d.%d.%d" % sys.version_info[:3]
    torch = torch_from_pyinfo(info)
    assert torch.installed and torch.version == installed_torch.version and torch.local == installed_torch.local
    assert torch.cuda == installed_torch.cuda and torch.is_cpu_build == installed_torch.is_cpu
    assert torch.source == "torch/version.py"
    assert info.dist_version("torch") == installed_torch.version
    assert info.dist_version("ipykernel") and info.dist_version("numpy")


def test_pyinfo_bare_venv(bare_python):
    info = probe_pyinfo(Runner(), bare_python)
    assert info.ok and info.is_venv and not info.is_conda
    torch = torch_from_pyinfo(info)
    assert not torch.installed and "not installed" in torch.reason


def test_pyinfo_reads_version_py_without_importing(tmp_path, bare_python):
    """A fake torch package whose __init__ would crash: pyinfo still reads torch/version.py."""
    site = tmp_path / "site"
    (site / "torch").mkdir(parents=True)
    (site / "torch" / "__init__.py").write_text("raise SystemExit('imported!')\n")
    (site / "torch" / "version.py").write_text(
        "from typing import Optional\n__all__ = ['__version__']\n__version__ = '2.5.1+cu121'\n"
        "debug = False\ncuda: Optional[str] = '12.1'\ngit_version = 'abc'\nhip: Optional[str] = None\n")
    (site / "torch-2.5.1+cu121.dist-info").mkdir()
    (site / "torch-2.5.1+cu121.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.5.1+cu121\n\n")
    (site / "pynvml-11.5.0.dist-info").mkdir()
    (site / "pynvml-11.5.0.dist-info" / "METADATA").write_text("Name: pynvml\nVersion: 11.5.0\n")
    done = Runner().run([bare_python, script_path("pyinfo")], env={"PYTHONPATH": str(site)}, timeout=20)
    info = parse_pyinfo(done)
    torch = torch_from_pyinfo(info)
    assert (torch.version, torch.cuda, torch.local) == ("2.5.1+cu121", "12.1", "cu121")
    assert info.dist_version("pynvml") == "11.5.0"


def test_pyinfo_reads_companion_build_from_version_py(tmp_path, bare_python):
    """The default-index torchvision 0.28.0 wheel: METADATA says 0.28.0, its torchvision/version.py
    (first lines copied from the real wheel) says 0.28.0+cu130; its __init__ is never run."""
    site = tmp_path / "site"
    (site / "torchvision").mkdir(parents=True)
    (site / "torchvision" / "__init__.py").write_text("raise SystemExit('imported!')\n")
    (site / "torchvision" / "version.py").write_text(
        "__version__ = '0.28.0+cu130'\ngit_version = '8fb87713a24951e639c494b0f2a8a81b5f8e33a6'\n"
        "from torchvision.extension import _check_cuda_version\nif _check_cuda_version() > 0:\n"
        "    cuda = _check_cuda_version()\n")
    (site / "torchvision-0.28.0.dist-info").mkdir()
    (site / "torchvision-0.28.0.dist-info" / "METADATA").write_text("Name: torchvision\nVersion: 0.28.0\n\n")
    done = Runner().run([bare_python, script_path("pyinfo")], env={"PYTHONPATH": str(site)}, timeout=20)
    info = parse_pyinfo(done)
    assert info.companion_versions == {"torchvision": "0.28.0+cu130"}
    assert info.dist_version("torchvision") == "0.28.0"
    assert companions_from_pyinfo(info) == {"torchvision": "0.28.0+cu130"}


@pytest.mark.parametrize("version, default, build", [
    ("0.28.0+cu130", "cu130", "cu130"), ("0.28.0", "cu130", "cu130"), ("0.28.0+cpu", "cu130", "cpu"),
    ("0.28.0", None, None), ("0.28.0", "cpu", "cpu"),
])
def test_companion_build(version, default, build):
    assert companion_build(version, default) == build


@pytest.mark.parametrize(
    "done, part",
    [
        (Completed(("py",), None, error="not found"), "not found"),
        (Completed(("py",), None, timed_out=True, duration_s=20), "timed out"),
        (Completed(("py",), 0, "garbage"), "expected JSON"),
        (Completed(("py",), 1, "", "SyntaxError: invalid syntax"), "SyntaxError"),
    ],
)
def test_pyinfo_failures(done, part):
    info = parse_pyinfo(done)
    assert not info.ok and part in info.reason
    assert torch_from_pyinfo(info).installed is False


def test_torch_from_dist_info_only():
    info = PyInfo(True, distributions={"torch": {"version": "2.1.2+cu118", "location": "/x"}}, torch_version_py=None)
    t = torch_from_pyinfo(info)
    assert t.installed and t.cuda == "11.8" and t.source == "dist-info"


@pytest.mark.e2e
def test_deep_real_import(torch_python):
    deep = probe_deep(Runner(), torch_python, timeout=120)
    assert deep.ok and deep.arch_list == () and deep.is_available is False and deep.device_count == 0


def test_deep_failures(bare_python):
    deep = probe_deep(Runner(), bare_python, timeout=60)
    assert not deep.ok and "import torch failed" in deep.reason
    assert "timed out" in parse_deep(Completed(("p",), None, timed_out=True, duration_s=3)).reason
    assert not parse_deep(Completed(("p",), -11, "")).ok


def test_parse_deep_keeps_the_companions_import_outcome():
    """torchdeep.py's JSON shape; the error text is the real one from the CPU torch + CUDA torchvision venv."""
    from envcheck.probes.torchinfo import parse_deep

    line = ('{"ok": true, "is_available": false, "device_count": 0, "companions": {"torchvision": '
            '{"error": "RuntimeError: operator torchvision::nms does not exist"}, "bogus": "x"}}')
    deep = parse_deep(Completed(("py",), 0, line + "\n"))
    assert deep.companions == {"torchvision": {"error": "RuntimeError: operator torchvision::nms does not exist"}}
    assert deep.to_dict()["companions"]["torchvision"]["error"].startswith("RuntimeError")
