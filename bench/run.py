"""`make bench` (`python -m bench.run`): webhook ingest and end-to-end pipeline figures.

Not part of the test suite. Everything runs on 127.0.0.1, in temporary directories, and stops by
itself; see BENCHMARKS.md for what is measured and how to read it.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable
from importlib.metadata import version

from bench.ingest import IngestPlan, IngestRun, run_bare, run_meetbot
from bench.pipeline import PipelinePlan, PipelineRun, run_pipeline
from bench.procs import BenchError

INGEST = IngestPlan(concurrency=32, warmup=1.5, duration=6.0)
SERIAL = IngestPlan(concurrency=1, warmup=1.0, duration=4.0)  # meetbot, FULL: no lock contention
# httpx.AsyncClient as the load generator, for comparison: at its best (8) and at 32 connections.
HTTPX = [
    IngestPlan(concurrency=8, warmup=0.5, duration=2.5, client="httpx"),
    IngestPlan(concurrency=32, warmup=0.5, duration=2.5, client="httpx"),
]
PIPELINES = [
    PipelinePlan(bookings=300, sequential=20, simulator_latency=0.0, worker_concurrency=4),
    PipelinePlan(bookings=30, sequential=5, simulator_latency=0.1, worker_concurrency=1),
    PipelinePlan(bookings=100, sequential=5, simulator_latency=0.1, worker_concurrency=4),
    PipelinePlan(bookings=200, sequential=5, simulator_latency=0.1, worker_concurrency=16),
]


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def _header() -> None:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    print(
        f"meetbot benchmark: {os.cpu_count()} CPU cores"
        + (f" ({affinity} usable)" if affinity is not None and affinity != os.cpu_count() else "")
        + f", {platform.machine()}, Python {platform.python_version()}, "
        f"uvicorn {version('uvicorn')}, starlette {version('starlette')}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    extras = [name for name in ("uvloop", "httptools") if _installed(name)]
    print(
        "uvicorn runs on "
        + (", ".join(extras) if extras else "asyncio and h11 (uvloop, httptools not installed)")
    )


def _installed(name: str) -> bool:
    try:
        version(name)
    except Exception:
        return False
    return True


def _ingest_row(run: IngestRun) -> str:
    load = run.load
    return (
        f"{run.label:<36} {run.concurrency:>4} {load.rate:>7.0f} {_ms(load.p(0.5)):>7} "
        f"{_ms(load.p(0.99)):>7} "
        f"{run.server_cpu:>7.0%} {run.client_cpu:>7.0%} "
        f"{run.ready_rss_mib:>6.0f}/{run.peak_rss_mib:<4.0f} {load.failures:>6}"
    )


def ingest_section() -> None:
    print(
        f"\n1. Webhook ingest: one uvicorn process per server (bench/serve.py, access log off);\n"
        f"   load: asyncio, keep-alive connections (bench/rawhttp.py), "
        f"{INGEST.warmup:g} s warm-up, then {INGEST.duration:g} s ({SERIAL.duration:g} s for 1).\n"
        f"   meetbot runs without its worker: each 202 is a callback row + a job committed to SQLite.\n"
    )
    print(
        f"{'server':<36} {'conn':>4} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'srv CPU':>7} {'gen CPU':>7} "
        f"{'RSS MiB':>11} {'errors':>6}"
    )
    bare, *httpx_runs = run_bare([INGEST, *HTTPX])
    print(_ingest_row(bare), flush=True)
    meetbot = []
    for synchronous in ("FULL", "NORMAL"):
        run = run_meetbot(INGEST, synchronous=synchronous)
        meetbot.append(run)
        print(_ingest_row(run), flush=True)
    print(_ingest_row(run_meetbot(SERIAL, synchronous="FULL")), flush=True)
    print()
    for run in meetbot:
        print(
            f"meetbot/bare ({run.label.rsplit(' ', 1)[-1]}): {run.load.rate / bare.load.rate:.3f}"
            f"  ({run.jobs_queued} jobs queued = every 202, warm-up included)"
        )
    print(
        "\nThe same bare server loaded by httpx.AsyncClient instead (the generator is the limit):"
    )
    for run in httpx_runs:
        print(
            f"  httpx, {run.concurrency:>2} connections: {run.load.rate:>6.0f} req/s, "
            f"p50 {_ms(run.load.p(0.5))} ms, generator CPU {run.client_cpu:.0%}, "
            f"server CPU {run.server_cpu:.0%}"
        )


def _pipeline_row(run: PipelineRun) -> str:
    plan = run.plan
    cores = run.server_cpu_seconds / run.seconds if run.seconds else math.nan
    return (
        f"{plan.simulator_latency * 1000:>5.0f} {plan.worker_concurrency:>5} {plan.bookings:>6} "
        f"{run.rate:>8.1f} {_ms(run.p(0.5)):>8} {_ms(run.p(0.99)):>8} "
        f"{_ms(run.p(0.5, idle=True)):>7}/{_ms(run.p(0.99, idle=True)):<7} "
        f"{plan.bookings / run.post_seconds:>7.0f} {run.calls_per_booking:>5.1f} {cores:>6.0%} "
        f"{run.ready_rss_mib:>5.0f}/{run.peak_rss_mib:<4.0f} {run.meetings:>4}/{run.messages:<4}"
    )


def pipeline_section() -> None:
    print(
        "\n2. End to end: `meetbot serve` (web app + in-process worker, SQLite FULL) in a subprocess;\n"
        "   simulators in this process. First the idle latency (bookings one at a time), then a\n"
        "   burst: every callback POSTed at once over 32 connections, timed from the first callback\n"
        "   sent to the last message stored in the Slack channel. Latency = callback sent → its\n"
        "   message stored (the Slack simulator's ts).\n"
    )
    print(
        f"{'sim ms':>6} {'lanes':>5} {'burst':>6} {'book/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'idle p50/p99 ms':>15} {'hook/s':>7} {'calls':>5} {'CPU':>6} {'RSS MiB':>9} "
        f"{'meet/msg':>9}"
    )
    for plan in PIPELINES:
        run = run_pipeline(plan)
        print(_pipeline_row(run), flush=True)
    print(
        "\nEvery row is verified: exactly one Zoom meeting and one Slack message per booking "
        "(meet/msg counts the idle bookings too), every job done."
    )


SECTIONS: dict[str, Callable[[], None]] = {"ingest": ingest_section, "pipeline": pipeline_section}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument(
        "sections", nargs="*", help=f"some of: {', '.join(SECTIONS)} (default: all)"
    )
    args = parser.parse_args()
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    started = time.perf_counter()
    _header()
    failed = False
    for name in args.sections or SECTIONS:
        try:
            SECTIONS[name]()
        except BenchError as error:
            failed = True
            print(f"\n{name}: FAILED: {error}", flush=True)
        except Exception:
            failed = True
            print(f"\n{name}: FAILED:\n{traceback.format_exc()}", flush=True)
    print(f"\nbench finished in {time.perf_counter() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
