"""The ONLY place that starts a subprocess.

Every call has a timeout, never uses a shell, and never raises for the usual failures (tool missing,
not executable, timed out, killed): those come back in `Completed` so callers can turn them into a
fact with a reason or an error with a hint. Children get their own process group so a timeout kills
grandchildren too (a hung `import torch` that spawned workers must not outlive us); descendants that
left the group (setsid) are found by parentage and killed as well. After a kill, or once the child has
exited, envcheck waits at most PIPE_GRACE_S for the pipes to close: a daemon that inherited stdout
cannot keep envcheck waiting past the timeout. Timeouts are clamped to (0, MAX_TIMEOUT_S].
"""
from __future__ import annotations

import math
import os
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from envcheck.redact import redact
from envcheck.errors import Msg

DEFAULT_TIMEOUT_S = 10.0
# The longest any single tool call may run: one day. Larger values (inf, 1e11 from a flag or an
# environment variable) are clamped to it: threading and poll() reject timeouts past ~2**31 ms.
MAX_TIMEOUT_S = 24 * 3600.0
# After the child is gone, how long to keep reading pipes that a surviving descendant may hold open.
PIPE_GRACE_S = 2.0


def clamp_timeout(value, default: float = DEFAULT_TIMEOUT_S) -> float:
    """A usable timeout: `default` for nan, non-numbers and values <= 0; at most MAX_TIMEOUT_S (pure)."""
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    if math.isnan(value) or value <= 0:
        return default
    return min(value, MAX_TIMEOUT_S)


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
            return Msg("{name}: {error}", name=name, error=self.error)
        if self.timed_out:
            return Msg("{name} timed out after {seconds:.1f} s", name=name, seconds=self.duration_s)
        if self.signal:
            try:
                signame = signal.Signals(self.signal).name
            except ValueError:
                signame = f"signal {self.signal}"
            return Msg("{name} was killed by {signal}", name=name, signal=signame)
        if self.returncode:
            tail = (self.stderr or self.stdout).strip().splitlines()[-1:] or [""]
            detail = f": {tail[0]}" if tail[0] else ""
            return Msg("{name} exited with status {code}{detail}", name=name, code=self.returncode, detail=detail)
        return Msg("{name} succeeded", name=name)


def _merged_env(env: Mapping[str, str] | None, unset: Sequence[str] = ()) -> dict[str, str] | None:
    if env is None and not unset:
        return None
    merged = dict(os.environ)
    if env:
        merged.update(env)
    for name in unset:
        merged.pop(name, None)
    return merged


def _descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` by parentage (including those that called setsid)."""
    try:
        import psutil

        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except Exception:  # psutil missing, the process already gone, no permission: best effort
        return []


_LIVE: set = set()  # the children running now (any thread): killed when envcheck goes away
_LIVE_LOCK = threading.Lock()


def _track(proc: subprocess.Popen) -> None:
    with _LIVE_LOCK:
        _LIVE.add(proc)


def _untrack(proc: subprocess.Popen) -> None:
    with _LIVE_LOCK:
        _LIVE.discard(proc)


_STOPPING = threading.Event()  # set by kill_children(): a tool a worker thread starts afterwards is refused


def kill_children(stop_new: bool = True) -> int:
    """Kill every tool envcheck started that is still running (its process group and descendants that
    left it): child tools die with envcheck, on any way out (Ctrl-C, SIGTERM, SIGHUP, an error). With
    `stop_new`, a tool that another thread was about to start is not started (until `allow_children`).
    Returns how many were running."""
    if stop_new:
        _STOPPING.set()
    with _LIVE_LOCK:
        procs = [p for p in _LIVE if p.poll() is None]
    for proc in procs:
        _kill_group(proc)
    return len(procs)


def allow_children() -> None:
    """Start tools again (a command starts; see kill_children)."""
    _STOPPING.clear()


def _stopping(argv, start: float):
    return Completed(argv, None, duration_s=time.monotonic() - start, error="not started: envcheck is stopping")


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the child's process group and every descendant that left it (setsid, setpgid)."""
    strays = _descendants(proc.pid)  # before the kill: orphans are re-parented and lost to us
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        try:
            proc.kill()
        except OSError:
            pass
    for pid in strays:
        try:
            os.kill(pid, signal.SIGKILL)
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
        timeout = clamp_timeout(timeout)
        start = time.monotonic()
        if _STOPPING.is_set():
            return _stopping(argv, start)
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
        _track(proc)
        if _STOPPING.is_set():  # kill_children() ran while this one was starting
            _kill_group(proc)
        try:
            return self._communicate(proc, argv, input_text, timeout, start)
        finally:
            _untrack(proc)

    def _communicate(self, proc, argv, input_text, timeout, start) -> Completed:
        try:
            out, err = proc.communicate(
                input=input_text.encode() if input_text is not None else None, timeout=timeout
            )
        except subprocess.TimeoutExpired as exc:
            finished = proc.poll() is not None  # the tool itself ended: a descendant holds its pipes
            _kill_group(proc)
            out, err = exc.output, exc.stderr
            try:
                out, err = proc.communicate(timeout=PIPE_GRACE_S)
            except subprocess.TimeoutExpired as late:  # a daemon that escaped the kill holds stdout
                out, err = late.output or out, late.stderr or err
                _close_pipes(proc)
                proc.wait()
            if finished:
                return Completed(argv, proc.returncode, _decode(out), _decode(err), time.monotonic() - start)
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
        timeout = clamp_timeout(timeout)
        idle_timeout = clamp_timeout(idle_timeout) if idle_timeout is not None else None
        start = time.monotonic()
        if _STOPPING.is_set():
            return _stopping(argv, start)
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
        _track(proc)
        if _STOPPING.is_set():
            _kill_group(proc)
        try:
            return self._stream(proc, argv, timeout, idle_timeout, on_line, log_path, merge_stderr, start)
        finally:
            _untrack(proc)

    def _stream(self, proc, argv, timeout, idle_timeout, on_line, log_path, merge_stderr, start) -> Completed:
        err_chunks: list[bytes] = []
        err_thread = None
        if not merge_stderr:
            def _read_err() -> None:
                try:
                    err_chunks.append(proc.stderr.read())
                except (OSError, ValueError):
                    pass
                finally:  # the reader owns its pipe: it may outlive this call (a stray holds stderr)
                    _close_quietly(proc.stderr)

            err_thread = threading.Thread(target=_read_err, daemon=True)
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
        lines: queue.Queue = queue.Queue()

        def _reader() -> None:  # a daemon thread: may stay blocked if a stray descendant holds stdout
            try:
                for raw in iter(proc.stdout.readline, b""):
                    lines.put(raw)
            except (OSError, ValueError):
                pass
            finally:
                _close_quietly(proc.stdout)
            lines.put(None)

        out_thread = threading.Thread(target=_reader, daemon=True)
        out_thread.start()
        log = _open_log(log_path) if log_path else None
        try:
            gone_at = None
            while True:
                try:
                    raw = _interruptible_get(lines)
                except queue.Empty:
                    if proc.poll() is None:
                        continue
                    gone_at = gone_at or time.monotonic()  # the child is gone but its stdout is still open
                    if time.monotonic() - gone_at >= PIPE_GRACE_S:
                        break
                    continue
                if raw is None:
                    break
                line = _decode(raw)
                out_lines.append(line)
                if log:
                    log.write(redact(line))  # tool output can echo an index URL with its credentials
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
        if err_thread:  # one grace in all: what the stdout wait already spent is not granted again
            spent = time.monotonic() - gone_at if gone_at is not None else 0.0
            err_thread.join(timeout=max(0.0, PIPE_GRACE_S - spent))
        # Each reader closes its own pipe when it ends: closing a pipe another thread is blocked reading
        # would block us too, so a pipe a stray descendant still holds stays with its daemon reader.
        return Completed(
            argv,
            None if timed_out.is_set() else proc.returncode,
            "".join(out_lines),
            _decode(b"".join(err_chunks)),
            time.monotonic() - start,
            timed_out=timed_out.is_set(),
        )


def _interruptible_get(lines: queue.Queue):
    """`lines.get(timeout=0.1)`, where a Ctrl-C stays a KeyboardInterrupt. A KeyboardInterrupt raised
    inside the queue's Condition wait can leave its lock released, and the `with` that leaves the wait
    then raises "RuntimeError: release unlocked lock" in place of the interrupt (seen with two Ctrl-C
    in a row): that was reported as an internal error (exit 70) instead of interrupted (130)."""
    try:
        return lines.get(timeout=0.1)
    except RuntimeError as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise exc.__context__ from None
        raise


def _open_log(path: str):
    """Append to a tool log; a log this call creates is private (0600): it may hold paths and URLs."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    return open(fd, "a", encoding="utf-8", errors="replace")


def _close_quietly(pipe) -> None:
    if pipe is not None:
        try:
            pipe.close()
        except (OSError, ValueError):
            pass


def _close_pipes(proc: subprocess.Popen) -> None:
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        _close_quietly(pipe)


def _decode(data: bytes | None) -> str:
    return data.decode("utf-8", errors="replace") if data else ""
