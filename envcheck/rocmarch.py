"""Which gfx targets the official ROCm wheels of a variant carry (configs/rocm_arches.json), and the
coverage rule: a ROCm code object runs only on its exact gfx target ("gfx90a" kernels do not load on
gfx942), unlike CUDA's same-major SASS and PTX forward compatibility.
https://github.com/pytorch/pytorch/blob/027375bffdc7aa980c93df464526ff2d83ad8349/.ci/docker/manywheel/build.sh
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

TABLE_NAME = "rocm_arches.json"


@lru_cache(maxsize=1)
def variant_arches(path: str | None = None) -> dict[str, tuple[str, ...]]:
    """'rocm7.2' -> ('gfx900', ...); unreadable table -> {}."""
    from envcheck.gputable import config_path

    try:
        data = json.loads(Path(path or config_path(TABLE_NAME)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for row in data.get("variants", []) if isinstance(data, dict) else []:
        if isinstance(row, dict) and isinstance(row.get("arches"), list) and row.get("variant"):
            out[str(row["variant"])] = tuple(str(a).lower() for a in row["arches"])
    return out


def rocm_variant_of(torch_local: str | None) -> str | None:
    """'+rocm6.2.4' local label -> 'rocm6.2.4'; anything else -> None."""
    m = re.fullmatch(r"(rocm\d+(?:\.\d+)*)", (torch_local or "").strip().lower())
    return m.group(1) if m else None


def gfx_covered(gfx: str, arch_list) -> bool:
    """Exact-target rule; 'gfx90a:sramecc+:xnack-' style feature suffixes are ignored."""
    want = (gfx or "").lower().split(":")[0]
    return any(str(a).lower().split(":")[0] == want for a in arch_list)
