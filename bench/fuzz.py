"""`make fuzz`: thousands of hostile requests to every public route of `meetbot serve`.

    python -m bench.fuzz [--count 10000] [--seed N] [--databases sqlite,postgresql]
    python -m bench.fuzz --replay fuzz-findings.jsonl

meetbot runs as its own process (`python -m app serve`) against the simulators, with a seeded demo
company, Slack workspace and a booked meeting, so tokens, signatures and link pages can be genuine
as well as forged. The requests come from bench/fuzz_requests.py (hypothesis, seeded). Printed:
the answers counted by status; every 5xx, timeout or dropped connection as a replayable finding
(also written to fuzz-findings.jsonl); tracebacks in the server's log. Exit status 1 if any.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import HypothesisWarning

from app.bootstrap import build_core
from app.sandbox import SandboxWorld, book, message_as_text, seed_demo, simulators_running, wait_for
from app.settings import Settings
from bench.fuzz_requests import (
    FuzzRequest,
    Targets,
    requests,
    send,
    slack_headers,
    zoom_headers,
)
from bench.procs import ServerProcess, free_port, settings_env

PG_ADMIN_URL = os.environ.get(
    "MEETBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SLACK_SIGNING_SECRET = "fuzz-signing-secret"  # noqa: S105  (the fuzzed instance's own)
ZOOM_WEBHOOK_SECRET = "fuzz-zoom-webhook-secret"  # noqa: S105
TIMEOUT_SECONDS = 20.0
FINDINGS = Path("fuzz-findings.jsonl")


@dataclass
class Tally:
    database: str
    statuses: Counter[str] = field(default_factory=Counter)
    findings: list[tuple[str, FuzzRequest]] = field(default_factory=list)
    tracebacks: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.findings) or self.tracebacks > 0

    def record(self, outcome: str, request: FuzzRequest) -> None:
        self.statuses[outcome] += 1
        if outcome.startswith("unsent"):
            return
        if outcome == "closed":  # malformed bytes the server may drop; a hang is a timeout
            return
        if not outcome.isdigit() or int(outcome) >= 500:
            self.findings.append((outcome, request))


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'fuzz.db'}"
        return
    name = f"meetbot_fuzz_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]
        admin.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]


@contextlib.contextmanager
def meetbot(
    world: SandboxWorld, database_url: str, workdir: Path
) -> Iterator[tuple[str, Targets, ServerProcess]]:
    """`meetbot serve` with every route on, a demo company, and a booked meeting's links."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    core = build_core(world.settings(database_url=database_url, public_url=url))
    core.migrate()
    demo = seed_demo(core, world)
    core.engine.dispose()
    settings: Settings = world.settings(
        database_url=database_url,
        public_url=url,
        port=port,
        slack_signing_secret=SLACK_SIGNING_SECRET,
        # The install flow, so /slack/install and /slack/oauth_redirect are served too (the
        # fuzz test in tests/ covers the single-workspace token).
        slack_client_id=world.slack.client_id,
        slack_client_secret=world.slack.client_secret,
        zoom_webhook_secret_token=ZOOM_WEBHOOK_SECRET,
        teams_app_id="00000000-0000-0000-0000-00000000fuzz",
        teams_app_password="teams-password-for-fuzzing",  # noqa: S106
        teams_openid_metadata_url="http://127.0.0.1:9/openid",  # forged tokens only
        company_routines=False,
    )
    with ServerProcess(
        "meetbot",
        ["-m", "app", "serve"],
        port=port,
        ready_path="/healthz",
        workdir=workdir,
        env=settings_env(settings),
        ready=lambda answer: answer.status_code == 200,
    ) as server:
        booking = book(world, demo)
        callback = world.simplybook.callback(demo.login, booking["id"], "create")
        httpx.post(f"{url}/webhooks/simplybook/{demo.webhook_token}", json=callback, timeout=10)
        messages = wait_for(lambda: world.slack.messages(demo.channel_id), timeout=30)
        text = message_as_text(messages[0]) if messages else ""
        links = tuple(re.findall(r"/[mh]/([A-Za-z0-9_-]+)", text))
        targets = Targets(
            webhook_token=demo.webhook_token,
            slack_signing_secret=SLACK_SIGNING_SECRET,
            zoom_webhook_secret=ZOOM_WEBHOOK_SECRET,
            slack_team_id=demo.team_id,
            slack_response_url=world.slack.new_response_url(world.url("slack")),
            link_tokens=links,
        )
        yield url, targets, server


def outcome(client: httpx.Client, url: str, request: FuzzRequest) -> str:
    try:
        status = send(client, url, request).status_code
    except (httpx.TimeoutException, TimeoutError):
        return "timeout"
    except (httpx.LocalProtocolError, httpx.InvalidURL) as error:  # httpx itself refused it
        return f"unsent ({type(error).__name__})"
    except httpx.TransportError as error:
        return f"dropped ({type(error).__name__})"
    return "closed" if status == 0 else str(status)  # closed: a raw request without an answer


def fuzz(url: str, targets: Targets, tally: Tally, *, count: int, seed_value: int) -> None:
    with httpx.Client(timeout=TIMEOUT_SECONDS, trust_env=False) as client:

        @seed(seed_value)
        @settings(
            max_examples=count,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(request=requests(targets))
        def one(request: FuzzRequest) -> None:
            tally.record(outcome(client, url, request), request)
            done = sum(tally.statuses.values())
            if done % 1000 == 0:
                print(f"  {tally.database}: {done} requests", flush=True)

        one()


def tracebacks(log: str) -> int:
    return log.count("Traceback (most recent call last)")


def report(tally: Tally, log_path: Path, targets: Targets) -> None:
    total = sum(tally.statuses.values())
    counts = ", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses.items()))
    errors = len(tally.findings)
    print(f"{tally.database}: {total} requests; by status {counts}")
    print(
        f"{tally.database}: {errors} answers 5xx, timeouts or dropped; {tally.tracebacks} tracebacks in the server log"
    )
    if tally.tracebacks:
        print(f"  server log: {log_path}")
    with FINDINGS.open("a") as out:
        for status, request in tally.findings:
            entry = {**json.loads(request.replay()), "webhook_token": targets.webhook_token}
            out.write(json.dumps(entry) + "\n")
            print(f"  finding ({status}): {request.replay()[:600]}")


def resigned(request: FuzzRequest, targets: Targets, old_token: str) -> FuzzRequest:
    """The same request for a new run: its webhook token and genuine signatures renewed."""
    target = (
        request.target.replace(old_token, targets.webhook_token) if old_token else request.target
    )
    headers = [
        (name, value)
        for name, value in request.headers
        if not name.lower().startswith(("x-slack-", "x-zm-"))
    ]
    if request.shape.endswith(" valid") and request.shape.startswith("slack"):
        headers += slack_headers(targets.slack_signing_secret, request.body, "valid")
    elif request.shape.endswith(" valid") and request.shape.startswith("zoom"):
        headers += zoom_headers(targets.zoom_webhook_secret, request.body, "valid")
    return replace(request, target=target, headers=tuple(headers))


def main() -> int:
    warnings.filterwarnings("ignore", category=HypothesisWarning)  # large bodies print long
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz")
    parser.add_argument("--count", type=int, default=10_000, help="requests per database")
    parser.add_argument("--seed", type=int, default=None, help="the same seed, the same requests")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--replay", type=Path, default=None, help="a findings file to send again")
    args = parser.parse_args()
    seed_value = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    replaying: list[dict[str, Any]] = []
    if args.replay:
        replaying = [json.loads(line) for line in args.replay.read_text().splitlines() if line]
    else:
        print(
            f"fuzz: seed {seed_value} (SEED={seed_value} repeats this run), {args.count} requests per database"
        )
        FINDINGS.unlink(missing_ok=True)
    failed = False
    with simulators_running() as world, tempfile.TemporaryDirectory(prefix="meetbot-fuzz-") as tmp:
        for kind in args.databases.split(","):
            workdir = Path(tmp) / kind
            workdir.mkdir()
            tally = Tally(kind)
            with (
                database(kind, workdir) as database_url,
                meetbot(world, database_url, workdir) as (url, targets, server),
            ):
                started = time.monotonic()
                if replaying:
                    with httpx.Client(timeout=TIMEOUT_SECONDS, trust_env=False) as client:
                        for data in replaying:
                            request = resigned(
                                FuzzRequest.from_replay(json.dumps(data)),
                                targets,
                                data.get("webhook_token", ""),
                            )
                            tally.record(outcome(client, url, request), request)
                else:
                    fuzz(url, targets, tally, count=args.count, seed_value=seed_value)
                elapsed = time.monotonic() - started
                server.stop()
                log_path = workdir / "meetbot.log"
                tally.tracebacks = tracebacks(log_path.read_text(errors="replace"))
                print(f"{kind}: {elapsed:.0f} s")
                report(tally, log_path, targets)
                if tally.tracebacks:
                    print(log_path.read_text(errors="replace")[-4000:])
                failed = failed or tally.failed
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
