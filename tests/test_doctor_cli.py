"""`envcheck doctor` through typer's CliRunner: the JSON contract, exit codes, --anonymize, --deep
wiring, and that envcheck itself never imports torch. nvidia-smi is the stand-in replaying the H100
capture (no GPU on this machine)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from envcheck.cli import app
from doctor_standins import hermetic_env, install_nvidia_smi, unset_all

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
    assert data["anonymized"] is True and data["system"]["hostname"]["value"] == "<host>"
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
