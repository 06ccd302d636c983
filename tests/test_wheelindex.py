"""envcheck.wheelindex: the pure parser on recorded (trimmed, real) index answers, the generated file's
schema, and fetch_project against a real HTTP server on 127.0.0.1 (never the internet).

Fixtures: tests/fixtures/index/ (README there says when and how they were captured).
"""
from __future__ import annotations

import copy
import http.server
import json
import threading
from pathlib import Path

import pytest

from envcheck.wheelindex import (
    ACCEPT,
    IndexError_,
    build_wheels_doc,
    dump_wheels_doc,
    fetch_project,
    parse_project,
    parse_simple_html,
    platform_of,
    python_of,
    validate_wheels_doc,
    WheelsSchemaError,
)

from fakes import pep503_page  # noqa: E402

FIX = Path(__file__).parent / "fixtures" / "index"


def recorded(name: str) -> dict:
    return json.loads((FIX / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("tag, expected", [
    ("manylinux1_x86_64", ("linux-x86_64",)),
    ("manylinux_2_28_x86_64", ("linux-x86_64",)),
    ("manylinux2014_aarch64", ("linux-aarch64",)),
    ("manylinux_2_28_aarch64", ("linux-aarch64",)),
    ("linux_x86_64", ("linux-x86_64",)),
    ("musllinux_1_2_x86_64", ()),
    ("win_amd64", ("windows-amd64",)),
    ("win32", ()),
    ("macosx_10_9_x86_64", ("macos-x86_64",)),
    ("macosx_11_0_arm64", ("macos-arm64",)),
    ("macosx_10_9_universal2", ("macos-arm64", "macos-x86_64")),
    ("any", ()),
    ("manylinux2014_s390x", ()),
])
def test_platform_of(tag, expected):
    assert platform_of(tag) == expected


@pytest.mark.parametrize("interp, abi, expected", [
    ("cp312", "cp312", "3.12"),
    ("cp38", "cp38", "3.8"),
    ("cp37", "cp37m", "3.7"),
    ("cp313", "cp313t", "3.13t"),
    ("py3", "none", "py3"),
    ("py2", "none", None),
    ("pp39", "pypy39_pp73", None),
])
def test_python_of(interp, abi, expected):
    assert python_of(interp, abi) == expected


# release -> platform -> Pythons, read off the recorded answers by hand
TORCH_TABLE = {
    "1.4.0": {"linux-x86_64": ("2.7", "3.5", "3.6", "3.7", "3.8"), "macos-x86_64": ("2.7", "3.5", "3.6", "3.7", "3.8")},
    "1.8.1": {"linux-x86_64": ("3.6", "3.7", "3.8", "3.9"), "linux-aarch64": ("3.6", "3.7", "3.8", "3.9"),
              "windows-amd64": ("3.6", "3.7", "3.8", "3.9"), "macos-x86_64": ("3.6", "3.7", "3.8", "3.9")},
    "2.7.0": {p: ("3.9", "3.10", "3.11", "3.12", "3.13", "3.13t")
              for p in ("linux-x86_64", "linux-aarch64", "windows-amd64", "macos-arm64")},
    "2.15.0": {p: ("3.11", "3.12", "3.13", "3.14", "3.14t", "3.15", "3.15t")
               for p in ("linux-x86_64", "linux-aarch64", "windows-amd64", "macos-arm64")},
}


@pytest.mark.parametrize("version", sorted(TORCH_TABLE))
def test_parse_recorded_torch(version):
    facts = parse_project(recorded("torch"), name="torch")
    assert dict(facts.releases[version].wheels) == TORCH_TABLE[version]
    assert facts.yanked == ()


def test_parse_min_version_and_metadata():
    facts = parse_project(recorded("torch"), name="torch", min_version="2.0")
    assert sorted(facts.releases) == ["2.15.0", "2.7.0"]
    rel = facts.releases["2.15.0"]
    assert rel.uploaded == "2026-10-28"
    assert rel.requires_python == ">=3.11"
    assert rel.size_mib["linux-x86_64"] > 400 > rel.size_mib["windows-amd64"]
    assert rel.has_wheel("linux-x86_64", "3.12") and not rel.has_wheel("linux-x86_64", "3.10")
    assert not rel.has_wheel("macos-x86_64", "3.12")


def test_parse_yanked_and_py3_platform_wheels():
    vision = parse_project(recorded("torchvision"), name="torchvision")
    # every 0.11.0 file is yanked: not a release with wheels, listed as yanked; 0.1.6 only had py2/py3-none-any
    assert "0.11.0" not in vision.releases and vision.yanked == ("0.1.6", "0.11.0")
    assert "0.11.1" in vision.releases
    # py3-none-<platform> wheels: any Python 3 that Requires-Python admits
    rel = vision.releases["0.29.2"]
    assert rel.requires_python == ">=3.10,!=3.14.1"
    assert rel.pythons("linux-x86_64") == ("py3",)
    assert rel.has_wheel("linux-x86_64", "3.12") and rel.has_wheel("windows-amd64", "3.15")
    assert not rel.has_wheel("linux-x86_64", "3.9")
    assert not rel.has_wheel("linux-x86_64", "3.13t")  # a free-threaded build needs its own wheel
    assert not rel.has_wheel("macos-x86_64", "3.12")
    audio = parse_project(recorded("torchaudio"), name="torchaudio")
    assert audio.yanked == ("2.0.0",) and "2.0.1" in audio.releases


@pytest.mark.parametrize("doc", [[], {}, {"files": "x"}, {"files": [{"no": "filename"}]}])
def test_parse_rejects_non_pep691(doc):
    with pytest.raises(IndexError_):
        parse_project(doc)


def test_parse_skips_prereleases_and_junk():
    doc = {"files": [
        {"filename": "torch-2.16.0rc1-cp312-cp312-win_amd64.whl", "yanked": False},
        {"filename": "torch-2.16.0.dev20261101-cp312-cp312-win_amd64.whl", "yanked": False},
        {"filename": "torch-not-a-wheel-name.whl", "yanked": False},
        {"filename": "torch-2.15.0.tar.gz", "yanked": False},
        {"filename": "torch-2.15.0-cp312-cp312-win_amd64.whl", "yanked": False, "upload-time": "2026-10-28T00:00:00Z"},
    ]}
    facts = parse_project(doc, name="torch")
    assert list(facts.releases) == ["2.15.0"]
    assert facts.releases["2.15.0"].wheels == {"windows-amd64": ("3.12",)}


def test_generated_doc_is_deterministic_and_valid():
    facts = [parse_project(recorded(n), name=n) for n in ("torchvision", "torch", "torchaudio")]
    doc = build_wheels_doc(facts, read="2026-12-01", index="recorded", min_version={"torch": "1.4.0"})
    text = dump_wheels_doc(doc)
    again = dump_wheels_doc(build_wheels_doc(list(reversed(facts)), read="2026-12-01", index="recorded",
                                             min_version={"torch": "1.4.0"}))
    assert text == again
    assert list(json.loads(text)["packages"]) == ["torch", "torchaudio", "torchvision"]
    parsed = validate_wheels_doc(json.loads(text))
    assert parsed.read == "2026-12-01"
    assert parsed.pythons("torch", "2.15.0", "macos-arm64")[0] == "3.11"
    assert parsed.has_wheel("torchvision", "0.29.2", "linux-aarch64", "3.13") is True
    assert parsed.has_wheel("torchvision", "0.11.0", "linux-x86_64", "3.8") is False  # yanked
    assert parsed.has_wheel("torch", "9.9.9", "linux-x86_64", "3.8") is None  # unknown release


def _valid() -> dict:
    return build_wheels_doc([parse_project(recorded("torch"), name="torch")], read="2026-12-01", index="recorded",
                            min_version={})


def _set(path, value):
    def mutate(doc):
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


@pytest.mark.parametrize("mutate, row, problem", [
    (_set(("schema",), 2), "schema", "expected 1"),
    (_set(("read",), "yesterday"), "read", "YYYY-MM-DD"),
    (_set(("packages",), []), "packages", "keyed by package"),
    (_set(("packages", "torch", "releases", "2.7.0", "wheels", "linux-riscv64"), ["3.12"]),
     "packages.torch.releases.2.7.0.wheels.linux-riscv64", "unknown platform"),
    (_set(("packages", "torch", "releases", "2.7.0", "wheels", "linux-x86_64"), ["3.12", "3.12"]),
     "packages.torch.releases.2.7.0.wheels.linux-x86_64", "duplicate"),
    (_set(("packages", "torch", "releases", "2.7.0", "wheels", "linux-x86_64"), ["cp312"]),
     "packages.torch.releases.2.7.0.wheels.linux-x86_64", "non-empty list"),
    (_set(("packages", "torch", "releases", "2.7.0", "requires_python"), ">=3.x"),
     "packages.torch.releases.2.7.0.requires_python", "not a version specifier"),
    (_set(("packages", "torch", "releases", "2.7.0", "size_mib"), {"linux-x86_64": -1}),
     "packages.torch.releases.2.7.0.size_mib", "non-negative"),
    (_set(("packages", "torch", "releases", "two"), {"wheels": {}}), "packages.torch.releases.two", "not a version"),
])
def test_schema_errors_name_row_and_problem(mutate, row, problem):
    doc = copy.deepcopy(_valid())
    mutate(doc)
    with pytest.raises(WheelsSchemaError) as err:
        validate_wheels_doc(doc)
    assert err.value.row == row
    assert problem in err.value.problem


# --- fetch_project against a real local server --------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict = {}
    seen: list = []

    def do_GET(self):  # noqa: N802 (http.server API)
        self.seen.append((self.path, self.headers.get("Accept")))
        status, ctype, body = self.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    _Handler.seen = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/simple"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_project_reads_pep691(server, monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    body = (FIX / "torchaudio.json").read_bytes()
    _Handler.routes = {
        "/simple/torchaudio/": (200, "application/vnd.pypi.simple.v1+json", body),
        "/simple/html/": (200, "text/html", b"<html></html>"),
        "/simple/broken/": (200, "application/vnd.pypi.simple.v1+json", b"{not json"),
        "/simple/down/": (503, "text/plain", b"maintenance"),
    }
    doc = fetch_project(server + "/", "torchaudio", timeout=5)
    assert parse_project(doc).yanked == ("2.0.0",)
    assert _Handler.seen[0] == ("/simple/torchaudio/", ACCEPT) and ACCEPT.startswith("application/vnd.pypi.simple.v1+json,")
    with pytest.raises(IndexError_, match="HTML page with no package files"):
        fetch_project(server, "html", timeout=5)
    with pytest.raises(IndexError_, match="not valid JSON"):
        fetch_project(server, "broken", timeout=5)
    with pytest.raises(IndexError_, match="HTTP 503"):
        fetch_project(server, "down", timeout=5)
    with pytest.raises(IndexError_, match="HTTP 404"):
        fetch_project(server, "missing", timeout=5)


# --- PEP 503 HTML (mirrors that serve only HTML, file:// indexes) ---------------------------------------


@pytest.mark.parametrize("project", ["torch", "torchvision", "torchaudio"])
def test_a_pep503_page_gives_the_same_wheel_facts_as_the_json_answer(project):
    doc = json.loads((FIX / f"{project}.json").read_text())
    from_json = parse_project(doc, name=project)
    from_html = parse_project(parse_simple_html(pep503_page(doc), name=project), name=project)
    assert from_html.yanked == from_json.yanked
    assert set(from_html.releases) == set(from_json.releases)
    for version, rel in from_json.releases.items():
        other = from_html.releases[version]
        assert other.wheels == rel.wheels and other.requires_python == rel.requires_python
        assert other.size_mib == {} and other.uploaded is None  # HTML carries neither


@pytest.mark.parametrize("page, files", [
    # the layout of a real local PEP 503 index page (a file:// index on a build machine), one wheel
    ('<!DOCTYPE html><html><body>\n<a href="../../files/absl_py-2.5.0-py3-none-any.whl#sha256=0f17">'
     'absl_py-2.5.0-py3-none-any.whl</a>\n</body></html>',
     [{"filename": "absl_py-2.5.0-py3-none-any.whl", "requires-python": None, "yanked": False}]),
    ('<a href="x/t-1.0-cp39-cp39-win_amd64.whl" data-requires-python="&gt;=3.9" data-yanked="">  </a>',
     [{"filename": "t-1.0-cp39-cp39-win_amd64.whl", "requires-python": ">=3.9", "yanked": True}]),
    ('<a href="t-1.0.tar.gz" data-yanked="broken">t-1.0.tar.gz</a><a name="top"></a>',
     [{"filename": "t-1.0.tar.gz", "requires-python": None, "yanked": "broken"}]),
    ("<html><body><p>Captive portal: please log in</p></body></html>", []),
])
def test_parse_simple_html(page, files):
    assert parse_simple_html(page, name="t") == {"name": "t", "files": files}


def test_fetch_project_takes_a_pep503_page_and_a_file_index(server, monkeypatch, tmp_path):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    doc = json.loads((FIX / "torchaudio.json").read_text())
    page = pep503_page(doc).encode()
    _Handler.routes = {"/simple/torchaudio/": (200, "text/html; charset=utf-8", page)}
    got = fetch_project(server, "torchaudio", timeout=5)
    assert parse_project(got).yanked == ("2.0.0",)
    assert _Handler.seen[0][1].startswith("application/vnd.pypi.simple.v1+json, ")  # JSON asked for first
    local = tmp_path / "simple" / "torchaudio"
    local.mkdir(parents=True)
    (local / "index.html").write_bytes(page)
    got = fetch_project((tmp_path / "simple").as_uri(), "torchaudio", timeout=5)
    assert parse_project(got).releases.keys() == parse_project(doc).releases.keys()
