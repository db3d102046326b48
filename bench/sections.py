"""The end-to-end sections of `make bench`: each prints its table and returns the checks it makes.

- pipeline: SQLite, the fleet, zero and 100 ms platform latency, with the minimal claim → create
  → post loop (bench/yardstick.py) measured on the same simulators as its yardstick.
- growth: the same paced load on 1 company, on the fleet, and on the fleet with a history of
  past bookings; SQLite and PostgreSQL. SQL statements per booking must not grow, p99 by no more
  than 20 %.
- scale-out and sustained: PostgreSQL, `meetbot serve --no-worker` and 1, 2, 4 `meetbot worker`
  processes at 100 ms platform latency; then a steady rate for a minute.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.load import percentile
from bench.scenario import ScenarioPlan, ScenarioRun, run_scenario
from bench.stage import Database, Stage, postgres_available, stage
from bench.yardstick import YardstickRun, run_yardstick
from storage.tables import JobRow

# The sustained minute: a lane waits about 0.4 s per booking at 100 ms (three calls and the
# database), so 30 a second need about 12 lanes busy; 16 per worker leave room for posts that
# wait their channel's turn in place.
SUSTAINED_WORKERS, SUSTAINED_LANES = 2, 16


@dataclass(frozen=True)
class Profile:
    """How big a run is: `make bench` uses FULL, `--quick` QUICK, the smoke test TINY."""

    companies: int = 1000
    history: int = 1_000_000
    peak_rate: float = 30.0  # bookings a second the fleet's channels are planned for
    burst: int = 300  # bookings in a pipeline burst at zero latency
    latency_burst: int = 200  # ... and at 100 ms
    yardstick_jobs: int = 500
    growth_bookings: int = 300
    growth_rate: float = 10.0
    scale_workers: tuple[int, ...] = (1, 2, 4)
    scale_bookings: int = 300
    sustained_rate: float = 30.0
    sustained_seconds: float = 60.0
    databases: tuple[Database, ...] = ("sqlite", "postgresql")
    enforce: bool = True  # ratio checks; exactly-once is always checked


FULL = Profile()
QUICK = Profile(
    companies=50,
    history=20_000,
    burst=60,
    latency_burst=40,
    yardstick_jobs=60,
    growth_bookings=40,
    scale_workers=(1, 2),
    scale_bookings=60,
    sustained_rate=10.0,
    sustained_seconds=6.0,
    enforce=False,
)
TINY = Profile(
    companies=3,
    history=200,
    peak_rate=5.0,
    burst=6,
    latency_burst=4,
    yardstick_jobs=6,
    growth_bookings=4,
    growth_rate=5.0,
    scale_workers=(1,),
    scale_bookings=4,
    sustained_rate=4.0,
    sustained_seconds=1.0,
    databases=("sqlite",),
    enforce=False,
)


@dataclass
class Checks:
    """Named conditions of the run. A failed check (a booking lost or doubled, a section that
    could not run) fails the bench; a missed target (a figure the product aims at) is reported."""

    results: list[tuple[str, bool]] = field(default_factory=list)
    targets: list[tuple[str, bool]] = field(default_factory=list)

    def add(self, name: str, holds: bool) -> None:
        self.results.append((name, holds))

    def target(self, name: str, met: bool) -> None:
        self.targets.append((name, met))

    @property
    def failed(self) -> list[str]:
        return [name for name, holds in self.results if not holds]


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:,.0f}"


HEADER = (
    f"{'scenario':<34} {'book/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/b':>8} "
    f"{'SQL/b':>6} {'calls/b':>7} {'RSS MiB':>9} {'once':>5}"
)


def row(run: ScenarioRun) -> str:
    sql = "-" if math.isnan(run.sql_per_booking) else f"{run.sql_per_booking:.1f}"
    return (
        f"{run.plan.label:<34} {run.rate:>7.1f} {_ms(run.p(0.5)):>7} {_ms(run.p(0.99)):>7} "
        f"{run.cpu_ms_per_booking:>8.1f} {sql:>6} {run.calls_per_booking:>7.2f} "
        f"{run.ready_rss_mib:>4.0f}/{run.peak_rss_mib:<4.0f} {'yes':>5}"
    )


def _yardstick_row(run: YardstickRun) -> str:
    label = f"yardstick loop, {run.latency * 1000:.0f} ms, {run.lanes} lanes"
    return (
        f"{label:<34} {run.rate:>7.1f} {_ms(run.p(0.5)):>7} {_ms(run.p(0.99)):>7} "
        f"{run.cpu_ms_per_job:>8.1f} {'-':>6} {2.0:>7.2f} {'-':>9} {'yes':>5}"
    )


def pipeline(profile: Profile, checks: Checks) -> None:
    print(
        f"\n2. End to end on SQLite: `meetbot serve` (web + in-process worker), {profile.companies}"
        f" companies,\n   bookings Zipf-skewed over them, each burst POSTed at once over 32 "
        "connections.\n   Yardstick: the minimal claim → create → post loop on the same simulators."
    )
    print(HEADER)
    plans = [
        (ScenarioPlan(f"burst {profile.burst}, 0 ms, 4 lanes", profile.burst), 4, 0.0),
        (
            ScenarioPlan(
                f"burst {profile.latency_burst}, 100 ms, 16 lanes",
                profile.latency_burst,
                latency=0.1,
                concurrency=16,
            ),
            16,
            0.1,
        ),
    ]
    with stage("sqlite", companies=profile.companies, peak_rate=profile.peak_rate) as fleet:
        for plan, lanes, latency in plans:
            loop = run_yardstick(fleet, jobs=profile.yardstick_jobs, lanes=lanes, latency=latency)
            print(_yardstick_row(loop), flush=True)
            run = run_scenario(fleet, plan)
            print(row(run), flush=True)
            print(
                f"{'':<4}meetbot/yardstick: bookings/s {run.rate / loop.rate:.2f}, "
                f"CPU per booking {run.cpu_ms_per_booking / loop.cpu_ms_per_job:.1f}x",
                flush=True,
            )
            # Each booking exactly once: `run_scenario` raises (a failed check) otherwise.
            if latency == 0.0 and profile.enforce:
                checks.target(
                    f"CPU per booking at 0 ms {run.cpu_ms_per_booking:.1f} ms <= 8 ms",
                    run.cpu_ms_per_booking <= 8.0,
                )
                checks.target(
                    f"RSS when ready {run.ready_rss_mib:.0f} MiB <= 80 MiB (Slack and Zoom only)",
                    run.ready_rss_mib <= 80.0,
                )


def growth(profile: Profile, checks: Checks) -> None:
    for database in profile.databases:
        _growth(profile, checks, database)


def _growth(profile: Profile, checks: Checks, database: Database) -> None:
    print(
        f"\n3. Cost growth on {database}: {profile.growth_bookings} bookings at "
        f"{profile.growth_rate:g}/s, zero platform latency, `meetbot serve` with 4 lanes (the\n"
        "   default), woken by each webhook; idle, the worker looks for due jobs every 0.5 s (the\n"
        "   default; one look for all its lanes)."
    )
    print(HEADER)
    plan = ScenarioPlan(
        "", profile.growth_bookings, rate=profile.growth_rate, concurrency=4, idle_poll=0.5
    )
    runs: dict[str, ScenarioRun] = {}

    def measured(name: str, on: Stage) -> ScenarioRun:
        run = run_scenario(on, _labelled(plan, name))
        print(row(run), flush=True)
        runs[name] = run
        return run

    with stage(database, companies=1, peak_rate=profile.peak_rate) as single:
        measured(f"{database}, 1 company", single)
    with stage(database, companies=profile.companies, peak_rate=profile.peak_rate) as fleet:
        measured(f"{database}, {profile.companies} companies", fleet)
        fleet.add_history(profile.history)
        measured(f"{database}, {profile.companies} co + {profile.history:,} past", fleet)
    _growth_checks(profile, checks, list(runs.values()))


def _growth_checks(profile: Profile, checks: Checks, runs: list[ScenarioRun]) -> None:
    base, *grown = runs
    for run in grown:
        sql_ratio = run.sql_per_booking / base.sql_per_booking
        p99_ratio = run.p(0.99) / base.p(0.99)
        print(f"{'':<4}{run.plan.label}: SQL/booking x{sql_ratio:.3f}, p99 x{p99_ratio:.2f}")
        if profile.enforce:
            # A retry of a paced post adds a few statements; 1 % is far below one more query.
            checks.target(
                f"{run.plan.label}: SQL statements per booking not grown", sql_ratio <= 1.01
            )
            checks.target(f"{run.plan.label}: p99 within +20 %", p99_ratio <= 1.2)


def _labelled(plan: ScenarioPlan, label: str) -> ScenarioPlan:
    return ScenarioPlan(**{**plan.__dict__, "label": label})


def scale_out(profile: Profile, checks: Checks) -> None:
    if not postgres_available():
        checks.add("scale-out: PostgreSQL reachable", False)
        print("\n4. Scale-out: FAILED, PostgreSQL is not reachable")
        return
    print(
        f"\n4. Scale-out on PostgreSQL: `meetbot serve --no-worker` + N `meetbot worker` (4 lanes"
        f" each),\n   100 ms platform latency, {profile.companies} companies, bursts of "
        f"{profile.scale_bookings}."
    )
    print(HEADER)
    with stage("postgresql", companies=profile.companies, peak_rate=profile.peak_rate) as fleet:
        rates = {}
        for workers in profile.scale_workers:
            label = f"{workers} worker{'s' if workers > 1 else ''}"
            plan = ScenarioPlan(label, profile.scale_bookings, latency=0.1, workers=workers)
            run = run_scenario(fleet, plan)
            rates[workers] = run.rate
            print(row(run), flush=True)
        if 2 in rates:
            print(f"{'':<4}2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")
            if profile.enforce:
                checks.target("scale-out: 2 workers >= 1.7x one", rates[2] >= 1.7 * rates[1])
        sustained(profile, checks, fleet)


def sustained(profile: Profile, checks: Checks, fleet: Stage) -> None:
    bookings = round(profile.sustained_rate * profile.sustained_seconds)
    print(
        f"\n5. Sustained: {profile.sustained_rate:g} bookings/s for "
        f"{profile.sustained_seconds:g} s over {profile.companies} companies, 100 ms latency,\n"
        f"   PostgreSQL, web + {SUSTAINED_WORKERS} workers of {SUSTAINED_LANES} lanes."
    )
    print(HEADER)
    plan = ScenarioPlan(
        f"{profile.sustained_rate:g}/s for {profile.sustained_seconds:g} s",
        bookings,
        latency=0.1,
        rate=profile.sustained_rate,
        workers=SUSTAINED_WORKERS,
        concurrency=SUSTAINED_LANES,
    )
    jobs_before = len(fleet.core.queue.jobs())
    try:
        run = run_scenario(fleet, plan)
    finally:
        print(retry_summary(fleet, jobs_before), flush=True)
    print(row(run), flush=True)
    if profile.enforce:
        checks.target("sustained: webhook->message p99 <= 2 s", run.p(0.99) <= 2.0)
        checks.target(
            "sustained: kept the rate (>= 95 %)", run.rate >= 0.95 * profile.sustained_rate
        )


def retry_summary(fleet: Stage, jobs_before: int) -> str:
    """Where a scenario's tail came from: how many of its jobs needed more than one run, and the
    last reason each of those was put back."""
    jobs = fleet.core.queue.jobs()[jobs_before:]
    retried = [job for job in jobs if job.attempts > 1 or job.last_error]
    reasons = Counter((job.last_error or "?").split(":", 1)[0][:40] for job in retried)
    said = ", ".join(f"{reason} {count}" for reason, count in reasons.most_common(3))
    again = {job.id for job in retried}
    once = [job for job in jobs if job.id not in again]
    return (
        f"{'':<4}jobs run more than once: {len(retried)} of {len(jobs)}"
        + (f" ({said})" if said else "")
        + f"\n{'':<4}queued -> done, p50/p99 ms: run once {_spans(once)}, more {_spans(retried)}"
    )


def _spans(jobs: list[JobRow]) -> str:
    spans = [
        (job.finished_at - job.created_at).total_seconds()
        for job in jobs
        if job.finished_at is not None and job.created_at is not None
    ]
    return f"{_ms(percentile(spans, 0.5))}/{_ms(percentile(spans, 0.99))}" if spans else "-"


def sustained_alone(profile: Profile, checks: Checks) -> None:
    if not postgres_available():
        checks.add("sustained: PostgreSQL reachable", False)
        print("\n5. Sustained: FAILED, PostgreSQL is not reachable")
        return
    with stage("postgresql", companies=profile.companies, peak_rate=profile.peak_rate) as fleet:
        sustained(profile, checks, fleet)


SECTIONS: dict[str, Callable[[Profile, Checks], None]] = {
    "pipeline": pipeline,
    "growth": growth,
    "scale-out": scale_out,
    "sustained": sustained_alone,
}
ALONE = ("sustained",)  # a part of another section, runnable on its own
