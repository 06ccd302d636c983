"""Human output of `envcheck matrix refresh` and `envcheck matrix show`: plain lines, no panels (paths and
URLs stay whole for a copy-paste)."""
from __future__ import annotations

from envcheck.i18n import translate as _
from envcheck.results import Result


def _versions(values) -> str:
    return ", ".join(values) if values else _("none")


def render_refresh(result: Result, console=None) -> None:
    from rich.console import Console

    con = console or Console(highlight=False, soft_wrap=True)
    d = result.data
    con.print(_("read {index} ({source}) on {date}").format(index=d["index"], source=d["index_source"], date=d["read"]),
              markup=False)
    for name, versions in sorted(d["added"].items()):
        since = d["newer_than"].get(name)
        con.print("  " + _("{name}: newer than the shipped {since}: {versions}").format(
            name=name, since=since or _("none"), versions=_versions(versions)), markup=False)
    if d["without_row"]:
        con.print(_("torch {versions}: not recommended until envcheck's matrix knows its CUDA variants, driver floors "
                    "and companions (upgrade envcheck)").format(versions=", ".join(d["without_row"])), markup=False)
    con.print(_("cache written: {path}").format(path=d["cache"]), markup=False)


def render_show(result: Result, console=None) -> None:
    from rich.console import Console

    con = console or Console(highlight=False, soft_wrap=True)
    d = result.data
    s, c = d["shipped"], d["cache"]
    con.print(_("shipped matrix: rows checked {checked}, wheel facts read {read}, {rows} torch rows (newest {newest})").format(
        checked=s["checked"], read=s["wheels_read"] or _("never (no wheels.json)"), rows=s["rows"], newest=s["newest_row"]),
        markup=False)
    for name, row in sorted(s["packages"].items()):
        con.print("  " + _("{name}: {count} releases, newest {newest}").format(
            name=name, count=row["releases"], newest=row["newest"] or _("none")), markup=False)
    if not c["present"]:
        con.print(_("refreshed cache: none ({path}); `envcheck matrix refresh` reads newer releases").format(path=c["path"]),
                  markup=False)
    elif c["problem"]:
        con.print(_("refreshed cache: {path}: {problem}").format(path=c["path"], problem=c["problem"]), markup=False)
    else:
        con.print(_("refreshed cache: read {date} from {index} ({path})").format(date=c["read"], index=c["index"],
                                                                                 path=c["path"]), markup=False)
        for name, row in sorted(c["packages"].items()):
            con.print("  " + _("{name}: {count} newer releases, newest {newest}").format(
                name=name, count=row["releases"], newest=row["newest"] or _("none")), markup=False)
    if d["without_row"]:
        con.print(_("newer release exists: torch {versions}; envcheck's matrix doesn't know its CUDA variants yet, so "
                    "`install` does not recommend it: upgrade envcheck (`pip install -U envcheck`)").format(
            versions=", ".join(d["without_row"])), markup=False)
