"""Deliberate defects for the reference receiver, each with the checks it must fail on a given provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from harness.catalog import Provider
from harness.checks import CHECKS, ordered_ids
from harness.credentials import Credentials
from harness.receiver._state import ORDERING_BUGS
from harness.signing import OAUTH_SCHEME, scheme_for

__all__ = [
    "BUGS",
    "CHECK_IDS",
    "MODES",
    "Behaviour",
    "Bug",
    "Facts",
    "rejected_event",
]

CHECK_IDS: tuple[str, ...] = tuple(ordered_ids())  # from the check registry


def active_scheme_names(provider: Provider, credentials: Credentials | None = None) -> frozenset[str]:
    """The schemes a receiver verifies: those the credentials configure, or what it generates when none are given."""
    if credentials is None:
        default = provider.auth.schemes[0]
        return frozenset({default} | ({OAUTH_SCHEME} & set(provider.auth.schemes)))
    return frozenset(s for s in provider.auth.schemes if scheme_for(provider, s).configured(credentials))


def rejected_event(provider: Provider) -> str | None:
    """The real event type the ``rejects-some-event`` bug refuses: the last ordinary one by name a default run sends."""
    names = sorted(provider.sampled().ordinary_events)
    return names[-1] if len(names) >= 2 else None


@dataclass(frozen=True, slots=True)
class Facts:
    """What decides which checks run and which a bug fails, for one provider and its credentials."""

    signs_body: bool
    stale_checked: bool
    handshake: bool
    reply: bool
    several_events: bool
    rotation: bool = False
    batch: bool = False
    timestamped: bool = False
    pass_through: bool = False
    lifecycles: bool = False
    handshake_echoes: bool = False  # the handshake is answered with its challenge (not a confirmation URL)
    handshake_single_form: bool = False  # the answer's body must be raw text, or must be JSON, not either
    handshake_content_type: bool = False  # the answer must have a given media type (and headers)
    lax_steps: frozenset[str] = frozenset()  # verification steps an active scheme has that a bug can leave out
    auth_in_body: bool = False  # the credentials travel in the JSON body (Mailgun): no signed body is not JSON
    handshake_kind: str | None = None

    @classmethod
    def of(cls, provider: Provider, credentials: Credentials | None = None) -> Facts:
        """Facts from the provider's catalog entry and the schemes the credentials activate."""
        active = active_scheme_names(provider, credentials)
        return cls(
            signs_body=any(scheme_for(provider, s).signs_body for s in active),
            stale_checked=provider.auth.tolerance is not None
            and any(scheme_for(provider, s).timestamped for s in active),
            handshake=provider.handshake is not None,
            handshake_kind=provider.handshake.kind if provider.handshake else None,
            reply=provider.reply_schema is not None,
            several_events=len(provider.ordinary_events) >= 2,
            rotation=any(getattr(scheme_for(provider, s), "extra_keys_supported", False) for s in active),
            batch=provider.body.shape == "batch",
            timestamped=any(scheme_for(provider, s).timestamped for s in active),
            pass_through=bool(provider.pass_through),
            lifecycles=bool(provider.lifecycles),
            handshake_echoes=provider.handshake is not None and provider.handshake.echoes,
            handshake_single_form=provider.handshake is not None and provider.handshake.single_form,
            handshake_content_type=provider.handshake is not None and provider.handshake.reply_content_type is not None,
            lax_steps=frozenset(step for s in active for step in scheme_for(provider, s).lax_steps),
            auth_in_body=any(scheme_for(provider, s).auth_in_body for s in active),
        )

    def applicable_checks(self) -> frozenset[str]:
        """The checks that run (rather than skip) against this provider with a probe configured."""
        skipped = {
            "rejects-tampered-body": not self.signs_body,
            "rejects-stale-timestamp": not self.stale_checked,
            "handshake": not self.handshake,
            "reply-format": not self.reply,
            "verifies-raw-body": not self.signs_body,
            "accepts-rotated-secret": not self.rotation,
            "accepts-pass-through": not self.pass_through,
            "converges": not self.lifecycles,
        }
        return frozenset(c for c in CHECK_IDS if not skipped.get(c, False))


@dataclass(frozen=True, slots=True)
class Behaviour:
    """Switches the receiver consults; the defaults are the correct receiver."""

    auth: str = "strict"  # strict | optional | presence | memo | none
    timestamps: bool = True
    schema: bool = True
    bad_json: str = "reject"  # reject | crash
    parse_first: bool = False  # parse the body as JSON before verifying (a parse error escapes: 500)
    strict_fields: bool = False
    reject_event: bool = False
    dedupe: str = "unique"  # unique | reject | crash | none | racy
    slow: bool = False
    slow_every: int = 0  # > 0: every n-th authenticated, well-formed delivery is answered after `delay`
    handshake: bool = True
    handshake_reply: str = "correct"  # correct | wrong-form | wrong-content-type (harness/receiver/_handshake.py)
    handshake_delay: bool = False  # True: the handshake is answered only after `delay`
    reply: str = "message"  # message | bad
    always_500: bool = False
    raw_body: bool = True  # False: verify the signature over the re-serialised JSON, not the bytes received
    all_signatures: bool = True  # False: compare only the first signature of a multi-signature header
    all_events: bool = True  # False: handle only body[0] of a batch
    queue_delay: float = 0.0  # > 0: answer 2xx at once and store this many seconds later (queue-first)
    int_timestamp_first: bool = False  # True: int() the signed timestamp before verifying; ValueError escapes: 500
    legacy_signature: bool = False  # True: verify only a legacy companion signature (GitHub's SHA-1 X-Hub-Signature)
    subscribed_only: bool = False  # True: 404 to event types it has no handler for (Bolt's "unhandled request")
    url_query: bool = True  # False: verify a URL signature over the path without its query string (Twilio's docs)
    refuse_nul: bool = False  # True: text with U+0000 fails the insert (as PostgreSQL's text does): 400, whole batch
    ordering: str = "versioned"  # how lifecycle events update an object's state (harness/receiver/_state.py)
    lax: frozenset[str] = frozenset()  # verification steps left out: a token's signature or audience, a token cache
    refusal: int = 401  # the status of an authentication failure (403: the bug Discord's checks catch)
    confirm_first: bool = False  # True: GET an SNS SubscribeURL before (and whether or not) the message verifies


MODES: dict[str, Behaviour] = {
    "strict": Behaviour(),  # validates every event against its schema
    "lenient": Behaviour(schema=False),  # a tolerant reader: parses strictly, reads only the fields it needs
    "queue-first": Behaviour(queue_delay=0.5),  # verify, enqueue, answer 2xx; a worker stores a moment later
    # Verifies GitHub's legacy SHA-1 X-Hub-Signature only, as older libraries do; correct because GitHub sends it.
    "legacy-signature": Behaviour(legacy_signature=True),
    # Handles only the event types it subscribes to (all but the last ordinary one by name) and answers 404 to the
    # others and to unknown types, as Slack Bolt does: correct for providers that deliver only subscribed types.
    "subscribed-only": Behaviour(subscribed_only=True),
}


def proving_bugs(check_id: str) -> tuple[str, ...]:
    """The bugs a check's registration names as proof that it can fail."""
    return CHECKS.get(check_id).bugs


@dataclass(frozen=True)
class Bug:
    """A named, realistic defect: what it does, where it applies; the checks that catch it name it on registration.

    A bug runs on every provider, shipped or imported, whose facts it applies to (``applies``), but the excluded ones.
    """

    name: str
    description: str
    behaviour: Behaviour
    applies: Callable[[Facts], bool] = field(repr=False, default=lambda facts: True)
    generic_fails: frozenset[str] | None = None  # a bug that breaks everything: not proof for any one check
    excluded: frozenset[str] = frozenset()  # providers where it breaks more than its checks (said why, where set)
    only: frozenset[str] | None = None  # the providers it is proven on, where the facts do not yet say enough

    @property
    def generic(self) -> bool:
        """The bug fails (or blocks) nearly every check, so it proves no check in particular."""
        return self.generic_fails is not None

    @property
    def fails(self) -> frozenset[str]:
        """The checks that catch this bug on some provider: those whose registration names it."""
        if self.generic_fails is not None:
            return self.generic_fails
        return frozenset(c for c in CHECK_IDS if self.name in proving_bugs(c))

    def runs_on(self, provider_id: str) -> bool:
        """The bug is meant for this provider: every one (or the ``only`` ones) but the excluded."""
        return (self.only is None or provider_id in self.only) and provider_id not in self.excluded

    def applies_to(self, provider: Provider, credentials: Credentials | None = None) -> bool:
        """The defect is observable on this provider (e.g. timestamp bugs need a documented tolerance)."""
        return self.runs_on(provider.id) and self.applies(Facts.of(provider, credentials))

    def expected_failures(self, provider: Provider, credentials: Credentials | None = None) -> frozenset[str]:
        """Exactly the check IDs that fail (or warn, or are blocked) against this bug on this provider."""
        facts = Facts.of(provider, credentials)
        if not self.runs_on(provider.id) or not self.applies(facts):
            return frozenset()
        return self.fails & facts.applicable_checks()


_BUG_LIST = [
    Bug(
        "auth-optional",
        "requests without any auth header are accepted (auth is verified only when present)",
        Behaviour(auth="optional"),
    ),
    Bug(
        "accept-all-forgeries",
        "the signature is never checked: every request is accepted, with or without credentials",
        Behaviour(auth="none"),
    ),
    Bug(
        "parse-before-verify",
        "the body is parsed as JSON before the signature is verified, and a parse error escapes: unsigned garbage "
        "gets 500 (anyone can trigger it)",
        Behaviour(parse_first=True),
    ),
    Bug(
        "presence-only-auth",
        "any auth header value is accepted; only its presence (and the timestamp's age) is checked",
        Behaviour(auth="presence"),
    ),
    Bug(
        "prefix-signature",
        "a verified signature is cached with the first 32 body bytes; a later body sharing both skips verification",
        Behaviour(auth="memo"),
        lambda f: f.signs_body,
    ),
    Bug(
        "no-timestamp-check",
        "the signed timestamp's age is ignored, so replays of old requests are accepted",
        Behaviour(timestamps=False),
        lambda f: f.stale_checked,
    ),
    Bug(
        "crashes-on-malformed-timestamp",
        "the signed timestamp header is passed to int() before the signature is verified: a non-numeric or float "
        "timestamp, which anyone can send, raises and answers 500",
        Behaviour(int_timestamp_first=True),
        lambda f: f.timestamped,
        excluded=frozenset(
            {"twitch"}
        ),  # an RFC 3339 timestamp: int() would refuse every delivery, not a bug's 2 checks
    ),
    Bug(
        "refuses-nul-text",
        "each event is inserted as PostgreSQL text, which refuses U+0000; the exception answers 400 for the whole "
        "delivery, so one event with a NUL a person typed refuses the batch it came in",
        Behaviour(refuse_nul=True),
        lambda f: f.pass_through,
    ),
    Bug(
        "accepts-invalid",
        "well-formed JSON that fails the event schema is acknowledged with 2xx (the lenient mode, seen as a bug)",
        Behaviour(schema=False),
        # Graph's secret (clientState) travels inside the notifications: a body whose top-level value is broken
        # carries none, so it is refused as unauthenticated before its schema is looked at.
        excluded=frozenset({"msgraph"}),
    ),
    Bug(
        "crashes-on-bad-json",
        "a body that is not JSON raises an unhandled error: 500",
        Behaviour(bad_json="crash"),
        lambda f: not f.auth_in_body,  # a body that is not JSON carries no credentials there: refused first
        excluded=frozenset({"msgraph"}),  # a body that is not JSON carries no clientState: refused before the parse
    ),
    Bug(
        "strict-fields",
        "unknown event types and fields the schema does not declare get 400",
        Behaviour(strict_fields=True),
    ),
    Bug(
        "rejects-some-event",
        "one real event type (the last ordinary one by name) gets 400",
        Behaviour(reject_event=True),
        lambda f: f.several_events,
    ),
    Bug(
        "reserialised-signature",
        "the signature is verified over the re-serialised body (parsed, then dumped in the provider's layout with "
        "json.dumps' default ASCII escaping) instead of the raw bytes: non-ASCII text is refused",
        Behaviour(raw_body=False),
        lambda f: f.signs_body and not f.auth_in_body,  # a signature in the body covers parsed fields, not bytes
        # Shopify's generated text carries "£": there it breaks more than 2 checks. Asana's and Dropbox's bodies hold
        # no free text (ids, types, times): re-serialised they are the same bytes, so the defect cannot show.
        excluded=frozenset({"shopify", "asana", "dropbox"}),
    ),
    Bug(
        "first-signature-only",
        "only the first signature of a multi-signature header is compared: deliveries fail during key rotation",
        Behaviour(all_signatures=False),
        lambda f: f.rotation,
    ),
    Bug(
        "first-event-only",
        "only body[0] of a batch is handled; the other events are acknowledged and lost",
        Behaviour(all_events=False),
        lambda f: f.batch,
    ),
    Bug(
        "rejects-duplicates",
        "a repeated idempotency key gets 409 instead of a 2xx acknowledgement",
        Behaviour(dedupe="reject"),
    ),
    Bug(
        "duplicate-500",
        "a repeated idempotency key trips the unique constraint and the error escapes: 500",
        Behaviour(dedupe="crash"),
    ),
    Bug(
        "stores-duplicates",
        "nothing is deduplicated: every delivery stores its events again",
        Behaviour(dedupe="none"),
    ),
    Bug(
        "racy-dedupe",
        "check-then-insert with an await between and no unique constraint: concurrent duplicates are stored twice",
        Behaviour(dedupe="racy"),
    ),
    Bug(
        "slow",
        "each authenticated, well-formed delivery is answered only after `delay` (default: the provider timeout + 1 s)",
        Behaviour(slow=True),
    ),
    Bug(
        "slow-one-in-ten",
        "every tenth authenticated, well-formed delivery is answered only after `delay` (a cold cache, a slow query)",
        Behaviour(slow_every=10),
    ),
    Bug(
        "fetches-any-cert-url",
        "SNS's SigningCertURL is fetched from whatever host the message names, and the signature verified with that "
        "certificate: anyone can sign a message with their own key and host the certificate themselves",
        Behaviour(lax=frozenset({"cert-host"})),
        lambda f: "cert-host" in f.lax_steps,
    ),
    Bug(
        "confirms-unverified-subscription",
        "an SNS SubscriptionConfirmation's SubscribeURL is visited as soon as the message arrives, before its "
        "signature (and the URL's host) is checked: anyone can make the receiver confirm or request any URL",
        Behaviour(confirm_first=True),
        lambda f: f.handshake,
        only=frozenset({"aws-sns"}),  # the only handshake whose confirmation URL comes in a signed message
    ),
    Bug(
        "token-audience-unchecked",
        "the OIDC token's signature, issuer, expiry and email are checked but not its audience: a token the issuer "
        "signed for anyone else's endpoint is accepted",
        Behaviour(lax=frozenset({"audience"})),
        lambda f: "audience" in f.lax_steps,
    ),
    Bug(
        "token-not-verified",
        "the OIDC token is decoded and its claims checked, but its signature is never verified: alg none, an "
        "unsigned token and one signed by another key are accepted",
        Behaviour(lax=frozenset({"signature"})),
        lambda f: "signature" in f.lax_steps,
    ),
    Bug(
        "token-replay-accepted",
        "Mailgun's signature is verified but its token is not remembered: a captured signature object replayed "
        "with another event-data is accepted",
        Behaviour(lax=frozenset({"replay"})),
        lambda f: "replay" in f.lax_steps,
    ),
    Bug(
        "ignores-handshake",
        "the handshake is acknowledged like any event: no challenge echoed (Slack, Twitch, Graph, Dropbox, Okta), no "
        "header echoed (Asana), no ConfirmationURL fetched (OCI), no PONG to Discord's PING",
        Behaviour(handshake=False),
        lambda f: f.handshake,
    ),
    Bug(
        "handshake-wrong-form",
        "the challenge comes back in the other form: wrapped in JSON where the provider wants the raw text (Twitch, "
        "Graph, Dropbox), or as raw text where it wants a JSON object (Okta)",
        Behaviour(handshake_reply="wrong-form"),
        lambda f: f.handshake_single_form,
    ),
    Bug(
        "handshake-wrong-content-type",
        "the challenge is echoed with the framework's default text/html and no X-Content-Type-Options: a reflected "
        "XSS the provider guards against by requiring text/plain",
        Behaviour(handshake_reply="wrong-content-type"),
        lambda f: f.handshake_content_type,
    ),
    Bug(
        "slow-handshake",
        "the handshake is answered only after `delay` (default: the handshake's timeout + 1 s), too late for the "
        "provider, which then refuses the subscription",
        Behaviour(handshake_delay=True),
        lambda f: f.handshake_echoes,
    ),
    Bug(
        "refuses-with-403",
        "an authentication failure is answered 403 instead of 401: fine for most providers, but Discord's security "
        "checks expect exactly 401 to a PING with an invalid signature",
        Behaviour(refusal=403),
        lambda f: f.handshake_kind == "discord-ping",
    ),
    Bug(
        "bad-reply",
        'the reply is {"text": ...} without "type": "message"',
        Behaviour(reply="bad"),
        lambda f: f.reply,
    ),
    Bug(
        "plain-500",
        "the webhook endpoint answers 500 to every request (the probe and token endpoints still work)",
        Behaviour(always_500=True),
        # responds-in-time too (a 500 in time is no acknowledgement); converges runs only with a state probe
        generic_fails=frozenset(CHECK_IDS) - {"converges"},
    ),
    Bug(
        "ignores-query-string",
        "the URL signature is checked over the scheme, host and path only, so a webhook URL with a query string "
        "(?tenant=...) never verifies: every genuine delivery is refused",
        Behaviour(url_query=False),
        # accepts-valid and responds-in-time fail (no genuine delivery gets a 2xx), everything after is blocked
        generic_fails=frozenset(CHECK_IDS) - {"converges"},
        only=frozenset({"twilio"}),  # the matrix posts to a URL with a query string for Twilio (tests/test_matrix.py)
    ),
]

# Issue 22: the ordering bugs (harness/receiver/_state.py), caught by the converges check and `sequences`. Their
# matrix cases run on Stripe only: each runs its lifecycles, and Stripe's subscription has every kind of step.
_BUG_LIST += [
    Bug(
        ordering.name,
        ordering.description,
        Behaviour(ordering=ordering.ordering),
        lambda f: f.lifecycles,
        only=frozenset({"stripe"}),  # the lifecycle facts do not yet tell which orderings each provider can show
    )
    for ordering in ORDERING_BUGS.values()
]

BUGS: dict[str, Bug] = {bug.name: bug for bug in _BUG_LIST}
