"""One finding for a receiver that accepts every forgery: the signature is not checked, whatever the check."""

from __future__ import annotations

from harness.checks._context import CheckContext
from harness.core.text import printable
from harness.violations import ContractViolation

__all__ = ["ALL_ACCEPTED", "every_forgery_accepted"]

ALL_ACCEPTED = "every forged request was accepted: the signature is not checked"


def every_forgery_accepted(
    ctx: CheckContext, check_id: str
) -> tuple[list[ContractViolation], list[str], str | None] | None:
    """``None`` when some forgery is refused; else the one finding (first check to ask) or a pointer to it (others)."""
    forged = ctx.forged_all()
    if forged is None:
        return None
    owner = ctx.claim_forgery_finding(check_id)
    if owner != check_id:
        return [], [f"same cause as {owner}: {ALL_ACCEPTED}"], owner
    first = forged[0]
    listed = "; ".join(f"HTTP {f.reply.status} ({f.what})" for f in forged)
    finding = ctx.violation(
        check_id,
        f"Every forged request was accepted ({len(forged)} of {len(forged)}): the signature is not checked",
        "a 4xx (401 or 403) to each: without the secret nobody can make these requests",
        first.delivery,
        first.reply,
        "verify the signature (or token) on every request, before doing anything else, and answer 401 when it "
        "does not match",
    )
    finding.received = printable(ctx.redactor(listed))
    return [finding], [f"forgeries sent: {', '.join(f.what for f in forged)}"], None
