"""The UI-free engine. Nothing in this package imports textual or rich (a test checks)."""
