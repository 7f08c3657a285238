"""Sign and verify a webhook body exactly as a provider does: the stable helpers for users' own tests.

``sign`` gives the headers a provider would send with ``body``; ``verify`` answers what a correct receiver would.
Both go through the registered schemes, the same code the contract checks and the reference receiver run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from harness.catalog import Catalog, Provider, load_catalog
from harness.core.models import Delivery
from harness.credentials import Credentials

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["sign", "signed_deliveries", "verify", "verify_reason"]


def _provider(provider: str | Provider) -> Provider:
    return provider if isinstance(provider, Provider) else load_catalog().get(provider)


def _body(provider: Provider, body: bytes | str | Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return provider.encode(body)  # a payload (dict or list): the provider's exact serialisation


def sign(
    provider: str | Provider,
    body: bytes | str | Any,
    credentials: Credentials,
    *,
    timestamp: float | None = None,
    headers: Mapping[str, str] | None = None,
    url: str | None = None,
) -> dict[str, str]:
    """The headers the provider sends with ``body``: ``headers`` plus its signature, timestamp and id headers.

    ``body`` is sent byte for byte (a dict or list is serialised as the provider does). ``timestamp`` defaults to
    now; a Standard Webhooks message id is made when ``headers`` has none. Basic credentials become an
    ``Authorization`` header (OCI sends them in the URL). ``url`` is where the request goes: Square signs it
    (user-info and fragment left out, the query string kept), and it is ignored by providers that do not.

    Example::

        headers = sign("stripe", raw_body, Credentials(secret="whsec_..."), timestamp=1_700_000_000)
        client.post("/webhooks/stripe", content=raw_body, headers=headers)
    """
    import base64

    from harness.signing import active_schemes, sign_delivery
    from harness.signing.requirements import check_credentials

    chosen = _provider(provider)
    check_credentials(chosen, credentials)  # never silently unsigned: as the CLI, name what is missing
    if any(s.auth_in_body for s in active_schemes(chosen, credentials)):
        from harness.errors import UsageError

        raise UsageError(
            f"{chosen.id} signs inside the body, so its headers alone carry no signature: use "
            "harness.signatures.signed_deliveries or harness.signing.sign_delivery, which give the signed body."
        )
    data = _body(chosen, body)
    try:
        payload: Any = json.loads(data)
    except ValueError:
        payload = None
    delivery = Delivery(chosen.id, chosen.method, dict(headers or {}), data, (), (), payload=payload)
    at = time.time() if timestamp is None else timestamp
    signed = sign_delivery(chosen, delivery, credentials, now=at, url=url)
    out = dict(signed.headers)
    if signed.url_userinfo:
        pair = f"{signed.url_userinfo[0]}:{signed.url_userinfo[1]}".encode()
        out["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    return out


def signed_deliveries(
    provider: str | Provider,
    credentials: Credentials,
    event: str | None = None,
    *,
    url: str | None = None,
    catalog: Catalog | None = None,
) -> SearchStrategy[Delivery]:
    """A Hypothesis strategy of valid deliveries signed as the provider signs them, each at the moment it is drawn.

    The same deliveries as ``harness.strategies.deliveries`` (one event, or a SendGrid batch), with the provider's
    auth headers; ``url`` is where they will be posted (Square signs it). Credentials the provider cannot use are a
    one-line ``UsageError``, not unsigned deliveries. Example::

        @given(signed_deliveries("github", Credentials(secret="s3cret")))
        def test_handler_acknowledges(delivery: Delivery) -> None:
            assert client.post("/hook", content=delivery.body, headers=dict(delivery.headers)).status_code == 204
    """
    from harness.signing import sign_delivery
    from harness.signing.requirements import check_credentials
    from harness.strategies import deliveries

    chosen = provider if isinstance(provider, Provider) else (catalog or load_catalog()).get(provider)
    check_credentials(chosen, credentials)
    return deliveries(chosen, event, catalog=catalog).map(lambda d: sign_delivery(chosen, d, credentials, url=url))


def verify_reason(
    provider: str | Provider,
    body: bytes | str,
    headers: Mapping[str, str],
    credentials: Credentials,
    *,
    now: float | None = None,
    url: str = "",
) -> str | None:
    """Why a correct receiver would refuse this request (bad or missing signature, stale timestamp), or None.

    ``url`` is the URL the request was sent to, as the provider has it registered (Square signs it).
    """
    from harness.signing import verifiers

    chosen = _provider(provider)
    data = body.encode("utf-8") if isinstance(body, str) else body
    at = time.time() if now is None else now
    for verifier in verifiers(chosen, credentials, lambda token: False):
        seen = verifier.view(headers, data)  # with the credential fields a body carries (Mailgun)
        reason = verifier.reason(headers, data, url) or verifier.stale(seen, at, chosen.auth.tolerance)
        if reason:
            return f"{verifier.name}: {reason}"
    return None


def verify(
    provider: str | Provider,
    body: bytes | str,
    headers: Mapping[str, str],
    credentials: Credentials,
    *,
    now: float | None = None,
    url: str = "",
) -> bool:
    """True when a correct receiver, holding ``credentials``, would accept these exact bytes and headers (sent to
    ``url``, for a provider that signs it)."""
    return verify_reason(provider, body, headers, credentials, now=now, url=url) is None
