"""HMAC schemes described as data in a profile (``auth.hmac``): one description, its signer, variants and verifier.

The description names the signature header, the algorithm (sha1, sha256, sha512), the encoding (hex, base64,
base64url), the header value's format (``sha256={signature}``, ``t={timestamp},v1={signature}``), the separator
between several signatures, the signed content as a template over ``{body}``, ``{timestamp}``, ``{id}``, ``{url}``
(the target URL, as ``signing_url`` gives it) and ``{header:NAME}``, where the timestamp and id travel, and how
the secret becomes the key (raw UTF-8, base64, or Standard Webhooks' ``whsec_<base64>``). The MAC is the standard
library's: one keyed ``hmac`` object per key, copied per message, so the key schedule is hashed once.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import re
import secrets
import time
from binascii import b2a_base64
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from harness.catalog import HmacSpec, Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.errors import ConfigError
from harness.signing._base import SigningScheme
from harness.signing._verifier import Headers, Verifier, get_header, parse_int, signing_url

__all__ = ["HmacScheme", "sorted_params"]

_FIELD = re.compile(r"\{([^{}]*)\}")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+=*$")
_KEYS: dict[tuple[str, str], Any] = {}
_UNSET = object()
_JOIN_BELOW = 16384  # bodies up to this size are joined with the signed prefix before hashing
_RFC3339 = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def rfc3339(now: float) -> str:
    """A UTC RFC 3339 timestamp with nanoseconds, as Twitch EventSub sends it (``2026-01-02T03:04:05.123456789Z``)."""
    seconds = int(now)
    nanos = round((now - seconds) * 1_000_000_000) % 1_000_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z"


def parse_rfc3339(text: str | None) -> int | None:
    """Whole seconds since the epoch of a strict RFC 3339 timestamp, or None."""
    match = _RFC3339.match(text or "")
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    try:
        seconds = calendar.timegm(time.struct_time((year, month, day, hour, minute, second, 0, 0, 0)))
    except (OverflowError, ValueError):
        return None
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    zone = match.group(8)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds


def _stamp(form: str, now: float) -> str:
    """The timestamp text in the description's format."""
    if form == "unix-ms":
        return str(int(now * 1000))
    return rfc3339(now) if form == "rfc3339" else str(int(now))


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


_ENCODERS: dict[str, Callable[[bytes], str]] = {"hex": bytes.hex, "base64": _b64, "base64url": _b64url}


def _decode(encoding: str, text: str, size: int) -> bytes | None:
    """A signature in the scheme's encoding, strictly, of the digest's exact length; None otherwise."""
    text = text.strip()
    try:
        if encoding == "hex":
            raw = bytes.fromhex(text) if len(text) == 2 * size else None
        elif encoding == "base64":
            raw = base64.b64decode(text, validate=True)
        else:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)) if _B64URL.match(text) else None
    except (binascii.Error, ValueError):
        return None
    return raw if raw is not None and len(raw) == size else None


def _pattern(template: str) -> re.Pattern[str]:
    """A regular expression matching one rendering of a header format, capturing its fields."""
    out, last, seen = [], 0, set()
    for match in _FIELD.finditer(template):
        out.append(re.escape(template[last : match.start()]))
        name = match.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")  # a field given twice holds one value
        seen.add(name)
        last = match.end()
    out.append(re.escape(template[last:]))
    return re.compile("".join(out))


class HmacScheme(SigningScheme):
    """One declarative HMAC scheme of one provider, built from its ``HmacSpec``."""

    def __init__(self, name: str, spec: HmacSpec) -> None:
        self.name = name
        self.spec = spec
        # More signatures of the same content with the same secret, one per header (GitHub's legacy SHA-1): every
        # delivery carries them all, and every forgery forges them all.
        self.companions = tuple(HmacScheme(f"{name}:{extra.header}", extra) for extra in spec.also)
        self.headers = (
            (spec.header,)
            + ((spec.timestamp_header,) if spec.timestamp_header else ())
            + tuple(c.spec.header for c in self.companions)
        )
        self.timestamped = spec.timestamped
        self._digest = getattr(hashlib, spec.algorithm)
        self._size: int = self._digest().digest_size
        self._encode = _ENCODERS[spec.encoding]
        self._base64 = spec.encoding == "base64"
        # The body slot: the raw bytes ({body}), or the form parameters sorted by name, each name followed by its
        # value ({params}: Twilio signs the URL and those, not the bytes, so a re-encoded form still verifies).
        self._params = "{params}" in spec.content and "{body}" not in spec.content
        before, _, after = spec.content.partition("{params}" if self._params else "{body}")
        self.needs_url = "{url}" in spec.content
        self._before = self._compile(before)
        self._after = self._compile(after)
        self._last: tuple[object, Any] = (_UNSET, None)  # the last secret and its keyed MAC
        self._header, self._stamp_header, self._id_header = spec.header, spec.timestamp_header, spec.id_header
        self._names = frozenset(name.lower() for name in self.headers)  # not the id header: it stays as it is
        self._lowered_names = self._names  # what the base class's _set_headers compares against
        head, _, tail = spec.format.partition("{signature}")
        self._stamp_in_value = "{timestamp}" in spec.format
        self._head, self._tail = head, tail
        parts = spec.format.split(spec.separator) if spec.separator else [spec.format]
        self._parts = [_pattern(part) for part in parts]

    # -- keys -------------------------------------------------------------------------------------------------

    def _key(self, provider: Provider, secret: str) -> bytes:
        if self.spec.secret == "raw":
            return secret.encode()
        text = secret.removeprefix("whsec_") if self.spec.secret == "whsec" else secret
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            if self.spec.secret == "whsec":
                raise ConfigError(f"A {provider.title} secret (--secret) is 'whsec_' followed by base64.") from None
            raise ConfigError(
                f"The {provider.title} secret (--secret) must be base64, as the provider shows it."
            ) from None

    def _mac(self, provider: Provider, secret: str) -> Any:
        """The keyed HMAC object for this secret, cached: each message copies it (the key is hashed once)."""
        cache_key = (self.spec.secret + self.spec.algorithm, secret)
        mac = _KEYS.get(cache_key)
        if mac is None:
            mac = hmac.new(self._key(provider, secret), digestmod=self._digest)
            if len(_KEYS) > 64:
                _KEYS.clear()
            _KEYS[cache_key] = mac
        return mac

    # -- the signed content ---------------------------------------------------------------------------------

    def _compile(self, template: str) -> bytes | Callable[[str, str, Headers, str], bytes]:
        """Constant bytes, or a function of (timestamp, id, headers, url) that renders the template part."""
        pieces = _FIELD.split(template)  # literal, field, literal, field, ..., literal
        if len(pieces) == 1:
            return template.encode()
        text = "%s".join(piece.replace("%", "%%") for piece in pieces[0::2])
        fields = tuple(pieces[1::2])
        if fields == ("timestamp",):  # the common shapes get a direct form: Slack, Stripe, Standard Webhooks
            return lambda stamp, msg_id, headers, url: (text % stamp).encode()
        if fields == ("id", "timestamp"):
            return lambda stamp, msg_id, headers, url: (text % (msg_id, stamp)).encode()
        if fields == ("url",):  # Square
            return lambda stamp, msg_id, headers, url: (text % url).encode()

        def fill(stamp: str, msg_id: str, headers: Headers, url: str) -> bytes:
            values = tuple(
                stamp
                if f == "timestamp"
                else msg_id
                if f == "id"
                else url
                if f == "url"
                else get_header(headers, f[7:]) or ""
                for f in fields
            )
            return (text % values).encode()

        return fill

    def _digest_of(self, mac: Any, body: bytes, stamp: str, msg_id: str, headers: Headers, url: str) -> bytes:
        if self._params:
            body = sorted_params(body) or b""
        inner = mac.copy()
        before, after = self._before, self._after
        if before:
            inner.update(before if isinstance(before, bytes) else before(stamp, msg_id, headers, url))
        inner.update(body)
        if after:
            inner.update(after if isinstance(after, bytes) else after(stamp, msg_id, headers, url))
        return inner.digest()  # type: ignore[no-any-return]

    def _url(self, provider: Provider, url: str) -> str:
        """The URL to sign or check: a scheme that signs it cannot do without it."""
        if not url:
            raise ConfigError(f"{provider.id} signs the URL each request is posted to, and no URL was given (url=).")
        return signing_url(url)

    def _value(self, signature: str, stamp: str) -> str:
        value = self._head + signature + self._tail
        return value.replace("{timestamp}", stamp) if self._stamp_in_value else value

    # -- signer -----------------------------------------------------------------------------------------------

    def sign(
        self, provider: Provider, delivery: Delivery, creds: Credentials, now: float, url: str | None = None
    ) -> Delivery:
        """Sign the exact body bytes (with timestamp, id, URL and headers as the content template says).

        ``url`` is the target, for a template with ``{url}`` (default: ``delivery.url``); it is kept on the result.
        Companion signatures (``also``) are added with the same secret.
        """
        signed = self._sign_own(provider, delivery, creds, now, url)
        for companion in self.companions:
            signed = companion._sign_own(provider, signed, creds, now, url)
        return signed

    def _sign_own(
        self, provider: Provider, delivery: Delivery, creds: Credentials, now: float, url: str | None = None
    ) -> Delivery:
        """This description's own signature header (and timestamp and id), without the companions."""
        last = self._last
        if last[0] is creds.secret:
            mac = last[1]
        else:
            mac = self._mac(provider, creds.secret or "")
            self._last = (creds.secret, mac)  # one atomic assignment
        seconds = int(now)
        stamp = _stamp(self.spec.timestamp_format, now)
        headers = delivery.headers
        msg_id = ""
        new_id = None
        id_header = self._id_header
        if id_header is not None:
            msg_id = headers.get(id_header) or delivery.header(id_header) or ""
            if not msg_id:
                msg_id = new_id = f"msg_{secrets.token_hex(12)}"
        target = self._url(provider, delivery.url if url is None else url) if self.needs_url else ""
        # The MAC, inlined (this is the signing hot path): the keyed object copied, then the rendered content.
        before, after, body = self._before, self._after, delivery.body
        if self._params:
            body = sorted_params(body) or b""
        prefix = before if isinstance(before, bytes) else before(stamp, msg_id, headers, target)
        suffix = after if isinstance(after, bytes) else after(stamp, msg_id, headers, target)
        inner = mac.copy()
        if len(body) <= _JOIN_BELOW:  # one update of the joined bytes is cheaper than three calls
            inner.update(prefix + body + suffix if suffix else prefix + body)
        else:
            inner.update(prefix)
            inner.update(body)
            inner.update(suffix)
        digest = inner.digest()
        signature = b2a_base64(digest, newline=False).decode() if self._base64 else self._encode(digest)
        value = self._head + signature + self._tail
        if self._stamp_in_value:
            value = value.replace("{timestamp}", stamp)
        if headers is not self._clean and not self._names.isdisjoint(map(str.lower, headers)):
            updates = self._updates(value, stamp, new_id)  # one of ours is there: with_headers replaces it
            signed = self._set_headers(delivery, updates, seconds if self.timestamped else None)
            return signed.replace(url=target) if self.needs_url and target != signed.url else signed
        self._clean = headers
        out = dict(headers)  # the common case: none of our headers is there yet, in any case
        out[self._header] = value
        if self._stamp_header is not None:
            out[self._stamp_header] = stamp
        if new_id is not None:
            out[id_header] = new_id  # type: ignore[index]
        if self.needs_url:
            if self.timestamped:
                return delivery.replace(headers=out, timestamp=seconds, url=target)
            return delivery.replace(headers=out, url=target)
        return delivery._with_signed(out, seconds if self.timestamped else None)

    @property
    def extra_keys_supported(self) -> bool:
        """The header can carry several signatures (one per active secret while a secret rolls), or the companion
        headers carry alternatives (``either``: Box's primary and secondary keys)."""
        return self.spec.separator is not None or (self.spec.either and bool(self.companions))

    def _add_signatures(
        self, provider: Provider, signed: Delivery, creds: Credentials, now: float, extra: tuple[Sequence[str], bool]
    ) -> Delivery:
        """One signature per extra key in the header's list, or (``either``) a companion header signed with one."""
        extra_keys, extra_first = extra
        separator = self.spec.separator
        if extra_keys and separator is None and self.spec.either and self.companions:
            # One header signed with a key the receiver does not hold yet (the primary just rotated, or the
            # secondary), the other with the receiver's: any match is valid.
            stranger = replace(creds, secret=extra_keys[0])
            if extra_first:
                return self._sign_own(provider, signed, stranger, now)
            for companion in self.companions:
                signed = companion._sign_own(provider, signed, stranger, now)
            return signed
        if not extra_keys or separator is None:
            return signed
        stamp = _stamp(self.spec.timestamp_format, now)
        msg_id = (signed.header(self._id_header) or "") if self._id_header else ""
        url = self._url(provider, signed.url) if self.needs_url else ""
        item = next(i for i in self.spec.format.split(separator) if "{signature}" in i)
        extras = []
        for key in extra_keys:
            digest = self._digest_of(self._mac(provider, key), signed.body, stamp, msg_id, signed.headers, url)
            extras.append(item.replace("{signature}", self._encode(digest)).replace("{timestamp}", stamp))
        items = (signed.header(self.spec.header) or "").split(separator)
        prefix = item.split("{signature}")[0].replace("{timestamp}", stamp)
        own = next((i for i, text in enumerate(items) if prefix and text.startswith(prefix)), len(items) - 1)
        items = items[:own] + extras + items[own:] if extra_first else items[: own + 1] + extras + items[own + 1 :]
        return signed.with_headers({self.spec.header: separator.join(items)})

    def _updates(self, value: str, stamp: str, new_id: str | None) -> dict[str, str]:
        updates = {self._header: value}
        if self._stamp_header is not None:
            updates[self._stamp_header] = stamp
        if new_id is not None and self._id_header is not None:
            updates[self._id_header] = new_id
        return updates

    def malformed(self, delivery: Delivery) -> Delivery:
        """The header in its format, but the signature is not in the scheme's encoding (companions likewise)."""
        stamp = _stamp(self.spec.timestamp_format, delivery.timestamp)
        out = delivery.with_headers({self.spec.header: self._value("%" * len(self._encode(b"\0" * self._size)), stamp)})
        for companion in self.companions:
            out = companion.malformed(out)
        return out

    @property
    def signature_headers(self) -> tuple[str, ...]:
        """The signature header and each companion's."""
        return (self.spec.header, *(c.spec.header for c in self.companions))

    @property
    def timestamp_header(self) -> str | None:
        """The header that carries the signed timestamp on its own (Slack's), if any."""
        return self.spec.timestamp_header

    def version_tag(self, value: str) -> tuple[str, str] | None:
        """The version tag the format puts before the signature (``v1`` and ``=``), whichever header it is in."""
        for spec in (self.spec, *(c.spec for c in self.companions)):
            head = spec.format.partition("{signature}")[0]
            match = re.search(r"([A-Za-z][A-Za-z0-9]*)([=,:])$", head)
            if match is not None and match.group(1) + match.group(2) in value:
                return match.group(1), match.group(2)
        return None

    def stamp_text(self, delivery: Delivery) -> str:
        """The signed timestamp as the delivery carries it, in its own header or in the signature header."""
        if self.spec.timestamp_header is not None:
            return delivery.header(self.spec.timestamp_header) or ""
        return self._parse(delivery.header(self.spec.header) or "")[0] or ""

    def with_timestamp(self, delivery: Delivery, stamp: str) -> Delivery | None:
        """The timestamp text replaced where it travels (its header, or the signature header's ``t=``)."""
        if self.spec.timestamp_header is not None:
            return delivery.with_headers({self.spec.timestamp_header: stamp})
        if not self._stamp_in_value:
            return None
        value, old = delivery.header(self.spec.header) or "", self.stamp_text(delivery)
        return delivery.with_headers({self.spec.header: value.replace(old, stamp, 1)}) if old else None

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """A random secret of the same form."""
        return replace(creds, secret=_random_secret(self.spec.secret, self.spec.secret_prefix))

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A random secret of the form the description names."""
        return Credentials(secret=_random_secret(self.spec.secret, self.spec.secret_prefix))

    # -- verifier ---------------------------------------------------------------------------------------------

    def _parse(self, value: str) -> tuple[str | None, list[str]]:
        """The timestamp and the signatures in a header value (items that match no part of the format are skipped)."""
        items = value.split(self.spec.separator) if self.spec.separator else [value]
        stamp: str | None = None
        signatures: list[str] = []
        for item in items:
            for part in self._parts:
                match = part.fullmatch(item.strip())
                if match is None:
                    continue
                found = match.groupdict()
                stamp = found.get("timestamp", stamp)
                if "signature" in found:
                    signatures.append(found["signature"])
                break
        return stamp, signatures

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Recompute the MAC over the received bytes and compare in constant time with every signature given."""
        spec = self.spec
        mac = self._mac(provider, creds.secret or "")
        alternatives = [c for c in self.companions if c.spec.algorithm == spec.algorithm] if spec.either else []

        def stamp_text(headers: Headers) -> str | None:
            if spec.timestamp_header is not None:
                return get_header(headers, spec.timestamp_header)
            return self._parse(get_header(headers, spec.header) or "")[0]

        def timestamp(headers: Headers) -> int | None:
            if not self.timestamped:
                return None
            if spec.timestamp_format == "rfc3339":
                return parse_rfc3339(stamp_text(headers))
            stamp = parse_int(stamp_text(headers))
            return stamp // 1000 if stamp is not None and spec.timestamp_format == "unix-ms" else stamp

        def check(headers: Headers, body: bytes, url: str = "") -> str | None:
            if self.needs_url:
                url = self._url(provider, url)
            value = get_header(headers, spec.header)
            if not value and not any(get_header(headers, c.spec.header) for c in alternatives):
                return f"missing {spec.header}"
            stamp, given = self._parse(value or "")
            if spec.timestamp_header is not None:
                stamp = get_header(headers, spec.timestamp_header)
                if not stamp:
                    return f"missing {spec.timestamp_header}"
            if (
                self.timestamped
                and (parse_rfc3339(stamp) if spec.timestamp_format == "rfc3339" else parse_int(stamp)) is None
            ):
                return "malformed or missing timestamp"
            msg_id = ""
            if spec.id_header is not None:
                msg_id = get_header(headers, spec.id_header) or ""
                if not msg_id:
                    return f"missing {spec.id_header}"
            decoded = [d for d in (_decode(spec.encoding, g, self._size) for g in given) if d is not None]
            if alternatives:  # Box: the primary or a secondary header; any one that matches will do
                decoded += [
                    d
                    for c in alternatives
                    for d in [_decode(c.spec.encoding, get_header(headers, c.spec.header) or "", c._size)]
                    if d is not None
                ]
            if not decoded:
                return f"malformed {spec.header}"
            expected = self._digest_of(mac, body, stamp or "", msg_id, headers, url)
            if any(hmac.compare_digest(expected, d) for d in decoded):
                return None
            return f"{spec.header} does not match"

        return Verifier(
            self.name,
            self.headers,
            True,
            check,
            timestamp,
            future_ok=not spec.reject_future,
            check_url=check if self.needs_url else None,
            timestamp_text=stamp_text if self.timestamped else _no_text,
            parse_stamp=_rfc3339_strict if spec.timestamp_format == "rfc3339" else int,
        )


def _no_text(headers: Headers) -> str | None:
    return None


def sorted_params(body: bytes) -> bytes | None:
    """Twilio's signed parameters: each name (sorted) followed by each of its values (sorted), as UTF-8; None when
    the body is not a strict form (no parameters are signed then, and the receiver's parser refuses the body)."""
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True, errors="strict")
    except ValueError:
        return None if body.strip() else b""
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return "".join(name + value for name in sorted(values) for value in sorted(values[name])).encode("utf-8")


def _rfc3339_strict(text: str) -> int:
    """An RFC 3339 timestamp as a naive receiver parses it: raises ValueError on anything else."""
    seconds = parse_rfc3339(text)
    if seconds is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text[:40]!r}")
    return seconds


def _random_secret(form: str, prefix: str) -> str:
    """A random secret in the description's form; raw secrets keep the provider's visible prefix."""
    if form == "whsec":
        return "whsec_" + _b64(secrets.token_bytes(32))
    if form == "base64":
        return _b64(secrets.token_bytes(32))
    value = prefix + secrets.token_urlsafe(32)
    for _ in range(64):  # pastes into any command line as an option value (a prefix with "-" is refused on load)
        if not value.startswith("-"):
            break
        value = prefix + secrets.token_urlsafe(32)
    return value
