"""The schema, one module per area. Secret columns end in `_enc` and hold `storage.crypto` ciphertexts.

Every table but `job`, `job_secret` and `seen_request` carries `company_id`: repositories scope every
query by it (tenants are walls). Importing this package registers every table on `SQLModel.metadata`.
"""

from storage.tables.bookings import (
    BookingRow,
    MeetingRow,
    NotificationRow,
    ProviderRow,
    ReceivedEventRow,
    SeatRow,
    ServiceRow,
)
from storage.tables.columns import new_id, utcnow
from storage.tables.operations import (
    AdminMessageRow,
    AlertRow,
    AuditEntryRow,
    JobRow,
    JobSecretRow,
    MessageTemplateRow,
    SeenRequestRow,
)
from storage.tables.tenants import (
    ChatWorkspaceRow,
    CompanyRow,
    MsAccountRow,
    OAuthStateRow,
    StaffMemberRow,
    TeamsConversationRow,
    ZoomAccountRow,
)

__all__ = [
    "AdminMessageRow",
    "AlertRow",
    "AuditEntryRow",
    "BookingRow",
    "ChatWorkspaceRow",
    "CompanyRow",
    "JobRow",
    "JobSecretRow",
    "MeetingRow",
    "MessageTemplateRow",
    "MsAccountRow",
    "NotificationRow",
    "OAuthStateRow",
    "ProviderRow",
    "ReceivedEventRow",
    "SeatRow",
    "SeenRequestRow",
    "ServiceRow",
    "StaffMemberRow",
    "TeamsConversationRow",
    "ZoomAccountRow",
    "new_id",
    "utcnow",
]
