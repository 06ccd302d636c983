"""The machinery shared by every command that changes the machine (create, kernel add, install --execute).

One small module per concern; none imports from envcheck.commands:
- logs:        where tool logs go (ENVCHECK_LOG_DIR), append a line, read the tail
- events:      typed progress events (frozen dataclasses) and the Sink that receives them
- transaction: undo in one place (move aside / stash / created paths; rollback, commit, report),
               and the one mapping of Ctrl-C / SIGTERM / SIGHUP to a rollback
- consent:     the yes/no question, refused without a terminal unless --yes
- timing:      envcheck's own time vs the tools' time (TimedRunner, timing_split)
- steps:       run one logged command, and a step runner in the shape of nox's workflow
- hints:       a failed tool's output -> the fix to suggest
"""
