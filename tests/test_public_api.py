"""The curated public API: pinned, documented, and `sign`/`verify` as the providers' own libraries see them."""

from __future__ import annotations

import json
import runpy
import time
from pathlib import Path

import pytest

import harness
from harness import Credentials, sign, verify, verify_reason

ROOT = Path(__file__).resolve().parents[1]

PINNED = [
    "Catalog", "Provider", "load_catalog",
    "Credentials", "Delivery", "Reply", "build_delivery", "sign", "signed_deliveries", "verify", "verify_reason",
    "invalid_payloads", "malformed_bodies", "novel_deliveries", "payloads", "VolumeGenerator",
    "CheckContext", "CheckOutcome", "NetworkOptions", "RunConfig", "RunResult", "Session", "check",
    "resolve_run_config", "run_check", "run_checks",
    "Probe", "HttpProbe", "SqlProbe",
    "AioTransport", "InProcessTransport", "RequestsTransport", "Transport",
    "Registry",
    "ConfigError", "HarnessWarning", "HarnessError", "ScenarioError", "SchemaLoadError", "TokenError", "TransportError",
    "UsageError",
    "ContractViolation", "ViolationGroup",
    "__version__",
]  # fmt: skip


def test_all_is_pinned_and_every_name_resolves() -> None:
    assert harness.__all__ == PINNED
    for name in PINNED:
        assert getattr(harness, name) is not None, name


def test_the_simulator_is_the_subpackage_and_its_one_call_api() -> None:
    # `harness.simulate` is the subpackage, so the one-call API is imported from it, not re-exported at the top.
    from harness.simulate import simulate

    assert callable(simulate) and "simulate" not in harness.__all__
    # Likewise `harness.deliveries` is a module: the strategy is `from harness.strategies import deliveries`.
    assert "deliveries" not in harness.__all__


def test_the_api_reference_page_is_current() -> None:
    module = runpy.run_path(str(ROOT / "scripts" / "gen_api_docs.py"))
    assert (ROOT / "docs" / "api.md").read_text(encoding="utf-8") == module["render"](), (
        "docs/api.md is stale: run python scripts/gen_api_docs.py"
    )


def test_stripe_sign_is_accepted_by_stripes_own_library() -> None:
    stripe = pytest.importorskip("stripe")
    secret = "whsec_" + "a" * 32
    body = b'{"id": "evt_1", "object": "event", "type": "charge.succeeded", "data": {"object": {}}}'
    headers = sign("stripe", body, Credentials(secret=secret))
    event = stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], secret)
    assert event["id"] == "evt_1"
    assert verify("stripe", body, headers, Credentials(secret=secret))


def test_standard_webhooks_sign_is_accepted_by_its_library_and_keeps_a_given_id() -> None:
    standardwebhooks = pytest.importorskip("standardwebhooks")
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = json.dumps({"type": "contact.created", "data": {"id": 1}}).encode()
    headers = sign("standard", body, Credentials(secret=secret), headers={"webhook-id": "msg_fixed"})
    assert headers["webhook-id"] == "msg_fixed"
    assert standardwebhooks.Webhook(secret).verify(body, headers) == {"type": "contact.created", "data": {"id": 1}}


@pytest.mark.parametrize("provider", ["github", "stripe", "slack", "shopify", "standard", "jira", "zoom", "paddle"])
def test_verify_refuses_tampering_a_wrong_key_and_a_stale_timestamp(provider: str) -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" if provider == "standard" else "s3cret-value-0123456789"
    creds = Credentials(secret=secret)
    body = b'{"hello": "w\xc3\xb6rld"}'
    now = time.time()
    headers = sign(provider, body, creds, timestamp=now)
    assert verify(provider, body, headers, creds, now=now)
    assert not verify(provider, body + b" ", headers, creds, now=now)
    wrong = "whsec_c2VjcmV0LWJ1dC1ub3QtdGhpcy1vbmUtYWJj" if provider == "standard" else "another-secret-987"
    assert not verify(provider, body, headers, Credentials(secret=wrong), now=now)
    reason = verify_reason(provider, body, headers, creds, now=now + 86_400)
    if harness.load_catalog().get(provider).auth.tolerance is not None and reason is not None:
        assert "timestamp" in reason or "old" in reason


def test_sendgrid_signs_with_a_pem_key_and_oci_basic_becomes_an_authorization_header() -> None:
    from harness.signing.keys import generate_keypair

    pem, _ = generate_keypair()
    creds = Credentials(signing_key=pem.decode())
    body = b'[{"email":"a@example.com","event":"delivered"}]\r\n'
    headers = sign("sendgrid", body, creds)
    assert verify("sendgrid", body, headers, creds)
    assert sign("oci", b"{}", Credentials(basic=("user", "pass")))["Authorization"] == "Basic dXNlcjpwYXNz"


def test_square_signs_the_url_through_the_public_helpers() -> None:
    from harness.errors import ConfigError

    creds = Credentials(secret="sq-signature-key")
    body = b'{"type":"payment.created","event_id":"e1"}'
    url = "https://hooks.example.com/square?shop=1"
    headers = sign("square", body, creds, url=url)
    assert verify("square", body, headers, creds, url=url)
    assert verify_reason("square", body, headers, creds, url=url + "2") == (
        "square: x-square-hmacsha256-signature does not match"
    )
    with pytest.raises(ConfigError, match="no URL was given"):
        sign("square", body, creds)
    with pytest.raises(ConfigError, match="no URL was given"):
        verify("square", body, headers, creds)


# Modules documented as public entry points besides the package root, and the names they offer.
_PUBLIC_MODULES = {
    "harness.strategies": "harness.strategies",
    "harness.simulate": "harness.simulate",
    "harness.pytest_plugin": "harness.pytest_plugin",
    "harness.pact": "harness.pact",  # the Pact bridge (docs/pact.md; the [pact] extra)
    "harness.sequences": "harness.sequences",  # event sequences (docs/sequences.md)
}
_LOCUST = ("WebhookUser",)  # harness.locust is not imported here: importing Locust monkey-patches the process


def test_docs_and_examples_import_only_public_names() -> None:
    """``from harness import X`` with X in ``harness.__all__``, or a name a documented public module exports."""
    import importlib
    import re

    importer = re.compile(r"^[ \t]*from (harness(?:\.[\w.]+)?) import (?:\(([^)]*)\)|([\w \t,]+))", re.MULTILINE)
    bare = re.compile(r"^\s*import (harness\.[\w.]+)", re.MULTILINE)
    files = [*ROOT.glob("docs/**/*.md"), *ROOT.glob("examples/**/*.py"), *ROOT.glob("examples/**/*.md")]
    files += [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    wrong = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        wrong += [f"{path.name}: import {m}" for m in bare.findall(text)]
        for module, grouped, inline in importer.findall(text):
            names = grouped or inline
            for name in (n.strip() for n in names.replace("\n", ",").split(",") if n.strip()):
                if module == "harness":
                    public = name in harness.__all__
                elif module == "harness.locust":
                    public = name in _LOCUST
                elif module in _PUBLIC_MODULES:
                    public = name in getattr(importlib.import_module(module), "__all__", ())
                else:
                    public = False
                if not public:
                    wrong.append(f"{path.relative_to(ROOT)}: from {module} import {name}")
    assert not wrong, wrong
