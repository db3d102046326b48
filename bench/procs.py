"""Server subprocesses for the benchmark: started, probed, measured (/proc) and always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# One company's callbacks are limited per token (120 a minute by default); the benchmarks measure
# ingest and the pipeline themselves, so they lift the limit.
UNLIMITED_CALLBACKS = "1000000/second"


class BenchError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """This process's environment, with `settings` as its MEETBOT_* variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MEETBOT_")}
    return {**env, **settings.as_environment(), **extra}


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise BenchError(f"no {field} in /proc/{pid}/status")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a live process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


class _ChildProcess:
    """A meetbot process of the bench: started on entering, stopped (SIGTERM, then kill) on
    leaving. The working directory is `workdir` (a temp dir): meetbot's settings also read a
    `.env` file from there, and none must leak into a benchmark. Output goes to a log file in
    `workdir`."""

    stop_seconds = 15.0  # SIGTERM: uvicorn shuts down, a worker claims nothing more

    def __init__(self, name: str, args: list[str], *, workdir: Path, env: Mapping[str, str]):
        self.name = name
        self._args = args
        self._env = dict(env)
        self._env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(ROOT), self._env.get("PYTHONPATH", "")) if part
        )
        self._workdir = workdir
        self._log_path = workdir / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.ready_rss_mib = 0.0  # resident memory once it was ready

    @property
    def pid(self) -> int:
        if self._process is None:
            raise BenchError(f"{self.name} is not running")
        return self._process.pid

    def __enter__(self) -> Self:
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, *self._args],
                cwd=self._workdir,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_ready()
            self.ready_rss_mib = _status_kib(self.pid, "VmRSS") / 1024
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        raise NotImplementedError

    def _exited_at_start(self) -> None:
        assert self._process is not None
        if self._process.poll() is not None:
            raise BenchError(f"{self.name} exited at start-up:\n{self.log_tail()}")

    def peak_rss_mib(self) -> float:
        """VmHWM: the process's peak resident memory so far."""
        return _status_kib(self.pid, "VmHWM") / 1024

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def log_tail(self, chars: int = 3000) -> str:
        if not self._log_path.exists():
            return ""
        return self._log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(self.stop_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class ServerProcess(_ChildProcess):
    """One uvicorn server in its own process, on 127.0.0.1:<port>; ready once `ready_path`
    answers as `ready` says."""

    def __init__(
        self,
        name: str,
        args: list[str],
        *,
        port: int,
        ready_path: str,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        ready: Callable[[httpx.Response], bool] = lambda answer: answer.status_code < 500,
        ready_method: str = "GET",
        start_timeout: float = 60.0,
    ) -> None:
        super().__init__(name, args, workdir=workdir, env=env if env is not None else os.environ)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._ready_path = ready_path
        self._ready = ready
        self._ready_method = ready_method
        self._start_timeout = start_timeout

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                self._exited_at_start()
                try:
                    answer = client.request(self._ready_method, self.url + self._ready_path)
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue
                if self._ready(answer):
                    return
                time.sleep(0.05)
        raise BenchError(f"{self.name} did not answer within {self._start_timeout:.0f} s")


class WorkerProcess(_ChildProcess):
    """One `meetbot worker` process; ready once it printed its start-up summary line."""

    stop_seconds = 20.0  # running jobs may end first
    start_timeout = 60.0

    def __init__(
        self, name: str, *, concurrency: int, workdir: Path, env: Mapping[str, str]
    ) -> None:
        args = ["-m", "app", "worker", "--concurrency", str(concurrency)]
        super().__init__(name, args, workdir=workdir, env=env)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            self._exited_at_start()
            if "worker (concurrency" in self.log_tail(100_000):
                return
            time.sleep(0.05)
        raise BenchError(f"{self.name} did not start within {self.start_timeout:.0f} s")
