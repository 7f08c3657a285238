"""Reading HAR 1.2 (what browsers, proxies and tunnels export) with the standard library's JSON parser."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.recording._format import Record, RecordingError

__all__ = ["looks_like_har", "read_har"]


def looks_like_har(head: str) -> bool:
    """The text starts like a HAR document (``{"log": ...``) rather than a JSON Lines record."""
    text = head.lstrip()
    if not text.startswith("{"):
        return False
    first_key = text[1:].lstrip()
    return first_key.startswith('"log"')


def _not_har(path: Path, why: str) -> RecordingError:
    return RecordingError(f"{path}: not a HAR 1.2 file ({why}).")


def _body(path: Path, index: int, request: dict[str, Any]) -> bytes:
    post = request.get("postData")
    if post is None:
        return b""
    if not isinstance(post, dict):
        raise _not_har(path, f"entry {index}: request.postData is not an object")
    text = post.get("text", "")
    if not isinstance(text, str):
        raise _not_har(path, f"entry {index}: request.postData.text is not a string")
    if post.get("encoding") == "base64":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise _not_har(path, f"entry {index}: request.postData.text is not base64") from None
    return text.encode("utf-8", "surrogatepass")


def _headers(path: Path, index: int, request: dict[str, Any]) -> dict[str, str]:
    raw = request.get("headers")
    if not isinstance(raw, list):
        raise _not_har(path, f"entry {index}: request.headers is not a list")
    out: dict[str, str] = {}
    for item in raw:
        if not (isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("value"), str)):
            raise _not_har(path, f"entry {index}: a header is not a name/value pair")
        name = item["name"]
        if name.startswith(":"):  # HTTP/2 pseudo-headers (:authority, :method) are not request headers
            continue
        if name.lower() in ("content-length", "transfer-encoding"):
            continue  # framing, not content: the transport sets them for the body it sends
        out[name] = f"{out[name]}, {item['value']}" if name in out else item["value"]
    return out


def read_har(path: Path, text: str) -> Iterator[Record]:
    """One record per HAR entry that carries a request; anything that is not HAR is a one-line error."""
    try:
        document = json.loads(text)
    except ValueError:
        raise _not_har(path, "not JSON") from None
    except RecursionError:
        raise _not_har(path, "nested too deeply") from None
    log = document.get("log") if isinstance(document, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise _not_har(path, "no log.entries list")
    for index, entry in enumerate(entries):
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            raise _not_har(path, f"entry {index}: no request with a method")
        url = request.get("url")
        if not isinstance(url, str):
            raise _not_har(path, f"entry {index}: request.url is not a string")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  # a malformed IPv6 address or port raises here
        except ValueError as exc:
            raise _not_har(path, f"entry {index}: request.url is not a URL ({exc})") from None
        started = entry.get("startedDateTime")
        yield Record(
            method=request["method"].upper(),
            path=parts.path or "/",
            query=parts.query,
            headers=_headers(path, index, request),
            body=_body(path, index, request),
            received_at=started if isinstance(started, str) else "",
            verified=None,
            source=f"{path}:entry {index}",
        )
