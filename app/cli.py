"""`meetbot` (also `python -m app`): serve, worker, migrate, check, sandbox, keys."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from pydantic import ValidationError

from app.settings import Settings

if TYPE_CHECKING:
    from app.bootstrap import Core

app = typer.Typer(
    help="meetbot: online video meetings for booking businesses.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(help="Encryption keys for secrets at rest.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
_debug = False


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("meetbot")
    except PackageNotFoundError:
        return "unknown (not installed as a package)"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"meetbot {_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show the traceback of a start-up problem, not just its one line."
    ),
) -> None:
    global _debug
    _debug = debug


def _fail(message: str) -> NoReturn:
    typer.echo(f"meetbot: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def _explained(settings: Settings) -> Iterator[None]:
    """Start-up problems become one line and exit code 2 (the traceback only with --debug)."""
    from app.startup import StartupProblem, database_problem
    from bot.errors import StorageUnavailable
    from storage.db import DatabaseConnectionError

    try:
        yield
    except (StartupProblem, DatabaseConnectionError, StorageUnavailable) as error:
        if _debug:
            raise
        if isinstance(error, StartupProblem):
            _fail(str(error))
        _fail(str(database_problem(settings.database_url, str(error))))


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        if _debug:
            raise
        problems = "; ".join(_problem(issue) for issue in error.errors())
        _fail(f"configuration problem: {problems}")


def _problem(issue: Any) -> str:
    message = str(issue["msg"]).removeprefix("Value error, ")
    field = "_".join(str(part) for part in issue["loc"]).upper()
    return f"MEETBOT_{field} {message}" if field else message


def _core(settings: Settings) -> Core:
    """Everything shared, with the database checked reachable (run inside `_explained`)."""
    from app.bootstrap import ConfigurationError, build_core
    from app.logs import configure_logging
    from app.startup import check_sqlite_folder
    from storage.db import check_connection

    configure_logging(settings.log_level, settings.secret_values(), log_format=settings.log_format)
    check_sqlite_folder(settings.database_url)
    try:
        core = build_core(settings)
    except ConfigurationError as error:
        if _debug:
            raise
        _fail(str(error))
    check_connection(core.engine)
    return core


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (MEETBOT_HOST)."),
    port: int = typer.Option(None, help="Port to listen on (MEETBOT_PORT)."),
    worker: bool = typer.Option(
        None,
        "--worker/--no-worker",
        help="Run jobs in this process too (MEETBOT_SERVE_WORKER, default true); with "
        "--no-worker it only answers requests and `meetbot worker` processes run the jobs.",
        show_default=False,
    ),
) -> None:
    """The web app (webhooks, chat events, OAuth callbacks, link pages) and its in-process worker."""
    import uvicorn

    from adapters.edge.server import server_config
    from app.startup import bind_port, check_slack_token, configuration_warnings, summary_line
    from app.web import build_web_app, server_limits
    from app.worker import WorkerThread

    settings = _settings()
    host, port = host or settings.host, port or settings.port
    with_worker = settings.serve_worker if worker is None else worker
    with _explained(settings):
        sock = bind_port(host, port)  # first: a busy port is found before anything else runs
        slack_warning = check_slack_token(settings)
        core = _core(settings)
        core.migrate()
    warnings = [*filter(None, [slack_warning]), *configuration_warnings(settings)]
    listening = f"{host}:{sock.getsockname()[1]}"
    head = f"serving on {listening}" + ("" if with_worker else " (no worker: web only)")
    typer.echo(summary_line(settings, head=head, warnings=warnings), err=True)
    web = build_web_app(core, worker=WorkerThread(core) if with_worker else None)
    config = server_config(web, host=host, port=port, limits=server_limits(settings))
    uvicorn.Server(config).run(sockets=[sock])


@app.command()
def worker(
    concurrency: int = typer.Option(
        None,
        "--concurrency",
        min=1,
        max=64,
        help="Jobs run at once by this process (MEETBOT_WORKER_CONCURRENCY, default 4).",
        show_default=False,
    ),
) -> None:
    """A worker alone (run several, on one or more machines, against PostgreSQL).

    SIGTERM or SIGINT: it claims no more jobs and lets running ones end within the job lease;
    those still running then go back to the queue (at once on a second signal)."""
    from app.startup import check_slack_token, configuration_warnings, summary_line
    from app.worker import run_worker
    from bot.worker import Worker

    settings = _settings()
    if concurrency is not None:
        settings = settings.model_copy(update={"worker_concurrency": concurrency})
    with _explained(settings):
        slack_warning = check_slack_token(settings)
        core = _core(settings)
        core.migrate()
    warnings = [*filter(None, [slack_warning]), *configuration_warnings(settings)]
    head = f"worker (concurrency {settings.worker_concurrency})"
    typer.echo(summary_line(settings, head=head, warnings=warnings), err=True)

    async def _run() -> None:
        stop = asyncio.Event()
        workers: list[Worker] = []
        loop = asyncio.get_running_loop()

        def _signalled() -> None:
            if stop.is_set():  # a second signal: release running jobs now
                for running in workers:
                    running.release_running()
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _signalled)
        await run_worker(core, stop, on_worker=workers)

    with _explained(settings):  # e.g. the database gone for good: one line, not a traceback
        asyncio.run(_run())


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest version."""
    settings = _settings()
    with _explained(settings):
        _core(settings).migrate()
    typer.echo("database schema is up to date")


@app.command()
def check() -> None:
    """Check the configuration end to end: settings, database, and each connected platform."""
    from app.check import render, run_checks
    from app.logs import configure_logging

    settings = _settings()  # settings that do not load are a configuration problem: exit 2
    configure_logging("WARNING", settings.secret_values())
    results = run_checks(settings)
    typer.echo(render(results))
    if any(result.failed for result in results):
        raise typer.Exit(1)


@app.command()
def sandbox(
    port: int = typer.Option(8000, help="Port for meetbot's web app (0 picks a free one)."),
    once: bool = typer.Option(False, "--once", help="Run the demo flow, print it, and exit."),
) -> None:
    """The whole product on one machine against simulated SimplyBook.me, Zoom and Slack."""
    from app.sandbox_tour import run_sandbox

    sys.exit(run_sandbox(port=port, keep_serving=not once))


webhook_app = typer.Typer(help="The generic booking webhook.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")


@webhook_app.command("example")
def webhook_example(
    source: str = typer.Option("", help="The source's id (default: the only one stored)."),
    secret: str = typer.Option("", help="Its whsec_ secret (default: its newest, as stored)."),
    booking_id: str = typer.Option("example-1001", help="The example booking's id."),
) -> None:
    """Print a ready-to-run, signed `booking.created` request (curl) for a local booking source.

    The signature holds for 5 minutes (the Standard Webhooks tolerance)."""
    from datetime import UTC, datetime, timedelta

    from app.webhook_example import curl_command, example_event, signed
    from bot.urls import PublicUrls

    settings = _settings()
    if not (source and secret):
        with _explained(settings):
            source, secret = _stored_source(_core(settings), source)
    now = datetime.now(UTC)
    event = example_event(
        booking_id, start=(now + timedelta(days=1)).replace(second=0, microsecond=0)
    )
    body, headers = signed(event, secret=secret, now=now)
    typer.echo(curl_command(PublicUrls(settings.public_url).booking_webhook(source), body, headers))


def _stored_source(core: Core, source_id: str) -> tuple[str, str]:
    ids = [source_id] if source_id else core.booking_webhooks.source_ids()
    if len(ids) != 1:
        _fail(
            "no booking webhook is connected: an admin runs `/meetings connect webhook` first"
            if not ids
            else f"{len(ids)} booking webhooks are connected: choose one with --source"
        )
    found = core.booking_webhooks.source(source_id=ids[0])
    if found is None:
        _fail(f"no booking webhook has the id {ids[0]}")
    return found.id, found.secrets[0]


manifest_app = typer.Typer(help="App manifests for the chat platforms.", no_args_is_help=True)
app.add_typer(manifest_app, name="manifest")
MANIFEST_PLACEHOLDER = "https://meetbot.example.com"


@manifest_app.command("slack")
def manifest_slack() -> None:
    """Print app_manifest.yml with its URLs set to MEETBOT_PUBLIC_URL."""
    from pathlib import Path

    source = Path(__file__).resolve().parent.parent / "app_manifest.yml"
    if not source.exists():
        typer.echo("meetbot: app_manifest.yml is not beside this installation", err=True)
        raise typer.Exit(2)
    settings = _settings()
    if not settings.public_url.startswith("https://"):
        typer.echo(
            "meetbot: note: Slack needs https URLs; set MEETBOT_PUBLIC_URL to your public https address",
            err=True,
        )
    typer.echo(source.read_text().replace(MANIFEST_PLACEHOLDER, settings.public_url), nl=False)


@manifest_app.command("teams")
def manifest_teams(
    out: str = typer.Option("meetbot-teams.zip", "--out", help="Where to write the app package."),
) -> None:
    """Write the Teams app package (manifest.json and icons, zipped) for MEETBOT_TEAMS_APP_ID."""
    from pathlib import Path

    from adapters.teams.manifest import package

    settings = _settings()
    if not settings.teams_app_id:
        typer.echo(
            "meetbot: set MEETBOT_TEAMS_APP_ID (the bot's Microsoft App ID from Azure) first",
            err=True,
        )
        raise typer.Exit(2)
    if not settings.public_url.startswith("https://"):
        typer.echo(
            "meetbot: note: Teams needs https; set MEETBOT_PUBLIC_URL to your public https address",
            err=True,
        )
    target = Path(out)
    target.write_bytes(package(app_id=settings.teams_app_id, public_url=settings.public_url))
    typer.echo(f"wrote {target}: upload it in Teams (Apps → Manage your apps → Upload an app)")


@keys_app.command("new")
def keys_new() -> None:
    """Print a new random key for MEETBOT_SECRET_KEYS."""
    from storage.crypto import generate_key

    typer.echo(generate_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored secret with the first key of MEETBOT_SECRET_KEYS."""
    from storage.rotation import RotationProgress, rotate_secrets

    settings = _settings()
    with _explained(settings):
        core = _core(settings)

    def report(progress: RotationProgress) -> None:
        typer.echo(
            f"{progress.table}: {progress.rows_done}/{progress.rows_total} rows, "
            f"{progress.values_rotated} value(s) re-encrypted"
        )

    count = rotate_secrets(core.engine, core.box, on_progress=report)
    typer.echo(
        f"re-encrypted {count} secret value(s) with key {core.box.primary_key_id}; "
        "a run stopped midway can be run again and finishes the rest"
    )


def main() -> None:
    app()
