"""The `inversion-tui` command line (Typer): parse, validate, build settings, call the engine."""
