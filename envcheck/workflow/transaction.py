"""Undo in one place: what a run changed is registered here and rolled back in reverse on failure.

    tx = Transaction(log_path)
    backup = tx.move_aside(old_env, kind="env")        # --force: rename it next to itself
    tx.created(new_env, remover, kind="env")           # how to remove what this run makes
    ... on failure: report = tx.rollback()             # never raises; report is checked on disk
    ... on success: tx.commit()                        # drops the backups

`interrupts_roll_back()` is the one place where SIGTERM and SIGHUP become KeyboardInterrupt (Ctrl-C),
so a cancelled CI job or a closed terminal undoes like Ctrl-C instead of leaving a half-made env.

Issue 14 rules:
- a rollback cannot be interrupted: while it runs SIGINT, SIGTERM and SIGHUP are only recorded
  (`deferred_signals()`), and the caller ends with exit 130 once the undo is complete;
- backups live beside what they back up (same file system, so moving aside and back is a rename),
  never under /tmp: an env in `PATH.envcheck-backup-PID`, a kernel in a hidden
  `.envcheck-backup-PID-*` directory next to the kernels directory (outside it, so Jupyter never
  lists a backup as a kernel);
- "restored" is reported only when the original object (same device and inode) is back at its path.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from envcheck.workflow import logs


def remove_path(path: str) -> None:
    """Delete a file, link or directory tree (missing is fine)."""
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def sibling_backup_path(path: str) -> str:
    """PATH.envcheck-backup-PID[-N]: same directory, so moving aside is a rename."""
    base = os.path.normpath(path)
    candidate = f"{base}.envcheck-backup-{os.getpid()}"
    n = 0
    while os.path.lexists(candidate):
        n += 1
        candidate = f"{base}.envcheck-backup-{os.getpid()}-{n}"
    return candidate


@dataclass(frozen=True)
class Undone:
    """What a rollback did, as found on disk afterwards. Each entry is (kind, path)."""

    removed: tuple[tuple[str, str], ...] = ()
    restored: tuple[tuple[str, str], ...] = ()
    failed: tuple[str, ...] = ()  # undo actions that raised (described)

    def paths(self, what: str, kind: str | None = None) -> list[str]:
        return [p for k, p in getattr(self, what) if kind is None or k == kind]


@dataclass
class _Action:
    kind: str
    description: str
    undo: Callable[[], Iterable[str]]  # returns the paths it removed
    restores: str | None = None  # the original path a restore puts back
    commit: Callable[[], None] | None = None
    identity: tuple[int, int] | None = None  # (st_dev, st_ino) of what `restores` held before the run


@dataclass
class Transaction:
    log_path: str | None = None
    _actions: list[_Action] = field(default_factory=list)
    _done: bool = False
    _report: Undone | None = None

    # --- registering ---------------------------------------------------------------------------
    def on_rollback(self, kind: str, description: str, undo: Callable[[], Iterable[str]]) -> None:
        """Register an undo action; it returns the paths it removed (verified absent afterwards)."""
        self._actions.append(_Action(kind, description, undo))

    def created(self, path: str, kind: str) -> None:
        """`path` is made by this run: remove it on rollback."""

        def undo() -> list[str]:
            if os.path.lexists(path):
                remove_path(path)
                return [path]
            return []

        self.on_rollback(kind, f"remove {path}", undo)

    def move_aside(self, path: str, kind: str) -> str:
        """Rename `path` next to itself; rollback puts it back (after removing what replaced it)."""
        identity = _identity(path)
        backup = sibling_backup_path(path)
        os.rename(path, backup)
        logs.append(self.log_path, f"# moved the existing {kind} {path} aside to {backup}")
        self._register_backup(path, backup, kind, lambda: remove_path(backup), identity)
        return backup

    def stash(self, path: str, kind: str) -> str:
        """Move `path` (a kernel directory, or a link) into a hidden backup directory beside its PARENT
        directory: `share/jupyter/kernels/NAME` goes to `share/jupyter/.envcheck-backup-PID-xxxx/NAME`.
        Same file system, so it is a rename; outside the kernels directory, so Jupyter never sees it."""
        import tempfile

        identity = _identity(path)
        kernels_dir = os.path.dirname(os.path.abspath(os.path.normpath(path)))
        try:
            root = tempfile.mkdtemp(prefix=f".envcheck-backup-{os.getpid()}-", dir=os.path.dirname(kernels_dir))
        except OSError:  # the data dir is not writable (a system kernels/ we may edit): inside kernels/, where
            # Jupyter still never lists it (kernels/X/kernel.json is a kernel; kernels/X/NAME/kernel.json is not)
            root = tempfile.mkdtemp(prefix=f".envcheck-backup-{os.getpid()}-", dir=kernels_dir)
        backup = os.path.join(root, os.path.basename(os.path.normpath(path)))
        try:
            os.rename(path, backup)
        except OSError as exc:
            import errno

            if exc.errno != errno.EXDEV:  # kernels/ is a mount or a link to another file system: copy
                shutil.rmtree(root, ignore_errors=True)
                raise
            shutil.move(path, backup)
        logs.append(self.log_path, f"# stashed the existing {kind} {path} in {backup}")
        self._register_backup(path, backup, kind, lambda: shutil.rmtree(root, ignore_errors=True), identity)
        return backup

    def _register_backup(self, path: str, backup: str, kind: str, drop: Callable[[], None],
                         identity: tuple[int, int] | None = None) -> None:
        def undo() -> list[str]:
            if os.path.lexists(backup):
                failed = None
                if os.path.lexists(path):  # what replaced it goes aside first: the user's copy is back at once
                    failed = sibling_backup_path(path).replace(".envcheck-backup-", ".envcheck-failed-", 1)
                    os.rename(path, failed)
                try:
                    os.rename(backup, path)
                except OSError:
                    shutil.move(backup, path)
                drop()
                logs.append(self.log_path, f"# restored {path} from {backup}")
                if failed is not None:
                    remove_path(failed)
            return []

        def commit() -> None:
            if os.path.lexists(backup):
                drop()
                logs.append(self.log_path, f"# removed the backup {backup} of the replaced {kind}")

        self._actions.append(_Action(kind, f"restore {path}", undo, restores=path, commit=commit, identity=identity))

    # --- ending --------------------------------------------------------------------------------
    def rollback(self) -> Undone:
        """Undo everything in reverse order. Never raises (the original failure is what gets reported);
        idempotent: a second call returns the first report."""
        if self._done:
            return self._report or Undone()
        removed, restored, failed = [], [], []
        with _signals_deferred():  # a second Ctrl-C / SIGTERM / SIGHUP waits until the undo is complete
            self._done = True  # only once signals are held: an interrupt before here leaves it to be undone
            for action in reversed(self._actions):
                try:
                    paths = list(action.undo() or ())
                except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - keep undoing the rest
                    failed.append(f"{action.description}: {exc}")
                    continue
                removed += [(action.kind, p) for p in paths if not os.path.lexists(p)]
                if action.restores and _is_back(action.restores, action.identity):
                    restored.append((action.kind, action.restores))
                elif action.restores:
                    failed.append(f"{action.description}: not back at {action.restores}")
        self._report = Undone(tuple(removed), tuple(restored), tuple(failed))
        return self._report

    def commit(self) -> None:
        """Keep what was made; drop the backups of what it replaced."""
        if self._done:
            return
        self._done = True
        for action in self._actions:
            if action.commit is not None:
                try:
                    action.commit()
                except OSError:
                    pass

    def report(self) -> Undone:
        return self._report or Undone()


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _is_back(path: str, identity: tuple[int, int] | None) -> bool:
    """The original object is at `path` again: the same (device, inode) when it was recorded (a rename
    keeps both), else at least something is there."""
    now = _identity(path)
    if now is None:
        return False
    return identity is None or now == identity or not _same_fs(path, identity)


def _same_fs(path: str, identity: tuple[int, int]) -> bool:
    """False when a restore had to copy across file systems (then the inode cannot match)."""
    try:
        return os.lstat(path).st_dev == identity[0]
    except OSError:
        return True


_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
_deferred: list[int] = []  # signals that arrived during a rollback (this process)


def deferred_signals() -> tuple[int, ...]:
    """The signals that arrived while a rollback ran and were held until it finished (the CLI exits
    130 when there is one)."""
    return tuple(_deferred)


def reset_deferred_signals() -> None:
    """Forget deferred signals (the CLI calls it when a command starts)."""
    _deferred.clear()


_interrupt = {"raised": False, "depth": 0}  # within interrupts_roll_back: has a signal raised already?


def _raise_interrupt(signum, frame):  # pragma: no cover - exercised through a real signal
    """The first signal raises KeyboardInterrupt (the running step stops, the undo runs). Any later one
    is held like a signal during the undo: raised again in the few bytecodes between the failure and
    the undo (an `except` block rendering the failed step), it would skip the undo and leave the
    user's replaced env in its backup."""
    if _interrupt["raised"]:
        _deferred.append(signum)
        return
    _interrupt["raised"] = True
    raise KeyboardInterrupt


def _defer(signum, frame):  # pragma: no cover - exercised through a real signal
    _deferred.append(signum)


def _swap_handlers(handler) -> dict:
    """Set `handler` for SIGINT, SIGTERM and SIGHUP; the previous handlers (empty off the main thread,
    where Python cannot set handlers)."""
    previous = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for name in _SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            current = signal.getsignal(sig)
            if current is signal.SIG_IGN and handler is _raise_interrupt:
                continue  # `nohup envcheck ...` ignores SIGHUP on purpose: keep it so
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError, TypeError):
            pass
    return previous


def _restore_handlers(previous: dict) -> None:
    for sig, handler in previous.items():
        try:
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        except (ValueError, OSError, TypeError):
            pass


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    previous = _swap_handlers(_defer)
    try:
        yield
    finally:
        _restore_handlers(previous)


@contextlib.contextmanager
def interrupts_roll_back() -> Iterator[None]:
    """Within the block SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt, like Ctrl-C, so the caller's
    rollback runs (and the runner kills the running tool's process group on the way out). A signal
    the process ignores (SIGHUP under nohup) stays ignored. A no-op outside the main thread."""
    if _interrupt["depth"] == 0:
        _interrupt["raised"] = False
    _interrupt["depth"] += 1
    previous = _swap_handlers(_raise_interrupt)
    try:
        yield
    finally:
        _interrupt["depth"] -= 1
        _restore_handlers(previous)
