"""Key rotation: while a secret rolls, the provider signs each delivery with every active secret in one header."""

from __future__ import annotations

import time

from harness.checks._classes import PROVIDER_SENDS
from harness.checks._context import CheckContext
from harness.checks._registry import check
from harness.signing import SigningScheme, active_schemes, signing_url
from harness.violations import ContractViolation

__all__ = ["rotating_scheme"]


def rotating_scheme(ctx: CheckContext) -> SigningScheme | None:
    """The active scheme whose header can carry several signatures (Stripe, Standard Webhooks v1 and v1a), if any."""
    return next(
        (s for s in active_schemes(ctx.provider, ctx.credentials) if s.extra_keys_supported),
        None,
    )


def _applies(ctx: CheckContext) -> str | None:
    if rotating_scheme(ctx) is not None:
        return None
    return f"{ctx.provider.id}'s signature header carries one signature, so a rotation sends nothing new"


@check(
    "accepts-rotated-secret",
    "During a key rotation, a header with the old and the new signature gets a 2xx",
    17,
    _applies,
    category="auth",
    bugs=("first-signature-only",),
    sends=PROVIDER_SENDS,
    gated=True,
)
def accepts_rotated_secret(ctx: CheckContext) -> tuple[list[ContractViolation], list[str]]:
    """One signature by an unrelated key and one by the receiver's, in both orders."""
    scheme = rotating_scheme(ctx)
    assert scheme is not None
    other = scheme.rotation_key(ctx.credentials)
    out = []
    for first, where in ((True, "first"), (False, "last")):
        delivery = ctx.unsigned().replace(url=signing_url(ctx.url))
        now = time.time()
        signed = scheme.sign_rotated(
            ctx.provider, delivery, ctx.credentials, now, extra_keys=[other], extra_first=first
        )
        for other_scheme in active_schemes(ctx.provider, ctx.credentials):  # another configured scheme signs as usual
            if other_scheme.name != scheme.name:
                signed = other_scheme.sign(ctx.provider, signed, ctx.credentials, time.time())
        reply = ctx.send(signed.replace(label=f"rotated, unknown key {where}"))
        if reply.ok:
            continue
        out.append(
            ctx.violation(
                "accepts-rotated-secret",
                f"A delivery signed with two keys (the unknown one {where}) was refused",
                "a 2xx: during a secret roll the provider sends one signature per active secret; any match is valid",
                signed,
                reply,
                "compare every signature in the header (each v1 entry) and accept if any matches, "
                "not just the first one",
            )
        )
    return out, []
