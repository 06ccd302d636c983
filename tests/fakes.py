"""A fake Runner shared by the command-logic tests: no subprocess, every argv recorded.

    runner = FakeRunner()
    runner.on("ipykernel install", stdout="Installed kernelspec t in /k/t", effect=make_kernel_json)
    runner.on(lambda argv: argv[0].endswith("ls"), returncode=2, stderr="ls: invalid option")

A rule matches by a callable on the argv tuple, or by a substring of the space-joined argv. The first
matching rule answers; without one the call succeeds with no output. `effect(argv)` runs before the
answer (e.g. create the files the real tool would). `stream` also writes the output into log_path.
"""
from __future__ import annotations

from typing import Callable, Union

from envcheck.runner import Completed, Runner

Match = Union[str, Callable[[tuple], bool]]


class FakeRunner(Runner):
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.rules: list[tuple[Match, dict, Callable | None]] = []

    def on(self, match: Match, *, effect: Callable | None = None, **completed) -> "FakeRunner":
        self.rules.append((match, completed, effect))
        return self

    def _answer(self, argv) -> Completed:
        argv = tuple(str(a) for a in argv)
        self.calls.append(argv)
        for match, completed, effect in self.rules:
            hit = match(argv) if callable(match) else match in " ".join(argv)
            if hit:
                if effect is not None:
                    effect(argv)
                fields = {"returncode": 0, **completed}
                return Completed(argv, **fields)
        return Completed(argv, 0)

    def run(self, argv, **kwargs) -> Completed:
        return self._answer(argv)

    def stream(self, argv, *, on_line=None, log_path=None, **kwargs) -> Completed:
        done = self._answer(argv)
        text = done.stdout + done.stderr
        if log_path and text:
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(text if text.endswith("\n") else text + "\n")
        for line in text.splitlines():
            if on_line is not None:
                on_line(line)
        return done

    def ran(self, needle: str) -> list[tuple[str, ...]]:
        return [c for c in self.calls if needle in " ".join(c)]


def pep503_page(doc: dict) -> str:
    """DERIVED, not a capture: the PEP 503 page an HTML-only mirror serves for the same files as a recorded
    PEP 691 answer (anchor text = file name, data-requires-python HTML-escaped, data-yanked with its reason)."""
    import html

    rows = []
    for f in doc["files"]:
        attrs = f' href="../../files/{html.escape(f["filename"])}#sha256={f["hashes"]["sha256"]}"'
        if f.get("requires-python"):
            attrs += f' data-requires-python="{html.escape(f["requires-python"])}"'
        if f.get("yanked"):
            attrs += f' data-yanked="{html.escape(f["yanked"]) if isinstance(f["yanked"], str) else ""}"'
        rows.append(f"<a{attrs}>{html.escape(f['filename'])}</a><br/>")
    return "<!DOCTYPE html><html><body>\n" + "\n".join(rows) + "\n</body></html>"
