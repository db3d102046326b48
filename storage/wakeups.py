"""Wake-ups for worker processes on PostgreSQL: each process keeps one connection listening on the
job channel, and queuing a due job notifies it when the job's transaction commits (storage/
jobs.py). An idle lane then looks at once instead of at its next poll; the poll stays, for jobs
that come due later and for whatever was queued while the connection was down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine

from storage.db import POSTGRES_CONNECT_TIMEOUT_SECONDS
from storage.jobs import JOBS_CHANNEL

log = logging.getLogger("meetbot.worker")
RECONNECT_SECONDS = 5.0


async def listen_for_jobs(
    engine: Engine, on_jobs: Callable[[int], None], *, reconnect_seconds: float = RECONNECT_SECONDS
) -> None:
    """Calls `on_jobs(count)` for each notification, until cancelled. A lost connection is
    opened again after `reconnect_seconds`; meanwhile the workers poll as before."""
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while True:
        try:
            connection = await psycopg.AsyncConnection.connect(
                conninfo,
                autocommit=True,
                connect_timeout=POSTGRES_CONNECT_TIMEOUT_SECONDS,
                # A listener only reads: without keepalives a server that vanished (a failover,
                # a firewall dropping the connection) would leave it waiting for ever.
                keepalives=1,
                keepalives_idle=30,
                keepalives_interval=10,
                keepalives_count=3,
            )
            async with connection:
                await connection.execute(f"LISTEN {JOBS_CHANNEL}")
                on_jobs(1)  # what was queued before listening began is not told: look once
                async for notice in connection.notifies():
                    on_jobs(_count(notice.payload))
        except (psycopg.Error, OSError) as error:
            log.warning("not told of new jobs (%s); polling meanwhile", type(error).__name__)
        except Exception:  # a bug must not end the listening for good, silently
            log.exception("not told of new jobs; polling meanwhile")
        await asyncio.sleep(reconnect_seconds)


def _count(payload: str) -> int:
    try:
        return max(1, int(payload))
    except ValueError:
        return 1
