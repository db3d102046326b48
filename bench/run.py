"""`make bench` (`python -m bench.run`): meetbot under a model of real load, with its yardsticks.

Sections: 1 webhook ingest against a bare Starlette endpoint; 2 the end-to-end pipeline over many
companies against a minimal claim → create → post loop; 3 cost growth with tenants and history
(SQLite and PostgreSQL); 4 scale-out over worker processes and 5 a sustained rate (PostgreSQL).
Exit code 0 when every booking of every section was delivered exactly once; otherwise 1, with one
FAILED line per check. The product's targets (CPU, RSS, ingest ratio, growth, scale-out, sustained
rate) are printed as 'target met' or 'target MISSED' lines.

Not part of the test suite. Everything runs on 127.0.0.1, in temporary directories (and
PostgreSQL databases of its own, dropped afterwards), and stops by itself; see BENCHMARKS.md.
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
from dataclasses import replace
from importlib.metadata import version

from bench.ingest import IngestPlan, IngestRun, run_bare, run_meetbot
from bench.procs import BenchError
from bench.sections import ALONE, FULL, QUICK, SECTIONS, Checks, Profile

INGEST = IngestPlan(concurrency=32, warmup=1.5, duration=6.0)
SERIAL = IngestPlan(concurrency=1, warmup=1.0, duration=4.0)  # meetbot, FULL: no lock contention
QUICK_INGEST = IngestPlan(concurrency=32, warmup=0.5, duration=2.0)
# httpx.AsyncClient as the load generator, for comparison: at its best (8) and at 32 connections.
HTTPX = [
    IngestPlan(concurrency=8, warmup=0.5, duration=2.5, client="httpx"),
    IngestPlan(concurrency=32, warmup=0.5, duration=2.5, client="httpx"),
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


def ingest_section(*, quick: bool = False) -> float:
    """Prints the ingest table; returns meetbot's rate (synchronous=FULL) over the bare one's."""
    plan, serial = (QUICK_INGEST, QUICK_INGEST) if quick else (INGEST, SERIAL)
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
    bare, *httpx_runs = run_bare([plan, *([] if quick else HTTPX)])
    print(_ingest_row(bare), flush=True)
    meetbot = []
    for synchronous in ("FULL",) if quick else ("FULL", "NORMAL"):
        run = run_meetbot(plan, synchronous=synchronous)
        meetbot.append(run)
        print(_ingest_row(run), flush=True)
    if not quick:
        print(_ingest_row(run_meetbot(serial, synchronous="FULL")), flush=True)
    print()
    for run in meetbot:
        print(
            f"meetbot/bare ({run.label.rsplit(' ', 1)[-1]}): {run.load.rate / bare.load.rate:.3f}"
            f" (target >= 0.20; {run.jobs_queued} jobs queued = every 202, warm-up included)"
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
    return meetbot[0].load.rate / bare.load.rate


def _run_section(name: str, profile: Profile, checks: Checks) -> None:
    try:
        if name == "ingest":
            ratio = ingest_section(quick=not profile.enforce)
            # Every 202 left one job: `ingest_section` raises (a failed check) otherwise.
            if profile.enforce:
                checks.target(f"ingest {ratio:.3f} of the bare endpoint >= 0.20", ratio >= 0.20)
        else:
            SECTIONS[name](profile, checks)
    except BenchError as error:
        checks.add(f"{name}: {error}", False)
        print(f"\n{name}: FAILED: {error}", flush=True)
    except Exception:
        checks.add(f"{name}: crashed", False)
        print(f"\n{name}: FAILED:\n{traceback.format_exc()}", flush=True)


def main(argv: list[str] | None = None) -> int:
    names = ["ingest", *SECTIONS]
    everything = [name for name in names if name not in ALONE]
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument(
        "sections",
        nargs="*",
        help=f"some of: {', '.join(names)} (default: all; scale-out ends with the sustained run)",
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run; ratios unchecked")
    parser.add_argument("--companies", type=int, help="companies in the fleet (default 1,000)")
    parser.add_argument("--history", type=int, help="past bookings (default 1,000,000)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in names]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    profile = QUICK if args.quick else FULL
    if args.companies is not None:
        profile = replace(profile, companies=args.companies)
    if args.history is not None:
        profile = replace(profile, history=args.history)
    return run(profile, args.sections or everything)


def run(profile: Profile, sections: list[str]) -> int:
    started = time.perf_counter()
    _header()
    checks = Checks()
    for name in sections:
        _run_section(name, profile, checks)
    print(f"\nbench finished in {time.perf_counter() - started:.0f} s")
    for name, met in checks.targets:
        print(f"target {'met' if met else 'MISSED'}: {name}")
    for name in checks.failed:
        print(f"FAILED: {name}")
    if not checks.failed:
        print("every booking was delivered exactly once in every section")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
