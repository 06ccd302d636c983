"""Command-line wiring: the only module that imports typer.

Each command is a thin wrapper: parse options -> commands.X.run(...) -> render -> exit code.
Heavy modules (rich, psutil, pynvml, the commands themselves) are imported inside command bodies
so `envcheck --help` starts fast.

Help texts are translated where they are defined (`_()`, envcheck/i18n.py), so the language is
chosen from the arguments and the environment before the app is built: `--lang` is read from
sys.argv here, cheaply, and checked again (zh|en, exit 2 otherwise) by the root callback.
"""
from __future__ import annotations

import sys
from enum import Enum
from typing import Callable, List, NoReturn, Optional

import typer
from typer.core import TyperGroup

from envcheck import __version__, i18n
from envcheck.errors import EnvcheckError, ExitCode, Msg, joined
from envcheck.i18n import tr
from envcheck.i18n import translate as _

if i18n.setup() == "zh":  # before any help text below is translated
    i18n.use_wide_char_wrapping()  # Chinese help wraps by terminal columns

EXIT_CODES_HELP = _(
    "Exit codes: 0 ok; 1 problems found (doctor error finding, failed verification check); "
    "2 usage error or invalid input; 3 no compatible build; 4 target (env, interpreter, kernel) "
    "not found; 5 an external tool failed or timed out; 70 internal error (a bug: the traceback is saved "
    "in the log dir); 130 interrupted."
)

_state = {"debug": False}


class _Group(TyperGroup):
    """Usage errors in envcheck's own format: `error: ...` / `hint: ...` and exit 2, never a
    traceback; with --json, also the error envelope on stdout (even for a bad option)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        i18n.setup(argv)  # this run's language for messages (help texts were translated at import)
        _tolerant_streams()
        try:
            rv = super().main(argv, prog_name, complete_var, False, **extra)
        except OSError as exc:  # writing help/usage to a closed pipe or a full disk
            _exit_for_output_error(exc, int(ExitCode.USAGE))
        except Exception as exc:  # click's exception family, without importing click's internals
            kind = type(exc).__name__
            if kind == "Abort":  # Ctrl-C or end of input at a prompt
                _emit_error(self._command_path(argv), EnvcheckError(
                    Msg("interrupted"), exit_code=ExitCode.INTERRUPTED, code="interrupted"), "--json" in argv)
                sys.exit(int(ExitCode.INTERRUPTED))
            if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
                if _state["debug"] or "--debug" in argv:
                    raise
                err = _internal_error(self._command_path(argv), exc)  # never a traceback (issue 14)
                _emit_error(self._command_path(argv), err, "--json" in argv)
                sys.exit(int(err.exit_code))
            if kind == "NoArgsIsHelpError":  # `envcheck` or `envcheck kernel` alone: show the help
                exc.show()
                sys.exit(exc.exit_code)
            command = self._command_path(argv)
            err = EnvcheckError(exc.format_message(), hint=Msg("see `{command} --help`", command=(
                f"envcheck {command}".replace("envcheck envcheck", "envcheck"))), code="usage")
            _emit_error(command, err, "--json" in argv)
            sys.exit(int(ExitCode.USAGE))
        if isinstance(rv, int) and rv:  # typer.Exit(code) in non-standalone mode comes back as a value
            sys.exit(rv)
        return rv

    def _command_path(self, argv: list) -> str:
        """'kernel add' for `envcheck kernel add --bad`, 'doctor' for `envcheck doctor ...`."""
        words, skip = [], False
        for a in argv:
            if not skip and not a.startswith("-"):
                words.append(a)
            skip = a == "--lang"  # the root option's value is not a command word
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
    help=_("From a bare machine to a verified PyTorch environment: doctor, install, create, kernel, verify.")
    + "\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (typer); benchmarks/bench_help.py keeps --help fast
    pretty_exceptions_show_locals=False,  # locals can hold environment variables
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        print(f"envcheck {__version__}")
        raise typer.Exit()


class _Lang(str, Enum):
    zh = "zh"
    en = "en"


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help=_("Show tracebacks for unexpected errors.")),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help=_("Print the version and exit.")
    ),
    lang: Optional[_Lang] = typer.Option(
        None, "--lang", case_sensitive=False, help=_("Language of human output and help: zh (Simplified Chinese) "
        "or en (default: ENVCHECK_LANG, then the locale: LC_ALL, LC_MESSAGES, LANG). --json is always English.")
    ),
) -> None:
    _state["debug"] = debug
    if lang is not None:
        i18n.set_lang(lang.value)


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
        print(_("error: {message}").format(message=visible(tr(err.message))), file=sys.stderr)
        if err.hint:
            print(_("hint: {hint}").format(hint=visible(tr(err.hint))), file=sys.stderr)
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
        print(_("error: {message}").format(message=_("cannot write the output: {reason}").format(
            reason=exc.strerror or exc)), file=sys.stderr, flush=True)
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
        Msg("{error}: {where}", error=exc.strerror or name, where=where),
        hint=Msg("check that path: its permissions, that its parent directories are directories, free space"),
        exit_code=_PATH_ERRNO_EXIT[name],
        code="filesystem-error",
    )


def _internal_error(command: str, exc: Exception) -> EnvcheckError:
    """Exit 70: one line naming the bug and the file its traceback was saved to (the log dir)."""
    import time
    import traceback

    from envcheck.workflow import logs

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        path = logs.new_log_path("internal-error", command.replace(" ", "-"))
        logs.write_private(path, f"envcheck {__version__} {command} {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n{text}")
        where = Msg("traceback saved to {path}", path=path)
    except OSError as err:
        path, where = None, Msg("the traceback could not be saved ({reason})", reason=err.strerror or str(err))
    return EnvcheckError(Msg("internal error: {kind}: {error} ({where})", kind=exc.__class__.__name__, error=str(exc),
                             where=where),
                         hint=Msg("rerun with `envcheck --debug ...` to see it, and report it with that file"),
                         exit_code=ExitCode.INTERNAL, code="internal-error", data={"traceback_path": path})


def _quiet_option():
    """--quiet / -q, the same on every command that has it (cli._finish is the one switch)."""
    return typer.Option(False, "--quiet", "-q", help=_("Print only the verdict line (errors still go to stderr); "
                        "no progress. --json wins."))


def _finish(command: str, json_out: bool, produce: Callable, render_human: Callable, quiet: bool = False) -> NoReturn:
    """Run a command body, render its Result, exit with its code. No traceback unless --debug.
    With `quiet` (and no --json) only the verdict line: render/verdict.py.

    While the body runs SIGINT, SIGTERM and SIGHUP all become KeyboardInterrupt (the workflow's undo
    runs, exit 130), and whatever way it ends, no tool envcheck started outlives it (issue 14)."""
    from envcheck.runner import allow_children, kill_children
    from envcheck.workflow.transaction import deferred_signals, interrupts_roll_back, reset_deferred_signals

    reset_deferred_signals()
    allow_children()
    try:
        try:
            with interrupts_roll_back():
                result = produce()
        finally:
            _signals_after_the_body()  # from here on a signal no longer raises: the output is written whole
    except EnvcheckError as err:
        kill_children(stop_new=False)
        if deferred_signals() and err.exit_code != ExitCode.INTERRUPTED:  # a signal held during the undo
            err.exit_code = ExitCode.INTERRUPTED
            err.hint = joined([x for x in (err.hint, Msg("interrupted while undoing: the undo was completed first")) if x])
        _emit_error(command, err, json_out)
        _exit_after_body(int(err.exit_code))
    except KeyboardInterrupt:
        kill_children(stop_new=False)
        _emit_error(command, EnvcheckError(Msg("interrupted"), exit_code=ExitCode.INTERRUPTED, code="interrupted"), json_out)
        _exit_after_body(int(ExitCode.INTERRUPTED))
    except OSError as exc:  # a read-only HOME, a log dir that is a file, a full disk: name the path
        err = _path_error(exc)
        if err is None:
            if _state["debug"]:
                raise
            err = _internal_error(command, exc)
        _emit_error(command, err, json_out)
        _exit_after_body(int(err.exit_code))
    except Exception as exc:  # a bug in envcheck: say so in one line, keep the traceback for --debug
        kill_children(stop_new=False)
        if _state["debug"]:
            raise
        _emit_error(command, _internal_error(command, exc), json_out)
        _exit_after_body(int(ExitCode.INTERNAL))
    code = int(result.exit_code)
    try:
        if json_out:
            from envcheck.render.json import envelope, render_json

            print(render_json(envelope(result)))
        elif quiet:
            from envcheck.render.verdict import render_quiet

            render_quiet(result)
        else:
            _render_or_plain(result, render_human)
        sys.stdout.flush()
    except OSError as exc:
        _exit_for_output_error(exc, code)
    _exit_after_body(code)


_LATE: dict = {"signals": 0, "previous": {}, "process": False}


def _late_signal(signum, frame) -> None:
    """A signal after the command's body ended (its undo done, its result or error known): the output
    being written is finished and the run exits 130; a second one exits at once."""
    _LATE["signals"] += 1
    if _LATE["signals"] > 1:
        import os

        os._exit(int(ExitCode.INTERRUPTED))


def _signals_after_the_body() -> None:
    """SIGINT, SIGTERM and SIGHUP stop raising KeyboardInterrupt once the body has ended: one landing while
    the result or the error is printed (or while the process exits) can neither cut the output short
    nor escape as a traceback; the run then exits 130 (issue 14)."""
    import signal

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            _LATE["previous"].setdefault(sig, signal.signal(sig, _late_signal))
        except (ValueError, OSError):  # not the main thread (CliRunner in a thread), or not allowed here
            pass


def _exit_after_body(code: int) -> NoReturn:
    """Exit with `code`, or 130 when a signal came after the body. The envcheck process (`main`) keeps the
    late handlers to its end (a Ctrl-C while it exits is no traceback); an in-process caller (CliRunner,
    an embedding program) gets its own handlers back."""
    late = _LATE["signals"]
    if not _LATE["process"]:
        import signal

        for sig, previous in _LATE["previous"].items():
            try:
                signal.signal(sig, previous)
            except (ValueError, OSError, TypeError):
                pass
        _LATE["previous"].clear()
    _LATE["signals"] = 0
    sys.exit(int(ExitCode.INTERRUPTED) if late else code)


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


@app.command(epilog=EXIT_CODES_HELP, help=_("Detect the machine (GPU, driver, CUDA, Python, torch, Jupyter) and "
             "name every problem with its fix."))
def doctor(
    python: Optional[str] = typer.Option(
        None, "--python", help=_("Interpreter to inspect: a path, an env directory, or a version such as 3.11.")
    ),
    deep: bool = typer.Option(False, "--deep", help=_("Also import torch in the target (slower, with a timeout).")),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
    anonymize: bool = typer.Option(False, "--anonymize", help=_("Mask user names, host name, UUIDs and paths.")),
    quiet: bool = _quiet_option(),
) -> None:
    def produce():
        from envcheck.commands import doctor as cmd

        sink = _progress(quiet and not json_out)
        try:
            return cmd.run(python=python, deep=deep, anonymize=anonymize, sink=sink)
        finally:
            sink.close()

    def render(result):
        from envcheck.render import doctor as view

        view.render_doctor(result)

    _finish("doctor", json_out, produce, render, quiet)


# --- install (issue 3) ------------------------------------------------------------------------


@app.command(epilog=EXIT_CODES_HELP, help=_(
    "Recommend the exact torch build for a Python, OS, driver and GPU, with ready-to-paste commands.\n\n"
    "With --execute, do it: create the env, install the recommendation, register a Jupyter kernel and run "
    "the verification suite inside it; a failed step or Ctrl-C undoes what the run created."))
def install(
    python: Optional[str] = typer.Option(
        None, "--python", help=_("Target Python: a version X.Y, or an interpreter whose version is asked "
        "(default: the active env's interpreter, else python3 on PATH).")
    ),
    os_name: Optional[str] = typer.Option(None, "--os", help=_("linux, windows or macos (default: this machine).")),
    arch: Optional[str] = typer.Option(
        None, "--arch", help=_("CPU architecture: x86_64 (amd64) or aarch64 (arm64) (default: this machine's; "
        "for another --os, arm64 on macOS and x86_64 elsewhere).")
    ),
    driver: Optional[str] = typer.Option(None, "--driver", help=_("NVIDIA driver version, e.g. 535.104.05 (default: detected).")),
    cuda: Optional[str] = typer.Option(None, "--cuda", help=_("The newest CUDA the driver supports, X.Y (nvidia-smi's 'CUDA Version').")),
    gpu_cc: List[str] = typer.Option([], "--gpu-cc", help=_("GPU compute capability X.Y (repeatable; default: detected).")),
    gpu: List[str] = typer.Option(
        [], "--gpu", help=_("GPU by product name, e.g. \"RTX 3090\" (repeatable; its compute capability from envcheck's GPU table).")
    ),
    gpu_arch: List[str] = typer.Option(
        [], "--gpu-arch", help=_("AMD GPU gfx target, e.g. gfx90a (repeatable; default: detected): picks a ROCm build covering it.")
    ),
    xpu: bool = typer.Option(False, "--xpu", help=_("Plan for an Intel GPU (XPU wheels; default: detected).")),
    cpu: bool = typer.Option(False, "--cpu", help=_("Recommend a CPU-only build.")),
    torch: Optional[str] = typer.Option(None, "--torch", help=_("torch version or specifier: 1.13 (any 1.13.x), ==2.1.2, '>=2,<2.4'.")),
    strict_driver: bool = typer.Option(
        False, "--strict-driver", help=_("Only variants whose native minimum the driver meets (no CUDA minor-version compatibility).")
    ),
    allow_unverified: bool = typer.Option(
        False, "--allow-unverified", help=_("Also consider releases whose matrix row is marked unverified (never picked otherwise, "
        "unless --torch names them).")
    ),
    explain: bool = typer.Option(False, "--explain", help=_("List every rejected candidate with its reason.")),
    manager: Optional[str] = typer.Option(None, "--manager", help=_("Show one route: conda, pip or uv.")),
    mirror: Optional[str] = typer.Option(None, "--mirror", help=_("Rewrite channels and indexes to a mirror (tuna, ustc, bfsu, aliyun, sjtu, ...).")),
    name: Optional[str] = typer.Option(None, "--name", help=_("Name of the env to create (default: torch<version>-<variant>).")),
    show_all: bool = typer.Option(False, "--all", help=_("List every compatible release/variant for the inputs.")),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
    execute: bool = typer.Option(
        False, "--execute", help=_("Do it: create the env, install, register a Jupyter kernel, verify (undone on failure).")
    ),
    prefix: Optional[str] = typer.Option(None, "--prefix", help=_("--execute: the env's directory instead of --name.")),
    backend: str = typer.Option(
        "auto", "--backend", help=_("--execute: auto (micromamba, mamba, conda, then uv, then venv), conda, mamba, "
        "micromamba, uv or venv.")
    ),
    kernel: Optional[str] = typer.Option(
        None, "--kernel", help=_("--execute: Jupyter kernel name (default: derived from the env name).")
    ),
    no_kernel: bool = typer.Option(False, "--no-kernel", help=_("--execute: do not register a Jupyter kernel.")),
    only: List[str] = typer.Option(
        [], "--only", help=_("--execute: install only these of torch, torchvision, torchaudio (repeatable or comma-separated).")
    ),
    index_url: Optional[str] = typer.Option(
        None, "--index-url", help=_("--execute: install from this package index (a mirror URL or a local simple-index dir).")
    ),
    find_links: Optional[str] = typer.Option(
        None, "--find-links", help=_("--execute: also look for wheels in this directory or page (e.g. a local torch wheel).")
    ),
    force: bool = typer.Option(False, "--force", help=_("--execute: replace an existing env/kernel (kept until all steps pass).")),
    yes: bool = typer.Option(False, "--yes", "-y", help=_("--execute: do not ask; required when stdin is not a terminal.")),
    dry_run: bool = typer.Option(False, "--dry-run", help=_("--execute: print every command that would run; change nothing.")),
    quiet: bool = _quiet_option(),
) -> None:
    execute_only = {"--prefix": prefix is not None, "--backend": backend != "auto", "--kernel": kernel is not None,
                    "--no-kernel": no_kernel, "--only": bool(only), "--index-url": index_url is not None,
                    "--find-links": find_links is not None, "--force": force, "--yes": yes, "--dry-run": dry_run}

    def produce():
        if not execute:
            given = [flag for flag, on in execute_only.items() if on]
            if given:
                raise EnvcheckError(Msg("{options} only apply with --execute", options=", ".join(given)),
                                    hint=Msg("add --execute to create the env and install, or drop those options"),
                                    code="execute-option")
            from envcheck.commands import install as cmd

            return cmd.run(
                python=python, os_name=os_name, driver=driver, cuda=cuda, gpu_cc=gpu_cc, cpu=cpu, torch=torch,
                strict_driver=strict_driver, explain=explain, manager=manager, mirror=mirror, name=name,
                show_all=show_all, arch=arch, allow_unverified=allow_unverified, gpu_arch=gpu_arch, xpu=xpu,
                gpu=tuple(gpu),
            )
        if manager is not None or show_all:
            raise EnvcheckError(Msg("--manager and --all do not apply with --execute"),
                                hint=Msg("--backend picks how --execute installs"), code="execute-option")
        from envcheck.commands import install_execute as cmd
        from envcheck.render.env import StepView

        request = cmd.ExecuteRequest(
            python=python, os_name=os_name, driver=driver, cuda=cuda, gpu_cc=tuple(gpu_cc), cpu=cpu, torch=torch,
            strict_driver=strict_driver, mirror=mirror, name=name, prefix=prefix, backend=backend, kernel=kernel,
            no_kernel=no_kernel, force=force, index_url=index_url, find_links=find_links, only=tuple(only),
            arch=arch, allow_unverified=allow_unverified, gpu_arch=tuple(gpu_arch), xpu=xpu, gpu=tuple(gpu),
        )
        return cmd.run(request, dry_run=dry_run, yes=yes, confirm=_confirm_if_tty(),
                       sink=_progress(quiet and not json_out, StepView))

    def render(result):
        from envcheck.render import install as view

        if result.data.get("execute"):
            view.render_execute(result)
        else:
            view.render_install(result)

    _finish("install", json_out, produce, render, quiet)


# --- verify (issue 4) -------------------------------------------------------------------------


class _VerifyDevice(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"
    mps = "mps"


@app.command(epilog=EXIT_CODES_HELP, help=_("Prove the target env works: tensors, autograd, CUDA kernels on every "
             "GPU, MPS, distributed."))
def verify(
    python: Optional[str] = typer.Option(
        None, "--python", help=_("Interpreter to verify: a path, an env directory, or a version such as 3.11.")
    ),
    device: _VerifyDevice = typer.Option(
        _VerifyDevice.auto, "--device", case_sensitive=False,
        help=_("Device to verify: auto (CUDA, else MPS, else CPU), cpu, cuda (implies CUDA must work) or mps."),
    ),
    require_cuda: bool = typer.Option(False, "--require-cuda", help=_("Fail (not skip) when CUDA is unusable.")),
    distributed: bool = typer.Option(
        False, "--distributed", help=_("Also all_reduce across 2 processes (gloo on CPU, NCCL on 2+ GPUs); with "
        "--nnodes/--nproc-per-node, a torchrun job across nodes instead.")
    ),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout; progress on stderr.")),
    junit_xml: Optional[str] = typer.Option(
        None, "--junit-xml", metavar="FILE", help=_("Also write a JUnit XML report (one testcase per check).")
    ),
    timeout: float = typer.Option(
        120.0, "--timeout", metavar="SECONDS", min=0.1,
        help=_("Per-check limit: a check still running after this is failed as hung and the rest go on."),
    ),
    nnodes: Optional[int] = typer.Option(None, "--nnodes", help=_("With --distributed: nodes in the torchrun job.")),
    node_rank: Optional[int] = typer.Option(None, "--node-rank", help=_("With --distributed: this node's rank (0..N-1).")),
    rdzv_endpoint: Optional[str] = typer.Option(None, "--rdzv-endpoint", metavar="HOST:PORT",
                                                help=_("With --distributed: torchrun's c10d rendezvous endpoint.")),
    nproc_per_node: Optional[int] = typer.Option(None, "--nproc-per-node", help=_("With --distributed: ranks per node.")),
    rdzv_id: str = typer.Option("envcheck-verify", "--rdzv-id", help=_("With --distributed: torchrun's job id.")),
    join_timeout: int = typer.Option(300, "--join-timeout", metavar="SECONDS",
                                     help=_("With --distributed: how long nodes wait for each other.")),
    level: int = typer.Option(
        1, "--level", metavar="1|2|3",
        help=_("1: the default suite (seconds). 2: also companion packages on every device, larger matmul and "
        "convolution against the CPU, and a 256 MiB memory round trip per GPU. 3: also measured matmul TFLOPS, "
        "memory and host<->device bandwidth beside the GPU's datasheet peak (with --distributed under torchrun: "
        "all-reduce bus bandwidth)."),
    ),
    require_package: Optional[List[str]] = typer.Option(
        None, "--require-package", metavar="NAME",
        help=_("torchvision or torchaudio (repeatable): its absence is a failed check, not a skip.")),
    quiet: bool = _quiet_option(),
) -> None:
    def produce():
        from envcheck.commands import verify_distributed as vd

        if vd.wanted(nnodes, node_rank, rdzv_endpoint, nproc_per_node):  # issue 11: multi-node under torchrun
            if require_package:
                raise EnvcheckError(Msg("--require-package applies to the single-machine suite, not a torchrun job"),
                                    hint=Msg("run `envcheck verify --require-package NAME` without --nnodes, "
                                             "--node-rank, --rdzv-endpoint and --nproc-per-node"),
                                    code="invalid-option")
            from envcheck.render.verify_distributed import render_distributed

            result = vd.run(
                python=python, device=device.value, distributed=distributed, timeout=timeout, nnodes=nnodes,
                node_rank=node_rank, rdzv_endpoint=rdzv_endpoint, nproc_per_node=nproc_per_node, rdzv_id=rdzv_id,
                join_timeout=join_timeout, junit_xml=junit_xml, level=level)
            return result if quiet and not json_out else render_distributed(result, stderr=json_out)
        from envcheck.commands import verify as cmd
        from envcheck.render.verify import LiveView, render_summary

        result = cmd.run(
            python=python,
            device=device.value,
            require_cuda=require_cuda,
            distributed=distributed,
            timeout=timeout,
            junit_xml=junit_xml,
            listener=None if quiet and not json_out else LiveView(stderr=json_out),
            level=level,
            require_packages=require_package or (),
        )
        if json_out:
            render_summary(result, stderr=True)
        return result

    def render(result):
        from envcheck.render.verify import render_summary

        render_summary(result)

    _finish("verify", json_out, produce, render, quiet)


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
        sys.stderr.write(f"{visible_lines(tr(question))} [y/N]: ")
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            sys.stderr.write("\n")
            raise EnvcheckError(Msg("no answer: end of input at the confirmation prompt"),
                                hint=Msg("answer y or n, or pass --yes to answer yes without asking"),
                                exit_code=ExitCode.USAGE, code="no-answer")
        value = line.strip().lower()
        if value in ("y", "yes"):
            return True
        if value in ("", "n", "no"):
            return False
        sys.stderr.write(_("please answer y or n") + "\n")


def _line_sink():
    from envcheck.render.env import LineSink

    return LineSink()


def _progress(quiet: bool, factory: Callable = _line_sink):
    """The progress sink on stderr, or none with --quiet."""
    if quiet:
        from envcheck.workflow.events import NULL

        return NULL
    return factory()


@app.command(epilog=EXIT_CODES_HELP + " " + _("An existing env without --force, a hostile name, or no --yes when "
             "stdin is not a terminal: exit 2."), help=_("Create an environment with a given Python (conda, mamba, "
             "micromamba, uv or venv), safely."))
def create(
    name: Optional[str] = typer.Option(None, "--name", "-n", help=_("Environment name (venv/uv: under $ENVCHECK_ENVS_DIR, else ~/.envcheck/envs).")),
    prefix: Optional[str] = typer.Option(None, "--prefix", "-p", help=_("Environment directory instead of a name.")),
    python: str = typer.Option(..., "--python", help=_("Python version X.Y for the new environment, or an interpreter "
                               "(path, env directory, command) whose version is used (venv/uv: it is the base).")),
    backend: str = typer.Option("auto", "--backend", help=_("auto (first of micromamba, mamba, conda, then uv, then venv), conda, mamba, micromamba, uv or venv.")),
    force: bool = typer.Option(False, "--force", help=_("Replace an existing environment (kept aside until the new one works).")),
    dry_run: bool = typer.Option(False, "--dry-run", help=_("Print exactly what would run; change nothing.")),
    yes: bool = typer.Option(False, "--yes", "-y", help=_("Do not ask; required when stdin is not a terminal.")),
    mirror: Optional[str] = typer.Option(None, "--mirror", help=_("conda channel mirror: a name from configs/mirrors.json or a channel URL.")),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
    quiet: bool = _quiet_option(),
) -> None:
    def produce():
        from envcheck.commands import create as cmd

        return cmd.run(python=python, name=name, prefix=prefix, backend=backend, force=force, dry_run=dry_run,
                       yes=yes, mirror=mirror, confirm=_confirm_if_tty(), sink=_progress(quiet and not json_out))

    def render(result):
        from envcheck.render import env as view

        view.render_create(result)

    _finish("create", json_out, produce, render, quiet)


kernel_app = typer.Typer(
    name="kernel",
    help=_("Jupyter kernels that launch the right interpreter: add, list, check, remove.") + "\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(kernel_app, name="kernel")

_JUPYTER_PREFIX_HELP = _("Also search DIR/share/jupyter (an env's prefix); repeatable.")


@kernel_app.command("add", epilog=EXIT_CODES_HELP, help=_("Register a Jupyter kernel for a target interpreter and "
                    "check it launches that interpreter."))
def kernel_add(
    name: str = typer.Option(..., "--name", help=_("Kernel name: a-z, 0-9 and . _ - (Jupyter's rule).")),
    python: Optional[str] = typer.Option(None, "--python", help=_("Target interpreter: a path, an env directory, or X.Y.")),
    env: Optional[str] = typer.Option(None, "--env", help=_("Target environment by name (envcheck's envs dir, then conda envs).")),
    display_name: Optional[str] = typer.Option(None, "--display-name", help=_("Name shown in Jupyter (default: 'Python X.Y (NAME)').")),
    user: bool = typer.Option(False, "--user", help=_("Register for this user (default; honours JUPYTER_DATA_DIR).")),
    sys_prefix: bool = typer.Option(False, "--sys-prefix", help=_("Register inside the target env (ENV/share/jupyter).")),
    prefix_dir: Optional[str] = typer.Option(None, "--prefix", help=_("Register under DIR/share/jupyter.")),
    install_ipykernel: bool = typer.Option(False, "--install-ipykernel", help=_("Install ipykernel into the target with its own pip if missing.")),
    force: bool = typer.Option(False, "--force", help=_("Replace an existing kernel of that name.")),
    yes: bool = typer.Option(False, "--yes", "-y", help=_("Answer yes to every question (implies --install-ipykernel).")),
    dry_run: bool = typer.Option(False, "--dry-run", help=_("Print exactly what would run; change nothing.")),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
    quiet: bool = _quiet_option(),
) -> None:
    def produce():
        from envcheck.commands import kernel as cmd

        return cmd.run_add(name=name, python=python, env=env, display_name=display_name, user=user,
                           sys_prefix=sys_prefix, prefix_dir=prefix_dir, install_ipykernel=install_ipykernel,
                           force=force, yes=yes, dry_run=dry_run, confirm=_confirm_if_tty(),
                           sink=_progress(quiet and not json_out))

    def render(result):
        from envcheck.render import env as view

        view.render_kernel_add(result)

    _finish("kernel add", json_out, produce, render, quiet)


@kernel_app.command("list", epilog=EXIT_CODES_HELP, help=_("Every kernelspec on the Jupyter path: its interpreter, "
                    "whether it exists, and shadowing."))
def kernel_list(
    prefixes: List[str] = typer.Option([], "--prefix", help=_JUPYTER_PREFIX_HELP),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
) -> None:
    def produce():
        from envcheck.commands import kernel as cmd

        return cmd.run_list(prefixes)

    def render(result):
        from envcheck.render import env as view

        view.render_kernel_list(result)

    _finish("kernel list", json_out, produce, render)


@kernel_app.command("check", epilog=EXIT_CODES_HELP + " " + _("Exit 1 with stale-jupyter-kernel when a kernel's "
                    "interpreter is gone."), help=_("Check every kernel: exit 1 (stale-jupyter-kernel) for each one "
                    "whose interpreter is gone."))
def kernel_check(
    prefixes: List[str] = typer.Option([], "--prefix", help=_JUPYTER_PREFIX_HELP),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
    quiet: bool = _quiet_option(),
) -> None:
    def produce():
        from envcheck.commands import kernel as cmd

        return cmd.run_check(prefixes)

    def render(result):
        from envcheck.render import env as view

        view.render_kernel_check(result)

    _finish("kernel check", json_out, produce, render, quiet)


@kernel_app.command("remove", epilog=EXIT_CODES_HELP + " " + _("No such kernel: exit 4."),
                    help=_("Delete the kernelspec Jupyter uses for NAME (exit 4 when there is none)."))
def kernel_remove(
    name: str = typer.Argument(..., help=_("Kernel name (see `envcheck kernel list`).")),
    all_copies: bool = typer.Option(False, "--all", help=_("Also remove same-named kernels shadowed further down the path.")),
    yes: bool = typer.Option(False, "--yes", "-y", help=_("Do not ask; required when stdin is not a terminal.")),
    dry_run: bool = typer.Option(False, "--dry-run", help=_("Print what would be deleted; change nothing.")),
    prefixes: List[str] = typer.Option([], "--prefix", help=_JUPYTER_PREFIX_HELP),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
    quiet: bool = _quiet_option(),
) -> None:
    def produce():
        from envcheck.commands import kernel as cmd

        return cmd.run_remove(name, all_copies=all_copies, yes=yes, dry_run=dry_run, confirm=_confirm_if_tty(),
                              prefixes=prefixes)

    def render(result):
        from envcheck.render import env as view

        view.render_kernel_remove(result)

    _finish("kernel remove", json_out, produce, render, quiet)


# --- env (issue 13): the environments envcheck created -------------------------------------------

env_app = typer.Typer(
    name="env",
    help=_("The environments envcheck created (create, install --execute): list, remove.") + "\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False, rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(env_app, name="env")


@env_app.command("list", epilog=EXIT_CODES_HELP, help=_(
    "Envs envcheck created: name, backend, Python, torch, the kernels that launch it, size, path."))
def env_list(
    no_size: bool = typer.Option(False, "--no-size", help=_("Do not measure each env's size on disk (faster).")),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
) -> None:
    def produce():
        from envcheck.commands import env as cmd

        return cmd.run_list(size=not no_size)

    def render(result):
        from envcheck.render.env_list import render_env_list

        render_env_list(result)

    _finish("env list", json_out, produce, render)


@env_app.command("remove", epilog=EXIT_CODES_HELP + " " + _("Not created by envcheck, or no --yes when stdin is not a "
                 "terminal: exit 2. No such env: exit 4."), help=_(
    "Remove an env envcheck created, and the Jupyter kernels that launch it (never another directory)."))
def env_remove(
    target: str = typer.Argument(..., metavar="NAME|PATH", help=_("An env from `envcheck env list`, by name or path.")),
    yes: bool = typer.Option(False, "--yes", "-y", help=_("Do not ask; required when stdin is not a terminal.")),
    dry_run: bool = typer.Option(False, "--dry-run", help=_("Print what would be removed; change nothing.")),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
    quiet: bool = _quiet_option(),
) -> None:
    def produce():
        from envcheck.commands import env as cmd

        return cmd.run_remove(target, yes=yes, dry_run=dry_run, confirm=_confirm_if_tty(),
                              sink=_progress(quiet and not json_out))

    def render(result):
        from envcheck.render.env_list import render_env_remove

        render_env_remove(result)

    _finish("env remove", json_out, produce, render, quiet)


# --- matrix (issue 8) -------------------------------------------------------------------------

matrix_app = typer.Typer(
    name="matrix",
    help=_("The compatibility matrix: show what it knows; refresh the newer releases from the package index.")
    + "\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False, rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(matrix_app, name="matrix")


@matrix_app.command("refresh", epilog=EXIT_CODES_HELP, help=_(
    "Read releases newer than the shipped matrix from the package index into a per-user cache (the only "
    "command that uses the network; a failed refresh keeps the last good cache)."))
def matrix_refresh(
    index_url: Optional[str] = typer.Option(
        None, "--index-url", help=_("Simple-API base URL of the index to read (default: pip's configured index).")
    ),
    mirror: Optional[str] = typer.Option(None, "--mirror", help=_("Read a mirror of the package index (tuna, ustc, bfsu, aliyun, sjtu).")),
    timeout: float = typer.Option(30.0, "--timeout", help=_("Seconds to wait for each answer.")),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
) -> None:
    def produce():
        from envcheck.commands import matrix as cmd

        sink = _progress(False)
        try:
            return cmd.run_refresh(index_url=index_url, mirror=mirror, timeout=timeout, sink=sink)
        finally:
            sink.close()

    def render(result):
        from envcheck.render.matrix import render_refresh

        render_refresh(result)

    _finish("matrix refresh", json_out, produce, render)


@matrix_app.command("show", epilog=EXIT_CODES_HELP, help=_(
    "Shipped and refreshed dates, releases known, the newest per source (reads files only)."))
def matrix_show(
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
) -> None:
    def produce():
        from envcheck.commands import matrix as cmd

        return cmd.run_show()

    def render(result):
        from envcheck.render.matrix import render_show

        render_show(result)

    _finish("matrix show", json_out, produce, render)


# --- fleet (issue 11) --------------------------------------------------------------------------

fleet_app = typer.Typer(
    name="fleet",
    help=_("Many nodes, one answer: compare per-node `doctor --json` reports.") + "\n\n" + EXIT_CODES_HELP,
    no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False, rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(fleet_app, name="fleet")


@fleet_app.command("report", epilog=_("Exit codes: 0 every node agrees and none has an error finding; 1 drift or "
                   "error findings; 2 a report could not be read (named; the others are still compared)."),
                   help=_("Which nodes differ: OS, kernel, driver, GPUs, Python, torch, NCCL and findings, majority "
                          "vs outliers."))
def fleet_report(
    paths: List[str] = typer.Argument(..., metavar="PATH...", help=_("doctor --json files, or directories of them.")),
    json_out: bool = typer.Option(False, "--json", help=_("Print one JSON object on stdout.")),
    quiet: bool = _quiet_option(),
) -> None:
    def produce():
        from envcheck.commands import fleet as cmd

        return cmd.run(paths)

    def render(result):
        from envcheck.render.fleet import render_fleet

        render_fleet(result)

    _finish("fleet report", json_out, produce, render, quiet)


def main() -> NoReturn:
    _LATE["process"] = True
    try:
        app_for(sys.argv[1:])()
        code = 0
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:  # landed outside any command's handling (start-up, or the moment it ended)
        code = int(ExitCode.INTERRUPTED)
    _end_process(code)


def _end_process(code) -> NoReturn:
    """End the envcheck process with `code`, stdout and stderr flushed, without the interpreter's
    finalization: Python puts SIGINT back to its default action there, so a second Ctrl-C landing in
    those last milliseconds killed the process (-2, no message) instead of exit 130 (issue 14). Every
    file, lock and directory envcheck opens is closed or removed by its own `with` block before this."""
    import os

    if code is None:
        code = 0
    elif not isinstance(code, int):  # SystemExit("message"): Python prints it and exits 1
        try:
            print(code, file=sys.stderr)
        except (OSError, ValueError):
            pass
        code = 1
    if _LATE["signals"]:
        code = int(ExitCode.INTERRUPTED)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or a full disk: the code says what happened
            pass
    os._exit(code & 0xFF if code >= 0 else 1)


def app_for(argv: List[str]) -> typer.Typer:
    """The app with only the command that argv[0] names. typer builds the click object of EVERY command
    (options, types, help) on each run, ~12 ms for all of them, and a run uses one. Anything else (an
    option first, an unknown word, no arguments, shell completion) gets the whole app, so the root help,
    "No such command" suggestions and completion are as they were; the chosen command's own parsing,
    help and errors do not depend on its siblings."""
    import os

    if not argv or argv[0].startswith("-") or "_ENVCHECK_COMPLETE" in os.environ:
        return app
    from copy import copy

    from typer.main import get_command_name

    commands = [c for c in app.registered_commands
                if (c.name or (get_command_name(c.callback.__name__) if c.callback else None)) == argv[0]]
    groups = [g for g in app.registered_groups if g.name == argv[0]]
    if len(commands) + len(groups) != 1 or any(g.name is None for g in app.registered_groups):
        return app
    pruned = copy(app)
    pruned.registered_commands, pruned.registered_groups = commands, groups
    return pruned


if __name__ == "__main__":
    main()
