"""Auth checks: missing credentials, bad credentials, a tampered body, a stale timestamp."""

from __future__ import annotations

from harness.checks._classes import ANYONE, PROVIDER_SENDS
from harness.checks._context import CheckContext, is_4xx
from harness.checks._registry import check
from harness.core.models import Delivery, Reply
from harness.signing import active_schemes, certificates_of, forge_delivery, fuzz_deliveries, tamper
from harness.violations import ContractViolation

EXPECT_REJECT = "a 4xx (401 or 403): the request must be refused, not processed and not crash"
CRASH_HINT = "verify the signature (and parse headers defensively) before reading the body"


HINTS = {
    "rejects-missing-auth": "refuse requests without credentials with 401, before parsing the body",
    "rejects-bad-auth": "verify the signature or token (constant-time compare) before doing anything else",
    "rejects-tampered-body": "compute the signature over the raw body bytes as received, all of them, every time",
    "rejects-stale-timestamp": "reject signed timestamps older than the provider's tolerance (replay protection)",
}


FOREIGN_CERT_HINT = (
    "fetch SigningCertURL only after checking it is https on the provider's certificate host "
    "(sns.<region>.amazonaws.com); an attacker's URL serves the attacker's certificate, and fetching it lets anyone "
    "make the receiver send requests"
)


# What each forged variant of rejects-bad-auth is, and the fix a receiver that accepts it needs.
BAD_AUTH = (
    ("wrong-key", "A delivery signed with the wrong key", None),
    ("malformed-header", "A delivery with a malformed auth header", None),
    ("expired-token", "A delivery with an expired or revoked token", None),
    (
        "wrong-audience",
        "A token validly signed for another audience",
        "check the token's aud claim equals your push endpoint (or the audience you configured): anyone can get "
        "a token the issuer signed for their own audience",
    ),
    ("wrong-issuer", "A token from another issuer", "check the iss claim is the issuer you trust"),
    (
        "wrong-email",
        "A token for another service account",
        "check the email claim is the push subscription's service account (and email_verified is true)",
    ),
    (
        "alg-none",
        'A token with "alg": "none" and no signature',
        "pin the algorithm to RS256 and verify the signature against the issuer's keys; never honour alg none",
    ),
    (
        "unsigned",
        "A token with its signature removed",
        "verify the token's signature, do not just decode it",
    ),
    (
        "foreign-cert-url",
        "A message whose SigningCertURL is on a host that is not the provider's",
        FOREIGN_CERT_HINT,
    ),
)


def _judge(
    ctx: CheckContext,
    check_id: str,
    what: str,
    delivery: Delivery,
    reply: Reply,
    notes: list[str],
    hint: str | None = None,
) -> ContractViolation | None:
    """A 401/403 passes; another 4xx passes with a note; 2xx, 3xx, 5xx and no answer fail."""
    if reply.status in (401, 403):
        return None
    if is_4xx(reply):
        notes.append(f"{what}: HTTP {reply.status}; 401 or 403 is the usual answer")
        return None
    if reply.ok:
        title, hint = f"{what} was accepted", hint or HINTS[check_id]
    elif reply.status >= 500:
        title, hint = f"{what} caused a server error: anyone can trigger it", CRASH_HINT
    else:
        title, hint = f"{what} was not refused", "answer 401 or 403"
    return ctx.violation(check_id, title, EXPECT_REJECT, delivery, reply, hint)


def _no_auth(ctx: CheckContext) -> str | None:
    return None if ctx.scheme_names() else "no credentials given, so there is nothing to forge"


def requires_signed_body(ctx: CheckContext) -> str | None:
    """Applicability of the checks about what a signature covers: an active scheme must sign the body."""
    return None if ctx.signs_body else "no active scheme signs the body"


@check(
    "rejects-missing-auth",
    "A delivery without credentials is refused",
    20,
    _no_auth,
    category="auth",
    bugs=("auth-optional", "accept-all-forgeries"),
    sends=ANYONE,
    gated=True,
    forgery=True,
)
def rejects_missing_auth(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Send a valid delivery with every auth header removed."""
    notes: list[str] = []
    forged = forge_delivery(ctx.provider, ctx.unsigned(), ctx.credentials, "missing", url=ctx.url)
    assert forged is not None
    found = _judge(ctx, "rejects-missing-auth", "A delivery without credentials", forged, ctx.send(forged), notes)
    return [found] if found else [], notes


@check(
    "rejects-bad-auth",
    "Wrong, malformed and expired credentials are refused",
    30,
    _no_auth,
    category="auth",
    bugs=(
        "presence-only-auth",
        "accept-all-forgeries",
        "crashes-on-malformed-timestamp",
        "token-audience-unchecked",
        "token-not-verified",
        "token-replay-accepted",
        "fetches-any-cert-url",
    ),
    sends=ANYONE,
    gated=True,
    forgery=True,
)
def rejects_bad_auth(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Wrong key, malformed header and (OAuth) expired token."""
    notes: list[str] = []
    out = []
    for variant, what, hint in BAD_AUTH:
        forged = forge_delivery(ctx.provider, ctx.unsigned(), ctx.credentials, variant, url=ctx.url)
        if forged is None:
            continue
        reply = ctx.send(forged)
        found = _judge(ctx, "rejects-bad-auth", what, forged, reply, notes, hint)
        if variant == "foreign-cert-url" and found is None and _fetched_certificate(ctx, forged):
            found = ctx.violation(
                "rejects-bad-auth",
                f"{what} was refused, but only after fetching the certificate from that host",
                "a 4xx without any request to the foreign host: check the URL's host before fetching it",
                forged,
                reply,
                FOREIGN_CERT_HINT,
            )
        if found:
            out.append(found)
    replayed = _replayed(ctx, notes)
    fuzzed = _fuzzed(ctx, notes)
    return out + ([replayed] if replayed else []) + ([fuzzed] if fuzzed else []), notes


def _replayed(ctx: CheckContext, notes: list[str]) -> ContractViolation | None:
    """Where the signature does not cover the body (Mailgun): an accepted signature replayed with another body."""
    for scheme in active_schemes(ctx.provider, ctx.credentials):
        replay = getattr(scheme, "replayed", None)
        if replay is None:
            continue
        sent = ctx.sign(ctx.unsigned())
        first = ctx.send(sent, "valid", sender=PROVIDER_SENDS)
        if not first.ok:
            notes.append(f"the delivery whose signature is replayed got {first.describe()} itself")
        forged = replay(ctx.provider, sent, ctx.unsigned())
        what = "A signature the receiver already accepted, replayed with another body"
        hint = (
            "remember the tokens of accepted deliveries (at least for the timestamp tolerance) and refuse a token "
            "seen before: the signature covers only timestamp and token, not the body"
        )
        return _judge(ctx, "rejects-bad-auth", what, forged, ctx.send(forged), notes, hint)
    return None


def _fetched_certificate(ctx: CheckContext, forged: Delivery) -> bool:
    """The receiver requested the forged message's foreign certificate URL."""
    url = str((forged.payload or {}).get("SigningCertURL", "")) if isinstance(forged.payload, dict) else ""
    return bool(url) and certificates_of(ctx.credentials).fetched(url.split("/", 3)[-1])


def _tampered(ctx: CheckContext, signed: Delivery) -> Delivery:
    """The signed delivery with its body changed where the signature covers it (SNS: the Message field)."""
    for scheme in active_schemes(ctx.provider, ctx.credentials):
        if scheme.signs_body:
            return scheme.tampered(ctx.provider, signed, signed.body)
    return signed.replace(body=tamper(ctx.provider, signed.body))


def _fuzzed(ctx: CheckContext, notes: list[str]) -> ContractViolation | None:
    """Forgeries a fuzzer would try (malformed timestamps and signature headers): one finding for all that got through.

    Anyone can send these, so each must get a 4xx; a 5xx means the receiver parsed a header before verifying it.
    """
    failed: list[tuple[Delivery, Reply]] = []
    fuzz_notes: list[str] = []
    for forged in fuzz_deliveries(ctx.provider, ctx.unsigned(), ctx.credentials, url=ctx.url):
        if ctx.budget_spent:
            break
        reply = ctx.send(forged)
        if reply.status in (401, 403):
            continue
        if is_4xx(reply):
            fuzz_notes.append(f"{forged.label}: HTTP {reply.status}")
            continue
        failed.append((forged, reply))
    if fuzz_notes:
        notes.append(f"{len(fuzz_notes)} fuzzed forgeries got a 4xx other than 401/403 (fine): {fuzz_notes[0]}")
    if not failed:
        return None
    delivery, reply = next(((d, r) for d, r in failed if r.status >= 500), failed[0])
    labels = "; ".join(d.label.removeprefix("fuzzed ") for d, _ in failed[:6]) + ("; ..." if len(failed) > 6 else "")
    crashed = sum(1 for _, r in failed if r.status >= 500)
    if crashed:
        title = f"{crashed} of {len(failed)} malformed forgeries caused a server error ({labels})"
        hint = f"{CRASH_HINT}: anyone can send these"
    else:
        title = f"{len(failed)} malformed forgeries were not refused ({labels})"
        hint = "treat a header you cannot parse as a failed verification: answer 401 or 403"
    return ctx.violation("rejects-bad-auth", title, EXPECT_REJECT, delivery, reply, hint)


@check(
    "rejects-tampered-body",
    "A valid signature over a different body is refused",
    40,
    requires_signed_body,
    category="auth",
    bugs=("presence-only-auth", "prefix-signature", "accept-all-forgeries"),
    sends=ANYONE,
    gated=True,
    forgery=True,
)
def rejects_tampered_body(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """Send a signed delivery, then the same headers with the body changed near its end."""
    notes: list[str] = []
    original = ctx.signed()
    first = ctx.send(original, "valid", sender=PROVIDER_SENDS)
    if not first.ok:
        notes.append(f"the untampered delivery itself got {first.describe()}")
    forged = _tampered(ctx, original).replace(label="tampered-body")
    found = _judge(ctx, "rejects-tampered-body", "A signature over a different body", forged, ctx.send(forged), notes)
    return [found] if found else [], notes


@check(
    "rejects-stale-timestamp",
    "A signature with a timestamp past the tolerance is refused",
    50,
    lambda ctx: None if ctx.timestamped else f"{ctx.provider.id} documents no replay tolerance for a signed timestamp",
    category="auth",
    bugs=("no-timestamp-check", "accept-all-forgeries"),
    sends=ANYONE,
    gated=True,
    forgery=True,
)
def rejects_stale_timestamp(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """A correct signature over a timestamp older than the provider's tolerance."""
    notes: list[str] = []
    forged = forge_delivery(ctx.provider, ctx.unsigned(), ctx.credentials, "stale-timestamp", url=ctx.url)
    assert forged is not None
    tolerance = ctx.provider.auth.tolerance
    what = f"A replay signed {int((tolerance or 0) + 600)} s ago (tolerance {tolerance:g} s)"
    found = _judge(ctx, "rejects-stale-timestamp", what, forged, ctx.send(forged), notes)
    return [found] if found else [], notes
