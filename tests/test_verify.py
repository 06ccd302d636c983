"""`envcheck verify` for real: the suite runs in the dev venv's interpreter with the real CPU torch
2.13.0 wheel (fixture torch_python), through the CLI (typer's CliRunner) and once as a real
subprocess of the installed `envcheck` console script. This machine has no GPU, so CUDA checks must
be skipped with a reason, and fail under --require-cuda. The isolation path uses the suite's
documented test hook ENVCHECK_VERIFY_FAULT to crash, abort and hang real suite processes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from envcheck.cli import app
from tests.conftest import write_exe

CPU_OK = ["torch-import", "tensor-creation", "tensor-operations", "broadcasting", "autograd"]
ENV = {"COLUMNS": "120", "ENVCHECK_VERIFY_FAULT": None, "CUDA_VISIBLE_DEVICES": None}


def invoke(*args, env=None):
    return CliRunner().invoke(app, ["verify", *args], env={**ENV, **(env or {})})


def by_id(envelope):
    return {c["id"]: c for c in envelope["data"]["checks"]}


@pytest.fixture(scope="session")
def e2e(envcheck_bin, torch_python, tmp_path_factory):
    """One real run of the installed console script: --json, --junit-xml, --distributed."""
    out = tmp_path_factory.mktemp("verify-e2e")
    junit = out / "reports" / "verify.xml"  # the directory does not exist yet: verify creates it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENVCHECK_", "CUDA_"))}
    env["COLUMNS"] = "120"
    proc = subprocess.run(
        [envcheck_bin, "verify", "--python", torch_python, "--json", "--distributed", "--junit-xml", str(junit)],
        capture_output=True, text=True, env=env, cwd=str(out), timeout=300,
    )
    return proc, junit


@pytest.mark.e2e
def test_e2e_cpu_suite_passes_and_skips_cuda_with_reason(e2e, torch_python, installed_torch):
    proc, _ = e2e
    assert proc.returncode == 0, proc.stderr
    envelope = json.loads(proc.stdout)  # exactly one JSON object on stdout
    assert envelope["command"] == "verify" and envelope["status"] == "ok" and envelope["exit_code"] == 0
    checks = by_id(envelope)
    for check_id in CPU_OK + ["distributed-all-reduce"]:
        assert checks[check_id]["status"] == "ok", checks[check_id]
    assert "all_reduce(sum) = 3.0 through gloo" in checks["distributed-all-reduce"]["message"]
    assert checks["cuda-available"]["status"] == "skip"
    if installed_torch.is_cpu:  # a CUDA wheel (fresh machine) without a GPU says why differently
        assert "CPU-only build" in checks["cuda-available"]["message"]
    assert checks["mps"]["status"] == "skip" and checks["mps"]["message"]
    for c in envelope["data"]["checks"]:
        assert set(c) >= {"id", "status", "duration_s", "message", "fix"}
        assert isinstance(c["duration_s"], float) and c["duration_s"] >= 0
    target = envelope["data"]["target"]
    assert target["python"] == torch_python and target["torch"] == installed_torch.version and target["device"] == "cpu"
    assert f"torch {installed_torch.version}" in checks["torch-import"]["message"]
    assert ("CPU build" in checks["torch-import"]["message"]) == installed_torch.is_cpu
    assert envelope["data"]["children"] == 1
    # progress went to stderr, live, one line per check
    for check_id in CPU_OK:
        assert check_id in proc.stderr
    assert "verification passed" in proc.stderr


@pytest.mark.e2e
def test_e2e_junit_report_is_readable(e2e):
    proc, junit = e2e
    envelope = json.loads(proc.stdout)
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [c["id"] for c in envelope["data"]["checks"]]
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert "cuda-available" in skipped and int(suite.get("skipped")) == len(skipped)
    assert suite.get("failures") == "0" and not any(c.find("failure") is not None for c in cases)
    assert envelope["data"]["junit_xml"] == str(junit)


@pytest.mark.e2e  # the real suite in the real torch interpreter
def test_require_cuda_fails_without_a_gpu(torch_python, installed_torch):
    result = invoke("--python", torch_python, "--require-cuda")
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.stdout and "cuda-available" in result.stdout
    assert ("CPU-only build" in result.stdout) == installed_torch.is_cpu and "fix:" in result.stdout
    assert "verification FAILED" in result.stdout
    for check_id in CPU_OK:
        assert check_id in result.stdout
    assert "torch" not in sys.modules  # the envcheck process never imports torch


@pytest.mark.e2e  # the real suite in the real torch interpreter
def test_require_package_fails_a_missing_companion_live(torch_python):
    """The real suite with real torch: `--require-package torchaudio` where torchaudio is not installed is
    a failed torchaudio-import, in the live list as it happens and in the verdict (exit 1)."""
    probe = subprocess.run([torch_python, "-c", "import importlib.util as u; print(bool(u.find_spec('torchaudio')))"],
                           capture_output=True, text=True, timeout=60)
    if probe.stdout.strip() != "False":
        pytest.skip("torchaudio is installed in the test env: nothing to require")
    result = invoke("--python", torch_python, "--require-package", "torchaudio", "--json")
    assert result.exit_code == 1, result.output
    checks = {c["id"]: c for c in json.loads(result.stdout)["data"]["checks"]}
    assert checks["torchaudio-import"]["status"] == "fail"
    assert checks["torchaudio-import"]["message"] == f"torchaudio is required here, but {torch_python} does not find it"
    assert "install torchaudio" in checks["torchaudio-import"]["fix"]
    assert checks["torchaudio-ops"]["status"] == "skip" and checks["torch-import"]["status"] == "ok"
    assert "torchaudio-import" in result.stderr and "FAIL" in result.stderr  # the live list, not only the end


@pytest.mark.e2e  # three real suite processes with real torch, crashed and hung on purpose
def test_crash_abort_and_hang_are_isolated(torch_python):
    """The suite's test hook crashes (SIGSEGV), aborts and hangs three real suite processes in turn."""
    fault = "tensor-operations:crash,broadcasting:abort,autograd:hang"
    timeout = 3.0
    result = invoke("--python", torch_python, "--json", "--timeout", str(timeout), env={"ENVCHECK_VERIFY_FAULT": fault})
    assert result.exit_code == 1, result.output
    envelope = json.loads(result.stdout)
    checks = by_id(envelope)
    assert checks["torch-import"]["status"] == "ok" and checks["tensor-creation"]["status"] == "ok"
    assert checks["tensor-operations"]["status"] == "fail"
    assert "SIGSEGV" in checks["tensor-operations"]["message"] and checks["tensor-operations"]["fix"]
    assert checks["broadcasting"]["status"] == "fail" and "SIGABRT" in checks["broadcasting"]["message"]
    hung = checks["autograd"]
    assert hung["status"] == "fail" and "timed out" in hung["message"] and "_inject_fault" in hung["message"]
    # caught by the check's own limit (faulthandler's "Timeout (0:00:03)!"), not the torch import's
    assert f"within {timeout:g} s" in hung["message"]
    assert envelope["data"]["options"]["import_timeout_s"] >= 300  # a fresh child's import has its own limit
    # the checks after each crash still ran, each in a fresh process
    assert checks["cuda-available"]["status"] == "skip" and checks["distributed-all-reduce"]["status"] == "skip"
    assert [c["id"] for c in envelope["data"]["checks"]][:5] == CPU_OK[:1] + ["tensor-creation", "tensor-operations",
                                                                         "broadcasting", "autograd"]
    assert envelope["data"]["children"] == 4
    assert "fresh process" in result.stderr


@pytest.mark.e2e  # three real suite processes with real torch, crashed and hung on purpose
def test_slow_torch_import_is_not_charged_to_a_check(torch_python):
    """The first import and a fresh child's re-import after a crash each take 1.5 x --timeout (the
    suite's `slow` test hook): both run under the import's own limit, so nothing is failed as hung and
    every check after the crash runs in the fresh child."""
    fault = "torch-import:slow,tensor-operations:crash,resume-import:slow"
    result = invoke("--python", torch_python, "--json", "--timeout", "2", env={"ENVCHECK_VERIFY_FAULT": fault})
    assert result.exit_code == 1, result.output
    envelope = json.loads(result.stdout)
    checks = by_id(envelope)
    assert checks["torch-import"]["status"] == "ok"
    assert checks["tensor-operations"]["status"] == "fail" and "SIGSEGV" in checks["tensor-operations"]["message"]
    for check_id in ("broadcasting", "autograd"):
        assert checks[check_id]["status"] == "ok", checks[check_id]
    failed = [c["id"] for c in envelope["data"]["checks"] if c["status"] == "fail"]
    assert failed == ["tensor-operations"] and envelope["data"]["children"] == 2


def test_target_without_torch_fails_import_with_install_fix(bare_python, tmp_path):
    junit = tmp_path / "verify.xml"
    result = invoke("--python", bare_python, "--json", "--junit-xml", str(junit))
    assert result.exit_code == 1, result.output
    envelope = json.loads(result.stdout)
    assert envelope["status"] == "problems"
    checks = by_id(envelope)
    assert checks["torch-import"]["status"] == "fail"
    assert "torch is not installed" in checks["torch-import"]["message"]
    assert "envcheck install" in checks["torch-import"]["fix"]
    assert all(c["status"] == "skip" for i, c in checks.items() if i != "torch-import")
    assert envelope["data"]["target"]["torch"] is None
    failure = ET.parse(junit).getroot().find("testsuite/testcase[@name='torch-import']/failure")
    assert failure is not None and "envcheck install" in failure.text


def test_missing_interpreter_exits_4(tmp_path):
    result = invoke("--python", str(tmp_path / "nope" / "python"), "--json")
    assert result.exit_code == 4
    envelope = json.loads(result.stdout)
    assert envelope["exit_code"] == 4 and envelope["errors"][0]["code"] == "interpreter-not-found"


def test_interpreter_that_cannot_run_the_suite_exits_5(fake_bin):
    """A stand-in "python" that dies at once (there is no broken interpreter to break for real)."""
    fake = write_exe(fake_bin, "python", """\
        #!/bin/sh
        echo "error while loading shared libraries: libpython3.11.so.1.0" >&2
        exit 127
        """)
    result = invoke("--python", str(fake), "--json")
    assert result.exit_code == 5, result.output
    envelope = json.loads(result.stdout)
    assert envelope["errors"][0]["code"] == "suite-not-run"
    assert "libpython3.11.so.1.0" in envelope["errors"][0]["message"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["--device", "gpu"], "--device"),
        (["--timeout", "0"], "--timeout"),
        (["--timeout", "soon"], "--timeout"),
        (["--frobnicate"], "--frobnicate"),
    ],
)
def test_bad_options_exit_2_with_json_envelope(args, words):
    result = invoke(*args, "--json")
    assert result.exit_code == 2
    envelope = json.loads(result.stdout)
    assert envelope["command"] == "verify" and envelope["exit_code"] == 2 and envelope["status"] == "error"
    assert words in envelope["errors"][0]["message"]


def test_junit_path_that_is_a_directory_exits_2(tmp_path):
    result = invoke("--junit-xml", str(tmp_path), "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["errors"][0]["code"] == "invalid-option"


def test_help_lists_options_and_exit_codes():
    result = CliRunner().invoke(app, ["verify", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for word in ("--python", "--device", "--require-cuda", "--distributed", "--json", "--junit-xml", "--timeout",
                 "Exit codes"):
        assert word in result.stdout


def _has_nvidia_gpu() -> bool:
    import shutil

    if shutil.which("nvidia-smi") is None:
        return False
    return subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout.startswith("GPU ")


@pytest.mark.gpu
@pytest.mark.skipif(not _has_nvidia_gpu(), reason="needs an NVIDIA GPU (nvidia-smi -L lists none)")
def test_gpu_every_visible_device_passes_with_require_cuda(torch_python, tmp_path):
    junit = tmp_path / "verify.xml"
    result = invoke("--python", torch_python, "--json", "--require-cuda", "--junit-xml", str(junit))
    envelope = json.loads(result.stdout)
    checks = by_id(envelope)
    assert result.exit_code == 0, [c for c in checks.values() if c["status"] == "fail"]
    assert checks["cuda-available"]["status"] == "ok" and checks["cuda-device-count"]["status"] == "ok"
    count = envelope["data"]["target"]["driver_gpus"]
    for i in range(count):
        for check_id in (f"cuda-arch:{i}", f"cuda-compute:{i}"):
            assert checks[check_id]["status"] == "ok", checks[check_id]
    assert envelope["data"]["target"]["device"] == "cuda"


@pytest.mark.parametrize(
    "init_py, status_words, fix_words",
    [
        ("raise OSError('libcudart.so.12: cannot open shared object file: No such file or directory')\n",
         "import torch failed: OSError: libcudart.so.12", "reinstall torch"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
         "killed by SIGSEGV", "mismatched binaries"),
    ],
    ids=["import-raises", "import-segfaults"],
)
def test_broken_torch_is_a_failed_import_not_a_traceback(bare_python, tmp_path, init_py, status_words, fix_words):
    """A stand-in `torch` package on PYTHONPATH that breaks the way real broken installs do (a missing
    CUDA library, a native crash during import): the real CPU wheel cannot be broken for the test."""
    (tmp_path / "site" / "torch").mkdir(parents=True)
    (tmp_path / "site" / "torch" / "__init__.py").write_text(init_py)
    result = invoke("--python", bare_python, "--json", env={"PYTHONPATH": str(tmp_path / "site")})
    assert result.exit_code == 1, result.output
    checks = by_id(json.loads(result.stdout))
    assert checks["torch-import"]["status"] == "fail"
    assert status_words in checks["torch-import"]["message"]
    assert fix_words in checks["torch-import"]["fix"]
    assert all(c["status"] == "skip" for i, c in checks.items() if i != "torch-import")
    assert "Traceback" not in result.stderr


def test_stray_stdout_from_the_target_is_ignored(bare_python, fake_bin):
    """A wrapper "python" that prints to stdout before the interpreter starts (as a noisy shell
    profile or sitecustomize would): the event stream must survive it."""
    wrapper = write_exe(fake_bin, "python", f"""\
        #!/bin/sh
        echo "Welcome to the cluster!"
        echo '{{"not": "an event"}}'
        exec {bare_python} "$@"
        """)
    result = invoke("--python", str(wrapper), "--json")
    assert result.exit_code == 1, result.output
    checks = by_id(json.loads(result.stdout))
    assert checks["torch-import"]["status"] == "fail" and len(checks) == 17  # 10 + 7 from issue 9


def test_a_suite_that_says_hello_and_dies_is_exit_5_not_a_silent_pass(fake_bin):
    """A stand-in "python" that speaks the first line of the protocol and exits: no check ran, so
    verify must not report success."""
    fake = write_exe(fake_bin, "python", """\
        #!/bin/sh
        echo '{"event": "hello", "pid": 1, "python": "3.6.0"}'
        exit 0
        """)
    result = invoke("--python", str(fake), "--json")
    assert result.exit_code == 5, result.output
    assert json.loads(result.stdout)["errors"][0]["code"] == "suite-not-run"
