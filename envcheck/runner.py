"""The ONLY place that starts a subprocess.

Every call has a timeout, never uses a shell, and never raises for the usual failures (tool missing,
not executable, timed out, killed): those come back in `Completed` so callers can turn them into a
fact with a reason or an error with a hint. Children get their own process group so a timeout kills
grandchildren too (a hung `import torch` that spawned workers must not outlive us).
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int | None  # None when the process never started or was killed on timeout
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    timed_out: bool = False
    error: str | None = None  # why it could not start: "not found", "permission denied", ...

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and self.error is None

    @property
    def signal(self) -> int | None:
        """The signal number that killed the process (POSIX returns -N), else None."""
        if self.returncode is not None and self.returncode < 0:
            return -self.returncode
        return None

    def describe_failure(self) -> str:
        """One human line for why this call did not succeed."""
        name = os.path.basename(self.argv[0]) if self.argv else "command"
        if self.error:
            return f"{name}: {self.error}"
        if self.timed_out:
            return f"{name} timed out after {self.duration_s:.1f} s"
        if self.signal:
            try:
                signame = signal.Signals(self.signal).name
            except ValueError:
                signame = f"signal {self.signal}"
            return f"{name} was killed by {signame}"
        if self.returncode:
            tail = (self.stderr or self.stdout).strip().splitlines()[-1:] or [""]
            detail = f": {tail[0]}" if tail[0] else ""
            return f"{name} exited with status {self.returncode}{detail}"
        return f"{name} succeeded"


def _merged_env(env: Mapping[str, str] | None, unset: Sequence[str] = ()) -> dict[str, str] | None:
    if env is None and not unset:
        return None
    merged = dict(os.environ)
    if env:
        merged.update(env)
    for name in unset:
        merged.pop(name, None)
    return merged


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            proc.kill()
        except OSError:
            pass


def _start_error(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "not found"
    if isinstance(exc, PermissionError):
        return "permission denied (not executable?)"
    return str(exc) or exc.__class__.__name__


class Runner:
    """Runs argv lists. Tests replace it with a fake that records argv and replays real output."""

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        env: Mapping[str, str] | None = None,
        unset_env: Sequence[str] = (),
        cwd: str | None = None,
        input_text: str | None = None,
    ) -> Completed:
        """Run to completion and capture stdout/stderr as text (undecodable bytes replaced)."""
        argv = tuple(str(a) for a in argv)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_merged_env(env, unset_env),
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            return Completed(argv, None, duration_s=time.monotonic() - start, error=_start_error(exc))
        try:
            out, err = proc.communicate(
                input=input_text.encode() if input_text is not None else None, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            return Completed(
                argv, None, _decode(out), _decode(err), time.monotonic() - start, timed_out=True
            )
        except BaseException:  # KeyboardInterrupt: never leave the child behind
            _kill_group(proc)
            proc.wait()
            raise
        return Completed(argv, proc.returncode, _decode(out), _decode(err), time.monotonic() - start)

    def stream(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        on_line: Callable[[str], None] | None = None,
        env: Mapping[str, str] | None = None,
        unset_env: Sequence[str] = (),
        cwd: str | None = None,
        log_path: str | None = None,
        merge_stderr: bool = False,
        idle_timeout: float | None = None,
    ) -> Completed:
        """Run while delivering each stdout line to `on_line` as it arrives.

        With `log_path`, every line is also appended to that file (long tool output goes there,
        the caller shows its tail on failure). `timeout` bounds the whole run; on expiry the
        process group is killed and `timed_out` is set. stdout is also returned in full.
        With `idle_timeout`, the same happens when no stdout line arrives for that many seconds
        (a child that streams progress and then hangs is caught without waiting for `timeout`).
        """
        argv = tuple(str(a) for a in argv)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                env=_merged_env(env, unset_env),
                cwd=cwd,
                start_new_session=True,
            )
        except OSError as exc:
            return Completed(argv, None, duration_s=time.monotonic() - start, error=_start_error(exc))

        err_chunks: list[bytes] = []
        err_thread = None
        if not merge_stderr:
            err_thread = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)
            err_thread.start()
        timed_out = threading.Event()

        def _watchdog() -> None:
            timed_out.set()
            _kill_group(proc)

        timer = threading.Timer(timeout, _watchdog)
        timer.daemon = True
        timer.start()
        idle: list[threading.Timer] = []

        def _arm_idle() -> None:
            if idle_timeout is None:
                return
            if idle:
                idle.pop().cancel()
            idle_timer = threading.Timer(idle_timeout, _watchdog)
            idle_timer.daemon = True
            idle.append(idle_timer)
            idle_timer.start()

        _arm_idle()
        out_lines: list[str] = []
        log = open(log_path, "a", encoding="utf-8", errors="replace") if log_path else None
        try:
            for raw in iter(proc.stdout.readline, b""):
                line = _decode(raw)
                out_lines.append(line)
                if log:
                    log.write(line)
                    log.flush()
                if on_line:
                    on_line(line.rstrip("\n"))
                _arm_idle()
            proc.wait()
        except BaseException:
            _kill_group(proc)
            proc.wait()
            raise
        finally:
            timer.cancel()
            for idle_timer in idle:
                idle_timer.cancel()
            if log:
                log.close()
        if err_thread:
            err_thread.join(timeout=5)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        return Completed(
            argv,
            None if timed_out.is_set() else proc.returncode,
            "".join(out_lines),
            _decode(b"".join(err_chunks)),
            time.monotonic() - start,
            timed_out=timed_out.is_set(),
        )


def _decode(data: bytes | None) -> str:
    return data.decode("utf-8", errors="replace") if data else ""
