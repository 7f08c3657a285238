"""Reading a recording: our JSON Lines format or a HAR 1.2 file, told apart by the name or the first bytes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from harness.recording._format import MAX_HAR_BYTES, Record, RecordingError, read_jsonl
from harness.recording._har import looks_like_har, read_har

__all__ = ["read_records"]


def read_records(path: str | Path) -> Iterator[Record]:
    """Records from our JSON Lines format or a HAR 1.2 file, streamed (HAR is one document, read whole)."""
    target = Path(path)
    try:
        stream = target.open("rb")
    except OSError as exc:
        raise RecordingError(f"Cannot read the recording {target}: {exc.strerror or exc}.") from None
    with stream:
        head = stream.read(4096).decode("utf-8", "replace")
        stream.seek(0)
        if target.suffix.lower() == ".har" or looks_like_har(head):
            data = stream.read(MAX_HAR_BYTES + 1)
            if len(data) > MAX_HAR_BYTES:
                raise RecordingError(f"{target}: a HAR file over {MAX_HAR_BYTES >> 20} MiB; export fewer entries.")
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise RecordingError(f"{target}: not a HAR 1.2 file (not UTF-8 text).") from None
            yield from read_har(target, text)
            return
        yield from read_jsonl(target, stream)
