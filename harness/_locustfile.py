"""The locustfile behind ``webhook-harness load --locust``: one WebhookUser configured by the environment."""

from __future__ import annotations

from harness.locust import WebhookUser


class ProviderUser(WebhookUser):
    """The provider, path, events, rate and credentials come from the WEBHOOK_HARNESS_* environment variables."""
