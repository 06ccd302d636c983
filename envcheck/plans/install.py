"""Install plans: the argv lists that create an env and install a Recommendation into it (PURE).

Plans are data: lists of strings, never a shell line. `shell_join` quotes them for display
(`shlex.join`, so a copy-paste into a POSIX shell is safe). The wording of each command follows the
era of the release, as PyTorch's "previous versions" page gives it:

- pip, torch <= 1.10: `torch==X+cuXYZ ... -f https://download.pytorch.org/whl/torch_stable.html`
- pip, 1.11 to 1.13: `torch==X+cuXYZ ... --extra-index-url https://download.pytorch.org/whl/cuXYZ`
- pip, >= 2.0: `torch==X ... --index-url https://download.pytorch.org/whl/cuXYZ`
- pip, the variant the default package index serves: plain `torch==X` (no PyTorch index needed)
- conda, <= 1.12.1: `cudatoolkit=X.Y -c pytorch` (11.6 also needs `-c conda-forge`)
- conda, 1.13.0 to 2.5.1: `pytorch-cuda=X.Y -c pytorch -c nvidia`
- conda, after 2.5.1: the pytorch channel has nothing; pip inside the conda env.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Sequence

from packaging.version import Version

from envcheck.errors import Msg
from envcheck.matrix import Mirror
from envcheck.resolve import Recommendation

PYTORCH_WHL = "https://download.pytorch.org/whl"
TORCH_STABLE = f"{PYTORCH_WHL}/torch_stable.html"


def shell_join(argv: Sequence[str]) -> str:
    """Quote an argv for display so a copy-paste into a POSIX shell runs exactly this argv."""
    return shlex.join([str(a) for a in argv])


def env_python_path(name: str, os: str) -> str:
    """The interpreter inside a venv created as `NAME` in the current directory."""
    return f"{name}\\Scripts\\python.exe" if os == "windows" else f"{name}/bin/python"


def _python_launcher(python: str, os: str) -> list[str]:
    # Windows installs Python as `py -X.Y`; POSIX systems as pythonX.Y.
    return ["py", f"-{python}"] if os == "windows" else [f"python{python}"]


# --- requirements -----------------------------------------------------------------------------


def _uses_default_index(rec: Recommendation) -> bool:
    """The pick is the build the default package index serves. `default_index` describes the x86_64
    wheels of Linux and Windows; for Linux aarch64 it says nothing (which CUDA the default index's
    aarch64 wheels carry is not recorded), so an aarch64 pick always names its PyTorch index."""
    if rec.os == "linux" and getattr(rec, "arch", "x86_64") == "aarch64":
        return False
    return rec.release.default_index.get(rec.os) == rec.variant.name


def pinned(rec: Recommendation, only: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """[(package, version)] an install of `rec` puts in the env, torch first (pure). The one rule for
    which packages: a release may pair no torchaudio; `only` (install --execute --only) keeps those named.
    pip, uv and conda commands and install --execute's package list all come from here."""
    pins = [("torch", rec.torch), ("torchvision", rec.torchvision), ("torchaudio", rec.torchaudio)]
    return [(name, version) for name, version in pins if version and (only is None or name in only)]


def requirements(rec: Recommendation, *, only: Sequence[str] | None = None, local: bool | None = None) -> list[str]:
    """['torch==1.13.1+cu117', 'torchvision==0.14.1+cu117', 'torchaudio==0.13.1'].

    Local version labels (+cu117) are what the PyTorch index of the find-links and extra-index-url
    eras needs to pick the variant; torchaudio's page gives it without a label. From 2.0 on the
    --index-url itself selects the variant. macOS and the default-index variant never take labels.
    """
    if local is None:
        local = (
            rec.release.pip_style in ("find-links", "extra-index-url")
            and rec.os != "macos"
            and not _uses_default_index(rec)
        )
    suffix = f"+{rec.variant.name}" if local else ""
    # torchaudio's page of those eras lists it without a label
    return [f"{name}=={version}{suffix if name != 'torchaudio' else ''}" for name, version in pinned(rec, only)]


@dataclass(frozen=True)
class IndexArgs:
    """The index options of a pip/uv install, and notes a user should read."""

    args: tuple[str, ...]
    notes: tuple[str, ...] = ()


def pip_index_args(
    rec: Recommendation,
    *,
    mirror: Mirror | None = None,
    index_url: str | None = None,
    find_links: str | None = None,
) -> IndexArgs:
    """Index options for the era (rewritten to a mirror), then the user's own.

    `index_url` REPLACES the era's index options (the mirror's too): it is the option that says
    "look there instead". `find_links` only ADDS a place to look (pip's and uv's `--find-links`):
    the recommended index stays, so a wheel directory holding torch alone cannot make pip take
    torchvision from the default index, whose build may not match (issue 9: a CUDA torchvision
    next to a CPU torch that way)."""
    extra = ("--find-links", find_links) if find_links is not None else ()
    if index_url is not None:
        return IndexArgs(("--index-url", index_url) + extra)
    era = _era_index_args(rec, mirror)
    return IndexArgs(era.args + extra, era.notes)


def _era_index_args(rec: Recommendation, mirror: Mirror | None) -> IndexArgs:
    notes: list[str] = []
    style = rec.release.pip_style
    wheels = PYTORCH_WHL
    if mirror is not None:
        if mirror.pytorch_wheels:
            wheels = mirror.pytorch_wheels
        elif not _uses_default_index(rec) and rec.os != "macos":
            notes.append(Msg("mirror {name} has no copy of PyTorch's wheel index: torch still comes from "
                             "download.pytorch.org", name=mirror.name))
    mirror_index = ["--index-url", mirror.pip_index] if mirror is not None and mirror.pip_index else []
    if rec.os == "macos" or _uses_default_index(rec):
        return IndexArgs(tuple(mirror_index), tuple(notes))
    if style == "index-url":
        return IndexArgs(("--index-url", f"{wheels}/{rec.variant.name}"), tuple(notes))
    if style == "extra-index-url":
        return IndexArgs(tuple(mirror_index) + ("--extra-index-url", f"{wheels}/{rec.variant.name}"), tuple(notes))
    return IndexArgs(tuple(mirror_index) + ("-f", f"{wheels}/torch_stable.html"), tuple(notes))


def plan_pip_install(
    rec: Recommendation,
    python: str,
    *,
    mirror: Mirror | None = None,
    index_url: str | None = None,
    find_links: str | None = None,
    only: Sequence[str] | None = None,
) -> list[str]:
    """`<python> -m pip install <pins> <index options>`: the env's own pip, so it lands in that env."""
    idx = pip_index_args(rec, mirror=mirror, index_url=index_url, find_links=find_links)
    return [python, "-m", "pip", "install", *requirements(rec, only=only), *idx.args]


def plan_uv_install(
    rec: Recommendation,
    python: str,
    *,
    mirror: Mirror | None = None,
    index_url: str | None = None,
    find_links: str | None = None,
    only: Sequence[str] | None = None,
) -> list[str]:
    """`uv pip install --python <python> <pins> <index options>` (uv reads the same options as pip)."""
    idx = pip_index_args(rec, mirror=mirror, index_url=index_url, find_links=find_links)
    args = list(idx.args)
    if "--extra-index-url" in args:
        # uv stops at the first index that has a package (its first-index strategy); pip looks at
        # every index. The 1.11-1.13 PyTorch indexes also carry some dependencies (numpy, pillow)
        # in few versions, so ask uv to behave like pip here.
        # https://docs.astral.sh/uv/configuration/indexes/#searching-across-multiple-indexes
        args += ["--index-strategy", "unsafe-best-match"]
    return ["uv", "pip", "install", "--python", python, *requirements(rec, only=only), *args]


def _conda_channel(name: str, mirror: Mirror | None) -> str:
    if mirror is None:
        return name
    return mirror.conda_channels.get(name) or name


def plan_conda_install(rec: Recommendation, env_name: str, *, mirror: Mirror | None = None, yes: bool = False,
                       only: Sequence[str] | None = None) -> list[str] | None:
    """The era's conda command for this build, or None where the pytorch channel has nothing."""
    conda = rec.release.conda
    if conda.style is None:
        return None
    pins = [f"{'pytorch' if name == 'torch' else name}=={version}" for name, version in pinned(rec, only)]
    channels = ["pytorch"]
    kind = rec.variant.kind
    if rec.os == "macos":
        pass  # the default macOS builds: no cpuonly/cudatoolkit selector
    elif kind == "cpu":
        if not conda.cpu:
            return None
        pins.append("cpuonly")
    elif kind == "cuda":
        cuda = rec.variant.cuda
        if cuda not in conda.cuda:
            return None
        if conda.style == "cudatoolkit":
            pins.append(f"cudatoolkit={cuda}")
        else:
            pins.append(f"pytorch-cuda={cuda}")
            channels.append("nvidia")
    else:
        return None  # ROCm was never on conda's pytorch channel
    channels.extend(ch for ch in conda.channels_for(rec.variant.cuda) if ch not in channels)
    argv = ["conda", "install", "-n", env_name, *pins]
    for ch in channels:
        argv += ["-c", _conda_channel(ch, mirror)]
    if yes:
        argv.append("-y")
    return argv


def plan_conda_create(env_name: str, python: str, *, mirror: Mirror | None = None, yes: bool = False) -> list[str]:
    argv = ["conda", "create", "-n", env_name, f"python={python}"]
    if mirror is not None and mirror.conda_channels.get("main"):
        argv += ["--override-channels", "-c", mirror.conda_channels["main"]]
    if yes:
        argv.append("-y")
    return argv


def plan_venv_create(env_dir: str, python: str, os: str, base_python: str | None = None) -> list[str]:
    """`pythonX.Y -m venv DIR`, or `BASE -m venv DIR` when the caller found the interpreter by path
    (e.g. a pyenv version whose `python3.7` shim does not run), so the printed command works as pasted."""
    launcher = [base_python] if base_python else _python_launcher(python, os)
    return [*launcher, "-m", "venv", env_dir]


def plan_uv_venv(env_dir: str, python: str, base_python: str | None = None) -> list[str]:
    return ["uv", "venv", "--python", base_python or python, env_dir]


def plan_conda_pip(env_name: str, pip_argv: Sequence[str]) -> list[str]:
    """pip inside a conda env, for releases the pytorch channel does not carry."""
    return ["conda", "run", "-n", env_name, *pip_argv]


def plan_kernel_add(*, name: str, python: str | None = None, env: str | None = None) -> list[str]:
    target = ["--python", python] if python is not None else ["--env", env or name]
    return ["envcheck", "kernel", "add", *target, "--name", kernel_name(name)]


def plan_verify(python: str) -> list[str]:
    return ["envcheck", "verify", "--python", python]


def kernel_name(name: str) -> str:
    """A Jupyter kernel name (`^[a-z0-9._-]+$`) derived from an env name."""
    out = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "-" for ch in name.lower())
    return out.strip("-") or "torch"


def default_env_name(rec: Recommendation) -> str:
    return f"torch{rec.torch}-{rec.variant.name}"


# --- the whole set ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InstallPlans:
    """Every route for one recommendation: argv lists plus the notes a user must read."""

    name: str
    create: dict[str, list[str]]  # conda / venv / uv
    conda: list[str] | None  # conda install from the pytorch channel (None: nothing there)
    conda_pip: list[str]  # pip inside the conda env (the route after 2.5.1)
    pip: list[str]
    uv: list[str]
    kernel: dict[str, list[str]]  # conda / venv
    verify: dict[str, list[str]]  # conda / venv
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """JSON: each command as one shell-quoted string (ready to paste) plus its argv."""
        def s(argv):
            return shell_join(argv) if argv is not None else None

        return {
            "name": self.name,
            "create": {k: s(v) for k, v in self.create.items()},
            "conda": s(self.conda),
            "conda_pip": s(self.conda_pip),
            "pip": s(self.pip),
            "uv": s(self.uv),
            "kernel": {k: s(v) for k, v in self.kernel.items()},
            "verify": {k: s(v) for k, v in self.verify.items()},
            "notes": list(self.notes),
            "argv": {
                "create": self.create,
                "conda": self.conda,
                "conda_pip": self.conda_pip,
                "pip": self.pip,
                "uv": self.uv,
                "kernel": self.kernel,
                "verify": self.verify,
            },
        }


def plan_install(rec: Recommendation, *, name: str | None = None, mirror: Mirror | None = None,
                 base_python: str | None = None) -> InstallPlans:
    """All routes, for display: conda env `name`, or a venv directory `name` in the current directory.

    `base_python`: the path of a Python X.Y the caller found when `pythonX.Y` on PATH does not run it;
    the venv and uv routes then start from that path."""
    name = name or default_env_name(rec)
    py = env_python_path(name, rec.os)
    notes = list(pip_index_args(rec, mirror=mirror).notes)
    pip = plan_pip_install(rec, py, mirror=mirror)
    conda = plan_conda_install(rec, name, mirror=mirror)
    conda_pip = plan_conda_pip(name, plan_pip_install(rec, "python", mirror=mirror))
    if conda is None:
        if rec.release.conda.style is None and rec.release.version > Version("2.5.1"):
            notes.append(
                Msg("conda: the pytorch channel has no torch {torch} (it stopped publishing after 2.5.1); in a conda "
                    "env install with pip (the conda_pip command), or use conda-forge's own pytorch builds",
                    torch=rec.torch)
            )
        elif rec.release.conda.style is None:
            notes.append(Msg("conda: the matrix records no conda build of torch {torch}; in a conda env install with "
                             "pip (the conda_pip command)", torch=rec.torch))
        else:
            notes.append(Msg("conda: the pytorch channel has no {name} build of torch {torch}; use pip inside the "
                             "conda env", name=rec.variant.name, torch=rec.torch))
    elif mirror is not None and any(ch in ("nvidia", "conda-forge") and not mirror.conda_channels.get(ch) for ch in conda):
        notes.append(Msg("mirror {name} does not mirror every channel used: those still come from anaconda.org",
                         name=mirror.name))
    if rec.release.torchaudio is None:
        notes.append(Msg("torchaudio: no release pairs with torch {torch} (its last release is older); none installed",
                         torch=rec.torch))
    return InstallPlans(
        name=name,
        create={
            "conda": plan_conda_create(name, rec.python, mirror=mirror),
            "venv": plan_venv_create(name, rec.python, rec.os, base_python),
            "uv": plan_uv_venv(name, rec.python, base_python),
        },
        conda=conda,
        conda_pip=conda_pip,
        pip=pip,
        uv=plan_uv_install(rec, py, mirror=mirror),
        kernel={
            "conda": plan_kernel_add(name=name, env=name),
            "venv": plan_kernel_add(name=name, python=py),
        },
        verify={
            "conda": ["conda", "run", "-n", name, "envcheck", "verify"],
            "venv": plan_verify(py),
        },
        notes=tuple(notes),
    )
