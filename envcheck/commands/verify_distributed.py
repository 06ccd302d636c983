"""`envcheck verify --distributed --nnodes N --node-rank R --rdzv-endpoint HOST:PORT --nproc-per-node K`.

Runs PyTorch's own elastic launcher in the TARGET interpreter over inenv/dist_check.py; envcheck never
grows a launcher of its own (torchrun does the rendezvous, spawning and worker supervision):

    PYTHON -m torch.distributed.run --nnodes N --nproc-per-node K --node-rank R \
        --rdzv-backend c10d --rdzv-endpoint HOST:PORT --rdzv-id ID \
        --rdzv-conf join_timeout=T,read_timeout=T,is_host=true|false --max-restarts 0 \
        envcheck/inenv/dist_check.py --out DIR --device D --timeout T

Each rank writes DIR/rank-<RANK>.json (with every rank's record, gathered); this module merges them into
`data.distributed = {world_size, backend, ranks, slowest_rank, busbw}`.

Never hangs: the c10d rendezvous gives up after `join_timeout` (a peer that never comes), the workers'
process group times out collectives after --timeout (a peer that died), torchrun with
`--max-restarts 0` stops the job on the first failed worker, and the runner kills the launcher's
process group after a backstop (see `backstop_s`). Options: torchrun's `--rdzv-conf` keys
join_timeout / read_timeout / is_host are read in torch/distributed/elastic/rendezvous/
dynamic_rendezvous.py (create_handler) and c10d_rendezvous_backend.py (_create_tcp_store), torch 2.13.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import time
from typing import Mapping

from envcheck.errors import EnvcheckError, ExitCode, Msg
from envcheck.results import CheckResult, Result
from envcheck.runner import Completed, Runner

COMMAND = "verify"
DEFAULT_JOIN_TIMEOUT_S = 300  # how long node launches wait for each other (torchrun's default is 600)
DEFAULT_RDZV_ID = "envcheck-verify"
_ENDPOINT = re.compile(r"^(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(?P<port>\d{1,5}))?$")
_RDZV_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def wanted(nnodes: int | None, node_rank: int | None, rdzv_endpoint: str | None, nproc_per_node: int | None) -> bool:
    """Any launcher option given -> the torchrun path; none -> the in-suite single-machine check (pure)."""
    return any(v is not None for v in (nnodes, node_rank, rdzv_endpoint, nproc_per_node))


def parse_endpoint(text: str) -> tuple[str, int]:
    """'HOST:PORT' (IPv6 as '[::1]:29500') -> (host, port); exit 2 with a hint otherwise (pure)."""
    m = _ENDPOINT.match((text or "").strip())
    port = int(m.group("port")) if m and m.group("port") else None
    if not m or port is None or not (1 <= port <= 65535):
        raise EnvcheckError(
            Msg("--rdzv-endpoint must be HOST:PORT, not {text!r}", text=text),
            hint=Msg("pass the first node's address and a free port, e.g. --rdzv-endpoint node001:29500"),
            code="invalid-option",
        )
    return m.group("host"), port


def validate(*, nnodes: int | None, node_rank: int | None, rdzv_endpoint: str | None,
             nproc_per_node: int | None, rdzv_id: str, join_timeout: float) -> dict:
    """Check the launcher options together; return them with defaults filled (exit 2 on bad input)."""
    nnodes = 1 if nnodes is None else nnodes
    nproc = 1 if nproc_per_node is None else nproc_per_node
    if nnodes < 1 or nproc < 1:
        raise EnvcheckError(Msg("--nnodes and --nproc-per-node must be at least 1"), code="invalid-option")
    if node_rank is not None and not (0 <= node_rank < nnodes):
        raise EnvcheckError(Msg("--node-rank {node_rank} is outside 0..{last} (--nnodes {nnodes})",
                                node_rank=node_rank, last=nnodes - 1, nnodes=nnodes),
                            hint=Msg("number nodes from 0, e.g. --node-rank $SLURM_NODEID"), code="invalid-option")
    if nnodes > 1 and not rdzv_endpoint:
        raise EnvcheckError(Msg("--nnodes {nnodes} needs --rdzv-endpoint HOST:PORT (where the nodes meet)",
                                nnodes=nnodes),
                            hint=Msg("use the first node's host name and a free port, e.g. --rdzv-endpoint "
                                     "node001:29500"),
                            code="invalid-option")
    if rdzv_endpoint:
        parse_endpoint(rdzv_endpoint)
    if not _RDZV_ID.match(rdzv_id or ""):
        raise EnvcheckError(Msg("--rdzv-id must be letters, digits and . _ -, not {rdzv_id!r}",
                                rdzv_id=rdzv_id), code="invalid-option")
    if not join_timeout >= 1:
        raise EnvcheckError(Msg("--join-timeout must be at least 1 second"), code="invalid-option")
    return {"nnodes": nnodes, "node_rank": node_rank, "rdzv_endpoint": rdzv_endpoint, "nproc_per_node": nproc,
            "rdzv_id": rdzv_id, "join_timeout_s": int(join_timeout)}


def launcher_argv(python: str, script: str, out_dir: str, *, nnodes: int, nproc_per_node: int,
                  node_rank: int | None, rdzv_endpoint: str | None, rdzv_id: str, join_timeout_s: int,
                  device: str, timeout: float, level: int = 2) -> list[str]:
    """The exact torchrun command (pure). One node without an endpoint uses torchrun's --standalone."""
    argv = [python, "-m", "torch.distributed.run", "--nnodes", str(nnodes), "--nproc-per-node", str(nproc_per_node)]
    if rdzv_endpoint:
        conf = [f"join_timeout={join_timeout_s}", f"read_timeout={join_timeout_s}"]
        if node_rank is not None:  # node 0 hosts the c10d store: no guessing from host names
            conf.append(f"is_host={'true' if node_rank == 0 else 'false'}")
        if node_rank is not None:
            argv += ["--node-rank", str(node_rank)]
        argv += ["--rdzv-backend", "c10d", "--rdzv-endpoint", rdzv_endpoint, "--rdzv-id", rdzv_id,
                 "--rdzv-conf", ",".join(conf)]
    else:
        argv.append("--standalone")
    argv += ["--max-restarts", "0", "--monitor-interval", "0.5", script,
             "--out", out_dir, "--device", "cpu" if device == "cpu" else ("cuda" if device == "cuda" else "auto"),
             "--timeout", f"{timeout:g}", "--level", str(level)]
    return argv


def backstop_s(join_timeout_s: int, timeout: float) -> float:
    """The runner's kill deadline: rendezvous + collectives + torch imports + teardown, then kill."""
    return join_timeout_s + 3 * timeout + 60


def read_rank_files(out_dir: str) -> dict[int, dict]:
    """rank -> the record a rank wrote; unreadable files are skipped (a rank killed mid-write)."""
    out: dict[int, dict] = {}
    try:
        names = os.listdir(out_dir)
    except OSError:
        return out
    for name in names:
        m = re.match(r"^rank-(\d+)\.json$", name)
        if not m:
            continue
        try:
            with open(os.path.join(out_dir, name), encoding="utf-8") as fh:
                rec = json.load(fh)
        except (OSError, ValueError, RecursionError):
            continue
        if isinstance(rec, dict):
            out[int(m.group(1))] = rec
    return out


RANK_FIELDS = ("rank", "node_rank", "local_rank", "hostname", "device", "status", "seconds", "error")


def aggregate(files: Mapping[int, dict], *, expected_world: int, launcher_error: str | None) -> dict:
    """Merge the rank files into data.distributed (pure).

    Every rank gathered the whole world's records; local files win over gathered copies. A rank no one
    heard from is 'missing' with the launcher's reason.
    """
    world_size = next((r.get("world_size") for r in files.values() if isinstance(r.get("world_size"), int)), None)
    world_size = world_size or expected_world
    ranks: dict[int, dict] = {}
    for rec in files.values():
        for peer in rec.get("world") or []:
            if isinstance(peer, dict) and isinstance(peer.get("rank"), int):
                ranks.setdefault(peer["rank"], {k: peer.get(k) for k in RANK_FIELDS})
    for rank, rec in files.items():
        ranks[rank] = {k: rec.get(k) for k in RANK_FIELDS}
    for rank in range(world_size):
        if rank not in ranks:
            ranks[rank] = dict({k: None for k in RANK_FIELDS}, rank=rank, status="missing",
                               error="no result from this rank (it died, was stopped, or never started)"
                               + (f"; {launcher_error}" if launcher_error else ""))
    backend = next((r.get("backend") for r in files.values() if r.get("backend")), None)
    timed = [r for r in ranks.values() if isinstance(r.get("seconds"), (int, float))]
    slowest = max(timed, key=lambda r: r["seconds"])["rank"] if timed else None
    return {
        "world_size": world_size,
        "backend": backend,
        "ranks": [ranks[k] for k in sorted(ranks)],
        "slowest_rank": slowest,
        "busbw": aggregate_busbw(files),
    }


def aggregate_busbw(files: Mapping[int, dict]):
    """`verify --level 3`: every rank holds the same all-reduce figures (dist_check.measure_busbw averages
    the time over ranks), so rank 0's record is reported, else the first rank that has one."""
    if (files.get(0) or {}).get("busbw") is not None:
        return files[0]["busbw"]
    values = [r.get("busbw") for _, r in sorted(files.items()) if r.get("busbw") is not None]
    return values[0] if values else None


def describe_launcher(done: Completed, join_timeout_s: int) -> str | None:
    """Why torchrun failed, in one line, or None when it exited 0 (pure over Completed)."""
    if done.ok:
        return None
    text = (done.stderr or "") + (done.stdout or "")
    if done.error:
        return f"could not start the launcher: {done.describe_failure()}"
    if done.timed_out:
        return f"the launcher did not finish within {done.duration_s:.0f} s and was killed"
    if "No module named torch" in text:
        return "torch is not installed in the target interpreter"
    if "RendezvousTimeoutError" in text or "RendezvousConnectionError" in text or "DistNetworkError" in text \
            or "TimeoutError" in text and "rendezvous" in text.lower():
        return (f"the rendezvous did not complete within {join_timeout_s} s: a node never joined or the "
                f"endpoint is unreachable")
    if "ChildFailedError" in text or "exitcode" in text:
        # torchrun's failure table: "Root Cause (first observed failure):" then "rank : 3 (local_rank: 1)"
        # and "exitcode : 3 (pid: ...)" (torch/distributed/elastic/multiprocessing/errors/__init__.py)
        root = text[text.find("Root Cause"):] if "Root Cause" in text else text
        m = re.search(r"rank\s*:\s*(\d+).*?exitcode\s*:\s*(-?\d+)", root, re.S)
        who = f" (first failure: rank {m.group(1)}, exit code {m.group(2)})" if m else ""
        return f"a worker failed{who}"
    return done.describe_failure()


FIX = ("check every node can reach the endpoint (firewall, GLOO_SOCKET_IFNAME / NCCL_SOCKET_IFNAME), all nodes "
       "started with the same --nnodes and --rdzv-endpoint, and rerun with NCCL_DEBUG=INFO TORCH_DISTRIBUTED_DEBUG=DETAIL")


def run(
    *,
    python: str | None = None,
    device: str = "auto",
    distributed: bool = True,
    timeout: float = 120.0,
    nnodes: int | None = None,
    node_rank: int | None = None,
    rdzv_endpoint: str | None = None,
    nproc_per_node: int | None = None,
    rdzv_id: str = DEFAULT_RDZV_ID,
    join_timeout: float = DEFAULT_JOIN_TIMEOUT_S,
    level: int = 2,
    junit_xml: str | None = None,
    runner: Runner | None = None,
    environ: Mapping[str, str] | None = None,
    on_line=None,
) -> Result:
    """Launch torchrun on this node and report the world. Raises EnvcheckError for exit codes 2 and 4."""
    from envcheck.inenv import script_path
    from envcheck.probes.python import resolve_interpreter

    if not distributed:
        raise EnvcheckError(Msg("--nnodes, --node-rank, --rdzv-endpoint and --nproc-per-node need --distributed"),
                            hint=Msg("add --distributed"), code="invalid-option")
    if device == "mps":
        raise EnvcheckError(Msg("--distributed across nodes runs on CUDA (NCCL) or the CPU (gloo), not MPS"),
                            hint=Msg("pass --device auto, cuda or cpu"), code="invalid-option")
    from envcheck.inputs import validate_verify_options as validate_options

    validate_options("auto" if device == "auto" else device, timeout, junit_xml, level)
    opts = validate(nnodes=nnodes, node_rank=node_rank, rdzv_endpoint=rdzv_endpoint, nproc_per_node=nproc_per_node,
                    rdzv_id=rdzv_id, join_timeout=join_timeout)
    runner = runner or Runner()
    environ = os.environ if environ is None else environ
    interp = resolve_interpreter(python, runner, environ)  # exit 4 when it does not exist
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="envcheck-dist-") as out_dir:
        argv = launcher_argv(interp.path, script_path("dist_check"), out_dir, nnodes=opts["nnodes"],
                             nproc_per_node=opts["nproc_per_node"], node_rank=opts["node_rank"],
                             rdzv_endpoint=opts["rdzv_endpoint"], rdzv_id=opts["rdzv_id"],
                             join_timeout_s=opts["join_timeout_s"], device=device, timeout=timeout, level=level)
        done = runner.stream(argv, timeout=backstop_s(opts["join_timeout_s"], timeout), on_line=on_line,
                             merge_stderr=True, cwd=out_dir)
        files = read_rank_files(out_dir)
    why = describe_launcher(done, opts["join_timeout_s"])
    dist = aggregate(files, expected_world=opts["nnodes"] * opts["nproc_per_node"], launcher_error=why)
    checks = [CheckResult(f"rank-{r['rank']}", f"rank {r['rank']}", "ok" if r["status"] == "ok" else "fail",
                          float(r.get("seconds") or 0.0),
                          _rank_message(r, dist["backend"]), None)
              for r in dist["ranks"]]
    launch_ok = why is None
    checks.insert(0, CheckResult("torchrun-launch", "torchrun launch and rendezvous", "ok" if launch_ok else "fail",
                                 round(done.duration_s, 4),
                                 f"world of {dist['world_size']} over {dist['backend'] or 'unknown backend'}"
                                 if launch_ok else why, None if launch_ok else FIX))
    failed = [c for c in checks if c.status != "ok"]
    from envcheck.results import summarize_checks as summarize

    summary = summarize(checks)
    summary["wall_s"] = round(time.monotonic() - started, 3)
    data = {
        "target": {"python": interp.path,
                   "python_version": next((f.get("python") for f in files.values() if f.get("python")), None), "interpreter_source": interp.source.value,
                   "interpreter_why": interp.why,
                   "torch": next((f.get("torch") for f in files.values() if f.get("torch")), None),
                   "build": None, "device": device if device != "auto" else None},
        "checks": [c.to_dict() for c in checks],
        "summary": summary,
        "options": dict(opts, device=device, timeout_s=timeout, distributed=True, level=level),
        "launcher": {"argv": list(argv), "returncode": done.returncode, "timed_out": done.timed_out,
                     "output_tail": (done.stdout or "")[-4000:] if not launch_ok else None},
        "distributed": dist,
    }
    data["junit_xml"] = os.path.abspath(junit_xml) if junit_xml else None
    if junit_xml:
        from envcheck.render.junit import write_junit

        try:
            write_junit(data, junit_xml)
        except OSError as exc:
            raise EnvcheckError(Msg("could not write the JUnit report {junit_xml}: {reason}",
                                    junit_xml=junit_xml, reason=exc.strerror or exc),
                                hint=Msg("pass a writable path to --junit-xml"), exit_code=ExitCode.TOOL_FAILED,
                                code="junit-write-failed") from None
    return Result(command=COMMAND, exit_code=ExitCode.PROBLEMS if failed else ExitCode.OK, data=data)


def _rank_message(r: dict, backend: str | None) -> str:
    where = f"node {r['node_rank']} ({r['hostname']}), local rank {r['local_rank']}" if r.get("hostname") else ""
    if r["status"] == "ok":
        return f"all_reduce, all_gather, broadcast correct over {backend} on {r['device']}; {where}"
    return f"{r.get('error') or r['status']}" + (f"; {where}" if where else "")
