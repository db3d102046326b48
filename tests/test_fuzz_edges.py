"""The project's own fuzz test: hostile requests of every shape to every public route, over real
HTTP, on SQLite and PostgreSQL. Any 5xx, hang or logged traceback fails it. `make fuzz` runs the
same strategies (bench/fuzz_requests.py) 10,000 times and more against `meetbot serve`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from app.bootstrap import Core
from app.sandbox import Demo, SandboxWorld, seed_demo
from app.web import build_web_app
from bench.fuzz_requests import FuzzRequest, Targets, requests, send
from simulators.server import BackgroundServer

from .edge_server import SLACK_SIGNING_SECRET, ZOOM_WEBHOOK_SECRET

EXAMPLES = 150  # per database; `make fuzz` runs many more, from a seed of your choice


@pytest.fixture
def fuzzed(make_core: Callable[..., Core], world: SandboxWorld) -> Iterator[tuple[str, Targets]]:
    demo: Demo = seed_demo(make_core(), world)
    core = make_core(
        slack_signing_secret=SLACK_SIGNING_SECRET,
        slack_bot_token=f"xoxb-{demo.team_id}-sandbox",  # the demo workspace's, as seeded
        zoom_webhook_secret_token=ZOOM_WEBHOOK_SECRET,
        teams_app_id="00000000-0000-0000-0000-00000000fuzz",
        teams_app_password="teams-password-for-fuzzing",
        teams_openid_metadata_url="http://127.0.0.1:9/openid",  # tokens cannot be verified
    )
    targets = Targets(
        webhook_token=demo.webhook_token,
        slack_signing_secret=SLACK_SIGNING_SECRET,
        zoom_webhook_secret=ZOOM_WEBHOOK_SECRET,
        slack_team_id=demo.team_id,
        slack_response_url=world.slack.new_response_url(world.url("slack")),
    )
    with BackgroundServer(build_web_app(core), name="meetbot") as server:
        yield server.url, targets


def test_no_request_gets_a_server_error(
    fuzzed: tuple[str, Targets], caplog: pytest.LogCaptureFixture
) -> None:
    url, targets = fuzzed
    caplog.set_level(logging.WARNING)
    with httpx.Client(timeout=20, trust_env=False) as client:

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,  # the same inputs every run: `make test` never turns red by chance
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(request=requests(targets))
        def answered_without_error(request: FuzzRequest) -> None:
            answer = send(client, url, request)
            assert answer.status_code < 500, f"{answer.status_code} for {request.replay()}"

        answered_without_error()
    tracebacks = [record.getMessage() for record in caplog.records if record.exc_info]
    assert not tracebacks, tracebacks[:3]
