"""The pure rules of outbound webhooks: the retry schedule and what disables an endpoint, Retry-After,
the URL rules (HTTPS, no private addresses on AWS), secrets and their rotation overlap, and the event
type catalogue's schemas."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tollgate.domain.errors import InvalidInput
from tollgate.domain.event_types import BY_NAME, CATALOGUE
from tollgate.domain.webhooks import schedule
from tollgate.domain.webhooks.endpoints import WebhookEndpoint, new_secret, validate_enabled_events
from tollgate.domain.webhooks.urls import check_url

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _judge(status, attempt=1, **kw):
    kw.setdefault("failing_since", NOW)
    return schedule.judge(status=status, attempt=attempt, manual=False, now=NOW, rng=random.Random(1), **kw)


def test_the_schedule_is_the_standard_webhooks_one_with_jitter():
    assert [d.total_seconds() for d in schedule.DELAYS] == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    for attempt in range(1, schedule.MAX_ATTEMPTS):
        wait = _judge(500, attempt).next_attempt_in
        assert wait is not None and abs(wait - schedule.DELAYS[attempt]) <= schedule.DELAYS[attempt] * 0.1
    assert _judge(500, schedule.MAX_ATTEMPTS).outcome == schedule.Outcome.FAILED
    assert _judge(204).outcome == schedule.Outcome.SUCCEEDED
    assert _judge(None).outcome == schedule.Outcome.RETRYING  # a timeout is retried
    assert _judge(302).outcome == schedule.Outcome.RETRYING  # redirects are not followed


def test_retry_after_on_429_and_503_is_honoured_and_bounded():
    assert _judge(429, 1, retry_after_header="120").next_attempt_in >= timedelta(seconds=120)
    http_date = "Sun, 29 Nov 2026 14:00:00 GMT"
    assert _judge(503, 2, retry_after_header=http_date).next_attempt_in >= timedelta(hours=2)
    assert _judge(429, 1, retry_after_header="999999999").next_attempt_in <= timedelta(hours=24, seconds=1)
    assert _judge(500, 1, retry_after_header="3600").next_attempt_in < timedelta(seconds=6)  # only 429/503
    assert _judge(429, 1, retry_after_header="soon").next_attempt_in < timedelta(seconds=6)


def test_410_and_five_days_of_failures_disable():
    assert _judge(410).disable_reason and _judge(410).outcome == schedule.Outcome.FAILED
    assert _judge(500, failing_since=NOW - timedelta(days=5)).disable_reason
    assert _judge(500, failing_since=NOW - timedelta(days=4, hours=23)).disable_reason is None


def test_the_schedule_compresses_by_the_scale():
    wait = schedule.judge(
        status=500, attempt=2, manual=False, failing_since=NOW, now=NOW, scale=0.01, rng=random.Random(1)
    ).next_attempt_in
    assert wait is not None and wait <= timedelta(seconds=3.3)


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("http://example.com/hook", ["93.184.216.34"]),  # not https
        ("https://internal.example/hook", ["10.0.0.5"]),
        ("https://localhost/hook", ["127.0.0.1"]),
        ("https://metadata.example/hook", ["169.254.169.254"]),  # link-local (instance metadata)
        ("https://v6.example/hook", ["::1"]),
        ("https://mapped.example/hook", ["::ffff:192.168.1.1"]),
        ("https://mixed.example/hook", ["93.184.216.34", "192.168.0.1"]),
        ("https://user:pw@example.com/hook", ["93.184.216.34"]),
        ("https://example.com:99999/hook", ["93.184.216.34"]),
        ("ftp://example.com/hook", ["93.184.216.34"]),
    ],
)
def test_unsafe_urls_are_refused_on_aws(url, addresses):
    with pytest.raises(InvalidInput):
        check_url(url, allow_private=False, resolve=lambda host: addresses)


def test_public_https_urls_pass_and_the_local_stack_allows_a_laptop_receiver():
    assert check_url("https://example.com/hook", allow_private=False, resolve=lambda h: ["93.184.216.34"])
    assert check_url("http://127.0.0.1:8080/hook", allow_private=True, resolve=lambda h: [])


def test_a_host_that_does_not_resolve_is_refused():
    def nowhere(host):
        raise OSError("no such host")

    with pytest.raises(InvalidInput, match="does not resolve"):
        check_url("https://nowhere.invalid/hook", allow_private=False, resolve=nowhere)


def test_secrets_and_the_rotation_overlap():
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret) > 6 + 32
    endpoint = WebhookEndpoint("we_1", "ten_1", "https://example.com", secret, NOW, NOW)
    rotated = endpoint.rotated(NOW, timedelta(hours=1))
    assert rotated.signing_secrets(NOW + timedelta(minutes=59)) == [rotated.secret, secret]
    assert rotated.signing_secrets(NOW + timedelta(hours=1)) == [rotated.secret]


def test_enabled_events_are_star_or_catalogued_types():
    known = set(BY_NAME)
    assert validate_enabled_events(["*"], known) == ("*",)
    assert validate_enabled_events(["invoice.paid", "invoice.paid"], known) == ("invoice.paid",)
    with pytest.raises(InvalidInput, match="Unknown"):
        validate_enabled_events(["invoice.exploded"], known)
    with pytest.raises(InvalidInput):
        validate_enabled_events([], known)


def test_every_catalogued_type_has_a_description_and_a_json_schema():
    from pydantic import TypeAdapter

    assert len({t.name for t in CATALOGUE}) == len(CATALOGUE)
    for t in CATALOGUE:
        assert t.description and TypeAdapter(t.data).json_schema()["type"] == "object"
    assert "amount_due" in TypeAdapter(BY_NAME["invoice.finalized"].data).json_schema()["properties"]


def test_the_readme_lists_every_event_type():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    assert [t.name for t in CATALOGUE if f"`{t.name}`" not in readme] == []


def test_the_address_to_dial_is_a_vetted_one_ipv4_first():
    from tollgate.domain.webhooks.urls import vetted_address

    both = ["2606:2800:220:1:248:1893:25c8:1946", "93.184.216.34"]
    assert vetted_address("https://example.com/h", allow_private=False, resolve=lambda h: both) == "93.184.216.34"
    assert vetted_address("http://127.0.0.1:9/h", allow_private=True, resolve=lambda h: []) is None
