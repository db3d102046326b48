"""Connected Microsoft work accounts (Teams meeting hosts); their sign-ins are storage.ms_sign_ins.

Each account's whole msal token cache (a JSON document holding access, refresh and id tokens) is
stored encrypted in `ms_account.token_cache_enc`, bound to its row. A company has at most one
account of its own (provider "") and one per provider who connected their own (S10).

Concurrent refresh, the choice made: an optimistic version check, not a row lock. The version is
the stored ciphertext itself (its random nonce makes every write unique), so a worker writes its
refreshed cache only if nobody wrote since it read; otherwise it keeps its fresh access token for the
call at hand and leaves the other worker's cache in place. That is safe because Microsoft Entra
keeps earlier refresh tokens valid after a refresh (unlike Zoom), so either cache works. A row lock
would instead hold a transaction open across a call to Microsoft, which on SQLite blocks every
writer of the database (webhooks included) for that long.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from bot.clock import Clock
from bot.domain import AccountState, MsAccount, MsConnection
from bot.errors import MeetingAccountRevoked
from storage.crypto import SecretBox
from storage.mappers import from_row
from storage.sessions import changed_any, read_session, write_session
from storage.tables import MsAccountRow

DISCONNECTED = "disconnected"
# What a sign-in sets on the account row besides its cache (sealed apart) and who connected it.
_ACCOUNT_FIELDS = ("tenant_id", "object_id", "username", "display_name", "home_account_id")


@dataclass(frozen=True, slots=True)
class TokenCacheSnapshot:
    """An account's msal cache as read; `version` is opaque and only compared."""

    account_id: str
    home_account_id: str
    state: str
    version: str

    def __repr__(self) -> str:  # the cache holds refresh tokens
        return f"TokenCacheSnapshot(account_id={self.account_id!r})"


def _account(row: MsAccountRow) -> MsAccount:
    return from_row(MsAccount, row, state=AccountState(row.state))


class SqlMsAccounts:
    def __init__(self, engine: Engine, box: SecretBox, clock: Clock) -> None:
        self._engine, self._box, self._clock = engine, box, clock

    def _seal_cache(self, row_id: str, state: str) -> str:
        return self._box.encrypt(state, context=f"ms_account.token_cache:{row_id}")

    def _open_cache(self, row_id: str, sealed: str) -> str:
        return self._box.decrypt(sealed, context=f"ms_account.token_cache:{row_id}")

    # Accounts.

    def save_account(self, *, connection: MsConnection, connected_by: str = "") -> MsAccount:
        """Stores a connected account, replacing the one of that company and provider.

        The row (and its id) is kept on replacement, so meetings it hosts stay attached to it.
        """
        fields = {name: getattr(connection, name) for name in _ACCOUNT_FIELDS}
        fields["connected_by"] = connected_by
        company_id, provider_external_id = connection.company_id, connection.provider_external_id
        try:
            return self._upsert(company_id, provider_external_id, fields, connection.token_cache)
        except IntegrityError:  # a concurrent first connection inserted the row: replace it
            return self._upsert(company_id, provider_external_id, fields, connection.token_cache)

    def _upsert(
        self, company_id: str, provider_external_id: str, fields: dict[str, str], cache: str
    ) -> MsAccount:
        with write_session(self._engine) as session:
            row = self._row(session, company_id, provider_external_id)
            if row is None:
                row = MsAccountRow(
                    company_id=company_id,
                    provider_external_id=provider_external_id,
                    tenant_id=fields["tenant_id"],
                    object_id=fields["object_id"],
                    token_cache_enc="",
                )
                session.add(row)
            for name, value in fields.items():
                setattr(row, name, value)
            row.token_cache_enc = self._seal_cache(row.id, cache)
            row.state, row.state_reason = AccountState.ACTIVE.value, ""
            row.updated_at = self._clock.now()
        return _account(row)

    @staticmethod
    def _row(session: Session, company_id: str, provider_external_id: str) -> MsAccountRow | None:
        return session.scalars(
            select(MsAccountRow).where(
                col(MsAccountRow.company_id) == company_id,
                col(MsAccountRow.provider_external_id) == provider_external_id,
            )
        ).first()

    def account(self, *, company_id: str, provider_external_id: str = "") -> MsAccount | None:
        """The company's account (provider "") or a provider's own; None when not connected."""
        with read_session(self._engine) as session:
            row = self._row(session, company_id, provider_external_id)
        return None if row is None or row.state == DISCONNECTED else _account(row)

    def account_by_id(self, *, company_id: str, account_id: str) -> MsAccount | None:
        with read_session(self._engine) as session:
            row = session.get(MsAccountRow, account_id)
        if row is None or row.company_id != company_id or row.state == DISCONNECTED:
            return None
        return _account(row)

    def accounts(self, *, company_id: str) -> list[MsAccount]:
        with read_session(self._engine) as session:
            rows = session.scalars(
                select(MsAccountRow)
                .where(
                    col(MsAccountRow.company_id) == company_id,
                    col(MsAccountRow.state) != DISCONNECTED,
                )
                .order_by(col(MsAccountRow.provider_external_id))
            ).all()
        return [_account(row) for row in rows]

    def linked_elsewhere(self, *, company_id: str, tenant_id: str, object_id: str) -> bool:
        """Whether that Microsoft account is connected to another company."""
        with read_session(self._engine) as session:
            found = session.scalars(
                select(col(MsAccountRow.id)).where(
                    col(MsAccountRow.tenant_id) == tenant_id,
                    col(MsAccountRow.object_id) == object_id,
                    col(MsAccountRow.company_id) != company_id,
                    col(MsAccountRow.state) != DISCONNECTED,
                )
            ).first()
        return found is not None

    def disconnect(self, *, company_id: str, provider_external_id: str = "") -> bool:
        """Forgets the account's tokens; False if it was not connected."""
        with write_session(self._engine) as session:
            row = self._row(session, company_id, provider_external_id)
            if row is None or row.state == DISCONNECTED:
                return False
            # The row stays, so meetings it hosts keep their account; a reconnect fills it again.
            row.token_cache_enc = ""
            row.state, row.state_reason = DISCONNECTED, "disconnected by an admin"
            row.updated_at = self._clock.now()
            return True

    # The token cache, for the Graph adapter (which knows only the account id).

    def token_cache(self, *, account_id: str) -> TokenCacheSnapshot:
        with read_session(self._engine) as session:
            row = session.get(MsAccountRow, account_id)
        if row is None or row.state == DISCONNECTED or not row.token_cache_enc:
            raise MeetingAccountRevoked("the Teams account was disconnected")
        if row.state != AccountState.ACTIVE.value:
            raise MeetingAccountRevoked(
                f"the Teams connection needs to be renewed: {row.state_reason}"
            )
        return TokenCacheSnapshot(
            account_id=row.id,
            home_account_id=row.home_account_id,
            state=self._open_cache(row.id, row.token_cache_enc),
            version=row.token_cache_enc,
        )

    def store_token_cache(self, *, account_id: str, version: str, state: str) -> bool:
        """Writes a changed cache unless someone wrote since `version` was read."""
        unchanged = (
            col(MsAccountRow.id) == account_id,
            col(MsAccountRow.token_cache_enc) == version,
            col(MsAccountRow.state) == AccountState.ACTIVE.value,
        )
        write = (
            update(MsAccountRow)
            .where(*unchanged)
            .values(
                token_cache_enc=self._seal_cache(account_id, state), updated_at=self._clock.now()
            )
        )
        return changed_any(self._engine, write)

    def mark_needs_reconnect(
        self, *, account_id: str, reason: str, version: str | None = None
    ) -> bool:
        """Flags the account for an admin; with `version`, only if its cache is still that one
        (a reconnect or another worker's refresh in between means the account works)."""
        conditions = [
            col(MsAccountRow.id) == account_id,
            col(MsAccountRow.state) == AccountState.ACTIVE.value,
        ]
        if version is not None:
            conditions.append(col(MsAccountRow.token_cache_enc) == version)
        flag = (
            update(MsAccountRow)
            .where(*conditions)
            .values(
                state=AccountState.NEEDS_RECONNECT.value,
                state_reason=reason,
                updated_at=self._clock.now(),
            )
        )
        return changed_any(self._engine, flag)

    # Pending sign-ins.
