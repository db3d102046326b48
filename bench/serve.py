"""Bench-only server entry point: `python -m bench.serve {bare,ingest} --port N`.

Both modes run uvicorn exactly as `meetbot serve` does (one process, no access log, logging left
to the app), so the two ingest figures differ only by the application:

- `bare`: bench/bare_app.py.
- `ingest`: meetbot's web app, configured by `MEETBOT_*` like `meetbot serve`, but built without
  its in-process worker, so the measurement is the webhook's durable ingest alone.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn


def _ingest_app() -> Any:
    from app.bootstrap import build_core
    from app.logs import configure_logging
    from app.settings import Settings
    from app.web import build_web_app

    settings = Settings()
    configure_logging(settings.log_level, settings.secret_values(), log_format=settings.log_format)
    core = build_core(settings)
    core.migrate()
    return build_web_app(core)  # worker=None: jobs stay queued


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve")
    parser.add_argument("mode", choices=["bare", "ingest"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.mode == "bare":
        from bench.bare_app import app
    else:
        app = _ingest_app()
    # The same call as `meetbot serve` (app/cli.py).
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_config=None)


if __name__ == "__main__":
    main()
