"""A reply describes itself in one line; a redirect names where it points and why that fails (issue 15)."""

from __future__ import annotations

from harness.core.models import Reply


def test_a_redirect_shows_its_location_and_that_providers_do_not_follow_it() -> None:
    text = Reply(302, {"Location": "https://example.test/login"}, b"", 0.01).describe()
    assert "HTTP 302" in text and "'https://example.test/login'" in text and "do not follow redirects" in text


def test_a_plain_answer_is_status_time_and_excerpt() -> None:
    assert Reply(200, {}, b'{"ok":true}', 0.012).describe() == 'HTTP 200 in 12 ms: {"ok":true}'
