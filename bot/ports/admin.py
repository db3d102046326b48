"""What admins' features keep: alerts, the audit trail, templates, accounts,
sign-in states, and the job queue."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from bot.domain import (
    Actor,
    Alert,
    AlertKind,
    AlertSpec,
    AuditEntry,
    DigestSettings,
    Job,
    MsAccount,
    MsConnection,
    ReportRow,
)
from bot.jobs import JobType
from bot.signin import SignInState, StateProblem
from bot.templates import MessageTemplate, TemplateKind, TemplateScope


class JobQueue(Protocol):
    """The durable job table. Essential: `defer`, `claim`, `complete`, `retry`, `bury`."""

    def defer(
        self, job: JobType, *, company_id: str | None = None, run_at: datetime | None = None
    ) -> None:
        """Queues `job` (now, or at `run_at`); refreshes the one already pending for its key."""
        ...

    def claim(self, *, worker_id: str, lease_seconds: float) -> Job | None: ...

    def extend_lease(self, *, job: Job, lease_seconds: float) -> bool:
        """Keeps a running job's claim; False if another worker has taken it over."""
        ...

    def hold(self, *, job: Job, key: str) -> bool:
        """Takes the running job's turn on a shared resource; False while another job has it."""
        ...

    def complete(self, *, job: Job, note: str | None = None) -> None: ...

    def retry(self, *, job: Job, run_at: datetime, error: str, counted: bool = True) -> None:
        """Runs the job again at `run_at`; an uncounted retry does not use up an attempt."""
        ...

    def bury(self, *, job: Job, error: str) -> None:
        """The job is dead: recorded, never silently dropped."""
        ...

    def counts(self) -> Mapping[str, int]: ...


class OAuthStates(Protocol):
    def issue(
        self,
        *,
        purpose: str,
        company_id: str | None,
        actor: Actor,
        ttl_seconds: float,
        browser_nonce: str = "",
        payload: str = "",
    ) -> str:
        """A new single-use state value (bound to the browser holding `browser_nonce`, if given;
        `payload` is kept encrypted)."""
        ...

    def peek(self, *, purpose: str, state: str) -> SignInState | None:
        """What the state was issued for, without using it up."""
        ...

    def take(self, *, purpose: str, state: str) -> SignInState | None:
        """What the state was issued for, once; None if unknown, used or expired."""
        ...

    def take_bound(
        self, *, purpose: str, state: str, browser_nonce: str
    ) -> SignInState | StateProblem:
        """Like `take`, only from the browser whose nonce the state was bound to."""
        ...

    def take_for(self, *, purpose: str, state: str, actor: Actor) -> SignInState | None:
        """Like `take`, only for the person who started it."""
        ...

    def consume(self, *, purpose: str, state: str) -> tuple[str | None, Actor] | None:
        """The company and actor the state was issued for, once; None if unknown, used or expired."""
        ...


class AlertStore(Protocol):
    def raise_alert(self, *, company_id: str, spec: AlertSpec, booking: str = "") -> bool:
        """Records the problem; True when the admins will be told (new, or a day since)."""
        ...

    def resolve(
        self, *, company_id: str, kind: AlertKind, subject: str | None = None, resolution: str
    ) -> int:
        """Closes open alerts of that kind (and subject); the admins told are told it is fixed."""
        ...

    def alert(self, *, company_id: str, alert_id: str) -> Alert | None: ...

    def open_alerts(self, *, company_id: str) -> list[Alert]: ...


class AuditLog(Protocol):
    def record(self, *, company_id: str, actor: str, action: str, detail: str = "") -> None: ...

    def latest(self, *, company_id: str, limit: int = 20) -> list[AuditEntry]: ...


class AdminRecords(AuditLog, Protocol):
    """The audit trail, the report's rows and the digest's schedule."""

    def report_rows(
        self, *, company_id: str, start: datetime, end: datetime
    ) -> list[ReportRow]: ...

    def digest_settings(self, *, company_id: str) -> DigestSettings: ...

    def set_digest(self, *, company_id: str, enabled: bool, hour: int | None = None) -> None: ...

    def claim_digest(self, *, company_id: str, local_date: str) -> bool:
        """Marks the day's digest as sent; False if it already was."""
        ...


class TemplateStore(Protocol):
    def templates(self, *, company_id: str) -> list[MessageTemplate]: ...

    def save_template(self, *, company_id: str, template: MessageTemplate, actor: str) -> None: ...

    def reset_template(
        self, *, company_id: str, kind: TemplateKind, scope: TemplateScope, scope_id: str
    ) -> bool: ...


class TeamsAccounts(Protocol):
    """Microsoft work accounts that host Teams meetings (the company's, and providers' own)."""

    def account(self, *, company_id: str, provider_external_id: str = "") -> MsAccount | None: ...

    def accounts(self, *, company_id: str) -> list[MsAccount]: ...

    def save_account(self, *, connection: MsConnection, connected_by: str = "") -> MsAccount:
        """Stores a completed sign-in as the account of its company and provider."""
        ...

    def disconnect(self, *, company_id: str, provider_external_id: str = "") -> bool: ...

    def linked_elsewhere(self, *, company_id: str, tenant_id: str, object_id: str) -> bool:
        """Whether that Microsoft account is connected to another company."""
        ...
