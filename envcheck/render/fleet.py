"""Human output of `envcheck fleet report`: one table (field, majority, nodes that differ), then the nodes
with error findings, then unreadable inputs as `error:` lines on stderr."""
from __future__ import annotations

MAX_NAMES = 8  # outlier names shown per row; the JSON has them all


def _show(value) -> str:
    return "not detected" if value is None else str(value)


def outlier_text(outliers: list, limit: int = MAX_NAMES) -> str:
    """'node7 (535.104.05), node9 (535.104.05) +3 more' (pure)."""
    shown = [f"{o['node']} ({_show(o['value'])})" for o in outliers[:limit]]
    more = len(outliers) - limit
    return ", ".join(shown) + (f" +{more} more" if more > 0 else "")


def render_fleet(result) -> None:
    import sys

    from rich.table import Table

    from envcheck.render import make_console

    con = make_console()
    data = result.data
    s = data.get("summary") or {}
    table = Table(title=f"fleet: {s.get('nodes', 0)} node(s)", title_justify="left", show_lines=False)
    table.add_column("field", no_wrap=True)
    table.add_column("majority", overflow="fold")
    table.add_column("nodes", justify="right", no_wrap=True)
    table.add_column("differs on", overflow="fold")
    total = s.get("nodes", 0)
    for row in data.get("fields") or []:
        finding = row["field"].startswith("finding:")
        majority = ("absent" if row["majority"] is None else row["majority"]) if finding else _show(row["majority"])
        label = f"finding {row['label']}" if finding else row["label"]
        differs = outlier_text([dict(o, value=o["value"] or "absent") if finding else o for o in row["outliers"]])
        table.add_row(label, majority, f"{row['count']}/{total}", differs or "-",
                      style="yellow" if row["outliers"] else None)
    con.print(table)
    bad_nodes = [n for n in data.get("nodes") or [] if n["errors"]]
    if bad_nodes:
        con.print(f"nodes with error findings ({len(bad_nodes)}):", style="bold red")
        for n in bad_nodes[:50]:
            con.print(f"  {n['node']}: {', '.join(n['errors'])}", style="red")
        if len(bad_nodes) > 50:
            con.print(f"  +{len(bad_nodes) - 50} more (see --json)", style="red")
    drift = data.get("drift") or []
    if drift:
        con.print(f"drift in {len(drift)} field(s): {', '.join(d['field'] for d in drift)}", style="bold yellow")
    elif total:
        con.print("every node agrees on every field", style="green")
    for err in result.errors:
        print(f"error: {err.message}", file=sys.stderr)
    if result.errors:
        print(f"hint: {result.errors[0].hint}", file=sys.stderr)
