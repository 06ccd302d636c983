"""`envcheck install`: detect (or take from flags) the inputs, resolve, and build the install plans.

The decision itself (`decide(...)` -> InstallDecision) lives in envcheck/decision.py, shared with
`install --execute` and doctor's fixes; `run(...)` wraps it into a Result for rendering.
"""
from __future__ import annotations

import os as _os
from typing import Mapping, Sequence

from envcheck.decision import MANAGERS, InstallDecision, decide  # noqa: F401 (MANAGERS: cli help; decide: tests)
from envcheck.errors import EnvcheckError, Msg
from envcheck.inputs import host_os, parse_python_request
from envcheck.results import Result


# --- the command ------------------------------------------------------------------------------


def run(
    *,
    python: str | None = None,
    os_name: str | None = None,
    driver: str | None = None,
    cuda: str | None = None,
    gpu_cc: Sequence[str] = (),
    cpu: bool = False,
    torch: str | None = None,
    strict_driver: bool = False,
    explain: bool = False,
    manager: str | None = None,
    mirror: str | None = None,
    name: str | None = None,
    show_all: bool = False,
    runner=None,
    environ: Mapping[str, str] | None = None,
    matrix=None,
    arch: str | None = None,
    allow_unverified: bool = False,
    machine: str | None = None,
    gpu: Sequence[str] = (),
    gpu_arch: Sequence[str] = (),
    xpu: bool = False,
) -> Result:
    if manager is not None and manager not in MANAGERS:
        raise EnvcheckError(Msg("unknown --manager {manager!r}", manager=manager), hint=Msg("use conda, pip or uv"), code="invalid-manager")
    from envcheck.matrix import load_matrix

    matrix = matrix or load_matrix()
    d = decide(
        python=python, os_name=os_name, driver=driver, cuda=cuda, gpu_cc=gpu_cc, cpu=cpu, torch=torch,
        strict_driver=strict_driver, mirror=mirror, name=name, runner=runner, environ=environ, matrix=matrix,
        arch=arch, allow_unverified=allow_unverified, machine=machine, gpu_arch=gpu_arch, xpu=xpu, gpu=gpu,
    )
    base = _base_python(d.recommendation.python, d.recommendation.os, environ) if (
        python is not None and parse_python_request(python) is not None) else None
    if base is not None:  # the printed venv/uv commands start from the Python found, by path
        from dataclasses import replace

        from envcheck.plans.install import plan_install

        d = replace(d, plans=plan_install(d.recommendation, name=name, mirror=d.mirror, base_python=base))
    data = decision_data(d, matrix, explain=explain, manager=manager, show_all=show_all)
    data["mirror_commands"] = mirror_commands(d, matrix, name=name, base_python=base)
    return Result(command="install", data=data)


def mirror_commands(d: InstallDecision, matrix, *, name: str | None = None, base_python: str | None = None) -> dict | None:
    """The same routes through the first mirror of configs/mirrors.json (TUNA, as the Chinese tutorials
    envcheck was born from use), for users who cannot reach the default servers (issue 13). Carried in
    JSON whatever the language (JSON never changes with it); the human output shows them under a Chinese
    locale. None when --mirror was given (the commands already use it) or no mirror is configured."""
    if d.mirror is not None or not matrix.mirrors:
        return None
    from envcheck.plans.install import plan_install

    first = next(iter(matrix.mirrors.values()))
    plans = plan_install(d.recommendation, name=name, mirror=first, base_python=base_python).to_dict()
    official = set(d.plans.notes)
    return {
        "mirror": first.name,
        "title": first.title,
        "commands": {key: plans[key] for key in ("create", "conda", "conda_pip", "pip", "uv")},
        "notes": [n for n in plans["notes"] if n not in official],  # what the mirror changes or cannot serve
        "others": [{"name": m.name, "title": m.title, "pytorch_wheels": bool(m.pytorch_wheels)}
                   for m in matrix.mirrors.values() if m.name != first.name],
    }


def _base_python(version: str, target_os: str, environ) -> str | None:
    """The path of a Python X.Y for the printed `venv`/`uv venv` commands when the bare `pythonX.Y`
    would not run it: not on PATH, or a pyenv shim (which answers "pyenv: python3.7: command not
    found" unless that version is selected). Then pyenv's newest installed X.Y, by path. None (keep
    the bare name) otherwise, and for another OS or Windows (`py -X.Y`). Starts no process: `install`
    only prints; `create` and `install --execute` run each candidate before using it."""
    if target_os != host_os() or target_os == "windows":
        return None
    import shutil

    from envcheck.probes.python import pyenv_interpreters, pyenv_root

    environ = _os.environ if environ is None else environ
    want = ".".join(version.split(".")[:2])
    on_path = shutil.which(f"python{want}", path=environ.get("PATH"))
    shims = _os.path.join(pyenv_root(environ), "shims")
    if on_path and _os.path.dirname(_os.path.abspath(on_path)) != _os.path.abspath(shims):
        return None
    found = pyenv_interpreters(want, environ)
    return found[0] if found else None


def decision_data(d: InstallDecision, matrix, *, explain: bool = False, manager: str | None = None,
                  show_all: bool = False) -> dict:
    rec = d.recommendation
    plans = d.plans.to_dict()
    commands = {
        "create": plans["create"],
        "conda": plans["conda"],
        "conda_pip": plans["conda_pip"],
        "pip": plans["pip"],
        "uv": plans["uv"],
        "kernel": plans["kernel"],
        "verify": plans["verify"],
    }
    rec_dict = rec.to_dict()
    rec_dict["commands"] = commands
    rec_dict["argv"] = plans["argv"]
    rec_dict["env_name"] = plans["name"]
    rec_dict["notes"] = list(d.input_notes) + list(rec.notes) + plans["notes"]
    # a pick whose wheel facts came from `envcheck matrix refresh`, not from the data envcheck shipped with
    rec_dict["refreshed"] = matrix.rests_on_refresh(rec.torch)
    if rec_dict["refreshed"]:
        ref = matrix.refreshed
        rec_dict["notes"].append(Msg("rests on refreshed data: torch {torch}'s wheel facts come from "
                                     "`envcheck matrix refresh` (read {read} from {index}), not from the "
                                     "matrix shipped with envcheck", torch=rec.torch, read=ref.read, index=ref.index))
    data = {
        "recommendation": rec_dict,
        "inputs": {k: v.to_dict() for k, v in d.inputs.items()},
        "strict_driver": d.request.strict_driver,
        "torch_spec": d.request.spec_label,
        "manager": manager,
        "mirror": d.mirror.name if d.mirror is not None else None,
        "explain": explain,
        "rejected": [r.to_dict() for r in d.resolution.rejected],
        "better": d.resolution.better,
        "stale": [f.to_dict() for f in d.stale],
        "allow_unverified": d.request.allow_unverified,
        "matrix": {"checked": matrix.checked, "newest_torch": matrix.newest_known, "wheels_read": matrix.wheels_read,
                   "refreshed": matrix.refreshed.to_dict() if matrix.refreshed is not None else None},
    }
    if show_all:
        data["compatible"] = [c.to_dict() for c in d.resolution.compatible]
    return data
