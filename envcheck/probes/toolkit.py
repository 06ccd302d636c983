"""The CUDA toolkit (nvcc, CUDA_HOME): only matters for BUILDING extensions; torch wheels bring their
own CUDA runtime. Shell equivalent: `command -v nvcc && nvcc --version; echo $CUDA_HOME`.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from typing import Mapping

from envcheck.i18n import N_
from envcheck.runner import Runner

_RELEASE = re.compile(r"release\s+(\d+\.\d+)(?:,\s*V([\d.]+))?")


@dataclass(frozen=True)
class ToolkitFacts:
    nvcc_path: str | None = None
    nvcc_source: str | None = None  # "path" | "CUDA_HOME" | "/usr/local/cuda"
    version: str | None = None  # "13.0"
    full_version: str | None = None  # "13.0.88"
    cuda_home: str | None = None
    cuda_home_source: str | None = None  # "CUDA_HOME" | "CUDA_PATH" | "default"
    reason: str | None = None

    def to_dict(self) -> dict:
        return {
            "nvcc": {"value": self.nvcc_path, "source": self.nvcc_source, "reason": None if self.nvcc_path else self.reason},
            "version": {"value": self.version, "source": "nvcc --version" if self.version else None,
                        "reason": None if self.version else self.reason},
            "full_version": self.full_version,
            "cuda_home": {"value": self.cuda_home, "source": self.cuda_home_source,
                          "reason": None if self.cuda_home else "CUDA_HOME/CUDA_PATH not set and no /usr/local/cuda"},
            "note": "the CUDA toolkit only matters for building CUDA extensions; torch wheels bring their own runtime",
        }


def parse_nvcc_version(text: str) -> tuple[str | None, str | None]:
    """'Cuda compilation tools, release 13.0, V13.0.88' -> ('13.0', '13.0.88')."""
    m = _RELEASE.search(text or "")
    if not m:
        return None, None
    return m.group(1), m.group(2)


def probe_toolkit(runner: Runner, environ: Mapping[str, str] | None = None, timeout: float = 8.0) -> ToolkitFacts:
    environ = os.environ if environ is None else environ
    cuda_home, home_src = None, None
    for var in ("CUDA_HOME", "CUDA_PATH"):
        if environ.get(var):
            cuda_home, home_src = environ[var], var
            break
    if cuda_home is None and os.path.isdir("/usr/local/cuda"):
        cuda_home, home_src = "/usr/local/cuda", "default"
    nvcc = shutil.which("nvcc", path=environ.get("PATH"))
    nvcc_src = "path" if nvcc else None
    if nvcc is None and cuda_home:
        candidate = os.path.join(cuda_home, "bin", "nvcc")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            nvcc, nvcc_src = candidate, home_src if home_src != "default" else "/usr/local/cuda"
    if nvcc is None:
        return ToolkitFacts(cuda_home=cuda_home, cuda_home_source=home_src,
                            reason=N_("nvcc not found (no CUDA toolkit: fine unless you build CUDA extensions)"))
    done = runner.run([nvcc, "--version"], timeout=timeout)
    if not done.ok:
        return ToolkitFacts(nvcc, nvcc_src, cuda_home=cuda_home, cuda_home_source=home_src, reason=done.describe_failure())
    version, full = parse_nvcc_version(done.stdout)
    return ToolkitFacts(nvcc, nvcc_src, version, full, cuda_home, home_src,
                        None if version else "could not read the release from nvcc --version")
