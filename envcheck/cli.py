"""Command-line wiring: the only module that imports typer.

Each command is a thin wrapper: parse options -> commands.X.run(...) -> render -> exit code.
Heavy modules (rich, psutil, pynvml, the commands themselves) are imported inside command bodies
so `envcheck --help` starts fast.
"""
from __future__ import annotations

import sys
from enum import Enum
from typing import Callable, List, NoReturn, Optional

import typer
from typer.core import TyperGroup

from envcheck import __version__
from envcheck.errors import EnvcheckError, ExitCode

EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 problems found (doctor error finding, failed verification check); "
    "2 usage error or invalid input; 3 no compatible build; 4 target (env, interpreter, kernel) "
    "not found; 5 an external tool failed or timed out; 130 interrupted."
)

_state = {"debug": False}


class _Group(TyperGroup):
    """Usage errors in envcheck's own format: `error: ...` / `hint: ...` and exit 2, never a
    traceback; with --json, also the error envelope on stdout (even for a bad option)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        _tolerant_streams()
        try:
            rv = super().main(argv, prog_name, complete_var, False, **extra)
        except OSError as exc:  # writing help/usage to a closed pipe or a full disk
            _exit_for_output_error(exc, int(ExitCode.USAGE))
        except Exception as exc:  # click's exception family, without importing click's internals
            kind = type(exc).__name__
            if kind == "Abort":  # Ctrl-C or end of input at a prompt
                _emit_error(self._command_path(argv), EnvcheckError(
                    "interrupted", exit_code=ExitCode.INTERRUPTED, code="interrupted"), "--json" in argv)
                sys.exit(int(ExitCode.INTERRUPTED))
            if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
                if _state["debug"] or "--debug" in argv:
                    raise
                err = _internal_error(exc)  # never a traceback (issue 14)
                _emit_error(self._command_path(argv), err, "--json" in argv)
                sys.exit(int(err.exit_code))
            if kind == "NoArgsIsHelpError":  # `envcheck` or `envcheck kernel` alone: show the help
                exc.show()
                sys.exit(exc.exit_code)
            command = self._command_path(argv)
            err = EnvcheckError(exc.format_message(), hint=f"see `envcheck {command} --help`".replace(
                "envcheck envcheck", "envcheck"), code="usage")
            _emit_error(command, err, "--json" in argv)
            sys.exit(int(ExitCode.USAGE))
        if isinstance(rv, int) and rv:  # typer.Exit(code) in non-standalone mode comes back as a value
            sys.exit(rv)
        return rv

    def _command_path(self, argv: list) -> str:
        """'kernel add' for `envcheck kernel add --bad`, 'doctor' for `envcheck doctor ...`."""
        words = [a for a in argv if not a.startswith("-")]
        group, path = self, []
        for word in words:
            sub = getattr(group, "commands", {}).get(word)
            if sub is None:
                break
            path.append(word)
            group = sub
        return " ".join(path) or "envcheck"


app = typer.Typer(
    cls=_Group,
    name="envcheck",
    help="From a bare machine to a verified PyTorch environment: doctor, install, create, kernel, verify.\n\n"
    + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals can hold environment variables
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        print(f"envcheck {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for unexpected errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    _state["debug"] = debug


def _emit_error(command: str, err: EnvcheckError, json_out: bool) -> None:
    """`error: ...` / `hint: ...` on stderr; with --json also the error envelope on stdout.
    Untrusted text in the message is shown with controls visible and URL secrets masked."""
    from envcheck.render.safe import visible_lines as visible

    if json_out:
        from envcheck.render.json import error_envelope, render_json

        try:
            print(render_json(error_envelope(command, err)), flush=True)
        except OSError as exc:
            _exit_for_output_error(exc, int(err.exit_code))
    try:
        print(f"error: {visible(err.message)}", file=sys.stderr)
        if err.hint:
            print(f"hint: {visible(err.hint)}", file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed or full: the exit code still says it
        pass


def _tolerant_streams() -> None:
    """Never a UnicodeEncodeError on output (PYTHONIOENCODING=ascii, a C locale, a file name that is
    not UTF-8): unencodable characters become '?' instead of a traceback."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if getattr(stream, "errors", None) == "strict":
                stream.reconfigure(errors="replace")
        except (AttributeError, ValueError, OSError):
            pass


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's final flush cannot fail again (Python's documented
    SIGPIPE recipe: https://docs.python.org/3/library/signal.html#note-on-sigpipe)."""
    try:
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _exit_for_output_error(exc: OSError, code: int) -> NoReturn:
    """stdout went away while writing: a closed pipe (`| head -1`) exits quietly with the code the run
    had; a full disk or another write error says so on stderr and exits 5."""
    import errno

    _silence_stdout()
    if isinstance(exc, BrokenPipeError) or exc.errno == errno.EPIPE:
        sys.exit(code)
    try:
        print(f"error: cannot write the output: {exc.strerror or exc}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    sys.exit(int(ExitCode.TOOL_FAILED))


# errno -> exit code for a filesystem error on a named path (a read-only HOME, a log dir that is a file)
_PATH_ERRNO_EXIT = {
    "EACCES": ExitCode.USAGE, "EPERM": ExitCode.USAGE, "EROFS": ExitCode.USAGE, "ENOTDIR": ExitCode.USAGE,
    "EISDIR": ExitCode.USAGE, "EEXIST": ExitCode.USAGE, "ENAMETOOLONG": ExitCode.USAGE, "ELOOP": ExitCode.USAGE,
    "ENOENT": ExitCode.USAGE, "ENOSPC": ExitCode.TOOL_FAILED, "EDQUOT": ExitCode.TOOL_FAILED,
    "EIO": ExitCode.TOOL_FAILED,
}


def _path_error(exc: OSError) -> EnvcheckError | None:
    """An OSError on a named path as a one-line error naming it; None for anything else."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    if exc.filename is None or name not in _PATH_ERRNO_EXIT:
        return None
    where = str(exc.filename) + (f" -> {exc.filename2}" if exc.filename2 else "")
    return EnvcheckError(
        f"{exc.strerror or name}: {where}",
        hint="check that path: its permissions, that its parent directories are directories, free space",
        exit_code=_PATH_ERRNO_EXIT[name],
        code="filesystem-error",
    )


def _internal_error(exc: BaseException) -> EnvcheckError:
    return EnvcheckError(
        f"internal error: {exc.__class__.__name__}: {exc}",
        hint="rerun with `envcheck --debug ...` and report the traceback",
        exit_code=ExitCode.PROBLEMS,
        code="internal-error",
    )


def _finish(command: str, json_out: bool, produce: Callable, render_human: Callable) -> NoReturn:
    """Run a command body, render its Result, exit with its code. No traceback unless --debug."""
    try:
        result = produce()
    except EnvcheckError as err:
        _emit_error(command, err, json_out)
        sys.exit(int(err.exit_code))
    except KeyboardInterrupt:
        _emit_error(command, EnvcheckError("interrupted", exit_code=ExitCode.INTERRUPTED, code="interrupted"), json_out)
        sys.exit(int(ExitCode.INTERRUPTED))
    except OSError as exc:  # a read-only HOME, a log dir that is a file, a full disk: name the path
        err = _path_error(exc)
        if err is None:
            if _state["debug"]:
                raise
            err = _internal_error(exc)
        _emit_error(command, err, json_out)
        sys.exit(int(err.exit_code))
    except Exception as exc:  # a bug in envcheck: say so in one line, keep the traceback for --debug
        if _state["debug"]:
            raise
        err = _internal_error(exc)
        _emit_error(command, err, json_out)
        sys.exit(int(err.exit_code))
    code = int(result.exit_code)
    try:
        if json_out:
            from envcheck.render.json import envelope, render_json

            print(render_json(envelope(result)))
        else:
            _render_or_plain(result, render_human)
        sys.stdout.flush()
    except OSError as exc:
        _exit_for_output_error(exc, code)
    sys.exit(code)


def _render_or_plain(result, render_human: Callable) -> None:
    """The rich report; if it cannot be rendered (a bug, a hostile string that slipped through), the
    same data as plain `key: value` lines, never a traceback (issue 14)."""
    try:
        render_human(result)
    except OSError:
        raise
    except Exception as exc:
        if _state["debug"]:
            raise
        from envcheck.render.safe import plain_lines

        print(f"warning: the report could not be formatted ({exc.__class__.__name__}); plain text follows",
              file=sys.stderr)
        for line in plain_lines(result.data):
            print(line)


# --- doctor (issue 2) -------------------------------------------------------------------------


@app.command(epilog=EXIT_CODES_HELP)
def doctor(
    python: Optional[str] = typer.Option(
        None, "--python", help="Interpreter to inspect: a path, an env directory, or a version such as 3.11."
    ),
    deep: bool = typer.Option(False, "--deep", help="Also import torch in the target (slower, with a timeout)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    anonymize: bool = typer.Option(False, "--anonymize", help="Mask user names, host name, UUIDs and paths."),
) -> None:
    """Detect the machine (GPU, driver, CUDA, Python, torch, Jupyter) and name every problem with its fix."""

    def produce():
        from envcheck.commands import doctor as cmd

        return cmd.run(python=python, deep=deep, anonymize=anonymize)

    def render(result):
        from envcheck.render import doctor as view

        view.render_doctor(result)

    _finish("doctor", json_out, produce, render)


# --- install (issue 3) ------------------------------------------------------------------------


@app.command(epilog=EXIT_CODES_HELP)
def install(
    python: Optional[str] = typer.Option(
        None, "--python", help="Target Python: a version X.Y, or an interpreter whose version is asked "
        "(default: the active env's interpreter, else python3 on PATH)."
    ),
    os_name: Optional[str] = typer.Option(None, "--os", help="linux, windows or macos (default: this machine)."),
    driver: Optional[str] = typer.Option(None, "--driver", help="NVIDIA driver version, e.g. 535.104.05 (default: detected)."),
    cuda: Optional[str] = typer.Option(None, "--cuda", help="The newest CUDA the driver supports, X.Y (nvidia-smi's 'CUDA Version')."),
    gpu_cc: List[str] = typer.Option([], "--gpu-cc", help="GPU compute capability X.Y (repeatable; default: detected)."),
    cpu: bool = typer.Option(False, "--cpu", help="Recommend a CPU-only build."),
    torch: Optional[str] = typer.Option(None, "--torch", help="torch version or specifier: 1.13 (any 1.13.x), ==2.1.2, '>=2,<2.4'."),
    strict_driver: bool = typer.Option(
        False, "--strict-driver", help="Only variants whose native minimum the driver meets (no CUDA minor-version compatibility)."
    ),
    explain: bool = typer.Option(False, "--explain", help="List every rejected candidate with its reason."),
    manager: Optional[str] = typer.Option(None, "--manager", help="Show one route: conda, pip or uv."),
    mirror: Optional[str] = typer.Option(None, "--mirror", help="Rewrite channels and indexes to a mirror (tuna, ustc, bfsu, aliyun, sjtu, ...)."),
    name: Optional[str] = typer.Option(None, "--name", help="Name of the env to create (default: torch<version>-<variant>)."),
    show_all: bool = typer.Option(False, "--all", help="List every compatible release/variant for the inputs."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    execute: bool = typer.Option(
        False, "--execute", help="Do it: create the env, install, register a Jupyter kernel, verify (undone on failure)."
    ),
    prefix: Optional[str] = typer.Option(None, "--prefix", help="--execute: the env's directory instead of --name."),
    backend: str = typer.Option(
        "auto", "--backend", help="--execute: auto (micromamba, mamba, conda, then uv, then venv), conda, mamba, "
        "micromamba, uv or venv."
    ),
    kernel: Optional[str] = typer.Option(
        None, "--kernel", help="--execute: Jupyter kernel name (default: derived from the env name)."
    ),
    no_kernel: bool = typer.Option(False, "--no-kernel", help="--execute: do not register a Jupyter kernel."),
    only: List[str] = typer.Option(
        [], "--only", help="--execute: install only these of torch, torchvision, torchaudio (repeatable or comma-separated)."
    ),
    index_url: Optional[str] = typer.Option(
        None, "--index-url", help="--execute: install from this package index (a mirror URL or a local simple-index dir)."
    ),
    find_links: Optional[str] = typer.Option(
        None, "--find-links", help="--execute: also look for wheels in this directory or page (e.g. a local torch wheel)."
    ),
    force: bool = typer.Option(False, "--force", help="--execute: replace an existing env/kernel (kept until all steps pass)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="--execute: do not ask; required when stdin is not a terminal."),
    dry_run: bool = typer.Option(False, "--dry-run", help="--execute: print every command that would run; change nothing."),
) -> None:
    """Recommend the exact torch build for a Python, OS, driver and GPU, with ready-to-paste commands.

    With --execute, do it: create the env, install the recommendation, register a Jupyter kernel and run
    the verification suite inside it; a failed step or Ctrl-C undoes what the run created.
    """
    execute_only = {"--prefix": prefix is not None, "--backend": backend != "auto", "--kernel": kernel is not None,
                    "--no-kernel": no_kernel, "--only": bool(only), "--index-url": index_url is not None,
                    "--find-links": find_links is not None, "--force": force, "--yes": yes, "--dry-run": dry_run}

    def produce():
        if not execute:
            given = [flag for flag, on in execute_only.items() if on]
            if given:
                raise EnvcheckError(f"{', '.join(given)} only apply with --execute",
                                    hint="add --execute to create the env and install, or drop those options",
                                    code="execute-option")
            from envcheck.commands import install as cmd

            return cmd.run(
                python=python, os_name=os_name, driver=driver, cuda=cuda, gpu_cc=gpu_cc, cpu=cpu, torch=torch,
                strict_driver=strict_driver, explain=explain, manager=manager, mirror=mirror, name=name,
                show_all=show_all,
            )
        if manager is not None or show_all:
            raise EnvcheckError("--manager and --all do not apply with --execute",
                                hint="--backend picks how --execute installs", code="execute-option")
        from envcheck.commands import install_execute as cmd
        from envcheck.render.install import ExecuteView

        request = cmd.ExecuteRequest(
            python=python, os_name=os_name, driver=driver, cuda=cuda, gpu_cc=tuple(gpu_cc), cpu=cpu, torch=torch,
            strict_driver=strict_driver, mirror=mirror, name=name, prefix=prefix, backend=backend, kernel=kernel,
            no_kernel=no_kernel, force=force, index_url=index_url, find_links=find_links, only=tuple(only),
        )
        return cmd.run(request, dry_run=dry_run, yes=yes, confirm=_confirm_if_tty(), display=ExecuteView())

    def render(result):
        from envcheck.render import install as view

        if result.data.get("execute"):
            view.render_execute(result)
        else:
            view.render_install(result)

    _finish("install", json_out, produce, render)


# --- verify (issue 4) -------------------------------------------------------------------------


class _VerifyDevice(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    mps = "mps"


@app.command(epilog=EXIT_CODES_HELP)
def verify(
    python: Optional[str] = typer.Option(
        None, "--python", help="Interpreter to verify: a path, an env directory, or a version such as 3.11."
    ),
    device: _VerifyDevice = typer.Option(
        _VerifyDevice.auto, "--device", case_sensitive=False,
        help="Device to verify: auto (CUDA, else MPS, else CPU), cpu, cuda (implies CUDA must work) or mps.",
    ),
    require_cuda: bool = typer.Option(False, "--require-cuda", help="Fail (not skip) when CUDA is unusable."),
    distributed: bool = typer.Option(
        False, "--distributed", help="Also all_reduce across 2 processes (gloo on CPU, NCCL on 2+ GPUs)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout; progress on stderr."),
    junit_xml: Optional[str] = typer.Option(
        None, "--junit-xml", metavar="FILE", help="Also write a JUnit XML report (one testcase per check)."
    ),
    timeout: float = typer.Option(
        120.0, "--timeout", metavar="SECONDS", min=0.1,
        help="Per-check limit: a check still running after this is failed as hung and the rest go on.",
    ),
) -> None:
    """Prove the target env works: tensors, autograd, CUDA kernels on every GPU, MPS, distributed."""

    def produce():
        from envcheck.commands import verify as cmd
        from envcheck.render.verify import LiveView, render_summary

        result = cmd.run(
            python=python,
            device=device.value,
            require_cuda=require_cuda,
            distributed=distributed,
            timeout=timeout,
            junit_xml=junit_xml,
            listener=LiveView(stderr=json_out),
        )
        if json_out:
            render_summary(result, stderr=True)
        return result

    def render(result):
        from envcheck.render.verify import render_summary

        render_summary(result)

    _finish("verify", json_out, produce, render)


# --- create, kernel (issue 5) -----------------------------------------------------------------


def _confirm_if_tty() -> Optional[Callable[[str], bool]]:
    """A yes/no question on stderr when stdin is a terminal; None otherwise (then --yes is required)."""
    if not sys.stdin or not sys.stdin.isatty():
        return None
    return _ask_yes_no


def _ask_yes_no(question: str) -> bool:
    """`QUESTION [y/N]: ` on stderr (nothing on stdout: --json stays one object), the answer from stdin.

    Ctrl-C raises KeyboardInterrupt (exit 130, the run's undo applies); end of input (Ctrl-D, a closed
    stdin) is exit 2 with a hint, not an internal error (issue 14). Empty means no."""
    from envcheck.render.safe import visible_lines

    while True:
        sys.stderr.write(f"{visible_lines(question)} [y/N]: ")
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            sys.stderr.write("\n")
            raise EnvcheckError("no answer: end of input at the confirmation prompt",
                                hint="answer y or n, or pass --yes to answer yes without asking",
                                exit_code=ExitCode.USAGE, code="no-answer")
        value = line.strip().lower()
        if value in ("y", "yes"):
            return True
        if value in ("", "n", "no"):
            return False
        sys.stderr.write("please answer y or n\n")


def _progress(line: str) -> None:
    from envcheck.render.safe import visible

    try:
        print(f"envcheck: {visible(line)}", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed or full: progress is not worth failing the run for
        pass


@app.command(epilog=EXIT_CODES_HELP + " An existing env without --force, a hostile name, or no --yes when "
             "stdin is not a terminal: exit 2.")
def create(
    name: Optional[str] = typer.Option(None, "--name", "-n", help="Environment name (venv/uv: under $ENVCHECK_ENVS_DIR, else ~/.envcheck/envs)."),
    prefix: Optional[str] = typer.Option(None, "--prefix", "-p", help="Environment directory instead of a name."),
    python: str = typer.Option(..., "--python", help="Python version X.Y for the new environment."),
    backend: str = typer.Option("auto", "--backend", help="auto (first of micromamba, mamba, conda, then uv, then venv), conda, mamba, micromamba, uv or venv."),
    force: bool = typer.Option(False, "--force", help="Replace an existing environment (kept aside until the new one works)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print exactly what would run; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; required when stdin is not a terminal."),
    mirror: Optional[str] = typer.Option(None, "--mirror", help="conda channel mirror: a name from configs/mirrors.json or a channel URL."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Create an environment with a given Python (conda, mamba, micromamba, uv or venv), safely."""

    def produce():
        from envcheck.commands import create as cmd

        return cmd.run(python=python, name=name, prefix=prefix, backend=backend, force=force, dry_run=dry_run,
                       yes=yes, mirror=mirror, confirm=_confirm_if_tty(), progress=_progress)

    def render(result):
        from envcheck.render import env as view

        view.render_create(result)

    _finish("create", json_out, produce, render)


kernel_app = typer.Typer(
    name="kernel",
    help="Jupyter kernels that launch the right interpreter: add, list, check, remove.\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(kernel_app, name="kernel")

_JUPYTER_PREFIX_HELP = "Also search DIR/share/jupyter (an env's prefix); repeatable."


@kernel_app.command("add", epilog=EXIT_CODES_HELP)
def kernel_add(
    name: str = typer.Option(..., "--name", help="Kernel name: a-z, 0-9 and . _ - (Jupyter's rule)."),
    python: Optional[str] = typer.Option(None, "--python", help="Target interpreter: a path, an env directory, or X.Y."),
    env: Optional[str] = typer.Option(None, "--env", help="Target environment by name (envcheck's envs dir, then conda envs)."),
    display_name: Optional[str] = typer.Option(None, "--display-name", help="Name shown in Jupyter (default: 'Python X.Y (NAME)')."),
    user: bool = typer.Option(False, "--user", help="Register for this user (default; honours JUPYTER_DATA_DIR)."),
    sys_prefix: bool = typer.Option(False, "--sys-prefix", help="Register inside the target env (ENV/share/jupyter)."),
    prefix_dir: Optional[str] = typer.Option(None, "--prefix", help="Register under DIR/share/jupyter."),
    install_ipykernel: bool = typer.Option(False, "--install-ipykernel", help="Install ipykernel into the target with its own pip if missing."),
    force: bool = typer.Option(False, "--force", help="Replace an existing kernel of that name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Answer yes to every question (implies --install-ipykernel)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print exactly what would run; change nothing."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Register a Jupyter kernel for a target interpreter and check it launches that interpreter."""

    def produce():
        from envcheck.commands import kernel as cmd

        return cmd.run_add(name=name, python=python, env=env, display_name=display_name, user=user,
                           sys_prefix=sys_prefix, prefix_dir=prefix_dir, install_ipykernel=install_ipykernel,
                           force=force, yes=yes, dry_run=dry_run, confirm=_confirm_if_tty(), progress=_progress)

    def render(result):
        from envcheck.render import env as view

        view.render_kernel_add(result)

    _finish("kernel add", json_out, produce, render)


@kernel_app.command("list", epilog=EXIT_CODES_HELP)
def kernel_list(
    prefixes: List[str] = typer.Option([], "--prefix", help=_JUPYTER_PREFIX_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Every kernelspec on the Jupyter path: its interpreter, whether it exists, and shadowing."""

    def produce():
        from envcheck.commands import kernel as cmd

        return cmd.run_list(prefixes)

    def render(result):
        from envcheck.render import env as view

        view.render_kernel_list(result)

    _finish("kernel list", json_out, produce, render)


@kernel_app.command("check", epilog=EXIT_CODES_HELP + " Exit 1 with stale-jupyter-kernel when a kernel's interpreter is gone.")
def kernel_check(
    prefixes: List[str] = typer.Option([], "--prefix", help=_JUPYTER_PREFIX_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Check every kernel: exit 1 (stale-jupyter-kernel) for each one whose interpreter is gone."""

    def produce():
        from envcheck.commands import kernel as cmd

        return cmd.run_check(prefixes)

    def render(result):
        from envcheck.render import env as view

        view.render_kernel_check(result)

    _finish("kernel check", json_out, produce, render)


@kernel_app.command("remove", epilog=EXIT_CODES_HELP + " No such kernel: exit 4.")
def kernel_remove(
    name: str = typer.Argument(..., help="Kernel name (see `envcheck kernel list`)."),
    all_copies: bool = typer.Option(False, "--all", help="Also remove same-named kernels shadowed further down the path."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; required when stdin is not a terminal."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be deleted; change nothing."),
    prefixes: List[str] = typer.Option([], "--prefix", help=_JUPYTER_PREFIX_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Delete the kernelspec Jupyter uses for NAME (exit 4 when there is none)."""

    def produce():
        from envcheck.commands import kernel as cmd

        return cmd.run_remove(name, all_copies=all_copies, yes=yes, dry_run=dry_run, confirm=_confirm_if_tty(),
                              prefixes=prefixes)

    def render(result):
        from envcheck.render import env as view

        view.render_kernel_remove(result)

    _finish("kernel remove", json_out, produce, render)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
