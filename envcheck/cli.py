"""Command-line wiring: the only module that imports typer.

Each command is a thin wrapper: parse options -> commands.X.run(...) -> render -> exit code.
Heavy modules (rich, psutil, pynvml, the commands themselves) are imported inside command bodies
so `envcheck --help` starts fast.
"""
from __future__ import annotations

import sys
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
    """With --json, even a usage error (bad option, missing value) prints the JSON envelope."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        if "--json" not in argv:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        try:
            return super().main(argv, prog_name, complete_var, False, **extra)
        except Exception as exc:  # click's UsageError family, without importing click's internals
            if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
                raise
            command = next((a for a in argv if a in self.commands), "envcheck")
            err = EnvcheckError(exc.format_message(), hint=f"see `envcheck {command} --help`", code="usage")
            _emit_error(command, err, json_out=True)
            sys.exit(int(ExitCode.USAGE))


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
    """`error: ...` / `hint: ...` on stderr; with --json also the error envelope on stdout."""
    if json_out:
        from envcheck.render.json import error_envelope, render_json

        print(render_json(error_envelope(command, err)))
    print(f"error: {err.message}", file=sys.stderr)
    if err.hint:
        print(f"hint: {err.hint}", file=sys.stderr)


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
    except Exception as exc:  # a bug in envcheck: say so in one line, keep the traceback for --debug
        if _state["debug"]:
            raise
        err = EnvcheckError(
            f"internal error: {exc.__class__.__name__}: {exc}",
            hint="rerun with `envcheck --debug ...` and report the traceback",
            exit_code=ExitCode.PROBLEMS,
            code="internal-error",
        )
        _emit_error(command, err, json_out)
        sys.exit(int(err.exit_code))
    if json_out:
        from envcheck.render.json import envelope, render_json

        print(render_json(envelope(result)))
    else:
        render_human(result)
    sys.exit(int(result.exit_code))


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


# --- verify (issue 4) -------------------------------------------------------------------------


# --- create, kernel (issue 5) -----------------------------------------------------------------


def main() -> None:
    app()


if __name__ == "__main__":
    main()
