"""Locust for more than one machine: ``WebhookUser`` posts signed provider deliveries from a pre-generated pool.

Importing this module imports Locust (and with it gevent's monkey-patching), so nothing else in the harness imports
it. Install it with ``pip install 'webhook-harness[locust]'``. Configure a subclass by class attributes, or leave
them unset and set the environment::

    WEBHOOK_HARNESS_PROVIDER   the provider id (sendgrid, stripe, github, ...)
    WEBHOOK_HARNESS_PATH       the receiver's path under --host (default /)
    WEBHOOK_HARNESS_EVENTS     comma-separated event types or globs (default: every ordinary type)
    WEBHOOK_HARNESS_DUPLICATES the fraction of requests that resend an earlier delivery (same key, fresh signature)
    WEBHOOK_HARNESS_USER_RATE  deliveries per second per user (default: as fast as the receiver answers)
    WEBHOOK_HARNESS_POOL_SIZE  deliveries built before the run starts, and per refill (default 2000)
    WEBHOOK_HARNESS_SECRET, WEBHOOK_HARNESS_SIGNING_KEY, WEBHOOK_HARNESS_CLIENT_SECRET, WEBHOOK_HARNESS_TOKEN_URL,
    WEBHOOK_HARNESS_CLIENT_ID, WEBHOOK_HARNESS_BASIC, WEBHOOK_HARNESS_BEARER   credentials (or the config file)
"""

from __future__ import annotations

import dataclasses
import os
import random
import sys
from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

from harness.errors import UsageError

try:
    from locust import FastHttpUser, constant_throughput, events, task
    from locust.runners import MasterRunner
except ImportError:  # pragma: no cover - exercised in a subprocess without Locust
    raise UsageError("Locust is not installed: pip install 'webhook-harness[locust]'.") from None

from harness.catalog import Provider
from harness.core.models import Delivery
from harness.credentials import Credentials
from harness.engine.session import Session
from harness.load.source import FreshDeliveries, check_events
from harness.preflight import check_credentials
from harness.settings.resolve import resolve_run_config
from harness.signing import sign_delivery
from harness.simulate.policy import RetryPolicy

__all__ = ["DeliveryPool", "WebhookUser"]

_ENV = "WEBHOOK_HARNESS_"
_RECENT = 1000  # resends are drawn from this many of the latest deliveries
_REFILL = 100  # deliveries built at a time once the pool runs dry during a run
_POOL_SIZE = 2000  # deliveries built ahead: the generator's cost falls before the run, then once per refill


class DeliveryPool:
    """Unsigned deliveries built ahead in chunks by ``FreshDeliveries`` (as ``load`` builds them); each sent once."""

    def __init__(
        self, provider: Provider, events: Sequence[str], *, size: int = _POOL_SIZE, seed: int | None = None
    ) -> None:
        self.provider = provider
        self.size = max(1, size)
        self.rng = random.Random(seed if seed is not None else random.SystemRandom().randrange(1 << 62))
        self.maker = FreshDeliveries(provider, events, seed=self.rng.randrange(1 << 62))
        self.events = self.maker.events
        self.ready: deque[Delivery] = deque()
        self.recent: deque[Delivery] = deque(maxlen=_RECENT)
        self.retry = RetryPolicy.from_profile(provider)
        self.fill()

    def fill(self, count: int | None = None) -> None:
        """Build ``count`` (default ``size``) more deliveries, with keys never handed out before in this process."""
        fresh, ready = self.maker.fresh, self.ready
        for _ in range(self.size if count is None else count):
            ready.append(fresh())

    def next(self, duplicates: float = 0.0) -> Delivery:
        """A new delivery, or (with probability ``duplicates``) a resend of a recent one with retry headers."""
        if duplicates > 0 and self.recent and self.rng.random() < duplicates:
            original = self.recent[int(self.rng.random() * len(self.recent))]
            headers = self.retry.resend_headers(1, "http_timeout")
            return original.with_headers(headers) if headers else original
        if not self.ready:
            self.fill(min(self.size, _REFILL))  # small steps: a long build would stall gevent (and heartbeats)
        delivery = self.ready.popleft()
        self.recent.append(delivery)
        return delivery


def _env(name: str) -> str | None:
    return os.environ.get(_ENV + name) or None


_CONCRETE: list[type[WebhookUser]] = []  # the concrete user classes the locustfile defined
_FORKS: list[int] = []  # in a forked child: [its ordinal among the parent's forks]; in the parent: [forks so far]


def _forks_later() -> bool:
    """This process is a master, or forks its workers (``--processes``): the workers build their own pools."""
    return any(arg in ("--master", "--processes") or arg.startswith("--processes=") for arg in sys.argv)


def _before_fork() -> None:
    _FORKS[:] = [_FORKS[0] + 1 if _FORKS else 1]


def _after_fork_in_child() -> None:
    """A forked worker (``--processes``) draws its own deliveries: pools built before the fork would repeat ids.

    An unseeded pool is drawn again from the system's randomness; a seeded one from the seed and the child's ordinal,
    so each child of one parent is reproducible and distinct. The pools are built here, before the child connects.
    """
    WebhookUser._pools.clear()
    WebhookUser._settings.clear()
    for user_class in _CONCRETE:
        user_class.settings()


class WebhookUser(FastHttpUser):
    """A Locust user that plays a webhook provider: each task posts one signed delivery from the pool."""

    abstract = True
    provider: ClassVar[str | None] = None
    path: ClassVar[str | None] = None
    events: ClassVar[Sequence[str]] = ()
    credentials: ClassVar[Credentials | None] = None
    duplicates: ClassVar[float | None] = None
    user_rate: ClassVar[float | None] = None
    pool_size: ClassVar[int | None] = None
    seed: ClassVar[int | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Build a concrete subclass's pool as the locustfile loads, before a worker connects to its master."""
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("abstract", False):
            return
        _CONCRETE.append(cls)
        if not _forks_later():
            cls.settings()  # a compile that blocked gevent later would miss the master's heartbeats

    _pools: ClassVar[dict[tuple[str, tuple[str, ...], int | None], DeliveryPool]] = {}
    _settings: ClassVar[dict[type, tuple[Provider, str, Credentials, float, float, DeliveryPool]]] = {}
    _sessions: ClassVar[dict[type, Session]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        session = self.session()
        network = session.network  # the same TLS, proxy and header settings as every other front end
        self.insecure = network.insecure
        if session.config.timeout is not None:
            self.network_timeout = self.connection_timeout = session.config.timeout
        if not network.insecure and (network.ca_bundle or network.client_cert or network.trust_env):

            def context(**_: Any) -> Any:  # geventhttpclient passes cafile=None: the network options decide
                return network.ssl_context()

            self.ssl_context_factory = context
        if network.proxy:
            proxy = urlsplit(network.proxy)
            self.proxy_host, self.proxy_port = proxy.hostname, proxy.port or 80
        super().__init__(*args, **kwargs)

    @classmethod
    def session(cls) -> Session:
        """This user class's engine session: settings resolved once (option attributes > environment > config file)."""
        found = cls._sessions.get(cls)
        if found is None:
            options = {"provider": cls.provider, "seed": cls.seed}
            found = cls._sessions[cls] = Session(resolve_run_config(options, require_target=False))
        return found

    @classmethod
    def settings(cls) -> tuple[Provider, str, Credentials, float, float, DeliveryPool]:
        """Provider, path, credentials, duplicates, per-user rate and pool: class attributes, else the environment."""
        found = cls._settings.get(cls)
        if found is not None:
            return found
        session = cls.session()
        if not session.config.provider:
            raise UsageError("WebhookUser needs a provider: set the class attribute or WEBHOOK_HARNESS_PROVIDER.")
        provider = session.provider
        path = cls.path or _env("PATH") or "/"
        events = tuple(cls.events) or tuple(e.strip() for e in (_env("EVENTS") or "").split(",") if e.strip())
        events = check_events(provider, events)  # exact names or globs (invoice.*)
        creds = session.credentials
        if cls.credentials is not None:
            creds = dataclasses.replace(cls.credentials, tokens=session.tokens, certificates=session.certificates)
        check_credentials(provider, creds)
        duplicates = cls.duplicates if cls.duplicates is not None else float(_env("DUPLICATES") or 0.0)
        rate = cls.user_rate if cls.user_rate is not None else float(_env("USER_RATE") or 0.0)
        key = (provider.id, events, cls.seed)
        pool = cls._pools.get(key)
        if pool is None:
            size = cls.pool_size if cls.pool_size is not None else int(_env("POOL_SIZE") or _POOL_SIZE)
            seed = cls.seed if cls.seed is None or not _FORKS else hash((cls.seed, _FORKS[0]))
            pool = cls._pools[key] = DeliveryPool(provider, events, size=size, seed=seed)
        found = (provider, path if path.startswith("/") else "/" + path, creds, duplicates, rate, pool)
        cls._settings[cls] = found
        return found

    def wait_time(self) -> float:
        """No wait, or the pause that keeps this user at ``user_rate`` deliveries per second."""
        rate = self.settings()[4]
        return float(constant_throughput(rate)(self)) if rate > 0 else 0.0

    @task
    def deliver(self) -> None:
        """Post one signed delivery; a 2xx is a success, anything else a failure named by its status."""
        self.send_delivery()

    def send_delivery(self) -> None:
        """Sign the next delivery now and post it under ``provider:event``."""
        provider, path, creds, duplicates, _, pool = self.settings()
        delivery = sign_delivery(provider, pool.next(duplicates), creds, url=f"{self.host or ''}{path}")
        name = f"{provider.id}:{delivery.event_types[0] if delivery.event_types else 'event'}"
        with self.client.request(
            delivery.method,
            path,
            data=delivery.body,  # type: ignore[arg-type]  # bytes go out as they are
            headers=self.session().network.with_headers(delivery.headers),
            auth=delivery.url_userinfo,
            allow_redirects=False,
            name=name,
            catch_response=True,
        ) as response:
            status = response.status_code
            if 200 <= status < 300:
                response.success()
            else:
                response.failure(f"HTTP {status}" if status else f"no answer ({response.error!r})")


def _prepare(environment: Any, **_: Any) -> None:
    """Fill any pool not built yet before the run's clock starts (not on a master); refresh gevent's clock."""
    if isinstance(environment.runner, MasterRunner):
        return
    for user_class in environment.user_classes or ():
        if isinstance(user_class, type) and issubclass(user_class, WebhookUser) and not user_class.abstract:
            user_class.settings()
    import gevent

    gevent.get_hub().loop.update_now()  # the loop's cached clock missed the build: --run-time must not count it


def _collect_final_reports(environment: Any, **_: Any) -> None:
    """A headless master quits after 0.5 s, before busy workers' last requests are reported: stop them first.

    The workers finish their in-flight requests (within --stop-timeout) and report them; only then does the master
    go on to quit, so its totals match what the receiver got.
    """
    runner = environment.runner
    if not isinstance(runner, MasterRunner):
        return
    import time

    import gevent
    from locust.rpc import Message
    from locust.runners import STATE_INIT, STATE_RUNNING, STATE_SPAWNING, WORKER_REPORT_INTERVAL

    busy = [client.id for client in runner.clients.all if client.state in (STATE_RUNNING, STATE_SPAWNING)]
    if not busy:
        return
    for client_id in busy:
        runner.server.send_to_client(Message("stop", None, client_id))  # type: ignore[no-untyped-call]
    deadline = time.monotonic() + float(environment.stop_timeout or 0) + 10.0
    while time.monotonic() < deadline:
        clients = runner.clients
        if all(cid not in clients or clients[cid].state == STATE_INIT for cid in busy):
            break
        gevent.sleep(0.2)
    gevent.sleep(WORKER_REPORT_INTERVAL + 0.5)  # the workers' periodic report carries their last requests


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)
events.init.add_listener(_prepare)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_collect_final_reports)  # type: ignore[no-untyped-call]
