"""`envcheck verify`: run real tensor, autograd, CUDA, MPS and distributed checks inside the target env.

The suite (envcheck/inenv/verify_suite.py) runs in a child process of the TARGET interpreter and
streams one JSON event per line. This module never imports torch. Isolation: each check has a time
limit (the child's faulthandler exits when a check exceeds it, and the runner's idle timeout kills
the process group if even that fails); when the child dies by a signal or a timeout, the running
check is recorded as failed with the cause and the rest of the checks run in a fresh child.

Shell equivalent of one child: `cd $(mktemp -d) && PYTHON envcheck/inenv/verify_suite.py --timeout 120`.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from typing import Mapping, Sequence

from envcheck.errors import EnvcheckError, ExitCode, Msg
from envcheck.i18n import from_template
from envcheck.facts import Interpreter
from envcheck.inputs import VERIFY_DEVICES as DEVICES, VERIFY_LEVELS as LEVELS  # noqa: F401 (re-exported)
from envcheck.inputs import validate_verify_options as validate_options  # noqa: F401 (re-exported)
from envcheck.results import CheckResult, Result
from envcheck.results import summarize_checks as summarize
from envcheck.runner import MAX_TIMEOUT_S, Completed, Runner

COMMAND = "verify"
DEFAULT_TIMEOUT_S = 120.0  # per check
# `import torch` has its own limit, never charged to a check: a cold CUDA build on a network FS or a
# loaded CI runner can take minutes. It covers the torch-import check and a fresh child's re-import.
DEFAULT_IMPORT_TIMEOUT_S = 300.0
IDLE_GRACE_S = 2.0  # the host kills only if the child's own faulthandler exit did not happen first
FAULTHANDLER_TIMEOUT = re.compile(r"^Timeout \(\d+:\d\d:\d\d(\.\d+)?\)!", re.M)
FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)', re.M)


class Status:
    OK = "ok"
    FAIL = "fail"
    SKIP = "skip"


class Listener:
    """Receives the suite's progress as it happens (the live view implements it; tests record it)."""

    def begin(self, interpreter: Interpreter) -> None: ...

    def target(self, info: dict) -> None: ...

    def start(self, check_id: str, name: str) -> None: ...

    def end(self, check: CheckResult) -> None: ...

    def restart(self, reason: str) -> None: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------- pure helpers


def parse_event(line: str) -> dict | None:
    """One stdout line -> the event dict, or None for anything that is not a suite event (pure)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):  # a hostile target: `[[[[...` thousands deep
        return None
    return obj if isinstance(obj, dict) and isinstance(obj.get("event"), str) else None


def crash_site(stderr: str) -> str | None:
    """The innermost Python frame faulthandler printed ('file.py:12 in func'), else None (pure).

    faulthandler lists frames most recent first: `  File "/x/y.py", line 12 in func`.
    """
    m = FRAME.search(stderr or "")
    if not m:
        return None
    return f"{os.path.basename(m.group('file'))}:{m.group('line')} in {m.group('func')}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe_death(done: Completed, timeout: float) -> tuple[str, str, str]:
    """Why a suite child stopped before finishing: (kind, message, fix) (pure over Completed).

    kind is "timeout", "signal" or "exit".
    """
    site = crash_site(done.stderr)
    at = Msg(" (at {site})", site=site) if site else ""
    if done.timed_out or (done.returncode == 1 and FAULTHANDLER_TIMEOUT.search(done.stderr or "")):
        return (
            "timeout",
            Msg("timed out: did not finish within {seconds:g} s{at}", seconds=timeout, at=at),
            Msg("something blocked (a GPU in a bad state, a driver problem, a deadlock): check `nvidia-smi` "
                "and `envcheck doctor`; if this machine is just slow, raise --timeout"),
        )
    if done.signal:
        name = _signal_name(done.signal)
        fix = Msg(
            "a native crash inside torch usually means mismatched binaries (CUDA/cuDNN libraries from "
            "another install on LD_LIBRARY_PATH, or mixed pip/conda packages): reinstall with the "
            "command from `envcheck install`"
        )
        if done.signal == signal.SIGKILL:
            fix = Msg("SIGKILL usually means the kernel's out-of-memory killer (see `dmesg`): free memory and rerun")
        return "signal", Msg("crashed: the suite process was killed by {signal}{at}", signal=name, at=at), fix
    tail = (done.stderr or "").strip().splitlines()[-1:] or [""]
    detail = f": {tail[0]}" if tail[0] else ""
    return "exit", Msg("the suite process exited with status {code}{detail}{at}", code=done.returncode,
                       detail=detail, at=at), Msg("rerun with `envcheck --debug verify` and report the output")


def expected_cuda_devices(environ: Mapping[str, str], gpus: Sequence) -> int | None:
    """How many GPUs CUDA should enumerate given CUDA_VISIBLE_DEVICES and the driver's GPUs.

    None when it cannot be told (no driver information, MIG instances).
    """
    if not gpus:
        return None
    try:
        from envcheck.probes.cudaenv import resolve_visible_devices
    except ImportError:  # the CUDA_VISIBLE_DEVICES resolver is optional here
        return len(gpus) if environ.get("CUDA_VISIBLE_DEVICES") is None else None
    resolution = resolve_visible_devices(environ.get("CUDA_VISIBLE_DEVICES"), gpus)
    if resolution.note or any(isinstance(v, str) for v in resolution.visible):
        return None
    return len(resolution.visible)


def probe_driver_gpus(runner: Runner, environ: Mapping[str, str]) -> tuple[int | None, int | None]:
    """(GPUs the NVIDIA driver reports, GPUs CUDA should see). NVML first, else `nvidia-smi -L`.

    Shell equivalent: `nvidia-smi -L | grep -c '^GPU '`. Never raises.
    """
    gpus: Sequence = ()
    known = False
    try:
        from envcheck.probes.nvidia import probe_nvidia

        facts = probe_nvidia(runner, environ)
        gpus = facts.gpus
        known = facts.has_driver or bool(gpus)
    except Exception:  # the driver probe is a nicety here: verify must run without it
        known = False
    if not known:
        return None, None
    return len(gpus), expected_cuda_devices(environ, gpus)




def suite_argv(
    python: str,
    *,
    device: str,
    require_cuda: bool,
    distributed: bool,
    timeout: float,
    skip: Sequence[str] = (),
    driver_gpus: int | None = None,
    expected_devices: int | None = None,
    driver_info: str | None = None,
    level: int = 1,
    import_timeout: float | None = None,
    expect: str | None = None,
    require: Sequence[str] = (),
) -> list[str]:
    from envcheck.inenv import script_path

    argv = [python, script_path("verify_suite"), "--device", device, "--timeout", f"{timeout:g}"]
    if level != 1:
        argv += ["--level", str(level)]
    if import_timeout is not None:
        argv += ["--import-timeout", f"{import_timeout:g}"]
    if expect is not None:
        argv += ["--expect", expect]
    if require:
        argv += ["--require", ",".join(require)]
    if require_cuda:
        argv.append("--require-cuda")
    if distributed:
        argv.append("--distributed")
    if skip:
        argv += ["--skip", ",".join(skip)]
    if driver_gpus is not None:
        argv += ["--driver-gpus", str(driver_gpus)]
    if expected_devices is not None:
        argv += ["--expected-cuda-devices", str(expected_devices)]
    if driver_info is not None:
        argv += ["--driver-info", driver_info]
    return argv


class _DriverProbe:
    """Probes the NVIDIA driver in a thread while the first suite child imports torch.

    NVML's init can take a second on a GPU without persistence mode; the suite only needs the counts
    when it reaches the CUDA checks, so the host writes them to a file the suite reads then
    (atomically: written aside, then renamed).
    """

    def __init__(self, runner: Runner, environ: Mapping[str, str], wanted: bool) -> None:
        self.runner, self.environ, self.wanted = runner, environ, wanted
        self.counts: tuple[int | None, int | None] = (None, None)
        self.thread: threading.Thread | None = None

    def start(self, directory: str) -> str | None:
        if not self.wanted:
            return None
        path = os.path.join(directory, "driver.json")

        def work() -> None:
            self.counts = probe_driver_gpus(self.runner, self.environ)
            try:
                with open(path + ".part", "w", encoding="utf-8") as fh:
                    json.dump({"driver_gpus": self.counts[0], "expected_cuda_devices": self.counts[1]}, fh)
                os.replace(path + ".part", path)
            except OSError:  # the run already ended and removed the directory
                pass

        self.thread = threading.Thread(target=work, name="envcheck-driver-probe", daemon=True)
        self.thread.start()
        return path

    def result(self) -> tuple[int | None, int | None]:
        if self.thread is not None:
            self.thread.join(timeout=30)
        return self.counts


class _WorkDir:
    """The suite's working directory, removed only after the host threads that write into it (the
    driver probe, the companion table) have finished: a suite that dies at once must not race them
    into "Directory not empty" (which became an internal error)."""

    def __init__(self) -> None:
        self.path = ""
        self.writers: list[threading.Thread] = []

    def __enter__(self) -> "_WorkDir":
        self.path = tempfile.mkdtemp(prefix="envcheck-verify-")
        return self

    def __exit__(self, *exc) -> bool:
        for thread in self.writers:  # each is bounded: the probe by the tool timeout, the table by a file read
            thread.join(timeout=30)
        shutil.rmtree(self.path, ignore_errors=True)
        return False


def import_limit(timeout: float, import_timeout: float | None) -> float:
    """The limit of `import torch` in the suite (the suite's own rule, kept equal here)."""
    return import_timeout if import_timeout else max(DEFAULT_IMPORT_TIMEOUT_S, timeout)


def write_companion_table(path: str) -> None:
    """Write the matrix's companions per torch release for this OS (the suite never imports
    envcheck: it reads this file once torch has told it its version). Written aside, then renamed;
    a matrix that does not load leaves an empty table (versions are then not judged, builds still are)."""
    table: dict = {}
    try:
        from envcheck.inputs import host_os
        from envcheck.matrix import load_matrix
        from envcheck.probes.torchinfo import companion_table

        table = companion_table(load_matrix(), host_os())
    except Exception:  # an unreadable matrix must not stop verify; `envcheck doctor` reports it
        table = {}
    try:
        with open(path + ".part", "w", encoding="utf-8") as fh:
            json.dump({"releases": table}, fh)
        os.replace(path + ".part", path)
    except OSError:
        pass


# --------------------------------------------------------------------------- orchestration


class _Session:
    """Collects one or more children's events into the ordered check list."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.checks: dict[str, CheckResult] = {}
        self.perf: dict[str, dict] = {}  # level 3: check id -> the raw figures its end event carried
        self.plan: list[tuple[str, str]] = []  # (id, name) in suite order
        self.target: dict = {}
        self.running: tuple[str, str, float] | None = None  # (id, name, monotonic start)
        self.hello = False
        self.done = False
        self.progress = False

    def reset_child(self) -> None:
        self.hello = self.done = self.progress = False
        self.running = None

    def on_line(self, line: str) -> None:
        event = parse_event(line)
        if event is None:
            return
        kind = event["event"]
        if kind == "hello":
            self.hello = True
        elif kind == "plan":
            names = [(str(c.get("id")), str(c.get("name") or c.get("id"))) for c in event.get("checks") or []]
            known = {i for i, _ in names}
            self.plan = [p for p in self.plan if p[0] in self.checks and p[0] not in known] + names
        elif kind == "target":
            self.target = {k: v for k, v in event.items() if k != "event"}
            self.listener.target(self.target)
        elif kind == "start":
            check_id = str(event.get("id"))
            name = from_template(str(event.get("name") or check_id), event.get("name_template"))
            self.running = (check_id, name, time.monotonic())
            self.progress = True
            self.listener.start(check_id, name)
        elif kind == "end":
            check_id = str(event.get("id"))
            name = self.running[1] if self.running and self.running[0] == check_id else self._name(check_id)
            status = event.get("status") if event.get("status") in (Status.OK, Status.FAIL, Status.SKIP) else Status.FAIL
            result = CheckResult(
                check_id,
                name,
                status,
                round(float(event.get("duration_s") or 0.0), 4),
                from_template(str(event.get("message") or ""), event.get("message_template")),
                from_template(event.get("fix") or None, event.get("fix_template")),
            )
            if isinstance(event.get("perf"), dict):
                self.perf[check_id] = event["perf"]
            self.record(result)
        elif kind == "done":
            self.done = True

    def _name(self, check_id: str) -> str:
        return next((n for i, n in self.plan if i == check_id), check_id)

    def record(self, result: CheckResult) -> None:
        self.checks[result.id] = result
        if self.running and self.running[0] == result.id:
            self.running = None
        self.progress = True
        self.listener.end(result)

    def remaining(self) -> list[tuple[str, str]]:
        return [p for p in self.plan if p[0] not in self.checks]

    def ordered(self) -> list[CheckResult]:
        order = [i for i, _ in self.plan]
        extra = [i for i in self.checks if i not in order]
        return [self.checks[i] for i in order + extra if i in self.checks]




def run(
    *,
    python: str | None = None,
    device: str = "auto",
    require_cuda: bool = False,
    distributed: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    junit_xml: str | None = None,
    runner: Runner | None = None,
    listener: Listener | None = None,
    environ: Mapping[str, str] | None = None,
    level: int = 1,
    import_timeout: float | None = None,
    require_packages: Sequence[str] = (),
) -> Result:
    """Verify the target environment. Raises EnvcheckError for exit codes 2, 4 and 5. `require_packages`:
    companions (torchvision, torchaudio) whose absence is a failed check, not a skip."""
    from envcheck.inputs import parse_required_packages, target_interpreter

    validate_options(device, timeout, junit_xml, level)
    require_packages = parse_required_packages(require_packages)
    import_s = import_limit(timeout, import_timeout)
    timeout = min(timeout, MAX_TIMEOUT_S)  # --timeout 99999999999 / inf: a day, not an OverflowError in the child
    runner = runner or Runner()
    listener = listener or Listener()
    environ = os.environ if environ is None else environ
    # exit 2 blank, 4 missing; one that does not run the suite is verify's own exit 5 (suite-not-run)
    interp = target_interpreter(python, runner, environ, check=False)
    listener.begin(interp)
    session = _Session(listener)
    started = time.monotonic()
    children = 0
    driver = _DriverProbe(runner, environ, wanted=device not in ("cpu", "mps"))
    try:
        with _WorkDir() as work:
            cwd = work.path
            info_path = driver.start(cwd)
            expect_path = os.path.join(cwd, "companions.json")
            table = threading.Thread(target=write_companion_table, args=(expect_path,), daemon=True)
            table.start()  # the matrix loads while the suite imports torch
            work.writers += [t for t in (table, driver.thread) if t is not None]
            while True:
                children += 1
                session.reset_child()
                argv = suite_argv(
                    interp.path,
                    device=device,
                    require_cuda=require_cuda,
                    distributed=distributed,
                    timeout=timeout,
                    skip=list(session.checks),
                    driver_info=info_path,
                    level=level,
                    import_timeout=import_s,
                    expect=expect_path,
                    require=require_packages,
                )
                done = runner.stream(
                    argv,
                    timeout=import_s + timeout * 60 + 60,  # backstop only
                    # A check's limit is enforced by the suite's faulthandler (--timeout); the host's idle
                    # limit is the backstop and must also let a fresh child re-import torch in silence.
                    idle_timeout=max(timeout, import_s) + IDLE_GRACE_S,
                    on_line=session.on_line,
                    cwd=cwd,
                )
                if session.done and done.returncode == 0:
                    break
                if not session.hello:
                    if children == 1:
                        raise _cannot_run(interp, done)
                    _fail_remaining(session, Msg("the suite could not be restarted: {reason}", reason=done.describe_failure()))
                    break
                limit = import_s if session.running and session.running[0] == "torch-import" else timeout
                kind, message, fix = describe_death(done, limit)
                if session.running:
                    check_id, name, t0 = session.running
                    session.record(
                        CheckResult(check_id, name, Status.FAIL, round(time.monotonic() - t0, 4), message, fix)
                    )
                    if check_id == "torch-import":
                        _skip_remaining(session, Msg("torch did not import (see torch-import)"))
                        break
                elif not session.progress or session.done:
                    _fail_remaining(session, Msg("the suite process stopped between checks: {reason}", reason=message), fix)
                    break
                if not session.remaining() or children > len(session.plan) + 2:
                    _fail_remaining(session, Msg("not run: {reason}", reason=message), fix)
                    break
                listener.restart(Msg("continuing with the remaining checks in a fresh process"))
            driver_gpus, expected = driver.result()
            table.join(timeout=30)
    finally:
        listener.close()

    checks = session.ordered()
    performance = None
    if level >= 3:  # the perf-* checks' figures beside the datasheet (envcheck/perf.py)
        from envcheck.perf import annotate_checks, judge_events

        performance = judge_events(session.perf)
        checks = annotate_checks(checks, performance)
    if not checks:  # it started but reported nothing: never a silent "0 checks, exit 0"
        raise EnvcheckError(
            Msg("the verification suite started with {path} but reported no checks", path=interp.path),
            hint=Msg("rerun with `envcheck --debug verify`; check that this is a working Python 3.7+ interpreter"),
            exit_code=ExitCode.TOOL_FAILED,
            code="suite-not-run",
        )
    failed = any(c.status == Status.FAIL for c in checks)
    target = {
        "python": interp.path,
        "python_version": session.target.get("python"),
        "interpreter_source": interp.source.value,
        "interpreter_why": interp.why,
        "torch": session.target.get("torch"),
        "build": session.target.get("build"),
        "device": session.target.get("device") or (device if device != "auto" else None),
        "numpy": session.target.get("numpy"),
        "companions": session.target.get("companions") or {},
        "driver_gpus": driver_gpus,
        "expected_cuda_devices": expected,
    }
    summary = summarize(checks)
    summary["wall_s"] = round(time.monotonic() - started, 3)
    data = {
        "level": level,
        "target": target,
        "checks": [c.to_dict() for c in checks],
        "summary": summary,
        "options": {
            "device": device,
            "require_cuda": require_cuda,
            "distributed": distributed,
            "timeout_s": timeout,
            "import_timeout_s": import_s,
            "level": level,
        },
        "children": children,
        "junit_xml": os.path.abspath(junit_xml) if junit_xml else None,
    }
    if level >= 3:
        data["performance"] = performance
    if junit_xml:
        from envcheck.render.junit import write_junit

        try:
            write_junit(data, junit_xml)
        except OSError as exc:
            raise EnvcheckError(
                Msg("could not write the JUnit report {junit_xml}: {reason}",
                    junit_xml=junit_xml, reason=exc.strerror or exc),
                hint=Msg("pass a writable path to --junit-xml"),
                exit_code=ExitCode.TOOL_FAILED,
                code="junit-write-failed",
            ) from None
    return Result(command=COMMAND, exit_code=ExitCode.PROBLEMS if failed else ExitCode.OK, data=data)


def _fail_remaining(session: _Session, message: str, fix: str | None = None) -> None:
    for check_id, name in session.remaining():
        session.record(CheckResult(check_id, name, Status.FAIL, 0.0, message, fix))


def _skip_remaining(session: _Session, message: str) -> None:
    for check_id, name in session.remaining():
        session.record(CheckResult(check_id, name, Status.SKIP, 0.0, message, None))


def _cannot_run(interp: Interpreter, done: Completed) -> EnvcheckError:
    """Exit 5: the target interpreter exists but the suite never started talking."""
    detail = done.describe_failure()
    stderr = (done.stderr or "").strip()
    if stderr:
        detail = f"{detail}; {stderr.splitlines()[-1]}"
    return EnvcheckError(
        Msg("the verification suite could not be run with {path}: {detail}", path=interp.path, detail=detail),
        hint=Msg("check that this is a working Python 3.7+ interpreter (`PYTHON -c 'import sys; print(sys.version)'`)"),
        exit_code=ExitCode.TOOL_FAILED,
        code="suite-not-run",
    )
