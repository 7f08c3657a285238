"""Issue 24's handshake providers (Microsoft Graph, Dropbox, Asana, Okta, Twitch): their auth passes the official or
the documented verifier and every forgery fails it; their handshakes are answered as described, and answered wrongly
by each handshake bug."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.catalog import load_catalog
from harness.checks.handshake import _problems
from harness.core.models import Delivery, Reply
from harness.credentials import Credentials
from harness.deliveries import build_delivery
from harness.errors import SchemaLoadError
from harness.receiver import ReferenceReceiver, handshake_answer
from harness.signing import applicable_variants, forge_delivery, fuzz_deliveries, sign_delivery, verifiers
from harness.signing._declarative import parse_rfc3339, rfc3339

CATALOG = load_catalog()
NOW = 1_764_600_000.0
SECRET = "s3cr3t-for-tests-0123456789"
Verify = Callable[[Delivery], bool]


def _delivery(pid: str, event: str | None = None) -> Delivery:
    provider = CATALOG.get(pid)
    name = event or sorted(provider.ordinary_events)[0]
    return build_delivery(provider, provider.events[name].samples[0], event_types=[name], now=NOW)


class _Request:
    """What twitchAPI's handlers read from an aiohttp request: headers and the body text."""

    def __init__(self, delivery: Delivery) -> None:
        self.headers = dict(delivery.headers)
        self._body = delivery.body

    async def text(self) -> str:
        return self._body.decode("utf-8")


def _fresh(stamp: str) -> bool:
    """Twitch's documented replay rule, restated: refuse a message whose timestamp is over 10 minutes old."""
    try:
        sent = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return False
    return NOW - sent <= 600


def _twitch_official(secret: str) -> Verify:
    """twitchAPI's own EventSub webhook signature check (EventSubWebhook._verify_signature), plus the documented
    10-minute freshness rule, which twitchAPI does not apply."""
    from twitchAPI.eventsub.webhook import EventSubWebhook

    hook = object.__new__(EventSubWebhook)  # only the secret is needed: no Twitch client, no server
    hook.secret = secret

    def verify(d: Delivery) -> bool:
        try:
            signed = bool(asyncio.run(hook._verify_signature(_Request(d))))
            return signed and _fresh(d.header("Twitch-Eventsub-Message-Timestamp") or "")
        except KeyError:  # a header it reads is missing: its handler fails the request
            return False

    return verify


def _body_hmac(header: str, secret: str) -> Verify:
    """Dropbox and Asana, as their docs state it: the hex HMAC-SHA256 of the raw body with the secret."""

    def verify(d: Delivery) -> bool:
        expected = hmac.new(secret.encode(), d.body, hashlib.sha256).hexdigest().encode()
        return hmac.compare_digest(expected, (d.header(header) or "").encode("utf-8", "surrogatepass"))

    return verify


def _graph_client_state(secret: str) -> Verify:
    """Graph's documented receiver rule: every notification's clientState equals the subscription's."""

    def verify(d: Delivery) -> bool:
        try:
            items = json.loads(d.body)["value"]
        except (ValueError, KeyError, TypeError):
            return False
        return bool(items) and all(isinstance(i, dict) and i.get("clientState") == secret for i in items)

    return verify


def _okta(secret: str) -> Verify:
    """Okta sends the configured header value as it is."""
    return lambda d: d.header("Authorization") == secret


VERIFIERS: dict[str, Callable[[str], Verify]] = {
    "twitch": _twitch_official,
    "dropbox": lambda s: _body_hmac("X-Dropbox-Signature", s),
    "asana": lambda s: _body_hmac("X-Hook-Signature", s),
    "msgraph": _graph_client_state,
    "okta": _okta,
}


@pytest.mark.parametrize("pid", sorted(VERIFIERS))
def test_signed_deliveries_pass_and_every_forgery_fails_the_providers_verifier(pid: str) -> None:
    provider = CATALOG.get(pid)
    creds = Credentials(secret=SECRET)
    verify = VERIFIERS[pid](SECRET)
    for event in provider.ordinary_events:
        assert verify(sign_delivery(provider, _delivery(pid, event), creds, now=NOW)), event
    base = _delivery(pid)
    variants = applicable_variants(provider, creds)
    assert {"missing", "wrong-key", "malformed-header"} <= set(variants)
    for variant in variants:
        forged = forge_delivery(provider, base, creds, variant, now=NOW)
        assert forged is not None and not verify(forged), variant
    fuzzed = fuzz_deliveries(provider, base, creds, now=NOW)
    assert fuzzed and not any(verify(d) for d in fuzzed)


def test_twitch_signs_id_timestamp_and_body_with_a_fresh_rfc3339_timestamp() -> None:
    provider = CATALOG.get("twitch")
    signed = sign_delivery(provider, _delivery("twitch"), Credentials(secret=SECRET), now=NOW + 0.25)
    stamp = signed.header("Twitch-Eventsub-Message-Timestamp") or ""
    assert stamp == "2025-12-01T14:40:00.250000000Z" and parse_rfc3339(stamp) == int(NOW)
    message = (signed.header("Twitch-Eventsub-Message-Id") or "").encode() + stamp.encode() + signed.body
    expected = "sha256=" + hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    assert signed.header("Twitch-Eventsub-Message-Signature") == expected
    (check,) = verifiers(provider, Credentials(secret=SECRET), lambda token: False)
    assert check.stale(dict(signed.headers), NOW + 9 * 60, provider.auth.tolerance) is None
    assert check.stale(dict(signed.headers), NOW + 11 * 60, provider.auth.tolerance) == "timestamp too old"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2026-01-02T03:04:05Z", 1767323045),
        ("2026-01-02T03:04:05.123456789Z", 1767323045),
        ("2026-01-02T05:04:05+02:00", 1767323045),
        ("2026-13-02T03:04:05Z", None),
        ("1767323045", None),
        ("", None),
    ],
)
def test_rfc3339_timestamps_parse_strictly(text: str, seconds: int | None) -> None:
    assert parse_rfc3339(text) == seconds
    assert parse_rfc3339(rfc3339(1767323045.5)) == 1767323045


def test_graph_client_state_keeps_every_other_byte_of_the_body() -> None:
    provider = CATALOG.get("msgraph")
    unsigned = _delivery("msgraph")
    signed = sign_delivery(provider, unsigned, Credentials(secret=SECRET), now=NOW)
    before = unsigned.body.replace(b'"secretClientValue"', json.dumps(SECRET).encode())
    assert signed.body == before and signed.payload["value"][0]["clientState"] == SECRET
    missing = forge_delivery(provider, unsigned, Credentials(secret=SECRET), "missing", now=NOW)
    assert missing is not None and b"clientState" not in missing.body


def test_twitchs_own_challenge_handler_passes_the_handshake_check() -> None:
    """twitchAPI answers the challenge itself; our judgement of the answer agrees that it is right."""
    from twitchAPI.eventsub.webhook import EventSubWebhook

    provider = CATALOG.get("twitch")
    spec = provider.handshake
    assert spec is not None and spec.event is not None
    hook = object.__new__(EventSubWebhook)
    hook.secret = SECRET
    hook._callbacks = {}
    hook.logger = __import__("logging").getLogger("twitch-test")

    async def activate(sub_id: str) -> None:
        return None

    hook._activate_callback = activate  # type: ignore[method-assign]
    delivery = build_delivery(provider, provider.events[spec.event].samples[0], event_types=[spec.event], now=NOW)
    signed = sign_delivery(provider, delivery, Credentials(secret=SECRET), now=NOW)
    data = json.loads(signed.body)
    answer = asyncio.run(hook._EventSubWebhook__handle_challenge(_Request(signed), data))  # type: ignore[attr-defined]
    reply = Reply(answer.status, dict(answer.headers), answer.body, 0.01)
    assert _problems(spec, data["challenge"], reply, spec.timeout or 3.0) == []
    wrapped = Reply(200, {"Content-Type": "application/json"}, json.dumps({"challenge": data["challenge"]}).encode())
    assert _problems(spec, data["challenge"], wrapped, 3.0) == [
        "the body is not the raw challenge",
        "Content-Type application/json, not text/plain",
    ]


@pytest.mark.parametrize("pid", ["msgraph", "dropbox", "asana", "okta", "twitch", "slack"])
def test_each_handshake_bug_answers_wrongly_and_the_reference_answer_is_right(pid: str) -> None:
    spec = CATALOG.get(pid).handshake
    assert spec is not None
    challenge = "Validation: Testing client application reachability 8f1e"

    def judged(mode: str) -> list[str]:
        status, headers, body = handshake_answer(spec, challenge, mode)
        return _problems(spec, challenge, Reply(status, headers, body, 0.01), spec.timeout or 3.0)

    assert judged("correct") == []
    assert bool(judged("wrong-form")) == spec.single_form
    if spec.reply_content_type is not None:  # where handshake-wrong-content-type applies
        assert judged("wrong-content-type")
    late = Reply(200, {"Content-Type": "text/plain"}, challenge.encode(), (spec.timeout or 3.0) + 1)
    assert any("over the" in p for p in _problems(spec, challenge, late, spec.timeout or 3.0))


@pytest.mark.parametrize(
    ("pid", "method", "query", "headers"),
    [
        ("msgraph", "POST", {"validationToken": "Validation: a b&c"}, {"Content-Type": "text/plain"}),
        ("dropbox", "GET", {"challenge": "abc123"}, {}),
        ("asana", "POST", {}, {"X-Hook-Secret": "b537207f20cbfa02357cf448134da559"}),
    ],
)
def test_the_reference_receiver_answers_unsigned_handshakes_on_the_wire(
    pid: str, method: str, query: dict[str, str], headers: dict[str, str]
) -> None:
    spec = CATALOG.get(pid).handshake
    assert spec is not None
    with ReferenceReceiver(pid) as rx:
        answer = requests.request(method, rx.url, params=query, headers=headers, timeout=5)
    challenge = query.get(spec.challenge_name) or headers.get(spec.challenge_name, "")
    reply = Reply(answer.status_code, dict(answer.headers), answer.content, answer.elapsed.total_seconds())
    assert _problems(spec, challenge, reply, spec.timeout or 3.0) == []


def test_oktas_verification_get_is_authenticated() -> None:
    with ReferenceReceiver("okta") as rx:
        challenge = {"X-Okta-Verification-Challenge": "Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg"}
        refused = requests.get(rx.url, headers=challenge, timeout=5)
        answer = requests.get(rx.url, headers={**challenge, "Authorization": rx.credentials.secret or ""}, timeout=5)
    assert refused.status_code == 401
    assert answer.status_code == 200 and answer.json() == {"verification": challenge["X-Okta-Verification-Challenge"]}


def _profile_with(tmp_path: Path, handshake: dict[str, Any]) -> Path:
    folder = tmp_path / "custom"
    for item in (CATALOG.get("okta").root).rglob("*"):
        target = folder / item.relative_to(CATALOG.get("okta").root)
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.read_bytes())
    profile = json.loads((folder / "profile.json").read_text())
    profile["id"] = "custom"
    profile["handshake"] = handshake
    (folder / "profile.json").write_text(json.dumps(profile))
    return tmp_path


@pytest.mark.parametrize(
    ("handshake", "words"),
    [
        ({"kind": "challenge-body"}, "names the event whose body it is"),
        ({"kind": "query-echo", "challenge": {"in": "query", "name": "challenge"}}, "reply.body"),
        (
            {"kind": "header-echo", "challenge": {"in": "header", "name": "X"}, "reply": {"status": [200]}},
            "echo_header",
        ),
        ({"kind": "json-verification", "event": "nope", "reply": {"body": ["json"]}}, "is not in events"),
    ],
)
def test_a_handshake_that_cannot_work_is_a_one_line_load_error(
    tmp_path: Path, handshake: dict[str, Any], words: str
) -> None:
    with pytest.raises(SchemaLoadError, match=words) as caught:
        load_catalog(_profile_with(tmp_path, handshake), cached=False)
    assert "\n" not in str(caught.value)


def test_the_legacy_kind_names_load_as_their_descriptions() -> None:
    slack = CATALOG.get("slack").handshake
    oci = CATALOG.get("oci").handshake
    assert slack is not None and slack.kind == "challenge-body" and slack.match_value == "url_verification"
    assert oci is not None and oci.kind == "confirm-url" and oci.url_header == "X-OCI-NS-ConfirmationURL"


def test_oktas_header_name_is_configurable() -> None:
    """Okta sends the hook's configured header: auth.static.header names it, and every forgery uses it too."""
    okta = load_catalog(overrides={"okta": {"auth": {"static": {"header": "x-any-key"}}}}).get("okta")
    creds = Credentials(secret=SECRET)
    signed = sign_delivery(okta, _delivery("okta"), creds, now=NOW)
    assert signed.header("x-any-key") == SECRET and signed.header("Authorization") is None
    (check,) = verifiers(okta, creds, lambda token: False)
    assert check.reason(dict(signed.headers), signed.body) is None and check.headers == ("x-any-key",)
    for variant in applicable_variants(okta, creds):
        forged = forge_delivery(okta, signed, creds, variant, now=NOW)
        assert forged is not None and check.reason(dict(forged.headers), forged.body), variant
    assert all(check.reason(dict(d.headers), d.body) for d in fuzz_deliveries(okta, signed, creds, now=NOW))
