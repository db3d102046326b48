"""What meetbot counts for Prometheus (`GET /metrics`, on with `MEETBOT_METRICS=true`).

Labels name kinds of things only: a job kind, a route *template*, a platform, an HTTP method, an
outcome. Never a company, a person, a token or an id: a path's ids and tokens become `{id}`.

The core knows nothing of this: the worker tells `JobEvents` (its observer) how jobs start and end,
`timed_handlers` wraps the job table, `MeteredTransport` sits under the shell's HTTP clients, the
web app's middleware counts requests and webhooks, and engine listeners count SQL statements and
database errors.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import aiohttp
import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, event

from app.logs import JOB_ID
from bot.domain import Job
from bot.errors import PermanentFailure, RetryLater, WaitingForTurn
from bot.worker import JobHandler, JobObserver

if TYPE_CHECKING:
    from app.bootstrap import Core

log = logging.getLogger("meetbot.jobs")

JOB_SECONDS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
ATTEMPT_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 32)
_VERSION = re.compile(r"v\d+(\.\d+)?")
_WORD = re.compile(r"[a-z][A-Za-z_-]{0,31}")
_SLACK_METHOD = re.compile(r"[a-z]+(\.[a-z][A-Za-z]{0,31}){1,2}")
_Child = TypeVar("_Child")


@functools.lru_cache(maxsize=4096)  # a platform's paths repeat (a user's, an account's)
def route_template(path: str, *, dotted_words: bool = False) -> str:
    """A URL path with every segment that could be an id, a token, an address or a name replaced
    by `{id}`: only API words (`users`, `onlineMeetings`, `v2`, `v1.0`; with `dotted_words`,
    Slack's method names such as `chat.postMessage`) stay."""
    kept = []
    for segment in path.split("/"):
        word = bool(_WORD.fullmatch(segment)) and sum(c.isupper() for c in segment) <= 2
        word = word or bool(dotted_words and _SLACK_METHOD.fullmatch(segment))
        kept.append(segment if not segment or word or _VERSION.fullmatch(segment) else "{id}")
    return "/".join(kept) or "/"


def status_outcome(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status in (401, 403):
        return "refused"
    if status >= 400:
        return "client_error"
    return "ok"


class Metrics:
    """One registry per meetbot (a test process holds several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.jobs_finished = Counter(
            "meetbot_jobs_finished",
            "Jobs that ended, by kind and outcome (completed, buried).",
            ["kind", "outcome"],
            registry=registry,
        )
        self.job_seconds = Histogram(
            "meetbot_job_duration_seconds",
            "How long one run of a job's handler took, by kind and outcome "
            "(completed, retry, waiting, failed, error, cancelled).",
            ["kind", "outcome"],
            buckets=JOB_SECONDS_BUCKETS,
            registry=registry,
        )
        self.job_attempts = Histogram(
            "meetbot_job_attempts",
            "Attempts a job took by the time it ended, by kind and outcome.",
            ["kind", "outcome"],
            buckets=ATTEMPT_BUCKETS,
            registry=registry,
        )
        self.rate_limit_waits = Counter(
            "meetbot_rate_limit_waits",
            "Job runs put off because a platform asked to wait (platform) or another job held "
            "the turn on a shared message (turn).",
            ["kind", "reason"],
            registry=registry,
        )
        self.webhooks = Counter(
            "meetbot_webhooks",
            "Webhook calls by source and outcome (accepted, or the reason they were refused).",
            ["source", "outcome"],
            registry=registry,
        )
        self.requests = Counter(
            "meetbot_http_requests",
            "Requests served, by route template, method and status code.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.platform_calls = Counter(
            "meetbot_platform_calls",
            "Calls to outside platforms, by platform, method, route template and outcome.",
            ["platform", "method", "route", "outcome"],
            registry=registry,
        )
        self.platform_seconds = Histogram(
            "meetbot_platform_call_duration_seconds",
            "How long calls to outside platforms took, by platform.",
            ["platform"],
            registry=registry,
        )
        self.sql_statements = Counter(
            "meetbot_sql_statements",
            "SQL statements sent to the database (what a booking costs the database; the "
            "benchmark reads it before and after a run).",
            registry=registry,
        )
        self.database_errors = Counter(
            "meetbot_database_errors",
            "Errors the database driver raised, by error class.",
            ["error"],
            registry=registry,
        )

    def watch(self, core: Core) -> None:
        """Counts the database's errors and reports the job queue and open alerts when scraped."""
        watch_engine(self, core.engine)
        self.registry.register(_QueueCollector(core, self))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def watch_engine(metrics: Metrics, engine: Engine) -> None:
    def count(context: Any) -> None:
        error = getattr(context, "original_exception", None)
        metrics.database_errors.labels(type(error).__name__ if error else "unknown").inc()

    def statement(*_args: Any) -> None:
        metrics.sql_statements.inc()

    event.listen(engine, "handle_error", count)
    event.listen(engine, "before_cursor_execute", statement)


class _QueueCollector(Collector):
    """Jobs by kind and state, and open alerts, read from the database at each scrape."""

    def __init__(self, core: Core, metrics: Metrics) -> None:
        self._core = core
        self._metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only: describing must not query the database

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self._core.queue.counts_by_kind()
            open_alerts = self._core.alerts.open_count()
        except Exception as error:  # the scrape still answers; the error is counted
            log.warning("metrics: could not read the job queue (%s)", type(error).__name__)
            return
        jobs = GaugeMetricFamily(
            "meetbot_jobs", "Jobs in the queue, by kind and state.", labels=["kind", "state"]
        )
        for (kind, state), count in sorted(counts.items()):
            jobs.add_metric([kind, state], count)
        yield jobs
        yield GaugeMetricFamily(
            "meetbot_open_alerts", "Admin alerts not yet resolved.", value=open_alerts
        )


class JobEvents:
    """The worker's observer: puts the job's id on every log line of its run, writes one summary
    line when a job completes, counts how jobs end, and passes each event on to `then` (the
    dead-job alerts)."""

    def __init__(self, metrics: Metrics, then: JobObserver | None = None) -> None:
        self._metrics = metrics
        self._then = then
        self._ended_children = _Children(
            lambda kind, outcome: (
                metrics.jobs_finished.labels(kind, outcome),
                metrics.job_attempts.labels(kind, outcome),
            )
        )

    def started(self, job: Job) -> None:
        JOB_ID.set(job.id)
        JOB_STARTED.set(time.perf_counter())
        # One line a job at INFO (its summary, below): the start is for a closer look only.
        log.debug("job %s (%s) started, attempt %d", job.id, job.kind, job.attempts)

    def completed(self, job: Job, note: str | None) -> None:
        if log.isEnabledFor(logging.INFO):
            log.info(
                "job %s (%s%s) completed on attempt %d%s%s",
                job.id,
                job.kind,
                _booking_words(job),
                job.attempts,
                _since_started(),
                f": {note}" if note else "",
            )
        self._ended(job, "completed")
        if self._then is not None:
            self._then.completed(job, note)

    def buried(self, job: Job, error: str) -> None:
        self._ended(job, "buried")
        if self._then is not None:
            self._then.buried(job, error)

    def _ended(self, job: Job, outcome: str) -> None:
        finished, attempts = self._ended_children.get(job.kind, outcome)
        finished.inc()
        attempts.observe(job.attempts)


# When the running job was claimed (`perf_counter`; set with its id, in the job's context).
JOB_STARTED: ContextVar[float] = ContextVar("meetbot_job_started", default=0.0)


def _since_started() -> str:
    started = JOB_STARTED.get()
    return f" in {(time.perf_counter() - started) * 1000:.0f}ms" if started else ""


def _booking_words(job: Job) -> str:
    booking = job.payload.get("booking_id")
    return f", booking {booking}" if booking else ""


class _Children(Generic[_Child]):
    """A metric's labelled children, made once for each set of label values: `labels()` checks
    and joins its values on every call, which a job or a call pays several times over. Only for
    label values from a small set (job kinds, outcomes, route templates), as all of ours are."""

    def __init__(self, make: Callable[..., _Child]) -> None:
        self._make = make
        self._made: dict[tuple[str, ...], _Child] = {}

    def get(self, *values: str) -> _Child:
        child = self._made.get(values)
        if child is None:
            child = self._made[values] = self._make(*values)
        return child


def timed_handlers(metrics: Metrics, handlers: Mapping[str, JobHandler]) -> dict[str, JobHandler]:
    """The job table with each run timed and its outcome counted (a platform's or a turn's wait
    counted as a rate-limit wait)."""
    return {kind: _timed(metrics, kind, handler) for kind, handler in handlers.items()}


def _timed(metrics: Metrics, kind: str, handler: JobHandler) -> JobHandler:
    durations = _Children(lambda outcome: metrics.job_seconds.labels(kind, outcome))
    waits = _Children(lambda reason: metrics.rate_limit_waits.labels(kind, reason))

    async def run(job: Job) -> str | None:
        started, outcome = time.perf_counter(), "error"
        try:
            note = await handler(job)
            outcome = "completed"
            return note
        except WaitingForTurn:
            outcome = "waiting"
            waits.get("turn").inc()
            raise
        except RetryLater as passing:
            outcome = "retry"
            if passing.after_seconds is not None:
                waits.get("platform").inc()
            raise
        except PermanentFailure:
            outcome = "failed"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            durations.get(outcome).observe(time.perf_counter() - started)

    return run


class MeteredTransport(httpx.AsyncBaseTransport):
    """Under one platform's HTTP client: counts each call by method, route template and outcome."""

    def __init__(self, inner: httpx.AsyncBaseTransport, metrics: Metrics, platform: str) -> None:
        self._inner = inner
        self._calls = _Children(
            lambda method, route, outcome: metrics.platform_calls.labels(
                platform, method, route, outcome
            )
        )
        self._seconds = metrics.platform_seconds.labels(platform)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        outcome = "unreachable"
        try:
            response = await self._inner.handle_async_request(request)
            outcome = status_outcome(response.status_code)
            return response
        finally:
            route = route_template(request.url.path)
            self._calls.get(request.method, route, outcome).inc()
            self._seconds.observe(time.perf_counter() - started)

    async def aclose(self) -> None:
        await self._inner.aclose()


def slack_trace(metrics: Metrics) -> aiohttp.TraceConfig:
    """Counts Slack's calls (slack_sdk speaks aiohttp, not httpx) as `MeteredTransport` does."""
    trace = aiohttp.TraceConfig()
    calls = _Children(
        lambda method, route, outcome: metrics.platform_calls.labels(
            "slack", method, route, outcome
        )
    )
    seconds = metrics.platform_seconds.labels("slack")

    def count(params: Any, context: Any, outcome: str) -> None:
        route = route_template(params.url.path, dotted_words=True)
        calls.get(params.method, route, outcome).inc()
        started = getattr(context, "started", None)
        if started is not None:
            seconds.observe(time.perf_counter() - started)

    async def on_start(_session: Any, context: Any, _params: Any) -> None:
        context.started = time.perf_counter()

    async def on_end(_session: Any, context: Any, params: Any) -> None:
        count(params, context, _slack_outcome(params.response))

    async def on_error(_session: Any, context: Any, params: Any) -> None:
        count(params, context, "unreachable")

    trace.on_request_start.append(on_start)
    trace.on_request_end.append(on_end)
    trace.on_request_exception.append(on_error)
    return trace


def _slack_outcome(response: aiohttp.ClientResponse) -> str:
    """Slack answers most failures with HTTP 200 and `"ok": false`; only the status is read here
    (the body is the client's to read), so such an answer counts as `ok` at this level."""
    return status_outcome(response.status)
