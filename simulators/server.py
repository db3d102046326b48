"""Run an ASGI app on a real loopback socket from a background thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Literal

import uvicorn

from simulators.tls import LoopbackCertificate

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0
# Responses still held back (hang faults) are cancelled after this on stop.
_GRACEFUL_SECONDS = 1


class _ThreadServer(uvicorn.Server):
    """A uvicorn server that never touches signal handlers: those belong to the main thread."""

    def install_signal_handlers(self) -> None:  # older uvicorn calls this from serve()
        return

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # newer uvicorn wraps serve() in this
        yield


class BackgroundServer:
    """Serves an ASGI app with uvicorn in a daemon thread with its own event loop.

    The socket is bound before the thread starts, so port 0 picks a free port and
    the URL is known (and connectable) as soon as start() returns.
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "",
        lifespan: Literal["auto", "on", "off"] = "auto",
        tls: LoopbackCertificate | None = None,
    ) -> None:
        self._app = app
        self._host = host
        self._requested_port = port
        self._name = name or "simulator"
        self._lifespan = lifespan
        self._tls = tls
        self._sock: socket.socket | None = None
        self._server: _ThreadServer | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._port = 0

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError(f"{self._name} server is not started")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        scheme = "https" if self._tls else "http"
        return f"{scheme}://{host}:{self.port}"

    def start(self) -> str:
        if self._thread is not None:
            raise RuntimeError(f"{self._name} server already started")
        self._sock = self._bind()
        self._port = self._sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            log_config=None,  # leave the process's logging configuration alone
            lifespan=self._lifespan,
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=_GRACEFUL_SECONDS,
            ssl_certfile=str(self._tls.cert_path) if self._tls else None,
            ssl_keyfile=str(self._tls.key_path) if self._tls else None,
        )
        self._server = _ThreadServer(config)
        self._thread = threading.Thread(target=self._run, name=f"{self._name}-server", daemon=True)
        self._thread.start()
        self._wait_started()
        return self.url

    def request_stop(self) -> None:
        """Asks the server to shut down without waiting for it: uvicorn takes a few tenths of a
        second to notice and close, so several servers asked at once stop in the time of one."""
        if self._server is None:
            return
        # Responses held back by a hang fault would otherwise stall shutdown until cancelled.
        faults = getattr(self._app, "faults", None)
        if faults is not None and hasattr(faults, "release"):
            faults.release()
        self._server.should_exit = True

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self.request_stop()
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(_STOP_TIMEOUT)
        self._close_socket()
        self._server = None
        self._thread = None

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _bind(self) -> socket.socket:
        # proto must say TCP: asyncio sets TCP_NODELAY on accepted sockets only then,
        # and without it every response waits ~40 ms for a delayed ACK.
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            # A fixed port must be reusable right after a previous run left TIME_WAITs.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._requested_port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        return sock

    def _run(self) -> None:
        assert self._server is not None and self._sock is not None
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # surfaced by start(), in the caller's thread
            self._error = exc

    def _wait_started(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self._name} server did not start") from self._error
            time.sleep(0.005)

    def _close_socket(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
