"""Undo in one place: what a run changed is registered here and rolled back in reverse on failure.

    tx = Transaction(log_path)
    backup = tx.move_aside(old_env, kind="env")        # --force: rename it next to itself
    tx.created(new_env, remover, kind="env")           # how to remove what this run makes
    ... on failure: report = tx.rollback()             # never raises; report is checked on disk
    ... on success: tx.commit()                        # drops the backups

`interrupts_roll_back()` is the one place where SIGTERM and SIGHUP become KeyboardInterrupt (Ctrl-C),
so a cancelled CI job or a closed terminal undoes like Ctrl-C instead of leaving a half-made env.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
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
        backup = sibling_backup_path(path)
        os.rename(path, backup)
        logs.append(self.log_path, f"# moved the existing {kind} {path} aside to {backup}")
        self._register_backup(path, backup, kind, lambda: remove_path(backup))
        return backup

    def stash(self, path: str, kind: str) -> str:
        """Move `path` into a private temporary directory (another file system is fine)."""
        root = tempfile.mkdtemp(prefix=f"envcheck-{kind}-backup-")
        backup = os.path.join(root, os.path.basename(os.path.normpath(path)))
        shutil.move(path, backup)
        logs.append(self.log_path, f"# stashed the existing {kind} {path} in {backup}")
        self._register_backup(path, backup, kind, lambda: shutil.rmtree(root, ignore_errors=True))
        return backup

    def _register_backup(self, path: str, backup: str, kind: str, drop: Callable[[], None]) -> None:
        def undo() -> list[str]:
            if os.path.lexists(backup):
                if os.path.lexists(path):
                    remove_path(path)
                shutil.move(backup, path)
                drop()
                logs.append(self.log_path, f"# restored {path} from {backup}")
            return []

        def commit() -> None:
            if os.path.lexists(backup):
                drop()
                logs.append(self.log_path, f"# removed the backup {backup} of the replaced {kind}")

        self._actions.append(_Action(kind, f"restore {path}", undo, restores=path, commit=commit))

    # --- ending --------------------------------------------------------------------------------
    def rollback(self) -> Undone:
        """Undo everything in reverse order. Never raises (the original failure is what gets reported);
        idempotent: a second call returns the first report."""
        if self._done:
            return self._report or Undone()
        self._done = True
        removed, restored, failed = [], [], []
        for action in reversed(self._actions):
            try:
                paths = list(action.undo() or ())
            except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - keep undoing the rest
                failed.append(f"{action.description}: {exc}")
                continue
            removed += [(action.kind, p) for p in paths if not os.path.lexists(p)]
            if action.restores and os.path.lexists(action.restores):
                restored.append((action.kind, action.restores))
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


def _raise_interrupt(signum, frame):  # pragma: no cover - exercised through a real signal
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_roll_back() -> Iterator[None]:
    """Within the block SIGTERM and SIGHUP raise KeyboardInterrupt, like Ctrl-C, so the caller's
    rollback runs. A no-op outside the main thread (signal handlers can only be set there)."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            sig = getattr(signal, name, None)
            if sig is None:
                continue
            try:
                previous[sig] = signal.signal(sig, _raise_interrupt)
            except (ValueError, OSError):
                pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
