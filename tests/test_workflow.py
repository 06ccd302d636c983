"""envcheck/workflow/: the machinery under create, kernel add and install --execute. Pure or tmp_path
only, no subprocess: the whole file runs in well under a second."""
from __future__ import annotations

import io
import os
import signal

import pytest

from envcheck.errors import EnvcheckError, ExitCode
from envcheck.runner import Completed
from envcheck.workflow import events as ev
from envcheck.workflow import logs
from envcheck.workflow.consent import require_consent
from envcheck.workflow.hints import suggest_fix
from envcheck.workflow.steps import StepRunner
from envcheck.workflow.timing import TimedRunner, timing_split
from envcheck.workflow.transaction import Transaction, interrupts_roll_back

# --- logs -------------------------------------------------------------------------------------------


def test_log_dir_semantics(tmp_path):
    assert logs.log_dir({"ENVCHECK_LOG_DIR": str(tmp_path / "l"), "HOME": "/h"}) == str(tmp_path / "l")
    assert logs.log_dir({"HOME": "/h"}) == "/h/.envcheck/logs"
    path = logs.new_log_path("create", "my env/../x", {"ENVCHECK_LOG_DIR": str(tmp_path / "l")})
    assert os.path.dirname(path) == str(tmp_path / "l") and os.path.isdir(os.path.dirname(path))
    assert os.path.basename(path).startswith("create-my_env_.._x-") and path.endswith(f"-{os.getpid()}.log")


def test_append_tail_and_step_tail(tmp_path):
    log = str(tmp_path / "x.log")
    for line in ("$ uv venv", "ok", "$ pip install torch", "ERROR: nope", "# exit status 1"):
        logs.append(log, line)
    assert logs.tail(log, 2) == ["ERROR: nope", "# exit status 1"]
    assert logs.step_tail(log) == ["$ pip install torch", "ERROR: nope", "# exit status 1"]
    assert logs.tail(None) == [] and logs.tail(str(tmp_path / "missing")) == []
    logs.append(str(tmp_path / "no-such-dir" / "x.log"), "never raises")


# --- transaction --------------------------------------------------------------------------------------


def _tree(path, marker):
    path.mkdir(parents=True)
    (path / "marker").write_text(marker)


def test_rollback_removes_what_was_created_and_puts_back_what_was_moved_aside(tmp_path):
    old = tmp_path / "envs" / "t"
    _tree(old, "old")
    tx = Transaction(str(tmp_path / "log"))
    backup = tx.move_aside(str(old), "env")
    assert not old.exists() and os.path.dirname(backup) == str(old.parent)
    tx.created(str(old), "env")
    _tree(old, "new")
    other = tmp_path / "kernel"
    tx.created(str(other), "kernel")
    _tree(other, "k")
    report = tx.rollback()
    assert (old / "marker").read_text() == "old" and not other.exists() and not os.path.exists(backup)
    assert report.paths("restored", "env") == [str(old)] and report.paths("removed", "kernel") == [str(other)]
    assert tx.rollback() is report  # idempotent
    assert "# restored" in (tmp_path / "log").read_text()


def test_commit_keeps_the_new_and_drops_the_backup(tmp_path):
    old = tmp_path / "t"
    _tree(old, "old")
    tx = Transaction()
    backup = tx.move_aside(str(old), "env")
    _tree(old, "new")
    tx.commit()
    assert (old / "marker").read_text() == "new" and not os.path.exists(backup)
    assert tx.rollback().removed == ()  # after commit nothing is undone


def test_stash_restores_across_directories(tmp_path):
    k = tmp_path / "kernels" / "t"
    _tree(k, "old")
    tx = Transaction()
    tx.stash(str(k), "kernel")
    tx.created(str(k), "kernel")
    _tree(k, "new")
    report = tx.rollback()
    assert (k / "marker").read_text() == "old" and report.paths("restored", "kernel") == [str(k)]


def test_rollback_never_raises_and_reports_what_failed(tmp_path):
    tx = Transaction()
    tx.created(str(tmp_path / "a"), "env")
    tx.on_rollback("env", "a broken undo", lambda: (_ for _ in ()).throw(OSError("disk gone")))
    (tmp_path / "a").mkdir()
    report = tx.rollback()
    assert report.failed == ("a broken undo: disk gone",) and report.paths("removed") == [str(tmp_path / "a")]


def test_removal_is_checked_on_disk(tmp_path):
    tx = Transaction()
    tx.on_rollback("env", "claims a removal it did not do", lambda: [str(tmp_path)])
    assert tx.rollback().removed == ()  # tmp_path still exists: not reported as removed


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_become_keyboard_interrupt_inside_the_block(sig):
    before = signal.getsignal(sig)
    with pytest.raises(KeyboardInterrupt):
        with interrupts_roll_back():
            os.kill(os.getpid(), sig)
            signal.sigtimedwait([], 0.5) if hasattr(signal, "sigtimedwait") else None
    assert signal.getsignal(sig) == before


# --- consent ---------------------------------------------------------------------------------------------


def test_consent():
    require_consent("q?", yes=True, confirm=None, refusal="do it")
    require_consent("q?", yes=False, confirm=lambda q: True, refusal="do it")
    with pytest.raises(EnvcheckError) as info:
        require_consent("q?", yes=False, confirm=None, refusal="do it")
    assert info.value.code == "confirmation-required" and info.value.exit_code == ExitCode.USAGE
    assert info.value.message == "refusing to do it without confirmation: stdin is not a terminal"
    with pytest.raises(EnvcheckError) as info:
        require_consent("q?", yes=False, confirm=lambda q: False, refusal="do it")
    assert info.value.code == "cancelled"


# --- timing and the step runner -------------------------------------------------------------------------


class _Clockless:
    def run(self, argv, **kw):
        return Completed(tuple(argv), 0, duration_s=2.0)

    def stream(self, argv, on_line=None, **kw):
        on_line("Collecting torch")
        on_line("   ")
        return Completed(tuple(argv), 0, duration_s=3.0)


def test_step_runner_emits_typed_events_and_books_tool_time():
    rec = ev.Recorder()
    timed = TimedRunner(_Clockless(), on_line=lambda line: rec.emit(ev.ToolLine(line)))
    steps = StepRunner([("create", "create", ["uv venv"]), ("install", "install", ["pip install"])], timed, rec)

    def create(r):
        timed.run(["uv", "venv"])
        return "ok", "made"

    def install(r):
        timed.stream(["pip", "install"])
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        steps.execute([("create", create), ("install", install)])
    failed = steps.abort(interrupted=False)
    assert failed.id == "install" and timed.tool_s == {"create": 2.0, "install": 3.0}
    kinds = [type(e).__name__ for e in rec.events]
    assert kinds == ["StepStarted", "StepEnded", "StepStarted", "ToolLine", "StepEnded"]
    assert rec.events[1].status == "ok" and rec.events[1].note == "made" and rec.events[-1].status == "fail"
    assert [d["status"] for d in steps.to_dicts()] == ["ok", "fail"]


def test_timing_split():
    t = timing_split(10.0, [{"id": "create", "wall_s": 2.0, "tool_s": 3.0}, {"id": "verify", "wall_s": 5, "tool_s": 4}])
    assert t["by_step"] == {"create": 2.0, "verify": 4} and t["envcheck_s"] == 4.0 and t["verify_s"] == 4


def test_hints():
    assert "free disk space" in suggest_fix(["OSError: [Errno 28] No space left on device"])
    assert "timed out" in suggest_fix([], Completed(("pip",), None, timed_out=True))


# --- render/env.py draws the events without parsing strings ---------------------------------------------


def test_line_sink_renders_each_event_type():
    from envcheck.render.env import LineSink

    out = io.StringIO()
    sink = LineSink(out)
    for event in (ev.LogOpened("/l/x.log"), ev.CommandStarted("uv venv /e"), ev.ToolLine("noise"),
                  ev.Note("moved aside"), ev.Warn("careful"), ev.FailureTail(("E: no",))):
        sink.emit(event)
    assert out.getvalue().splitlines() == [
        "envcheck: log: /l/x.log", "envcheck: running: uv venv /e", "envcheck: moved aside",
        "envcheck: warning: careful", "envcheck:   | E: no",
    ]


def test_layering_no_private_imports_and_workflow_below_commands():
    """workflow/ imports nothing from commands/; no module imports another's _private name; commands/
    modules import no other command except install --execute (install_execute.py and its plan,
    install_plan.py: install.decide, verify.run)."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent / "envcheck"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("envcheck"):
                names = [a.name for a in node.names]
                assert not [n for n in names if n.startswith("_") and not n.startswith("__")], (rel, names)
                if rel.startswith("workflow/"):
                    assert not node.module.startswith("envcheck.commands"), (rel, node.module)
                if rel.startswith("commands/") and rel not in ("commands/install_execute.py", "commands/install_plan.py"):
                    assert not node.module.startswith("envcheck.commands"), (rel, node.module)
                    assert not (node.module == "envcheck" and "commands" in names), rel
