"""Reproducible curl commands for a delivery, with every credential shown only as ``***``."""

from __future__ import annotations

import shlex
from urllib.parse import urlsplit, urlunsplit

from harness.core.models import Delivery
from harness.credentials import Redactor, redact_url

__all__ = ["curl_command"]

_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")


def _ansi_c(data: bytes) -> str:
    """Bash $'...' quoting of arbitrary bytes."""
    out = []
    for byte in data:
        char = chr(byte)
        if char == "\\":
            out.append("\\\\")
        elif char == "'":
            out.append("\\'")
        elif 32 <= byte < 127:
            out.append(char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        else:
            out.append(f"\\x{byte:02x}")
    return "$'" + "".join(out) + "'"


def _printf_format(data: bytes) -> str:
    """A single-quoted printf format that prints exactly ``data`` (octal escapes for anything unprintable)."""
    out = []
    for byte in data:
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif char == "\\":
            out.append("\\\\")
        elif char == "'":
            out.append("'\\''")
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "'" + "".join(out) + "'"


def curl_command(delivery: Delivery, url: str, redactor: Redactor | None = None, *, max_body: int = 16384) -> str:
    """A curl command that sends the same bytes and headers; credentials appear only as ``***``."""
    redact = redactor or Redactor()
    target = url
    if delivery.url_userinfo:
        parts = urlsplit(url)
        target = urlunsplit(parts._replace(netloc=f"{delivery.url_userinfo[0]}:***@{parts.netloc.rpartition('@')[2]}"))
    words = ["curl", "-sS", "-i", "-X", delivery.method, redact(redact_url(target))]
    for name, value in redact.headers(delivery.headers).items():
        if name.lower() in _SECRET_HEADERS and " " not in value:
            value = "***"
        words += ["-H", f"{name}: {value}"]
    command = shlex.join(words)
    if len(delivery.body) > max_body:
        return command + f" --data-binary @body.bin  # body of {len(delivery.body)} bytes not shown"
    if b"\x00" in delivery.body:  # a shell word cannot hold NUL: let printf produce the bytes on stdin
        return f"printf -- {redact(_printf_format(delivery.body))} | {command} --data-binary @-"
    return command + " --data-binary " + redact(_ansi_c(delivery.body))
