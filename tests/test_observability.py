"""What an operator watches: `/metrics` (Prometheus), JSON log lines carrying request and job ids,
an access log without tokens, and `/livez` / `/readyz` beside `/healthz`."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.bootstrap import Core, build_core
from app.logs import TEXT_FORMAT, JsonLines, TextLines, configure_logging
from app.metrics import route_template
from app.sandbox import SandboxWorld, book
from app.web import build_web_app
from simulators.server import BackgroundServer

from .harness import SlackCompany, deliver

METRICS_TOKEN = "metrics-scrape-token-5b8e2d"


@pytest.fixture
def meetbot_timings() -> dict[str, Any]:
    """Every meetbot of this module serves /metrics behind a bearer token."""
    return {"metrics": True, "metrics_token": METRICS_TOKEN}


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> tuple[str, Samples]:
    answer = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200, answer.text
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return answer.text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over the samples of `name` whose labels include `labels`."""
    return sum(
        found
        for (sample, sample_labels), found in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


def test_metrics_move_through_a_booking_and_name_no_tenant(slack_company: SlackCompany) -> None:
    url = slack_company.slack.meetbot_url
    _, before = scrape(url)

    booking = slack_company.book_and_sync()

    text, after = scrape(url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("meetbot_webhooks_total", source="simplybook", outcome="accepted") == 1
    assert moved("meetbot_jobs_finished_total", outcome="completed") >= 1
    assert moved("meetbot_job_duration_seconds_count", outcome="completed") >= 1
    assert moved("meetbot_job_attempts_count", outcome="completed") >= 1
    assert moved("meetbot_platform_calls_total", platform="zoom", method="POST", outcome="ok") >= 1
    assert moved("meetbot_platform_calls_total", platform="simplybook", outcome="ok") >= 1
    assert (
        moved("meetbot_platform_calls_total", platform="slack", route="/api/chat.postMessage") >= 1
    )
    assert moved("meetbot_http_requests_total", route="/webhooks/simplybook/{token}") == 1
    assert value(after, "meetbot_jobs", state="done") >= 1
    assert ("meetbot_open_alerts", ()) in after
    assert slack_company.world.zoom.created_count() == 1  # the booking did make its meeting

    demo = slack_company.demo
    never = {
        demo.webhook_token,
        demo.login,
        "Demo Yoga Studio",  # the company's name (seed_demo)
        booking["client_name"],
        booking["client_email"],
        "Olena Koval",  # the provider
        "olena@demo-studio.test",
        METRICS_TOKEN,
        *slack_company.core.settings.secret_values(),
    }
    labels = {label for _, sample_labels in after for _, label in sample_labels}
    for secret in never:
        assert not any(secret in label for label in labels), secret
        assert secret not in text


def test_metrics_need_the_bearer_token(slack_company: SlackCompany) -> None:
    url = slack_company.slack.meetbot_url
    assert httpx.get(f"{url}/metrics").status_code == 401
    wrong = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert METRICS_TOKEN not in wrong.text


def test_invented_methods_share_one_series(slack_company: SlackCompany) -> None:
    url = slack_company.slack.meetbot_url
    for method in ("BREW", "XYZ123", "PROPFIND"):
        httpx.request(method, f"{url}/livez")
    text, samples = scrape(url)
    assert "BREW" not in text and "XYZ123" not in text and "PROPFIND" not in text
    assert value(samples, "meetbot_http_requests_total", method="other") >= 3


def test_metrics_are_off_by_default_and_liveness_is_split(
    make_core: Callable[..., Core],
) -> None:
    plain = make_core(metrics=False, metrics_token=None)
    with BackgroundServer(build_web_app(plain), name="meetbot") as server:
        assert httpx.get(f"{server.url}/metrics").status_code == 404
        assert httpx.get(f"{server.url}/livez").json() == {"status": "ok"}
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ok"
        assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_readyz_fails_when_the_database_is_down_and_livez_does_not(world: SandboxWorld) -> None:
    settings = world.settings(
        database_url="postgresql+psycopg://meetbot:pw-not-shown@127.0.0.1:1/none",
        public_url="http://meetbot.test",
    )
    broken = build_core(settings)
    with BackgroundServer(build_web_app(broken), name="meetbot") as server:
        assert httpx.get(f"{server.url}/livez", timeout=30).status_code == 200
        ready = httpx.get(f"{server.url}/readyz", timeout=30)
    broken.engine.dispose()
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert "pw-not-shown" not in ready.text


def test_route_templates_keep_api_words_only() -> None:
    assert route_template("/v2/users/olena@demo-studio.test/meetings") == "/v2/users/{id}/meetings"
    assert route_template("/v2/meetings/85746065432") == "/v2/meetings/{id}"
    assert (
        route_template("/v1.0/users/6f1c3c1e-4b7a-4d16-9c5e-1d2a3b4c5d6e/onlineMeetings")
        == "/v1.0/users/{id}/onlineMeetings"
    )
    assert route_template("/oauth/token") == "/oauth/token"
    assert route_template("/api/chat.postMessage", dotted_words=True) == "/api/chat.postMessage"
    assert route_template("/api/chat.postMessage") == "/api/{id}"
    assert route_template("/v2/users/KDcuGIwQgePTOWbOqwIQ") == "/v2/users/{id}"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Logging configured as `MEETBOT_LOG_FORMAT=json` does it, into a buffer; put back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure_logging("INFO", log_format="json", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_json_logs_carry_request_and_job_ids(
    slack_company: SlackCompany, json_lines: io.StringIO
) -> None:
    world, demo = slack_company.world, slack_company.demo
    booking = book(world, demo, starts_in=timedelta(days=3))
    answer = httpx.post(
        f"{slack_company.slack.meetbot_url}/webhooks/simplybook/{demo.webhook_token}",
        json=world.simplybook.callback(demo.login, booking["id"], "create"),
        headers={"X-Request-Id": "proxy-given-id-0001"},
        timeout=10,
    )
    assert answer.status_code == 202
    assert answer.headers["X-Request-Id"] == "proxy-given-id-0001"
    mark = len(json_lines.getvalue())
    # Zoom asks once to wait: the retry's lines are the same job's lines.
    world.zoom.faults.fail(
        method="POST", path=r"/meetings$", status=429, headers={"Retry-After": "1"}, times=1
    )
    slack_company.run_jobs()
    assert world.zoom.created_count() == 1
    deliver(slack_company.slack.meetbot_url, world, demo, booking["id"], "change")

    # The access line is written once the answer went out: it may come a moment after it.
    deadline = time.monotonic() + 5
    while json_lines.getvalue().count("/webhooks/simplybook/") < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    text = json_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    assert lines
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line)

    access = [line for line in lines if line["logger"] == "meetbot.access"]
    webhook = [line for line in access if "/webhooks/simplybook/" in line["message"]]
    assert len(webhook) == 2
    assert webhook[0]["request_id"] == "proxy-given-id-0001"
    assert webhook[1]["request_id"] not in ("", "proxy-given-id-0001")  # a fresh one
    assert demo.webhook_token not in text

    job_lines = [json.loads(line) for line in text[mark:].splitlines()]
    run = [line for line in job_lines if line["logger"] != "meetbot.access"]
    assert run, "the booking's job logged nothing"
    job_ids = {line.get("job_id") for line in run}
    assert len(job_ids) == 1 and None not in job_ids, run
    messages = " ".join(line["message"] for line in run)
    assert "retries" in messages and "completed" in messages, messages
    # At INFO a run that went through is one summary line: its booking, its try and its outcome.
    assert "started" not in messages, messages
    (summary,) = [line["message"] for line in run if "completed" in line["message"]]
    assert f"(sync_booking, booking {booking['id']}) completed on attempt 2 in " in summary
    assert summary.endswith(": meeting created and provider notified"), summary
    _, samples = scrape(slack_company.slack.meetbot_url)
    assert value(samples, "meetbot_rate_limit_waits_total", reason="platform") == 1
    assert value(samples, "meetbot_platform_calls_total", outcome="rate_limited") == 1


def test_a_json_line_carries_the_traceback_as_cleaned(json_lines: io.StringIO) -> None:
    secret = "known-secret-value-9f3a1c"
    configure_logging("INFO", [secret], log_format="json", stream=json_lines)
    try:
        raise ValueError(f"refused with token=abcdef123456 and {secret}")
    except ValueError:
        logging.getLogger("meetbot.test").exception("a call failed")
    (line,) = [json.loads(text) for text in json_lines.getvalue().splitlines()]
    assert line["message"] == "a call failed"
    assert "ValueError: refused with token=[redacted] and [redacted]" in line["exc_info"]
    assert secret not in json_lines.getvalue() and "abcdef123456" not in json_lines.getvalue()


@pytest.mark.parametrize(
    "created",
    [1764470000.0, 1764470000.000001, 1764470000.5, 1764470000.9999996, 1764470000.0000004],
)
def test_log_times_are_written_as_the_standard_formatters_write_them(created: float) -> None:
    record = logging.LogRecord("meetbot", logging.INFO, __file__, 1, "a line", None, None)
    record.created, record.msecs = created, (created - int(created)) * 1000 // 1
    stamp = datetime.fromtimestamp(created, UTC).isoformat()
    assert json.loads(JsonLines().format(record))["time"] == stamp
    standard = logging.Formatter(TEXT_FORMAT)
    text = TextLines()
    for _ in range(2):  # the second time from what the first one kept
        assert text.formatTime(record) == standard.formatTime(record)
