"""Run BY THE TARGET interpreter: who am I, and can I host a Jupyter kernel / install packages?

Prints one JSON object: executable, prefix, base_prefix, version ("3.11.7"), ipykernel (bool),
ipykernel_version, pip (bool). Stdlib only, Python 3.7 syntax; never imports envcheck.
Shell equivalent: `python -c "import sys, ipykernel; print(sys.executable)"`.
"""
import json
import sys

try:
    import importlib.util as _util

    def _has(name):
        try:
            return _util.find_spec(name) is not None
        except (ImportError, ValueError):
            return False
except ImportError:  # pragma: no cover - Python < 3.4
    def _has(name):
        return False


def _version(name):
    try:
        from importlib import metadata
    except ImportError:  # Python 3.7
        return None
    try:
        return metadata.version(name)
    except Exception:
        return None


print(json.dumps({
    "executable": sys.executable,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "version": "%d.%d.%d" % tuple(sys.version_info[:3]),
    "ipykernel": _has("ipykernel"),
    "ipykernel_version": _version("ipykernel"),
    "pip": _has("pip"),
}))
