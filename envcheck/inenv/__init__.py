"""Scripts run BY THE TARGET interpreter, by file path: stdlib + torch only, Python 3.7 syntax,
each prints exactly one JSON object (or, for the verify suite, one JSON event per line).
They never import envcheck; this package only locates them."""
from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))


def script_path(name: str) -> str:
    """Absolute path of inenv/<name>.py, to pass to the target interpreter."""
    return os.path.join(HERE, name + ".py")
