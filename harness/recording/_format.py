"""The record format: one JSON object per delivery, byte-exact body, written and read as JSON Lines."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from harness.errors import ConfigError, UsageError

__all__ = ["REQUIRED_KEYS", "Record", "RecordWriter", "RecordingError", "is_auth_header", "read_jsonl", "rfc3339"]

REQUIRED_KEYS = ("method", "path", "headers")
MAX_HAR_BYTES = 256 << 20  # a HAR file is one JSON document, read whole
MAX_LINE_BYTES = 64 << 20  # one JSON Lines record (a 25 MiB body in base64 is 34 MiB)
REDACTED = "***"
_ESCAPED_SHORT = b'\t\n\r\x08\x0c"\\'  # written as two characters in JSON
_ESCAPED_LONG = bytes(b for b in range(0x20) if b not in b"\t\n\r\x08\x0c")  # written as six (\u00XX)


class RecordingError(UsageError):
    """A recording that cannot be read; the message names the file and line."""


def rfc3339(when: float) -> str:
    """``2026-12-02T01:40:00.123Z`` for a Unix time."""
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_auth_header(name: str) -> bool:
    """Credentials (the one ``looks_secret`` rule) and every signature header: redacted on disk unless
    ``--keep-auth``, and never forwarded by ``replay`` (it signs afresh)."""
    from harness.credentials import looks_secret

    lowered = name.strip().lower()
    if "idempotency" in lowered:  # Idempotency-Key names the delivery, it authenticates nothing (replay needs it)
        return False
    return looks_secret(lowered) or "signature" in lowered or "hmac" in lowered


def redact_query(query: str) -> str:
    """A query string with the values of secret-looking parameters (``token``, ``api_key``) as ``***``."""
    if not query:
        return query
    from urllib.parse import unquote_plus

    from harness.credentials import looks_secret

    parts = []
    for pair in query.split("&"):
        name, eq, _ = pair.partition("=")
        parts.append(f"{name}={REDACTED}" if eq and looks_secret(unquote_plus(name)) else pair)
    return "&".join(parts)


def _json_text(body: bytes) -> str | None:
    """The body as JSON string content when it is UTF-8 text that escaping does not blow up; else None (base64)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    long = len(body) - len(body.translate(None, _ESCAPED_LONG))
    short = len(body) - len(body.translate(None, _ESCAPED_SHORT))
    return text if 5 * long + short <= len(body) // 2 + 16 else None  # JSON text grows by half at most


@dataclass(frozen=True)
class Record:
    """One received delivery, byte for byte, with where and when it arrived and whether it verified."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    query: str = ""
    received_at: str = ""
    verified: bool | None = None
    provider: str | None = None
    reply: Mapping[str, Any] | None = None
    source: str = ""

    @property
    def size(self) -> int:
        """The body's length in bytes."""
        return len(self.body)

    def header(self, name: str) -> str | None:
        """A header value, matching the name case-insensitively."""
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def redacted(self) -> Record:
        """The record with auth headers and secret query values replaced by ``***``."""
        from dataclasses import replace

        headers = {k: REDACTED if is_auth_header(k) else v for k, v in self.headers.items()}
        return replace(self, headers=headers, query=redact_query(self.query))

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object: ``body`` for UTF-8 text, ``body_base64`` for other bytes or for text that
        JSON escaping would grow by more than half (control bytes take six characters each)."""
        out: dict[str, Any] = {}
        if self.provider:
            out["provider"] = self.provider
        out.update(method=self.method, path=self.path, query=self.query, headers=dict(self.headers))
        text = _json_text(self.body)
        if text is not None:
            out["body"] = text
        else:
            out["body_base64"] = base64.b64encode(self.body).decode("ascii")
        out.update(received_at=self.received_at, size=self.size, verified=self.verified)
        if self.reply is not None:
            out["reply"] = dict(self.reply)
        return out

    def to_line(self) -> str:
        """One JSON Lines line, without the newline (code points UTF-8 cannot carry, as from a peer, escaped)."""
        line = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in a header: JSON's \udXXX escape keeps it readable
            line = json.dumps(self.to_json(), ensure_ascii=True, separators=(",", ":"))
        return line

    @classmethod
    def from_json(cls, value: Any, where: str) -> Record:
        """Parse one record object; ``where`` (``file:line``) names it in errors."""
        if not isinstance(value, dict):
            raise RecordingError(f"{where}: a record must be a JSON object, not {type(value).__name__}.")
        missing = [key for key in REQUIRED_KEYS if key not in value]
        if "body" not in value and "body_base64" not in value:
            missing.append("body")
        if missing:
            raise RecordingError(f"{where}: the record lacks {', '.join(repr(m) for m in missing)}.")
        method, path, headers = value["method"], value["path"], value["headers"]
        if not isinstance(method, str) or not method.isalpha():
            raise RecordingError(f"{where}: 'method' must be an HTTP method name.")
        if not isinstance(path, str):
            raise RecordingError(f"{where}: 'path' must be a string.")
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise RecordingError(f"{where}: 'headers' must be an object of strings.")
        if "body_base64" in value:
            try:
                body = base64.b64decode(str(value["body_base64"]), validate=True)
            except (binascii.Error, ValueError):
                raise RecordingError(f"{where}: 'body_base64' is not base64.") from None
        elif isinstance(value["body"], str):
            body = value["body"].encode("utf-8", "surrogatepass")
        else:
            raise RecordingError(f"{where}: 'body' must be a string (the exact body text).")
        size = value.get("size")
        if size is not None and size != len(body):
            raise RecordingError(f"{where}: 'size' is {size} but the body has {len(body)} bytes.")
        verified = value.get("verified")
        if verified not in (True, False, None):
            raise RecordingError(f"{where}: 'verified' must be true, false or null.")
        provider = value.get("provider")
        reply = value.get("reply")
        return cls(
            method=method.upper(),
            path=path,
            headers=dict(headers),
            body=body,
            query=str(value.get("query") or ""),
            received_at=str(value.get("received_at") or ""),
            verified=verified,
            provider=provider if isinstance(provider, str) else None,
            reply=reply if isinstance(reply, dict) else None,
            source=where,
        )


def read_jsonl(path: Path, stream: IO[bytes]) -> Iterator[Record]:
    """Records from a stream of our JSON Lines format; a bad line is one error naming the file and the line."""
    for number, raw in enumerate(iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b""), 1):
        where = f"{path}:{number}"
        if len(raw) > MAX_LINE_BYTES:
            raise RecordingError(f"{where}: a line over {MAX_LINE_BYTES >> 20} MiB is not a record.")
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordingError(f"{where}: not UTF-8 text (byte {exc.start + 1}).") from None
        try:
            value = json.loads(line)
        except ValueError as exc:
            reason = f"{exc.msg}: column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "invalid JSON"
            raise RecordingError(f"{where}: not JSON ({reason}).") from None
        except RecursionError:
            raise RecordingError(f"{where}: nested too deeply to be a record.") from None
        yield Record.from_json(value, where)


class RecordWriter:
    """Appends records to a JSON Lines file, flushed after each one so an interrupted capture keeps them all.

    A new file is created readable by its owner only (0600): recordings hold real traffic.
    """

    def __init__(self, path: str | Path, *, keep_auth: bool = False) -> None:
        self.path = Path(path)
        self.keep_auth = keep_auth
        self.count = 0
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._stream: IO[str] | None = os.fdopen(fd, "a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot write the recording to {self.path}: {exc.strerror or exc}.") from None
        if not os.access(self.path, os.W_OK):
            self.close()
            raise ConfigError(f"Cannot write the recording to {self.path}: not writable.")

    def line(self, record: Record) -> str:
        """The line ``write`` appends for ``record`` (auth headers redacted unless ``keep_auth``), newline included."""
        shown = record if self.keep_auth else record.redacted()
        return shown.to_line() + "\n"

    def write(self, record: Record | str) -> int:
        """Append one record (or its ``line``) and flush it to disk; returns the bytes written."""
        if self._stream is None:
            raise ValueError("the writer is closed")
        line = record if isinstance(record, str) else self.line(record)
        self._stream.write(line)
        self._stream.flush()
        self.count += 1
        return len(line.encode("utf-8"))

    def close(self) -> None:
        """Flush and close; idempotent."""
        if self._stream is not None:
            self._stream.flush()
            self._stream.close()
            self._stream = None

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
