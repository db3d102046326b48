"""The core's entities, one module per aggregate. Times are aware UTC; conversion to a reader's
zone happens only when rendering. Every name is re-exported here: `from bot.domain import X`."""

from bot.domain.accounts import (
    AccountState,
    MsAccount,
    MsConnection,
    MsConnectRefused,
    PlatformUser,
    ZoomAccount,
    ZoomConnection,
)
from bot.domain.bookings import (
    Booking,
    BookingCallback,
    BookingDetails,
    BookingStatus,
    NotificationType,
    PaymentState,
)
from bot.domain.companies import (
    CatalogEntry,
    Company,
    CompanyInfo,
    DigestSettings,
    Provider,
    Service,
    SimplyBookCredentials,
    StaffMember,
)
from bot.domain.jobs import Job
from bot.domain.meetings import (
    Meeting,
    MeetingHostRef,
    MeetingRequest,
    MeetingState,
    Notification,
    NotificationState,
    PlatformMeeting,
    Seat,
)
from bot.domain.oversight import Alert, AlertKind, AlertSpec, AuditEntry, ReportRow
from bot.domain.platforms import Actor, ChatPlatform, ChatTarget, MeetingPlatform, PostedMessage

__all__ = [
    "AccountState",
    "Actor",
    "Alert",
    "AlertKind",
    "AlertSpec",
    "AuditEntry",
    "Booking",
    "BookingCallback",
    "BookingDetails",
    "BookingStatus",
    "CatalogEntry",
    "ChatPlatform",
    "ChatTarget",
    "Company",
    "CompanyInfo",
    "DigestSettings",
    "Job",
    "Meeting",
    "MeetingHostRef",
    "MeetingPlatform",
    "MeetingRequest",
    "MeetingState",
    "MsAccount",
    "MsConnectRefused",
    "MsConnection",
    "Notification",
    "NotificationState",
    "NotificationType",
    "PaymentState",
    "PlatformMeeting",
    "PlatformUser",
    "PostedMessage",
    "Provider",
    "ReportRow",
    "Seat",
    "Service",
    "SimplyBookCredentials",
    "StaffMember",
    "ZoomAccount",
    "ZoomConnection",
]
