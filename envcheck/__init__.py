"""envcheck: from a bare machine to a verified PyTorch environment."""

__version__ = "0.1.0"
