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

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

TABLE_NAME = "rocm_arches.json"


def select_row(rows, variant: str, torch):
    """The first row (objects with .variant, .torch (a SpecifierSet or None), .arches) for `variant`
    whose torch specifier admits `torch` ('2.4.1+rocm6.1' counts as 2.4.1); a row without one applies
    to every release. None: not recorded. The one rule for install (matrix.rocm_gfx_for) and doctor."""
    try:
        version = Version(Version(str(torch)).public) if torch is not None else None
    except InvalidVersion:
        version = None
    for row in rows:
        if row.variant != variant:
            continue
        if row.torch is None:
            return row
        if version is not None and row.torch.contains(version, prereleases=True):
            return row
    return None


@lru_cache(maxsize=1)
def _rows(path: str | None = None) -> tuple:
    """The table's rows, read without the matrix's validation (doctor must not fail on it); bad rows skipped."""
    from envcheck.gputable import config_path
    from envcheck.matrix import RocmGfx

    try:
        data = json.loads(Path(path or config_path(TABLE_NAME)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    out = []
    for row in data.get("variants", []) if isinstance(data, dict) else []:
        if not (isinstance(row, dict) and isinstance(row.get("arches"), list) and row.get("variant")):
            continue
        try:
            spec = SpecifierSet(row["torch"]) if row.get("torch") else None
        except InvalidSpecifier:
            continue
        out.append(RocmGfx(str(row["variant"]), tuple(str(a).lower() for a in row["arches"]), spec))
    return tuple(out)


def wheel_gfx(variant: str, torch=None) -> tuple[str, ...] | None:
    """The gfx targets of `variant`'s official wheels of torch `torch` (None: not recorded)."""
    row = select_row(_rows(), variant, torch)
    return row.arches if row is not None else None


def variant_arches(path: str | None = None) -> dict[str, tuple[str, ...]]:
    """'rocm7.2' -> ('gfx900', ...) for rows that hold for every release of their variant."""
    return {row.variant: row.arches for row in _rows(path) if row.torch is None}


def rocm_variant_of(torch_local: str | None) -> str | None:
    """'+rocm6.2.4' local label -> 'rocm6.2.4'; anything else -> None."""
    m = re.fullmatch(r"(rocm\d+(?:\.\d+)*)", (torch_local or "").strip().lower())
    return m.group(1) if m else None


def gfx_covered(gfx: str, arch_list) -> bool:
    """Exact-target rule; 'gfx90a:sramecc+:xnack-' style feature suffixes are ignored."""
    want = (gfx or "").lower().split(":")[0]
    return any(str(a).lower().split(":")[0] == want for a in arch_list)
