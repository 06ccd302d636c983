"""The hand-kept rows (configs/torch_releases.json) against the generated wheel facts (configs/wheels.json).

No network: wheels.json is committed (scripts/refresh_wheels.py regenerates it). The rule lives in
envcheck.matrix.wheel_contradictions (scripts/check_configs.py calls it too); the synthetic cases below
show that each rule can fire.
"""
from __future__ import annotations

import copy
import json

import pytest

from envcheck.errors import EnvcheckError
from envcheck.matrix import build_matrix, default_config_dir, load_matrix, read_docs, wheel_contradictions


@pytest.fixture(scope="module")
def shipped_docs():
    docs, _ = read_docs(default_config_dir())
    return docs


def test_shipped_rows_agree_with_generated_wheels():
    matrix = load_matrix()
    assert matrix.wheels is not None, "configs/wheels.json is missing"
    assert wheel_contradictions(matrix) == []


def test_every_index_release_has_a_row_and_the_read_date_is_shown():
    matrix = load_matrix()
    index = set(matrix.wheels.packages["torch"].releases)
    rows = {r.torch for r in matrix.releases}
    assert index <= rows
    assert {"2.14.1", "2.15.0"} <= index
    assert matrix.wheels_read == json.loads((default_config_dir() / "wheels.json").read_text())["read"]


def _edit_row(docs, torch, fn):
    docs = copy.deepcopy(docs)
    row = next(r for r in docs["torch_releases.json"]["releases"] if r["torch"] == torch)
    fn(row)
    return docs


def _drop_row(torch):
    def mutate(docs):
        docs = copy.deepcopy(docs)
        docs["torch_releases.json"]["releases"] = [r for r in docs["torch_releases.json"]["releases"] if r["torch"] != torch]
        return docs
    return mutate


# synthetic edits of the shipped rows, each breaking one rule
CASES = [
    ("release-without-row", _drop_row("2.14.1"),
     "torch 2.14.1: on the index (2026-09-30) but no row in torch_releases.json"),
    ("python-without-wheel", lambda d: _edit_row(d, "2.14.0", lambda r: r["python"]["windows"].insert(0, "3.9")),
     "torch 2.14.0: Python 3.9 listed for windows (default-index build cpu) but the index has no windows-amd64 wheel for it"),
    ("wheel-without-python", lambda d: _edit_row(d, "2.14.0", lambda r: r["python"]["linux"].remove("3.14")),
     "torch 2.14.0: the index has a linux-x86_64 wheel for Python 3.14, the row's linux list lacks it"),
    ("macos-extra", lambda d: _edit_row(d, "2.3.0", lambda r: r["python"]["macos"].append("3.13")),
     "torch 2.3.0: Python 3.13 listed for macos but the index has no macOS wheel for it"),
    ("default-index-without-wheels", lambda d: _edit_row(d, "1.6.0", lambda r: r["default_index"].update(windows="cpu")),
     "torch 1.6.0: default_index.windows is 'cpu' but the index has no windows-amd64 wheels"),
    ("cuda-default-of-cpu-size", lambda d: _edit_row(d, "1.8.1", lambda r: r["default_index"].update(windows="cu102")),
     "torch 1.8.1: default_index.windows is 'cu102' (CUDA) but the largest windows-amd64 wheel on the index is 181 MiB, the size of a CPU-only build"),
    ("companion-missing", lambda d: _edit_row(d, "2.15.0", lambda r: r.update(torchvision="0.30.0")),
     "torch 2.15.0: torchvision 0.30.0 is not a release on the index"),
]


@pytest.mark.parametrize("mutate, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_rule_fires(shipped_docs, mutate, expected):
    problems = wheel_contradictions(build_matrix(mutate(shipped_docs)))
    assert problems == [expected]


def test_yanked_companion_is_accepted(shipped_docs):
    """torch 1.10.0 pairs with torchvision 0.11.0, every file of which is yanked: an exact pin still installs it."""
    matrix = build_matrix(shipped_docs)
    assert matrix.release("1.10.0").torchvision == "0.11.0"
    assert "0.11.0" in matrix.wheels.packages["torchvision"].yanked
    assert wheel_contradictions(matrix) == []


def test_without_wheels_file_the_check_says_so(shipped_docs):
    docs = {k: v for k, v in shipped_docs.items() if k != "wheels.json"}
    matrix = build_matrix(docs)
    assert matrix.wheels is None and matrix.wheels_read is None
    assert wheel_contradictions(matrix) == ["wheels.json: missing (run scripts/refresh_wheels.py)"]


def test_malformed_wheels_file_names_file_row_problem(shipped_docs):
    docs = copy.deepcopy(shipped_docs)
    docs["wheels.json"]["packages"]["torch"]["releases"]["2.14.1"]["wheels"]["linux-x86_64"] = "3.12"
    with pytest.raises(EnvcheckError) as err:
        build_matrix(docs, {"wheels.json": "/x/configs/wheels.json"})
    assert err.value.code == "matrix-invalid"
    assert err.value.data == {"file": "/x/configs/wheels.json", "row": "packages.torch.releases.2.14.1.wheels.linux-x86_64",
                              "problem": "expected a non-empty list like ['3.12', '3.13t'], got '3.12'"}


def test_malformed_companion_is_reported_by_the_check(shipped_docs):
    """Companions are validated on first read (the resolver reads only torch): the check reads them all."""
    docs = copy.deepcopy(shipped_docs)
    docs["wheels.json"]["packages"]["torchvision"]["releases"]["0.29.1"]["uploaded"] = "soon"
    matrix = build_matrix(docs)  # loads: torch is valid
    assert wheel_contradictions(matrix) == [
        "wheels.json: packages.torchvision.releases.0.29.1.uploaded: expected a date YYYY-MM-DD or null, got 'soon'"]


def test_malformed_json_text_is_reported(tmp_path, shipped_docs):
    for name in ("torch_releases.json", "cuda_variants.json", "mirrors.json"):
        (tmp_path / name).write_text(json.dumps(shipped_docs[name]), encoding="utf-8")
    (tmp_path / "wheels.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(EnvcheckError) as err:
        load_matrix(tmp_path)
    assert err.value.data["file"] == str(tmp_path / "wheels.json")
    assert "not valid JSON" in err.value.data["problem"]
