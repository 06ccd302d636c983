"""envcheck verify --level 3: measured throughput inside THIS interpreter (stdlib + torch, Python 3.7 syntax).

Run by the target interpreter, by file path (`python perf_check.py --device auto`), it prints ONE JSON
object; verify_suite.py loads the same functions from this file by path. Never imported by envcheck.

How each figure is measured (warm-up runs are not timed; the figure is the MEDIAN over repeats, each
repeat timing `iters` back-to-back operations; CUDA work is timed with CUDA events after
torch.cuda.synchronize(), CPU work with time.perf_counter()):

- matmul: C = A @ B with square N x N operands; FLOP = 2 * N^3 per product; TFLOPS = FLOP / s / 1e12.
  TF32 = float32 operands with torch.backends.cuda.matmul.allow_tf32 = True (restored afterwards),
  BF16 and FP16 = operands of that dtype (cuBLAS accumulates in FP32). On the CPU: float32, GFLOPS.
- device memory bandwidth: dst.copy_(src) of a large float32 buffer on the GPU; bytes moved =
  bytes read + bytes written = 2 * buffer size; GB/s = bytes / s / 1e9.
- host<->device: copies between a PINNED host buffer and a device buffer (non_blocking=True),
  host-to-device and device-to-host separately; GB/s = buffer size / s / 1e9.
"""
import argparse
import json
import sys
import time


def _median(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return None
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def _time_cuda(torch, fn, warmup, repeats, iters):
    """Median seconds per call of fn() on the current CUDA device, warm-up excluded."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000.0 / iters)
    return _median(times)


def _time_cpu(fn, warmup, repeats, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        times.append((time.perf_counter() - t0) / iters)
    return _median(times)


def cuda_dtypes(torch, index):
    """[(label, dtype, allow_tf32)] this GPU runs on tensor cores, with why the others are skipped."""
    major, minor = torch.cuda.get_device_capability(index)
    out, skipped = [], {}
    if major >= 8:
        out.append(("tf32", torch.float32, True))
        bf16_ok = True
        try:
            bf16_ok = bool(torch.cuda.is_bf16_supported())
        except Exception:
            pass
        if bf16_ok:
            out.append(("bf16", torch.bfloat16, False))
        else:
            skipped["bf16"] = "torch reports no BF16 support on this GPU"
    else:
        why = "compute capability %d.%d has no %s tensor cores (Ampere, 8.0, added them)" % (major, minor, "%s")
        skipped["tf32"] = why % "TF32"
        skipped["bf16"] = why % "BF16"
    if major >= 7:
        out.append(("fp16", torch.float16, False))
    else:
        skipped["fp16"] = "compute capability %d.%d has no tensor cores (Volta, 7.0, added them)" % (major, minor)
    return out, skipped


def measure_matmul_cuda(torch, device, dtype, allow_tf32, n=8192, warmup=3, repeats=7, iters=4):
    old = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = bool(allow_tf32)
    try:
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        c = torch.empty(n, n, device=device, dtype=dtype)
        sec = _time_cuda(torch, lambda: torch.matmul(a, b, out=c), warmup, repeats, iters)
        del a, b, c
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old
    return {"value": 2.0 * n ** 3 / sec / 1e12, "unit": "TFLOPS", "n": n, "seconds_per_op": sec,
            "warmup": warmup, "repeats": repeats, "iters": iters}


def measure_matmul_cpu(torch, n=512, warmup=2, repeats=5, iters=3):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    c = torch.empty(n, n)
    sec = _time_cpu(lambda: torch.matmul(a, b, out=c), warmup, repeats, iters)
    return {"value": 2.0 * n ** 3 / sec / 1e9, "unit": "GFLOPS", "n": n, "seconds_per_op": sec,
            "warmup": warmup, "repeats": repeats, "iters": iters, "threads": torch.get_num_threads()}


def measure_device_copy(torch, device, nbytes=1 << 30, warmup=3, repeats=7, iters=10):
    n = nbytes // 4
    src = torch.empty(n, device=device, dtype=torch.float32).fill_(1.0)
    dst = torch.empty_like(src)
    sec = _time_cuda(torch, lambda: dst.copy_(src), warmup, repeats, iters)
    del src, dst
    return {"value": 2.0 * n * 4 / sec / 1e9, "unit": "GB/s", "bytes": n * 4, "bytes_moved_per_op": 2 * n * 4,
            "seconds_per_op": sec, "warmup": warmup, "repeats": repeats, "iters": iters}


def measure_host_device(torch, device, nbytes=256 << 20, warmup=2, repeats=5, iters=3):
    n = nbytes // 4
    host = torch.empty(n, dtype=torch.float32).pin_memory()
    dev = torch.empty(n, device=device, dtype=torch.float32)
    h2d = _time_cuda(torch, lambda: dev.copy_(host, non_blocking=True), warmup, repeats, iters)
    d2h = _time_cuda(torch, lambda: host.copy_(dev, non_blocking=True), warmup, repeats, iters)
    del host, dev
    common = {"unit": "GB/s", "bytes": n * 4, "pinned": True, "warmup": warmup, "repeats": repeats, "iters": iters}
    a = dict(common, value=n * 4 / h2d / 1e9, seconds_per_op=h2d)
    b = dict(common, value=n * 4 / d2h / 1e9, seconds_per_op=d2h)
    return a, b


def _guard(results, key, fn):
    """Run one measurement; an error (out of memory, a driver fault) becomes its reason, not a crash."""
    try:
        results[key] = fn()
    except Exception as exc:
        results[key] = {"value": None, "error": "%s: %s" % (exc.__class__.__name__, str(exc).strip().splitlines()[0]
                                                             if str(exc).strip() else "")}


def measure_all(torch, device="auto", quick=False):
    """Every level-3 figure for one device -> {"device", "name", "metrics": {key: {...}}, "skipped": {key: why}}."""
    out = {"device": None, "name": None, "capability": None, "metrics": {}, "skipped": {}}
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if device == "cuda" and not use_cuda:
        out["skipped"]["gpu"] = "--device cuda, but torch.cuda.is_available() is False"
    m = out["metrics"]
    _guard(m, "cpu_matmul_fp32", lambda: measure_matmul_cpu(torch))
    if not use_cuda:
        why = out["skipped"].get("gpu") or ("no CUDA device (CPU-only torch build, or no GPU visible)"
                                            if device != "cpu" else "--device cpu")
        for k in ("matmul_tf32", "matmul_bf16", "matmul_fp16", "memory_bandwidth", "host_to_device", "device_to_host"):
            out["skipped"][k] = why
        out["device"] = "cpu"
        return out
    index = torch.cuda.current_device()
    dev = torch.device("cuda", index)
    out["device"] = "cuda:%d" % index
    out["name"] = torch.cuda.get_device_name(index)
    out["capability"] = "%d.%d" % torch.cuda.get_device_capability(index)
    n = 4096 if quick else 8192
    dtypes, skipped = cuda_dtypes(torch, index)
    for key, why in skipped.items():
        out["skipped"]["matmul_" + key] = why
    for label, dtype, tf32 in dtypes:
        _guard(m, "matmul_" + label, lambda dtype=dtype, tf32=tf32: measure_matmul_cuda(torch, dev, dtype, tf32, n=n))
    _guard(m, "memory_bandwidth", lambda: measure_device_copy(torch, dev, nbytes=(256 << 20) if quick else (1 << 30)))
    try:
        h2d, d2h = measure_host_device(torch, dev)
        m["host_to_device"], m["device_to_host"] = h2d, d2h
    except Exception as exc:
        err = {"value": None, "error": "%s: %s" % (exc.__class__.__name__, str(exc).strip()[:200])}
        m["host_to_device"], m["device_to_host"] = err, dict(err)
    try:
        torch.cuda.empty_cache()
    except Exception:
        pass
    return out


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    try:
        import torch
    except Exception as exc:
        print(json.dumps({"ok": False, "reason": "import torch failed: %s" % exc}))
        return 1
    result = measure_all(torch, args.device, quick=args.quick)
    result["ok"] = True
    result["torch"] = torch.__version__
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
