"""`envcheck install`: plans (exact argv per era), the JSON contract, bad input, exit codes.

CLI tests run against the in-test mini matrix (tests/test_resolve.py) by pointing the loader at a
temporary configs directory, so they do not depend on the shipped data; the end-to-end tests at the
bottom run the real program on the shipped configs/.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import envcheck.matrix as matrix_mod
from envcheck.cli import app
from envcheck.plans.install import plan_conda_install, plan_install, plan_pip_install, plan_uv_install, requirements
from envcheck.resolve import ResolveRequest, resolve
from test_resolve import MATRIX, mini_docs

# PATH and PYENV_ROOT point nowhere: no Python X.Y is found, so the printed venv commands keep the
# bare `pythonX.Y` (tests/test_install_base_python.py covers the found-by-path case).
ENV = {"COLUMNS": "120", "ENVCHECK_DISABLE_NVML": "1", "PATH": "/nonexistent", "PYENV_ROOT": "/nonexistent",
       "ENVCHECK_SKIP_VENDOR_PROBES": "all"}  # no AMD/Intel probing of this host


@pytest.fixture(scope="module")
def mini_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("configs")
    for name, doc in mini_docs().items():
        (d / name).write_text(json.dumps(doc), encoding="utf-8")
    return d


@pytest.fixture
def cli(mini_dir, monkeypatch):
    monkeypatch.setattr(matrix_mod, "default_config_dir", lambda: mini_dir)

    def invoke(*args, env=None):
        return CliRunner().invoke(app, ["install", *args], env={**ENV, **(env or {})})

    return invoke


def _rec(python="3.12", os="linux", driver=None, ccs=(), cpu=False, torch=None):
    from packaging.version import Version

    request = ResolveRequest(python=python, os=os, driver=Version(driver) if driver else None, driver_text=driver,
                             gpu_ccs=tuple(ccs), cpu_only=cpu, torch_spec=torch)
    return resolve(request, MATRIX).recommendation


# --- plans: exact argv per era ------------------------------------------------------------------

PIP = [
    # id, request, expected pip argv after `<py> -m pip install`
    ("find-links-default-index", dict(python="3.8", torch="1.7", driver="440.33"),
     ["torch==1.7.1", "torchvision==0.8.2", "torchaudio==0.7.2"]),
    ("find-links-cu110", dict(python="3.8", torch="1.7", driver="450.80.02"),
     ["torch==1.7.1+cu110", "torchvision==0.8.2+cu110", "torchaudio==0.7.2", "-f", "https://download.pytorch.org/whl/torch_stable.html"]),
    ("find-links-cpu", dict(python="3.8", torch="1.7", cpu=True),
     ["torch==1.7.1+cpu", "torchvision==0.8.2+cpu", "torchaudio==0.7.2", "-f", "https://download.pytorch.org/whl/torch_stable.html"]),
    ("find-links-windows-cpu-default", dict(python="3.8", os="windows", torch="1.7", cpu=True),
     ["torch==1.7.1", "torchvision==0.8.2", "torchaudio==0.7.2"]),
    ("extra-index-cu116", dict(python="3.8", torch="1.12", driver="510.39.01"),
     ["torch==1.12.1+cu116", "torchvision==0.13.1+cu116", "torchaudio==0.12.1", "--extra-index-url", "https://download.pytorch.org/whl/cu116"]),
    ("extra-index-default-cu117", dict(python="3.7", driver="535.104.05"),
     ["torch==1.13.1", "torchvision==0.14.1", "torchaudio==0.13.1"]),
    ("extra-index-cpu", dict(python="3.7", cpu=True),
     ["torch==1.13.1+cpu", "torchvision==0.14.1+cpu", "torchaudio==0.13.1", "--extra-index-url", "https://download.pytorch.org/whl/cpu"]),
    ("index-url-cu118", dict(python="3.10", torch="2.1", driver="520.61.05", ccs=["8.6"]),
     ["torch==2.1.2", "torchvision==0.16.2", "torchaudio==2.1.2", "--index-url", "https://download.pytorch.org/whl/cu118"]),
    ("index-url-cpu", dict(python="3.10", torch="2.5", cpu=True),
     ["torch==2.5.1", "torchvision==0.20.1", "torchaudio==2.5.1", "--index-url", "https://download.pytorch.org/whl/cpu"]),
    ("no-torchaudio", dict(python="3.12", driver="580.65.06", ccs=["9.0"]),
     ["torch==2.15.0", "torchvision==0.30.0", "--index-url", "https://download.pytorch.org/whl/cu130"]),
    ("macos", dict(python="3.12", os="macos"), ["torch==2.15.0", "torchvision==0.30.0"]),
    ("macos-old-era", dict(python="3.8", os="macos", torch="1.7"), ["torch==1.7.1", "torchvision==0.8.2", "torchaudio==0.7.2"]),
]


@pytest.mark.parametrize("kwargs, tail", [p[1:] for p in PIP], ids=[p[0] for p in PIP])
def test_pip_argv(kwargs, tail):
    rec = _rec(**kwargs)
    assert plan_pip_install(rec, "env/bin/python") == ["env/bin/python", "-m", "pip", "install", *tail]


CONDA = [
    ("cudatoolkit-10.2", dict(python="3.8", torch="1.12", driver="440.33"),
     ["pytorch==1.12.1", "torchvision==0.13.1", "torchaudio==0.12.1", "cudatoolkit=10.2", "-c", "pytorch"]),
    ("cudatoolkit-11.6-conda-forge", dict(python="3.8", torch="1.12", driver="510.39.01"),
     ["pytorch==1.12.1", "torchvision==0.13.1", "torchaudio==0.12.1", "cudatoolkit=11.6", "-c", "pytorch", "-c", "conda-forge"]),
    ("pytorch-cuda-11.7", dict(python="3.7", driver="535.104.05"),
     ["pytorch==1.13.1", "torchvision==0.14.1", "torchaudio==0.13.1", "pytorch-cuda=11.7", "-c", "pytorch", "-c", "nvidia"]),
    ("cpuonly", dict(python="3.10", torch="2.5", cpu=True),
     ["pytorch==2.5.1", "torchvision==0.20.1", "torchaudio==2.5.1", "cpuonly", "-c", "pytorch"]),
    ("macos", dict(python="3.10", os="macos", torch="2.1"),
     ["pytorch==2.1.2", "torchvision==0.16.2", "torchaudio==2.1.2", "-c", "pytorch"]),
]


@pytest.mark.parametrize("kwargs, tail", [c[1:] for c in CONDA], ids=[c[0] for c in CONDA])
def test_conda_argv(kwargs, tail):
    """conda cannot be installed here: the exact argv is the contract."""
    assert plan_conda_install(_rec(**kwargs), "myenv") == ["conda", "install", "-n", "myenv", *tail]


@pytest.mark.parametrize(
    "kwargs",
    [dict(python="3.12", driver="580.65.06"), dict(python="3.10", torch="2.7", cpu=True),
     dict(python="3.10", torch="2.5", driver="580.65.06", ccs=["3.5"])],
    ids=["after-2.5.1", "after-2.5.1-cpu", "cpu-fallback-with-conda"],
)
def test_conda_none_after_2_5(kwargs):
    rec = _rec(**kwargs)
    plans = plan_install(rec, name="e")
    if rec.release.conda.style is None:
        assert plans.conda is None
        assert plans.conda_pip[:4] == ["conda", "run", "-n", "e"]
        assert any("stopped publishing after 2.5.1" in n for n in plans.notes)
    else:
        assert plans.conda[-2:] == ["-c", "pytorch"] and "cpuonly" in plans.conda


def test_uv_argv_and_extra_index_strategy():
    rec = _rec(python="3.8", torch="1.12", driver="510.39.01")
    assert plan_uv_install(rec, "e/bin/python") == [
        "uv", "pip", "install", "--python", "e/bin/python", "torch==1.12.1+cu116", "torchvision==0.13.1+cu116",
        "torchaudio==0.12.1", "--extra-index-url", "https://download.pytorch.org/whl/cu116",
        "--index-strategy", "unsafe-best-match",
    ]


def test_overrides_for_execute():
    """install --execute (issue 5) points pip at a local wheel directory or another index."""
    rec = _rec(python="3.10", torch="2.5", cpu=True)
    assert plan_pip_install(rec, "py", find_links="/wheels", only=("torch",)) == [  # adds, never replaces (issue 9)
        "py", "-m", "pip", "install", "torch==2.5.1", "--index-url", "https://download.pytorch.org/whl/cpu",
        "--find-links", "/wheels"]
    assert plan_pip_install(rec, "py", index_url="https://idx.example.invalid/simple")[-2:] == [
        "--index-url", "https://idx.example.invalid/simple"]
    assert requirements(rec) == ["torch==2.5.1", "torchvision==0.20.1", "torchaudio==2.5.1"]


def test_mirror_rewrites():
    tuna, wheels = MATRIX.mirrors["tuna"], MATRIX.mirrors["wheels"]
    rec = _rec(python="3.7", driver="535.104.05")  # 1.13.1 cu117: the default-index variant
    assert plan_pip_install(rec, "p", mirror=tuna)[-2:] == ["--index-url", "https://mirrors.example.invalid/pypi/web/simple"]
    conda = plan_conda_install(rec, "e", mirror=tuna)
    assert conda[-4:] == ["-c", "https://mirrors.example.invalid/anaconda/cloud/pytorch", "-c", "nvidia"]
    plans = plan_install(rec, name="e", mirror=tuna)
    assert any("does not mirror every channel" in n for n in plans.notes)
    assert plans.create["conda"] == ["conda", "create", "-n", "e", "python=3.7", "--override-channels", "-c",
                                     "https://mirrors.example.invalid/anaconda/pkgs/main"]
    rec = _rec(python="3.10", torch="2.1", driver="520.61.05")
    assert plan_pip_install(rec, "p", mirror=wheels)[-2:] == ["--index-url", "https://w.example.invalid/pytorch-wheels/cu118"]
    plans = plan_install(rec, name="e", mirror=tuna)
    assert plans.pip[-2:] == ["--index-url", "https://download.pytorch.org/whl/cu118"]
    assert any("has no copy of PyTorch's wheel index" in n for n in plans.notes)


def test_windows_paths_and_create_commands():
    rec = _rec(python="3.10", os="windows", torch="2.5", driver="537.13")
    plans = plan_install(rec, name="t")
    assert plans.create["venv"] == ["py", "-3.10", "-m", "venv", "t"]
    assert plans.pip[0] == "t\\Scripts\\python.exe"
    assert plans.kernel["venv"] == ["envcheck", "kernel", "add", "--python", "t\\Scripts\\python.exe", "--name", "t"]
    rec = _rec(python="3.10", torch="2.5", cpu=True)
    plans = plan_install(rec)
    assert plans.name == "torch2.5.1-cpu"
    assert plans.create == {
        "conda": ["conda", "create", "-n", "torch2.5.1-cpu", "python=3.10"],
        "venv": ["python3.10", "-m", "venv", "torch2.5.1-cpu"],
        "uv": ["uv", "venv", "--python", "3.10", "torch2.5.1-cpu"],
    }
    assert plans.verify["venv"] == ["envcheck", "verify", "--python", "torch2.5.1-cpu/bin/python"]


# --- CLI: the JSON contract ---------------------------------------------------------------------


def test_json_headline(cli):
    out = cli("--python", "3.7", "--driver", "535.104.05", "--cuda", "12.2", "--gpu-cc", "8.6", "--json")
    assert out.exit_code == 0, out.output
    env = json.loads(out.stdout)
    assert set(env) == {"envcheck_result_version", "command", "status", "exit_code", "data", "errors"}
    assert (env["command"], env["status"], env["exit_code"], env["errors"]) == ("install", "ok", 0, [])
    rec = env["data"]["recommendation"]
    assert (rec["torch"], rec["torchvision"], rec["torchaudio"], rec["variant"]) == ("1.13.1", "0.14.1", "0.13.1", "cu117")
    cmds = rec["commands"]
    assert set(cmds) >= {"create", "conda", "pip", "uv"}
    assert cmds["conda"] == ("conda install -n torch1.13.1-cu117 pytorch==1.13.1 torchvision==0.14.1 "
                             "torchaudio==0.13.1 pytorch-cuda=11.7 -c pytorch -c nvidia")
    assert cmds["pip"] == "torch1.13.1-cu117/bin/python -m pip install torch==1.13.1 torchvision==0.14.1 torchaudio==0.13.1"
    assert cmds["uv"].startswith("uv pip install --python torch1.13.1-cu117/bin/python torch==1.13.1 ")
    assert cmds["create"]["venv"] == "python3.7 -m venv torch1.13.1-cu117"
    assert rec["reasons"] and all(isinstance(r, str) for r in rec["reasons"])
    rejected = env["data"]["rejected"]
    assert {"torch", "variant", "code", "reason"} <= set(rejected[0])
    assert any(r["reason"] == "torch 2.5.1: no wheel for Python 3.7 on Linux (supports 3.9 to 3.13)" for r in rejected)
    inputs = env["data"]["inputs"]
    assert inputs["driver"] == {"value": "535.104.05", "source": "flag", "reason": None}
    assert inputs["python"]["source"] == "flag"
    assert "compatible" not in env["data"]


def test_json_torchaudio_and_conda_null(cli):
    out = cli("--python", "3.12", "--driver", "580.65.06", "--gpu-cc", "9.0", "--json")
    rec = json.loads(out.stdout)["data"]["recommendation"]
    assert rec["torchaudio"] is None and rec["commands"]["conda"] is None
    assert rec["commands"]["conda_pip"].startswith("conda run -n torch2.15.0-cu130 python -m pip install torch==2.15.0")


def test_json_all_and_name(cli):
    out = cli("--python", "3.10", "--torch", "2.5", "--all", "--name", "gpu", "--json")
    data = json.loads(out.stdout)["data"]
    assert ("2.5.1", "rocm6.2") in {(c["torch"], c["variant"]) for c in data["compatible"]}
    assert data["recommendation"]["variant"] == "cpu"
    assert data["recommendation"]["commands"]["create"]["conda"] == "conda create -n gpu python=3.10"


def test_json_quoting_of_specs(cli):
    """A spec with '<' reaches the user quoted, so a paste does not redirect."""
    out = cli("--python", "3.10", "--torch", ">=2,<2.4", "--cpu", "--json")
    data = json.loads(out.stdout)["data"]
    assert data["torch_spec"] == ">=2,<2.4"
    assert data["recommendation"]["torch"] == "2.1.2"


def test_override_variables_reach_the_real_probe(cli):
    """The real NVIDIA probe runs (no GPU here: NVML off, no nvidia-smi on PATH) and honours the overrides."""
    out = cli("--python", "3.7", "--gpu-cc", "8.6", "--json",
              env={"ENVCHECK_OVERRIDE_DRIVER": "535.104.05", "ENVCHECK_OVERRIDE_CUDA": "12.2"})
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)["data"]
    assert data["recommendation"]["variant"] == "cu117"
    assert data["inputs"]["driver"]["source"] == "override"
    assert data["inputs"]["gpu_cc"]["source"] == "flag"


def test_detected_facts_via_probe(cli, monkeypatch):
    from envcheck.facts import GpuInfo, NvidiaFacts, Source
    import envcheck.probes.nvidia as nv

    facts = NvidiaFacts(driver_version="570.86.10", cuda="12.8", source=Source.NVML,
                        gpus=(GpuInfo(0, "Tesla P100", compute_capability="6.0"), GpuInfo(1, "P100", compute_capability="6.0")))
    monkeypatch.setattr(nv, "probe_nvidia", lambda runner, environ=None, **kw: facts)
    data = json.loads(cli("--python", "3.12", "--json").stdout)["data"]
    assert data["recommendation"]["variant"] == "cu126"  # cu128 dropped Pascal
    assert data["inputs"]["gpu_cc"] == {"value": ["6.0"], "source": "nvml", "reason": None}
    # --cpu and flags win over detection; another --os skips it
    assert json.loads(cli("--python", "3.12", "--cpu", "--json").stdout)["data"]["recommendation"]["variant"] == "cpu"
    other = json.loads(cli("--python", "3.12", "--os", "windows", "--json").stdout)["data"]
    assert other["recommendation"]["variant"] == "cpu"
    assert "not this machine" in other["inputs"]["driver"]["reason"]
    # --driver describes a driver: this machine's CUDA (12.8) is not mixed in, its GPUs are
    given = json.loads(cli("--python", "3.12", "--driver", "450.80.02", "--json").stdout)["data"]
    assert given["inputs"]["cuda"]["value"] is None and given["inputs"]["gpu_cc"]["value"] == ["6.0"]
    # 2.15.0's builds need >= 525.60.13; 2.7.0's cu118 runs on 450.80.02 and carries sm_60
    assert (given["recommendation"]["torch"], given["recommendation"]["variant"]) == ("2.7.0", "cu118")


def test_no_gpu_detected_says_what_driver_would_give(cli):
    out = cli("--python", "3.12", "--json")
    data = json.loads(out.stdout)["data"]
    assert data["recommendation"]["variant"] == "cpu"
    assert data["better"].startswith("install an NVIDIA driver >= 525.60.13")
    assert data["inputs"]["driver"]["value"] is None and data["inputs"]["driver"]["reason"]


def test_python_from_interpreter(cli):
    out = cli("--python", sys.executable, "--cpu", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)["data"]
    assert data["recommendation"]["python"] == "%d.%d" % sys.version_info[:2]
    assert data["inputs"]["python"]["source"] == "interpreter"


# --- bad input: exit 2, one line, no traceback ------------------------------------------------

BAD = [
    (["--python", "3"], "invalid-python"),
    (["--python", "3.7.1"], "invalid-python"),
    (["--python", "3.7", "--torch", "=>2"], "invalid-torch-spec"),
    (["--python", "3.7", "--os", "freebsd"], "invalid-os"),
    (["--python", "3.7", "--mirror", "nowhere"], "invalid-mirror"),
    (["--python", "3.7", "--driver", "latest"], "invalid-driver"),
    (["--python", "3.7", "--cuda", "12"], "invalid-cuda"),
    (["--python", "3.7", "--gpu-cc", "8"], "invalid-gpu-cc"),
    (["--python", "3.7", "--manager", "brew"], "invalid-manager"),
    (["--python", "3.7", "--name", "a b;rm"], "invalid-env-name"),  # envcheck/names.py's rule, as create's
]


@pytest.mark.parametrize("args, code", BAD, ids=[b[1] + ":" + b[0][-1] for b in BAD])
def test_bad_input_exit_2(cli, args, code):
    out = cli(*args)
    assert out.exit_code == 2, out.output
    assert "Traceback" not in out.output
    err_lines = [ln for ln in out.stderr.splitlines() if ln.startswith("error:")]
    assert len(err_lines) == 1 and out.stderr.splitlines()[0].startswith("error:")
    env = json.loads(cli(*args, "--json").stdout)
    assert env["status"] == "error" and env["exit_code"] == 2 and env["errors"][0]["code"] == code


def test_bad_override_variable_exit_2(cli):
    out = cli("--python", "3.7", "--json", env={"ENVCHECK_OVERRIDE_DRIVER": "banana"})
    assert out.exit_code == 2
    assert "ENVCHECK_OVERRIDE_DRIVER" in json.loads(out.stdout)["errors"][0]["message"]


def test_missing_interpreter_exit_4(cli, tmp_path):
    out = cli("--python", str(tmp_path / "nope" / "python"), "--json")
    assert out.exit_code == 4 and json.loads(out.stdout)["errors"][0]["code"] == "interpreter-not-found"


# --- exit 3 -------------------------------------------------------------------------------------

NONE = [
    (["--python", "2.7"], "Python 3.6: newest torch is 1.7.1"),
    (["--python", "3.16"], "Python 3.14: newest torch is 2.15.0"),
    (["--python", "3.7", "--torch", "2.1"], "torch 2.1 supports Python 3.8 to 3.11 on Linux"),
]


@pytest.mark.parametrize("args, alternative", NONE, ids=["py27", "py316", "py37-torch21"])
def test_no_compatible_build_exit_3(cli, args, alternative):
    out = cli(*args, "--cpu")
    assert out.exit_code == 3 and "Traceback" not in out.output
    assert alternative in out.stderr
    env = json.loads(cli(*args, "--cpu", "--json").stdout)
    assert env["exit_code"] == 3 and env["errors"][0]["code"] == "no-compatible-build"
    assert alternative in [a["message"] for a in env["data"]["alternatives"]]


# --- human output -------------------------------------------------------------------------------


def test_human_panel_and_pasteable_commands(cli):
    out = cli("--python", "3.7", "--driver", "535.104.05", "--cuda", "12.2", "--gpu-cc", "8.6", env={"COLUMNS": "60"})
    assert out.exit_code == 0, out.output
    text = out.stdout
    assert "torch 1.13.1" in text and "cu117" in text and "torchvision 0.14.1" in text
    lines = text.splitlines()
    # commands are whole lines, never wrapped or boxed, even in a narrow terminal
    assert "conda install -n torch1.13.1-cu117 pytorch==1.13.1 torchvision==0.14.1 torchaudio==0.13.1 pytorch-cuda=11.7 -c pytorch -c nvidia" in lines
    assert "torch1.13.1-cu117/bin/python -m pip install torch==1.13.1 torchvision==0.14.1 torchaudio==0.13.1" in lines
    assert "envcheck kernel add --python torch1.13.1-cu117/bin/python --name torch1.13.1-cu117" in lines
    assert "envcheck verify --python torch1.13.1-cu117/bin/python" in lines
    assert "--explain" in text


def test_human_manager_and_explain(cli):
    out = cli("--python", "3.10", "--torch", ">=2,<2.4", "--cpu", "--manager", "uv", "--explain")
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert "uv venv --python 3.10 torch2.1.2-cpu" in lines
    assert not any(ln.startswith("conda ") for ln in lines)
    assert "uv pip install --python torch2.1.2-cpu/bin/python torch==2.1.2 torchvision==0.16.2 torchaudio==2.1.2 --index-url https://download.pytorch.org/whl/cpu" in lines
    assert "Rejected candidates" in out.stdout and "do not match --torch >=2,<2.4" in out.stdout
    assert "(6 releases)" in out.stdout  # the spec-excluded releases collapse into one row


def test_help_lists_options():
    out = CliRunner().invoke(app, ["install", "--help"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    for opt in ("--python", "--os", "--driver", "--cuda", "--gpu-cc", "--cpu", "--torch", "--strict-driver",
                "--explain", "--manager", "--mirror", "--name", "--all", "--json"):
        assert opt in out.stdout


# --- end to end on the shipped data -------------------------------------------------------------


def _shipped_or_skip():
    if not (matrix_mod.default_config_dir() / "torch_releases.json").is_file():
        pytest.skip("configs/ data files not written yet")


@pytest.mark.e2e
def test_e2e_headline(envcheck_bin, clean_env):
    """The real program on the shipped matrix: the design card's example."""
    _shipped_or_skip()
    done = subprocess.run(
        [envcheck_bin, "install", "--python", "3.7", "--driver", "535.104.05", "--cuda", "12.2", "--gpu-cc", "8.6", "--json"],
        capture_output=True, text=True, env=clean_env, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rec = json.loads(done.stdout)["data"]["recommendation"]
    assert (rec["torch"], rec["variant"]) == ("1.13.1", "cu117")


@pytest.mark.e2e
def test_e2e_fast_cpu_path(envcheck_bin, clean_env):
    """The installed console script answers `install --python 3.7 --cpu --json` (its speed is measured by
    benchmarks/bench_install.py as a ratio, not asserted here)."""
    _shipped_or_skip()
    done = subprocess.run([envcheck_bin, "install", "--python", "3.7", "--cpu", "--json"],
                          capture_output=True, text=True, env=clean_env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"]["recommendation"]["variant"] == "cpu"


def test_default_python_is_the_active_env(cli):
    """No --python: the active virtualenv's interpreter is asked for its version (a real subprocess)."""
    prefix = str(__import__("pathlib").Path(sys.executable).parent.parent)
    out = cli("--cpu", "--json", env={"VIRTUAL_ENV": prefix})
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)["data"]
    assert data["inputs"]["python"]["value"] == "%d.%d" % sys.version_info[:2]
    assert "VIRTUAL_ENV" in data["inputs"]["python"]["reason"]


def test_stale_findings_reach_install(cli):
    out = cli("--python", "3.12", "--driver", "600.10", "--cuda", "13.4", "--gpu-cc", "13.0", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)["data"]
    codes = {f["code"] for f in data["stale"]}
    assert codes == {"matrix-older-than-driver", "gpu-arch-unknown-to-matrix"}
    # sm_130 runs only the PTX of the newest architecture: cu130 embeds compute_120
    assert data["recommendation"]["variant"] == "cu130"
    assert any("PTX" in n for n in data["recommendation"]["notes"])


def test_garbage_from_detection_is_not_a_usage_error(cli, monkeypatch):
    from envcheck.facts import NvidiaFacts, Source
    import envcheck.probes.nvidia as nv

    facts = NvidiaFacts(driver_version="[N/A]", cuda="weird", source=Source.NVIDIA_SMI)
    monkeypatch.setattr(nv, "probe_nvidia", lambda runner, environ=None, **kw: facts)
    out = cli("--python", "3.12", "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)["data"]
    assert data["inputs"]["driver"]["value"] is None and "unparsable" in data["inputs"]["driver"]["reason"]
    assert data["recommendation"]["variant"] == "cpu"


# --- issue 8: CPU architecture, unverified rows, wheel facts (shipped configs/) ----------------------


@pytest.fixture
def shipped_cli():
    def invoke(*args, env=None):
        return CliRunner().invoke(app, ["install", *args], env={**ENV, **(env or {})})

    return invoke


def _json(result):
    return json.loads(result.stdout)


def test_arch_flag_alias_and_json(shipped_cli):
    res = shipped_cli("--python", "3.12", "--os", "macos", "--arch", "arm64", "--cpu", "--json")
    assert res.exit_code == 0, res.output
    data = _json(res)["data"]
    assert data["inputs"]["arch"] == {"value": "aarch64", "source": "flag", "reason": None}
    assert data["recommendation"]["arch"] == "aarch64"
    assert data["recommendation"]["torch"] == "2.14.1" and data["recommendation"]["verified"] is True
    assert data["matrix"]["wheels_read"] == matrix_mod.load_matrix().wheels_read


def test_intel_mac_gets_the_last_release_built_for_it(shipped_cli):
    res = shipped_cli("--python", "3.12", "--os", "macos", "--arch", "amd64", "--json")
    assert res.exit_code == 0, res.output
    rec = _json(res)["data"]["recommendation"]
    assert (rec["torch"], rec["variant"], rec["arch"]) == ("2.2.2", "cpu", "x86_64")
    assert rec["reasons"][0].startswith("macOS x86_64 (Intel): torch 2.2.2 is the last release with a macOS x86_64 (Intel) "
                                        "wheel for Python 3.12 (torch 2.3.0 and later have none on the default index")


def test_other_os_assumes_its_usual_arch(shipped_cli):
    other = "windows" if sys.platform.startswith("linux") else "linux"
    res = shipped_cli("--python", "3.12", "--os", other, "--cpu", "--json")
    arch = _json(res)["data"]["inputs"]["arch"]
    assert arch["value"] == "x86_64" and arch["source"] == "default"
    assert arch["reason"] == f"--os {other} is not this machine: assumed x86_64 (pass --arch)"


def test_linux_aarch64_gets_a_build_that_exists(shipped_cli):
    # Grace Hopper: the recorded aarch64 (sbsa) CUDA build, from its own PyTorch index
    res = shipped_cli("--python", "3.12", "--os", "linux", "--arch", "aarch64", "--driver", "580.65.06",
                      "--gpu-cc", "9.0", "--json")
    assert res.exit_code == 0, res.output
    data = _json(res)["data"]
    assert (data["recommendation"]["torch"], data["recommendation"]["variant"]) == ("2.14.1", "cu132")
    assert "--index-url https://download.pytorch.org/whl/cu132" in json.dumps(data["recommendation"]["commands"])
    codes = {(r["torch"], r["variant"]): r["code"] for r in data["rejected"]}
    assert codes[("2.14.1", "cpu")] == "arch"  # the default index's aarch64 wheels are CUDA builds
    # no NVIDIA driver: the newest release whose aarch64 wheels on the default index are CPU builds
    res = shipped_cli("--python", "3.12", "--os", "linux", "--arch", "aarch64", "--json")
    assert (_json(res)["data"]["recommendation"]["torch"], _json(res)["data"]["recommendation"]["variant"]) == ("2.10.0", "cpu")


@pytest.mark.parametrize("args, code, exit_code", [
    (("--arch", "sparc64"), "invalid-arch", 2),
    (("--os", "windows", "--arch", "arm64"), "no-compatible-build", 3),
])
def test_arch_errors(shipped_cli, args, code, exit_code):
    res = shipped_cli("--python", "3.12", "--cpu", *args, "--json")
    assert res.exit_code == exit_code
    out = _json(res)
    assert out["errors"][0]["code"] == code and out["exit_code"] == exit_code


def test_unverified_release_is_never_the_default(shipped_cli):
    """torch 2.15.0's row is unverified: Python 3.15 (only 2.15.0 has wheels for it) is exit 3 naming it."""
    res = shipped_cli("--python", "3.15", "--os", "linux", "--cpu", "--json")
    assert res.exit_code == 3
    err = _json(res)["errors"][0]
    assert err["message"] == "no torch release with a verified matrix row has wheels for Python 3.15 on Linux"
    assert err["hint"].startswith("torch 2.15.0 has wheels for Python 3.15 but its matrix row is unverified: "
                                  "--torch 2.15.0 or --allow-unverified picks it")
    # Python 3.12: 2.14.1 is picked and the reason names 2.15.0 as passed over
    rec = _json(shipped_cli("--python", "3.12", "--os", "linux", "--cpu", "--json"))["data"]["recommendation"]
    assert rec["torch"] == "2.14.1"
    assert any(r.startswith("torch 2.15.0 is newer but passed over: its matrix row is unverified") for r in rec["reasons"])


@pytest.mark.parametrize("extra", [("--allow-unverified",), ("--torch", "2.15"), ("--torch", "==2.15.0")])
def test_unverified_release_when_asked(shipped_cli, extra):
    res = shipped_cli("--python", "3.15", "--os", "linux", "--cpu", "--json", *extra)
    assert res.exit_code == 0, res.output
    rec = _json(res)["data"]["recommendation"]
    assert (rec["torch"], rec["verified"]) == ("2.15.0", False)
    assert any("marked unverified" in n for n in rec["notes"])


def test_a_range_does_not_name_an_unverified_release(shipped_cli):
    rec = _json(shipped_cli("--python", "3.12", "--os", "linux", "--cpu", "--json", "--torch", ">=2.14"))["data"]["recommendation"]
    assert rec["torch"] == "2.14.1"


def test_human_summary_shows_arch_and_when_the_matrix_was_checked(shipped_cli):
    res = shipped_cli("--python", "3.12", "--os", "macos", "--arch", "arm64")
    assert res.exit_code == 0, res.output
    m = matrix_mod.load_matrix()
    assert "on macos aarch64" in res.output
    assert "arch aarch64 [flag]" in res.output
    assert f"matrix checked {m.checked}; wheel facts read from the package index {m.wheels_read}" in res.output
