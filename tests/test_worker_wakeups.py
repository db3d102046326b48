"""Worker processes on PostgreSQL are told of new jobs (LISTEN/NOTIFY): one idle for minutes
between polls still takes a job another process queued at once."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from app.bootstrap import Core
from app.worker import WorkerThread


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_an_idle_worker_takes_a_job_queued_by_another_process_before_its_next_poll(
    make_core: Callable[..., Core],
) -> None:
    worker_side = make_core(worker_idle_poll_seconds=600.0)
    web_side = make_core()  # an engine of its own, as the web process has
    worker = WorkerThread(worker_side)
    worker.start()
    try:
        time.sleep(1.0)  # the worker has looked, found nothing and gone idle
        # A kind no handler knows: the worker buries it, which shows it took the job.
        web_side.queue.enqueue(kind="not-a-job", dedupe_key="wake-1", payload={})
        deadline = time.monotonic() + 60.0  # far short of the 600 s poll
        while not web_side.queue.jobs(state="dead") and time.monotonic() < deadline:
            time.sleep(0.05)
        [taken] = web_side.queue.jobs(state="dead")
        assert "no handler for job kind" in (taken.last_error or "")
    finally:
        worker.stop()
