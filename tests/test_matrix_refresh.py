"""`envcheck matrix refresh` / `matrix show` against a REAL HTTP server on 127.0.0.1 (ephemeral port) that
serves the recorded index answers of tests/fixtures/index/ (real, trimmed: see its README), never the
internet; plus the faults a refresh must survive (malformed JSON, a slow server, 404, HTTP 500, one
package failing after another succeeded): after each, the last good cache is byte-identical.

"Newer than shipped" without a fictitious release: the shipped configs are copied into tmp_path with the
newest real release (torch 2.15.0, torchvision 0.29.2) taken OUT of wheels.json, as an envcheck released
before 2.15.0 was read would ship it; the recorded answers then carry a release newer than that matrix.
"""
from __future__ import annotations

import http.server
import json
import shutil
import socket
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from envcheck.cli import app
from fakes import pep503_page
from envcheck.commands import matrix as cmd
from envcheck.errors import EnvcheckError
from envcheck.matrix import cache_path, load_matrix, merge_refreshed, refresh_notes
from envcheck.wheelindex import discover_index_url, parse_pip_config_list, validate_wheels_doc

REPO = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures" / "index"
SLOW_S = 3.0  # the slow server's delay; the client's timeout is far below it


class _Index(http.server.BaseHTTPRequestHandler):
    faults: dict = {}  # package name -> "malformed" | "slow" | "404" | "500" | "html" | "pep503" (not a fault)
    seen: list = []

    def do_GET(self):  # noqa: N802
        name = self.path.strip("/").split("/")[-1]
        _Index.seen.append((self.path, self.headers.get("Accept")))
        fault = self.faults.get(name)
        path = FIX / f"{name}.json"
        if fault == "404" or not path.is_file():
            self.send_error(404, "Not Found")
            return
        if fault == "500":
            self.send_error(500, "Internal Server Error")
            return
        if fault == "slow":
            time.sleep(SLOW_S)
        body = b'{"files": [{"filename": "torch-9' if fault == "malformed" else path.read_bytes()
        ctype = "text/html" if fault == "html" else "application/vnd.pypi.simple.v1+json"
        if fault == "pep503":  # an HTML-only mirror: the same files as a PEP 503 page
            body, ctype = pep503_page(json.loads(body)).encode(), "text/html"
        try:
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (timeout)
            pass

    def log_message(self, *args):
        pass


@pytest.fixture()
def index(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    httpd.daemon_threads = True
    _Index.faults = {}
    _Index.seen = []
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/simple/"
    httpd.shutdown()
    httpd.server_close()


def _configs(tmp_path: Path, *, drop_row: bool = False) -> Path:
    """The shipped configs without the newest real release in wheels.json (and, drop_row, its row)."""
    out = tmp_path / "configs"
    shutil.copytree(REPO / "configs", out)
    wheels = json.loads((out / "wheels.json").read_text())
    del wheels["packages"]["torch"]["releases"]["2.15.0"]
    del wheels["packages"]["torchvision"]["releases"]["0.29.2"]
    (out / "wheels.json").write_text(json.dumps(wheels))
    if drop_row:
        rows = json.loads((out / "torch_releases.json").read_text())
        rows["releases"] = [r for r in rows["releases"] if r["torch"] != "2.15.0"]
        rows["newest_known"] = "2.14.1"
        (out / "torch_releases.json").write_text(json.dumps(rows))
    return out


def _refresh(index, tmp_path, cfg, **kw):
    return cmd.run_refresh(index_url=index, timeout=kw.pop("timeout", 5), matrix=load_matrix(cfg, cache=False),
                           cache_file=tmp_path / "cache" / "wheels-refreshed.json", today=kw.pop("today", "2026-12-01"), **kw)


# --- refresh ------------------------------------------------------------------------------------


def test_refresh_adds_only_releases_newer_than_shipped(index, tmp_path):
    cfg = _configs(tmp_path)
    res = _refresh(index, tmp_path, cfg)
    assert res.data["added"] == {"torch": ["2.15.0"], "torchaudio": [], "torchvision": ["0.29.2"]}
    assert res.data["newer_than"]["torch"] == "2.14.1"
    assert res.data["without_row"] == []  # 2.15.0 has a hand-kept row
    doc = json.loads(Path(res.data["cache"]).read_text())
    facts = validate_wheels_doc(doc)  # the same schema as configs/wheels.json
    assert sorted(facts.packages["torch"].releases) == ["2.15.0"]
    assert doc["generated_by"] == "envcheck matrix refresh" and doc["read"] == "2026-12-01"
    # the PEP 691 request, per package
    assert {p for p, _ in _Index.seen} == {"/simple/torch/", "/simple/torchvision/", "/simple/torchaudio/"}
    assert all(a.startswith("application/vnd.pypi.simple.v1+json, ") for _, a in _Index.seen)  # JSON first


def test_refresh_through_a_mirror_that_serves_only_pep503_html(index, tmp_path):
    """A mirror without the JSON API (PEP 503 pages only): the same releases and Python lists are read."""
    cfg = _configs(tmp_path)
    _Index.faults = {name: "pep503" for name in ("torch", "torchvision", "torchaudio")}
    res = _refresh(index, tmp_path, cfg)
    assert res.data["added"] == {"torch": ["2.15.0"], "torchaudio": [], "torchvision": ["0.29.2"]}
    facts = validate_wheels_doc(json.loads(Path(res.data["cache"]).read_text()))
    assert facts.packages["torch"].releases["2.15.0"].pythons("linux-x86_64")[:2] == ("3.11", "3.12")


def test_merged_matrix_marks_a_pick_that_rests_on_refreshed_data(index, tmp_path):
    from envcheck.commands.install import run as install_run

    cfg = _configs(tmp_path)
    res = _refresh(index, tmp_path, cfg)
    shipped_only = load_matrix(cfg, cache=False)
    merged = load_matrix(cfg, cache=res.data["cache"])
    assert shipped_only.wheels.has_wheel("torch", "2.15.0", "macos-arm64", "3.12") is None
    assert merged.wheels.has_wheel("torch", "2.15.0", "macos-arm64", "3.12") is True
    assert merged.rests_on_refresh("2.15.0") and not merged.rests_on_refresh("2.14.1")
    # 2.15.0's row is unverified: named by --torch, it is picked, and the pick says what it rests on
    out = install_run(python="3.12", os_name="macos", arch="aarch64", torch="2.15.0", matrix=merged)
    rec = out.data["recommendation"]
    assert rec["torch"] == "2.15.0" and rec["refreshed"] is True
    assert any(n.startswith("rests on refreshed data: torch 2.15.0") for n in rec["notes"])
    assert out.data["matrix"]["refreshed"]["added"]["torch"] == ["2.15.0"]
    # without the cache the same request finds no macOS wheel facts for 2.15.0 (exit 3)
    with pytest.raises(EnvcheckError) as err:
        install_run(python="3.12", os_name="macos", arch="aarch64", torch="2.15.0", matrix=shipped_only)
    assert err.value.exit_code == 3
    # a pick from shipped facts is not marked
    plain = install_run(python="3.12", os_name="macos", arch="aarch64", matrix=merged)
    assert plain.data["recommendation"]["refreshed"] is False


def test_a_refreshed_release_without_a_row_is_shown_never_recommended(index, tmp_path):
    from envcheck.commands.install import run as install_run

    cfg = _configs(tmp_path, drop_row=True)
    res = _refresh(index, tmp_path, cfg)
    assert res.data["without_row"] == ["2.15.0"]
    merged = load_matrix(cfg, cache=res.data["cache"])
    assert merged.refreshed_without_row() == ("2.15.0",)
    codes = [f.code for f in refresh_notes(merged)]
    assert codes == ["matrix-refresh-newer-release"]
    out = install_run(python="3.12", os_name="linux", arch="x86_64", cpu=True, matrix=merged)
    assert out.data["recommendation"]["torch"] == "2.14.1"
    assert "matrix-refresh-newer-release" in [f["code"] for f in out.data["stale"]]
    with pytest.raises(EnvcheckError) as err:  # named by --torch: exit 3, and the hint says why
        install_run(python="3.12", os_name="linux", arch="x86_64", cpu=True, torch="2.15.0", matrix=merged)
    assert err.value.exit_code == 3 and "upgrade envcheck" in err.value.hint
    shown = cmd.run_show(matrix=merged)
    assert shown.data["without_row"] == ["2.15.0"]
    assert shown.data["cache"]["packages"]["torch"] == {"releases": 1, "newest": "2.15.0"}
    assert shown.data["shipped"]["packages"]["torch"]["newest"] == "2.14.1"


@pytest.mark.parametrize("fault,package", [
    ("malformed", "torch"), ("slow", "torch"), ("404", "torch"), ("500", "torch"),
    ("html", "torch"),
    ("500", "torchvision"),  # partial: torch was read, torchvision fails, nothing is written
])
def test_every_fault_keeps_the_last_good_cache_byte_identical(index, tmp_path, fault, package):
    cfg = _configs(tmp_path)
    good = _refresh(index, tmp_path, cfg)
    path = Path(good.data["cache"])
    before = path.read_bytes()
    _Index.faults = {package: fault}
    with pytest.raises(EnvcheckError) as err:
        _refresh(index, tmp_path, cfg, timeout=0.5, today="2026-12-02")
    assert err.value.exit_code == 5
    assert err.value.code == "matrix-refresh-failed"
    assert f"/simple/{package}/" in err.value.message and "127.0.0.1" in err.value.data["url"]
    assert "--mirror" in err.value.hint
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_refresh_cli_json_and_exit_codes(index, tmp_path, monkeypatch):
    monkeypatch.setenv("ENVCHECK_CACHE_DIR", str(tmp_path / "c"))
    runner = CliRunner()
    ok = runner.invoke(app, ["matrix", "refresh", "--index-url", index, "--timeout", "5", "--json"])
    assert ok.exit_code == 0, ok.output
    env = json.loads(ok.stdout)
    assert env["command"] == "matrix refresh" and env["status"] == "ok"
    assert env["data"]["cache"] == str(tmp_path / "c" / "wheels-refreshed.json")
    # the shipped matrix already has every recorded release: nothing newer, a valid (empty) cache
    assert env["data"]["added"] == {"torch": [], "torchaudio": [], "torchvision": []}
    before = (tmp_path / "c" / "wheels-refreshed.json").read_bytes()
    _Index.faults = {"torch": "404"}
    bad = runner.invoke(app, ["matrix", "refresh", "--index-url", index, "--json"])
    assert bad.exit_code == 5
    err = json.loads(bad.stdout)
    assert err["status"] == "error" and err["errors"][0]["code"] == "matrix-refresh-failed"
    assert "HTTP 404" in err["errors"][0]["message"]
    assert (tmp_path / "c" / "wheels-refreshed.json").read_bytes() == before
    shown = runner.invoke(app, ["matrix", "show", "--json"])
    assert shown.exit_code == 0
    data = json.loads(shown.stdout)["data"]
    assert data["cache"]["present"] is True and data["cache"]["read"] == env["data"]["read"]
    human = runner.invoke(app, ["matrix", "show"])
    assert "refreshed cache: read" in human.stdout and "shipped matrix:" in human.stdout
    _Index.faults = {}
    human = runner.invoke(app, ["matrix", "refresh", "--index-url", index, "--timeout", "5"])
    assert human.exit_code == 0 and "cache written: " in human.stdout and "torch: newer than the shipped 2.15.0: none" in human.stdout


def test_refresh_shows_each_read_as_it_happens(index, tmp_path, monkeypatch):
    """A project page is megabytes on a slow link: each read gets a line before and after (piped), with its
    time; --json keeps stdout one envelope."""
    monkeypatch.setenv("ENVCHECK_CACHE_DIR", str(tmp_path / "c"))
    res = CliRunner().invoke(app, ["matrix", "refresh", "--index-url", index, "--timeout", "5", "--json"])
    assert res.exit_code == 0, res.output
    json.loads(res.stdout)
    for name in ("torch", "torchvision", "torchaudio"):
        assert f"envcheck: running: GET {index}{name}/\n" in res.stderr
    assert res.stderr.count("envcheck: done in ") == 3
    _Index.faults = {"torchvision": "500"}
    res = CliRunner().invoke(app, ["matrix", "refresh", "--index-url", index, "--timeout", "5"])
    assert res.exit_code == 5 and "envcheck: failed (exit status 1) in " in res.stderr
    assert "torchaudio/" not in res.stderr  # it stopped at the first failure


def test_refresh_usage_errors(tmp_path):
    runner = CliRunner()
    for argv, code in ((["--mirror", "nowhere"], "invalid-mirror"), (["--index-url", "ftp://x/simple"], "invalid-index-url"),
                       (["--index-url", "http://127.0.0.1:9/simple", "--mirror", "tuna"], "invalid-index-url")):
        res = runner.invoke(app, ["matrix", "refresh", *argv, "--json"])
        assert res.exit_code == 2, (argv, res.output)
        assert json.loads(res.stdout)["errors"][0]["code"] == code


def test_refresh_from_a_local_simple_index_directory(tmp_path):
    """An air-gapped cluster's local PEP 503 index (a directory of <project>/index.html, as pip reads with
    --index-url file://...): `--index-url DIR` reads it like `install --index-url DIR`; no such dir is exit 2."""
    simple = tmp_path / "simple"
    for name in ("torch", "torchvision", "torchaudio"):
        (simple / name).mkdir(parents=True)
        (simple / name / "index.html").write_text(pep503_page(json.loads((FIX / f"{name}.json").read_text())))
    res = _refresh(str(simple), tmp_path, _configs(tmp_path))
    assert res.data["added"] == {"torch": ["2.15.0"], "torchaudio": [], "torchvision": ["0.29.2"]}
    missing = CliRunner().invoke(app, ["matrix", "refresh", "--index-url", str(tmp_path / "nope"), "--json"])
    assert missing.exit_code == 2 and json.loads(missing.stdout)["errors"][0]["code"] == "invalid-index-url"


def test_mirror_reads_the_mirrors_index(monkeypatch, tmp_path):
    """--mirror tuna reads configs/mirrors.json's pip_index (no request leaves: the fetch is replaced)."""
    asked = []

    def fake_fetch(index, name, timeout):
        asked.append(index)
        return json.loads((FIX / f"{name}.json").read_text())

    monkeypatch.setattr("envcheck.wheelindex.fetch_project", fake_fetch)
    res = cmd.run_refresh(mirror="TUNA", cache_file=tmp_path / "w.json", matrix=load_matrix(cache=False))
    assert set(asked) == {load_matrix().mirrors["tuna"].pip_index}
    assert res.data["index_source"] == "--mirror tuna"


def test_credentials_are_masked_in_the_error(index, tmp_path):
    cfg = _configs(tmp_path)
    secret_url = index.replace("http://", "http://me:s3cret@")
    with pytest.raises(EnvcheckError) as err:
        _refresh(secret_url, tmp_path, cfg)
    assert err.value.exit_code == 5
    shown = json.dumps([err.value.message, err.value.hint, err.value.data])
    assert "s3cret" not in shown and "me:****@" in shown


# --- offline rule -------------------------------------------------------------------------------


def test_install_with_a_cache_present_makes_no_network_call(index, tmp_path, monkeypatch):
    monkeypatch.setenv("ENVCHECK_CACHE_DIR", str(tmp_path / "c"))
    runner = CliRunner()
    assert runner.invoke(app, ["matrix", "refresh", "--index-url", index, "--timeout", "5"]).exit_code == 0
    assert cache_path().is_file()

    def no_network(*a, **k):
        raise AssertionError("install touched the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    res = runner.invoke(app, ["install", "--python", "3.12", "--os", "linux", "--arch", "x86_64", "--driver",
                              "580.65.06", "--gpu-cc", "9.0", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)["data"]
    assert data["matrix"]["refreshed"]["path"] == str(cache_path())  # the cache was read, offline


def test_an_unusable_cache_is_ignored_with_a_warning(tmp_path):
    cfg = _configs(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": 1, "read": "yesterday"}')
    m = load_matrix(cfg, cache=bad)
    assert m.refreshed.problem and not m.refreshed.added
    assert [f.code for f in refresh_notes(m)] == ["matrix-refresh-cache-unusable"]
    assert m.wheels.has_release("torch", "2.14.1")  # the shipped data still answers


# --- pure parts ---------------------------------------------------------------------------------


def test_merge_never_replaces_a_shipped_fact():
    shipped = {"packages": {"torch": {"releases": {"2.0.0": {"wheels": {}}}, "yanked": []}}}
    cache = {"packages": {"torch": {"releases": {"1.0.0": {"wheels": {"x": 1}}, "2.0.0": {"wheels": {"x": 2}},
                                                 "2.1.0": {"wheels": {}}}, "yanked": ["2.0.1"]},
                          "other": {"releases": {"9.0": {}}}}}
    merged, added = merge_refreshed(shipped, cache)
    assert added == {"torch": ("2.1.0",)}
    assert merged["packages"]["torch"]["releases"]["2.0.0"] == {"wheels": {}}
    assert "1.0.0" not in merged["packages"]["torch"]["releases"]
    assert merged["packages"]["torch"]["yanked"] == ["2.0.1"]
    assert "other" not in merged["packages"]


@pytest.mark.parametrize("text,want", [
    ("global.index-url='https://a.example/simple'\n", "https://a.example/simple"),
    ("global.index-url='https://a/simple'\ninstall.index-url='https://b/simple'\n", "https://b/simple"),
    (":env:.index-url='https://e/simple'\ninstall.index-url='https://b/simple'\n", "https://e/simple"),
    ("global.extra-index-url='https://x/simple'\n", None),
    ("", None),
])
def test_parse_pip_config_list(text, want):
    assert parse_pip_config_list(text) == want


def test_discovery_order():
    class R:
        def __init__(self, out):
            self.out = out

        def run(self, argv, timeout):
            from envcheck.runner import Completed

            return Completed(tuple(argv), 0, self.out)

    assert discover_index_url("https://f/simple", {"PIP_INDEX_URL": "https://e/simple"}, R("")) == ("https://f/simple", "flag")
    assert discover_index_url(None, {"PIP_INDEX_URL": "https://e/simple"}, R("")) == ("https://e/simple", "PIP_INDEX_URL")
    assert discover_index_url(None, {}, R("global.index-url='https://c/simple'")) == ("https://c/simple", "pip config")
