"""Pure logic of `envcheck verify`: the suite's helpers (arch coverage, CUDA skip/fail decisions) and
the host's event parsing, crash diagnosis, visible-device arithmetic and JUnit tree.

The suite file is loaded by path exactly as the target interpreter runs it; the CUDA decisions are
exercised with a small stand-in for the torch module (this machine has no GPU and the test process
never imports torch).
"""
from __future__ import annotations

import ast
import importlib.util
import signal
import types
import xml.etree.ElementTree as ET

import pytest

from envcheck.commands import verify as cmd
from envcheck.facts import GpuInfo
from envcheck.inenv import script_path
from envcheck.runner import Completed

SUITE_PATH = script_path("verify_suite")


@pytest.fixture(scope="module")
def suite():
    spec = importlib.util.spec_from_file_location("envcheck_verify_suite_under_test", SUITE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_suite_is_python37_syntax_and_stdlib_only():
    with open(SUITE_PATH, encoding="utf-8") as fh:
        source = fh.read()
    tree = ast.parse(source, feature_version=(3, 7))  # rejects walrus, positional-only params, match...
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.JoinedStr):
            pytest.fail("f-strings are avoided in the suite (keeps it readable by old interpreters' tools)")
    assert "envcheck" not in imported
    assert imported <= {"argparse", "faulthandler", "json", "os", "re", "signal", "subprocess", "sys", "shlex",
                        "tempfile", "time", "traceback", "warnings", "datetime", "torch", "numpy",
                        "math", "importlib",
                        # the companions under test, imported only inside their checks when installed
                        "torchvision", "torchaudio"}


@pytest.mark.parametrize(
    "capability, arch_list, covered, how",
    [
        ((9, 0), ["sm_80", "sm_86", "sm_90"], True, "native kernels (sm_90)"),
        ((8, 9), ["sm_80", "sm_86", "sm_90"], True, "native kernels (sm_80, sm_86)"),  # same major, lower minor
        ((12, 0), ["sm_80", "sm_90", "sm_100", "sm_120"], True, "native kernels (sm_120)"),
        ((12, 0), ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"], False, "no sm_120 kernels"),
        ((12, 0), ["sm_80", "sm_90", "compute_90"], True, "PTX JIT from compute_90"),
        ((7, 0), ["sm_80", "compute_80"], False, "no sm_70 kernels"),  # PTX never runs on an older GPU
        ((9, 0), ["sm_90a"], True, "native kernels (sm_90a)"),
        ((10, 0), ["sm_90a"], False, "no sm_100"),  # arch-specific SASS is not forward compatible
        ((9, 0), [], False, "no sm_90"),
        ((8, 6), ["gfx90a", "garbage"], False, "no sm_86"),
    ],
)
def test_arch_coverage(suite, capability, arch_list, covered, how):
    ok, text = suite.arch_coverage(capability, arch_list)
    assert ok is covered
    assert how in text


@pytest.mark.parametrize(
    "entry, parsed",
    [("sm_86", ("sm", 8, 6, "")), ("sm_120", ("sm", 12, 0, "")), ("compute_90", ("compute", 9, 0, "")),
     ("sm_90a", ("sm", 9, 0, "a")), ("gfx942", None), ("", None)],
)
def test_parse_arch(suite, entry, parsed):
    assert suite.parse_arch(entry) == parsed


@pytest.mark.parametrize(
    "text, faults",
    [("autograd:hang", {"autograd": "hang"}), ("a:crash, b:abort", {"a": "crash", "b": "abort"}),
     ("cuda-arch:0:raise", {"cuda-arch:0": "raise"}), ("a:explode,b", {}), ("", {}), (None, {})],
)
def test_fault_spec(suite, text, faults):
    assert suite.parse_fault_spec(text) == faults


def _fake_torch(cuda=None, hip=None, available=False, count=0, warning=None):
    """A stand-in for the parts of the torch module the CUDA availability checks read."""
    import warnings

    def is_available():
        if warning:
            warnings.warn(warning)
        return available

    return types.SimpleNamespace(
        __version__="2.13.0" + ("+cpu" if not cuda else "+cu128"),
        version=types.SimpleNamespace(cuda=cuda, hip=hip),
        cuda=types.SimpleNamespace(is_available=is_available, device_count=lambda: count),
        backends=types.SimpleNamespace(cudnn=types.SimpleNamespace(is_available=lambda: True, version=lambda: 91002)),
    )


def _ctx(suite, torch, argv=()):
    ctx = suite.Ctx(suite.parse_args(list(argv)))
    ctx.torch = torch
    return ctx


@pytest.mark.parametrize(
    "torch_kw, argv, env, outcome, text",
    [
        ({}, [], {}, "skip", "CPU-only build"),
        ({}, ["--require-cuda"], {}, "fail", "CPU-only build"),
        ({}, ["--device", "cuda"], {}, "fail", "CPU-only build"),
        ({}, ["--driver-gpus", "2"], {}, "skip", "although the driver reports 2 GPU(s)"),
        ({}, ["--device", "cpu"], {}, "skip", "--device cpu"),
        ({"cuda": "12.8"}, ["--driver-gpus", "0"], {}, "skip", "no NVIDIA GPU or driver detected"),
        ({"cuda": "12.8"}, ["--driver-gpus", "1"], {"CUDA_VISIBLE_DEVICES": ""}, "skip", "hides every GPU"),
        ({"cuda": "12.8", "warning": "CUDA initialization: The NVIDIA driver on your system is too old"},
         ["--driver-gpus", "1", "--require-cuda"], {}, "fail", "driver on your system is too old"),
        ({"cuda": "12.8", "available": True, "count": 2}, ["--require-cuda"], {}, "ok", "CUDA 12.8 runtime, 2 device(s)"),
    ],
)
def test_cuda_available_skip_or_fail(suite, monkeypatch, torch_kw, argv, env, outcome, text):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    ctx = _ctx(suite, _fake_torch(**torch_kw), argv)
    if outcome == "ok":
        assert text in suite.check_cuda_available(ctx)
        return
    exc_type = suite.Skip if outcome == "skip" else suite.Fail
    with pytest.raises(exc_type) as info:
        suite.check_cuda_available(ctx)
    assert text in str(info.value)
    if outcome == "fail":
        assert info.value.fix


@pytest.mark.parametrize(
    "count, expected, outcome",
    [(2, 2, "ok"), (1, 2, "fail"), (2, None, "ok")],
)
def test_cuda_device_count(suite, monkeypatch, count, expected, outcome):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    argv = ["--driver-gpus", "4"] + (["--expected-cuda-devices", str(expected)] if expected is not None else [])
    ctx = _ctx(suite, _fake_torch(cuda="12.8", available=True, count=count), argv)
    if outcome == "ok":
        assert "torch sees %d device(s)" % count in suite.check_cuda_device_count(ctx)
    else:
        with pytest.raises(suite.Fail, match="torch sees 1 device.*driver reports 4 GPU.*2 visible"):
            suite.check_cuda_device_count(ctx)


def test_device_checks_are_planned_per_visible_gpu(suite):
    ctx = _ctx(suite, _fake_torch(cuda="12.8", available=True, count=2))
    ids = [c[0] for c in suite.build_plan(ctx)]
    assert ids[:5] == ["torch-import", "tensor-creation", "tensor-operations", "broadcasting", "autograd"]
    for i in (0, 1):
        assert {f"cuda-arch:{i}", f"cuda-compute:{i}", f"cudnn-conv:{i}"} <= set(ids)
    assert ids[-3:] == ["mps", "xpu", "distributed-all-reduce"]
    assert [c[0] for c in suite.build_plan(_ctx(suite, _fake_torch()))] == [
        "torch-import", "tensor-creation", "tensor-operations", "broadcasting", "autograd",
        "cuda-available", "cuda-device-count", "companion-pairing", "torchvision-import", "torchvision-ops",
        "torchaudio-import", "torchaudio-ops", "data-parallel", "cuda-visible-devices", "mps", "xpu",
        "distributed-all-reduce"]


# --------------------------------------------------------------------------- host side


@pytest.mark.parametrize(
    "line, event",
    [('{"event": "start", "id": "a"}', {"event": "start", "id": "a"}),
     ("  {\"event\": \"done\"}  ", {"event": "done"}),
     ("NCCL INFO something", None), ("{not json", None), ('{"id": "a"}', None), ("[1, 2]", None), ("", None)],
)
def test_parse_event(line, event):
    assert cmd.parse_event(line) == event


FAULT_DUMP = """Fatal Python error: Segmentation fault

Current thread 0x00007f (most recent call first):
  File "/x/envcheck/inenv/verify_suite.py", line 161 in _inject_fault
  File "/x/envcheck/inenv/verify_suite.py", line 600 in run_check
"""
HANG_DUMP = """Timeout (0:00:03)!
Thread 0x00007f (most recent call first):
  File "/venv/lib/python3.11/site-packages/torch/cuda/__init__.py", line 42 in synchronize
"""


@pytest.mark.parametrize(
    "done, kind, words",
    [
        (Completed(("py",), -signal.SIGSEGV, stderr=FAULT_DUMP), "signal", ["SIGSEGV", "verify_suite.py:161 in _inject_fault"]),
        (Completed(("py",), -signal.SIGABRT), "signal", ["SIGABRT"]),
        (Completed(("py",), -signal.SIGKILL), "signal", ["SIGKILL"]),
        (Completed(("py",), 1, stderr=HANG_DUMP), "timeout", ["within 3 s", "__init__.py:42 in synchronize"]),
        (Completed(("py",), None, timed_out=True), "timeout", ["within 3 s"]),
        (Completed(("py",), 3, stderr="Traceback...\nMemoryError"), "exit", ["status 3", "MemoryError"]),
    ],
)
def test_describe_death(done, kind, words):
    got_kind, message, fix = cmd.describe_death(done, 3.0)
    assert got_kind == kind
    for w in words:
        assert w in message
    assert fix
    if done.signal == signal.SIGKILL:
        assert "out-of-memory" in fix


H100 = [GpuInfo(0, "NVIDIA H100", uuid="GPU-0babf9eb-ed90-f9de-277c-6b3c1ddd36d6"),
        GpuInfo(1, "NVIDIA H100", uuid="GPU-1111aaaa-0000-0000-0000-000000000000")]


@pytest.mark.parametrize(
    "cvd, gpus, expected",
    [(None, H100, 2), ("0", H100, 1), ("1,0", H100, 2), ("0,5,1", H100, 1), ("", H100, 0), ("-1", H100, 0),
     ("GPU-0babf9eb", H100, 1), ("MIG-abc", H100, None), ("0", [], None), (None, [], None)],
)
def test_expected_cuda_devices(cvd, gpus, expected):
    environ = {} if cvd is None else {"CUDA_VISIBLE_DEVICES": cvd}
    assert cmd.expected_cuda_devices(environ, gpus) == expected


def test_suite_argv_carries_options_and_resume_list():
    argv = cmd.suite_argv("/py", device="cuda", require_cuda=True, distributed=True, timeout=7.5,
                          skip=["torch-import", "autograd"], driver_gpus=2, expected_devices=1)
    assert argv[0] == "/py" and argv[1] == SUITE_PATH
    assert argv[2:] == ["--device", "cuda", "--timeout", "7.5", "--require-cuda", "--distributed",
                        "--skip", "torch-import,autograd", "--driver-gpus", "2", "--expected-cuda-devices", "1"]
    assert cmd.suite_argv("/py", device="auto", require_cuda=False, distributed=False, timeout=120)[2:] == [
        "--device", "auto", "--timeout", "120"]


def test_junit_tree_marks_failures_and_skips():
    from envcheck.render.junit import junit_tree

    data = {
        "target": {"python": "/py", "torch": None},
        "checks": [
            {"id": "torch-import", "name": "torch imports", "status": "fail", "duration_s": 0.5,
             "message": "torch is not installed", "fix": "run `envcheck install`"},
            {"id": "autograd", "name": "autograd", "status": "skip", "duration_s": 0.0, "message": "needs torch", "fix": None},
            {"id": "broadcasting", "name": "broadcasting", "status": "ok", "duration_s": 0.25, "message": "fine", "fix": None},
        ],
    }
    root = ET.fromstring(ET.tostring(junit_tree(data).getroot()))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped"), suite.get("errors")) == ("3", "1", "1", "0")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["torch-import"].find("failure").get("message") == "torch is not installed"
    assert "fix: run `envcheck install`" in cases["torch-import"].find("failure").text
    assert cases["autograd"].find("skipped").get("message") == "needs torch"
    assert cases["broadcasting"].find("failure") is None and cases["broadcasting"].get("time") == "0.250"
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    # None values are left out, not written as "None"; the level is named (1 when data has none)
    assert props == {"level": "1", "target.python": "/py"}
    assert suite.get("name") == "envcheck verify (level 1)"


def test_driver_counts_come_from_a_file_written_late(suite, tmp_path):
    """The host writes --driver-info while the suite imports torch; the suite waits for it."""
    import threading

    path = tmp_path / "driver.json"
    ctx = _ctx(suite, _fake_torch(), ["--driver-info", str(path), "--timeout", "10"])
    timer = threading.Timer(0.2, lambda: path.write_text('{"driver_gpus": 4, "expected_cuda_devices": 2}'))
    timer.start()
    try:
        assert ctx.driver_counts() == (4, 2)
    finally:
        timer.cancel()
    missing = _ctx(suite, _fake_torch(), ["--driver-info", str(tmp_path / "never.json"), "--timeout", "0.2"])
    assert missing.driver_counts() == (None, None)
    flags = _ctx(suite, _fake_torch(), ["--driver-gpus", "1", "--expected-cuda-devices", "0"])
    assert flags.driver_counts() == (1, 0)


def test_visible_devices_out_of_range_is_named(suite, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    ctx = _ctx(suite, _fake_torch(cuda="13.0"), ["--driver-gpus", "1", "--expected-cuda-devices", "0", "--require-cuda"])
    with pytest.raises(suite.Fail, match="CUDA_VISIBLE_DEVICES='1' leaves none of the driver's 1 GPU"):
        suite.check_cuda_available(ctx)


def test_driver_probe_hands_counts_to_the_suite_file(tmp_path, monkeypatch):
    monkeypatch.setattr(cmd, "probe_driver_gpus", lambda runner, environ: (2, 1))
    probe = cmd._DriverProbe(runner=None, environ={}, wanted=True)
    path = probe.start(str(tmp_path))
    assert probe.result() == (2, 1)
    import json
    from pathlib import Path

    assert json.loads(Path(path).read_text()) == {"driver_gpus": 2, "expected_cuda_devices": 1}
    assert cmd._DriverProbe(runner=None, environ={}, wanted=False).start(str(tmp_path / "x")) is None


def test_runner_idle_timeout_kills_a_silent_child():
    """Runner.stream(idle_timeout=...) is what bounds a check that hangs outside Python's reach."""
    import sys
    import time

    from envcheck.runner import Runner

    lines = []
    start = time.monotonic()
    done = Runner().stream(
        [sys.executable, "-c", "import time; print('started', flush=True); time.sleep(30)"],
        timeout=60, idle_timeout=0.5, on_line=lines.append,
    )
    assert lines == ["started"]
    assert done.timed_out and done.returncode is None
    assert time.monotonic() - start < 10


def test_a_warn_once_cuda_warning_seen_while_planning_still_reaches_cuda_available(suite):
    import warnings

    calls = []

    def is_available():
        if not calls:
            warnings.warn("CUDA initialization: The NVIDIA driver on your system is too old (found version 11040)")
        calls.append(1)
        return False

    torch = _fake_torch(cuda="12.8")
    torch.cuda.is_available = is_available
    ctx = _ctx(suite, torch, ["--driver-gpus", "1", "--require-cuda"])
    suite.build_plan(ctx)  # the first is_available() call happens here
    with pytest.raises(suite.Fail, match="driver on your system is too old"):
        suite.check_cuda_available(ctx)
