"""End to end: the installed `envcheck doctor --json` as a subprocess, with a stand-in `nvidia-smi` on
PATH that replays the real H100 captures (this machine has no GPU; NVML is really absent here, and
switched off with ENVCHECK_DISABLE_NVML so a GPU machine replays the same capture). Fault cases:
nvidia-smi missing, hanging, printing garbage, failing, and the driver/library mismatch message.
"""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from doctor_standins import add_pci_gpu, fake_cuda_torch, hermetic_env, install_nvidia_smi

pytestmark = pytest.mark.e2e


def doctor(envcheck_bin, env, *args, timeout=60):
    start = time.monotonic()
    proc = subprocess.run([envcheck_bin, "doctor", "--json", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)
    elapsed = time.monotonic() - start
    assert proc.stdout.count("\n{") == 0 or proc.stdout.lstrip().startswith("{")
    envelope = json.loads(proc.stdout)  # exactly one JSON object on stdout
    assert envelope["exit_code"] == proc.returncode
    assert "Traceback" not in proc.stderr
    return envelope, proc, elapsed


def codes(envelope):
    return [f["code"] for f in envelope["data"]["findings"]]


def test_h100_replay_with_the_installed_torch(envcheck_bin, torch_python, installed_torch, clean_env, tmp_path,
                                              fake_bin):
    install_nvidia_smi(fake_bin, tmp_path / "smi")
    env = hermetic_env(clean_env, tmp_path, fake_bin)
    envelope, proc, _ = doctor(envcheck_bin, env, "--python", torch_python)
    data = envelope["data"]
    assert envelope["envcheck_result_version"] == 1 and envelope["command"] == "doctor"
    assert data["driver"]["version"] == "580.159.04" and data["driver"]["cuda"] == "13.0"
    assert data["driver"]["source"] == "nvidia-smi"
    # `health` is read by its own nvidia-smi query, which this replay does not record: present, not read
    assert [{k: v for k, v in g.items() if k != "health"} for g in data["gpus"]] == [
        {"index": 0, "name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6",
         "memory_total_mib": 81559, "compute_capability": "9.0", "pci_bus_id": "00000000:00:06.0",
         "source": "nvidia-smi"}]
    assert all("health" in g for g in data["gpus"])
    assert data["torch"]["installed"] is True and data["torch"]["version"] == installed_torch.version
    assert data["torch"]["cuda"] == installed_torch.cuda
    if installed_torch.is_cpu:  # the real bug this machine would have: a CPU wheel on a GPU host
        assert "torch-cpu-build-on-gpu-host" in codes(envelope)
        assert proc.returncode == 1 and envelope["status"] == "problems"
    else:  # a fresh machine: the test extra brought the CUDA wheel
        assert "torch-cpu-build-on-gpu-host" not in codes(envelope)
    argv_log = (tmp_path / "smi" / "argv.log").read_text().splitlines()
    assert argv_log[0].startswith("--query-gpu=index,name,uuid,driver_version,memory.total,compute_cap,pci.bus_id")
    assert "--format=csv,noheader,nounits" in argv_log[0]


def test_h100_replay_with_cuda_torch_is_ok(envcheck_bin, bare_python, clean_env, tmp_path, fake_bin):
    install_nvidia_smi(fake_bin, tmp_path / "smi")
    site = fake_cuda_torch(tmp_path / "site")
    env = hermetic_env(clean_env, tmp_path, fake_bin, PYTHONPATH=str(site))
    envelope, proc, _ = doctor(envcheck_bin, env, "--python", bare_python)
    data = envelope["data"]
    assert data["torch"]["cuda"] == "13.0" and data["torch"]["source"] == "torch/version.py"
    assert data["cuda_versions"]["driver_max"]["value"] == "13.0"
    assert data["cuda_versions"]["torch_build"]["value"] == "13.0"
    assert not [f for f in data["findings"] if f["severity"] == "error"], data["findings"]
    assert proc.returncode == 0 and envelope["status"] == "ok"


def test_nvidia_smi_missing(envcheck_bin, bare_python, clean_env, tmp_path, fake_bin):
    env = hermetic_env(clean_env, tmp_path, fake_bin)
    envelope, proc, _ = doctor(envcheck_bin, env, "--python", bare_python)
    data = envelope["data"]
    assert data["driver"]["version"] is None and data["driver"]["source"] is None and data["gpus"] == []
    assert "nvidia-smi not found on PATH" in data["driver"]["reasons"]
    no_driver = [f for f in data["findings"] if f["code"] == "no-nvidia-driver"]
    assert no_driver and no_driver[0]["severity"] == "info"
    assert "torch-not-installed" in codes(envelope) and proc.returncode == 1

    add_pci_gpu(env)  # an NVIDIA GPU on the PCI bus but no working driver: now an error
    envelope, _, _ = doctor(envcheck_bin, env, "--python", bare_python)
    no_driver = [f for f in envelope["data"]["findings"] if f["code"] == "no-nvidia-driver"]
    assert no_driver[0]["severity"] == "error" and "0000:00:06.0" in no_driver[0]["message"]


def test_nvidia_smi_hanging_doctor_still_finishes(envcheck_bin, bare_python, clean_env, tmp_path, fake_bin):
    install_nvidia_smi(fake_bin, tmp_path / "smi", mode="hang")
    env = hermetic_env(clean_env, tmp_path, fake_bin, ENVCHECK_TOOL_TIMEOUT="1")
    envelope, proc, elapsed = doctor(envcheck_bin, env, "--python", bare_python)
    assert elapsed < 8, f"doctor took {elapsed:.1f} s with a hanging nvidia-smi"
    assert any("timed out" in r for r in envelope["data"]["driver"]["reasons"])
    # asked once: a hung tool is not retried for --version and the banner
    assert len((tmp_path / "smi" / "argv.log").read_text().splitlines()) == 1


@pytest.mark.parametrize(
    "mode, reason_part, code",
    [
        ("garbage", "could not parse", "no-nvidia-driver"),
        ("fail", "exited with status 9", "no-nvidia-driver"),
        ("mismatch", "mismatch", "nvml-driver-library-mismatch"),
    ],
)
def test_nvidia_smi_faults(envcheck_bin, bare_python, clean_env, tmp_path, fake_bin, mode, reason_part, code):
    install_nvidia_smi(fake_bin, tmp_path / "smi", mode=mode)
    env = hermetic_env(clean_env, tmp_path, fake_bin)
    envelope, proc, _ = doctor(envcheck_bin, env, "--python", bare_python)
    data = envelope["data"]
    assert any(reason_part in r for r in data["driver"]["reasons"]), data["driver"]["reasons"]
    assert code in codes(envelope)
    if mode == "mismatch":
        assert data["driver"]["mismatch"] is True and proc.returncode == 1
        assert "no-nvidia-driver" not in codes(envelope)


def test_cuda_visible_devices_cases(envcheck_bin, bare_python, clean_env, tmp_path, fake_bin):
    """The recorded probes on the H100: CUDA_VISIBLE_DEVICES=7 and =empty hide the GPU; a misspelt
    CUDA_VISIBLE_DEVICE is ignored (probe-bad-visible.txt, probe-novisible.txt, probe-typo.txt)."""
    install_nvidia_smi(fake_bin, tmp_path / "smi")
    site = fake_cuda_torch(tmp_path / "site")
    base = hermetic_env(clean_env, tmp_path, fake_bin, PYTHONPATH=str(site))
    for extra, code, severity in (({"CUDA_VISIBLE_DEVICES": "7"}, "cuda-visible-devices-out-of-range", "error"),
                                  ({"CUDA_VISIBLE_DEVICES": ""}, "cuda-visible-devices-hides-all", "warning"),
                                  ({"CUDA_VISIBLE_DEVICE": "1"}, "cuda-visible-devices-typo", "warning")):
        envelope, proc, _ = doctor(envcheck_bin, dict(base, **extra), "--python", bare_python)
        found = [f for f in envelope["data"]["findings"] if f["code"] == code]
        assert found and found[0]["severity"] == severity, (extra, envelope["data"]["findings"])
        assert proc.returncode == (1 if severity == "error" else 0)


def test_missing_python_exit_4(envcheck_bin, clean_env, tmp_path):
    proc = subprocess.run([envcheck_bin, "doctor", "--json", "--python", str(tmp_path / "nope" / "python")],
                          capture_output=True, text=True, env=clean_env, timeout=60)
    assert proc.returncode == 4
    envelope = json.loads(proc.stdout)
    assert envelope["status"] == "error" and envelope["errors"][0]["code"] == "interpreter-not-found"
    assert "Traceback" not in proc.stderr


def test_human_report(envcheck_bin, torch_python, clean_env, tmp_path, fake_bin):
    install_nvidia_smi(fake_bin, tmp_path / "smi")
    env = hermetic_env(clean_env, tmp_path, fake_bin, COLUMNS="120")
    proc = subprocess.run([envcheck_bin, "doctor", "--python", torch_python], capture_output=True, text=True, env=env, timeout=60)
    out = proc.stdout
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    for part in ("System", "NVIDIA", "580.159.04", "NVIDIA H100 80GB HBM3", "CUDA: three different numbers",
                 "torch-cpu-build-on-gpu-host", "fix:", "not detected (CPU-only build)"):
        assert part in out, part
    assert out.index("Findings") > out.index("PyTorch")  # the fixes come last
