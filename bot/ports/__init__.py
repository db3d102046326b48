"""What the core needs from the outside, as small keyword-only protocols.

Adapters and repositories implement these; tests use the same adapters against simulated
platforms, and in-memory stand-ins for the fast core tests. Each protocol's docstring names the
methods an implementer must get right first.
"""

from bot.ports.admin import (
    AdminRecords,
    AlertStore,
    AuditLog,
    JobQueue,
    OAuthStates,
    TeamsAccounts,
    TemplateStore,
)
from bot.ports.home import HomePublisher, HomeRecords, HomeViewer, UpcomingMeeting
from bot.ports.outbox import Outbox, OutboxEntry
from bot.ports.outside import (
    BookingSource,
    ChatSender,
    MeetingPlatformPort,
    TeamsSignIn,
    ZoomDirectory,
)
from bot.ports.records import (
    Bookings,
    CallbackInbox,
    Catalog,
    Companies,
    LinkStore,
    Meetings,
    Seats,
    Staff,
    ZoomAccounts,
)
from bot.ports.webhooks import BookingWebhooks

__all__ = [
    "AdminRecords",
    "AlertStore",
    "AuditLog",
    "BookingSource",
    "BookingWebhooks",
    "Bookings",
    "CallbackInbox",
    "Catalog",
    "ChatSender",
    "Companies",
    "HomePublisher",
    "HomeRecords",
    "HomeViewer",
    "JobQueue",
    "LinkStore",
    "MeetingPlatformPort",
    "Meetings",
    "OAuthStates",
    "Outbox",
    "OutboxEntry",
    "Seats",
    "Staff",
    "TeamsAccounts",
    "TeamsSignIn",
    "TemplateStore",
    "UpcomingMeeting",
    "ZoomAccounts",
    "ZoomDirectory",
]
