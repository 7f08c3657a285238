"""Every scheme, coded or declared, is verified by the reference receiver through its registered verifier."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from harness.catalog import load_catalog
from harness.receiver import ReferenceReceiver
from harness.signing import SCHEMES, applicable_variants, forge_delivery
from tests.receiver._helpers import delivery, send, signed

SVIX = {"header": "svix-signature", "timestamp": {"header": "svix-timestamp"}, "id": {"header": "svix-id"}}


def _cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(provider, scheme, profile overrides): every scheme of every built-in provider, plus the unused coded ones."""
    cases = [(p.id, name, {}) for p in load_catalog() for name in p.auth.schemes]
    cases.append(("oci", "bearer", {}))  # registered, listed by no built-in profile
    cases.append(("standard", "standard-svix", {"hmac": {"standard": SVIX}}))  # Svix's header names, as data
    return cases


CASES = _cases()


def test_the_cases_cover_every_registered_and_every_declared_scheme() -> None:
    covered = {name for _, name, _ in CASES}
    declared = {name for p in load_catalog() for name in p.auth.hmac}
    assert set(SCHEMES.names()) | declared <= covered


@pytest.mark.parametrize(("pid", "scheme", "auth"), CASES, ids=[f"{p}-{s}" for p, s, _ in CASES])
def test_reference_receiver_accepts_the_signed_delivery_and_rejects_every_variant(
    pid: str, scheme: str, auth: dict[str, Any]
) -> None:
    name = "standard" if scheme == "standard-svix" else scheme
    provider = load_catalog(overrides={pid: {"auth": {**auth, "schemes": [name]}}}).get(pid)
    with ReferenceReceiver(provider) as rx:
        base = delivery(rx.provider, seed=41)
        answer = send(rx, signed(rx, base))
        assert 200 <= answer.status_code < 300, answer.text
        variants = applicable_variants(rx.provider, rx.credentials)
        assert {"missing", "wrong-key", "malformed-header"} <= set(variants)
        for variant in variants:
            forged = forge_delivery(rx.provider, delivery(rx.provider, seed=42), rx.credentials, variant, url=rx.url)
            assert forged is not None
            assert send(rx, forged).status_code in (400, 401, 403), variant


def test_svix_library_signatures_are_accepted_with_svix_header_names() -> None:
    from svix.webhooks import Webhook

    provider = load_catalog(overrides={"standard": {"auth": {"hmac": {"standard": SVIX}}}}).get("standard")
    with ReferenceReceiver(provider) as rx:
        d = delivery(rx.provider, seed=43)
        now = datetime.now(UTC)
        signature = Webhook(rx.credentials.secret or "").sign("msg_svix_1", now, d.body.decode())
        d = d.with_headers(
            {"svix-id": "msg_svix_1", "svix-timestamp": str(int(now.timestamp())), "svix-signature": signature}
        )
        answer = send(rx, d)
        assert answer.status_code == 200, answer.text
        assert send(rx, d, body=d.body + b" ").status_code == 401
