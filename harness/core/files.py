"""The user's files read and written as UTF-8 text, with a one-line error naming the file when that fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["read_text", "write_file"]


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


def write_file(path: str | Path, text: str, error: Callable[[str], Exception], *, what: str) -> Path:
    """Write ``text`` to ``path``, creating its folder; a path that cannot be written raises ``error(message)``."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise error(f"Cannot write the {what} to {target}: {exc.strerror or exc}.") from None
    return target
