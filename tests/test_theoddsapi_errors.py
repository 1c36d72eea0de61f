"""Error paths of the Odds API client that a real server can produce: the key never leaks and
every failure is a ProviderError (unit tests on httpx's MockTransport)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from propsage.providers.base import ProviderError
from propsage.providers.theoddsapi import TheOddsAPIProvider

KEY = "SECRETKEY123"


def provider(handler, records=None):
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return TheOddsAPIProvider(KEY, base_url="http://odds.test/v4", leagues=("nfl",),
                              client=client, max_retries=1, sleep=lambda s: None,
                              on_response=(records.append if records is not None else None))


def test_an_error_body_echoing_the_url_is_neither_logged_nor_recorded(caplog):
    def echo(request):
        return httpx.Response(502, text="bad gateway: " + request.url.query.decode())

    records = []
    p = provider(echo, records)
    with caplog.at_level(logging.DEBUG), pytest.raises(ProviderError) as err:
        p.get_games()
    assert "502" in str(err.value)
    assert KEY not in caplog.text
    assert KEY not in json.dumps(records)
    assert KEY not in str(err.value)


def test_a_body_that_fails_to_decode_is_a_retried_provider_error():
    def broken(request):
        return httpx.Response(200, content=b"not gzip at all",
                              headers={"content-encoding": "gzip"})

    with pytest.raises(ProviderError):
        provider(broken).get_games()


def test_a_429_asking_for_a_longer_wait_than_the_backoff_cap_gives_up_at_once():
    sleeps = []

    def limited(request):
        return httpx.Response(429, json={"message": "slow down"}, headers={"retry-after": "60"})

    p = provider(limited)
    p._sleep = sleeps.append
    with pytest.raises(ProviderError) as err:
        p.get_games()
    assert "wait 60s" in str(err.value) and err.value.retryable
    assert sleeps == []  # no 16 s stall of the ingest thread
