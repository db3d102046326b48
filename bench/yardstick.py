"""The worker yardstick: a minimal claim → create → post loop, against the same simulators.

A job table in SQLite (WAL, synchronous=FULL, one row per job), `lanes` asyncio lanes, each:
claim the oldest pending job (BEGIN IMMEDIATE, UPDATE … RETURNING), create a Zoom meeting
(POST /users/{id}/meetings), post a Slack message (chat.postMessage), mark the job done. One
httpx.AsyncClient per platform. No intent records, markers, pacing, templates or ORM: the
floor under what meetbot's worker does per booking (it also reads the booking from SimplyBook).

It runs in a process of its own (`python -m bench.yardstick TARGETS.json …`) so that its CPU time
is its own; `run_yardstick` starts it and reads the JSON line it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.load import percentile
from bench.procs import ROOT, BenchError
from bench.stage import Stage


@dataclass(frozen=True)
class YardstickRun:
    jobs: int
    lanes: int
    latency: float
    seconds: float
    cpu_seconds: float
    latencies: list[float]  # claim → post answered, per job

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds if self.seconds else 0.0

    def p(self, fraction: float) -> float:
        return percentile(self.latencies, fraction)

    @property
    def cpu_ms_per_job(self) -> float:
        return 1000 * self.cpu_seconds / self.jobs


def run_yardstick(stage: Stage, *, jobs: int, lanes: int, latency: float) -> YardstickRun:
    """The loop over `jobs` jobs, one channel after another of the stage's fleet (so Slack's
    per-channel pace is met as it is for meetbot), with `latency` on every simulator answer."""
    world = stage.world
    targets = []
    for tenant in stage.fleet.tenants:
        demo = tenant.demo
        tokens = world.zoom.issue_tokens(account_id=f"acct-{demo.login}", user_id=demo.zoom_user_id)
        for provider in tenant.providers:
            targets.append(
                {
                    "zoom_token": tokens["access_token"],
                    "zoom_user": demo.zoom_user_id,
                    "slack_token": f"xoxb-{demo.team_id}-sandbox",
                    "channel": provider.channel_id,
                }
            )
    for simulator in (world.zoom, world.slack):
        simulator.faults.latency = latency
    try:
        with tempfile.TemporaryDirectory(prefix="meetbot-yardstick-") as folder:
            plan = Path(folder) / "targets.json"
            plan.write_text(json.dumps(targets))
            args = [
                *(str(plan), "--jobs", str(jobs), "--lanes", str(lanes)),
                *("--zoom", f"{world.url('zoom')}/v2", "--slack", f"{world.url('slack')}/api"),
                *("--database", f"{folder}/jobs.db"),
            ]
            result = _subprocess(args)
    finally:
        for simulator in (world.zoom, world.slack):
            simulator.faults.latency = 0.0
    return YardstickRun(jobs, lanes, latency, **result)


def _subprocess(args: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.yardstick", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"the yardstick loop failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _open(path: str, jobs: int) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(
        "CREATE TABLE job (id INTEGER PRIMARY KEY, state TEXT NOT NULL, target INTEGER NOT NULL,"
        " meeting TEXT, posted TEXT)"
    )
    connection.execute("CREATE INDEX ix_job_state ON job (state, id)")
    connection.executemany(
        "INSERT INTO job (state, target) VALUES ('pending', ?)", [(n,) for n in range(jobs)]
    )
    return connection


def _claim(db: sqlite3.Connection) -> tuple[int, int] | None:
    db.execute("BEGIN IMMEDIATE")
    row = db.execute(
        "UPDATE job SET state = 'running' WHERE id = (SELECT id FROM job WHERE state = 'pending'"
        " ORDER BY id LIMIT 1) RETURNING id, target"
    ).fetchone()
    db.execute("COMMIT")
    return None if row is None else (int(row[0]), int(row[1]))


async def _loop(args: argparse.Namespace, targets: list[dict[str, str]]) -> dict[str, Any]:
    db = _open(args.database, args.jobs)
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    zoom = httpx.AsyncClient(base_url=args.zoom, limits=limits, timeout=30.0, trust_env=False)
    slack = httpx.AsyncClient(base_url=args.slack, limits=limits, timeout=30.0, trust_env=False)
    latencies: list[float] = []

    async def lane() -> None:
        while (claimed := _claim(db)) is not None:
            started = time.perf_counter()
            job_id, number = claimed
            target = targets[number % len(targets)]
            meeting = await zoom.post(
                f"/users/{target['zoom_user']}/meetings",
                headers={"Authorization": f"Bearer {target['zoom_token']}"},
                json={"topic": f"Job {job_id}", "type": 2, "duration": 60, "agenda": str(job_id)},
            )
            meeting.raise_for_status()
            posted = await _post(slack, target, meeting.json()["join_url"])
            if not posted.json().get("ok"):
                raise RuntimeError(f"chat.postMessage: {posted.text[:200]}")
            db.execute(
                "UPDATE job SET state = 'done', meeting = ?, posted = ? WHERE id = ?",
                (str(meeting.json()["id"]), posted.json()["ts"], job_id),
            )
            latencies.append(time.perf_counter() - started)

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(args.lanes)))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    await zoom.aclose()
    await slack.aclose()
    (done,) = db.execute("SELECT count(*) FROM job WHERE state = 'done'").fetchone()
    if done != args.jobs:
        raise RuntimeError(f"{done} of {args.jobs} jobs done")
    return {"seconds": seconds, "cpu_seconds": cpu, "latencies": latencies}


async def _post(slack: httpx.AsyncClient, target: dict[str, str], text: str) -> httpx.Response:
    """chat.postMessage, waiting out Slack's one-post-a-second-per-channel answer (429)."""
    while True:
        posted = await slack.post(
            "/chat.postMessage",
            headers={"Authorization": f"Bearer {target['slack_token']}"},
            json={"channel": target["channel"], "text": text},
        )
        if posted.status_code != 429:
            return posted
        await asyncio.sleep(float(posted.headers.get("retry-after", "1")))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.yardstick")
    parser.add_argument("targets")
    parser.add_argument("--jobs", type=int, required=True)
    parser.add_argument("--lanes", type=int, required=True)
    parser.add_argument("--zoom", required=True)
    parser.add_argument("--slack", required=True)
    parser.add_argument("--database", required=True)
    args = parser.parse_args()
    targets = json.loads(Path(args.targets).read_text())
    print(json.dumps(asyncio.run(_loop(args, targets))))


if __name__ == "__main__":
    main()
