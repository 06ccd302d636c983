"""One run per env (and per kernel) at a time (issue 14).

    with hold([lock_path_for(prefix)], "env"):
        plan = plan_create(...)     # the "absent" check happens under the lock
        execute_create(plan, ...)   # ... and so does everything that changes the disk

The lock is an `fcntl.flock` on a small file BESIDE the target, never inside it:
`<parent>/.<name>.envcheck-lock` (an env at ~/.envcheck/envs/torch locks ~/.envcheck/envs/.torch.envcheck-lock;
a kernel at .../kernels/torch locks .../kernels/.torch.envcheck-lock, a file, which Jupyter ignores: a
kernel is a directory holding kernel.json). The holder writes its pid, command line and start time
into the file. A second run waits up to WAIT_S, then exits 2 (`env-locked`) naming the holder.
The kernel releases a flock when its holder dies, so a killed run never leaves a stale lock; the
file is removed by the holder on the way out (a waiter that locked a removed file retries).
Where flock does not exist (Windows) the lock is a no-op.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Iterable, Iterator

from envcheck.errors import EnvcheckError, ExitCode, Msg

WAIT_S = 2.0
LOCK_SUFFIX = ".envcheck-lock"
_POLL_S = 0.1


def lock_path_for(target: str) -> str:
    """`<parent>/.<name>.envcheck-lock` for `target` (an env prefix or a kernel directory)."""
    target = os.path.abspath(os.path.normpath(target))
    return os.path.join(os.path.dirname(target), f".{os.path.basename(target)}{LOCK_SUFFIX}")


def _holder_text() -> str:
    argv = " ".join(sys.argv) if sys.argv else "?"
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return f"pid {os.getpid()}\ncommand {argv[:300]}\nstarted {started}\n"


def read_holder(path: str) -> str:
    """`pid N, started T: COMMAND` from a lock file ('' when unreadable)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(4096)
    except OSError:
        return ""
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        fields[key] = value.strip()
    if not fields.get("pid"):
        return ""
    return f"pid {fields['pid']}, started {fields.get('started', '?')}: {fields.get('command', '?')}"


def _try_lock(path: str) -> int | None:
    """An fd holding an exclusive flock on `path`, or None when another process holds it."""
    import fcntl

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except OSError:
            os.close(fd)
            raise
        try:  # the holder before us removed the file after we opened it: lock the new one
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


@contextlib.contextmanager
def hold(paths: Iterable[str], what: str = "env", wait_s: float | None = None) -> Iterator[None]:
    """Hold exclusive locks on `paths` (sorted, so two runs never wait on each other crosswise) for
    the block. Exit 2 (`env-locked` / `kernel-locked`) naming the holder when one stays taken after
    `wait_s` (default WAIT_S, read at call time)."""
    wait_s = WAIT_S if wait_s is None else wait_s
    try:
        import fcntl  # noqa: F401
    except ImportError:  # Windows: no flock
        yield
        return
    held: list[tuple[str, int]] = []
    made: list[str] = []  # parent directories this lock created: removed again when left empty
    try:
        for path in sorted(set(os.path.abspath(p) for p in paths)):
            made += _make_parents(os.path.dirname(path))
            deadline = time.monotonic() + wait_s
            while True:
                fd = _try_lock(path)
                if fd is not None:
                    break
                if time.monotonic() >= deadline:
                    holder = read_holder(path) or "another process"
                    target = os.path.join(os.path.dirname(path), os.path.basename(path)[1:-len(LOCK_SUFFIX)])
                    raise EnvcheckError(
                        Msg("another envcheck run is changing the {what} {target} ({holder})", what=what, target=target, holder=holder),
                        hint="wait for it to finish and run this again (its lock is " + path + ")",
                        exit_code=ExitCode.USAGE,
                        code=f"{what}-locked",
                        data={"lock": path, "holder": holder},
                    )
                time.sleep(_POLL_S)
            os.ftruncate(fd, 0)
            os.write(fd, _holder_text().encode("utf-8", errors="replace"))
            held.append((path, fd))
        yield
    finally:
        for path, fd in reversed(held):
            with contextlib.suppress(OSError):
                os.unlink(path)  # while still holding it: a waiter that opened it retries on the new file
            with contextlib.suppress(OSError):
                os.close(fd)
        for directory in sorted(made, key=len, reverse=True):  # a refused or failed run leaves no trace
            with contextlib.suppress(OSError):
                os.rmdir(directory)


def _make_parents(directory: str) -> list[str]:
    """makedirs, returning the directories it created (deepest last)."""
    missing = []
    d = directory
    while d and not os.path.isdir(d):
        missing.append(d)
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    os.makedirs(directory, exist_ok=True)
    return list(reversed(missing))
