"""Play a webhook provider against your receiver with Locust, on one machine or many.

    WEBHOOK_HARNESS_PROVIDER=stripe WEBHOOK_HARNESS_SECRET=whsec_... WEBHOOK_HARNESS_PATH=/webhooks/stripe \\
        locust -f examples/locust/locustfile.py --headless -u 50 -r 10 --run-time 1m --host http://127.0.0.1:8000

See docs/load.md for the distributed run (one --master, any number of --worker processes or machines).
"""

from __future__ import annotations

from harness.locust import WebhookUser


class ProviderUser(WebhookUser):
    """The provider, path, events and credentials come from the WEBHOOK_HARNESS_* environment variables."""
