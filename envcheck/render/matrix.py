"""Human output of `envcheck matrix refresh` and `envcheck matrix show`: plain lines, no panels (paths and
URLs stay whole for a copy-paste)."""
from __future__ import annotations

from envcheck.results import Result


def _versions(values) -> str:
    return ", ".join(values) if values else "none"


def render_refresh(result: Result, console=None) -> None:
    from rich.console import Console

    con = console or Console(highlight=False, soft_wrap=True)
    d = result.data
    con.print(f"read {d['index']} ({d['index_source']}) on {d['read']}", markup=False)
    for name, versions in sorted(d["added"].items()):
        since = d["newer_than"].get(name)
        con.print(f"  {name}: newer than the shipped {since or 'none'}: {_versions(versions)}", markup=False)
    if d["without_row"]:
        con.print(f"torch {', '.join(d['without_row'])}: not recommended until envcheck's matrix knows its CUDA "
                  "variants, driver floors and companions (upgrade envcheck)", markup=False)
    con.print(f"cache written: {d['cache']}", markup=False)


def render_show(result: Result, console=None) -> None:
    from rich.console import Console

    con = console or Console(highlight=False, soft_wrap=True)
    d = result.data
    s, c = d["shipped"], d["cache"]
    con.print(f"shipped matrix: rows checked {s['checked']}, wheel facts read {s['wheels_read'] or 'never (no wheels.json)'}, "
              f"{s['rows']} torch rows (newest {s['newest_row']})", markup=False)
    for name, row in sorted(s["packages"].items()):
        con.print(f"  {name}: {row['releases']} releases, newest {row['newest'] or 'none'}", markup=False)
    if not c["present"]:
        con.print(f"refreshed cache: none ({c['path']}); `envcheck matrix refresh` reads newer releases", markup=False)
    elif c["problem"]:
        con.print(f"refreshed cache: {c['path']}: {c['problem']}", markup=False)
    else:
        con.print(f"refreshed cache: read {c['read']} from {c['index']} ({c['path']})", markup=False)
        for name, row in sorted(c["packages"].items()):
            con.print(f"  {name}: {row['releases']} newer releases, newest {row['newest'] or 'none'}", markup=False)
    if d["without_row"]:
        con.print(f"newer release exists: torch {', '.join(d['without_row'])}; envcheck's matrix doesn't know its CUDA "
                  "variants yet, so `install` does not recommend it: upgrade envcheck (`pip install -U envcheck`)",
                  markup=False)
