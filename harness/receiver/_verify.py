"""The reference receiver's authentication: the registered verifiers of the provider's configured schemes.

Each scheme's verifier lives beside its signer in ``harness.signing``; the receiver's own tests check it against the
official libraries (tests/receiver/test_independent_signers.py), so a signer and verifier that agree on a mistake
are still caught.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.catalog import Provider
from harness.credentials import Credentials
from harness.signing import Verifier, verifiers

__all__ = ["Scheme", "build_schemes"]

Scheme = Verifier


def build_schemes(
    provider: Provider,
    creds: Credentials,
    token_ok: Callable[[str], bool],
    *,
    legacy: bool = False,
    lax: frozenset[str] = frozenset(),
) -> list[Verifier]:
    """The provider's schemes that the credentials configure; a request must pass every one.

    ``legacy`` verifies a legacy companion signature instead (GitHub's SHA-1 ``X-Hub-Signature``); ``lax`` leaves
    out verification steps (a token's signature or audience, Mailgun's token cache), as the bugs do.
    """
    return verifiers(provider, creds, token_ok, legacy=legacy, lax=lax)
