"""The consumer's test: the provider's messages, as `webhook-harness pact export` states them, fed to the real handler.

``build_pact`` gives the same pact the export command writes (``load_pact(path)`` reads an exported, perhaps edited,
file instead). ``pact.verify(handler, "Async")`` hands each message's body and metadata to the handler; the metadata
carries the signature header's shape, not a signature the handler could check, so ``harness.sign`` signs the exact
body with the test's secret first, as the provider would. The pact written at the end is what the consumer
publishes to its broker, and what `webhook-harness pact verify` checks against the provider in CI.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from pact import Pact
from pact_handlers import Rejected, handle_github, handle_sendgrid, handle_stripe

from harness import Credentials, load_catalog, sign
from harness.pact import build_pact

STRIPE_SECRET = "whsec_example_consumer_secret"
GITHUB_SECRET = "example-github-secret"
_KEY = ec.generate_private_key(ec.SECP256R1())  # SendGrid's signed webhook: P-256; the receiver holds the public half
PRIVATE_PEM = _KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
PUBLIC_KEY = base64.b64encode(_KEY.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).decode()

Handler = Callable[[bytes, dict[str, str]], Any]
CASES: dict[str, tuple[Credentials, Handler, list[str]]] = {
    "stripe": (
        Credentials(secret=STRIPE_SECRET),
        functools.partial(handle_stripe, secret=STRIPE_SECRET),
        ["invoice.paid", "charge.refunded"],
    ),
    "github": (
        Credentials(secret=GITHUB_SECRET),
        functools.partial(handle_github, secret=GITHUB_SECRET),
        ["push", "ping"],
    ),
    "sendgrid": (
        Credentials(signing_key=PRIVATE_PEM.decode()),
        functools.partial(handle_sendgrid, public_key=PUBLIC_KEY),
        ["bounce", "delivered"],
    ),
}


def signed(provider: str, credentials: Credentials, handler: Handler) -> Callable[[Any, dict[str, Any]], None]:
    """A message handler for ``pact.verify``: the metadata's headers plus a real signature over the exact body."""

    def deliver(body: Any, metadata: dict[str, Any]) -> None:
        raw = str(body).encode() if not isinstance(body, bytes) else body
        headers = {key: str(value) for key, value in metadata.items()}
        headers.update(sign(provider, raw, credentials))
        handler(raw, headers)

    return deliver


@pytest.mark.parametrize("provider", sorted(CASES))
def test_handler_accepts_every_message_the_pact_promises(provider: str, tmp_path: Path) -> None:
    credentials, handler, events = CASES[provider]
    pact: Pact = build_pact(load_catalog().get(provider), "shop", events)
    pact.verify(signed(provider, credentials, handler), "Async")
    pact.write_file(tmp_path)  # the consumer pact to publish
    assert (tmp_path / f"shop-{provider}.json").is_file()


def test_a_handler_that_needs_an_optional_field_fails_its_consumer_test() -> None:
    def greedy(body: bytes, headers: dict[str, str]) -> None:
        handle_stripe(body, headers, STRIPE_SECRET)
        json.loads(body)["data"]["object"]["account_name"]  # optional in Stripe's invoice: not in the pact

    pact = build_pact(load_catalog().get("stripe"), "shop", ["invoice.paid"])
    errors = pact.verify(signed("stripe", Credentials(secret=STRIPE_SECRET), greedy), "Async", raises=False)
    assert [(e.description, repr(e.error)) for e in errors] == [
        ("a stripe invoice.paid webhook", "KeyError('account_name')")
    ]


def test_a_message_signed_with_another_secret_is_rejected() -> None:
    pact = build_pact(load_catalog().get("github"), "shop", ["push"])
    handler = functools.partial(handle_github, secret=GITHUB_SECRET)
    errors = pact.verify(signed("github", Credentials(secret="not-the-secret"), handler), "Async", raises=False)
    assert [type(e.error) for e in errors] == [Rejected]
