"""The Textual workbench. It consumes engine events only and steers the engine through a
RunControl; it never calls a model itself."""
