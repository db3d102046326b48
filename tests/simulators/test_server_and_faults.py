from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from simulators.base import Simulator
from simulators.server import BackgroundServer


class EchoSimulator(Simulator):
    """The smallest simulator: counts POSTs, so a test can see whether the effect happened."""

    def __init__(self) -> None:
        super().__init__()
        self.effects = 0

        async def effect(request: Request) -> JSONResponse:
            with self._lock:
                self.effects += 1
                return JSONResponse({"effects": self.effects}, status_code=201)

        async def hello(request: Request) -> PlainTextResponse:
            return PlainTextResponse("hello")

        routes = [Route("/effect", effect, methods=["POST"]), Route("/hello", hello)]
        self.app = self._wrap(Starlette(routes=routes))


@pytest.fixture
def sim() -> Iterator[EchoSimulator]:
    sim = EchoSimulator()
    yield sim
    sim.faults.clear()


@pytest.fixture
def url(sim: EchoSimulator, serve: Callable[[Any], str]) -> str:
    return serve(sim.app)


def test_background_server_serves_and_stops() -> None:
    sim = EchoSimulator()
    server = BackgroundServer(sim.app, name="echo")
    url = server.start()
    assert url == server.url == f"http://127.0.0.1:{server.port}"
    assert server.port > 0
    with httpx.Client() as client:
        assert client.get(url + "/hello").text == "hello"
    server.stop()
    with httpx.Client() as client, pytest.raises(httpx.ConnectError):
        client.get(url + "/hello")
    server.stop()  # a second stop is harmless


def test_a_fixed_port_can_be_reused_at_once() -> None:
    sim = EchoSimulator()
    with BackgroundServer(sim.app) as first:
        port = first.port
        with httpx.Client() as client:
            client.get(first.url + "/hello")
    with BackgroundServer(sim.app, port=port) as second, httpx.Client() as client:
        assert second.port == port
        assert client.get(second.url + "/hello").status_code == 200


def test_a_taken_port_fails_loudly() -> None:
    sim = EchoSimulator()
    with BackgroundServer(sim.app) as first, pytest.raises(OSError):
        BackgroundServer(sim.app, port=first.port).start()


def test_lifespan_runs_on_start_and_stop() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = Starlette(lifespan=lifespan)
    with BackgroundServer(app, lifespan="on"):
        assert events == ["startup"]
    assert events == ["startup", "shutdown"]


def test_servers_can_be_started_from_any_thread() -> None:
    urls: list[str] = []

    def run() -> None:
        with BackgroundServer(EchoSimulator().app) as server, httpx.Client() as client:
            urls.append(client.get(server.url + "/hello").text)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    assert urls == ["hello"]


def test_fail_once_then_recover(sim: EchoSimulator, url: str, http: httpx.Client) -> None:
    sim.faults.fail(method="POST", path="^/effect$", status=503)
    assert http.post(url + "/effect").status_code == 503
    assert http.post(url + "/effect").status_code == 201
    assert sim.effects == 1  # the failed request never reached the simulator
    assert [r.status for r in sim.requests] == [503, 201]


def test_fail_n_times_with_body_and_headers(
    sim: EchoSimulator, url: str, http: httpx.Client
) -> None:
    sim.faults.fail(
        path="/effect",
        status=429,
        body={"code": 429, "message": "slow down"},
        headers={"Retry-After": "3"},
        times=2,
    )
    for _ in range(2):
        answer = http.post(url + "/effect")
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "3"
        assert answer.json() == {"code": 429, "message": "slow down"}
    assert http.post(url + "/effect").status_code == 201


def test_fail_forever_until_cleared(sim: EchoSimulator, url: str, http: httpx.Client) -> None:
    sim.faults.fail(status=500, body="boom", times=None)
    for _ in range(3):
        answer = http.get(url + "/hello")
        assert (answer.status_code, answer.text) == (500, "boom")
    sim.faults.clear()
    assert http.get(url + "/hello").status_code == 200


def test_fail_matches_method_and_path(sim: EchoSimulator, url: str, http: httpx.Client) -> None:
    sim.faults.fail(method="POST", path="/effect", times=None)
    assert http.get(url + "/hello").status_code == 200
    assert http.get(url + "/effect").status_code == 405  # GET is not matched: handled as usual
    assert http.post(url + "/effect").status_code == 500


def test_hang_after_effect_keeps_the_effect(
    sim: EchoSimulator, url: str, http: httpx.Client
) -> None:
    sim.faults.hang_after_effect(method="POST", path="/effect", seconds=10)
    with pytest.raises(httpx.ReadTimeout):
        http.post(url + "/effect", timeout=0.3)
    assert sim.faults.wait_for_hang(2.0)
    assert sim.effects == 1
    assert http.post(url + "/effect").status_code == 201  # only one request hung


def test_held_response_is_sent_on_release(sim: EchoSimulator, url: str, http: httpx.Client) -> None:
    sim.faults.hang_after_effect(path="/effect", seconds=10)
    answers: list[httpx.Response] = []
    caller = threading.Thread(target=lambda: answers.append(http.post(url + "/effect")))
    caller.start()
    assert sim.faults.wait_for_hang(2.0)
    assert answers == []
    sim.faults.release()
    caller.join(5)
    assert [a.status_code for a in answers] == [201]


def test_hang_ends_by_itself(sim: EchoSimulator, url: str, http: httpx.Client) -> None:
    sim.faults.hang_after_effect(path="/effect", seconds=0.2)
    started = time.monotonic()
    assert http.post(url + "/effect").status_code == 201
    assert time.monotonic() - started >= 0.2


def test_wait_for_hang_times_out(sim: EchoSimulator) -> None:
    assert sim.faults.wait_for_hang(0.05) is False


def test_latency(sim: EchoSimulator, url: str, http: httpx.Client) -> None:
    sim.faults.latency = 0.1
    started = time.monotonic()
    http.get(url + "/hello")
    assert time.monotonic() - started >= 0.1


def test_request_log(sim: EchoSimulator, url: str, http: httpx.Client) -> None:
    http.post(url + "/effect?x=1", json={"a": 1}, headers={"X-Test": "yes"})
    http.get(url + "/hello")
    first = sim.requests[0]
    assert (first.method, first.path, first.query, first.status) == ("POST", "/effect", "x=1", 201)
    assert first.headers["x-test"] == "yes"
    assert first.json() == {"a": 1}
    assert sim.count() == 2
    assert sim.count("POST") == 1
    assert sim.count(path_regex="^/hel") == 1
    assert sim.count("GET", "/effect") == 0
    sim.requests.clear()
    assert sim.count() == 0
