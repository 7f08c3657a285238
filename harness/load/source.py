"""The deliveries of a load run: built ahead from the volume generator, signed at send time."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.signing import sign_delivery
from harness.simulate.policy import RetryPolicy
from harness.volume import FreshDeliveries, check_events  # the one pool and its subscription rule (re-exported)

__all__ = ["DeliverySource", "FreshDeliveries", "check_events"]

_CHUNK = 2_000  # deliveries built at a time once the prepared ones run out


class DeliverySource:
    """Delivery ``u`` of a run, built once with keys no other delivery carries; each send is signed afresh."""

    def __init__(
        self,
        provider: Provider,
        credentials: Credentials,
        unit_sizes: Sequence[int],
        *,
        events: Sequence[str] = (),
        seed: int = 0,
        resend_reason: str = "http_timeout",
        clock: Callable[[], float] = time.time,
        url: str | None = None,
        reuse: int = 0,
    ) -> None:
        self.provider = provider
        self.credentials = credentials
        self.unit_sizes = unit_sizes
        # reuse > 0, where the key is a header: that many bodies generated per event type, then under fresh keys
        self.maker = FreshDeliveries(provider, events, seed=seed, reuse=reuse)
        self.clock = clock
        self.url = url  # where the run posts: a scheme that signs the URL needs it
        self.built: dict[int, Delivery] = {}
        self.ready: dict[int, Delivery] = {}  # first sends signed ahead, when a signature does not depend on the time
        self._time_free: bool | None = None
        self._order: list[int] = []  # the units in the order the run first sends them (to build ahead in chunks)
        self._next = 0
        self.retry = RetryPolicy.from_profile(provider)
        self.resend_reason = resend_reason

    def prepare(self, units: Sequence[int]) -> None:
        """Build these deliveries now (in this order), so that sending them later costs only the signature, or
        nothing when the signature does not depend on the time (signed here, once: what a send would compute)."""
        now = self.clock()
        built, sizes, fresh = self.built, self.unit_sizes, self.maker.fresh
        maker = self.maker
        if maker.rekey is not None:  # each body one of its own type's few (with no type named, any type's few)
            names, pick = maker.events, maker.rng.choice
            for unit in units:
                if unit not in built:
                    built[unit] = fresh(sizes[unit], now, [pick(names)])
        for unit in units:
            if unit not in built:
                built[unit] = fresh(sizes[unit], now)
        if units and self._time_free is None:
            self._time_free = self._signs_the_same(built[units[0]], now)
        if self._time_free:
            ready, sign, provider, creds, url = self.ready, sign_delivery, self.provider, self.credentials, self.url
            for unit in units:
                if unit not in ready:
                    ready[unit] = sign(provider, built[unit], creds, now=now, url=url)

    def _signs_the_same(self, delivery: Delivery, now: float) -> bool:
        """A signature that is the same an hour apart (no timestamp, no random nonce, no expiring OAuth token)."""
        creds = self.credentials
        if creds.token_url or creds.client_id:
            return False
        one = sign_delivery(self.provider, delivery, creds, now=now, url=self.url)
        two = sign_delivery(self.provider, delivery, creds, now=now + 3600.0, url=self.url)
        return one.headers == two.headers and one.body == two.body and one.url_userinfo == two.url_userinfo

    def plan(self, order: Sequence[int], ahead: int) -> None:
        """The units in the order the run first sends them; build the first ``ahead`` now, the rest in chunks."""
        self._order = list(order)
        self.prepare(self._order[:ahead])
        self._next = min(ahead, len(self._order))

    def base(self, unit: int) -> Delivery:
        """The unsigned delivery ``unit`` (built now, with the next chunk of the plan, if it was not prepared)."""
        found = self.built.get(unit)
        if found is not None:
            return found
        order = self._order
        while self._next < len(order) and unit not in self.built:
            self.prepare(order[self._next : self._next + _CHUNK])
            self._next += _CHUNK
        if unit not in self.built:
            self.prepare([unit])
        return self.built[unit]

    def signed(self, unit: int, attempt: int = 1) -> Delivery:
        """Delivery ``unit`` signed now; a resend (``attempt`` > 1) carries the provider's retry headers."""
        if attempt == 1:
            ready = self.ready.get(unit)
            if ready is not None:
                return ready
        delivery = self.built.get(unit) or self.base(unit)
        if attempt > 1 and self.retry.retry_headers:
            delivery = delivery.with_headers(self.retry.resend_headers(attempt - 1, self.resend_reason))
        return sign_delivery(self.provider, delivery, self.credentials, now=self.clock(), url=self.url)

    def keys(self, units: Sequence[int] | None = None) -> list[str]:
        """The idempotency keys of the deliveries built so far (or of ``units``)."""
        chosen = self.built.values() if units is None else [self.built[u] for u in units if u in self.built]
        return [key for delivery in chosen for key in delivery.idempotency_keys]
