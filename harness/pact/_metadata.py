"""What travels beside a message body: the provider's headers, signed with throw-away credentials, and their shapes."""

from __future__ import annotations

import random
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.catalog import HmacSpec, Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.deliveries import build_delivery

__all__ = ["ThrowawaySigner", "header_pattern"]

_ENCODING = {"hex": "[0-9a-f]+", "base64": "[A-Za-z0-9+/]+={0,2}", "base64url": "[A-Za-z0-9_-]+={0,2}"}
_FIELD = re.compile(r"\{(\w+)\}")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
_AUTH = re.compile(r"^(Basic|Bearer) ")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,}$")
_TAGGED = re.compile(r"^(v\w+[,=])[A-Za-z0-9+/]+={0,2}$")  # a coded scheme's tagged signature: v1a,<base64>


def _template_regex(template: str, encoding: str, separator: str | None) -> str:
    """One rendering of an HMAC header format (``t={timestamp},v1={signature}``) as a regex."""
    out, last = [], 0
    stop = re.escape(separator) if separator else ""
    for match in _FIELD.finditer(template):
        out.append(re.escape(template[last : match.start()]))
        name = match.group(1)
        out.append(_ENCODING[encoding] if name == "signature" else r"\d+" if name == "timestamp" else f"[^{stop}]+")
        last = match.end()
    out.append(re.escape(template[last:]))
    return "".join(out)


def _hmac_pattern(spec: HmacSpec) -> str:
    """The signature header of a declarative HMAC scheme: its format, its signature item repeatable (a secret roll)."""
    if spec.separator is None or spec.separator not in spec.format:
        item = _template_regex(spec.format, spec.encoding, spec.separator)
        if spec.separator is None:
            return f"^{item}$"
        sep = re.escape(spec.separator)
        return f"^{item}(?:{sep}{item})*$"
    sep = re.escape(spec.separator)
    parts = [_template_regex(p, spec.encoding, spec.separator) for p in spec.format.split(spec.separator)]
    signed = [p for p, raw in zip(parts, spec.format.split(spec.separator), strict=True) if "{signature}" in raw]
    body = sep.join(f"{p}(?:{sep}{p})*" if p in signed else p for p in parts)
    return f"^{body}$"


def header_pattern(provider: Provider, name: str, value: str) -> str:
    """A regex for what this auth header may hold: from the profile's HMAC format, else from the value's shape."""
    for spec in provider.auth.hmac.values():
        for signature in (spec, *spec.also):  # GitHub's legacy SHA-1 header is one of the "also" signatures
            if signature.header.lower() == name.lower():
                return _hmac_pattern(signature)
        if spec.timestamp_header and spec.timestamp_header.lower() == name.lower():
            if spec.timestamp_format == "rfc3339":  # Twitch's 2026-01-02T03:04:05.123456789Z
                return r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$"
            return r"^\d+$"
    if value.isdigit():
        return r"^\d+$"
    if _BASE64.match(value):
        return "^" + _ENCODING["base64"] + "$"
    tagged = _TAGGED.match(value)
    if tagged:  # one entry per active key while keys rotate, space-separated (Standard Webhooks v1a)
        item = re.escape(tagged.group(1)) + _ENCODING["base64"]
        return f"^{item}(?: {item})*$"
    scheme = _AUTH.match(value)
    if scheme:
        return f"^{scheme.group(1)} \\S+$"
    if _TOKEN.match(value):  # a static credential sent as it is (Okta's Authorization value)
        return "^[A-Za-z0-9_-]{16,}$"
    return r"^\S.*$"


class ThrowawaySigner:
    """Signs deliveries as the provider would, with credentials made for this run and never shown."""

    def __init__(self, provider: Provider) -> None:
        from harness.signing import CertificateServer, fresh_credentials

        self.provider = provider
        self._folder = tempfile.TemporaryDirectory(prefix="webhook-harness-pact-")
        self._certificates = CertificateServer()  # SNS's certificate URLs: served only if an SNS message is signed
        made = fresh_credentials(provider, Path(self._folder.name), "")
        # OAuth needs a token server; what the pact can state about it is the Authorization header's shape only.
        self.credentials: Credentials = replace(
            made, token_url=None, client_id=None, client_secret=None, certificates=self._certificates
        )
        self._rng = random.Random(0)

    def close(self) -> None:
        """Remove the key files and stop the certificate server."""
        self._certificates.close()
        self._folder.cleanup()

    def __enter__(self) -> ThrowawaySigner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def delivery(self, payload: Any, events: Sequence[str]) -> Delivery:
        """The signed delivery of one payload (a list of events for a batch provider)."""
        from harness.signing import sign_delivery

        now = time.time()
        unsigned = build_delivery(self.provider, payload, event_types=list(events), rng=self._rng, now=now)
        return sign_delivery(self.provider, unsigned, self.credentials, now=now, url="http://127.0.0.1/webhook")

    def auth_headers(self, payload: Any, events: Sequence[str]) -> dict[str, str]:
        """The headers signing adds (signature, timestamp), with one real value each."""
        unsigned = build_delivery(self.provider, payload, event_types=list(events), rng=self._rng)
        signed = self.delivery(payload, events)
        before = {k.lower() for k in unsigned.headers}
        return {k: v for k, v in signed.headers.items() if k.lower() not in before}
