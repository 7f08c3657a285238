"""Text from a peer made safe to print: control characters (terminal escapes) shown, not obeyed."""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 controls except tab and newline, DEL, C1 controls, the Unicode bidi overrides that reorder a line, and lone
# surrogates (a JSON "\ud800" from a peer), which no terminal encoding can write.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str, *, newlines: bool = True) -> str:
    r"""``text`` with each control character written as an escape (``\x1b``); newlines kept unless told otherwise."""
    out = _CONTROL.sub(_escape, text)
    return out if newlines else out.replace("\n", "\\n")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
