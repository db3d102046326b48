"""The schema. Secret columns end in `_enc` and hold `storage.crypto` ciphertexts.

Every table but `job`, `seen_request` and `send_pace` carries `company_id`: repositories scope
every query by it (tenants are walls). `accounts` holds whom meetbot acts as, `records` the companies' records,
`home` who opened the chat app's Home, `columns` what their columns share. Importing this package
registers every table on `SQLModel.metadata`.
"""

from storage.tables.accounts import (
    ChatWorkspaceRow,
    MsAccountRow,
    OAuthStateRow,
    TeamsConversationRow,
    ZoomAccountRow,
)
from storage.tables.columns import new_id, utcnow
from storage.tables.home import HomeViewerRow
from storage.tables.records import (
    AdminMessageRow,
    AlertRow,
    AuditEntryRow,
    BookingRow,
    CompanyRow,
    JobRow,
    JobSecretRow,
    MeetingRow,
    MessageTemplateRow,
    NotificationRow,
    ProviderRow,
    ReceivedEventRow,
    SeatRow,
    SeenRequestRow,
    SendPaceRow,
    ServiceRow,
    StaffMemberRow,
)
from storage.tables.webhooks import BookingEventRow, WebhookBookingRow, WebhookSourceRow

__all__ = [
    "AdminMessageRow",
    "AlertRow",
    "AuditEntryRow",
    "BookingEventRow",
    "BookingRow",
    "ChatWorkspaceRow",
    "CompanyRow",
    "HomeViewerRow",
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
    "SendPaceRow",
    "ServiceRow",
    "StaffMemberRow",
    "TeamsConversationRow",
    "WebhookBookingRow",
    "WebhookSourceRow",
    "ZoomAccountRow",
    "new_id",
    "utcnow",
]
