"""inversion-tui: self-improvement via inversion (task -> command -> reconstructed task)."""

__version__ = "0.1.0"
