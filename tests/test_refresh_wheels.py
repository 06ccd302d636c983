"""scripts/refresh_wheels.py against a real HTTP server on 127.0.0.1 serving the recorded index answers
(tests/fixtures/index/), never the internet; output written under tmp_path."""
from __future__ import annotations

import http.server
import importlib.util
import json
import threading
from pathlib import Path

import pytest

from envcheck.wheelindex import validate_wheels_doc

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures" / "index"


def _script():
    spec = importlib.util.spec_from_file_location("refresh_wheels", ROOT / "scripts" / "refresh_wheels.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _Index(http.server.BaseHTTPRequestHandler):
    missing: set = set()

    def do_GET(self):  # noqa: N802
        name = self.path.strip("/").split("/")[-1]
        path = FIX / f"{name}.json"
        if name in self.missing or not path.is_file():
            self.send_response(404)
            self.end_headers()
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def index(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    _Index.missing = set()
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/simple/"
    httpd.shutdown()
    httpd.server_close()


def test_refresh_writes_a_valid_deterministic_file(index, tmp_path, capsys):
    mod = _script()
    out = tmp_path / "wheels.json"
    assert mod.main(["--index-url", index, "--out", str(out), "--timeout", "5"]) == 0
    first = out.read_text()
    doc = json.loads(first)
    assert doc["index"] == "pip's configured default index (JSON simple API, PEP 691)"
    assert "127.0.0.1" not in first  # the file names the index generically
    facts = validate_wheels_doc(doc)
    assert sorted(facts.packages["torch"].releases) == ["1.4.0", "1.8.1", "2.15.0", "2.7.0"]
    assert facts.packages["torchaudio"].yanked == ("2.0.0",)
    # same answers, same bytes; --check agrees
    assert mod.main(["--index-url", index, "--out", str(out), "--timeout", "5"]) == 0
    assert out.read_text() == first
    assert mod.main(["--index-url", index, "--out", str(out), "--check"]) == 0


def test_refresh_check_reports_a_stale_file(index, tmp_path):
    mod = _script()
    out = tmp_path / "wheels.json"
    assert mod.main(["--index-url", index, "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    del doc["packages"]["torch"]["releases"]["2.15.0"]
    out.write_text(json.dumps(doc))
    assert mod.main(["--index-url", index, "--out", str(out), "--check"]) == 1


def test_refresh_fails_cleanly_and_writes_nothing(index, tmp_path, capsys):
    mod = _script()
    _Index.missing = {"torchvision"}
    out = tmp_path / "wheels.json"
    assert mod.main(["--index-url", index, "--out", str(out), "--timeout", "5"]) == 5
    err = capsys.readouterr().err
    assert err.startswith("error: torchvision: ") and "HTTP 404" in err
    assert not out.exists()
