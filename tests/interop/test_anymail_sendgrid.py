"""django-anymail's SendGrid tracking webhook with HTTP Basic auth *and* the ECDSA signature, as anymail's docs set it
up: ``ANYMAIL["WEBHOOK_SECRET"]`` is the ``user:pass`` put in the Event Webhook's POST URL, and
``SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY`` is the public key SendGrid shows.

Both are required on every request, so the harness must send the URL's user-info as Basic together with the
signature (the profile lists ``basic`` among SendGrid's schemes).
"""

from __future__ import annotations

import warnings

import django
import pytest
from django.conf import settings

from harness.credentials import Credentials
from harness.signing.keys import generate_keypair, public_key_b64
from harness.transport.inprocess import InProcessTransport
from tests.interop._run import CountingProbe, failures, run

PEM, _ = generate_keypair()
PRIVATE_PEM = PEM.decode()
WEBHOOK_SECRET = "random:interop-anymail-password"
stored: dict[str, int] = {}


def _public_key() -> str:
    from harness.signing.keys import load_private_key

    return public_key_b64(load_private_key(PRIVATE_PEM).public_key())


@pytest.fixture(scope="module")
def anymail_app():  # type: ignore[no-untyped-def]
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="interop-only",
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF="tests.interop._anymail_urls",
            INSTALLED_APPS=["anymail"],
            MIDDLEWARE=[],
            ANYMAIL={
                "WEBHOOK_SECRET": WEBHOOK_SECRET,
                "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": _public_key(),
            },
        )
        django.setup()
    from anymail.signals import tracking
    from django.core.wsgi import get_wsgi_application

    def handle(sender, event, esp_name, **kwargs):  # type: ignore[no-untyped-def]
        # anymail's docs: a tracking event may arrive more than once; event_id (sg_event_id) identifies it.
        stored.setdefault(event.event_id, 1)

    tracking.connect(handle, weak=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anymail warns that it no longer supports SendGrid officially
        yield get_wsgi_application()
    tracking.disconnect(handle)


EXPECTED = {
    "accepts-pass-through": "passed",  # NUL, emoji, RTL marks, 10 KB and 2^53+1 in user-typed fields: 2xx
    "converges": "skipped",  # no state probe: lifecycles are not judged
    # provider-sends: SendGrid sends the URL's user:pass as Basic *and* its ECDSA signature; both pass.
    "accepts-valid": "passed",
    "verifies-raw-body": "passed",
    "accepts-unknown-fields": "passed",
    "redelivery-accepted": "passed",
    "single-effect": "passed",  # the signal handler keeps each event_id once
    "no-server-error": "passed",
    "responds-in-time": "passed",
    # anyone-can-send: missing or wrong Basic, wrong key, tampered body and unsigned garbage get 400 ...
    "rejects-missing-auth": "passed",
    "rejects-tampered-body": "passed",
    "rejects-malformed": "passed",
    # ... except a non-ASCII signature: base64.b64decode raises ValueError on non-ASCII text, which anymail does not
    # catch (only binascii.Error), so anyone can make it answer 500 before the signature is verified.
    "rejects-bad-auth": "failed",
    # secret-holder-only: correctly signed garbage escapes json.loads as a 500; schema-invalid events get 200.
    "handles-signed-malformed": "warned",
    "rejects-schema-violations": "warned",
    # not applicable: SendGrid documents no tolerance and one key; no handshake or reply format.
    "accepts-rotated-secret": "skipped",
    "rejects-stale-timestamp": "skipped",
    "handshake": "skipped",
    "reply-format": "skipped",
}


def test_anymail_sendgrid_with_basic_and_ecdsa(anymail_app) -> None:  # type: ignore[no-untyped-def]
    user, password = WEBHOOK_SECRET.split(":")
    creds = Credentials(signing_key=PRIVATE_PEM, basic=(user, password))
    with InProcessTransport.for_wsgi(anymail_app) as transport:
        statuses, result = run(
            "sendgrid", "http://testserver/anymail/sendgrid/tracking/", transport, creds, probe=CountingProbe(stored)
        )
    assert statuses == EXPECTED, failures(result)
    (finding,) = next(o for o in result.outcomes if o.check == "rejects-bad-auth").violations
    assert "non-ASCII" in finding.title


def test_without_basic_every_delivery_is_refused(anymail_app) -> None:  # type: ignore[no-untyped-def]
    """What the harness did before SendGrid's profile listed Basic: the run is blocked at the valid delivery."""
    with InProcessTransport.for_wsgi(anymail_app) as transport:
        statuses, _ = run(
            "sendgrid",
            "http://testserver/anymail/sendgrid/tracking/",
            transport,
            Credentials(signing_key=PRIVATE_PEM),
            checks=["accepts-valid", "rejects-missing-auth"],
        )
    assert statuses == {"accepts-valid": "failed", "rejects-missing-auth": "blocked"}
