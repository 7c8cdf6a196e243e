"""The shared HTTP helper against a real loopback server."""

from __future__ import annotations

import threading
import time

import pytest

from sources.toolkit.sandbox.server import Fault, Response, SandboxServer, route
from sources.http import HttpClient, HttpError, RateLimiter, RetryPolicy, redact_mapping
from sources.http.retry import parse_retry_after


class EchoSandbox(SandboxServer):
    @route("GET", r"/v1/items/(?P<item_id>\d+)")
    def get_item(self, request, item_id):
        return Response.json({"id": int(item_id), "auth": request.header("authorization", "")[:6]})

    @route("POST", r"/v1/items")
    def create(self, request):
        return Response.json({"created": request.json()}, status=201)


@pytest.fixture()
def sandbox():
    with EchoSandbox() as server:
        yield server


def fast_client(url, **kwargs):
    slept = []
    client = HttpClient(
        url, headers={"Authorization": "Bearer s3cr3t-token"}, secrets=["s3cr3t-token"],
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05), sleep=slept.append, **kwargs,
    )
    return client, slept


def test_get_and_post(sandbox):
    client, _ = fast_client(sandbox.url)
    assert client.request("GET", "/v1/items/5").json() == {"id": 5, "auth": "Bearer"}
    assert client.request("POST", "/v1/items", json={"a": 1}).json() == {"created": {"a": 1}}


def test_retries_429_with_and_without_retry_after_and_5xx(sandbox):
    client, slept = fast_client(sandbox.url)
    sandbox.inject(Fault(429, retry_after=2), times=1)
    sandbox.inject(Fault(429), times=1)
    sandbox.inject(Fault(503), times=1)
    assert client.request("GET", "/v1/items/1").json()["id"] == 1
    assert client.retry_count == 3
    assert slept[0] == 2.0  # Retry-After honoured
    assert all(s <= 0.05 for s in slept[1:])  # backoff capped by the policy
    assert sandbox.request_counts["GET /v1/items/{item_id}"] == 4


def test_never_retries_other_4xx_and_redacts(sandbox):
    client, _ = fast_client(sandbox.url)
    sandbox.inject(Fault(400, body={"message": "bad request for Bearer s3cr3t-token"}))
    with pytest.raises(HttpError) as info:
        client.request("GET", "/v1/items/1").json()
    assert info.value.status == 400 and client.retry_count == 0
    assert "s3cr3t-token" not in str(info.value) and "GET /v1/items/1" in str(info.value)
    assert "s3cr3t" not in repr(client)


def test_gives_up_after_max_attempts(sandbox):
    client, _ = fast_client(sandbox.url)
    sandbox.inject(Fault(500), times=10)
    with pytest.raises(HttpError, match=r"returned HTTP 500 \(gave up after 4 attempt\(s\) in [\d.]+s; limits: retry_max_attempts 4"):
        client.request("GET", "/v1/items/1").json()
    assert client.request_count == 4


def test_connection_errors_are_retried_then_reported():
    client, slept = fast_client("http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(HttpError, match=r"GET /v1/items/1 failed after 4 attempt\(s\) in [\d.]+s; limits: retry_max_attempts 4.*ConnectionError"):
        client.request("GET", "/v1/items/1").json()
    assert len(slept) == 3


def test_slow_response_times_out_and_retries(sandbox):
    client, _ = fast_client(sandbox.url, timeout=(1.0, 0.2))
    sandbox.inject(Fault(delay=0.5), times=1)
    assert client.request("GET", "/v1/items/2").json()["id"] == 2
    assert client.retry_count == 1


def test_rate_limiter_spaces_calls():
    limiter = RateLimiter(max_calls=5, period=0.5)
    started = time.monotonic()
    threads = [threading.Thread(target=limiter.acquire) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started >= 1.0  # 12 calls at 5 per 0.5 s need two waits


def test_retry_after_parsing_and_backoff():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("") is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    policy = RetryPolicy(base_delay=1, max_delay=4)
    delays = [policy.delay(n) for n in range(1, 6)]
    assert all(0.5 <= d <= 1 for d in delays[:1]) and all(d <= 4 for d in delays)
    assert not policy.should_retry(404) and policy.should_retry(429) and policy.should_retry(503)


def test_redact_mapping():
    assert redact_mapping({"access_token": "x", "client_secret": "y", "api_key": "z", "tableName": "t"}) == {
        "access_token": "***", "client_secret": "***", "api_key": "***", "tableName": "t"}


def test_a_connector_classifies_403_with_retry_after_as_a_rate_limit(sandbox):
    sandbox.inject(Fault(403, retry_after=1, body={"message": "secondary rate limit"}), times=1)
    plain, _ = fast_client(sandbox.url)
    with pytest.raises(HttpError) as err:
        plain.request("GET", "/v1/items/1").json()
    assert err.value.status == 403  # the default policy never retries a 403

    sandbox.inject(Fault(403, retry_after=1, body={"message": "secondary rate limit"}), times=1)
    sandbox.inject(Fault(403, body={"message": "forbidden"}), times=1)
    slept = []
    policy = RetryPolicy(max_attempts=4, base_delay=0.01, classify=lambda status, headers, body:
                         "retry" if status == 403 and "Retry-After" in headers else None)
    github_like = HttpClient(sandbox.url, retry=policy, sleep=slept.append)
    with pytest.raises(HttpError) as err:  # retried once (Retry-After 1 s), then a plain 403 fails
        github_like.request("GET", "/v1/items/1").json()
    assert slept == [1.0] and err.value.status == 403 and "forbidden" in str(err.value)
    assert github_like.request("GET", "/v1/items/2").json()["id"] == 2


def test_a_secret_at_the_cut_is_redacted_whole(sandbox):
    sandbox.inject(Fault(400, body={"pad": "x" * 476, "echo": "s3cr3t-token"}), times=1)
    client, _ = fast_client(sandbox.url)
    with pytest.raises(HttpError) as err:
        client.request("GET", "/v1/items/1").json()
    assert "s3cr3t" not in str(err.value) and "s3cr" not in str(err.value)


def test_a_server_that_never_answers_fails_within_the_deadline_naming_the_endpoint():
    from sources.toolkit.sandbox.silent import SilentServer
    from sources.http import HttpSettings

    settings = HttpSettings.from_options({"read_timeout": "0.3", "retry_max_attempts": "50",
                                          "retry_base_delay": "0.05", "request_deadline": "1.5"})
    with SilentServer() as url:
        client = HttpClient.from_settings(url, settings)
        started = time.monotonic()
        with pytest.raises(HttpError) as info:
            client.request("GET", "/crm/v3/properties/contacts").json()
        elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0, elapsed
    message = str(info.value)
    assert message.startswith("GET /crm/v3/properties/contacts failed after ") and "ReadTimeout" in message
    assert "request_deadline 1.5s" in message and info.value.status is None
    assert client.request_count < 50   # the deadline, not the attempts, ended it


def test_shared_client_options_are_named_in_errors():
    from sources.http import HttpSettings
    from sources.interface import ConnectorError

    for name, value in [("connect_timeout", "0"), ("read_timeout", "soon"), ("retry_max_attempts", "0"),
                        ("request_deadline", "inf")]:
        with pytest.raises(ConnectorError, match=name):
            HttpSettings.from_options({name: value})
