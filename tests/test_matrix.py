"""The matrix loader: validation errors name file, row and problem; the shipped configs/ are sound."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.version import Version

from envcheck.errors import EnvcheckError
from envcheck.matrix import build_matrix, default_config_dir, load_matrix, stale_notes
from envcheck.results import Severity
from test_resolve import MATRIX, mini_docs

REPO_CONFIGS = Path(__file__).resolve().parent.parent / "configs"


# --- malformed data: table-driven mutations of the mini matrix ---------------------------------


def _set(doc_key, path, value):
    def mutate(docs):
        target = docs[doc_key]
        for step in path[:-1]:
            target = target[step]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return mutate


_DELETE = object()


def _dup_release(docs):
    docs["torch_releases.json"]["releases"].append(dict(docs["torch_releases.json"]["releases"][2]))


def _dup_variant(docs):
    docs["cuda_variants.json"]["variants"].append(dict(docs["cuda_variants.json"]["variants"][3]))


def _dup_arch_cuda(docs):
    docs["cuda_variants.json"]["arch_cuda"].append(dict(docs["cuda_variants.json"]["arch_cuda"][6]))


R, V, M = "torch_releases.json", "cuda_variants.json", "mirrors.json"
MALFORMED = [
    # id, mutation, file, fragment of the row, fragment of the problem
    ("schema", _set(R, ["schema"], 2), R, "schema", "expected 1"),
    ("checked", _set(R, ["checked"], "Nov 2026"), R, "checked", "YYYY-MM-DD"),
    ("source-read", _set(R, ["sources", "t", "read"], None), R, "sources['t']", "'read'"),
    ("torch-version", _set(R, ["releases", 1, "torch"], "1.12.x"), R, "releases[1]", "not a version"),
    ("python-xy", _set(R, ["releases", 2, "python", "linux", 0], "3"), R, "releases[2] (torch 1.13.1).python.linux", "not a version X.Y"),
    ("unknown-variant", _set(R, ["releases", 2, "variants", "linux", 1], "cu999"), R, "releases[2] (torch 1.13.1).variants.linux", "cu999"),
    ("unknown-os", _set(R, ["releases", 0, "python", "freebsd"], ["3.8"]), R, "releases[0] (torch 1.7.1).python", "unknown OS 'freebsd'"),
    ("default-not-variant", _set(R, ["releases", 4, "default_index", "linux"], "cu117"), R, "default_index.linux", "not one of"),
    ("pip-style", _set(R, ["releases", 4, "pip_style"], "wheel"), R, "releases[4] (torch 2.5.1)", "pip_style"),
    ("conda-style", _set(R, ["releases", 4, "conda", "style"], "anaconda"), R, "releases[4] (torch 2.5.1).conda", "style"),
    ("missing-source", _set(R, ["releases", 3, "source"], []), R, "releases[3] (torch 2.1.2)", "'source'"),
    ("verified-not-bool", _set(R, ["releases", 3, "verified"], "no"), R, "releases[3] (torch 2.1.2)", "verified must be"),
    ("extra-channels-xy", _set(R, ["releases", 4, "conda", "extra_channels"], {"11": ["conda-forge"]}), R,
     "releases[4] (torch 2.5.1).conda.extra_channels", "not a version X.Y"),
    ("extra-channels-list", _set(R, ["releases", 4, "conda", "extra_channels"], {"11.8": "conda-forge"}), R,
     "releases[4] (torch 2.5.1).conda.extra_channels", "must be a list"),
    ("unknown-source", _set(R, ["releases", 3, "source"], ["nope"]), R, "releases[3] (torch 2.1.2)", "unknown source 'nope'"),
    ("missing-torchvision", _set(R, ["releases", 3, "torchvision"], _DELETE), R, "releases[3] (torch 2.1.2)", "missing field 'torchvision'"),
    ("dup-release", _dup_release, R, "(torch 1.13.1)", "duplicate release"),
    ("py-without-variants", _set(R, ["releases", 3, "variants", "macos"], []), R, "releases[3] (torch 2.1.2)", "no variants"),
    ("variant-kind", _set(V, ["variants", 2, "kind"], "gpu"), V, "variants[2] (cu102)", "kind"),
    ("variant-name-cuda", _set(V, ["variants", 7, "cuda"], "12.2"), V, "variants[7] (cu121)", "does not match cuda"),
    ("no-driver-floor", _set(V, ["variants", 7, "driver"], {}), V, "variants[7] (cu121).driver", "no driver floor"),
    ("bad-floor", _set(V, ["variants", 7, "driver", "linux", "native"], "530.x"), V, "variants[7] (cu121).driver.linux", "native"),
    ("floor-os", _set(V, ["variants", 7, "driver", "macos"], {"native": "1", "minor_compat": "1"}), V, "driver.macos", "only for linux and windows"),
    ("arch-spec", _set(V, ["variants", 7, "arches", 0, "torch"], "two"), V, "variants[7] (cu121).arches[0]", "specifier"),
    ("arch-sm", _set(V, ["variants", 7, "arches", 0, "sm"], ["sm_90"]), V, "variants[7] (cu121).arches[0]", "'sm_90'"),
    ("dup-variant", _dup_variant, V, "(cu110)", "duplicate variant"),
    # each distinct list is checked once: a later row's bad list, or a list that is no list, still fails
    ("python-not-list", _set(R, ["releases", 5, "python", "linux"], "3.9"), R, "releases[5] (torch 2.7.0).python.linux", "must be a list"),
    ("python-dup-later-row", _set(R, ["releases", 5, "python", "macos"], ["3.9", "3.10", "3.10"]), R,
     "releases[5] (torch 2.7.0).python.macos", "duplicate Python version"),
    ("python-not-str", _set(R, ["releases", 5, "python", "windows"], ["3.9", 3.1]), R, "releases[5] (torch 2.7.0).python.windows", "3.1"),
    ("variant-later-row", _set(R, ["releases", 5, "variants", "windows"], ["cpu", "cu118", "cu999"]), R,
     "releases[5] (torch 2.7.0).variants.windows", "cu999"),
    ("arch-sm-later-variant", _set(V, ["variants", 8, "arches", 0, "sm"], ["5.0", "sm_60"]), V, "variants[8] (cu124).arches[0]", "'sm_60'"),
    ("arch-sm-empty", _set(V, ["variants", 8, "arches", 0, "sm"], []), V, "variants[8] (cu124).arches[0]", "at least one"),
    ("arch-spec-later-variant", _set(V, ["variants", 8, "arches", 0, "torch"], ">=2.0,<<3"), V, "variants[8] (cu124).arches[0]", "specifier"),
    # arch_cuda: the CUDA toolkits per compute capability (ARCH_CUDA[6] is cc 9.0, [4] 7.5, [2] 6.1)
    ("arch-cuda-not-list", _set(V, ["arch_cuda"], {"9.0": "11.8"}), V, "arch_cuda", "must be a list"),
    ("arch-cuda-cc", _set(V, ["arch_cuda", 6, "cc"], "sm_90"), V, "arch_cuda[6]", "not a version X.Y"),
    ("arch-cuda-first", _set(V, ["arch_cuda", 6, "first_cuda"], "11"), V, "arch_cuda[6] (cc 9.0)", "first_cuda '11'"),
    ("arch-cuda-last", _set(V, ["arch_cuda", 2, "last_cuda"], 12.9), V, "arch_cuda[2] (cc 6.1)", "last_cuda"),
    ("arch-cuda-neither", _set(V, ["arch_cuda", 4, "first_cuda"], None), V, "arch_cuda[4] (cc 7.5)", "needs first_cuda or last_cuda"),
    ("arch-cuda-order", _set(V, ["arch_cuda", 2, "first_cuda"], "13.0"), V, "arch_cuda[2] (cc 6.1)", "newer than last_cuda 12.9"),
    ("arch-cuda-dup", _dup_arch_cuda, V, "(cc 9.0)", "duplicate compute capability 9.0"),
    ("arch-cuda-source", _set(V, ["arch_cuda", 6, "source"], ["nope"]), V, "arch_cuda[6] (cc 9.0)", "unknown source 'nope'"),
    ("arch-cuda-no-source", _set(V, ["arch_cuda", 6, "source"], _DELETE), V, "arch_cuda[6] (cc 9.0)", "'source'"),
    ("mirror-url", _set(M, ["mirrors", 0, "pip_index"], "mirrors.example/simple"), M, "mirrors[0] (tuna).pip_index", "URL"),
    ("mirror-source", _set(M, ["mirrors", 0, "source"], ["x"]), M, "mirrors[0] (tuna)", "unknown source"),
]


@pytest.mark.parametrize("mutate, filename, row, problem", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_data_names_file_row_problem(mutate, filename, row, problem):
    docs = mini_docs()
    mutate(docs)
    with pytest.raises(EnvcheckError) as info:
        build_matrix(docs)
    err = info.value
    assert err.code == "matrix-invalid"
    assert filename in err.message and row in err.message and problem in err.message, err.message
    assert "\n" not in err.message


def _write(tmp_path: Path, docs: dict) -> Path:
    for name, doc in docs.items():
        (tmp_path / name).write_text(json.dumps(doc), encoding="utf-8")
    return tmp_path


def test_load_from_directory_is_cached(tmp_path):
    d = _write(tmp_path, mini_docs())
    first = load_matrix(d)
    assert first is load_matrix(d)
    assert first.releases[0].torch == "2.15.0" and first.releases[-1].torch == "1.7.1"


def test_invalid_json_names_file_and_line(tmp_path):
    d = _write(tmp_path, mini_docs())
    (d / "cuda_variants.json").write_text('{"schema": 1,\n  "checked": }', encoding="utf-8")
    with pytest.raises(EnvcheckError) as info:
        load_matrix(d)
    assert str(d / "cuda_variants.json") in info.value.message
    assert "line 2" in info.value.message and "not valid JSON" in info.value.message


def test_missing_file(tmp_path):
    d = _write(tmp_path, {k: v for k, v in mini_docs().items() if k != "torch_releases.json"})
    with pytest.raises(EnvcheckError) as info:
        load_matrix(d)
    assert "torch_releases.json" in info.value.message and info.value.code == "matrix-invalid"


def test_malformed_file_via_cli_is_one_line_error(tmp_path, monkeypatch):
    """A broken shipped file: exit 1, `error: ... file: row: problem`, no traceback."""
    from typer.testing import CliRunner

    import envcheck.matrix as matrix_mod
    from envcheck.cli import app

    docs = mini_docs()
    docs[R]["releases"][2]["python"]["linux"][0] = "three"
    d = _write(tmp_path, docs)
    monkeypatch.setattr(matrix_mod, "default_config_dir", lambda: d)
    out = CliRunner().invoke(app, ["install", "--python", "3.7", "--cpu"], env={"COLUMNS": "120"})
    assert out.exit_code == 1
    assert "Traceback" not in out.output
    assert "releases[2] (torch 1.13.1).python.linux" in out.output and "torch_releases.json" in out.output


# --- API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cuda, os, compat, expected",
    [
        ("12.1", "linux", True, "525.60.13"),
        ("12.1", "linux", False, "530.30.02"),
        ("12.1", "windows", True, "528.33"),
        ("12.1.105", "linux", False, "530.30.02"),
        ("11.0", "linux", True, "450.36.06"),  # native below the 11.x compatibility floor
        ("10.2", "linux", True, "440.33"),  # no minor-version compatibility before CUDA 11
        ("12.3", "linux", True, None),  # no torch variant for CUDA 12.3
        ("12.1", "macos", True, None),
    ],
)
def test_driver_floor(cuda, os, compat, expected):
    got = MATRIX.driver_floor(cuda, os, minor_compat=compat)
    assert got == (Version(expected) if expected else None)


def test_release_lookup_and_dates():
    assert MATRIX.release("1.13.1").torchvision == "0.14.1"
    assert MATRIX.release(Version("2.15.0")).torchaudio is None
    assert MATRIX.release("9.9.9") is None
    assert MATRIX.release("2.5.1+cu121").torch == "2.5.1"  # torch.__version__ carries the variant
    assert MATRIX.release("not a version") is None
    assert MATRIX.checked == "2026-11-01"
    assert MATRIX.newest_torch == Version("2.15.0")


@pytest.mark.parametrize(
    "kwargs, codes",
    [
        (dict(torch_version="2.16.0"), {"matrix-older-than-torch"}),
        (dict(torch_version="2.16.0+cu130"), {"matrix-older-than-torch"}),
        (dict(torch_version="2.15.0"), set()),
        (dict(torch_version="2.15.0.dev20261101"), set()),
        (dict(driver_cuda="13.2"), {"matrix-older-than-driver"}),
        (dict(driver_cuda="13.0"), set()),
        (dict(compute_capabilities=["13.0"]), {"gpu-arch-unknown-to-matrix"}),
        (dict(compute_capabilities=["12.0", "8.6"]), set()),
        (dict(torch_version="garbage", driver_cuda="x", compute_capabilities=["?"]), set()),
    ],
)
def test_stale_notes(kwargs, codes):
    findings = stale_notes(MATRIX, **kwargs)
    assert {f.code for f in findings} == codes
    for f in findings:
        assert f.severity in (Severity.INFO, Severity.WARNING) and f.fix
        assert "2026-11-01" in f.message


# --- the shipped files --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    if not (REPO_CONFIGS / "torch_releases.json").is_file() or not (REPO_CONFIGS / "cuda_variants.json").is_file():
        pytest.skip("configs/ data files not written yet")
    return load_matrix(REPO_CONFIGS)


def test_default_config_dir_is_repo_configs():
    assert default_config_dir() == REPO_CONFIGS


def test_shipped_files_have_sources_and_dates(shipped):
    for name in ("torch_releases.json", "cuda_variants.json", "mirrors.json"):
        path = REPO_CONFIGS / name
        if not path.is_file():
            pytest.fail(f"{name} missing")
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["sources"], name
        for key, src in doc["sources"].items():
            assert src["url"].startswith("https://"), (name, key)


def test_shipped_releases_cover_1_4_to_newest(shipped):
    versions = [r.version for r in shipped.releases]
    assert versions[-1] == Version("1.4.0")
    assert versions[0] == shipped.newest_torch
    assert len(set(versions)) == len(versions)
    tvs = [r.torchvision for r in shipped.releases]
    assert len(set(tvs)) == len(tvs), "two torch releases share a torchvision"


def test_shipped_pairs(shipped):
    for r in shipped.releases:
        if r.torchaudio is not None:
            assert Version(r.torchaudio) <= Version("2.11.0"), r.torch  # torchaudio's last release
            if r.version >= Version("2.1.0"):
                assert r.torchaudio == r.torch, r.torch
        if r.version > Version("2.11.0"):
            assert r.torchaudio is None, f"torch {r.torch}: torchaudio's last release is 2.11.0"
        if Version("2.1.0") <= r.version <= Version("2.11.0"):
            assert r.torchaudio == r.torch, f"torch {r.torch} lacks its torchaudio"
        assert Version(r.torchvision).major == 0, r.torch


def test_shipped_eras(shipped):
    for r in shipped.releases:
        v = r.version
        want = "find-links" if v < Version("1.11") else "extra-index-url" if v < Version("2.0") else "index-url"
        assert r.pip_style == want, r.torch
        conda = "cudatoolkit" if v <= Version("1.12.1") else "pytorch-cuda" if v <= Version("2.5.1") else None
        # None before 2.5.1 means the data found no conda build for that release; never another era's style
        assert r.conda.style in (conda, None), r.torch
        if v > Version("2.5.1"):
            assert r.conda.style is None, r.torch


def test_shipped_variants_have_floors(shipped):
    used = {(os, v) for r in shipped.releases for os in ("linux", "windows") for v in r.variants_for(os)}
    for os, name in used:
        variant = shipped.variants[name]
        if variant.kind == "cuda":
            assert os in variant.driver, f"{name} is shipped for {os} but has no {os} driver floor"
    for variant in shipped.variants.values():
        if variant.kind != "cuda":
            continue
        major = variant.cuda_version.major
        linux = variant.driver.get("linux")
        if major < 11:
            for floor in variant.driver.values():
                assert floor.minor_compat == floor.native, variant.name
        elif major == 11:
            assert linux.minor_compat == "450.80.02", variant.name
            assert variant.driver["windows"].minor_compat == "452.39", variant.name
        elif major == 12:
            assert linux.minor_compat == "525.60.13", variant.name
            assert variant.driver["windows"].minor_compat == "528.33", variant.name
        elif major == 13:
            assert linux.minor_compat == "580.65.06", variant.name


def test_shipped_default_index_and_macos(shipped):
    for r in shipped.releases:
        for os in ("linux", "windows", "macos"):
            d = r.default_index.get(os)
            assert d is None or d in r.variants_for(os)
        assert all(shipped.variants[v].kind == "cpu" for v in r.variants_for("macos")), r.torch


def test_shipped_headline_example(shipped):
    from envcheck.resolve import ResolveRequest, resolve

    rec = resolve(
        ResolveRequest(python="3.7", os="linux", driver=Version("535.104.05"), cuda=Version("12.2"), gpu_ccs=("8.6",)),
        shipped,
    ).recommendation
    assert (rec.torch, rec.variant.name) == ("1.13.1", "cu117")


SHIPPED_TOOLKIT = [
    # id, python, driver, cc, expected (torch, variant)
    ("h100-py37", "3.7", "580.159.04", "9.0", ("1.13.1", "cpu")),  # cu111 (1.8-1.10) carries no sm_90
    ("h100-py35", "3.5", "580.159.04", "9.0", ("1.5.1", "cpu")),  # cu100 (1.4.0, list unknown) predates sm_90
    ("ampere-py37-headline", "3.7", "535.104.05", "8.6", ("1.13.1", "cu117")),
    ("h100-py38", "3.8", "580.159.04", "9.0", ("2.4.1", "cu124")),
]


@pytest.mark.parametrize("python, driver, cc, expected", [c[1:] for c in SHIPPED_TOOLKIT], ids=[c[0] for c in SHIPPED_TOOLKIT])
def test_shipped_toolkit_rule(shipped, python, driver, cc, expected):
    """cu111's kernel list (pytorch/builder release branches) lacks sm_90; cu100's is unknown, but the
    shipped arch_cuda table says CUDA 10.0 cannot target sm_90."""
    from envcheck.resolve import ResolveRequest, resolve

    res = resolve(ResolveRequest(python=python, os="linux", driver=Version(driver), driver_text=driver,
                                 cuda=Version("13.0" if driver.startswith("580") else "12.2"), gpu_ccs=(cc,)), shipped)
    assert (res.recommendation.torch, res.recommendation.variant.name) == expected
    if expected[1] == "cpu" and python == "3.7":
        reason = next(r for r in res.rejected if (r.torch, r.variant) == ("1.10.1", "cu111"))
        assert reason.code == "gpu-arch"
        assert reason.reason.startswith("cu111: no kernels for GPU sm_90 (torch 1.10.1 cu111 wheels carry sm_37, ")
        assert res.better.endswith("torch 2.0.0 and later have cu118+ builds for sm_90 but need Python >= 3.8")
    elif expected[1] == "cpu" and python == "3.5":
        reason = next(r for r in res.rejected if (r.torch, r.variant) == ("1.4.0", "cu100"))
        assert reason.code == "gpu-arch"
        assert reason.reason.startswith("cu100: CUDA 10.0 predates sm_90 (first supported by CUDA 11.8)")


def test_shipped_arch_cuda_agrees_with_recorded_kernel_lists(shipped):
    """Every architecture a CUDA variant's wheels are recorded to carry is one its toolkit can target."""
    assert shipped.arch_cuda_for("9.0").first_cuda == "11.8"
    assert shipped.arch_cuda_for("3.7").last_cuda == "11.8"
    for variant in shipped.variants.values():
        for entry in variant.arches:
            for sm in entry.sm + ((entry.ptx,) if entry.ptx else ()):
                row = shipped.arch_cuda_for(sm)
                assert row is None or row.supports(variant.cuda_version), (variant.name, str(entry.torch), sm)


def test_shipped_resolves_every_python_everywhere(shipped):
    """Every (OS, Python) a verified release lists resolves without error for CPU and a modern driver;
    a Python only an unverified row lists (3.15: torch 2.15.0) is exit 3 naming that release."""
    from envcheck.resolve import NoCompatibleBuild, ResolveRequest, resolve

    for os in ("linux", "windows", "macos"):
        pythons = {p for r in shipped.releases for p in r.pythons(os)}
        verified = {p for r in shipped.releases if r.verified for p in r.pythons(os)}
        for py in pythons:
            for drv in (None, Version("580.65.06")):
                # macOS: Apple silicon unless only Intel wheels exist for that Python (3.6, 3.7)
                arm = any(shipped.wheels.has_wheel("torch", r.torch, "macos-arm64", py) for r in shipped.releases)
                arch = "aarch64" if os != "macos" or arm else "x86_64"
                arch = "x86_64" if os != "macos" else arch
                req = ResolveRequest(python=py, os=os, driver=drv, gpu_ccs=("8.6",) if drv else (), arch=arch)
                if py in verified:
                    rec = resolve(req, shipped).recommendation
                    assert py in rec.release.pythons(os) and rec.release.verified
                else:
                    with pytest.raises(NoCompatibleBuild) as err:
                        resolve(req, shipped)
                    assert [a["kind"] for a in err.value.alternatives][0] == "unverified"


def test_shipped_mirrors(shipped):
    if not (REPO_CONFIGS / "mirrors.json").is_file():
        pytest.fail("mirrors.json missing")
    assert shipped.mirrors
    for m in shipped.mirrors.values():
        assert m.pip_index or m.conda_channels, m.name


def test_shipped_conda_extra_channels_reach_the_conda_command():
    """1.12.x's cudatoolkit 11.6 needs conda-forge (previous-versions page): data, not a special case."""
    from envcheck.plans.install import plan_conda_install
    from envcheck.resolve import ResolveRequest, resolve

    matrix = load_matrix()
    rel = matrix.release("1.12.1")
    assert rel.conda.channels_for("11.6") == ("conda-forge",)
    assert rel.conda.channels_for("11.3") == ()
    rec = resolve(ResolveRequest(python="3.8", os="linux", driver=Version("510.47.03"), cuda=Version("11.6"),
                                 gpu_ccs=("8.6",), torch_spec="==1.12.1"), matrix).recommendation
    assert rec.variant.name == "cu116"
    assert plan_conda_install(rec, "env") == [
        "conda", "install", "-n", "env", "pytorch==1.12.1", "torchvision==0.13.1", "torchaudio==0.12.1",
        "cudatoolkit=11.6", "-c", "pytorch", "-c", "conda-forge",
    ]


def test_unverified_release_is_offered_with_a_caveat():
    from envcheck.resolve import ResolveRequest, resolve

    matrix = load_matrix()
    unverified = [r for r in matrix.releases if not r.verified]
    assert unverified, "the shipped matrix marks its inferred rows verified: false"
    rel = unverified[0]
    py = rel.pythons("linux")[-1]
    rec = resolve(ResolveRequest(python=py, os="linux", cpu_only=True, torch_spec=f"=={rel.torch}"), matrix).recommendation
    assert any("marked unverified" in n for n in rec.notes)
    verified = next(r for r in matrix.releases if r.verified and r.pythons("linux"))
    rec = resolve(ResolveRequest(python=verified.pythons("linux")[0], os="linux", cpu_only=True,
                                 torch_spec=f"=={verified.torch}"), matrix).recommendation
    assert not any("marked unverified" in n for n in rec.notes)
