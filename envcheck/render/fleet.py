"""Human output of `envcheck fleet report`: one table (field, majority, nodes that differ), then the nodes
with error findings, then unreadable inputs as `error:` lines on stderr."""
from __future__ import annotations

from envcheck.i18n import tr
from envcheck.i18n import translate as _

MAX_NAMES = 8  # outlier names shown per row; the JSON has them all


def _show(value) -> str:
    return _("not detected") if value is None else str(value)


def outlier_text(outliers: list, limit: int = MAX_NAMES) -> str:
    """'node7 (535.104.05), node9 (535.104.05) +3 more' (pure)."""
    shown = [f"{o['node']} ({_show(o['value'])})" for o in outliers[:limit]]
    more = len(outliers) - limit
    return ", ".join(shown) + (" " + _("+{count} more").format(count=more) if more > 0 else "")


def render_fleet(result) -> None:
    import sys

    from rich.table import Table

    from envcheck.render import make_console

    con = make_console()
    data = result.data
    s = data.get("summary") or {}
    table = Table(title=_("fleet: {count} node(s)").format(count=s.get("nodes", 0)), title_justify="left", show_lines=False)
    table.add_column(_("field"), no_wrap=True)
    table.add_column(_("majority"), overflow="fold")
    table.add_column(_("nodes"), justify="right", no_wrap=True)
    table.add_column(_("differs on"), overflow="fold")
    total = s.get("nodes", 0)
    for row in data.get("fields") or []:
        finding = row["field"].startswith("finding:")
        majority = (_("absent") if row["majority"] is None else row["majority"]) if finding else _show(row["majority"])
        label = _("finding {code}").format(code=row["label"]) if finding else row["label"]
        differs = outlier_text([dict(o, value=o["value"] or _("absent")) if finding else o for o in row["outliers"]])
        table.add_row(label, majority, f"{row['count']}/{total}", differs or "-",
                      style="yellow" if row["outliers"] else None)
    con.print(table)
    bad_nodes = [n for n in data.get("nodes") or [] if n["errors"]]
    if bad_nodes:
        con.print(_("nodes with error findings ({count}):").format(count=len(bad_nodes)), style="bold red")
        for n in bad_nodes[:50]:
            con.print(f"  {n['node']}: {', '.join(n['errors'])}", style="red", markup=False)
        if len(bad_nodes) > 50:
            con.print("  " + _("+{count} more (see --json)").format(count=len(bad_nodes) - 50), style="red")
    drift = data.get("drift") or []
    if drift:
        con.print(_("drift in {count} field(s): {fields}").format(count=len(drift), fields=", ".join(d["field"] for d in drift)),
                  style="bold yellow", markup=False)
    elif total:
        con.print(_("every node agrees on every field"), style="green")
    for err in result.errors:
        print(_("error: {message}").format(message=tr(err.message)), file=sys.stderr)
    if result.errors:
        print(_("hint: {hint}").format(hint=tr(result.errors[0].hint)), file=sys.stderr)
