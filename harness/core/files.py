"""The user's input files read as UTF-8 text, with a one-line error naming the file when one cannot be read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["read_text"]


def read_text(
    path: Path, error: Callable[[str], Exception], *, what: str = "file", max_bytes: int | None = None
) -> str:
    """The file's text, newlines as ``\\n``; raises ``error(message)`` if missing, unreadable, too big or not UTF-8."""
    try:
        with path.open("rb") as handle:
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise error(f"{path}: {what} not found.") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc}).") from None
    if max_bytes is not None and len(data) > max_bytes:
        raise error(f"{path}: over {max_bytes // (1024 * 1024)} MiB.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: cannot be read ({exc}).") from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
