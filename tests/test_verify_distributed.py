"""`envcheck verify --distributed` under torchrun: the exact launcher argv, option validation, merging the
rank files into data.distributed, and reading torchrun's failure output (pure); then the real thing:
two launches of envcheck on this machine rendezvous on 127.0.0.1 over gloo with the real CPU torch wheel
(no GPU here, no stand-ins)."""
from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest

from envcheck.commands import verify_distributed as vd
from envcheck.errors import EnvcheckError
from envcheck.runner import Completed


def _argv(**kw):
    base = dict(nnodes=2, nproc_per_node=4, node_rank=1, rdzv_endpoint="node001:29500", rdzv_id="job7",
                join_timeout_s=30, device="auto", timeout=60.0)
    base.update(kw)
    return vd.launcher_argv("/env/bin/python", "/pkg/dist_check.py", "/tmp/out", **base)


def test_launcher_argv_is_torchrun_with_c10d_rendezvous():
    assert _argv() == [
        "/env/bin/python", "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "4",
        "--node-rank", "1", "--rdzv-backend", "c10d", "--rdzv-endpoint", "node001:29500", "--rdzv-id", "job7",
        "--rdzv-conf", "join_timeout=30,read_timeout=30,is_host=false", "--max-restarts", "0",
        "--monitor-interval", "0.5", "/pkg/dist_check.py", "--out", "/tmp/out", "--device", "auto",
        "--timeout", "60", "--level", "2"]
    assert "is_host=true" in _argv(node_rank=0)[_argv(node_rank=0).index("--rdzv-conf") + 1]


def test_one_node_without_endpoint_is_standalone():
    argv = _argv(nnodes=1, node_rank=None, rdzv_endpoint=None, device="cpu")
    assert "--standalone" in argv and "--rdzv-backend" not in argv and "--node-rank" not in argv
    assert argv[argv.index("--device") + 1] == "cpu"


def test_wanted_only_with_launcher_options():
    assert not vd.wanted(None, None, None, None)
    assert vd.wanted(None, None, None, 2) and vd.wanted(2, 0, "h:1", None)


@pytest.mark.parametrize("kw, fragment", [
    (dict(nnodes=2), "needs --rdzv-endpoint"),
    (dict(nnodes=2, node_rank=2, rdzv_endpoint="h:1"), "outside 0..1"),
    (dict(nnodes=2, rdzv_endpoint="host-without-port"), "HOST:PORT"),
    (dict(nnodes=2, rdzv_endpoint="h:70000"), "HOST:PORT"),
    (dict(nproc_per_node=0), "at least 1"),
    (dict(rdzv_id="a b;rm"), "--rdzv-id"),
])
def test_validate_rejects(kw, fragment):
    args = dict(nnodes=None, node_rank=None, rdzv_endpoint=None, nproc_per_node=None, rdzv_id="x", join_timeout=5)
    args.update(kw)
    with pytest.raises(EnvcheckError) as info:
        vd.validate(**args)
    assert fragment in info.value.message and int(info.value.exit_code) == 2


def test_parse_endpoint_ipv6_and_names():
    assert vd.parse_endpoint("[::1]:29500") == ("[::1]", 29500)
    assert vd.parse_endpoint("node-1.cluster.local:1234") == ("node-1.cluster.local", 1234)


def _rec(rank, node, local, status="ok", seconds=0.01, world=None, error=None):
    r = {"rank": rank, "node_rank": node, "local_rank": local, "hostname": f"n{node}", "device": "cpu",
         "status": status, "seconds": seconds, "error": error, "world_size": 4, "backend": "gloo"}
    if world is not None:
        r["world"] = world
    return r


def test_aggregate_merges_the_gathered_world_and_names_the_slowest():
    world = [_rec(0, 0, 0), _rec(1, 0, 1, seconds=0.5), _rec(2, 1, 0), _rec(3, 1, 1)]
    files = {2: _rec(2, 1, 0, world=world), 3: _rec(3, 1, 1, world=world)}
    d = vd.aggregate(files, expected_world=4, launcher_error=None)
    assert d["world_size"] == 4 and d["backend"] == "gloo" and d["busbw"] is None
    assert [r["rank"] for r in d["ranks"]] == [0, 1, 2, 3] and d["slowest_rank"] == 1
    assert set(d["ranks"][0]) == set(vd.RANK_FIELDS)


def test_aggregate_marks_ranks_no_one_heard_from():
    files = {0: _rec(0, 0, 0, status="fail", seconds=None, error="RuntimeError: Connection closed by peer")}
    d = vd.aggregate(files, expected_world=4, launcher_error="a worker failed (first failure: rank 3, exit code 3)")
    assert [r["status"] for r in d["ranks"]] == ["fail", "missing", "missing", "missing"]
    assert "rank 3, exit code 3" in d["ranks"][3]["error"] and d["slowest_rank"] is None


def test_describe_launcher_reads_torchrun_root_cause():
    text = ("[1]:\n  rank      : 1 (local_rank: 1)\n  exitcode  : -15 (pid: 9)\nRoot Cause (first observed failure):\n"
            "[0]:\n  host      : localhost\n  rank      : 3 (local_rank: 1)\n  exitcode  : 3 (pid: 10)\n"
            "torch.distributed.elastic.multiprocessing.errors.ChildFailedError:\n")
    done = Completed(("python",), 1, text, "")
    assert vd.describe_launcher(done, 30) == "a worker failed (first failure: rank 3, exit code 3)"
    timeout = Completed(("python",), 1, "torch.distributed.elastic.rendezvous.api.RendezvousTimeoutError\n", "")
    assert "did not complete within 30 s" in vd.describe_launcher(timeout, 30)
    assert vd.describe_launcher(Completed(("python",), 0), 30) is None
    assert "killed" in vd.describe_launcher(Completed(("python",), None, duration_s=9, timed_out=True), 30)


def test_launcher_options_need_distributed():
    with pytest.raises(EnvcheckError) as info:
        vd.run(distributed=False, nnodes=2, rdzv_endpoint="h:1")
    assert "--distributed" in info.value.message and int(info.value.exit_code) == 2


# --------------------------------------------------------------------------- real torchrun, real gloo


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(envcheck_bin, torch_python, env, node_rank, port, *, nnodes=2, nproc=2, join=20, timeout=15, extra=()):
    argv = [envcheck_bin, "verify", "--distributed", "--json", "--device", "cpu", "--python", torch_python,
            "--nnodes", str(nnodes), "--nproc-per-node", str(nproc), "--node-rank", str(node_rank),
            "--rdzv-endpoint", f"127.0.0.1:{port}", "--join-timeout", str(join), "--timeout", str(timeout), *extra]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=env["HOME"])


def _finish(proc, limit=150):
    out, err = proc.communicate(timeout=limit)  # a hang fails the test here instead of blocking the run
    return proc.returncode, json.loads(out), err.decode(errors="replace")


@pytest.fixture
def dist_env(clean_env):
    env = dict(clean_env, GLOO_SOCKET_IFNAME="lo")  # loopback: this VM's host name need not resolve
    env.pop("ENVCHECK_VERIFY_FAULT", None)
    return env


@pytest.mark.e2e
def test_e2e_two_launches_form_a_world_of_four(envcheck_bin, torch_python, dist_env, tmp_path):
    port = _free_port()
    junit = tmp_path / "reports" / "dist.xml"
    procs = [_launch(envcheck_bin, torch_python, dist_env, r, port, extra=("--junit-xml", str(junit)) if r else ())
             for r in (0, 1)]
    results = [_finish(p) for p in procs]
    for code, envelope, err in results:
        assert code == 0, err[-2000:]
        d = envelope["data"]["distributed"]
        assert d["world_size"] == 4 and d["backend"] == "gloo" and d["busbw"] is None
        assert [r["rank"] for r in d["ranks"]] == [0, 1, 2, 3]
        assert all(r["status"] == "ok" and r["device"] == "cpu" for r in d["ranks"])
        assert sorted((r["node_rank"], r["local_rank"]) for r in d["ranks"]) == [(0, 0), (0, 1), (1, 0), (1, 1)]
        assert d["slowest_rank"] in (0, 1, 2, 3)
        assert envelope["data"]["launcher"]["argv"][1:3] == ["-m", "torch.distributed.run"]
    xml = junit.read_text()
    assert xml.count("<testcase") == 5 and 'name="rank-3"' in xml and "<failure" not in xml


@pytest.mark.e2e
@pytest.mark.parametrize("alone", [0, 1], ids=["store-host-alone", "client-alone"])
def test_e2e_a_peer_that_never_comes_fails_within_the_join_timeout(envcheck_bin, torch_python, dist_env, alone):
    port = _free_port()
    t0 = time.monotonic()
    code, envelope, err = _finish(_launch(envcheck_bin, torch_python, dist_env, alone, port, nproc=1, join=5,
                                          timeout=10))
    assert code == 1, err[-2000:]
    launch = envelope["data"]["checks"][0]
    assert launch["id"] == "torchrun-launch" and launch["status"] == "fail"
    assert "did not complete within 5 s" in launch["message"], envelope["data"]["launcher"]["output_tail"]
    assert all(r["status"] == "missing" for r in envelope["data"]["distributed"]["ranks"])
    assert time.monotonic() - t0 < vd.backstop_s(5, 10)  # torchrun gave up by itself, not the backstop kill


@pytest.mark.e2e
def test_e2e_a_rank_that_dies_fails_both_launches(envcheck_bin, torch_python, dist_env):
    env = dict(dist_env, ENVCHECK_VERIFY_FAULT="dist-rank-exit:3")  # dist_check.py's test hook
    port = _free_port()
    procs = [_launch(envcheck_bin, torch_python, env, r, port, timeout=10) for r in (0, 1)]
    results = [_finish(p) for p in procs]
    for code, envelope, err in results:
        assert code == 1, err[-2000:]
        d = envelope["data"]["distributed"]
        assert d["ranks"][3]["status"] != "ok"
        assert envelope["data"]["checks"][0]["status"] == "fail"
        assert not envelope["data"]["launcher"]["timed_out"]


@pytest.mark.parametrize("args, fragment", [
    (["--nnodes", "2", "--rdzv-endpoint", "h:1"], "need --distributed"),
    (["--distributed", "--nnodes", "2"], "needs --rdzv-endpoint"),
    (["--distributed", "--nnodes", "2", "--node-rank", "5", "--rdzv-endpoint", "h:1"], "outside 0..1"),
])
def test_cli_bad_launcher_options_are_exit_2_with_one_envelope(args, fragment):
    from typer.testing import CliRunner

    from envcheck.cli import app

    result = CliRunner().invoke(app, ["verify", "--json", *args], env={"COLUMNS": "120"})
    envelope = json.loads(result.stdout)
    assert result.exit_code == 2 and envelope["exit_code"] == 2 and fragment in envelope["errors"][0]["message"]
    assert result.stderr.startswith("error: ")


def test_render_distributed_names_every_rank_and_the_world(capsys):
    from envcheck.render.verify_distributed import render_distributed
    from envcheck.results import Result

    world = [_rec(0, 0, 0), _rec(1, 0, 1, seconds=0.5)]
    d = vd.aggregate({0: dict(_rec(0, 0, 0, world=world), world_size=2)}, expected_world=2, launcher_error=None)
    checks = [{"id": f"rank-{r['rank']}", "name": "x", "status": "ok", "duration_s": 0.1, "message": "m", "fix": None}
              for r in d["ranks"]]
    render_distributed(Result("verify", data={"checks": checks, "distributed": d}))
    out = capsys.readouterr().out
    assert "rank-0" in out and "rank-1" in out and "world: 2 rank(s) over gloo, slowest rank 1" in out
