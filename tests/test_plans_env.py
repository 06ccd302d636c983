"""Pure parts of create/kernel: argv builders (exact), name validation (hostile names), parsers."""
from __future__ import annotations

import json
import os

import pytest

from envcheck.backends import parse_conda_env_list
from envcheck.diagnose import kernel_findings
from envcheck.kernels import kernel_destination, parse_target_info
from envcheck.errors import EnvcheckError, ExitCode
from envcheck.names import (
    env_dir_for_name,
    env_name_problem,
    kernel_name_problem,
    prefix_problem,
    validate_display_name,
    validate_env_name,
    validate_kernel_name,
)
from envcheck.plans.env import (
    Backend,
    KernelScope,
    StepKind,
    activate_command,
    plan_conda_create,
    plan_conda_env_list,
    plan_env_remove,
    plan_ipykernel_install,
    plan_pip_install,
    plan_uv_create,
    plan_venv_create,
)
from envcheck.probes.jupyter import KernelSpecInfo


@pytest.mark.parametrize(
    "backend, exe, kwargs, expected",
    [
        (Backend.CONDA, "/opt/conda/bin/conda", {"name": "torch"},
         ("/opt/conda/bin/conda", "create", "-n", "torch", "python=3.11", "-y")),
        (Backend.MAMBA, "mamba", {"prefix": "/envs/t"}, ("mamba", "create", "-p", "/envs/t", "python=3.11", "-y")),
        (Backend.MICROMAMBA, "micromamba", {"name": "t", "channels": ("https://m.example/conda-forge",)},
         ("micromamba", "create", "-n", "t", "python=3.11", "-y", "--override-channels", "-c",
          "https://m.example/conda-forge")),
        (Backend.CONDA, "conda", {"name": "t", "channels": ("https://a/main", "https://a/free")},
         ("conda", "create", "-n", "t", "python=3.11", "-y", "--override-channels", "-c", "https://a/main",
          "-c", "https://a/free")),
    ],
)
def test_conda_family_create_argv(backend, exe, kwargs, expected):
    step = plan_conda_create(exe, backend, "3.11", **kwargs)
    assert step.argv == expected
    assert step.kind is StepKind.RUN and step.timeout_s >= 600


def test_conda_create_needs_exactly_one_target():
    with pytest.raises(ValueError):
        plan_conda_create("conda", Backend.CONDA, "3.11")
    with pytest.raises(ValueError):
        plan_conda_create("conda", Backend.CONDA, "3.11", name="a", prefix="/b")


def test_venv_and_uv_argv():
    assert plan_venv_create("/usr/bin/python3.11", "/e/t").argv == ("/usr/bin/python3.11", "-m", "venv", "/e/t")
    uv = plan_uv_create("/bin/uv", "/usr/bin/python3.11", "/e/t")
    assert uv.argv == ("/bin/uv", "venv", "--python", "/usr/bin/python3.11", "/e/t")
    assert dict(uv.env) == {"UV_PYTHON_DOWNLOADS": "never"}
    assert uv.display() == "UV_PYTHON_DOWNLOADS=never /bin/uv venv --python /usr/bin/python3.11 /e/t"


@pytest.mark.parametrize(
    "backend, exe, kwargs, argv, kind",
    [
        (Backend.CONDA, "conda", {"name": "t"}, ("conda", "env", "remove", "-n", "t", "-y"), StepKind.RUN),
        (Backend.MAMBA, "mamba", {"prefix": "/p"}, ("mamba", "env", "remove", "-p", "/p", "-y"), StepKind.RUN),
        (Backend.MICROMAMBA, "micromamba", {"name": "t"}, ("micromamba", "env", "remove", "-n", "t", "-y"), StepKind.RUN),
        (Backend.VENV, None, {"prefix": "/p q"}, ("rm", "-rf", "--", "/p q"), StepKind.REMOVE_TREE),
        (Backend.UV, None, {"prefix": "/p"}, ("rm", "-rf", "--", "/p"), StepKind.REMOVE_TREE),
    ],
)
def test_env_remove_argv(backend, exe, kwargs, argv, kind):
    step = plan_env_remove(backend, exe, **kwargs)
    assert step.argv == argv and step.kind is kind


def test_env_list_argv():
    assert plan_conda_env_list("micromamba") == ("micromamba", "env", "list", "--json")


@pytest.mark.parametrize(
    "scope, prefix_dir, tail",
    [
        (KernelScope.USER, None, ("--user",)),
        (KernelScope.SYS_PREFIX, None, ("--sys-prefix",)),
        (KernelScope.PREFIX, "/opt/jup", ("--prefix", "/opt/jup")),
    ],
)
def test_ipykernel_install_argv(scope, prefix_dir, tail):
    step = plan_ipykernel_install("/e/bin/python", "torch", "Python 3.11 (torch)", scope, prefix_dir)
    assert step.argv == ("/e/bin/python", "-m", "ipykernel", "install", "--name", "torch", "--display-name",
                         "Python 3.11 (torch)") + tail


def test_display_is_shell_safe():
    step = plan_ipykernel_install("/my envs/bin/python", "t", "it's $HOME; rm -rf /", KernelScope.USER)
    assert step.display() == "'/my envs/bin/python' -m ipykernel install --name t --display-name " \
                             "'it'\"'\"'s $HOME; rm -rf /' --user"


@pytest.mark.parametrize(
    "kwargs, argv",
    [
        ({}, ("/e/bin/python", "-m", "pip", "install", "ipykernel")),
        ({"uv": "/bin/uv"}, ("/bin/uv", "pip", "install", "--python", "/e/bin/python", "ipykernel")),
        ({"index_url": "https://mirror/simple", "find_links": ("/wheels",)},
         ("/e/bin/python", "-m", "pip", "install", "--index-url", "https://mirror/simple", "--find-links", "/wheels",
          "ipykernel")),
    ],
)
def test_pip_install_argv(kwargs, argv):
    assert plan_pip_install("/e/bin/python", ["ipykernel"], **kwargs).argv == argv


@pytest.mark.parametrize(
    "backend, name, prefix, expected",
    [
        (Backend.CONDA, "torch", "/c/envs/torch", "conda activate torch"),
        (Backend.MAMBA, "torch", "/c/envs/torch", "conda activate torch"),
        (Backend.MICROMAMBA, None, "/my envs/t", "micromamba activate '/my envs/t'"),
        (Backend.VENV, "t", "/e/t", "source /e/t/bin/activate"),
        (Backend.UV, None, "/my envs/t", "source '/my envs/t/bin/activate'"),
    ],
)
def test_activate_command(backend, name, prefix, expected):
    assert activate_command(backend, name=name, prefix=prefix) == expected


# --- names: a table of hostile and fine names --------------------------------------------------

HOSTILE_ENV_NAMES = [
    ("", "empty"),
    ("../evil", "must not be a path"),
    ("..", "outside"),
    (".", "outside"),
    ("a/b", "must not be a path"),
    ("a\\b", "must not be a path"),
    ("my env", "conda does not allow a space"),
    ("env#1", "conda does not allow '#'"),
    ("c:env", "conda does not allow ':'"),
    ("x;rm -rf ~", "shell metacharacter ';'"),
    ("$(reboot)", "shell metacharacter '$'"),
    ("`id`", "shell metacharacter '`'"),
    ("a|b", "shell metacharacter '|'"),
    ("a&b", "shell metacharacter '&'"),
    ("a>b", "shell metacharacter '>'"),
    ("~root", "shell metacharacter '~'"),
    ("new\nline", "control character U+000A"),
    ("tab\there", "control character U+0009"),
    ("base", "reserved by conda"),
    ("root", "reserved by conda"),
    ("-n", "starts with '-'"),
    (".hidden", "starts with '.'"),
    ("tørch", "ASCII"),
    ("a" * 101, "longer than 100"),
    ("nbsp\u00a0x", "U+00A0"),
]


@pytest.mark.parametrize("name, reason", HOSTILE_ENV_NAMES)
def test_hostile_env_names_rejected(name, reason):
    problem = env_name_problem(name)
    assert problem is not None and reason in problem
    with pytest.raises(EnvcheckError) as exc:
        validate_env_name(name)
    assert exc.value.exit_code == ExitCode.USAGE and exc.value.code == "invalid-env-name"


@pytest.mark.parametrize("name", ["torch", "torch-py311", "py3.11_cu121", "Torch2", "a+b", "_private", "x" * 100])
def test_fine_env_names(name):
    assert env_name_problem(name) is None


def test_env_dir_for_name_stays_inside(tmp_path):
    assert env_dir_for_name("torch", str(tmp_path)) == os.path.join(str(tmp_path), "torch")
    for bad in ("../evil", "..", "a/../../b"):
        with pytest.raises(EnvcheckError):
            env_dir_for_name(bad, str(tmp_path))


@pytest.mark.parametrize(
    "path, reason",
    [("", "empty"), ("   ", "empty"), ("/a:b", "':'"), ("/a\nb", "control character"), ("/ok/path", None),
     ("~/envs/t", None), ("/with space/ok", None)],
)
def test_prefix_problem(path, reason):
    problem = prefix_problem(path)
    assert (problem is None) if reason is None else (reason in problem)


@pytest.mark.parametrize(
    "name, reason",
    [
        ("torch", None),
        ("py3.11_cu-121", None),
        ("Torch", "use 'torch'"),
        ("my kernel", "a-z, 0-9"),
        ("../evil", "a-z, 0-9"),
        ("..", "outside"),
        (".", "outside"),
        ("a/b", "a-z, 0-9"),
        ("x;y", "a-z, 0-9"),
        ("-x", "starts with '-'"),
        ("", "empty"),
        ("ü", "a-z, 0-9"),
        ("k" * 101, "longer"),
    ],
)
def test_kernel_names(name, reason):
    problem = kernel_name_problem(name)
    if reason is None:
        assert problem is None
        assert validate_kernel_name(name) == name
    else:
        assert reason in problem
        with pytest.raises(EnvcheckError) as exc:
            validate_kernel_name(name)
        assert exc.value.exit_code == ExitCode.USAGE and exc.value.code == "invalid-kernel-name"


@pytest.mark.parametrize("text, ok", [("Python 3.11 (torch)", True), ("", False), ("a\nb", False), ("x" * 201, False)])
def test_display_names(text, ok):
    if ok:
        assert validate_display_name(text) == text
    else:
        with pytest.raises(EnvcheckError):
            validate_display_name(text)


# --- parsers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{"envs": ["/opt/conda", "/opt/conda/envs/torch"]}', ["/opt/conda", "/opt/conda/envs/torch"]),
        ('{"envs": []}', []),
        ("", None),
        ("not json", None),
        ('{"envs": "x"}', None),
        ("[1]", None),
    ],
)
def test_parse_conda_env_list(text, expected):
    assert parse_conda_env_list(text) == expected


def test_parse_target_info():
    line = json.dumps({"executable": "/e/bin/python", "prefix": "/e", "version": "3.11.7", "ipykernel": True,
                       "ipykernel_version": "7.0.0", "pip": False})
    info = parse_target_info("some warning\n" + line + "\n")
    assert info.executable == "/e/bin/python" and info.ipykernel and not info.pip and info.version == "3.11.7"
    assert parse_target_info("") is None
    assert parse_target_info("garbage\n[1,2]") is None


def test_kernel_destination(tmp_path):
    env = {"JUPYTER_DATA_DIR": "/jd", "HOME": str(tmp_path)}
    assert kernel_destination("t", KernelScope.USER, target_prefix="/e", environ=env) == "/jd/kernels/t"
    assert kernel_destination("t", KernelScope.SYS_PREFIX, target_prefix="/e", environ=env) == "/e/share/jupyter/kernels/t"
    assert kernel_destination("t", KernelScope.PREFIX, target_prefix="/e", prefix_dir="/opt/j",
                              environ=env) == "/opt/j/share/jupyter/kernels/t"


def test_diagnose_kernels():
    specs = [
        KernelSpecInfo("ok", "/k/ok", "OK", "python", ("/e/bin/python",), "/e/bin/python", True),
        KernelSpecInfo("gone", "/k/gone", "G", "python", ("/x/bin/python",), "/x/bin/python", False),
        KernelSpecInfo("gone", "/k2/gone", "G", "python", ("/y/bin/python",), "/y/bin/python", False,
                       shadowed_by="/k/gone"),
        KernelSpecInfo("ok", "/k2/ok", "OK", "python", ("/e/bin/python",), "/e/bin/python", True, shadowed_by="/k/ok"),
        KernelSpecInfo("bad", "/k/bad", error="kernel.json is not valid JSON: x"),
        KernelSpecInfo("r", "/k/r", "R", "R", ("/gone/R",), None, False),
    ]
    got = [(f.code, f.severity.value) for f in kernel_findings([s.to_dict() for s in specs])]
    assert got == [
        ("stale-jupyter-kernel", "error"),
        ("stale-jupyter-kernel", "warning"),
        ("shadowed-jupyter-kernel", "info"),
        ("invalid-jupyter-kernelspec", "warning"),
    ]
