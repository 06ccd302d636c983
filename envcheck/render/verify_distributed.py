"""Human output of `envcheck verify --distributed` under torchrun: one line per rank, then verify's summary."""
from __future__ import annotations


def busbw_text(b) -> str:
    """', all-reduce bus bandwidth up to 187.2 GB/s (nccl-tests busbw, 4 sizes)' from data.distributed.busbw."""
    if not isinstance(b, dict):
        return ""
    if b.get("error"):
        return f", all-reduce bandwidth not measured ({b['error']})"
    if b.get("peak_busbw_gbs") is None:
        return ""
    return (f", all-reduce bus bandwidth up to {b['peak_busbw_gbs']:g} GB/s (nccl-tests busbw, "
            f"{len(b.get('sizes') or [])} sizes up to {max(r['bytes'] for r in b['sizes']) >> 20} MiB)")


def render_distributed(result, stderr: bool = False):
    """Print the launch line, each rank's line and the world in one line; return the result unchanged.

    The closing summary is verify's own (render.verify.render_summary), printed by the CLI.
    """
    from envcheck.render import make_console
    from envcheck.render.verify import check_line, render_summary
    from envcheck.results import CheckResult

    con = make_console(stderr=stderr)
    for c in result.data.get("checks") or []:
        con.print(check_line(CheckResult(c["id"], c["name"], c["status"], c["duration_s"], c["message"], c["fix"])),
                  crop=False)
    d = result.data.get("distributed") or {}
    slow = d.get("slowest_rank")
    from envcheck.i18n import translate as _

    con.print(_("world: {size} rank(s) over {backend}").format(size=d.get("world_size"),
                                                               backend=d.get("backend") or _("unknown backend"))
              + (_(", slowest rank {rank}").format(rank=slow) if slow is not None else "")
              + busbw_text(d.get("busbw")),
              style="dim", markup=False)
    if stderr:  # with --json the summary goes to stderr too; without it the CLI's render prints it
        render_summary(result, stderr=True)
    return result
