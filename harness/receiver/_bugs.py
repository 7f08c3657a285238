"""Deliberate defects for the reference receiver, each with the checks it must fail on a given provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harness.catalog import Provider
from harness.credentials import Credentials
from harness.signing import OAUTH_SCHEME, scheme_for

__all__ = ["BUGS", "CHECK_IDS", "Behaviour", "Bug", "Facts", "active_scheme_names", "rejected_event"]

CHECK_IDS = (
    "accepts-valid",
    "rejects-missing-auth",
    "rejects-bad-auth",
    "rejects-tampered-body",
    "rejects-stale-timestamp",
    "rejects-malformed",
    "no-server-error",
    "accepts-unknown-fields",
    "redelivery-accepted",
    "single-effect",
    "responds-in-time",
    "handshake",
    "reply-format",
)


def active_scheme_names(provider: Provider, credentials: Credentials | None = None) -> frozenset[str]:
    """The schemes a receiver verifies: those the credentials configure, or what it generates when none are given."""
    if credentials is None:
        default = provider.auth.schemes[0]
        return frozenset({default} | ({OAUTH_SCHEME} & set(provider.auth.schemes)))
    return frozenset(s for s in provider.auth.schemes if scheme_for(provider, s).configured(credentials))


def rejected_event(provider: Provider) -> str | None:
    """The real event type the ``rejects-some-event`` bug refuses: the last ordinary one by name."""
    names = sorted(provider.ordinary_events)
    return names[-1] if len(names) >= 2 else None


@dataclass(frozen=True, slots=True)
class Facts:
    """What decides which checks run and which a bug fails, for one provider and its credentials."""

    signs_body: bool
    stale_checked: bool
    handshake: bool
    reply: bool
    several_events: bool

    @classmethod
    def of(cls, provider: Provider, credentials: Credentials | None = None) -> Facts:
        """Facts from the provider's catalog entry and the schemes the credentials activate."""
        active = active_scheme_names(provider, credentials)
        return cls(
            signs_body=any(scheme_for(provider, s).signs_body for s in active),
            stale_checked=provider.auth.tolerance is not None
            and any(scheme_for(provider, s).timestamped for s in active),
            handshake=provider.handshake is not None,
            reply=provider.reply_schema is not None,
            several_events=len(provider.ordinary_events) >= 2,
        )

    def applicable_checks(self) -> frozenset[str]:
        """The checks that run (rather than skip) against this provider with a probe configured."""
        skipped = {
            "rejects-tampered-body": not self.signs_body,
            "rejects-stale-timestamp": not self.stale_checked,
            "handshake": not self.handshake,
            "reply-format": not self.reply,
        }
        return frozenset(c for c in CHECK_IDS if not skipped.get(c, False))


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Switches the receiver consults; the defaults are the correct receiver."""

    auth: str = "strict"  # strict | optional | presence | memo
    timestamps: bool = True
    schema: bool = True
    bad_json: str = "reject"  # reject | crash
    strict_fields: bool = False
    reject_event: bool = False
    dedupe: str = "unique"  # unique | reject | crash | none | racy
    slow: bool = False
    handshake: bool = True
    reply: str = "message"  # message | bad
    always_500: bool = False


Expectation = Callable[[Facts], frozenset[str]]


def _fixed(*checks: str) -> Expectation:
    return lambda facts: frozenset(checks)


@dataclass(frozen=True)
class Bug:
    """A named, realistic defect: what it does, where it applies, and which checks must catch it."""

    name: str
    description: str
    providers: frozenset[str] | None
    fails: frozenset[str]
    behaviour: Behaviour
    expect: Expectation = field(repr=False)
    applies: Callable[[Facts], bool] = field(repr=False, default=lambda facts: True)

    def applies_to(self, provider: Provider, credentials: Credentials | None = None) -> bool:
        """The defect is observable on this provider (e.g. timestamp bugs need a documented tolerance)."""
        return self.applies(Facts.of(provider, credentials))

    def expected_failures(self, provider: Provider, credentials: Credentials | None = None) -> frozenset[str]:
        """Exactly the check IDs that fail against this bug (empty where the bug does not apply)."""
        facts = Facts.of(provider, credentials)
        if not self.applies(facts):
            return frozenset()
        return self.expect(facts) & facts.applicable_checks()


_ALL_PROVIDERS = frozenset({"sendgrid", "jira", "teams", "oci", "github", "stripe", "slack", "shopify", "standard"})

_BUG_LIST = [
    Bug(
        "auth-optional",
        "requests without any auth header are accepted (auth is verified only when present)",
        None,
        frozenset({"rejects-missing-auth"}),
        Behaviour(auth="optional"),
        _fixed("rejects-missing-auth"),
    ),
    Bug(
        "presence-only-auth",
        "any auth header value is accepted; only its presence (and the timestamp's age) is checked",
        None,
        frozenset({"rejects-bad-auth", "rejects-tampered-body"}),
        Behaviour(auth="presence"),
        lambda f: frozenset({"rejects-bad-auth"} | ({"rejects-tampered-body"} if f.signs_body else set())),
    ),
    Bug(
        "prefix-signature",
        "a verified signature is cached with the first 32 body bytes; a later body sharing both skips verification",
        _ALL_PROVIDERS - {"oci"},
        frozenset({"rejects-tampered-body"}),
        Behaviour(auth="memo"),
        _fixed("rejects-tampered-body"),
        lambda f: f.signs_body,
    ),
    Bug(
        "no-timestamp-check",
        "the signed timestamp's age is ignored, so replays of old requests are accepted",
        frozenset({"stripe", "slack", "standard"}),
        frozenset({"rejects-stale-timestamp"}),
        Behaviour(timestamps=False),
        _fixed("rejects-stale-timestamp"),
        lambda f: f.stale_checked,
    ),
    Bug(
        "accepts-invalid",
        "well-formed JSON that fails the event schema is acknowledged with 2xx",
        None,
        frozenset({"rejects-malformed"}),
        Behaviour(schema=False),
        _fixed("rejects-malformed"),
    ),
    Bug(
        "crashes-on-bad-json",
        "a body that is not JSON raises an unhandled error: 500",
        None,
        frozenset({"no-server-error", "rejects-malformed"}),
        Behaviour(bad_json="crash"),
        _fixed("no-server-error", "rejects-malformed"),
    ),
    Bug(
        "strict-fields",
        "unknown event types and fields the schema does not declare get 400",
        None,
        frozenset({"accepts-unknown-fields"}),
        Behaviour(strict_fields=True),
        _fixed("accepts-unknown-fields"),
    ),
    Bug(
        "rejects-some-event",
        "one real event type (the last ordinary one by name) gets 400",
        _ALL_PROVIDERS - {"teams"},
        frozenset({"accepts-valid"}),
        Behaviour(reject_event=True),
        _fixed("accepts-valid"),
        lambda f: f.several_events,
    ),
    Bug(
        "rejects-duplicates",
        "a repeated idempotency key gets 409 instead of a 2xx acknowledgement",
        None,
        frozenset({"redelivery-accepted"}),
        Behaviour(dedupe="reject"),
        _fixed("redelivery-accepted"),
    ),
    Bug(
        "duplicate-500",
        "a repeated idempotency key trips the unique constraint and the error escapes: 500",
        None,
        frozenset({"redelivery-accepted"}),
        Behaviour(dedupe="crash"),
        _fixed("redelivery-accepted"),
    ),
    Bug(
        "stores-duplicates",
        "nothing is deduplicated: every delivery stores its events again",
        None,
        frozenset({"single-effect"}),
        Behaviour(dedupe="none"),
        _fixed("single-effect"),
    ),
    Bug(
        "racy-dedupe",
        "check-then-insert with an await between and no unique constraint: concurrent duplicates are stored twice",
        None,
        frozenset({"single-effect"}),
        Behaviour(dedupe="racy"),
        _fixed("single-effect"),
    ),
    Bug(
        "slow",
        "each authenticated, well-formed delivery is answered only after `delay` (default: the provider timeout + 1 s)",
        None,
        frozenset({"responds-in-time"}),
        Behaviour(slow=True),
        _fixed("responds-in-time"),
    ),
    Bug(
        "ignores-handshake",
        "the handshake is acknowledged like any event: no challenge echoed (Slack), no ConfirmationURL fetched (OCI)",
        frozenset({"slack", "oci"}),
        frozenset({"handshake"}),
        Behaviour(handshake=False),
        _fixed("handshake"),
        lambda f: f.handshake,
    ),
    Bug(
        "bad-reply",
        'the reply is {"text": ...} without "type": "message"',
        frozenset({"teams"}),
        frozenset({"reply-format"}),
        Behaviour(reply="bad"),
        _fixed("reply-format"),
        lambda f: f.reply,
    ),
    Bug(
        "plain-500",
        "the webhook endpoint answers 500 to every request (the probe and token endpoints still work)",
        None,
        frozenset(CHECK_IDS) - {"responds-in-time"},
        Behaviour(always_500=True),
        lambda f: frozenset(CHECK_IDS) - {"responds-in-time"},
    ),
]

BUGS: dict[str, Bug] = {bug.name: bug for bug in _BUG_LIST}
