"""Shared pieces of the human output: one console factory, and text that wraps for people.

Layout rules (issue 13) every renderer follows:
- a path or a command is never broken inside a word: text wraps at spaces only, and a token longer than the
  line (a long path, a URL) goes on a line of its own and overflows it, whole;
- wrapped bullets and labelled values keep a hanging indent (`Hanging`);
- commands printed for copy-paste are one logical line (`console.print(cmd, soft_wrap=True)`);
- every human output ends with a newline.

rich is imported lazily: `envcheck --help` must stay fast.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache

# A token is a run of non-space characters, except that each Chinese/Japanese character (two columns) is a
# token of its own, with the closing punctuation that must not start a line: Chinese has no spaces, so it
# wraps between characters. Text without such characters splits exactly as `\S+\s*`.
_WIDE = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_CLOSING = "，。、；：？！）》」』】”’"
_TOKEN_PATTERN = rf"[{_WIDE}][{_CLOSING}]*\s*|[^\s{_WIDE}]+[{_CLOSING}]*\s*"


@lru_cache(maxsize=1)
def _token():
    """The token pattern, compiled on first use (~4 ms: only the human output wraps; `--json` never does)."""
    return re.compile(_TOKEN_PATTERN)


def make_console(stderr: bool = False, **kwargs):
    """The one place the human output's rich Console is made (stdout, or stderr for progress).

    Width: COLUMNS when it is a usable number (rich reads it), else the terminal's, else 80 when piped.
    A COLUMNS that is not a number >= 20 is ignored rather than trusted. No highlighting of numbers/paths.
    """
    from rich.console import Console

    kwargs.setdefault("highlight", False)
    cols = os.environ.get("COLUMNS")
    if cols is not None and "width" not in kwargs and not (cols.isdigit() and int(cols) >= 20):
        kwargs["_environ"] = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return Console(stderr=stderr, **kwargs)


def _breaks(plain: str, first_avail: int, rest_avail: int) -> list[int]:
    """Offsets where `plain` (one paragraph) is broken: at spaces only, never inside a token."""
    from rich.cells import cell_len

    breaks: list[int] = []
    stripped = plain.lstrip(" ")
    pos, avail = cell_len(plain[: len(plain) - len(stripped)]), first_avail
    for m in _token().finditer(plain):
        word = m.group().rstrip()
        if pos and pos + cell_len(word) > avail:
            breaks.append(m.start())
            pos, avail = 0, rest_avail
        pos += cell_len(m.group())
    return breaks


def wrap_hanging(first, body, width: int, indent: int | None = None) -> list:
    """`first` + `body` wrapped to `width` columns, continuation lines indented by `indent` (default: the
    width of `first`), as a list of rich Texts (no newlines inside). Pure apart from rich."""
    from rich.cells import cell_len
    from rich.text import Text

    from envcheck.render.safe import visible_lines

    # a plain str is text, never markup, with controls made visible and URL secrets masked (issue 14)
    first = first if isinstance(first, Text) else Text(visible_lines(first))
    body = body if isinstance(body, Text) else Text(visible_lines(body))
    indent = cell_len(first.plain) if indent is None else indent
    out = []
    for n, para in enumerate(body.split("\n", allow_blank=True)):
        lead = first if n == 0 else Text(" " * indent)
        avail_first = max(1, width - cell_len(lead.plain))
        avail_rest = max(1, width - indent)
        pieces = para.divide(_breaks(para.plain, avail_first, avail_rest)) if para.plain else [para]
        for i, piece in enumerate(pieces):
            piece.rstrip()
            line = (lead if i == 0 else Text(" " * indent)).copy()
            line.append_text(piece)
            out.append(line)
    return out


class Hanging:
    """A rich renderable: `first` then `body`, wrapped at spaces to the width it is given (a console's, a
    panel's inside), continuation lines indented under the body. Tokens are never split (see module doc)."""

    def __init__(self, first, body, indent: int | None = None, style: str = "") -> None:
        self.first, self.body, self.indent, self.style = first, body, indent, style

    def __rich_console__(self, console, options):
        for line in wrap_hanging(self.first, self.body, options.max_width, self.indent):
            line.no_wrap, line.overflow = True, "ignore"
            if self.style:
                line.stylize(self.style)
            yield line

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        lines = wrap_hanging(self.first, self.body, 10 ** 6, self.indent)
        widest = max((line.cell_len for line in lines), default=0)
        return Measurement(min(widest, options.max_width), min(widest, options.max_width))


class Block:
    """A Text-like builder (`append(text, style)`) that can also hold hanging-indent bullets; renders as
    the pieces in order. Each piece's trailing newline is the line break between pieces."""

    def __init__(self) -> None:
        self.parts: list = []

    def append(self, text, style=None) -> "Block":
        from rich.text import Text

        if not self.parts or not isinstance(self.parts[-1], Text):
            self.parts.append(Text())
        if isinstance(text, str):  # text, never markup; controls visible, URL secrets masked (issue 14)
            from envcheck.render.safe import visible_lines

            text = visible_lines(text)
        self.parts[-1].append(text, style)
        return self

    def bullet(self, text, mark: str = "  • ", style: str = "") -> "Block":
        """One bullet; wrapped lines align under its text, not under the mark."""
        self.parts.append(Hanging(mark, text, style=style))
        return self

    def add(self, renderable) -> "Block":
        self.parts.append(renderable)
        return self

    def _pieces(self):
        from rich.text import Text

        for part in self.parts:
            if isinstance(part, Text):
                part = part.copy()
                if part.plain.endswith("\n"):
                    part.right_crop(1)
            yield part

    def __rich_console__(self, console, options):
        yield from self._pieces()

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        return Measurement.get(console, options, _Group(list(self._pieces())))


def _Group(items):
    from rich.console import Group

    return Group(*items)


class LiveLine:
    """A transient one-line progress on a terminal: spinner, ELAPSED TIME FIRST, the description, the tool's
    latest output line. Both texts are cut to the width beforehand, so the time is never what gets cut."""

    def __init__(self, console, description: str) -> None:
        from rich.cells import cell_len
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.table import Column

        from envcheck.render.safe import visible

        room = console.width - 13  # spinner, elapsed "0:00:00" and the spaces between columns
        desc = fit_cells(visible(description), max(20, room - 30))
        self.line_room = room - cell_len(desc) - 1
        self.progress = Progress(SpinnerColumn(), TimeElapsedColumn(),
                                 TextColumn("{task.description}", markup=False, table_column=Column(no_wrap=True)),
                                 TextColumn("[dim]{task.fields[line]}", markup=True, table_column=Column(no_wrap=True)),
                                 console=console, transient=True)
        self.progress.start()
        self.task = self.progress.add_task(desc, line="")

    def line(self, text: str) -> None:
        from rich.markup import escape

        from envcheck.render.safe import visible

        text = visible(text.strip())
        self.progress.update(self.task, line=escape(fit_cells(text, self.line_room)) if self.line_room >= 10 else "")

    def restart(self, description: str) -> None:
        """A new task on the same line: the elapsed time starts again from zero."""
        from envcheck.render.safe import visible

        self.progress.reset(self.task, description=fit_cells(visible(description), max(20, self.progress.console.width - 43)),
                            line="")

    def stop(self) -> None:
        self.progress.stop()


def fit_cells(text: str, width: int) -> str:
    """`text` cut to `width` cells with an ellipsis (live lines only; printed lines are never cut)."""
    from rich.cells import cell_len, set_cell_size

    width = max(width, 1)
    return text if cell_len(text) <= width else set_cell_size(text, width - 1) + "…"
