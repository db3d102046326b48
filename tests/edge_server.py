"""meetbot's web app as `meetbot serve` runs it, in a process of its own, for the edge tests.

The process is measured from outside (/proc) and its log is read for tracebacks, so nothing in it
is patched: it is configured only through MEETBOT_* variables.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.settings import Settings
from bench.procs import ServerProcess, free_port, settings_env

SLACK_SIGNING_SECRET = "edge-signing-secret-for-tests"
ZOOM_WEBHOOK_SECRET = "edge-zoom-webhook-secret-for-tests"


def edge_settings(base: Settings, **overrides: Any) -> dict[str, Any]:
    """Every public route served: Slack (one workspace), Zoom events, Teams without a token
    service to reach (tokens are refused), and the settings the test asks for."""
    return {
        **base.model_dump(),
        "slack_signing_secret": SLACK_SIGNING_SECRET,
        "slack_bot_token": base.slack_bot_token or "xoxb-edge-tests",
        "zoom_webhook_secret_token": ZOOM_WEBHOOK_SECRET,
        "company_routines": False,
        **overrides,
    }


@contextlib.contextmanager
def meetbot_serving(base: Settings, workdir: Path, **overrides: Any) -> Iterator[ServerProcess]:
    port = free_port()
    values = edge_settings(base, public_url=f"http://127.0.0.1:{port}", port=port, **overrides)
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    with ServerProcess(
        "meetbot",
        ["-m", "app", "serve"],
        port=port,
        ready_path="/healthz",
        workdir=workdir,
        env=settings_env(settings),
        ready=lambda answer: answer.status_code == 200,
    ) as server:
        yield server


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def raw_connection(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def read_status(connection: socket.socket) -> int:
    """The status code of the answer waiting on `connection`."""
    head = b""
    while b"\r\n" not in head:
        chunk = connection.recv(4096)
        if not chunk:
            raise ConnectionError("closed before an answer")
        head += chunk
    return int(head.split(b" ", 2)[1])
