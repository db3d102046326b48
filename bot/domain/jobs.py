"""A unit of queued work as the worker receives it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    company_id: str | None
    payload: dict[str, str]
    attempts: int
    worker_id: str
