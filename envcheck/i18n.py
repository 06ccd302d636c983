"""Language choice and the message catalog: gettext .po/.mo from the standard library (issue 13).

The catalog is envcheck/locale/zh_CN/LC_MESSAGES/envcheck.po, compiled to envcheck.mo by
scripts/compile_po.py (a stdlib msgfmt). English is the source language: with English chosen no
catalog is opened and `gettext` is not even imported, so `envcheck --help` stays fast.

Choice, first that says something wins:
  `--lang zh|en` (root option)  >  ENVCHECK_LANG  >  LC_ALL  >  LC_MESSAGES  >  LANG  >  English.
LC_ALL / LC_MESSAGES / LANG follow POSIX: the first non-empty one decides, so `LC_ALL=C LANG=zh_CN.UTF-8`
is English. zh, zh_CN, zh_SG and zh_Hans* are Simplified Chinese; zh_TW, zh_HK, zh_MO and zh_Hant*
(Traditional Chinese) get English for now: there is no Traditional catalog yet. LANGUAGE (GNU's
priority list) is not read: it only refines a locale that LC_ALL/LC_MESSAGES/LANG already chose.

What is translated is the human output only. Machine output (`--json`, JUnit XML, finding codes,
exit codes, check ids) never changes with the language: messages that end up in both are built as
`Msg(template, **params)`, a str whose value is the English text (what JSON and the tests see) and
which carries its template, so the human renderer can look the template up (`tr`) at render time.
"""
from __future__ import annotations

import os
import sys
from typing import Mapping, Sequence

from envcheck.errors import Msg  # noqa: F401  (the message type lives with the error type; re-exported here)

DOMAIN = "envcheck"
LANGS = ("en", "zh")
CATALOG_LOCALE = {"zh": "zh_CN"}  # the language -> the catalog directory under envcheck/locale
LOCALE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "locale")

_state: dict = {"lang": None, "catalog": None}


# --- choosing the language ---------------------------------------------------------------------


def lang_from_locale(value: str | None) -> str | None:
    """'zh_CN.UTF-8' -> 'zh'; 'zh_TW.UTF-8' -> 'en'; 'C' -> 'en'; '' or None -> None (unset).

    Also takes the short forms ENVCHECK_LANG and --lang use ('zh', 'en') and BCP 47 spellings
    ('zh-Hans-CN'). Anything that is not Simplified Chinese is English (the only other catalog)."""
    if value is None or not value.strip():
        return None
    tag = value.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_").lower()
    parts = tag.split("_")
    if parts[0] != "zh":
        return "en"
    rest = parts[1:]
    if not rest:
        return "zh"
    if rest[0] == "hant" or rest[0] in ("tw", "hk", "mo"):
        return "en"  # Traditional Chinese: no catalog yet
    return "zh"  # zh_CN, zh_SG, zh_Hans, zh_Hans_CN, ...


def lang_from_argv(argv: Sequence[str]) -> str | None:
    """The value of `--lang X` / `--lang=X` (before a `--`), when it is a known language."""
    args = list(argv)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        value = None
        if arg == "--lang" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value is not None:
            value = value.strip().lower()
            return value if value in LANGS else None  # a bad value: the CLI rejects it (exit 2)
    return None


def choose_lang(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None) -> str:
    """'zh' or 'en' for these arguments and this environment (pure; the order is the module's docstring)."""
    environ = os.environ if environ is None else environ
    flag = lang_from_argv(argv)
    if flag:
        return flag
    chosen = lang_from_locale(environ.get("ENVCHECK_LANG"))
    if chosen:
        return chosen
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        chosen = lang_from_locale(environ.get(var))
        if chosen:
            return chosen
    return "en"


def setup(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Choose the language for this process from its arguments and environment; returns it."""
    return set_lang(choose_lang(sys.argv[1:] if argv is None else argv, environ))


def set_lang(lang: str) -> str:
    lang = lang if lang in LANGS else "en"
    if lang != _state["lang"]:
        _state["lang"], _state["catalog"] = lang, None
    return lang


def get_lang() -> str:
    if _state["lang"] is None:
        setup()
    return _state["lang"]


def _catalog():
    """The gettext catalog of the chosen language, loaded on first use; None for English."""
    lang = get_lang()
    if lang == "en":
        return None
    if _state["catalog"] is None:
        import gettext

        _state["catalog"] = gettext.translation(DOMAIN, LOCALE_DIR, languages=[CATALOG_LOCALE[lang]], fallback=True)
    return _state["catalog"]


# --- looking up --------------------------------------------------------------------------------


def translate(message: str) -> str:
    """The translation of `message` in the chosen language (the message itself in English).
    Modules import it as gettext's customary name: `from envcheck.i18n import translate as _`."""
    if not message:
        return message  # gettext("") is the catalog's header
    cat = _catalog()
    return message if cat is None else cat.gettext(message)


_ = translate


def ngettext(singular: str, plural: str, n: int) -> str:
    cat = _catalog()
    if cat is None:
        return singular if n == 1 else plural
    return cat.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a constant for the catalog without translating it now (translated where it is shown, by `tr`)."""
    return message


def tr(value):
    """Render-time translation: a Msg by its template, a plain str by itself as a msgid (a constant
    marked with N_ or a probe's reason that happens to be in the catalog); anything else unchanged.
    English: the English text, as a plain str."""
    if value is None or not isinstance(value, str):
        return value
    if _catalog() is None:
        return str(value)
    if isinstance(value, Msg):
        # A parameter is translated when it is a Msg, or a sentence (a probe's reason marked with N_);
        # a single word is a value (a kernel called "info", an env called "new"), never looked up.
        params = {k: tr(v) if isinstance(v, Msg) or (isinstance(v, str) and " " in v.strip()) else v
                  for k, v in value.params.items()}
        template = _(value.msgid)
        if template == value.msgid and value.msgid.startswith("{i0}"):
            template = _joined_template(value.msgid)
        try:
            return _tidy(template.format(**params))
        except (KeyError, IndexError, ValueError):  # a broken translation: the English text, never a crash
            return str(value)
    return _(value)


def from_template(text, record):
    """`text` as a Msg rebuilt from a {"id": template, "params": {...}} record (what the verify suite's end
    events carry beside the English text; a parameter may be such a record in turn), so `tr` can translate it.
    `text` itself (a plain str) when there is no record, or when the record does not reproduce it exactly:
    the English text is what JSON carries, and it never changes."""
    if text is None or not isinstance(record, dict):
        return text
    try:
        params = {k: _from_record(v) for k, v in (record.get("params") or {}).items()}
        msg = Msg(str(record["id"]), **params)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return text
    return msg if msg == text else text


def _from_record(value):
    if isinstance(value, dict) and "id" in value:
        inner = Msg(str(value["id"]), **{k: _from_record(v) for k, v in (value.get("params") or {}).items()})
        return inner
    return value


def _joined_template(msgid: str) -> str:
    """A `joined()` template ("{i0}; {i1}") with its separators translated ("{i0}；{i1}")."""
    import re

    pieces = re.split(r"(\{i\d+\})", msgid)
    return "".join(p if re.fullmatch(r"\{i\d+\}", p) else _(p) for p in pieces)


_CJK_GAP = None


def _tidy(text: str) -> str:
    """No space between two Chinese characters: a template's `{python} 中` keeps the space before a
    path ("/usr/bin/python3 中") and loses it before a translated parameter ("该解释器中")."""
    global _CJK_GAP
    if _CJK_GAP is None:
        import re

        _CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff\uff08-\uff1f\u3001-\u3011]) (?=[\u4e00-\u9fff\uff08-\uff1f\u3001-\u3011])")
    return _CJK_GAP.sub("", text)


def is_zh() -> bool:
    return get_lang() == "zh"



# --- help text at 80 columns -------------------------------------------------------------------

_CLOSING = set("，。、；：？！）》」』】”’,.;:?!)")


def display_width(text: str) -> int:
    """Terminal columns of `text`: East Asian wide and fullwidth characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def use_wide_char_wrapping() -> None:
    """Make click's help formatter wrap by terminal columns, not characters (Chinese help only).

    click's TextWrapper (textwrap's) counts characters and only breaks at spaces, so a Chinese help
    text, two columns a character and without spaces, overflows an 80-column terminal. This swaps in
    a subclass that breaks between Chinese characters, never before closing punctuation, and
    measures columns. Called by cli.py only when Chinese is chosen: English help is untouched."""
    import importlib
    import re

    for name in ("typer._click._textwrap", "click._textwrap"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        base = module.TextWrapper
        if getattr(base, "_envcheck_wide", False):
            continue

        class WideTextWrapper(base):  # type: ignore[misc, valid-type]
            _envcheck_wide = True
            _pieces = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]|[^\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+")

            def _split(self, text):
                out = []
                for chunk in super()._split(text):
                    out.extend(self._pieces.findall(chunk) if display_width(chunk) != len(chunk) else [chunk])
                return out

            def _wrap_chunks(self, chunks):
                lines = []
                chunks.reverse()
                while chunks:
                    indent = self.subsequent_indent if lines else self.initial_indent
                    width = self.width - display_width(indent)
                    if self.drop_whitespace and lines and chunks[-1].strip() == "":
                        del chunks[-1]
                    line, used = [], 0
                    while chunks and used + display_width(chunks[-1]) <= width:
                        used += display_width(chunks[-1])
                        line.append(chunks.pop())
                    while chunks and len(line) > 1 and chunks[-1] in _CLOSING:  # no line starts with "，" or "）":
                        chunks.append(line.pop())  # the character before it moves down with it
                    while line and line[-1].strip() == "":
                        line.pop()
                    if chunks and not line:  # one chunk wider than the line: cut it (click's rule)
                        self._handle_long_word(chunks, line, used, width)
                        if not chunks[-1]:
                            chunks.pop()
                    if self.drop_whitespace and line and line[-1].strip() == "":
                        line.pop()
                    if line:
                        lines.append(indent + "".join(line))
                return lines

        module.TextWrapper = WideTextWrapper
