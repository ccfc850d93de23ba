"""Errors a user can cause. Each carries a short `title` for the UI and a one-line message.

The CLI prints `error: <message>` and exits 2 for any of these; anything else is a bug.
"""


class InversionError(Exception):
    title = "Error"


class SettingsError(InversionError):
    title = "Invalid setting"


class TaskPackError(InversionError):
    title = "Task pack error"


class ModelLoadError(InversionError):
    title = "Model error"


class RunDirectoryError(InversionError):
    title = "Output directory error"


def first_line(exc: BaseException) -> str:
    """A library exception as one line for an error message (its type when it says nothing)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
