"""AWS SNS's certificate signatures: RSA over a canonical string of message fields, the certificate fetched by URL.

The message carries ``Signature`` (base64), ``SignatureVersion`` (1: SHA1withRSA, 2: SHA256withRSA) and
``SigningCertURL``. The harness mints a self-signed certificate for its key and serves it from a loopback
``CertificateServer`` that the credentials carry (one per session, or per ``serving_certificates`` block outside one);
a receiver must fetch the certificate only from the provider's hosts (the profile's ``auth.certificate``), so the
``foreign-cert-url`` forgery points at a host that is not one, and the server records whether the receiver fetched it.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import secrets
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from harness.catalog import CertificateSpec, Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.errors import ConfigError, UsageError
from harness.signing._base import SigningScheme, signature_fuzz, timestamp_fuzz
from harness.signing._serve import LoopbackServer
from harness.signing._verifier import Headers, Verifier, unb64
from harness.signing.keys import new_rsa_key, private_pem, rsa_private_key, self_signed, write_private_key

__all__ = [
    "BODY_CERT_URL",
    "BODY_SIGNATURE",
    "BODY_TIMESTAMP",
    "CertificateServer",
    "SnsCertificate",
    "certificates_of",
    "load_rsa_key",
    "serving_certificates",
    "sns_keypair",
    "string_to_sign",
]

# The message fields as the receiver's view of a request shows them: no HTTP header can have these names.
BODY_SIGNATURE, BODY_CERT_URL = "(body) Signature", "(body) SigningCertURL"
BODY_VERSION, BODY_TIMESTAMP = "(body) SignatureVersion", "(body) Timestamp"
NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
CONFIRMATIONS = ("SubscriptionConfirmation", "UnsubscribeConfirmation")
FOREIGN_HOST = "localhost"  # a host the profile's test hosts (127.0.0.1) do not include: the foreign certificate's
FETCH_TIMEOUT = 2.0
FETCH_CAP = 65536
_DIGESTS: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}


def _load(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """SNS's canonical string: each signed field present, in its fixed order, as ``name\\nvalue\\n``.

    Notifications sign Message, MessageId, Subject (when given), Timestamp, TopicArn and Type; subscription and
    unsubscribe confirmations sign SubscribeURL and Token instead of Subject.
    """
    keys = CONFIRMATION_KEYS if message.get("Type") in CONFIRMATIONS else NOTIFICATION_KEYS
    return "".join(f"{k}\n{_text(message[k])}\n" for k in keys if k in message and message[k] is not None).encode()


def _fields(body: bytes) -> dict[str, str]:
    """The signature fields of a body that may be anything, as text."""
    value = _load(body)
    if not isinstance(value, dict):
        return {}
    out = {}
    for name, key in (
        (BODY_SIGNATURE, "Signature"),
        (BODY_CERT_URL, "SigningCertURL"),
        (BODY_VERSION, "SignatureVersion"),
        (BODY_TIMESTAMP, "Timestamp"),
    ):
        item = value.get(key)
        if isinstance(item, str):
            out[name] = item
    return out


def _sns_time(now: float) -> str:
    stamp = dt.datetime.fromtimestamp(now, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time with an offset or Z, as a naive receiver parses it (raises ValueError otherwise)."""
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"no UTC offset in {text!r}")
    return parsed


def _seconds(text: str | None) -> int | None:
    if not text or len(text) > 40 or not text[:4].isdigit():
        return None
    try:
        return int(_parse_time(text).timestamp())
    except (ValueError, OverflowError):
        return None


# -- keys and certificates ----------------------------------------------------------------------------------------


def load_rsa_key(source: str) -> rsa.RSAPrivateKey:
    """An RSA private key from a PEM file or PEM text; a one-line error that never quotes the key."""
    return rsa_private_key(source, "aws-sns", "SNS's signature")


@lru_cache(maxsize=32)
def _certificate(key: rsa.RSAPrivateKey) -> bytes:
    """A self-signed certificate for the key, PEM (its subject names SNS, as the real signing certificate does)."""
    return self_signed(key, "sns.amazonaws.com", dt.timedelta(days=1), dt.timedelta(days=365))


def sns_keypair() -> tuple[bytes, bytes]:
    """A new RSA-2048 key as PKCS#8 PEM, and its self-signed certificate (PEM), as the harness serves it for SNS."""
    key = new_rsa_key()
    return private_pem(key), _certificate(key)


@lru_cache(maxsize=1)
def _stranger() -> rsa.RSAPrivateKey:
    """A throw-away key for the wrong-key and foreign-certificate forgeries, kept in memory only."""
    return new_rsa_key()


class CertificateServer:
    """A loopback HTTP server that serves certificates (and SNS's SubscribeURL) and records every path requested.

    It opens its socket on first use (a run that never signs an SNS message never serves one) and stops on
    ``close()`` or at the end of its ``with`` block; a session owns one, and so does ``serving_certificates``.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (for a sender process) as a fresh server: each process serves what it signs."""
        return (CertificateServer, ())

    def __init__(self) -> None:
        self._documents: dict[str, bytes] = {}
        self._hits: list[str] = []
        self._lock = threading.Lock()
        self._server: LoopbackServer | None = None
        self._closed = False

    def __enter__(self) -> CertificateServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        """The server is listening."""
        return self._server is not None

    def _started(self) -> LoopbackServer:
        with self._lock:
            if self._closed:
                raise UsageError("The certificate server was closed with its session: sign within the session.")
            if self._server is None:
                self._server = LoopbackServer(
                    self._answer, name="sns-certificates", what="the SNS certificates", timeout=FETCH_TIMEOUT
                )
                self._server.start()
            return self._server

    def _answer(self, path: str) -> tuple[int, bytes, Mapping[str, str]]:
        """A published document, SubscribeURL's confirmation at ``/``, or 404; every path is recorded."""
        with self._lock:
            self._hits.append(path)
            if len(self._hits) > 10_000:
                del self._hits[:5_000]
            path = path.split("?", 1)[0]
            body = self._documents.get(path)
        if body is None and path == "/":  # SubscribeURL: ?Action=ConfirmSubscription&...
            body = b"<ConfirmSubscriptionResponse/>"
        return (200, body, {}) if body is not None else (404, b"not found", {})

    @property
    def port(self) -> int:
        """The port it listens on (starting it if need be)."""
        return self._started().port

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        """The URL of a path on this server, under ``host`` (127.0.0.1, or the foreign ``localhost``)."""
        return f"http://{host}:{self.port}{path}"

    def publish(self, path: str, body: bytes) -> None:
        """Serve ``body`` at ``path``."""
        self._started()
        with self._lock:
            self._documents[path] = body

    def fetched(self, fragment: str) -> bool:
        """Some request's path (with its query) contained ``fragment``."""
        with self._lock:
            return any(fragment in hit for hit in self._hits)

    def close(self) -> None:
        """Stop serving (for good); nothing to do when it never started."""
        with self._lock:
            self._closed = True
            server, self._server = self._server, None
        if server is not None:
            server.close()


def certificates_of(creds: Credentials) -> CertificateServer:
    """The certificate server the credentials travel with (a session's, or ``serving_certificates``'s)."""
    server = creds.certificates
    if not isinstance(server, CertificateServer):
        raise ConfigError(
            "AWS SNS signing needs the certificate server the harness serves: sign within a Session, or within "
            "`with harness.signing.serving_certificates(credentials) as credentials:`."
        )
    return server


@contextmanager
def serving_certificates(creds: Credentials) -> Iterator[Credentials]:
    """The credentials with a certificate server of their own, stopped at the end of the block (outside a session).

    Credentials that already have one (a session's) are given back as they are.
    """
    if isinstance(creds.certificates, CertificateServer):
        yield creds
        return
    with CertificateServer() as server:
        yield dataclasses.replace(creds, certificates=server)


def _cert_url(creds: Credentials, key: rsa.RSAPrivateKey, host: str = "127.0.0.1", unique: bool = False) -> str:
    """Where the key's certificate is served, named as SNS names its certificates."""
    pem = _certificate(key)
    digest = hashlib.sha256(pem).hexdigest()[:32]
    path = f"/SimpleNotificationService-{digest}" + (f"-{secrets.token_hex(8)}" if unique else "") + ".pem"
    server = certificates_of(creds)
    server.publish(path, pem)
    return server.url(path, host)


# -- the scheme --------------------------------------------------------------------------------------------------


class SnsCertificate(SigningScheme):
    """Signs SNS messages with the harness's RSA key; the receiver fetches the certificate from SigningCertURL."""

    name = "aws-sns"
    headers = (BODY_SIGNATURE, BODY_CERT_URL, BODY_VERSION)
    timestamped = True
    secret_field = "signing_key"
    auth_in_body = True
    lax_steps = frozenset({"cert-host"})

    def _sign(
        self, provider: Provider, delivery: Delivery, key: rsa.RSAPrivateKey, cert_url: str, now: float
    ) -> Delivery:
        value = _load(delivery.body)
        if not isinstance(value, dict):
            return delivery  # a body that is not a JSON object cannot carry a signature
        message = {k: v for k, v in value.items() if k not in ("Signature", "SigningCertURL", "SignatureVersion")}
        message["Timestamp"] = _sns_time(now)
        spec = provider.auth.certificate
        version = spec.signature_version if spec is not None else "1"  # 1: SHA1withRSA (SNS's default), 2: SHA256
        signature = key.sign(string_to_sign(message), padding.PKCS1v15(), _DIGESTS[version]())
        message.update(
            SignatureVersion=version,
            Signature=base64.b64encode(signature).decode(),
            SigningCertURL=cert_url,
        )
        return delivery.replace(body=provider.encode(message), payload=message, timestamp=int(now))

    def sign(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Write Timestamp, SignatureVersion, Signature and SigningCertURL into the message."""
        key = load_rsa_key(creds.signing_key or "")
        return self._sign(provider, delivery, key, _cert_url(creds, key), now)

    def variants(self, provider: Provider) -> tuple[str, ...]:
        """The usual forgeries, and a certificate URL on a host that is not the provider's."""
        return (*super().variants(provider), "foreign-cert-url")

    def forge(
        self, provider: Provider, delivery: Delivery, creds: Credentials, variant: str, now: float
    ) -> Delivery | None:
        """Each forgery as an attacker makes it: the genuine certificate URL with another key, or a foreign one."""
        if variant not in self.variants(provider):
            return None
        genuine = _cert_url(creds, load_rsa_key(creds.signing_key or ""))
        if variant == "missing":  # the message as SNS sends it, its signature fields removed
            value = _load(self.sign(provider, delivery, creds, now).body)
            if not isinstance(value, dict):
                return delivery
            kept = {k: v for k, v in value.items() if k not in ("Signature", "SigningCertURL", "SignatureVersion")}
            return delivery.replace(body=provider.encode(kept))
        if variant == "wrong-key":
            return self._sign(provider, delivery, _stranger(), genuine, now)
        if variant == "foreign-cert-url":
            foreign = _cert_url(creds, _stranger(), FOREIGN_HOST, unique=True)
            return self._sign(provider, delivery, _stranger(), foreign, now)
        return super().forge(provider, delivery, creds, variant, now)

    def tampered(self, provider: Provider, signed: Delivery, original: bytes) -> Delivery:
        """The signed message with its Message text changed (a field added elsewhere is not signed)."""
        value = _load(signed.body)
        if not isinstance(value, dict) or not isinstance(value.get("Message"), str):
            return super().tampered(provider, signed, original)
        text = value["Message"]
        value["Message"] = text + "x" if not text.endswith("x") else text[:-1] + "y"
        return signed.replace(body=provider.encode(value), payload=value)

    def malformed(self, delivery: Delivery) -> Delivery:
        """A Signature that is not base64 (the certificate URL stays the genuine one)."""
        return self._with_fields(delivery, {"Signature": "not*base64*signature!"})

    def _with_fields(self, delivery: Delivery, fields: Mapping[str, Any]) -> Delivery:
        value = _load(delivery.body)
        if not isinstance(value, dict):
            return delivery
        return delivery.replace(body=json.dumps({**value, **fields}, ensure_ascii=False).encode())

    def fuzz_base(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> Delivery:
        """Signed with a stranger's key, under the genuine certificate URL."""
        return self._sign(provider, delivery, _stranger(), _cert_url(creds, load_rsa_key(creds.signing_key or "")), now)

    def fuzz(self, provider: Provider, delivery: Delivery, creds: Credentials, now: float) -> list[Delivery]:
        """Malformed timestamps, signatures and certificate URLs in the message, none with a valid signature."""
        base = self.fuzz_base(provider, delivery, creds, now)
        value = _load(base.body)
        if not isinstance(value, dict):
            return []
        genuine = str(value.get("SigningCertURL", ""))
        parts = urlsplit(genuine)
        cases: list[tuple[str, Mapping[str, Any]]] = [
            (f"Timestamp: {label}", {"Timestamp": stamp}) for label, stamp in timestamp_fuzz(str(value["Timestamp"]))
        ]
        cases += [
            (f"Signature: {label}", {"Signature": mangled})
            for label, mangled in signature_fuzz(str(value["Signature"]))
        ]
        cases += [
            ("Signature a number", {"Signature": 12345}),
            ("SignatureVersion 3", {"SignatureVersion": "3"}),
            ("SignatureVersion a number", {"SignatureVersion": 1}),
            ("SigningCertURL empty", {"SigningCertURL": ""}),
            ("SigningCertURL not a URL", {"SigningCertURL": "not a url"}),
            ("SigningCertURL with user-info", {"SigningCertURL": genuine.replace("://", "://sns.amazonaws.com@", 1)}),
            ("SigningCertURL on a lookalike host", {"SigningCertURL": genuine.replace(parts.netloc, "sns.evil.test")}),
            ("SigningCertURL a file", {"SigningCertURL": "file:///etc/passwd"}),
        ]
        return [self._with_fields(base, fields).replace(label=f"fuzzed body {label}") for label, fields in cases]

    def with_timestamp(self, delivery: Delivery, stamp: str) -> Delivery | None:
        """The message's Timestamp replaced."""
        return self._with_fields(delivery, {"Timestamp": stamp})

    def stamp_text(self, delivery: Delivery) -> str:
        """The message's Timestamp."""
        return _fields(delivery.body).get(BODY_TIMESTAMP, "")

    def verifier(self, provider: Provider, creds: Credentials, token_ok: Callable[[str], bool]) -> Verifier:
        """Check the certificate URL's host first, then fetch it (cached) and verify the RSA signature."""
        return self.lax_verifier(provider, creds, frozenset())

    def lax_verifier(self, provider: Provider, creds: Credentials, skip: frozenset[str]) -> Verifier:
        """The check, leaving out the ``skip`` steps (``cert-host``: any certificate URL is fetched)."""
        spec = provider.auth.certificate or CertificateSpec(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
        trusted: Callable[[str], bool] = (lambda url: True) if "cert-host" in skip else spec.trusted
        cache: dict[str, x509.Certificate | None] = {}

        def check(headers: Headers, body: bytes) -> str | None:
            message = _load(body)
            headers = _fields(body)  # the signature travels in the message, whatever the headers say
            signature, url = headers.get(BODY_SIGNATURE), headers.get(BODY_CERT_URL)
            if not isinstance(message, dict) or not signature or not url:
                return "missing SNS Signature or SigningCertURL"
            digest = _DIGESTS.get(headers.get(BODY_VERSION) or "")
            raw = unb64(signature)
            if digest is None or raw is None or _seconds(headers.get(BODY_TIMESTAMP)) is None:
                return "malformed SNS Signature, SignatureVersion or Timestamp"
            if not trusted(url):
                return "SigningCertURL is not on the provider's certificate host (not fetched)"
            if url not in cache:
                if len(cache) > 64:
                    cache.clear()
                cache[url] = _fetch_certificate(url)
            cert = cache[url]
            if cert is None:
                return "the signing certificate could not be fetched or read"
            public = cert.public_key()
            if not isinstance(public, rsa.RSAPublicKey):
                return "the signing certificate's key is not RSA"
            try:
                public.verify(raw, string_to_sign(message), padding.PKCS1v15(), digest())
            except (InvalidSignature, ValueError):
                return "SNS signature does not verify"
            return None

        return Verifier.stamped(
            self.name,
            self.headers,
            True,
            check,
            BODY_TIMESTAMP,
            _seconds,
            future_ok=True,
            parse_stamp=_parse_time,
            body_fields=_fields,
        )

    def wrong_credentials(self, creds: Credentials) -> Credentials:
        """Unused: the forgeries sign with the stranger's key directly (the certificate URL stays the genuine one)."""
        return creds

    def fresh_credentials(self, provider: Provider, folder: Path, token_url: str) -> Credentials:
        """A new RSA key written (mode 0600) into the folder."""
        return Credentials(signing_key=write_private_key(folder / "sns-signing-key.pem", new_rsa_key()))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def _fetch_certificate(url: str) -> x509.Certificate | None:
    """GET a PEM certificate (bounded: no proxy, no redirects, a deadline and a byte cap); None when it fails."""
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    try:
        with _OPENER.open(url, timeout=FETCH_TIMEOUT) as response:
            data = response.read(FETCH_CAP + 1)
            if response.status != 200 or len(data) > FETCH_CAP:
                return None
        return x509.load_pem_x509_certificate(data)
    except (OSError, ValueError):
        return None
