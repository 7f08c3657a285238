"""Reproducible curl commands for a delivery, with every credential shown only as ``***``."""

from __future__ import annotations

import shlex
from urllib.parse import urlsplit, urlunsplit

from harness.core.models import Delivery
from harness.credentials import Redactor, looks_secret, redact_url

__all__ = ["curl_command"]

_SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie")


def _escapes(special: dict[str, str], unprintable: str) -> tuple[str, ...]:
    """How each byte value is written: ``special`` first, printable ASCII as itself, the rest via ``unprintable``."""
    return tuple(
        special.get(chr(byte)) or (chr(byte) if 32 <= byte < 127 else unprintable.format(byte)) for byte in range(256)
    )


# Bash $'...' quoting, and a single-quoted printf format (octal escapes for anything unprintable).
_ANSI_C = _escapes({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}, "\\x{:02x}")
_PRINTF = _escapes({"%": "%%", "\\": "\\\\", "'": "'\\''"}, "\\{:03o}")


def _ansi_c(data: bytes) -> str:
    """Bash $'...' quoting of arbitrary bytes."""
    return "$'" + "".join(map(_ANSI_C.__getitem__, data)) + "'"


def _printf_format(data: bytes) -> str:
    """A single-quoted printf format that prints exactly ``data``."""
    return "'" + "".join(map(_PRINTF.__getitem__, data)) + "'"


def curl_command(delivery: Delivery, url: str, redactor: Redactor | None = None, *, max_body: int = 16384) -> str:
    """A curl command that sends the same bytes and headers; credentials appear only as ``***``."""
    redact = redactor or Redactor()
    target = url
    if delivery.url_userinfo:
        parts = urlsplit(url)
        target = urlunsplit(parts._replace(netloc=f"{delivery.url_userinfo[0]}:***@{parts.netloc.rpartition('@')[2]}"))
    words = ["curl", "-sS", "-i", "-X", delivery.method, redact(redact_url(target))]
    for name, value in redact.headers(delivery.headers).items():
        lowered = name.strip().lower()
        if lowered in _SECRET_HEADERS and " " not in value:
            value = "***"
        elif lowered not in _SECRET_HEADERS and looks_secret(lowered) and "idempotency" not in lowered:
            value = "***"  # X-Api-Key, X-Auth-Token, Private-Token: the one looks_secret rule
        words += ["-H", f"{name}: {value}"]
    command = shlex.join(words)
    if len(delivery.body) > max_body:
        return command + f" --data-binary @body.bin  # body of {len(delivery.body)} bytes not shown"
    if b"\x00" in delivery.body:  # a shell word cannot hold NUL: let printf produce the bytes on stdin
        return f"printf -- {redact(_printf_format(delivery.body))} | {command} --data-binary @-"
    return command + " --data-binary " + redact(_ansi_c(delivery.body))
