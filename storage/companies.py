"""Companies: a company's own record, the chat workspace it is served from, its SimplyBook.me
credentials (encrypted) and webhook token, and what needs an admin's attention."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Engine, Select, bindparam, select, update
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from bot.clock import Clock
from bot.domain import AccountState, Actor, Company, MeetingPlatform, SimplyBookCredentials
from bot.errors import MeetbotError, NotFound
from storage.accounts import company_bot_tokens_json, keep_bot_tokens_for_job, workspace_row
from storage.catalog import SqlCatalog
from storage.crypto import SecretBox
from storage.mappers import NO_SIMPLYBOOK_LOGIN, company_from_row
from storage.sessions import changed_any, read_row, read_session, write_session
from storage.tables import BookingRow, ChatWorkspaceRow, CompanyRow, JobRow
from storage.templates import company_templates_json, keep_templates_for_job
from storage.tokens import new_webhook_token, token_digest
from storage.zoom_connections import SqlZoomConnections

BOUND_ELSEWHERE = (
    "This SimplyBook.me company is already connected to another chat workspace. "
    "meetbot serves each company from one workspace; ask that workspace's admins."
)


class SqlCompanies:
    """Implements the core's Companies port, plus `create_company` for seeding."""

    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine, self._box, self._clock = engine, box, clock
        self._catalog = SqlCatalog(engine)
        self._zoom = SqlZoomConnections(engine, box, clock)

    def create_company(
        self, *, login: str, api_key: str, api_secret: str, name: str = "", timezone: str = "UTC"
    ) -> tuple[Company, str]:
        """Returns the company and its secret webhook token."""
        with write_session(self._engine) as session:
            row, token = self._new_row(login=login, name=name or login, timezone=timezone)
            self._seal_credentials(row, api_key, api_secret)
            session.add(row)
        return company_from_row(row), token

    def start_company(self, *, actor: Actor, name: str, timezone: str = "UTC") -> Company:
        """A company without SimplyBook.me (fed by a generic booking webhook), bound to the
        actor's chat workspace."""
        with write_session(self._engine) as session:
            row, _token = self._new_row(login="", name=name, timezone=timezone)
            row.simplybook_login = f"{NO_SIMPLYBOOK_LOGIN}{row.id}"
            row.zone_pending = True
            session.add(row)
            session.flush()
            _bind(session, row.id, actor)
        return company_from_row(row)

    def _new_row(self, *, login: str, name: str, timezone: str) -> tuple[CompanyRow, str]:
        token = new_webhook_token()
        row = CompanyRow(
            simplybook_login=login,
            name=name,
            timezone=timezone,
            api_key_enc="",
            api_secret_enc="",
            webhook_token_enc="",
            webhook_token_hash=token_digest(token),
        )
        row.webhook_token_enc = self._box.encrypt(token, context=f"company.webhook_token:{row.id}")
        return row, token

    def _seal_credentials(self, row: CompanyRow, api_key: str, api_secret: str) -> None:
        row.api_key_enc = self._box.encrypt(api_key, context=f"company.api_key:{row.id}")
        row.api_secret_enc = self._box.encrypt(api_secret, context=f"company.api_secret:{row.id}")

    def company(self, *, company_id: str) -> Company:
        return company_from_row(self._row(company_id))

    def _row(self, company_id: str) -> CompanyRow:
        row = read_row(self._engine, _company_by_id(), {"company_id": company_id})
        if row is None:
            raise NotFound("company not found")
        return row  # type: ignore[return-value]  # a Core row: read by column name alike

    def company_for_workspace(self, *, platform: str, workspace_id: str) -> Company | None:
        with read_session(self._engine) as session:
            row = session.scalars(
                select(CompanyRow)
                .join(ChatWorkspaceRow, col(ChatWorkspaceRow.company_id) == CompanyRow.id)
                .where(
                    col(ChatWorkspaceRow.platform) == platform,
                    col(ChatWorkspaceRow.external_id) == workspace_id,
                )
            ).first()
        return company_from_row(row) if row else None

    def simplybook_credentials(self, *, company_id: str) -> SimplyBookCredentials:
        return self._credentials(self._row(company_id))

    def company_with_credentials(
        self, *, company_id: str
    ) -> tuple[Company, SimplyBookCredentials | None]:
        """Read by a booking job, with what its messages need of the company (kept for them)."""
        statement = _company_for_job(self._engine.dialect.name)
        row = read_row(self._engine, statement, {"company_id": company_id})
        if row is None:
            raise NotFound("company not found")
        keep_templates_for_job(company_id, row.message_templates)
        keep_bot_tokens_for_job(row.bot_tokens)
        company = company_from_row(row)  # type: ignore[arg-type]  # read by column name alike
        # A company fed only by a generic webhook has no credentials to decrypt.
        return company, self._credentials(row) if company.uses_simplybook else None  # type: ignore[arg-type]

    def _credentials(self, row: CompanyRow) -> SimplyBookCredentials:
        return SimplyBookCredentials(
            company_login=row.simplybook_login,
            api_key=self._box.decrypt(row.api_key_enc, context=f"company.api_key:{row.id}"),
            api_secret=self._box.decrypt(
                row.api_secret_enc, context=f"company.api_secret:{row.id}"
            ),
        )

    def connect_simplybook(
        self, *, actor: Actor, login: str, api_key: str, api_secret: str, name: str, timezone: str
    ) -> tuple[Company, str]:
        """Credentials were verified against SimplyBook.me: whoever holds them owns the company."""
        with write_session(self._engine) as session:
            row = session.scalars(
                select(CompanyRow).where(col(CompanyRow.simplybook_login) == login)
            ).first()
            row = row or _generic_only_company(session, actor)  # adds SimplyBook.me to it
            if row is None:
                row, _token = self._new_row(login=login, name=name, timezone=timezone)
                session.add(row)
            elif _bound_elsewhere(session, row.id, actor):
                raise MeetbotError(BOUND_ELSEWHERE)
            row.simplybook_login, row.name, row.timezone = login, name, timezone
            row.zone_pending = False
            self._seal_credentials(row, api_key, api_secret)
            session.flush()
            _bind(session, row.id, actor)
            company = company_from_row(row)
        return company, self.webhook_token(company_id=company.id)

    def webhook_token(self, *, company_id: str) -> str:
        row = self._row(company_id)
        return self._box.decrypt(row.webhook_token_enc, context=f"company.webhook_token:{row.id}")

    def rename_company(self, *, company_id: str, name: str) -> None:
        with write_session(self._engine) as session:
            row = session.get(CompanyRow, company_id)
            if row is None:
                raise NotFound("company not found")
            row.name = name

    def adopt_timezone(self, *, company_id: str, timezone: str) -> bool:
        # A compare-and-swap: of two first events at once, one sets the zone.
        return changed_any(
            self._engine,
            update(CompanyRow)
            .where(col(CompanyRow.id) == company_id, col(CompanyRow.zone_pending))
            .values(timezone=timezone, zone_pending=False),
        )

    def set_online_meetings(self, *, company_id: str, enabled: bool) -> None:
        with write_session(self._engine) as session:
            row = session.get(CompanyRow, company_id)
            if row is None:
                raise NotFound("company not found")
            row.online_meetings_enabled = enabled

    def open_problems(self, *, company_id: str) -> list[str]:
        problems = self._setup_problems(company_id)
        with read_session(self._engine) as session:
            noted = _upcoming_problems(session, company_id, self._clock)
            dead = _dead_jobs(session, company_id)
        problems.extend(noted)
        if dead:
            problems.append(f"{dead} booking update(s) failed for good; see the worker log")
        return problems

    def _setup_problems(self, company_id: str) -> list[str]:
        problems = []
        zoom = self._zoom.zoom_account(company_id=company_id)
        if zoom is not None and zoom.state is not AccountState.ACTIVE:
            problems.append(
                f"Zoom needs reconnecting ({zoom.state_reason}): `/meetings connect zoom`"
            )
        for provider in self._catalog.providers(company_id=company_id):
            if provider.platform is MeetingPlatform.ZOOM and not provider.zoom_user:
                problems.append(
                    f"{provider.name} has no Zoom host: `/meetings provider {provider.name} zoom EMAIL`"
                )
            if provider.platform is not None and provider.channel is None:
                problems.append(
                    f"{provider.name} has no channel: `/meetings provider {provider.name} channel #channel`"
                )
        return problems


def _bound_elsewhere(session: Session, company_id: str, actor: Actor) -> bool:
    bound = session.execute(
        select(col(ChatWorkspaceRow.platform), col(ChatWorkspaceRow.external_id)).where(
            col(ChatWorkspaceRow.company_id) == company_id
        )
    ).all()
    return any(
        (platform, workspace) != (actor.platform.value, actor.workspace_id)
        for platform, workspace in bound
    )


def _generic_only_company(session: Session, actor: Actor) -> CompanyRow | None:
    return session.scalars(
        select(CompanyRow)
        .join(ChatWorkspaceRow, col(ChatWorkspaceRow.company_id) == CompanyRow.id)
        .where(
            col(ChatWorkspaceRow.platform) == actor.platform.value,
            col(ChatWorkspaceRow.external_id) == actor.workspace_id,
            col(CompanyRow.simplybook_login).startswith(NO_SIMPLYBOOK_LOGIN),
        )
    ).first()


def _bind(session: Session, company_id: str, actor: Actor) -> None:
    workspace = workspace_row(
        session, platform=actor.platform.value, external_id=actor.workspace_id
    )
    workspace.company_id = company_id
    # Without an install record (single-workspace mode) the person who connected the booking
    # system is the admin meetbot knows to tell about problems.
    workspace.installed_by = workspace.installed_by or actor.user_id


def _upcoming_problems(session: Session, company_id: str, clock: Clock) -> list[str]:
    noted = session.scalars(
        select(BookingRow)
        .where(
            col(BookingRow.company_id) == company_id,
            col(BookingRow.problem).is_not(None),
            col(BookingRow.start_at) > clock.now(),
        )
        .order_by(col(BookingRow.start_at))
        .limit(5)
    ).all()
    return [f"Booking {row.code or row.external_id}: {row.problem}" for row in noted]


def _dead_jobs(session: Session, company_id: str) -> int:
    """Jobs that failed for good and were not put right by a later run of the same job."""
    later = aliased(JobRow)
    went_through_later = (
        select(col(later.id))
        .where(
            col(later.dedupe_key) == JobRow.dedupe_key,
            col(later.id) > JobRow.id,
            col(later.state) == "done",
        )
        .exists()
    )
    dead = session.scalars(
        select(JobRow.id).where(  # type: ignore[call-overload]
            col(JobRow.company_id) == company_id,
            col(JobRow.state) == "dead",
            ~went_through_later,
        )
    ).all()
    return len(dead)


@functools.cache
def _company_by_id() -> Select[Any]:
    """Most requests and jobs read their company: the select is built once."""
    columns = CompanyRow.__table__.c  # type: ignore[attr-defined]
    return select(*columns).where(columns.id == bindparam("company_id"))


@functools.cache
def _company_for_job(dialect: str) -> Select[Any]:
    """The company's row with its message templates and its workspaces' bot tokens, as a
    booking job reads it: the job's messages need both. Built once per dialect."""
    columns = CompanyRow.__table__.c  # type: ignore[attr-defined]
    return select(
        *columns,
        company_templates_json(dialect, columns.id).label("message_templates"),
        company_bot_tokens_json(dialect, columns.id).label("bot_tokens"),
    ).where(columns.id == bindparam("company_id"))
