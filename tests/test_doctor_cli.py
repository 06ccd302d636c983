"""`envcheck doctor` through typer's CliRunner: the JSON contract, exit codes, --anonymize, --deep
wiring, and that envcheck itself never imports torch. nvidia-smi is the stand-in replaying the H100
capture (no GPU on this machine)."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from envcheck.cli import app
from doctor_standins import fake_cuda_torch, hermetic_env, install_nvidia_smi, unset_all

H100_UUID = "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6"
SECTIONS = ("target", "system", "python", "managers", "driver", "gpus", "toolkit", "cuda_versions", "torch",
            "jupyter", "cuda_env", "findings", "verdict")


@pytest.fixture
def env(clean_env, tmp_path, fake_bin):
    install_nvidia_smi(fake_bin, tmp_path / "smi")
    return unset_all(hermetic_env(clean_env, tmp_path, fake_bin))


def invoke(env, *args):
    result = CliRunner().invoke(app, ["doctor", *args], env=env)
    return result


def test_json_contract(env, torch_python):
    result = invoke(env, "--json", "--python", torch_python)
    envelope = json.loads(result.stdout)
    assert set(envelope) == {"envcheck_result_version", "command", "status", "exit_code", "data", "errors"}
    data = envelope["data"]
    for key in SECTIONS:
        assert key in data, key
    assert set(data["driver"]) >= {"version", "cuda", "source"}
    assert set(data["gpus"][0]) >= {"index", "name", "uuid", "memory_total_mib", "compute_capability", "pci_bus_id"}
    assert data["gpus"][0]["compute_capability"] == "9.0"
    assert set(data["torch"]) >= {"installed", "version", "cuda"}
    for f in data["findings"]:
        assert set(f) == {"code", "severity", "message", "fix"} and f["severity"] in ("error", "warning", "info")
    # every system value carries its source or a reason
    for name, fact in data["system"].items():
        if isinstance(fact, dict) and "value" in fact:
            assert fact["source"] or fact["reason"], name
    assert result.exit_code == envelope["exit_code"] == 1  # CPU torch on the (replayed) GPU host
    assert "torch" not in sys.modules, "doctor must never import torch in the envcheck process"


def test_no_driver_json_nulls(clean_env, tmp_path, fake_bin, bare_python):
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin))
    data = json.loads(invoke(env, "--json", "--python", bare_python).stdout)["data"]
    assert {k: data["driver"][k] for k in ("version", "cuda", "source")} == {"version": None, "cuda": None, "source": None}
    assert data["gpus"] == [] and data["torch"]["installed"] is False
    assert data["cuda_versions"]["driver_max"]["reason"]


def test_overrides_are_reported(clean_env, tmp_path, fake_bin, bare_python):
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin, ENVCHECK_OVERRIDE_DRIVER="470.57.02",
                                 ENVCHECK_OVERRIDE_CUDA="11.4"))
    data = json.loads(invoke(env, "--json", "--python", bare_python).stdout)["data"]
    assert data["driver"]["version"] == "470.57.02" and data["driver"]["source"] == "override"
    assert data["driver"]["cuda_source"] == "override"
    assert any("ENVCHECK_OVERRIDE_DRIVER" in n for n in data["notes"])
    human = invoke(env, "--python", bare_python).stdout
    assert "ENVCHECK_OVERRIDE_DRIVER" in human and "override" in human


def test_missing_python_exit_4(env, tmp_path):
    result = invoke(env, "--json", "--python", str(tmp_path / "missing" / "python"))
    assert result.exit_code == 4
    envelope = json.loads(result.stdout)
    assert envelope["status"] == "error" and envelope["errors"][0]["code"] == "interpreter-not-found"
    result = invoke(env, "--python", str(tmp_path / "missing" / "python"))
    assert result.exit_code == 4 and "error:" in result.stderr and "Traceback" not in result.output


def test_anonymize(env, torch_python, tmp_path):
    import socket

    raw = invoke(env, "--json", "--python", torch_python).stdout
    assert H100_UUID in raw
    result = invoke(env, "--json", "--anonymize", "--python", torch_python)
    out = result.stdout
    data = json.loads(out)["data"]
    assert H100_UUID not in out and data["gpus"][0]["uuid"] == "GPU-<redacted>"
    assert data["anonymized"] is True and re.fullmatch(r"host-[0-9a-f]{8}", data["system"]["hostname"]["value"])
    host = socket.gethostname()
    if len(host) >= 3:
        assert host not in out
    home = env["HOME"]
    assert home not in out


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/home/alice/envs/ml/bin/python", "~/envs/ml/bin/python"),
        ("/data/alice/venv", "/data/<user>/venv"),
        ("GPU 0 GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6 and MIG-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6",
         "GPU 0 GPU-<redacted> and MIG-<redacted>"),
        ("host gpubox01 says hi; gpubox01.example.org", "host <host> says hi; <host>.example.org"),
        ("alicearchive stays", "alicearchive stays"),
        # issue 14: URL secrets too (the one masking function, envcheck.redact)
        ("https://conda.anaconda.org/t/tk-123/private", "https://conda.anaconda.org/t/****/private"),
        ("https://idx.example/simple?token=abc&x=1", "https://idx.example/simple?token=****&x=1"),
        ("https://me:pw@idx.example/simple", "https://me:****@idx.example/simple"),
    ],
)
def test_anonymizer_rules(monkeypatch, text, expected):
    from envcheck.commands import doctor as cmd

    monkeypatch.setattr(cmd.socket, "gethostname", lambda: "gpubox01")
    anon = cmd.make_anonymizer({"HOME": "/home/alice", "USER": "alice"})
    assert anon(text) == expected


def test_human_output_sections(env, torch_python):
    result = invoke(env, "--python", torch_python)
    for part in ("envcheck doctor", "System", "Python (inspected interpreter)", "NVIDIA", "PyTorch",
                 "Package managers", "Jupyter kernels", "CUDA device selection", "Findings"):
        assert part in result.stdout, part
    assert result.exit_code == 1


@pytest.mark.e2e
def test_deep_imports_torch_only_in_target(env, torch_python):
    result = invoke(env, "--json", "--deep", "--python", torch_python)
    deep = json.loads(result.stdout)["data"]["torch"]["deep"]
    assert deep["ok"] is True and deep["is_available"] is False and deep["arch_list"] == []
    assert "torch" not in sys.modules
    # the import takes seconds: it is shown as it starts and ends (stderr; stdout stays one envelope)
    assert f"envcheck: running: {torch_python} " in result.stderr and "torchdeep.py" in result.stderr
    assert "envcheck: done in " in result.stderr
    quiet = invoke(env, "--quiet", "--deep", "--python", torch_python)
    assert "envcheck: running" not in quiet.stderr


def test_help_does_not_import_heavy_modules():
    code = ("import sys, envcheck.cli; "
            "print(','.join(m for m in ('pynvml', 'psutil', 'torch', 'envcheck.commands.doctor') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


@pytest.mark.parametrize(
    "var, value, code",
    [
        ("ENVCHECK_OVERRIDE_DRIVER", "abc", "invalid-driver"),
        ("ENVCHECK_OVERRIDE_DRIVER", "535.x", "invalid-driver"),
        ("ENVCHECK_OVERRIDE_CUDA", "13", "invalid-cuda"),
        ("ENVCHECK_OVERRIDE_CUDA", "cuda12.1", "invalid-cuda"),
    ],
)
def test_malformed_override_is_bad_input(var, value, code):
    """A typo in an override must not silently become the 'detected' driver: exit 2, as install does."""
    result = CliRunner().invoke(app, ["doctor", "--json"], env={"COLUMNS": "120", var: value})
    assert result.exit_code == 2
    obj = json.loads(result.stdout)
    assert obj["status"] == "error" and obj["errors"][0]["code"] == code
    assert var in obj["errors"][0]["message"]


# --- gpu-arch-not-in-torch-build predicted from the shipped matrix (no --deep) ---------------------


@pytest.mark.parametrize(
    "version, cuda, cc, verdict",
    [
        ("1.13.1+cu117", "11.7", "9.0", "missed"),  # recorded list sm_37..sm_86
        ("2.0.1+cu117", "11.7", "9.0", "missed"),
        ("2.0.1+cu118", "11.8", "9.0", "covered"),
        ("2.11.0+cu130", "13.0", "9.0", "covered"),
        ("2.13.0+cu130", "13.0", "6.1", "missed"),  # CUDA 13 wheels dropped Pascal
        ("2.7.0+cu128", "12.8", "3.7", "missed"),
        ("2.15.0+cu130", "13.0", "6.1", "missed, presumed"),  # no list recorded for 2.15.0: 2.14.1's is presumed
        ("2.15.0+cu130", "13.0", "9.0", "covered, presumed"),
        ("1.10.0+cu111", "11.1", "9.0", "missed"),  # recorded list sm_37..sm_86 (pytorch/builder release/1.10)
        ("1.4.0+cu100", "10.0", "9.0", "toolkit"),  # no list recorded anywhere; CUDA 10.0 predates sm_90
        ("2.5.1", "12.4", "9.0", "covered"),  # a plain version (PyPI's default build): CUDA from version.py
        ("2.5.1", "12.4", "3.7", "missed"),
        ("2.13.0+cu128", "12.8", "9.0", None),  # not a variant torch 2.13.0 was built for: not an official wheel
        ("2.13.0+cpu", None, "9.0", None),
        ("2.5.0a0+git1234", "12.4", "9.0", None),  # a source build
        ("9.9.9+cu130", "13.0", "9.0", None),  # a release the matrix does not know
    ],
)
def test_predict_arch_from_shipped_matrix(version, cuda, cc, verdict):
    from envcheck.commands.doctor import predict_arch
    from envcheck.facts import GpuInfo
    from envcheck.matrix import load_matrix
    from envcheck.probes.torchinfo import TorchInfo, parse_local_suffix

    torch = TorchInfo(True, version, parse_local_suffix(version), cuda)
    got = predict_arch(load_matrix(), torch, (GpuInfo(0, "GPU", compute_capability=cc),))
    if verdict is None:
        assert got == ()
        return
    (p,) = got
    assert p.covered is verdict.startswith("covered")
    assert p.presumed_from == ("2.14.1" if verdict.endswith("presumed") else None)
    assert (p.toolkit_reason is not None) is (verdict == "toolkit")
    assert p.torch == version and p.variant == (version.split("+")[1] if "+" in version else "cu124")


def doctor_json(clean_env, tmp_path, fake_bin, bare_python, version, cuda, *args):
    install_nvidia_smi(fake_bin, tmp_path / "smi")
    site = fake_cuda_torch(tmp_path / "site", version, cuda)
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin, PYTHONPATH=str(site)))
    result = invoke(env, "--json", "--python", bare_python, *args)
    return result, json.loads(result.stdout)


def test_h100_with_cu117_torch_predicts_missing_arch(clean_env, tmp_path, fake_bin, bare_python):
    """The replayed H100 (compute capability 9.0) and a stand-in torch whose version.py says
    1.13.1+cu117: without --deep (and without importing torch) doctor predicts the missing kernels."""
    result, envelope = doctor_json(clean_env, tmp_path, fake_bin, bare_python, "1.13.1+cu117", "11.7")
    data = envelope["data"]
    for f in data["findings"]:
        assert set(f) == {"code", "severity", "message", "fix"}
    ranks = [{"error": 0, "warning": 1, "info": 2}[f["severity"]] for f in data["findings"]]
    assert ranks == sorted(ranks)  # errors first, the matrix's notes included
    found = [f for f in data["findings"] if f["code"] == "gpu-arch-not-in-torch-build"]
    assert len(found) == 1 and found[0]["severity"] == "error"
    msg = found[0]["message"]
    assert "compute capability 9.0" in msg and "1.13.1+cu117" in msg
    assert "sm_37, sm_50, sm_60, sm_70, sm_75, sm_80, sm_86" in msg and "not read from torch" in msg
    assert f"envcheck install --python {bare_python}" in found[0]["fix"] and "sm_90" in found[0]["fix"]
    assert result.exit_code == envelope["exit_code"] == 1
    assert data["verdict"].startswith("problems found: gpu-arch-not-in-torch-build")
    assert "torch" not in sys.modules


def test_h100_with_cu117_torch_human_output(clean_env, tmp_path, fake_bin, bare_python):
    install_nvidia_smi(fake_bin, tmp_path / "smi")
    site = fake_cuda_torch(tmp_path / "site", "1.13.1+cu117", "11.7")
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin, PYTHONPATH=str(site)))
    out = invoke(env, "--python", bare_python).stdout
    assert "gpu-arch-not-in-torch-build" in out and "Predicted from envcheck's compatibility" in out


def test_h100_with_covering_torch_has_no_arch_finding(clean_env, tmp_path, fake_bin, bare_python):
    result, envelope = doctor_json(clean_env, tmp_path, fake_bin, bare_python, "2.13.0+cu130", "13.0")
    codes = [f["code"] for f in envelope["data"]["findings"]]
    assert "gpu-arch-not-in-torch-build" not in codes
    assert result.exit_code == 0, envelope["data"]["findings"]


def test_deep_that_cannot_import_keeps_the_prediction(clean_env, tmp_path, fake_bin, bare_python):
    """--deep with the stand-in torch (its __init__ raises): no real arch list, so the prediction stays,
    once."""
    _, envelope = doctor_json(clean_env, tmp_path, fake_bin, bare_python, "1.13.1+cu117", "11.7", "--deep")
    codes = [f["code"] for f in envelope["data"]["findings"]]
    assert codes.count("gpu-arch-not-in-torch-build") == 1 and "torch-import-failed" in codes
