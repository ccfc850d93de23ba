"""Bundled task packs (YAML). Loaded by inversion_tui.tasks; see README for the format."""
