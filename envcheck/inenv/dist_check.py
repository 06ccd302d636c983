"""envcheck multi-node check: ONE rank, launched by PyTorch's own elastic launcher (torchrun).

Run BY THE TARGET interpreter under `python -m torch.distributed.run ... dist_check.py --out DIR`.
stdlib + torch only, Python 3.7 syntax, never imports envcheck.

Every rank: checks its device (a small matmul on its GPU, or the CPU), joins the process group
(NCCL on GPUs, gloo on CPU), runs all_reduce / all_gather / broadcast and checks the values, then
all_gather_object's every rank's record so each node's host sees the whole world. It writes ONE JSON
object to DIR/rank-<RANK>.json (written aside, then renamed) and exits 0, or 1 when a check failed.

Never hangs: collectives run under the process group timeout, a watchdog thread exits when the
launcher (our parent) is gone (torchrun starts workers in their own session, so a kill of the
launcher's process group does not reach them), and faulthandler exits after a hard deadline.

Test hook (never set it in production): ENVCHECK_VERIFY_FAULT=dist-rank-exit:R makes global rank R
exit with status 3 right after joining the process group, like a rank that dies mid-job.

Shell equivalent: `torchrun --nnodes 1 --nproc-per-node 2 --standalone dist_check.py --out /tmp/x`.
"""
from __future__ import print_function

import argparse
import datetime
import faulthandler
import json
import os
import socket
import sys
import threading
import time
import traceback


def _env_int(name, default=None):
    try:
        return int(os.environ.get(name, ""))
    except ValueError:
        return default


def _watch_parent(deadline_s):
    """Exit when the parent (torchrun's agent) dies or the hard deadline passes."""
    parent = os.getppid()
    faulthandler.dump_traceback_later(deadline_s, exit=True)

    def loop():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(4)

    t = threading.Thread(target=loop, name="envcheck-parent-watch")
    t.daemon = True
    t.start()


def _write(out_dir, rank, record):
    path = os.path.join(out_dir, "rank-%d.json" % rank)
    with open(path + ".part", "w") as fh:
        json.dump(record, fh)
    os.replace(path + ".part", path)


def _fault_rank(name):
    spec = os.environ.get("ENVCHECK_VERIFY_FAULT", "")
    for item in spec.split(","):
        key, _, value = item.strip().partition(":")
        if key == name:
            try:
                return int(value)
            except ValueError:
                return None
    return None


# Message sizes (bytes) for the level-3 all-reduce sweep: NCCL on GPUs up to 256 MiB, gloo on CPU kept small
# so a CPU run stays quick.
BUSBW_SIZES_GPU = (1 << 20, 8 << 20, 64 << 20, 256 << 20)
BUSBW_SIZES_CPU = (64 << 10, 1 << 20, 4 << 20)


def busbw_factor(world_size):
    """nccl-tests' all-reduce bus bandwidth factor 2(n-1)/n (doc/PERFORMANCE.md of NVIDIA/nccl-tests:
    "busBw = algBw * 2*(n-1)/n"): the per-link traffic of a ring all-reduce, so figures compare with
    the hardware's link bandwidth whatever the rank count."""
    return 2.0 * (world_size - 1) / world_size if world_size > 0 else 0.0


def _sig(x, digits=4):
    """x to `digits` significant figures: a slow gloo link (0.0174 GB/s) keeps its precision where a fixed
    number of decimals would flatten it to 0.017 or even 0."""
    return float("%.*g" % (digits, x))


def measure_busbw(dist, torch, device, world_size, sizes):
    """All-reduce (sum, float32) bus bandwidth over message sizes, the nccl-tests way: algbw = bytes / time,
    busbw = algbw * 2(n-1)/n. Per size: warm-up iterations (not timed), then `iters` back-to-back
    all_reduce calls between barriers, timed with CUDA events on GPUs (perf_counter on CPU); the time is
    the mean over ranks of each rank's per-call time (nccl-tests' default average). GB/s = 1e9 B/s."""
    cuda = getattr(device, "type", str(device)) == "cuda"
    if sizes is None:
        sizes = BUSBW_SIZES_GPU if cuda else BUSBW_SIZES_CPU
    warmup, iters = (5, 20) if cuda else (2, 5)
    rows = []
    for nbytes in sizes:
        n = max(1, nbytes // 4)
        t = torch.ones(n, dtype=torch.float32, device=device)
        for _ in range(warmup):
            dist.all_reduce(t)
        if cuda:
            torch.cuda.synchronize()
        dist.barrier()
        if cuda:
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iters):
                dist.all_reduce(t)
            end.record()
            end.synchronize()
            sec = start.elapsed_time(end) / 1000.0 / iters
        else:
            t0 = time.perf_counter()
            for _ in range(iters):
                dist.all_reduce(t)
            sec = (time.perf_counter() - t0) / iters
        avg = torch.tensor([sec], dtype=torch.float64, device=device)
        dist.all_reduce(avg)
        sec = float(avg.item()) / world_size
        algbw = n * 4 / sec / 1e9
        rows.append({"bytes": n * 4, "time_us": round(sec * 1e6, 2), "algbw_gbs": _sig(algbw),
                     "busbw_gbs": _sig(algbw * busbw_factor(world_size))})
        del t
    peak = max(r["busbw_gbs"] for r in rows) if rows else None
    return {"op": "all_reduce", "dtype": "float32", "world_size": world_size, "factor": busbw_factor(world_size),
            "warmup": warmup, "iters": iters, "sizes": rows, "peak_busbw_gbs": peak,
            "definition": "busbw = algbw * 2(n-1)/n, algbw = bytes / time (nccl-tests doc/PERFORMANCE.md)"}


def check(args, record):
    import torch
    import torch.distributed as dist

    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    world = _env_int("WORLD_SIZE", 1)
    record["torch"] = torch.__version__
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this build")
    use_cuda = args.device != "cpu" and torch.cuda.is_available()
    if args.device == "cuda" and not use_cuda:
        raise RuntimeError("--device cuda, but torch.cuda.is_available() is False on this rank")
    if use_cuda:
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise RuntimeError("local rank %d has no GPU: this node shows %d CUDA device(s); lower --nproc-per-node"
                               % (local_rank, count))
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
        record["device"] = "cuda:%d %s" % (local_rank, torch.cuda.get_device_name(local_rank))
        backend = "nccl" if dist.is_nccl_available() else "gloo"
    else:
        device = torch.device("cpu")
        record["device"] = "cpu"
        backend = "gloo"
    record["backend"] = backend
    a = torch.ones(64, 64, device=device)
    if float((a @ a).sum().item()) != 64.0 * 64 * 64:
        raise RuntimeError("a 64x64 matmul on %s gave a wrong sum" % record["device"])

    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=max(1.0, args.timeout)))
    t0 = time.time()
    try:
        if _fault_rank("dist-rank-exit") == rank:
            sys.stderr.write("envcheck test hook: rank %d exits\n" % rank)
            sys.stderr.flush()
            os._exit(3)
        t = torch.tensor([rank + 1.0], device=device)
        dist.all_reduce(t)
        want = world * (world + 1) / 2.0
        if float(t.item()) != want:
            raise RuntimeError("all_reduce(sum) gave %s, expected %s" % (float(t.item()), want))
        parts = [torch.zeros(1, device=device) for _ in range(world)]
        dist.all_gather(parts, torch.tensor([float(rank)], device=device))
        got = [float(p.item()) for p in parts]
        if got != [float(r) for r in range(world)]:
            raise RuntimeError("all_gather gave %s, expected 0..%d" % (got, world - 1))
        b = torch.tensor([float(1000 + world)], device=device) if rank == 0 else torch.zeros(1, device=device)
        dist.broadcast(b, 0)
        if float(b.item()) != 1000.0 + world:
            raise RuntimeError("broadcast from rank 0 gave %s, expected %s" % (float(b.item()), 1000.0 + world))
        if args.level >= 3:
            try:
                record["busbw"] = measure_busbw(dist, torch, device, world, None)
            except Exception as exc:  # a measurement problem is reported, it does not fail the rank
                record["busbw"] = {"error": "%s: %s" % (exc.__class__.__name__, str(exc).strip()[:300])}
        record["seconds"] = round(time.time() - t0, 4)
        record["status"] = "ok"
        mine = dict((k, record.get(k)) for k in ("rank", "node_rank", "local_rank", "hostname", "device", "status",
                                                  "seconds", "error"))
        world_records = [None] * world
        dist.all_gather_object(world_records, mine)
        record["world"] = world_records
    finally:
        try:
            dist.destroy_process_group()
        except Exception:
            pass


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--level", type=int, default=2)
    args = p.parse_args(argv)
    started = time.time()
    _watch_parent(args.timeout * 3 + 30)
    rank = _env_int("RANK", 0)
    record = {
        "rank": rank,
        "node_rank": _env_int("GROUP_RANK"),
        "local_rank": _env_int("LOCAL_RANK"),
        "world_size": _env_int("WORLD_SIZE"),
        "hostname": socket.gethostname(),
        "device": None,
        "backend": None,
        "status": "fail",
        "seconds": None,
        "error": None,
        "python": "%d.%d.%d" % sys.version_info[:3],
    }
    code = 0
    try:
        check(args, record)
    except Exception as exc:
        record["status"] = "fail"
        record["error"] = "%s: %s" % (exc.__class__.__name__, str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        record["traceback"] = traceback.format_exc()[-2000:]
        code = 1
    record["wall_s"] = round(time.time() - started, 4)
    _write(args.out, rank, record)
    return code


if __name__ == "__main__":
    sys.exit(main())
