"""verify --level 3: the sourced datasheet table (configs/gpu_peaks.json), judging measured figures against
it (pure; the GPU figures are SYNTHETIC numbers, no GPU here), the real CPU measurement by
envcheck/inenv/perf_check.py in this venv's torch, and the all-reduce bus bandwidth of a real two-rank
torchrun over gloo (dist_check.py --level 3)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from envcheck import gpupeaks
from envcheck.gpupeaks import PeaksError, judge, load_peaks, pcie_x16_gbs, peak_row, validate
from envcheck.inenv import script_path


# ----------------------------------------------------------------------------------- the table


def test_shipped_table_is_valid_and_every_row_is_sourced():
    rows = load_peaks()
    assert {r["name"] for r in rows} >= {"H100 SXM", "H100 PCIe", "H200 SXM", "A100 SXM4 80GB", "A100 40GB", "L40S",
                                         "RTX 3090", "RTX 4090", "RTX 5090", "V100 SXM2"}
    doc = json.loads(gpupeaks.Path(gpupeaks.__file__).parent.parent.joinpath("configs", "gpu_peaks.json").read_text())
    for r in rows:
        assert r["source"] and all(doc["sources"][k]["url"].startswith("https://") for k in r["source"])
    # dense, not sparsity: H100 SXM BF16 is half the datasheet's 1,979 (sparse) figure
    assert peak_row("NVIDIA H100 80GB HBM3")["bf16"] == pytest.approx(1979 / 2, abs=0.5)


@pytest.mark.parametrize("name, row", [
    ("NVIDIA H100 80GB HBM3", "H100 SXM"), ("NVIDIA H100 PCIe", "H100 PCIe"), ("NVIDIA H200", "H200 SXM"),
    ("NVIDIA H200 NVL", None), ("NVIDIA A100-SXM4-80GB", "A100 SXM4 80GB"), ("NVIDIA A100-SXM4-40GB", "A100 40GB"),
    ("NVIDIA A100 80GB PCIe", "A100 80GB PCIe"), ("NVIDIA L40S", "L40S"), ("NVIDIA GeForce RTX 3090", "RTX 3090"),
    ("NVIDIA GeForce RTX 3090 Ti", None), ("NVIDIA GeForce RTX 4090", "RTX 4090"), ("NVIDIA GeForce RTX 5090", "RTX 5090"),
    ("Tesla V100-SXM2-16GB", "V100 SXM2"), ("Tesla V100-PCIE-16GB", None), ("", None), (None, None),
])
def test_peak_row_by_torch_device_name(name, row):
    got = peak_row(name)
    assert (got["name"] if got else None) == row


@pytest.mark.parametrize("doc, words", [
    ({}, "'gpus' list"),
    ({"sources": {"s": {}}, "gpus": [{"name": "X"}]}, "needs 'name' and 'match'"),
    ({"sources": {"s": {}}, "gpus": [{"name": "X", "match": "(", "source": ["s"]}]}, "not a regular expression"),
    ({"sources": {"s": {}}, "gpus": [{"name": "X", "match": "X", "fp16": -1, "source": ["s"]}]}, "'fp16' must be"),
    ({"sources": {"s": {}}, "gpus": [{"name": "X", "match": "X", "pcie_gen": 7, "source": ["s"]}]}, "'pcie_gen'"),
    ({"sources": {"s": {}}, "gpus": [{"name": "X", "match": "X", "source": ["nope"]}]}, "cites keys"),
])
def test_malformed_table_names_row_and_problem(doc, words):
    with pytest.raises(PeaksError) as info:
        validate(doc, "gpu_peaks.json")
    assert words in str(info.value) and "gpu_peaks.json" in str(info.value)


def test_pcie_per_direction_peaks():
    assert (pcie_x16_gbs(3), pcie_x16_gbs(4), pcie_x16_gbs(5), pcie_x16_gbs(None)) == (15.75, 31.51, 63.02, None)


# --------------------------------------------------------------------------------------- judge


def synthetic(name="NVIDIA H100 80GB HBM3", **values):
    """SYNTHETIC perf_check output (no GPU on this machine)."""
    units = {"cpu_matmul_fp32": "GFLOPS", "memory_bandwidth": "GB/s", "host_to_device": "GB/s", "device_to_host": "GB/s"}
    metrics = {k: {"value": v, "unit": units.get(k, "TFLOPS")} for k, v in values.items()}
    return {"device": "cuda:0", "name": name, "capability": "9.0", "metrics": metrics, "skipped": {}}


def by_metric(result):
    return {f["metric"]: f for f in result["figures"]}


def test_healthy_figures_are_ok_with_fractions():
    r = judge(synthetic(matmul_tf32=380.0, matmul_bf16=700.0, matmul_fp16=710.0, memory_bandwidth=2900.0,
                        host_to_device=53.0, device_to_host=54.0, cpu_matmul_fp32=150.0))
    f = by_metric(r)
    assert r["warnings"] == [] and r["datasheet"]["row"] == "H100 SXM"
    assert f["matmul_bf16"]["fraction"] == pytest.approx(700 / 989.5, abs=1e-3) and f["matmul_bf16"]["status"] == "ok"
    assert f["memory_bandwidth"]["peak"] == 3350 and f["host_to_device"]["peak"] == 63.02
    assert f["cpu_matmul_fp32"]["status"] == "ok" and f["cpu_matmul_fp32"]["peak"] is None


def test_far_below_peak_is_a_warning_with_causes():
    r = judge(synthetic(matmul_bf16=300.0, memory_bandwidth=1000.0, host_to_device=12.0))
    f = by_metric(r)
    assert [f[k]["status"] for k in ("matmul_bf16", "memory_bandwidth", "host_to_device")] == ["low"] * 3
    assert len(r["warnings"]) == 3
    assert "30% of the H100 SXM datasheet peak" in r["warnings"][0] and "power cap" in r["warnings"][0]
    assert "gpu-pcie-link-degraded" in r["warnings"][2]


def test_no_datasheet_value_or_row_is_said_not_guessed():
    r = judge(synthetic("NVIDIA GeForce RTX 5090", matmul_tf32=90.0, matmul_fp16=180.0))
    f = by_metric(r)
    assert f["matmul_tf32"]["status"] == "no-peak" and "not in the sources read" in f["matmul_tf32"]["note"]
    assert f["matmul_fp16"]["status"] == "ok"
    r = judge(synthetic("NVIDIA B200", matmul_bf16=1500.0))
    assert r["datasheet"] is None and "no datasheet row for 'NVIDIA B200'" in by_metric(r)["matmul_bf16"]["note"]


def test_errors_and_skips_are_carried():
    perf = synthetic(matmul_fp16=None)
    perf["metrics"]["matmul_fp16"]["error"] = "OutOfMemoryError: CUDA out of memory"
    perf["skipped"] = {"matmul_tf32": "compute capability 7.0 has no TF32 tensor cores"}
    f = by_metric(judge(perf))
    assert f["matmul_fp16"]["status"] == "error" and "out of memory" in f["matmul_fp16"]["note"]
    assert f["matmul_tf32"]["status"] == "skipped"


# ---------------------------------------------------------------------------- real CPU measurement


@pytest.mark.e2e  # the real suite in the real torch interpreter
def test_perf_check_on_this_cpu_reports_gflops_and_skips_gpu_with_reason():
    done = subprocess.run([sys.executable, script_path("perf_check"), "--device", "auto"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["ok"] and out["device"] == "cpu" and out["metrics"]["cpu_matmul_fp32"]["value"] > 0
    assert out["metrics"]["cpu_matmul_fp32"]["unit"] == "GFLOPS"
    assert set(out["skipped"]) == {"matmul_tf32", "matmul_bf16", "matmul_fp16", "memory_bandwidth", "host_to_device",
                                   "device_to_host"}
    assert "no CUDA device" in out["skipped"]["memory_bandwidth"]
    j = judge(out)
    assert [f["status"] for f in j["figures"] if f["metric"] == "cpu_matmul_fp32"] == ["ok"]


# ------------------------------------------------------------------------------------ busbw


def test_busbw_factor_is_nccl_tests_definition():
    from envcheck.inenv.dist_check import busbw_factor

    assert [busbw_factor(n) for n in (1, 2, 4, 8)] == [0.0, 1.0, 1.5, 1.75]


@pytest.mark.parametrize("x, want", [
    (0.017409414514929337, 0.01741),  # a slow gloo link keeps its figures (3 decimals gave 0.017: CI red)
    (0.00049, 0.00049),               # never flattened to 0 on a loaded runner
    (123.456789, 123.5),
    (4321.9, 4322.0),
])
def test_busbw_figures_keep_four_significant_digits(x, want):
    from envcheck.inenv.dist_check import _sig

    assert _sig(x) == want


def test_aggregate_busbw_prefers_rank_zero():
    from envcheck.commands.verify_distributed import aggregate_busbw

    assert aggregate_busbw({1: {"busbw": {"r": 1}}, 0: {"busbw": {"r": 0}}}) == {"r": 0}
    assert aggregate_busbw({1: {"busbw": {"r": 1}}, 0: {}}) == {"r": 1}
    assert aggregate_busbw({0: {}}) is None


def test_busbw_text():
    from envcheck.render.verify_distributed import busbw_text

    b = {"peak_busbw_gbs": 1.5, "sizes": [{"bytes": 1 << 20}, {"bytes": 4 << 20}]}
    assert busbw_text(b) == ", all-reduce bus bandwidth up to 1.5 GB/s (nccl-tests busbw, 2 sizes up to 4 MiB)"
    assert "not measured" in busbw_text({"error": "RuntimeError: x"}) and busbw_text(None) == ""


@pytest.mark.e2e
def test_two_rank_torchrun_level3_measures_busbw(tmp_path):
    """Real: torch.distributed.run --standalone with 2 CPU ranks over gloo runs dist_check.py --level 3."""
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                           script_path("dist_check"), "--out", str(out), "--device", "cpu", "--timeout", "60",
                           "--level", "3"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    records = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    assert len(records) == 2 and all(r["status"] == "ok" for r in records)
    b = records[0]["busbw"]
    assert b["world_size"] == 2 and b["factor"] == 1.0 and [s["bytes"] for s in b["sizes"]] == [64 << 10, 1 << 20, 4 << 20]
    for s in b["sizes"]:
        assert s["busbw_gbs"] == pytest.approx(s["algbw_gbs"]) and s["algbw_gbs"] > 0  # 2(n-1)/n = 1 for n = 2
        assert s["algbw_gbs"] == pytest.approx(s["bytes"] / (s["time_us"] / 1e6) / 1e9, rel=0.02)
    assert b["peak_busbw_gbs"] == max(s["busbw_gbs"] for s in b["sizes"])


# ------------------------------------------------------------------------- host module (envcheck/perf.py)


from envcheck.perf import annotate_checks, judge_events, merge_perf_events, render_performance  # noqa: E402
from envcheck.results import CheckResult  # noqa: E402


def suite_events():
    """SYNTHETIC end-event payloads of the three perf-* checks on one H100 (the suite's shape)."""
    base = {"device": "cuda:0", "name": "NVIDIA H100 80GB HBM3", "capability": "9.0"}
    return {
        "perf-matmul:0": dict(base, metrics={"matmul_tf32": {"value": 100.0, "unit": "TFLOPS"},
                                             "matmul_bf16": {"value": 700.0, "unit": "TFLOPS"},
                                             "matmul_fp16": {"value": 710.0, "unit": "TFLOPS"}}, skipped={}),
        "perf-memory-bandwidth:0": dict(base, metrics={"memory_bandwidth": {"value": 2900.0, "unit": "GB/s"}}, skipped={}),
        "perf-host-device:0": dict(base, metrics={"host_to_device": {"value": 55.0, "unit": "GB/s"},
                                                  "device_to_host": {"value": 50.0, "unit": "GB/s"}}, skipped={}),
    }


def test_merge_perf_events_per_device():
    merged = merge_perf_events(dict(suite_events(), junk="not a dict", **{"perf-matmul:cpu": {
        "device": "cpu", "metrics": {"cpu_matmul_fp32": {"value": 9.0, "unit": "GFLOPS"}}, "skipped": {}}}))
    assert set(merged) == {"cuda:0", "cpu"}
    assert set(merged["cuda:0"]["metrics"]) == {"matmul_tf32", "matmul_bf16", "matmul_fp16", "memory_bandwidth",
                                                "host_to_device", "device_to_host"}


def test_low_figure_is_ok_with_warning_never_fail():
    perf = judge_events(suite_events())
    (dev,) = perf["devices"]
    assert dev["datasheet"]["row"] == "H100 SXM" and dev["device"] == "cuda:0"
    assert perf["warnings"] == [w for w in perf["warnings"] if w.startswith("cuda:0: TF32 matmul:")] and len(perf["warnings"]) == 1
    checks = [CheckResult("perf-matmul:0", "matmul", "ok", 1.0, "raw"),
              CheckResult("perf-memory-bandwidth:0", "mem", "ok", 1.0, "raw"),
              CheckResult("perf-host-device:0", "host", "ok", 1.0, "raw"),
              CheckResult("autograd", "autograd", "ok", 0.1, "untouched")]
    out = {c.id: c for c in annotate_checks(checks, perf)}
    assert [c.status for c in out.values()] == ["ok"] * 4
    m = out["perf-matmul:0"].message
    assert m.startswith("cuda:0: TF32 matmul 100 TFLOPS = 20% of 494.5 LOW") and "WARNING: TF32 matmul:" in m
    assert "power cap" in m and "(H100 SXM datasheet)" in m
    assert "WARNING" not in out["perf-memory-bandwidth:0"].message and "87% of 3350" in out["perf-memory-bandwidth:0"].message
    assert out["autograd"].message == "untouched"


def test_failed_or_skipped_perf_checks_keep_their_message():
    perf = judge_events(suite_events())
    c = CheckResult("perf-matmul:0", "matmul", "fail", 1.0, "matmul throughput on cuda:0 not measured: OOM", "free it")
    assert annotate_checks([c], perf) == [c]
    assert judge_events({}) is None and annotate_checks([c], None) == [c]


def test_render_performance_lines():
    lines = render_performance(judge_events(suite_events()))
    assert lines[0] == "performance on NVIDIA H100 80GB HBM3 (cuda:0) vs the H100 SXM datasheet:"
    assert "  BF16 matmul 700 TFLOPS = 71% of 989.5" in lines
    assert lines[-1].startswith("  warning: TF32 matmul: 100.0 TFLOPS is 20% of the H100 SXM datasheet peak")
    assert render_performance(None) == []


# ------------------------------------------------------------------ the suite's level-3 rows (issue 9's design)


def test_level_3_adds_perf_checks_per_device_and_declares_level_3():
    import importlib.util
    import types

    spec = importlib.util.spec_from_file_location("suite_for_perf", script_path("verify_suite"))
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    assert 3 in suite.LEVELS
    rows = {r[0]: r[-1] for r in suite.PER_DEVICE}
    assert rows["perf-matmul"] == rows["perf-memory-bandwidth"] == rows["perf-host-device"] == 3

    def plan(level, cuda=None, count=0):
        ctx = suite.Ctx(suite.parse_args(["--level", str(level)]))
        ctx.torch = types.SimpleNamespace(version=types.SimpleNamespace(cuda=cuda, hip=None),
                                          cuda=types.SimpleNamespace(is_available=lambda: count > 0,
                                                                     device_count=lambda: count))
        return [c[0] for c in suite.build_plan(ctx)]

    assert not [i for i in plan(2) if i.startswith("perf-")]
    assert {"perf-matmul:cpu", "perf-memory-bandwidth:cpu", "perf-host-device:cpu"} <= set(plan(3))
    gpu = plan(3, "13.0", 2)
    assert {f"perf-{k}:{i}" for k in ("matmul", "memory-bandwidth", "host-device") for i in (0, 1)} <= set(gpu)


@pytest.mark.e2e  # the real suite in the real torch interpreter
def test_cli_verify_level_3_on_this_cpu(torch_python):
    """Real: the suite in this venv's CPU torch at level 3: perf-matmul:cpu measures GFLOPS, the GPU perf
    checks skip with the reason, data.performance carries the figures, exit 0."""
    from typer.testing import CliRunner

    from envcheck.cli import app

    result = CliRunner().invoke(app, ["verify", "--json", "--level", "3", "--python", torch_python, "--device", "cpu"])
    assert result.exit_code == 0, result.stdout[-2000:]
    data = json.loads(result.stdout)["data"]
    checks = {c["id"]: c for c in data["checks"]}
    assert checks["perf-matmul:cpu"]["status"] == "ok" and "CPU FP32 matmul" in checks["perf-matmul:cpu"]["message"]
    assert checks["perf-memory-bandwidth:cpu"]["status"] == "skip" and checks["perf-host-device:cpu"]["status"] == "skip"
    (dev,) = data["performance"]["devices"]
    fig = {f["metric"]: f for f in dev["figures"]}["cpu_matmul_fp32"]
    assert dev["device"] == "cpu" and fig["measured"] > 0 and fig["unit"] == "GFLOPS"
    assert data["level"] == 3 and data["performance"]["method"]["low_threshold"].startswith("a figure below 0.5")


@pytest.mark.e2e
def test_cli_distributed_level_3_reports_busbw(envcheck_bin, torch_python, clean_env):
    """Real: `envcheck verify --distributed --nproc-per-node 2 --level 3` (one node, torchrun --standalone,
    gloo on CPU) puts the all-reduce bus bandwidth in data.distributed.busbw and the world line."""
    env = dict(clean_env, GLOO_SOCKET_IFNAME="lo")
    env.pop("ENVCHECK_VERIFY_FAULT", None)
    done = subprocess.run([envcheck_bin, "verify", "--distributed", "--json", "--device", "cpu", "--python", torch_python,
                           "--nproc-per-node", "2", "--level", "3", "--timeout", "60"], capture_output=True, text=True,
                          env=env, cwd=env["HOME"], timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    d = json.loads(done.stdout)["data"]["distributed"]
    assert d["world_size"] == 2 and d["backend"] == "gloo"
    b = d["busbw"]
    assert b["op"] == "all_reduce" and b["factor"] == 1.0 and len(b["sizes"]) == 3 and b["peak_busbw_gbs"] > 0
    assert "all-reduce bus bandwidth up to" in done.stderr


def test_suite_perf_checks_send_their_figures_in_the_end_event():
    """The suite's GPU path with a SYNTHETIC torch and measurement module (no GPU here): the end event
    carries "perf" with the device, its name and the figures; a pre-Volta GPU skips perf-matmul."""
    import importlib.util
    import types

    spec = importlib.util.spec_from_file_location("suite_for_perf_events", script_path("verify_suite"))
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    events = []
    suite.emit = events.append
    ctx = suite.Ctx(suite.parse_args(["--level", "3"]))
    ctx.torch = types.SimpleNamespace(
        device=lambda s: s,
        cuda=types.SimpleNamespace(set_device=lambda i: None, get_device_name=lambda i: "NVIDIA H100 80GB HBM3",
                                   get_device_capability=lambda i: (9, 0)))
    fig = lambda v, u: {"value": v, "unit": u}  # noqa: E731
    ctx.perf_module = types.SimpleNamespace(
        cuda_dtypes=lambda torch, i: ([("tf32", "f32", True), ("bf16", "bf16", False)], {"fp16": "synthetic skip"}),
        measure_matmul_cuda=lambda torch, dev, dtype, tf32: fig(400.0 if tf32 else 700.0, "TFLOPS"),
        measure_device_copy=lambda torch, dev: fig(3000.0, "GB/s"),
        measure_host_device=lambda torch, dev: (fig(55.0, "GB/s"), fig(52.0, "GB/s")))
    for prefix, _, fn, _ in [r for r in suite.PER_DEVICE if r[0].startswith("perf-")]:
        suite.run_check(ctx, prefix + ":0", prefix, suite._bind(fn, "cuda:0"), {})
    ends = [e for e in events if e["event"] == "end"]
    assert [e["status"] for e in ends] == ["ok", "ok", "ok"]
    assert ends[0]["perf"]["name"] == "NVIDIA H100 80GB HBM3" and ends[0]["perf"]["skipped"] == {"matmul_fp16": "synthetic skip"}
    assert ends[0]["message"] == "measured on cuda:0: TF32 400.0 TFLOPS, BF16 700.0 TFLOPS"
    perf = judge_events({e["id"]: e["perf"] for e in ends})
    assert perf["devices"][0]["datasheet"]["row"] == "H100 SXM" and perf["warnings"] == []
    ctx.perf_module.cuda_dtypes = lambda torch, i: ([], {"fp16": "compute capability 6.0 has no tensor cores"})
    suite.run_check(ctx, "perf-matmul:1", "m", suite._bind(suite.check_perf_matmul, "cuda:1"), {})
    assert events[-1]["status"] == "skip" and "no tensor cores" in events[-1]["message"]


def _fake_cuda_torch(ms_per_timing):
    """SYNTHETIC torch for perf_check's CUDA arithmetic: every timed window lasts `ms_per_timing` ms."""
    import types

    class Event:
        def __init__(self, enable_timing=False):
            pass

        def record(self):
            pass

        def synchronize(self):
            pass

        def elapsed_time(self, other):
            return ms_per_timing

    class T:
        def copy_(self, other, non_blocking=False):
            return self

        def fill_(self, v):
            return self

        def pin_memory(self):
            return self

    flags = types.SimpleNamespace(allow_tf32=False)
    return types.SimpleNamespace(
        float32="f32", randn=lambda *a, **k: T(), empty=lambda *a, **k: T(), empty_like=lambda t: T(),
        matmul=lambda a, b, out=None: out, backends=types.SimpleNamespace(cuda=types.SimpleNamespace(matmul=flags)),
        cuda=types.SimpleNamespace(Event=Event, synchronize=lambda: None), flags=flags)


def test_perf_check_arithmetic_on_synthetic_cuda_timings():
    import importlib.util

    spec = importlib.util.spec_from_file_location("perf_check_t", script_path("perf_check"))
    pc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pc)
    torch = _fake_cuda_torch(8.0)  # 8 ms per timed window
    m = pc.measure_matmul_cuda(torch, "cuda:0", "f32", True, n=1024, warmup=1, repeats=3, iters=4)
    assert m["seconds_per_op"] == pytest.approx(0.002)  # 8 ms / 4 calls
    assert m["value"] == pytest.approx(2 * 1024 ** 3 / 0.002 / 1e12) and torch.flags.allow_tf32 is False  # restored
    c = pc.measure_device_copy(torch, "cuda:0", nbytes=1 << 30, warmup=1, repeats=3, iters=10)
    assert c["bytes_moved_per_op"] == 2 << 30 and c["value"] == pytest.approx((2 << 30) / 0.0008 / 1e9)
    h2d, d2h = pc.measure_host_device(torch, "cuda:0", nbytes=256 << 20, warmup=1, repeats=3, iters=4)
    assert h2d["pinned"] and h2d["value"] == pytest.approx((256 << 20) / 0.002 / 1e9) == d2h["value"]
    assert pc._median([3.0, 1.0, 2.0]) == 2.0 and pc._median([4.0, 1.0, 2.0, 3.0]) == 2.5 and pc._median([]) is None
