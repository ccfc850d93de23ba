"""The documentation of commands: manual pages read into an index (index.py), and a command
explained from it (explain.py)."""
