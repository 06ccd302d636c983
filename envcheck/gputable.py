"""GPU product name -> CUDA compute capability, from configs/nvidia_gpus.json (NVIDIA's CUDA GPUs list).

For drivers that cannot report the capability (nvidia-smi before the 510 branch has no `compute_cap`
field; NVML absent) and for naming a GPU by hand (`install --gpu "RTX 3090"`).

    >>> cc_for_name("Tesla V100-SXM2-16GB")
    ('7.0', 'V100')
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

TABLE_NAME = "nvidia_gpus.json"


def config_path(name: str) -> Path:
    """A data file of configs/ (installed: envcheck/_configs), found the way the matrix finds its own."""
    from envcheck.matrix import default_config_dir

    return default_config_dir() / name
# Vendor and brand words nvidia-smi/NVML put in front of the product name.
_BRANDS = re.compile(r"^(?:(?:nvidia|tesla|geforce|quadro|grid)\s+)+", re.IGNORECASE)  # GRID: vGPU profiles ("GRID V100-16Q")


def normalize(name: str) -> str:
    """'NVIDIA GeForce RTX 3090' -> 'rtx 3090'; 'Tesla V100-SXM2...' -> 'v100-sxm2...'."""
    text = " ".join((name or "").replace("\u00a0", " ").split())
    return _BRANDS.sub("", text).strip().lower()


@lru_cache(maxsize=1)
def _rows(path: str | None = None) -> tuple[tuple[str, str, str], ...]:
    try:
        data = json.loads(Path(path or config_path(TABLE_NAME)).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    out = []
    for row in data.get("gpus", []) if isinstance(data, dict) else []:
        if isinstance(row, dict) and row.get("name") and re.fullmatch(r"\d+\.\d+", str(row.get("cc", ""))):
            out.append((normalize(row["name"]), str(row["cc"]), str(row["name"])))
    # longest name first: "rtx 6000 ada" before "rtx 6000", "a100" before "a10"
    return tuple(sorted(out, key=lambda r: -len(r[0])))


def cc_for_name(name: str | None) -> tuple[str, str] | None:
    """(compute capability, the table row's name) for a GPU name, or None when the table has no row.

    A row matches when its normalized name is the whole name or a prefix followed by a space, '-',
    '(' or '.' (so 'A10' does not match 'A100', and 'V100' matches 'V100-SXM2-16GB' and the
    truncated banner form 'V100-SXM2...').
    """
    want = normalize(name or "")
    if not want:
        return None
    for key, cc, label in _rows():
        if want == key or (want.startswith(key) and want[len(key)] in " -(."):
            return cc, label
    return None


def known_names() -> tuple[str, ...]:
    """Every product name of the table, as NVIDIA's list writes it (for "did you mean" hints)."""
    return tuple(label for _, _, label in _rows())
