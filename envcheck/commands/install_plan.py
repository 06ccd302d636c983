"""`envcheck install --execute`, part 1: the plan. Everything is decided and validated here, before
anything changes: the recommendation (`decision.decide()`), the env (`envs.plan_create()`), the install
argv (from plans/install.py), the kernel steps (`kernels.kernel_steps()`, the argv that later runs) and
the verify command. Raises EnvcheckError (2, 3, 4, 5); changes nothing.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

from envcheck.errors import EnvcheckError, Msg
from envcheck.i18n import N_
from envcheck.inputs import (
    host_os,
    normalize_find_links,
    normalize_index_url,
    parse_os,
    python_version_request,
    validate_kernel_name,
)
from envcheck.runner import Runner

PACKAGES = ("torch", "torchvision", "torchaudio")
INSTALL_TIMEOUT_S = 3600.0  # a CUDA torch is ~2.5 GB with its nvidia-* wheels; a slow mirror takes long
STEP_TITLES = {
    "create": N_("create the environment"),
    "install": N_("install PyTorch"),
    "kernel": N_("register the Jupyter kernel"),
    "verify": N_("verify inside the environment"),
}
ENV_PYTHON_PLACEHOLDER = "ENV_PYTHON"  # conda -n NAME: conda picks the directory when it creates it


# --- request and plan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecuteRequest:
    python: str | None = None
    os_name: str | None = None
    driver: str | None = None
    cuda: str | None = None
    gpu_cc: tuple[str, ...] = ()
    cpu: bool = False
    torch: str | None = None
    strict_driver: bool = False
    mirror: str | None = None
    name: str | None = None
    prefix: str | None = None
    backend: str = "auto"
    kernel: str | None = None
    no_kernel: bool = False
    force: bool = False
    index_url: str | None = None
    find_links: str | None = None
    only: tuple[str, ...] = ()
    arch: str | None = None
    allow_unverified: bool = False
    gpu_arch: tuple[str, ...] = ()  # AMD gfx targets (--gpu-arch)
    xpu: bool = False  # plan for an Intel GPU (--xpu)
    gpu: tuple[str, ...] = ()  # GPU product names (--gpu), mapped to compute capabilities by decide()


def parse_only(values: Sequence[str]) -> tuple[str, ...] | None:
    """`--only torch --only torchvision` or `--only torch,torchvision` -> ('torch', 'torchvision'); pure.

    None when not given (all recommended packages). torch is required: the env is new."""
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip().lower()
            if part and part not in names:
                names.append(part)
    if not values:
        return None
    unknown = [n for n in names if n not in PACKAGES]
    if unknown or not names:
        raise EnvcheckError(
            Msg("invalid --only {value}: choose from torch, torchvision, torchaudio",
                value=', '.join(unknown) or repr(''.join(values))),
            hint=Msg("e.g. --only torch (torch alone), or --only torch,torchvision"),
            code="invalid-only",
        )
    if "torch" not in names:
        raise EnvcheckError(Msg("--only must include torch: the new environment has none"),
                            hint=Msg("e.g. --only torch,torchvision"), code="invalid-only")
    return tuple(n for n in PACKAGES if n in names)


def planned_packages(rec, only: Sequence[str] | None) -> tuple[str, ...]:
    """The packages the install step puts in (plans.install.pinned: the same rule as its command)."""
    from envcheck.plans.install import pinned

    return tuple(name for name, _ in pinned(rec, only))


@dataclass(frozen=True)
class PlannedStep:
    """One step of the loop: what it does and every command it will run (argv lists)."""

    id: str
    title: str
    argv: tuple[tuple[str, ...], ...]
    note: str = ""

    def commands(self) -> list[str]:
        from envcheck.plans.install import shell_join

        return [shell_join(a) for a in self.argv]

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "commands": self.commands(),
                "argv": [list(a) for a in self.argv], "note": self.note or None}


@dataclass(frozen=True)
class KernelIntent:
    name: str
    resource_dir: str
    replaces: str | None
    name_source: str  # "flag" or "default"

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ExecutePlan:
    request: ExecuteRequest
    decision: object  # InstallDecision
    create: object  # CreatePlan
    route: str  # pip | uv | conda | conda-pip
    install_argv: tuple[str, ...]
    packages: tuple[str, ...]
    kernel: KernelIntent | None
    verify_device: str
    verify_require_cuda: bool
    steps: tuple[PlannedStep, ...]
    env_python: str  # the new env's interpreter (ENV_PYTHON for a conda -n env before it exists)
    warnings: tuple[str, ...] = ()

    @property
    def recommendation(self):
        return self.decision.recommendation

    def to_dict(self) -> dict:
        return {
            "env": self.create.to_dict(),
            "route": self.route,
            "packages": list(self.packages),
            "env_python": self.env_python,
            "kernel": self.kernel.to_dict() if self.kernel else None,
            "verify": {"device": self.verify_device, "require_cuda": self.verify_require_cuda},
            "steps": [s.to_dict() for s in self.steps],
        }


def _conda_target(plan_create) -> list[str]:
    return ["-p", plan_create.prefix] if plan_create.prefix else ["-n", plan_create.name]


def plan_install_argv(
    rec,
    *,
    backend: str,
    executable: str,
    env_python: str,
    conda_target: Sequence[str] = (),
    mirror=None,
    index_url: str | None = None,
    find_links: str | None = None,
    only: Sequence[str] | None = None,
) -> tuple[str, tuple[str, ...]]:
    """(route, argv) installing the recommendation into the new env (pure).

    venv: the env's own pip, the recommendation's pip argv. uv: `uv pip install --python ENV_PY ...`
    (a uv env has no pip). conda family: the era's `conda install -n NAME pytorch==... -c pytorch -y`
    where the pytorch channel has the build (<= 2.5.1), else pip inside the env through `conda run`,
    exactly the `conda_pip` route `envcheck install` prints. `only` drops torchvision/torchaudio.
    """
    from envcheck.plans.install import plan_conda_install, plan_pip_install, plan_uv_install

    if backend == "venv":
        return "pip", tuple(plan_pip_install(rec, env_python, mirror=mirror, index_url=index_url,
                                             find_links=find_links, only=only))
    if backend == "uv":
        argv = plan_uv_install(rec, env_python, mirror=mirror, index_url=index_url, find_links=find_links, only=only)
        return "uv", (executable, *argv[1:])
    target = list(conda_target)
    conda = plan_conda_install(rec, "NAME", mirror=mirror, yes=True, only=only)
    if conda is not None:
        # ["conda", "install", "-n", "NAME", pins..., -c ..., "-y"]: the chosen tool, the real target.
        return "conda", (executable, "install", *target, *conda[4:])
    pip = plan_pip_install(rec, "python", mirror=mirror, index_url=index_url, find_links=find_links, only=only)
    return "conda-pip", (executable, "run", *target, *pip)


def plan_execute(request: ExecuteRequest, runner: Runner, environ: Mapping[str, str] | None = None) -> ExecutePlan:
    """Decide and validate everything; changes nothing. Raises EnvcheckError (2, 3, 4, 5)."""
    from envcheck import decision as install_cmd
    from envcheck.envs import CreateRequest, plan_create
    from envcheck.facts import Source
    from envcheck.kernels import default_display_name, existing_kernel, kernel_destination, kernel_steps
    from envcheck.plans.env import KernelScope
    from envcheck.plans.install import default_env_name, kernel_name
    from envcheck.probes.python import env_python

    environ = os.environ if environ is None else environ
    # Flags first: exit 2 before touching the machine.
    if request.name is not None and request.prefix is not None:
        raise EnvcheckError(Msg("pass only one of --name NAME and --prefix PATH"),
                            hint=Msg("--name puts the env in envcheck's envs dir (or conda's); --prefix anywhere"),
                            code="invalid-input")
    target_os = parse_os(request.os_name)
    if target_os != host_os():
        raise EnvcheckError(Msg("--execute installs on this machine ({host_os}), not --os {target_os}",
                                host_os=host_os(), target_os=target_os),
                            hint=Msg("drop --os, or drop --execute to print the commands for the other machine"),
                            code="invalid-input")
    only = parse_only(request.only)
    index_url = normalize_index_url(request.index_url)
    find_links = normalize_find_links(request.find_links)
    if request.kernel is not None:
        if request.no_kernel:
            raise EnvcheckError(Msg("pass only one of --kernel NAME and --no-kernel"), code="invalid-input")
        validate_kernel_name(request.kernel)

    # --python PATH: that interpreter decides the version and is the venv's base.
    python_arg, base_path = request.python, None
    if python_arg is not None:
        version, base_path = python_version_request(python_arg, runner, environ)  # exit 2 blank, 4 not Python
        if base_path is not None:
            python_arg = f"{version[0]}.{version[1]}"
    decision = install_cmd.decide(
        python=python_arg, driver=request.driver, cuda=request.cuda, gpu_cc=request.gpu_cc,
        cpu=request.cpu, torch=request.torch, strict_driver=request.strict_driver, mirror=request.mirror,
        name=None, runner=runner, environ=environ, arch=request.arch, allow_unverified=request.allow_unverified,
        gpu_arch=request.gpu_arch, xpu=request.xpu, gpu=request.gpu,
    )
    if base_path is not None:
        decision.inputs["python"] = install_cmd.Input(python_arg, Source.INTERPRETER.value, base_path)
    rec = decision.recommendation

    name = request.name
    if name is None and request.prefix is None:
        name = default_env_name(rec)
    # --python PATH: that interpreter is the venv/uv base (conda installs its own Python).
    create_request = CreateRequest(python=rec.python, name=name, prefix=request.prefix, backend=request.backend,
                                   force=request.force, mirror=request.mirror, base_python=base_path)
    cplan = plan_create(create_request, runner, environ)
    backend = cplan.backend.backend
    warnings: list[str] = []

    env_py = env_python(cplan.prefix) if cplan.prefix else ENV_PYTHON_PLACEHOLDER
    route, install_argv = plan_install_argv(
        rec, backend=backend.value, executable=cplan.backend.executable, env_python=env_py,
        conda_target=_conda_target(cplan) if backend.conda_family else (), mirror=decision.mirror,
        index_url=index_url, find_links=find_links, only=only,
    )
    if route == "conda" and (index_url or find_links):
        warnings.append(Msg("--index-url/--find-links do not apply to the conda channel install of PyTorch (only to "
                            "pip installs such as ipykernel's)"))
    if backend.value == "uv" and not (index_url or find_links):
        warnings.append(Msg("uv reads its own configuration (UV_INDEX_URL, uv.toml), not pip's: pass "
                            "--index-url/--find-links for a mirror or local wheels"))
    packages = planned_packages(rec, only)

    steps = [PlannedStep("create", STEP_TITLES["create"], (cplan.step.argv,), cplan.backend.why)]
    pkg_label = ", ".join(packages)
    steps.append(PlannedStep("install", Msg("install {packages}", packages=pkg_label), (install_argv,),
                             {"pip": N_("the env's own pip"), "uv": "uv pip", "conda": N_("the pytorch channel"),
                              "conda-pip": N_("pip inside the conda env (no conda build of this release)")}[route]))

    kernel = None
    if not request.no_kernel:
        label = name or os.path.basename(os.path.normpath(cplan.prefix or "torch"))
        kname = request.kernel or kernel_name(label)
        validate_kernel_name(kname)
        dest = kernel_destination(kname, KernelScope.USER, target_prefix=cplan.prefix or "", environ=environ)
        replaces = existing_kernel(dest)  # anything at kernels/NAME counts (issue 14)
        if replaces and not request.force:
            raise EnvcheckError(
                Msg("a Jupyter kernel named {kname!r} already exists at {dest}", kname=kname, dest=dest),
                hint=Msg("pass --kernel OTHER_NAME, --force to replace it, or --no-kernel"),
                code="kernel-exists",
            )
        kernel = KernelIntent(kname, dest, replaces, "flag" if request.kernel else "default")
        uv = cplan.backend.executable if backend.value == "uv" else None
        ksteps = kernel_steps(env_py, kname, default_display_name(rec.python, kname), KernelScope.USER,
                              install_ipykernel=True, uv=uv, index_url=index_url,
                              find_links=(find_links,) if find_links else ())
        steps.append(PlannedStep("kernel", Msg("register Jupyter kernel {name}",
                                               name=kname), tuple(k.argv for k in ksteps),
                                 N_("ipykernel is installed first if the env lacks it")))

    device = "cpu" if rec.variant.kind == "cpu" else "auto"
    driver_input = decision.inputs.get("driver")
    detected_here = driver_input is not None and driver_input.value and driver_input.source not in (
        Source.FLAG.value, Source.DEFAULT.value)
    require_cuda = rec.variant.kind == "cuda" and bool(detected_here)
    verify_cmd = ["envcheck", "verify", "--python", env_py, "--device", device]
    if require_cuda:
        verify_cmd.append("--require-cuda")
    steps.append(PlannedStep("verify", STEP_TITLES["verify"], (tuple(verify_cmd),),
                             N_("the verification suite, run by the env's interpreter")))
    return ExecutePlan(request, decision, cplan, route, install_argv, packages, kernel, device, require_cuda,
                       tuple(steps), env_py, tuple(warnings))


def confirmation_question(plan: ExecutePlan) -> str:
    """The question asked before `install --run` changes anything (human text only: translated now)."""
    from envcheck.i18n import tr

    rec = plan.recommendation
    p = dict(torch=rec.torch, variant=rec.variant.name, python=rec.python)
    lines = [tr(Msg("Install torch {torch} ({variant}) into a new Python {python} environment at {where}?",
                    where=plan.create.prefix, **p)) if plan.create.prefix else
             tr(Msg("Install torch {torch} ({variant}) into a new Python {python} environment at {backend} env {name}?",
                    backend=plan.create.backend.backend.value, name=plan.create.name, **p))]
    if plan.create.existing:
        lines.append("  " + tr(Msg("(replaces the environment at {path}; it is kept until the new one works)",
                                   path=plan.create.existing)))
    if plan.kernel and plan.kernel.replaces:
        lines.append("  " + tr(Msg("(replaces the Jupyter kernel at {path})", path=plan.kernel.replaces)))
    for i, s in enumerate(plan.steps, 1):
        lines.append(f"  {i}. {tr(s.title)}")
        for cmd in s.commands():
            lines.append(f"     {cmd}")
    lines.append(tr(Msg("Proceed?")))
    return "\n".join(lines)
