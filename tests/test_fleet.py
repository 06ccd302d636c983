"""`envcheck fleet report`: reports made by the real `envcheck doctor --json` (in-process, CliRunner) on
replayed machines (the H100 nvidia-smi stand-in replaying tests/fixtures/h100-driver580, ENVCHECK_OVERRIDE_*
for an older driver, a venv without torch), each with the host name a different machine would report
(socket.gethostname patched: everything else is what doctor itself produced). The report must name exactly
the odd ones out. Pure tables over synthetic node records are marked synthetic."""
from __future__ import annotations

import json
import re
import socket

import pytest
from typer.testing import CliRunner

from envcheck.cli import app
from envcheck.commands import fleet
from doctor_standins import hermetic_env, install_nvidia_smi, unset_all


def _doctor(monkeypatch, env, python, host, *extra) -> str:
    monkeypatch.setattr(socket, "gethostname", lambda: host)
    result = CliRunner().invoke(app, ["doctor", "--json", "--python", python, *extra], env=env)
    envelope = json.loads(result.stdout)
    assert envelope["command"] == "doctor" and envelope["data"]["system"]["hostname"]["value"]
    return result.stdout


def _fleet(*args):
    result = CliRunner().invoke(app, ["fleet", "report", *args], env={"COLUMNS": "200"})
    return result


@pytest.fixture
def gpu_env(clean_env, tmp_path, fake_bin):
    install_nvidia_smi(fake_bin, tmp_path / "smi")  # replays the real H100 / driver 580 capture
    return unset_all(hermetic_env(clean_env, tmp_path, fake_bin))


def test_names_exactly_the_odd_ones_out(monkeypatch, tmp_path, gpu_env, torch_python, bare_python):
    reports = tmp_path / "reports"
    reports.mkdir()
    for host in ("gpu01", "gpu02", "gpu03"):
        (reports / f"{host}.json").write_text(_doctor(monkeypatch, gpu_env, torch_python, host))
    old_driver = dict(gpu_env, ENVCHECK_OVERRIDE_DRIVER="535.104.05", ENVCHECK_OVERRIDE_CUDA="12.2")
    (reports / "gpu04.json").write_text(_doctor(monkeypatch, old_driver, torch_python, "gpu04"))
    (reports / "gpu05.json").write_text(_doctor(monkeypatch, gpu_env, bare_python, "gpu05"))
    monkeypatch.undo()

    result = _fleet("--json", str(reports))
    envelope = json.loads(result.stdout)
    assert result.exit_code == envelope["exit_code"] == 1 and envelope["status"] == "problems"
    data = envelope["data"]
    drift = {d["field"]: d for d in data["drift"]}
    assert {o["node"] for o in drift["driver"]["outliers"]} == {"gpu04"}
    assert drift["driver"]["outliers"][0]["value"] == "535.104.05"
    assert drift["driver_cuda"]["outliers"] == [{"node": "gpu04", "value": "12.2"}]
    assert drift["torch"]["outliers"] == [{"node": "gpu05", "value": None}]
    assert drift["torch"]["majority"] == "2.13.0+cpu"
    assert {o["node"] for o in drift["torch_build"]["outliers"]} == {"gpu05"}
    for field in ("os", "kernel", "gpu_model", "gpu_count", "python"):
        assert field not in drift, field
    # nobody else is ever named: the three identical nodes never appear as outliers
    assert {o["node"] for d in data["drift"] for o in d["outliers"]} == {"gpu04", "gpu05"}
    assert data["summary"]["nodes"] == 5
    # nodes with error findings first
    errs = [bool(n["errors"]) for n in data["nodes"]]
    assert errs == sorted(errs, reverse=True)

    human = _fleet(str(reports))
    assert human.exit_code == 1
    assert "gpu04 (535.104.05)" in human.stdout and "gpu05" in human.stdout


def test_uniform_healthy_fleet_exits_0(monkeypatch, tmp_path, clean_env, fake_bin, torch_python):
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin))  # no driver: CPU torch is healthy
    paths = []
    for host in ("cpu01", "cpu02", "cpu03"):
        path = tmp_path / f"{host}.json"
        path.write_text(_doctor(monkeypatch, env, torch_python, host))
        paths.append(str(path))
    monkeypatch.undo()
    result = _fleet("--json", *paths)
    envelope = json.loads(result.stdout)
    assert result.exit_code == 0 and envelope["data"]["drift"] == []
    assert [n["node"] for n in envelope["data"]["nodes"]] == ["cpu01", "cpu02", "cpu03"]
    assert "every node agrees" in _fleet(*paths).stdout


def test_unreadable_inputs_are_named_and_the_rest_still_counted(monkeypatch, tmp_path, clean_env, fake_bin,
                                                                 torch_python):
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin))
    good = tmp_path / "good.json"
    good.write_text(_doctor(monkeypatch, env, torch_python, "cpu01"))
    monkeypatch.undo()
    broken = tmp_path / "broken.json"
    broken.write_text('{"envcheck_result_version": 1, "command": "doctor", "data": ')  # cut off mid-write
    other = tmp_path / "verify.json"
    other.write_text(json.dumps({"envcheck_result_version": 1, "command": "verify", "data": {}}))
    missing = tmp_path / "nope.json"
    result = _fleet("--json", str(good), str(broken), str(other), str(missing))
    envelope = json.loads(result.stdout)
    assert result.exit_code == 2 and envelope["status"] == "error"
    assert envelope["data"]["summary"]["nodes"] == 1
    named = " ".join(e["message"] for e in envelope["errors"])
    for path in (broken, other, missing):
        assert str(path) in named
    assert {e["code"] for e in envelope["errors"]} == {"unreadable-report"}
    human = _fleet(str(good), str(broken))
    assert human.exit_code == 2 and f"error: cannot read {broken}" in human.stderr and "Traceback" not in human.output


def test_anonymized_reports_stay_distinct(monkeypatch, tmp_path, clean_env, fake_bin, torch_python):
    env = unset_all(hermetic_env(clean_env, tmp_path, fake_bin))
    names = []
    for host in ("node-a", "node-b"):
        path = tmp_path / f"{host}.json"
        path.write_text(_doctor(monkeypatch, env, torch_python, host, "--anonymize"))
        names.append(json.loads(path.read_text())["data"]["system"]["hostname"]["value"])
    monkeypatch.undo()
    assert names[0] != names[1] and all(re.fullmatch(r"host-[0-9a-f]{8}", n) for n in names)
    assert "node-a" not in (tmp_path / "node-a.json").read_text()


# ------------------------------------------------------------------ pure, over synthetic node records


def _node(name, **fields):
    base = {"os": "Ubuntu 22.04", "driver": "580.65.06", "gpu_count": 8}
    base.update(fields)
    return {"node": name, "fields": base, "findings": {}}


def test_compare_majority_and_outliers_synthetic():
    nodes = [_node("a"), _node("b"), _node("c", driver="535.104.05"), _node("d", gpu_count=7)]
    nodes[3]["findings"] = {"gpu-throttled": "warning"}
    rows = {r["field"]: r for r in fleet.compare(nodes)}
    assert rows["driver"]["majority"] == "580.65.06" and rows["driver"]["outliers"] == [
        {"node": "c", "value": "535.104.05"}]
    assert rows["gpu_count"]["outliers"] == [{"node": "d", "value": 7}] and rows["gpu_count"]["count"] == 3
    assert rows["finding:gpu-throttled"]["majority"] is None
    assert rows["finding:gpu-throttled"]["outliers"] == [{"node": "d", "value": "warning"}]
    assert rows["os"]["outliers"] == []


def test_node_from_report_rejects_what_is_not_doctor():
    with pytest.raises(ValueError, match="not `doctor --json`"):
        fleet.node_from_report({"envcheck_result_version": 1, "command": "install", "data": {}}, "x.json")
    with pytest.raises(ValueError, match="no data.system"):
        fleet.node_from_report({"envcheck_result_version": 1, "command": "doctor", "data": {}}, "x.json")
    with pytest.raises(ValueError, match="not a JSON object"):
        fleet.node_from_report([1, 2], "x.json")


def test_node_name_falls_back_to_the_file_and_duplicates_are_told_apart(tmp_path):
    data = {"system": {"hostname": {"value": None}}, "findings": []}
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(json.dumps({"envcheck_result_version": 1, "command": "doctor",
                                                           "data": dict(data, system={"hostname": {"value": "same"}})}))
    (tmp_path / "c.json").write_text(json.dumps({"envcheck_result_version": 1, "command": "doctor", "data": data}))
    result = fleet.run([str(tmp_path)])
    names = sorted(n["node"] for n in result.data["nodes"])
    assert names[0] == "c" and names[1].startswith("same (") and names[2].startswith("same (") and names[1] != names[2]


def test_cli_contract_for_fleet_report():
    assert "PATH..." in _fleet("--help").stdout and "--json" in _fleet("--help").stdout
    result = _fleet("--no-such-option", "--json")
    assert result.exit_code == 2 and json.loads(result.stdout)["command"] == "fleet report"
    result = _fleet()
    assert result.exit_code == 2 and "error:" in result.stderr and "Traceback" not in result.output


def test_node_fields_reads_torch_build_and_nccl_synthetic():
    data = {"system": {"os": {"value": "Ubuntu 24.04"}, "kernel": {"value": "6.8.0"}},
            "driver": {"version": "580.65.06", "cuda": "13.0"},
            "gpus": [{"name": "NVIDIA H100 80GB HBM3"}, {"name": "NVIDIA H100 80GB HBM3"}],
            "python": {"version": {"value": "3.12.3"}},
            "torch": {"installed": True, "version": "2.9.0+cu128", "cuda": "12.8", "build": "cuda",
                      "packages": {"torchvision": "0.24.0"}, "nvidia_wheels": {"nvidia-nccl-cu12": "2.27.3"}}}
    assert fleet.node_fields(data) == {
        "os": "Ubuntu 24.04", "kernel": "6.8.0", "driver": "580.65.06", "driver_cuda": "13.0",
        "gpu_model": "NVIDIA H100 80GB HBM3", "gpu_count": 2, "python": "3.12.3", "torch": "2.9.0+cu128",
        "torch_build": "cuda 12.8", "torchvision": "0.24.0", "nccl": "2.27.3"}
